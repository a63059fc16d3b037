/* libFuzzer target, differential: the runtime's HTTP/1.1 response reader against
   http-parser 2.9 (Debian's libhttp-parser-dev, the parser Node.js used for years) in
   HTTP_RESPONSE mode.
   Ours: the input is written into a socketpair and read back by lambda__read_response, the
   function the runtime reads every Runtime API answer with: interim (1xx) heads skipped,
   lambda__parse_head, then the body by chunked decoding, Content-Length, or to the end of
   the connection; no body for 204 and 304. Theirs: http_parser_execute over the same bytes,
   then the end of the input, the way a client drives it (on_headers_complete returns 1 for
   1xx, 204 and 304: RFC 9112 6.3 rule 1 is the caller's job with this library, as for the
   answer to a HEAD).
   Compared: accept/reject, status, HTTP minor version, the framing (chunked, Content-Length
   and its value), the values of the headers the runtime exposes (lambda__header_name) after
   its documented normalisation (obs-fold -> two spaces, control bytes -> spaces, no leading
   or trailing whitespace), the body bytes, where the final head ends, and whether the
   connection may be reused. Every difference traps, except the ones tests/FUZZ_DIFF.md
   lists: each has a predicate below, named D_*, with the RFC clause, and a difference is
   let through only when its predicate holds for the input. The predicates are computed
   from the bytes and from http-parser's view of them (where its messages and heads start
   and end, its header and body pieces), never from our parser's state.
   The libhttp_parser Debian ships is built with HTTP_PARSER_STRICT=0 (checked: "HXXP/1.1"
   is accepted), which is what several predicates are about. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <ctype.h>
#include <http_parser.h>
#include <sys/socket.h>

/* a failed check names its line, then traps */
#define CHECK(c) ((c) ? (void)0 : fail(__LINE__))
static void fail(int line)
{
    fprintf(stderr, "%s:%d: undocumented difference\n", __FILE__, line);
    __builtin_trap();
}
#define MAX_BODY ((size_t)1 << 20)

/* ---- http-parser's view ------------------------------------------------------------------ */

enum { PC_FIELD, PC_VALUE, PC_BODY };
typedef struct {
    int kind, msg, trailer; /* trailer: after on_headers_complete of its message */
    size_t at, len;         /* offsets into the input */
} piece;

typedef struct {
    size_t begin, head_end, end; /* offsets: its 'H', one past its head, one past it */
    int status, major, minor, complete, keep;
    unsigned flags;              /* F_* at on_headers_complete */
    uint64_t cl;                 /* content_length at on_headers_complete */
} msg;

typedef struct {
    const char *base;
    msg *m;
    size_t nm, max_m;
    piece *pc;
    size_t npc, max_pc;
    int event;               /* the callback that paused the parser */
    long final;              /* index of the first message that is not 1xx, or -1 */
    int accepted;            /* the final message completed with no error before it */
    enum http_errno err;
} theirs;

enum { EV_NONE, EV_BEGIN, EV_HEAD, EV_END };

static theirs *cur_t(http_parser *p)
{
    return (theirs *)p->data;
}

static void add_piece(http_parser *p, int kind, const char *at, size_t len)
{
    theirs *t = cur_t(p);
    piece *x;
    CHECK(t->npc < t->max_pc && t->nm > 0);
    x = &t->pc[t->npc++];
    x->kind = kind;
    x->msg = (int)t->nm - 1;
    x->trailer = t->m[t->nm - 1].head_end != 0;
    x->at = (size_t)(at - t->base);
    x->len = len;
}

static int on_begin(http_parser *p)
{
    theirs *t = cur_t(p);
    CHECK(t->nm < t->max_m);
    memset(&t->m[t->nm++], 0, sizeof t->m[0]);
    t->event = EV_BEGIN;
    http_parser_pause(p, 1);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    add_piece(p, PC_FIELD, at, len);
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    add_piece(p, PC_VALUE, at, len);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    add_piece(p, PC_BODY, at, len);
    return 0;
}

static int on_head(http_parser *p)
{
    theirs *t = cur_t(p);
    msg *m = &t->m[t->nm - 1];
    m->status = (int)p->status_code;
    m->major = p->http_major;
    m->minor = p->http_minor;
    m->flags = p->flags;
    m->cl = p->content_length;
    if (t->final < 0 && m->status / 100 != 1) t->final = (long)t->nm - 1;
    t->event = EV_HEAD;
    http_parser_pause(p, 1);
    /* RFC 9112 6.3 rule 1: no content after 1xx, 204, 304, whatever the headers say */
    return m->status / 100 == 1 || m->status == 204 || m->status == 304;
}

static int on_end(http_parser *p)
{
    theirs *t = cur_t(p);
    msg *m = &t->m[t->nm - 1];
    m->complete = 1;
    m->keep = http_should_keep_alive(p);
    t->event = EV_END;
    http_parser_pause(p, 1);
    return 0;
}

/* Run http-parser over in[0..n), pausing at every message start, head end and message end
   to learn where they are; stop when the final message is complete. */
static void theirs_run(theirs *t, const char *in, size_t n)
{
    static http_parser_settings st;
    http_parser p;
    size_t pos = 0;
    int eof = 0;
    st.on_message_begin = on_begin;
    st.on_header_field = on_field;
    st.on_header_value = on_value;
    st.on_headers_complete = on_head;
    st.on_body = on_body;
    st.on_message_complete = on_end;
    t->base = in;
    t->nm = t->npc = 0;
    t->final = -1;
    t->accepted = 0;
    t->err = HPE_OK;
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = t;
    for (;;) {
        size_t k;
        enum http_errno e;
        t->event = EV_NONE;
        k = http_parser_execute(&p, &st, eof ? NULL : in + pos, eof ? 0 : n - pos);
        e = HTTP_PARSER_ERRNO(&p);
        if (e == HPE_PAUSED) {
            msg *m = &t->m[t->nm - 1];
            size_t at = eof ? n : pos + k;
            if (t->event == EV_BEGIN) m->begin = at - 1;
            if (t->event == EV_HEAD) m->head_end = at + 1; /* paused on the head's last byte */
            if (t->event == EV_END) {
                m->end = at;
                if (t->final == (long)t->nm - 1) {
                    t->accepted = 1;
                    return;
                }
            }
            http_parser_pause(&p, 0);
            pos = at;
            continue;
        }
        if (e != HPE_OK) {
            t->err = e;
            return;
        }
        if (eof) return;
        pos += k;
        if (pos >= n) eof = 1; /* else an upgrade (101) stopped it: go on after it */
    }
}

/* ---- ours --------------------------------------------------------------------------------- */

static lambda__conn conn;
static lambda__logger quiet;

/* lambda__read_response over a socketpair holding in[0..n) and then the end of the stream.
   1: a response was read (conn.head, conn.in, conn.body_off/body_len). */
static int ours_run(const char *in, size_t n)
{
    int sv[2], got = 0, rc;
    size_t off = 0;
    if (!quiet.level) {
        lambda__logger_init(&quiet);
        quiet.level = LAMBDA_LOG_FATAL + 1; /* no log lines while fuzzing */
        lambda__conn_init(&conn, &quiet, "/2018-06-01/runtime/", "Runtime API");
    }
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    while (off < n) {
        ssize_t w = write(sv[1], in + off, n - off);
        CHECK(w > 0);
        off += (size_t)w;
    }
    CHECK(shutdown(sv[1], SHUT_WR) == 0);
    conn.fd = sv[0];
    rc = lambda__read_response(&conn, MAX_BODY, &got);
    close(sv[0]);
    close(sv[1]);
    conn.fd = -1;
    return rc == 0 && !conn.too_big;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int ieq(const char *a, size_t n, const char *b)
{
    size_t i;
    if (strlen(b) != n) return 0;
    for (i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
    return 1;
}

/* The field name of header `first` (its PC_FIELD pieces joined; they are adjacent). */
static void piece_name(const theirs *t, size_t first, size_t *at, size_t *len)
{
    size_t j = first;
    *at = t->pc[first].at;
    *len = 0;
    while (j < t->npc && t->pc[j].kind == PC_FIELD) *len += t->pc[j++].len;
}

/* A value written the way our parser hands it out: the raw bytes from the first value
   piece to the end of the last, each CRLF of an obs-fold as two spaces, control bytes as
   spaces, and no trailing whitespace (http-parser already dropped the leading whitespace).
   Into out (room: the span); returns its length. */
static size_t norm_value(const theirs *t, const char *in, size_t first, char *out)
{
    size_t j = first, a = t->pc[first].at, e = a, i, n = 0;
    for (; j < t->npc && t->pc[j].kind == PC_VALUE; j++) {
        if (j > first) CHECK(t->pc[j].at == e + 2 && in[e] == '\r' && in[e + 1] == '\n');
        e = t->pc[j].at + t->pc[j].len;
    }
    for (i = a; i < e; i++) out[n++] = is_ctl((unsigned char)in[i]) ? ' ' : in[i];
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t')) n--;
    return n;
}

/* Header lines of message `mi` (trailer: 0 head, 1 trailers): calls fn(ctx, name piece,
   value piece) for each. */
typedef void (*header_fn)(void *ctx, size_t name_pc, size_t value_pc);
static void each_header(const theirs *t, long mi, int trailer, header_fn fn, void *ctx)
{
    size_t j = 0;
    while (j < t->npc) {
        size_t f = j, v;
        if (t->pc[j].kind != PC_FIELD || t->pc[j].msg != mi || t->pc[j].trailer != trailer) {
            j++;
            continue;
        }
        while (j < t->npc && t->pc[j].kind == PC_FIELD) j++;
        v = j;
        if (v < t->npc && t->pc[v].kind == PC_VALUE) fn(ctx, f, v);
        while (j < t->npc && t->pc[j].kind == PC_VALUE) j++;
    }
}

/* ---- documented differences: ours rejects, http-parser accepts (FUZZ_DIFF.md, part 1) --- */

typedef struct {
    const theirs *t;
    const char *in;
    char *tmp;
    int trailer, te_count, te_other, name_ws, framing_ctl;
} scan_ctx;

static void scan_header(void *vctx, size_t f, size_t v)
{
    scan_ctx *c = (scan_ctx *)vctx;
    size_t at, len, i, vn;
    piece_name(c->t, f, &at, &len);
    for (i = 0; i < len; i++)
        if (c->in[at + i] == ' ') c->name_ws = 1;
    {
        size_t j, e = c->t->pc[v].at;
        int ctl = 0;
        for (j = v; j < c->t->npc && c->t->pc[j].kind == PC_VALUE; j++)
            e = c->t->pc[j].at + c->t->pc[j].len;
        for (j = c->t->pc[v].at; j < e; j++)
            if (is_ctl((unsigned char)c->in[j]) && c->in[j] != '\r' && c->in[j] != '\n') ctl = 1;
        if (ctl && (c->trailer || ieq(c->in + at, len, "transfer-encoding") ||
                    ieq(c->in + at, len, "content-length")))
            c->framing_ctl = 1;
    }
    if (!c->trailer && ieq(c->in + at, len, "transfer-encoding")) {
        c->te_count++;
        vn = norm_value(c->t, c->in, v, c->tmp);
        /* leading whitespace of a folded value stays: trim it here too */
        for (i = 0; i < vn && (c->tmp[i] == ' ' || c->tmp[i] == '\t'); i++) continue;
        if (!ieq(c->tmp + i, vn - i, "chunked")) c->te_other = 1;
    }
}

/* Checks the chunk-size lines, the CRLF after each chunk's data and the trailer lines of
   the final message, as http-parser delimited them; sets the D_* flags. */
typedef struct {
    int chunk_line, data_crlf, trailer_fold, trailer_eol;
} chunk_flags;

static int chunk_line_ok(const char *in, size_t a, size_t b)
{
    size_t i = a, digits = 0;
    while (i < b && isxdigit((unsigned char)in[i])) i++, digits++;
    if (digits == 0 || digits > 16) return 0;
    while (i < b && (in[i] == ' ' || in[i] == '\t')) i++;
    if (i < b && in[i] != ';') return 0;
    for (; i < b; i++)
        if (is_ctl((unsigned char)in[i])) return 0;
    return 1;
}

static void scan_chunked(const theirs *t, const char *in, chunk_flags *cf)
{
    const msg *m = &t->m[t->final];
    size_t pos = m->head_end, j, cr;
    for (j = 0; j < t->npc; j++) {
        const piece *x = &t->pc[j];
        if (x->kind != PC_BODY || x->msg != t->final) continue;
        /* size line [pos, x->at - 2), then CRLF */
        if (x->at < pos + 3 || !chunk_line_ok(in, pos, x->at - 2) || in[x->at - 2] != '\r' ||
            in[x->at - 1] != '\n')
            cf->chunk_line = 1;
        pos = x->at + x->len;
        if (pos + 2 > m->end || in[pos] != '\r' || in[pos + 1] != '\n') cf->data_crlf = 1;
        pos += 2;
    }
    /* the last chunk's line, then the trailer lines */
    for (cr = pos; cr < m->end && in[cr] != '\r'; cr++) continue;
    if (!chunk_line_ok(in, pos, cr)) cf->chunk_line = 1;
    for (j = cr; j < m->end; j++) {
        if (in[j] == '\n' && j + 1 < m->end && (in[j + 1] == ' ' || in[j + 1] == '\t'))
            cf->trailer_fold = 1;
        if (in[j] == '\n' && in[j - 1] != '\r') cf->trailer_eol = 1;
        if (in[j] == '\r' && (j + 1 >= m->end || in[j + 1] != '\n')) cf->trailer_eol = 1;
    }
}

/* Our reader rejected, http-parser accepted: 1 if a documented difference explains it. */
static int explained_reject(const theirs *t, const char *in, size_t n, char *tmp)
{
    const msg *fm = &t->m[t->final];
    size_t i, prev_end = 0, mi;
    scan_ctx sc;
    /* D_LF (RFC 9112 2.2): a bare LF ends a line for http-parser, never for us. In the heads
       and in the framing of a chunked body. D_CR (RFC 9112 2.2, and this http-parser is
       built non-strict: it skips the LF check after a CR in several places): a CR not
       followed by LF. Both only where http-parser is reading heads or chunk framing. */
    for (i = 0; i < fm->head_end && i < n; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) return 1; /* D_LF */
        if (in[i] == '\r' && (i + 1 >= n || in[i + 1] != '\n')) return 1; /* D_CR */
    }
    for (mi = 0; mi <= (size_t)t->final; mi++) {
        const msg *m = &t->m[mi];
        /* D_LEAD: empty lines before a status line (http-parser skips CR and LF there) */
        if (m->begin != prev_end) return 1;
        prev_end = m->end;
        /* D_VERSION (RFC 9112 2.3, 2.5): HTTP-name is "HTTP", case-sensitive, and only
           major version 1 is HTTP/1.x; non-strict http-parser takes any "H???/d.d" */
        if (m->begin + 8 > n || memcmp(in + m->begin, "HTTP/1.", 7) != 0) return 1;
        /* D_STATUS (RFC 9112 4): status-line = HTTP-version SP status-code SP
           [reason-phrase], status-code = 3DIGIT; we take 100..999 (RFC 9110 15). http-parser
           skips extra spaces and takes 1 to 3 digits. */
        if (m->begin + 13 > n) return 1;
        for (i = m->begin + 9; i < m->begin + 12; i++)
            if (!isdigit((unsigned char)in[i])) return 1;
        if (in[m->begin + 12] != ' ' && in[m->begin + 12] != '\r') return 1;
        if (m->status < 100) return 1;
        /* D_REASON (RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )): control
           bytes in it; http-parser takes any byte but CR and LF */
        for (i = m->begin + 12; i < m->head_end && in[i] != '\r' && in[i] != '\n'; i++)
            if (is_ctl((unsigned char)in[i])) return 1;
    }
    sc.t = t;
    sc.in = in;
    sc.tmp = tmp;
    for (mi = 0; mi <= (size_t)t->final; mi++) {
        sc.te_count = sc.te_other = sc.name_ws = sc.framing_ctl = 0;
        sc.trailer = 0;
        each_header(t, (long)mi, 0, scan_header, &sc);
        sc.trailer = 1;
        each_header(t, (long)mi, 1, scan_header, &sc);
        /* D_NAME_WS (RFC 9112 5.1: no whitespace between field name and colon; 2.2: a line
           starting with whitespace right after the start-line): non-strict http-parser takes
           SP inside field names */
        if (sc.name_ws) return 1;
        /* D_TE (RFC 9112 6.1, RFC 9110 10.1.4): only "chunked", once; http-parser reads other
           codings, lists and repeats (an unknown coding as "read to the end") */
        if (sc.te_count > 1 || sc.te_other) return 1;
        /* D_TE_OWS (RFC 9110 5.6.3): "chunked" then HTAB or an obs-fold is chunked to us, an
           unknown coding (read to the end) to http-parser */
        if (sc.te_count && !(t->m[mi].flags & F_CHUNKED)) return 1;
        /* D_FRAMING_CTL (RFC 9110 5.5: a recipient MAY reject control bytes in a value; we do
           in Content-Length, Transfer-Encoding and trailers, never reading framing from a
           sanitised value): http-parser does not check the first byte of a value */
        if (sc.framing_ctl) return 1;
    }
    if (fm->flags & F_CHUNKED && !(fm->status / 100 == 1 || fm->status == 204 ||
                                   fm->status == 304)) {
        chunk_flags cf = {0, 0, 0, 0};
        scan_chunked(t, in, &cf);
        /* D_CHUNK_LINE (RFC 9112 7.1, 7.1.1): chunk-size [BWS ";" chunk-ext] CRLF, at most 16
           hex digits, no control bytes; http-parser takes anything after a SP or ';' */
        if (cf.chunk_line) return 1;
        /* D_DATA_CRLF (RFC 9112 7.1): CRLF after chunk-data; non-strict http-parser skips
           both checks and eats any two bytes */
        if (cf.data_crlf) return 1;
        /* D_TRAILER_FOLD (RFC 9112 5.2: obs-fold only in a message/http field section;
           7.1.2): we do not unfold trailer lines */
        if (cf.trailer_fold) return 1;
        /* D_LF, D_CR in the trailer lines */
        if (cf.trailer_eol) return 1;
    }
    return 0;
}

/* ---- documented differences: ours accepts, http-parser rejects (FUZZ_DIFF.md, part 2) --- */

/* The heads our reader read: region i is [start, end), the last one the final head. */
typedef struct {
    size_t *start, *end;
    size_t n;
} heads;

/* (lambda__head_end delimits them: our reader accepted these bytes, so every head is one
   that lambda__parse_head took) */
static void our_heads(const char *in, size_t n, heads *h)
{
    size_t at = 0;
    h->n = 0;
    h->start = (size_t *)malloc((n / 16 + 1) * sizeof *h->start);
    h->end = (size_t *)malloc((n / 16 + 1) * sizeof *h->end);
    for (;;) {
        size_t e = lambda__head_end(in + at, n - at, 0);
        CHECK(e != 0 && e >= 16 && h->n < n / 16 + 1);
        h->start[h->n] = at;
        h->end[h->n++] = at + e;
        if (in[at + 9] != '1') return;
        at += e;
    }
}

/* Lines of head [a, b): calls fn for each field line, with the raw value (after the colon,
   to the CRLF that ends the line, folds included). */
typedef struct {
    int cl_count, cl_tab, te_odd, conn_close, proxy_conn, keep, te_prefix;
    char *tmp;
} line_ctx;

/* a name longer than "transfer-encoding" that starts with it: http-parser takes it for one */
static int te_prefix(const char *name, size_t n)
{
    return n > 17 && ieq(name, 17, "transfer-encoding");
}

/* 1 if the comma-separated list s[0..n) holds tok (whitespace is SP and HTAB) */
static int has_token(const char *s, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        size_t a, b;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        a = i;
        while (i < n && s[i] != ',') i++;
        b = i;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        if (ieq(s + a, b - a, tok)) return 1;
        i++;
    }
    return 0;
}

/* D_CONN_MATCH: where http-parser 2.9's Connection matcher misses the option after a comma
   in s[0..n) (the value as our parser sees it): a comma as the first byte (it starts a
   token that runs to the next comma, hiding what is between); after the first element, one that is empty or starts
   with a byte that is no tchar (it then ignores the rest of the value); a comma right after
   a proper prefix of keep-alive, close or upgrade (the comma ends the failed match, not the
   element). Found by the fourth campaign; checked against the library on the cases of
   test_head_connection. */
static int conn_misread(const char *s, size_t n)
{
    static const char *const words[] = {"keep-alive", "close", "upgrade"};
    size_t i = 0, a, w, j;
    int first = 1;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        if (i == n) return 0;
        if (first && s[i] == ',') { /* a token from this comma to the next: anything in it */
            for (i++; i < n && s[i] != ','; i++)
                if (s[i] != ' ') return 1;
            first = 0;
            i++;
            continue;
        }
        if (!first && !lambda__is_tchar((unsigned char)s[i])) return 1;
        first = 0;
        a = i;
        while (i < n && s[i] != ',') i++;
        if (i == n) return 0;
        for (w = 0; w < 3; w++) {
            if (i - a >= strlen(words[w])) continue;
            for (j = a; j < i && tolower((unsigned char)s[j]) == words[w][j - a]; j++)
                continue;
            if (j == i) return 1;
        }
        i++;
    }
    return 0;
}

static void head_line(line_ctx *c, const char *name, size_t nl, const char *v, size_t vl)
{
    size_t i, k = 0;
    /* the value as our parser sees it: folds and control bytes as spaces */
    for (i = 0; i < vl; i++) c->tmp[k++] = is_ctl((unsigned char)v[i]) ? ' ' : v[i];
    c->te_prefix |= te_prefix(name, nl);
    if (ieq(name, nl, "content-length")) {
        c->cl_count++;
        for (i = 0; i < vl; i++)
            if (v[i] == '\t') c->cl_tab = 1;
    } else if (ieq(name, nl, "transfer-encoding")) {
        /* http-parser sees chunked only as "chunked" then SP only (no HTAB, no fold after
           it; whitespace and folds before it are skipped) */
        for (i = 0; i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'); i++)
            continue;
        if (vl - i < 7 || !ieq(v + i, 7, "chunked")) c->te_odd = 1;
        for (i += 7; i < vl; i++)
            if (v[i] != ' ') c->te_odd = 1;
    } else if (ieq(name, nl, "connection")) {
        if (has_token(c->tmp, k, "close")) c->conn_close = 1;
        for (i = 0; i < vl; i++)
            if (v[i] == '\t' || v[i] == '\r') c->keep = 1; /* http-parser may misread it */
        if (conn_misread(c->tmp, k)) c->keep = 1;
    } else if (ieq(name, nl, "proxy-connection")) {
        c->proxy_conn = 1;
    }
}

static void head_lines(const char *in, size_t a, size_t b, line_ctx *c)
{
    size_t i = a;
    while (i + 1 < b && !(in[i] == '\r' && in[i + 1] == '\n')) i++; /* the status line */
    i += 2;
    while (i + 2 <= b && !(in[i] == '\r' && in[i + 1] == '\n')) {
        size_t name = i, colon, v, e;
        while (in[i] != ':') i++;
        colon = i;
        v = colon + 1;
        e = v;
        while (!(in[e] == '\r' && in[e + 1] == '\n' && in[e + 2] != ' ' && in[e + 2] != '\t'))
            e++;
        head_line(c, in + name, colon - name, in + v, e - v);
        i = e + 2;
    }
}

/* Our reading of a chunked body in[a..n) per RFC 9112 7.1, with the header's choices (BWS
   before ';', any non-control bytes in extensions, trailers as name ":" value lines): the
   payload into out, *end past the last CRLF. Flags: HTAB in a size line, a trailer named
   Content-Length, Transfer-Encoding or Connection. 0 if the body is not that grammar. */
typedef struct {
    int size_tab, trailer_framing;
} walk_flags;


static int walk_chunked(const char *in, size_t a, size_t n, char *out, size_t *out_len,
                        size_t *end, walk_flags *wf)
{
    size_t i = a, w = 0;
    for (;;) {
        uint64_t size = 0;
        size_t digits = 0;
        while (i < n && isxdigit((unsigned char)in[i]) && digits < 17) {
            int c = tolower((unsigned char)in[i++]);
            size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
            digits++;
        }
        if (digits == 0 || digits > 16) return 0;
        while (i < n && (in[i] == ' ' || in[i] == '\t')) wf->size_tab |= in[i++] == '\t';
        if (i < n && in[i] == ';')
            while (i < n && in[i] != '\r' && !is_ctl((unsigned char)in[i])) i++;
        if (i + 2 > n || in[i] != '\r' || in[i + 1] != '\n') return 0;
        i += 2;
        if (size == 0) break;
        if (size > n - i) return 0;
        memcpy(out + w, in + i, (size_t)size);
        w += (size_t)size;
        i += (size_t)size;
        if (i + 2 > n || in[i] != '\r' || in[i + 1] != '\n') return 0;
        i += 2;
    }
    for (;;) { /* trailer lines, then CRLF */
        size_t name = i;
        if (i + 2 <= n && in[i] == '\r' && in[i + 1] == '\n') break;
        while (i < n && lambda__is_tchar((unsigned char)in[i])) i++;
        if (i == name || i >= n || in[i] != ':') return 0;
        if (ieq(in + name, i - name, "content-length") ||
            ieq(in + name, i - name, "transfer-encoding") ||
            ieq(in + name, i - name, "connection") || te_prefix(in + name, i - name))
            wf->trailer_framing = 1;
        while (i < n && in[i] != '\r' && !is_ctl((unsigned char)in[i])) i++;
        if (i + 2 > n || in[i] != '\r' || in[i + 1] != '\n') return 0;
        i += 2;
    }
    *out_len = w;
    *end = i + 2;
    return 1;
}

/* ---- the comparison ------------------------------------------------------------------------ */

typedef struct {
    const theirs *t;
    const char *in;
    char *tmp;
    size_t first[LAMBDA__H_COUNT + 1]; /* value piece of the first header with each name */
} known_ctx;

static void find_known(void *vctx, size_t f, size_t v)
{
    known_ctx *c = (known_ctx *)vctx;
    size_t at, len;
    int k;
    piece_name(c->t, f, &at, &len);
    k = lambda__header_index(c->in + at, len);
    if (k < LAMBDA__H_COUNT && c->first[k] == (size_t)-1) c->first[k] = v;
}

/* Our reader accepted in[0..n). */
static void compare_accepted(const char *in, size_t n)
{
    heads hd;
    line_ctx lc;
    walk_flags wf = {0, 0};
    theirs t;
    char *san = (char *)malloc(n + 1), *tmp = (char *)malloc(n + 1), *walked = NULL;
    size_t i, r, fs, fe, walked_len = 0, walk_end = 0;
    int dup_cl = 0, cl_tab = 0, te_odd = 0, conn_close = 0, proxy = 0, conn_odd = 0, ours_keep;
    int te_pre = 0;
    const lambda__head *h = &conn.head;
    our_heads(in, n, &hd);
    fs = hd.start[hd.n - 1];
    fe = hd.end[hd.n - 1];
    CHECK(fe - fs == conn.body_off);
    /* our normalisation, applied to the bytes http-parser reads: control bytes in the heads
       become spaces (RFC 9110 5.5); only values can hold them, the rest was checked */
    memcpy(san, in, n);
    for (r = 0; r < hd.n; r++)
        for (i = hd.start[r]; i < hd.end[r]; i++) {
            unsigned char c = (unsigned char)in[i];
            if (c == '\r' && i + 1 < n && in[i + 1] == '\n') continue;
            if (c == '\n' && i > 0 && in[i - 1] == '\r') continue;
            if (is_ctl(c) || c == '\r' || c == '\n') san[i] = ' ';
        }
    for (r = 0; r < hd.n; r++) {
        memset(&lc, 0, sizeof lc);
        lc.tmp = tmp;
        head_lines(in, hd.start[r], hd.end[r], &lc);
        dup_cl |= lc.cl_count > 1;
        cl_tab |= lc.cl_tab;
        te_pre |= lc.te_prefix && lc.cl_count;
        if (r == hd.n - 1) {
            /* D_TE_PREFIX here too: http-parser may then see another framing than ours */
            te_odd = lc.te_odd || lc.te_prefix;
            conn_close = lc.conn_close;
            proxy = lc.proxy_conn;
            conn_odd = lc.keep;
        }
    }
    if (h->chunked && !(h->status == 204 || h->status == 304)) {
        walked = (char *)malloc(n + 1);
        /* our reader accepted it: it must be the documented grammar */
        CHECK(walk_chunked(in, fe, n, walked, &walked_len, &walk_end, &wf));
        CHECK(walked_len == conn.body_len && memcmp(walked, conn.in.ptr + conn.body_off,
                                                    walked_len) == 0);
    }
    t.max_m = n / 4 + 4;
    t.max_pc = 2 * n + 8;
    t.m = (msg *)malloc(t.max_m * sizeof *t.m);
    t.pc = (piece *)malloc(t.max_pc * sizeof *t.pc);
    theirs_run(&t, san, n);
    if (!t.accepted) {
        /* D_DUP_CL (RFC 9110 8.6: a recipient MAY accept repeated identical values), D_CL_TAB
           (RFC 9110 5.5, 5.6.3: OWS is SP or HTAB; http-parser only skips SP after the
           digits), D_TRAILER_FRAMING (RFC 9110 6.5.1: trailers do not frame the message;
           http-parser checks a Content-Length trailer like a header), D_CHUNK_TAB (RFC 9112
           7.1.1: BWS before ';' may be HTAB; http-parser stops at it) */
        /* D_TE_PREFIX: http-parser takes any field name that starts with
           "transfer-encoding" for Transfer-Encoding, and rejects it with a Content-Length */
        CHECK(dup_cl || cl_tab || wf.trailer_framing || wf.size_tab || te_pre);
        goto done;
    }
    {
        const msg *m = &t.m[t.final];
        known_ctx kc;
        int k;
        CHECK((size_t)t.final == hd.n - 1);
        CHECK(m->begin == fs && m->head_end == fe);
        CHECK(m->status == h->status && m->major == 1 && m->minor == h->minor);
        CHECK(!!(m->flags & F_CONTENTLENGTH) == !!h->has_length);
        CHECK(!h->has_length || m->cl == h->content_length);
        /* D_TE_OWS (RFC 9110 5.6.3): "chunked" then HTAB or an obs-fold is chunked to us;
           http-parser then sees an unknown coding and reads to the end */
        if (!te_odd) CHECK(!!(m->flags & F_CHUNKED) == !!h->chunked);
        /* the headers we expose: same presence, same first value */
        kc.t = &t;
        kc.in = san;
        kc.tmp = tmp;
        for (k = 0; k <= LAMBDA__H_COUNT; k++) kc.first[k] = (size_t)-1;
        each_header(&t, t.final, 0, find_known, &kc);
        for (k = 0; k < LAMBDA__H_COUNT; k++) {
            int ours_has = !!(h->present & (1u << k));
            CHECK(ours_has == (kc.first[k] != (size_t)-1));
            if (ours_has) {
                size_t vn = norm_value(&t, san, kc.first[k], tmp);
                CHECK(vn == h->len[k] && memcmp(tmp, conn.in.ptr + h->off[k], vn) == 0);
            }
        }
        if (!te_odd) { /* the body */
            size_t j, bl = 0;
            for (j = 0; j < t.npc; j++) {
                const piece *x = &t.pc[j];
                if (x->kind != PC_BODY || x->msg != t.final) continue;
                CHECK(bl + x->len <= conn.body_len);
                CHECK(memcmp(conn.in.ptr + conn.body_off + bl, san + x->at, x->len) == 0);
                bl += x->len;
            }
            CHECK(bl == conn.body_len);
            if (walked) CHECK(m->end == walk_end);
        }
        /* reuse of the connection */
        ours_keep = !h->close;
        if (ours_keep && !m->keep) {
            /* D_PROXY_CONN: http-parser reads Proxy-Connection (not in RFC 9110) as Connection;
               D_CONN_OWS (RFC 9110 5.6.3, 7.6.1): it misses tokens followed by HTAB or a
               fold; D_CONN_MATCH (RFC 9110 5.6.1, 5.6.1.2): its option matcher misses the
               token after some commas; D_TRAILER_FRAMING (RFC 9110 6.5.1): it applies Connection and
               Transfer-Encoding trailers, we ignore trailer values */
            CHECK(proxy || conn_odd || te_odd || wf.trailer_framing);
        }
        if (!ours_keep && m->keep) {
            /* D_EXTRA: bytes after the response (we never pipeline: not reused);
               D_HTTP10_CHUNKED (RFC 9112 6.1: HTTP/1.0 with Transfer-Encoding: close after
               it); a close option (RFC 9112 9.6: MUST close) that http-parser misread */
            CHECK(m->end < n || (h->minor == 0 && h->chunked) || conn_close || te_odd);
        }
    }
done:
    free(hd.start);
    free(hd.end);
    free(t.m);
    free(t.pc);
    free(walked);
    free(san);
    free(tmp);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    const char *in = (const char *)data;
    if (ours_run(in, len)) {
        compare_accepted(in, len);
    } else {
        theirs t;
        char *tmp = (char *)malloc(len + 1);
        t.max_m = len / 4 + 4;
        t.max_pc = 2 * len + 8;
        t.m = (msg *)malloc(t.max_m * sizeof *t.m);
        t.pc = (piece *)malloc(t.max_pc * sizeof *t.pc);
        theirs_run(&t, in, len);
        if (t.accepted) CHECK(explained_reject(&t, in, len, tmp));
        free(t.m);
        free(t.pc);
        free(tmp);
    }
    return 0;
}
