/*
 * test_sig.c - guards c_src/sig.c: the algorithm table and the signature
 * primitives under both key sets and tokens.
 *
 * The table must say what RFC 7518 §3.1 and RFC 8037 §3.1 say of each
 * algorithm; names are exact and length-delimited; raw ECDSA r||s must come
 * out as the DER OpenSSL itself writes; and a key used directly (no JWK, no
 * token) must verify exactly what OpenSSL signed: with or without its
 * prepared template, under another algorithm of its type, and never a
 * signature of the wrong length, with r or s outside [1, n-1], or changed.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "sig.h"
#include "test_util.h"

static void
test_alg_table(void)
{
    static const struct {
        int kty, crv, md, pss;
    } want[JV_ALG__COUNT] = {
        {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA256, 0}, {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA384, 0},
        {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA512, 0}, {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA256, 1},
        {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA384, 1}, {JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA512, 1},
        {JV_KTY_EC, JV_CRV_P256, JV_MD_SHA256, 0},  {JV_KTY_EC, JV_CRV_P384, JV_MD_SHA384, 0},
        {JV_KTY_EC, JV_CRV_P521, JV_MD_SHA512, 0},  {JV_KTY_OKP, JV_CRV_ED25519, -1, 0},
    };

    tu_case("algorithm table");
    CHECK(jv_alg_info_get(-1) == NULL);
    CHECK(jv_alg_info_get(JV_ALG__COUNT) == NULL);
    for (int a = 0; a < JV_ALG__COUNT; a++) {
        const jv_alg_info *ai = jv_alg_info_get(a);
        tu_case("algorithm table: %s", jv_alg_name(a));
        CHECK(ai != NULL);
        if (!ai)
            continue;
        CHECK_STR(ai->name, jv_alg_name(a));
        CHECK_INT(ai->kty, want[a].kty);
        CHECK_INT(ai->crv, want[a].crv);
        CHECK_INT(ai->md, want[a].md);
        CHECK_INT(ai->pss, want[a].pss);
        CHECK(ai->verify != NULL);
    }
}

static void
test_alg_names(void)
{
    static const char *algs[JV_ALG__COUNT] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                              "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    static const char *unknown[] = {"none",   "HS256", "rs256", "RS25",
                                    "RS2566", "EDDSA", "ES521", ""};

    tu_case("jv_alg_from_name / jv_alg_name");
    for (int i = 0; i < JV_ALG__COUNT; i++) {
        CHECK_STR(jv_alg_name(i), algs[i]);
        CHECK_INT(jv_alg_from_name((const uint8_t *)algs[i], strlen(algs[i])), i);
        /* length-delimited: a trailing NUL is another name */
        CHECK_INT(jv_alg_from_name((const uint8_t *)algs[i], strlen(algs[i]) + 1), -1);
        CHECK_INT(jv_alg_from_name((const uint8_t *)algs[i], strlen(algs[i]) - 1), -1);
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        CHECK_INT(jv_alg_from_name((const uint8_t *)unknown[i], strlen(unknown[i])), -1);
    CHECK(jv_alg_name(-1) == NULL);
    CHECK(jv_alg_name(JV_ALG__COUNT) == NULL);
}

/* Raw r||s to DER must give what OpenSSL's own encoder gives, for
 * every length class: high bit set (a zero pad), leading zeros (shorter
 * integers), zero, and P-521's long form (over 127 bytes of content). */
static void
test_raw_to_der(void)
{
    static const size_t coords[] = {32, 48, 66};
    uint32_t seed = 0x9e3779b9u;

    for (size_t ci = 0; ci < 3; ci++) {
        size_t c = coords[ci];
        for (int pattern = 0; pattern < 8; pattern++) {
            uint8_t raw[132], der[JV_ECDSA_DER_MAX], *want = NULL;
            size_t got_len;
            int want_len;
            ECDSA_SIG *s = ECDSA_SIG_new();

            for (size_t i = 0; i < 2 * c; i++) {
                seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
                raw[i] = (uint8_t)seed;
            }
            switch (pattern) {
            case 0: /* both high bits set */
                raw[0] |= 0x80, raw[c] |= 0x80;
                break;
            case 1: /* both high bits clear */
                raw[0] &= 0x7f, raw[c] &= 0x7f;
                break;
            case 2: /* leading zero bytes, then a high bit */
                memset(raw, 0, 3), raw[3] |= 0x80;
                break;
            case 3: /* s mostly zeros */
                memset(raw + c, 0, c - 1);
                break;
            case 4: /* r = 0 */
                memset(raw, 0, c);
                break;
            case 5: /* all ones: the longest encoding */
                memset(raw, 0xff, 2 * c);
                break;
            case 6: /* r = 1, s = 1 */
                memset(raw, 0, 2 * c), raw[c - 1] = 1, raw[2 * c - 1] = 1;
                break;
            default: /* a zero byte then a high bit in s */
                raw[c] = 0, raw[c + 1] |= 0x80;
            }
            ECDSA_SIG_set0(s, BN_bin2bn(raw, (int)c, NULL), BN_bin2bn(raw + c, (int)c, NULL));
            want_len = i2d_ECDSA_SIG(s, &want);
            got_len = jv_ecdsa_raw_to_der(raw, c, der);
            tu_case("raw to DER, coordinates of %zu bytes, pattern %d", c, pattern);
            CHECK(want_len > 0 && (size_t)want_len <= JV_ECDSA_DER_MAX);
            CHECK_INT(got_len, want_len);
            CHECK(got_len == (size_t)want_len && memcmp(der, want, got_len) == 0);
            OPENSSL_free(want);
            ECDSA_SIG_free(s);
        }
    }
}

static jv_digests digests;

/* A key as jwk.c would fill it; it owns pk from here on. */
static jv_sig_key
sig_key(EVP_PKEY *pk, int kty, int crv, int alg, size_t len)
{
    jv_sig_key k;

    memset(&k, 0, sizeof(k));
    k.pkey = pk;
    k.kty = kty;
    k.crv = crv;
    k.alg = alg;
    k.len = len;
    k.tmpl_alg = -1;
    if (kty == JV_KTY_EC)
        tu_ec_order(pk, k.order, len / 2);
    return k;
}

static jv_err
key_verify(const jv_sig_key *k, int alg, const uint8_t *tbs, size_t tbs_len, const uint8_t *sig,
           size_t sig_len)
{
    return jv_sig_key_verify(k, &digests, alg, tbs, tbs_len, sig, sig_len);
}

/* What OpenSSL signed as alg verifies; the same changed does not. */
static void
check_verify(const jv_sig_key *k, int alg)
{
    static const uint8_t tbs[] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0";
    size_t n = sizeof(tbs) - 1, len = 0;
    uint8_t *sig = tu_sign(k->pkey, alg, tbs, n, -1, &len), *longer;

    tu_case("%s, %s template", jv_alg_name(alg), k->tmpl ? "with a" : "without");
    CHECK(sig != NULL);
    if (!sig)
        return;
    CHECK_INT(len, k->len);
    CHECK_ERR(key_verify(k, alg, tbs, n, sig, len), JV_OK);
    CHECK_ERR(key_verify(k, alg, tbs, n - 1, sig, len), JV_ERR_BAD_SIGNATURE);
    CHECK_ERR(key_verify(k, alg, tbs, n, sig, len - 1), JV_ERR_BAD_SIGNATURE_LENGTH);
    longer = tu_malloc(len + 1);
    memcpy(longer, sig, len);
    longer[len] = 0;
    CHECK_ERR(key_verify(k, alg, tbs, n, longer, len + 1), JV_ERR_BAD_SIGNATURE_LENGTH);
    free(longer);
    sig[len - 1] ^= 1;
    CHECK_ERR(key_verify(k, alg, tbs, n, sig, len), JV_ERR_BAD_SIGNATURE);
    free(sig);
}

/* FIPS 186-4 §6.4: r and s in [1, n-1], refused before OpenSSL sees them. */
static void
check_range(const jv_sig_key *k, int alg)
{
    static const uint8_t tbs[] = "a.b";
    size_t c = k->len / 2;
    uint8_t sig[132];

    tu_case("%s: r and s at the ends of [1, n-1]", jv_alg_name(alg));
    memset(sig, 0, sizeof(sig));
    sig[2 * c - 1] = 1;
    CHECK_ERR(key_verify(k, alg, tbs, 3, sig, 2 * c), JV_ERR_SIGNATURE_OUT_OF_RANGE); /* r = 0 */
    sig[c - 1] = 1;
    CHECK_ERR(key_verify(k, alg, tbs, 3, sig, 2 * c), JV_ERR_BAD_SIGNATURE); /* r = s = 1 */
    memcpy(sig + c, k->order, c);
    CHECK_ERR(key_verify(k, alg, tbs, 3, sig, 2 * c), JV_ERR_SIGNATURE_OUT_OF_RANGE); /* s = n */
    sig[2 * c - 1] -= 1;
    CHECK_ERR(key_verify(k, alg, tbs, 3, sig, 2 * c), JV_ERR_BAD_SIGNATURE); /* s = n - 1 */
    memcpy(sig, k->order, c);
    CHECK_ERR(key_verify(k, alg, tbs, 3, sig, 2 * c), JV_ERR_SIGNATURE_OUT_OF_RANGE); /* r = n */
}

/* Verifies as each of algs before and after the template is prepared for
 * want_tmpl, then frees the key. */
static void
check_key(jv_sig_key k, const int *algs, size_t n_algs, int want_tmpl)
{
    for (size_t i = 0; i < n_algs; i++)
        check_verify(&k, algs[i]);
    tu_case("prepare for %s", jv_alg_name(want_tmpl));
    CHECK_ERR(jv_sig_key_prepare(&k, &digests), JV_OK);
    CHECK(k.tmpl != NULL);
    CHECK_INT(k.tmpl_alg, want_tmpl);
    for (size_t i = 0; i < n_algs; i++) {
        check_verify(&k, algs[i]);
        if (k.kty == JV_KTY_EC)
            check_range(&k, algs[i]);
    }
    jv_sig_key_clear(&k);
    tu_case("clear");
    CHECK(k.pkey == NULL && k.tmpl == NULL);
    CHECK_INT(k.tmpl_alg, -1);
}

static void
test_key_verify(void)
{
    static const int rsa[] = {JV_ALG_RS256, JV_ALG_RS384, JV_ALG_RS512,
                              JV_ALG_PS256, JV_ALG_PS384, JV_ALG_PS512};
    static const int es256[] = {JV_ALG_ES256}, es384[] = {JV_ALG_ES384};
    static const int es512[] = {JV_ALG_ES512}, eddsa[] = {JV_ALG_EDDSA};
    static const int ps384[] = {JV_ALG_PS384};

    check_key(sig_key(tu_rsa_key(2048), JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, 256), rsa, 6,
              JV_ALG_RS256);
    check_key(sig_key(tu_rsa_key(2048), JV_KTY_RSA, JV_CRV_NONE, JV_ALG_PS384, 256), ps384, 1,
              JV_ALG_PS384);
    check_key(sig_key(tu_ec_key("P-256"), JV_KTY_EC, JV_CRV_P256, JV_KEY_ALG_ANY, 64), es256, 1,
              JV_ALG_ES256);
    check_key(sig_key(tu_ec_key("P-384"), JV_KTY_EC, JV_CRV_P384, JV_KEY_ALG_ANY, 96), es384, 1,
              JV_ALG_ES384);
    check_key(sig_key(tu_ec_key("P-521"), JV_KTY_EC, JV_CRV_P521, JV_KEY_ALG_ANY, 132), es512, 1,
              JV_ALG_ES512);
    check_key(sig_key(tu_ed25519_key(), JV_KTY_OKP, JV_CRV_ED25519, JV_KEY_ALG_ANY, 64), eddsa, 1,
              JV_ALG_EDDSA);
}

/* RFC 8725 §3.1: an algorithm fits a key of its type (and curve) that
 * names no algorithm or names it. */
static void
test_key_fits(void)
{
    static const struct {
        int kty, crv, key_alg, alg;
        jv_err want;
    } cases[] = {
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, JV_ALG_RS256, JV_OK},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, JV_ALG_PS512, JV_OK},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, JV_ALG_ES256, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, JV_ALG_EDDSA, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_ALG_RS384, JV_ALG_RS384, JV_OK},
        {JV_KTY_RSA, JV_CRV_NONE, JV_ALG_RS384, JV_ALG_RS256, JV_ERR_KEY_ALG_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_ALG_RS384, JV_ALG_ES384, JV_ERR_KEY_ALG_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_OTHER, JV_ALG_RS256, JV_ERR_KEY_ALG_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_ALG_ES256, JV_ALG_ES256, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_EC, JV_CRV_P256, JV_KEY_ALG_ANY, JV_ALG_ES256, JV_OK},
        {JV_KTY_EC, JV_CRV_P256, JV_KEY_ALG_ANY, JV_ALG_ES384, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_EC, JV_CRV_P521, JV_KEY_ALG_ANY, JV_ALG_ES512, JV_OK},
        {JV_KTY_EC, JV_CRV_P256, JV_KEY_ALG_ANY, JV_ALG_RS256, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_OKP, JV_CRV_ED25519, JV_KEY_ALG_ANY, JV_ALG_EDDSA, JV_OK},
        {JV_KTY_OKP, JV_CRV_ED25519, JV_KEY_ALG_ANY, JV_ALG_ES256, JV_ERR_KEY_TYPE_MISMATCH},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, -1, JV_ERR_UNSUPPORTED_ALG},
        {JV_KTY_RSA, JV_CRV_NONE, JV_KEY_ALG_ANY, JV_ALG__COUNT, JV_ERR_UNSUPPORTED_ALG},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jv_sig_key k;
        memset(&k, 0, sizeof(k));
        k.kty = cases[i].kty;
        k.crv = cases[i].crv;
        k.alg = cases[i].key_alg;
        tu_case("fits: case %zu", i);
        CHECK_ERR(jv_sig_key_fits(&k, cases[i].alg), cases[i].want);
    }
}

/* A key naming an algorithm of another type gets no template: it fits no
 * token, so none would be used. */
static void
test_prepare_misfit(void)
{
    jv_sig_key k = sig_key(tu_rsa_key(2048), JV_KTY_RSA, JV_CRV_NONE, JV_ALG_ES256, 256);

    tu_case("prepare: RSA key with alg ES256");
    CHECK_ERR(jv_sig_key_prepare(&k, &digests), JV_OK);
    CHECK(k.tmpl == NULL);
    CHECK_INT(k.tmpl_alg, -1);
    jv_sig_key_clear(&k);
}

int
main(void)
{
    test_alg_table();
    test_alg_names();
    test_raw_to_der();
    tu_case("jv_digests_fetch");
    CHECK_ERR(jv_digests_fetch(&digests), JV_OK);
    test_key_fits();
    test_key_verify();
    test_prepare_misfit();
    jv_digests_free(&digests);
    CHECK(digests.md[0] == NULL);
    return tu_done();
}
