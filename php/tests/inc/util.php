<?php
// Shared by the .phpt files: paths into the repository, base64url, the
// fixtures of test/fixtures (keys, jwks.json, tokens made by the openssl CLI)
// and the hostile corpus's template language (test/vectors/README.md).

const JV_ALL_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
                     'ES256', 'ES384', 'ES512', 'EdDSA'];
// The fixtures' claims hold iat = nbf = 1700000000 and exp = 1700003600.
const JV_FIXTURE_NOW = 1700000100;

function jv_root(): string
{
    return dirname(__DIR__, 3);
}

function jv_fixture(string $path): string
{
    return file_get_contents(jv_root() . '/test/fixtures/' . $path);
}

function jv_fixture_token(string $name): string
{
    return trim(jv_fixture("tokens/$name.jwt"));
}

function jv_fixture_keys(): JwksVerify\KeySet
{
    return JwksVerify\KeySet::fromJwks(jv_fixture('jwks.json'));
}

function b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

function b64url_decode(string $text): string
{
    return base64_decode(strtr($text, '-_', '+/'), true);
}

// The reason of a refusal, "ok" for a success, or the class of anything else.
function jv_outcome(callable $f): string
{
    try {
        $f();
        return 'ok';
    } catch (JwksVerify\VerificationException $e) {
        $d = $e->getDetail();
        return $e->getReason() . ($d === null ? '' : "($d)");
    } catch (Throwable $e) {
        return get_class($e) . ': ' . $e->getMessage();
    }
}

// The array with the keys of every level sorted as strings, bytewise (SORT_STRING,
// a total order: PHP makes the key "1" the int 1, so no two keys print alike),
// lists included, so that two decodings compare with === whatever the order of
// their members: the extension gives an object's members sorted by name,
// json_decode in document order, and RFC 8259 objects are unordered. Values
// still compare strictly ("1" !== 1), as == would not.
function jv_ksort_deep(array $a): array
{
    foreach ($a as &$v) {
        if (is_array($v)) {
            $v = jv_ksort_deep($v);
        }
    }
    unset($v);
    ksort($a, SORT_STRING);
    return $a;
}

// A token signed with PHP's openssl extension (not the core under test).
function jv_sign(array $header, array $claims, $key, int $algo = OPENSSL_ALGO_SHA256): string
{
    return jv_sign_raw(json_encode($header), json_encode($claims), $key, $algo);
}

// The same from the header's and payload's exact bytes (numbers as written, bad UTF-8).
function jv_sign_raw(string $header, string $payload, $key, int $algo = OPENSSL_ALGO_SHA256): string
{
    $input = b64url($header) . '.' . b64url($payload);
    if (!openssl_sign($input, $sig, $key, $algo)) {
        throw new RuntimeException('openssl_sign failed');
    }
    return "$input." . b64url($sig);
}

// The fixtures' RSA 2048 key (kid rsa-2048), to sign tokens the fixtures lack.
function jv_fixture_rsa()
{
    return openssl_pkey_get_private(jv_fixture('keys/rsa2048.pem'));
}

const JV_RS256_HEADER = '{"alg":"RS256","typ":"JWT","kid":"rsa-2048"}';

// The public half of an RSA key as a JWK.
function jv_rsa_jwk($key, string $kid): array
{
    $d = openssl_pkey_get_details($key)['rsa'];
    return ['kty' => 'RSA', 'kid' => $kid, 'use' => 'sig', 'alg' => 'RS256',
            'n' => b64url($d['n']), 'e' => b64url($d['e'])];
}

// test/vectors/README.md's templates, as php/tests/parity/export.exs writes
// them in JSON: {"b": base64}, {"cat": [...]}, {"repeat": [t, n]}, {"b64": t},
// {"seq": [before, after, from, to, sep]}.
function jv_expand(array $t): string
{
    if (isset($t['b'])) {
        return base64_decode($t['b'], true);
    }
    if (isset($t['cat'])) {
        return implode('', array_map('jv_expand', $t['cat']));
    }
    if (isset($t['repeat'])) {
        return str_repeat(jv_expand($t['repeat'][0]), $t['repeat'][1]);
    }
    if (isset($t['b64'])) {
        return b64url(jv_expand($t['b64']));
    }
    if (isset($t['seq'])) {
        [$before, $after, $from, $to, $sep] = $t['seq'];
        [$before, $after, $sep] = [jv_expand($before), jv_expand($after), jv_expand($sep)];
        $parts = [];
        for ($i = $from; $i <= $to; $i++) {
            $parts[] = $before . $i . $after;
        }
        return implode($sep, $parts);
    }
    throw new LogicException('unknown template ' . json_encode($t));
}
