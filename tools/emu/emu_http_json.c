/* emu_http_json.c - lambda-emu: the HTTP front's JSON (see emu_http.c for the connections).
     - the event built from an HTTP request: a function URL / HTTP API event (payload 2.0), a
       REST API event (payload 1.0) or an ALB target group event (--http-format);
     - the HTTP answer built from the function's result (or from a streamed answer's prelude),
       with a small validating JSON reader (also emu_tel.c's);
     - the reason phrases. (The growing buffers are in emu_util.c.) */
#include "emu.h"

static void hb_jstr(hbuf *b, const char *s)
{
    hb_json_str(b, s, strlen(s));
}

/* ------------------------------------------------------------------ the request, taken apart */

typedef struct hfield {
    char *name;          /* lowercased */
    const char *orig;    /* as received */
    const char *value;
    size_t idx;          /* arrival order (the sort is stable with it) */
} hfield;

typedef struct qparam {
    char *key, *val;
    size_t idx;
} qparam;

static int hfield_cmp(const void *a, const void *b)
{
    const hfield *x = (const hfield *)a, *y = (const hfield *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx < y->idx ? -1 : 1);
}

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = (const qparam *)a, *y = (const qparam *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx < y->idx ? -1 : 1);
}

/* Percent-decoded copy of s[0..n); the raw bytes when they do not decode (or decode == 0). */
static char *qdup(const char *s, size_t n, int decode)
{
    char *out = (char *)xmalloc(n + 1);
    if (!decode || pct_decode(s, n, out, n + 1) != 0) {
        memcpy(out, s, n);
        out[n] = 0;
    }
    return out;
}

static size_t parse_query(const char *q, int decode, qparam **out)
{
    size_t n = 0, cap = 0;
    qparam *v = NULL;
    while (*q) {
        size_t seg = strcspn(q, "&");
        if (seg > 0) {
            const char *eq = memchr(q, '=', seg);
            size_t kl = eq ? (size_t)(eq - q) : seg;
            if (n == cap) {
                qparam *nv;
                cap = cap ? cap * 2 : 16;
                nv = (qparam *)realloc(v, cap * sizeof *v);
                if (!nv) die_oom();
                v = nv;
            }
            v[n].key = qdup(q, kl, decode);
            v[n].val = eq ? qdup(eq + 1, seg - kl - 1, decode) : xstrdup("");
            v[n].idx = n;
            n++;
        }
        q += seg;
        if (*q == '&') q++;
    }
    if (n) qsort(v, n, sizeof *v, qparam_cmp);
    *out = v;
    return n;
}

static void free_query(qparam *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].val);
    }
    free(v);
}

/* A JSON object of the query parameters: repeated keys joined with "," (join), the last one
   (last), or every value as an array (multi). */
enum { Q_JOIN, Q_LAST, Q_MULTI };
static void put_query(hbuf *b, const qparam *v, size_t n, int how)
{
    size_t i = 0;
    hb_put(b, "{", 1);
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && strcmp(v[j + 1].key, v[i].key) == 0) j++;
        if (i) hb_put(b, ",", 1);
        hb_jstr(b, v[i].key);
        hb_put(b, ":", 1);
        if (how == Q_LAST) {
            hb_jstr(b, v[j].val);
        } else if (how == Q_MULTI) {
            size_t k;
            hb_put(b, "[", 1);
            for (k = i; k <= j; k++) {
                if (k > i) hb_put(b, ",", 1);
                hb_jstr(b, v[k].val);
            }
            hb_put(b, "]", 1);
        } else {
            hbuf joined;
            size_t k;
            memset(&joined, 0, sizeof joined);
            for (k = i; k <= j; k++) {
                if (k > i) hb_put(&joined, ",", 1);
                hb_str(&joined, v[k].val);
            }
            hb_json_str(b, joined.p ? joined.p : "", joined.len);
            hb_free(&joined);
        }
        i = j + 1;
    }
    hb_put(b, "}", 1);
}

/* Hop-by-hop headers: about this connection, not for the function. */
static int hop_by_hop(const char *lower)
{
    return strcmp(lower, "connection") == 0 || strcmp(lower, "keep-alive") == 0 ||
           strcmp(lower, "transfer-encoding") == 0 || strcmp(lower, "te") == 0 ||
           strcmp(lower, "proxy-connection") == 0 || strcmp(lower, "upgrade") == 0;
}

/* The request's headers (without the hop-by-hop ones), plus X-Forwarded-For/-Proto/-Port as
   the platform adds them when the client did not send them, sorted by lowercased name. */
static size_t collect_headers(const rapi_request *req, const char *peer_ip, const char *port, hfield *out)
{
    static const char *const fwd[][2] = {{"x-forwarded-for", NULL}, {"x-forwarded-port", NULL}, {"x-forwarded-proto", "http"}};
    size_t i, n = 0, k;
    for (i = 0; i < req->num_headers; i++) {
        char *l = xstrdup(req->headers[i].name), *c;
        for (c = l; *c; c++) *c = (char)tolower((unsigned char)*c);
        if (hop_by_hop(l)) {
            free(l);
            continue;
        }
        out[n].name = l;
        out[n].orig = req->headers[i].name;
        out[n].value = req->headers[i].value;
        out[n].idx = n;
        n++;
    }
    for (k = 0; k < 3; k++) {
        for (i = 0; i < n; i++)
            if (strcmp(out[i].name, fwd[k][0]) == 0) break;
        if (i < n) continue;
        out[n].name = xstrdup(fwd[k][0]);
        out[n].orig = k == 0 ? "X-Forwarded-For" : k == 1 ? "X-Forwarded-Port" : "X-Forwarded-Proto";
        out[n].value = k == 0 ? peer_ip : k == 1 ? port : fwd[k][1];
        out[n].idx = n;
        n++;
    }
    qsort(out, n, sizeof *out, hfield_cmp);
    return n;
}

/* A JSON object of the headers: lowercased names, repeated ones joined with "," (join) or the
   last one (last); original case with the last value (orig_last) or every value (orig_multi). */
enum { H_JOIN, H_LAST, H_ORIG_LAST, H_ORIG_MULTI };
static void put_headers(hbuf *b, const hfield *h, size_t n, int how)
{
    size_t i = 0;
    hb_put(b, "{", 1);
    while (i < n) {
        size_t j = i, k;
        while (j + 1 < n && strcmp(h[j + 1].name, h[i].name) == 0) j++;
        if (i) hb_put(b, ",", 1);
        hb_jstr(b, how == H_ORIG_LAST || how == H_ORIG_MULTI ? h[i].orig : h[i].name);
        hb_put(b, ":", 1);
        if (how == H_LAST || how == H_ORIG_LAST) {
            hb_jstr(b, h[j].value);
        } else if (how == H_ORIG_MULTI) {
            hb_put(b, "[", 1);
            for (k = i; k <= j; k++) {
                if (k > i) hb_put(b, ",", 1);
                hb_jstr(b, h[k].value);
            }
            hb_put(b, "]", 1);
        } else {
            hbuf joined;
            memset(&joined, 0, sizeof joined);
            for (k = i; k <= j; k++) {
                if (k > i) hb_put(&joined, ",", 1);
                hb_str(&joined, h[k].value);
            }
            hb_json_str(b, joined.p ? joined.p : "", joined.len);
            hb_free(&joined);
        }
        i = j + 1;
    }
    hb_put(b, "}", 1);
}

/* The "cookies" array (payload 2.0): every Cookie header split on ";", spaces trimmed. */
static int put_cookies(hbuf *b, const rapi_request *req)
{
    size_t i;
    int any = 0;
    for (i = 0; i < req->num_headers; i++) {
        const char *v = req->headers[i].value;
        if (!ieq(req->headers[i].name, "cookie")) continue;
        while (*v) {
            size_t seg = strcspn(v, ";"), s = 0, e = seg;
            while (s < e && (v[s] == ' ' || v[s] == '\t')) s++;
            while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
            if (e > s) {
                hb_str(b, any ? "," : "\"cookies\":[");
                hb_json_str(b, v + s, e - s);
                any = 1;
            }
            v += seg;
            if (*v == ';') v++;
        }
    }
    if (any) hb_str(b, "],");
    return any;
}

/* Whether a body of this content type is sent as text (when it is valid UTF-8): text/ (any), JSON,
   XML, JavaScript, YAML, GraphQL and the +json / +xml types. Anything else (no type, form data,
   images...) is base64, as the platform does for binary bodies. */
static int textual_type(const char *ct)
{
    static const char *const types[] = {"application/json", "application/xml", "application/javascript",
                                        "application/ecmascript", "application/x-ndjson", "application/yaml",
                                        "application/x-yaml", "application/graphql", NULL};
    char t[128];
    size_t n, i;
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    n = strcspn(ct, "; \t");
    if (n == 0 || n >= sizeof t) return 0;
    for (i = 0; i < n; i++) t[i] = (char)tolower((unsigned char)ct[i]);
    t[n] = 0;
    if (strncmp(t, "text/", 5) == 0) return 1;
    if (n > 5 && (strcmp(t + n - 5, "+json") == 0 || strcmp(t + n - 4, "+xml") == 0)) return 1;
    for (i = 0; types[i]; i++)
        if (strcmp(t, types[i]) == 0) return 1;
    return 0;
}

/* "body":..., and returns isBase64Encoded. empty: what an empty body is ("", null, or nothing). */
enum { B_OMIT, B_NULL, B_EMPTY };
static int put_body(hbuf *b, const rapi_request *req, int empty)
{
    int text = textual_type(rapi_request_header(req, "Content-Type")) && utf8_valid(req->body, req->body_len);
    if (req->body_len == 0) {
        if (empty == B_NULL) hb_str(b, "\"body\":null,");
        else if (empty == B_EMPTY) hb_str(b, "\"body\":\"\",");
        return 0;
    }
    hb_str(b, "\"body\":");
    if (text) {
        hb_json_str(b, req->body, req->body_len);
    } else {
        hb_put(b, "\"", 1);
        hb_b64(b, (const unsigned char *)req->body, req->body_len);
        hb_put(b, "\"", 1);
    }
    hb_put(b, ",", 1);
    return !text;
}

/* Builds the event for one request into out. The target is origin-form ("/path?query") or
   absolute-form ("http://host/path?query"). */
void http_event_build(emu *m, const rapi_request *req, const char *peer_ip, unsigned short port, const char *url_id,
                      const char *request_id, hbuf *out)
{
    const char *target = req->target, *q, *ua = rapi_request_header(req, "User-Agent");
    const char *region = getenv("AWS_REGION");
    char *path, portstr[16], when[64];
    size_t pl, nh, nq;
    hfield *h;
    qparam *qp;
    long long now = wall_ms();
    int fmt = m->cfg.http_format, b64;
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    if (!ua) ua = "";
    if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0) {
        target = strchr(strstr(target, "//") + 2, '/'); /* absolute-form: drop the scheme and host */
        if (!target) target = "/";
    }
    pl = strcspn(target, "?#");
    path = pl ? xstrndup(target, pl) : xstrdup("/");
    q = target[pl] == '?' ? target + pl + 1 : "";
    {
        char *qc = xstrndup(q, strcspn(q, "#"));
        nq = parse_query(qc, fmt != HTTP_FMT_ALB, &qp);
        q = qc; /* freed below */
    }
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    h = (hfield *)xmalloc((req->num_headers + 3) * sizeof *h);
    nh = collect_headers(req, peer_ip, portstr, h);

    if (fmt == HTTP_FMT_URL) {
        hb_str(out, "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":");
        hb_jstr(out, path);
        hb_str(out, ",\"rawQueryString\":");
        hb_jstr(out, q);
        hb_put(out, ",", 1);
        put_cookies(out, req);
        hb_str(out, "\"headers\":");
        put_headers(out, h, nh, H_JOIN);
        if (nq) {
            hb_str(out, ",\"queryStringParameters\":");
            put_query(out, qp, nq, Q_JOIN);
        }
        hb_fmt(out, ",\"requestContext\":{\"accountId\":\"anonymous\",\"apiId\":\"%s\",\"domainName\":\"%s.lambda-url.%s.on.aws\","
                    "\"domainPrefix\":\"%s\",\"http\":{\"method\":",
               url_id, url_id, region, url_id);
        hb_jstr(out, req->method);
        hb_str(out, ",\"path\":");
        hb_jstr(out, path);
        hb_str(out, ",\"protocol\":");
        hb_jstr(out, req->version);
        hb_fmt(out, ",\"sourceIp\":\"%s\",\"userAgent\":", peer_ip);
        hb_jstr(out, ua);
        hb_fmt(out, "},\"requestId\":\"%s\",\"routeKey\":\"$default\",\"stage\":\"$default\",\"time\":\"%s\",\"timeEpoch\":%lld},",
               request_id, when, now);
        b64 = put_body(out, req, B_OMIT);
        hb_fmt(out, "\"isBase64Encoded\":%s}", b64 ? "true" : "false");
    } else if (fmt == HTTP_FMT_REST) {
        char id10[11];
        snprintf(id10, sizeof id10, "%s", url_id);
        hb_str(out, "{\"resource\":\"/{proxy+}\",\"path\":");
        hb_jstr(out, path);
        hb_str(out, ",\"httpMethod\":");
        hb_jstr(out, req->method);
        hb_str(out, ",\"headers\":");
        put_headers(out, h, nh, H_ORIG_LAST);
        hb_str(out, ",\"multiValueHeaders\":");
        put_headers(out, h, nh, H_ORIG_MULTI);
        if (nq) {
            hb_str(out, ",\"queryStringParameters\":");
            put_query(out, qp, nq, Q_LAST);
            hb_str(out, ",\"multiValueQueryStringParameters\":");
            put_query(out, qp, nq, Q_MULTI);
        } else {
            hb_str(out, ",\"queryStringParameters\":null,\"multiValueQueryStringParameters\":null");
        }
        if (path[1]) {
            char *proxy = qdup(path + 1, strlen(path + 1), 1);
            hb_str(out, ",\"pathParameters\":{\"proxy\":");
            hb_jstr(out, proxy);
            hb_put(out, "}", 1);
            free(proxy);
        } else {
            hb_str(out, ",\"pathParameters\":null");
        }
        hb_fmt(out, ",\"stageVariables\":null,\"requestContext\":{\"accountId\":\"" EMU_ARN_ACCOUNT "\",\"apiId\":\"%s\","
                    "\"domainName\":\"%s.execute-api.%s.amazonaws.com\",\"domainPrefix\":\"%s\",\"extendedRequestId\":\"%.16s\","
                    "\"httpMethod\":",
               id10, id10, region, id10, request_id);
        hb_jstr(out, req->method);
        hb_str(out, ",\"identity\":{\"accessKey\":null,\"accountId\":null,\"caller\":null,\"cognitoAuthenticationProvider\":null,"
                    "\"cognitoAuthenticationType\":null,\"cognitoIdentityId\":null,\"cognitoIdentityPoolId\":null,"
                    "\"principalOrgId\":null,\"sourceIp\":");
        hb_jstr(out, peer_ip);
        hb_str(out, ",\"user\":null,\"userAgent\":");
        hb_jstr(out, ua);
        hb_str(out, ",\"userArn\":null},\"path\":");
        hb_jstr(out, path);
        hb_str(out, ",\"protocol\":");
        hb_jstr(out, req->version);
        hb_fmt(out, ",\"requestId\":\"%s\",\"requestTime\":\"%s\",\"requestTimeEpoch\":%lld,\"resourceId\":\"proxy0\","
                    "\"resourcePath\":\"/{proxy+}\",\"stage\":\"$default\"},",
               request_id, when, now);
        b64 = put_body(out, req, B_NULL);
        hb_fmt(out, "\"isBase64Encoded\":%s}", b64 ? "true" : "false");
    } else {
        hb_fmt(out, "{\"requestContext\":{\"elb\":{\"targetGroupArn\":\"arn:aws:elasticloadbalancing:%s:" EMU_ARN_ACCOUNT
                    ":targetgroup/lambda-emu/%.16s\"}},\"httpMethod\":",
               region, url_id);
        hb_jstr(out, req->method);
        hb_str(out, ",\"path\":");
        hb_jstr(out, path);
        hb_str(out, ",\"queryStringParameters\":");
        put_query(out, qp, nq, Q_LAST);
        hb_str(out, ",\"headers\":");
        put_headers(out, h, nh, H_LAST);
        hb_put(out, ",", 1);
        b64 = put_body(out, req, B_EMPTY);
        hb_fmt(out, "\"isBase64Encoded\":%s}", b64 ? "true" : "false");
    }
    while (nh > 0) free(h[--nh].name);
    free(h);
    free_query(qp, nq);
    free((char *)q);
    free(path);
}

/* ------------------------------------------------------------------ a small JSON reader */

typedef struct jv {      /* the text of one JSON value */
    const char *p;
    size_t n;
} jv;

static const char *j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *j_str_end(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            if (++p >= e) return NULL;
            if (*p == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (p + k >= e || !isxdigit((unsigned char)p[k])) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
    }
    return NULL;
}

/* The end of the value starting at p (after leading whitespace), or NULL if it is not JSON. */
static const char *j_end(const char *p, const char *e, int depth)
{
    p = j_ws(p, e);
    if (p >= e) return NULL;
    if (*p == '"') return j_str_end(p, e);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        if (depth >= 64) return NULL;
        p = j_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = j_ws(p, e);
                if (p >= e || *p != '"' || !(p = j_str_end(p, e))) return NULL;
                p = j_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            if (!(p = j_end(p, e, depth + 1))) return NULL;
            p = j_ws(p, e);
            if (p >= e) return NULL;
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == 't' || *p == 'f' || *p == 'n') {
        const char *w = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        size_t wl = strlen(w);
        return (size_t)(e - p) >= wl && memcmp(p, w, wl) == 0 ? p + wl : NULL;
    }
    { /* a number */
        const char *s;
        if (*p == '-') p++;
        if (p >= e || !isdigit((unsigned char)*p)) return NULL;
        if (*p == '0') p++;
        else while (p < e && isdigit((unsigned char)*p)) p++;
        if (p < e && *p == '.') {
            s = ++p;
            while (p < e && isdigit((unsigned char)*p)) p++;
            if (p == s) return NULL;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < e && (*p == '+' || *p == '-')) p++;
            s = p;
            while (p < e && isdigit((unsigned char)*p)) p++;
            if (p == s) return NULL;
        }
        return p;
    }
}

/* Iterates over the members of an object (key set) or the elements of an array (key NULL)
   that has already been validated. */
typedef struct jit {
    const char *p, *e;
    int obj, first;
} jit;

static int j_iter(jv v, jit *it)
{
    if (v.n < 2 || (v.p[0] != '{' && v.p[0] != '[')) return -1;
    it->p = v.p + 1;
    it->e = v.p + v.n - 1;
    it->obj = v.p[0] == '{';
    it->first = 1;
    return 0;
}

static int j_next(jit *it, jv *key, jv *val)
{
    const char *p = j_ws(it->p, it->e), *q;
    if (p >= it->e) return 0;
    if (!it->first) p = j_ws(p + 1, it->e); /* the comma */
    it->first = 0;
    if (it->obj) {
        q = j_str_end(p, it->e);
        key->p = p;
        key->n = (size_t)(q - p);
        p = j_ws(q, it->e) + 1; /* the colon */
    }
    p = j_ws(p, it->e);
    q = j_end(p, it->e, 0);
    val->p = p;
    val->n = (size_t)(q - p);
    it->p = q;
    return 1;
}

/* The member `name` of object v (its key compared as written, without escapes). */
static int j_get(jv v, const char *name, jv *out)
{
    jit it;
    jv k, val;
    size_t nl = strlen(name);
    if (j_iter(v, &it) != 0 || !it.obj) return -1;
    while (j_next(&it, &k, &val))
        if (k.n == nl + 2 && memcmp(k.p + 1, name, nl) == 0) {
            *out = val;
            return 0;
        }
    return -1;
}

static void put_utf8(hbuf *b, unsigned cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (unsigned char)cp, n = 1;
    else if (cp < 0x800) u[0] = (unsigned char)(0xc0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 63)), n = 2;
    else if (cp < 0x10000)
        u[0] = (unsigned char)(0xe0 | cp >> 12), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
        u[2] = (unsigned char)(0x80 | (cp & 63)), n = 3;
    else
        u[0] = (unsigned char)(0xf0 | cp >> 18), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), u[3] = (unsigned char)(0x80 | (cp & 63)), n = 4;
    hb_put(b, u, n);
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    int k;
    for (k = 0; k < 4; k++) {
        int c = (unsigned char)p[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Appends the text of v: a string unescaped, a number or true/false as written. -1 for null,
   objects and arrays (and nothing is appended). */
static int j_text(jv v, hbuf *out)
{
    const char *p, *e;
    if (v.n == 0) return -1;
    if (v.p[0] != '"') {
        if (v.p[0] == '{' || v.p[0] == '[' || v.p[0] == 'n') return -1;
        hb_put(out, v.p, v.n);
        return 0;
    }
    hb_put(out, "", 0);
    for (p = v.p + 1, e = v.p + v.n - 1; p < e; p++) {
        const char *run = p;
        while (p < e && *p != '\\') p++;
        hb_put(out, run, (size_t)(p - run));
        if (p >= e) break;
        p++;
        switch (*p) {
        case 'b': hb_put(out, "\b", 1); break;
        case 'f': hb_put(out, "\f", 1); break;
        case 'n': hb_put(out, "\n", 1); break;
        case 'r': hb_put(out, "\r", 1); break;
        case 't': hb_put(out, "\t", 1); break;
        case 'u': {
            unsigned cp = hex4(p + 1);
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && p + 6 < e && p[1] == '\\' && p[2] == 'u') {
                unsigned lo = hex4(p + 3);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; /* a lone surrogate */
            put_utf8(out, cp);
            break;
        }
        default: hb_put(out, p, 1); break; /* \" \\ \/ */
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ the reader, for emu_tel.c */

/* p[0..n) is exactly one JSON value (whitespace around it allowed) in valid UTF-8. */
int json_valid(const char *p, size_t n)
{
    const char *e = p + n, *q = j_end(p, e, 0);
    return q && j_ws(q, e) == e && utf8_valid(p, n);
}

/* The raw text of member `name` of the (valid) JSON object p[0..n). 0, or -1 if absent. */
int json_member(const char *p, size_t n, const char *name, const char **vp, size_t *vn)
{
    jv v, out;
    const char *s = j_ws(p, p + n);
    v.p = s;
    v.n = (size_t)(p + n - s);
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t' || v.p[v.n - 1] == '\n' || v.p[v.n - 1] == '\r')) v.n--;
    if (j_get(v, name, &out) != 0) return -1;
    *vp = out.p;
    *vn = out.n;
    return 0;
}

/* Element k of the (valid) JSON array p[0..n). 0, or -1 if there is none. */
int json_element(const char *p, size_t n, size_t k, const char **vp, size_t *vn)
{
    jv v, key, val;
    jit it;
    size_t i = 0;
    v.p = p;
    v.n = n;
    if (j_iter(v, &it) != 0 || it.obj) return -1;
    while (j_next(&it, &key, &val))
        if (i++ == k) {
            *vp = val.p;
            *vn = val.n;
            return 0;
        }
    return -1;
}

/* A JSON string value p[0..n) unescaped into out (NUL-terminated). 0, or -1 if it is not a
   string. */
int json_string_value(const char *p, size_t n, hbuf *out)
{
    jv v;
    v.p = p;
    v.n = n;
    if (n < 2 || p[0] != '"') return -1;
    out->len = 0;
    if (j_text(v, out) != 0) return -1;
    hb_put(out, "", 1); /* the NUL */
    out->len--;
    return 0;
}

/* ------------------------------------------------------------------ the HTTP answer */

void http_answer_free(http_answer *a)
{
    hb_free(&a->headers);
    hb_free(&a->body);
}

static int token_char(int c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Headers we write ourselves (framing), never taken from the function. */
static int framing_header(const char *n)
{
    return ieq(n, "Content-Length") || ieq(n, "Transfer-Encoding") || ieq(n, "Connection") || ieq(n, "Keep-Alive") ||
           ieq(n, "Date") || ieq(n, "Trailer") || ieq(n, "Upgrade");
}

static int add_header(http_answer *a, const char *name, jv value)
{
    hbuf v;
    size_t i;
    int rc = 0;
    memset(&v, 0, sizeof v);
    if (!*name || framing_header(name)) return 0;
    for (i = 0; name[i]; i++)
        if (!token_char((unsigned char)name[i])) return -1;
    if (j_text(value, &v) != 0) return 0; /* null: no header */
    if (!header_value_ok(v.p, v.len)) rc = -1;
    else {
        hb_fmt(&a->headers, "%s: %s\r\n", name, v.p);
        if (ieq(name, "Content-Type")) a->has_type = 1;
    }
    hb_free(&v);
    return rc;
}

/* "headers" (and, when multi is set, "multiValueHeaders") of an answer object. A name that is in
   multiValueHeaders is taken from there only. */
static int add_headers(http_answer *a, jv root, int multi, char *why, size_t whycap)
{
    jv hs, mh, k, v, e;
    jit it, ei;
    int have_multi = multi && j_get(root, "multiValueHeaders", &mh) == 0 && mh.p[0] == '{';
    if (j_get(root, "headers", &hs) == 0 && hs.p[0] == '{') {
        j_iter(hs, &it);
        while (j_next(&it, &k, &v)) {
            hbuf name;
            int skip = 0;
            memset(&name, 0, sizeof name);
            j_text(k, &name);
            if (have_multi) {
                jit mi;
                jv mk, mv;
                hbuf mn;
                j_iter(mh, &mi);
                while (!skip && j_next(&mi, &mk, &mv)) {
                    memset(&mn, 0, sizeof mn);
                    j_text(mk, &mn);
                    skip = ieq(mn.p, name.p);
                    hb_free(&mn);
                }
            }
            if (!skip && add_header(a, name.p, v) != 0) {
                snprintf(why, whycap, "header '%.100s' has a bad name or value", name.p);
                hb_free(&name);
                return -1;
            }
            hb_free(&name);
        }
    }
    if (have_multi) {
        j_iter(mh, &it);
        while (j_next(&it, &k, &v)) {
            hbuf name;
            memset(&name, 0, sizeof name);
            j_text(k, &name);
            if (j_iter(v, &ei) == 0 && !ei.obj) {
                jv dk;
                while (j_next(&ei, &dk, &e))
                    if (add_header(a, name.p, e) != 0) {
                        snprintf(why, whycap, "header '%.100s' has a bad name or value", name.p);
                        hb_free(&name);
                        return -1;
                    }
            }
            hb_free(&name);
        }
    }
    return 0;
}

/* Turns a result (or, with prelude set, a streamed answer's prelude) into an HTTP answer.
   Payload 2.0 (function URLs): an object with a statusCode is the answer; anything else is
   the body of a 200 application/json answer. 1.0 and ALB need the statusCode. Returns 0, or -1
   with why filled in: the client then gets 502. */
int http_answer_parse(const char *doc, size_t len, int format, int prelude, http_answer *a, char *why, size_t whycap)
{
    const char *e = doc + len, *start = j_ws(doc, e), *end = j_end(start, e, 0);
    jv root, sc, v, k, el;
    jit it;
    memset(a, 0, sizeof *a);
    why[0] = 0;
    root.p = start;
    root.n = end ? (size_t)(end - start) : 0;
    if (!end || j_ws(end, e) != e || *start != '{' || (!prelude && j_get(root, "statusCode", &sc) != 0)) {
        if (prelude) {
            snprintf(why, whycap, "the streamed answer's prelude is not a JSON object");
            return -1;
        }
        if (format != HTTP_FMT_URL) {
            snprintf(why, whycap, "the function's answer is not a JSON object with a statusCode");
            return -1;
        }
        a->status = 200;
        hb_str(&a->headers, "Content-Type: application/json\r\n");
        a->has_type = 1;
        hb_put(&a->body, doc, len);
        return 0;
    }
    a->status = 200;
    if (j_get(root, "statusCode", &sc) == 0) {
        hbuf t;
        char *te;
        long st;
        memset(&t, 0, sizeof t);
        if (j_text(sc, &t) != 0 || !t.p) st = -1;
        else st = strtol(t.p, &te, 10), st = *te ? -1 : st;
        hb_free(&t);
        if (st < 200 || st > 599) {
            snprintf(why, whycap, "statusCode %.*s is not a status from 200 to 599", (int)(sc.n > 40 ? 40 : sc.n), sc.p);
            return -1;
        }
        a->status = (int)st;
    }
    if (add_headers(a, root, !prelude && format != HTTP_FMT_URL, why, whycap) != 0) return -1;
    if ((prelude || format == HTTP_FMT_URL) && j_get(root, "cookies", &v) == 0 && j_iter(v, &it) == 0 && !it.obj) {
        while (j_next(&it, &k, &el)) {
            hbuf c;
            memset(&c, 0, sizeof c);
            if (j_text(el, &c) != 0) {
                if (el.p[0] != 'n') {
                    snprintf(why, whycap, "cookies must be strings");
                    return -1;
                }
            } else if (!header_value_ok(c.p, c.len)) {
                snprintf(why, whycap, "a cookie holds CR, LF or NUL");
                hb_free(&c);
                return -1;
            } else {
                hb_fmt(&a->headers, "Set-Cookie: %s\r\n", c.p);
            }
            hb_free(&c);
        }
    }
    if (format == HTTP_FMT_ALB && !prelude && j_get(root, "statusDescription", &v) == 0) {
        hbuf d;
        const char *r;
        memset(&d, 0, sizeof d);
        if (j_text(v, &d) == 0 && d.p && header_value_ok(d.p, d.len)) {
            r = d.p + strspn(d.p, "0123456789");
            r += strspn(r, " ");
            snprintf(a->reason, sizeof a->reason, "%s", r);
        }
        hb_free(&d);
    }
    if (prelude) return 0;
    if (j_get(root, "body", &v) == 0 && j_text(v, &a->body) != 0 && v.p[0] != 'n') hb_put(&a->body, v.p, v.n);
    if (j_get(root, "isBase64Encoded", &v) == 0 && v.n == 4 && memcmp(v.p, "true", 4) == 0 && a->body.len > 0) {
        char *dec;
        size_t dl;
        if (b64_decode(a->body.p, &dec, &dl) != 0) {
            snprintf(why, whycap, "isBase64Encoded is true but the body is not base64");
            return -1;
        }
        a->body.len = 0;
        hb_put(&a->body, dec, dl);
        free(dec);
    }
    return 0;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}
