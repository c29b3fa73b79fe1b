<?php

declare(strict_types=1);

// The example API's front controller:
//
//   JWKS_URL=https://issuer.example/.well-known/jwks.json JWT_ISS=https://issuer.example/ \
//   JWT_AUD=example-api php -d extension=jwks_verify -S 127.0.0.1:8080 php/examples/public/index.php
//
// GET /public needs no token; GET /api/protected and /api/me need a valid bearer token.

namespace Example;

require __DIR__ . '/../lib/Micro.php';
require __DIR__ . '/../lib/JwksSource.php';
require __DIR__ . '/../lib/BearerGuard.php';

$env = fn (string $name, string $default) => ($v = getenv($name)) === false || $v === '' ? $default : $v;

$jwks = new JwksSource(
    $env('JWKS_URL', 'https://issuer.example/.well-known/jwks.json'),
    ttl: (int)$env('JWKS_TTL', '600'),
    refetchInterval: (int)$env('JWKS_REFETCH_INTERVAL', '30'),
);

$app = new Micro();
$app->before(new BearerGuard($jwks, [
    'iss' => $env('JWT_ISS', 'https://issuer.example/'),
    'aud' => $env('JWT_AUD', 'example-api'),
    'algs' => ['RS256', 'ES256'],
    'leeway' => 30,
]));

$app->get('/public', fn () => ['message' => 'Public content']);
$app->get('/api/protected', fn (Micro $app) => ['message' => 'Access granted', 'user' => $app->claims]);
$app->get('/api/me', fn (Micro $app) => ['sub' => $app->claims['sub'] ?? null]);

$app->handle();
