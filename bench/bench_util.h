/* bench_util.h - what the bench's C programs share: fatal errors and file reads.
 * Define BENCH_PROG (the program's name for messages) before including. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, BENCH_PROG ": %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* dir/name+ext, NUL-terminated, without trailing newlines (not part of a token). */
static void *
slurp(const char *dir, const char *name, const char *ext, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot size", path);
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("cannot read", path);
    fclose(f);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    *len = (size_t)n;
    return buf;
}

#endif
