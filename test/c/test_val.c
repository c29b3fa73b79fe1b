/*
 * test_val.c - guards c_src/val.c, the one-pass JSON of token headers and
 * claims, and c_src/arena.c, where it puts its trees.
 *
 * val.c must accept exactly what json.c (cJSON behind its checks) accepts:
 * every case here goes through both, and the trees must agree (strings,
 * number texts, members). Beyond that: members come sorted in Erlang's
 * order of binaries, integers are exact, nothing past the NUL after the
 * text is read (each text sits in a buffer of exactly its length plus that
 * NUL, so valgrind sees an over-read), and an arena that overflows its own
 * block spills to the heap and is freed whole.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "json.h"
#include "test_util.h"
#include "val.h"

/* The cJSON tree and the jv_val tree say the same: same kinds, strings and
 * number texts byte for byte, same members (cJSON's in text order, ours
 * sorted), same elements in order. */
static int
same(const jv_val *v, const cJSON *c)
{
    size_t n = 0;

    switch (v->type) {
    case JV_VAL_NULL:
        return cJSON_IsNull(c);
    case JV_VAL_TRUE:
        return cJSON_IsTrue(c);
    case JV_VAL_FALSE:
        return cJSON_IsFalse(c);
    case JV_VAL_NUMBER: {
        const char *text = cJSON_IsNumber(c) ? jv_json_number_text(c) : NULL;
        int64_t i = 0;
        jv_num_kind kind;
        if (!text || strlen(text) != v->len || memcmp(text, v->s, v->len) != 0)
            return 0;
        kind = jv_json_int64(c, &i);
        if (kind != v->num)
            return 0;
        if (kind == JV_NUM_INT)
            return i == v->n.i;
        if (kind == JV_NUM_NOT_INTEGER)
            return c->valuedouble == v->n.d || (c->valuedouble != c->valuedouble);
        return 1;
    }
    case JV_VAL_STRING:
        return cJSON_IsString(c) && strlen(c->valuestring) == v->len &&
               memcmp(c->valuestring, v->s, v->len) == 0;
    case JV_VAL_ARRAY:
        if (!cJSON_IsArray(c))
            return 0;
        c = c->child;
        for (const jv_val *e = v->child; e; e = e->next, c = c->next, n++)
            if (!c || !same(e, c))
                return 0;
        return c == NULL && n == v->len;
    case JV_VAL_OBJECT:
        if (!cJSON_IsObject(c) || (size_t)cJSON_GetArraySize(c) != v->len)
            return 0;
        for (const jv_val *m = v->child; m; m = m->next, n++) {
            const cJSON *cm = NULL;
            for (const cJSON *k = c->child; k && !cm; k = k->next)
                if (strlen(k->string) == m->name_len &&
                    memcmp(k->string, m->name, m->name_len) == 0)
                    cm = k;
            if (!cm || !same(m, cm))
                return 0;
        }
        return n == v->len;
    }
    return 0;
}

/* Members in strictly increasing order of names, at every level. */
static int
sorted(const jv_val *v)
{
    for (const jv_val *m = v->child; m; m = m->next) {
        if (v->type == JV_VAL_OBJECT && m->next &&
            jv_val_name_cmp(m->name, m->name_len, m->next->name, m->next->name_len) >= 0)
            return 0;
        if (!sorted(m))
            return 0;
    }
    return 1;
}

/* Both parsers on len bytes of p; checks they agree (answer and tree) and
 * returns val.c's answer. */
static jv_err
parse_n(const char *p, size_t len)
{
    uint8_t *copy = tu_malloc(len + 1);
    jv_arena a;
    const jv_val *v = (const jv_val *)1;
    cJSON *c = NULL;
    jv_err rv, rc;

    memcpy(copy, p, len);
    copy[len] = '\0';
    jv_arena_init(&a);
    rv = jv_val_parse(&a, copy, len, &v);
    rc = jv_json_parse(copy, len, &c);
    tu_check(rv == rc, __FILE__, __LINE__, "val.c says %s, json.c says %s", tu_err_name(rv),
             tu_err_name(rc));
    if (rv == JV_OK) {
        tu_check(v != NULL && sorted(v), __FILE__, __LINE__, "members sorted");
        if (c)
            tu_check(same(v, c), __FILE__, __LINE__, "the trees agree");
    } else {
        CHECK(v == NULL);
    }
    cJSON_Delete(c);
    jv_arena_free(&a);
    free(copy);
    return rv;
}

static jv_err
parse(const char *p)
{
    return parse_n(p, strlen(p));
}

/* The tree of p, in a (the caller frees a); NULL when p does not parse. */
static const jv_val *
tree(jv_arena *a, const char *p)
{
    const jv_val *v = NULL;

    jv_arena_init(a);
    CHECK_ERR(jv_val_parse(a, (const uint8_t *)p, strlen(p), &v), JV_OK);
    return v;
}

static void
test_accepts(void)
{
    static const char *ok[] = {
        "{}", "[]", "{\"a\":1}", "\"s\"", "0", "-1", "1.5", "1e3", "1E+2", "-0.5e-3", "true",
        "false", "null", " {} ", "\t\r\n{}\n", "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\\n\"}",
        "[\"\\uD83D\\uDE00\"]", "[\"\\u0001\"]", "[\"\\\\u0000\"]",
        "{\"\xc3\xa9\":\"\xe2\x82\xac\"}",
        "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}",
        "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}", "{\"a\":1,\"aa\":2,\"\":3}",
        /* RFC 8259 §8.1: a byte-order mark may be ignored, as cJSON does */
        "\xef\xbb\xbf[0]", "\xef\xbb\xbf {\"a\":1}",
        "\xef\xbb\xbf"
        "12",
        "\xef\xbb\xbf{}",
        /* whitespace everywhere it may be */
        " { \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] } ",
        /* escapes of every kind, in names too */
        "{\"\\\"\\\\\\/\\b\\f\\n\\r\\t\":\"\\u00E9\\u20ac\\ud83d\\ude00\"}",
        /* numbers at their edges */
        "[0,-0,0.0,-0.0e-0,1E9,1e+9,9223372036854775807,-9223372036854775808,"
        "9223372036854775808,-9223372036854775809,1e-400,-1e-400,"
        "123456789012345678901234567890]",
        "[true,false,null,[],{},\"\"]"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        tu_case("accept %s", ok[i]);
        CHECK_ERR(parse(ok[i]), JV_OK);
    }
}

static void
test_rejects(void)
{
    static const char *bad[] = {
        "", " ", "{", "}", "[", "]", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "[1 2]", "{} {}",
        "{}x", "{}]", "[]]", "1 2", "\"open", "[\"\\x\"]", "/* c */ {}", "{\"a\" 1}", "nul", "True",
        "tru", "fals", "nulll", "[truex]", "{\"a\"}", "{\"a\":}", "{,}", "[,]", "{\"a\":1 \"b\":2}",
        "[01]", "[-01]", "[00]", "[1.]", "[1.e5]", "[.5]", "[+1]", "[1e]", "[1e+]", "[-]", "[0x10]",
        "[Infinity]", "[NaN]", "[-Infinity]", "[1.2.3]", "[1e5e5]", "[1-2]", "[--1]", "-", "1.",
        /* beyond a double (json.c's numbers_finite) */
        "[1e400]", "[-1e400]", "{\"a\":[1,{\"b\":2e308}]}", "[1.8e308]", "[\"\\ud800\"]",
        "[\"\\udc00\"]", "[\"\\udc00\\ud800\"]", "[\"\\ud800x\"]", "[\"\\ud800\\u0041\"]",
        "[\"\\ud800\\\\\"]", "[\"\\ud800\\u\"]", "[\"\\u0000\"]", "[\"a\\u0000b\"]",
        "{\"a\\u0000\":1}", "{\"a\":\"\\u0000\"}",
        /* a \u with fewer than four hex digits: cJSON alone read these as \u0000 */
        "[\"\\uzzzz\"]", "[\"x\\u00zzy\"]", "[\"\\u12\"]", "[\"\\u123\"]", "[\"\\u\"]",
        "[\"\\ud800\\udczz\"]", "{\"k\\u00g1\":1}",
        /* escapes JSON does not have, and a backslash at the very end */
        "[\"\\a\"]", "[\"\\U0041\"]", "[\"\\'\"]", "[\"\\\xc3\xa9\"]", "\"\\", "[\"\\",
        "[\"\xff\"]", "{\"\xc0\x80\":1}", "[\"\xed\xa0\x80\"]", "[\"\xe2\x82\"]", "[1]\xff",
        "[\"\xf4\x90\x80\x80\"]", "[\"\xe0\x9f\xbf\"]", "[\"\xc3\"]", "\xef\xbb{}", "\xef{}",
        " \xef\xbb\xbf{}", "\xef\xbb\xbf\xef\xbb\xbf{}",
        /* cJSON skips a byte-order mark only in a text of five bytes or more */
        "\xef\xbb\xbf"
        "0",
        "\xef\xbb\xbf"
        "1",
        "{\"a\":1,\"a\":1}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"x\":{\"a\":1,\"a\":2}}",
        "[{\"a\":1,\"a\":2}]", "{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}",
        "{\"x\":[[{\"k\":{\"a\":0,\"a\":0}}]]}", "{\"\":1,\"\":2}"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_case("reject %s", bad[i]);
        CHECK_ERR(parse(bad[i]), JV_ERR_BAD_JSON);
    }
}

/* RFC 8259 §7 and §2: control bytes only escaped in strings, and between
 * tokens only space, tab, line feed and carriage return. A raw NUL inside
 * the text is refused like any other, not taken for its end. */
static void
test_raw_control_chars(void)
{
    static const char *where[] = {"in a string", "in a name", "between tokens", "before the value",
                                  "after the value"};

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

/* Every byte value in a string and between tokens: both parsers agree. */
static void
test_every_byte(void)
{
    for (int c = 0; c < 256; c++) {
        char in_str[] = "[\"a?b\"]", between[] = "[1,?]", esc[] = "[\"\\?\"]";
        tu_case("byte 0x%02x", c);
        in_str[3] = (char)c;
        between[3] = (char)c;
        esc[3] = (char)c;
        parse_n(in_str, sizeof(in_str) - 1);
        parse_n(between, sizeof(between) - 1);
        parse_n(esc, sizeof(esc) - 1);
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
    tu_case("depth 100000, unclosed");
    s = nested(100000, "[", "", "");
    CHECK_ERR(parse(s), JV_ERR_BAD_JSON);
    free(s);
}

/* Objects around the switch from insertion sort (8 members) to merge sort,
 * and big ones, with a duplicate at the start, the middle and the end; the
 * members come out sorted either way. */
static void
test_duplicates_and_order(void)
{
    static const size_t sizes[] = {2, 3, 7, 8, 9, 10, 15, 16, 17, 100, 5000};

    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        for (int dup = -1; dup < 3; dup++) {
            char *doc = tu_malloc(n * 24 + 8), *p = doc;
            int made = 0;
            *p++ = '{';
            for (size_t i = 0; i < n; i++) {
                /* names in a shuffled order: m(i * 7919 mod n) */
                size_t name = i * 7919 % n, was = name;
                if (dup == 0 && i == n - 1)
                    name = 0 * 7919 % n;
                if (dup == 1 && i == n / 2 + 1)
                    name = n / 2 * 7919 % n;
                if (dup == 2 && i == n - 1)
                    name = (n - 2) * 7919 % n;
                made |= name != was;
                p += sprintf(p, "%s\"m%zu\":%zu", i ? "," : "", name, i);
            }
            *p++ = '}';
            *p = '\0';
            tu_case("%zu members, duplicate %d", n, dup);
            /* 7919 is prime: unless a name was replaced, they all differ */
            CHECK_ERR(parse(doc), made ? JV_ERR_BAD_JSON : JV_OK);
            free(doc);
        }
    }
}

/* Erlang's order of binaries: bytewise, unsigned, a prefix first. */
static void
test_member_order(void)
{
    static const char *want[] = {"", "A", "a", "aa", "ab", "b", "\xc3\xa9", "\xef\xbf\xbf"};
    jv_arena a;
    const jv_val *v = tree(&a, "{\"b\":1,\"\\u00e9\":2,\"aa\":3,\"\":4,\"\\uffff\":5,\"a\":6,"
                               "\"ab\":7,\"A\":8}");
    size_t i = 0;

    tu_case("member order");
    if (v) {
        CHECK_INT(v->len, 8);
        for (const jv_val *m = v->child; m && i < 8; m = m->next, i++)
            CHECK_STRN(m->name, m->name_len, want[i]);
        CHECK_INT(i, 8);
        CHECK((v = jv_val_get(v, (const uint8_t *)"\xc3\xa9", 2)) && v->n.i == 2);
    }
    jv_arena_free(&a);
    CHECK(jv_val_name_cmp((const uint8_t *)"a", 1, (const uint8_t *)"ab", 2) < 0);
    CHECK(jv_val_name_cmp((const uint8_t *)"ab", 2, (const uint8_t *)"a", 1) > 0);
    CHECK(jv_val_name_cmp((const uint8_t *)"\x80", 1, (const uint8_t *)"\x7f", 1) > 0);
    CHECK(jv_val_name_cmp((const uint8_t *)"", 0, (const uint8_t *)"", 0) == 0);
}

static void
test_numbers(void)
{
    static const struct {
        const char *text;
        jv_num_kind kind;
        int64_t value;
    } cases[] = {
        {"0", JV_NUM_INT, 0},
        {"-0", JV_NUM_INT, 0},
        {"1300819380", JV_NUM_INT, 1300819380},
        {"9007199254740993", JV_NUM_INT, 9007199254740993LL},
        {"9223372036854775807", JV_NUM_INT, INT64_MAX},
        {"-9223372036854775808", JV_NUM_INT, INT64_MIN},
        {"999999999999999999", JV_NUM_INT, 999999999999999999LL},
        {"-999999999999999999", JV_NUM_INT, -999999999999999999LL},
        {"9223372036854775808", JV_NUM_OUT_OF_RANGE, 0},
        {"-9223372036854775809", JV_NUM_OUT_OF_RANGE, 0},
        {"18446744073709551616", JV_NUM_OUT_OF_RANGE, 0},
        {"99999999999999999999", JV_NUM_OUT_OF_RANGE, 0},
        {"1.5", JV_NUM_NOT_INTEGER, 0},
        {"1.0", JV_NUM_NOT_INTEGER, 0},
        {"1e3", JV_NUM_NOT_INTEGER, 0},
        {"1e-400", JV_NUM_NOT_INTEGER, 0},
    };
    char doc[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jv_arena a;
        const jv_val *v;
        snprintf(doc, sizeof(doc), "[%s]", cases[i].text);
        tu_case("number %s", cases[i].text);
        CHECK_ERR(parse(doc), JV_OK);
        if ((v = tree(&a, doc)) != NULL && v->child) {
            v = v->child;
            CHECK(v->type == JV_VAL_NUMBER);
            CHECK_INT(v->num, cases[i].kind);
            CHECK_STRN(v->s, v->len, cases[i].text);
            if (cases[i].kind == JV_NUM_INT)
                CHECK(v->n.i == cases[i].value);
        }
        jv_arena_free(&a);
    }
    tu_case("number of 40 and 41 characters");
    CHECK_ERR(parse("[1000000000000000000000000000000000000000]"), JV_OK);
    CHECK_ERR(parse("[10000000000000000000000000000000000000000]"), JV_ERR_BAD_JSON);
    CHECK_ERR(parse("[-100000000000000000000000000000000000000]"), JV_OK);
    CHECK_ERR(parse("[1.00000000000000000000000000000000000000]"), JV_OK);
    CHECK_ERR(parse("[1.000000000000000000000000000000000000000]"), JV_ERR_BAD_JSON);
}

static void
test_strings(void)
{
    jv_arena a;
    const jv_val *v = tree(&a, "{\"s\":\"\\u00e9\\ud83d\\ude00\\/\\\"\\\\\\b\\f\\n\\r\\t\","
                               "\"plain\":\"abc\",\"\\u006b\":\"x\"}");

    tu_case("string escapes");
    if (v) {
        const jv_val *s = jv_val_get(v, (const uint8_t *)"s", 1);
        CHECK(s && s->type == JV_VAL_STRING);
        if (s)
            CHECK_STRN(s->s, s->len, "\xc3\xa9\xf0\x9f\x98\x80/\"\\\b\f\n\r\t");
        CHECK(tu_val_is_str(jv_val_get(v, (const uint8_t *)"plain", 5), "abc"));
        CHECK(tu_val_is_str(jv_val_get(v, (const uint8_t *)"k", 1), "x"));
    }
    jv_arena_free(&a);
}

/* Every proper prefix of a valid document is refused, by both parsers, and
 * reads nothing past its own end (valgrind). */
static void
test_truncations(void)
{
    static const char doc[] = "{\"alg\":\"RS256\",\"kid\":\"k\\u00e9\",\"n\":[1,-2.5e3,true,false,"
                              "null,{\"x\":\"\xc3\xa9\"}]}";

    tu_case("truncations");
    CHECK_ERR(parse(doc), JV_OK);
    for (size_t len = 0; len < sizeof(doc) - 1; len++)
        if (parse_n(doc, len) != JV_ERR_BAD_JSON)
            tu_check(0, __FILE__, __LINE__, "prefix of %zu bytes accepted", len);
}

/* Past the arena's own block: heap blocks, growing, all freed at once. */
static void
test_arena(void)
{
    size_t n = 20000;
    char *doc = tu_malloc(n * 16 + 8), *p = doc;
    jv_arena a;
    const jv_val *v;
    void *x;

    tu_case("arena: a document far larger than its block");
    *p++ = '[';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\"s\\u00e9%zu\"", i ? "," : "", i);
    *p++ = ']';
    *p = '\0';
    v = tree(&a, doc);
    CHECK(v && v->len == n && a.blocks != NULL);
    jv_arena_free(&a);
    CHECK(a.blocks == NULL && a.cur == a.first.bytes);
    free(doc);

    tu_case("arena: allocations");
    jv_arena_init(&a);
    CHECK(jv_arena_alloc(&a, 1) == (void *)a.first.bytes);
    x = jv_arena_alloc(&a, 1);
    CHECK(x == (void *)(a.first.bytes + 8)); /* aligned */
    CHECK(jv_arena_alloc(&a, JV_ARENA_BYTES) != NULL && a.blocks != NULL);
    CHECK(jv_arena_alloc(&a, 1 << 20) != NULL);
    jv_arena_free(&a);
}

int
main(void)
{
    test_accepts();
    test_rejects();
    test_raw_control_chars();
    test_every_byte();
    test_depth();
    test_duplicates_and_order();
    test_member_order();
    test_numbers();
    test_strings();
    test_truncations();
    test_arena();
    return tu_done();
}
