#ifndef JV_JWS_H
#define JV_JWS_H

#include "jv.h"

/* The JWS path: jv_jws_verify (declared in jv.h) checks, in this order, the
 * token's size, its three segments, the header (RFC 8725: an allowed alg, no
 * embedded key, no crit, the typ asked for), the base64url of signature and
 * payload, then the signature with the key the kid names, or with the keys
 * that fit when there is none. jv_token_peek (jv.h) shares the first steps
 * and stops there: it verifies nothing. */

/* Largest decoded signature looked at: an RSA-16384 signature. */
#define JV_MAX_SIG_BYTES 2048

#endif
