/* test_faults.c - fault injection against the real bootstrap: a scripted fake Runtime API
   (tools/rapi_server.c) that cuts connections, lies about lengths, sends malformed framing,
   huge heads, interim responses, HTTP/1.0, nothing at all, or trickles bytes; a bootstrap that
   is bombarded with signals (tests/handlers/sigprobe.c); and one whose allocator fails at the
   Nth call (tests/handlers/oomprobe.c).

   Usage: build/test_faults <dir>   with <dir>/probe/bootstrap, <dir>/handlers/sigprobe/bootstrap
   and <dir>/handlers/oomprobe/bootstrap (build, build/asan or build/vg).

   Every scenario asserts the outcome: the exit status (or that the runtime went on to the next
   /next), the exact POSTs (none lost, none duplicated, on which connection), and the child's
   stderr (every line starts with "lambda_runtime: ", no sanitizer report). Every wait is
   bounded (FAULT_WAIT_MS, default 5000 ms, for any one expected event), so a runtime that hangs
   costs seconds and fails; there are no other timing assertions. The only processes signalled
   are the ones this program forked, by PID. */
#include "../tools/rapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define E2E_SHOW_MAX 240
#include "e2e_util.h"
#include "lt.h"

#define P_NEXT "/2018-06-01/runtime/invocation/next"
#define P_INVOKE "/2018-06-01/runtime/invocation/"
#define DEFAULT_LIMIT 6291556u

static int wait_ms = 5000;  /* longest wait for any one expected request or exit */
static char probe_path[4096], sig_path[4096], oom_path[4096];

/* ------------------------------------------------------------------------------------------ */
/* one scenario: fake server + one bootstrap process                                           */

typedef struct ft {
    rapi_server srv;
    rapi_request req;   /* the last request read */
    int have_req;
    pid_t pid;
    int reaped, status, killed;
    char errpath[64];
    char *err;          /* the child's stderr, after ft_finish */
    size_t err_len;
    int bad_at_start;
    unsigned posts;     /* POSTs seen */
} ft;

/* env: NULL-terminated "K=V" list. refuse: close the listening socket before the child starts
   (connection refused at start-up). */
static int ft_start(ft *e, const char *bootstrap, const char *const *env, int refuse)
{
    static const char *const san_env[] = {"ASAN_OPTIONS=exitcode=86:allocator_may_return_null=1",
                                          "UBSAN_OPTIONS=print_stacktrace=1", NULL};
    char api[64];
    const char *envp[E2E_ENV_MAX];
    int fd;
    memset(e, 0, sizeof *e);
    e->pid = -1;
    e->bad_at_start = lt_bad_checks;
    if (rapi_server_open(&e->srv) != RAPI_OK) {
        LT_CHECK(!"server open");
        return 0;
    }
    e->srv.max_body = 32u * 1024u * 1024u;
    if (refuse) rapi_server_stop_listening(&e->srv);
    child_env(envp, api, (unsigned)rapi_server_port(&e->srv), san_env, env);
    strcpy(e->errpath, "/tmp/test_faults_stderr_XXXXXX");
    fd = mkstemp(e->errpath);
    if (fd < 0) {
        LT_CHECK(!"mkstemp");
        return 0;
    }
    /* closing fds from 3 on: the server's sockets must not live on in the child */
    e->pid = spawn_child(bootstrap, NULL, envp, -1, fd, 3);
    close(fd);
    if (e->pid < 0) {
        LT_CHECK(!"fork");
        return 0;
    }
    return 1;
}

/* Waits up to timeout_ms for the child to exit. 1 if it did (status in e->status). */
static int ft_wait_exit(ft *e, int timeout_ms)
{
    return wait_child(e->pid, &e->reaped, &e->status, timeout_ms);
}

static int exited_with(const ft *e, int code)
{
    return child_exited_with(e->reaped, e->status, code);
}

/* Reads the next request into e->req. Quiet: no diagnostics when nothing comes. */
static int ft_read_q(ft *e, int timeout_ms, const char *what, int quiet)
{
    if (e->have_req) rapi_request_free(&e->req);
    e->have_req = read_from_child(&e->srv, &e->req, timeout_ms, quiet ? NULL : what, e->pid, &e->reaped, &e->status);
    if (!e->have_req) return 0;
    if (streq(e->req.method, "POST")) e->posts++;
    return 1;
}

static int ft_read(ft *e, int timeout_ms, const char *what)
{
    return ft_read_q(e, timeout_ms, what, 0);
}

static int ft_expect_next(ft *e)
{
    if (!ft_read(e, wait_ms, "/next")) {
        LT_CHECK(!"a /next request arrives");
        return 0;
    }
    if (!streq(e->req.method, "GET") || !streq(e->req.target, P_NEXT)) {
        show("unexpected request", e->req.raw, e->req.raw_len);
        LT_CHECK(!"GET /next");
        return 0;
    }
    return 1;
}

/* Expects POST /invocation/<id>/<kind> with an exact Content-Length. */
static int ft_expect_post(ft *e, const char *id, const char *kind)
{
    char want[512];
    const char *cl;
    snprintf(want, sizeof want, "%s%s/%s", P_INVOKE, id, kind);
    if (!ft_read(e, wait_ms, kind)) {
        LT_CHECK(!"the POST arrives");
        return 0;
    }
    if (!streq(e->req.method, "POST") || !streq(e->req.target, want)) {
        show("unexpected request", e->req.raw, e->req.raw_len);
        printf("    wanted POST %s\n", want);
        LT_CHECK(!"the expected POST");
        return 0;
    }
    cl = rapi_request_header(&e->req, "Content-Length");
    LT_CHECK(cl != NULL && rapi_request_header_count(&e->req, "Content-Length") == 1);
    LT_CHECK(cl && strtoul(cl, NULL, 10) == e->req.body_len);
    LT_CHECK(!e->req.chunked);
    return 1;
}

static int body_is(const ft *e, const char *want)
{
    return mem_is(e->req.body, e->req.body_len, want, strlen(want), "body");
}

static void check_error_type(ft *e, const char *type)
{
    char tail[256];
    size_t tl;
    snprintf(tail, sizeof tail, "\"errorType\":\"%s\",\"stackTrace\":[]}", type);
    tl = strlen(tail);
    LT_CHECK(streq(rapi_request_header(&e->req, "Lambda-Runtime-Function-Error-Type"), type));
    LT_CHECK(e->req.body_len > tl && memcmp(e->req.body + e->req.body_len - tl, tail, tl) == 0 &&
             memcmp(e->req.body, "{\"errorMessage\":\"", 17) == 0);
    if (!(e->req.body_len > tl)) show("error body", e->req.body, e->req.body_len);
}

static int ft_raw_sliced(ft *e, const void *p, size_t n, size_t slice, unsigned delay_us)
{
    int rc = rapi_server_send_raw(&e->srv, p, n, slice, delay_us, -1, wait_ms);
    if (rc != RAPI_OK) printf("    raw send failed: %s\n", rapi_strerror(rc));
    return rc == RAPI_OK;
}

static int ft_raw(ft *e, const char *s)
{
    return ft_raw_sliced(e, s, strlen(s), 0, 0);
}

/* A /next 200 event with id, deadline and the given framing (chunk 0: Content-Length). */
static int ft_event_ex(ft *e, const char *id, const void *body, size_t len, size_t chunk, size_t slice,
                       unsigned delay_us, const char *extra)
{
    rapi_response r;
    char h[1024];
    int rc;
    snprintf(h, sizeof h, "Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n%s", id,
             wall_ms() + 60000, extra ? extra : "");
    rapi_response_init(&r, 200);
    r.headers = h;
    r.body = body;
    r.body_len = len;
    r.chunk_size = chunk;
    r.slice = slice;
    r.slice_delay_us = delay_us;
    rc = rapi_server_send(&e->srv, &r, wait_ms * 3);
    if (rc != RAPI_OK) printf("    sending the event failed: %s\n", rapi_strerror(rc));
    return rc == RAPI_OK;
}

static int ft_event(ft *e, const char *id, const char *body)
{
    return ft_event_ex(e, id, body, strlen(body), 0, 0, 0, NULL);
}

/* 202 {"status":"OK"} for the last POST. */
static int ft_reply_ex(ft *e, int status, size_t slice, unsigned delay_us)
{
    rapi_response r;
    static const char ok[] = "{\"status\":\"OK\"}";
    int rc;
    rapi_response_init(&r, status);
    r.headers = "Content-Type: application/json\r\n";
    r.body = ok;
    r.body_len = sizeof ok - 1;
    r.slice = slice;
    r.slice_delay_us = delay_us;
    rc = rapi_server_send(&e->srv, &r, wait_ms * 3);
    if (rc != RAPI_OK) printf("    sending the reply failed: %s\n", rapi_strerror(rc));
    return rc == RAPI_OK;
}

static int ft_ack(ft *e)
{
    return ft_reply_ex(e, 202, 0, 0) && ft_expect_next(e);
}

/* event -> /response with the wanted body -> 202 -> /next */
static int ft_ok(ft *e, const char *id, const char *event, const char *want)
{
    if (!ft_event(e, id, event) || !ft_expect_post(e, id, "response")) return 0;
    LT_CHECK(body_is(e, want));
    return ft_ack(e);
}

static size_t count_lines(const ft *e, const char *needle)
{
    return count_lines_in(e->err, e->err_len, needle);
}

/* The runtime must exit 1 on its own, promptly, without sending anything more. */
static void ft_expect_fatal(ft *e)
{
    rapi_request r;
    int rc;
    LT_CHECK(ft_wait_exit(e, wait_ms));
    LT_CHECK(exited_with(e, 1));
    rc = rapi_server_read_request(&e->srv, &r, 50);
    if (rc == RAPI_OK) {
        show("request after the fault", r.raw, r.raw_len);
        rapi_request_free(&r);
    }
    LT_CHECK(rc != RAPI_OK);
}

/* Ends the scenario: SIGKILL if still running, reap, read stderr, check every line. */
static void ft_finish(ft *e)
{
    if (kill_child(e->pid, &e->reaped, &e->status, 10000)) e->killed = 1;
    if (e->reaped && !e->killed) { /* ended on its own: never by a signal or a sanitizer */
        LT_CHECK(!WIFSIGNALED(e->status));
        LT_CHECK(!WIFEXITED(e->status) || (WEXITSTATUS(e->status) != 86 && WEXITSTATUS(e->status) != 99 &&
                                           WEXITSTATUS(e->status) != 127));
        if (WIFSIGNALED(e->status)) printf("    the runtime died of signal %d\n", WTERMSIG(e->status));
    }
    e->err = take_file(e->errpath, &e->err_len, 0);
    if (e->err) {
        LT_CHECK(count_lines(e, NULL) == count_lines(e, "lambda_runtime: "));
        LT_CHECK(count_lines(e, "Sanitizer") == 0);
        LT_CHECK(count_lines(e, "runtime error:") == 0);
        LT_CHECK(count_lines(e, "==") == 0); /* valgrind's "==pid==" lines */
    }
    if (lt_bad_checks != e->bad_at_start && e->err) show("child stderr", e->err, e->err_len);
    if (e->have_req) rapi_request_free(&e->req);
    e->have_req = 0;
    rapi_server_close(&e->srv);
}

static void ft_free(ft *e)
{
    free(e->err);
    e->err = NULL;
}

static int has_line(const ft *e, const char *needle)
{
    if (count_lines(e, needle) > 0) return 1;
    printf("    stderr has no line with \"%s\"\n", needle);
    return 0;
}

/* One process per raw /next response: it must make the runtime exit 1 with `needle` logged. */
static void fatal_next_response(const char *raw, size_t len, const char *needle, int close_after)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        rapi_server_send_raw(&e.srv, raw, len, 0, 0, -1, wait_ms); /* may fail: the runtime may hang up */
        if (close_after) rapi_server_close_conn(&e.srv);
        ft_expect_fatal(&e);
        LT_CHECK(e.posts == 0);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, needle));
    LT_CHECK(has_line(&e, "lambda_runtime: error: exiting:"));
    ft_free(&e);
}

static void fatal_next_str(const char *raw, const char *needle, int close_after)
{
    fatal_next_response(raw, strlen(raw), needle, close_after);
}

/* ------------------------------------------------------------------------------------------ */
/* connection cut in the middle of a response                                                  */

static void cut_mid_status_line(void)
{
    fatal_next_str("HTTP/1.1 2", "closed in the middle of a response head", 1);
}

static void cut_mid_headers(void)
{
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut-h\r\nContent-Le",
                   "closed in the middle of a response head", 1);
}

static void cut_mid_chunk(void)
{
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut-c\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\necho:\r\n10\r\nabc",
                   "closed in the middle of a chunked body", 1);
}

static void cut_between_chunks_and_in_size(void)
{
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut-c2\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\necho:\r\n",
                   "closed in the middle of a chunked body", 1);
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut-c3\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\necho:\r\n0\r\n",
                   "closed in the middle of a chunked body", 1);
}

static void length_larger_than_body(void)
{
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cl-big\r\nContent-Length: 100\r\n\r\necho:12345",
                   "connection closed after 10 of 100 body bytes", 1);
}

/* The 202 to /response is cut inside its body: the response was delivered exactly once, and
   the runtime must either go on (new connection) or exit 1; never POST it again. */
static void cut_mid_reply_body(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_event(&e, "rb-1", "echo:cut reply") &&
        ft_expect_post(&e, "rb-1", "response")) {
        LT_CHECK(body_is(&e, "cut reply"));
        ft_raw(&e, "HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"stat");
        rapi_server_close_conn(&e.srv);
        if (ft_read_q(&e, wait_ms, "follow-up", 1)) {
            LT_CHECK(streq(e.req.method, "GET") && streq(e.req.target, P_NEXT));
        } else {
            ft_expect_fatal(&e);
        }
        LT_CHECK(e.posts == 1);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, "lambda_runtime: "));
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* framing lies                                                                                */

/* Content-Length smaller than what follows, in the same write: the rest must not be taken as
   the next response; the runtime must not reuse that connection. */
static void length_smaller_same_write(void)
{
    ft e;
    static const char raw[] = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cl-small\r\nContent-Length: 9\r\n\r\n"
                              "echo:abcd"
                              "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_raw(&e, raw) &&
        ft_expect_post(&e, "cl-small", "response")) {
        LT_CHECK(body_is(&e, "abcd"));
        LT_CHECK(e.req.conn_seq == 2); /* a fresh connection */
        if (ft_ack(&e)) ft_ok(&e, "cl-after", "echo:still here", "still here");
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    ft_free(&e);
}

/* The same, but the surplus arrives while the handler runs (after the runtime read exactly
   Content-Length bytes). A hardened client notices unsolicited bytes on an idle connection
   (as Go's net/http does) instead of reading them as the answer to its next request. */
static void length_smaller_late_bytes(void)
{
    ft e;
    static const char first[] = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cl-late\r\nContent-Length: 9\r\n\r\n"
                                "sleep:400";
    static const char late[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_raw(&e, first)) {
        sleep_ms(100); /* the handler sleeps 400 ms */
        ft_raw(&e, late);
        if (ft_expect_post(&e, "cl-late", "response")) {
            LT_CHECK(body_is(&e, "slept"));
            LT_CHECK(e.req.conn_seq == 2);
            ft_reply_ex(&e, 202, 0, 0);
            if (ft_expect_next(&e)) ft_ok(&e, "cl-late2", "echo:fine", "fine");
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed); /* still running: it did not take the surplus for a fatal 500 */
    ft_free(&e);
}

/* The server closes the connection right after the event, and the handler answers at once:
   the runtime then posts without checking the idle connection first (it was used a moment
   ago), the post fails without an answer, and it is sent again, whole, on a new
   connection. Also with the close a little later, and with a surplus that arrives while a
   slower handler runs (the check is made then: length_smaller_late_bytes). */
static void closed_before_quick_post(void)
{
    static const unsigned delays_ms[] = {0, 1, 20};
    size_t i;
    for (i = 0; i < sizeof delays_ms / sizeof delays_ms[0]; i++) {
        ft e;
        char id[32];
        printf("  close %u ms after the event\n", delays_ms[i]);
        snprintf(id, sizeof id, "quick-%u", (unsigned)i);
        if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_event(&e, id, "echo:fast")) {
            if (delays_ms[i]) sleep_ms(delays_ms[i]);
            rapi_server_close_conn(&e.srv);
            if (ft_expect_post(&e, id, "response")) {
                LT_CHECK(body_is(&e, "fast"));
                LT_CHECK(e.req.conn_seq == 2); /* sent again on a new connection */
                if (ft_ack(&e)) ft_ok(&e, "quick-after", "echo:on", "on");
            }
        }
        ft_finish(&e);
        LT_CHECK(e.killed); /* still running */
        ft_free(&e);
    }
}

static void two_content_lengths(void)
{
    ft e;
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: two-cl\r\nContent-Length: 5\r\n"
                   "Content-Length: 6\r\n\r\necho:x",
                   "malformed HTTP response head", 0);
    /* the same value twice is allowed (RFC 9112 6.3) and works */
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) &&
        ft_raw(&e, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: same-cl\r\nContent-Length: 6\r\n"
                   "Content-Length: 6\r\n\r\necho:y") &&
        ft_expect_post(&e, "same-cl", "response")) {
        LT_CHECK(body_is(&e, "y"));
        ft_ack(&e);
    }
    ft_finish(&e);
    ft_free(&e);
}

static void length_and_chunked(void)
{
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cl-te\r\nContent-Length: 6\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n6\r\necho:z\r\n0\r\n\r\n",
                   "malformed HTTP response head", 0);
    fatal_next_str("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: te-cl\r\nTransfer-Encoding: chunked\r\n"
                   "Content-Length: 6\r\n\r\n6\r\necho:z\r\n0\r\n\r\n",
                   "malformed HTTP response head", 0);
}

static void bad_content_length_values(void)
{
    static const char *const vals[] = {"-1", "+6", "6.0", "1e3", "0x6", "6 6", "99999999999999999999999"};
    size_t i;
    char raw[512];
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: bad-cl\r\nContent-Length: %s\r\n\r\necho:w",
                 vals[i]);
        printf("    Content-Length: %s\n", vals[i]);
        fatal_next_str(raw, "malformed HTTP response head", 0);
    }
}

/* chunk sizes: each row its own process. too_big rows: the documented outcome of a size over
   the limit (at most 16 hex digits, and the event limit) is Runtime.EventTooLarge, on a fresh
   connection, and the runtime goes on; the others are malformed: exit 1. */
static void bad_chunk_sizes(void)
{
    static const struct {
        const char *body;
        int too_big;
        const char *why;
    } rows[] = {
        {"11111111111111111\r\n", 1, "17 hex digits (overflow)"},
        {"00000000000000005\r\nhello\r\n0\r\n\r\n", 1, "17 digits with leading zeros"},
        {"FFFFFFFFFFFFFFFF\r\n", 1, "16 digits, 2^64-1"},
        {"8000000000000000\r\n", 1, "16 digits, 2^63"},
        {"-5\r\nhello\r\n0\r\n\r\n", 0, "negative"},
        {"zz\r\nhello\r\n0\r\n\r\n", 0, "not hex"},
        {"0x5\r\nhello\r\n0\r\n\r\n", 0, "0x prefix"},
        {"\r\nhello\r\n0\r\n\r\n", 0, "empty size"},
        {"5\r\nhelloX\r\n0\r\n\r\n", 0, "no CRLF after the data"},
        {"5\r\nhello0\r\n\r\n", 0, "data runs into the next size"},
        {"5\nhello\r\n0\r\n\r\n", 0, "bare LF after the size"},
        {"5\r\nhello\n0\r\n\r\n", 0, "bare LF after the data"},
    };
    size_t i;
    char raw[1024];
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: chunk-%lu\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n%s", (unsigned long)i, rows[i].body);
        printf("    chunk size: %s\n", rows[i].why);
        if (!rows[i].too_big) {
            fatal_next_str(raw, "malformed chunked body", 0);
        } else {
            ft e;
            char id[32];
            snprintf(id, sizeof id, "chunk-%lu", (unsigned long)i);
            if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_raw(&e, raw) &&
                ft_expect_post(&e, id, "error")) {
                check_error_type(&e, "Runtime.EventTooLarge");
                LT_CHECK(e.req.conn_seq == 2); /* the rest of that body is never read as a response */
                if (ft_ack(&e)) ft_ok(&e, "chunk-ok", "echo:ok", "ok");
            }
            ft_finish(&e);
            LT_CHECK(e.killed);
            ft_free(&e);
        }
    }
}

static void chunk_extension_and_trailer_limits(void)
{
    size_t n = 70000, i;
    char *raw = (char *)malloc(n + 512);
    int k = 0;
    if (!raw) return;
    /* a 70,000-byte chunk extension, then 70,000 bytes of trailers: over the 64 KiB limits */
    for (k = 0; k < 2; k++) {
        size_t p = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ext\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n%s", k == 0 ? "5;" : "5\r\necho:\r\n0\r\n");
        for (i = 0; i < n; i++) raw[p++] = k == 0 ? 'e' : (i % 100 == 99 ? '\n' : i % 100 == 98 ? '\r' : i % 100 == 0 ? 'X' : i % 100 == 1 ? ':' : 'v');
        memcpy(raw + p, k == 0 ? "\r\necho:\r\n0\r\n\r\n" : "\r\n\r\n", k == 0 ? 14 : 4);
        p += k == 0 ? 14 : 4;
        printf("    %s\n", k == 0 ? "70,000-byte chunk extension" : "70,000 bytes of trailers");
        fatal_next_response(raw, p, "malformed chunked body", 0);
    }
    free(raw);
}

/* ------------------------------------------------------------------------------------------ */
/* heads: size, number of headers, status line                                                 */

static void huge_header_line(void)
{
    size_t n = 1u << 20, p;
    char *raw = (char *)malloc(n + 256);
    if (!raw) return;
    p = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: huge\r\nX-Huge: ");
    memset(raw + p, 'h', n);
    p += n;
    memcpy(raw + p, "\r\nContent-Length: 6\r\n\r\necho:h", 30);
    p += 30;
    fatal_next_response(raw, p, "response head exceeds 65536 bytes", 0);
    free(raw);
}

static char *many_headers(size_t count, const char *id, size_t *len)
{
    char *raw = (char *)malloc(count * 16 + 256), *p = raw;
    size_t i;
    if (!raw) return NULL;
    p += sprintf(p, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: %s\r\n", id);
    for (i = 0; i < count; i++) p += sprintf(p, "X-%lu: v\r\n", (unsigned long)i % 1000);
    p += sprintf(p, "Content-Length: 6\r\n\r\necho:m");
    *len = (size_t)(p - raw);
    return raw;
}

/* 10,000 small headers (~88 KB) exceed LAMBDA_MAX_HEAD_SIZE (64 KiB): documented as rejected
   (fatal). 5,000 (~43 KB) fit, and there is no limit on their number. */
static void ten_thousand_headers(void)
{
    size_t len = 0;
    char *raw = many_headers(10000, "many", &len);
    ft e;
    if (!raw) return;
    fatal_next_response(raw, len, "response head exceeds 65536 bytes", 0);
    free(raw);
    raw = many_headers(5000, "many-ok", &len);
    if (!raw) return;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_raw_sliced(&e, raw, len, 0, 0) &&
        ft_expect_post(&e, "many-ok", "response")) {
        LT_CHECK(body_is(&e, "m"));
        ft_ack(&e);
    }
    ft_finish(&e);
    free(raw);
    ft_free(&e);
}

static void status_line_not_http1(void)
{
    static const char *const lines[] = {"HTTP/2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.x 200 OK", "HTTP/1.1  200 OK",
                                        "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "http/1.1 200 OK",
                                        "ICY 200 OK", "SSH-2.0-OpenSSH_9.2", "HTTP/1.1 099 Low"};
    size_t i;
    char raw[256];
    for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        snprintf(raw, sizeof raw, "%s\r\nLambda-Runtime-Aws-Request-Id: st\r\nContent-Length: 6\r\n\r\necho:s", lines[i]);
        printf("    status line: %s\n", lines[i]);
        fatal_next_str(raw, "malformed HTTP response head", 0);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* limits with the rest of the body still on the wire                                         */

static void event_over_max_reconnects(void)
{
    static const char *const env[] = {"PROBE_MAX_EVENT=1000", NULL};
    size_t n = 300000;
    char *ev = (char *)malloc(n);
    ft e;
    int k;
    if (!ev) return;
    memset(ev, 'e', n);
    memcpy(ev, "len:", 4);
    if (ft_start(&e, probe_path, env, 0) && ft_expect_next(&e)) {
        for (k = 0; k < 2; k++) {
            const char *id = k == 0 ? "over-cl" : "over-ch";
            unsigned before = e.srv.accepts;
            /* 300 KB against a 1000-byte limit; the runtime stops reading, so the send may fail */
            ft_event_ex(&e, id, ev, n, k == 0 ? 0 : 4096, 0, 0, NULL);
            if (!ft_expect_post(&e, id, "error")) break;
            check_error_type(&e, "Runtime.EventTooLarge");
            LT_CHECK(e.srv.accepts == before + 1); /* the unread body made the connection unusable */
            if (!ft_ack(&e)) break;
            if (!ft_ok(&e, k == 0 ? "after-cl" : "after-ch", "echo:continues", "continues")) break;
        }
        LT_CHECK(k == 2);
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(count_lines(&e, "Runtime.EventTooLarge") == 2);
    ft_free(&e);
    free(ev);
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP/1.0, read-to-close, interim responses                                                  */

static void http10_without_keepalive(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) &&
        ft_raw(&e, "HTTP/1.0 200 OK\r\nLambda-Runtime-Aws-Request-Id: h10\r\nContent-Length: 8\r\n\r\necho:h10") &&
        ft_expect_post(&e, "h10", "response")) {
        /* the server left connection 1 open: the runtime must not reuse an HTTP/1.0 connection */
        LT_CHECK(body_is(&e, "h10"));
        LT_CHECK(e.req.conn_seq == 2);
        if (ft_raw(&e, "HTTP/1.0 202 Accepted\r\nContent-Length: 2\r\n\r\nok") && ft_expect_next(&e)) {
            LT_CHECK(e.req.conn_seq == 3);
            /* HTTP/1.0 with keep-alive: reused */
            if (ft_raw(&e, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nLambda-Runtime-Aws-Request-Id: h10k\r\n"
                           "Content-Length: 9\r\n\r\necho:h10k") &&
                ft_expect_post(&e, "h10k", "response")) {
                LT_CHECK(body_is(&e, "h10k"));
                LT_CHECK(e.req.conn_seq == 3);
                ft_ack(&e);
            }
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(e.err_len == 0);
    ft_free(&e);
}

/* Framing that an independent HTTP/1.1 parser reads differently must be refused, never
   guessed: a bare LF that would join two lines (and hide Content-Length or chunked), a
   control byte after a framing value, a trailer that is not a field line. */
static void framing_never_guessed(void)
{
    static const struct {
        const char *raw;
        const char *needle;
        const char *why;
    } rows[] = {
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: lf\r\nX: a\nContent-Length: 5\r\n\r\nhelloWORLD",
         "malformed HTTP response head", "bare LF hides Content-Length"},
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: lf\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n", "malformed HTTP response head", "bare LF hides chunked"},
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: bad\nid\r\nContent-Length: 6\r\n\r\necho:x",
         "malformed HTTP response head", "bare LF in a request id"},
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ctl\r\nTransfer-Encoding: chunked\x01\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n", "malformed HTTP response head", "control byte after chunked"},
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ctl\r\nContent-Length: 6\x7f\r\n\r\necho:x",
         "malformed HTTP response head", "DEL after a length"},
        {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: tr\r\nTransfer-Encoding: chunked\r\n\r\n"
         "6\r\necho:x\r\n0\r\nnocolon\r\n\r\n", "malformed chunked body", "trailer without a colon"},
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        printf("    %s\n", rows[i].why);
        fatal_next_str(rows[i].raw, rows[i].needle, 0);
    }
}

/* What RFC 9110/9112 tell a client to accept: HTTP/1.2..1.9 as 1.1 (kept alive), obs-fold
   unfolded; and HTTP/1.0 with chunked framing is never reused, even with keep-alive. */
static void framing_lenient_where_required(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) &&
        ft_raw(&e, "HTTP/1.2 200 OK\r\nLambda-Runtime-Aws-Request-Id: v12\r\nX-Folded: a\r\n b\r\n"
                   "Content-Length: 8\r\n\r\necho:v12") &&
        ft_expect_post(&e, "v12", "response")) {
        LT_CHECK(body_is(&e, "v12"));
        LT_CHECK(e.req.conn_seq == 1); /* 1.2 keeps the connection, as 1.1 */
        if (ft_raw(&e, "HTTP/1.9 202 Accepted\r\nContent-Length: 2\r\n\r\nok") && ft_expect_next(&e)) {
            LT_CHECK(e.req.conn_seq == 1);
            if (ft_raw(&e, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nLambda-Runtime-Aws-Request-Id: c10\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n8\r\necho:c10\r\n0\r\n\r\n") &&
                ft_expect_post(&e, "c10", "response")) {
                LT_CHECK(body_is(&e, "c10"));
                LT_CHECK(e.req.conn_seq == 2); /* RFC 9112 6.1: that connection is not reused */
                ft_ack(&e);
            }
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(e.err_len == 0);
    ft_free(&e);
}

/* max_response_size raised above the server's limit: the server answers 413 after the head
   and closes without reading the 20 MB body, so the runtime's send fails (EPIPE or
   ECONNRESET). The 413 it then reads is the outcome: logged, and on to the next event. */
static void response_413_while_sending(void)
{
    static const char *const env[] = {"PROBE_MAX_RESPONSE=67108864", NULL};
    static const char answer[] = "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 63\r\n\r\n"
                                 "{\"errorMessage\":\"body too large\",\"errorType\":\"RequestTooLarge\"}";
    ft e;
    rapi_request r;
    if (ft_start(&e, probe_path, env, 0) && ft_expect_next(&e) && ft_event(&e, "big-413", "big:20000000")) {
        int rc;
        e.srv.max_body = 1u << 20; /* read the head, refuse the body */
        rc = rapi_server_read_request(&e.srv, &r, wait_ms * 3);
        LT_CHECK(rc == RAPI_ETOOBIG);
        rapi_server_send_raw(&e.srv, answer, sizeof answer - 1, 0, 0, -1, wait_ms);
        rapi_server_close_conn(&e.srv); /* with the body unread: a reset */
        e.srv.max_body = 32u * 1024u * 1024u;
        if (ft_expect_next(&e)) {
            LT_CHECK(e.req.conn_seq == 2);
            ft_ok(&e, "after-413", "echo:ok", "ok");
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(has_line(&e, "HTTP 413"));
    LT_CHECK(count_lines(&e, "exiting") == 0);
    ft_free(&e);
}

static void body_until_close(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) &&
        ft_raw(&e, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: rtc\r\n\r\necho:read to close")) {
        rapi_server_close_conn(&e.srv);
        if (ft_expect_post(&e, "rtc", "response")) {
            LT_CHECK(body_is(&e, "read to close"));
            LT_CHECK(e.req.conn_seq == 2);
            ft_ack(&e);
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    ft_free(&e);
}

static void interim_1xx(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) &&
        ft_raw(&e, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Progress: 1\r\n\r\n") &&
        ft_event(&e, "i1xx", "echo:after interim") && ft_expect_post(&e, "i1xx", "response")) {
        LT_CHECK(body_is(&e, "after interim"));
        /* an interim response to the POST too, sent separately from the final one */
        if (ft_raw(&e, "HTTP/1.1 100 Continue\r\n\r\n")) {
            sleep_ms(30);
            if (ft_ack(&e)) ft_ok(&e, "i1xx-2", "echo:again", "again");
        }
        LT_CHECK(e.srv.accepts == 1);
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(e.err_len == 0);
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* empty responses, refused connections                                                        */

/* The server closes without a byte. On a reused connection: one transparent reconnect; if the
   fresh connection is closed the same way, the runtime gives up (exit 1). */
static void empty_reply_reconnects_once(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e) && ft_ok(&e, "em-1", "echo:one", "one")) {
        /* connection 1 was reused for this /next: close it without answering */
        LT_CHECK(e.req.conn_seq == 1);
        rapi_server_close_conn(&e.srv);
        if (ft_expect_next(&e)) {
            LT_CHECK(e.req.conn_seq == 2);
            if (ft_ok(&e, "em-2", "echo:two", "two")) {
                rapi_server_close_conn(&e.srv); /* again on a reused connection: one more reconnect */
                if (ft_expect_next(&e)) {
                    LT_CHECK(e.req.conn_seq == 3);
                    rapi_server_close_conn(&e.srv); /* and now on the fresh one: fatal */
                    ft_expect_fatal(&e);
                }
            }
        }
        LT_CHECK(e.posts == 2);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, "closed the connection without answering"));
    ft_free(&e);
}

static void empty_reply_at_startup(void)
{
    ft e;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        rapi_server_close_conn(&e.srv); /* the first connection is fresh: no retry */
        ft_expect_fatal(&e);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, "closed the connection without answering"));
    ft_free(&e);
}

static void refused_at_startup(void)
{
    ft e;
    long long t0 = now_ms();
    if (ft_start(&e, probe_path, NULL, 1)) {
        ft_expect_fatal(&e);
        LT_CHECK(now_ms() - t0 < wait_ms);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, "ECONNREFUSED"));
    LT_CHECK(has_line(&e, "lambda_runtime: error: connect to 127.0.0.1:"));
    ft_free(&e);
}

/* Three invocations, then the server stops listening and drops the idle connection while the
   runtime long-polls /next: one reconnect, refused, exit 1. No response lost or duplicated. */
static void refused_after_invocations(void)
{
    ft e;
    char id[16], ev[32], want[32];
    int i;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        for (i = 0; i < 3; i++) {
            snprintf(id, sizeof id, "rf-%d", i);
            snprintf(ev, sizeof ev, "echo:n%d", i);
            snprintf(want, sizeof want, "n%d", i);
            if (!ft_ok(&e, id, ev, want)) break;
        }
        LT_CHECK(i == 3);
        LT_CHECK(e.posts == 3);
        rapi_server_stop_listening(&e.srv);
        sleep_ms(50);
        rapi_server_close_conn(&e.srv);
        ft_expect_fatal(&e);
    }
    ft_finish(&e);
    LT_CHECK(has_line(&e, "ECONNREFUSED"));
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* slow servers, interim statuses                                                              */

static void slow_server(void)
{
    ft e;
    char head[512];
    long long t0;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        /* /next: nothing for 1.5 s (long poll), then the response in pieces 300 ms apart */
        sleep_ms(1500);
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: slow-1\r\n"
                 "Content-Length: 15\r\n\r\necho:slow event");
        t0 = now_ms();
        if (ft_raw_sliced(&e, head, strlen(head), 20, 300000) && ft_expect_post(&e, "slow-1", "response")) {
            LT_CHECK(now_ms() - t0 >= 900); /* sanity: the trickle really was slow */
            LT_CHECK(body_is(&e, "slow event"));
            /* /response: the head of the 202 arrives in 8-byte pieces 300 ms apart, its body at once */
            static const char h202[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n";
            if (ft_raw_sliced(&e, h202, sizeof h202 - 1, 8, 300000) &&
                ft_raw(&e, "ok") && ft_expect_next(&e))
                ft_ok(&e, "slow-2", "echo:fast again", "fast again");
        }
        LT_CHECK(e.srv.accepts == 1);
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(e.err_len == 0);
    ft_free(&e);
}

/* 403 on /next: logged; three in a row are fatal (documented). A success resets the count. */
static void next_403_three_times(void)
{
    ft e;
    int i;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        for (i = 0; i < 2; i++) {
            if (!ft_reply_ex(&e, 403, 0, 0) || !ft_expect_next(&e)) break;
        }
        LT_CHECK(i == 2);
        if (i == 2 && ft_ok(&e, "after-403", "echo:reset", "reset")) {
            for (i = 0; i < 3; i++)
                if (!ft_reply_ex(&e, 403, 0, 0) || (i < 2 && !ft_expect_next(&e))) break;
            LT_CHECK(i == 3);
            ft_expect_fatal(&e);
        }
    }
    ft_finish(&e);
    LT_CHECK(count_lines(&e, "HTTP 403") == 5);
    LT_CHECK(has_line(&e, "giving up after 3"));
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* signals                                                                                     */

/* A helper process that sends `sig` to `target` every `interval_us`, for at most `max_ms`. */
static pid_t start_bombard(pid_t target, int sig, unsigned interval_us, int max_ms)
{
    pid_t p;
    fflush(stdout);
    p = fork();
    if (p == 0) {
        long long end = now_ms() + max_ms;
        close_fds_from(0); /* holding the server's sockets would keep "closed" connections open */
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)interval_us * 1000L;
        while (now_ms() < end) {
            if (kill(target, sig) != 0) break;
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    return p;
}

static void stop_bombard(pid_t p)
{
    int st;
    if (p <= 0) return;
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
}

static void signals_during_reads_and_writes(void)
{
    ft e;
    pid_t b = -1;
    char ev[2000];
    size_t i, big = 4000000;
    if (ft_start(&e, sig_path, NULL, 0) && ft_expect_next(&e)) {
        /* the handler is installed before the first /next is sent */
        /* every 200 us; FAULT_SIG_US overrides (valgrind livelocks at 2000: it delivers signals slowly) */
        unsigned us = getenv("FAULT_SIG_US") ? (unsigned)atoi(getenv("FAULT_SIG_US")) : 200u;
        if (us < 50 || us > 100000) us = 200;
        b = start_bombard(e.pid, SIGUSR1, us, 20000);
        sleep_ms(300); /* the runtime is blocked in recv(), long-polling */
        memcpy(ev, "echo:", 5);
        for (i = 5; i < sizeof ev; i++) ev[i] = (char)('a' + i % 26);
        /* read side: the event trickles in, 16 bytes every 2 ms */
        if (!ft_event_ex(&e, "sig-1", ev, sizeof ev, 0, 16, 2000, NULL) || !ft_expect_post(&e, "sig-1", "response"))
            goto done;
        LT_CHECK(e.req.body_len == sizeof ev && memcmp(e.req.body, ev, sizeof ev) == 0);
        if (!ft_reply_ex(&e, 202, 4, 1000) || !ft_expect_next(&e)) goto done;
        /* the same, chunked */
        if (!ft_event_ex(&e, "sig-2", ev, sizeof ev, 100, 16, 2000, NULL) || !ft_expect_post(&e, "sig-2", "response"))
            goto done;
        LT_CHECK(e.req.body_len == sizeof ev && memcmp(e.req.body, ev, sizeof ev) == 0);
        if (!ft_ack(&e)) goto done;
        /* write side: a 4 MB response while the server does not read for 400 ms */
        if (!ft_event(&e, "sig-3", "big:4000000")) goto done;
        sleep_ms(400);
        if (!ft_expect_post(&e, "sig-3", "response")) goto done;
        LT_CHECK(e.req.body_len == big);
        for (i = 0; i < e.req.body_len && e.req.body[i] == 'y'; i++) {
        }
        LT_CHECK(i == big);
        /* connect side: the server closes after the reply, so the runtime reconnects */
        {
            rapi_response r;
            rapi_response_init(&r, 202);
            r.close_at_end = 1;
            rapi_server_send(&e.srv, &r, wait_ms);
        }
        if (!ft_expect_next(&e)) goto done;
        if (!ft_event(&e, "sig-4", "sigs") || !ft_expect_post(&e, "sig-4", "response")) goto done;
        e.req.body[e.req.body_len] = 0;
        printf("    SIGUSR1 delivered to the runtime: %s\n", e.req.body);
        LT_CHECK(strtol(e.req.body, NULL, 10) > 20);
        ft_ack(&e);
    }
done:
    stop_bombard(b);
    ft_finish(&e);
    LT_CHECK(e.killed);
    LT_CHECK(e.err_len == 0); /* no failure logged: EINTR is invisible */
    if (e.err_len) show("child stderr", e.err, e.err_len);
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* allocator failures                                                                          */

/* The standard 3-invocation script, adaptive: answers whatever the runtime sends until it exits.
   Returns the number of POSTs per event in posts[3]; *events = events sent. */
static void oom_script(ft *e, unsigned posts[3], int *events)
{
    static char big[100000];
    const char *ids[3] = {"oom-1", "oom-2", "oom-3"};
    int sent = 0, steps;
    memset(big, 'b', sizeof big);
    memcpy(big, "echo:", 5);
    posts[0] = posts[1] = posts[2] = 0;
    for (steps = 0; steps < 12; steps++) {
        if (!ft_read_q(e, wait_ms, "any", 1)) break;
        if (streq(e->req.method, "GET") && streq(e->req.target, P_NEXT)) {
            if (sent == 3) {
                LT_CHECK(!"no fourth /next (max_invocations is 3)");
                break;
            }
            if (sent == 0)
                ft_event_ex(e, ids[0], "echo:hello", 10, 0, 0, 0, "Lambda-Runtime-Trace-Id: Root=1-abc\r\n");
            else if (sent == 1)
                ft_event_ex(e, ids[1], "fail:Some.Error:boom", 20, 0, 0, 0, "Lambda-Runtime-Trace-Id: Root=1-def-longer\r\n");
            else
                ft_event_ex(e, ids[2], big, sizeof big, 1000, 0, 0, NULL);
            sent++;
        } else if (streq(e->req.method, "POST")) {
            int k;
            for (k = 0; k < 3; k++) {
                char t1[128], t2[128];
                snprintf(t1, sizeof t1, "%s%s/response", P_INVOKE, ids[k]);
                snprintf(t2, sizeof t2, "%s%s/error", P_INVOKE, ids[k]);
                if (streq(e->req.target, t1) || streq(e->req.target, t2)) posts[k]++;
            }
            ft_reply_ex(e, 202, 0, 0);
        } else {
            show("unexpected request", e->req.raw, e->req.raw_len);
            LT_CHECK(!"only /next and POSTs");
        }
    }
    *events = sent;
    LT_CHECK(ft_wait_exit(e, wait_ms));
}

static void oom_every_allocation(void)
{
    char countfile[64], env_count[96], env_at[32];
    const char *env[6];
    unsigned posts[3];
    int events = 0, mode;
    unsigned long k = 0, n;
    FILE *f;
    ft e;
    int fd;
    strcpy(countfile, "/tmp/test_faults_count_XXXXXX");
    fd = mkstemp(countfile);
    if (fd < 0) return;
    close(fd);
    snprintf(env_count, sizeof env_count, "OOM_COUNT_FILE=%s", countfile);
    /* 1. count the allocation calls of a normal run */
    env[0] = env_count;
    env[1] = "OOM_MAX_INVOCATIONS=3";
    env[2] = NULL;
    if (ft_start(&e, oom_path, env, 0)) {
        oom_script(&e, posts, &events);
        LT_CHECK(exited_with(&e, 0));
        LT_CHECK(events == 3 && posts[0] == 1 && posts[1] == 1 && posts[2] == 1);
    }
    ft_finish(&e);
    LT_CHECK(e.err_len == 0);
    ft_free(&e);
    f = fopen(countfile, "r");
    if (f) {
        if (fscanf(f, "%lu", &k) != 1) k = 0;
        fclose(f);
    }
    printf("    a normal 3-invocation run makes %lu allocation calls\n", k);
    LT_CHECK(k > 0 && k < 200);
    if (k >= 200) k = 200;
    /* 2. fail the Nth call and every later one (mode 0), or only the Nth (mode 1) */
    for (mode = 0; mode < 2; mode++) {
        unsigned clean = 0, failed = 0;
        for (n = 1; n <= k; n++) {
            int before = lt_bad_checks, i;
            snprintf(env_at, sizeof env_at, "OOM_AT=%lu", n);
            env[0] = env_at;
            env[1] = "OOM_MAX_INVOCATIONS=3";
            env[2] = mode ? "OOM_ONCE=1" : NULL;
            env[3] = NULL;
            if (ft_start(&e, oom_path, env, 0)) {
                oom_script(&e, posts, &events);
                LT_CHECK(e.reaped && WIFEXITED(e.status) &&
                         (WEXITSTATUS(e.status) == 0 || WEXITSTATUS(e.status) == 1));
                for (i = 0; i < 3; i++) LT_CHECK(posts[i] <= 1); /* never a duplicate */
                if (exited_with(&e, 0)) {
                    clean++;
                    LT_CHECK(events == 3 && posts[0] == 1 && posts[1] == 1 && posts[2] == 1);
                } else {
                    failed++;
                }
            }
            ft_finish(&e);
            if (exited_with(&e, 1)) {
                LT_CHECK(has_line(&e, "out of memory"));
            }
            if (lt_bad_checks != before) printf("    (OOM_AT=%lu%s)\n", n, mode ? " once" : "");
            ft_free(&e);
        }
        printf("    %s: %u runs completed all 3 invocations, %u exited 1 with a log line\n",
               mode ? "only the Nth call fails" : "the Nth and later calls fail", clean, failed);
    }
    unlink(countfile);
}

/* lambda_error after an earlier lambda_error, with a type longer than the error buffer, when
   growing that buffer fails: the invocation must still be reported (some /error), no crash. */
static void oom_in_lambda_error(void)
{
    ft e;
    char ev[1400];
    memcpy(ev, "oomnext:fail:", 13);
    memset(ev + 13, 'T', 1100);
    strcpy(ev + 13 + 1100, ":second");
    if (ft_start(&e, oom_path, NULL, 0) && ft_expect_next(&e) && ft_event(&e, "oe-1", "fail:Short.Error:first") &&
        ft_expect_post(&e, "oe-1", "error")) {
        check_error_type(&e, "Short.Error");
        if (ft_ack(&e) && ft_event(&e, "oe-2", ev) && ft_expect_post(&e, "oe-2", "error")) {
            const char *hdr = rapi_request_header(&e.req, "Lambda-Runtime-Function-Error-Type");
            char type[256];
            LT_CHECK(e.req.body_len < 4096); /* a sane error document, not a dump of the heap */
            /* the document names the same (non-empty) type as the header */
            LT_CHECK(hdr != NULL && *hdr != '\0');
            snprintf(type, sizeof type, "%s", hdr ? hdr : "?");
            check_error_type(&e, type);
            if (getenv("FAULT_VERBOSE")) show("oe-2 error", e.req.body, e.req.body_len);
            if (ft_ack(&e)) ft_ok(&e, "oe-3", "echo:alive", "alive");
        }
    }
    ft_finish(&e);
    LT_CHECK(e.killed);
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* response size                                                                               */

static void response_7mb_and_exact_limit(void)
{
    ft e;
    size_t i;
    if (ft_start(&e, probe_path, NULL, 0) && ft_expect_next(&e)) {
        if (!ft_event(&e, "r7", "big:7340032") || !ft_expect_post(&e, "r7", "error")) goto done;
        check_error_type(&e, "Function.ResponseSizeTooLarge");
        if (!ft_ack(&e)) goto done;
        /* exactly the limit, while the server is slow to read (short writes) */
        if (!ft_event(&e, "rmax", "big:6291556")) goto done;
        sleep_ms(300);
        if (!ft_expect_post(&e, "rmax", "response")) goto done;
        LT_CHECK(streq(rapi_request_header(&e.req, "Content-Length"), "6291556"));
        LT_CHECK(e.req.body_len == DEFAULT_LIMIT);
        for (i = 0; i < e.req.body_len && e.req.body[i] == 'x'; i++) {
        }
        LT_CHECK(i == DEFAULT_LIMIT);
        if (!ft_ack(&e)) goto done;
        ft_ok(&e, "r-after", "echo:small", "small");
        LT_CHECK(e.srv.accepts == 1);
    }
done:
    ft_finish(&e);
    LT_CHECK(e.killed);
    ft_free(&e);
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    long long t0 = now_ms();
    const char *w = getenv("FAULT_WAIT_MS"), *only = getenv("FAULT_ONLY"); /* one scenario by name */
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir with probe/bootstrap, handlers/sigprobe/bootstrap, handlers/oomprobe/bootstrap>\n",
                argv[0]);
        return 2;
    }
    if (w && atoi(w) > 0) wait_ms = atoi(w);
    signal(SIGPIPE, SIG_IGN);
    snprintf(probe_path, sizeof probe_path, "%s/probe/bootstrap", argv[1]);
    snprintf(sig_path, sizeof sig_path, "%s/handlers/sigprobe/bootstrap", argv[1]);
    snprintf(oom_path, sizeof oom_path, "%s/handlers/oomprobe/bootstrap", argv[1]);
    printf("faults: %s, %s, %s\n", probe_path, sig_path, oom_path);
    if (!is_exec(probe_path)) printf("  warning: %s is missing or not executable\n", probe_path);
    if (!is_exec(sig_path)) printf("  warning: %s is missing or not executable\n", sig_path);
    if (!is_exec(oom_path)) printf("  warning: %s is missing or not executable\n", oom_path);

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        long long t_ = now_ms();                                                                   \
        if (only && strcmp(only, #fn) != 0) break;                                                 \
        LT_RUN(fn);                                                                                \
        if (now_ms() - t_ > 2000) printf("  (%s took %.1f s)\n", #fn, (double)(now_ms() - t_) / 1000.0); \
    } while (0)
    RUN(cut_mid_status_line);
    RUN(cut_mid_headers);
    RUN(cut_mid_chunk);
    RUN(cut_between_chunks_and_in_size);
    RUN(length_larger_than_body);
    RUN(cut_mid_reply_body);
    RUN(length_smaller_same_write);
    RUN(length_smaller_late_bytes);
    RUN(closed_before_quick_post);
    RUN(two_content_lengths);
    RUN(length_and_chunked);
    RUN(bad_content_length_values);
    RUN(bad_chunk_sizes);
    RUN(chunk_extension_and_trailer_limits);
    RUN(huge_header_line);
    RUN(ten_thousand_headers);
    RUN(status_line_not_http1);
    RUN(event_over_max_reconnects);
    RUN(http10_without_keepalive);
    RUN(framing_never_guessed);
    RUN(framing_lenient_where_required);
    RUN(response_413_while_sending);
    RUN(body_until_close);
    RUN(interim_1xx);
    RUN(empty_reply_reconnects_once);
    RUN(empty_reply_at_startup);
    RUN(refused_at_startup);
    RUN(refused_after_invocations);
    RUN(slow_server);
    RUN(next_403_three_times);
    RUN(signals_during_reads_and_writes);
    RUN(oom_every_allocation);
    RUN(oom_in_lambda_error);
    RUN(response_7mb_and_exact_limit);

    printf("faults: %.1f s\n", (double)(now_ms() - t0) / 1000.0);
    return LT_REPORT();
}
