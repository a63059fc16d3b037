/* sigprobe.c - a test bootstrap for tests/test_faults.c: installs a no-op SIGUSR1 handler
   WITHOUT SA_RESTART, so that every blocking system call the runtime makes while the test
   bombards it with SIGUSR1 can fail with EINTR (or return short), then serves events:
     sigs       decimal count of SIGUSR1 deliveries so far
     big:<N>    N bytes of 'y' (to make the POST block in sendmsg)
     anything   echoed back
   Exit status: 0 when lambda_run returns 0, else 1. Public API only. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#define LAMBDA_RUNTIME_IMPL
#include "../../lambda_runtime.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t sig_count;

static void on_usr1(int sig)
{
    (void)sig;
    if (sig_count < 1000000000) sig_count++;
}

static int handler(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    (void)ctx;
    if (ev.len == 4 && memcmp(ev.ptr, "sigs", 4) == 0)
        return lambda_response_printf(res, "%ld", (long)sig_count);
    if (ev.len > 4 && memcmp(ev.ptr, "big:", 4) == 0) {
        char block[4096];
        unsigned long n = strtoul(ev.ptr + 4, NULL, 10);
        memset(block, 'y', sizeof block);
        while (n > 0) {
            size_t k = n < sizeof block ? (size_t)n : sizeof block;
            if (lambda_response_append(res, block, k) != 0) break;
            n -= k;
        }
        return 0;
    }
    return lambda_response_append(res, ev.ptr, ev.len);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocked calls return EINTR */
    if (sigaction(SIGUSR1, &sa, NULL) != 0) return 2;
    return lambda_start(handler);
}
