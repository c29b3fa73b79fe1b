#include "jv.h"

/* The one list of reasons: nif.c makes its atoms from these names, and the
 * Erlang, Elixir and README tables are checked against it by the tests. */
static const char *const err_names[JV_ERR__COUNT] = {
    [JV_OK] = "ok",
    [JV_ERR_TOKEN_TOO_LARGE] = "token_too_large",
    [JV_ERR_MALFORMED] = "malformed_token",
    [JV_ERR_BAD_BASE64] = "bad_base64",
    [JV_ERR_BAD_HEADER] = "bad_header",
    [JV_ERR_ALG_NONE] = "alg_none",
    [JV_ERR_UNSUPPORTED_ALG] = "unsupported_alg",
    [JV_ERR_ALG_NOT_ALLOWED] = "alg_not_allowed",
    [JV_ERR_EMBEDDED_KEY] = "embedded_key",
    [JV_ERR_UNSUPPORTED_CRIT] = "unsupported_crit",
    [JV_ERR_TYP] = "invalid_typ",
    [JV_ERR_UNKNOWN_KID] = "unknown_kid",
    [JV_ERR_AMBIGUOUS_KID] = "ambiguous_kid",
    [JV_ERR_NO_MATCHING_KEY] = "no_matching_key",
    [JV_ERR_KEY_ALG_MISMATCH] = "key_alg_mismatch",
    [JV_ERR_KEY_TYPE_MISMATCH] = "key_type_mismatch",
    [JV_ERR_KEY_USE] = "key_not_for_signing",
    [JV_ERR_RSA_KEY_TOO_SMALL] = "rsa_key_too_small",
    [JV_ERR_RSA_EXPONENT] = "weak_rsa_exponent",
    [JV_ERR_RSA_ROCA] = "roca_weak_key",
    [JV_ERR_EC_POINT] = "invalid_ec_point",
    [JV_ERR_BAD_KEY] = "invalid_key",
    [JV_ERR_UNSUPPORTED_KEY] = "unsupported_key",
    [JV_ERR_SIG_LENGTH] = "bad_signature_length",
    [JV_ERR_SIG_RANGE] = "signature_out_of_range",
    [JV_ERR_BAD_SIGNATURE] = "bad_signature",
    [JV_ERR_BAD_PAYLOAD] = "bad_payload",
    [JV_ERR_BAD_CLAIM] = "invalid_claim",
    [JV_ERR_MISSING_CLAIM] = "missing_claim",
    [JV_ERR_EXPIRED] = "expired",
    [JV_ERR_NOT_YET_VALID] = "not_yet_valid",
    [JV_ERR_ISSUED_IN_FUTURE] = "issued_in_future",
    [JV_ERR_ISSUER] = "invalid_issuer",
    [JV_ERR_AUDIENCE] = "invalid_audience",
    [JV_ERR_JWKS_TOO_LARGE] = "jwks_too_large",
    [JV_ERR_BAD_JSON] = "bad_json",
    [JV_ERR_BAD_JWKS] = "bad_jwks",
    [JV_ERR_TOO_MANY_KEYS] = "too_many_keys",
    [JV_ERR_INTERNAL] = "internal_error",
};

const char *
jv_err_name(jv_err e)
{
    return (unsigned)e < JV_ERR__COUNT && err_names[e] ? err_names[e] : "internal_error";
}
