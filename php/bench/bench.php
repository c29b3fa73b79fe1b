<?php

declare(strict_types=1);

/*
 * µs per request-shaped verification in PHP: one RS256 token (test/fixtures, kid rsa-2048)
 * against a JWKS of three keys (RSA 2048, RSA 4096, EC P-256), as an identity provider
 * serves one, checked with a fixed `now`.
 *
 *   php -n -d extension=php/modules/jwks_verify.so php/bench/bench.php [RESULTS.md]
 *   (or `make php-bench`; BENCH_QUICK=1 for a short smoke run whose figures mean little)
 *
 * The paths:
 *  - the extension with a warm key set: a KeySet made once, verify() per request;
 *  - the extension per request from the document: KeySet::fromJwks() of the JWKS text the
 *    application keeps (APCu), a hash and a hit in the worker's key set cache, then verify();
 *  - the extension parsing the JWKS each time (its cache turned off);
 *  - pure PHP doing what firebase/php-jwt does on every request, JWK::parseKeySet() then
 *    JWT::decode(): every JWK to a PEM, openssl_pkey_get_public(), json_decode(), base64url,
 *    openssl_verify(), the alg, exp, nbf and iat checks (written here: php-jwt is not
 *    installable here, and the bench must not depend on a network);
 *  - the floor: PHP's openssl_verify() alone, the key imported and the signature decoded
 *    beforehand.
 *
 * Each figure is the median of several rounds; a round times a batch of calls sized to take
 * about ROUND_MS.
 */

use JwksVerify\KeySet;

const NOW = 1700000100;

$quick = getenv('BENCH_QUICK') === '1';
$round_ms = $quick ? 20 : 150;
$rounds = $quick ? 3 : 9;

$root = dirname(__DIR__, 2);
$all = json_decode(file_get_contents("$root/test/fixtures/jwks.json"), true);
$jwks = json_encode(['keys' => array_values(array_filter($all['keys'],
    fn ($k) => in_array($k['kid'], ['rsa-2048', 'rsa-4096', 'ec-p256'], true)))]);
$token = trim(file_get_contents("$root/test/fixtures/tokens/rs256.jwt"));

// ---------------------------------------------------------------------------
// Pure PHP, after firebase/php-jwt 6 (JWK::parseKeySet, JWT::decode).

function b64url_decode(string $s): string
{
    $r = base64_decode(strtr($s, '-_', '+/'), true);
    if ($r === false) {
        throw new UnexpectedValueException('bad base64url');
    }
    return $r;
}

function der_length(int $n): string
{
    return $n < 0x80 ? chr($n) : (($b = ltrim(pack('N', $n), "\0")) !== '' ? chr(0x80 | strlen($b)) . $b : '');
}

function der(int $tag, string $body): string
{
    return chr($tag) . der_length(strlen($body)) . $body;
}

function der_uint(string $bytes): string
{
    $bytes = ltrim($bytes, "\0");
    return der(0x02, (ord($bytes[0] ?? "\0") & 0x80 ? "\0" : '') . $bytes);
}

function pem(string $spki): string
{
    return "-----BEGIN PUBLIC KEY-----\r\n" . chunk_split(base64_encode($spki), 64) . "-----END PUBLIC KEY-----";
}

/** JWK::parseKeySet: every key of the set imported, whichever the token will need. */
function php_parse_key_set(string $json): array
{
    $set = json_decode($json, true, 512, JSON_BIGINT_AS_STRING);
    if (!is_array($set) || !isset($set['keys']) || !is_array($set['keys'])) {
        throw new UnexpectedValueException('not a JWKS');
    }
    $keys = [];
    foreach ($set['keys'] as $jwk) {
        $spki = match ($jwk['kty'] ?? null) {
            'RSA' => der(0x30, hex2bin('300d06092a864886f70d0101010500')
                . der(0x03, "\0" . der(0x30, der_uint(b64url_decode($jwk['n'])) . der_uint(b64url_decode($jwk['e']))))),
            'EC' => der(0x30, hex2bin('301306072a8648ce3d020106082a8648ce3d030107')
                . der(0x03, "\0\x04" . b64url_decode($jwk['x']) . b64url_decode($jwk['y']))),
            default => throw new UnexpectedValueException('unsupported kty'),
        };
        $key = openssl_pkey_get_public(pem($spki));
        if ($key === false) {
            throw new DomainException('OpenSSL refused the key');
        }
        $keys[$jwk['kid']] = [$key, $jwk['alg'] ?? 'RS256'];
    }
    return $keys;
}

/** JWT::decode with RS256 (the token's alg) and its time checks. */
function php_decode(string $jwt, array $keys, int $now, int $leeway = 0): array
{
    $parts = explode('.', $jwt);
    if (count($parts) !== 3) {
        throw new UnexpectedValueException('Wrong number of segments');
    }
    [$h64, $p64, $s64] = $parts;
    $header = json_decode(b64url_decode($h64), false, 512, JSON_BIGINT_AS_STRING);
    $payload = json_decode(b64url_decode($p64), true, 512, JSON_BIGINT_AS_STRING);
    if (!is_object($header) || !is_array($payload)) {
        throw new UnexpectedValueException('Invalid header or payload encoding');
    }
    $sig = b64url_decode($s64);
    if (empty($header->alg) || $header->alg !== 'RS256') {
        throw new UnexpectedValueException('Algorithm not supported');
    }
    if (!isset($header->kid, $keys[$header->kid])) {
        throw new UnexpectedValueException('"kid" invalid, unable to lookup correct key');
    }
    [$key, $alg] = $keys[$header->kid];
    if ($alg !== $header->alg) {
        throw new UnexpectedValueException('Incorrect key for this algorithm');
    }
    if (openssl_verify("$h64.$p64", $sig, $key, OPENSSL_ALGO_SHA256) !== 1) {
        throw new UnexpectedValueException('Signature verification failed');
    }
    if (isset($payload['nbf']) && floor($payload['nbf']) > $now + $leeway) {
        throw new UnexpectedValueException('Cannot handle token with nbf prior to now');
    }
    if (!isset($payload['nbf']) && isset($payload['iat']) && floor($payload['iat']) > $now + $leeway) {
        throw new UnexpectedValueException('Cannot handle token with iat prior to now');
    }
    if (isset($payload['exp']) && $now - $leeway >= $payload['exp']) {
        throw new UnexpectedValueException('Expired token');
    }
    return $payload;
}

// ---------------------------------------------------------------------------
// Timing

/** Median µs per call of $f over $rounds rounds, each a batch sized to last about $round_ms. */
function measure(callable $f, int $round_ms, int $rounds): float
{
    $n = 1;
    do {
        $t = hrtime(true);
        for ($i = 0; $i < $n; $i++) {
            $f();
        }
        $ms = (hrtime(true) - $t) / 1e6;
        $n *= 2;
    } while ($ms < 5);
    $batch = max(1, (int)($n / 2 * $round_ms / max($ms, 0.001)));
    $us = [];
    for ($r = 0; $r < $rounds; $r++) {
        $t = hrtime(true);
        for ($i = 0; $i < $batch; $i++) {
            $f();
        }
        $us[] = (hrtime(true) - $t) / 1e3 / $batch;
    }
    sort($us);
    return $us[intdiv($rounds, 2)];
}

// What an application passes (the token's iss and aud named); php-jwt leaves both to the caller.
$opts = ['now' => NOW, 'iss' => 'https://issuer.example', 'aud' => 'api://default'];
$warm = KeySet::fromJwks($jwks);
[$h64, $p64, $s64] = explode('.', $token);
$floor_key = openssl_pkey_get_public(file_get_contents("$root/test/fixtures/keys/rsa2048.pub.pem"));
$floor_sig = b64url_decode($s64);
$floor_input = "$h64.$p64";

// Every path must accept the token before it is timed.
// The extension's members come sorted by name (as the Erlang maps); json_decode keeps document order.
function ksort_deep(array $a): array
{
    foreach ($a as $k => $v) {
        if (is_array($v)) {
            $a[$k] = ksort_deep($v);
        }
    }
    ksort($a, SORT_STRING);
    return $a;
}
$want = JwksVerify\verify($token, $warm, $opts);
if (ksort_deep(php_decode($token, php_parse_key_set($jwks), NOW)) !== ksort_deep($want)
    || openssl_verify($floor_input, $floor_sig, $floor_key, OPENSSL_ALGO_SHA256) !== 1) {
    fwrite(STDERR, "bench: the paths disagree on the token\n");
    exit(1);
}

$paths = [
    'floor' => ['PHP `openssl_verify` alone (key imported, signature decoded beforehand)',
        fn () => openssl_verify($floor_input, $floor_sig, $floor_key, OPENSSL_ALGO_SHA256)],
    'warm' => ['extension, warm key set: `verify($jwt, $keySet)`',
        fn () => JwksVerify\verify($token, $warm, $opts)],
    'doc' => ['extension, per request from the JWKS text: `verify($jwt, KeySet::fromJwks($json))` (cache hit)',
        fn () => JwksVerify\verify($token, KeySet::fromJwks($jwks), $opts)],
    'parse' => ['extension, parsing the JWKS each time (`jwks_verify.keyset_cache=0`)',
        fn () => JwksVerify\verify($token, KeySet::fromJwks($jwks), $opts)],
    'php' => ['pure PHP as firebase/php-jwt: `JWT::decode($jwt, JWK::parseKeySet($jwks))`',
        fn () => php_decode($token, php_parse_key_set($jwks), NOW)],
];

$us = [];
foreach ($paths as $id => [$label, $f]) {
    ini_set('jwks_verify.keyset_cache', $id === 'parse' ? '0' : '16');
    $us[$id] = measure($f, $round_ms, $rounds);
    fprintf(STDERR, "%-6s %8.2f µs\n", $id, $us[$id]);
}
ini_restore('jwks_verify.keyset_cache');

$lines = [
    '| path | µs per verification | × floor |',
    '|---|---:|---:|',
];
foreach (['warm', 'doc', 'parse', 'php', 'floor'] as $id) {
    $lines[] = sprintf('| %s | %.1f | %.2f |', $paths[$id][0], $us[$id], $us[$id] / $us['floor']);
}
$warm_ratio = $us['warm'] / $us['floor'];
$php_ratio = $us['php'] / $us['warm'];
$cpu = preg_match('/^model name\s*:\s*(.+)$/m', (string)@file_get_contents('/proc/cpuinfo'), $m) ? $m[1] : php_uname('m');
$table = implode("\n", $lines);
$summary = sprintf("Warm extension / floor: %.2f× (target ≤ 1.15×: %s). Pure PHP / warm extension: %.1f× (target ≥ 3×: %s).",
    $warm_ratio, $warm_ratio <= 1.15 ? 'met' : 'missed', $php_ratio, $php_ratio >= 3 ? 'met' : 'missed');
$setup = sprintf('PHP %s, %s, %s; RS256 token, JWKS of 3 keys (RSA 2048, RSA 4096, EC P-256); median of %d rounds of ~%d ms%s.',
    PHP_VERSION, OPENSSL_VERSION_TEXT, $cpu, $rounds, $round_ms, $quick ? ' (BENCH_QUICK: a smoke run)' : '');

echo "$table\n\n$summary\n";
if (isset($argv[1])) {
    file_put_contents($argv[1], "# PHP benchmark results\n\n"
        . "Written by `make php-bench` (php/bench/bench.php), " . gmdate('Y-m-d') . ".\n\n"
        . "$setup\n\n$table\n\n$summary\n");
    fprintf(STDERR, "wrote %s\n", $argv[1]);
}
