<?php

/**
 * The PHP API of the jwks_verify extension; jwks_verify_arginfo.h is made
 * from this file by `make php-stub` (PHP's build/gen_stub.php).
 *
 * @generate-class-entries
 */

namespace JwksVerify {
    /**
     * A parsed JWKS: immutable, made only by fromJwks().
     *
     * @strict-properties
     * @not-serializable
     */
    final class KeySet
    {
        private function __construct() {}

        /** Parses a JWKS document; the same document again reuses this worker's parsed set. */
        public static function fromJwks(string $json): KeySet {}

        /**
         * Each entry's kid, kty, alg and status ("ok" or why the key is refused).
         *
         * @return list<array{kid: ?string, kty: string, alg: ?string, status: string}>
         */
        public function info(): array {}
    }

    /** Untrusted input (a token, a JWKS document) was refused; getReason() says why. */
    class VerificationException extends \UnexpectedValueException
    {
        private string $reason = "";
        private ?string $detail = null;

        /** The reason name, as the Erlang API's atom: "expired", "bad_signature", ... */
        final public function getReason(): string {}

        /** The claim's name for invalid_claim and missing_claim, otherwise null. */
        final public function getDetail(): ?string {}
    }

    /** Verifies a compact JWT and returns its claims. */
    function verify(string $jwt, KeySet $keys, array $options = []): array {}

    /**
     * Verifies a compact JWS without reading its payload as claims.
     *
     * @return array{header: array, payload: string}
     */
    function verify_jws(string $jws, KeySet $keys, array $options = []): array {}
}
