<?php

/**
 * The PHP API of the jwks_verify extension; jwks_verify_arginfo.h is made
 * from this file by `make php-stub` (PHP's build/gen_stub.php).
 *
 * @generate-class-entries
 */

namespace JwksVerify {
    /*
     * const ANY_AUDIENCE: string, registered in MINIT (jwks_verify.c), since its
     * value starts with a NUL byte, which gen_stub's registration would cut off.
     * As 'aud' => ANY_AUDIENCE it turns the audience check off (unsafe, RFC 8725
     * §3.9); no token can carry the value, so it never stands for an audience.
     */

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

    /**
     * UNVERIFIED: decodes a token's header and claims and checks nothing else
     * (no key, no signature, no alg, no claim). Never for an authorization
     * decision: anyone can forge what it returns. The only option is max_token_bytes.
     *
     * @return array{header: array, claims: array}
     */
    function peek_unverified(string $jwt, array $options = []): array {}

    /**
     * Every reason the core gives, in its order, with the exception's message.
     *
     * @return array<string, string>
     */
    function reasons(): array {}
}
