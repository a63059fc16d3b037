/* lambda_emu.c - a local AWS Lambda Runtime API emulator and benchmark.

   build/lambda-emu [options] -- BOOTSTRAP [ARGS...]

   Serves the Runtime API (2018-06-01) on 127.0.0.1, starts BOOTSTRAP as its child with the
   environment a real function sees, and feeds it events: from -e/-f, one per line from stdin,
   and/or from an invoke endpoint compatible with the AWS runtime interface emulator (--listen).
   Response bodies go to stdout (one per invocation), REPORT lines to stderr, like the platform.
   The child's own stdout is sent to our stderr so that stdout carries only responses.

   The HTTP server side (request parsing, chunked bodies and trailers, response writing) is
   tests/rapi_server.c, linked in: this file keeps the state machine, the event loop and the
   bits rapi_server lacks (see tools/EMU_NOTES.md).

   libc + POSIX only. Single-threaded: one poll() loop over the Runtime API sockets, the invoke
   endpoint, stdin and a SIGCHLD self-pipe. Every wait is bounded. */
#define _DEFAULT_SOURCE /* realpath() is XSI, not in _POSIX_C_SOURCE 200809L */
#include "../tests/rapi_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EMU_MAX_PAYLOAD 6291556u          /* 6 MiB + 100: sync request and response limit */
#define EMU_MAX_STREAM (64u * 1024u * 1024u) /* what we hold of one streamed response */
#define EMU_MAX_INVOKE_BODY (16u * 1024u * 1024u)
#define EMU_KILL_GRACE_MS 300             /* SIGTERM -> SIGKILL */
#define EMU_INIT_ERROR_GRACE_MS 1000      /* a runtime must exit after /init/error */
#define EMU_SEND_TIMEOUT_MS 5000
#define EMU_CALLER_IDLE_MS 30000          /* an invoke caller with a half-sent request */
#define EMU_ARN_ACCOUNT "012345678912"

/* ------------------------------------------------------------------ small utilities */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void die_oom(void)
{
    fputs("lambda-emu: out of memory\n", stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_oom();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = (char *)xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static int ieq(const char *a, const char *b)
{
    while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b)) a++, b++;
    return *a == 0 && *b == 0;
}

static void logf_(const char *fmt, ...)
{
    va_list ap;
    fputs("lambda-emu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Random bytes: /dev/urandom, falling back to a xorshift seeded from the clock and pid. */
static void random_bytes(unsigned char *out, size_t n)
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

static void hex_of(char *out, const unsigned char *b, size_t n)
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
static void new_uuid(char out[37])
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
static void new_trace_id(char *out, size_t cap)
{
    unsigned char b[20];
    char h[41];
    random_bytes(b, sizeof b);
    hex_of(h, b, sizeof b);
    snprintf(out, cap, "Root=1-%08lx-%.24s;Parent=%.16s;Sampled=0", (unsigned long)(wall_ms() / 1000), h, h + 24);
}

/* Standard base64 decode (padding optional, whitespace rejected). Returns 0 or -1. */
static int b64_decode(const char *in, char **out, size_t *out_len)
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
static int json_peek_string(const char *doc, size_t len, const char *key, char *out, size_t cap)
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
static void json_escape(char *out, size_t cap, const char *s)
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

static int header_value_ok(const char *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || v[i] == 0) return 0;
    return 1;
}

/* Percent-decodes s[0..n) into out (cap bytes). 0 or -1 (bad escape, too long, or a NUL). */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
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
static long proc_hwm_kb(pid_t pid)
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

static int read_file(const char *path, char **out, size_t *len, size_t max)
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

static int sig_pipe[2] = {-1, -1}; /* written by the signal handlers only */
static volatile sig_atomic_t got_stop_signal;

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (sig == SIGINT || sig == SIGTERM) got_stop_signal = sig;
    if (sig_pipe[1] >= 0) (void)write(sig_pipe[1], &c, 1);
    errno = saved;
}

static void setup_signals(void)
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

static void drain_sig_pipe(void)
{
    char b[64];
    while (read(sig_pipe[0], b, sizeof b) > 0) {
    }
}

/* ------------------------------------------------------------------ configuration */

typedef struct env_kv {
    char *kv; /* "NAME=value" */
} env_kv;

typedef struct config {
    char **argv;            /* bootstrap command (NULL-terminated) */
    long long timeout_ms;   /* function timeout */
    long long init_timeout_ms;
    int memory_mb;
    const char *name, *version, *handler, *region, *task_root, *log_group, *log_stream;
    const char *tenant_id;  /* "" = send none */
    int send_invocation_id;
    int api_port;           /* 0 = ephemeral */
    const char *listen;     /* invoke endpoint address or NULL */
    int verbose, quiet;
    env_kv *env;            /* --env overrides */
    size_t n_env;
    /* bench */
    long bench_n;
    const char *bench_event_file;
    int bench_rounds;
    const char *bench_baseline;
} config;

/* ------------------------------------------------------------------ events and invocations */

typedef struct event {
    char *body;
    size_t len;
    char *content_type;
    char *trace_id;        /* NULL: generate one */
    char *client_context;  /* decoded, or NULL */
    char *tenant_id;       /* NULL: config default */
    int caller;            /* 1: an invoke-endpoint caller waits for the result */
    struct event *next;
} event;

enum rt_state {
    RT_NONE,        /* no runtime process */
    RT_INIT,        /* started, no /next yet */
    RT_READY,       /* has called /next at least once */
    RT_INIT_FAILED, /* posted /init/error; must exit */
    RT_DYING        /* we sent it SIGTERM/SIGKILL; waiting for the exit */
};

typedef struct invocation {
    event *ev;
    char request_id[37], invocation_id[37];
    char trace_id[160];
    long long start_ns, deadline_ns;
    int cold;
    double init_ms;
    /* streaming (Lambda-Runtime-Function-Response-Mode: streaming) */
    int streaming;           /* we have started forwarding */
    size_t s_head_len;       /* head length of the /response request in rapi's input buffer */
    int s_chunked;
    size_t s_content_length;
    size_t s_scan;           /* next unparsed offset in rapi's input buffer */
    size_t s_chunk_left;
    int s_state;             /* 0 size line, 1 data, 2 CRLF after data, 3 last chunk seen */
    size_t s_forwarded;      /* decoded body bytes already sent to the caller */
    char s_last;             /* the last byte forwarded */
} invocation;

typedef struct emu {
    config cfg;
    rapi_server api;         /* the Runtime API (one runtime connection at a time) */
    rapi_server inv;         /* the invoke endpoint (when --listen), one caller at a time */
    int listening;
    long long inv_partial_since; /* ns when a caller's request started arriving, 0 if none */

    pid_t pid;
    enum rt_state state;
    long long spawn_ns, kill_at_ns, init_deadline_ns, dying_since_ns;
    int term_sent;
    long hwm_kb;             /* last VmHWM sample of the live runtime */
    int next_parked;         /* a GET /next waits for an event */
    unsigned next_conn;      /* ...on this connection (rapi accept count) */
    int cold;                /* the next invocation starts a fresh runtime */
    double init_ms;
    char *init_error_body;   /* from /runtime/init/error */
    size_t init_error_len;
    char init_error_type[128];

    event *q_head, *q_tail;  /* pending events */
    invocation *cur;         /* the invocation in flight, or NULL */
    char last_request_id[37];
    int caller_busy;         /* the current invoke caller waits for its result */

    int stdin_mode, stdin_eof, stdin_skip;
    char *in_buf;
    size_t in_len, in_cap;

    int exit_status;         /* 0 ok; 1 an invocation failed on the platform side; 3 init failed */
    int warned_no_invocation_id;
    unsigned long invocations;
} emu;

static void event_free(event *e)
{
    if (!e) return;
    free(e->body);
    free(e->content_type);
    free(e->trace_id);
    free(e->client_context);
    free(e->tenant_id);
    free(e);
}

static event *event_new(const char *body, size_t len)
{
    event *e = (event *)xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->body = xstrndup(body, len);
    e->len = len;
    return e;
}

static void queue_push(emu *m, event *e)
{
    e->next = NULL;
    if (m->q_tail) m->q_tail->next = e;
    else m->q_head = e;
    m->q_tail = e;
}

static void queue_push_front(emu *m, event *e)
{
    e->next = m->q_head;
    m->q_head = e;
    if (!m->q_tail) m->q_tail = e;
}

static event *queue_pop(emu *m)
{
    event *e = m->q_head;
    if (!e) return NULL;
    m->q_head = e->next;
    if (!m->q_head) m->q_tail = NULL;
    e->next = NULL;
    return e;
}

/* ------------------------------------------------------------------ the runtime process */

static void set_default_env(const char *name, const char *value)
{
    if (!getenv(name)) setenv(name, value, 1);
}

/* Builds the function's environment in our own (the child inherits it at exec). Values already
   in our environment win over defaults; --env and explicit options win over both. */
static void setup_child_env(emu *m)
{
    config *c = &m->cfg;
    char buf[512];
    size_t i;
    snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)m->api.port);
    setenv("AWS_LAMBDA_RUNTIME_API", buf, 1);
    if (c->handler) setenv("_HANDLER", c->handler, 1); else set_default_env("_HANDLER", "handler");
    if (c->task_root) setenv("LAMBDA_TASK_ROOT", c->task_root, 1);
    else {
        char rp[PATH_MAX];
        const char *slash = strrchr(c->argv[0], '/');
        if (slash && realpath(c->argv[0], rp)) {
            char *d = strrchr(rp, '/');
            if (d && d != rp) *d = 0;
            set_default_env("LAMBDA_TASK_ROOT", rp);
        } else {
            char cwd[PATH_MAX];
            set_default_env("LAMBDA_TASK_ROOT", getcwd(cwd, sizeof cwd) ? cwd : "/var/task");
        }
    }
    set_default_env("LAMBDA_RUNTIME_DIR", getenv("LAMBDA_TASK_ROOT"));
    if (c->name) setenv("AWS_LAMBDA_FUNCTION_NAME", c->name, 1); else set_default_env("AWS_LAMBDA_FUNCTION_NAME", "test_function");
    if (c->version) setenv("AWS_LAMBDA_FUNCTION_VERSION", c->version, 1); else set_default_env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    if (c->memory_mb > 0) {
        snprintf(buf, sizeof buf, "%d", c->memory_mb);
        setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", buf, 1);
    } else {
        set_default_env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    }
    snprintf(buf, sizeof buf, "/aws/lambda/%s", getenv("AWS_LAMBDA_FUNCTION_NAME"));
    if (c->log_group) setenv("AWS_LAMBDA_LOG_GROUP_NAME", c->log_group, 1); else set_default_env("AWS_LAMBDA_LOG_GROUP_NAME", buf);
    {
        unsigned char b[16];
        char h[33];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        random_bytes(b, sizeof b);
        hex_of(h, b, sizeof b);
        snprintf(buf, sizeof buf, "%04d/%02d/%02d/[%s]%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 getenv("AWS_LAMBDA_FUNCTION_VERSION"), h);
    }
    if (c->log_stream) setenv("AWS_LAMBDA_LOG_STREAM_NAME", c->log_stream, 1); else set_default_env("AWS_LAMBDA_LOG_STREAM_NAME", buf);
    if (c->region) {
        setenv("AWS_REGION", c->region, 1);
        setenv("AWS_DEFAULT_REGION", c->region, 1);
    } else {
        set_default_env("AWS_REGION", "us-east-1");
        set_default_env("AWS_DEFAULT_REGION", getenv("AWS_REGION"));
    }
    set_default_env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set_default_env("TZ", ":UTC");
    unsetenv("_X_AMZN_TRACE_ID"); /* a custom runtime sets it per invocation */
    unsetenv("AWS_EXECUTION_ENV"); /* not defined for custom runtimes */
    for (i = 0; i < c->n_env; i++) {
        char *eq = strchr(c->env[i].kv, '=');
        if (!eq) continue;
        *eq = 0;
        setenv(c->env[i].kv, eq + 1, 1);
        *eq = '=';
    }
    /* the API address is ours, whatever --env said */
    snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)m->api.port);
    setenv("AWS_LAMBDA_RUNTIME_API", buf, 1);
}

/* fork + exec the bootstrap. stdout_to: fd to use as the child's stdout (-1: keep ours). */
static pid_t spawn_child(char **argv, int stdout_to)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        struct sigaction sa;
        sigset_t none;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (stdout_to >= 0 && stdout_to != 1) dup2(stdout_to, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "lambda-emu: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) snprintf(out, cap, "exit status 0, without providing a reason");
    else if (WIFEXITED(status)) snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        int s = WTERMSIG(status);
        const char *n = s == SIGKILL ? "killed" : s == SIGTERM ? "terminated" : s == SIGSEGV ? "segmentation fault"
                      : s == SIGABRT ? "aborted" : NULL;
        if (n) snprintf(out, cap, "signal: %s", n);
        else snprintf(out, cap, "signal: %d", s);
    } else snprintf(out, cap, "status %d", status);
}

/* ------------------------------------------------------------------ delivering results */

typedef struct result {
    int ok;
    const char *body;
    size_t len;
    const char *content_type;
    char error_type[128];
    int platform;          /* timeout / exit / size: counts against the exit status */
    const char *status;    /* REPORT Status: NULL, "timeout", "error" */
    const char *trailer_type, *trailer_b64; /* a streamed response's error trailers */
} result;

static void print_report(emu *m, invocation *iv, const result *r)
{
    double dur = (double)(now_ns() - iv->start_ns) / 1e6;
    double billed = dur + (iv->cold ? iv->init_ms : 0);
    long mem = m->hwm_kb > 0 ? (m->hwm_kb + 1023) / 1024 : 0;
    if (m->cfg.quiet) return;
    if (!r->ok) fprintf(stderr, "ERROR RequestId: %s ErrorType: %s\n", iv->request_id, r->error_type);
    fprintf(stderr, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %s MB\tMax Memory Used: %ld MB",
            iv->request_id, dur, (long long)(billed + 0.999999), getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), mem);
    if (iv->cold) fprintf(stderr, "\tInit Duration: %.2f ms", iv->init_ms);
    if (r->status) fprintf(stderr, "\tStatus: %s", r->status);
    if (r->status && strcmp(r->status, "error") == 0) fprintf(stderr, "\tError Type: %s", r->error_type);
    fputc('\n', stderr);
    fflush(stderr);
}

static void caller_send(emu *m, const char *data, size_t len)
{
    if (m->inv.conn_fd < 0) return;
    if (rapi_server_send_raw(&m->inv, data, len, 0, 0, -1, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("invoke caller went away");
        rapi_server_close_conn(&m->inv);
    }
}

/* Streaming: the start of the forwarded response. */
static void stream_begin(emu *m, invocation *iv, const char *content_type)
{
    iv->streaming = 1;
    if (iv->ev->caller) {
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nX-Amzn-Requestid: %s\r\nX-Amz-Executed-Version: %s\r\n"
                         "Transfer-Encoding: chunked\r\n"
                         "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
                         "Connection: close\r\n\r\n",
                         content_type && header_value_ok(content_type, strlen(content_type)) ? content_type
                                                                                             : "application/octet-stream",
                         iv->request_id, getenv("AWS_LAMBDA_FUNCTION_VERSION"));
        caller_send(m, head, (size_t)n);
    }
}

static void stream_data(emu *m, invocation *iv, const char *p, size_t n)
{
    if (n == 0) return;
    iv->s_forwarded += n;
    iv->s_last = p[n - 1];
    if (iv->ev->caller) {
        char sz[32];
        int k = snprintf(sz, sizeof sz, "%lx\r\n", (unsigned long)n);
        caller_send(m, sz, (size_t)k);
        caller_send(m, p, n);
        caller_send(m, "\r\n", 2);
    } else {
        fwrite(p, 1, n, stdout);
        fflush(stdout);
    }
}

/* Ends a streamed response; err_type/err_body_b64 are the error trailers (NULL if none). */
static void stream_end(emu *m, invocation *iv, const char *err_type, const char *err_body_b64)
{
    if (iv->ev->caller) {
        char *t = (char *)xmalloc(64 + (err_type ? strlen(err_type) : 0) + (err_body_b64 ? strlen(err_body_b64) : 0) + 128);
        size_t n = 0;
        n += (size_t)sprintf(t + n, "0\r\n");
        if (err_type) n += (size_t)sprintf(t + n, "Lambda-Runtime-Function-Error-Type: %s\r\n", err_type);
        if (err_body_b64) n += (size_t)sprintf(t + n, "Lambda-Runtime-Function-Error-Body: %s\r\n", err_body_b64);
        n += (size_t)sprintf(t + n, "\r\n");
        caller_send(m, t, n);
        free(t);
        rapi_server_close_conn(&m->inv);
    } else { /* stdout: the streamed body, then (on error) the error document, each on its own line */
        if (iv->s_forwarded == 0 || iv->s_last != '\n') fputc('\n', stdout);
        if (err_type) {
            char *doc = NULL;
            size_t dl = 0;
            if (err_body_b64 && b64_decode(err_body_b64, &doc, &dl) == 0 && dl > 0) {
                fwrite(doc, 1, dl, stdout);
                if (doc[dl - 1] != '\n') fputc('\n', stdout);
            } else {
                printf("{\"errorType\":\"%s\"}\n", err_type);
            }
            free(doc);
        }
        fflush(stdout);
    }
}

/* Finishes the current invocation: hands the result to its caller (or stdout) and reports. */
static void finish(emu *m, result *r)
{
    invocation *iv = m->cur;
    if (!iv) return;
    if (!r->ok && r->platform && m->exit_status == 0) m->exit_status = 1;
    if (m->pid > 0) {
        long h = proc_hwm_kb(m->pid);
        if (h > 0) m->hwm_kb = h;
    }
    if (iv->streaming) {
        /* the body has been forwarded already; a failure becomes the error trailers */
        if (r->trailer_type) {
            stream_end(m, iv, r->trailer_type, r->trailer_b64);
        } else if (!r->ok) {
            char doc[1024], b64[1400];
            static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            size_t i, o = 0, n;
            snprintf(doc, sizeof doc, "%.*s", (int)r->len, r->body);
            n = strlen(doc);
            for (i = 0; i < n; i += 3) { /* standard base64, as the platform's trailers */
                unsigned v = (unsigned)(unsigned char)doc[i] << 16;
                if (i + 1 < n) v |= (unsigned)(unsigned char)doc[i + 1] << 8;
                if (i + 2 < n) v |= (unsigned)(unsigned char)doc[i + 2];
                b64[o++] = tb[(v >> 18) & 63];
                b64[o++] = tb[(v >> 12) & 63];
                b64[o++] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
                b64[o++] = i + 2 < n ? tb[v & 63] : '=';
            }
            b64[o] = 0;
            stream_end(m, iv, r->error_type, b64);
        } else {
            stream_end(m, iv, NULL, NULL);
        }
    } else if (iv->ev->caller) {
        rapi_response resp;
        char hdrs[1024];
        snprintf(hdrs, sizeof hdrs, "Content-Type: %s\r\nX-Amzn-Requestid: %s\r\nX-Amz-Executed-Version: %s\r\n%s%s%s",
                 r->content_type && header_value_ok(r->content_type, strlen(r->content_type)) ? r->content_type
                                                                                              : "application/json",
                 iv->request_id, getenv("AWS_LAMBDA_FUNCTION_VERSION"),
                 r->ok ? "" : "X-Amz-Function-Error: Unhandled\r\n", "Connection: close\r\n", "");
        rapi_response_init(&resp, 200);
        resp.headers = hdrs;
        resp.body = r->body;
        resp.body_len = r->len;
        resp.close_at_end = 1;
        if (m->inv.conn_fd >= 0 && rapi_server_send(&m->inv, &resp, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
            if (m->cfg.verbose) logf_("invoke caller went away before its response");
            rapi_server_close_conn(&m->inv);
        }
    } else {
        fwrite(r->body, 1, r->len, stdout);
        if (r->len == 0 || r->body[r->len - 1] != '\n') fputc('\n', stdout);
        fflush(stdout);
    }
    if (iv->ev->caller) m->caller_busy = 0;
    print_report(m, iv, r);
    memcpy(m->last_request_id, iv->request_id, sizeof m->last_request_id);
    event_free(iv->ev);
    free(iv);
    m->cur = NULL;
    m->invocations++;
}

/* A failure generated by the emulator itself (timeout, exit, size...). */
static void finish_error(emu *m, const char *type, const char *status, int platform, const char *fmt, ...)
{
    char msg[512], esc[1100], doc[1400];
    result r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_escape(esc, sizeof esc, msg);
    snprintf(doc, sizeof doc, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
    memset(&r, 0, sizeof r);
    r.body = doc;
    r.len = strlen(doc);
    r.content_type = "application/json";
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    r.platform = platform;
    r.status = status;
    finish(m, &r);
}

/* ------------------------------------------------------------------ runtime lifecycle */

static void start_runtime(emu *m)
{
    int out = 2; /* the function's stdout is a log: send it to stderr, keep ours for responses */
    m->spawn_ns = now_ns();
    m->pid = spawn_child(m->cfg.argv, out);
    if (m->pid < 0) {
        logf_("fork: %s", strerror(errno));
        m->pid = 0;
        return;
    }
    m->state = RT_INIT;
    m->init_deadline_ns = m->spawn_ns + m->cfg.init_timeout_ms * 1000000LL;
    m->next_parked = 0;
    m->cold = 1;
    m->term_sent = 0;
    m->kill_at_ns = 0;
    m->hwm_kb = 0;
    free(m->init_error_body);
    m->init_error_body = NULL;
    m->init_error_len = 0;
    m->init_error_type[0] = 0;
    if (m->cfg.verbose) logf_("started runtime pid %ld: %s", (long)m->pid, m->cfg.argv[0]);
}

/* SIGTERM now, SIGKILL after the grace period (see tick). Only our own child, by pid. */
static void kill_runtime(emu *m, const char *why)
{
    if (m->pid <= 0 || m->state == RT_DYING) return;
    if (m->cfg.verbose || why) logf_("stopping runtime pid %ld%s%s", (long)m->pid, why ? ": " : "", why ? why : "");
    kill(m->pid, SIGTERM);
    m->term_sent = 1;
    m->state = RT_DYING;
    m->dying_since_ns = now_ns();
    m->kill_at_ns = m->dying_since_ns + EMU_KILL_GRACE_MS * 1000000LL;
}

/* The runtime process is gone: fail whatever it owed, reset the Runtime API side. */
static void runtime_exited(emu *m, int status)
{
    char how[64];
    enum rt_state st = m->state;
    describe_status(status, how, sizeof how);
    m->pid = 0;
    m->state = RT_NONE;
    m->next_parked = 0;
    rapi_server_close_conn(&m->api);
    if (st == RT_DYING) {
        if (m->cfg.verbose) logf_("runtime stopped (%s)", how);
        return;
    }
    if (st == RT_INIT_FAILED) return; /* the init error was delivered when it was posted */
    if (m->cur) {
        logf_("runtime exited during invocation %s (%s); it will be restarted", m->cur->request_id, how);
        finish_error(m, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                     m->cur->request_id, how);
        return;
    }
    if (st == RT_INIT) {
        /* exited before its first /next without an init error: the first event fails */
        event *e = queue_pop(m);
        logf_("runtime exited during init (%s)", how);
        m->exit_status = 3;
        if (e) {
            invocation *iv = (invocation *)xmalloc(sizeof *iv);
            memset(iv, 0, sizeof *iv);
            iv->ev = e;
            new_uuid(iv->request_id);
            iv->start_ns = now_ns();
            iv->cold = 1;
            iv->init_ms = (double)(iv->start_ns - m->spawn_ns) / 1e6;
            if (e->caller) m->caller_busy = 1;
            m->cur = iv;
            finish_error(m, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                         iv->request_id, how);
        }
        return;
    }
    logf_("runtime exited while idle (%s); it will be restarted for the next event", how);
}

static void reap(emu *m)
{
    int status;
    pid_t p;
    if (m->pid <= 0) return;
    do {
        p = waitpid(m->pid, &status, WNOHANG);
    } while (p < 0 && errno == EINTR);
    if (p == m->pid) runtime_exited(m, status);
}

/* ------------------------------------------------------------------ talking to the runtime */

static void api_reply(emu *m, int status, const char *type, const char *fmt, ...)
{
    rapi_response r;
    char msg[512], esc[1100], body[1400];
    va_list ap;
    rapi_response_init(&r, status);
    if (status == 405) r.reason = "Method Not Allowed"; /* not in rapi_status_reason */
    if (type) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        json_escape(esc, sizeof esc, msg);
        snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
    } else {
        snprintf(body, sizeof body, "{\"status\":\"OK\"}");
    }
    r.headers = "Content-Type: application/json\r\n";
    r.body = body;
    r.body_len = strlen(body);
    if (rapi_server_send(&m->api, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("could not answer the runtime (connection lost)");
        rapi_server_close_conn(&m->api);
    }
}

/* Sends the event to the parked GET /next. */
static void dispatch(emu *m)
{
    invocation *iv;
    event *e;
    rapi_response r;
    char hdrs[4096 + 512], *h;
    size_t hl;
    const char *tenant;
    if (m->cur || !m->next_parked || !m->q_head || m->state != RT_READY) return;
    if (m->api.conn_fd < 0 || m->api.accepts != m->next_conn) { /* that /next's connection is gone */
        m->next_parked = 0;
        return;
    }
    e = queue_pop(m);
    iv = (invocation *)xmalloc(sizeof *iv);
    memset(iv, 0, sizeof *iv);
    iv->ev = e;
    new_uuid(iv->request_id);
    new_uuid(iv->invocation_id);
    if (e->trace_id) snprintf(iv->trace_id, sizeof iv->trace_id, "%s", e->trace_id);
    else new_trace_id(iv->trace_id, sizeof iv->trace_id);
    iv->cold = m->cold;
    iv->init_ms = m->init_ms;
    m->cold = 0;
    tenant = e->tenant_id ? e->tenant_id : m->cfg.tenant_id;

    hl = (size_t)snprintf(hdrs, sizeof hdrs,
                          "Content-Type: %s\r\nLambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
                          "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:%s:" EMU_ARN_ACCOUNT ":function:%s\r\n"
                          "Lambda-Runtime-Trace-Id: %s\r\n",
                          e->content_type ? e->content_type : "application/json", iv->request_id,
                          wall_ms() + m->cfg.timeout_ms, getenv("AWS_REGION"), getenv("AWS_LAMBDA_FUNCTION_NAME"),
                          iv->trace_id);
    if (tenant && *tenant && hl < sizeof hdrs)
        hl += (size_t)snprintf(hdrs + hl, sizeof hdrs - hl, "Lambda-Runtime-Aws-Tenant-Id: %s\r\n", tenant);
    if (m->cfg.send_invocation_id && hl < sizeof hdrs)
        hl += (size_t)snprintf(hdrs + hl, sizeof hdrs - hl, "Lambda-Runtime-Invocation-Id: %s\r\n", iv->invocation_id);
    if (hl >= sizeof hdrs) hl = sizeof hdrs - 1;
    h = hdrs;
    if (e->client_context) { /* can be long: build a separate block */
        size_t cl = strlen(e->client_context);
        h = (char *)xmalloc(hl + cl + 64);
        memcpy(h, hdrs, hl);
        hl += (size_t)sprintf(h + hl, "Lambda-Runtime-Client-Context: %s\r\n", e->client_context);
    }
    rapi_response_init(&r, 200);
    r.headers = h;
    r.body = e->body;
    r.body_len = e->len;
    m->next_parked = 0;
    m->cur = iv;
    if (m->pid > 0) { /* sample now too: a runtime that crashes cannot be read afterwards */
        long hw = proc_hwm_kb(m->pid);
        if (hw > 0) m->hwm_kb = hw;
    }
    iv->start_ns = now_ns();
    iv->deadline_ns = iv->start_ns + m->cfg.timeout_ms * 1000000LL;
    if (m->cfg.verbose) logf_("invoke %s (%lu bytes)", iv->request_id, (unsigned long)e->len);
    if (rapi_server_send(&m->api, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        /* the runtime is not reading: give the event back and wait for it to call /next again or exit */
        logf_("could not deliver the event to the runtime (connection lost); will retry");
        rapi_server_close_conn(&m->api);
        m->cur = NULL;
        m->cold = iv->cold;
        free(iv);
        queue_push_front(m, e);
    }
    if (h != hdrs) free(h);
}

/* Splits "/2018-06-01/runtime/invocation/<id>/<what>". Returns 1 and fills id/what if it matches. */
static int parse_invocation_path(const char *path, char *id, size_t idcap, const char **what)
{
    static const char pre[] = "/2018-06-01/runtime/invocation/";
    const char *p, *slash;
    if (strncmp(path, pre, sizeof pre - 1) != 0) return 0;
    p = path + sizeof pre - 1;
    slash = strchr(p, '/');
    if (!slash || slash == p) return 0;
    if (pct_decode(p, (size_t)(slash - p), id, idcap) != 0) return -1;
    *what = slash + 1;
    return 1;
}

static void target_path(const char *target, char *out, size_t cap)
{
    size_t n = strcspn(target, "?#");
    if (n >= cap) n = cap - 1;
    memcpy(out, target, n);
    out[n] = 0;
}

/* Request id check shared by /response and /error: 1 when it is the current invocation. */
static int check_request_id(emu *m, const char *id)
{
    if (m->cur && strcmp(id, m->cur->request_id) == 0) return 1;
    if (m->last_request_id[0] && strcmp(id, m->last_request_id) == 0) {
        logf_("runtime sent a second result for %s; answered 403", id);
        api_reply(m, 403, "InvalidStateTransition", "State transition from InvocationResponse/Error is not allowed");
        return 0;
    }
    logf_("runtime posted a result for unknown request id '%s'; answered 400", id);
    api_reply(m, 400, "InvalidRequestID", "Invalid request ID");
    return 0;
}

/* 1 when the Lambda-Runtime-Invocation-Id echo is acceptable. */
static int check_invocation_id(emu *m, const rapi_request *req)
{
    const char *v = rapi_request_header(req, "Lambda-Runtime-Invocation-Id");
    if (!m->cfg.send_invocation_id) return 1;
    if (!v) {
        if (!m->warned_no_invocation_id) logf_("note: the runtime does not echo Lambda-Runtime-Invocation-Id");
        m->warned_no_invocation_id = 1;
        return 1;
    }
    if (strcmp(v, m->cur->invocation_id) == 0) return 1;
    logf_("runtime echoed Lambda-Runtime-Invocation-Id '%s', expected '%s'; answered 410", v, m->cur->invocation_id);
    api_reply(m, 410, "InvalidInvocationID", "Lambda-Runtime-Invocation-Id does not match this invocation");
    return 0;
}

static void handle_next(emu *m, const rapi_request *req)
{
    if (m->state == RT_INIT_FAILED) {
        logf_("runtime called /next after /init/error; answered 403");
        api_reply(m, 403, "InvalidStateTransition", "State transition from InitError to Ready is not allowed");
        return;
    }
    if (m->cur) {
        logf_("runtime called /next while invocation %s is outstanding; answered 403", m->cur->request_id);
        api_reply(m, 403, "InvalidStateTransition", "State transition from Invoke to Ready is not allowed");
        return;
    }
    if (m->state == RT_INIT) {
        m->init_ms = (double)(now_ns() - m->spawn_ns) / 1e6;
        m->state = RT_READY;
        if (m->cfg.verbose) logf_("runtime ready after %.2f ms", m->init_ms);
    }
    m->next_parked = 1;
    m->next_conn = req->conn_seq;
    dispatch(m);
}

static void handle_response(emu *m, const rapi_request *req, const char *id)
{
    const char *mode = rapi_request_header(req, "Lambda-Runtime-Function-Response-Mode");
    const char *ct = rapi_request_header(req, "Content-Type");
    result r;
    if (!check_request_id(m, id)) return;
    if (!check_invocation_id(m, req)) {
        if (m->cur->streaming)
            finish_error(m, "Runtime.InvalidInvocationId", "error", 1, "RequestId: %s Error: streamed response rejected", id);
        return;
    }
    if (mode && !ieq(mode, "streaming")) {
        logf_("runtime sent Lambda-Runtime-Function-Response-Mode: %s; answered 400", mode);
        api_reply(m, 400, "InvalidFunctionResponseMode", "Invalid function response mode");
        finish_error(m, "Runtime.InvalidResponseModeHeader", "error", 1, "RequestId: %s Error: invalid response mode '%s'",
                     id, mode);
        return;
    }
    if (mode) { /* streaming: forward what has not been forwarded yet, then the trailers */
        invocation *iv = m->cur;
        const char *et = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Type");
        const char *eb = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Body");
        if (!iv->streaming) stream_begin(m, iv, ct);
        if (iv->s_forwarded < req->body_len) stream_data(m, iv, req->body + iv->s_forwarded, req->body_len - iv->s_forwarded);
        api_reply(m, 202, NULL, NULL);
        memset(&r, 0, sizeof r);
        r.ok = 1;
        r.body = "";
        if (et || eb) { /* Lambda records a successful response and forwards the error metadata */
            r.ok = 0;
            r.trailer_type = et ? et : "Runtime.Unknown";
            r.trailer_b64 = eb;
            snprintf(r.error_type, sizeof r.error_type, "%s", r.trailer_type);
        }
        finish(m, &r);
        return;
    }
    if (req->body_len > EMU_MAX_PAYLOAD) {
        logf_("response for %s is %lu bytes, over the %u-byte limit; answered 413", id, (unsigned long)req->body_len,
              EMU_MAX_PAYLOAD);
        api_reply(m, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        finish_error(m, "Function.ResponseSizeTooLarge", "error", 1,
                     "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        return;
    }
    api_reply(m, 202, NULL, NULL);
    memset(&r, 0, sizeof r);
    r.ok = 1;
    r.body = req->body;
    r.len = req->body_len;
    r.content_type = ct ? ct : "application/json";
    finish(m, &r);
}

static void handle_error(emu *m, const rapi_request *req, const char *id)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    result r;
    char doc[1024];
    if (!check_request_id(m, id) || !check_invocation_id(m, req)) return;
    if (m->cur->streaming) {
        logf_("runtime posted /error after streaming response bytes; answered 403");
        api_reply(m, 403, "InvalidStateTransition", "State transition from RuntimeResponseSent to InvocationErrorResponse is not allowed");
        return;
    }
    api_reply(m, 202, NULL, NULL);
    memset(&r, 0, sizeof r);
    if (json_peek_string(req->body, req->body_len, "errorType", r.error_type, sizeof r.error_type) != 0)
        snprintf(r.error_type, sizeof r.error_type, "%s", ht ? ht : "Runtime.Unknown");
    if (req->body_len > 0) {
        r.body = req->body;
        r.len = req->body_len;
    } else { /* Lambda builds the document from the header */
        char esc[300];
        json_escape(esc, sizeof esc, r.error_type);
        snprintf(doc, sizeof doc, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
        r.body = doc;
        r.len = strlen(doc);
    }
    r.content_type = "application/json";
    finish(m, &r);
}

static void handle_init_error(emu *m, const rapi_request *req)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    char type[128];
    event *e;
    if (m->state != RT_INIT) {
        logf_("runtime posted /init/error after init; answered 403");
        api_reply(m, 403, "InvalidStateTransition", "State transition from Ready to InitError is not allowed");
        return;
    }
    api_reply(m, 202, NULL, NULL);
    m->init_ms = (double)(now_ns() - m->spawn_ns) / 1e6;
    if (json_peek_string(req->body, req->body_len, "errorType", type, sizeof type) != 0)
        snprintf(type, sizeof type, "%s", ht ? ht : "Runtime.Unknown");
    fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", m->init_ms, type);
    m->state = RT_INIT_FAILED;
    m->exit_status = 3;
    m->kill_at_ns = now_ns() + EMU_INIT_ERROR_GRACE_MS * 1000000LL; /* it must exit by itself */
    /* Lambda serves the init error as the response to the pending invoke */
    e = queue_pop(m);
    if (e) {
        invocation *iv = (invocation *)xmalloc(sizeof *iv);
        result r;
        char doc[512];
        memset(iv, 0, sizeof *iv);
        iv->ev = e;
        new_uuid(iv->request_id);
        iv->start_ns = now_ns();
        iv->cold = 1;
        iv->init_ms = m->init_ms;
        if (e->caller) m->caller_busy = 1;
        m->cur = iv;
        memset(&r, 0, sizeof r);
        snprintf(r.error_type, sizeof r.error_type, "%s", type);
        if (req->body_len > 0) {
            r.body = req->body;
            r.len = req->body_len;
        } else {
            char esc[300];
            json_escape(esc, sizeof esc, type);
            snprintf(doc, sizeof doc, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
            r.body = doc;
            r.len = strlen(doc);
        }
        r.content_type = "application/json";
        r.platform = 1;
        r.status = "error";
        finish(m, &r);
    }
}

static void handle_api_request(emu *m, const rapi_request *req)
{
    char path[2048], id[1100];
    const char *what = NULL;
    int k;
    target_path(req->target, path, sizeof path);
    if (m->cfg.verbose) logf_("runtime: %s %s", req->method, req->target);
    if (strcmp(path, "/2018-06-01/runtime/invocation/next") == 0) {
        if (strcmp(req->method, "GET") != 0) goto bad_method;
        handle_next(m, req);
        return;
    }
    if (strcmp(path, "/2018-06-01/runtime/init/error") == 0) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        handle_init_error(m, req);
        return;
    }
    k = parse_invocation_path(path, id, sizeof id, &what);
    if (k < 0) {
        logf_("runtime sent a malformed request id in %s; answered 400", req->target);
        api_reply(m, 400, "InvalidRequestID", "Invalid request ID");
        return;
    }
    if (k > 0 && (strcmp(what, "response") == 0 || strcmp(what, "error") == 0)) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        if (what[0] == 'r') handle_response(m, req, id);
        else handle_error(m, req, id);
        return;
    }
    if (strncmp(path, "/2020-01-01/extension", 21) == 0 || strncmp(path, "/2022-07-01/telemetry", 21) == 0 ||
        strncmp(path, "/2020-08-15/logs", 16) == 0)
        logf_("runtime called %s %s: the Extensions/Telemetry APIs are not emulated; answered 404", req->method, path);
    else
        logf_("runtime called unknown endpoint %s %s; answered 404", req->method, req->target);
    api_reply(m, 404, "NotFound", "Not found: %s", path);
    return;
bad_method:
    logf_("runtime used method %s on %s; answered 405", req->method, path);
    api_reply(m, 405, "MethodNotAllowed", "Method %s not allowed on %s", req->method, path);
}

/* ------------------------------------------------------------------ streaming: forwarding while it arrives */

/* Looks at the (incomplete) request sitting in rapi's input buffer. If it is the streamed
   /response of the current invocation, forwards the body bytes decoded so far. rapi_server
   stays the parser of record: when the request is complete, rapi_server_read_request returns
   it and handle_response forwards whatever is left plus the trailers. */
static void stream_peek(emu *m)
{
    invocation *iv = m->cur;
    const char *in = m->api.in;
    size_t len = m->api.in_len;
    if (!iv || len == 0) return;
    if (!iv->s_head_len) {
        /* find the end of the head and look at the few fields we need */
        size_t i, eoh = 0;
        char line[2048], path[2048], id[1100];
        const char *what = NULL, *p, *end;
        int streaming = 0, chunked = 0;
        size_t clen = 0;
        char ctype[256] = "";
        for (i = 0; i + 3 < len && i < RAPI_DEFAULT_MAX_HEAD; i++)
            if (memcmp(in + i, "\r\n\r\n", 4) == 0) {
                eoh = i + 4;
                break;
            }
        if (!eoh) return;
        p = in;
        end = in + eoh - 2;
        { /* request line: POST <target> HTTP/1.x */
            const char *le = memchr(p, '\r', (size_t)(end - p));
            size_t ll = le ? (size_t)(le - p) : 0;
            char *sp;
            if (!le || ll >= sizeof line) return;
            memcpy(line, p, ll);
            line[ll] = 0;
            if (strncmp(line, "POST ", 5) != 0) {
                iv->s_head_len = (size_t)-1; /* not ours: stop peeking for this request */
                return;
            }
            sp = strchr(line + 5, ' ');
            if (sp) *sp = 0;
            target_path(line + 5, path, sizeof path);
            if (parse_invocation_path(path, id, sizeof id, &what) != 1 || strcmp(what, "response") != 0 ||
                strcmp(id, iv->request_id) != 0) {
                iv->s_head_len = (size_t)-1;
                return;
            }
            p = le + 2;
        }
        while (p < end) { /* header lines */
            const char *le = memchr(p, '\r', (size_t)(end - p + 1));
            const char *colon;
            size_t ll = le ? (size_t)(le - p) : (size_t)(end - p);
            colon = memchr(p, ':', ll);
            if (colon && ll < sizeof line) {
                size_t nl = (size_t)(colon - p);
                const char *v = colon + 1;
                size_t vl;
                while (v < p + ll && (*v == ' ' || *v == '\t')) v++;
                vl = (size_t)(p + ll - v);
                memcpy(line, p, nl);
                line[nl] = 0;
                if (ieq(line, "Lambda-Runtime-Function-Response-Mode") && vl == 9 && strncmp(v, "streaming", 9) == 0)
                    streaming = 1;
                else if (ieq(line, "Transfer-Encoding") && vl >= 7 && strncmp(v, "chunked", 7) == 0) chunked = 1;
                else if (ieq(line, "Content-Length")) clen = (size_t)strtoul(v, NULL, 10);
                else if (ieq(line, "Content-Type") && vl < sizeof ctype) {
                    memcpy(ctype, v, vl);
                    ctype[vl] = 0;
                }
            }
            p += ll + 2;
        }
        if (!streaming) {
            iv->s_head_len = (size_t)-1;
            return;
        }
        iv->s_head_len = eoh;
        iv->s_scan = eoh;
        iv->s_chunked = chunked;
        iv->s_content_length = clen;
        stream_begin(m, iv, ctype[0] ? ctype : NULL);
    }
    if (iv->s_head_len == (size_t)-1) return;
    if (!iv->s_chunked) {
        size_t have = len - iv->s_head_len;
        if (have > iv->s_content_length) have = iv->s_content_length;
        if (have > iv->s_forwarded) stream_data(m, iv, in + iv->s_head_len + iv->s_forwarded, have - iv->s_forwarded);
        return;
    }
    for (;;) { /* incremental chunk walk over the bytes received so far (bounded by len) */
        if (iv->s_state == 3) return;
        if (iv->s_state == 1) {
            size_t n = len - iv->s_scan;
            if (n == 0) return;
            if (n > iv->s_chunk_left) n = iv->s_chunk_left;
            stream_data(m, iv, in + iv->s_scan, n);
            iv->s_scan += n;
            iv->s_chunk_left -= n;
            if (iv->s_chunk_left == 0) iv->s_state = 2;
            continue;
        }
        if (iv->s_state == 2) {
            if (len - iv->s_scan < 2) return;
            iv->s_scan += 2;
            iv->s_state = 0;
            continue;
        }
        { /* size line */
            size_t i, size = 0;
            int digits = 0;
            for (i = iv->s_scan; i + 1 < len; i++)
                if (in[i] == '\r' && in[i + 1] == '\n') break;
            if (i + 1 >= len) return;
            for (; iv->s_scan < i && isxdigit((unsigned char)in[iv->s_scan]) && digits < 15; iv->s_scan++, digits++) {
                int c = in[iv->s_scan];
                size = size * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
            if (digits == 0) {
                iv->s_state = 3; /* malformed: rapi_server will say so */
                return;
            }
            iv->s_scan = i + 2;
            if (size == 0) iv->s_state = 3;
            else {
                iv->s_chunk_left = size;
                iv->s_state = 1;
            }
        }
    }
}

/* Reads and handles what the runtime sent. Called when its sockets are readable. */
static void service_api(emu *m)
{
    int guard;
    for (guard = 0; guard < 64; guard++) {
        rapi_request req;
        int rc = rapi_server_read_request(&m->api, &req, 0);
        if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) { /* rapi_server lets NUL through */
            rapi_request_free(&req);
            rc = RAPI_EPROTO;
        }
        if (rc == RAPI_OK) {
            handle_api_request(m, &req);
            rapi_request_free(&req);
            if (m->cur) { /* that request is done: peek afresh at the next one */
                m->cur->s_head_len = 0;
                m->cur->s_scan = 0;
                m->cur->s_state = 0;
                m->cur->s_chunk_left = 0;
            }
            if (m->api.in_len == 0) return;
            continue;
        }
        if (rc == RAPI_ETIMEOUT) {
            if (m->cur && m->cur->s_head_len != (size_t)-1) stream_peek(m);
            return;
        }
        if (rc == RAPI_EPROTO) {
            logf_("malformed HTTP request from the runtime (%lu bytes buffered); answered 400 and closed the connection",
                  (unsigned long)m->api.in_len);
            api_reply(m, 400, "InvalidRequestFormat", "Malformed HTTP request");
        } else if (rc == RAPI_ETOOBIG) {
            logf_("request from the runtime over the size limit; answered 413 and closed the connection");
            api_reply(m, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
            if (m->cur && m->cur->s_head_len && m->cur->s_head_len != (size_t)-1)
                finish_error(m, "Function.ResponseSizeTooLarge", "error", 1,
                             "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_STREAM);
        } else if (rc == RAPI_ECLOSED) {
            logf_("runtime closed the connection in the middle of a request");
        } else {
            logf_("Runtime API connection error: %s (%s)", rapi_strerror(rc),
                  m->api.last_op ? strerror(m->api.last_errno) : "-");
        }
        if (m->cur && m->cur->streaming) { /* a streamed response that cannot complete */
            finish_error(m, "Runtime.TruncatedResponse", "error", 1, "RequestId: %s Error: streamed response was cut short",
                         m->cur->request_id);
        }
        if (m->cur) {
            m->cur->s_head_len = 0;
            m->cur->s_state = 0;
            m->cur->s_forwarded = 0;
        }
        rapi_server_close_conn(&m->api);
        m->next_parked = 0;
        return;
    }
}

/* ------------------------------------------------------------------ the invoke endpoint */

static void inv_reply(emu *m, int status, const char *type, const char *msg)
{
    rapi_response r;
    char body[1024], esc[600];
    rapi_response_init(&r, status);
    if (type) {
        json_escape(esc, sizeof esc, msg);
        snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
        r.body = body;
        r.body_len = strlen(body);
    }
    r.headers = "Content-Type: application/json\r\nConnection: close\r\n";
    r.close_at_end = 1;
    (void)rapi_server_send(&m->inv, &r, EMU_SEND_TIMEOUT_MS);
    rapi_server_close_conn(&m->inv);
}

static void handle_invoke_request(emu *m, rapi_request *req)
{
    char path[2048];
    const char *p, *tr, *cc, *tn, *ct, *itype;
    event *e;
    target_path(req->target, path, sizeof path);
    p = path;
    if (strncmp(p, "/2015-03-31/functions/", 22) != 0 || !strstr(p + 22, "/invocations") ||
        strcmp(strstr(p + 22, "/invocations"), "/invocations") != 0) {
        logf_("invoke endpoint: unknown path %s %s; answered 404", req->method, req->target);
        inv_reply(m, 404, "ResourceNotFoundException", "Not found");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        inv_reply(m, 405, "MethodNotAllowed", "Use POST");
        return;
    }
    if (req->body_len > EMU_MAX_PAYLOAD) {
        inv_reply(m, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 6291556 bytes for the InvokeFunction operation");
        return;
    }
    itype = rapi_request_header(req, "X-Amz-Invocation-Type");
    if (itype && strcmp(itype, "DryRun") == 0) {
        inv_reply(m, 204, NULL, NULL);
        return;
    }
    e = event_new(req->body, req->body_len);
    tr = rapi_request_header(req, "X-Amzn-Trace-Id");
    cc = rapi_request_header(req, "X-Amz-Client-Context");
    tn = rapi_request_header(req, "X-Amz-Tenant-Id");
    ct = rapi_request_header(req, "Content-Type");
    if (tr && *tr) e->trace_id = xstrdup(tr);
    if (tn && *tn) e->tenant_id = xstrdup(tn);
    if (ct && *ct && strcmp(ct, "application/x-www-form-urlencoded") != 0) e->content_type = xstrdup(ct);
    if (cc && *cc) {
        char *dec;
        size_t dl;
        if (b64_decode(cc, &dec, &dl) != 0 || !header_value_ok(dec, dl)) {
            if (b64_decode(cc, &dec, &dl) == 0) free(dec);
            event_free(e);
            logf_("invoke endpoint: X-Amz-Client-Context is not valid base64 (or holds CR/LF/NUL); answered 400");
            inv_reply(m, 400, "InvalidRequestContentException", "Client context must be valid base64");
            return;
        }
        e->client_context = dec;
    }
    if (itype && strcmp(itype, "Event") == 0) {
        inv_reply(m, 202, NULL, NULL);
        queue_push(m, e);
        return;
    }
    e->caller = 1;
    m->caller_busy = 1;
    queue_push(m, e);
}

static void service_invoke(emu *m)
{
    rapi_request req;
    int rc = rapi_server_read_request(&m->inv, &req, 0);
    if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) {
        rapi_request_free(&req);
        rc = RAPI_EPROTO;
    }
    if (rc == RAPI_OK) {
        m->inv_partial_since = 0;
        handle_invoke_request(m, &req);
        rapi_request_free(&req);
        return;
    }
    if (rc == RAPI_ETIMEOUT) {
        if (m->inv.in_len > 0 && !m->inv_partial_since) m->inv_partial_since = now_ns();
        return;
    }
    m->inv_partial_since = 0;
    if (rc == RAPI_EPROTO) {
        logf_("invoke endpoint: malformed HTTP request; answered 400");
        inv_reply(m, 400, "InvalidRequestContentException", "Malformed HTTP request");
    } else if (rc == RAPI_ETOOBIG) {
        inv_reply(m, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 6291556 bytes for the InvokeFunction operation");
    } else {
        rapi_server_close_conn(&m->inv);
    }
}

/* Binds host:port for the invoke endpoint and swaps it into the rapi_server (which only knows
   127.0.0.1:0). A bare port means 127.0.0.1. */
static int open_listener(rapi_server *s, const char *spec, int default_port)
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

/* ------------------------------------------------------------------ stdin events */

static void service_stdin(emu *m)
{
    ssize_t r;
    size_t i, start = 0;
    if (m->in_cap - m->in_len < 65536) {
        size_t cap = m->in_cap ? m->in_cap * 2 : 131072;
        char *nb = (char *)realloc(m->in_buf, cap);
        if (!nb) die_oom();
        m->in_buf = nb;
        m->in_cap = cap;
    }
    do {
        r = read(0, m->in_buf + m->in_len, m->in_cap - m->in_len);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        m->stdin_eof = 1;
        if (m->in_len > 0 && !m->stdin_skip) queue_push(m, event_new(m->in_buf, m->in_len));
        m->in_len = 0;
        return;
    }
    m->in_len += (size_t)r;
    for (i = 0; i < m->in_len; i++) {
        if (m->in_buf[i] != '\n') continue;
        {
            size_t n = i - start;
            if (n > 0 && m->in_buf[start + n - 1] == '\r') n--;
            if (m->stdin_skip) m->stdin_skip = 0;
            else if (n > 0) queue_push(m, event_new(m->in_buf + start, n));
        }
        start = i + 1;
    }
    memmove(m->in_buf, m->in_buf + start, m->in_len - start);
    m->in_len -= start;
    if (m->in_len > EMU_MAX_PAYLOAD + 1) {
        logf_("stdin: line longer than %u bytes skipped (RequestEntityTooLarge)", EMU_MAX_PAYLOAD);
        m->stdin_skip = 1;
        m->in_len = 0;
    }
}

/* ------------------------------------------------------------------ the event loop */

static int done(const emu *m)
{
    if (m->listening) return 0;
    if (m->q_head || m->cur) return 0;
    if (m->stdin_mode && !m->stdin_eof) return 0;
    return 1;
}

/* Timers: invocation deadline, init limit, kill escalation, a stalled invoke caller. */
static void tick(emu *m)
{
    long long t = now_ns();
    if (m->cur && m->cur->deadline_ns && t >= m->cur->deadline_ns) {
        double secs = (double)m->cfg.timeout_ms / 1000.0;
        logf_("invocation %s timed out after %.2f seconds; restarting the runtime", m->cur->request_id, secs);
        if (m->pid > 0) {
            long h = proc_hwm_kb(m->pid);
            if (h > 0) m->hwm_kb = h;
        }
        finish_error(m, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Task timed out after %.2f seconds",
                     m->cur->request_id, secs);
        kill_runtime(m, NULL);
    }
    if (m->state == RT_INIT && m->pid > 0 && t >= m->init_deadline_ns) {
        event *e = queue_pop(m);
        logf_("runtime did not call /next within %.2f s (init timeout)", (double)m->cfg.init_timeout_ms / 1000.0);
        m->exit_status = 3;
        kill_runtime(m, NULL);
        if (e) {
            invocation *iv = (invocation *)xmalloc(sizeof *iv);
            memset(iv, 0, sizeof *iv);
            iv->ev = e;
            new_uuid(iv->request_id);
            iv->start_ns = t;
            iv->cold = 1;
            iv->init_ms = (double)(t - m->spawn_ns) / 1e6;
            if (e->caller) m->caller_busy = 1;
            m->cur = iv;
            finish_error(m, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Init phase timed out after %.2f seconds",
                         iv->request_id, (double)m->cfg.init_timeout_ms / 1000.0);
        }
    }
    if (m->state == RT_INIT_FAILED && m->pid > 0 && m->kill_at_ns && t >= m->kill_at_ns) {
        kill_runtime(m, "it did not exit after /init/error");
    } else if (m->state == RT_DYING && m->pid > 0 && m->kill_at_ns && t >= m->kill_at_ns) {
        kill(m->pid, SIGKILL);
        m->kill_at_ns = 0;
    }
    if (m->inv_partial_since && t - m->inv_partial_since > EMU_CALLER_IDLE_MS * 1000000LL) {
        logf_("invoke endpoint: caller stalled mid-request; connection closed");
        rapi_server_close_conn(&m->inv);
        m->inv_partial_since = 0;
    }
}

static int poll_timeout_ms(const emu *m)
{
    long long t = now_ns(), next = t + 1000LL * 1000000LL; /* wake at least once a second */
    if (m->cur && m->cur->deadline_ns && m->cur->deadline_ns < next) next = m->cur->deadline_ns;
    if (m->state == RT_INIT && m->init_deadline_ns < next) next = m->init_deadline_ns;
    if (m->kill_at_ns && m->kill_at_ns < next) next = m->kill_at_ns;
    if (next <= t) return 0;
    return (int)((next - t + 999999) / 1000000);
}

static int run_loop(emu *m)
{
    while (!got_stop_signal) {
        struct pollfd p[8];
        int np = 0, i_sig, i_al = -1, i_ac = -1, i_il = -1, i_ic = -1, i_in = -1, n;
        reap(m);
        tick(m);
        if (done(m)) break;
        if (m->q_head && m->pid == 0 && m->state == RT_NONE && !m->cur) start_runtime(m);
        dispatch(m);

        i_sig = np;
        p[np].fd = sig_pipe[0];
        p[np++].events = POLLIN;
        if (m->api.listen_fd >= 0 && (m->api.conn_fd < 0 || m->api.in_len == 0)) {
            i_al = np;
            p[np].fd = m->api.listen_fd;
            p[np++].events = POLLIN;
        }
        if (m->api.conn_fd >= 0) {
            i_ac = np;
            p[np].fd = m->api.conn_fd;
            p[np++].events = POLLIN;
        }
        if (m->listening && !m->caller_busy) {
            if (m->inv.conn_fd < 0 || m->inv.in_len == 0) {
                i_il = np;
                p[np].fd = m->inv.listen_fd;
                p[np++].events = POLLIN;
            }
            if (m->inv.conn_fd >= 0) {
                i_ic = np;
                p[np].fd = m->inv.conn_fd;
                p[np++].events = POLLIN;
            }
        }
        if (m->stdin_mode && !m->stdin_eof && !m->q_head && !m->cur) {
            i_in = np;
            p[np].fd = 0;
            p[np++].events = POLLIN;
        }
        for (n = 0; n < np; n++) p[n].revents = 0;
        n = poll(p, (nfds_t)np, poll_timeout_ms(m));
        if (n < 0) {
            if (errno == EINTR) continue;
            logf_("poll: %s", strerror(errno));
            return 2;
        }
        if (p[i_sig].revents) drain_sig_pipe();
        if ((i_al >= 0 && p[i_al].revents) || (i_ac >= 0 && p[i_ac].revents)) service_api(m);
        if ((i_il >= 0 && p[i_il].revents) || (i_ic >= 0 && p[i_ic].revents)) service_invoke(m);
        if (i_in >= 0 && p[i_in].revents) service_stdin(m);
    }
    return 0;
}

/* Stops the runtime at the end: SIGTERM, up to the grace period, then SIGKILL. Bounded. */
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

/* ------------------------------------------------------------------ benchmark */

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

static int run_bench(emu *m)
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

/* ------------------------------------------------------------------ command line */

static void usage(FILE *f)
{
    fputs("usage: lambda-emu [options] -- BOOTSTRAP [ARGS...]\n"
          "Runs BOOTSTRAP under a local AWS Lambda Runtime API (127.0.0.1) and invokes it.\n"
          "\n"
          "events (processed in order; with none and no --listen, one event per line of stdin):\n"
          "  -e, --event-json JSON    an event (repeatable)\n"
          "  -f, --file FILE          an event read from FILE, '-' for all of stdin (repeatable)\n"
          "  --listen [HOST:]PORT     invoke endpoint: POST /2015-03-31/functions/function/invocations\n"
          "                           (like the AWS runtime interface emulator; host defaults to 127.0.0.1)\n"
          "function:\n"
          "  -t, --timeout SECONDS    function timeout (default 3; fractions allowed)\n"
          "  --init-timeout SECONDS   init phase limit (default 10)\n"
          "  -m, --memory MB          AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128)\n"
          "  --name NAME              AWS_LAMBDA_FUNCTION_NAME (default test_function)\n"
          "  --function-version V     AWS_LAMBDA_FUNCTION_VERSION (default $LATEST)\n"
          "  --handler H              _HANDLER (default handler)\n"
          "  --region R               AWS_REGION and AWS_DEFAULT_REGION (default us-east-1)\n"
          "  --task-root DIR          LAMBDA_TASK_ROOT (default: the bootstrap's directory)\n"
          "  --log-group G, --log-stream S\n"
          "  --env NAME=VALUE         any other variable for the function (repeatable; wins over all)\n"
          "  --tenant-id ID           Lambda-Runtime-Aws-Tenant-Id to send (default lambda-emu-tenant; '' for none)\n"
          "  --no-invocation-id       do not send Lambda-Runtime-Invocation-Id\n"
          "  --api-port PORT          Runtime API port (default: ephemeral)\n"
          "output:\n"
          "  -q, --quiet              no REPORT lines\n"
          "  -v, --verbose            log every Runtime API request\n"
          "benchmark:\n"
          "  --bench N                cold start, N warm round trips, throughput, VmHWM, size\n"
          "  --event FILE             the benchmark event (default {\"name\":\"World\"})\n"
          "  --rounds R               repeat R times and print medians (default 1)\n"
          "  --baseline BOOTSTRAP     alternate with this bootstrap; print ratios function/baseline\n"
          "exit status: 0 all invocations answered (function errors included), 1 an invocation failed\n"
          "on the platform side (timeout, crash, size), 2 usage or system error, 3 init failed.\n",
          f);
}

static int parse_seconds(const char *s, long long *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v <= 0 || v > 86400) return -1;
    *ms = (long long)(v * 1000.0 + 0.5);
    if (*ms < 1) *ms = 1;
    return 0;
}

int main(int argc, char **argv)
{
    static emu m;
    int i, rc;
    memset(&m, 0, sizeof m);
    m.cfg.timeout_ms = 3000;
    m.cfg.init_timeout_ms = 10000;
    m.cfg.send_invocation_id = 1;
    m.cfg.tenant_id = "lambda-emu-tenant";
    m.cfg.env = (env_kv *)xmalloc(sizeof(env_kv) * (size_t)argc);
    setup_signals();

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_ARG                                           \
    do {                                                    \
        if (!v) {                                           \
            fprintf(stderr, "lambda-emu: %s needs a value\n", a); \
            return 2;                                       \
        }                                                   \
        i++;                                                \
    } while (0)
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--event-json") == 0) {
            NEEDS_ARG;
            queue_push(&m, event_new(v, strlen(v)));
        } else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) {
            char *b;
            size_t n;
            NEEDS_ARG;
            if (read_file(v, &b, &n, EMU_MAX_PAYLOAD) != 0) {
                fprintf(stderr, "lambda-emu: cannot read %s: %s\n", v, strerror(errno));
                return 2;
            }
            queue_push(&m, event_new(b, n));
            free(b);
        } else if (strcmp(a, "--listen") == 0) {
            NEEDS_ARG;
            m.cfg.listen = v;
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0) {
            NEEDS_ARG;
            if (parse_seconds(v, &m.cfg.timeout_ms) != 0) goto bad_value;
        } else if (strcmp(a, "--init-timeout") == 0) {
            NEEDS_ARG;
            if (parse_seconds(v, &m.cfg.init_timeout_ms) != 0) goto bad_value;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--memory") == 0) {
            NEEDS_ARG;
            m.cfg.memory_mb = atoi(v);
            if (m.cfg.memory_mb < 1 || m.cfg.memory_mb > 1000000) goto bad_value;
        } else if (strcmp(a, "--name") == 0) {
            NEEDS_ARG;
            m.cfg.name = v;
        } else if (strcmp(a, "--function-version") == 0) {
            NEEDS_ARG;
            m.cfg.version = v;
        } else if (strcmp(a, "--handler") == 0) {
            NEEDS_ARG;
            m.cfg.handler = v;
        } else if (strcmp(a, "--region") == 0) {
            NEEDS_ARG;
            m.cfg.region = v;
        } else if (strcmp(a, "--task-root") == 0) {
            NEEDS_ARG;
            m.cfg.task_root = v;
        } else if (strcmp(a, "--log-group") == 0) {
            NEEDS_ARG;
            m.cfg.log_group = v;
        } else if (strcmp(a, "--log-stream") == 0) {
            NEEDS_ARG;
            m.cfg.log_stream = v;
        } else if (strcmp(a, "--env") == 0) {
            NEEDS_ARG;
            if (!strchr(v, '=') || v[0] == '=') goto bad_value;
            m.cfg.env[m.cfg.n_env++].kv = xstrdup(v);
        } else if (strcmp(a, "--tenant-id") == 0) {
            NEEDS_ARG;
            if (!header_value_ok(v, strlen(v))) goto bad_value;
            m.cfg.tenant_id = v;
        } else if (strcmp(a, "--no-invocation-id") == 0) {
            m.cfg.send_invocation_id = 0;
        } else if (strcmp(a, "--api-port") == 0) {
            NEEDS_ARG;
            m.cfg.api_port = atoi(v);
            if (m.cfg.api_port < 1 || m.cfg.api_port > 65535) goto bad_value;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            m.cfg.quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            m.cfg.verbose = 1;
        } else if (strcmp(a, "--bench") == 0) {
            NEEDS_ARG;
            m.cfg.bench_n = atol(v);
            if (m.cfg.bench_n < 1 || m.cfg.bench_n > 10000000) goto bad_value;
        } else if (strcmp(a, "--event") == 0) {
            NEEDS_ARG;
            m.cfg.bench_event_file = v;
        } else if (strcmp(a, "--rounds") == 0) {
            NEEDS_ARG;
            m.cfg.bench_rounds = atoi(v);
            if (m.cfg.bench_rounds < 1 || m.cfg.bench_rounds > 1000) goto bad_value;
        } else if (strcmp(a, "--baseline") == 0) {
            NEEDS_ARG;
            m.cfg.bench_baseline = v;
        } else {
            fprintf(stderr, "lambda-emu: unknown option %s (try --help)\n", a);
            return 2;
        }
        continue;
    bad_value:
        fprintf(stderr, "lambda-emu: bad value for %s: '%s'\n", a, v);
        return 2;
#undef NEEDS_ARG
    }
    if (i >= argc) {
        fputs("lambda-emu: no bootstrap given (usage: lambda-emu [options] -- BOOTSTRAP [ARGS...])\n", stderr);
        return 2;
    }
    m.cfg.argv = argv + i;

    /* the Runtime API: 127.0.0.1 only */
    if (m.cfg.api_port) {
        char spec[32];
        snprintf(spec, sizeof spec, "127.0.0.1:%d", m.cfg.api_port);
        rc = open_listener(&m.api, spec, 0);
    } else {
        rc = rapi_server_open(&m.api) == RAPI_OK ? 0 : -1;
    }
    if (rc != 0) {
        logf_("cannot listen for the Runtime API on 127.0.0.1:%d: %s", m.cfg.api_port, strerror(errno));
        return 2;
    }
    m.api.max_body = EMU_MAX_STREAM;
    setup_child_env(&m);
    if (m.cfg.verbose) logf_("Runtime API on %s", getenv("AWS_LAMBDA_RUNTIME_API"));

    if (m.cfg.bench_n > 0) {
        rc = run_bench(&m);
        rapi_server_close(&m.api);
        return rc;
    }

    if (m.cfg.listen) {
        if (open_listener(&m.inv, m.cfg.listen, 9000) != 0) {
            logf_("cannot listen on %s: %s", m.cfg.listen, strerror(errno));
            return 2;
        }
        m.inv.max_body = EMU_MAX_INVOKE_BODY;
        m.listening = 1;
        {
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            char host[64] = "127.0.0.1";
            if (getsockname(m.inv.listen_fd, (struct sockaddr *)&a, &al) == 0) inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
            logf_("invoke endpoint listening on http://%s:%u/2015-03-31/functions/function/invocations", host,
                  (unsigned)m.inv.port);
        }
    }
    if (!m.q_head && !m.listening) m.stdin_mode = 1;

    rc = run_loop(&m);
    if (got_stop_signal) logf_("stopping on signal %d", (int)got_stop_signal);
    shutdown_runtime(&m);
    rapi_server_close(&m.api);
    if (m.listening) rapi_server_close(&m.inv);
    if (rc) return rc;
    if (got_stop_signal) return 128 + (int)got_stop_signal;
    return m.exit_status;
}
