/* stream: a function URL handler that streams its answer (response streaming).

     GET https://<url-id>.lambda-url.<region>.on.aws/?name=Ada
       -> 200 text/html, written in five pieces 200 ms apart; the browser shows each
          line as it arrives.

   Needs a function URL with InvokeMode RESPONSE_STREAM (or InvokeWithResponseStream);
   a buffered invoke still works but delivers the whole page at the end.
   lambda_stream_http_begin sends the status, headers and cookies (the "prelude"), then
   every lambda_stream_write goes out at once as one piece of the body. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void pause_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Copies `in` into out (cap bytes) with & < > " ' escaped for HTML. */
static void html_escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in; in++) {
        const char *rep = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;"
                        : *in == '"' ? "&quot;" : *in == '\'' ? "&#39;" : NULL;
        size_t len = rep ? strlen(rep) : 1;
        if (n + len >= cap) break;
        memcpy(out + n, rep ? rep : in, len);
        n += len;
    }
    out[n] = '\0';
}

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    static const char *const headers[] = {"content-type", "text/html; charset=utf-8", NULL};
    char name[128], safe[640], piece[1024];
    lambda_json v;
    int i, rc;
    (void)ctx;
    /* payload format 2.0: ?name=... arrives in queryStringParameters */
    if (lambda_json_get(event, "queryStringParameters.name", &v) != 0 ||
        lambda_json_string(v, name, sizeof name, NULL) != 0 || name[0] == '\0')
        strcpy(name, "world");
    html_escape(name, safe, sizeof safe);

    rc = lambda_stream_http_begin(res, 200, headers, NULL);
    for (i = 1; rc == 0 && i <= 5; i++) {
        if (i == 1)
            snprintf(piece, sizeof piece, "<!doctype html>\n<title>stream</title>\n<h1>Hello, %s</h1>\n", safe);
        else
            piece[0] = '\0';
        snprintf(piece + strlen(piece), sizeof piece - strlen(piece), "<p>piece %d of 5</p>\n", i);
        if (i > 1) pause_ms(200);
        rc = lambda_stream_write(res, piece, strlen(piece));
    }
    if (rc != 0) /* LAMBDA_E_IO: the platform is gone, stop writing */
        return lambda_error(res, "Stream.WriteFailed", "%s", lambda_strerror(rc));
    return 0;
}

int main(void)
{
    return lambda_start(handler);
}
