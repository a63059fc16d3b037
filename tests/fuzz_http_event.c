/* libFuzzer target: the HTTP layer's request parser, look-ups, router and answers, and the
   decoders it is built from (base64, percent-decoding, UTF-8). The first byte picks what
   the rest of the input feeds; every answer must be valid JSON, every round trip exact. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static lambda__rt rt;
static int rt_ready;

static int noop(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    (void)ctx, (void)ev, (void)res;
    return 0;
}

static lambda_response *fresh(void)
{
    if (!rt_ready) {
        lambda_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.handler = noop;
        lambda__rt_init(&rt, &cfg);
        rt_ready = 1;
    }
    lambda__response_reset(&rt.res);
    rt.served++;
    return &rt.res;
}

/* the answer in the body must be one valid JSON document */
static void check_answer(void)
{
    lambda_str b;
    b.ptr = rt.res.body.ptr;
    b.len = rt.res.body.len;
    if (rt.res.failed) return;
    if (rt.res.append_err == 0 && b.len && lambda_json_validate(b, NULL, NULL) != 0) __builtin_trap();
}

static int r_echo(lambda_http_request *req)
{
    lambda_str v;
    size_t i;
    for (i = 0; i < 3; i++) {
        (void)lambda_http_header(req, "content-type", i, &v);
        (void)lambda_http_query(req, "name", i, &v);
    }
    (void)lambda_http_cookie(req, "id", &v);
    (void)lambda_http_param(req, "id", &v);
    (void)lambda_http_param(req, "rest", &v);
    (void)lambda_http_add_header(req, "X-Fuzz", req->method.ptr);
    (void)lambda_http_add_cookie(req, "a=1");
    (void)lambda_http_set_cookie(req, "p", req->path.ptr, req->path.len, "Path=/");
    if (lambda_utf8_valid(req->body.ptr, req->body.len, NULL) == 0)
        return lambda_http_send(req, 200, "text/plain", req->body.ptr, req->body.len);
    return lambda_http_send_binary(req, 200, NULL, req->body.ptr, req->body.len);
}

static int r_json(lambda_http_request *req)
{
    lambda_json_writer w;
    lambda_json root;
    lambda_http_begin(req, 201, "application/json");
    lambda_http_body_writer(req, &w);
    lambda_json_write_begin_array(&w);
    lambda_json_write_string(&w, req->path.ptr, req->path.len);
    if (lambda_http_body_json(req, &root) == 0) lambda_json_write_raw(&w, root.ptr, root.len);
    lambda_json_write_end_array(&w);
    return lambda_json_writer_finish(&w) ? LAMBDA_E_STATE : lambda_http_end(req);
}

static const lambda_http_route routes[] = {
    {"GET", "/items/{id}", r_echo}, {NULL, "/files/{id}/{rest+}", r_json}, {"POST", "/", r_echo},
    {"PUT", "/items/{id}", r_json},
};

static void fuzz_event(const char *p, size_t n)
{
    lambda_str ev;
    ev.ptr = p;
    ev.len = n;
    (void)lambda_http_serve(ev, fresh(), routes, sizeof routes / sizeof routes[0]);
    check_answer();
}

static void fuzz_base64(const char *p, size_t n)
{
    char *out = (char *)malloc(n + 1), *enc = (char *)malloc(n / 3 * 4 + 8), *back = (char *)malloc(n + 1);
    size_t dl = 0, el = 0, bl = 0;
    int rc = lambda_base64_decode(p, n, out, n + 1, &dl);
    if (rc == 0) {
        if (dl > n || lambda_base64_encode(out, dl, enc, n / 3 * 4 + 8, &el) != 0) __builtin_trap();
        /* canonical: a padded input encodes back to itself, any input decodes back the same */
        if (n % 4 == 0 && (el != n || memcmp(enc, p, n) != 0)) __builtin_trap();
        if (lambda_base64_decode(enc, el, back, n + 1, &bl) != 0 || bl != dl || memcmp(back, out, dl) != 0)
            __builtin_trap();
        /* in place */
        memcpy(back, p, n);
        if (lambda_base64_decode(back, n, back, n + 1, &bl) != 0 || bl != dl || memcmp(back, out, dl) != 0)
            __builtin_trap();
    } else if (rc != LAMBDA_E_SYNTAX) {
        __builtin_trap();
    }
    free(out);
    free(enc);
    free(back);
}

static void fuzz_percent(const char *p, size_t n)
{
    char *out = (char *)malloc(n + 1), *inplace = (char *)malloc(n + 1);
    int mode;
    for (mode = 0; mode < 2; mode++) {
        size_t ol = 0, il = 0, off = 0;
        int rc = lambda_percent_decode(p, n, mode, out, n + 1, &ol);
        memcpy(inplace, p, n);
        if (rc != lambda_percent_decode(inplace, n, mode, inplace, n + 1, &il)) __builtin_trap();
        if (rc == 0 && (ol != il || ol > n || memcmp(out, inplace, ol) != 0 || out[ol] != 0)) __builtin_trap();
        if (rc == 0 && lambda_utf8_valid(out, ol, &off) != 0 && off >= ol) __builtin_trap();
    }
    free(out);
    free(inplace);
}

/* text and binary bodies written in pieces equal the same bodies written at once */
static void fuzz_pieces(const char *p, size_t n, size_t step)
{
    static const char ev[] = "{\"version\":\"2.0\",\"rawPath\":\"/\","
                             "\"requestContext\":{\"http\":{\"method\":\"GET\"}}}";
    lambda_http_request req;
    lambda_str e;
    char *whole;
    size_t wl, i;
    int bin, rc1, rc2;
    e.ptr = ev;
    e.len = sizeof ev - 1;
    for (bin = 0; bin < 2; bin++) {
        if (lambda_http_parse(&req, e, fresh()) != 0) __builtin_trap();
        rc1 = bin ? lambda_http_send_binary(&req, 200, NULL, p, n) : lambda_http_send(&req, 200, NULL, p, n);
        check_answer();
        wl = rt.res.body.len;
        whole = (char *)malloc(wl + 1);
        memcpy(whole, rt.res.body.ptr, wl);
        if (lambda_http_parse(&req, e, fresh()) != 0) __builtin_trap();
        rc2 = bin ? lambda_http_begin_binary(&req, 200, NULL) : lambda_http_begin(&req, 200, NULL);
        for (i = 0; i < n && rc2 == 0; i += step) rc2 = lambda_http_write(&req, p + i, n - i < step ? n - i : step);
        rc2 = lambda_http_end(&req) ? (rc2 ? rc2 : LAMBDA_E_UTF8) : rc2;
        check_answer();
        if ((rc1 == 0) != (rc2 == 0)) __builtin_trap();
        if (rc1 == 0 && (rt.res.body.len != wl || memcmp(rt.res.body.ptr, whole, wl) != 0)) __builtin_trap();
        free(whole);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    char *p;
    if (len < 1) return 0;
    p = (char *)malloc(len); /* exactly the input: an over-read is caught */
    memcpy(p, data + 1, len - 1);
    switch (data[0] % 4) {
    case 0: fuzz_event(p, len - 1); break;
    case 1: fuzz_base64(p, len - 1); break;
    case 2: fuzz_percent(p, len - 1); break;
    default: fuzz_pieces(p, len - 1, 1 + data[0] / 4 % 7); break;
    }
    free(p);
    return 0;
}
