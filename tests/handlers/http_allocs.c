/* http_allocs.c - examples/http with counting allocator hooks, for the steady-state
   allocation test in tests/test_e2e.c: the event "allocs" answers the number of
   LAMBDA_MALLOC + LAMBDA_REALLOC calls so far; every other event goes to the example. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) &&            \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

static unsigned long allocs_counted;

static void *count_malloc(size_t n)
{
    allocs_counted++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    allocs_counted++;
    return realloc(p, n);
}

#define LAMBDA_MALLOC(n)     count_malloc(n)
#define LAMBDA_REALLOC(p, n) count_realloc(p, n)
#define LAMBDA_FREE(p)       free(p)
#define main                 http_main
#include "../../examples/http/main.c"
#undef main

static int counting_handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    char num[24];
    if (event.len == 6 && memcmp(event.ptr, "allocs", 6) == 0) {
        size_t n = lambda__utoa(num, allocs_counted, 10);
        return lambda_response_append(res, num, n);
    }
    return handler(ctx, event, res);
}

int main(void)
{
    (void)http_main;
    return lambda_start(counting_handler);
}
