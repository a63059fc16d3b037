/* test_emu.c - drives the local emulator (build/lambda-emu) against real bootstraps.

   Usage: build/test_emu <lambda-emu> <dir>
     <dir>/hello/bootstrap, <dir>/probe/bootstrap, <dir>/rawstream/bootstrap must exist.
   Also: build/test_emu --bad-runtime   (used as a bootstrap by one test: sends malformed requests
   to the emulator, records the status codes in $EMU_BAD_OUT, then serves one event properly).

   Every child runs under a bounded wait and is killed (by pid) if it overruns; no assertion
   depends on timing. Prints "N passed, N failed" last; exits non-zero on failure. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt.h"

static const char *emu_path;
static char hello[4096], probe[4096], rawstream[4096], self_exe[4096], tmpdir[256];

/* ------------------------------------------------------------------ helpers */

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    size_t cap = 1 << 16, n = 0, r;
    if (len) *len = 0;
    b = malloc(cap + 1);
    if (!b) return NULL;
    b[0] = 0;
    if (!f) return b;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) break;
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

static void spit(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(data, f);
    fclose(f);
}

static size_t count(const char *hay, const char *needle)
{
    size_t c = 0, n = strlen(needle);
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        c++;
        p += n;
    }
    return c;
}

/* The value after "key=" on its own line in a probe ctx dump (static buffer). */
static const char *ctx_field(const char *dump, const char *key)
{
    static char v[1024];
    char pat[128];
    const char *p;
    size_t n;
    snprintf(pat, sizeof pat, "%s=", key);
    for (p = dump; (p = strstr(p, pat)) != NULL; p++)
        if (p == dump || p[-1] == '\n') break;
    if (!p) return "";
    p += strlen(pat);
    n = strcspn(p, "\n");
    if (n >= sizeof v) n = sizeof v - 1;
    memcpy(v, p, n);
    v[n] = 0;
    return v;
}

static int is_uuid4(const char *s)
{
    int i;
    if (strlen(s) != 36) return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!strchr("0123456789abcdef", s[i])) {
            return 0;
        }
    }
    return s[14] == '4';
}

/* Starts the emulator: argv (NULL-terminated, without the program), extra env "K=V" (NULL-
   terminated or NULL), stdin from in_path (or /dev/null), stdout/stderr to files. */
static pid_t spawn_emu(const char *const *args, const char *const *env, const char *in_path, const char *out_path,
                       const char *err_path)
{
    const char *argv[64];
    int n = 0;
    pid_t pid;
    argv[n++] = emu_path;
    while (*args && n < 62) argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        while (env && *env) putenv((char *)*env++);
        execv(emu_path, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to limit_ms; kills (by pid) on overrun. Returns the exit status, or -1. */
static int wait_emu(pid_t pid, long limit_ms)
{
    int status = 0;
    long waited;
    for (waited = 0; waited < limit_ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR) return -1;
        sleep_ms(10);
    }
    printf("  (emulator pid %ld overran %ld ms; killed)\n", (long)pid, limit_ms);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

typedef struct run {
    int status;
    char *out, *err;
    size_t out_len;
} run;

static void run_free(run *r)
{
    free(r->out);
    free(r->err);
}

/* Runs the emulator to completion (bounded). */
static run emu_run(const char *const *args, const char *const *env, const char *stdin_data)
{
    run r;
    char in[512], out[512], err[512];
    pid_t pid;
    snprintf(in, sizeof in, "%s/stdin", tmpdir);
    snprintf(out, sizeof out, "%s/stdout", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    spit(in, stdin_data ? stdin_data : "");
    pid = spawn_emu(args, env, in, out, err);
    r.status = pid > 0 ? wait_emu(pid, 30000) : -1;
    r.out = slurp(out, &r.out_len);
    r.err = slurp(err, NULL);
    return r;
}

/* Starts the emulator with --listen 127.0.0.1:0 in the background; returns the invoke port. */
static int emu_listen(const char *bootstrap, const char *const *extra, pid_t *pid)
{
    const char *args[32];
    char err[512], out[512];
    int n = 0, waited;
    args[n++] = "--listen";
    args[n++] = "127.0.0.1:0";
    while (extra && *extra && n < 28) args[n++] = *extra++;
    args[n++] = "--";
    args[n++] = bootstrap;
    args[n] = NULL;
    snprintf(err, sizeof err, "%s/listen.err", tmpdir);
    snprintf(out, sizeof out, "%s/listen.out", tmpdir);
    unlink(err); /* never read a previous run's port */
    *pid = spawn_emu(args, NULL, NULL, out, err);
    for (waited = 0; waited < 5000; waited += 10) {
        char *e = slurp(err, NULL);
        const char *p = e ? strstr(e, "http://127.0.0.1:") : NULL;
        int port = p ? atoi(p + 17) : 0;
        free(e);
        if (port > 0) return port;
        sleep_ms(10);
    }
    return 0;
}

static void emu_stop(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    (void)wait_emu(pid, 5000);
}

static int tcp_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads into buf until `until` appears (if non-NULL) or the peer closes; bounded by limit_ms. */
static size_t recv_until(int fd, char *buf, size_t cap, size_t have, const char *until, long limit_ms)
{
    long waited = 0;
    while (have + 1 < cap && waited < limit_ms) {
        struct pollfd p;
        ssize_t r;
        buf[have] = 0;
        if (until && strstr(buf, until)) break;
        p.fd = fd;
        p.events = POLLIN;
        if (poll(&p, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        r = recv(fd, buf + have, cap - 1 - have, 0);
        if (r <= 0) break;
        have += (size_t)r;
    }
    buf[have] = 0;
    return have;
}

/* One raw HTTP exchange with the invoke endpoint: sends req, reads until close. */
static char *http(int port, const char *req)
{
    static char buf[1 << 16];
    int fd = tcp_connect(port);
    if (fd < 0) return strcpy(buf, "(connect failed)");
    send_all(fd, req, strlen(req));
    recv_until(fd, buf, sizeof buf, 0, NULL, 10000);
    close(fd);
    return buf;
}

/* ------------------------------------------------------------------ --bad-runtime mode */

/* Sends raw bytes on a fresh connection; returns the status code of the answer (0 if none). */
static int bad_send(int port, const char *raw, size_t len)
{
    char buf[4096];
    int fd = tcp_connect(port), st = 0;
    if (fd < 0) return 0;
    send_all(fd, raw, len);
    recv_until(fd, buf, sizeof buf, 0, "\r\n\r\n", 3000);
    if (strncmp(buf, "HTTP/1.1 ", 9) == 0) st = atoi(buf + 9);
    close(fd);
    return st;
}

static int bad_runtime(void)
{
    static const struct { const char *raw; size_t len; } cases[] = {
#define RAW(s) { s, sizeof(s) - 1 }
        RAW("GARBAGE\r\n\r\n"),                                                           /* 400: no request line */
        RAW("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: zz\r\n\r\n"), /* 400 */
        RAW("POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), /* 400 */
        RAW("POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), /* 400 id */
        RAW("POST /2018-06-01/runtime/invocation/%zz/error HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),   /* 400 id */
        RAW("GET /2018-06-01/runtime/whatever HTTP/1.1\r\n\r\n"),                          /* 404 */
        RAW("POST /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), /* 405 */
        RAW("POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"), /* 413 */
        RAW("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nA\0B: c\r\n\r\n"),           /* 400: NUL */
#undef RAW
    };
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API"), *outp = getenv("EMU_BAD_OUT");
    int port = api && strchr(api, ':') ? atoi(strchr(api, ':') + 1) : 0;
    FILE *out = outp ? fopen(outp, "w") : NULL;
    char buf[8192], id[128], req[512];
    size_t i;
    int fd;
    if (!port || !out) return 1;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) fprintf(out, "%d\n", bad_send(port, cases[i].raw, cases[i].len));
    fclose(out);
    /* then behave: one proper /next and response, so the emulator has something to print */
    fd = tcp_connect(port);
    if (fd < 0) return 1;
    {
        static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
        send_all(fd, next, sizeof next - 1);
    }
    recv_until(fd, buf, sizeof buf, 0, "\r\n\r\n", 10000);
    {
        const char *p = strstr(buf, "Lambda-Runtime-Aws-Request-Id: ");
        size_t n;
        if (!p) return 1;
        p += 31;
        n = strcspn(p, "\r");
        if (n >= sizeof id) return 1;
        memcpy(id, p, n);
        id[n] = 0;
    }
    snprintf(req, sizeof req,
             "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nsurvived", id);
    send_all(fd, req, strlen(req));
    recv_until(fd, buf, sizeof buf, 0, "\r\n\r\n", 5000);
    close(fd);
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_cli_events_hello(void)
{
    const char *args[] = {"-e", "{\"name\":\"World\"}", "-e", "{\"nope\":1}", "--", hello, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(count(r.out, "\n") == 2);
    LT_CHECK(strstr(r.out, "\"errorType\":\"InvalidEvent\"") != NULL);
    LT_CHECK(strncmp(r.out, "{\"errorMessage\"", 15) != 0); /* the first one succeeded */
    LT_CHECK(count(r.err, "REPORT RequestId: ") == 2);
    LT_CHECK(count(r.err, "Init Duration: ") == 1); /* only the first invocation is cold */
    LT_CHECK(strstr(r.err, "Max Memory Used: ") != NULL && strstr(r.err, "Billed Duration: ") != NULL);
    LT_CHECK(strstr(r.err, "ErrorType: InvalidEvent") != NULL);
    run_free(&r);
}

static void test_file_events(void)
{
    char a[512], b[512];
    const char *args[] = {"-q", "-f", a, "-f", b, "--", probe, NULL};
    run r;
    snprintf(a, sizeof a, "%s/a.json", tmpdir);
    snprintf(b, sizeof b, "%s/b.json", tmpdir);
    spit(a, "echo:from-a");
    spit(b, "echo:from-b");
    r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "from-a\nfrom-b\n") == 0);
    LT_CHECK(count(r.err, "REPORT") == 0); /* -q */
    run_free(&r);
}

static void test_stdin_events(void)
{
    const char *args[] = {"--", probe, NULL};
    run r = emu_run(args, NULL, "echo:1\necho:2\n\necho:3");
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "1\n2\n3\n") == 0);
    LT_CHECK(count(r.err, "REPORT RequestId: ") == 3);
    run_free(&r);
}

static void test_context_and_env(void)
{
    const char *args[] = {"-q", "-m", "256", "--name", "fn1", "--tenant-id", "t-42", "--region", "eu-west-1",
                          "-e", "ctx", "-e", "ctx", "--", probe, NULL};
    run r = emu_run(args, NULL, NULL);
    char id1[64], *second;
    LT_CHECK(r.status == 0);
    snprintf(id1, sizeof id1, "%s", ctx_field(r.out, "request_id"));
    LT_CHECK(is_uuid4(id1));
    LT_CHECK(is_uuid4(ctx_field(r.out, "invocation_id")));
    LT_CHECK(strcmp(ctx_field(r.out, "invocation_id"), id1) != 0);
    LT_CHECK(strncmp(ctx_field(r.out, "trace_id"), "Root=1-", 7) == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "tenant_id"), "t-42") == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "function_name"), "fn1") == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "memory_limit_mb"), "256") == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "invoked_function_arn"), "arn:aws:lambda:eu-west-1:012345678912:function:fn1") == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "log_group_name"), "/aws/lambda/fn1") == 0);
    LT_CHECK(strcmp(ctx_field(r.out, "remaining_ms_positive"), "1") == 0);
    second = strstr(r.out + 1, "request_id=");
    LT_CHECK(second && strcmp(ctx_field(second, "request_id"), id1) != 0); /* fresh ids */
    run_free(&r);
}

static void test_invoke_endpoint(void)
{
    pid_t pid = 0;
    int port = emu_listen(probe, NULL, &pid);
    LT_CHECK(port > 0);
    if (port > 0) {
        /* base64 of {"custom":{"k":"v"}} */
        char *resp = http(port, "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                                "X-Amzn-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n"
                                "X-Amz-Client-Context: eyJjdXN0b20iOnsiayI6InYifX0=\r\n"
                                "X-Amz-Tenant-Id: tenant-x\r\n"
                                "Content-Length: 3\r\n\r\nctx");
        const char *body = strstr(resp, "\r\n\r\n");
        LT_CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0);
        LT_CHECK(body != NULL);
        if (body) {
            LT_CHECK(strcmp(ctx_field(body + 4, "trace_id"),
                            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1") == 0);
            LT_CHECK(strcmp(ctx_field(body + 4, "client_context"), "{\"custom\":{\"k\":\"v\"}}") == 0);
            LT_CHECK(strcmp(ctx_field(body + 4, "tenant_id"), "tenant-x") == 0);
            LT_CHECK(is_uuid4(ctx_field(body + 4, "invocation_id")));
        }
        resp = http(port, "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 14\r\n\r\nfail:My.Err:no");
        LT_CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0);
        LT_CHECK(strstr(resp, "X-Amz-Function-Error: Unhandled") != NULL);
        LT_CHECK(strstr(resp, "\"errorType\":\"My.Err\"") != NULL);
        resp = http(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        LT_CHECK(strncmp(resp, "HTTP/1.1 404", 12) == 0);
        resp = http(port, "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                          "X-Amz-Client-Context: !!notbase64\r\nContent-Length: 2\r\n\r\n{}");
        LT_CHECK(strncmp(resp, "HTTP/1.1 400", 12) == 0);
        resp = http(port, "this is not http\r\n\r\n");
        LT_CHECK(strncmp(resp, "HTTP/1.1 400", 12) == 0);
        resp = http(port, "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 10\r\n\r\necho:still");
        LT_CHECK(strstr(resp, "\r\n\r\nstill") != NULL); /* it survived the bad requests */
    }
    emu_stop(pid);
}

static void test_timeout_then_restart(void)
{
    const char *args[] = {"-t", "0.5", "-e", "sleep:5000", "-e", "echo:after", "--", probe, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 1);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Sandbox.Timedout\"") != NULL);
    LT_CHECK(strstr(r.out, "Task timed out after 0.50 seconds") != NULL);
    LT_CHECK(strstr(r.out, "\nafter\n") != NULL);
    LT_CHECK(strstr(r.err, "Status: timeout") != NULL);
    LT_CHECK(count(r.err, "Init Duration: ") == 2); /* the second event ran on a fresh runtime */
    run_free(&r);
}

static void test_crash_then_restart(void)
{
    const char *args[] = {"-e", "exit:3", "-e", "echo:after", "--", probe, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 1);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Runtime.ExitError\"") != NULL);
    LT_CHECK(strstr(r.out, "exit status 3") != NULL);
    LT_CHECK(strstr(r.out, "\nafter\n") != NULL);
    LT_CHECK(strstr(r.err, "Error Type: Runtime.ExitError") != NULL);
    run_free(&r);
}

static void test_init_error(void)
{
    const char *args[] = {"-e", "echo:x", "--", probe, NULL};
    const char *env[] = {"PROBE_INIT_FAIL=1", NULL};
    run r = emu_run(args, env, NULL);
    LT_CHECK(r.status == 3);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Runtime.ConfigInvalid\"") != NULL);
    LT_CHECK(strstr(r.err, "INIT_REPORT") != NULL && strstr(r.err, "Status: error") != NULL);
    run_free(&r);
}

static void test_response_too_large(void)
{
    const char *args[] = {"-q", "-e", "big:7000000", "-e", "big:6291556", "-e", "echo:after", "--", probe, NULL};
    const char *env[] = {"PROBE_MAX_RESPONSE=8000000", NULL};
    run r = emu_run(args, env, NULL);
    const char *second;
    LT_CHECK(r.status == 1);
    LT_CHECK(strncmp(r.out, "{\"errorMessage\"", 15) == 0);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Function.ResponseSizeTooLarge\"") != NULL);
    LT_CHECK(strstr(r.err, "413") != NULL); /* the runtime saw the 413 (and logged it) */
    second = strchr(r.out, '\n');
    /* exactly at the limit is fine: 6291556 x's on one line */
    LT_CHECK(second && strspn(second + 1, "x") == 6291556 && second[1 + 6291556] == '\n');
    LT_CHECK(r.out_len > 12 && strcmp(r.out + r.out_len - 6, "after\n") == 0);
    run_free(&r);
}

static void test_stream_cli(void)
{
    const char *args[] = {"-e", "x", "-e", "fail", "--", rawstream, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "one,two,three\none,two,three\n"
                           "{\"errorMessage\":\"stream broke\",\"errorType\":\"Function.StreamFailed\"}\n") == 0);
    LT_CHECK(strstr(r.err, "ErrorType: Function.StreamFailed") != NULL);
    run_free(&r);
}

/* The stream must reach the caller while the runtime is still writing it: rawstream waits for
   the gate file (which we create only after we have received "one,") before the second piece. */
static void test_stream_forwarded_early(void)
{
    char gate[512], envarg[600], buf[8192];
    const char *extra[] = {"--env", envarg, NULL};
    pid_t pid = 0;
    int port, fd;
    size_t n;
    snprintf(gate, sizeof gate, "%s/gate", tmpdir);
    unlink(gate);
    snprintf(envarg, sizeof envarg, "RAWSTREAM_GATE=%s", gate);
    port = emu_listen(rawstream, extra, &pid);
    LT_CHECK(port > 0);
    fd = port > 0 ? tcp_connect(port) : -1;
    LT_CHECK(fd >= 0);
    if (fd >= 0) {
        static const char req[] = "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 4\r\n\r\nfail";
        send_all(fd, req, sizeof req - 1);
        n = recv_until(fd, buf, sizeof buf, 0, "one,", 10000);
        LT_CHECK(strstr(buf, "one,") != NULL);
        LT_CHECK(strstr(buf, "Transfer-Encoding: chunked") != NULL);
        spit(gate, "go");
        n = recv_until(fd, buf, sizeof buf, n, NULL, 10000);
        LT_CHECK(strstr(buf, "4\r\ntwo,\r\n") != NULL); /* not "two(late)," */
        LT_CHECK(strstr(buf, "5\r\nthree\r\n0\r\n") != NULL);
        LT_CHECK(strstr(buf, "Lambda-Runtime-Function-Error-Type: Function.StreamFailed\r\n") != NULL);
        LT_CHECK(strstr(buf, "Lambda-Runtime-Function-Error-Body: eyJ") != NULL);
        (void)n;
        close(fd);
    }
    emu_stop(pid);
    unlink(gate);
}

static void test_malformed_runtime_requests(void)
{
    char outp[512], envv[600];
    const char *args[] = {"-e", "{}", "--", self_exe, "--bad-runtime", NULL};
    const char *env[] = {envv, NULL};
    static const int want[] = {400, 400, 400, 400, 400, 404, 405, 413, 400};
    run r;
    char *got;
    const char *p;
    size_t i;
    snprintf(outp, sizeof outp, "%s/bad.out", tmpdir);
    snprintf(envv, sizeof envv, "EMU_BAD_OUT=%s", outp);
    r = emu_run(args, env, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "survived\n") == 0);
    got = slurp(outp, NULL);
    p = got;
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        int st = p && *p ? atoi(p) : -1;
        if (st != want[i]) printf("  case %lu: got %d, want %d\n", (unsigned long)i, st, want[i]);
        LT_CHECK(st == want[i]);
        p = p ? strchr(p, '\n') : NULL;
        if (p) p++;
    }
    LT_CHECK(strstr(r.err, "malformed HTTP request from the runtime") != NULL);
    LT_CHECK(strstr(r.err, "unknown request id") != NULL);
    free(got);
    run_free(&r);
}

static void test_usage_errors(void)
{
    const char *a1[] = {"-e", "x", NULL};
    const char *a2[] = {"--bogus", "--", probe, NULL};
    run r = emu_run(a1, NULL, NULL);
    LT_CHECK(r.status == 2);
    run_free(&r);
    r = emu_run(a2, NULL, NULL);
    LT_CHECK(r.status == 2);
    run_free(&r);
}

int main(int argc, char **argv)
{
    const char *dir;
    ssize_t n;
    if (argc == 2 && strcmp(argv[1], "--bad-runtime") == 0) return bad_runtime();
    if (argc != 3) {
        fprintf(stderr, "usage: %s <lambda-emu> <dir with hello/, probe/, rawstream/ bootstraps>\n", argv[0]);
        return 2;
    }
    emu_path = argv[1];
    dir = argv[2];
    snprintf(hello, sizeof hello, "%s/hello/bootstrap", dir);
    snprintf(probe, sizeof probe, "%s/probe/bootstrap", dir);
    snprintf(rawstream, sizeof rawstream, "%s/rawstream/bootstrap", dir);
    n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) return 2;
    self_exe[n] = 0;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_emu.XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    signal(SIGPIPE, SIG_IGN);

    LT_RUN(test_cli_events_hello);
    LT_RUN(test_file_events);
    LT_RUN(test_stdin_events);
    LT_RUN(test_context_and_env);
    LT_RUN(test_invoke_endpoint);
    LT_RUN(test_timeout_then_restart);
    LT_RUN(test_crash_then_restart);
    LT_RUN(test_init_error);
    LT_RUN(test_response_too_large);
    LT_RUN(test_stream_cli);
    LT_RUN(test_stream_forwarded_early);
    LT_RUN(test_malformed_runtime_requests);
    LT_RUN(test_usage_errors);

    {
        static const char *files[] = {"stdin", "stdout", "stderr", "listen.err", "listen.out", "a.json", "b.json",
                                      "bad.out", "gate"};
        size_t i;
        char p[600];
        for (i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
            unlink(p);
        }
        rmdir(tmpdir);
    }
    return LT_REPORT();
}
