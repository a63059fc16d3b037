/* lambda_runtime.h - v0.2.0 - an AWS Lambda custom runtime for C, in one header.
   Linux only (x86_64, arm64). Needs libc and POSIX sockets, nothing else: no libcurl,
   no C++, no SDK. No warranty; MIT license at the end of the file.

   Do this in exactly ONE .c or .cc file (everywhere else, just #include it):

       #define LAMBDA_RUNTIME_IMPL
       #include "lambda_runtime.h"

   QUICK START
   ===========
       #define LAMBDA_RUNTIME_IMPL
       #include "lambda_runtime.h"

       // {"name":"World"} -> "Invoked by: World"; anything else fails with InvalidEvent
       static int hello(const lambda_context *ctx, lambda_str event, lambda_response *res)
       {
           char text[300] = "Invoked by: ";
           size_t at = strlen(text), len;
           int rc = lambda_json_get_string(event, "name", text + at, sizeof text - at, &len);
           (void)ctx;
           if (rc != 0) // absent, not a string, or too long: lambda_strerror says which
               return lambda_error_str(res, "InvalidEvent", lambda_strerror(rc));
           return lambda_response_append_json_string(res, text, at + len);
       }

       int main(void)
       {
           return lambda_start(hello);
       }

   Build it fully static, name it bootstrap, zip it, deploy it on provided.al2023:

       musl-gcc -std=c99 -Os -static -fno-pie -no-pie -DLAMBDA_STATIC -ffunction-sections \
           -fdata-sections -fno-asynchronous-unwind-tables -Wl,--gc-sections \
           -Wl,-z,noseparate-code -Wl,-z,norelro -s -o bootstrap main.c
       zip function.zip bootstrap     # or tools/lambda-zip / make package: reproducible zips

   (This program is examples/hello/main.c, and the README's; one is checked against the others.
   That line is the Makefile's: 28 KiB for this hello. -DLAMBDA_STATIC is for a program that is
   one file: every public function becomes static, so the compiler drops all you never call
   before the linker sees it; leave it out when several files call the runtime.)

   THE HANDLER
   ===========
   int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)

   - ctx: the invocation (request id, deadline, ARN, trace id, client context, cognito
     identity, tenant id, event content type) and the function (name, version, memory,
     log group and stream), plus your lambda_config.user pointer. lambda_remaining_ms(ctx)
     says how long is left.
   - event: the event body, binary-safe (use event.len), NUL-terminated as a courtesy.
   - res: write the response body with lambda_response_append / _printf /
     _append_json_string (or a lambda_json_writer), set its content type with
     lambda_response_set_content_type (default application/json).
   - Return 0 for success. To fail the invocation, `return lambda_error(res, "Type", fmt, ...)`:
     the runtime posts {"errorMessage":..,"errorType":..,"stackTrace":[]} to the Runtime API
     and discards whatever body was written (after lambda_stream_begin it becomes the error
     trailers instead). Calling lambda_error fails the invocation whatever the handler then
     returns. A non-zero return without lambda_error is reported as Runtime.HandlerFailed,
     with a message that names the cause (see ERRORS); a response that outgrew
     max_response_size as Function.ResponseSizeTooLarge (never a truncated body).
   - stdout: when the program uses stdout, the runtime makes it line-buffered at the start,
     so each printed line goes out at once and belongs to its invocation (and it flushes
     stdout after each handler when fflush is linked: any call to it links it). End your
     lines with '\n'. A program that never prints links no stdio.

   For an init step that can fail, a user pointer, or limits, use lambda_run:

       static int init(void *user, lambda_response *err)
       {
           if (getenv("TABLE_NAME") == NULL)
               return lambda_error(err, "Runtime.ConfigInvalid", "TABLE_NAME is not set");
           return 0;
       }
       int main(void)
       {
           lambda_config cfg = {0};          // zero means "default" for every field
           cfg.handler = handler;
           cfg.init = init;                  // failure: posted to /runtime/init/error, exit 1
           cfg.user = &my_state;             // ctx->user in every invocation
           cfg.max_event_size = 1 << 20;     // default LAMBDA_DEFAULT_MAX_EVENT (8 MiB)
           return lambda_run(&cfg) == 0 ? 0 : 1;
       }

   ERRORS
   ======
   Every call returns 0 (or a count) on success and a negative LAMBDA_E_* code on failure;
   lambda_strerror(code) describes it. lambda_run returns only when it must stop: after
   max_invocations (0), or on a fatal condition (negative), which it has logged on stderr
   as one line starting "lambda_runtime: ". There is no global error state.

   A handler may return a code as it got it (`return lambda_json_writer_finish(&w);`). The
   error message then says what the code means and which call failed first, when it was a
   call on the response (a JSON writer over it, lambda_http_*):
       handler returned -19: a call out of order (JSON writer misuse, no HTTP answer
       open...); the first failed call: lambda_json_write_int64: a value where a key is due
   (Runtime.HandlerFailed). A handler that returns 0 after such a call failed gets its
   response sent and one warning line naming the call. lambda_json_writer_error(w, &call,
   &why) gives the same for any writer, e.g. one into a buffer of yours.

   FORMATTING (what links printf)
   ==========
   lambda_error, lambda_log, lambda_response_printf and lambda_extension_error format with
   the C library's vsnprintf (printf compatible, about 10 KB static musl). Nothing else
   does: lambda_json_write_double has its own shortest-digits writer (>>json), the
   runtime's own log lines and error messages use a small internal formatter, and errno
   values are named, not looked up with strerror. lambda_error_str(res, type, message)
   reports an error without formatting. A handler that calls none of the printf-style
   functions (lambda_log_fields' message is one) links no printf.

   JSON
   ====
   Reading in place (no allocation, no tree: lambda_json_get, lambda_json_get_string,
   lambda_json_get_int64, lambda_json_next ...) and writing (lambda_json_writer): the manual
   is the >>json-api block below, next to the declarations.

   MEMORY AND LIFETIMES
   ====================
   The runtime lives on lambda_run's stack: no mutable global state (one exception: with
   lambda_on_shutdown, the SIGTERM handler finds its pipe in a static). It owns a receive
   buffer (response head + event), a response buffer and a small request buffer, grown on
   demand and reused; once they have reached the working size an invocation allocates
   nothing. Everything handed to the handler (ctx strings, event) is valid until the
   handler returns. lambda_scratch(res, n) hands out memory with the same lifetime (the
   HTTP layer keeps its decoded strings there): blocks from the same allocator, kept and
   reused from one invocation to the next, freed when lambda_run returns; one area per
   worker. Each look-up copies what it returns into it: look a value up once, not in a loop.
   Allocator: on Linux x86_64/arm64 the buffers come straight from the kernel (mmap; they
   grow with mremap, without copying, and go back with munmap), and _X_AMZN_TRACE_ID is
   written into environ without setenv, so the runtime never calls malloc: a handler
   that does not call it either links no allocator at all (about 7 KB less, static musl).
   To use your own, define all of LAMBDA_MALLOC(n), LAMBDA_REALLOC(p, n) and
   LAMBDA_FREE(p) before the implementation, or none. Elsewhere the default is
   malloc/realloc/free.
   Environment: the runtime edits environ in place (as setenv does) to set and remove
   _X_AMZN_TRACE_ID; it adds one array of pointers when the variable is first added.
   Each invocation rewrites the variable from scratch, so whatever the handler did to it
   (setenv, unsetenv, clearenv) is undone: getenv("_X_AMZN_TRACE_ID") is always this
   invocation's trace id, or NULL when the platform sent none. Two buffers take turns, so
   a thread that calls getenv while the runtime moves on to the next invocation gets the
   old value or the new one, whole, never a mix; the string it got stays valid and
   unchanged until the variable is set a second time (the invocation after next): copy it
   to keep it longer. (Removing the variable shifts the entries after it, as unsetenv
   does; POSIX makes no promise for getenv racing with any change of environ.)

   LIMITS (reject, never truncate)
   ======
   - response head (status line + headers) from the Runtime API: LAMBDA_MAX_HEAD_SIZE (64 KiB)
   - event: lambda_config.max_event_size (default 8 MiB); a larger one fails that
     invocation with Runtime.EventTooLarge and the runtime goes on
   - response: lambda_config.max_response_size (default 6,291,556 bytes, the platform's)
   - request id: LAMBDA_MAX_ID_SIZE (1024) bytes, no space or control bytes (else the
     event is logged and skipped; control bytes in a header value read as spaces, but a
     bare LF anywhere in a response head, or any control byte in Content-Length or
     Transfer-Encoding, makes the whole head malformed, which is fatal)
   - chunk sizes: at most 16 hex digits; chunk extensions and trailers: 64 KiB

   CONFIGURATION MACROS (define before the implementation)
   ====================
   LAMBDA_MALLOC/REALLOC/FREE  allocator for the runtime's buffers (all or none; default:
                               whole pages from mmap on Linux, else malloc/realloc/free)
   LAMBDA_MAX_HEAD_SIZE        65536
   LAMBDA_MAX_ID_SIZE          1024
   LAMBDA_RECV_SIZE            65536, bytes asked of each recv()
   LAMBDA_GETADDRINFO          resolve host names in AWS_LAMBDA_RUNTIME_API with
                               getaddrinfo (off: numeric IPv4/IPv6 and "localhost" only,
                               which is all Lambda uses; getaddrinfo adds ~28 KB static)
   LAMBDA_THREADS              worker threads for AWS_LAMBDA_MAX_CONCURRENCY (needs -pthread)
   LAMBDA_LOG_LINE_MAX         4096, longest lambda_log line (a stack buffer)
   LAMBDA_JSON_MAX_DEPTH       512, nesting limit of the JSON reader and writer
   LAMBDA_JSON_SIMD            the JSON scanner's SIMD kernels in a build for size (-Os,
                               the bootstraps' line leaves them out: 2.7 to 3.6 KB of code)
   LAMBDA_JSON_SCALAR          no SIMD kernels in any build (the byte-at-a-time scanner)
   LAMBDA_STATIC               make every public function static
   LAMBDA_API                  linkage of the public functions (default extern)

   LINK-TIME OPT-INS
   =================
   A bootstrap carries only the code it can reach. Some features are reachable only
   through a function pointer that their own entry point stores, so that a program which
   never calls that entry point links none of their code (with -ffunction-sections
   -Wl,--gc-sections): streaming (lambda_stream_begin / _http_begin set the response's
   `chunk` and `finish` pointers), the shutdown hook (lambda_on_shutdown sets
   lambda_config.lambda__shutdown_setup), and through them the Extensions API client;
   metrics and X-Ray causes (the first lambda_metric, and lambda_xray_error_cause's handler
   wrapper, set the response's `explain` pointer, called after every handler, to
   lambda__obs_after, which flushes the metrics and posts an error with its cause through
   pointers of their own).
   The SIGTERM watching and its clean-up are behind pointers set by the same setup.
   Worker threads are a compile-time opt-in (LAMBDA_THREADS). Calling these functions
   directly from the core would make every bootstrap bigger: keep them behind the pointers.
   Likewise stdout and fflush are weak references (a program that never prints links no
   stdio), the clock is read with the raw system call (no vDSO lookup), heads are scanned
   without memchr and strrchr, and errno values get names instead of strerror's table.

   WHAT GOES OVER THE WIRE
   =======================
   AWS_LAMBDA_RUNTIME_API=host:port ("127.0.0.1:9001", "[::1]:9001", "localhost:9001"; a
   leading "http://" and trailing "/" are tolerated, and the Host header is host:port).
   Unset: one line on stderr saying how to run locally, and exit status 1.
   One keep-alive HTTP/1.1 connection with TCP_NODELAY; each request is one sendmsg()
   (head and body together, MSG_NOSIGNAL: no SIGPIPE); Host and
   User-Agent: lambda_runtime.h/<version>; never Expect; proxies are ignored.
     GET  /2018-06-01/runtime/invocation/next           (no timeout: the sandbox freezes)
     POST /2018-06-01/runtime/invocation/{id}/response  Content-Type, Content-Length
     POST /2018-06-01/runtime/invocation/{id}/error     Lambda-Runtime-Function-Error-Type
     POST /2018-06-01/runtime/init/error                then lambda_run returns LAMBDA_E_INIT
   {id} is percent-encoded as Go escapes a path (all but A-Z a-z 0-9 - . _ ~ $ & + , : ; = @),
   so a Go server routes it to the id it sent. Lambda-Runtime-Invocation-Id is
   echoed on /response and /error when /next carried it. _X_AMZN_TRACE_ID is set from
   Lambda-Runtime-Trace-Id for each invocation, and unset when it is absent.
   Responses: Content-Length, chunked (any chunking, extensions, trailers) or
   read-to-close bodies; headers matched case-insensitively; partial reads and EINTR.
   Framing is never guessed: lines end in CRLF (a bare LF is an error, not a line end
   that could hide a header), trailers must be field lines, one Content-Length, never
   with chunked. Where RFC 9110/9112 ask a client to be lenient it is: HTTP/1.2..1.9 read
   as 1.1, obs-fold unfolded into spaces (none left at either end of a value); an HTTP/1.0
   answer with chunked framing closes the connection after it, and so does any answer
   with a close option, whatever a later Connection line says. Checked against http-parser
   by a differential fuzzer (tests/FUZZ_DIFF.md lists where it is stricter, and why).
   If the server stops reading a request body and closes (a 413 for a response over its
   limit), the answer it sent first is read and handled like any other status.
   Statuses: /next 200 runs the handler; 500 makes lambda_run return LAMBDA_E_STATUS;
   any other status is logged, and three in a row are fatal. On /response and /error,
   2xx goes on, 400/403/410/413 are logged and the runtime goes on to the next event,
   5xx is fatal. A connection the server closed while idle is reopened transparently,
   once; a failure on the fresh connection is fatal (the platform restarts the sandbox).
   Before a POST, the idle connection is checked (one poll) when the handler took more
   than a moment (2^18 ticks of rdtsc / cntvct_el0; elsewhere always), and before a stream
   always: a warm invocation of a quick handler is 4 system calls, 2 sendmsg, 2 recv.

   LOGGING
   =======
   lambda_log(ctx, LAMBDA_LOG_INFO, "fmt", ...) follows AWS_LAMBDA_LOG_FORMAT (Text or
   JSON) and AWS_LAMBDA_LOG_LEVEL (TRACE..FATAL, default INFO); details at >>log-api.
   The runtime's own lines use the same format ("logger":"lambda_runtime" in JSON; text
   lines start "lambda_runtime: "). lambda_log_fields adds typed key/value fields
   (lambda_field_str / _int / _double / _bool): members of the JSON line, or key=value
   pairs in text, escaped, without allocation.

   METRICS, X-RAY, METADATA
   ========================
   lambda_metric(res, "Name", value, LAMBDA_UNIT_COUNT), lambda_metric_dimension,
   lambda_metric_namespace: CloudWatch metrics in the Embedded Metric Format, written to
   stdout as one JSON line per document when the handler returns (the spec's limits kept
   by splitting); details at >>metrics-api. lambda_xray_error_cause(&cfg): /error carries
   the X-Ray cause document (Lambda-Runtime-Function-XRay-Error-Cause).
   lambda_availability_zone_id(ctx): "use1-az1", from the Lambda metadata endpoint, cached.
   Each is linked only into programs that call it.

   TELEMETRY API
   =============
   In an extension: lambda_telemetry_subscribe(ext, &tc) opens a small HTTP listener and
   subscribes it (PUT /2022-07-01/telemetry) to platform events, the function's log lines
   and/or the extensions' lines; each event of each POSTed batch reaches tc.on_event as
   type, time and record while lambda_extension_next waits. Details at >>telemetry-api;
   linked only when called.

   HTTP EVENTS, BATCHES, S3
   ========================
   lambda_http_serve(event, res, routes, n) answers API Gateway REST (payload 1.0), HTTP
   API (2.0), function URL and ALB events through one request model (method, decoded path
   and query, case-insensitive headers, cookies, route parameters, the decoded body) and one
   answer model (status, headers, cookies, text or binary body, written in the shape the
   source needs); lambda_batch_* writes partial batch failures (SQS, Kinesis, DynamoDB
   Streams), lambda_s3_key decodes S3 keys; lambda_scratch(res, n) is per-invocation memory
   (reused, no malloc). Manual: >>http-api. A program that calls none of it links none of it.

   RESPONSE STREAMING
   ==================
   lambda_stream_begin / lambda_stream_http_begin, then lambda_stream_write: each write is
   one HTTP chunk sent at once; details at >>stream-api.

   EXTENSIONS AND SHUTDOWN
   =======================
   lambda_extension_register / _next / _error / _free: the Extensions API, to write an
   external extension (a second static binary in /opt/extensions/); see >>extension-api.
   lambda_on_shutdown(&cfg, hook): SIGTERM before the sandbox shuts down runs hook(user)
   (see its declaration).

   MULTI-CONCURRENCY (Lambda Managed Instances)
   =================
   Compile with -DLAMBDA_THREADS -pthread: with AWS_LAMBDA_MAX_CONCURRENCY=N > 1 the runtime
   runs N worker threads, each with its own connection, buffers and /next loop, and calls
   the handler from all of them at once. The handler must then be thread-safe: ctx, event
   and res belong to the one invocation and may be used freely; anything shared through
   ctx->user or globals needs your own locking; _X_AMZN_TRACE_ID is not set (read
   ctx->trace_id); ctx->worker says which worker runs it; logs are JSON. The init hook runs
   once, before the workers start; max_invocations counts per worker. The first fatal
   error stops every worker. With lambda_on_shutdown, SIGTERM stops the idle workers at
   once, lets the busy ones finish and post, then runs the hook once. Without
   LAMBDA_THREADS no thread code is linked and N > 1 serves one invocation at a time (with
   one warning line).

   NOT SUPPORTED
   =============
   TLS (the Runtime API is plain HTTP on the sandbox's loopback), SnapStart restore hooks
   (provided.* runtimes have no SnapStart), the older Logs API (2020-08-15: the Telemetry
   API replaces it), TCP telemetry destinations.

   MAP OF THIS FILE
   ================
   Every part starts with a comment that begins ">>tag"; search for ">>tag" to get there.
     >>version         LAMBDA_RUNTIME_VERSION and its parts
     >>includes        the two headers the declarations need
     >>linkage         LAMBDA_API, LAMBDA_PRINTF
     >>types           lambda_str, LAMBDA_E_* errors, lambda_context, lambda_config
     >>api             lambda_start/_run, the response object, lambda_error, lambda_on_shutdown,
                       lambda_xray_error_cause, lambda_availability_zone_id
     >>log-api         lambda_log and its line formats, structured fields
     >>stream-api      lambda_stream_begin/_http_begin/_write
     >>extension-api   the Extensions API client
     >>metrics-api     EMF metrics: lambda_metric, dimensions, namespace, flush, units
     >>json-api        the JSON reader and writer (with their manual)
     >>telemetry-api   the Telemetry API client: subscribe, the listener, events, poll
     >>http-api        HTTP events (request, answer, router), batch answers, S3 keys,
                       base64 / percent / UTF-8, the per-invocation scratch area
     >>implementation  everything below is compiled only with LAMBDA_RUNTIME_IMPL
     >>config          the configuration macros' defaults, the allocator choice
     >>sysinc          system headers, private stand-ins for missing system macros
     >>core            private macros, page allocator, buffers, string helpers, the JSON string
                       escaper, the response object (append, printf, lambda_error, error
                       documents), lambda_strerror
     >>json            JSON scanner, path look-ups, getters, writer
     >>log             log settings, timestamps, line formatting, lambda_log, fields
     >>http            the HTTP/1.1 response parser (head, chunked decoder): pure, no I/O
     >>conn            one client connection: address parsing, connect, send, receive, read
                       a response, request heads, one exchange, status handling
     >>invoke          the runtime struct, trace environment, one invocation (GET /next, the
                       handler, the POSTs), the serve loop, lambda_remaining_ms
     >>stream          response streaming (chunks, error trailers), the HTTP prelude
     >>events          the scratch area, encodings, HTTP requests and answers, routing,
                       batch answers, S3 keys
     >>extension       the Extensions API client
     >>metrics         EMF documents (record, validate, split, write), the after-handler hook
     >>xray            the X-Ray error cause header on /error
     >>metadata        the Availability Zone ID from the metadata endpoint
     >>telemetry       the Telemetry API client: subscription, the listener, batches to events
     >>shutdown        the internal extension behind lambda_on_shutdown (SIGTERM)
     >>threads         LAMBDA_THREADS workers
     >>entry           lambda_run, lambda_start
     >>cleanup         #undef of every private macro
     >>history         every version's changes
     >>license         MIT

   RECENT CHANGES
   ==============
   0.3.1  2026-12-01  Doubles: the writer's powers of ten come from 39 bases (1 KB instead
                      of a 9.9 KB table: a program that writes doubles is 9 KB smaller,
                      the writer ~7 % slower). lambda_json_write_raw says when a raw value
                      nests too deep or is not UTF-8 (the depth limit is met first when
                      both apply). Fuzzing: sanitizer reports fail a run, FUZZ_FAST=1.
   0.3.0  2026-12-01  Errors name their cause: a handler that returns a code gets what it
                      means and the first failed call on its response in the message
                      (lambda_json_writer_error for any writer). Observability: EMF
                      metrics (lambda_metric ...), typed log fields (lambda_log_fields),
                      X-Ray error causes, lambda_availability_zone_id, a Telemetry API
                      client for extensions (lambda_telemetry_subscribe). JSON: a SIMD
                      structural scanner (SSE2/AVX2/NEON; out of -Os builds unless
                      LAMBDA_JSON_SIMD), values sealed so that look-ups from them skim
                      (lambda_json has a private fourth member: write {ptr, len, type, 0}),
                      16-byte unescape, shortest doubles without snprintf (Schubfach).
                      make fuzz-diff. 4 system calls per warm invocation (no poll
                      after a handler that answered at once), head parsing eight bytes at
                      a time: half the instructions per invocation. Head values trimmed
                      after a leading obs-fold; Connection: close wins over keep-alive.
   0.2.0  2026-12-01  lambda_json_get_string and lambda_json_get_int64 (look up and
                      convert in one call), lambda_error_str (no formatting); hello is
                      28 KiB: no printf, no stdio, no strerror table in the runtime's own
                      code (see FORMATTING), stdout line-buffered when used; small buffers
                      start in the runtime struct (VmHWM 72 -> 60 kB); one poll less per
                      invocation; implementation re-filed by concept (see the
                      map); no system macro defined for the including file any more.
                      Fixes: _X_AMZN_TRACE_ID right whatever user code did, never torn;
                      SIGTERM for the shutdown hook through a handler (no blocked signal:
                      children and other threads behave), drained across all workers;
                      Host is host:port; request ids escaped as Go escapes paths; bytes
                      appended before a stream begins are sent; stricter framing (bare
                      LF, control bytes in framing headers, trailers), lenient where the
                      RFCs say (HTTP/1.x, obs-fold); a 413 read after a cut-off send.
                      HTTP events (>>http-api): lambda_http_serve / _parse / _dispatch,
                      request look-ups, answers in each source's shape, a router;
                      lambda_batch_*, lambda_s3_key; lambda_scratch and
                      lambda_json_string_scratch; lambda_base64_*, lambda_percent_decode,
                      lambda_utf8_valid, lambda_response_append_base64;
                      lambda_json_writer_init_buf; quoted keys in JSON paths
                      (["a.b"]). Fix: the JSON string escaper overran its stack buffer
                      when a run of plain bytes followed ~40 escaped ones (hello too)
   0.1.0  2026-11-27  first release: runtime core, JSON scanner and writer, logging,
                      response streaming, Extensions API, shutdown hook, worker threads

   License: see the end of the file.
*/
#ifndef LAMBDA_RUNTIME_H
#define LAMBDA_RUNTIME_H

/* The implementation needs POSIX; under -std=c99 (strict ISO) ask for it, which works
   when this header comes before any system header. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#  define _POSIX_C_SOURCE 200809L
#endif

/* >>version */
#define LAMBDA_RUNTIME_VERSION_MAJOR 0
#define LAMBDA_RUNTIME_VERSION_MINOR 3
#define LAMBDA_RUNTIME_VERSION_PATCH 1
#define LAMBDA_RUNTIME_VERSION "0.3.1"

/* >>includes */
#include <stddef.h>
#include <stdint.h>

/* >>linkage */
#ifndef LAMBDA_API
#  if defined(LAMBDA_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define LAMBDA_API static __attribute__((unused))
#  elif defined(LAMBDA_STATIC)
#    define LAMBDA_API static
#  else
#    define LAMBDA_API extern
#  endif
#endif
#if defined(__GNUC__) || defined(__clang__)
#  define LAMBDA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define LAMBDA_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>types */

/* A byte range: `len` is the contract; `ptr` is also NUL-terminated wherever the
   runtime hands one out (a courtesy for printf and strcmp). Never owned by you. */
typedef struct lambda_str {
    const char *ptr;
    size_t len;
} lambda_str;

/* Every failure is a negative LAMBDA_E_* value; success is 0 (or a count). */
#define LAMBDA_ERRORS(X)                                                              \
    X(OK,        0,  "ok")                                                            \
    X(CONFIG,   -1,  "invalid lambda_config (is the handler NULL?)")                  \
    X(ENV,      -2,  "AWS_LAMBDA_RUNTIME_API is missing or malformed")                \
    X(CONNECT,  -3,  "cannot connect to the Runtime API")                             \
    X(IO,       -4,  "send/recv failed or the peer closed the connection")            \
    X(HTTP,     -5,  "malformed HTTP response from the Runtime API")                  \
    X(STATUS,   -6,  "the Runtime API answered with a fatal status")                  \
    X(TOO_BIG,  -7,  "payload exceeds the configured limit")                          \
    X(NOMEM,    -8,  "out of memory")                                                 \
    X(INIT,     -9,  "the init hook failed")                                          \
    X(HANDLER,  -10, "the handler reported an error")                                 \
    X(ARG,      -11, "invalid argument")                                              \
    X(NOT_FOUND,-12, "JSON key or index not found")                                   \
    X(TYPE,     -13, "JSON value has another type")                                   \
    X(RANGE,    -14, "number out of range")                                           \
    X(SYNTAX,   -15, "invalid JSON")                                                  \
    X(DEPTH,    -16, "JSON nested deeper than the limit")                             \
    X(UTF8,     -17, "invalid UTF-8 or lone surrogate in a JSON string")              \
    X(SPACE,    -18, "output buffer too small")                                       \
    X(STATE,    -19, "a call out of order (JSON writer misuse, no HTTP answer open...)")

typedef enum lambda_err {
#define LAMBDA__ERR_ENUM(name, val, msg) LAMBDA_E_##name = val,
    LAMBDA_ERRORS(LAMBDA__ERR_ENUM) /* the last one ends in a comma, which C99 and C++11 allow */
#undef LAMBDA__ERR_ENUM
} lambda_err;

/* What the handler gets to know about one invocation. Every lambda_str points into
   the runtime's buffers, is NUL-terminated, and is valid until the handler returns.
   Absent headers are empty strings (ptr != NULL, len == 0). */
typedef struct lambda_context {
    lambda_str request_id;           /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms;             /* Lambda-Runtime-Deadline-Ms: Unix epoch ms (0 if absent) */
    lambda_str invoked_function_arn; /* Lambda-Runtime-Invoked-Function-Arn */
    lambda_str trace_id;             /* Lambda-Runtime-Trace-Id (X-Ray), also in _X_AMZN_TRACE_ID */
    lambda_str client_context;       /* Lambda-Runtime-Client-Context (JSON), usually empty */
    lambda_str cognito_identity;     /* Lambda-Runtime-Cognito-Identity (JSON), usually empty */
    lambda_str tenant_id;            /* Lambda-Runtime-Aws-Tenant-Id, usually empty */
    lambda_str invocation_id;        /* Lambda-Runtime-Invocation-Id, echoed back by the runtime */
    lambda_str content_type;         /* Content-Type of the event (default application/json) */
    /* From the environment, the same for every invocation; never NULL ("" when unset). */
    const char *function_name;       /* AWS_LAMBDA_FUNCTION_NAME */
    const char *function_version;    /* AWS_LAMBDA_FUNCTION_VERSION */
    const char *log_group_name;      /* AWS_LAMBDA_LOG_GROUP_NAME */
    const char *log_stream_name;     /* AWS_LAMBDA_LOG_STREAM_NAME */
    int memory_limit_mb;             /* AWS_LAMBDA_FUNCTION_MEMORY_SIZE (0 when unset) */
    void *user;                      /* lambda_config.user */
    int log_json;                    /* AWS_LAMBDA_LOG_FORMAT is JSON (always with workers) */
    int log_level;                   /* AWS_LAMBDA_LOG_LEVEL as LAMBDA_LOG_* (default INFO) */
    int worker;                      /* 0, or 0..N-1 with N workers (LAMBDA_THREADS) */
} lambda_context;

/* The handler's output. Opaque: write to it with lambda_response_* and lambda_error. */
typedef struct lambda_response lambda_response;

/* Return 0 for success (the response body is sent), anything else for failure
   (usually `return lambda_error(res, ...)`). `event` is the raw event body: binary-safe
   (use len), NUL-terminated, valid until the handler returns. */
typedef int (*lambda_handler)(const lambda_context *ctx, lambda_str event, lambda_response *res);

/* Runs once before the first event. Return 0, or fail with
   `return lambda_error(err, "Runtime.ConfigInvalid", "...")`: the runtime posts it to
   /runtime/init/error and lambda_run returns LAMBDA_E_INIT. */
typedef int (*lambda_init_fn)(void *user, lambda_response *err);

/* Zero-initialise, then set what you need: every zero field means "the default". */
typedef struct lambda_config {
    lambda_handler handler;          /* required */
    void *user;                      /* handed to init and to every invocation (ctx->user) */
    lambda_init_fn init;             /* optional, runs once before the first /next */
    size_t max_event_size;           /* larger events fail (default LAMBDA_DEFAULT_MAX_EVENT) */
    size_t max_response_size;        /* larger ones fail (default LAMBDA_DEFAULT_MAX_RESPONSE) */
    unsigned long max_invocations;   /* stop after this many (default 0: run forever) */
    /* Set both with lambda_on_shutdown(&cfg, hook). The second is private: a pointer, so
       that only programs that call lambda_on_shutdown link the shutdown code. */
    void (*on_shutdown)(void *user);
    int (*lambda__shutdown_setup)(void *runtime);
    /* Private: the handler behind lambda_xray_error_cause's wrapper (handler), or NULL. */
    lambda_handler lambda__handler;
} lambda_config;

#define LAMBDA_DEFAULT_MAX_EVENT (8u * 1024u * 1024u)   /* 6 MB platform limit plus slack */
#define LAMBDA_DEFAULT_MAX_RESPONSE 6291556u           /* the platform's buffered limit */

/* >>api */

/* Runs the runtime loop with a default config. Returns an exit status for main():
   0 when it stopped normally, 1 on a fatal error (already logged on stderr). */
LAMBDA_API int lambda_start(lambda_handler handler);

/* Runs the runtime loop. Returns 0 when max_invocations were served, else a negative
   LAMBDA_E_* code after logging the reason on stderr. Owns no global state. */
LAMBDA_API int lambda_run(const lambda_config *cfg);

/* Human-readable text for a LAMBDA_E_* code ("not a LAMBDA_E_* code" for others). Never NULL. */
LAMBDA_API const char *lambda_strerror(int err);

/* Milliseconds left before the invocation's deadline (may be negative). */
LAMBDA_API int64_t lambda_remaining_ms(const lambda_context *ctx);

/* The Availability Zone ID the execution environment runs in ("use1-az1"; an AZ ID, the same
   zone in every account, not a name like "us-east-1a"), from the Lambda metadata endpoint:
   GET http://$AWS_LAMBDA_METADATA_API/2026-01-15/metadata/execution-environment with
   "Authorization: Bearer $AWS_LAMBDA_METADATA_TOKEN", field AvailabilityZoneID. Fetched on
   the first call (connect and answer bounded by 1 s each), then cached for the life of the
   runtime (once per worker with LAMBDA_THREADS). Empty ("", never NULL) when either variable
   is unset, or when the call fails: the failure is logged once, never fatal, and not
   retried. ctx: the handler's. Valid as long as the runtime. */
LAMBDA_API lambda_str lambda_availability_zone_id(const lambda_context *ctx);

/* Append bytes to the response body. Returns 0, LAMBDA_E_TOO_BIG (over
   max_response_size) or LAMBDA_E_NOMEM. Errors are sticky: after one, further appends
   fail and the invocation is reported as failed, so checking each call is optional. */
LAMBDA_API int lambda_response_append(lambda_response *res, const void *data, size_t len);
LAMBDA_API int lambda_response_printf(lambda_response *res, const char *fmt, ...)
    LAMBDA_PRINTF(2, 3);

/* Content-Type of the response (default "application/json"). Copied. Returns 0 or
   LAMBDA_E_ARG for a value with control bytes or longer than 255 bytes. */
LAMBDA_API int lambda_response_set_content_type(lambda_response *res, const char *content_type);

/* Drop the body written so far (content type and error state are kept). */
LAMBDA_API void lambda_response_clear(lambda_response *res);

/* Append `s` as a JSON string literal, quotes included, escaped. */
LAMBDA_API int lambda_response_append_json_string(lambda_response *res, const char *s, size_t len);

/* Fail the invocation: the runtime posts {"errorMessage", "errorType", "stackTrace":[]}
   to /error (or /init/error from an init hook), and the body written so far is discarded
   (once a stream has begun, the error goes out as its trailers instead). `error_type` is
   e.g. "InvalidEvent" or "Function.Timeout"; NULL means "Runtime.Unknown". The message
   is formatted with vsnprintf. Returns LAMBDA_E_HANDLER so that
   `return lambda_error(res, ...)` reads naturally. */
LAMBDA_API int lambda_error(lambda_response *res, const char *error_type, const char *fmt, ...)
    LAMBDA_PRINTF(3, 4);
/* lambda_error with a message as it is, not a format: links no printf (see FORMATTING). */
LAMBDA_API int lambda_error_str(lambda_response *res, const char *error_type, const char *message);

/* Opt in to a shutdown hook: the runtime registers an internal extension (no events) so
   that the platform sends SIGTERM before it shuts the sandbox down; when SIGTERM arrives
   while the runtime waits for the next event, it calls hook(cfg->user) once and lambda_run
   returns 0. During an invocation it waits until the handler has returned and its result
   is posted (with LAMBDA_THREADS workers: every worker's in-flight invocation; idle
   workers stop at once), then the hook runs once, in the thread of lambda_run. The
   platform allows about 300 ms (500 ms with internal extensions) from SIGTERM to SIGKILL:
   a handler still running then, and the hook, share that budget.
   How: a SIGTERM handler (SA_RESTART) writes one byte to a pipe the runtime watches, so
   the hook runs as ordinary code, never in the signal handler. No signal is blocked:
   threads of your own need nothing (the handler runs in whichever thread the kernel
   picks), and child processes start with the signal mask you had; a child forked without
   exec gets the default action back when SIGTERM reaches it. Do not install your own
   SIGTERM handler (it would replace the runtime's). Like any signal, SIGTERM can make a
   sleeping system call in a handler (nanosleep, poll) return early with EINTR. The
   handler is removed when lambda_run returns. */
LAMBDA_API void lambda_on_shutdown(lambda_config *cfg, void (*hook)(void *user));

/* Opt in to X-Ray error causes: every /error of a failed invocation then carries the header
   Lambda-Runtime-Function-XRay-Error-Cause with the cause document X-Ray shows for the fault,
       {"working_directory":"<cwd>","exceptions":[{"type":"<errorType>",
        "message":"<errorMessage>"}],"paths":[]}
   in ASCII (other characters as \u escapes, so it is a valid header value), at most 64 KiB
   (the message is cut to fit: the platform crops larger causes, and the other runtimes drop
   the header at 1 MiB). The /error body is unchanged. Call it after setting cfg->handler
   (it wraps the handler; with no handler yet it does nothing). An opt-in so that programs
   without it link none of it (hello stays 28 KiB). Works with lambda_metric and
   streaming. */
LAMBDA_API void lambda_xray_error_cause(lambda_config *cfg);

/* >>log-api
   lambda_log writes one line per call on stderr, formatted as the function's log
   configuration says: AWS_LAMBDA_LOG_FORMAT=JSON gives one JSON object per line,
   {"timestamp":"2026-11-27T03:58:11.123Z","level":"INFO","requestId":"...","message":"..."}
   (plus "tenantId" when there is one); otherwise a text line
   "2026-11-27T03:58:11.123Z <TAB> <request id> <TAB> INFO <TAB> message". Lines below
   AWS_LAMBDA_LOG_LEVEL (default INFO) are dropped. Formatting uses a fixed
   LAMBDA_LOG_LINE_MAX-byte buffer on the stack (no allocation); a longer message is cut
   and ends with "...". stdout is flushed first, so printf output stays in order.
   ctx may be NULL (no request id; the settings are then read from the environment).
   Thread-safe: one write() per line. */
enum {
    LAMBDA_LOG_TRACE, LAMBDA_LOG_DEBUG, LAMBDA_LOG_INFO,
    LAMBDA_LOG_WARN, LAMBDA_LOG_ERROR, LAMBDA_LOG_FATAL
};
LAMBDA_API void lambda_log(const lambda_context *ctx, int level, const char *fmt, ...)
    LAMBDA_PRINTF(3, 4);

/* STRUCTURED FIELDS. lambda_log_fields is lambda_log with key/value fields: in JSON mode
   each becomes a member of the line's object, after "message"; in text mode a logfmt pair
   after the message, key=value, the value quoted and escaped when it needs it ("" for an
   empty one, or one with a space, '=', '"', a control or a non-ASCII byte):

       lambda_log_field f[3];
       f[0] = lambda_field_str("bucket", bucket);
       f[1] = lambda_field_str("key", key);
       f[2] = lambda_field_int("size", size);
       lambda_log_fields(ctx, LAMBDA_LOG_INFO, f, 3, "object %s received", key);

   {"timestamp":"...","level":"INFO","requestId":"...","message":"object a b.txt received",
    "bucket":"my-bucket","key":"a b.txt","size":1024}
   2026-11-27T03:58:11.123Z <TAB> <id> <TAB> INFO <TAB> object a b.txt received
   bucket=my-bucket key="a b.txt" size=1024

   (the text line is one line). Values: strings (NULL is null in JSON, an empty value in
   text), int64, double (shortest form that reads back; NaN and infinities as the strings
   "NaN", "Infinity", "-Infinity"), bool (true/false). Strings are escaped exactly as JSON
   needs (invalid UTF-8 becomes U+FFFD), keys too; in JSON a key the line already has
   (timestamp, level, requestId, message, tenantId) gets a leading '_' instead of being a
   duplicate member; in text the bytes of a key that logfmt cannot hold (space, '=', '"',
   controls) become '_'. At most LAMBDA_LOG_MAX_FIELDS (64) fields are written. The line is built in
   the same fixed stack buffer as lambda_log's (no allocation): when it does not fit, the
   longest of the message and the string values is cut (ending in "...") until it does,
   and as a last resort fields are dropped from the end. */
#ifndef LAMBDA_LOG_MAX_FIELDS
#define LAMBDA_LOG_MAX_FIELDS 64
#endif
enum { LAMBDA_FIELD_STRING = 1, LAMBDA_FIELD_INT, LAMBDA_FIELD_DOUBLE, LAMBDA_FIELD_BOOL };
typedef struct lambda_log_field {
    const char *key;                 /* NUL-terminated; NULL: the field is skipped */
    int type;                        /* LAMBDA_FIELD_* */
    const char *str;                 /* STRING: the value (str_len bytes), NULL for null */
    size_t str_len;
    int64_t i;                       /* INT; BOOL (0 or 1) */
    double d;                        /* DOUBLE */
} lambda_log_field;
LAMBDA_API lambda_log_field lambda_field_str(const char *key, const char *value); /* NUL-ended */
LAMBDA_API lambda_log_field lambda_field_strn(const char *key, const char *value, size_t len);
LAMBDA_API lambda_log_field lambda_field_int(const char *key, int64_t value);
LAMBDA_API lambda_log_field lambda_field_double(const char *key, double value);
LAMBDA_API lambda_log_field lambda_field_bool(const char *key, int value);
LAMBDA_API void lambda_log_fields(const lambda_context *ctx, int level,
                                  const lambda_log_field *fields, size_t n, const char *fmt, ...)
    LAMBDA_PRINTF(5, 6);

/* >>stream-api
   Response streaming (function URLs with InvokeMode RESPONSE_STREAM,
   InvokeWithResponseStream, API Gateway response streaming). Call lambda_stream_begin
   once, then lambda_stream_write any number of times: each write goes out at once as
   one HTTP/1.1 chunk of POST .../response (Lambda-Runtime-Function-Response-Mode:
   streaming). When the handler returns 0 the stream is ended; if it called lambda_error
   after the first byte, the error goes out as the Lambda-Runtime-Function-Error-Type and
   Lambda-Runtime-Function-Error-Body (base64 JSON) trailers. An error before
   lambda_stream_begin is posted to /error as usual. The connection is closed after a
   streamed response. Returns 0 or a negative LAMBDA_E_* (LAMBDA_E_IO: the platform
   is gone; stop writing). After begin, every lambda_response_append / _printf /
   _append_json_string / lambda_json_writer call is sent at once as a chunk too (the
   response-size limit does not apply; the platform allows 200 MB, 2 MB/s after 6 MB).
   Bytes the handler appended before the stream began are not lost: they go out as the
   first chunk (after the prelude of lambda_stream_http_begin). A begin that fails (the
   Runtime API cannot be reached, a sticky append error, a bad argument) sends nothing
   and leaves the response as it was: content type, body and errors.
   The streaming code is linked only into programs that call lambda_stream_*. */
LAMBDA_API int lambda_stream_begin(lambda_response *res, const char *content_type);
/* Begins a stream for a function URL / API Gateway: content type
   application/vnd.awslambda.http-integration-response, then the prelude
   {"statusCode":N,"headers":{...},"cookies":[...]} and 8 NUL bytes. `headers` is
   NULL or a NULL-terminated array of name, value, name, value...; `cookies` is NULL or
   a NULL-terminated array of Set-Cookie values. */
LAMBDA_API int lambda_stream_http_begin(lambda_response *res, int status_code,
                                        const char *const *headers, const char *const *cookies);
LAMBDA_API int lambda_stream_write(lambda_response *res, const void *data, size_t len);

/* >>extension-api
   A client for the Extensions API (2020-01-01), for external extensions (a second
   binary in /opt/extensions/) written in C:

       lambda_extension *ext;
       lambda_extension_event ev;
       int events = LAMBDA_EXTENSION_INVOKE | LAMBDA_EXTENSION_SHUTDOWN;
       if (lambda_extension_register(&ext, "my-ext", events) != 0)
           return 1;
       while (lambda_extension_next(ext, &ev) == 0 && ev.type == LAMBDA_EXTENSION_INVOKE) { ... }
       ... flush ...
       lambda_extension_free(ext);

   `name` must be the extension's file name for external extensions. */
enum { LAMBDA_EXTENSION_INVOKE = 1, LAMBDA_EXTENSION_SHUTDOWN = 2 };
typedef struct lambda_extension lambda_extension; /* opaque */
typedef struct lambda_extension_event {
    int type;                        /* LAMBDA_EXTENSION_INVOKE or LAMBDA_EXTENSION_SHUTDOWN */
    int64_t deadline_ms;             /* Unix epoch ms */
    lambda_str request_id;           /* INVOKE */
    lambda_str invoked_function_arn; /* INVOKE */
    lambda_str tracing;              /* INVOKE: tracing.value (X-Ray), may be empty */
    lambda_str shutdown_reason;      /* SHUTDOWN: spindown, timeout or failure */
    lambda_str json;                 /* the whole event document */
} lambda_extension_event;            /* strings: unescaped, NUL-terminated, valid until next call */
/* Registers for `events` (LAMBDA_EXTENSION_* bits; 0 for none). Returns 0 and a new
   *out, or a negative LAMBDA_E_* after logging why. */
LAMBDA_API int lambda_extension_register(lambda_extension **out, const char *name, int events);
/* Blocks (no timeout) until the next event. 0, or negative (LAMBDA_E_STATUS on 500: exit). */
LAMBDA_API int lambda_extension_next(lambda_extension *ext, lambda_extension_event *ev);
/* Reports an init error (at_exit 0) or an exit error (at_exit 1); exit afterwards. */
LAMBDA_API int lambda_extension_error(lambda_extension *ext, int at_exit, const char *error_type,
                                      const char *fmt, ...) LAMBDA_PRINTF(4, 5);
/* The identifier the platform assigned (Lambda-Extension-Identifier). */
LAMBDA_API const char *lambda_extension_id(const lambda_extension *ext);
LAMBDA_API void lambda_extension_free(lambda_extension *ext);

/* >>metrics-api
   CloudWatch metrics without an agent: the Embedded Metric Format (EMF). Record metrics
   while the handler runs; when it returns, the runtime writes them to stdout as EMF JSON
   lines (before the result is posted), which CloudWatch Logs turns into metrics:

       lambda_metric_namespace(res, "MyApp");                     // default below
       lambda_metric_dimension(res, "FunctionName", ctx->function_name);
       lambda_metric(res, "Invocations", 1, LAMBDA_UNIT_COUNT);
       lambda_metric(res, "PayloadBytes", (double)event.len, LAMBDA_UNIT_BYTES);
       lambda_metric(res, "Latency", 12.5, LAMBDA_UNIT_MILLISECONDS); // again: a second value

   {"_aws":{"Timestamp":1764590291123,"CloudWatchMetrics":[{"Namespace":"MyApp",
    "Dimensions":[["FunctionName"]],"Metrics":[{"Name":"Invocations","Unit":"Count"},...]}]},
    "FunctionName":"my-fn","Invocations":1,"PayloadBytes":1234,"Latency":[12.5,9.75]}

   One document per line, each a complete EMF document: _aws.Timestamp (Unix ms, when the
   handler returned), one directive with the namespace, one dimension set (every dimension
   of the invocation; [[]] without any) and the metrics; every dimension and metric is a
   member of the root. A metric recorded several times has an array of values, in order.
   The spec's limits are kept by splitting: at most 100 metrics and 100 values per metric
   in a document (and about 200 KB; CloudWatch takes 256 KB), so 150 metrics, or one
   metric with 250 values, go out as 2 or 3 documents, each with the dimensions. Limits
   that cannot be split are errors: a 31st dimension (EMF allows 30), more than
   LAMBDA_METRICS_MAX (1000) metrics or LAMBDA_METRICS_MAX_VALUES (10000) values before a
   flush: LAMBDA_E_TOO_BIG, and the value is not recorded (one warning line per
   invocation says so). Names and values are checked as CloudWatch would:
     metric name   1..255 bytes of UTF-8 without control bytes, not only spaces, not "_aws",
                   not a dimension's name; a unit other than the first one for the name:
                   LAMBDA_E_ARG; a value that is NaN or infinite: LAMBDA_E_RANGE
     dimension     name 1..255 bytes, value 1..1024 bytes, printable ASCII, not only spaces,
                   the name not starting with ':', not "_aws", not a metric's name
                   (LAMBDA_E_ARG); setting a name again replaces its value
     namespace     1..255 bytes of A-Z a-z 0-9 . _ # : / - (LAMBDA_E_ARG); default: the
                   environment's AWS_EMF_NAMESPACE when valid, else "aws-embedded-metrics"
   Namespace, dimensions and metrics belong to one invocation: they are cleared after each
   flush. lambda_metrics_flush writes them at once (a long handler may flush as it goes);
   the automatic flush writes what is left. Metrics recorded in an init hook go out with
   the first invocation's. Each document is one write() on stdout, after stdout's own
   buffer is flushed (printf output stays in order); documents of concurrent workers never
   interleave. Memory: reused from one invocation to the next. Values are written with
   lambda_json_write_double (shortest digits, no printf). Linked only when called.
   Returns 0 or a negative LAMBDA_E_* (and never fails the invocation). */
#ifndef LAMBDA_METRICS_MAX
#define LAMBDA_METRICS_MAX 1000
#endif
#ifndef LAMBDA_METRICS_MAX_VALUES
#define LAMBDA_METRICS_MAX_VALUES 10000
#endif
enum { /* CloudWatch's units, as EMF spells them ("Bytes/Second" ...) */
    LAMBDA_UNIT_NONE, LAMBDA_UNIT_SECONDS, LAMBDA_UNIT_MICROSECONDS, LAMBDA_UNIT_MILLISECONDS,
    LAMBDA_UNIT_BYTES, LAMBDA_UNIT_KILOBYTES, LAMBDA_UNIT_MEGABYTES, LAMBDA_UNIT_GIGABYTES,
    LAMBDA_UNIT_TERABYTES, LAMBDA_UNIT_BITS, LAMBDA_UNIT_KILOBITS, LAMBDA_UNIT_MEGABITS,
    LAMBDA_UNIT_GIGABITS, LAMBDA_UNIT_TERABITS, LAMBDA_UNIT_PERCENT, LAMBDA_UNIT_COUNT,
    LAMBDA_UNIT_BYTES_PER_SECOND, LAMBDA_UNIT_KILOBYTES_PER_SECOND,
    LAMBDA_UNIT_MEGABYTES_PER_SECOND, LAMBDA_UNIT_GIGABYTES_PER_SECOND,
    LAMBDA_UNIT_TERABYTES_PER_SECOND, LAMBDA_UNIT_BITS_PER_SECOND,
    LAMBDA_UNIT_KILOBITS_PER_SECOND, LAMBDA_UNIT_MEGABITS_PER_SECOND,
    LAMBDA_UNIT_GIGABITS_PER_SECOND, LAMBDA_UNIT_TERABITS_PER_SECOND,
    LAMBDA_UNIT_COUNT_PER_SECOND
};
LAMBDA_API int lambda_metric(lambda_response *res, const char *name, double value, int unit);
LAMBDA_API int lambda_metric_dimension(lambda_response *res, const char *name, const char *value);
LAMBDA_API int lambda_metric_namespace(lambda_response *res, const char *ns);
LAMBDA_API int lambda_metrics_flush(lambda_response *res);
/* The EMF spelling of a LAMBDA_UNIT_* ("Count", "Bytes/Second"), NULL for another value. */
LAMBDA_API const char *lambda_unit_name(int unit);

/* >>json-api

   JSON

   READING. The scanner never allocates, never builds a tree and never modifies the
   input: every lambda_json is a slice of the document you passed in. Look values up by
   path, then convert them:

       char key[1024];
       int64_t size;
       if (lambda_json_get_string(event, "Records[0].s3.object.key", key, sizeof key, NULL) == 0 &&
           lambda_json_get_int64(event, "Records[0].s3.object.size", &size) == 0) { ... }

   or, for any other type and for walking, get a lambda_json and convert it:

       lambda_json v;
       if (lambda_json_get(event, "Records[0].eventTime", &v) == 0 && v.type == LAMBDA_JSON_STRING)

   Paths: keys separated by '.', indexes in brackets; a key that contains '.' or '[' goes
   in brackets and quotes: "[\"CodePipeline.job\"].data". A string that is itself JSON
   (an SQS body) unescapes into the scratch area: lambda_json_string_scratch (>>http-api).

   Strictness: RFC 8259 (no comments, no trailing commas, no leading zeros, no NaN, only
   SP/HT/CR/LF as whitespace, UTF-8 checked inside strings), nesting limited to
   LAMBDA_JSON_MAX_DEPTH. Escaped lone surrogates ("\ud800") pass the grammar check and are
   reported by the decoders (lambda_json_string: LAMBDA_E_UTF8).

   Laziness: lambda_json_get/find/key/index/next check every byte they read, from the start
   of the value you pass to the end of the value they return, with the same rules as
   lambda_json_validate, and nothing after it. They never read outside [ptr, ptr + len).
   Call lambda_json_validate once if the whole document must be well-formed.
   Bytes are checked once: every value the reader returns (get, find, key, index, next, and
   validate's root) carries a seal (a private field) saying its bytes were checked, and a
   look-up or a walk that starts from a sealed value skips over them instead of checking
   them again (iterating an array and looking a path up in each element reads each element
   at skimming speed, not three times checking it). Answers and errors stay those above: a
   value you make yourself or change (another ptr or len: a sub-range) has no seal and is
   checked. A value is good as long as its document's bytes are unchanged: write other
   bytes there and look the values up again (with old values, the answers are unspecified
   but stay inside the value). No memory is kept between calls; threads share nothing.

   Speed. On x86_64 (SSE2, or AVX2 when cpuid says so) and arm64 (NEON) a structural
   scanner reads 64 bytes at a time, in the manner of simdjson: validation, and look-ups
   that skip the members before the one they want (strings, nested containers) without
   reading them byte by byte; it answers only for what the byte-at-a-time scanner accepts
   and hands anything else back to it, so results and error offsets are the same on every
   path. Its code (2.7 to 3.6 KB) is left out of builds for size (-Os) unless
   LAMBDA_JSON_SIMD is defined: worth it for events of hundreds of KB (SQS, Kinesis, S3
   batches), not for a few hundred bytes. LAMBDA_JSON_SCALAR leaves it out everywhere.
   Numbers: make bench-json (README, JSON).

   WRITING. lambda_json_writer appends a document to a lambda_response, checks that the
   calls nest properly and keeps the first error (check only lambda_json_writer_finish):

       lambda_json_writer w;
       lambda_json_writer_init(&w, res);
       lambda_json_write_begin_object(&w);
       lambda_json_write_ckey(&w, "statusCode"); lambda_json_write_int64(&w, 200);
       lambda_json_write_ckey(&w, "body");       lambda_json_write_cstring(&w, "hi");
       lambda_json_write_end_object(&w);
       return lambda_json_writer_finish(&w);
*/

/* Maximum nesting of arrays/objects, for the reader and for the writer (whose struct
   holds one bit per level). Define it the same way in every file, or not at all. */
#ifndef LAMBDA_JSON_MAX_DEPTH
#define LAMBDA_JSON_MAX_DEPTH 512
#endif

typedef enum lambda_json_type {
    LAMBDA_JSON_NONE = 0,   /* no value: the result of a failed look-up */
    LAMBDA_JSON_NULL,
    LAMBDA_JSON_FALSE,
    LAMBDA_JSON_TRUE,
    LAMBDA_JSON_NUMBER,
    LAMBDA_JSON_STRING,
    LAMBDA_JSON_ARRAY,
    LAMBDA_JSON_OBJECT
} lambda_json_type;

/* One JSON value: its raw bytes in the document (strings include their quotes, and are
   still escaped). Points into the document: valid as long as the document is, and its
   bytes unchanged. Made by hand: {ptr, len, type, 0}, or zero it first. */
typedef struct lambda_json {
    const char *ptr;
    size_t len;
    lambda_json_type type;
    unsigned seal;          /* private: the reader's mark that these bytes were checked
                               (Laziness, above); a value you make yourself has seal 0 */
} lambda_json;

/* Walks the members of an array or object; see lambda_json_next. Fields are private. */
typedef struct lambda_json_iter {
    const char *p;          /* next byte to read */
    const char *end;        /* one past the container's closing bracket */
    lambda_json_type kind;  /* LAMBDA_JSON_ARRAY or LAMBDA_JSON_OBJECT */
    int state;              /* 0 start, 1 between members, 2 done, < 0 a LAMBDA_E_* code */
    int checked;            /* the container carries the reader's seal: skip, do not check */
    size_t index;           /* members returned so far (public: read it freely) */
} lambda_json_iter;

/* Builds one JSON document in a lambda_response (or a buffer of yours, or an HTTP body).
   Fields are private; zero-initialising is not enough, use lambda_json_writer_init. */
typedef struct lambda_json_writer {
    lambda_response *res;   /* where the bytes go; NULL: to sink instead */
    int (*sink)(struct lambda_json_writer *w, const char *data, size_t len);
    int (*escape)(struct lambda_json_writer *w, const char *s, size_t len); /* with sink */
    void *sink_ctx;         /* the sink's own state */
    char *buf;              /* lambda_json_writer_init_buf: the caller's buffer, cap bytes, */
    size_t cap, len;        /* len used (NUL-terminated) */
    int err;                /* first error (sticky), 0 if none */
    const char *err_call;   /* the public call that failed first (lambda_json_writer_error) */
    const char *err_why;    /* and why, or NULL: lambda_strerror(err) says it */
    lambda_response *note;  /* the response that is told of the first failure, or NULL */
    unsigned depth;         /* open arrays/objects */
    unsigned flags;         /* comma due / key due / document complete */
    unsigned char stack[(LAMBDA_JSON_MAX_DEPTH + 7) / 8]; /* one bit per level: 1 = object */
} lambda_json_writer;

/* ---- reading ---- */

/* Check that `doc` is exactly one JSON value (RFC 8259), with optional whitespace around.
   Returns:  0, or LAMBDA_E_SYNTAX / LAMBDA_E_DEPTH / LAMBDA_E_UTF8.
   Outputs:  *root (may be NULL) = the top-level value without the whitespace (type NONE on
             error); *err_offset (may be NULL) = byte offset of the first bad byte (doc.len
             when the input is truncated), 0 on success.
   Notes:    iterative: stack use does not grow with the nesting. */
LAMBDA_API int lambda_json_validate(lambda_str doc, lambda_json *root, size_t *err_offset);

/* Look up `path` from the root of `doc`: keys separated by '.', array indexes in brackets,
   e.g. "Records[0].s3.object.key", "requestContext.http.method", "[2]", or "" for the root.
   Returns:  0 and *out (may be NULL: presence test);
             LAMBDA_E_NOT_FOUND if a key or index is missing, or a step meets a value of the
               other kind (a key looked up in an array, a number, null ...);
             LAMBDA_E_SYNTAX for a malformed path or a malformed document (DEPTH and UTF8
               as in lambda_json_validate); LAMBDA_E_ARG if path is NULL.
   Lifetime: *out points into doc. On failure *out is {NULL, 0, LAMBDA_JSON_NONE}.
   Notes:    lazy (see READING above): bytes after the returned value are not checked.
             A key with '.' or '[' goes in brackets and quotes: "[\"CodePipeline.job\"].id",
             "claims[\"https://example.com/name\"]" (it cannot contain '"': use
             lambda_json_key for such keys).
             Keys are compared after unescaping; with duplicate keys the first one wins. */
LAMBDA_API int lambda_json_get(lambda_str doc, const char *path, lambda_json *out);

/* lambda_json_get starting at any value (e.g. one returned by lambda_json_get). */
LAMBDA_API int lambda_json_find(lambda_json v, const char *path, lambda_json *out);

/* lambda_json_get + lambda_json_string: the string at `path`, unescaped into buf (cap
   bytes) and NUL-terminated. Returns 0, or tells why not:
             LAMBDA_E_NOT_FOUND  no such key or index (absent);
             LAMBDA_E_TYPE       the value there is not a string;
             LAMBDA_E_SPACE      it does not fit (*out_len still says how long it is);
             LAMBDA_E_UTF8, LAMBDA_E_SYNTAX, LAMBDA_E_DEPTH, LAMBDA_E_ARG as below.
   On every failure buf is "" (when cap > 0) and *out_len (may be NULL) is 0 but for
   LAMBDA_E_SPACE. */
LAMBDA_API int lambda_json_get_string(lambda_str doc, const char *path, char *buf, size_t cap,
                                      size_t *out_len);

/* lambda_json_get + lambda_json_int64: 0, LAMBDA_E_NOT_FOUND (absent), LAMBDA_E_TYPE (not
   an integer: another type, or a number with a fraction or exponent), LAMBDA_E_RANGE (does
   not fit in int64_t), or a syntax code. *out is left unchanged on failure. */
LAMBDA_API int lambda_json_get_int64(lambda_str doc, const char *path, int64_t *out);

/* Member `key` (key_len bytes, may contain '.', '[' or NUL) of object `obj`.
   Returns:  0, LAMBDA_E_NOT_FOUND, LAMBDA_E_TYPE if obj is not an object, or a syntax code.
   Notes:    keys compared after unescaping ("a\u0062" matches "ab"); first duplicate wins. */
LAMBDA_API int lambda_json_key(lambda_json obj, const char *key, size_t key_len, lambda_json *out);

/* Element `i` (from 0) of array `arr`. Returns 0, LAMBDA_E_NOT_FOUND, LAMBDA_E_TYPE if arr
   is not an array, or a syntax code. Costs a scan of the elements before it. */
LAMBDA_API int lambda_json_index(lambda_json arr, size_t i, lambda_json *out);

/* Unescape string value `v` into buf (cap bytes) and NUL-terminate it.
   Returns:  0; LAMBDA_E_SPACE if len + 1 > cap; LAMBDA_E_TYPE if v is not a string;
             LAMBDA_E_UTF8 for a lone surrogate escape or invalid UTF-8; LAMBDA_E_SYNTAX for
             a malformed value. On every failure buf is "" (when cap > 0).
   Outputs:  *out_len (may be NULL) = unescaped length without the NUL, also on
             LAMBDA_E_SPACE (so buf = NULL, cap = 0 asks for the size); 0 on other errors.
   Notes:    \uXXXX and surrogate pairs become UTF-8. "\u0000" gives an embedded NUL:
             trust *out_len, not strlen. */
LAMBDA_API int lambda_json_string(lambda_json v, char *buf, size_t cap, size_t *out_len);

/* 1 if `v` is a string whose unescaped text equals the C string `s`, else 0 (also for
   non-strings, malformed strings and s == NULL). Needs no buffer. */
LAMBDA_API int lambda_json_string_eq(lambda_json v, const char *s);

/* Integer value of number `v`.
   Returns:  0; LAMBDA_E_TYPE if v is not a number or has a fraction or exponent (1.0, 1e3:
             use lambda_json_double); LAMBDA_E_RANGE outside [INT64_MIN, INT64_MAX]. */
LAMBDA_API int lambda_json_int64(lambda_json v, int64_t *out);

/* Value of number `v`, correctly rounded (by strtod), whatever the C locale.
   Returns:  0 (tiny values underflow to 0 or a subnormal); LAMBDA_E_RANGE if the magnitude
             overflows a double; LAMBDA_E_TYPE if v is not a number. */
LAMBDA_API int lambda_json_double(lambda_json v, double *out);

/* *out = 1 for true, 0 for false. Returns 0 or LAMBDA_E_TYPE. */
LAMBDA_API int lambda_json_bool(lambda_json v, int *out);

/* 1 if `v` is null, else 0. */
LAMBDA_API int lambda_json_is_null(lambda_json v);

/* Start walking array or object `container`. Never fails by itself: a non-container makes
   the first lambda_json_next return LAMBDA_E_TYPE. */
LAMBDA_API void lambda_json_iter_init(lambda_json_iter *it, lambda_json container);

/* Next member. Returns 1 with *value (and *key, a STRING value, for objects; NONE for
   arrays), 0 after the last one, or a negative LAMBDA_E_* for malformed input (then again
   on every later call). key and value may be NULL.
       lambda_json_iter it; lambda_json k, v;
       lambda_json_iter_init(&it, obj);
       while (lambda_json_next(&it, &k, &v) == 1) { ... } */
LAMBDA_API int lambda_json_next(lambda_json_iter *it, lambda_json *key, lambda_json *value);

/* ---- writing ---- */

/* Start a document in `res` (appended to whatever the body already holds). */
LAMBDA_API void lambda_json_writer_init(lambda_json_writer *w, lambda_response *res);

/* Start a document in buf (cap bytes, kept NUL-terminated; JSON text holds no NUL, so its
   length is strlen(buf)). A document that does not fit is LAMBDA_E_SPACE (sticky; buf then
   holds the part that fitted). buf == NULL or cap == 0 is LAMBDA_E_ARG. Needs no runtime:
   usable anywhere, e.g. for a message body of your own or a log line. */
LAMBDA_API void lambda_json_writer_init_buf(lambda_json_writer *w, char *buf, size_t cap);

/* Every write function returns 0 or the writer's first error, which is sticky:
   LAMBDA_E_STATE  misuse: a value where a key is due, a key outside an object, an end that
                   does not match the open container, nesting beyond LAMBDA_JSON_MAX_DEPTH,
                   anything after the top-level value is complete;
   LAMBDA_E_UTF8   a string or key that is not valid UTF-8 (reported rather than replaced:
                   the writer never changes your data behind your back);
   LAMBDA_E_RANGE  NaN or infinity; LAMBDA_E_SYNTAX (or DEPTH) for bad raw JSON;
   LAMBDA_E_ARG    NULL pointer with a non-zero length;
   or the error of lambda_response_append (LAMBDA_E_TOO_BIG, LAMBDA_E_NOMEM).
   Strings escape '"', '\\', bytes below 0x20 (\b \f \n \r \t, else \u00XX) and U+2028/U+2029
   (so the output can also be embedded in JavaScript). */
LAMBDA_API int lambda_json_write_begin_object(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_end_object(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_begin_array(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_end_array(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_key(lambda_json_writer *w, const char *key, size_t len);
LAMBDA_API int lambda_json_write_ckey(lambda_json_writer *w, const char *key); /* NUL-terminated */
LAMBDA_API int lambda_json_write_string(lambda_json_writer *w, const char *s, size_t len);
LAMBDA_API int lambda_json_write_cstring(lambda_json_writer *w, const char *s);     /* NULL: null */
LAMBDA_API int lambda_json_write_int64(lambda_json_writer *w, int64_t v);
/* The shortest decimal that reads back as the same double (the closest to it of those),
   laid out as %.17g would with max(15, its digits) for the precision: 0.1, 1e+21, 1e-07,
   5e-324, 1.2345678901234568e+20; '.' whatever the locale. No printf. */
LAMBDA_API int lambda_json_write_double(lambda_json_writer *w, double v);
LAMBDA_API int lambda_json_write_bool(lambda_json_writer *w, int v);
LAMBDA_API int lambda_json_write_null(lambda_json_writer *w);
/* A pre-encoded value (e.g. v.ptr, v.len of a lambda_json), checked with the rules of
   lambda_json_validate and copied without the surrounding whitespace. */
LAMBDA_API int lambda_json_write_raw(lambda_json_writer *w, const char *json, size_t len);

/* Returns 0 if exactly one complete, balanced value was written without error; else the
   first error, or LAMBDA_E_STATE for an unfinished document. */
LAMBDA_API int lambda_json_writer_finish(lambda_json_writer *w);

/* The first error and where it came from, for messages: returns it (0: none) and sets
   *call to the public call that failed first ("lambda_json_write_key") and *why to what
   was wrong ("a key outside an object"); both static strings, "" when there is no error.
   Either pointer may be NULL. A writer over a response also tells the response: a handler
   that returns the code without lambda_error gets both in its error message. */
LAMBDA_API int lambda_json_writer_error(const lambda_json_writer *w, const char **call,
                                        const char **why);

/* >>telemetry-api
   The Telemetry API (2022-07-01) for extensions: platform events (init, start, runtimeDone,
   report with its metrics...), the function's log lines and the extensions' lines, pushed
   in batches to a small HTTP listener in the extension:

       static void on_event(void *user, const lambda_telemetry_event *ev)
       {
           if (lambda_str_eq(ev->type, "platform.report")) ...  // ev->record: its object
       }
       lambda_telemetry_config tc = {0};
       tc.types = LAMBDA_TELEMETRY_PLATFORM | LAMBDA_TELEMETRY_FUNCTION;
       tc.on_event = on_event;
       if (lambda_telemetry_subscribe(ext, &tc) != 0) ...   // after lambda_extension_register
       while (lambda_extension_next(ext, &ev) == 0 && ev.type != LAMBDA_EXTENSION_SHUTDOWN) {}
       lambda_telemetry_poll(ext, 200);                      // what is still on its way

   lambda_telemetry_subscribe opens the listener, then sends PUT /2022-07-01/telemetry
   (Lambda-Extension-Identifier; schemaVersion 2022-12-13, the types, the buffering, and
   the destination {"protocol":"HTTP","URI":"http://sandbox.localdomain:<port>/"}, the only
   host the platform delivers to). The listener binds the address /etc/hosts gives
   sandbox.localdomain; without an entry, 127.0.0.1 when the Runtime API is on loopback (a
   local run: lambda-emu delivers to loopback), else 0.0.0.0 (inferred: the documentation
   names the host, not its address; the public extensions resolve the name, which the
   resolver finds in /etc/hosts first). It answers each POSTed batch
   (a JSON array of {"time","type","record"}) with 200 after calling on_event for each of
   its events in order; a batch that is not such an array, or a request that is not
   HTTP/1.x, gets 400 and the connection closes; anything but POST gets 405. It serves
   up to 8 keep-alive connections (more are closed: the platform retries), bodies with
   Content-Length or chunked up to 8 MiB, and drops a client that stalls for 2 s in the
   middle of a request (the wait holds up the extension for that long). Batches are served
   while lambda_extension_next waits (no thread: the wait polls the listener too) and
   while lambda_telemetry_poll runs. Returns 0, LAMBDA_E_ARG (bad config), LAMBDA_E_IO
   (no listener), LAMBDA_E_STATUS (the platform said no; 202 from an emulator that does
   not implement the API, as the RIE does) or another negative code, after logging why.
   One subscription per extension. The listener and its connections close with
   lambda_extension_free. Linked only when called. */
enum {
    LAMBDA_TELEMETRY_PLATFORM = 1,   /* "platform": platform.* events */
    LAMBDA_TELEMETRY_FUNCTION = 2,   /* "function": the function's stdout and stderr lines */
    LAMBDA_TELEMETRY_EXTENSION = 4   /* "extension": the extensions' lines */
};
typedef struct lambda_telemetry_event {
    lambda_str type;                 /* "platform.start", "platform.report", "function" ... */
    lambda_str time;                 /* when it happened, as sent: "2026-11-27T03:58:11.123Z" */
    lambda_json record;              /* its record: an object for platform.* events; for
                                        function and extension lines a string (text log
                                        format) or an object (JSON log format) */
    lambda_json event;               /* the whole event object */
} lambda_telemetry_event;            /* valid during the callback; strings NUL-terminated */
typedef void (*lambda_telemetry_fn)(void *user, const lambda_telemetry_event *ev);
typedef struct lambda_telemetry_config {
    int types;                       /* LAMBDA_TELEMETRY_* bits, at least one */
    lambda_telemetry_fn on_event;    /* required */
    void *user;                      /* on_event's first argument */
    int max_items;                   /* buffering: events per batch, 1000..10000 (0: 1000) */
    int max_bytes;                   /* bytes per batch, 262144..1048576 (0: 262144) */
    int timeout_ms;                  /* longest wait for a batch, 25..30000 ms (0: 1000) */
    int port;                        /* the listener's port (0: one the kernel picks) */
} lambda_telemetry_config;
LAMBDA_API int lambda_telemetry_subscribe(lambda_extension *ext,
                                          const lambda_telemetry_config *cfg);
/* Serve the listener for timeout_ms (0: only what is already there). Returns the number of
   events handed to on_event, or a negative LAMBDA_E_* (LAMBDA_E_STATE: not subscribed). */
LAMBDA_API int lambda_telemetry_poll(lambda_extension *ext, int timeout_ms);
/* The listener's port once subscribed, else 0. */
LAMBDA_API int lambda_telemetry_port(const lambda_extension *ext);
/* 1 if s is exactly the C string c (a convenience for ev->type), else 0. */
LAMBDA_API int lambda_str_eq(lambda_str s, const char *c);

/* >>http-api
   HTTP EVENTS, BATCHES, ENCODINGS

   One request model over API Gateway REST APIs (payload 1.0), HTTP APIs (payload 2.0),
   function URLs and Application Load Balancers, one response model that answers in the
   shape the request's source needs, and a small router:

       static int item(lambda_http_request *req)
       {
           lambda_str id;
           lambda_http_param(req, "id", &id);                    // from /items/{id}
           lambda_http_add_cookie(req, "seen=1; Path=/");
           return lambda_http_send(req, 200, "text/plain", id.ptr, id.len);
       }
       static const lambda_http_route routes[] = {{"GET", "/items/{id}", item}};

       static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
       {
           (void)ctx;
           return lambda_http_serve(event, res, routes, sizeof routes / sizeof routes[0]);
       }

   lambda_http_serve parses the event (not an HTTP event, or a malformed one: the
   invocation fails with InvalidEvent), routes it (no route: 404, a route for another
   method: 405 with Allow) and calls the route; a route that returns a negative LAMBDA_E_*
   without answering gets the matching 4xx/5xx (lambda_http_fail). Everything the request
   hands out (strings, the decoded body) is unescaped, NUL-terminated and lives in the
   per-invocation scratch area (lambda_scratch): valid until the handler returns, and no
   allocation per request once the area has grown to the working size.

   What each source sends, and what the request model makes of it:
     path       REST: already decoded by API Gateway. HTTP API, function URL, ALB: as the
                client sent it, percent-decoded here (path style: '+' stays '+'). An HTTP
                API's named stage (not $default) prefixes the path with "/<stage>": the
                prefix is removed from `path` (it stays in raw_path).
     query      REST: decoded by API Gateway (multiValueQueryStringParameters). HTTP API and
                function URL: rawQueryString, form-decoded here ('+' is a space); the
                decoded queryStringParameters would join repeated names with commas. ALB:
                passed still percent-encoded, names too: form-decoded here.
     headers    case-insensitive names. REST and multi-value ALB: every value of a repeated
                header; HTTP API and function URLs: repeated headers joined with commas,
                cookies apart (the `cookies` array).
     source IP  requestContext.http.sourceIp / identity.sourceIp; ALB sends none: the last
                X-Forwarded-For entry (the address ALB saw).
   Answers: payload 2.0 {"statusCode","headers","cookies","body","isBase64Encoded"}; REST
   adds "multiValueHeaders" for repeated headers (several Set-Cookie); ALB adds
   "statusDescription" ("200 OK") and, when the request came with multi-value headers,
   sends all headers as "multiValueHeaders" (without them a header name has one value:
   repeated values are joined with ", ", and of several cookies only the last is sent).
   Streaming answers stay lambda_stream_http_begin (>>stream-api).

   BATCHES: lambda_batch_begin / _fail / _end write the partial batch failure answer of
   SQS, Kinesis and DynamoDB Streams ({"batchItemFailures":[{"itemIdentifier":..}]}) while
   the records are walked; lambda_s3_key decodes an S3 event's object key.
   ENCODINGS: base64, percent-decoding and UTF-8 validation into buffers of your own. */

#ifndef LAMBDA_HTTP_MAX_PARAMS   /* {name} segments one route can capture */
#define LAMBDA_HTTP_MAX_PARAMS 8
#endif
#ifndef LAMBDA_HTTP_MAX_BODY     /* largest decoded request body (6 MiB, the platform's) */
#define LAMBDA_HTTP_MAX_BODY 6291456u
#endif

/* ---- the per-invocation scratch area ---- */

/* n bytes (16-byte aligned) of runtime-owned memory, valid until the handler returns (in an
   init hook: until the first invocation's handler returns). The area is made of blocks
   from the runtime's allocator that are kept and reused, reset before each invocation:
   once it has grown to what an invocation needs, it allocates nothing. One area per
   runtime (each LAMBDA_THREADS worker has its own). Returns NULL when out of memory.
   Linked only into programs that call it (directly or through the functions below). */
LAMBDA_API void *lambda_scratch(lambda_response *res, size_t n);

/* String value `v` unescaped into the scratch area: *out is NUL-terminated (it may hold
   NULs: "\u0000"). Returns 0, LAMBDA_E_TYPE (not a string), LAMBDA_E_UTF8, LAMBDA_E_SYNTAX
   or LAMBDA_E_NOMEM; *out is "" on failure. E.g. an SQS record's body that is itself JSON. */
LAMBDA_API int lambda_json_string_scratch(lambda_response *res, lambda_json v, lambda_str *out);

/* ---- encodings: into buffers of yours; out may be the input itself (decoding shrinks) ---- */

/* Standard base64 (RFC 4648 section 4, with padding) of data[0..len) into out (cap bytes),
   NUL-terminated. Returns 0 or LAMBDA_E_SPACE (*out_len, may be NULL, is then the length
   needed, without the NUL). */
LAMBDA_API int lambda_base64_encode(const void *data, size_t len, char *out, size_t cap,
                                    size_t *out_len);
/* Decode standard base64: padding optional but, when present, complete; no whitespace,
   no URL alphabet, no stray bits in the last character. Writes *out_len bytes and a NUL
   (cap >= bytes + 1). Returns 0, LAMBDA_E_SYNTAX (not base64: nothing usable is written),
   or LAMBDA_E_SPACE (*out_len = the decoded length). */
LAMBDA_API int lambda_base64_decode(const char *s, size_t len, void *out, size_t cap,
                                    size_t *out_len);
/* Append the base64 of data[0..len) to the response body (errors as lambda_response_append). */
LAMBDA_API int lambda_response_append_base64(lambda_response *res, const void *data, size_t len);

enum { LAMBDA_PERCENT_PATH = 0, LAMBDA_PERCENT_FORM = 1 }; /* FORM: '+' is a space too */
/* Percent-decode s[0..len) into out (cap >= decoded length + 1; NUL-terminated).
   Returns 0, LAMBDA_E_SYNTAX for a '%' not followed by two hex digits, or LAMBDA_E_SPACE
   (*out_len = the decoded length). The bytes are not checked: see lambda_utf8_valid. */
LAMBDA_API int lambda_percent_decode(const char *s, size_t len, int mode, char *out, size_t cap,
                                     size_t *out_len);
/* 0 if s[0..len) is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF),
   else LAMBDA_E_UTF8 with *err_offset (may be NULL) = the offset of the first bad byte. */
LAMBDA_API int lambda_utf8_valid(const char *s, size_t len, size_t *err_offset);

/* ---- HTTP requests ---- */

typedef enum lambda_http_source {
    LAMBDA_HTTP_NONE = 0,   /* not parsed, or not an HTTP event */
    LAMBDA_HTTP_REST,       /* API Gateway REST API, or HTTP API with payload format 1.0 */
    LAMBDA_HTTP_API,        /* API Gateway HTTP API, payload format 2.0 */
    LAMBDA_HTTP_URL,        /* Lambda function URL (payload format 2.0) */
    LAMBDA_HTTP_ALB         /* Application Load Balancer target group */
} lambda_http_source;

struct lambda__http_hdr; /* a response header or cookie, in the scratch area */

/* Private state of a request and of its answer. */
typedef struct lambda__http_state {
    lambda_json headers, mheaders, query, mquery, params, cookies;
    size_t ncaps;                                /* route captures */
    lambda_str cap_name[LAMBDA_HTTP_MAX_PARAMS], cap_value[LAMBDA_HTTP_MAX_PARAMS];
    unsigned allow;                              /* methods of routes matching the path */
    size_t skip;                                 /* stage prefix bytes of raw_path */
    int state;                                   /* answer: 0 none, 1 text, 2 binary, 3 sent */
    int status;
    int err;                                     /* the first failed write (sticky) */
    unsigned char carry[4];                      /* a UTF-8 character or base64 triple cut */
    size_t ncarry;
    struct lambda__http_hdr *hdrs, *last;
} lambda__http_state;

/* One HTTP request, parsed in place by lambda_http_parse. Read the public fields freely;
   every lambda_str is NUL-terminated and valid until the handler returns. */
typedef struct lambda_http_request {
    lambda_http_source source;
    int multi_value;          /* the request came with multiValueHeaders (REST; ALB opt-in) */
    lambda_str method;        /* "GET" */
    lambda_str path;          /* decoded, without an HTTP API's stage prefix: "/items/a b" */
    lambda_str raw_path;      /* as the source sent it: "/prod/items/a%20b" (REST: decoded) */
    lambda_str raw_query;     /* HTTP API, function URL: rawQueryString; else "" */
    lambda_str stage;         /* requestContext.stage ("prod", "$default"); ALB: "" */
    lambda_str source_ip;     /* the client's address (ALB: last X-Forwarded-For entry) */
    lambda_str body;          /* the body's bytes, base64-decoded (binary-safe: use len) */
    int body_base64;          /* the body came base64-encoded (isBase64Encoded) */
    int path_error;           /* 0, or why raw_path did not decode (LAMBDA_E_SYNTAX: a bad
                                 %-escape; LAMBDA_E_UTF8: not UTF-8 or %00): path = raw_path
                                 then, and lambda_http_serve answers 400 */
    lambda_json event;        /* the whole event */
    lambda_response *res;     /* the invocation's response: answers go here */
    const lambda_context *ctx;
    lambda__http_state lambda__s; /* private */
} lambda_http_request;

/* Parse an HTTP event: detect its source, find method, path, query, headers, cookies and
   body, decode what needs decoding (into the scratch area of res).
   Returns:  0; LAMBDA_E_TYPE when the event is not one of the four HTTP sources;
             LAMBDA_E_SYNTAX / _DEPTH / _UTF8 for malformed JSON or a body that is not
             base64 although isBase64Encoded says so; LAMBDA_E_TOO_BIG for a body over
             LAMBDA_HTTP_MAX_BODY; LAMBDA_E_NOMEM. (A path that does not decode is not a
             failure: see path_error.) */
LAMBDA_API int lambda_http_parse(lambda_http_request *req, lambda_str event, lambda_response *res);

/* Look-ups. Each returns 0 and *out, or LAMBDA_E_NOT_FOUND (*out = ""); decoding failures
   are LAMBDA_E_SYNTAX (bad %-escape) or LAMBDA_E_UTF8 (decoded text not UTF-8), and
   LAMBDA_E_NOMEM. `i` picks among repeated values (0 = the first).
   header: name compared case-insensitively; query: by decoded name, value decoded;
   cookie: from the cookies array (2.0) or the Cookie headers; value as sent;
   param: a {name} the route captured (decoded), else the event's pathParameters. */
LAMBDA_API int lambda_http_header(const lambda_http_request *req, const char *name, size_t i,
                                  lambda_str *out);
LAMBDA_API int lambda_http_query(const lambda_http_request *req, const char *name, size_t i,
                                 lambda_str *out);
LAMBDA_API int lambda_http_cookie(const lambda_http_request *req, const char *name,
                                  lambda_str *out);
LAMBDA_API int lambda_http_param(const lambda_http_request *req, const char *name,
                                 lambda_str *out);
/* The body as a JSON document: lambda_json_validate(req->body, root, NULL). */
LAMBDA_API int lambda_http_body_json(const lambda_http_request *req, lambda_json *root);

/* ---- HTTP answers ---- */

/* Add a response header (repeat a name to send it several times) or a cookie (a
   Set-Cookie value: "id=42; Path=/; HttpOnly"), at any time before the answer is sent.
   Copied. Returns 0, LAMBDA_E_ARG (a name that is not an HTTP token, a value with control
   bytes), LAMBDA_E_UTF8, LAMBDA_E_STATE (already sent) or LAMBDA_E_NOMEM. */
LAMBDA_API int lambda_http_add_header(lambda_http_request *req, const char *name,
                                      const char *value);
LAMBDA_API int lambda_http_add_cookie(lambda_http_request *req, const char *set_cookie);
/* Add the cookie name=value (value[0..len), percent-encoded where RFC 6265 allows no
   byte: controls, space, '"', ',', ';', '\\', '%' and non-ASCII), then "; " and
   `attributes` unless NULL ("Path=/; Max-Age=3600"). Returns as lambda_http_add_cookie. */
LAMBDA_API int lambda_http_set_cookie(lambda_http_request *req, const char *name, const char *value,
                                      size_t len, const char *attributes);

/* One-call answers: status (100..599), Content-Type (NULL: none) and the body. _send
   sends text (LAMBDA_E_UTF8 if it is not UTF-8); _send_binary sends any bytes, base64
   with "isBase64Encoded":true. Return 0 or a LAMBDA_E_* (response errors are sticky, see
   lambda_response_append). */
LAMBDA_API int lambda_http_send(lambda_http_request *req, int status, const char *content_type,
                                const void *body, size_t len);
LAMBDA_API int lambda_http_send_binary(lambda_http_request *req, int status,
                                       const char *content_type, const void *body, size_t len);

/* A body written piece by piece, straight into the answer (escaped, or base64-encoded, as
   it goes: no buffer of yours): _begin (text) or _begin_binary, then lambda_http_write and
   lambda_http_body_writer any number of times, then lambda_http_end. A UTF-8 character may
   be cut between two writes. _begin discards any body written before. */
LAMBDA_API int lambda_http_begin(lambda_http_request *req, int status, const char *content_type);
LAMBDA_API int lambda_http_begin_binary(lambda_http_request *req, int status,
                                        const char *content_type);
LAMBDA_API int lambda_http_write(lambda_http_request *req, const void *data, size_t len);
/* A JSON writer whose document goes into the body being written (after lambda_http_begin):
       lambda_json_writer w;
       lambda_http_begin(req, 200, "application/json");
       lambda_http_body_writer(req, &w);
       lambda_json_write_begin_object(&w); ...; lambda_json_write_end_object(&w);
       return lambda_json_writer_finish(&w) ? lambda_http_fail(req, LAMBDA_E_STATE)
                                            : lambda_http_end(req); */
LAMBDA_API void lambda_http_body_writer(lambda_http_request *req, lambda_json_writer *w);
/* Finish the answer: headers, cookies and the rest of the envelope. */
LAMBDA_API int lambda_http_end(lambda_http_request *req);

/* Ready-made answers (text/plain, the reason phrase as the body): 404; 405 with
   Allow: `allow` (e.g. "GET, POST"); and lambda_http_fail, the answer for a LAMBDA_E_*
   code: 400 for undecodable input (SYNTAX, UTF8, TYPE, RANGE, ARG, DEPTH), 404
   (NOT_FOUND), 413 (TOO_BIG, SPACE), else 500; an HTTP status 400..599 is sent as it is.
   They replace whatever answer was begun (headers and cookies included). Return 0 or a
   LAMBDA_E_* (LAMBDA_E_STATE for a request that was not parsed). */
LAMBDA_API int lambda_http_not_found(lambda_http_request *req);
LAMBDA_API int lambda_http_method_not_allowed(lambda_http_request *req, const char *allow);
LAMBDA_API int lambda_http_fail(lambda_http_request *req, int err);

/* ---- routing ---- */

/* A route: method ("GET"; NULL or "*": any), pattern of '/'-separated segments, each
   literal or {name} (one segment, captured decoded) or, last, {name+} (the rest of the
   path), and the function that answers (return 0, or a LAMBDA_E_* code: see
   lambda_http_serve). Patterns are matched against the request's path segment by
   segment (an encoded '/' inside a segment stays in it). */
typedef int (*lambda_http_handler)(lambda_http_request *req);
typedef struct lambda_http_route {
    const char *method;
    const char *pattern;
    lambda_http_handler handler;
} lambda_http_route;

/* Call the first route that matches req (method and pattern). Returns its result, or
   LAMBDA_E_NOT_FOUND without answering when none matches (then lambda_http_allowed says
   whether another method would have matched). */
LAMBDA_API int lambda_http_dispatch(lambda_http_request *req, const lambda_http_route *routes,
                                    size_t count);
/* After a lambda_http_dispatch that found nothing: the methods of the routes whose pattern
   matched ("GET, POST") into buf (cap bytes); 0, LAMBDA_E_NOT_FOUND (no pattern matched),
   or LAMBDA_E_SPACE. */
LAMBDA_API int lambda_http_allowed(const lambda_http_request *req, const lambda_http_route *routes,
                                   size_t count, char *buf, size_t cap);
/* The whole handler: parse (not an HTTP event or a malformed one: lambda_error_str
   InvalidEvent; a body over the limit: 413; a path that does not decode: 400), route
   (nothing: 404, or 405 with Allow), call the route. After the route: an answer it began
   and did not end is ended; a negative code without an answer (and without lambda_error)
   gets lambda_http_fail's; 0 without an answer is a 500. Returns 0 once an answer is
   written (a response error such as an answer over max_response_size is still reported,
   see lambda_response_append), or the route's code after lambda_error (the invocation
   then fails with that error). */
LAMBDA_API int lambda_http_serve(lambda_str event, lambda_response *res,
                                 const lambda_http_route *routes, size_t count);

/* ---- batches and S3 ---- */

/* Partial batch failures (SQS with ReportBatchItemFailures, Kinesis, DynamoDB Streams):
       lambda_json_writer w;
       lambda_batch_begin(&w, res);                          // {"batchItemFailures":[
       while (lambda_json_next(&it, NULL, &rec) == 1)
           if (process(rec) != 0) lambda_batch_fail(&w, rec);
       return lambda_batch_end(&w);                          // ]}, or the writer's error
   lambda_batch_fail writes {"itemIdentifier":..} with the record's id: messageId (SQS),
   kinesis.sequenceNumber (Kinesis), dynamodb.SequenceNumber (DynamoDB Streams), chosen by
   its eventSource (else the first of them present); LAMBDA_E_NOT_FOUND without one.
   lambda_batch_fail_id writes an id of your own. */
LAMBDA_API void lambda_batch_begin(lambda_json_writer *w, lambda_response *res);
LAMBDA_API int lambda_batch_fail(lambda_json_writer *w, lambda_json record);
LAMBDA_API int lambda_batch_fail_id(lambda_json_writer *w, const char *id, size_t len);
LAMBDA_API int lambda_batch_end(lambda_json_writer *w);

/* An S3 event record's object key (s3.object.key), decoded: S3 sends it form-encoded
   ("my+file%3F.txt" is "my file?.txt"). Into the scratch area. Returns 0,
   LAMBDA_E_NOT_FOUND, LAMBDA_E_SYNTAX (bad %-escape), LAMBDA_E_UTF8 or LAMBDA_E_NOMEM. */
LAMBDA_API int lambda_s3_key(lambda_response *res, lambda_json record, lambda_str *out);

#ifdef __cplusplus
}
#endif
#endif /* LAMBDA_RUNTIME_H */

/* ======================================================================================
   >>implementation
   ====================================================================================== */
#if defined(LAMBDA_RUNTIME_IMPL) && !defined(LAMBDA_RUNTIME_IMPL_INCLUDED)
#define LAMBDA_RUNTIME_IMPL_INCLUDED

/* >>config */
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#  define LAMBDA__PAGES 1 /* the runtime's own page allocator (lambda__mem_*) is available */
#endif
#if defined(LAMBDA_MALLOC) && defined(LAMBDA_REALLOC) && defined(LAMBDA_FREE)
/* user-provided allocator */
#elif !defined(LAMBDA_MALLOC) && !defined(LAMBDA_REALLOC) && !defined(LAMBDA_FREE)
#  ifdef LAMBDA__PAGES
#    define LAMBDA_MALLOC(sz) lambda__mem_realloc(NULL, sz)
#    define LAMBDA_REALLOC(p, sz) lambda__mem_realloc(p, sz)
#    define LAMBDA_FREE(p) lambda__mem_free(p)
#  else
#    include <stdlib.h>
#    define LAMBDA_MALLOC(sz) malloc(sz)
#    define LAMBDA_REALLOC(p, sz) realloc(p, sz)
#    define LAMBDA_FREE(p) free(p)
#  endif
#else
#  error "lambda_runtime.h: define all of LAMBDA_MALLOC, LAMBDA_REALLOC and LAMBDA_FREE, or none"
#endif
#ifndef LAMBDA_MAX_HEAD_SIZE        /* largest response head (status line + headers) accepted */
#  define LAMBDA_MAX_HEAD_SIZE 65536
#endif
#ifndef LAMBDA_MAX_ID_SIZE          /* longest request id accepted */
#  define LAMBDA_MAX_ID_SIZE 1024
#endif
#ifndef LAMBDA_LOG_LINE_MAX         /* longest log line lambda_log writes (stack buffer) */
#  define LAMBDA_LOG_LINE_MAX 4096
#endif
#ifndef LAMBDA_RECV_SIZE            /* bytes asked of each recv() */
#  define LAMBDA_RECV_SIZE 65536
#endif

/* The JSON scanner's SIMD kernels (>>json): x86_64 and arm64 with gcc or clang. They cost
   about 3 KB of code, so a build for size (-Os, __OPTIMIZE_SIZE__: the bootstraps' build
   line) leaves them out unless LAMBDA_JSON_SIMD asks for them; LAMBDA_JSON_SCALAR leaves
   them out of any build. Same results either way, the byte-at-a-time scanner is slower. */
#if !defined(LAMBDA_JSON_SCALAR) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__aarch64__)) && \
    (!defined(__OPTIMIZE_SIZE__) || defined(LAMBDA_JSON_SIMD))
#  define LAMBDA__JSON_SIMD 1
#endif
/* The reader's seals (>>json: look-ups in a value it returned skip without checking
   again): in every build but those for size, where they would cost hello its budget. */
#if defined(LAMBDA__JSON_SIMD) || !defined(__OPTIMIZE_SIZE__)
#  define LAMBDA__JSON_SEAL 1
#endif

/* >>sysinc */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <errno.h>
#include <time.h>
#if defined(__GLIBC__) && !defined(__USE_POSIX199309)
#  error "lambda_runtime.h needs POSIX: -D_POSIX_C_SOURCE=200809L, -std=gnu99, or include it first"
#endif
#include <unistd.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/time.h>
#include <signal.h>
#include <fcntl.h>
#ifdef LAMBDA_THREADS
#  include <pthread.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#ifdef LAMBDA_GETADDRINFO
#  include <netdb.h>
#endif
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#  include <sys/syscall.h>
#  ifndef __cplusplus
extern long syscall(long, ...); /* declared here so that -D_POSIX_C_SOURCE builds see it */
#  endif
#endif
#ifdef LAMBDA__PAGES
#  include <sys/mman.h>
#endif
#if defined(LAMBDA__JSON_SIMD) && defined(__x86_64__)
#  include <immintrin.h>
#elif defined(LAMBDA__JSON_SIMD)
#  include <arm_neon.h>
#endif
#ifndef __cplusplus
extern char **environ; /* POSIX; declared here so that -D_POSIX_C_SOURCE builds see it */
#endif
/* System macros that some feature levels hide, under private names (nothing is defined in
   the including file's namespace): */
#ifdef MSG_NOSIGNAL
#  define LAMBDA__MSG_NOSIGNAL MSG_NOSIGNAL
#else
#  define LAMBDA__MSG_NOSIGNAL 0
#endif
#ifdef SOCK_CLOEXEC
#  define LAMBDA__SOCK_CLOEXEC SOCK_CLOEXEC
#else
#  define LAMBDA__SOCK_CLOEXEC 0
#endif
#ifdef MAP_ANONYMOUS
#  define LAMBDA__MAP_ANON MAP_ANONYMOUS
#else
#  define LAMBDA__MAP_ANON 0x20 /* Linux, x86_64 and arm64; hidden by -D_POSIX_C_SOURCE=200809L */
#endif

/* >>core: private macros, memory, buffers, strings, the response object */
#if defined(__GNUC__) || defined(__clang__)
#  define LAMBDA__PRIVATE static __attribute__((unused))
#  define LAMBDA__INLINE static inline __attribute__((unused, always_inline)) /* hot, even at -Os */
#else
#  define LAMBDA__PRIVATE static
#  define LAMBDA__INLINE static
#endif
#define LAMBDA__MIN(a, b) ((a) < (b) ? (a) : (b))
#define LAMBDA__DEF(v, d) ((v) ? (v) : (d))
#define LAMBDA__LIT(s) (s), (sizeof(s) - 1)      /* a string literal, then its length */
#define LAMBDA__NO_LIMIT ((size_t)-1 / 2)        /* "no limit" for a buffer (sums never overflow) */
#define LAMBDA__MAX_API_BODY ((size_t)1 << 20)   /* answers to POSTs and to Extensions API calls */
enum { LAMBDA__INCOMPLETE = 1 }; /* private "need more bytes"; never leaves the HTTP reader */
enum { LAMBDA__SHUTDOWN = 2 };   /* private: SIGTERM arrived while waiting for /next */

#ifdef LAMBDA__PAGES
/* The default allocator on Linux: pages straight from the kernel. A block is a private
   anonymous mapping with its size in a 16-byte header; growing it is mremap (no copy,
   and a 6 MB event leaves no heap behind), freeing it returns it to the kernel. The
   runtime makes a handful of blocks and reuses them, so page granularity costs little,
   and a program whose handler never calls malloc links no malloc at all. */
LAMBDA__PRIVATE void *lambda__mem_realloc(void *p, size_t n)
{
    size_t *h = p ? (size_t *)p - 2 : NULL, size;
    void *m;
    if (n > LAMBDA__NO_LIMIT) return NULL;
    size = (n + 2 * sizeof(size_t) + 4095) & ~(size_t)4095;
    if (h && h[0] >= size) return p;
    if (h)
        m = (void *)syscall(SYS_mremap, (long)h, (long)h[0], (long)size, 1L /* MREMAP_MAYMOVE */);
    else m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | LAMBDA__MAP_ANON, -1, 0);
    if (m == MAP_FAILED) return NULL;
    h = (size_t *)m;
    h[0] = size;
    return h + 2;
}

LAMBDA__PRIVATE void lambda__mem_free(void *p)
{
    if (p) munmap((size_t *)p - 2, ((size_t *)p - 2)[0]);
}
#endif

/* A growable byte buffer. ptr is NUL-terminated whenever cap > 0. It may start in storage
   of its owner (lambda__buf_use), so that small buffers cost no page of their own, and
   moves to the allocator when it outgrows that. */
typedef struct lambda__buf {
    char *ptr;
    size_t len, cap;
    int fixed;                  /* ptr is the owner's storage, not LAMBDA_MALLOC's */
} lambda__buf;

LAMBDA__PRIVATE void lambda__buf_use(lambda__buf *b, char *storage, size_t cap)
{
    b->ptr = storage;
    b->ptr[0] = '\0';
    b->len = 0;
    b->cap = cap;
    b->fixed = 1;
}

/* Make room for `extra` more bytes (+1 for the courtesy NUL), never beyond `max` bytes
   of content. Returns 0, LAMBDA_E_TOO_BIG or LAMBDA_E_NOMEM. */
LAMBDA__PRIVATE int lambda__buf_reserve(lambda__buf *b, size_t extra, size_t max)
{
    size_t need, cap;
    char *p;
    if (b->len > max || extra > max - b->len) return LAMBDA_E_TOO_BIG;
    need = b->len + extra + 1;
    if (need <= b->cap) return LAMBDA_E_OK;
    cap = b->cap ? b->cap : 1024;
    while (cap < need) cap = (cap > ((size_t)-1) / 4) ? need : cap * 2;
    if (cap > max + 1) cap = max + 1;
    p = (char *)(b->fixed ? LAMBDA_MALLOC(cap) : LAMBDA_REALLOC(b->ptr, cap));
    if (p == NULL) return LAMBDA_E_NOMEM;
    if (b->fixed) memcpy(p, b->ptr, b->len + 1);
    b->ptr = p;
    b->cap = cap;
    b->fixed = 0;
    return LAMBDA_E_OK;
}

LAMBDA__PRIVATE int lambda__buf_add(lambda__buf *b, const void *p, size_t n, size_t max)
{
    int rc = lambda__buf_reserve(b, n, max);
    if (rc) return rc;
    if (n) memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return LAMBDA_E_OK;
}

LAMBDA__PRIVATE int lambda__buf_str(lambda__buf *b, const char *s)
{
    return lambda__buf_add(b, s, strlen(s), LAMBDA__NO_LIMIT);
}

LAMBDA__PRIVATE void lambda__buf_free(lambda__buf *b)
{
    if (!b->fixed) LAMBDA_FREE(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->fixed = 0;
}

LAMBDA__PRIVATE int lambda__lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Case-insensitive compare of p[0..n) with the lowercase C string `lc`. */
LAMBDA__PRIVATE int lambda__ieq(const char *p, size_t n, const char *lc)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lc[i] == '\0' || lambda__lower((unsigned char)p[i]) != lc[i]) return 0;
    return lc[n] == '\0';
}

/* `v` in base 10 or 16 (lowercase) at out, NUL-terminated (out has room for 21 bytes).
   Returns the number of digits. */
LAMBDA__PRIVATE size_t lambda__utoa(char *out, uint64_t v, unsigned base)
{
    char tmp[24];
    size_t n = 0, i;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Parse an unsigned decimal with no sign, no spaces and no overflow. */
LAMBDA__PRIVATE int lambda__parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0) return LAMBDA_E_HTTP;
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9) return LAMBDA_E_HTTP;
        if (v > (UINT64_MAX - d) / 10) return LAMBDA_E_RANGE;
        v = v * 10 + d;
    }
    *out = v;
    return LAMBDA_E_OK;
}

LAMBDA__PRIVATE int lambda__hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lambda__lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Bit sets over ASCII, bit c of the 16 bytes: RFC 9110 tchar (the bytes of a header name),
   and what Go's net/url leaves unescaped in a path (A-Z a-z 0-9 - . _ ~ $ & + , : ; = @; see
   lambda__req_begin). A table lookup: no strchr per byte. */
static const unsigned char lambda__tchar_bits[16] = {0x00, 0x00, 0x00, 0x00, 0xfa, 0x6c, 0xff,
                                                     0x03, 0xfe, 0xff, 0xff, 0xc7, 0xff, 0xff,
                                                     0xff, 0x57};
static const unsigned char lambda__path_bits[16] = {0x00, 0x00, 0x00, 0x00, 0x50, 0x78, 0xff, 0x2f,
                                                    0xff, 0xff, 0xff, 0x87, 0xfe, 0xff, 0xff, 0x47};

/* c: an unsigned char value (a macro: it runs for every byte of a header name) */
#define LAMBDA__IN_BITS(bits, c) ((c) < 128 && (((bits)[(c) >> 3] >> ((c) & 7)) & 1))

LAMBDA__PRIVATE int lambda__is_tchar(int c)
{
    return c >= 0 && LAMBDA__IN_BITS(lambda__tchar_bits, c);
}

LAMBDA__PRIVATE int lambda__is_path_byte(int c)
{
    return c >= 0 && LAMBDA__IN_BITS(lambda__path_bits, c);
}

/* Length (2..4) of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid or cut by
   `end`. Rejects overlongs, UTF-16 surrogates and code points above U+10FFFF. */
LAMBDA__PRIVATE int lambda__utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int n, i;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (end - p < n || p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* getenv(name), or NULL. Not libc's: musl's links strchrnul (340 bytes with it) to stop a
   name at '=', and the runtime's names have none. */
LAMBDA__PRIVATE const char *lambda__getenv(const char *name)
{
    size_t n = strlen(name);
    char **e;
    for (e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/* The environment variable, or "" when unset. */
LAMBDA__PRIVATE const char *lambda__env(const char *name)
{
    const char *v = lambda__getenv(name);
    return v ? v : "";
}

/* A positive decimal environment variable (at most 9 digits), else 0. */
LAMBDA__PRIVATE int lambda__env_int(const char *name)
{
    const char *v = lambda__env(name);
    int n = 0, i;
    for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 9; i++) n = n * 10 + v[i] - '0';
    return v[i] ? 0 : n;
}

/* stdout, without linking it: the runtime looks at stdout only when the program itself
   uses it (weak references: a program that never prints links no stdio). Then stdout is
   line-buffered from the start (lambda__stdout_setup), so a printed line goes out at
   once and belongs to its invocation, and is flushed after each handler when fflush is
   linked too (any call to it links it). */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
static FILE *lambda__weak_stdout __attribute__((weakref("stdout")));
static int lambda__weak_fflush(FILE *f) __attribute__((weakref("fflush")));
#  define LAMBDA__STDOUT (&lambda__weak_stdout != NULL ? lambda__weak_stdout : NULL)
#  define LAMBDA__FFLUSH lambda__weak_fflush
#else
#  define LAMBDA__STDOUT stdout
#  define LAMBDA__FFLUSH fflush
#endif

LAMBDA__PRIVATE void lambda__stdout_setup(void)
{
    if (LAMBDA__STDOUT != NULL) (void)setvbuf(LAMBDA__STDOUT, NULL, _IOLBF, 0);
}

LAMBDA__PRIVATE void lambda__stdout_flush(void)
{
    if (LAMBDA__STDOUT != NULL && LAMBDA__FFLUSH != NULL) (void)LAMBDA__FFLUSH(LAMBDA__STDOUT);
}

/* A vsnprintf: the C library's, for the public printf-style calls, or lambda__vfmt. */
typedef int (*lambda__vformat)(char *out, size_t cap, const char *fmt, va_list ap);

/* The runtime's own formatter, for its log lines and error messages: %s, %.*s, %d, %u,
   %ld, %lu and %% (anything else prints "?"). As vsnprintf: at most cap - 1 bytes and a
   NUL, returns the length the whole text has. With it, a program that never calls a
   printf-style function itself links no printf at all. */
LAMBDA__PRIVATE int lambda__vfmt(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t n = 0, i, len;
    for (; *fmt; fmt++) {
        const char *str = fmt;
        char num[24];
        size_t prec = (size_t)-1;
        int lng;
        len = 1;
        if (*fmt == '%') {
            if (fmt[1] == '.' && fmt[2] == '*') {
                int p = va_arg(ap, int);
                prec = p < 0 ? (size_t)-1 : (size_t)p;
                fmt += 2;
            }
            lng = *++fmt == 'l';
            fmt += lng;
            str = num;
            if (*fmt == 's') {
                str = va_arg(ap, const char *);
                if (str == NULL) str = "(null)";
                for (len = 0; len < prec && str[len]; len++) {}
            } else if (*fmt == 'd') {
                long d = lng ? va_arg(ap, long) : va_arg(ap, int);
                num[0] = '-';
                len = d < 0;
                len +=
                    lambda__utoa(num + len, d < 0 ? 0ul - (unsigned long)d : (unsigned long)d, 10);
            } else if (*fmt == 'u') {
                len = lambda__utoa(num, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10);
            } else {
                num[0] = *fmt == '%' ? '%' : '?';
                if (*fmt == '\0') break;
            }
        }
        for (i = 0; i < len; i++, n++)
            if (n + 1 < cap) out[n] = str[i];
    }
    if (cap) out[n < cap ? n : cap - 1] = '\0';
    return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

LAMBDA__PRIVATE int lambda__fmt(char *out, size_t cap, const char *fmt, ...) LAMBDA_PRINTF(3, 4);
LAMBDA__PRIVATE int lambda__fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = lambda__vfmt(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* The name of an errno value ("ECONNREFUSED"), for log lines without the C library's
   strerror table: the few a Runtime API connection meets, "errno <n>" for the others.
   buf: 24 bytes. */
LAMBDA__PRIVATE const char *lambda__errno_name(int e, char *buf)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case EPIPE: return "EPIPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    default:
        memcpy(buf, "errno ", 6);
        lambda__utoa(buf + 6, (uint64_t)(e < 0 ? 0 : e), 10);
        return buf;
    }
}

struct lambda__conn; /* >>conn */

/* The handler's output. The body is sent as the answer, or, after lambda_error, replaced
   by the error document. */
struct lambda__logger;

struct lambda_response {
    lambda__buf body;
    size_t max;                 /* max_response_size (LAMBDA__NO_LIMIT for error documents) */
    int append_err;             /* the first failed append (sticky), 0 if none */
    int failed;                 /* lambda_error was called: error_text holds it */
    /* The first public call on this response (or its writers) that failed, and why: named
       in the error message when the handler returns a code without lambda_error, and in a
       warning when it returns 0. explain is set by the first such failure, so that programs
       whose calls never note one link none of this (see LINK-TIME OPT-INS). */
    const char *cause_call, *cause_why;
    void (*explain)(lambda_response *res, struct lambda__logger *log);
    lambda__buf error_text;     /* "<type>\0<message>" */
    size_t error_type_len;
    char content_type[256];
    /* Streaming (>>stream). conn and ctx are set for the handler's call only (NULL in an
       init hook, where nothing can be streamed). */
    struct lambda__conn *conn;  /* the connection the stream goes out on */
    const lambda_context *ctx;  /* the invocation it answers */
    int streaming;              /* the stream's head went out: appends are chunks */
    /* Set by lambda__stream_open, so that programs that never stream link no streaming
       code (see LINK-TIME OPT-INS): do not call the stream functions directly. */
    int (*chunk)(lambda_response *res, const void *data, size_t len);
    int (*finish)(lambda_response *res);
};

enum { /* lambda__json_escape flags */
    LAMBDA__JSON_QUOTE = 1,  /* add the surrounding quotes */
    LAMBDA__JSON_REPLACE = 2 /* invalid UTF-8 -> U+FFFD (else LAMBDA_E_UTF8, nothing appended) */
};

/* Append s[0..len) JSON-escaped to res (with quotes under LAMBDA__JSON_QUOTE). Invalid
   UTF-8 is LAMBDA_E_UTF8 with nothing appended, or one U+FFFD per bad byte under
   LAMBDA__JSON_REPLACE (what the runtime uses for error messages it must deliver). */
LAMBDA__PRIVATE int lambda__json_escape(lambda_response *res, const char *s, size_t len, int flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    char buf[256];
    size_t n = 0;
    int rc;
    if (s == NULL && len) return LAMBDA_E_ARG;
    if (!(flags & LAMBDA__JSON_REPLACE)) {
        const unsigned char *q = p;
        while (q < end) {
            if (*q < 0x80) q++;
            else {
                int k = lambda__utf8_len(q, end);
                if (k == 0) return LAMBDA_E_UTF8;
                q += k;
            }
        }
    }
    if (flags & LAMBDA__JSON_QUOTE) buf[n++] = '"';
    while (p < end) {
        unsigned c = *p;
        const unsigned char *r = p;
        while (r < end && *r >= 0x20 && *r < 0x80 && *r != '"' && *r != '\\') r++;
        if (r != p) { /* a plain run */
            size_t k = (size_t)(r - p);
            if (n + k > sizeof buf - 16) { /* n may already be past sizeof buf - 16 */
                if (n && (rc = lambda_response_append(res, buf, n)) != 0) return rc;
                n = 0;
                if (k > sizeof buf - 16) {
                    if ((rc = lambda_response_append(res, p, k)) != 0) return rc;
                    p = r;
                    continue;
                }
            }
            memcpy(buf + n, p, k);
            n += k;
            p = r;
            continue;
        }
        if (n > sizeof buf - 16) {
            if ((rc = lambda_response_append(res, buf, n)) != 0) return rc;
            n = 0;
        }
        if (c < 0x80) {
            char e = 0;
            switch (c) {
            case '"': e = '"'; break;
            case '\\': e = '\\'; break;
            case '\b': e = 'b'; break;
            case '\f': e = 'f'; break;
            case '\n': e = 'n'; break;
            case '\r': e = 'r'; break;
            case '\t': e = 't'; break;
            default: break;
            }
            buf[n++] = '\\';
            if (e) buf[n++] = e;
            else {
                memcpy(buf + n, LAMBDA__LIT("u00"));
                buf[n + 3] = hex[c >> 4];
                buf[n + 4] = hex[c & 15];
                n += 5;
            }
            p++;
        } else {
            int k = lambda__utf8_len(p, end);
            if (k == 0) { /* only under LAMBDA__JSON_REPLACE */
                memcpy(buf + n, LAMBDA__LIT("\xEF\xBF\xBD"));
                n += 3;
                p++;
            } else if (k == 3 && c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                memcpy(buf + n, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                n += 6;
                p += 3;
            } else {
                memcpy(buf + n, p, (size_t)k);
                n += (size_t)k;
                p += k;
            }
        }
    }
    if (flags & LAMBDA__JSON_QUOTE) buf[n++] = '"';
    return n ? lambda_response_append(res, buf, n) : 0;
}

/* A fresh response for the next invocation (buffers kept). */
LAMBDA__PRIVATE void lambda__response_reset(lambda_response *res)
{
    res->body.len = 0;
    if (res->body.ptr) res->body.ptr[0] = '\0';
    res->append_err = 0;
    res->failed = 0;
    res->cause_call = NULL;
    res->cause_why = NULL;
    res->error_text.len = 0;
    res->error_type_len = 0;
    res->streaming = 0;
    res->conn = NULL;
    res->ctx = NULL;
    memcpy(res->content_type, "application/json", sizeof "application/json");
}

LAMBDA__PRIVATE void lambda__response_free(lambda_response *res)
{
    lambda__buf_free(&res->body);
    lambda__buf_free(&res->error_text);
}

LAMBDA_API int lambda_response_append(lambda_response *res, const void *data, size_t len)
{
    int rc;
    if (res->append_err) return res->append_err;
    if (res->streaming) return res->chunk(res, data, len);
    rc = lambda__buf_add(&res->body, data, len, res->max);
    if (rc) res->append_err = rc;
    return rc;
}

LAMBDA_API int lambda_response_printf(lambda_response *res, const char *fmt, ...)
{
    va_list ap, ap2;
    int n, rc = 0;
    size_t room, max = res->streaming ? LAMBDA__NO_LIMIT : res->max;
    if (res->append_err) return res->append_err;
    if (res->streaming) res->body.len = 0;
    if ((rc = lambda__buf_reserve(&res->body, 0, max)) != 0) return res->append_err = rc;
    room = res->body.cap - res->body.len;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(res->body.ptr + res->body.len, room, fmt, ap);
    if (n >= 0 && (size_t)n >= room) {
        rc = lambda__buf_reserve(&res->body, (size_t)n, max);
        if (rc == 0) n = vsnprintf(res->body.ptr + res->body.len, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    va_end(ap);
    if (rc == 0 && n < 0) rc = LAMBDA_E_ARG;
    if (rc) {
        res->body.ptr[res->body.len] = '\0';
        return res->append_err = rc;
    }
    if (res->streaming) { /* formatted in the idle body buffer, then sent as one chunk */
        rc = res->chunk(res, res->body.ptr + res->body.len, (size_t)n);
        res->body.ptr[res->body.len] = '\0';
        return rc;
    }
    res->body.len += (size_t)n;
    return 0;
}

LAMBDA_API int lambda_response_append_json_string(lambda_response *res, const char *s, size_t len)
{
    return lambda__json_escape(res, s, len, LAMBDA__JSON_QUOTE);
}

LAMBDA_API int lambda_response_set_content_type(lambda_response *res, const char *ct)
{
    size_t i, n = ct ? strlen(ct) : 0;
    if (n == 0 || n >= sizeof res->content_type) return LAMBDA_E_ARG;
    for (i = 0; i < n; i++)
        if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] == 0x7f) return LAMBDA_E_ARG;
    memcpy(res->content_type, ct, n + 1);
    return 0;
}

LAMBDA_API void lambda_response_clear(lambda_response *res)
{
    res->body.len = 0;
    if (res->body.ptr) res->body.ptr[0] = '\0';
    if (res->append_err == LAMBDA_E_TOO_BIG) res->append_err = 0;
}

/* Start recording an error: "<type>\0" in error_text. Returns 0, or -1 out of memory (the
   error document then falls back to Runtime.Unknown / "unknown error"). */
LAMBDA__PRIVATE int lambda__error_begin(lambda_response *res, const char *type)
{
    lambda__buf *e = &res->error_text;
    size_t tl;
    if (type == NULL || *type == '\0') type = "Runtime.Unknown";
    tl = strlen(type);
    res->failed = 1;
    res->error_type_len = 0;
    e->len = 0;
    if (lambda__buf_add(e, type, tl + 1, LAMBDA__NO_LIMIT) != 0) {
        e->len = 0;
        return -1;
    }
    res->error_type_len = tl;
    return 0;
}

/* Record an error with a formatted message: lambda_error (vsnprintf) and the runtime's
   own (lambda__vfmt). */
LAMBDA__PRIVATE void lambda__set_error(lambda_response *res, const char *type, lambda__vformat f,
                                       const char *fmt, va_list ap)
{
    lambda__buf *e = &res->error_text;
    int n, rc;
    va_list ap2;
    if (lambda__error_begin(res, type) != 0) return;
    if (fmt == NULL) fmt = "";
    va_copy(ap2, ap);
    n = f(e->ptr + e->len, e->cap - e->len, fmt, ap);
    if (n >= 0 && (size_t)n >= e->cap - e->len) {
        rc = lambda__buf_reserve(e, (size_t)n, LAMBDA__NO_LIMIT);
        if (rc == 0) n = f(e->ptr + e->len, e->cap - e->len, fmt, ap2);
        else n = -1;
    }
    va_end(ap2);
    if (n < 0) e->ptr[e->len] = '\0';
    else e->len += (size_t)n;
}

LAMBDA__PRIVATE void lambda__fail(lambda_response *res, const char *type, const char *fmt, ...)
    LAMBDA_PRINTF(3, 4);
LAMBDA__PRIVATE void lambda__fail(lambda_response *res, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lambda__set_error(res, type, lambda__vfmt, fmt, ap);
    va_end(ap);
}

LAMBDA__PRIVATE void lambda__explain(lambda_response *res, struct lambda__logger *log);

/* Remember the first public call on res that failed (static strings), for the message of
   a handler that returns its code without lambda_error. */
LAMBDA__PRIVATE void lambda__note(lambda_response *res, const char *call, const char *why)
{
    if (res && res->cause_call == NULL) {
        res->cause_call = call;
        res->cause_why = why;
        if (res->explain == NULL) res->explain = lambda__explain; /* or lambda__obs_after */
    }
}

LAMBDA_API int lambda_error(lambda_response *res, const char *error_type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lambda__set_error(res, error_type, vsnprintf, fmt, ap);
    va_end(ap);
    return LAMBDA_E_HANDLER;
}

LAMBDA_API int lambda_error_str(lambda_response *res, const char *error_type, const char *message)
{
    if (lambda__error_begin(res, error_type) == 0 && message)
        (void)lambda__buf_add(&res->error_text, message, strlen(message), LAMBDA__NO_LIMIT);
    return LAMBDA_E_HANDLER;
}

/* The error recorded in res as the JSON error document, written over res's body buffer
   (whatever the body held is discarded). Built in a scratch response that borrows the
   buffer: no size limit, never streamed. Invalid UTF-8 in the message or type becomes
   U+FFFD, so the document is always valid JSON. *type_out = the error type. */
LAMBDA__PRIVATE int lambda__error_doc(lambda_response *res, const char **type_out)
{
    const char *type = "Runtime.Unknown", *msg = "unknown error";
    size_t type_len = sizeof "Runtime.Unknown" - 1, msg_len = sizeof "unknown error" - 1;
    lambda_response doc;
    int rc;
    /* without error_text (out of memory) the document says Runtime.Unknown */
    if (res->failed && res->error_text.ptr && res->error_text.len > res->error_type_len) {
        type = res->error_text.ptr;
        type_len = res->error_type_len;
        msg = res->error_text.ptr + type_len + 1;
        msg_len = res->error_text.len - type_len - 1;
    }
    *type_out = type;
    memset(&doc, 0, sizeof doc);
    doc.body = res->body;
    doc.body.len = 0;
    doc.max = LAMBDA__NO_LIMIT;
    lambda_response_append(&doc, LAMBDA__LIT("{\"errorMessage\":"));
    lambda__json_escape(&doc, msg, msg_len, LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE);
    lambda_response_append(&doc, LAMBDA__LIT(",\"errorType\":"));
    lambda__json_escape(&doc, type, type_len, LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE);
    rc = lambda_response_append(&doc, LAMBDA__LIT(",\"stackTrace\":[]}"));
    res->body = doc.body; /* the buffer may have grown */
    return rc;
}

/* The error type as a header value: printable ASCII only, else a generic one. */
LAMBDA__PRIVATE const char *lambda__header_safe_type(const char *type)
{
    const char *p;
    if (*type == '\0' || strlen(type) > 128) return "Runtime.Unknown";
    for (p = type; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) return "Runtime.Unknown";
    return type;
}

/* The texts one after the other, each ending in a NUL: no table of pointers (the codes
   run 0, -1, -2 ... without a gap, which lambda_strerror relies on). */
#define LAMBDA__ERR_TEXT(name, val, msg) msg "\0"
#define LAMBDA__ERR_ONE(name, val, msg) +1
static const char lambda__err_texts[] = LAMBDA_ERRORS(LAMBDA__ERR_TEXT);
enum { LAMBDA__E_COUNT = 0 LAMBDA_ERRORS(LAMBDA__ERR_ONE) };
#undef LAMBDA__ERR_TEXT
#undef LAMBDA__ERR_ONE

LAMBDA_API const char *lambda_strerror(int err)
{
    const char *p = lambda__err_texts;
    if (err > 0 || err <= -LAMBDA__E_COUNT) return "not a LAMBDA_E_* code";
    for (; err < 0; err++) p += strlen(p) + 1;
    return p;
}
/* >>json: scanner, path look-ups, getters, writer. Helpers are lambda__json_* and lambda__jw_*. */

#define LAMBDA__JW_COMMA 1u      /* writer: a member was written at this level */
#define LAMBDA__JW_KEY   2u      /* writer: in an object and a key is due */
#define LAMBDA__JW_DONE  4u      /* writer: the top-level value is complete */
#define LAMBDA__JSON_DIGITS 800  /* significant digits kept when parsing a double (>= 768) */

LAMBDA__PRIVATE int lambda__json_err(const char **pp, const char *at, int rc)
{
    *pp = at;
    return rc;
}

LAMBDA__PRIVATE const char *lambda__json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

LAMBDA__PRIVATE int lambda__json_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

LAMBDA__PRIVATE int lambda__json_hex4(const char *p)
{
    int v = 0, i;
    for (i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

LAMBDA__PRIVATE int lambda__json_hex_ok(unsigned c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

LAMBDA__PRIVATE int lambda__json_put_utf8(unsigned long cp, unsigned char *u)
{
    if (cp < 0x80) { u[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Scan the string token whose opening quote is at *pp. On success *pp is past the closing
   quote. The 8-bytes-at-a-time loop skips runs of plain ASCII (no '"', '\\', control or
   high bytes); memcpy keeps the load legal for any alignment. */
LAMBDA__PRIVATE int lambda__json_scan_str(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp + 1;
    const unsigned char *e = (const unsigned char *)end;
    const uint64_t ones = (uint64_t)0x0101010101010101ULL, high = (uint64_t)0x8080808080808080ULL;
    for (;;) {
        unsigned c;
        while (e - p >= 8) {
            uint64_t x, q, b;
            memcpy(&x, p, 8);
            q = x ^ (ones * 0x22);
            b = x ^ (ones * 0x5C);
            if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & high)
                break;
            p += 8;
        }
        if (p >= e) return lambda__json_err(pp, end, LAMBDA_E_SYNTAX);
        c = *p;
        if (c == '"') {
            *pp = (const char *)p + 1;
            return 0;
        } else if (c == '\\') {
            if (e - p < 2) return lambda__json_err(pp, end, LAMBDA_E_SYNTAX);
            c = p[1];
            if (c == 'u') {
                if (e - p < 6) { /* cut short, or not hex at all? */
                    const unsigned char *h = p + 2;
                    while (h < e && lambda__json_hex_ok(*h)) h++;
                    return lambda__json_err(pp, h == e ? end : (const char *)p, LAMBDA_E_SYNTAX);
                }
                if (lambda__json_hex4((const char *)p + 2) < 0)
                    return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
                p += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                p += 2;
            } else {
                return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
            }
        } else if (c < 0x20) {
            return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
        } else if (c < 0x80) {
            p++;
        } else {
            int n = lambda__utf8_len(p, e);
            if (n == 0) return lambda__json_err(pp, (const char *)p, LAMBDA_E_UTF8);
            p += n;
        }
    }
}

/* Scan a number at *pp. *is_int = no fraction and no exponent. */
LAMBDA__PRIVATE int lambda__json_scan_num(const char **pp, const char *end, int *is_int)
{
    const char *p = *pp;
    *is_int = 1;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (lambda__json_digit(p, end)) do p++; while (lambda__json_digit(p, end));
    else return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if (p < end && *p == '.') {
        *is_int = 0;
        if (!lambda__json_digit(++p, end)) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        while (lambda__json_digit(p, end)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!lambda__json_digit(p, end)) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        while (lambda__json_digit(p, end)) p++;
    }
    *pp = p;
    return 0;
}

/* A number or literal at *pp: 0 with *pp past it, or LAMBDA_E_SYNTAX with *pp at the
   error. */
LAMBDA__PRIVATE int lambda__json_atom(const char **pp, const char *end)
{
    static const char lit[3][6] = {"true", "false", "null"};
    const char *p = *pp;
    int w = *p == 't' ? 0 : *p == 'f' ? 1 : *p == 'n' ? 2 : -1, is_int;
    size_t n = w == 1 ? 5 : 4;
    if (w < 0) return lambda__json_scan_num(pp, end, &is_int);
    if ((size_t)(end - p) < n || memcmp(p, lit[w], n) != 0)
        return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    *pp = p + n;
    return 0;
}

/* 1 if a top-level value may end at p: at the end, whitespace, ',', ']' or '}' ("1x" and
   "truex" are not "1" and "true") */
LAMBDA__PRIVATE int lambda__json_delim(const char *p, const char *end)
{
    unsigned c = p < end ? (unsigned char)*p : ' ';
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == ']' || c == '}';
}

/* the bytes that may follow a backslash in a string, but 'u': " \ / b f n r t */
static const unsigned char lambda__json_esc_bits[16] = {
    0x00, 0x00, 0x00, 0x00, 0x04, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x44, 0x40, 0x14, 0x00};

LAMBDA__PRIVATE lambda_json_type lambda__json_type_of(char c)
{
    switch (c) {
    case '{': return LAMBDA_JSON_OBJECT;
    case '[': return LAMBDA_JSON_ARRAY;
    case '"': return LAMBDA_JSON_STRING;
    case 't': return LAMBDA_JSON_TRUE;
    case 'f': return LAMBDA_JSON_FALSE;
    case 'n': return LAMBDA_JSON_NULL;
    default: return (c == '-' || (c >= '0' && c <= '9')) ? LAMBDA_JSON_NUMBER : LAMBDA_JSON_NONE;
    }
}

LAMBDA__PRIVATE void lambda__json_none(lambda_json *v)
{
    if (v) {
        v->ptr = NULL;
        v->len = 0;
        v->type = LAMBDA_JSON_NONE;
        v->seal = 0;
    }
}

/* Object key at p (already past whitespace), then ':' and the whitespace after it.
   *kend (may be NULL) = one past the key's closing quote. */
LAMBDA__PRIVATE int lambda__json_scan_key(const char **pp, const char *end, const char **kend)
{
    const char *p = *pp;
    int rc;
    if (p >= end || *p != '"') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if ((rc = lambda__json_scan_str(&p, end)) != 0) return lambda__json_err(pp, p, rc);
    if (kend) *kend = p;
    p = lambda__json_ws(p, end);
    if (p >= end || *p != ':') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    *pp = lambda__json_ws(p + 1, end);
    return 0;
}

/* Scan one value at *pp (leading whitespace skipped), `depth` containers already open
   around it, a byte at a time. Iterative: one bit per open container on a fixed stack. On
   success *pp is just past the value and *out (may be NULL) describes it; on failure *pp
   is the error. lambda__json_scan (below) tries the fast scanner first. */
LAMBDA__PRIVATE int lambda__json_scan1(const char **pp, const char *end, unsigned depth,
                                       lambda_json *out)
{
    unsigned char stack[(LAMBDA_JSON_MAX_DEPTH + 7) / 8];
    const char *p = lambda__json_ws(*pp, end), *start = p;
    unsigned d = 0; /* containers opened here */
    int rc;
    for (;;) {
        /* a value is due at p */
        if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        switch (*p) {
        case '{':
        case '[': {
            int obj = *p == '{';
            if (depth + d >= LAMBDA_JSON_MAX_DEPTH) return lambda__json_err(pp, p, LAMBDA_E_DEPTH);
            if (obj) stack[d >> 3] = (unsigned char)(stack[d >> 3] | (1u << (d & 7)));
            else stack[d >> 3] = (unsigned char)(stack[d >> 3] & ~(1u << (d & 7)));
            d++;
            p = lambda__json_ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) {
                p++;
                d--;
                break; /* empty container: a complete value */
            }
            if (obj && (rc = lambda__json_scan_key(&p, end, NULL)) != 0)
                return lambda__json_err(pp, p, rc);
            continue;
        }
        case '"':
            if ((rc = lambda__json_scan_str(&p, end)) != 0) return lambda__json_err(pp, p, rc);
            break;
        default:
            if ((rc = lambda__json_atom(&p, end)) != 0) return lambda__json_err(pp, p, rc);
            break;
        }
        /* a value ended at p: close containers until a ',' asks for the next value */
        for (;;) {
            int obj;
            if (d == 0) {
                if (!lambda__json_delim(p, end)) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
                if (out) {
                    out->ptr = start;
                    out->len = (size_t)(p - start);
                    out->type = lambda__json_type_of(*start);
                }
                *pp = p;
                return 0;
            }
            p = lambda__json_ws(p, end);
            if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            obj = (stack[(d - 1) >> 3] >> ((d - 1) & 7)) & 1;
            if (*p == ',') {
                p = lambda__json_ws(p + 1, end);
                if (obj && (rc = lambda__json_scan_key(&p, end, NULL)) != 0)
                    return lambda__json_err(pp, p, rc);
                break;
            }
            if (*p != (obj ? '}' : ']')) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            p++;
            d--;
        }
    }
}

/* ---- the structural scanner: 64 bytes at a time ----
   lambda__json_scan1 above reads a byte at a time and knows every error and its offset.
   lambda__json_fast reads a container 64 bytes at a time, in the manner of simdjson
   (G. Langdale, D. Lemire, "Parsing Gigabytes of JSON per Second", VLDB Journal 28, 2019).
   Stage 1, one function per instruction set: SIMD compares give the block's bit masks of
   quotes, backslashes, structural characters, whitespace, control and non-ASCII bytes;
   from those, with carries between blocks, the escaped bytes (after odd runs of
   backslashes), the real quotes and, by a prefix XOR, the bytes inside strings. Its
   result: the tokens (structural characters outside strings, opening quotes, and the
   first byte of every other run of bytes outside strings: a number or literal) and the
   bytes inside strings that scan1 would look at twice (control, escaped, non-ASCII).
   Stage 2, shared: those few bytes are checked where they are (escapes, and each UTF-8
   sequence with lambda__utf8_len), errors kept as positions so that what follows the
   value is not judged; a state machine walks the tokens, one bit per open container,
   checking numbers and literals with scan1's code. It answers "valid" only for what
   lambda__json_scan1 accepts, with the same end; any doubt is -1, and the caller rescans
   with scan1, which then finds the error and its offset: the fast path decides nothing
   but speed. Stopped at a member of the outer container, the same walk is the look-up
   (lambda__json_seek) that skips the members before it at this speed.
   Kernels: SSE2 (every x86_64) and AVX2 (with PCLMULQDQ for the prefix XOR), chosen at
   run time with cpuid (the bootstraps are built for plain x86_64; Lambda's x86_64 hosts
   all have AVX2), NEON on arm64. LAMBDA_JSON_SCALAR leaves only the byte-at-a-time code. */
#ifdef LAMBDA__JSON_SIMD
typedef struct lambda__jst {
    uint64_t esc, ins, sc; /* carries: byte 0 is escaped; inside a string (all ones); the last
                              byte was part of a number or literal (1) */
    uint64_t tok, ctrl, escd, high; /* the block's tokens, and bytes inside strings to check */
} lambda__jst;

#define LAMBDA__JS_V  0u /* state: a value */
#define LAMBDA__JS_V0 1u /*        a value or ']' (just after '[') */
#define LAMBDA__JS_K  2u /*        a key */
#define LAMBDA__JS_K0 3u /*        a key or '}' (just after '{') */
#define LAMBDA__JS_C  4u /*        the ':' after a key */
#define LAMBDA__JS_A  5u /*        ',' or the end of the container, after a value */

/* Stage 1's bit work, from the block's masks, in two halves around the prefix XOR (each
   kernel has its own): the real quotes (and *escd the escaped bytes), then the rest.
   Inline: each kernel gets its own copy. */
LAMBDA__INLINE uint64_t lambda__json_quotes(lambda__jst *s, uint64_t quote, uint64_t bslash,
                                            uint64_t *escd)
{
    const uint64_t even = 0x5555555555555555u;
    uint64_t b = bslash & ~s->esc, starts = b & ~(b << 1), odd = b + (starts & ~even);
    *escd = ((b + (starts & even)) & ~b & ~even) | (odd & ~b & even) | s->esc;
    s->esc = (uint64_t)(odd < b); /* a run from an odd offset reached the end */
    return quote & ~*escd;
}

/* 1 from an opening quote to its closing one */
LAMBDA__INLINE uint64_t lambda__json_prefix_xor(uint64_t q)
{
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q ^= q << 8;
    q ^= q << 16;
    return q ^ (q << 32);
}

LAMBDA__INLINE void lambda__json_tokens(lambda__jst *s, uint64_t q, uint64_t x, uint64_t escd,
                                        uint64_t op, uint64_t ws, uint64_t ctrl, uint64_t high)
{
    uint64_t sc;
    x ^= s->ins;
    s->ins = (uint64_t)0 - (x >> 63);
    sc = ~(ws | op | q | x); /* bytes of numbers and literals */
    s->tok = (op & ~x) | (q & x) | (sc & ~((sc << 1) | s->sc));
    s->sc = sc >> 63;
    s->ctrl = ctrl & x;
    s->escd = escd & x;
    s->high = high & x;
}

/* The skims of a block for lambda__json_skip_box and lambda__json_tkey (a container
   already checked): only quotes, backslashes and brackets; returns the brackets outside
   strings, *open the opening ones ('[' and '{' are one compare after OR 0x20, as are ']'
   and '}'), *oq the opening quotes. */
LAMBDA__INLINE uint64_t lambda__json_skim_bits(lambda__jst *s, uint64_t q, uint64_t in, uint64_t op,
                                               uint64_t cl, uint64_t *open, uint64_t *oq)
{
    in ^= s->ins;
    s->ins = (uint64_t)0 - (in >> 63);
    *open = op & ~in;
    *oq = q & in; /* the opening quotes */
    return (op | cl) & ~in;
}

/* lambda__json_tkey: the string at q, at depth 1 of a checked object, is the key k[0..n)
   followed by ':': 1 with *pp at its value; 0 if not; -1 when that takes unescaping (the
   member walk will tell) */
LAMBDA__PRIVATE int lambda__json_key_is(const unsigned char *q, const unsigned char *e,
                                        const char *k, size_t n);
LAMBDA__PRIVATE int lambda__json_tkey_at(const char *q, const char *end, const char *k, size_t n,
                                         const char **pp)
{
    const char *v;
    int is = lambda__json_key_is((const unsigned char *)q, (const unsigned char *)end, k, n);
    if (is <= 0) return is;
    v = lambda__json_ws(q + n + 2, end);
    if (v >= end || *v != ':') return 0; /* a value, the same as the key */
    v = lambda__json_ws(v + 1, end);
    if (v >= end || lambda__json_type_of(*v) == LAMBDA_JSON_NONE) return -1;
    *pp = v;
    return 1;
}

/* The 64 bytes at b, or the last e - b < 64 of them padded with spaces in tail (64 bytes):
   nothing is read past e. */
LAMBDA__INLINE const unsigned char *lambda__json_block(const unsigned char *b,
                                                       const unsigned char *e, unsigned char *tail)
{
    if (e - b >= 64) return b;
    memset(tail, ' ', 64);
    memcpy(tail, b, (size_t)(e - b));
    return tail;
}

/* lambda__json_skip_box's loop over the blocks, for each kernel: an open bracket count,
   the end at the bracket that brings it back to 0 (the end of the range if none does) */
#define LAMBDA__JSON_BOX_LOOP(skim)                                                          \
    {                                                                                        \
        const unsigned char *b = (const unsigned char *)p, *e = (const unsigned char *)end; \
        unsigned char tail[64];                                                              \
        lambda__jst s;                                                                       \
        size_t d = 0;                                                                        \
        s.esc = s.ins = 0;                                                                   \
        for (; b < e; b += 64) {                                                             \
            const unsigned char *src = lambda__json_block(b, e, tail);                       \
            uint64_t open, oq, m;                                                            \
            for (m = skim(src, &s, &open, &oq); m; m &= m - 1) {                             \
                unsigned i = (unsigned)__builtin_ctzll(m);                                   \
                if ((open >> i) & 1) d++;                                                    \
                else if (--d == 0) return (const char *)b + i + 1;                           \
            }                                                                                \
        }                                                                                    \
        return end;                                                                          \
    }

/* lambda__json_tkey's loop: the same count, and at each opening quote at depth 1 a
   comparison with the key (lambda__json_tkey_at) */
#define LAMBDA__JSON_KEY_LOOP(skim)                                                                \
    {                                                                                              \
        const unsigned char *b = (const unsigned char *)*pp, *e = (const unsigned char *)end;      \
        unsigned char tail[64];                                                                    \
        lambda__jst s;                                                                             \
        size_t d = 0;                                                                              \
        s.esc = s.ins = 0;                                                                         \
        for (; b < e; b += 64) {                                                                   \
            const unsigned char *src = lambda__json_block(b, e, tail);                             \
            uint64_t open, oq, m;                                                                  \
            unsigned from;                                                                         \
            m = skim(src, &s, &open, &oq);                                                         \
            for (from = 0;; m &= m - 1) { /* each bracket, and the quotes before it */             \
                unsigned i = m ? (unsigned)__builtin_ctzll(m) : 64;                                \
                if (d == 1) { /* the opening quotes at depth 1 in [from, i) */                     \
                    uint64_t q1 = oq & ~(((uint64_t)1 << from) - 1);                               \
                    if (i < 64) q1 &= ((uint64_t)1 << i) - 1;                                      \
                    for (; q1; q1 &= q1 - 1) {                                                     \
                        int rc_ = lambda__json_tkey_at((const char *)b + __builtin_ctzll(q1), end, \
                                                       k, n, pp);                                  \
                        if (rc_ != 0) return rc_;                                                  \
                    }                                                                              \
                }                                                                                  \
                if (i == 64) break;                                                                \
                from = i;                                                                          \
                if ((open >> i) & 1)                                                               \
                    d++;                                                                           \
                else if (--d == 0)                                                                 \
                    return 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
        return -1;                                                                                 \
    }

#if defined(__x86_64__)
static int lambda__json_isa_v; /* 0 unknown, else LAMBDA__JSON_ISA_*: the kernel in use */
enum { LAMBDA__JSON_ISA_SCALAR = 1, LAMBDA__JSON_ISA_SSE2, LAMBDA__JSON_ISA_AVX2 };

LAMBDA__PRIVATE void lambda__json_stage1_sse2(const unsigned char *p, lambda__jst *s)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(' ');
    const __m128i lb = _mm_set1_epi8('{'), rb = _mm_set1_epi8('}'), co = _mm_set1_epi8(':');
    const __m128i cm = _mm_set1_epi8(','), ht = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    uint64_t mq = 0, mb = 0, mo = 0, mw = 0, mc = 0, mh = 0;
    int i;
    for (i = 0; i < 64; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i y = _mm_or_si128(x, sp); /* '[' ']' -> '{' '}' */
        __m128i o = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(y, lb), _mm_cmpeq_epi8(y, rb)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, co), _mm_cmpeq_epi8(x, cm)));
        __m128i w = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, ht)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, nl), _mm_cmpeq_epi8(x, cr)));
        mq |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, q)) << i;
        mb |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, bs)) << i;
        mo |= (uint64_t)(unsigned)_mm_movemask_epi8(o) << i;
        mw |= (uint64_t)(unsigned)_mm_movemask_epi8(w) << i;
        mc |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, sp)) << i; /* and >= 0x80 */
        mh |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << i;
    }
    mq = lambda__json_quotes(s, mq, mb, &mb);
    lambda__json_tokens(s, mq, lambda__json_prefix_xor(mq), mb, mo, mw, mc & ~mh, mh);
}

/* AVX2: structural and whitespace bytes from two 16-entry tables, one for each nibble
   (a byte is in a class when both its nibbles' entries have the class's bit):
   bit 0 ',' 0x2C; bit 1 ':' 0x3A; bit 2 '[' ']' '{' '}' 0x5B 0x5D 0x7B 0x7D; bit 3 ' ' 0x20;
   bit 4 '\t' '\n' 0x09 0x0A; bit 5 '\r' 0x0D. */
LAMBDA__PRIVATE __attribute__((target("avx2,pclmul"))) void
lambda__json_stage1_avx2(const unsigned char *p, lambda__jst *s)
{
    const __m256i lo_t = _mm256_setr_epi8(8, 0, 0, 0, 0, 0, 0, 0, 0, 16, 18, 4, 1, 36, 0, 0,
                                          8, 0, 0, 0, 0, 0, 0, 0, 0, 16, 18, 4, 1, 36, 0, 0);
    const __m256i hi_t = _mm256_setr_epi8(48, 0, 9, 2, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                                          48, 0, 9, 2, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nib = _mm256_set1_epi8(0x0F), opm = _mm256_set1_epi8(7);
    const __m256i wsm = _mm256_set1_epi8(56), q = _mm256_set1_epi8('"');
    const __m256i bs = _mm256_set1_epi8('\\'), c1f = _mm256_set1_epi8(0x1F);
    const __m256i zero = _mm256_setzero_si256();
    uint64_t m[6][2];
    int i;
    for (i = 0; i < 2; i++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * i));
        __m256i c = _mm256_and_si256(
            _mm256_shuffle_epi8(lo_t, _mm256_and_si256(x, nib)),
            _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
        m[0][i] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, q));
        m[1][i] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, bs));
        m[2][i] =
            ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, opm), zero));
        m[3][i] =
            ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, wsm), zero));
        m[4][i] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(x, c1f), x));
        m[5][i] = (uint32_t)_mm256_movemask_epi8(x);
    }
    {
        uint64_t escd,
            rq = lambda__json_quotes(s, m[0][0] | m[0][1] << 32, m[1][0] | m[1][1] << 32, &escd);
        uint64_t in = (uint64_t)_mm_cvtsi128_si64(
            _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)rq), _mm_set1_epi8(-1), 0));
        lambda__json_tokens(s, rq, in, escd, m[2][0] | m[2][1] << 32, m[3][0] | m[3][1] << 32,
                            m[4][0] | m[4][1] << 32, m[5][0] | m[5][1] << 32);
    }
}

LAMBDA__INLINE uint64_t lambda__json_skim_sse2(const unsigned char *p, lambda__jst *s,
                                               uint64_t *open, uint64_t *oq)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(' ');
    const __m128i lb = _mm_set1_epi8('{'), rb = _mm_set1_epi8('}');
    uint64_t mq = 0, mb = 0, mo = 0, mc = 0, escd;
    int i;
    for (i = 0; i < 64; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i)),
                y = _mm_or_si128(x, sp);
        mq |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, q)) << i;
        mb |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, bs)) << i;
        mo |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(y, lb)) << i;
        mc |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(y, rb)) << i;
    }
    mq = lambda__json_quotes(s, mq, mb, &escd);
    return lambda__json_skim_bits(s, mq, lambda__json_prefix_xor(mq), mo, mc, open, oq);
}

LAMBDA__INLINE __attribute__((target("avx2,pclmul"))) uint64_t
lambda__json_skim_avx2(const unsigned char *p, lambda__jst *s, uint64_t *open,
                                               uint64_t *oq)
{
    const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\'),
                  sp = _mm256_set1_epi8(' ');
    const __m256i lb = _mm256_set1_epi8('{'), rb = _mm256_set1_epi8('}');
    __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    __m256i y0 = _mm256_or_si256(x0, sp), y1 = _mm256_or_si256(x1, sp);
#define LAMBDA__M2(a, b)                                                                           \
    ((uint64_t)(uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b)     \
                                                       << 32)
    uint64_t mq = LAMBDA__M2(_mm256_cmpeq_epi8(x0, q), _mm256_cmpeq_epi8(x1, q));
    uint64_t mb = LAMBDA__M2(_mm256_cmpeq_epi8(x0, bs), _mm256_cmpeq_epi8(x1, bs));
    uint64_t mo = LAMBDA__M2(_mm256_cmpeq_epi8(y0, lb), _mm256_cmpeq_epi8(y1, lb));
    uint64_t mc = LAMBDA__M2(_mm256_cmpeq_epi8(y0, rb), _mm256_cmpeq_epi8(y1, rb)), escd;
#undef LAMBDA__M2
    mq = lambda__json_quotes(s, mq, mb, &escd);
    return lambda__json_skim_bits(s, mq,
                                  (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(
                                      _mm_cvtsi64_si128((long long)mq), _mm_set1_epi8(-1), 0)),
                                  mo, mc, open, oq);
}

LAMBDA__PRIVATE const char *lambda__json_box_sse2(const char *p, const char *end)
    LAMBDA__JSON_BOX_LOOP(lambda__json_skim_sse2)

        LAMBDA__PRIVATE __attribute__((target("avx2,pclmul"))) const
    char *lambda__json_box_avx2(const char *p, const char *end)
        LAMBDA__JSON_BOX_LOOP(lambda__json_skim_avx2)

            LAMBDA__PRIVATE
    int lambda__json_tkey_sse2(const char **pp, const char *end, const char *k, size_t n)
        LAMBDA__JSON_KEY_LOOP(lambda__json_skim_sse2)

            LAMBDA__PRIVATE
    __attribute__((target("avx2,pclmul"))) int lambda__json_tkey_avx2(const char **pp,
                                                                      const char *end,
                                                                      const char *k, size_t n)
        LAMBDA__JSON_KEY_LOOP(lambda__json_skim_avx2)

            LAMBDA__PRIVATE void lambda__json_cpuid(unsigned leaf, unsigned *r)
{
    __asm__ __volatile__("cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(0u));
}

/* AVX2 if the CPU has it and PCLMULQDQ, and the kernel saves the YMM registers (OSXSAVE,
   XCR0 bits 1-2); else SSE2 */
LAMBDA__PRIVATE int lambda__json_isa(void)
{
    int v = __atomic_load_n(&lambda__json_isa_v, __ATOMIC_RELAXED);
    if (v == 0) {
        unsigned r[4], lo, hi;
        v = LAMBDA__JSON_ISA_SSE2;
        lambda__json_cpuid(0, r);
        if (r[0] >= 7) {
            lambda__json_cpuid(1, r);
            if ((r[2] & (1u << 27)) && (r[2] & (1u << 28)) && (r[2] & 2u)) {
                __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
                lambda__json_cpuid(7, r);
                if ((lo & 6u) == 6u && (r[1] & (1u << 5))) v = LAMBDA__JSON_ISA_AVX2;
                (void)hi;
            }
        }
        __atomic_store_n(&lambda__json_isa_v, v, __ATOMIC_RELAXED);
    }
    return v;
}

#define LAMBDA__JSON_STAGE1(isa, p, s)                                                             \
    ((isa) == LAMBDA__JSON_ISA_AVX2 ? lambda__json_stage1_avx2(p, s)                               \
                                    : lambda__json_stage1_sse2(p, s))
#define LAMBDA__JSON_BOX(isa, p, end) \
    ((isa) == LAMBDA__JSON_ISA_AVX2 ? lambda__json_box_avx2(p, end) : lambda__json_box_sse2(p, end))
#define LAMBDA__JSON_TKEY(isa, pp, end, k, n)                                                      \
    ((isa) == LAMBDA__JSON_ISA_AVX2 ? lambda__json_tkey_avx2(pp, end, k, n)                        \
                                    : lambda__json_tkey_sse2(pp, end, k, n))
#else /* __aarch64__ */
static int lambda__json_isa_v; /* 0: NEON; LAMBDA__JSON_ISA_SCALAR: off */
enum { LAMBDA__JSON_ISA_SCALAR = 1, LAMBDA__JSON_ISA_NEON };

/* the high bits of four compare results (0xFF/0x00 bytes), as one 64-bit mask */
LAMBDA__INLINE uint64_t lambda__json_neon_bits(uint8x16_t a, uint8x16_t b, uint8x16_t c,
                                               uint8x16_t d)
{
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(w);
    uint8x16_t t = vpaddq_u8(vpaddq_u8(vandq_u8(a, bit), vandq_u8(b, bit)),
                             vpaddq_u8(vandq_u8(c, bit), vandq_u8(d, bit)));
    t = vpaddq_u8(t, t);
    return vgetq_lane_u64(vreinterpretq_u64_u8(t), 0);
}

/* the table lookup of the AVX2 kernel (see there), with NEON's TBL */
LAMBDA__PRIVATE void lambda__json_stage1_neon(const unsigned char *p, lambda__jst *s)
{
    static const uint8_t lo_t[16] = {8, 0, 0, 0, 0, 0, 0, 0, 0, 16, 18, 4, 1, 36, 0, 0};
    static const uint8_t hi_t[16] = {48, 0, 9, 2, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8x16_t lt = vld1q_u8(lo_t), ht = vld1q_u8(hi_t), nib = vdupq_n_u8(0x0F);
    const uint8x16_t opm = vdupq_n_u8(7), wsm = vdupq_n_u8(56), q = vdupq_n_u8('"');
    const uint8x16_t bs = vdupq_n_u8('\\'), c20 = vdupq_n_u8(0x20), h80 = vdupq_n_u8(0x80);
    uint8x16_t cq[4], cb[4], co[4], cw[4], cc[4], ch[4];
    int i;
    for (i = 0; i < 4; i++) {
        uint8x16_t x = vld1q_u8(p + 16 * i), c;
        c = vandq_u8(vqtbl1q_u8(lt, vandq_u8(x, nib)), vqtbl1q_u8(ht, vshrq_n_u8(x, 4)));
        cq[i] = vceqq_u8(x, q);
        cb[i] = vceqq_u8(x, bs);
        co[i] = vtstq_u8(c, opm);
        cw[i] = vtstq_u8(c, wsm);
        cc[i] = vcltq_u8(x, c20);
        ch[i] = vcgeq_u8(x, h80);
    }
    {
        uint64_t escd,
            rq = lambda__json_quotes(s, lambda__json_neon_bits(cq[0], cq[1], cq[2], cq[3]),
                                     lambda__json_neon_bits(cb[0], cb[1], cb[2], cb[3]), &escd);
        lambda__json_tokens(s, rq, lambda__json_prefix_xor(rq), escd,
                            lambda__json_neon_bits(co[0], co[1], co[2], co[3]),
                            lambda__json_neon_bits(cw[0], cw[1], cw[2], cw[3]),
                            lambda__json_neon_bits(cc[0], cc[1], cc[2], cc[3]),
                            lambda__json_neon_bits(ch[0], ch[1], ch[2], ch[3]));
    }
}

LAMBDA__PRIVATE int lambda__json_isa(void)
{
    int v = __atomic_load_n(&lambda__json_isa_v, __ATOMIC_RELAXED);
    return v ? v : LAMBDA__JSON_ISA_NEON;
}

#define LAMBDA__JSON_STAGE1(isa, p, s) ((void)(isa), lambda__json_stage1_neon(p, s))

LAMBDA__INLINE uint64_t lambda__json_skim_neon(const unsigned char *p, lambda__jst *s,
                                               uint64_t *open, uint64_t *oq)
{
    const uint8x16_t q = vdupq_n_u8('"'), bs = vdupq_n_u8('\\'), sp = vdupq_n_u8(' ');
    const uint8x16_t lb = vdupq_n_u8('{'), rb = vdupq_n_u8('}');
    uint8x16_t cq[4], cb[4], co[4], cc[4];
    uint64_t escd, mq;
    int i;
    for (i = 0; i < 4; i++) {
        uint8x16_t x = vld1q_u8(p + 16 * i), y = vorrq_u8(x, sp);
        cq[i] = vceqq_u8(x, q);
        cb[i] = vceqq_u8(x, bs);
        co[i] = vceqq_u8(y, lb);
        cc[i] = vceqq_u8(y, rb);
    }
    mq = lambda__json_quotes(s, lambda__json_neon_bits(cq[0], cq[1], cq[2], cq[3]),
                             lambda__json_neon_bits(cb[0], cb[1], cb[2], cb[3]), &escd);
    return lambda__json_skim_bits(s, mq, lambda__json_prefix_xor(mq),
                                  lambda__json_neon_bits(co[0], co[1], co[2], co[3]),
                                  lambda__json_neon_bits(cc[0], cc[1], cc[2], cc[3]), open, oq);
}

LAMBDA__PRIVATE const char *lambda__json_box_neon(const char *p, const char *end)
    LAMBDA__JSON_BOX_LOOP(lambda__json_skim_neon)

        LAMBDA__PRIVATE
    int lambda__json_tkey_neon(const char **pp, const char *end, const char *k, size_t n)
        LAMBDA__JSON_KEY_LOOP(lambda__json_skim_neon)

#define LAMBDA__JSON_BOX(isa, p, end) ((void)(isa), lambda__json_box_neon(p, end))
#define LAMBDA__JSON_TKEY(isa, pp, end, k, n) ((void)(isa), lambda__json_tkey_neon(pp, end, k, n))
#endif

/* The key string whose opening quote is at q matches k[0..n): 1, 0, or -1 when that takes
   unescaping (a backslash in the way). A match is not yet a valid key: see the caller. */
LAMBDA__PRIVATE int lambda__json_key_is(const unsigned char *q, const unsigned char *e,
                                        const char *k, size_t n)
{
    size_t i;
    q++;
    if ((size_t)(e - q) <= n) return -1; /* cut short: let the slow path tell */
    for (i = 0; i < n; i++) {
        if (q[i] == '\\') return -1;
        if (q[i] != (unsigned char)k[i] || q[i] == '"') return 0;
    }
    return q[n] == '"' ? 1 : q[n] == '\\' ? -1 : 0;
}

/* The fast scan of the container at *pp ('{' or '['), `depth` containers open around it.
   With seek (k: a key, or k == NULL and idx: an index; for the container's own members):
   1 with *pp at the value of the first matching member, LAMBDA_E_NOT_FOUND at the end of
   the container. Without: 0 with *pp just past the container, whose next byte has been
   checked as lambda__json_scan1 checks it. -1: not shown valid (rescan with scan1). */
LAMBDA__PRIVATE int lambda__json_fast(const char **pp, const char *end, unsigned depth, int seek,
                                      const char *k, size_t klen, size_t idx)
{
    const unsigned char *b = (const unsigned char *)*pp, *e = (const unsigned char *)end;
    unsigned char tail[64];
    uint64_t stack[(LAMBDA_JSON_MAX_DEPTH + 63) / 64], u8cont = 0;
    lambda__jst s;
    unsigned d = 0, st = LAMBDA__JS_V;
    int isa = lambda__json_isa(), obj = 0;
    size_t count = 0;
    memset(&s, 0, sizeof s);
    for (; b < e; b += 64) {
        const unsigned char *src = lambda__json_block(b, e, tail);
        uint64_t tok, bad = 0, chk;
        LAMBDA__JSON_STAGE1(isa, src, &s);
        tok = s.tok;
        if ((s.ctrl | s.escd | s.high | u8cont) != 0) { /* what scan1 rejects inside strings */
            bad = s.ctrl;
            for (chk = s.escd; chk; chk &= chk - 1) { /* escapes: \" \\ \/ \b \f \n \r \t \uXXXX */
                unsigned i = (unsigned)__builtin_ctzll(chk);
                const unsigned char *c = b + i;
                if (c < e && (*c == 'u' ? e - c < 5 || lambda__json_hex4((const char *)c + 1) < 0
                                        : !LAMBDA__IN_BITS(lambda__json_esc_bits, *c)))
                    bad |= (uint64_t)1 << i;
            }
            chk = s.high & ~u8cont;
            u8cont = 0;
            while (chk) { /* each UTF-8 sequence, from its first byte */
                unsigned i = (unsigned)__builtin_ctzll(chk);
                unsigned n = (unsigned)lambda__utf8_len(b + i, e);
                if (n == 0) {
                    bad |= (uint64_t)1 << i;
                    break;
                }
                if (i + n >= 64) { /* it ends in the next block */
                    u8cont = ((uint64_t)1 << (i + n - 64)) - 1;
                    break;
                }
                chk &= ~((((uint64_t)1 << n) - 1) << i);
            }
        }
        while (tok) {
            unsigned i = (unsigned)__builtin_ctzll(tok), c = src[i];
            tok &= tok - 1;
            /* on the state first: it follows the document's shape, which repeats, and so
               predicts well; then the byte, usually the one expected */
            switch (st) {
            case LAMBDA__JS_C:
                if (c != ':') return -1;
                st = LAMBDA__JS_V;
                continue;
            case LAMBDA__JS_A:
                if (c == ',') {
                    st = obj ? LAMBDA__JS_K : LAMBDA__JS_V;
                    continue;
                }
                if (c != (obj ? '}' : ']')) return -1;
                goto close;
            case LAMBDA__JS_K0:
                if (c == '}') goto close;
                /* fall through */
            case LAMBDA__JS_K:
                if (c != '"') return -1;
                st = LAMBDA__JS_C;
                if (seek && d == 1 && k) {
                    int is = lambda__json_key_is(b + i, e, k, klen);
                    if (is < 0) return -1;
                    if (is) goto found;
                }
                continue;
            case LAMBDA__JS_V0:
                if (c == ']') goto close;
                /* fall through */
            default: /* LAMBDA__JS_V */
                if (seek && d == 1 && !obj && count++ == idx) goto found;
                st = LAMBDA__JS_A;
                if (c == '"') continue;
                if (c == '{' || c == '[') {
                    if (depth + d >= LAMBDA_JSON_MAX_DEPTH) return -1;
                    obj = c == '{';
                    if (obj) stack[d >> 6] |= (uint64_t)1 << (d & 63);
                    else stack[d >> 6] &= ~((uint64_t)1 << (d & 63));
                    d++;
                    st = obj ? LAMBDA__JS_K0 : LAMBDA__JS_V0;
                    continue;
                }
                { /* a number or a literal, and the byte after it */
                    const char *v = (const char *)b + i;
                    if (lambda__json_atom(&v, end) != 0 || !lambda__json_delim(v, end)) return -1;
                    continue;
                }
            }
        close: /* '}' or ']' closed a container */
            if (--d == 0) {
                const char *after = (const char *)b + i + 1;
                if (bad & (((uint64_t)2 << i) - 1)) return -1;
                if (seek) return LAMBDA_E_NOT_FOUND;
                if (!lambda__json_delim(after, end)) return -1;
                *pp = after;
                return 0;
            }
            obj = (int)((stack[(d - 1) >> 6] >> ((d - 1) & 63)) & 1);
            st = LAMBDA__JS_A;
            continue;
        found: /* the member's value, or its key: check the bytes before, and the key */
            if (bad & ((((uint64_t)1 << i) - 1))) return -1;
            {
                const char *v = (const char *)b + i;
                if (k && lambda__json_scan_key(&v, end, NULL) != 0) return -1;
                *pp = v;
                return 1;
            }
        }
        if (bad) return -1;
    }
    return -1;
}
#endif /* LAMBDA__JSON_SIMD */

/* lambda__json_scan1, for containers by lambda__json_fast when it can show them valid. */
LAMBDA__PRIVATE int lambda__json_scan(const char **pp, const char *end, unsigned depth,
                                      lambda_json *out)
{
#ifdef LAMBDA__JSON_SIMD
    const char *p = lambda__json_ws(*pp, end), *q = p;
    if (p < end && (*p == '{' || *p == '[') && lambda__json_isa() != LAMBDA__JSON_ISA_SCALAR &&
        lambda__json_fast(&q, end, depth, 0, NULL, 0, 0) == 0) {
        if (out) {
            out->ptr = p;
            out->len = (size_t)(q - p);
            out->type = *p == '{' ? LAMBDA_JSON_OBJECT : LAMBDA_JSON_ARRAY;
        }
        *pp = q;
        return 0;
    }
#endif
    return lambda__json_scan1(pp, end, depth, out);
}

/* Move to the next member of the container being walked. `first`: p is at the opening
   bracket. Returns 1 with *pp at the value (and *key set for objects), 0 with *pp past the
   closing bracket, or an error. */
LAMBDA__PRIVATE int lambda__json_member(const char **pp, const char *end, int obj, int first,
                                        lambda_json *key)
{
    const char *p = lambda__json_ws(*pp + first, end), *k, *kend;
    int rc;
    if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if (*p == (obj ? '}' : ']')) {
        *pp = p + 1;
        return 0;
    }
    if (!first) {
        if (*p != ',') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        p = lambda__json_ws(p + 1, end);
    }
    if (obj) {
        k = p;
        if ((rc = lambda__json_scan_key(&p, end, &kend)) != 0) return lambda__json_err(pp, p, rc);
        key->ptr = k;
        key->len = (size_t)(kend - k);
        key->type = LAMBDA_JSON_STRING;
    }
    *pp = p;
    return 1;
}

/* Decode one character of string content at *pp (< end): an escape, or one raw character.
   Writes 1..4 UTF-8 bytes to u and returns the count, or a negative LAMBDA_E_*. */
LAMBDA__PRIVATE int lambda__json_unit(const char **pp, const char *end, unsigned char *u)
{
    const char *p = *pp;
    unsigned c = (unsigned char)*p;
    if (c == '\\') {
        long cp;
        if (end - p < 2) return LAMBDA_E_SYNTAX;
        switch (p[1]) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (end - p < 6 || (cp = lambda__json_hex4(p + 2)) < 0) return LAMBDA_E_SYNTAX;
            p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return LAMBDA_E_UTF8;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return LAMBDA_E_UTF8;
                if ((lo = lambda__json_hex4(p + 2)) < 0) return LAMBDA_E_SYNTAX;
                if (lo < 0xDC00 || lo > 0xDFFF) return LAMBDA_E_UTF8;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            *pp = p;
            return lambda__json_put_utf8((unsigned long)cp, u);
        default: return LAMBDA_E_SYNTAX;
        }
        u[0] = (unsigned char)c;
        *pp = p + 2;
        return 1;
    }
    if (c < 0x20 || c == '"') return LAMBDA_E_SYNTAX;
    if (c < 0x80) {
        u[0] = (unsigned char)c;
        *pp = p + 1;
        return 1;
    } else {
        int n = lambda__utf8_len((const unsigned char *)p, (const unsigned char *)end), i;
        if (n == 0) return LAMBDA_E_UTF8;
        for (i = 0; i < n; i++) u[i] = (unsigned char)p[i];
        *pp = p + n;
        return n;
    }
}

/* The length of the run of plain bytes at p, before e: printable ASCII but '"' and '\\',
   which unescape to themselves. 16 bytes at a time with SSE2 or NEON, then 8 (in a
   uint64_t, the test of lambda__json_scan_str; not in a build for size), then a byte at
   a time. */
LAMBDA__PRIVATE size_t lambda__json_plain(const char *p, const char *e)
{
    const char *s = p;
#if defined(LAMBDA__JSON_SIMD) || !defined(__OPTIMIZE_SIZE__)
    const uint64_t ones = (uint64_t)0x0101010101010101u, high = (uint64_t)0x8080808080808080u;
#endif
#if defined(LAMBDA__JSON_SIMD) && defined(__x86_64__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(' ');
    while (e - s >= 16) { /* signed compare: bytes >= 0x80 are below ' ' too */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmplt_epi8(x, sp)));
        if (m) return (size_t)(s - p) + (unsigned)__builtin_ctz(m);
        s += 16;
    }
#elif defined(LAMBDA__JSON_SIMD)
    const uint8x16_t q = vdupq_n_u8('"'), bs = vdupq_n_u8('\\'), sp = vdupq_n_u8(' '),
                     h = vdupq_n_u8(0x80);
    while (e - s >= 16) {
        uint8x16_t x = vld1q_u8((const uint8_t *)s);
        uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(x, q), vceqq_u8(x, bs)),
                                vorrq_u8(vcltq_u8(x, sp), vcgeq_u8(x, h)));
        if (vmaxvq_u8(m)) break; /* the byte loops below find where */
        s += 16;
    }
#endif
#if defined(LAMBDA__JSON_SIMD) || !defined(__OPTIMIZE_SIZE__)
    while (e - s >= 8) {
        uint64_t x, qq, b;
        memcpy(&x, s, 8);
        qq = x ^ (ones * 0x22);
        b = x ^ (ones * 0x5C);
        if ((((qq - ones) & ~qq) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & high) break;
        s += 8;
    }
#endif
    while (s < e && (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x80 && *s != '"' &&
           *s != '\\')
        s++;
    return (size_t)(s - p);
}

/* Content bounds of string value v; 0 or an error. */
LAMBDA__PRIVATE int lambda__json_content(lambda_json v, const char **b, const char **e)
{
    if (v.type != LAMBDA_JSON_STRING) return LAMBDA_E_TYPE;
    if (v.ptr == NULL || v.len < 2 || v.ptr[0] != '"' || v.ptr[v.len - 1] != '"')
        return LAMBDA_E_SYNTAX;
    *b = v.ptr + 1;
    *e = v.ptr + v.len - 1;
    return 0;
}

/* 1 if string content [p, end) unescapes to exactly s[0..n), else 0. */
LAMBDA__PRIVATE int lambda__json_str_eq(const char *p, const char *end, const char *s, size_t n)
{
    size_t i = 0;
    unsigned char u[4];
    while (p < end) {
        unsigned c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            if (i >= n || s[i] != (char)c) return 0;
            i++;
            p++;
        } else {
            int k = lambda__json_unit(&p, end, u), j;
            if (k < 0 || (size_t)k > n - i) return 0;
            for (j = 0; j < k; j++)
                if ((unsigned char)s[i + (size_t)j] != u[j]) return 0;
            i += (size_t)k;
        }
    }
    return i == n;
}

/* Walk one path step: p at the container's opening bracket, `depth` = its nesting level.
   Returns 0 with *pp at the matching member's value. */
LAMBDA__PRIVATE int lambda__json_seek(const char **pp, const char *end, unsigned depth, int obj,
                                      const char *k, size_t klen, size_t idx)
{
    const char *p = *pp;
    lambda_json key;
    size_t i = 0;
    int first = 1, rc;
#ifdef LAMBDA__JSON_SIMD
    if (lambda__json_isa() != LAMBDA__JSON_ISA_SCALAR) {
        rc = lambda__json_fast(&p, end, depth - 1, 1, obj ? k : NULL, klen, idx);
        if (rc == 1) {
            *pp = p;
            return 0;
        }
        if (rc == LAMBDA_E_NOT_FOUND) return rc;
        p = *pp; /* not shown valid: the byte-at-a-time walk finds out */
    }
#endif
    for (;;) {
        rc = lambda__json_member(&p, end, obj, first, &key);
        if (rc <= 0) return lambda__json_err(pp, p, rc == 0 ? LAMBDA_E_NOT_FOUND : rc);
        first = 0;
        if (obj ? lambda__json_str_eq(key.ptr + 1, key.ptr + key.len - 1, k, klen) : i == idx) {
            *pp = p;
            return 0;
        }
        i++;
        if ((rc = lambda__json_scan(&p, end, depth, NULL)) != 0) return lambda__json_err(pp, p, rc);
    }
}

/* One step of a path at s (*s != '\0'): a key (".key", "key" at the start, or ["key"]: *k
   and its length *n) or an index ("[12]": *k = NULL, *n = the index, saturated: no array
   has (size_t)-1 members). Returns the byte after it, or NULL when it is malformed. */
LAMBDA__PRIVATE const char *lambda__json_step(const char *s, int first, const char **k, size_t *n)
{
    *k = NULL;
    if (*s == '[' && s[1] != '"') {
        if (*++s < '0' || *s > '9') return NULL;
        for (*n = 0; *s >= '0' && *s <= '9'; s++)
            *n = *n > (size_t)-1 / 10 - 1 ? (size_t)-1 : *n * 10 + (size_t)(*s - '0');
        return *s == ']' ? s + 1 : NULL;
    }
    if (*s == '[') { /* ["key"]: any bytes but '"' */
        for (*k = s += 2; *s != '"'; s++)
            if (*s == '\0') return NULL;
        *n = (size_t)(s - *k);
        return s[1] == ']' ? s + 2 : NULL;
    }
    if (!first && *s++ != '.') return NULL;
    if (*s == '\0' || *s == '.' || *s == '[') return NULL;
    for (*k = s; *s && *s != '.' && *s != '['; s++) {}
    *n = (size_t)(s - *k);
    return s;
}

/* 1 if `path` is well-formed. */
LAMBDA__PRIVATE int lambda__json_path_ok(const char *path)
{
    const char *s, *k;
    size_t n;
    for (s = path; *s;)
        if ((s = lambda__json_step(s, s == path, &k, &n)) == NULL) return 0;
    return 1;
}

#ifdef LAMBDA__JSON_SEAL
/* ---- look-ups in a value the reader has already checked ----
   Iterating an array and looking a path up in each element used to read every byte three
   times, each time checking it: lambda_json_get checked all of "Records" to return it,
   lambda_json_next checked each record again, and lambda_json_find checked each record
   again up to the key. Now every value the reader returns (lambda_json_get/find/key/index/
   next/validate) carries a seal: a hash of its address, length, type and first and last 8
   bytes, that says "these bytes were checked, by the same rules, with at least this
   nesting allowance". A look-up or an iterator that starts from a sealed value does not
   check again: it only skips, strings to their closing quote 16 bytes at a time and
   containers to their closing bracket by the quotes and brackets of 64-byte blocks (or a
   byte at a time), keys at the opening quotes one level down in those blocks (raw bytes
   compared; a backslash in the way sends it to the member walk, which unescapes), and
   seals what it returns, which lies inside the checked bytes. No
   memory is kept between calls, nothing is shared between threads, and a value you make
   yourself, or change (another length: a sub-range), has no valid seal and is checked as
   before, so the same document always gives the same answers and the same errors. The
   seal ties a value to its document's bytes (valid as long as the document is, as
   before): once those change, values from the old bytes are stale, and what a look-up in
   them returns is unspecified (when the seal's bytes changed they are checked again; in
   any case nothing outside the value is read and nothing crashes). What the skip meets
   that a checked container cannot hold (no ',' between two members, no ':' after a key)
   makes the caller check from there. */
LAMBDA__PRIVATE unsigned lambda__json_seal(const char *p, size_t len, lambda_json_type t)
{
    uint64_t a, b, x;
    if (len >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + len - 8, 8);
    } else {
        a = len ? (unsigned char)p[0] : 0;
        b = len ? (unsigned char)p[len - 1] : 0;
    }
    x = ((uint64_t)(uintptr_t)p + (uint64_t)len * 0xD6E8FEB86659FD93u + (uint64_t)t) ^ a;
    x *= 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 31) ^ b) * 0xBF58476D1CE4E5B9u;
    return (unsigned)(x >> 32) | 1u;
}

LAMBDA__PRIVATE void lambda__json_mark(lambda_json *v)
{
    v->seal = lambda__json_seal(v->ptr, v->len, v->type);
}

LAMBDA__PRIVATE int lambda__json_sealed(lambda_json v)
{
    return v.ptr != NULL && v.len > 0 && v.seal != 0 &&
           v.seal == lambda__json_seal(v.ptr, v.len, v.type);
}

/* The first '"' or '\\' in [p, e), or e (or p, if p > e): 16 bytes at a time with SSE2 or
   NEON, else 8 in a uint64_t, then a byte at a time. */
LAMBDA__INLINE const char *lambda__json_qb(const char *p, const char *e)
{
#if defined(LAMBDA__JSON_SIMD) && defined(__x86_64__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)));
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#elif defined(LAMBDA__JSON_SIMD)
    const uint8x16_t q = vdupq_n_u8('"'), bs = vdupq_n_u8('\\');
    while (e - p >= 16) {
        uint8x16_t x = vld1q_u8((const uint8_t *)p), m = vorrq_u8(vceqq_u8(x, q), vceqq_u8(x, bs));
        /* 4 bits a byte */
        uint64_t bits =
            vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
        if (bits) return p + (__builtin_ctzll(bits) >> 2);
        p += 16;
    }
#else
    const uint64_t ones = (uint64_t)0x0101010101010101u, high = (uint64_t)0x8080808080808080u;
    while (e - p >= 8) {
        uint64_t x, qq, b;
        memcpy(&x, p, 8);
        qq = x ^ (ones * 0x22);
        b = x ^ (ones * 0x5C);
        if ((((qq - ones) & ~qq) | ((b - ones) & ~b)) & high) break;
        p += 8;
    }
#endif
    while (p < e && *p != '"' && *p != '\\') p++;
    return p;
}

/* Past the closing quote of the checked string at p (its opening quote); end if none. */
LAMBDA__INLINE const char *lambda__json_skip_str(const char *p, const char *end)
{
    for (p++;; p += 2) { /* past '\\' and the byte it escapes ('u''s hex digits are neither) */
        p = lambda__json_qb(p, end);
        if (p >= end) return end;
        if (*p == '"') return p + 1;
    }
}

/* Past the closing bracket of the checked container at p ('{' or '['); end if none. `isa`:
   the kernel (these functions are inlined into one copy for each, see lambda__json_twalk) */
LAMBDA__INLINE const char *lambda__json_skip_box(const char *p, const char *end, int isa)
{
    size_t d = 0;
#ifdef LAMBDA__JSON_SIMD
    if (isa != LAMBDA__JSON_ISA_SCALAR) return LAMBDA__JSON_BOX(isa, p, end);
#else
    (void)isa;
#endif
    while (p < end) {
        unsigned c = (unsigned char)*p | 0x20; /* '[' ']' -> '{' '}' */
        if (c == ('"' | 0x20) && *p == '"') {
            p = lambda__json_skip_str(p, end);
            continue;
        }
        if (c == '{') d++;
        else if (c == '}' && --d == 0) return p + 1;
        p++;
    }
    return end;
}

/* Past the checked value at p (< end; lambda__json_type_of(*p) is not NONE). */
LAMBDA__INLINE const char *lambda__json_skip(const char *p, const char *end, int isa)
{
    if (*p == '"') return lambda__json_skip_str(p, end);
    if (*p == '{' || *p == '[') return lambda__json_skip_box(p, end, isa);
    do p++; while (!lambda__json_delim(p, end)); /* a number or literal */
    return p;
}

/* lambda__json_member for a checked container: 1 with *pp at the value (the start of a
   value) and *key for objects, 0 with *pp past the closing bracket, or 2 when the bytes
   are not what a checked container holds (then *pp is unchanged). */
LAMBDA__INLINE int lambda__json_tmember(const char **pp, const char *end, int obj, int first,
                                        lambda_json *key)
{
    const char *p = lambda__json_ws(*pp + first, end), *k;
    if (p >= end) return 2;
    if (*p == (obj ? '}' : ']')) {
        *pp = p + 1;
        return 0;
    }
    if (!first) {
        if (*p != ',') return 2;
        p = lambda__json_ws(p + 1, end);
    }
    if (obj) {
        if (p >= end || *p != '"') return 2;
        k = p;
        p = lambda__json_skip_str(p, end);
        key->ptr = k;
        key->len = (size_t)(p - k);
        key->type = LAMBDA_JSON_STRING;
        p = lambda__json_ws(p, end);
        if (p >= end || *p != ':') return 2;
        p = lambda__json_ws(p + 1, end);
    }
    if (p >= end || lambda__json_type_of(*p) == LAMBDA_JSON_NONE) return 2;
    *pp = p;
    return 1;
}

/* 1 if the checked key (a STRING value) unescapes to k[0..n). Unescaping never makes a
   string longer: the same length takes the same bytes and no backslash, a longer one a
   backslash and the slow comparison. */
LAMBDA__PRIVATE int lambda__json_tkey_eq(lambda_json key, const char *k, size_t n)
{
    const char *c = key.ptr + 1;
    size_t m;
    if (key.len < 2) return 0;
    m = key.len - 2;
    if (m == n) return memcmp(c, k, n) == 0 && memchr(c, '\\', n) == NULL;
    if (m < n || n == 0 || (c[0] != k[0] && c[0] != '\\')) return 0; /* most keys: the first byte */
    return memchr(c, '\\', m) != NULL && lambda__json_str_eq(c, c + m, k, n);
}

/* lambda__json_walk from a sealed value (path already shown well-formed): 0, NOT_FOUND,
   or 2 when the bytes are not what a checked value holds (the caller checks them). */
LAMBDA__INLINE int lambda__json_twalk_in(const char *p, size_t len, const char *path,
                                         lambda_json *out, int isa)
{
    const char *end = p + len, *s, *k;
    size_t n = 0;
    if (lambda__json_type_of(*p) == LAMBDA_JSON_NONE) return 2;
    for (s = path; *s;) {
        lambda_json key = {NULL, 0, LAMBDA_JSON_NONE, 0};
        size_t i = 0;
        int obj, first = 1, rc;
        s = lambda__json_step(s, s == path, &k, &n);
        obj = k != NULL;
        if (*p != (obj ? '{' : '[')) return LAMBDA_E_NOT_FOUND; /* the other kind of value */
#ifdef LAMBDA__JSON_SIMD
        if (obj && isa != LAMBDA__JSON_ISA_SCALAR) { /* by the blocks' quotes */
            if ((rc = LAMBDA__JSON_TKEY(isa, &p, end, k, n)) == 1) continue;
            if (rc == 0) return LAMBDA_E_NOT_FOUND;
        }
#endif
        for (;;) {
            if ((rc = lambda__json_tmember(&p, end, obj, first, &key)) != 1)
                return rc == 0 ? LAMBDA_E_NOT_FOUND : rc;
            first = 0;
            if (obj ? lambda__json_tkey_eq(key, k, n) : i++ == n) break;
            p = lambda__json_skip(p, end, isa);
        }
    }
    if (out) {
        out->ptr = p;
        out->len = (size_t)(lambda__json_skip(p, end, isa) - p);
        out->type = lambda__json_type_of(*p);
        lambda__json_mark(out);
    }
    (void)isa;
    return 0;
}

/* lambda_json_next's step in a sealed container: lambda__json_tmember, and *v the value */
LAMBDA__INLINE int lambda__json_tnext_in(const char **pp, const char *end, int obj, int first,
                                         lambda_json *k, lambda_json *v, int isa)
{
    int rc = lambda__json_tmember(pp, end, obj, first, k);
    if (rc == 1) {
        const char *p = *pp;
        v->ptr = p;
        v->type = lambda__json_type_of(*p);
        *pp = lambda__json_skip(p, end, isa);
        v->len = (size_t)(*pp - p);
    }
    return rc;
}

/* The kernel for a range of n bytes: on x86_64 SSE2 rather than AVX2 below 2 KB (a record,
   an object): on some CPUs each switch between the two encodings of the vector code costs
   more than the skim of a small object. */
#ifdef LAMBDA__JSON_SIMD
#  ifdef __x86_64__
#define LAMBDA__JSON_ISA_FOR(n)                                                                    \
    (lambda__json_isa() == LAMBDA__JSON_ISA_AVX2 && (n) < 2048 ? LAMBDA__JSON_ISA_SSE2             \
                                                               : lambda__json_isa())
#  else
#    define LAMBDA__JSON_ISA_FOR(n) ((void)(n), lambda__json_isa())
#  endif
#else
#  define LAMBDA__JSON_ISA_FOR(n) ((void)(n), 0)
#endif

LAMBDA__PRIVATE int lambda__json_twalk(const char *p, size_t len, const char *path,
                                       lambda_json *out)
{
    return lambda__json_twalk_in(p, len, path, out, LAMBDA__JSON_ISA_FOR(len));
}

LAMBDA__PRIVATE int lambda__json_tnext(const char **pp, const char *end, int obj, int first,
                                       lambda_json *k, lambda_json *v)
{
    return lambda__json_tnext_in(pp, end, obj, first, k, v,
                                 LAMBDA__JSON_ISA_FOR((size_t)(end - *pp)));
}
#endif /* LAMBDA__JSON_SEAL */

LAMBDA__PRIVATE int lambda__json_walk(const char *p, size_t len, const char *path, lambda_json *out)
{
    const char *end = p + len, *s, *k;
    unsigned depth = 0;
    size_t n = 0;
    int rc;
    lambda__json_none(out);
    if (path == NULL || (p == NULL && len)) return LAMBDA_E_ARG;
    if (!lambda__json_path_ok(path)) return LAMBDA_E_SYNTAX; /* before touching the document */
    p = lambda__json_ws(p, end);
    for (s = path; *s;) {
        int obj;
        s = lambda__json_step(s, s == path, &k, &n);
        obj = k != NULL;
        if (p >= end) return LAMBDA_E_SYNTAX;
        if (*p != (obj ? '{' : '[')) {
            /* the other kind of value: "not found" if it is well-formed */
            rc = lambda__json_scan(&p, end, depth, NULL);
            return rc ? rc : LAMBDA_E_NOT_FOUND;
        }
        if (depth >= LAMBDA_JSON_MAX_DEPTH) return LAMBDA_E_DEPTH;
        depth++;
        if ((rc = lambda__json_seek(&p, end, depth, obj, k, n, n)) != 0) return rc;
    }
    rc = lambda__json_scan(&p, end, depth, out);
#ifdef LAMBDA__JSON_SEAL
    if (rc == 0 && out) lambda__json_mark(out);
#endif
    return rc;
}

LAMBDA_API int lambda_json_validate(lambda_str doc, lambda_json *root, size_t *err_offset)
{
    const char *p = doc.ptr, *end = doc.ptr + doc.len;
    int rc;
    lambda__json_none(root);
    if (err_offset) *err_offset = 0;
    if (doc.ptr == NULL) {
        if (doc.len) return LAMBDA_E_ARG;
        return LAMBDA_E_SYNTAX;
    }
    rc = lambda__json_scan(&p, end, 0, root);
    if (rc == 0) {
        p = lambda__json_ws(p, end);
        if (p != end) rc = LAMBDA_E_SYNTAX;
    }
    if (rc != 0) {
        lambda__json_none(root);
        if (err_offset) *err_offset = (size_t)(p - doc.ptr);
    }
#ifdef LAMBDA__JSON_SEAL
    else if (root) lambda__json_mark(root);
#endif
    return rc;
}

LAMBDA_API int lambda_json_get(lambda_str doc, const char *path, lambda_json *out)
{
    return lambda__json_walk(doc.ptr, doc.len, path, out);
}

LAMBDA_API int lambda_json_find(lambda_json v, const char *path, lambda_json *out)
{
    if (v.type == LAMBDA_JSON_NONE) { /* chaining after a failed look-up */
        lambda__json_none(out);
        return path ? LAMBDA_E_NOT_FOUND : LAMBDA_E_ARG;
    }
#ifdef LAMBDA__JSON_SEAL
    if (path && lambda__json_sealed(v) && lambda__json_path_ok(path)) {
        int rc;
        lambda__json_none(out);
        if ((rc = lambda__json_twalk(v.ptr, v.len, path, out)) != 2) return rc;
    }
#endif
    return lambda__json_walk(v.ptr, v.len, path, out);
}

LAMBDA_API void lambda_json_iter_init(lambda_json_iter *it, lambda_json c)
{
    it->p = c.ptr;
    it->end = c.ptr ? c.ptr + c.len : c.ptr;
    it->kind = c.type;
    it->state = 0;
    it->checked = 0;
    it->index = 0;
    if (c.type != LAMBDA_JSON_ARRAY && c.type != LAMBDA_JSON_OBJECT) it->state = LAMBDA_E_TYPE;
    else if (c.ptr == NULL || c.len < 2 || *c.ptr != (c.type == LAMBDA_JSON_OBJECT ? '{' : '['))
        it->state = LAMBDA_E_SYNTAX;
#ifdef LAMBDA__JSON_SEAL
    else it->checked = lambda__json_sealed(c);
#endif
}

LAMBDA_API int lambda_json_next(lambda_json_iter *it, lambda_json *key, lambda_json *value)
{
    lambda_json k, v;
    int rc;
    lambda__json_none(key);
    lambda__json_none(value);
    if (it->state < 0 || it->state == 2) return it->state < 0 ? it->state : 0;
#ifdef LAMBDA__JSON_SEAL
    if (it->checked) { /* skip, without checking again */
        const char *p = it->p;
        rc =
            lambda__json_tnext(&p, it->end, it->kind == LAMBDA_JSON_OBJECT, it->state == 0, &k, &v);
        if (rc == 0) {
            it->p = p;
            it->state = 2;
            return 0;
        }
        if (rc == 1) {
            it->p = p;
            goto found;
        }
        it->checked = 0; /* not what a checked container holds: check it from here */
    }
#endif
    rc = lambda__json_member(&it->p, it->end, it->kind == LAMBDA_JSON_OBJECT, it->state == 0, &k);
    if (rc == 1) rc = lambda__json_scan(&it->p, it->end, 1, &v);
    else if (rc == 0) {
        it->state = 2;
        return 0;
    }
    if (rc != 0) {
        it->state = rc;
        return rc;
    }
#ifdef LAMBDA__JSON_SEAL
found:
#endif
    it->state = 1;
    it->index++;
    if (key && it->kind == LAMBDA_JSON_OBJECT) {
        *key = k;
#ifdef LAMBDA__JSON_SEAL
        lambda__json_mark(key);
#endif
    }
    if (value) {
        *value = v;
#ifdef LAMBDA__JSON_SEAL
        lambda__json_mark(value);
#endif
    }
    return 1;
}

LAMBDA_API int lambda_json_key(lambda_json obj, const char *key, size_t key_len, lambda_json *out)
{
    lambda_json_iter it;
    lambda_json k, v;
    int rc;
    lambda__json_none(out);
    if (obj.type != LAMBDA_JSON_OBJECT) return LAMBDA_E_TYPE;
    if (key == NULL && key_len) return LAMBDA_E_ARG;
    lambda_json_iter_init(&it, obj);
    while ((rc = lambda_json_next(&it, &k, &v)) == 1) {
        if (lambda__json_str_eq(k.ptr + 1, k.ptr + k.len - 1, key, key_len)) {
            if (out) *out = v;
            return 0;
        }
    }
    return rc ? rc : LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_json_index(lambda_json arr, size_t i, lambda_json *out)
{
    lambda_json_iter it;
    lambda_json v;
    int rc;
    lambda__json_none(out);
    if (arr.type != LAMBDA_JSON_ARRAY) return LAMBDA_E_TYPE;
    lambda_json_iter_init(&it, arr);
    while ((rc = lambda_json_next(&it, NULL, &v)) == 1) {
        if (it.index == i + 1) {
            if (out) *out = v;
            return 0;
        }
    }
    return rc ? rc : LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_json_string(lambda_json v, char *buf, size_t cap, size_t *out_len)
{
    const char *p, *end;
    unsigned char u[4];
    size_t n = 0;
    int rc;
    if (out_len) *out_len = 0;
    if (buf == NULL && cap) return LAMBDA_E_ARG;
    if (cap) buf[0] = '\0';
    if ((rc = lambda__json_content(v, &p, &end)) != 0) return rc;
    while (p < end) {
        size_t run = lambda__json_plain(p, end);
        if (run) { /* copied as it is, as much as fits */
            if (n + 1 < cap) memcpy(buf + n, p, run < cap - 1 - n ? run : cap - 1 - n);
            n += run;
            p += run;
        } else {
            int k = lambda__json_unit(&p, end, u), j;
            if (k < 0) {
                if (cap) buf[0] = '\0';
                return k;
            }
            for (j = 0; j < k; j++, n++)
                if (n + 1 < cap) buf[n] = (char)u[j];
        }
    }
    if (out_len) *out_len = n;
    if (n >= cap) {
        if (cap) buf[0] = '\0';
        return LAMBDA_E_SPACE;
    }
    buf[n] = '\0';
    return 0;
}

LAMBDA_API int lambda_json_string_eq(lambda_json v, const char *s)
{
    const char *p, *end;
    if (s == NULL || lambda__json_content(v, &p, &end) != 0) return 0;
    return lambda__json_str_eq(p, end, s, strlen(s));
}

/* Strict JSON number text -> double without the locale: the digits are rewritten as
   "<integer mantissa>e<exponent>", which has no decimal point for the locale to disagree
   with, and handed to strtod (correctly rounded in glibc and musl). Mantissas longer than
   LAMBDA__JSON_DIGITS keep a sticky '1' for the dropped non-zero digits, which is enough
   for correct rounding. */
LAMBDA__PRIVATE int lambda__json_parse_double(const char *p, size_t len, double *out)
{
    char buf[LAMBDA__JSON_DIGITS + 32], *endp;
    const char *end = p + len, *q = p;
    long long e10 = 0, ex = 0;
    size_t nd = 0;
    int neg = 0, frac = 0, sticky = 0, is_int, eneg = 0, saved;
    double d;
    if (lambda__json_scan_num(&q, end, &is_int) != 0 || q != end) return LAMBDA_E_SYNTAX;
    if (*p == '-') neg = 1, p++;
    for (; p < end && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if (frac) e10--;
        if (nd == 0 && *p == '0') continue; /* leading zeros */
        if (nd < LAMBDA__JSON_DIGITS) buf[1 + nd++] = *p;
        else {
            e10++;
            if (*p != '0') sticky = 1;
        }
    }
    if (p < end) { /* exponent */
        p++;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        for (; p < end; p++)
            if (ex < 100000000) ex = ex * 10 + (*p - '0');
        e10 += eneg ? -ex : ex;
    }
    if (nd == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (sticky) buf[1 + nd++] = '1', e10--;
    if (e10 > 99999) e10 = 99999;
    if (e10 < -99999) e10 = -99999;
    buf[0] = '-';
    {
        char *w = buf + 1 + nd;
        unsigned long m = (unsigned long)(e10 < 0 ? -e10 : e10);
        char tmp[8];
        int t = 0;
        *w++ = 'e';
        if (e10 < 0) *w++ = '-';
        do tmp[t++] = (char)('0' + m % 10); while ((m /= 10) != 0);
        while (t) *w++ = tmp[--t];
        *w = '\0';
    }
    saved = errno;
    d = strtod(neg ? buf : buf + 1, &endp);
    errno = saved;
    if (*endp != '\0') return LAMBDA_E_SYNTAX; /* cannot happen */
    if (d - d != 0.0) return LAMBDA_E_RANGE;   /* infinity */
    *out = d;
    return 0;
}

LAMBDA_API int lambda_json_double(lambda_json v, double *out)
{
    double d = 0.0;
    int rc;
    if (v.type != LAMBDA_JSON_NUMBER) return LAMBDA_E_TYPE;
    if (v.ptr == NULL) return LAMBDA_E_SYNTAX;
    rc = lambda__json_parse_double(v.ptr, v.len, &d);
    if (rc == 0 && out) *out = d;
    return rc;
}

LAMBDA_API int lambda_json_int64(lambda_json v, int64_t *out)
{
    const char *p = v.ptr, *end = v.ptr ? v.ptr + v.len : v.ptr;
    uint64_t m = 0, lim;
    int is_int, neg;
    if (v.type != LAMBDA_JSON_NUMBER) return LAMBDA_E_TYPE;
    if (p == NULL || lambda__json_scan_num(&p, end, &is_int) != 0 || p != end)
        return LAMBDA_E_SYNTAX;
    if (!is_int) return LAMBDA_E_TYPE;
    p = v.ptr;
    neg = *p == '-';
    p += neg;
    lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        unsigned dg = (unsigned)(*p - '0');
        if (m > (lim - dg) / 10) return LAMBDA_E_RANGE;
        m = m * 10 + dg;
    }
    if (out) *out = neg ? (m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return 0;
}

LAMBDA_API int lambda_json_bool(lambda_json v, int *out)
{
    if (v.type != LAMBDA_JSON_TRUE && v.type != LAMBDA_JSON_FALSE) return LAMBDA_E_TYPE;
    if (out) *out = v.type == LAMBDA_JSON_TRUE;
    return 0;
}

LAMBDA_API int lambda_json_is_null(lambda_json v)
{
    return v.type == LAMBDA_JSON_NULL;
}

LAMBDA_API int lambda_json_get_string(lambda_str doc, const char *path, char *buf, size_t cap,
                                      size_t *out_len)
{
    lambda_json v;
    int rc = lambda_json_get(doc, path, &v);
    if (rc != 0) {
        if (out_len) *out_len = 0;
        if (buf && cap) buf[0] = '\0';
        return rc;
    }
    return lambda_json_string(v, buf, cap, out_len);
}

LAMBDA_API int lambda_json_get_int64(lambda_str doc, const char *path, int64_t *out)
{
    lambda_json v;
    int rc = lambda_json_get(doc, path, &v);
    return rc ? rc : lambda_json_int64(v, out);
}

/* ---- writing ---- */

/* The first error and what was wrong (NULL: lambda_strerror(rc) says it); sticky. */
LAMBDA__PRIVATE int lambda__jw_fail(lambda_json_writer *w, int rc, const char *why)
{
    if (w->err == 0) {
        w->err = rc;
        w->err_why = why;
    }
    return w->err;
}

/* What every public write call returns: the first one that fails is named. */
LAMBDA__PRIVATE int lambda__jw_ret(lambda_json_writer *w, int rc, const char *call)
{
    if (rc && w->err_call == NULL) {
        if (w->err == 0) w->err = rc; /* a failure that did not go through lambda__jw_fail */
        w->err_call = call;
        if (w->err_why == NULL) w->err_why = lambda_strerror(w->err);
        lambda__note(w->note, call, w->err_why);
    }
    return rc;
}

LAMBDA__PRIVATE int lambda__jw_in_object(const lambda_json_writer *w)
{
    return w->depth > 0 && ((w->stack[(w->depth - 1) >> 3] >> ((w->depth - 1) & 7)) & 1);
}

LAMBDA__PRIVATE int lambda__jw_put(lambda_json_writer *w, const void *data, size_t len)
{
    int rc = w->res ? lambda_response_append(w->res, data, len)
                    : w->sink(w, (const char *)data, len);
    return rc ? lambda__jw_fail(w, rc, NULL) : 0;
}

/* A writer without a response escapes its strings through a stand-in response whose
   appends go to the writer's sink (lambda__json_escape writes only to a response). */
typedef struct lambda__jw_proxy {
    lambda_response res;        /* first: the chunk function finds the proxy from it */
    lambda_json_writer *w;
} lambda__jw_proxy;

LAMBDA__PRIVATE int lambda__jw_proxy_chunk(lambda_response *res, const void *data, size_t len)
{
    lambda_json_writer *w = ((lambda__jw_proxy *)(void *)res)->w;
    return w->sink(w, (const char *)data, len);
}

/* s[0..len) as a quoted JSON string, to wherever the writer writes: a response directly,
   a sink through w->escape (lambda__jw_proxy_escape, set with the sink: a program that
   writes only into responses links none of this). */
LAMBDA__PRIVATE int lambda__jw_escape(lambda_json_writer *w, const char *s, size_t len)
{
    return w->res ? lambda__json_escape(w->res, s, len, LAMBDA__JSON_QUOTE) : w->escape(w, s, len);
}

LAMBDA__PRIVATE int lambda__jw_proxy_escape(lambda_json_writer *w, const char *s, size_t len)
{
    lambda__jw_proxy px;
    memset(&px, 0, sizeof px);
    px.res.streaming = 1;
    px.res.chunk = lambda__jw_proxy_chunk;
    px.w = w;
    return lambda__json_escape(&px.res, s, len, LAMBDA__JSON_QUOTE);
}

/* lambda_json_writer_init_buf's sink: the caller's buffer, kept NUL-terminated. */
LAMBDA__PRIVATE int lambda__jw_buf_sink(lambda_json_writer *w, const char *data, size_t len)
{
    if (len >= w->cap - w->len) return LAMBDA_E_SPACE;
    memcpy(w->buf + w->len, data, len);
    w->len += len;
    w->buf[w->len] = '\0';
    return 0;
}

/* Is a value due: no error, not after the document, not where a key is due? */
LAMBDA__PRIVATE int lambda__jw_due(lambda_json_writer *w)
{
    if (w->err) return w->err;
    if (w->flags & LAMBDA__JW_DONE)
        return lambda__jw_fail(w, LAMBDA_E_STATE, "a value after the document was complete");
    if (lambda__jw_in_object(w) && (w->flags & LAMBDA__JW_KEY))
        return lambda__jw_fail(w, LAMBDA_E_STATE, "a value where a key is due");
    return 0;
}

/* Before a value: check the state, write the comma that separates array elements. */
LAMBDA__PRIVATE int lambda__jw_pre(lambda_json_writer *w)
{
    int rc = lambda__jw_due(w);
    if (rc == 0 && w->depth && !lambda__jw_in_object(w) && (w->flags & LAMBDA__JW_COMMA))
        return lambda__jw_put(w, ",", 1);
    return rc;
}

/* After a complete value. */
LAMBDA__PRIVATE int lambda__jw_post(lambda_json_writer *w)
{
    if (w->depth == 0) w->flags = LAMBDA__JW_DONE;
    else w->flags = LAMBDA__JW_COMMA | (lambda__jw_in_object(w) ? LAMBDA__JW_KEY : 0u);
    return 0;
}

LAMBDA__PRIVATE int lambda__jw_scalar(lambda_json_writer *w, const char *text, size_t len)
{
    int rc = lambda__jw_pre(w);
    if (rc == 0) rc = lambda__jw_put(w, text, len);
    return rc ? rc : lambda__jw_post(w);
}

/* lambda__jw_scalar for a number formatted at text (len <= 31), with text[-1] free for the
   comma that separates array elements, and 32 bytes readable from text - 1: one append,
   and into a response body a copy of a fixed 32 bytes (four moves, where a C library's
   memcpy of a few bytes can cost more than formatting them: musl's rep movs). */
LAMBDA__PRIVATE int lambda__jw_number(lambda_json_writer *w, char *text, size_t len)
{
    lambda_response *res = w->res;
    int rc;
    if ((rc = lambda__jw_due(w)) != 0) return rc;
    if (w->depth && !lambda__jw_in_object(w) && (w->flags & LAMBDA__JW_COMMA)) *--text = ',', len++;
    if (res && !res->streaming && !res->append_err &&
        lambda__buf_reserve(&res->body, len, res->max) == 0 && res->body.cap - res->body.len > 32) {
        char *to = res->body.ptr + res->body.len;
        memcpy(to, text, 8);
        memcpy(to + 8, text + 8, 8);
        memcpy(to + 16, text + 16, 8);
        memcpy(to + 24, text + 24, 8);
        res->body.len += len;
        res->body.ptr[res->body.len] = '\0';
        rc = 0;
    } else {
        rc = lambda__jw_put(w, text, len);
    }
    return rc ? rc : lambda__jw_post(w);
}

LAMBDA__PRIVATE int lambda__jw_begin(lambda_json_writer *w, int obj)
{
    int rc = lambda__jw_pre(w);
    unsigned d = w->depth;
    if (rc) return rc;
    if (d >= LAMBDA_JSON_MAX_DEPTH)
        return lambda__jw_fail(w, LAMBDA_E_STATE, "nested deeper than LAMBDA_JSON_MAX_DEPTH");
    if ((rc = lambda__jw_put(w, obj ? "{" : "[", 1)) != 0) return rc;
    if (obj) w->stack[d >> 3] = (unsigned char)(w->stack[d >> 3] | (1u << (d & 7)));
    else w->stack[d >> 3] = (unsigned char)(w->stack[d >> 3] & ~(1u << (d & 7)));
    w->depth = d + 1;
    w->flags = obj ? LAMBDA__JW_KEY : 0u;
    return 0;
}

LAMBDA__PRIVATE int lambda__jw_end(lambda_json_writer *w, int obj)
{
    int rc;
    if (w->err) return w->err;
    if (w->depth == 0) return lambda__jw_fail(w, LAMBDA_E_STATE, "nothing is open to end");
    if (lambda__jw_in_object(w) != obj)
        return lambda__jw_fail(w, LAMBDA_E_STATE,
                               obj ? "the open container is an array" : "the open container "
                                                                         "is an object");
    if (obj && !(w->flags & LAMBDA__JW_KEY))
        return lambda__jw_fail(w, LAMBDA_E_STATE, "a key without its value");
    if ((rc = lambda__jw_put(w, obj ? "}" : "]", 1)) != 0) return rc;
    w->depth--;
    return lambda__jw_post(w);
}

LAMBDA_API void lambda_json_writer_init(lambda_json_writer *w, lambda_response *res)
{
    memset(w, 0, sizeof *w);
    w->res = res;
    w->note = res;
    if (res == NULL) {
        w->err = LAMBDA_E_ARG;
        w->err_call = "lambda_json_writer_init";
        w->err_why = "the response is NULL";
    }
}

LAMBDA_API void lambda_json_writer_init_buf(lambda_json_writer *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->sink = lambda__jw_buf_sink;
    w->escape = lambda__jw_proxy_escape;
    w->buf = buf;
    w->cap = cap;
    if (buf == NULL || cap == 0) {
        w->err = LAMBDA_E_ARG;
        w->err_call = "lambda_json_writer_init_buf";
        w->err_why = "no buffer (NULL, or a capacity of 0)";
    } else {
        buf[0] = '\0';
    }
}

LAMBDA_API int lambda_json_write_begin_object(lambda_json_writer *w)
{
    return lambda__jw_ret(w, lambda__jw_begin(w, 1), "lambda_json_write_begin_object");
}
LAMBDA_API int lambda_json_write_end_object(lambda_json_writer *w)
{
    return lambda__jw_ret(w, lambda__jw_end(w, 1), "lambda_json_write_end_object");
}
LAMBDA_API int lambda_json_write_begin_array(lambda_json_writer *w)
{
    return lambda__jw_ret(w, lambda__jw_begin(w, 0), "lambda_json_write_begin_array");
}
LAMBDA_API int lambda_json_write_end_array(lambda_json_writer *w)
{
    return lambda__jw_ret(w, lambda__jw_end(w, 0), "lambda_json_write_end_array");
}

/* The escaper's error: invalid UTF-8, or the append's own. */
LAMBDA__PRIVATE int lambda__jw_text(lambda_json_writer *w, const char *s, size_t len)
{
    int rc = lambda__jw_escape(w, s, len);
    return rc ? lambda__jw_fail(w, rc, rc == LAMBDA_E_UTF8 ? "not valid UTF-8" : NULL) : 0;
}

LAMBDA__PRIVATE int lambda__jw_key(lambda_json_writer *w, const char *key, size_t len)
{
    int rc;
    if (w->err) return w->err;
    if (!lambda__jw_in_object(w))
        return lambda__jw_fail(w, LAMBDA_E_STATE, "a key outside an object");
    if (!(w->flags & LAMBDA__JW_KEY))
        return lambda__jw_fail(w, LAMBDA_E_STATE, "a key where a value is due");
    if (key == NULL && len) return lambda__jw_fail(w, LAMBDA_E_ARG, "the key is NULL");
    if ((w->flags & LAMBDA__JW_COMMA) && (rc = lambda__jw_put(w, ",", 1)) != 0) return rc;
    if ((rc = lambda__jw_text(w, key, len)) != 0) return rc;
    if ((rc = lambda__jw_put(w, ":", 1)) != 0) return rc;
    w->flags = 0;
    return 0;
}

LAMBDA_API int lambda_json_write_key(lambda_json_writer *w, const char *key, size_t len)
{
    return lambda__jw_ret(w, lambda__jw_key(w, key, len), "lambda_json_write_key");
}

LAMBDA_API int lambda_json_write_ckey(lambda_json_writer *w, const char *key)
{
    return lambda__jw_ret(w, lambda__jw_key(w, key, key ? strlen(key) : 1u),
                          "lambda_json_write_ckey");
}

LAMBDA__PRIVATE int lambda__jw_string(lambda_json_writer *w, const char *s, size_t len)
{
    int rc = lambda__jw_pre(w);
    if (rc == 0 && s == NULL && len) rc = lambda__jw_fail(w, LAMBDA_E_ARG, "the string is NULL");
    if (rc == 0) rc = lambda__jw_text(w, s, len);
    return rc ? rc : lambda__jw_post(w);
}

LAMBDA_API int lambda_json_write_string(lambda_json_writer *w, const char *s, size_t len)
{
    return lambda__jw_ret(w, lambda__jw_string(w, s, len), "lambda_json_write_string");
}

LAMBDA_API int lambda_json_write_cstring(lambda_json_writer *w, const char *s)
{
    int rc = s ? lambda__jw_string(w, s, strlen(s)) : lambda__jw_scalar(w, LAMBDA__LIT("null"));
    return lambda__jw_ret(w, rc, "lambda_json_write_cstring");
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 lambda__u128;
#endif

/* the high 64 bits of a * b; *lo the low 64 */
LAMBDA__INLINE uint64_t lambda__mul64(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    lambda__u128 p = (lambda__u128)a * b;
    *lo = (uint64_t)p;
    return (uint64_t)(p >> 64);
#else
    uint64_t al = a & 0xFFFFFFFFu, ah = a >> 32, bl = b & 0xFFFFFFFFu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
    *lo = (mid << 32) | (ll & 0xFFFFFFFFu);
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* The decimal digits of v, ending just before `end`; returns where they start. No
   division instructions (under -Os gcc would emit one per digit, some 40 cycles each):
   x / 100 = (x * 1374389535) >> 37 for every 32-bit x; (v * 0xabcc77118461cefd) >> 90 =
   v / 10^8 for v < 2^57; and 8 digits of n < 10^8 come from the 64-bit fraction
   f = n * ceil(2^64 / 10^8) ~ n / 10^8, two at a time as the integer parts of f * 100
   (its error, below n, stays under the 2^64 / 10^8 that would change a digit). */
LAMBDA__INLINE char *lambda__jw_2dig(char *end, uint32_t *r) /* the last two digits of *r */
{
    uint32_t t = (uint32_t)(((uint64_t)*r * 1374389535u) >> 37), two = *r - t * 100;
    uint32_t tens = (two * 103) >> 10; /* two / 10 for two < 100 */
    end[-1] = (char)('0' + (two - tens * 10));
    end[-2] = (char)('0' + tens);
    *r = t;
    return end - 2;
}

LAMBDA__INLINE void lambda__jw_8dig(char *out, uint32_t n) /* n < 10^8, zero-padded */
{
    uint64_t f = (uint64_t)n * 184467440738u, two;
    int i;
    for (i = 0; i < 8; i += 2) {
        uint32_t tens;
        two = lambda__mul64(f, 100, &f);
        tens = ((uint32_t)two * 103) >> 10;
        out[i] = (char)('0' + tens);
        out[i + 1] = (char)('0' + ((uint32_t)two - tens * 10));
    }
}

LAMBDA__PRIVATE char *lambda__jw_utoa(char *end, uint64_t v)
{
    uint32_t r;
    while (v >= 100000000u) { /* the low 8 digits */
        uint64_t lo,
            q = v >> 57 ? v / 100000000u : lambda__mul64(v, 0xabcc77118461cefdu, &lo) >> 26;
        end -= 8;
        lambda__jw_8dig(end, (uint32_t)(v - q * 100000000u));
        v = q;
    }
    r = (uint32_t)v;
    while (r >= 100) end = lambda__jw_2dig(end, &r);
    if (r >= 10) return lambda__jw_2dig(end, &r);
    *--end = (char)('0' + r);
    return end;
}

/* v / 10 for every 64-bit v */
LAMBDA__INLINE uint64_t lambda__jw_div10(uint64_t v)
{
    uint64_t lo;
    return lambda__mul64(v, 0xcccccccccccccccdu, &lo) >> 3;
}

LAMBDA__PRIVATE int lambda__jw_i64(lambda_json_writer *w, int64_t v)
{
    char tmp[72], *q; /* the digits end at tmp + 24; 48 bytes readable from the comma */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    q = lambda__jw_utoa(tmp + 24, m);
    if (v < 0) *--q = '-';
    return lambda__jw_number(w, q, (size_t)(tmp + 24 - q));
}

/* Doubles are written with Schubfach: R. Giulietti, "The Schubfach way to render doubles"
   (2020, revised 2021).
   v = c 2^q reads back from every decimal in its rounding interval [vl, vr] (the halfway
   points to its neighbours, inclusive when c is even); k is chosen so that the interval,
   scaled by 10^-k, is at least 1 wide and less than 10: it then holds a multiple of 10 (a
   shorter decimal) at most once, or else one or two integers, of which the closer to v
   wins. The scaling multiplies by g = ceil(10^-k 2^(126 - floor(log2 10^-k))), 127 bits,
   for k = -324 (floor(log10(2^-1074))) .. 292, and rounds the product to odd, which keeps
   every comparison with an even integer exact. g comes from one of 39 bases times a power
   of 5 (lambda__jw_pow10: 1,064 bytes of tables instead of 617 rows, 9,872 bytes); the tables
   are the output of tools/json_pow10.py, and tests/test_json.c recomputes every g with
   exact integers. No snprintf, no strtod, no division by a variable. */
static const uint64_t lambda__jw_p10[39][3] = {
    {0x7fbbd8fe5f5e6e27u, 0x92f4744e09dd87bdu, 0x6fcd9814a254420au}, /* 10^-292 */
    {0x46e80fd6c83ffe1du, 0xd71ed3ecbfb3c971u, 0xe9024e4848c3bcbeu}, /* 10^-276 */
    {0x4eb8d647d6d364dau, 0xb7bb9fe1b01eda54u, 0xa31ecb7f939ee33eu}, /* 10^-260 */
    {0x576624c8a03c29b6u, 0xac7d74fbb9c4370cu, 0x41343b84dd485c27u}, /* 10^-244 */
    {0x61084a1b26fdab1bu, 0x4c2c8afe097aa172u, 0x63f53771a6f40919u}, /* 10^-228 */
    {0x6bba42e592c11d63u, 0xbeb199499b35c145u, 0x9bd37def9348cf0fu}, /* 10^-212 */
    {0x779a054c0b955672u, 0x437dc4b88b643e1au, 0x4e1ce0ed262493c6u}, /* 10^-196 */
    {0x42646a6fe9631f9du, 0x94f66cfa0020f039u, 0xbad4cfbca189c739u}, /* 10^-180 */
    {0x49b5cfe75d92e4cau, 0xe55886ec805f761au, 0x71d3a461da99c3b5u}, /* 10^-164 */
    {0x51d5b32c06afed7au, 0xe09f3068697075ddu, 0x19c58ae640a641f9u}, /* 10^-148 */
    {0x5adad6d4557fc05cu, 0x06c0ccc909922b5du, 0x576b2bd64dfb15b3u}, /* 10^-132 */
    {0x64de7fb01a609829u, 0x7e44d9c9ee81785au, 0xcb2d2f26a53448a4u}, /* 10^-116 */
    {0x6ffcbb923814bf5eu, 0xacbc3f15c9de2b7bu, 0xa0313221c93d4e2du}, /* 10^-100 */
    {0x7c54afe7c43a3ecau, 0x3ad22631cbe74895u, 0x19e653603583dba6u}, /* 10^-84 */
    {0x4504787c5f878ab5u, 0x8dc74f65b20dac7fu, 0xdcd35340a78b20d8u}, /* 10^-68 */
    {0x4c9ff163683dbfd5u, 0xf2a35401c77f2014u, 0x92cba1e2a47a0bf5u}, /* 10^-52 */
    {0x5512124cb4b9c969u, 0x6ef285e8eae85cf4u, 0xf57f04c308edea8bu}, /* 10^-36 */
    {0x5e72843249088d75u, 0x447a5d8e535e7ac2u, 0x0c0f5402cfbb2995u}, /* 10^-20 */
    {0x68db8bac710cb295u, 0xe9e1b089a0275254u, 0x60aa64c2f837b4a2u}, /* 10^-4 */
    {0x746a528800000000u, 0x0000000000000000u, 0x0000000000000000u}, /* 10^12 */
    {0x409f9cbc7c4a04c2u, 0x2000000000000000u, 0x0000000000000000u}, /* 10^28 */
    {0x47bf19673df52e37u, 0xf2410011d1000000u, 0x0000000000000000u}, /* 10^44 */
    {0x4fa793930bcd1122u, 0x80ebb121164a32c8u, 0x6c88000000000000u}, /* 10^60 */
    {0x586f329c466456d4u, 0x1d92d2afa194a5e5u, 0xddd697c5c6544000u}, /* 10^76 */
    {0x622e8efca1388ecdu, 0x1dd2e85e9927c1cau, 0x05f6042e9b370c11u}, /* 10^92 */
    {0x6d00f7320d3846f4u, 0xf40737a410664a4au, 0xeba5d5681de0ec69u}, /* 10^108 */
    {0x7904bc3dda3eb5c2u, 0x6033c62ede91d24du, 0x030961e2e70af2aau}, /* 10^124 */
    {0x432dc3492dcde2e1u, 0x05c511c95d22d4d9u, 0x2e332c6a04fdc5fbu}, /* 10^140 */
    {0x4a955a2e7d4bd059u, 0x6eca2d3a3df930c1u, 0xcc3041571172f098u}, /* 10^156 */
    {0x52cde11a6d9cc612u, 0xa1fd5cc1bf34c84au, 0xe1bd7802e4b6ec84u}, /* 10^172 */
    {0x5bee5fa9aa74df67u, 0x0608f6b6a9c57597u, 0x937beb953c92b831u}, /* 10^188 */
    {0x6610674de9ae3c52u, 0x98f601c6fbda20fau, 0x12323ef0a8234c75u}, /* 10^204 */
    {0x71505aee4b8f981du, 0x172257324207eb0eu, 0xf0144b2e1fac055eu}, /* 10^220 */
    {0x7dcdbe6cd253a21eu, 0x0b4c207780bed1d8u, 0xb07b9c519ab4c326u}, /* 10^236 */
    {0x45d5c777db204e0du, 0x0d6844db617baa47u, 0x12e3dc42dd23371bu}, /* 10^252 */
    {0x4d885272f4c89894u, 0x653e795a0c8e4193u, 0x46ea5374dbe88079u}, /* 10^268 */
    {0x5614106cb11dfa14u, 0xaa31a2fd4fdee6a2u, 0x27607b2fa189ade1u}, /* 10^284 */
    {0x5f90f22001d66e96u, 0x70238531f35eab61u, 0xa929160427e47087u}, /* 10^300 */
    {0x6a198bcece465c20u, 0xafd303495230a8f5u, 0xde414fcf3e4c808du}, /* 10^316 */
};
static const uint64_t lambda__jw_p5[16] = {
    0x1u, 0x5u, 0x19u, 0x7du,
    0x271u, 0xc35u, 0x3d09u, 0x1312du,
    0x5f5e1u, 0x1dcd65u, 0x9502f9u, 0x2e90eddu,
    0xe8d4a51u, 0x48c27395u, 0x16bcc41e9u, 0x71afd498du,
};


/* The scaled value and the ends of the interval, 4 v 10^-k and 4 vl 10^-k, 4 vr 10^-k: the
   products g * (cb << h), g * (cbl << h), g * ((cb + 2) << h), each >> 128 and rounded to
   odd (the low bit set when a dropped bit of weight 2^64 or more is). g exceeds 10^-k 2^r
   by less than 1, so each product exceeds the exact one by less than cb << h < 2^64: that
   error stays in the low 64 bits, and an exact integer stays exact (the scaled ends can
   be integers: 5^k divides 4c + 2 for some k in 1..23), while a product that is not an
   integer has a fraction of more than 2^-64 (the paper's bound), which the middle 64 bits
   show. The ends are the middle product -/+ g << (h + 1) (g << h below a power of two):
   two multiplications, not six. */
LAMBDA__INLINE void lambda__jw_scale(const uint64_t *g, uint64_t cb, int h, int irregular,
                                     uint64_t *vb, uint64_t *vbl, uint64_t *vbr)
{
    uint64_t a0, a1 = lambda__mul64(g[1], cb << h, &a0), b0, b1 = lambda__mul64(g[0], cb << h, &b0);
    uint64_t p1 = b0 + a1, p2 = b1 + (uint64_t)(p1 < b0), x0, x1, x2, c;
    int sh = h + 1 - irregular;
    *vb = p2 | (uint64_t)(p1 != 0);
    x0 = g[1] << sh; /* the lower end: a0 p1 p2 - (g << sh) */
    x1 = (g[0] << sh) | (g[1] >> (64 - sh));
    x2 = g[0] >> (64 - sh);
    c = (uint64_t)(a0 < x0);
    x2 = p2 - x2 - (uint64_t)(p1 < x1) - (uint64_t)(p1 - x1 < c);
    x1 = p1 - x1 - c;
    *vbl = x2 | (uint64_t)(x1 != 0);
    sh = h + 1; /* the upper end: a0 p1 p2 + (g << sh) */
    x0 = g[1] << sh;
    x1 = (g[0] << sh) | (g[1] >> (64 - sh));
    x2 = g[0] >> (64 - sh);
    c = (uint64_t)(a0 + x0 < a0);
    x1 += p1;
    x2 += p2 + (uint64_t)(x1 < p1) + (uint64_t)(x1 + c < x1);
    x1 += c;
    *vbr = x2 | (uint64_t)(x1 != 0);
}

/* floor(log10(2^q)), floor(log10(3/4 2^q)) for |q| <= 1100, floor(log2(10^e)) for |e| <= 400
   (fixed-point products; checked over those ranges by tests/test_json.c). The biases keep
   the shifted values non-negative. */
LAMBDA__PRIVATE int lambda__jw_log10_2(int q, int threequarters)
{
    return (int)((((int64_t)q * 1292913986 - (threequarters ? 536607788 : 0)) +
                  ((int64_t)512 << 32)) >> 32) - 512;
}

LAMBDA__PRIVATE int lambda__jw_log2_10(int e)
{
    return (int)(((int64_t)e * 1741647 + ((int64_t)1024 << 19)) >> 19) - 1024;
}
/* g for k: the base b at or below e = -k (one every 16 powers) times 5^(e - b), shifted
   back to 127 bits and rounded up. A base is the scaled power with 64 more bits, floored:
   for 0 <= b < 83 it is exact (5^b 2^(190 - floor(log2 10^b)) is an integer) and so is the
   product; elsewhere the product lies below the exact one by less than 5^(e - b) < 2^35
   units, 2^64 or more below the first bit kept, so the rounding up is right unless the
   dropped bits come that close to the next unit: tools/json_pow10.py checks that for every
   k, and tests/test_json.c checks every g again with its own integers. */
LAMBDA__PRIVATE void lambda__jw_pow10(int k, uint64_t g[2])
{
    int e = -k, j = (e + 292) >> 4, r = (e + 292) & 15, b = e - r;
    int s = lambda__jw_log2_10(e) - lambda__jw_log2_10(b) - r; /* 0..63: bits(P) - 191 */
    const uint64_t *w = lambda__jw_p10[j];
    uint64_t m = lambda__jw_p5[r], p0, p1, p2, p3, l1, l2, h0, h1, c, inc;
    h1 = lambda__mul64(w[2], m, &p0); /* P = w * m: p3 p2 p1 p0 */
    h0 = lambda__mul64(w[1], m, &l1);
    p3 = lambda__mul64(w[0], m, &l2);
    p1 = l1 + h1;
    c = (uint64_t)(p1 < l1);
    p2 = l2 + h0;
    p3 += (uint64_t)(p2 < l2);
    p2 += c;
    p3 += (uint64_t)(p2 < c);
    inc = (uint64_t)((p0 | (p1 << 1 << (63 - s))) != 0 || b < 0 || b >= 83);
    g[1] = ((p1 >> s) | (p2 << 1 << (63 - s))) + inc; /* P >> (64 + s), plus one */
    g[0] = ((p2 >> s) | (p3 << 1 << (63 - s))) + (uint64_t)(g[1] < inc);
}

/* The shortest decimal d 10^*e10 that reads back as the positive finite double with these
   bits, the closest to it when several are as short (ties: the even one), without trailing
   zeros. */
LAMBDA__PRIVATE uint64_t lambda__jw_shortest(uint64_t bits, int *e10)
{
    uint64_t t = bits & (((uint64_t)1 << 52) - 1), c, cb, cbl, vb, vbl, vbr, s, d;
    uint64_t g[2];
    int be = (int)(bits >> 52), q, k, h, odd;
    if (be == 0) {
        c = t;
        q = -1074;
    } else {
        c = t | (uint64_t)1 << 52;
        q = be - 1075;
        if (q <= 0 && q >= -52 && (c & (((uint64_t)1 << -q) - 1)) == 0) { /* an integer */
            d = c >> -q;
            *e10 = 0;
            goto strip;
        }
    }
    odd = (int)(c & 1); /* an odd c reads back only from inside its interval, not its ends */
    cb = c << 2;
    if (t == 0 && be > 1) { /* c = 2^52: the lower neighbour is twice as close */
        cbl = cb - 1;
        k = lambda__jw_log10_2(q, 1);
    } else {
        cbl = cb - 2;
        k = lambda__jw_log10_2(q, 0);
    }
    h = q + lambda__jw_log2_10(-k) + 2; /* 2..5: cb << h < 2^60 */
    lambda__jw_pow10(k, g);
    lambda__jw_scale(g, cb, h, (int)(cb - cbl) & 1, &vb, &vbl, &vbr);
    s = vb >> 2;
    *e10 = k;
    if (s >= 10) { /* a multiple of 10 in the interval: one digit less (or more, stripped) */
        uint64_t lo = lambda__jw_div10(s) * 10, hi = lo + 10;
        int lo_in = vbl + (uint64_t)odd <= lo << 2, hi_in = (hi << 2) + (uint64_t)odd <= vbr;
        if (lo_in != hi_in) {
            d = lo_in ? lo : hi;
            goto strip;
        }
    }
    { /* s or s + 1: the one inside, else the closer (a tie: the even); no branch */
        int s_in = vbl + (uint64_t)odd <= s << 2, t_in = ((s + 1) << 2) + (uint64_t)odd <= vbr;
        uint64_t mid = (s << 2) + 2; /* 4 (s + 1/2) */
        int up = vb > mid || (vb == mid && (s & 1));
        d = s + (uint64_t)((s_in == 0) | (t_in & up));
    }
strip:
    while (lambda__jw_div10(d) * 10 == d) {
        d = lambda__jw_div10(d);
        ++*e10;
    }
    return d;
}

/* v finite: its shortest form at out (room for 48 bytes), laid out as %.17g would lay it
   out with max(15, digits) for the precision; returns the length. The copies have fixed
   sizes (a few moves; the bytes past the digits are overwritten or not counted). */
LAMBDA__PRIVATE size_t lambda__jw_double(char *out, double v)
{
    char buf[40], *dg;
    uint64_t bits, d;
    size_t n = 0;
    int e10, nd, x;
    memcpy(&bits, &v, sizeof bits);
    if (bits >> 63) out[n++] = '-';
    if ((bits << 1) == 0) {
        out[n++] = '0';
        return n;
    }
    d = lambda__jw_shortest(bits & ~((uint64_t)1 << 63), &e10);
    memset(buf + 20, '0', 20);
    dg = lambda__jw_utoa(buf + 20, d); /* the digits, then zeros */
    nd = (int)(buf + 20 - dg);
    x = e10 + nd - 1; /* the exponent of the first digit */
    if (x < -4 || x >= (nd > 15 ? nd : 15)) { /* d.ddde+XX */
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        out[n] = dg[0];
        out[n + 1] = '.';
        memcpy(out + n + 2, dg + 1, 16);
        n += nd > 1 ? (size_t)nd + 1 : 1;
        out[n++] = 'e';
        out[n++] = x < 0 ? '-' : '+';
        if (ax >= 100) out[n++] = (char)('0' + ax / 100);
        out[n++] = (char)('0' + ax / 10 % 10);
        out[n++] = (char)('0' + ax % 10);
    } else if (x >= 0) { /* ddd, ddd000 (the zeros after the digits) or dd.ddd */
        memcpy(out + n, dg, 20);
        if (nd > x + 1) {
            memcpy(out + n + x + 2, dg + x + 1, 16);
            out[n + (size_t)x + 1] = '.';
            n += (size_t)nd + 1;
        } else {
            n += (size_t)x + 1;
        }
    } else { /* 0.000ddd */
        memcpy(out + n, "0.0000", 6);
        memcpy(out + n + 1 - x, dg, 20);
        n += (size_t)(1 - x + nd);
    }
    return n;
}

LAMBDA_API int lambda_json_write_int64(lambda_json_writer *w, int64_t v)
{
    return lambda__jw_ret(w, lambda__jw_i64(w, v), "lambda_json_write_int64");
}

LAMBDA__PRIVATE int lambda__jw_f64(lambda_json_writer *w, double v)
{
    char out[49];
    if (w->err) return w->err;
    if (v != v || v - v != 0.0) return lambda__jw_fail(w, LAMBDA_E_RANGE, "NaN or infinity");
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v && (v != 0.0 || 1.0 / v > 0.0))
        return lambda__jw_i64(w, (int64_t)v); /* the same digits, faster */
    return lambda__jw_number(w, out + 1, lambda__jw_double(out + 1, v));
}

LAMBDA_API int lambda_json_write_double(lambda_json_writer *w, double v)
{
    return lambda__jw_ret(w, lambda__jw_f64(w, v), "lambda_json_write_double");
}

LAMBDA_API int lambda_json_write_bool(lambda_json_writer *w, int v)
{
    int rc = v ? lambda__jw_scalar(w, LAMBDA__LIT("true"))
               : lambda__jw_scalar(w, LAMBDA__LIT("false"));
    return lambda__jw_ret(w, rc, "lambda_json_write_bool");
}

LAMBDA_API int lambda_json_write_null(lambda_json_writer *w)
{
    return lambda__jw_ret(w, lambda__jw_scalar(w, LAMBDA__LIT("null")), "lambda_json_write_null");
}

LAMBDA__PRIVATE int lambda__jw_raw(lambda_json_writer *w, const char *json, size_t len)
{
    const char *p = json, *end;
    lambda_json v;
    int rc;
    if (w->err) return w->err;
    if (json == NULL)
        return len ? lambda__jw_fail(w, LAMBDA_E_ARG, "the JSON text is NULL")
                   : lambda__jw_fail(w, LAMBDA_E_SYNTAX, "empty JSON text");
    end = json + len;
    rc = lambda__json_scan(&p, end, w->depth, &v);
    if (rc == 0 && lambda__json_ws(p, end) != end) rc = LAMBDA_E_SYNTAX;
    if (rc == LAMBDA_E_DEPTH)
        return lambda__jw_fail(w, rc, "the raw value nests deeper than LAMBDA_JSON_MAX_DEPTH");
    if (rc == LAMBDA_E_UTF8) return lambda__jw_fail(w, rc, "the raw value is not valid UTF-8");
    if (rc) return lambda__jw_fail(w, rc, "the raw value is not one valid JSON value");
    return lambda__jw_scalar(w, v.ptr, v.len);
}

LAMBDA_API int lambda_json_write_raw(lambda_json_writer *w, const char *json, size_t len)
{
    return lambda__jw_ret(w, lambda__jw_raw(w, json, len), "lambda_json_write_raw");
}

LAMBDA_API int lambda_json_writer_finish(lambda_json_writer *w)
{
    int rc = w->err;
    if (rc == 0 && !(w->flags & LAMBDA__JW_DONE))
        rc = lambda__jw_fail(w, LAMBDA_E_STATE, w->depth ? "the document has open containers"
                                                         : "the document is empty");
    return lambda__jw_ret(w, rc, "lambda_json_writer_finish");
}

LAMBDA_API int lambda_json_writer_error(const lambda_json_writer *w, const char **call,
                                        const char **why)
{
    if (call) *call = w->err ? (w->err_call ? w->err_call : "lambda_json_writer_init") : "";
    if (why) *why = w->err ? (w->err_why ? w->err_why : lambda_strerror(w->err)) : "";
    return w->err;
}
/* >>log: settings, timestamps, line formatting, lambda_log, the runtime's own lines */

LAMBDA__PRIVATE const char *lambda__level_name(int level)
{
    static const char names[][6] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    return names[level < LAMBDA_LOG_TRACE   ? LAMBDA_LOG_TRACE
                 : level > LAMBDA_LOG_FATAL ? LAMBDA_LOG_FATAL
                                            : level];
}

/* AWS_LAMBDA_LOG_LEVEL as LAMBDA_LOG_* (default INFO) and AWS_LAMBDA_LOG_FORMAT == JSON. */
LAMBDA__PRIVATE int lambda__env_log_level(void)
{
    const char *v = lambda__getenv("AWS_LAMBDA_LOG_LEVEL");
    int i;
    size_t k;
    for (i = LAMBDA_LOG_TRACE; v && i <= LAMBDA_LOG_FATAL; i++) {
        const char *n = lambda__level_name(i);
        for (k = 0; n[k] && (v[k] == n[k] || v[k] == n[k] + 32); k++) {}
        if (n[k] == '\0' && v[k] == '\0') return i;
    }
    return LAMBDA_LOG_INFO;
}

LAMBDA__PRIVATE int lambda__env_log_json(void)
{
    const char *v = lambda__getenv("AWS_LAMBDA_LOG_FORMAT");
    return v != NULL && lambda__ieq(v, strlen(v), "json");
}

/* "2026-11-27T03:58:11.123Z" for Unix time `secs` + `ms` (the days-to-civil-date
   arithmetic of the proleptic Gregorian calendar; no gmtime, no locale, no time zone). */
LAMBDA__PRIVATE void lambda__rfc3339(char *out, int64_t secs, int ms);
LAMBDA__PRIVATE void lambda__timestamp(char *out)
{
    struct timespec now;
#if defined(SYS_clock_gettime) && defined(__linux__) && \
    (defined(__x86_64__) || defined(__aarch64__))
    /* the system call itself: a log line is no hot path, and this keeps the vDSO lookup
       (about 900 bytes in a static musl binary) out of programs that never read the clock */
    if (syscall(SYS_clock_gettime, (long)CLOCK_REALTIME, &now) != 0) now.tv_sec = now.tv_nsec = 0;
#else
    clock_gettime(CLOCK_REALTIME, &now);
#endif
    lambda__rfc3339(out, (int64_t)now.tv_sec, (int)(now.tv_nsec / 1000000));
}

/* Writes exactly 24 bytes + NUL into out. */
LAMBDA__PRIVATE void lambda__rfc3339(char *out, int64_t secs, int ms)
{
    static const char pattern[] = "0000-00-00T00:00:00.000Z";
    static const unsigned char at[7] = {0, 5, 8, 11, 14, 17, 20}, width[7] = {4, 2, 2, 2, 2, 2, 3};
    int days = (int)(secs / 86400), rem = (int)(secs % 86400), era, doe, yoe, doy, mp, v[7], k, j;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    days += 719468; /* days from 0000-03-01 to 1970-01-01 */
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    v[2] = doy - (153 * mp + 2) / 5 + 1;
    v[1] = mp < 10 ? mp + 3 : mp - 9;
    v[0] = yoe + era * 400 + (v[1] <= 2);
    if (v[0] < 0 || v[0] > 9999) v[0] = v[0] < 0 ? 0 : 9999;
    v[3] = rem / 3600, v[4] = rem / 60 % 60, v[5] = rem % 60, v[6] = ms;
    memcpy(out, pattern, sizeof pattern);
    for (k = 0; k < 7; k++)
        for (j = width[k] - 1; j >= 0; j--, v[k] /= 10) out[at[k] + j] = (char)('0' + v[k] % 10);
}

/* Write one log line on stderr with one write(). JSON, or text: `prefix` then the
   message. `runtime` marks the runtime's own lines ("logger":"lambda_runtime" in JSON;
   control bytes become spaces in text). The line is built in fixed stack buffers; a
   message that does not fit is cut and ends in "...". The line is assembled with the
   response object's appends over a stack buffer (lambda__buf_use), whose limit lr.max
   makes an append that does not fit fail instead of growing it. */
LAMBDA__PRIVATE void lambda__vlog(int json, int level, int runtime, const char *prefix,
                                  lambda_str rid, lambda_str tenant, lambda__vformat f,
                                  const char *fmt, va_list ap)
{
    char msg[LAMBDA_LOG_LINE_MAX], line[LAMBDA_LOG_LINE_MAX];
    lambda_response lr;
    size_t mlen, i, off = 0;
    int n;
    n = f(msg, sizeof msg, fmt, ap);
    mlen = n < 0 ? 0 : (size_t)n;
    if (mlen >= sizeof msg) {
        mlen = sizeof msg - 1;
        memcpy(msg + mlen - 3, "...", 3);
    }
    if (rid.len > 256) rid.len = 256;
    if (tenant.len > 256) tenant.len = 256;
    memset(&lr, 0, sizeof lr);
    for (;;) { /* the buffer never grows: an append that does not fit fails, and we cut */
        lambda__buf_use(&lr.body, line, sizeof line);
        lr.max = sizeof line - 2; /* room for the newline */
        lr.append_err = 0;
        if (!json) {
            lambda_response_append(&lr, prefix, strlen(prefix));
            i = lr.body.len;
            lambda_response_append(&lr, msg, mlen);
            for (; i < lr.body.len; i++) /* one line: controls become spaces, or LF becomes CR */
                if (runtime ? ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) : line[i] == '\n')
                    line[i] = runtime ? ' ' : '\r';
        } else {
            char ts[32];
            const char *lv = lambda__level_name(level);
            lambda__timestamp(ts);
            lambda_response_append(&lr, LAMBDA__LIT("{\"timestamp\":\""));
            lambda_response_append(&lr, ts, 24);
            lambda_response_append(&lr, LAMBDA__LIT("\",\"level\":\""));
            lambda_response_append(&lr, lv, strlen(lv));
            lambda_response_append(&lr, LAMBDA__LIT("\","));
            if (runtime) lambda_response_append(&lr, LAMBDA__LIT("\"logger\":\"lambda_runtime\","));
            if (rid.len) {
                lambda_response_append(&lr, LAMBDA__LIT("\"requestId\":"));
                lambda__json_escape(&lr, rid.ptr, rid.len,
                                    LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE);
                lambda_response_append(&lr, LAMBDA__LIT(","));
            }
            lambda_response_append(&lr, LAMBDA__LIT("\"message\":"));
            lambda__json_escape(&lr, msg, mlen, LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE);
            if (tenant.len) {
                lambda_response_append(&lr, LAMBDA__LIT(",\"tenantId\":"));
                lambda__json_escape(&lr, tenant.ptr, tenant.len,
                                    LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE);
            }
            lambda_response_append(&lr, LAMBDA__LIT("}"));
        }
        if (lr.append_err == 0 || mlen <= 3) break;
        mlen = mlen / 8 * 7 > 3 ? mlen / 8 * 7 : 3; /* escaping made it too long: cut and retry */
        memcpy(msg + mlen - 3, "...", 3);
    }
    if (lr.append_err) return;
    line[lr.body.len++] = '\n';
    lambda__stdout_flush(); /* printf output written before this line comes first */
    while (off < lr.body.len) {
        ssize_t wr = write(2, line + off, lr.body.len - off);
        if (wr < 0 && errno == EINTR) continue;
        if (wr <= 0) break;
        off += (size_t)wr;
    }
}

/* What the runtime's own log lines need: the settings and, during an invocation, copies
   of its ids (the receive buffer they come from is reused by each POST). */
typedef struct lambda__logger {
    int json;                   /* AWS_LAMBDA_LOG_FORMAT is JSON */
    int level;                  /* lines below it are dropped */
    char rid[257], tenant[257]; /* "" outside an invocation */
} lambda__logger;

LAMBDA__PRIVATE void lambda__logger_init(lambda__logger *lg)
{
    lg->json = lambda__env_log_json();
    lg->level = lambda__env_log_level();
    lg->rid[0] = lg->tenant[0] = '\0';
}

/* Copy an id into one of the logger's fields (cut at 256 bytes). */
LAMBDA__PRIVATE void lambda__logger_id(char *dst, lambda_str id)
{
    size_t n = LAMBDA__MIN(id.len, 256);
    memcpy(dst, id.ptr, n);
    dst[n] = '\0';
}

/* The runtime's own log lines: level-filtered and formatted like lambda_log. */
LAMBDA__PRIVATE void lambda__log(const lambda__logger *lg, int level, const char *fmt, ...)
    LAMBDA_PRINTF(3, 4);
LAMBDA__PRIVATE void lambda__log(const lambda__logger *lg, int level, const char *fmt, ...)
{
    va_list ap;
    lambda_str rid, tenant;
    if (level < lg->level) return;
    rid.ptr = lg->rid;
    rid.len = strlen(rid.ptr);
    tenant.ptr = lg->tenant;
    tenant.len = strlen(tenant.ptr);
    va_start(ap, fmt);
    lambda__vlog(lg->json, level, 1,
                 level >= LAMBDA_LOG_ERROR ? "lambda_runtime: error: " : "lambda_runtime: warn: ",
                 rid, tenant, lambda__vfmt, fmt, ap);
    va_end(ap);
}

LAMBDA_API void lambda_log(const lambda_context *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    lambda_str none;
    char prefix[400] = "", ts[32];
    int json = ctx ? ctx->log_json : lambda__env_log_json();
#ifdef LAMBDA_THREADS
    /* without a context, log as the workers do */
    if (!ctx && lambda__env_int("AWS_LAMBDA_MAX_CONCURRENCY") > 1) json = 1;
#endif
    if (level < (ctx ? ctx->log_level : lambda__env_log_level())) return;
    none.ptr = "";
    none.len = 0;
    if (!json) { /* "<timestamp> TAB <request id> TAB <LEVEL> TAB " */
        lambda__timestamp(ts);
        lambda__fmt(prefix, sizeof prefix, "%s\t%.*s\t%s\t", ts, 256,
                    ctx && ctx->request_id.len ? ctx->request_id.ptr : "-",
                    lambda__level_name(level));
    }
    va_start(ap, fmt);
    lambda__vlog(json, level, 0, prefix, ctx ? ctx->request_id : none, ctx ? ctx->tenant_id : none,
                 vsnprintf, fmt, ap);
    va_end(ap);
}
/* ---- structured fields: lambda_log_fields ---- */

/* A field of `type` called `key`, its value still zero. */
LAMBDA__PRIVATE lambda_log_field lambda__field(const char *key, int type)
{
    lambda_log_field f;
    memset(&f, 0, sizeof f);
    f.key = key;
    f.type = type;
    return f;
}

LAMBDA_API lambda_log_field lambda_field_strn(const char *key, const char *value, size_t len)
{
    lambda_log_field f = lambda__field(key, LAMBDA_FIELD_STRING);
    f.str = value;
    f.str_len = value ? len : 0;
    return f;
}

LAMBDA_API lambda_log_field lambda_field_str(const char *key, const char *value)
{
    return lambda_field_strn(key, value, value ? strlen(value) : 0);
}

LAMBDA_API lambda_log_field lambda_field_int(const char *key, int64_t value)
{
    lambda_log_field f = lambda__field(key, LAMBDA_FIELD_INT);
    f.i = value;
    return f;
}

LAMBDA_API lambda_log_field lambda_field_double(const char *key, double value)
{
    lambda_log_field f = lambda__field(key, LAMBDA_FIELD_DOUBLE);
    f.d = value;
    return f;
}

LAMBDA_API lambda_log_field lambda_field_bool(const char *key, int value)
{
    lambda_log_field f = lambda__field(key, LAMBDA_FIELD_BOOL);
    f.i = value != 0;
    return f;
}

/* write() all of p[0..n) on fd (EINTR and short writes); gives up on an error. */
LAMBDA__PRIVATE void lambda__write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t wr = write(fd, p, n);
        if (wr < 0 && errno == EINTR) continue;
        if (wr <= 0) return;
        p += wr;
        n -= (size_t)wr;
    }
}

/* Where to cut s[0..n) so that the cut part plus "..." is at most `keep` bytes (keep >= 3),
   backed off to the start of a UTF-8 character. */
LAMBDA__PRIVATE size_t lambda__cut_at(const char *s, size_t keep)
{
    size_t k = keep - 3;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

/* A double as the JSON writer spells it, or NaN / Infinity / -Infinity. Returns 1 for a
   number, 0 for one of the three words. out: 40 bytes. */
LAMBDA__PRIVATE int lambda__double_text(char *out, double d)
{
    lambda_json_writer w;
    lambda_json_writer_init_buf(&w, out, 40);
    if (lambda_json_write_double(&w, d) == 0) return 1;
    memcpy(out, d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity", d != d ? 4 : d > 0 ? 9 : 10);
    return 0;
}

/* The value of field f as text in out[40] (not for strings): its length. *number = 0 for the
   words NaN, Infinity, -Infinity (JSON needs them quoted). */
LAMBDA__PRIVATE size_t lambda__field_scalar(const lambda_log_field *f, char *out, int *number)
{
    *number = 1;
    if (f->type == LAMBDA_FIELD_BOOL) {
        memcpy(out, f->i ? "true" : "false", f->i ? 5 : 6);
    } else if (f->type == LAMBDA_FIELD_DOUBLE) {
        *number = lambda__double_text(out, f->d);
    } else {
        out[0] = '-';
        lambda__utoa(out + (f->i < 0), f->i < 0 ? 0u - (uint64_t)f->i : (uint64_t)f->i, 10);
    }
    return strlen(out);
}

/* A key the JSON line already has: written with a leading '_'. */
LAMBDA__PRIVATE int lambda__field_reserved(const char *k)
{
    return strcmp(k, "timestamp") == 0 || strcmp(k, "level") == 0 ||
           strcmp(k, "requestId") == 0 || strcmp(k, "message") == 0 ||
           strcmp(k, "tenantId") == 0;
}

/* logfmt: a value written bare must be printable ASCII without '=' and '"', and not empty. */
LAMBDA__PRIVATE int lambda__logfmt_bare(const char *s, size_t n)
{
    size_t i;
    if (n == 0) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '=' || c == '"') return 0;
    }
    return 1;
}

/* One field appended to a line in lr: ,"key":value (JSON) or  key=value (text). A string
   value longer than `keep` is cut to it, "..." included. */
LAMBDA__PRIVATE void lambda__field_put(lambda_response *lr, int json, const lambda_log_field *f,
                                       size_t keep)
{
    const char *k = f->key;
    size_t kl = strlen(k), n = f->str_len, i;
    int cut = f->type == LAMBDA_FIELD_STRING && f->str && keep < n, number;
    char num[40];
    if (cut) n = lambda__cut_at(f->str, keep);
    if (json) {
        lambda_response_append(lr, LAMBDA__LIT(",\""));
        if (lambda__field_reserved(k)) lambda_response_append(lr, LAMBDA__LIT("_"));
        lambda__json_escape(lr, k, kl, LAMBDA__JSON_REPLACE);
        lambda_response_append(lr, LAMBDA__LIT("\":"));
        if (f->type != LAMBDA_FIELD_STRING) {
            size_t nl = lambda__field_scalar(f, num, &number);
            if (!number) lambda_response_append(lr, LAMBDA__LIT("\""));
            lambda_response_append(lr, num, nl);
            if (!number) lambda_response_append(lr, LAMBDA__LIT("\""));
        } else if (f->str == NULL) {
            lambda_response_append(lr, LAMBDA__LIT("null"));
        } else {
            lambda_response_append(lr, LAMBDA__LIT("\""));
            lambda__json_escape(lr, f->str, n, LAMBDA__JSON_REPLACE);
            if (cut) lambda_response_append(lr, LAMBDA__LIT("..."));
            lambda_response_append(lr, LAMBDA__LIT("\""));
        }
        return;
    }
    lambda_response_append(lr, LAMBDA__LIT(" "));
    if (kl == 0) lambda_response_append(lr, LAMBDA__LIT("_"));
    for (i = 0; i < kl; i++) { /* the key, its unusable bytes as '_' */
        unsigned char c = (unsigned char)k[i];
        char ch = (c <= 0x20 || c == 0x7f || c == '=' || c == '"') ? '_' : (char)c;
        lambda_response_append(lr, &ch, 1);
    }
    lambda_response_append(lr, LAMBDA__LIT("="));
    if (f->type != LAMBDA_FIELD_STRING) {
        size_t nl = lambda__field_scalar(f, num, &number);
        lambda_response_append(lr, num, nl);
    } else if (f->str != NULL) {
        if (!cut && lambda__logfmt_bare(f->str, n)) {
            lambda_response_append(lr, f->str, n);
            return;
        }
        lambda_response_append(lr, LAMBDA__LIT("\""));
        lambda__json_escape(lr, f->str, n, LAMBDA__JSON_REPLACE);
        if (cut) lambda_response_append(lr, LAMBDA__LIT("..."));
        lambda_response_append(lr, LAMBDA__LIT("\""));
    }
}

/* lambda_log_fields' line: built like lambda__vlog's (a fixed stack buffer whose appends
   fail instead of growing it); when it does not fit, the longest of the message and the
   string values is cut by an eighth and the line built again, and when nothing can be cut
   any more the last field is dropped. One write() on stderr. */
LAMBDA__PRIVATE void lambda__vlog_fields(const lambda_context *ctx, int json, int level,
                                         const lambda_log_field *fields, size_t n,
                                         const char *fmt, va_list ap)
{
    char msg[LAMBDA_LOG_LINE_MAX], line[LAMBDA_LOG_LINE_MAX], ts[32];
    size_t keep[LAMBDA_LOG_MAX_FIELDS], mlen, i, nf = LAMBDA__MIN(n, LAMBDA_LOG_MAX_FIELDS);
    const char *lv = lambda__level_name(level);
    lambda_str rid, tenant;
    lambda_response lr;
    int qr = LAMBDA__JSON_QUOTE | LAMBDA__JSON_REPLACE, r;
    r = vsnprintf(msg, sizeof msg, fmt ? fmt : "", ap);
    mlen = r < 0 ? 0 : (size_t)r;
    if (mlen >= sizeof msg) {
        mlen = lambda__cut_at(msg, sizeof msg - 1) + 3;
        memcpy(msg + mlen - 3, "...", 3);
    }
    rid.ptr = tenant.ptr = "";
    rid.len = tenant.len = 0;
    if (ctx) {
        rid = ctx->request_id;
        tenant = ctx->tenant_id;
    }
    if (rid.len > 256) rid.len = 256;
    if (tenant.len > 256) tenant.len = 256;
    for (i = 0; i < nf; i++)
        keep[i] = fields[i].type == LAMBDA_FIELD_STRING ? fields[i].str_len : 0;
    lambda__timestamp(ts);
    memset(&lr, 0, sizeof lr);
    for (;;) {
        size_t best = mlen > 3 ? mlen : 0, which = nf;
        lambda__buf_use(&lr.body, line, sizeof line);
        lr.max = sizeof line - 2; /* room for the newline */
        lr.append_err = 0;
        if (json) {
            lambda_response_append(&lr, LAMBDA__LIT("{\"timestamp\":\""));
            lambda_response_append(&lr, ts, 24);
            lambda_response_append(&lr, LAMBDA__LIT("\",\"level\":\""));
            lambda_response_append(&lr, lv, strlen(lv));
            lambda_response_append(&lr, LAMBDA__LIT("\","));
            if (rid.len) {
                lambda_response_append(&lr, LAMBDA__LIT("\"requestId\":"));
                lambda__json_escape(&lr, rid.ptr, rid.len, qr);
                lambda_response_append(&lr, LAMBDA__LIT(","));
            }
            lambda_response_append(&lr, LAMBDA__LIT("\"message\":"));
            lambda__json_escape(&lr, msg, mlen, qr);
        } else {
            char prefix[400];
            size_t pl = (size_t)lambda__fmt(prefix, sizeof prefix, "%s\t%.*s\t%s\t", ts, 256,
                                            rid.len ? rid.ptr : "-", lv), at;
            lambda_response_append(&lr, prefix, LAMBDA__MIN(pl, sizeof prefix - 1));
            at = lr.body.len;
            lambda_response_append(&lr, msg, mlen);
            for (; at < lr.body.len; at++) /* one line, as lambda_log's */
                if (line[at] == '\n') line[at] = '\r';
        }
        for (i = 0; i < nf; i++)
            if (fields[i].key) lambda__field_put(&lr, json, &fields[i], keep[i]);
        if (json && tenant.len) {
            lambda_response_append(&lr, LAMBDA__LIT(",\"tenantId\":"));
            lambda__json_escape(&lr, tenant.ptr, tenant.len, qr);
        }
        if (json) lambda_response_append(&lr, LAMBDA__LIT("}"));
        if (lr.append_err == 0) break;
        for (i = 0; i < nf; i++)
            if (fields[i].key && fields[i].str && keep[i] > 3 && keep[i] > best) {
                best = keep[i];
                which = i;
            }
        if (best == 0) { /* nothing left to cut */
            if (nf == 0) return;
            nf--;
            continue;
        }
        best = best / 8 * 7 > 3 ? best / 8 * 7 : 3;
        if (which < nf) {
            keep[which] = best;
        } else {
            mlen = lambda__cut_at(msg, best) + 3;
            memcpy(msg + mlen - 3, "...", 3);
        }
    }
    line[lr.body.len++] = '\n';
    lambda__stdout_flush(); /* printf output written before this line comes first */
    lambda__write_all(2, line, lr.body.len);
}

LAMBDA_API void lambda_log_fields(const lambda_context *ctx, int level,
                                  const lambda_log_field *fields, size_t n, const char *fmt, ...)
{
    va_list ap;
    int json = ctx ? ctx->log_json : lambda__env_log_json();
#ifdef LAMBDA_THREADS
    if (!ctx && lambda__env_int("AWS_LAMBDA_MAX_CONCURRENCY") > 1) json = 1;
#endif
    if (level < (ctx ? ctx->log_level : lambda__env_log_level())) return;
    if (fields == NULL) n = 0;
    va_start(ap, fmt);
    lambda__vlog_fields(ctx, json, level, fields, n, fmt, ap);
    va_end(ap);
}
/* >>http: the HTTP/1.1 response parser (head, chunked decoder); pure, no I/O */

/* The response headers the runtime looks at. */
enum {
    LAMBDA__H_CONTENT_LENGTH, LAMBDA__H_TRANSFER_ENCODING, LAMBDA__H_CONNECTION,
    LAMBDA__H_CONTENT_TYPE, LAMBDA__H_REQUEST_ID, LAMBDA__H_DEADLINE, LAMBDA__H_ARN,
    LAMBDA__H_TRACE, LAMBDA__H_CLIENT_CONTEXT, LAMBDA__H_COGNITO, LAMBDA__H_TENANT,
    LAMBDA__H_INVOCATION_ID, LAMBDA__H_EXTENSION_ID, LAMBDA__H_COUNT
};

#define LAMBDA__HEADER_NAMES(X)                                                                  \
    X("content-length") X("transfer-encoding") X("connection") X("content-type")                \
    X("lambda-runtime-aws-request-id") X("lambda-runtime-deadline-ms")                          \
    X("lambda-runtime-invoked-function-arn") X("lambda-runtime-trace-id")                       \
    X("lambda-runtime-client-context") X("lambda-runtime-cognito-identity")                     \
    X("lambda-runtime-aws-tenant-id") X("lambda-runtime-invocation-id")                         \
    X("lambda-extension-identifier")
#define LAMBDA__HN_STR(s) s,
#define LAMBDA__HN_LEN(s) sizeof(s) - 1,

LAMBDA__PRIVATE const char *lambda__header_name(int i)
{
    static const char *const names[LAMBDA__H_COUNT] = {LAMBDA__HEADER_NAMES(LAMBDA__HN_STR)};
    return names[i];
}

/* The header the name p[0..n) is, or LAMBDA__H_COUNT; names of another length are never
   compared (most lines of a head are other headers). */
LAMBDA__PRIVATE int lambda__header_index(const char *p, size_t n)
{
    static const unsigned char lens[LAMBDA__H_COUNT] = {LAMBDA__HEADER_NAMES(LAMBDA__HN_LEN)};
    int k;
    for (k = 0; k < LAMBDA__H_COUNT; k++) {
        const char *a = p, *b = lambda__header_name(k);
        size_t m = n;
        uint64_t x, y;
        if (lens[k] != n) continue;
        /* eight bytes at a time: the names are [a-z-] and p's bytes are tchars, so OR-ing
           0x20 into each is an exact case-insensitive compare here */
        for (; m >= 8; m -= 8, a += 8, b += 8) {
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if ((x | 0x2020202020202020ull) != y) break;
        }
        if (m >= 8) continue;
        while (m && (*a | 0x20) == *b) m--, a++, b++;
        if (m == 0) return k;
    }
    return LAMBDA__H_COUNT;
}

/* A parsed response head. Header values are offsets into the head buffer, and each
   known header's value is NUL-terminated in place. */
typedef struct lambda__head {
    int status;
    int minor;                  /* HTTP/1.<minor> */
    int chunked;
    int has_length;
    int close;                  /* the server will close the connection after this response */
    uint64_t content_length;
    size_t off[LAMBDA__H_COUNT];
    size_t len[LAMBDA__H_COUNT];
    unsigned present;           /* bit i: header i was seen */
} lambda__head;

/* Find the end of a response head in buf[0..len): returns the offset just past the
   blank line, or 0 if it is not there yet. `from` lets a caller resume the search. */
LAMBDA__PRIVATE size_t lambda__head_end(const char *buf, size_t len, size_t from)
{
    size_t i = from > 3 ? from - 3 : 0;
    for (; i < len; i++) {
        uint64_t w, m;
        /* eight bytes at a time while none is a LF (a zero byte in w ^ LFs) */
        while (i + 8 <= len) {
            memcpy(&w, buf + i, 8);
            w ^= 0x0a0a0a0a0a0a0a0aull;
            if ((m = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(m) >> 3; /* the lowest flag is the first LF */
#endif
                break;
            }
            i += 8;
        }
        if (i >= len) break;
        if (buf[i] != '\n') continue;
        if (i + 1 < len && buf[i + 1] == '\n') return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* Comma-separated token list contains `tok` (lowercase)? */
LAMBDA__PRIVATE int lambda__has_token(const char *p, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        size_t s, e;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ',')) i++;
        s = i;
        while (i < n && p[i] != ',') i++;
        e = i;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
        if (e > s && lambda__ieq(p + s, e - s, tok)) return 1;
    }
    return 0;
}

/* Parse a complete response head buf[0..len) (len = lambda__head_end()).
   Returns 0 or LAMBDA_E_HTTP. Strict where framing is at stake: CRLF line ends (a bare LF
   anywhere is an error: read as a line end it could hide a header), tchar names, one
   Content-Length value, no Content-Length with chunked, no control byte in either.
   Lenient where RFC 9110/9112 tell a client to be: HTTP/1.2..1.9 read as 1.1, obs-fold
   unfolded (its CRLF becomes spaces), other control bytes in values become spaces; the
   spaces they leave at either end of a value are trimmed. A close option in any
   Connection line closes (RFC 9112 9.6), a later keep-alive cannot undo it. */
LAMBDA__PRIVATE int lambda__parse_head(char *buf, size_t len, lambda__head *h)
{
    size_t i, line_end;
    int close_opt = 0; /* a "close" connection option was seen */
    memset(h, 0, sizeof *h);
    if (len < 16 || memcmp(buf, LAMBDA__LIT("HTTP/1.")) != 0) return LAMBDA_E_HTTP;
    if (buf[7] < '0' || buf[7] > '9') return LAMBDA_E_HTTP;
    h->minor = buf[7] - '0'; /* 1.2 .. 1.9: "SHOULD" be treated as 1.1 (RFC 9110 2.5) */
    if (buf[8] != ' ') return LAMBDA_E_HTTP;
    for (i = 9; i < 12; i++)
        if (buf[i] < '0' || buf[i] > '9') return LAMBDA_E_HTTP;
    h->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (h->status < 100) return LAMBDA_E_HTTP;
    i = 12;
    if (buf[i] == ' ') {        /* reason phrase: HTAB, SP, VCHAR, obs-text */
        for (i++; i < len && buf[i] != '\r'; i++) {
            unsigned char c = (unsigned char)buf[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) return LAMBDA_E_HTTP;
        }
    }
    if (i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n') return LAMBDA_E_HTTP;
    i += 2;
    h->close = (h->minor == 0); /* HTTP/1.0 closes unless it says keep-alive */
    for (;;) {
        size_t name, name_len, v, ve;
        int k, ctl = 0;
        if (i + 1 >= len) return LAMBDA_E_HTTP;
        if (buf[i] == '\r') {
            if (buf[i + 1] != '\n' || i + 2 != len) return LAMBDA_E_HTTP;
            break;
        }
        name = i;
        for (; i + 8 <= len; i += 8) { /* eight at a time while all are letters or '-' */
            uint64_t w, l, dash;
            memcpy(&w, buf + i, 8);
            l = w | 0x2020202020202020ull; /* ASCII letters in lower case */
            dash = w ^ 0x2d2d2d2d2d2d2d2dull;
            dash = ~(((dash & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | dash);
            /* per byte (all < 0x80): high bit of l + 0x1f is l >= 'a', of l + 5 is l > 'z' */
            l = (((l + 0x1f1f1f1f1f1f1f1full) & ~(l + 0x0505050505050505ull)) | dash) & ~w;
            if ((l = ~l & 0x8080808080808080ull) != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(l) >> 3; /* the first other byte */
#endif
                break;
            }
        }
        while (i < len && LAMBDA__IN_BITS(lambda__tchar_bits, (unsigned char)buf[i])) i++;
        name_len = i - name;
        if (name_len == 0 || i >= len || buf[i] != ':') return LAMBDA_E_HTTP;
        i++;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t')) i++;
        v = i;
        for (;; i++) {
            unsigned char c;
            uint64_t w, d;
            while (i + 9 <= len) { /* eight bytes at a time while none is a control */
                memcpy(&w, buf + i, 8);
                d = w ^ 0x7f7f7f7f7f7f7f7full;
                d = ((w - 0x2020202020202020ull) | (d - 0x0101010101010101ull)) & ~w &
                    0x8080808080808080ull;
                if (d) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                    i += (size_t)__builtin_ctzll(d) >> 3; /* the first control byte */
#endif
                    break;
                }
                i += 8;
            }
            if (i + 1 >= len) return LAMBDA_E_HTTP;
            c = (unsigned char)buf[i];
            if (c >= 0x20 && c != 0x7f) continue; /* the usual byte */
            if (c == '\r' && buf[i + 1] == '\n') {
                if (i + 2 < len && (buf[i + 2] == ' ' || buf[i + 2] == '\t')) { /* obs-fold */
                    buf[i] = buf[i + 1] = ' ';
                    i++;
                    continue;
                }
                break;
            }
            if (c == '\n') return LAMBDA_E_HTTP; /* a bare LF */
            /* RFC 9110 5.5: a bare CR, NUL and other controls in a value become SP, so no
               value handed out (or echoed, or put in a URL) carries a control byte */
            if (c != '\t') {
                buf[i] = ' ';
                ctl = 1;
            }
        }
        line_end = i;
        ve = line_end;
        while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t')) ve--;
        /* spaces from a leading obs-fold or control byte are not part of the value either */
        while (v < ve && (buf[v] == ' ' || buf[v] == '\t')) v++;
        i = line_end + 2;
        k = lambda__header_index(buf + name, name_len);
        if (k == LAMBDA__H_COUNT) continue;
        if (ctl && (k == LAMBDA__H_CONTENT_LENGTH || k == LAMBDA__H_TRANSFER_ENCODING))
            return LAMBDA_E_HTTP; /* framing is never read from a sanitised value */
        if (k == LAMBDA__H_CONTENT_LENGTH) {
            uint64_t cl;
            if (lambda__parse_u64(buf + v, ve - v, &cl) != 0) return LAMBDA_E_HTTP;
            if (h->has_length && cl != h->content_length) return LAMBDA_E_HTTP;
            h->has_length = 1;
            h->content_length = cl;
        } else if (k == LAMBDA__H_TRANSFER_ENCODING) {
            /* only "chunked" is supported, and only once */
            if (h->chunked || !lambda__ieq(buf + v, ve - v, "chunked")) return LAMBDA_E_HTTP;
            h->chunked = 1;
        } else if (k == LAMBDA__H_CONNECTION) {
            /* RFC 9112 9.6: after a "close" option no other line can keep the connection */
            if (lambda__has_token(buf + v, ve - v, "close")) h->close = close_opt = 1;
            else if (!close_opt && lambda__has_token(buf + v, ve - v, "keep-alive")) h->close = 0;
        }
        if (h->present & (1u << k)) continue; /* first one wins */
        h->present |= 1u << k;
        h->off[k] = v;
        h->len[k] = ve - v;
        buf[ve] = '\0'; /* overwrites trailing space or the CR: already parsed */
    }
    if (h->chunked && h->has_length) return LAMBDA_E_HTTP;
    if (h->chunked && h->minor == 0) h->close = 1; /* RFC 9112 6.1: faulty framing: never reuse */
    return LAMBDA_E_OK;
}

/* Incremental, in-place decoder for a chunked body. Zero-fill before use. */
typedef struct lambda__chunked {
    int state;
    int digits;
    size_t left;                /* bytes left in the current chunk, or its size so far */
    size_t line;                /* bytes of the current extension or trailer line so far */
    size_t trailer;             /* bytes of trailers so far */
} lambda__chunked;

enum {
    LAMBDA__CH_SIZE,
    LAMBDA__CH_SIZE_WS,
    LAMBDA__CH_EXT,
    LAMBDA__CH_SIZE_LF,
    LAMBDA__CH_DATA,
    LAMBDA__CH_DATA_CR,
    LAMBDA__CH_DATA_LF,
    LAMBDA__CH_TRAILER,
    LAMBDA__CH_TRAILER_NAME,
    LAMBDA__CH_TRAILER_LINE,
    LAMBDA__CH_TRAILER_LF,
    LAMBDA__CH_LAST_LF,
    LAMBDA__CH_DONE
};

/* Decode raw bytes buf[*rpos..end) into payload at buf[*wpos..] (in place: *wpos never
   passes *rpos). Payload past `max` total bytes (counted from `base`) fails.
   Returns 0 when the last chunk and trailers are done (*rpos then points past them),
   LAMBDA__INCOMPLETE when all input was consumed, LAMBDA_E_HTTP or LAMBDA_E_TOO_BIG. */
LAMBDA__PRIVATE int lambda__chunked_decode(lambda__chunked *d, char *buf, size_t *rpos, size_t end,
                                           size_t *wpos, size_t base, size_t max)
{
    size_t r = *rpos, w = *wpos;
    int rc = LAMBDA__INCOMPLETE;
    while (r < end && rc == LAMBDA__INCOMPLETE) {
        unsigned char c = (unsigned char)buf[r];
        switch (d->state) {
        case LAMBDA__CH_SIZE: {
            int hv = lambda__hexval(c);
            if (hv >= 0) {
                if (d->left > ((size_t)-1 >> 4) || ++d->digits > 16) {
                    rc = LAMBDA_E_TOO_BIG;
                    break;
                }
                d->left = (d->left << 4) | (size_t)hv;
                r++;
                break;
            }
            if (d->digits == 0) { rc = LAMBDA_E_HTTP; break; }
            if (d->left > max - (w - base)) { rc = LAMBDA_E_TOO_BIG; break; }
            if (c == '\r') d->state = LAMBDA__CH_SIZE_LF;
            else if (c == ';') { d->state = LAMBDA__CH_EXT; d->line = 0; }
            else if (c == ' ' || c == '\t') { d->state = LAMBDA__CH_SIZE_WS; d->line = 0; }
            else { rc = LAMBDA_E_HTTP; break; }
            r++;
            break;
        }
        case LAMBDA__CH_SIZE_WS: /* RFC 9112 7.1.1: whitespace after the size only before ";" */
            if (c == '\r') d->state = LAMBDA__CH_SIZE_LF;
            else if (c == ';') { d->state = LAMBDA__CH_EXT; d->line = 0;
            } else if ((c != ' ' && c != '\t') || ++d->line > LAMBDA_MAX_HEAD_SIZE) {
                rc = LAMBDA_E_HTTP;
                break;
            }
            r++;
            break;
        case LAMBDA__CH_EXT:
            if (c == '\r') d->state = LAMBDA__CH_SIZE_LF;
            else if ((c < 0x20 && c != '\t') || c == 0x7f || ++d->line > LAMBDA_MAX_HEAD_SIZE) {
                rc = LAMBDA_E_HTTP;
                break;
            }
            r++;
            break;
        case LAMBDA__CH_SIZE_LF:
            if (c != '\n') { rc = LAMBDA_E_HTTP; break; }
            r++;
            d->digits = 0;
            d->state = d->left ? LAMBDA__CH_DATA : LAMBDA__CH_TRAILER;
            break;
        case LAMBDA__CH_DATA: {
            size_t n = LAMBDA__MIN(d->left, end - r);
            if (w != r) memmove(buf + w, buf + r, n);
            w += n;
            r += n;
            d->left -= n;
            if (d->left == 0) d->state = LAMBDA__CH_DATA_CR;
            break;
        }
        case LAMBDA__CH_DATA_CR:
            if (c != '\r') { rc = LAMBDA_E_HTTP; break; }
            r++;
            d->state = LAMBDA__CH_DATA_LF;
            break;
        case LAMBDA__CH_DATA_LF:
            if (c != '\n') { rc = LAMBDA_E_HTTP; break; }
            r++;
            d->state = LAMBDA__CH_SIZE;
            break;
        case LAMBDA__CH_TRAILER:
            r++;
            if (c == '\r') { d->state = LAMBDA__CH_LAST_LF; break; }
            if (!lambda__is_tchar(c)) { rc = LAMBDA_E_HTTP; break; }
            d->state = LAMBDA__CH_TRAILER_NAME;
            d->trailer++;
            break;
        case LAMBDA__CH_TRAILER_NAME: /* a trailer is a field line: name ":" value */
            r++;
            if (c == ':') d->state = LAMBDA__CH_TRAILER_LINE;
            else if (!lambda__is_tchar(c) || ++d->trailer > LAMBDA_MAX_HEAD_SIZE)
                rc = LAMBDA_E_HTTP;
            break;
        case LAMBDA__CH_TRAILER_LINE:
            r++;
            if (c == '\r') { d->state = LAMBDA__CH_TRAILER_LF; break; }
            if ((c < 0x20 && c != '\t') || c == 0x7f || ++d->trailer > LAMBDA_MAX_HEAD_SIZE)
                rc = LAMBDA_E_HTTP;
            break;
        case LAMBDA__CH_TRAILER_LF:
            if (c != '\n') { rc = LAMBDA_E_HTTP; break; }
            r++;
            d->state = LAMBDA__CH_TRAILER;
            break;
        case LAMBDA__CH_LAST_LF:
            if (c != '\n') { rc = LAMBDA_E_HTTP; break; }
            r++;
            d->state = LAMBDA__CH_DONE;
            rc = 0;
            break;
        default:
            rc = LAMBDA_E_HTTP;
        }
    }
    if (d->state == LAMBDA__CH_DONE) rc = 0;
    *rpos = r;
    *wpos = w;
    return rc;
}

/* >>conn: one HTTP/1.1 client connection to the Runtime API or the Extensions API */

struct lambda__pool; /* >>threads */

/* The transport: address, socket, buffers and the last response. */
typedef struct lambda__conn {
    int fd;                     /* -1 when not connected */
    int fresh;                  /* fd was opened for the exchange in progress */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[264];             /* the Host header: "host:port" of AWS_LAMBDA_RUNTIME_API */
    const char *base;           /* "/2018-06-01/runtime/" or "/2020-01-01/extension/" */
    const char *api;            /* "Runtime API" or "Extensions API", for log lines */
    lambda__buf req;            /* the request head being built */
    int req_err;                /* first failed append to req (sticky until lambda__req_begin) */
    lambda__buf in;             /* response head + body, reused */
    lambda__head head;
    size_t body_off, body_len;  /* the response body inside `in` */
    int too_big;                /* the body exceeded the limit and was not read */
    const char *err_op;         /* the system call that failed last, and its errno */
    int err_no;
    int watch_fd;               /* >= 0: waiting for a response head also watches this fd (the
                                   SIGTERM pipe, during GET /next), else -1 */
    /* Set by lambda__shutdown_setup to lambda__wait_readable, which does that watching (a
       pointer: programs without a shutdown hook link none of it; see LINK-TIME OPT-INS). */
    int (*wait_idle)(struct lambda__conn *c);
    const lambda__logger *log;  /* where this connection's errors are logged */
    struct lambda__pool *pool;  /* the workers this one belongs to (LAMBDA_THREADS), or NULL */
    int idle;                   /* waiting for GET /next (under pool->mu): a drain may cut it */
    int recent;                 /* the last exchange ended just now: see lambda__ensure_conn */
} lambda__conn;

/* A cycle counter read without a system call: the time-stamp counter on x86_64, the
   virtual counter on arm64 (LAMBDA__TICKS set); elsewhere nothing, and the connection
   check before a POST always runs. Only differences are used, as "was that a moment
   ago": any jump (another CPU, a migration) makes the difference large, or wraps it. */
#if defined(__GNUC__) && defined(__x86_64__)
#define LAMBDA__TICKS 1
LAMBDA__PRIVATE uint32_t lambda__ticks(void)
{
    uint32_t lo;
    __asm__ __volatile__("rdtsc" : "=a"(lo) : : "edx");
    return lo;
}
#elif defined(__GNUC__) && defined(__aarch64__)
#define LAMBDA__TICKS 1
LAMBDA__PRIVATE uint32_t lambda__ticks(void)
{
    uint64_t t;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(t));
    return (uint32_t)t;
}
#else
#define LAMBDA__TICKS 0
#define lambda__ticks() 0u
#endif
/* "A moment": 2^18 ticks, 65-260 us of a 1-4 GHz TSC, 0.25-2 ms of arm64's 1 GHz-125 MHz
   virtual counter. A handler that returns within it answers without a poll first. */
#define LAMBDA__MOMENT ((uint32_t)1 << 18)

LAMBDA__PRIVATE void lambda__conn_init(lambda__conn *c, const lambda__logger *log, const char *base,
                                       const char *api)
{
    memset(c, 0, sizeof *c);
    c->fd = c->watch_fd = -1;
    c->log = log;
    c->base = base;
    c->api = api;
}

#ifdef LAMBDA_THREADS
/* N workers (AWS_LAMBDA_MAX_CONCURRENCY): each runs its own /next loop on its own
   connection. The first fatal error stops them all: its worker sets `stop` to 1 and shuts
   down every other worker's socket, under `mu`, which also guards every worker's fd and
   idle flag. SIGTERM (with lambda_on_shutdown) drains them: the thread of lambda_run sets
   `stop` to 2 and shuts down the sockets of the idle workers (those waiting for /next);
   the others finish their invocation, post its result, and stop. */
typedef struct lambda__pool {
    pthread_mutex_t mu;
    pthread_mutex_t out_mu;     /* one EMF document at a time on stdout (>>metrics) */
    int stop;                   /* 0 serving, 1 stopped (a fatal error), 2 draining (SIGTERM) */
    int rc, n;
    int notify_fd;              /* a worker that stops writes one byte here, or -1 */
    struct lambda__rt *workers;
} lambda__pool;
#endif

/* Has another worker stopped this one (its socket was shut down on purpose)? Always 0
   without LAMBDA_THREADS. */
LAMBDA__PRIVATE int lambda__stopped(lambda__conn *c)
{
    int stopped = 0;
#ifdef LAMBDA_THREADS
    if (c->pool) {
        pthread_mutex_lock(&c->pool->mu);
        stopped = c->pool->stop;
        pthread_mutex_unlock(&c->pool->mu);
    }
#else
    (void)c;
#endif
    return stopped;
}

/* Mark the connection as waiting for /next (idle 1) or not (0). Returns the pool's stop
   state (0 without LAMBDA_THREADS): non-zero means "start no other invocation". */
LAMBDA__PRIVATE int lambda__set_idle(lambda__conn *c, int idle)
{
    int stop = 0;
#ifdef LAMBDA_THREADS
    if (c->pool) {
        pthread_mutex_lock(&c->pool->mu);
        c->idle = idle;
        stop = c->pool->stop;
        pthread_mutex_unlock(&c->pool->mu);
    }
#else
    c->idle = idle;
#endif
    return stop;
}

LAMBDA__PRIVATE int lambda__sys_fail(lambda__conn *c, const char *op)
{
    c->err_op = op;
    c->err_no = errno;
    return LAMBDA_E_IO;
}

LAMBDA__PRIVATE void lambda__close(lambda__conn *c)
{
#ifdef LAMBDA_THREADS
    if (c->pool) pthread_mutex_lock(&c->pool->mu);
#endif
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
#ifdef LAMBDA_THREADS
    if (c->pool) pthread_mutex_unlock(&c->pool->mu);
#endif
}

LAMBDA__PRIVATE void lambda__conn_free(lambda__conn *c)
{
    lambda__close(c);
    lambda__buf_free(&c->req);
    lambda__buf_free(&c->in);
}

/* A dotted-quad IPv4 address, the whole of `s` (no leading zeros, as inet_pton). */
LAMBDA__PRIVATE int lambda__ip4(const char *s, unsigned char *out)
{
    int i, j, v;
    for (i = 0; i < 4; i++) {
        for (v = j = 0; j < 3 && s[j] >= '0' && s[j] <= '9'; j++) v = v * 10 + s[j] - '0';
        if (j == 0 || (j > 1 && *s == '0') || v > 255) return 0;
        out[i] = (unsigned char)v;
        s += j;
        if (*s++ != (i < 3 ? '.' : '\0')) return 0;
    }
    return 1;
}

/* An IPv6 address in text form (RFC 4291 2.2: groups, one "::", an IPv4 tail), the whole
   of `s`. Accepts what inet_pton(AF_INET6) accepts; no scope ids. */
LAMBDA__PRIVATE int lambda__ip6(const char *s, unsigned char *out)
{
    unsigned char g[16];
    int n = 0, gap = -1, j, v, d;
    if (*s == ':' && *++s != ':') return 0;
    for (;;) {
        if (*s == ':' && gap < 0) { /* "::" (the first colon is behind us) */
            gap = n;
            if (*++s == '\0') break;
        }
        if (n <= 12 && lambda__ip4(s, g + n)) {
            n += 4;
            break;
        }
        for (v = j = 0; j < 4 && (d = lambda__hexval((unsigned char)s[j])) >= 0; j++)
            v = v * 16 + d;
        if (j == 0 || n == 16) return 0;
        g[n++] = (unsigned char)(v >> 8);
        g[n++] = (unsigned char)v;
        s += j;
        if (*s == '\0') break;
        if (*s++ != ':' || *s == '\0') return 0;
    }
    if (gap < 0 ? n != 16 : n == 16) return 0;
    memset(out, 0, 16);
    j = gap < 0 ? 0 : gap;
    memcpy(out, g, (size_t)j);
    memcpy(out + 16 - (n - j), g + j, (size_t)(n - j));
    return 1;
}

/* Parse AWS_LAMBDA_RUNTIME_API: "host:port", "[v6]:port" or a host name, optionally as
   "http://host:port/". c->host becomes "host:port" (the Host header: a Go server answers
   400 to a Host with a scheme or a path). */
LAMBDA__PRIVATE int lambda__resolve(lambda__conn *c, const char *api)
{
    char host[256], port[8];
    const char *colon, *h = api, *start;
    size_t hl;
    uint64_t pn;
    struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)&c->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&c->addr;
    if (strncmp(h, LAMBDA__LIT("http://")) == 0) h += sizeof "http://" - 1;
    start = h;
    for (colon = NULL; *h; h++) /* the last ':' (strrchr would link memrchr) */
        if (*h == ':') colon = h;
    h = start;
    if (colon == NULL || colon == h) return LAMBDA_E_ENV;
    hl = (size_t)(colon - h);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']') return LAMBDA_E_ENV;
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host) return LAMBDA_E_ENV;
    memcpy(host, h, hl);
    host[hl] = '\0';
    hl = strlen(colon + 1);
    while (hl > 0 && colon[hl] == '/') hl--; /* tolerate a trailing slash */
    if (lambda__parse_u64(colon + 1, hl, &pn) != 0 || pn == 0 || pn > 65535) return LAMBDA_E_ENV;
    memcpy(port, colon + 1, hl);
    port[hl] = '\0';
    hl = (size_t)(colon + 1 + hl - start); /* "host:port" or "[v6]:port": no scheme, no slash */
    if (hl >= sizeof c->host) return LAMBDA_E_ENV;
    memcpy(c->host, start, hl);
    c->host[hl] = '\0';
    memset(&c->addr, 0, sizeof c->addr);
    if (lambda__ip4(host, (unsigned char *)&in4->sin_addr)) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)pn);
        c->addr_len = sizeof *in4;
        return LAMBDA_E_OK;
    }
    if (lambda__ip6(host, (unsigned char *)&in6->sin6_addr)) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)pn);
        c->addr_len = sizeof *in6;
        return LAMBDA_E_OK;
    }
    if (strcmp(host, "localhost") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in4->sin_port = htons((uint16_t)pn);
        c->addr_len = sizeof *in4;
        return LAMBDA_E_OK;
    }
#ifdef LAMBDA_GETADDRINFO
    {
        struct addrinfo hints, *res = NULL;
        int gai;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        if ((gai = getaddrinfo(host, port, &hints, &res)) != 0 || res == NULL) {
            lambda__log(c->log, LAMBDA_LOG_ERROR, "cannot resolve \"%s\": %s", host,
                        gai ? gai_strerror(gai) : "no address");
            return LAMBDA_E_ENV;
        }
        if (res->ai_addrlen <= sizeof c->addr) {
            memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
            c->addr_len = (socklen_t)res->ai_addrlen;
        }
        freeaddrinfo(res);
        return c->addr_len ? LAMBDA_E_OK : LAMBDA_E_ENV;
    }
#else
    lambda__log(c->log, LAMBDA_LOG_ERROR,
                "\"%s\" is not a numeric address (-DLAMBDA_GETADDRINFO resolves names)", host);
    return LAMBDA_E_ENV;
#endif
}

LAMBDA__PRIVATE int lambda__connect(lambda__conn *c)
{
    char eb[24];
    int one = 1, fd, rc;
    fd = socket(c->addr.ss_family, SOCK_STREAM | LAMBDA__SOCK_CLOEXEC, 0);
    if (fd < 0) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "socket: %s", lambda__errno_name(errno, eb));
        return LAMBDA_E_CONNECT;
    }
    rc = connect(fd, (struct sockaddr *)(void *)&c->addr, c->addr_len);
    if (rc != 0 && errno == EINTR) { /* the connection goes on in the background: wait for it */
        struct pollfd pfd;
        int err = 0;
        socklen_t el = sizeof err;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        while ((rc = poll(&pfd, 1, -1)) < 0 && errno == EINTR) {}
        if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0) rc = 0;
        else { rc = -1; if (err) errno = err; }
    }
    if (rc != 0) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "connect to %s: %s", c->host,
                    lambda__errno_name(errno, eb));
        close(fd);
        return LAMBDA_E_CONNECT;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef LAMBDA_THREADS
    if (c->pool) {
        int stopped;
        pthread_mutex_lock(&c->pool->mu);
        stopped = c->pool->stop == 1 || (c->pool->stop == 2 && c->idle);
        if (!stopped) c->fd = fd;
        pthread_mutex_unlock(&c->pool->mu);
        if (stopped) {
            close(fd);
            return LAMBDA_E_STATUS;
        }
        return LAMBDA_E_OK;
    }
#endif
    c->fd = fd;
    return LAMBDA_E_OK;
}

/* Send the iovecs with one sendmsg() (more only if the kernel takes part of them).
   sendmsg rather than writev: MSG_NOSIGNAL, so a closed peer is EPIPE, never SIGPIPE. */
LAMBDA__PRIVATE int lambda__sendv(lambda__conn *c, struct iovec *v, int cnt)
{
    struct msghdr msg;
    while (cnt > 0) {
        ssize_t n;
        size_t sent;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = v;
        msg.msg_iovlen = 1; /* assigned from constants: its type differs between libcs */
        if (cnt == 2) msg.msg_iovlen = 2;
        if (cnt == 3) msg.msg_iovlen = 3;
#if defined(SYS_sendmsg) && defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
        /* the system call itself: musl's wrapper (300 bytes) copies the header to zero its
           padding, and here it is zeroed whole already */
        n = (ssize_t)syscall(SYS_sendmsg, (long)c->fd, &msg, (long)LAMBDA__MSG_NOSIGNAL);
#else
        n = sendmsg(c->fd, &msg, LAMBDA__MSG_NOSIGNAL);
#endif
        if (n < 0) {
            if (errno == EINTR) continue;
            return lambda__sys_fail(c, "send");
        }
        sent = (size_t)n;
        while (cnt > 0 && sent >= v->iov_len) {
            sent -= v->iov_len;
            v++;
            cnt--;
        }
        if (cnt > 0) {
            v->iov_base = (char *)v->iov_base + sent;
            v->iov_len -= sent;
        }
    }
    return LAMBDA_E_OK;
}

/* The request head in c->req, then `body`. A head that could not be built (its sticky
   error) is not sent. */
LAMBDA__PRIVATE int lambda__send(lambda__conn *c, const char *body, size_t body_len)
{
    struct iovec iov[2];
    if (c->req_err) return c->req_err;
    iov[0].iov_base = c->req.ptr;
    iov[0].iov_len = c->req.len;
    iov[1].iov_base = (void *)(uintptr_t)body;
    iov[1].iov_len = body_len;
    return lambda__sendv(c, iov, body_len ? 2 : 1);
}

/* recv() into `in` with room for at least `want` bytes (never more than `want`).
   Returns bytes read (>0), 0 at EOF, or LAMBDA_E_IO / LAMBDA_E_NOMEM. */
LAMBDA__PRIVATE long lambda__recv(lambda__conn *c, size_t want)
{
    ssize_t n;
    int rc = lambda__buf_reserve(&c->in, want, LAMBDA__NO_LIMIT);
    if (rc) return rc;
    for (;;) {
        n = recv(c->fd, c->in.ptr + c->in.len, want, 0);
        if (n >= 0) break;
        if (errno != EINTR) return lambda__sys_fail(c, "recv");
    }
    c->in.len += (size_t)n;
    c->in.ptr[c->in.len] = '\0';
    return (long)n;
}

/* Read a response head into `in` (1xx interim responses are skipped) and parse it into
   c->head. Returns 0 with *head_len set, LAMBDA__SHUTDOWN, or a negative LAMBDA_E_*;
   *got_bytes is set when any byte arrived. */
LAMBDA__PRIVATE int lambda__read_head(lambda__conn *c, size_t *head_len, int *got_bytes)
{
    size_t scanned = 0, hl;
    long n;
    int rc;
    for (;;) {
        while ((hl = lambda__head_end(c->in.ptr ? c->in.ptr : "", c->in.len, scanned)) == 0) {
            if (c->in.len >= LAMBDA_MAX_HEAD_SIZE) break;
            scanned = c->in.len;
            if (c->watch_fd >= 0 && c->in.len == 0 && c->wait_idle && (rc = c->wait_idle(c)) != 0)
                return rc;
            n = lambda__recv(c, LAMBDA_RECV_SIZE);
            if (n < 0) return (int)n;
            if (n == 0) {
                if (c->in.len)
                    lambda__log(c->log, LAMBDA_LOG_ERROR,
                                "connection closed in the middle of a response head");
                return LAMBDA_E_IO;
            }
            *got_bytes = 1;
        }
        if (hl == 0 || hl > LAMBDA_MAX_HEAD_SIZE) {
            lambda__log(c->log, LAMBDA_LOG_ERROR, "response head exceeds %d bytes",
                        LAMBDA_MAX_HEAD_SIZE);
            return LAMBDA_E_HTTP;
        }
        if (lambda__parse_head(c->in.ptr, hl, &c->head) != 0) {
            lambda__log(c->log, LAMBDA_LOG_ERROR, "malformed HTTP response head from the %s",
                        c->api);
            return LAMBDA_E_HTTP;
        }
        if (c->head.status >= 200) break;
        memmove(c->in.ptr, c->in.ptr + hl, c->in.len - hl);
        c->in.len -= hl;
        scanned = 0;
    }
    *head_len = hl;
    return 0;
}

/* The body is larger than the caller's limit: not read, and the connection is not reused. */
LAMBDA__PRIVATE int lambda__body_too_big(lambda__conn *c)
{
    c->too_big = 1;
    c->body_len = 0;
    c->head.close = 1;
    return 0;
}

/* A chunked body, decoded in place right after the head. */
LAMBDA__PRIVATE int lambda__read_chunked(lambda__conn *c, size_t max_body)
{
    lambda__chunked dec;
    size_t r = c->body_off, w = c->body_off;
    long n;
    int rc;
    memset(&dec, 0, sizeof dec);
    for (;;) {
        rc = lambda__chunked_decode(&dec, c->in.ptr, &r, c->in.len, &w, c->body_off, max_body);
        if (rc == 0) break;
        if (rc == LAMBDA_E_TOO_BIG) return lambda__body_too_big(c);
        if (rc != LAMBDA__INCOMPLETE) {
            lambda__log(c->log, LAMBDA_LOG_ERROR, "malformed chunked body from the %s", c->api);
            return LAMBDA_E_HTTP;
        }
        c->in.len = w; /* everything up to here is decoded: reuse the space */
        r = w;
        n = lambda__recv(c, LAMBDA_RECV_SIZE);
        if (n < 0) return (int)n;
        if (n == 0) {
            lambda__log(c->log, LAMBDA_LOG_ERROR,
                        "connection closed in the middle of a chunked body");
            return LAMBDA_E_IO;
        }
    }
    if (r != c->in.len) c->head.close = 1; /* unexpected extra bytes: do not reuse */
    c->body_len = w - c->body_off;
    return 0;
}

/* A Content-Length body. */
LAMBDA__PRIVATE int lambda__read_length(lambda__conn *c, size_t max_body)
{
    uint64_t cl = c->head.content_length;
    size_t have = c->in.len - c->body_off;
    long n;
    if (cl > max_body) return lambda__body_too_big(c);
    if (have > cl) c->head.close = 1; /* more than the body: do not reuse */
    while (have < cl) {
        n = lambda__recv(c, (size_t)cl - have);
        if (n < 0) return (int)n;
        if (n == 0) {
            lambda__log(c->log, LAMBDA_LOG_ERROR, "connection closed after %lu of %lu body bytes",
                        (unsigned long)have, (unsigned long)cl);
            return LAMBDA_E_IO;
        }
        have += (size_t)n;
    }
    c->body_len = (size_t)cl;
    return 0;
}

/* No length: the body runs to the end of the connection. */
LAMBDA__PRIVATE int lambda__read_to_close(lambda__conn *c, size_t max_body)
{
    size_t have = c->in.len - c->body_off;
    long n;
    c->head.close = 1;
    for (;;) {
        if (have > max_body) return lambda__body_too_big(c);
        n = lambda__recv(c, LAMBDA_RECV_SIZE);
        if (n < 0) return (int)n;
        if (n == 0) break;
        have += (size_t)n;
    }
    c->body_len = have;
    return 0;
}

/* Read one response into `in`: the head, then the body (Content-Length, chunked, or up to
   close). `max_body` bounds the body; a larger one sets c->too_big and leaves the
   connection unusable. Returns 0, LAMBDA__SHUTDOWN (c->watch_fd became readable first),
   LAMBDA_E_IO (sets *got_bytes when any arrived), LAMBDA_E_HTTP, LAMBDA_E_NOMEM. */
LAMBDA__PRIVATE int lambda__read_response(lambda__conn *c, size_t max_body, int *got_bytes)
{
    size_t head_len = 0;
    int rc;
    c->in.len = 0;
    c->too_big = 0;
    c->body_len = 0;
    *got_bytes = 0;
    if ((rc = lambda__read_head(c, &head_len, got_bytes)) != 0) return rc;
    c->body_off = head_len;
    if (c->head.status == 204 || c->head.status == 304) rc = 0;
    else if (c->head.chunked) rc = lambda__read_chunked(c, max_body);
    else if (c->head.has_length) rc = lambda__read_length(c, max_body);
    else rc = lambda__read_to_close(c, max_body);
    if (rc == 0 && !c->too_big) c->in.ptr[c->body_off + c->body_len] = '\0';
    return rc;
}

/* Append to the request head; the first failure is kept in c->req_err (and the request
   is then never sent), so builders need not check each call. */
LAMBDA__PRIVATE void lambda__req_add(lambda__conn *c, const char *s, size_t n)
{
    lambda__buf *b = &c->req;
    if (c->req_err) return;
    if (b->len + n < b->cap) { /* the usual case: no reserve call */
        memcpy(b->ptr + b->len, s, n);
        b->ptr[b->len += n] = '\0';
        return;
    }
    c->req_err = lambda__buf_add(b, s, n, LAMBDA__NO_LIMIT);
}

LAMBDA__PRIVATE void lambda__req_str(lambda__conn *c, const char *s)
{
    lambda__req_add(c, s, strlen(s));
}

/* Start a request head: "<METHOD> <base><path1><id><path2> HTTP/1.1" and the common
   headers. The id is percent-encoded exactly as Go's net/url escapes a path (all but
   A-Z a-z 0-9 - . _ ~ $ & + , : ; = @), so that a Go server (the Runtime API, the RIE
   and its chi router, which matches on the raw path when it differs from Go's own
   escaping) sees the decoded id, whatever it holds; "/" is escaped too, so an id can
   never add a path segment. */
LAMBDA__PRIVATE void lambda__req_begin(lambda__conn *c, const char *method, const char *path1,
                                       const char *id, size_t id_len, const char *path2)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    c->req.len = 0;
    c->req_err = 0;
    lambda__req_str(c, method);
    lambda__req_add(c, LAMBDA__LIT(" "));
    lambda__req_str(c, c->base);
    lambda__req_str(c, path1);
    for (i = 0; i < id_len; i++) {
        size_t run = i;
        unsigned char ch;
        char enc[3];
        while (run < id_len && lambda__is_path_byte((unsigned char)id[run])) run++;
        lambda__req_add(c, id + i, run - i); /* a run kept as it is, in one append */
        if ((i = run) == id_len) break;
        ch = (unsigned char)id[i];
        enc[0] = '%';
        enc[1] = hex[ch >> 4];
        enc[2] = hex[ch & 15];
        lambda__req_add(c, enc, 3);
    }
    lambda__req_str(c, path2);
    lambda__req_add(c, LAMBDA__LIT(" HTTP/1.1\r\nHost: "));
    lambda__req_str(c, c->host);
    lambda__req_add(c,
                    LAMBDA__LIT("\r\nUser-Agent: lambda_runtime.h/" LAMBDA_RUNTIME_VERSION "\r\n"));
}

LAMBDA__PRIVATE void lambda__req_header(lambda__conn *c, const char *name, const char *value,
                                        size_t value_len)
{
    lambda__req_str(c, name);
    lambda__req_add(c, LAMBDA__LIT(": "));
    lambda__req_add(c, value, value_len);
    lambda__req_add(c, LAMBDA__LIT("\r\n"));
}

/* End the head (the blank line). */
LAMBDA__PRIVATE void lambda__req_end(lambda__conn *c)
{
    lambda__req_add(c, LAMBDA__LIT("\r\n"));
}

/* Is the idle keep-alive connection still usable: open, and with nothing unasked
   waiting to be read? (One poll(); it also lets a stream, which cannot be resent, start
   on a connection known to be alive.) */
LAMBDA__PRIVATE int lambda__conn_alive(lambda__conn *c)
{
    struct pollfd pfd;
    char ch;
    pfd.fd = c->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) == 0) return 1;
    return recv(c->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
           (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Make sure there is a live connection to send on: drop an idle one the server closed
   (or that holds unasked bytes), open one if there is none. The check is skipped when the
   last exchange ended just before (c->recent: nothing ran since, e.g. GET /next right
   after a POST, or only a handler that returned within LAMBDA__MOMENT): a connection
   closed in that instant still fails the exchange without an answer, which is retried
   once on a new one. A stream, which cannot be resent, always checks: it starts while
   the handler runs, when c->recent is 0. */
LAMBDA__PRIVATE int lambda__ensure_conn(lambda__conn *c)
{
    int rc;
    c->fresh = 0;
    if (c->fd >= 0 && !c->recent && !lambda__conn_alive(c)) lambda__close(c);
    c->recent = 0;
    if (c->fd >= 0) return 0;
    if ((rc = lambda__connect(c)) != 0) return rc;
    c->fresh = 1;
    return 0;
}

/* Send the request in c->req plus `body` and read the response. A connection that the
   server closed while idle is reopened once, transparently; a failure on a fresh
   connection is returned. */
LAMBDA__PRIVATE int lambda__exchange(lambda__conn *c, const char *body, size_t body_len,
                                     size_t max_body)
{
    char eb[24];
    int attempt, rc = LAMBDA_E_IO, got = 0;
    if (c->req_err) return c->req_err;
    c->err_op = NULL;
    for (attempt = 0; attempt < 2; attempt++) {
        if ((rc = lambda__ensure_conn(c)) != 0) return rc;
        rc = lambda__send(c, body, body_len);
        /* A send cut off by the server (EPIPE, ECONNRESET) may follow an answer it sent
           before it stopped reading the body: a 413 for a body over its limit, then close.
           That answer, if it is whole, is the outcome. */
        if (rc == 0 || (body_len && (c->err_no == EPIPE || c->err_no == ECONNRESET))) {
            int cut = rc != 0;
            rc = lambda__read_response(c, max_body, &got);
            if (cut) c->head.close = 1;
        }
        if (rc == LAMBDA__SHUTDOWN) return rc;
        if (rc == 0) {
            if (c->head.close) lambda__close(c);
            c->recent = c->fd >= 0;
            return 0;
        }
        lambda__close(c);
        if (rc != LAMBDA_E_IO || got || c->fresh) break;
    }
    if (rc == LAMBDA_E_IO && !lambda__stopped(c)) {
        if (c->err_op)
            lambda__log(c->log, LAMBDA_LOG_ERROR, "%s connection failed: %s: %s", c->api, c->err_op,
                        lambda__errno_name(c->err_no, eb));
        else
            lambda__log(c->log, LAMBDA_LOG_ERROR, "%s closed the connection %s", c->api,
                        got ? "in the middle of a response" : "without answering");
    }
    return rc;
}

/* The status of an answer: 2xx is 0. Anything else is logged with the start of its body
   and gives LAMBDA_E_STATUS for 5xx (the platform wants the process to exit), else
   `other`: 0 where the runtime goes on (a warning), or an error code (logged as an error). */
LAMBDA__PRIVATE int lambda__api_status(lambda__conn *c, const char *what, int other)
{
    int st = c->head.status;
    if (st >= 200 && st < 300) return LAMBDA_E_OK;
    lambda__log(c->log, st >= 500 || other ? LAMBDA_LOG_ERROR : LAMBDA_LOG_WARN,
                "%s: HTTP %d from the %s: %.*s", what, st, c->api,
                (int)LAMBDA__MIN(c->too_big ? 0 : c->body_len, 300), c->in.ptr + c->body_off);
    return st >= 500 ? LAMBDA_E_STATUS : other;
}

/* POST a request (head begun in c->req) with a body, and check the answer's status
   (lambda__api_status: `other` for 4xx). */
LAMBDA__PRIVATE int lambda__post(lambda__conn *c, const char *what, const char *ctype,
                                 const char *body, size_t len, int other)
{
    char num[32];
    int rc;
    lambda__req_header(c, "Content-Type", ctype, strlen(ctype));
    lambda__req_header(c, "Content-Length", num, lambda__utoa(num, len, 10));
    lambda__req_end(c);
    rc = lambda__exchange(c, body, len, LAMBDA__MAX_API_BODY);
    return rc ? rc : lambda__api_status(c, what, other);
}

/* Point a string at header `k` of the last response, or at "". */
LAMBDA__PRIVATE lambda_str lambda__hdr(const lambda__conn *c, int k)
{
    lambda_str s;
    if (c->head.present & (1u << k)) {
        s.ptr = c->in.ptr + c->head.off[k];
        s.len = c->head.len[k];
    } else {
        s.ptr = "";
        s.len = 0;
    }
    return s;
}

/* >>invoke: the runtime, the trace environment, one invocation, the serve loop */

/* _X_AMZN_TRACE_ID in environ, written without setenv (which would allocate): two
   buffers take turns, so a new value is always complete before environ points at it. */
typedef struct lambda__trace {
    lambda__buf entry[2];       /* "_X_AMZN_TRACE_ID=..."; entry[cur] is in environ while `set` */
    char store[2][192];         /* where they start (trace ids are about 100 bytes) */
    int cur;
    int set;
    char **env_arr;             /* the environ array made to add the entry, or NULL */
    size_t env_cap;
} lambda__trace;

enum { /* lambda__next, besides 0 (an event) */
    LAMBDA__NO_EVENT = 3,       /* /next answered with another status (logged) */
    LAMBDA__SKIPPED = 4         /* the event had an unusable request id (logged, skipped) */
};

/* One runtime: a worker, or the only one. Lives on lambda_run's stack (workers: in the
   pool's array). */
typedef struct lambda__rt {
    lambda_config cfg;          /* the user's, defaults filled in */
    lambda__conn conn;          /* to the Runtime API */
    lambda__logger log;
    lambda_context ctx;         /* the invocation being served */
    lambda_response res;
    lambda__trace trace;
    int trace_env;              /* set _X_AMZN_TRACE_ID per invocation (not with several workers) */
    unsigned long served;
    int sig_fd;                 /* with on_shutdown: the SIGTERM pipe's read end, else -1 */
    int sig_wfd;                /* ... and its write end (the signal handler's), else -1 */
    struct sigaction old_term;  /* SIGTERM's disposition before lambda_on_shutdown's handler */
    /* Set by lambda__shutdown_setup: restores old_term, closes the pipe and park_fd (a
       pointer, so that programs without a shutdown hook link none of it; see LINK-TIME
       OPT-INS). The scratch area (>>events) chains its own clean-up in front of it. */
    void (*shutdown_free)(struct lambda__rt *rt);
    int park_fd;                /* the internal extension's parked /event/next, else -1 */
    /* Where the request head and the response body start: a small answer then needs no
       page of its own (they move to the allocator when they outgrow this). */
    char req_store[384], body_store[512];
    struct lambda__scratch *scratch; /* >>events: lambda_scratch's blocks, or NULL */
    struct lambda__metrics *metrics; /* >>metrics: what lambda_metric recorded, or NULL */
    int az_state;               /* >>metadata: 0 not fetched yet, 1 fetched (or failed) */
    char az_id[64];             /* ... the Availability Zone ID, "" when unknown */
    int (*obs_post)(struct lambda__rt *rt); /* >>xray: posts /error with the cause, or NULL */
    int obs_rc;                 /* ... what that post returned (lambda__obs_posted) */
} lambda__rt;

/* Make `entry` ("_X_AMZN_TRACE_ID=...") the environment's only _X_AMZN_TRACE_ID, or
   remove every one when entry is NULL. environ is scanned and edited in place each time,
   as setenv and unsetenv do but without their malloc, so whatever user code did to the
   variable since (setenv, unsetenv, clearenv, putenv) is undone. A replaced entry is one
   pointer store, after the string is complete: a concurrent getenv sees the old value or
   the new one, never a mix. Adding the variable takes a new array of pointers
   (t->env_arr), reused for as long as environ points at it. That array can outlive the
   runtime (environ keeps pointing at it), so it never comes from LAMBDA_MALLOC, whose
   memory may be an arena the program frees later. */
#ifdef LAMBDA__PAGES
#  define LAMBDA__ENV_ALLOC(n) lambda__mem_realloc(NULL, n)
#  define LAMBDA__ENV_FREE(p) lambda__mem_free(p)
#else
#  define LAMBDA__ENV_ALLOC(n) malloc(n)
#  define LAMBDA__ENV_FREE(p) free(p)
#endif
#if defined(__GNUC__) || defined(__clang__)
#  define LAMBDA__PUBLISH(slot, p) __atomic_store_n(&(slot), (p), __ATOMIC_RELEASE)
#else
#  define LAMBDA__PUBLISH(slot, p) ((slot) = (p))
#endif
LAMBDA__PRIVATE int lambda__env_trace(lambda__trace *t, char *entry)
{
    char **e = environ, **ne;
    size_t n, w = 0;
    for (n = 0; e && e[n]; n++) {
        if (e[n][0] != '_' || strncmp(e[n], LAMBDA__LIT("_X_AMZN_TRACE_ID=")) != 0) {
            if (w != n) e[w] = e[n];
            w++;
        } else if (entry) {
            LAMBDA__PUBLISH(e[w], entry); /* replaced in place */
            w++;
            entry = NULL;
        }
    }
    if (e) e[w] = NULL;
    if (entry == NULL) return LAMBDA_E_OK;
    if (e == NULL || e != t->env_arr || w + 2 > t->env_cap) {
        ne = (char **)LAMBDA__ENV_ALLOC((w + 8) * sizeof *ne);
        if (ne == NULL) return LAMBDA_E_NOMEM;
        if (w) memcpy(ne, e, w * sizeof *ne);
        ne[w] = entry;
        ne[w + 1] = NULL;
        /* an array of ours that environ moved away from goes; one that environ still is (it
           is full) stays, for a reader that may be walking it */
        if (t->env_arr && t->env_arr != e) LAMBDA__ENV_FREE(t->env_arr);
        t->env_arr = ne;
        t->env_cap = w + 8;
        LAMBDA__PUBLISH(environ, ne);
        return LAMBDA_E_OK;
    }
    e[w + 1] = NULL;
    LAMBDA__PUBLISH(e[w], entry);
    return LAMBDA_E_OK;
}

/* Set _X_AMZN_TRACE_ID to this invocation's trace id, or unset it when there is none,
   without allocating per invocation: the new value goes into the buffer that is not in
   environ, then environ is pointed at it. A string that getenv returned stays valid and
   unchanged until the variable is set a second time after that (the invocation after the
   next one). Returns 0 or LAMBDA_E_NOMEM (the variable is then unset). */
LAMBDA__PRIVATE int lambda__trace_set(lambda__trace *t, lambda_str trace)
{
    static const char name[] = "_X_AMZN_TRACE_ID=";
    int next = t->set ? !t->cur : t->cur;
    lambda__buf *b = &t->entry[next];
    if (trace.len == 0) {
        (void)lambda__env_trace(t, NULL); /* also clears a value inherited or set by user code */
        t->set = 0;
        return 0;
    }
    b->len = 0;
    if (lambda__buf_add(b, name, sizeof name - 1, LAMBDA__NO_LIMIT) != 0 ||
        lambda__buf_add(b, trace.ptr, trace.len, LAMBDA__NO_LIMIT) != 0 ||
        lambda__env_trace(t, b->ptr) != 0) {
        (void)lambda__env_trace(t, NULL);
        t->set = 0;
        return LAMBDA_E_NOMEM;
    }
    t->cur = next;
    t->set = 1;
    return 0;
}

LAMBDA__PRIVATE void lambda__trace_free(lambda__trace *t)
{
    if (t->set) (void)lambda__env_trace(t, NULL); /* environ must not point at freed memory */
    t->set = 0;
    /* an array stays while environ still points at it */
    if (t->env_arr && environ != t->env_arr) LAMBDA__ENV_FREE(t->env_arr);
    t->env_arr = NULL;
    lambda__buf_free(&t->entry[0]);
    lambda__buf_free(&t->entry[1]);
}

/* Request ids go into a URL: refuse empty, over-long, space and control bytes. */
LAMBDA__PRIVATE int lambda__valid_id(const char *id, size_t n)
{
    size_t i;
    if (n == 0 || n > LAMBDA_MAX_ID_SIZE) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

/* A runtime with `cfg`'s settings and the defaults, no connection yet. */
LAMBDA__PRIVATE void lambda__rt_init(lambda__rt *rt, const lambda_config *cfg)
{
    memset(rt, 0, sizeof *rt);
    rt->sig_fd = rt->sig_wfd = rt->park_fd = -1;
    rt->trace_env = 1;
    rt->cfg = *cfg;
    rt->cfg.max_event_size = LAMBDA__DEF(cfg->max_event_size, LAMBDA_DEFAULT_MAX_EVENT);
    rt->cfg.max_response_size = LAMBDA__DEF(cfg->max_response_size, LAMBDA_DEFAULT_MAX_RESPONSE);
    rt->res.max = rt->cfg.max_response_size;
    lambda__response_reset(&rt->res);
    lambda__logger_init(&rt->log);
    lambda__conn_init(&rt->conn, &rt->log, "/2018-06-01/runtime/", "Runtime API");
    lambda__buf_use(&rt->conn.req, rt->req_store, sizeof rt->req_store);
    lambda__buf_use(&rt->res.body, rt->body_store, sizeof rt->body_store);
    lambda__buf_use(&rt->trace.entry[0], rt->trace.store[0], sizeof rt->trace.store[0]);
    lambda__buf_use(&rt->trace.entry[1], rt->trace.store[1], sizeof rt->trace.store[1]);
    rt->ctx.log_json = rt->log.json;
    rt->ctx.log_level = rt->log.level;
    rt->ctx.user = cfg->user;
}

LAMBDA__PRIVATE void lambda__rt_free(lambda__rt *rt)
{
    lambda__conn_free(&rt->conn);
    if (rt->shutdown_free) rt->shutdown_free(rt);
    lambda__trace_free(&rt->trace);
    lambda__response_free(&rt->res);
}

/* GET /next and the context of the event it brings. Returns 0 with an event (ctx, and
   the body in the receive buffer), LAMBDA__NO_EVENT, LAMBDA__SKIPPED, LAMBDA__SHUTDOWN, or
   a negative code to stop. */
LAMBDA__PRIVATE int lambda__next(lambda__rt *rt)
{
    lambda__conn *c = &rt->conn;
    lambda_context *ctx = &rt->ctx;
    lambda_str d;
    uint64_t deadline = 0;
    int rc;
    rt->log.rid[0] = rt->log.tenant[0] = '\0';
    if ((rc = lambda__set_idle(c, 1)) != 0)
        return rc == 2 ? (int)LAMBDA__SHUTDOWN : (int)LAMBDA_E_IO;
    lambda__req_begin(c, "GET", "invocation/next", "", 0, "");
    lambda__req_end(c);
    c->watch_fd = rt->sig_fd; /* SIGTERM while idle ends the wait (one runtime, no workers) */
    rc = lambda__exchange(c, NULL, 0, rt->cfg.max_event_size);
    c->watch_fd = -1;
    lambda__set_idle(c, 0);
    if (rc) return rc;
    if (c->head.status != 200) { /* logged; the caller counts these */
        rc = lambda__api_status(c, "invocation/next", 0);
        return rc ? rc : LAMBDA__NO_EVENT;
    }
    ctx->request_id = lambda__hdr(c, LAMBDA__H_REQUEST_ID);
    ctx->invoked_function_arn = lambda__hdr(c, LAMBDA__H_ARN);
    ctx->trace_id = lambda__hdr(c, LAMBDA__H_TRACE);
    ctx->client_context = lambda__hdr(c, LAMBDA__H_CLIENT_CONTEXT);
    ctx->cognito_identity = lambda__hdr(c, LAMBDA__H_COGNITO);
    ctx->tenant_id = lambda__hdr(c, LAMBDA__H_TENANT);
    ctx->invocation_id = lambda__hdr(c, LAMBDA__H_INVOCATION_ID);
    ctx->content_type = lambda__hdr(c, LAMBDA__H_CONTENT_TYPE);
    if (ctx->content_type.len == 0) {
        ctx->content_type.ptr = "application/json";
        ctx->content_type.len = sizeof "application/json" - 1;
    }
    d = lambda__hdr(c, LAMBDA__H_DEADLINE);
    if (d.len &&
        (lambda__parse_u64(d.ptr, d.len, &deadline) != 0 || deadline > (uint64_t)INT64_MAX))
        deadline = 0;
    ctx->deadline_ms = (int64_t)deadline;
    if (!lambda__valid_id(ctx->request_id.ptr, ctx->request_id.len)) {
        lambda__log(
            &rt->log, LAMBDA_LOG_ERROR, "invocation/next: %s request id (%lu bytes); event skipped",
            ctx->request_id.len ? "invalid" : "missing", (unsigned long)ctx->request_id.len);
        return LAMBDA__SKIPPED;
    }
    lambda__logger_id(rt->log.rid, ctx->request_id);
    lambda__logger_id(rt->log.tenant, ctx->tenant_id);
    return 0;
}

/* POST the recorded error: to invocation/<id>/error, or to init/error. */
LAMBDA__PRIVATE int lambda__post_error(lambda__rt *rt, int init)
{
    lambda__conn *c = &rt->conn;
    const char *type;
    int rc = lambda__error_doc(&rt->res, &type);
    if (rc) return rc;
    if (init) lambda__req_begin(c, "POST", "init/error", "", 0, "");
    else
        lambda__req_begin(c, "POST", "invocation/", rt->ctx.request_id.ptr, rt->ctx.request_id.len,
                          "/error");
    type = lambda__header_safe_type(type);
    lambda__req_header(c, "Lambda-Runtime-Function-Error-Type", type, strlen(type));
    if (!init && rt->ctx.invocation_id.len)
        lambda__req_header(c, "Lambda-Runtime-Invocation-Id", rt->ctx.invocation_id.ptr,
                           rt->ctx.invocation_id.len);
    return lambda__post(c, init ? "init/error" : "error", "application/json", rt->res.body.ptr,
                        rt->res.body.len, 0);
}


/* res->explain, after every handler (set by the first failed call on the response, see
   lambda__note): a handler that succeeded gets a warning naming the call, one that
   lambda__handler_failed reported (failed == 2) the cause appended to its message. */
LAMBDA__PRIVATE void lambda__explain(lambda_response *res, struct lambda__logger *log)
{
    const char *more[4];
    int i;
    if (res->cause_call == NULL) return;
    if (!res->failed) {
        lambda__log(log, LAMBDA_LOG_WARN, "request %s: the handler returned 0 after %s failed: %s",
                    res->ctx ? res->ctx->request_id.ptr : "-", res->cause_call, res->cause_why);
        return;
    }
    more[0] = "; the first failed call: ";
    more[1] = res->cause_call;
    more[2] = ": ";
    more[3] = res->cause_why;
    for (i = 0; i < 4 && res->failed == 2; i++)
        (void)lambda__buf_add(&res->error_text, more[i], strlen(more[i]), LAMBDA__NO_LIMIT);
}

/* A handler returned `hrc` without lambda_error: say what the code means, and (through
   res->explain) which call on the response failed first. */
LAMBDA__PRIVATE void lambda__handler_failed(lambda_response *res, int hrc)
{
    lambda__fail(res, "Runtime.HandlerFailed", "handler returned %d: %s", hrc,
                 lambda_strerror(hrc));
    res->failed = 2;
}

/* Run the handler on the event in the receive buffer; afterwards rt->res holds the
   response or the error to report. */
LAMBDA__PRIVATE void lambda__run_handler(lambda__rt *rt)
{
    lambda_response *res = &rt->res;
    lambda_str event;
    uint32_t t0;
    int hrc;
    event.ptr = rt->conn.in.ptr + rt->conn.body_off;
    event.len = rt->conn.body_len;
    if (rt->trace_env && lambda__trace_set(&rt->trace, rt->ctx.trace_id) != 0)
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "out of memory: _X_AMZN_TRACE_ID not set");
    rt->conn.recent = 0; /* the handler may run for long: check the connection again */
    res->conn = &rt->conn; /* streaming is possible from here on */
    res->ctx = &rt->ctx;
    t0 = lambda__ticks();
    hrc = rt->cfg.handler(&rt->ctx, event, res);
    /* ... unless it returned at once (see lambda__ensure_conn) */
    rt->conn.recent = LAMBDA__TICKS && (uint32_t)(lambda__ticks() - t0) < LAMBDA__MOMENT;
    rt->served++;
    lambda__stdout_flush(); /* the handler's printf output belongs to this invocation's logs */
    if (res->failed || (hrc == 0 && (res->append_err == 0 || res->append_err == LAMBDA_E_IO)))
        ; /* as the handler left it */
    else if (res->append_err == LAMBDA_E_TOO_BIG)
        lambda__fail(res, "Function.ResponseSizeTooLarge",
                     "response larger than the limit of %lu bytes",
                     (unsigned long)rt->cfg.max_response_size);
    else if (res->append_err != 0)
        lambda__fail(res, "Runtime.OutOfMemory", "out of memory while building the response");
    else
        lambda__handler_failed(res, hrc);
    if (res->explain) res->explain(res, &rt->log);
}

/* One invocation: GET /next, run the handler, POST the result. Returns 0 to go on,
   LAMBDA__NO_EVENT, or a negative code / LAMBDA__SHUTDOWN to stop. */
LAMBDA__PRIVATE int lambda__invoke_once(lambda__rt *rt)
{
    lambda__conn *c = &rt->conn;
    lambda_context *ctx = &rt->ctx;
    int rc = lambda__next(rt);
    if (rc == LAMBDA__SKIPPED) return 0;
    if (rc) return rc;
    lambda__response_reset(&rt->res);
    if (c->too_big) {
        lambda__fail(&rt->res, "Runtime.EventTooLarge",
                     "event larger than the runtime's limit of %lu bytes",
                     (unsigned long)rt->cfg.max_event_size);
        lambda__log(&rt->log, LAMBDA_LOG_ERROR,
                    "request %s: event over %lu bytes: Runtime.EventTooLarge",
                    ctx->request_id.ptr, (unsigned long)rt->cfg.max_event_size);
        rt->served++;
        return lambda__post_error(rt, 0);
    }
    lambda__run_handler(rt);
    if (rt->res.streaming) return rt->res.finish(&rt->res);
    if (rt->res.failed) return lambda__post_error(rt, 0);
    lambda__req_begin(c, "POST", "invocation/", ctx->request_id.ptr, ctx->request_id.len,
                      "/response");
    if (ctx->invocation_id.len)
        lambda__req_header(c, "Lambda-Runtime-Invocation-Id", ctx->invocation_id.ptr,
                           ctx->invocation_id.len);
    return lambda__post(c, "response", rt->res.content_type,
                        rt->res.body.ptr ? rt->res.body.ptr : "", rt->res.body.len, 0);
}

/* One worker's loop: /next, handler, result, until max_invocations or a fatal error. */
LAMBDA__PRIVATE int lambda__serve(lambda__rt *rt)
{
    int rc = 0, bad_next = 0;
    while (rt->cfg.max_invocations == 0 || rt->served < rt->cfg.max_invocations) {
        rc = lambda__invoke_once(rt);
        if (rc == LAMBDA__SHUTDOWN) return rc; /* SIGTERM: lambda_run calls the hook */
        if (rc < 0) break;
        if (rc != LAMBDA__NO_EVENT) bad_next = 0;
        else if (++bad_next >= 3) { /* e.g. 403 three times: retrying would only spin */
            lambda__log(&rt->log, LAMBDA_LOG_ERROR,
                        "giving up after 3 failed invocation/next calls in a row");
            rc = LAMBDA_E_STATUS;
            break;
        }
        rc = 0;
    }
    if (rc < 0 && !lambda__stopped(&rt->conn))
        lambda__log(&rt->log, LAMBDA_LOG_ERROR, "exiting: %s", lambda_strerror(rc));
    return rc;
}

LAMBDA_API int64_t lambda_remaining_ms(const lambda_context *ctx)
{
    struct timespec ts;
    if (ctx == NULL || ctx->deadline_ms <= 0) return INT64_MAX;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ctx->deadline_ms - ((int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000));
}

/* >>stream: response streaming (chunked POST .../response, error trailers), the HTTP prelude */

/* Standard base64 (with padding) of s[0..n), appended to b. */
LAMBDA__PRIVATE int lambda__base64(lambda__buf *b, const char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    size_t i;
    int rc = lambda__buf_reserve(b, (n + 2) / 3 * 4, LAMBDA__NO_LIMIT);
    if (rc) return rc;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        b->ptr[b->len++] = tab[v >> 18];
        b->ptr[b->len++] = tab[(v >> 12) & 63];
        b->ptr[b->len++] = tab[(v >> 6) & 63];
        b->ptr[b->len++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u);
        b->ptr[b->len++] = tab[v >> 18];
        b->ptr[b->len++] = tab[(v >> 12) & 63];
        b->ptr[b->len++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        b->ptr[b->len++] = '=';
    }
    b->ptr[b->len] = '\0';
    return 0;
}

/* One chunk: "<hex>\r\n" data "\r\n" in one sendmsg. An empty one is not sent (it
   would end the stream). */
LAMBDA__PRIVATE int lambda__stream_chunk(lambda_response *res, const void *data, size_t len)
{
    char eb[24];
    lambda__conn *c = res->conn;
    char size[24];
    struct iovec iov[3];
    if (res->append_err) return res->append_err;
    if (len == 0) return 0;
    if (c == NULL || c->fd < 0) return res->append_err = LAMBDA_E_IO;
    iov[0].iov_len = lambda__utoa(size, len, 16);
    memcpy(size + iov[0].iov_len, "\r\n", 2);
    iov[0].iov_base = size;
    iov[0].iov_len += 2;
    iov[1].iov_base = (void *)(uintptr_t)data;
    iov[1].iov_len = len;
    iov[2].iov_base = (void *)(uintptr_t)"\r\n";
    iov[2].iov_len = 2;
    if (lambda__sendv(c, iov, 3) != 0) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "stream: send: %s",
                    lambda__errno_name(c->err_no, eb));
        lambda__close(c);
        return res->append_err = LAMBDA_E_IO;
    }
    return 0;
}

/* End a streamed response after the handler returned: the last chunk, with the error
   trailers if the invocation failed; then the status; then the connection is closed. */
LAMBDA__PRIVATE int lambda__stream_close(lambda_response *res)
{
    lambda__conn *c = res->conn;
    int rc = 0, got = 0;
    if (res->append_err == LAMBDA_E_IO || c->fd < 0) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "stream: the connection broke; the response is lost");
        lambda__close(c);
        return 0;
    }
    c->req.len = 0;
    c->req_err = 0;
    lambda__req_add(c, LAMBDA__LIT("0\r\n"));
    if (res->failed) { /* the error document is built in the (idle) body buffer */
        const char *type;
        rc = lambda__error_doc(res, &type);
        lambda__req_add(c, LAMBDA__LIT("Lambda-Runtime-Function-Error-Type: "));
        lambda__req_str(c, lambda__header_safe_type(type));
        lambda__req_add(c, LAMBDA__LIT("\r\nLambda-Runtime-Function-Error-Body: "));
        if (!rc && !c->req_err) c->req_err = lambda__base64(&c->req, res->body.ptr, res->body.len);
        lambda__req_add(c, LAMBDA__LIT("\r\n"));
    }
    lambda__req_end(c);
    if (rc || c->req_err) {
        lambda__close(c);
        return LAMBDA_E_NOMEM;
    }
    rc = lambda__send(c, NULL, 0);
    if (rc == 0) rc = lambda__read_response(c, LAMBDA__MAX_API_BODY, &got);
    lambda__close(c); /* the protocol asks for a new connection after a stream */
    if (rc) {
        lambda__log(c->log, LAMBDA_LOG_ERROR,
                    "stream: no answer from the Runtime API after the response");
        return 0;
    }
    return lambda__api_status(c, "response (streamed)", 0);
}

/* Send the head of a streamed POST .../response; from here on appends are chunks. */
LAMBDA__PRIVATE int lambda__stream_open(lambda_response *res)
{
    char eb[24];
    lambda__conn *c = res->conn;
    const lambda_context *ctx = res->ctx;
    int rc;
    if (c == NULL || ctx == NULL) return LAMBDA_E_ARG;
    lambda__req_begin(c, "POST", "invocation/", ctx->request_id.ptr, ctx->request_id.len,
                      "/response");
    lambda__req_header(c, "Lambda-Runtime-Function-Response-Mode", LAMBDA__LIT("streaming"));
    lambda__req_header(c, "Transfer-Encoding", LAMBDA__LIT("chunked"));
    lambda__req_header(
        c, "Trailer",
        LAMBDA__LIT("Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"));
    lambda__req_header(c, "Content-Type", res->content_type, strlen(res->content_type));
    if (ctx->invocation_id.len)
        lambda__req_header(c, "Lambda-Runtime-Invocation-Id", ctx->invocation_id.ptr,
                           ctx->invocation_id.len);
    lambda__req_end(c);
    if (c->req_err) return LAMBDA_E_NOMEM;
    if ((rc = lambda__ensure_conn(c)) != 0) return rc;
    if ((rc = lambda__send(c, NULL, 0)) != 0) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "stream: %s: %s", c->err_op,
                    lambda__errno_name(c->err_no, eb));
        lambda__close(c);
        return rc;
    }
    res->streaming = 1;
    res->chunk = lambda__stream_chunk;
    res->finish = lambda__stream_close;
    return 0;
}

/* Bytes appended before the stream began go out now, as one chunk. */
LAMBDA__PRIVATE int lambda__stream_pending(lambda_response *res)
{
    int rc = lambda__stream_chunk(res, res->body.ptr, res->body.len);
    res->body.len = 0;
    if (res->body.ptr) res->body.ptr[0] = '\0';
    return rc;
}

LAMBDA_API int lambda_stream_begin(lambda_response *res, const char *content_type)
{
    char saved[sizeof res->content_type];
    int rc;
    if (res->streaming || res->failed || res->conn == NULL) return LAMBDA_E_STATE;
    if (res->append_err) return res->append_err; /* stays the invocation's outcome */
    memcpy(saved, res->content_type, sizeof saved);
    if (content_type && lambda_response_set_content_type(res, content_type) != 0)
        return LAMBDA_E_ARG;
    if ((rc = lambda__stream_open(res)) != 0) {
        memcpy(res->content_type, saved, sizeof saved); /* nothing went out: as before the call */
        return rc;
    }
    return lambda__stream_pending(res);
}

LAMBDA_API int lambda_stream_http_begin(lambda_response *res, int status_code,
                                        const char *const *headers, const char *const *cookies)
{
    static const char zeros[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    static const char http_type[] = "application/vnd.awslambda.http-integration-response";
    char saved[sizeof res->content_type];
    lambda_response pre;
    lambda_json_writer w;
    int rc;
    if (res->streaming || res->failed || res->conn == NULL) return LAMBDA_E_STATE;
    if (res->append_err) return res->append_err; /* stays the invocation's outcome */
    if (status_code < 100 || status_code > 999) return LAMBDA_E_ARG;
    /* The prelude is built in a scratch response over the idle error buffer, so the body
       (bytes appended before this call, sent after the prelude) is left alone. */
    memset(&pre, 0, sizeof pre);
    pre.body = res->error_text;
    pre.body.len = 0;
    pre.max = LAMBDA__NO_LIMIT;
    lambda_json_writer_init(&w, &pre);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "statusCode");
    lambda_json_write_int64(&w, status_code);
    lambda_json_write_ckey(&w, "headers");
    lambda_json_write_begin_object(&w);
    for (; headers && headers[0] && headers[1]; headers += 2) {
        lambda_json_write_ckey(&w, headers[0]);
        lambda_json_write_cstring(&w, headers[1]);
    }
    lambda_json_write_end_object(&w);
    lambda_json_write_ckey(&w, "cookies");
    lambda_json_write_begin_array(&w);
    for (; cookies && cookies[0]; cookies++) lambda_json_write_cstring(&w, cookies[0]);
    lambda_json_write_end_array(&w);
    lambda_json_write_end_object(&w);
    if ((rc = lambda_json_writer_finish(&w)) == 0)
        rc = lambda_response_append(&pre, zeros, sizeof zeros);
    res->error_text = pre.body; /* it may have grown; lambda_error rewrites its text */
    res->error_text.len = 0;
    if (rc) return rc; /* nothing went out: the response is as before the call */
    memcpy(saved, res->content_type, sizeof saved);
    memcpy(res->content_type, http_type, sizeof http_type);
    if ((rc = lambda__stream_open(res)) != 0) {
        memcpy(res->content_type, saved, sizeof saved);
        return rc;
    }
    rc = lambda__stream_chunk(res, pre.body.ptr, pre.body.len);
    return rc ? rc : lambda__stream_pending(res);
}

LAMBDA_API int lambda_stream_write(lambda_response *res, const void *data, size_t len)
{
    if (!res->streaming) return LAMBDA_E_STATE;
    return lambda__stream_chunk(res, data, len);
}

/* >>events: the scratch area, encodings, HTTP requests and answers, routing, batches, S3 */

/* ---- the scratch area ---- */

/* A block of the scratch area: this header, then the bytes handed out. */
typedef struct lambda__scratch_block {
    struct lambda__scratch_block *next;
    size_t size; /* bytes of the block, header included */
    size_t used; /* bytes in use, header included (a multiple of 16) */
    size_t base; /* `used` after a reset: the header's size */
} lambda__scratch_block;

/* The area's state lives in its first block. */
struct lambda__scratch {
    lambda__scratch_block first;
    lambda__scratch_block *cur;        /* where the next request is tried first */
    unsigned long gen;                 /* the invocation the blocks are in use for */
    void (*next_free)(lambda__rt *rt); /* the clean-up that was in rt->shutdown_free */
};

#define LAMBDA__SCRATCH_MIN ((size_t)65536)
#define LAMBDA__ALIGN16(n)  (((n) + 15) & ~(size_t)15)

/* lambda__rt_free's clean-up (through rt->shutdown_free): the blocks go, then the
   clean-up that was there before. */
LAMBDA__PRIVATE void lambda__scratch_free(lambda__rt *rt)
{
    struct lambda__scratch *s = rt->scratch;
    lambda__scratch_block *b = s->first.next, *next;
    void (*chain)(lambda__rt *) = s->next_free;
    for (; b; b = next) {
        next = b->next;
        LAMBDA_FREE(b);
    }
    LAMBDA_FREE(s);
    rt->scratch = NULL;
    rt->shutdown_free = chain;
    if (chain) chain(rt);
}

LAMBDA_API void *lambda_scratch(lambda_response *res, size_t n)
{
    lambda__rt *rt;
    struct lambda__scratch *s;
    lambda__scratch_block *b;
    unsigned long gen;
    size_t hdr = LAMBDA__ALIGN16(sizeof(struct lambda__scratch));
    if (res == NULL || n > LAMBDA__NO_LIMIT / 4) return NULL;
    /* the response handed to a handler or an init hook is always the runtime's own */
    rt = (lambda__rt *)(void *)((char *)res - offsetof(lambda__rt, res));
    gen = rt->served * 2u + (res->conn != NULL ? 1u : 0u); /* init hook: 0; then 1, 3, 5 .. */
    n = n ? LAMBDA__ALIGN16(n) : 16u;
    s = rt->scratch;
    if (s == NULL) {
        size_t size = n + hdr < LAMBDA__SCRATCH_MIN ? LAMBDA__SCRATCH_MIN : n + hdr;
        s = (struct lambda__scratch *)LAMBDA_MALLOC(size);
        if (s == NULL) return NULL;
        memset(s, 0, sizeof *s);
        s->first.size = size;
        s->first.used = s->first.base = hdr;
        s->cur = &s->first;
        s->gen = gen;
        s->next_free = rt->shutdown_free;
        rt->shutdown_free = lambda__scratch_free;
        rt->scratch = s;
    } else if (s->gen != gen) { /* a new invocation: everything is free again */
        for (b = &s->first; b; b = b->next) b->used = b->base;
        s->cur = &s->first;
        s->gen = gen;
    }
    for (b = s->cur;; b = b->next) {
        if (b->size - b->used >= n) {
            void *p = (char *)b + b->used;
            b->used += n;
            s->cur = b;
            return p;
        }
        if (b->next == NULL) {
            size_t bh = LAMBDA__ALIGN16(sizeof *b), size = b->size * 2;
            lambda__scratch_block *nb;
            if (size < n + bh) size = n + bh;
            nb = (lambda__scratch_block *)LAMBDA_MALLOC(size);
            if (nb == NULL) return NULL;
            nb->next = NULL;
            nb->size = size;
            nb->used = nb->base = bh;
            b->next = nb;
        }
    }
}

LAMBDA__PRIVATE lambda_str lambda__str(const char *p, size_t n)
{
    lambda_str s;
    s.ptr = p;
    s.len = n;
    return s;
}

LAMBDA_API int lambda_json_string_scratch(lambda_response *res, lambda_json v, lambda_str *out)
{
    char *buf;
    size_t n = 0;
    int rc;
    *out = lambda__str("", 0);
    if (v.type != LAMBDA_JSON_STRING) return LAMBDA_E_TYPE;
    /* unescaping never makes a string longer: its raw length (quotes included) is room
       for the text and the NUL */
    if ((buf = (char *)lambda_scratch(res, v.len)) == NULL) return LAMBDA_E_NOMEM;
    if ((rc = lambda_json_string(v, buf, v.len, &n)) != 0) return rc;
    *out = lambda__str(buf, n);
    return 0;
}

/* ---- encodings ---- */

/* Base64 of p[0..n) at out, padded; returns the characters written ((n + 2) / 3 * 4). */
LAMBDA__PRIVATE size_t lambda__b64_enc(const unsigned char *p, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        unsigned long v =
            (unsigned long)p[i] << 16 | (i + 1 < n ? (unsigned long)p[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

LAMBDA__PRIVATE int lambda__b64_val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

LAMBDA_API int lambda_base64_encode(const void *data, size_t len, char *out, size_t cap,
                                    size_t *out_len)
{
    size_t need;
    if (out_len) *out_len = 0;
    if ((data == NULL && len) || (out == NULL && cap)) return LAMBDA_E_ARG;
    if (cap) out[0] = '\0';
    if (len > LAMBDA__NO_LIMIT / 4 * 3) return LAMBDA_E_SPACE;
    need = (len + 2) / 3 * 4;
    if (out_len) *out_len = need;
    if (need >= cap) return LAMBDA_E_SPACE;
    out[lambda__b64_enc((const unsigned char *)data, len, out)] = '\0';
    return 0;
}

LAMBDA_API int lambda_base64_decode(const char *s, size_t len, void *out, size_t cap,
                                    size_t *out_len)
{
    unsigned char *o = (unsigned char *)out;
    size_t i, pad = 0, body, rem, need, w = 0;
    if (out_len) *out_len = 0;
    if ((s == NULL && len) || (out == NULL && cap)) return LAMBDA_E_ARG;
    if (len && s[len - 1] == '=') pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
    body = len - pad;
    rem = body % 4;
    if (rem == 1 || (pad && (len % 4 != 0 || pad != 4 - rem))) goto bad;
    for (i = 0; i < body; i++)
        if (lambda__b64_val((unsigned char)s[i]) < 0) goto bad;
    /* the last character's unused bits must be zero (one encoding per byte string) */
    if (rem && (lambda__b64_val((unsigned char)s[body - 1]) & (rem == 2 ? 15 : 3)) != 0) goto bad;
    need = body / 4 * 3 + (rem ? rem - 1 : 0);
    if (out_len) *out_len = need;
    if (need >= cap) {
        if (cap) o[0] = 0;
        return LAMBDA_E_SPACE;
    }
    for (i = 0; i + 4 <= body; i += 4) { /* read four, then write three: safe in place */
        unsigned long v = (unsigned long)lambda__b64_val((unsigned char)s[i]) << 18 |
                          (unsigned long)lambda__b64_val((unsigned char)s[i + 1]) << 12 |
                          (unsigned long)lambda__b64_val((unsigned char)s[i + 2]) << 6 |
                          (unsigned long)lambda__b64_val((unsigned char)s[i + 3]);
        o[w++] = (unsigned char)(v >> 16);
        o[w++] = (unsigned char)(v >> 8);
        o[w++] = (unsigned char)v;
    }
    if (rem) {
        unsigned long v = (unsigned long)lambda__b64_val((unsigned char)s[i]) << 18 |
                          (unsigned long)lambda__b64_val((unsigned char)s[i + 1]) << 12;
        if (rem == 3) v |= (unsigned long)lambda__b64_val((unsigned char)s[i + 2]) << 6;
        o[w++] = (unsigned char)(v >> 16);
        if (rem == 3) o[w++] = (unsigned char)(v >> 8);
    }
    o[w] = 0;
    return 0;
bad:
    if (cap) o[0] = 0;
    return LAMBDA_E_SYNTAX;
}

LAMBDA_API int lambda_response_append_base64(lambda_response *res, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    char out[256];
    int rc = 0;
    if (p == NULL && len) return LAMBDA_E_ARG;
    while (len && rc == 0) {
        size_t take = LAMBDA__MIN(len, sizeof out / 4 * 3);
        rc = lambda_response_append(res, out, lambda__b64_enc(p, take, out));
        p += take;
        len -= take;
    }
    return rc;
}

LAMBDA_API int lambda_percent_decode(const char *s, size_t len, int mode, char *out, size_t cap,
                                     size_t *out_len)
{
    size_t i, n = 0;
    if (out_len) *out_len = 0;
    if ((s == NULL && len) || (out == NULL && cap)) return LAMBDA_E_ARG;
    for (i = 0; i < len; i++, n++) /* check first: nothing half-decoded on an error */
        if (s[i] == '%') {
            if (i + 2 >= len || lambda__hexval((unsigned char)s[i + 1]) < 0 ||
                lambda__hexval((unsigned char)s[i + 2]) < 0) {
                if (cap) out[0] = '\0';
                return LAMBDA_E_SYNTAX;
            }
            i += 2;
        }
    if (out_len) *out_len = n;
    if (n >= cap) {
        if (cap) out[0] = '\0';
        return LAMBDA_E_SPACE;
    }
    for (i = 0, n = 0; i < len; i++) { /* out <= s at every step: safe in place */
        char c = s[i];
        if (c == '%') {
            c = (char)(lambda__hexval((unsigned char)s[i + 1]) * 16 +
                       lambda__hexval((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '+' && mode == LAMBDA_PERCENT_FORM) {
            c = ' ';
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

LAMBDA_API int lambda_utf8_valid(const char *s, size_t len, size_t *err_offset)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    if (err_offset) *err_offset = 0;
    if (s == NULL) return len ? LAMBDA_E_ARG : 0;
    while (p < end) {
        int k = *p < 0x80 ? 1 : lambda__utf8_len(p, end);
        if (k == 0) {
            if (err_offset) *err_offset = (size_t)(p - (const unsigned char *)s);
            return LAMBDA_E_UTF8;
        }
        p += k;
    }
    return 0;
}

/* s (in the scratch area, writable) percent-decoded in place; with `text`, the result must
   be UTF-8 without NUL bytes. On failure *s is "". */
LAMBDA__PRIVATE int lambda__decode_in_place(lambda_str *s, int mode, int text)
{
    char *p = (char *)(uintptr_t)s->ptr;
    size_t n = 0;
    int rc = lambda_percent_decode(p, s->len, mode, p, s->len + 1, &n);
    if (rc == 0 && text && (lambda_utf8_valid(p, n, NULL) != 0 || strlen(p) != n))
        rc = LAMBDA_E_UTF8;
    *s = rc ? lambda__str("", 0) : lambda__str(p, n);
    return rc;
}

/* ---- HTTP requests ---- */

/* 1 if JSON string content [p, end) unescapes to s[0..n), ASCII letters compared without
   case. */
LAMBDA__PRIVATE int lambda__json_str_ieq(const char *p, const char *end, const char *s, size_t n)
{
    size_t i = 0;
    unsigned char u[4];
    while (p < end) {
        int k = lambda__json_unit(&p, end, u), j;
        if (k < 0 || (size_t)k > n - i) return 0;
        for (j = 0; j < k; j++)
            if (lambda__lower((unsigned char)s[i + (size_t)j]) != lambda__lower(u[j])) return 0;
        i += (size_t)k;
    }
    return i == n;
}

/* 1 if percent-encoded p[0..n) (form style when `form`) decodes to s[0..sn); a bad escape
   matches nothing. */
LAMBDA__PRIVATE int lambda__pct_eq(const char *p, size_t n, int form, const char *s, size_t sn)
{
    size_t i = 0, k = 0;
    while (i < n) {
        int c = (unsigned char)p[i++];
        if (c == '%') {
            int h = i + 1 < n ? lambda__hexval((unsigned char)p[i]) : -1;
            int l = h >= 0 ? lambda__hexval((unsigned char)p[i + 1]) : -1;
            if (l < 0) return 0;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (k >= sn || (unsigned char)s[k] != c) return 0;
        k++;
    }
    return k == sn;
}

enum {                     /* how lambda__http_pick compares names */
       LAMBDA__KEY_EXACT,  /* as JSON text */
       LAMBDA__KEY_NOCASE, /* header names */
       LAMBDA__KEY_FORM    /* ALB query names: still percent-encoded */
};

LAMBDA__PRIVATE int lambda__http_key_is(lambda_json k, const char *name, size_t n, int mode)
{
    const char *p = k.ptr + 1, *end = k.ptr + k.len - 1;
    if (mode == LAMBDA__KEY_EXACT) return lambda__json_str_eq(p, end, name, n);
    if (mode == LAMBDA__KEY_NOCASE) return lambda__json_str_ieq(p, end, name, n);
    {
        char buf[256];
        size_t len = 0;
        lambda_json v = k;
        /* names are short; a longer one than this buffer holds is compared unescaped only
           when it has no escapes (else: not found) */
        if (lambda_json_string(v, buf, sizeof buf, &len) == 0)
            return lambda__pct_eq(buf, len, 1, name, n);
        return memchr(p, '\\', (size_t)(end - p)) == NULL &&
               lambda__pct_eq(p, (size_t)(end - p), 1, name, n);
    }
}

/* The (*i)-th value (0 = first) of `name` in `obj`, whose members are strings or arrays of
   strings, counting across members whose names match. */
LAMBDA__PRIVATE int lambda__http_pick(lambda_json obj, const char *name, int mode, size_t *i,
                                      lambda_json *out)
{
    lambda_json_iter it, ai;
    lambda_json k, v, e;
    size_t n = strlen(name);
    if (obj.type != LAMBDA_JSON_OBJECT) return LAMBDA_E_NOT_FOUND;
    lambda_json_iter_init(&it, obj);
    while (lambda_json_next(&it, &k, &v) == 1) {
        if (!lambda__http_key_is(k, name, n, mode)) continue;
        if (v.type == LAMBDA_JSON_STRING) {
            if ((*i)-- == 0) return *out = v, 0;
        } else if (v.type == LAMBDA_JSON_ARRAY) {
            lambda_json_iter_init(&ai, v);
            while (lambda_json_next(&ai, NULL, &e) == 1)
                if (e.type == LAMBDA_JSON_STRING && (*i)-- == 0) return *out = e, 0;
        }
    }
    return LAMBDA_E_NOT_FOUND;
}

/* The i-th value of `name` in obj (or, when absent there, in obj2), unescaped into the
   scratch area, then decoded (mode >= 0: LAMBDA_PERCENT_*) and checked as text. */
LAMBDA__PRIVATE int lambda__http_value(const lambda_http_request *req, lambda_json obj,
                                       lambda_json obj2, const char *name, int key_mode, int decode,
                                       size_t i, lambda_str *out)
{
    lambda_json v;
    int rc;
    *out = lambda__str("", 0);
    if (name == NULL) return LAMBDA_E_ARG;
    rc = lambda__http_pick(obj.type == LAMBDA_JSON_OBJECT ? obj : obj2, name, key_mode, &i, &v);
    if (rc == 0) rc = lambda_json_string_scratch(req->res, v, out);
    if (rc == 0 && decode >= 0) rc = lambda__decode_in_place(out, decode, 1);
    return rc;
}

LAMBDA_API int lambda_http_header(const lambda_http_request *req, const char *name, size_t i,
                                  lambda_str *out)
{
    const lambda__http_state *st = &req->lambda__s;
    return lambda__http_value(req, st->mheaders, st->headers, name, LAMBDA__KEY_NOCASE, -1, i, out);
}

LAMBDA_API int lambda_http_query(const lambda_http_request *req, const char *name, size_t i,
                                 lambda_str *out)
{
    const lambda__http_state *st = &req->lambda__s;
    const char *q = req->raw_query.ptr, *end = q + req->raw_query.len;
    *out = lambda__str("", 0);
    if (name == NULL) return LAMBDA_E_ARG;
    if (req->source == LAMBDA_HTTP_ALB)
        return lambda__http_value(req, st->mquery, st->query, name, LAMBDA__KEY_FORM,
                                  LAMBDA_PERCENT_FORM, i, out);
    if (req->source == LAMBDA_HTTP_REST)
        return lambda__http_value(req, st->mquery, st->query, name, LAMBDA__KEY_EXACT, -1, i, out);
    while (q < end) { /* 2.0: name=value pairs of rawQueryString */
        const char *amp = (const char *)memchr(q, '&', (size_t)(end - q)), *eq;
        if (amp == NULL) amp = end;
        eq = (const char *)memchr(q, '=', (size_t)(amp - q));
        if (eq == NULL) eq = amp;
        if (lambda__pct_eq(q, (size_t)(eq - q), 1, name, strlen(name)) && i-- == 0) {
            size_t n = eq < amp ? (size_t)(amp - eq - 1) : 0;
            char *v = (char *)lambda_scratch(req->res, n + 1);
            if (v == NULL) return LAMBDA_E_NOMEM;
            if (n) memcpy(v, eq + 1, n);
            v[n] = '\0';
            *out = lambda__str(v, n);
            return lambda__decode_in_place(out, LAMBDA_PERCENT_FORM, 1);
        }
        q = amp + 1;
    }
    return LAMBDA_E_NOT_FOUND;
}

/* In "a=1; b=2" (s[0..n)), the value of cookie `name`: 1 and *v, *vn, else 0. */
LAMBDA__PRIVATE int lambda__cookie_in(const char *s, size_t n, const char *name, size_t nl,
                                      const char **v, size_t *vn)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *semi = (const char *)memchr(p, ';', (size_t)(end - p)), *eq;
        if (semi == NULL) semi = end;
        while (p < semi && (*p == ' ' || *p == '\t')) p++;
        eq = (const char *)memchr(p, '=', (size_t)(semi - p));
        if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            const char *e = semi;
            while (e > eq + 1 && (e[-1] == ' ' || e[-1] == '\t')) e--;
            *v = eq + 1;
            *vn = (size_t)(e - eq - 1);
            return 1;
        }
        p = semi + 1;
    }
    return 0;
}

LAMBDA_API int lambda_http_cookie(const lambda_http_request *req, const char *name, lambda_str *out)
{
    const lambda__http_state *st = &req->lambda__s;
    lambda_json_iter it;
    lambda_json e;
    lambda_str s;
    size_t i, vn = 0;
    const char *v = NULL;
    int rc, found = 0;
    *out = lambda__str("", 0);
    if (name == NULL) return LAMBDA_E_ARG;
    if (st->cookies.type == LAMBDA_JSON_ARRAY) { /* 2.0: one "name=value" per element */
        lambda_json_iter_init(&it, st->cookies);
        while (!found && lambda_json_next(&it, NULL, &e) == 1) {
            if (e.type != LAMBDA_JSON_STRING) continue;
            if ((rc = lambda_json_string_scratch(req->res, e, &s)) != 0) return rc;
            found = lambda__cookie_in(s.ptr, s.len, name, strlen(name), &v, &vn);
        }
    }
    for (i = 0; !found; i++) { /* the Cookie header(s) */
        if ((rc = lambda_http_header(req, "cookie", i, &s)) != 0) return rc;
        found = lambda__cookie_in(s.ptr, s.len, name, strlen(name), &v, &vn);
    }
    ((char *)(uintptr_t)v)[vn] = '\0'; /* in the scratch area: cut after the value */
    *out = lambda__str(v, vn);
    return 0;
}

LAMBDA_API int lambda_http_param(const lambda_http_request *req, const char *name, lambda_str *out)
{
    const lambda__http_state *st = &req->lambda__s;
    lambda_json none;
    size_t i;
    *out = lambda__str("", 0);
    if (name == NULL) return LAMBDA_E_ARG;
    for (i = 0; i < st->ncaps; i++)
        if (st->cap_name[i].len == strlen(name) &&
            memcmp(st->cap_name[i].ptr, name, st->cap_name[i].len) == 0)
            return *out = st->cap_value[i], 0;
    lambda__json_none(&none);
    return lambda__http_value(req, st->params, none, name, LAMBDA__KEY_EXACT, -1, 0, out);
}

LAMBDA_API int lambda_http_body_json(const lambda_http_request *req, lambda_json *root)
{
    return lambda_json_validate(req->body, root, NULL);
}

enum { /* the members of an HTTP event that lambda_http_parse reads */
       LAMBDA__HK_VERSION,
       LAMBDA__HK_METHOD,
       LAMBDA__HK_PATH,
       LAMBDA__HK_RAWPATH,
       LAMBDA__HK_RAWQUERY,
       LAMBDA__HK_HEADERS,
       LAMBDA__HK_MHEADERS,
       LAMBDA__HK_QUERY,
       LAMBDA__HK_MQUERY,
       LAMBDA__HK_PARAMS,
       LAMBDA__HK_COOKIES,
       LAMBDA__HK_BODY,
       LAMBDA__HK_B64,
       LAMBDA__HK_CONTEXT,
       LAMBDA__HK_COUNT
};

/* A string member of the event (or of requestContext) into the scratch area; absent or
   null leaves *out as it is. */
LAMBDA__PRIVATE int lambda__http_str(lambda_response *res, lambda_json v, lambda_str *out)
{
    if (v.type == LAMBDA_JSON_NONE || v.type == LAMBDA_JSON_NULL) return 0;
    return v.type == LAMBDA_JSON_STRING ? lambda_json_string_scratch(res, v, out) : LAMBDA_E_TYPE;
}

/* An HTTP API's named stage prefixes the path: "/prod/items" for route /items. Returns the
   prefix length to skip in `p`, or 0. */
LAMBDA__PRIVATE size_t lambda__stage_prefix(lambda_str p, lambda_str stage)
{
    if (stage.len == 0 || strcmp(stage.ptr, "$default") == 0 || p.len < stage.len + 1 ||
        p.ptr[0] != '/' || memcmp(p.ptr + 1, stage.ptr, stage.len) != 0)
        return 0;
    return p.len == stage.len + 1 || p.ptr[stage.len + 1] == '/' ? stage.len + 1 : 0;
}

LAMBDA_API int lambda_http_parse(lambda_http_request *req, lambda_str event, lambda_response *res)
{
    static const char *const names[LAMBDA__HK_COUNT] = {"version",
                                                        "httpMethod",
                                                        "path",
                                                        "rawPath",
                                                        "rawQueryString",
                                                        "headers",
                                                        "multiValueHeaders",
                                                        "queryStringParameters",
                                                        "multiValueQueryStringParameters",
                                                        "pathParameters",
                                                        "cookies",
                                                        "body",
                                                        "isBase64Encoded",
                                                        "requestContext"};
    lambda__http_state *st = &req->lambda__s;
    lambda_json f[LAMBDA__HK_COUNT], root, k, v, rcx;
    lambda_json_iter it;
    lambda_str xff;
    size_t i, skip = 0;
    int rc, v1 = 0;
    memset(req, 0, sizeof *req);
    req->method = req->path = req->raw_path = req->raw_query = req->stage = req->source_ip =
        req->body = lambda__str("", 0);
    lambda__json_none(&req->event);
    for (i = 0; i < LAMBDA__HK_COUNT; i++) lambda__json_none(&f[i]);
    st->headers = st->mheaders = st->query = st->mquery = st->params = st->cookies = f[0];
    req->res = res;
    if (res == NULL) return LAMBDA_E_ARG;
    req->ctx = res->ctx;
    if ((rc = lambda_json_validate(event, &root, NULL)) != 0) return rc;
    req->event = root;
    if (root.type != LAMBDA_JSON_OBJECT) return LAMBDA_E_TYPE;
    lambda_json_iter_init(&it, root);
    while (lambda_json_next(&it, &k, &v) == 1) {
        if (v.type == LAMBDA_JSON_NULL) continue; /* REST sends null for "none" */
        for (i = 0; i < LAMBDA__HK_COUNT; i++)
            if (f[i].type == LAMBDA_JSON_NONE &&
                lambda__json_str_eq(k.ptr + 1, k.ptr + k.len - 1, names[i], strlen(names[i]))) {
                f[i] = v;
                break;
            }
    }
    rcx = f[LAMBDA__HK_CONTEXT];
    if (rcx.type != LAMBDA_JSON_OBJECT) return LAMBDA_E_TYPE;
    if (lambda_json_key(rcx, LAMBDA__LIT("elb"), &v) == 0)
        req->source = LAMBDA_HTTP_ALB;
    else if (f[LAMBDA__HK_METHOD].type == LAMBDA_JSON_STRING)
        req->source = LAMBDA_HTTP_REST;
    else if (lambda_json_find(rcx, "http.method", &v) == 0)
        req->source = LAMBDA_HTTP_API;
    else
        return LAMBDA_E_TYPE;
    if (req->source == LAMBDA_HTTP_API) {
        f[LAMBDA__HK_METHOD] = v;
        if (f[LAMBDA__HK_RAWPATH].type == LAMBDA_JSON_NONE)
            (void)lambda_json_find(rcx, "http.path", &f[LAMBDA__HK_RAWPATH]);
        f[LAMBDA__HK_PATH] = f[LAMBDA__HK_RAWPATH];
        if (lambda_json_key(rcx, LAMBDA__LIT("domainName"), &v) == 0 &&
            lambda__http_str(res, v, &xff) == 0 && strstr(xff.ptr, ".lambda-url.") != NULL)
            req->source = LAMBDA_HTTP_URL;
        (void)lambda_json_find(rcx, "http.sourceIp", &v);
    } else {
        v1 = req->source == LAMBDA_HTTP_REST &&
             lambda_json_string_eq(f[LAMBDA__HK_VERSION], "1.0"); /* an HTTP API, payload 1.0 */
        (void)lambda_json_find(rcx, "identity.sourceIp", &v);
    }
    if ((rc = lambda__http_str(res, f[LAMBDA__HK_METHOD], &req->method)) != 0 ||
        (rc = lambda__http_str(res, f[LAMBDA__HK_PATH], &req->raw_path)) != 0 ||
        (rc = lambda__http_str(res, f[LAMBDA__HK_RAWQUERY], &req->raw_query)) != 0 ||
        (req->source != LAMBDA_HTTP_ALB && (rc = lambda__http_str(res, v, &req->source_ip)) != 0))
        return rc;
    if (lambda_json_key(rcx, LAMBDA__LIT("stage"), &v) == 0 &&
        (rc = lambda__http_str(res, v, &req->stage)) != 0)
        return rc;
    if (req->method.len == 0 || f[LAMBDA__HK_PATH].type != LAMBDA_JSON_STRING) return LAMBDA_E_TYPE;
    for (i = 0; i < req->method.len; i++)
        if (!lambda__is_tchar((unsigned char)req->method.ptr[i])) return LAMBDA_E_TYPE;
    for (i = LAMBDA__HK_HEADERS; i <= LAMBDA__HK_PARAMS; i++)
        if (f[i].type != LAMBDA_JSON_NONE && f[i].type != LAMBDA_JSON_OBJECT) return LAMBDA_E_TYPE;
    if (f[LAMBDA__HK_COOKIES].type != LAMBDA_JSON_NONE &&
        f[LAMBDA__HK_COOKIES].type != LAMBDA_JSON_ARRAY)
        return LAMBDA_E_TYPE;
    st->headers = f[LAMBDA__HK_HEADERS];
    st->mheaders = f[LAMBDA__HK_MHEADERS];
    st->query = f[LAMBDA__HK_QUERY];
    st->mquery = f[LAMBDA__HK_MQUERY];
    st->params = f[LAMBDA__HK_PARAMS];
    st->cookies = f[LAMBDA__HK_COOKIES];
    req->multi_value = st->mheaders.type == LAMBDA_JSON_OBJECT;
    /* the path: decoded where the source passes it encoded, without a stage prefix */
    if (req->source == LAMBDA_HTTP_API || v1)
        skip = lambda__stage_prefix(req->raw_path, req->stage);
    st->skip = skip;
    req->path = lambda__str(req->raw_path.ptr + skip, req->raw_path.len - skip);
    if (req->path.len == 0) req->path = lambda__str("/", 1);
    if (req->source != LAMBDA_HTTP_REST) {
        char *p = (char *)lambda_scratch(res, req->path.len + 1);
        lambda_str d;
        if (p == NULL) return LAMBDA_E_NOMEM;
        memcpy(p, req->path.ptr, req->path.len + 1);
        d = lambda__str(p, req->path.len);
        req->path_error = lambda__decode_in_place(&d, LAMBDA_PERCENT_PATH, 1);
        /* an HTTP API may pass rawPath already decoded ("/a b"): a '%' that starts no
           escape is then taken as it is there */
        if (req->path_error == LAMBDA_E_SYNTAX && req->source != LAMBDA_HTTP_ALB)
            req->path_error = lambda_utf8_valid(req->path.ptr, req->path.len, NULL);
        if (req->path_error == 0 && d.ptr[0]) req->path = d;
    }
    if (req->source == LAMBDA_HTTP_ALB) { /* no source IP: the last X-Forwarded-For entry */
        for (i = 0; lambda_http_header(req, "x-forwarded-for", i, &xff) == 0; i++) {
            const char *p = xff.ptr + xff.len;
            char *e;
            while (p > xff.ptr && p[-1] != ',') p--;
            while (*p == ' ' || *p == '\t') p++;
            for (e = (char *)(uintptr_t)xff.ptr + xff.len;
                 e > p && (e[-1] == ' ' || e[-1] == '\t');)
                *--e = '\0';
            req->source_ip = lambda__str(p, (size_t)(e - p));
        }
    }
    /* the body: unescaped, then base64-decoded in place */
    if (f[LAMBDA__HK_BODY].type != LAMBDA_JSON_NONE) {
        if ((rc = lambda__http_str(res, f[LAMBDA__HK_BODY], &req->body)) != 0) return rc;
        if (f[LAMBDA__HK_B64].type == LAMBDA_JSON_TRUE) {
            char *p = (char *)(uintptr_t)req->body.ptr;
            size_t n = 0;
            req->body_base64 = 1;
            if (lambda_base64_decode(p, req->body.len, p, req->body.len + 1, &n) != 0) {
                req->body = lambda__str("", 0);
                return LAMBDA_E_SYNTAX;
            }
            req->body = lambda__str(p, n);
        }
        if (req->body.len > LAMBDA_HTTP_MAX_BODY) {
            req->body = lambda__str("", 0);
            return LAMBDA_E_TOO_BIG;
        }
    }
    return 0;
}

/* ---- HTTP answers ---- */

/* A response header or cookie, in the scratch area. */
struct lambda__http_hdr {
    struct lambda__http_hdr *next;
    const char *name; /* NULL: a cookie (a Set-Cookie value) */
    const char *value;
    size_t name_len, value_len;
};

LAMBDA__PRIVATE const char *lambda__reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
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
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: /* RFC 9110's names of the classes */
        return status < 200   ? "Informational"
               : status < 300 ? "Success"
               : status < 400 ? "Redirection"
               : status < 500 ? "Client Error"
                              : "Server Error";
    }
}

#define LAMBDA__HTTP_NOT_OPEN "no answer begun (lambda_http_begin), or it already ended"
#define LAMBDA__HTTP_ENDED "the request is not parsed (lambda_http_parse), or its answer ended"

/* What the public answer calls return: the first failure is noted in the response. */
LAMBDA__PRIVATE int lambda__http_ret(lambda_http_request *req, int rc, const char *call,
                                     const char *state_why)
{
    if (rc) lambda__note(req->res, call, rc == LAMBDA_E_STATE ? state_why : lambda_strerror(rc));
    return rc;
}

LAMBDA__PRIVATE int lambda__http_add(lambda_http_request *req, const char *name, const char *value)
{
    lambda__http_state *st = &req->lambda__s;
    struct lambda__http_hdr *h;
    size_t nl = name ? strlen(name) : 0, vl, i;
    char *p;
    if (req->res == NULL || req->source == LAMBDA_HTTP_NONE || st->state == 3)
        return LAMBDA_E_STATE;
    if (value == NULL || (name && nl == 0)) return LAMBDA_E_ARG;
    for (i = 0; i < nl; i++)
        if (!lambda__is_tchar((unsigned char)name[i])) return LAMBDA_E_ARG;
    vl = strlen(value);
    for (i = 0; i < vl; i++)
        if (((unsigned char)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
            return LAMBDA_E_ARG;
    if (lambda_utf8_valid(value, vl, NULL) != 0) return LAMBDA_E_UTF8;
    h = (struct lambda__http_hdr *)lambda_scratch(req->res, sizeof *h + nl + vl + 2);
    if (h == NULL) return LAMBDA_E_NOMEM;
    p = (char *)(h + 1);
    memcpy(p, value, vl + 1);
    h->value = p;
    h->value_len = vl;
    h->name = NULL;
    if (name) {
        memcpy(p + vl + 1, name, nl + 1);
        h->name = p + vl + 1;
    }
    h->name_len = nl;
    h->next = NULL;
    if (st->last)
        st->last->next = h;
    else
        st->hdrs = h;
    st->last = h;
    return 0;
}

LAMBDA_API int lambda_http_add_header(lambda_http_request *req, const char *name, const char *value)
{
    return lambda__http_ret(req, name ? lambda__http_add(req, name, value) : LAMBDA_E_ARG,
                            "lambda_http_add_header", LAMBDA__HTTP_ENDED);
}

LAMBDA_API int lambda_http_add_cookie(lambda_http_request *req, const char *set_cookie)
{
    return lambda__http_ret(req, lambda__http_add(req, NULL, set_cookie), "lambda_http_add_cookie",
                            LAMBDA__HTTP_ENDED);
}

LAMBDA__PRIVATE int lambda__http_cookie(lambda_http_request *req, const char *name,
                                        const char *value, size_t len, const char *attributes)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t nl = name ? strlen(name) : 0, al = attributes ? strlen(attributes) : 0, i, n;
    char *c;
    if (nl == 0 || (value == NULL && len) || len > LAMBDA__NO_LIMIT / 4) return LAMBDA_E_ARG;
    for (i = 0; i < nl; i++)
        if (!lambda__is_tchar((unsigned char)name[i])) return LAMBDA_E_ARG;
    if ((c = (char *)lambda_scratch(req->res, nl + 3 * len + al + 4)) == NULL)
        return LAMBDA_E_NOMEM;
    memcpy(c, name, nl);
    n = nl;
    c[n++] = '=';
    for (i = 0; i < len; i++) {
        unsigned char b = (unsigned char)value[i];
        if (b > 0x20 && b < 0x7f && b != '"' && b != ',' && b != ';' && b != '\\' && b != '%') {
            c[n++] = (char)b;
        } else {
            c[n++] = '%';
            c[n++] = hex[b >> 4];
            c[n++] = hex[b & 15];
        }
    }
    if (attributes) {
        memcpy(c + n, "; ", 2);
        memcpy(c + n + 2, attributes, al);
        n += al + 2;
    }
    c[n] = '\0';
    return lambda__http_add(req, NULL, c);
}

LAMBDA_API int lambda_http_set_cookie(lambda_http_request *req, const char *name, const char *value,
                                      size_t len, const char *attributes)
{
    return lambda__http_ret(req, lambda__http_cookie(req, name, value, len, attributes),
                            "lambda_http_set_cookie", LAMBDA__HTTP_ENDED);
}

LAMBDA__PRIVATE int lambda__http_put(lambda_http_request *req, const char *s, size_t n)
{
    return lambda_response_append(req->res, s, n);
}

LAMBDA__PRIVATE int lambda__http_open(lambda_http_request *req, int status, const char *ctype,
                                      int binary)
{
    lambda__http_state *st = &req->lambda__s;
    char num[24];
    size_t n;
    int rc;
    if (req->res == NULL || req->source == LAMBDA_HTTP_NONE || st->state == 3)
        return LAMBDA_E_STATE;
    if (status < 100 || status > 599) return LAMBDA_E_ARG;
    if (ctype && (rc = lambda__http_add(req, "Content-Type", ctype)) != 0) return rc;
    lambda_response_clear(req->res);
    n = lambda__utoa(num, (uint64_t)status, 10);
    lambda__http_put(req, LAMBDA__LIT("{\"statusCode\":"));
    lambda__http_put(req, num, n);
    if (req->source == LAMBDA_HTTP_ALB) { /* "200 OK" */
        const char *why = lambda__reason(status);
        lambda__http_put(req, LAMBDA__LIT(",\"statusDescription\":\""));
        lambda__http_put(req, num, n);
        lambda__http_put(req, " ", 1);
        lambda__http_put(req, why, strlen(why));
        lambda__http_put(req, "\"", 1);
    }
    rc = lambda__http_put(req, LAMBDA__LIT(",\"body\":\""));
    st->state = binary ? 2 : 1;
    st->status = status;
    st->ncarry = 0;
    st->err = 0;
    return rc;
}

LAMBDA_API int lambda_http_begin(lambda_http_request *req, int status, const char *content_type)
{
    return lambda__http_ret(req, lambda__http_open(req, status, content_type, 0),
                            "lambda_http_begin", LAMBDA__HTTP_ENDED);
}

LAMBDA_API int lambda_http_begin_binary(lambda_http_request *req, int status,
                                        const char *content_type)
{
    return lambda__http_ret(req, lambda__http_open(req, status, content_type, 1),
                            "lambda_http_begin_binary", LAMBDA__HTTP_ENDED);
}

/* Bytes needed by the UTF-8 sequence that starts with `c` (1 for anything else). */
LAMBDA__PRIVATE size_t lambda__utf8_need(unsigned c)
{
    return c >= 0xF0 ? 4u : c >= 0xE0 ? 3u : c >= 0xC0 ? 2u : 1u;
}

/* Text: escaped into the JSON string as it comes; a character cut at the end waits in
   carry for the next write. */
LAMBDA__PRIVATE int lambda__http_text(lambda_http_request *req, const char *p, size_t n)
{
    lambda__http_state *st = &req->lambda__s;
    size_t keep = 0, j;
    int rc;
    while (st->ncarry && n) {
        st->carry[st->ncarry++] = (unsigned char)*p++;
        n--;
        if (st->ncarry == lambda__utf8_need(st->carry[0])) {
            st->ncarry = 0;
            if ((rc = lambda__json_escape(req->res, (const char *)st->carry,
                                          lambda__utf8_need(st->carry[0]), 0)) != 0)
                return rc;
        }
    }
    for (j = n; j > 0 && n - j < 3; j--) { /* a lead byte near the end whose sequence is cut */
        unsigned c = (unsigned char)p[j - 1];
        if (c < 0x80) break;
        if (c >= 0xC0) {
            if (lambda__utf8_need(c) > n - j + 1) keep = n - j + 1;
            break;
        }
    }
    rc = n - keep ? lambda__json_escape(req->res, p, n - keep, 0) : 0;
    if (rc == 0 && keep) {
        memcpy(st->carry, p + n - keep, keep);
        st->ncarry = keep;
    }
    return rc;
}

/* Binary: base64 as it comes; up to two bytes wait in carry for a complete triple. */
LAMBDA__PRIVATE int lambda__http_b64(lambda_http_request *req, const unsigned char *p, size_t n)
{
    lambda__http_state *st = &req->lambda__s;
    char out[256];
    size_t o = 0;
    int rc = 0;
    while (st->ncarry && n) {
        st->carry[st->ncarry++] = *p++;
        n--;
        if (st->ncarry == 3) {
            o = lambda__b64_enc(st->carry, 3, out);
            st->ncarry = 0;
        }
    }
    while (rc == 0 && (n >= 3 || o)) {
        size_t take = LAMBDA__MIN(n / 3 * 3, (sizeof out - o) / 4 * 3);
        o += lambda__b64_enc(p, take, out + o);
        p += take;
        n -= take;
        rc = lambda_response_append(req->res, out, o);
        o = 0;
    }
    if (rc == 0 && n) {
        memcpy(st->carry + st->ncarry, p, n);
        st->ncarry += n;
    }
    return rc;
}

LAMBDA__PRIVATE int lambda__http_wr(lambda_http_request *req, const void *data, size_t len)
{
    lambda__http_state *st = &req->lambda__s;
    int rc;
    if (st->state != 1 && st->state != 2) return LAMBDA_E_STATE;
    if (data == NULL && len) return LAMBDA_E_ARG;
    if (st->err) return st->err;
    rc = st->state == 1 ? lambda__http_text(req, (const char *)data, len)
                        : lambda__http_b64(req, (const unsigned char *)data, len);
    if (rc) st->err = rc;
    return rc;
}

LAMBDA_API int lambda_http_write(lambda_http_request *req, const void *data, size_t len)
{
    return lambda__http_ret(req, lambda__http_wr(req, data, len), "lambda_http_write",
                            LAMBDA__HTTP_NOT_OPEN);
}

/* lambda_http_body_writer's sink: the writer's output is body text. */
LAMBDA__PRIVATE int lambda__http_sink(lambda_json_writer *w, const char *data, size_t len)
{
    return lambda__http_wr((lambda_http_request *)w->sink_ctx, data, len);
}

LAMBDA_API void lambda_http_body_writer(lambda_http_request *req, lambda_json_writer *w)
{
    memset(w, 0, sizeof *w);
    w->sink = lambda__http_sink;
    w->escape = lambda__jw_proxy_escape;
    w->sink_ctx = req;
    w->note = req->res;
    if (req->lambda__s.state != 1 && req->lambda__s.state != 2) {
        w->err = LAMBDA_E_STATE;
        w->err_call = "lambda_http_body_writer";
        w->err_why = "no answer begun (lambda_http_begin), or it already ended";
        lambda__note(req->res, w->err_call, w->err_why);
    }
}

/* The header's name ("Set-Cookie" for a cookie). */
LAMBDA__PRIVATE const char *lambda__hdr_name(const struct lambda__http_hdr *h, size_t *n)
{
    *n = h->name ? h->name_len : sizeof "Set-Cookie" - 1;
    return h->name ? h->name : "Set-Cookie";
}

/* 1 if a and b have the same name; with `cookies_apart`, cookies and Set-Cookie headers
   (which 2.0 sends in "cookies") have no name at all. */
LAMBDA__PRIVATE int lambda__hdr_same(const struct lambda__http_hdr *a,
                                     const struct lambda__http_hdr *b)
{
    size_t an, bn, i;
    const char *as = lambda__hdr_name(a, &an), *bs = lambda__hdr_name(b, &bn);
    if (an != bn) return 0;
    for (i = 0; i < an; i++)
        if (lambda__lower((unsigned char)as[i]) != lambda__lower((unsigned char)bs[i])) return 0;
    return 1;
}

LAMBDA__PRIVATE int lambda__hdr_is_cookie(const struct lambda__http_hdr *h)
{
    return h->name == NULL || lambda__ieq(h->name, h->name_len, "set-cookie");
}

/* One headers object: `multi` 0: "name":"value" (values joined with ", "; cookies: the
   last one), 1: "name":["value",..]; `want` 1: only names with one value, 2: only names
   with several, 0: all. 2.0 leaves cookies out (they go in "cookies"). */
LAMBDA__PRIVATE void lambda__http_headers(lambda_http_request *req, const char *key, int multi,
                                          int want)
{
    struct lambda__http_hdr *h, *g;
    int v2 = req->source == LAMBDA_HTTP_API || req->source == LAMBDA_HTTP_URL, first = 1;
    lambda__http_put(req, key, strlen(key));
    lambda__http_put(req, "{", 1);
    for (h = req->lambda__s.hdrs; h; h = h->next) {
        size_t count = 0, n, k = 0;
        const char *name;
        int dup = 0, cookie = lambda__hdr_is_cookie(h);
        if (v2 && cookie) continue;
        for (g = req->lambda__s.hdrs; g != h; g = g->next) dup |= lambda__hdr_same(g, h);
        if (dup) continue; /* written with the first of its name */
        for (g = h; g; g = g->next) count += (size_t)lambda__hdr_same(g, h);
        if ((want == 1 && count != 1) || (want == 2 && count == 1)) continue;
        name = lambda__hdr_name(h, &n);
        if (!first) lambda__http_put(req, ",", 1);
        first = 0;
        lambda__http_put(req, "\"", 1);
        lambda__http_put(req, name, n);
        lambda__http_put(req, multi ? "\":[\"" : "\":\"", multi ? 4u : 3u);
        for (g = h; g; g = g->next) {
            if (!lambda__hdr_same(g, h)) continue;
            if (!multi && cookie && ++k < count) continue; /* one value: the last cookie */
            if (g != h && !(!multi && cookie))
                lambda__http_put(req, multi ? "\",\"" : ", ", multi ? 3u : 2u);
            lambda__json_escape(req->res, g->value, g->value_len, 0);
        }
        lambda__http_put(req, multi ? "\"]" : "\"", multi ? 2u : 1u);
    }
    lambda__http_put(req, "}", 1);
}

LAMBDA__PRIVATE int lambda__http_fin(lambda_http_request *req)
{
    lambda__http_state *st = &req->lambda__s;
    struct lambda__http_hdr *h;
    int rc = st->err;
    if (st->state != 1 && st->state != 2) return LAMBDA_E_STATE;
    if (rc == 0 && st->state == 1 && st->ncarry) rc = LAMBDA_E_UTF8; /* a character cut short */
    if (rc) { /* never a truncated or broken body: a 500 instead */
        (void)lambda_http_fail(req, 500);
        return rc;
    }
    if (st->state == 2 && st->ncarry) {
        char out[4];
        lambda__http_put(req, out, lambda__b64_enc(st->carry, st->ncarry, out));
    }
    lambda__http_put(
        req, st->state == 2 ? "\",\"isBase64Encoded\":true" : "\",\"isBase64Encoded\":false",
        st->state == 2 ? 24u : 25u);
    if (req->source == LAMBDA_HTTP_ALB) {
        lambda__http_headers(req, req->multi_value ? ",\"multiValueHeaders\":" : ",\"headers\":",
                             req->multi_value, 0);
    } else {
        lambda__http_headers(req, ",\"headers\":", 0, req->source == LAMBDA_HTTP_REST ? 1 : 0);
        if (req->source == LAMBDA_HTTP_REST)
            lambda__http_headers(req, ",\"multiValueHeaders\":", 1, 2);
        else { /* 2.0: cookies in their own array */
            int first = 1;
            lambda__http_put(req, LAMBDA__LIT(",\"cookies\":["));
            for (h = st->hdrs; h; h = h->next) {
                if (!lambda__hdr_is_cookie(h)) continue;
                if (!first) lambda__http_put(req, ",", 1);
                first = 0;
                lambda__json_escape(req->res, h->value, h->value_len, LAMBDA__JSON_QUOTE);
            }
            lambda__http_put(req, "]", 1);
        }
    }
    rc = lambda__http_put(req, "}", 1);
    st->state = 3;
    return rc;
}

LAMBDA_API int lambda_http_end(lambda_http_request *req)
{
    return lambda__http_ret(req, lambda__http_fin(req), "lambda_http_end", LAMBDA__HTTP_NOT_OPEN);
}

/* Begin, write, end: a whole answer in one call. */
LAMBDA__PRIVATE int lambda__http_whole(lambda_http_request *req, int status, const char *ctype,
                                       const void *body, size_t len, int binary)
{
    int rc = lambda__http_open(req, status, ctype, binary), end;
    if (rc) return rc;
    rc = lambda__http_wr(req, body, len);
    end = lambda__http_fin(req); /* after a failed write: a 500 */
    return rc ? rc : end;
}

LAMBDA_API int lambda_http_send(lambda_http_request *req, int status, const char *content_type,
                                const void *body, size_t len)
{
    return lambda__http_ret(req, lambda__http_whole(req, status, content_type, body, len, 0),
                            "lambda_http_send", LAMBDA__HTTP_ENDED);
}

LAMBDA_API int lambda_http_send_binary(lambda_http_request *req, int status,
                                       const char *content_type, const void *body, size_t len)
{
    return lambda__http_ret(req, lambda__http_whole(req, status, content_type, body, len, 1),
                            "lambda_http_send_binary", LAMBDA__HTTP_ENDED);
}

/* A text/plain answer whose body is the reason phrase, replacing whatever was begun. */
LAMBDA__PRIVATE int lambda__http_plain(lambda_http_request *req, int status, const char *allow)
{
    lambda__http_state *st = &req->lambda__s;
    const char *why = lambda__reason(status);
    int rc;
    if (req->res == NULL || req->source == LAMBDA_HTTP_NONE) return LAMBDA_E_STATE;
    st->hdrs = st->last = NULL;
    st->state = 0;
    if (allow && (rc = lambda__http_add(req, "Allow", allow)) != 0) return rc;
    return lambda_http_send(req, status, "text/plain; charset=utf-8", why, strlen(why));
}

LAMBDA_API int lambda_http_not_found(lambda_http_request *req)
{
    return lambda__http_plain(req, 404, NULL);
}

LAMBDA_API int lambda_http_method_not_allowed(lambda_http_request *req, const char *allow)
{
    return lambda__http_plain(req, 405, allow);
}

LAMBDA_API int lambda_http_fail(lambda_http_request *req, int err)
{
    int status = 500;
    switch (err) {
    case LAMBDA_E_SYNTAX:
    case LAMBDA_E_UTF8:
    case LAMBDA_E_TYPE:
    case LAMBDA_E_RANGE:
    case LAMBDA_E_ARG:
    case LAMBDA_E_DEPTH: status = 400; break;
    case LAMBDA_E_NOT_FOUND: status = 404; break;
    case LAMBDA_E_TOO_BIG:
    case LAMBDA_E_SPACE: status = 413; break;
    default:
        if (err >= 400 && err <= 599) status = err; /* an HTTP status as it is */
    }
    return lambda__http_plain(req, status, NULL);
}

/* ---- routing ---- */

/* Match `pat` against the request's path, segment by segment, on the path as the source
   sent it (so that an encoded '/' stays inside its segment). The captures go to the
   request's state. Returns 1 on a match, 0 otherwise, or a negative code. */
LAMBDA__PRIVATE int lambda__http_match(lambda_http_request *req, const char *pat)
{
    lambda__http_state *st = &req->lambda__s;
    int enc = req->source != LAMBDA_HTTP_REST;
    const char *p = enc ? req->raw_path.ptr + st->skip : req->path.ptr;
    const char *pe = enc ? req->raw_path.ptr + req->raw_path.len : req->path.ptr + req->path.len;
    st->ncaps = 0;
    if (pat == NULL) return 0;
    if (p == pe && enc) p = "/", pe = p + 1; /* "" after the stage: the stage's root */
    while (*pat) {
        const char *ps, *pse, *seg = p + 1, *segend;
        if (*pat != '/' || p >= pe || *p != '/') return 0;
        ps = pat + 1;
        for (pse = ps; *pse && *pse != '/'; pse++) {}
        for (segend = seg; segend < pe && *segend != '/'; segend++) {}
        if (*ps == '{' && pse > ps + 1 && pse[-1] == '}') {
            int greedy = pse[-2] == '+';
            const char *ve = greedy ? pe : segend;
            lambda_str v;
            char *buf;
            if ((greedy && *pse) || ve == seg || st->ncaps >= LAMBDA_HTTP_MAX_PARAMS) return 0;
            if ((buf = (char *)lambda_scratch(req->res, (size_t)(ve - seg) + 1)) == NULL)
                return LAMBDA_E_NOMEM;
            memcpy(buf, seg, (size_t)(ve - seg));
            buf[ve - seg] = '\0';
            v = lambda__str(buf, (size_t)(ve - seg));
            if (enc && lambda__decode_in_place(&v, LAMBDA_PERCENT_PATH, 1) != 0) return 0;
            st->cap_name[st->ncaps] = lambda__str(ps + 1, (size_t)(pse - ps - 2 - greedy));
            st->cap_value[st->ncaps++] = v;
            p = ve;
        } else {
            if (enc ? !lambda__pct_eq(seg, (size_t)(segend - seg), 0, ps, (size_t)(pse - ps))
                    : (size_t)(segend - seg) != (size_t)(pse - ps) ||
                          memcmp(seg, ps, (size_t)(pse - ps)) != 0)
                return 0;
            p = segend;
        }
        pat = pse;
    }
    return p == pe;
}

LAMBDA__PRIVATE int lambda__http_method_is(const lambda_http_request *req, const char *m)
{
    return m == NULL || strcmp(m, "*") == 0 || strcmp(m, req->method.ptr) == 0;
}

LAMBDA_API int lambda_http_dispatch(lambda_http_request *req, const lambda_http_route *routes,
                                    size_t count)
{
    size_t i;
    int rc;
    req->lambda__s.allow = 0;
    if (req->source == LAMBDA_HTTP_NONE || (routes == NULL && count)) return LAMBDA_E_ARG;
    for (i = 0; i < count; i++) {
        if ((rc = lambda__http_match(req, routes[i].pattern)) < 0) return rc;
        if (rc == 0) continue;
        if (lambda__http_method_is(req, routes[i].method) && routes[i].handler)
            return routes[i].handler(req);
        req->lambda__s.allow = 1;
    }
    req->lambda__s.ncaps = 0;
    return LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_http_allowed(const lambda_http_request *req, const lambda_http_route *routes,
                                   size_t count, char *buf, size_t cap)
{
    lambda_http_request r = *req; /* matching writes captures: into a copy */
    size_t i, j, n = 0;
    int any = 0;
    if (buf == NULL || cap == 0) return LAMBDA_E_ARG;
    buf[0] = '\0';
    for (i = 0; i < count; i++) {
        const char *m = routes[i].method;
        size_t ml;
        int seen = 0;
        if (lambda__http_match(&r, routes[i].pattern) != 1) continue;
        any = 1;
        if (m == NULL || strcmp(m, "*") == 0) continue;
        for (j = 0; j < i; j++) /* each method once */
            seen |= routes[j].method && strcmp(routes[j].method, m) == 0 &&
                    lambda__http_match(&r, routes[j].pattern) == 1;
        if (seen) continue;
        ml = strlen(m);
        if (n + ml + (n ? 2 : 0) >= cap) return LAMBDA_E_SPACE;
        if (n) memcpy(buf + n, ", ", 2), n += 2;
        memcpy(buf + n, m, ml + 1);
        n += ml;
    }
    return any && n ? 0 : LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_http_serve(lambda_str event, lambda_response *res,
                                 const lambda_http_route *routes, size_t count)
{
    lambda_http_request req;
    char allow[256];
    int rc = lambda_http_parse(&req, event, res);
    if (rc == LAMBDA_E_TOO_BIG) return lambda_http_fail(&req, rc);
    if (rc == LAMBDA_E_NOMEM)
        return lambda_error_str(res, "Runtime.OutOfMemory", "out of memory reading the HTTP event");
    if (rc == LAMBDA_E_TYPE)
        return lambda_error_str(res, "InvalidEvent",
                                "not an HTTP event (API Gateway, function URL or ALB)");
    if (rc) return lambda_error_str(res, "InvalidEvent", "malformed HTTP event");
    if (req.path_error) return lambda_http_fail(&req, req.path_error);
    rc = lambda_http_dispatch(&req, routes, count);
    if (res->failed) return rc;             /* lambda_error: the invocation fails */
    if (req.lambda__s.state == 3) return 0; /* answered (a 500 after a failed write, too) */
    if (rc == LAMBDA_E_NOT_FOUND && req.lambda__s.state == 0 && req.lambda__s.allow &&
        lambda_http_allowed(&req, routes, count, allow, sizeof allow) == 0)
        return lambda_http_method_not_allowed(&req, allow);
    if (rc >= 0 && req.lambda__s.state != 0) return lambda_http_end(&req); /* begun, not ended */
    return lambda_http_fail(&req, rc < 0 ? rc : 500);                      /* nothing answered */
}

/* ---- batches and S3 ---- */

LAMBDA_API void lambda_batch_begin(lambda_json_writer *w, lambda_response *res)
{
    lambda_json_writer_init(w, res);
    lambda_json_write_begin_object(w);
    lambda_json_write_ckey(w, "batchItemFailures");
    lambda_json_write_begin_array(w);
}

LAMBDA__PRIVATE int lambda__batch_item(lambda_json_writer *w, lambda_json id, const char *s,
                                       size_t len)
{
    lambda_json_write_begin_object(w);
    lambda_json_write_ckey(w, "itemIdentifier");
    if (s)
        lambda_json_write_string(w, s, len);
    else
        lambda_json_write_raw(w, id.ptr, id.len); /* the record's string, still escaped */
    return lambda_json_write_end_object(w);
}

LAMBDA_API int lambda_batch_fail_id(lambda_json_writer *w, const char *id, size_t len)
{
    lambda_json none;
    lambda__json_none(&none);
    return id ? lambda__batch_item(w, none, id, len) : LAMBDA_E_ARG;
}

LAMBDA_API int lambda_batch_fail(lambda_json_writer *w, lambda_json record)
{
    static const char *const source[] = {"aws:sqs", "aws:kinesis", "aws:dynamodb"};
    static const char *const path[] = {"messageId", "kinesis.sequenceNumber",
                                       "dynamodb.SequenceNumber"};
    lambda_json es, id;
    int i, pick = -1;
    if (lambda_json_key(record, LAMBDA__LIT("eventSource"), &es) == 0)
        for (i = 0; i < 3; i++)
            if (lambda_json_string_eq(es, source[i])) pick = i;
    for (i = 0; i < 3; i++)
        if ((pick < 0 || pick == i) && lambda_json_find(record, path[i], &id) == 0) break;
    if (i == 3) return LAMBDA_E_NOT_FOUND;
    if (id.type != LAMBDA_JSON_STRING) return LAMBDA_E_TYPE;
    return lambda__batch_item(w, id, NULL, 0);
}

LAMBDA_API int lambda_batch_end(lambda_json_writer *w)
{
    lambda_json_write_end_array(w);
    lambda_json_write_end_object(w);
    return lambda_json_writer_finish(w);
}

LAMBDA_API int lambda_s3_key(lambda_response *res, lambda_json record, lambda_str *out)
{
    lambda_json v;
    int rc;
    *out = lambda__str("", 0);
    if ((rc = lambda_json_find(record, "s3.object.key", &v)) != 0) return rc;
    if ((rc = lambda_json_string_scratch(res, v, out)) != 0) return rc;
    return lambda__decode_in_place(out, LAMBDA_PERCENT_FORM, 1);
}

/* >>extension: the Extensions API client (2020-01-01) */

struct lambda_extension {
    lambda__conn conn;          /* base /2020-01-01/extension/ */
    lambda__logger log;
    lambda_response err;        /* lambda_extension_error's document */
    char id[128];               /* Lambda-Extension-Identifier */
    lambda__buf strs;           /* the unescaped strings of the last event */
    /* >>telemetry: the subscription, or NULL; its clean-up (a pointer: programs without
       one link none of it) */
    struct lambda__telemetry *tel;
    void (*tel_free)(struct lambda__telemetry *t);
};

/* A connection to the Extensions API of the same server as `from`. */
LAMBDA__PRIVATE void lambda__ext_conn(lambda__conn *c, const lambda__logger *log,
                                      const lambda__conn *from)
{
    lambda__conn_init(c, log, "/2020-01-01/extension/", "Extensions API");
    if (from) {
        c->addr = from->addr;
        c->addr_len = from->addr_len;
        memcpy(c->host, from->host, sizeof c->host);
    }
}

/* POST register; on 200 copies the identifier into id[cap]. The connection stays open. */
LAMBDA__PRIVATE int lambda__ext_register(lambda__conn *c, const char *name, int events, char *id,
                                         size_t cap)
{
    static const char *const bodies[4] = {"{\"events\":[]}", "{\"events\":[\"INVOKE\"]}",
                                          "{\"events\":[\"SHUTDOWN\"]}",
                                          "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}"};
    const char *body = bodies[((events & LAMBDA_EXTENSION_INVOKE) ? 1 : 0) |
                              ((events & LAMBDA_EXTENSION_SHUTDOWN) ? 2 : 0)];
    lambda_str v;
    int rc;
    if (name == NULL || *name == '\0' || strlen(name) > 200 || strpbrk(name, "\r\n") != NULL)
        return LAMBDA_E_ARG;
    lambda__req_begin(c, "POST", "register", "", 0, "");
    lambda__req_header(c, "Lambda-Extension-Name", name, strlen(name));
    if ((rc = lambda__post(c, "extension register", "application/json", body, strlen(body),
                           LAMBDA_E_HTTP)) != 0)
        return rc;
    v = lambda__hdr(c, LAMBDA__H_EXTENSION_ID);
    if (v.len == 0 || v.len >= cap) {
        lambda__log(
            c->log, LAMBDA_LOG_ERROR,
            "extension register: no usable Lambda-Extension-Identifier in the answer (%lu bytes)",
            (unsigned long)v.len);
        return LAMBDA_E_HTTP;
    }
    memcpy(id, v.ptr, v.len + 1);
    return 0;
}

LAMBDA_API int lambda_extension_register(lambda_extension **out, const char *name, int events)
{
    lambda_extension *ext = (lambda_extension *)LAMBDA_MALLOC(sizeof *ext);
    const char *api;
    int rc;
    *out = NULL;
    if (ext == NULL) return LAMBDA_E_NOMEM;
    memset(ext, 0, sizeof *ext);
    lambda__logger_init(&ext->log);
    lambda__ext_conn(&ext->conn, &ext->log, NULL);
    ext->err.max = LAMBDA__NO_LIMIT;
    lambda__response_reset(&ext->err);
    api = lambda__getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == NULL || *api == '\0') {
        lambda__log(&ext->log, LAMBDA_LOG_ERROR,
                    "AWS_LAMBDA_RUNTIME_API is not set: extensions run inside Lambda");
        rc = LAMBDA_E_ENV;
    } else {
        rc = lambda__resolve(&ext->conn, api);
    }
    if (!rc) rc = lambda__ext_register(&ext->conn, name, events, ext->id, sizeof ext->id);
    if (rc) {
        lambda_extension_free(ext);
        return rc;
    }
    *out = ext;
    return 0;
}

LAMBDA_API const char *lambda_extension_id(const lambda_extension *ext)
{
    return ext->id;
}

/* Unescape the string at `path` of the event into ext->strs (room was reserved). */
LAMBDA__PRIVATE lambda_str lambda__ext_field(lambda_extension *ext, lambda_str doc,
                                             const char *path)
{
    char *at = ext->strs.ptr + ext->strs.len;
    lambda_str out;
    size_t n = 0;
    out.ptr = "";
    out.len = 0;
    if (lambda_json_get_string(doc, path, at, ext->strs.cap - ext->strs.len, &n) != 0) return out;
    out.ptr = at;
    out.len = n;
    ext->strs.len += n + 1;
    return out;
}

LAMBDA_API int lambda_extension_next(lambda_extension *ext, lambda_extension_event *ev)
{
    lambda__conn *c = &ext->conn;
    lambda_str doc;
    lambda_json v;
    int64_t deadline = 0;
    int rc;
    memset(ev, 0, sizeof *ev);
    ev->request_id.ptr = ev->invoked_function_arn.ptr = ev->tracing.ptr = ev->shutdown_reason.ptr =
        ev->json.ptr = "";
    lambda__req_begin(c, "GET", "event/next", "", 0, "");
    lambda__req_header(c, "Lambda-Extension-Identifier", ext->id, strlen(ext->id));
    lambda__req_end(c);
    if ((rc = lambda__exchange(c, NULL, 0, LAMBDA__MAX_API_BODY)) != 0) return rc;
    if ((rc = lambda__api_status(c, "extension event/next", LAMBDA_E_HTTP)) != 0) return rc;
    if (c->too_big) {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "extension event/next: event larger than %lu bytes",
                    (unsigned long)LAMBDA__MAX_API_BODY);
        return LAMBDA_E_HTTP;
    }
    doc.ptr = c->in.ptr + c->body_off;
    doc.len = c->body_len;
    ev->json = doc;
    ext->strs.len = 0;
    if ((rc = lambda__buf_reserve(&ext->strs, doc.len + 8, LAMBDA__NO_LIMIT)) != 0) return rc;
    if (lambda_json_get(doc, "eventType", &v) == 0 && lambda_json_string_eq(v, "INVOKE"))
        ev->type = LAMBDA_EXTENSION_INVOKE;
    else if (v.type == LAMBDA_JSON_STRING && lambda_json_string_eq(v, "SHUTDOWN"))
        ev->type = LAMBDA_EXTENSION_SHUTDOWN;
    else {
        lambda__log(c->log, LAMBDA_LOG_ERROR, "extension event/next: unknown event: %.*s",
                    (int)LAMBDA__MIN(doc.len, 300), doc.ptr);
        return LAMBDA_E_SYNTAX;
    }
    if (lambda_json_get_int64(doc, "deadlineMs", &deadline) == 0) ev->deadline_ms = deadline;
    ev->request_id = lambda__ext_field(ext, doc, "requestId");
    ev->invoked_function_arn = lambda__ext_field(ext, doc, "invokedFunctionArn");
    ev->tracing = lambda__ext_field(ext, doc, "tracing.value");
    ev->shutdown_reason = lambda__ext_field(ext, doc, "shutdownReason");
    return 0;
}

LAMBDA_API int lambda_extension_error(lambda_extension *ext, int at_exit, const char *error_type,
                                      const char *fmt, ...)
{
    lambda__conn *c = &ext->conn;
    const char *type;
    va_list ap;
    int rc;
    va_start(ap, fmt);
    lambda__set_error(&ext->err, error_type, vsnprintf, fmt, ap);
    va_end(ap);
    if ((rc = lambda__error_doc(&ext->err, &type)) != 0) return rc;
    lambda__req_begin(c, "POST", at_exit ? "exit/error" : "init/error", "", 0, "");
    lambda__req_header(c, "Lambda-Extension-Identifier", ext->id, strlen(ext->id));
    type = lambda__header_safe_type(type);
    lambda__req_header(c, "Lambda-Extension-Function-Error-Type", type, strlen(type));
    return lambda__post(c, at_exit ? "extension exit/error" : "extension init/error",
                        "application/json", ext->err.body.ptr, ext->err.body.len, 0);
}

LAMBDA_API void lambda_extension_free(lambda_extension *ext)
{
    if (ext == NULL) return;
    if (ext->tel_free) ext->tel_free(ext->tel);
    lambda__conn_free(&ext->conn);
    lambda__response_free(&ext->err);
    lambda__buf_free(&ext->strs);
    LAMBDA_FREE(ext);
}

/* >>metrics: Embedded Metric Format documents (lambda_metric), the after-handler hook */

/* Unix time in ms, read as lambda__timestamp does. */
LAMBDA__PRIVATE int64_t lambda__wall_ms(void)
{
    struct timespec now;
#if defined(SYS_clock_gettime) && defined(__linux__) && \
    (defined(__x86_64__) || defined(__aarch64__))
    if (syscall(SYS_clock_gettime, (long)CLOCK_REALTIME, &now) != 0) now.tv_sec = now.tv_nsec = 0;
#else
    clock_gettime(CLOCK_REALTIME, &now);
#endif
    return (int64_t)now.tv_sec * 1000 + (int64_t)(now.tv_nsec / 1000000);
}

#define LAMBDA__EMF_METRICS 100      /* metrics in one document (EMF) */
#define LAMBDA__EMF_VALUES 100       /* values of one metric in one document (EMF) */
#define LAMBDA__EMF_DIMS 30          /* keys in a dimension set (EMF) */
#define LAMBDA__EMF_DOC_BYTES 200000 /* a document's size, roughly (CloudWatch: 256 KB) */

static const char *const lambda__unit_names[] = {
    "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
    "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second"};

LAMBDA_API const char *lambda_unit_name(int unit)
{
    return unit >= 0 && unit < (int)(sizeof lambda__unit_names / sizeof lambda__unit_names[0])
               ? lambda__unit_names[unit]
               : NULL;
}

typedef struct lambda__metric {
    size_t name, name_len;      /* the name, in strs */
    int unit;
    size_t count;               /* values recorded */
    size_t first, last;         /* its values, a list through lambda__mval.next */
    size_t at;                  /* while flushing: the next value to write */
} lambda__metric;

typedef struct lambda__mval {
    double v;
    size_t next;                /* the metric's next value, or (size_t)-1 */
} lambda__mval;

typedef struct lambda__mdim {
    size_t name, name_len, value, value_len; /* in strs */
} lambda__mdim;

/* What the invocation recorded (one per runtime, reused; cleared by each flush). */
struct lambda__metrics {
    lambda__buf strs;           /* names, dimension values and the namespace, each NUL-ended */
    lambda__buf defs;           /* lambda__metric[n_metrics] */
    lambda__buf vals;           /* lambda__mval[n_vals] */
    lambda__buf line;           /* the document being written */
    size_t n_metrics, n_vals;
    lambda__mdim dims[LAMBDA__EMF_DIMS];
    int n_dims;
    size_t ns, ns_len;          /* the namespace in strs; ns_len 0: the default */
    int warned;                 /* a call was refused since the last flush (warned once) */
    int (*flush)(lambda__rt *rt);      /* lambda__metrics_write, for lambda__obs_after */
    void (*next_free)(lambda__rt *rt); /* the clean-up that was in rt->shutdown_free */
};

/* lambda__rt_free's clean-up (through rt->shutdown_free), then the one before it. */
LAMBDA__PRIVATE void lambda__metrics_free(lambda__rt *rt)
{
    struct lambda__metrics *m = rt->metrics;
    void (*chain)(lambda__rt *) = m->next_free;
    lambda__buf_free(&m->strs);
    lambda__buf_free(&m->defs);
    lambda__buf_free(&m->vals);
    lambda__buf_free(&m->line);
    LAMBDA_FREE(m);
    rt->metrics = NULL;
    rt->shutdown_free = chain;
    if (chain) chain(rt);
}

LAMBDA__PRIVATE void lambda__metrics_clear(struct lambda__metrics *m)
{
    m->strs.len = m->n_metrics = m->n_vals = m->ns_len = 0;
    m->n_dims = m->warned = 0;
}

/* res->explain once metrics or X-Ray causes are in use (see LINK-TIME OPT-INS): after
   every handler, what lambda__explain does, then the metrics flushed (through a pointer:
   a program with X-Ray causes and no metrics links no metrics code), then a failed
   invocation's /error posted with its X-Ray cause (rt->obs_post, set by the X-Ray
   wrapper). The result of that post is handed to lambda__invoke_once through the
   response's finish pointer, as a stream's would be. */
LAMBDA__PRIVATE int lambda__obs_posted(lambda_response *res)
{
    return ((lambda__rt *)(void *)((char *)res - offsetof(lambda__rt, res)))->obs_rc;
}

LAMBDA__PRIVATE void lambda__obs_after(lambda_response *res, struct lambda__logger *log)
{
    lambda__rt *rt = (lambda__rt *)(void *)((char *)res - offsetof(lambda__rt, res));
    lambda__explain(res, log);
    if (rt->metrics && rt->metrics->flush) (void)rt->metrics->flush(rt);
    if (rt->obs_post && res->failed && !res->streaming) {
        rt->obs_rc = rt->obs_post(rt);
        res->streaming = 1; /* posted: lambda__invoke_once returns what finish says */
        res->finish = lambda__obs_posted;
    }
}

/* A name or value in strs: a NUL-terminated copy. Returns 0 and its offset, or NOMEM. */
LAMBDA__PRIVATE int lambda__metrics_str(struct lambda__metrics *m, const char *s, size_t n,
                                        size_t *off)
{
    *off = m->strs.len;
    return lambda__buf_add(&m->strs, s, n + 1, LAMBDA__NO_LIMIT); /* the NUL comes along */
}

LAMBDA__PRIVATE const char *lambda__metrics_at(const struct lambda__metrics *m, size_t off)
{
    return m->strs.ptr + off;
}

/* The dimension called name[0..n), or -1. */
LAMBDA__PRIVATE int lambda__metrics_dim(const struct lambda__metrics *m, const char *name,
                                        size_t n)
{
    int i;
    for (i = 0; i < m->n_dims; i++)
        if (m->dims[i].name_len == n &&
            memcmp(lambda__metrics_at(m, m->dims[i].name), name, n) == 0)
            return i;
    return -1;
}

/* The metric called name[0..n), or NULL. */
LAMBDA__PRIVATE lambda__metric *lambda__metrics_find(const struct lambda__metrics *m,
                                                     const char *name, size_t n)
{
    lambda__metric *d = (lambda__metric *)(void *)m->defs.ptr;
    size_t i;
    for (i = 0; i < m->n_metrics; i++)
        if (d[i].name_len == n && memcmp(lambda__metrics_at(m, d[i].name), name, n) == 0)
            return &d[i];
    return NULL;
}

LAMBDA__PRIVATE int lambda__metrics_write(lambda__rt *rt);

/* The runtime's metrics, made on first use (which also sets res->explain). res is
   always the runtime's own response (a handler's or an init hook's). */
LAMBDA__PRIVATE struct lambda__metrics *lambda__metrics_of(lambda_response *res, lambda__rt **out)
{
    lambda__rt *rt = (lambda__rt *)(void *)((char *)res - offsetof(lambda__rt, res));
    struct lambda__metrics *m = rt->metrics;
    *out = rt;
    if (m) return m;
    if ((m = (struct lambda__metrics *)LAMBDA_MALLOC(sizeof *m)) == NULL) return NULL;
    memset(m, 0, sizeof *m);
    m->flush = lambda__metrics_write;
    m->next_free = rt->shutdown_free;
    rt->shutdown_free = lambda__metrics_free;
    rt->metrics = m;
    rt->res.explain = lambda__obs_after; /* the flush after every handler */
    return m;
}

/* A refused call: its code, and one warning line until the next flush. */
LAMBDA__PRIVATE int lambda__metrics_refuse(lambda__rt *rt, struct lambda__metrics *m,
                                           const char *what, const char *name, int rc)
{
    if (m && !m->warned) {
        m->warned = 1;
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "metrics: %s \"%.*s\" not recorded: %s", what, 100,
                    name ? name : "(null)", lambda_strerror(rc));
    }
    return rc;
}

/* A metric name: 1..255 bytes of UTF-8, no control byte, not only spaces, not "_aws". */
LAMBDA__PRIVATE int lambda__metric_name_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    int visible = 0;
    if (n == 0 || n > 255 || (n == 4 && memcmp(s, "_aws", 4) == 0)) return 0;
    while (p < end) {
        if (*p >= 0x80) {
            int k = lambda__utf8_len(p, end);
            if (k == 0) return 0;
            p += k;
            visible = 1;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f) return 0;
        visible |= *p != ' ';
        p++;
    }
    return visible;
}

/* A dimension name or value: 1..max bytes of printable ASCII, not only spaces. */
LAMBDA__PRIVATE int lambda__dim_text_ok(const char *s, size_t n, size_t max)
{
    size_t i;
    int visible = 0;
    if (n == 0 || n > max) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) return 0;
        visible |= c != ' ';
    }
    return visible;
}

/* A namespace: 1..255 bytes of A-Z a-z 0-9 . _ # : / - */
LAMBDA__PRIVATE int lambda__namespace_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || n > 255) return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '#' || c == ':' || c == '/' || c == '-'))
            return 0;
    }
    return 1;
}

LAMBDA_API int lambda_metric(lambda_response *res, const char *name, double value, int unit)
{
    lambda__rt *rt;
    struct lambda__metrics *m;
    lambda__metric *d;
    lambda__mval *v;
    size_t nl, idx;
    int rc;
    if (res == NULL) return LAMBDA_E_ARG;
    if ((m = lambda__metrics_of(res, &rt)) == NULL) return LAMBDA_E_NOMEM;
    nl = name ? strlen(name) : 0;
    if (!name || !lambda__metric_name_ok(name, nl) || lambda_unit_name(unit) == NULL ||
        lambda__metrics_dim(m, name, nl) >= 0)
        return lambda__metrics_refuse(rt, m, "metric", name, LAMBDA_E_ARG);
    if (value != value || value - value != 0) /* NaN, or infinite (inf - inf is NaN) */
        return lambda__metrics_refuse(rt, m, "metric", name, LAMBDA_E_RANGE);
    d = lambda__metrics_find(m, name, nl);
    if (d && d->unit != unit) return lambda__metrics_refuse(rt, m, "metric", name, LAMBDA_E_ARG);
    if (m->n_vals >= LAMBDA_METRICS_MAX_VALUES || (!d && m->n_metrics >= LAMBDA_METRICS_MAX))
        return lambda__metrics_refuse(rt, m, "metric", name, LAMBDA_E_TOO_BIG);
    if ((rc = lambda__buf_reserve(&m->vals, sizeof *v, LAMBDA__NO_LIMIT)) != 0 ||
        (!d && (rc = lambda__buf_reserve(&m->defs, sizeof *d, LAMBDA__NO_LIMIT)) != 0))
        return lambda__metrics_refuse(rt, m, "metric", name, rc);
    if (!d) {
        d = (lambda__metric *)(void *)m->defs.ptr + m->n_metrics;
        memset(d, 0, sizeof *d);
        if ((rc = lambda__metrics_str(m, name, nl, &d->name)) != 0)
            return lambda__metrics_refuse(rt, m, "metric", name, rc);
        d->name_len = nl;
        d->unit = unit;
        m->n_metrics++;
        m->defs.len = m->n_metrics * sizeof *d;
    }
    idx = m->n_vals++;
    m->vals.len = m->n_vals * sizeof *v;
    v = (lambda__mval *)(void *)m->vals.ptr;
    v[idx].v = value;
    v[idx].next = (size_t)-1;
    if (d->count++) v[d->last].next = idx;
    else d->first = idx;
    d->last = idx;
    return 0;
}

LAMBDA_API int lambda_metric_dimension(lambda_response *res, const char *name, const char *value)
{
    lambda__rt *rt;
    struct lambda__metrics *m;
    size_t nl, vl, off;
    int i, rc;
    if (res == NULL) return LAMBDA_E_ARG;
    if ((m = lambda__metrics_of(res, &rt)) == NULL) return LAMBDA_E_NOMEM;
    nl = name ? strlen(name) : 0;
    vl = value ? strlen(value) : 0;
    if (!name || !value || !lambda__dim_text_ok(name, nl, 255) || name[0] == ':' ||
        (nl == 4 && memcmp(name, "_aws", 4) == 0) || !lambda__dim_text_ok(value, vl, 1024) ||
        lambda__metrics_find(m, name, nl) != NULL)
        return lambda__metrics_refuse(rt, m, "dimension", name, LAMBDA_E_ARG);
    i = lambda__metrics_dim(m, name, nl);
    if (i < 0 && m->n_dims >= LAMBDA__EMF_DIMS)
        return lambda__metrics_refuse(rt, m, "dimension", name, LAMBDA_E_TOO_BIG);
    if ((rc = lambda__metrics_str(m, value, vl, &off)) != 0)
        return lambda__metrics_refuse(rt, m, "dimension", name, rc);
    if (i < 0) {
        size_t noff;
        if ((rc = lambda__metrics_str(m, name, nl, &noff)) != 0)
            return lambda__metrics_refuse(rt, m, "dimension", name, rc);
        i = m->n_dims++;
        m->dims[i].name = noff;
        m->dims[i].name_len = nl;
    }
    m->dims[i].value = off;
    m->dims[i].value_len = vl;
    return 0;
}

LAMBDA_API int lambda_metric_namespace(lambda_response *res, const char *ns)
{
    lambda__rt *rt;
    struct lambda__metrics *m;
    size_t n, off;
    int rc;
    if (res == NULL) return LAMBDA_E_ARG;
    if ((m = lambda__metrics_of(res, &rt)) == NULL) return LAMBDA_E_NOMEM;
    n = ns ? strlen(ns) : 0;
    if (!ns || !lambda__namespace_ok(ns, n))
        return lambda__metrics_refuse(rt, m, "namespace", ns, LAMBDA_E_ARG);
    if ((rc = lambda__metrics_str(m, ns, n, &off)) != 0)
        return lambda__metrics_refuse(rt, m, "namespace", ns, rc);
    m->ns = off;
    m->ns_len = n;
    return 0;
}

/* A JSON key or string from strs. */
LAMBDA__PRIVATE void lambda__emf_key(lambda_json_writer *w, const struct lambda__metrics *m,
                                     size_t off, size_t n)
{
    lambda_json_write_key(w, lambda__metrics_at(m, off), n);
}

/* One EMF document with the metrics batch[0..nb), each with its next (at most 100) values;
   written on stdout as one line. Returns 0 or the writer's error. */
LAMBDA__PRIVATE int lambda__emf_doc(lambda__rt *rt, struct lambda__metrics *m,
                                    const size_t *batch, size_t nb, const char *ns, size_t ns_len,
                                    int64_t ts)
{
    lambda__metric *defs = (lambda__metric *)(void *)m->defs.ptr;
    const lambda__mval *vals = (const lambda__mval *)(const void *)m->vals.ptr;
    lambda_response doc;
    lambda_json_writer w;
    size_t i, k;
    int d, rc;
    memset(&doc, 0, sizeof doc);
    doc.body = m->line;
    doc.body.len = 0;
    doc.max = LAMBDA__NO_LIMIT;
    lambda_json_writer_init(&w, &doc);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "_aws");
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "Timestamp");
    lambda_json_write_int64(&w, ts);
    lambda_json_write_ckey(&w, "CloudWatchMetrics");
    lambda_json_write_begin_array(&w);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "Namespace");
    lambda_json_write_string(&w, ns, ns_len);
    lambda_json_write_ckey(&w, "Dimensions");
    lambda_json_write_begin_array(&w);
    lambda_json_write_begin_array(&w);
    for (d = 0; d < m->n_dims; d++)
        lambda_json_write_string(&w, lambda__metrics_at(m, m->dims[d].name), m->dims[d].name_len);
    lambda_json_write_end_array(&w);
    lambda_json_write_end_array(&w);
    lambda_json_write_ckey(&w, "Metrics");
    lambda_json_write_begin_array(&w);
    for (i = 0; i < nb; i++) {
        lambda__metric *x = &defs[batch[i]];
        lambda_json_write_begin_object(&w);
        lambda_json_write_ckey(&w, "Name");
        lambda_json_write_string(&w, lambda__metrics_at(m, x->name), x->name_len);
        lambda_json_write_ckey(&w, "Unit");
        lambda_json_write_cstring(&w, lambda__unit_names[x->unit]);
        lambda_json_write_end_object(&w);
    }
    lambda_json_write_end_array(&w);
    lambda_json_write_end_object(&w);
    lambda_json_write_end_array(&w);
    lambda_json_write_end_object(&w); /* _aws */
    for (d = 0; d < m->n_dims; d++) {
        lambda__emf_key(&w, m, m->dims[d].name, m->dims[d].name_len);
        lambda_json_write_string(&w, lambda__metrics_at(m, m->dims[d].value), m->dims[d].value_len);
    }
    for (i = 0; i < nb; i++) {
        lambda__metric *x = &defs[batch[i]];
        lambda__emf_key(&w, m, x->name, x->name_len);
        if (x->count == 1) {
            lambda_json_write_double(&w, vals[x->first].v);
            x->at = (size_t)-1;
            continue;
        }
        lambda_json_write_begin_array(&w);
        for (k = 0; k < LAMBDA__EMF_VALUES && x->at != (size_t)-1; k++) {
            lambda_json_write_double(&w, vals[x->at].v);
            x->at = vals[x->at].next;
        }
        lambda_json_write_end_array(&w);
    }
    lambda_json_write_end_object(&w);
    rc = lambda_json_writer_finish(&w);
    if (rc == 0) rc = lambda_response_append(&doc, "\n", 1);
    m->line = doc.body; /* it may have grown */
    if (rc) return rc;
#ifdef LAMBDA_THREADS
    if (rt->conn.pool) pthread_mutex_lock(&rt->conn.pool->out_mu);
#endif
    lambda__stdout_flush(); /* printf output written before comes first */
    lambda__write_all(1, m->line.ptr, m->line.len);
#ifdef LAMBDA_THREADS
    if (rt->conn.pool) pthread_mutex_unlock(&rt->conn.pool->out_mu);
#else
    (void)rt;
#endif
    return 0;
}

/* Everything recorded, as EMF documents on stdout, then cleared. Round r holds the values
   r*100 .. r*100+99 of every metric that has them, in documents of at most 100 metrics and
   about LAMBDA__EMF_DOC_BYTES bytes (a bound from the lengths: names escape to at most
   twice their bytes, a double is at most 24 characters). */
LAMBDA__PRIVATE int lambda__metrics_write(lambda__rt *rt)
{
    struct lambda__metrics *m = rt->metrics;
    lambda__metric *defs = (lambda__metric *)(void *)m->defs.ptr;
    size_t batch[LAMBDA__EMF_METRICS], nb, i, base, round, ns_len;
    const char *ns = "aws-embedded-metrics";
    int64_t ts = lambda__wall_ms();
    int d, rc = 0, more = 1;
    ns_len = sizeof "aws-embedded-metrics" - 1;
    if (m->ns_len) {
        ns = lambda__metrics_at(m, m->ns);
        ns_len = m->ns_len;
    } else {
        const char *env = getenv("AWS_EMF_NAMESPACE");
        if (env && lambda__namespace_ok(env, strlen(env))) ns_len = strlen(ns = env);
    }
    base = 4 * ns_len + 200;
    for (d = 0; d < m->n_dims; d++) base += 4 * m->dims[d].name_len + 2 * m->dims[d].value_len + 16;
    for (i = 0; i < m->n_metrics; i++) defs[i].at = defs[i].first;
    for (round = 0; more && rc == 0; round++) {
        size_t size = base;
        more = 0;
        nb = 0;
        for (i = 0; i <= m->n_metrics && rc == 0; i++) {
            size_t left, cost = 0;
            if (i < m->n_metrics) {
                if (defs[i].count <= round * LAMBDA__EMF_VALUES) continue;
                left = defs[i].count - round * LAMBDA__EMF_VALUES;
                if (left > LAMBDA__EMF_VALUES) {
                    more = 1;
                    left = LAMBDA__EMF_VALUES;
                }
                cost = 4 * defs[i].name_len + 48 + 26 * left;
                if (nb == 0 || (nb < LAMBDA__EMF_METRICS && size + cost <= LAMBDA__EMF_DOC_BYTES)) {
                    batch[nb++] = i;
                    size += cost;
                    continue;
                }
            }
            if (nb) rc = lambda__emf_doc(rt, m, batch, nb, ns, ns_len, ts);
            if (i < m->n_metrics) { /* the one that did not fit starts the next document */
                batch[0] = i;
                nb = 1;
                size = base + cost;
            }
        }
    }
    if (rc)
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "metrics: documents not written: %s",
                    lambda_strerror(rc));
    lambda__metrics_clear(m);
    return rc;
}

LAMBDA_API int lambda_metrics_flush(lambda_response *res)
{
    lambda__rt *rt;
    struct lambda__metrics *m;
    if (res == NULL) return LAMBDA_E_ARG;
    if ((m = lambda__metrics_of(res, &rt)) == NULL) return LAMBDA_E_NOMEM;
    if (m->n_metrics) return lambda__metrics_write(rt);
    lambda__metrics_clear(m);
    return 0;
}

/* >>xray: the X-Ray error cause on /error (lambda_xray_error_cause) */

#define LAMBDA__XRAY_MAX 65536 /* the platform's cap on a cause (X-Ray's document size) */

/* Append the inside of a JSON string for s[0..n) to the request head, in ASCII: '"', '\\'
   and control bytes escaped, every other non-ASCII character as \uXXXX (a surrogate pair
   above U+FFFF), invalid UTF-8 as \ufffd. At most `room` bytes: what does not fit is cut
   at a character and "..." ends it. Returns the bytes appended. */
LAMBDA__PRIVATE size_t lambda__xray_str(lambda__conn *c, const char *s, size_t n, size_t room)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t out = 0;
    if (room < 3) return 0;
    while (p < end) {
        char e[16];
        size_t el = 0, run = 0;
        unsigned long cp;
        int k, half;
        while (p + run < end && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) { /* a plain run, as much of it as fits */
            size_t take = out + run + 3 <= room ? run : room - 3 - out;
            lambda__req_add(c, s + (p - (const unsigned char *)s), take);
            out += take;
            p += take;
            if (take < run) break;
            continue;
        }
        if (*p < 0x80) {
            cp = *p;
            k = 1;
        } else if ((k = lambda__utf8_len(p, end)) == 0) {
            cp = 0xFFFD;
            k = 1;
        } else {
            cp = p[0] & (0x7F >> k);
            for (half = 1; half < k; half++) cp = (cp << 6) | (p[half] & 0x3F);
        }
        if (cp == '"' || cp == '\\') {
            e[el++] = '\\';
            e[el++] = (char)cp;
        } else {
            for (half = cp > 0xFFFF ? 2 : 1; half > 0; half--) {
                unsigned long u = cp;
                if (cp > 0xFFFF) /* UTF-16: the high surrogate first */
                    u = half == 2 ? 0xD800 + ((cp - 0x10000) >> 10)
                                  : 0xDC00 + ((cp - 0x10000) & 0x3FF);
                e[el++] = '\\';
                e[el++] = 'u';
                e[el++] = hex[(u >> 12) & 15];
                e[el++] = hex[(u >> 8) & 15];
                e[el++] = hex[(u >> 4) & 15];
                e[el++] = hex[u & 15];
            }
        }
        if (out + el + 3 > room) break;
        lambda__req_add(c, e, el);
        out += el;
        p += k;
    }
    if (p < end) {
        lambda__req_add(c, LAMBDA__LIT("..."));
        out += 3;
    }
    return out;
}

/* The Lambda-Runtime-Function-XRay-Error-Cause header line for the error in res. */
LAMBDA__PRIVATE void lambda__xray_header(lambda__conn *c, const lambda_response *res)
{
    char cwd[4096];
    const char *type = "Runtime.Unknown", *msg = "unknown error";
    size_t type_len = sizeof "Runtime.Unknown" - 1, msg_len = sizeof "unknown error" - 1, used;
    if (res->failed && res->error_text.ptr && res->error_text.len > res->error_type_len) {
        type = res->error_text.ptr;
        type_len = res->error_type_len;
        msg = res->error_text.ptr + type_len + 1;
        msg_len = res->error_text.len - type_len - 1;
    }
    if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = '\0';
    lambda__req_add(c, LAMBDA__LIT("Lambda-Runtime-Function-XRay-Error-Cause: "
                                   "{\"working_directory\":\""));
    /* the value's fixed parts are 77 bytes */
    used = 77 + lambda__xray_str(c, cwd, strlen(cwd), 16384);
    lambda__req_add(c, LAMBDA__LIT("\",\"exceptions\":[{\"type\":\""));
    used += lambda__xray_str(c, type, type_len, 1024);
    lambda__req_add(c, LAMBDA__LIT("\",\"message\":\""));
    lambda__xray_str(c, msg, msg_len, LAMBDA__XRAY_MAX - used);
    lambda__req_add(c, LAMBDA__LIT("\"}],\"paths\":[]}\r\n"));
}

/* lambda__post_error for an invocation, with the cause header. */
LAMBDA__PRIVATE int lambda__post_error_xray(lambda__rt *rt)
{
    lambda__conn *c = &rt->conn;
    const char *type;
    int rc = lambda__error_doc(&rt->res, &type);
    if (rc) return rc;
    lambda__req_begin(c, "POST", "invocation/", rt->ctx.request_id.ptr, rt->ctx.request_id.len,
                      "/error");
    type = lambda__header_safe_type(type);
    lambda__req_header(c, "Lambda-Runtime-Function-Error-Type", type, strlen(type));
    if (rt->ctx.invocation_id.len)
        lambda__req_header(c, "Lambda-Runtime-Invocation-Id", rt->ctx.invocation_id.ptr,
                           rt->ctx.invocation_id.len);
    lambda__xray_header(c, &rt->res);
    return lambda__post(c, "error", "application/json", rt->res.body.ptr, rt->res.body.len, 0);
}

/* lambda_config.handler under lambda_xray_error_cause: sets up lambda__obs_after, then
   calls the program's handler. */
LAMBDA__PRIVATE int lambda__xray_handler(const lambda_context *ctx, lambda_str event,
                                         lambda_response *res)
{
    lambda__rt *rt = (lambda__rt *)(void *)((char *)res - offsetof(lambda__rt, res));
    rt->obs_post = lambda__post_error_xray;
    res->explain = lambda__obs_after;
    return rt->cfg.lambda__handler(ctx, event, res);
}

LAMBDA_API void lambda_xray_error_cause(lambda_config *cfg)
{
    if (cfg && cfg->handler && cfg->handler != lambda__xray_handler) {
        cfg->lambda__handler = cfg->handler;
        cfg->handler = lambda__xray_handler;
    }
}

/* >>metadata: the Availability Zone ID from the Lambda metadata endpoint */

/* GET /2026-01-15/metadata/execution-environment on its own connection, every step bounded
   by 1 s (SO_SNDTIMEO also bounds connect on Linux); rt->az_id on success, a warning line
   otherwise. */
LAMBDA__PRIVATE void lambda__metadata_fetch(lambda__rt *rt)
{
    const char *api = getenv("AWS_LAMBDA_METADATA_API"), *tok = getenv("AWS_LAMBDA_METADATA_TOKEN");
    const char *why = NULL;
    char eb[24];
    lambda__conn c;
    struct timeval tv;
    size_t n = 0, i;
    int fd, got = 0, rc;
    if (api == NULL || *api == '\0' || tok == NULL || *tok == '\0') return; /* not on Lambda */
    for (i = 0; tok[i]; i++)
        if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f || i > 1024) {
            lambda__log(&rt->log, LAMBDA_LOG_WARN,
                        "metadata endpoint: AWS_LAMBDA_METADATA_TOKEN is not a token; no AZ ID");
            return;
        }
    lambda__conn_init(&c, &rt->log, "/2026-01-15/", "metadata endpoint");
    if (lambda__resolve(&c, api) != 0) {
        lambda__log(&rt->log, LAMBDA_LOG_WARN,
                    "metadata endpoint: AWS_LAMBDA_METADATA_API=\"%.*s\" is not host:port", 100,
                    api);
        return;
    }
    tv.tv_sec = 1;
    tv.tv_usec = 0;
    fd = socket(c.addr.ss_family, SOCK_STREAM | LAMBDA__SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
        connect(fd, (struct sockaddr *)(void *)&c.addr, c.addr_len) != 0) {
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "metadata endpoint: connect to %s: %s; no AZ ID",
                    c.host, lambda__errno_name(errno, eb));
        if (fd >= 0) close(fd);
        return;
    }
    c.fd = fd;
    lambda__req_begin(&c, "GET", "metadata/execution-environment", "", 0, "");
    lambda__req_str(&c, "Authorization: Bearer ");
    lambda__req_str(&c, tok);
    lambda__req_add(&c, LAMBDA__LIT("\r\n\r\n"));
    rc = lambda__send(&c, NULL, 0);
    if (rc == 0) rc = lambda__read_response(&c, 65536, &got);
    if (rc != 0) {
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "metadata endpoint: %s%s%s; no AZ ID",
                    c.err_op ? c.err_op : lambda_strerror(rc), c.err_op ? ": " : "",
                    c.err_op ? lambda__errno_name(c.err_no, eb) : "");
    } else if (c.head.status != 200 || c.too_big) {
        lambda__log(&rt->log, LAMBDA_LOG_WARN, "metadata endpoint: HTTP %d: %.*s; no AZ ID",
                    c.head.status, (int)LAMBDA__MIN(c.too_big ? 0 : c.body_len, 200),
                    c.in.ptr + c.body_off);
    } else {
        lambda_str doc;
        doc.ptr = c.in.ptr + c.body_off;
        doc.len = c.body_len;
        if (lambda_json_get_string(doc, "AvailabilityZoneID", rt->az_id, sizeof rt->az_id,
                                   &n) != 0 ||
            !lambda__dim_text_ok(rt->az_id, n, sizeof rt->az_id - 1))
            why = "no usable AvailabilityZoneID in the answer";
        if (why) {
            rt->az_id[0] = '\0';
            lambda__log(&rt->log, LAMBDA_LOG_WARN, "metadata endpoint: %s: %.*s", why,
                        (int)LAMBDA__MIN(c.body_len, 200), doc.ptr);
        }
    }
    lambda__conn_free(&c);
}

LAMBDA_API lambda_str lambda_availability_zone_id(const lambda_context *ctx)
{
    lambda__rt *rt;
    if (ctx == NULL) return lambda__str("", 0);
    rt = (lambda__rt *)(uintptr_t)((const char *)ctx - offsetof(lambda__rt, ctx));
    if (!rt->az_state) {
        rt->az_state = 1;
        lambda__metadata_fetch(rt);
    }
    return lambda__str(rt->az_id, strlen(rt->az_id));
}

/* >>telemetry: the Telemetry API client: subscription, the listener, batches to events */

#define LAMBDA__TEL_CLIENTS 8                    /* connections the listener serves at once */
#define LAMBDA__TEL_MAX_BODY ((size_t)8 << 20)   /* a batch (the platform's cap is 1 MiB) */

/* The subscription of one extension (lambda_extension.tel). */
struct lambda__telemetry {
    int listen_fd;
    int port;
    lambda_telemetry_fn fn;
    void *user;
    lambda__conn clients[LAMBDA__TEL_CLIENTS];   /* accepted connections (fd -1: a free slot) */
    long delivered;                              /* events handed to fn */
};

LAMBDA_API int lambda_str_eq(lambda_str s, const char *c)
{
    size_t n = c ? strlen(c) : 0;
    return c != NULL && s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

LAMBDA__PRIVATE void lambda__tel_free(struct lambda__telemetry *t)
{
    int i;
    if (t == NULL) return;
    for (i = 0; i < LAMBDA__TEL_CLIENTS; i++) lambda__conn_free(&t->clients[i]);
    if (t->listen_fd >= 0) close(t->listen_fd);
    LAMBDA_FREE(t);
}

/* sandbox.localdomain's IPv4 address in /etc/hosts, into *addr; 0 if there is none. */
LAMBDA__PRIVATE int lambda__tel_hosts_addr(struct in_addr *addr)
{
    char buf[16384];
    size_t n = 0, i = 0;
    int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC), found = 0;
    if (fd < 0) return 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == sizeof buf - 1) break;
    }
    close(fd);
    buf[n] = '\0';
    while (i < n && !found) { /* "address name name ... # comment", one entry a line */
        char ip[64];
        size_t s, e = i, k, w = 0;
        while (e < n && buf[e] != '\n') e++;
        for (k = i; k < e && buf[k] != '#'; k++) {}
        e = k;
        while (i < e) {
            while (i < e && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r')) i++;
            s = i;
            while (i < e && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r') i++;
            if (i == s) break;
            if (w++ == 0) {
                if (i - s >= sizeof ip) break;
                memcpy(ip, buf + s, i - s);
                ip[i - s] = '\0';
            } else if (lambda__ieq(buf + s, i - s, "sandbox.localdomain") &&
                       lambda__ip4(ip, (unsigned char *)&addr->s_addr)) {
                found = 1;
                break;
            }
        }
        while (i < n && buf[i] != '\n') i++;
        i++;
    }
    return found;
}

/* The listener: see >>telemetry-api for the address. Returns the socket or -1 (logged). */
LAMBDA__PRIVATE int lambda__tel_listen(const lambda__conn *api, int port, int *bound)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char eb[24];
    int fd, one = 1, loop = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (!lambda__tel_hosts_addr(&a.sin_addr)) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)&api->addr;
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&api->addr;
        static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (api->addr.ss_family == AF_INET)
            loop = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
        else if (api->addr.ss_family == AF_INET6)
            loop = memcmp(&in6->sin6_addr, lo6, 16) == 0;
        a.sin_addr.s_addr = htonl(loop ? INADDR_LOOPBACK : INADDR_ANY);
    }
    fd = socket(AF_INET, SOCK_STREAM | LAMBDA__SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)(void *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)(void *)&a, &al) != 0) {
        lambda__log(api->log, LAMBDA_LOG_ERROR, "telemetry listener on port %d: %s", port,
                    lambda__errno_name(errno, eb));
        if (fd >= 0) close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

LAMBDA__PRIVATE int lambda__tel_wait(lambda__conn *c);

LAMBDA_API int lambda_telemetry_subscribe(lambda_extension *ext,
                                          const lambda_telemetry_config *cfg)
{
    static const char *const names[3] = {"\"platform\"", "\"function\"", "\"extension\""};
    struct lambda__telemetry *t;
    lambda__conn *c;
    char body[512], types[64] = "", *tp = types;
    const char *base;
    int items, bytes, ms, i, rc, n;
    if (ext == NULL || cfg == NULL || cfg->on_event == NULL || (cfg->types & 7) == 0 ||
        (cfg->types & ~7) != 0 || ext->tel != NULL)
        return LAMBDA_E_ARG;
    items = cfg->max_items ? cfg->max_items : 1000;
    bytes = cfg->max_bytes ? cfg->max_bytes : 262144;
    ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;
    if (items < 1000 || items > 10000 || bytes < 262144 || bytes > 1048576 || ms < 25 ||
        ms > 30000 || cfg->port < 0 || cfg->port > 65535)
        return LAMBDA_E_ARG;
    c = &ext->conn;
    if ((t = (struct lambda__telemetry *)LAMBDA_MALLOC(sizeof *t)) == NULL) return LAMBDA_E_NOMEM;
    memset(t, 0, sizeof *t);
    for (i = 0; i < LAMBDA__TEL_CLIENTS; i++) {
        lambda__conn_init(&t->clients[i], &ext->log, "/", "telemetry listener");
        t->clients[i].fd = -1;
    }
    t->fn = cfg->on_event;
    t->user = cfg->user;
    if ((t->listen_fd = lambda__tel_listen(c, cfg->port, &t->port)) < 0) {
        lambda__tel_free(t);
        return LAMBDA_E_IO;
    }
    for (i = 0; i < 3; i++)
        if (cfg->types & (1 << i)) {
            if (tp != types) *tp++ = ',';
            memcpy(tp, names[i], strlen(names[i]) + 1);
            tp += strlen(tp);
        }
    n = lambda__fmt(body, sizeof body,
                    "{\"schemaVersion\":\"2022-12-13\",\"types\":[%s],\"buffering\":"
                    "{\"maxItems\":%d,\"maxBytes\":%d,\"timeoutMs\":%d},\"destination\":"
                    "{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain:%d/\"}}",
                    types, items, bytes, ms, t->port);
    base = c->base;
    c->base = "/2022-07-01/";
    lambda__req_begin(c, "PUT", "telemetry", "", 0, "");
    c->base = base;
    lambda__req_header(c, "Lambda-Extension-Identifier", ext->id, strlen(ext->id));
    rc = lambda__post(c, "telemetry subscribe", "application/json", body, (size_t)n,
                      LAMBDA_E_STATUS);
    if (rc == 0 && c->head.status != 200) { /* 202: an emulator without the API */
        lambda__log(c->log, LAMBDA_LOG_WARN,
                    "telemetry subscribe: HTTP %d from the Telemetry API (not supported here?): "
                    "%.*s", c->head.status, (int)LAMBDA__MIN(c->too_big ? 0 : c->body_len, 200),
                    c->in.ptr + c->body_off);
        rc = LAMBDA_E_STATUS;
    }
    if (rc) {
        lambda__tel_free(t);
        return rc;
    }
    ext->tel = t;
    ext->tel_free = lambda__tel_free;
    c->watch_fd = t->listen_fd; /* lambda_extension_next serves it while it waits */
    c->wait_idle = lambda__tel_wait;
    return 0;
}

/* One request from a client of the listener, read into c->in: the head (its request line,
   "POST <target> HTTP/1.x", overwritten in place by a status line so that
   lambda__parse_head reads the headers and the framing), then the body. */
LAMBDA__PRIVATE int lambda__tel_read_request(lambda__conn *c, int *is_post)
{
    size_t hl = 0, i, scanned = 0;
    long n;
    int minor;
    c->in.len = 0;
    c->too_big = 0;
    c->body_len = 0;
    while ((hl = lambda__head_end(c->in.ptr ? c->in.ptr : "", c->in.len, scanned)) == 0) {
        if (c->in.len >= LAMBDA_MAX_HEAD_SIZE) return LAMBDA_E_HTTP;
        scanned = c->in.len;
        if ((n = lambda__recv(c, LAMBDA_RECV_SIZE)) <= 0) return n ? (int)n : LAMBDA_E_IO;
    }
    for (i = 0; i < hl && c->in.ptr[i] != '\r' && c->in.ptr[i] != '\n'; i++) {}
    if (i < 14 || memcmp(c->in.ptr + i - 9, " HTTP/1.", 8) != 0 || c->in.ptr[i - 1] < '0' ||
        c->in.ptr[i - 1] > '9')
        return LAMBDA_E_HTTP;
    minor = c->in.ptr[i - 1] - '0';
    *is_post = memcmp(c->in.ptr, "POST ", 5) == 0;
    memcpy(c->in.ptr, "HTTP/1.1 200", 12);
    c->in.ptr[7] = (char)('0' + minor);
    memset(c->in.ptr + 12, ' ', i - 12);
    if (lambda__parse_head(c->in.ptr, hl, &c->head) != 0) return LAMBDA_E_HTTP;
    c->body_off = hl;
    if (c->head.chunked) return lambda__read_chunked(c, LAMBDA__TEL_MAX_BODY);
    if (c->head.has_length) return lambda__read_length(c, LAMBDA__TEL_MAX_BODY);
    return 0;
}

/* The events of one batch (a JSON array of objects) handed to fn, in order. Returns the
   number delivered, or LAMBDA_E_SYNTAX for a body that is not such an array. */
LAMBDA__PRIVATE int lambda__tel_deliver(struct lambda__telemetry *t, lambda_str body)
{
    lambda_json arr, item;
    lambda_json_iter it;
    int n = 0, rc;
    if (lambda_json_validate(body, &arr, NULL) != 0 || arr.type != LAMBDA_JSON_ARRAY)
        return LAMBDA_E_SYNTAX;
    lambda_json_iter_init(&it, arr);
    while ((rc = lambda_json_next(&it, NULL, &item)) == 1) {
        lambda_telemetry_event ev;
        lambda_json v;
        char type[128], time[64];
        size_t tl = 0, ml = 0;
        if (item.type != LAMBDA_JSON_OBJECT) continue;
        type[0] = time[0] = '\0';
        if (lambda_json_find(item, "type", &v) == 0)
            (void)lambda_json_string(v, type, sizeof type, &tl);
        if (lambda_json_find(item, "time", &v) == 0)
            (void)lambda_json_string(v, time, sizeof time, &ml);
        ev.type.ptr = type;
        ev.type.len = type[0] ? tl : 0;
        ev.time.ptr = time;
        ev.time.len = time[0] ? ml : 0;
        if (lambda_json_find(item, "record", &ev.record) != 0) {
            ev.record.ptr = "null";
            ev.record.len = 4;
            ev.record.type = LAMBDA_JSON_NULL;
        }
        ev.event = item;
        t->fn(t->user, &ev);
        t->delivered++;
        n++;
    }
    return rc < 0 ? rc : n;
}

/* Serve one request on client c (readable): 200 after delivering a batch, 400 for a
   malformed one (then the connection closes), 405 for anything but POST. */
LAMBDA__PRIVATE void lambda__tel_serve(struct lambda__telemetry *t, lambda__conn *c)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    static const char method[] = "HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\n"
                                 "Content-Length: 0\r\n\r\n";
    struct iovec iov;
    int post = 0, rc = lambda__tel_read_request(c, &post);
    const char *answer = ok;
    size_t len = sizeof ok - 1;
    if (rc == LAMBDA_E_IO) { /* closed, or stalled past SO_RCVTIMEO */
        lambda__close(c);
        return;
    }
    if (rc == 0 && !c->too_big && post) {
        lambda_str body;
        body.ptr = c->in.ptr + c->body_off;
        body.len = c->body_len;
        if (lambda__tel_deliver(t, body) < 0) rc = LAMBDA_E_SYNTAX;
    } else if (rc == 0 && !c->too_big) {
        answer = method;
        len = sizeof method - 1;
    }
    if (rc != 0 || c->too_big) {
        lambda__log(c->log, LAMBDA_LOG_WARN, "telemetry listener: %s batch; answered 400",
                    c->too_big ? "an oversized" : "a malformed");
        answer = bad;
        len = sizeof bad - 1;
        c->head.close = 1;
    }
    iov.iov_base = (void *)(uintptr_t)answer;
    iov.iov_len = len;
    if (lambda__sendv(c, &iov, 1) != 0 || c->head.close) lambda__close(c);
}

/* poll() the listener, its clients and `watch` (-1: none) for up to timeout_ms (-1: no
   limit), serving whatever is ready. Returns 1 when watch is readable, 0 at the timeout,
   LAMBDA_E_IO if poll fails. */
LAMBDA__PRIVATE int lambda__tel_pump(struct lambda__telemetry *t, int watch, int timeout_ms)
{
    struct pollfd p[LAMBDA__TEL_CLIENTS + 2];
    int i, n, r;
    p[0].fd = watch;
    p[1].fd = t->listen_fd;
    for (i = 0; i < LAMBDA__TEL_CLIENTS; i++) p[2 + i].fd = t->clients[i].fd;
    for (i = 0; i < LAMBDA__TEL_CLIENTS + 2; i++) {
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    n = LAMBDA__TEL_CLIENTS + 2;
    r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : LAMBDA_E_IO;
    for (i = 0; i < LAMBDA__TEL_CLIENTS; i++)
        if (p[2 + i].fd >= 0 && (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
            lambda__tel_serve(t, &t->clients[i]);
    if (p[1].revents & POLLIN) {
        int fd = accept(t->listen_fd, NULL, NULL);
        if (fd >= 0) {
            struct timeval tv;
            for (i = 0; i < LAMBDA__TEL_CLIENTS && t->clients[i].fd >= 0; i++) {}
            tv.tv_sec = 2; /* a client that stalls in the middle of a request is dropped */
            tv.tv_usec = 0;
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
            if (i < LAMBDA__TEL_CLIENTS) t->clients[i].fd = fd;
            else close(fd); /* full: the platform retries */
        }
    }
    return watch >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

/* lambda__conn.wait_idle of a subscribed extension's connection: serve telemetry until the
   Extensions API answers. */
LAMBDA__PRIVATE int lambda__tel_wait(lambda__conn *c)
{
    lambda_extension *ext =
        (lambda_extension *)(void *)((char *)c - offsetof(lambda_extension, conn));
    for (;;) {
        int r = lambda__tel_pump(ext->tel, c->fd, -1);
        if (r != 0) return r == 1 ? 0 : r;
    }
}

LAMBDA_API int lambda_telemetry_poll(lambda_extension *ext, int timeout_ms)
{
    struct lambda__telemetry *t = ext ? ext->tel : NULL;
    long before, end;
    struct timespec now;
    if (t == NULL) return LAMBDA_E_STATE;
    before = t->delivered;
    clock_gettime(CLOCK_MONOTONIC, &now);
    end = (long)now.tv_sec * 1000 + now.tv_nsec / 1000000 + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        long left;
        int r;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = end - ((long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        r = lambda__tel_pump(t, -1, left > 0 ? (int)left : 0);
        if (r < 0) return r;
        if (left <= 0) break;
    }
    return (int)(t->delivered - before);
}

LAMBDA_API int lambda_telemetry_port(const lambda_extension *ext)
{
    return ext && ext->tel ? ext->tel->port : 0;
}

/* >>shutdown: the internal extension behind lambda_on_shutdown, and its SIGTERM handler */

/* The SIGTERM handler finds its pipe here: the one mutable static of the runtime (a signal
   handler has no argument to carry it), written before the handler is installed. */
static int lambda__term_wfd = -1;
static pid_t lambda__term_pid;

/* SIGTERM: one byte into the pipe that the runtime watches (poll while it waits for /next,
   or the thread of lambda_run under workers). A child forked without exec inherits this
   handler: there it restores the default action, so the signal ends the child as usual. */
LAMBDA__PRIVATE void lambda__on_sigterm(int sig)
{
    int saved = errno;
    if (getpid() != lambda__term_pid) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        (void)sigaction(sig, &dfl, NULL);
        (void)raise(sig); /* delivered once this handler returns */
    } else if (write(lambda__term_wfd, "T", 1) < 0) {
        /* the pipe is full: SIGTERM is already pending there */
    }
    errno = saved;
}

/* Undo lambda__shutdown_setup: SIGTERM goes back to what it was, the pipe and the parked
   connection close. */
LAMBDA__PRIVATE void lambda__shutdown_free(lambda__rt *rt)
{
    (void)sigaction(SIGTERM, &rt->old_term, NULL); /* before the pipe closes */
    close(rt->sig_wfd);
    close(rt->sig_fd);
    if (rt->park_fd >= 0) close(rt->park_fd);
    rt->sig_fd = rt->sig_wfd = rt->park_fd = -1;
    rt->conn.watch_fd = -1;
    rt->shutdown_free = NULL;
}

/* Idle between invocations: wait until the connection or c->watch_fd is readable.
   Returns 0 (read the connection), LAMBDA__SHUTDOWN, or LAMBDA_E_IO. */
LAMBDA__PRIVATE int lambda__wait_readable(lambda__conn *c)
{
    for (;;) {
        struct pollfd pfd[2];
        pfd[0].fd = c->fd;
        pfd[1].fd = c->watch_fd;
        pfd[0].events = pfd[1].events = POLLIN;
        pfd[0].revents = pfd[1].revents = 0;
        if (poll(pfd, 2, -1) < 0 && errno != EINTR) return lambda__sys_fail(c, "poll");
        if (pfd[1].revents & POLLIN) return LAMBDA__SHUTDOWN;
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) return 0;
    }
}

/* A pipe with both ends close-on-exec, the write end non-blocking (a handler never
   blocks). */
LAMBDA__PRIVATE int lambda__term_pipe(int fds[2])
{
    if (pipe(fds) != 0) return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* Install the SIGTERM handler, then register the internal extension with no events, so
   that the platform sends SIGTERM before shutting down; its /event/next is sent and left
   waiting (the platform wants every extension to ask for its next event). No signal is
   blocked anywhere: the handler runs in whichever thread the kernel picks (SA_RESTART,
   so other threads' system calls resume), and children start with the signal mask the
   program had. Reached only through lambda_config.lambda__shutdown_setup. */
LAMBDA__PRIVATE int lambda__shutdown_setup(void *runtime)
{
    char eb[24];
    lambda__rt *rt = (lambda__rt *)runtime;
    lambda__conn ext;
    struct sigaction sa;
    char id[128];
    int fds[2], rc;
    if (lambda__term_pipe(fds) != 0) {
        lambda__log(&rt->log, LAMBDA_LOG_ERROR, "pipe: %s", lambda__errno_name(errno, eb));
        return LAMBDA_E_IO;
    }
    lambda__term_pid = getpid();
    lambda__term_wfd = fds[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lambda__on_sigterm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, &rt->old_term) != 0) {
        lambda__log(&rt->log, LAMBDA_LOG_ERROR, "sigaction: %s", lambda__errno_name(errno, eb));
        close(fds[0]);
        close(fds[1]);
        return LAMBDA_E_IO;
    }
    rt->sig_fd = fds[0];
    rt->sig_wfd = fds[1];
    rt->shutdown_free = lambda__shutdown_free;
    rt->conn.wait_idle = lambda__wait_readable;
    lambda__ext_conn(&ext, &rt->log, &rt->conn);
    rc = lambda__ext_register(&ext, "lambda_runtime_h_sigterm", 0, id, sizeof id);
    if (!rc) {
        lambda__req_begin(&ext, "GET", "event/next", "", 0, "");
        lambda__req_header(&ext, "Lambda-Extension-Identifier", id, strlen(id));
        lambda__req_end(&ext);
        if (ext.fd < 0) rc = lambda__connect(&ext);
    }
    if (!rc) rc = lambda__send(&ext, NULL, 0);
    if (!rc) {
        rt->park_fd = ext.fd; /* never read: it answers only at shutdown, if ever */
        ext.fd = -1;
    }
    lambda__conn_free(&ext);
    if (rc) lambda__shutdown_free(rt); /* not registered: no SIGTERM will come, none is caught */
    return rc;
}

LAMBDA_API void lambda_on_shutdown(lambda_config *cfg, void (*hook)(void *user))
{
    cfg->on_shutdown = hook;
    cfg->lambda__shutdown_setup = hook ? lambda__shutdown_setup : NULL;
}

/* >>threads: LAMBDA_THREADS workers for AWS_LAMBDA_MAX_CONCURRENCY */
#ifdef LAMBDA_THREADS
LAMBDA__PRIVATE void *lambda__worker(void *arg)
{
    lambda__rt *rt = (lambda__rt *)arg;
    lambda__pool *pool = rt->conn.pool;
    int rc = lambda__serve(rt), i;
    pthread_mutex_lock(&pool->mu);
    if (rc != 0 && !pool->stop) { /* fatal, or shut down: stop the others, wherever they block */
        pool->stop = 1;
        pool->rc = rc < 0 ? rc : 0;
        for (i = 0; i < pool->n; i++)
            if (&pool->workers[i] != rt && pool->workers[i].conn.fd >= 0)
                shutdown(pool->workers[i].conn.fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&pool->mu);
    if (pool->notify_fd >= 0) (void)!write(pool->notify_fd, "W", 1);
    return NULL;
}

/* SIGTERM under workers: no new invocation starts; the workers waiting for /next are cut
   off at once; the others finish the one they serve and post its result. */
LAMBDA__PRIVATE void lambda__drain(lambda__pool *pool)
{
    int i;
    pthread_mutex_lock(&pool->mu);
    if (pool->stop == 0) {
        pool->stop = 2;
        for (i = 0; i < pool->n; i++)
            if (pool->workers[i].conn.idle && pool->workers[i].conn.fd >= 0)
                shutdown(pool->workers[i].conn.fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&pool->mu);
}

/* With lambda_on_shutdown, the thread of lambda_run waits on the SIGTERM pipe while the
   workers serve: 'T' (the signal handler) drains the pool, 'W' says a worker stopped.
   Returns 1 when SIGTERM arrived, once every started worker has stopped. */
LAMBDA__PRIVATE int lambda__watch_pool(lambda__pool *pool, int sig_fd, int started)
{
    int stopped = 0, term = 0;
    while (stopped < started) {
        struct pollfd pfd;
        char ch;
        ssize_t n;
        pfd.fd = sig_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        /* poll, then read: a blocking read that only the handler can end would also hold up
           the handler itself under tools that defer signals to safe points (TSan) */
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        n = read(sig_fd, &ch, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* cannot happen; pthread_join still waits for every worker */
        if (ch == 'T' && !term) {
            term = 1;
            lambda__drain(pool);
        } else if (ch == 'W') {
            stopped++;
        }
    }
    return term;
}

/* n workers, each with its own connection and buffers and a copy of the settings; JSON
   logs; no _X_AMZN_TRACE_ID (ctx->trace_id is per invocation). Returns when all have
   stopped: 0, or the first fatal error. */
LAMBDA__PRIVATE int lambda__serve_pool(lambda__rt *main_rt, int n)
{
    lambda__pool pool;
    pthread_t *tids;
    int i, started = 0, rc, term;
    memset(&pool, 0, sizeof pool);
    pool.notify_fd = main_rt->sig_wfd;
    pool.workers = (lambda__rt *)LAMBDA_MALLOC(sizeof(lambda__rt) * (size_t)n);
    tids = (pthread_t *)LAMBDA_MALLOC(sizeof(pthread_t) * (size_t)n);
    if (pool.workers == NULL || tids == NULL) {
        LAMBDA_FREE(pool.workers);
        LAMBDA_FREE(tids);
        lambda__log(&main_rt->log, LAMBDA_LOG_ERROR, "out of memory starting %d workers", n);
        return LAMBDA_E_NOMEM;
    }
    pthread_mutex_init(&pool.mu, NULL);
    pthread_mutex_init(&pool.out_mu, NULL);
    pool.n = n;
    main_rt->log.json = main_rt->ctx.log_json = 1; /* Managed Instances: JSON logs only */
    for (i = 0; i < n; i++) {
        lambda__rt *w = &pool.workers[i];
        lambda__rt_init(w, &main_rt->cfg);
        w->log.json = 1;
        w->conn.addr = main_rt->conn.addr;
        w->conn.addr_len = main_rt->conn.addr_len;
        memcpy(w->conn.host, main_rt->conn.host, sizeof w->conn.host);
        w->conn.pool = &pool;
        w->ctx = main_rt->ctx;
        w->ctx.worker = i;
        w->trace_env = 0; /* SIGTERM: lambda__watch_pool, in this thread */
    }
    for (i = 0; i < n; i++) {
        if (pthread_create(&tids[i], NULL, lambda__worker, &pool.workers[i]) != 0) {
            lambda__log(&main_rt->log, LAMBDA_LOG_ERROR,
                        "pthread_create: worker %d of %d not started", i, n);
            break;
        }
        started++;
    }
    pthread_mutex_lock(&pool.mu);
    pool.n = n;
    if (started == 0) {
        pool.stop = 1;
        pool.rc = LAMBDA_E_NOMEM;
    }
    pthread_mutex_unlock(&pool.mu);
    term = main_rt->sig_fd >= 0 && lambda__watch_pool(&pool, main_rt->sig_fd, started);
    for (i = 0; i < started; i++) pthread_join(tids[i], NULL);
    rc = term && pool.stop == 2 ? LAMBDA__SHUTDOWN : pool.rc;
    for (i = 0; i < n; i++) lambda__rt_free(&pool.workers[i]);
    pthread_mutex_destroy(&pool.mu);
    pthread_mutex_destroy(&pool.out_mu);
    LAMBDA_FREE(pool.workers);
    LAMBDA_FREE(tids);
    return rc;
}
#endif

/* >>entry: lambda_run, lambda_start */

LAMBDA_API int lambda_run(const lambda_config *cfg)
{
    lambda__rt rt;
    const char *api;
    int rc = 0, workers;
    if (cfg == NULL) return LAMBDA_E_CONFIG;
    lambda__rt_init(&rt, cfg);
    lambda__stdout_setup();
    api = lambda__getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == NULL || *api == '\0') {
        lambda__log(&rt.log, LAMBDA_LOG_ERROR,
                    "AWS_LAMBDA_RUNTIME_API is not set: run this bootstrap on Lambda "
                    "(provided.al2023) or under a Runtime API emulator");
        return LAMBDA_E_ENV;
    }
    if (lambda__resolve(&rt.conn, api) != 0) {
        lambda__log(&rt.log, LAMBDA_LOG_ERROR, "AWS_LAMBDA_RUNTIME_API=\"%.*s\" is not host:port",
                    200, api);
        return LAMBDA_E_ENV;
    }
    rt.ctx.function_name = lambda__env("AWS_LAMBDA_FUNCTION_NAME");
    rt.ctx.function_version = lambda__env("AWS_LAMBDA_FUNCTION_VERSION");
    rt.ctx.log_group_name = lambda__env("AWS_LAMBDA_LOG_GROUP_NAME");
    rt.ctx.log_stream_name = lambda__env("AWS_LAMBDA_LOG_STREAM_NAME");
    rt.ctx.memory_limit_mb = lambda__env_int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if (cfg->on_shutdown != NULL && cfg->lambda__shutdown_setup == NULL)
        lambda__log(&rt.log, LAMBDA_LOG_WARN,
                    "lambda_config.on_shutdown ignored: set it with lambda_on_shutdown()");
    else if (cfg->on_shutdown != NULL && cfg->handler != NULL &&
             cfg->lambda__shutdown_setup(&rt) != 0)
        lambda__log(&rt.log, LAMBDA_LOG_WARN,
                    "could not register for SIGTERM; on_shutdown will not run");
    if (cfg->handler == NULL) {
        lambda__fail(&rt.res, "Runtime.ConfigInvalid", "lambda_config.handler is NULL");
        rc = LAMBDA_E_CONFIG;
    } else if (cfg->init != NULL && cfg->init(cfg->user, &rt.res) != 0) {
        if (!rt.res.failed) lambda__fail(&rt.res, "Runtime.InitError", "init hook failed");
        rc = LAMBDA_E_INIT;
    } else if (rt.res.failed) {
        rc = LAMBDA_E_INIT;
    }
    if (rc) {
        const char *text = rt.res.error_text.ptr;
        lambda__log(&rt.log, LAMBDA_LOG_ERROR, "init failed: %s: %s",
                    text ? text : "Runtime.Unknown", text ? text + rt.res.error_type_len + 1 : "");
        (void)lambda__post_error(&rt, 1);
        lambda__rt_free(&rt);
        return rc;
    }
    workers = lambda__env_int("AWS_LAMBDA_MAX_CONCURRENCY");
    if (workers > 1) {
#ifdef LAMBDA_THREADS
        rc = lambda__serve_pool(&rt, workers);
        goto done;
#else
        lambda__log(&rt.log, LAMBDA_LOG_WARN,
                    "AWS_LAMBDA_MAX_CONCURRENCY=%d but built without LAMBDA_THREADS: "
                    "serving one invocation at a time",
                    workers);
#endif
    }
    rc = lambda__serve(&rt);
#ifdef LAMBDA_THREADS
done:
#endif
    if (rc == LAMBDA__SHUTDOWN) { /* SIGTERM: the sandbox is going away */
        rt.cfg.on_shutdown(rt.cfg.user);
        rc = 0;
    }
    lambda__rt_free(&rt);
    return rc;
}

LAMBDA_API int lambda_start(lambda_handler handler)
{
    lambda_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.handler = handler;
    return lambda_run(&cfg) == 0 ? 0 : 1;
}

/* >>cleanup: nothing private leaks into the including file */
#undef LAMBDA__PAGES
#undef LAMBDA__MSG_NOSIGNAL
#undef LAMBDA__SOCK_CLOEXEC
#undef LAMBDA__MAP_ANON
#undef LAMBDA__PRIVATE
#undef LAMBDA__INLINE
#undef LAMBDA__MIN
#undef LAMBDA__DEF
#undef LAMBDA__TICKS
#undef LAMBDA__MOMENT
#ifdef lambda__ticks
#undef lambda__ticks
#endif
#undef LAMBDA__LIT
#undef LAMBDA__NO_LIMIT
#undef LAMBDA__MAX_API_BODY
#undef LAMBDA__IN_BITS
#undef LAMBDA__HEADER_NAMES
#undef LAMBDA__HN_STR
#undef LAMBDA__HN_LEN
#undef LAMBDA__JW_COMMA
#undef LAMBDA__JW_KEY
#undef LAMBDA__JW_DONE
#undef LAMBDA__JSON_DIGITS
#undef LAMBDA__JSON_SIMD
#undef LAMBDA__JS_V
#undef LAMBDA__JS_V0
#undef LAMBDA__JS_K
#undef LAMBDA__JS_K0
#undef LAMBDA__JS_C
#undef LAMBDA__JS_A
#undef LAMBDA__JSON_STAGE1
#undef LAMBDA__ENV_ALLOC
#undef LAMBDA__ENV_FREE
#undef LAMBDA__PUBLISH
#undef LAMBDA__SCRATCH_MIN
#undef LAMBDA__ALIGN16
#undef LAMBDA__EMF_METRICS
#undef LAMBDA__EMF_VALUES
#undef LAMBDA__EMF_DIMS
#undef LAMBDA__EMF_DOC_BYTES
#undef LAMBDA__XRAY_MAX
#undef LAMBDA__TEL_CLIENTS
#undef LAMBDA__TEL_MAX_BODY
#endif /* LAMBDA_RUNTIME_IMPL */

/* >>history
   0.3.1  2026-12-01  lambda_json_write_double: g(k), the 127-bit scale factor for 10^-k, is
                      a base at or below 10^-k (one every 16 powers, 191 bits, floored)
                      times 5^r, shifted back and rounded up (lambda__jw_pow10): 39 x 24 +
                      16 x 8 = 1,064 bytes of tables instead of 617 x 16 = 9,872;
                      tools/json_pow10.py checks every k while it prints them, test_json
                      recomputes every g(k) with its own big integers. examples/metrics
                      70,768 -> 61,688 B, telemetry 72,272 -> 63,728 B; 20,000 doubles
                      50 -> 55 ns each (make bench-json: 7.0x snprintf with glibc,
                      5.2-5.3x static musl; 7.7x and 5.8x before).
                      lambda_json_write_raw's failure names a depth or UTF-8 cause; found by
                      the fuzz_json_roundtrip campaign: at a writer depth of 512 a raw
                      text that is both malformed and too deep fails with LAMBDA_E_DEPTH
                      (the limit is met before the syntax error), which the target's
                      oracle did not allow for (the oracle was wrong, the header right).
                      Makefile: FUZZ_FLAGS with -fno-sanitize-recover=all (a UBSan report
                      used to be printed and the run went on), each run prints its
                      executions, FUZZ_FAST=1 (-O2, no trace-cmp) for long campaigns.
                      make arm64 runs fuzz_json and fuzz_http_event without libFuzzer
                      (tests/fuzz_replay.c: corpus + 200,000 mutations) on the NEON
                      scanner under qemu. fuzz_diff_http: D_CONN_MATCH (http-parser misses
                      a Connection option after some commas; the runtime reads every one,
                      RFC 9110 5.6.1). Campaigns: every fuzz target past 10^8 executions
                      in all (tests/FUZZ_DIFF.md).
   0.3.0  2026-12-01  Errors that name their cause: when a handler returns a LAMBDA_E_* code
                      (or any number) without lambda_error, the Runtime.HandlerFailed
                      message says what the code means (lambda_strerror) and which public
                      call on the response failed first and why (every JSON writer failure
                      site, the lambda_http_* answer calls); a handler that returns 0
                      after such a failure gets its response sent and one warning line;
                      lambda_json_writer_error(w, &call, &why) for any writer; the text of
                      LAMBDA_E_STATE covers the HTTP answers, and lambda_strerror of a
                      number that is no code says so. Observability (>>metrics, >>xray,
                      >>metadata, >>telemetry): EMF metrics (lambda_metric, dimensions,
                      lambda_metric_namespace, lambda_metrics_flush; one JSON line per
                      document after the handler, split at the spec's limits), typed log
                      fields (lambda_log_fields: JSON members or key=value), X-Ray error
                      causes (lambda_xray_error_cause), lambda_availability_zone_id (the
                      metadata endpoint, cached), and a Telemetry API client for
                      extensions (lambda_telemetry_subscribe: an HTTP/1.1 listener served
                      while lambda_extension_next waits, events to a callback). JSON: a
                      structural scanner 64 bytes at a time (SSE2, AVX2 by cpuid, NEON)
                      for validation and for look-ups that skip, the same results and
                      error offsets as the byte-at-a-time one (left out of -Os builds
                      unless LAMBDA_JSON_SIMD; LAMBDA_JSON_SCALAR leaves it out of any);
                      every value the reader returns carries a seal (a private member of
                      lambda_json, a hash of where it is, its length, type and ends) that
                      lets lambda_json_find and iterations from it skim the bytes already
                      checked instead of checking them again, with the same answers and
                      errors (a value changed or made by hand is checked as before; one
                      whose document was rewritten under it gives unspecified answers,
                      never a read outside it); strings unescaped 16 bytes at a time;
                      lambda_json_write_double writes the shortest decimal that reads back
                      (Schubfach) with no snprintf or strtod, and integers without division.
                      make fuzz-diff: the response reader against http-parser, the JSON
                      reader against simdjson, the decoders against references
                      (tests/FUZZ_DIFF.md). The runtime: no poll before
                      the POST of a handler that returned at once (a cycle counter says
                      so; a stream still checks): 4 system calls per warm invocation;
                      response heads parsed eight bytes at a time, an own getenv, raw
                      sendmsg on Linux x86_64/arm64, one copy per request piece: about
                      12,000 instructions per invocation, from 25,000; lambda_strerror
                      without a table of pointers. Head parsing: spaces left by a leading
                      obs-fold or control byte are trimmed from a value (RFC 9110 5.5), a
                      close option wins over a later Connection: keep-alive (RFC 9112
                      9.6), a field name that only starts with Transfer-Encoding is
                      another field.
   0.2.0  2026-12-01  lambda_json_get_string and lambda_json_get_int64: look a value up and
                      convert it in one call, with absent (LAMBDA_E_NOT_FOUND), wrong type
                      (LAMBDA_E_TYPE) and too long (LAMBDA_E_SPACE) told apart. The
                      implementation is re-filed by concept (core, json, log, http, conn,
                      invoke, stream, extension, shutdown, threads, entry; see the map in
                      the doc block); the private fallbacks for MSG_NOSIGNAL, SOCK_CLOEXEC
                      and MAP_ANONYMOUS no longer define those names in the including file,
                      and every private macro is #undef'd at the end. The private member
                      lambda_config.shutdown_setup_ is now lambda__shutdown_setup and the
                      unused enumerator LAMBDA_E_LAST_ is gone (neither was for users).
                      Fixes: _X_AMZN_TRACE_ID is rewritten each invocation (user setenv,
                      unsetenv or clearenv no longer leave it stale or missing) from two
                      alternating buffers (a concurrent getenv never sees half of one id);
                      lambda_on_shutdown catches SIGTERM with a handler and a pipe instead
                      of blocking it (children no longer start with SIGTERM blocked, a
                      thread of the program's own no longer lets SIGTERM kill the process)
                      and, with workers, the thread of lambda_run drains them all (busy
                      ones finish and post, then the hook runs once); the Host header is
                      host:port even for AWS_LAMBDA_RUNTIME_API=http://host:port/; request
                      ids keep $&+,:;=@ unescaped, as Go does, so a Go router sees the id
                      it sent; bytes appended before lambda_stream_begin go out first
                      (they were dropped) and a failing begin leaves the response as it
                      was; a bare LF anywhere in a head, a control byte in Content-Length
                      or Transfer-Encoding and a trailer without a colon are errors (they
                      were read as spaces or accepted), obs-fold is unfolded, HTTP/1.2-1.9
                      read as 1.1, HTTP/1.0 with chunked is never reused; a 413 that the
                      server sends before cutting a large body off is read, not fatal.
                      HTTP events (>>http-api): one request model over API Gateway REST
                      (payload 1.0), HTTP API (2.0), function URLs and ALB (detected from
                      the event; path, query, headers, cookies, parameters, stage, source
                      IP and body decoded as each source needs: ALB leaves the query
                      percent-encoded, an HTTP API's named stage prefixes the path), one
                      answer model written in each source's shape (2.0 cookies, REST
                      multiValueHeaders, ALB statusDescription and multi-value headers),
                      text or binary bodies written in pieces or with a JSON writer straight
                      into the body, a router ({name}, {name+}, 404, 405 with Allow),
                      lambda_http_serve; partial batch failure answers for SQS, Kinesis and
                      DynamoDB Streams; lambda_s3_key; lambda_scratch, per-invocation memory
                      in reused blocks, freed with the runtime (one per worker), and
                      lambda_json_string_scratch; public base64, percent-decoding and UTF-8
                      validation; lambda_json_writer_init_buf (a writer into any buffer);
                      JSON paths take quoted keys, ["CodePipeline.job"] (one step parser for
                      the syntax check and the walk: hello 64 bytes smaller). Fix: the JSON
                      string escaper wrote past its 256-byte stack buffer when a plain run
                      followed escapes that left it just over its flush mark (38 control
                      characters, then 16 plain ones, in a string a handler echoes; found by
                      the new fuzz target).
   0.1.0  2026-11-27  First release: Runtime API client (keep-alive HTTP/1.1, Content-Length
                      and chunked bodies, reconnect), handler context, response object,
                      error and init-error reporting, trace ids, invocation-id echo, tenant
                      id, allocator hooks (default: pages from mmap, no malloc); JSON
                      scanner and writer; lambda_log (text and JSON); response streaming
                      and the HTTP integration prelude; Extensions API client; shutdown
                      hook; LAMBDA_THREADS workers.

   >>license
   MIT License

   Copyright (c) 2026 the lambda_runtime.h authors

   Permission is hereby granted, free of charge, to any person obtaining a copy of this
   software and associated documentation files (the "Software"), to deal in the Software
   without restriction, including without limitation the rights to use, copy, modify,
   merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
   permit persons to whom the Software is furnished to do so, subject to the following
   conditions:

   The above copyright notice and this permission notice shall be included in all copies
   or substantial portions of the Software.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
   PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
   HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
   CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE
   OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/
