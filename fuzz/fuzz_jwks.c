/*
 * fuzz_jwks.c - libFuzzer harness: JWKS documents (jv_keyset_parse).
 *
 * The input is the document. A parsed set is walked entry by entry, every kid
 * must be found again through the sorted index, and the fixed valid tokens are
 * verified against it, so key selection runs over hostile sets too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixed_jwks.h"
#include "jv.h"
#include "jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_entries(const jv_keyset *ks)
{
    size_t n = jv_keyset_size(ks);

    if (n > JV_MAX_KEYS)
        abort();
    for (size_t i = 0; i < n; i++) {
        jv_str kid;
        const char *kty, *alg;
        jv_err st = jv_keyset_entry(ks, i, &kid, &kty, &alg);
        jv_key **first;
        size_t found, k;

        if ((unsigned)st >= JV_ERR__COUNT || !kty || strlen(kty) > 32 || (alg && strlen(alg) > 32))
            abort();
        if (!kid.p)
            continue;
        /* The index must lead back to this very entry. */
        found = jv_keyset_find(ks, kid.p, kid.len, &first);
        for (k = 0; k < found && first[k] != &ks->keys[i]; k++)
            ;
        if (k == found)
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jv_keyset *ks = (jv_keyset *)data; /* must be overwritten */
    const jv_opts o = {.algs = (1u << JV_ALG__COUNT) - 1, .now = FUZZ_NOW};
    jv_err rc = jv_keyset_parse(data, size, &ks);

    if (rc != JV_OK) {
        if (ks || (unsigned)rc >= JV_ERR__COUNT)
            abort();
        return 0;
    }
    check_entries(ks);
    for (size_t i = 0; i < sizeof(fixed_tokens) / sizeof(fixed_tokens[0]); i++) {
        jv_result r;
        jv_jwt_verify(ks, (const uint8_t *)fixed_tokens[i], strlen(fixed_tokens[i]), &o, &r);
        jv_result_clear(&r);
    }
    jv_keyset_free(ks);
    return 0;
}
