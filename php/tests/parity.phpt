--TEST--
The same reasons as the Erlang API for the same inputs (hostile corpus and fixtures)
--DESCRIPTION--
Guards parity with jwks_verify:verify/3, verify_jws/3, peek_unverified/2, key_set/1,
key_set_info/1 and reasons/0: php/tests/parity/export.exs ran every case of
test/vectors/hostile.eterm and every fixture token under fifteen option sets (all valid
for jwks_verify:options/1: aud named where tokens carry one, or aud => any, which arrives
here as {"any_audience": true} and goes in as JwksVerify\ANY_AUDIENCE), and every one of
those tokens through peek_unverified/2, and wrote the Erlang API's answers; here the
extension answers the same inputs. Every refusal must have the same reason (and claim
name), every success the same claims. The one documented difference: an integer beyond
PHP's int range is a bad_payload (bad_header in a header) here, an exact bignum there.
Also: JwksVerify\reasons() lists jwks_verify:reasons() in its order, and the example's
BearerGuard gives every reason the details string of jwks_verify_guard (the Plug's table).
--EXTENSIONS--
jwks_verify
--SKIPIF--
<?php
$f = getenv('JWKS_VERIFY_PARITY') ?: dirname(__DIR__, 2) . '/_build/php/parity.json';
if (!is_file($f)) echo "skip $f not found: `make php-test` exports the Erlang answers first";
?>
--FILE--
<?php
require __DIR__ . '/inc/util.php';
require __DIR__ . '/../examples/lib/BearerGuard.php';

use JwksVerify\KeySet;
use JwksVerify\VerificationException;

$doc = json_decode(file_get_contents(getenv('JWKS_VERIFY_PARITY')
    ?: jv_root() . '/_build/php/parity.json'), true, 512, JSON_THROW_ON_ERROR);
$named = [];
foreach ($doc['named'] as $name => $tmpl) {
    $named[$name] = KeySet::fromJwks(jv_expand($tmpl));
}

function opts(array $o): array
{
    return array_map(fn ($v) => match (true) {
        !is_array($v) => $v,
        isset($v['any_audience']) => JwksVerify\ANY_AUDIENCE,
        isset($v['b']) => base64_decode($v['b']),
        default => array_map(fn ($x) => base64_decode($x['b']), $v),
    }, $o);
}

// Erlang's exact bignums arrive here as floats beyond int64.
function has_bignum($v): bool
{
    if (is_array($v)) {
        foreach ($v as $x) {
            if (has_bignum($x)) return true;
        }
        return false;
    }
    return is_float($v) && floor($v) == $v && abs($v) >= 9.2233720368547758e18;
}

function refusal(VerificationException $e): array
{
    $d = $e->getDetail();
    return $d === null ? ['error' => $e->getReason()] : ['error' => $e->getReason(), 'detail' => $d];
}

$mismatches = [];
$fixtures_ok = [];
$php_only_bignum = 0;
$by_what = [];
foreach ($doc['cases'] as $c) {
    $want = $c['erlang'];
    $ks = isset($c['jwks']['named']) ? $named[$c['jwks']['named']] : null;
    try {
        switch ($c['what']) {
        case 'jwt':
            $ks ??= KeySet::fromJwks(jv_expand($c['jwks']));
            $got = ['ok' => JwksVerify\verify(jv_expand($c['token']), $ks, opts($c['opts']))];
            break;
        case 'jws':
            $ks ??= KeySet::fromJwks(jv_expand($c['jwks']));
            $r = JwksVerify\verify_jws(jv_expand($c['token']), $ks, opts($c['opts']));
            $got = ['ok' => ['header' => $r['header'], 'payload' => base64_encode($r['payload'])]];
            break;
        case 'peek':
            $r = JwksVerify\peek_unverified(jv_expand($c['token']), opts($c['opts']));
            $got = ['ok' => $r];
            break;
        case 'jwks':
            $ks = $ks ?? KeySet::fromJwks(jv_expand($c['jwks']));
            $got = ['ok' => count($ks->info())];
            break;
        case 'key':
            $kid = jv_expand($c['kid']);
            $got = ['status' => array_values(array_filter($ks->info(), fn ($k) => $k['kid'] === $kid))[0]['status']];
            break;
        }
    } catch (VerificationException $e) {
        $got = refusal($e);
    }
    if (isset($want['ok']) && $c['what'] === 'jwt') {
        $want['ok'] = json_decode($want['ok'], true, 512, JSON_THROW_ON_ERROR);
        if (($got['error'] ?? null) === 'bad_payload' && has_bignum($want['ok'])) {
            $php_only_bignum++;
            $got = $want;
        }
    } elseif (isset($want['ok']) && $c['what'] === 'peek') {
        $want['ok'] = array_map(fn ($j) => json_decode($j, true, 512, JSON_THROW_ON_ERROR), $want['ok']);
        if (in_array($got['error'] ?? null, ['bad_header', 'bad_payload'], true) && has_bignum($want['ok'])) {
            $php_only_bignum++;
            $got = $want;
        }
    } elseif (isset($want['ok']) && $c['what'] === 'jws') {
        $want['ok']['header'] = json_decode($want['ok']['header'], true, 512, JSON_THROW_ON_ERROR);
        $want['ok']['payload'] = $want['ok']['payload']['b'];
        if (($got['error'] ?? null) === 'bad_header' && has_bignum($want['ok']['header'])) {
            $php_only_bignum++;
            $got = $want;
        }
    }
    $by_what[$c['what']] = ($by_what[$c['what']] ?? 0) + 1;
    if (isset($want['ok']) && preg_match('~^fixtures/[^/]+/(all-algs|any-aud)$~', $c['id'], $m)) {
        $fixtures_ok[$m[1]] = ($fixtures_ok[$m[1]] ?? 0) + 1;
    }
    // Maps in any key order, lists in theirs; ints and floats kept apart.
    if (jv_ksort_deep($got) !== jv_ksort_deep($want)) {
        $mismatches[] = sprintf("%s (%s): erlang %s, php %s", $c['id'], $c['note'],
            substr(json_encode($want), 0, 200), substr(json_encode($got), 0, 200));
    }
}
ksort($by_what);
echo count($doc['cases']), " cases: ", json_encode($by_what), "\n";
echo "bignum claims refused here only: $php_only_bignum\n";
ksort($fixtures_ok);
echo "fixture tokens accepted by both: ", json_encode($fixtures_ok), "\n";
echo "mismatches: ", count($mismatches), "\n", implode("\n", $mismatches), "\n";

echo "reasons as jwks_verify:reasons(): ",
    var_export(array_keys(JwksVerify\reasons()) === $doc['reasons'], true), "\n";

// The example's details strings (a private constant: it is the example's own table).
$details = (new ReflectionClassConstant(Example\BearerGuard::class, 'DETAILS'))->getValue();
$drift = [];
foreach (array_keys(JwksVerify\reasons()) as $r) {
    if (($details[$r] ?? null) !== ($doc['guard_details'][$r] ?? 'MISSING IN THE GUARD')) {
        $drift[] = "$r: example " . json_encode($details[$r] ?? null) . ', guard '
            . json_encode($doc['guard_details'][$r] ?? null);
    }
}
foreach ($details as $r => $d) {
    if (($doc['guard_details'][$r] ?? null) !== $d) {
        $drift[] = "$r: example " . json_encode($d) . ', guard ' . json_encode($doc['guard_details'][$r] ?? null);
    }
}
echo "example details unlike the guard's: ", count(array_unique($drift)), "\n", implode("\n", array_unique($drift));
?>
--EXPECTF--
%d cases: {"jwks":%d,"jws":%d,"jwt":%d,"key":%d,"peek":%d}
bignum claims refused here only: %d
fixture tokens accepted by both: {"all-algs":11,"any-aud":11}
mismatches: 0

reasons as jwks_verify:reasons(): true
example details unlike the guard's: 0
