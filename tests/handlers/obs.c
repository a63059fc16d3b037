/* obs.c - the test bootstrap for tests/test_obs.c: EMF metrics, structured log fields, the
   X-Ray error cause and the metadata endpoint. Uses only the public API of lambda_runtime.h.
   Built like the examples and with ASan+UBSan.

   The event body is a command; the answer says what the calls returned:
     emf:basic          namespace "Test/Obs", dimensions FunctionName (ctx) and Stage=prod,
                        Invocations 1 Count, Bytes 1234 Bytes, Latency 12.5 and 9.75
                        Milliseconds; body "ok"
     emf:many:<m>:<v>   m metrics "m<i>" (Count), each with v values i*1000+j; body "rc=<first
                        non-zero rc or 0>"
     emf:dims:<n>       dimensions d0..d<n-1> = v0..; one metric x; body "rc=<each rc>,..."
     emf:bad            invalid calls, then valid ones; body "rc=<each rc>,..."
     emf:flush          a=1, lambda_metrics_flush, b=2; body "rc=<flush rc>"
     emf:none           nothing recorded; body "ok"
     emf:print          printf("before\n"), a metric, printf("after\n"); body "ok"
     emf:stream         lambda_stream_begin, write "s", a metric
     emf:fail           a metric, then lambda_error_str("Test.Failed", "it failed")
     log:fields[:<k>]   lambda_log_fields with every kind of field (see the test), message
                        "fields"; with <k>, only the first k fields
     log:long:<n>       one field "big" of n bytes 'b', message of n bytes 'm'
     log:many           70 fields f0..f69 = 0..69
     fail:<type>:<msg>  lambda_error_str(type, msg)
     failbig:<n>        lambda_error of an n-byte message, '\u00e9' (2 bytes) repeated
     az                 body "<az>|<az>": lambda_availability_zone_id twice
     sleep:<ms>         sleep, body "ok"
     lines:<n>:<len>    n lines of len bytes ('a'..'z') on stdout, then "err line" on stderr;
                        body "ok"
   Environment: OBS_XRAY=1 calls lambda_xray_error_cause; OBS_INIT_METRIC=1 records metric
   "Init" = 1 in an init hook.

   EXTENSION MODE (OBS_EXT=relay and no arguments; a runtime started by lambda-emu with the
   same environment gets an argument): registers for SHUTDOWN under its file name, then sends
   PUT /2022-07-01/telemetry itself (raw HTTP) with OBS_TEL_BODY, and, when OBS_TEL_BAD is set,
   that body first; prints "subscribe status=<status>" for each on stdout, then waits for
   SHUTDOWN and exits 0. The batches go to whatever port the body names (the test's own
   listener). */
#define LAMBDA_RUNTIME_IMPL
#include "../../lambda_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

static char out[1 << 16];
static size_t olen;

static void put_rc(int rc)
{
    olen += (size_t)snprintf(out + olen, sizeof out - olen, "%s%d", olen > 3 ? "," : "", rc);
}

static int answer(lambda_response *res)
{
    return lambda_response_append(res, out, olen);
}

static int cmd_bad(lambda_response *res)
{
    static const char big_ns[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
                                 "0123456789012345678901234567890123456789012345678901234567890123456789"
                                 "0123456789012345678901234567890123456789012345678901234567890123456789"
                                 "01234567890123456789012345678901234567890123456789";
    double zero = 0.0;
    put_rc(lambda_metric(res, "", 1, LAMBDA_UNIT_COUNT));                 /* 0: empty */
    put_rc(lambda_metric(res, "a\tb", 1, LAMBDA_UNIT_COUNT));              /* 1: control */
    put_rc(lambda_metric(res, "_aws", 1, LAMBDA_UNIT_COUNT));              /* 2: _aws */
    put_rc(lambda_metric(res, "u", 1, 99));                                /* 3: unit */
    put_rc(lambda_metric(res, "nan", zero / zero, LAMBDA_UNIT_COUNT));     /* 4: NaN */
    put_rc(lambda_metric(res, "inf", 1.0 / zero, LAMBDA_UNIT_COUNT));      /* 5: inf */
    put_rc(lambda_metric(res, "   ", 1, LAMBDA_UNIT_COUNT));               /* 6: spaces */
    put_rc(lambda_metric(res, "ok1", 1, LAMBDA_UNIT_COUNT));               /* 7: fine */
    put_rc(lambda_metric(res, "ok1", 2, LAMBDA_UNIT_BYTES));               /* 8: other unit */
    put_rc(lambda_metric_dimension(res, ":x", "v"));                       /* 9 */
    put_rc(lambda_metric_dimension(res, "d", "caf\xc3\xa9"));              /* 10: non-ASCII */
    put_rc(lambda_metric_dimension(res, "d", ""));                         /* 11: empty */
    put_rc(lambda_metric_dimension(res, "_aws", "v"));                     /* 12 */
    put_rc(lambda_metric_dimension(res, "ok1", "v"));                      /* 13: a metric's name */
    put_rc(lambda_metric_namespace(res, "bad ns"));                        /* 14 */
    put_rc(lambda_metric_namespace(res, big_ns));                          /* 15: 260 bytes */
    put_rc(lambda_metric_dimension(res, "Dim \"q\"", "v \\ \"w\""));       /* 16: fine */
    put_rc(lambda_metric(res, "Dim \"q\"", 1, LAMBDA_UNIT_COUNT));         /* 17: a dim's name */
    put_rc(lambda_metric(res, "caf\xc3\xa9 \xe2\x80\xa8", -0.5, LAMBDA_UNIT_PERCENT)); /* 18 */
    put_rc(lambda_metric(res, "bad\xff", 1, LAMBDA_UNIT_COUNT));           /* 19: bad UTF-8 */
    put_rc(lambda_metric_namespace(res, "A-z_0.9#:/x"));                   /* 20: fine */
    put_rc(lambda_metric_dimension(res, "Dim \"q\"", "replaced"));         /* 21: replaces */
    put_rc(lambda_metric(NULL, "x", 1, LAMBDA_UNIT_COUNT));                /* 22 */
    put_rc(lambda_metric(res, NULL, 1, LAMBDA_UNIT_COUNT));                /* 23 */
    return answer(res);
}

static int cmd_fields(const lambda_context *ctx, size_t k)
{
    lambda_log_field f[16];
    size_t n = 0;
    f[n++] = lambda_field_str("bucket", "my-bucket");
    f[n++] = lambda_field_str("key", "a b/\"c\".txt");
    f[n++] = lambda_field_int("size", 1024);
    f[n++] = lambda_field_int("neg", INT64_MIN);
    f[n++] = lambda_field_double("ratio", 0.1);
    f[n++] = lambda_field_double("big", 1e300);
    f[n++] = lambda_field_double("nan", 0.0 / (ctx->memory_limit_mb < 0 ? 1.0 : 0.0));
    f[n++] = lambda_field_bool("ok", 7);
    f[n++] = lambda_field_bool("no", 0);
    f[n++] = lambda_field_str("nul", NULL);
    f[n++] = lambda_field_str("empty", "");
    f[n++] = lambda_field_str("message", "not the message");
    f[n++] = lambda_field_str("k e=y\"", "line1\nline2\ttab \xe2\x80\xa8 caf\xc3\xa9 \xff");
    f[n++] = lambda_field_strn("bin", "a\0b", 3);
    f[n++] = lambda_field_str(NULL, "skipped");
    f[n++] = lambda_field_double("inf", -1.0 / (ctx->memory_limit_mb < 0 ? 1.0 : 0.0));
    lambda_log_fields(ctx, LAMBDA_LOG_INFO, f, k ? k : n, "fields");
    return 0;
}

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    const char *e = event.ptr;
    olen = 0;
    out[0] = '\0';
    olen = (size_t)snprintf(out, sizeof out, "rc=");
    if (strcmp(e, "emf:basic") == 0) {
        lambda_metric_namespace(res, "Test/Obs");
        lambda_metric_dimension(res, "FunctionName", ctx->function_name);
        lambda_metric_dimension(res, "Stage", "prod");
        lambda_metric(res, "Invocations", 1, LAMBDA_UNIT_COUNT);
        lambda_metric(res, "Bytes", 1234, LAMBDA_UNIT_BYTES);
        lambda_metric(res, "Latency", 12.5, LAMBDA_UNIT_MILLISECONDS);
        lambda_metric(res, "Latency", 9.75, LAMBDA_UNIT_MILLISECONDS);
        return lambda_response_append(res, "ok", 2);
    }
    if (strncmp(e, "emf:many:", 9) == 0) {
        int m = atoi(e + 9), v = atoi(strchr(e + 9, ':') + 1), i, j, rc = 0;
        char name[32];
        for (i = 0; i < m; i++)
            for (j = 0; j < v; j++) {
                int r;
                snprintf(name, sizeof name, "m%d", i);
                r = lambda_metric(res, name, (double)(i * 1000 + j), LAMBDA_UNIT_COUNT);
                if (r && !rc) rc = r;
            }
        put_rc(rc);
        return answer(res);
    }
    if (strncmp(e, "emf:dims:", 9) == 0) {
        int n = atoi(e + 9), i;
        char name[32], value[32];
        for (i = 0; i < n; i++) {
            snprintf(name, sizeof name, "d%d", i);
            snprintf(value, sizeof value, "v%d", i);
            put_rc(lambda_metric_dimension(res, name, value));
        }
        lambda_metric(res, "x", 1, LAMBDA_UNIT_NONE);
        return answer(res);
    }
    if (strcmp(e, "emf:bad") == 0) return cmd_bad(res);
    if (strcmp(e, "emf:flush") == 0) {
        lambda_metric(res, "a", 1, LAMBDA_UNIT_COUNT);
        put_rc(lambda_metrics_flush(res));
        lambda_metric(res, "b", 2, LAMBDA_UNIT_COUNT);
        return answer(res);
    }
    if (strcmp(e, "emf:none") == 0) return lambda_response_append(res, "ok", 2);
    if (strcmp(e, "emf:print") == 0) {
        printf("before\n");
        lambda_metric(res, "p", 1, LAMBDA_UNIT_COUNT);
        printf("after\n");
        return lambda_response_append(res, "ok", 2);
    }
    if (strcmp(e, "emf:stream") == 0) {
        if (lambda_stream_begin(res, "text/plain") != 0) return 1;
        lambda_stream_write(res, "s", 1);
        lambda_metric(res, "streamed", 1, LAMBDA_UNIT_COUNT);
        return 0;
    }
    if (strcmp(e, "emf:fail") == 0) {
        lambda_metric(res, "failed", 1, LAMBDA_UNIT_COUNT);
        return lambda_error_str(res, "Test.Failed", "it failed");
    }
    if (strncmp(e, "log:fields", 10) == 0) {
        cmd_fields(ctx, e[10] == ':' ? (size_t)atoi(e + 11) : 0);
        return lambda_response_append(res, "ok", 2);
    }
    if (strncmp(e, "log:long:", 9) == 0) {
        size_t n = (size_t)atoi(e + 9);
        char *b = (char *)malloc(n + 1), *mm = (char *)malloc(n + 1);
        lambda_log_field f[1];
        memset(b, 'b', n);
        b[n] = 0;
        memset(mm, 'm', n);
        mm[n] = 0;
        f[0] = lambda_field_str("big", b);
        lambda_log_fields(ctx, LAMBDA_LOG_INFO, f, 1, "%s", mm);
        free(b);
        free(mm);
        return lambda_response_append(res, "ok", 2);
    }
    if (strcmp(e, "log:many") == 0) {
        lambda_log_field f[70];
        char names[70][16];
        int i;
        for (i = 0; i < 70; i++) {
            snprintf(names[i], sizeof names[i], "f%d", i);
            f[i] = lambda_field_int(names[i], i);
        }
        lambda_log_fields(ctx, LAMBDA_LOG_WARN, f, 70, "many");
        return lambda_response_append(res, "ok", 2);
    }
    if (strncmp(e, "fail:", 5) == 0) {
        char type[256];
        const char *colon = strchr(e + 5, ':');
        size_t tl = colon ? (size_t)(colon - (e + 5)) : strlen(e + 5);
        if (tl >= sizeof type) tl = sizeof type - 1;
        memcpy(type, e + 5, tl);
        type[tl] = 0;
        return lambda_error_str(res, type, colon ? colon + 1 : "");
    }
    if (strncmp(e, "failbig:", 8) == 0) {
        size_t n = (size_t)atoi(e + 8), i;
        char *m = (char *)malloc(n + 1);
        int rc;
        for (i = 0; i + 1 < n; i += 2) {
            m[i] = '\xc3';
            m[i + 1] = '\xa9';
        }
        m[i] = 0;
        rc = lambda_error_str(res, "Test.Big", m);
        free(m);
        return rc;
    }
    if (strncmp(e, "sleep:", 6) == 0) {
        struct timespec ts;
        int ms = atoi(e + 6);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        return lambda_response_append(res, "ok", 2);
    }
    if (strncmp(e, "lines:", 6) == 0) {
        int n = atoi(e + 6), len = atoi(strchr(e + 6, ':') + 1), i, j;
        for (i = 0; i < n; i++) {
            for (j = 0; j < len; j++) putchar('a' + (i + j) % 26);
            putchar('\n');
        }
        fflush(stdout);
        fputs("err line\n", stderr);
        return lambda_response_append(res, "ok", 2);
    }
    if (strcmp(e, "az") == 0) {
        lambda_str a = lambda_availability_zone_id(ctx), b = lambda_availability_zone_id(ctx);
        lambda_response_append(res, a.ptr, a.len);
        lambda_response_append(res, "|", 1);
        return lambda_response_append(res, b.ptr, b.len);
    }
    return lambda_error_str(res, "Obs.UnknownCommand", e);
}

static int init(void *user, lambda_response *err)
{
    (void)user;
    if (getenv("OBS_INIT_METRIC")) lambda_metric(err, "Init", 1, LAMBDA_UNIT_COUNT);
    return 0;
}

/* PUT /2022-07-01/telemetry with `body`, raw: the status of the answer, or -1. */
static int raw_subscribe(const char *id, const char *body)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API"), *colon = api ? strrchr(api, ':') : NULL;
    struct sockaddr_in a;
    char req[8192], resp[4096];
    int fd, n, got = 0;
    if (!colon) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(colon + 1));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    n = snprintf(req, sizeof req,
                 "PUT /2022-07-01/telemetry HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\n"
                 "Content-Type: application/json\r\nContent-Length: %lu\r\nConnection: close\r\n\r\n%s",
                 api, id, (unsigned long)strlen(body), body);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r = read(fd, resp + got, sizeof resp - 1 - (size_t)got);
        if (r <= 0) break;
        got += (int)r;
        resp[got] = 0;
        if (strstr(resp, "\r\n\r\n")) break;
    }
    close(fd);
    return got > 12 && strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : -1;
}

static int relay(void)
{
    lambda_extension *ext;
    lambda_extension_event ev;
    const char *body = getenv("OBS_TEL_BODY");
    if (lambda_extension_register(&ext, "bootstrap", LAMBDA_EXTENSION_SHUTDOWN) != 0) return 3;
    if (getenv("OBS_TEL_BAD")) printf("subscribe status=%d\n", raw_subscribe(lambda_extension_id(ext), getenv("OBS_TEL_BAD")));
    printf("subscribe status=%d\n", raw_subscribe(lambda_extension_id(ext), body ? body : "{}"));
    fflush(stdout);
    while (lambda_extension_next(ext, &ev) == 0 && ev.type != LAMBDA_EXTENSION_SHUTDOWN) {}
    lambda_extension_free(ext);
    return 0;
}

int main(int argc, char **argv)
{
    lambda_config cfg = {0};
    (void)argv;
    if (argc == 1 && getenv("OBS_EXT")) return relay();
    cfg.handler = handler;
    cfg.init = init;
    if (getenv("OBS_XRAY")) lambda_xray_error_cause(&cfg);
    return lambda_run(&cfg) == 0 ? 0 : 1;
}
