/*
 * nif.c - the only file that knows about Erlang: terms in and out, atoms,
 * the key set resource type and the NIF table. Everything it verifies is
 * decided by the C core (jv.h).
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <erl_nif.h>

#include "jv.h"

/* Caps on option lists: larger ones are caller mistakes (badarg). */
#define MAX_OPT_LIST 64

static ErlNifResourceType *keyset_type;

static ERL_NIF_TERM am_ok, am_error, am_true, am_false, am_null, am_undefined, am_jwt, am_jws;
static ERL_NIF_TERM am_kid, am_kty, am_alg, am_status, am_opts_tag;
static ERL_NIF_TERM am_auto, am_dirty, am_current, am_verify_scheduler;

/* verify/4 on a dirty CPU scheduler always (1), or only when heavy (0, the
 * default): from the application environment at load, or
 * jwks_verify:verify_scheduler/1 (see README "Scheduler usage"). */
static atomic_int always_dirty;
static ERL_NIF_TERM am_reason[JV_ERR__COUNT];

typedef struct {
    jv_keyset *ks; /* immutable once made: no lock */
} keyset_res;

static void
keyset_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    jv_keyset_free(((keyset_res *)obj)->ks);
}

static int
open_resources(ErlNifEnv *env)
{
    keyset_type = enif_open_resource_type(env, NULL, "jwks_verify_keyset", keyset_dtor,
                                          ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, NULL);
    if (!keyset_type)
        return -1;
    am_ok = enif_make_atom(env, "ok");
    am_error = enif_make_atom(env, "error");
    am_true = enif_make_atom(env, "true");
    am_false = enif_make_atom(env, "false");
    am_null = enif_make_atom(env, "null");
    am_undefined = enif_make_atom(env, "undefined");
    am_jwt = enif_make_atom(env, "jwt");
    am_jws = enif_make_atom(env, "jws");
    am_kid = enif_make_atom(env, "kid");
    am_kty = enif_make_atom(env, "kty");
    am_alg = enif_make_atom(env, "alg");
    am_status = enif_make_atom(env, "status");
    am_opts_tag = enif_make_atom(env, "jwks_verify_opts");
    am_auto = enif_make_atom(env, "auto");
    am_dirty = enif_make_atom(env, "dirty");
    am_current = enif_make_atom(env, "current");
    am_verify_scheduler = enif_make_atom(env, "verify_scheduler");
    am_reason[JV_OK] = am_ok;
#define MAKE_REASON(name, atom) am_reason[JV_ERR_##name] = enif_make_atom(env, #atom);
    JV_ERRORS(MAKE_REASON)
#undef MAKE_REASON
    return 0;
}

/* The loader's #{verify_scheduler => auto | dirty}; anything else fails the load. */
static int
read_load_info(ErlNifEnv *env, ERL_NIF_TERM info)
{
    ERL_NIF_TERM mode;

    if (!enif_is_map(env, info) || !enif_get_map_value(env, info, am_verify_scheduler, &mode))
        mode = am_auto;
    if (!enif_is_identical(mode, am_auto) && !enif_is_identical(mode, am_dirty))
        return -1;
    atomic_store(&always_dirty, enif_is_identical(mode, am_dirty));
    return 0;
}

static int
load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)priv;
    return open_resources(env) || read_load_info(env, info);
}

static int
upgrade(ErlNifEnv *env, void **priv, void **old_priv, ERL_NIF_TERM info)
{
    (void)priv, (void)old_priv;
    return open_resources(env) || read_load_info(env, info);
}

static ERL_NIF_TERM
make_binary(ErlNifEnv *env, const void *p, size_t len)
{
    ERL_NIF_TERM t;
    unsigned char *dst = enif_make_new_binary(env, len, &t);

    if (len)
        memcpy(dst, p, len);
    return t;
}

static ERL_NIF_TERM
error_term(ErlNifEnv *env, jv_err e, const char *detail, size_t detail_len)
{
    ERL_NIF_TERM reason = am_reason[(unsigned)e < JV_ERR__COUNT ? e : JV_ERR_INTERNAL_ERROR];

    if (e == JV_ERR_INVALID_CLAIM || e == JV_ERR_MISSING_CLAIM ||
        (e == JV_ERR_UNKNOWN_KID && detail))
        reason = enif_make_tuple2(env, reason, make_binary(env, detail, detail_len));
    return enif_make_tuple2(env, am_error, reason);
}

/* Integers beyond int64 are made exactly, through the external term format
 * (SMALL_BIG_EXT), since erl_nif has no bignum constructor. */
static int
make_bignum(ErlNifEnv *env, const uint8_t *text, size_t len, ERL_NIF_TERM *out)
{
    unsigned char buf[4 + 32] = {131, 110, 0, 0};
    unsigned char *mag = buf + 4;
    size_t n = 0;
    int neg = *text == '-';

    for (size_t k = (size_t)neg; k < len; k++) {
        unsigned carry;
        if (text[k] < '0' || text[k] > '9')
            return 0;
        carry = (unsigned)(text[k] - '0');
        for (size_t i = 0; i < n; i++) {
            unsigned v = mag[i] * 10u + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
        if (carry) {
            if (n == 32)
                return 0;
            mag[n++] = (unsigned char)carry;
        }
    }
    buf[2] = (unsigned char)n;
    buf[3] = (unsigned char)neg;
    return enif_binary_to_term(env, buf, 4 + n, out, 0) > 0;
}

static int
number_term(ErlNifEnv *env, const jv_val *n, ERL_NIF_TERM *out)
{
    switch (n->num) {
    case JV_NUM_INT:
        *out = enif_make_int64(env, n->n.i);
        return 1;
    case JV_NUM_OUT_OF_RANGE:
        return make_bignum(env, n->s, n->len, out);
    default:
        if (!isfinite(n->n.d))
            return 0;
        *out = enif_make_double(env, n->n.d);
        return 1;
    }
}

/* Depth is bounded by the JSON layer (JV_MAX_JSON_DEPTH). An object's
 * members come sorted in term order (val.h), so the map is built without
 * the sorting enif_make_map_from_arrays would otherwise do. */
static int
json_term(ErlNifEnv *env, const jv_val *n, ERL_NIF_TERM *out)
{
    ERL_NIF_TERM stack_keys[16], stack_vals[16], *keys = stack_keys, *vals = stack_vals;
    size_t count = n->len, i = 0;
    const jv_val *c;
    int ok = 1;

    switch (n->type) {
    case JV_VAL_NULL:
        return *out = am_null, 1;
    case JV_VAL_TRUE:
        return *out = am_true, 1;
    case JV_VAL_FALSE:
        return *out = am_false, 1;
    case JV_VAL_NUMBER:
        return number_term(env, n, out);
    case JV_VAL_STRING:
        return *out = make_binary(env, n->s, n->len), 1;
    }
    if (count > 16) {
        keys = enif_alloc(count * sizeof(*keys));
        vals = enif_alloc(count * sizeof(*vals));
        if (!keys || !vals) {
            ok = 0;
            goto end;
        }
    }
    for (c = n->child; c && ok; c = c->next, i++) {
        ok = json_term(env, c, &vals[i]);
        if (n->type == JV_VAL_OBJECT)
            keys[i] = make_binary(env, c->name, c->name_len);
    }
    if (ok && n->type == JV_VAL_OBJECT)
        ok = enif_make_map_from_arrays(env, keys, vals, count, out);
    else if (ok)
        *out = enif_make_list_from_array(env, vals, (unsigned)count);
end:
    if (keys != stack_keys)
        enif_free(keys);
    if (vals != stack_vals)
        enif_free(vals);
    return ok;
}

static ERL_NIF_TERM
nif_key_set(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary json;
    jv_keyset *ks;
    keyset_res *res;
    ERL_NIF_TERM term;
    jv_err rc;

    (void)argc;
    if (!enif_inspect_binary(env, argv[0], &json))
        return enif_make_badarg(env);
    if ((rc = jv_keyset_parse(json.data, json.size, &ks)) != JV_OK)
        return error_term(env, rc, NULL, 0);
    res = enif_alloc_resource(keyset_type, sizeof(*res));
    if (!res) {
        jv_keyset_free(ks);
        return error_term(env, JV_ERR_INTERNAL_ERROR, NULL, 0);
    }
    res->ks = ks; /* the resource owns ks; its destructor frees it */
    term = enif_make_resource(env, res);
    enif_release_resource(res); /* the term keeps it alive, the GC frees it */
    return enif_make_tuple2(env, am_ok, term);
}

static ERL_NIF_TERM
nif_key_set_info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    keyset_res *res;
    ERL_NIF_TERM list;
    size_t n;

    (void)argc;
    if (!enif_get_resource(env, argv[0], keyset_type, (void **)&res))
        return enif_make_badarg(env);
    n = jv_keyset_size(res->ks);
    list = enif_make_list(env, 0);
    for (size_t i = n; i-- > 0;) {
        jv_str kid;
        const char *kty, *alg;
        jv_err st = jv_keyset_entry(res->ks, i, &kid, &kty, &alg);
        ERL_NIF_TERM k[4] = {am_kid, am_kty, am_alg, am_status}, v[4], m;
        v[0] = kid.p ? make_binary(env, kid.p, kid.len) : am_undefined;
        v[1] = make_binary(env, kty, strlen(kty));
        v[2] = alg ? make_binary(env, alg, strlen(alg)) : am_undefined;
        v[3] = st == JV_OK ? am_ok : am_reason[st];
        enif_make_map_from_arrays(env, k, v, 4, &m);
        list = enif_make_list_cell(env, m, list);
    }
    return list;
}

static int
get_str(ErlNifEnv *env, ERL_NIF_TERM t, jv_str *out)
{
    ErlNifBinary b;

    if (!enif_inspect_binary(env, t, &b))
        return 0;
    out->p = b.data;
    out->len = b.size;
    return 1;
}

static int
get_str_list(ErlNifEnv *env, ERL_NIF_TERM list, jv_str *out, size_t *n)
{
    ERL_NIF_TERM head;

    *n = 0;
    while (enif_get_list_cell(env, list, &head, &list)) {
        if (*n == MAX_OPT_LIST || !get_str(env, head, &out[(*n)++]))
            return 0;
    }
    return enif_is_empty_list(env, list);
}

typedef struct {
    jv_opts o;
    jv_str iss[MAX_OPT_LIST], aud[MAX_OPT_LIST], required[MAX_OPT_LIST], typ;
} opts_buf;

/* The record jwks_verify:options/1 made: {jwks_verify_opts, Algs, Iss, Aud,
 * Leeway, Now, Required, Typ, MaxTokenBytes}, Aud a list or the atom any; the
 * Erlang side validated it, this only refuses what would be unsafe to read. */
/* Erlang system time, the clock erlang:system_time/1 and the cache read:
 * time(NULL) is the OS clock, which the VM's time correction lets drift
 * apart by a fraction of a second, enough to call a fresh iat "in the future". */
static ErlNifSInt64
erlang_system_seconds(void)
{
    ErlNifTime ns = enif_monotonic_time(ERL_NIF_NSEC) + enif_time_offset(ERL_NIF_NSEC);

    return (ErlNifSInt64)(ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000));
}

static int
get_opts(ErlNifEnv *env, ERL_NIF_TERM t, opts_buf *b)
{
    const ERL_NIF_TERM *f;
    int arity;
    unsigned algs;
    ErlNifSInt64 leeway, now;
    unsigned long max;
    char aud_atom[4];

    memset(b, 0, sizeof(*b));
    if (!enif_get_tuple(env, t, &arity, &f) || arity != 9 || enif_compare(f[0], am_opts_tag) != 0)
        return 0;
    if (!enif_get_uint(env, f[1], &algs) || !enif_get_int64(env, f[4], &leeway) || leeway < 0 ||
        leeway >= (1LL << 40) || !enif_get_ulong(env, f[8], &max))
        return 0;
    if (!get_str_list(env, f[2], b->iss, &b->o.n_iss) ||
        !get_str_list(env, f[6], b->required, &b->o.n_required))
        return 0;
    /* aud: any, the caller's explicit opt-out; any other atom is refused. */
    if (enif_get_atom(env, f[3], aud_atom, sizeof(aud_atom), ERL_NIF_LATIN1) > 0) {
        if (strcmp(aud_atom, "any") != 0)
            return 0;
        b->o.aud_any = 1;
    } else if (!get_str_list(env, f[3], b->aud, &b->o.n_aud)) {
        return 0;
    }
    if (enif_is_identical(f[5], am_undefined))
        now = erlang_system_seconds();
    else if (!enif_get_int64(env, f[5], &now) || now >= (1LL << 62) || now <= -(1LL << 62))
        return 0;
    if (!enif_is_identical(f[7], am_undefined)) {
        if (!get_str(env, f[7], &b->typ))
            return 0;
        b->o.typ = &b->typ;
    }
    b->o.algs = algs;
    b->o.leeway = leeway;
    b->o.now = now;
    b->o.max_token_bytes = max;
    b->o.iss = b->iss;
    b->o.aud = b->aud;
    b->o.required = b->required;
    return 1;
}

static ERL_NIF_TERM
verify_run(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary tok;
    keyset_res *res;
    opts_buf ob;
    jv_result r;
    jv_err rc;
    int jwt;
    ERL_NIF_TERM out, header;

    (void)argc;
    if (!enif_inspect_binary(env, argv[0], &tok) ||
        !enif_get_resource(env, argv[1], keyset_type, (void **)&res) ||
        !get_opts(env, argv[2], &ob))
        return enif_make_badarg(env);
    if (enif_is_identical(argv[3], am_jwt))
        jwt = 1;
    else if (enif_is_identical(argv[3], am_jws))
        jwt = 0;
    else
        return enif_make_badarg(env);
    rc = jwt ? jv_jwt_verify(res->ks, tok.data, tok.size, &ob.o, &r)
             : jv_jws_verify(res->ks, tok.data, tok.size, &ob.o, &r);
    if (rc != JV_OK) {
        out = error_term(env, rc, r.detail, r.detail_len);
    } else if (jwt) {
        out = json_term(env, r.claims, &out) ? enif_make_tuple2(env, am_ok, out)
                                             : error_term(env, JV_ERR_BAD_PAYLOAD, NULL, 0);
    } else if (json_term(env, r.header, &header)) {
        out = enif_make_tuple2(
            env, am_ok, enif_make_tuple2(env, header, make_binary(env, r.payload, r.payload_len)));
    } else {
        out = error_term(env, JV_ERR_BAD_HEADER, NULL, 0);
    }
    jv_result_clear(&r);
    return out;
}

/* Tokens up to this size, against keys up to RSA-4096, verify in well under
 * 100 µs: on a normal scheduler, as OTP crypto keeps pkey_verify, since the
 * dirty-scheduler hop costs more than a tenth of an RS256 verification.
 * Anything larger moves to a dirty CPU scheduler (crypto's pattern in mac.c). */
#define NORMAL_SCHEDULER_TOKEN_BYTES 8192

static ERL_NIF_TERM
nif_verify(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary tok;
    keyset_res *res;
    ERL_NIF_TERM out;
    ErlNifTime start, pct;

    if (!enif_inspect_binary(env, argv[0], &tok) ||
        !enif_get_resource(env, argv[1], keyset_type, (void **)&res))
        return enif_make_badarg(env);
    if (tok.size > NORMAL_SCHEDULER_TOKEN_BYTES || jv_keyset_heavy(res->ks) ||
        atomic_load_explicit(&always_dirty, memory_order_relaxed))
        return enif_schedule_nif(env, "verify", ERL_NIF_DIRTY_JOB_CPU_BOUND, verify_run, argc,
                                 argv);
    start = enif_monotonic_time(ERL_NIF_USEC);
    out = verify_run(env, argc, argv);
    /* Tell the scheduler what we used: 1 % of its 1 ms slice per 10 µs. */
    pct = (enif_monotonic_time(ERL_NIF_USEC) - start) / 10 + 1;
    enif_consume_timeslice(env, pct > 100 ? 100 : (int)pct);
    return out;
}

/* jv_token_peek: {ok, {Header, Claims}} of a token nothing was checked of. */
static ERL_NIF_TERM
peek_run(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary tok;
    unsigned long max;
    jv_result r;
    jv_err rc;
    ERL_NIF_TERM out, header, claims;

    (void)argc;
    if (!enif_inspect_binary(env, argv[0], &tok) || !enif_get_ulong(env, argv[1], &max))
        return enif_make_badarg(env);
    rc = jv_token_peek(tok.data, tok.size, max, &r);
    if (rc != JV_OK)
        out = error_term(env, rc, NULL, 0);
    else if (!json_term(env, r.header, &header))
        out = error_term(env, JV_ERR_BAD_HEADER, NULL, 0);
    else if (!json_term(env, r.claims, &claims))
        out = error_term(env, JV_ERR_BAD_PAYLOAD, NULL, 0);
    else
        out = enif_make_tuple2(env, am_ok, enif_make_tuple2(env, header, claims));
    jv_result_clear(&r);
    return out;
}

/* As verify: a large token is parsed on a dirty scheduler, and every one
 * when verify_scheduler is dirty. */
static ERL_NIF_TERM
nif_peek_unverified(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary tok;

    if (!enif_inspect_binary(env, argv[0], &tok))
        return enif_make_badarg(env);
    if (tok.size > NORMAL_SCHEDULER_TOKEN_BYTES ||
        atomic_load_explicit(&always_dirty, memory_order_relaxed))
        return enif_schedule_nif(env, "peek_unverified", ERL_NIF_DIRTY_JOB_CPU_BOUND, peek_run,
                                 argc, argv);
    return peek_run(env, argc, argv);
}

/* verify_scheduler(auto | dirty | current): sets the mode (not current) and
 * answers the one before. */
static ERL_NIF_TERM
nif_verify_scheduler(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    int was;

    (void)argc;
    if (enif_is_identical(argv[0], am_current))
        was = atomic_load(&always_dirty);
    else if (enif_is_identical(argv[0], am_auto) || enif_is_identical(argv[0], am_dirty))
        was = atomic_exchange(&always_dirty, enif_is_identical(argv[0], am_dirty));
    else
        return enif_make_badarg(env);
    return was ? am_dirty : am_auto;
}

static ERL_NIF_TERM
nif_reasons(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc, (void)argv;
    return enif_make_list_from_array(env, am_reason + 1, JV_ERR__COUNT - 1);
}

static ErlNifFunc nif_funcs[] = {
    {"key_set", 1, nif_key_set, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"key_set_info", 1, nif_key_set_info, 0},
    {"verify", 4, nif_verify, 0}, /* moves itself to a dirty scheduler when heavy */
    {"peek_unverified", 2, nif_peek_unverified, 0}, /* dirty when large, as verify */
    {"verify_scheduler", 1, nif_verify_scheduler, 0},
    {"reasons", 0, nif_reasons, 0},
};

ERL_NIF_INIT(jwks_verify_nif, nif_funcs, load, NULL, upgrade, NULL)
