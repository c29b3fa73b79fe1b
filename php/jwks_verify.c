/*
 * jwks_verify.c - the PHP binding of the jwks_verify C core, and the only
 * file of the extension that includes PHP's headers (as nif.c is the only one
 * that includes erl_nif.h). Everything it verifies is decided by the core
 * (jv.h); this file turns zvals into core arguments and core answers into
 * arrays or exceptions, and keeps parsed key sets alive across requests.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "php.h"
#include "php_ini.h"
#include "ext/standard/info.h"
#include "ext/spl/spl_exceptions.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include "jv.h"

#include "php_jwks_verify.h"
#include "jwks_verify_arginfo.h"

/* Caps on option lists, as jwks_verify:options/1's: larger ones are caller
 * mistakes, refused when the options are read (never truncated). */
#define MAX_OPT_LIST 64
/* The Erlang API's bounds on numeric options (jwks_verify:options/1). */
#define MAX_LEEWAY (INT64_C(1) << 40)
#define MAX_NOW (INT64_C(1) << 62)
#define MAX_TOKEN_BYTES_LIMIT (INT64_C(1) << 30)
#define SHA256_BYTES 32

/* JwksVerify\ANY_AUDIENCE, the aud option's opt-out (the Erlang atom any).
 * A string no token can carry, so it never stands for a real audience: it
 * starts with a NUL byte, which the core's JSON layer refuses in strings. */
#define ANY_AUDIENCE "\0JwksVerify\\ANY_AUDIENCE"

/* A parsed key set shared by the per-worker cache and any number of KeySet
 * objects of the same thread (PHP objects never cross threads, so a plain
 * counter suffices). Persistent memory: it outlives the request. */
typedef struct shared_ks {
    uint32_t refs;
    jv_keyset *ks; /* immutable once parsed */
} shared_ks;

typedef struct keyset_obj {
    shared_ks *set; /* NULL only before fromJwks fills it */
    zend_object std;
} keyset_obj;

/* Per worker process (per thread under ZTS), living across requests. */
// clang-format off
ZEND_BEGIN_MODULE_GLOBALS(jwks_verify)
    HashTable cache; /* SHA-256 of a JWKS document => shared_ks *, persistent */
    zend_long cache_max; /* jwks_verify.keyset_cache */
    zend_ulong hits, misses;
ZEND_END_MODULE_GLOBALS(jwks_verify)
// clang-format on

ZEND_DECLARE_MODULE_GLOBALS(jwks_verify)
#define JV_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(jwks_verify, v)

static zend_class_entry *keyset_ce, *exception_ce;
static zend_object_handlers keyset_handlers;
static EVP_MD *sha256; /* fetched once: an implicit fetch per call costs a lock */

static void
shared_ks_release(shared_ks *s)
{
    if (s && --s->refs == 0) {
        jv_keyset_free(s->ks);
        pefree(s, 1);
    }
}

static void
cache_entry_dtor(zval *zv)
{
    shared_ks_release(Z_PTR_P(zv));
}

/* ---------------------------------------------------------------------------
 * Exceptions
 */

/* Readable messages by reason name. Names, not codes, key this table, so it
 * follows the core's list whatever its order; a name missing here still
 * reads ("refused"), and JwksVerify\reasons() shows it, which api.phpt checks. */
static const struct {
    const char *reason, *text;
} messages[] = {
    {"token_too_large", "the token is longer than max_token_bytes"},
    {"malformed_token", "the token is not a compact JWS of three dot-separated parts"},
    {"bad_base64", "a token segment is not unpadded base64url"},
    {"bad_header", "the token header is not a strict JSON object with well-typed members"},
    {"alg_none", "unsigned tokens (alg \"none\") are refused"},
    {"unsupported_alg", "the token's alg is not supported"},
    {"alg_not_allowed", "the token's alg is not in the algs option"},
    {"embedded_key", "the token header brings its own key (jwk, jku, x5u or x5c)"},
    {"unsupported_crit", "the token header names a crit extension that is not understood"},
    {"invalid_typ", "the token's typ is not the expected one"},
    {"unknown_kid", "no key of the set has the token's kid"},
    {"ambiguous_kid", "several keys of the set share the token's kid"},
    {"no_matching_key", "no key of the set fits the token's alg"},
    {"key_alg_mismatch", "the key's alg is not the token's alg"},
    {"key_type_mismatch", "the key's type does not fit the token's alg"},
    {"key_not_for_signing", "the key is not meant for verifying signatures (use, key_ops)"},
    {"private_key", "the JWKS publishes this key's private part (d, p, q, dp, dq, qi, oth or k)"},
    {"rsa_key_too_small", "the RSA key is shorter than 2048 bits"},
    {"weak_rsa_exponent", "the RSA key's public exponent is unsafe"},
    {"roca_weak_key", "the RSA key is ROCA-weak (CVE-2017-15361)"},
    {"invalid_ec_point", "the EC key's point is not on its curve"},
    {"invalid_key", "the key is malformed"},
    {"unsupported_key", "the key's type or curve is not supported"},
    {"bad_signature_length", "the signature has the wrong length for the alg"},
    {"signature_out_of_range", "the signature's values are out of range"},
    {"bad_signature", "the signature does not verify"},
    {"bad_payload", "the token's payload is not a strict JSON object of claims"},
    {"invalid_claim", "a claim has an invalid value"},
    {"missing_claim", "a required claim is missing"},
    {"expired", "the token has expired (exp)"},
    {"not_yet_valid", "the token is not valid yet (nbf)"},
    {"issued_in_future", "the token was issued in the future (iat)"},
    {"invalid_issuer", "the token's iss is not an accepted issuer"},
    {"invalid_audience", "the token's aud names no accepted audience"},
    {"jwks_too_large", "the JWKS document is too large"},
    {"bad_json", "the JWKS document is not valid JSON"},
    {"bad_jwks", "the document is not a JWKS ({\"keys\": [...]})"},
    {"too_many_keys", "the JWKS holds too many keys"},
    {"internal_error", "internal error"},
};

static const char *
message_of(const char *reason)
{
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        if (strcmp(messages[i].reason, reason) == 0)
            return messages[i].text;
    return "refused";
}

/* Throws VerificationException: reason is the core's name (jv_err_name), as
 * the Erlang atom; detail (a claim name) is copied, since it may point into
 * a jv_result about to be cleared. text overrides the table's message. */
static void
throw_reason(const char *reason, const char *detail, size_t detail_len, const char *text)
{
    zend_object *ex;
    zend_string *msg;

    if (!text)
        text = message_of(reason);
    if (detail)
        msg = zend_strpprintf(0, "%s: %s: \"%.*s\"", reason, text, (int)detail_len, detail);
    else
        msg = zend_strpprintf(0, "%s: %s", reason, text);
    ex = zend_throw_exception(exception_ce, ZSTR_VAL(msg), 0);
    zend_string_release(msg);
    zend_update_property_string(exception_ce, ex, "reason", sizeof("reason") - 1, reason);
    if (detail)
        zend_update_property_stringl(exception_ce, ex, "detail", sizeof("detail") - 1, detail,
                                     detail_len);
}

/* The Erlang API names the claim for these two reasons only; its public
 * unknown_kid carries no kid (attacker text), so neither does ours. */
static int
reason_has_detail(jv_err rc)
{
    const char *r = jv_err_name(rc);

    return strcmp(r, "invalid_claim") == 0 || strcmp(r, "missing_claim") == 0;
}

/* ---------------------------------------------------------------------------
 * JSON (the core's jv_val trees) to PHP values
 */

typedef enum { CONV_OK, CONV_BIG_INTEGER, CONV_NOT_FINITE } conv_err;

static conv_err
number_zval(const jv_val *n, zval *out)
{
    switch (n->num) {
    case JV_NUM_INT:
#if SIZEOF_ZEND_LONG < 8
        if (n->n.i < ZEND_LONG_MIN || n->n.i > ZEND_LONG_MAX)
            return CONV_BIG_INTEGER;
#endif
        ZVAL_LONG(out, (zend_long)n->n.i);
        return CONV_OK;
    case JV_NUM_OUT_OF_RANGE:
        /* Never a float: 2^64 must not come back as a rounded 1.8e19. */
        return CONV_BIG_INTEGER;
    default:
        if (!isfinite(n->n.d))
            return CONV_NOT_FINITE;
        ZVAL_DOUBLE(out, n->n.d);
        return CONV_OK;
    }
}

/* Objects become associative arrays with json_decode's key rules (numeric
 * strings become integer keys), their members in the core's order: sorted by
 * name, not json_decode's document order (php/README.md). Depth is bounded by
 * the core's JSON layer (JV_MAX_JSON_DEPTH), so the recursion is too. On
 * failure *out is UNDEF. */
static conv_err
json_zval(const jv_val *n, zval *out)
{
    const jv_val *c;
    conv_err e = CONV_OK;
    zval v;

    ZVAL_UNDEF(out);
    switch (n->type) {
    case JV_VAL_NULL:
        ZVAL_NULL(out);
        break;
    case JV_VAL_TRUE:
        ZVAL_TRUE(out);
        break;
    case JV_VAL_FALSE:
        ZVAL_FALSE(out);
        break;
    case JV_VAL_NUMBER:
        e = number_zval(n, out);
        break;
    case JV_VAL_STRING:
        ZVAL_STRINGL(out, (const char *)n->s, n->len);
        break;
    default:
        array_init_size(out, n->len);
        for (c = n->child; c; c = c->next) {
            if ((e = json_zval(c, &v)) != CONV_OK)
                break;
            if (n->type == JV_VAL_OBJECT)
                zend_symtable_str_update(Z_ARRVAL_P(out), (const char *)c->name, c->name_len, &v);
            else
                zend_hash_next_index_insert_new(Z_ARRVAL_P(out), &v);
        }
        if (e != CONV_OK) {
            zval_ptr_dtor(out);
            ZVAL_UNDEF(out);
        }
    }
    return e;
}

/* The Erlang side returns these numbers as bignums (and refuses non-finite
 * ones, as here); PHP has no exact form for them. reason: bad_payload for
 * the claims, bad_header for verify_jws's header, as nif.c says. */
static void
throw_conv(const char *reason, conv_err e)
{
    throw_reason(reason, NULL, 0,
                 e == CONV_BIG_INTEGER ? "a number is an integer beyond PHP's int range"
                                       : "a number is beyond the range of a float");
}

/* ---------------------------------------------------------------------------
 * Options
 */

typedef struct {
    jv_opts o;
    jv_str iss[MAX_OPT_LIST], aud[MAX_OPT_LIST], required[MAX_OPT_LIST], typ;
} opts_buf;

static const jv_str default_required[] = {{(const uint8_t *)"exp", 3}};

/* The option names, in jwks_verify:options/1's order (messages list them). */
static const char *const verify_options[] = {"algs", "iss",      "aud", "leeway",
                                             "now",  "required", "typ", "max_token_bytes"};
static const char *const peek_options[] = {"max_token_bytes"};
#define N_OPTIONS(a) (sizeof(a) / sizeof((a)[0]))

/* Levenshtein distance, one row at a time, as jwks_verify_badarg's; b is a
 * known option name (shorter than the row). */
static size_t
distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[32], diag, up;

    ZEND_ASSERT(lb < sizeof(row) / sizeof(row[0]));
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            up = row[j];
            row[j] = MIN(MIN(row[j - 1], up) + 1, diag + (a[i - 1] != b[j - 1]));
            diag = up;
        }
    }
    return row[lb];
}

/* ValueError for an option name that is not one of known (key NULL: an
 * integer key), naming the known one a slip of the keyboard away (at most two
 * edits, and fewer than the name's length) as jwks_verify_badarg does. */
static void
unknown_option(uint32_t arg, const zend_string *key, const char *const *known, size_t n)
{
    smart_str list = {0};
    const char *close = NULL;
    size_t best = 0;

    for (size_t i = 0; i < n; i++) {
        size_t lk = strlen(known[i]), d;

        smart_str_appends(&list, i ? ", " : "");
        smart_str_appends(&list, known[i]);
        /* Over two apart in length is over two edits apart. */
        if (!key || ZSTR_LEN(key) > lk + 2 || lk > ZSTR_LEN(key) + 2)
            continue;
        d = distance(ZSTR_VAL(key), ZSTR_LEN(key), known[i], lk);
        if (d <= 2 && d < ZSTR_LEN(key) &&
            (!close || d < best || (d == best && strcmp(known[i], close) < 0))) {
            close = known[i];
            best = d;
        }
    }
    smart_str_0(&list);
    if (!key)
        zend_argument_value_error(arg, "must be an array with string keys; known options: %s",
                                  ZSTR_VAL(list.s));
    else if (close)
        zend_argument_value_error(
            arg, "has an unknown option \"%.*s\" (did you mean \"%s\"?); known options: %s",
            (int)MIN(ZSTR_LEN(key), 64), ZSTR_VAL(key), close, ZSTR_VAL(list.s));
    else
        zend_argument_value_error(arg, "has an unknown option \"%.*s\"; known options: %s",
                                  (int)MIN(ZSTR_LEN(key), 64), ZSTR_VAL(key), ZSTR_VAL(list.s));
    smart_str_free(&list);
}

static int
is_any_audience(const zval *v)
{
    /* Not zend_string_equals_literal: it measures the literal with strlen. */
    return Z_TYPE_P(v) == IS_STRING &&
           zend_string_equals_cstr(Z_STR_P(v), ANY_AUDIENCE, sizeof(ANY_AUDIENCE) - 1);
}

/* One string value of a list option: non-empty (an empty one would match
 * nothing or, worse, read as "no check"), and not the aud opt-out. */
static int
opt_string(uint32_t arg, const char *name, const zval *v, jv_str *out)
{
    if (Z_STRLEN_P(v) == 0) {
        zend_argument_value_error(arg, "option \"%s\" must not hold an empty string", name);
        return 0;
    }
    if (is_any_audience(v)) {
        zend_argument_value_error(arg,
                                  strcmp(name, "aud") == 0
                                      ? "option \"aud\" takes JwksVerify\\ANY_AUDIENCE alone, "
                                        "not in a list"
                                      : "option \"%s\" does not take JwksVerify\\ANY_AUDIENCE "
                                        "(an aud value)",
                                  name);
        return 0;
    }
    out->p = (const uint8_t *)Z_STRVAL_P(v);
    out->len = Z_STRLEN_P(v);
    return 1;
}

/* A string or (allow_single) a list of strings, each borrowed from the
 * caller's array, which outlives the call. Issue 14: whatever would turn a
 * check off by accident is refused here, as jwks_verify:options/1 does: an
 * empty string, an empty list (unless if_empty is NULL: required's [] is
 * meaningful) and more than MAX_OPT_LIST values (never truncated). */
static int
opt_strings(uint32_t arg, const char *name, zval *v, int allow_single, const char *if_empty,
            jv_str *out, size_t *n)
{
    zval *e;

    *n = 0;
    if (allow_single && Z_TYPE_P(v) == IS_STRING) {
        if (Z_STRLEN_P(v) == 0) {
            zend_argument_value_error(arg, "option \"%s\" must not be empty: %s", name, if_empty);
            return 0;
        }
        *n = 1;
        return opt_string(arg, name, v, &out[0]);
    }
    if (Z_TYPE_P(v) != IS_ARRAY) {
        zend_argument_type_error(arg, "option \"%s\" must be of type %sarray, %s given", name,
                                 allow_single ? "string|" : "", zend_zval_type_name(v));
        return 0;
    }
    if (zend_hash_num_elements(Z_ARRVAL_P(v)) == 0 && if_empty) {
        zend_argument_value_error(arg, "option \"%s\" must not be empty: %s", name, if_empty);
        return 0;
    }
    if (zend_hash_num_elements(Z_ARRVAL_P(v)) > MAX_OPT_LIST) {
        zend_argument_value_error(arg, "option \"%s\" must have at most %d entries", name,
                                  MAX_OPT_LIST);
        return 0;
    }
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), e)
    {
        ZVAL_DEREF(e);
        if (Z_TYPE_P(e) != IS_STRING) {
            zend_argument_type_error(arg, "option \"%s\" must hold only strings, %s found", name,
                                     zend_zval_type_name(e));
            return 0;
        }
        if (!opt_string(arg, name, e, &out[*n]))
            return 0;
        (*n)++;
    }
    ZEND_HASH_FOREACH_END();
    return 1;
}

static int
opt_int(uint32_t arg, const char *name, zval *v, int64_t min, int64_t max, int64_t *out)
{
    if (Z_TYPE_P(v) != IS_LONG) {
        zend_argument_type_error(arg, "option \"%s\" must be of type int, %s given", name,
                                 zend_zval_type_name(v));
        return 0;
    }
    if ((int64_t)Z_LVAL_P(v) < min || (int64_t)Z_LVAL_P(v) > max) {
        zend_argument_value_error(
            arg, "option \"%s\" must be between " ZEND_LONG_FMT " and " ZEND_LONG_FMT, name,
            (zend_long)min, (zend_long)max);
        return 0;
    }
    *out = Z_LVAL_P(v);
    return 1;
}

static int
opt_max_token_bytes(uint32_t arg, zval *v, size_t *out)
{
    int64_t i;

    if (!opt_int(arg, "max_token_bytes", v, 1, MAX_TOKEN_BYTES_LIMIT - 1, &i))
        return 0;
    *out = (size_t)i;
    return 1;
}

static int
opt_algs(zval *v, uint32_t *mask)
{
    jv_str names[MAX_OPT_LIST];
    size_t n;

    if (!opt_strings(3, "algs", v, 0, "name the algorithms your issuer signs with", names, &n))
        return 0;
    *mask = 0;
    for (size_t i = 0; i < n; i++) {
        int alg = jv_alg_from_name(names[i].p, names[i].len);
        if (alg < 0) {
            zend_argument_value_error(3,
                                      "option \"algs\" holds an unsupported algorithm \"%.*s\" "
                                      "(supported: RS256, RS384, RS512, PS256, PS384, PS512, "
                                      "ES256, ES384, ES512, EdDSA)",
                                      (int)MIN(names[i].len, 32), (const char *)names[i].p);
            return 0;
        }
        *mask |= JV_ALG_BIT(alg);
    }
    return 1;
}

/* jwks_verify:options/1 in C: unknown options and bad values are caller
 * mistakes (TypeError, ValueError), and the defaults are the secure ones:
 * without aud, a token carrying aud is refused (aud_any stays 0). */
static int
get_opts(HashTable *ht, opts_buf *b)
{
    zend_string *key;
    zval *v;
    int now_set = 0;

    memset(&b->o, 0, sizeof(b->o));
    b->o.algs = JV_ALG_BIT(JV_ALG_RS256);
    b->o.required = default_required;
    b->o.n_required = 1;
    b->o.iss = b->iss;
    b->o.aud = b->aud;
    ZEND_HASH_FOREACH_STR_KEY_VAL(ht, key, v)
    {
        if (!key) {
            unknown_option(3, NULL, verify_options, N_OPTIONS(verify_options));
            return 0;
        }
        ZVAL_DEREF(v);
        if (zend_string_equals_literal(key, "algs")) {
            if (!opt_algs(v, &b->o.algs))
                return 0;
        } else if (zend_string_equals_literal(key, "iss")) {
            if (!opt_strings(3, "iss", v, 1, "leave the option out not to check iss", b->iss,
                             &b->o.n_iss))
                return 0;
        } else if (zend_string_equals_literal(key, "aud")) {
            /* RFC 7519 §4.1.3; the opt-out is explicit and unsafe (RFC 8725 §3.9). */
            if (is_any_audience(v))
                b->o.aud_any = 1;
            else if (!opt_strings(3, "aud", v, 1,
                                  "name your audience, or pass JwksVerify\\ANY_AUDIENCE not to "
                                  "check aud (unsafe)",
                                  b->aud, &b->o.n_aud))
                return 0;
        } else if (zend_string_equals_literal(key, "required")) {
            if (!opt_strings(3, "required", v, 0, NULL, b->required, &b->o.n_required))
                return 0;
            b->o.required = b->required;
        } else if (zend_string_equals_literal(key, "leeway")) {
            if (!opt_int(3, "leeway", v, 0, MAX_LEEWAY - 1, &b->o.leeway))
                return 0;
        } else if (zend_string_equals_literal(key, "now")) {
            if (Z_TYPE_P(v) != IS_NULL) {
                if (!opt_int(3, "now", v, -MAX_NOW + 1, MAX_NOW - 1, &b->o.now))
                    return 0;
                now_set = 1;
            }
        } else if (zend_string_equals_literal(key, "typ")) {
            if (Z_TYPE_P(v) == IS_STRING) {
                if (Z_STRLEN_P(v) == 0) {
                    zend_argument_value_error(3, "option \"typ\" must not be empty: null "
                                                 "checks nothing");
                    return 0;
                }
                if (!opt_string(3, "typ", v, &b->typ))
                    return 0;
                b->o.typ = &b->typ;
            } else if (Z_TYPE_P(v) != IS_NULL) {
                zend_argument_type_error(3, "option \"typ\" must be of type ?string, %s given",
                                         zend_zval_type_name(v));
                return 0;
            }
        } else if (zend_string_equals_literal(key, "max_token_bytes")) {
            if (!opt_max_token_bytes(3, v, &b->o.max_token_bytes))
                return 0;
        } else {
            unknown_option(3, key, verify_options, N_OPTIONS(verify_options));
            return 0;
        }
    }
    ZEND_HASH_FOREACH_END();
    if (!now_set)
        b->o.now = (int64_t)time(NULL);
    return 1;
}

/* ---------------------------------------------------------------------------
 * KeySet
 */

static inline keyset_obj *
keyset_from(zend_object *o)
{
    return (keyset_obj *)((char *)o - XtOffsetOf(keyset_obj, std));
}

static zend_object *
keyset_create(zend_class_entry *ce)
{
    keyset_obj *k = zend_object_alloc(sizeof(keyset_obj), ce);

    k->set = NULL;
    zend_object_std_init(&k->std, ce);
    object_properties_init(&k->std, ce);
    k->std.handlers = &keyset_handlers;
    return &k->std;
}

static void
keyset_free(zend_object *o)
{
    shared_ks_release(keyset_from(o)->set);
    zend_object_std_dtor(o);
}

/* Entries beyond the bound go oldest first: a hot set evicted by a burst of
 * other documents costs one parse to come back. */
static void
cache_put(const unsigned char *digest, shared_ks *s)
{
    HashTable *ht = &JV_G(cache);
    zend_long max = JV_G(cache_max);
    Bucket *p;

    if (max <= 0)
        return;
    while (zend_hash_num_elements(ht) >= (uint32_t)MIN(max, UINT32_MAX)) {
        ZEND_HASH_FOREACH_BUCKET(ht, p)
        {
            zend_hash_del_bucket(ht, p);
            break;
        }
        ZEND_HASH_FOREACH_END();
    }
    s->refs++; /* the cache's reference */
    zend_hash_str_add_new_ptr(ht, (const char *)digest, SHA256_BYTES, s);
}

PHP_METHOD(JwksVerify_KeySet, __construct)
{
    (void)return_value;
    ZEND_PARSE_PARAMETERS_NONE();
}

PHP_METHOD(JwksVerify_KeySet, fromJwks)
{
    zend_string *json;
    unsigned char digest[SHA256_BYTES];
    int hashed = 0;
    shared_ks *s;
    jv_keyset *ks;
    jv_err rc;

    ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(json)
    ZEND_PARSE_PARAMETERS_END();

    /* Oversized documents go straight to the core's refusal, unhashed. */
    if (ZSTR_LEN(json) <= JV_MAX_JWKS_BYTES && JV_G(cache_max) > 0) {
        if (!EVP_Digest(ZSTR_VAL(json), ZSTR_LEN(json), digest, NULL, sha256, NULL)) {
            throw_reason("internal_error", NULL, 0, NULL);
            RETURN_THROWS();
        }
        hashed = 1;
        if ((s = zend_hash_str_find_ptr(&JV_G(cache), (const char *)digest, SHA256_BYTES))) {
            JV_G(hits)++;
            goto found;
        }
        JV_G(misses)++;
    }
    if ((rc = jv_keyset_parse((const uint8_t *)ZSTR_VAL(json), ZSTR_LEN(json), &ks)) != JV_OK) {
        throw_reason(jv_err_name(rc), NULL, 0, NULL);
        RETURN_THROWS();
    }
    s = pemalloc(sizeof(*s), 1);
    s->ks = ks; /* s owns ks from here */
    s->refs = 0;
    if (hashed)
        cache_put(digest, s);
found:
    object_init_ex(return_value, keyset_ce);
    s->refs++; /* the object's reference */
    keyset_from(Z_OBJ_P(return_value))->set = s;
}

/* The object's key set, or NULL with an Error thrown for an object that
 * fromJwks did not make. None should exist (private constructor, final class,
 * no unserialize), but an Error beats a NULL dereference. */
static const jv_keyset *
keyset_of(zend_object *o)
{
    shared_ks *s = keyset_from(o)->set;

    if (!s)
        zend_throw_error(NULL, "JwksVerify\\KeySet is not initialized: use KeySet::fromJwks()");
    return s ? s->ks : NULL;
}

PHP_METHOD(JwksVerify_KeySet, info)
{
    const jv_keyset *ks;
    size_t n;

    ZEND_PARSE_PARAMETERS_NONE();
    if (!(ks = keyset_of(Z_OBJ_P(ZEND_THIS))))
        RETURN_THROWS();
    n = jv_keyset_size(ks);
    array_init_size(return_value, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        jv_str kid;
        const char *kty, *alg;
        jv_err st = jv_keyset_entry(ks, i, &kid, &kty, &alg);
        zval e;

        array_init_size(&e, 4);
        if (kid.p)
            add_assoc_stringl(&e, "kid", (const char *)kid.p, kid.len);
        else
            add_assoc_null(&e, "kid");
        add_assoc_string(&e, "kty", kty);
        if (alg)
            add_assoc_string(&e, "alg", alg);
        else
            add_assoc_null(&e, "alg");
        add_assoc_string(&e, "status", st == JV_OK ? "ok" : jv_err_name(st));
        add_next_index_zval(return_value, &e);
    }
}

/* ---------------------------------------------------------------------------
 * verify, verify_jws
 */

static void
verify(INTERNAL_FUNCTION_PARAMETERS, int jwt)
{
    zend_string *tok;
    zend_object *keys;
    HashTable *options = NULL;
    const jv_keyset *ks;
    opts_buf ob;
    jv_result r;
    jv_err rc;
    conv_err ce;
    zval header;

    ZEND_PARSE_PARAMETERS_START(2, 3)
    Z_PARAM_STR(tok)
    Z_PARAM_OBJ_OF_CLASS(keys, keyset_ce)
    Z_PARAM_OPTIONAL
    Z_PARAM_ARRAY_HT(options)
    ZEND_PARSE_PARAMETERS_END();

    if (!(ks = keyset_of(keys)) ||
        !get_opts(options ? options : (HashTable *)&zend_empty_array, &ob))
        RETURN_THROWS();
    memset(&r, 0, sizeof(r)); /* so that jv_result_clear is safe whatever the core returns */
    rc = jwt ? jv_jwt_verify(ks, (const uint8_t *)ZSTR_VAL(tok), ZSTR_LEN(tok), &ob.o, &r)
             : jv_jws_verify(ks, (const uint8_t *)ZSTR_VAL(tok), ZSTR_LEN(tok), &ob.o, &r);
    if (rc != JV_OK) {
        if (reason_has_detail(rc))
            throw_reason(jv_err_name(rc), r.detail, r.detail_len, NULL);
        else
            throw_reason(jv_err_name(rc), NULL, 0, NULL);
    } else if (jwt) {
        if ((ce = json_zval(r.claims, return_value)) != CONV_OK)
            throw_conv("bad_payload", ce);
    } else if ((ce = json_zval(r.header, &header)) != CONV_OK) {
        throw_conv("bad_header", ce);
    } else {
        array_init_size(return_value, 2);
        add_assoc_zval(return_value, "header", &header); /* the array owns header */
        add_assoc_stringl(return_value, "payload", (const char *)r.payload, r.payload_len);
    }
    jv_result_clear(&r);
}

PHP_FUNCTION(JwksVerify_verify)
{
    verify(INTERNAL_FUNCTION_PARAM_PASSTHRU, 1);
}

PHP_FUNCTION(JwksVerify_verify_jws)
{
    verify(INTERNAL_FUNCTION_PARAM_PASSTHRU, 0);
}

/* ---------------------------------------------------------------------------
 * peek_unverified, reasons
 */

/* jv_token_peek: the header and claims of a token nothing was checked of
 * (jwks_verify:peek_unverified/2). Never for an authorization decision. */
PHP_FUNCTION(JwksVerify_peek_unverified)
{
    zend_string *tok, *key;
    HashTable *options = NULL;
    size_t max = 0; /* the core's default */
    jv_result r;
    jv_err rc;
    conv_err ce;
    zval header, claims, *v;

    ZEND_PARSE_PARAMETERS_START(1, 2)
    Z_PARAM_STR(tok)
    Z_PARAM_OPTIONAL
    Z_PARAM_ARRAY_HT(options)
    ZEND_PARSE_PARAMETERS_END();

    if (options) {
        ZEND_HASH_FOREACH_STR_KEY_VAL(options, key, v)
        {
            ZVAL_DEREF(v);
            if (!key || !zend_string_equals_literal(key, "max_token_bytes")) {
                unknown_option(2, key, peek_options, N_OPTIONS(peek_options));
                RETURN_THROWS();
            }
            if (!opt_max_token_bytes(2, v, &max))
                RETURN_THROWS();
        }
        ZEND_HASH_FOREACH_END();
    }
    memset(&r, 0, sizeof(r));
    rc = jv_token_peek((const uint8_t *)ZSTR_VAL(tok), ZSTR_LEN(tok), max, &r);
    if (rc != JV_OK) {
        throw_reason(jv_err_name(rc), NULL, 0, NULL);
    } else if ((ce = json_zval(r.header, &header)) != CONV_OK) {
        throw_conv("bad_header", ce);
    } else if ((ce = json_zval(r.claims, &claims)) != CONV_OK) {
        zval_ptr_dtor(&header);
        throw_conv("bad_payload", ce);
    } else {
        array_init_size(return_value, 2);
        add_assoc_zval(return_value, "header", &header); /* the array owns both */
        add_assoc_zval(return_value, "claims", &claims);
    }
    jv_result_clear(&r);
}

/* Every reason the core can give, in its order (jwks_verify:reasons/0), with
 * the message an exception carries. */
PHP_FUNCTION(JwksVerify_reasons)
{
    ZEND_PARSE_PARAMETERS_NONE();
    array_init_size(return_value, JV_ERR__COUNT - 1);
    for (int e = JV_OK + 1; e < JV_ERR__COUNT; e++)
        add_assoc_string(return_value, jv_err_name((jv_err)e), message_of(jv_err_name((jv_err)e)));
}

/* ---------------------------------------------------------------------------
 * VerificationException
 */

PHP_METHOD(JwksVerify_VerificationException, getReason)
{
    zval *v, rv;

    ZEND_PARSE_PARAMETERS_NONE();
    v = zend_read_property(exception_ce, Z_OBJ_P(ZEND_THIS), "reason", sizeof("reason") - 1, 1,
                           &rv);
    RETURN_COPY_DEREF(v);
}

PHP_METHOD(JwksVerify_VerificationException, getDetail)
{
    zval *v, rv;

    ZEND_PARSE_PARAMETERS_NONE();
    v = zend_read_property(exception_ce, Z_OBJ_P(ZEND_THIS), "detail", sizeof("detail") - 1, 1,
                           &rv);
    RETURN_COPY_DEREF(v);
}

/* ---------------------------------------------------------------------------
 * Module
 */

PHP_INI_BEGIN()
/* How many parsed key sets each worker keeps, by document hash; 0: none. */
STD_PHP_INI_ENTRY("jwks_verify.keyset_cache", "16", PHP_INI_ALL, OnUpdateLong, cache_max,
                  zend_jwks_verify_globals, jwks_verify_globals)
PHP_INI_END()

static PHP_GINIT_FUNCTION(jwks_verify)
{
#if defined(COMPILE_DL_JWKS_VERIFY) && defined(ZTS)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    zend_hash_init(&jwks_verify_globals->cache, 8, NULL, cache_entry_dtor, 1);
    jwks_verify_globals->cache_max = 16;
    jwks_verify_globals->hits = 0;
    jwks_verify_globals->misses = 0;
}

static PHP_GSHUTDOWN_FUNCTION(jwks_verify)
{
    zend_hash_destroy(&jwks_verify_globals->cache);
}

static PHP_MINIT_FUNCTION(jwks_verify)
{
    (void)type;
    REGISTER_INI_ENTRIES();
    if (!(sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
        return FAILURE;
    keyset_ce = register_class_JwksVerify_KeySet();
    keyset_ce->create_object = keyset_create;
    memcpy(&keyset_handlers, zend_get_std_object_handlers(), sizeof(keyset_handlers));
    keyset_handlers.offset = XtOffsetOf(keyset_obj, std);
    keyset_handlers.free_obj = keyset_free;
    keyset_handlers.clone_obj = NULL; /* immutable: a copy would be the same set */
    exception_ce = register_class_JwksVerify_VerificationException(spl_ce_UnexpectedValueException);
    /* Here, not in the stub: gen_stub would register it with strlen, which
     * stops at the leading NUL. */
    REGISTER_NS_STRINGL_CONSTANT("JwksVerify", "ANY_AUDIENCE", ANY_AUDIENCE,
                                 sizeof(ANY_AUDIENCE) - 1, CONST_CS | CONST_PERSISTENT);
    return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(jwks_verify)
{
    (void)type;
    UNREGISTER_INI_ENTRIES();
    EVP_MD_free(sha256);
    sha256 = NULL;
    return SUCCESS;
}

static PHP_MINFO_FUNCTION(jwks_verify)
{
    char buf[32];

    (void)zend_module;
    php_info_print_table_start();
    php_info_print_table_row(2, "jwks_verify support", "enabled");
    php_info_print_table_row(2, "Version", PHP_JWKS_VERIFY_VERSION);
    php_info_print_table_row(2, "OpenSSL", OpenSSL_version(OPENSSL_VERSION));
    php_info_print_table_row(2, "cJSON", cJSON_Version());
    snprintf(buf, sizeof(buf), "%u", zend_hash_num_elements(&JV_G(cache)));
    php_info_print_table_row(2, "Cached key sets", buf);
    snprintf(buf, sizeof(buf), ZEND_ULONG_FMT, JV_G(hits));
    php_info_print_table_row(2, "Key set cache hits", buf);
    snprintf(buf, sizeof(buf), ZEND_ULONG_FMT, JV_G(misses));
    php_info_print_table_row(2, "Key set cache misses", buf);
    php_info_print_table_end();
    DISPLAY_INI_ENTRIES();
}

zend_module_entry jwks_verify_module_entry = {
    STANDARD_MODULE_HEADER,
    "jwks_verify",
    ext_functions,
    PHP_MINIT(jwks_verify),
    PHP_MSHUTDOWN(jwks_verify),
    NULL,
    NULL,
    PHP_MINFO(jwks_verify),
    PHP_JWKS_VERIFY_VERSION,
    PHP_MODULE_GLOBALS(jwks_verify),
    PHP_GINIT(jwks_verify),
    PHP_GSHUTDOWN(jwks_verify),
    NULL,
    STANDARD_MODULE_PROPERTIES_EX,
};

#ifdef COMPILE_DL_JWKS_VERIFY
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(jwks_verify)
#endif
