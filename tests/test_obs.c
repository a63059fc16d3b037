/* test_obs.c - end-to-end tests of the observability parts of lambda_runtime.h: EMF metrics
   (every document checked against the Embedded Metric Format specification's rules),
   structured log fields (JSON lines parsed, text lines taken apart as logfmt), the X-Ray
   error cause on /error (its JSON parsed) and the metadata endpoint (Availability Zone ID),
   against a scripted fake Runtime API and a fake metadata endpoint; then examples/metrics
   and (with --emu) the emulator's side: the metadata endpoint, the Telemetry API.

   Usage: build/test_obs [--emu <lambda-emu>] <dir>
     <dir>/obs/bootstrap       tests/handlers/obs.c (built like the examples, or ASan)
     <dir>/metrics/bootstrap   examples/metrics
     <dir>/telemetry/bootstrap examples/telemetry (an extension)
   Every wait is bounded; servers bind 127.0.0.1 only. */
#define LAMBDA_RUNTIME_IMPL
#include "../lambda_runtime.h" /* lambda_json_* to read what the children wrote */

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
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define E2E_SHOW_MAX 600
#define E2E_SHOW_CTL 1
#include "e2e_util.h"
#include "lt.h"

#define WAIT_MS 3000
#define P_NEXT "/2018-06-01/runtime/invocation/next"
#define P_INVOKE "/2018-06-01/runtime/invocation/"
#define P_METADATA "/2026-01-15/metadata/execution-environment"

static char obs_path[4096], metrics_path[4096], telemetry_path[4096];
static const char *emu_path;

/* ------------------------------------------------------------------------------------------ */
/* one scenario: the fake Runtime API and a bootstrap                                          */

typedef struct scn {
    rapi_server srv;
    pid_t pid;
    int reaped, status;
    char outpath[64], errpath[64];
    char *out, *err;        /* after scn_finish */
    size_t out_len, err_len;
    int n;                  /* events sent */
    char id[32];            /* the last event's request id */
    rapi_request req;       /* the last result posted */
    int have_req;
} scn;

static int scn_start(scn *s, const char *bootstrap, const char *const *env)
{
    static const char *const fixed[] = {"ASAN_OPTIONS=exitcode=86", "UBSAN_OPTIONS=print_stacktrace=1",
                                        "AWS_LAMBDA_FUNCTION_NAME=obs-fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
                                        NULL};
    char api[64];
    const char *envp[E2E_ENV_MAX];
    int ofd, efd;
    memset(s, 0, sizeof *s);
    s->pid = -1;
    if (rapi_server_open(&s->srv) != RAPI_OK) {
        LT_CHECK(!"server open");
        return 0;
    }
    s->srv.max_head = 1u << 20; /* room for a 64 KiB X-Ray cause */
    child_env(envp, api, (unsigned)rapi_server_port(&s->srv), fixed, env);
    strcpy(s->outpath, "/tmp/test_obs_out_XXXXXX");
    strcpy(s->errpath, "/tmp/test_obs_err_XXXXXX");
    ofd = mkstemp(s->outpath);
    efd = mkstemp(s->errpath);
    if (ofd < 0 || efd < 0) {
        LT_CHECK(!"mkstemp");
        return 0;
    }
    s->pid = spawn_child(bootstrap, NULL, envp, ofd, efd, 0);
    close(ofd);
    close(efd);
    LT_CHECK(s->pid > 0);
    return s->pid > 0;
}

/* Waits for GET /next and answers it with the event `body`. */
static int scn_event(scn *s, const char *body)
{
    rapi_request nx;
    rapi_response r;
    char hdr[512];
    int ok;
    if (!read_from_child(&s->srv, &nx, WAIT_MS, "/next", s->pid, &s->reaped, &s->status)) {
        LT_CHECK(!"GET /next arrives");
        return 0;
    }
    ok = streq(nx.method, "GET") && streq(nx.target, P_NEXT);
    if (!ok) show("unexpected request", nx.raw, nx.raw_len);
    LT_CHECK(ok);
    rapi_request_free(&nx);
    snprintf(s->id, sizeof s->id, "obs-%d", ++s->n);
    snprintf(hdr, sizeof hdr,
             "Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:obs-fn\r\n"
             "Content-Type: application/json\r\n",
             s->id, wall_ms() + 30000);
    rapi_response_init(&r, 200);
    r.headers = hdr;
    r.body = body;
    r.body_len = strlen(body);
    ok = rapi_server_send(&s->srv, &r, WAIT_MS) == RAPI_OK;
    LT_CHECK(ok);
    return ok;
}

/* Reads the result posted for the last event (kind "response" or "error") into s->req and
   answers it 202. */
static int scn_result(scn *s, const char *kind)
{
    char want[128];
    int ok;
    if (s->have_req) rapi_request_free(&s->req);
    s->have_req = read_from_child(&s->srv, &s->req, WAIT_MS, kind, s->pid, &s->reaped, &s->status);
    if (!s->have_req) {
        LT_CHECK(!"the result arrives");
        return 0;
    }
    snprintf(want, sizeof want, P_INVOKE "%s/%s", s->id, kind);
    ok = streq(s->req.method, "POST") && streq(s->req.target, want);
    if (!ok) show("unexpected request", s->req.raw, s->req.raw_len > 600 ? 600 : s->req.raw_len);
    LT_CHECK(ok);
    if (ok) {
        rapi_response r;
        rapi_response_init(&r, 202);
        r.headers = "Content-Type: application/json\r\n";
        r.body = "{\"status\":\"OK\"}";
        r.body_len = 15;
        LT_CHECK(rapi_server_send(&s->srv, &r, WAIT_MS) == RAPI_OK);
    }
    return ok;
}

/* One invocation whose answer must be `want` (NULL: any). */
static int scn_ok(scn *s, const char *event, const char *want)
{
    if (!scn_event(s, event) || !scn_result(s, "response")) return 0;
    if (want && !mem_is(s->req.body, s->req.body_len, want, strlen(want), "answer")) {
        LT_CHECK(!"the answer");
        return 0;
    }
    return 1;
}

/* The runtime must come back for the next event; then it is stopped and its output read. */
static void scn_finish(scn *s)
{
    rapi_request nx;
    if (s->pid > 0 && read_from_child(&s->srv, &nx, WAIT_MS, "/next", s->pid, &s->reaped, &s->status))
        rapi_request_free(&nx);
    else if (s->pid > 0)
        LT_CHECK(!"the runtime asks for the next event");
    kill_child(s->pid, &s->reaped, &s->status, WAIT_MS);
    s->out = take_file(s->outpath, &s->out_len, 1);
    s->err = take_file(s->errpath, &s->err_len, 1);
    if (s->have_req) rapi_request_free(&s->req);
    s->have_req = 0;
    rapi_server_close(&s->srv);
}

static void scn_free(scn *s)
{
    free(s->out);
    free(s->err);
    s->out = s->err = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON helpers (the runtime's own reader)                                                     */

static lambda_str S(const char *p, size_t n)
{
    lambda_str s;
    s.ptr = p;
    s.len = n;
    return s;
}

/* the unescaped string at `path` of v, or "" (not a string); buf: cap bytes */
static const char *jget(lambda_json v, const char *path, char *buf, size_t cap)
{
    lambda_json x;
    buf[0] = 0;
    if (lambda_json_find(v, path, &x) == 0) (void)lambda_json_string(x, buf, cap, NULL);
    return buf;
}

/* the unescaped text of a string value (NULL if it is not one); malloc'd */
static char *jstr_dup(lambda_json v, size_t *len)
{
    size_t n = 0;
    char *b;
    if (v.type != LAMBDA_JSON_STRING || lambda_json_string(v, NULL, 0, &n) != LAMBDA_E_SPACE) {
        if (v.type == LAMBDA_JSON_STRING && n == 0) {
            b = (char *)calloc(1, 1);
            if (len) *len = 0;
            return b;
        }
        return NULL;
    }
    b = (char *)malloc(n + 1);
    if (lambda_json_string(v, b, n + 1, &n) != 0) {
        free(b);
        return NULL;
    }
    if (len) *len = n;
    return b;
}

/* every member key of object o unescaped and distinct (RFC 8259 SHOULD, EMF needs it) */
static int keys_unique(lambda_json o)
{
    lambda_json_iter it, it2;
    lambda_json k, k2;
    char a[2048], b[2048];
    size_t i = 0, j;
    lambda_json_iter_init(&it, o);
    while (lambda_json_next(&it, &k, NULL) == 1) {
        if (lambda_json_string(k, a, sizeof a, NULL) != 0) return 0;
        lambda_json_iter_init(&it2, o);
        for (j = 0; lambda_json_next(&it2, &k2, NULL) == 1; j++) {
            if (j <= i) continue;
            if (lambda_json_string(k2, b, sizeof b, NULL) == 0 && strcmp(a, b) == 0) {
                printf("    duplicate key \"%s\"\n", a);
                return 0;
            }
        }
        i++;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* EMF: a document checked against the specification                                          */

#define EMF_MAX_M 100
typedef struct emf_metric {
    char name[1100];
    char unit[40];
    int nvals, array;
    double vals[100];
} emf_metric;

typedef struct emf_doc {
    long long ts;
    char ns[300];
    int ndims;
    char dim[30][300];
    char dimv[30][1100];
    int nm;
    emf_metric m[EMF_MAX_M];
} emf_doc;

static const char *const units[] = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"};

static int unit_ok(const char *u)
{
    size_t i;
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i]) == 0) return 1;
    return 0;
}

static int ns_ok(const char *ns)
{
    size_t n = strlen(ns), i;
    if (n < 1 || n > 255) return 0;
    for (i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._#:/-", ns[i])) return 0;
    return 1;
}

#define EMF_FAIL(why)                                                                              \
    do {                                                                                           \
        printf("    EMF rule broken: %s\n", why);                                                  \
        show("document", line, len);                                                               \
        return 0;                                                                                  \
    } while (0)

/* line[0..len) is one EMF document by the specification's rules (a JSON object; _aws with a
   Timestamp in ms and CloudWatchMetrics; each MetricDirective's Namespace, Dimensions (arrays
   of at most 30 keys, each a root member with a string value) and Metrics (1..100
   MetricDefinitions with Name and a Unit from the list, each a root member holding a number
   or an array of 1..100 numbers); no duplicate keys; at most 256 KB). Fills *d. */
static int emf_check(const char *line, size_t len, emf_doc *d)
{
    lambda_json root, aws, cwm, dirv, dims, mets, v, x, item;
    lambda_json_iter it, it2;
    lambda_str doc = S(line, len);
    int64_t ts;
    char buf[1100];
    memset(d, 0, sizeof *d);
    if (len > 256 * 1024) EMF_FAIL("larger than 256 KB");
    if (lambda_json_validate(doc, &root, NULL) != 0 || root.type != LAMBDA_JSON_OBJECT) EMF_FAIL("not a JSON object");
    if (!keys_unique(root)) EMF_FAIL("duplicate root keys");
    if (lambda_json_find(root, "_aws", &aws) != 0 || aws.type != LAMBDA_JSON_OBJECT) EMF_FAIL("no _aws object");
    if (!keys_unique(aws)) EMF_FAIL("duplicate _aws keys");
    lambda_json_iter_init(&it, aws);
    while (lambda_json_next(&it, &x, NULL) == 1)
        if (!lambda_json_string_eq(x, "Timestamp") && !lambda_json_string_eq(x, "CloudWatchMetrics"))
            EMF_FAIL("_aws has another member");
    if (lambda_json_find(aws, "Timestamp", &v) != 0 || lambda_json_int64(v, &ts) != 0) EMF_FAIL("no integer Timestamp");
    if (ts < wall_ms() - 600000 || ts > wall_ms() + 60000) EMF_FAIL("Timestamp is not now in ms");
    d->ts = ts;
    if (lambda_json_find(aws, "CloudWatchMetrics", &cwm) != 0 || cwm.type != LAMBDA_JSON_ARRAY)
        EMF_FAIL("no CloudWatchMetrics array");
    if (lambda_json_index(cwm, 1, NULL) == 0) EMF_FAIL("more than one directive (the runtime writes one)");
    if (lambda_json_index(cwm, 0, &dirv) != 0 || dirv.type != LAMBDA_JSON_OBJECT) EMF_FAIL("no MetricDirective");
    lambda_json_iter_init(&it, dirv);
    while (lambda_json_next(&it, &x, NULL) == 1)
        if (!lambda_json_string_eq(x, "Namespace") && !lambda_json_string_eq(x, "Dimensions") &&
            !lambda_json_string_eq(x, "Metrics"))
            EMF_FAIL("the MetricDirective has another member");
    if (lambda_json_find(dirv, "Namespace", &v) != 0 || lambda_json_string(v, d->ns, sizeof d->ns, NULL) != 0 ||
        !ns_ok(d->ns))
        EMF_FAIL("Namespace missing or invalid");
    if (lambda_json_find(dirv, "Dimensions", &dims) != 0 || dims.type != LAMBDA_JSON_ARRAY) EMF_FAIL("no Dimensions array");
    lambda_json_iter_init(&it, dims);
    while (lambda_json_next(&it, NULL, &item) == 1) {
        int n = 0;
        if (item.type != LAMBDA_JSON_ARRAY) EMF_FAIL("a DimensionSet is not an array");
        lambda_json_iter_init(&it2, item);
        while (lambda_json_next(&it2, NULL, &x) == 1) {
            lambda_json member;
            if (++n > 30) EMF_FAIL("a DimensionSet with more than 30 keys");
            if (lambda_json_string(x, buf, sizeof buf, NULL) != 0) EMF_FAIL("a dimension key is not a string");
            if (lambda_json_key(root, buf, strlen(buf), &member) != 0) EMF_FAIL("a dimension is not a root member");
            if (member.type != LAMBDA_JSON_STRING) EMF_FAIL("a dimension value is not a string");
            if (d->ndims < 30) {
                strcpy(d->dim[d->ndims], buf);
                (void)lambda_json_string(member, d->dimv[d->ndims], sizeof d->dimv[0], NULL);
                d->ndims++;
            }
        }
    }
    if (lambda_json_find(dirv, "Metrics", &mets) != 0 || mets.type != LAMBDA_JSON_ARRAY) EMF_FAIL("no Metrics array");
    lambda_json_iter_init(&it, mets);
    while (lambda_json_next(&it, NULL, &item) == 1) {
        emf_metric *m;
        lambda_json member;
        if (d->nm >= EMF_MAX_M) EMF_FAIL("more than 100 MetricDefinitions");
        m = &d->m[d->nm++];
        if (item.type != LAMBDA_JSON_OBJECT) EMF_FAIL("a MetricDefinition is not an object");
        lambda_json_iter_init(&it2, item);
        while (lambda_json_next(&it2, &x, NULL) == 1)
            if (!lambda_json_string_eq(x, "Name") && !lambda_json_string_eq(x, "Unit") &&
                !lambda_json_string_eq(x, "StorageResolution"))
                EMF_FAIL("a MetricDefinition has another member");
        if (lambda_json_find(item, "Name", &v) != 0 || lambda_json_string(v, m->name, sizeof m->name, NULL) != 0 ||
            !m->name[0])
            EMF_FAIL("a MetricDefinition without a Name");
        if (lambda_json_find(item, "Unit", &v) == 0 &&
            (lambda_json_string(v, m->unit, sizeof m->unit, NULL) != 0 || !unit_ok(m->unit)))
            EMF_FAIL("a Unit not in the list");
        if (lambda_json_key(root, m->name, strlen(m->name), &member) != 0) EMF_FAIL("a metric is not a root member");
        if (member.type == LAMBDA_JSON_NUMBER) {
            if (lambda_json_double(member, &m->vals[0]) != 0) EMF_FAIL("a metric value is not a number");
            m->nvals = 1;
        } else if (member.type == LAMBDA_JSON_ARRAY) {
            m->array = 1;
            lambda_json_iter_init(&it2, member);
            while (lambda_json_next(&it2, NULL, &x) == 1) {
                if (m->nvals >= 100) EMF_FAIL("more than 100 values for a metric");
                if (x.type != LAMBDA_JSON_NUMBER || lambda_json_double(x, &m->vals[m->nvals]) != 0)
                    EMF_FAIL("a metric value is not a number");
                m->nvals++;
            }
            if (m->nvals == 0) EMF_FAIL("an empty value array");
        } else {
            EMF_FAIL("a metric member is neither a number nor an array");
        }
    }
    if (d->nm == 0) EMF_FAIL("a directive without metrics");
    return 1;
}

/* The EMF documents among the lines of out[0..n) (lines that start with {"_aws"), checked;
   *docs is malloc'd (NULL with none). Returns how many; -1 if one broke a rule. */
static int emf_docs(const char *out, size_t n, emf_doc **docs)
{
    const char *pos = out, *end = out + n, *l;
    size_t ll;
    int k = 0, bad = 0;
    *docs = NULL;
    while ((l = next_line(&pos, end, &ll)) != NULL) {
        if (!starts_with(l, ll, "{\"_aws\"")) continue;
        *docs = (emf_doc *)realloc(*docs, sizeof **docs * (size_t)(k + 1));
        if (!emf_check(l, ll, &(*docs)[k])) bad = 1;
        k++;
    }
    return bad ? -1 : k;
}

static const emf_metric *emf_find(const emf_doc *d, const char *name)
{
    int i;
    for (i = 0; i < d->nm; i++)
        if (strcmp(d->m[i].name, name) == 0) return &d->m[i];
    return NULL;
}

static const char *emf_dim(const emf_doc *d, const char *name)
{
    int i;
    for (i = 0; i < d->ndims; i++)
        if (strcmp(d->dim[i], name) == 0) return d->dimv[i];
    return NULL;
}

/* A scenario with obs/bootstrap and env, one invocation per event, then its EMF documents. */
static int run_events(scn *s, const char *const *env, const char *const *events, const char *const *answers)
{
    int i;
    if (!scn_start(s, obs_path, env)) return 0;
    for (i = 0; events[i]; i++)
        if (!scn_ok(s, events[i], answers ? answers[i] : NULL)) break;
    scn_finish(s);
    return events[i] == NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* EMF                                                                                         */

static void test_emf_basic(void)
{
    static const char *const ev[] = {"emf:basic", NULL}, *const ans[] = {"ok", NULL};
    scn s;
    emf_doc *d = NULL;
    const emf_metric *m;
    int n;
    if (!run_events(&s, NULL, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 1);
    LT_CHECK(count_lines_in(s.out, s.out_len, NULL) == 1); /* the document is one line */
    if (n != 1) goto out;
    LT_CHECK(streq(d->ns, "Test/Obs"));
    LT_CHECK(d->ndims == 2 && streq(d->dim[0], "FunctionName") && streq(d->dim[1], "Stage"));
    LT_CHECK(streq(emf_dim(d, "FunctionName"), "obs-fn"));
    LT_CHECK(streq(emf_dim(d, "Stage"), "prod"));
    LT_CHECK(d->nm == 3);
    m = emf_find(d, "Invocations");
    LT_CHECK(m && streq(m->unit, "Count") && m->nvals == 1 && !m->array && m->vals[0] == 1);
    m = emf_find(d, "Bytes");
    LT_CHECK(m && streq(m->unit, "Bytes") && m->nvals == 1 && m->vals[0] == 1234);
    m = emf_find(d, "Latency"); /* several values: an array, in order */
    LT_CHECK(m && streq(m->unit, "Milliseconds") && m->array && m->nvals == 2 && m->vals[0] == 12.5 &&
             m->vals[1] == 9.75);
    LT_CHECK(count_lines_in(s.err, s.err_len, "metrics") == 0);
out:
    free(d);
    scn_free(&s);
}

/* 150 metrics: two documents of 100 and 50; each metric once */
static void test_emf_split_metrics(void)
{
    static const char *const ev[] = {"emf:many:150:1", NULL}, *const ans[] = {"rc=0", NULL};
    scn s;
    emf_doc *d = NULL;
    int n, i, k, seen[150];
    memset(seen, 0, sizeof seen);
    if (!run_events(&s, NULL, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 2);
    if (n != 2) goto out;
    LT_CHECK(d[0].nm == 100 && d[1].nm == 50);
    for (k = 0; k < n; k++) {
        LT_CHECK(streq(d[k].ns, "aws-embedded-metrics")); /* the default */
        LT_CHECK(d[k].ndims == 0);                         /* "Dimensions":[[]] */
        for (i = 0; i < d[k].nm; i++) {
            int idx = atoi(d[k].m[i].name + 1);
            LT_CHECK(idx >= 0 && idx < 150 && d[k].m[i].nvals == 1 && d[k].m[i].vals[0] == idx * 1000);
            if (idx >= 0 && idx < 150) seen[idx]++;
        }
    }
    for (i = 0; i < 150; i++) LT_CHECK(seen[i] == 1);
out:
    free(d);
    scn_free(&s);
}

/* 2 metrics of 250 values: three documents (100, 100, 50 values each); all values, in order */
static void test_emf_split_values(void)
{
    static const char *const ev[] = {"emf:many:2:250", NULL}, *const ans[] = {"rc=0", NULL};
    scn s;
    emf_doc *d = NULL;
    int n, k, j, got[2] = {0, 0}, order_ok = 1;
    if (!run_events(&s, NULL, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 3);
    for (k = 0; k < n; k++) {
        LT_CHECK(d[k].nm == 2);
        for (j = 0; j < d[k].nm; j++) {
            const emf_metric *m = &d[k].m[j];
            int idx = m->name[1] - '0', v;
            LT_CHECK(m->nvals == (k < 2 ? 100 : 50) && m->array);
            for (v = 0; v < m->nvals && idx >= 0 && idx < 2; v++)
                if (m->vals[v] != idx * 1000 + got[idx] + v) order_ok = 0;
            if (idx >= 0 && idx < 2) got[idx] += m->nvals;
        }
    }
    LT_CHECK(order_ok);
    LT_CHECK(got[0] == 250 && got[1] == 250);
out:
    free(d);
    scn_free(&s);
}

/* the 1001st metric and the 10001st value are refused (LAMBDA_E_TOO_BIG), with one warning */
static void test_emf_limits(void)
{
    static const char *const ev[] = {"emf:many:1001:1", "emf:many:1:10001", "emf:dims:31", NULL};
    static const char *const ans[] = {"rc=-7", "rc=-7",
                                      "rc=0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,-7", NULL};
    scn s;
    emf_doc *d = NULL;
    int n, k, metrics = 0, values = 0, ndocs1 = 0;
    if (!run_events(&s, NULL, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 10 + 100 + 1);
    if (n != 111) goto out;
    for (k = 0; k < 10; k++) metrics += d[k].nm;
    LT_CHECK(metrics == 1000);
    for (k = 10; k < 110; k++) {
        ndocs1++;
        values += d[k].m[0].nvals;
        LT_CHECK(d[k].nm == 1 && streq(d[k].m[0].name, "m0"));
    }
    LT_CHECK(values == 10000 && ndocs1 == 100);
    LT_CHECK(d[110].ndims == 30); /* the 31st dimension was refused */
    LT_CHECK(streq(emf_dim(&d[110], "d29"), "v29") && emf_dim(&d[110], "d30") == NULL);
    LT_CHECK(count_lines_in(s.err, s.err_len, "metrics: ") == 3); /* one warning per invocation */
    LT_CHECK(count_lines_in(s.err, s.err_len, "out of range") + count_lines_in(s.err, s.err_len, "exceeds") >= 1);
out:
    free(d);
    scn_free(&s);
}

/* invalid names, units, values, dimensions and namespaces are refused; valid ones written,
   escaped */
static void test_emf_validation(void)
{
    static const char *const ev[] = {"emf:bad", NULL};
    static const char *const ans[] = {
        "rc=-11,-11,-11,-11,-14,-14,-11,0,-11,-11,-11,-11,-11,-11,-11,-11,0,-11,0,-11,0,0,-11,-11", NULL};
    scn s;
    emf_doc *d = NULL;
    const emf_metric *m;
    int n;
    if (!run_events(&s, NULL, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 1);
    if (n != 1) goto out;
    LT_CHECK(streq(d->ns, "A-z_0.9#:/x"));
    LT_CHECK(d->ndims == 1 && streq(d->dim[0], "Dim \"q\"") && streq(d->dimv[0], "replaced"));
    LT_CHECK(d->nm == 2);
    m = emf_find(d, "ok1");
    LT_CHECK(m && streq(m->unit, "Count") && m->vals[0] == 1);
    m = emf_find(d, "caf\xc3\xa9 \xe2\x80\xa8");
    LT_CHECK(m && streq(m->unit, "Percent") && m->vals[0] == -0.5);
    LT_CHECK(count_lines_in(s.err, s.err_len, "metrics: metric \"\" not recorded") == 1); /* once */
out:
    free(d);
    scn_free(&s);
}

/* an explicit flush, then the rest; nothing recorded: no document; state cleared between
   invocations; AWS_EMF_NAMESPACE as the default; metrics of the init hook go with the first */
static void test_emf_flush_and_reset(void)
{
    static const char *const env[] = {"AWS_EMF_NAMESPACE=Env/NS", "OBS_INIT_METRIC=1", NULL};
    static const char *const ev[] = {"emf:none", "emf:none", "emf:basic", "emf:flush", NULL};
    static const char *const ans[] = {"ok", "ok", "ok", "rc=0", NULL};
    scn s;
    emf_doc *d = NULL;
    int n;
    if (!run_events(&s, env, ev, ans)) goto out;
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 4);
    if (n != 4) goto out;
    LT_CHECK(d[0].nm == 1 && emf_find(&d[0], "Init") && streq(d[0].ns, "Env/NS"));
    LT_CHECK(streq(d[1].ns, "Test/Obs") && d[1].ndims == 2);
    LT_CHECK(d[2].nm == 1 && emf_find(&d[2], "a") && d[2].ndims == 0 && streq(d[2].ns, "Env/NS"));
    LT_CHECK(d[3].nm == 1 && emf_find(&d[3], "b") && d[3].ndims == 0);
    LT_CHECK(d[2].ts <= d[3].ts);
out:
    free(d);
    scn_free(&s);
}

/* printf output before the document; a streamed answer and a failed invocation still get
   their documents */
static void test_emf_order_stream_error(void)
{
    scn s;
    emf_doc *d = NULL;
    const char *pos, *end, *l;
    size_t ll;
    int n;
    if (!scn_start(&s, obs_path, NULL)) return;
    scn_ok(&s, "emf:print", "ok");
    if (scn_event(&s, "emf:stream") && scn_result(&s, "response"))
        LT_CHECK(mem_eq(s.req.body, s.req.body_len, "s", 1) &&
                 streq(rapi_request_header(&s.req, "Lambda-Runtime-Function-Response-Mode"), "streaming"));
    if (scn_event(&s, "emf:fail") && scn_result(&s, "error")) {
        LT_CHECK(streq(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"), "Test.Failed"));
        LT_CHECK(rapi_request_header(&s.req, "Lambda-Runtime-Function-XRay-Error-Cause") == NULL); /* no opt-in */
    }
    scn_finish(&s);
    pos = s.out;
    end = s.out + s.out_len;
    l = next_line(&pos, end, &ll);
    LT_CHECK(l && mem_eq(l, ll, "before", 6));
    l = next_line(&pos, end, &ll);
    LT_CHECK(l && mem_eq(l, ll, "after", 5));
    l = next_line(&pos, end, &ll);
    LT_CHECK(l && starts_with(l, ll, "{\"_aws\""));
    n = emf_docs(s.out, s.out_len, &d);
    LT_CHECK(n == 3);
    if (n == 3) {
        LT_CHECK(emf_find(&d[0], "p") != NULL);
        LT_CHECK(emf_find(&d[1], "streamed") != NULL);
        LT_CHECK(emf_find(&d[2], "failed") != NULL);
    }
    free(d);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* structured log fields                                                                       */

/* the stderr line of the invocation `rid` that contains `needle` */
static const char *find_line(const scn *s, const char *needle, size_t *len)
{
    const char *pos = s->err, *end = s->err + s->err_len, *l;
    while ((l = next_line(&pos, end, len)) != NULL)
        if (find_mem(l, *len, needle, strlen(needle))) return l;
    return NULL;
}

static int member_is(lambda_json o, const char *key, const char *raw)
{
    lambda_json v;
    if (lambda_json_key(o, key, strlen(key), &v) != 0) {
        printf("    no member \"%s\"\n", key);
        return 0;
    }
    return mem_is(v.ptr, v.len, raw, strlen(raw), key);
}

static void test_log_fields_json(void)
{
    static const char *const env[] = {"AWS_LAMBDA_LOG_FORMAT=JSON", NULL};
    static const char *const ev[] = {"log:fields", NULL}, *const ans[] = {"ok", NULL};
    static const char *const order[] = {"timestamp", "level", "requestId", "message", "bucket", "key", "size",
                                        "neg", "ratio", "big", "nan", "ok", "no", "nul", "empty", "_message",
                                        "k e=y\"", "bin", "inf", NULL};
    scn s;
    const char *l;
    size_t ll;
    lambda_json root, k;
    lambda_json_iter it;
    char buf[256];
    int i = 0;
    if (!run_events(&s, env, ev, ans)) goto out;
    l = find_line(&s, "\"fields\"", &ll);
    LT_CHECK(l != NULL);
    if (!l) goto out;
    LT_CHECK(lambda_json_validate(S(l, ll), &root, NULL) == 0 && root.type == LAMBDA_JSON_OBJECT);
    LT_CHECK(keys_unique(root));
    lambda_json_iter_init(&it, root); /* every member, in this order */
    while (lambda_json_next(&it, &k, NULL) == 1) {
        LT_CHECK(order[i] && lambda_json_string_eq(k, order[i]));
        if (order[i]) i++;
    }
    LT_CHECK(order[i] == NULL);
    LT_CHECK(streq(jget(root, "level", buf, sizeof buf), "INFO"));
    LT_CHECK(streq(jget(root, "requestId", buf, sizeof buf), "obs-1"));
    LT_CHECK(streq(jget(root, "message", buf, sizeof buf), "fields"));
    LT_CHECK(member_is(root, "bucket", "\"my-bucket\""));
    LT_CHECK(streq(jget(root, "key", buf, sizeof buf), "a b/\"c\".txt"));
    LT_CHECK(member_is(root, "size", "1024"));
    LT_CHECK(member_is(root, "neg", "-9223372036854775808"));
    LT_CHECK(member_is(root, "ratio", "0.1"));
    LT_CHECK(member_is(root, "big", "1e+300"));
    LT_CHECK(member_is(root, "nan", "\"NaN\""));
    LT_CHECK(member_is(root, "ok", "true"));
    LT_CHECK(member_is(root, "no", "false"));
    LT_CHECK(member_is(root, "nul", "null"));
    LT_CHECK(member_is(root, "empty", "\"\""));
    LT_CHECK(streq(jget(root, "_message", buf, sizeof buf), "not the message"));
    {
        lambda_json v;
        size_t n = 0;
        char *t;
        LT_CHECK(lambda_json_key(root, "k e=y\"", 6, &v) == 0);
        t = jstr_dup(v, &n);
        static const char want[] = "line1\nline2\ttab \xe2\x80\xa8 caf\xc3\xa9 \xef\xbf\xbd";
        LT_CHECK(t && mem_eq(t, n, want, sizeof want - 1));
        free(t);
        LT_CHECK(lambda_json_key(root, "bin", 3, &v) == 0);
        t = jstr_dup(v, &n);
        LT_CHECK(t && mem_eq(t, n, "a\0b", 3));
        free(t);
    }
    LT_CHECK(member_is(root, "inf", "\"-Infinity\""));
out:
    scn_free(&s);
}

/* logfmt: key=value pairs after the message; quoted values decode as JSON strings */
static void test_log_fields_text(void)
{
    static const char *const ev[] = {"log:fields", "log:fields:3", NULL}, *const ans[] = {"ok", "ok", NULL};
    static const char want[] =
        "\tobs-1\tINFO\tfields bucket=my-bucket key=\"a b/\\\"c\\\".txt\" size=1024 neg=-9223372036854775808 "
        "ratio=0.1 big=1e+300 nan=NaN ok=true no=false nul= empty=\"\" message=\"not the message\" "
        "k_e_y_=\"line1\\nline2\\ttab \\u2028 caf\xc3\xa9 \xef\xbf\xbd\" bin=\"a\\u0000b\" inf=-Infinity";
    static const char want3[] = "\tobs-2\tINFO\tfields bucket=my-bucket key=\"a b/\\\"c\\\".txt\" size=1024";
    scn s;
    const char *l, *tab;
    size_t ll;
    if (!run_events(&s, NULL, ev, ans)) goto out;
    l = find_line(&s, "obs-1\tINFO\tfields", &ll);
    LT_CHECK(l != NULL);
    if (!l) goto out;
    tab = memchr(l, '\t', ll);
    LT_CHECK(tab && tab - l == 24); /* the timestamp */
    if (tab) LT_CHECK(mem_is(tab, ll - (size_t)(tab - l), want, sizeof want - 1, "text line"));
    { /* each quoted value is a JSON string literal */
        const char *q = find_mem(l, ll, "k_e_y_=", 7);
        lambda_json v;
        const char *vend;
        LT_CHECK(q != NULL);
        if (q) {
            q += 7;
            vend = find_mem(q, ll - (size_t)(q - l), "\" bin=", 6);
            LT_CHECK(vend && lambda_json_validate(S(q, (size_t)(vend + 1 - q)), &v, NULL) == 0 &&
                     v.type == LAMBDA_JSON_STRING);
        }
    }
    l = find_line(&s, "obs-2\tINFO\tfields", &ll);
    LT_CHECK(l && ll > 24 && mem_is(l + 24, ll - 24, want3, sizeof want3 - 1, "three fields"));
out:
    scn_free(&s);
}

/* a line over LAMBDA_LOG_LINE_MAX: the message and the value cut (ending "..."), still one
   valid line; at most 64 fields */
static void test_log_fields_limits(void)
{
    static const char *const env[] = {"AWS_LAMBDA_LOG_FORMAT=JSON", NULL};
    static const char *const ev[] = {"log:long:5000", "log:many", NULL}, *const ans[] = {"ok", "ok", NULL};
    scn s;
    const char *l;
    size_t ll, n;
    lambda_json root, v;
    char *m = NULL, *b = NULL;
    if (!run_events(&s, env, ev, ans)) goto out;
    l = find_line(&s, "\"big\"", &ll);
    LT_CHECK(l != NULL);
    if (!l) goto out;
    LT_CHECK(ll + 1 <= 4096);
    LT_CHECK(ll > 3500); /* cut to fit, not dropped */
    LT_CHECK(lambda_json_validate(S(l, ll), &root, NULL) == 0);
    LT_CHECK(lambda_json_key(root, "message", 7, &v) == 0 && (m = jstr_dup(v, &n)) != NULL);
    LT_CHECK(m && n > 1000 && n < 5000 && strcmp(m + n - 3, "...") == 0 && strspn(m, "m") == n - 3);
    LT_CHECK(lambda_json_key(root, "big", 3, &v) == 0 && (b = jstr_dup(v, &n)) != NULL);
    LT_CHECK(b && n > 1000 && n < 5000 && strcmp(b + n - 3, "...") == 0 && strspn(b, "b") == n - 3);
    l = find_line(&s, "\"many\"", &ll);
    LT_CHECK(l && lambda_json_validate(S(l, ll), &root, NULL) == 0);
    if (l) {
        LT_CHECK(lambda_json_key(root, "f63", 3, &v) == 0 && mem_eq(v.ptr, v.len, "63", 2));
        LT_CHECK(lambda_json_key(root, "f64", 3, &v) == LAMBDA_E_NOT_FOUND);
        LT_CHECK(member_is(root, "level", "\"WARN\""));
    }
out:
    free(m);
    free(b);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* X-Ray error cause                                                                           */

/* the cause header of the last /error parsed; checks the shape */
static int cause_check(const scn *s, char *type, char *msg, size_t msgcap, size_t *msglen)
{
    const char *h = rapi_request_header(&s->req, "Lambda-Runtime-Function-XRay-Error-Cause");
    lambda_json root, ex, v;
    char cwd[4096], wd[4096];
    size_t i, n;
    char *t;
    if (!h) {
        LT_CHECK(!"an X-Ray error cause header");
        return 0;
    }
    n = strlen(h);
    for (i = 0; i < n; i++)
        if ((unsigned char)h[i] < 0x20 || (unsigned char)h[i] >= 0x7f) break;
    LT_CHECK(i == n); /* ASCII only */
    LT_CHECK(n <= 65536);
    if (lambda_json_validate(S(h, n), &root, NULL) != 0 || root.type != LAMBDA_JSON_OBJECT) {
        show("cause", h, n);
        LT_CHECK(!"the cause is a JSON object");
        return 0;
    }
    LT_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    LT_CHECK(streq(jget(root, "working_directory", wd, sizeof wd), cwd));
    LT_CHECK(lambda_json_find(root, "paths", &v) == 0 && mem_eq(v.ptr, v.len, "[]", 2));
    LT_CHECK(lambda_json_find(root, "exceptions", &v) == 0 && v.type == LAMBDA_JSON_ARRAY);
    LT_CHECK(lambda_json_index(v, 1, NULL) == LAMBDA_E_NOT_FOUND);
    if (lambda_json_index(v, 0, &ex) != 0) return 0;
    jget(ex, "type", type, 256);
    LT_CHECK(lambda_json_find(ex, "message", &v) == 0);
    t = jstr_dup(v, msglen);
    if (!t) return 0;
    if (*msglen < msgcap) memcpy(msg, t, *msglen + 1);
    free(t);
    return 1;
}

static void test_xray_cause(void)
{
    static const char *const env[] = {"OBS_XRAY=1", NULL};
    scn s;
    char type[256], msg[70000];
    size_t ml = 0;
    if (!scn_start(&s, obs_path, env)) return;
    if (scn_event(&s, "fail:Test.Bad:boom \"q\" \\ caf\xc3\xa9 \xf0\x9f\x98\x80 \x01") && scn_result(&s, "error")) {
        static const char want_msg[] = "boom \"q\" \\ caf\xc3\xa9 \xf0\x9f\x98\x80 \x01";
        const char *h = rapi_request_header(&s.req, "Lambda-Runtime-Function-XRay-Error-Cause");
        LT_CHECK(streq(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"), "Test.Bad"));
        LT_CHECK(h && strstr(h, "\\ud83d\\ude00") != NULL); /* U+1F600 as a surrogate pair */
        if (cause_check(&s, type, msg, sizeof msg, &ml)) {
            LT_CHECK(streq(type, "Test.Bad"));
            LT_CHECK(mem_is(msg, ml, want_msg, sizeof want_msg - 1, "message"));
        }
        /* the body is unchanged */
        LT_CHECK(starts_with(s.req.body, s.req.body_len, "{\"errorMessage\":\"boom \\\"q\\\""));
    }
    if (scn_event(&s, "failbig:200000") && scn_result(&s, "error") && cause_check(&s, type, msg, sizeof msg, &ml)) {
        LT_CHECK(streq(type, "Test.Big"));
        LT_CHECK(ml > 10000 && ml < 65536 && strcmp(msg + ml - 3, "...") == 0);
        LT_CHECK(strncmp(msg, "\xc3\xa9\xc3\xa9", 4) == 0 && msg[ml - 4] != '\xc3'); /* cut at a character */
        LT_CHECK(strlen(rapi_request_header(&s.req, "Lambda-Runtime-Function-XRay-Error-Cause")) > 60000);
    }
    if (scn_event(&s, "emf:fail") && scn_result(&s, "error") && cause_check(&s, type, msg, sizeof msg, &ml)) {
        LT_CHECK(streq(type, "Test.Failed") && streq(msg, "it failed"));
    }
    scn_ok(&s, "emf:basic", "ok"); /* success: /response as usual */
    LT_CHECK(rapi_request_header(&s.req, "Lambda-Runtime-Function-XRay-Error-Cause") == NULL);
    scn_finish(&s);
    {
        emf_doc *d = NULL;
        LT_CHECK(emf_docs(s.out, s.out_len, &d) == 2); /* emf:fail's and emf:basic's */
        free(d);
    }
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* the metadata endpoint                                                                       */

typedef struct md_srv {
    rapi_server srv;
    char env_api[96];
} md_srv;

static int md_open(md_srv *m)
{
    if (rapi_server_open(&m->srv) != RAPI_OK) return 0;
    snprintf(m->env_api, sizeof m->env_api, "AWS_LAMBDA_METADATA_API=127.0.0.1:%u", (unsigned)m->srv.port);
    return 1;
}

/* serve one metadata request with status and body; checks the request */
static int md_serve(md_srv *m, int status, const char *body)
{
    rapi_request req;
    rapi_response r;
    int rc = rapi_server_read_request(&m->srv, &req, WAIT_MS);
    LT_CHECK(rc == RAPI_OK);
    if (rc != RAPI_OK) return 0;
    LT_CHECK(streq(req.method, "GET") && streq(req.target, P_METADATA));
    LT_CHECK(streq(rapi_request_header(&req, "Authorization"), "Bearer tok-123"));
    rapi_request_free(&req);
    rapi_response_init(&r, status);
    r.headers = "Content-Type: application/json\r\n";
    r.body = body;
    r.body_len = strlen(body);
    LT_CHECK(rapi_server_send(&m->srv, &r, WAIT_MS) == RAPI_OK);
    return 1;
}

static void test_metadata(void)
{
    md_srv md;
    scn s;
    rapi_request extra;
    const char *env[4];
    if (!md_open(&md)) {
        LT_CHECK(!"metadata server");
        return;
    }
    env[0] = md.env_api;
    env[1] = "AWS_LAMBDA_METADATA_TOKEN=tok-123";
    env[2] = NULL;
    /* fetched once, cached: two calls, two invocations, one request */
    if (scn_start(&s, obs_path, env)) {
        if (scn_event(&s, "az") && md_serve(&md, 200, "{\"AvailabilityZoneID\":\"use1-az2\",\"Other\":1}") &&
            scn_result(&s, "response"))
            LT_CHECK(mem_eq(s.req.body, s.req.body_len, "use1-az2|use1-az2", 17));
        scn_ok(&s, "az", "use1-az2|use1-az2");
        LT_CHECK(rapi_server_read_request(&md.srv, &extra, 100) == RAPI_ETIMEOUT);
        scn_finish(&s);
        LT_CHECK(count_lines_in(s.err, s.err_len, NULL) == 0);
        scn_free(&s);
    }
    rapi_server_close_conn(&md.srv);
    /* a refusal: empty, one warning, not retried */
    if (scn_start(&s, obs_path, env)) {
        if (scn_event(&s, "az") && md_serve(&md, 401, "{\"message\":\"bad token\"}") && scn_result(&s, "response"))
            LT_CHECK(mem_eq(s.req.body, s.req.body_len, "|", 1));
        scn_ok(&s, "az", "|");
        scn_finish(&s);
        LT_CHECK(count_lines_in(s.err, s.err_len, "metadata endpoint: HTTP 401") == 1);
        scn_free(&s);
    }
    rapi_server_close_conn(&md.srv);
    /* an answer without the field */
    if (scn_start(&s, obs_path, env)) {
        if (scn_event(&s, "az") && md_serve(&md, 200, "{\"AvailabilityZone\":\"x\"}") && scn_result(&s, "response"))
            LT_CHECK(mem_eq(s.req.body, s.req.body_len, "|", 1));
        scn_finish(&s);
        LT_CHECK(count_lines_in(s.err, s.err_len, "no usable AvailabilityZoneID") == 1);
        scn_free(&s);
    }
    rapi_server_close_conn(&md.srv);
    /* an endpoint that never answers: bounded (1 s), empty, the invocation goes on */
    if (scn_start(&s, obs_path, env)) {
        long long t0 = now_ms();
        scn_ok(&s, "az", "|");
        LT_CHECK(now_ms() - t0 >= 900 && now_ms() - t0 < 2900);
        scn_finish(&s);
        LT_CHECK(count_lines_in(s.err, s.err_len, "metadata endpoint: recv") == 1);
        scn_free(&s);
    }
    rapi_server_close(&md.srv);
    /* not on Lambda: no variables, empty, silent */
    if (scn_start(&s, obs_path, NULL)) {
        scn_ok(&s, "az", "|");
        scn_finish(&s);
        LT_CHECK(s.err_len == 0);
        scn_free(&s);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* examples/metrics against the fake Runtime API                                               */

static void test_metrics_example(void)
{
    static const char *const env[] = {"AWS_LAMBDA_LOG_FORMAT=JSON", NULL};
    scn s;
    emf_doc *d = NULL;
    const char *l;
    size_t ll;
    lambda_json root;
    if (!scn_start(&s, metrics_path, env)) return;
    scn_ok(&s, "{\"a\":1}", "{\"payloadBytes\":7,\"availabilityZoneId\":\"\"}");
    if (scn_event(&s, "not json") && scn_result(&s, "error")) {
        LT_CHECK(streq(rapi_request_header(&s.req, "Lambda-Runtime-Function-Error-Type"), "InvalidEvent"));
        LT_CHECK(rapi_request_header(&s.req, "Lambda-Runtime-Function-XRay-Error-Cause") != NULL);
    }
    scn_finish(&s);
    LT_CHECK(emf_docs(s.out, s.out_len, &d) == 2);
    if (d) {
        const emf_metric *m = emf_find(&d[0], "Invocations");
        LT_CHECK(streq(d[0].ns, "LambdaRuntimeH") && streq(emf_dim(&d[0], "FunctionName"), "obs-fn"));
        LT_CHECK(m && streq(m->unit, "Count") && m->vals[0] == 1);
        m = emf_find(&d[0], "PayloadBytes");
        LT_CHECK(m && streq(m->unit, "Bytes") && m->vals[0] == 7);
        m = emf_find(&d[1], "PayloadBytes");
        LT_CHECK(m && m->vals[0] == 8);
        LT_CHECK(emf_find(&d[1], "InvalidEvents") != NULL && emf_find(&d[0], "InvalidEvents") == NULL);
    }
    l = find_line(&s, "event received", &ll);
    LT_CHECK(l && lambda_json_validate(S(l, ll), &root, NULL) == 0);
    if (l) LT_CHECK(member_is(root, "payloadBytes", "7") && member_is(root, "availabilityZoneId", "\"\""));
    free(d);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* the Telemetry API client (examples/telemetry) against the fake Extensions/Telemetry API     */

/* A blocking client connection to 127.0.0.1:port (send and receive bounded by 2 s). */
static int tcp_connect(unsigned port)
{
    struct sockaddr_in a;
    struct timeval tv;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends raw bytes on fd and reads one answer head (and a Content-Length: 0 body); returns its
   status, or -1. *closed: the server closed the connection after it. */
static int http_roundtrip(int fd, const char *req, size_t len, int *closed)
{
    char buf[4096];
    size_t got = 0;
    *closed = 0;
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) return -1;
    while (got < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        buf[got] = 0;
        if (strstr(buf, "\r\n\r\n")) break;
    }
    buf[got] = 0;
    if (got < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0) return -1;
    if (strstr(buf, "Connection: close")) {
        char b;
        *closed = recv(fd, &b, 1, 0) == 0;
    }
    return atoi(buf + 9);
}

/* POST body to the listener on fd. */
static int post_batch(int fd, const char *body, int *closed)
{
    char req[16384];
    int n = snprintf(req, sizeof req,
                     "POST / HTTP/1.1\r\nHost: sandbox.localdomain\r\nContent-Type: application/json\r\n"
                     "Content-Length: %lu\r\n\r\n%s",
                     (unsigned long)strlen(body), body);
    return http_roundtrip(fd, req, (size_t)n, closed);
}

/* The extension's register and telemetry subscription, answered; returns the listener's port
   (0 on failure). status: what the PUT gets. */
static unsigned tel_client_start(scn *s, int status)
{
    rapi_request req;
    rapi_response r;
    lambda_json root, v;
    lambda_str body;
    char uri[128];
    unsigned port = 0;
    if (!read_from_child(&s->srv, &req, WAIT_MS, "register", s->pid, &s->reaped, &s->status)) return 0;
    LT_CHECK(streq(req.method, "POST") && streq(req.target, "/2020-01-01/extension/register"));
    LT_CHECK(streq(rapi_request_header(&req, "Lambda-Extension-Name"), "bootstrap"));
    LT_CHECK(mem_eq(req.body, req.body_len, "{\"events\":[\"SHUTDOWN\"]}", 23));
    rapi_request_free(&req);
    rapi_response_init(&r, 200);
    r.headers = "Lambda-Extension-Identifier: ext-1\r\nContent-Type: application/json\r\n";
    r.body = "{\"functionName\":\"f\",\"functionVersion\":\"$LATEST\",\"handler\":\"h\"}";
    r.body_len = strlen((const char *)r.body);
    LT_CHECK(rapi_server_send(&s->srv, &r, WAIT_MS) == RAPI_OK);
    if (!read_from_child(&s->srv, &req, WAIT_MS, "telemetry subscribe", s->pid, &s->reaped, &s->status)) return 0;
    LT_CHECK(streq(req.method, "PUT") && streq(req.target, "/2022-07-01/telemetry"));
    LT_CHECK(streq(rapi_request_header(&req, "Lambda-Extension-Identifier"), "ext-1"));
    LT_CHECK(streq(rapi_request_header(&req, "Content-Type"), "application/json"));
    body = S(req.body, req.body_len);
    if (lambda_json_validate(body, &root, NULL) == 0) {
        char buf[64];
        LT_CHECK(streq(jget(root, "schemaVersion", buf, sizeof buf), "2022-12-13"));
        LT_CHECK(lambda_json_find(root, "types", &v) == 0 && mem_eq(v.ptr, v.len, "[\"platform\",\"function\"]", 23));
        LT_CHECK(lambda_json_find(root, "buffering", &v) == 0 &&
                 mem_eq(v.ptr, v.len, "{\"maxItems\":1000,\"maxBytes\":262144,\"timeoutMs\":100}", 51));
        LT_CHECK(streq(jget(root, "destination.protocol", buf, sizeof buf), "HTTP"));
        jget(root, "destination.URI", uri, sizeof uri);
        LT_CHECK(strncmp(uri, "http://sandbox.localdomain:", 27) == 0 && uri[strlen(uri) - 1] == '/');
        port = (unsigned)atoi(uri + 27);
        LT_CHECK(port > 0 && port < 65536);
    } else {
        LT_CHECK(!"the subscription is JSON");
    }
    rapi_request_free(&req);
    rapi_response_init(&r, status);
    r.headers = "Content-Type: text/plain\r\n";
    r.body = status == 200 ? "OK" : "{\"errorMessage\":\"Telemetry API is not supported\",\"errorType\":\"Telemetry.NotSupported\"}";
    r.body_len = strlen((const char *)r.body);
    LT_CHECK(rapi_server_send(&s->srv, &r, WAIT_MS) == RAPI_OK);
    return status == 200 ? port : 0;
}

static void test_telemetry_client(void)
{
    static const char b1[] =
        "[{\"time\":\"2026-12-01T10:00:00.000Z\",\"type\":\"platform.initStart\",\"record\":{\"initializationType\":"
        "\"on-demand\",\"phase\":\"init\"}},"
        "{\"time\":\"2026-12-01T10:00:00.100Z\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"r1\","
        "\"status\":\"success\",\"metrics\":{\"durationMs\":12.5,\"billedDurationMs\":13,\"memorySizeMB\":128,"
        "\"maxMemoryUsedMB\":20}}},"
        "{\"time\":\"2026-12-01T10:00:00.050Z\",\"type\":\"function\",\"record\":\"hello \\\"world\\\"\"},"
        "{\"time\":\"2026-12-01T10:00:00.060Z\",\"type\":\"function\",\"record\":{\"message\":\"json\"}}]";
    static const char b2[] = "[{\"time\":\"2026-12-01T10:00:01.000Z\",\"type\":\"platform.report\",\"record\":"
                             "{\"requestId\":\"r2\",\"status\":\"error\",\"metrics\":{\"durationMs\":40}}}]";
    static const char chunked[] = "POST / HTTP/1.1\r\nHost: sandbox.localdomain\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\n[{\"ti\r\n"
                                  "4a\r\nme\":\"2026-12-01T10:00:02.000Z\",\"type\":\"function\",\"record\":\"chunked line\"}]\r\n"
                                  "0\r\n\r\n";
    scn s;
    unsigned port;
    int fd, closed = 0;
    rapi_request nx;
    if (!scn_start(&s, telemetry_path, NULL)) return;
    port = tel_client_start(&s, 200);
    if (!port || !read_from_child(&s.srv, &nx, WAIT_MS, "event/next", s.pid, &s.reaped, &s.status)) {
        LT_CHECK(!"subscribed and waiting for an event");
        scn_finish(&s);
        scn_free(&s);
        return;
    }
    LT_CHECK(streq(nx.target, "/2020-01-01/extension/event/next"));
    rapi_request_free(&nx);
    /* batches while the extension waits in lambda_extension_next */
    fd = tcp_connect(port);
    LT_CHECK(fd >= 0);
    LT_CHECK(post_batch(fd, b1, &closed) == 200 && !closed);
    LT_CHECK(post_batch(fd, b2, &closed) == 200 && !closed); /* keep-alive */
    LT_CHECK(http_roundtrip(fd, chunked, sizeof chunked - 1, &closed) == 200);
    LT_CHECK(http_roundtrip(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, &closed) == 405);
    LT_CHECK(post_batch(fd, "{\"not\":\"an array\"}", &closed) == 400 && closed);
    if (fd >= 0) close(fd);
    { /* a client that stalls in the middle of a head is dropped (after 2 s), and the others
         are served */
        int st = tcp_connect(port), fd2;
        struct timeval tv;
        char b;
        LT_CHECK(st >= 0 && send(st, "POST / HTTP/1.1\r\nContent-Le", 27, MSG_NOSIGNAL) == 27);
        fd2 = tcp_connect(port);
        tv.tv_sec = 10;
        tv.tv_usec = 0;
        if (fd2 >= 0) setsockopt(fd2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (st >= 0) setsockopt(st, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        LT_CHECK(post_batch(fd2, "[]", &closed) == 200 && !closed);
        LT_CHECK(st >= 0 && recv(st, &b, 1, 0) == 0); /* closed without an answer */
        if (st >= 0) close(st);
        if (fd2 >= 0) close(fd2);
    }
    fd = tcp_connect(port); /* a second connection: still served */
    LT_CHECK(post_batch(fd, "[]", &closed) == 200);
    if (fd >= 0) close(fd);
    { /* SHUTDOWN: the summary line, then exit 0 */
        rapi_response r;
        char ev[256];
        rapi_response_init(&r, 200);
        snprintf(ev, sizeof ev, "{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":\"spindown\",\"deadlineMs\":%lld}",
                 wall_ms() + 2000);
        r.headers = "Lambda-Extension-Event-Identifier: e1\r\nContent-Type: application/json\r\n";
        r.body = ev;
        r.body_len = strlen(ev);
        LT_CHECK(rapi_server_send(&s.srv, &r, WAIT_MS) == RAPI_OK);
    }
    LT_CHECK(wait_child(s.pid, &s.reaped, &s.status, WAIT_MS) && child_exited_with(s.reaped, s.status, 0));
    kill_child(s.pid, &s.reaped, &s.status, WAIT_MS);
    s.out = take_file(s.outpath, &s.out_len, 1);
    s.err = take_file(s.errpath, &s.err_len, 1);
    rapi_server_close(&s.srv);
    {
        static const char want[] = "{\"extension\":\"bootstrap\",\"invocations\":2,\"function_log_lines\":3,"
                                   "\"max_duration_ms\":40,\"events\":6,\"shutdownReason\":\"spindown\"}\n";
        LT_CHECK(mem_is(s.out, s.out_len, want, sizeof want - 1, "summary"));
    }
    LT_CHECK(count_lines_in(s.err, s.err_len, "telemetry listener: a malformed batch; answered 400") == 1);
    scn_free(&s);
}

/* an emulator without the API (the RIE answers 202): the extension reports an init error */
static void test_telemetry_client_unsupported(void)
{
    scn s;
    rapi_request req;
    if (!scn_start(&s, telemetry_path, NULL)) return;
    LT_CHECK(tel_client_start(&s, 202) == 0);
    if (read_from_child(&s.srv, &req, WAIT_MS, "init/error", s.pid, &s.reaped, &s.status)) {
        rapi_response r;
        LT_CHECK(streq(req.target, "/2020-01-01/extension/init/error"));
        LT_CHECK(streq(rapi_request_header(&req, "Lambda-Extension-Function-Error-Type"), "Extension.TelemetryUnavailable"));
        rapi_request_free(&req);
        rapi_response_init(&r, 202);
        LT_CHECK(rapi_server_send(&s.srv, &r, WAIT_MS) == RAPI_OK);
    }
    LT_CHECK(wait_child(s.pid, &s.reaped, &s.status, WAIT_MS) && child_exited_with(s.reaped, s.status, 1));
    kill_child(s.pid, &s.reaped, &s.status, WAIT_MS);
    s.out = take_file(s.outpath, &s.out_len, 1);
    s.err = take_file(s.errpath, &s.err_len, 1);
    rapi_server_close(&s.srv);
    LT_CHECK(count_lines_in(s.err, s.err_len, "telemetry subscribe: HTTP 202") == 1);
    scn_free(&s);
}

/* ------------------------------------------------------------------------------------------ */
/* the emulator: the metadata endpoint and the Telemetry API                                   */

typedef struct emu_run {
    char *out, *err;
    size_t out_len, err_len;
    int status, reaped;
    pid_t pid;
    char outpath[64], errpath[64];
} emu_run;

/* Starts lambda-emu with argv (NULL-terminated, without the program), its output in files. */
static int emu_start(emu_run *r, const char *const *args)
{
    const char *argv[64], *envp[4] = {"ASAN_OPTIONS=exitcode=86", "UBSAN_OPTIONS=print_stacktrace=1", "PATH=/usr/bin:/bin",
                                      NULL};
    int n = 0, ofd, efd;
    memset(r, 0, sizeof *r);
    argv[n++] = emu_path;
    while (*args && n < 62) argv[n++] = *args++;
    argv[n] = NULL;
    strcpy(r->outpath, "/tmp/test_obs_eout_XXXXXX");
    strcpy(r->errpath, "/tmp/test_obs_eerr_XXXXXX");
    ofd = mkstemp(r->outpath);
    efd = mkstemp(r->errpath);
    r->pid = spawn_child(emu_path, argv, envp, ofd, efd, 0);
    close(ofd);
    close(efd);
    return r->pid > 0;
}

static void emu_end(emu_run *r, int timeout_ms)
{
    if (!wait_child(r->pid, &r->reaped, &r->status, timeout_ms)) {
        LT_CHECK(!"lambda-emu exits");
        kill_child(r->pid, &r->reaped, &r->status, WAIT_MS);
    }
    r->out = take_file(r->outpath, &r->out_len, 1);
    r->err = take_file(r->errpath, &r->err_len, 1);
}

static void emu_free(emu_run *r)
{
    free(r->out);
    free(r->err);
}

static void test_emu_metadata(void)
{
    emu_run r;
    const char *a1[] = {"-q", "--az", "euw1-az3", "-e", "az", "-e", "az", "--", obs_path, "runtime", NULL};
    const char *a2[] = {"-q", "--env", "AWS_LAMBDA_METADATA_TOKEN=wrong", "-e", "az", "--", obs_path, "runtime", NULL};
    const char *a3[] = {"-q", "-e", "{}", "--", metrics_path, NULL};
    if (emu_start(&r, a1)) {
        emu_end(&r, 10000);
        LT_CHECK(child_exited_with(r.reaped, r.status, 0));
        LT_CHECK(mem_is(r.out, r.out_len, "euw1-az3|euw1-az3\neuw1-az3|euw1-az3\n", 36, "stdout"));
        emu_free(&r);
    }
    if (emu_start(&r, a2)) { /* a wrong token: 401, the runtime logs it, the AZ ID is empty */
        emu_end(&r, 10000);
        LT_CHECK(mem_is(r.out, r.out_len, "|\n", 2, "stdout"));
        LT_CHECK(count_lines_in(r.err, r.err_len, "metadata endpoint: a wrong bearer token; answered 401") == 1);
        LT_CHECK(count_lines_in(r.err, r.err_len, "metadata endpoint: HTTP 401") == 1);
        emu_free(&r);
    }
    if (emu_start(&r, a3)) { /* examples/metrics: the default AZ ID */
        emu_end(&r, 10000);
        LT_CHECK(mem_is(r.out, r.out_len, "{\"payloadBytes\":2,\"availabilityZoneId\":\"use1-az1\"}\n", 51, "stdout"));
        emu_free(&r);
    }
}

/* one telemetry event, taken apart */
typedef struct tev {
    char type[64], rid[64], status[32];
    char *record;                  /* the raw record */
    int batch;                     /* which POST carried it */
} tev;

typedef struct tel_run {
    tev *ev;
    int n, batches, bad_batch, max_items_seen;
    size_t max_body;
} tel_run;

/* Serves the test's telemetry listener until lambda-emu exits: every batch checked (POST
   /relay, a JSON array of {time, type, record}) and its events kept in order. */
static void tel_collect(rapi_server *lsn, emu_run *r, tel_run *t)
{
    long long deadline = now_ms() + 20000;
    memset(t, 0, sizeof *t);
    while (now_ms() < deadline) {
        rapi_request req;
        int rc = rapi_server_read_request(lsn, &req, 50);
        if (rc == RAPI_OK) {
            lambda_json arr, item, v;
            lambda_json_iter it;
            rapi_response a;
            int k = 0;
            if (!streq(req.method, "POST") || !streq(req.target, "/relay") ||
                !streq(rapi_request_header(&req, "Content-Type"), "application/json") ||
                lambda_json_validate(S(req.body, req.body_len), &arr, NULL) != 0 || arr.type != LAMBDA_JSON_ARRAY) {
                show("bad batch", req.raw, req.raw_len);
                t->bad_batch = 1;
            } else {
                t->batches++;
                if (req.body_len > t->max_body) t->max_body = req.body_len;
                lambda_json_iter_init(&it, arr);
                while (lambda_json_next(&it, NULL, &item) == 1) {
                    tev *e;
                    char when[64];
                    k++;
                    t->ev = (tev *)realloc(t->ev, sizeof *t->ev * (size_t)(t->n + 1));
                    e = &t->ev[t->n++];
                    memset(e, 0, sizeof *e);
                    e->batch = t->batches;
                    jget(item, "type", e->type, sizeof e->type);
                    jget(item, "time", when, sizeof when);
                    if (strlen(when) != 24 || when[10] != 'T' || when[23] != 'Z') t->bad_batch = 1;
                    if (lambda_json_find(item, "record", &v) == 0) {
                        e->record = (char *)malloc(v.len + 1);
                        memcpy(e->record, v.ptr, v.len);
                        e->record[v.len] = 0;
                        jget(v, "requestId", e->rid, sizeof e->rid);
                        jget(v, "status", e->status, sizeof e->status);
                    } else {
                        t->bad_batch = 1;
                    }
                }
                if (k > t->max_items_seen) t->max_items_seen = k;
            }
            rapi_request_free(&req);
            rapi_response_init(&a, 200);
            (void)rapi_server_send(lsn, &a, WAIT_MS);
            continue;
        }
        if (wait_child(r->pid, &r->reaped, &r->status, 0)) break;
    }
}

static void tel_free_run(tel_run *t)
{
    int i;
    for (i = 0; i < t->n; i++) free(t->ev[i].record);
    free(t->ev);
}

static int tel_index(const tel_run *t, const char *type, const char *rid, int from)
{
    int i;
    for (i = from; i < t->n; i++)
        if (streq(t->ev[i].type, type) && (!rid || streq(t->ev[i].rid, rid))) return i;
    return -1;
}

static int tel_count(const tel_run *t, const char *type)
{
    int i, c = 0;
    for (i = 0; i < t->n; i++) c += streq(t->ev[i].type, type);
    return c;
}

/* a number member of a record, or -1 */
static double rec_num(const char *record, const char *path)
{
    lambda_json v;
    double d;
    if (lambda_json_get(S(record, strlen(record)), path, &v) != 0 || lambda_json_double(v, &d) != 0) return -1;
    return d;
}

/* The relay extension (obs/bootstrap in extension mode) subscribes the test's own listener;
   the emulator runs obs/bootstrap as the runtime: batches, types, order, records, metrics. */
static void test_emu_telemetry(void)
{
    rapi_server lsn;
    emu_run r;
    tel_run t;
    char body[512], envbody[600];
    const char *args[32];
    int n = 0, i, j, inv;
    static const char *const events[] = {"lines:2:5", "fail:Test.X:bad", "sleep:300", "lines:1:3", NULL};
    char rids[4][64];
    if (rapi_server_open(&lsn) != RAPI_OK) {
        LT_CHECK(!"listener");
        return;
    }
    snprintf(body, sizeof body,
             "{\"schemaVersion\":\"2022-12-13\",\"types\":[\"platform\",\"function\"],\"buffering\":{\"maxItems\":1000,"
             "\"maxBytes\":262144,\"timeoutMs\":25},\"destination\":{\"protocol\":\"HTTP\",\"URI\":"
             "\"http://sandbox.localdomain:%u/relay\"}}",
             (unsigned)lsn.port);
    snprintf(envbody, sizeof envbody, "OBS_TEL_BODY=%s", body);
    args[n++] = "-q";
    args[n++] = "--env";
    args[n++] = "OBS_EXT=relay";
    args[n++] = "--env";
    args[n++] = envbody;
    args[n++] = "--env";
    args[n++] = "OBS_TEL_BAD={\"schemaVersion\":\"2022-12-13\",\"types\":[\"nope\"],\"destination\":{\"protocol\":"
                "\"HTTP\",\"URI\":\"http://sandbox.localdomain:1/\"}}";
    args[n++] = "--extension";
    args[n++] = obs_path;
    for (i = 0; events[i]; i++) {
        args[n++] = "-e";
        args[n++] = events[i];
    }
    args[n++] = "--";
    args[n++] = obs_path;
    args[n++] = "runtime";
    args[n] = NULL;
    if (!emu_start(&r, args)) {
        rapi_server_close(&lsn);
        return;
    }
    tel_collect(&lsn, &r, &t);
    emu_end(&r, WAIT_MS);
    rapi_server_close(&lsn);
    LT_CHECK(child_exited_with(r.reaped, r.status, 0));
    LT_CHECK(count_lines_in(r.err, r.err_len, "subscribe status=400") == 1); /* the bad subscription first */
    LT_CHECK(count_lines_in(r.err, r.err_len, "subscribe status=200") == 1);
    LT_CHECK(count_lines_in(r.err, r.err_len, "types: nope is not platform, function or extension") == 1);
    LT_CHECK(!t.bad_batch && t.batches >= 2);
    /* only the subscribed types */
    for (i = 0; i < t.n; i++) LT_CHECK(strncmp(t.ev[i].type, "platform.", 9) == 0 || streq(t.ev[i].type, "function"));
    /* init: initStart first, then the subscription, the extension, initRuntimeDone, initReport */
    LT_CHECK(t.n > 0 && streq(t.ev[0].type, "platform.initStart"));
    i = tel_index(&t, "platform.telemetrySubscription", NULL, 0);
    LT_CHECK(i > 0 && strstr(t.ev[i].record, "\"name\":\"bootstrap\",\"state\":\"Subscribed\",\"types\":[\"platform\",\"function\"]"));
    j = tel_index(&t, "platform.extension", NULL, 0);
    LT_CHECK(j > i && streq(t.ev[j].record, "{\"name\":\"bootstrap\",\"state\":\"Ready\",\"events\":[\"SHUTDOWN\"]}"));
    i = tel_index(&t, "platform.initRuntimeDone", NULL, 0);
    LT_CHECK(i > j && streq(t.ev[i].status, "success"));
    j = tel_index(&t, "platform.initReport", NULL, 0);
    LT_CHECK(j > i && rec_num(t.ev[j].record, "metrics.durationMs") > 0);
    LT_CHECK(tel_count(&t, "platform.start") == 4 && tel_count(&t, "platform.runtimeDone") == 4 &&
             tel_count(&t, "platform.report") == 4);
    /* each invocation: start, its lines, runtimeDone, report, in that order */
    for (inv = 0, i = j; inv < 4; inv++) {
        int st = tel_index(&t, "platform.start", NULL, i), done, rep, k, lines = 0;
        if (st < 0) break;
        snprintf(rids[inv], sizeof rids[inv], "%s", t.ev[st].rid);
        done = tel_index(&t, "platform.runtimeDone", rids[inv], st);
        rep = tel_index(&t, "platform.report", rids[inv], st);
        LT_CHECK(done > st && rep > done);
        LT_CHECK(tel_index(&t, "platform.start", NULL, st + 1) > rep || inv == 3);
        for (k = st + 1; k < done; k++) lines += streq(t.ev[k].type, "function");
        LT_CHECK(lines == (inv == 0 ? 3 : inv == 3 ? 2 : 0));
        LT_CHECK(rec_num(t.ev[rep].record, "metrics.durationMs") >= 0 &&
                 rec_num(t.ev[rep].record, "metrics.billedDurationMs") >= 1 &&
                 rec_num(t.ev[rep].record, "metrics.memorySizeMB") == 128 &&
                 rec_num(t.ev[rep].record, "metrics.maxMemoryUsedMB") >= 0);
        LT_CHECK((rec_num(t.ev[rep].record, "metrics.initDurationMs") > 0) == (inv == 0));
        LT_CHECK(strstr(t.ev[st].record, "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"Root=1-") != NULL);
        if (inv == 1) {
            LT_CHECK(streq(t.ev[done].status, "error") && strstr(t.ev[done].record, "\"errorType\":\"Test.X\""));
            LT_CHECK(streq(t.ev[rep].status, "error"));
        } else {
            LT_CHECK(streq(t.ev[done].status, "success") && streq(t.ev[rep].status, "success"));
            LT_CHECK(rec_num(t.ev[done].record, "metrics.producedBytes") == 2); /* "ok" */
        }
        LT_CHECK(strstr(t.ev[done].record, "\"spans\":[{\"name\":\"responseLatency\"") != NULL);
        if (inv == 2) /* timeoutMs 25: the start of a 300 ms invocation arrives before its end */
            LT_CHECK(t.ev[st].batch < t.ev[done].batch);
        if (inv == 0) {
            LT_CHECK(streq(t.ev[st + 1].record, "\"abcde\"") && streq(t.ev[st + 2].record, "\"bcdef\""));
            LT_CHECK(tel_index(&t, "function", NULL, st) < done && strstr(r.err, "err line") != NULL);
        }
        i = rep;
    }
    LT_CHECK(inv == 4);
    /* the output still reaches stderr, as before */
    LT_CHECK(count_lines_in(r.err, r.err_len, "abcde") == 1 && count_lines_in(r.err, r.err_len, "err line") == 2);
    tel_free_run(&t);
    emu_free(&r);
}

/* maxItems and maxBytes are kept: 2500 short lines, then 600 lines of 1000 bytes; JSON log
   format: a JSON line becomes an object record */
static void test_emu_telemetry_limits(void)
{
    rapi_server lsn;
    emu_run r;
    tel_run t;
    char body[512], envbody[600];
    int i, fn = 0, obj = 0;
    const char *args[24];
    if (rapi_server_open(&lsn) != RAPI_OK) return;
    snprintf(body, sizeof body,
             "{\"schemaVersion\":\"2025-01-29\",\"types\":[\"function\"],\"buffering\":{\"maxItems\":1000,"
             "\"maxBytes\":262144,\"timeoutMs\":25},\"destination\":{\"protocol\":\"HTTP\",\"URI\":"
             "\"http://sandbox.localdomain:%u/relay\"}}",
             (unsigned)lsn.port);
    snprintf(envbody, sizeof envbody, "OBS_TEL_BODY=%s", body);
    i = 0;
    args[i++] = "-q";
    args[i++] = "--env";
    args[i++] = "OBS_EXT=relay";
    args[i++] = "--env";
    args[i++] = envbody;
    args[i++] = "--env";
    args[i++] = "AWS_LAMBDA_LOG_FORMAT=JSON";
    args[i++] = "--extension";
    args[i++] = obs_path;
    args[i++] = "-e";
    args[i++] = "lines:2500:10";
    args[i++] = "-e";
    args[i++] = "lines:600:1000";
    args[i++] = "-e";
    args[i++] = "log:fields:1";
    args[i++] = "--";
    args[i++] = obs_path;
    args[i++] = "runtime";
    args[i] = NULL;
    if (!emu_start(&r, args)) {
        rapi_server_close(&lsn);
        return;
    }
    tel_collect(&lsn, &r, &t);
    emu_end(&r, WAIT_MS);
    rapi_server_close(&lsn);
    LT_CHECK(child_exited_with(r.reaped, r.status, 0));
    LT_CHECK(!t.bad_batch);
    LT_CHECK(t.max_items_seen == 1000); /* both limits reached, neither passed */
    LT_CHECK(t.max_body <= 262144 && t.max_body > 200000);
    if (t.batches < 4) printf("    %d batches, %d events, largest %d events / %lu bytes\n", t.batches, t.n,
                              t.max_items_seen, (unsigned long)t.max_body);
    LT_CHECK(t.batches >= 4); /* about 820 KB in 3103 events */
    for (i = 0; i < t.n; i++) {
        LT_CHECK(streq(t.ev[i].type, "function"));
        fn++;
        if (t.ev[i].record[0] == '{') {
            obj++;
            LT_CHECK(strstr(t.ev[i].record, "\"message\":\"fields\",\"bucket\":\"my-bucket\"") != NULL);
        }
    }
    LT_CHECK(fn == 2500 + 1 + 600 + 1 + 1); /* and an "err line" after each lines: command */
    LT_CHECK(obj == 1);
    tel_free_run(&t);
    emu_free(&r);
}

/* "extension" records: the extensions' own lines (here the relay's "subscribe status=" line),
   and nothing of the function's */
static void test_emu_telemetry_extension(void)
{
    rapi_server lsn;
    emu_run r;
    tel_run t;
    char body[512], envbody[600];
    int i, seen = 0;
    const char *args[16];
    if (rapi_server_open(&lsn) != RAPI_OK) return;
    snprintf(body, sizeof body,
             "{\"schemaVersion\":\"2022-07-01\",\"types\":[\"extension\"],\"destination\":{\"protocol\":\"HTTP\","
             "\"URI\":\"http://sandbox.localdomain:%u/relay\"}}",
             (unsigned)lsn.port);
    snprintf(envbody, sizeof envbody, "OBS_TEL_BODY=%s", body);
    i = 0;
    args[i++] = "-q";
    args[i++] = "--env";
    args[i++] = "OBS_EXT=relay";
    args[i++] = "--env";
    args[i++] = envbody;
    args[i++] = "--extension";
    args[i++] = obs_path;
    args[i++] = "-e";
    args[i++] = "lines:3:4";
    args[i++] = "--";
    args[i++] = obs_path;
    args[i++] = "runtime";
    args[i] = NULL;
    if (!emu_start(&r, args)) {
        rapi_server_close(&lsn);
        return;
    }
    tel_collect(&lsn, &r, &t);
    emu_end(&r, WAIT_MS);
    rapi_server_close(&lsn);
    LT_CHECK(child_exited_with(r.reaped, r.status, 0));
    LT_CHECK(!t.bad_batch && t.n >= 1);
    for (i = 0; i < t.n; i++) {
        LT_CHECK(streq(t.ev[i].type, "extension"));
        seen += streq(t.ev[i].record, "\"subscribe status=200\"");
    }
    LT_CHECK(seen == 1);
    LT_CHECK(count_lines_in(r.err, r.err_len, "subscribe status=200") == 1); /* still on stderr */
    tel_free_run(&t);
    emu_free(&r);
}

/* examples/telemetry with examples/metrics under the emulator: the summary at SHUTDOWN */
static void test_emu_telemetry_example(void)
{
    emu_run r;
    const char *args[] = {"-q", "--extension", telemetry_path, "-e", "{\"a\":1}", "-e", "bad", "-e", "{\"b\":2}", "--",
                          metrics_path, NULL};
    const char *l;
    size_t ll;
    lambda_json root, v;
    int64_t x;
    double d;
    if (!emu_start(&r, args)) return;
    emu_end(&r, 10000);
    LT_CHECK(child_exited_with(r.reaped, r.status, 0));
    {
        scn tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.err = r.err;
        tmp.err_len = r.err_len;
        l = find_line(&tmp, "{\"extension\":\"bootstrap\"", &ll);
    }
    LT_CHECK(l && lambda_json_validate(S(l, ll), &root, NULL) == 0);
    if (l) {
        LT_CHECK(lambda_json_find(root, "invocations", &v) == 0 && lambda_json_int64(v, &x) == 0 && x == 3);
        LT_CHECK(lambda_json_find(root, "function_log_lines", &v) == 0 && lambda_json_int64(v, &x) == 0 && x == 6);
        LT_CHECK(lambda_json_find(root, "max_duration_ms", &v) == 0 && lambda_json_double(v, &d) == 0 && d > 0);
        LT_CHECK(lambda_json_find(root, "events", &v) == 0 && lambda_json_int64(v, &x) == 0 && x >= 3 * 5 + 4);
        LT_CHECK(member_is(root, "shutdownReason", "\"spindown\""));
    }
    emu_free(&r);
}

int main(int argc, char **argv)
{
    const char *dir;
    int a = 1;
    if (a + 1 < argc && strcmp(argv[a], "--emu") == 0) {
        emu_path = argv[a + 1];
        a += 2;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: %s [--emu <lambda-emu>] <dir>\n", argv[0]);
        return 2;
    }
    dir = argv[a];
    snprintf(obs_path, sizeof obs_path, "%s/obs/bootstrap", dir);
    snprintf(metrics_path, sizeof metrics_path, "%s/metrics/bootstrap", dir);
    snprintf(telemetry_path, sizeof telemetry_path, "%s/telemetry/bootstrap", dir);
    signal(SIGPIPE, SIG_IGN);
    LT_RUN(test_emf_basic);
    LT_RUN(test_emf_split_metrics);
    LT_RUN(test_emf_split_values);
    LT_RUN(test_emf_limits);
    LT_RUN(test_emf_validation);
    LT_RUN(test_emf_flush_and_reset);
    LT_RUN(test_emf_order_stream_error);
    LT_RUN(test_log_fields_json);
    LT_RUN(test_log_fields_text);
    LT_RUN(test_log_fields_limits);
    LT_RUN(test_xray_cause);
    LT_RUN(test_metadata);
    LT_RUN(test_metrics_example);
    LT_RUN(test_telemetry_client);
    LT_RUN(test_telemetry_client_unsupported);
    if (emu_path) {
        LT_RUN(test_emu_metadata);
        LT_RUN(test_emu_telemetry);
        LT_RUN(test_emu_telemetry_limits);
        LT_RUN(test_emu_telemetry_extension);
        LT_RUN(test_emu_telemetry_example);
    }
    return LT_REPORT();
}
