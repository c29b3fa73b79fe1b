--TEST--
KeySet::fromJwks: refusals of bad documents, and the per-worker cache keyed by the document's hash
--DESCRIPTION--
Guards the JWKS refusals (bad_json, bad_jwks, jwks_too_large, too_many_keys) as
VerificationException, and the cache: the same document again is a hit, not a parse; the
cache holds at most jwks_verify.keyset_cache sets, oldest out first; 0 turns it off; and a
KeySet whose cache entry was evicted keeps working (each object holds its own reference).
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use JwksVerify\KeySet;

// The phpinfo() counters: [cached, hits, misses].
function cache_stats(): array
{
    ob_start();
    phpinfo(INFO_MODULES);
    preg_match_all('/^(Cached key sets|Key set cache hits|Key set cache misses) => (\d+)/m', ob_get_clean(), $m);
    return array_map('intval', $m[2]);
}

function since(array $before): string
{
    [$c, $h, $m] = cache_stats();
    return sprintf('%d cached, %+d hits, %+d misses', $c, $h - $before[1], $m - $before[2]);
}

echo "-- refusals\n";
$entry = '{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}';
foreach ([
    'empty string'      => '',
    'not JSON'          => 'keys: []',
    'truncated'         => '{"keys":[',
    'trailing garbage'  => '{"keys":[]} x',
    'an array'          => '[]',
    'keys not an array' => '{"keys":{}}',
    'no keys member'    => '{"foo":[]}',
    'null'              => 'null',
    '4 MiB + 1 byte'    => '{"keys":[]}' . str_repeat(' ', 4 * 1024 * 1024 - 10),
    '10 001 keys'       => '{"keys":[' . implode(',', array_fill(0, 10001, $entry)) . ']}',
] as $what => $doc) {
    printf("%-18s %s\n", $what, jv_outcome(fn () => KeySet::fromJwks($doc)));
}
$ks = KeySet::fromJwks('{"keys":[' . implode(',', array_fill(0, 10000, $entry)) . ']}');
echo '10 000 keys        ', count($ks->info()), " entries, first refused for: {$ks->info()[0]['status']}\n";
$ks = KeySet::fromJwks('{"keys":[]}');
echo 'no keys            ', count($ks->info()), " entries; a token: ",
    jv_outcome(fn () => JwksVerify\verify(jv_fixture_token('rs256'), $ks, ['now' => JV_FIXTURE_NOW, 'aud' => 'api://default'])), "\n";

echo "-- cache\n";
ini_set('jwks_verify.keyset_cache', '4');
$jwks = jv_fixture('jwks.json');
$base = cache_stats();
$a = KeySet::fromJwks($jwks);
$b = KeySet::fromJwks($jwks);
echo 'same document twice: ', since($base), "\n";
echo 'two objects, one key set: ', var_export($a !== $b && $a->info() === $b->info(), true), "\n";
for ($i = 0; $i < 6; $i++) {
    KeySet::fromJwks($jwks . str_repeat(' ', $i + 1)); // another document, the same keys
}
echo 'six other documents: ', since($base), "\n";
KeySet::fromJwks($jwks);
echo 'the first again, evicted: ', since($base), "\n";
$tok = jv_fixture_token('es256');
echo 'the evicted set still verifies: ', jv_outcome(fn () => JwksVerify\verify($tok, $a, ['algs' => ['ES256'], 'now' => JV_FIXTURE_NOW, 'aud' => 'api://default'])), "\n";
unset($a, $b);

ini_set('jwks_verify.keyset_cache', '0');
$before = cache_stats();
KeySet::fromJwks($jwks);
KeySet::fromJwks($jwks);
echo 'cache off, twice: ', since($before), "\n";
?>
--EXPECT--
-- refusals
empty string       bad_json
not JSON           bad_json
truncated          bad_json
trailing garbage   bad_json
an array           bad_jwks
keys not an array  bad_jwks
no keys member     bad_jwks
null               bad_jwks
4 MiB + 1 byte     jwks_too_large
10 001 keys        too_many_keys
10 000 keys        10000 entries, first refused for: rsa_key_too_small
no keys            0 entries; a token: unknown_kid
-- cache
same document twice: 3 cached, +1 hits, +1 misses
two objects, one key set: true
six other documents: 4 cached, +1 hits, +7 misses
the first again, evicted: 4 cached, +1 hits, +8 misses
the evicted set still verifies: ok
cache off, twice: 4 cached, +0 hits, +0 misses
