/* tests/fuzz_json_roundtrip.c - libFuzzer target: the input bytes drive writer calls; a
   shadow state machine knows which calls are legal. Legal calls must succeed (except the
   documented UTF8/RANGE/raw-syntax errors, which end the run), illegal ones must return
   LAMBDA_E_STATE. The finished output must validate and read back, value by value, equal
   to what was written; every double is also checked to be the shortest that reads back.
   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -o build/fuzz/fuzz_json_roundtrip tests/fuzz_json_roundtrip.c */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <stdlib.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

enum { EV_BEGIN_OBJ, EV_BEGIN_ARR, EV_END, EV_KEY, EV_STR, EV_INT, EV_DBL, EV_BOOL, EV_NULL, EV_RAW };
typedef struct ev { int kind; const char *p; size_t n; int64_t i; double d; } ev;
typedef struct reader { const uint8_t *p, *end; } reader;

static unsigned byte(reader *r) { return r->p < r->end ? *r->p++ : 0u; }
static size_t take(reader *r, size_t want, const char **out)
{
    size_t n = (size_t)(r->end - r->p) < want ? (size_t)(r->end - r->p) : want;
    *out = (const char *)r->p;
    r->p += n;
    return n;
}

static ev evs[4096];
static size_t nev, pos;

static int utf8_ok(const char *s, size_t n) /* independent check: decode, then re-encode rules */
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        unsigned long cp;
        size_t k, j;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xF0 && c <= 0xF7) k = 4, cp = c & 7u;
        else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 15u;
        else if (c >= 0xC0 && c <= 0xDF) k = 2, cp = c & 31u;
        else return 0;
        if (i + k > n) return 0;
        for (j = 1; j < k; j++) {
            if (((unsigned char)s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3Fu);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return 0;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k;
    }
    return 1;
}

static int same_str(lambda_json v, const char *s, size_t n)
{
    char *buf = (char *)malloc(n + 1);
    size_t got = 0;
    int ok = lambda_json_string(v, buf, n + 1, &got) == 0 && got == n && memcmp(buf, s, n) == 0;
    free(buf);
    return ok;
}

/* compare value v with the recorded events from evs[pos] */
static void expect(lambda_json v)
{
    ev *e;
    CHECK(pos < nev);
    e = &evs[pos++];
    switch (e->kind) {
    case EV_STR: CHECK(v.type == LAMBDA_JSON_STRING && same_str(v, e->p, e->n)); break;
    case EV_INT: { int64_t i; CHECK(lambda_json_int64(v, &i) == 0 && i == e->i); break; }
    case EV_DBL: { double d; CHECK(v.type == LAMBDA_JSON_NUMBER && lambda_json_double(v, &d) == 0 && memcmp(&d, &e->d, sizeof d) == 0); break; }
    case EV_BOOL: { int b; CHECK(lambda_json_bool(v, &b) == 0 && (int64_t)b == e->i); break; }
    case EV_NULL: CHECK(lambda_json_is_null(v)); break;
    case EV_RAW: CHECK(v.len == e->n && memcmp(v.ptr, e->p, e->n) == 0); break;
    case EV_BEGIN_OBJ:
    case EV_BEGIN_ARR: {
        lambda_json_iter it;
        lambda_json k, x;
        int obj = e->kind == EV_BEGIN_OBJ;
        CHECK(v.type == (obj ? LAMBDA_JSON_OBJECT : LAMBDA_JSON_ARRAY));
        lambda_json_iter_init(&it, v);
        while (lambda_json_next(&it, &k, &x) == 1) {
            if (obj) {
                CHECK(pos < nev && evs[pos].kind == EV_KEY && same_str(k, evs[pos].p, evs[pos].n));
                pos++;
            }
            expect(x);
        }
        CHECK(pos < nev && evs[pos].kind == EV_END);
        pos++;
        break;
    }
    default: CHECK(0);
    }
}

static lambda_response *res_new(void)
{
    lambda_response *r = (lambda_response *)calloc(1, sizeof *r);
    r->max = 1u << 24;
    lambda__response_reset(r);
    return r;
}
static void res_delete(lambda_response *r)
{
    lambda__response_free(r);
    free(r);
}

/* d as lambda_json_write_double writes it reads back to the same bits (strtod), and is the
   shortest that does: with k significant digits, neither (k-1)-digit decimal next to it
   reads back to d (any shorter decimal that did would make one of those two do so). */
static void shortest(double d)
{
    char out[64], alt[64];
    lambda_json_writer w;
    const char *c;
    uint64_t m = 0;
    int k = 0, e10 = 0, dot = 0, i;
    double back;
    lambda_json_writer_init_buf(&w, out, sizeof out);
    CHECK(lambda_json_write_double(&w, d) == 0 && lambda_json_writer_finish(&w) == 0);
    back = strtod(out, NULL);
    CHECK(memcmp(&back, &d, sizeof d) == 0);
    for (c = out; *c && *c != 'e'; c++) { /* digits D, and the point: d = D x 10^e10 */
        if (*c == '.') dot = 1;
        else if (*c >= '0' && *c <= '9') {
            if (m == 0 && *c == '0') { if (dot) e10--; continue; }
            CHECK(k < 17);
            m = m * 10 + (uint64_t)(*c - '0');
            k++;
            if (dot) e10--;
        }
    }
    if (*c == 'e') e10 += atoi(c + 1);
    if (m == 0) return; /* 0 and -0 */
    while (m % 10 == 0) m /= 10, k--, e10++;
    if (k < 2) return;
    for (i = 0; i < 2; i++) {
        uint64_t shorter = m / 10 + (uint64_t)i;
        snprintf(alt, sizeof alt, "%s%llue%d", d < 0 ? "-" : "", (unsigned long long)shorter, e10 + 1);
        back = strtod(alt, NULL);
        CHECK(memcmp(&back, &d, sizeof d) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd;
    lambda_response *res = res_new();
    lambda_json_writer w;
    unsigned char kinds[LAMBDA_JSON_MAX_DEPTH]; /* shadow: 1 = object */
    unsigned depth = 0;
    int key_due = 0, done = 0, stopped = 0, rc;
    rd.p = data;
    rd.end = data + size;
    nev = pos = 0;
    lambda_json_writer_init(&w, res);
    while (rd.p < rd.end && !done && !stopped && nev + depth + 4 < sizeof evs / sizeof evs[0]) {
        unsigned op = byte(&rd) % 12;
        int in_obj = depth > 0 && kinds[depth - 1];
        ev *e = &evs[nev];
        memset(e, 0, sizeof *e);
        if (op == 10) { /* deliberate misuse: must be refused, then everything is refused */
            if (in_obj && key_due) rc = lambda_json_write_null(&w);
            else if (in_obj) rc = lambda_json_write_ckey(&w, "k");
            else if (depth > 0) rc = lambda_json_write_end_object(&w);
            else rc = lambda_json_write_end_array(&w);
            CHECK(rc == LAMBDA_E_STATE);
            CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_STATE && lambda_json_write_null(&w) == LAMBDA_E_STATE);
            stopped = 1;
            break;
        }
        if (op == 2) { /* end */
            if (depth == 0 || (in_obj && !key_due)) continue;
            CHECK((in_obj ? lambda_json_write_end_object(&w) : lambda_json_write_end_array(&w)) == 0);
            e->kind = EV_END;
            nev++;
            depth--;
            key_due = depth > 0 && kinds[depth - 1];
            done = depth == 0;
            continue;
        }
        if (in_obj && key_due) { /* every other op becomes a key here */
            const char *s;
            size_t n = take(&rd, byte(&rd) % 24, &s);
            rc = lambda_json_write_key(&w, s, n);
            if (!utf8_ok(s, n)) { CHECK(rc == LAMBDA_E_UTF8); stopped = 1; break; }
            CHECK(rc == 0);
            e->kind = EV_KEY, e->p = s, e->n = n;
            nev++;
            key_due = 0;
            continue;
        }
        switch (op) {
        case 0:
        case 1:
            if (depth == LAMBDA_JSON_MAX_DEPTH) {
                CHECK((op ? lambda_json_write_begin_array(&w) : lambda_json_write_begin_object(&w)) == LAMBDA_E_STATE);
                stopped = 1;
                break;
            }
            CHECK((op ? lambda_json_write_begin_array(&w) : lambda_json_write_begin_object(&w)) == 0);
            e->kind = op ? EV_BEGIN_ARR : EV_BEGIN_OBJ;
            nev++;
            kinds[depth++] = (unsigned char)(op == 0);
            key_due = op == 0;
            continue;
        case 3:
        case 4:
        case 11: {
            const char *s;
            size_t n = take(&rd, byte(&rd) % 40, &s);
            if (op == 11) n = strnlen(s, n);
            rc = lambda_json_write_string(&w, s, n);
            if (!utf8_ok(s, n)) { CHECK(rc == LAMBDA_E_UTF8); stopped = 1; break; }
            CHECK(rc == 0);
            e->kind = EV_STR, e->p = s, e->n = n;
            break;
        }
        case 5: {
            uint64_t u = 0;
            const char *s;
            size_t n = take(&rd, 8, &s);
            memcpy(&u, s, n);
            e->kind = EV_INT, e->i = (int64_t)u;
            CHECK(lambda_json_write_int64(&w, e->i) == 0);
            break;
        }
        case 6: {
            const char *s;
            size_t n = take(&rd, 8, &s);
            memcpy(&e->d, s, n);
            rc = lambda_json_write_double(&w, e->d);
            if (e->d != e->d || e->d - e->d != 0.0) { CHECK(rc == LAMBDA_E_RANGE); stopped = 1; break; }
            CHECK(rc == 0);
            shortest(e->d);
            e->kind = EV_DBL;
            break;
        }
        case 7:
            e->kind = EV_BOOL, e->i = (int64_t)(byte(&rd) & 1);
            CHECK(lambda_json_write_bool(&w, (int)e->i) == 0);
            break;
        case 8:
            e->kind = EV_NULL;
            CHECK(lambda_json_write_null(&w) == 0);
            break;
        default: { /* 9: raw JSON from the input; must agree with validate */
            const char *s;
            size_t n = take(&rd, byte(&rd) % 48, &s), off;
            lambda_str doc;
            lambda_json root;
            int vrc;
            doc.ptr = s;
            doc.len = n;
            vrc = lambda_json_validate(doc, &root, &off);
            rc = lambda_json_write_raw(&w, s, n);
            if (vrc == 0 && depth > 0) { /* nesting counts from the writer's depth */
                lambda_json tmp;
                const char *p = s;
                vrc = lambda__json_scan(&p, s + n, depth, &tmp);
            }
            if (rc == LAMBDA_E_DEPTH && vrc != 0 && vrc != LAMBDA_E_DEPTH) {
                /* malformed and too deep at the writer's depth: the scan meets the depth
                   limit first, so it must have seen more openers than the room left */
                size_t opens = 0, i;
                for (i = 0; i < n; i++) opens += s[i] == '[' || s[i] == '{';
                CHECK(depth > 0 && opens > LAMBDA_JSON_MAX_DEPTH - depth);
            } else {
                CHECK(rc == vrc);
            }
            if (rc) { stopped = 1; break; }
            e->kind = EV_RAW, e->p = root.ptr, e->n = root.len;
            break;
        }
        }
        if (stopped) break;
        nev++;
        done = depth == 0;
        key_due = depth > 0 && kinds[depth - 1];
    }
    if (!stopped) {
        lambda_str doc;
        lambda_json root;
        if (nev == 0) {
            CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
        } else {
            /* close what is open: a value for a dangling key, then the containers */
            if (depth > 0 && kinds[depth - 1] && !key_due) {
                CHECK(lambda_json_write_null(&w) == 0);
                evs[nev].kind = EV_NULL;
                nev++;
            }
            while (depth > 0) {
                CHECK((kinds[depth - 1] ? lambda_json_write_end_object(&w) : lambda_json_write_end_array(&w)) == 0);
                evs[nev].kind = EV_END;
                nev++;
                depth--;
            }
            CHECK(lambda_json_writer_finish(&w) == 0);
            doc.ptr = res->body.ptr;
            doc.len = res->body.len;
            CHECK(lambda_json_validate(doc, &root, NULL) == 0);
            expect(root);
            CHECK(pos == nev);
        }
    }
    res_delete(res);
    return 0;
}
