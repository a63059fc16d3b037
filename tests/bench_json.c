/* tests/bench_json.c - the JSON scanner and writer on a ~6 MB S3-style event (make bench-json).
   Built with BENCH_PEERS (and tests/bench_json_peers.cpp, simdjson and cJSON) it times them
   in the same run and prints the ratios; without, lambda_runtime.h alone (make bench).
   Every figure is the median of ROUNDS rounds; make bench-json pins it to one CPU. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#include "bench_event.h"

#ifdef BENCH_PEERS
int peers_load(const char *s, size_t n);
int peers_simdjson_dom(void);
long peers_simdjson_pointer(const char *ptr);
long peers_simdjson_iterate(void);
const char *peers_simdjson_kernel(void);
int peers_cjson_parse(const char *s, size_t n);
#endif

#define ROUNDS 15
static double min_a, min_b; /* the fastest rounds of the last TIME2 (sorted by median) */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return t[n / 2];
}
/* the median times of ROUNDS runs of A and of B, alternating (so that a busy moment of the
   machine weighs on both); each sets rc, nonzero stops the benchmark */
#define TIME2(ta, A, tb, B)                                       \
    do {                                                          \
        double a_[ROUNDS], b_[ROUNDS], t0_;                       \
        int r_;                                                   \
        for (r_ = 0; r_ < ROUNDS; r_++) {                         \
            t0_ = now();                                          \
            A;                                                    \
            a_[r_] = now() - t0_;                                 \
            if (rc != 0) {                                        \
                printf("failed: %s\n", #A);                       \
                return 1;                                         \
            }                                                     \
            t0_ = now();                                          \
            B;                                                    \
            b_[r_] = now() - t0_;                                 \
            if (rc != 0) {                                        \
                printf("failed: %s\n", #B);                       \
                return 1;                                         \
            }                                                     \
        }                                                         \
        (ta) = median(a_, ROUNDS);                                \
        (tb) = median(b_, ROUNDS);                                \
        min_a = a_[0];                                            \
        min_b = b_[0];                                            \
    } while (0)
#define TIME(t, A) TIME2(t, A, t_unused, rc = 0)

static size_t iterate_keys(lambda_str doc)
{
    lambda_json recs, rec, v;
    lambda_json_iter it;
    size_t total = 0, klen;
    char key[256];
    if (lambda_json_get(doc, "Records", &recs) != 0) return 0;
    lambda_json_iter_init(&it, recs);
    while (lambda_json_next(&it, NULL, &rec) == 1) {
        if (lambda_json_find(rec, "s3.object.key", &v) != 0 || lambda_json_string(v, key, sizeof key, &klen) != 0)
            return 0;
        total += klen;
    }
    return total;
}

/* 20,000 doubles as one JSON array: lambda_json_write_double, and snprintf("%.17g") */
#define NDOUBLES 20000
static double dbl[NDOUBLES];
static char dbuf[NDOUBLES * 26 + 16];
static size_t write_snprintf(void)
{
    size_t n = 0, i;
    dbuf[n++] = '[';
    for (i = 0; i < NDOUBLES; i++) {
        if (i) dbuf[n++] = ',';
        n += (size_t)snprintf(dbuf + n, sizeof dbuf - n, "%.17g", dbl[i]);
    }
    dbuf[n++] = ']';
    return n;
}
static size_t write_lambda(lambda_response *res)
{
    lambda_json_writer w;
    size_t i;
    lambda_response_clear(res);
    lambda_json_writer_init(&w, res);
    lambda_json_write_begin_array(&w);
    for (i = 0; i < NDOUBLES; i++) lambda_json_write_double(&w, dbl[i]);
    lambda_json_write_end_array(&w);
    return lambda_json_writer_finish(&w) == 0 ? res->body.len : 0;
}

/* read + write: every key re-emitted with a counter and a double */
static int read_write(lambda_str doc, lambda_response *res)
{
    lambda_json_writer w;
    lambda_json recs, rec, v;
    lambda_json_iter it;
    char key[256];
    size_t i, klen;
    lambda_response_clear(res);
    lambda_json_writer_init(&w, res);
    lambda_json_write_begin_array(&w);
    lambda_json_get(doc, "Records", &recs);
    lambda_json_iter_init(&it, recs);
    for (i = 0; lambda_json_next(&it, NULL, &rec) == 1; i++) {
        lambda_json_find(rec, "s3.object.key", &v);
        lambda_json_string(v, key, sizeof key, &klen);
        lambda_json_write_begin_object(&w);
        lambda_json_write_ckey(&w, "key");
        lambda_json_write_string(&w, key, klen);
        lambda_json_write_ckey(&w, "n");
        lambda_json_write_int64(&w, (int64_t)i);
        lambda_json_write_ckey(&w, "x");
        lambda_json_write_double(&w, (double)i / 7.0);
        lambda_json_write_end_object(&w);
    }
    lambda_json_write_end_array(&w);
    return lambda_json_writer_finish(&w);
}

int main(void)
{
    size_t len, nrec, klen, i, n1, n2;
    char *ev = make_event(6u * 1000u * 1000u, &len, &nrec), path[64], ptr[64], key[256];
    lambda_str doc;
    lambda_json root, v;
    lambda_response res;
    double t, mb = (double)len / 1e6, scanned;
    int rc = 0;
    double t_unused;
    uint64_t x = 0x9E3779B97F4A7C15u;
    doc.ptr = ev;
    doc.len = len;
    if (lambda_json_validate(doc, &root, &i) != 0) {
        printf("generated event is invalid at %lu\n", (unsigned long)i);
        return 1;
    }
    printf("event: %.2f MB, %lu records; medians of %d rounds\n", mb, (unsigned long)nrec, ROUNDS);
#ifdef BENCH_PEERS
    if (peers_load(ev, len) != 0) return 1;
    printf("simdjson kernel: %s\n", peers_simdjson_kernel());
/* the ratio of the medians, and of the fastest rounds (on a busy machine a short task is
   less often interrupted than a long one: the fastest rounds show the speeds undisturbed) */
#define RATIO(label, mbytes, mine, theirs, mine_min, theirs_min)                                            \
    printf("    %-44s %8.1f MB/s  (%.2f ms)  lambda_runtime.h's speed / its speed: %.2f (fastest rounds: %.2f)\n", \
           label, (mbytes) / (theirs), (theirs) * 1e3, (theirs) / (mine), (theirs_min) / (mine_min))
#endif
    {
        double mine, dom, cj, m1, m2, m3;
        (void)dom, (void)cj, (void)m1, (void)m2, (void)m3;
#ifdef BENCH_PEERS
        TIME2(mine, rc = lambda_json_validate(doc, NULL, NULL), dom, rc = peers_simdjson_dom());
        m1 = min_a, m2 = min_b;
        TIME2(m3, rc = lambda_json_validate(doc, NULL, NULL), cj, rc = peers_cjson_parse(ev, len));
#else
        TIME(mine, rc = lambda_json_validate(doc, NULL, NULL));
#endif
        printf("validate                                         %8.1f MB/s  (%.2f ms)\n", mb / mine, mine * 1e3);
#ifdef BENCH_PEERS
        RATIO("simdjson DOM parse", mb, mine, dom, m1, m2);
        RATIO("cJSON parse", mb, m3, cj, min_a, min_b);
#endif
    }
    snprintf(path, sizeof path, "Records[%lu].s3.object.key", (unsigned long)(nrec - 1));
    snprintf(ptr, sizeof ptr, "/Records/%lu/s3/object/key", (unsigned long)(nrec - 1));
    if (lambda_json_get(doc, path, &v) != 0 || lambda_json_string(v, key, sizeof key, &klen) != 0) return 1;
    scanned = (double)(v.ptr - ev) / 1e6;
    {
        double mine, od;
        (void)od;
#ifdef BENCH_PEERS
        TIME2(mine, rc = lambda_json_get(doc, path, &v), od, rc = peers_simdjson_pointer(ptr) == (long)klen ? 0 : 1);
#else
        TIME(mine, rc = lambda_json_get(doc, path, &v));
#endif
        printf("get %-36s         %8.1f MB/s  (%.2f ms; %.2f MB before the value) -> %s\n", path, scanned / mine,
               mine * 1e3, scanned, key);
#ifdef BENCH_PEERS
        RATIO("simdjson On-Demand at_pointer", scanned, mine, od, min_a, min_b);
#endif
    }
    n1 = iterate_keys(doc);
    {
        double mine, od;
        (void)od;
#ifdef BENCH_PEERS
        TIME2(mine, rc = iterate_keys(doc) == n1 ? 0 : 1, od, rc = (long)n1 == peers_simdjson_iterate() ? 0 : 1);
#else
        TIME(mine, rc = iterate_keys(doc) == n1 ? 0 : 1);
#endif
        printf("iterate Records + find + unescape s3.object.key  %8.1f MB/s  (%.2f ms, %lu records)\n", mb / mine,
               mine * 1e3, (unsigned long)nrec);
#ifdef BENCH_PEERS
        RATIO("simdjson On-Demand, the same", mb, mine, od, min_a, min_b);
#endif
    }

    /* doubles: half with a few digits (prices, measurements), half with all 17 */
    for (i = 0; i < NDOUBLES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        dbl[i] = i % 2 ? (double)(x % 10000000u) / 100.0 : (double)(x >> 11) / 9007199254740992.0 * 1e3;
    }
    memset(&res, 0, sizeof res);
    res.max = 64u << 20;
    lambda__response_reset(&res);
    {
        double mine, base;
        TIME2(mine, rc = (n1 = write_lambda(&res)) == 0, base, rc = (n2 = write_snprintf()) == 0);
        printf("write %d doubles: lambda_json_write_double %.3f ms (%lu B), snprintf(\"%%.17g\") %.3f ms (%lu B): %.1fx faster"
               " (fastest rounds: %.1fx)\n",
               NDOUBLES, mine * 1e3, (unsigned long)n1, base * 1e3, (unsigned long)n2, base / mine, min_b / min_a);
    }

    TIME(t, rc = read_write(doc, &res));
    printf("read + write %lu records                       %8.1f MB/s of output  (%.2f ms, %.2f MB)\n", (unsigned long)nrec,
           (double)res.body.len / 1e6 / t, t * 1e3, (double)res.body.len / 1e6);
    (void)t_unused;
    lambda__buf_free(&res.body);
    free(ev);
    return 0;
}
