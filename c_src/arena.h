#ifndef JV_ARENA_H
#define JV_ARENA_H

#include "jv.h"

/* A bump allocator for one verification (jv_arena, declared in jv.h): the
 * block inside it first, then heap blocks, all freed at once. Nothing is
 * freed singly, and the verify path allocates nothing else. */

void jv_arena_init(jv_arena *a);
/* Frees the heap blocks; the arena is empty and usable again. */
void jv_arena_free(jv_arena *a);
/* n bytes aligned for any jv_val; NULL only when malloc fails. */
void *jv_arena_alloc_slow(jv_arena *a, size_t n);

static inline void *
jv_arena_alloc(jv_arena *a, size_t n)
{
    uint8_t *p = a->cur;

    n = (n + 7) & ~(size_t)7;
    if ((size_t)(a->end - p) < n)
        return jv_arena_alloc_slow(a, n);
    a->cur = p + n;
    return p;
}

#endif
