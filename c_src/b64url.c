#include "b64url.h"

#include <string.h>

/* Four tables, one per position of a character in its group of four, each
 * holding the character's 6 bits already shifted to their place in the
 * group's 24: a group is four loads and three ORs. A byte outside the
 * URL-safe alphabet sets the top byte instead, which stays set through the
 * ORs and is checked once per call, not per character. */
#define V(c)                                                                                       \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                        \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                                   \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                                   \
     : (c) == '-'               ? 62                                                               \
     : (c) == '_'               ? 63                                                               \
                                : -1)
#define E(c, s) (V(c) < 0 ? BAD : (uint32_t)V(c) << (s))
#define R4(s, b) E((b), s), E((b) + 1, s), E((b) + 2, s), E((b) + 3, s)
#define R16(s, b) R4(s, b), R4(s, (b) + 4), R4(s, (b) + 8), R4(s, (b) + 12)
#define R64(s, b) R16(s, b), R16(s, (b) + 16), R16(s, (b) + 32), R16(s, (b) + 48)
#define R256(s) R64(s, 0), R64(s, 64), R64(s, 128), R64(s, 192)
#define BAD 0xff000000u

static const uint32_t t0[256] = {R256(18)}, t1[256] = {R256(12)}, t2[256] = {R256(6)},
                      t3[256] = {R256(0)};

size_t
jv_b64url_decoded_len(size_t len)
{
    return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

static inline uint32_t
group(const uint8_t *in)
{
    return t0[in[0]] | t1[in[1]] | t2[in[2]] | t3[in[3]];
}

jv_err
jv_b64url_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    uint32_t bad = 0, v;

    /* One leftover character carries only 6 bits: never a whole byte. */
    if (len % 4 == 1)
        return JV_ERR_BAD_BASE64;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* While another group follows, a group's three bytes go out as one
     * 4-byte store whose last byte the next group overwrites; two groups a
     * turn. */
    if (len >= 12) {
        const uint8_t *p = in, *stop = in + len - 12;
        uint8_t *w = out;
        uint32_t v2;
        for (; p <= stop; p += 8, w += 6) {
            v = group(p);
            v2 = group(p + 4);
            bad |= v | v2;
            v = __builtin_bswap32(v << 8);
            v2 = __builtin_bswap32(v2 << 8);
            memcpy(w, &v, 4);
            memcpy(w + 3, &v2, 4);
        }
        i = (size_t)(p - in);
        o = (size_t)(w - out);
    }
#endif
    for (; i + 4 <= len; i += 4) {
        v = group(in + i);
        bad |= v;
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    /* RFC 7515 §2 / RFC 4648 §3.5: unused trailing bits must be zero, or one
     * token would have several encodings. */
    if (len - i == 2) {
        v = t0[in[i]] | t1[in[i + 1]];
        bad |= v | (v & 0xf000 ? BAD : 0);
        out[o++] = (uint8_t)(v >> 16);
    } else if (len - i == 3) {
        v = t0[in[i]] | t1[in[i + 1]] | t2[in[i + 2]];
        bad |= v | (v & 0xc0 ? BAD : 0);
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
    }
    if (bad & BAD)
        return JV_ERR_BAD_BASE64;
    *out_len = o;
    return JV_OK;
}
