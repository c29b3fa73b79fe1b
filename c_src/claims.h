#ifndef JV_CLAIMS_H
#define JV_CLAIMS_H

#include "jv.h"

/* Checks a JWT claims object (RFC 7519 §4.1) against opts: exp, nbf and iat
 * as exact int64 with leeway, required claims, iss and aud. On
 * JV_ERR_INVALID_CLAIM / JV_ERR_MISSING_CLAIM, *detail names the claim. */
jv_err jv_claims_check(const jv_val *claims, const jv_opts *opts, const char **detail,
                       size_t *detail_len);

#endif
