#ifndef JV_JWK_H
#define JV_JWK_H

#include "jv.h"
#include "sig.h"

typedef struct jv_key {
    jv_sig_key sig; /* what verifying needs; its pkey is NULL unless status is JV_OK */
    uint8_t *kid;   /* NULL when the JWK has no kid */
    size_t kid_len;
    char *kty_name;
    char *alg_name;
    jv_err status; /* JV_OK, or why the key is refused */
} jv_key;

struct jv_keyset {
    jv_key *keys;
    size_t n;
    jv_key **by_kid; /* keys with a kid, sorted for binary search */
    size_t n_kid;
    jv_digests digests;
    int heavy; /* an RSA key over 4096 bits (see jv_keyset_heavy) */
};

/* The keys whose kid equals (kid, len): [*first, *first + count). */
size_t jv_keyset_find(const jv_keyset *ks, const uint8_t *kid, size_t len, jv_key ***first);

#endif
