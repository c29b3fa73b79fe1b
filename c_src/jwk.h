#ifndef JV_JWK_H
#define JV_JWK_H

#include <openssl/evp.h>

#include "jv.h"

enum { JV_KTY_OTHER = 0, JV_KTY_RSA, JV_KTY_EC, JV_KTY_OKP };
enum { JV_CRV_NONE = 0, JV_CRV_P256, JV_CRV_P384, JV_CRV_P521, JV_CRV_ED25519 };
/* jv_key.alg when the key names an algorithm we do not implement. */
#define JV_KEY_ALG_OTHER (-2)
#define JV_KEY_ALG_ANY (-1)

typedef struct jv_key {
    uint8_t *kid; /* NULL when the JWK has no kid */
    size_t kid_len;
    char *kty_name;
    char *alg_name;
    int kty, crv;
    int alg;           /* JV_ALG_*, JV_KEY_ALG_ANY or JV_KEY_ALG_OTHER */
    size_t sig_len;    /* the exact signature length this key produces */
    EVP_PKEY *pkey;    /* NULL unless status is JV_OK */
    uint8_t order[66]; /* EC: the group order, big-endian, sig_len / 2 bytes */
    jv_err status;     /* JV_OK, or why the key is refused */
    /* A verify context initialised once for tmpl_alg (the key's alg, or the
     * usual one for its type): copying it skips OpenSSL's per-call setup.
     * Only read once the key set is built, so threads may share it. */
    EVP_MD_CTX *tmpl;
    int tmpl_alg;
} jv_key;

struct jv_keyset {
    jv_key *keys;
    size_t n;
    jv_key **by_kid; /* keys with a kid, sorted for binary search */
    size_t n_kid;
    EVP_MD *md[3]; /* SHA-256/384/512, fetched once per key set */
    int heavy;     /* an RSA key over 4096 bits (see jv_keyset_heavy) */
};

/* Prepares k->tmpl (jws.c); JV_ERR_INTERNAL only on allocation failure. */
jv_err jv_key_prepare(const jv_keyset *ks, jv_key *k);

/* The keys whose kid equals (kid, len): [*first, *first + count). */
size_t jv_keyset_find(const jv_keyset *ks, const uint8_t *kid, size_t len, jv_key ***first);

#endif
