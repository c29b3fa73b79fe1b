/*
 * jws.c - the JWS path (RFC 7515 compact serialization): split, header
 * checks, key selection, then the signature through sig.c; and the
 * unverified peek, which shares the split and the decoding.
 */
#include "jws.h"

#include <string.h>
#include <strings.h>

#include "arena.h"
#include "b64url.h"
#include "jwk.h"
#include "sig.h"
#include "val.h"

/* RFC 8725 §3.1: the token's alg must be allowed (header_check saw to that)
 * and fit the key. A refused key fits nothing, and says why. */
static jv_err
key_fits(const jv_key *k, int alg)
{
    return k->status != JV_OK ? k->status : jv_sig_key_fits(&k->sig, alg);
}

/* The key's type and curve are the alg's (its status and own alg aside). */
static int
type_fits(const jv_key *k, const jv_alg_info *ai)
{
    return k->sig.kty == ai->kty && (ai->crv == JV_CRV_NONE || k->sig.crv == ai->crv);
}

/* Several keys under the token's kid. RFC 7517 §4.5 lets keys of different
 * types share a kid, so the signing key whose type and curve fit the alg is
 * the one; two that fit leave a guess, and none is chosen (ambiguous_kid).
 * Encryption keys and keys we cannot read don't compete; a leaked private key
 * that fits taints the kid (private_key). With none fitting, a lone signing
 * key (or else the first key) says why it does not fit. */
static jv_err
kid_pick(jv_key **keys, size_t n, int alg, const jv_key **out)
{
    const jv_alg_info *ai = jv_alg_info_get(alg);
    const jv_key *fit = NULL, *signing = NULL;
    size_t n_fit = 0, n_signing = 0;

    for (size_t i = 0; i < n; i++) {
        const jv_key *k = keys[i];
        if (k->status == JV_ERR_KEY_NOT_FOR_SIGNING || k->status == JV_ERR_UNSUPPORTED_KEY)
            continue;
        signing = k;
        n_signing++;
        if (!type_fits(k, ai))
            continue;
        if (k->status == JV_ERR_PRIVATE_KEY)
            return JV_ERR_PRIVATE_KEY;
        fit = k;
        n_fit++;
    }
    if (n_fit > 1)
        return JV_ERR_AMBIGUOUS_KID;
    if (n_fit == 0 && n_signing > 1)
        return JV_ERR_KEY_TYPE_MISMATCH;
    *out = n_fit ? fit : signing ? signing : keys[0];
    return JV_OK;
}

/* With a kid: the one key it names (RFC 7515 §4.1.4). */
static jv_err
verify_by_kid(const jv_keyset *ks, int alg, const jv_val *kid, const uint8_t *tbs, size_t tbs_len,
              const uint8_t *sig, size_t sig_len)
{
    jv_key **first;
    size_t n = jv_keyset_find(ks, kid->s, kid->len, &first);
    const jv_key *k = n ? first[0] : NULL;
    jv_err rc;

    if (n == 0)
        return JV_ERR_UNKNOWN_KID;
    if (n > 1 && (rc = kid_pick(first, n, alg, &k)) != JV_OK)
        return rc;
    if ((rc = key_fits(k, alg)) != JV_OK)
        return rc;
    return jv_sig_key_verify(&k->sig, &ks->digests, alg, tbs, tbs_len, sig, sig_len);
}

/* Without a kid: at most JV_MAX_KEY_TRIES keys that fit. On failure:
 * bad_signature if a key said so, else the first reason met, else
 * no_matching_key. */
static jv_err
verify_any(const jv_keyset *ks, int alg, const uint8_t *tbs, size_t tbs_len, const uint8_t *sig,
           size_t sig_len)
{
    int kty = jv_alg_info_get(alg)->kty, tries = 0;
    jv_err rc, fallback = JV_ERR_NO_MATCHING_KEY;

    for (size_t i = 0; i < ks->n && tries < JV_MAX_KEY_TRIES; i++) {
        const jv_key *k = &ks->keys[i];
        rc = key_fits(k, alg);
        if (rc == JV_ERR_KEY_ALG_MISMATCH || rc == JV_ERR_KEY_TYPE_MISMATCH)
            continue;
        if (rc == JV_OK) {
            tries++;
            rc = jv_sig_key_verify(&k->sig, &ks->digests, alg, tbs, tbs_len, sig, sig_len);
            if (rc == JV_OK)
                return JV_OK;
        } else if (k->sig.kty != kty) {
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
typ_matches(const jv_val *got, const jv_str *want)
{
    size_t glen = got->len, wlen = want->len;
    const char *g = media_type((const char *)got->s, &glen),
               *w = media_type((const char *)want->p, &wlen);

    /* got holds no NUL (val.h refuses them); want might. */
    return glen == wlen && strncasecmp(g, w, glen) == 0 && !memchr(w, 0, wlen);
}

/* The header members this file reads, found in one pass over the members. */
typedef struct {
    const jv_val *alg, *kid, *typ;
    int embedded, crit, b64;
} header_members;

#define NAME_IS(m, lit)                                                                            \
    ((m)->name_len == sizeof(lit) - 1 && memcmp((m)->name, lit, sizeof(lit) - 1) == 0)

static void
header_scan(const jv_val *h, header_members *hm)
{
    memset(hm, 0, sizeof(*hm));
    for (const jv_val *m = h->child; m; m = m->next) {
        if (m->name_len == 3) {
            if (NAME_IS(m, "alg"))
                hm->alg = m;
            else if (NAME_IS(m, "kid"))
                hm->kid = m;
            else if (NAME_IS(m, "typ"))
                hm->typ = m;
            else if (NAME_IS(m, "b64"))
                hm->b64 = 1;
            else if (NAME_IS(m, "jwk") || NAME_IS(m, "jku") || NAME_IS(m, "x5u") ||
                     NAME_IS(m, "x5c"))
                hm->embedded = 1;
        } else if (NAME_IS(m, "crit")) {
            hm->crit = 1;
        }
    }
}

static jv_err
header_check(const jv_val *h, const jv_opts *o, int *alg_out, const jv_val **kid)
{
    uint32_t allowed = o->algs ? o->algs : JV_ALG_BIT(JV_ALG_RS256);
    header_members hm;
    int alg_id;

    if (h->type != JV_VAL_OBJECT)
        return JV_ERR_BAD_HEADER;
    header_scan(h, &hm);
    *kid = hm.kid;
    if (!hm.alg || hm.alg->type != JV_VAL_STRING || (hm.kid && hm.kid->type != JV_VAL_STRING) ||
        (hm.typ && hm.typ->type != JV_VAL_STRING))
        return JV_ERR_BAD_HEADER;
    if (hm.alg->len == 4 && strncasecmp((const char *)hm.alg->s, "none", 4) == 0)
        return JV_ERR_ALG_NONE;
    alg_id = jv_alg_from_name(hm.alg->s, hm.alg->len);
    if (alg_id < 0)
        return JV_ERR_UNSUPPORTED_ALG;
    if (!(allowed & JV_ALG_BIT(alg_id)))
        return JV_ERR_ALG_NOT_ALLOWED;
    /* RFC 8725 §3.10: keys come from the trusted JWKS, never from the token. */
    if (hm.embedded)
        return JV_ERR_EMBEDDED_KEY;
    /* RFC 7515 §4.1.11: we implement no extension, so any crit is unknown. */
    if (hm.crit)
        return JV_ERR_UNSUPPORTED_CRIT;
    /* RFC 7797 b64 only means something under crit, which we refused. */
    if (hm.b64)
        return JV_ERR_BAD_HEADER;
    if (o->typ && !(hm.typ && typ_matches(hm.typ, o->typ)))
        return JV_ERR_INVALID_TYP;
    *alg_out = alg_id;
    return JV_OK;
}

/* RFC 7515 §7.1: header.payload.signature, the header not empty. */
static jv_err
compact_split(const uint8_t *tok, size_t len, jv_str seg[3])
{
    const uint8_t *d1 = memchr(tok, '.', len), *d2;

    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) || d1 == tok)
        return JV_ERR_MALFORMED_TOKEN;
    seg[0] = (jv_str){tok, (size_t)(d1 - tok)};
    seg[1] = (jv_str){d1 + 1, (size_t)(d2 - d1 - 1)};
    seg[2] = (jv_str){d2 + 1, len - (size_t)(d2 + 1 - tok)};
    return JV_OK;
}

/* A segment decoded into the arena, with a NUL after it (val.h wants one). */
static jv_err
segment_decode(jv_arena *a, const jv_str *seg, uint8_t **out, size_t *len)
{
    uint8_t *buf = jv_arena_alloc(a, jv_b64url_decoded_len(seg->len) + 1);
    jv_err rc;

    if (!buf)
        return JV_ERR_INTERNAL_ERROR;
    if ((rc = jv_b64url_decode(seg->p, seg->len, buf, len)) != JV_OK)
        return rc;
    buf[*len] = '\0';
    *out = buf;
    return JV_OK;
}

static jv_err
header_parse(jv_arena *a, const jv_str *seg, const jv_val **out)
{
    uint8_t *buf;
    size_t n;
    jv_err rc;

    if ((rc = segment_decode(a, seg, &buf, &n)) != JV_OK)
        return rc;
    rc = jv_val_parse(a, buf, n, out);
    return rc == JV_ERR_BAD_JSON ? JV_ERR_BAD_HEADER : rc;
}

/* Into out, which holds JV_MAX_SIG_BYTES: longer is no key's length. */
static jv_err
sig_decode(const jv_str *seg, uint8_t *out, size_t *len)
{
    if (jv_b64url_decoded_len(seg->len) > JV_MAX_SIG_BYTES)
        return JV_ERR_BAD_SIGNATURE_LENGTH;
    return jv_b64url_decode(seg->p, seg->len, out, len);
}

/* The payload's encoding is checked before the signature, as a signature
 * over a non-canonical encoding must not count. */
static jv_err
payload_decode(const jv_str *seg, jv_result *out)
{
    uint8_t *buf;
    jv_err rc = segment_decode(&out->arena, seg, &buf, &out->payload_len);

    out->payload = buf;
    return rc;
}

/* Everything but the arena's block, which is only written as it is used. */
static void
result_init(jv_result *out)
{
    out->header = out->claims = NULL;
    out->payload = NULL;
    out->payload_len = 0;
    out->detail = NULL;
    out->detail_len = 0;
    jv_arena_init(&out->arena);
}

/* What a verify and a peek both do first: the size (nothing of an oversized
 * token is parsed), the three segments, the header's JSON. */
static jv_err
token_open(const uint8_t *tok, size_t len, size_t max_token_bytes, jv_result *out, jv_str seg[3])
{
    size_t max = max_token_bytes ? max_token_bytes : JV_MAX_TOKEN_BYTES_DEFAULT;
    jv_err rc;

    result_init(out);
    if (len > max)
        return JV_ERR_TOKEN_TOO_LARGE;
    if ((rc = compact_split(tok, len, seg)) != JV_OK)
        return rc;
    return header_parse(&out->arena, &seg[0], &out->header);
}

jv_err
jv_jws_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
              jv_result *out)
{
    jv_str seg[3];
    uint8_t sig[JV_MAX_SIG_BYTES];
    size_t sig_len, tbs_len;
    const jv_val *kid;
    int alg;
    jv_err rc;

    if ((rc = token_open(tok, len, opts->max_token_bytes, out, seg)) != JV_OK)
        return rc;
    if ((rc = header_check(out->header, opts, &alg, &kid)) != JV_OK)
        return rc;
    if ((rc = sig_decode(&seg[2], sig, &sig_len)) != JV_OK)
        return rc;
    if ((rc = payload_decode(&seg[1], out)) != JV_OK)
        return rc;
    tbs_len = seg[0].len + 1 + seg[1].len; /* RFC 7515 §5.2: header "." payload, as sent */
    rc = kid ? verify_by_kid(ks, alg, kid, tok, tbs_len, sig, sig_len)
             : verify_any(ks, alg, tok, tbs_len, sig, sig_len);
    /* The cache refetches on a kid it does not hold: tell it which (borrowed
     * from out->header, which lives until jv_result_clear). */
    if (rc == JV_ERR_UNKNOWN_KID && kid) {
        out->detail = (const char *)kid->s;
        out->detail_len = kid->len;
    }
    return rc;
}

/* No key, no signature, no header rule: only the shape and the JSON layer,
 * so what a peek accepts is what a verify would go on to read. */
jv_err
jv_token_peek(const uint8_t *tok, size_t len, size_t max_token_bytes, jv_result *out)
{
    jv_str seg[3];
    uint8_t *sig;
    size_t sig_len;
    jv_err rc;

    if ((rc = token_open(tok, len, max_token_bytes, out, seg)) != JV_OK)
        return rc;
    if (out->header->type != JV_VAL_OBJECT)
        return JV_ERR_BAD_HEADER;
    /* The signature is not checked, but its encoding is: a token whose
     * signature segment is not base64url is no token at all. */
    if ((rc = segment_decode(&out->arena, &seg[2], &sig, &sig_len)) != JV_OK)
        return rc;
    if ((rc = payload_decode(&seg[1], out)) != JV_OK)
        return rc;
    rc = jv_val_parse(&out->arena, out->payload, out->payload_len, &out->claims);
    if (rc == JV_ERR_INTERNAL_ERROR)
        return rc;
    if (rc != JV_OK || out->claims->type != JV_VAL_OBJECT)
        return JV_ERR_BAD_PAYLOAD;
    return JV_OK;
}
