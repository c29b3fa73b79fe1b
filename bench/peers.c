/*
 * peers.c - the C JOSE libraries Debian ships, verifying the benchmark's tokens.
 *
 *   peers time DIR ROUND_MS ROUNDS ALG...
 *       per ALG one JSON line with the median and the fastest round's ns/op of
 *       each library that implements ALG (null otherwise).
 *
 * cjose 0.6: cjose_jws_import + cjose_jws_verify with a JWK imported once.
 *     A JWS library: it parses the header but not the payload as claims.
 * libjwt 1.10: jwt_decode with the PEM public key (libjwt parses the PEM on
 *     every call: that is its API), then exp, iss and aud read back and checked
 *     with jwt_get_grant*, as an application must. No PS* or EdDSA in 1.10.
 * Both are handed the right key: neither has a JWKS or a kid lookup.
 *
 * DIR holds what bench/fixtures.exs writes: ALG.jwt, ALG.pem, ALG.jwk.json, claims.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjose/cjose.h>
#include <cjson/cJSON.h>
#include <jwt.h>

#define BENCH_PROG "peers"
#include "bench_util.h"

typedef struct peer_case {
    const char *alg;
    char *token;
    size_t token_len;
    char *pem;
    size_t pem_len;
    cjose_jwk_t *jwk;
    char *iss, *aud;
    long now;
} peer_case;

static volatile int sink;

static char *
json_string(const char *json, const char *name)
{
    cJSON *root = cJSON_Parse(json);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    char *out;

    if (!cJSON_IsString(item))
        die("claims.json lacks", name);
    out = strdup(item->valuestring);
    cJSON_Delete(root);
    return out;
}

static int
cjose_supports(const char *alg)
{
    return alg[0] == 'R' || alg[0] == 'P' || (alg[0] == 'E' && alg[1] == 'S');
}

static int
libjwt_supports(const char *alg)
{
    return alg[0] == 'R' || (alg[0] == 'E' && alg[1] == 'S');
}

static void
case_load(peer_case *c, const char *dir, const char *alg)
{
    size_t jwk_len, claims_len;
    char *jwk_json, *claims;
    cjose_err err;

    memset(c, 0, sizeof *c);
    c->alg = alg;
    c->token = slurp(dir, alg, ".jwt", &c->token_len);
    c->pem = slurp(dir, alg, ".pem", &c->pem_len);
    jwk_json = slurp(dir, alg, ".jwk.json", &jwk_len);
    if (cjose_supports(alg)) {
        c->jwk = cjose_jwk_import(jwk_json, jwk_len, &err);
        if (c->jwk == NULL)
            die("cjose_jwk_import", err.message);
    }
    free(jwk_json);
    claims = slurp(dir, "claims", ".json", &claims_len);
    c->iss = json_string(claims, "iss");
    c->aud = json_string(claims, "aud");
    free(claims);
    c->now = (long)time(NULL);
}

static int
verify_cjose(const peer_case *c)
{
    cjose_err err;
    cjose_jws_t *jws = cjose_jws_import(c->token, c->token_len, &err);
    int ok = jws != NULL && cjose_jws_verify(jws, c->jwk, &err);

    cjose_jws_release(jws);
    return ok;
}

static int
verify_libjwt(const peer_case *c)
{
    jwt_t *jwt = NULL;
    const char *s;
    int ok = 0;

    if (jwt_decode(&jwt, c->token, (const unsigned char *)c->pem, (int)c->pem_len) != 0)
        goto end;
    if (jwt_get_grant_int(jwt, "exp") <= c->now)
        goto end;
    s = jwt_get_grant(jwt, "iss");
    if (s == NULL || strcmp(s, c->iss) != 0)
        goto end;
    s = jwt_get_grant(jwt, "aud");
    ok = s != NULL && strcmp(s, c->aud) == 0;
end:
    jwt_free(jwt);
    return ok;
}

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
time_round(int (*verify)(const peer_case *), const peer_case *c, double ms)
{
    double start = now_ns(), end = start + ms * 1e6, t;
    long n = 0;
    int ok = 1;

    do {
        for (int i = 0; i < 16; i++)
            ok &= verify(c);
        n += 16;
        t = now_ns();
    } while (t < end);
    sink = ok;
    return (t - start) / (double)n;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
print_median(const char *name, int (*verify)(const peer_case *), const peer_case *c,
             double round_ms, int rounds)
{
    double *v;

    if (verify == NULL) {
        printf(",\"%s_ns\":null,\"%s_ns_min\":null", name, name);
        return;
    }
    if (!verify(c))
        die("does not verify its token", name);
    v = calloc((size_t)rounds, sizeof *v);
    time_round(verify, c, round_ms); /* warm-up */
    for (int i = 0; i < rounds; i++)
        v[i] = time_round(verify, c, round_ms);
    qsort(v, (size_t)rounds, sizeof *v, cmp_double);
    printf(",\"%s_ns\":%.1f,\"%s_ns_min\":%.1f", name,
           rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2, name, v[0]);
    free(v);
}

int
main(int argc, char **argv)
{
    peer_case c;
    double round_ms;
    int rounds;

    if (argc < 6 || strcmp(argv[1], "time") != 0) {
        fprintf(stderr, "usage: peers time DIR ROUND_MS ROUNDS ALG...\n");
        return 2;
    }
    round_ms = atof(argv[3]);
    rounds = atoi(argv[4]);
    if (round_ms <= 0 || rounds <= 0)
        die("ROUND_MS and ROUNDS must be positive", NULL);
    for (int i = 5; i < argc; i++) {
        case_load(&c, argv[2], argv[i]);
        printf("{\"alg\":\"%s\"", c.alg);
        print_median("cjose", cjose_supports(c.alg) ? verify_cjose : NULL, &c, round_ms, rounds);
        print_median("libjwt", libjwt_supports(c.alg) ? verify_libjwt : NULL, &c, round_ms, rounds);
        printf("}\n");
        fflush(stdout);
    }
    return 0;
}
