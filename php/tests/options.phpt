--TEST--
verify() options: the Erlang API's options and defaults, and caller mistakes as TypeError/ValueError
--DESCRIPTION--
Guards the semantics of jwks_verify:options/1 (algs, iss, aud, leeway, now, required, typ,
max_token_bytes), the secure defaults (algs ["RS256"], required ["exp"], leeway 0, now the
clock, and a token carrying aud refused unless aud is configured: RFC 7519 §4.1.3), the
explicit opt-out JwksVerify\ANY_AUDIENCE (never the string "any"), and that a bad option is
the caller's mistake (TypeError, ValueError), never a VerificationException. Issue 14: an
empty iss or aud ("", [], [""]), an empty string in required or typ, and more than 64
values are refused when the options are read, never taken as "no check" or truncated; an
unknown option names the closest known one, as jwks_verify_badarg does.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use function JwksVerify\verify;

$ks = jv_fixture_keys();
$rs = jv_fixture_token('rs256');
$es = jv_fixture_token('es256');
// The fixtures' tokens carry aud "api://default": every case not about aud names it.
$aud = ['aud' => 'api://default'];
$now = ['now' => JV_FIXTURE_NOW] + $aud;
$key = jv_fixture_rsa();
$no_exp = jv_sign_raw(JV_RS256_HEADER, '{"sub":"user-1"}', $key);
$exp_only = jv_sign_raw(JV_RS256_HEADER, '{"exp":1700003600}', $key);
$values = fn (int $n) => array_map(fn ($i) => "v$i", range(1, $n));

$cases = [
    'defaults: RS256 only'         => [$rs, $now],
    'defaults: ES256 refused'      => [$es, $now],
    'defaults: exp required'       => [$no_exp, $now],
    'defaults: now is the clock'   => [$rs, $aud],
    'now null is the clock'        => [$rs, ['now' => null] + $aud],
    'algs ES256 only, RS256 token' => [$rs, $now + ['algs' => ['ES256']]],
    'algs RS256+ES256, ES256'      => [$es, $now + ['algs' => ['RS256', 'ES256']]],
    'iss accepted'                 => [$rs, $now + ['iss' => 'https://issuer.example']],
    'iss one of a list'            => [$rs, $now + ['iss' => ['a', 'https://issuer.example']]],
    'iss refused'                  => [$rs, $now + ['iss' => 'https://other.example']],
    'iss missing'                  => [$exp_only, $now + ['iss' => 'https://issuer.example']],
    'iss 64 values, ours last'     => [$rs, $now + ['iss' => [...$values(63), 'https://issuer.example']]],
    'aud unset, token has aud'     => [$rs, ['now' => JV_FIXTURE_NOW]],
    'aud unset, token without'     => [$exp_only, ['now' => JV_FIXTURE_NOW]],
    'aud accepted'                 => [$rs, ['now' => JV_FIXTURE_NOW, 'aud' => ['x', 'api://default']]],
    'aud refused'                  => [$rs, ['now' => JV_FIXTURE_NOW, 'aud' => 'api://other']],
    'aud set, token without'       => [$exp_only, $now],
    'aud 64 values, ours last'     => [$rs, ['now' => JV_FIXTURE_NOW, 'aud' => [...$values(63), 'api://default']]],
    'aud ANY_AUDIENCE'             => [$rs, ['now' => JV_FIXTURE_NOW, 'aud' => JwksVerify\ANY_AUDIENCE]],
    'aud ANY_AUDIENCE, without'    => [$exp_only, ['now' => JV_FIXTURE_NOW, 'aud' => JwksVerify\ANY_AUDIENCE]],
    'aud "any" is an audience'     => [$rs, ['now' => JV_FIXTURE_NOW, 'aud' => 'any']],
    'at exp'                       => [$rs, ['now' => 1700003600] + $aud],
    'at exp, leeway 1'             => [$rs, ['now' => 1700003600, 'leeway' => 1] + $aud],
    'before nbf'                   => [$rs, ['now' => 1699999999] + $aud],
    'before nbf, leeway 1'         => [$rs, ['now' => 1699999999, 'leeway' => 1] + $aud],
    'required [] accepts no exp'   => [$no_exp, ['now' => JV_FIXTURE_NOW, 'required' => []]],
    'required names the claim'     => [$rs, $now + ['required' => ['exp', 'nonce']]],
    'required 64 values'           => [$rs, $now + ['required' => [...$values(63), 'exp']]],
    'typ JWT'                      => [$rs, $now + ['typ' => 'JWT']],
    'typ at+jwt'                   => [$rs, $now + ['typ' => 'at+jwt']],
    'typ null: unchecked'          => [$rs, $now + ['typ' => null]],
    'max_token_bytes 100'          => [$rs, $now + ['max_token_bytes' => 100]],
    'max_token_bytes = length'     => [$rs, $now + ['max_token_bytes' => strlen($rs)]],
    'options by reference'         => [$rs, (function () { $n = JV_FIXTURE_NOW; $o = ['now' => &$n, 'aud' => 'api://default']; return $o; })()],
    // Caller mistakes.
    'unknown option'               => [$rs, ['nbf_leeway' => 5]],
    'unknown option, a slip'       => [$rs, ['leway' => 5]],
    'unknown option, 2 edits'      => [$rs, ['audd' => 'x', 'now' => 1]],
    'unknown option, aud_any'      => [$rs, ['aud_any' => true]],
    'list instead of map'          => [$rs, [JV_FIXTURE_NOW]],
    'algs empty'                   => [$rs, ['algs' => []]],
    'algs HS256'                   => [$rs, ['algs' => ['RS256', 'HS256']]],
    'algs a string'                => [$rs, ['algs' => 'RS256']],
    'algs holds an int'            => [$rs, ['algs' => [256]]],
    'iss an int'                   => [$rs, ['iss' => 1]],
    'iss ""'                       => [$rs, ['iss' => '']],
    'iss []'                       => [$rs, ['iss' => []]],
    'iss [""]'                     => [$rs, ['iss' => ['']]],
    'iss ["a", ""]'                => [$rs, ['iss' => ['a', '']]],
    'iss 65 values'                => [$rs, ['iss' => $values(65)]],
    'iss ANY_AUDIENCE'             => [$rs, ['iss' => JwksVerify\ANY_AUDIENCE]],
    'aud ""'                       => [$rs, ['aud' => '']],
    'aud []'                       => [$rs, ['aud' => []]],
    'aud [""]'                     => [$rs, ['aud' => ['']]],
    'aud 65 values'                => [$rs, ['aud' => $values(65)]],
    'aud [ANY_AUDIENCE]'           => [$rs, ['aud' => [JwksVerify\ANY_AUDIENCE]]],
    'aud true'                     => [$rs, ['aud' => true]],
    'aud null'                     => [$rs, ['aud' => null]],
    'required [""]'                => [$rs, ['required' => ['exp', '']]],
    'required 65 values'           => [$rs, ['required' => $values(65)]],
    'leeway negative'              => [$rs, ['leeway' => -1]],
    'leeway 2^40'                  => [$rs, ['leeway' => 1 << 40]],
    'leeway a string'              => [$rs, ['leeway' => '5']],
    'leeway a float'               => [$rs, ['leeway' => 5.0]],
    'now 2^62'                     => [$rs, ['now' => 1 << 62]],
    'now a float'                  => [$rs, ['now' => 1.7e9]],
    'required a string'            => [$rs, ['required' => 'exp']],
    'typ ""'                       => [$rs, ['typ' => '']],
    'typ an array'                 => [$rs, ['typ' => ['JWT']]],
    'max_token_bytes 0'            => [$rs, ['max_token_bytes' => 0]],
    'max_token_bytes 2^30'         => [$rs, ['max_token_bytes' => 1 << 30]],
];
foreach ($cases as $what => [$tok, $opts]) {
    printf("%-30s %s\n", $what, jv_outcome(fn () => verify($tok, $ks, $opts)));
}
echo 'ANY_AUDIENCE: ', json_encode(JwksVerify\ANY_AUDIENCE), "\n";
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
iss 64 values, ours last       ok
aud unset, token has aud       invalid_audience
aud unset, token without       ok
aud accepted                   ok
aud refused                    invalid_audience
aud set, token without         missing_claim(aud)
aud 64 values, ours last       ok
aud ANY_AUDIENCE               ok
aud ANY_AUDIENCE, without      ok
aud "any" is an audience       invalid_audience
at exp                         expired
at exp, leeway 1               ok
before nbf                     not_yet_valid
before nbf, leeway 1           ok
required [] accepts no exp     ok
required names the claim       missing_claim(nonce)
required 64 values             missing_claim(v1)
typ JWT                        ok
typ at+jwt                     invalid_typ
typ null: unchecked            ok
max_token_bytes 100            token_too_large
max_token_bytes = length       ok
options by reference           ok
unknown option                 ValueError: JwksVerify\verify(): Argument #3 ($options) has an unknown option "nbf_leeway"; known options: algs, iss, aud, leeway, now, required, typ, max_token_bytes
unknown option, a slip         ValueError: JwksVerify\verify(): Argument #3 ($options) has an unknown option "leway" (did you mean "leeway"?); known options: algs, iss, aud, leeway, now, required, typ, max_token_bytes
unknown option, 2 edits        ValueError: JwksVerify\verify(): Argument #3 ($options) has an unknown option "audd" (did you mean "aud"?); known options: algs, iss, aud, leeway, now, required, typ, max_token_bytes
unknown option, aud_any        ValueError: JwksVerify\verify(): Argument #3 ($options) has an unknown option "aud_any"; known options: algs, iss, aud, leeway, now, required, typ, max_token_bytes
list instead of map            ValueError: JwksVerify\verify(): Argument #3 ($options) must be an array with string keys; known options: algs, iss, aud, leeway, now, required, typ, max_token_bytes
algs empty                     ValueError: JwksVerify\verify(): Argument #3 ($options) option "algs" must not be empty: name the algorithms your issuer signs with
algs HS256                     ValueError: JwksVerify\verify(): Argument #3 ($options) option "algs" holds an unsupported algorithm "HS256" (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)
algs a string                  TypeError: JwksVerify\verify(): Argument #3 ($options) option "algs" must be of type array, string given
algs holds an int              TypeError: JwksVerify\verify(): Argument #3 ($options) option "algs" must hold only strings, int found
iss an int                     TypeError: JwksVerify\verify(): Argument #3 ($options) option "iss" must be of type string|array, int given
iss ""                         ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" must not be empty: leave the option out not to check iss
iss []                         ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" must not be empty: leave the option out not to check iss
iss [""]                       ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" must not hold an empty string
iss ["a", ""]                  ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" must not hold an empty string
iss 65 values                  ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" must have at most 64 entries
iss ANY_AUDIENCE               ValueError: JwksVerify\verify(): Argument #3 ($options) option "iss" does not take JwksVerify\ANY_AUDIENCE (an aud value)
aud ""                         ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" must not be empty: name your audience, or pass JwksVerify\ANY_AUDIENCE not to check aud (unsafe)
aud []                         ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" must not be empty: name your audience, or pass JwksVerify\ANY_AUDIENCE not to check aud (unsafe)
aud [""]                       ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" must not hold an empty string
aud 65 values                  ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" must have at most 64 entries
aud [ANY_AUDIENCE]             ValueError: JwksVerify\verify(): Argument #3 ($options) option "aud" takes JwksVerify\ANY_AUDIENCE alone, not in a list
aud true                       TypeError: JwksVerify\verify(): Argument #3 ($options) option "aud" must be of type string|array, bool given
aud null                       TypeError: JwksVerify\verify(): Argument #3 ($options) option "aud" must be of type string|array, null given
required [""]                  ValueError: JwksVerify\verify(): Argument #3 ($options) option "required" must not hold an empty string
required 65 values             ValueError: JwksVerify\verify(): Argument #3 ($options) option "required" must have at most 64 entries
leeway negative                ValueError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be between 0 and 1099511627775
leeway 2^40                    ValueError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be between 0 and 1099511627775
leeway a string                TypeError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be of type int, string given
leeway a float                 TypeError: JwksVerify\verify(): Argument #3 ($options) option "leeway" must be of type int, float given
now 2^62                       ValueError: JwksVerify\verify(): Argument #3 ($options) option "now" must be between -4611686018427387903 and 4611686018427387903
now a float                    TypeError: JwksVerify\verify(): Argument #3 ($options) option "now" must be of type int, float given
required a string              TypeError: JwksVerify\verify(): Argument #3 ($options) option "required" must be of type array, string given
typ ""                         ValueError: JwksVerify\verify(): Argument #3 ($options) option "typ" must not be empty: null checks nothing
typ an array                   TypeError: JwksVerify\verify(): Argument #3 ($options) option "typ" must be of type ?string, array given
max_token_bytes 0              ValueError: JwksVerify\verify(): Argument #3 ($options) option "max_token_bytes" must be between 1 and 1073741823
max_token_bytes 2^30           ValueError: JwksVerify\verify(): Argument #3 ($options) option "max_token_bytes" must be between 1 and 1073741823
ANY_AUDIENCE: "\u0000JwksVerify\\ANY_AUDIENCE"
