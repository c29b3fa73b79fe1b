/*
 * test_claims.c - guards c_src/claims.c: JWT claims (RFC 7519 §4.1).
 *
 * exp, nbf and iat are integers read exactly from their text, checked with
 * leeway at the boundaries RFC 7519 sets (exp: now must be before it; nbf:
 * now may equal it); anything else in them (1.5, "123", 1e300, 2^63, true)
 * is an invalid claim, never a rounded date (1e400 never gets here: the
 * JSON layer refuses it, and a payload holding it is bad_payload). iss matches one of a list
 * exactly, aud as a string or an array (a token with aud refused when no
 * audience is set, unless aud_any), required claims must be present,
 * and typ is checked when asked (signed with OpenSSL's Ed25519, through
 * jv_jwt_verify; the rest of that path is test_jwt.c's).
 */
#include <stdio.h>
#include <stdlib.h>

#include "claims.h"
#include "json.h"
#include "test_util.h"

#define NOW 1700000000

static EVP_PKEY *ed;
static jv_keyset *ks;

static jv_str
str(const char *s)
{
    jv_str v = {(const uint8_t *)s, strlen(s)};
    return v;
}

/* jv_claims_check on a claims text; the detail, when there is one, must be
 * want_detail (or NULL for none expected). */
static jv_err
check_claims(const char *claims, const jv_opts *o, const char *want_detail)
{
    cJSON *c = NULL;
    const char *detail = NULL;
    size_t detail_len = 0;
    jv_err rc;

    if (jv_json_parse((const uint8_t *)claims, strlen(claims), &c) != JV_OK) {
        tu_check(0, __FILE__, __LINE__, "claims do not parse: %s", claims);
        return JV_ERR__COUNT;
    }
    rc = jv_claims_check(c, o, &detail, &detail_len);
    if (want_detail)
        CHECK_STRN(detail, detail_len, want_detail);
    cJSON_Delete(c);
    return rc;
}

#define CHECK_CLAIMS(claims, o, want) CHECK_ERR(check_claims((claims), (o), NULL), want)
#define CHECK_CLAIMS_D(claims, o, want, detail)                                                    \
    CHECK_ERR(check_claims((claims), (o), (detail)), want)

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

static void
test_exp(void)
{
    jv_opts o = tu_opts(0, NOW);

    /* RFC 7519 §4.1.4: now must be before exp. */
    tu_case("exp");
    CHECK_CLAIMS("{\"exp\":1700000001}", &o, JV_OK);
    CHECK_CLAIMS("{\"exp\":1700000000}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"exp\":1699999999}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"exp\":0}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"exp\":-1}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"exp\":9223372036854775807}", &o, JV_OK);
    CHECK_CLAIMS("{\"exp\":-9223372036854775808}", &o, JV_ERR_EXPIRED);
    tu_case("exp with leeway 60");
    o.leeway = 60;
    CHECK_CLAIMS("{\"exp\":1699999941}", &o, JV_OK);
    CHECK_CLAIMS("{\"exp\":1699999940}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"exp\":9223372036854775807}", &o, JV_OK);
    CHECK_CLAIMS("{\"exp\":-9223372036854775808}", &o, JV_ERR_EXPIRED);
    tu_case("no exp, not required");
    CHECK_CLAIMS("{}", &o, JV_OK);
}

static void
test_nbf(void)
{
    jv_opts o = tu_opts(0, NOW);

    /* RFC 7519 §4.1.5: now may equal nbf. */
    tu_case("nbf");
    CHECK_CLAIMS("{\"nbf\":1700000000}", &o, JV_OK);
    CHECK_CLAIMS("{\"nbf\":1699999999}", &o, JV_OK);
    CHECK_CLAIMS("{\"nbf\":1700000001}", &o, JV_ERR_NOT_YET_VALID);
    CHECK_CLAIMS("{\"nbf\":9223372036854775807}", &o, JV_ERR_NOT_YET_VALID);
    CHECK_CLAIMS("{\"nbf\":-9223372036854775808}", &o, JV_OK);
    tu_case("nbf with leeway 60");
    o.leeway = 60;
    CHECK_CLAIMS("{\"nbf\":1700000060}", &o, JV_OK);
    CHECK_CLAIMS("{\"nbf\":1700000061}", &o, JV_ERR_NOT_YET_VALID);
    CHECK_CLAIMS("{\"nbf\":9223372036854775807}", &o, JV_ERR_NOT_YET_VALID);
}

static void
test_iat(void)
{
    jv_opts o = tu_opts(0, NOW);

    tu_case("iat");
    CHECK_CLAIMS("{\"iat\":1700000000}", &o, JV_OK);
    CHECK_CLAIMS("{\"iat\":0}", &o, JV_OK);
    CHECK_CLAIMS("{\"iat\":-9223372036854775808}", &o, JV_OK);
    CHECK_CLAIMS("{\"iat\":1700000001}", &o, JV_ERR_ISSUED_IN_FUTURE);
    CHECK_CLAIMS("{\"iat\":9223372036854775807}", &o, JV_ERR_ISSUED_IN_FUTURE);
    tu_case("iat with leeway 60");
    o.leeway = 60;
    CHECK_CLAIMS("{\"iat\":1700000060}", &o, JV_OK);
    CHECK_CLAIMS("{\"iat\":1700000061}", &o, JV_ERR_ISSUED_IN_FUTURE);
}

/* All three together, each the only fault. */
static void
test_dates_together(void)
{
    jv_opts o = tu_opts(0, NOW);

    tu_case("exp, nbf and iat together");
    CHECK_CLAIMS("{\"iat\":1699999000,\"nbf\":1699999000,\"exp\":1700001000}", &o, JV_OK);
    CHECK_CLAIMS("{\"iat\":1699999000,\"nbf\":1699999000,\"exp\":1699999500}", &o, JV_ERR_EXPIRED);
    CHECK_CLAIMS("{\"iat\":1699999000,\"nbf\":1700000500,\"exp\":1700001000}", &o,
                 JV_ERR_NOT_YET_VALID);
    CHECK_CLAIMS("{\"iat\":1700000500,\"nbf\":1699999000,\"exp\":1700001000}", &o,
                 JV_ERR_ISSUED_IN_FUTURE);
}

/* Anything but an int64 integer in a date is an invalid claim, named. */
static void
test_bad_dates(void)
{
    static const char *names[] = {"exp", "nbf", "iat"};
    static const char *values[] = {"1.5",
                                   "1700000000.5",
                                   "\"123\"",
                                   "\"1700000001\"",
                                   "1e300",
                                   "-1e300",
                                   "9223372036854775808",
                                   "-9223372036854775809",
                                   "18446744073709551616",
                                   "100000000000000000000000000000",
                                   "true",
                                   "false",
                                   "null",
                                   "[]",
                                   "[1700000001]",
                                   "{}",
                                   "\"\""};
    jv_opts o = tu_opts(0, NOW);

    for (size_t n = 0; n < 3; n++)
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            char *c = tu_fmt("{\"%s\":%s}", names[n], values[v]);
            tu_case("%s", c);
            CHECK_CLAIMS_D(c, &o, JV_ERR_INVALID_CLAIM, names[n]);
            free(c);
        }
}

static void
test_required(void)
{
    jv_opts o = tu_opts(0, NOW);
    jv_str req[3];
    static const char subject[] = "subject";

    tu_case("required claims");
    req[0] = str("exp");
    req[1] = str("sub");
    o.required = req;
    o.n_required = 2;
    CHECK_CLAIMS("{\"exp\":1700000100,\"sub\":\"x\"}", &o, JV_OK);
    CHECK_CLAIMS_D("{\"sub\":\"x\"}", &o, JV_ERR_MISSING_CLAIM, "exp");
    CHECK_CLAIMS_D("{\"exp\":1700000100}", &o, JV_ERR_MISSING_CLAIM, "sub");
    CHECK_CLAIMS_D("{\"exp\":1700000100,\"Sub\":\"x\"}", &o, JV_ERR_MISSING_CLAIM, "sub");
    CHECK_CLAIMS_D("{\"exp\":1700000100,\"su\":\"x\"}", &o, JV_ERR_MISSING_CLAIM, "sub");
    CHECK_CLAIMS_D("{\"exp\":1700000100,\"subx\":\"x\"}", &o, JV_ERR_MISSING_CLAIM, "sub");
    /* present is present, whatever the value, for a private claim */
    CHECK_CLAIMS("{\"exp\":1700000100,\"sub\":\"x\",\"tenant\":null}", &o, JV_OK);
    /* but a registered claim has its RFC 7519 §4.1 type */
    CHECK_CLAIMS_D("{\"exp\":1700000100,\"sub\":null}", &o, JV_ERR_INVALID_CLAIM, "sub");
    /* a required exp still has to be in the future */
    CHECK_CLAIMS("{\"exp\":1600000000,\"sub\":\"x\"}", &o, JV_ERR_EXPIRED);

    /* Names are length-delimited: the first three bytes of "subject". */
    tu_case("required name without a NUL");
    req[0].p = (const uint8_t *)subject;
    req[0].len = 3;
    o.n_required = 1;
    CHECK_CLAIMS("{\"sub\":\"x\"}", &o, JV_OK);
    CHECK_CLAIMS_D("{\"subject\":\"x\"}", &o, JV_ERR_MISSING_CLAIM, "sub");

    tu_case("required claim with a dotted or odd name");
    req[0] = str("https://example.com/roles");
    req[1] = str("");
    o.n_required = 2;
    CHECK_CLAIMS("{\"https://example.com/roles\":[],\"\":0}", &o, JV_OK);
    CHECK_CLAIMS_D("{\"https://example.com/roles\":[]}", &o, JV_ERR_MISSING_CLAIM, "");
}

static void
test_iss(void)
{
    jv_opts o = tu_opts(0, NOW);
    jv_str iss[2];
    static const char with_nul[] = "https://issuer.example\0evil";

    tu_case("iss, one accepted");
    iss[0] = str("https://issuer.example");
    o.iss = iss;
    o.n_iss = 1;
    CHECK_CLAIMS("{\"iss\":\"https://issuer.example\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"iss\":\"https://other.example\"}", &o, JV_ERR_INVALID_ISSUER);
    CHECK_CLAIMS("{\"iss\":\"https://issuer.example/\"}", &o, JV_ERR_INVALID_ISSUER);
    CHECK_CLAIMS("{\"iss\":\"https://issuer.exampl\"}", &o, JV_ERR_INVALID_ISSUER);
    CHECK_CLAIMS("{\"iss\":\"HTTPS://ISSUER.EXAMPLE\"}", &o, JV_ERR_INVALID_ISSUER);
    CHECK_CLAIMS("{\"iss\":\"\"}", &o, JV_ERR_INVALID_ISSUER);
    CHECK_CLAIMS("{\"iss\":\"https:\\/\\/issuer.example\"}", &o, JV_OK);
    tu_case("iss missing or not a string");
    CHECK_CLAIMS_D("{}", &o, JV_ERR_MISSING_CLAIM, "iss");
    CHECK_CLAIMS_D("{\"iss\":1}", &o, JV_ERR_INVALID_CLAIM, "iss");
    CHECK_CLAIMS_D("{\"iss\":[\"https://issuer.example\"]}", &o, JV_ERR_INVALID_CLAIM, "iss");
    CHECK_CLAIMS_D("{\"iss\":null}", &o, JV_ERR_INVALID_CLAIM, "iss");

    tu_case("iss, a list");
    iss[1] = str("https://second.example");
    o.n_iss = 2;
    CHECK_CLAIMS("{\"iss\":\"https://issuer.example\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"iss\":\"https://second.example\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"iss\":\"https://third.example\"}", &o, JV_ERR_INVALID_ISSUER);

    /* An accepted issuer with a NUL in it matches only itself. */
    tu_case("iss option with a NUL");
    iss[0].p = (const uint8_t *)with_nul;
    iss[0].len = sizeof(with_nul) - 1;
    o.n_iss = 1;
    CHECK_CLAIMS("{\"iss\":\"https://issuer.example\"}", &o, JV_ERR_INVALID_ISSUER);

    tu_case("iss not checked");
    o.n_iss = 0;
    CHECK_CLAIMS("{\"iss\":\"anyone\"}", &o, JV_OK);
    /* RFC 7519 §4.1.1: iss is a string even when nobody checks it */
    CHECK_CLAIMS_D("{\"iss\":1}", &o, JV_ERR_INVALID_CLAIM, "iss");
}

static void
test_aud(void)
{
    jv_opts o = tu_opts(0, NOW);
    jv_str aud[2];

    tu_case("aud, one accepted");
    aud[0] = str("api://default");
    o.aud = aud;
    o.n_aud = 1;
    CHECK_CLAIMS("{\"aud\":\"api://default\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":[\"api://default\"]}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":[\"other\",\"api://default\"]}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":\"other\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":\"api://default/\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":\"API://DEFAULT\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":[\"other\",\"more\"]}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":[]}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":\"\"}", &o, JV_ERR_INVALID_AUDIENCE);
    tu_case("aud missing or malformed");
    CHECK_CLAIMS_D("{}", &o, JV_ERR_MISSING_CLAIM, "aud");
    CHECK_CLAIMS_D("{\"aud\":1}", &o, JV_ERR_INVALID_CLAIM, "aud");
    CHECK_CLAIMS_D("{\"aud\":{\"a\":\"api://default\"}}", &o, JV_ERR_INVALID_CLAIM, "aud");
    CHECK_CLAIMS_D("{\"aud\":null}", &o, JV_ERR_INVALID_CLAIM, "aud");
    CHECK_ERR2(check_claims("{\"aud\":[1]}", &o, NULL), JV_ERR_INVALID_CLAIM,
               JV_ERR_INVALID_AUDIENCE);
    CHECK_ERR2(check_claims("{\"aud\":[[\"api://default\"]]}", &o, NULL), JV_ERR_INVALID_CLAIM,
               JV_ERR_INVALID_AUDIENCE);

    tu_case("aud, a list");
    aud[1] = str("api://second");
    o.n_aud = 2;
    CHECK_CLAIMS("{\"aud\":\"api://second\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":[\"x\",\"api://second\"]}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":[\"x\",\"y\"]}", &o, JV_ERR_INVALID_AUDIENCE);

    /* RFC 7519 §4.1.3, jv.h: with no audience configured, a token that
     * names one is refused; zeroed options are that safe default. */
    tu_case("aud unset: a token with aud is refused");
    o.n_aud = 0;
    CHECK_CLAIMS("{\"aud\":\"anyone\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":[\"anyone\"]}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":[]}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS("{\"aud\":\"\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS_D("{\"aud\":1}", &o, JV_ERR_INVALID_CLAIM, "aud");
    CHECK_CLAIMS("{}", &o, JV_OK);
    CHECK_CLAIMS("{\"sub\":\"aud\",\"x\":{\"aud\":\"nested\"}}", &o, JV_OK);

    tu_case("aud_any: aud not checked");
    o.aud_any = 1;
    CHECK_CLAIMS("{\"aud\":\"anyone\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":[\"a\",\"b\"]}", &o, JV_OK);
    CHECK_CLAIMS("{}", &o, JV_OK);
    CHECK_CLAIMS_D("{\"aud\":1}", &o, JV_ERR_INVALID_CLAIM, "aud");
    tu_case("aud_any beside accepted audiences: they are checked");
    o.n_aud = 2;
    CHECK_CLAIMS("{\"aud\":\"api://second\"}", &o, JV_OK);
    CHECK_CLAIMS("{\"aud\":\"anyone\"}", &o, JV_ERR_INVALID_AUDIENCE);
    CHECK_CLAIMS_D("{}", &o, JV_ERR_MISSING_CLAIM, "aud");
}

static void
test_getn(void)
{
    cJSON *c = NULL;

    tu_case("jv_json_getn");
    CHECK_ERR(jv_json_parse((const uint8_t *)"{\"a\":1,\"ab\":2,\"\":3}",
                            strlen("{\"a\":1,\"ab\":2,\"\":3}"), &c),
              JV_OK);
    if (!c)
        return;
    CHECK(jv_json_getn(c, (const uint8_t *)"ab", 2) != NULL &&
          jv_json_getn(c, (const uint8_t *)"ab", 2)->valueint == 2);
    CHECK(jv_json_getn(c, (const uint8_t *)"abc", 1)->valueint == 1);
    CHECK(jv_json_getn(c, (const uint8_t *)"", 0)->valueint == 3);
    CHECK(jv_json_getn(c, (const uint8_t *)"b", 1) == NULL);
    CHECK(jv_json_getn(c, (const uint8_t *)"a\0", 2) == NULL);
    cJSON_Delete(c);
}

/* RFC 7515 §4.1.9: typ is a media type, compared without case, and
 * "application/" may be left out. */
static void
test_typ(void)
{
    static const struct {
        const char *want, *header;
        jv_err rc;
    } cases[] = {
        {"JWT", "\"typ\":\"JWT\"", JV_OK},
        {"JWT", "\"typ\":\"jwt\"", JV_OK},
        {"JWT", "\"typ\":\"application/jwt\"", JV_OK},
        {"JWT", "\"typ\":\"Application/JWT\"", JV_OK},
        {"at+jwt", "\"typ\":\"at+jwt\"", JV_OK},
        {"at+jwt", "\"typ\":\"application/at+jwt\"", JV_OK},
        {"application/at+jwt", "\"typ\":\"at+JWT\"", JV_OK},
        {"JWT", "\"typ\":\"at+jwt\"", JV_ERR_INVALID_TYP},
        {"at+jwt", "\"typ\":\"JWT\"", JV_ERR_INVALID_TYP},
        {"JWT", "\"typ\":\"JWTX\"", JV_ERR_INVALID_TYP},
        {"JWT", "\"typ\":\"JW\"", JV_ERR_INVALID_TYP},
        {"JWT", "\"typ\":\"\"", JV_ERR_INVALID_TYP},
        {"JWT", "\"typ\":\"text/jwt\"", JV_ERR_INVALID_TYP},
        {"JWT", "\"cty\":\"JWT\"", JV_ERR_INVALID_TYP},
        {"JWT", NULL, JV_ERR_INVALID_TYP},
        {"JWT", "\"typ\":1", JV_ERR_BAD_HEADER},
    };
    jv_opts o = tu_opts(JV_ALG_BIT(JV_ALG_EDDSA), NOW);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jv_str want = str(cases[i].want);
        char *tok = jwt("{\"sub\":\"x\"}", cases[i].header);
        o.typ = &want;
        tu_case("typ option %s, header %s", cases[i].want,
                cases[i].header ? cases[i].header : "without typ");
        CHECK_ERR(tu_verify_jwt(ks, tok, &o), cases[i].rc);
        free(tok);
    }
    tu_case("typ not checked");
    o.typ = NULL;
    {
        char *tok = jwt("{\"sub\":\"x\"}", "\"typ\":\"anything\"");
        CHECK_ERR(tu_verify_jwt(ks, tok, &o), JV_OK);
        free(tok);
    }
}

int
main(void)
{
    char *jwk, *doc;

    ed = tu_ed25519_key();
    jwk = tu_jwk(ed, "\"kid\":\"ed\"");
    doc = tu_jwks(jwk, NULL);
    ks = tu_keyset(doc);
    free(doc);
    free(jwk);
    if (!ks)
        return tu_done();

    test_exp();
    test_nbf();
    test_iat();
    test_dates_together();
    test_bad_dates();
    test_required();
    test_iss();
    test_aud();
    test_getn();
    test_typ();

    jv_keyset_free(ks);
    EVP_PKEY_free(ed);
    return tu_done();
}
