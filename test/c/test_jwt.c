/*
 * test_jwt.c - guards c_src/jwt.c: a JWT is a JWS whose payload is one JSON
 * object of claims.
 *
 * The payload is trusted only once its signature is good (RFC 8725 §3.10):
 * a bad signature is reported as such whatever the payload holds. Then the
 * payload must be one object under the JSON layer's strict rules (the
 * header too, for both paths: a number beyond a double is bad in either),
 * and the claims are checked: the tree, with exact integers, and the detail
 * of a failing claim reach the caller. Tokens are signed by OpenSSL (Ed25519).
 */
#include <stdio.h>
#include <stdlib.h>

#include "jwt.h"
#include "test_util.h"

#define NOW 1700000000

static EVP_PKEY *ed, *ed_other;
static jv_keyset *ks;

static jv_str
str(const char *s)
{
    jv_str v = {(const uint8_t *)s, strlen(s)};
    return v;
}

/* A JWT of the claims text, signed by OpenSSL with Ed25519. */
static char *
jwt(const char *claims, const char *header_extra)
{
    char *h = tu_fmt("{\"alg\":\"EdDSA\",\"kid\":\"ed\"%s%s}", header_extra ? "," : "",
                     header_extra ? header_extra : "");
    char *t = tu_token(ed, JV_ALG_EDDSA, h, claims);

    free(h);
    return t;
}

/* Through jv_jwt_verify: the claims tree, exact integers, the detail. */
static void
test_end_to_end(void)
{
    jv_opts o = tu_opts(JV_ALG_BIT(JV_ALG_EDDSA), NOW);
    jv_result r;
    char *tok;
    jv_err rc;

    tu_case("claims tree");
    tok = jwt("{\"iss\":\"me\",\"exp\":9223372036854775807,\"big\":9007199254740993,"
              "\"neg\":-9223372036854775808,\"f\":1.5,\"t\":true,\"n\":null,"
              "\"obj\":{\"arr\":[1,\"two\",{\"three\":3}]}}",
              NULL);
    memset(&r, 0, sizeof(r));
    rc = jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r);
    CHECK_ERR(rc, JV_OK);
    if (rc == JV_OK && cJSON_IsObject(r.claims)) {
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(r.claims, "exp");
        const cJSON *big = cJSON_GetObjectItemCaseSensitive(r.claims, "big");
        const cJSON *neg = cJSON_GetObjectItemCaseSensitive(r.claims, "neg");
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(r.claims, "obj");
        int64_t v = 0;
        CHECK(cJSON_IsNumber(exp) && jv_json_int64(exp, &v) == JV_NUM_INT && v == INT64_MAX);
        CHECK(cJSON_IsNumber(big) && jv_json_int64(big, &v) == JV_NUM_INT &&
              v == 9007199254740993LL);
        CHECK_STR(big->valuestring, "9007199254740993");
        CHECK(cJSON_IsNumber(neg) && jv_json_int64(neg, &v) == JV_NUM_INT && v == INT64_MIN);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.claims, "t")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.claims, "n")));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "arr")) == 3);
        CHECK(r.header != NULL);
    }
    jv_result_clear(&r);
    free(tok);

    /* The detail survives into the result. */
    tu_case("detail through jv_jwt_verify");
    {
        static const char *bad[] = {"{\"exp\":\"123\"}", "{\"exp\":1.5}", "{\"exp\":1e300}",
                                    "{\"exp\":9223372036854775808}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            tok = jwt(bad[i], NULL);
            memset(&r, 0, sizeof(r));
            tu_case("jwt %s", bad[i]);
            CHECK_ERR(jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r),
                      JV_ERR_INVALID_CLAIM);
            CHECK_STRN(r.detail, r.detail_len, "exp");
            jv_result_clear(&r);
            free(tok);
        }
    }
    {
        jv_str req = str("sub");
        o.required = &req;
        o.n_required = 1;
        tok = jwt("{\"exp\":1700000100}", NULL);
        memset(&r, 0, sizeof(r));
        tu_case("jwt missing sub");
        CHECK_ERR(jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r),
                  JV_ERR_MISSING_CLAIM);
        CHECK_STRN(r.detail, r.detail_len, "sub");
        jv_result_clear(&r);
        free(tok);
        o.n_required = 0;
    }
    tu_case("jwt expired, with and without leeway");
    tok = jwt("{\"exp\":1699999990}", NULL);
    CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_EXPIRED);
    o.leeway = 10;
    CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_EXPIRED);
    o.leeway = 11;
    CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_OK);
    o.leeway = 0;
    free(tok);

    /* The payload of a JWT is one JSON object, parsed strictly. */
    tu_case("payloads that are no claims set");
    {
        static const char *bad[] = {"",
                                    "[]",
                                    "\"s\"",
                                    "123",
                                    "null",
                                    "true",
                                    "not json",
                                    "{\"a\":1",
                                    "{\"a\":1}x",
                                    "{\"a\":1,\"a\":2}",
                                    "{\"sub\":\"x\",\"\\u0073ub\":\"y\"}",
                                    "{\"x\":{\"y\":1,\"y\":1}}",
                                    "{\"sub\":\"a\\u0000b\"}",
                                    "{\"sub\":\"\xff\"}",
                                    "{\"sub\":\"\xc0\x80\"}",
                                    "{\"sub\":\"\\udc00\"}",
                                    "{\"n\":01}",
                                    "{\"exp\":1e400}",
                                    "{\"iat\":-1e400}",
                                    "{\"x\":[1,{\"y\":1e999}]}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            tu_case("payload %s", bad[i]);
            tok = jwt(bad[i], NULL);
            CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_BAD_PAYLOAD);
            /* the same payload is a fine JWS */
            CHECK_ERR(tu_verify(ks, tok, &o), JV_OK);
            free(tok);
        }
    }
    /* One answer from both paths: the JSON layer refuses what no double
     * holds, so the header is bad for a JWT and a JWS alike. */
    tu_case("a number beyond a double in the header");
    {
        static const char *extra[] = {"\"x\":1e999", "\"x\":[-1e400]", "\"x\":{\"y\":2e308}"};
        for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
            tu_case("header %s", extra[i]);
            tok = jwt("{\"sub\":\"x\"}", extra[i]);
            CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_BAD_HEADER);
            CHECK_ERR(tu_verify(ks, tok, &o), JV_ERR_BAD_HEADER);
            free(tok);
        }
        tok = jwt("{\"sub\":\"x\"}", "\"x\":1e308");
        CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_OK);
        free(tok);
    }
    tu_case("claims nested past the limit");
    {
        size_t depth = 10000;
        char *p = tu_malloc(2 * depth + 16), *q = p;
        q += sprintf(q, "{\"a\":");
        memset(q, '[', depth);
        memset(q + depth, ']', depth);
        sprintf(q + 2 * depth, "}");
        tok = jwt(p, NULL);
        CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_BAD_PAYLOAD);
        free(tok);
        free(p);
    }
    tu_case("raw NUL in a claim");
    {
        static const char p[] = "{\"iss\":\"me\0evil\"}";
        static const char h[] = "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}";
        jv_str iss = str("me");
        o.iss = &iss;
        o.n_iss = 1;
        tok = tu_token_n(ed, JV_ALG_EDDSA, (const uint8_t *)h, strlen(h), (const uint8_t *)p,
                         sizeof(p) - 1);
        CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_ERR_BAD_PAYLOAD);
        free(tok);
        o.n_iss = 0;
    }
}

/* The signature before anything in the payload (RFC 8725 §3.10). */
static void
test_signature_first(void)
{
    static const char *payloads[] = {"not json", "[]", "{\"exp\":1}", "{\"exp\":\"x\"}"};
    static const char h[] = "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}";
    jv_opts o = tu_opts(JV_ALG_BIT(JV_ALG_EDDSA), NOW);

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *tok = tu_token(ed_other, JV_ALG_EDDSA, h, payloads[i]);
        jv_result r;
        tu_case("payload %s signed by another key", payloads[i]);
        CHECK_ERR(jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r),
                  JV_ERR_BAD_SIGNATURE);
        CHECK(r.claims == NULL);
        jv_result_clear(&r);
        free(tok);
    }
    tu_case("unknown kid: named, payload not parsed");
    {
        static const char hk[] = "{\"alg\":\"EdDSA\",\"kid\":\"gone\"}";
        char *tok = tu_token(ed, JV_ALG_EDDSA, hk, "not json");
        jv_result r;
        CHECK_ERR(jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r), JV_ERR_UNKNOWN_KID);
        CHECK_STRN(r.detail, r.detail_len, "gone");
        CHECK(r.claims == NULL);
        jv_result_clear(&r);
        free(tok);
    }
}

int
main(void)
{
    char *jwk, *doc;

    ed = tu_ed25519_key();
    ed_other = tu_ed25519_key();
    jwk = tu_jwk(ed, "\"kid\":\"ed\"");
    doc = tu_jwks(jwk, NULL);
    ks = tu_keyset(doc);
    free(doc);
    free(jwk);
    if (!ks)
        return tu_done();

    test_end_to_end();
    test_signature_first();

    jv_keyset_free(ks);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ed_other);
    return tu_done();
}
