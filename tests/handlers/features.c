/* features.c - the test bootstrap for tests/test_features.c: streaming, logging, the shutdown
   hook, multi-concurrency and (as a second mode) the Extensions API client.
   Uses only the public API of lambda_runtime.h. Built four ways by the Makefile: like the
   examples, ASan+UBSan, threaded (-DLAMBDA_THREADS -pthread) and threaded under TSan.

   RUNTIME MODE (no arguments). The event body is a command:
     stream:<n>:<ms>      lambda_stream_begin("text/plain"), one empty write, then n writes of
                          "part<i>\n" with <ms> ms of sleep between them
     streamsize:<n>       lambda_stream_begin("application/octet-stream"), one write of n bytes
                          ('a' + i % 26)
     streamfail           begin, write "a", then lambda_error("Stream.Broken", "it broke")
     streamfail0          begin, then lambda_error("Stream.Early", "nothing written") at once
     streamret            begin, write "a", return 3 without lambda_error
     failbefore           lambda_error("Before.Begin", "no stream") without streaming
     retcode:<n>          return n (a number, e.g. -12 or 7) without lambda_error
     jwmisuse[0]          a JSON writer over the response: begin_object, then an int64 where a
                          key is due, a string (its sticky error), end_object; return the writer's
                          finish code (with "0": return 0, which sends the "{" written so far)
     http                 lambda_stream_http_begin(201, {content-type: text/plain, x-a: b},
                          {"c=1"}), then write "hello"
     httpnull             lambda_stream_http_begin(200, NULL, NULL), then write "hello"
     httpesc              lambda_stream_http_begin(202) with a header value and a cookie that need
                          JSON escaping, then write "x"
     appendafter          begin, write "s", then lambda_response_append "zz", _printf "p7" and
                          _append_json_string "q" (each a chunk, as the header documents), then
                          write "rc=<r1>,<r2>,<r3>"
     log:<level>:<msg>    lambda_log(ctx, level, "%s", msg); body "ok"
     lognull:<level>:<msg>  the same with ctx == NULL
     loglong:<n>[:<pat>]  lambda_log(ctx, INFO) of an n-byte message: <pat> (default "x")
                          repeated, the last copy cut to fit
     settings             body "json=<ctx->log_json> level=<ctx->log_level> worker=<ctx->worker>"
     ctx                  body = ctx->request_id
     sleep:<ms>[:<token>] sleep; body = request id, or "<request id> <token> <worker>" (the id
                          is kept in the scratch area, lambda_scratch, meanwhile)
     gate:<dir>:<token>   create <dir>/in.<token>, wait (at most 5 s) for <dir>/go, log
                          "gate <token>" at INFO, body "<request id> <token> <worker>"
     trace                body = getenv("_X_AMZN_TRACE_ID") or "<unset>"
     trace:set:<v>        setenv("_X_AMZN_TRACE_ID", v), then as trace (user code touching it)
     trace:unset          unsetenv("_X_AMZN_TRACE_ID"), then as trace
     trace:clear          clearenv(), then as trace
     ctxtrace             body = ctx->trace_id
     childterm[:fork]     start a child (exec of /bin/sleep 30, or with ":fork" a fork that only
                          sleeps), send it SIGTERM, wait at most 2 s; body "term=<signal that
                          ended it, or 0 if alive> blocked=<SIGTERM in its SigBlk: 0/1>"
     prebuffer            lambda_response_append "HEADER\n", then lambda_stream_begin and write
                          "body"
     prebufferhttp        append "early;", then lambda_stream_http_begin(200, NULL, NULL), write
                          "late"
     stickyhttp           append past max_response_size (a sticky LAMBDA_E_TOO_BIG), then
                          lambda_stream_http_begin, log "stickyhttp rc=<rc>" and return 0: the
                          invocation must still fail as Function.ResponseSizeTooLarge
     anything else        lambda_error("Features.UnknownCommand")
   Environment: FEATURES_SHUTDOWN_FILE=<path> installs a shutdown hook with lambda_on_shutdown
   (or, with FEATURES_SHUTDOWN_FIELD also set, by setting lambda_config.on_shutdown alone) that
   appends "shutdown\n" to <path> and logs "on_shutdown called" with lambda_log.
   FEATURES_PRETHREAD=1 (threaded builds): start a thread of the program's own before lambda_run.
   Exit status: 0 when lambda_run returns 0, else 1.

   EXTENSION MODE: bootstrap ext <name> <events> <script>
     <events> is the LAMBDA_EXTENSION_* mask in decimal. Registers, prints
     "register rc=<rc> id=<id>" on stdout, then follows <script>:
       reg      stop there
       loop     lambda_extension_next until SHUTDOWN or an error; one line per call:
                "next rc=<rc> type=<t> deadline=<ms> rid=<..> arn=<..> tracing=<..> reason=<..>"
                followed by "json=<whole event>"
       next1    one lambda_extension_next, printed as above
       initerr  lambda_extension_error(ext, 0, "Extension.ConfigInvalid", "bad config %d", 7)
       exiterr  lambda_extension_error(ext, 1, "Extension.Crashed", "exit %s", "now")
                both print "error rc=<rc>"
     Exit status: 0 if every call returned 0, else 2 (3 when register failed). */
#define LAMBDA_RUNTIME_IMPL
#include "../../lambda_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef LAMBDA_THREADS
#include <pthread.h>
#endif

extern char **environ;

static int do_childterm(int fork_only, lambda_response *res);

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* "<prefix>" at the start of the event: returns the rest, or NULL */
static const char *after(lambda_str ev, const char *prefix)
{
    size_t n = strlen(prefix);
    return ev.len >= n && memcmp(ev.ptr, prefix, n) == 0 ? ev.ptr + n : NULL;
}

static int level_of(const char *s, size_t n)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    int i;
    size_t k;
    for (i = 0; i < 6; i++) {
        if (strlen(names[i]) != n) continue;
        for (k = 0; k < n; k++)
            if ((s[k] & ~0x20) != names[i][k]) break;
        if (k == n) return LAMBDA_LOG_TRACE + i;
    }
    return atoi(s);
}

/* a stream/HTTP call that should have succeeded: fail the invocation visibly */
#define MUST(call)                                                                                        \
    do {                                                                                                  \
        int rc_ = (call);                                                                                 \
        if (rc_ != 0) return lambda_error(res, "Features.CallFailed", "%s returned %d", #call, rc_);      \
    } while (0)

static int do_log(const lambda_context *ctx, const char *arg, lambda_response *res)
{
    const char *colon = strchr(arg, ':');
    if (!colon) return lambda_error(res, "Features.BadCommand", "log:<level>:<msg>");
    lambda_log(ctx, level_of(arg, (size_t)(colon - arg)), "%s", colon + 1);
    return lambda_response_append(res, "ok", 2);
}

static int do_loglong(const lambda_context *ctx, const char *arg, lambda_response *res)
{
    char *end = NULL;
    unsigned long n = strtoul(arg, &end, 10);
    const char *pat = (end && *end == ':' && end[1]) ? end + 1 : "x";
    size_t pl = strlen(pat), i;
    char *msg;
    if (n > 10u * 1024 * 1024) return lambda_error(res, "Features.BadCommand", "too long");
    msg = (char *)malloc(n + 1);
    if (!msg) return lambda_error(res, "Features.NoMemory", "malloc");
    for (i = 0; i < n; i++) msg[i] = pat[i % pl];
    msg[n] = '\0';
    lambda_log(ctx, LAMBDA_LOG_INFO, "%s", msg);
    free(msg);
    return lambda_response_append(res, "ok", 2);
}

static int do_gate(const lambda_context *ctx, const char *arg, lambda_response *res)
{
    char dir[512], path[600];
    const char *colon = strchr(arg, ':');
    int fd, i;
    if (!colon || (size_t)(colon - arg) >= sizeof dir) return lambda_error(res, "Features.BadCommand", "gate");
    memcpy(dir, arg, (size_t)(colon - arg));
    dir[colon - arg] = '\0';
    snprintf(path, sizeof path, "%s/in.%s", dir, colon + 1);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s/go", dir);
    for (i = 0; i < 1000 && access(path, F_OK) != 0; i++) sleep_ms(5);
    lambda_log(ctx, LAMBDA_LOG_INFO, "gate %s", colon + 1);
    return lambda_response_printf(res, "%s %s %d", ctx->request_id.ptr, colon + 1, ctx->worker);
}

static int handler(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    const char *a;
    if ((a = after(ev, "stream:")) != NULL) {
        int n = atoi(a), i;
        const char *c = strchr(a, ':');
        long ms = c ? atol(c + 1) : 0;
        char part[32];
        MUST(lambda_stream_begin(res, "text/plain"));
        MUST(lambda_stream_write(res, "", 0));
        for (i = 0; i < n; i++) {
            if (i > 0) sleep_ms(ms);
            snprintf(part, sizeof part, "part%d\n", i);
            MUST(lambda_stream_write(res, part, strlen(part)));
        }
        return 0;
    }
    if ((a = after(ev, "streamsize:")) != NULL) {
        size_t n = (size_t)strtoul(a, NULL, 10), i;
        char *buf = (char *)malloc(n + 1);
        int rc;
        if (!buf) return lambda_error(res, "Features.NoMemory", "malloc");
        for (i = 0; i < n; i++) buf[i] = (char)('a' + i % 26);
        rc = lambda_stream_begin(res, "application/octet-stream");
        if (rc == 0) rc = lambda_stream_write(res, buf, n);
        free(buf);
        MUST(rc);
        return 0;
    }
    if (ev.len == 10 && memcmp(ev.ptr, "streamfail", 10) == 0) {
        MUST(lambda_stream_begin(res, "text/plain"));
        MUST(lambda_stream_write(res, "a", 1));
        return lambda_error(res, "Stream.Broken", "it broke");
    }
    if (ev.len == 11 && memcmp(ev.ptr, "streamfail0", 11) == 0) {
        MUST(lambda_stream_begin(res, "text/plain"));
        return lambda_error(res, "Stream.Early", "nothing written");
    }
    if (ev.len == 9 && memcmp(ev.ptr, "streamret", 9) == 0) {
        MUST(lambda_stream_begin(res, "text/plain"));
        MUST(lambda_stream_write(res, "a", 1));
        return 3;
    }
    if (ev.len == 10 && memcmp(ev.ptr, "failbefore", 10) == 0)
        return lambda_error(res, "Before.Begin", "no stream");
    if ((a = after(ev, "retcode:")) != NULL) return atoi(a);
    if ((a = after(ev, "jwmisuse")) != NULL) {
        lambda_json_writer w;
        int rc;
        lambda_json_writer_init(&w, res);
        lambda_json_write_begin_object(&w);
        lambda_json_write_int64(&w, 1); /* a value where a key is due: the first misuse */
        lambda_json_write_cstring(&w, "x");
        lambda_json_write_end_object(&w);
        rc = lambda_json_writer_finish(&w);
        return strcmp(a, "0") == 0 ? 0 : rc;
    }
    if (ev.len == 4 && memcmp(ev.ptr, "http", 4) == 0) {
        static const char *const headers[] = {"content-type", "text/plain", "x-a", "b", NULL};
        static const char *const cookies[] = {"c=1", NULL};
        MUST(lambda_stream_http_begin(res, 201, headers, cookies));
        MUST(lambda_stream_write(res, "hello", 5));
        return 0;
    }
    if (ev.len == 8 && memcmp(ev.ptr, "httpnull", 8) == 0) {
        MUST(lambda_stream_http_begin(res, 200, NULL, NULL));
        MUST(lambda_stream_write(res, "hello", 5));
        return 0;
    }
    if (ev.len == 7 && memcmp(ev.ptr, "httpesc", 7) == 0) {
        static const char *const headers[] = {"x-q", "a\"b\\c\n\x01\xc3\xa9", NULL};
        static const char *const cookies[] = {"d=\"e\"; Path=/", "f=2", NULL};
        MUST(lambda_stream_http_begin(res, 202, headers, cookies));
        MUST(lambda_stream_write(res, "x", 1));
        return 0;
    }
    if (ev.len == 11 && memcmp(ev.ptr, "appendafter", 11) == 0) {
        char note[64];
        int r1, r2, r3;
        MUST(lambda_stream_begin(res, "text/plain"));
        MUST(lambda_stream_write(res, "s", 1));
        r1 = lambda_response_append(res, "zz", 2);
        r2 = lambda_response_printf(res, "p%d", 7);
        r3 = lambda_response_append_json_string(res, "q", 1);
        snprintf(note, sizeof note, "rc=%d,%d,%d", r1, r2, r3);
        MUST(lambda_stream_write(res, note, strlen(note)));
        return 0;
    }
    if ((a = after(ev, "log:")) != NULL) return do_log(ctx, a, res);
    if ((a = after(ev, "lognull:")) != NULL) return do_log(NULL, a, res);
    if ((a = after(ev, "loglong:")) != NULL) return do_loglong(ctx, a, res);
    if (ev.len == 8 && memcmp(ev.ptr, "settings", 8) == 0)
        return lambda_response_printf(res, "json=%d level=%d worker=%d", ctx->log_json, ctx->log_level, ctx->worker);
    if (ev.len == 3 && memcmp(ev.ptr, "ctx", 3) == 0)
        return lambda_response_append(res, ctx->request_id.ptr, ctx->request_id.len);
    if ((a = after(ev, "sleep:")) != NULL) {
        const char *c = strchr(a, ':');
        /* the id waits in the scratch area: each worker has its own, kept while it sleeps */
        char *id = (char *)lambda_scratch(res, ctx->request_id.len + 1);
        if (id == NULL) return lambda_error_str(res, "Features.NoMemory", "lambda_scratch");
        memcpy(id, ctx->request_id.ptr, ctx->request_id.len + 1);
        sleep_ms(atol(a));
        if (c) return lambda_response_printf(res, "%s %s %d", id, c + 1, ctx->worker);
        return lambda_response_append(res, id, ctx->request_id.len);
    }
    if ((a = after(ev, "gate:")) != NULL) return do_gate(ctx, a, res);
    if (ev.len == 5 && memcmp(ev.ptr, "trace", 5) == 0) {
        const char *t = getenv("_X_AMZN_TRACE_ID");
        return lambda_response_printf(res, "%s", t ? t : "<unset>");
    }
    if ((a = after(ev, "trace:")) != NULL) {
        const char *t;
        if (strncmp(a, "set:", 4) == 0) setenv("_X_AMZN_TRACE_ID", a + 4, 1);
        else if (strcmp(a, "unset") == 0) unsetenv("_X_AMZN_TRACE_ID");
        else if (strcmp(a, "clear") == 0) environ = NULL; /* what clearenv does (not in POSIX) */
        else return lambda_error(res, "Features.BadCommand", "trace:set:<v>|unset|clear");
        t = getenv("_X_AMZN_TRACE_ID");
        return lambda_response_printf(res, "%s", t ? t : "<unset>");
    }
    if (ev.len == 8 && memcmp(ev.ptr, "ctxtrace", 8) == 0)
        return lambda_response_append(res, ctx->trace_id.ptr, ctx->trace_id.len);
    if ((a = after(ev, "childterm")) != NULL) return do_childterm(*a == ':', res);
    if (ev.len == 9 && memcmp(ev.ptr, "prebuffer", 9) == 0) {
        MUST(lambda_response_append(res, "HEADER\n", 7));
        MUST(lambda_stream_begin(res, "text/plain"));
        MUST(lambda_stream_write(res, "body", 4));
        return 0;
    }
    if (ev.len == 13 && memcmp(ev.ptr, "prebufferhttp", 13) == 0) {
        MUST(lambda_response_append(res, "early;", 6));
        MUST(lambda_stream_http_begin(res, 200, NULL, NULL));
        MUST(lambda_stream_write(res, "late", 4));
        return 0;
    }
    if (ev.len == 10 && memcmp(ev.ptr, "stickyhttp", 10) == 0) {
        static char big[65536];
        int rc;
        size_t i;
        for (i = 0; i < 1000 && lambda_response_append(res, big, sizeof big) == 0; i++) {}
        rc = lambda_stream_http_begin(res, 200, NULL, NULL);
        lambda_log(ctx, LAMBDA_LOG_INFO, "stickyhttp rc=%d", rc);
        return 0; /* the sticky LAMBDA_E_TOO_BIG decides */
    }
    return lambda_error(res, "Features.UnknownCommand", "unknown command");
}

/* A child that SIGTERM should end: exec'd (the signal mask and dispositions the program had
   before the runtime), or forked only (it inherits the runtime's handler). */
static int do_childterm(int fork_only, lambda_response *res)
{
    char path[64], line[256];
    int status = 0, i, blocked = -1, term = 0;
    FILE *f;
    pid_t pid = fork();
    if (pid < 0) return lambda_error(res, "Features.Fork", "fork failed");
    if (pid == 0) {
        if (!fork_only) execl("/bin/sleep", "sleep", "30", (char *)NULL);
        for (i = 0; i < 3000; i++) sleep_ms(10);
        _exit(7);
    }
    sleep_ms(fork_only ? 20 : 100); /* exec'd and running */
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "SigBlk:", 7) == 0) blocked = (int)((strtoull(line + 7, NULL, 16) >> (SIGTERM - 1)) & 1);
        fclose(f);
    }
    kill(pid, SIGTERM);
    for (i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            term = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
            break;
        }
        sleep_ms(10);
    }
    if (i == 200) { /* still alive: end it, and say so */
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    return lambda_response_printf(res, "term=%d blocked=%d", term, blocked);
}

#ifdef LAMBDA_THREADS
static void *idle_thread(void *arg)
{
    (void)arg;
    for (;;) sleep_ms(1000);
    return NULL;
}
#endif

static void on_shutdown(void *user)
{
    const char *path = (const char *)user;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, "shutdown\n", 9);
        (void)w;
        close(fd);
    }
    lambda_log(NULL, LAMBDA_LOG_INFO, "on_shutdown called");
}

/* ---- extension mode ---- */

static void print_event(int rc, const lambda_extension_event *ev)
{
    if (rc != 0) {
        printf("next rc=%d\n", rc);
    } else {
        printf("next rc=0 type=%d deadline=%lld rid=%s arn=%s tracing=%s reason=%s\n", ev->type,
               (long long)ev->deadline_ms, ev->request_id.ptr ? ev->request_id.ptr : "",
               ev->invoked_function_arn.ptr ? ev->invoked_function_arn.ptr : "",
               ev->tracing.ptr ? ev->tracing.ptr : "",
               ev->shutdown_reason.ptr ? ev->shutdown_reason.ptr : "");
        printf("json=%.*s\n", (int)ev->json.len, ev->json.ptr ? ev->json.ptr : "");
    }
    fflush(stdout);
}

static int extension_mode(const char *name, int events, const char *script)
{
    lambda_extension *ext = NULL;
    lambda_extension_event ev;
    int rc, status = 0, i;
    rc = lambda_extension_register(&ext, name, events);
    printf("register rc=%d id=%s\n", rc, rc == 0 && ext ? lambda_extension_id(ext) : "");
    fflush(stdout);
    if (rc != 0) return 3;
    if (strcmp(script, "loop") == 0) {
        for (i = 0; i < 1000; i++) {
            memset(&ev, 0, sizeof ev);
            rc = lambda_extension_next(ext, &ev);
            print_event(rc, &ev);
            if (rc != 0) {
                status = 2;
                break;
            }
            if (ev.type == LAMBDA_EXTENSION_SHUTDOWN) break;
        }
    } else if (strcmp(script, "next1") == 0) {
        memset(&ev, 0, sizeof ev);
        rc = lambda_extension_next(ext, &ev);
        print_event(rc, &ev);
        if (rc != 0) status = 2;
    } else if (strcmp(script, "initerr") == 0 || strcmp(script, "exiterr") == 0) {
        if (script[0] == 'i') rc = lambda_extension_error(ext, 0, "Extension.ConfigInvalid", "bad config %d", 7);
        else rc = lambda_extension_error(ext, 1, "Extension.Crashed", "exit %s", "now");
        printf("error rc=%d\n", rc);
        if (rc != 0) status = 2;
    }
    fflush(stdout);
    lambda_extension_free(ext);
    return status;
}

int main(int argc, char **argv)
{
    lambda_config cfg;
    const char *sd = getenv("FEATURES_SHUTDOWN_FILE");
    if (argc >= 5 && strcmp(argv[1], "ext") == 0) return extension_mode(argv[2], atoi(argv[3]), argv[4]);
    memset(&cfg, 0, sizeof cfg);
    cfg.handler = handler;
#ifdef LAMBDA_THREADS
    if (getenv("FEATURES_PRETHREAD")) {
        pthread_t t;
        if (pthread_create(&t, NULL, idle_thread, NULL) != 0) return 2;
        pthread_detach(t);
    }
#endif
    if (sd && *sd) {
        cfg.user = (void *)sd;
        if (getenv("FEATURES_SHUTDOWN_FIELD")) cfg.on_shutdown = on_shutdown; /* the field alone */
        else lambda_on_shutdown(&cfg, on_shutdown);
    }
    return lambda_run(&cfg) == 0 ? 0 : 1;
}
