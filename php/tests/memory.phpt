--TEST--
No growth: 100 000 verifications in one process leave memory_get_usage() and RSS flat
--DESCRIPTION--
Guards against leaks on every path a request takes: fromJwks of the cached document,
then in turn a successful verify (claims array), a refusal (exception with a detail) or
verify_jws. After a warm-up, 100 000 of them must not grow the Zend heap or the
process's resident set beyond noise. Skipped under valgrind, which checks every allocation
of the other tests itself, and where neither figure means anything (USE_ZEND_ALLOC=0).
--EXTENSIONS--
jwks_verify
--SKIPIF--
<?php if (getenv('USE_ZEND_ALLOC') === '0') echo 'skip under valgrind: the other tests are its leak check'; ?>
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use JwksVerify\KeySet;

function rss_kb(): int
{
    return preg_match('/^VmRSS:\s+(\d+) kB/m', @file_get_contents('/proc/self/status'), $m) ? (int)$m[1] : 0;
}

$n = 100000;
$jwks = jv_fixture('jwks.json');
$good = jv_fixture_token('rs256');
$missing = jv_sign_raw(JV_RS256_HEADER, '{"exp":1700003600,"sub":"u"}', jv_fixture_rsa());
$opts = ['now' => JV_FIXTURE_NOW, 'iss' => ['https://issuer.example'], 'aud' => 'api://default'];

$round = function (int $i) use ($jwks, $good, $missing, $opts): bool {
    $ks = KeySet::fromJwks($jwks);
    switch ($i % 3) {
    case 0:
        return JwksVerify\verify($good, $ks, $opts)['sub'] === 'user-1';
    case 1:
        try {
            JwksVerify\verify($missing, $ks, $opts);
            return false;
        } catch (JwksVerify\VerificationException $e) {
            return $e->getReason() . $e->getDetail() === 'missing_claimiss';
        }
    default:
        return JwksVerify\verify_jws($good, $ks, $opts)['header']['kid'] === 'rsa-2048';
    }
};

for ($i = 0; $i < 3000; $i++) {
    $round($i);
}
gc_collect_cycles();
$heap0 = memory_get_usage();
$rss0 = rss_kb();
$ok = 0;
for ($i = 0; $i < $n; $i++) {
    $ok += $round($i);
}
gc_collect_cycles();
$heap = memory_get_usage() - $heap0;
$rss = rss_kb() - $rss0;
echo "rounds: ", $ok === $n ? 'all as expected' : "only $ok of $n as expected", "\n";
echo "heap growth: ", $heap <= 4096 ? 'none' : "$heap bytes", "\n";
// glibc may keep a few pages more; a leak of 16 bytes per verification would be 1.6 MB.
echo "RSS growth: ", $rss <= 512 ? 'within 512 kB' : "$rss kB", "\n";
if (getenv('JV_SHOW')) echo "heap $heap B, RSS $rss kB\n";
?>
--EXPECT--
rounds: all as expected
heap growth: none
RSS growth: within 512 kB
