/*
 * test_jv.c - guards c_src/jv.c and the JV_ERRORS list in jv.h: every code
 * has exactly its documented reason atom, the atoms are distinct and plain,
 * each constant is its atom in capitals (so JV_ERR_INVALID_TYP can only be
 * invalid_typ), and jv_result_clear leaves a result empty.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "jv.h"
#include "test_util.h"

static void
test_err_names(void)
{
    static const struct {
        jv_err e;
        const char *name;
    } names[] = {
        {JV_ERR_TOKEN_TOO_LARGE, "token_too_large"},
        {JV_ERR_MALFORMED_TOKEN, "malformed_token"},
        {JV_ERR_BAD_BASE64, "bad_base64"},
        {JV_ERR_BAD_HEADER, "bad_header"},
        {JV_ERR_ALG_NONE, "alg_none"},
        {JV_ERR_UNSUPPORTED_ALG, "unsupported_alg"},
        {JV_ERR_ALG_NOT_ALLOWED, "alg_not_allowed"},
        {JV_ERR_EMBEDDED_KEY, "embedded_key"},
        {JV_ERR_UNSUPPORTED_CRIT, "unsupported_crit"},
        {JV_ERR_INVALID_TYP, "invalid_typ"},
        {JV_ERR_UNKNOWN_KID, "unknown_kid"},
        {JV_ERR_AMBIGUOUS_KID, "ambiguous_kid"},
        {JV_ERR_NO_MATCHING_KEY, "no_matching_key"},
        {JV_ERR_KEY_ALG_MISMATCH, "key_alg_mismatch"},
        {JV_ERR_KEY_TYPE_MISMATCH, "key_type_mismatch"},
        {JV_ERR_KEY_NOT_FOR_SIGNING, "key_not_for_signing"},
        {JV_ERR_PRIVATE_KEY, "private_key"},
        {JV_ERR_RSA_KEY_TOO_SMALL, "rsa_key_too_small"},
        {JV_ERR_WEAK_RSA_EXPONENT, "weak_rsa_exponent"},
        {JV_ERR_ROCA_WEAK_KEY, "roca_weak_key"},
        {JV_ERR_INVALID_EC_POINT, "invalid_ec_point"},
        {JV_ERR_INVALID_KEY, "invalid_key"},
        {JV_ERR_UNSUPPORTED_KEY, "unsupported_key"},
        {JV_ERR_BAD_SIGNATURE_LENGTH, "bad_signature_length"},
        {JV_ERR_SIGNATURE_OUT_OF_RANGE, "signature_out_of_range"},
        {JV_ERR_BAD_SIGNATURE, "bad_signature"},
        {JV_ERR_BAD_PAYLOAD, "bad_payload"},
        {JV_ERR_INVALID_CLAIM, "invalid_claim"},
        {JV_ERR_MISSING_CLAIM, "missing_claim"},
        {JV_ERR_EXPIRED, "expired"},
        {JV_ERR_NOT_YET_VALID, "not_yet_valid"},
        {JV_ERR_ISSUED_IN_FUTURE, "issued_in_future"},
        {JV_ERR_INVALID_ISSUER, "invalid_issuer"},
        {JV_ERR_INVALID_AUDIENCE, "invalid_audience"},
        {JV_ERR_JWKS_TOO_LARGE, "jwks_too_large"},
        {JV_ERR_BAD_JSON, "bad_json"},
        {JV_ERR_BAD_JWKS, "bad_jwks"},
        {JV_ERR_TOO_MANY_KEYS, "too_many_keys"},
        {JV_ERR_INTERNAL_ERROR, "internal_error"},
    };

    tu_case("jv_err_name: the names jv.h documents");
    CHECK_INT(sizeof(names) / sizeof(names[0]), JV_ERR__COUNT - 1);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK_STR(jv_err_name(names[i].e), names[i].name);
    tu_case("jv_err_name: distinct atoms");
    for (int a = 1; a < JV_ERR__COUNT; a++) {
        const char *s = jv_err_name((jv_err)a);
        CHECK(s && *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s));
        for (int b = 1; b < a; b++)
            CHECK(strcmp(s, jv_err_name((jv_err)b)) != 0);
    }
    tu_case("jv_err_name: outside the enum");
    CHECK_STR(jv_err_name(JV_OK), "ok");
    CHECK_STR(jv_err_name(JV_ERR__COUNT), "internal_error");
    CHECK_STR(jv_err_name((jv_err)-1), "internal_error");
}

/* The constant's suffix, lowercased, is the atom. */
static void
check_constant(const char *constant, const char *atom, jv_err e)
{
    size_t n = strlen(constant);
    char *lower = tu_malloc(n + 1);

    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)constant[i]);
    tu_case("JV_ERR_%s", constant);
    CHECK_STR(lower, atom);
    CHECK_STR(jv_err_name(e), atom);
    free(lower);
}

static void
test_constants_are_atoms(void)
{
    int count = 0;

#define CHECK_CONSTANT(name, atom) check_constant(#name, #atom, JV_ERR_##name), count++;
    JV_ERRORS(CHECK_CONSTANT)
#undef CHECK_CONSTANT
    tu_case("JV_ERRORS covers the enum");
    CHECK_INT(count, JV_ERR__COUNT - 1);
    CHECK_INT(JV_OK, 0);
}

static void
test_result_clear(void)
{
    jv_result r;

    tu_case("jv_result_clear");
    memset(&r, 0, sizeof(r));
    jv_result_clear(&r); /* an empty result, as after an early failure */
    r.header = cJSON_CreateObject();
    r.claims = cJSON_CreateObject();
    r.payload = tu_malloc(4);
    r.payload_len = 4;
    r.detail = "exp";
    r.detail_len = 3;
    jv_result_clear(&r);
    CHECK(!r.header && !r.claims && !r.payload && !r.payload_len && !r.detail && !r.detail_len);
}

int
main(void)
{
    test_err_names();
    test_constants_are_atoms();
    test_result_clear();
    return tu_done();
}
