#include "jwk.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "b64url.h"
#include "json.h"
#include "sig.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

/* Decodes a base64url member of jwk into a fresh buffer the caller frees. */
static jv_err
b64_member(const cJSON *jwk, const char *name, uint8_t **out, size_t *len)
{
    const cJSON *m = jv_json_get(jwk, name);
    size_t slen;

    *out = NULL;
    if (!cJSON_IsString(m))
        return JV_ERR_INVALID_KEY;
    slen = strlen(m->valuestring);
    *out = malloc(jv_b64url_decoded_len(slen) + 1);
    if (!*out)
        return JV_ERR_INTERNAL_ERROR;
    if (jv_b64url_decode((const uint8_t *)m->valuestring, slen, *out, len) != JV_OK) {
        free(*out);
        *out = NULL;
        return JV_ERR_INVALID_KEY;
    }
    return JV_OK;
}

static const uint8_t *
skip_zeros(const uint8_t *p, size_t *len)
{
    while (*len > 0 && *p == 0)
        p++, (*len)--;
    return p;
}

/* ROCA (CVE-2017-15361, Nemec et al., CCS 2017): moduli from the affected
 * Infineon library are, modulo each of these primes, in the subgroup that
 * 65537 generates. A random modulus passes all 38 tests with negligible odds. */
static int
roca_fingerprint(const uint8_t *n, size_t len)
{
    static const unsigned primes[] = {
        3,  5,  7,  11, 13, 17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,  61,  67,  71,
        73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};

    for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
        unsigned p = primes[i], r = 0, g = 65537 % p, x = 1;
        int in_group = 0;
        for (size_t k = 0; k < len; k++)
            r = (r * 256 + n[k]) % p;
        for (unsigned k = 0; k < p && !in_group; k++) {
            in_group = x == r;
            x = x * g % p;
        }
        if (!in_group)
            return 0;
    }
    return 1;
}

static jv_err
rsa_check(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
    size_t bits;
    uint64_t ev = 0;

    if (nlen == 0 || elen == 0)
        return JV_ERR_INVALID_KEY;
    bits = (nlen - 1) * 8;
    for (uint8_t top = n[0]; top; top >>= 1)
        bits++;
    if (bits < RSA_MIN_BITS)
        return JV_ERR_RSA_KEY_TOO_SMALL;
    if (bits > RSA_MAX_BITS || !(n[nlen - 1] & 1))
        return JV_ERR_INVALID_KEY;
    /* e = 1 makes every "signature" its own message; small or even exponents
     * are outside what NIST SP 800-56B allows. */
    if (elen > 8)
        return JV_ERR_WEAK_RSA_EXPONENT;
    for (size_t i = 0; i < elen; i++)
        ev = ev << 8 | e[i];
    if (ev < 65537 || !(ev & 1))
        return JV_ERR_WEAK_RSA_EXPONENT;
    if (roca_fingerprint(n, nlen))
        return JV_ERR_ROCA_WEAK_KEY;
    return JV_OK;
}

static jv_err
rsa_build(jv_sig_key *k, const cJSON *jwk)
{
    jv_err rc;
    uint8_t *nraw = NULL, *eraw = NULL;
    const uint8_t *n, *e;
    size_t nlen, elen;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if ((rc = b64_member(jwk, "n", &nraw, &nlen)) != JV_OK)
        goto end;
    if ((rc = b64_member(jwk, "e", &eraw, &elen)) != JV_OK)
        goto end;
    n = skip_zeros(nraw, &nlen);
    e = skip_zeros(eraw, &elen);
    if ((rc = rsa_check(n, nlen, e, elen)) != JV_OK)
        goto end;
    rc = JV_ERR_INTERNAL_ERROR;
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld)
        goto end;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto end;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto end;
    if (EVP_PKEY_fromdata(ctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        rc = JV_ERR_INVALID_KEY;
        goto end;
    }
    k->len = nlen;
    rc = JV_OK;
end:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(nraw);
    free(eraw);
    return rc;
}

static const struct {
    const char *jwk_name, *ossl_name;
    int crv;
    size_t coord;
} curves[] = {
    {"P-256", "prime256v1", JV_CRV_P256, 32},
    {"P-384", "secp384r1", JV_CRV_P384, 48},
    {"P-521", "secp521r1", JV_CRV_P521, 66},
};

/* The order bounds r and s (RFC 7518 §3.4 via FIPS 186-4); kept as bytes so
 * the verify path compares without BIGNUMs. */
static jv_err
ec_order(const char *name, uint8_t *out, size_t len)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(name));
    jv_err rc = JV_ERR_INTERNAL_ERROR;

    if (g && BN_bn2binpad(EC_GROUP_get0_order(g), out, (int)len) == (int)len)
        rc = JV_OK;
    EC_GROUP_free(g);
    return rc;
}

static jv_err
ec_build(jv_sig_key *k, const cJSON *jwk)
{
    jv_err rc;
    const cJSON *crv = jv_json_get(jwk, "crv");
    uint8_t *x = NULL, *y = NULL, point[1 + 2 * 66];
    size_t xlen, ylen, c, ncurves = sizeof(curves) / sizeof(curves[0]);
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;

    if (!cJSON_IsString(crv))
        return JV_ERR_INVALID_KEY;
    for (c = 0; c < ncurves && strcmp(crv->valuestring, curves[c].jwk_name) != 0; c++)
        ;
    if (c == ncurves)
        return JV_ERR_UNSUPPORTED_KEY;
    k->crv = curves[c].crv;
    if ((rc = b64_member(jwk, "x", &x, &xlen)) != JV_OK ||
        (rc = b64_member(jwk, "y", &y, &ylen)) != JV_OK)
        goto end;
    /* RFC 7518 §6.2.1.2: coordinates are full-length octet strings. */
    rc = JV_ERR_INVALID_KEY;
    if (xlen != curves[c].coord || ylen != curves[c].coord)
        goto end;
    point[0] = 0x04;
    memcpy(point + 1, x, xlen);
    memcpy(point + 1 + xlen, y, ylen);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)curves[c].ossl_name, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * xlen);
    params[2] = OSSL_PARAM_construct_end();
    rc = JV_ERR_INTERNAL_ERROR;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto end;
    /* Invalid-curve attacks: the point must be on the named curve and not
     * the identity; OpenSSL's import and public check both say so. */
    rc = JV_ERR_INVALID_EC_POINT;
    if (EVP_PKEY_fromdata(ctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto end;
    check = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!check || EVP_PKEY_public_check(check) != 1)
        goto end;
    k->len = 2 * curves[c].coord;
    rc = ec_order(curves[c].ossl_name, k->order, curves[c].coord);
end:
    if (rc != JV_OK) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    free(x);
    free(y);
    return rc;
}

/* Ed25519 points of order dividing 8, by their y (the sign bit of x masked),
 * as libsodium lists them: with such a key, R = identity and S = 0 "verify"
 * any message, and OpenSSL does not refuse them (RFC 8032 leaves it open). */
static int
ed25519_small_order(const uint8_t x[32])
{
    static const uint8_t low[7][32] = {
        {0},
        {1},
        {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
         0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
         0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
        {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
         0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
         0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
        /* p - 1, p, p + 1: the last two are non-canonical spellings of 0 and 1 */
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    };
    uint8_t y[32];

    memcpy(y, x, 32);
    y[31] &= 0x7f;
    for (size_t i = 0; i < 7; i++)
        if (memcmp(y, low[i], 32) == 0)
            return 1;
    return 0;
}

static jv_err
okp_build(jv_sig_key *k, const cJSON *jwk)
{
    jv_err rc;
    const cJSON *crv = jv_json_get(jwk, "crv");
    uint8_t *x = NULL;
    size_t xlen;

    if (!cJSON_IsString(crv))
        return JV_ERR_INVALID_KEY;
    if (strcmp(crv->valuestring, "Ed25519") != 0)
        return JV_ERR_UNSUPPORTED_KEY;
    k->crv = JV_CRV_ED25519;
    if ((rc = b64_member(jwk, "x", &x, &xlen)) != JV_OK)
        goto end;
    rc = JV_ERR_INVALID_KEY;
    if (xlen != 32)
        goto end;
    rc = JV_ERR_INVALID_EC_POINT;
    if (ed25519_small_order(x))
        goto end;
    rc = JV_ERR_INVALID_KEY;
    k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
    if (!k->pkey)
        goto end;
    k->len = 64;
    rc = JV_OK;
end:
    free(x);
    return rc;
}

static char *
copy_name(const char *s)
{
    /* Names are kept only to describe the key; a bounded copy is enough. */
    size_t len = strnlen(s, 32);
    char *c = malloc(len + 1);

    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* RFC 7517 §4.2/§4.3: a key for signatures has use "sig" or none, and
 * key_ops, when present, must allow "verify". */
static int
use_allows_verify(const cJSON *jwk)
{
    const cJSON *use = jv_json_get(jwk, "use"), *ops = jv_json_get(jwk, "key_ops"), *op;

    if (use && !(cJSON_IsString(use) && strcmp(use->valuestring, "sig") == 0))
        return 0;
    if (!ops)
        return 1;
    if (!cJSON_IsArray(ops))
        return 0;
    cJSON_ArrayForEach(op, ops)
    {
        if (cJSON_IsString(op) && strcmp(op->valuestring, "verify") == 0)
            return 1;
    }
    return 0;
}

/* RFC 7518 §6.3.2 (RSA), §6.2.2 (EC), §6.4.1 (oct) and RFC 8037 §2 (OKP):
 * members only a private key has. A JWKS that carries them has published the
 * issuer's signing key, so anyone can sign: the key verifies nothing. */
static int
has_private_members(const cJSON *jwk)
{
    static const char *names[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (jv_json_get(jwk, names[i]))
            return 1;
    return 0;
}

static int
key_alg(const char *name)
{
    size_t len = strlen(name);
    int alg = jv_alg_from_name((const uint8_t *)name, len);

    /* RFC 7520's P-521 example key says "ES521" for ES512 (a known erratum). */
    if (alg < 0 && strcmp(name, "ES521") == 0)
        alg = JV_ALG_ES512;
    return alg < 0 ? JV_KEY_ALG_OTHER : alg;
}

/* Fills k from one JWK; k->status says whether it can be used. Only
 * allocation failures are returned as errors. */
static jv_err
key_parse(jv_key *k, const cJSON *jwk)
{
    const cJSON *kid, *kty, *alg;
    jv_err rc;
    int private;

    k->sig.alg = JV_KEY_ALG_ANY;
    if (!cJSON_IsObject(jwk)) {
        k->status = JV_ERR_INVALID_KEY;
        return JV_OK;
    }
    kid = jv_json_get(jwk, "kid");
    kty = jv_json_get(jwk, "kty");
    alg = jv_json_get(jwk, "alg");
    if (cJSON_IsString(kid)) {
        k->kid_len = strlen(kid->valuestring);
        k->kid = malloc(k->kid_len + 1);
        if (!k->kid)
            return JV_ERR_INTERNAL_ERROR;
        memcpy(k->kid, kid->valuestring, k->kid_len + 1);
    }
    if (cJSON_IsString(kty) && !(k->kty_name = copy_name(kty->valuestring)))
        return JV_ERR_INTERNAL_ERROR;
    if (cJSON_IsString(alg)) {
        if (!(k->alg_name = copy_name(alg->valuestring)))
            return JV_ERR_INTERNAL_ERROR;
        k->sig.alg = key_alg(alg->valuestring);
    }
    private = has_private_members(jwk);
    if (!private &&
        ((kid && !cJSON_IsString(kid)) || !cJSON_IsString(kty) || (alg && !cJSON_IsString(alg)))) {
        k->status = JV_ERR_INVALID_KEY;
        return JV_OK;
    }
    /* A private key is built too (from its public members only), so that it
     * keeps its type and curve: key selection and refuse_private_twins use
     * them. Its status is private_key whatever the build said. */
    if (!cJSON_IsString(kty)) {
        rc = JV_ERR_INVALID_KEY;
    } else if (strcmp(kty->valuestring, "RSA") == 0) {
        k->sig.kty = JV_KTY_RSA;
        rc = rsa_build(&k->sig, jwk);
    } else if (strcmp(kty->valuestring, "EC") == 0) {
        k->sig.kty = JV_KTY_EC;
        rc = ec_build(&k->sig, jwk);
    } else if (strcmp(kty->valuestring, "OKP") == 0) {
        k->sig.kty = JV_KTY_OKP;
        rc = okp_build(&k->sig, jwk);
    } else {
        rc = JV_ERR_UNSUPPORTED_KEY;
    }
    if (rc == JV_ERR_INTERNAL_ERROR)
        return rc;
    if (private)
        rc = JV_ERR_PRIVATE_KEY;
    else if (rc == JV_OK && !use_allows_verify(jwk))
        rc = JV_ERR_KEY_NOT_FOR_SIGNING;
    k->status = rc;
    if (rc != JV_OK)
        jv_sig_key_clear(&k->sig); /* a refused key keeps only its description */
    return JV_OK;
}

/* The public half that names a key: n (RSA) or x (EC, OKP) as decoded,
 * leading zeros dropped, hashed. *has is 0 for a key with neither. */
static jv_err
public_fingerprint(const cJSON *jwk, int kty, uint8_t out[32], int *has)
{
    uint8_t *raw = NULL;
    const uint8_t *p;
    size_t len;
    jv_err rc;

    *has = 0;
    if (kty != JV_KTY_RSA && kty != JV_KTY_EC && kty != JV_KTY_OKP)
        return JV_OK;
    rc = b64_member(jwk, kty == JV_KTY_RSA ? "n" : "x", &raw, &len);
    if (rc == JV_ERR_INVALID_KEY)
        return JV_OK;
    if (rc != JV_OK)
        return rc;
    p = skip_zeros(raw, &len);
    rc = JV_ERR_INTERNAL_ERROR;
    if (EVP_Q_digest(NULL, "SHA256", NULL, p, len, out, NULL)) {
        *has = 1;
        rc = JV_OK;
    }
    free(raw);
    return rc;
}

static int
fingerprint_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* An issuer that publishes a key both as a private JWK and as a public one
 * has still published its private key: the public twin (same n, or same x)
 * is refused as private_key too, or a token signed with the leaked key would
 * verify against it. Costs nothing unless the set holds a private key. */
static jv_err
refuse_private_twins(jv_keyset *ks, const cJSON *keys)
{
    uint8_t(*fps)[32] = NULL, fp[32];
    size_t n_private = 0, i = 0;
    const cJSON *jwk;
    int has;
    jv_err rc = JV_OK;

    for (size_t j = 0; j < ks->n; j++)
        n_private += ks->keys[j].status == JV_ERR_PRIVATE_KEY;
    if (n_private == 0 || n_private == ks->n)
        return JV_OK;
    if (!(fps = malloc(n_private * sizeof(*fps))))
        return JV_ERR_INTERNAL_ERROR;
    n_private = 0;
    cJSON_ArrayForEach(jwk, keys)
    {
        jv_key *k = &ks->keys[i++];
        if (k->status != JV_ERR_PRIVATE_KEY)
            continue;
        if ((rc = public_fingerprint(jwk, k->sig.kty, fps[n_private], &has)) != JV_OK)
            goto end;
        n_private += (size_t)has;
    }
    qsort(fps, n_private, sizeof(*fps), fingerprint_cmp);
    i = 0;
    cJSON_ArrayForEach(jwk, keys)
    {
        jv_key *k = &ks->keys[i++];
        if (k->status != JV_OK)
            continue;
        if ((rc = public_fingerprint(jwk, k->sig.kty, fp, &has)) != JV_OK)
            goto end;
        if (has && bsearch(fp, fps, n_private, sizeof(*fps), fingerprint_cmp)) {
            k->status = JV_ERR_PRIVATE_KEY;
            jv_sig_key_clear(&k->sig);
        }
    }
end:
    free(fps);
    return rc;
}

static int
kid_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int
key_ptr_cmp(const void *a, const void *b)
{
    const jv_key *x = *(const jv_key *const *)a, *y = *(const jv_key *const *)b;

    return kid_cmp(x->kid, x->kid_len, y->kid, y->kid_len);
}

size_t
jv_keyset_find(const jv_keyset *ks, const uint8_t *kid, size_t len, jv_key ***first)
{
    size_t lo = 0, hi = ks->n_kid, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        jv_key *k = ks->by_kid[mid];
        if (kid_cmp(k->kid, k->kid_len, kid, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < ks->n_kid; end++) {
        jv_key *k = ks->by_kid[end];
        if (kid_cmp(k->kid, k->kid_len, kid, len) != 0)
            break;
    }
    *first = ks->by_kid + lo;
    return end - lo;
}

static jv_err
keyset_index(jv_keyset *ks)
{
    ks->by_kid = malloc((ks->n ? ks->n : 1) * sizeof(*ks->by_kid));
    if (!ks->by_kid)
        return JV_ERR_INTERNAL_ERROR;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i].kid)
            ks->by_kid[ks->n_kid++] = &ks->keys[i];
    qsort(ks->by_kid, ks->n_kid, sizeof(*ks->by_kid), key_ptr_cmp);
    return JV_OK;
}

jv_err
jv_keyset_parse(const uint8_t *json, size_t len, jv_keyset **out)
{
    jv_err rc;
    cJSON *root = NULL;
    const cJSON *keys, *jwk;
    jv_keyset *ks = NULL;
    size_t n;

    *out = NULL;
    if (len > JV_MAX_JWKS_BYTES)
        return JV_ERR_JWKS_TOO_LARGE;
    if ((rc = jv_json_parse(json, len, &root)) != JV_OK)
        goto end;
    rc = JV_ERR_BAD_JWKS;
    if (!cJSON_IsObject(root))
        goto end;
    keys = jv_json_get(root, "keys");
    /* A bare JWK is taken as a set of one, as JOSE users hand us one key. */
    if (!cJSON_IsArray(keys) && !(keys == NULL && jv_json_get(root, "kty")))
        goto end;
    n = keys ? (size_t)cJSON_GetArraySize(keys) : 1;
    rc = JV_ERR_TOO_MANY_KEYS;
    if (n > JV_MAX_KEYS)
        goto end;
    rc = JV_ERR_INTERNAL_ERROR;
    if (!(ks = calloc(1, sizeof(*ks))) || !(ks->keys = calloc(n ? n : 1, sizeof(*ks->keys))))
        goto end;
    if ((rc = jv_digests_fetch(&ks->digests)) != JV_OK)
        goto end;
    if (!keys) {
        ks->n = 1;
        if ((rc = key_parse(&ks->keys[0], root)) != JV_OK)
            goto end;
    } else {
        cJSON_ArrayForEach(jwk, keys)
        {
            if ((rc = key_parse(&ks->keys[ks->n++], jwk)) != JV_OK)
                goto end;
        }
    }
    if (keys && (rc = refuse_private_twins(ks, keys)) != JV_OK)
        goto end;
    for (size_t i = 0; i < ks->n; i++) {
        jv_key *k = &ks->keys[i];
        if (k->status != JV_OK)
            continue;
        if ((rc = jv_sig_key_prepare(&k->sig, &ks->digests)) != JV_OK)
            goto end;
        if (k->sig.kty == JV_KTY_RSA && k->sig.len > 512)
            ks->heavy = 1;
    }
    if ((rc = keyset_index(ks)) != JV_OK)
        goto end;
    *out = ks; /* on success the caller owns ks */
    ks = NULL;
    rc = JV_OK;
end:
    jv_keyset_free(ks);
    cJSON_Delete(root);
    return rc;
}

void
jv_keyset_free(jv_keyset *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->n; i++) {
        jv_sig_key_clear(&ks->keys[i].sig);
        free(ks->keys[i].kid);
        free(ks->keys[i].kty_name);
        free(ks->keys[i].alg_name);
    }
    jv_digests_free(&ks->digests);
    free(ks->keys);
    free(ks->by_kid);
    free(ks);
}

int
jv_keyset_heavy(const jv_keyset *ks)
{
    return ks->heavy;
}

size_t
jv_keyset_size(const jv_keyset *ks)
{
    return ks->n;
}

jv_err
jv_keyset_entry(const jv_keyset *ks, size_t i, jv_str *kid, const char **kty, const char **alg)
{
    const jv_key *k = &ks->keys[i];

    kid->p = k->kid;
    kid->len = k->kid_len;
    *kty = k->kty_name ? k->kty_name : "";
    *alg = k->alg_name;
    return k->status;
}
