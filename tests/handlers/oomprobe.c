/* oomprobe.c - a test bootstrap for tests/test_faults.c whose LAMBDA_MALLOC/LAMBDA_REALLOC
   fail on the Nth call.
   Environment:
     OOM_AT=<N>              the Nth allocation call (1-based) and every later one return NULL
                             (0 or unset: never fail)
     OOM_ONCE                set: only the Nth call fails, later ones succeed again
     OOM_COUNT_FILE=<path>   at exit, write the number of allocation calls made to <path>
     OOM_MAX_INVOCATIONS=<n> lambda_config.max_invocations
   Events:
     echo:<rest>             body = rest
     fail:<type>:<msg>       lambda_error(res, type, "%s", msg)
     oomnext:<event>         the next allocation call fails (once), then <event> is handled
     anything else           echoed
   Exit status: 0 when lambda_run returns 0, else 1. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long oom_calls, oom_at, oom_next;
static int oom_once;

static int oom_fail_now(void)
{
    oom_calls++;
    if (oom_next && oom_calls == oom_next) return 1;
    if (oom_at == 0) return 0;
    return oom_once ? oom_calls == oom_at : oom_calls >= oom_at;
}

static void *oom_malloc(size_t n)
{
    return oom_fail_now() ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return oom_fail_now() ? NULL : realloc(p, n);
}

#define LAMBDA_MALLOC(n) oom_malloc(n)
#define LAMBDA_REALLOC(p, n) oom_realloc(p, n)
#define LAMBDA_FREE(p) free(p)
#define LAMBDA_RUNTIME_IMPL
#include "../../lambda_runtime.h"

static int handler(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    (void)ctx;
    while (ev.len >= 8 && memcmp(ev.ptr, "oomnext:", 8) == 0) {
        oom_next = oom_calls + 1;
        ev.ptr += 8;
        ev.len -= 8;
    }
    if (ev.len >= 5 && memcmp(ev.ptr, "echo:", 5) == 0) return lambda_response_append(res, ev.ptr + 5, ev.len - 5);
    if (ev.len >= 5 && memcmp(ev.ptr, "fail:", 5) == 0) {
        const char *t = ev.ptr + 5, *colon = (const char *)memchr(t, ':', ev.len - 5);
        size_t tl = colon ? (size_t)(colon - t) : ev.len - 5;
        char *type = (char *)malloc(tl + 1);
        int rc;
        if (type == NULL) return 1;
        memcpy(type, t, tl);
        type[tl] = 0;
        rc = lambda_error(res, type, "%s", colon ? colon + 1 : "");
        free(type);
        return rc;
    }
    return lambda_response_append(res, ev.ptr, ev.len);
}

static unsigned long env_num(const char *name)
{
    const char *v = getenv(name);
    return v ? strtoul(v, NULL, 10) : 0;
}

int main(void)
{
    lambda_config cfg;
    const char *count_file = getenv("OOM_COUNT_FILE");
    int rc;
    (void)oom_malloc; /* the runtime may grow its buffers with LAMBDA_REALLOC only */
    oom_at = env_num("OOM_AT");
    oom_once = getenv("OOM_ONCE") != NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.handler = handler;
    cfg.max_invocations = env_num("OOM_MAX_INVOCATIONS");
    rc = lambda_run(&cfg);
    if (count_file) {
        FILE *f = fopen(count_file, "w");
        if (f) {
            fprintf(f, "%lu\n", oom_calls);
            fclose(f);
        }
    }
    return rc == 0 ? 0 : 1;
}
