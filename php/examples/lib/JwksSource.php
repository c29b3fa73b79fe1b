<?php

declare(strict_types=1);

namespace Example;

use JwksVerify\KeySet;
use JwksVerify\VerificationException;

/** The issuer's key set could not be had: no usable document, fresh or stale. */
final class JwksUnavailable extends \RuntimeException
{
}

/**
 * The issuer's JWKS: fetched over HTTPS (plain HTTP only to a loopback address, for tests),
 * with a timeout and a 1 MB cap, and kept for $ttl seconds in APCu when it is loaded, else
 * in a file under the temporary directory (as Phalcon's Stream cache adapter would): plain
 * PHP keeps nothing from one request to the next. Either way the extension keeps the parsed
 * key set per worker, keyed by the document's hash, so a request pays a hash, not a parse.
 *
 * A document that does not parse never replaces a good one; a stale one keeps serving while
 * the issuer is down, up to $staleCeiling seconds. After an unknown_kid (a rotation), refetch()
 * fetches again at once unless it did so in the last $refetchInterval seconds, so made-up kids
 * cannot flood the issuer.
 */
final class JwksSource
{
    public const MAX_BYTES = 1024 * 1024;

    private string $key;

    public function __construct(
        private readonly string $url,
        private readonly int $ttl = 600,
        private readonly float $timeout = 5.0,
        private readonly int $refetchInterval = 30,
        private readonly int $staleCeiling = 3600,
    ) {
        $parts = parse_url($url);
        $loopback = in_array($parts['host'] ?? '', ['127.0.0.1', 'localhost', '[::1]'], true);
        if (($parts['scheme'] ?? '') !== 'https' && !(($parts['scheme'] ?? '') === 'http' && $loopback)) {
            throw new \InvalidArgumentException("the JWKS URL must be https (http only to loopback): $url");
        }
        $this->key = 'jwks:' . sha1($url);
    }

    public function keySet(): KeySet
    {
        $entry = $this->load();
        if ($entry !== null && time() - $entry['at'] < $this->ttl) {
            return KeySet::fromJwks($entry['jwks']);
        }
        try {
            return $this->fetch();
        } catch (JwksUnavailable $e) {
            if ($entry !== null && time() - $entry['at'] < $this->staleCeiling) {
                error_log("jwks: serving a stale key set: {$e->getMessage()}");
                return KeySet::fromJwks($entry['jwks']);
            }
            throw $e;
        }
    }

    /** A freshly fetched key set, or null when one was fetched too recently. */
    public function refetch(): ?KeySet
    {
        $entry = $this->load();
        if ($entry !== null && time() - $entry['at'] < $this->refetchInterval) {
            return null;
        }
        try {
            return $this->fetch();
        } catch (JwksUnavailable $e) {
            error_log("jwks: refetch failed: {$e->getMessage()}");
            return null;
        }
    }

    private function fetch(): KeySet
    {
        $context = stream_context_create([
            'http' => ['timeout' => $this->timeout, 'follow_location' => 0, 'ignore_errors' => true,
                       'header' => "Accept: application/json\r\n"],
            'ssl' => ['verify_peer' => true, 'verify_peer_name' => true],
        ]);
        $body = @file_get_contents($this->url, false, $context, 0, self::MAX_BYTES + 1);
        $status = isset($http_response_header[0]) ? (int)(explode(' ', $http_response_header[0])[1] ?? 0) : 0;
        if ($body === false || $status !== 200) {
            throw new JwksUnavailable("GET {$this->url}: " . ($status ? "status $status" : 'no answer'));
        }
        if (strlen($body) > self::MAX_BYTES) {
            throw new JwksUnavailable("GET {$this->url}: larger than " . self::MAX_BYTES . ' bytes');
        }
        try {
            $keys = KeySet::fromJwks($body);
        } catch (VerificationException $e) {
            throw new JwksUnavailable("GET {$this->url}: {$e->getMessage()}");
        }
        $this->store(['jwks' => $body, 'at' => time()]);
        return $keys;
    }

    /** @return array{jwks: string, at: int}|null */
    private function load(): ?array
    {
        if (self::apcu()) {
            $entry = apcu_fetch($this->key, $found);
            return $found ? $entry : null;
        }
        $text = @file_get_contents($this->file());
        $entry = $text === false ? null : json_decode($text, true);
        return is_array($entry) && is_string($entry['jwks'] ?? null) && is_int($entry['at'] ?? null) ? $entry : null;
    }

    private function store(array $entry): void
    {
        if (self::apcu()) {
            apcu_store($this->key, $entry, $this->staleCeiling);
            return;
        }
        // Written whole, then renamed: a concurrent reader sees the old file or the new one.
        $tmp = $this->file() . '.' . getmypid();
        if (@file_put_contents($tmp, json_encode($entry)) !== false) {
            @rename($tmp, $this->file());
        }
    }

    private function file(): string
    {
        return (getenv('JWKS_CACHE_DIR') ?: sys_get_temp_dir()) . "/{$this->key}.json";
    }

    private static function apcu(): bool
    {
        return function_exists('apcu_enabled') && apcu_enabled();
    }
}
