/*
 * jwt.c - a JWT is a JWS whose payload is a claims set: the JWS path, then
 * the claims, and nothing of the payload trusted before its signature.
 */
#include "jwt.h"

#include "claims.h"
#include "val.h"

jv_err
jv_jwt_verify(const jv_keyset *ks, const uint8_t *tok, size_t len, const jv_opts *opts,
              jv_result *out)
{
    jv_err rc = jv_jws_verify(ks, tok, len, opts, out);

    if (rc != JV_OK)
        return rc;
    /* Only now, with the signature good, is the payload parsed (RFC 8725
     * §3.10: nothing in it is trusted before). */
    rc = jv_val_parse(&out->arena, out->payload, out->payload_len, &out->claims);
    if (rc == JV_ERR_INTERNAL_ERROR)
        return rc;
    if (rc != JV_OK || out->claims->type != JV_VAL_OBJECT)
        return JV_ERR_BAD_PAYLOAD;
    return jv_claims_check(out->claims, opts, &out->detail, &out->detail_len);
}
