#ifndef JV_B64URL_H
#define JV_B64URL_H

#include "jv.h"

/* Bytes that decoding len characters yields (exact for valid input). */
size_t jv_b64url_decoded_len(size_t len);

/* Strict base64url (RFC 7515 §2): the URL-safe alphabet only, no padding,
 * no whitespace, and zero trailing bits. out must hold decoded_len bytes. */
jv_err jv_b64url_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

#endif
