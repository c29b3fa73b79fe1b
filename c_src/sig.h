#ifndef JV_SIG_H
#define JV_SIG_H

#include <openssl/evp.h>

#include "jv.h"

/* The algorithm table and the signature primitives. Below both jwk.c (which
 * builds keys and prepares them) and jws.c (which picks a key and verifies),
 * so that neither needs the other's internals. */

enum { JV_KTY_OTHER = 0, JV_KTY_RSA, JV_KTY_EC, JV_KTY_OKP };
enum { JV_CRV_NONE = 0, JV_CRV_P256, JV_CRV_P384, JV_CRV_P521, JV_CRV_ED25519 };
enum { JV_MD_SHA256 = 0, JV_MD_SHA384, JV_MD_SHA512, JV_MD__COUNT };
/* jv_sig_key.alg when the key names no algorithm, or one we do not implement. */
#define JV_KEY_ALG_ANY (-1)
#define JV_KEY_ALG_OTHER (-2)

/* The digests, fetched once per key set: the verify path fetches nothing. */
typedef struct jv_digests {
    EVP_MD *md[JV_MD__COUNT];
} jv_digests;

/* A key as the signature path sees it; jwk.c fills it from a JWK. */
typedef struct jv_sig_key {
    EVP_PKEY *pkey; /* NULL unless the key is usable */
    int kty, crv;
    int alg;           /* JV_ALG_*, JV_KEY_ALG_ANY or JV_KEY_ALG_OTHER */
    size_t len;        /* the exact signature length this key produces */
    uint8_t order[66]; /* EC: the group order, big-endian, len / 2 bytes */
    /* A verify context initialised once for tmpl_alg (the key's alg, or the
     * usual one for its type): copying it skips OpenSSL's per-call setup.
     * Only read once the key set is built, so threads may share it. */
    EVP_MD_CTX *tmpl;
    int tmpl_alg;
} jv_sig_key;

typedef struct jv_alg_info jv_alg_info;

/* Checks the signature's form for the algorithm, then verifies it with k;
 * sig_len is already k->len. */
typedef jv_err (*jv_sig_verify_fn)(const jv_sig_key *k, const jv_digests *d, const jv_alg_info *ai,
                                   const uint8_t *tbs, size_t tbs_len, const uint8_t *sig,
                                   size_t sig_len);

/* One row per JWA algorithm we implement (RFC 7518 §3.1, RFC 8037 §3.1). */
struct jv_alg_info {
    const char *name;
    int kty, crv; /* the key type (and curve) the algorithm needs */
    int md;       /* JV_MD_*, -1 for EdDSA (no prehash) */
    int pss;
    jv_sig_verify_fn verify;
};

/* The row of a JV_ALG_*, NULL outside the table. */
const jv_alg_info *jv_alg_info_get(int alg);

/* Raw JWS ECDSA signature r||s (RFC 7518 §3.4) to the DER form OpenSSL
 * verifies; out must hold JV_ECDSA_DER_MAX bytes. Returns the DER length. */
#define JV_ECDSA_DER_MAX 141
size_t jv_ecdsa_raw_to_der(const uint8_t *sig, size_t coord, uint8_t *out);

/* JV_ERR_INTERNAL_ERROR when OpenSSL cannot provide a digest. Free with
 * jv_digests_free, also after a failure. */
jv_err jv_digests_fetch(jv_digests *d);
void jv_digests_free(jv_digests *d);

/* Prepares k->tmpl; JV_ERR_INTERNAL_ERROR only when OpenSSL fails. */
jv_err jv_sig_key_prepare(jv_sig_key *k, const jv_digests *d);
/* RFC 8725 §3.1: JV_OK when alg fits the key's type, curve and own alg. */
jv_err jv_sig_key_fits(const jv_sig_key *k, int alg);
/* Verifies sig over tbs as alg (which must fit k). */
jv_err jv_sig_key_verify(const jv_sig_key *k, const jv_digests *d, int alg, const uint8_t *tbs,
                         size_t tbs_len, const uint8_t *sig, size_t sig_len);
/* Frees k's OpenSSL objects; kty, crv and alg stay, to describe the key. */
void jv_sig_key_clear(jv_sig_key *k);

#endif
