#include "claims.h"

#include <string.h>

#include "json.h"

static int
str_eq(const cJSON *s, const jv_str *v)
{
    return strlen(s->valuestring) == v->len && memcmp(s->valuestring, v->p, v->len) == 0;
}

static int
str_in(const cJSON *s, const jv_str *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (str_eq(s, &list[i]))
            return 1;
    return 0;
}

#define FAIL_WITH(err, name)                                                                       \
    do {                                                                                           \
        *detail = (const char *)(name);                                                            \
        *detail_len = strlen(name);                                                                \
        return (err);                                                                              \
    } while (0)

/* RFC 7519 §2 NumericDate: we take integers only, exactly, so that no
 * rounding of 1e400 or 2^63 can turn an expired token into a valid one. */
static jv_err
numeric_date(const cJSON *claims, const char *name, int64_t *out, int *present, const char **detail,
             size_t *detail_len)
{
    const cJSON *c = jv_json_get(claims, name);

    *present = c != NULL;
    if (!c)
        return JV_OK;
    if (!cJSON_IsNumber(c) || jv_json_int64(c, out) != JV_NUM_INT)
        FAIL_WITH(JV_ERR_INVALID_CLAIM, name);
    return JV_OK;
}

/* RFC 7519 §4.1: iss, sub and jti are strings, aud a string or an array of
 * them, whether or not the caller checks them: code downstream reads them. */
static jv_err
registered_types(const cJSON *claims, const char **detail, size_t *detail_len)
{
    static const char *strings[] = {"iss", "sub", "jti"};
    const cJSON *c, *a;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        c = jv_json_get(claims, strings[i]);
        if (c && !cJSON_IsString(c))
            FAIL_WITH(JV_ERR_INVALID_CLAIM, strings[i]);
    }
    c = jv_json_get(claims, "aud");
    if (c && !cJSON_IsString(c)) {
        if (!cJSON_IsArray(c))
            FAIL_WITH(JV_ERR_INVALID_CLAIM, "aud");
        cJSON_ArrayForEach(a, c)
        {
            if (!cJSON_IsString(a))
                FAIL_WITH(JV_ERR_INVALID_CLAIM, "aud");
        }
    }
    return JV_OK;
}

static int
aud_accepted(const cJSON *aud, const jv_opts *o)
{
    const cJSON *a;

    if (cJSON_IsString(aud))
        return str_in(aud, o->aud, o->n_aud);
    cJSON_ArrayForEach(a, aud)
    {
        if (str_in(a, o->aud, o->n_aud))
            return 1;
    }
    return 0;
}

jv_err
jv_claims_check(const cJSON *claims, const jv_opts *o, const char **detail, size_t *detail_len)
{
    int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp, has_nbf, has_iat;
    jv_err rc;
    const cJSON *iss, *aud;

    if ((rc = numeric_date(claims, "exp", &exp, &has_exp, detail, detail_len)) ||
        (rc = numeric_date(claims, "nbf", &nbf, &has_nbf, detail, detail_len)) ||
        (rc = numeric_date(claims, "iat", &iat, &has_iat, detail, detail_len)))
        return rc;
    if ((rc = registered_types(claims, detail, detail_len)) != JV_OK)
        return rc;
    for (size_t i = 0; i < o->n_required; i++) {
        if (!jv_json_getn(claims, o->required[i].p, o->required[i].len)) {
            *detail = (const char *)o->required[i].p;
            *detail_len = o->required[i].len;
            return JV_ERR_MISSING_CLAIM;
        }
    }
    /* now and leeway are bounded by the binding (|now| < 2^62, leeway < 2^40),
     * so these sums cannot overflow. */
    if (has_exp && o->now - o->leeway >= exp)
        return JV_ERR_EXPIRED;
    if (has_nbf && o->now + o->leeway < nbf)
        return JV_ERR_NOT_YET_VALID;
    if (has_iat && iat > o->now + o->leeway)
        return JV_ERR_ISSUED_IN_FUTURE;
    if (o->n_iss) {
        if (!(iss = jv_json_get(claims, "iss")))
            FAIL_WITH(JV_ERR_MISSING_CLAIM, "iss");
        if (!str_in(iss, o->iss, o->n_iss))
            return JV_ERR_INVALID_ISSUER;
    }
    aud = jv_json_get(claims, "aud");
    if (o->n_aud) {
        if (!aud)
            FAIL_WITH(JV_ERR_MISSING_CLAIM, "aud");
        if (!aud_accepted(aud, o))
            return JV_ERR_INVALID_AUDIENCE;
    } else if (aud && !o->aud_any) {
        /* RFC 7519 §4.1.3: a token meant for some audience is refused by a
         * recipient that has not said who it is. */
        return JV_ERR_INVALID_AUDIENCE;
    }
    return JV_OK;
}
