/* tests/fuzz_json.c - libFuzzer target: validate, path look-ups, iteration and the typed
   accessors on arbitrary bytes, with consistency checks between them.
   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -o build/fuzz/fuzz_json tests/fuzz_json.c
   Input: the whole input is a document; if it contains '\n' within its first 64 bytes, a
   second run uses the bytes before it as a path and the rest as the document. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <stdlib.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static const char *const paths[] = { "", "a", "[0]", "[1]", "a.b", "[0][1]", "a[2].b", "Records[0].s3.object.key", "\xc3\xa9" };

static int inside(lambda_json v, const char *p, size_t n)
{
    return v.ptr >= p && v.len <= n && v.ptr + v.len <= p + n;
}

static void accessors(lambda_json v)
{
    char small[4], *big;
    size_t need = 0, got = 0;
    int64_t i;
    double d;
    int b, rc = lambda_json_string(v, small, sizeof small, &need);
    if (v.type != LAMBDA_JSON_STRING) CHECK(rc == LAMBDA_E_TYPE);
    if (rc == LAMBDA_E_SPACE) {
        CHECK(need >= sizeof small && need < v.len);
        big = (char *)malloc(need + 1);
        CHECK(lambda_json_string(v, big, need + 1, &got) == 0 && got == need && big[got] == '\0');
        if (memchr(big, 0, got) == NULL) CHECK(lambda_json_string_eq(v, big) == 1);
        free(big);
    } else if (rc == 0) {
        CHECK(need < sizeof small && small[need] == '\0');
        if (memchr(small, 0, need) == NULL) CHECK(lambda_json_string_eq(v, small) == 1);
    } else {
        CHECK(lambda_json_string_eq(v, "") == 0);
    }
    if (lambda_json_int64(v, &i) == 0) {
        CHECK(lambda_json_double(v, &d) == 0);
        if (i > -(1LL << 53) && i < (1LL << 53)) CHECK(d == (double)i);
    }
    rc = lambda_json_double(v, &d);
    CHECK(rc == 0 || rc == LAMBDA_E_RANGE || rc == LAMBDA_E_TYPE || rc == LAMBDA_E_SYNTAX);
    if (rc == 0) CHECK(d == d);
    rc = lambda_json_bool(v, &b);
    CHECK(rc == 0 ? (b == (v.type == LAMBDA_JSON_TRUE)) : rc == LAMBDA_E_TYPE);
    CHECK(lambda_json_is_null(v) == (v.type == LAMBDA_JSON_NULL));
}

/* Walk a value that came from a successful validate: nothing may fail below it except
   the decoders' UTF8 for escaped lone surrogates. */
static void walk(lambda_json v, int depth)
{
    lambda_json_iter it;
    lambda_json k, e, again;
    char kb[64];
    size_t kn;
    int rc;
    accessors(v);
    if (depth > 40 || (v.type != LAMBDA_JSON_ARRAY && v.type != LAMBDA_JSON_OBJECT)) return;
    lambda_json_iter_init(&it, v);
    while ((rc = lambda_json_next(&it, &k, &e)) == 1) {
        CHECK(inside(e, v.ptr, v.len));
        if (v.type == LAMBDA_JSON_OBJECT) {
            CHECK(k.type == LAMBDA_JSON_STRING && inside(k, v.ptr, v.len));
            if (lambda_json_string(k, kb, sizeof kb, &kn) == 0) {
                CHECK(lambda_json_key(v, kb, kn, &again) == 0 && again.ptr <= e.ptr);
            }
        } else {
            CHECK(lambda_json_index(v, it.index - 1, &again) == 0 && again.ptr == e.ptr && again.len == e.len);
        }
        walk(e, depth + 1);
    }
    CHECK(rc == 0);
}

static void lookups(const char *doc, size_t n, const char *path, int valid)
{
    lambda_str d;
    lambda_json v, w;
    int rc;
    d.ptr = doc;
    d.len = n;
    rc = lambda_json_get(d, path, &v);
    CHECK(rc == 0 || rc == LAMBDA_E_NOT_FOUND || rc == LAMBDA_E_SYNTAX || rc == LAMBDA_E_DEPTH || rc == LAMBDA_E_UTF8);
    if (rc == 0) {
        CHECK(inside(v, doc, n) && v.type != LAMBDA_JSON_NONE);
        accessors(v);
        CHECK(lambda_json_find(v, "", &w) == 0 && w.ptr == v.ptr && w.len == v.len);
    } else {
        CHECK(v.type == LAMBDA_JSON_NONE && v.ptr == NULL);
    }
    /* on a valid document only the path can be wrong */
    if (valid) CHECK(lambda__json_path_ok(path) ? (rc == 0 || rc == LAMBDA_E_NOT_FOUND) : rc == LAMBDA_E_SYNTAX);
}

static void one(const char *doc, size_t n, const char *path)
{
    lambda_str d;
    lambda_json root, v;
    size_t off = 0, i;
    int rc;
    d.ptr = doc;
    d.len = n;
    rc = lambda_json_validate(d, &root, &off);
    CHECK(off <= n);
    if (rc == 0) {
        CHECK(off == 0 && inside(root, doc, n));
        CHECK(lambda_json_get(d, "", &v) == 0 && v.ptr == root.ptr && v.len == root.len && v.type == root.type);
        walk(root, 0);
    } else {
        CHECK(rc == LAMBDA_E_SYNTAX || rc == LAMBDA_E_DEPTH || rc == LAMBDA_E_UTF8);
        CHECK(root.type == LAMBDA_JSON_NONE);
    }
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) lookups(doc, n, paths[i], rc == 0);
    if (path) lookups(doc, n, path, rc == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;
    const char *nl = (const char *)memchr(doc, '\n', size < 64 ? size : 64);
    one(doc, size, NULL);
    if (nl) {
        char path[64];
        size_t pl = (size_t)(nl - doc);
        memcpy(path, doc, pl);
        path[pl] = '\0';
        one(nl + 1, size - pl - 1, path);
    }
    return 0;
}
