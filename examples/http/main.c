/* http: one handler for API Gateway (REST and HTTP APIs), function URLs and ALB.

     GET  /hello?name=Ada  -> 200 text/plain "Hello, Ada!" ("stranger" without a name)
     POST /echo            -> 200, the request's body and content type back (binary stays binary)
     GET  /items/{id}      -> 200 application/json {"id":"<id>"}, and the cookie seen=<id>
     anything else         -> 404 (405 for a known path with another method)
   A non-HTTP event fails the invocation with InvalidEvent. Sample events: events/. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int hello(lambda_http_request *req)
{
    lambda_str name;
    int rc = lambda_http_query(req, "name", 0, &name);
    if (rc != 0 && rc != LAMBDA_E_NOT_FOUND) return rc; /* a bad %-escape, not UTF-8: 400 */
    if (name.len == 0) name.ptr = "stranger", name.len = 8;
    lambda_http_begin(req, 200, "text/plain; charset=utf-8");
    lambda_http_write(req, "Hello, ", 7);
    lambda_http_write(req, name.ptr, name.len);
    lambda_http_write(req, "!", 1);
    return lambda_http_end(req);
}

static int echo(lambda_http_request *req)
{
    lambda_str type;
    if (lambda_http_header(req, "content-type", 0, &type) != 0)
        type.ptr = "application/octet-stream";
    if (req->body_base64)
        return lambda_http_send_binary(req, 200, type.ptr, req->body.ptr, req->body.len);
    return lambda_http_send(req, 200, type.ptr, req->body.ptr, req->body.len);
}

static int item(lambda_http_request *req)
{
    lambda_json_writer w;
    lambda_str id;
    int rc;
    lambda_http_param(req, "id", &id);
    lambda_http_set_cookie(req, "seen", id.ptr, id.len, "Path=/");
    lambda_http_begin(req, 200, "application/json");
    lambda_http_body_writer(req, &w); /* the document goes straight into the body */
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "id");
    lambda_json_write_string(&w, id.ptr, id.len);
    lambda_json_write_end_object(&w);
    rc = lambda_json_writer_finish(&w);
    return rc ? rc : lambda_http_end(req);
}

static const lambda_http_route routes[] = {
    {"GET", "/hello", hello},
    {"POST", "/echo", echo},
    {"GET", "/items/{id}", item},
};

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    (void)ctx;
    return lambda_http_serve(event, res, routes, sizeof routes / sizeof routes[0]);
}

int main(void) { return lambda_start(handler); }
