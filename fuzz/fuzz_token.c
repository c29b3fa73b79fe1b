/*
 * fuzz_token.c - libFuzzer harness: one compact token against a fixed key set.
 *
 * The input is the token. It is verified as a JWT with every algorithm
 * allowed and issuer, audience and time checks on, as a JWS with the same
 * options, as a JWT with the defaults (RS256 only, typ "JWT", and the
 * opt-out aud_any), and peeked (jv_token_peek). Besides crashes, leaks and
 * undefined behaviour, three things are checked: a token good as a JWT is
 * good as a JWS under the same options, and peeks; a success always hands
 * back a header, a payload and (for a JWT or a peek) claims.
 *
 * A custom mutator makes the search structure-aware: half of the mutations
 * decode one segment, mutate the JSON (or signature bytes) inside, and encode
 * it again, since byte flips in base64 text rarely leave valid JSON behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixed_jwks.h"
#include "b64url.h"
#include "jv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define STR(s)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }

static jv_keyset *ks; /* reachable until exit, so not a leak */
static const jv_str iss[] = {STR("https://issuer.example")};
static const jv_str aud[] = {STR("other"), STR("api")};
static const jv_str required[] = {STR("exp"), STR("sub")};
static const jv_str typ = STR("JWT");

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (jv_keyset_parse((const uint8_t *)fixed_jwks, sizeof(fixed_jwks) - 1, &ks) != JV_OK)
        abort();
    return 0;
}

static jv_err
verify(int jwt, const uint8_t *data, size_t size, const jv_opts *o)
{
    jv_result r;
    jv_err rc = jwt ? jv_jwt_verify(ks, data, size, o, &r) : jv_jws_verify(ks, data, size, o, &r);

    if (rc == JV_OK && (!r.header || !r.payload || (jwt && !r.claims)))
        abort();
    if ((rc == JV_ERR_INVALID_CLAIM || rc == JV_ERR_MISSING_CLAIM) && !r.detail)
        abort();
    if ((unsigned)rc >= JV_ERR__COUNT)
        abort();
    jv_result_clear(&r);
    return rc;
}

static jv_err
peek(const uint8_t *data, size_t size)
{
    jv_result r;
    jv_err rc = jv_token_peek(data, size, 0, &r);

    if (rc == JV_OK && (!cJSON_IsObject(r.header) || !cJSON_IsObject(r.claims)))
        abort();
    jv_result_clear(&r);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const jv_opts all = {
        .algs = (1u << JV_ALG__COUNT) - 1,
        .now = FUZZ_NOW,
        .leeway = 5,
        .iss = iss,
        .n_iss = 1,
        .aud = aud,
        .n_aud = 2,
        .required = required,
        .n_required = 2,
    };
    /* aud_any here; fuzz_claims covers the default (aud refused when unset). */
    const jv_opts defaults = {.now = FUZZ_NOW, .typ = &typ, .aud_any = 1};
    jv_err jwt = verify(1, data, size, &all), jws = verify(0, data, size, &all);

    if (jwt == JV_OK && jws != JV_OK)
        abort();
    verify(1, data, size, &defaults);
    if (peek(data, size) != JV_OK && jwt == JV_OK)
        abort();
    return 0;
}

static size_t
b64url_encode(const uint8_t *in, size_t len, uint8_t *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8 | in[i]) & 0xffff;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = (uint8_t)abc[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = (uint8_t)abc[(acc << (6 - bits)) & 63];
    return o;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    const uint8_t *d1, *d2;
    size_t start[3], len[3], seg, dlen, cap, elen, out_len;
    uint8_t *dec = NULL, *out = NULL;

    if (seed % 2 == 0 || !(d1 = memchr(data, '.', size)) ||
        !(d2 = memchr(d1 + 1, '.', size - (size_t)(d1 + 1 - data))))
        return LLVMFuzzerMutate(data, size, max_size);
    start[0] = 0, len[0] = (size_t)(d1 - data);
    start[1] = (size_t)(d1 + 1 - data), len[1] = (size_t)(d2 - d1 - 1);
    start[2] = (size_t)(d2 + 1 - data), len[2] = size - start[2];
    seg = (seed / 2) % 3;
    /* Room for the decoded segment to grow while the token stays in max_size. */
    cap = (max_size - (size - len[seg])) / 4 * 3;
    dec = malloc(cap + 3);
    out = malloc(max_size + 4);
    if (!dec || !out || jv_b64url_decoded_len(len[seg]) > cap ||
        jv_b64url_decode(data + start[seg], len[seg], dec, &dlen) != JV_OK) {
        free(dec);
        free(out);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    dlen = LLVMFuzzerMutate(dec, dlen, cap);
    memcpy(out, data, start[seg]);
    elen = b64url_encode(dec, dlen, out + start[seg]);
    out_len = start[seg] + elen;
    memcpy(out + out_len, data + start[seg] + len[seg], size - start[seg] - len[seg]);
    out_len += size - start[seg] - len[seg];
    if (out_len <= max_size)
        memcpy(data, out, out_len);
    else
        out_len = LLVMFuzzerMutate(data, size, max_size);
    free(dec);
    free(out);
    return out_len;
}
