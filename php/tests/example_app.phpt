--TEST--
The example application under `php -S`, against a loopback JWKS issuer: real HTTP requests
--DESCRIPTION--
Guards php/examples end to end: an issuer (a second `php -S` serving jwks.json, which this
test rewrites to rotate keys) and the API (public/index.php with the extension). Tokens are
signed here with openssl_sign, independently of the core. Run twice: with APCu holding the
fetched JWKS, and without APCu (the file cache). Each run: /public without a token, no
token, expired, tampered, wrong issuer, valid (claims reach the route), a key rotation
picked up through one refetch, a malformed header, and then the issuer's fetch count.
--EXTENSIONS--
jwks_verify
openssl
--SKIPIF--
<?php
if (getenv('USE_ZEND_ALLOC') === '0') echo 'skip under valgrind: the servers it starts would run under it too';
if (!getenv('JWKS_VERIFY_EXT')) echo 'skip JWKS_VERIFY_EXT (the built module) is not set: run it with `make php-test`';
?>
--FILE--
<?php
require __DIR__ . '/inc/util.php';

function free_port(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int)substr(strrchr(stream_socket_get_name($s, false), ':'), 1);
    fclose($s);
    return $port;
}

/** Starts `php -n ARGS -S 127.0.0.1:PORT TARGET`; returns once the port accepts connections. */
function serve(array $php_args, int $port, array $target, array $env, string $log)
{
    $cmd = array_merge([PHP_BINARY, '-n'], $php_args, ['-S', "127.0.0.1:$port"], $target);
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']],
        $pipes, null, $env + ['PATH' => getenv('PATH')]);
    for ($i = 0; $i < 100; $i++) {
        if ($c = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.1)) {
            fclose($c);
            return $proc;
        }
        usleep(50000);
    }
    throw new RuntimeException("php -S on $port did not start: " . file_get_contents($log));
}

function stop($proc): void
{
    proc_terminate($proc);
    proc_close($proc);
}

/** @return array{int, array<string, string>, string} status, lowercase headers, body */
function get(int $port, string $path, ?string $authorization = null): array
{
    $ctx = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 10,
        'header' => $authorization === null ? '' : "Authorization: $authorization\r\n"]]);
    $body = file_get_contents("http://127.0.0.1:$port$path", false, $ctx);
    $headers = [];
    foreach (array_slice($http_response_header, 1) as $h) {
        [$k, $v] = explode(':', $h, 2);
        $headers[strtolower($k)] = trim($v);
    }
    return [(int)explode(' ', $http_response_header[0])[1], $headers, $body];
}

$tmp = sys_get_temp_dir() . '/jwks-verify-example-' . getmypid();
@mkdir("$tmp/issuer", 0700, true);
@mkdir("$tmp/cache", 0700, true);
$k1 = jv_fixture_rsa();
$k2 = openssl_pkey_get_private(jv_fixture('keys/rsa4096.pem'));
$publish = fn (array $keys) => file_put_contents("$tmp/issuer/jwks.json.new", json_encode(['keys' => $keys]))
    && rename("$tmp/issuer/jwks.json.new", "$tmp/issuer/jwks.json");

$ext = getenv('JWKS_VERIFY_EXT');
$runs = ['with APCu' => ['-d', "extension=$ext", '-d', 'extension=apcu', '-d', 'apc.enabled=1'],
         'without APCu' => ['-d', "extension=$ext"]];
if (!is_file(ini_get('extension_dir') . '/apcu.so') && !is_file(PHP_EXTENSION_DIR . '/apcu.so')) {
    echo "(php-apcu is not installed: the APCu run is left out)\n";
    unset($runs['with APCu']);
}

foreach ($runs as $run => $api_args) {
    $publish([jv_rsa_jwk($k1, 'k1')]);
    $iport = free_port();
    @unlink("$tmp/issuer.log");
    $issuer = serve([], $iport, ['-t', "$tmp/issuer"], [], "$tmp/issuer.log");

    $iss = "http://127.0.0.1:$iport/";
    $aport = free_port();
    $api = serve($api_args, $aport, [jv_root() . '/php/examples/public/index.php'], [
        'JWKS_URL' => "http://127.0.0.1:$iport/jwks.json", 'JWT_ISS' => $iss, 'JWT_AUD' => 'example-api',
        'JWKS_REFETCH_INTERVAL' => '0', 'JWKS_CACHE_DIR' => "$tmp/cache",
    ], "$tmp/api.log");

    $now = time();
    $claims = ['iss' => $iss, 'aud' => 'example-api', 'sub' => 'alice', 'iat' => $now, 'exp' => $now + 300];
    $valid = jv_sign(['alg' => 'RS256', 'kid' => 'k1'], $claims, $k1);
    $expired = jv_sign(['alg' => 'RS256', 'kid' => 'k1'], ['exp' => $now - 3600] + $claims, $k1);
    [$h, $p, $s] = explode('.', $valid);
    $tampered = "$h." . b64url(json_encode(['sub' => 'admin'] + $claims)) . ".$s";
    $other_iss = jv_sign(['alg' => 'RS256', 'kid' => 'k1'], ['iss' => 'https://evil.example/'] + $claims, $k1);
    $rotated = jv_sign(['alg' => 'RS256', 'kid' => 'k2'], ['sub' => 'bob'] + $claims, $k2);

    echo "== $run\n";
    $show = function (string $what, string $path, ?string $auth) use ($aport) {
        [$status, $headers, $body] = get($aport, $path, $auth);
        printf("%-34s %d %s%s\n", $what, $status, $body,
            isset($headers['www-authenticate']) ? "  [WWW-Authenticate: {$headers['www-authenticate']}]" : '');
    };
    $show('/public, no token', '/public', null);
    $show('no token', '/api/protected', null);
    $show('Basic scheme', '/api/protected', 'Basic YWxpY2U6c2VjcmV0');
    $show('Bearer, no token', '/api/protected', 'Bearer');
    $show('expired', '/api/protected', "Bearer $expired");
    $show('tampered (sub: admin)', '/api/protected', "Bearer $tampered");
    $show('wrong issuer', '/api/protected', "Bearer $other_iss");
    $show('valid', '/api/me', "Bearer $valid");
    $body = get($aport, '/api/protected', "Bearer $valid")[2];
    $user = json_decode($body, true)['user'] ?? null;
    echo 'valid, claims reach the route:      ',
        is_array($user) && jv_ksort_deep($user) === jv_ksort_deep($claims) ? 'yes' : "NO: $body", "\n";
    $show('new key before the rotation', '/api/me', "Bearer $rotated");
    $publish([jv_rsa_jwk($k1, 'k1'), jv_rsa_jwk($k2, 'k2')]);
    $show('new key after the rotation', '/api/me', "Bearer $rotated");
    $show('old key still in the set', '/api/me', "Bearer $valid");
    $show('unknown path', '/nothing', "Bearer $valid");
    stop($api);
    stop($issuer);
    // Fetches: the first, one refetch for k2 before the rotation (nothing new), one after.
    echo 'JWKS fetches served by the issuer:  ', substr_count(file_get_contents("$tmp/issuer.log"), 'GET /jwks.json'), "\n";
    array_map('unlink', glob("$tmp/cache/*"));
}
array_map('unlink', glob("$tmp/*.log"));
array_map('unlink', glob("$tmp/issuer/*"));
rmdir("$tmp/issuer");
rmdir("$tmp/cache");
rmdir($tmp);
?>
--EXPECT--
== with APCu
/public, no token                  200 {"message":"Public content"}
no token                           401 {"error":"Unauthorized","details":"missing bearer token"}  [WWW-Authenticate: Bearer]
Basic scheme                       401 {"error":"Unauthorized","details":"missing bearer token"}  [WWW-Authenticate: Bearer]
Bearer, no token                   400 {"error":"Bad Request","details":"malformed authorization header"}  [WWW-Authenticate: Bearer error="invalid_request", error_description="malformed authorization header"]
expired                            401 {"error":"Unauthorized","details":"token expired"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="token expired"]
tampered (sub: admin)              401 {"error":"Unauthorized","details":"invalid signature"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="invalid signature"]
wrong issuer                       401 {"error":"Unauthorized","details":"invalid issuer"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="invalid issuer"]
valid                              200 {"sub":"alice"}
valid, claims reach the route:      yes
new key before the rotation        401 {"error":"Unauthorized","details":"unknown key id"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="unknown key id"]
new key after the rotation         200 {"sub":"bob"}
old key still in the set           200 {"sub":"alice"}
unknown path                       404 {"error":"Not Found"}
JWKS fetches served by the issuer:  3
== without APCu
/public, no token                  200 {"message":"Public content"}
no token                           401 {"error":"Unauthorized","details":"missing bearer token"}  [WWW-Authenticate: Bearer]
Basic scheme                       401 {"error":"Unauthorized","details":"missing bearer token"}  [WWW-Authenticate: Bearer]
Bearer, no token                   400 {"error":"Bad Request","details":"malformed authorization header"}  [WWW-Authenticate: Bearer error="invalid_request", error_description="malformed authorization header"]
expired                            401 {"error":"Unauthorized","details":"token expired"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="token expired"]
tampered (sub: admin)              401 {"error":"Unauthorized","details":"invalid signature"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="invalid signature"]
wrong issuer                       401 {"error":"Unauthorized","details":"invalid issuer"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="invalid issuer"]
valid                              200 {"sub":"alice"}
valid, claims reach the route:      yes
new key before the rotation        401 {"error":"Unauthorized","details":"unknown key id"}  [WWW-Authenticate: Bearer error="invalid_token", error_description="unknown key id"]
new key after the rotation         200 {"sub":"bob"}
old key still in the set           200 {"sub":"alice"}
unknown path                       404 {"error":"Not Found"}
JWKS fetches served by the issuer:  3
