/*
 * jv.h - the public API of the jwks_verify C core.
 *
 * Plain C11 over OpenSSL 3 (libcrypto) and cJSON; nothing here knows about
 * Erlang, so the core can be unit-tested, fuzzed and reused on its own.
 * Every fallible function returns a jv_err (JV_OK is 0); each code maps to
 * exactly one documented reason atom (JV_ERRORS below).
 */
#ifndef JV_H
#define JV_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The one list of error codes: X(CONSTANT, atom), each constant named after
 * its reason atom (JV_ERR_INVALID_TYP is invalid_typ). The jv_err enum, the
 * jv_err_name() table and nif.c's atoms all expand it, so they cannot drift
 * apart. Its order is that of jwks_verify:reasons(), which the Erlang tests
 * hold against the documented reasons. */
#define JV_ERRORS(X)                                                                               \
    /* token shape and header */                                                                   \
    X(TOKEN_TOO_LARGE, token_too_large)                                                            \
    X(MALFORMED_TOKEN, malformed_token) /* not three segments */                                   \
    X(BAD_BASE64, bad_base64)                                                                      \
    X(BAD_HEADER, bad_header)                                                                      \
    X(ALG_NONE, alg_none)                                                                          \
    X(UNSUPPORTED_ALG, unsupported_alg)                                                            \
    X(ALG_NOT_ALLOWED, alg_not_allowed)                                                            \
    X(EMBEDDED_KEY, embedded_key)                                                                  \
    X(UNSUPPORTED_CRIT, unsupported_crit)                                                          \
    X(INVALID_TYP, invalid_typ)                                                                    \
    /* key selection and key checks */                                                             \
    X(UNKNOWN_KID, unknown_kid)     /* {unknown_kid, Kid} when the token names one */              \
    X(AMBIGUOUS_KID, ambiguous_kid) /* several signing keys share the kid and fit the alg */       \
    X(NO_MATCHING_KEY, no_matching_key)                                                            \
    X(KEY_ALG_MISMATCH, key_alg_mismatch)                                                          \
    X(KEY_TYPE_MISMATCH, key_type_mismatch)                                                        \
    X(KEY_NOT_FOR_SIGNING, key_not_for_signing)                                                    \
    X(PRIVATE_KEY, private_key) /* the JWK carries private members: the issuer leaked it */        \
    X(RSA_KEY_TOO_SMALL, rsa_key_too_small)                                                        \
    X(WEAK_RSA_EXPONENT, weak_rsa_exponent)                                                        \
    X(ROCA_WEAK_KEY, roca_weak_key)                                                                \
    X(INVALID_EC_POINT, invalid_ec_point)                                                          \
    X(INVALID_KEY, invalid_key)                                                                    \
    X(UNSUPPORTED_KEY, unsupported_key)                                                            \
    /* signature */                                                                                \
    X(BAD_SIGNATURE_LENGTH, bad_signature_length)                                                  \
    X(SIGNATURE_OUT_OF_RANGE, signature_out_of_range)                                              \
    X(BAD_SIGNATURE, bad_signature)                                                                \
    /* payload and claims */                                                                       \
    X(BAD_PAYLOAD, bad_payload)                                                                    \
    X(INVALID_CLAIM, invalid_claim) /* {invalid_claim, Name} */                                    \
    X(MISSING_CLAIM, missing_claim) /* {missing_claim, Name} */                                    \
    X(EXPIRED, expired)                                                                            \
    X(NOT_YET_VALID, not_yet_valid)                                                                \
    X(ISSUED_IN_FUTURE, issued_in_future)                                                          \
    X(INVALID_ISSUER, invalid_issuer)                                                              \
    X(INVALID_AUDIENCE, invalid_audience)                                                          \
    /* key set documents */                                                                        \
    X(JWKS_TOO_LARGE, jwks_too_large)                                                              \
    X(BAD_JSON, bad_json)                                                                          \
    X(BAD_JWKS, bad_jwks)                                                                          \
    X(TOO_MANY_KEYS, too_many_keys)                                                                \
    X(INTERNAL_ERROR, internal_error)

typedef enum jv_err {
    JV_OK = 0,
#define JV_ERR_ENUM_(name, atom) JV_ERR_##name,
    JV_ERRORS(JV_ERR_ENUM_)
#undef JV_ERR_ENUM_
        JV_ERR__COUNT
} jv_err;

/* Algorithms, as bits of jv_opts.algs. */
enum {
    JV_ALG_RS256 = 0,
    JV_ALG_RS384,
    JV_ALG_RS512,
    JV_ALG_PS256,
    JV_ALG_PS384,
    JV_ALG_PS512,
    JV_ALG_ES256,
    JV_ALG_ES384,
    JV_ALG_ES512,
    JV_ALG_EDDSA,
    JV_ALG__COUNT
};
#define JV_ALG_BIT(a) (1u << (a))

#define JV_MAX_TOKEN_BYTES_DEFAULT 32768u
#define JV_MAX_JWKS_BYTES (4u * 1024u * 1024u)
#define JV_MAX_KEYS 10000u
#define JV_MAX_JSON_DEPTH 32
/* Without a kid, at most this many fitting keys are tried (RFC 8725 §3.1
 * leaves key choice to us; a bound keeps a forged token's cost fixed). */
#define JV_MAX_KEY_TRIES 4

/* A borrowed byte string. */
typedef struct jv_str {
    const uint8_t *p;
    size_t len;
} jv_str;

typedef struct jv_opts {
    uint32_t algs;     /* JV_ALG_BIT mask; 0 means RS256 only */
    int64_t now;       /* seconds since the epoch */
    int64_t leeway;    /* seconds, >= 0 */
    const jv_str *iss; /* accepted issuers; n_iss == 0: not checked */
    size_t n_iss;
    /* Accepted audiences. With n_aud == 0, a token that carries aud is
     * refused (RFC 7519 §4.1.3: it names someone, not us) unless aud_any is
     * set. */
    const jv_str *aud;
    size_t n_aud;
    const jv_str *required; /* claims that must be present */
    size_t n_required;
    const jv_str *typ;      /* NULL: typ not checked */
    size_t max_token_bytes; /* 0: JV_MAX_TOKEN_BYTES_DEFAULT */
    /* Nonzero: with n_aud == 0, the token's aud is not checked at all. Unsafe
     * (RFC 8725 §3.9: a token for another service would pass); zero, as in
     * zeroed options, is the safe default. */
    int aud_any;
} jv_opts;

typedef struct jv_keyset jv_keyset;

/* What verification hands back. header and claims are cJSON trees whose
 * number nodes keep their source text (jv_json_number_text), so the caller
 * can convert integers exactly. detail names the claim for
 * INVALID_CLAIM/MISSING_CLAIM (borrowed from opts or static storage) and the
 * token's kid for UNKNOWN_KID (borrowed from header; NULL without a kid).
 * jv_token_peek fills header, payload and claims. */
typedef struct jv_result {
    cJSON *header;
    cJSON *claims; /* jv_jwt_verify and jv_token_peek only */
    uint8_t *payload;
    size_t payload_len;
    const char *detail;
    size_t detail_len;
} jv_result;

/* Key sets: parsed once, immutable afterwards, safe to share among threads. */
jv_err jv_keyset_parse(const uint8_t *json, size_t len, jv_keyset **out);
void jv_keyset_free(jv_keyset *ks);
/* True when some key is costly to use (RSA over 4096 bits): callers with a
 * time budget (the NIF's normal schedulers) should verify elsewhere. */
int jv_keyset_heavy(const jv_keyset *ks);
/* Number of entries (usable and refused keys alike). */
size_t jv_keyset_size(const jv_keyset *ks);
/* Entry i: its kid (NULL when absent), kty and alg names (alg NULL when
 * absent), and JV_OK when usable or the reason it was refused. */
jv_err jv_keyset_entry(const jv_keyset *ks, size_t i, jv_str *kid, const char **kty,
                       const char **alg);

/* Verifies a compact JWS; on success out->header and out->payload are set. */
jv_err jv_jws_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
                     jv_result *out);
/* jv_jws_verify, then the payload as JWT claims (RFC 7519) checked per opts. */
jv_err jv_jwt_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
                     jv_result *out);
/* NOT a verification: decodes a compact token's header and payload and
 * checks nothing else (no key, no signature, no alg, no claim). Only the
 * size limit (max_token_bytes, 0: JV_MAX_TOKEN_BYTES_DEFAULT), the three
 * segments, strict base64url (the signature's too) and the JSON layer of a
 * verify apply; on success out->header and out->claims are JSON objects.
 * For logging and for choosing a key set before verifying; never for an
 * authorization decision, as anyone can forge what it returns. */
jv_err jv_token_peek(const uint8_t *tok, size_t len, size_t max_token_bytes, jv_result *out);
/* Frees what a verify or a peek put in out (also after a failure). */
void jv_result_clear(jv_result *out);

/* Algorithm name <-> JV_ALG_*; -1 when unknown. */
int jv_alg_from_name(const uint8_t *p, size_t len);
const char *jv_alg_name(int alg);
/* The reason atom's text for a code ("ok" for JV_OK; "internal_error" for
 * a value outside the enum). */
const char *jv_err_name(jv_err e);

/* Numbers in the trees a verify hands back. cJSON keeps only a double, so
 * the JSON layer keeps each number's source text beside it: integers beyond
 * 2^53 (and beyond int64) come out exact from that text. */
typedef enum { JV_NUM_INT, JV_NUM_NOT_INTEGER, JV_NUM_OUT_OF_RANGE } jv_num_kind;

/* An integer node's exact value, from its source text. */
jv_num_kind jv_json_int64(const cJSON *n, int64_t *out);

/* The number's source text (NUL-terminated), as RFC 8259 §6 spells it. */
const char *jv_json_number_text(const cJSON *n);

#endif
