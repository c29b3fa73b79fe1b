--TEST--
The RFCs' own examples (RFC 7515 A.2-A.4, RFC 8037 A.4) from ../shared/vectors
--DESCRIPTION--
Guards the same answers as test/rfc_examples_test.exs: each example's `expect` from
verify() at its `now` with its `algs`, and its `signature` from verify_jws(), which
returns the header and the payload bytes without reading the payload as claims.
The file stays beside the checkout (or under JWKS_VERIFY_VECTORS); skipped where absent.
--EXTENSIONS--
jwks_verify
--SKIPIF--
<?php
$dir = getenv('JWKS_VERIFY_VECTORS') ?: dirname(__DIR__, 2) . '/../shared/vectors';
if (!is_file("$dir/rfc_examples.json")) echo "skip $dir/rfc_examples.json not found (set JWKS_VERIFY_VECTORS)";
?>
--FILE--
<?php
require __DIR__ . '/inc/util.php';

$dir = getenv('JWKS_VERIFY_VECTORS') ?: jv_root() . '/../shared/vectors';
$tests = json_decode(file_get_contents("$dir/rfc_examples.json"), true, 512, JSON_THROW_ON_ERROR)['tests'];
echo count($tests), " examples\n";
foreach ($tests as $ex) {
    $ks = JwksVerify\KeySet::fromJwks(json_encode($ex['jwks']));
    $opts = ['algs' => $ex['algs'], 'now' => $ex['now']];
    try {
        $claims = JwksVerify\verify($ex['token'], $ks, $opts);
        $jwt = jv_ksort_deep($claims) === jv_ksort_deep($ex['claims'])
            ? 'ok, claims as given' : 'ok, OTHER CLAIMS';
    } catch (JwksVerify\VerificationException $e) {
        $jwt = $e->getReason();
    }
    [$h, $p] = explode('.', $ex['token']);
    try {
        $r = JwksVerify\verify_jws($ex['token'], $ks, $opts);
        $ok = jv_ksort_deep($r['header']) === jv_ksort_deep(json_decode(b64url_decode($h), true))
            && $r['payload'] === b64url_decode($p);
        $jws = $ok ? 'valid, header and payload as sent' : 'valid, OTHER HEADER OR PAYLOAD';
    } catch (JwksVerify\VerificationException $e) {
        $jws = 'invalid: ' . $e->getReason();
    }
    printf("%-28s expect %-5s verify: %-22s signature %-7s verify_jws: %s\n",
        $ex['id'], $ex['expect'], $jwt, $ex['signature'], $jws);
}
?>
--EXPECT--
7 examples
rfc7515-A.2-RS256            expect ok    verify: ok, claims as given    signature valid   verify_jws: valid, header and payload as sent
rfc7515-A.2-RS256-expired    expect error verify: expired                signature valid   verify_jws: valid, header and payload as sent
rfc7515-A.3-ES256            expect ok    verify: ok, claims as given    signature valid   verify_jws: valid, header and payload as sent
rfc7515-A.4-ES512            expect error verify: bad_payload            signature valid   verify_jws: valid, header and payload as sent
rfc8037-A.4-EdDSA            expect error verify: bad_payload            signature valid   verify_jws: valid, header and payload as sent
rfc7515-A.4-key-ES512-jwt    expect ok    verify: ok, claims as given    signature valid   verify_jws: valid, header and payload as sent
rfc8037-A.1-key-EdDSA-jwt    expect ok    verify: ok, claims as given    signature valid   verify_jws: valid, header and payload as sent
