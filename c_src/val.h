#ifndef JV_VAL_H
#define JV_VAL_H

#include "jv.h"

/* The JSON of a token's header and claims, in one pass and into an arena:
 * no cJSON, no malloc while the arena's own block lasts. It accepts what
 * json.h's jv_json_parse accepts, in the same terms (RFC 8259 and RFC 7519
 * §7.2): UTF-8 text, one value (after an optional byte-order mark, RFC 8259
 * §8.1), nesting at most JV_MAX_JSON_DEPTH, no NUL in strings, no unpaired
 * surrogate escapes, RFC 8259's number grammar in at most
 * JV_MAX_NUMBER_CHARS characters and within a double's range, no duplicate
 * member names after
 * unescaping (RFC 7515 §5.2). Strings without escapes and numbers point
 * into the text, which must therefore live as long as the tree.
 *
 * p[len] must be readable and 0: the parser stops on that NUL instead of
 * testing the length at every byte. On failure: JV_ERR_BAD_JSON, or
 * JV_ERR_INTERNAL_ERROR when the arena cannot grow. */
jv_err jv_val_parse(jv_arena *a, const uint8_t *p, size_t len, const jv_val **out);

/* An object's member by name (NULL when absent or obj is not an object). */
const jv_val *jv_val_get(const jv_val *obj, const uint8_t *name, size_t len);
#define JV_VAL_GET(obj, lit) jv_val_get((obj), (const uint8_t *)(lit), sizeof(lit) - 1)

/* Erlang's order of binaries: bytewise, a prefix before what extends it. */
int jv_val_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
