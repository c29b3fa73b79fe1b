/*
 * jv.c - what the public API owns that no single path does: the reason names
 * and the result both verify paths fill.
 */
#include "jv.h"

#include <stdlib.h>
#include <string.h>

/* Expanded from JV_ERRORS, so a code cannot lose its atom or get another. */
static const char *const err_names[JV_ERR__COUNT] = {[JV_OK] = "ok",
#define JV_ERR_NAME_(name, atom) [JV_ERR_##name] = #atom,
                                                     JV_ERRORS(JV_ERR_NAME_)
#undef JV_ERR_NAME_
};

const char *
jv_err_name(jv_err e)
{
    return (unsigned)e < JV_ERR__COUNT ? err_names[e] : "internal_error";
}

void
jv_result_clear(jv_result *out)
{
    cJSON_Delete(out->header);
    cJSON_Delete(out->claims);
    free(out->payload);
    memset(out, 0, sizeof(*out));
}
