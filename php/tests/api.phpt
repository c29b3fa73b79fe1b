--TEST--
The API's shape: namespaced functions and constant, a final immutable KeySet, the exception hierarchy, a message per reason
--DESCRIPTION--
Guards what PHP users rely on: signatures as the stub declares them, KeySet made only by
fromJwks (no new, clone, serialize or dynamic properties), VerificationException catchable
as \UnexpectedValueException (as php-jwt's exceptions are), the phpinfo() section, the
ANY_AUDIENCE constant (a string no token can carry), and reasons(): every reason the core
gives has its own readable message (a reason the binding's table lacks reads "refused").
parity.phpt checks reasons() against jwks_verify:reasons().
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use JwksVerify\KeySet;
use JwksVerify\VerificationException;

foreach (['JwksVerify\verify', 'JwksVerify\verify_jws', 'JwksVerify\peek_unverified', 'JwksVerify\reasons'] as $f) {
    $r = new ReflectionFunction($f);
    echo $f, '(', implode(', ', array_map(fn ($p) => $p->getType() . ' $' . $p->getName()
        . ($p->isOptional() ? ' = ' . var_export($p->getDefaultValue(), true) : ''),
        $r->getParameters())), '): ', $r->getReturnType(), "\n";
}
$k = new ReflectionClass(KeySet::class);
echo 'KeySet final: ', var_export($k->isFinal(), true), ', constructor private: ',
    var_export($k->getConstructor()->isPrivate(), true), "\n";
$e = new ReflectionClass(VerificationException::class);
echo 'VerificationException parents: ', implode(' < ', class_parents(VerificationException::class)), "\n";

$ks = jv_fixture_keys();
echo jv_outcome(fn () => new KeySet()), "\n";
echo jv_outcome(fn () => clone $ks), "\n";
echo jv_outcome(fn () => serialize($ks)), "\n";
echo jv_outcome(fn () => $ks->foo = 1), "\n";
echo jv_outcome(fn () => KeySet::fromJwks([])), "\n";
echo jv_outcome(fn () => JwksVerify\verify('x', new stdClass())), "\n";
echo jv_outcome(fn () => JwksVerify\verify(['x'], $ks)), "\n";

try {
    JwksVerify\verify('a.b.c', $ks);
} catch (UnexpectedValueException $e) {
    echo get_class($e), ' caught as UnexpectedValueException: ', $e->getMessage(), "\n";
}

echo 'ANY_AUDIENCE: ', defined('JwksVerify\ANY_AUDIENCE') ? 'defined' : 'MISSING', ', a string starting with NUL: ',
    var_export(is_string(JwksVerify\ANY_AUDIENCE) && JwksVerify\ANY_AUDIENCE[0] === "\0", true), "\n";

$reasons = JwksVerify\reasons();
$unread = array_keys(array_filter($reasons, fn ($m) => $m === 'refused' || $m === ''));
echo count($reasons), ' reasons, from token_too_large to internal_error: ',
    var_export(array_key_first($reasons) === 'token_too_large' && array_key_last($reasons) === 'internal_error', true), "\n";
echo 'without their own message: ', $unread ? implode(', ', $unread) : 'none', "\n";
echo 'messages all different: ', var_export(count(array_unique($reasons)) === count($reasons), true), "\n";
echo 'private_key: ', $reasons['private_key'] ?? 'MISSING', "\n";

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
foreach (['jwks_verify support', 'OpenSSL', 'cJSON', 'Cached key sets', 'jwks_verify.keyset_cache'] as $row) {
    echo $row, ': ', preg_match('/^' . preg_quote($row, '/') . ' => /m', $info) ? 'shown' : 'MISSING', "\n";
}
?>
--EXPECT--
JwksVerify\verify(string $jwt, JwksVerify\KeySet $keys, array $options = array (
)): array
JwksVerify\verify_jws(string $jws, JwksVerify\KeySet $keys, array $options = array (
)): array
JwksVerify\peek_unverified(string $jwt, array $options = array (
)): array
JwksVerify\reasons(): array
KeySet final: true, constructor private: true
VerificationException parents: UnexpectedValueException < RuntimeException < Exception
Error: Call to private JwksVerify\KeySet::__construct() from global scope
Error: Trying to clone an uncloneable object of class JwksVerify\KeySet
Exception: Serialization of 'JwksVerify\KeySet' is not allowed
Error: Cannot create dynamic property JwksVerify\KeySet::$foo
TypeError: JwksVerify\KeySet::fromJwks(): Argument #1 ($json) must be of type string, array given
TypeError: JwksVerify\verify(): Argument #2 ($keys) must be of type JwksVerify\KeySet, stdClass given
TypeError: JwksVerify\verify(): Argument #1 ($jwt) must be of type string, array given
JwksVerify\VerificationException caught as UnexpectedValueException: bad_base64: a token segment is not unpadded base64url
ANY_AUDIENCE: defined, a string starting with NUL: true
39 reasons, from token_too_large to internal_error: true
without their own message: none
messages all different: true
private_key: the JWKS publishes this key's private part (d, p, q, dp, dq, qi, oth or k)
jwks_verify support: shown
OpenSSL: shown
cJSON: shown
Cached key sets: shown
jwks_verify.keyset_cache: shown
