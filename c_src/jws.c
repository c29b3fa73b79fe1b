#include "jws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rsa.h>

#include "b64url.h"
#include "claims.h"
#include "json.h"

static const jv_alg_info algs[JV_ALG__COUNT] = {
    [JV_ALG_RS256] = {"RS256", JV_KTY_RSA, JV_CRV_NONE, 0, 0},
    [JV_ALG_RS384] = {"RS384", JV_KTY_RSA, JV_CRV_NONE, 1, 0},
    [JV_ALG_RS512] = {"RS512", JV_KTY_RSA, JV_CRV_NONE, 2, 0},
    [JV_ALG_PS256] = {"PS256", JV_KTY_RSA, JV_CRV_NONE, 0, 1},
    [JV_ALG_PS384] = {"PS384", JV_KTY_RSA, JV_CRV_NONE, 1, 1},
    [JV_ALG_PS512] = {"PS512", JV_KTY_RSA, JV_CRV_NONE, 2, 1},
    [JV_ALG_ES256] = {"ES256", JV_KTY_EC, JV_CRV_P256, 0, 0},
    [JV_ALG_ES384] = {"ES384", JV_KTY_EC, JV_CRV_P384, 1, 0},
    [JV_ALG_ES512] = {"ES512", JV_KTY_EC, JV_CRV_P521, 2, 0},
    [JV_ALG_EDDSA] = {"EdDSA", JV_KTY_OKP, JV_CRV_ED25519, -1, 0},
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

/* Largest decoded signature we look at: an RSA-16384 signature. */
#define MAX_SIG_BYTES 2048
/* Headers are small; larger ones go to the heap. */
#define HEADER_STACK_BYTES 1024

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

/* Initialises ctx for verifying ai's algorithm with k. */
static jv_err
verify_init(const jv_keyset *ks, const jv_key *k, const jv_alg_info *ai, EVP_MD_CTX *ctx)
{
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = ai->md >= 0 ? ks->md[ai->md] : NULL;

    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) != 1)
        return JV_ERR_INTERNAL;
    /* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
    if (ai->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
        return JV_ERR_INTERNAL;
    return JV_OK;
}

/* The algorithm a key is most likely used with: its own, or the one its
 * type and curve imply (RS256 for RSA, the only one for EC and OKP). */
static int
usual_alg(const jv_key *k)
{
    if (k->alg >= 0)
        return k->alg;
    for (int a = 0; a < JV_ALG__COUNT; a++)
        if (algs[a].kty == k->kty && (algs[a].crv == JV_CRV_NONE || algs[a].crv == k->crv))
            return a;
    return -1;
}

jv_err
jv_key_prepare(const jv_keyset *ks, jv_key *k)
{
    int alg = usual_alg(k);
    jv_err rc;

    k->tmpl_alg = -1;
    if (alg < 0 || algs[alg].kty != k->kty)
        return JV_OK;
    if (!(k->tmpl = EVP_MD_CTX_new()))
        return JV_ERR_INTERNAL;
    if ((rc = verify_init(ks, k, &algs[alg], k->tmpl)) != JV_OK) {
        EVP_MD_CTX_free(k->tmpl);
        k->tmpl = NULL;
        return rc;
    }
    k->tmpl_alg = alg;
    return JV_OK;
}

static jv_err
sig_verify(const jv_keyset *ks, const jv_key *k, const jv_alg_info *ai, const uint8_t *tbs,
           size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    jv_err rc = JV_ERR_INTERNAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[JV_ECDSA_DER_MAX];

    if (!ctx)
        goto end;
    if (k->tmpl && ai == &algs[k->tmpl_alg]) {
        if (EVP_MD_CTX_copy_ex(ctx, k->tmpl) != 1)
            goto end;
    } else if ((rc = verify_init(ks, k, ai, ctx)) != JV_OK) {
        goto end;
    }
    if (ai->kty == JV_KTY_EC) {
        size_t coord = sig_len / 2;
        sig_len = jv_ecdsa_raw_to_der(sig, coord, der);
        sig = der;
    }
    rc = EVP_DigestVerify(ctx, sig, sig_len, tbs, tbs_len) == 1 ? JV_OK : JV_ERR_BAD_SIGNATURE;
end:
    EVP_MD_CTX_free(ctx); /* also frees the PKEY_CTX it holds */
    return rc;
}

/* RFC 8725 §3.1: the token's alg must be allowed and fit the key: its kty and
 * curve, and its own alg when it names one. */
static jv_err
key_fits(const jv_key *k, int alg, const jv_alg_info *ai)
{
    if (k->status != JV_OK)
        return k->status;
    if (k->alg != JV_KEY_ALG_ANY && k->alg != alg)
        return JV_ERR_KEY_ALG_MISMATCH;
    if (k->kty != ai->kty || (ai->crv != JV_CRV_NONE && k->crv != ai->crv))
        return JV_ERR_KEY_TYPE_MISMATCH;
    return JV_OK;
}

static jv_err
key_try(const jv_keyset *ks, const jv_key *k, const jv_alg_info *ai, const uint8_t *tbs,
        size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    if (sig_len != k->sig_len)
        return JV_ERR_SIG_LENGTH;
    if (ai->kty == JV_KTY_EC) {
        size_t coord = sig_len / 2;
        if (!in_range(sig, k->order, coord) || !in_range(sig + coord, k->order, coord))
            return JV_ERR_SIG_RANGE;
    }
    return sig_verify(ks, k, ai, tbs, tbs_len, sig, sig_len);
}

/* Some issuers publish an encryption key beside the signing key under one kid;
 * those don't compete. Two signing candidates do: which one the issuer meant
 * is a guess, so none is chosen (NULL). */
static const jv_key *
kid_pick(jv_key **keys, size_t n)
{
    const jv_key *pick = NULL;
    size_t candidates = 0;

    for (size_t i = 0; i < n; i++) {
        if (keys[i]->status == JV_ERR_KEY_USE || keys[i]->status == JV_ERR_UNSUPPORTED_KEY)
            continue;
        pick = keys[i];
        candidates++;
    }
    if (candidates > 1)
        return NULL;
    return pick ? pick : keys[0];
}

static jv_err
select_and_verify(const jv_keyset *ks, int alg, const cJSON *kid, const uint8_t *tbs,
                  size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    const jv_alg_info *ai = &algs[alg];
    jv_err rc, fallback = JV_ERR_NO_MATCHING_KEY;
    int tries = 0;

    if (kid) {
        jv_key **first;
        size_t n =
            jv_keyset_find(ks, (const uint8_t *)kid->valuestring, strlen(kid->valuestring), &first);
        const jv_key *k = n ? first[0] : NULL;
        if (n == 0)
            return JV_ERR_UNKNOWN_KID;
        if (n > 1 && !(k = kid_pick(first, n)))
            return JV_ERR_AMBIGUOUS_KID;
        if ((rc = key_fits(k, alg, ai)) != JV_OK)
            return rc;
        return key_try(ks, k, ai, tbs, tbs_len, sig, sig_len);
    }
    for (size_t i = 0; i < ks->n && tries < JV_MAX_KEY_TRIES; i++) {
        const jv_key *k = &ks->keys[i];
        rc = key_fits(k, alg, ai);
        if (rc == JV_ERR_KEY_ALG_MISMATCH || rc == JV_ERR_KEY_TYPE_MISMATCH)
            continue;
        if (rc == JV_OK) {
            tries++;
            rc = key_try(ks, k, ai, tbs, tbs_len, sig, sig_len);
            if (rc == JV_OK)
                return JV_OK;
        } else if (k->kty != ai->kty) {
            continue; /* a refused key of another type says nothing here */
        }
        if (fallback == JV_ERR_NO_MATCHING_KEY || rc == JV_ERR_BAD_SIGNATURE)
            fallback = rc;
    }
    return fallback;
}

/* RFC 7515 §4.1.9: typ is a media type, compared case-insensitively, and
 * "application/" may be left out. */
static const char *
media_type(const char *s, size_t *len)
{
    if (*len > 12 && strncasecmp(s, "application/", 12) == 0)
        s += 12, *len -= 12;
    return s;
}

static int
typ_matches(const char *got, const jv_str *want)
{
    size_t glen = strlen(got), wlen = want->len;
    const char *g = media_type(got, &glen), *w = media_type((const char *)want->p, &wlen);

    return glen == wlen && strncasecmp(g, w, glen) == 0 && !memchr(w, 0, wlen);
}

static jv_err
header_check(const cJSON *h, const jv_opts *o, int *alg_out, const cJSON **kid)
{
    static const char *embedded[] = {"jwk", "jku", "x5u", "x5c"};
    const cJSON *alg, *typ;
    uint32_t allowed = o->algs ? o->algs : JV_ALG_BIT(JV_ALG_RS256);
    int alg_id;

    if (!cJSON_IsObject(h))
        return JV_ERR_BAD_HEADER;
    alg = jv_json_get(h, "alg");
    *kid = jv_json_get(h, "kid");
    typ = jv_json_get(h, "typ");
    if (!cJSON_IsString(alg) || (*kid && !cJSON_IsString(*kid)) || (typ && !cJSON_IsString(typ)))
        return JV_ERR_BAD_HEADER;
    if (strcasecmp(alg->valuestring, "none") == 0)
        return JV_ERR_ALG_NONE;
    alg_id = jv_alg_from_name((const uint8_t *)alg->valuestring, strlen(alg->valuestring));
    if (alg_id < 0)
        return JV_ERR_UNSUPPORTED_ALG;
    if (!(allowed & JV_ALG_BIT(alg_id)))
        return JV_ERR_ALG_NOT_ALLOWED;
    /* RFC 8725 §3.10: keys come from the trusted JWKS, never from the token. */
    for (size_t i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++)
        if (jv_json_get(h, embedded[i]))
            return JV_ERR_EMBEDDED_KEY;
    /* RFC 7515 §4.1.11: we implement no extension, so any crit is unknown. */
    if (jv_json_get(h, "crit"))
        return JV_ERR_UNSUPPORTED_CRIT;
    /* RFC 7797 b64 only means something under crit, which we refused. */
    if (jv_json_get(h, "b64"))
        return JV_ERR_BAD_HEADER;
    if (o->typ && !(typ && typ_matches(typ->valuestring, o->typ)))
        return JV_ERR_TYP;
    *alg_out = alg_id;
    return JV_OK;
}

static jv_err
header_parse(const uint8_t *seg, size_t len, cJSON **out)
{
    uint8_t stack[HEADER_STACK_BYTES], *buf = stack;
    size_t dlen = jv_b64url_decoded_len(len), n;
    jv_err rc;

    if (dlen > sizeof(stack) && !(buf = malloc(dlen)))
        return JV_ERR_INTERNAL;
    rc = jv_b64url_decode(seg, len, buf, &n);
    if (rc == JV_OK && jv_json_parse(buf, n, out) != JV_OK)
        rc = JV_ERR_BAD_HEADER;
    if (buf != stack)
        free(buf);
    return rc;
}

jv_err
jv_jws_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
              jv_result *out)
{
    size_t max = opts->max_token_bytes ? opts->max_token_bytes : JV_MAX_TOKEN_BYTES_DEFAULT;
    const uint8_t *d1, *d2, *payload, *sig;
    size_t hlen, plen, slen, sig_len;
    uint8_t sigbuf[MAX_SIG_BYTES];
    const cJSON *kid;
    int alg;
    jv_err rc;

    memset(out, 0, sizeof(*out));
    /* Size first: nothing of an oversized token is parsed (RFC 8725 §3.9 spirit). */
    if (len > max)
        return JV_ERR_TOKEN_TOO_LARGE;
    d1 = memchr(tok, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) || d1 == tok)
        return JV_ERR_MALFORMED;
    hlen = (size_t)(d1 - tok);
    payload = d1 + 1;
    plen = (size_t)(d2 - payload);
    sig = d2 + 1;
    slen = len - (size_t)(sig - tok);
    if ((rc = header_parse(tok, hlen, &out->header)) != JV_OK)
        return rc;
    if ((rc = header_check(out->header, opts, &alg, &kid)) != JV_OK)
        return rc;
    if (jv_b64url_decoded_len(slen) > sizeof(sigbuf))
        return JV_ERR_SIG_LENGTH;
    if ((rc = jv_b64url_decode(sig, slen, sigbuf, &sig_len)) != JV_OK)
        return rc;
    /* The payload's encoding is checked before the signature, as a signature
     * over a non-canonical encoding must not count. */
    out->payload = malloc(jv_b64url_decoded_len(plen) + 1);
    if (!out->payload)
        return JV_ERR_INTERNAL;
    if ((rc = jv_b64url_decode(payload, plen, out->payload, &out->payload_len)) != JV_OK)
        return rc;
    out->payload[out->payload_len] = '\0';
    rc = select_and_verify(ks, alg, kid, tok, (size_t)(d2 - tok), sigbuf, sig_len);
    /* The cache refetches on a kid it does not hold: tell it which (borrowed
     * from out->header, which lives until jv_result_clear). */
    if (rc == JV_ERR_UNKNOWN_KID && kid) {
        out->detail = kid->valuestring;
        out->detail_len = strlen(kid->valuestring);
    }
    return rc;
}

jv_err
jv_jwt_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
              jv_result *out)
{
    jv_err rc = jv_jws_verify(ks, tok, len, opts, out);

    if (rc != JV_OK)
        return rc;
    /* Only now, with the signature good, is the payload parsed (RFC 8725 §3.8's
     * order: trust nothing in it before). */
    if (jv_json_parse(out->payload, out->payload_len, &out->claims) != JV_OK ||
        !cJSON_IsObject(out->claims))
        return JV_ERR_BAD_PAYLOAD;
    return jv_claims_check(out->claims, opts, &out->detail, &out->detail_len);
}

void
jv_result_clear(jv_result *out)
{
    cJSON_Delete(out->header);
    cJSON_Delete(out->claims);
    free(out->payload);
    memset(out, 0, sizeof(*out));
}
