/*
 * fuzz_b64url.c - libFuzzer harness: strict base64url (b64url.h).
 *
 * Differential: jv_b64url_decode must accept exactly what a reference
 * decoder written here accepts (URL-safe alphabet, no padding, zero trailing
 * bits), give the same bytes into a buffer of exactly jv_b64url_decoded_len
 * bytes (so ASan sees any overrun), and round-trip: decoding the reference
 * encoding of the input's bytes gives the bytes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
ref_value(uint8_t c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;

    return p ? (int)(p - alphabet) : -1;
}

/* Bit by bit, nothing like the table-driven decoder under test. */
static int
ref_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    if (len % 4 == 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int v = ref_value(in[i]);
        if (v < 0)
            return 0;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* leftover bits must be zero */
        return 0;
    *out_len = o;
    return 1;
}

static size_t
ref_encode(const uint8_t *in, size_t len, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 63];
    return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = jv_b64url_decoded_len(size), n = 0, rn = 0, elen;
    uint8_t *out = malloc(cap ? cap : 1), *ref = malloc(size + 1), *back;
    char *enc = malloc(size / 3 * 4 + 4);
    int ok, rok;

    if (!out || !ref || !enc)
        abort();
    ok = jv_b64url_decode(data, size, out, &n) == JV_OK;
    rok = ref_decode(data, size, ref, &rn);
    if (ok != rok || (ok && (n != rn || n != cap || memcmp(out, ref, n) != 0)))
        abort();

    /* The input as bytes: encode, decode, compare. */
    elen = ref_encode(data, size, enc);
    back = malloc(jv_b64url_decoded_len(elen) ? jv_b64url_decoded_len(elen) : 1);
    if (!back || jv_b64url_decode((const uint8_t *)enc, elen, back, &n) != JV_OK || n != size ||
        memcmp(back, data, size) != 0)
        abort();
    free(back);
    free(enc);
    free(ref);
    free(out);
    return 0;
}
