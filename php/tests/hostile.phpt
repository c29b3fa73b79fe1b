--TEST--
Hostile tokens and documents: alg none, HS256 confusion, embedded keys, crit, private keys in the JWKS, tampering, bad UTF-8, deep nesting, numbers beyond a double
--DESCRIPTION--
Guards "never accepts a forgery, never crashes, always says why" for the main classes of
the hostile corpus (test/vectors/README.md; parity.phpt runs all of it against the Erlang
answers): each refusal has its exact reason. Every token here other than the tampered
ones is validly signed by the fixtures' key, so only the named fault is wrong. The
fixtures' aud is configured, so a tampered token that verified would show as accepted,
not as invalid_audience. A JWK with private members (d, p, q, dp, dq, qi, oth, k) stays
in the set as private_key, and so does its public twin; a token naming either gets that.
A number beyond a double (1e400, 1e999) is refused by the JSON layer wherever it is.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use function JwksVerify\verify;

$ks = jv_fixture_keys();
$key = jv_fixture_rsa();
$all = ['algs' => JV_ALL_ALGS, 'now' => JV_FIXTURE_NOW, 'aud' => 'api://default'];
$claims = '{"sub":"user-1","aud":"api://default","exp":1700003600}';
$signed = fn (string $header, string $payload = '{"sub":"user-1","aud":"api://default","exp":1700003600}') =>
    jv_sign_raw($header, $payload, $key);
$show = function (string $what, string $tok, array $opts) use ($ks) {
    printf("%-34s %s\n", $what, jv_outcome(fn () => verify($tok, $ks, $opts)));
};

echo "-- alg none\n";
foreach (['none', 'None', 'NONE', 'nOnE'] as $alg) {
    $show("alg $alg, no signature", b64url("{\"alg\":\"$alg\"}") . '.' . b64url($claims) . '.', $all);
}
$show('alg none, a signature', b64url('{"alg":"none"}') . '.' . b64url($claims) . '.' . b64url('sig'), $all);

echo "-- HS256 keyed with the RSA public key\n";
$pem = jv_fixture('keys/rsa2048.pub.pem');
foreach (['HS256' => 'sha256', 'HS384' => 'sha384', 'HS512' => 'sha512'] as $alg => $h) {
    $input = b64url("{\"alg\":\"$alg\",\"kid\":\"rsa-2048\"}") . '.' . b64url($claims);
    $tok = "$input." . b64url(hash_hmac($h, $input, $pem, true));
    $show("$alg, all algs allowed", $tok, $all);
}
$show('HS256, default algs', "$input." . b64url(hash_hmac('sha256', $input, $pem, true)), ['now' => JV_FIXTURE_NOW]);

echo "-- keys embedded in the header\n";
$jwk = json_encode(jv_rsa_jwk($key, 'rsa-2048'));
$show('jwk (the real key)', $signed("{\"alg\":\"RS256\",\"kid\":\"rsa-2048\",\"jwk\":$jwk}"), $all);
$show('jku', $signed('{"alg":"RS256","kid":"rsa-2048","jku":"https://evil.example/jwks"}'), $all);
$show('x5u', $signed('{"alg":"RS256","kid":"rsa-2048","x5u":"https://evil.example/cert"}'), $all);
$show('x5c', $signed('{"alg":"RS256","kid":"rsa-2048","x5c":["MIIB"]}'), $all);

echo "-- crit\n";
$show('crit ["exp"]', $signed('{"alg":"RS256","kid":"rsa-2048","crit":["exp"]}'), $all);
$show('crit ["x-unknown"], x-unknown', $signed('{"alg":"RS256","kid":"rsa-2048","crit":["x-unknown"],"x-unknown":1}'), $all);
$show('crit []', $signed('{"alg":"RS256","kid":"rsa-2048","crit":[]}'), $all);
$show('b64 false, crit ["b64"]', $signed('{"alg":"RS256","kid":"rsa-2048","b64":false,"crit":["b64"]}'), $all);

echo "-- header and kid\n";
$show('alg twice', $signed('{"alg":"RS256","kid":"rsa-2048","alg":"RS256"}'), $all);
$show('unknown kid', $signed('{"alg":"RS256","kid":"nobody"}'), $all);
$show('kid ../../etc/passwd', $signed('{"alg":"RS256","kid":"../../etc/passwd"}'), $all);

echo "-- not UTF-8\n";
$show('header: byte FF in kid', $signed("{\"alg\":\"RS256\",\"kid\":\"rsa-2048\xff\"}"), $all);
$show('header: overlong "/" (C0 AF)', $signed("{\"alg\":\"RS256\",\"kid\":\"\xc0\xaf\"}"), $all);
$show('payload: surrogate (ED A0 80)', $signed(JV_RS256_HEADER, "{\"exp\":1700003600,\"sub\":\"\xed\xa0\x80\"}"), $all);
$show('payload: lone \\ud800 escape', $signed(JV_RS256_HEADER, '{"exp":1700003600,"sub":"\ud800"}'), $all);

echo "-- 10 000-deep nesting\n";
$deep = str_repeat('[', 10000) . str_repeat(']', 10000);
$show('header', $signed("{\"alg\":\"RS256\",\"kid\":\"rsa-2048\",\"x\":$deep}"), $all);
$show('payload', $signed(JV_RS256_HEADER, "{\"exp\":1700003600,\"x\":$deep}"), $all);
echo 'JWKS                               ', jv_outcome(fn () => JwksVerify\KeySet::fromJwks("{\"keys\":$deep}")), "\n";

echo "-- numbers beyond int64 and beyond a double\n";
$show('exp 2^63', $signed(JV_RS256_HEADER, '{"exp":9223372036854775808}'), $all);
$show('exp -2^63 - 1', $signed(JV_RS256_HEADER, '{"exp":-9223372036854775809}'), $all);
$show('exp 1e400', $signed(JV_RS256_HEADER, '{"exp":1e400}'), $all);
$show('exp -1e400', $signed(JV_RS256_HEADER, '{"exp":-1e400}'), $all);
$show('another claim 1e400', $signed(JV_RS256_HEADER, '{"exp":1700003600,"x":[1e400]}'), $all);
$show('exp 2^63 - 1, leeway 2^40 - 1', $signed(JV_RS256_HEADER, '{"aud":"api://default","exp":9223372036854775807}'), $all + ['leeway' => (1 << 40) - 1]);
$huge = $signed('{"alg":"RS256","kid":"rsa-2048","x":1e999}');
$show('header member 1e999', $huge, $all);
echo 'the same, verify_jws                 ', jv_outcome(fn () => JwksVerify\verify_jws($huge, $ks, $all)), "\n";
echo 'the same, peek_unverified            ', jv_outcome(fn () => JwksVerify\peek_unverified($huge)), "\n";
echo 'JWKS member 1e400                    ', jv_outcome(fn () => JwksVerify\KeySet::fromJwks('{"keys":[],"x":1e400}')), "\n";
$show('1e-400 reads as 0', $signed(JV_RS256_HEADER, '{"aud":"api://default","exp":1700003600,"x":1e-400}'), $all);

echo "-- private key material in the JWKS\n";
$pub = jv_rsa_jwk($key, 'rsa-2048');
$d = openssl_pkey_get_details($key)['rsa'];
$priv = $pub + ['d' => b64url($d['d']), 'p' => b64url($d['p']), 'q' => b64url($d['q']),
                'dp' => b64url($d['dmp1']), 'dq' => b64url($d['dmq1']), 'qi' => b64url($d['iqmp'])];
$tok = jv_fixture_token('rs256');
$set = function (array $keys): JwksVerify\KeySet {
    return JwksVerify\KeySet::fromJwks(json_encode(['keys' => $keys]));
};
$status = fn (JwksVerify\KeySet $ks) => implode(', ', array_map(fn ($k) => "{$k['kid']} {$k['status']}", $ks->info()));
$private = $set([$priv]);
printf("%-34s %s; token: %s\n", 'the full private JWK', $status($private), jv_outcome(fn () => verify($tok, $private, $all)));
$twins = $set([array_replace($priv, ['kid' => 'leaked']), $pub, jv_rsa_jwk(openssl_pkey_get_private(jv_fixture('keys/rsa4096.pem')), 'other')]);
printf("%-34s %s; token: %s\n", 'its public twin beside it', $status($twins), jv_outcome(fn () => verify($tok, $twins, $all)));
foreach (['d' => 'AQAB', 'p' => 'AQAB', 'q' => 'AQAB', 'dp' => 'AQAB', 'dq' => 'AQAB', 'qi' => 'AQAB', 'oth' => []] as $m => $v) {
    $one = $set([$pub + [$m => $v]]);
    printf("%-34s %s; token: %s\n", "public JWK + $m", $status($one), jv_outcome(fn () => verify($tok, $one, $all)));
}
$oct = $set([['kty' => 'oct', 'kid' => 'hmac', 'k' => b64url(str_repeat("\x42", 32))]]);
printf("%-34s %s\n", 'oct key with k', $status($oct));

echo "-- tampering: every single-character change and every truncation\n";
foreach (['rs256', 'ps256', 'es256', 'es512', 'eddsa'] as $name) {
    $tok = jv_fixture_token($name);
    $accepted = [];
    $reasons = [];
    for ($i = 0; $i < strlen($tok); $i++) {
        $t = $tok;
        $t[$i] = $t[$i] === 'A' ? 'B' : 'A';
        $r = jv_outcome(fn () => verify($t, $ks, $all));
        $r === 'ok' ? $accepted[] = "change at $i" : $reasons[$r] = true;
    }
    for ($n = 0; $n < strlen($tok); $n++) {
        $r = jv_outcome(fn () => verify(substr($tok, 0, $n), $ks, $all));
        $r === 'ok' ? $accepted[] = "truncation to $n" : $reasons[$r] = true;
    }
    ksort($reasons);
    printf("%s: %d tokens, accepted: %s; reasons include bad_signature: %s\n", $name, 2 * strlen($tok),
        $accepted ? implode(', ', $accepted) : 'none', isset($reasons['bad_signature']) ? 'yes' : 'no');
}
?>
--EXPECTF--
-- alg none
alg none, no signature             alg_none
alg None, no signature             alg_none
alg NONE, no signature             alg_none
alg nOnE, no signature             alg_none
alg none, a signature              alg_none
-- HS256 keyed with the RSA public key
HS256, all algs allowed            unsupported_alg
HS384, all algs allowed            unsupported_alg
HS512, all algs allowed            unsupported_alg
HS256, default algs                unsupported_alg
-- keys embedded in the header
jwk (the real key)                 embedded_key
jku                                embedded_key
x5u                                embedded_key
x5c                                embedded_key
-- crit
crit ["exp"]                       unsupported_crit
crit ["x-unknown"], x-unknown      unsupported_crit
crit []                            unsupported_crit
b64 false, crit ["b64"]            unsupported_crit
-- header and kid
alg twice                          bad_header
unknown kid                        unknown_kid
kid ../../etc/passwd               unknown_kid
-- not UTF-8
header: byte FF in kid             bad_header
header: overlong "/" (C0 AF)       bad_header
payload: surrogate (ED A0 80)      bad_payload
payload: lone \ud800 escape        bad_payload
-- 10 000-deep nesting
header                             bad_header
payload                            bad_payload
JWKS                               bad_json
-- numbers beyond int64 and beyond a double
exp 2^63                           invalid_claim(exp)
exp -2^63 - 1                      invalid_claim(exp)
exp 1e400                          bad_payload
exp -1e400                         bad_payload
another claim 1e400                bad_payload
exp 2^63 - 1, leeway 2^40 - 1      ok
header member 1e999                bad_header
the same, verify_jws                 bad_header
the same, peek_unverified            bad_header
JWKS member 1e400                    bad_json
1e-400 reads as 0                  ok
-- private key material in the JWKS
the full private JWK               rsa-2048 private_key; token: private_key
its public twin beside it          leaked private_key, rsa-2048 private_key, other ok; token: private_key
public JWK + d                     rsa-2048 private_key; token: private_key
public JWK + p                     rsa-2048 private_key; token: private_key
public JWK + q                     rsa-2048 private_key; token: private_key
public JWK + dp                    rsa-2048 private_key; token: private_key
public JWK + dq                    rsa-2048 private_key; token: private_key
public JWK + qi                    rsa-2048 private_key; token: private_key
public JWK + oth                   rsa-2048 private_key; token: private_key
oct key with k                     hmac private_key
-- tampering: every single-character change and every truncation
rs256: %d tokens, accepted: none; reasons include bad_signature: yes
ps256: %d tokens, accepted: none; reasons include bad_signature: yes
es256: %d tokens, accepted: none; reasons include bad_signature: yes
es512: %d tokens, accepted: none; reasons include bad_signature: yes
eddsa: %d tokens, accepted: none; reasons include bad_signature: yes
