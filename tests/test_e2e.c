/* test_e2e.c - end-to-end tests: real bootstrap processes against a scripted fake Runtime API.

   Usage: build/test_e2e <dir>   where <dir>/hello/bootstrap and <dir>/probe/bootstrap exist
   (build or build/asan). Every scenario starts a server on 127.0.0.1:0, fork+execs a bootstrap
   with a clean environment, scripts the exchange, checks the exact requests, then ends the child
   (SIGKILL after it proved it went on to the next /next, or an expected exit status) and checks
   its stderr. Every wait is bounded, so a misbehaving runtime costs seconds, never a hang. */
#include "../lambda_runtime.h" /* LAMBDA_RUNTIME_VERSION only: the runtime runs in the children */
#include "../tools/rapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_util.h"
#include "lt.h"

#define WAIT_MS 3000        /* longest wait for any one expected request or exit */
#define QUIET_MS 150        /* how long "nothing more arrives" is watched */
#define UA "lambda_runtime.h/" LAMBDA_RUNTIME_VERSION
#define P_NEXT "/2018-06-01/runtime/invocation/next"
#define P_INIT_ERR "/2018-06-01/runtime/init/error"
#define P_INVOKE "/2018-06-01/runtime/invocation/"

static char hello_path[4096], probe_path[4096], http_path[4096], echo_path[4096], sqs_path[4096],
    s3_path[4096], http_allocs_path[4096];

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                               */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Is `seg` (up to `end`) a clean percent-encoding of `id`? Only unreserved characters, the
   sub-delims encodeURIComponent keeps (!*'()), and %HH escapes are allowed in a path segment. */
static int seg_encodes(const char *seg, size_t seglen, const char *id, size_t idlen)
{
    size_t i = 0, k = 0;
    while (i < seglen) {
        unsigned char c = (unsigned char)seg[i];
        int v;
        if (c == '%') {
            int h, l;
            if (i + 2 >= seglen) return 0;
            h = hexval((unsigned char)seg[i + 1]);
            l = hexval((unsigned char)seg[i + 2]);
            if (h < 0 || l < 0) return 0;
            v = h * 16 + l;
            i += 3;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   strchr("-._~$&+,:;=@", c)) { /* what Go's net/url leaves raw in a path */
            v = c;
            i++;
        } else {
            return 0;
        }
        if (k >= idlen || (unsigned char)id[k] != v) return 0;
        k++;
    }
    return k == idlen;
}

/* ------------------------------------------------------------------------------------------ */
/* one scenario: server + child process                                                        */

typedef struct e2e {
    rapi_server srv;
    rapi_request req;    /* the last request read */
    int have_req;
    pid_t pid;
    int reaped, status;
    char errpath[64];
    char *err;           /* the child's stderr, after e2e_finish */
    size_t err_len;
    char outpath[64];    /* the child's stdout, when captured (e2e_start_out) */
    char *out;           /* ... after e2e_finish */
    size_t out_len;
    int bad_at_start;
    rapi_response frame; /* framing for every response the scenario sends (slicing, chunking...) */
    char cur_id[256];    /* id of the last event sent */
    size_t cur_id_len;
    const char *inv_id;  /* Lambda-Runtime-Invocation-Id to send with the next events (NULL: none) */
    int conn_close_hdr;  /* add "Connection: close" to every response */
} e2e;

/* env: NULL-terminated "K=V" list; with_api: add AWS_LAMBDA_RUNTIME_API for our port (1:
   host:port, 2: as a URL, http://host:port/) */
static int e2e_start_ex(e2e *e, const char *bootstrap, const char *const *env, int with_api,
                        int capture_stdout)
{
    static const char *const san_env[] = {"ASAN_OPTIONS=exitcode=86", "UBSAN_OPTIONS=print_stacktrace=1", NULL};
    char api[64];
    const char *envp[E2E_ENV_MAX];
    int fd;
    memset(e, 0, sizeof *e);
    e->pid = -1;
    e->bad_at_start = lt_bad_checks;
    rapi_response_init(&e->frame, 200);
    if (rapi_server_open(&e->srv) != RAPI_OK) {
        LT_CHECK(!"server open");
        return 0;
    }
    child_env(envp, with_api ? api : NULL, (unsigned)rapi_server_port(&e->srv), san_env, env);
    if (with_api == 2) snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:%u/",
                                (unsigned)rapi_server_port(&e->srv));
    strcpy(e->errpath, "/tmp/test_e2e_stderr_XXXXXX");
    fd = mkstemp(e->errpath);
    if (fd < 0) {
        LT_CHECK(!"mkstemp");
        return 0;
    }
    {
        int ofd = -1;
        if (capture_stdout) {
            strcpy(e->outpath, "/tmp/test_e2e_stdout_XXXXXX");
            ofd = mkstemp(e->outpath);
        }
        e->pid = spawn_child(bootstrap, NULL, envp, ofd, fd, 0);
    }
    close(fd);
    if (e->pid < 0) {
        LT_CHECK(!"fork");
        return 0;
    }
    return 1;
}

static int e2e_start(e2e *e, const char *bootstrap, const char *const *env, int with_api)
{
    return e2e_start_ex(e, bootstrap, env, with_api, 0);
}

/* Waits up to timeout_ms for the child to exit. 1 if it did (status in e->status). */
static int e2e_wait_exit(e2e *e, int timeout_ms)
{
    return wait_child(e->pid, &e->reaped, &e->status, timeout_ms);
}

static int exited_with(const e2e *e, int code)
{
    return child_exited_with(e->reaped, e->status, code);
}

static int exited_nonzero(const e2e *e)
{
    return e->reaped && ((WIFEXITED(e->status) && WEXITSTATUS(e->status) != 0) || WIFSIGNALED(e->status));
}

/* Reads the next request into e->req (freeing the previous one). */
static int e2e_read(e2e *e, int timeout_ms, const char *what)
{
    if (e->have_req) rapi_request_free(&e->req);
    e->have_req = read_from_child(&e->srv, &e->req, timeout_ms, what, e->pid, &e->reaped, &e->status);
    return e->have_req;
}

/* Common checks on every request the runtime sends. */
static void check_common(e2e *e)
{
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", (unsigned)rapi_server_port(&e->srv));
    LT_CHECK(streq(e->req.version, "HTTP/1.1"));
    LT_CHECK(rapi_request_header_count(&e->req, "Host") == 1);
    LT_CHECK(streq(rapi_request_header(&e->req, "Host"), host));
    LT_CHECK(streq(rapi_request_header(&e->req, "User-Agent"), UA));
    LT_CHECK(rapi_request_header(&e->req, "Expect") == NULL);
    LT_CHECK(rapi_request_header(&e->req, "Transfer-Encoding") == NULL);
}

/* Expects GET /next. Returns 1 if that is what arrived. */
static int e2e_expect_next(e2e *e)
{
    if (!e2e_read(e, WAIT_MS, "/next")) {
        LT_CHECK(!"a /next request arrives");
        return 0;
    }
    if (!streq(e->req.method, "GET") || !streq(e->req.target, P_NEXT)) {
        show("unexpected request", e->req.raw, e->req.raw_len);
        LT_CHECK(streq(e->req.method, "GET") && streq(e->req.target, P_NEXT));
        return 0;
    }
    check_common(e);
    LT_CHECK(e->req.body_len == 0);
    LT_CHECK(rapi_request_header(&e->req, "Content-Length") == NULL ||
             streq(rapi_request_header(&e->req, "Content-Length"), "0"));
    return 1;
}

/* Sends a /next 200 with the standard context headers plus `extra` (raw lines). With
   std_headers == 0 only the id and `extra` are sent. Uses e->frame for framing. */
static int e2e_event_ex(e2e *e, const char *id, size_t idlen, const void *body, size_t len,
                        const char *extra, int std_headers)
{
    rapi_response r = e->frame;
    size_t hl = idlen + (extra ? strlen(extra) : 0) + (e->inv_id ? strlen(e->inv_id) : 0) + 512;
    char *h = (char *)malloc(hl), *p = h;
    int rc;
    p += sprintf(p, "Lambda-Runtime-Aws-Request-Id: ");
    memcpy(p, id, idlen);
    p += idlen;
    p += sprintf(p, "\r\n");
    if (std_headers) {
        p += sprintf(p,
                     "Lambda-Runtime-Deadline-Ms: %lld\r\n"
                     "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:probe\r\n"
                     "Content-Type: application/json\r\n",
                     wall_ms() + 60000);
    }
    if (e->inv_id) p += sprintf(p, "Lambda-Runtime-Invocation-Id: %s\r\n", e->inv_id);
    if (e->conn_close_hdr) p += sprintf(p, "Connection: close\r\n");
    if (extra) p += sprintf(p, "%s", extra);
    r.status = 200;
    r.headers = h;
    r.body = body;
    r.body_len = len;
    if (idlen < sizeof e->cur_id) {
        memcpy(e->cur_id, id, idlen);
        e->cur_id[idlen] = 0;
        e->cur_id_len = idlen;
    }
    rc = rapi_server_send(&e->srv, &r, WAIT_MS);
    free(h);
    if (rc != RAPI_OK) printf("    sending the event failed: %s\n", rapi_strerror(rc));
    return rc == RAPI_OK;
}

static int e2e_event(e2e *e, const char *id, const char *body, const char *extra)
{
    return e2e_event_ex(e, id, strlen(id), body, strlen(body), extra, 1);
}

/* Expects POST /invocation/<enc(cur_id)>/<kind>; checks framing and the Invocation-Id echo. */
static int e2e_expect_post(e2e *e, const char *kind)
{
    const char *t, *seg, *slash, *cl;
    size_t plen = strlen(P_INVOKE);
    char what[64];
    snprintf(what, sizeof what, "/%s", kind);
    if (!e2e_read(e, WAIT_MS, what)) {
        LT_CHECK(!"the POST arrives");
        return 0;
    }
    t = e->req.target;
    seg = t + plen;
    slash = strncmp(t, P_INVOKE, plen) == 0 ? strrchr(seg, '/') : NULL;
    if (!streq(e->req.method, "POST") || !slash || !streq(slash + 1, kind) ||
        !seg_encodes(seg, (size_t)(slash - seg), e->cur_id, e->cur_id_len)) {
        show("unexpected request", e->req.raw, e->req.raw_len);
        show("expected a POST for id", e->cur_id, e->cur_id_len);
        LT_CHECK(!"POST /invocation/<id>/<kind> with a percent-encoded id");
        return 0;
    }
    check_common(e);
    cl = rapi_request_header(&e->req, "Content-Length");
    LT_CHECK(cl != NULL);
    LT_CHECK(cl && strtoul(cl, NULL, 10) == e->req.body_len);
    LT_CHECK(rapi_request_header(&e->req, "Content-Type") != NULL);
    if (e->inv_id) {
        LT_CHECK(rapi_request_header_count(&e->req, "Lambda-Runtime-Invocation-Id") == 1);
        LT_CHECK(streq(rapi_request_header(&e->req, "Lambda-Runtime-Invocation-Id"), e->inv_id));
    } else {
        LT_CHECK(rapi_request_header(&e->req, "Lambda-Runtime-Invocation-Id") == NULL);
    }
    return 1;
}

/* Answers the last POST with `status` (202: {"status":"OK"}). */
static int e2e_reply(e2e *e, int status)
{
    rapi_response r = e->frame;
    static const char ok[] = "{\"status\":\"OK\"}";
    static const char bad[] = "{\"errorMessage\":\"scripted\",\"errorType\":\"Scripted.Error\"}";
    int rc;
    r.status = status;
    r.headers = e->conn_close_hdr ? "Content-Type: application/json\r\nConnection: close\r\n"
                                  : "Content-Type: application/json\r\n";
    r.body = status == 202 ? ok : bad;
    r.body_len = status == 202 ? sizeof ok - 1 : sizeof bad - 1;
    rc = rapi_server_send(&e->srv, &r, WAIT_MS);
    if (rc != RAPI_OK) printf("    sending the reply failed: %s\n", rapi_strerror(rc));
    return rc == RAPI_OK;
}

/* 202 for the last POST, then the runtime must come back with /next. */
static int e2e_ack(e2e *e)
{
    return e2e_reply(e, 202) && e2e_expect_next(e);
}

static int body_is(const e2e *e, const char *want)
{
    return mem_is(e->req.body, e->req.body_len, want, strlen(want), "body");
}

static int body_is_n(const e2e *e, const char *want, size_t n)
{
    return mem_is(e->req.body, e->req.body_len, want, n, "body");
}

/* A successful invocation: pending /next already read; event out; /response back, body checked;
   202; the next /next read. */
static int e2e_ok(e2e *e, const char *id, const char *event, const char *want_body)
{
    if (!e2e_event(e, id, event, NULL) || !e2e_expect_post(e, "response")) return 0;
    LT_CHECK(body_is(e, want_body));
    return e2e_ack(e);
}

/* Checks the last request is an error report of `type`; `msg` NULL = any message. */
static void check_error_body(e2e *e, const char *type, const char *msg)
{
    char want[2048];
    LT_CHECK(streq(rapi_request_header(&e->req, "Content-Type"), "application/json"));
    LT_CHECK(streq(rapi_request_header(&e->req, "Lambda-Runtime-Function-Error-Type"), type));
    if (msg) {
        snprintf(want, sizeof want, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\",\"stackTrace\":[]}", msg, type);
        LT_CHECK(body_is(e, want));
    } else {
        size_t wl;
        snprintf(want, sizeof want, "\",\"errorType\":\"%s\",\"stackTrace\":[]}", type);
        wl = strlen(want);
        LT_CHECK(e->req.body_len > 17 + wl && memcmp(e->req.body, "{\"errorMessage\":\"", 17) == 0 &&
                 memcmp(e->req.body + e->req.body_len - wl, want, wl) == 0);
        if (!(e->req.body_len > 17 + wl)) show("error body", e->req.body, e->req.body_len);
    }
}

/* Nothing else arrives within QUIET_MS (a closed connection is fine). */
static int e2e_quiet(e2e *e)
{
    rapi_request r;
    int rc = rapi_server_read_request(&e->srv, &r, QUIET_MS);
    if (rc == RAPI_OK) {
        show("unexpected extra request", r.raw, r.raw_len);
        rapi_request_free(&r);
        return 0;
    }
    return 1;
}

static size_t count_lines(const e2e *e, const char *needle)
{
    return count_lines_in(e->err, e->err_len, needle);
}

/* Ends the scenario: SIGKILL if still running, reap, read stderr, check every line. */
static void e2e_finish(e2e *e)
{
    kill_child(e->pid, &e->reaped, &e->status, 5000);
    e->err = take_file(e->errpath, &e->err_len, 0);
    e->out = take_file(e->outpath, &e->out_len, 0);
    if (e->err) {
        int bad_prefix = !lines_prefixed(e->err, e->err_len, "lambda_runtime: ");
        LT_CHECK(!bad_prefix); /* every stderr line starts with "lambda_runtime: " */
        LT_CHECK(count_lines(e, "Sanitizer") == 0);
        LT_CHECK(count_lines(e, "runtime error:") == 0);
        if (lt_bad_checks != e->bad_at_start) show("child stderr", e->err, e->err_len);
    }
    if (e->have_req) rapi_request_free(&e->req);
    e->have_req = 0;
    rapi_server_close(&e->srv);
}

static void e2e_free(e2e *e)
{
    free(e->err);
    e->err = NULL;
    free(e->out);
    e->out = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* hello example                                                                               */

static void hello_world(void)
{
    e2e e;
    if (e2e_start(&e, hello_path, NULL, 1) && e2e_expect_next(&e) && e2e_event(&e, "h-1", "{\"name\":\"World\"}", NULL) &&
        e2e_expect_post(&e, "response")) {
        LT_CHECK(body_is(&e, "\"Invoked by: World\""));
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/json"));
        e2e_ack(&e);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

/* AWS_LAMBDA_RUNTIME_API given as a URL: accepted, and the Host header is host:port only
   (check_common, on every request): a Go server answers 400 to "Host: http://...". */
static void api_as_url(void)
{
    e2e e;
    if (e2e_start(&e, hello_path, NULL, 2) && e2e_expect_next(&e)) {
        e2e_ok(&e, "url-1", "{\"name\":\"u\"}", "\"Invoked by: u\"");
        e2e_ok(&e, "url-2", "{\"name\":\"v\"}", "\"Invoked by: v\"");
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void hello_invalid_events(void)
{
    static const char *const bad[] = {"[]", "{\"name\":1}", "not json", "{}", ""};
    e2e e;
    size_t i;
    char id[32];
    if (e2e_start(&e, hello_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            snprintf(id, sizeof id, "bad-%lu", (unsigned long)i);
            if (!e2e_event(&e, id, bad[i], NULL) || !e2e_expect_post(&e, "error")) break;
            check_error_body(&e, "InvalidEvent", NULL);
            if (!e2e_ack(&e)) break;
        }
        /* and it still works afterwards */
        e2e_ok(&e, "good", "{\"name\":\"again\"}", "\"Invoked by: again\"");
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void hello_escapes(void)
{
    e2e e;
    if (e2e_start(&e, hello_path, NULL, 1) && e2e_expect_next(&e)) {
        e2e_ok(&e, "esc-1", "{\"name\":\"Jo \\\"X\\\" Caf\\u00e9\"}", "\"Invoked by: Jo \\\"X\\\" Caf\xc3\xa9\"");
        e2e_ok(&e, "esc-2", "{\"other\":[1,{\"name\":2}],\"name\":\"back\\\\slash\"}", "\"Invoked by: back\\\\slash\"");
    }
    e2e_finish(&e);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* the other examples                                                                          */

/* Every examples/<name>/events/<event>.json against examples/<name>/expected/<event>.json:
   the answer (or the error document, for one that starts {"errorMessage") byte for byte,
   all on one bootstrap, in name order. Returns the number of events played. */
static unsigned long read_count(const e2e *e);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int play_events(e2e *e, const char *example)
{
    char dir[256], path[512], *names[128];
    size_t n = 0, i;
    int played = 0;
    DIR *d;
    struct dirent *de;
    snprintf(dir, sizeof dir, "examples/%s/events", example);
    if ((d = opendir(dir)) == NULL) {
        LT_CHECK(!"examples/<name>/events exists (run from the repository root)");
        return 0;
    }
    while ((de = readdir(d)) != NULL && n < 128) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    for (i = 0; i < n; i++) {
        char *ev, *want, id[64];
        size_t evl, wl;
        int err;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        ev = read_file(path, &evl, 0);
        snprintf(path, sizeof path, "examples/%s/expected/%s", example, names[i]);
        want = read_file(path, &wl, 0);
        LT_CHECK(ev && want);
        if (!ev || !want) {
            printf("    %s: missing %s\n", names[i], path);
            free(ev), free(want);
            continue;
        }
        while (wl && want[wl - 1] == '\n') wl--;
        err = wl > 16 && memcmp(want, "{\"errorMessage\"", 15) == 0;
        snprintf(id, sizeof id, "%s-%d", example, (int)i);
        if (e2e_event_ex(e, id, strlen(id), ev, evl, NULL, 1) && e2e_expect_post(e, err ? "error" : "response")) {
            if (!body_is_n(e, want, wl)) printf("    (%s)\n", names[i]);
            LT_CHECK(streq(rapi_request_header(&e->req, "Content-Type"), "application/json"));
            played += e2e_ack(e);
        }
        free(ev);
        free(want);
        free(names[i]);
        if (played != (int)i + 1) break;
    }
    for (i++; i < n; i++) free(names[i]);
    return played;
}

/* examples/http: the sample events of every source (REST, HTTP API, function URL, ALB with
   and without multi-value headers), then edge cases: not an HTTP event, malformed JSON,
   malformed base64, a route that is not there. */
static void http_examples(void)
{
    static const char *const invalid[] = {
        "{\"Records\":[]}", "[]", "{\"requestContext\":{}}", "{\"httpMethod\":\"GET\"",
        "{\"httpMethod\":\"GET\",\"path\":\"/echo\",\"requestContext\":{\"elb\":{}},"
        "\"body\":\"not base64!\",\"isBase64Encoded\":true}",
        "{\"httpMethod\":\"G ET\",\"path\":\"/\",\"requestContext\":{\"elb\":{}}}"};
    e2e e;
    size_t i;
    char id[32];
    if (e2e_start(&e, http_path, NULL, 1) && e2e_expect_next(&e)) {
        LT_CHECK(play_events(&e, "http") >= 20);
        for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
            snprintf(id, sizeof id, "inv-%d", (int)i);
            if (!e2e_event(&e, id, invalid[i], NULL) || !e2e_expect_post(&e, "error")) break;
            check_error_body(&e, "InvalidEvent", NULL);
            if (!e2e_ack(&e)) break;
        }
        e2e_ok(&e, "http-path-bad",
               "{\"httpMethod\":\"GET\",\"path\":\"/items/%zz\",\"requestContext\":{\"elb\":{}}}",
               "{\"statusCode\":400,\"statusDescription\":\"400 Bad Request\",\"body\":\"Bad Request\","
               "\"isBase64Encoded\":false,\"headers\":{\"Content-Type\":\"text/plain; charset=utf-8\"}}");
        e2e_ok(&e, "http-after", "{\"httpMethod\":\"GET\",\"path\":\"/hello\",\"requestContext\":{\"elb\":{}}}",
               "{\"statusCode\":200,\"statusDescription\":\"200 OK\",\"body\":\"Hello, stranger!\","
               "\"isBase64Encoded\":false,\"headers\":{\"Content-Type\":\"text/plain; charset=utf-8\"}}");
    }
    e2e_finish(&e);
    LT_CHECK(e.err_len == 0);
    e2e_free(&e);
}

/* examples/http at steady state: after a warm-up over every kind of request, more of them
   allocate nothing (the decoded bodies and strings live in the reused scratch area). */
static void http_steady_state_allocations(void)
{
    static const char *const evs[] = {
        "{\"version\":\"2.0\",\"rawPath\":\"/hello\",\"rawQueryString\":\"name=Zo%C3%AB\","
        "\"requestContext\":{\"http\":{\"method\":\"GET\"},\"stage\":\"$default\"}}",
        "{\"version\":\"2.0\",\"rawPath\":\"/echo\",\"headers\":{\"content-type\":\"application/x-bin\"},"
        "\"body\":\"AAEC/w==\",\"isBase64Encoded\":true,\"requestContext\":{\"http\":{\"method\":\"POST\"}}}",
        "{\"httpMethod\":\"GET\",\"path\":\"/items/42\",\"requestContext\":{\"elb\":{}},"
        "\"multiValueHeaders\":{\"cookie\":[\"a=1\"]}}",
        "{\"httpMethod\":\"GET\",\"path\":\"/nope\",\"requestContext\":{\"stage\":\"prod\"},\"headers\":null}"};
    e2e e;
    char id[32];
    unsigned long a1 = 0, a2 = 0;
    int i;
    if (e2e_start(&e, http_allocs_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < 40; i++) {
            snprintf(id, sizeof id, "warm-%d", i);
            if (!e2e_event(&e, id, evs[i % 4], NULL) || !e2e_expect_post(&e, "response") || !e2e_ack(&e))
                goto done;
        }
        if (!e2e_event(&e, "allocs-1", "allocs", NULL) || !e2e_expect_post(&e, "response")) goto done;
        a1 = read_count(&e);
        if (!e2e_ack(&e)) goto done;
        for (i = 0; i < 60; i++) {
            snprintf(id, sizeof id, "steady-%d", i);
            if (!e2e_event(&e, id, evs[i % 4], NULL) || !e2e_expect_post(&e, "response") || !e2e_ack(&e))
                goto done;
        }
        if (!e2e_event(&e, "allocs-2", "allocs", NULL) || !e2e_expect_post(&e, "response")) goto done;
        a2 = read_count(&e);
        printf("    http allocations: %lu after warm-up, %lu after 61 more invocations\n", a1, a2);
        LT_CHECK(a1 > 0);
        LT_CHECK(a2 == a1);
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

/* examples/sqs: the failed messageIds in record order; Kinesis and DynamoDB records (no body)
   all fail, by their sequence numbers. */
static void sqs_examples(void)
{
    e2e e;
    if (e2e_start(&e, sqs_path, NULL, 1) && e2e_expect_next(&e)) {
        LT_CHECK(play_events(&e, "sqs") >= 4);
        { /* a 1 MiB body that is itself JSON: unescaped into the scratch area */
            size_t pad = 1 << 20, n;
            char *ev = (char *)malloc(pad + 256);
            n = (size_t)sprintf(ev, "{\"Records\":[{\"messageId\":\"big-1\",\"body\":\"{\\\"pad\\\":\\\"");
            memset(ev + n, 'x', pad);
            n += pad;
            n += (size_t)sprintf(ev + n, "\\\",\\\"ok\\\":true}\"},{\"messageId\":\"big-2\",\"body\":\"{}\"}]}");
            if (e2e_event_ex(&e, "sqs-big", 7, ev, n, NULL, 1) && e2e_expect_post(&e, "response")) {
                LT_CHECK(body_is(&e, "{\"batchItemFailures\":[{\"itemIdentifier\":\"big-2\"}]}"));
                e2e_ack(&e);
            }
            free(ev);
        }
        if (e2e_event(&e, "sqs-bad", "{\"nope\":1}", NULL) && e2e_expect_post(&e, "error")) {
            check_error_body(&e, "InvalidEvent", NULL);
            e2e_ack(&e);
        }
    }
    e2e_finish(&e);
    LT_CHECK(e.err_len == 0);
    e2e_free(&e);
}

/* examples/s3: keys decoded, one JSON line per object on stdout, the summary as the answer. */
static void s3_examples(void)
{
    e2e e;
    if (e2e_start_ex(&e, s3_path, NULL, 1, 1) && e2e_expect_next(&e)) LT_CHECK(play_events(&e, "s3") >= 2);
    e2e_finish(&e);
    LT_CHECK(e.err_len == 0);
    LT_CHECK(e.out && strstr(e.out, "\"key\":\"photos/my summer photo?.jpg\",\"size\":2048}\n") != NULL);
    LT_CHECK(e.out && strstr(e.out, "\"key\":\"caf\xc3\xa9/na\xc3\xafve r\xc3\xa9sum\xc3\xa9.pdf\"") != NULL);
    LT_CHECK(e.out && strstr(e.out, "{\"event\":\"ObjectRemoved:Delete\",\"bucket\":\"sourcebucket\","
                                    "\"key\":\"100% done.txt\",\"size\":0}\n") != NULL);
    LT_CHECK(e.out && strstr(e.out, "\"key\":\"Happy Face.jpg\"") != NULL);
    LT_CHECK(count_lines_in(e.out, e.out_len, "{\"event\":") == 4);
    e2e_free(&e);
}

static void echo_binary(void)
{
    static const char bin[] = "\x00\x01\xff{not json}\r\n";
    e2e e;
    if (e2e_start(&e, echo_path, NULL, 1) && e2e_expect_next(&e) &&
        e2e_event_ex(&e, "bin-1", 5, bin, sizeof bin - 1, "Content-Type: application/x-thing\r\n", 0) &&
        e2e_expect_post(&e, "response")) {
        LT_CHECK(e.req.body_len == sizeof bin - 1 && memcmp(e.req.body, bin, sizeof bin - 1) == 0);
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/x-thing"));
        e2e_ack(&e);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* normal flow, framing, connections                                                           */

static void hundred_on_one_connection(void)
{
    e2e e;
    char id[32], ev[64], want[64];
    int i;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < 100; i++) {
            snprintf(id, sizeof id, "seq-%03d", i);
            snprintf(ev, sizeof ev, "echo:payload %d", i);
            snprintf(want, sizeof want, "payload %d", i);
            if (!e2e_ok(&e, id, ev, want)) break;
        }
        LT_CHECK(i == 100);
        LT_CHECK(e.srv.accepts == 1);
        LT_CHECK(e.srv.peer_closes == 0 && e.srv.abandoned == 0);
    }
    e2e_finish(&e);
    LT_CHECK(e.err_len == 0); /* nothing to log on the happy path */
    e2e_free(&e);
}

static void empty_event(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e) &&
        e2e_event_ex(&e, "empty-1", 7, "", 0, NULL, 1) && e2e_expect_post(&e, "response")) {
        LT_CHECK(e.req.body_len == 0);
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Length"), "0"));
        e2e_ack(&e);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

/* echo of a binary payload (NULs, CR/LF, high bytes) with the current framing */
static int binary_roundtrip(e2e *e, const char *id)
{
    char ev[600];
    size_t i;
    memcpy(ev, "echo:", 5);
    for (i = 5; i < sizeof ev; i++) ev[i] = (char)(i * 7);
    ev[10] = 0;
    ev[11] = '\r';
    ev[12] = '\n';
    if (!e2e_event_ex(e, id, strlen(id), ev, sizeof ev, NULL, 1) || !e2e_expect_post(e, "response")) return 0;
    LT_CHECK(body_is_n(e, ev + 5, sizeof ev - 5));
    return e2e_ack(e);
}

static void chunked_single_chunk(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.chunk_size = 1u << 20;
        if (e2e_ok(&e, "ch-1", "echo:one chunk", "one chunk")) binary_roundtrip(&e, "ch-2");
        LT_CHECK(e.srv.accepts == 1);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void chunked_many_small_chunks(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.chunk_size = 1;
        if (e2e_ok(&e, "ch-1", "echo:one byte per chunk", "one byte per chunk") && binary_roundtrip(&e, "ch-2")) {
            e.frame.chunk_size = 7;
            if (binary_roundtrip(&e, "ch-3")) e2e_ok(&e, "ch-4", "len:0123456789", "14");
        }
        LT_CHECK(e.srv.accepts == 1);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void chunked_extensions_and_trailers(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.chunk_size = 5;
        e.frame.chunk_ext = ";name=value;flag";
        if (!e2e_ok(&e, "ext-1", "echo:extensions everywhere", "extensions everywhere")) goto done;
        e.frame.chunk_ext = NULL;
        e.frame.trailers = "X-Trailer-One: 1\r\nX-Trailer-Two: two\r\n";
        if (!e2e_ok(&e, "tr-1", "echo:with trailers", "with trailers")) goto done;
        e.frame.chunk_ext = ";x=\"quoted\"";
        e.frame.upper_hex = 1;
        e.frame.chunk_size = 26; /* "1A" */
        if (!binary_roundtrip(&e, "tr-2")) goto done;
        /* and back to Content-Length on the same connection */
        e.frame.chunk_size = 0;
        e2e_ok(&e, "cl-1", "echo:plain again", "plain again");
        LT_CHECK(e.srv.accepts == 1);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void six_mb_event(void)
{
    e2e e;
    size_t n = 6u * 1024u * 1024u;
    char *ev = (char *)malloc(n);
    memset(ev, 'a', n);
    memcpy(ev, "len:", 4);
    ev[1000] = 0;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        if (e2e_event_ex(&e, "big-cl", 6, ev, n, NULL, 1) && e2e_expect_post(&e, "response")) {
            LT_CHECK(body_is(&e, "6291456"));
            if (e2e_ack(&e)) {
                e.frame.chunk_size = 65536 + 3;
                if (e2e_event_ex(&e, "big-ch", 6, ev, n - 1, NULL, 1) && e2e_expect_post(&e, "response")) {
                    LT_CHECK(body_is(&e, "6291455"));
                    e2e_ack(&e);
                }
            }
        }
    }
    e2e_finish(&e);
    e2e_free(&e);
    free(ev);
}

static void server_writes_one_byte_at_a_time(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.slice = 1;
        e.frame.slice_delay_us = 150;
        if (e2e_ok(&e, "b-1", "echo:byte by byte", "byte by byte")) {
            e.frame.chunk_size = 3;
            if (e2e_ok(&e, "b-2", "echo:chunked, byte by byte", "chunked, byte by byte")) {
                e.frame.slice_delay_us = 0;
                e.frame.chunk_size = 0;
                binary_roundtrip(&e, "b-3");
            }
        }
        LT_CHECK(e.srv.accepts == 1);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void server_closes_after_each_response(void)
{
    e2e e;
    char id[32], ev[64], want[64];
    int i;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.close_at_end = 1; /* silent close: no Connection header */
        for (i = 0; i < 5; i++) {
            snprintf(id, sizeof id, "cl-%d", i);
            snprintf(ev, sizeof ev, "echo:reconnect %d", i);
            snprintf(want, sizeof want, "reconnect %d", i);
            if (!e2e_ok(&e, id, ev, want)) break;
        }
        LT_CHECK(i == 5);
        LT_CHECK(e.srv.accepts == 11); /* 1 + one per response sent */
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void server_sends_connection_close(void)
{
    e2e e;
    char id[32], ev[64], want[64];
    int i;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.close_at_end = 1;
        e.conn_close_hdr = 1;
        for (i = 0; i < 3; i++) {
            snprintf(id, sizeof id, "cc-%d", i);
            snprintf(ev, sizeof ev, "echo:Connection: close %d", i);
            snprintf(want, sizeof want, "Connection: close %d", i);
            if (!e2e_ok(&e, id, ev, want)) break;
        }
        LT_CHECK(i == 3);
        LT_CHECK(e.srv.accepts == 7);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void reconnect_fails(void)
{
    e2e e;
    long long t0;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.close_at_end = 1;
        rapi_server_stop_listening(&e.srv); /* the reconnect will be refused */
        t0 = now_ms();
        if (e2e_event(&e, "rf-1", "echo:x", NULL)) {
            LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
            LT_CHECK(exited_nonzero(&e));
            LT_CHECK(now_ms() - t0 < WAIT_MS);
        }
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, "lambda_runtime: ") >= 1);
    e2e_free(&e);
}

static void peer_closes_mid_body(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.frame.close_after = 400; /* the head is ~240 bytes, the body 1000: cut inside the body */
        {
            char ev[1000];
            memset(ev, 'z', sizeof ev);
            memcpy(ev, "len:", 4);
            e2e_event_ex(&e, "cut-1", 5, ev, sizeof ev, NULL, 1);
        }
        e.frame.close_after = -1;
        /* Either the runtime gives up (non-zero exit) or it comes back for /next; it must never
           POST anything for the truncated event. */
        if (e2e_read(&e, WAIT_MS, "follow-up")) {
            LT_CHECK(streq(e.req.method, "GET") && streq(e.req.target, P_NEXT));
            if (!streq(e.req.target, P_NEXT)) show("request after truncation", e.req.raw, e.req.raw_len);
        } else {
            LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
            LT_CHECK(exited_nonzero(&e));
        }
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, "lambda_runtime: ") >= 1);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* statuses                                                                                    */

static void next_500_exits(void)
{
    e2e e;
    long long t0;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        rapi_response r = e.frame;
        r.status = 500;
        r.headers = "Content-Type: application/json\r\n";
        r.body = "{\"errorMessage\":\"boom\",\"errorType\":\"InternalServerError\"}";
        r.body_len = strlen((const char *)r.body);
        t0 = now_ms();
        LT_CHECK(rapi_server_send(&e.srv, &r, WAIT_MS) == RAPI_OK);
        LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
        LT_CHECK(exited_nonzero(&e));
        LT_CHECK(now_ms() - t0 < 1000);
        LT_CHECK(e2e_quiet(&e));
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, "lambda_runtime: ") >= 1);
    e2e_free(&e);
}

static void response_4xx_continues(void)
{
    static const int codes[] = {413, 410, 400, 403};
    e2e e;
    size_t i;
    char id[16];
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < 4; i++) {
            snprintf(id, sizeof id, "st-%d", codes[i]);
            if (!e2e_event(&e, id, "echo:rejected", NULL) || !e2e_expect_post(&e, "response")) break;
            if (!e2e_reply(&e, codes[i]) || !e2e_expect_next(&e)) break;
        }
        LT_CHECK(i == 4);
        /* also on /error */
        if (i == 4 && e2e_event(&e, "st-err", "fail:Some.Error:x", NULL) && e2e_expect_post(&e, "error") &&
            e2e_reply(&e, 400) && e2e_expect_next(&e))
            e2e_ok(&e, "st-ok", "echo:fine", "fine");
        LT_CHECK(e.srv.accepts == 1);
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, NULL) == 5); /* one line per rejected POST */
    e2e_free(&e);
}

static void response_500_exits(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e) && e2e_event(&e, "r500", "echo:x", NULL) &&
        e2e_expect_post(&e, "response")) {
        LT_CHECK(e2e_reply(&e, 500));
        LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
        LT_CHECK(exited_nonzero(&e));
        LT_CHECK(e2e_quiet(&e));
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, "lambda_runtime: ") >= 1);
    e2e_free(&e);
}

static void max_invocations_exit_zero(void)
{
    static const char *const env[] = {"PROBE_MAX_INVOCATIONS=2", NULL};
    e2e e;
    if (e2e_start(&e, probe_path, env, 1) && e2e_expect_next(&e) && e2e_ok(&e, "m-1", "echo:1", "1") &&
        e2e_event(&e, "m-2", "echo:2", NULL) && e2e_expect_post(&e, "response")) {
        LT_CHECK(body_is(&e, "2"));
        LT_CHECK(e2e_reply(&e, 202));
        LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
        LT_CHECK(exited_with(&e, 0));
        LT_CHECK(e2e_quiet(&e));
    }
    e2e_finish(&e);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* handler failures                                                                            */

static void handler_error_escaping(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        if (e2e_event(&e, "err-1", "fail:Function.Custom:plain message", NULL) && e2e_expect_post(&e, "error")) {
            LT_CHECK(body_is(&e, "{\"errorMessage\":\"plain message\",\"errorType\":\"Function.Custom\",\"stackTrace\":[]}"));
            check_error_body(&e, "Function.Custom", "plain message");
            if (!e2e_ack(&e)) goto done;
        }
        /* quote, backslash, newline and a control byte: escaped as \", \\, \n, \u001f */
        if (e2e_event(&e, "err-2", "fail:MyError:say \"hi\" \\ back\nnew\x1f" "ctl", NULL) &&
            e2e_expect_post(&e, "error")) {
            static const char lo[] = "{\"errorMessage\":\"say \\\"hi\\\" \\\\ back\\nnew\\u001fctl\","
                                     "\"errorType\":\"MyError\",\"stackTrace\":[]}";
            static const char up[] = "{\"errorMessage\":\"say \\\"hi\\\" \\\\ back\\nnew\\u001Fctl\","
                                     "\"errorType\":\"MyError\",\"stackTrace\":[]}";
            LT_CHECK(streq(rapi_request_header(&e.req, "Lambda-Runtime-Function-Error-Type"), "MyError"));
            LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/json"));
            LT_CHECK(mem_eq(e.req.body, e.req.body_len, lo, sizeof lo - 1) ||
                     mem_eq(e.req.body, e.req.body_len, up, sizeof up - 1));
            if (!mem_eq(e.req.body, e.req.body_len, lo, sizeof lo - 1) &&
                !mem_eq(e.req.body, e.req.body_len, up, sizeof up - 1)) {
                show("error body", e.req.body, e.req.body_len);
                show("want", lo, sizeof lo - 1);
            }
            if (!e2e_ack(&e)) goto done;
        }
        /* UTF-8 in the message passes through unchanged */
        if (e2e_event(&e, "err-3", "fail:Function.Utf8:caf\xc3\xa9", NULL) && e2e_expect_post(&e, "error")) {
            check_error_body(&e, "Function.Utf8", "caf\xc3\xa9");
            if (!e2e_ack(&e)) goto done;
        }
        e2e_ok(&e, "err-ok", "echo:recovered", "recovered");
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void handler_returns_nonzero(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e) && e2e_event(&e, "ret-3", "ret:3", NULL) &&
        e2e_expect_post(&e, "error")) {
        check_error_body(&e, "Runtime.HandlerFailed", NULL);
        if (e2e_ack(&e)) e2e_ok(&e, "ret-0", "ret:0", "");
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void init_error(void)
{
    static const char *const env[] = {"PROBE_INIT_FAIL=1", NULL};
    e2e e;
    if (e2e_start(&e, probe_path, env, 1)) {
        if (e2e_read(&e, WAIT_MS, "/init/error")) {
            if (!streq(e.req.target, P_INIT_ERR)) show("first request", e.req.raw, e.req.raw_len);
            LT_CHECK(streq(e.req.method, "POST"));
            LT_CHECK(streq(e.req.target, P_INIT_ERR)); /* and so no /next before it */
            check_common(&e);
            check_error_body(&e, "Runtime.ConfigInvalid", "PROBE_INIT_FAIL is set");
            LT_CHECK(e.req.body_len == 93);
            LT_CHECK(streq(rapi_request_header(&e.req, "Content-Length"), "93"));
            LT_CHECK(e2e_reply(&e, 202));
            LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
            LT_CHECK(exited_with(&e, 1));
            LT_CHECK(e2e_quiet(&e));
        } else {
            LT_CHECK(!"init/error POST arrives");
        }
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void missing_runtime_api_env(void)
{
    const char *paths[2];
    int i;
    paths[0] = probe_path;
    paths[1] = hello_path;
    for (i = 0; i < 2; i++) {
        e2e e;
        if (e2e_start(&e, paths[i], NULL, 0)) {
            LT_CHECK(e2e_wait_exit(&e, WAIT_MS));
            LT_CHECK(exited_with(&e, 1));
            LT_CHECK(e.srv.accepts == 0);
        }
        e2e_finish(&e);
        LT_CHECK(count_lines(&e, NULL) == 1);
        LT_CHECK(count_lines(&e, "AWS_LAMBDA_RUNTIME_API") == 1);
        e2e_free(&e);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* request ids, invocation ids, trace ids, context                                             */

/* Each bad id gets its own runtime process, so one that makes the runtime exit does not hide
   the others; the failure output names the id. */
static void request_id_with_bad_bytes(void)
{
    /* ("bad\nid" is not here: a bare LF makes the whole head malformed, see test_faults) */
    static const char *const ids[] = {"bad id", "bad\x01id", "bad\x7fid", "bad\rid", "bad\tid", " "};
    size_t i;
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        e2e e;
        int ok = 0;
        if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e) && e2e_event(&e, ids[i], "echo:no", NULL)) {
            if (!e2e_read(&e, WAIT_MS, "/next after a bad id")) {
                LT_CHECK(!"the runtime continues after a bad request id");
            } else if (!streq(e.req.method, "GET") || !streq(e.req.target, P_NEXT)) {
                show("request after it", e.req.raw, e.req.raw_len);
                LT_CHECK(!"no POST for an id with control bytes or spaces; straight back to /next");
            } else {
                ok = e2e_ok(&e, "good-id", "echo:ok", "ok");
            }
        }
        if (!ok) show("  ^ with request id", ids[i], strlen(ids[i]));
        e2e_finish(&e);
        LT_CHECK(count_lines(&e, "lambda_runtime: ") >= 1);
        e2e_free(&e);
    }
}

static void request_id_percent_encoded(void)
{
    static const char *const ids[] = {"a/b%c", "q?x=1#frag", "caf\xc3\xa9", "..", "plus+and&semi;colon:",
                                      "go:$&+,;=@", "!*'()"};
    e2e e;
    size_t i;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < sizeof ids / sizeof ids[0]; i++)
            if (!e2e_ok(&e, ids[i], "echo:enc", "enc")) break;
        LT_CHECK(i == sizeof ids / sizeof ids[0]);
        /* the error path encodes too */
        if (i == sizeof ids / sizeof ids[0] && e2e_event(&e, "x/y", "fail:E:m", NULL) && e2e_expect_post(&e, "error"))
            e2e_ack(&e);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void invocation_id_echo(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        e.inv_id = "9f1c0b6e-3a7d-4c1e-8d2a-5b6c7d8e9f01";
        if (!e2e_ok(&e, "inv-1", "echo:with", "with")) goto done;
        if (!e2e_event(&e, "inv-2", "fail:Function.X:y", NULL) || !e2e_expect_post(&e, "error") || !e2e_ack(&e))
            goto done;
        e.inv_id = NULL; /* absent now: must not be echoed (no stale value from the last event) */
        if (!e2e_ok(&e, "inv-3", "echo:without", "without")) goto done;
        if (!e2e_event(&e, "inv-4", "fail:Function.X:y", NULL) || !e2e_expect_post(&e, "error") || !e2e_ack(&e))
            goto done;
        e.inv_id = "second-attempt-nonce";
        e2e_ok(&e, "inv-5", "echo:again", "again");
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static const char *find_line(const e2e *e, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key), ll;
    const char *pos = e->req.body, *end = e->req.body + e->req.body_len, *p;
    while ((p = next_line(&pos, end, &ll)) != NULL) {
        if (ll > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = ll - kl - 1;
            if (vl >= outsz) vl = outsz - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = 0;
            return out;
        }
        if (ll == kl + 1 && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            out[0] = 0;
            return out;
        }
    }
    return NULL;
}

static int ctx_is(const e2e *e, const char *key, const char *want)
{
    char v[512];
    const char *got = find_line(e, key, v, sizeof v);
    if (streq(got, want)) return 1;
    printf("    ctx %s: got \"%s\", want \"%s\"\n", key, got ? got : "<missing line>", want);
    return 0;
}

static void trace_id_env(void)
{
    static const char *const env[] = {"_X_AMZN_TRACE_ID=stale-from-the-environment", NULL};
    static const char tr[] = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
    e2e e;
    if (e2e_start(&e, probe_path, env, 1) && e2e_expect_next(&e)) {
        if (!e2e_event(&e, "tr-0", "ctx", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(ctx_is(&e, "env__X_AMZN_TRACE_ID", "<unset>"));
        LT_CHECK(ctx_is(&e, "trace_id", ""));
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "tr-1", "ctx", "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n") ||
            !e2e_expect_post(&e, "response"))
            goto done;
        LT_CHECK(ctx_is(&e, "env__X_AMZN_TRACE_ID", tr));
        LT_CHECK(ctx_is(&e, "trace_id", tr));
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "tr-2", "ctx", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(ctx_is(&e, "env__X_AMZN_TRACE_ID", "<unset>"));
        LT_CHECK(ctx_is(&e, "trace_id", ""));
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static const char *const ctx_env[] = {
    "AWS_LAMBDA_FUNCTION_NAME=probe-fn", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/probe-fn", "AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]abc",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", NULL};

static void context_all_fields(void)
{
    e2e e;
    char hdrs[1024], dl[32];
    long long deadline = wall_ms() + 120000;
    if (e2e_start(&e, probe_path, ctx_env, 1) && e2e_expect_next(&e)) {
        e.inv_id = "inv-nonce-1";
        snprintf(dl, sizeof dl, "%lld", deadline);
        snprintf(hdrs, sizeof hdrs,
                 "Lambda-Runtime-Deadline-Ms: %s\r\n"
                 "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:111122223333:function:probe-fn:prod\r\n"
                 "Lambda-Runtime-Trace-Id: Root=1-aaaa;Sampled=0\r\n"
                 "Lambda-Runtime-Client-Context: {\"client\":{\"app_title\":\"t\"}}\r\n"
                 "Lambda-Runtime-Cognito-Identity: {\"cognitoIdentityId\":\"id\",\"cognitoIdentityPoolId\":\"pool\"}\r\n"
                 "Lambda-Runtime-Aws-Tenant-Id: tenant-42\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n",
                 dl);
        if (!e2e_event_ex(&e, "ctx-1", 5, "ctx", 3, hdrs, 0) ||
            !e2e_expect_post(&e, "response"))
            goto done;
        LT_CHECK(ctx_is(&e, "request_id", "ctx-1"));
        LT_CHECK(ctx_is(&e, "deadline_ms", dl));
        LT_CHECK(ctx_is(&e, "invoked_function_arn", "arn:aws:lambda:eu-west-1:111122223333:function:probe-fn:prod"));
        LT_CHECK(ctx_is(&e, "trace_id", "Root=1-aaaa;Sampled=0"));
        LT_CHECK(ctx_is(&e, "client_context", "{\"client\":{\"app_title\":\"t\"}}"));
        LT_CHECK(ctx_is(&e, "cognito_identity", "{\"cognitoIdentityId\":\"id\",\"cognitoIdentityPoolId\":\"pool\"}"));
        LT_CHECK(ctx_is(&e, "tenant_id", "tenant-42"));
        LT_CHECK(ctx_is(&e, "invocation_id", "inv-nonce-1"));
        LT_CHECK(ctx_is(&e, "content_type", "text/plain; charset=utf-8"));
        LT_CHECK(ctx_is(&e, "function_name", "probe-fn"));
        LT_CHECK(ctx_is(&e, "function_version", "$LATEST"));
        LT_CHECK(ctx_is(&e, "log_group_name", "/aws/lambda/probe-fn"));
        LT_CHECK(ctx_is(&e, "log_stream_name", "2026/01/01/[$LATEST]abc"));
        LT_CHECK(ctx_is(&e, "memory_limit_mb", "128"));
        LT_CHECK(ctx_is(&e, "env__X_AMZN_TRACE_ID", "Root=1-aaaa;Sampled=0"));
        LT_CHECK(ctx_is(&e, "remaining_ms_positive", "1"));
        if (!e2e_ack(&e)) goto done;

        /* lower-case header names, a past deadline */
        e.inv_id = NULL;
        if (!e2e_event_ex(&e, "ctx-2", 5, "ctx", 3,
                          "lambda-runtime-deadline-ms: 1000\r\n"
                          "LAMBDA-RUNTIME-INVOKED-FUNCTION-ARN: arn:lower\r\n"
                          "lambda-runtime-trace-id: Root=lower\r\n"
                          "lambda-runtime-aws-tenant-id: t-lower\r\n"
                          "content-type: application/octet-stream\r\n",
                          0) ||
            !e2e_expect_post(&e, "response"))
            goto done;
        LT_CHECK(ctx_is(&e, "request_id", "ctx-2"));
        LT_CHECK(ctx_is(&e, "deadline_ms", "1000"));
        LT_CHECK(ctx_is(&e, "invoked_function_arn", "arn:lower"));
        LT_CHECK(ctx_is(&e, "trace_id", "Root=lower"));
        LT_CHECK(ctx_is(&e, "tenant_id", "t-lower"));
        LT_CHECK(ctx_is(&e, "content_type", "application/octet-stream"));
        LT_CHECK(ctx_is(&e, "remaining_ms_positive", "0"));
        LT_CHECK(ctx_is(&e, "client_context", ""));
        LT_CHECK(ctx_is(&e, "cognito_identity", ""));
        LT_CHECK(ctx_is(&e, "invocation_id", ""));
        if (!e2e_ack(&e)) goto done;

        /* only the id: everything else absent, no stale values from the previous events */
        if (!e2e_event_ex(&e, "ctx-3", 5, "ctx", 3, NULL, 0) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(ctx_is(&e, "request_id", "ctx-3"));
        LT_CHECK(ctx_is(&e, "deadline_ms", "0"));
        LT_CHECK(ctx_is(&e, "invoked_function_arn", ""));
        LT_CHECK(ctx_is(&e, "trace_id", ""));
        LT_CHECK(ctx_is(&e, "tenant_id", ""));
        LT_CHECK(ctx_is(&e, "content_type", "application/json"));
        LT_CHECK(ctx_is(&e, "env__X_AMZN_TRACE_ID", "<unset>"));
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void context_env_unset(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e) && e2e_event(&e, "env-1", "ctx", NULL) &&
        e2e_expect_post(&e, "response")) {
        LT_CHECK(ctx_is(&e, "function_name", ""));
        LT_CHECK(ctx_is(&e, "function_version", ""));
        LT_CHECK(ctx_is(&e, "log_group_name", ""));
        LT_CHECK(ctx_is(&e, "log_stream_name", ""));
        LT_CHECK(ctx_is(&e, "memory_limit_mb", "0"));
        LT_CHECK(ctx_is(&e, "remaining_ms_positive", "1"));
        e2e_ack(&e);
    }
    e2e_finish(&e);
    e2e_free(&e);
}

static void tenant_id(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        if (!e2e_event(&e, "ten-1", "ctx", "Lambda-Runtime-Aws-Tenant-Id: customer-A\r\n") ||
            !e2e_expect_post(&e, "response"))
            goto done;
        LT_CHECK(ctx_is(&e, "tenant_id", "customer-A"));
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "ten-2", "ctx", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(ctx_is(&e, "tenant_id", ""));
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* limits                                                                                      */

static void event_too_large(void)
{
    static const char *const env[] = {"PROBE_MAX_EVENT=1000", NULL};
    char ev[5000];
    e2e e;
    memset(ev, 'e', sizeof ev);
    memcpy(ev, "len:", 4);
    if (e2e_start(&e, probe_path, env, 1) && e2e_expect_next(&e)) {
        /* exactly at the limit: fine */
        if (!e2e_event_ex(&e, "lim-1000", 8, ev, 1000, NULL, 1) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(body_is(&e, "1000"));
        if (!e2e_ack(&e)) goto done;
        /* one over, Content-Length */
        if (!e2e_event_ex(&e, "lim-1001", 8, ev, 1001, NULL, 1) || !e2e_expect_post(&e, "error")) goto done;
        check_error_body(&e, "Runtime.EventTooLarge", NULL);
        if (!e2e_ack(&e)) goto done;
        /* far over, chunked */
        e.frame.chunk_size = 512;
        if (!e2e_event_ex(&e, "lim-5000", 8, ev, sizeof ev, NULL, 1) || !e2e_expect_post(&e, "error")) goto done;
        check_error_body(&e, "Runtime.EventTooLarge", NULL);
        if (!e2e_ack(&e)) goto done;
        e.frame.chunk_size = 0;
        e2e_ok(&e, "lim-ok", "echo:still alive", "still alive");
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void response_too_large(void)
{
    static const char *const env[] = {"PROBE_MAX_RESPONSE=1000", NULL};
    char want[1001];
    e2e e;
    memset(want, 'x', 1000);
    want[1000] = 0;
    if (e2e_start(&e, probe_path, env, 1) && e2e_expect_next(&e)) {
        if (!e2e_ok(&e, "rs-1000", "big:1000", want)) goto done;
        if (!e2e_event(&e, "rs-1001", "big:1001", NULL) || !e2e_expect_post(&e, "error")) goto done;
        check_error_body(&e, "Function.ResponseSizeTooLarge", NULL);
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "rs-huge", "big:3000000", NULL) || !e2e_expect_post(&e, "error")) goto done;
        check_error_body(&e, "Function.ResponseSizeTooLarge", NULL);
        if (!e2e_ack(&e)) goto done;
        e2e_ok(&e, "rs-ok", "echo:small", "small");
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void default_response_limit(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        if (!e2e_event(&e, "dl-max", "big:6291556", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(e.req.body_len == 6291556);
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "dl-over", "big:6291557", NULL) || !e2e_expect_post(&e, "error")) goto done;
        check_error_body(&e, "Function.ResponseSizeTooLarge", NULL);
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static unsigned long read_count(const e2e *e)
{
    char tmp[32];
    size_t n = e->req.body_len < sizeof tmp - 1 ? e->req.body_len : sizeof tmp - 1;
    memcpy(tmp, e->req.body, n);
    tmp[n] = 0;
    return strtoul(tmp, NULL, 10);
}

static void steady_state_allocations(void)
{
    e2e e;
    char id[32], ev[64];
    unsigned long a1 = 0, a2 = 0;
    int i;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        for (i = 0; i < 10; i++) {
            snprintf(id, sizeof id, "warm-%d", i);
            snprintf(ev, sizeof ev, "echo:warm-up %d with a few bytes", i);
            if (!e2e_event(&e, id, ev, "Lambda-Runtime-Trace-Id: Root=1-x\r\n") || !e2e_expect_post(&e, "response") ||
                !e2e_ack(&e))
                goto done;
        }
        if (!e2e_event(&e, "allocs-1", "allocs", NULL) || !e2e_expect_post(&e, "response")) goto done;
        a1 = read_count(&e);
        if (!e2e_ack(&e)) goto done;
        for (i = 0; i < 50; i++) {
            snprintf(id, sizeof id, "steady-%d", i);
            snprintf(ev, sizeof ev, "echo:steady %d with a few bytes", i);
            if (!e2e_event(&e, id, ev, i % 2 ? "Lambda-Runtime-Trace-Id: Root=1-y\r\n" : NULL) ||
                !e2e_expect_post(&e, "response") || !e2e_ack(&e))
                goto done;
        }
        if (!e2e_event(&e, "allocs-2", "allocs", NULL) || !e2e_expect_post(&e, "response")) goto done;
        a2 = read_count(&e);
        printf("    allocations: %lu after warm-up, %lu after 51 more invocations (%.2f per invocation)\n", a1, a2,
               (double)(a2 - a1) / 51.0);
        LT_CHECK(a1 > 0);
        LT_CHECK(a2 == a1);
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* content type, logging                                                                       */

static void content_type_default_and_custom(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        if (!e2e_event(&e, "ct-1", "echo:{}", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/json"));
        LT_CHECK(rapi_request_header_count(&e.req, "Content-Type") == 1);
        if (!e2e_ack(&e)) goto done;
        if (!e2e_event(&e, "ct-2", "ctype:text/plain; charset=utf-8", NULL) || !e2e_expect_post(&e, "response"))
            goto done;
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "text/plain; charset=utf-8"));
        LT_CHECK(rapi_request_header_count(&e.req, "Content-Type") == 1);
        LT_CHECK(body_is(&e, "ok"));
        if (!e2e_ack(&e)) goto done;
        /* back to the default: the custom type does not leak into the next invocation */
        if (!e2e_event(&e, "ct-3", "echo:[]", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/json"));
        if (!e2e_ack(&e)) goto done;
        /* an invalid type (control byte) is refused by the API; the default stays */
        if (!e2e_event(&e, "ct-4", "ctype:bad\x01type", NULL) || !e2e_expect_post(&e, "response")) goto done;
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Type"), "application/json"));
        e2e_ack(&e);
    }
done:
    e2e_finish(&e);
    e2e_free(&e);
}

static void stderr_lines_prefixed(void)
{
    e2e e;
    if (e2e_start(&e, probe_path, NULL, 1) && e2e_expect_next(&e)) {
        /* provoke several different log lines */
        if (e2e_event(&e, "log-1", "echo:x", NULL) && e2e_expect_post(&e, "response") && e2e_reply(&e, 413) &&
            e2e_expect_next(&e) && e2e_event(&e, "log id", "echo:x", NULL) && e2e_expect_next(&e) &&
            e2e_event(&e, "log-2", "echo:x", NULL) && e2e_expect_post(&e, "response") && e2e_reply(&e, 410) &&
            e2e_expect_next(&e))
            e2e_ok(&e, "log-3", "echo:y", "y");
    }
    e2e_finish(&e);
    LT_CHECK(count_lines(&e, NULL) >= 3);
    LT_CHECK(count_lines(&e, NULL) == count_lines(&e, "lambda_runtime: "));
    e2e_free(&e);
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    long long t0 = now_ms();
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir with hello/bootstrap and probe/bootstrap>\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(hello_path, sizeof hello_path, "%s/hello/bootstrap", argv[1]);
    snprintf(probe_path, sizeof probe_path, "%s/probe/bootstrap", argv[1]);
    snprintf(http_path, sizeof http_path, "%s/http/bootstrap", argv[1]);
    snprintf(sqs_path, sizeof sqs_path, "%s/sqs/bootstrap", argv[1]);
    snprintf(s3_path, sizeof s3_path, "%s/s3/bootstrap", argv[1]);
    snprintf(http_allocs_path, sizeof http_allocs_path, "%s/http-allocs/bootstrap", argv[1]);
    snprintf(echo_path, sizeof echo_path, "%s/echo/bootstrap", argv[1]);
    printf("e2e: %s, %s\n", hello_path, probe_path);
    if (!is_exec(hello_path)) printf("  warning: %s is missing or not executable\n", hello_path);
    if (!is_exec(probe_path)) printf("  warning: %s is missing or not executable\n", probe_path);

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        long long t_ = now_ms();                                                                   \
        LT_RUN(fn);                                                                                \
        if (now_ms() - t_ > 1000) printf("  (%s took %.1f s)\n", #fn, (double)(now_ms() - t_) / 1000.0); \
    } while (0)
    RUN(hello_world);
    RUN(api_as_url);
    RUN(hello_invalid_events);
    RUN(hello_escapes);
    RUN(http_examples);
    RUN(http_steady_state_allocations);
    RUN(sqs_examples);
    RUN(s3_examples);
    RUN(echo_binary);
    RUN(hundred_on_one_connection);
    RUN(empty_event);
    RUN(chunked_single_chunk);
    RUN(chunked_many_small_chunks);
    RUN(chunked_extensions_and_trailers);
    RUN(six_mb_event);
    RUN(server_writes_one_byte_at_a_time);
    RUN(server_closes_after_each_response);
    RUN(server_sends_connection_close);
    RUN(reconnect_fails);
    RUN(peer_closes_mid_body);
    RUN(next_500_exits);
    RUN(response_4xx_continues);
    RUN(response_500_exits);
    RUN(max_invocations_exit_zero);
    RUN(handler_error_escaping);
    RUN(handler_returns_nonzero);
    RUN(init_error);
    RUN(missing_runtime_api_env);
    RUN(request_id_with_bad_bytes);
    RUN(request_id_percent_encoded);
    RUN(invocation_id_echo);
    RUN(trace_id_env);
    RUN(context_all_fields);
    RUN(context_env_unset);
    RUN(tenant_id);
    RUN(event_too_large);
    RUN(response_too_large);
    RUN(default_response_limit);
    RUN(steady_state_allocations);
    RUN(content_type_default_and_custom);
    RUN(stderr_lines_prefixed);

    printf("e2e: %.1f s\n", (double)(now_ms() - t0) / 1000.0);
    return LT_REPORT();
}
