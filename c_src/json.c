#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int
jv_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = p[i];
        size_t n;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

static size_t
digits(const uint8_t *p, size_t len, size_t i)
{
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* The length of the RFC 8259 §6 number at p, or 0 when the run of number
 * characters there is not one (01, 1., .5, 1e): strtod, which cJSON uses,
 * would accept some of these and read them its own way. */
static size_t
number_len(const uint8_t *p, size_t len)
{
    size_t i = 0, j;

    if (i < len && p[i] == '-')
        i++;
    if (i < len && p[i] == '0')
        i++;
    else if ((j = digits(p, len, i)) > i)
        i = j;
    else
        return 0;
    if (i < len && p[i] == '.') {
        if ((j = digits(p, len, i + 1)) == i + 1)
            return 0;
        i = j;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if ((j = digits(p, len, i)) == i)
            return 0;
        i = j;
    }
    /* A number glued to more number characters (01, 1.2.3) is not one. */
    if (i < len && strchr("0123456789+-.eE", p[i]) && p[i])
        return 0;
    return i;
}

/* One pass over the text, outside cJSON: nesting depth, escaped NULs and
 * over-long numbers are refused before cJSON recurses or copies anything. */
static int
prescan(const uint8_t *p, size_t len)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (in_str) {
            /* RFC 8259 §7: control characters must be escaped; a raw NUL
             * would also cut cJSON's C string short. */
            if (c < 0x20)
                return 0;
            if (c == '\\') {
                if (i + 1 >= len)
                    return 0;
                if (p[i + 1] == 'u' && len - i >= 6 && memcmp(p + i + 2, "0000", 4) == 0)
                    return 0;
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > JV_MAX_JSON_DEPTH)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n = number_len(p + i, len - i);
            if (n == 0 || n > JV_MAX_NUMBER_CHARS)
                return 0;
            i += n - 1;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            /* RFC 8259 §2: cJSON would skip any control byte as whitespace. */
            return 0;
        }
    }
    return 1;
}

/* Finds the next number token at or after *pos, skipping strings. */
static int
next_number(const uint8_t *p, size_t len, size_t *pos, size_t *start, size_t *nlen)
{
    int in_str = 0;

    for (size_t i = *pos; i < len; i++) {
        uint8_t c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t e = i;
            while (e < len && p[e] && strchr("0123456789+-.eE", p[e]))
                e++;
            *start = i;
            *nlen = e - i;
            *pos = e;
            return 1;
        }
    }
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* Pairwise for the small objects tokens carry; sorted for big ones, so a
 * hostile document with many members costs n log n, not n squared. */
static int
names_unique(const cJSON *obj)
{
    size_t n = 0, i = 0;
    const cJSON **v;
    int ok = 1;

    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n <= 16) {
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return 0;
        return 1;
    }
    v = malloc(n * sizeof(*v));
    if (!v)
        return 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        v[i++] = c;
    qsort(v, n, sizeof(*v), cmp_names);
    for (i = 1; i < n && ok; i++)
        ok = strcmp(v[i - 1]->string, v[i]->string) != 0;
    free(v);
    return ok;
}

/* Pre-order, like cJSON's parse, so the n-th number node is the n-th number
 * token of the text. */
static int
annotate(cJSON *n, const uint8_t *p, size_t len, size_t *pos)
{
    for (; n; n = n->next) {
        if (cJSON_IsNumber(n)) {
            size_t start, nlen;
            char *text;
            if (!next_number(p, len, pos, &start, &nlen))
                return 0;
            text = malloc(nlen + 1);
            if (!text)
                return 0;
            memcpy(text, p + start, nlen);
            text[nlen] = '\0';
            n->valuestring = text;
        } else if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
            if (cJSON_IsObject(n) && !names_unique(n))
                return 0;
            if (!annotate(n->child, p, len, pos))
                return 0;
        }
    }
    return 1;
}

/* RFC 8259 §6 lets a number exceed what a double holds, and cJSON reads
 * 1e400 as infinity. No caller can use such a value (not as a date, not as
 * an Erlang float), so the JSON layer refuses it, once for every document it
 * parses: a header, a payload and a JWKS all answer alike. Recursion is
 * bounded by JV_MAX_JSON_DEPTH. */
static int
numbers_finite(const cJSON *n)
{
    for (; n; n = n->next) {
        if (cJSON_IsNumber(n) && !isfinite(n->valuedouble))
            return 0;
        if (n->child && !numbers_finite(n->child))
            return 0;
    }
    return 1;
}

jv_err
jv_json_parse(const uint8_t *p, size_t len, cJSON **out)
{
    const char *end = NULL;
    cJSON *root = NULL;
    size_t pos = 0;

    *out = NULL;
    if (!jv_utf8_valid(p, len) || !prescan(p, len))
        return JV_ERR_BAD_JSON;
    root = cJSON_ParseWithLengthOpts((const char *)p, len, &end, 0);
    if (!root)
        return JV_ERR_BAD_JSON;
    /* cJSON stops after the first value: anything but whitespace after it
     * is a second value or garbage. */
    for (const char *q = end; q < (const char *)p + len; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            cJSON_Delete(root);
            return JV_ERR_BAD_JSON;
        }
    }
    if (!annotate(root, p, len, &pos) || !numbers_finite(root)) {
        cJSON_Delete(root);
        return JV_ERR_BAD_JSON;
    }
    *out = root;
    return JV_OK;
}

const char *
jv_json_number_text(const cJSON *n)
{
    return n->valuestring;
}

jv_num_kind
jv_json_int64(const cJSON *n, int64_t *out)
{
    const char *s = n->valuestring;
    int neg = 0;
    uint64_t v = 0, limit;

    if (!s || strpbrk(s, ".eE"))
        return JV_NUM_NOT_INTEGER;
    if (*s == '-')
        neg = 1, s++;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    /* The JSON layer let only RFC 8259 numbers through: s is now digits. */
    for (; *s; s++) {
        if (v > (limit - (uint64_t)(*s - '0')) / 10)
            return JV_NUM_OUT_OF_RANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return JV_NUM_INT;
}

const cJSON *
jv_json_getn(const cJSON *obj, const uint8_t *name, size_t len)
{
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
        if (strlen(c->string) == len && memcmp(c->string, name, len) == 0)
            return c;
    return NULL;
}

const cJSON *
jv_json_get(const cJSON *obj, const char *name)
{
    return jv_json_getn(obj, (const uint8_t *)name, strlen(name));
}
