/*
 * sig.c - the algorithm table and the signature primitives: how each JWA
 * algorithm is set up in OpenSSL, and how a JWS signature reaches it.
 */
#include "sig.h"

#include <string.h>

#include <openssl/rsa.h>

static jv_err verify_plain(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai,
                           const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len);
static jv_err verify_ecdsa(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai,
                           const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len);

static const jv_alg_info algs[JV_ALG__COUNT] = {
    [JV_ALG_RS256] = {"RS256", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA256, 0, verify_plain},
    [JV_ALG_RS384] = {"RS384", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA384, 0, verify_plain},
    [JV_ALG_RS512] = {"RS512", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA512, 0, verify_plain},
    [JV_ALG_PS256] = {"PS256", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA256, 1, verify_plain},
    [JV_ALG_PS384] = {"PS384", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA384, 1, verify_plain},
    [JV_ALG_PS512] = {"PS512", JV_KTY_RSA, JV_CRV_NONE, JV_MD_SHA512, 1, verify_plain},
    [JV_ALG_ES256] = {"ES256", JV_KTY_EC, JV_CRV_P256, JV_MD_SHA256, 0, verify_ecdsa},
    [JV_ALG_ES384] = {"ES384", JV_KTY_EC, JV_CRV_P384, JV_MD_SHA384, 0, verify_ecdsa},
    [JV_ALG_ES512] = {"ES512", JV_KTY_EC, JV_CRV_P521, JV_MD_SHA512, 0, verify_ecdsa},
    [JV_ALG_EDDSA] = {"EdDSA", JV_KTY_OKP, JV_CRV_ED25519, -1, 0, verify_plain},
};

const jv_alg_info *
jv_alg_info_get(int alg)
{
    return alg >= 0 && alg < JV_ALG__COUNT ? &algs[alg] : NULL;
}

int
jv_alg_from_name(const uint8_t *p, size_t len)
{
    for (int i = 0; i < JV_ALG__COUNT; i++)
        if (strlen(algs[i].name) == len && memcmp(algs[i].name, p, len) == 0)
            return i;
    return -1;
}

const char *
jv_alg_name(int alg)
{
    return alg >= 0 && alg < JV_ALG__COUNT ? algs[alg].name : NULL;
}

static size_t
der_int(uint8_t *o, const uint8_t *p, size_t len)
{
    size_t pad;

    while (len > 1 && *p == 0)
        p++, len--;
    pad = (p[0] & 0x80) ? 1 : 0;
    o[0] = 0x02;
    o[1] = (uint8_t)(len + pad);
    o[2] = 0;
    memcpy(o + 2 + pad, p, len);
    return 2 + pad + len;
}

size_t
jv_ecdsa_raw_to_der(const uint8_t *sig, size_t coord, uint8_t *out)
{
    uint8_t body[JV_ECDSA_DER_MAX];
    size_t blen = der_int(body, sig, coord), hdr;

    blen += der_int(body + blen, sig + coord, coord);
    out[0] = 0x30;
    if (blen < 128) {
        out[1] = (uint8_t)blen;
        hdr = 2;
    } else {
        out[1] = 0x81;
        out[2] = (uint8_t)blen;
        hdr = 3;
    }
    memcpy(out + hdr, body, blen);
    return hdr + blen;
}

jv_err
jv_digests_fetch(jv_digests *d)
{
    static const char *names[JV_MD__COUNT] = {"SHA256", "SHA384", "SHA512"};

    for (int i = 0; i < JV_MD__COUNT; i++)
        if (!(d->md[i] = EVP_MD_fetch(NULL, names[i], NULL)))
            return JV_ERR_INTERNAL_ERROR;
    return JV_OK;
}

void
jv_digests_free(jv_digests *d)
{
    for (int i = 0; i < JV_MD__COUNT; i++) {
        EVP_MD_free(d->md[i]);
        d->md[i] = NULL;
    }
}

/* Initialises ctx for verifying ai's algorithm with k. */
static jv_err
verify_init(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai, EVP_MD_CTX *ctx)
{
    EVP_PKEY_CTX *pctx = NULL; /* owned by ctx */
    const EVP_MD *md = ai->md >= 0 ? d->md[ai->md] : NULL;

    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) != 1)
        return JV_ERR_INTERNAL_ERROR;
    /* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
    if (ai->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
        return JV_ERR_INTERNAL_ERROR;
    return JV_OK;
}

/* The algorithm a key is most likely used with: its own, or the one its
 * type and curve imply (RS256 for RSA, the only one for EC and OKP). */
static int
usual_alg(const jv_sig_key *k)
{
    if (k->alg >= 0)
        return k->alg;
    for (int a = 0; a < JV_ALG__COUNT; a++)
        if (algs[a].kty == k->kty && (algs[a].crv == JV_CRV_NONE || algs[a].crv == k->crv))
            return a;
    return -1;
}

jv_err
jv_sig_key_prepare(jv_sig_key *k, const jv_digests *d)
{
    int alg = usual_alg(k);
    EVP_MD_CTX *ctx = NULL;
    jv_err rc = JV_OK;

    k->tmpl_alg = -1;
    /* A key naming an algorithm of another type fits no token: nothing to
     * prepare, jv_sig_key_fits refuses it. */
    if (alg < 0 || algs[alg].kty != k->kty)
        goto end;
    rc = JV_ERR_INTERNAL_ERROR;
    if (!(ctx = EVP_MD_CTX_new()))
        goto end;
    if ((rc = verify_init(k, d, &algs[alg], ctx)) != JV_OK)
        goto end;
    k->tmpl = ctx; /* on success k owns ctx */
    k->tmpl_alg = alg;
    ctx = NULL;
end:
    EVP_MD_CTX_free(ctx);
    return rc;
}

jv_err
jv_sig_key_fits(const jv_sig_key *k, int alg)
{
    const jv_alg_info *ai = jv_alg_info_get(alg);

    if (!ai)
        return JV_ERR_UNSUPPORTED_ALG;
    if (k->alg != JV_KEY_ALG_ANY && k->alg != alg)
        return JV_ERR_KEY_ALG_MISMATCH;
    if (k->kty != ai->kty || (ai->crv != JV_CRV_NONE && k->crv != ai->crv))
        return JV_ERR_KEY_TYPE_MISMATCH;
    return JV_OK;
}

/* RS, PS and EdDSA signatures are what OpenSSL verifies, as sent (RFC 7518
 * §3.3 and §3.5, RFC 8037 §3.1). The template, when it is for this
 * algorithm, saves the DigestVerifyInit. */
static jv_err
verify_plain(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai, const uint8_t *tbs,
             size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    jv_err rc = JV_ERR_INTERNAL_ERROR;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!ctx)
        goto end;
    if (k->tmpl && ai == &algs[k->tmpl_alg]) {
        if (EVP_MD_CTX_copy_ex(ctx, k->tmpl) != 1)
            goto end;
    } else if ((rc = verify_init(k, d, ai, ctx)) != JV_OK) {
        goto end;
    }
    rc = EVP_DigestVerify(ctx, sig, sig_len, tbs, tbs_len) == 1 ? JV_OK : JV_ERR_BAD_SIGNATURE;
end:
    EVP_MD_CTX_free(ctx); /* also frees the PKEY_CTX it holds */
    return rc;
}

/* FIPS 186-4 §6.4: r and s must lie in [1, n-1]. */
static int
in_range(const uint8_t *v, const uint8_t *order, size_t len)
{
    size_t i;
    int nonzero = 0;

    for (i = 0; i < len; i++)
        nonzero |= v[i];
    return nonzero && memcmp(v, order, len) < 0;
}

/* RFC 7518 §3.4: the JWS carries r||s, each as long as the group order;
 * OpenSSL wants DER. An r or s out of range has a reason of its own, found
 * before any OpenSSL work. */
static jv_err
verify_ecdsa(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai, const uint8_t *tbs,
             size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    size_t coord = sig_len / 2;
    uint8_t der[JV_ECDSA_DER_MAX];

    if (!in_range(sig, k->order, coord) || !in_range(sig + coord, k->order, coord))
        return JV_ERR_SIGNATURE_OUT_OF_RANGE;
    return verify_plain(k, d, ai, tbs, tbs_len, der, jv_ecdsa_raw_to_der(sig, coord, der));
}

jv_err
jv_sig_key_verify(const jv_sig_key *k, const jv_digests *d, int alg, const uint8_t *tbs,
                  size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    const jv_alg_info *ai = jv_alg_info_get(alg);

    if (!ai)
        return JV_ERR_UNSUPPORTED_ALG;
    if (sig_len != k->len)
        return JV_ERR_BAD_SIGNATURE_LENGTH;
    return ai->verify(k, d, ai, tbs, tbs_len, sig, sig_len);
}

void
jv_sig_key_clear(jv_sig_key *k)
{
    EVP_MD_CTX_free(k->tmpl);
    EVP_PKEY_free(k->pkey);
    k->tmpl = NULL;
    k->pkey = NULL;
    k->tmpl_alg = -1;
}
