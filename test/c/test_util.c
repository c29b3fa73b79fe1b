/*
 * test_util.c - harness, keys, signatures and tokens for the C unit tests.
 *
 * Everything a test hands the core is made here with OpenSSL (key generation,
 * EVP_DigestSign, ECDSA_SIG for DER to raw r||s) and with this file's own
 * base64url encoder, never with the core's code.
 */
#include "test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "val.h"

int tu_passed;
int tu_failed;
static char current_case[256];

void
tu_case(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(current_case, sizeof(current_case), fmt, ap);
    va_end(ap);
}

int
tu_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        tu_passed++;
        return 1;
    }
    tu_failed++;
    fprintf(stderr, "FAIL %s:%d [%s]: ", file, line, current_case);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

int
tu_done(void)
{
    printf("%d passed, %d failed\n", tu_passed, tu_failed);
    fflush(stdout);
    return tu_failed == 0 ? 0 : 1;
}

const char *
tu_err_name(jv_err e)
{
    const char *s;

    if ((int)e < 0 || e >= JV_ERR__COUNT)
        return "(out of range)";
    if (e == JV_OK)
        return "JV_OK";
    s = jv_err_name(e);
    return s ? s : "(unnamed)";
}

void *
tu_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

char *
tu_fmt(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = tu_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *
tu_b64url(const uint8_t *p, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = tu_malloc(len / 3 * 4 + 4), *o = out;
    size_t i = 0;

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (len - i == 1) {
        *o++ = alphabet[p[i] >> 2];
        *o++ = alphabet[(p[i] & 3) << 4];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
        *o++ = alphabet[v >> 10];
        *o++ = alphabet[(v >> 4) & 63];
        *o++ = alphabet[(v & 15) << 2];
    }
    *o = '\0';
    return out;
}

char *
tu_b64url_str(const char *s)
{
    return tu_b64url((const uint8_t *)s, strlen(s));
}

EVP_PKEY *
tu_rsa_key(unsigned bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

    if (!k) {
        fprintf(stderr, "RSA-%u key generation failed\n", bits);
        abort();
    }
    return k;
}

EVP_PKEY *
tu_ec_key(const char *crv)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", crv);

    if (!k) {
        fprintf(stderr, "EC %s key generation failed\n", crv);
        abort();
    }
    return k;
}

EVP_PKEY *
tu_ed25519_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    if (!k) {
        fprintf(stderr, "Ed25519 key generation failed\n");
        abort();
    }
    return k;
}

char *
tu_bn_b64(EVP_PKEY *k, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    uint8_t *buf;
    size_t len;
    char *s;

    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1) {
        fprintf(stderr, "no BIGNUM parameter %s\n", param);
        abort();
    }
    len = (size_t)BN_num_bytes(bn);
    if (pad > len)
        len = pad;
    buf = tu_malloc(len);
    BN_bn2binpad(bn, buf, (int)len);
    s = tu_b64url(buf, len);
    free(buf);
    BN_free(bn);
    return s;
}

const char *
tu_ec_crv(EVP_PKEY *k, size_t *coord_len)
{
    static const struct {
        const char *ossl, *jwk;
        size_t coord;
    } map[] = {{"prime256v1", "P-256", 32}, {"secp384r1", "P-384", 48}, {"secp521r1", "P-521", 66}};
    char name[64];

    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL) ==
        1)
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (strcmp(name, map[i].ossl) == 0) {
                *coord_len = map[i].coord;
                return map[i].jwk;
            }
    fprintf(stderr, "unknown EC group\n");
    abort();
}

void
tu_ec_order(EVP_PKEY *k, uint8_t *out, size_t len)
{
    char name[64];
    EC_GROUP *g = NULL;

    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL) ==
        1)
        g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(name));
    if (!g) {
        fprintf(stderr, "no EC group\n");
        abort();
    }
    BN_bn2binpad(EC_GROUP_get0_order(g), out, (int)len);
    EC_GROUP_free(g);
}

char *
tu_jwk(EVP_PKEY *k, const char *extra)
{
    const char *sep = extra ? "," : "", *more = extra ? extra : "";
    char *a, *b, *jwk;

    if (EVP_PKEY_is_a(k, "RSA")) {
        a = tu_bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
        b = tu_bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
        jwk = tu_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", a, b, sep, more);
    } else if (EVP_PKEY_is_a(k, "EC")) {
        size_t coord;
        const char *crv = tu_ec_crv(k, &coord);
        a = tu_bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, coord);
        b = tu_bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord);
        jwk = tu_fmt("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s%s}", crv, a, b,
                     sep, more);
    } else {
        uint8_t pub[32];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len) !=
                1 ||
            len != sizeof(pub)) {
            fprintf(stderr, "no Ed25519 public key\n");
            abort();
        }
        a = tu_b64url(pub, len);
        b = NULL;
        jwk = tu_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s}", a, sep, more);
    }
    free(a);
    free(b);
    return jwk;
}

char *
tu_jwks_array(char *const *keys, size_t n)
{
    size_t len = 16;
    char *out, *o;

    for (size_t i = 0; i < n; i++)
        len += strlen(keys[i]) + 1;
    out = o = tu_malloc(len);
    o += sprintf(o, "{\"keys\":[");
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s%s", i ? "," : "", keys[i]);
    sprintf(o, "]}");
    return out;
}

char *
tu_jwks(const char *first, ...)
{
    va_list ap;
    char *keys[64];
    size_t n = 0;

    va_start(ap, first);
    for (const char *s = first; s && n < 64; s = va_arg(ap, const char *))
        keys[n++] = (char *)s;
    va_end(ap);
    return tu_jwks_array(keys, n);
}

static const char *
tu_alg_md(int alg)
{
    switch (alg) {
    case JV_ALG_RS256:
    case JV_ALG_PS256:
    case JV_ALG_ES256:
        return "SHA256";
    case JV_ALG_RS384:
    case JV_ALG_PS384:
    case JV_ALG_ES384:
        return "SHA384";
    case JV_ALG_RS512:
    case JV_ALG_PS512:
    case JV_ALG_ES512:
        return "SHA512";
    default:
        return NULL;
    }
}

/* DER ECDSA-Sig-Value to JWS r||s (RFC 7518 §3.4). */
static uint8_t *
der_to_raw(EVP_PKEY *k, const uint8_t *der, size_t der_len, size_t *raw_len)
{
    const unsigned char *pp = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &pp, (long)der_len);
    const BIGNUM *r, *s;
    size_t coord;
    uint8_t *raw;

    if (!sig)
        return NULL;
    tu_ec_crv(k, &coord);
    ECDSA_SIG_get0(sig, &r, &s);
    raw = tu_malloc(2 * coord);
    BN_bn2binpad(r, raw, (int)coord);
    BN_bn2binpad(s, raw + coord, (int)coord);
    ECDSA_SIG_free(sig);
    *raw_len = 2 * coord;
    return raw;
}

uint8_t *
tu_sign(EVP_PKEY *k, int alg, const uint8_t *data, size_t len, int pss_salt, size_t *sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *sig = NULL, *out = NULL;
    size_t slen = 0;

    if (!mctx || EVP_DigestSignInit_ex(mctx, &pctx, tu_alg_md(alg), NULL, NULL, k, NULL) != 1)
        goto end;
    if (alg >= JV_ALG_PS256 && alg <= JV_ALG_PS512 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt < 0 ? RSA_PSS_SALTLEN_DIGEST : pss_salt) <=
             0))
        goto end;
    if (EVP_DigestSign(mctx, NULL, &slen, data, len) != 1)
        goto end;
    sig = tu_malloc(slen);
    if (EVP_DigestSign(mctx, sig, &slen, data, len) != 1)
        goto end;
    if (alg >= JV_ALG_ES256 && alg <= JV_ALG_ES512) {
        out = der_to_raw(k, sig, slen, sig_len);
    } else {
        out = sig; /* out owns sig */
        sig = NULL;
        *sig_len = slen;
    }
end:
    if (!out)
        fprintf(stderr, "signing failed (alg %d)\n", alg);
    free(sig);
    EVP_MD_CTX_free(mctx);
    return out;
}

char *
tu_signing_input(const uint8_t *h, size_t hlen, const uint8_t *p, size_t plen)
{
    char *a = tu_b64url(h, hlen), *b = tu_b64url(p, plen);
    char *s = tu_fmt("%s.%s", a, b);

    free(a);
    free(b);
    return s;
}

char *
tu_attach(const char *signing_input, const uint8_t *sig, size_t sig_len)
{
    char *c = tu_b64url(sig, sig_len);
    char *s = tu_fmt("%s.%s", signing_input, c);

    free(c);
    return s;
}

char *
tu_token_n(EVP_PKEY *k, int alg, const uint8_t *h, size_t hlen, const uint8_t *p, size_t plen)
{
    char *si = tu_signing_input(h, hlen, p, plen), *tok;
    size_t slen = 0;
    uint8_t *sig = tu_sign(k, alg, (const uint8_t *)si, strlen(si), -1, &slen);

    if (!sig)
        abort();
    tok = tu_attach(si, sig, slen);
    free(sig);
    free(si);
    return tok;
}

char *
tu_token(EVP_PKEY *k, int alg, const char *header, const char *payload)
{
    return tu_token_n(k, alg, (const uint8_t *)header, strlen(header), (const uint8_t *)payload,
                      strlen(payload));
}

jv_opts
tu_opts(uint32_t algs, int64_t now)
{
    jv_opts o;

    memset(&o, 0, sizeof(o));
    o.algs = algs;
    o.now = now;
    return o;
}

jv_keyset *
tu_keyset(const char *jwks)
{
    jv_keyset *ks = NULL;
    jv_err rc = jv_keyset_parse((const uint8_t *)jwks, strlen(jwks), &ks);

    tu_check(rc == JV_OK && ks != NULL, __FILE__, __LINE__, "jv_keyset_parse: got %s",
             tu_err_name(rc));
    if (rc != JV_OK) {
        jv_keyset_free(ks);
        return NULL;
    }
    return ks;
}

jv_err
tu_verify(const jv_keyset *ks, const char *tok, const jv_opts *o)
{
    jv_result r;
    jv_err rc;

    memset(&r, 0, sizeof(r));
    rc = jv_jws_verify(ks, (const uint8_t *)tok, strlen(tok), o, &r);
    jv_result_clear(&r);
    return rc;
}

jv_err
tu_verify_jwt(const jv_keyset *ks, const char *tok, const jv_opts *o)
{
    jv_result r;
    jv_err rc;

    memset(&r, 0, sizeof(r));
    rc = jv_jwt_verify(ks, (const uint8_t *)tok, strlen(tok), o, &r);
    jv_result_clear(&r);
    return rc;
}

char *
tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = tu_malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

const jv_val *
tu_val_get(const jv_val *obj, const char *name)
{
    return jv_val_get(obj, (const uint8_t *)name, strlen(name));
}

int
tu_val_is_str(const jv_val *v, const char *s)
{
    return v && v->type == JV_VAL_STRING && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

static double
val_number(const jv_val *v)
{
    char buf[64];

    if (v->num == JV_NUM_INT)
        return (double)v->n.i;
    if (v->num == JV_NUM_NOT_INTEGER)
        return v->n.d;
    snprintf(buf, sizeof(buf), "%.*s", (int)v->len, (const char *)v->s);
    return strtod(buf, NULL);
}

int
tu_val_equal(const jv_val *v, const cJSON *c)
{
    const jv_val *m;
    size_t n = 0;

    if (!v || !c)
        return !v && !c;
    switch (v->type) {
    case JV_VAL_NULL:
        return cJSON_IsNull(c);
    case JV_VAL_TRUE:
        return cJSON_IsTrue(c);
    case JV_VAL_FALSE:
        return cJSON_IsFalse(c);
    case JV_VAL_NUMBER:
        return cJSON_IsNumber(c) && val_number(v) == c->valuedouble;
    case JV_VAL_STRING:
        return cJSON_IsString(c) && strlen(c->valuestring) == v->len &&
               memcmp(c->valuestring, v->s, v->len) == 0;
    case JV_VAL_ARRAY:
        if (!cJSON_IsArray(c) || (size_t)cJSON_GetArraySize(c) != v->len)
            return 0;
        c = c->child;
        for (m = v->child; m; m = m->next, c = c->next, n++)
            if (!tu_val_equal(m, c))
                return 0;
        return n == v->len;
    case JV_VAL_OBJECT:
        if (!cJSON_IsObject(c) || (size_t)cJSON_GetArraySize(c) != v->len)
            return 0;
        for (m = v->child; m; m = m->next, n++) {
            char *name = tu_fmt("%.*s", (int)m->name_len, (const char *)m->name);
            int ok = tu_val_equal(m, cJSON_GetObjectItemCaseSensitive(c, name));
            free(name);
            if (!ok)
                return 0;
        }
        return n == v->len;
    }
    return 0;
}
