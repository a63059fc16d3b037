/* emu_bench.c - lambda-emu --bench: cold start, warm round trips, throughput, VmHWM and size of
   the bootstrap, of a --baseline and of any --compare bootstraps, run alternately round after
   round with their own blocking loop; medians, ratios against the baseline, and an SVG chart
   (--svg). The emulator and the bootstraps are pinned to one CPU unless --no-pin. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include "emu.h"

#include <sched.h>
#include <sys/utsname.h>

/* ------------------------------------------------------------------ one run of one bootstrap */

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

enum {
#define ENUM(label, unit, field, prec) F_##field,
    BENCH_FIELDS(ENUM)
#undef ENUM
    NF
};

/* The warm round trips of every round, pooled, as a histogram with log-spaced bins:
   HIST_PER_DECADE bins per factor of ten from HIST_LO_NS up. */
#define HIST_PER_DECADE 40
#define HIST_BINS (HIST_PER_DECADE * 9) /* 100 ns .. 100 s */
#define HIST_LO_NS 100.0

/* One bootstrap of the benchmark. */
typedef struct bench_boot {
    char **argv;
    char *own_argv[2];     /* for --baseline and --compare: the path alone */
    char label[24];        /* function, baseline, compare1, compare2, ... (the BENCH lines) */
    char name[48];         /* a short name for the table and the chart */
    int is_baseline;
    bench_result *res;     /* one per round */
    int done;              /* rounds completed */
    int failed_round;      /* 0: never failed */
    char why[400];         /* why it failed */
    double med[NF];        /* medians over the rounds */
    unsigned long hist[HIST_BINS];
    unsigned long hist_under, hist_over;
} bench_boot;

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

/* Natural logarithm and exponential for the chart's log scale and the histogram bins (no libm). */
static double ln_(double x)
{
    double z, z2, t, s = 0;
    int k = 0, i;
    if (x <= 0) return -1e300;
    while (x >= 2) x /= 2, k++;
    while (x < 1) x *= 2, k--;
    z = (x - 1) / (x + 1); /* ln x = 2 atanh z, |z| <= 1/3 */
    z2 = z * z;
    for (t = z, i = 1; i < 40; i += 2, t *= z2) s += t / i;
    return 2 * s + k * 0.69314718055994530942;
}

static double exp_(double x)
{
    double r = x / 1024, s = 1, t = 1;
    int i;
    for (i = 1; i < 12; i++) s += (t *= r / i);
    for (i = 0; i < 10; i++) s *= s; /* (e^(x/1024))^1024 */
    return s;
}

#define LN10 2.30258509299404568402

static double sqrt_(double x)
{
    return x > 0 ? exp_(ln_(x) / 2) : 0;
}

static void hist_add(bench_boot *b, long long ns)
{
    double d = (double)ns / HIST_LO_NS;
    long i = d < 1 ? -1 : (long)(ln_(d) / LN10 * HIST_PER_DECADE);
    if (i < 0) b->hist_under++;
    else if (i >= HIST_BINS) b->hist_over++;
    else b->hist[i]++;
}

/* The lower edge of bin i, in ns. */
static double hist_edge(long i)
{
    return HIST_LO_NS * exp_(LN10 * (double)i / HIST_PER_DECADE);
}

/* The runtime exited by itself: reaps it, describes how into why. */
static int child_gone(emu *m, char *why, size_t cap)
{
    int status;
    char how[128];
    if (m->pid <= 0 || waitpid(m->pid, &status, WNOHANG) != m->pid) return 0;
    m->pid = 0;
    describe_status(status, how, sizeof how);
    snprintf(why, cap, "exited (%s)", how);
    return 1;
}

/* Waits for one request from the runtime, at most timeout_ms, in slices so that a runtime that
   exits, or a stop signal, ends the wait at once. 0, or -1 with why filled in. */
static int bench_read(emu *m, rapi_request *req, int timeout_ms, char *why, size_t cap)
{
    long long deadline = now_ns() + (long long)timeout_ms * 1000000LL;
    for (;;) {
        long long left = (deadline - now_ns()) / 1000000LL;
        int rc = rapi_server_read_request(&m->api, req, left > 50 ? 50 : left > 0 ? (int)left : 0), i;
        if (rc == RAPI_OK) return 0;
        if (rc == RAPI_ETIMEOUT && !got_stop_signal && left > 50 && !child_gone(m, why, cap)) continue;
        if (m->pid <= 0) return -1; /* exited: why says how */
        if (got_stop_signal) {
            snprintf(why, cap, "stopped by signal %d", (int)got_stop_signal);
            return -1;
        }
        if (rc == RAPI_ETIMEOUT) snprintf(why, cap, "no request within %d ms", timeout_ms);
        else snprintf(why, cap, "bad request: %s", rapi_strerror(rc));
        for (i = 0; i < 20; i++) { /* it may be on its way out: say so if it is */
            struct timespec ts = {0, 10000000L};
            char how[160];
            if (child_gone(m, how, sizeof how)) {
                size_t l = strlen(why);
                snprintf(why + l, cap - l, ", then %s", how);
                break;
            }
            nanosleep(&ts, NULL);
        }
        return -1;
    }
}

/* Puts "<stage>: <what>" into why. */
static void stage_why(char *why, size_t cap, long i, long n)
{
    char what[400];
    snprintf(what, sizeof what, "%s", why);
    if (i < -1) snprintf(why, cap, "before its first GET /next: %.300s", what);
    else if (i == -1) snprintf(why, cap, "in the cold invocation: %.300s", what);
    else snprintf(why, cap, "in warm invocation %ld of %ld: %.300s", i + 1, n, what);
}

/* One cold start and n warm invocations of b; the round trips go to b's histogram. 0, or -1
   with b->why filled in. */
static int bench_one(emu *m, bench_boot *b, const char *ev, size_t ev_len, long n, bench_result *out)
{
    rapi_request req;
    long long t0, t_next, *rtt;
    long i = -2;
    int rc = 0, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int tmo = (int)(m->cfg.timeout_ms > 60000 ? 60000 : m->cfg.timeout_ms);
    unsigned accepts0 = m->api.accepts;
    char *why = b->why;
    size_t cap = sizeof b->why;
    memset(out, 0, sizeof *out);
    why[0] = 0;
    rtt = (long long *)xmalloc(sizeof *rtt * (size_t)(n > 0 ? n : 1));
    rapi_server_close_conn(&m->api);
    t0 = now_ns();
    m->pid = spawn_child(b->argv, devnull, -1);
    if (devnull >= 0) close(devnull);
    if (m->pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        free(rtt);
        m->pid = 0;
        return -1;
    }
    m->state = RT_READY;
    if (bench_read(m, &req, (int)m->cfg.init_timeout_ms, why, cap) != 0) goto fail;
    t_next = now_ns();
    if (strcmp(req.method, "GET") != 0 || !strstr(req.target, "/invocation/next")) {
        snprintf(why, cap, "sent %.40s %.200s instead of GET /next", req.method, req.target);
        rapi_request_free(&req);
        goto fail;
    }
    rapi_request_free(&req);
    out->cold_next_ms = (double)(t_next - t0) / 1e6;
    for (i = -1; i < n; i++) { /* i == -1: the cold invocation, not in the percentiles */
        rapi_response r;
        char hdrs[512], id[37];
        long long a, t;
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
        if (rapi_server_send(&m->api, &r, tmo) != RAPI_OK) {
            snprintf(why, cap, "cannot send the event (connection closed?)");
            goto fail;
        }
        if (bench_read(m, &req, tmo, why, cap) != 0) goto fail;
        t = now_ns();
        if (!strstr(req.target, id)) {
            snprintf(why, cap, "answered %.40s %.200s, not request %s", req.method, req.target, id);
            rapi_request_free(&req);
            goto fail;
        }
        if (strstr(req.target, "/error")) out->errors++;
        rapi_request_free(&req);
        if (i < 0) out->cold_first_ms = (double)(t - t0) / 1e6;
        else rtt[i] = t - a;
        if (i == n - 1) out->hwm_kb = proc_hwm_kb(m->pid); /* the last one: measure before the next /next */
        rapi_response_init(&r, 202);
        r.body = "{\"status\":\"OK\"}";
        r.body_len = 15;
        if (rapi_server_send(&m->api, &r, tmo) != RAPI_OK) {
            snprintf(why, cap, "cannot answer its response (connection closed?)");
            goto fail;
        }
        if (bench_read(m, &req, tmo, why, cap) != 0) goto fail;
        if (strcmp(req.method, "GET") != 0 || !strstr(req.target, "/invocation/next")) {
            snprintf(why, cap, "sent %.40s %.200s instead of GET /next", req.method, req.target);
            rapi_request_free(&req);
            goto fail;
        }
        rapi_request_free(&req);
        if (i == -1) t0 = now_ns(); /* throughput clock starts after the cold invocation */
    }
    {
        double total_s = (double)(now_ns() - t0) / 1e9;
        out->rps = total_s > 0 ? (double)n / total_s : 0;
    }
    for (i = 0; i < n; i++) hist_add(b, rtt[i]);
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_ll);
    if (n > 0) {
        out->p50_us = pct(rtt, n, 0.50);
        out->p90_us = pct(rtt, n, 0.90);
        out->p99_us = pct(rtt, n, 0.99);
        out->max_us = (double)rtt[n - 1] / 1000.0;
    }
    out->size_bytes = file_size(b->argv[0]);
    out->conns = m->api.accepts - accepts0;
    goto end;
fail:
    stage_why(why, cap, i, n);
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
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ pinning */

/* "0-3,6" for a CPU set. */
static void cpu_list(const cpu_set_t *s, char *out, size_t cap)
{
    int c, first = -1;
    size_t l = 0;
    out[0] = 0;
    for (c = 0; c <= CPU_SETSIZE; c++) {
        int in = c < CPU_SETSIZE && CPU_ISSET(c, s);
        if (in && first < 0) first = c;
        if (!in && first >= 0) {
            if (l + 24 >= cap) break;
            l += (size_t)snprintf(out + l, cap - l, first == c - 1 ? "%s%d" : "%s%d-%d", l ? "," : "", first, c - 1);
            first = -1;
        }
    }
}

/* Pins the emulator, and so every child it starts (the mask is inherited across fork and exec),
   to the first CPU of its affinity mask. Returns that CPU, or -1 (not pinned); allowed gets
   the mask as it was. */
static int bench_pin(int pin, char *allowed, size_t cap)
{
    cpu_set_t s;
    int c;
    snprintf(allowed, cap, "?");
    if (sched_getaffinity(0, sizeof s, &s) != 0) {
        if (pin) logf_("bench: sched_getaffinity: %s; not pinned", strerror(errno));
        return -1;
    }
    cpu_list(&s, allowed, cap);
    if (!pin) return -1;
    for (c = 0; c < CPU_SETSIZE && !CPU_ISSET(c, &s); c++) {
    }
    if (c == CPU_SETSIZE) return -1;
    CPU_ZERO(&s);
    CPU_SET(c, &s);
    if (sched_setaffinity(0, sizeof s, &s) != 0) {
        logf_("bench: sched_setaffinity(CPU %d): %s; not pinned", c, strerror(errno));
        return -1;
    }
    return c;
}

/* ------------------------------------------------------------------ the table */

/* "build/hello/bootstrap" -> "hello", "/x/y/prog" -> "prog". */
static void short_name(const char *path, char *out, size_t cap)
{
    const char *e = path + strlen(path), *s;
    while (e > path && e[-1] == '/') e--;
    s = e;
    while (s > path && s[-1] != '/') s--;
    if ((e - s == 9 && strncmp(s, "bootstrap", 9) == 0) || (e - s == 13 && strncmp(s, "bootstrap.bin", 13) == 0)) {
        const char *pe = s;
        while (pe > path && pe[-1] == '/') pe--;
        if (pe > path) {
            e = pe;
            s = e;
            while (s > path && s[-1] != '/') s--;
        }
    }
    if (e - s > 24) s = e - 24;
    snprintf(out, cap, "%.*s", (int)(e - s), s);
    if (!out[0]) snprintf(out, cap, "?");
}

static double ratio_of(const bench_boot *b, const bench_boot *base, int f)
{
    return base->med[f] > 0 ? b->med[f] / base->med[f] : 0.0;
}

static const char *const field_labels[NF] = {
#define LBL(label, unit, field, prec) label,
    BENCH_FIELDS(LBL)
#undef LBL
};
static const char *const field_units[NF] = {
#define UNIT(label, unit, field, prec) unit,
    BENCH_FIELDS(UNIT)
#undef UNIT
};
static const char *const field_names[NF] = {
#define NAME(label, unit, field, prec) #field,
    BENCH_FIELDS(NAME)
#undef NAME
};
static const int field_prec[NF] = {
#define PREC(label, unit, field, prec) prec,
    BENCH_FIELDS(PREC)
#undef PREC
};

/* The medians (the BENCH-MEDIAN lines) and the table. With only the function and a baseline the
   output is the two-column form (function, baseline, ratio); with --compare there is a column per
   bootstrap and a ratio column per bootstrap other than the baseline. */
static void print_summary(const emu *m, bench_boot *bb, int nb, int base, int rounds, int cpu, const char *allowed)
{
    int two = m->cfg.n_bench_compare == 0, k, f;
    const bench_boot *bs = base >= 0 && !bb[base].failed_round ? &bb[base] : NULL;
    int w[64], rw[64];
    char hdr[64][64];
    if (!bb[0].failed_round) {
        printf("BENCH-MEDIAN rounds=%d n=%ld", rounds, m->cfg.bench_n);
        for (f = 0; f < NF; f++) {
            printf(" %s=%.*f", field_names[f], field_prec[f], bb[0].med[f]);
            if (bs) printf(" baseline_%s=%.*f ratio_%s=%.2f", field_names[f], field_prec[f], bs->med[f], field_names[f],
                           ratio_of(&bb[0], bs, f));
        }
        printf("\n");
    }
    for (k = 1; k < nb; k++) {
        if (bb[k].is_baseline || bb[k].failed_round) continue;
        printf("BENCH-MEDIAN-COMPARE label=%s bootstrap=%s rounds=%d n=%ld", bb[k].label, bb[k].argv[0], rounds,
               m->cfg.bench_n);
        for (f = 0; f < NF; f++) {
            printf(" %s=%.*f", field_names[f], field_prec[f], bb[k].med[f]);
            if (bs) printf(" ratio_%s=%.2f", field_names[f], ratio_of(&bb[k], bs, f));
        }
        printf("\n");
    }
    printf("\n");
    if (!two) {
        printf("bootstraps, in the order each round runs them:\n");
        for (k = 0; k < nb; k++)
            printf("  %-16s %-9s %s%s\n", bb[k].name, bb[k].label, bb[k].argv[0],
                   bb[k].failed_round ? "  (failed: see below)" : "");
    }
    /* columns: a value per bootstrap, then a ratio per bootstrap other than the baseline */
    for (k = 0; k < nb && k < 64; k++) {
        snprintf(hdr[k], sizeof hdr[k], "%s", two ? (k == 0 ? bb[0].argv[0] : "baseline") : bb[k].name);
        w[k] = two ? 14 : (int)strlen(hdr[k]) > 14 ? (int)strlen(hdr[k]) : 14;
        rw[k] = two ? 8 : (int)(strlen(bb[k].name) + 1 + strlen(base >= 0 ? bb[base].name : "")) > 8
                              ? (int)(strlen(bb[k].name) + 1 + strlen(base >= 0 ? bb[base].name : ""))
                              : 8;
    }
    printf("%-30s %-6s", "figure (median of rounds)", "unit");
    for (k = 0; k < nb; k++) printf(" %*s", w[k], hdr[k]);
    if (bs)
        for (k = 0; k < nb; k++) {
            char rh[128];
            if (k == base) continue;
            snprintf(rh, sizeof rh, "%s/%s", bb[k].name, bb[base].name);
            printf(" %*s", rw[k], two ? "ratio" : rh);
        }
    printf("\n");
    for (f = 0; f < NF; f++) {
        printf("%-30s %-6s", field_labels[f], field_units[f]);
        for (k = 0; k < nb; k++) {
            if (bb[k].failed_round) printf(" %*s", w[k], "failed");
            else printf(" %*.*f", w[k], field_prec[f], bb[k].med[f]);
        }
        if (bs)
            for (k = 0; k < nb; k++) {
                if (k == base) continue;
                if (bb[k].failed_round) printf(" %*s", rw[k], "-");
                else printf(" %*.2f", rw[k], ratio_of(&bb[k], bs, f));
            }
        printf("\n");
    }
    printf("(%d round%s of %ld warm invocations each on one connection, after one cold invocation%s)\n", rounds,
           rounds == 1 ? "" : "s", m->cfg.bench_n,
           nb == 2 ? "; function and baseline alternate" : nb > 2 ? "; the bootstraps alternate" : "");
    if (cpu >= 0) printf("(the emulator and every bootstrap pinned to CPU %d; --no-pin runs them unpinned)\n", cpu);
    else printf("(not pinned: CPUs %s)\n", allowed);
    for (k = 0; k < nb; k++)
        if (bb[k].failed_round)
            printf("FAILED %s (%s) in round %d: %s\n", bb[k].name, bb[k].argv[0], bb[k].failed_round, bb[k].why);
}

/* ------------------------------------------------------------------ the SVG chart */

#define SVG_W 1060
#define SVG_X0 178  /* plot area */
#define SVG_X1 800
#define SVG_ANN 814 /* the annotation column */
#define SVG_ROW 40

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

static const char *boot_color(const bench_boot *bb, int k)
{
    int i, c = 0;
    if (bb[k].is_baseline) return "#7f7f7f";
    for (i = 0; i < k; i++)
        if (!bb[i].is_baseline) c++;
    return palette[c % (int)(sizeof palette / sizeof palette[0])];
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c < 0x20) fputc(' ', f); /* not allowed in XML 1.0 */
        else fputc(c, f);
    }
}

/* A number with thousands separators: 44848 -> "44,848". */
static void thousands(char *out, size_t cap, double v)
{
    char d[64];
    int n, i, j = 0, lead;
    snprintf(d, sizeof d, "%.0f", v);
    n = (int)strlen(d);
    lead = d[0] == '-';
    for (i = 0; i < n && j + 2 < (int)cap; i++) {
        out[j++] = d[i];
        if (i >= lead && i < n - 1 && (n - 1 - i) % 3 == 0) out[j++] = ',';
    }
    out[j] = 0;
}

/* A step of 1, 2 or 5 times a power of ten that cuts 0..max into at most about six parts. */
static double nice_step(double max)
{
    static const double mult[3] = {2, 2.5, 2};
    double s = 1e-6;
    int i = 0;
    if (max <= 0) return 1;
    while (max / s > 6) s *= mult[i++ % 3];
    return s;
}

/* A ratio with about three significant digits: 0.89, 12.3, 185. */
static void fmt_ratio(char *out, size_t cap, double r)
{
    if (r >= 99.5) snprintf(out, cap, "%.0f", r);
    else if (r >= 9.995) snprintf(out, cap, "%.1f", r);
    else if (r >= 0.01 || r <= 0) snprintf(out, cap, "%.2f", r);
    else snprintf(out, cap, "%.1e", r);
}

static void tick_label(char *out, size_t cap, double v)
{
    if (v >= 1000) thousands(out, cap, v);
    else snprintf(out, cap, "%g", v);
}

/* The start of a panel: title, a line of explanation, and the rows' names; returns the y of
   the first row's centre. */
static double panel_head(FILE *f, double y, const char *title, const char *note, const bench_boot *bb, int nb, int right)
{
    int k;
    fprintf(f, "<text x=\"16\" y=\"%.0f\" class=\"h\">", y);
    xml_text(f, title);
    fprintf(f, "</text>\n<text x=\"16\" y=\"%.0f\" class=\"n\">", y + 16);
    xml_text(f, note);
    fputs("</text>\n", f);
    y += 28;
    fprintf(f, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" class=\"pa\"/>\n", SVG_X0, y, right - SVG_X0,
            SVG_ROW * nb);
    for (k = 0; k < nb; k++) {
        fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"b\" text-anchor=\"end\" fill=\"%s\">", SVG_X0 - 8,
                y + SVG_ROW * k + SVG_ROW / 2 + 4, boot_color(bb, k));
        xml_text(f, bb[k].name);
        fputs("</text>\n", f);
    }
    return y + SVG_ROW / 2;
}

/* A failed bootstrap's row: the reason instead of data. */
static void svg_failed_row(FILE *f, const bench_boot *b, double yc)
{
    char t[520];
    snprintf(t, sizeof t, "failed in round %d: %s", b->failed_round, b->why);
    if (strlen(t) > 110) memcpy(t + 105, "[...]", 6);
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"fail\">", SVG_X0 + 8, yc + 4);
    xml_text(f, t);
    fputs("</text>\n", f);
}

/* An x axis under the rows: tick lines through them, labels and a caption. */
static void svg_axis_tick(FILE *f, double x, double ytop, double ybot, const char *label)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"g\"/>\n", x, ytop, x, ybot);
    if (label) fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" class=\"t\" text-anchor=\"middle\">%s</text>\n", x, ybot + 13, label);
}

static void svg_caption(FILE *f, double y, const char *caption)
{
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"t\" text-anchor=\"middle\">", (SVG_X0 + SVG_X1) / 2, y);
    xml_text(f, caption);
    fputs("</text>\n", f);
}

static int write_svg(const emu *m, const char *path, bench_boot *bb, int nb, int base, int rounds, int cpu,
                     const char *allowed)
{
    FILE *f = fopen(path, "w");
    const bench_boot *bs = base >= 0 && !bb[base].failed_round ? &bb[base] : NULL;
    struct utsname u;
    char t[1024], a[320], c2[64];
    double y, yc, top, height, cmax = 0, lo = 0, hi = 0, step, v;
    long lo_bin = HIST_BINS, hi_bin = -1, i;
    int k, r, g;
    if (!f) {
        logf_("bench: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    for (k = 0; k < nb; k++) {
        for (r = 0; r < bb[k].done; r++)
            if (bb[k].res[r].cold_first_ms > cmax) cmax = bb[k].res[r].cold_first_ms;
        for (i = 0; i < HIST_BINS; i++)
            if (bb[k].hist[i]) {
                if (i < lo_bin) lo_bin = i;
                if (i > hi_bin) hi_bin = i;
            }
    }
    height = 310 + nb * (18 + 3 * SVG_ROW); /* what the panels below take */
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n", SVG_W, height, SVG_W, height);
    fputs("<style>\n"
          "text { font-size: 12px; fill: #222; }\n"
          ".title { font-size: 17px; font-weight: bold; }\n"
          ".h { font-size: 14px; font-weight: bold; }\n"
          ".n { font-size: 11.5px; fill: #555; }\n"
          ".t { font-size: 11px; fill: #555; }\n"
          ".b { font-size: 13px; font-weight: bold; }\n"
          ".a { font-size: 11.5px; }\n"
          ".r { font-size: 11px; fill: #666; }\n"
          ".fail { font-size: 12px; fill: #c00; font-weight: bold; }\n"
          ".pa { fill: #fafafa; stroke: #ccc; }\n"
          ".g { stroke: #e2e2e2; }\n"
          ".sep { stroke: #eee; }\n"
          "</style>\n", f);
    fprintf(f, "<rect width=\"%d\" height=\"%.0f\" fill=\"#fff\"/>\n", SVG_W, height);
    /* title and legend */
    snprintf(t, sizeof t, "lambda-emu --bench: %d round%s, each a cold start and %ld warm invocations per bootstrap",
             rounds, rounds == 1 ? "" : "s", m->cfg.bench_n);
    fputs("<text x=\"16\" y=\"28\" class=\"title\">", f);
    xml_text(f, t);
    fputs("</text>\n", f);
    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    if (cpu >= 0) snprintf(a, sizeof a, "pinned to CPU %d (of %s)", cpu, allowed);
    else snprintf(a, sizeof a, "not pinned (CPUs %s)", allowed);
    snprintf(t, sizeof t, "%s %s %s; emulator and bootstraps %s; bootstraps alternate within each round; "
                          "the grey row is the baseline", u.sysname, u.release, u.machine, a);
    fputs("<text x=\"16\" y=\"48\" class=\"n\">", f);
    xml_text(f, t);
    fputs("</text>\n", f);
    y = 72;
    for (k = 0; k < nb; k++, y += 18) {
        fprintf(f, "<rect x=\"16\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", y - 10, boot_color(bb, k));
        fprintf(f, "<text x=\"36\" y=\"%.0f\"><tspan class=\"b\">", y);
        xml_text(f, bb[k].name);
        fputs("</tspan>  ", f);
        xml_text(f, bb[k].argv[0]);
        snprintf(t, sizeof t, "  (%s%s)", bb[k].label, bb[k].is_baseline ? ": the ratios are against this one" : "");
        xml_text(f, t);
        if (bb[k].failed_round) fputs("  <tspan class=\"fail\">failed</tspan>", f);
        fputs("</text>\n", f);
    }
    y += 14;

    /* cold start: one dot per round, two strips per bootstrap */
    yc = panel_head(f, y, "Cold start (ms, linear)",
                    "one dot per round: open = exec to first GET /next, filled = exec to first response; "
                    "dark tick = median; right: medians (and ratio to the baseline)", bb, nb, SVG_X1);
    top = yc - SVG_ROW / 2;
    step = nice_step(cmax * 1.05);
    hi = step;
    while (hi < cmax * 1.02) hi += step;
    for (v = 0; v <= hi * 1.0001; v += step) {
        char l[32];
        snprintf(l, sizeof l, "%g", v);
        svg_axis_tick(f, SVG_X0 + (SVG_X1 - SVG_X0) * v / hi, top, top + SVG_ROW * nb, l);
    }
    svg_caption(f, top + SVG_ROW * nb + 28, "milliseconds from fork/exec");
    for (k = 0; k < nb; k++, yc += SVG_ROW) {
        const bench_boot *b = &bb[k];
        const char *col = boot_color(bb, k);
        if (k) fprintf(f, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" class=\"sep\"/>\n", SVG_X0, yc - SVG_ROW / 2,
                       SVG_X1, yc - SVG_ROW / 2);
        if (b->failed_round) {
            svg_failed_row(f, b, yc);
            continue;
        }
        for (g = 0; g < 2; g++) {
            double ys = yc + (g ? 7 : -7);
            for (r = 0; r < b->done; r++) {
                double x = SVG_X0 + (SVG_X1 - SVG_X0) * (g ? b->res[r].cold_first_ms : b->res[r].cold_next_ms) / hi;
                if (g) fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\" fill-opacity=\"0.55\"/>\n", x, ys, col);
                else fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.7\"/>\n",
                             x, ys, col);
            }
            v = SVG_X0 + (SVG_X1 - SVG_X0) * b->med[g ? F_cold_first_ms : F_cold_next_ms] / hi;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"2\"/>\n", v,
                    ys - 6, v, ys + 6);
        }
        fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"a\">/next %.3f · response %.3f ms</text>\n", SVG_ANN, yc - 2,
                b->med[F_cold_next_ms], b->med[F_cold_first_ms]);
        if (bs && b != bs) {
            char r1[16], r2[16];
            fmt_ratio(r1, sizeof r1, ratio_of(b, bs, F_cold_next_ms));
            fmt_ratio(r2, sizeof r2, ratio_of(b, bs, F_cold_first_ms));
            fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"r\">×%s · ×%s of the baseline</text>\n", SVG_ANN, yc + 12, r1, r2);
        }
        else if (b == bs)
            fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"r\">baseline</text>\n", SVG_ANN, yc + 12);
    }
    y = top + SVG_ROW * nb + 52;

    /* warm round trips: the pooled histogram on a log scale, with the percentile ticks */
    snprintf(t, sizeof t, "shape: all %ld x %d warm round trips pooled, log-binned, height √(count) scaled per bootstrap; "
                          "ticks: tall p50, mid p90, short p99 (medians of rounds)", m->cfg.bench_n, rounds);
    yc = panel_head(f, y, "Warm round trip: event sent to response received (µs, log scale)", t, bb, nb, SVG_X1);
    top = yc - SVG_ROW / 2;
    if (hi_bin < 0) lo_bin = 0, hi_bin = HIST_BINS - 1;
    lo = hist_edge(lo_bin) / 1000 / 1.15; /* µs */
    hi = hist_edge(hi_bin + 1) / 1000 * 1.15;
    if (hi < lo * 10) hi = lo * 10;
    {
        double d, ll = ln_(lo), lh = ln_(hi);
        static const double m125[3] = {1, 2, 5}, fine[6] = {1, 1.5, 2, 3, 5, 7};
        int few = hi / lo < 100, many = hi / lo > 1000; /* more ticks under two decades, fewer labels over three */
        for (d = 0.001; d < hi * 10; d *= 10)
            for (g = 0; g < (few ? 6 : 3); g++) {
                char l[32];
                v = d * (few ? fine[g] : m125[g]);
                if (v < lo || v > hi) continue;
                tick_label(l, sizeof l, v);
                svg_axis_tick(f, SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(v) - ll) / (lh - ll), top, top + SVG_ROW * nb,
                              many && g ? NULL : l);
            }
        svg_caption(f, top + SVG_ROW * nb + 28, "microseconds (log scale)");
        for (k = 0; k < nb; k++, yc += SVG_ROW) {
            const bench_boot *b = &bb[k];
            const char *col = boot_color(bb, k);
            unsigned long mx = 1;
            long b_lo, b_hi;
            double sc = b->med[F_p99_us] >= 10000 ? 1000 : 1; /* show ms for slow ones */
            double base_y = yc + 15;
            static const int fld[3] = {F_p50_us, F_p90_us, F_p99_us};
            static const double th[3] = {32, 22, 13};
            if (k) fprintf(f, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" class=\"sep\"/>\n", SVG_X0,
                           yc - SVG_ROW / 2, SVG_X1, yc - SVG_ROW / 2);
            if (b->failed_round) {
                svg_failed_row(f, b, yc);
                continue;
            }
            for (b_lo = HIST_BINS, b_hi = -1, i = lo_bin; i <= hi_bin; i++)
                if (b->hist[i]) {
                    if (b->hist[i] > mx) mx = b->hist[i];
                    if (i < b_lo) b_lo = i;
                    b_hi = i;
                }
            if (b_hi < 0) b_lo = b_hi = lo_bin;
            fprintf(f, "<path fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\" stroke-width=\"1\" d=\"M%.1f %.1f", col, col,
                    SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(hist_edge(b_lo) / 1000) - ll) / (lh - ll), base_y);
            for (i = b_lo; i <= b_hi; i++) {
                double xa = SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(hist_edge(i) / 1000) - ll) / (lh - ll);
                double xb = SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(hist_edge(i + 1) / 1000) - ll) / (lh - ll);
                double yh = base_y - 30.0 * sqrt_((double)b->hist[i] / (double)mx);
                fprintf(f, " L%.1f %.1f L%.1f %.1f", xa, yh, xb, yh);
            }
            fprintf(f, " L%.1f %.1f Z\"/>\n", SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(hist_edge(b_hi + 1) / 1000) - ll) / (lh - ll),
                    base_y);
            for (g = 0; g < 3; g++) {
                double x = b->med[fld[g]] > 0 ? SVG_X0 + (SVG_X1 - SVG_X0) * (ln_(b->med[fld[g]]) - ll) / (lh - ll) : SVG_X0;
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"%s\"/>\n", x,
                        base_y, x, base_y - th[g], g ? "1.5" : "2");
            }
            fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"a\">p50 %.1f · p90 %.1f · p99 %.1f %s</text>\n", SVG_ANN, yc - 2,
                    b->med[F_p50_us] / sc, b->med[F_p90_us] / sc, b->med[F_p99_us] / sc, sc > 1 ? "ms" : "µs");
            if (bs && b != bs) {
                char r1[16], r2[16], r3[16];
                fmt_ratio(r1, sizeof r1, ratio_of(b, bs, F_p50_us));
                fmt_ratio(r2, sizeof r2, ratio_of(b, bs, F_p90_us));
                fmt_ratio(r3, sizeof r3, ratio_of(b, bs, F_p99_us));
                fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"r\">×%s · ×%s · ×%s of the baseline</text>\n", SVG_ANN,
                        yc + 12, r1, r2, r3);
            }
            else if (b == bs)
                fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"r\">baseline</text>\n", SVG_ANN, yc + 12);
        }
    }
    y = top + SVG_ROW * nb + 52;

    /* size, memory, throughput: three bar charts side by side */
    yc = panel_head(f, y, "Binary size, peak memory, throughput (medians, linear)",
                    "size: stat() of the file; memory: VmHWM after the last invocation; throughput: warm "
                    "invocations per second on one connection; ×: ratio to the baseline", bb, nb, SVG_W - 16);
    top = yc - SVG_ROW / 2;
    {
        static const int fld[3] = {F_size_bytes, F_hwm_kb, F_rps};
        static const char *const cap3[3] = {"binary size (bytes)", "peak RSS, VmHWM (kB)", "throughput (invocations/s)"};
        double cw = (SVG_W - 16 - SVG_X0) / 3.0, bw = cw - 120;
        for (g = 0; g < 3; g++) {
            double mx = 0, x0 = SVG_X0 + cw * g + 8;
            for (k = 0; k < nb; k++)
                if (!bb[k].failed_round && bb[k].med[fld[g]] > mx) mx = bb[k].med[fld[g]];
            if (mx <= 0) mx = 1;
            fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" class=\"t\">%s</text>\n", x0, top + SVG_ROW * nb + 16, cap3[g]);
            for (k = 0; k < nb; k++) {
                const bench_boot *b = &bb[k];
                double yy = yc + SVG_ROW * k, wbar = bw * b->med[fld[g]] / mx;
                if (g == 0 && k)
                    fprintf(f, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" class=\"sep\"/>\n", SVG_X0, yy - SVG_ROW / 2,
                            SVG_W - 16, yy - SVG_ROW / 2);
                if (b->failed_round) {
                    if (g == 0) svg_failed_row(f, b, yy);
                    continue;
                }
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"%s\" fill-opacity=\"0.8\"/>\n", x0,
                        yy - 9, wbar > 0.5 ? wbar : 0.5, boot_color(bb, k));
                thousands(a, sizeof a, b->med[fld[g]]);
                if (bs && b != bs) {
                    char r1[16];
                    fmt_ratio(r1, sizeof r1, ratio_of(b, bs, fld[g]));
                    snprintf(c2, sizeof c2, "×%s", r1);
                }
                else c2[0] = 0;
                fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" class=\"a\">%s<tspan class=\"r\" dx=\"6\">%s</tspan></text>\n",
                        x0 + wbar + 5, yy + 3, a, c2);
            }
        }
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0) {
        logf_("bench: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ run_bench */

int run_bench(emu *m)
{
    char *ev = NULL, allowed[256];
    size_t ev_len = 0;
    int rounds = m->cfg.bench_rounds > 0 ? m->cfg.bench_rounds : 1, r, k, f, cpu, alive;
    int nb = 1 + (int)m->cfg.n_bench_compare + (m->cfg.bench_baseline ? 1 : 0), base = -1, rc = 0;
    bench_boot *bb;
    long errors = 0;
    double *v;
    if (nb > 64) {
        logf_("bench: at most 64 bootstraps");
        return 2;
    }
    if (m->cfg.bench_event_file) {
        if (read_file(m->cfg.bench_event_file, &ev, &ev_len, EMU_MAX_PAYLOAD) != 0) {
            logf_("cannot read %s: %s", m->cfg.bench_event_file, strerror(errno));
            return 2;
        }
    } else {
        ev = xstrdup("{\"name\":\"World\"}");
        ev_len = strlen(ev);
    }
    /* the order of every round: the function, the --compare ones, the baseline */
    bb = (bench_boot *)xmalloc(sizeof *bb * (size_t)nb);
    memset(bb, 0, sizeof *bb * (size_t)nb);
    for (k = 0; k < nb; k++) {
        bench_boot *b = &bb[k];
        int j;
        b->res = (bench_result *)xmalloc(sizeof *b->res * (size_t)rounds);
        if (k == 0) {
            b->argv = m->cfg.argv;
            snprintf(b->label, sizeof b->label, "function");
        } else {
            b->own_argv[0] = k <= (int)m->cfg.n_bench_compare ? m->cfg.bench_compare[k - 1] : (char *)m->cfg.bench_baseline;
            b->argv = b->own_argv;
            if (k <= (int)m->cfg.n_bench_compare) snprintf(b->label, sizeof b->label, "compare%d", k);
            else {
                snprintf(b->label, sizeof b->label, "baseline");
                b->is_baseline = 1;
                base = k;
            }
        }
        short_name(b->argv[0], b->name, sizeof b->name - 8);
        for (j = 0; j < k; j++) /* the same short name twice: hello, hello#2 */
            if (strcmp(bb[j].name, b->name) == 0) {
                size_t l = strlen(b->name);
                int c = 2, clash;
                do {
                    int i2;
                    snprintf(b->name + l, sizeof b->name - l, "#%d", c++);
                    for (clash = 0, i2 = 0; i2 < k; i2++) clash |= strcmp(bb[i2].name, b->name) == 0;
                } while (clash);
                break;
            }
    }
    cpu = bench_pin(!m->cfg.bench_no_pin, allowed, sizeof allowed);
    if (cpu >= 0) printf("BENCH-PIN cpu=%d allowed=%s\n", cpu, allowed);
    else printf("BENCH-PIN cpu=none allowed=%s\n", allowed);
    fflush(stdout);
    for (r = 0; r < rounds && !got_stop_signal; r++) {
        for (alive = 0, k = 0; k < nb && !got_stop_signal; k++) { /* alternate: function, compare..., baseline */
            bench_boot *b = &bb[k];
            if (b->failed_round) continue;
            if (bench_one(m, b, ev, ev_len, m->cfg.bench_n, &b->res[r]) != 0) {
                b->failed_round = r + 1;
                printf("BENCH-FAIL label=%s bootstrap=%s round=%d reason=%s\n", b->label, b->argv[0], r + 1, b->why);
                fflush(stdout);
                logf_("bench: %s failed in round %d: %s%s", b->argv[0], r + 1, b->why,
                      r + 1 < rounds ? "; it is left out of the remaining rounds" : "");
                continue;
            }
            b->done = r + 1;
            alive++;
            errors += b->res[r].errors;
            bench_line(b->label, b->argv[0], m->cfg.bench_n, &b->res[r]);
        }
        if (!alive) break;
    }
    if (got_stop_signal) {
        logf_("bench: stopped by signal %d", (int)got_stop_signal);
        rc = 128 + (int)got_stop_signal;
    }
    for (k = 0; k < nb && rc == 0; k++)
        if (bb[k].failed_round) rc = 1;
    v = (double *)xmalloc(sizeof *v * (size_t)rounds);
    for (k = 0; k < nb; k++) { /* medians */
        bench_boot *b = &bb[k];
        f = 0;
#define MED(label, unit, field, prec)                                    \
    for (r = 0; r < b->done; r++) v[r] = (double)b->res[r].field;        \
    b->med[f++] = median(v, b->done);
        BENCH_FIELDS(MED)
#undef MED
        if (b->done < rounds && !b->failed_round) { /* stopped early: medians of the rounds run */
            if (!b->done) {
                b->failed_round = 1;
                snprintf(b->why, sizeof b->why, "not run (stopped)");
            }
        }
    }
    free(v);
    print_summary(m, bb, nb, base, rounds, cpu, allowed);
    if (m->cfg.bench_svg) {
        if (write_svg(m, m->cfg.bench_svg, bb, nb, base, rounds, cpu, allowed) == 0)
            printf("chart: %s\n", m->cfg.bench_svg);
        else if (rc == 0)
            rc = 2;
    }
    for (k = 0; k < nb; k++) free(bb[k].res);
    free(bb);
    free(ev);
    if (errors) logf_("bench: %ld invocations returned errors", errors);
    return rc ? rc : errors ? 1 : 0;
}
