/* emu_bench.c - lambda-emu --bench: cold start, warm round trips, throughput, VmHWM and size of
   a bootstrap (and of a --baseline, alternating), with its own blocking loop. */
#include "emu.h"

/* ------------------------------------------------------------------ benchmark */

/* Stops the benchmarked runtime: SIGTERM, up to the grace period, then SIGKILL. Bounded. */
static void shutdown_runtime(emu *m)
{
    int i;
    if (m->pid <= 0) return;
    if (m->state != RT_DYING) {
        kill(m->pid, SIGTERM);
        m->state = RT_DYING;
    }
    for (i = 0; i < EMU_KILL_GRACE_MS / 10 && m->pid > 0; i++) {
        int status;
        pid_t p = waitpid(m->pid, &status, WNOHANG);
        if (p == m->pid) {
            m->pid = 0;
            break;
        }
        { struct timespec ts = {0, 10000000L}; nanosleep(&ts, NULL); }
    }
    if (m->pid > 0) {
        int status;
        kill(m->pid, SIGKILL);
        while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR) {
        }
        m->pid = 0;
    }
}


typedef struct bench_result {
    double cold_next_ms, cold_first_ms;
    double p50_us, p90_us, p99_us, max_us;
    double rps;
    long hwm_kb;
    long long size_bytes;
    unsigned conns;
    long errors;
} bench_result;

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static double pct(const long long *v, long n, double q)
{
    long k = (long)(q * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return (double)v[k - 1] / 1000.0;
}

static long long file_size(const char *path)
{
    struct stat st;
    char buf[PATH_MAX];
    if (!strchr(path, '/')) { /* search PATH, like execvp */
        const char *pp = getenv("PATH");
        while (pp && *pp) {
            size_t l = strcspn(pp, ":");
            snprintf(buf, sizeof buf, "%.*s/%s", (int)l, pp, path);
            if (stat(buf, &st) == 0) return (long long)st.st_size;
            pp += l + (pp[l] == ':');
        }
        return -1;
    }
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Waits for one request from the runtime (bounded), checking that the child lives. */
static int bench_read(emu *m, rapi_request *req, int timeout_ms)
{
    int rc = rapi_server_read_request(&m->api, req, timeout_ms);
    if (rc != RAPI_OK) logf_("bench: no request from the runtime: %s", rapi_strerror(rc));
    return rc;
}

static int bench_one(emu *m, char **argv, const char *ev, size_t ev_len, long n, bench_result *out)
{
    rapi_request req;
    long long t0, t_next, *rtt;
    long i;
    int rc = 0, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int tmo = (int)(m->cfg.timeout_ms > 60000 ? 60000 : m->cfg.timeout_ms);
    unsigned accepts0 = m->api.accepts;
    memset(out, 0, sizeof *out);
    rtt = (long long *)xmalloc(sizeof *rtt * (size_t)(n > 0 ? n : 1));
    rapi_server_close_conn(&m->api);
    t0 = now_ns();
    m->pid = spawn_child(argv, devnull);
    if (devnull >= 0) close(devnull);
    if (m->pid < 0) {
        free(rtt);
        m->pid = 0;
        return -1;
    }
    m->state = RT_READY;
    if (bench_read(m, &req, (int)m->cfg.init_timeout_ms) != RAPI_OK) goto fail;
    t_next = now_ns();
    if (strcmp(req.method, "GET") != 0 || !strstr(req.target, "/invocation/next")) {
        logf_("bench: expected GET /next, got %s %s", req.method, req.target);
        rapi_request_free(&req);
        goto fail;
    }
    rapi_request_free(&req);
    out->cold_next_ms = (double)(t_next - t0) / 1e6;
    for (i = -1; i < n; i++) { /* i == -1: the cold invocation, not in the percentiles */
        rapi_response r;
        char hdrs[512], id[37];
        long long a, b;
        new_uuid(id);
        snprintf(hdrs, sizeof hdrs,
                 "Content-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
                 "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:" EMU_ARN_ACCOUNT ":function:bench\r\n",
                 id, wall_ms() + m->cfg.timeout_ms);
        rapi_response_init(&r, 200);
        r.headers = hdrs;
        r.body = ev;
        r.body_len = ev_len;
        a = now_ns();
        if (rapi_server_send(&m->api, &r, tmo) != RAPI_OK) goto fail;
        if (bench_read(m, &req, tmo) != RAPI_OK) goto fail;
        b = now_ns();
        if (!strstr(req.target, id)) {
            logf_("bench: unexpected request %s %s", req.method, req.target);
            rapi_request_free(&req);
            goto fail;
        }
        if (strstr(req.target, "/error")) out->errors++;
        rapi_request_free(&req);
        if (i < 0) out->cold_first_ms = (double)(b - t0) / 1e6;
        else rtt[i] = b - a;
        if (i == n - 1) { /* the last one: measure before the next /next */
            long h = proc_hwm_kb(m->pid);
            out->hwm_kb = h;
        }
        rapi_response_init(&r, 202);
        r.body = "{\"status\":\"OK\"}";
        r.body_len = 15;
        if (rapi_server_send(&m->api, &r, tmo) != RAPI_OK) goto fail;
        if (bench_read(m, &req, tmo) != RAPI_OK) goto fail;
        rapi_request_free(&req);
        if (i == -1) t0 = now_ns(); /* throughput clock starts after the cold invocation */
    }
    {
        double total_s = (double)(now_ns() - t0) / 1e9;
        out->rps = total_s > 0 ? (double)n / total_s : 0;
    }
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_ll);
    if (n > 0) {
        out->p50_us = pct(rtt, n, 0.50);
        out->p90_us = pct(rtt, n, 0.90);
        out->p99_us = pct(rtt, n, 0.99);
        out->max_us = (double)rtt[n - 1] / 1000.0;
    }
    out->size_bytes = file_size(argv[0]);
    out->conns = m->api.accepts - accepts0;
    goto end;
fail:
    rc = -1;
end:
    free(rtt);
    m->state = RT_READY;
    shutdown_runtime(m);
    m->state = RT_NONE;
    return rc;
}

static void bench_line(const char *label, const char *path, long n, const bench_result *b)
{
    printf("BENCH label=%s bootstrap=%s n=%ld cold_next_ms=%.3f cold_first_ms=%.3f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
           "max_us=%.1f rps=%.0f hwm_kb=%ld size_bytes=%lld conns=%u errors=%ld\n",
           label, path, n, b->cold_next_ms, b->cold_first_ms, b->p50_us, b->p90_us, b->p99_us, b->max_us, b->rps,
           b->hwm_kb, b->size_bytes, b->conns, b->errors);
    fflush(stdout);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define BENCH_FIELDS(X)                                          \
    X("cold start to first /next", "ms", cold_next_ms, 3)        \
    X("cold start to first response", "ms", cold_first_ms, 3)    \
    X("round trip p50", "us", p50_us, 1)                         \
    X("round trip p90", "us", p90_us, 1)                         \
    X("round trip p99", "us", p99_us, 1)                         \
    X("round trip max", "us", max_us, 1)                         \
    X("throughput", "inv/s", rps, 0)                             \
    X("peak RSS (VmHWM)", "kB", hwm_kb, 0)                       \
    X("binary size", "bytes", size_bytes, 0)

int run_bench(emu *m)
{
    char *ev = NULL;
    size_t ev_len = 0;
    int rounds = m->cfg.bench_rounds > 0 ? m->cfg.bench_rounds : 1, r, k, nb = m->cfg.bench_baseline ? 2 : 1;
    bench_result *res = (bench_result *)xmalloc(sizeof *res * (size_t)rounds * 2);
    char *base_argv[2];
    long errors = 0;
    if (m->cfg.bench_event_file) {
        if (read_file(m->cfg.bench_event_file, &ev, &ev_len, EMU_MAX_PAYLOAD) != 0) {
            logf_("cannot read %s: %s", m->cfg.bench_event_file, strerror(errno));
            return 2;
        }
    } else {
        ev = xstrdup("{\"name\":\"World\"}");
        ev_len = strlen(ev);
    }
    base_argv[0] = (char *)m->cfg.bench_baseline;
    base_argv[1] = NULL;
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < nb; k++) { /* alternate: function, baseline, function, ... */
            char **argv = k == 0 ? m->cfg.argv : base_argv;
            bench_result *b = &res[r * 2 + k];
            if (bench_one(m, argv, ev, ev_len, m->cfg.bench_n, b) != 0) {
                logf_("bench: %s failed", argv[0]);
                free(ev);
                free(res);
                return 1;
            }
            errors += b->errors;
            bench_line(k == 0 ? "function" : "baseline", argv[0], m->cfg.bench_n, b);
        }
    }
    { /* medians and the table */
        double *v = (double *)xmalloc(sizeof *v * (size_t)rounds);
        double med[2][16];
        int f;
        for (k = 0; k < nb; k++) {
            f = 0;
#define MED(label, unit, field, prec)                                                    \
    for (r = 0; r < rounds; r++) v[r] = (double)res[r * 2 + k].field;                  \
    med[k][f++] = median(v, rounds);
            BENCH_FIELDS(MED)
#undef MED
        }
        printf("BENCH-MEDIAN rounds=%d n=%ld", rounds, m->cfg.bench_n);
        f = 0;
#define LINE(label, unit, field, prec)                                                      \
    printf(" %s=%.*f", #field, prec, med[0][f]);                                          \
    if (nb == 2) printf(" baseline_%s=%.*f ratio_%s=%.2f", #field, prec, med[1][f], #field, \
                        med[1][f] > 0 ? med[0][f] / med[1][f] : 0.0);                     \
    f++;
        BENCH_FIELDS(LINE)
#undef LINE
        printf("\n\n");
        printf("%-30s %-6s %14s", "figure (median of rounds)", "unit", m->cfg.argv[0]);
        if (nb == 2) printf(" %14s %8s", "baseline", "ratio");
        printf("\n");
        f = 0;
#define ROW(label, unit, field, prec)                                                   \
    printf("%-30s %-6s %14.*f", label, unit, prec, med[0][f]);                          \
    if (nb == 2) printf(" %14.*f %8.2f", prec, med[1][f], med[1][f] > 0 ? med[0][f] / med[1][f] : 0.0); \
    printf("\n");                                                                       \
    f++;
        BENCH_FIELDS(ROW)
#undef ROW
        printf("(%d round%s of %ld warm invocations each on one connection, after one cold invocation%s)\n", rounds,
               rounds == 1 ? "" : "s", m->cfg.bench_n, nb == 2 ? "; function and baseline alternate" : "");
        free(v);
    }
    free(ev);
    free(res);
    if (errors) logf_("bench: %ld invocations returned errors", errors);
    return errors ? 1 : 0;
}
