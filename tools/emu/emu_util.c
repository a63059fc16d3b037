/* emu_util.c - lambda-emu: small utilities (clocks, allocation, log lines, ids, base64, the
   small JSON and percent-encoding helpers, /proc, files), the signal self-pipe, the growing
   buffers (hbuf) and the invoke endpoint's listener. */
#include "emu.h"

/* ------------------------------------------------------------------ small utilities */

long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void die_oom(void)
{
    fputs("lambda-emu: out of memory\n", stderr);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_oom();
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = (char *)xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

int ieq(const char *a, const char *b)
{
    while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b)) a++, b++;
    return *a == 0 && *b == 0;
}

void logf_(const char *fmt, ...)
{
    va_list ap;
    fputs("lambda-emu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Random bytes: /dev/urandom, falling back to a xorshift seeded from the clock and pid. */
void random_bytes(unsigned char *out, size_t n)
{
    static unsigned long long x;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, out + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (x == 0) x = (unsigned long long)now_ns() ^ ((unsigned long long)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    for (; got < n; got++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[got] = (unsigned char)(x >> 24);
    }
}

void hex_of(char *out, const unsigned char *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* A version 4 UUID, 36 characters + NUL. */
void new_uuid(char out[37])
{
    unsigned char b[16];
    char h[33];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    hex_of(h, b, 16);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* An X-Ray trace header like the platform's: Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=0 */
void new_trace_id(char *out, size_t cap)
{
    unsigned char b[20];
    char h[41];
    random_bytes(b, sizeof b);
    hex_of(h, b, sizeof b);
    snprintf(out, cap, "Root=1-%08lx-%.24s;Parent=%.16s;Sampled=0", (unsigned long)(wall_ms() / 1000), h, h + 24);
}

/* Standard base64 decode (padding optional, whitespace rejected). Returns 0 or -1. */
int b64_decode(const char *in, char **out, size_t *out_len)
{
    size_t n = strlen(in), i, o = 0;
    unsigned acc = 0;
    int bits = 0;
    char *p = (char *)xmalloc(n / 4 * 3 + 4);
    while (n > 0 && in[n - 1] == '=') n--;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)in[i], v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else {
            free(p);
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6) { /* a single leftover sextet cannot encode a byte */
        free(p);
        return -1;
    }
    p[o] = 0;
    *out = p;
    *out_len = o;
    return 0;
}

/* Value of a JSON string member `"key":"..."` at the top level of a small error document,
   unescaped only for \" and \\ (error types are plain identifiers). 0 if found. */
int json_peek_string(const char *doc, size_t len, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key), i, depth = 0;
    int in_str = 0;
    for (i = 0; i < len; i++) {
        char c = doc[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
        else if (c == '"') {
            if (depth == 1 && i + kl + 1 < len && memcmp(doc + i + 1, key, kl) == 0 && doc[i + 1 + kl] == '"') {
                size_t j = i + kl + 2, o = 0;
                while (j < len && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r')) j++;
                if (j >= len || doc[j] != ':') return -1;
                j++;
                while (j < len && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r')) j++;
                if (j >= len || doc[j] != '"') return -1;
                for (j++; j < len && doc[j] != '"' && o + 1 < cap; j++) {
                    if (doc[j] == '\\' && j + 1 < len) j++;
                    out[o++] = doc[j];
                }
                out[o] = 0;
                return 0;
            }
            in_str = 1;
        }
    }
    return -1;
}

/* JSON-escape into a fixed buffer (truncating; used for our own short messages). */
void json_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

int header_value_ok(const char *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || v[i] == 0) return 0;
    return 1;
}

/* Percent-decodes s[0..n) into out (cap bytes). 0 or -1 (bad escape, too long, or a NUL). */
int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int v = 0, k;
            if (i + 2 >= n) return -1;
            for (k = 1; k <= 2; k++) {
                int h = (unsigned char)s[i + (size_t)k];
                if (h >= '0' && h <= '9') h -= '0';
                else if (h >= 'a' && h <= 'f') h = h - 'a' + 10;
                else if (h >= 'A' && h <= 'F') h = h - 'A' + 10;
                else return -1;
                v = v * 16 + h;
            }
            c = v;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

/* VmHWM (peak resident set) of a live process in kB, from /proc; -1 if unavailable. */
long proc_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    FILE *f;
    long v = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            v = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

int read_file(const char *path, char **out, size_t *len, size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *b;
    if (!f) return -1;
    b = (char *)xmalloc(cap);
    for (;;) {
        size_t r;
        if (n + 1 >= cap) {
            char *nb;
            if (cap > max + 2) break;
            cap *= 2;
            nb = (char *)realloc(b, cap);
            if (!nb) die_oom();
            b = nb;
        }
        r = fread(b + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
    }
    if (f != stdin) fclose(f);
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------ SIGCHLD / SIGINT self-pipe */

int sig_pipe[2] = {-1, -1}; /* written by the signal handlers only */
volatile sig_atomic_t got_stop_signal;

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (sig == SIGINT || sig == SIGTERM) got_stop_signal = sig;
    if (sig_pipe[1] >= 0) (void)write(sig_pipe[1], &c, 1);
    errno = saved;
}

void setup_signals(void)
{
    struct sigaction sa;
    int i;
    if (pipe(sig_pipe) != 0) {
        perror("lambda-emu: pipe");
        exit(2);
    }
    for (i = 0; i < 2; i++) {
        (void)fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
}

void drain_sig_pipe(void)
{
    char b[64];
    while (read(sig_pipe[0], b, sizeof b) > 0) {
    }
}

/* ------------------------------------------------------------------ growing buffers, JSON strings */

void hb_put(hbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;
        while (cap < b->len + n + 1) cap *= 2;
        np = (char *)realloc(b->p, cap);
        if (!np) die_oom();
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void hb_str(hbuf *b, const char *s)
{
    hb_put(b, s, strlen(s));
}

void hb_fmt(hbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        hb_put(b, small, (size_t)n);
        return;
    }
    {
        char *big = (char *)xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        hb_put(b, big, (size_t)n);
        free(big);
    }
}

void hb_free(hbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void hb_b64(hbuf *b, const unsigned char *p, size_t n)
{
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i < n; i += 3) {
        char q[4];
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        q[0] = tb[(v >> 18) & 63];
        q[1] = tb[(v >> 12) & 63];
        q[2] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tb[v & 63] : '=';
        hb_put(b, q, 4);
    }
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 (no overlongs, no
   surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len, i;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* A JSON string: "..." with the escapes JSON needs; bytes that are not valid UTF-8 are kept as
   the code points of the same value (Latin-1), so the document stays valid JSON. */
void hb_json_str(hbuf *b, const char *p, size_t n)
{
    size_t i = 0, run = 0;
    hb_put(b, "\"", 1);
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        size_t k = utf8_seq((const unsigned char *)p + i, n - i);
        if (k > 1 || (k == 1 && c >= 0x20 && c != '"' && c != '\\')) {
            i += k;
            run += k;
            continue;
        }
        hb_put(b, p + i - run, run);
        run = 0;
        if (c == '"') hb_put(b, "\\\"", 2);
        else if (c == '\\') hb_put(b, "\\\\", 2);
        else if (c == '\n') hb_put(b, "\\n", 2);
        else if (c == '\r') hb_put(b, "\\r", 2);
        else if (c == '\t') hb_put(b, "\\t", 2);
        else hb_fmt(b, "\\u%04x", c);
        i++;
    }
    hb_put(b, p + i - run, run);
    hb_put(b, "\"", 1);
}

/* ------------------------------------------------------------------ listeners */

/* Binds host:port for the invoke endpoint and swaps it into the rapi_server (which only knows
   127.0.0.1:0). A bare port means 127.0.0.1. */
int open_listener(rapi_server *s, const char *spec, int default_port)
{
    char host[256] = "127.0.0.1";
    const char *colon = strrchr(spec ? spec : "", ':');
    long port = default_port;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd, one = 1;
    if (rapi_server_open(s) != RAPI_OK) return -1;
    if (spec) {
        char *end;
        if (colon) {
            size_t hl = (size_t)(colon - spec);
            if (hl >= sizeof host) return -1;
            if (hl > 0) {
                memcpy(host, spec, hl);
                host[hl] = 0;
            }
            port = strtol(colon + 1, &end, 10);
        } else {
            port = strtol(spec, &end, 10);
        }
        if (*end || port < 0 || port > 65535) return -1;
    }
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
    if (port == 0 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) return 0; /* rapi's own socket is it */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    rapi_server_stop_listening(s);
    s->listen_fd = fd;
    s->port = ntohs(a.sin_port);
    return 0;
}
