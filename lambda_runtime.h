/* lambda_runtime.h - v0.1.0 - an AWS Lambda custom runtime for C, in one header.
   Linux only. Needs libc and POSIX sockets, nothing else. No warranty; license at the end.

   Do this in exactly ONE .c file (everywhere else, just #include it):

       #define LAMBDA_RUNTIME_IMPL
       #include "lambda_runtime.h"

   QUICK START

       #define LAMBDA_RUNTIME_IMPL
       #include "lambda_runtime.h"

       static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
       {
           lambda_json name;
           (void)ctx;
           if (lambda_json_get(event, "name", &name) != 0 || name.type != LAMBDA_JSON_STRING)
               return lambda_error(res, "InvalidEvent", "expected {\"name\": \"...\"}");
           lambda_response_append(res, "\"Hello, ", 8);
           lambda_response_append_json_inner(res, name);
           return lambda_response_append(res, "\"", 1);
       }

       int main(void) { return lambda_start(handler); }

   Build it fully static and name it bootstrap:

       musl-gcc -Os -static -o bootstrap main.c && strip bootstrap
       zip function.zip bootstrap      # runtime: provided.al2023, x86_64 or arm64

   (Placeholder doc block: the full manual follows below as the sections are written.)
*/
#ifndef LAMBDA_RUNTIME_H
#define LAMBDA_RUNTIME_H

/* >>version */
#define LAMBDA_RUNTIME_VERSION_MAJOR 0
#define LAMBDA_RUNTIME_VERSION_MINOR 1
#define LAMBDA_RUNTIME_VERSION_PATCH 0
#define LAMBDA_RUNTIME_VERSION "0.1.0"

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
    X(NOMEM,    -8,  "out of memory (LAMBDA_MALLOC/LAMBDA_REALLOC returned NULL)")    \
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
    X(STATE,    -19, "JSON writer misuse (value where a key is due, unbalanced end)")

typedef enum lambda_err {
#define LAMBDA_ERR_ENUM_(name, val, msg) LAMBDA_E_##name = val,
    LAMBDA_ERRORS(LAMBDA_ERR_ENUM_)
#undef LAMBDA_ERR_ENUM_
    LAMBDA_E_LAST_ = -20
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
    size_t max_event_size;           /* larger events fail the invocation (default: LAMBDA_DEFAULT_MAX_EVENT) */
    size_t max_response_size;        /* larger responses fail the invocation (default: LAMBDA_DEFAULT_MAX_RESPONSE) */
    unsigned long max_invocations;   /* stop after this many (default 0: run forever) */
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

/* Human-readable text for a LAMBDA_E_* code. Never NULL. */
LAMBDA_API const char *lambda_strerror(int err);

/* Milliseconds left before the invocation's deadline (may be negative). */
LAMBDA_API int64_t lambda_remaining_ms(const lambda_context *ctx);

/* Append bytes to the response body. Returns 0, LAMBDA_E_TOO_BIG (over
   max_response_size) or LAMBDA_E_NOMEM. Errors are sticky: after one, further appends
   fail and the invocation is reported as failed, so checking each call is optional. */
LAMBDA_API int lambda_response_append(lambda_response *res, const void *data, size_t len);
LAMBDA_API int lambda_response_printf(lambda_response *res, const char *fmt, ...) LAMBDA_PRINTF(2, 3);

/* Content-Type of the response (default "application/json"). Copied. Returns 0 or
   LAMBDA_E_ARG for a value with control bytes or longer than 255 bytes. */
LAMBDA_API int lambda_response_set_content_type(lambda_response *res, const char *content_type);

/* Drop the body written so far (content type and error state are kept). */
LAMBDA_API void lambda_response_clear(lambda_response *res);

/* Append `s` as a JSON string literal, quotes included, escaped. */
LAMBDA_API int lambda_response_append_json_string(lambda_response *res, const char *s, size_t len);

/* Fail the invocation: the runtime posts {"errorMessage", "errorType", "stackTrace":[]}
   to /error (or /init/error from an init hook). `error_type` is e.g. "InvalidEvent" or
   "Function.Timeout"; NULL means "Runtime.Unknown". Returns LAMBDA_E_HANDLER so that
   `return lambda_error(res, ...)` reads naturally. */
LAMBDA_API int lambda_error(lambda_response *res, const char *error_type, const char *fmt, ...) LAMBDA_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif
#endif /* LAMBDA_RUNTIME_H */
