--TEST--
verify() options: the Erlang API's options and defaults, and caller mistakes as TypeError/ValueError
--DESCRIPTION--
Guards the semantics of jwks_verify:options/1 (algs, iss, aud, leeway, now, required, typ,
max_token_bytes), the secure defaults (algs ["RS256"], required ["exp"], leeway 0, now the
clock), and that a bad option is the caller's mistake (TypeError, ValueError), never a
VerificationException.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use function JwksVerify\verify;

$ks = jv_fixture_keys();
$rs = jv_fixture_token('rs256');
$es = jv_fixture_token('es256');
$now = ['now' => JV_FIXTURE_NOW];
$key = jv_fixture_rsa();
$no_exp = jv_sign_raw(JV_RS256_HEADER, '{"sub":"user-1"}', $key);
$exp_only = jv_sign_raw(JV_RS256_HEADER, '{"exp":1700003600}', $key);

$cases = [
    'defaults: RS256 only'         => [$rs, $now],
    'defaults: ES256 refused'      => [$es, $now],
    'defaults: exp required'       => [$no_exp, $now],
    'defaults: now is the clock'   => [$rs, []],
    'now null is the clock'        => [$rs, ['now' => null]],
    'algs ES256 only, RS256 token' => [$rs, $now + ['algs' => ['ES256']]],
    'algs RS256+ES256, ES256'      => [$es, $now + ['algs' => ['RS256', 'ES256']]],
    'iss accepted'                 => [$rs, $now + ['iss' => 'https://issuer.example']],
    'iss one of a list'            => [$rs, $now + ['iss' => ['a', 'https://issuer.example']]],
    'iss refused'                  => [$rs, $now + ['iss' => 'https://other.example']],
    'iss missing'                  => [$exp_only, $now + ['iss' => 'https://issuer.example']],
    'iss empty list: unchecked'    => [$rs, $now + ['iss' => []]],
    'aud accepted'                 => [$rs, $now + ['aud' => ['x', 'api://default']]],
    'aud refused'                  => [$rs, $now + ['aud' => 'api://other']],
    'at exp'                       => [$rs, ['now' => 1700003600]],
    'at exp, leeway 1'             => [$rs, ['now' => 1700003600, 'leeway' => 1]],
    'before nbf'                   => [$rs, ['now' => 1699999999]],
    'before nbf, leeway 1'         => [$rs, ['now' => 1699999999, 'leeway' => 1]],
    'required [] accepts no exp'   => [$no_exp, $now + ['required' => []]],
    'required names the claim'     => [$rs, $now + ['required' => ['exp', 'nonce']]],
    'typ JWT'                      => [$rs, $now + ['typ' => 'JWT']],
    'typ at+jwt'                   => [$rs, $now + ['typ' => 'at+jwt']],
    'typ null: unchecked'          => [$rs, $now + ['typ' => null]],
    'max_token_bytes 100'          => [$rs, $now + ['max_token_bytes' => 100]],
    'max_token_bytes = length'     => [$rs, $now + ['max_token_bytes' => strlen($rs)]],
    'options by reference'         => [$rs, (function () { $n = JV_FIXTURE_NOW; $o = ['now' => &$n]; return $o; })()],
    // Caller mistakes.
    'unknown option'               => [$rs, ['nbf_leeway' => 5]],
    'list instead of map'          => [$rs, [JV_FIXTURE_NOW]],
    'algs empty'                   => [$rs, ['algs' => []]],
    'algs HS256'                   => [$rs, ['algs' => ['RS256', 'HS256']]],
    'algs a string'                => [$rs, ['algs' => 'RS256']],
    'algs holds an int'            => [$rs, ['algs' => [256]]],
    'iss an int'                   => [$rs, ['iss' => 1]],
    'aud 65 entries'               => [$rs, ['aud' => array_fill(0, 65, 'a')]],
    'leeway negative'              => [$rs, ['leeway' => -1]],
    'leeway 2^40'                  => [$rs, ['leeway' => 1 << 40]],
    'leeway a string'              => [$rs, ['leeway' => '5']],
    'leeway a float'               => [$rs, ['leeway' => 5.0]],
    'now 2^62'                     => [$rs, ['now' => 1 << 62]],
    'now a float'                  => [$rs, ['now' => 1.7e9]],
    'required a string'            => [$rs, ['required' => 'exp']],
    'typ an array'                 => [$rs, ['typ' => ['JWT']]],
    'max_token_bytes 0'            => [$rs, ['max_token_bytes' => 0]],
    'max_token_bytes 2^30'         => [$rs, ['max_token_bytes' => 1 << 30]],
];
foreach ($cases as $what => [$tok, $opts]) {
    printf("%-30s %s\n", $what, jv_outcome(fn () => verify($tok, $ks, $opts)));
}
?>
--EXPECT--
defaults: RS256 only           ok
defaults: ES256 refused        alg_not_allowed
defaults: exp required         missing_claim(exp)
defaults: now is the clock     expired
now null is the clock          expired
algs ES256 only, RS256 token   alg_not_allowed
algs RS256+ES256, ES256        ok
iss accepted                   ok
iss one of a list              ok
iss refused                    invalid_issuer
iss missing                    missing_claim(iss)
iss empty list: unchecked      ok
aud accepted                   ok
aud refused                    invalid_audience
at exp                         expired
at exp, leeway 1               ok
before nbf                     not_yet_valid
before nbf, leeway 1           ok
required [] accepts no exp     ok
required names the claim       missing_claim(nonce)
typ JWT                        ok
typ at+jwt                     invalid_typ
typ null: unchecked            ok
max_token_bytes 100            token_too_large
max_token_bytes = length       ok
options by reference           ok
unknown option                 ValueError: JwksVerify\verify(): Argument #3 ($options) has an unknown option "nbf_leeway" (known: algs, iss, aud, leeway, now, required, typ, max_token_bytes)
list instead of map            ValueError: JwksVerify\verify(): Argument #3 ($options) must be an array with string keys (algs, iss, aud, leeway, now, required, typ, max_token_bytes)
algs empty                     ValueError: JwksVerify\verify(): Argument #3 ($options) option "algs" must not be empty
algs HS256                     ValueError: JwksVerify\verify(): Argument #3 ($options) option "algs" holds an unsupported algorithm "HS256" (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)
algs a string                  TypeError: JwksVerify\verify(): Argument #3 ($options) option "algs" must be of type array, string given
algs holds an int              TypeError: JwksVerify\verify(): Argument #3 ($options) option "algs" must hold only strings, int found
iss an int                     TypeError: JwksVerify\verify(): Argument #3 ($options) option "iss" must be of type string|array, int given
aud 65 entries                 ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" must have at most 64 entries
leeway negative                ValueError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be between 0 and 1099511627775
leeway 2^40                    ValueError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be between 0 and 1099511627775
leeway a string                TypeError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be of type int, string given
leeway a float                 TypeError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be of type int, float given
now 2^62                       ValueError: JwksVerify\verify(): Argument #3 ($options) option "now" must be between -4611686018427387903 and 4611686018427387903
now a float                    TypeError: JwksVerify\verify(): Argument #3 ($options) option "now" must be of type int, float given
required a string              TypeError: JwksVerify\verify(): Argument #3 ($options) option "required" must be of type array, string given
typ an array                   TypeError: JwksVerify\verify(): Argument #3 ($options) option "typ" must be of type ?string, array given
max_token_bytes 0              ValueError: JwksVerify\verify(): Argument #3 ($options) option "max_token_bytes" must be between 1 and 1073741823
max_token_bytes 2^30           ValueError: JwksVerify\verify(): Argument #3 ($options) option "max_token_bytes" must be between 1 and 1073741823
