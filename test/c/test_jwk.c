/*
 * test_jwk.c - guards c_src/jwk.c: JWK and JWKS parsing.
 *
 * A key set is built once from untrusted JSON, so each JWK must come out
 * either usable or refused with its exact reason: RSA under 2048 bits, weak
 * exponents (1, even, 3), ROCA moduli, EC points off their curve, keys for
 * encryption (use/key_ops), private key material (and its public twin),
 * unknown kty or crv (skipped, not fatal), and a document of more than
 * JV_MAX_KEYS keys or JV_MAX_JWKS_BYTES bytes refused whole. The keys come
 * from OpenSSL's key generation, never from the core.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "jwk.h"
#include "test_util.h"

static EVP_PKEY *rsa2048, *rsa1024, *ec256, *ec384, *ec521, *ed;

static jv_err
parse_n(const char *json, size_t len, jv_keyset **ks)
{
    *ks = (jv_keyset *)1;
    jv_err rc = jv_keyset_parse((const uint8_t *)json, len, ks);

    if (rc != JV_OK)
        CHECK(*ks == NULL);
    return rc;
}

static jv_err
parse_doc(const char *json)
{
    jv_keyset *ks;
    jv_err rc = parse_n(json, strlen(json), &ks);

    jv_keyset_free(ks);
    return rc;
}

/* The status of the only key of a one-key set made from jwk. */
static jv_err
key_status(const char *jwk)
{
    char *doc = tu_jwks(jwk, NULL);
    jv_keyset *ks = NULL;
    jv_err rc = parse_n(doc, strlen(doc), &ks), st = JV_ERR__COUNT;

    CHECK_ERR(rc, JV_OK);
    if (rc == JV_OK) {
        jv_str kid;
        const char *kty, *alg;
        CHECK_INT(jv_keyset_size(ks), 1);
        st = jv_keyset_entry(ks, 0, &kid, &kty, &alg);
    }
    jv_keyset_free(ks);
    free(doc);
    return st;
}

/* Checks the status of a JWK given as text, freeing the text. */
#define CHECK_KEY(jwk_text, want)                                                                  \
    do {                                                                                           \
        char *jwk_ = (jwk_text);                                                                   \
        CHECK_ERR(key_status(jwk_), want);                                                         \
        free(jwk_);                                                                                \
    } while (0)

/* The few cases where jv.h leaves two codes open. */
#define CHECK_KEY2(jwk_text, want1, want2)                                                         \
    do {                                                                                           \
        char *jwk_ = (jwk_text);                                                                   \
        CHECK_ERR2(key_status(jwk_), want1, want2);                                                \
        free(jwk_);                                                                                \
    } while (0)

static void
test_every_kty(void)
{
    char *k[6], *doc;
    jv_keyset *ks;
    static const struct {
        const char *kid, *kty, *alg;
    } want[] = {{"rsa", "RSA", "RS256"}, {"p256", "EC", NULL},   {"p384", "EC", "ES384"},
                {"p521", "EC", NULL},    {"ed", "OKP", "EdDSA"}, {NULL, "RSA", NULL}};

    static const size_t sig_len[] = {256, 64, 96, 132, 64, 256};
    EVP_PKEY *pkeys[] = {rsa2048, ec256, ec384, ec521, ed, rsa2048};

    k[0] = tu_jwk(rsa2048, "\"kid\":\"rsa\",\"alg\":\"RS256\",\"use\":\"sig\"");
    k[1] = tu_jwk(ec256, "\"kid\":\"p256\"");
    k[2] = tu_jwk(ec384, "\"kid\":\"p384\",\"alg\":\"ES384\"");
    k[3] = tu_jwk(ec521, "\"kid\":\"p521\",\"key_ops\":[\"verify\"]");
    k[4] = tu_jwk(ed, "\"kid\":\"ed\",\"alg\":\"EdDSA\"");
    k[5] = tu_jwk(rsa2048, NULL);
    doc = tu_jwks(k[0], k[1], k[2], k[3], k[4], k[5], NULL);
    tu_case("RSA, EC P-256/384/521 and OKP Ed25519 in one set");
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
    if (ks) {
        CHECK_INT(jv_keyset_size(ks), 6);
        for (size_t i = 0; i < 6; i++) {
            jv_str kid;
            const char *kty, *alg;
            tu_case("entry %zu", i);
            CHECK_ERR(jv_keyset_entry(ks, i, &kid, &kty, &alg), JV_OK);
            if (want[i].kid)
                CHECK_STRN(kid.p, kid.len, want[i].kid);
            else
                CHECK(kid.p == NULL);
            CHECK_STR(kty, want[i].kty);
            if (want[i].alg)
                CHECK_STR(alg, want[i].alg);
            else
                CHECK(alg == NULL);
            /* jwk.h: what the verify path relies on, prepared by sig.c */
            CHECK_INT(ks->keys[i].sig.len, sig_len[i]);
            CHECK(ks->keys[i].sig.pkey != NULL);
            CHECK(ks->keys[i].sig.tmpl != NULL);
            if (ks->keys[i].sig.kty == JV_KTY_EC) {
                uint8_t order[66];
                tu_ec_order(pkeys[i], order, sig_len[i] / 2);
                CHECK(memcmp(ks->keys[i].sig.order, order, sig_len[i] / 2) == 0);
            }
        }
        CHECK_INT(ks->keys[0].sig.kty, JV_KTY_RSA);
        CHECK_INT(ks->keys[0].sig.alg, JV_ALG_RS256);
        CHECK_INT(ks->keys[1].sig.crv, JV_CRV_P256);
        CHECK_INT(ks->keys[1].sig.alg, JV_KEY_ALG_ANY);
        CHECK_INT(ks->keys[2].sig.crv, JV_CRV_P384);
        CHECK_INT(ks->keys[3].sig.crv, JV_CRV_P521);
        CHECK_INT(ks->keys[4].sig.kty, JV_KTY_OKP);
        CHECK_INT(ks->keys[4].sig.crv, JV_CRV_ED25519);
        CHECK_INT(ks->keys[4].sig.alg, JV_ALG_EDDSA);
    }
    jv_keyset_free(ks);
    free(doc);
    for (size_t i = 0; i < 6; i++)
        free(k[i]);

    /* A bare JWK is read as a set of one (jwk.c). */
    tu_case("bare JWK");
    doc = tu_jwk(ed, "\"kid\":\"solo\"");
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
    if (ks)
        CHECK_INT(jv_keyset_size(ks), 1);
    jv_keyset_free(ks);
    free(doc);

    tu_case("empty set");
    CHECK_ERR(parse_n("{\"keys\":[]}", 11, &ks), JV_OK);
    if (ks)
        CHECK_INT(jv_keyset_size(ks), 0);
    jv_keyset_free(ks);
    jv_keyset_free(NULL);
}

/* An RSA JWK with the modulus of k and the exponent text e. */
static char *
rsa_with_e(EVP_PKEY *k, const char *e)
{
    char *n = tu_bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
    char *jwk = tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n, e);

    free(n);
    return jwk;
}

static char *
rsa_with_bn(const BIGNUM *n)
{
    size_t len = (size_t)BN_num_bytes(n);
    uint8_t *buf = tu_malloc(len);
    char *b64, *jwk;

    BN_bn2bin(n, buf);
    b64 = tu_b64url(buf, len);
    jwk = tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", b64);
    free(b64);
    free(buf);
    return jwk;
}

/* A 2048-bit odd modulus congruent to 1 modulo every prime ROCA tests up to
 * 167: 1 = 65537^0 is in the subgroup 65537 generates, so it carries the
 * fingerprint of CVE-2017-15361 keys. */
static char *
roca_jwk(void)
{
    static const unsigned primes[] = {
        3,  5,  7,  11, 13, 17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,  61,  67,  71,
        73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *m = BN_new(), *n = BN_new(), *r = BN_new(), *one = BN_new();
    char *jwk;

    BN_one(m);
    BN_one(one);
    for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
        BN_mul_word(m, primes[i]);
    /* n = 2^2047 + ((1 - 2^2047) mod m), made odd by adding m (odd) */
    BN_set_bit(n, 2047);
    BN_sub(r, one, n);
    BN_nnmod(r, r, m, ctx);
    BN_add(n, n, r);
    if (!BN_is_odd(n))
        BN_add(n, n, m);
    jwk = rsa_with_bn(n);
    BN_free(m);
    BN_free(n);
    BN_free(r);
    BN_free(one);
    BN_CTX_free(ctx);
    return jwk;
}

static void
test_rsa(void)
{
    BIGNUM *n = NULL;

    tu_case("RSA-2048");
    CHECK_KEY(tu_jwk(rsa2048, NULL), JV_OK);
    tu_case("RSA-1024");
    CHECK_KEY(tu_jwk(rsa1024, NULL), JV_ERR_RSA_KEY_TOO_SMALL);
    CHECK_KEY(tu_jwk(rsa1024, "\"kid\":\"small\",\"alg\":\"RS256\",\"use\":\"sig\""),
              JV_ERR_RSA_KEY_TOO_SMALL);

    /* 2047 bits: the 2048-bit modulus shifted right, kept odd. */
    tu_case("RSA-2047");
    EVP_PKEY_get_bn_param(rsa2048, OSSL_PKEY_PARAM_RSA_N, &n);
    BN_rshift1(n, n);
    BN_set_bit(n, 0);
    CHECK_INT(BN_num_bits(n), 2047);
    CHECK_KEY(rsa_with_bn(n), JV_ERR_RSA_KEY_TOO_SMALL);
    BN_free(n);

    /* e = 65537 written with a leading zero byte is still 65537. */
    tu_case("RSA exponents");
    CHECK_KEY(rsa_with_e(rsa2048, "AQAB"), JV_OK);
    CHECK_KEY(rsa_with_e(rsa2048, "AQ"), JV_ERR_WEAK_RSA_EXPONENT);     /* 1 */
    CHECK_KEY(rsa_with_e(rsa2048, "Ag"), JV_ERR_WEAK_RSA_EXPONENT);     /* 2 */
    CHECK_KEY(rsa_with_e(rsa2048, "Aw"), JV_ERR_WEAK_RSA_EXPONENT);     /* 3 */
    CHECK_KEY(rsa_with_e(rsa2048, "EQ"), JV_ERR_WEAK_RSA_EXPONENT);     /* 17 */
    CHECK_KEY(rsa_with_e(rsa2048, "AQAA"), JV_ERR_WEAK_RSA_EXPONENT);   /* 65536 */
    CHECK_KEY(rsa_with_e(rsa2048, "AQAC"), JV_ERR_WEAK_RSA_EXPONENT);   /* 65538, even */
    CHECK_KEY(rsa_with_e(rsa2048, "AQAD"), JV_OK);                      /* 65539 */
    CHECK_KEY(rsa_with_e(rsa2048, "AQAAAAE"), JV_OK);                   /* 2^32 + 1 */
    CHECK_KEY(rsa_with_e(rsa2048, "AAAAAQ"), JV_ERR_WEAK_RSA_EXPONENT); /* 1 behind zeros */
    CHECK_KEY2(rsa_with_e(rsa2048, "AA"), JV_ERR_WEAK_RSA_EXPONENT, JV_ERR_INVALID_KEY); /* 0 */

    tu_case("ROCA fingerprint");
    CHECK_KEY(roca_jwk(), JV_ERR_ROCA_WEAK_KEY);

    tu_case("RSA members missing or malformed");
    CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\"}", "AQAB"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":12345,\"e\":\"AQAB\"}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}"), JV_ERR_INVALID_KEY);
    {
        char *nb = tu_bn_b64(rsa2048, OSSL_PKEY_PARAM_RSA_N, 0);
        /* padding, standard alphabet, whitespace: strict base64url */
        CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", nb), JV_OK);
        CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB=\"}", nb), JV_ERR_INVALID_KEY);
        CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s \",\"e\":\"AQAB\"}", nb), JV_ERR_INVALID_KEY);
        CHECK_KEY(tu_fmt("{\"kty\":\"RSA\",\"n\":\"+%s\",\"e\":\"AQAB\"}", nb + 1),
                  JV_ERR_INVALID_KEY);
        /* an even modulus is no RSA modulus */
        nb[strlen(nb) - 1] = 'A';
        {
            char *jwk = tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", nb);
            tu_case("even modulus");
            CHECK_NOT_OK(key_status(jwk));
            free(jwk);
        }
        free(nb);
    }
}

/* An EC JWK from raw coordinates. */
static char *
ec_jwk(const char *crv, const uint8_t *x, size_t xlen, const uint8_t *y, size_t ylen)
{
    char *xb = tu_b64url(x, xlen), *yb = tu_b64url(y, ylen);
    char *jwk = tu_fmt("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", crv, xb, yb);

    free(xb);
    free(yb);
    return jwk;
}

static void
ec_coords(EVP_PKEY *k, uint8_t *x, uint8_t *y, size_t *coord)
{
    BIGNUM *bx = NULL, *by = NULL;

    tu_ec_crv(k, coord);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by);
    BN_bn2binpad(bx, x, (int)*coord);
    BN_bn2binpad(by, y, (int)*coord);
    BN_free(bx);
    BN_free(by);
}

static void
test_ec(void)
{
    EVP_PKEY *keys[] = {ec256, ec384, ec521};

    for (size_t i = 0; i < 3; i++) {
        uint8_t x[66], y[66], z[67];
        size_t c;
        const char *crv = tu_ec_crv(keys[i], &c);

        ec_coords(keys[i], x, y, &c);
        tu_case("EC %s", crv);
        CHECK_KEY(tu_jwk(keys[i], NULL), JV_OK);
        CHECK_KEY(ec_jwk(crv, x, c, y, c), JV_OK);

        tu_case("EC %s, point off the curve", crv);
        y[c - 1] ^= 1;
        CHECK_KEY(ec_jwk(crv, x, c, y, c), JV_ERR_INVALID_EC_POINT);
        y[c - 1] ^= 1;
        x[c / 2] ^= 0x10;
        CHECK_KEY(ec_jwk(crv, x, c, y, c), JV_ERR_INVALID_EC_POINT);
        x[c / 2] ^= 0x10;
        /* (0, 0) is on no short Weierstrass curve with b != 0 */
        memset(z, 0, sizeof(z));
        CHECK_KEY(ec_jwk(crv, z, c, z, c), JV_ERR_INVALID_EC_POINT);
        /* coordinates >= p */
        memset(z, 0xff, sizeof(z));
        if (c == 66)
            z[0] = 0x01;
        CHECK_KEY(ec_jwk(crv, z, c, y, c), JV_ERR_INVALID_EC_POINT);
        /* x and y swapped */
        CHECK_KEY(ec_jwk(crv, y, c, x, c), JV_ERR_INVALID_EC_POINT);

        /* RFC 7518 §6.2.1.2: coordinates are exactly the field's length. */
        tu_case("EC %s, coordinate lengths", crv);
        z[0] = 0;
        memcpy(z + 1, x, c);
        CHECK_KEY2(ec_jwk(crv, z, c + 1, y, c), JV_ERR_INVALID_KEY, JV_ERR_INVALID_EC_POINT);
        CHECK_KEY2(ec_jwk(crv, x + 1, c - 1, y, c), JV_ERR_INVALID_KEY, JV_ERR_INVALID_EC_POINT);
        CHECK_KEY2(ec_jwk(crv, x, c, y, c - 1), JV_ERR_INVALID_KEY, JV_ERR_INVALID_EC_POINT);
    }
}

static void
test_ec_members(void)
{
    char *x = tu_bn_b64(ec256, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    char *y = tu_bn_b64(ec256, OSSL_PKEY_PARAM_EC_PUB_Y, 32);

    tu_case("EC members");
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"%s\"}", y), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", x), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":256,\"x\":\"%s\",\"y\":\"%s\"}", x, y),
              JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s=\",\"y\":\"%s\"}", x, y),
              JV_ERR_INVALID_KEY);
    /* P-256 coordinates under another curve's name */
    CHECK_KEY2(tu_fmt("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", x, y),
               JV_ERR_INVALID_KEY, JV_ERR_INVALID_EC_POINT);

    /* Curves we do not implement are skipped, not fatal. */
    tu_case("EC unknown curves");
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}", x, y),
              JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"%s\",\"y\":\"%s\"}", x, y),
              JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y),
              JV_ERR_UNSUPPORTED_KEY);
    free(x);
    free(y);
}

static void
test_okp(void)
{
    uint8_t pub[33];
    size_t len;
    char *x;

    EVP_PKEY_get_octet_string_param(ed, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len);
    tu_case("OKP Ed25519");
    CHECK_KEY(tu_jwk(ed, NULL), JV_OK);
    x = tu_b64url(pub, 32);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", x),
              JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}", x),
              JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"x\":\"%s\"}", x), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s=\"}", x), JV_ERR_INVALID_KEY);
    free(x);
    tu_case("OKP Ed25519, x of 31 and 33 bytes");
    x = tu_b64url(pub, 31);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x), JV_ERR_INVALID_KEY);
    free(x);
    pub[32] = 0;
    x = tu_b64url(pub, 33);
    CHECK_KEY(tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x), JV_ERR_INVALID_KEY);
    free(x);
}

static void
test_kty(void)
{
    tu_case("unknown kty is skipped");
    CHECK_KEY(tu_fmt("{\"kty\":\"oct\"}"), JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"FOO\"}"), JV_ERR_UNSUPPORTED_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"), JV_ERR_UNSUPPORTED_KEY);
    tu_case("kty missing or not a string");
    CHECK_KEY(tu_fmt("{\"n\":\"AQAB\",\"e\":\"AQAB\"}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":1}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":null}"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("{}"), JV_ERR_INVALID_KEY);
    tu_case("JWK not an object");
    CHECK_KEY(tu_fmt("1"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("\"RSA\""), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("[]"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_fmt("null"), JV_ERR_INVALID_KEY);
    tu_case("kid or alg not a string");
    CHECK_KEY(tu_jwk(ed, "\"kid\":1"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_jwk(ed, "\"kid\":[\"a\"]"), JV_ERR_INVALID_KEY);
    CHECK_KEY(tu_jwk(ed, "\"alg\":true"), JV_ERR_INVALID_KEY);

    /* Skipped keys do not spoil the rest of the set. */
    {
        char *good = tu_jwk(ec256, "\"kid\":\"good\""), *small = tu_jwk(rsa1024, "\"kid\":\"s\"");
        char *doc = tu_jwks("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"h\"}", small,
                            "{\"kty\":\"OKP\",\"crv\":\"X448\",\"x\":\"AA\"}", good, NULL);
        jv_keyset *ks;
        tu_case("refused keys beside a good one");
        CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
        if (ks) {
            static const jv_err want[] = {JV_ERR_PRIVATE_KEY, JV_ERR_RSA_KEY_TOO_SMALL,
                                          JV_ERR_UNSUPPORTED_KEY, JV_OK};
            static const char *kty_want[] = {"oct", "RSA", "OKP", "EC"};
            CHECK_INT(jv_keyset_size(ks), 4);
            for (size_t i = 0; i < 4; i++) {
                jv_str kid;
                const char *kty, *alg;
                CHECK_ERR(jv_keyset_entry(ks, i, &kid, &kty, &alg), want[i]);
                CHECK_STR(kty, kty_want[i]);
            }
        }
        jv_keyset_free(ks);
        free(doc);
        free(good);
        free(small);
    }
}

/* The status of each key of the set made from the NULL-terminated JWK texts
 * (freed), checked against want. */
static void
check_statuses(const jv_err *want, char *first, ...)
{
    char *jwks[8];
    size_t n = 0;
    va_list ap;
    char *doc;
    jv_keyset *ks;

    va_start(ap, first);
    for (char *j = first; j && n < 8; j = va_arg(ap, char *))
        jwks[n++] = j;
    va_end(ap);
    doc = tu_jwks_array(jwks, n);
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
    for (size_t i = 0; ks && i < n; i++) {
        jv_str kid;
        const char *kty, *alg;
        tu_check(jv_keyset_entry(ks, i, &kid, &kty, &alg) == want[i], __FILE__, __LINE__,
                 "key %zu: got %s, want %s", i,
                 tu_err_name(jv_keyset_entry(ks, i, &kid, &kty, &alg)), tu_err_name(want[i]));
    }
    jv_keyset_free(ks);
    free(doc);
    for (size_t i = 0; i < n; i++)
        free(jwks[i]);
}

/* RFC 7517 §9.2: a JWKS holds public keys. A JWK with private members means
 * the issuer published its signing key: refused as private_key, whatever its
 * type, never reduced to its public half; and so is its public twin. */
static void
test_private(void)
{
    static const char *members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    EVP_PKEY *keys[] = {rsa2048, ec256, ed, rsa1024};
    char *d_rsa = tu_bn_b64(rsa2048, OSSL_PKEY_PARAM_RSA_D, 0);
    char *d_ec = tu_bn_b64(ec256, OSSL_PKEY_PARAM_PRIV_KEY, 32);
    char *extra;

    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
            tu_case("private member %s on key %zu", members[i], j);
            extra = tu_fmt("\"%s\":\"AQAB\"", members[i]);
            CHECK_KEY(tu_jwk(keys[j], extra), JV_ERR_PRIVATE_KEY);
            free(extra);
        }

    tu_case("real private JWKs");
    extra = tu_fmt("\"d\":\"%s\",\"use\":\"sig\"", d_rsa);
    CHECK_KEY(tu_jwk(rsa2048, extra), JV_ERR_PRIVATE_KEY);
    free(extra);
    extra = tu_fmt("\"d\":\"%s\"", d_ec);
    CHECK_KEY(tu_jwk(ec256, extra), JV_ERR_PRIVATE_KEY);
    free(extra);
    CHECK_KEY(tu_fmt("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"alg\":\"HS256\"}"), JV_ERR_PRIVATE_KEY);

    tu_case("private before any other check");
    CHECK_KEY(tu_fmt("{\"d\":\"AQAB\"}"), JV_ERR_PRIVATE_KEY);
    CHECK_KEY(tu_fmt("{\"kty\":1,\"kid\":2,\"d\":null}"), JV_ERR_PRIVATE_KEY);
    CHECK_KEY(tu_jwk(ec256, "\"use\":\"enc\",\"d\":\"AQAB\""), JV_ERR_PRIVATE_KEY);
    CHECK_KEY(tu_jwk(rsa1024, "\"d\":\"AQAB\""), JV_ERR_PRIVATE_KEY);

    tu_case("members that only look private");
    CHECK_KEY(tu_jwk(ec256, "\"D\":\"AQAB\",\"x5t\":\"AQAB\",\"kid\":\"d\""), JV_OK);
    CHECK_KEY(tu_jwk(rsa2048, "\"ext\":true,\"key_ops\":[\"verify\"]"), JV_OK);

    tu_case("a private JWK's public twin, under any kid");
    {
        static const jv_err rsa_want[] = {JV_ERR_PRIVATE_KEY, JV_ERR_PRIVATE_KEY, JV_OK};
        static const jv_err ec_want[] = {JV_OK, JV_ERR_PRIVATE_KEY, JV_ERR_PRIVATE_KEY, JV_OK};
        static const jv_err ed_want[] = {JV_ERR_PRIVATE_KEY, JV_ERR_PRIVATE_KEY};
        check_statuses(rsa_want, tu_jwk(rsa2048, "\"kid\":\"a\",\"d\":\"AQAB\""),
                       tu_jwk(rsa2048, "\"kid\":\"b\""), tu_jwk(ec256, "\"kid\":\"b\""), NULL);
        check_statuses(ec_want, tu_jwk(rsa2048, NULL), tu_jwk(ec256, NULL),
                       tu_jwk(ec256, "\"p\":\"AQAB\""), tu_jwk(ec384, NULL), NULL);
        check_statuses(ed_want, tu_jwk(ed, "\"alg\":\"EdDSA\""), tu_jwk(ed, "\"d\":\"AQAB\""),
                       NULL);
    }
    free(d_rsa);
    free(d_ec);
}

/* RFC 7517 §4.2 and §4.3: only signature keys may verify. */
static void
test_use(void)
{
    static const struct {
        const char *extra;
        jv_err want;
    } cases[] = {
        {"\"use\":\"sig\"", JV_OK},
        {"\"use\":\"enc\"", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":\"SIG\"", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":\"\"", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":1", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":[\"sig\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":[\"verify\"]", JV_OK},
        {"\"key_ops\":[\"sign\",\"verify\"]", JV_OK},
        {"\"key_ops\":[\"sign\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":[\"encrypt\",\"decrypt\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":[\"wrapKey\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":[]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":\"verify\"", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"key_ops\":[\"VERIFY\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":\"sig\",\"key_ops\":[\"verify\"]", JV_OK},
        {"\"use\":\"enc\",\"key_ops\":[\"verify\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
        {"\"use\":\"sig\",\"key_ops\":[\"encrypt\"]", JV_ERR_KEY_NOT_FOR_SIGNING},
    };
    EVP_PKEY *keys[] = {rsa2048, ec256, ed};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t j = 0; j < 3; j++) {
            tu_case("%s on key %zu", cases[i].extra, j);
            CHECK_KEY(tu_jwk(keys[j], cases[i].extra), cases[i].want);
        }
}

static void
test_document(void)
{
    static const struct {
        const char *doc;
        jv_err want;
    } cases[] = {
        {"", JV_ERR_BAD_JSON},
        {"{", JV_ERR_BAD_JSON},
        {"{\"keys\":[]", JV_ERR_BAD_JSON},
        {"{\"keys\":[]} x", JV_ERR_BAD_JSON},
        {"{\"keys\":[],\"keys\":[]}", JV_ERR_BAD_JSON},
        {"{\"keys\":[{\"kty\":\"OKP\",\"kty\":\"RSA\"}]}", JV_ERR_BAD_JSON},
        {"{\"keys\":[{\"kid\":\"a\\u0000b\",\"kty\":\"OKP\"}]}", JV_ERR_BAD_JSON},
        {"{\"keys\":[{\"kid\":\"\xff\",\"kty\":\"OKP\"}]}", JV_ERR_BAD_JSON},
        {"{\"keys\":[{\"kid\":\"\xc0\xaf\",\"kty\":\"OKP\"}]}", JV_ERR_BAD_JSON},
        {"[]", JV_ERR_BAD_JWKS},
        {"\"keys\"", JV_ERR_BAD_JWKS},
        {"{}", JV_ERR_BAD_JWKS},
        {"{\"keys\":{}}", JV_ERR_BAD_JWKS},
        {"{\"keys\":\"x\"}", JV_ERR_BAD_JWKS},
        {"{\"keys\":null}", JV_ERR_BAD_JWKS},
        {"{\"Keys\":[]}", JV_ERR_BAD_JWKS},
    };
    char *deep;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_case("document %s", cases[i].doc);
        CHECK_ERR(parse_doc(cases[i].doc), cases[i].want);
    }

    tu_case("document nested 10000 deep");
    {
        size_t depth = 10000, len = strlen("{\"keys\":[") + 2 * depth + strlen("]}");
        char *p = deep = tu_malloc(len + 1);
        p += sprintf(p, "{\"keys\":[");
        memset(p, '[', depth);
        memset(p + depth, ']', depth);
        p += 2 * depth;
        sprintf(p, "]}");
        CHECK_ERR(parse_doc(deep), JV_ERR_BAD_JSON);
        free(deep);
    }

    /* The size cap comes before any parsing: garbage of the wrong size is
     * too large, not bad JSON. */
    tu_case("document size");
    {
        size_t max = JV_MAX_JWKS_BYTES;
        char *big = tu_malloc(max + 2);
        jv_keyset *ks;
        memset(big, 'x', max + 1);
        big[max + 1] = '\0';
        CHECK_ERR(parse_n(big, max + 1, &ks), JV_ERR_JWKS_TOO_LARGE);
        /* exactly the limit, valid JSON padded with spaces */
        memset(big, ' ', max);
        memcpy(big, "{\"keys\":[]}", 11);
        CHECK_ERR(parse_n(big, max, &ks), JV_OK);
        jv_keyset_free(ks);
        memset(big, ' ', max + 1);
        memcpy(big, "{\"keys\":[]}", 11);
        CHECK_ERR(parse_n(big, max + 1, &ks), JV_ERR_JWKS_TOO_LARGE);
        free(big);
    }
}

/* n copies of jwk_fmt, each with kid "k<i>" (jwk_fmt has one %zu). */
static char *
many_keys(size_t n, const char *jwk_fmt)
{
    size_t cap = 32 + n * (strlen(jwk_fmt) + 24);
    char *doc = tu_malloc(cap), *p = doc;

    p += sprintf(p, "{\"keys\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        p += sprintf(p, jwk_fmt, i);
    }
    sprintf(p, "]}");
    return doc;
}

static void
test_many_keys(void)
{
    char *jwk = tu_jwk(ed, "\"kid\":\"k%zu\""), *doc;
    jv_keyset *ks;

    tu_case("JV_MAX_KEYS keys");
    doc = many_keys(JV_MAX_KEYS, jwk);
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
    if (ks) {
        jv_str kid;
        const char *kty, *alg;
        jv_key **first;
        CHECK_INT(jv_keyset_size(ks), JV_MAX_KEYS);
        CHECK_ERR(jv_keyset_entry(ks, JV_MAX_KEYS - 1, &kid, &kty, &alg), JV_OK);
        CHECK_STRN(kid.p, kid.len, "k9999");
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"k9999", 5, &first), 1);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"k0", 2, &first), 1);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"k10000", 6, &first), 0);
    }
    jv_keyset_free(ks);
    free(doc);

    tu_case("JV_MAX_KEYS + 1 keys");
    doc = many_keys(JV_MAX_KEYS + 1, jwk);
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_ERR_TOO_MANY_KEYS);
    free(doc);
    /* counted before any key is looked at, refused keys included */
    doc = many_keys(JV_MAX_KEYS + 1, "{\"kty\":\"oct\",\"kid\":\"%zu\"}");
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_ERR_TOO_MANY_KEYS);
    free(doc);
    doc = many_keys(100000, "{\"kid\":\"%zu\"}");
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_ERR_TOO_MANY_KEYS);
    free(doc);
    free(jwk);
}

static void
test_find(void)
{
    char *a = tu_jwk(ed, "\"kid\":\"a\""), *a2 = tu_jwk(ec256, "\"kid\":\"a\"");
    char *ab = tu_jwk(ed, "\"kid\":\"ab\""), *b = tu_jwk(ed, "\"kid\":\"b\"");
    char *empty = tu_jwk(ed, "\"kid\":\"\""), *none = tu_jwk(ed, NULL);
    char *doc = tu_jwks(b, a, none, ab, a2, empty, NULL);
    jv_keyset *ks;

    tu_case("jv_keyset_find");
    CHECK_ERR(parse_n(doc, strlen(doc), &ks), JV_OK);
    if (ks) {
        jv_key **first;
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"a", 1, &first), 2);
        CHECK(first[0]->kid_len == 1 && first[1]->kid_len == 1);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"ab", 2, &first), 1);
        CHECK(first[0]->kid_len == 2 && memcmp(first[0]->kid, "ab", 2) == 0);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"b", 1, &first), 1);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"", 0, &first), 1);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"c", 1, &first), 0);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"A", 1, &first), 0);
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"abc", 3, &first), 0);
        /* length-delimited: "a" followed by a NUL is not "a" */
        CHECK_INT(jv_keyset_find(ks, (const uint8_t *)"a\0", 2, &first), 0);
    }
    jv_keyset_free(ks);
    free(doc);
    free(a);
    free(a2);
    free(ab);
    free(b);
    free(empty);
    free(none);
}

int
main(void)
{
    rsa2048 = tu_rsa_key(2048);
    rsa1024 = tu_rsa_key(1024);
    ec256 = tu_ec_key("P-256");
    ec384 = tu_ec_key("P-384");
    ec521 = tu_ec_key("P-521");
    ed = tu_ed25519_key();

    test_every_kty();
    test_rsa();
    test_ec();
    test_ec_members();
    test_okp();
    test_kty();
    test_use();
    test_private();
    test_document();
    test_many_keys();
    test_find();

    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ec521);
    EVP_PKEY_free(ed);
    return tu_done();
}
