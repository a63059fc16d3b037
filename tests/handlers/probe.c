/* probe.c - a test bootstrap for the end-to-end suite (tests/test_e2e.c).
   Uses only the public API of lambda_runtime.h, with counting allocator hooks.

   Environment:
     PROBE_INIT_FAIL        set: the init hook fails with Runtime.ConfigInvalid
     PROBE_MAX_EVENT        bytes -> lambda_config.max_event_size
     PROBE_MAX_RESPONSE     bytes -> lambda_config.max_response_size
     PROBE_MAX_INVOCATIONS  n     -> lambda_config.max_invocations

   The event body is a command:
     echo:<rest>        body = rest (binary-safe)
     ctx                one key=value line per context field
     fail:<type>:<msg>  lambda_error(res, type, "%s", msg)
     big:<N>            N bytes of 'x' (append errors ignored: they are sticky)
     ctype:<v>          content type v, body "ok"
     ret:<n>            return n without calling lambda_error
     allocs             decimal count of LAMBDA_MALLOC + LAMBDA_REALLOC calls so far
     sleep:<ms>         sleep, body "slept"
     exit:<code>        _exit(code)
     len | len:<any>    decimal length of the whole event (counts NULs)
     anything else      echo the whole event
   Exit status: 0 when lambda_run returns 0, else 1. */

/* The allocator hooks need <stdlib.h> before the header, so ask for POSIX here (as the header
   itself would) when building in strict ISO mode. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long probe_alloc_calls;

static void *probe_malloc(size_t n)
{
    probe_alloc_calls++;
    return malloc(n);
}

static void *probe_realloc(void *p, size_t n)
{
    probe_alloc_calls++;
    return realloc(p, n);
}

static void probe_free(void *p)
{
    free(p);
}

#define LAMBDA_MALLOC(n) probe_malloc(n)
#define LAMBDA_REALLOC(p, n) probe_realloc(p, n)
#define LAMBDA_FREE(p) probe_free(p)
#define LAMBDA_RUNTIME_IMPL
#include "../../lambda_runtime.h"

static int starts(lambda_str ev, const char *prefix)
{
    size_t n = strlen(prefix);
    return ev.len >= n && memcmp(ev.ptr, prefix, n) == 0;
}

static int is(lambda_str ev, const char *word)
{
    return ev.len == strlen(word) && memcmp(ev.ptr, word, ev.len) == 0;
}

/* decimal prefix of s (stops at the first non-digit) */
static unsigned long num(const char *p, size_t len)
{
    unsigned long v = 0;
    size_t i;
    for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) v = v * 10 + (unsigned long)(p[i] - '0');
    return v;
}

static void put_str(lambda_response *res, const char *key, lambda_str v)
{
    lambda_response_printf(res, "%s=", key);
    lambda_response_append(res, v.ptr, v.len);
    lambda_response_append(res, "\n", 1);
}

static int handler(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    if (starts(ev, "echo:"))
        return lambda_response_append(res, ev.ptr + 5, ev.len - 5);
    if (is(ev, "ctx")) {
        const char *tr = getenv("_X_AMZN_TRACE_ID");
        put_str(res, "request_id", ctx->request_id);
        lambda_response_printf(res, "deadline_ms=%lld\n", (long long)ctx->deadline_ms);
        put_str(res, "invoked_function_arn", ctx->invoked_function_arn);
        put_str(res, "trace_id", ctx->trace_id);
        put_str(res, "client_context", ctx->client_context);
        put_str(res, "cognito_identity", ctx->cognito_identity);
        put_str(res, "tenant_id", ctx->tenant_id);
        put_str(res, "invocation_id", ctx->invocation_id);
        put_str(res, "content_type", ctx->content_type);
        lambda_response_printf(res, "function_name=%s\n", ctx->function_name);
        lambda_response_printf(res, "function_version=%s\n", ctx->function_version);
        lambda_response_printf(res, "log_group_name=%s\n", ctx->log_group_name);
        lambda_response_printf(res, "log_stream_name=%s\n", ctx->log_stream_name);
        lambda_response_printf(res, "memory_limit_mb=%d\n", ctx->memory_limit_mb);
        lambda_response_printf(res, "env__X_AMZN_TRACE_ID=%s\n", tr ? tr : "<unset>");
        return lambda_response_printf(res, "remaining_ms_positive=%d\n", lambda_remaining_ms(ctx) > 0 ? 1 : 0) < 0;
    }
    if (starts(ev, "fail:")) {
        char type[256];
        const char *t = ev.ptr + 5, *colon = (const char *)memchr(t, ':', ev.len - 5);
        size_t tl = colon ? (size_t)(colon - t) : ev.len - 5;
        if (tl >= sizeof type) tl = sizeof type - 1;
        memcpy(type, t, tl);
        type[tl] = 0;
        return lambda_error(res, type, "%s", colon ? colon + 1 : "");
    }
    if (starts(ev, "big:")) {
        char block[4096];
        unsigned long n = num(ev.ptr + 4, ev.len - 4);
        memset(block, 'x', sizeof block);
        while (n > 0) {
            size_t k = n < sizeof block ? (size_t)n : sizeof block;
            lambda_response_append(res, block, k); /* errors are sticky; deliberately unchecked */
            n -= k;
        }
        return 0;
    }
    if (starts(ev, "ctype:")) {
        lambda_response_set_content_type(res, ev.ptr + 6);
        return lambda_response_append(res, "ok", 2);
    }
    if (starts(ev, "ret:"))
        return (int)num(ev.ptr + 4, ev.len - 4);
    if (is(ev, "allocs"))
        return lambda_response_printf(res, "%lu", probe_alloc_calls) < 0;
    if (starts(ev, "sleep:")) {
        unsigned long ms = num(ev.ptr + 6, ev.len - 6);
        struct timespec ts;
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        return lambda_response_append(res, "slept", 5);
    }
    if (starts(ev, "exit:"))
        _exit((int)num(ev.ptr + 5, ev.len - 5));
    if (is(ev, "len") || starts(ev, "len:"))
        return lambda_response_printf(res, "%lu", (unsigned long)ev.len) < 0;
    return lambda_response_append(res, ev.ptr, ev.len);
}

static int init(void *user, lambda_response *err)
{
    (void)user;
    if (getenv("PROBE_INIT_FAIL")) return lambda_error(err, "Runtime.ConfigInvalid", "PROBE_INIT_FAIL is set");
    return 0;
}

static size_t env_size(const char *name)
{
    const char *v = getenv(name);
    return v ? (size_t)strtoul(v, NULL, 10) : 0;
}

int main(void)
{
    lambda_config cfg;
    (void)probe_malloc; /* the runtime may grow its buffers with LAMBDA_REALLOC only */
    memset(&cfg, 0, sizeof cfg);
    cfg.handler = handler;
    cfg.init = init;
    cfg.max_event_size = env_size("PROBE_MAX_EVENT");
    cfg.max_response_size = env_size("PROBE_MAX_RESPONSE");
    cfg.max_invocations = (unsigned long)env_size("PROBE_MAX_INVOCATIONS");
    return lambda_run(&cfg) == 0 ? 0 : 1;
}
