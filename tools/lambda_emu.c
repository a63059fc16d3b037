/* lambda_emu.c - a local AWS Lambda Runtime API emulator and benchmark.

   build/lambda-emu [options] -- BOOTSTRAP [ARGS...]

   Serves the Runtime API (2018-06-01) and the Extensions API (2020-01-01) on 127.0.0.1, starts
   BOOTSTRAP (and any --extension executables before it) as its children with the environment a
   real function sees, and feeds it events: from -e/-f, one per line from stdin, and/or from an
   invoke endpoint compatible with the AWS runtime interface emulator (--listen). Response
   bodies go to stdout (one per invocation), REPORT lines to stderr, like the platform. The
   children's own stdout is sent to our stderr so that stdout carries only responses.
   Shutdown follows the platform: SIGTERM only when an extension is registered, SHUTDOWN events
   for external extensions. --concurrency N emulates Lambda Managed Instances.

   The HTTP server side (request parsing, chunked bodies and trailers, response writing) is
   tools/rapi_server.c, linked in: this file keeps the state machine, the event loop and the
   bits rapi_server lacks (see tools/EMU_NOTES.md).

   libc + POSIX only. Single-threaded: one poll() loop over the Runtime API listener and every
   accepted connection (runtime, workers, extensions), the invoke endpoint, stdin and a SIGCHLD
   self-pipe. Every wait is bounded. */
#define _DEFAULT_SOURCE /* realpath() is XSI, not in _POSIX_C_SOURCE 200809L */
#include "rapi_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#define EMU_KILL_GRACE_INTERNAL_MS 500    /* ... when an internal extension is registered */
#define EMU_SHUTDOWN_MS 2000              /* the whole shutdown phase with external extensions */
#define EMU_MAX_EXTENSIONS 10
#define EMU_MAX_CONNS 256                 /* Runtime API connections at once */
#define EMU_RECENT_IDS 64                 /* completed request ids remembered (second-result 403) */
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
    int concurrency;        /* --concurrency N (Lambda Managed Instances), 0 = on demand */
    char **ext_paths;       /* --extension executables */
    size_t n_ext_paths;
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

/* The execution environment: the external extensions and the runtime, started and shut down
   together, as on Lambda. */
enum env_state {
    ENV_NONE,     /* nothing runs */
    ENV_EXT_INIT, /* external extensions started; the runtime starts once they have all registered */
    ENV_RUNNING,  /* the runtime is started (init may still be in progress: see init_done) */
    ENV_STOPPING  /* shutdown phase: SIGTERM/SIGKILL for the runtime, SHUTDOWN for extensions */
};

typedef struct invocation {
    struct invocation *next; /* the in-flight list */
    event *ev;
    char request_id[37], invocation_id[37];
    char trace_id[160];
    long long start_ns, deadline_ns, deadline_wall_ms;
    int cold;
    double init_ms;
    int delivered;           /* the result went to its caller (or stdout) */
    int ext_pending;         /* extensions holding its INVOKE event that have not asked for the next */
    int late_logged;         /* --concurrency: passed its deadline (reported once) */
    int r_ok, r_platform;    /* the result, kept for the REPORT line */
    char r_error_type[128];
    const char *r_status;
    /* streaming (Lambda-Runtime-Function-Response-Mode: streaming) */
    int streaming;           /* we have started forwarding */
    size_t s_forwarded;      /* decoded body bytes already sent to the caller */
    char s_last;             /* the last byte forwarded */
} invocation;

enum { PARK_NONE, PARK_NEXT, PARK_EVENT };

/* One accepted Runtime API connection: a rapi_server with no listening socket, so that rapi's
   parser and writer do the HTTP work and every connection has its own input buffer. */
typedef struct conn {
    rapi_server rs;
    unsigned id;
    int park;                /* a GET waits here for an event: PARK_NEXT (runtime), PARK_EVENT (extension) */
    unsigned long park_seq;  /* arrival order of parked /next calls */
    /* a streamed /response arriving on this connection (see stream_peek) */
    size_t s_head_len;       /* 0: not looked at yet; (size_t)-1: not a streamed /response */
    invocation *s_iv;
    int s_chunked;
    size_t s_content_length;
    size_t s_scan;           /* next unparsed offset in rs.in */
    size_t s_chunk_left;
    int s_state;             /* 0 size line, 1 data, 2 CRLF after data, 3 last chunk seen */
} conn;

#define EV_INVOKE 1
#define EV_SHUTDOWN 2

typedef struct extension {
    char id[37];
    char name[256];
    int events;              /* EV_INVOKE | EV_SHUTDOWN */
    int external;            /* its name is the file name of an --extension */
    int ready;               /* it has asked for an event at least once */
    conn *parked;            /* its GET /event/next waits here, or NULL */
    invocation *holding;     /* it got this invocation's INVOKE and has not asked for the next event */
    invocation **queue;      /* INVOKE events not delivered yet */
    size_t nq, capq;
    int shutdown_pending, shutdown_sent;
} extension;

typedef struct ext_proc {    /* an --extension executable */
    char *path;
    const char *name;        /* its file name */
    pid_t pid;
    int registered;
    int killed;
} ext_proc;

typedef struct emu {
    config cfg;
    rapi_server api;         /* the Runtime API listener (the benchmark also uses its connection) */
    conn **conns;            /* accepted Runtime API connections */
    size_t n_conns, cap_conns;
    unsigned conn_seq;
    unsigned long park_seq;
    rapi_server inv;         /* the invoke endpoint (when --listen), one caller at a time */
    int listening;
    long long inv_partial_since; /* ns when a caller's request started arriving, 0 if none */

    enum env_state env;
    long long env_start_ns, init_deadline_ns;
    int init_done;           /* the runtime and every registered extension have asked for an event */
    const char *sd_reason;   /* shutdown: spindown, timeout or failure */
    long long sd_start_ns, sd_deadline_wall_ms;
    int sd_ext_phase;        /* the runtime is gone; extensions are being shut down */
    extension *exts[EMU_MAX_EXTENSIONS];
    size_t n_exts;
    ext_proc *xp;            /* --extension executables */
    size_t n_xp;

    pid_t pid;               /* the runtime */
    enum rt_state state;
    long long spawn_ns, kill_at_ns, term_at_ns;
    long hwm_kb;             /* last VmHWM sample of the live runtime */
    int cold;                /* the next invocation is the first of a fresh environment */
    double init_ms;

    event *q_head, *q_tail;  /* pending events */
    invocation *inflight;    /* dispatched and not complete */
    int n_inflight;
    char recent[EMU_RECENT_IDS][37]; /* ids of completed invocations (to spot a second result) */
    unsigned recent_n;
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

/* Lambda Managed Instances mode (--concurrency): several invocations at once, no timeout kill. */
static int lmi(const emu *m)
{
    return m->cfg.concurrency > 0;
}

static int max_inflight(const emu *m)
{
    return m->cfg.concurrency > 1 ? m->cfg.concurrency : 1;
}

/* ------------------------------------------------------------------ the runtime process */

static void set_default_env(const char *name, const char *value)
{
    if (!getenv(name)) setenv(name, value, 1);
}

/* Builds the function's environment in our own (the children inherit it at exec). Values already
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
    if (c->concurrency > 0) {
        snprintf(buf, sizeof buf, "%d", c->concurrency);
        setenv("AWS_LAMBDA_MAX_CONCURRENCY", buf, 1);
        setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "lambda-managed-instances", 1);
    } else {
        set_default_env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    }
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

/* Every process we started, killed and reaped: the last resort on exit (also after errors). */
static emu *g_emu;

static void kill_all_children(void)
{
    emu *m = g_emu;
    size_t i;
    int status;
    if (!m) return;
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR) {
        }
        m->pid = 0;
    }
    for (i = 0; i < m->n_xp; i++) {
        if (m->xp[i].pid <= 0) continue;
        kill(m->xp[i].pid, SIGKILL);
        while (waitpid(m->xp[i].pid, &status, 0) < 0 && errno == EINTR) {
        }
        m->xp[i].pid = 0;
    }
}

/* ------------------------------------------------------------------ connections */

static void conn_add(emu *m, int fd)
{
    conn *c;
    int one = 1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (m->n_conns >= EMU_MAX_CONNS) {
        logf_("more than %d Runtime API connections; refused one", EMU_MAX_CONNS);
        close(fd);
        return;
    }
    if (m->n_conns == m->cap_conns) {
        size_t cap = m->cap_conns ? m->cap_conns * 2 : 8;
        conn **nc = (conn **)realloc(m->conns, cap * sizeof *nc);
        if (!nc) die_oom();
        m->conns = nc;
        m->cap_conns = cap;
    }
    c = (conn *)xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->rs.listen_fd = -1;
    c->rs.conn_fd = fd;
    c->rs.max_head = RAPI_DEFAULT_MAX_HEAD;
    c->rs.max_body = EMU_MAX_STREAM;
    c->id = ++m->conn_seq;
    c->rs.accepts = c->id; /* rapi_request.conn_seq */
    m->conns[m->n_conns++] = c;
}

static void accept_conns(emu *m)
{
    int k;
    for (k = 0; k < 16; k++) {
        int fd = accept(m->api.listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            break;
        }
        conn_add(m, fd);
    }
}

/* Frees closed connections (done only at the top of the loop, never while one is in use). */
static void conns_sweep(emu *m)
{
    size_t i, j = 0, k;
    for (i = 0; i < m->n_conns; i++) {
        conn *c = m->conns[i];
        if (c->rs.conn_fd >= 0) {
            m->conns[j++] = c;
            continue;
        }
        for (k = 0; k < m->n_exts; k++)
            if (m->exts[k]->parked == c) m->exts[k]->parked = NULL;
        rapi_server_close(&c->rs);
        free(c);
    }
    m->n_conns = j;
}

static void conn_drop(conn *c)
{
    rapi_server_close_conn(&c->rs);
    c->park = PARK_NONE;
}

static void conn_peek_reset(conn *c)
{
    c->s_head_len = 0;
    c->s_iv = NULL;
    c->s_scan = 0;
    c->s_state = 0;
    c->s_chunk_left = 0;
}

static void api_reply(emu *m, conn *c, int status, const char *type, const char *fmt, ...)
{
    rapi_response r;
    char msg[512], esc[1100], body[1400];
    va_list ap;
    if (c->rs.conn_fd < 0) return;
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
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("could not answer on connection %u (connection lost)", c->id);
        conn_drop(c);
    }
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

static void print_report(emu *m, invocation *iv)
{
    double dur = (double)(now_ns() - iv->start_ns) / 1e6;
    double billed = dur + (iv->cold ? iv->init_ms : 0);
    long mem = m->hwm_kb > 0 ? (m->hwm_kb + 1023) / 1024 : 0;
    if (m->cfg.quiet) return;
    if (!iv->r_ok) fprintf(stderr, "ERROR RequestId: %s ErrorType: %s\n", iv->request_id, iv->r_error_type);
    fprintf(stderr, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %s MB\tMax Memory Used: %ld MB",
            iv->request_id, dur, (long long)(billed + 0.999999), getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), mem);
    if (iv->cold) fprintf(stderr, "\tInit Duration: %.2f ms", iv->init_ms);
    if (iv->r_status) fprintf(stderr, "\tStatus: %s", iv->r_status);
    if (iv->r_status && strcmp(iv->r_status, "error") == 0) fprintf(stderr, "\tError Type: %s", iv->r_error_type);
    fputc('\n', stderr);
    fflush(stderr);
}

static invocation *iv_new(emu *m, event *e)
{
    invocation *iv = (invocation *)xmalloc(sizeof *iv);
    memset(iv, 0, sizeof *iv);
    iv->ev = e;
    new_uuid(iv->request_id);
    iv->start_ns = now_ns();
    iv->next = m->inflight;
    m->inflight = iv;
    m->n_inflight++;
    if (e->caller) m->caller_busy = 1;
    return iv;
}

static invocation *iv_find(emu *m, const char *id)
{
    invocation *iv;
    for (iv = m->inflight; iv; iv = iv->next)
        if (strcmp(iv->request_id, id) == 0) return iv;
    return NULL;
}

/* Forgets every extension's reference to iv (it no longer waits for them). */
static void iv_detach_exts(emu *m, invocation *iv)
{
    size_t k, i, j;
    for (k = 0; k < m->n_exts; k++) {
        extension *x = m->exts[k];
        if (x->holding == iv) x->holding = NULL;
        for (i = j = 0; i < x->nq; i++)
            if (x->queue[i] != iv) x->queue[j++] = x->queue[i];
        x->nq = j;
    }
    iv->ext_pending = 0;
}

/* Removes iv from the in-flight list and frees it. remember: keep its id for the 403 on a
   second result. */
static void iv_free(emu *m, invocation *iv, int remember)
{
    invocation **pp;
    size_t i;
    for (pp = &m->inflight; *pp; pp = &(*pp)->next)
        if (*pp == iv) {
            *pp = iv->next;
            m->n_inflight--;
            break;
        }
    for (i = 0; i < m->n_conns; i++)
        if (m->conns[i]->s_iv == iv) {
            m->conns[i]->s_iv = NULL;
            if (m->conns[i]->s_head_len) m->conns[i]->s_head_len = (size_t)-1; /* ignore the rest of it */
        }
    iv_detach_exts(m, iv);
    if (remember) memcpy(m->recent[m->recent_n++ % EMU_RECENT_IDS], iv->request_id, 37);
    event_free(iv->ev);
    free(iv);
}

/* The invocation is over (result delivered, extensions done): REPORT, then forget it. */
static void complete(emu *m, invocation *iv)
{
    print_report(m, iv);
    m->invocations++;
    iv_free(m, iv, 1);
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

/* Delivers the result of iv to its caller (or stdout). The REPORT line follows when the
   invocation is complete: at once, or when the extensions holding its INVOKE event are done. */
static void finish(emu *m, invocation *iv, result *r)
{
    if (!iv || iv->delivered) return;
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
    iv->delivered = 1;
    iv->r_ok = r->ok;
    iv->r_platform = r->platform;
    iv->r_status = r->status;
    snprintf(iv->r_error_type, sizeof iv->r_error_type, "%s", r->error_type);
    if (iv->ext_pending == 0) complete(m, iv);
}

/* A failure generated by the emulator itself (timeout, exit, size...). */
static void finish_error(emu *m, invocation *iv, const char *type, const char *status, int platform, const char *fmt, ...)
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
    finish(m, iv, &r);
}

/* Init failed: the pending event (if any) becomes an invocation that gets the error, as on
   Lambda. NULL when no event is pending. */
static invocation *pop_failed_init(emu *m)
{
    event *e = queue_pop(m);
    invocation *iv;
    m->exit_status = 3;
    if (!e) return NULL;
    iv = iv_new(m, e);
    iv->cold = 1;
    iv->init_ms = (double)(iv->start_ns - m->env_start_ns) / 1e6;
    return iv;
}

/* Delivers an init error document: body as posted, or {"errorMessage":"","errorType":type}. */
static void finish_init_error(emu *m, invocation *iv, const char *type, const char *body, size_t len)
{
    result r;
    char doc[512], esc[300];
    memset(&r, 0, sizeof r);
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    if (body && len > 0) {
        r.body = body;
        r.len = len;
    } else {
        json_escape(esc, sizeof esc, type);
        snprintf(doc, sizeof doc, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
        r.body = doc;
        r.len = strlen(doc);
    }
    r.content_type = "application/json";
    r.platform = 1;
    r.status = "error";
    finish(m, iv, &r);
}

/* ------------------------------------------------------------------ extensions: events */

static extension *ext_by_id(emu *m, const char *id)
{
    size_t k;
    for (k = 0; k < m->n_exts; k++)
        if (strcmp(m->exts[k]->id, id) == 0) return m->exts[k];
    return NULL;
}

static ext_proc *xp_by_name(emu *m, const char *name)
{
    size_t i;
    for (i = 0; i < m->n_xp; i++)
        if (strcmp(m->xp[i].name, name) == 0) return &m->xp[i];
    return NULL;
}

static void ext_free_all(emu *m)
{
    size_t k;
    for (k = 0; k < m->n_exts; k++) {
        free(m->exts[k]->queue);
        free(m->exts[k]);
        m->exts[k] = NULL;
    }
    m->n_exts = 0;
}

/* Answers the extension's parked GET /event/next with an event document. */
static void ext_send(emu *m, extension *x, const char *json)
{
    conn *c = x->parked;
    rapi_response r;
    char hdrs[160], evid[37];
    x->parked = NULL;
    if (!c || c->rs.conn_fd < 0) return;
    c->park = PARK_NONE;
    new_uuid(evid);
    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nLambda-Extension-Event-Identifier: %s\r\n", evid);
    rapi_response_init(&r, 200);
    r.headers = hdrs;
    r.body = json;
    r.body_len = strlen(json);
    if (m->cfg.verbose) logf_("extension %s: event %s", x->name, json);
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        logf_("could not deliver an event to extension %s (connection lost)", x->name);
        conn_drop(c);
    }
}

/* Delivers the extension's next pending event if it waits for one. */
static void ext_pump(emu *m, extension *x)
{
    char buf[1024], esc[400];
    invocation *iv;
    if (!x->parked) return;
    if (x->parked->rs.conn_fd < 0) {
        x->parked = NULL;
        return;
    }
    if (x->shutdown_pending) {
        snprintf(buf, sizeof buf, "{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":\"%s\",\"deadlineMs\":%lld}", m->sd_reason,
                 m->sd_deadline_wall_ms);
        x->shutdown_pending = 0;
        x->shutdown_sent = 1;
        ext_send(m, x, buf);
        return;
    }
    if (x->holding || x->nq == 0) return;
    iv = x->queue[0];
    memmove(x->queue, x->queue + 1, (x->nq - 1) * sizeof *x->queue);
    x->nq--;
    x->holding = iv;
    json_escape(esc, sizeof esc, iv->trace_id);
    snprintf(buf, sizeof buf,
             "{\"eventType\":\"INVOKE\",\"deadlineMs\":%lld,\"requestId\":\"%s\",\"invokedFunctionArn\":"
             "\"arn:aws:lambda:%s:" EMU_ARN_ACCOUNT ":function:%s\",\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"%s\"}}",
             iv->deadline_wall_ms, iv->request_id, getenv("AWS_REGION"), getenv("AWS_LAMBDA_FUNCTION_NAME"), esc);
    ext_send(m, x, buf);
}

static void ext_queue_invoke(emu *m, extension *x, invocation *iv)
{
    if (x->nq == x->capq) {
        size_t cap = x->capq ? x->capq * 2 : 4;
        invocation **nq = (invocation **)realloc(x->queue, cap * sizeof *nq);
        if (!nq) die_oom();
        x->queue = nq;
        x->capq = cap;
    }
    x->queue[x->nq++] = iv;
    iv->ext_pending++;
    ext_pump(m, x);
}

/* ------------------------------------------------------------------ the execution environment */

static void start_runtime(emu *m)
{
    int out = 2; /* the function's stdout is a log: send it to stderr, keep ours for responses */
    m->spawn_ns = now_ns();
    m->pid = spawn_child(m->cfg.argv, out);
    m->env = ENV_RUNNING;
    if (m->pid < 0) {
        logf_("fork: %s", strerror(errno));
        m->pid = 0;
        return;
    }
    m->state = RT_INIT;
    m->kill_at_ns = 0;
    m->term_at_ns = 0;
    m->hwm_kb = 0;
    if (m->cfg.verbose) logf_("started runtime pid %ld: %s", (long)m->pid, m->cfg.argv[0]);
}

/* Starts the external extensions, then (once they have registered) the runtime. */
static void start_environment(emu *m)
{
    size_t i;
    m->env_start_ns = now_ns();
    m->init_deadline_ns = m->env_start_ns + m->cfg.init_timeout_ms * 1000000LL;
    m->init_done = 0;
    m->cold = 1;
    m->sd_reason = NULL;
    m->sd_ext_phase = 0;
    for (i = 0; i < m->n_xp; i++) {
        char *argv[2];
        argv[0] = m->xp[i].path;
        argv[1] = NULL;
        m->xp[i].registered = 0;
        m->xp[i].killed = 0;
        m->xp[i].pid = spawn_child(argv, 2);
        if (m->xp[i].pid < 0) {
            logf_("fork: %s", strerror(errno));
            m->xp[i].pid = 0;
        } else if (m->cfg.verbose) {
            logf_("started extension pid %ld: %s", (long)m->xp[i].pid, m->xp[i].path);
        }
    }
    if (m->n_xp == 0) start_runtime(m);
    else m->env = ENV_EXT_INIT;
}

/* ENV_EXT_INIT: the runtime starts when every external extension has registered. */
static void maybe_start_runtime(emu *m)
{
    size_t i;
    if (m->env != ENV_EXT_INIT) return;
    for (i = 0; i < m->n_xp; i++)
        if (!m->xp[i].registered) return;
    start_runtime(m);
}

/* Init is complete when the runtime has called /next and every registered extension has
   asked for its first event. */
static void check_init(emu *m)
{
    size_t k;
    if (m->init_done || m->env != ENV_RUNNING || m->state != RT_READY) return;
    for (k = 0; k < m->n_exts; k++)
        if (!m->exts[k]->ready) return;
    m->init_done = 1;
    m->init_ms = (double)(now_ns() - m->env_start_ns) / 1e6;
    if (m->cfg.verbose) logf_("init complete after %.2f ms", m->init_ms);
    if (!m->cfg.quiet)
        for (k = 0; k < m->n_exts; k++) {
            extension *x = m->exts[k];
            fprintf(stderr, "EXTENSION\tName: %s\tState: Ready\tEvents: [%s%s%s]\n", x->name,
                    (x->events & EV_INVOKE) ? "INVOKE" : "", x->events == (EV_INVOKE | EV_SHUTDOWN) ? "," : "",
                    (x->events & EV_SHUTDOWN) ? "SHUTDOWN" : "");
        }
}

static void finish_shutdown(emu *m)
{
    size_t i;
    if (m->cfg.verbose) logf_("execution environment shut down (%s)", m->sd_reason ? m->sd_reason : "-");
    ext_free_all(m);
    for (i = 0; i < m->n_xp; i++) m->xp[i].registered = 0;
    for (i = 0; i < m->n_conns; i++) conn_drop(m->conns[i]); /* freed by conns_sweep */
    m->env = ENV_NONE;
    m->state = RT_NONE;
    m->init_done = 0;
    m->kill_at_ns = 0;
}

/* Advances the shutdown phase: runtime first (SIGTERM, grace, SIGKILL), then the external
   extensions (SHUTDOWN, up to EMU_SHUTDOWN_MS in total, SIGKILL). */
static void shutdown_progress(emu *m)
{
    long long t = now_ns(), end = m->sd_start_ns + EMU_SHUTDOWN_MS * 1000000LL;
    size_t i, k;
    int alive = 0;
    if (m->env != ENV_STOPPING) return;
    if (m->pid > 0) {
        if (m->kill_at_ns && t >= m->kill_at_ns) {
            logf_("runtime pid %ld did not exit within %lld ms of SIGTERM; sent SIGKILL", (long)m->pid,
                  (m->kill_at_ns - m->term_at_ns) / 1000000LL);
            kill(m->pid, SIGKILL);
            m->kill_at_ns = 0;
        }
        return; /* reaped soon: SIGKILL cannot be ignored */
    }
    if (!m->sd_ext_phase) {
        m->sd_ext_phase = 1;
        for (i = 0; i < m->n_xp; i++) {
            ext_proc *p = &m->xp[i];
            extension *x = NULL;
            if (p->pid <= 0) continue;
            for (k = 0; k < m->n_exts; k++)
                if (m->exts[k]->external && strcmp(m->exts[k]->name, p->name) == 0) x = m->exts[k];
            if (x && (x->events & EV_SHUTDOWN)) {
                x->nq = 0;
                x->holding = NULL;
                x->shutdown_pending = 1;
                ext_pump(m, x);
            } else { /* no SHUTDOWN event can come for it: nothing to wait for */
                if (m->cfg.verbose) logf_("extension %s is not registered for SHUTDOWN; sent SIGKILL", p->name);
                kill(p->pid, SIGKILL);
                p->killed = 1;
            }
        }
    }
    for (i = 0; i < m->n_xp; i++) {
        if (m->xp[i].pid <= 0) continue;
        alive = 1;
        if (t >= end && !m->xp[i].killed) {
            logf_("extension %s did not exit within %d ms of the shutdown; sent SIGKILL", m->xp[i].name, EMU_SHUTDOWN_MS);
            kill(m->xp[i].pid, SIGKILL);
            m->xp[i].killed = 1;
        }
    }
    if (!alive) finish_shutdown(m);
}

/* Resets the execution environment (Lambda's shutdown phase). Invocations still waiting for
   the runtime fail; those only waiting for extensions are reported as they are. With at least
   one registered extension the runtime gets SIGTERM and a grace period (300 ms, 500 ms with
   an internal extension), else SIGKILL at once. */
static void begin_shutdown(emu *m, const char *reason)
{
    long long t = now_ns();
    size_t k;
    int internal = 0;
    if (m->env == ENV_NONE || m->env == ENV_STOPPING) return;
    while (m->inflight) {
        invocation *iv = m->inflight;
        iv_detach_exts(m, iv);
        if (iv->delivered) complete(m, iv);
        else finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: the execution environment was reset (%s)",
                          iv->request_id, reason);
    }
    m->env = ENV_STOPPING;
    m->sd_reason = reason;
    m->sd_start_ns = t;
    m->sd_deadline_wall_ms = wall_ms() + EMU_SHUTDOWN_MS;
    m->sd_ext_phase = 0;
    m->init_done = 0;
    for (k = 0; k < m->n_exts; k++)
        if (!m->exts[k]->external) internal = 1;
    if (m->pid > 0 && m->state != RT_DYING) {
        if (m->n_exts > 0) {
            int grace = internal ? EMU_KILL_GRACE_INTERNAL_MS : EMU_KILL_GRACE_MS;
            if (m->cfg.verbose) logf_("shutdown (%s): SIGTERM to runtime pid %ld, SIGKILL in %d ms", reason, (long)m->pid, grace);
            kill(m->pid, SIGTERM);
            m->term_at_ns = t;
            m->kill_at_ns = t + grace * 1000000LL;
        } else {
            if (m->cfg.verbose) logf_("shutdown (%s): SIGKILL to runtime pid %ld (no extension registered)", reason, (long)m->pid);
            kill(m->pid, SIGKILL);
            m->term_at_ns = 0;
            m->kill_at_ns = 0;
        }
        m->state = RT_DYING;
    }
    shutdown_progress(m);
}

/* The runtime process is gone: fail whatever it owed, reset the environment. */
static void runtime_exited(emu *m, int status)
{
    char how[64];
    enum rt_state st = m->state;
    invocation *iv, *nx;
    int failed = 0;
    describe_status(status, how, sizeof how);
    m->pid = 0;
    m->state = RT_NONE;
    if (m->env == ENV_STOPPING || st == RT_DYING) {
        if (m->cfg.verbose) {
            if (m->term_at_ns)
                logf_("runtime exited (%s) %.1f ms after SIGTERM", how, (double)(now_ns() - m->term_at_ns) / 1e6);
            else
                logf_("runtime stopped (%s)", how);
        }
        shutdown_progress(m);
        return;
    }
    if (st == RT_INIT_FAILED) { /* the init error was delivered when it was posted */
        begin_shutdown(m, "failure");
        return;
    }
    for (iv = m->inflight; iv; iv = nx) {
        nx = iv->next;
        if (iv->delivered) continue;
        logf_("runtime exited during invocation %s (%s); it will be restarted", iv->request_id, how);
        failed = 1;
        finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                     iv->request_id, how);
        nx = m->inflight; /* finish may have freed others: start over (delivered ones are skipped) */
    }
    if (!failed && !m->init_done) {
        /* exited before init completed without an init error: the first event fails */
        logf_("runtime exited during init (%s)", how);
        iv = pop_failed_init(m);
        if (iv)
            finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                         iv->request_id, how);
    } else if (!failed) {
        logf_("runtime exited while idle (%s); it will be restarted for the next event", how);
    }
    begin_shutdown(m, "failure");
}

/* An external extension process exited. Outside the shutdown phase that resets the
   environment, as on Lambda. */
static void xp_exited(emu *m, ext_proc *p, int status)
{
    char how[64];
    invocation *iv, *nx;
    describe_status(status, how, sizeof how);
    p->pid = 0;
    if (m->env == ENV_STOPPING || m->env == ENV_NONE) {
        if (m->cfg.verbose) logf_("extension %s exited (%s)", p->name, how);
        shutdown_progress(m);
        return;
    }
    logf_("extension %s exited (%s); resetting the execution environment", p->name, how);
    if (!m->init_done) {
        iv = pop_failed_init(m);
        fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: Extension.Crash\n",
                (double)(now_ns() - m->env_start_ns) / 1e6);
        if (iv)
            finish_error(m, iv, "Extension.Crash", "error", 1, "RequestId: %s Error: extension %s exited during init: %s",
                         iv->request_id, p->name, how);
    } else {
        for (iv = m->inflight; iv; iv = nx) {
            nx = iv->next;
            if (iv->delivered) continue;
            finish_error(m, iv, "Extension.Crash", "error", 1, "RequestId: %s Error: extension %s exited: %s",
                         iv->request_id, p->name, how);
            nx = m->inflight;
        }
    }
    begin_shutdown(m, "failure");
}

static void reap(emu *m)
{
    for (;;) {
        int status;
        size_t i;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p < 0 && errno == EINTR) continue;
        if (p <= 0) break;
        if (p == m->pid) {
            runtime_exited(m, status);
            continue;
        }
        for (i = 0; i < m->n_xp; i++)
            if (m->xp[i].pid == p) {
                xp_exited(m, &m->xp[i], status);
                break;
            }
    }
    shutdown_progress(m);
}

/* ------------------------------------------------------------------ talking to the runtime */

/* The oldest parked GET /next on a live connection. */
static conn *parked_next(emu *m)
{
    conn *best = NULL;
    size_t i;
    for (i = 0; i < m->n_conns; i++) {
        conn *c = m->conns[i];
        if (c->park != PARK_NEXT || c->rs.conn_fd < 0) continue;
        if (!best || c->park_seq < best->park_seq) best = c;
    }
    return best;
}

/* Sends the next event to the parked GET /next on c, and INVOKE to the extensions. */
static void dispatch_one(emu *m, conn *c)
{
    invocation *iv;
    event *e;
    rapi_response r;
    char hdrs[4096 + 512], *h;
    size_t hl, k;
    const char *tenant;
    e = queue_pop(m);
    iv = iv_new(m, e);
    new_uuid(iv->invocation_id);
    if (e->trace_id) snprintf(iv->trace_id, sizeof iv->trace_id, "%s", e->trace_id);
    else new_trace_id(iv->trace_id, sizeof iv->trace_id);
    iv->cold = m->cold;
    iv->init_ms = m->init_ms;
    m->cold = 0;
    tenant = e->tenant_id ? e->tenant_id : m->cfg.tenant_id;
    iv->deadline_wall_ms = wall_ms() + m->cfg.timeout_ms;

    hl = (size_t)snprintf(hdrs, sizeof hdrs,
                          "Content-Type: %s\r\nLambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
                          "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:%s:" EMU_ARN_ACCOUNT ":function:%s\r\n"
                          "Lambda-Runtime-Trace-Id: %s\r\n",
                          e->content_type ? e->content_type : "application/json", iv->request_id,
                          iv->deadline_wall_ms, getenv("AWS_REGION"), getenv("AWS_LAMBDA_FUNCTION_NAME"),
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
    c->park = PARK_NONE;
    if (m->pid > 0) { /* sample now too: a runtime that crashes cannot be read afterwards */
        long hw = proc_hwm_kb(m->pid);
        if (hw > 0) m->hwm_kb = hw;
    }
    iv->start_ns = now_ns();
    iv->deadline_ns = iv->start_ns + m->cfg.timeout_ms * 1000000LL;
    if (m->cfg.verbose) logf_("invoke %s (%lu bytes) on connection %u", iv->request_id, (unsigned long)e->len, c->id);
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        /* the runtime is not reading: give the event back and wait for it to call /next again or exit */
        logf_("could not deliver the event to the runtime (connection lost); will retry");
        conn_drop(c);
        m->cold = iv->cold;
        iv->ev = NULL;
        iv_free(m, iv, 0);
        queue_push_front(m, e);
        if (e->caller) m->caller_busy = 1;
    } else {
        for (k = 0; k < m->n_exts; k++)
            if (m->exts[k]->events & EV_INVOKE) ext_queue_invoke(m, m->exts[k], iv);
    }
    if (h != hdrs) free(h);
}

static void dispatch(emu *m)
{
    while (m->q_head && m->init_done && m->env == ENV_RUNNING && m->state == RT_READY && m->n_inflight < max_inflight(m)) {
        conn *c = parked_next(m);
        if (!c) return;
        dispatch_one(m, c);
    }
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

/* Request id check shared by /response and /error: the invocation waiting for that result, or
   NULL after answering 403 (a second result) or 400 (unknown id). */
static invocation *check_request_id(emu *m, conn *c, const char *id)
{
    invocation *iv = iv_find(m, id);
    unsigned i;
    int seen = iv != NULL;
    if (iv && !iv->delivered) return iv;
    for (i = 0; !seen && i < EMU_RECENT_IDS && i < m->recent_n; i++)
        if (strcmp(m->recent[i], id) == 0) seen = 1;
    if (seen) {
        logf_("runtime sent a second result for %s; answered 403", id);
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from InvocationResponse/Error is not allowed");
        return NULL;
    }
    logf_("runtime posted a result for unknown request id '%s'; answered 400", id);
    api_reply(m, c, 400, "InvalidRequestID", "Invalid request ID");
    return NULL;
}

/* 1 when the Lambda-Runtime-Invocation-Id echo is acceptable. */
static int check_invocation_id(emu *m, conn *c, invocation *iv, const rapi_request *req)
{
    const char *v = rapi_request_header(req, "Lambda-Runtime-Invocation-Id");
    if (!m->cfg.send_invocation_id) return 1;
    if (!v) {
        if (!m->warned_no_invocation_id) logf_("note: the runtime does not echo Lambda-Runtime-Invocation-Id");
        m->warned_no_invocation_id = 1;
        return 1;
    }
    if (strcmp(v, iv->invocation_id) == 0) return 1;
    logf_("runtime echoed Lambda-Runtime-Invocation-Id '%s', expected '%s'; answered 410", v, iv->invocation_id);
    api_reply(m, c, 410, "InvalidInvocationID", "Lambda-Runtime-Invocation-Id does not match this invocation");
    return 0;
}

static void handle_next(emu *m, conn *c, const rapi_request *req)
{
    (void)req;
    if (m->state == RT_INIT_FAILED) {
        logf_("runtime called /next after /init/error; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from InitError to Ready is not allowed");
        return;
    }
    if (max_inflight(m) == 1) {
        invocation *iv;
        for (iv = m->inflight; iv; iv = iv->next)
            if (!iv->delivered) {
                logf_("runtime called /next while invocation %s is outstanding; answered 403", iv->request_id);
                api_reply(m, c, 403, "InvalidStateTransition", "State transition from Invoke to Ready is not allowed");
                return;
            }
    }
    if (m->state == RT_INIT) {
        m->state = RT_READY;
        if (m->cfg.verbose) logf_("runtime called /next after %.2f ms", (double)(now_ns() - m->spawn_ns) / 1e6);
    }
    c->park = PARK_NEXT;
    c->park_seq = ++m->park_seq;
    check_init(m);
    dispatch(m);
}

static void handle_response(emu *m, conn *c, const rapi_request *req, const char *id)
{
    const char *mode = rapi_request_header(req, "Lambda-Runtime-Function-Response-Mode");
    const char *ct = rapi_request_header(req, "Content-Type");
    invocation *iv = check_request_id(m, c, id);
    result r;
    if (!iv) return;
    if (!check_invocation_id(m, c, iv, req)) {
        if (iv->streaming)
            finish_error(m, iv, "Runtime.InvalidInvocationId", "error", 1, "RequestId: %s Error: streamed response rejected", id);
        return;
    }
    if (mode && !ieq(mode, "streaming")) {
        logf_("runtime sent Lambda-Runtime-Function-Response-Mode: %s; answered 400", mode);
        api_reply(m, c, 400, "InvalidFunctionResponseMode", "Invalid function response mode");
        finish_error(m, iv, "Runtime.InvalidResponseModeHeader", "error", 1, "RequestId: %s Error: invalid response mode '%s'",
                     id, mode);
        return;
    }
    if (mode) { /* streaming: forward what has not been forwarded yet, then the trailers */
        const char *et = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Type");
        const char *eb = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Body");
        if (!iv->streaming) stream_begin(m, iv, ct);
        if (iv->s_forwarded < req->body_len) stream_data(m, iv, req->body + iv->s_forwarded, req->body_len - iv->s_forwarded);
        api_reply(m, c, 202, NULL, NULL);
        memset(&r, 0, sizeof r);
        r.ok = 1;
        r.body = "";
        if (et || eb) { /* Lambda records a successful response and forwards the error metadata */
            r.ok = 0;
            r.trailer_type = et ? et : "Runtime.Unknown";
            r.trailer_b64 = eb;
            snprintf(r.error_type, sizeof r.error_type, "%s", r.trailer_type);
        }
        finish(m, iv, &r);
        return;
    }
    if (req->body_len > EMU_MAX_PAYLOAD) {
        logf_("response for %s is %lu bytes, over the %u-byte limit; answered 413", id, (unsigned long)req->body_len,
              EMU_MAX_PAYLOAD);
        api_reply(m, c, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        finish_error(m, iv, "Function.ResponseSizeTooLarge", "error", 1,
                     "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    memset(&r, 0, sizeof r);
    r.ok = 1;
    r.body = req->body;
    r.len = req->body_len;
    r.content_type = ct ? ct : "application/json";
    finish(m, iv, &r);
}

static void handle_error(emu *m, conn *c, const rapi_request *req, const char *id)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    invocation *iv = check_request_id(m, c, id);
    result r;
    char doc[1024];
    if (!iv || !check_invocation_id(m, c, iv, req)) return;
    if (iv->streaming) {
        logf_("runtime posted /error after streaming response bytes; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from RuntimeResponseSent to InvocationErrorResponse is not allowed");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
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
    finish(m, iv, &r);
}

static void handle_init_error(emu *m, conn *c, const rapi_request *req)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    char type[128];
    invocation *iv;
    if (m->state != RT_INIT) {
        logf_("runtime posted /init/error after init; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from Ready to InitError is not allowed");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    m->init_ms = (double)(now_ns() - m->env_start_ns) / 1e6;
    if (json_peek_string(req->body, req->body_len, "errorType", type, sizeof type) != 0)
        snprintf(type, sizeof type, "%s", ht ? ht : "Runtime.Unknown");
    fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", m->init_ms, type);
    m->state = RT_INIT_FAILED;
    m->kill_at_ns = now_ns() + EMU_INIT_ERROR_GRACE_MS * 1000000LL; /* it must exit by itself */
    /* Lambda serves the init error as the response to the pending invoke */
    iv = pop_failed_init(m);
    if (iv) finish_init_error(m, iv, type, req->body, req->body_len);
}

/* ------------------------------------------------------------------ the Extensions API */

static const char *json_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* A JSON string at p (which must be '"'): the position after it, or NULL. Copies the text
   (escapes mostly undone; \u as '?') into out when out is not NULL. */
static const char *json_str(const char *p, const char *e, char *out, size_t cap)
{
    size_t o = 0;
    if (p >= e || *p != '"') return NULL;
    for (p++; p < e; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            if (out) out[o] = 0;
            return p + 1;
        }
        if (ch < 0x20) return NULL;
        if (ch == '\\') {
            if (++p >= e) return NULL;
            if (*p == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (p + k >= e || !isxdigit((unsigned char)p[k])) return NULL;
                p += 4;
                ch = '?';
            } else if (strchr("\"\\/bfnrt", *p)) {
                ch = (unsigned char)*p;
            } else {
                return NULL;
            }
        }
        if (out && o + 1 < cap) out[o++] = (char)ch;
    }
    return NULL;
}

/* Any JSON value at p: the position after it, or NULL if malformed. */
static const char *json_skip(const char *p, const char *e, int depth)
{
    p = json_ws(p, e);
    if (p >= e || depth > 64) return NULL;
    if (*p == '"') return json_str(p, e, NULL, 0);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = json_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = json_str(json_ws(p, e), e, NULL, 0);
                if (!p) return NULL;
                p = json_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            p = json_skip(p, e, depth + 1);
            if (!p) return NULL;
            p = json_ws(p, e);
            if (p >= e) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    {
        const char *s = p;
        while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.')) p++;
        if (p == s) return NULL;
        if (!(isdigit((unsigned char)*s) || *s == '-') &&
            !((p - s == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0)) || (p - s == 5 && memcmp(s, "false", 5) == 0)))
            return NULL;
        return p;
    }
}

/* The register body: {"events":["INVOKE","SHUTDOWN"]} (other members are skipped; an empty
   body means no events). 0, -1 malformed, -2 unknown event type (copied into bad). */
static int parse_register_body(const char *b, size_t len, int *events, char *bad, size_t badcap)
{
    const char *p = b, *e = b + len;
    *events = 0;
    p = json_ws(p, e);
    if (p == e) return 0;
    if (*p != '{') return -1;
    p = json_ws(p + 1, e);
    if (p < e && *p == '}') return json_ws(p + 1, e) == e ? 0 : -1;
    for (;;) {
        char key[64];
        p = json_str(json_ws(p, e), e, key, sizeof key);
        if (!p) return -1;
        p = json_ws(p, e);
        if (p >= e || *p != ':') return -1;
        p = json_ws(p + 1, e);
        if (strcmp(key, "events") == 0) {
            if (p >= e || *p != '[') return -1;
            p = json_ws(p + 1, e);
            if (p < e && *p == ']') p++;
            else
                for (;;) {
                    char ev[64];
                    p = json_str(json_ws(p, e), e, ev, sizeof ev);
                    if (!p) return -1;
                    if (strcmp(ev, "INVOKE") == 0) *events |= EV_INVOKE;
                    else if (strcmp(ev, "SHUTDOWN") == 0) *events |= EV_SHUTDOWN;
                    else {
                        snprintf(bad, badcap, "%s", ev);
                        return -2;
                    }
                    p = json_ws(p, e);
                    if (p < e && *p == ']') {
                        p++;
                        break;
                    }
                    if (p >= e || *p != ',') return -1;
                    p++;
                }
        } else {
            p = json_skip(p, e, 1);
            if (!p) return -1;
        }
        p = json_ws(p, e);
        if (p < e && *p == '}') return json_ws(p + 1, e) == e ? 0 : -1;
        if (p >= e || *p != ',') return -1;
        p++;
    }
}

static void handle_register(emu *m, conn *c, const rapi_request *req)
{
    const char *name = rapi_request_header(req, "Lambda-Extension-Name");
    const char *feat = rapi_request_header(req, "Lambda-Extension-Accept-Feature");
    char bad[64] = "", hdrs[160], body[1024], e1[300], e2[300], e3[300];
    int events = 0, rc, external;
    ext_proc *p;
    extension *x;
    size_t k;
    rapi_response r;
    if (!name || !*name) {
        logf_("extension register without Lambda-Extension-Name; answered 400");
        api_reply(m, c, 400, "InvalidRequestFormat", "Missing Lambda-Extension-Name header");
        return;
    }
    rc = parse_register_body(req->body, req->body_len, &events, bad, sizeof bad);
    if (rc == -1) {
        logf_("extension %s: register body is not valid JSON; answered 400", name);
        api_reply(m, c, 400, "InvalidRequestFormat", "Invalid request body: expected {\"events\":[...]}");
        return;
    }
    if (rc == -2) {
        logf_("extension %s: unknown event type '%s'; answered 400", name, bad);
        api_reply(m, c, 400, "Extension.InvalidEventType", "Unknown event type: %s", bad);
        return;
    }
    if (!(m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && m->state == RT_INIT))) {
        logf_("extension %s: register after init; answered 403", name);
        api_reply(m, c, 403, "Extension.RegistrationClosed", "Extension registration closed already");
        return;
    }
    p = xp_by_name(m, name);
    external = p && p->pid > 0;
    if (!external && (events & EV_SHUTDOWN)) {
        logf_("internal extension %s asked for SHUTDOWN events; answered 403", name);
        api_reply(m, c, 403, "Extension.InvalidEventType", "Internal extensions cannot register for SHUTDOWN events");
        return;
    }
    for (k = 0; k < m->n_exts; k++)
        if (strcmp(m->exts[k]->name, name) == 0) {
            logf_("extension %s is already registered; answered 403", name);
            api_reply(m, c, 403, "Extension.InvalidExtensionName", "Extension %s is already registered", name);
            return;
        }
    if (m->n_exts >= EMU_MAX_EXTENSIONS) {
        logf_("extension %s: more than %d extensions; answered 403", name, EMU_MAX_EXTENSIONS);
        api_reply(m, c, 403, "Extension.TooManyExtensions", "Too many extensions registered (at most %d)", EMU_MAX_EXTENSIONS);
        return;
    }
    x = (extension *)xmalloc(sizeof *x);
    memset(x, 0, sizeof *x);
    new_uuid(x->id);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->events = events;
    x->external = external;
    m->exts[m->n_exts++] = x;
    json_escape(e1, sizeof e1, getenv("AWS_LAMBDA_FUNCTION_NAME"));
    json_escape(e2, sizeof e2, getenv("AWS_LAMBDA_FUNCTION_VERSION"));
    json_escape(e3, sizeof e3, getenv("_HANDLER"));
    snprintf(body, sizeof body, "{\"functionName\":\"%s\",\"functionVersion\":\"%s\",\"handler\":\"%s\"%s}", e1, e2, e3,
             feat && strstr(feat, "accountId") ? ",\"accountId\":\"" EMU_ARN_ACCOUNT "\"" : "");
    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nLambda-Extension-Identifier: %s\r\n", x->id);
    rapi_response_init(&r, 200);
    r.headers = hdrs;
    r.body = body;
    r.body_len = strlen(body);
    if (m->cfg.verbose)
        logf_("extension %s registered (%s, events:%s%s)", name, external ? "external" : "internal",
              (events & EV_INVOKE) ? " INVOKE" : "", (events & EV_SHUTDOWN) ? " SHUTDOWN" : "");
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) conn_drop(c);
    if (p && external) {
        p->registered = 1;
        maybe_start_runtime(m);
    }
}

/* The extension named by Lambda-Extension-Identifier, or NULL after answering 403. */
static extension *ext_of_request(emu *m, conn *c, const rapi_request *req, const char *what)
{
    const char *id = rapi_request_header(req, "Lambda-Extension-Identifier");
    extension *x;
    if (!id || !*id) {
        logf_("extension %s without Lambda-Extension-Identifier; answered 403", what);
        api_reply(m, c, 403, "Extension.MissingHeader", "Missing Lambda-Extension-Identifier header");
        return NULL;
    }
    x = ext_by_id(m, id);
    if (!x) {
        logf_("extension %s with unknown identifier '%s'; answered 403", what, id);
        api_reply(m, c, 403, "Extension.UnknownExtensionIdentifier", "Unknown extension %s", id);
    }
    return x;
}

static void handle_event_next(emu *m, conn *c, const rapi_request *req)
{
    extension *x = ext_of_request(m, c, req, "event/next");
    if (!x) return;
    if (x->parked && x->parked != c) x->parked->park = PARK_NONE; /* the older call is abandoned */
    x->parked = c;
    c->park = PARK_EVENT;
    if (x->holding) { /* done with that invocation */
        invocation *iv = x->holding;
        x->holding = NULL;
        if (--iv->ext_pending == 0 && iv->delivered) complete(m, iv);
    }
    if (!x->ready) {
        x->ready = 1;
        check_init(m);
    }
    ext_pump(m, x);
    dispatch(m);
}

static void handle_ext_error(emu *m, conn *c, const rapi_request *req, int at_exit)
{
    const char *type = rapi_request_header(req, "Lambda-Extension-Function-Error-Type");
    extension *x = ext_of_request(m, c, req, at_exit ? "exit/error" : "init/error");
    invocation *iv;
    if (!x) return;
    if (!type || !*type) {
        logf_("extension %s posted an error without Lambda-Extension-Function-Error-Type; answered 400", x->name);
        api_reply(m, c, 400, "InvalidRequestFormat", "Missing Lambda-Extension-Function-Error-Type header");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    logf_("extension %s reported an %s error: %s%s%.*s", x->name, at_exit ? "exit" : "init", type, req->body_len ? ": " : "",
          (int)(req->body_len > 1000 ? 1000 : req->body_len), req->body);
    if (at_exit || m->init_done || m->env == ENV_STOPPING) return;
    /* an extension init error fails init like a runtime init error */
    fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n",
            (double)(now_ns() - m->env_start_ns) / 1e6, type);
    iv = pop_failed_init(m);
    if (iv) finish_init_error(m, iv, type, req->body, req->body_len);
    begin_shutdown(m, "failure");
}

static void handle_api_request(emu *m, conn *c, const rapi_request *req)
{
    char path[2048], id[1100];
    const char *what = NULL;
    int k;
    target_path(req->target, path, sizeof path);
    if (m->cfg.verbose) logf_("api (connection %u): %s %s", c->id, req->method, req->target);
    if (strcmp(path, "/2018-06-01/runtime/invocation/next") == 0) {
        if (strcmp(req->method, "GET") != 0) goto bad_method;
        handle_next(m, c, req);
        return;
    }
    if (strcmp(path, "/2018-06-01/runtime/init/error") == 0) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        handle_init_error(m, c, req);
        return;
    }
    k = parse_invocation_path(path, id, sizeof id, &what);
    if (k < 0) {
        logf_("runtime sent a malformed request id in %s; answered 400", req->target);
        api_reply(m, c, 400, "InvalidRequestID", "Invalid request ID");
        return;
    }
    if (k > 0 && (strcmp(what, "response") == 0 || strcmp(what, "error") == 0)) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        if (what[0] == 'r') handle_response(m, c, req, id);
        else handle_error(m, c, req, id);
        return;
    }
    if (strncmp(path, "/2020-01-01/extension/", 22) == 0) {
        const char *sub = path + 22;
        if (strcmp(sub, "register") == 0) {
            if (strcmp(req->method, "POST") != 0) goto bad_method;
            handle_register(m, c, req);
            return;
        }
        if (strcmp(sub, "event/next") == 0) {
            if (strcmp(req->method, "GET") != 0) goto bad_method;
            handle_event_next(m, c, req);
            return;
        }
        if (strcmp(sub, "init/error") == 0 || strcmp(sub, "exit/error") == 0) {
            if (strcmp(req->method, "POST") != 0) goto bad_method;
            handle_ext_error(m, c, req, sub[1] == 'x');
            return;
        }
    }
    if (strncmp(path, "/2022-07-01/telemetry", 21) == 0 || strncmp(path, "/2020-08-15/logs", 16) == 0)
        logf_("runtime called %s %s: the Telemetry/Logs APIs are not emulated; answered 404", req->method, path);
    else
        logf_("runtime called unknown endpoint %s %s; answered 404", req->method, req->target);
    api_reply(m, c, 404, "NotFound", "Not found: %s", path);
    return;
bad_method:
    logf_("runtime used method %s on %s; answered 405", req->method, path);
    api_reply(m, c, 405, "MethodNotAllowed", "Method %s not allowed on %s", req->method, path);
}

/* ------------------------------------------------------------------ streaming: forwarding while it arrives */

/* Looks at the (incomplete) request sitting in the connection's input buffer. If it is the
   streamed /response of an invocation in flight, forwards the body bytes decoded so far.
   rapi_server stays the parser of record: when the request is complete,
   rapi_server_read_request returns it and handle_response forwards whatever is left plus the
   trailers. */
static void stream_peek(emu *m, conn *c)
{
    invocation *iv = c->s_iv;
    const char *in = c->rs.in;
    size_t len = c->rs.in_len;
    if (len == 0 || c->s_head_len == (size_t)-1) return;
    if (iv && iv->delivered) return;
    if (!c->s_head_len) {
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
                c->s_head_len = (size_t)-1; /* not ours: stop peeking for this request */
                return;
            }
            sp = strchr(line + 5, ' ');
            if (sp) *sp = 0;
            target_path(line + 5, path, sizeof path);
            if (parse_invocation_path(path, id, sizeof id, &what) != 1 || strcmp(what, "response") != 0 ||
                (iv = iv_find(m, id)) == NULL || iv->delivered || iv->streaming) {
                c->s_head_len = (size_t)-1;
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
            c->s_head_len = (size_t)-1;
            return;
        }
        c->s_head_len = eoh;
        c->s_iv = iv;
        c->s_scan = eoh;
        c->s_chunked = chunked;
        c->s_content_length = clen;
        stream_begin(m, iv, ctype[0] ? ctype : NULL);
    }
    if (!iv) return;
    if (!c->s_chunked) {
        size_t have = len - c->s_head_len;
        if (have > c->s_content_length) have = c->s_content_length;
        if (have > iv->s_forwarded) stream_data(m, iv, in + c->s_head_len + iv->s_forwarded, have - iv->s_forwarded);
        return;
    }
    for (;;) { /* incremental chunk walk over the bytes received so far (bounded by len) */
        if (c->s_state == 3) return;
        if (c->s_state == 1) {
            size_t n = len - c->s_scan;
            if (n == 0) return;
            if (n > c->s_chunk_left) n = c->s_chunk_left;
            stream_data(m, iv, in + c->s_scan, n);
            c->s_scan += n;
            c->s_chunk_left -= n;
            if (c->s_chunk_left == 0) c->s_state = 2;
            continue;
        }
        if (c->s_state == 2) {
            if (len - c->s_scan < 2) return;
            c->s_scan += 2;
            c->s_state = 0;
            continue;
        }
        { /* size line */
            size_t i, size = 0;
            int digits = 0;
            for (i = c->s_scan; i + 1 < len; i++)
                if (in[i] == '\r' && in[i + 1] == '\n') break;
            if (i + 1 >= len) return;
            for (; c->s_scan < i && isxdigit((unsigned char)in[c->s_scan]) && digits < 15; c->s_scan++, digits++) {
                int ch = in[c->s_scan];
                size = size * 16 + (size_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
            }
            if (digits == 0) {
                c->s_state = 3; /* malformed: rapi_server will say so */
                return;
            }
            c->s_scan = i + 2;
            if (size == 0) c->s_state = 3;
            else {
                c->s_chunk_left = size;
                c->s_state = 1;
            }
        }
    }
}

/* Reads and handles what arrived on a Runtime API connection. */
static void service_conn(emu *m, conn *c)
{
    int guard;
    for (guard = 0; guard < 64 && c->rs.conn_fd >= 0; guard++) {
        rapi_request req;
        int rc = rapi_server_read_request(&c->rs, &req, 0);
        invocation *iv;
        if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) { /* rapi_server lets NUL through */
            rapi_request_free(&req);
            rc = RAPI_EPROTO;
        }
        if (rc == RAPI_OK) {
            handle_api_request(m, c, &req);
            rapi_request_free(&req);
            conn_peek_reset(c); /* that request is done: peek afresh at the next one */
            if (c->rs.in_len == 0) return;
            continue;
        }
        if (rc == RAPI_ETIMEOUT) {
            if (m->inflight) stream_peek(m, c);
            return;
        }
        if (rc == RAPI_ENOCONN) { /* closed between requests */
            if (m->cfg.verbose) logf_("connection %u closed", c->id);
            c->park = PARK_NONE;
            return;
        }
        iv = c->s_iv && !c->s_iv->delivered ? c->s_iv : NULL;
        if (rc == RAPI_EPROTO) {
            logf_("malformed HTTP request from the runtime (%lu bytes buffered); answered 400 and closed the connection",
                  (unsigned long)c->rs.in_len);
            api_reply(m, c, 400, "InvalidRequestFormat", "Malformed HTTP request");
        } else if (rc == RAPI_ETOOBIG) {
            logf_("request from the runtime over the size limit; answered 413 and closed the connection");
            api_reply(m, c, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
            if (iv) {
                finish_error(m, iv, "Function.ResponseSizeTooLarge", "error", 1,
                             "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_STREAM);
                iv = NULL;
            }
        } else if (rc == RAPI_ECLOSED) {
            logf_("runtime closed the connection in the middle of a request");
        } else {
            logf_("Runtime API connection error: %s (%s)", rapi_strerror(rc),
                  c->rs.last_op ? strerror(c->rs.last_errno) : "-");
        }
        if (iv && iv->streaming) { /* a streamed response that cannot complete */
            finish_error(m, iv, "Runtime.TruncatedResponse", "error", 1, "RequestId: %s Error: streamed response was cut short",
                         iv->request_id);
        }
        conn_peek_reset(c);
        conn_drop(c);
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
    if (m->q_head || m->inflight) return 0;
    if (m->stdin_mode && !m->stdin_eof) return 0;
    return 1;
}

/* Invocation deadlines. On demand: a timeout fails the invocation and resets the environment.
   --concurrency (Lambda Managed Instances): reported, not enforced. */
static void check_deadlines(emu *m, long long t)
{
    invocation *iv;
    double secs = (double)m->cfg.timeout_ms / 1000.0;
    for (iv = m->inflight; iv; iv = iv->next) {
        if (!iv->deadline_ns || t < iv->deadline_ns) continue;
        if (lmi(m)) {
            if (!iv->delivered) {
                if (!iv->late_logged)
                    logf_("invocation %s passed its deadline (%.2f s); with --concurrency timeouts are reported, not enforced",
                          iv->request_id, secs);
                iv->late_logged = 1;
                continue;
            }
            logf_("extensions did not finish invocation %s within %.2f seconds", iv->request_id, secs);
            iv->r_status = "timeout";
            iv_detach_exts(m, iv);
            complete(m, iv);
            return; /* the list changed: look again next time */
        }
        if (m->pid > 0) {
            long h = proc_hwm_kb(m->pid);
            if (h > 0) m->hwm_kb = h;
        }
        iv_detach_exts(m, iv); /* a timeout ends the invocation, whatever the extensions do */
        if (!iv->delivered) {
            logf_("invocation %s timed out after %.2f seconds; restarting the runtime", iv->request_id, secs);
            finish_error(m, iv, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Task timed out after %.2f seconds",
                         iv->request_id, secs);
        } else {
            logf_("extensions did not finish invocation %s within %.2f seconds; resetting the environment", iv->request_id,
                  secs);
            iv->r_status = "timeout";
            if (m->exit_status == 0) m->exit_status = 1;
            complete(m, iv);
        }
        begin_shutdown(m, "timeout");
        return;
    }
}

/* Timers: invocation deadlines, the init limit, kill escalation, the shutdown phase, a stalled
   invoke caller. */
static void tick(emu *m)
{
    long long t = now_ns();
    check_deadlines(m, t);
    if ((m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && !m->init_done && m->state != RT_INIT_FAILED)) &&
        t >= m->init_deadline_ns) {
        invocation *iv;
        if (m->env == ENV_EXT_INIT) logf_("extensions did not register within %.2f s (init timeout)", (double)m->cfg.init_timeout_ms / 1000.0);
        else if (m->state == RT_INIT)
            logf_("runtime did not call /next within %.2f s (init timeout)", (double)m->cfg.init_timeout_ms / 1000.0);
        else
            logf_("extensions did not ask for their first event within %.2f s (init timeout)",
                  (double)m->cfg.init_timeout_ms / 1000.0);
        iv = pop_failed_init(m);
        if (iv)
            finish_error(m, iv, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Init phase timed out after %.2f seconds",
                         iv->request_id, (double)m->cfg.init_timeout_ms / 1000.0);
        begin_shutdown(m, "timeout");
    }
    if (m->env == ENV_RUNNING && m->state == RT_INIT_FAILED && m->pid > 0 && m->kill_at_ns && t >= m->kill_at_ns) {
        logf_("stopping runtime pid %ld: it did not exit after /init/error", (long)m->pid);
        begin_shutdown(m, "failure");
    }
    shutdown_progress(m);
    if (m->inv_partial_since && t - m->inv_partial_since > EMU_CALLER_IDLE_MS * 1000000LL) {
        logf_("invoke endpoint: caller stalled mid-request; connection closed");
        rapi_server_close_conn(&m->inv);
        m->inv_partial_since = 0;
    }
}

static int poll_timeout_ms(const emu *m)
{
    long long t = now_ns(), next = t + 1000LL * 1000000LL; /* wake at least once a second */
    const invocation *iv;
    for (iv = m->inflight; iv; iv = iv->next)
        if (iv->deadline_ns && !iv->late_logged && iv->deadline_ns < next) next = iv->deadline_ns;
    if ((m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && !m->init_done)) && m->init_deadline_ns < next)
        next = m->init_deadline_ns;
    if (m->kill_at_ns && m->kill_at_ns < next) next = m->kill_at_ns;
    if (m->env == ENV_STOPPING) {
        long long end = m->sd_start_ns + EMU_SHUTDOWN_MS * 1000000LL;
        if (end < next) next = end;
    }
    if (next <= t) return 0;
    return (int)((next - t + 999999) / 1000000);
}

/* Stop signal: forget what is in flight (its callers get nothing), then shut down. */
static void drop_everything(emu *m)
{
    event *e;
    while (m->inflight) iv_free(m, m->inflight, 0);
    while ((e = queue_pop(m)) != NULL) event_free(e);
    if (m->listening) rapi_server_close_conn(&m->inv);
    m->caller_busy = 0;
}

static int run_loop(emu *m)
{
    struct pollfd *p = NULL;
    conn **pc = NULL;
    size_t cap = 0;
    int stopping = 0, rc = 0;
    for (;;) {
        int np = 0, i_sig, i_al = -1, i_il = -1, i_ic = -1, i_in = -1, n, first_conn, end_conn;
        size_t i;
        reap(m);
        if (got_stop_signal && !stopping) {
            stopping = 1;
            drop_everything(m);
        }
        tick(m);
        conns_sweep(m);
        if (stopping || done(m)) {
            if (m->env == ENV_RUNNING || m->env == ENV_EXT_INIT) begin_shutdown(m, "spindown");
            if (m->env == ENV_NONE) break;
        } else {
            if (m->q_head && m->env == ENV_NONE && !m->inflight) start_environment(m);
            dispatch(m);
        }

        if (cap < m->n_conns + 8) {
            cap = m->n_conns + 16;
            p = (struct pollfd *)realloc(p, cap * sizeof *p);
            pc = (conn **)realloc(pc, cap * sizeof *pc);
            if (!p || !pc) die_oom();
        }
        i_sig = np;
        p[np].fd = sig_pipe[0];
        p[np++].events = POLLIN;
        i_al = np;
        p[np].fd = m->api.listen_fd;
        p[np++].events = POLLIN;
        first_conn = np;
        for (i = 0; i < m->n_conns; i++) {
            if (m->conns[i]->rs.conn_fd < 0) continue;
            pc[np] = m->conns[i];
            p[np].fd = m->conns[i]->rs.conn_fd;
            p[np++].events = POLLIN;
        }
        end_conn = np;
        if (m->listening && !m->caller_busy && !stopping) {
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
        if (m->stdin_mode && !m->stdin_eof && !m->q_head && !stopping && (lmi(m) || !m->inflight)) {
            i_in = np;
            p[np].fd = 0;
            p[np++].events = POLLIN;
        }
        for (n = 0; n < np; n++) p[n].revents = 0;
        n = poll(p, (nfds_t)np, poll_timeout_ms(m));
        if (n < 0) {
            if (errno == EINTR) continue;
            logf_("poll: %s", strerror(errno));
            rc = 2;
            break;
        }
        if (p[i_sig].revents) drain_sig_pipe();
        for (n = first_conn; n < end_conn; n++)
            if (p[n].revents) service_conn(m, pc[n]);
        if (p[i_al].revents) accept_conns(m);
        if ((i_il >= 0 && p[i_il].revents) || (i_ic >= 0 && p[i_ic].revents)) service_invoke(m);
        if (i_in >= 0 && p[i_in].revents) service_stdin(m);
    }
    free(p);
    free(pc);
    return rc;
}

/* ------------------------------------------------------------------ benchmark */

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
          "  --extension PATH         start PATH as an external extension before the runtime (repeatable);\n"
          "                           it registers under its file name\n"
          "  --concurrency N          Lambda Managed Instances: AWS_LAMBDA_MAX_CONCURRENCY=N, up to N\n"
          "                           invocations at once, timeouts reported but not enforced\n"
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
    g_emu = &m;
    atexit(kill_all_children);
    m.cfg.env = (env_kv *)xmalloc(sizeof(env_kv) * (size_t)argc);
    m.cfg.ext_paths = (char **)xmalloc(sizeof(char *) * (size_t)argc);
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
        } else if (strcmp(a, "--extension") == 0) {
            size_t k;
            const char *base = strrchr(v ? v : "", '/');
            NEEDS_ARG;
            base = base ? base + 1 : v;
            if (!*base || access(v, X_OK) != 0) {
                fprintf(stderr, "lambda-emu: --extension %s: not an executable file\n", v);
                return 2;
            }
            for (k = 0; k < m.cfg.n_ext_paths; k++) {
                const char *ob = strrchr(m.cfg.ext_paths[k], '/');
                if (strcmp(ob ? ob + 1 : m.cfg.ext_paths[k], base) == 0) {
                    fprintf(stderr, "lambda-emu: two extensions named %s (the file name is the extension's name)\n", base);
                    return 2;
                }
            }
            m.cfg.ext_paths[m.cfg.n_ext_paths++] = argv[i];
        } else if (strcmp(a, "--concurrency") == 0) {
            NEEDS_ARG;
            m.cfg.concurrency = atoi(v);
            if (m.cfg.concurrency < 1 || m.cfg.concurrency > 64) goto bad_value;
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
    if (m.cfg.n_ext_paths) {
        size_t k;
        m.xp = (ext_proc *)xmalloc(sizeof *m.xp * m.cfg.n_ext_paths);
        memset(m.xp, 0, sizeof *m.xp * m.cfg.n_ext_paths);
        for (k = 0; k < m.cfg.n_ext_paths; k++) {
            const char *base = strrchr(m.cfg.ext_paths[k], '/');
            m.xp[k].path = m.cfg.ext_paths[k];
            m.xp[k].name = base ? base + 1 : m.xp[k].path;
        }
        m.n_xp = m.cfg.n_ext_paths;
    }
    (void)fcntl(m.api.listen_fd, F_SETFL, fcntl(m.api.listen_fd, F_GETFL) | O_NONBLOCK);

    rc = run_loop(&m);
    if (got_stop_signal) logf_("stopping on signal %d", (int)got_stop_signal);
    kill_all_children(); /* normally nothing is left: the loop ends after the shutdown phase */
    ext_free_all(&m);
    {
        size_t k;
        for (k = 0; k < m.n_conns; k++) conn_drop(m.conns[k]);
        conns_sweep(&m);
        free(m.conns);
    }
    rapi_server_close(&m.api);
    if (m.listening) rapi_server_close(&m.inv);
    if (rc) return rc;
    if (got_stop_signal) return 128 + (int)got_stop_signal;
    return m.exit_status;
}

