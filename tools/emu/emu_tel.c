/* emu_tel.c - lambda-emu: the Telemetry API (2022-07-01) and the Lambda metadata endpoint.
     - the output of the runtime and of every --extension, read from a pipe each: copied to our
       stderr as it arrives (as before), and cut into lines that become "function" and
       "extension" records;
     - the platform events (platform.initStart, .telemetrySubscription, .extension,
       .initRuntimeDone, .initReport, .start, .runtimeDone, .report), kept with those records
       in one log per execution environment;
     - PUT /2022-07-01/telemetry: a subscription per extension (types, buffering, an HTTP
       destination on sandbox.localdomain, which is our loopback);
     - delivery: each subscriber gets the events of its types from the start of the
       environment, in order, POSTed as JSON arrays in batches of at most maxItems events and
       maxBytes bytes, when either is reached or timeoutMs after the oldest pending event (at
       once during the shutdown phase, before SHUTDOWN goes out); a failed delivery is retried;
       non-blocking, in the poll() loop;
     - GET /2026-01-15/metadata/execution-environment with the bearer token: the AZ ID. */
#include "emu.h"

#define TEL_PLATFORM 1
#define TEL_FUNCTION 2
#define TEL_EXTENSION 4
#define TEL_MAX_LINE (256u * 1024u)     /* a longer line is cut into records of this size */
#define TEL_RETRY_MS 100                /* after a failed delivery */
#define TEL_DELIVERY_MS 5000            /* one POST, connect to answer */
#define TEL_MAX_LOG 100000              /* events kept in one environment; newer ones dropped */

typedef struct tel_event {
    int kind;                           /* TEL_* */
    char *json;                         /* {"time":...,"type":...,"record":...} */
    size_t len;
    long long at_ns;
} tel_event;

typedef struct tel_sub {
    char ext_id[37];
    char name[256];
    int types;
    int max_items, max_bytes, timeout_ms;
    unsigned short port;
    char path[512];                     /* the destination URI's path ("/" by default) */
    size_t next;                        /* the log index delivery goes on from */
    int fd;                             /* the delivery in progress, or -1 */
    int state;                          /* 1 connecting, 2 writing, 3 reading the answer */
    hbuf out, in;
    size_t out_off;
    size_t batch_end;                   /* the log index after the batch in flight */
    long long started_ns, retry_ns;
    unsigned long batches;
} tel_sub;

typedef struct tel_out {                /* a child's stdout+stderr pipe */
    int fd;
    int kind;                           /* TEL_FUNCTION or TEL_EXTENSION */
    hbuf line;                          /* the line being assembled */
} tel_out;

struct tel {
    tel_event *log;
    size_t n, cap, base;                /* log[0] is event number `base` of the environment */
    tel_sub subs[EMU_MAX_EXTENSIONS];
    int nsubs;
    int flush;                          /* shutdown phase: deliver everything now */
    tel_out outs[EMU_MAX_EXTENSIONS + 2];
    int nouts;
    char token[37];                     /* AWS_LAMBDA_METADATA_TOKEN */
};

static struct tel *tel_of(emu *m)
{
    if (!m->tel) {
        m->tel = (struct tel *)xmalloc(sizeof *m->tel);
        memset(m->tel, 0, sizeof *m->tel);
    }
    return m->tel;
}

/* ------------------------------------------------------------------ the metadata endpoint */

void tel_setup_env(emu *m)
{
    struct tel *t = tel_of(m);
    char buf[64];
    if (!t->token[0]) new_uuid(t->token);
    snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)m->api.port); /* Lambda: the Runtime API's */
    setenv("AWS_LAMBDA_METADATA_API", buf, 1);
    setenv("AWS_LAMBDA_METADATA_TOKEN", t->token, 1);
}

void handle_metadata(emu *m, conn *c, const rapi_request *req)
{
    const char *auth = rapi_request_header(req, "Authorization");
    char want[64], body[512], esc[300];
    rapi_response r;
    snprintf(want, sizeof want, "Bearer %s", tel_of(m)->token);
    if (!auth || strcmp(auth, want) != 0) {
        logf_("metadata endpoint: %s bearer token; answered 401", auth ? "a wrong" : "no");
        api_reply(m, c, 401, "UnauthorizedException", "Invalid or missing bearer token");
        return;
    }
    json_escape(esc, sizeof esc, m->cfg.az ? m->cfg.az : "use1-az1");
    snprintf(body, sizeof body, "{\"AvailabilityZoneID\":\"%s\"}", esc);
    rapi_response_init(&r, 200);
    r.headers = "Content-Type: application/json\r\n";
    r.body = body;
    r.body_len = strlen(body);
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) conn_drop(c);
}

/* ------------------------------------------------------------------ the event log */

/* "2026-12-01T11:03:43.123Z" for Unix time `ms` (out: 96 bytes). */
void tel_iso(long long ms, char *out, size_t cap)
{
    struct tm tm;
    time_t sec = (time_t)(ms / 1000);
    gmtime_r(&sec, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Somebody may still want events: before init completes an extension can subscribe; after
   it, only the subscribers' types are kept. */
static int tel_wanted(emu *m, int kind)
{
    struct tel *t = tel_of(m);
    int i;
    if (!m->init_done && m->env != ENV_STOPPING) return 1;
    for (i = 0; i < t->nsubs; i++)
        if (t->subs[i].types & kind) return 1;
    return 0;
}

/* Drops the events every subscriber has had (after init nobody new can want them). */
static void tel_trim(emu *m)
{
    struct tel *t = tel_of(m);
    size_t low = t->base + t->n, k;
    int i;
    if (!m->init_done) return;
    for (i = 0; i < t->nsubs; i++)
        if (t->subs[i].next < low) low = t->subs[i].next;
    if (low <= t->base) return;
    for (k = 0; k < low - t->base; k++) free(t->log[k].json);
    memmove(t->log, t->log + (low - t->base), (t->n - (low - t->base)) * sizeof *t->log);
    t->n -= low - t->base;
    t->base = low;
}

static void tel_add(emu *m, int kind, const char *type, const char *record, size_t rlen)
{
    struct tel *t = tel_of(m);
    char when[96];
    hbuf b;
    if (m->env == ENV_NONE || !tel_wanted(m, kind)) return;
    tel_trim(m);
    if (t->n >= TEL_MAX_LOG) return; /* a subscriber that never takes them: drop the newest */
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        tel_event *nl = (tel_event *)realloc(t->log, cap * sizeof *nl);
        if (!nl) die_oom();
        t->log = nl;
        t->cap = cap;
    }
    memset(&b, 0, sizeof b);
    tel_iso(wall_ms(), when, sizeof when);
    hb_fmt(&b, "{\"time\":\"%s\",\"type\":\"%s\",\"record\":", when, type);
    hb_put(&b, record, rlen);
    hb_put(&b, "}", 1);
    t->log[t->n].kind = kind;
    t->log[t->n].json = b.p;
    t->log[t->n].len = b.len;
    t->log[t->n].at_ns = now_ns();
    t->n++;
}

/* A platform event; fmt makes the record (a JSON object). */
void tel_platform(emu *m, const char *type, const char *fmt, ...)
{
    va_list ap;
    char small[2048];
    int n;
    if (m->env == ENV_NONE || !tel_wanted(m, TEL_PLATFORM)) return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof small) n = (int)sizeof small - 1; /* records here are short */
    tel_add(m, TEL_PLATFORM, type, small, (size_t)n);
}

/* The tracing member of invocation records. */
void tel_tracing(const invocation *iv, char *out, size_t cap)
{
    char esc[400];
    json_escape(esc, sizeof esc, iv->trace_id);
    snprintf(out, cap, "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"%s\"}", esc);
}

/* One line of a child's output as a function or extension record: a string, or with
   AWS_LAMBDA_LOG_FORMAT=JSON a line that is a JSON object, as that object. */
static void tel_line(emu *m, int kind, const char *p, size_t n)
{
    hbuf b;
    const char *fmt = getenv("AWS_LAMBDA_LOG_FORMAT");
    if (!tel_wanted(m, kind)) return;
    if (n && p[n - 1] == '\r') n--;
    if (fmt && ieq(fmt, "json") && n && p[0] == '{' && json_valid(p, n)) {
        tel_add(m, kind, kind == TEL_FUNCTION ? "function" : "extension", p, n);
        return;
    }
    memset(&b, 0, sizeof b);
    hb_json_str(&b, p, n);
    tel_add(m, kind, kind == TEL_FUNCTION ? "function" : "extension", b.p, b.len);
    hb_free(&b);
}

/* ------------------------------------------------------------------ invocation records */

/* platform.start of iv. */
void tel_start(emu *m, invocation *iv)
{
    char tr[512];
    tel_tracing(iv, tr, sizeof tr);
    tel_platform(m, "platform.start", "{\"requestId\":\"%s\",\"version\":\"%s\",%s}", iv->request_id,
                 getenv("AWS_LAMBDA_FUNCTION_VERSION"), tr);
}

/* platform.runtimeDone: the runtime is done with iv (or the platform gave up on it). */
void tel_runtime_done(emu *m, invocation *iv, const result *r)
{
    long long t = now_ns(), first = iv->streaming && iv->s_first_ns ? iv->s_first_ns : t;
    double dur = (double)(t - iv->start_ns) / 1e6, lat = (double)(first - iv->start_ns) / 1e6;
    const char *st = r->ok ? "success" : r->status && strcmp(r->status, "timeout") == 0 ? "timeout"
                   : r->platform ? "failure" : "error";
    char err[200] = "", tr[512], esc[160], s1[96], s2[96];
    if (!r->ok) {
        json_escape(esc, sizeof esc, r->error_type);
        snprintf(err, sizeof err, ",\"errorType\":\"%s\"", esc);
    }
    tel_iso(iv->start_wall_ms, s1, sizeof s1);
    tel_iso(iv->start_wall_ms + (long long)lat, s2, sizeof s2);
    tel_tracing(iv, tr, sizeof tr);
    tel_platform(m, "platform.runtimeDone",
                 "{\"requestId\":\"%s\",\"status\":\"%s\"%s,\"metrics\":{\"durationMs\":%.3f,\"producedBytes\":%lu},"
                 "\"spans\":[{\"name\":\"responseLatency\",\"start\":\"%s\",\"durationMs\":%.3f},"
                 "{\"name\":\"responseDuration\",\"start\":\"%s\",\"durationMs\":%.3f}],%s}",
                 iv->request_id, st, err, dur, (unsigned long)(iv->streaming ? iv->s_forwarded : r->len), s1, lat, s2,
                 dur - lat, tr);
}

/* platform.report: the REPORT line's numbers as a telemetry record. */
void tel_report(emu *m, invocation *iv)
{
    double dur = (double)(now_ns() - iv->start_ns) / 1e6;
    double billed = dur + (iv->cold ? iv->init_ms : 0);
    long mem = m->hwm_kb > 0 ? (m->hwm_kb + 1023) / 1024 : 0;
    const char *st = iv->r_ok ? "success" : iv->r_status && strcmp(iv->r_status, "timeout") == 0 ? "timeout"
                   : iv->r_platform ? "failure" : "error";
    char init[64] = "", err[200] = "", tr[512], esc[160];
    if (iv->cold) snprintf(init, sizeof init, ",\"initDurationMs\":%.3f", iv->init_ms);
    if (!iv->r_ok) {
        json_escape(esc, sizeof esc, iv->r_error_type);
        snprintf(err, sizeof err, ",\"errorType\":\"%s\"", esc);
    }
    tel_tracing(iv, tr, sizeof tr);
    tel_platform(m, "platform.report",
                 "{\"requestId\":\"%s\",\"status\":\"%s\"%s,\"metrics\":{\"durationMs\":%.3f,\"billedDurationMs\":%lld,"
                 "\"memorySizeMB\":%s,\"maxMemoryUsedMB\":%ld%s},%s}",
                 iv->request_id, st, err, dur, (long long)(billed + 0.999999), getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), mem,
                 init, tr);
}

/* platform.initRuntimeDone and platform.initReport of a failed init (errorType `type`). */
void tel_init_error(emu *m, const char *type)
{
    char esc[300];
    json_escape(esc, sizeof esc, type);
    tel_platform(m, "platform.initRuntimeDone",
                 "{\"initializationType\":\"%s\",\"phase\":\"init\",\"status\":\"error\",\"errorType\":\"%s\"}",
                 getenv("AWS_LAMBDA_INITIALIZATION_TYPE"), esc);
    tel_platform(m, "platform.initReport",
                 "{\"initializationType\":\"%s\",\"phase\":\"init\",\"status\":\"error\",\"errorType\":\"%s\","
                 "\"metrics\":{\"durationMs\":%.3f}}",
                 getenv("AWS_LAMBDA_INITIALIZATION_TYPE"), esc, (double)(now_ns() - m->env_start_ns) / 1e6);
}

/* ------------------------------------------------------------------ captured output */

/* A pipe for a child's stdout and stderr: returns the write end for the child (-1: none, the
   child then writes to our stderr directly). */
int tel_pipe(emu *m, int extension)
{
    struct tel *t = tel_of(m);
    int fds[2];
    if (t->nouts >= (int)(sizeof t->outs / sizeof t->outs[0]) || pipe(fds) != 0) return -1;
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC); /* the child gets it through dup2 */
    (void)fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    memset(&t->outs[t->nouts], 0, sizeof t->outs[0]);
    t->outs[t->nouts].fd = fds[0];
    t->outs[t->nouts].kind = extension ? TEL_EXTENSION : TEL_FUNCTION;
    t->nouts++;
    return fds[1];
}

static void out_close(struct tel *t, int i)
{
    close(t->outs[i].fd);
    hb_free(&t->outs[i].line);
    t->outs[i] = t->outs[--t->nouts];
}

/* Reads what is there: copied to stderr, cut into records. Returns 0 at EOF (closed). */
static int out_read(emu *m, tel_out *o)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(o->fd, buf, sizeof buf);
        size_t i, start = 0;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return 1; /* EAGAIN */
        if (r == 0) {
            if (o->line.len) tel_line(m, o->kind, o->line.p, o->line.len);
            o->line.len = 0;
            return 0;
        }
        {
            size_t off = 0;
            while (off < (size_t)r) { /* our stderr, as the child would have written it */
                ssize_t w = write(2, buf + off, (size_t)r - off);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) break;
                off += (size_t)w;
            }
        }
        for (i = 0; i < (size_t)r; i++) {
            if (buf[i] != '\n' && o->line.len + (i - start) < TEL_MAX_LINE) continue;
            hb_put(&o->line, buf + start, i - start);
            tel_line(m, o->kind, o->line.p ? o->line.p : "", o->line.len);
            o->line.len = 0;
            start = buf[i] == '\n' ? i + 1 : i;
        }
        hb_put(&o->line, buf + start, (size_t)r - start);
    }
}

/* Everything the children have written so far (before looking at their requests, so that a
   line printed before a POST comes before what the POST causes). */
void tel_drain_outputs(emu *m)
{
    struct tel *t = tel_of(m);
    int i;
    for (i = 0; i < t->nouts; i++)
        if (!out_read(m, &t->outs[i])) out_close(t, i--);
}

/* ------------------------------------------------------------------ subscriptions */

static tel_sub *sub_of(struct tel *t, const char *id)
{
    int i;
    for (i = 0; i < t->nsubs; i++)
        if (strcmp(t->subs[i].ext_id, id) == 0) return &t->subs[i];
    return NULL;
}

static void sub_disconnect(tel_sub *s)
{
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->state = 0;
    s->out.len = s->in.len = 0;
    s->out_off = 0;
}

/* A number member within [lo, hi], or the default when absent. -1 when out of range. */
static int num_member(const char *p, size_t n, const char *name, long lo, long hi, long dflt, long *out)
{
    const char *v;
    size_t vn;
    char tmp[32], *end;
    long x;
    if (json_member(p, n, name, &v, &vn) != 0) {
        *out = dflt;
        return 0;
    }
    if (vn == 0 || vn >= sizeof tmp) return -1;
    memcpy(tmp, v, vn);
    tmp[vn] = 0;
    x = strtol(tmp, &end, 10);
    if (*end || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

void handle_telemetry(emu *m, conn *c, const rapi_request *req)
{
    struct tel *t = tel_of(m);
    const char *id = rapi_request_header(req, "Lambda-Extension-Identifier");
    const char *b = req->body, *v, *dst, *uri;
    size_t n = req->body_len, vn, dn, un, k;
    extension *x = id ? ext_find(m, id) : NULL;
    hbuf s;
    char why[160] = "";
    long items, bytes, ms, port = 0;
    int types = 0;
    tel_sub *sub;
    memset(&s, 0, sizeof s);
    if (!x) {
        logf_("telemetry subscribe: %s Lambda-Extension-Identifier; answered 403", id ? "an unknown" : "no");
        api_reply(m, c, 403, id ? "Extension.UnknownExtensionIdentifier" : "Extension.MissingHeader",
                  "Lambda-Extension-Identifier is %s", id ? "not a registered extension" : "missing");
        return;
    }
    if (!json_valid(b, n) || json_member(b, n, "schemaVersion", &v, &vn) != 0 || json_string_value(v, vn, &s) != 0 ||
        (strcmp(s.p, "2022-07-01") != 0 && strcmp(s.p, "2022-12-13") != 0 && strcmp(s.p, "2025-01-29") != 0)) {
        snprintf(why, sizeof why, "schemaVersion must be 2022-07-01, 2022-12-13 or 2025-01-29");
        goto bad;
    }
    if (json_member(b, n, "types", &v, &vn) != 0 || v[0] != '[') {
        snprintf(why, sizeof why, "types must be an array");
        goto bad;
    }
    for (k = 0;; k++) {
        const char *e;
        size_t en;
        if (json_element(v, vn, k, &e, &en) != 0) break;
        if (json_string_value(e, en, &s) != 0) s.len = 0;
        if (s.len && strcmp(s.p, "platform") == 0) types |= TEL_PLATFORM;
        else if (s.len && strcmp(s.p, "function") == 0) types |= TEL_FUNCTION;
        else if (s.len && strcmp(s.p, "extension") == 0) types |= TEL_EXTENSION;
        else {
            snprintf(why, sizeof why, "types: %.40s is not platform, function or extension", s.len ? s.p : "a non-string");
            goto bad;
        }
    }
    if (!types) {
        snprintf(why, sizeof why, "types is empty");
        goto bad;
    }
    items = bytes = ms = 0;
    if (json_member(b, n, "buffering", &v, &vn) == 0) {
        if (v[0] != '{' || num_member(v, vn, "maxItems", 1000, 10000, 1000, &items) != 0 ||
            num_member(v, vn, "maxBytes", 262144, 1048576, 262144, &bytes) != 0 ||
            num_member(v, vn, "timeoutMs", 25, 30000, 1000, &ms) != 0) {
            snprintf(why, sizeof why, "buffering: maxItems 1000..10000, maxBytes 262144..1048576, timeoutMs 25..30000");
            goto bad;
        }
    } else {
        items = 1000;
        bytes = 262144;
        ms = 1000;
    }
    if (json_member(b, n, "destination", &dst, &dn) != 0 || dst[0] != '{' ||
        json_member(dst, dn, "protocol", &v, &vn) != 0 || json_string_value(v, vn, &s) != 0 || strcmp(s.p, "HTTP") != 0) {
        snprintf(why, sizeof why, "destination.protocol must be HTTP (TCP is not emulated)");
        goto bad;
    }
    if (json_member(dst, dn, "URI", &uri, &un) != 0 || json_string_value(uri, un, &s) != 0 ||
        strncmp(s.p, "http://sandbox.localdomain:", 27) != 0) {
        snprintf(why, sizeof why, "destination.URI must be http://sandbox.localdomain:<port>[/path]");
        goto bad;
    }
    {
        const char *pp = s.p + 27;
        while (*pp >= '0' && *pp <= '9' && port <= 65535) port = port * 10 + (*pp++ - '0');
        if (port < 1 || port > 65535 || (*pp && *pp != '/') || strlen(pp) >= sizeof sub->path) {
            snprintf(why, sizeof why, "destination.URI must be http://sandbox.localdomain:<port>[/path]");
            goto bad;
        }
        sub = sub_of(t, x->id);
        if (!sub) {
            sub = &t->subs[t->nsubs++];
            memset(sub, 0, sizeof *sub);
            sub->fd = -1;
            sub->next = t->base; /* from the start of the environment */
        } else {
            sub_disconnect(sub);
        }
        snprintf(sub->ext_id, sizeof sub->ext_id, "%s", x->id);
        snprintf(sub->name, sizeof sub->name, "%s", x->name);
        snprintf(sub->path, sizeof sub->path, "%s", *pp ? pp : "/");
    }
    sub->types = types;
    sub->max_items = (int)items;
    sub->max_bytes = (int)bytes;
    sub->timeout_ms = (int)ms;
    sub->port = (unsigned short)port;
    hb_free(&s);
    if (m->cfg.verbose)
        logf_("extension %s subscribed to telemetry (types %d, batches of %ld items / %ld bytes / %ld ms) at port %ld",
              x->name, types, items, bytes, ms, port);
    {
        rapi_response r;
        char esc[600];
        json_escape(esc, sizeof esc, x->name);
        tel_platform(m, "platform.telemetrySubscription", "{\"name\":\"%s\",\"state\":\"Subscribed\",\"types\":[%s%s%s%s%s]}",
                     esc, types & TEL_PLATFORM ? "\"platform\"" : "", (types & TEL_PLATFORM) && (types & 6) ? "," : "",
                     types & TEL_FUNCTION ? "\"function\"" : "", (types & TEL_FUNCTION) && (types & 4) ? "," : "",
                     types & TEL_EXTENSION ? "\"extension\"" : "");
        rapi_response_init(&r, 200);
        r.headers = "Content-Type: text/plain\r\n";
        r.body = "OK";
        r.body_len = 2;
        if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) conn_drop(c);
    }
    return;
bad:
    hb_free(&s);
    logf_("telemetry subscribe from %s: %s; answered 400", x->name, why);
    api_reply(m, c, 400, "ValidationError", "%s", why);
}

/* ------------------------------------------------------------------ delivery */

/* The events of s's types from s->next on: how many, and whether a batch is due now. */
static int sub_due(emu *m, tel_sub *s, long long t, long long *when)
{
    struct tel *tl = tel_of(m);
    size_t i, count = 0, bytes = 0;
    long long oldest = 0;
    for (i = s->next - tl->base; i < tl->n; i++) {
        if (!(tl->log[i].kind & s->types)) continue;
        if (!count) oldest = tl->log[i].at_ns;
        count++;
        bytes += tl->log[i].len + 1;
    }
    if (!count) {
        s->next = tl->base + tl->n; /* nothing of its types: skip ahead */
        return 0;
    }
    *when = oldest + s->timeout_ms * 1000000LL;
    if (s->retry_ns > *when) *when = s->retry_ns;
    if (t < s->retry_ns) return 0;
    return tl->flush || count >= (size_t)s->max_items || bytes >= (size_t)s->max_bytes || t >= *when;
}

/* Starts POSTing the next batch to s: connect (non-blocking) and the request in s->out. */
static void sub_start(emu *m, tel_sub *s)
{
    struct tel *tl = tel_of(m);
    struct sockaddr_in a;
    hbuf body;
    size_t i, count = 0;
    int fd;
    memset(&body, 0, sizeof body);
    hb_put(&body, "[", 1);
    for (i = s->next - tl->base; i < tl->n && count < (size_t)s->max_items; i++) {
        if (!(tl->log[i].kind & s->types)) continue;
        if (count && body.len + tl->log[i].len + 2 > (size_t)s->max_bytes) break;
        if (count) hb_put(&body, ",", 1);
        hb_put(&body, tl->log[i].json, tl->log[i].len);
        count++;
    }
    hb_put(&body, "]", 1);
    s->batch_end = tl->base + i;
    s->out.len = 0;
    hb_fmt(&s->out,
           "POST %s HTTP/1.1\r\nHost: sandbox.localdomain:%u\r\nUser-Agent: lambda-emu\r\nContent-Type: application/json\r\n"
           "Content-Length: %lu\r\nConnection: close\r\n\r\n",
           s->path, (unsigned)s->port, (unsigned long)body.len);
    hb_put(&s->out, body.p, body.len);
    hb_free(&body);
    s->out_off = 0;
    s->in.len = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* sandbox.localdomain */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        s->retry_ns = now_ns() + TEL_RETRY_MS * 1000000LL;
        return;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->fd = fd;
    s->state = 1;
    s->started_ns = now_ns();
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) s->state = 2;
    else if (errno != EINPROGRESS) {
        if (m->cfg.verbose) logf_("telemetry: cannot connect to %s's listener (port %u): %s", s->name, s->port, strerror(errno));
        sub_disconnect(s);
        s->retry_ns = now_ns() + TEL_RETRY_MS * 1000000LL;
    }
}

static void sub_failed(emu *m, tel_sub *s, const char *why)
{
    if (m->cfg.verbose) logf_("telemetry delivery to %s failed (%s); will retry", s->name, why);
    sub_disconnect(s);
    s->retry_ns = now_ns() + TEL_RETRY_MS * 1000000LL;
}

/* The answer so far in s->in: its status when the head is complete, 0 while it is not. */
static int answer_status(const tel_sub *s)
{
    if (!s->in.p || !strstr(s->in.p, "\r\n\r\n")) return 0;
    if (strncmp(s->in.p, "HTTP/1.", 7) != 0 || s->in.len < 12) return -1;
    return atoi(s->in.p + 9);
}

static void sub_io(emu *m, tel_sub *s, short revents)
{
    if (s->state == 1 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
            sub_failed(m, s, err ? strerror(err) : "connect");
            return;
        }
        s->state = 2;
    }
    if (s->state == 2 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = send(s->fd, s->out.p + s->out_off, s->out.len - s->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            sub_failed(m, s, strerror(errno));
            return;
        }
        if (w > 0) s->out_off += (size_t)w;
        if (s->out_off == s->out.len) s->state = 3;
        return;
    }
    if (s->state == 3 && (revents & (POLLIN | POLLERR | POLLHUP))) {
        char buf[4096];
        ssize_t r = recv(s->fd, buf, sizeof buf, 0);
        int st;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (r > 0) hb_put(&s->in, buf, (size_t)r);
        st = answer_status(s);
        if (st == 0 && r > 0) return; /* more to come */
        if (st >= 200 && st < 300) {
            s->next = s->batch_end;
            s->batches++;
            s->retry_ns = 0;
            sub_disconnect(s);
            tel_trim(m);
            return;
        }
        sub_failed(m, s, st > 0 ? "an answer other than 2xx" : "no answer");
    }
}

size_t tel_nfds(const emu *m)
{
    return m->tel ? (size_t)(m->tel->nsubs + m->tel->nouts) : 0;
}

/* The descriptors to poll: the output pipes, then the deliveries in progress. */
size_t tel_pollfds(emu *m, struct pollfd *p, size_t cap)
{
    struct tel *t = tel_of(m);
    size_t n = 0;
    int i;
    for (i = 0; i < t->nouts && n < cap; i++) {
        p[n].fd = t->outs[i].fd;
        p[n].events = POLLIN;
        p[n++].revents = 0;
    }
    for (i = 0; i < t->nsubs && n < cap; i++) {
        tel_sub *s = &t->subs[i];
        p[n].fd = s->fd;
        p[n].events = s->state == 3 ? POLLIN : POLLOUT;
        p[n++].revents = 0;
    }
    return n;
}

void tel_service(emu *m, const struct pollfd *p, size_t n)
{
    struct tel *t = tel_of(m);
    size_t k = 0;
    int i, nouts = t->nouts;
    for (i = 0; i < nouts && k < n; i++, k++) {} /* the pipes: tel_drain_outputs has read them */
    tel_drain_outputs(m);
    for (i = 0; i < t->nsubs && k < n; i++, k++)
        if (p[k].fd >= 0 && p[k].fd == t->subs[i].fd && p[k].revents) sub_io(m, &t->subs[i], p[k].revents);
}

/* Starts the batches that are due; gives up deliveries that take too long. */
void tel_tick(emu *m, long long t)
{
    struct tel *tl = tel_of(m);
    int i;
    for (i = 0; i < tl->nsubs; i++) {
        tel_sub *s = &tl->subs[i];
        long long when;
        if (s->fd >= 0) {
            if (t - s->started_ns > TEL_DELIVERY_MS * 1000000LL) sub_failed(m, s, "timed out");
            continue;
        }
        if (sub_due(m, s, t, &when)) sub_start(m, s);
    }
}

long long tel_next_deadline(const emu *m)
{
    struct tel *tl = m->tel;
    long long next = 0, t = now_ns();
    int i;
    if (!tl) return 0;
    for (i = 0; i < tl->nsubs; i++) {
        tel_sub *s = &tl->subs[i];
        long long when = 0;
        if (s->fd >= 0) when = s->started_ns + TEL_DELIVERY_MS * 1000000LL;
        else if (s->next < tl->base + tl->n && sub_due((emu *)m, s, t, &when)) when = t;
        else if (s->next >= tl->base + tl->n) continue;
        if (when && (!next || when < next)) next = when;
    }
    return next;
}

/* Shutdown phase: deliver everything now. 1 while some subscriber still has events coming
   (SHUTDOWN waits for that, within the shutdown budget). */
int tel_flushing(emu *m)
{
    struct tel *tl = tel_of(m);
    int i, busy = 0;
    tl->flush = 1;
    tel_drain_outputs(m);
    tel_tick(m, now_ns());
    for (i = 0; i < tl->nsubs; i++) {
        tel_sub *s = &tl->subs[i];
        long long when;
        if (s->fd < 0 && s->next < tl->base + tl->n) (void)sub_due(m, s, now_ns(), &when); /* skips ahead */
        if (s->fd >= 0 || s->next < tl->base + tl->n) busy = 1;
    }
    return busy;
}

/* A new execution environment: a new log; the old subscriptions are gone with their
   extensions. */
void tel_env_start(emu *m)
{
    struct tel *t = tel_of(m);
    size_t k;
    int i;
    for (i = 0; i < t->nsubs; i++) {
        sub_disconnect(&t->subs[i]);
        hb_free(&t->subs[i].out);
        hb_free(&t->subs[i].in);
    }
    t->nsubs = 0;
    for (k = 0; k < t->n; k++) free(t->log[k].json);
    t->n = 0;
    t->base = 0;
    t->flush = 0;
}

/* The environment is down: what the children wrote last, then their pipes closed. */
void tel_env_end(emu *m)
{
    struct tel *t = tel_of(m);
    tel_drain_outputs(m);
    while (t->nouts) out_close(t, 0);
    tel_env_start(m);
}
