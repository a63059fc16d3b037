/* emu_http.c - lambda-emu: the HTTP front (--http [HOST:]PORT).

   Real HTTP/1.1 clients (curl, a browser) connect here. Each request becomes an event (a
   function URL event, payload 2.0, or with --http-format a REST API 1.0 or ALB event: built in
   emu_http_json.c) in the same queue as every other event, so invocations are serialized
   unless --concurrency N. The result becomes the HTTP answer: the function URL response
   object (status, headers, cookies as Set-Cookie, base64 bodies decoded), or anything else as
   a 200 application/json body; a function error 502, a timeout 504. A streamed response is
   forwarded as it arrives, as a chunked body: with the content type
   application/vnd.awslambda.http-integration-response its prelude (JSON, then 8 NUL bytes)
   gives the status and headers and is never sent; any other content type is forwarded as it is.

   Connections: up to EMU_HTTP_MAX_CONNS clients, each a rapi_server with no listening socket
   (rapi's parser and buffer, as for Runtime API connections), keep-alive for HTTP/1.1, one
   request at a time per connection (a pipelined request waits in the buffer). A connection
   with a request in flight is not polled. Limits: a head over 64 KiB gets 431, a body over
   6,291,456 bytes 413 (before it is read: from Content-Length, or as a chunked body grows),
   with "Expect: 100-continue" answered only when the size is fine; after an early error answer
   the rest of the request is read and dropped for up to EMU_HTTP_LINGER_MS (so that the client
   sees the answer rather than a reset). A client that takes longer than --http-read-timeout to
   send a head, pauses that long in a body, or takes EMU_HTTP_REQUEST_MS for a whole request
   is dropped with 408; an idle keep-alive connection is closed after EMU_HTTP_IDLE_MS. Writes
   are bounded by EMU_SEND_TIMEOUT_MS. */
#include "emu.h"

#include <strings.h>

enum { S_NONE, S_PRELUDE, S_BODY }; /* a streamed answer: waiting for the prelude, forwarding */

typedef struct hconn {
    rapi_server rs;           /* no listening socket; rs.in holds what arrived */
    unsigned id;
    char peer[INET_ADDRSTRLEN];
    char rid[37];             /* the request id of the invocation answering it ("" when idle) */
    char line[200];           /* "GET /path?query HTTP/1.1" for the access log */
    int keep_alive;           /* after this answer */
    int head_only;            /* a HEAD request: no body in the answer */
    int http10;               /* an HTTP/1.0 client: no chunked bodies, close after the answer */
    int continued;            /* "100 Continue" sent for the request being read */
    int head_seen;            /* the head of the request being read is complete */
    long long req_start_ns;   /* its first byte (0: nothing of a request buffered) */
    long long last_rx_ns, idle_since_ns, t0_ns;
    long long linger_until_ns; /* reading and dropping input after an early error answer */
    int s_mode;               /* S_* */
    int s_status;
    size_t s_bytes;           /* body bytes sent */
    hbuf s_pre;               /* the prelude received so far */
} hconn;

struct http_front {
    int fd;
    unsigned short port;
    hconn **c;
    size_t n, cap;
    unsigned seq;
    hconn **polled;           /* the connection behind each pollfd of http_pollfds (after the listener) */
    size_t npolled, cap_polled;
    char url_id[33];          /* the function URL id (apiId, domainPrefix) */
};

static const char prelude_type[] = "application/vnd.awslambda.http-integration-response";

/* ------------------------------------------------------------------ connections */

static hconn *find(const emu *m, unsigned id)
{
    size_t i;
    if (!m->http || !id) return NULL;
    for (i = 0; i < m->http->n; i++)
        if (m->http->c[i]->id == id) return m->http->c[i];
    return NULL;
}

static void hclose(hconn *hc)
{
    rapi_server_close_conn(&hc->rs);
    hc->linger_until_ns = 0;
}

/* Closes after the answer without losing it: no more writes, then read and drop what the
   client still sends, until it closes or EMU_HTTP_LINGER_MS. */
static void linger_close(hconn *hc)
{
    if (hc->rs.conn_fd < 0) return;
    (void)shutdown(hc->rs.conn_fd, SHUT_WR);
    hc->rs.in_len = 0;
    hc->linger_until_ns = now_ns() + EMU_HTTP_LINGER_MS * 1000000LL;
}

static void drain(hconn *hc)
{
    char buf[65536];
    int k;
    for (k = 0; k < 64; k++) {
        ssize_t r = recv(hc->rs.conn_fd, buf, sizeof buf, 0);
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        hclose(hc); /* EOF or an error */
        return;
    }
}

static int hsend(emu *m, hconn *hc, const void *p, size_t n)
{
    if (hc->rs.conn_fd < 0) return -1;
    if (rapi_server_send_raw(&hc->rs, p, n, 0, 0, -1, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("http: client %s (connection %u) went away", hc->peer, hc->id);
        hclose(hc);
        return -1;
    }
    return 0;
}

/* How the body of an answer is framed. */
enum { F_LENGTH, F_CHUNKED, F_NONE };

/* The head of an answer: status line, Date, the function's headers, our own, the framing. */
static void put_head(hbuf *h, hconn *hc, int status, const char *reason, const char *headers, int framing, size_t len)
{
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    int bodyless = status == 204 || status == 304;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    hb_fmt(h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, reason && *reason ? reason : http_reason(status), date);
    if (headers) hb_str(h, headers);
    if (hc->rid[0]) hb_fmt(h, "X-Amzn-RequestId: %s\r\n", hc->rid);
    if (framing == F_CHUNKED && hc->http10) framing = F_NONE; /* HTTP/1.0: the body ends at the close */
    if (framing == F_NONE && !bodyless && !hc->head_only) hc->keep_alive = 0;
    if (!bodyless) {
        if (framing == F_LENGTH) hb_fmt(h, "Content-Length: %lu\r\n", (unsigned long)len);
        else if (framing == F_CHUNKED) hb_str(h, "Transfer-Encoding: chunked\r\n");
    }
    hb_str(h, hc->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
}

static void http_read(emu *m, hconn *hc);

/* The answer is out: the access log line, then the next request (keep-alive) or the close. */
static void answer_done(emu *m, hconn *hc, int status, size_t bytes)
{
    long long t = now_ns();
    if (!m->cfg.quiet)
        logf_("http %s \"%s\" %d %lu bytes %.2f ms%s", hc->peer, hc->line, status, (unsigned long)bytes,
              (double)(t - hc->t0_ns) / 1e6, hc->rs.conn_fd < 0 ? " (connection lost)" : "");
    hc->rid[0] = 0;
    hc->s_mode = S_NONE;
    hb_free(&hc->s_pre);
    if (hc->rs.conn_fd < 0) return;
    if (!hc->keep_alive) {
        linger_close(hc);
        return;
    }
    hc->idle_since_ns = t;
    if (hc->rs.in_len > 0) { /* a pipelined request is already buffered */
        hc->req_start_ns = t;
        http_read(m, hc);
    }
}

/* A whole answer (Content-Length framing). */
static void send_answer(emu *m, hconn *hc, int status, const char *reason, const char *headers, const char *body,
                        size_t len)
{
    hbuf h;
    int with_body = !hc->head_only && status != 204 && status != 304;
    memset(&h, 0, sizeof h);
    put_head(&h, hc, status, reason, headers, F_LENGTH, len);
    if (with_body) hb_put(&h, body, len);
    (void)hsend(m, hc, h.p, h.len);
    hb_free(&h);
    answer_done(m, hc, status, with_body ? len : 0);
}

/* An answer of the emulator's own: {"message": msg}. */
static void send_message(emu *m, hconn *hc, int status, const char *msg)
{
    char body[600], esc[400];
    json_escape(esc, sizeof esc, msg);
    snprintf(body, sizeof body, "{\"message\":\"%s\"}", esc);
    send_answer(m, hc, status, NULL, "Content-Type: application/json\r\n", body, strlen(body));
}

/* An error before the request was read to its end: answer, then close (lingering). */
static void refuse(emu *m, hconn *hc, int status, const char *msg)
{
    hc->keep_alive = 0;
    hc->t0_ns = now_ns();
    send_message(m, hc, status, msg);
}

static void accept_clients(emu *m)
{
    struct http_front *f = m->http;
    int k;
    for (k = 0; k < 16; k++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = accept(f->fd, (struct sockaddr *)&a, &al), one = 1;
        size_t i, live = 0;
        hconn *hc, *idle = NULL;
        if (fd < 0) {
            if (errno == EINTR) continue;
            return;
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (i = 0; i < f->n; i++) {
            hconn *c = f->c[i];
            if (c->rs.conn_fd < 0) continue;
            live++;
            if (!c->rid[0] && c->rs.in_len == 0 && !c->linger_until_ns && (!idle || c->idle_since_ns < idle->idle_since_ns))
                idle = c;
        }
        if (live >= EMU_HTTP_MAX_CONNS) {
            if (idle) {
                hclose(idle); /* the longest idle keep-alive connection makes room */
            } else {
                static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                logf_("http: more than %d clients at once; answered 503", EMU_HTTP_MAX_CONNS);
                (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
                close(fd);
                continue;
            }
        }
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 16;
            hconn **nc = (hconn **)realloc(f->c, cap * sizeof *nc);
            if (!nc) die_oom();
            f->c = nc;
            f->cap = cap;
        }
        hc = (hconn *)xmalloc(sizeof *hc);
        memset(hc, 0, sizeof *hc);
        hc->rs.listen_fd = -1;
        hc->rs.conn_fd = fd;
        hc->rs.max_head = EMU_HTTP_MAX_HEAD;
        hc->rs.max_body = EMU_HTTP_MAX_BODY;
        hc->id = ++f->seq;
        hc->rs.accepts = hc->id;
        hc->idle_since_ns = now_ns();
        if (!inet_ntop(AF_INET, &a.sin_addr, hc->peer, sizeof hc->peer)) strcpy(hc->peer, "127.0.0.1");
        f->c[f->n++] = hc;
        if (m->cfg.verbose) logf_("http: client %s connected (connection %u)", hc->peer, hc->id);
    }
}

/* ------------------------------------------------------------------ requests */

/* Whether a comma-separated header value holds token (case-insensitive). */
static int has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        size_t n;
        v += strspn(v, " \t,");
        n = strcspn(v, ",");
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
        if (n == tl && strncasecmp(v, token, tl) == 0) return 1;
        v += strcspn(v, ",");
    }
    return 0;
}

/* The end of the head in rs.in (just after CRLFCRLF), 0 if not there yet. */
static size_t head_end(const hconn *hc)
{
    size_t i, lim = hc->rs.in_len;
    if (lim > EMU_HTTP_MAX_HEAD + 4) lim = EMU_HTTP_MAX_HEAD + 4;
    for (i = 0; i + 3 < lim; i++)
        if (memcmp(hc->rs.in + i, "\r\n\r\n", 4) == 0) return i + 4;
    return 0;
}

/* A request still arriving: note when its head is complete, and answer "Expect: 100-continue"
   (a body that is too big has been refused by then: rapi checks Content-Length first). */
static void peek_head(emu *m, hconn *hc)
{
    size_t eoh, i;
    const char *in = hc->rs.in;
    if (hc->head_seen || !(eoh = head_end(hc))) return;
    hc->head_seen = 1;
    if (hc->continued) return;
    for (i = 0; i + 8 < eoh; i++) {
        if (in[i] != '\n' || strncasecmp(in + i + 1, "expect:", 7) != 0) continue;
        {
            const char *v = in + i + 8;
            while (*v == ' ' || *v == '\t') v++;
            if (strncasecmp(v, "100-continue", 12) == 0) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                hc->continued = 1;
                (void)hsend(m, hc, cont, sizeof cont - 1);
            }
        }
        return;
    }
}

/* One complete request: it becomes an event, queued like any other. */
static void handle_request(emu *m, hconn *hc, const rapi_request *req)
{
    struct http_front *f = m->http;
    const char *ch = rapi_request_header(req, "Connection"), *tr = rapi_request_header(req, "X-Amzn-Trace-Id");
    char rid[37];
    hbuf ev;
    event *e;
    hc->t0_ns = now_ns();
    snprintf(hc->line, sizeof hc->line, "%s %.170s %.10s", req->method, req->target, req->version);
    hc->http10 = strcmp(req->version, "HTTP/1.0") == 0;
    hc->keep_alive = !hc->http10 && !has_token(ch, "close");
    hc->head_only = strcmp(req->method, "HEAD") == 0;
    if (req->target[0] != '/' && strncmp(req->target, "http://", 7) != 0 && strncmp(req->target, "https://", 8) != 0) {
        logf_("http: request target '%.100s' is not a path; answered 400", req->target);
        refuse(m, hc, 400, "Bad request target");
        return;
    }
    new_uuid(rid);
    memset(&ev, 0, sizeof ev);
    http_event_build(m, req, hc->peer, f->port, f->url_id, rid, &ev);
    e = event_new(ev.p, ev.len);
    hb_free(&ev);
    memcpy(e->request_id, rid, sizeof rid);
    e->content_type = xstrdup("application/json");
    e->http_conn = hc->id;
    if (tr && *tr) e->trace_id = xstrdup(tr);
    memcpy(hc->rid, rid, sizeof rid);
    hc->s_mode = S_NONE;
    queue_push(m, e);
    if (m->cfg.verbose) logf_("http: %s from %s (connection %u) is invocation %s", hc->line, hc->peer, hc->id, rid);
}

/* Too big: a head over the limit (or with too many lines) gets 431, a body 413. */
static void too_big(emu *m, hconn *hc)
{
    size_t eoh = head_end(hc), i, lines = 0;
    for (i = 0; i < eoh; i++)
        if (hc->rs.in[i] == '\n') lines++;
    if (eoh && lines <= RAPI_MAX_HEADERS + 2) {
        logf_("http: request body from %s over %u bytes; answered 413", hc->peer, EMU_HTTP_MAX_BODY);
        refuse(m, hc, 413, "Request must be smaller than 6291456 bytes");
    } else {
        logf_("http: request head from %s over %u bytes or %d header lines; answered 431", hc->peer, EMU_HTTP_MAX_HEAD,
              RAPI_MAX_HEADERS);
        refuse(m, hc, 431, "Request header fields too large");
    }
}

/* Reads what arrived on a client connection, and handles a complete request. */
static void http_read(emu *m, hconn *hc)
{
    int guard;
    for (guard = 0; guard < 16 && hc->rs.conn_fd >= 0 && !hc->rid[0] && !hc->linger_until_ns; guard++) {
        rapi_request req;
        size_t before = hc->rs.in_len;
        int rc = rapi_server_read_request(&hc->rs, &req, 0);
        long long t = now_ns();
        if (hc->rs.in_len != before) hc->last_rx_ns = t;
        if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) { /* rapi_server lets NUL through */
            rapi_request_free(&req);
            rc = RAPI_EPROTO;
        }
        if (rc == RAPI_OK) {
            hc->last_rx_ns = t;
            handle_request(m, hc, &req);
            rapi_request_free(&req);
            hc->head_seen = 0;
            hc->continued = 0;
            hc->req_start_ns = hc->rs.in_len ? t : 0;
            continue;
        }
        if (rc == RAPI_ETIMEOUT) {
            if (hc->rs.in_len > 0 && !hc->req_start_ns) hc->req_start_ns = t;
            if (hc->rs.in_len > 0) peek_head(m, hc);
            return;
        }
        { /* the access log shows what the request line was, as far as it is printable */
            size_t k = 0;
            while (k < hc->rs.in_len && k < 180 && hc->rs.in[k] >= 0x20 && hc->rs.in[k] < 0x7f) k++;
            snprintf(hc->line, sizeof hc->line, "%.*s", (int)k, k ? hc->rs.in : "-");
        }
        if (rc == RAPI_ETOOBIG) {
            too_big(m, hc);
        } else if (rc == RAPI_EPROTO) {
            logf_("http: malformed request from %s; answered 400", hc->peer);
            refuse(m, hc, 400, "Malformed HTTP request");
        } else {
            if (m->cfg.verbose) logf_("http: client %s (connection %u) closed", hc->peer, hc->id);
            hclose(hc); /* closed between requests, or mid-request */
        }
        return;
    }
}

/* ------------------------------------------------------------------ streamed answers */

/* The client waiting for iv, if it is still waiting for iv (its connection may be lost: then
   writes do nothing, and the access log says so). */
static hconn *client_of(emu *m, const invocation *iv)
{
    hconn *hc = find(m, iv->ev->http_conn);
    if (!hc || strcmp(hc->rid, iv->request_id) != 0) return NULL;
    return hc;
}

static void send_chunk(emu *m, hconn *hc, const char *p, size_t n)
{
    char sz[32];
    if (n == 0 || hc->head_only) return;
    hc->s_bytes += n;
    if (hc->http10) {
        (void)hsend(m, hc, p, n);
        return;
    }
    snprintf(sz, sizeof sz, "%lx\r\n", (unsigned long)n);
    if (n <= 65536) { /* one write: size line, data, CRLF */
        hbuf c;
        memset(&c, 0, sizeof c);
        hb_str(&c, sz);
        hb_put(&c, p, n);
        hb_put(&c, "\r\n", 2);
        (void)hsend(m, hc, c.p, c.len);
        hb_free(&c);
    } else if (hsend(m, hc, sz, strlen(sz)) == 0 && hsend(m, hc, p, n) == 0) {
        (void)hsend(m, hc, "\r\n", 2);
    }
}

static void stream_head(emu *m, hconn *hc, int status, const char *reason, const char *headers)
{
    hbuf h;
    memset(&h, 0, sizeof h);
    put_head(&h, hc, status, reason, headers, F_CHUNKED, 0);
    (void)hsend(m, hc, h.p, h.len);
    hb_free(&h);
    hc->s_status = status;
    hc->s_bytes = 0;
    hc->s_mode = S_BODY;
}

void http_stream_begin(emu *m, invocation *iv, const char *content_type)
{
    hconn *hc = client_of(m, iv);
    char hdr[600];
    if (!hc) return;
    if (content_type && strncasecmp(content_type, prelude_type, sizeof prelude_type - 1) == 0 &&
        strchr("; \t", content_type[sizeof prelude_type - 1])) {
        hc->s_mode = S_PRELUDE;
        hb_free(&hc->s_pre);
        return;
    }
    snprintf(hdr, sizeof hdr, "Content-Type: %.500s\r\n", content_type ? content_type : "application/octet-stream");
    stream_head(m, hc, 200, NULL, hdr);
}

/* The prelude is complete once its first NUL and the 7 after it are in: apply it, then forward
   the bytes after it. 502 for a prelude that is not JSON, too long, or not followed by 8 NULs. */
static void try_prelude(emu *m, hconn *hc)
{
    const char *p = hc->s_pre.p, *nul = memchr(p, 0, hc->s_pre.len);
    size_t at, i;
    http_answer a;
    char why[256];
    if (!nul) {
        if (hc->s_pre.len > EMU_HTTP_MAX_PRELUDE) {
            logf_("http: streamed answer for %s has no 8 NUL bytes in its first %u bytes; answered 502", hc->rid,
                  EMU_HTTP_MAX_PRELUDE);
            send_message(m, hc, 502, "Internal Server Error");
        }
        return;
    }
    at = (size_t)(nul - p);
    if (hc->s_pre.len < at + 8) return;
    for (i = at; i < at + 8; i++)
        if (p[i] != 0) break;
    if (i < at + 8 || http_answer_parse(p, at, m->cfg.http_format, 1, &a, why, sizeof why) != 0) {
        if (i < at + 8) snprintf(why, sizeof why, "its prelude is not followed by 8 NUL bytes");
        else http_answer_free(&a);
        logf_("http: streamed answer for %s: %s; answered 502", hc->rid, why);
        send_message(m, hc, 502, "Internal Server Error");
        return;
    }
    stream_head(m, hc, a.status, a.reason, a.headers.p);
    http_answer_free(&a);
    if (hc->rs.conn_fd >= 0) send_chunk(m, hc, p + at + 8, hc->s_pre.len - at - 8);
    hb_free(&hc->s_pre);
}

void http_stream_data(emu *m, invocation *iv, const char *p, size_t n)
{
    hconn *hc = client_of(m, iv);
    if (!hc) return;
    if (hc->s_mode == S_PRELUDE) {
        hb_put(&hc->s_pre, p, n);
        try_prelude(m, hc);
    } else if (hc->s_mode == S_BODY) {
        send_chunk(m, hc, p, n);
    }
}

/* ------------------------------------------------------------------ results */

/* A failed invocation: 504 for a timeout, else 502, with the error document. */
static void send_failure(emu *m, hconn *hc, const result *r, const char *doc, size_t len)
{
    int status = r->status && strcmp(r->status, "timeout") == 0 ? 504 : 502;
    logf_("http: invocation %s failed (%s); answered %d", hc->rid, r->error_type[0] ? r->error_type : "error", status);
    send_answer(m, hc, status, NULL, "Content-Type: application/json\r\n", doc, len);
}

void http_finish(emu *m, invocation *iv, const result *r)
{
    hconn *hc = client_of(m, iv);
    http_answer a;
    char why[256];
    if (!hc) {
        if (m->cfg.verbose) logf_("http: the client of invocation %s is gone; result dropped", iv->request_id);
        return;
    }
    if (iv->streaming && hc->s_mode == S_BODY) {
        if (!r->ok || r->trailer_type) { /* the head is out: all we can do is not end the body properly */
            logf_("http: streamed answer for %s failed after its head (%s); connection cut", hc->rid,
                  r->trailer_type ? r->trailer_type : r->error_type);
            hclose(hc);
        } else if (!hc->head_only && !hc->http10) {
            (void)hsend(m, hc, "0\r\n\r\n", 5);
        }
        answer_done(m, hc, hc->s_status, hc->s_bytes);
        return;
    }
    if (r->trailer_type) { /* streamed, failed before the head: the error document is in the trailer */
        char *doc = NULL;
        size_t dl = 0;
        if (r->trailer_b64 && b64_decode(r->trailer_b64, &doc, &dl) == 0 && dl > 0) {
            send_failure(m, hc, r, doc, dl);
        } else {
            char d[300], esc[200];
            json_escape(esc, sizeof esc, r->trailer_type);
            snprintf(d, sizeof d, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
            send_failure(m, hc, r, d, strlen(d));
        }
        free(doc);
        return;
    }
    if (!r->ok) {
        send_failure(m, hc, r, r->body, r->len);
        return;
    }
    if (iv->streaming) { /* still in the prelude (or never began): the stream ended too soon */
        logf_("http: streamed answer for %s ended before its prelude and 8 NUL bytes; answered 502", hc->rid);
        send_message(m, hc, 502, "Internal Server Error");
        return;
    }
    if (http_answer_parse(r->body, r->len, m->cfg.http_format, 0, &a, why, sizeof why) != 0) {
        http_answer_free(&a);
        logf_("http: invocation %s: %s; answered 502", hc->rid, why);
        send_message(m, hc, 502, "Internal Server Error");
        return;
    }
    send_answer(m, hc, a.status, a.reason, a.headers.p, a.body.p, a.body.len);
    http_answer_free(&a);
}

/* ------------------------------------------------------------------ the loop's side */

int http_open(emu *m)
{
    struct http_front *f;
    rapi_server tmp;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    unsigned char rnd[32];
    char host[64] = "127.0.0.1";
    size_t i;
    static const char *const names[] = {"function URL events, payload 2.0", "REST API events, payload 1.0",
                                        "ALB events"};
    memset(&tmp, 0, sizeof tmp);
    if (open_listener(&tmp, m->cfg.http, 9000) != 0) return -1;
    f = (struct http_front *)xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->fd = tmp.listen_fd;
    f->port = tmp.port;
    tmp.listen_fd = -1;
    rapi_server_close(&tmp);
    (void)fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK);
    random_bytes(rnd, sizeof rnd);
    for (i = 0; i < 32; i++) f->url_id[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd[i] % 36];
    f->url_id[32] = 0;
    m->http = f;
    if (getsockname(f->fd, (struct sockaddr *)&a, &al) == 0) inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    logf_("HTTP front listening on http://%s:%u/ (%s)", host, (unsigned)f->port, names[m->cfg.http_format]);
    if (strncmp(host, "127.", 4) != 0) logf_("note: the HTTP front is reachable from other machines (%s)", host);
    return 0;
}

void http_drop_all(emu *m)
{
    size_t i;
    if (!m->http) return;
    for (i = 0; i < m->http->n; i++) hclose(m->http->c[i]);
}

static void sweep(struct http_front *f)
{
    size_t i, j = 0;
    for (i = 0; i < f->n; i++) {
        hconn *hc = f->c[i];
        if (hc->rs.conn_fd >= 0) {
            f->c[j++] = hc;
            continue;
        }
        rapi_server_close(&hc->rs);
        hb_free(&hc->s_pre);
        free(hc);
    }
    f->n = j;
}

void http_free(emu *m)
{
    if (!m->http) return;
    http_drop_all(m);
    sweep(m->http);
    if (m->http->fd >= 0) close(m->http->fd);
    free(m->http->c);
    free(m->http->polled);
    free(m->http);
    m->http = NULL;
}

size_t http_nfds(const emu *m)
{
    return m->http ? m->http->n + 1 : 0;
}

/* The listener, then every connection that has nothing in flight (the readable ones are
   served by http_service). Frees closed connections first. */
size_t http_pollfds(emu *m, struct pollfd *p, size_t cap)
{
    struct http_front *f = m->http;
    size_t i, np = 0;
    if (!f || cap == 0) return 0;
    sweep(f);
    if (f->cap_polled < f->n + 1) {
        f->cap_polled = f->n + 16;
        f->polled = (hconn **)realloc(f->polled, f->cap_polled * sizeof *f->polled);
        if (!f->polled) die_oom();
    }
    p[np].fd = f->fd;
    p[np].events = POLLIN;
    p[np].revents = 0;
    f->polled[np++] = NULL;
    for (i = 0; i < f->n && np < cap; i++) {
        hconn *hc = f->c[i];
        if (hc->rid[0] && !hc->linger_until_ns) continue;
        p[np].fd = hc->rs.conn_fd;
        p[np].events = POLLIN;
        p[np].revents = 0;
        f->polled[np++] = hc;
    }
    f->npolled = np;
    return np;
}

void http_service(emu *m, const struct pollfd *p, size_t n)
{
    struct http_front *f = m->http;
    size_t i;
    if (!f) return;
    for (i = 1; i < n && i < f->npolled; i++) {
        hconn *hc = f->polled[i];
        if (!p[i].revents || hc->rs.conn_fd < 0) continue;
        if (hc->linger_until_ns) drain(hc);
        else http_read(m, hc);
    }
    if (n > 0 && p[0].revents) accept_clients(m);
}

/* Drops stalled clients (408), closes idle keep-alive connections and finished lingers. */
void http_tick(emu *m, long long t)
{
    struct http_front *f = m->http;
    size_t i;
    long long rd = m->cfg.http_read_ms * 1000000LL;
    if (!f) return;
    for (i = 0; i < f->n; i++) {
        hconn *hc = f->c[i];
        if (hc->rs.conn_fd < 0) continue;
        if (hc->linger_until_ns) {
            if (t >= hc->linger_until_ns) hclose(hc);
            continue;
        }
        if (hc->rid[0]) continue;
        if (hc->rs.in_len > 0 && hc->req_start_ns) {
            const char *what = !hc->head_seen && t - hc->req_start_ns > rd ? "its head"
                               : hc->head_seen && t - hc->last_rx_ns > rd ? "its body"
                               : t - hc->req_start_ns > EMU_HTTP_REQUEST_MS * 1000000LL ? "all of it"
                                                                                        : NULL;
            if (what) {
                static const char msg[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                logf_("http: client %s stalled sending a request (%s; %lu bytes in %.1f s); answered 408 and dropped it",
                      hc->peer, what, (unsigned long)hc->rs.in_len, (double)(t - hc->req_start_ns) / 1e9);
                (void)send(hc->rs.conn_fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                hclose(hc);
            }
        } else if (t - hc->idle_since_ns > EMU_HTTP_IDLE_MS * 1000000LL) {
            if (m->cfg.verbose) logf_("http: closed idle connection %u of %s", hc->id, hc->peer);
            hclose(hc);
        }
    }
}

/* The next time http_tick has something to do (0: nothing planned). */
long long http_next_deadline(const emu *m)
{
    const struct http_front *f = m->http;
    long long next = 0, rd = m->cfg.http_read_ms * 1000000LL;
    size_t i;
    if (!f) return 0;
    for (i = 0; i < f->n; i++) {
        const hconn *hc = f->c[i];
        long long d;
        if (hc->rs.conn_fd < 0 || (hc->rid[0] && !hc->linger_until_ns)) continue;
        if (hc->linger_until_ns) d = hc->linger_until_ns;
        else if (hc->rs.in_len > 0 && hc->req_start_ns) d = hc->head_seen ? hc->last_rx_ns + rd : hc->req_start_ns + rd;
        else d = hc->idle_since_ns + EMU_HTTP_IDLE_MS * 1000000LL;
        if (!next || d < next) next = d;
    }
    return next;
}
