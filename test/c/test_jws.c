/*
 * test_jws.c - guards c_src/jws.c: compact JWS parsing, key selection and
 * signature checks.
 *
 * Every token here is signed by OpenSSL's EVP_DigestSign (test_util.c) and
 * encoded by the test's own base64url encoder. The core must accept exactly
 * the good tokens of each algorithm (RS256/384/512, PS256/384/512,
 * ES256/384/512, EdDSA) and name the reason for each bad one: every tampered
 * part, every truncation and every changed character, a wrong key, an
 * unknown or ambiguous kid (keys of different types may share one), alg
 * none in any spelling, HMAC algorithms, embedded keys (jwk, jku, x5u, x5c),
 * crit, ES r or s out of [1, n-1], signatures of the wrong length, padded or
 * non-canonical base64url, bad header JSON and oversized tokens (RFC 7515,
 * RFC 7518, RFC 8725). And jv_token_peek: no key or signature checked, the
 * same strict parsing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>

#include "jws.h"
#include "test_util.h"

static EVP_PKEY *rsa_a, *rsa_b, *rsa_small, *ec256, *ec384, *ec521, *ec256_b, *ed, *ed_b;
static jv_keyset *main_ks;

static const char *const payload_json = "{\"sub\":\"1234567890\",\"iat\":1700000000}";
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static EVP_PKEY *
key_for(int alg)
{
    switch (alg) {
    case JV_ALG_ES256:
        return ec256;
    case JV_ALG_ES384:
        return ec384;
    case JV_ALG_ES512:
        return ec521;
    case JV_ALG_EDDSA:
        return ed;
    default:
        return rsa_a;
    }
}

static const char *
kid_for(int alg)
{
    static const char *kids[JV_ALG__COUNT] = {"rsa-a", "rsa-a", "rsa-a", "rsa-a", "rsa-a",
                                              "rsa-a", "ec256", "ec384", "ec521", "ed"};
    return kids[alg];
}

/* {"alg":name[,"kid":kid][,extra]} */
static char *
header_json(const char *alg_name, const char *kid, const char *extra)
{
    char *kid_part = kid ? tu_fmt(",\"kid\":\"%s\"", kid) : tu_fmt("%s", "");
    char *h =
        tu_fmt("{\"alg\":\"%s\"%s%s%s}", alg_name, kid_part, extra ? "," : "", extra ? extra : "");

    free(kid_part);
    return h;
}

/* A token signed by k as alg, with the header naming alg_name (normally
 * jv_alg_name(alg)). */
static char *
token_as(EVP_PKEY *k, int alg, const char *alg_name, const char *kid, const char *extra,
         const char *payload)
{
    char *h = header_json(alg_name, kid, extra);
    char *t = tu_token(k, alg, h, payload);

    free(h);
    return t;
}

static char *
token(EVP_PKEY *k, int alg, const char *kid, const char *extra, const char *payload)
{
    return token_as(k, alg, jv_alg_name(alg), kid, extra, payload);
}

/* The usual good token for alg: its key, its kid, the default payload. */
static char *
good_token(int alg)
{
    return token(key_for(alg), alg, kid_for(alg), NULL, payload_json);
}

static jv_err
verify(const jv_keyset *ks, const char *tok, uint32_t algs)
{
    jv_opts o = tu_opts(algs, 1700000000);

    return tu_verify(ks, tok, &o);
}

static jv_err
verify_n(const jv_keyset *ks, const char *tok, size_t len, uint32_t algs)
{
    jv_opts o = tu_opts(algs, 1700000000);
    jv_result r;
    jv_err rc;

    memset(&r, 0, sizeof(r));
    rc = jv_jws_verify(ks, (const uint8_t *)tok, len, &o, &r);
    jv_result_clear(&r);
    return rc;
}

/* Verifies a token made by an expression against a key set, then frees it. */
#define CHECK_TOKEN(ks, tok_expr, algs, want)                                                      \
    do {                                                                                           \
        char *t_ = (tok_expr);                                                                     \
        CHECK_ERR(verify((ks), t_, (algs)), want);                                                 \
        free(t_);                                                                                  \
    } while (0)

#define CHECK_TOKEN2(ks, tok_expr, algs, want1, want2)                                             \
    do {                                                                                           \
        char *t_ = (tok_expr);                                                                     \
        CHECK_ERR2(verify((ks), t_, (algs)), want1, want2);                                        \
        free(t_);                                                                                  \
    } while (0)

/* A key set from a NULL-terminated list of JWK texts, which it frees. */
static jv_keyset *
keyset_of(char *first, ...)
{
    va_list ap;
    char *parts[16], *doc;
    size_t n = 0;
    jv_keyset *ks;

    va_start(ap, first);
    for (char *s = first; s && n < 16; s = va_arg(ap, char *))
        parts[n++] = s;
    va_end(ap);
    doc = tu_jwks_array(parts, n);
    ks = tu_keyset(doc);
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(doc);
    return ks;
}

/* An RSA JWK whose modulus is k's with a few middle bytes changed: a
 * well-formed 2048-bit public key that verifies nothing k signed. */
static char *
decoy_jwk(EVP_PKEY *k, int i, const char *extra)
{
    BIGNUM *n = NULL;
    uint8_t buf[512];
    size_t len;
    char *b64, *jwk;

    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
    len = (size_t)BN_num_bytes(n);
    BN_bn2bin(n, buf);
    buf[len / 2] ^= (uint8_t)(0x11 * (i + 1));
    buf[len / 2 + 1] ^= 0x5a;
    buf[len - 1] |= 1;
    b64 = tu_b64url(buf, len);
    jwk = tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"%s%s}", b64, extra ? "," : "",
                 extra ? extra : "");
    free(b64);
    BN_free(n);
    return jwk;
}

static size_t
count_dots(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += s[i] == '.';
    return n;
}

static void
test_every_alg(void)
{
    for (int alg = 0; alg < JV_ALG__COUNT; alg++) {
        const char *name = jv_alg_name(alg);
        char *tok = good_token(alg);
        jv_opts o = tu_opts(TU_ALL_ALGS, 1700000000);
        jv_result r;
        jv_err rc;

        tu_case("%s: good token", name);
        memset(&r, 0, sizeof(r));
        rc = jv_jws_verify(main_ks, (const uint8_t *)tok, strlen(tok), &o, &r);
        CHECK_ERR(rc, JV_OK);
        if (rc == JV_OK) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(r.header, "alg");
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(r.header, "kid");
            CHECK(cJSON_IsString(a) && strcmp(a->valuestring, name) == 0);
            CHECK(cJSON_IsString(k) && strcmp(k->valuestring, kid_for(alg)) == 0);
            CHECK_STRN(r.payload, r.payload_len, payload_json);
            CHECK(r.claims == NULL);
        }
        jv_result_clear(&r);

        memset(&r, 0, sizeof(r));
        rc = jv_jwt_verify(main_ks, (const uint8_t *)tok, strlen(tok), &o, &r);
        CHECK_ERR(rc, JV_OK);
        if (rc == JV_OK) {
            const cJSON *sub = cJSON_GetObjectItemCaseSensitive(r.claims, "sub");
            CHECK(cJSON_IsString(sub) && strcmp(sub->valuestring, "1234567890") == 0);
        }
        jv_result_clear(&r);

        tu_case("%s: allow-list", name);
        CHECK_ERR(verify(main_ks, tok, JV_ALG_BIT(alg)), JV_OK);
        CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS & ~JV_ALG_BIT(alg)), JV_ERR_ALG_NOT_ALLOWED);
        /* 0 means RS256 only */
        CHECK_ERR(verify(main_ks, tok, 0), alg == JV_ALG_RS256 ? JV_OK : JV_ERR_ALG_NOT_ALLOWED);

        tu_case("%s: no kid", name);
        CHECK_TOKEN(main_ks, token(key_for(alg), alg, NULL, NULL, payload_json), TU_ALL_ALGS,
                    JV_OK);
        /* a set of just this key, without a kid */
        {
            jv_keyset *ks = keyset_of(tu_jwk(key_for(alg), NULL), NULL);
            CHECK_TOKEN(ks, token(key_for(alg), alg, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
            CHECK_ERR(verify(ks, tok, TU_ALL_ALGS), JV_ERR_UNKNOWN_KID);
            jv_keyset_free(ks);
        }
        free(tok);
    }
}

/* Header, payload or signature changed after signing. */
static void
test_tampered(void)
{
    for (int alg = 0; alg < JV_ALG__COUNT; alg++) {
        const char *name = jv_alg_name(alg);
        EVP_PKEY *k = key_for(alg);
        char *h = header_json(name, kid_for(alg), NULL);
        char *h2 = header_json(name, kid_for(alg), "\"typ\":\"JWT\"");
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        char *dot = strchr(si, '.'), *tok;
        size_t sl;
        uint8_t *sig = tu_sign(k, alg, (const uint8_t *)si, strlen(si), -1, &sl);
        size_t positions[4];
        size_t np = 0;

        tu_case("%s: untouched", name);
        tok = tu_attach(si, sig, sl);
        CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS), JV_OK);
        free(tok);

        tu_case("%s: header changed", name);
        {
            char *hb = tu_b64url_str(h2);
            char *t = tu_fmt("%s%s", hb, dot);
            char *full = tu_attach(t, sig, sl);
            CHECK_ERR(verify(main_ks, full, TU_ALL_ALGS), JV_ERR_BAD_SIGNATURE);
            free(full);
            free(t);
            free(hb);
        }

        tu_case("%s: payload changed", name);
        {
            static const char *payloads[] = {"{\"sub\":\"1234567891\",\"iat\":1700000000}",
                                             "{\"sub\":\"1234567890\",\"iat\":1700000000} ", "{}",
                                             ""};
            for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
                char *si2 = tu_signing_input((const uint8_t *)h, strlen(h),
                                             (const uint8_t *)payloads[i], strlen(payloads[i]));
                char *t = tu_attach(si2, sig, sl);
                CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_SIGNATURE);
                free(t);
                free(si2);
            }
        }

        /* One bit of the signature: the low bit of its last byte, of r's
         * last byte (ES) or of a middle byte; the first byte too for RSA
         * and EdDSA, where any value is in range. */
        positions[np++] = sl - 1;
        positions[np++] = sl / 2 - 1;
        positions[np++] = sl / 2 + 3;
        if (alg < JV_ALG_ES256 || alg > JV_ALG_ES512)
            positions[np++] = 0;
        for (size_t i = 0; i < np; i++) {
            for (uint8_t bit = 1; bit; bit = (uint8_t)(bit << 3)) {
                tu_case("%s: signature byte %zu ^ 0x%02x", name, positions[i], bit);
                sig[positions[i]] ^= bit;
                tok = tu_attach(si, sig, sl);
                CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS), JV_ERR_BAD_SIGNATURE);
                free(tok);
                sig[positions[i]] ^= bit;
            }
        }

        /* Another good token's signature. */
        tu_case("%s: signature of another token", name);
        {
            char *other = token(k, alg, kid_for(alg), NULL, "{\"sub\":\"other\"}");
            char *osig = strrchr(other, '.');
            char *t = tu_fmt("%s%s", si, osig);
            CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_SIGNATURE);
            free(t);
            free(other);
        }
        free(sig);
        free(si);
        free(h);
        free(h2);
    }

    /* The alg swapped for another of the same key type. */
    tu_case("alg swapped after signing");
    {
        static const int pairs[][2] = {{JV_ALG_RS256, JV_ALG_PS256},
                                       {JV_ALG_PS256, JV_ALG_RS256},
                                       {JV_ALG_RS256, JV_ALG_RS384},
                                       {JV_ALG_RS512, JV_ALG_RS256},
                                       {JV_ALG_PS384, JV_ALG_PS512}};
        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
            /* signed as pairs[i][0], the header claiming pairs[i][1] */
            tu_case("signed %s, header %s", jv_alg_name(pairs[i][0]), jv_alg_name(pairs[i][1]));
            CHECK_TOKEN(
                main_ks,
                token_as(rsa_a, pairs[i][0], jv_alg_name(pairs[i][1]), "rsa-a", NULL, payload_json),
                TU_ALL_ALGS, JV_ERR_BAD_SIGNATURE);
        }
    }
}

/* Every single-character change of a good token is refused. */
static void
test_every_char_changed(void)
{
    for (int alg = 0; alg < JV_ALG__COUNT; alg++) {
        char *tok = good_token(alg);
        size_t len = strlen(tok), accepted = 0;

        tu_case("%s: every character changed", jv_alg_name(alg));
        for (size_t i = 0; i < len; i++) {
            char saved = tok[i];
            const char *p = strchr(b64chars, saved);
            /* the next alphabet character, or 'A' for a dot */
            tok[i] = p ? b64chars[(size_t)(p - b64chars + 1) % 64] : 'A';
            if (verify(main_ks, tok, TU_ALL_ALGS) == JV_OK) {
                accepted++;
                fprintf(stderr, "  accepted with position %zu changed to '%c'\n", i, tok[i]);
            }
            tok[i] = saved;
        }
        CHECK_INT(accepted, 0);
        free(tok);
    }
}

/* Every proper prefix of a good token is refused, with the reason its
 * shape gives: fewer than two dots is malformed; a cut signature has the
 * wrong length or, at 1 mod 4 characters, is not base64url. */
static void
test_every_truncation(void)
{
    for (int alg = 0; alg < JV_ALG__COUNT; alg++) {
        char *tok = good_token(alg);
        size_t len = strlen(tok), wrong = 0;

        tu_case("%s: every truncation", jv_alg_name(alg));
        for (size_t cut = 0; cut < len; cut++) {
            /* a copy of exactly cut bytes, so reads past the end show */
            char *prefix = tu_malloc(cut);
            jv_err rc;
            memcpy(prefix, tok, cut);
            rc = verify_n(main_ks, prefix, cut, TU_ALL_ALGS);
            if (count_dots(tok, cut) < 2
                    ? rc != JV_ERR_MALFORMED_TOKEN
                    : rc != JV_ERR_BAD_SIGNATURE_LENGTH && rc != JV_ERR_BAD_BASE64) {
                wrong++;
                fprintf(stderr, "  prefix of %zu of %zu: got %s\n", cut, len, tu_err_name(rc));
            }
            free(prefix);
        }
        CHECK_INT(wrong, 0);
        free(tok);
    }

    /* The same through jv_jwt_verify, for one algorithm. */
    {
        char *tok = good_token(JV_ALG_ES256);
        size_t len = strlen(tok);
        jv_opts o = tu_opts(TU_ALL_ALGS, 1700000000);
        size_t accepted = 0;

        tu_case("ES256: every truncation, as a JWT");
        for (size_t cut = 0; cut < len; cut++) {
            jv_result r;
            memset(&r, 0, sizeof(r));
            if (jv_jwt_verify(main_ks, (const uint8_t *)tok, cut, &o, &r) == JV_OK)
                accepted++;
            jv_result_clear(&r);
        }
        CHECK_INT(accepted, 0);
        free(tok);
    }
}

static void
test_wrong_key(void)
{
    jv_keyset *ks;

    tu_case("signed by another key, kid of ours");
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_RS256, "rsa-a", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_PS512, "rsa-a", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-b", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(main_ks, token(ec256_b, JV_ALG_ES256, "ec256", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(main_ks, token(ed_b, JV_ALG_EDDSA, "ed", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);

    tu_case("signed by another key, no kid");
    ks = keyset_of(tu_jwk(rsa_a, NULL), tu_jwk(ec256, NULL), tu_jwk(ed, NULL), NULL);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(ks, token(ec256_b, JV_ALG_ES256, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(ks, token(ed_b, JV_ALG_EDDSA, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    jv_keyset_free(ks);
}

static void
test_kid(void)
{
    jv_keyset *ks;

    tu_case("kid picks the key");
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_RS256, "rsa-b", NULL, payload_json), TU_ALL_ALGS,
                JV_OK);
    /* JSON escapes are decoded before the lookup */
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_RS256, "rsa\\u002db", NULL, payload_json), TU_ALL_ALGS,
                JV_OK);

    tu_case("unknown kid");
    {
        static const char *kids[] = {"nope",  "",       "rsa",    "rsa-",
                                     "RSA-A", "rsa-a ", " rsa-a", "rsa-aa"};
        for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
            tu_case("unknown kid \"%s\"", kids[i]);
            CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, kids[i], NULL, payload_json),
                        TU_ALL_ALGS, JV_ERR_UNKNOWN_KID);
        }
    }

    tu_case("kid not a string");
    {
        static const char *bad[] = {"\"kid\":1", "\"kid\":null", "\"kid\":[\"rsa-a\"]",
                                    "\"kid\":{}", "\"kid\":true"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            tu_case("%s", bad[i]);
            CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, NULL, bad[i], payload_json),
                        TU_ALL_ALGS, JV_ERR_BAD_HEADER);
        }
    }

    /* RFC 7517 §4.5: keys of different types may share a kid; the one that
     * fits the alg is used. */
    tu_case("two keys of different types under one kid");
    CHECK_TOKEN(main_ks, token(ec256, JV_ALG_ES256, "dup", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(main_ks, token(ed, JV_ALG_EDDSA, "dup", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(main_ks, token(ec256_b, JV_ALG_ES256, "dup", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "dup", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ec384, JV_ALG_ES384, "dup", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);

    tu_case("one kid: RSA, P-256, P-384 and an encryption key");
    ks = keyset_of(tu_jwk(rsa_a, "\"kid\":\"k\""), tu_jwk(ec256, "\"kid\":\"k\""),
                   tu_jwk(ec384, "\"kid\":\"k\""), tu_jwk(rsa_b, "\"kid\":\"k\",\"use\":\"enc\""),
                   NULL);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_PS512, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(ec384, JV_ALG_ES384, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_BAD_SIGNATURE);
    CHECK_TOKEN(ks, token(ec521, JV_ALG_ES512, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(ks, token(ed, JV_ALG_EDDSA, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    jv_keyset_free(ks);

    tu_case("two keys that fit under one kid");
    ks = keyset_of(tu_jwk(ec256, "\"kid\":\"k\""), tu_jwk(ec256_b, "\"kid\":\"k\""),
                   tu_jwk(rsa_a, "\"kid\":\"k\""), NULL);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_AMBIGUOUS_KID);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);
    /* The key's own alg does not split them: only its type and curve do. */
    ks = keyset_of(tu_jwk(rsa_a, "\"kid\":\"k\",\"alg\":\"RS256\""),
                   tu_jwk(rsa_b, "\"kid\":\"k\",\"alg\":\"PS256\""), NULL);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_AMBIGUOUS_KID);
    jv_keyset_free(ks);

    tu_case("one kid: the fitting key is refused");
    ks = keyset_of(tu_jwk(rsa_small, "\"kid\":\"k\""), tu_jwk(ec256, "\"kid\":\"k\""), NULL);
    CHECK_TOKEN(ks, token(rsa_small, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_RSA_KEY_TOO_SMALL);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);
    ks = keyset_of(tu_jwk(rsa_a, "\"kid\":\"k\",\"d\":\"AQAB\""), tu_jwk(rsa_b, "\"kid\":\"k\""),
                   tu_jwk(ec256, "\"kid\":\"k\""), NULL);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, "k", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, "k", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);

    /* RFC 8725 §3.1: the alg must fit the key the kid names. */
    tu_case("kid of a key of another type or curve");
    CHECK_TOKEN(main_ks, token(ec256, JV_ALG_ES256, "rsa-a", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ec256, JV_ALG_ES256, "ec384", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ec521, JV_ALG_ES512, "ec256", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ec384, JV_ALG_ES384, "ec521", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "ed", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_PS256, "ec256", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ed, JV_ALG_EDDSA, "ec256", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);
    CHECK_TOKEN(main_ks, token(ed, JV_ALG_EDDSA, "rsa-a", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_TYPE_MISMATCH);

    tu_case("kid of a key bound to another alg");
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS384, "rs384-only", NULL, payload_json), TU_ALL_ALGS,
                JV_OK);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "rs384-only", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_ALG_MISMATCH);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_PS384, "rs384-only", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_ALG_MISMATCH);
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_PS256, "ps256-only", NULL, payload_json), TU_ALL_ALGS,
                JV_OK);
    CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_RS256, "ps256-only", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_ALG_MISMATCH);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "hs", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_ALG_MISMATCH);

    tu_case("kid of a refused key");
    CHECK_TOKEN(main_ks, token(rsa_small, JV_ALG_RS256, "small", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_RSA_KEY_TOO_SMALL);
    CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "enc", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_KEY_NOT_FOR_SIGNING);

    tu_case("kid against a set without kids");
    ks = keyset_of(tu_jwk(rsa_a, NULL), NULL);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "rsa-a", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_UNKNOWN_KID);
    jv_keyset_free(ks);
}

/* A leaked private key verifies nothing: the token's kid naming it, or no
 * kid and only it to try, is private_key; so is its public twin. */
static void
test_private_key(void)
{
    jv_keyset *ks =
        keyset_of(tu_jwk(rsa_a, "\"kid\":\"leaked\",\"d\":\"AQAB\""),
                  tu_jwk(ec256, "\"kid\":\"ec\",\"d\":\"AQAB\""), tu_jwk(rsa_a, "\"kid\":\"twin\""),
                  tu_jwk(rsa_b, "\"kid\":\"b\""), tu_jwk(ed, NULL), NULL);

    tu_case("private key: by kid");
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "leaked", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_PS256, "leaked", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, "ec", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    tu_case("private key: its public twin under another kid");
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, "twin", NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    tu_case("private key: other keys of the set still verify");
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, "b", NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(ed, JV_ALG_EDDSA, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    tu_case("private key: no kid");
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN2(ks, token(rsa_a, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                 JV_ERR_BAD_SIGNATURE, JV_ERR_PRIVATE_KEY);
    CHECK_TOKEN(ks, token(ec256, JV_ALG_ES256, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_PRIVATE_KEY);
    jv_keyset_free(ks);
}

/* Without a kid, only the keys that fit the alg are tried, at most
 * JV_MAX_KEY_TRIES of them. */
static void
test_no_kid(void)
{
    jv_keyset *ks = keyset_of(tu_jwk(ec256, NULL), tu_jwk(ed, NULL), tu_jwk(rsa_a, NULL),
                              tu_jwk(rsa_b, NULL), tu_jwk(ec521, NULL), NULL);

    tu_case("no kid: the fitting key is found");
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_PS384, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(ec521, JV_ALG_ES512, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    CHECK_TOKEN(ks, token(ed, JV_ALG_EDDSA, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    tu_case("no kid: no key of the type");
    CHECK_TOKEN(ks, token(ec384, JV_ALG_ES384, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_NO_MATCHING_KEY);
    jv_keyset_free(ks);

    tu_case("no kid: key bound to another alg");
    ks = keyset_of(tu_jwk(rsa_a, "\"alg\":\"PS256\""), NULL);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                JV_ERR_NO_MATCHING_KEY);
    CHECK_TOKEN(ks, token(rsa_a, JV_ALG_PS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);

    tu_case("no kid: only refused keys");
    ks = keyset_of(tu_jwk(rsa_small, NULL), NULL);
    CHECK_TOKEN2(ks, token(rsa_small, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                 JV_ERR_RSA_KEY_TOO_SMALL, JV_ERR_NO_MATCHING_KEY);
    jv_keyset_free(ks);
    ks = keyset_of(tu_jwk(rsa_a, "\"use\":\"enc\""), NULL);
    CHECK_TOKEN2(ks, token(rsa_a, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                 JV_ERR_KEY_NOT_FOR_SIGNING, JV_ERR_NO_MATCHING_KEY);
    jv_keyset_free(ks);

    tu_case("no kid: refused keys before the signer");
    ks = keyset_of(tu_jwk(rsa_small, NULL), tu_jwk(rsa_a, "\"use\":\"enc\""), tu_jwk(rsa_b, NULL),
                   NULL);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);

    tu_case("no kid: the signer after %d decoys", JV_MAX_KEY_TRIES - 1);
    ks = keyset_of(decoy_jwk(rsa_a, 0, NULL), decoy_jwk(rsa_a, 1, NULL), decoy_jwk(rsa_a, 2, NULL),
                   tu_jwk(rsa_b, NULL), NULL);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);

    tu_case("no kid: the signer after %d decoys", JV_MAX_KEY_TRIES);
    ks = keyset_of(decoy_jwk(rsa_a, 0, NULL), decoy_jwk(rsa_a, 1, NULL), decoy_jwk(rsa_a, 2, NULL),
                   decoy_jwk(rsa_a, 3, NULL), tu_jwk(rsa_b, NULL), NULL);
    CHECK_TOKEN2(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                 JV_ERR_BAD_SIGNATURE, JV_ERR_NO_MATCHING_KEY);
    jv_keyset_free(ks);

    /* Keys that do not fit are not tries. */
    tu_case("no kid: unfit keys do not count");
    ks = keyset_of(tu_jwk(ec256, NULL), tu_jwk(ec384, NULL), tu_jwk(ed, NULL),
                   decoy_jwk(rsa_a, 0, "\"alg\":\"RS512\""), decoy_jwk(rsa_a, 1, NULL),
                   decoy_jwk(rsa_a, 2, NULL), decoy_jwk(rsa_a, 3, NULL), decoy_jwk(rsa_a, 4, NULL),
                   tu_jwk(rsa_b, NULL), NULL);
    CHECK_TOKEN2(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS,
                 JV_ERR_BAD_SIGNATURE, JV_ERR_NO_MATCHING_KEY);
    jv_keyset_free(ks);
    ks = keyset_of(tu_jwk(ec256, NULL), tu_jwk(ec384, NULL), tu_jwk(ed, NULL),
                   decoy_jwk(rsa_a, 0, "\"alg\":\"RS512\""), decoy_jwk(rsa_a, 1, NULL),
                   decoy_jwk(rsa_a, 2, NULL), tu_jwk(rsa_b, NULL), NULL);
    CHECK_TOKEN(ks, token(rsa_b, JV_ALG_RS256, NULL, NULL, payload_json), TU_ALL_ALGS, JV_OK);
    jv_keyset_free(ks);
}

/* RFC 8725 §3.1 / §2.1: "none" is refused however it is spelled. */
static void
test_alg_none(void)
{
    static const char *spellings[] = {"none", "None", "NONE", "nOnE", "NoNe", "nonE", "NONe"};
    static const char *near[] = {"none ", " none", "non", "nonee", "n0ne", "none\\n"};

    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        char *h = header_json(spellings[i], NULL, NULL),
             *hk = header_json(spellings[i], "rsa-a", NULL);
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        char *unsigned_tok = tu_fmt("%s.", si);
        tu_case("alg \"%s\"", spellings[i]);
        CHECK_ERR(verify(main_ks, unsigned_tok, TU_ALL_ALGS), JV_ERR_ALG_NONE);
        CHECK_ERR(verify(main_ks, unsigned_tok, 0), JV_ERR_ALG_NONE);
        /* with a real signature and a real kid */
        CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, hk, payload_json), TU_ALL_ALGS,
                    JV_ERR_ALG_NONE);
        CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, h, payload_json), TU_ALL_ALGS,
                    JV_ERR_ALG_NONE);
        free(unsigned_tok);
        free(si);
        free(h);
        free(hk);
    }
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        tu_case("alg \"%s\"", near[i]);
        CHECK_TOKEN(main_ks, token_as(rsa_a, JV_ALG_RS256, near[i], "rsa-a", NULL, payload_json),
                    TU_ALL_ALGS, JV_ERR_UNSUPPORTED_ALG);
    }
}

/* An HS256 token whose HMAC secret is the RSA public key, the classic key
 * confusion (RFC 8725 §2.1): the algorithm must be refused outright. */
static void
test_hmac(void)
{
    static const struct {
        const char *name;
        const char *md;
    } hs[] = {{"HS256", "SHA256"}, {"HS384", "SHA384"}, {"HS512", "SHA512"}};
    char *jwk = tu_jwk(rsa_a, "\"kid\":\"rsa-a\"");

    for (size_t i = 0; i < 3; i++) {
        char *h = header_json(hs[i].name, "rsa-a", NULL);
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        char *tok;

        HMAC(EVP_get_digestbyname(hs[i].md), jwk, (int)strlen(jwk), (const uint8_t *)si, strlen(si),
             mac, &mac_len);
        tok = tu_attach(si, mac, mac_len);
        tu_case("%s keyed with the RSA JWK", hs[i].name);
        CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS), JV_ERR_UNSUPPORTED_ALG);
        CHECK_ERR(verify(main_ks, tok, 0), JV_ERR_UNSUPPORTED_ALG);
        free(tok);
        free(si);
        free(h);
    }
    free(jwk);

    tu_case("other algorithms we do not implement");
    {
        static const char *names[] = {"RS1",      "ES256K", "rs256", "Rs256",   "RS256 ",
                                      "",         "eddsa",  "EDDSA", "Ed25519", "PS256\\u0000",
                                      "RSA-OAEP", "A128KW", "dir"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            tu_case("alg \"%s\"", names[i]);
            if (strstr(names[i], "\\u0000"))
                CHECK_TOKEN(main_ks,
                            token_as(rsa_a, JV_ALG_PS256, names[i], "rsa-a", NULL, payload_json),
                            TU_ALL_ALGS, JV_ERR_BAD_HEADER);
            else
                CHECK_TOKEN(main_ks,
                            token_as(rsa_a, JV_ALG_RS256, names[i], "rsa-a", NULL, payload_json),
                            TU_ALL_ALGS, JV_ERR_UNSUPPORTED_ALG);
        }
    }

    tu_case("alg missing or not a string");
    {
        static const char *headers[] = {"{\"kid\":\"rsa-a\"}",
                                        "{\"alg\":256,\"kid\":\"rsa-a\"}",
                                        "{\"alg\":null,\"kid\":\"rsa-a\"}",
                                        "{\"alg\":[\"RS256\"],\"kid\":\"rsa-a\"}",
                                        "{\"alg\":{},\"kid\":\"rsa-a\"}",
                                        "{\"ALG\":\"RS256\"}"};
        for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
            tu_case("header %s", headers[i]);
            CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, headers[i], payload_json),
                        TU_ALL_ALGS, JV_ERR_BAD_HEADER);
        }
    }
}

/* RFC 8725 §3.10 spirit: keys come from the JWKS, never from the token. */
static void
test_embedded_keys(void)
{
    char *attacker = tu_jwk(rsa_b, NULL);
    char *members[4];

    members[0] = tu_fmt("\"jwk\":%s", attacker);
    members[1] = tu_fmt("\"jku\":\"https://attacker.example/jwks.json\"");
    members[2] = tu_fmt("\"x5u\":\"https://attacker.example/cert.pem\"");
    members[3] = tu_fmt("\"x5c\":[\"MIIBszCCAVmgAwIBAgIUQ\"]");
    for (size_t i = 0; i < 4; i++) {
        tu_case("embedded %.5s", members[i]);
        /* signed by our key: the member alone is the fault */
        CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-a", members[i], payload_json),
                    TU_ALL_ALGS, JV_ERR_EMBEDDED_KEY);
        /* signed by the attacker's key, no kid */
        CHECK_TOKEN(main_ks, token(rsa_b, JV_ALG_RS256, NULL, members[i], payload_json),
                    TU_ALL_ALGS, JV_ERR_EMBEDDED_KEY);
        CHECK_TOKEN(main_ks, token(ec256, JV_ALG_ES256, "ec256", members[i], payload_json),
                    TU_ALL_ALGS, JV_ERR_EMBEDDED_KEY);
        free(members[i]);
    }
    free(attacker);
}

/* RFC 7515 §4.1.11: we implement no extension, so every crit is unknown. */
static void
test_crit(void)
{
    static const char *crits[] = {"\"crit\":[\"exp\"],\"exp\":1700000000",
                                  "\"crit\":[\"b64\"],\"b64\":false",
                                  ("\"crit\":[\"http://example.com/ext\"],"
                                   "\"http://example.com/ext\":true")};

    for (size_t i = 0; i < sizeof(crits) / sizeof(crits[0]); i++) {
        tu_case("%s", crits[i]);
        CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-a", crits[i], payload_json),
                    TU_ALL_ALGS, JV_ERR_UNSUPPORTED_CRIT);
        CHECK_TOKEN(main_ks, token(ed, JV_ALG_EDDSA, "ed", crits[i], payload_json), TU_ALL_ALGS,
                    JV_ERR_UNSUPPORTED_CRIT);
    }
    tu_case("malformed crit");
    CHECK_TOKEN2(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-a", "\"crit\":[]", payload_json),
                 TU_ALL_ALGS, JV_ERR_UNSUPPORTED_CRIT, JV_ERR_BAD_HEADER);
    CHECK_TOKEN2(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-a", "\"crit\":\"exp\"", payload_json),
                 TU_ALL_ALGS, JV_ERR_UNSUPPORTED_CRIT, JV_ERR_BAD_HEADER);
}

/* Adds delta (small, may be negative) to a big-endian number in place. */
static void
be_add(uint8_t *v, size_t len, int delta)
{
    int carry = delta;

    for (size_t i = len; i-- > 0 && carry;) {
        int x = v[i] + carry;
        v[i] = (uint8_t)(x & 0xff);
        carry = x >> 8;
    }
}

/* FIPS 186-4 §6.4: r and s lie in [1, n-1]; anything else is refused before
 * any curve arithmetic. */
static void
test_es_range(void)
{
    static const int es[] = {JV_ALG_ES256, JV_ALG_ES384, JV_ALG_ES512};

    for (size_t i = 0; i < 3; i++) {
        int alg = es[i];
        EVP_PKEY *k = key_for(alg);
        char *h = header_json(jv_alg_name(alg), kid_for(alg), NULL);
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        size_t sl, c;
        uint8_t *good = tu_sign(k, alg, (const uint8_t *)si, strlen(si), -1, &sl);
        uint8_t order[66], sig[132];
        struct {
            const char *what;
            int r, s; /* 0: zero, 1: n, 2: n + 1, 3: all ones, 4: good, 5: n - 1, 6: one */
            jv_err want;
        } cases[] = {
            {"r = s = 0", 0, 0, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = 0", 0, 4, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"s = 0", 4, 0, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = n", 1, 4, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"s = n", 4, 1, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = s = n", 1, 1, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = n + 1", 2, 4, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"s = n + 1", 4, 2, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = 2^k - 1", 3, 4, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"s = 2^k - 1", 4, 3, JV_ERR_SIGNATURE_OUT_OF_RANGE},
            {"r = n - 1", 5, 4, JV_ERR_BAD_SIGNATURE},
            {"r = s = 1", 6, 6, JV_ERR_BAD_SIGNATURE},
            {"good", 4, 4, JV_OK},
        };

        c = sl / 2;
        tu_ec_order(k, order, c);
        for (size_t j = 0; j < sizeof(cases) / sizeof(cases[0]); j++) {
            for (int half = 0; half < 2; half++) {
                uint8_t *v = sig + half * c;
                int which = half ? cases[j].s : cases[j].r;
                switch (which) {
                case 0:
                    memset(v, 0, c);
                    break;
                case 1:
                case 2:
                case 5:
                    memcpy(v, order, c);
                    be_add(v, c, which == 2 ? 1 : which == 5 ? -1 : 0);
                    break;
                case 3:
                    memset(v, 0xff, c);
                    break;
                case 4:
                    memcpy(v, good + half * c, c);
                    break;
                default:
                    memset(v, 0, c);
                    v[c - 1] = 1;
                }
            }
            tu_case("%s: %s", jv_alg_name(alg), cases[j].what);
            CHECK_TOKEN(main_ks, tu_attach(si, sig, sl), TU_ALL_ALGS, cases[j].want);
        }
        free(good);
        free(si);
        free(h);
    }
}

/* DER ECDSA-Sig-Value from raw r||s: what a JOSE library that forgets
 * RFC 7518 §3.4 sends. */
static uint8_t *
raw_to_der(const uint8_t *raw, size_t len, size_t *der_len)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    uint8_t *der = NULL;
    int n;

    ECDSA_SIG_set0(s, BN_bin2bn(raw, (int)len / 2, NULL),
                   BN_bin2bn(raw + len / 2, (int)len / 2, NULL));
    n = i2d_ECDSA_SIG(s, &der);
    ECDSA_SIG_free(s);
    *der_len = (size_t)n;
    return der;
}

static void
test_sig_length(void)
{
    for (int alg = 0; alg < JV_ALG__COUNT; alg++) {
        EVP_PKEY *k = key_for(alg);
        char *h = header_json(jv_alg_name(alg), kid_for(alg), NULL);
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        size_t sl;
        uint8_t *good = tu_sign(k, alg, (const uint8_t *)si, strlen(si), -1, &sl);
        uint8_t *buf = tu_malloc(4096);
        const size_t lens[] = {0, 1, sl - 1, sl + 1, sl - 2, sl + 2, sl * 2, sl / 2, 4096};

        memset(buf, 0, 4096);
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            /* the good signature cut or extended with zeros */
            memcpy(buf, good, lens[i] < sl ? lens[i] : sl);
            tu_case("%s: signature of %zu bytes (want %zu)", jv_alg_name(alg), lens[i], sl);
            CHECK_TOKEN(main_ks, tu_attach(si, buf, lens[i]), TU_ALL_ALGS,
                        JV_ERR_BAD_SIGNATURE_LENGTH);
            memset(buf, 0, 4096);
        }
        /* a leading zero byte: the right number, the wrong length */
        memcpy(buf + 1, good, sl);
        tu_case("%s: signature with a leading zero", jv_alg_name(alg));
        CHECK_TOKEN(main_ks, tu_attach(si, buf, sl + 1), TU_ALL_ALGS, JV_ERR_BAD_SIGNATURE_LENGTH);
        if (alg >= JV_ALG_ES256 && alg <= JV_ALG_ES512) {
            size_t dl;
            uint8_t *der = raw_to_der(good, sl, &dl);
            tu_case("%s: DER signature", jv_alg_name(alg));
            CHECK_TOKEN(main_ks, tu_attach(si, der, dl), TU_ALL_ALGS, JV_ERR_BAD_SIGNATURE_LENGTH);
            OPENSSL_free(der);
        }
        free(buf);
        free(good);
        free(si);
        free(h);
    }
}

/* Makes the last character of a base64url text non-canonical: the same bits
 * that count, one unused bit set. Needs a length of 2 or 3 mod 4. */
static void
make_noncanonical(char *b64)
{
    size_t len = strlen(b64);
    size_t idx = (size_t)(strchr(b64chars, b64[len - 1]) - b64chars);

    b64[len - 1] = b64chars[idx | 1];
}

/* Base64url in the three segments, each signed as written, so that only the
 * encoding is at fault (RFC 7515 §2, §7.1). */
static void
test_segment_encoding(void)
{
    /* 5 and 7 byte texts: 7 and 10 characters, with unused bits */
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"ec256\"}"; /* 29 bytes: 2 mod 3 */
    const char *p = "{\"sub\":\"x\"}";                       /* 11 bytes: 2 mod 3 */
    char *hb = tu_b64url_str(h), *pb = tu_b64url_str(p);
    struct {
        const char *what;
        char *hdr, *pay;
    } cases[6];
    size_t sl;

    cases[0].what = "header padded";
    cases[0].hdr = tu_fmt("%s=", hb);
    cases[0].pay = tu_fmt("%s", pb);
    cases[1].what = "payload padded";
    cases[1].hdr = tu_fmt("%s", hb);
    cases[1].pay = tu_fmt("%s=", pb);
    cases[2].what = "header non-canonical";
    cases[2].hdr = tu_fmt("%s", hb);
    make_noncanonical(cases[2].hdr);
    cases[2].pay = tu_fmt("%s", pb);
    cases[3].what = "payload non-canonical";
    cases[3].hdr = tu_fmt("%s", hb);
    cases[3].pay = tu_fmt("%s", pb);
    make_noncanonical(cases[3].pay);
    cases[4].what = "payload with '+'";
    cases[4].hdr = tu_fmt("%s", hb);
    cases[4].pay = tu_fmt("+%s", pb + 1);
    cases[5].what = "payload with a space";
    cases[5].hdr = tu_fmt("%s", hb);
    cases[5].pay = tu_fmt("%s %s", "eyJz", pb + 4);

    for (size_t i = 0; i < 6; i++) {
        char *si = tu_fmt("%s.%s", cases[i].hdr, cases[i].pay);
        uint8_t *sig = tu_sign(ec256, JV_ALG_ES256, (const uint8_t *)si, strlen(si), -1, &sl);
        tu_case("%s", cases[i].what);
        CHECK_TOKEN(main_ks, tu_attach(si, sig, sl), TU_ALL_ALGS, JV_ERR_BAD_BASE64);
        free(sig);
        free(si);
        free(cases[i].hdr);
        free(cases[i].pay);
    }

    /* The signature segment: RSA-2048 gives 256 bytes, 342 characters. */
    {
        char *tok = good_token(JV_ALG_RS256), *t;
        size_t len = strlen(tok);
        tu_case("signature padded");
        t = tu_fmt("%s==", tok);
        CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_BASE64);
        free(t);
        tu_case("signature non-canonical");
        t = tu_fmt("%s", tok);
        make_noncanonical(t);
        CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_BASE64);
        free(t);
        tu_case("signature with whitespace");
        t = tu_fmt("%s\n", tok);
        CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_BASE64);
        free(t);
        t = tu_fmt("%.*s %s", (int)(len - 10), tok, tok + len - 10);
        CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_BASE64);
        free(t);
        tu_case("signature in standard base64");
        t = tu_fmt("%s", tok);
        for (char *c = strrchr(t, '.'); *c; c++)
            *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
        if (strchr(t, '+') || strchr(t, '/'))
            CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_BAD_BASE64);
        free(t);
        free(tok);
    }
    free(hb);
    free(pb);
}

static void
test_structure(void)
{
    static const char *bad[] = {
        "",    ".",       "..",        "...",        "a",
        "a.b", "a.b.c.d", "a.b.c.d.e", ".eyJ9.AAAA", "eyJhbGciOiJSUzI1NiJ9"};
    char *tok = good_token(JV_ALG_ES256), *t;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_case("structure \"%s\"", bad[i]);
        CHECK_ERR(verify(main_ks, bad[i], TU_ALL_ALGS), JV_ERR_MALFORMED_TOKEN);
    }
    tu_case("good token plus segments");
    t = tu_fmt("%s.", tok);
    CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_MALFORMED_TOKEN);
    free(t);
    t = tu_fmt("%s.%s", tok, tok);
    CHECK_ERR(verify(main_ks, t, TU_ALL_ALGS), JV_ERR_MALFORMED_TOKEN);
    free(t);
    /* JWE compact serialization: five segments */
    CHECK_ERR(
        verify(main_ks,
               "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6D"
               "VZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb"
               "23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76F"
               "dIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppam"
               "avo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg"
               ".48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7"
               "j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ",
               TU_ALL_ALGS),
        JV_ERR_MALFORMED_TOKEN);

    /* An empty payload is a JWS like any other, but no JWT. */
    tu_case("empty payload");
    {
        jv_opts o = tu_opts(TU_ALL_ALGS, 1700000000);
        jv_result r;
        char *e = token(ed, JV_ALG_EDDSA, "ed", NULL, "");
        memset(&r, 0, sizeof(r));
        CHECK_ERR(jv_jws_verify(main_ks, (const uint8_t *)e, strlen(e), &o, &r), JV_OK);
        CHECK_INT(r.payload_len, 0);
        jv_result_clear(&r);
        CHECK_ERR(tu_verify_jwt(main_ks, e, &o), JV_ERR_BAD_PAYLOAD);
        free(e);
    }
    free(tok);
}

/* Header JSON goes through the strict layer: one object, UTF-8, no
 * duplicates, no NUL, bounded depth. */
static void
test_header_json(void)
{
    static const char *headers[] = {
        "[]",
        "\"RS256\"",
        "1",
        "null",
        "{",
        "{\"alg\":\"RS256\"} x",
        "{\"alg\":\"RS256\"}{}",
        "{\"alg\":\"RS256\",\"alg\":\"RS256\"}",
        "{\"alg\":\"none\",\"alg\":\"RS256\"}",
        "{\"alg\":\"RS256\",\"alg\":\"none\"}",
        "{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}",
        "{\"alg\":\"RS256\",\"kid\":\"rsa-a\",\"kid\":\"rsa-b\"}",
        "{\"alg\":\"RS256\",\"x\":{\"y\":1,\"y\":2}}",
        "{\"alg\":\"RS256\",\"kid\":\"rsa-a\\u0000\"}",
        "{\"alg\":\"RS256\",\"kid\":\"rsa-a\xff\"}",
        "{\"alg\":\"RS256\",\"kid\":\"\xc0\xaf\"}",
        "{\"alg\":\"RS256\",\"kid\":\"\xed\xa0\x80\"}",
        "{\"alg\":\"RS256\",\"kid\":\"\\ud800\"}",
        "{\"alg\":\"RS256\",\"typ\":1}",
        "{\"alg\":\"RS256\",\"typ\":null}",
        "{\"alg\":'RS256'}",
        "{alg:\"RS256\"}",
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        tu_case("header %s", headers[i]);
        CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, headers[i], payload_json), TU_ALL_ALGS,
                    JV_ERR_BAD_HEADER);
    }

    /* A raw NUL inside the kid: "rsa-a" then garbage must not be "rsa-a". */
    tu_case("raw NUL in the kid");
    {
        static const char h[] = "{\"alg\":\"RS256\",\"kid\":\"rsa-a\0evil\"}";
        CHECK_TOKEN(main_ks,
                    tu_token_n(rsa_a, JV_ALG_RS256, (const uint8_t *)h, sizeof(h) - 1,
                               (const uint8_t *)payload_json, strlen(payload_json)),
                    TU_ALL_ALGS, JV_ERR_BAD_HEADER);
    }

    tu_case("header nested past the limit");
    {
        for (size_t depth = JV_MAX_JSON_DEPTH - 1; depth <= JV_MAX_JSON_DEPTH; depth++) {
            /* the header object is one level, the member depth more */
            char *open = tu_malloc(depth + 1), *close = tu_malloc(depth + 1), *h;
            memset(open, '[', depth);
            memset(close, ']', depth);
            open[depth] = close[depth] = '\0';
            h = tu_fmt("{\"alg\":\"RS256\",\"kid\":\"rsa-a\",\"x\":%s%s}", open, close);
            tu_case("header depth %zu", depth + 1);
            CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, h, payload_json), TU_ALL_ALGS,
                        depth + 1 <= JV_MAX_JSON_DEPTH ? JV_OK : JV_ERR_BAD_HEADER);
            free(h);
            free(open);
            free(close);
        }
    }
    tu_case("header nested 10000 deep");
    {
        size_t depth = 10000;
        char *h = tu_malloc(2 * depth + 64), *q = h;
        q += sprintf(q, "{\"alg\":\"RS256\",\"x\":");
        memset(q, '[', depth);
        memset(q + depth, ']', depth);
        sprintf(q + 2 * depth, "}");
        CHECK_TOKEN(main_ks, tu_token(rsa_a, JV_ALG_RS256, h, payload_json), TU_ALL_ALGS,
                    JV_ERR_BAD_HEADER);
        free(h);
    }

    /* Big headers are fine when well-formed, and unknown members ignored. */
    tu_case("large header");
    {
        char *pad = tu_malloc(6001), *extra;
        memset(pad, 'x', 6000);
        pad[6000] = '\0';
        extra = tu_fmt("\"x-pad\":\"%s\",\"cty\":\"JWT\",\"x5t\":\"abc\"", pad);
        CHECK_TOKEN(main_ks, token(rsa_a, JV_ALG_RS256, "rsa-a", extra, payload_json), TU_ALL_ALGS,
                    JV_OK);
        free(extra);
        free(pad);
    }
    tu_case("header with non-ASCII UTF-8");
    CHECK_TOKEN(main_ks,
                token(rsa_a, JV_ALG_RS256, "rsa-a",
                      "\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", payload_json),
                TU_ALL_ALGS, JV_OK);
}

/* The size cap comes first: nothing of an oversized token is parsed. */
static void
test_size(void)
{
    size_t big = 1024 * 1024;
    char *junk = tu_malloc(big + 1), *tok;
    jv_opts o;

    tu_case("1 MiB token");
    memset(junk, 'A', big);
    junk[big] = '\0';
    CHECK_ERR(verify(main_ks, junk, TU_ALL_ALGS), JV_ERR_TOKEN_TOO_LARGE);
    /* garbage without any dot is still too large, not malformed */
    memset(junk, '!', big);
    CHECK_ERR(verify(main_ks, junk, TU_ALL_ALGS), JV_ERR_TOKEN_TOO_LARGE);
    /* a real token with a 1 MiB payload */
    memset(junk, 'a', big);
    memcpy(junk, "{\"a\":\"", 6);
    memcpy(junk + big - 2, "\"}", 2);
    tok = token(ed, JV_ALG_EDDSA, "ed", NULL, junk);
    CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS), JV_ERR_TOKEN_TOO_LARGE);
    tu_case("1 MiB token, limit raised");
    o = tu_opts(TU_ALL_ALGS, 1700000000);
    o.max_token_bytes = strlen(tok);
    CHECK_ERR(tu_verify(main_ks, tok, &o), JV_OK);
    free(tok);
    free(junk);

    tu_case("max_token_bytes boundary");
    tok = good_token(JV_ALG_RS256);
    o = tu_opts(TU_ALL_ALGS, 1700000000);
    o.max_token_bytes = strlen(tok);
    CHECK_ERR(tu_verify(main_ks, tok, &o), JV_OK);
    o.max_token_bytes = strlen(tok) - 1;
    CHECK_ERR(tu_verify(main_ks, tok, &o), JV_ERR_TOKEN_TOO_LARGE);
    o.max_token_bytes = 1;
    CHECK_ERR(tu_verify(main_ks, tok, &o), JV_ERR_TOKEN_TOO_LARGE);
    free(tok);

    /* The default limit, JV_MAX_TOKEN_BYTES_DEFAULT, to the byte: payload
     * and header padding chosen so the token is exactly that long. */
    tu_case("default limit");
    {
        size_t target = JV_MAX_TOKEN_BYTES_DEFAULT, found = 0;
        for (size_t hpad = 0; hpad < 4 && !found; hpad++) {
            char *hx = tu_fmt("\"x\":\"%.*s\"", (int)hpad, "yyyy");
            char *probe = token(ed, JV_ALG_EDDSA, "ed", hx, "{\"a\":\"\"}");
            size_t base = strlen(probe);
            free(probe);
            for (size_t n = (target - base) * 3 / 4 - 4; n < (target - base) * 3 / 4 + 4; n++) {
                char *pl = tu_malloc(n + 10), *t;
                size_t tl;
                memset(pl, 'a', n + 9);
                memcpy(pl, "{\"a\":\"", 6);
                memcpy(pl + n + 6, "\"}", 3);
                t = token(ed, JV_ALG_EDDSA, "ed", hx, pl);
                tl = strlen(t);
                if (tl == target || tl == target + 1) {
                    o = tu_opts(TU_ALL_ALGS, 1700000000);
                    tu_case("default limit: token of %zu bytes", tl);
                    CHECK_ERR(tu_verify(main_ks, t, &o),
                              tl == target ? JV_OK : JV_ERR_TOKEN_TOO_LARGE);
                    found |= tl == target;
                }
                free(t);
                free(pl);
            }
            free(hx);
        }
        CHECK(found);
    }
}

/* RFC 7518 §3.5: the PSS salt is as long as the hash. */
static void
test_pss_salt(void)
{
    static const struct {
        int alg, salt;
        jv_err want;
    } cases[] = {
        {JV_ALG_PS256, 32, JV_OK},
        {JV_ALG_PS256, 0, JV_ERR_BAD_SIGNATURE},
        {JV_ALG_PS256, 20, JV_ERR_BAD_SIGNATURE},
        {JV_ALG_PS256, 64, JV_ERR_BAD_SIGNATURE},
        {JV_ALG_PS384, 48, JV_OK},
        {JV_ALG_PS384, 32, JV_ERR_BAD_SIGNATURE},
        {JV_ALG_PS512, 64, JV_OK},
        {JV_ALG_PS512, 32, JV_ERR_BAD_SIGNATURE},
        {JV_ALG_PS512, 0, JV_ERR_BAD_SIGNATURE},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *h = header_json(jv_alg_name(cases[i].alg), "rsa-a", NULL);
        char *si = tu_signing_input((const uint8_t *)h, strlen(h), (const uint8_t *)payload_json,
                                    strlen(payload_json));
        size_t sl;
        uint8_t *sig =
            tu_sign(rsa_a, cases[i].alg, (const uint8_t *)si, strlen(si), cases[i].salt, &sl);
        tu_case("%s with a salt of %d bytes", jv_alg_name(cases[i].alg), cases[i].salt);
        CHECK_TOKEN(main_ks, tu_attach(si, sig, sl), TU_ALL_ALGS, cases[i].want);
        free(sig);
        free(si);
        free(h);
    }
}

/* A JWS payload is bytes: returned exactly, whatever they are. */
static void
test_result(void)
{
    static const uint8_t bytes[] = {'b', 'i', 'n', 0, 0xff, 0xfe, '\n', 0x80, '"'};
    static const char h[] = "{\"alg\":\"EdDSA\",\"kid\":\"ed\",\"n\":9007199254740993}";
    char *tok = tu_token_n(ed, JV_ALG_EDDSA, (const uint8_t *)h, strlen(h), bytes, sizeof(bytes));
    jv_opts o = tu_opts(TU_ALL_ALGS, 1700000000);
    jv_result r;

    tu_case("binary payload");
    memset(&r, 0, sizeof(r));
    CHECK_ERR(jv_jws_verify(main_ks, (const uint8_t *)tok, strlen(tok), &o, &r), JV_OK);
    CHECK(r.payload_len == sizeof(bytes) && r.payload &&
          memcmp(r.payload, bytes, sizeof(bytes)) == 0);
    if (r.header) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r.header, "n");
        /* json.h: number nodes carry their text */
        CHECK(cJSON_IsNumber(n) && n->valuestring &&
              strcmp(n->valuestring, "9007199254740993") == 0);
    }
    jv_result_clear(&r);
    CHECK_ERR(tu_verify_jwt(main_ks, tok, &o), JV_ERR_BAD_PAYLOAD);
    free(tok);

    /* A failure after the header was parsed still hands back what must be freed. */
    tu_case("result after a failure");
    tok = good_token(JV_ALG_ES256);
    memset(&r, 0, sizeof(r));
    o.algs = JV_ALG_BIT(JV_ALG_RS256);
    CHECK_ERR(jv_jws_verify(main_ks, (const uint8_t *)tok, strlen(tok), &o, &r),
              JV_ERR_ALG_NOT_ALLOWED);
    jv_result_clear(&r);
    free(tok);
}

/* ---- shared vectors (../shared/vectors), skipped when absent ---- */

static const char *
vectors_dir(void)
{
    const char *d = getenv("JV_VECTORS");
    return d ? d : "../shared/vectors";
}

static uint32_t
alg_mask(const cJSON *list)
{
    const cJSON *a;
    uint32_t m = 0;

    cJSON_ArrayForEach(a, list)
    {
        int id = jv_alg_from_name((const uint8_t *)a->valuestring, strlen(a->valuestring));
        if (id >= 0)
            m |= JV_ALG_BIT(id);
    }
    return m;
}

/* RFC 7515 A.2 (RS256), A.3 (ES256), A.4 (ES512), RFC 8037 A.4 (EdDSA). */
static void
test_rfc_examples(void)
{
    char *path = tu_fmt("%s/rfc_examples.json", vectors_dir());
    char *text = tu_read_file(path, NULL);
    cJSON *doc, *t;

    if (!text) {
        printf("skipped: %s not found\n", path);
        free(path);
        return;
    }
    doc = cJSON_Parse(text);
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "tests"))
    {
        const char *id = cJSON_GetObjectItem(t, "id")->valuestring;
        char *jwks = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "jwks"));
        const char *tok = cJSON_GetObjectItem(t, "token")->valuestring;
        const char *expect = cJSON_GetObjectItem(t, "expect")->valuestring;
        const char *sig = cJSON_GetObjectItem(t, "signature")->valuestring;
        const cJSON *why = cJSON_GetObjectItem(t, "why");
        jv_opts o = tu_opts(alg_mask(cJSON_GetObjectItem(t, "algs")),
                            (int64_t)cJSON_GetObjectItem(t, "now")->valuedouble);
        jv_keyset *ks;
        jv_result r;
        jv_err rc;

        tu_case("%s", id);
        ks = tu_keyset(jwks);
        free(jwks);
        if (!ks)
            continue;
        CHECK_ERR(tu_verify(ks, tok, &o), strcmp(sig, "valid") == 0 ? JV_OK : JV_ERR_BAD_SIGNATURE);
        memset(&r, 0, sizeof(r));
        rc = jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), &o, &r);
        if (strcmp(expect, "ok") == 0) {
            CHECK_ERR(rc, JV_OK);
            if (rc == JV_OK)
                CHECK(cJSON_Compare(r.claims, cJSON_GetObjectItem(t, "claims"), 1));
        } else {
            jv_err want = why && strncmp(why->valuestring, "expired", 7) == 0 ? JV_ERR_EXPIRED
                                                                              : JV_ERR_BAD_PAYLOAD;
            CHECK_ERR(rc, want);
        }
        jv_result_clear(&r);
        jv_keyset_free(ks);
    }
    cJSON_Delete(doc);
    free(text);
    free(path);
}

/* Project Wycheproof's JWS vectors: no "invalid" one may ever pass, and the
 * "valid" ones pass whenever their key and algorithm are ones we accept. */
static void
test_wycheproof(void)
{
    static const char *private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    char *path = tu_fmt("%s/wycheproof/json_web_signature_test.json", vectors_dir());
    char *text = tu_read_file(path, NULL);
    cJSON *doc, *g;
    size_t valid = 0, valid_ok = 0, invalid = 0;

    if (!text) {
        printf("skipped: %s not found\n", path);
        free(path);
        return;
    }
    doc = cJSON_Parse(text);
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "testGroups"))
    {
        cJSON *key = cJSON_GetObjectItem(g, "public"), *t;
        char *jwk, *jwks;
        jv_keyset *ks = NULL;
        jv_err key_status = JV_ERR__COUNT;
        const char *key_alg = NULL;

        key = cJSON_Duplicate(key ? key : cJSON_GetObjectItem(g, "private"), 1);
        for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
            cJSON_DeleteItemFromObjectCaseSensitive(key, private_members[i]);
        jwk = cJSON_PrintUnformatted(key);
        jwks = tu_fmt("{\"keys\":[%s]}", jwk);
        tu_case("wycheproof group %s", cJSON_GetObjectItem(g, "comment")->valuestring);
        CHECK_ERR(jv_keyset_parse((const uint8_t *)jwks, strlen(jwks), &ks), JV_OK);
        if (ks) {
            jv_str kid;
            const char *kty;
            key_status = jv_keyset_entry(ks, 0, &kid, &kty, &key_alg);
        }
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(g, "tests"))
        {
            const char *jws = cJSON_GetObjectItem(t, "jws")->valuestring;
            const char *result = cJSON_GetObjectItem(t, "result")->valuestring;
            int id = cJSON_GetObjectItem(t, "tcId")->valueint;
            jv_opts o = tu_opts(TU_ALL_ALGS, 0);
            jv_result r;
            jv_err rc = JV_ERR__COUNT;
            int alg_differs = 0;

            memset(&r, 0, sizeof(r));
            if (ks) {
                const cJSON *ha;
                rc = jv_jws_verify(ks, (const uint8_t *)jws, strlen(jws), &o, &r);
                ha = r.header ? cJSON_GetObjectItemCaseSensitive(r.header, "alg") : NULL;
                /* RFC 7520's P-521 key says "ES521" for ES512 (an erratum
                 * jwk.c honours) */
                alg_differs =
                    key_alg && cJSON_IsString(ha) && strcmp(ha->valuestring, key_alg) &&
                    !(strcmp(key_alg, "ES521") == 0 && strcmp(ha->valuestring, "ES512") == 0);
            }
            jv_result_clear(&r);
            tu_case("wycheproof tcId %d (%s): %s", id, result,
                    cJSON_GetObjectItem(t, "comment")->valuestring);
            if (strcmp(result, "valid") == 0) {
                valid++;
                valid_ok += rc == JV_OK;
                /* Keys we refuse (HMAC, encryption keys) and HS* tokens stay
                 * refused. RFC 7520's PS384 example comes with a key that
                 * Wycheproof labels PS256: a key's alg binds it (RFC 7517
                 * §4.4), so that one is a mismatch. The rest must verify. */
                if (alg_differs)
                    CHECK_ERR(rc, JV_ERR_KEY_ALG_MISMATCH);
                else if (key_status == JV_OK && rc != JV_ERR_UNSUPPORTED_ALG)
                    CHECK_ERR(rc, JV_OK);
            } else {
                invalid++;
                CHECK_NOT_OK(rc);
            }
        }
        jv_keyset_free(ks);
        free(jwks);
        free(jwk);
        cJSON_Delete(key);
    }
    printf("wycheproof: %zu of %zu valid tokens verified, %zu invalid refused\n", valid_ok, valid,
           invalid);
    cJSON_Delete(doc);
    free(text);
    free(path);
}

/* jv_token_peek: the raw segments b64url(h) "." b64url(p) "." sig_b64, peeked. */
static jv_err
peek_raw(const char *h, size_t hlen, const char *p, size_t plen, const char *sig_b64)
{
    char *hb = tu_b64url((const uint8_t *)h, hlen), *pb = tu_b64url((const uint8_t *)p, plen);
    char *tok = tu_fmt("%s.%s.%s", hb, pb, sig_b64);
    jv_result r;
    jv_err rc = jv_token_peek((const uint8_t *)tok, strlen(tok), 0, &r);

    /* On success both trees are objects; on failure nothing is left. */
    if (rc == JV_OK)
        CHECK(cJSON_IsObject(r.header) && cJSON_IsObject(r.claims));
    jv_result_clear(&r);
    free(tok);
    free(hb);
    free(pb);
    return rc;
}

#define PEEK(h, p) peek_raw((h), strlen(h), (p), strlen(p), "c2ln")

/* jv_token_peek on a token text, the result cleared. */
static jv_err
peek_tok(const char *tok, size_t len, size_t max)
{
    jv_result r;
    jv_err rc = jv_token_peek((const uint8_t *)tok, len, max, &r);

    jv_result_clear(&r);
    return rc;
}

/* jv_token_peek checks no key and no signature, but parses exactly as
 * strictly as a verify: the same size cap, split, base64url and JSON layer. */
static void
test_peek(void)
{
    jv_result r;
    char *tok, *deep;
    size_t n = 10000;

    tu_case("peek: a forged token reads, its members as sent");
    tok = token(rsa_b, JV_ALG_RS256, "rsa-a", "\"x\":[1,2.5]", payload_json);
    CHECK_ERR(verify(main_ks, tok, TU_ALL_ALGS), JV_ERR_BAD_SIGNATURE);
    CHECK_ERR(jv_token_peek((const uint8_t *)tok, strlen(tok), 0, &r), JV_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.header, "kid")), "rsa-a");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.claims, "sub")), "1234567890");
    CHECK_STR(jv_json_number_text(cJSON_GetObjectItem(r.claims, "iat")), "1700000000");
    jv_result_clear(&r);
    free(tok);

    tu_case("peek: no rule of a verify applies");
    CHECK_ERR(PEEK("{\"alg\":\"none\"}", "{}"), JV_OK);
    CHECK_ERR(PEEK("{\"alg\":\"HS256\",\"jku\":\"x\",\"crit\":[\"b64\"],\"b64\":false}", "{}"),
              JV_OK);
    CHECK_ERR(PEEK("{}", "{\"exp\":1,\"aud\":5}"), JV_OK);
    CHECK_ERR(peek_raw("{}", 2, "{}", 2, ""), JV_OK);

    tu_case("peek: the size cap first, then the shape");
    tok = tu_malloc(JV_MAX_TOKEN_BYTES_DEFAULT + 2);
    memset(tok, '!', JV_MAX_TOKEN_BYTES_DEFAULT + 1);
    tok[JV_MAX_TOKEN_BYTES_DEFAULT + 1] = '\0';
    CHECK_ERR(peek_tok(tok, JV_MAX_TOKEN_BYTES_DEFAULT + 1, 0), JV_ERR_TOKEN_TOO_LARGE);
    CHECK_ERR(peek_tok(tok, JV_MAX_TOKEN_BYTES_DEFAULT, 0), JV_ERR_MALFORMED_TOKEN);
    CHECK_ERR(peek_tok("e30.e30.", 8, 7), JV_ERR_TOKEN_TOO_LARGE);
    CHECK_ERR(peek_tok("e30.e30.", 8, 8), JV_OK);
    free(tok);
    {
        static const char *shapes[] = {"", "e30", "e30.e30", "e30.e30..", ".e30.", "a.b.c.d.e"};
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
            tu_case("peek: shape \"%s\"", shapes[i]);
            CHECK_ERR(peek_tok(shapes[i], strlen(shapes[i]), 0), JV_ERR_MALFORMED_TOKEN);
        }
    }

    tu_case("peek: base64url of every segment");
    {
        static const char *toks[] = {"e30=.e30.", "e30.e30=.", "e30.e30.c2ln=", "e30.e30.c2l",
                                     "e3 0.e30.", "e30.e3+.",  "e30.e30.a",     "e31.e30."};
        for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
            tu_case("peek: %s", toks[i]);
            CHECK_ERR(peek_tok(toks[i], strlen(toks[i]), 0), JV_ERR_BAD_BASE64);
        }
    }

    tu_case("peek: hostile headers");
    {
        static const char *headers[] = {
            "[]",    "\"x\"",      "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}",
            "{} {}", "{\"a\":01}", "{\"a\":\"\xff\"}",  "{\"a\":\"\xed\xa0\x80\"}"};
        for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
            tu_case("peek: header %s", headers[i]);
            CHECK_ERR(PEEK(headers[i], "{}"), JV_ERR_BAD_HEADER);
        }
        CHECK_ERR(peek_raw("{\"a\":\"\0\"}", 8, "{}", 2, ""), JV_ERR_BAD_HEADER);
    }

    tu_case("peek: hostile payloads");
    {
        static const char *payloads[] = {"",
                                         "[]",
                                         "1",
                                         "null",
                                         "{\"sub\":\"a\",\"sub\":\"b\"}",
                                         "{\"a\":\"\xc0\x80\"}",
                                         "{\"a\":1.}",
                                         "{\"a\":1}x"};
        for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
            tu_case("peek: payload %s", payloads[i]);
            CHECK_ERR(PEEK("{}", payloads[i]), JV_ERR_BAD_PAYLOAD);
        }
    }

    tu_case("peek: nesting %zu deep, and at the limit", n);
    deep = tu_malloc(2 * n + 16);
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', n);
    memset(deep + 5 + n, ']', n);
    strcpy(deep + 5 + 2 * n, "}");
    CHECK_ERR(PEEK(deep, "{}"), JV_ERR_BAD_HEADER);
    CHECK_ERR(PEEK("{}", deep), JV_ERR_BAD_PAYLOAD);
    n = JV_MAX_JSON_DEPTH - 1;
    memset(deep + 5, '[', n);
    memset(deep + 5 + n, ']', n);
    strcpy(deep + 5 + 2 * n, "}");
    CHECK_ERR(PEEK(deep, deep), JV_OK);
    free(deep);
}

static jv_keyset *
make_main_keyset(void)
{
    return keyset_of(tu_jwk(rsa_a, "\"kid\":\"rsa-a\""), tu_jwk(rsa_b, "\"kid\":\"rsa-b\""),
                     tu_jwk(ec256, "\"kid\":\"ec256\""), tu_jwk(ec384, "\"kid\":\"ec384\""),
                     tu_jwk(ec521, "\"kid\":\"ec521\""), tu_jwk(ed, "\"kid\":\"ed\""),
                     tu_jwk(rsa_small, "\"kid\":\"small\""),
                     tu_jwk(rsa_a, "\"kid\":\"enc\",\"use\":\"enc\""),
                     tu_jwk(rsa_a, "\"kid\":\"rs384-only\",\"alg\":\"RS384\""),
                     tu_jwk(rsa_b, "\"kid\":\"ps256-only\",\"alg\":\"PS256\""),
                     tu_jwk(rsa_a, "\"kid\":\"hs\",\"alg\":\"HS256\""),
                     tu_jwk(ec256, "\"kid\":\"dup\""), tu_jwk(ed, "\"kid\":\"dup\""), NULL);
}

int
main(void)
{
    rsa_a = tu_rsa_key(2048);
    rsa_b = tu_rsa_key(2048);
    rsa_small = tu_rsa_key(1024);
    ec256 = tu_ec_key("P-256");
    ec384 = tu_ec_key("P-384");
    ec521 = tu_ec_key("P-521");
    ec256_b = tu_ec_key("P-256");
    ed = tu_ed25519_key();
    ed_b = tu_ed25519_key();
    main_ks = make_main_keyset();
    if (!main_ks)
        return tu_done();

    test_every_alg();
    test_tampered();
    test_every_char_changed();
    test_every_truncation();
    test_wrong_key();
    test_kid();
    test_no_kid();
    test_private_key();
    test_alg_none();
    test_hmac();
    test_embedded_keys();
    test_crit();
    test_es_range();
    test_sig_length();
    test_segment_encoding();
    test_structure();
    test_header_json();
    test_size();
    test_pss_salt();
    test_result();
    test_peek();
    test_rfc_examples();
    test_wycheproof();

    jv_keyset_free(main_ks);
    EVP_PKEY_free(rsa_a);
    EVP_PKEY_free(rsa_b);
    EVP_PKEY_free(rsa_small);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ec521);
    EVP_PKEY_free(ec256_b);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ed_b);
    return tu_done();
}
