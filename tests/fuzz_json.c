/* tests/fuzz_json.c - libFuzzer target: validate, path look-ups, iteration and the typed
   accessors on arbitrary bytes, with consistency checks between them; and the same calls
   through every scanner (byte-at-a-time, SSE2, AVX2 / NEON), which must agree.
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

/* ---- every scanner on the same bytes: the byte-at-a-time one, SSE2 and AVX2 (x86_64, where
   the CPU has it) or NEON (arm64); whatever they say must be the same ---- */
#if !defined(LAMBDA_JSON_SCALAR) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__aarch64__)) && \
    (!defined(__OPTIMIZE_SIZE__) || defined(LAMBDA_JSON_SIMD))
#  define FUZZ_JSON_SIMD 1 /* the header's condition for its kernels */
#endif

typedef struct trace { uint64_t v[1024]; size_t n; uint64_t h; } trace;
static void tr(trace *t, uint64_t x)
{
    if (t->n < sizeof t->v / sizeof t->v[0]) t->v[t->n++] = x;
    t->h = (t->h ^ x) * 0x100000001B3u;
}
static void tr_val(trace *t, const char *base, int rc, lambda_json v)
{
    tr(t, (uint64_t)(int64_t)rc);
    tr(t, v.ptr ? (uint64_t)(v.ptr - base) : (uint64_t)-1);
    tr(t, (uint64_t)v.len);
    tr(t, (uint64_t)v.type);
}
/* 1: values passed on without the reader's seal (checked again, not skipped): the same trace */
static int unsealed;
static void tr_walk(trace *t, const char *base, lambda_json v, int depth)
{
    lambda_json_iter it;
    lambda_json k, e, again;
    char buf[64];
    size_t n = 0;
    int rc;
    if (unsealed) v.seal = 0;
    rc = lambda_json_string(v, buf, sizeof buf, &n);
    tr(t, (uint64_t)(int64_t)rc);
    tr(t, (uint64_t)n);
    if (rc == 0) tr(t, (uint64_t)(unsigned char)buf[0] << 8 | (unsigned char)buf[n ? n - 1 : 0]);
    if (depth > 12 || (v.type != LAMBDA_JSON_ARRAY && v.type != LAMBDA_JSON_OBJECT)) return;
    lambda_json_iter_init(&it, v);
    while ((rc = lambda_json_next(&it, &k, &e)) == 1) {
        tr_val(t, base, 0, k);
        tr_val(t, base, 0, e);
        if (k.type == LAMBDA_JSON_STRING && lambda_json_string(k, buf, sizeof buf, &n) == 0)
            rc = lambda_json_key(v, buf, n, &again);
        else
            rc = lambda_json_index(v, it.index - 1, &again);
        tr_val(t, base, rc, again);
        tr_walk(t, base, e, depth + 1);
    }
    tr(t, (uint64_t)(int64_t)rc);
}
static void trace_doc(trace *t, const char *doc, size_t len, const char *path)
{
    lambda_str d;
    lambda_json v;
    size_t off = 0, i;
    int rc;
    d.ptr = doc;
    d.len = len;
    t->n = 0;
    t->h = 0xCBF29CE484222325u;
    rc = lambda_json_validate(d, &v, &off);
    tr_val(t, doc, rc, v);
    tr(t, (uint64_t)off);
    for (i = 0; i <= sizeof paths / sizeof paths[0]; i++) {
        const char *p = i < sizeof paths / sizeof paths[0] ? paths[i] : path;
        if (p == NULL) continue;
        rc = lambda_json_get(d, p, &v);
        tr_val(t, doc, rc, v);
        if (rc == 0) { /* and from there */
            lambda_json w;
            size_t j;
            if (unsealed) v.seal = 0;
            for (j = 0; j <= sizeof paths / sizeof paths[0]; j++) {
                const char *q = j < sizeof paths / sizeof paths[0] ? paths[j] : path;
                if (q == NULL) continue;
                rc = lambda_json_find(v, q, &w);
                tr_val(t, doc, rc, w);
            }
        }
    }
    for (i = 0; i < len && doc[i] != '{' && doc[i] != '['; i++) {}
    if (i < len) { /* from the first bracket on, even in an invalid document */
        memset(&v, 0, sizeof v); /* made here: no seal */
        v.ptr = doc + i;
        v.len = len - i;
        v.type = doc[i] == '{' ? LAMBDA_JSON_OBJECT : LAMBDA_JSON_ARRAY;
        tr_walk(t, doc, v, 0);
    }
}
static trace trace_a, trace_b;
static void scanners(const char *doc, size_t len, const char *path)
{
#ifdef FUZZ_JSON_SIMD
#  if defined(__x86_64__)
    int isa[3] = {LAMBDA__JSON_ISA_SCALAR, LAMBDA__JSON_ISA_SSE2, LAMBDA__JSON_ISA_AVX2}, n = 2, i;
    lambda__json_isa_v = 0;
    if (lambda__json_isa() == LAMBDA__JSON_ISA_AVX2) n = 3;
#  else
    int isa[2] = {LAMBDA__JSON_ISA_SCALAR, LAMBDA__JSON_ISA_NEON}, n = 2, i;
#  endif
    for (i = 0; i < n; i++) {
        lambda__json_isa_v = isa[i];
        trace_doc(i ? &trace_b : &trace_a, doc, len, path);
        if (i) CHECK(trace_a.n == trace_b.n && trace_a.h == trace_b.h &&
                     memcmp(trace_a.v, trace_b.v, trace_a.n * sizeof trace_a.v[0]) == 0);
    }
    unsealed = 1; /* with the last one */
    trace_doc(&trace_b, doc, len, path);
    unsealed = 0;
    CHECK(trace_a.n == trace_b.n && trace_a.h == trace_b.h &&
          memcmp(trace_a.v, trace_b.v, trace_a.n * sizeof trace_a.v[0]) == 0);
    lambda__json_isa_v = 0;
#else
    (void)doc, (void)len, (void)path;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;
    const char *nl = (const char *)memchr(doc, '\n', size < 64 ? size : 64);
    one(doc, size, NULL);
    scanners(doc, size, NULL);
    if (nl) {
        char path[64];
        size_t pl = (size_t)(nl - doc);
        memcpy(path, doc, pl);
        path[pl] = '\0';
        one(nl + 1, size - pl - 1, path);
        scanners(nl + 1, size - pl - 1, path);
    }
    return 0;
}
