#include "claims.h"

#include <string.h>

#include "val.h"

static int
str_eq(const jv_val *s, const jv_str *v)
{
    return s->len == v->len && memcmp(s->s, v->p, v->len) == 0;
}

static int
str_in(const jv_val *s, const jv_str *list, size_t n)
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

/* The registered claims this file reads, found in one pass over the members
 * (RFC 7519 §4.1: all of three letters). */
typedef struct {
    const jv_val *exp, *nbf, *iat, *iss, *sub, *jti, *aud;
} registered;

#define NAME3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))

static void
registered_scan(const jv_val *claims, registered *r)
{
    memset(r, 0, sizeof(*r));
    for (const jv_val *m = claims->child; m; m = m->next) {
        if (m->name_len != 3)
            continue;
        switch (NAME3(m->name[0], m->name[1], m->name[2])) {
        case NAME3('e', 'x', 'p'):
            r->exp = m;
            break;
        case NAME3('n', 'b', 'f'):
            r->nbf = m;
            break;
        case NAME3('i', 'a', 't'):
            r->iat = m;
            break;
        case NAME3('i', 's', 's'):
            r->iss = m;
            break;
        case NAME3('s', 'u', 'b'):
            r->sub = m;
            break;
        case NAME3('j', 't', 'i'):
            r->jti = m;
            break;
        case NAME3('a', 'u', 'd'):
            r->aud = m;
            break;
        }
    }
}

/* RFC 7519 §2 NumericDate: we take integers only, exactly, so that no
 * rounding of 1e400 or 2^63 can turn an expired token into a valid one. */
static jv_err
numeric_date(const jv_val *c, const char *name, const char **detail, size_t *detail_len)
{
    if (c && (c->type != JV_VAL_NUMBER || c->num != JV_NUM_INT))
        FAIL_WITH(JV_ERR_INVALID_CLAIM, name);
    return JV_OK;
}

/* RFC 7519 §4.1: iss, sub and jti are strings, aud a string or an array of
 * them, whether or not the caller checks them: code downstream reads them. */
static jv_err
registered_types(const registered *r, const char **detail, size_t *detail_len)
{
    if (r->iss && r->iss->type != JV_VAL_STRING)
        FAIL_WITH(JV_ERR_INVALID_CLAIM, "iss");
    if (r->sub && r->sub->type != JV_VAL_STRING)
        FAIL_WITH(JV_ERR_INVALID_CLAIM, "sub");
    if (r->jti && r->jti->type != JV_VAL_STRING)
        FAIL_WITH(JV_ERR_INVALID_CLAIM, "jti");
    if (r->aud && r->aud->type != JV_VAL_STRING) {
        if (r->aud->type != JV_VAL_ARRAY)
            FAIL_WITH(JV_ERR_INVALID_CLAIM, "aud");
        for (const jv_val *a = r->aud->child; a; a = a->next)
            if (a->type != JV_VAL_STRING)
                FAIL_WITH(JV_ERR_INVALID_CLAIM, "aud");
    }
    return JV_OK;
}

static int
aud_accepted(const jv_val *aud, const jv_opts *o)
{
    if (aud->type == JV_VAL_STRING)
        return str_in(aud, o->aud, o->n_aud);
    for (const jv_val *a = aud->child; a; a = a->next)
        if (str_in(a, o->aud, o->n_aud))
            return 1;
    return 0;
}

jv_err
jv_claims_check(const jv_val *claims, const jv_opts *o, const char **detail, size_t *detail_len)
{
    registered r;
    jv_err rc;

    registered_scan(claims, &r);
    if ((rc = numeric_date(r.exp, "exp", detail, detail_len)) ||
        (rc = numeric_date(r.nbf, "nbf", detail, detail_len)) ||
        (rc = numeric_date(r.iat, "iat", detail, detail_len)))
        return rc;
    if ((rc = registered_types(&r, detail, detail_len)) != JV_OK)
        return rc;
    for (size_t i = 0; i < o->n_required; i++) {
        if (!jv_val_get(claims, o->required[i].p, o->required[i].len)) {
            *detail = (const char *)o->required[i].p;
            *detail_len = o->required[i].len;
            return JV_ERR_MISSING_CLAIM;
        }
    }
    /* now and leeway are bounded by the binding (|now| < 2^62, leeway < 2^40),
     * so these sums cannot overflow. */
    if (r.exp && o->now - o->leeway >= r.exp->n.i)
        return JV_ERR_EXPIRED;
    if (r.nbf && o->now + o->leeway < r.nbf->n.i)
        return JV_ERR_NOT_YET_VALID;
    if (r.iat && r.iat->n.i > o->now + o->leeway)
        return JV_ERR_ISSUED_IN_FUTURE;
    if (o->n_iss) {
        if (!r.iss)
            FAIL_WITH(JV_ERR_MISSING_CLAIM, "iss");
        if (!str_in(r.iss, o->iss, o->n_iss))
            return JV_ERR_INVALID_ISSUER;
    }
    if (o->n_aud) {
        if (!r.aud)
            FAIL_WITH(JV_ERR_MISSING_CLAIM, "aud");
        if (!aud_accepted(r.aud, o))
            return JV_ERR_INVALID_AUDIENCE;
    } else if (r.aud && !o->aud_any) {
        /* RFC 7519 §4.1.3: a token meant for some audience is refused by a
         * recipient that has not said who it is. */
        return JV_ERR_INVALID_AUDIENCE;
    }
    return JV_OK;
}
