/*
 * test_json.c - guards c_src/json.c, the layer over cJSON.
 *
 * What a token or key set may contain is decided here: UTF-8 only (no
 * overlongs, no surrogates), nesting at most JV_MAX_JSON_DEPTH, no duplicate
 * member names at any level, no NUL inside strings (escaped or raw, since
 * cJSON would cut the string there), RFC 8259's number grammar within the
 * range of a double (1e400 is refused, never infinity), one value per
 * document, and integers read exactly from the number's own text.
 */
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "test_util.h"

static jv_err
parse_n(const char *p, size_t len)
{
    cJSON *root = (cJSON *)1;
    jv_err rc = jv_json_parse((const uint8_t *)p, len, &root);

    if (rc != JV_OK)
        CHECK(root == NULL);
    cJSON_Delete(root);
    return rc;
}

static jv_err
parse(const char *p)
{
    return parse_n(p, strlen(p));
}

/* Parses and returns the tree, checking it parses. */
static cJSON *
tree(const char *p)
{
    cJSON *root = NULL;

    CHECK_ERR(jv_json_parse((const uint8_t *)p, strlen(p), &root), JV_OK);
    return root;
}

static int
utf8(const char *p, size_t len)
{
    /* A copy of exactly len bytes, so a read past the end shows in valgrind. */
    uint8_t *copy = tu_malloc(len);
    int ok;

    memcpy(copy, p, len);
    ok = jv_utf8_valid(copy, len);
    free(copy);
    return ok;
}

static void
test_utf8(void)
{
    static const struct {
        const char *s;
        size_t len;
        int valid;
    } cases[] = {
        {"", 0, 1},
        {"plain ascii", 11, 1},
        {"\x00", 1, 1},
        {"\x7f", 1, 1},
        {"\xc2\x80", 2, 1},         /* U+0080 */
        {"\xc3\xa9", 2, 1},         /* é */
        {"\xdf\xbf", 2, 1},         /* U+07FF */
        {"\xe0\xa0\x80", 3, 1},     /* U+0800 */
        {"\xe2\x82\xac", 3, 1},     /* € */
        {"\xed\x9f\xbf", 3, 1},     /* U+D7FF */
        {"\xee\x80\x80", 3, 1},     /* U+E000 */
        {"\xef\xbf\xbf", 3, 1},     /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, 1}, /* U+10000 */
        {"\xf0\x9f\x98\x80", 4, 1}, /* emoji */
        {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
        {"\x80", 1, 0},             /* lone continuation bytes */
        {"\xbf", 1, 0},
        {"a\x80z", 3, 0},
        {"\xc0\x80", 2, 0},                 /* overlong NUL */
        {"\xc0\xaf", 2, 0},                 /* overlong '/' */
        {"\xc1\xbf", 2, 0},                 /* overlong U+007F */
        {"\xe0\x80\x80", 3, 0},             /* overlong NUL, 3 bytes */
        {"\xe0\x9f\xbf", 3, 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\x80", 4, 0},         /* overlong NUL, 4 bytes */
        {"\xf0\x8f\xbf\xbf", 4, 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, 0},             /* U+D800, a surrogate */
        {"\xed\xbf\xbf", 3, 0},             /* U+DFFF */
        {"\xed\xa0\xbd\xed\xb8\x80", 6, 0}, /* CESU-8 surrogate pair */
        {"\xf4\x90\x80\x80", 4, 0},         /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xf7\xbf\xbf\xbf", 4, 0},
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
        {"\xfc\x84\x80\x80\x80\x80", 6, 0},
        {"\xfe", 1, 0},
        {"\xff", 1, 0},
        {"\xc3", 1, 0}, /* truncated sequences */
        {"\xe2\x82", 2, 0},
        {"\xf0\x9f\x98", 3, 0},
        {"ok\xc3", 3, 0},
        {"\xc3\x41", 2, 0}, /* continuation missing */
        {"\xe2\x28\xa1", 3, 0},
        {"\xe2\x82\x28", 3, 0},
        {"\xf0\x9f\x98\x28", 4, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_case("utf8 case %zu", i);
        CHECK_INT(utf8(cases[i].s, cases[i].len), cases[i].valid);
    }
}

static void
test_accepts(void)
{
    static const char *ok[] = {"{}", "[]", "{\"a\":1}", "\"s\"", "0", "-1", "1.5", "1e3", "1E+2",
                               "-0.5e-3", "true", "false", "null", " {} ", "\t\r\n{}\n",
                               "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\\n\"}",
                               "[\"\\uD83D\\uDE00\"]", "[\"\\u0001\"]", "[\"\\\\u0000\"]",
                               "{\"\xc3\xa9\":\"\xe2\x82\xac\"}",
                               /* brackets inside strings do not nest */
                               "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}",
                               /* the same name at different levels */
                               "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}",
                               /* names that differ only in length */
                               "{\"a\":1,\"aa\":2,\"\":3}"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        tu_case("accept %s", ok[i]);
        CHECK_ERR(parse(ok[i]), JV_OK);
    }
}

static void
test_rejects(void)
{
    static const char *bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "[1 2]", "{} {}", "{}x", "{}]",
        "[]]", "1 2", "\"open", "[\"\\x\"]", "/* c */ {}", "{\"a\" 1}", "nul", "True",
        /* RFC 8259 numbers: no leading zeros, no bare dot, no +, no hex or words */
        "[01]", "[-01]", "[00]", "[1.]", "[1.e5]", "[.5]", "[+1]", "[1e]", "[-]", "[0x10]",
        "[Infinity]", "[NaN]", "[-Infinity]",
        /* lone and reversed surrogate escapes */
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\udc00\\ud800\"]", "[\"\\ud800x\"]",
        /* escaped NUL, anywhere in a string or a name */
        "[\"\\u0000\"]", "[\"a\\u0000b\"]", "{\"a\\u0000\":1}", "{\"a\":\"\\u0000\"}",
        /* non-UTF-8 in strings, names and outside them */
        "[\"\xff\"]", "{\"\xc0\x80\":1}", "[\"\xed\xa0\x80\"]", "[\"\xe2\x82\"]", "[1]\xff",
        /* duplicate member names, at the top, nested, in arrays, through escapes */
        "{\"a\":1,\"a\":1}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"x\":{\"a\":1,\"a\":2}}",
        "[{\"a\":1,\"a\":2}]", "{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}",
        "{\"x\":[[{\"k\":{\"a\":0,\"a\":0}}]]}"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_case("reject %s", bad[i]);
        CHECK_ERR(parse(bad[i]), JV_ERR_BAD_JSON);
    }
}

/* RFC 8259 §7: control characters inside strings must be escaped (a raw NUL
 * would also end cJSON's copy of the string: "a\0b" read as "a"). §2:
 * between tokens only space, tab, line feed and carriage return. */
static void
test_raw_control_chars(void)
{
    static const char *where[] = {"in a string", "in a name", "between tokens", "before the value",
                                  "after the value"};

    /* One check per position, listing every byte that got the wrong answer. */
    for (size_t w = 0; w < 5; w++) {
        char wrong[256] = "";
        for (int c = 0; c < 0x20; c++) {
            int ws = w >= 2 && (c == '\t' || c == '\n' || c == '\r');
            char doc[] = "{\"k\":\"a?b\",\"n?m\":1}", between[] = "[1,?2]", before[] = "?{}",
                 after[] = "{}?";
            char *d[] = {doc, doc, between, before, after};
            size_t pos[] = {7, 13, 3, 0, 2}, len[] = {sizeof(doc) - 1, sizeof(doc) - 1, 6, 3, 3};
            d[w][pos[w]] = (char)c;
            if (parse_n(d[w], len[w]) != (ws ? JV_OK : JV_ERR_BAD_JSON))
                sprintf(wrong + strlen(wrong), " 0x%02x", c);
        }
        tu_case("raw control bytes %s", where[w]);
        tu_check(wrong[0] == '\0', __FILE__, __LINE__, "wrong answer for%s", wrong);
    }
}

static char *
nested(size_t depth, const char *open, const char *inner, const char *close)
{
    size_t ol = strlen(open), il = strlen(inner), cl = strlen(close);
    char *s = tu_malloc(depth * (ol + cl) + il + 1), *p = s;

    for (size_t i = 0; i < depth; i++, p += ol)
        memcpy(p, open, ol);
    memcpy(p, inner, il);
    p += il;
    for (size_t i = 0; i < depth; i++, p += cl)
        memcpy(p, close, cl);
    *p = '\0';
    return s;
}

static void
test_depth(void)
{
    static const struct {
        const char *open, *inner, *close;
    } shapes[] = {{"[", "", "]"}, {"{\"a\":", "1", "}"}, {"[{\"a\":", "1", "}]"}};
    char *s;

    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        /* the third shape nests two levels per repetition */
        size_t per = i == 2 ? 2 : 1, limit = JV_MAX_JSON_DEPTH / per;
        tu_case("depth %zu, shape %zu", limit * per, i);
        s = nested(limit, shapes[i].open, shapes[i].inner, shapes[i].close);
        CHECK_ERR(parse(s), JV_OK);
        free(s);
        tu_case("depth %zu, shape %zu", (limit + 1) * per, i);
        s = nested(limit + 1, shapes[i].open, shapes[i].inner, shapes[i].close);
        CHECK_ERR(parse(s), JV_ERR_BAD_JSON);
        free(s);
    }
    /* Far beyond cJSON's own limit, closed and unclosed. */
    tu_case("depth 10000");
    s = nested(10000, "[", "", "]");
    CHECK_ERR(parse(s), JV_ERR_BAD_JSON);
    free(s);
    s = nested(10000, "{\"a\":", "1", "}");
    CHECK_ERR(parse(s), JV_ERR_BAD_JSON);
    free(s);
    s = nested(100000, "[", "", "");
    CHECK_ERR(parse(s), JV_ERR_BAD_JSON);
    free(s);
    /* Many siblings are not depth. */
    tu_case("wide, not deep");
    {
        char *wide = tu_malloc(2 + 3 * 5000 + 1), *p = wide;
        *p++ = '[';
        for (int i = 0; i < 5000; i++)
            p += sprintf(p, "%s[]", i ? "," : "");
        *p++ = ']';
        *p = '\0';
        CHECK_ERR(parse(wide), JV_OK);
        free(wide);
    }
}

/* Objects big enough for the sorted duplicate check, with the duplicate at
 * the start, the middle and the end. */
static void
test_duplicates_in_big_objects(void)
{
    static const size_t sizes[] = {15, 16, 17, 18, 100, 5000};

    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        for (int dup = -1; dup < 3; dup++) {
            char *doc = tu_malloc(n * 24 + 8), *p = doc;
            *p++ = '{';
            for (size_t i = 0; i < n; i++) {
                size_t name = i;
                /* dup 0: first equals last, 1: middle equals middle + 1,
                 * 2: last equals second to last */
                if (dup == 0 && i == n - 1)
                    name = 0;
                if (dup == 1 && i == n / 2 + 1)
                    name = n / 2;
                if (dup == 2 && i == n - 1)
                    name = n - 2;
                p += sprintf(p, "%s\"m%zu\":%zu", i ? "," : "", name, i);
            }
            *p++ = '}';
            *p = '\0';
            tu_case("%zu members, duplicate %d", n, dup);
            CHECK_ERR(parse(doc), dup < 0 ? JV_OK : JV_ERR_BAD_JSON);
            free(doc);
        }
    }
}

static void
test_number_length(void)
{
    char doc[128];

    for (size_t len = JV_MAX_NUMBER_CHARS - 1; len <= JV_MAX_NUMBER_CHARS + 1; len++) {
        /* "1" then zeros: len characters */
        doc[0] = '[';
        doc[1] = '1';
        memset(doc + 2, '0', len - 1);
        doc[len + 1] = ']';
        doc[len + 2] = '\0';
        tu_case("number of %zu characters", len);
        CHECK_ERR(parse(doc), len <= JV_MAX_NUMBER_CHARS ? JV_OK : JV_ERR_BAD_JSON);
    }
}

/* Number nodes carry their own source text, in document order, whatever the
 * strings and names around them contain. */
static void
test_number_text(void)
{
    static const char *doc = "{\"a1\":\"2 3 -4\",\"b\":[1,-2,3.5,1e300,9223372036854775808,0],"
                             "\"c\":{\"d\\\"5\":-0,\"e\":[[12345678901234567890]]},\"f\":1E+2,"
                             "\"g\":\"\\\\\",\"h\":7}";
    static const char *want[] = {
        "1",    "-2", "3.5", "1e300", "9223372036854775808", "0", "-0", "12345678901234567890",
        "1E+2", "7"};
    cJSON *root = tree(doc);
    const cJSON *b, *c, *e, *n;
    size_t i = 0;

    tu_case("number texts");
    if (!root)
        return;
    b = jv_json_get(root, "b");
    c = jv_json_get(root, "c");
    CHECK(b && c);
    if (!b || !c)
        goto end;
    cJSON_ArrayForEach(n, b)
    {
        CHECK_STR(jv_json_number_text(n), want[i++]);
    }
    CHECK_STR(jv_json_number_text(jv_json_get(c, "d\"5")), want[i++]);
    e = jv_json_get(c, "e");
    CHECK_STR(jv_json_number_text(e->child->child), want[i++]);
    CHECK_STR(jv_json_number_text(jv_json_get(root, "f")), want[i++]);
    CHECK_STR(jv_json_number_text(jv_json_get(root, "h")), want[i++]);
end:
    cJSON_Delete(root);
}

static void
test_int64(void)
{
    static const struct {
        const char *text;
        jv_num_kind kind;
        int64_t value;
    } cases[] = {
        {"0", JV_NUM_INT, 0},
        {"-0", JV_NUM_INT, 0},
        {"1", JV_NUM_INT, 1},
        {"-1", JV_NUM_INT, -1},
        {"1300819380", JV_NUM_INT, 1300819380},
        /* 2^53 + 1: a double would round it */
        {"9007199254740993", JV_NUM_INT, 9007199254740993LL},
        {"-9007199254740993", JV_NUM_INT, -9007199254740993LL},
        {"9223372036854775807", JV_NUM_INT, INT64_MAX},
        {"-9223372036854775808", JV_NUM_INT, INT64_MIN},
        {"9223372036854775806", JV_NUM_INT, INT64_MAX - 1},
        /* 2^63 and beyond */
        {"9223372036854775808", JV_NUM_OUT_OF_RANGE, 0},
        {"-9223372036854775809", JV_NUM_OUT_OF_RANGE, 0},
        {"18446744073709551615", JV_NUM_OUT_OF_RANGE, 0},
        {"18446744073709551616", JV_NUM_OUT_OF_RANGE, 0},
        {"92233720368547758070", JV_NUM_OUT_OF_RANGE, 0},
        {"100000000000000000000000000000", JV_NUM_OUT_OF_RANGE, 0},
        /* not integers, however integral their value */
        {"1.5", JV_NUM_NOT_INTEGER, 0},
        {"-1.5", JV_NUM_NOT_INTEGER, 0},
        {"1.0", JV_NUM_NOT_INTEGER, 0},
        {"1e3", JV_NUM_NOT_INTEGER, 0},
        {"1E3", JV_NUM_NOT_INTEGER, 0},
        {"1e300", JV_NUM_NOT_INTEGER, 0},
        {"-1e300", JV_NUM_NOT_INTEGER, 0},
        {"1e-400", JV_NUM_NOT_INTEGER, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *doc = tu_fmt("[%s]", cases[i].text);
        cJSON *root = tree(doc);
        int64_t v = 42;
        tu_case("int64 of %s", cases[i].text);
        if (root) {
            CHECK(cJSON_IsNumber(root->child));
            CHECK_INT(jv_json_int64(root->child, &v), cases[i].kind);
            if (cases[i].kind == JV_NUM_INT)
                CHECK(v == cases[i].value);
        }
        cJSON_Delete(root);
        free(doc);
    }
}

/* Numbers a double cannot hold are refused wherever they are, as no caller
 * could use them; those that underflow read as zero, which is exact enough. */
static void
test_non_finite(void)
{
    static const char *refused[] = {
        "1e400",
        "-1e400",
        "1e309",
        "1.8e308",
        "-1.8e308",
        "17976931348623159e292",
        "1E+999",
        "{\"a\":1e999}",
        "{\"a\":[1,{\"b\":[-1e999]}]}",
        "[[[[[[[[[[1e400]]]]]]]]]]",
        "{\"keys\":[],\"x\":9e999}",
    };
    static const char *taken[] = {
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "1e308",
        "1e-400",
        "-1e-400",
        "4.9e-324",
        "0e999",
        "{\"a\":[1,{\"b\":[-1e300]}]}",
        "100000000000000000000000000000000000000",
    };

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        tu_case("non-finite %s", refused[i]);
        CHECK_ERR(parse(refused[i]), JV_ERR_BAD_JSON);
    }
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        tu_case("finite %s", taken[i]);
        CHECK_ERR(parse(taken[i]), JV_OK);
    }
}

static void
test_get(void)
{
    cJSON *root = tree("{\"alg\":\"RS256\",\"Alg\":\"x\",\"\":1,\"kid\":\"k\"}");

    tu_case("jv_json_get");
    if (!root)
        return;
    CHECK_STR(jv_json_get(root, "alg")->valuestring, "RS256");
    CHECK_STR(jv_json_get(root, "Alg")->valuestring, "x");
    CHECK_STR(jv_json_get(root, "kid")->valuestring, "k");
    CHECK(cJSON_IsNumber(jv_json_get(root, "")));
    CHECK(jv_json_get(root, "ALG") == NULL);
    CHECK(jv_json_get(root, "al") == NULL);
    CHECK(jv_json_get(root, "algx") == NULL);
    CHECK(jv_json_get(NULL, "alg") == NULL);
    cJSON_Delete(root);
}

/* Strings come back decoded, and escapes that spell a name collide with it. */
static void
test_strings(void)
{
    cJSON *root = tree("{\"s\":\"\\u00e9\\ud83d\\ude00\\/\\\"\\\\\\b\\f\\n\\r\\t\"}");

    tu_case("string escapes");
    if (!root)
        return;
    CHECK_STR(jv_json_get(root, "s")->valuestring, "\xc3\xa9\xf0\x9f\x98\x80/\"\\\b\f\n\r\t");
    cJSON_Delete(root);
}

int
main(void)
{
    test_utf8();
    test_accepts();
    test_rejects();
    test_raw_control_chars();
    test_depth();
    test_duplicates_in_big_objects();
    test_number_length();
    test_number_text();
    test_int64();
    test_non_finite();
    test_get();
    test_strings();
    return tu_done();
}
