#ifndef JV_JWT_H
#define JV_JWT_H

#include "jv.h"

/* The JWT path: jv_jwt_verify (declared in jv.h) is the JWS path, then the
 * payload as a JWT claims set (RFC 7519 §7.2), then the claims (claims.h). */

#endif
