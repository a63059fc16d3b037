/* test_soak.c - long runs and frozen processes, against the scripted Runtime API server.

   soak:   N invocations (default 20,000, at least 10,000; `make soak` runs 1,000,000) of
           <dir>/echo/bootstrap on one connection, events of changing sizes (up to 96 KiB),
           each answer compared byte for byte. Memory must be flat: VmHWM after the last
           invocation equals VmHWM after the first tenth (at least 4,000: every event size has
           been seen by then), and VmRSS does not grow either (under ASan, whose allocator
           keeps freed blocks in a quarantine and hands memory back lazily, both may grow by
           at most 256 kB). One connection for the whole run, nothing on stderr.
   freeze: <dir>/probe/bootstrap is stopped (SIGSTOP) and continued (SIGCONT) at every point
           of an exchange, many times, as the platform freezes a sandbox between invocations:
           while it waits for /next, in the middle of an event's head and body, while the
           handler runs, while it sends a 2 MB answer the server is not reading, and in the
           middle of the 202. Every answer must arrive once, whole, on the one connection.

   Usage: build/test_soak <dir> [N]   (<dir>: build or build/asan)
   Both ends are pinned to one CPU (cross-CPU wake-ups would make the run ~10x slower). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/rapi_server.h"
#include "e2e_util.h"
#include "lt.h"

#define P_NEXT   "/2018-06-01/runtime/invocation/next"
#define P_INVOKE "/2018-06-01/runtime/invocation/"

static char echo_path[4096], probe_path[4096];
static long soak_n = 20000;
static const int wait_ms = 10000;

typedef struct run {
    rapi_server srv;
    pid_t pid;
    int reaped, status;
    char errpath[64];
} run;

static int run_start(run *r, const char *bootstrap)
{
    static const char *const san_env[] = {"ASAN_OPTIONS=exitcode=86", NULL};
    char api[64];
    const char *envp[E2E_ENV_MAX];
    int fd;
    memset(r, 0, sizeof *r);
    r->pid = -1;
    if (rapi_server_open(&r->srv) != RAPI_OK) return 0;
    r->srv.max_body = 8u * 1024u * 1024u;
    child_env(envp, api, (unsigned)rapi_server_port(&r->srv), san_env, NULL);
    strcpy(r->errpath, "/tmp/test_soak_stderr_XXXXXX");
    if ((fd = mkstemp(r->errpath)) < 0) return 0;
    r->pid = spawn_child(bootstrap, NULL, envp, -1, fd, 3);
    close(fd);
    return r->pid > 0;
}

/* Kills the child, checks its stderr is empty, closes the server. */
static void run_finish(run *r)
{
    char *err;
    size_t n = 0;
    kill_child(r->pid, &r->reaped, &r->status, 10000);
    err = take_file(r->errpath, &n, 1);
    LT_CHECK(err != NULL && n == 0);
    if (err && n) show("child stderr", err, n);
    free(err);
    rapi_server_close(&r->srv);
}

/* "VmHWM:" or "VmRSS:" of the child, in kB (-1 if unreadable). */
static long proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (!(f = fopen(path, "r"))) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) kb = strtol(line + strlen(field), NULL, 10);
    fclose(f);
    return kb;
}

static int read_req(run *r, rapi_request *q)
{
    return read_from_child(&r->srv, q, wait_ms, "a request", r->pid, &r->reaped, &r->status);
}

static int is_next(const rapi_request *q)
{
    return streq(q->method, "GET") && streq(q->target, P_NEXT);
}

static int is_post(const rapi_request *q, const char *id)
{
    char want[256];
    snprintf(want, sizeof want, P_INVOKE "%s/response", id);
    return streq(q->method, "POST") && streq(q->target, want);
}

static int send_event(run *r, const char *id, const void *body, size_t len)
{
    rapi_response resp;
    char h[256];
    snprintf(h, sizeof h,
             "Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
             "Content-Type: application/octet-stream\r\n",
             id, wall_ms() + 600000);
    rapi_response_init(&resp, 200);
    resp.headers = h;
    resp.body = body;
    resp.body_len = len;
    return rapi_server_send(&r->srv, &resp, wait_ms) == RAPI_OK;
}

static int send_202(run *r)
{
    rapi_response resp;
    rapi_response_init(&resp, 202);
    resp.headers = "Content-Type: application/json\r\n";
    resp.body = "{\"status\":\"OK\"}";
    resp.body_len = 15;
    return rapi_server_send(&r->srv, &resp, wait_ms) == RAPI_OK;
}

/* The event of invocation i: its number, then filler up to a size that cycles through 211
   values: up to 1.5 KiB, and every 16th one up to 96 KiB (all sizes are seen in the first
   3,376 invocations). */
static size_t make_event(char *buf, long i)
{
    size_t len = 16 + (size_t)((i * 7919) % 211) * (i % 16 ? 7 : 466), k;
    int n = snprintf(buf, 32, "%ld:", i);
    for (k = (size_t)n; k < len; k++) buf[k] = (char)('a' + (k + (size_t)i) % 26);
    return len;
}

static void pin_cpu0(pid_t pid)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(pid, sizeof set, &set);
}

static long mem_slack; /* kB the memory may grow by: 0, or 256 under ASan (see the top) */

static void soak(void)
{
    run r;
    rapi_request q;
    char *ev = (char *)malloc(100000), id[32];
    long warm = soak_n / 10 > 4000 ? soak_n / 10 : 4000, i, hwm_tenth = -1, rss_tenth = -1, hwm_end = -1, rss_end = -1, bad = 0;
    long long t0 = now_ms();
    cpu_set_t old;
    sched_getaffinity(0, sizeof old, &old);
    pin_cpu0(0);
    if (!run_start(&r, echo_path) || !ev) {
        LT_CHECK(!"start");
        free(ev);
        return;
    }
    pin_cpu0(r.pid);
    for (i = 0; i < soak_n; i++) {
        size_t len = make_event(ev, i);
        if (!read_req(&r, &q)) break;
        if (!is_next(&q)) bad++;
        rapi_request_free(&q);
        snprintf(id, sizeof id, "soak-%ld", i);
        if (!send_event(&r, id, ev, len) || !read_req(&r, &q)) break;
        if (!is_post(&q, id) || !mem_eq(q.body, q.body_len, ev, len)) bad++;
        rapi_request_free(&q);
        if (!send_202(&r)) break;
        if (i + 1 == warm) { /* every event size has been seen */
            hwm_tenth = proc_kb(r.pid, "VmHWM:");
            rss_tenth = proc_kb(r.pid, "VmRSS:");
        }
    }
    if (read_req(&r, &q)) { /* the last 202 has been read when the next /next arrives */
        LT_CHECK(is_next(&q));
        rapi_request_free(&q);
    }
    hwm_end = proc_kb(r.pid, "VmHWM:");
    rss_end = proc_kb(r.pid, "VmRSS:");
    printf("  %ld invocations in %.1f s, connections %u; VmHWM %ld -> %ld kB, VmRSS %ld -> %ld kB "
           "(after %ld -> at the end)\n",
           i, (double)(now_ms() - t0) / 1000.0, r.srv.accepts, hwm_tenth, hwm_end, rss_tenth,
           rss_end, warm);
    LT_CHECK(i == soak_n);
    LT_CHECK(bad == 0);
    LT_CHECK(r.srv.accepts == 1);
    LT_CHECK(hwm_tenth > 0 && hwm_end >= hwm_tenth && hwm_end <= hwm_tenth + mem_slack);
    LT_CHECK(rss_tenth > 0 && rss_end <= rss_tenth + mem_slack);
    run_finish(&r);
    free(ev);
    sched_setaffinity(0, sizeof old, &old);
}

/* ---- freeze and thaw ---- */

static void stop_for(pid_t pid, int ms)
{
    int st;
    kill(pid, SIGSTOP);
    waitpid(pid, &st, WUNTRACED); /* it is stopped when this returns */
    sleep_ms(ms);
    kill(pid, SIGCONT);
}

static void stopped(pid_t pid)
{
    int st;
    kill(pid, SIGSTOP);
    waitpid(pid, &st, WUNTRACED);
}

/* One invocation of probe with event `ev`, frozen at point `where`; expects the answer
   `want` (want_len bytes). */
enum { AT_NEXT, AT_EVENT_HEAD, AT_EVENT_BODY, AT_HANDLER, AT_BIG_POST, AT_202, AT_COUNT };

static int frozen_invocation(run *r, int where, long i, int ms)
{
    rapi_request q;
    char id[32], head[512], ev[64], *want = NULL;
    size_t ev_len, want_len, hl;
    int ok = 1;
    snprintf(id, sizeof id, "frz-%d-%ld", where, i);
    if (where == AT_HANDLER) ev_len = (size_t)snprintf(ev, sizeof ev, "sleep:%d", ms + 10);
    else if (where == AT_BIG_POST) ev_len = (size_t)snprintf(ev, sizeof ev, "big:2000000");
    else ev_len = (size_t)snprintf(ev, sizeof ev, "echo:%s/%ld", id, i * 31);
    if (where == AT_HANDLER) want_len = 5, want = strdup("slept");
    else if (where == AT_BIG_POST) {
        want_len = 2000000;
        if ((want = (char *)malloc(want_len))) memset(want, 'x', want_len);
    } else {
        want_len = ev_len - 5;
        want = (char *)malloc(want_len + 1);
        if (want) memcpy(want, ev + 5, want_len);
    }
    if (!want) return 0;
    /* the /next request: read it, or (AT_NEXT) freeze while it waits for the answer */
    if (!read_req(r, &q) || !is_next(&q)) ok = 0;
    if (ok) rapi_request_free(&q);
    hl = (size_t)snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
                          "Lambda-Runtime-Deadline-Ms: %lld\r\nContent-Length: %zu\r\n\r\n",
                          id, wall_ms() + 600000, ev_len);
    if (ok && where == AT_NEXT) {
        stopped(r->pid);
        ok = rapi_server_send_raw(&r->srv, head, hl, 0, 0, -1, wait_ms) == RAPI_OK &&
             rapi_server_send_raw(&r->srv, ev, ev_len, 0, 0, -1, wait_ms) == RAPI_OK;
        sleep_ms(ms);
        kill(r->pid, SIGCONT);
    } else if (ok && (where == AT_EVENT_HEAD || where == AT_EVENT_BODY)) {
        size_t cut = where == AT_EVENT_HEAD ? hl / 2 : hl + ev_len / 2;
        char all[1024];
        memcpy(all, head, hl);
        memcpy(all + hl, ev, ev_len);
        ok = rapi_server_send_raw(&r->srv, all, cut, 0, 0, -1, wait_ms) == RAPI_OK;
        sleep_ms(1); /* let it read the first part */
        stopped(r->pid);
        ok = ok && rapi_server_send_raw(&r->srv, all + cut, hl + ev_len - cut, 0, 0, -1,
                                        wait_ms) == RAPI_OK;
        sleep_ms(ms);
        kill(r->pid, SIGCONT);
    } else if (ok) {
        ok = rapi_server_send_raw(&r->srv, head, hl, 0, 0, -1, wait_ms) == RAPI_OK &&
             rapi_server_send_raw(&r->srv, ev, ev_len, 0, 0, -1, wait_ms) == RAPI_OK;
        if (where == AT_HANDLER) { /* the handler sleeps ms + 10: freeze it in there */
            sleep_ms(5);
            stop_for(r->pid, ms);
        } else if (where == AT_BIG_POST) { /* its sendmsg blocks on a full socket buffer */
            sleep_ms(20);
            stop_for(r->pid, ms);
        }
    }
    if (ok && (!read_req(r, &q) || !is_post(&q, id) || !mem_eq(q.body, q.body_len, want, want_len)))
        ok = 0;
    if (!ok) printf("    freeze point %d, invocation %ld: the answer is wrong or missing\n", where, i);
    else rapi_request_free(&q);
    free(want);
    if (ok && where == AT_202) {
        static const char r202[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}";
        ok = rapi_server_send_raw(&r->srv, r202, 30, 0, 0, -1, wait_ms) == RAPI_OK;
        sleep_ms(1);
        stopped(r->pid);
        ok = ok && rapi_server_send_raw(&r->srv, r202 + 30, sizeof r202 - 31, 0, 0, -1,
                                        wait_ms) == RAPI_OK;
        sleep_ms(ms);
        kill(r->pid, SIGCONT);
    } else if (ok) {
        ok = send_202(r);
    }
    return ok;
}

static void freeze(void)
{
    run r;
    long i, done = 0, rounds = 40;
    int where;
    long long t0 = now_ms();
    unsigned seed = 12345;
    if (!run_start(&r, probe_path)) {
        LT_CHECK(!"start");
        return;
    }
    for (i = 0; i < rounds; i++)
        for (where = 0; where < AT_COUNT; where++) {
            int ms;
            seed = seed * 1103515245u + 12345u;
            ms = 1 + (int)((seed >> 16) % 15);
            if (i == 0 && where == AT_NEXT) ms = 1500; /* once, a long freeze */
            if (!frozen_invocation(&r, where, i, ms)) goto out;
            done++;
        }
out:
    {
        rapi_request q;
        if (read_req(&r, &q)) {
            LT_CHECK(is_next(&q));
            rapi_request_free(&q);
        }
    }
    printf("  %ld frozen invocations (%d freeze points x %ld) in %.1f s, connections %u\n", done,
           AT_COUNT, rounds, (double)(now_ms() - t0) / 1000.0, r.srv.accepts);
    LT_CHECK(done == rounds * AT_COUNT);
    LT_CHECK(r.srv.accepts == 1);
    LT_CHECK(!r.reaped);
    run_finish(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <dir> [N]\n", argv[0]);
        return 2;
    }
    snprintf(echo_path, sizeof echo_path, "%s/echo/bootstrap", argv[1]);
    if (strstr(argv[1], "asan") != NULL) mem_slack = 256;
    snprintf(probe_path, sizeof probe_path, "%s/probe/bootstrap", argv[1]);
    if (argc > 2) soak_n = strtol(argv[2], NULL, 10);
    if (soak_n < 10000) soak_n = 10000;
    signal(SIGPIPE, SIG_IGN);
    if (!is_exec(echo_path) || !is_exec(probe_path)) {
        printf("missing %s or %s\n", echo_path, probe_path);
        return 1;
    }
    LT_RUN(soak);
    LT_RUN(freeze);
    return LT_REPORT();
}
