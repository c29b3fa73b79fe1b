<?php

declare(strict_types=1);

namespace Example;

use JwksVerify\VerificationException;

use function JwksVerify\verify;

/**
 * The "before" middleware: public paths pass, every other request needs
 * `Authorization: Bearer <JWT>` verified against the issuer's JWKS, and the claims go to the
 * route. Refusals answer as the project's Plug does (JwksVerify.Plug.Core): a JSON body
 * {"error": "<status phrase>", "details": "<details>"} and the RFC 6750 §3 challenge:
 *
 *   no Authorization header, or another scheme   401  WWW-Authenticate: Bearer
 *   "Bearer" without a token, or whitespace in it 400  Bearer error="invalid_request", ...
 *   a token that fails verification               401  Bearer error="invalid_token", ...
 *   the JWKS can't be had                         503  (no challenge: not the client's fault)
 *
 * decide() is the whole decision as a function of path and header, so it is tested without
 * a server; __invoke() only moves its answer into the response.
 */
final class BearerGuard
{
    /**
     * The stable details strings of the guard's table (jwks_verify_guard:reasons/0, which the
     * Plug uses), one per reason; parity.phpt holds them to it.
     */
    private const DETAILS = [
        'missing_token' => 'missing bearer token',
        'malformed_authorization' => 'malformed authorization header',
        'token_too_large' => 'token too large',
        'malformed_token' => 'malformed token',
        'bad_base64' => 'invalid base64url encoding',
        'bad_header' => 'invalid token header',
        'alg_none' => 'unsigned token',
        'unsupported_alg' => 'unsupported algorithm',
        'alg_not_allowed' => 'algorithm not allowed',
        'embedded_key' => 'embedded key not allowed',
        'unsupported_crit' => 'unsupported critical header',
        'invalid_typ' => 'invalid token type',
        'unknown_kid' => 'unknown key id',
        'ambiguous_kid' => 'ambiguous key id',
        'no_matching_key' => 'no matching key',
        'key_alg_mismatch' => 'key algorithm mismatch',
        'key_type_mismatch' => 'key type mismatch',
        'key_not_for_signing' => 'key not for signing',
        'private_key' => 'private key in jwks',
        'rsa_key_too_small' => 'rsa key too small',
        'weak_rsa_exponent' => 'weak rsa exponent',
        'roca_weak_key' => 'weak rsa key',
        'invalid_ec_point' => 'invalid ec point',
        'invalid_key' => 'invalid key',
        'unsupported_key' => 'unsupported key',
        'bad_signature_length' => 'invalid signature length',
        'signature_out_of_range' => 'signature out of range',
        'bad_signature' => 'invalid signature',
        'bad_payload' => 'invalid token payload',
        'invalid_claim' => 'invalid claim',
        'missing_claim' => 'missing claim',
        'expired' => 'token expired',
        'not_yet_valid' => 'token not yet valid',
        'issued_in_future' => 'token issued in the future',
        'invalid_issuer' => 'invalid issuer',
        'invalid_audience' => 'invalid audience',
        'jwks_too_large' => 'jwks too large',
        'bad_json' => 'jwks is not json',
        'bad_jwks' => 'invalid jwks',
        'too_many_keys' => 'too many keys in jwks',
        'jwks_unavailable' => 'jwks unavailable',
        'internal_error' => 'internal error',
    ];

    private const PHRASES = [400 => 'Bad Request', 401 => 'Unauthorized', 500 => 'Internal Server Error',
                             503 => 'Service Unavailable'];

    /**
     * @param array $options       JwksVerify\verify() options: always set iss and aud
     * @param list<string> $public paths served without a token, compared exactly
     */
    public function __construct(
        private readonly JwksSource $jwks,
        private readonly array $options,
        private readonly array $public = ['/public'],
    ) {
    }

    public function __invoke(Micro $app): bool
    {
        $d = $this->decide($app->path(), $app->header('Authorization'));
        if ($d['status'] === 200) {
            $app->claims = $d['claims'] ?? [];
            return true;
        }
        $app->json($d['status'], $d['body'], $d['headers']);
        return false;
    }

    /**
     * @return array{status: 200, claims?: array}|array{status: int, headers: array<string, string>, body: array}
     *         status 200 without claims for a public path
     */
    public function decide(string $path, ?string $authorization): array
    {
        // Exact paths ("/public" and "/public/"): "/public/../api/me" is not public.
        if (in_array($path, $this->public, true) || in_array(rtrim($path, '/'), $this->public, true)) {
            return ['status' => 200];
        }
        $token = self::bearer($authorization);
        if (!is_string($token['token'] ?? null)) {
            return $this->refuse($token['error']);
        }
        try {
            try {
                return ['status' => 200, 'claims' => verify($token['token'], $this->jwks->keySet(), $this->options)];
            } catch (VerificationException $e) {
                // A kid we don't know may be the issuer's new key: one refetch, rate-limited.
                if ($e->getReason() !== 'unknown_kid' || ($fresh = $this->jwks->refetch()) === null) {
                    throw $e;
                }
                return ['status' => 200, 'claims' => verify($token['token'], $fresh, $this->options)];
            }
        } catch (VerificationException $e) {
            return $this->refuse($e->getReason(), $e->getDetail());
        } catch (JwksUnavailable $e) {
            error_log("jwks: {$e->getMessage()}");
            return $this->refuse('jwks_unavailable');
        }
    }

    /**
     * RFC 6750 §2.1: scheme "Bearer" in any case, spaces, one token without whitespace.
     * Another scheme counts as no token (§3.1).
     *
     * @return array{token: string}|array{error: string}
     */
    private static function bearer(?string $header): array
    {
        $header = trim((string)$header, " \t");
        if ($header === '' || strncasecmp($header, 'bearer', 6) !== 0) {
            return ['error' => 'missing_token'];
        }
        if (strlen($header) === 6) {
            return ['error' => 'malformed_authorization'];
        }
        if ($header[6] !== ' ' && $header[6] !== "\t") {
            return ['error' => 'missing_token']; // "Bearerx ...": another scheme
        }
        $token = ltrim(substr($header, 7), " \t");
        return $token === '' || strpbrk($token, " \t") !== false
            ? ['error' => 'malformed_authorization'] : ['token' => $token];
    }

    private function refuse(string $reason, ?string $detail = null): array
    {
        $details = self::DETAILS[$reason] ?? 'invalid token';
        if ($detail !== null) {
            // The claim's name, restricted to what a quoted-string may hold.
            $details .= ': ' . preg_replace('/[^\x20-\x7e]|["\\\\]/', '?', $detail);
        }
        [$status, $challenge] = match ($reason) {
            'missing_token' => [401, 'Bearer'],
            'malformed_authorization' => [400, "Bearer error=\"invalid_request\", error_description=\"$details\""],
            'jwks_unavailable', 'jwks_too_large', 'bad_json', 'bad_jwks', 'too_many_keys' => [503, null],
            'internal_error' => [500, null],
            default => [401, "Bearer error=\"invalid_token\", error_description=\"$details\""],
        };
        return ['status' => $status, 'headers' => $challenge === null ? [] : ['WWW-Authenticate' => $challenge],
                'body' => ['error' => self::PHRASES[$status], 'details' => $details]];
    }
}
