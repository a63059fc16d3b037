/* test_emu.c - drives the local emulator (build/lambda-emu) against real bootstraps.

   Usage: build/test_emu <lambda-emu> <dir>
     <dir>/hello/bootstrap, <dir>/baseline/bootstrap, <dir>/probe/bootstrap, <dir>/rawstream/bootstrap,
     <dir>/extension/bootstrap (examples/extension), <dir>/features/bootstrap and
     <dir>/features-mt/bootstrap (tests/handlers/features.c, the latter with LAMBDA_THREADS) must exist.
   This program also serves as a bootstrap in three modes:
     --bad-runtime   sends malformed requests to the emulator, records the status codes in
                     $EMU_BAD_OUT, then serves one event properly
     --term-runtime  a raw-socket runtime that echoes events and, on SIGTERM, writes "sigterm" to
                     $EMU_TERM_OUT and exits 0
     --ext-runtime   tries the Extensions API's error cases (results in $EMU_EXT_OUT), then
                     serves one event
     --cpus-runtime  appends its Cpus_allowed_list to $EMU_CPUS_OUT, then echoes events
     --wrong-runtime answers its first event under another request id

   Every child runs under a bounded wait and is killed (by pid) if it overruns. The test is the
   child subreaper of everything the emulator starts, so a process the emulator leaves behind
   shows up as our child (and fails the test). The only timing assertion is the concurrency
   one, with a wide margin. Prints "N passed, N failed" last; exits non-zero on failure. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt.h"

static const char *emu_path;
static char hello[4096], baseline[4096], probe[4096], rawstream[4096], extension[4096], features[4096], features_mt[4096],
    http_ex[4096], stream_ex[4096], self_exe[4096], tmpdir[256];

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

#define NEXT_REQ "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Processes the emulator left behind: we are the child subreaper, so they are our children
   now. Each is reported, killed by pid and reaped. Returns how many there were. */
static int leftovers(void)
{
    int n = 0, status;
    pid_t p;
    DIR *d;
    struct dirent *de;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
        printf("  (leftover process %ld had exited)\n", (long)p);
        n++;
    }
    d = opendir("/proc");
    if (!d) return n;
    while ((de = readdir(d)) != NULL) {
        char path[300], buf[512];
        const char *rp;
        long pid = atol(de->d_name), ppid;
        FILE *f;
        size_t got;
        if (pid <= 0) continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        f = fopen(path, "r");
        if (!f) continue;
        got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = 0;
        rp = strrchr(buf, ')');
        if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1 || ppid != (long)getpid()) continue;
        printf("  (leftover process %ld: %.60s)\n", pid, buf);
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, &status, 0);
        n++;
    }
    closedir(d);
    return n;
}

/* Reads one HTTP message (head and Content-Length body) into buf; returns its length, 0 on
   failure or timeout. */
static size_t read_message(int fd, char *buf, size_t cap, long limit_ms)
{
    size_t have = recv_until(fd, buf, cap, 0, "\r\n\r\n", limit_ms);
    const char *eoh = strstr(buf, "\r\n\r\n"), *cl;
    size_t need;
    if (!eoh) return 0;
    cl = strstr(buf, "Content-Length: ");
    need = (size_t)(eoh + 4 - buf) + (cl && cl < eoh ? (size_t)atol(cl + 16) : 0);
    while (have < need && have + 1 < cap) {
        struct pollfd pf;
        ssize_t k;
        pf.fd = fd;
        pf.events = POLLIN;
        pf.revents = 0;
        if (poll(&pf, 1, (int)limit_ms) <= 0) return 0;
        k = recv(fd, buf + have, cap - 1 - have, 0);
        if (k <= 0) return 0;
        have += (size_t)k;
        buf[have] = 0;
    }
    return have;
}

/* Sends a request and reads the answer; returns the status code (0 if none). */
static int xchg(int fd, const char *req, char *buf, size_t cap)
{
    buf[0] = 0;
    if (send_all(fd, req, strlen(req)) != 0 || read_message(fd, buf, cap, 5000) == 0) return 0;
    return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
}

/* The value of a header in a raw message (static buffer, "" if absent). */
static const char *hdr_of(const char *msg, const char *name)
{
    static char v[256];
    const char *p = strstr(msg, name);
    size_t n;
    v[0] = 0;
    if (!p) return v;
    p += strlen(name);
    if (*p++ != ':') return v;
    while (*p == ' ') p++;
    n = strcspn(p, "\r\n");
    if (n >= sizeof v) n = sizeof v - 1;
    memcpy(v, p, n);
    v[n] = 0;
    return v;
}

/* The errorType of an error answer (static buffer, "" if none). */
static const char *error_type_of(const char *msg)
{
    static char v[128];
    const char *p = strstr(msg, "\"errorType\":\"");
    size_t n;
    v[0] = 0;
    if (!p) return v;
    p += 13;
    n = strcspn(p, "\"");
    if (n >= sizeof v) n = sizeof v - 1;
    memcpy(v, p, n);
    v[n] = 0;
    return v;
}

static int api_port(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    return api && strchr(api, ':') ? atoi(strchr(api, ':') + 1) : 0;
}

/* ------------------------------------------------------------------ --term-runtime mode */

/* GET /next and answer "ok", until /next is not answered with 200 (then 0) or a response is
   not accepted (then 1). */
static int echo_loop(int fd, char *buf, size_t cap)
{
    for (;;) {
        char id[64], req[512];
        const char *rid;
        if (xchg(fd, NEXT_REQ, buf, cap) != 200) return 0;
        rid = hdr_of(buf, "Lambda-Runtime-Aws-Request-Id");
        snprintf(id, sizeof id, "%s", rid);
        snprintf(req, sizeof req,
                 "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", id);
        if (xchg(fd, req, buf, cap) != 202) return 1;
    }
}

static const char *term_out;

static void on_term(int sig)
{
    int fd = open(term_out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    (void)sig;
    if (fd >= 0) {
        ssize_t w = write(fd, "sigterm\n", 8);
        (void)w;
        close(fd);
    }
    _exit(0);
}

/* A plain runtime (no extension of its own) that would tell if it got SIGTERM. */
static int term_runtime(void)
{
    static char buf[1 << 16];
    struct sigaction sa;
    int port = api_port(), fd;
    term_out = getenv("EMU_TERM_OUT");
    if (!port || !term_out) return 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    fd = tcp_connect(port);
    return fd < 0 ? 1 : echo_loop(fd, buf, sizeof buf);
}

/* ------------------------------------------------------------------ --cpus-runtime, --wrong-runtime */

/* Records where it may run (for the benchmark's pinning), then echoes like --term-runtime. */
static int cpus_runtime(void)
{
    static char buf[1 << 16];
    const char *outp = getenv("EMU_CPUS_OUT");
    char *st = slurp("/proc/self/status", NULL);
    const char *p = st ? strstr(st, "\nCpus_allowed_list:") : NULL;
    FILE *out = outp ? fopen(outp, "a") : NULL;
    int port = api_port(), fd;
    if (!p || !out || !port) return 1;
    p += 20;
    p += strspn(p, " \t");
    fprintf(out, "%.*s\n", (int)strcspn(p, "\n"), p);
    fclose(out);
    free(st);
    fd = tcp_connect(port);
    return fd < 0 ? 1 : echo_loop(fd, buf, sizeof buf);
}

/* Answers its first event for a request id it was not given. */
static int wrong_runtime(void)
{
    static char buf[1 << 16];
    static const char req[] = "POST /2018-06-01/runtime/invocation/00000000-0000-4000-8000-000000000000/response HTTP/1.1\r\n"
                              "Host: x\r\nContent-Length: 2\r\n\r\nok";
    int fd = tcp_connect(api_port());
    if (fd < 0 || xchg(fd, NEXT_REQ, buf, sizeof buf) != 200) return 1;
    send_all(fd, req, sizeof req - 1);
    recv_until(fd, buf, sizeof buf, 0, "\r\n\r\n", 10000);
    return 0;
}

/* ------------------------------------------------------------------ --http-runtime mode */

/* A raw-socket runtime for the HTTP front tests: it answers each event by the path of the
   request in it (rawPath, or path for REST API / ALB events):
     /cookies     201, Content-Type and X-Custom headers, two cookies, body "made"
     /string      the JSON string "Hello, world!" (no statusCode)
     /b64         a base64 body (00 01 02 ff), isBase64Encoded
     /mv          multiValueHeaders: two Set-Cookie, X-M p and q (REST API / ALB)
     /alb         statusCode 299 with statusDescription "299 Fine"
     /badstatus   statusCode 42
     /fail        /error with errorType My.Error
     /sleep       sleeps 3 s (longer than the tests' timeout)
     /exit        exits 2
     /stream      a streamed answer with the HTTP prelude (status 207, x-s, a cookie), the prelude
                  itself split over two chunks, then "one,", "two,", "three"; after "one," it waits
                  (up to 5 s) for the file $HTTP_GATE, and sends "two(late)," if it never came
     /rawstream   a streamed text/plain answer "a", "b" (no prelude)
     /cut         a streamed answer with the prelude and "x", ended by error trailers
     /show        200 with the event as the body (any format)
     anything else: the event itself (a JSON document without statusCode) */
static void stream_chunk(int fd, const char *p, size_t n)
{
    char sz[32];
    snprintf(sz, sizeof sz, "%lx\r\n", (unsigned long)n);
    send_all(fd, sz, strlen(sz));
    send_all(fd, p, n);
    send_all(fd, "\r\n", 2);
}

static void stream_answer(int fd, const char *rid, const char *path, char *buf, size_t cap)
{
    static const char pre1[] = "{\"statusCode\":207,\"headers\":{\"content-type\":\"text/plain\",";
    static const char pre2[] = "\"x-s\":\"1\"},\"cookies\":[\"s=1; Path=/\"]}\0\0\0\0\0\0\0\0one,";
    char head[512];
    int raw = strcmp(path, "/rawstream") == 0, cut = strcmp(path, "/cut") == 0;
    snprintf(head, sizeof head,
             "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\n"
             "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nContent-Type: %s\r\n\r\n",
             rid, raw ? "text/plain" : "application/vnd.awslambda.http-integration-response");
    send_all(fd, head, strlen(head));
    if (raw) {
        stream_chunk(fd, "a", 1);
        stream_chunk(fd, "b", 1);
    } else if (cut) {
        stream_chunk(fd, pre1, sizeof pre1 - 1);
        stream_chunk(fd, pre2, sizeof pre2 - 1 - 4);
        stream_chunk(fd, "x", 1);
    } else {
        const char *gate = getenv("HTTP_GATE");
        int waited = 0;
        stream_chunk(fd, pre1, sizeof pre1 - 1);
        stream_chunk(fd, pre2, sizeof pre2 - 1);
        while (gate && access(gate, F_OK) != 0 && waited < 5000) {
            sleep_ms(10);
            waited += 10;
        }
        stream_chunk(fd, gate && access(gate, F_OK) == 0 ? "two," : "two(late),", gate && access(gate, F_OK) == 0 ? 4 : 10);
        stream_chunk(fd, "three", 5);
    }
    if (cut) {
        static const char tr[] = "0\r\nLambda-Runtime-Function-Error-Type: Function.Cut\r\n"
                                 "Lambda-Runtime-Function-Error-Body: eyJlcnJvclR5cGUiOiJGdW5jdGlvbi5DdXQifQ==\r\n\r\n";
        send_all(fd, tr, sizeof tr - 1);
    } else {
        send_all(fd, "0\r\n\r\n", 5);
    }
    read_message(fd, buf, cap, 5000);
}

static int http_runtime(void)
{
    static char buf[1 << 20];
    int port = api_port(), fd = tcp_connect(port);
    for (;;) {
        char rid[64], path[256], req[1024];
        const char *body, *p, *ans = NULL;
        size_t bl;
        if (fd < 0 || xchg(fd, NEXT_REQ, buf, sizeof buf) != 200) return 1;
        snprintf(rid, sizeof rid, "%s", hdr_of(buf, "Lambda-Runtime-Aws-Request-Id"));
        body = strstr(buf, "\r\n\r\n");
        body = body ? body + 4 : "";
        p = strstr(body, "\"rawPath\":\"");
        p = p ? p + 11 : strstr(body, "\"path\":\"");
        if (p && p[0] != '/') p += 8;
        snprintf(path, sizeof path, "%.*s", p ? (int)strcspn(p, "\"") : 0, p ? p : "");
        if (strcmp(path, "/stream") == 0 || strcmp(path, "/rawstream") == 0 || strcmp(path, "/cut") == 0) {
            stream_answer(fd, rid, path, buf, sizeof buf);
            close(fd); /* a new connection after a streamed response */
            fd = tcp_connect(port);
            continue;
        }
        if (strcmp(path, "/exit") == 0) _exit(2);
        if (strcmp(path, "/sleep") == 0) sleep_ms(3000);
        if (strcmp(path, "/cookies") == 0)
            ans = "{\"statusCode\":201,\"headers\":{\"Content-Type\":\"text/plain\",\"X-Custom\":\"yes\"},"
                  "\"cookies\":[\"a=1; Path=/\",\"b=2; HttpOnly\"],\"body\":\"made\"}";
        else if (strcmp(path, "/string") == 0) ans = "\"Hello, world!\"";
        else if (strcmp(path, "/b64") == 0)
            ans = "{\"statusCode\":200,\"headers\":{\"content-type\":\"application/octet-stream\"},\"body\":\"AAEC/w==\","
                  "\"isBase64Encoded\":true}";
        else if (strcmp(path, "/mv") == 0)
            ans = "{\"statusCode\":200,\"multiValueHeaders\":{\"Set-Cookie\":[\"a=1\",\"b=2\"],\"X-M\":[\"p\",\"q\"]},\"body\":\"mv\"}";
        else if (strcmp(path, "/alb") == 0)
            ans = "{\"statusCode\":299,\"statusDescription\":\"299 Fine\",\"headers\":{\"x-a\":\"1\"},\"body\":\"alb\"}";
        else if (strcmp(path, "/badstatus") == 0) ans = "{\"statusCode\":42,\"body\":\"x\"}";
        if (strcmp(path, "/fail") == 0) {
            static const char doc[] = "{\"errorMessage\":\"it broke\",\"errorType\":\"My.Error\"}";
            snprintf(req, sizeof req, "POST /2018-06-01/runtime/invocation/%s/error HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n%s",
                     rid, (unsigned)strlen(doc), doc);
            if (xchg(fd, req, buf, sizeof buf) != 202) return 1;
            continue;
        }
        if (strcmp(path, "/show") == 0) { /* the event as a JSON string: it has no control characters */
            static char doc[1 << 20];
            size_t o = (size_t)snprintf(doc, sizeof doc, "{\"statusCode\":200,\"body\":\"");
            for (p = body; *p && o + 8 < sizeof doc; p++) {
                if (*p == '"' || *p == '\\') doc[o++] = '\\';
                doc[o++] = *p;
            }
            snprintf(doc + o, sizeof doc - o, "\"}");
            ans = doc;
        }
        if (!ans) { /* the event back: it is still in buf, after the head */
            bl = strlen(body);
            memmove(buf, body, bl + 1);
            ans = buf;
        }
        bl = strlen(ans);
        snprintf(req, sizeof req, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: %lu\r\n\r\n",
                 rid, (unsigned long)bl);
        if (send_all(fd, req, strlen(req)) != 0 || send_all(fd, ans, bl) != 0) return 1;
        if (read_message(fd, req, sizeof req, 5000) == 0) return 1;
    }
}

/* ------------------------------------------------------------------ --ext-runtime mode */

/* The Extensions API's error answers, recorded as "<case> <status> <errorType>" lines. */
static int ext_runtime(void)
{
    static char buf[1 << 16];
    char req[1024], id[64], rid[64];
    const char *outp = getenv("EMU_EXT_OUT");
    int port = api_port(), a, b, r, c, st;
    FILE *out = outp ? fopen(outp, "w") : NULL;
    if (!port || !out) return 1;
    a = tcp_connect(port);
    b = tcp_connect(port);
    if (a < 0 || b < 0) return 1;
#define REG(name_hdr, body) \
    snprintf(req, sizeof req, "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: x\r\n%sContent-Length: %u\r\n\r\n%s", \
             name_hdr, (unsigned)strlen(body), body)
    REG("Lambda-Extension-Name: int-a\r\n", "{\"events\":[\"SHUTDOWN\"]}");
    st = xchg(a, req, buf, sizeof buf);
    fprintf(out, "internal-shutdown %d %s\n", st, error_type_of(buf));
    REG("Lambda-Extension-Name: int-a\r\n", "{\"events\":[]}");
    st = xchg(a, req, buf, sizeof buf);
    snprintf(id, sizeof id, "%s", hdr_of(buf, "Lambda-Extension-Identifier"));
    fprintf(out, "register %d %s %s\n", st, strstr(buf, "\"functionName\":\"test_function\"") ? "function-name" : "-",
            strlen(id) == 36 ? "id" : "no-id");
    st = xchg(b, "GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: x\r\nLambda-Extension-Identifier: nope\r\n\r\n", buf,
              sizeof buf);
    fprintf(out, "unknown-id %d %s\n", st, error_type_of(buf));
    REG("", "{\"events\":[]}");
    st = xchg(b, req, buf, sizeof buf);
    fprintf(out, "no-name %d %s\n", st, error_type_of(buf));
    REG("Lambda-Extension-Name: x\r\n", "{\"events\":[");
    st = xchg(b, req, buf, sizeof buf);
    fprintf(out, "bad-json %d %s\n", st, error_type_of(buf));
    REG("Lambda-Extension-Name: x\r\n", "{\"events\":[\"INVOKE\",\"FOO\"]}");
    st = xchg(b, req, buf, sizeof buf);
    fprintf(out, "bad-event %d %s\n", st, error_type_of(buf));
    /* the runtime's first /next closes registration; a later connection is served after it */
    r = tcp_connect(port);
    if (r < 0) return 1;
    send_all(r, NEXT_REQ, strlen(NEXT_REQ));
    c = tcp_connect(port);
    if (c < 0) return 1;
    REG("Lambda-Extension-Name: late\r\n", "{\"events\":[]}");
    st = xchg(c, req, buf, sizeof buf);
    fprintf(out, "late %d %s\n", st, error_type_of(buf));
#undef REG
    /* init completes when int-a asks for its first event: then the event arrives */
    snprintf(req, sizeof req, "GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: x\r\nLambda-Extension-Identifier: %s\r\n\r\n", id);
    send_all(a, req, strlen(req));
    if (read_message(r, buf, sizeof buf, 5000) == 0) return 1;
    snprintf(rid, sizeof rid, "%s", hdr_of(buf, "Lambda-Runtime-Aws-Request-Id"));
    fclose(out);
    snprintf(req, sizeof req, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nserved", rid);
    if (xchg(r, req, buf, sizeof buf) != 202) return 1;
    /* park /next until the shutdown (SIGTERM: an internal extension is registered) */
    send_all(r, NEXT_REQ, strlen(NEXT_REQ));
    recv_until(r, buf, sizeof buf, 0, "\r\n\r\n", 10000);
    return 0;
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
        n = recv_until(fd, buf, sizeof buf, 0, "one,\r\n", 10000);
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

/* examples/extension as an external extension of hello: 3 INVOKE events, then SHUTDOWN
   (spindown) at the end of the run, and its summary line (its stdout goes to our stderr). */
static void test_extension_example(void)
{
    const char *args[] = {"--extension", extension, "-e", "{\"name\":\"a\"}", "-e", "{\"name\":\"b\"}", "-e",
                          "{\"name\":\"c\"}", "--", hello, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(count(r.out, "\n") == 3 && strstr(r.out, "Invoked by: c") != NULL);
    LT_CHECK(strstr(r.err, "{\"extension\":\"bootstrap\",\"invocations\":3,\"shutdownReason\":\"spindown\"}") != NULL);
    LT_CHECK(strstr(r.err, "EXTENSION\tName: bootstrap\tState: Ready\tEvents: [INVOKE,SHUTDOWN]") != NULL);
    LT_CHECK(count(r.err, "REPORT RequestId: ") == 3);
    LT_CHECK(strstr(r.err, "SIGKILL") == NULL); /* both exited on their own within the grace periods */
    LT_CHECK(leftovers() == 0);
    if (lt_bad_checks) printf("%s", r.err);
    run_free(&r);
}

/* A timeout resets the environment: the extension gets SHUTDOWN "timeout", and a fresh
   environment (extension included) serves the next event. */
static void test_extension_timeout_reset(void)
{
    const char *args[] = {"-t", "0.5", "--extension", extension, "-e", "sleep:5000", "-e", "echo:after", "--", probe, NULL};
    run r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 1);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Sandbox.Timedout\"") != NULL);
    LT_CHECK(strstr(r.out, "\nafter\n") != NULL);
    LT_CHECK(strstr(r.err, "{\"extension\":\"bootstrap\",\"invocations\":1,\"shutdownReason\":\"timeout\"}") != NULL);
    LT_CHECK(strstr(r.err, "{\"extension\":\"bootstrap\",\"invocations\":1,\"shutdownReason\":\"spindown\"}") != NULL);
    LT_CHECK(count(r.err, "Init Duration: ") == 2);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* lambda_on_shutdown: the runtime registers an internal extension, so the end of the run
   sends it SIGTERM; the hook runs and the runtime exits 0. */
static void test_shutdown_hook(void)
{
    char file[512], envv[600];
    const char *args[] = {"-v", "-e", "ctx", "-e", "ctx", "--", features, NULL};
    const char *env[] = {envv, NULL};
    run r;
    char *got;
    snprintf(file, sizeof file, "%s/hook.out", tmpdir);
    unlink(file);
    snprintf(envv, sizeof envv, "FEATURES_SHUTDOWN_FILE=%s", file);
    r = emu_run(args, env, NULL);
    got = slurp(file, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(count(r.out, "\n") == 2);
    LT_CHECK(strstr(r.err, "extension lambda_runtime_h_sigterm registered (internal") != NULL);
    LT_CHECK(strstr(r.err, "SIGTERM to runtime pid") != NULL && strstr(r.err, "SIGKILL in 500 ms") != NULL);
    LT_CHECK(got && strcmp(got, "shutdown\n") == 0);
    LT_CHECK(strstr(r.err, "on_shutdown called") != NULL);
    LT_CHECK(strstr(r.err, "runtime exited (exit status 0, without providing a reason)") != NULL);
    LT_CHECK(strstr(r.err, "did not exit within") == NULL);
    LT_CHECK(leftovers() == 0);
    if (lt_bad_checks) printf("%s", r.err);
    free(got);
    run_free(&r);
}

/* Without a registered extension, Lambda sends no SIGTERM: the runtime is killed outright. */
static void test_no_sigterm_without_extension(void)
{
    char file[512], envv[600];
    const char *args[] = {"-e", "a", "-e", "b", "--", self_exe, "--term-runtime", NULL};
    const char *env[] = {envv, NULL};
    run r;
    char *got;
    snprintf(file, sizeof file, "%s/term.out", tmpdir);
    unlink(file);
    snprintf(envv, sizeof envv, "EMU_TERM_OUT=%s", file);
    r = emu_run(args, env, NULL);
    got = slurp(file, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "ok\nok\n") == 0);
    LT_CHECK(got && got[0] == 0); /* no SIGTERM */
    LT_CHECK(leftovers() == 0);
    free(got);
    run_free(&r);
}

/* The same runtime with an external extension registered does get SIGTERM (the control for
   the test above). */
static void test_sigterm_with_extension(void)
{
    char file[512], envv[600];
    const char *args[] = {"--extension", extension, "-e", "a", "--", self_exe, "--term-runtime", NULL};
    const char *env[] = {envv, NULL};
    run r;
    char *got;
    snprintf(file, sizeof file, "%s/term.out", tmpdir);
    unlink(file);
    snprintf(envv, sizeof envv, "EMU_TERM_OUT=%s", file);
    r = emu_run(args, env, NULL);
    got = slurp(file, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "ok\n") == 0);
    LT_CHECK(got && strcmp(got, "sigterm\n") == 0);
    LT_CHECK(strstr(r.err, "\"invocations\":1,\"shutdownReason\":\"spindown\"") != NULL);
    LT_CHECK(leftovers() == 0);
    free(got);
    run_free(&r);
}

static void test_extension_registration_errors(void)
{
    char outp[512], envv[600];
    const char *args[] = {"-e", "{}", "--", self_exe, "--ext-runtime", NULL};
    const char *env[] = {envv, NULL};
    static const char *const want[] = {
        "internal-shutdown 403 Extension.InvalidEventType\n",
        "register 200 function-name id\n",
        "unknown-id 403 Extension.UnknownExtensionIdentifier\n",
        "no-name 400 InvalidRequestFormat\n",
        "bad-json 400 InvalidRequestFormat\n",
        "bad-event 400 Extension.InvalidEventType\n",
        "late 403 Extension.RegistrationClosed\n",
    };
    run r;
    char *got;
    size_t i;
    snprintf(outp, sizeof outp, "%s/ext.out", tmpdir);
    unlink(outp);
    snprintf(envv, sizeof envv, "EMU_EXT_OUT=%s", outp);
    r = emu_run(args, env, NULL);
    got = slurp(outp, NULL);
    LT_CHECK(r.status == 0);
    LT_CHECK(strcmp(r.out, "served\n") == 0);
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!got || !strstr(got, want[i])) printf("  missing: %s", want[i]);
        LT_CHECK(got && strstr(got, want[i]) != NULL);
    }
    LT_CHECK(leftovers() == 0);
    if (lt_bad_checks) printf("  got:\n%s\n  stderr:\n%s", got ? got : "", r.err);
    free(got);
    run_free(&r);
}

/* An extension's /init/error fails init like a runtime init error (exit status 3). */
static void test_extension_init_error(void)
{
    char script[512], text[5000], feat_abs[4096];
    const char *args[] = {"--extension", script, "-e", "{}", "--", hello, NULL};
    run r;
    if (!realpath(features, feat_abs)) snprintf(feat_abs, sizeof feat_abs, "%s", features);
    snprintf(script, sizeof script, "%s/initerr-ext", tmpdir);
    snprintf(text, sizeof text, "#!/bin/sh\nexec '%s' ext initerr-ext 1 initerr\n", feat_abs);
    spit(script, text);
    chmod(script, 0755);
    r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 3);
    LT_CHECK(strstr(r.out, "\"errorType\":\"Extension.ConfigInvalid\"") != NULL);
    LT_CHECK(strstr(r.err, "extension initerr-ext reported an init error: Extension.ConfigInvalid") != NULL);
    LT_CHECK(strstr(r.err, "INIT_REPORT") != NULL && strstr(r.err, "Error Type: Extension.ConfigInvalid") != NULL);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* --concurrency 4 with a threaded runtime: four 400 ms invocations overlap. */
static void test_concurrency(void)
{
    const char *args[] = {"--concurrency", "4", "-e", "sleep:400:t1", "-e", "sleep:400:t2", "-e", "sleep:400:t3",
                          "-e", "sleep:400:t4", "--", features_mt, NULL};
    long long t0 = mono_ms(), took;
    run r = emu_run(args, NULL, NULL);
    const char *line;
    char ids[4][40];
    int k, n = 0;
    took = mono_ms() - t0;
    LT_CHECK(r.status == 0);
    LT_CHECK(count(r.out, "\n") == 4);
    for (line = r.out; *line && n < 4; n++) { /* "<request id> t<k> <worker>" */
        size_t il = strcspn(line, " \n");
        char rep[256];
        if (il != 36) break;
        memcpy(ids[n], line, 36);
        ids[n][36] = 0;
        LT_CHECK(is_uuid4(ids[n]));
        snprintf(rep, sizeof rep, "REPORT RequestId: %s\t", ids[n]);
        LT_CHECK(strstr(r.err, rep) != NULL); /* each invocation reported with its own id */
        for (k = 0; k < n; k++) LT_CHECK(strcmp(ids[k], ids[n]) != 0);
        line += strcspn(line, "\n");
        if (*line) line++;
    }
    LT_CHECK(n == 4);
    for (k = 1; k <= 4; k++) {
        char tok[8];
        snprintf(tok, sizeof tok, " t%d ", k);
        LT_CHECK(count(r.out, tok) == 1);
    }
    LT_CHECK(count(r.err, "REPORT RequestId: ") == 4);
    if (took >= 1000) printf("  took %lld ms for 4 x 400 ms\n", took);
    LT_CHECK(took >= 400 && took < 1000); /* about one sleep, not four */
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* ------------------------------------------------------------------ the benchmark (--bench) */

/* Why text is not well-formed XML with an <svg> root, or NULL if it is: elements nest and close
   with their own names, attribute values are quoted, '&' starts an entity or character
   reference, '<' appears only in markup, nothing follows the root but white space. */
static const char *xml_problem(const char *s)
{
    static char why[160];
    const char *stack[256], *p = s;
    size_t lens[256];
    int depth = 0, roots = 0;
    if (strncmp(s, "<svg", 4) != 0) return "does not start with <svg";
    while (*p) {
        if (*p == '&') {
            static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            size_t k, ok = 0;
            for (k = 0; k < 5; k++) ok |= strncmp(p, ent[k], strlen(ent[k])) == 0;
            if (!ok && p[1] == '#') ok = strspn(p + 2, "0123456789") > 0 && p[2 + strspn(p + 2, "0123456789")] == ';';
            if (!ok) return "bad entity";
            p++;
            continue;
        }
        if (*p == '>') return "'>' outside markup";
        if (*p != '<') {
            if (depth == 0 && !strchr(" \t\r\n", *p)) return "text outside the root element";
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e) return "unterminated comment";
            p = e + 3;
        } else if (p[1] == '/') { /* </name> */
            size_t n = strcspn(p + 2, " \t\r\n>");
            if (depth == 0 || n != lens[depth - 1] || strncmp(p + 2, stack[depth - 1], n) != 0) {
                snprintf(why, sizeof why, "mismatched end tag </%.*s>", (int)(n > 40 ? 40 : n), p + 2);
                return why;
            }
            p += 2 + n;
            p += strspn(p, " \t\r\n");
            if (*p++ != '>') return "bad end tag";
            depth--;
        } else { /* <name attr="v" ...> or .../> */
            size_t n = strcspn(p + 1, " \t\r\n/>");
            if (n == 0 || !(p[1] == '_' || ((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z'))) return "bad tag name";
            if (depth == 0 && roots++) return "two root elements";
            if (depth == 256) return "too deep";
            stack[depth] = p + 1;
            lens[depth] = n;
            p += 1 + n;
            for (;;) {
                size_t an;
                char q;
                p += strspn(p, " \t\r\n");
                if (*p == '>' || (p[0] == '/' && p[1] == '>')) break;
                an = strcspn(p, " \t\r\n=/>\"'<");
                if (an == 0) return "bad attribute";
                p += an;
                p += strspn(p, " \t\r\n");
                if (*p++ != '=') return "attribute without a value";
                p += strspn(p, " \t\r\n");
                q = *p++;
                if (q != '"' && q != '\'') return "unquoted attribute value";
                while (*p && *p != q) {
                    if (*p == '<') return "'<' in an attribute value";
                    p++;
                }
                if (*p++ != q) return "unterminated attribute value";
            }
            if (*p == '/') p += 2; /* empty element */
            else p++, depth++;
        }
    }
    if (depth != 0) return "unclosed elements";
    if (roots != 1) return "no root element";
    return NULL;
}

/* Checks an SVG file: our own well-formedness check, and xmllint's when it is installed. */
static int svg_ok(const char *path)
{
    char *t = slurp(path, NULL);
    const char *why = t ? xml_problem(t) : "cannot read";
    int ok = why == NULL;
    if (!ok) printf("  %s: %s\n", path, why);
    if (t && !strstr(t, "xmlns=\"http://www.w3.org/2000/svg\"")) ok = 0;
    free(t);
    if (access("/usr/bin/xmllint", X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout '%s'", path);
        if (system(cmd) != 0) {
            printf("  xmllint rejects %s\n", path);
            ok = 0;
        }
    }
    return ok;
}

/* Our own CPU mask, "0-1" (static buffer). */
static const char *own_cpus(void)
{
    static char v[256];
    char *st = slurp("/proc/self/status", NULL);
    const char *p = st ? strstr(st, "\nCpus_allowed_list:") : NULL;
    v[0] = 0;
    if (p) {
        p += 20;
        p += strspn(p, " \t");
        snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "\n"), p);
    }
    free(st);
    return v;
}

/* The checker itself: it must reject what it claims to. */
static void test_xml_checker(void)
{
    LT_CHECK(xml_problem("<svg a=\"1\"><g><text>x &amp; y &#181;</text></g><rect/></svg>\n") == NULL);
    LT_CHECK(xml_problem("<svg><g></svg>") != NULL);
    LT_CHECK(xml_problem("<svg><g></h></svg>") != NULL);
    LT_CHECK(xml_problem("<svg a=1></svg>") != NULL);
    LT_CHECK(xml_problem("<svg>a & b</svg>") != NULL);
    LT_CHECK(xml_problem("<svg>a < b</svg>") != NULL);
    LT_CHECK(xml_problem("<svg></svg><svg></svg>") != NULL);
    LT_CHECK(xml_problem("<?xml version=\"1.0\"?><svg></svg>") != NULL); /* must start with <svg */
}

/* Pinned by default: the output names the CPU, and the runtime's own Cpus_allowed_list (each
   start records it) is that one CPU, the first of ours. Then function and baseline alternate. */
static void test_bench_pinned(void)
{
    char cpus[512], envv[600], want[16], line[400];
    const char *env[] = {envv, NULL};
    const char *args[] = {"--bench", "20", "--rounds", "2", "--baseline", baseline, "--", self_exe, "--cpus-runtime", NULL};
    const char *mine = own_cpus(), *first;
    char *got;
    run r;
    snprintf(cpus, sizeof cpus, "%s/cpus.out", tmpdir);
    unlink(cpus);
    snprintf(envv, sizeof envv, "EMU_CPUS_OUT=%s", cpus);
    snprintf(want, sizeof want, "%d", atoi(mine)); /* "0-1" or "3,5": the first CPU */
    r = emu_run(args, env, NULL);
    LT_CHECK(r.status == 0);
    snprintf(line, sizeof line, "BENCH-PIN cpu=%s allowed=%s\n", want, mine);
    LT_CHECK(strncmp(r.out, line, strlen(line)) == 0);
    snprintf(line, sizeof line, "pinned to CPU %s;", want);
    LT_CHECK(strstr(r.out, line) != NULL);
    got = slurp(cpus, NULL);
    snprintf(line, sizeof line, "%s\n%s\n", want, want); /* two rounds, two starts, one CPU each */
    LT_CHECK(strcmp(got, line) == 0);
    if (strcmp(got, line) != 0) printf("  Cpus_allowed_list of the runtime: %s", got);
    free(got);
    first = strstr(r.out, "BENCH label=function");
    LT_CHECK(first && strstr(first, "BENCH label=baseline") && strstr(strstr(first, "BENCH label=baseline"), "BENCH label=function"));
    LT_CHECK(count(r.out, "BENCH label=function bootstrap=") == 2 && count(r.out, "BENCH label=baseline bootstrap=") == 2);
    LT_CHECK(count(r.out, " conns=1 errors=0\n") == 4);
    LT_CHECK(strstr(r.out, "BENCH-MEDIAN rounds=2 n=20 cold_next_ms=") != NULL && strstr(r.out, " ratio_size_bytes=") != NULL);
    LT_CHECK(strstr(r.out, "BENCH-MEDIAN-COMPARE") == NULL && strstr(r.out, "BENCH-FAIL") == NULL);
    LT_CHECK(strstr(r.out, "baseline    ratio\n") != NULL); /* the two-column table */
    LT_CHECK(strstr(r.out, "function and baseline alternate") != NULL);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* --no-pin: the runtime may run wherever we may. */
static void test_bench_no_pin(void)
{
    char cpus[512], envv[600], line[300];
    const char *env[] = {envv, NULL};
    const char *args[] = {"--no-pin", "--bench", "5", "--", self_exe, "--cpus-runtime", NULL};
    const char *mine = own_cpus();
    char *got;
    run r;
    snprintf(cpus, sizeof cpus, "%s/cpus.out", tmpdir);
    unlink(cpus);
    snprintf(envv, sizeof envv, "EMU_CPUS_OUT=%s", cpus);
    r = emu_run(args, env, NULL);
    LT_CHECK(r.status == 0);
    snprintf(line, sizeof line, "BENCH-PIN cpu=none allowed=%s\n", mine);
    LT_CHECK(strncmp(r.out, line, strlen(line)) == 0);
    LT_CHECK(strstr(r.out, "(not pinned: CPUs ") != NULL);
    got = slurp(cpus, NULL);
    snprintf(line, sizeof line, "%s\n", mine);
    LT_CHECK(strcmp(got, line) == 0);
    free(got);
    LT_CHECK(count(r.out, "BENCH label=function") == 1 && strstr(r.out, "BENCH-MEDIAN rounds=1 n=5 ") != NULL);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* Two more bootstraps (hello again, under two other paths) in the same rounds: each runs once a
   round in the order function, compare..., baseline, with its medians, ratios, a table column
   and a row of the chart. */
static void test_bench_compare(void)
{
    char dir2[512], link2[600], other[4200], svg[512], hello_abs[4096];
    const char *args[] = {"--bench", "10", "--rounds", "2", "--svg", svg, "--compare", link2, "--compare", other,
                          "--baseline", baseline, "--", hello, NULL};
    const char *p;
    char *t;
    int k;
    run r;
    snprintf(dir2, sizeof dir2, "%s/hello2", tmpdir);
    snprintf(link2, sizeof link2, "%s/bootstrap", dir2);
    snprintf(svg, sizeof svg, "%s/bench.svg", tmpdir);
    {   /* <dir>/hello/../hello/bootstrap: the same file, another path, the same short name */
        size_t n = strlen(hello) - strlen("/bootstrap");
        snprintf(other, sizeof other, "%.*s/../hello/bootstrap", (int)n, hello);
    }
    if (!realpath(hello, hello_abs)) snprintf(hello_abs, sizeof hello_abs, "%s", hello);
    mkdir(dir2, 0755);
    unlink(link2);
    LT_CHECK(symlink(hello_abs, link2) == 0);
    unlink(svg);
    r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 0);
    /* round after round: function, compare1, compare2, baseline */
    for (p = r.out, k = 0; k < 8; k++) {
        static const char *const order[4] = {"function", "compare1", "compare2", "baseline"};
        char want[64];
        snprintf(want, sizeof want, "BENCH label=%s bootstrap=", order[k % 4]);
        p = strstr(p, "BENCH label=");
        LT_CHECK(p && strncmp(p, want, strlen(want)) == 0);
        if (!p) break;
        p++;
    }
    LT_CHECK(count(r.out, "BENCH label=") == 8 && count(r.out, " conns=1 errors=0\n") == 8);
    {
        char want[5000];
        snprintf(want, sizeof want, "BENCH label=compare1 bootstrap=%s n=10 ", link2);
        LT_CHECK(count(r.out, want) == 2);
        snprintf(want, sizeof want, "BENCH label=compare2 bootstrap=%s n=10 ", other);
        LT_CHECK(count(r.out, want) == 2);
        snprintf(want, sizeof want, "BENCH-MEDIAN-COMPARE label=compare1 bootstrap=%s rounds=2 n=10 cold_next_ms=", link2);
        LT_CHECK(strstr(r.out, want) != NULL);
    }
    LT_CHECK(count(r.out, "BENCH-MEDIAN rounds=2 n=10 ") == 1 && count(r.out, "BENCH-MEDIAN-COMPARE ") == 2);
    LT_CHECK(count(r.out, " ratio_p50_us=") == 3);
    /* the table: a column per bootstrap, a ratio column per bootstrap but the baseline */
    LT_CHECK(strstr(r.out, " hello2 ") != NULL && strstr(r.out, " hello#2 ") != NULL);
    LT_CHECK(strstr(r.out, " hello/baseline hello2/baseline hello#2/baseline\n") != NULL);
    LT_CHECK(strstr(r.out, "the bootstraps alternate") != NULL && strstr(r.out, "failed") == NULL);
    LT_CHECK(strstr(r.out, "BENCH-FAIL") == NULL);
    LT_CHECK(svg_ok(svg));
    t = slurp(svg, NULL);
    LT_CHECK(strstr(t, ">hello<") && strstr(t, ">hello2<") && strstr(t, ">hello#2<") && strstr(t, ">baseline<"));
    LT_CHECK(strstr(t, "Cold start") && strstr(t, "Warm round trip") && strstr(t, "VmHWM"));
    LT_CHECK(count(t, "<circle ") == 4 * 2 * 2); /* a dot per round, two per bootstrap */
    LT_CHECK(count(t, "<path ") == 4);           /* a round-trip histogram per bootstrap */
    free(t);
    unlink(link2);
    rmdir(dir2);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* A bootstrap that exits and one that answers for the wrong request: each is reported, with the
   stage and the reason, and left out of the other rounds; the others run every round; the
   table and the chart say "failed"; exit status 1. */
static void test_bench_failing(void)
{
    char quits[512], wrong[512], svg[512], text[5000];
    const char *args[] = {"--bench", "10", "--rounds", "3", "-t", "2", "--svg", svg, "--compare", quits, "--compare", wrong,
                          "--baseline", baseline, "--", hello, NULL};
    char *t;
    run r;
    snprintf(quits, sizeof quits, "%s/quits", tmpdir);
    snprintf(wrong, sizeof wrong, "%s/wrong", tmpdir);
    snprintf(svg, sizeof svg, "%s/bench.svg", tmpdir);
    spit(quits, "#!/bin/sh\nexit 3\n");
    chmod(quits, 0755);
    snprintf(text, sizeof text, "#!/bin/sh\nexec '%s' --wrong-runtime\n", self_exe);
    spit(wrong, text);
    chmod(wrong, 0755);
    unlink(svg);
    r = emu_run(args, NULL, NULL);
    LT_CHECK(r.status == 1);
    snprintf(text, sizeof text, "BENCH-FAIL label=compare1 bootstrap=%s round=1 reason=before its first GET /next: exited "
                                "(exit status 3)\n", quits);
    LT_CHECK(strstr(r.out, text) != NULL);
    snprintf(text, sizeof text, "BENCH-FAIL label=compare2 bootstrap=%s round=1 reason=in the cold invocation: answered "
                                "POST /2018-06-01/runtime/invocation/00000000-0000-4000-8000-000000000000/response, not request ",
             wrong);
    LT_CHECK(strstr(r.out, text) != NULL);
    LT_CHECK(count(r.out, "BENCH-FAIL ") == 2);
    LT_CHECK(count(r.out, "BENCH label=function ") == 3 && count(r.out, "BENCH label=baseline ") == 3);
    LT_CHECK(count(r.out, "BENCH label=compare") == 0);
    LT_CHECK(strstr(r.out, "BENCH-MEDIAN rounds=3 n=10 ") != NULL && strstr(r.out, "BENCH-MEDIAN-COMPARE") == NULL);
    LT_CHECK(strstr(r.out, "failed: see below") != NULL && count(r.out, "failed ") >= 9 * 2);
    snprintf(text, sizeof text, "FAILED quits (%s) in round 1: before its first GET /next: exited (exit status 3)\n", quits);
    LT_CHECK(strstr(r.out, text) != NULL);
    LT_CHECK(strstr(r.err, "it is left out of the remaining rounds") != NULL);
    LT_CHECK(svg_ok(svg));
    t = slurp(svg, NULL);
    LT_CHECK(count(t, "failed in round 1: before its first GET /next: exited (exit status 3)") == 3); /* one per panel */
    LT_CHECK(count(t, "failed in round 1: in the cold invocation: answered POST") == 3);
    free(t);
    LT_CHECK(leftovers() == 0);
    run_free(&r);
}

/* Bad benchmark options. */
static void test_bench_usage(void)
{
    const char *a1[] = {"--bench", "5", "--compare", "", "--", hello, NULL};
    const char *a2[] = {"--bench", "5", "--compare", NULL};
    const char *a3[] = {"--help", NULL};
    const char *a4[] = {"--compare", hello, "-e", "{}", "--", hello, NULL};
    run r = emu_run(a1, NULL, NULL);
    LT_CHECK(r.status == 2 && strstr(r.err, "bad value for --compare") != NULL);
    run_free(&r);
    r = emu_run(a2, NULL, NULL);
    LT_CHECK(r.status == 2);
    run_free(&r);
    r = emu_run(a3, NULL, NULL);
    LT_CHECK(r.status == 0 && strstr(r.out, "--no-pin") && strstr(r.out, "--compare BOOTSTRAP") && strstr(r.out, "--svg FILE"));
    run_free(&r);
    r = emu_run(a4, NULL, NULL);
    LT_CHECK(r.status == 2 && strstr(r.err, "go with --bench N") != NULL && r.out_len == 0);
    run_free(&r);
}

/* ------------------------------------------------------------------ the HTTP front (--http) */

/* Starts the emulator with --http 127.0.0.1:0 (and extra options) in the background, running
   bootstrap (with one argument, or NULL); returns the port it printed. */
static int emu_http(const char *bootstrap, const char *arg, const char *const *extra, pid_t *pid)
{
    const char *args[32];
    char err[512], out[512];
    int n = 0, waited;
    args[n++] = "--http";
    args[n++] = "127.0.0.1:0";
    while (extra && *extra && n < 27) args[n++] = *extra++;
    args[n++] = "--";
    args[n++] = bootstrap;
    if (arg) args[n++] = arg;
    args[n] = NULL;
    snprintf(err, sizeof err, "%s/http.err", tmpdir);
    snprintf(out, sizeof out, "%s/http.out", tmpdir);
    unlink(err);
    *pid = spawn_emu(args, NULL, NULL, out, err);
    for (waited = 0; waited < 5000; waited += 10) {
        char *e = slurp(err, NULL);
        const char *p = e ? strstr(e, "HTTP front listening on http://127.0.0.1:") : NULL;
        int port = p ? atoi(p + 41) : 0;
        free(e);
        if (port > 0) return port;
        sleep_ms(10);
    }
    return 0;
}

/* What the emulator printed on stderr so far (free it). */
static char *http_err(void)
{
    char err[512];
    snprintf(err, sizeof err, "%s/http.err", tmpdir);
    return slurp(err, NULL);
}

/* The same, once it holds n lines with needle (the REPORT line follows the answer), or after
   2 s. */
static char *http_err_with(const char *needle, size_t n)
{
    char *e = http_err();
    int waited;
    for (waited = 0; waited < 2000 && count(e, needle) < n; waited += 10) {
        free(e);
        sleep_ms(10);
        e = http_err();
    }
    return e;
}

/* One HTTP response as received. */
typedef struct hres {
    int status;
    char *raw;          /* every byte received for it, NUL-terminated */
    size_t raw_len, head_len;
    char *body;         /* the body, chunked framing removed */
    size_t body_len;
    int chunked, chunks, complete; /* complete: the framing ended properly (last chunk, length, close) */
} hres;

static void hres_free(hres *r)
{
    free(r->raw);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Waits up to ms for more bytes into r->raw; 0 on timeout or close, else the count. */
static ssize_t hres_fill(int fd, hres *r, size_t *cap, long ms)
{
    struct pollfd p;
    ssize_t k;
    if (r->raw_len + 65536 > *cap) {
        char *nb = realloc(r->raw, *cap * 2 + 65536);
        if (!nb) return 0;
        r->raw = nb;
        *cap = *cap * 2 + 65536;
    }
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, (int)ms) <= 0) return 0;
    k = recv(fd, r->raw + r->raw_len, *cap - r->raw_len - 1, 0);
    if (k <= 0) return 0;
    r->raw_len += (size_t)k;
    r->raw[r->raw_len] = 0;
    return k;
}

/* The value of header name in the head of r ("" if absent; static buffer). */
static const char *hres_header(const hres *r, const char *name)
{
    static char v[512];
    size_t nl = strlen(name);
    const char *p = r->raw;
    v[0] = 0;
    while (p && (p = strstr(p, "\r\n")) != NULL && (size_t)(p - r->raw) + 2 < r->head_len) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *s = p + nl + 1;
            size_t n;
            while (*s == ' ') s++;
            n = strcspn(s, "\r\n");
            if (n >= sizeof v) n = sizeof v - 1;
            memcpy(v, s, n);
            v[n] = 0;
            return v;
        }
    }
    return v;
}

static size_t hres_header_count(const hres *r, const char *name)
{
    size_t c = 0, nl = strlen(name);
    const char *p = r->raw;
    while ((p = strstr(p, "\r\n")) != NULL && (size_t)(p - r->raw) + 2 < r->head_len) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') c++;
    }
    return c;
}

/* Reads one response on fd (the answer to a HEAD when head_only): the head, then the body
   by its framing. Bounded by ms per wait. Returns the status, 0 if no head came. */
static int read_http(int fd, hres *r, int head_only, long ms)
{
    size_t cap = 65536, pos;
    const char *eoh;
    memset(r, 0, sizeof *r);
    r->raw = malloc(cap);
    r->body = malloc(1);
    if (!r->raw || !r->body) return 0;
    r->raw[0] = 0;
    r->body[0] = 0;
    for (;;) { /* the head, skipping any 100 Continue */
        eoh = strstr(r->raw, "\r\n\r\n");
        if (eoh && strncmp(r->raw, "HTTP/1.1 100 ", 13) == 0) {
            size_t skip = (size_t)(eoh + 4 - r->raw);
            memmove(r->raw, r->raw + skip, r->raw_len - skip + 1);
            r->raw_len -= skip;
            continue;
        }
        if (eoh) break;
        if (hres_fill(fd, r, &cap, ms) == 0) return 0;
    }
    r->head_len = (size_t)(eoh + 4 - r->raw);
    r->status = strncmp(r->raw, "HTTP/1.1 ", 9) == 0 ? atoi(r->raw + 9) : -1;
    r->chunked = strcasecmp(hres_header(r, "Transfer-Encoding"), "chunked") == 0;
    pos = r->head_len;
    if (head_only || r->status == 204 || r->status == 304) {
        r->complete = 1;
    } else if (r->chunked) {
        for (;;) {
            char *le, *end;
            unsigned long sz;
            while (!(le = strstr(r->raw + pos, "\r\n")))
                if (hres_fill(fd, r, &cap, ms) == 0) return r->status;
            sz = strtoul(r->raw + pos, &end, 16);
            if (end == r->raw + pos) return r->status;
            while (r->raw_len < (size_t)(le - r->raw) + 2 + sz + 2)
                if (hres_fill(fd, r, &cap, ms) == 0) return r->status;
            le = strstr(r->raw + pos, "\r\n"); /* raw may have moved */
            pos = (size_t)(le - r->raw) + 2;
            if (sz == 0) {
                r->complete = 1;
                break;
            }
            {
                char *nb = realloc(r->body, r->body_len + sz + 1);
                if (!nb) return r->status;
                r->body = nb;
                memcpy(r->body + r->body_len, r->raw + pos, sz);
                r->body_len += sz;
                r->body[r->body_len] = 0;
                r->chunks++;
            }
            pos += sz + 2;
        }
    } else if (hres_header(r, "Content-Length")[0]) {
        size_t want = (size_t)atol(hres_header(r, "Content-Length"));
        while (r->raw_len < r->head_len + want)
            if (hres_fill(fd, r, &cap, ms) == 0) break;
        r->complete = r->raw_len >= r->head_len + want;
        if (!r->complete) want = r->raw_len - r->head_len;
        free(r->body);
        r->body = malloc(want + 1);
        if (!r->body) return r->status;
        memcpy(r->body, r->raw + r->head_len, want);
        r->body_len = want;
    } else { /* until the close */
        while (hres_fill(fd, r, &cap, ms) > 0) {
        }
        r->complete = 1;
        free(r->body);
        r->body = malloc(r->raw_len - r->head_len + 1);
        if (!r->body) return r->status;
        memcpy(r->body, r->raw + r->head_len, r->raw_len - r->head_len);
        r->body_len = r->raw_len - r->head_len;
    }
    if (r->body) r->body[r->body_len] = 0;
    return r->status;
}

/* Sends req (len bytes) on fd and reads the answer. */
static int http_xchg(int fd, const char *req, size_t len, hres *r)
{
    memset(r, 0, sizeof *r);
    if (send_all(fd, req, len) != 0) return 0;
    return read_http(fd, r, strncmp(req, "HEAD ", 5) == 0, 10000);
}

/* One request on a fresh connection. */
static int http_once(int port, const char *req, hres *r)
{
    int fd = tcp_connect(port), st;
    memset(r, 0, sizeof *r);
    if (fd < 0) return 0;
    st = http_xchg(fd, req, strlen(req), r);
    close(fd);
    return st;
}

/* Whether the peer closes fd within ms (reading and dropping anything before the close). */
static int closed_within(int fd, long ms)
{
    long long end = mono_ms() + ms;
    char b[4096];
    while (mono_ms() < end) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 50) > 0 && recv(fd, b, sizeof b, 0) <= 0) return 1;
    }
    return 0;
}

/* GET /hello?name=Ada from examples/http, then on the same (keep-alive) connection a POST
   /echo with every byte value (base64 both ways), a HEAD and a 404 from the function. */
static void test_http_example(void)
{
    int bad0 = lt_bad_checks;
    char req[1024], bin[256];
    pid_t pid = 0;
    int port, fd, i;
    hres r;
    char *err;
    port = emu_http(http_ex, NULL, NULL, &pid);
    LT_CHECK(port > 0);
    fd = port > 0 ? tcp_connect(port) : -1;
    LT_CHECK(fd >= 0);
    if (fd >= 0) {
        static const char get[] = "GET /hello?name=Ada HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n";
        LT_CHECK(http_xchg(fd, get, sizeof get - 1, &r) == 200);
        LT_CHECK(strcmp(hres_header(&r, "Content-Type"), "text/plain; charset=utf-8") == 0);
        LT_CHECK(strcmp(r.body, "Hello, Ada!") == 0 && r.body_len == 11);
        LT_CHECK(strcmp(hres_header(&r, "Content-Length"), "11") == 0);
        LT_CHECK(is_uuid4(hres_header(&r, "X-Amzn-RequestId")));
        LT_CHECK(strcmp(hres_header(&r, "Connection"), "keep-alive") == 0);
        hres_free(&r);
        for (i = 0; i < 256; i++) bin[i] = (char)i;
        snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 256\r\n\r\n");
        send_all(fd, req, strlen(req));
        LT_CHECK(http_xchg(fd, bin, sizeof bin, &r) == 200); /* the same connection */
        LT_CHECK(r.body_len == 256 && memcmp(r.body, bin, 256) == 0);
        LT_CHECK(strcmp(hres_header(&r, "Content-Type"), "application/octet-stream") == 0);
        hres_free(&r);
        /* HEAD reaches the function as it is (only GET /hello is routed): 405 with Allow, the
           length, no body */
        LT_CHECK(http_xchg(fd, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", 33, &r) == 405);
        LT_CHECK(strcmp(hres_header(&r, "Allow"), "GET") == 0);
        LT_CHECK(strcmp(hres_header(&r, "Content-Length"), "18") == 0 && r.raw_len == r.head_len);
        hres_free(&r);
        LT_CHECK(http_xchg(fd, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 50, &r) == 404);
        LT_CHECK(strcmp(r.body, "Not Found") == 0);
        LT_CHECK(strcmp(hres_header(&r, "Connection"), "close") == 0);
        LT_CHECK(closed_within(fd, 3000));
        hres_free(&r);
        close(fd);
    }
    err = http_err_with("REPORT RequestId: ", 4);
    LT_CHECK(count(err, "REPORT RequestId: ") == 4 && count(err, "Init Duration") == 1); /* one runtime, four invocations */
    LT_CHECK(strstr(err, "\"GET /hello?name=Ada HTTP/1.1\" 200 11 bytes") != NULL);
    if (lt_bad_checks > bad0) printf("%s", err);
    free(err);
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* Appends "path type" lines for every object member of the JSON text at *p (types s n b z o a),
   arrays walked as "path[]". Only for well-formed input. */
static void jpaths(const char **p, const char *prefix, char *out, size_t cap)
{
    const char *s = *p;
    char t = *s == '{' ? 'o' : *s == '[' ? 'a' : *s == '"' ? 's' : *s == 't' || *s == 'f' ? 'b' : *s == 'n' ? 'z' : 'n';
    if (*prefix) snprintf(out + strlen(out), cap - strlen(out), "%s %c\n", prefix, t);
    if (t == 'o' || t == 'a') {
        s++;
        for (;;) {
            char sub[512];
            s += strspn(s, " \t\r\n,");
            if (*s == '}' || *s == ']' || !*s) break;
            if (t == 'o') {
                const char *k = ++s;
                while (*s && *s != '"') s += *s == '\\' ? 2 : 1;
                snprintf(sub, sizeof sub, "%s%s%.*s", prefix, *prefix ? "." : "", (int)(s - k), k);
                s++;
                s += strspn(s, " \t\r\n:");
            } else {
                snprintf(sub, sizeof sub, "%s[]", prefix);
            }
            jpaths(&s, sub, out, cap);
        }
        if (*s) s++;
    } else if (t == 's') {
        for (s++; *s && *s != '"'; s++)
            if (*s == '\\') s++;
        if (*s) s++;
    } else {
        s += strcspn(s, ",}] \t\r\n");
    }
    *p = s;
}

/* Whether text has line as one of its lines. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p;
    for (p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n])) return 1;
    return 0;
}

/* The paths of one JSON document, without those below headers, queryStringParameters and
   (IAM auth only) requestContext.authorizer. */
static void event_shape(const char *doc, char *out, size_t cap)
{
    char all[16384] = "", *line;
    const char *p = doc + strspn(doc, " \t\r\n");
    out[0] = 0;
    jpaths(&p, "", all, sizeof all);
    for (line = strtok(all, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "headers.", 8) != 0 && strncmp(line, "queryStringParameters.", 22) != 0 &&
            strncmp(line, "requestContext.authorizer", 25) != 0)
            snprintf(out + strlen(out), cap - strlen(out), "%s\n", line);
}

/* The event itself (the runtime echoes it): the function URL fields, the same members and
   value types as the service's own event (tests/data/function-url-request.json, for a request
   like this one), text and binary bodies. */
static void test_http_event(void)
{
    static const char req[] = "POST /hello?hello=world&foo=bar&x=1&x=%7E HTTP/1.1\r\nHost: x\r\nUser-Agent: test-agent\r\n"
                              "Cookie: foo=bar; hello=hello\r\nHeader2: h1\r\nheader2: h2\r\nContent-Type: application/json\r\n"
                              "Content-Length: 18\r\n\r\n{\"hello\": \"world\"}";
    char ours[4096], want[4096];
    char *sample = slurp("tests/data/function-url-request.json", NULL);
    pid_t pid = 0;
    int port = emu_http(self_exe, "--http-runtime", NULL, &pid);
    hres r;
    LT_CHECK(port > 0);
    LT_CHECK(sample && strstr(sample, "\"rawPath\""));
    if (port > 0 && sample) {
        LT_CHECK(http_once(port, req, &r) == 200);
        LT_CHECK(strcmp(hres_header(&r, "Content-Type"), "application/json") == 0); /* no statusCode: the body as is */
        LT_CHECK(strstr(r.body, "\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/hello\","
                                "\"rawQueryString\":\"hello=world&foo=bar&x=1&x=%7E\",\"cookies\":[\"foo=bar\",\"hello=hello\"]") == r.body + 1);
        LT_CHECK(strstr(r.body, "\"header2\":\"h1,h2\"") && strstr(r.body, "\"user-agent\":\"test-agent\""));
        LT_CHECK(strstr(r.body, "\"cookie\":\"foo=bar; hello=hello\"") && strstr(r.body, "\"x-forwarded-for\":\"127.0.0.1\""));
        LT_CHECK(strstr(r.body, "\"queryStringParameters\":{\"foo\":\"bar\",\"hello\":\"world\",\"x\":\"1,~\"}"));
        LT_CHECK(strstr(r.body, "\"accountId\":\"anonymous\"") && strstr(r.body, "\"stage\":\"$default\""));
        LT_CHECK(strstr(r.body, "\"http\":{\"method\":\"POST\",\"path\":\"/hello\",\"protocol\":\"HTTP/1.1\","
                                "\"sourceIp\":\"127.0.0.1\",\"userAgent\":\"test-agent\"}"));
        {
            char rid[80];
            snprintf(rid, sizeof rid, "\"requestId\":\"%s\"", hres_header(&r, "X-Amzn-RequestId"));
            LT_CHECK(strstr(r.body, rid) != NULL); /* the invocation's request id */
        }
        LT_CHECK(strstr(r.body, "\"body\":\"{\\\"hello\\\": \\\"world\\\"}\",\"isBase64Encoded\":false}") != NULL);
        event_shape(r.body, ours, sizeof ours);
        event_shape(sample, want, sizeof want);
        { /* the same members with the same types (in another order: compared as sets of lines) */
            char *line, copy[4096];
            int same = strlen(ours) == strlen(want) && count(want, "\n") > 20;
            snprintf(copy, sizeof copy, "%s", want);
            for (line = strtok(copy, "\n"); line && same; line = strtok(NULL, "\n")) same = has_line(ours, line);
            if (!same) printf("  ours:\n%s  the service's:\n%s", ours, want);
            LT_CHECK(same);
        }
        hres_free(&r);
        /* a GET: no body member, no cookies, no queryStringParameters */
        LT_CHECK(http_once(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(!strstr(r.body, "\"body\"") && !strstr(r.body, "\"cookies\"") && !strstr(r.body, "queryStringParameters"));
        LT_CHECK(strstr(r.body, "\"rawPath\":\"/\",\"rawQueryString\":\"\"") && strstr(r.body, "\"isBase64Encoded\":false}"));
        hres_free(&r);
        /* text that is not UTF-8, and a type that is not text: base64 */
        LT_CHECK(http_once(port, "POST /t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n\xff\xfe", &r) == 200);
        LT_CHECK(strstr(r.body, "\"body\":\"//4=\",\"isBase64Encoded\":true}") != NULL);
        hres_free(&r);
        LT_CHECK(http_once(port, "POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n<idk/>", &r) == 200);
        LT_CHECK(strstr(r.body, "\"body\":\"PGlkay8+\",\"isBase64Encoded\":true}") != NULL); /* as in the service's sample */
        hres_free(&r);
        LT_CHECK(http_once(port, "POST /t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n3\r\nh\xc3\xa9\r\n0\r\n\r\n", &r) == 200);
        LT_CHECK(strstr(r.body, "\"body\":\"h\xc3\xa9\",\"isBase64Encoded\":false}") != NULL);
        hres_free(&r);
    }
    free(sample);
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* The function's answers: status, headers and cookies as Set-Cookie, a JSON string without
   statusCode, a base64 body, a bad statusCode (502), a function error (502 with its document),
   a crash (502), a timeout (504), and the runtime restarted after them. */
static void test_http_answers(void)
{
    int bad0 = lt_bad_checks;
    pid_t pid = 0;
    int port = emu_http(self_exe, "--http-runtime", (const char *const[]){"-t", "0.5", NULL}, &pid);
    hres r;
    char *err;
    LT_CHECK(port > 0);
    if (port > 0) {
        LT_CHECK(http_once(port, "GET /cookies HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 201);
        LT_CHECK(strncmp(r.raw, "HTTP/1.1 201 Created\r\n", 22) == 0);
        LT_CHECK(hres_header_count(&r, "Set-Cookie") == 2);
        LT_CHECK(strstr(r.raw, "\r\nSet-Cookie: a=1; Path=/\r\n") && strstr(r.raw, "\r\nSet-Cookie: b=2; HttpOnly\r\n"));
        LT_CHECK(strcmp(hres_header(&r, "X-Custom"), "yes") == 0 && strcmp(hres_header(&r, "Content-Type"), "text/plain") == 0);
        LT_CHECK(strcmp(r.body, "made") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /string HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(strcmp(r.body, "\"Hello, world!\"") == 0 && strcmp(hres_header(&r, "Content-Type"), "application/json") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /b64 HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(r.body_len == 4 && memcmp(r.body, "\x00\x01\x02\xff", 4) == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /badstatus HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 502);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 502);
        LT_CHECK(strcmp(r.body, "{\"errorMessage\":\"it broke\",\"errorType\":\"My.Error\"}") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /exit HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 502);
        LT_CHECK(strcmp(error_type_of(r.body), "Runtime.ExitError") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 504);
        LT_CHECK(strcmp(error_type_of(r.body), "Sandbox.Timedout") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /cookies HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 201); /* a fresh runtime */
        hres_free(&r);
    }
    err = http_err_with("REPORT RequestId: ", 8);
    LT_CHECK(count(err, "Init Duration") == 3); /* restarted after the crash and after the timeout */
    LT_CHECK(strstr(err, "statusCode 42 is not a status") != NULL);
    if (lt_bad_checks > bad0) printf("%s", err);
    free(err);
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* examples/stream through the front: the prelude's status and headers, the body in pieces
   (chunked), no NUL byte (the prelude and its separator are never sent). */
static void test_http_stream_example(void)
{
    pid_t pid = 0;
    int port = emu_http(stream_ex, NULL, NULL, &pid);
    hres r;
    LT_CHECK(port > 0);
    if (port > 0) {
        LT_CHECK(http_once(port, "GET /?name=Ada%20%3CL%3E HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(strcmp(hres_header(&r, "Content-Type"), "text/html; charset=utf-8") == 0);
        LT_CHECK(r.chunked && r.complete && r.chunks >= 5);
        LT_CHECK(strncmp(r.body, "<!doctype html>\n<title>stream</title>\n<h1>Hello, Ada &lt;L&gt;</h1>\n<p>piece 1 of 5</p>\n", 85) == 0);
        LT_CHECK(strstr(r.body, "<p>piece 5 of 5</p>\n") != NULL && count(r.body, "<p>piece ") == 5);
        LT_CHECK(memchr(r.raw, 0, r.raw_len) == NULL && !strstr(r.raw, "statusCode"));
        hres_free(&r);
    }
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* A streamed answer reaches the client while the function is still writing it: the runtime
   waits for the gate file, which we create only once "one," has arrived. The prelude came in
   two chunks; its status, headers and cookie are applied. Then a raw stream (no prelude), a
   stream cut by error trailers, and HTTP/1.0 (no chunked body: the close ends it). */
static void test_http_stream_forwarded(void)
{
    char gate[512], envarg[600];
    pid_t pid = 0;
    int port, fd;
    hres r;
    snprintf(gate, sizeof gate, "%s/gate", tmpdir);
    unlink(gate);
    snprintf(envarg, sizeof envarg, "HTTP_GATE=%s", gate);
    port = emu_http(self_exe, "--http-runtime", (const char *const[]){"--env", envarg, NULL}, &pid);
    LT_CHECK(port > 0);
    fd = port > 0 ? tcp_connect(port) : -1;
    if (fd >= 0) {
        static const char req[] = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[8192];
        size_t n;
        send_all(fd, req, sizeof req - 1);
        n = recv_until(fd, buf, sizeof buf, 0, "one,\r\n", 10000);
        LT_CHECK(strncmp(buf, "HTTP/1.1 207 ", 13) == 0 && strstr(buf, "\r\none,\r\n") != NULL);
        LT_CHECK(strstr(buf, "\r\nx-s: 1\r\n") && strstr(buf, "\r\nSet-Cookie: s=1; Path=/\r\n"));
        LT_CHECK(strstr(buf, "\r\ncontent-type: text/plain\r\n") && strstr(buf, "\r\nTransfer-Encoding: chunked\r\n"));
        spit(gate, "go");
        n = recv_until(fd, buf, sizeof buf, n, "0\r\n\r\n", 10000);
        LT_CHECK(strstr(buf, "two,") && !strstr(buf, "two(late)") && strstr(buf, "three\r\n0\r\n\r\n"));
        LT_CHECK(memchr(buf, 0, n) == NULL);
        close(fd);
    }
    if (port > 0) {
        LT_CHECK(http_once(port, "GET /rawstream HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(r.chunked && r.complete && strcmp(r.body, "ab") == 0 && strcmp(hres_header(&r, "Content-Type"), "text/plain") == 0);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /cut HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 207);
        LT_CHECK(!r.complete && strcmp(r.body, "x") == 0); /* no last chunk: the client can tell */
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /rawstream HTTP/1.0\r\n\r\n", &r) == 200);
        LT_CHECK(!r.chunked && strcmp(r.body, "ab") == 0 && strcmp(hres_header(&r, "Connection"), "close") == 0);
        hres_free(&r);
    }
    emu_stop(pid);
    unlink(gate);
    LT_CHECK(leftovers() == 0);
}

/* Sends head and then body_len bytes of 'a' (in pieces, reading as it goes); returns the status. */
static int send_big(int port, const char *head, size_t body_len, int chunked, hres *r)
{
    static char piece[65536];
    int fd = tcp_connect(port), st;
    size_t sent = 0;
    memset(r, 0, sizeof *r);
    if (fd < 0) return 0;
    memset(piece, 'a', sizeof piece);
    send_all(fd, head, strlen(head));
    while (sent < body_len) {
        size_t n = body_len - sent < sizeof piece ? body_len - sent : sizeof piece;
        char sz[32];
        if (chunked) {
            snprintf(sz, sizeof sz, "%lx\r\n", (unsigned long)n);
            if (send_all(fd, sz, strlen(sz)) != 0) break;
        }
        if (send_all(fd, piece, n) != 0 || (chunked && send_all(fd, "\r\n", 2) != 0)) break; /* refused: stop */
        sent += n;
    }
    if (chunked && sent == body_len) send_all(fd, "0\r\n\r\n", 5);
    st = read_http(fd, r, 0, 10000);
    close(fd);
    return st;
}

/* 413 above 6,291,456 bytes, by Content-Length (with and without Expect: 100-continue) and as
   a chunked body, without invoking; exactly 6,291,456 passes (as text; as binary the event is over
   the runtime's own limit: its error, 502); a 70 KB head gets 431. */
static void test_http_limits(void)
{
    int bad0 = lt_bad_checks;
    char head[512];
    pid_t pid = 0;
    int port = emu_http(http_ex, NULL, NULL, &pid);
    hres r;
    char *err;
    LT_CHECK(port > 0);
    if (port > 0) {
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7000000\r\n\r\n");
        LT_CHECK(send_big(port, head, 7000000, 0, &r) == 413);
        LT_CHECK(strcmp(hres_header(&r, "Connection"), "close") == 0);
        hres_free(&r);
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7000000\r\n\r\n");
        LT_CHECK(send_big(port, head, 0, 0, &r) == 413); /* answered before any of the body */
        hres_free(&r);
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        LT_CHECK(send_big(port, head, 7000000, 1, &r) == 413);
        hres_free(&r);
        err = http_err();
        LT_CHECK(count(err, "REPORT RequestId") == 0 && count(err, "answered 413") == 3); /* nothing invoked */
        free(err);
        /* exactly the limit is invoked (not 413); echoed in its answer envelope it is over the
           function's 6,291,556-byte response limit, as it would be on Lambda */
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\n"
                                    "Content-Length: 6291456\r\n\r\n");
        LT_CHECK(send_big(port, head, 6291456, 0, &r) == 502);
        LT_CHECK(strcmp(error_type_of(r.body), "Function.ResponseSizeTooLarge") == 0);
        hres_free(&r);
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                                    "Content-Length: 6000000\r\n\r\n");
        LT_CHECK(send_big(port, head, 6000000, 0, &r) == 200);
        LT_CHECK(r.body_len == 6000000 && r.body[0] == 'a' && r.body[5999999] == 'a');
        hres_free(&r);
        /* binary: an 8.4 MB base64 event, over the runtime's own 8 MiB limit. It stops reading the
           event and posts /error for it: the invocation stays open for that (no endless retry) */
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                                    "Content-Length: 6291456\r\n\r\n");
        LT_CHECK(send_big(port, head, 6291456, 0, &r) == 502);
        LT_CHECK(strcmp(error_type_of(r.body), "Runtime.EventTooLarge") == 0);
        hres_free(&r);
        {
            char *big = malloc(70100);
            if (big) {
                memcpy(big, "GET /hello HTTP/1.1\r\nX-Big: ", 28);
                memset(big + 28, 'b', 70000);
                memcpy(big + 70028, "\r\n\r\n", 5);
                LT_CHECK(http_once(port, big, &r) == 431);
                hres_free(&r);
                free(big);
            }
        }
    }
    err = http_err_with("REPORT RequestId: ", 3); /* the 6 MB text, 6,000,000 bytes of text, binary */
    LT_CHECK(count(err, "REPORT RequestId") == 3 && count(err, "will retry") == 0);
    if (lt_bad_checks > bad0) printf("%s", err);
    free(err);
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* Several clients at once: one that stalls in its head and one in its body are dropped after
   --http-read-timeout (408, then the close) while others are served; a connected client that
   sends later is served; pipelined requests on one connection are answered in order. */
static void test_http_clients(void)
{
    int bad0 = lt_bad_checks;
    pid_t pid = 0;
    int port = emu_http(http_ex, NULL, (const char *const[]){"--http-read-timeout", "0.5", NULL}, &pid);
    int slow_head = -1, slow_body = -1, later = -1, pipe = -1;
    long long t0 = mono_ms();
    hres r;
    char *err;
    LT_CHECK(port > 0);
    if (port > 0) {
        slow_head = tcp_connect(port);
        slow_body = tcp_connect(port);
        later = tcp_connect(port);
        send_all(slow_head, "GET /hello HTTP/1.1\r\nHost: x\r\n", 30);
        send_all(slow_body, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 56);
        LT_CHECK(http_once(port, "GET /hello?name=B HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200); /* others go on */
        LT_CHECK(strcmp(r.body, "Hello, B!") == 0);
        hres_free(&r);
        LT_CHECK(read_http(slow_head, &r, 0, 5000) == 408 && closed_within(slow_head, 3000));
        hres_free(&r);
        LT_CHECK(read_http(slow_body, &r, 0, 5000) == 408 && closed_within(slow_body, 3000));
        hres_free(&r);
        LT_CHECK(mono_ms() - t0 < 4000);
        LT_CHECK(http_xchg(later, "GET /hello?name=C HTTP/1.1\r\nHost: x\r\n\r\n", 40, &r) == 200 && strcmp(r.body, "Hello, C!") == 0);
        hres_free(&r);
        pipe = tcp_connect(port);
        {
            static const char two[] = "GET /hello?name=P1 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=P2 HTTP/1.1\r\nHost: x\r\n\r\n";
            send_all(pipe, two, sizeof two - 1);
            LT_CHECK(read_http(pipe, &r, 0, 5000) == 200 && strcmp(r.body, "Hello, P1!") == 0);
            hres_free(&r);
            LT_CHECK(read_http(pipe, &r, 0, 5000) == 200 && strcmp(r.body, "Hello, P2!") == 0);
            hres_free(&r);
        }
        LT_CHECK(http_once(port, "BAD\r\n\r\n", &r) == 400);
        hres_free(&r);
    }
    err = http_err();
    LT_CHECK(count(err, "stalled sending a request") == 2 && strstr(err, "(its head;") && strstr(err, "(its body;"));
    if (lt_bad_checks > bad0) printf("%s", err);
    free(err);
    if (slow_head >= 0) close(slow_head);
    if (slow_body >= 0) close(slow_body);
    if (later >= 0) close(later);
    if (pipe >= 0) close(pipe);
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* --http-format 1.0 (REST API) and alb: their events (seen through /show) and answers. */
static void test_http_formats(void)
{
    static const char show[] = "POST /show?x=1&x=2&y=%7E HTTP/1.1\r\nHost: x\r\nX-Rep: 1\r\nx-rep: 2\r\n"
                               "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    pid_t pid = 0;
    int port = emu_http(self_exe, "--http-runtime", (const char *const[]){"--http-format", "1.0", NULL}, &pid);
    hres r;
    LT_CHECK(port > 0);
    if (port > 0) {
        LT_CHECK(http_once(port, show, &r) == 200);
        LT_CHECK(strncmp(r.body, "{\"resource\":\"/{proxy+}\",\"path\":\"/show\",\"httpMethod\":\"POST\",\"headers\":{", 63) == 0);
        LT_CHECK(strstr(r.body, "\"X-Rep\":\"2\"") && strstr(r.body, "\"multiValueHeaders\":{") && strstr(r.body, "\"X-Rep\":[\"1\",\"2\"]"));
        LT_CHECK(strstr(r.body, "\"queryStringParameters\":{\"x\":\"2\",\"y\":\"~\"},"
                                "\"multiValueQueryStringParameters\":{\"x\":[\"1\",\"2\"],\"y\":[\"~\"]},"
                                "\"pathParameters\":{\"proxy\":\"show\"},\"stageVariables\":null,") != NULL);
        LT_CHECK(strstr(r.body, "\"identity\":{") && strstr(r.body, "\"sourceIp\":\"127.0.0.1\"") &&
                 strstr(r.body, "\"resourcePath\":\"/{proxy+}\""));
        LT_CHECK(strstr(r.body, "\"body\":\"hi\",\"isBase64Encoded\":false}") != NULL);
        hres_free(&r);
        /* the event has no statusCode: a REST API answers 502 */
        LT_CHECK(http_once(port, "GET /a/b?x=1&x=2 HTTP/1.1\r\nHost: x\r\nX-Rep: 1\r\nX-Rep: 2\r\n\r\n", &r) == 502);
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /mv HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200);
        LT_CHECK(hres_header_count(&r, "Set-Cookie") == 2 && hres_header_count(&r, "X-M") == 2 && strcmp(r.body, "mv") == 0);
        hres_free(&r);
    }
    emu_stop(pid);
    {
        char *err = http_err();
        LT_CHECK(strstr(err, "not a JSON object with a statusCode") != NULL);
        free(err);
    }
    port = emu_http(self_exe, "--http-runtime", (const char *const[]){"--http-format", "alb", NULL}, &pid);
    LT_CHECK(port > 0);
    if (port > 0) {
        LT_CHECK(http_once(port, show, &r) == 200);
        LT_CHECK(strncmp(r.body, "{\"requestContext\":{\"elb\":{\"targetGroupArn\":\"arn:aws:elasticloadbalancing:", 70) == 0);
        LT_CHECK(strstr(r.body, "\"httpMethod\":\"POST\",\"path\":\"/show\",\"queryStringParameters\":{\"x\":\"2\",\"y\":\"%7E\"}"));
        LT_CHECK(strstr(r.body, "\"x-rep\":\"2\"") && strstr(r.body, "\"body\":\"hi\",\"isBase64Encoded\":false}"));
        hres_free(&r);
        LT_CHECK(http_once(port, "GET /alb HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 299);
        LT_CHECK(strncmp(r.raw, "HTTP/1.1 299 Fine\r\n", 19) == 0 && strcmp(r.body, "alb") == 0);
        hres_free(&r);
    }
    emu_stop(pid);
    LT_CHECK(leftovers() == 0);
}

/* The --http options on the command line. */
static void test_http_usage(void)
{
    const char *a1[] = {"--http", "0", "--http-format", "xml", "--", hello, NULL};
    const char *a2[] = {"--http-format", "1.0", "--", hello, NULL};
    const char *a3[] = {"--http", "127.0.0.1:99999", "--", hello, NULL};
    const char *a4[] = {"--help", NULL};
    run r = emu_run(a1, NULL, NULL);
    LT_CHECK(r.status == 2 && strstr(r.err, "bad value for --http-format: 'xml'") != NULL);
    run_free(&r);
    r = emu_run(a2, NULL, NULL);
    LT_CHECK(r.status == 2 && strstr(r.err, "go with --http") != NULL);
    run_free(&r);
    r = emu_run(a3, NULL, NULL);
    LT_CHECK(r.status == 2 && strstr(r.err, "cannot listen on 127.0.0.1:99999") != NULL);
    run_free(&r);
    r = emu_run(a4, NULL, NULL);
    LT_CHECK(r.status == 0 && strstr(r.out, "--http [HOST:]PORT") && strstr(r.out, "--http-format F") &&
             strstr(r.out, "--http-read-timeout SECONDS"));
    run_free(&r);
}

int main(int argc, char **argv)
{
    const char *dir;
    ssize_t n;
    if (argc == 2 && strcmp(argv[1], "--bad-runtime") == 0) return bad_runtime();
    if (argc == 2 && strcmp(argv[1], "--term-runtime") == 0) return term_runtime();
    if (argc == 2 && strcmp(argv[1], "--ext-runtime") == 0) return ext_runtime();
    if (argc == 2 && strcmp(argv[1], "--cpus-runtime") == 0) return cpus_runtime();
    if (argc == 2 && strcmp(argv[1], "--wrong-runtime") == 0) return wrong_runtime();
    if (argc == 2 && strcmp(argv[1], "--http-runtime") == 0) return http_runtime();
    if (argc != 3) {
        fprintf(stderr, "usage: %s <lambda-emu> <dir with hello/, probe/, rawstream/, extension/, features/, features-mt/ bootstraps>\n",
                argv[0]);
        return 2;
    }
    emu_path = argv[1];
    dir = argv[2];
    snprintf(hello, sizeof hello, "%s/hello/bootstrap", dir);
    snprintf(baseline, sizeof baseline, "%s/baseline/bootstrap", dir);
    snprintf(probe, sizeof probe, "%s/probe/bootstrap", dir);
    snprintf(rawstream, sizeof rawstream, "%s/rawstream/bootstrap", dir);
    snprintf(extension, sizeof extension, "%s/extension/bootstrap", dir);
    snprintf(features, sizeof features, "%s/features/bootstrap", dir);
    snprintf(features_mt, sizeof features_mt, "%s/features-mt/bootstrap", dir);
    snprintf(http_ex, sizeof http_ex, "%s/http/bootstrap", dir);
    snprintf(stream_ex, sizeof stream_ex, "%s/stream/bootstrap", dir);
    n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) return 2;
    self_exe[n] = 0;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_emu.XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    signal(SIGPIPE, SIG_IGN);
    /* what the emulator leaves behind becomes our child: see leftovers() */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) perror("prctl(PR_SET_CHILD_SUBREAPER)");

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
    LT_RUN(test_extension_example);
    LT_RUN(test_extension_timeout_reset);
    LT_RUN(test_shutdown_hook);
    LT_RUN(test_no_sigterm_without_extension);
    LT_RUN(test_sigterm_with_extension);
    LT_RUN(test_extension_registration_errors);
    LT_RUN(test_extension_init_error);
    LT_RUN(test_concurrency);
    LT_RUN(test_xml_checker);
    LT_RUN(test_bench_pinned);
    LT_RUN(test_bench_no_pin);
    LT_RUN(test_bench_compare);
    LT_RUN(test_bench_failing);
    LT_RUN(test_bench_usage);
    LT_RUN(test_http_example);
    LT_RUN(test_http_event);
    LT_RUN(test_http_answers);
    LT_RUN(test_http_stream_example);
    LT_RUN(test_http_stream_forwarded);
    LT_RUN(test_http_limits);
    LT_RUN(test_http_clients);
    LT_RUN(test_http_formats);
    LT_RUN(test_http_usage);

    {
        static const char *files[] = {"stdin", "stdout", "stderr", "listen.err", "listen.out", "a.json", "b.json",
                                      "bad.out", "gate", "hook.out", "term.out", "ext.out", "initerr-ext",
                                      "cpus.out", "bench.svg", "quits", "wrong", "http.err", "http.out"};
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
