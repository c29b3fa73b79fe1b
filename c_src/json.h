#ifndef JV_JSON_H
#define JV_JSON_H

#include "jv.h"

/* The thin layer over cJSON. jv_json_parse accepts only what RFC 8259 and
 * RFC 7519 §7.2 allow us to trust: UTF-8 text, one value, nesting at most
 * JV_MAX_JSON_DEPTH, no escaped NUL (cJSON would cut the string there), no
 * duplicate member names (RFC 7515 §5.2 lets us reject them), numbers of at
 * most JV_MAX_NUMBER_CHARS characters and within the range of a double
 * (1e400 is refused, not read as infinity; 1e-400 reads as 0). Number nodes keep their source text
 * in valuestring, since cJSON keeps only a double (read through jv.h's jv_json_int64 and
 * jv_json_number_text). On failure: JV_ERR_BAD_JSON. */
#define JV_MAX_NUMBER_CHARS 40

jv_err jv_json_parse(const uint8_t *p, size_t len, cJSON **out);

/* True when the bytes are well-formed UTF-8 (no overlongs, no surrogates). */
int jv_utf8_valid(const uint8_t *p, size_t len);

/* Member lookup by name; getn takes a length-delimited one (the caller's
 * option strings). Member names have no NUL: the JSON layer refused them. */
const cJSON *jv_json_get(const cJSON *obj, const char *name);
const cJSON *jv_json_getn(const cJSON *obj, const uint8_t *name, size_t len);

#endif
