--TEST--
Every algorithm, with tokens signed by the openssl CLI (test/fixtures)
--DESCRIPTION--
Guards verification of RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA against
tokens that an implementation independent of the core signed (test/fixtures/gen.sh),
the RS256-only default of algs, and the key set's refusal of the 1024-bit RSA key. The
tokens carry aud "api://default", so every verification names that audience.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

$ks = jv_fixture_keys();
foreach ($ks->info() as $k) {
    printf("key %-9s %-3s %-5s %s\n", $k['kid'], $k['kty'], $k['alg'] ?? '-', $k['status']);
}

$want = ['iss' => 'https://issuer.example', 'sub' => 'user-1', 'aud' => 'api://default',
         'iat' => 1700000000, 'nbf' => 1700000000, 'exp' => 1700003600];
foreach (glob(jv_root() . '/test/fixtures/tokens/*.jwt') as $file) {
    $name = basename($file, '.jwt');
    $tok = jv_fixture_token($name);
    $all = jv_outcome(function () use ($tok, $ks, $want, $name) {
        $claims = JwksVerify\verify($tok, $ks, ['algs' => JV_ALL_ALGS, 'now' => JV_FIXTURE_NOW,
                                                'aud' => 'api://default']);
        if (jv_ksort_deep($claims) !== jv_ksort_deep($want + ['jti' => $name])) {
            throw new RuntimeException('claims differ: ' . json_encode($claims));
        }
    });
    $default = jv_outcome(fn () => JwksVerify\verify($tok, $ks, ['now' => JV_FIXTURE_NOW,
                                                                 'aud' => 'api://default']));
    printf("%-10s all algs: %-17s default algs: %s\n", $name, $all, $default);
}
?>
--EXPECT--
key rsa-2048  RSA -     ok
key rsa-4096  RSA RS256 ok
key rsa-1024  RSA -     rsa_key_too_small
key ec-p256   EC  ES256 ok
key ec-p384   EC  ES384 ok
key ec-p521   EC  ES512 ok
key ed25519   OKP EdDSA ok
eddsa      all algs: ok                default algs: alg_not_allowed
es256      all algs: ok                default algs: alg_not_allowed
es384      all algs: ok                default algs: alg_not_allowed
es512      all algs: ok                default algs: alg_not_allowed
ps256      all algs: ok                default algs: alg_not_allowed
ps384      all algs: ok                default algs: alg_not_allowed
ps512      all algs: ok                default algs: alg_not_allowed
rs256      all algs: ok                default algs: ok
rs256_1024 all algs: rsa_key_too_small default algs: rsa_key_too_small
rs256_4096 all algs: ok                default algs: ok
rs384      all algs: ok                default algs: alg_not_allowed
rs512      all algs: ok                default algs: alg_not_allowed
