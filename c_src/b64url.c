#include "b64url.h"

/* 0xff marks a byte outside the URL-safe alphabet. */
static const uint8_t dtab[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  X,  0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};

size_t
jv_b64url_decoded_len(size_t len)
{
    return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

jv_err
jv_b64url_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    uint32_t v;

    /* One leftover character carries only 6 bits: never a whole byte. */
    if (len % 4 == 1)
        return JV_ERR_BAD_BASE64;
    for (; i + 4 <= len; i += 4) {
        uint8_t a = dtab[in[i]], b = dtab[in[i + 1]], c = dtab[in[i + 2]], d = dtab[in[i + 3]];
        if ((a | b | c | d) & 0x80)
            return JV_ERR_BAD_BASE64;
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    if (len - i == 2) {
        uint8_t a = dtab[in[i]], b = dtab[in[i + 1]];
        /* RFC 7515 §2 / RFC 4648 §3.5: unused trailing bits must be zero,
         * or one token would have several encodings. */
        if ((a | b) & 0x80 || (b & 0x0f))
            return JV_ERR_BAD_BASE64;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
    } else if (len - i == 3) {
        uint8_t a = dtab[in[i]], b = dtab[in[i + 1]], c = dtab[in[i + 2]];
        if ((a | b | c) & 0x80 || (c & 0x03))
            return JV_ERR_BAD_BASE64;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)(b << 4 | c >> 2);
    }
    *out_len = o;
    return JV_OK;
}
