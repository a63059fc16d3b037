/* rapi_server.c - see rapi_server.h */
#include "rapi_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- small utilities ---- */

static long long rapi__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rapi__left(long long deadline)
{
    long long d = deadline - rapi__now_ms();
    if (d < 0) return 0;
    if (d > 1000000) return 1000000;
    return (int)d;
}

static void rapi__sleep_us(unsigned us)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int rapi__sys(rapi_server *s, const char *op)
{
    s->last_errno = errno;
    s->last_op = op;
    return RAPI_EIO;
}

static int rapi__lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int rapi__ieq(const char *a, const char *b)
{
    while (*a && *b && rapi__lower((unsigned char)*a) == rapi__lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == 0 && *b == 0;
}

const char *rapi_strerror(int err)
{
    switch (err) {
    case RAPI_OK: return "ok";
    case RAPI_ETIMEOUT: return "timed out";
    case RAPI_ECLOSED: return "peer closed the connection mid-request";
    case RAPI_EPROTO: return "malformed HTTP request";
    case RAPI_ETOOBIG: return "request over the size limit";
    case RAPI_EIO: return "socket error";
    case RAPI_ENOMEM: return "out of memory";
    case RAPI_ENOCONN: return "no connection";
    default: return "unknown error";
    }
}

const char *rapi_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 500: return "Internal Server Error";
    default: return "Status";
    }
}

/* ---- listening and connections ---- */

int rapi_server_open(rapi_server *s)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;
    memset(s, 0, sizeof *s);
    s->conn_fd = -1;
    s->max_head = RAPI_DEFAULT_MAX_HEAD;
    s->max_body = RAPI_DEFAULT_MAX_BODY;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->listen_fd < 0) return rapi__sys(s, "socket");
    (void)fcntl(s->listen_fd, F_SETFD, FD_CLOEXEC);
    (void)setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    a.sin_port = 0;
    if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &al) != 0) {
        int rc = rapi__sys(s, "bind/listen");
        close(s->listen_fd);
        s->listen_fd = -1;
        return rc;
    }
    s->port = ntohs(a.sin_port);
    return RAPI_OK;
}

unsigned short rapi_server_port(const rapi_server *s)
{
    return s->port;
}

void rapi_server_close_conn(rapi_server *s)
{
    if (s->conn_fd >= 0) close(s->conn_fd);
    s->conn_fd = -1;
    s->in_len = 0;
}

void rapi_server_stop_listening(rapi_server *s)
{
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
}

void rapi_server_close(rapi_server *s)
{
    rapi_server_close_conn(s);
    rapi_server_stop_listening(s);
    free(s->in);
    s->in = NULL;
    s->in_cap = 0;
}

static int rapi__accept_now(rapi_server *s)
{
    int fd, one = 1;
    do {
        fd = accept(s->listen_fd, NULL, NULL);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return rapi__sys(s, "accept");
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rapi_server_close_conn(s);
    s->conn_fd = fd;
    s->accepts++;
    return RAPI_OK;
}

/* Waits until fd is ready for `events` (POLLIN/POLLOUT) or the deadline passes:
   RAPI_OK, RAPI_ETIMEOUT or RAPI_EIO. */
static int rapi__wait(rapi_server *s, int fd, short events, long long deadline)
{
    struct pollfd p;
    int n;
    for (;;) {
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, rapi__left(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return rapi__sys(s, "poll");
        return n == 0 ? RAPI_ETIMEOUT : RAPI_OK;
    }
}

int rapi_server_accept(rapi_server *s, int timeout_ms)
{
    int rc;
    if (s->listen_fd < 0) return RAPI_EIO;
    rc = rapi__wait(s, s->listen_fd, POLLIN, rapi__now_ms() + timeout_ms);
    return rc ? rc : rapi__accept_now(s);
}

/* Reads whatever is available into s->in (waiting up to the deadline).
   Returns bytes read (>0), 0 on EOF, or a negative RAPI_E*. */
static int rapi__fill(rapi_server *s, long long deadline)
{
    ssize_t r;
    int n;
    if (s->conn_fd < 0) return RAPI_ENOCONN;
    if (s->in_cap - s->in_len < 65536) {
        size_t cap = s->in_cap ? s->in_cap * 2 : 131072;
        char *nb = (char *)realloc(s->in, cap);
        if (!nb) return RAPI_ENOMEM;
        s->in = nb;
        s->in_cap = cap;
    }
    for (;;) {
        r = recv(s->conn_fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
        if (r > 0) {
            s->in_len += (size_t)r;
            return r > 0x7fffffff ? 0x7fffffff : (int)r;
        }
        if (r == 0) return 0;
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) return 0; /* treat a reset like a close */
        if (errno != EAGAIN && errno != EWOULDBLOCK) return rapi__sys(s, "recv");
        if ((n = rapi__wait(s, s->conn_fd, POLLIN, deadline)) != RAPI_OK) return n;
    }
}

/* Waits until there is at least one unread byte on some connection, following the client to a
   new connection when it closes the old one (or abandons it). RAPI_OK when s->in_len > 0. */
static int rapi__await_first_byte(rapi_server *s, long long deadline)
{
    struct pollfd p[2];
    int n, rc;
    while (s->in_len == 0) {
        int np = 0, ci = -1, li = -1;
        if (s->conn_fd >= 0) {
            p[np].fd = s->conn_fd;
            p[np].events = POLLIN;
            p[np].revents = 0;
            ci = np++;
        }
        if (s->listen_fd >= 0) {
            p[np].fd = s->listen_fd;
            p[np].events = POLLIN;
            p[np].revents = 0;
            li = np++;
        }
        if (np == 0) return RAPI_ENOCONN;
        n = poll(p, (nfds_t)np, rapi__left(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return rapi__sys(s, "poll");
        if (n == 0) return RAPI_ETIMEOUT;
        if (ci >= 0 && p[ci].revents) {
            rc = rapi__fill(s, deadline);
            if (rc == 0) { /* closed between requests: follow the client to its next connection */
                s->peer_closes++;
                rapi_server_close_conn(s);
                continue;
            }
            if (rc < 0 && rc != RAPI_ETIMEOUT) return rc;
            continue;
        }
        if (li >= 0 && p[li].revents) {
            if (s->conn_fd >= 0) s->abandoned++;
            rc = rapi__accept_now(s);
            if (rc != RAPI_OK) return rc;
        }
    }
    return RAPI_OK;
}

/* Makes sure s->in holds at least `need` bytes. */
static int rapi__need(rapi_server *s, size_t need, long long deadline)
{
    while (s->in_len < need) {
        int rc = rapi__fill(s, deadline);
        if (rc == 0) return RAPI_ECLOSED;
        if (rc < 0) return rc;
    }
    return RAPI_OK;
}

/* Finds CRLF at or after `from`, reading more if needed; *eol = index of the CR. */
static int rapi__find_crlf(rapi_server *s, size_t from, size_t limit, size_t *eol, long long deadline)
{
    size_t i = from;
    for (;;) {
        for (; i + 1 < s->in_len; i++) {
            if (s->in[i] == '\r' && s->in[i + 1] == '\n') {
                *eol = i;
                return RAPI_OK;
            }
        }
        if (s->in_len - from > limit) return RAPI_ETOOBIG;
        {
            int rc = rapi__fill(s, deadline);
            if (rc == 0) return RAPI_ECLOSED;
            if (rc < 0) return rc;
        }
    }
}

static char *rapi__trim(char *b, char *e)
{
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = 0;
    return b;
}

/* Parses "Name: value" lines in [p, end) separated by CRLF into hdrs. */
static int rapi__parse_fields(char *p, char *end, rapi_header *hdrs, size_t *num)
{
    *num = 0;
    while (p < end) {
        char *eol = p, *colon;
        while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n')) eol++;
        if (eol + 1 >= end) return RAPI_EPROTO;
        if (eol == p) return RAPI_EPROTO; /* empty line inside the block */
        colon = (char *)memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) return RAPI_EPROTO;
        if (*num >= RAPI_MAX_HEADERS) return RAPI_ETOOBIG;
        *colon = 0;
        hdrs[*num].name = p;
        hdrs[*num].value = rapi__trim(colon + 1, eol);
        (*num)++;
        p = eol + 2;
    }
    return RAPI_OK;
}

static const char *rapi__find(const rapi_header *h, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (rapi__ieq(h[i].name, name)) return h[i].value;
    return NULL;
}

const char *rapi_request_header(const rapi_request *req, const char *name)
{
    return rapi__find(req->headers, req->num_headers, name);
}

const char *rapi_request_trailer(const rapi_request *req, const char *name)
{
    return rapi__find(req->trailers, req->num_trailers, name);
}

size_t rapi_request_header_count(const rapi_request *req, const char *name)
{
    size_t i, c = 0;
    for (i = 0; i < req->num_headers; i++)
        if (rapi__ieq(req->headers[i].name, name)) c++;
    return c;
}

void rapi_request_free(rapi_request *req)
{
    free(req->raw);
    free(req->body);
    free(req->store_);
    free(req->tstore_);
    memset(req, 0, sizeof *req);
}

static int rapi__body_append(char **body, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        char *nb;
        while (c < *len + n + 1) c *= 2;
        nb = (char *)realloc(*body, c);
        if (!nb) return RAPI_ENOMEM;
        *body = nb;
        *cap = c;
    }
    memcpy(*body + *len, p, n);
    *len += n;
    (*body)[*len] = 0;
    return RAPI_OK;
}

static int rapi__parse_size_dec(const char *v, size_t *out)
{
    size_t n = 0;
    if (!*v) return RAPI_EPROTO;
    for (; *v; v++) {
        if (*v < '0' || *v > '9') return RAPI_EPROTO;
        if (n > ((size_t)-1 - 9) / 10) return RAPI_ETOOBIG;
        n = n * 10 + (size_t)(*v - '0');
    }
    *out = n;
    return RAPI_OK;
}

static int rapi__read_request(rapi_server *s, rapi_request *req, long long deadline)
{
    size_t eoh = 0, i, end, body_cap = 0;
    char *p, *line_end, *sp1, *sp2;
    const char *te, *cl;
    int rc;

    rc = rapi__await_first_byte(s, deadline);
    if (rc != RAPI_OK) return rc;
    req->conn_seq = s->accepts;

    /* head: up to and including CRLFCRLF */
    for (i = 0;;) {
        for (; i + 3 < s->in_len; i++)
            if (memcmp(s->in + i, "\r\n\r\n", 4) == 0) break;
        if (i + 3 < s->in_len) {
            eoh = i + 4;
            break;
        }
        if (s->in_len > s->max_head) return RAPI_ETOOBIG;
        rc = rapi__fill(s, deadline);
        if (rc == 0) return RAPI_ECLOSED;
        if (rc < 0) return rc;
    }
    if (eoh > s->max_head) return RAPI_ETOOBIG;
    req->head_len = eoh;
    req->store_ = (char *)malloc(eoh + 1);
    if (!req->store_) return RAPI_ENOMEM;
    memcpy(req->store_, s->in, eoh);
    req->store_[eoh] = 0;

    /* request line */
    p = req->store_;
    line_end = strstr(p, "\r\n");
    if (!line_end) return RAPI_EPROTO; /* a NUL in the request line */
    *line_end = 0;
    sp1 = strchr(p, ' ');
    if (!sp1) return RAPI_EPROTO;
    *sp1 = 0;
    sp2 = strchr(sp1 + 1, ' ');
    if (!sp2) return RAPI_EPROTO;
    *sp2 = 0;
    req->method = p;
    req->target = sp1 + 1;
    req->version = sp2 + 1;
    if (!*req->method || !*req->target || strncmp(req->version, "HTTP/1.", 7) != 0) return RAPI_EPROTO;
    rc = rapi__parse_fields(line_end + 2, req->store_ + eoh - 2, req->headers, &req->num_headers);
    if (rc != RAPI_OK) return rc;

    te = rapi_request_header(req, "Transfer-Encoding");
    cl = rapi_request_header(req, "Content-Length");
    req->body = (char *)malloc(1);
    if (!req->body) return RAPI_ENOMEM;
    req->body[0] = 0;
    body_cap = 1;
    end = eoh;
    if (te) {
        if (!rapi__ieq(te, "chunked") || cl) return RAPI_EPROTO;
        req->chunked = 1;
        for (;;) {
            size_t eol, size = 0, j;
            int digits = 0;
            rc = rapi__find_crlf(s, end, 4096, &eol, deadline);
            if (rc != RAPI_OK) return rc;
            for (j = end; j < eol; j++) {
                char c = s->in[j];
                int d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else break;
                if (++digits > 15) return RAPI_ETOOBIG;
                size = size * 16 + (size_t)d;
            }
            if (digits == 0 || (j < eol && s->in[j] != ';' && s->in[j] != ' ' && s->in[j] != '\t'))
                return RAPI_EPROTO;
            end = eol + 2;
            if (size == 0) break;
            if (req->body_len + size > s->max_body) return RAPI_ETOOBIG;
            rc = rapi__need(s, end + size + 2, deadline);
            if (rc != RAPI_OK) return rc;
            if (s->in[end + size] != '\r' || s->in[end + size + 1] != '\n') return RAPI_EPROTO;
            rc = rapi__body_append(&req->body, &req->body_len, &body_cap, s->in + end, size);
            if (rc != RAPI_OK) return rc;
            end += size + 2;
        }
        { /* trailers: lines until an empty one */
            size_t tstart = end, eol;
            for (;;) {
                rc = rapi__find_crlf(s, end, s->max_head, &eol, deadline);
                if (rc != RAPI_OK) return rc;
                if (eol == end) {
                    end = eol + 2;
                    break;
                }
                end = eol + 2;
            }
            if (end - 2 > tstart) {
                size_t tl = end - 2 - tstart;
                req->tstore_ = (char *)malloc(tl + 1);
                if (!req->tstore_) return RAPI_ENOMEM;
                memcpy(req->tstore_, s->in + tstart, tl);
                req->tstore_[tl] = 0;
                rc = rapi__parse_fields(req->tstore_, req->tstore_ + tl, req->trailers, &req->num_trailers);
                if (rc != RAPI_OK) return rc;
            }
        }
    } else if (cl) {
        size_t n;
        rc = rapi__parse_size_dec(cl, &n);
        if (rc != RAPI_OK) return rc;
        if (n > s->max_body) return RAPI_ETOOBIG;
        rc = rapi__need(s, eoh + n, deadline);
        if (rc != RAPI_OK) return rc;
        rc = rapi__body_append(&req->body, &req->body_len, &body_cap, s->in + eoh, n);
        if (rc != RAPI_OK) return rc;
        end = eoh + n;
    }

    req->raw = (char *)malloc(end + 1);
    if (!req->raw) return RAPI_ENOMEM;
    memcpy(req->raw, s->in, end);
    req->raw[end] = 0;
    req->raw_len = end;
    memmove(s->in, s->in + end, s->in_len - end);
    s->in_len -= end;
    return RAPI_OK;
}

int rapi_server_read_request(rapi_server *s, rapi_request *req, int timeout_ms)
{
    int rc;
    memset(req, 0, sizeof *req);
    rc = rapi__read_request(s, req, rapi__now_ms() + timeout_ms);
    if (rc != RAPI_OK) rapi_request_free(req);
    return rc;
}

int rapi_server_wait_closed(rapi_server *s, int timeout_ms)
{
    long long deadline = rapi__now_ms() + timeout_ms;
    int rc;
    if (s->conn_fd < 0) return 1;
    rc = rapi__fill(s, deadline);
    if (rc == 0) {
        s->peer_closes++;
        rapi_server_close_conn(s);
        return 1;
    }
    return 0;
}

/* ---- responses ---- */

void rapi_response_init(rapi_response *r, int status)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    r->close_after = -1;
}

typedef struct rapi__sb {
    char *p;
    size_t len, cap;
    int oom;
} rapi__sb;

static void rapi__sb_put(rapi__sb *b, const void *d, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 1024;
        char *nb;
        while (c < b->len + n + 1) c *= 2;
        nb = (char *)realloc(b->p, c);
        if (!nb) {
            b->oom = 1;
            return;
        }
        b->p = nb;
        b->cap = c;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void rapi__sb_str(rapi__sb *b, const char *s)
{
    if (s) rapi__sb_put(b, s, strlen(s));
}

int rapi_response_serialize(const rapi_response *r, char **out, size_t *out_len)
{
    rapi__sb b;
    char line[128];
    const char *body = (const char *)r->body;
    memset(&b, 0, sizeof b);
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", r->status, r->reason ? r->reason : rapi_status_reason(r->status));
    rapi__sb_str(&b, line);
    rapi__sb_str(&b, r->headers);
    if (r->no_length) {
        rapi__sb_str(&b, "\r\n");
        rapi__sb_put(&b, body, r->body_len);
    } else if (r->chunk_size == 0) {
        snprintf(line, sizeof line, "Content-Length: %lu\r\n\r\n", (unsigned long)r->body_len);
        rapi__sb_str(&b, line);
        rapi__sb_put(&b, body, r->body_len);
    } else {
        size_t off = 0;
        rapi__sb_str(&b, "Transfer-Encoding: chunked\r\n\r\n");
        while (off < r->body_len) {
            size_t n = r->body_len - off < r->chunk_size ? r->body_len - off : r->chunk_size;
            snprintf(line, sizeof line, r->upper_hex ? "%lX" : "%lx", (unsigned long)n);
            rapi__sb_str(&b, line);
            rapi__sb_str(&b, r->chunk_ext);
            rapi__sb_str(&b, "\r\n");
            rapi__sb_put(&b, body + off, n);
            rapi__sb_str(&b, "\r\n");
            off += n;
        }
        rapi__sb_str(&b, "0");
        rapi__sb_str(&b, r->chunk_ext);
        rapi__sb_str(&b, "\r\n");
        rapi__sb_str(&b, r->trailers);
        rapi__sb_str(&b, "\r\n");
    }
    if (b.oom) {
        free(b.p);
        return RAPI_ENOMEM;
    }
    *out = b.p;
    *out_len = b.len;
    return RAPI_OK;
}

int rapi_server_send_raw(rapi_server *s, const void *data, size_t len, size_t slice,
                         unsigned slice_delay_us, long close_after, int timeout_ms)
{
    const char *p = (const char *)data;
    long long deadline = rapi__now_ms() + timeout_ms;
    size_t off = 0, limit = len;
    int first = 1;
    if (s->conn_fd < 0) return RAPI_ENOCONN;
    if (close_after >= 0 && (size_t)close_after < limit) limit = (size_t)close_after;
    while (off < limit) {
        size_t n = limit - off;
        ssize_t w;
        if (slice && n > slice) n = slice;
        if (!first && slice_delay_us) rapi__sleep_us(slice_delay_us);
        first = 0;
        for (;;) {
            w = send(s->conn_fd, p + off, n, MSG_NOSIGNAL);
            if (w >= 0) break;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int pr = rapi__wait(s, s->conn_fd, POLLOUT, deadline);
                if (pr != RAPI_OK) return pr;
                continue;
            }
            return rapi__sys(s, "send");
        }
        off += (size_t)w;
    }
    if (close_after >= 0 && (size_t)close_after <= len) rapi_server_close_conn(s);
    return RAPI_OK;
}

int rapi_server_send(rapi_server *s, const rapi_response *r, int timeout_ms)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    if (s->conn_fd < 0) return RAPI_ENOCONN;
    rc = rapi_response_serialize(r, &buf, &len);
    if (rc != RAPI_OK) return rc;
    rc = rapi_server_send_raw(s, buf, len, r->slice, r->slice_delay_us, r->close_after, timeout_ms);
    free(buf);
    if (rc == RAPI_OK && r->close_at_end) rapi_server_close_conn(s);
    return rc;
}
