/*
 * val.c - one pass over a token's header or claims JSON: validation (UTF-8,
 * grammar, depth, numbers, duplicates) and the tree at once, in an arena.
 * cJSON with json.c's prescan, UTF-8 pass and rescans costs about eight
 * times as many instructions for the same answer; key set documents,
 * parsed once, still go that way (json.h).
 */
#include "val.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"

/* Byte classes. STOP ends a run of plain string bytes: '"', '\\', control
 * bytes (the closing NUL too) and bytes >= 0x80 (UTF-8, checked apart). WS is
 * RFC 8259 §2's whitespace, NUM what a number may be glued to. */
enum { WS = 1, NUM = 2, STOP = 4 };

#define CLS(c)                                                                                     \
    ((c) < 0x20   ? STOP | ((c) == '\t' || (c) == '\n' || (c) == '\r' ? WS : 0)                    \
     : (c) == ' ' ? WS                                                                             \
     : (c) == '"' || (c) == '\\' || (c) >= 0x80 ? STOP                                             \
     : ((c) >= '0' && (c) <= '9') || (c) == '+' || (c) == '-' || (c) == '.' || (c) == 'e' ||       \
             (c) == 'E'                                                                            \
         ? NUM                                                                                     \
         : 0)
#define R4(b) CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)
static const uint8_t cls[256] = {R64(0), R64(64), R64(128), R64(192)};

typedef struct {
    const uint8_t *p, *end; /* *end is 0 */
    jv_arena *a;
    int depth;
} parser;

static int value(parser *ps, jv_val *v);

static inline const uint8_t *
skip_ws(const uint8_t *p)
{
    while (cls[*p] & WS)
        p++;
    return p;
}

/* One multi-byte UTF-8 sequence at p (Unicode Table 3-7: no overlongs, no
 * surrogates, nothing past U+10FFFF): its length, or 0. The NUL at the end
 * of the text is no continuation byte, so nothing past it is read. */
static size_t
utf8_seq(const uint8_t *p)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return n;
}

static int
hex4(const uint8_t *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (unsigned)((c | 0x20) - 'a' + 10);
        else
            return 0; /* the NUL at the end too: nothing past it is read */
    }
    *out = v;
    return 1;
}

/* The escapes of RFC 8259 §7 between s and e, decoded into the arena. As
 * cJSON: a high surrogate must be followed by an escaped low one, a low one
 * must not come alone; as json.c: no \u0000, which C strings downstream
 * would cut at. */
static int
unescape(parser *ps, const uint8_t *s, const uint8_t *e, const uint8_t **out, uint32_t *len)
{
    uint8_t *o = jv_arena_alloc(ps->a, (size_t)(e - s)), *w = o;
    unsigned cp, lo;

    if (!o)
        return -1;
    while (s < e) {
        if (*s != '\\') {
            *w++ = *s++;
            continue;
        }
        switch (s[1]) {
        case '"':
        case '\\':
        case '/':
            *w++ = s[1];
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u':
            if (e - s < 6 || !hex4(s + 2, &cp) || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                return 0;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (e - s < 12 || s[6] != '\\' || s[7] != 'u' || !hex4(s + 8, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff)
                    return 0;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }
            if (cp < 0x80) {
                *w++ = (uint8_t)cp;
            } else if (cp < 0x800) {
                *w++ = (uint8_t)(0xc0 | cp >> 6);
                *w++ = (uint8_t)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                *w++ = (uint8_t)(0xe0 | cp >> 12);
                *w++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                *w++ = (uint8_t)(0x80 | (cp & 0x3f));
            } else {
                *w++ = (uint8_t)(0xf0 | cp >> 18);
                *w++ = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
                *w++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                *w++ = (uint8_t)(0x80 | (cp & 0x3f));
            }
            s += 4;
            break;
        default:
            return 0;
        }
        s += 2;
    }
    *out = o;
    *len = (uint32_t)(w - o);
    return 1;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Past the plain bytes of a string from q: to its first '"', '\\', control
 * byte or byte >= 0x80. Eight bytes at a time while they lie before end
 * (SWAR: a byte below 0x20 or equal to '"' or '\\' borrows into its top bit;
 * false hits only come above a true one, so the lowest hit is true). */
static inline const uint8_t *
plain_run(const uint8_t *q, const uint8_t *end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - q >= 8) {
        uint64_t x, quote, bslash, hits;
        memcpy(&x, q, 8);
        quote = x ^ (ONES * '"');
        bslash = x ^ (ONES * '\\');
        hits = ((x - ONES * 0x20) | (quote - ONES) | (bslash - ONES)) & ~x;
        hits = (hits | x) & HIGHS;
        if (hits)
            return q + (__builtin_ctzll(hits) >> 3);
        q += 8;
    }
#else
    (void)end;
#endif
    while (!(cls[*q] & STOP))
        q++;
    return q;
}

/* The string at ps->p (its opening quote). 1, 0 on bad JSON, -1 when out of memory. */
static int
string(parser *ps, const uint8_t **out, uint32_t *len)
{
    const uint8_t *s = ps->p + 1, *q = s;
    int escaped = 0;
    size_t n;

    for (;;) {
        q = plain_run(q, ps->end);
        if (*q == '"')
            break;
        if (*q == '\\') {
            /* Skipped here, checked by unescape; a backslash ending the
             * text would skip its NUL. */
            if (q + 1 >= ps->end)
                return 0;
            escaped = 1;
            q += 2;
        } else if (*q >= 0x80 && (n = utf8_seq(q)) != 0) {
            q += n;
        } else {
            return 0; /* RFC 8259 §7: control bytes must be escaped; the end */
        }
    }
    ps->p = q + 1;
    if (escaped)
        return unescape(ps, s, q, out, len);
    *out = s;
    *len = (uint32_t)(q - s);
    return 1;
}

/* RFC 8259 §6, exactly: strtod, which cJSON uses, would take 01, 1., .5 and
 * 1e its own way; a number glued to more number characters (01, 1.2.3) is
 * none. Integers are read exactly from the text. */
static int
number(parser *ps, jv_val *v)
{
    const uint8_t *s = ps->p, *q = s;
    uint64_t acc = 0, limit;
    int neg = *q == '-', range = 1, integer = 1;

    q += neg;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        /* 18 digits cannot overflow; past them, every digit is checked. */
        for (; *q >= '0' && *q <= '9' && q - s < 18; q++)
            acc = acc * 10 + (unsigned)(*q - '0');
        for (; *q >= '0' && *q <= '9'; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (acc > (limit - d) / 10)
                range = 0;
            else
                acc = acc * 10 + d;
        }
    } else {
        return 0;
    }
    if (*q == '.') {
        integer = 0;
        if (!(*++q >= '0' && *q <= '9'))
            return 0;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        integer = 0;
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return 0;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (cls[*q] & NUM || q - s > JV_MAX_NUMBER_CHARS)
        return 0;
    v->type = JV_VAL_NUMBER;
    v->s = s;
    v->len = (uint32_t)(q - s);
    ps->p = q;
    if (integer && range) {
        v->num = JV_NUM_INT;
        v->n.i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    } else if (integer) {
        v->num = JV_NUM_OUT_OF_RANGE;
        v->n.i = 0;
    } else {
        /* strtod wants the locale's decimal point, as cJSON knows. */
        char buf[JV_MAX_NUMBER_CHARS + 1], point = localeconv()->decimal_point[0];
        memcpy(buf, s, v->len);
        buf[v->len] = '\0';
        for (char *c = buf; *c; c++)
            if (*c == '.')
                *c = point;
        v->num = JV_NUM_NOT_INTEGER;
        v->n.d = strtod(buf, NULL);
        /* As json.c: 1e400 is refused, not read as infinity (no caller can
         * use it, as a date or as an Erlang float); 1e-400 reads as 0. */
        if (!isfinite(v->n.d))
            return 0;
    }
    return 1;
}

int
jv_val_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;

    /* Names are short and mostly differ early: no call to memcmp. */
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

static inline int
member_cmp(const jv_val *a, const jv_val *b)
{
    return jv_val_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

/* Merge sort of a member list of n > 0: n log n however many members a
 * hostile object has. Two equal names always meet in some comparison, so a
 * duplicate sets *dup. */
static jv_val *
sort_members(jv_val *head, size_t n, int *dup)
{
    jv_val *a, *b, *out = NULL, **tail = &out;
    size_t half = n / 2;

    if (n <= 1)
        return head;
    if (n <= 8) {
        /* Insertion sort, for what tokens' objects mostly are; a member after
         * the last one so far goes to the end at once, so an object already
         * in order (as many encoders write maps) costs n - 1 comparisons. */
        jv_val *sorted = head, *last = head, *next;
        for (a = head->next, last->next = NULL; a; a = next) {
            jv_val **pos = &sorted;
            int c;
            next = a->next;
            a->next = NULL;
            if ((c = member_cmp(last, a)) < 0) {
                last->next = a;
                last = a;
                continue;
            }
            if (c == 0)
                *dup = 1;
            while ((c = member_cmp(*pos, a)) < 0)
                pos = &(*pos)->next;
            if (c == 0)
                *dup = 1;
            a->next = *pos;
            *pos = a;
        }
        return sorted;
    }
    b = head;
    for (size_t i = 1; i < half; i++)
        b = b->next;
    a = b->next;
    b->next = NULL;
    b = sort_members(a, n - half, dup);
    a = sort_members(head, half, dup);
    while (a && b) {
        int c = member_cmp(a, b);
        if (c == 0)
            *dup = 1;
        if (c <= 0)
            *tail = a, a = a->next;
        else
            *tail = b, b = b->next;
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return out;
}

static jv_val *
new_val(parser *ps)
{
    jv_val *v = jv_arena_alloc(ps->a, sizeof(*v));

    if (v) {
        v->next = v->child = NULL;
        v->name = NULL;
        v->name_len = 0;
    }
    return v;
}

/* An object or an array at ps->p; members are sorted once the object is read. */
static int
container(parser *ps, jv_val *v, int object)
{
    uint8_t close = object ? '}' : ']';
    jv_val *head = NULL, **tail = &head;
    uint32_t n = 0;
    int rc, dup = 0;

    if (++ps->depth > JV_MAX_JSON_DEPTH)
        return 0;
    ps->p = skip_ws(ps->p + 1);
    if (*ps->p != close) {
        for (;;) {
            jv_val *m = new_val(ps);
            if (!m)
                return -1;
            if (object) {
                if (*ps->p != '"')
                    return 0;
                if ((rc = string(ps, &m->name, &m->name_len)) != 1)
                    return rc;
                ps->p = skip_ws(ps->p);
                if (*ps->p != ':')
                    return 0;
                ps->p = skip_ws(ps->p + 1);
            }
            if ((rc = value(ps, m)) != 1)
                return rc;
            *tail = m;
            tail = &m->next;
            n++;
            ps->p = skip_ws(ps->p);
            if (*ps->p == close)
                break;
            if (*ps->p != ',')
                return 0;
            ps->p = skip_ws(ps->p + 1);
        }
    }
    ps->p++;
    ps->depth--;
    v->type = object ? JV_VAL_OBJECT : JV_VAL_ARRAY;
    v->len = n;
    v->s = NULL;
    v->child = object && n > 1 ? sort_members(head, n, &dup) : head;
    return !dup;
}

static int
literal(parser *ps, jv_val *v, const char *word, size_t len, jv_val_type type)
{
    /* Byte by byte: stops at the NUL that ends the text. */
    for (size_t i = 0; i < len; i++)
        if (ps->p[i] != (uint8_t)word[i])
            return 0;
    ps->p += len;
    v->type = (uint8_t)type;
    v->s = NULL;
    v->len = 0;
    return 1;
}

/* The value at ps->p (no whitespace before it): 1, 0 on bad JSON, -1 out of memory. */
static int
value(parser *ps, jv_val *v)
{
    switch (*ps->p) {
    case '"':
        v->type = JV_VAL_STRING;
        return string(ps, &v->s, &v->len);
    case '{':
        return container(ps, v, 1);
    case '[':
        return container(ps, v, 0);
    case 't':
        return literal(ps, v, "true", 4, JV_VAL_TRUE);
    case 'f':
        return literal(ps, v, "false", 5, JV_VAL_FALSE);
    case 'n':
        return literal(ps, v, "null", 4, JV_VAL_NULL);
    default:
        return number(ps, v);
    }
}

jv_err
jv_val_parse(jv_arena *a, const uint8_t *p, size_t len, const jv_val **out)
{
    parser ps = {p, p + len, a, 0};
    jv_val *root;
    int rc;

    *out = NULL;
    /* RFC 8259 §8.1: a byte-order mark may be ignored, as cJSON does; cJSON
     * looks for one only in a text of five bytes or more (what is shorter
     * after it is no object anyway), and so do we, to answer as json.c. */
    if (len > 4 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        ps.p += 3;
    if (!(root = new_val(&ps)))
        return JV_ERR_INTERNAL_ERROR;
    ps.p = skip_ws(ps.p);
    rc = value(&ps, root);
    if (rc < 0)
        return JV_ERR_INTERNAL_ERROR;
    if (rc == 0 || skip_ws(ps.p) != ps.end)
        return JV_ERR_BAD_JSON;
    *out = root;
    return JV_OK;
}

const jv_val *
jv_val_get(const jv_val *obj, const uint8_t *name, size_t len)
{
    if (!obj || obj->type != JV_VAL_OBJECT)
        return NULL;
    for (const jv_val *m = obj->child; m; m = m->next) {
        int c = jv_val_name_cmp(m->name, m->name_len, name, len);
        if (c == 0)
            return m;
        if (c > 0)
            break; /* sorted: it would have come by now */
    }
    return NULL;
}
