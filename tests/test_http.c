/* White-box unit tests of the HTTP layer and its helpers (>>events): base64, percent-decoding,
   UTF-8 validation, the JSON writer into a buffer, the scratch area, HTTP requests of every
   source (the sample events under examples/http/events), answers in each source's shape, the
   router, batch answers, S3 keys, and bad input. Run from the repository root. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long n_alloc, n_free;
static void *t_malloc(size_t n)
{
    n_alloc++;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n)
{
    if (!p) n_alloc++;
    return realloc(p, n);
}
static void t_free(void *p)
{
    if (p) n_free++;
    free(p);
}
#define LAMBDA_MALLOC(n)     t_malloc(n)
#define LAMBDA_REALLOC(p, n) t_realloc(p, n)
#define LAMBDA_FREE(p)       t_free(p)
#define LAMBDA_HTTP_MAX_BODY 4096u /* small, to test the limit */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include "lt.h"

static lambda__rt rt;
static lambda_config cfg;

static int noop(const lambda_context *ctx, lambda_str ev, lambda_response *res)
{
    (void)ctx, (void)ev, (void)res;
    return 0;
}

/* A new invocation: the response is reset and the scratch area starts over. */
static lambda_response *fresh(void)
{
    lambda__response_reset(&rt.res);
    rt.served++;
    return &rt.res;
}

static lambda_str S(const char *s)
{
    lambda_str r;
    r.ptr = s;
    r.len = strlen(s);
    return r;
}

static int eq(lambda_str a, const char *b)
{
    if (a.len == strlen(b) && memcmp(a.ptr, b, a.len) == 0 && a.ptr[a.len] == '\0') return 1;
    printf("    got \"%.*s\" (%lu bytes), want \"%s\"\n", (int)a.len, a.ptr, (unsigned long)a.len,
           b);
    return 0;
}

static int body_is(const char *want)
{
    if (rt.res.body.len == strlen(want) && memcmp(rt.res.body.ptr, want, rt.res.body.len) == 0)
        return 1;
    printf("    body: %.*s\n    want: %s\n", (int)rt.res.body.len, rt.res.body.ptr, want);
    return 0;
}

static char *load(const char *name)
{
    static char buf[1 << 16];
    char path[256];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "examples/http/events/%s", name);
    f = fopen(path, "rb");
    if (!f) {
        printf("    cannot open %s (run from the repository root)\n", path);
        buf[0] = 0;
        return buf;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* ---- base64 ---- */

static void test_base64(void)
{
    static const char *const rfc[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    static const struct {
        const char *in;
        int want;
        const char *why;
    } bad[] = {
        {"Z", LAMBDA_E_SYNTAX, "one character left"},
        {"Zg=", LAMBDA_E_SYNTAX, "padding cut"},
        {"Zg===", LAMBDA_E_SYNTAX, "too much padding"},
        {"Z===", LAMBDA_E_SYNTAX, "three ="},
        {"Zh==", LAMBDA_E_SYNTAX, "stray bits"},
        {"Zm9=", LAMBDA_E_SYNTAX, "stray bits (2)"},
        {"Zm 9v", LAMBDA_E_SYNTAX, "space"},
        {"Zm9v\n", LAMBDA_E_SYNTAX, "newline"},
        {"Zm-_", LAMBDA_E_SYNTAX, "URL alphabet"},
        {"Zg==Zg==", LAMBDA_E_SYNTAX, "= inside"},
        {"=", LAMBDA_E_SYNTAX, "padding only"},
        {"Zm8=\0", LAMBDA_E_SYNTAX, "NUL"},
    };
    char out[64];
    unsigned char bin[256], back[256];
    size_t i, n;
    for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        LT_CHECK(lambda_base64_encode(rfc[i][0], strlen(rfc[i][0]), out, sizeof out, &n) == 0);
        LT_CHECK(n == strlen(rfc[i][1]) && strcmp(out, rfc[i][1]) == 0);
        LT_CHECK(lambda_base64_decode(rfc[i][1], strlen(rfc[i][1]), out, sizeof out, &n) == 0);
        LT_CHECK(n == strlen(rfc[i][0]) && strcmp(out, rfc[i][0]) == 0);
    }
    /* unpadded */
    LT_CHECK(lambda_base64_decode("Zm9vYg", 6, out, sizeof out, &n) == 0 && n == 4 &&
             strcmp(out, "foob") == 0);
    LT_CHECK(lambda_base64_decode("Zm9vYmE", 7, out, sizeof out, &n) == 0 && n == 5 &&
             strcmp(out, "fooba") == 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t l = strlen(bad[i].in) + (strcmp(bad[i].why, "NUL") == 0);
        int rc = lambda_base64_decode(bad[i].in, l, out, sizeof out, &n);
        if (rc != bad[i].want) printf("    %s: %d\n", bad[i].why, rc);
        LT_CHECK(rc == bad[i].want && out[0] == 0);
    }
    /* sizes: the length needed is told */
    LT_CHECK(lambda_base64_encode("foobar", 6, out, 8, &n) == LAMBDA_E_SPACE && n == 8);
    LT_CHECK(lambda_base64_encode("foobar", 6, out, 9, &n) == 0 && n == 8);
    LT_CHECK(lambda_base64_decode("Zm9vYmFy", 8, out, 6, &n) == LAMBDA_E_SPACE && n == 6);
    LT_CHECK(lambda_base64_decode("Zm9vYmFy", 8, NULL, 0, &n) == LAMBDA_E_SPACE && n == 6);
    LT_CHECK(lambda_base64_decode(NULL, 1, out, sizeof out, &n) == LAMBDA_E_ARG);
    /* every byte value round-trips, also decoded in place */
    for (i = 0; i < 256; i++) bin[i] = (unsigned char)(255 - i);
    for (n = 0; n <= 256; n += 37) {
        char enc[400];
        size_t el, dl;
        LT_CHECK(lambda_base64_encode(bin, n, enc, sizeof enc, &el) == 0 && el == (n + 2) / 3 * 4);
        LT_CHECK(lambda_base64_decode(enc, el, back, sizeof back, &dl) == 0 && dl == n &&
                 memcmp(back, bin, n) == 0);
        LT_CHECK(lambda_base64_decode(enc, el, enc, sizeof enc, &dl) == 0 && dl == n &&
                 memcmp(enc, bin, n) == 0);
    }
    /* into a response, in pieces bigger than the internal buffer */
    {
        static unsigned char big[1000];
        char *enc = (char *)malloc(2000);
        size_t el;
        lambda_response *res = fresh();
        for (i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 31);
        LT_CHECK(lambda_response_append_base64(res, big, sizeof big) == 0);
        LT_CHECK(lambda_base64_encode(big, sizeof big, enc, 2000, &el) == 0);
        LT_CHECK(res->body.len == el && memcmp(res->body.ptr, enc, el) == 0);
        free(enc);
    }
}

/* ---- percent-decoding and UTF-8 ---- */

static void test_percent(void)
{
    static const struct {
        const char *in;
        int mode;
        int want;
        const char *out;
    } cases[] = {
        {"a%20b+c", LAMBDA_PERCENT_PATH, 0, "a b+c"},
        {"a%20b+c", LAMBDA_PERCENT_FORM, 0, "a b c"},
        {"%2F%2f", LAMBDA_PERCENT_PATH, 0, "//"},
        {"%C3%A9", LAMBDA_PERCENT_FORM, 0, "\xc3\xa9"},
        {"", LAMBDA_PERCENT_FORM, 0, ""},
        {"100%", LAMBDA_PERCENT_PATH, LAMBDA_E_SYNTAX, ""},
        {"%2", LAMBDA_PERCENT_PATH, LAMBDA_E_SYNTAX, ""},
        {"%zz", LAMBDA_PERCENT_PATH, LAMBDA_E_SYNTAX, ""},
        {"%2g", LAMBDA_PERCENT_FORM, LAMBDA_E_SYNTAX, ""},
        {"ok%%41", LAMBDA_PERCENT_FORM, LAMBDA_E_SYNTAX, ""},
    };
    char out[64], inplace[64];
    size_t i, n;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = lambda_percent_decode(cases[i].in, strlen(cases[i].in), cases[i].mode, out,
                                       sizeof out, &n);
        LT_CHECK(rc == cases[i].want && strcmp(out, cases[i].out) == 0);
        strcpy(inplace, cases[i].in);
        if (rc == 0)
            LT_CHECK(lambda_percent_decode(inplace, strlen(inplace), cases[i].mode, inplace,
                                           sizeof inplace, &n) == 0 &&
                     strcmp(inplace, cases[i].out) == 0 && n == strlen(cases[i].out));
    }
    LT_CHECK(lambda_percent_decode("a%00b", 5, 0, out, sizeof out, &n) == 0 && n == 3 &&
             out[1] == 0);
    LT_CHECK(lambda_percent_decode("abc", 3, 0, out, 3, &n) == LAMBDA_E_SPACE && n == 3 &&
             out[0] == 0);
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t off;
        int want;
    } cases[] = {
        {"plain", 0, 0},
        {"caf\xc3\xa9", 0, 0},
        {"\xf0\x9f\x98\x80", 0, 0},
        {"a\xc3", 1, LAMBDA_E_UTF8},
        {"ab\xc0\xaf", 2, LAMBDA_E_UTF8},
        {"\xed\xa0\x80", 0, LAMBDA_E_UTF8},
        {"x\xf4\x90\x80\x80", 1, LAMBDA_E_UTF8},
        {"\x80", 0, LAMBDA_E_UTF8},
        {"ok\xff", 2, LAMBDA_E_UTF8},
    };
    size_t i, off;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = lambda_utf8_valid(cases[i].s, strlen(cases[i].s), &off);
        LT_CHECK(rc == cases[i].want && off == cases[i].off);
    }
    LT_CHECK(lambda_utf8_valid(NULL, 0, NULL) == 0 &&
             lambda_utf8_valid(NULL, 1, NULL) == LAMBDA_E_ARG);
}

/* ---- the JSON writer into a buffer ---- */

static void test_writer_buf(void)
{
    char buf[64], tiny[8];
    lambda_json_writer w;
    lambda_json_writer_init_buf(&w, buf, sizeof buf);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "k\"1");
    lambda_json_write_cstring(&w, "v\n\xe2\x80\xa8");
    lambda_json_write_ckey(&w, "n");
    lambda_json_write_int64(&w, -12);
    lambda_json_write_ckey(&w, "a");
    lambda_json_write_begin_array(&w);
    lambda_json_write_raw(&w, " [true, null] ", 14);
    lambda_json_write_end_array(&w);
    lambda_json_write_end_object(&w);
    LT_CHECK(lambda_json_writer_finish(&w) == 0);
    LT_CHECK(strcmp(buf, "{\"k\\\"1\":\"v\\n\\u2028\",\"n\":-12,\"a\":[[true, null]]}") == 0);
    lambda_json_writer_init_buf(&w, tiny, sizeof tiny);
    lambda_json_write_cstring(&w, "too long for it");
    LT_CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_SPACE && strlen(tiny) < sizeof tiny);
    lambda_json_writer_init_buf(&w, tiny, sizeof tiny);
    LT_CHECK(lambda_json_write_cstring(&w, "\xff") == LAMBDA_E_UTF8 && tiny[0] == 0);
    lambda_json_writer_init_buf(&w, NULL, 4);
    LT_CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_ARG);
}

/* ---- the scratch area ---- */

static void test_scratch(void)
{
    lambda_response *res = fresh();
    unsigned long before;
    char *a, *b, *big, *first;
    int i, k;
    lambda_str s;
    lambda_json v;
    a = (char *)lambda_scratch(res, 1);
    b = (char *)lambda_scratch(res, 100);
    LT_CHECK(a && b && ((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0 && b >= a + 16);
    memset(b, 'x', 100);
    big = (char *)lambda_scratch(res, 1 << 20); /* an SQS body of 1 MiB */
    LT_CHECK(big != NULL);
    memset(big, 'y', 1 << 20);
    LT_CHECK(b[99] == 'x');
    LT_CHECK(lambda_scratch(res, (size_t)-1 / 2) == NULL);
    first = a;
    /* the same pattern in later invocations: the same memory, no allocation */
    before = n_alloc;
    for (i = 0; i < 20; i++) {
        res = fresh();
        a = (char *)lambda_scratch(res, 1);
        LT_CHECK(a == first);
        for (k = 0; k < 10; k++) LT_CHECK(lambda_scratch(res, 5000) != NULL);
        LT_CHECK(lambda_scratch(res, 1 << 20) != NULL);
    }
    LT_CHECK(n_alloc == before);
    /* within one invocation nothing is reused */
    LT_CHECK(lambda_scratch(res, 16) != lambda_scratch(res, 16));
    /* strings */
    LT_CHECK(lambda_json_get(S("{\"b\":\"{\\\"ok\\\": true, \\\"u\\\": \\\"\\u00e9\\\"}\"}"), "b",
                             &v) == 0);
    LT_CHECK(lambda_json_string_scratch(res, v, &s) == 0 &&
             eq(s, "{\"ok\": true, \"u\": \"\xc3\xa9\"}"));
    LT_CHECK(lambda_json_get(S("{\"b\":1}"), "b", &v) == 0);
    LT_CHECK(lambda_json_string_scratch(res, v, &s) == LAMBDA_E_TYPE && eq(s, ""));
    LT_CHECK(lambda_json_get(S("{\"b\":\"\\ud800\"}"), "b", &v) == 0);
    LT_CHECK(lambda_json_string_scratch(res, v, &s) == LAMBDA_E_UTF8);
}

/* ---- HTTP requests ---- */

static void test_parse_sources(void)
{
    lambda_http_request req;
    lambda_str v;
    lambda_response *res = fresh();
    /* REST (payload 1.0): the aws-lambda-go sample (events/rest-request.json) */
    LT_CHECK(lambda_http_parse(&req, S(load("rest-request.json")), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_REST && req.multi_value);
    LT_CHECK(eq(req.method, "POST") && eq(req.path, "/hello/world") &&
             eq(req.raw_path, "/hello/world"));
    LT_CHECK(eq(req.stage, "testStage") && eq(req.source_ip, "192.168.196.186"));
    LT_CHECK(lambda_http_header(&req, "content-type", 0, &v) == 0 && eq(v, "application/json"));
    LT_CHECK(lambda_http_header(&req, "X-FORWARDED-FOR", 0, &v) == 0 &&
             eq(v, "54.240.196.186, 54.182.214.83"));
    LT_CHECK(lambda_http_header(&req, "content-type", 1, &v) == LAMBDA_E_NOT_FOUND && eq(v, ""));
    LT_CHECK(lambda_http_query(&req, "name", 0, &v) == 0 && eq(v, "me"));
    LT_CHECK(lambda_http_param(&req, "proxy", &v) == 0 && eq(v, "hello/world"));
    LT_CHECK(eq(req.body, "{\r\n\t\"a\": 1\r\n}") && !req.body_base64);
    {
        lambda_json root, a;
        int64_t n = 0;
        LT_CHECK(lambda_http_body_json(&req, &root) == 0 && lambda_json_find(root, "a", &a) == 0 &&
                 lambda_json_int64(a, &n) == 0 && n == 1);
    }
    /* HTTP API (payload 2.0) */
    LT_CHECK(lambda_http_parse(&req, S(load("httpapi-request.json")), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_API && !req.multi_value && eq(req.method, "GET") &&
             eq(req.path, "/"));
    LT_CHECK(eq(req.stage, "$default") && eq(req.source_ip, "1.2.3.4") && eq(req.body, ""));
    LT_CHECK(lambda_http_header(&req, "User-Agent", 0, &v) == 0 && eq(v, "curl/7.58.0"));
    /* a named stage: the prefix is not part of `path` */
    LT_CHECK(lambda_http_parse(&req, S(load("httpapi-stage-in-path.json")), res) == 0);
    LT_CHECK(eq(req.path, "/my/path") && eq(req.raw_path, "/Prod/my/path") &&
             eq(req.stage, "Prod"));
    LT_CHECK(lambda_http_query(&req, "parameter1", 0, &v) == 0 && eq(v, "value1"));
    LT_CHECK(lambda_http_query(&req, "parameter1", 1, &v) == 0 && eq(v, "value2"));
    LT_CHECK(lambda_http_query(&req, "parameter1", 2, &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_http_cookie(&req, "cookie2", &v) == 0 && eq(v, "value2"));
    LT_CHECK(lambda_http_cookie(&req, "cookie3", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_http_param(&req, "parameter1", &v) == 0 && eq(v, "value1"));
    LT_CHECK(lambda_http_header(&req, "header1", 0, &v) == 0 && eq(v, "value1"));
    /* function URL */
    LT_CHECK(lambda_http_parse(&req, S(load("url-request.json")), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_URL && eq(req.method, "POST") && eq(req.path, "/my/path"));
    LT_CHECK(eq(req.source_ip, "123.123.123.123") && eq(req.body, "Hello from client!"));
    LT_CHECK(eq(req.raw_query, "parameter1=value1&parameter1=value2&parameter2=value"));
    LT_CHECK(lambda_http_header(&req, "header2", 0, &v) == 0 && eq(v, "value1,value2"));
    LT_CHECK(lambda_http_cookie(&req, "cookie1", &v) ==
             LAMBDA_E_NOT_FOUND); /* "cookie1" has no '=' */
    /* ALB, single-value */
    LT_CHECK(lambda_http_parse(&req, S(load("alb-request.json")), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_ALB && !req.multi_value && eq(req.stage, ""));
    LT_CHECK(eq(req.source_ip, "25.12.198.67"));
    LT_CHECK(lambda_http_query(&req, "key", 0, &v) == 0 && eq(v, "hello"));
    LT_CHECK(lambda_http_header(&req, "X-MyHeader", 0, &v) == 0 && eq(v, "123"));
    /* ALB, multi-value, parameters still encoded */
    LT_CHECK(lambda_http_parse(&req, S(load("alb-multivalue-encoded-query.json")), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_ALB && req.multi_value);
    LT_CHECK(lambda_http_query(&req, "myKey", 0, &v) == 0 && eq(v, "?showAll=true"));
    LT_CHECK(lambda_http_query(&req, "myKey", 1, &v) == 0 && eq(v, "?showAll=false"));
    LT_CHECK(lambda_http_cookie(&req, "name2", &v) == 0 && eq(v, "value2"));
    LT_CHECK(lambda_http_header(&req, "cookie", 1, &v) == 0 && eq(v, "name2=value2"));
    LT_CHECK(eq(req.body, "request_body") && eq(req.source_ip, "72.21.198.66"));
    /* derived events */
    LT_CHECK(lambda_http_parse(&req, S(load("alb-hello.json")), res) == 0);
    LT_CHECK(lambda_http_query(&req, "name", 0, &v) == 0 && eq(v, "Zo\xc3\xab \"Z\""));
    LT_CHECK(lambda_http_parse(&req, S(load("alb-hello-bad-utf8.json")), res) == 0);
    LT_CHECK(lambda_http_query(&req, "name", 0, &v) == LAMBDA_E_UTF8 && eq(v, ""));
    LT_CHECK(lambda_http_parse(&req, S(load("httpapi-hello-bad-escape.json")), res) == 0);
    LT_CHECK(lambda_http_query(&req, "name", 0, &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_http_parse(&req, S(load("url-echo-binary.json")), res) == 0);
    LT_CHECK(req.body_base64 && req.body.len == 10 &&
             memcmp(req.body.ptr, "\x00\x01\x02\xff\xfe\x80\n\r\"\\", 10) == 0);
    /* an HTTP API with payload format 1.0: the REST shape, but the named stage is in the path */
    LT_CHECK(lambda_http_parse(&req, S("{\"version\":\"1.0\",\"httpMethod\":\"GET\",\"path\":\"/dev/hello\","
                                       "\"requestContext\":{\"stage\":\"dev\"}}"), res) == 0);
    LT_CHECK(req.source == LAMBDA_HTTP_REST && eq(req.path, "/hello") && eq(req.raw_path, "/dev/hello"));
    LT_CHECK(lambda_http_parse(&req, S("{\"httpMethod\":\"GET\",\"path\":\"/dev/hello\","
                                       "\"requestContext\":{\"stage\":\"dev\"}}"), res) == 0);
    LT_CHECK(eq(req.path, "/dev/hello")); /* a REST API's path has no stage in it */
    LT_CHECK(lambda_http_parse(&req, S(load("httpapi-items-stage.json")), res) == 0);
    LT_CHECK(eq(req.path, "/items/a/b c") && eq(req.raw_path, "/prod/items/a%2Fb%20c"));
}

static void test_parse_bad(void)
{
    static const struct {
        const char *ev;
        int want;
        const char *why;
    } cases[] = {
        {"{\"Records\":[]}", LAMBDA_E_TYPE, "SQS"},
        {"[1]", LAMBDA_E_TYPE, "an array"},
        {"{\"requestContext\":{}}", LAMBDA_E_TYPE, "no method"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\"}", LAMBDA_E_TYPE, "no path"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"\",\"path\":\"/\"}", LAMBDA_E_TYPE,
         "empty method"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/\",\"headers\":[]}",
         LAMBDA_E_TYPE, "headers array"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":1}", LAMBDA_E_TYPE,
         "numeric path"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/\"", LAMBDA_E_SYNTAX,
         "cut"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/\"} x",
         LAMBDA_E_SYNTAX, "trailing"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/"
         "\",\"body\":\"Zg\",\"isBase64Encoded\":true}",
         0, "unpadded base64"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/"
         "\",\"body\":\"Z\",\"isBase64Encoded\":true}",
         LAMBDA_E_SYNTAX, "bad base64"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/"
         "\",\"body\":\"\\ud800\"}",
         LAMBDA_E_UTF8, "lone surrogate"},
        {"{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/"
         "\",\"body\":\"x\",\"isBase64Encoded\":false}",
         0, "plain body"},
    };
    lambda_http_request req;
    lambda_response *res = fresh();
    char *big = (char *)malloc(LAMBDA_HTTP_MAX_BODY + 200);
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = lambda_http_parse(&req, S(cases[i].ev), res);
        if (rc != cases[i].want) printf("    %s: %d\n", cases[i].why, rc);
        LT_CHECK(rc == cases[i].want);
    }
    LT_CHECK(lambda_http_parse(&req, S("{}"), NULL) == LAMBDA_E_ARG);
    /* a body over LAMBDA_HTTP_MAX_BODY (4096 here) */
    strcpy(big,
           "{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/\",\"body\":\"");
    i = strlen(big);
    memset(big + i, 'a', LAMBDA_HTTP_MAX_BODY + 1);
    strcpy(big + i + LAMBDA_HTTP_MAX_BODY + 1, "\"}");
    LT_CHECK(lambda_http_parse(&req, S(big), res) == LAMBDA_E_TOO_BIG &&
             req.source == LAMBDA_HTTP_ALB);
    big[i + LAMBDA_HTTP_MAX_BODY] = '"', big[i + LAMBDA_HTTP_MAX_BODY + 1] = '}',
            big[i + LAMBDA_HTTP_MAX_BODY + 2] = 0;
    LT_CHECK(lambda_http_parse(&req, S(big), res) == 0 && req.body.len == LAMBDA_HTTP_MAX_BODY);
    free(big);
    /* paths that do not decode */
    LT_CHECK(lambda_http_parse(
                 &req,
                 S("{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/a%zz\"}"),
                 res) == 0);
    LT_CHECK(req.path_error == LAMBDA_E_SYNTAX && eq(req.path, "/a%zz"));
    LT_CHECK(lambda_http_parse(
                 &req,
                 S("{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/a%C3\"}"),
                 res) == 0);
    LT_CHECK(req.path_error == LAMBDA_E_UTF8);
    LT_CHECK(lambda_http_parse(
                 &req,
                 S("{\"requestContext\":{\"elb\":{}},\"httpMethod\":\"GET\",\"path\":\"/a%00\"}"),
                 res) == 0);
    LT_CHECK(req.path_error == LAMBDA_E_UTF8);
    /* an HTTP API that passed the path decoded: a lone '%' is taken as it is */
    LT_CHECK(lambda_http_parse(&req,
                               S("{\"version\":\"2.0\",\"rawPath\":\"/100% "
                                 "sure\",\"requestContext\":{\"http\":{\"method\":\"GET\"}}}"),
                               res) == 0);
    LT_CHECK(req.path_error == 0 && eq(req.path, "/100% sure"));
}

/* ---- HTTP answers ---- */

static lambda_http_request *parse_src(lambda_http_request *req, int src)
{
    static const char *const ev[] = {
        "", /* none */
        "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{\"stage\":\"s\"}}",
        "{\"version\":\"2.0\",\"rawPath\":\"/"
        "\",\"requestContext\":{\"http\":{\"method\":\"GET\"},\"domainName\":\"x.execute-api.us-"
        "east-1.amazonaws.com\"}}",
        "{\"version\":\"2.0\",\"rawPath\":\"/"
        "\",\"requestContext\":{\"http\":{\"method\":\"GET\"},\"domainName\":\"x.lambda-url.us-"
        "east-1.on.aws\"}}",
        "{\"httpMethod\":\"GET\",\"path\":\"/\",\"requestContext\":{\"elb\":{}},\"headers\":{}}",
        "{\"httpMethod\":\"GET\",\"path\":\"/"
        "\",\"requestContext\":{\"elb\":{}},\"multiValueHeaders\":{}}"};
    int rc = lambda_http_parse(req, S(ev[src]), fresh());
    LT_CHECK(rc == 0 && (int)req->source == (src == 5 ? 4 : src));
    return req;
}

static void answer_with_headers(lambda_http_request *req)
{
    LT_CHECK(lambda_http_add_header(req, "X-A", "1") == 0);
    LT_CHECK(lambda_http_add_cookie(req, "a=1; Path=/") == 0);
    LT_CHECK(lambda_http_add_header(req, "x-a", "2") == 0);
    LT_CHECK(lambda_http_set_cookie(req, "b", "x y;\"\xc3\xa9", 7, NULL) == 0);
    LT_CHECK(lambda_http_send(req, 201, "text/plain", "hi \xe2\x9c\x93", 6) == 0);
}

static void test_answers(void)
{
    lambda_http_request req;
    answer_with_headers(parse_src(&req, 1));
    LT_CHECK(body_is("{\"statusCode\":201,\"body\":\"hi \xe2\x9c\x93\",\"isBase64Encoded\":false,"
                     "\"headers\":{\"Content-Type\":\"text/"
                     "plain\"},\"multiValueHeaders\":{\"X-A\":[\"1\",\"2\"],"
                     "\"Set-Cookie\":[\"a=1; Path=/\",\"b=x%20y%3B%22%C3%A9\"]}}"));
    answer_with_headers(parse_src(&req, 2));
    LT_CHECK(body_is("{\"statusCode\":201,\"body\":\"hi \xe2\x9c\x93\",\"isBase64Encoded\":false,"
                     "\"headers\":{\"X-A\":\"1, 2\",\"Content-Type\":\"text/plain\"},"
                     "\"cookies\":[\"a=1; Path=/\",\"b=x%20y%3B%22%C3%A9\"]}"));
    answer_with_headers(parse_src(&req, 3));
    LT_CHECK(req.source == LAMBDA_HTTP_URL &&
             strstr(rt.res.body.ptr, "\"cookies\":[\"a=1; Path=/\"") != NULL);
    answer_with_headers(parse_src(&req, 4));
    LT_CHECK(body_is(
        "{\"statusCode\":201,\"statusDescription\":\"201 Created\",\"body\":\"hi \xe2\x9c\x93\","
        "\"isBase64Encoded\":false,\"headers\":{\"X-A\":\"1, "
        "2\",\"Set-Cookie\":\"b=x%20y%3B%22%C3%A9\","
        "\"Content-Type\":\"text/plain\"}}"));
    answer_with_headers(parse_src(&req, 5));
    LT_CHECK(body_is(
        "{\"statusCode\":201,\"statusDescription\":\"201 Created\",\"body\":\"hi \xe2\x9c\x93\","
        "\"isBase64Encoded\":false,\"multiValueHeaders\":{\"X-A\":[\"1\",\"2\"],"
        "\"Set-Cookie\":[\"a=1; "
        "Path=/\",\"b=x%20y%3B%22%C3%A9\"],\"Content-Type\":[\"text/plain\"]}}"));
    /* binary, written one byte at a time: the same as at once */
    {
        static const unsigned char bin[] = {0, 1, 2, 0xff, 0xfe, 0x80, 10};
        char once[256];
        size_t i;
        parse_src(&req, 2);
        LT_CHECK(lambda_http_send_binary(&req, 200, NULL, bin, sizeof bin) == 0);
        LT_CHECK(body_is("{\"statusCode\":200,\"body\":\"AAEC//"
                         "6ACg==\",\"isBase64Encoded\":true,\"headers\":{},\"cookies\":[]}"));
        strcpy(once, rt.res.body.ptr);
        parse_src(&req, 2);
        LT_CHECK(lambda_http_begin_binary(&req, 200, NULL) == 0);
        for (i = 0; i < sizeof bin; i++) LT_CHECK(lambda_http_write(&req, bin + i, 1) == 0);
        LT_CHECK(lambda_http_end(&req) == 0 && body_is(once));
    }
    /* text cut inside a character between writes */
    parse_src(&req, 2);
    LT_CHECK(lambda_http_begin(&req, 200, NULL) == 0);
    LT_CHECK(lambda_http_write(&req, "a\xe2", 2) == 0 && lambda_http_write(&req, "\x9c", 1) == 0);
    LT_CHECK(lambda_http_write(&req, "\x93\"", 2) == 0 && lambda_http_end(&req) == 0);
    LT_CHECK(body_is("{\"statusCode\":200,\"body\":\"a\xe2\x9c\x93\\\"\",\"isBase64Encoded\":false,"
                     "\"headers\":{},\"cookies\":[]}"));
    /* not UTF-8: never a broken body, a 500 instead */
    parse_src(&req, 2);
    LT_CHECK(lambda_http_send(&req, 200, NULL, "bad \xff", 5) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_http_end(&req) == LAMBDA_E_STATE); /* answered: the 500 */
    LT_CHECK(strncmp(rt.res.body.ptr, "{\"statusCode\":500,\"body\":\"Internal Server Error\"",
                     48) == 0);
    parse_src(&req, 2);
    LT_CHECK(lambda_http_begin(&req, 200, NULL) == 0 &&
             lambda_http_write(&req, "cut \xe2\x9c", 6) == 0);
    LT_CHECK(lambda_http_end(&req) == LAMBDA_E_UTF8 &&
             strstr(rt.res.body.ptr, "\"statusCode\":500") != NULL);
    /* a JSON body written with the writer, escaped on the fly */
    {
        lambda_json_writer w;
        lambda_json root, b;
        parse_src(&req, 1);
        LT_CHECK(lambda_http_begin(&req, 200, "application/json") == 0);
        lambda_http_body_writer(&req, &w);
        lambda_json_write_begin_object(&w);
        lambda_json_write_ckey(&w, "q\"");
        lambda_json_write_cstring(&w, "a\\b\n\xc3\xa9");
        lambda_json_write_end_object(&w);
        LT_CHECK(lambda_json_writer_finish(&w) == 0 && lambda_http_end(&req) == 0);
        LT_CHECK(lambda_json_validate(lambda__str(rt.res.body.ptr, rt.res.body.len), &root, NULL) ==
                 0);
        LT_CHECK(lambda_json_find(root, "body", &b) == 0 &&
                 lambda_json_string_eq(b, "{\"q\\\"\":\"a\\\\b\\n\xc3\xa9\"}"));
    }
    /* misuse */
    parse_src(&req, 1);
    LT_CHECK(lambda_http_begin(&req, 99, NULL) == LAMBDA_E_ARG &&
             lambda_http_begin(&req, 600, NULL) == LAMBDA_E_ARG);
    LT_CHECK(lambda_http_write(&req, "x", 1) == LAMBDA_E_STATE &&
             lambda_http_end(&req) == LAMBDA_E_STATE);
    LT_CHECK(lambda_http_add_header(&req, "Bad Name", "v") == LAMBDA_E_ARG);
    LT_CHECK(lambda_http_add_header(&req, "", "v") == LAMBDA_E_ARG &&
             lambda_http_add_header(&req, NULL, "v") == LAMBDA_E_ARG);
    LT_CHECK(lambda_http_add_header(&req, "X", "a\r\nInjected: 1") == LAMBDA_E_ARG);
    LT_CHECK(lambda_http_add_header(&req, "X", "\xff") == LAMBDA_E_UTF8);
    LT_CHECK(lambda_http_set_cookie(&req, "a;b", "v", 1, NULL) == LAMBDA_E_ARG);
    LT_CHECK(lambda_http_send(&req, 204, NULL, NULL, 0) == 0);
    LT_CHECK(lambda_http_add_header(&req, "X", "late") == LAMBDA_E_STATE);
    {
        lambda_http_request none;
        memset(&none, 0, sizeof none);
        LT_CHECK(lambda_http_send(&none, 200, NULL, "x", 1) == LAMBDA_E_STATE);
    }
    /* ready-made answers */
    parse_src(&req, 4);
    LT_CHECK(lambda_http_add_header(&req, "X-Gone", "1") == 0);
    LT_CHECK(lambda_http_fail(&req, LAMBDA_E_TOO_BIG) == 0);
    LT_CHECK(body_is(
        "{\"statusCode\":413,\"statusDescription\":\"413 Content Too Large\",\"body\":\"Content "
        "Too Large\","
        "\"isBase64Encoded\":false,\"headers\":{\"Content-Type\":\"text/plain; charset=utf-8\"}}"));
    parse_src(&req, 2);
    LT_CHECK(lambda_http_method_not_allowed(&req, "GET, POST") == 0);
    LT_CHECK(
        body_is("{\"statusCode\":405,\"body\":\"Method Not Allowed\",\"isBase64Encoded\":false,"
                "\"headers\":{\"Allow\":\"GET, POST\",\"Content-Type\":\"text/plain; "
                "charset=utf-8\"},\"cookies\":[]}"));
    parse_src(&req, 4);
    LT_CHECK(lambda_http_send(&req, 299, NULL, "", 0) == 0 &&
             strstr(rt.res.body.ptr, "\"299 Success\"") != NULL);
}

/* ---- routing ---- */

static int route_hits;
static int r_item(lambda_http_request *req)
{
    lambda_str id;
    route_hits++;
    LT_CHECK(lambda_http_param(req, "id", &id) == 0);
    return lambda_http_send(req, 200, NULL, id.ptr, id.len);
}
static int r_rest(lambda_http_request *req)
{
    lambda_str a, rest;
    route_hits += 10;
    LT_CHECK(lambda_http_param(req, "a", &a) == 0 && lambda_http_param(req, "rest", &rest) == 0);
    lambda_http_begin(req, 200, NULL);
    lambda_http_write(req, a.ptr, a.len);
    lambda_http_write(req, "|", 1);
    lambda_http_write(req, rest.ptr, rest.len);
    return lambda_http_end(req);
}
static int r_fail(lambda_http_request *req)
{
    (void)req;
    return LAMBDA_E_SYNTAX;
}
static int r_error(lambda_http_request *req)
{
    return lambda_error_str(req->res, "Custom", "failed");
}
static int r_root(lambda_http_request *req) { return lambda_http_send(req, 200, NULL, "", 0); }
static int r_badtext(lambda_http_request *req)
{
    return lambda_http_send(req, 200, NULL, "\xff", 1); /* LAMBDA_E_UTF8, answered 500 */
}
static int r_silent(lambda_http_request *req)
{
    (void)req;
    return 0;
}

static const lambda_http_route routes[] = {
    {"GET", "/items/{id}", r_item},
    {"PUT", "/items/{id}", r_item},
    {"GET", "/files/{a}/{rest+}", r_rest},
    {"POST", "/fail", r_fail},
    {"POST", "/error", r_error},
    {NULL, "/silent", r_silent},
    {"GET", "/", r_root},
    {"GET", "/badtext", r_badtext},
};

static int serve_rc;

static const char *serve(const char *method, const char *raw_path)
{
    static char ev[512];
    lambda_response *res = fresh();
    snprintf(ev, sizeof ev,
             "{\"httpMethod\":\"%s\",\"path\":\"%s\",\"requestContext\":{\"elb\":{}}}", method,
             raw_path);
    serve_rc = lambda_http_serve(S(ev), res, routes, sizeof routes / sizeof routes[0]);
    return res->failed ? res->error_text.ptr : res->body.ptr;
}

static int answer_is(const char *got, int status, const char *body)
{
    char want[512];
    snprintf(want, sizeof want,
             "{\"statusCode\":%d,\"statusDescription\":\"%d %s\",\"body\":\"%s\"", status, status,
             lambda__reason(status), body);
    if (strncmp(got, want, strlen(want)) == 0) return 1;
    printf("    got  %s\n    want %s...\n", got, want);
    return 0;
}

static void test_router(void)
{
    const char *r;
    route_hits = 0;
    LT_CHECK(answer_is(serve("GET", "/items/42"), 200, "42"));
    LT_CHECK(answer_is(serve("PUT", "/items/a%2Fb%20c"), 200, "a/b c"));
    LT_CHECK(answer_is(serve("GET", "/items/"), 404, "Not Found"));
    LT_CHECK(answer_is(serve("GET", "/items/42/"), 404, "Not Found"));
    LT_CHECK(answer_is(serve("GET", "/items"), 404, "Not Found"));
    LT_CHECK(answer_is(serve("GET", "/it%65ms/7"), 200, "7"));
    LT_CHECK(answer_is(serve("GET", "/files/x/y/z%20w"), 200, "x|y/z w"));
    LT_CHECK(answer_is(serve("GET", "/files/x"), 404, "Not Found"));
    LT_CHECK(answer_is(serve("GET", "/"), 200, ""));
    r = serve("DELETE", "/items/1");
    LT_CHECK(answer_is(r, 405, "Method Not Allowed") &&
             strstr(r, "\"Allow\":\"GET, PUT\"") != NULL);
    LT_CHECK(answer_is(serve("POST", "/fail"), 400, "Bad Request") && serve_rc == 0);
    LT_CHECK(answer_is(serve("GET", "/badtext"), 500, "Internal Server Error") && serve_rc == 0);
    LT_CHECK(answer_is(serve("PATCH", "/silent"), 500, "Internal Server Error"));
    LT_CHECK(answer_is(serve("GET", "/%zz"), 400, "Bad Request"));
    r = serve("POST", "/error");
    LT_CHECK(rt.res.failed && strcmp(r, "Custom") == 0 && serve_rc == LAMBDA_E_HANDLER);
    LT_CHECK(route_hits == 13);
    /* not HTTP: InvalidEvent */
    lambda_http_serve(S("{\"Records\":[]}"), fresh(), routes, 1);
    LT_CHECK(rt.res.failed && strcmp(rt.res.error_text.ptr, "InvalidEvent") == 0);
    lambda_http_serve(S("{\"httpMethod\":"), fresh(), routes, 1);
    LT_CHECK(rt.res.failed && strcmp(rt.res.error_text.ptr, "InvalidEvent") == 0);
    /* REST: the path is already decoded, matched as it is */
    {
        lambda_http_request req;
        lambda_str id;
        LT_CHECK(lambda_http_parse(
                     &req,
                     S("{\"httpMethod\":\"GET\",\"path\":\"/items/a%20b\",\"requestContext\":{}}"),
                     fresh()) == 0);
        route_hits = 0;
        LT_CHECK(lambda_http_dispatch(&req, routes, 1) == 0 && route_hits == 1);
        LT_CHECK(lambda_http_param(&req, "id", &id) == 0 && eq(id, "a%20b"));
        LT_CHECK(lambda_http_dispatch(&req, routes + 2, 1) == LAMBDA_E_NOT_FOUND);
    }
}

/* ---- batches and S3 ---- */

static void test_batch(void)
{
    static const char ev[] =
        "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"m\\\"1\"},"
        "{\"eventSource\":\"aws:kinesis\",\"kinesis\":{\"sequenceNumber\":\"495\"},\"messageId\":"
        "\"no\"},"
        "{\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"SequenceNumber\":\"140\"}},"
        "{\"messageId\":\"plain\"},{\"eventSource\":\"aws:sqs\"},{\"messageId\":7}]}";
    lambda_json recs, rec;
    lambda_json_iter it;
    lambda_json_writer w;
    int rcs[6], i = 0;
    lambda_response *res = fresh();
    LT_CHECK(lambda_json_get(S(ev), "Records", &recs) == 0);
    lambda_batch_begin(&w, res);
    lambda_json_iter_init(&it, recs);
    while (lambda_json_next(&it, NULL, &rec) == 1 && i < 6) rcs[i++] = lambda_batch_fail(&w, rec);
    LT_CHECK(lambda_batch_fail_id(&w, "own", 3) == 0);
    LT_CHECK(lambda_batch_end(&w) == 0);
    LT_CHECK(rcs[0] == 0 && rcs[1] == 0 && rcs[2] == 0 && rcs[3] == 0);
    LT_CHECK(rcs[4] == LAMBDA_E_NOT_FOUND && rcs[5] == LAMBDA_E_TYPE);
    LT_CHECK(body_is(
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"m\\\"1\"},{\"itemIdentifier\":\"495\"},"
        "{\"itemIdentifier\":\"140\"},{\"itemIdentifier\":\"plain\"},{\"itemIdentifier\":\"own\"}]"
        "}"));
    lambda_batch_begin(&w, fresh());
    LT_CHECK(lambda_batch_end(&w) == 0 && body_is("{\"batchItemFailures\":[]}"));
}

static void test_s3_key(void)
{
    static const struct {
        const char *key;
        int want;
        const char *out;
    } cases[] = {
        {"Happy%20Face.jpg", 0, "Happy Face.jpg"},
        {"a+b%2Bc", 0, "a b+c"},
        {"caf%C3%A9/x.txt", 0, "caf\xc3\xa9/x.txt"},
        {"bad%zz", LAMBDA_E_SYNTAX, ""},
        {"bad%FF", LAMBDA_E_UTF8, ""},
        {"nul%00", LAMBDA_E_UTF8, ""},
    };
    char ev[256];
    lambda_json root;
    lambda_str k;
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(ev, sizeof ev, "{\"s3\":{\"object\":{\"key\":\"%s\"}}}", cases[i].key);
        LT_CHECK(lambda_json_validate(S(ev), &root, NULL) == 0);
        LT_CHECK(lambda_s3_key(fresh(), root, &k) == cases[i].want && eq(k, cases[i].out));
    }
    LT_CHECK(lambda_json_validate(S("{\"s3\":{}}"), &root, NULL) == 0);
    LT_CHECK(lambda_s3_key(fresh(), root, &k) == LAMBDA_E_NOT_FOUND);
}

/* the scratch area is freed with the runtime, and so is everything else */
/* A failed answer call is noted in the response (the first one), and the message of a
   handler that returns the code without lambda_error names it. */
static int failed_with(const char *msg)
{
    lambda_response *res = &rt.res;
    const char *got = res->error_text.ptr ? res->error_text.ptr + res->error_type_len + 1 : "";
    if (res->failed && strcmp(res->error_text.ptr, "Runtime.HandlerFailed") == 0 &&
        strcmp(got, msg) == 0)
        return 1;
    printf("    message \"%s\", want \"%s\"\n", got, msg);
    return 0;
}

/* What lambda__run_handler does with a handler's non-zero return `rc` (which must be
   `want`): the message must name `cause` as the first failed call (NULL: none). */
static void reports(int rc, int want, const char *cause)
{
    char msg[512];
    LT_CHECK(rc == want);
    lambda__handler_failed(&rt.res, rc);
    if (rt.res.explain) rt.res.explain(&rt.res, &rt.log);
    snprintf(msg, sizeof msg, "handler returned %d: %s%s%s", want, lambda_strerror(want),
             cause ? "; the first failed call: " : "", cause ? cause : "");
    LT_CHECK(failed_with(msg));
}

#define NOT_OPEN "no answer begun (lambda_http_begin), or it already ended"

static void test_causes(void)
{
    lambda_http_request req;
    lambda_json_writer w;
    parse_src(&req, 2); /* a write before any begin; the end after it is not the first */
    reports(lambda_http_write(&req, "x", 1), LAMBDA_E_STATE, "lambda_http_write: " NOT_OPEN);
    LT_CHECK(lambda_http_end(&req) == LAMBDA_E_STATE && rt.res.cause_call &&
             strcmp(rt.res.cause_call, "lambda_http_write") == 0);
    parse_src(&req, 1); /* a bad status, through lambda_http_send */
    reports(lambda_http_send(&req, 1000, NULL, "", 0), LAMBDA_E_ARG,
            "lambda_http_send: invalid argument");
    parse_src(&req, 4); /* a header after the answer ended */
    LT_CHECK(lambda_http_send(&req, 200, NULL, "", 0) == 0);
    reports(lambda_http_add_header(&req, "X-Late", "1"), LAMBDA_E_STATE,
            "lambda_http_add_header: the request is not parsed (lambda_http_parse), or its "
            "answer ended");
    parse_src(&req, 3); /* the body writer: its first misuse, not the sink's */
    LT_CHECK(lambda_http_begin(&req, 200, "application/json") == 0);
    lambda_http_body_writer(&req, &w);
    lambda_json_write_begin_array(&w);
    lambda_json_write_ckey(&w, "k");
    reports(lambda_json_writer_finish(&w), LAMBDA_E_STATE,
            "lambda_json_write_ckey: a key outside an object");
    parse_src(&req, 3); /* a body writer before begin */
    lambda_http_body_writer(&req, &w);
    reports(lambda_json_write_null(&w), LAMBDA_E_STATE, "lambda_http_body_writer: " NOT_OPEN);
    parse_src(&req, 2); /* no failed call: the code alone */
    reports(LAMBDA_E_NOT_FOUND, LAMBDA_E_NOT_FOUND, NULL);
}

#undef NOT_OPEN

static void test_free(void)
{
    lambda__rt_free(&rt);
    LT_CHECK(rt.scratch == NULL && rt.shutdown_free == NULL);
    LT_CHECK(n_alloc == n_free);
    if (n_alloc != n_free) printf("    %lu allocations, %lu frees\n", n_alloc, n_free);
}

int main(void)
{
    cfg.handler = noop;
    lambda__rt_init(&rt, &cfg);
    LT_RUN(test_base64);
    LT_RUN(test_percent);
    LT_RUN(test_utf8);
    LT_RUN(test_writer_buf);
    LT_RUN(test_scratch);
    LT_RUN(test_parse_sources);
    LT_RUN(test_parse_bad);
    LT_RUN(test_answers);
    LT_RUN(test_router);
    LT_RUN(test_batch);
    LT_RUN(test_s3_key);
    LT_RUN(test_causes);
    LT_RUN(test_free);
    return LT_REPORT();
}
