--TEST--
peek_unverified(): a token's header and claims decoded, and nothing verified
--DESCRIPTION--
Guards JwksVerify\peek_unverified() as jwks_verify:peek_unverified/2: it hands back what a
token says whatever its signature, alg, key or claims (so it decides nothing: a forged, an
unsigned and an expired token all come back), with verify()'s strict parsing (size limit,
three segments, strict base64url for every segment, the JSON layer) and verify()'s number
conversion (exact integers, an integer beyond PHP's int range refused, members sorted by
name). Its only option is
max_token_bytes; any other, verify()'s included, is a ValueError. parity.phpt runs every
token of the hostile corpus and the fixtures through it against the Erlang answers.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use function JwksVerify\peek_unverified;

$key = jv_fixture_rsa();
$rs = jv_fixture_token('rs256');
$show = function (string $what, string $tok, array $opts = []) {
    try {
        $r = peek_unverified($tok, $opts);
        printf("%-28s %s %s\n", $what, json_encode($r['header']), json_encode($r['claims']));
    } catch (Throwable $e) {
        printf("%-28s %s\n", $what, $e instanceof JwksVerify\VerificationException
            ? $e->getReason() : get_class($e) . ': ' . $e->getMessage());
    }
};

$r = peek_unverified($rs);
echo 'keys: ', implode(', ', array_keys($r)), '; same claims as verify(): ',
    var_export($r['claims'] === JwksVerify\verify($rs, jv_fixture_keys(),
        ['now' => JV_FIXTURE_NOW, 'aud' => 'api://default']), true), "\n";

echo "-- decided by nothing but the bytes\n";
[$h, $p, $sig] = explode('.', $rs);
$show('signature of another token', "$h.$p." . explode('.', jv_fixture_token('rs384'))[2]);
$show('alg none, no signature', b64url('{"alg":"none"}') . '.' . b64url('{"sub":"admin"}') . '.');
$show('HS256 with a made-up MAC', b64url('{"alg":"HS256"}') . '.' . b64url('{"sub":"admin"}') . '.' . b64url('mac'));
$show('embedded jwk', jv_sign_raw('{"alg":"RS256","jwk":{"kty":"RSA"}}', '{"exp":1}', $key));
$show('expired long ago, no aud', jv_sign_raw(JV_RS256_HEADER, '{"exp":1}', $key));
$show('empty claims', jv_sign_raw(JV_RS256_HEADER, '{}', $key));

echo "-- the parsing verify() does\n";
$show('two segments', "$h.$p");
$show('four segments', "$h.$p.$sig.x");
$show('padded signature', "$h.$p.$sig=");
$show('signature not base64url', "$h.$p.a+b/");
$show('header not JSON', b64url('alg: RS256') . ".$p.$sig");
$show('header an array', b64url('["RS256"]') . ".$p.$sig");
$show('duplicate claim', "$h." . b64url('{"sub":"a","sub":"b"}') . ".$sig");
$show('claims a string', "$h." . b64url('"sub"') . ".$sig");
$show('claims not UTF-8', "$h." . b64url("{\"sub\":\"\xff\"}") . ".$sig");
$show('header member 1e999', b64url('{"alg":"RS256","x":1e999}') . ".$p.$sig");
$show('claim 1e400', "$h." . b64url('{"x":1e400}') . ".$sig");
$show('claim 2^63 (PHP has no int)', "$h." . b64url('{"x":9223372036854775808}') . ".$sig");
$show('header 2^64', b64url('{"alg":"RS256","x":18446744073709551616}') . ".$p.$sig");
$show('claims exact', "$h." . b64url('{"max":9223372036854775807,"f":1.5,"123":[true,null]}') . ".$sig");
$show('over 32 KiB', "$h." . b64url('{"x":"' . str_repeat('a', 32768) . '"}') . ".$sig");

echo "-- max_token_bytes\n";
$show('max_token_bytes = length', $rs, ['max_token_bytes' => strlen($rs)]);
$show('max_token_bytes = length - 1', $rs, ['max_token_bytes' => strlen($rs) - 1]);
$show('max_token_bytes 0', $rs, ['max_token_bytes' => 0]);
$show('max_token_bytes "100"', $rs, ['max_token_bytes' => '100']);
$show('aud (verify only)', $rs, ['aud' => 'api://default']);
$show('max_token_byte', $rs, ['max_token_byte' => 100]);
$show('a list', $rs, [100]);
?>
--EXPECT--
keys: header, claims; same claims as verify(): true
-- decided by nothing but the bytes
signature of another token   {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} {"aud":"api:\/\/default","exp":1700003600,"iat":1700000000,"iss":"https:\/\/issuer.example","jti":"rs256","nbf":1700000000,"sub":"user-1"}
alg none, no signature       {"alg":"none"} {"sub":"admin"}
HS256 with a made-up MAC     {"alg":"HS256"} {"sub":"admin"}
embedded jwk                 {"alg":"RS256","jwk":{"kty":"RSA"}} {"exp":1}
expired long ago, no aud     {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} {"exp":1}
empty claims                 {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} []
-- the parsing verify() does
two segments                 malformed_token
four segments                malformed_token
padded signature             bad_base64
signature not base64url      bad_base64
header not JSON              bad_header
header an array              bad_header
duplicate claim              bad_payload
claims a string              bad_payload
claims not UTF-8             bad_payload
header member 1e999          bad_header
claim 1e400                  bad_payload
claim 2^63 (PHP has no int)  bad_payload
header 2^64                  bad_header
claims exact                 {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} {"123":[true,null],"f":1.5,"max":9223372036854775807}
over 32 KiB                  token_too_large
-- max_token_bytes
max_token_bytes = length     {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} {"aud":"api:\/\/default","exp":1700003600,"iat":1700000000,"iss":"https:\/\/issuer.example","jti":"rs256","nbf":1700000000,"sub":"user-1"}
max_token_bytes = length - 1 token_too_large
max_token_bytes 0            ValueError: JwksVerify\peek_unverified(): Argument #2 ($options) option "max_token_bytes" must be between 1 and 1073741823
max_token_bytes "100"        TypeError: JwksVerify\peek_unverified(): Argument #2 ($options) option "max_token_bytes" must be of type int, string given
aud (verify only)            ValueError: JwksVerify\peek_unverified(): Argument #2 ($options) has an unknown option "aud"; known options: max_token_bytes
max_token_byte               ValueError: JwksVerify\peek_unverified(): Argument #2 ($options) has an unknown option "max_token_byte" (did you mean "max_token_bytes"?); known options: max_token_bytes
a list                       ValueError: JwksVerify\peek_unverified(): Argument #2 ($options) must be an array with string keys; known options: max_token_bytes
