/*
 * jv.c - what the public API owns that no single path does: the reason names
 * and the result both verify paths fill.
 */
#include "jv.h"

#include "arena.h"

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
    jv_arena_free(&out->arena);
    out->header = out->claims = NULL;
    out->payload = NULL;
    out->payload_len = 0;
    out->detail = NULL;
    out->detail_len = 0;
}
