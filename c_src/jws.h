#ifndef JV_JWS_H
#define JV_JWS_H

#include "jwk.h"

/* One row per JWA algorithm we implement (RFC 7518 §3.1, RFC 8037 §3.1). */
typedef struct jv_alg_info {
    const char *name;
    int kty, crv; /* the key type (and curve) the algorithm needs */
    int md;       /* index into jv_keyset.md, -1 for EdDSA (no prehash) */
    int pss;
} jv_alg_info;

const jv_alg_info *jv_alg_info_get(int alg);

/* Raw JWS ECDSA signature r||s (RFC 7518 §3.4) to the DER form OpenSSL
 * verifies; out must hold JV_ECDSA_DER_MAX bytes. Returns the DER length. */
#define JV_ECDSA_DER_MAX 141
size_t jv_ecdsa_raw_to_der(const uint8_t *sig, size_t coord, uint8_t *out);

#endif
