/*
 * test_b64url.c - guards c_src/b64url.c: strict base64url (RFC 7515 §2).
 *
 * Only the 64 URL-safe characters are accepted: no padding, no whitespace,
 * no '+' or '/', no length of 1 mod 4 and no non-zero trailing bits, so one
 * byte string has exactly one encoding. Round trips run against the encoder
 * in test_util.c, which shares no code with the decoder.
 */
#include <stdio.h>
#include <stdlib.h>

#include "b64url.h"
#include "test_util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint32_t rng_state = 0x12345678u;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Decodes the first len bytes of s into a buffer of exactly
 * jv_b64url_decoded_len(len) bytes, so valgrind sees any overrun. */
static jv_err
decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    size_t cap = jv_b64url_decoded_len(len);
    jv_err rc;

    *out = tu_malloc(cap);
    *out_len = (size_t)-1;
    rc = jv_b64url_decode((const uint8_t *)s, len, *out, out_len);
    return rc;
}

static jv_err
decode_str(const char *s)
{
    uint8_t *out;
    size_t n;
    jv_err rc = decode(s, strlen(s), &out, &n);

    free(out);
    return rc;
}

/* Decodes s, expecting the bytes want. */
static void
check_decodes_to(const char *s, const char *want, size_t want_len)
{
    uint8_t *out;
    size_t n;

    tu_case("decode \"%s\"", s);
    CHECK_ERR(decode(s, strlen(s), &out, &n), JV_OK);
    CHECK_INT(n, want_len);
    CHECK(n == want_len && memcmp(out, want, want_len) == 0);
    free(out);
}

static void
test_decoded_len(void)
{
    static const size_t want[] = {0, 0, 1, 2, 3, 3, 4, 5, 6};

    tu_case("decoded_len");
    for (size_t len = 0; len < sizeof(want) / sizeof(want[0]); len++) {
        if (len % 4 == 1)
            continue; /* never valid; only the buffer size matters */
        CHECK_INT(jv_b64url_decoded_len(len), want[len]);
    }
    CHECK_INT(jv_b64url_decoded_len(1366), 1024);
}

static void
test_known_values(void)
{
    /* RFC 4648 §10 vectors, padding removed. */
    check_decodes_to("", "", 0);
    check_decodes_to("Zg", "f", 1);
    check_decodes_to("Zm8", "fo", 2);
    check_decodes_to("Zm9v", "foo", 3);
    check_decodes_to("Zm9vYg", "foob", 4);
    check_decodes_to("Zm9vYmE", "fooba", 5);
    check_decodes_to("Zm9vYmFy", "foobar", 6);
    /* The two characters that differ from standard base64. */
    check_decodes_to("-w", "\xfb", 1);
    check_decodes_to("_w", "\xff", 1);
    check_decodes_to("-_-_", "\xfb\xff\xbf", 3);
    /* RFC 7515 §3.3's header, as a JWS carries it. */
    check_decodes_to("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
                     "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", 30);
}

static void
test_rejects(void)
{
    static const char *bad[] = {/* padding, in every position it could appear */
                                "Zg==", "Zg=", "Zm8=", "Zm9v====", "=", "==", "Z=g", "=Zg",
                                /* standard-alphabet characters */
                                "+w", "/w", "Zm9+", "Zm9/", "ab+/",
                                /* whitespace anywhere */
                                " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm9v\r\n", "\tZm9v", "Zm\n9v",
                                /* one leftover character never makes a byte */
                                "Z", "Zm9vY", "Zm9vYmFyZ",
                                /* non-zero trailing bits: "Zh" and "Zm9" differ from "Zg", "Zm8" */
                                "Zh", "Zp", "Z_", "Zm9", "Zm-", "Zm_",
                                /* other punctuation and non-ASCII */
                                "Zm9v.", "Zm9v,", "Zm9v%", "Zm9v\\", "Zm9v\x80", "Zm9v\xff",
                                "\xc3\xa9Zm9v"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_case("reject \"%s\"", bad[i]);
        CHECK_ERR(decode_str(bad[i]), JV_ERR_BAD_BASE64);
    }

    /* An embedded NUL is a byte like any other, not an end of string. */
    {
        uint8_t *out;
        size_t n;
        tu_case("embedded NUL");
        CHECK_ERR(decode("Zm\0v", 4, &out, &n), JV_ERR_BAD_BASE64);
        free(out);
        CHECK_ERR(decode("Zm9vZg\0", 7, &out, &n), JV_ERR_BAD_BASE64);
        free(out);
    }
}

/* Every byte value in every position of a group: valid exactly when it is one
 * of the 64 characters. */
static void
test_every_byte_every_position(void)
{
    for (int c = 0; c < 256; c++) {
        int valid = c != 0 && strchr(alphabet, c) != NULL;
        for (size_t pos = 0; pos < 4; pos++) {
            char s[5] = "AAAA";
            uint8_t *out;
            size_t n;
            s[pos] = (char)c;
            tu_case("byte 0x%02x at %zu", c, pos);
            CHECK_ERR(decode(s, 4, &out, &n), valid ? JV_OK : JV_ERR_BAD_BASE64);
            free(out);
        }
    }
}

/* The last character of a 2- or 3-character tail carries 4 or 2 unused bits;
 * only the characters with those bits zero are canonical. */
static void
test_trailing_bits(void)
{
    for (size_t i = 0; i < 64; i++) {
        char two[3] = {'Q', alphabet[i], 0}, three[4] = {'Q', 'U', alphabet[i], 0};
        tu_case("tail \"%s\"", two);
        CHECK_ERR(decode_str(two), (i & 15) == 0 ? JV_OK : JV_ERR_BAD_BASE64);
        tu_case("tail \"%s\"", three);
        CHECK_ERR(decode_str(three), (i & 3) == 0 ? JV_OK : JV_ERR_BAD_BASE64);
        /* The same after whole groups. */
        {
            char *long_two = tu_fmt("Zm9vYmFy%s", two), *long_three = tu_fmt("Zm9vYmFy%s", three);
            CHECK_ERR(decode_str(long_two), (i & 15) == 0 ? JV_OK : JV_ERR_BAD_BASE64);
            CHECK_ERR(decode_str(long_three), (i & 3) == 0 ? JV_OK : JV_ERR_BAD_BASE64);
            free(long_two);
            free(long_three);
        }
    }
}

/* Random byte strings of every length up to 300 (every length mod 3 and so
 * every encoded length mod 4 but 1), plus the 256 byte values. */
static void
test_round_trip(void)
{
    uint8_t all[256];

    for (size_t len = 0; len <= 300; len++) {
        uint8_t *in = tu_malloc(len), *out;
        char *enc;
        size_t n;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rng();
        enc = tu_b64url(in, len);
        tu_case("round trip of %zu bytes", len);
        CHECK_INT(strlen(enc) % 4 == 1, 0);
        CHECK_INT(jv_b64url_decoded_len(strlen(enc)), len);
        CHECK_ERR(decode(enc, strlen(enc), &out, &n), JV_OK);
        CHECK(n == len && memcmp(in, out, len) == 0);
        free(out);
        /* One character more, as a truncated or padded token would give. */
        if (len > 0) {
            char *more = tu_fmt("%s=", enc);
            CHECK_ERR(decode_str(more), JV_ERR_BAD_BASE64);
            free(more);
        }
        free(enc);
        free(in);
    }

    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    {
        char *enc = tu_b64url(all, sizeof(all));
        uint8_t *out;
        size_t n;
        tu_case("round trip of all byte values");
        CHECK_ERR(decode(enc, strlen(enc), &out, &n), JV_OK);
        CHECK(n == sizeof(all) && memcmp(all, out, n) == 0);
        free(out);
        free(enc);
    }
}

/* Every prefix of a valid encoding: valid exactly when its length is not 1
 * mod 4 and its last character has zero unused bits. */
static void
test_every_prefix(void)
{
    uint8_t in[64];
    char *enc;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)rng();
    enc = tu_b64url(in, sizeof(in));
    for (size_t len = 0; len <= strlen(enc); len++) {
        uint8_t *out;
        size_t n;
        jv_err rc = decode(enc, len, &out, &n);
        size_t last = len ? (size_t)(strchr(alphabet, enc[len - 1]) - alphabet) : 0;
        int canonical =
            len % 4 == 0 || (len % 4 == 2 && (last & 15) == 0) || (len % 4 == 3 && (last & 3) == 0);
        tu_case("prefix of %zu characters", len);
        CHECK_ERR(rc, canonical ? JV_OK : JV_ERR_BAD_BASE64);
        if (rc == JV_OK)
            CHECK(n == len * 3 / 4 && memcmp(out, in, n) == 0);
        free(out);
    }
    free(enc);
}

/* A bad character anywhere in a long input is found. */
static void
test_bad_char_anywhere(void)
{
    uint8_t in[90];
    char *enc;
    size_t len;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)rng();
    enc = tu_b64url(in, sizeof(in));
    len = strlen(enc);
    for (size_t pos = 0; pos < len; pos++) {
        static const char bad[] = "=+/ .\n";
        for (const char *b = bad; *b; b++) {
            char saved = enc[pos];
            enc[pos] = *b;
            tu_case("0x%02x at %zu of %zu", *b, pos, len);
            CHECK_ERR(decode_str(enc), JV_ERR_BAD_BASE64);
            enc[pos] = saved;
        }
    }
    free(enc);
}

static void
test_large(void)
{
    size_t len = 1 << 20;
    uint8_t *in = tu_malloc(len), *out;
    char *enc;
    size_t n;

    for (size_t i = 0; i < len; i++)
        in[i] = (uint8_t)rng();
    enc = tu_b64url(in, len);
    tu_case("1 MiB round trip");
    CHECK_ERR(decode(enc, strlen(enc), &out, &n), JV_OK);
    CHECK(n == len && memcmp(in, out, len) == 0);
    free(out);
    free(enc);
    free(in);
}

int
main(void)
{
    test_decoded_len();
    test_known_values();
    test_rejects();
    test_every_byte_every_position();
    test_trailing_bits();
    test_round_trip();
    test_every_prefix();
    test_bad_char_anywhere();
    test_large();
    return tu_done();
}
