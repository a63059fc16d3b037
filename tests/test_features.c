/* test_features.c - end-to-end tests of response streaming, lambda_log, the Extensions API client,
   the SIGTERM shutdown hook and multi-concurrency, against a scripted fake Runtime API.

   Usage: build/test_features [--mt-only] [--sizes] [--emu <lambda-emu>] <dir>
     <dir>/features/bootstrap      tests/handlers/features.c (built like the examples, or ASan)
     <dir>/features-mt/bootstrap   the same with -DLAMBDA_THREADS -pthread
     <dir>/stream/bootstrap        examples/stream
     <dir>/extension/bootstrap     examples/extension
     --mt-only  only the multi-concurrency scenarios with <dir>/features-mt (the TSan run)
     --sizes    also check <dir>/hello/bootstrap and <dir>/hello-malloc/bootstrap
                (tests/handlers/hello_malloc.c) against the size budget and print the sizes
     --emu      also run examples/stream under the emulator

   The server side is a small poll() loop over several connections (the runtime opens more than
   one for streaming, the shutdown hook and concurrency); each accepted connection is a
   rapi_server with no listening socket, so rapi_server's request parser and response writer do
   all the HTTP work. Every wait is bounded. */
#define LAMBDA_RUNTIME_IMPL
#include "../lambda_runtime.h" /* for lambda_json_* only: the runtime itself runs in the children */

#include "../tools/rapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define E2E_SHOW_MAX 1500
#define E2E_SHOW_CTL 1
#include "e2e_util.h"
#include "lt.h"

#define WAIT_MS 3000 /* longest wait for any one expected request or exit */
#define MAXC 24      /* connections per scenario */
#define UA "lambda_runtime.h/" LAMBDA_RUNTIME_VERSION
#define P_NEXT "/2018-06-01/runtime/invocation/next"
#define P_INVOKE "/2018-06-01/runtime/invocation/"
#define P_REGISTER "/2020-01-01/extension/register"
#define P_EVNEXT "/2020-01-01/extension/event/next"
#define TRAILER_DECL "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
/* Size budgets of the static musl bootstraps (x86_64, the Makefile's flags), in bytes.
   hello links no printf, no stdio and no malloc: 28 KiB. The others are what they are at
   0.2.0 rounded up to the next KiB (0.3.0: plus ~1.3 KB where a JSON writer or the HTTP
   answers are used, which name their first failed call; metrics and telemetry write
   doubles: 0.3.1 made their powers of ten 39 bases, 1,064 bytes instead of 9,872, and their
   budgets 61 and 63 KiB), a guard against growth, to be lowered as they shrink.
   hello-malloc is hello plus one malloc call (musl's allocator, about 7 KB). */
static const struct { const char *name; long budget; } size_budgets[] = {
    {"hello", 28672L},       {"echo", 25600L},   {"http", 47104L},
    {"sqs", 33792L},         {"s3", 34816L},
    {"stream", 51200L},      {"extension", 43008L}, {"hello-malloc", 36864L},
    {"metrics", 62464L},     {"telemetry", 64512L},
};

static char feat_path[4096], featmt_path[4096], stream_path[4096], ext_path[4096], hello_path[4096], hm_path[4096];
static const char *build_dir;
static const char *emu_path;
static char tmpdir[256];

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                               */

static int has(const char *hay, size_t n, const char *needle)
{
    return hay && find_mem(hay, n, needle, strlen(needle)) != NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int has_nocase(const char *hay, size_t n, const char *needle)
{
    size_t i, k, nl = strlen(needle);
    for (i = 0; hay && i + nl <= n; i++) {
        for (k = 0; k < nl && lower((unsigned char)hay[i + k]) == lower((unsigned char)needle[k]); k++) {
        }
        if (k == nl) return 1;
    }
    return 0;
}

static int str_is(const char *got, const char *want, const char *what)
{
    if (streq(got, want)) return 1;
    printf("    %s: got %s%s%s, want \"%s\"\n", what, got ? "\"" : "", got ? got : "(none)", got ? "\"" : "", want);
    return 0;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const char *in, size_t n, char *out)
{
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = ((unsigned)(unsigned char)in[i] << 16) | ((unsigned)(unsigned char)in[i + 1] << 8) |
                     (unsigned char)in[i + 2];
        *out++ = b64chars[(v >> 18) & 63];
        *out++ = b64chars[(v >> 12) & 63];
        *out++ = b64chars[(v >> 6) & 63];
        *out++ = b64chars[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;
        *out++ = b64chars[(v >> 18) & 63];
        *out++ = b64chars[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        unsigned v = ((unsigned)(unsigned char)in[i] << 16) | ((unsigned)(unsigned char)in[i + 1] << 8);
        *out++ = b64chars[(v >> 18) & 63];
        *out++ = b64chars[(v >> 12) & 63];
        *out++ = b64chars[(v >> 6) & 63];
        *out++ = '=';
    }
    *out = '\0';
}

/* One chunk of a chunked body: its data. */
typedef struct chunk {
    const char *p;
    size_t n;
} chunk;

/* Splits a chunked body (with its framing) into chunks. Returns the number of data chunks, or -1
   if the framing is not exactly "<lowercase hex>\r\n<data>\r\n"... "0\r\n". *rest = what follows
   the "0\r\n" line (trailers and the final CRLF). */
static int split_chunks(const char *p, size_t n, chunk *out, int max, const char **rest, size_t *rest_len)
{
    size_t i = 0;
    int k = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            size = size * 16 + (size_t)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
            i++;
            digits++;
        }
        if (digits == 0 || digits > 15 || i + 2 > n || p[i] != '\r' || p[i + 1] != '\n') return -1;
        if (digits > 1 && p[i - digits] == '0') return -1; /* no leading zeros */
        i += 2;
        if (size == 0) break;
        if (i + size + 2 > n || p[i + size] != '\r' || p[i + size + 1] != '\n') return -1;
        if (k < max) {
            out[k].p = p + i;
            out[k].n = size;
        }
        k++;
        i += size + 2;
    }
    *rest = p + i;
    *rest_len = n - i;
    return k;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static long days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", within 5 minutes of now */
static int timestamp_ok(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t i;
    long y, mo, d, h, mi, se;
    long long t;
    if (n != sizeof shape - 1) return 0;
    for (i = 0; i < n; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]) return 0;
    }
    y = atol(s);
    mo = atol(s + 5);
    d = atol(s + 8);
    h = atol(s + 11);
    mi = atol(s + 14);
    se = atol(s + 17);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
    t = (long long)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return llabs(t - wall_ms() / 1000) < 300;
}

/* ------------------------------------------------------------------------------------------ */
/* a fake Runtime API with several connections                                                 */

typedef struct fsrv {
    rapi_server lsn;     /* only its listening socket is used */
    rapi_server c[MAXC]; /* accepted connections in order (conn_seq = index + 1); conn_fd < 0 once closed */
    int n;               /* connections accepted so far */
    int eof[MAXC];       /* the peer closed c[i] */
} fsrv;

static int fsrv_open(fsrv *fs)
{
    memset(fs, 0, sizeof *fs);
    return rapi_server_open(&fs->lsn) == RAPI_OK;
}

static void fsrv_close(fsrv *fs)
{
    int i;
    for (i = 0; i < fs->n; i++) rapi_server_close(&fs->c[i]);
    rapi_server_close(&fs->lsn);
}

static void fsrv_accept(fsrv *fs)
{
    int fd, one = 1;
    rapi_server *c;
    do {
        fd = accept(fs->lsn.listen_fd, NULL, NULL);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return;
    if (fs->n >= MAXC) {
        close(fd);
        return;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = &fs->c[fs->n];
    memset(c, 0, sizeof *c);
    c->listen_fd = -1;
    c->conn_fd = fd;
    c->max_head = RAPI_DEFAULT_MAX_HEAD;
    c->max_body = RAPI_DEFAULT_MAX_BODY;
    c->accepts = (unsigned)(fs->n + 1); /* rapi_request.conn_seq */
    fs->n++;
}

/* One poll() round of at most timeout_ms: accepts new connections, notes closed ones. Returns
   the index of a connection with request bytes waiting, or -1. */
static int fsrv_poll(fsrv *fs, int timeout_ms)
{
    struct pollfd p[MAXC + 1];
    int idx[MAXC + 1], np = 0, i, k, r;
    for (i = 0; i < fs->n; i++)
        if (fs->c[i].conn_fd >= 0 && fs->c[i].in_len > 0) return i;
    p[np].fd = fs->lsn.listen_fd;
    p[np].events = POLLIN;
    p[np].revents = 0;
    idx[np++] = -1;
    for (i = 0; i < fs->n; i++) {
        if (fs->c[i].conn_fd < 0) continue;
        p[np].fd = fs->c[i].conn_fd;
        p[np].events = POLLIN;
        p[np].revents = 0;
        idx[np++] = i;
    }
    r = poll(p, (nfds_t)np, timeout_ms);
    if (r <= 0) return -1;
    for (k = 0; k < np; k++) {
        char b;
        ssize_t g;
        if (!p[k].revents) continue;
        if (idx[k] < 0) {
            fsrv_accept(fs);
            continue;
        }
        i = idx[k];
        g = recv(fs->c[i].conn_fd, &b, 1, MSG_PEEK);
        if (g > 0) return i;
        if (g == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            rapi_server_close_conn(&fs->c[i]);
            fs->eof[i] = 1;
        }
    }
    return -1;
}

/* Waits until the peer closes connection ci (1) or timeout / bytes arrive (0). */
static int fsrv_wait_closed(fsrv *fs, int ci, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (!fs->eof[ci] && fs->c[ci].conn_fd >= 0) {
        char b;
        ssize_t g = recv(fs->c[ci].conn_fd, &b, 1, MSG_PEEK);
        if (g == 0 || (g < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            rapi_server_close_conn(&fs->c[ci]);
            fs->eof[ci] = 1;
            break;
        }
        if (g > 0 || now_ms() >= deadline) return 0;
        sleep_ms(2);
    }
    return 1;
}

/* No bytes waiting on any live connection and no new connection (a quick look). */
static int fsrv_idle(fsrv *fs, int ms)
{
    int before = fs->n;
    long long deadline = now_ms() + ms;
    while (now_ms() < deadline) {
        if (fsrv_poll(fs, 10) >= 0) return 0;
    }
    return fs->n == before;
}

/* ------------------------------------------------------------------------------------------ */
/* one scenario: server + child process                                                        */

typedef struct scn {
    fsrv fs;
    pid_t pid;
    int reaped, status;
    char errpath[300], outpath[300];
    char *err, *out; /* the child's stderr and stdout, after scn_finish */
    size_t err_len, out_len;
    rapi_request req; /* the last request read ... */
    int have, ci;     /* ... and its connection */
    int bad_at_start;
    int json_stderr; /* every stderr line must be a JSON object */
    int shown;       /* stderr already printed */
} scn;

/* argv: NULL = { path }; env: NULL-terminated "K=V" list. */
static int scn_start(scn *s, const char *path, const char *const *argv, const char *const *env)
{
    static const char *const san_env[] = {"ASAN_OPTIONS=exitcode=86", "UBSAN_OPTIONS=print_stacktrace=1",
                                          "TSAN_OPTIONS=exitcode=87", NULL};
    char api[64];
    const char *envp[E2E_ENV_MAX];
    int efd, ofd;
    static unsigned serial;
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->ci = -1;
    s->bad_at_start = lt_bad_checks;
    if (!fsrv_open(&s->fs)) {
        LT_CHECK(!"server open");
        return 0;
    }
    child_env(envp, api, (unsigned)rapi_server_port(&s->fs.lsn), san_env, env);
    serial++;
    snprintf(s->errpath, sizeof s->errpath, "%s/stderr.%u", tmpdir, serial);
    snprintf(s->outpath, sizeof s->outpath, "%s/stdout.%u", tmpdir, serial);
    efd = open(s->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ofd = open(s->outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (efd < 0 || ofd < 0) {
        LT_CHECK(!"temporary files");
        return 0;
    }
    s->pid = spawn_child(path, argv, envp, ofd, efd, 0);
    close(efd);
    close(ofd);
    if (s->pid < 0) {
        LT_CHECK(!"fork");
        return 0;
    }
    return 1;
}

static int scn_wait_exit(scn *s, int timeout_ms)
{
    return wait_child(s->pid, &s->reaped, &s->status, timeout_ms);
}

static int exited_with(const scn *s, int code)
{
    if (child_exited_with(s->reaped, s->status, code)) return 1;
    if (!s->reaped) printf("    the child is still running (want exit status %d)\n", code);
    else if (WIFEXITED(s->status)) printf("    exit status %d, want %d\n", WEXITSTATUS(s->status), code);
    else printf("    killed by signal %d, want exit status %d\n", WTERMSIG(s->status), code);
    return 0;
}

/* Reads the next request (any connection) into s->req / s->ci. */
static int scn_read(scn *s, int timeout_ms, const char *what)
{
    long long deadline = now_ms() + timeout_ms;
    int ci = -1, rc = RAPI_ETIMEOUT, last = 0;
    if (s->have) rapi_request_free(&s->req);
    s->have = 0;
    for (;;) {
        long long left = deadline - now_ms();
        ci = fsrv_poll(&s->fs, left > 50 ? 50 : left < 0 ? 0 : (int)left);
        if (ci >= 0) {
            left = deadline - now_ms();
            rc = rapi_server_read_request(&s->fs.c[ci], &s->req, left < 1000 ? 1000 : (int)left);
            if (rc == RAPI_OK) break;
            printf("    reading a request on connection %d: %s\n", ci + 1, rapi_strerror(rc));
            return 0;
        }
        if (last || now_ms() >= deadline) break;
        if (scn_wait_exit(s, 0)) last = 1; /* gone: one more look for what it sent before dying */
    }
    if (ci < 0 || rc != RAPI_OK) {
        printf("    no %s request%s\n", what, s->reaped ? " (the child exited)" : "");
        return 0;
    }
    s->have = 1;
    s->ci = ci;
    return 1;
}

static void check_common(scn *s)
{
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", (unsigned)rapi_server_port(&s->fs.lsn));
    LT_CHECK(streq(s->req.version, "HTTP/1.1"));
    LT_CHECK(rapi_request_header_count(&s->req, "Host") == 1);
    LT_CHECK(str_is(rapi_request_header(&s->req, "Host"), host, "Host"));
    LT_CHECK(str_is(rapi_request_header(&s->req, "User-Agent"), UA, "User-Agent"));
    LT_CHECK(rapi_request_header(&s->req, "Expect") == NULL);
}

/* Reads a request and checks its method and target. */
static int scn_expect(scn *s, const char *method, const char *target)
{
    char what[300];
    snprintf(what, sizeof what, "%s %s", method, target);
    if (!scn_read(s, WAIT_MS, what)) {
        LT_CHECK(!"the expected request arrives");
        printf("    expected: %s\n", what);
        return 0;
    }
    if (!streq(s->req.method, method) || !streq(s->req.target, target)) {
        printf("    expected: %s\n", what);
        show("got", s->req.raw, s->req.head_len);
        LT_CHECK(!"the expected request");
        return 0;
    }
    check_common(s);
    return 1;
}

static int scn_expect_next(scn *s)
{
    if (!scn_expect(s, "GET", P_NEXT)) return 0;
    LT_CHECK(s->req.body_len == 0);
    return 1;
}

static int scn_expect_post(scn *s, const char *id, const char *kind)
{
    char t[512];
    snprintf(t, sizeof t, P_INVOKE "%s/%s", id, kind);
    return scn_expect(s, "POST", t);
}

/* Sends an event on connection ci: the usual context headers plus `extra` (raw lines). */
static int scn_event_on(scn *s, int ci, const char *id, const char *body, size_t len, const char *extra)
{
    rapi_response r;
    char h[2048];
    int rc;
    snprintf(h, sizeof h,
             "Lambda-Runtime-Aws-Request-Id: %s\r\n"
             "Lambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:features\r\n"
             "Content-Type: application/json\r\n%s",
             id, wall_ms() + 60000, extra ? extra : "");
    rapi_response_init(&r, 200);
    r.headers = h;
    r.body = body;
    r.body_len = len;
    rc = ci >= 0 && ci < s->fs.n ? rapi_server_send(&s->fs.c[ci], &r, WAIT_MS) : RAPI_ENOCONN;
    if (rc != RAPI_OK) printf("    sending event %s failed: %s\n", id, rapi_strerror(rc));
    return rc == RAPI_OK;
}

/* The event answers the last request read. */
static int scn_event(scn *s, const char *id, const char *body, const char *extra)
{
    return scn_event_on(s, s->ci, id, body, strlen(body), extra);
}

static int scn_send(scn *s, int ci, int status, const char *headers, const char *body)
{
    rapi_response r;
    int rc;
    rapi_response_init(&r, status);
    r.headers = headers;
    r.body = body;
    r.body_len = body ? strlen(body) : 0;
    rc = ci >= 0 && ci < s->fs.n ? rapi_server_send(&s->fs.c[ci], &r, WAIT_MS) : RAPI_ENOCONN;
    if (rc != RAPI_OK) printf("    sending a %d failed: %s\n", status, rapi_strerror(rc));
    return rc == RAPI_OK;
}

/* Answers the last request: 202 {"status":"OK"} or an error document. */
static int scn_reply(scn *s, int status)
{
    return scn_send(s, s->ci, status, "Content-Type: application/json\r\n",
                    status == 202 ? "{\"status\":\"OK\"}" : "{\"errorMessage\":\"scripted\",\"errorType\":\"Scripted\"}");
}

/* One buffered invocation on the current connection: event, POST /response with `want`, 202,
   and the next /next. */
static int scn_invoke(scn *s, const char *id, const char *event, const char *want)
{
    if (!scn_event(s, id, event, NULL) || !scn_expect_post(s, id, "response")) return 0;
    LT_CHECK(mem_is(s->req.body, s->req.body_len, want, strlen(want), id));
    return scn_reply(s, 202) && scn_expect_next(s);
}

/* Ends the scenario: SIGKILL if still running, reap, read stdout/stderr, generic checks. */
static void scn_finish(scn *s)
{
    kill_child(s->pid, &s->reaped, &s->status, 5000);
    s->err = take_file(s->errpath, &s->err_len, 1);
    s->out = take_file(s->outpath, &s->out_len, 1);
    LT_CHECK(!has(s->err, s->err_len, "Sanitizer"));
    LT_CHECK(!has(s->err, s->err_len, "runtime error:"));
    if (s->json_stderr && s->err) {
        const char *pos = s->err, *end = s->err + s->err_len, *p;
        size_t ll;
        while ((p = next_line(&pos, end, &ll)) != NULL) {
            lambda_str doc;
            lambda_json root;
            doc.ptr = p;
            doc.len = ll;
            if (ll > 0 && (lambda_json_validate(doc, &root, NULL) != 0 || root.type != LAMBDA_JSON_OBJECT)) {
                show("stderr line that is not a JSON object", p, ll);
                LT_CHECK(!"every stderr line is a JSON object");
            }
        }
    }
    if (lt_bad_checks != s->bad_at_start && s->err) {
        show("child stderr", s->err, s->err_len);
        s->shown = 1;
    }
    if (s->have) rapi_request_free(&s->req);
    s->have = 0;
    fsrv_close(&s->fs);
}

static void scn_free(scn *s)
{
    if (lt_bad_checks != s->bad_at_start && s->err && !s->shown) show("child stderr", s->err, s->err_len);
    if (lt_bad_checks != s->bad_at_start && s->out && s->out_len) show("child stdout", s->out, s->out_len);
    if (lt_bad_checks != s->bad_at_start && s->err && getenv("TEST_FEATURES_VERBOSE")) { /* everything */
        printf("    --- child stderr ---\n");
        fwrite(s->err, 1, s->err_len, stdout);
        printf("    ---\n");
    }
    free(s->err);
    free(s->out);
    s->err = s->out = NULL;
}

/* The i-th non-empty line of the child's stderr (after scn_finish); NULL past the end. */
static const char *err_line(const scn *s, int i, size_t *len)
{
    const char *pos = s->err, *end = s->err ? s->err + s->err_len : NULL, *p;
    size_t ll;
    while ((p = next_line(&pos, end, &ll)) != NULL) {
        if (ll > 0 && i-- == 0) {
            *len = ll;
            return p;
        }
    }
    *len = 0;
    return NULL;
}

static int err_lines(const scn *s)
{
    size_t l;
    int n = 0;
    while (err_line(s, n, &l)) n++;
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* log line parsing                                                                            */

typedef struct jline {
    int ok;                      /* a JSON object */
    char keys[8][32];            /* member names in order */
    int nkeys;
    char timestamp[64], level[16], request_id[256], tenant_id[256], logger[64];
    char message[16384];
    size_t message_len;
} jline;

static void jstr(lambda_json v, char *buf, size_t cap, size_t *len)
{
    if (lambda_json_string(v, buf, cap, len) != 0) {
        buf[0] = '\0';
        if (len) *len = 0;
    }
}

static void parse_jline(const char *p, size_t n, jline *j)
{
    lambda_str doc;
    lambda_json root, k, v;
    lambda_json_iter it;
    char key[64];
    memset(j, 0, sizeof *j);
    doc.ptr = p;
    doc.len = n;
    if (lambda_json_validate(doc, &root, NULL) != 0 || root.type != LAMBDA_JSON_OBJECT) return;
    j->ok = 1;
    lambda_json_iter_init(&it, root);
    while (lambda_json_next(&it, &k, &v) == 1) {
        jstr(k, key, sizeof key, NULL);
        if (j->nkeys < 8) strcpy(j->keys[j->nkeys++], strlen(key) < 32 ? key : "?");
        if (v.type != LAMBDA_JSON_STRING) continue;
        if (streq(key, "timestamp")) jstr(v, j->timestamp, sizeof j->timestamp, NULL);
        else if (streq(key, "level")) jstr(v, j->level, sizeof j->level, NULL);
        else if (streq(key, "requestId")) jstr(v, j->request_id, sizeof j->request_id, NULL);
        else if (streq(key, "tenantId")) jstr(v, j->tenant_id, sizeof j->tenant_id, NULL);
        else if (streq(key, "logger")) jstr(v, j->logger, sizeof j->logger, NULL);
        else if (streq(key, "message")) jstr(v, j->message, sizeof j->message, &j->message_len);
    }
}

/* keys: space-separated expected member names, in order */
static int keys_are(const jline *j, const char *keys)
{
    char buf[256];
    int i;
    buf[0] = '\0';
    for (i = 0; i < j->nkeys; i++) {
        if (i) strcat(buf, " ");
        strcat(buf, j->keys[i]);
    }
    if (streq(buf, keys)) return 1;
    printf("    keys: \"%s\", want \"%s\"\n", buf, keys);
    return 0;
}

/* A text log line: "<timestamp>\t<request id>\t<LEVEL>\t<message>" */
static int text_line_is(const char *p, size_t n, const char *rid, const char *level, const char *msg)
{
    char want[8192];
    const char *t = (const char *)memchr(p, '\t', n);
    int ok;
    if (!t || !timestamp_ok(p, (size_t)(t - p))) {
        show("text log line without a timestamp", p, n);
        return 0;
    }
    snprintf(want, sizeof want, "\t%s\t%s\t%s", rid, level, msg);
    ok = mem_is(t, n - (size_t)(t - p), want, strlen(want), "text log line");
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* streaming                                                                                   */

/* Waits until the bytes queued on connection ci (not consumed) contain `needle`; copies what is
   queued to buf. 1 if found. */
static int peek_until(scn *s, int ci, const char *needle, size_t nl, int timeout_ms, char *buf, size_t cap,
                      size_t *len)
{
    long long deadline = now_ms() + timeout_ms;
    *len = 0;
    if (ci < 0 || s->fs.c[ci].conn_fd < 0 || s->fs.c[ci].in_len != 0) return 0;
    for (;;) {
        ssize_t g = recv(s->fs.c[ci].conn_fd, buf, cap, MSG_PEEK);
        if (g > 0) {
            *len = (size_t)g;
            if (find_mem(buf, *len, needle, nl)) return 1;
        } else if (g == 0) {
            return 0;
        }
        if (now_ms() >= deadline) return 0;
        sleep_ms(2);
    }
}

/* Checks the head of a streamed /response. */
static void check_stream_head(scn *s, const char *content_type, const char *inv_id)
{
    LT_CHECK(str_is(rapi_request_header(&s->req, "Lambda-Runtime-Function-Response-Mode"), "streaming",
                    "Lambda-Runtime-Function-Response-Mode"));
    LT_CHECK(rapi_request_header_count(&s->req, "Transfer-Encoding") == 1);
    LT_CHECK(str_is(rapi_request_header(&s->req, "Transfer-Encoding"), "chunked", "Transfer-Encoding"));
    LT_CHECK(str_is(rapi_request_header(&s->req, "Trailer"), TRAILER_DECL, "Trailer"));
    LT_CHECK(str_is(rapi_request_header(&s->req, "Content-Type"), content_type, "Content-Type"));
    LT_CHECK(rapi_request_header_count(&s->req, "Content-Type") == 1);
    LT_CHECK(rapi_request_header(&s->req, "Content-Length") == NULL);
    if (inv_id) {
        LT_CHECK(rapi_request_header_count(&s->req, "Lambda-Runtime-Invocation-Id") == 1);
        LT_CHECK(str_is(rapi_request_header(&s->req, "Lambda-Runtime-Invocation-Id"), inv_id, "Invocation-Id"));
    } else {
        LT_CHECK(rapi_request_header(&s->req, "Lambda-Runtime-Invocation-Id") == NULL);
    }
    LT_CHECK(s->req.chunked);
}

static int body_framing_is(scn *s, const char *want, size_t wl)
{
    return mem_is(s->req.raw + s->req.head_len, s->req.raw_len - s->req.head_len, want, wl, "streamed body");
}

/* After the 202 for a streamed response: that connection is closed by the runtime and the next
   /next comes on a new one. */
static int stream_ack(scn *s)
{
    int ci = s->ci;
    unsigned seq = s->req.conn_seq;
    if (!scn_reply(s, 202)) return 0;
    if (!scn_expect_next(s)) return 0;
    LT_CHECK(s->req.conn_seq > seq);
    LT_CHECK(s->ci != ci);
    LT_CHECK(fsrv_wait_closed(&s->fs, ci, 1000));
    return 1;
}

/* stream:3:300: one chunk per write, each sent at once, the empty write sends nothing */
static void test_stream_chunks(void)
{
    static char buf[65536];
    static const char want[] = "6\r\npart0\n\r\n6\r\npart1\n\r\n6\r\npart2\n\r\n0\r\n\r\n";
    scn s;
    size_t len = 0;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s) &&
        scn_event(&s, "s-1", "stream:3:300", "Lambda-Runtime-Invocation-Id: inv-s1\r\n")) {
        int ci = s.ci;
        long long t0 = now_ms(), t1;
        /* part0 must arrive while the handler sleeps before part1 */
        int got = peek_until(&s, ci, "6\r\npart0\n\r\n", 11, WAIT_MS, buf, sizeof buf, &len);
        t1 = now_ms();
        LT_CHECK(got);
        LT_CHECK(got && !has(buf, len, "part1"));
        if (got && has(buf, len, "part1")) printf("    part0 arrived only with part1, after %lld ms\n", t1 - t0);
        if (got) { /* and the head is complete by then, with nothing before the first chunk */
            const char *eoh = find_mem(buf, len, "\r\n\r\n", 4);
            LT_CHECK(eoh && memcmp(eoh + 4, "6\r\npart0\n\r\n", 11) == 0);
        }
        if (scn_expect_post(&s, "s-1", "response")) {
            LT_CHECK(s.ci == ci);
            check_stream_head(&s, "text/plain", "inv-s1");
            LT_CHECK(body_framing_is(&s, want, sizeof want - 1));
            LT_CHECK(s.req.num_trailers == 0);
            LT_CHECK(now_ms() - t0 >= 500); /* it really waited between the writes */
            stream_ack(&s);
        }
    }
    scn_finish(&s);
    LT_CHECK(err_lines(&s) == 0);
    scn_free(&s);
}

/* chunk sizes in lower-case hex; an empty stream is just the last chunk; several streams in a row */
static void test_stream_sizes(void)
{
    static const size_t sizes[] = {300, 100000, 0, 1, 7000000}; /* 7 MB: over the buffered limit */
    scn s;
    size_t i;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char id[32], ev[64], hex[32];
            size_t k, n = sizes[i];
            char *want = (char *)malloc(n + 64), *w = want;
            snprintf(id, sizeof id, "z-%lu", (unsigned long)i);
            snprintf(ev, sizeof ev, "streamsize:%lu", (unsigned long)n);
            if (n) {
                snprintf(hex, sizeof hex, "%lx\r\n", (unsigned long)n);
                w += sprintf(w, "%s", hex);
                for (k = 0; k < n; k++) *w++ = (char)('a' + k % 26);
                w += sprintf(w, "\r\n");
            }
            w += sprintf(w, "0\r\n\r\n");
            if (!scn_event(&s, id, ev, NULL) || !scn_expect_post(&s, id, "response")) {
                free(want);
                break;
            }
            check_stream_head(&s, "application/octet-stream", NULL);
            LT_CHECK(body_framing_is(&s, want, (size_t)(w - want)));
            free(want);
            if (!stream_ack(&s)) break;
        }
    }
    scn_finish(&s);
    scn_free(&s);
}

/* failure after begin: the last chunk carries the error trailers */
static void test_stream_fail(void)
{
    static const struct {
        const char *cmd, *type, *msg, *data, *framed, *why;
    } rows[] = {
        {"streamfail", "Stream.Broken", "it broke", "a", "1\r\na\r\n", "lambda_error after a write"},
        {"streamfail0", "Stream.Early", "nothing written", "", "", "lambda_error right after begin"},
        {"streamret", "Runtime.HandlerFailed", "handler returned 3: not a LAMBDA_E_* code", "a", "1\r\na\r\n", "non-zero return after a write"},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char doc[256], b64[512], want[1024];
        scn s;
        printf("  %s\n", rows[r].why);
        snprintf(doc, sizeof doc, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\",\"stackTrace\":[]}", rows[r].msg,
                 rows[r].type);
        base64(doc, strlen(doc), b64);
        snprintf(want, sizeof want,
                 "%s0\r\nLambda-Runtime-Function-Error-Type: %s\r\n"
                 "Lambda-Runtime-Function-Error-Body: %s\r\n\r\n",
                 rows[r].framed, rows[r].type, b64);
        if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s) &&
            scn_event(&s, "f-1", rows[r].cmd, "Lambda-Runtime-Invocation-Id: inv-f1\r\n") &&
            scn_expect_post(&s, "f-1", "response")) {
            check_stream_head(&s, "text/plain", "inv-f1");
            LT_CHECK(body_framing_is(&s, want, strlen(want)));
            LT_CHECK(s.req.num_trailers == 2);
            LT_CHECK(str_is(rapi_request_trailer(&s.req, "Lambda-Runtime-Function-Error-Type"), rows[r].type,
                            "error type trailer"));
            LT_CHECK(str_is(rapi_request_trailer(&s.req, "Lambda-Runtime-Function-Error-Body"), b64, "error body trailer"));
            LT_CHECK(mem_is(s.req.body, s.req.body_len, rows[r].data, strlen(rows[r].data), "decoded body"));
            stream_ack(&s); /* and no POST /error: the next request is /next */
        }
        scn_finish(&s);
        scn_free(&s);
    }
}

/* failure before begin: a normal POST /error */
static void test_stream_fail_before(void)
{
    static const char doc[] = "{\"errorMessage\":\"no stream\",\"errorType\":\"Before.Begin\",\"stackTrace\":[]}";
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s) && scn_event(&s, "b-1", "failbefore", NULL) &&
        scn_expect_post(&s, "b-1", "error")) {
        const char *cl = rapi_request_header(&s.req, "Content-Length");
        LT_CHECK(cl && strtoul(cl, NULL, 10) == s.req.body_len);
        LT_CHECK(!s.req.chunked);
        LT_CHECK(rapi_request_header(&s.req, "Lambda-Runtime-Function-Response-Mode") == NULL);
        LT_CHECK(rapi_request_header(&s.req, "Trailer") == NULL);
        LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"), "Before.Begin", "error type"));
        LT_CHECK(mem_is(s.req.body, s.req.body_len, doc, sizeof doc - 1, "error body"));
        scn_reply(&s, 202);
        scn_expect_next(&s);
    }
    scn_finish(&s);
    scn_free(&s);
}

/* A handler that returns a code without lambda_error: the message says what the code means
   and which call on the response failed first (Runtime.HandlerFailed); returning 0 after a
   failed call sends the response and logs a warning naming the call. */
static void test_error_causes(void)
{
    static const struct {
        const char *cmd, *msg, *why;
    } rows[] = {
        {"retcode:-12", "handler returned -12: JSON key or index not found", "a LAMBDA_E_* code"},
        {"retcode:-19", "handler returned -19: a call out of order (JSON writer misuse, no HTTP answer open...)",
         "the last LAMBDA_E_* code"},
        {"retcode:7", "handler returned 7: not a LAMBDA_E_* code", "a positive number"},
        {"retcode:-20", "handler returned -20: not a LAMBDA_E_* code", "below the codes"},
        {"jwmisuse",
         "handler returned -19: a call out of order (JSON writer misuse, no HTTP answer open...); the first "
         "failed call: lambda_json_write_int64: a value where a key is due",
         "the writer's first misuse is named"},
    };
    size_t r;
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            char id[16], doc[512];
            printf("  %s\n", rows[r].why);
            snprintf(id, sizeof id, "c-%u", (unsigned)r);
            snprintf(doc, sizeof doc,
                     "{\"errorMessage\":\"%s\",\"errorType\":\"Runtime.HandlerFailed\","
                     "\"stackTrace\":[]}", rows[r].msg);
            if (!scn_event(&s, id, rows[r].cmd, NULL) || !scn_expect_post(&s, id, "error")) break;
            LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"),
                            "Runtime.HandlerFailed", "error type"));
            LT_CHECK(mem_is(s.req.body, s.req.body_len, doc, strlen(doc), "error document"));
            scn_reply(&s, 202);
            if (!scn_expect_next(&s)) break;
        }
        /* the cause does not leak into the next invocation */
        if (scn_event(&s, "c-n", "retcode:-12", NULL) && scn_expect_post(&s, "c-n", "error")) {
            static const char doc[] = "{\"errorMessage\":\"handler returned -12: JSON key or index "
                                      "not found\",\"errorType\":\"Runtime.HandlerFailed\","
                                      "\"stackTrace\":[]}";
            LT_CHECK(mem_is(s.req.body, s.req.body_len, doc, sizeof doc - 1, "next error document"));
            scn_reply(&s, 202);
            scn_expect_next(&s);
        }
        scn_invoke(&s, "c-0", "jwmisuse0", "{");
    }
    scn_finish(&s);
    {
        const char *pos = s.err, *end = s.err ? s.err + s.err_len : NULL, *p;
        size_t n;
        int warned = 0;
        while ((p = next_line(&pos, end, &n)) != NULL)
            if (starts_with(p, n, "lambda_runtime: warn: request c-0: the handler returned 0 "
                                  "after lambda_json_write_int64 failed: a value where a key is due"))
                warned++;
        LT_CHECK(warned == 1);
    }
    scn_free(&s);
}

/* after begin, the buffered-response calls are sent at once as chunks too (header doc) */
static void test_stream_append_after_begin(void)
{
    static const char want[] = "1\r\ns\r\n2\r\nzz\r\n2\r\np7\r\n3\r\n\"q\"\r\n8\r\nrc=0,0,0\r\n0\r\n\r\n";
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s) && scn_event(&s, "aa-1", "appendafter", NULL) &&
        scn_expect_post(&s, "aa-1", "response")) {
        check_stream_head(&s, "text/plain", NULL);
        LT_CHECK(body_framing_is(&s, want, sizeof want - 1));
        stream_ack(&s);
    }
    scn_finish(&s);
    scn_free(&s);
}

/* the HTTP integration prelude: exact bytes for two examples */
static void test_stream_http_prelude(void)
{
    static const struct {
        const char *cmd, *prelude, *why;
    } rows[] = {
        {"http", "{\"statusCode\":201,\"headers\":{\"content-type\":\"text/plain\",\"x-a\":\"b\"},\"cookies\":[\"c=1\"]}",
         "headers and cookies"},
        {"httpnull", "{\"statusCode\":200,\"headers\":{},\"cookies\":[]}", "NULL headers and cookies"},
    };
    scn s;
    size_t i;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            char want[1024], id[16];
            size_t pl = strlen(rows[i].prelude), n;
            snprintf(id, sizeof id, "h-%lu", (unsigned long)i);
            n = (size_t)sprintf(want, "%lx\r\n%s", (unsigned long)(pl + 8), rows[i].prelude);
            memset(want + n, 0, 8);
            n += 8;
            n += (size_t)sprintf(want + n, "\r\n5\r\nhello\r\n0\r\n\r\n");
            printf("  prelude: %s\n", rows[i].why);
            if (!scn_event(&s, id, rows[i].cmd, NULL) || !scn_expect_post(&s, id, "response")) break;
            check_stream_head(&s, "application/vnd.awslambda.http-integration-response", NULL);
            LT_CHECK(body_framing_is(&s, want, n));
            if (!stream_ack(&s)) break;
        }
    }
    scn_finish(&s);
    scn_free(&s);
}

/* prelude values that need escaping: the prelude is valid JSON and decodes to the input */
static void test_stream_http_escaping(void)
{
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s) && scn_event(&s, "he-1", "httpesc", NULL) &&
        scn_expect_post(&s, "he-1", "response")) {
        chunk ch[8];
        const char *rest;
        size_t rl;
        int n = split_chunks(s.req.raw + s.req.head_len, s.req.raw_len - s.req.head_len, ch, 8, &rest, &rl);
        check_stream_head(&s, "application/vnd.awslambda.http-integration-response", NULL);
        LT_CHECK(n == 2);
        if (n == 2) {
            static const char zeros[8] = {0};
            lambda_str doc;
            lambda_json root, v;
            char buf[256];
            int64_t code = 0;
            size_t bl = 0;
            LT_CHECK(ch[0].n > 8 && memcmp(ch[0].p + ch[0].n - 8, zeros, 8) == 0);
            doc.ptr = ch[0].p;
            doc.len = ch[0].n - 8;
            LT_CHECK(lambda_json_validate(doc, &root, NULL) == 0 && root.type == LAMBDA_JSON_OBJECT);
            if (lambda_json_validate(doc, &root, NULL) != 0) show("prelude", doc.ptr, doc.len);
            LT_CHECK(lambda_json_get(doc, "statusCode", &v) == 0 && lambda_json_int64(v, &code) == 0 && code == 202);
            LT_CHECK(lambda_json_get(doc, "headers.x-q", &v) == 0 && lambda_json_string(v, buf, sizeof buf, &bl) == 0 &&
                     mem_is(buf, bl, "a\"b\\c\n\x01\xc3\xa9", 9, "header value"));
            LT_CHECK(lambda_json_get(doc, "cookies[0]", &v) == 0 && lambda_json_string_eq(v, "d=\"e\"; Path=/"));
            LT_CHECK(lambda_json_get(doc, "cookies[1]", &v) == 0 && lambda_json_string_eq(v, "f=2"));
            LT_CHECK(lambda_json_get(doc, "cookies[2]", &v) == LAMBDA_E_NOT_FOUND);
            LT_CHECK(mem_is(ch[1].p, ch[1].n, "x", 1, "body chunk"));
            LT_CHECK(mem_is(rest, rl, "\r\n", 2, "after the last chunk"));
        }
        stream_ack(&s);
    }
    scn_finish(&s);
    scn_free(&s);
}

static const char fn_url_event[] =
    "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/\",\"rawQueryString\":\"name=Ada%20%3C3\","
    "\"headers\":{\"host\":\"abc.lambda-url.us-east-1.on.aws\"},"
    "\"queryStringParameters\":{\"name\":\"Ada <3\"},"
    "\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/\",\"protocol\":\"HTTP/1.1\"}},"
    "\"isBase64Encoded\":false}";

/* Checks a streamed function-URL answer from examples/stream: prelude, then the pieces. */
static void check_stream_example_body(const char *body, size_t n, int want_pieces_chunked, const chunk *ch, int nch)
{
    static const char zeros[8] = {0};
    const char *z = find_mem(body, n, zeros, 8);
    lambda_str doc;
    lambda_json v;
    int64_t code = 0;
    int i;
    LT_CHECK(z != NULL);
    if (!z) {
        show("stream example output", body, n);
        return;
    }
    doc.ptr = body;
    doc.len = (size_t)(z - body);
    LT_CHECK(lambda_json_validate(doc, NULL, NULL) == 0);
    LT_CHECK(lambda_json_get(doc, "statusCode", &v) == 0 && lambda_json_int64(v, &code) == 0 && code == 200);
    LT_CHECK(lambda_json_get(doc, "headers.content-type", &v) == 0 &&
             lambda_json_string_eq(v, "text/html; charset=utf-8"));
    LT_CHECK(has(z, n - (size_t)(z - body), "<h1>Hello, Ada &lt;3</h1>"));
    for (i = 1; i <= 5; i++) {
        char p[64];
        snprintf(p, sizeof p, "<p>piece %d of 5</p>\n", i);
        LT_CHECK(has(z, n - (size_t)(z - body), p));
        if (want_pieces_chunked && nch == 6) LT_CHECK(has(ch[i].p, ch[i].n, p)); /* one piece per chunk */
    }
}

/* examples/stream against the fake API: a prelude chunk, then 5 pieces, the first one early */
static void test_stream_example(void)
{
    static char buf[65536];
    scn s;
    size_t len = 0;
    if (scn_start(&s, stream_path, NULL, NULL) && scn_expect_next(&s) &&
        scn_event(&s, "ex-1", fn_url_event, "Lambda-Runtime-Invocation-Id: inv-ex1\r\n")) {
        int ci = s.ci;
        int got = peek_until(&s, ci, "piece 1 of 5", 12, WAIT_MS, buf, sizeof buf, &len);
        LT_CHECK(got);
        LT_CHECK(got && !has(buf, len, "piece 5 of 5")); /* streamed, not buffered */
        if (scn_expect_post(&s, "ex-1", "response")) {
            chunk ch[16];
            const char *rest;
            size_t rl;
            int n = split_chunks(s.req.raw + s.req.head_len, s.req.raw_len - s.req.head_len, ch, 16, &rest, &rl);
            check_stream_head(&s, "application/vnd.awslambda.http-integration-response", "inv-ex1");
            LT_CHECK(n == 6); /* the prelude, then one chunk per piece */
            if (n != 6) printf("    %d chunks\n", n);
            check_stream_example_body(s.req.body, s.req.body_len, 1, ch, n);
            stream_ack(&s);
        }
    }
    scn_finish(&s);
    LT_CHECK(err_lines(&s) == 0);
    scn_free(&s);
}

/* examples/stream under build/lambda-emu: the streamed bytes reach stdout */
static void test_stream_example_emu(void)
{
    char out[300], err[300];
    const char *argv[8];
    pid_t pid;
    int status = 0, reaped = 0;
    long long deadline;
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    int bad = lt_bad_checks;
    if (!emu_path) {
        printf("  (no --emu: skipped)\n");
        return;
    }
    snprintf(out, sizeof out, "%s/emu.out", tmpdir);
    snprintf(err, sizeof err, "%s/emu.err", tmpdir);
    argv[0] = emu_path;
    argv[1] = "-e";
    argv[2] = fn_url_event;
    argv[3] = "--";
    argv[4] = stream_path;
    argv[5] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int of = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int ef = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || of < 0 || ef < 0) _exit(126);
        dup2(in, 0);
        dup2(of, 1);
        dup2(ef, 2);
        execv(emu_path, (char *const *)argv);
        _exit(127);
    }
    LT_CHECK(pid > 0);
    if (pid <= 0) return;
    deadline = now_ms() + 10000;
    while (!reaped && now_ms() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
        else sleep_ms(5);
    }
    if (!reaped) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    LT_CHECK(reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    o = slurp(out, &ol);
    e = slurp(err, &el);
    check_stream_example_body(o, ol, 0, NULL, 0);
    LT_CHECK(ol > 0 && o[ol - 1] == '\n');
    LT_CHECK(!has(e, el, "ERROR"));
    if (lt_bad_checks != bad) show("emulator stderr", e, el);
    free(o);
    free(e);
    unlink(out);
    unlink(err);
}

/* ------------------------------------------------------------------------------------------ */
/* logging                                                                                     */

/* Text format, default level INFO, ctx == NULL, runtime lines unchanged, a cut long message. */
static void test_log_text(void)
{
    static const struct {
        const char *id, *cmd;
    } ev[] = {
        {"l-1", "log:INFO:hello world"}, {"l-2", "log:DEBUG:hidden"}, {"l-3", "log:TRACE:hidden"},
        {"l-4", "log:WARN:careful"},     {"l-5", "log:ERROR:bad"},    {"l-6", "log:FATAL:worse"},
        {"l-7", "lognull:INFO:no ctx"},  {"l-8", "loglong:10000"},    {"l-9", "loglong:3000"},
    };
    scn s;
    size_t i, ll;
    const char *l;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        for (i = 0; i < sizeof ev / sizeof ev[0]; i++)
            if (!scn_invoke(&s, ev[i].id, ev[i].cmd, "ok")) break;
        scn_invoke(&s, "l-s", "settings", "json=0 level=2 worker=0");
        /* a runtime line: the /response is answered 400 (logged, and the runtime goes on) */
        if (scn_event(&s, "l-10", "ctx", NULL) && scn_expect_post(&s, "l-10", "response")) {
            scn_reply(&s, 400);
            scn_expect_next(&s);
        }
    }
    scn_finish(&s);
    LT_CHECK(err_lines(&s) == 8);
    LT_CHECK((l = err_line(&s, 0, &ll)) && text_line_is(l, ll, "l-1", "INFO", "hello world"));
    LT_CHECK((l = err_line(&s, 1, &ll)) && text_line_is(l, ll, "l-4", "WARN", "careful"));
    LT_CHECK((l = err_line(&s, 2, &ll)) && text_line_is(l, ll, "l-5", "ERROR", "bad"));
    LT_CHECK((l = err_line(&s, 3, &ll)) && text_line_is(l, ll, "l-6", "FATAL", "worse"));
    LT_CHECK((l = err_line(&s, 4, &ll)) && text_line_is(l, ll, "-", "INFO", "no ctx"));
    if ((l = err_line(&s, 5, &ll)) != NULL) { /* the long one: cut to the line buffer, ends "..." */
        const char *t = (const char *)memchr(l, '\t', ll);
        LT_CHECK(ll + 1 <= 4096);
        LT_CHECK(ll > 1000);
        LT_CHECK(t && memcmp(t, "\tl-8\tINFO\txxx", 13) == 0);
        LT_CHECK(ll > 3 && memcmp(l + ll - 3, "...", 3) == 0);
        printf("  10000-byte message: text line of %lu bytes\n", (unsigned long)ll);
    }
    if ((l = err_line(&s, 6, &ll)) != NULL) { /* 3000 bytes fit in the line: not cut */
        const char *t = (const char *)memchr(l, '\t', ll);
        t = t ? (const char *)memchr(t + 1, '\t', ll - (size_t)(t + 1 - l)) : NULL;
        t = t ? (const char *)memchr(t + 1, '\t', ll - (size_t)(t + 1 - l)) : NULL;
        LT_CHECK(t && ll - (size_t)(t + 1 - l) == 3000 && strspn(t + 1, "x") == 3000);
    }
    /* the runtime's own line keeps its text format */
    {
        const char *pos = s.err, *end = s.err ? s.err + s.err_len : NULL, *p;
        size_t n;
        int runtime_lines = 0;
        while ((p = next_line(&pos, end, &n)) != NULL)
            if (starts_with(p, n, "lambda_runtime: ")) runtime_lines++;
        LT_CHECK(runtime_lines == 1);
    }
    scn_free(&s);
}

/* AWS_LAMBDA_LOG_LEVEL, case-insensitive: lines below it are dropped; ctx->log_level */
static void test_log_levels(void)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    static const struct {
        const char *env;
        int level;
        int json;
    } rows[] = {
        {"AWS_LAMBDA_LOG_LEVEL=TRACE", 0, 0}, {"AWS_LAMBDA_LOG_LEVEL=debug", 1, 1}, {"AWS_LAMBDA_LOG_LEVEL=Info", 2, 0},
        {"AWS_LAMBDA_LOG_LEVEL=warn", 3, 1},  {"AWS_LAMBDA_LOG_LEVEL=ERROR", 4, 0}, {"AWS_LAMBDA_LOG_LEVEL=fatal", 5, 1},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *env[3];
        scn s;
        int i, k = 0;
        char want[64];
        env[0] = rows[r].env;
        env[1] = rows[r].json ? "AWS_LAMBDA_LOG_FORMAT=JSON" : NULL;
        env[2] = NULL;
        printf("  %s%s\n", rows[r].env, rows[r].json ? " (JSON)" : "");
        if (scn_start(&s, feat_path, NULL, env) && scn_expect_next(&s)) {
            s.json_stderr = rows[r].json;
            for (i = 0; i < 6; i++) {
                char id[16], cmd[64];
                snprintf(id, sizeof id, "v-%d", i);
                snprintf(cmd, sizeof cmd, "log:%s:m%d", names[i], i);
                if (!scn_invoke(&s, id, cmd, "ok")) break;
            }
            snprintf(want, sizeof want, "json=%d level=%d worker=0", rows[r].json, rows[r].level);
            scn_invoke(&s, "v-s", "settings", want);
        }
        scn_finish(&s);
        LT_CHECK(err_lines(&s) == 6 - rows[r].level);
        for (i = rows[r].level; i < 6; i++, k++) {
            size_t ll;
            const char *l = err_line(&s, k, &ll);
            char id[16], msg[16];
            snprintf(id, sizeof id, "v-%d", i);
            snprintf(msg, sizeof msg, "m%d", i);
            LT_CHECK(l != NULL);
            if (!l) break;
            if (rows[r].json) {
                static jline j;
                parse_jline(l, ll, &j);
                LT_CHECK(j.ok && streq(j.level, names[i]) && streq(j.request_id, id) && streq(j.message, msg));
            } else {
                LT_CHECK(text_line_is(l, ll, id, names[i], msg));
            }
        }
        scn_free(&s);
    }
}

/* AWS_LAMBDA_LOG_FORMAT is compared case-insensitively; ctx->log_json */
static void test_log_format_env(void)
{
    static const struct {
        const char *env;
        int json;
    } rows[] = {
        {"AWS_LAMBDA_LOG_FORMAT=JSON", 1}, {"AWS_LAMBDA_LOG_FORMAT=json", 1}, {"AWS_LAMBDA_LOG_FORMAT=Json", 1},
        {"AWS_LAMBDA_LOG_FORMAT=Text", 0}, {"AWS_LAMBDA_LOG_FORMAT=", 0},     {NULL, 0},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *env[2];
        scn s;
        char want[64];
        size_t ll;
        const char *l;
        env[0] = rows[r].env;
        env[1] = NULL;
        printf("  %s\n", rows[r].env ? rows[r].env : "(unset)");
        if (scn_start(&s, feat_path, NULL, env) && scn_expect_next(&s)) {
            s.json_stderr = rows[r].json;
            snprintf(want, sizeof want, "json=%d level=2 worker=0", rows[r].json);
            scn_invoke(&s, "fmt-1", "settings", want);
            scn_invoke(&s, "fmt-2", "log:INFO:x", "ok");
        }
        scn_finish(&s);
        LT_CHECK(err_lines(&s) == 1);
        l = err_line(&s, 0, &ll);
        if (l && !rows[r].json) LT_CHECK(text_line_is(l, ll, "fmt-2", "INFO", "x"));
        if (l && rows[r].json) LT_CHECK(l[0] == '{');
        scn_free(&s);
    }
}

/* JSON format: keys and order, escaping, tenantId, ctx == NULL, cut long messages, runtime lines */
static void test_log_json(void)
{
    static const char tricky[] = "q\"b\\s\tt\x01 \xc3\xa9\nline2\x7f/";
    static const struct {
        const char *pat;
        size_t n;
    } longs[] = {{"x", 10000}, {"\"", 10000}, {"\xc3\xa9", 10000}, {"\x01", 5000}, {"ab\\", 9000}};
    const char *env[] = {"AWS_LAMBDA_LOG_FORMAT=json", NULL};
    static jline j;
    char cmd[256];
    scn s;
    size_t i, ll;
    const char *l;
    int k = 0, runtime_lines = 0;
    if (scn_start(&s, feat_path, NULL, env) && scn_expect_next(&s)) {
        s.json_stderr = 1;
        scn_invoke(&s, "j-1", "log:INFO:plain", "ok");
        snprintf(cmd, sizeof cmd, "log:WARN:%s", tricky);
        scn_invoke(&s, "j-2", cmd, "ok");
        if (scn_event(&s, "j-3", "log:ERROR:with tenant", "Lambda-Runtime-Aws-Tenant-Id: tenant-7\r\n") &&
            scn_expect_post(&s, "j-3", "response") && scn_reply(&s, 202))
            scn_expect_next(&s);
        scn_invoke(&s, "j-4", "lognull:INFO:nullctx", "ok");
        scn_invoke(&s, "j-5", "log:DEBUG:dropped", "ok");
        scn_invoke(&s, "j-6", "settings", "json=1 level=2 worker=0");
        scn_invoke(&s, "j-7", "loglong:100", "ok");
        scn_invoke(&s, "j-8", "loglong:3000", "ok");
        for (i = 0; i < sizeof longs / sizeof longs[0]; i++) {
            char id[16];
            snprintf(id, sizeof id, "jl-%lu", (unsigned long)i);
            snprintf(cmd, sizeof cmd, "loglong:%lu:%s", (unsigned long)longs[i].n, longs[i].pat);
            if (!scn_invoke(&s, id, cmd, "ok")) break;
        }
        /* a runtime line inside an invocation: the /response is answered 400 */
        if (scn_event(&s, "j-9", "ctx", NULL) && scn_expect_post(&s, "j-9", "response")) {
            scn_reply(&s, 400);
            if (scn_expect_next(&s)) scn_reply(&s, 500); /* and a fatal one: the runtime stops */
            scn_wait_exit(&s, WAIT_MS);
            LT_CHECK(s.reaped && !(WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0));
        }
    }
    scn_finish(&s);

    l = err_line(&s, k++, &ll);
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && keys_are(&j, "timestamp level requestId message"));
    LT_CHECK(timestamp_ok(j.timestamp, strlen(j.timestamp)));
    LT_CHECK(streq(j.level, "INFO") && streq(j.request_id, "j-1") && streq(j.message, "plain"));
    LT_CHECK(l && has(l, ll, "\"level\":\"INFO\"")); /* compact: no spaces */

    l = err_line(&s, k++, &ll);
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && keys_are(&j, "timestamp level requestId message"));
    LT_CHECK(streq(j.level, "WARN") && streq(j.request_id, "j-2"));
    LT_CHECK(mem_is(j.message, j.message_len, tricky, sizeof tricky - 1, "escaped message"));

    l = err_line(&s, k++, &ll);
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && keys_are(&j, "timestamp level requestId message tenantId"));
    LT_CHECK(streq(j.level, "ERROR") && streq(j.request_id, "j-3") && streq(j.tenant_id, "tenant-7"));

    l = err_line(&s, k++, &ll);
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && keys_are(&j, "timestamp level message"));
    LT_CHECK(streq(j.level, "INFO") && streq(j.message, "nullctx"));

    l = err_line(&s, k++, &ll); /* loglong:100 is not cut */
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && j.message_len == 100 && strspn(j.message, "x") == 100);
    l = err_line(&s, k++, &ll); /* loglong:3000 fits in the line: not cut either */
    parse_jline(l ? l : "", ll, &j);
    LT_CHECK(j.ok && j.message_len == 3000 && strspn(j.message, "x") == 3000);

    for (i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        char id[16];
        size_t pl = strlen(longs[i].pat), q;
        snprintf(id, sizeof id, "jl-%lu", (unsigned long)i);
        l = err_line(&s, k++, &ll);
        parse_jline(l ? l : "", ll, &j);
        LT_CHECK(j.ok);
        if (!j.ok) show("long line", l, ll);
        LT_CHECK(ll + 1 <= 4096);
        LT_CHECK(streq(j.request_id, id));
        LT_CHECK(j.message_len > 3 && memcmp(j.message + j.message_len - 3, "...", 3) == 0);
        /* what is kept is a prefix of the message, cut on a whole character */
        for (q = 0; j.message_len > 3 && q < j.message_len - 3; q++)
            if (j.message[q] != longs[i].pat[q % pl]) break;
        LT_CHECK(j.message_len > 3 && q == j.message_len - 3);
        LT_CHECK(j.message_len > 200);
        if (ll > 0) printf("  long message of %lu x \"%s\": line %lu bytes, message kept %lu bytes\n",
                           (unsigned long)longs[i].n, i == 3 ? "\\x01" : longs[i].pat, (unsigned long)ll,
                           (unsigned long)j.message_len);
    }
    /* the rest are the runtime's own lines */
    while ((l = err_line(&s, k++, &ll)) != NULL) {
        parse_jline(l, ll, &j);
        LT_CHECK(j.ok && streq(j.logger, "lambda_runtime"));
        LT_CHECK(j.nkeys >= 4 && streq(j.keys[0], "timestamp") && streq(j.keys[1], "level"));
        LT_CHECK(streq(j.level, "ERROR") || streq(j.level, "WARN") || streq(j.level, "FATAL") ||
                 streq(j.level, "INFO"));
        LT_CHECK(j.message_len > 0 && timestamp_ok(j.timestamp, strlen(j.timestamp)));
        LT_CHECK(j.request_id[0] == '\0' || streq(j.request_id, "j-9"));
        runtime_lines++;
    }
    LT_CHECK(runtime_lines >= 2); /* the 400 and the fatal 500 */
    printf("  runtime lines in JSON mode: %d\n", runtime_lines);
    for (i = 0; (l = err_line(&s, (int)i, &ll)) != NULL; i++)
        if (has(l, ll, "\"logger\"")) {
            show("e.g.", l, ll);
            break;
        }
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* the Extensions API client (features bootstrap, extension mode)                              */

static int start_ext(scn *s, const char *name, int events, const char *script)
{
    char ev[16];
    const char *argv[6];
    snprintf(ev, sizeof ev, "%d", events);
    argv[0] = feat_path;
    argv[1] = "ext";
    argv[2] = name;
    argv[3] = ev;
    argv[4] = script;
    argv[5] = NULL;
    return scn_start(s, feat_path, argv, NULL);
}

static int expect_register(scn *s, const char *name, const char *body)
{
    if (!scn_expect(s, "POST", P_REGISTER)) return 0;
    LT_CHECK(str_is(rapi_request_header(&s->req, "Lambda-Extension-Name"), name, "Lambda-Extension-Name"));
    LT_CHECK(mem_is(s->req.body, s->req.body_len, body, strlen(body), "register body"));
    LT_CHECK(rapi_request_header(&s->req, "Lambda-Runtime-Function-Response-Mode") == NULL);
    return 1;
}

static int reply_register(scn *s, const char *id)
{
    char h[256];
    snprintf(h, sizeof h, "Lambda-Extension-Identifier: %s\r\nContent-Type: application/json\r\n", id);
    return scn_send(s, s->ci, 200, h, "{\"functionName\":\"features\",\"functionVersion\":\"$LATEST\",\"handler\":\"h\"}");
}

static int expect_event_next(scn *s, const char *id)
{
    if (!scn_expect(s, "GET", P_EVNEXT)) return 0;
    LT_CHECK(str_is(rapi_request_header(&s->req, "Lambda-Extension-Identifier"), id, "Lambda-Extension-Identifier"));
    LT_CHECK(s->req.body_len == 0);
    return 1;
}

static int send_ext_event(scn *s, const char *doc)
{
    return scn_send(s, s->ci, 200, "Content-Type: application/json\r\nLambda-Extension-Event-Identifier: ev-1\r\n", doc);
}

static int out_is(const scn *s, const char *want)
{
    return mem_is(s->out, s->out_len, want, strlen(want), "stdout");
}

/* register bodies for every event mask */
static void test_ext_register(void)
{
    static const struct {
        int events;
        const char *body;
    } rows[] = {
        {3, "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}"},
        {1, "{\"events\":[\"INVOKE\"]}"},
        {2, "{\"events\":[\"SHUTDOWN\"]}"},
        {0, "{\"events\":[]}"},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        scn s;
        char id[32], want[64];
        snprintf(id, sizeof id, "id-%lu", (unsigned long)r);
        snprintf(want, sizeof want, "register rc=0 id=%s\n", id);
        if (start_ext(&s, "feat-ext", rows[r].events, "reg") && expect_register(&s, "feat-ext", rows[r].body) &&
            reply_register(&s, id)) {
            scn_wait_exit(&s, WAIT_MS);
            LT_CHECK(exited_with(&s, 0));
        }
        scn_finish(&s);
        LT_CHECK(out_is(&s, want));
        scn_free(&s);
    }
}

/* INVOKE and SHUTDOWN events: fields unescaped, any key order */
static void test_ext_events(void)
{
    static const char invoke[] =
        "{\"eventType\":\"INVOKE\",\"deadlineMs\":1700000000000,\"requestId\":\"r\\u00311\\\"q\","
        "\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:123456789012:function:f\","
        "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\"}}";
    static const char shutdown[] = "{\"deadlineMs\":1700000000500, \"shutdownReason\":\"spin\\/down\",\"eventType\":\"SHUTDOWN\"}";
    char want[2048];
    scn s;
    snprintf(want, sizeof want,
             "register rc=0 id=ext-1\n"
             "next rc=0 type=1 deadline=1700000000000 rid=r11\"q arn=arn:aws:lambda:us-east-1:123456789012:function:f "
             "tracing=Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1 reason=\n"
             "json=%s\n"
             "next rc=0 type=2 deadline=1700000000500 rid= arn= tracing= reason=spin/down\n"
             "json=%s\n",
             invoke, shutdown);
    if (start_ext(&s, "feat-ext", 3, "loop") && expect_register(&s, "feat-ext", "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}") &&
        reply_register(&s, "ext-1") && expect_event_next(&s, "ext-1") && send_ext_event(&s, invoke) &&
        expect_event_next(&s, "ext-1") && send_ext_event(&s, shutdown)) {
        scn_wait_exit(&s, WAIT_MS);
        LT_CHECK(exited_with(&s, 0));
    }
    scn_finish(&s);
    LT_CHECK(out_is(&s, want));
    LT_CHECK(err_lines(&s) == 0);
    scn_free(&s);
}

/* register must fail (negative, one log line) on anything but 200 with an identifier */
static void test_ext_register_fail(void)
{
    static const struct {
        int status;
        const char *headers, *body, *why;
    } rows[] = {
        {403, "Content-Type: application/json\r\n", "{\"errorMessage\":\"closed\",\"errorType\":\"Extension.RegistrationClosed\"}",
         "403"},
        {400, "Content-Type: application/json\r\n", "{\"errorMessage\":\"bad\",\"errorType\":\"Extension.InvalidEventType\"}",
         "400"},
        {500, "Content-Type: application/json\r\n", "{}", "500"},
        {200, "Content-Type: application/json\r\n", "{\"functionName\":\"f\"}", "200 without Lambda-Extension-Identifier"},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        scn s;
        printf("  register answered %s\n", rows[r].why);
        if (start_ext(&s, "feat-ext", 3, "loop") && expect_register(&s, "feat-ext", "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}") &&
            scn_send(&s, s.ci, rows[r].status, rows[r].headers, rows[r].body)) {
            scn_wait_exit(&s, WAIT_MS);
            LT_CHECK(exited_with(&s, 3));
        }
        scn_finish(&s);
        LT_CHECK(s.out_len > 13 && memcmp(s.out, "register rc=-", 13) == 0);
        LT_CHECK(err_lines(&s) == 1);
        if (s.out_len <= 13 || memcmp(s.out, "register rc=-", 13) != 0) show("stdout", s.out, s.out_len);
        scn_free(&s);
    }
}

/* next: 500 -> LAMBDA_E_STATUS; 403 -> negative */
static void test_ext_next_status(void)
{
    static const struct {
        int status;
        const char *want;
    } rows[] = {{500, "next rc=-6\n"}, {403, "next rc=-"}};
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        scn s;
        char want[128];
        snprintf(want, sizeof want, "register rc=0 id=ext-n\n%s", rows[r].want);
        if (start_ext(&s, "feat-ext", 1, "next1") && expect_register(&s, "feat-ext", "{\"events\":[\"INVOKE\"]}") &&
            reply_register(&s, "ext-n") && expect_event_next(&s, "ext-n") &&
            scn_send(&s, s.ci, rows[r].status, "Content-Type: application/json\r\n",
                     "{\"errorMessage\":\"x\",\"errorType\":\"Extension.Scripted\"}")) {
            scn_wait_exit(&s, WAIT_MS);
            LT_CHECK(exited_with(&s, 2));
        }
        scn_finish(&s);
        LT_CHECK(s.out_len >= strlen(want) && memcmp(s.out, want, strlen(want)) == 0);
        if (!(s.out_len >= strlen(want) && memcmp(s.out, want, strlen(want)) == 0)) show("stdout", s.out, s.out_len);
        scn_free(&s);
    }
}

/* init/error and exit/error */
static void test_ext_error(void)
{
    static const struct {
        const char *script, *path, *type, *msg;
    } rows[] = {
        {"initerr", "/2020-01-01/extension/init/error", "Extension.ConfigInvalid", "bad config 7"},
        {"exiterr", "/2020-01-01/extension/exit/error", "Extension.Crashed", "exit now"},
    };
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        scn s;
        if (start_ext(&s, "feat-ext", 3, rows[r].script) &&
            expect_register(&s, "feat-ext", "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}") && reply_register(&s, "ext-e") &&
            scn_expect(&s, "POST", rows[r].path)) {
            lambda_str doc;
            lambda_json v;
            const char *cl = rapi_request_header(&s.req, "Content-Length");
            doc.ptr = s.req.body;
            doc.len = s.req.body_len;
            LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Extension-Identifier"), "ext-e", "Lambda-Extension-Identifier"));
            LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Extension-Function-Error-Type"), rows[r].type,
                            "Lambda-Extension-Function-Error-Type"));
            LT_CHECK(cl && strtoul(cl, NULL, 10) == s.req.body_len);
            LT_CHECK(lambda_json_validate(doc, NULL, NULL) == 0);
            LT_CHECK(lambda_json_get(doc, "errorMessage", &v) == 0 && lambda_json_string_eq(v, rows[r].msg));
            LT_CHECK(lambda_json_get(doc, "errorType", &v) == 0 && lambda_json_string_eq(v, rows[r].type));
            if (lambda_json_get(doc, "errorType", &v) != 0) show("error body", s.req.body, s.req.body_len);
            scn_send(&s, s.ci, 202, "Content-Type: application/json\r\n", "{\"status\":\"OK\"}");
            scn_wait_exit(&s, WAIT_MS);
            LT_CHECK(exited_with(&s, 0));
        }
        scn_finish(&s);
        LT_CHECK(out_is(&s, "register rc=0 id=ext-e\nerror rc=0\n"));
        scn_free(&s);
    }
}

/* examples/extension, installed as /opt/extensions/demo-ext: registers under its file name,
   counts INVOKEs, prints one summary line on SHUTDOWN and exits 0 */
static void test_ext_example(void)
{
    static const char inv1[] = "{\"eventType\":\"INVOKE\",\"deadlineMs\":1700000000000,\"requestId\":\"r1\","
                               "\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:1:function:f\","
                               "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"Root=1-a\"}}";
    static const char inv2[] = "{\"eventType\":\"INVOKE\",\"deadlineMs\":1700000001000,\"requestId\":\"r2\","
                               "\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:1:function:f\","
                               "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"Root=1-b\"}}";
    static const char down[] = "{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":\"timeout\",\"deadlineMs\":1700000002000}";
    static const char want[] = "{\"extension\":\"demo-ext\",\"invocations\":2,\"shutdownReason\":\"timeout\"}\n";
    const char *argv[] = {"/opt/extensions/demo-ext", NULL};
    scn s;
    if (scn_start(&s, ext_path, argv, NULL) && expect_register(&s, "demo-ext", "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}") &&
        reply_register(&s, "demo-id") && expect_event_next(&s, "demo-id") && send_ext_event(&s, inv1) &&
        expect_event_next(&s, "demo-id") && send_ext_event(&s, inv2) && expect_event_next(&s, "demo-id") &&
        send_ext_event(&s, down)) {
        scn_wait_exit(&s, WAIT_MS);
        LT_CHECK(exited_with(&s, 0));
    }
    scn_finish(&s);
    LT_CHECK(out_is(&s, want));
    {
        lambda_str doc;
        doc.ptr = s.out;
        doc.len = s.out_len;
        LT_CHECK(lambda_json_validate(doc, NULL, NULL) == 0);
    }
    LT_CHECK(err_lines(&s) == 0);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* the shutdown hook                                                                           */

/* The hook ran exactly once: its file holds one "shutdown" line. Removes the file. */
static void check_hook_ran(const char *file)
{
    size_t n = 0;
    char *c = slurp(file, &n);
    LT_CHECK(mem_is(c, n, "shutdown\n", 9, "on_shutdown file"));
    free(c);
    unlink(file);
}

/* register {"events":[]}, parked event/next on another connection, /next loop; SIGTERM while
   waiting for /next -> on_shutdown, exit 0. after_events: invocations served before SIGTERM. */
static void shutdown_case(int after_events, int json, int field_only)
{
    char file[300], envf[340];
    const char *env[4];
    scn s;
    int reg_ci = -1, park_ci = -1, next_ci = -1, i;
    snprintf(file, sizeof file, "%s/shutdown.%d", tmpdir, after_events);
    unlink(file);
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = envf;
    env[1] = field_only ? "FEATURES_SHUTDOWN_FIELD=1" : json ? "AWS_LAMBDA_LOG_FORMAT=JSON" : NULL;
    env[2] = field_only && json ? "AWS_LAMBDA_LOG_FORMAT=JSON" : NULL;
    env[3] = NULL;
    if (scn_start(&s, feat_path, NULL, env) && scn_expect(&s, "POST", P_REGISTER)) {
        const char *name = rapi_request_header(&s.req, "Lambda-Extension-Name");
        s.json_stderr = json;
        reg_ci = s.ci;
        LT_CHECK(name && name[0]);
        LT_CHECK(mem_is(s.req.body, s.req.body_len, "{\"events\":[]}", 13, "register body"));
        reply_register(&s, "int-1");
        for (i = 0; i < 2; i++) { /* the parked event/next and /next, on different connections */
            if (!scn_read(&s, WAIT_MS, "event/next or /next")) break;
            check_common(&s);
            if (streq(s.req.method, "GET") && streq(s.req.target, P_EVNEXT) && park_ci < 0) {
                park_ci = s.ci;
                LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Extension-Identifier"), "int-1",
                                "Lambda-Extension-Identifier"));
            } else if (streq(s.req.method, "GET") && streq(s.req.target, P_NEXT) && next_ci < 0) {
                next_ci = s.ci;
            } else {
                show("unexpected request", s.req.raw, s.req.head_len);
                LT_CHECK(!"event/next and /next");
            }
        }
        LT_CHECK(park_ci >= 0 && next_ci >= 0 && park_ci != next_ci);
        (void)reg_ci;
        if (next_ci >= 0) {
            long long t0;
            s.ci = next_ci;
            for (i = 0; i < after_events; i++) {
                char id[16];
                snprintf(id, sizeof id, "sd-%d", i);
                if (!scn_invoke(&s, id, "ctx", id)) break;
            }
            LT_CHECK(access(file, F_OK) != 0); /* not before SIGTERM */
            sleep_ms(30);
            t0 = now_ms();
            kill(s.pid, SIGTERM);
            scn_wait_exit(&s, 2000);
            LT_CHECK(exited_with(&s, 0));
            LT_CHECK(now_ms() - t0 < 1000);
            printf("  SIGTERM to exit: %lld ms\n", now_ms() - t0);
            LT_CHECK(fsrv_idle(&s.fs, 20)); /* nothing posted on the way out */
        }
    }
    scn_finish(&s);
    check_hook_ran(file);
    LT_CHECK(has(s.err, s.err_len, "on_shutdown called"));
    scn_free(&s);
}

static void test_shutdown_hook(void)
{
    shutdown_case(2, 0, 0);
}

static void test_shutdown_hook_before_first_event(void)
{
    shutdown_case(0, 1, 0);
}

/* lambda_config.on_shutdown set without lambda_on_shutdown(): the header documents that
   the setter is required (it links the SIGTERM code); the runtime says so in one warning
   line and does not register */
static void test_shutdown_field_only(void)
{
    char file[300], envf[340];
    const char *env[3];
    scn s;
    size_t ll = 0;
    const char *l;
    snprintf(file, sizeof file, "%s/shutdown.field", tmpdir);
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = envf;
    env[1] = "FEATURES_SHUTDOWN_FIELD=1";
    env[2] = NULL;
    if (scn_start(&s, feat_path, NULL, env) && scn_expect_next(&s)) scn_invoke(&s, "sf-1", "ctx", "sf-1");
    scn_finish(&s);
    LT_CHECK(err_lines(&s) == 1);
    l = err_line(&s, 0, &ll);
    LT_CHECK(l && has(l, ll, "lambda_on_shutdown()"));
    scn_free(&s);
}

/* Starts `path` with the hook (register answered 200, parked event/next, /next) and one more
   environment entry `extra` (or NULL); s->ci = the /next connection. */
static int shutdown_setup_with(scn *s, const char *path, const char *file, const char *extra)
{
    char envf[340];
    const char *env[3];
    int park = -1, next = -1, i;
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = envf;
    env[1] = extra;
    env[2] = NULL;
    if (!scn_start(s, path, NULL, env) || !scn_expect(s, "POST", P_REGISTER) || !reply_register(s, "int-2")) return 0;
    for (i = 0; i < 2; i++) {
        if (!scn_read(s, WAIT_MS, "event/next or /next")) return 0;
        if (streq(s->req.target, P_EVNEXT)) park = s->ci;
        else if (streq(s->req.target, P_NEXT)) next = s->ci;
    }
    LT_CHECK(park >= 0 && next >= 0 && park != next);
    s->ci = next;
    return next >= 0;
}

static int shutdown_setup(scn *s, const char *file)
{
    return shutdown_setup_with(s, feat_path, file, NULL);
}

/* SIGTERM during an invocation: the handler finishes and its response is posted, then the hook
   runs and the exit status is 0 (header: "during an invocation it waits until the handler
   returns") */
static void test_shutdown_during_invocation(void)
{
    char file[300];
    scn s;
    snprintf(file, sizeof file, "%s/shutdown.inv", tmpdir);
    unlink(file);
    if (shutdown_setup(&s, file) && scn_event(&s, "sdi-1", "sleep:300", NULL)) {
        sleep_ms(100);
        kill(s.pid, SIGTERM);
        if (scn_expect_post(&s, "sdi-1", "response")) {
            LT_CHECK(mem_is(s.req.body, s.req.body_len, "sdi-1", 5, "response body"));
            LT_CHECK(access(file, F_OK) != 0); /* not while the handler ran */
            scn_reply(&s, 202);
        }
        scn_wait_exit(&s, 2000);
        LT_CHECK(exited_with(&s, 0));
    }
    scn_finish(&s);
    check_hook_ran(file);
    scn_free(&s);
}

/* register refused (e.g. 404 under an emulator without the Extensions API): logged (an
   error line and a warning line), then events are served normally */
static void test_shutdown_register_refused(void)
{
    char file[300], envf[340];
    const char *env[2];
    scn s;
    snprintf(file, sizeof file, "%s/shutdown.404", tmpdir);
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = envf;
    env[1] = NULL;
    if (scn_start(&s, feat_path, NULL, env) && scn_expect(&s, "POST", P_REGISTER) &&
        scn_send(&s, s.ci, 404, "Content-Type: text/plain\r\n", "not emulated") && scn_expect_next(&s)) {
        scn_invoke(&s, "rr-1", "ctx", "rr-1");
    }
    scn_finish(&s);
    LT_CHECK(err_lines(&s) >= 1 && err_lines(&s) <= 2);
    LT_CHECK(access(file, F_OK) != 0);
    scn_free(&s);
}

/* without on_shutdown: no register request, straight to /next */
static void test_no_hook_no_register(void)
{
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        LT_CHECK(s.fs.n == 1);
        LT_CHECK(fsrv_idle(&s.fs, 150));
        scn_invoke(&s, "nh-1", "ctx", "nh-1");
        LT_CHECK(s.fs.n == 1); /* buffered responses keep the connection */
    }
    scn_finish(&s);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* multi-concurrency                                                                           */

#define MC_N 4

/* Waits for one GET /next on each of n distinct connections (any order). ci[] gets them. */
static int mc_collect_next(scn *s, int n, int *ci)
{
    int got = 0, i;
    long long deadline = now_ms() + WAIT_MS;
    while (got < n && now_ms() < deadline) {
        if (!scn_read(s, (int)(deadline - now_ms()), "/next")) break;
        if (!streq(s->req.method, "GET") || !streq(s->req.target, P_NEXT)) {
            show("unexpected request", s->req.raw, s->req.head_len);
            LT_CHECK(!"a GET /next");
            return 0;
        }
        check_common(s);
        for (i = 0; i < got; i++)
            if (ci[i] == s->ci) {
                LT_CHECK(!"two outstanding /next on one connection");
                return 0;
            }
        ci[got++] = s->ci;
    }
    if (got < n) printf("    only %d of %d concurrent /next\n", got, n);
    return got == n;
}

/* Reads until each of the n events ids[k] (sent on connection ci[k]) has its POST /response on
   that same connection (answered 202, body copied to bodies[k]) and n new GET /next are
   outstanding on distinct connections (ci[] then holds those). */
static int mc_collect(scn *s, int n, int *ci, char ids[][32], char bodies[][256])
{
    int responses = 0, nexts = 0, k, seen[MC_N] = {0}, nci[MC_N];
    long long deadline = now_ms() + WAIT_MS;
    while ((responses < n || nexts < n) && now_ms() < deadline) {
        char t[128];
        if (!scn_read(s, (int)(deadline - now_ms()), "/response or /next")) break;
        if (streq(s->req.method, "GET") && streq(s->req.target, P_NEXT) && nexts < n) {
            check_common(s);
            for (k = 0; k < nexts; k++)
                if (nci[k] == s->ci) {
                    LT_CHECK(!"two outstanding /next on one connection");
                    return 0;
                }
            nci[nexts++] = s->ci;
            continue;
        }
        for (k = 0; k < n; k++) {
            snprintf(t, sizeof t, P_INVOKE "%s/response", ids[k]);
            if (streq(s->req.target, t)) break;
        }
        if (k == n || seen[k] || !streq(s->req.method, "POST")) {
            show("unexpected request", s->req.raw, s->req.head_len);
            LT_CHECK(!"a POST /response for one of the events, or a /next");
            return 0;
        }
        check_common(s);
        seen[k] = 1;
        LT_CHECK(s->ci == ci[k]); /* on the worker's own connection */
        snprintf(bodies[k], 256, "%.*s", (int)s->req.body_len, s->req.body);
        if (!scn_reply(s, 202)) return 0;
        responses++;
    }
    if (responses < n || nexts < n) {
        printf("    %d of %d responses, %d of %d new /next\n", responses, n, nexts, n);
        LT_CHECK(!"every response and a new /next from every worker");
        return 0;
    }
    memcpy(ci, nci, sizeof nci);
    return 1;
}

/* SIGTERM with N workers: the hook runs once, every worker stops quietly, exit status 0 */
static void test_mc_shutdown(void)
{
    char file[300], envf[340];
    const char *env[3];
    scn s;
    int i, nexts = 0, parks = 0;
    snprintf(file, sizeof file, "%s/shutdown.mc", tmpdir);
    unlink(file);
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = "AWS_LAMBDA_MAX_CONCURRENCY=3";
    env[1] = envf;
    env[2] = NULL;
    if (scn_start(&s, featmt_path, NULL, env) && scn_expect(&s, "POST", P_REGISTER) && reply_register(&s, "int-mc")) {
        for (i = 0; i < 4; i++) { /* the parked event/next and one /next per worker */
            if (!scn_read(&s, WAIT_MS, "event/next or /next")) break;
            if (streq(s.req.target, P_EVNEXT)) parks++;
            else if (streq(s.req.target, P_NEXT)) nexts++;
        }
        LT_CHECK(parks == 1 && nexts == 3);
        sleep_ms(30);
        kill(s.pid, SIGTERM);
        scn_wait_exit(&s, 3000);
        LT_CHECK(exited_with(&s, 0));
    }
    scn_finish(&s);
    {
        size_t n = 0;
        char *c = slurp(file, &n);
        LT_CHECK(mem_is(c, n, "shutdown\n", 9, "on_shutdown file")); /* once */
        free(c);
        unlink(file);
    }
    LT_CHECK(err_lines(&s) == 1); /* the hook's own line; no error lines from stopped workers */
    LT_CHECK(has(s.err, s.err_len, "on_shutdown called"));
    LT_CHECK(s.err_len > 0 && s.err[0] == '{'); /* lambda_log(NULL, ...) is JSON with workers too */
    scn_free(&s);
}

static void test_mc_threads(void)
{
    const char *env[] = {"AWS_LAMBDA_MAX_CONCURRENCY=" "4", NULL};
    char gate[300], path[400], ids[MC_N][32], bodies[MC_N][256], want[256];
    int ci[MC_N], k, workers = 0, fd;
    scn s;
    static jline j;
    snprintf(gate, sizeof gate, "%s/gate", tmpdir);
    mkdir(gate, 0700);
    if (scn_start(&s, featmt_path, NULL, env)) {
        s.json_stderr = 1;
        if (!mc_collect_next(&s, MC_N, ci)) goto done;
        LT_CHECK(fsrv_idle(&s.fs, 50)); /* N workers, not more */

        /* round 1: every handler blocks until all N are in flight */
        for (k = 0; k < MC_N; k++) {
            char ev[400];
            snprintf(ids[k], sizeof ids[k], "mc-%d", k);
            snprintf(ev, sizeof ev, "gate:%s:t%d", gate, k);
            if (!scn_event_on(&s, ci[k], ids[k], ev, strlen(ev), NULL)) goto done;
        }
        {
            long long deadline = now_ms() + WAIT_MS;
            int in = 0;
            while (now_ms() < deadline) {
                for (in = 0, k = 0; k < MC_N; k++) {
                    snprintf(path, sizeof path, "%s/in.t%d", gate, k);
                    in += access(path, F_OK) == 0;
                }
                if (in == MC_N) break;
                sleep_ms(2);
            }
            LT_CHECK(in == MC_N); /* all N handlers running at once */
            if (in != MC_N) printf("    %d of %d handlers in flight at once\n", in, MC_N);
            snprintf(path, sizeof path, "%s/go", gate);
            fd = open(path, O_WRONLY | O_CREAT, 0600);
            if (fd >= 0) close(fd);
        }
        if (!mc_collect(&s, MC_N, ci, ids, bodies)) goto done;
        for (k = 0; k < MC_N; k++) {
            char rid[32], tok[32];
            int w = -1;
            if (sscanf(bodies[k], "%31s %31s %d", rid, tok, &w) == 3) {
                char t[8];
                snprintf(t, sizeof t, "t%d", k);
                LT_CHECK(streq(rid, ids[k]) && streq(tok, t)); /* no cross-talk */
                LT_CHECK(w >= 0 && w < MC_N);
                if (w >= 0 && w < MC_N) workers |= 1 << w;
            } else {
                LT_CHECK(!"body \"<id> <token> <worker>\"");
                printf("    body: %s\n", bodies[k]);
            }
        }
        LT_CHECK(workers == (1 << MC_N) - 1); /* N different workers */

        /* round 2: _X_AMZN_TRACE_ID is not set; ctx->trace_id is per invocation */
        for (k = 0; k < MC_N; k++) {
            char h[128];
            snprintf(ids[k], sizeof ids[k], "tr-%d", k);
            snprintf(h, sizeof h, "Lambda-Runtime-Trace-Id: Root=1-0000000%d-abc;Sampled=1\r\n", k);
            if (!scn_event_on(&s, ci[k], ids[k], "trace", 5, h)) goto done;
        }
        if (!mc_collect(&s, MC_N, ci, ids, bodies)) goto done;
        for (k = 0; k < MC_N; k++) LT_CHECK(str_is(bodies[k], "<unset>", "_X_AMZN_TRACE_ID"));
        for (k = 0; k < MC_N; k++) {
            char h[128];
            snprintf(ids[k], sizeof ids[k], "ct-%d", k);
            snprintf(h, sizeof h, "Lambda-Runtime-Trace-Id: Root=1-0000000%d-abc;Sampled=1\r\n", k);
            if (!scn_event_on(&s, ci[k], ids[k], "ctxtrace", 8, h)) goto done;
        }
        if (!mc_collect(&s, MC_N, ci, ids, bodies)) goto done;
        for (k = 0; k < MC_N; k++) {
            snprintf(want, sizeof want, "Root=1-0000000%d-abc;Sampled=1", k);
            LT_CHECK(str_is(bodies[k], want, "ctx->trace_id"));
        }

        /* round 3: N sleeps of 200 ms take well under N * 200 ms */
        {
            long long t0 = now_ms(), el;
            for (k = 0; k < MC_N; k++) {
                char ev[64];
                snprintf(ids[k], sizeof ids[k], "sl-%d", k);
                snprintf(ev, sizeof ev, "sleep:200:s%d", k);
                if (!scn_event_on(&s, ci[k], ids[k], ev, strlen(ev), NULL)) goto done;
            }
            if (!mc_collect(&s, MC_N, ci, ids, bodies)) goto done;
            el = now_ms() - t0;
            printf("  %d x sleep:200 took %lld ms\n", MC_N, el);
            LT_CHECK(el < MC_N * 200 - 150);
            for (k = 0; k < MC_N; k++) {
                snprintf(want, sizeof want, "sl-%d s%d ", k, k);
                LT_CHECK(strncmp(bodies[k], want, strlen(want)) == 0);
            }
        }

        /* round 4: settings: JSON logs without AWS_LAMBDA_LOG_FORMAT */
        for (k = 0; k < MC_N; k++) {
            snprintf(ids[k], sizeof ids[k], "st-%d", k);
            if (!scn_event_on(&s, ci[k], ids[k], "settings", 8, NULL)) goto done;
        }
        if (!mc_collect(&s, MC_N, ci, ids, bodies)) goto done;
        for (k = 0; k < MC_N; k++) LT_CHECK(strncmp(bodies[k], "json=1 level=2 worker=", 22) == 0);
    }
done:
    scn_finish(&s);
    /* the handlers' log lines carry their own request ids */
    {
        size_t ll;
        const char *l;
        int i, seen = 0;
        for (i = 0; (l = err_line(&s, i, &ll)) != NULL; i++) {
            parse_jline(l, ll, &j);
            if (j.ok && strncmp(j.message, "gate t", 6) == 0) {
                char id[32];
                snprintf(id, sizeof id, "mc-%.20s", j.message + 6);
                LT_CHECK(str_is(j.request_id, id, "requestId of a gate line"));
                seen++;
            }
        }
        LT_CHECK(seen == MC_N);
    }
    for (k = 0; k < MC_N; k++) {
        snprintf(path, sizeof path, "%s/in.t%d", gate, k);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/go", gate);
    unlink(path);
    rmdir(gate);
    scn_free(&s);
}

/* threaded build, N unset or 1: one worker, one connection, text logs, _X_AMZN_TRACE_ID set */
static void test_mc_single(void)
{
    static const char *const rows[] = {NULL, "AWS_LAMBDA_MAX_CONCURRENCY=1", "AWS_LAMBDA_MAX_CONCURRENCY=0"};
    size_t r;
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *env[2];
        scn s;
        env[0] = rows[r];
        env[1] = NULL;
        printf("  %s\n", rows[r] ? rows[r] : "(unset)");
        if (scn_start(&s, featmt_path, NULL, env) && scn_expect_next(&s)) {
            LT_CHECK(fsrv_idle(&s.fs, 100));
            LT_CHECK(s.fs.n == 1);
            scn_invoke(&s, "one-1", "settings", "json=0 level=2 worker=0");
            if (scn_event(&s, "one-2", "trace", "Lambda-Runtime-Trace-Id: Root=1-x;Sampled=0\r\n") &&
                scn_expect_post(&s, "one-2", "response")) {
                LT_CHECK(mem_is(s.req.body, s.req.body_len, "Root=1-x;Sampled=0", 18, "_X_AMZN_TRACE_ID"));
                scn_reply(&s, 202);
                scn_expect_next(&s);
            }
        }
        scn_finish(&s);
        LT_CHECK(err_lines(&s) == 0);
        scn_free(&s);
    }
}

/* built without LAMBDA_THREADS, N > 1: one worker and one warning line */
static void test_mc_unthreaded(void)
{
    const char *env[] = {"AWS_LAMBDA_MAX_CONCURRENCY=4", NULL};
    scn s;
    size_t ll = 0;
    const char *l;
    if (scn_start(&s, feat_path, NULL, env) && scn_expect_next(&s)) {
        LT_CHECK(fsrv_idle(&s.fs, 300));
        LT_CHECK(s.fs.n == 1);
        if (scn_event(&s, "u-1", "settings", NULL) && scn_expect_post(&s, "u-1", "response")) {
            LT_CHECK(has(s.req.body, s.req.body_len, "worker=0"));
            scn_reply(&s, 202);
            scn_expect_next(&s);
        }
        scn_invoke(&s, "u-2", "ctx", "u-2");
        LT_CHECK(s.fs.n == 1);
    }
    scn_finish(&s);
    LT_CHECK(err_lines(&s) == 1);
    l = err_line(&s, 0, &ll);
    LT_CHECK(l && has_nocase(l, ll, "warn"));
    if (l) show("warning", l, ll);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* defects fixed in 0.2.0: trace environment, signals, pending stream bytes                    */

/* Whatever the handler does to _X_AMZN_TRACE_ID (setenv, unsetenv, clearing environ), the
   next invocation's getenv is that invocation's trace id, or unset when there is none. */
static void test_trace_env_user_code(void)
{
    static const struct { const char *trace, *cmd, *want; } steps[] = {
        {"Root=1-a;Sampled=1", "trace:set:x", "x"}, /* the handler's own setenv, seen at once */
        {"Root=1-b;Sampled=1", "trace", "Root=1-b;Sampled=1"},
        {"Root=1-c;Sampled=1", "trace:unset", "<unset>"},
        {"Root=1-d;Sampled=1", "trace", "Root=1-d;Sampled=1"},
        {"Root=1-e;Sampled=1", "trace:clear", "<unset>"},
        {"Root=1-f;Sampled=1", "trace", "Root=1-f;Sampled=1"},
        {NULL, "trace", "<unset>"},
        {"Root=1-g;Sampled=1", "trace:set:y", "y"},
        {NULL, "trace", "<unset>"},
        {"Root=1-h;Sampled=0", "trace", "Root=1-h;Sampled=0"},
    };
    scn s;
    size_t i;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            char id[16], extra[128];
            snprintf(id, sizeof id, "tr-%lu", (unsigned long)i);
            snprintf(extra, sizeof extra, "Lambda-Runtime-Trace-Id: %s\r\n", steps[i].trace ? steps[i].trace : "");
            if (!scn_event(&s, id, steps[i].cmd, steps[i].trace ? extra : NULL) || !scn_expect_post(&s, id, "response"))
                break;
            LT_CHECK(mem_is(s.req.body, s.req.body_len, steps[i].want, strlen(steps[i].want), id));
            if (!scn_reply(&s, 202) || !scn_expect_next(&s)) break;
        }
        LT_CHECK(i == sizeof steps / sizeof steps[0]);
    }
    scn_finish(&s);
    scn_free(&s);
}

/* With the shutdown hook, a child the handler starts (exec'd, or only forked) has SIGTERM
   neither blocked nor caught by the runtime: SIGTERM ends it. */
static void test_shutdown_children(void)
{
    char file[300];
    scn s;
    snprintf(file, sizeof file, "%s/shutdown.children", tmpdir);
    unlink(file);
    if (shutdown_setup(&s, file)) {
        static const char want[] = "term=15 blocked=0";
        if (scn_event(&s, "ch-1", "childterm", NULL) && scn_expect_post(&s, "ch-1", "response")) {
            LT_CHECK(mem_is(s.req.body, s.req.body_len, want, sizeof want - 1, "exec'd child"));
            if (scn_reply(&s, 202) && scn_expect_next(&s) && scn_event(&s, "ch-2", "childterm:fork", NULL) &&
                scn_expect_post(&s, "ch-2", "response")) {
                LT_CHECK(mem_is(s.req.body, s.req.body_len, want, sizeof want - 1, "forked child"));
                scn_reply(&s, 202);
            }
        }
        LT_CHECK(access(file, F_OK) != 0); /* the children's SIGTERM never reached the runtime */
    }
    scn_finish(&s);
    unlink(file);
    scn_free(&s);
}

/* A thread of the program's own, started before lambda_run: SIGTERM still runs the hook (in
   whichever thread the kernel delivers it) and lambda_run returns 0. */
static void test_shutdown_other_thread(void)
{
    char file[300];
    scn s;
    snprintf(file, sizeof file, "%s/shutdown.thread", tmpdir);
    unlink(file);
    if (shutdown_setup_with(&s, featmt_path, file, "FEATURES_PRETHREAD=1") && scn_invoke(&s, "th-1", "ctx", "th-1")) {
        sleep_ms(30);
        kill(s.pid, SIGTERM);
        scn_wait_exit(&s, 2000);
        LT_CHECK(exited_with(&s, 0));
    }
    scn_finish(&s);
    check_hook_ran(file);
    scn_free(&s);
}

/* Two workers, the shutdown hook, one of them inside a 1.5 s handler when SIGTERM comes:
   its response is posted, then the hook runs once and the exit status is 0, whichever
   worker was busy. `busy` picks the /next connection answered (0: the first to ask). */
static void mc_shutdown_busy(int busy)
{
    char file[300], envf[340], ids[2][16];
    const char *env[3];
    scn s;
    int i, nexts[2] = {-1, -1}, n = 0, park = 0;
    snprintf(file, sizeof file, "%s/shutdown.busy%d", tmpdir, busy);
    unlink(file);
    snprintf(envf, sizeof envf, "FEATURES_SHUTDOWN_FILE=%s", file);
    env[0] = "AWS_LAMBDA_MAX_CONCURRENCY=2";
    env[1] = envf;
    env[2] = NULL;
    snprintf(ids[0], sizeof ids[0], "busy-%d", busy);
    if (scn_start(&s, featmt_path, NULL, env) && scn_expect(&s, "POST", P_REGISTER) && reply_register(&s, "int-b")) {
        for (i = 0; i < 3; i++) {
            if (!scn_read(&s, WAIT_MS, "event/next or /next")) break;
            if (streq(s.req.target, P_EVNEXT)) park++;
            else if (streq(s.req.target, P_NEXT) && n < 2) nexts[n++] = s.ci;
        }
        LT_CHECK(park == 1 && n == 2);
        if (n == 2 && scn_event_on(&s, nexts[busy], ids[0], "sleep:1500:b", 12, NULL)) {
            long long t0;
            sleep_ms(150);
            t0 = now_ms();
            kill(s.pid, SIGTERM);
            if (scn_expect_post(&s, ids[0], "response")) {
                LT_CHECK(now_ms() - t0 > 1000); /* the handler ran to its end */
                LT_CHECK(s.req.body_len > 0 && has(s.req.body, s.req.body_len, ids[0]));
                printf("  busy worker: %.*s\n", (int)s.req.body_len, s.req.body);
                LT_CHECK(access(file, F_OK) != 0); /* not before the response */
                scn_reply(&s, 202);
            }
            scn_wait_exit(&s, 2000);
            LT_CHECK(exited_with(&s, 0));
        }
    }
    scn_finish(&s);
    check_hook_ran(file);
    LT_CHECK(!has(s.err, s.err_len, "error"));
    scn_free(&s);
}

static void test_mc_shutdown_busy(void)
{
    mc_shutdown_busy(0);
    mc_shutdown_busy(1);
}

/* Bytes appended before the stream began go out first; a begin refused by a sticky error
   leaves that error as the invocation's outcome. */
static void test_stream_pending_bytes(void)
{
    scn s;
    if (scn_start(&s, feat_path, NULL, NULL) && scn_expect_next(&s)) {
        if (scn_event(&s, "pb-1", "prebuffer", NULL) && scn_expect_post(&s, "pb-1", "response")) {
            check_stream_head(&s, "text/plain", NULL);
            LT_CHECK(mem_is(s.req.body, s.req.body_len, "HEADER\nbody", 11, "streamed body"));
            scn_reply(&s, 202);
            scn_expect_next(&s);
        }
        if (scn_event(&s, "pb-2", "prebufferhttp", NULL) && scn_expect_post(&s, "pb-2", "response")) {
            static const char want[] = "{\"statusCode\":200,\"headers\":{},\"cookies\":[]}\0\0\0\0\0\0\0\0early;late";
            check_stream_head(&s, "application/vnd.awslambda.http-integration-response", NULL);
            LT_CHECK(mem_is(s.req.body, s.req.body_len, want, sizeof want - 1, "prelude, then the early bytes"));
            scn_reply(&s, 202);
            scn_expect_next(&s);
        }
        if (scn_event(&s, "pb-3", "stickyhttp", NULL) && scn_expect_post(&s, "pb-3", "error")) {
            LT_CHECK(str_is(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"),
                            "Function.ResponseSizeTooLarge", "error type"));
            scn_reply(&s, 202);
        }
    }
    scn_finish(&s);
    LT_CHECK(has(s.err, s.err_len, "stickyhttp rc=-7"));
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* sizes                                                                                       */

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void test_sizes(void)
{
    size_t i;
    for (i = 0; i < sizeof size_budgets / sizeof size_budgets[0]; i++) {
        char path[4200];
        long n;
        snprintf(path, sizeof path, "%s/%s/bootstrap", build_dir, size_budgets[i].name);
        n = file_size(path);
        printf("  %s: %ld bytes (budget %ld)\n", path, n, size_budgets[i].budget);
        LT_CHECK(n > 0 && n <= size_budgets[i].budget);
    }
    LT_CHECK(file_size(hm_path) > file_size(hello_path)); /* malloc is not linked into hello */
    (void)stream_path;
    (void)ext_path;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int mt_only = 0, sizes = 0, i;
    long long t0 = now_ms();
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mt-only") == 0) mt_only = 1;
        else if (strcmp(argv[i], "--sizes") == 0) sizes = 1;
        else if (strcmp(argv[i], "--emu") == 0 && i + 1 < argc) emu_path = argv[++i];
        else if (!dir && argv[i][0] != '-') dir = argv[i];
        else dir = NULL, i = argc;
    }
    if (!dir) {
        fprintf(stderr, "usage: %s [--mt-only] [--sizes] [--emu <lambda-emu>] <dir>\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(feat_path, sizeof feat_path, "%s/features/bootstrap", dir);
    snprintf(featmt_path, sizeof featmt_path, "%s/features-mt/bootstrap", dir);
    snprintf(stream_path, sizeof stream_path, "%s/stream/bootstrap", dir);
    snprintf(ext_path, sizeof ext_path, "%s/extension/bootstrap", dir);
    snprintf(hello_path, sizeof hello_path, "%s/hello/bootstrap", dir);
    snprintf(hm_path, sizeof hm_path, "%s/hello-malloc/bootstrap", dir);
    build_dir = dir;
    strcpy(tmpdir, "/tmp/test_features_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        long long t_ = now_ms();                                                                   \
        printf("%s\n", #fn);                                                                       \
        fflush(stdout);                                                                            \
        LT_RUN(fn);                                                                                \
        if (now_ms() - t_ > 1500) printf("  (%lld ms)\n", now_ms() - t_);                          \
    } while (0)
    if (!mt_only) {
        RUN(test_stream_chunks);
        RUN(test_stream_sizes);
        RUN(test_stream_fail);
        RUN(test_stream_fail_before);
        RUN(test_error_causes);
        RUN(test_stream_append_after_begin);
        RUN(test_stream_http_prelude);
        RUN(test_stream_http_escaping);
        RUN(test_stream_example);
        RUN(test_stream_example_emu);
        RUN(test_log_text);
        RUN(test_log_levels);
        RUN(test_log_format_env);
        RUN(test_log_json);
        RUN(test_ext_register);
        RUN(test_ext_events);
        RUN(test_ext_register_fail);
        RUN(test_ext_next_status);
        RUN(test_ext_error);
        RUN(test_ext_example);
        RUN(test_no_hook_no_register);
        RUN(test_shutdown_hook);
        RUN(test_shutdown_hook_before_first_event);
        RUN(test_shutdown_field_only);
        RUN(test_shutdown_during_invocation);
        RUN(test_shutdown_register_refused);
        RUN(test_shutdown_children);
        RUN(test_trace_env_user_code);
        RUN(test_stream_pending_bytes);
        RUN(test_mc_unthreaded);
    }
    RUN(test_mc_threads);
    RUN(test_mc_shutdown);
    RUN(test_mc_shutdown_busy);
    RUN(test_shutdown_other_thread);
    RUN(test_mc_single);
    if (sizes) RUN(test_sizes);
    rmdir(tmpdir);
    printf("(%lld ms)\n", now_ms() - t0);
    return LT_REPORT();
}
