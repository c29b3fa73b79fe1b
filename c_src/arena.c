/*
 * arena.c - the memory of one verification: decoded segments, parsed JSON
 * and unescaped strings, freed together by jv_result_clear.
 */
#include "arena.h"

#include <stdlib.h>

/* Heap blocks double, so a large token costs a few mallocs, not one per value. */
#define FIRST_HEAP_BLOCK 16384

typedef struct block {
    struct block *next;
    size_t size;
    max_align_t data[];
} block;

void
jv_arena_init(jv_arena *a)
{
    a->cur = a->first.bytes;
    a->end = a->first.bytes + sizeof(a->first.bytes);
    a->blocks = NULL;
}

void
jv_arena_free(jv_arena *a)
{
    block *b = a->blocks;

    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
    jv_arena_init(a);
}

void *
jv_arena_alloc_slow(jv_arena *a, size_t n)
{
    block *prev = a->blocks;
    size_t size = prev ? prev->size * 2 : FIRST_HEAP_BLOCK;
    block *b;

    if (size < n)
        size = n;
    if (!(b = malloc(sizeof(*b) + size)))
        return NULL;
    b->next = prev;
    b->size = size;
    a->blocks = b;
    a->cur = (uint8_t *)b->data + n;
    a->end = (uint8_t *)b->data + size;
    return b->data;
}
