/*
 * jv.h - the public API of the jwks_verify C core.
 *
 * Plain C11 over OpenSSL 3 (libcrypto) and cJSON; nothing here knows about
 * Erlang, so the core can be unit-tested, fuzzed and reused on its own.
 * Every fallible function returns a jv_err (JV_OK is 0); each code maps to
 * exactly one documented reason atom in nif.c.
 */
#ifndef JV_H
#define JV_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef enum jv_err {
    JV_OK = 0,
    /* token shape and header */
    JV_ERR_TOKEN_TOO_LARGE,  /* token_too_large */
    JV_ERR_MALFORMED,        /* malformed_token: not three segments */
    JV_ERR_BAD_BASE64,       /* bad_base64 */
    JV_ERR_BAD_HEADER,       /* bad_header */
    JV_ERR_ALG_NONE,         /* alg_none */
    JV_ERR_UNSUPPORTED_ALG,  /* unsupported_alg */
    JV_ERR_ALG_NOT_ALLOWED,  /* alg_not_allowed */
    JV_ERR_EMBEDDED_KEY,     /* embedded_key */
    JV_ERR_UNSUPPORTED_CRIT, /* unsupported_crit */
    JV_ERR_TYP,              /* invalid_typ */
    /* key selection and key checks */
    JV_ERR_UNKNOWN_KID,       /* unknown_kid */
    JV_ERR_AMBIGUOUS_KID,     /* ambiguous_kid: several keys share the kid */
    JV_ERR_NO_MATCHING_KEY,   /* no_matching_key */
    JV_ERR_KEY_ALG_MISMATCH,  /* key_alg_mismatch */
    JV_ERR_KEY_TYPE_MISMATCH, /* key_type_mismatch */
    JV_ERR_KEY_USE,           /* key_not_for_signing */
    JV_ERR_RSA_KEY_TOO_SMALL, /* rsa_key_too_small */
    JV_ERR_RSA_EXPONENT,      /* weak_rsa_exponent */
    JV_ERR_RSA_ROCA,          /* roca_weak_key */
    JV_ERR_EC_POINT,          /* invalid_ec_point */
    JV_ERR_BAD_KEY,           /* invalid_key */
    JV_ERR_UNSUPPORTED_KEY,   /* unsupported_key */
    /* signature */
    JV_ERR_SIG_LENGTH,    /* bad_signature_length */
    JV_ERR_SIG_RANGE,     /* signature_out_of_range */
    JV_ERR_BAD_SIGNATURE, /* bad_signature */
    /* payload and claims */
    JV_ERR_BAD_PAYLOAD,      /* bad_payload */
    JV_ERR_BAD_CLAIM,        /* {invalid_claim, Name} */
    JV_ERR_MISSING_CLAIM,    /* {missing_claim, Name} */
    JV_ERR_EXPIRED,          /* expired */
    JV_ERR_NOT_YET_VALID,    /* not_yet_valid */
    JV_ERR_ISSUED_IN_FUTURE, /* issued_in_future */
    JV_ERR_ISSUER,           /* invalid_issuer */
    JV_ERR_AUDIENCE,         /* invalid_audience */
    /* key set documents */
    JV_ERR_JWKS_TOO_LARGE, /* jwks_too_large */
    JV_ERR_BAD_JSON,       /* bad_json */
    JV_ERR_BAD_JWKS,       /* bad_jwks */
    JV_ERR_TOO_MANY_KEYS,  /* too_many_keys */
    JV_ERR_INTERNAL,       /* internal_error */
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
    const jv_str *aud; /* accepted audiences; n_aud == 0: not checked */
    size_t n_aud;
    const jv_str *required; /* claims that must be present */
    size_t n_required;
    const jv_str *typ;      /* NULL: typ not checked */
    size_t max_token_bytes; /* 0: JV_MAX_TOKEN_BYTES_DEFAULT */
} jv_opts;

typedef struct jv_keyset jv_keyset;

/* What verification hands back. header and claims are cJSON trees whose
 * number nodes carry their source text in valuestring (see json.h), so the
 * caller can convert integers exactly. detail names the claim for
 * BAD_CLAIM/MISSING_CLAIM (borrowed from opts or static storage) and the
 * token's kid for UNKNOWN_KID (borrowed from header; NULL without a kid). */
typedef struct jv_result {
    cJSON *header;
    cJSON *claims; /* jv_jwt_verify only */
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
/* Frees what a verify put in out (also after a failure). */
void jv_result_clear(jv_result *out);

/* Algorithm name <-> JV_ALG_*; -1 when unknown. */
int jv_alg_from_name(const uint8_t *p, size_t len);
const char *jv_alg_name(int alg);
/* The reason atom's text for a code (nif.c, tests and docs share it). */
const char *jv_err_name(jv_err e);

#endif
