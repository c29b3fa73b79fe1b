/*
 * floor.c - the OpenSSL floor and the jwks_verify C core, timed on the same token.
 *
 * The floor is what any verifier must pay: EVP_DigestVerifyInit plus
 * EVP_DigestVerify on the token's signing input and signature, with the key
 * and the digest built before timing (ES256 gets the signature already in
 * DER). A lower floor ("copy") copies a context initialised once per key
 * instead of initialising one per verification. The core is jv_jwt_verify on the whole token:
 * split, base64url, both JSON parses, kid lookup, the same signature check, claim checks.
 *
 *   floor time DIR ROUND_MS ROUNDS ALG...
 *       per ALG one JSON line: floor, copy and core timed in alternating rounds
 *       of ROUND_MS each; the median and the fastest round's ns/op of each, and
 *       the median of the core's per-round ratios to the floor.
 *   floor floor DIR ROUND_MS ALG
 *       one JSON line: the floor alone, one round after a short warm-up; the
 *       BEAM bench runs this between its own rounds to pair each with a floor.
 *   floor version
 *       one JSON line: the OpenSSL this program runs with.
 *   floor loop DIR ALG floor|copy|core N
 *       N verifications inside loop_floor(), loop_copy() or loop_core(), after a warm-up
 *       outside them, for `valgrind --tool=callgrind --toggle-collect=loop_core`:
 *       the collected instructions divided by N are the cost of one verify.
 *
 * DIR holds what bench/fixtures.exs writes: ALG.jwt, ALG.pem, jwks.json, claims.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jv.h"

#define BENCH_PROG "floor"
#include "bench_util.h"

typedef struct bench_case {
    const char *alg;
    /* floor: everything prepared once */
    EVP_PKEY *pkey;
    EVP_MD *md; /* NULL for EdDSA (one-shot, no separate digest) */
    int pss;
    EVP_MD_CTX *tmpl; /* initialised once, copied per verification; NULL if unsupported */
    uint8_t *input;
    size_t input_len;
    uint8_t *sig;
    size_t sig_len;
    /* core */
    jv_keyset *ks;
    jv_opts opts;
    jv_str iss, aud, required;
    uint8_t *token;
    size_t token_len;
} bench_case;

static volatile int sink;

static int verify_init(const struct bench_case *c, EVP_MD_CTX *ctx);

static int
b64url_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decoding happens once, before timing: no need for speed or strictness here. */
static uint8_t *
b64url_decode(const uint8_t *p, size_t len, size_t *out_len)
{
    uint8_t *out = malloc(len * 3 / 4 + 3);
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    if (out == NULL)
        die("out of memory", NULL);
    for (size_t i = 0; i < len; i++) {
        int v = b64url_val(p[i]);
        if (v < 0)
            die("bad base64url in token", NULL);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = n;
    return out;
}

/* JWS ECDSA signatures are r || s (RFC 7518 §3.4); EVP wants DER. */
static void
ecdsa_to_der(bench_case *c)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    size_t half = c->sig_len / 2;
    BIGNUM *r = BN_bin2bn(c->sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(c->sig + half, (int)half, NULL);
    unsigned char *der = NULL;
    int der_len;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        die("cannot build ECDSA_SIG", NULL);
    der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0)
        die("cannot encode ECDSA_SIG", NULL);
    free(c->sig);
    c->sig = malloc((size_t)der_len);
    memcpy(c->sig, der, (size_t)der_len);
    c->sig_len = (size_t)der_len;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

/* Finds "name":"value" in the small claims.json the fixtures write. */
static jv_str
json_string(const uint8_t *json, const char *name)
{
    cJSON *root = cJSON_Parse((const char *)json);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    jv_str out;

    if (!cJSON_IsString(item))
        die("claims.json lacks", name);
    out.p = (const uint8_t *)strdup(item->valuestring);
    out.len = strlen(item->valuestring);
    cJSON_Delete(root);
    return out;
}

static void
case_load(bench_case *c, const char *dir, const char *alg)
{
    size_t pem_len, jwks_len, claims_len;
    uint8_t *pem, *jwks, *claims;
    const uint8_t *dot1, *dot2;
    BIO *bio;
    int a;

    memset(c, 0, sizeof *c);
    c->alg = alg;
    a = jv_alg_from_name((const uint8_t *)alg, strlen(alg));
    if (a < 0)
        die("unknown alg", alg);

    c->token = slurp(dir, alg, ".jwt", &c->token_len);
    dot1 = memchr(c->token, '.', c->token_len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', c->token_len - (size_t)(dot1 + 1 - c->token)) : NULL;
    if (dot2 == NULL)
        die("not a compact JWS", alg);
    c->input_len = (size_t)(dot2 - c->token);
    c->input = malloc(c->input_len);
    memcpy(c->input, c->token, c->input_len);
    c->sig = b64url_decode(dot2 + 1, c->token_len - c->input_len - 1, &c->sig_len);

    pem = slurp(dir, alg, ".pem", &pem_len);
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    c->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    if (c->pkey == NULL)
        die("cannot read public key", alg);

    if (strcmp(alg, "EdDSA") != 0) {
        const char *mdname = strstr(alg, "256")   ? "SHA256"
                             : strstr(alg, "384") ? "SHA384"
                                                  : "SHA512";
        c->md = EVP_MD_fetch(NULL, mdname, NULL);
        if (c->md == NULL)
            die("cannot fetch digest", mdname);
    }
    c->pss = alg[0] == 'P';
    if (alg[0] == 'E' && alg[1] == 'S')
        ecdsa_to_der(c);

    jwks = slurp(dir, "jwks", ".json", &jwks_len);
    if (jv_keyset_parse(jwks, jwks_len, &c->ks) != JV_OK)
        die("jv_keyset_parse failed on", "jwks.json");
    free(jwks);
    claims = slurp(dir, "claims", ".json", &claims_len);
    c->iss = json_string(claims, "iss");
    c->aud = json_string(claims, "aud");
    free(claims);
    c->required.p = (const uint8_t *)"exp";
    c->required.len = 3;
    c->opts.algs = JV_ALG_BIT(a);
    c->opts.now = (int64_t)time(NULL);
    c->opts.iss = &c->iss;
    c->opts.n_iss = 1;
    c->opts.aud = &c->aud;
    c->opts.n_aud = 1;
    c->opts.required = &c->required;
    c->opts.n_required = 1;
    c->tmpl = EVP_MD_CTX_new();
    if (c->tmpl == NULL || !verify_init(c, c->tmpl)) {
        EVP_MD_CTX_free(c->tmpl);
        c->tmpl = NULL;
    }
}

static int
verify_init(const bench_case *c, EVP_MD_CTX *ctx)
{
    EVP_PKEY_CTX *pctx = NULL;

    if (EVP_DigestVerifyInit(ctx, &pctx, c->md, NULL, c->pkey) != 1)
        return 0;
    /* RFC 7518 §3.5: salt as long as the hash, MGF1 with the same hash. */
    return !c->pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
}

/* The floor: one verification as OpenSSL's demos/signature/rsa_pss_direct.c
 * does it, a fresh context initialised for the key. */
static int
verify_floor(const bench_case *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    if (ctx == NULL || !verify_init(c, ctx))
        goto end;
    ok = EVP_DigestVerify(ctx, c->sig, c->sig_len, c->input, c->input_len) == 1;
end:
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* A lower floor: the context is copied from one initialised when the key was
 * loaded, which skips the provider fetches of EVP_DigestVerifyInit. */
static int
verify_copy(const bench_case *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    if (ctx == NULL || EVP_MD_CTX_copy_ex(ctx, c->tmpl) != 1)
        goto end;
    ok = EVP_DigestVerify(ctx, c->sig, c->sig_len, c->input, c->input_len) == 1;
end:
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int
verify_core(const bench_case *c)
{
    jv_result res;
    jv_err e;

    e = jv_jwt_verify(c->ks, c->token, c->token_len, &c->opts, &res);
    jv_result_clear(&res);
    return e == JV_OK;
}

/* noinline and named: callgrind --toggle-collect counts exactly these. */
__attribute__((noinline)) static void
loop_floor(const bench_case *c, long n)
{
    int ok = 1;
    for (long i = 0; i < n; i++)
        ok &= verify_floor(c);
    sink = ok;
}

__attribute__((noinline)) static void
loop_copy(const bench_case *c, long n)
{
    int ok = 1;
    for (long i = 0; i < n; i++)
        ok &= verify_copy(c);
    sink = ok;
}

__attribute__((noinline)) static void
loop_core(const bench_case *c, long n)
{
    int ok = 1;
    for (long i = 0; i < n; i++)
        ok &= verify_core(c);
    sink = ok;
}

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs batches of 16 until ms have passed; returns ns per verification. */
static double
time_round(void (*loop)(const bench_case *, long), const bench_case *c, double ms)
{
    double start = now_ns(), end = start + ms * 1e6, t;
    long n = 0;

    do {
        loop(c, 16);
        n += 16;
        t = now_ns();
    } while (t < end);
    return (t - start) / (double)n;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
print_rounds(const char *name, const double *v, int n)
{
    printf("\"%s\":[", name);
    for (int i = 0; i < n; i++)
        printf("%s%.1f", i ? "," : "", v[i]);
    printf("]");
}

/* Floor, copied-context floor and core alternate round by round, so a
 * drifting machine moves all three; the core's ratio is the median of the
 * per-round ratios. */
static void
case_time(const bench_case *c, double round_ms, int rounds)
{
    double *fl = calloc((size_t)rounds, sizeof *fl), *co = calloc((size_t)rounds, sizeof *co);
    double *cp = calloc((size_t)rounds, sizeof *cp), *ratio = calloc((size_t)rounds, sizeof *ratio);

    time_round(loop_floor, c, round_ms); /* warm-up: caches, lazy fetches */
    time_round(loop_core, c, round_ms);
    if (c->tmpl)
        time_round(loop_copy, c, round_ms);
    for (int i = 0; i < rounds; i++) {
        fl[i] = time_round(loop_floor, c, round_ms);
        if (c->tmpl)
            cp[i] = time_round(loop_copy, c, round_ms);
        co[i] = time_round(loop_core, c, round_ms);
        ratio[i] = co[i] / fl[i];
    }
    printf("{\"alg\":\"%s\",\"token_bytes\":%zu,", c->alg, c->token_len);
    print_rounds("floor_ns_rounds", fl, rounds);
    printf(",");
    print_rounds("core_ns_rounds", co, rounds);
    /* median() sorts in place: after it, v[0] is the fastest round */
    printf(",\"floor_ns\":%.1f,\"core_ns\":%.1f,\"core_over_floor\":%.4f", median(fl, rounds),
           median(co, rounds), median(ratio, rounds));
    printf(",\"floor_ns_min\":%.1f,\"core_ns_min\":%.1f", fl[0], co[0]);
    if (c->tmpl) {
        double cp_med = median(cp, rounds);
        printf(",\"copy_ns\":%.1f,\"copy_ns_min\":%.1f}\n", cp_med, cp[0]);
    } else
        printf(",\"copy_ns\":null,\"copy_ns_min\":null}\n");
    fflush(stdout);
    free(fl);
    free(co);
    free(cp);
    free(ratio);
}

int
main(int argc, char **argv)
{
    bench_case c;

    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        printf("{\"openssl\":\"%s\"}\n", OpenSSL_version(OPENSSL_VERSION));
        return 0;
    }
    if (argc >= 6 && strcmp(argv[1], "time") == 0) {
        double round_ms = atof(argv[3]);
        int rounds = atoi(argv[4]);
        if (round_ms <= 0 || rounds <= 0)
            die("ROUND_MS and ROUNDS must be positive", NULL);
        for (int i = 5; i < argc; i++) {
            case_load(&c, argv[2], argv[i]);
            if (!verify_floor(&c))
                die("the floor does not verify the token of", c.alg);
            if (!verify_core(&c)) {
                jv_result res;
                memset(&res, 0, sizeof res);
                die("the core refuses the token",
                    jv_err_name(jv_jwt_verify(c.ks, c.token, c.token_len, &c.opts, &res)));
            }
            case_time(&c, round_ms, rounds);
        }
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "floor") == 0) {
        double round_ms = atof(argv[3]);
        if (round_ms <= 0)
            die("ROUND_MS must be positive", NULL);
        case_load(&c, argv[2], argv[4]);
        if (!verify_floor(&c))
            die("the floor does not verify the token of", c.alg);
        time_round(loop_floor, &c, round_ms / 4);
        printf("{\"alg\":\"%s\",\"floor_ns\":%.1f}\n", c.alg, time_round(loop_floor, &c, round_ms));
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "loop") == 0) {
        long n = atol(argv[5]);
        const char *which = argv[4];
        int (*verify)(const bench_case *) = NULL;
        void (*loop)(const bench_case *, long) = NULL;
        case_load(&c, argv[2], argv[3]);
        if (strcmp(which, "floor") == 0)
            verify = verify_floor, loop = loop_floor;
        else if (strcmp(which, "core") == 0)
            verify = verify_core, loop = loop_core;
        else if (strcmp(which, "copy") == 0 && c.tmpl)
            verify = verify_copy, loop = loop_copy;
        else
            die("cannot loop over", which);
        if (!verify(&c))
            die("does not verify", argv[3]);
        /* warm-up outside the counted functions */
        for (int i = 0; i < 3; i++)
            sink = verify(&c);
        loop(&c, n);
        printf("{\"alg\":\"%s\",\"which\":\"%s\",\"n\":%ld,\"ok\":%d}\n", c.alg, which, n, sink);
        return sink ? 0 : 1;
    }
    fprintf(stderr, "usage: floor version\n"
                    "       floor time DIR ROUND_MS ROUNDS ALG...\n"
                    "       floor floor DIR ROUND_MS ALG\n"
                    "       floor loop DIR ALG floor|copy|core N\n");
    return 2;
}
