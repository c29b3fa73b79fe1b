/*
 * fuzz_claims.c - libFuzzer harness: the JSON layers and claim checks
 * (val.h, json.h, claims.h) that run on a payload once its signature is good.
 *
 * Input: a flags byte, a length byte and that many bytes of a claim name
 * (an extra required claim, so names with NULs or odd bytes reach the
 * lookup), then the payload JSON. Flags: 0x01 iss checked, 0x02 aud checked,
 * 0x04 the name required, 0x18 leeway (0, 1, 60, 2^40 - 1), 0x60 now
 * (FUZZ_NOW, 0, 2^62 - 1, -(2^62 - 1)), 0x80 exp required.
 *
 * Differential checks: the token parser (val.h, one pass) against the key
 * set parser (json.h, cJSON behind a prescan): the same answer on every
 * input and, when both accept, the same tree (kinds, strings, number texts
 * and values, members, with ours sorted); jv_utf8_valid against a reference
 * validator (Unicode Table 3-7); jv_json_int64 against strtoll on every
 * number the parser keeps. jv_claims_check runs on val.h's tree, as
 * jv_jwt_verify runs it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "claims.h"
#include "fixed_jwks.h"
#include "json.h"
#include "val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STR(s)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }

/* Unicode 15, Table 3-7: the well-formed UTF-8 byte sequences. */
static int
ref_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = p[i];
        size_t n;
        uint8_t lo = 0x80, hi = 0xbf;

        if (c <= 0x7f) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        else
            return 0;
        if (len - i <= n || p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return 0;
        i += n + 1;
    }
    return 1;
}

static void
check_number(const cJSON *n)
{
    const char *text = jv_json_number_text(n);
    int64_t v = 0;
    jv_num_kind kind;
    const char *s;
    int digits_only;

    if (!text || !*text)
        abort();
    kind = jv_json_int64(n, &v);
    s = text + (*text == '-');
    digits_only = *s != '\0' && strspn(s, "0123456789") == strlen(s);
    if (digits_only) {
        char *end;
        long long want;
        errno = 0;
        want = strtoll(text, &end, 10);
        if (errno == ERANGE ? kind != JV_NUM_OUT_OF_RANGE : (kind != JV_NUM_INT || v != want))
            abort();
    } else if (kind != JV_NUM_NOT_INTEGER) {
        abort();
    }
}

static void
walk(const cJSON *n, int depth)
{
    if (depth > JV_MAX_JSON_DEPTH + 1)
        abort();
    for (; n; n = n->next) {
        if (cJSON_IsNumber(n))
            check_number(n);
        else if (cJSON_IsString(n) &&
                 !ref_utf8_valid((const uint8_t *)n->valuestring, strlen(n->valuestring)))
            abort();
        if (n->string && !ref_utf8_valid((const uint8_t *)n->string, strlen(n->string)))
            abort();
        walk(n->child, depth + 1);
    }
}

/* The two parsers' trees say the same (see test/c/test_val.c). */
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
            return c->valuedouble == v->n.d;
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
            if (m->next &&
                jv_val_name_cmp(m->name, m->name_len, m->next->name, m->next->name_len) >= 0)
                return 0; /* not sorted, or a duplicate */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const jv_str iss[] = {STR("https://issuer.example"), STR("other")};
    static const jv_str aud[] = {STR("api"), STR("api2")};
    static const int64_t leeways[] = {0, 1, 60, (INT64_C(1) << 40) - 1};
    static const int64_t nows[] = {FUZZ_NOW, 0, (INT64_C(1) << 62) - 1, -((INT64_C(1) << 62) - 1)};
    jv_str required[2];
    jv_opts o = {0};
    cJSON *root = NULL;
    jv_arena arena;
    const jv_val *claims = NULL;
    const char *detail = NULL;
    size_t detail_len = 0, name_len;
    uint8_t flags, *name, *text = NULL;
    jv_err rc, rv;

    if (size < 2 || (size_t)data[1] > size - 2)
        return 0;
    flags = data[0];
    name_len = data[1];
    /* The name in its own allocation, so a read past it is caught. */
    name = malloc(name_len ? name_len : 1);
    if (!name)
        abort();
    memcpy(name, data + 2, name_len);
    data += 2 + name_len;
    size -= 2 + name_len;

    if (jv_utf8_valid(data, size) != ref_utf8_valid(data, size))
        abort();
    /* The text in an allocation of its own with the NUL val.h wants after it. */
    jv_arena_init(&arena);
    if (!(text = malloc(size + 1)))
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    rv = jv_val_parse(&arena, text, size, &claims);
    rc = jv_json_parse(data, size, &root);
    if (rv != rc || (rv == JV_OK) != (claims != NULL))
        abort();
    if (rc != JV_OK) {
        if (rc != JV_ERR_BAD_JSON || root)
            abort();
        goto end;
    }
    if (!ref_utf8_valid(data, size) || !same(claims, root))
        abort();
    walk(root, 0);
    if (claims->type != JV_VAL_OBJECT)
        goto end;
    if (flags & 0x80)
        required[o.n_required++] = (jv_str){(const uint8_t *)"exp", 3};
    if (flags & 0x04)
        required[o.n_required++] = (jv_str){name, name_len};
    o.required = required;
    if (flags & 0x01)
        o.iss = iss, o.n_iss = 2;
    if (flags & 0x02)
        o.aud = aud, o.n_aud = 2;
    o.leeway = leeways[(flags >> 3) & 3];
    o.now = nows[(flags >> 5) & 3];
    rc = jv_claims_check(claims, &o, &detail, &detail_len);
    if ((unsigned)rc >= JV_ERR__COUNT)
        abort();
    if (rc == JV_ERR_INVALID_CLAIM || rc == JV_ERR_MISSING_CLAIM) {
        volatile uint8_t sum = 0;
        if (!detail)
            abort();
        for (size_t i = 0; i < detail_len; i++) /* the detail must be readable */
            sum ^= (uint8_t)detail[i];
        (void)sum;
    }
end:
    cJSON_Delete(root);
    jv_arena_free(&arena);
    free(text);
    free(name);
    return 0;
}
