/* emu.h - lambda-emu, a local AWS Lambda Runtime API emulator and benchmark: the state types,
   the limits and the functions the files of tools/emu/ share.

   build/lambda-emu [options] -- BOOTSTRAP [ARGS...]

   Serves the Runtime API (2018-06-01), the Extensions API (2020-01-01), the Telemetry API
   (2022-07-01) and the metadata endpoint (2026-01-15) on 127.0.0.1, starts
   BOOTSTRAP (and any --extension executables before it) as its children with the environment a
   real function sees, and feeds it events: from -e/-f, one per line from stdin, from an
   invoke endpoint compatible with the AWS runtime interface emulator (--listen), and/or from
   real HTTP requests turned into function URL (or REST API / ALB) events (--http). Response
   bodies go to stdout (one per invocation), REPORT lines to stderr, like the platform. The
   children's own stdout and stderr reach our stderr (through pipes, whose lines also become
   telemetry records) so that stdout carries only responses.
   Shutdown follows the platform: SIGTERM only when an extension is registered, SHUTDOWN events
   for external extensions. --concurrency N emulates Lambda Managed Instances.

   The HTTP server side (request parsing, chunked bodies and trailers, response writing) is
   tools/rapi_server.c, linked in: these files keep the state machine, the event loop and the
   bits rapi_server lacks (see tools/EMU_NOTES.md).

   libc + POSIX only. Single-threaded: one poll() loop over the Runtime API listener and every
   accepted connection (runtime, workers, extensions), the invoke endpoint, stdin and a SIGCHLD
   self-pipe. Every wait is bounded.

   Files (each includes this header first; cross-file functions keep their names and are
   declared at the end of this header, by the file that defines them):
     emu_main.c    the command line (a table of options) and main()
     emu_util.c    small utilities, the signal self-pipe, growing buffers, listeners
     emu_loop.c    the event queue, processes and their environment, connections, the
                   execution environment, stdin events, the event loop
     emu_rapi.c    delivering results, the Runtime API handlers, streaming, the invoke endpoint
     emu_ext.c     the Extensions API
     emu_http.c    the HTTP front (--http): clients, limits, answers, streamed answers
     emu_http_json.c  the HTTP front's JSON: events from requests, HTTP answers from results
     emu_tel.c     the Telemetry API (subscriptions, platform events, the function's and the
                   extensions' lines, batched delivery) and the metadata endpoint
     emu_bench.c   the benchmark (--bench) */
#ifndef EMU_H
#define EMU_H

#define _DEFAULT_SOURCE /* realpath() is XSI, not in _POSIX_C_SOURCE 200809L */
#include "../rapi_server.h"

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
/* the HTTP front (--http) */
#define EMU_HTTP_MAX_BODY 6291456u        /* request payload limit (6 MiB): over it, 413 */
#define EMU_HTTP_MAX_HEAD (64u * 1024u)   /* request head limit: over it, 431 */
#define EMU_HTTP_MAX_CONNS 64             /* HTTP clients at once */
#define EMU_HTTP_READ_MS 5000             /* default --http-read-timeout: head in, or a body pause */
#define EMU_HTTP_REQUEST_MS 60000         /* a whole request, head and body */
#define EMU_HTTP_IDLE_MS 60000            /* a keep-alive connection with nothing to do */
#define EMU_HTTP_LINGER_MS 2000           /* reading (and dropping) after an early error answer */
#define EMU_HTTP_MAX_PRELUDE (64u * 1024u) /* a streamed answer's HTTP prelude */
enum { HTTP_FMT_URL, HTTP_FMT_REST, HTTP_FMT_ALB }; /* --http-format 2.0, 1.0, alb */

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
    const char *http;       /* --http address or NULL */
    int http_format;        /* HTTP_FMT_* */
    long long http_read_ms; /* --http-read-timeout */
    int http_options;       /* an --http-* option was given (they need --http) */
    int verbose, quiet;
    int concurrency;        /* --concurrency N (Lambda Managed Instances), 0 = on demand */
    const char *az;         /* --az: the metadata endpoint's AvailabilityZoneID (default use1-az1) */
    char **ext_paths;       /* --extension executables */
    size_t n_ext_paths;
    env_kv *env;            /* --env overrides */
    size_t n_env;
    /* bench */
    long bench_n;
    const char *bench_event_file;
    int bench_rounds;
    const char *bench_baseline;
    char **bench_compare;   /* --compare bootstraps */
    size_t n_bench_compare;
    int bench_no_pin;       /* --no-pin */
    const char *bench_svg;  /* --svg FILE */
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
    unsigned http_conn;    /* the HTTP front client waiting for the result (0: none) */
    char request_id[37];   /* "" or the request id to use (the HTTP front puts it in the event) */
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
    long long start_wall_ms;  /* for the telemetry spans */
    long long s_first_ns;     /* streaming: when the first byte was forwarded */
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

/* The result of an invocation, as delivered (emu_rapi.c) and turned into an HTTP answer by the
   HTTP front (emu_http.c). */
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

/* A growing byte buffer (the HTTP front's JSON and answers). Allocation failure exits. */
typedef struct hbuf {
    char *p;
    size_t len, cap;
} hbuf;

/* An HTTP answer built from a function's result or from a streamed answer's prelude. */
typedef struct http_answer {
    int status;
    char reason[64];         /* "" for the standard phrase (ALB statusDescription) */
    hbuf headers;            /* "Name: value\r\n" lines, Set-Cookie included */
    hbuf body;
    int has_type;            /* headers hold a Content-Type */
} http_answer;

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
    struct http_front *http; /* the HTTP front (when --http), see emu_http.c */
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

    struct tel *tel;         /* the Telemetry API and the captured output, see emu_tel.c */
    int exit_status;         /* 0 ok; 1 an invocation failed on the platform side; 3 init failed */
    int warned_no_invocation_id;
    unsigned long invocations;
} emu;

/* ------------------------------------------------------------------ shared functions and data, by file */

/* emu_util.c */
long long now_ns(void);
long long wall_ms(void);
void die_oom(void);
void *xmalloc(size_t n);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);
int ieq(const char *a, const char *b);
void logf_(const char *fmt, ...);
void random_bytes(unsigned char *out, size_t n);
void hex_of(char *out, const unsigned char *b, size_t n);
void new_uuid(char out[37]);
void new_trace_id(char *out, size_t cap);
int b64_decode(const char *in, char **out, size_t *out_len);
int json_peek_string(const char *doc, size_t len, const char *key, char *out, size_t cap);
void json_escape(char *out, size_t cap, const char *s);
int header_value_ok(const char *v, size_t n);
int pct_decode(const char *s, size_t n, char *out, size_t cap);
long proc_hwm_kb(pid_t pid);
int read_file(const char *path, char **out, size_t *len, size_t max);
extern int sig_pipe[2];
extern volatile sig_atomic_t got_stop_signal;
void setup_signals(void);
void drain_sig_pipe(void);

/* emu_loop.c */
void event_free(event *e);
event *event_new(const char *body, size_t len);
void queue_push(emu *m, event *e);
void queue_push_front(emu *m, event *e);
event *queue_pop(emu *m);
int max_inflight(const emu *m);
void setup_child_env(emu *m);
pid_t spawn_child(char **argv, int stdout_to, int stderr_to);
void describe_status(int status, char *out, size_t cap);
extern emu *g_emu;
void kill_all_children(void);
void conns_sweep(emu *m);
void conn_drop(conn *c);
void conn_peek_reset(conn *c);
void api_reply(emu *m, conn *c, int status, const char *type, const char *fmt, ...);
void maybe_start_runtime(emu *m);
void check_init(emu *m);
void begin_shutdown(emu *m, const char *reason);
int run_loop(emu *m);

/* emu_rapi.c */
void iv_detach_exts(emu *m, invocation *iv);
void iv_free(emu *m, invocation *iv, int remember);
void complete(emu *m, invocation *iv);
void finish_error(emu *m, invocation *iv, const char *type, const char *status, int platform, const char *fmt, ...);
invocation *pop_failed_init(emu *m);
void finish_init_error(emu *m, invocation *iv, const char *type, const char *body, size_t len);
void dispatch(emu *m);
void service_conn(emu *m, conn *c);
void service_invoke(emu *m);
int open_listener(rapi_server *s, const char *spec, int default_port);

/* emu_ext.c */
void ext_free_all(emu *m);
void ext_pump(emu *m, extension *x);
void ext_queue_invoke(emu *m, extension *x, invocation *iv);
void handle_register(emu *m, conn *c, const rapi_request *req);
void handle_event_next(emu *m, conn *c, const rapi_request *req);
void handle_ext_error(emu *m, conn *c, const rapi_request *req, int at_exit);
extension *ext_find(emu *m, const char *id);

/* emu_http.c */
int http_open(emu *m);
void http_free(emu *m);
void http_drop_all(emu *m);
size_t http_nfds(const emu *m);
size_t http_pollfds(emu *m, struct pollfd *p, size_t cap);
void http_service(emu *m, const struct pollfd *p, size_t n);
void http_tick(emu *m, long long t);
long long http_next_deadline(const emu *m);
void http_stream_begin(emu *m, invocation *iv, const char *content_type);
void http_stream_data(emu *m, invocation *iv, const char *p, size_t n);
void http_finish(emu *m, invocation *iv, const result *r);

/* emu_http_json.c */
void hb_put(hbuf *b, const void *p, size_t n);
void hb_str(hbuf *b, const char *s);
void hb_fmt(hbuf *b, const char *fmt, ...);
void hb_free(hbuf *b);
void hb_b64(hbuf *b, const unsigned char *p, size_t n);
void hb_json_str(hbuf *b, const char *p, size_t n);
int utf8_valid(const char *s, size_t n);
void http_event_build(emu *m, const rapi_request *req, const char *peer_ip, unsigned short port, const char *url_id,
                      const char *request_id, hbuf *out);
int http_answer_parse(const char *doc, size_t len, int format, int prelude, http_answer *a, char *why, size_t whycap);
void http_answer_free(http_answer *a);
const char *http_reason(int status);
int json_valid(const char *p, size_t n);
int json_member(const char *p, size_t n, const char *name, const char **vp, size_t *vn);
int json_element(const char *p, size_t n, size_t k, const char **vp, size_t *vn);
int json_string_value(const char *p, size_t n, hbuf *out);

/* emu_tel.c */
void tel_setup_env(emu *m);
void handle_metadata(emu *m, conn *c, const rapi_request *req);
void handle_telemetry(emu *m, conn *c, const rapi_request *req);
void tel_platform(emu *m, const char *type, const char *fmt, ...);
void tel_tracing(const invocation *iv, char *out, size_t cap);
void tel_start(emu *m, invocation *iv);
void tel_runtime_done(emu *m, invocation *iv, const result *r);
void tel_report(emu *m, invocation *iv);
void tel_init_error(emu *m, const char *type);
void tel_iso(long long ms, char *out, size_t cap);
int tel_pipe(emu *m, int extension);
void tel_drain_outputs(emu *m);
size_t tel_nfds(const emu *m);
size_t tel_pollfds(emu *m, struct pollfd *p, size_t cap);
void tel_service(emu *m, const struct pollfd *p, size_t n);
void tel_tick(emu *m, long long t);
long long tel_next_deadline(const emu *m);
int tel_flushing(emu *m);
void tel_env_start(emu *m);
void tel_env_end(emu *m);

/* emu_bench.c */
int run_bench(emu *m);

#endif /* EMU_H */
