/* apigw: an API Gateway HTTP API (payload format 2.0) or function URL handler.

     GET  /hello?name=Ada  -> 200 text/plain  "Hello, Ada!"
     POST /echo            -> 200, the request body back (base64 stays base64)
     anything else         -> 404 text/plain "no route for <METHOD> <path>"

   It reads requestContext.http.method, rawPath, queryStringParameters and body from the
   event, and answers {"statusCode":..,"headers":{..},"body":"..","isBase64Encoded":..}. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

/* Starts the response document, up to and including the "body" key. */
static void reply_begin(lambda_json_writer *w, lambda_response *res, int status, const char *content_type)
{
    lambda_json_writer_init(w, res);
    lambda_json_write_begin_object(w);
    lambda_json_write_ckey(w, "statusCode");
    lambda_json_write_int64(w, status);
    lambda_json_write_ckey(w, "headers");
    lambda_json_write_begin_object(w);
    lambda_json_write_ckey(w, "content-type");
    lambda_json_write_cstring(w, content_type);
    lambda_json_write_end_object(w);
    lambda_json_write_ckey(w, "body");
}

static int reply_end(lambda_json_writer *w, int base64)
{
    lambda_json_write_ckey(w, "isBase64Encoded");
    lambda_json_write_bool(w, base64);
    lambda_json_write_end_object(w);
    return lambda_json_writer_finish(w);
}

/* The string at `path`, unescaped into buf; "" when absent. Non-zero when it is there but
   unusable (not a string, too long, bad JSON). */
static int get_string(lambda_str event, const char *path, char *buf, size_t cap)
{
    int rc = lambda_json_get_string(event, path, buf, cap, NULL);
    return rc == LAMBDA_E_NOT_FOUND ? 0 : rc;
}

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    char method[16], path[1024], name[256], text[1200];
    lambda_json_writer w;
    lambda_json body, flag;
    int base64 = 0;
    (void)ctx;
    if (lambda_json_validate(event, NULL, NULL) != 0)
        return lambda_error(res, "InvalidEvent", "the event is not valid JSON");
    if (get_string(event, "requestContext.http.method", method, sizeof method) != 0 ||
        get_string(event, "rawPath", path, sizeof path) != 0 || method[0] == '\0')
        return lambda_error(res, "InvalidEvent", "not an HTTP API (payload 2.0) event");

    if (strcmp(method, "GET") == 0 && strcmp(path, "/hello") == 0) {
        if (get_string(event, "queryStringParameters.name", name, sizeof name) != 0 || name[0] == '\0')
            strcpy(name, "stranger");
        snprintf(text, sizeof text, "Hello, %s!", name);
        reply_begin(&w, res, 200, "text/plain; charset=utf-8");
        lambda_json_write_cstring(&w, text);
        return reply_end(&w, 0);
    }
    if (strcmp(method, "POST") == 0 && strcmp(path, "/echo") == 0) {
        /* the body is passed through still escaped: no copy, any size */
        if (lambda_json_get(event, "body", &body) != 0 || body.type != LAMBDA_JSON_STRING) {
            body.ptr = "\"\"";
            body.len = 2;
        }
        if (lambda_json_get(event, "isBase64Encoded", &flag) == 0) lambda_json_bool(flag, &base64);
        if (get_string(event, "headers.content-type", text, sizeof text) != 0 || text[0] == '\0')
            strcpy(text, "application/octet-stream");
        reply_begin(&w, res, 200, text);
        lambda_json_write_raw(&w, body.ptr, body.len);
        return reply_end(&w, base64);
    }
    snprintf(text, sizeof text, "no route for %s %s", method, path);
    reply_begin(&w, res, 404, "text/plain; charset=utf-8");
    lambda_json_write_cstring(&w, text);
    return reply_end(&w, 0);
}

int main(void)
{
    return lambda_start(handler);
}
