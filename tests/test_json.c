/* tests/test_json.c - white-box tests of the JSON scanner, getters and writer.
   Usage: test_json PATH/TO/JSONTestSuite/test_parsing
   Build: gcc -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -pedantic -Wshadow -Werror -I. -O2 -Wconversion -o build/test_json tests/test_json.c */
#define _DEFAULT_SOURCE
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <dirent.h>
#include <locale.h>
#include "lt.h"
#include "bench_event.h"

static const char *suite_dir;

static lambda_str SN(const char *s, size_t n)
{
    lambda_str r;
    r.ptr = s;
    r.len = n;
    return r;
}
static lambda_str S(const char *s) { return SN(s, strlen(s)); }

static lambda_json JV(const char *s, lambda_json_type t) /* a hand-made value, possibly bogus */
{
    lambda_json v;
    v.ptr = s;
    v.len = strlen(s);
    v.type = t;
    return v;
}

/* ---- responses: the real lambda_response, reset the way the runtime does it ---- */
static void res_init(lambda_response *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
    lambda__response_reset(r);
}
static void res_free(lambda_response *r)
{
    lambda__response_free(r);
}
static int body_is(const lambda_response *r, const char *want)
{
    size_t n = strlen(want);
    if (r->body.len == n && (n == 0 || memcmp(r->body.ptr, want, n) == 0)) return 1;
    printf("    body: %.*s\n    want: %s\n", (int)r->body.len, r->body.ptr ? r->body.ptr : "", want);
    return 0;
}

#include "guard_page.h"

/* get + unescape + compare */
static int get_is(lambda_str doc, const char *path, const char *want)
{
    lambda_json v;
    char buf[256];
    int rc = lambda_json_get(doc, path, &v);
    if (rc == 0) rc = lambda_json_string(v, buf, sizeof buf, NULL);
    if (rc == 0 && strcmp(buf, want) == 0) return 1;
    printf("    get %s: rc %d, got \"%s\", want \"%s\"\n", path, rc, rc ? "" : buf, want);
    return 0;
}
static int64_t get_i(lambda_str doc, const char *path)
{
    lambda_json v;
    int64_t i = -999;
    if (lambda_json_get(doc, path, &v) != 0 || lambda_json_int64(v, &i) != 0) return -999;
    return i;
}

/* ======================================================================== validate */

#define V(lit, want, off, why) { lit, sizeof(lit) - 1, want, off, why }
#define ANY ((size_t)-1)
static const struct { const char *in; size_t len; int want; size_t off; const char *why; } validate_cases[] = {
    V("{}", 0, 0, "empty object"),
    V("[]", 0, 0, "empty array"),
    V(" \t\r\n[1, -0, 0.5e+3, 1E-2, -12.25E07, \"a\\u00e9\\ud83d\\ude00\", true, false, null] \n", 0, 0, "all kinds"),
    V("\"x\"", 0, 0, "top-level string"),
    V("0", 0, 0, "top-level zero"),
    V("-1.5e10", 0, 0, "top-level number"),
    V("{\"a\":{\"b\":[{},[]]},\"\":0}", 0, 0, "nesting, empty key"),
    V("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"", 0, 0, "raw UTF-8 of every length, U+10FFFF"),
    V("\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", 0, 0, "every short escape"),
    V("\"\\ud800\"", 0, 0, "escaped lone surrogate: grammar-valid (decoders reject it)"),
    V("\"\x7f\"", 0, 0, "DEL is not a control character in JSON"),
    V("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\\"bbbbbbbbbbbbbbbbbbbb\"]", 0, 0, "escape after a long plain run"),
    V("", LAMBDA_E_SYNTAX, 0, "empty"),
    V(" ", LAMBDA_E_SYNTAX, 1, "whitespace only"),
    V("[1,]", LAMBDA_E_SYNTAX, 3, "trailing comma in array"),
    V("{\"a\":1,}", LAMBDA_E_SYNTAX, 7, "trailing comma in object"),
    V("[,1]", LAMBDA_E_SYNTAX, 1, "leading comma"),
    V("01", LAMBDA_E_SYNTAX, 1, "leading zero"),
    V("[-01]", LAMBDA_E_SYNTAX, 3, "negative leading zero"),
    V("-", LAMBDA_E_SYNTAX, 1, "lone minus"),
    V("1.", LAMBDA_E_SYNTAX, 2, "no fraction digits"),
    V(".5", LAMBDA_E_SYNTAX, 0, "no integer part"),
    V("1e", LAMBDA_E_SYNTAX, 2, "no exponent digits"),
    V("1e+", LAMBDA_E_SYNTAX, 3, "no exponent digits after sign"),
    V("+1", LAMBDA_E_SYNTAX, 0, "plus sign"),
    V("[1 2]", LAMBDA_E_SYNTAX, 3, "missing comma"),
    V("{\"a\" 1}", LAMBDA_E_SYNTAX, 5, "missing colon"),
    V("{\"a\":1 \"b\":2}", LAMBDA_E_SYNTAX, 7, "missing comma between members"),
    V("{a:1}", LAMBDA_E_SYNTAX, 1, "unquoted key"),
    V("{1:1}", LAMBDA_E_SYNTAX, 1, "number key"),
    V("{'a':1}", LAMBDA_E_SYNTAX, 1, "single quotes"),
    V("\"a\tb\"", LAMBDA_E_SYNTAX, 2, "raw tab in string"),
    V("\"a\0b\"", LAMBDA_E_SYNTAX, 2, "raw NUL in string"),
    V("\"\\x\"", LAMBDA_E_SYNTAX, 1, "bad escape"),
    V("\"\\u12g4\"", LAMBDA_E_SYNTAX, 1, "bad hex"),
    V("\"\\u12\"", LAMBDA_E_SYNTAX, 1, "short \\u"),
    V("\"\\", LAMBDA_E_SYNTAX, 2, "cut after backslash"),
    V("\"abc", LAMBDA_E_SYNTAX, 4, "unterminated string"),
    V("\"\xc3\"", LAMBDA_E_UTF8, 1, "cut 2-byte sequence"),
    V("\"\xed\xa0\x80\"", LAMBDA_E_UTF8, 1, "UTF-16 surrogate encoded in UTF-8"),
    V("\"\xc0\xaf\"", LAMBDA_E_UTF8, 1, "overlong"),
    V("\"\xe0\x80\xaf\"", LAMBDA_E_UTF8, 1, "overlong 3-byte"),
    V("\"\xf4\x90\x80\x80\"", LAMBDA_E_UTF8, 1, "above U+10FFFF"),
    V("\"ab\xff\"", LAMBDA_E_UTF8, 3, "0xFF byte"),
    V("\"\x80\"", LAMBDA_E_UTF8, 1, "lone continuation byte"),
    V("\"aaaaaaaaaaaaaaaa\xe2\x82\"", LAMBDA_E_UTF8, 17, "bad sequence after a fast run"),
    V("[1]x", LAMBDA_E_SYNTAX, 3, "trailing garbage"),
    V("[1] [2]", LAMBDA_E_SYNTAX, 4, "two values"),
    V("[1]\0", LAMBDA_E_SYNTAX, 3, "trailing NUL"),
    V("\xef\xbb\xbf{}", LAMBDA_E_SYNTAX, 0, "byte order mark"),
    V("[\f]", LAMBDA_E_SYNTAX, 1, "form feed is not whitespace"),
    V("[\v1]", LAMBDA_E_SYNTAX, 1, "vertical tab is not whitespace"),
    V("[\xc2\xa0" "1]", LAMBDA_E_SYNTAX, 1, "NBSP is not whitespace"),
    V("tru", LAMBDA_E_SYNTAX, 0, "cut literal"),
    V("truex", LAMBDA_E_SYNTAX, 4, "literal with tail"),
    V("[True]", LAMBDA_E_SYNTAX, 1, "capital literal"),
    V("nul", LAMBDA_E_SYNTAX, 0, "cut null"),
    V("NaN", LAMBDA_E_SYNTAX, 0, "NaN"),
    V("[-Infinity]", LAMBDA_E_SYNTAX, 2, "-Infinity"),
    V("0x10", LAMBDA_E_SYNTAX, 1, "hex number"),
    V("{\"a\":1}}", LAMBDA_E_SYNTAX, 7, "extra close"),
    V("[1,2", LAMBDA_E_SYNTAX, 4, "cut array"),
    V("{", LAMBDA_E_SYNTAX, 1, "open brace"),
    V("{\"a\"", LAMBDA_E_SYNTAX, 4, "cut after key"),
    V("{\"a\":", LAMBDA_E_SYNTAX, 5, "cut after colon"),
    V("[[]", LAMBDA_E_SYNTAX, 3, "unbalanced"),
    V("]", LAMBDA_E_SYNTAX, 0, "close only"),
    V("{]", LAMBDA_E_SYNTAX, 1, "mismatched close"),
    V("[}", LAMBDA_E_SYNTAX, 1, "mismatched close 2"),
    V("[1,\0]", LAMBDA_E_SYNTAX, 3, "NUL as value"),
    V("/*c*/1", LAMBDA_E_SYNTAX, 0, "comment"),
};

static void test_validate_table(void)
{
    size_t i;
    for (i = 0; i < sizeof validate_cases / sizeof validate_cases[0]; i++) {
        size_t off = 12345;
        lambda_json root;
        const char *g = guarded(validate_cases[i].in, validate_cases[i].len);
        int rc = lambda_json_validate(SN(g, validate_cases[i].len), &root, &off);
        int ok = rc == validate_cases[i].want && (validate_cases[i].off == ANY || off == validate_cases[i].off);
        if (!ok) printf("    case \"%s\": rc %d off %lu\n", validate_cases[i].why, rc, (unsigned long)off);
        LT_CHECK(ok);
        if (rc == 0) LT_CHECK(root.ptr >= g && root.ptr + root.len <= g + validate_cases[i].len && root.type != LAMBDA_JSON_NONE);
        else LT_CHECK(root.type == LAMBDA_JSON_NONE && root.ptr == NULL);
    }
}

static void test_validate_root(void)
{
    lambda_json r;
    size_t off = 99;
    LT_CHECK(lambda_json_validate(S(" \n[1, 2] \t"), &r, &off) == 0 && off == 0);
    LT_CHECK(r.type == LAMBDA_JSON_ARRAY && r.len == 6 && memcmp(r.ptr, "[1, 2]", 6) == 0);
    LT_CHECK(lambda_json_validate(S("-0.5"), &r, NULL) == 0 && r.type == LAMBDA_JSON_NUMBER && r.len == 4);
    LT_CHECK(lambda_json_validate(S("null"), &r, NULL) == 0 && r.type == LAMBDA_JSON_NULL);
    LT_CHECK(lambda_json_validate(S("true"), &r, NULL) == 0 && r.type == LAMBDA_JSON_TRUE);
    LT_CHECK(lambda_json_validate(S("false"), &r, NULL) == 0 && r.type == LAMBDA_JSON_FALSE);
    LT_CHECK(lambda_json_validate(S("\"\""), &r, NULL) == 0 && r.type == LAMBDA_JSON_STRING && r.len == 2);
    LT_CHECK(lambda_json_validate(S("{}"), NULL, NULL) == 0);
    LT_CHECK(lambda_json_validate(SN(NULL, 0), &r, &off) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_validate(SN(NULL, 3), &r, &off) == LAMBDA_E_ARG);
}

static char *nested(size_t n, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close), i;
    char *s = (char *)malloc(n * (lo + lc) + li + 1), *p = s;
    for (i = 0; i < n; i++, p += lo) memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (i = 0; i < n; i++, p += lc) memcpy(p, close, lc);
    *p = '\0';
    return s;
}

static void test_validate_depth(void)
{
    size_t off = 0;
    lambda_json v;
    char *s = nested(LAMBDA_JSON_MAX_DEPTH, "[", "1", "]");
    LT_CHECK(lambda_json_validate(S(s), NULL, &off) == 0);
    LT_CHECK(lambda_json_get(S(s), "", &v) == 0 && v.len == strlen(s));
    free(s);
    s = nested(LAMBDA_JSON_MAX_DEPTH + 1, "[", "", "]");
    LT_CHECK(lambda_json_validate(S(s), NULL, &off) == LAMBDA_E_DEPTH && off == LAMBDA_JSON_MAX_DEPTH);
    LT_CHECK(lambda_json_get(S(s), "", &v) == LAMBDA_E_DEPTH);
    LT_CHECK(lambda_json_get(S(s), "[0][0]", &v) == LAMBDA_E_DEPTH);
    free(s);
    s = nested(LAMBDA_JSON_MAX_DEPTH, "{\"a\":", "{}", "}");
    LT_CHECK(lambda_json_validate(S(s), NULL, &off) == LAMBDA_E_DEPTH);
    free(s);
    s = nested(LAMBDA_JSON_MAX_DEPTH - 1, "{\"a\":", "{}", "}");
    LT_CHECK(lambda_json_validate(S(s), NULL, &off) == 0);
    LT_CHECK(lambda_json_get(S(s), "a.a.a", &v) == 0 && v.type == LAMBDA_JSON_OBJECT);
    free(s);
    /* far beyond the limit: must fail fast, not overflow the C stack */
    s = nested(1000000, "[", "", "");
    LT_CHECK(lambda_json_validate(S(s), NULL, &off) == LAMBDA_E_DEPTH && off == LAMBDA_JSON_MAX_DEPTH);
    free(s);
}

/* 2^-1075 exactly: half of the smallest subnormal double (752 significant digits) */
#define HALF_MIN_SUBNORMAL \
    "247032822920623272088284396434110686182529901307162382212792841250337753635104375932649918" \
    "180817996189898282347722858865463328355177969898199387398005390939063150356595155702263922" \
    "908583924491051844359318028499365361525003193704576782492193656236698636584807570015857692" \
    "699037063119282795585513329278343384093519780155312465972635795746227664652728272200563740" \
    "064854999770965994704540208281662262378573934507363390079677619305775067401763246736009689" \
    "513405355374585166611342237666786041621596804619144672918403005300575308490487653917113865" \
    "916462395249126236538818796362393732804238910186723484976682350898633885879256283027559956" \
    "575244555072551893136908362547791869486679949683240497058210285131854513962138377228261454" \
    "37693412532098591327667236328125"

/* ======================================================================== paths */

static const char s3_event[] =
    "{\"Records\":[\n"
    "  {\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b1\"},\"object\":{\"key\":\"k1\",\"size\":10}}},\n"
    "  {\"eventName\" : \"x\" , \"s3\" : { \"bucket\" : {\"name\":\"b2\"}, \"object\" : {\"key\" : \"photos/a b.jpg\", \"size\" : 1024 } } }\n"
    " ],\n"
    " \"requestContext\":{\"http\":{\"method\":\"POST\",\"path\":\"/a.b[0]\"}},\n"
    " \"key\":\"top\", \"n\":null, \"list\":[[1,2],[3,[4,5]]]}";

static void test_get_paths(void)
{
    lambda_str doc = S(s3_event);
    lambda_json v;
    LT_CHECK(get_is(doc, "Records[1].s3.object.key", "photos/a b.jpg"));
    LT_CHECK(get_is(doc, "Records[0].s3.object.key", "k1"));
    LT_CHECK(get_is(doc, "Records[1].s3.bucket.name", "b2"));
    LT_CHECK(get_i(doc, "Records[0].s3.object.size") == 10);
    LT_CHECK(get_i(doc, "Records[1].s3.object.size") == 1024);
    LT_CHECK(get_is(doc, "requestContext.http.method", "POST"));
    LT_CHECK(get_is(doc, "requestContext.http.path", "/a.b[0]"));
    LT_CHECK(get_i(doc, "list[1][1][0]") == 4);
    LT_CHECK(get_i(doc, "list[0][1]") == 2);
    LT_CHECK(lambda_json_get(doc, "n", &v) == 0 && lambda_json_is_null(v));
    LT_CHECK(lambda_json_get(doc, "", &v) == 0 && v.type == LAMBDA_JSON_OBJECT && v.ptr == s3_event && v.len == doc.len);
    LT_CHECK(lambda_json_get(doc, "Records", &v) == 0 && v.type == LAMBDA_JSON_ARRAY && v.ptr[v.len - 1] == ']');
    LT_CHECK(lambda_json_get(doc, "Records[1]", NULL) == 0);   /* presence test */
    /* wrong depth: "key" exists only nested, except the top-level one */
    LT_CHECK(get_is(doc, "key", "top"));
    LT_CHECK(lambda_json_get(doc, "size", &v) == LAMBDA_E_NOT_FOUND && v.type == LAMBDA_JSON_NONE && v.ptr == NULL);
    LT_CHECK(lambda_json_get(doc, "s3", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Records[0].key", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Records[0].s3.key", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "http.method", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Records[2]", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Records[99999999999999999999999999]", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Records.s3", &v) == LAMBDA_E_NOT_FOUND);      /* key in an array */
    LT_CHECK(lambda_json_get(doc, "requestContext[0]", &v) == LAMBDA_E_NOT_FOUND); /* index in an object */
    LT_CHECK(lambda_json_get(doc, "key.x", &v) == LAMBDA_E_NOT_FOUND);          /* key in a string */
    LT_CHECK(lambda_json_get(doc, "key[0]", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "n.x", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, "Key", &v) == LAMBDA_E_NOT_FOUND);            /* case-sensitive */
    LT_CHECK(lambda_json_get(doc, "ke", &v) == LAMBDA_E_NOT_FOUND);             /* no prefix match */
    LT_CHECK(lambda_json_get(doc, "keys", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(doc, NULL, &v) == LAMBDA_E_ARG);
    LT_CHECK(lambda_json_get(SN(NULL, 0), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(SN(NULL, 4), "a", &v) == LAMBDA_E_ARG);
    LT_CHECK(lambda_json_get(S("  [10, 20]  "), "[1]", &v) == 0 && v.len == 2 && memcmp(v.ptr, "20", 2) == 0);
    LT_CHECK(lambda_json_get(S("[]"), "[0]", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(S("{}"), "a", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(S("5"), "a", &v) == LAMBDA_E_NOT_FOUND);
}

static void test_get_lookalikes(void)
{
    /* strings that contain keys, keys as values, keys only at the wrong depth */
    static const char d1[] = "{\"a\":\"\\\"key\\\":\\\"bad\\\"\",\"b\":\"key\",\"c\":[\"key\",{\"x\":{\"key\":\"deep\"}}],"
                             "\"d\":{\"key\":\"nested\"},\"key\":\"good\"}";
    static const char d2[] = "{\"a\":\"\\\"key\\\":1\",\"c\":{\"key\":2},\"e\":[{\"key\":3}],\"f\":\"key\"}";
    static const char d3[] = "{\"x\":{\"y\":1},\"y\":2,\"z\":{\"x\":{\"y\":3}}}";
    static const char d4[] = "{\"a\":1,\"a\":2,\"a\\u0062\":3,\"a.b\":4,\"c[0]\":5,\"\\u00e9\":6,\"k\\u0000z\":7,\"\":8}";
    lambda_json v, root;
    LT_CHECK(get_is(S(d1), "key", "good"));
    LT_CHECK(get_is(S(d1), "d.key", "nested"));
    LT_CHECK(get_is(S(d1), "c[1].x.key", "deep"));
    LT_CHECK(lambda_json_get(S(d2), "key", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(get_i(S(d2), "c.key") == 2 && get_i(S(d2), "e[0].key") == 3);
    LT_CHECK(get_i(S(d3), "y") == 2 && get_i(S(d3), "x.y") == 1 && get_i(S(d3), "z.x.y") == 3);
    LT_CHECK(lambda_json_get(S(d3), "z.y", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(get_i(S(d4), "a") == 1);          /* first duplicate wins */
    LT_CHECK(get_i(S(d4), "ab") == 3);         /* compared after unescaping */
    LT_CHECK(get_i(S(d4), "\xc3\xa9") == 6);
    LT_CHECK(lambda_json_get(S(d4), "a\\u0062", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(S(d4), "", &root) == 0);
    LT_CHECK(lambda_json_key(root, "a.b", 3, &v) == 0 && lambda_json_int64(v, NULL) == 0 && v.ptr[0] == '4');
    LT_CHECK(lambda_json_key(root, "c[0]", 4, &v) == 0 && v.ptr[0] == '5');
    LT_CHECK(lambda_json_key(root, "k\0z", 3, &v) == 0 && v.ptr[0] == '7');
    LT_CHECK(lambda_json_key(root, "k", 1, &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_key(root, "", 0, &v) == 0 && v.ptr[0] == '8');
    LT_CHECK(lambda_json_key(root, NULL, 0, &v) == 0 && v.ptr[0] == '8');
    LT_CHECK(lambda_json_key(root, NULL, 1, &v) == LAMBDA_E_ARG);
    LT_CHECK(lambda_json_key(root, "ab", 2, NULL) == 0);
    LT_CHECK(lambda_json_key(root, "zz", 2, &v) == LAMBDA_E_NOT_FOUND && v.type == LAMBDA_JSON_NONE);
}

static void test_path_syntax(void)
{
    static const char *const bad[] = { ".", "a.", ".a", "a..b", "a[", "a[]", "a[x]", "a[1", "[-1]", "a[1]x",
                                       "[0]]", "a[1].", "a.[0]", "[ 0]", "[0 ]", "a[+1]" };
    size_t i;
    lambda_json v;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lambda_json_get(S(s3_event), bad[i], &v);
        if (rc != LAMBDA_E_SYNTAX) printf("    path \"%s\": %d\n", bad[i], rc);
        LT_CHECK(rc == LAMBDA_E_SYNTAX);
    }
    LT_CHECK(lambda_json_get(S("[[0,[1]]]"), "[0][1][0]", &v) == 0 && v.ptr[0] == '1');
    LT_CHECK(lambda_json_get(S("{\"a\":[{\"b\":[7]}]}"), "a[0].b[0]", &v) == 0 && v.ptr[0] == '7');
    LT_CHECK(lambda_json_get(S("[0,1,2,3,4,5,6,7,8,9,10]"), "[010]", &v) == 0 && v.len == 2); /* decimal index */
    LT_CHECK(lambda_json_get(S("{\"a]\":1}"), "a]", &v) == 0);
}

/* Keys with '.' or '[' in brackets and quotes: ["CodePipeline.job"], SAML claim URLs. */
static void test_path_quoted(void)
{
    static const char doc[] =
        "{\"CodePipeline.job\":{\"id\":\"11111111-abcd\",\"data\":{\"a[0]\":[5,6]}},"
        "\"claims\":{\"https://aws.amazon.com/SAML/Attributes/Role\":\"admin\",\"\":\"empty\"},"
        "\"esc\\u002ekey\":1,\"a\":{\"b\":2},\"a.b\":3}";
    static const char *const bad[] = {"[\"a", "[\"a\"", "[\"a\"]x", "x.[\"a\"]", "[\"a\"].", "[\"a\"]]",
                                      "[\"]", "[\"a\"b\"]"};
    lambda_json v;
    size_t i;
    LT_CHECK(get_is(S(doc), "[\"CodePipeline.job\"].id", "11111111-abcd"));
    LT_CHECK(get_i(S(doc), "[\"CodePipeline.job\"].data[\"a[0]\"][1]") == 6);
    LT_CHECK(get_is(S(doc), "claims[\"https://aws.amazon.com/SAML/Attributes/Role\"]", "admin"));
    LT_CHECK(get_is(S(doc), "claims[\"\"]", "empty"));
    LT_CHECK(get_i(S(doc), "[\"esc.key\"]") == 1); /* compared after unescaping */
    LT_CHECK(get_i(S(doc), "a.b") == 2 && get_i(S(doc), "[\"a.b\"]") == 3 && get_i(S(doc), "[\"a\"].b") == 2);
    LT_CHECK(lambda_json_get(S(doc), "[\"CodePipeline\"]", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(S("[1]"), "[\"a\"]", &v) == LAMBDA_E_NOT_FOUND); /* a key in an array */
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lambda_json_get(S(doc), bad[i], &v);
        if (rc != LAMBDA_E_SYNTAX) printf("    path %s: %d\n", bad[i], rc);
        LT_CHECK(rc == LAMBDA_E_SYNTAX);
    }
}

static void test_get_malformed(void)
{
    lambda_json v;
    /* lazy: what follows the value is not looked at */
    LT_CHECK(lambda_json_get(S("{\"a\":1,\"b\":"), "a", &v) == 0 && v.ptr[0] == '1' && v.len == 1);
    LT_CHECK(lambda_json_validate(S("{\"a\":1,\"b\":"), NULL, NULL) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":[1,2]]"), "a", &v) == 0 && v.len == 5);
    /* ... but everything before it and the value itself are */
    LT_CHECK(lambda_json_get(S("{\"a\":1,\"b\":"), "b", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":1x}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":tru}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":[1,2}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":tru,\"a\":1}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":[1,,2],\"a\":1}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":\"\xff\",\"a\":1}"), "a", &v) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_get(S("{\"\xff\":0,\"a\":1}"), "a", &v) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_get(S("{\"b\" 1,\"a\":1}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":1 \"a\":1}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":1,}"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"b\":1"), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("[1,2"), "[5]", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("[1 2]"), "[1]", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":x}"), "a.b", &v) == LAMBDA_E_SYNTAX); /* other kind, malformed */
    LT_CHECK(lambda_json_get(S("{\"a\":5}"), "a.b", &v) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_get(S(""), "", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("   "), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\""), "a", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_get(S("{\"a\":"), "a", &v) == LAMBDA_E_SYNTAX);
}

/* every prefix of the event, ending at a guard page: no over-read, consistent answers */
static void test_get_prefixes(void)
{
    static const char *const paths[] = { "", "Records[1].s3.object.key", "key", "list[1][1][1]", "n", "zz" };
    size_t n = sizeof s3_event - 1, i, k;
    int bad = 0;
    for (i = 0; i <= n; i++) {
        const char *g = guarded(s3_event, i);
        lambda_json v;
        int vrc = lambda_json_validate(SN(g, i), NULL, NULL);
        if ((vrc == 0) != (i == n)) bad++;
        for (k = 0; k < sizeof paths / sizeof paths[0]; k++) {
            int rc = lambda_json_get(SN(g, i), paths[k], &v);
            if (rc == 0 && (v.ptr < g || v.ptr + v.len > g + i)) bad++;
            if (i == n && (rc == 0) != (k < 5)) bad++;
            if (rc != 0 && rc != LAMBDA_E_SYNTAX && rc != LAMBDA_E_NOT_FOUND) bad++;
            if (rc == LAMBDA_E_NOT_FOUND && k < 5) bad++; /* a cut document never says "not there" for a present key */
        }
    }
    LT_CHECK(bad == 0);
}

static void test_find(void)
{
    lambda_str doc = S(s3_event);
    lambda_json rec, v, none;
    LT_CHECK(lambda_json_get(doc, "Records[1]", &rec) == 0 && rec.type == LAMBDA_JSON_OBJECT);
    LT_CHECK(lambda_json_find(rec, "s3.bucket.name", &v) == 0 && lambda_json_string_eq(v, "b2"));
    LT_CHECK(lambda_json_find(rec, "", &v) == 0 && v.ptr == rec.ptr && v.len == rec.len);
    LT_CHECK(lambda_json_find(rec, "Records", &v) == LAMBDA_E_NOT_FOUND);  /* relative to rec */
    LT_CHECK(lambda_json_find(rec, "s3..x", &v) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_find(rec, NULL, &v) == LAMBDA_E_ARG);
    LT_CHECK(lambda_json_get(doc, "nope", &none) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_find(none, "a", &v) == LAMBDA_E_NOT_FOUND && v.type == LAMBDA_JSON_NONE);
    /* a value never reads outside its own span */
    v = JV("{\"a\":1}", LAMBDA_JSON_OBJECT);
    v.len = 5; /* {"a": */
    LT_CHECK(lambda_json_find(v, "a", &rec) == LAMBDA_E_SYNTAX);
}

static void test_key_index(void)
{
    lambda_json root, v;
    LT_CHECK(lambda_json_get(S(s3_event), "", &root) == 0);
    LT_CHECK(lambda_json_key(root, "requestContext", 14, &v) == 0 && v.type == LAMBDA_JSON_OBJECT);
    LT_CHECK(lambda_json_key(v, "http", 4, &v) == 0 && lambda_json_key(v, "method", 6, &v) == 0);
    LT_CHECK(lambda_json_string_eq(v, "POST"));
    LT_CHECK(lambda_json_key(root, "Records", 7, &v) == 0 && v.type == LAMBDA_JSON_ARRAY);
    LT_CHECK(lambda_json_index(v, 1, &root) == 0 && root.type == LAMBDA_JSON_OBJECT);
    LT_CHECK(lambda_json_index(v, 2, &root) == LAMBDA_E_NOT_FOUND && root.type == LAMBDA_JSON_NONE);
    LT_CHECK(lambda_json_index(v, (size_t)-1, NULL) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_key(v, "a", 1, NULL) == LAMBDA_E_TYPE);           /* key on an array */
    LT_CHECK(lambda_json_get(S(s3_event), "", &root) == 0);
    LT_CHECK(lambda_json_index(root, 0, NULL) == LAMBDA_E_TYPE);           /* index on an object */
    LT_CHECK(lambda_json_index(JV("7", LAMBDA_JSON_NUMBER), 0, NULL) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_key(JV("\"s\"", LAMBDA_JSON_STRING), "s", 1, NULL) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_index(JV("[]", LAMBDA_JSON_ARRAY), 0, NULL) == LAMBDA_E_NOT_FOUND);
    LT_CHECK(lambda_json_index(JV("[5 ,\n6 ]", LAMBDA_JSON_ARRAY), 1, &v) == 0 && v.len == 1 && v.ptr[0] == '6');
    /* malformed hand-made containers */
    LT_CHECK(lambda_json_key(JV("{\"a\":1,}", LAMBDA_JSON_OBJECT), "b", 1, NULL) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_key(JV("{\"a\" 1}", LAMBDA_JSON_OBJECT), "a", 1, NULL) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_index(JV("[1,,2]", LAMBDA_JSON_ARRAY), 2, NULL) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_index(JV("[1,2", LAMBDA_JSON_ARRAY), 5, NULL) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_index(JV("{1,2]", LAMBDA_JSON_ARRAY), 0, NULL) == LAMBDA_E_SYNTAX);
}

/* ======================================================================== typed access */

static void test_string(void)
{
    char buf[64];
    size_t n = 99;
    lambda_json v;
    LT_CHECK(lambda_json_string(JV("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == 0);
    LT_CHECK(n == 12 && memcmp(buf, "a\"b\\c/d\b\f\n\r\t", 13) == 0);
    LT_CHECK(lambda_json_string(JV("\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == 0);
    LT_CHECK(n == 10 && memcmp(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A", 11) == 0);
    LT_CHECK(lambda_json_string(JV("\"\\udbff\\udfff\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == 0 &&
             n == 4 && memcmp(buf, "\xf4\x8f\xbf\xbf", 5) == 0);
    LT_CHECK(lambda_json_string(JV("\"\xc3\xa9 raw\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == 0 && n == 6);
    LT_CHECK(lambda_json_string(JV("\"a\\u0000b\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == 0 &&
             n == 3 && memcmp(buf, "a\0b", 4) == 0);
    LT_CHECK(lambda_json_string(JV("\"\"", LAMBDA_JSON_STRING), buf, 1, &n) == 0 && n == 0 && buf[0] == '\0');
    /* lone surrogates and bad UTF-8 */
    LT_CHECK(lambda_json_string(JV("\"\\ud800\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8 && n == 0 && buf[0] == '\0');
    LT_CHECK(lambda_json_string(JV("\"\\udc00\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_string(JV("\"\\ud800\\u0041\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_string(JV("\"\\ud800x\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_string(JV("\"\\ud800\\ud800\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_string(JV("\"\\ud800\\uzzzz\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"ab\xff\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8 && buf[0] == '\0');
    LT_CHECK(lambda_json_string(JV("\"\xe2\x82\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_UTF8);
    /* space */
    v = JV("\"hello\"", LAMBDA_JSON_STRING);
    LT_CHECK(lambda_json_string(v, buf, 5, &n) == LAMBDA_E_SPACE && n == 5 && buf[0] == '\0');
    LT_CHECK(lambda_json_string(v, buf, 6, &n) == 0 && n == 5 && strcmp(buf, "hello") == 0);
    LT_CHECK(lambda_json_string(v, NULL, 0, &n) == LAMBDA_E_SPACE && n == 5);
    LT_CHECK(lambda_json_string(v, buf, 6, NULL) == 0);
    LT_CHECK(lambda_json_string(v, NULL, 3, &n) == LAMBDA_E_ARG);
    LT_CHECK(lambda_json_string(JV("\"\\ud83d\\ude00\"", LAMBDA_JSON_STRING), buf, 4, &n) == LAMBDA_E_SPACE && n == 4);
    /* not a string, malformed */
    LT_CHECK(lambda_json_string(JV("12", LAMBDA_JSON_NUMBER), buf, sizeof buf, &n) == LAMBDA_E_TYPE && n == 0);
    LT_CHECK(lambda_json_string(JV("{}", LAMBDA_JSON_OBJECT), buf, sizeof buf, &n) == LAMBDA_E_TYPE);
    v.ptr = NULL; v.len = 0; v.type = LAMBDA_JSON_NONE;
    LT_CHECK(lambda_json_string(v, buf, sizeof buf, &n) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_string(JV("\"abc", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"a\\\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"a\"b\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"a\nb\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"\\q\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_string(JV("\"\\u12\"", LAMBDA_JSON_STRING), buf, sizeof buf, &n) == LAMBDA_E_SYNTAX);
}

static void test_string_eq(void)
{
    LT_CHECK(lambda_json_string_eq(JV("\"abc\"", LAMBDA_JSON_STRING), "abc") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"abc\"", LAMBDA_JSON_STRING), "ab") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"abc\"", LAMBDA_JSON_STRING), "abcd") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"abc\"", LAMBDA_JSON_STRING), "abd") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"a\\u0062c\"", LAMBDA_JSON_STRING), "abc") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"\\u00e9\"", LAMBDA_JSON_STRING), "\xc3\xa9") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"\\u00e9\"", LAMBDA_JSON_STRING), "\xc3") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"\\ud83d\\ude00\"", LAMBDA_JSON_STRING), "\xf0\x9f\x98\x80") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"\"", LAMBDA_JSON_STRING), "") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"a\\\\\"", LAMBDA_JSON_STRING), "a\\") == 1);
    LT_CHECK(lambda_json_string_eq(JV("\"a\\\\\"", LAMBDA_JSON_STRING), "a\\\\") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"\\ud800\"", LAMBDA_JSON_STRING), "\xed\xa0\x80") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"\xff\"", LAMBDA_JSON_STRING), "\xff") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"a\\u0000\"", LAMBDA_JSON_STRING), "a") == 0);
    LT_CHECK(lambda_json_string_eq(JV("abc", LAMBDA_JSON_NUMBER), "abc") == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"abc\"", LAMBDA_JSON_STRING), NULL) == 0);
    LT_CHECK(lambda_json_string_eq(JV("\"abc", LAMBDA_JSON_STRING), "abc") == 0);
}

static lambda_json num(const char *s) { return JV(s, LAMBDA_JSON_NUMBER); }

static void test_int64(void)
{
    int64_t i = 7;
    LT_CHECK(lambda_json_int64(num("0"), &i) == 0 && i == 0);
    LT_CHECK(lambda_json_int64(num("-0"), &i) == 0 && i == 0);
    LT_CHECK(lambda_json_int64(num("42"), &i) == 0 && i == 42);
    LT_CHECK(lambda_json_int64(num("-17"), &i) == 0 && i == -17);
    LT_CHECK(lambda_json_int64(num("9223372036854775807"), &i) == 0 && i == INT64_MAX);
    LT_CHECK(lambda_json_int64(num("-9223372036854775808"), &i) == 0 && i == INT64_MIN);
    i = 7;
    LT_CHECK(lambda_json_int64(num("9223372036854775808"), &i) == LAMBDA_E_RANGE && i == 7);
    LT_CHECK(lambda_json_int64(num("-9223372036854775809"), &i) == LAMBDA_E_RANGE);
    LT_CHECK(lambda_json_int64(num("18446744073709551616"), &i) == LAMBDA_E_RANGE);
    LT_CHECK(lambda_json_int64(num("123456789012345678901234567890"), &i) == LAMBDA_E_RANGE);
    LT_CHECK(lambda_json_int64(num("1.5"), &i) == LAMBDA_E_TYPE && i == 7);
    LT_CHECK(lambda_json_int64(num("1.0"), &i) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_int64(num("1e3"), &i) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_int64(num("1E+0"), &i) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_int64(JV("\"1\"", LAMBDA_JSON_STRING), &i) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_int64(JV("true", LAMBDA_JSON_TRUE), &i) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_int64(num("01"), &i) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_int64(num("1 "), &i) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_int64(num("-"), &i) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_int64(num(""), &i) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_int64(num("12"), NULL) == 0);
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static double c_strtod(const char *s) { return strtod(s, NULL); } /* reference, "C" locale */

static void test_double(void)
{
    static const char *const ok[] = { "0", "1", "-1", "1.5", "-2.5e-3", "0.1", "3.141592653589793", "1e308",
        "1.7976931348623157e308", "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "5e-324",
        "123456789012345678901234567890", "9007199254740993", "0.000001234e+10", "1E2", "-0.0e-5", "1e-400" };
    char big[2200];
    size_t i;
    double d = 7.0;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = lambda_json_double(num(ok[i]), &d);
        if (rc != 0 || !same_double(d, c_strtod(ok[i]))) printf("    double %s: rc %d %.17g\n", ok[i], rc, d);
        LT_CHECK(rc == 0 && same_double(d, c_strtod(ok[i])));
    }
    LT_CHECK(lambda_json_double(num("-0"), &d) == 0 && same_double(d, -0.0));
    d = 7.0;
    LT_CHECK(lambda_json_double(num("1e309"), &d) == LAMBDA_E_RANGE && d == 7.0);
    LT_CHECK(lambda_json_double(num("-1e309"), &d) == LAMBDA_E_RANGE);
    LT_CHECK(lambda_json_double(num("1e99999999999999999999"), &d) == LAMBDA_E_RANGE);
    LT_CHECK(lambda_json_double(num("1e-99999999999999999999"), &d) == 0 && d == 0.0);
    LT_CHECK(lambda_json_double(num("0e99999999999"), &d) == 0 && d == 0.0);
    LT_CHECK(lambda_json_double(JV("\"1\"", LAMBDA_JSON_STRING), &d) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_double(JV("null", LAMBDA_JSON_NULL), &d) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_double(num("1."), &d) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_double(num("1,5"), &d) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_double(num(" 1"), &d) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_double(num("0x1p3"), &d) == LAMBDA_E_SYNTAX);
    LT_CHECK(lambda_json_double(num("1"), NULL) == 0);
    /* exactly half the smallest subnormal: ties to even (0); a far-away 1 tips it over */
    strcpy(big, HALF_MIN_SUBNORMAL "e-1075");
    LT_CHECK(lambda_json_double(num(big), &d) == 0 && same_double(d, 0.0) && same_double(d, c_strtod(big)));
    strcpy(big, HALF_MIN_SUBNORMAL);
    for (i = strlen(big); i < 1500; i++) big[i] = '0';
    strcpy(big + i, "1e-1824");   /* 749 more digits: beyond the 800 kept, only the sticky digit remains */
    LT_CHECK(lambda_json_double(num(big), &d) == 0 && same_double(d, 5e-324) && same_double(d, c_strtod(big)));
    big[i] = '0';                  /* ...and without it, still exactly half */
    LT_CHECK(lambda_json_double(num(big), &d) == 0 && same_double(d, 0.0));
    /* 1 followed by 1000 zeros, scaled back: exactly 1 */
    big[0] = '1';
    for (i = 1; i <= 1000; i++) big[i] = '0';
    strcpy(big + i, "e-1000");
    LT_CHECK(lambda_json_double(num(big), &d) == 0 && d == 1.0);
    strcpy(big, "0.");
    for (i = 2; i < 1002; i++) big[i] = '0';
    strcpy(big + i, "25e1001");
    LT_CHECK(lambda_json_double(num(big), &d) == 0 && d == 2.5);
}

static void test_bool_null(void)
{
    int b = 7;
    LT_CHECK(lambda_json_bool(JV("true", LAMBDA_JSON_TRUE), &b) == 0 && b == 1);
    LT_CHECK(lambda_json_bool(JV("false", LAMBDA_JSON_FALSE), &b) == 0 && b == 0);
    b = 7;
    LT_CHECK(lambda_json_bool(JV("null", LAMBDA_JSON_NULL), &b) == LAMBDA_E_TYPE && b == 7);
    LT_CHECK(lambda_json_bool(JV("\"true\"", LAMBDA_JSON_STRING), &b) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_bool(JV("1", LAMBDA_JSON_NUMBER), &b) == LAMBDA_E_TYPE);
    LT_CHECK(lambda_json_bool(JV("true", LAMBDA_JSON_TRUE), NULL) == 0);
    LT_CHECK(lambda_json_is_null(JV("null", LAMBDA_JSON_NULL)) == 1);
    LT_CHECK(lambda_json_is_null(JV("0", LAMBDA_JSON_NUMBER)) == 0);
    LT_CHECK(lambda_json_is_null(JV("\"null\"", LAMBDA_JSON_STRING)) == 0);
    LT_CHECK(lambda_json_is_null(JV("", LAMBDA_JSON_NONE)) == 0);
}

/* ======================================================================== iteration */

static void test_iter(void)
{
    lambda_json_iter it;
    lambda_json k, v, root;
    char buf[16];
    LT_CHECK(lambda_json_get(S(" {\"a\":1, \"b\" : [2,3] ,\"c\":{}, \"d\\u0021\":\"x\"} "), "", &root) == 0);
    lambda_json_iter_init(&it, root);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && lambda_json_string_eq(k, "a") && v.len == 1 && v.ptr[0] == '1');
    LT_CHECK(k.type == LAMBDA_JSON_STRING && k.len == 3 && it.index == 1);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && lambda_json_string_eq(k, "b") && v.type == LAMBDA_JSON_ARRAY && v.len == 5);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && lambda_json_string_eq(k, "c") && v.type == LAMBDA_JSON_OBJECT && v.len == 2);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && lambda_json_string(k, buf, sizeof buf, NULL) == 0 && strcmp(buf, "d!") == 0);
    LT_CHECK(lambda_json_string_eq(v, "x") && it.index == 4);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 0 && k.type == LAMBDA_JSON_NONE && v.type == LAMBDA_JSON_NONE);
    LT_CHECK(lambda_json_next(&it, &k, &v) == 0 && it.index == 4);
    /* arrays: key is NONE (or NULL) */
    lambda_json_iter_init(&it, JV("[1,[2,[3]],\"x\",null]", LAMBDA_JSON_ARRAY));
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && k.type == LAMBDA_JSON_NONE && k.ptr == NULL && v.type == LAMBDA_JSON_NUMBER);
    LT_CHECK(lambda_json_next(&it, NULL, &v) == 1 && v.type == LAMBDA_JSON_ARRAY && v.len == 7);
    LT_CHECK(lambda_json_next(&it, NULL, &v) == 1 && v.type == LAMBDA_JSON_STRING);
    LT_CHECK(lambda_json_next(&it, NULL, NULL) == 1);
    LT_CHECK(lambda_json_next(&it, NULL, &v) == 0 && it.index == 4);
    lambda_json_iter_init(&it, JV("[ ]", LAMBDA_JSON_ARRAY));
    LT_CHECK(lambda_json_next(&it, NULL, &v) == 0 && it.index == 0);
    lambda_json_iter_init(&it, JV("{ }", LAMBDA_JSON_OBJECT));
    LT_CHECK(lambda_json_next(&it, &k, &v) == 0);
    /* errors, sticky */
    lambda_json_iter_init(&it, JV("[1,,2]", LAMBDA_JSON_ARRAY));
    LT_CHECK(lambda_json_next(&it, NULL, &v) == 1);
    LT_CHECK(lambda_json_next(&it, NULL, &v) == LAMBDA_E_SYNTAX && v.type == LAMBDA_JSON_NONE);
    LT_CHECK(lambda_json_next(&it, NULL, &v) == LAMBDA_E_SYNTAX);
    lambda_json_iter_init(&it, JV("{\"a\":\"\xff\"}", LAMBDA_JSON_OBJECT));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_UTF8);
    lambda_json_iter_init(&it, JV("{\"a\" 1}", LAMBDA_JSON_OBJECT));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX);
    lambda_json_iter_init(&it, JV("[1", LAMBDA_JSON_ARRAY));
    LT_CHECK(lambda_json_next(&it, &k, &v) == 1 && lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX);
    lambda_json_iter_init(&it, JV("[1]", LAMBDA_JSON_OBJECT));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX);
    lambda_json_iter_init(&it, JV("\"a\"", LAMBDA_JSON_STRING));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_TYPE);
    lambda_json_iter_init(&it, JV("", LAMBDA_JSON_NONE));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_TYPE);
    v.ptr = NULL; v.len = 0; v.type = LAMBDA_JSON_ARRAY;
    lambda_json_iter_init(&it, v);
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX);
}

/* ======================================================================== writer */

static void test_writer_document(void)
{
    lambda_response res;
    lambda_json_writer w;
    res_init(&res, 1 << 20);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_begin_object(&w) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "s") == 0 && lambda_json_write_cstring(&w, "a\"\\\n\x01/") == 0);
    LT_CHECK(lambda_json_write_key(&w, "n\0x", 3) == 0 && lambda_json_write_int64(&w, INT64_MIN) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "m") == 0 && lambda_json_write_int64(&w, INT64_MAX) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "z0") == 0 && lambda_json_write_int64(&w, 0) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "d") == 0 && lambda_json_write_double(&w, 0.1) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "t") == 0 && lambda_json_write_bool(&w, 5) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "f") == 0 && lambda_json_write_bool(&w, 0) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "z") == 0 && lambda_json_write_null(&w) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "c") == 0 && lambda_json_write_cstring(&w, NULL) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "a") == 0 && lambda_json_write_begin_array(&w) == 0);
    LT_CHECK(lambda_json_write_int64(&w, 1) == 0 && lambda_json_write_begin_array(&w) == 0 && lambda_json_write_end_array(&w) == 0);
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_end_object(&w) == 0);
    LT_CHECK(lambda_json_write_string(&w, "", 0) == 0 && lambda_json_write_string(&w, NULL, 0) == 0);
    LT_CHECK(lambda_json_write_end_array(&w) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "r") == 0 && lambda_json_write_raw(&w, " \n{\"x\": [1, 2]}\t", 16) == 0);
    LT_CHECK(lambda_json_write_ckey(&w, "") == 0 && lambda_json_write_raw(&w, "\"\\u00e9\"", 8) == 0);
    LT_CHECK(lambda_json_write_end_object(&w) == 0);
    LT_CHECK(lambda_json_writer_finish(&w) == 0);
    LT_CHECK(body_is(&res, "{\"s\":\"a\\\"\\\\\\n\\u0001/\",\"n\\u0000x\":-9223372036854775808,\"m\":9223372036854775807,"
                           "\"z0\":0,\"d\":0.1,\"t\":true,\"f\":false,\"z\":null,\"c\":null,\"a\":[1,[],{},\"\",\"\"],"
                           "\"r\":{\"x\": [1, 2]},\"\":\"\\u00e9\"}"));
    LT_CHECK(lambda_json_validate(SN(res.body.ptr, res.body.len), NULL, NULL) == 0);
    LT_CHECK(lambda_json_writer_finish(&w) == 0);                /* finish twice: still fine */
    LT_CHECK(lambda_json_write_null(&w) == LAMBDA_E_STATE);       /* nothing after the end */
    LT_CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
    /* scalars at the top level, appended after existing body bytes */
    lambda_response_clear(&res);
    lambda_response_append(&res, "x=", 2);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_cstring(&w, "v") == 0 && lambda_json_writer_finish(&w) == 0 && body_is(&res, "x=\"v\""));
    LT_CHECK(lambda_json_write_cstring(&w, "v") == LAMBDA_E_STATE);
    res_free(&res);
}

static void test_writer_escape(void)
{
    lambda_response res;
    lambda_json_writer w;
    char all[32], big[1000], back[1100];
    size_t i, n;
    lambda_json v;
    res_init(&res, 1 << 20);
    for (i = 0; i < 32; i++) all[i] = (char)i;
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_string(&w, all, 32) == 0 && lambda_json_writer_finish(&w) == 0);
    LT_CHECK(body_is(&res, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                           "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""));
    lambda_response_clear(&res);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_cstring(&w, "\x7f\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\xf0\x9f\x98\x80") == 0);
    LT_CHECK(body_is(&res, "\"\x7f\xc3\xa9\\u2028\\u2029\xe2\x80\xaa\xf0\x9f\x98\x80\""));
    /* long strings: plain runs longer than the internal buffer, escapes scattered */
    for (i = 0; i < sizeof big; i++) big[i] = (char)(i % 97 == 0 ? '"' : i % 89 == 0 ? '\n' : 'a' + (int)(i % 26));
    lambda_response_clear(&res);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_string(&w, big, sizeof big) == 0 && lambda_json_writer_finish(&w) == 0);
    LT_CHECK(lambda_json_validate(SN(res.body.ptr, res.body.len), &v, NULL) == 0);
    LT_CHECK(lambda_json_string(v, back, sizeof back, &n) == 0 && n == sizeof big && memcmp(back, big, n) == 0);
    memset(big, 'q', sizeof big);
    lambda_response_clear(&res);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_string(&w, big, sizeof big) == 0 && res.body.len == sizeof big + 2);
    /* invalid UTF-8: reported, sticky */
    lambda_response_clear(&res);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_begin_array(&w) == 0);
    LT_CHECK(lambda_json_write_cstring(&w, "ok\xff") == LAMBDA_E_UTF8);
    LT_CHECK(lambda_json_write_end_array(&w) == LAMBDA_E_UTF8 && lambda_json_writer_finish(&w) == LAMBDA_E_UTF8);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_ckey(&w, "\xed\xa0\x80") == LAMBDA_E_UTF8);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_cstring(&w, "\xc3") == LAMBDA_E_UTF8);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_cstring(&w, "\xf4\x90\x80\x80") == LAMBDA_E_UTF8);
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_string(&w, NULL, 3) == LAMBDA_E_ARG && lambda_json_writer_finish(&w) == LAMBDA_E_ARG);
    /* the public one-shot helper: nothing appended on error */
    lambda_response_clear(&res);
    LT_CHECK(lambda_response_append_json_string(&res, "a\"b", 3) == 0 && body_is(&res, "\"a\\\"b\""));
    LT_CHECK(lambda_response_append_json_string(&res, "x\xfey", 3) == LAMBDA_E_UTF8 && body_is(&res, "\"a\\\"b\""));
    LT_CHECK(lambda_response_append_json_string(&res, NULL, 0) == 0 && body_is(&res, "\"a\\\"b\"\"\""));
    /* the runtime's helper: inner text only, or U+FFFD for bad bytes */
    lambda_response_clear(&res);
    LT_CHECK(lambda__json_escape(&res, "a\xff\xc3\"", 4, LAMBDA__JSON_REPLACE) == 0);
    LT_CHECK(body_is(&res, "a\xef\xbf\xbd\xef\xbf\xbd\\\""));
    lambda_response_clear(&res);
    LT_CHECK(lambda__json_escape(&res, "tab\t", 4, 0) == 0 && body_is(&res, "tab\\t"));
    res_free(&res);
}

/* The writer's first failure: lambda_json_writer_error, and what the response was told. */
static int cause_is(const lambda_json_writer *w, const lambda_response *res, const char *call,
                    const char *why)
{
    const char *c = NULL, *y = NULL;
    int rc = lambda_json_writer_error(w, &c, &y);
    if (rc != 0 && strcmp(c, call) == 0 && strcmp(y, why) == 0 &&
        (res == NULL || (res->cause_call && strcmp(res->cause_call, call) == 0 &&
                         strcmp(res->cause_why, why) == 0)))
        return 1;
    printf("    cause: got %d \"%s: %s\" (response: \"%s: %s\"), want \"%s: %s\"\n", rc, c, y,
           res && res->cause_call ? res->cause_call : "-", res && res->cause_why ? res->cause_why : "-",
           call, why);
    return 0;
}

static void test_writer_misuse(void)
{
    lambda_response res;
    lambda_json_writer w;
    int i;
    res_init(&res, 1 << 20);
#define FRESH() (lambda_response_clear(&res), res.cause_call = NULL, lambda_json_writer_init(&w, &res))
#define CAUSE(call, why) LT_CHECK(cause_is(&w, &res, call, why))
    FRESH();   /* value where a key is due; sticky */
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_int64(&w, 1) == LAMBDA_E_STATE);
    LT_CHECK(lambda_json_write_ckey(&w, "a") == LAMBDA_E_STATE && lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_int64", "a value where a key is due");
    FRESH();   /* ... also after a complete member */
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_ckey(&w, "a") == 0 && lambda_json_write_null(&w) == 0);
    LT_CHECK(lambda_json_write_cstring(&w, "b") == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_cstring", "a value where a key is due");
    FRESH();   /* key in an array */
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_write_ckey(&w, "a") == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_ckey", "a key outside an object");
    FRESH();   /* key at the top level */
    LT_CHECK(lambda_json_write_ckey(&w, "a") == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_ckey", "a key outside an object");
    FRESH();   /* two keys in a row */
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_ckey(&w, "a") == 0 && lambda_json_write_ckey(&w, "b") == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_ckey", "a key where a value is due");
    FRESH();   /* end_object on an array, end_array on an object */
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_write_end_object(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_end_object", "the open container is an array");
    FRESH();
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_end_array(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_end_array", "the open container is an object");
    FRESH();   /* end_object right after a key */
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_ckey(&w, "a") == 0 && lambda_json_write_end_object(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_end_object", "a key without its value");
    FRESH();   /* end with nothing open */
    LT_CHECK(lambda_json_write_end_array(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_end_array", "nothing is open to end");
    FRESH();
    LT_CHECK(lambda_json_write_end_object(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_end_object", "nothing is open to end");
    FRESH();   /* anything after the document is complete */
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_write_end_array(&w) == 0);
    LT_CHECK(lambda_json_write_begin_array(&w) == LAMBDA_E_STATE && lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_begin_array", "a value after the document was complete");
    FRESH();
    LT_CHECK(lambda_json_write_int64(&w, 1) == 0 && lambda_json_write_raw(&w, "2", 1) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_raw", "a value after the document was complete");
    FRESH();   /* unfinished documents */
    LT_CHECK(lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_writer_finish", "the document is empty");
    FRESH();
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_writer_finish(&w) == LAMBDA_E_STATE);
    LT_CHECK(lambda_json_write_end_array(&w) == LAMBDA_E_STATE); /* sticky even for a now-legal call */
    CAUSE("lambda_json_writer_finish", "the document has open containers");
    FRESH();   /* depth */
    for (i = 0; i < LAMBDA_JSON_MAX_DEPTH; i++) LT_CHECK(lambda_json_write_begin_array(&w) == 0);
    LT_CHECK(lambda_json_write_begin_array(&w) == LAMBDA_E_STATE);
    CAUSE("lambda_json_write_begin_array", "nested deeper than LAMBDA_JSON_MAX_DEPTH");
    FRESH();
    for (i = 0; i < LAMBDA_JSON_MAX_DEPTH; i++) lambda_json_write_begin_array(&w);
    for (i = 0; i < LAMBDA_JSON_MAX_DEPTH; i++) lambda_json_write_end_array(&w);
    LT_CHECK(lambda_json_writer_finish(&w) == 0 && res.body.len == 2 * LAMBDA_JSON_MAX_DEPTH);
    LT_CHECK(lambda_json_validate(SN(res.body.ptr, res.body.len), NULL, NULL) == 0);
    FRESH();   /* NaN / infinity */
    LT_CHECK(lambda_json_write_double(&w, c_strtod("nan")) == LAMBDA_E_RANGE && res.body.len == 0);
    CAUSE("lambda_json_write_double", "NaN or infinity");
    FRESH();
    LT_CHECK(lambda_json_write_double(&w, c_strtod("-inf")) == LAMBDA_E_RANGE);
    FRESH();   /* raw must be one valid value */
    LT_CHECK(lambda_json_write_raw(&w, "[1,]", 4) == LAMBDA_E_SYNTAX && lambda_json_writer_finish(&w) == LAMBDA_E_SYNTAX);
    CAUSE("lambda_json_write_raw", "the raw value is not one valid JSON value");
    FRESH();
    LT_CHECK(lambda_json_write_raw(&w, "1 2", 3) == LAMBDA_E_SYNTAX);
    FRESH();
    LT_CHECK(lambda_json_write_raw(&w, "", 0) == LAMBDA_E_SYNTAX);
    FRESH();
    LT_CHECK(lambda_json_write_raw(&w, NULL, 0) == LAMBDA_E_SYNTAX);
    CAUSE("lambda_json_write_raw", "empty JSON text");
    FRESH();
    LT_CHECK(lambda_json_write_raw(&w, NULL, 2) == LAMBDA_E_ARG);
    CAUSE("lambda_json_write_raw", "the JSON text is NULL");
    FRESH();
    LT_CHECK(lambda_json_write_raw(&w, "\"\xff\"", 3) == LAMBDA_E_UTF8);
    CAUSE("lambda_json_write_raw", "the raw value is not valid UTF-8");
    FRESH();   /* raw nesting counts from the writer's depth */
    lambda_json_write_begin_array(&w);
    LT_CHECK(lambda_json_write_raw(&w, "[]", 2) == 0);
    for (i = 1; i < LAMBDA_JSON_MAX_DEPTH; i++) lambda_json_write_begin_array(&w);
    LT_CHECK(lambda_json_write_raw(&w, "1", 1) == 0 && lambda_json_write_raw(&w, "[]", 2) == LAMBDA_E_DEPTH);
    CAUSE("lambda_json_write_raw", "the raw value nests deeper than LAMBDA_JSON_MAX_DEPTH");
    FRESH();   /* malformed and too deep: the depth limit comes first (found by fuzz_json_roundtrip) */
    for (i = 0; i < LAMBDA_JSON_MAX_DEPTH; i++) lambda_json_write_begin_array(&w);
    LT_CHECK(lambda_json_write_raw(&w, "[\r [\r\r\r\r\r}}}}}", 13) == LAMBDA_E_DEPTH);
    CAUSE("lambda_json_write_raw", "the raw value nests deeper than LAMBDA_JSON_MAX_DEPTH");
    LT_CHECK(lambda_json_validate(SN("[\r [\r\r\r\r\r}}}}}", 13), NULL, NULL) == LAMBDA_E_SYNTAX);
    FRESH();   /* response limits propagate and stick */
    res.max = 8;
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_write_cstring(&w, "0123456789") == LAMBDA_E_TOO_BIG);
    LT_CHECK(lambda_json_write_end_array(&w) == LAMBDA_E_TOO_BIG && lambda_json_writer_finish(&w) == LAMBDA_E_TOO_BIG);
    CAUSE("lambda_json_write_cstring", "payload exceeds the configured limit");
    res.max = 1 << 20;
    lambda_response_clear(&res);
    lambda_json_writer_init(&w, NULL);
    LT_CHECK(lambda_json_write_null(&w) == LAMBDA_E_ARG && lambda_json_writer_finish(&w) == LAMBDA_E_ARG);
    LT_CHECK(cause_is(&w, NULL, "lambda_json_writer_init", "the response is NULL"));
    res.cause_call = NULL;
    lambda_json_writer_init(&w, &res);
    LT_CHECK(lambda_json_write_begin_object(&w) == 0 && lambda_json_write_ckey(&w, NULL) == LAMBDA_E_ARG);
    CAUSE("lambda_json_write_ckey", "the key is NULL");
    lambda_json_writer_init(&w, &res);
    res.cause_call = NULL;
    LT_CHECK(lambda_json_write_begin_array(&w) == 0 && lambda_json_write_string(&w, "\xc3", 1) == LAMBDA_E_UTF8);
    CAUSE("lambda_json_write_string", "not valid UTF-8");
    LT_CHECK(lambda_json_writer_error(&w, NULL, NULL) == LAMBDA_E_UTF8);
    lambda_json_writer_init(&w, &res); /* no error: empty strings */
    {
        const char *c = "x", *y = "x";
        LT_CHECK(lambda_json_writer_error(&w, &c, &y) == 0 && *c == '\0' && *y == '\0');
    }
#undef FRESH
#undef CAUSE
    res_free(&res);
}

static int writes_double(double d, const char *want)
{
    lambda_response res;
    lambda_json_writer w;
    int ok;
    double back = 0.0;
    lambda_json v;
    res_init(&res, 1000);
    lambda_json_writer_init(&w, &res);
    ok = lambda_json_write_double(&w, d) == 0 && lambda_json_writer_finish(&w) == 0 && (want == NULL || body_is(&res, want));
    ok = ok && lambda_json_validate(SN(res.body.ptr, res.body.len), &v, NULL) == 0 &&
         lambda_json_double(v, &back) == 0 && same_double(back, d);
    if (!ok) printf("    double %.17g -> %s\n", d, res.body.ptr ? res.body.ptr : "");
    res_free(&res);
    return ok;
}

static void test_writer_double(void)
{
    LT_CHECK(writes_double(0.0, "0"));
    LT_CHECK(writes_double(-0.0, "-0"));
    LT_CHECK(writes_double(1.0, "1"));
    LT_CHECK(writes_double(-1.5, "-1.5"));
    LT_CHECK(writes_double(0.1, "0.1"));
    LT_CHECK(writes_double(1.0 / 3.0, "0.3333333333333333"));
    LT_CHECK(writes_double(2.0 / 3.0, "0.6666666666666666"));
    LT_CHECK(writes_double(0.1 + 0.2, "0.30000000000000004"));
    LT_CHECK(writes_double(1e21, "1e+21"));
    LT_CHECK(writes_double(1e-7, "1e-07"));
    LT_CHECK(writes_double(123456789012345680000.0, "1.2345678901234568e+20"));
    LT_CHECK(writes_double(9007199254740993.0, "9007199254740992"));
    LT_CHECK(writes_double(5e-324, "5e-324"));
    LT_CHECK(writes_double(1.7976931348623157e308, "1.7976931348623157e+308"));
    LT_CHECK(writes_double(2.2250738585072014e-308, "2.2250738585072014e-308"));
    LT_CHECK(writes_double(-123.0, "-123"));
    LT_CHECK(writes_double(999999999999999.0, "999999999999999"));
    LT_CHECK(writes_double(1e15, "1e+15"));
    LT_CHECK(writes_double(-1e15, "-1e+15"));
    LT_CHECK(writes_double(4503599627370497.0, "4503599627370497"));
}

/* ---- the double writer against the definition ----
   shortest_ok(d): the writer's text for d (lambda__jw_double, the digits of
   lambda_json_write_double) reads back (strtod) as d, bit for bit, and is the shortest such
   decimal: the two decimals with one digit less that bracket it both read back as
   something else (any shorter decimal that read back as d would make one of them do so
   too: the doubles that read back as d form an interval). With `closest`, it is also the
   nearest to d of the decimals with as many digits: the correctly rounded one (%.*e) when
   that reads back as d. Returns the number of significant digits, 0 on failure. */
static void dec_text(char *t, int neg, unsigned long long m, int e) /* "-123e-45", no printf */
{
    char tmp[24];
    int n = 0;
    if (neg) *t++ = '-';
    do tmp[n++] = (char)('0' + (int)(m % 10)); while ((m /= 10) != 0);
    while (n) *t++ = tmp[--n];
    *t++ = 'e';
    if (e < 0) *t++ = '-', e = -e;
    do tmp[n++] = (char)('0' + e % 10); while ((e /= 10) != 0);
    while (n) *t++ = tmp[--n];
    *t = '\0';
}

static uint64_t dbits(double d) { uint64_t b; memcpy(&b, &d, sizeof b); return b; }
static double bitsd(uint64_t b) { double d; memcpy(&d, &b, sizeof d); return d; }

/* 10^e in long double (64-bit significand on x86_64: a few roundings of 2^-64 each) */
static long double pow10l_(int e)
{
    long double r = 1.0L, b = 10.0L;
    int n = e < 0 ? -e : e;
    for (; n; n >>= 1, b *= b) if (n & 1) r *= b;
    return e < 0 ? 1.0L / r : r;
}

/* x (>= 0) is more than a whole gap between doubles away from |d|, so cannot read back as d
   (a pre-filter that spares most of the strtod calls; the rounding interval is half a gap
   on each side) */
static int far_from(long double x, double d)
{
    double a = d < 0 ? -d : d, up = bitsd(dbits(a) + 1) - a, down = a - bitsd(dbits(a) - 1);
    long double gap = up > down ? up : down, dist = x > a ? x - a : a - x;
    return up - up == 0.0 && dist > gap * 1.5L;
}

static int shortest_ok(double d, int closest)
{
    char s[40], t[48], digs[24];
    size_t n = lambda__jw_double(s, d), i;
    int nd = 0, e = 0, point = -1, seen = 0, k;
    long long m;
    s[n] = '\0';
    if (!same_double(strtod(s, NULL), d)) return printf("    %.17g -> %s reads back differently\n", d, s), 0;
    for (i = 0; i < n && s[i] != 'e'; i++) { /* significant digits and the exponent of the last */
        if (s[i] == '-') continue;
        if (s[i] == '.') { point = nd; continue; }
        if (s[i] == '0' && !seen) { if (point >= 0) e--; continue; }
        seen = 1;
        digs[nd++] = s[i];
        if (point >= 0) e--;
    }
    if (i < n) e += atoi(s + i + 1);
    while (nd > 1 && digs[nd - 1] == '0') nd--, e++; /* 123000 */
    if (nd == 0) return d == 0.0 ? 1 : 0;
    digs[nd] = '\0';
    if (nd > 17) return printf("    %.17g -> %s: %d digits\n", d, s, nd), 0;
    if (nd > 1) {
        m = atoll(digs) / 10;
        for (k = 0; k < 2; k++) {
            if (far_from((long double)(m + k) * pow10l_(e + 1), d)) continue; /* no strtod needed */
            dec_text(t, d < 0, (unsigned long long)(m + k), e + 1);
            if (same_double(strtod(t, NULL), d)) return printf("    %.17g -> %s, but %s is shorter\n", d, s, t), 0;
        }
    }
    if (closest) {
        char *x;
        snprintf(t, sizeof t, "%.*e", nd - 1, d);
        if (same_double(strtod(t, NULL), d)) {
            double a = strtod(t, &x), b = strtod(s, NULL);
            (void)a;
            /* same digits: compare the texts' values as decimals, via the digit strings */
            {
                char u[24];
                int j = 0;
                for (x = t; *x && *x != 'e'; x++) if (*x >= '0' && *x <= '9') u[j++] = *x;
                u[j] = '\0';
                while (j > 1 && u[j - 1] == '0') u[--j] = '\0';
                if (strcmp(u, digs) != 0) return printf("    %.17g -> %s, but %s is closer\n", d, s, t), 0;
            }
            (void)b;
        }
    }
    return nd;
}

/* the hard cases: subnormals, both ends of every binade (powers of two, where the lower
   neighbour is closer), powers of ten and their neighbours, around 2^53, min and max */
static void test_writer_double_hard(void)
{
    uint64_t b;
    int i, j, bad = 0, n = 0;
    char s[40];
    for (b = 1; b <= 70000 && bad < 5; b++, n += 2) { /* the smallest subnormals, the largest */
        bad += !shortest_ok(bitsd(b), 1);
        bad += !shortest_ok(bitsd(((uint64_t)1 << 52) - b), 1);
    }
    for (i = 0; i < 2047 && bad < 5; i++) /* every binade: its first and last doubles, and around */
        for (j = -3; j <= 3; j++) {
            b = ((uint64_t)i << 52) + (uint64_t)(int64_t)j;
            if (b == 0 || (b >> 52) >= 2047) continue;
            bad += !shortest_ok(bitsd(b), 1);
            bad += !shortest_ok(-bitsd(b), 1);
            n += 2;
        }
    for (i = -330; i <= 310 && bad < 5; i++) { /* powers of ten and their neighbours */
        double p;
        snprintf(s, sizeof s, "1e%d", i);
        p = strtod(s, NULL);
        if (p == 0.0 || p - p != 0.0) continue;
        for (j = -3; j <= 3; j++, n++)
            if ((int64_t)dbits(p) + j > 0) bad += !shortest_ok(bitsd(dbits(p) + (uint64_t)(int64_t)j), 1);
        if (i >= -323 && i <= 308) LT_CHECK(shortest_ok(p, 1) == 1); /* 1e-323 .. 1e308: one digit */
    }
    for (j = -2000; j <= 2000 && bad < 5; j++, n += 2) { /* integers around 2^53 and 2^54 */
        bad += !shortest_ok(9007199254740992.0 + (double)j, 1);
        bad += !shortest_ok(18014398509481984.0 + 2.0 * (double)j, 1);
    }
    LT_CHECK(bad == 0);
    LT_CHECK(writes_double(bitsd(1), "5e-324"));                          /* the smallest */
    LT_CHECK(writes_double(bitsd(((uint64_t)1 << 52) - 1), "2.225073858507201e-308")); /* largest subnormal */
    LT_CHECK(writes_double(bitsd((uint64_t)1 << 52), "2.2250738585072014e-308"));      /* DBL_MIN */
    LT_CHECK(writes_double(bitsd(0x7FEFFFFFFFFFFFFFull), "1.7976931348623157e+308"));  /* DBL_MAX */
    LT_CHECK(writes_double(-bitsd(0x7FEFFFFFFFFFFFFFull), "-1.7976931348623157e+308"));
    LT_CHECK(writes_double(9007199254740992.0, "9007199254740992"));
    LT_CHECK(writes_double(9007199254740994.0, "9007199254740994"));
    LT_CHECK(writes_double(18014398509481988.0, "18014398509481988"));
    LT_CHECK(writes_double(1e23, "1e+23"));
    LT_CHECK(writes_double(2e-323, "2e-323"));
    LT_CHECK(writes_double(5e-323, "5e-323"));
    LT_CHECK(writes_double(1e-5, "1e-05"));
    LT_CHECK(writes_double(1.5e-4, "0.00015"));
    LT_CHECK(writes_double(1e16, "1e+16"));
    LT_CHECK(writes_double(12345678901234567.0, "12345678901234568"));
    printf("  hard cases: %d doubles\n", n);
}

/* Random bit patterns (every finite double is as likely as its exponent) and random
   decimals of 1..17 digits (the writer must never need more digits than the decimal a
   double was read from): 10^7 in all (half and half) in the optimised build; 4 x 10^5
   under the sanitizers. */
#if defined(__SANITIZE_ADDRESS__)
#define DOUBLES_N 200000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DOUBLES_N 200000
#endif
#endif
#ifndef DOUBLES_N
#define DOUBLES_N 5000000
#endif
static void test_writer_double_random(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    long i, bits_n = 0, dec_n = 0;
    int bad = 0;
    char s[48];
    for (i = 0; bits_n < DOUBLES_N && bad < 5; i++) { /* bit patterns */
        double d;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        d = bitsd(x);
        if (d != d || d - d != 0.0) continue;
        bits_n++;
        if (!shortest_ok(d, i % 64 == 0)) bad++;
    }
    for (i = 0; dec_n < DOUBLES_N && bad < 5; i++) { /* decimals */
        double d;
        uint64_t m;
        int nd, e, got;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        nd = 1 + (int)(x % 17);
        m = (x >> 8) % 100000000000000000ull;
        {
            uint64_t lim = 1;
            int k;
            for (k = 0; k < nd; k++) lim *= 10;
            m %= lim;
        }
        e = (int)((x >> 40) % 650) - 340;
        dec_text(s, 0, (unsigned long long)m, e);
        d = strtod(s, NULL);
        if (d == 0.0 || d - d != 0.0) continue;
        dec_n++;
        got = shortest_ok(d, i % 64 == 0);
        if (got == 0 || got > nd) {
            if (got) printf("    %s: %d digits written\n", s, got);
            bad++;
        }
    }
    printf("  random: %ld bit patterns, %ld decimals\n", bits_n, dec_n);
    LT_CHECK(bad == 0 && bits_n + dec_n == 2L * DOUBLES_N);
}

/* The scale factors of the double writer, recomputed with exact integers: for k = -324 ..
   292, ceil(10^-k 2^(126 - floor(log2 10^-k))), in [2^126, 2^127], against what
   lambda__jw_pow10 makes of its bases; and the logarithm
   approximations against exact comparisons of powers. */
typedef struct big { uint32_t d[90]; int n; } big; /* little-endian limbs */
static void big_set(big *a, uint32_t v) { memset(a, 0, sizeof *a); a->d[0] = v; a->n = 1; }
static void big_mul(big *a, uint32_t m)
{
    uint64_t c = 0;
    int i;
    for (i = 0; i < a->n; i++) { c += (uint64_t)a->d[i] * m; a->d[i] = (uint32_t)c; c >>= 32; }
    if (c) a->d[a->n++] = (uint32_t)c;
}
static int big_div(big *a, uint32_t m) /* returns the remainder != 0 */
{
    uint64_t r = 0;
    int i;
    for (i = a->n - 1; i >= 0; i--) { r = (r << 32) | a->d[i]; a->d[i] = (uint32_t)(r / m); r %= m; }
    while (a->n > 1 && a->d[a->n - 1] == 0) a->n--;
    return r != 0;
}
static int big_cmp(const big *a, const big *b)
{
    int i;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (i = a->n - 1; i >= 0; i--) if (a->d[i] != b->d[i]) return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}
static int big_bits(const big *a)
{
    int b = (a->n - 1) * 32;
    uint32_t t = a->d[a->n - 1];
    while (t) b++, t >>= 1;
    return b;
}
static void big_pow(big *a, uint32_t base, int e) { big_set(a, 1); while (e-- > 0) big_mul(a, base); }
/* a * 2^s, s may be negative (floor); returns whether bits were dropped */
static int big_shift(big *a, int s)
{
    int drop = 0;
    for (; s > 0; s--) big_mul(a, 2);
    for (; s < 0; s++) drop |= big_div(a, 2);
    return drop;
}

static void test_writer_double_table(void)
{
    int k, q, bad = 0;
    for (k = (-324); k < (-324) + 617; k++) {
        big g, lo, hi;
        uint64_t w[2];
        int f = lambda__jw_log2_10(-k), inexact;
        if (k <= 0) {
            big_pow(&g, 10, -k);
            if (big_bits(&g) - 1 != f) bad++; /* 2^f <= 10^-k < 2^(f+1) */
            inexact = big_shift(&g, 126 - f);
        } else {
            big_pow(&lo, 10, k);
            if (-big_bits(&lo) != f) bad++;   /* 10^-k is not a power of two: f = -bits(10^k) */
            big_set(&g, 1);
            big_shift(&g, 126 - f);
            inexact = 0;
            { int j; for (j = 0; j < k; j++) inexact |= big_div(&g, 10); }
        }
        if (inexact) { /* ceil */
            { uint64_t c = 1; int i; for (i = 0; i < g.n && c; i++) { c += g.d[i]; g.d[i] = (uint32_t)c; c >>= 32; } if (c) g.d[g.n++] = 1; }
        }
        big_pow(&lo, 2, 126);
        big_pow(&hi, 2, 127);
        if (big_cmp(&g, &lo) < 0 || big_cmp(&g, &hi) > 0) bad++;
        while (g.n < 4) g.d[g.n++] = 0;
        lambda__jw_pow10(k, w);
        if (g.n != 4 || w[0] != ((uint64_t)g.d[3] << 32 | g.d[2]) ||
            w[1] != ((uint64_t)g.d[1] << 32 | g.d[0])) {
            if (bad++ < 3) printf("    table row k = %d differs\n", k);
        }
    }
    for (q = -1100; q <= 1100; q++) { /* 10^k <= 2^q < 10^(k+1), and the same for 3/4 2^q */
        int t;
        for (t = 0; t < 2; t++) {
            int kk = lambda__jw_log10_2(q, t), e;
            for (e = kk; e <= kk + 1; e++) { /* X = 3^t 2^(q-2t) against 10^e: A >= B <=> X >= 10^e */
                big a, b;
                int i, ge;
                big_set(&a, t ? 3 : 1);
                big_set(&b, 1);
                big_shift(q - 2 * t >= 0 ? &a : &b, q - 2 * t >= 0 ? q - 2 * t : 2 * t - q);
                for (i = 0; i < (e < 0 ? -e : e); i++) big_mul(e < 0 ? &a : &b, 10);
                ge = big_cmp(&a, &b) >= 0;
                if (ge != (e == kk) && bad++ < 3) printf("    log10 of 2^%d%s: %d\n", q, t ? " * 3/4" : "", kk);
            }
        }
    }
    for (k = -400; k <= 400; k++) { /* 2^f <= 10^k < 2^(f+1) */
        big a, b;
        int f = lambda__jw_log2_10(k);
        if (k >= 0) { big_pow(&a, 10, k); if (big_bits(&a) - 1 != f) bad++; }
        else {
            big_pow(&a, 10, -k); /* 2^f <= 10^k  <=>  2^(-f) >= 10^-k, and 10^-k > 2^(-f-1) */
            big_set(&b, 1);
            big_shift(&b, -f);
            if (big_cmp(&b, &a) < 0) bad++;
            big_set(&b, 1);
            big_shift(&b, -f - 1);
            if (big_cmp(&b, &a) >= 0) bad++;
        }
    }
    LT_CHECK(bad == 0);
}

/* Locale independence: "1.5" must read as 1.5 and 1.5 must be written "1.5" even under a
   locale whose decimal point is ','. Uses a comma locale when one exists (json.mk builds
   de_DE.UTF-8 under build/locale); otherwise says so and checks the "C" locale path. */
static void test_locale(void)
{
    static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8", "ru_RU.UTF-8" };
    const char *got = NULL;
    char probe[16];
    size_t i;
    double d = 0.0;
    for (i = 0; i < sizeof names / sizeof names[0] && got == NULL; i++) got = setlocale(LC_ALL, names[i]);
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    if (got) printf("  locale %s: printf gives \"%s\"\n", got, probe);
    else printf("  note: no comma-decimal locale installed; checking under \"C\" only\n");
    if (got) LT_CHECK(strcmp(probe, "1,5") == 0);   /* the locale really is in effect */
    LT_CHECK(lambda_json_double(num("1.5"), &d) == 0 && d == 1.5);
    LT_CHECK(lambda_json_double(num("-2.25e-3"), &d) == 0 && d == -0.00225);
    LT_CHECK(lambda_json_double(num("1234567.875"), &d) == 0 && d == 1234567.875);
    LT_CHECK(writes_double(1.5, "1.5"));
    LT_CHECK(writes_double(0.1, "0.1"));
    LT_CHECK(writes_double(-2.5e-300, "-2.5e-300"));
    LT_CHECK(writes_double(1234567.875, "1234567.875"));
    setlocale(LC_ALL, "C");
}

/* ======================================================================== JSONTestSuite */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    if (!f) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = (char *)realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) break;
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    /* exact-size copy, so that an over-read is caught by ASan */
    {
        char *exact = (char *)malloc(n ? n : 1);
        if (exact && n) memcpy(exact, buf, n);
        free(buf);
        *len = n;
        return exact;
    }
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* walk every value (bounded recursion, test code only) to exercise the accessors */
static void touch_all(lambda_json v, int depth)
{
    lambda_json_iter it;
    lambda_json k, e;
    char buf[64];
    int64_t i;
    double d;
    int b;
    if (depth > 64) return;
    (void)lambda_json_string(v, buf, sizeof buf, NULL);
    (void)lambda_json_int64(v, &i);
    (void)lambda_json_double(v, &d);
    (void)lambda_json_bool(v, &b);
    (void)lambda_json_string_eq(v, "a");
    lambda_json_iter_init(&it, v);
    while (lambda_json_next(&it, &k, &e) == 1) {
        if (k.type == LAMBDA_JSON_STRING) (void)lambda_json_string(k, buf, sizeof buf, NULL);
        touch_all(e, depth + 1);
    }
}

static void test_suite(void)
{
    DIR *dir;
    struct dirent *de;
    char **names = NULL;
    size_t count = 0, cap = 0, i;
    int y_ok = 0, y_n = 0, n_ok = 0, n_n = 0, i_acc = 0, i_rej = 0, i_utf8 = 0, i_depth = 0, i_syntax = 0;
    if (suite_dir == NULL) {
        printf("  no JSONTestSuite directory given (argv[1])\n");
        LT_CHECK(suite_dir != NULL);
        return;
    }
    dir = opendir(suite_dir);
    LT_CHECK(dir != NULL);
    if (!dir) return;
    while ((de = readdir(dir)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[1] != '_') continue;
        if (count == cap) names = (char **)realloc(names, (cap = cap ? cap * 2 : 512) * sizeof *names);
        names[count] = (char *)malloc(l + 1);
        memcpy(names[count++], de->d_name, l + 1);
    }
    closedir(dir);
    qsort(names, count, sizeof *names, cmp_names);
    for (i = 0; i < count; i++) {
        char path[4096];
        size_t len = 0, off = 0;
        char *data;
        int rc, ok;
        lambda_json root, v;
        snprintf(path, sizeof path, "%s/%s", suite_dir, names[i]);
        data = read_file(path, &len);
        if (data == NULL) {
            printf("  cannot read %s\n", path);
            LT_CHECK(data != NULL);
            continue;
        }
        rc = lambda_json_validate(SN(data, len), &root, &off);
        /* the lazy getters on the same bytes: must terminate without crashing */
        (void)lambda_json_get(SN(data, len), "", &v);
        (void)lambda_json_get(SN(data, len), "[0]", &v);
        (void)lambda_json_get(SN(data, len), "a", &v);
        (void)lambda_json_get(SN(data, len), "[0][0].a", &v);
        if (rc == 0) touch_all(root, 0);
        ok = 1;
        if (names[i][0] == 'y') {
            y_n++;
            ok = rc == 0 && root.type != LAMBDA_JSON_NONE;
            y_ok += ok;
            /* a valid document: get("") sees the same root */
            if (ok) ok = lambda_json_get(SN(data, len), "", &v) == 0 && v.ptr == root.ptr && v.len == root.len;
        } else if (names[i][0] == 'n') {
            n_n++;
            ok = rc != 0 && off <= len;
            n_ok += ok;
        } else if (names[i][0] == 'i') {
            if (rc == 0) i_acc++;
            else i_rej++;
            i_utf8 += rc == LAMBDA_E_UTF8;
            i_depth += rc == LAMBDA_E_DEPTH;
            i_syntax += rc == LAMBDA_E_SYNTAX;
            if (getenv("JSON_SUITE_VERBOSE")) printf("  %-60s %s\n", names[i], rc == 0 ? "accepted" : lambda_strerror(rc));
        }
        if (!ok) printf("  %s: rc %d (%s) at offset %lu\n", names[i], rc, lambda_strerror(rc), (unsigned long)off);
        LT_CHECK(ok);
        free(data);
        free(names[i]);
    }
    free(names);
    printf("  JSONTestSuite: y_ %d/%d accepted, n_ %d/%d rejected, i_ %d: %d accepted, %d rejected "
           "(%d UTF8, %d DEPTH, %d SYNTAX)\n", y_ok, y_n, n_ok, n_n, i_acc + i_rej, i_acc, i_rej, i_utf8, i_depth, i_syntax);
    LT_CHECK(y_n > 0 && n_n > 0);
}

/* ======================================================================== round trip */

typedef struct rng { uint64_t s; } rng;
static uint64_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * (uint64_t)0x2545F4914F6CDD1DULL;
}
static unsigned rndn(rng *r, unsigned n) { return (unsigned)(rnd(r) % n); }

/* a random, valid UTF-8 string with plenty of characters that need escaping */
static size_t rnd_string(rng *r, char *s, size_t cap)
{
    size_t n = 0, want = rndn(r, 5) == 0 ? rndn(r, 300) : rndn(r, 12);
    unsigned char u[4];
    while (n < want && n + 4 < cap) {
        unsigned kind = rndn(r, 10), k, j;
        unsigned long cp;
        if (kind < 4) cp = 0x20 + rndn(r, 0x5f);                                 /* printable ASCII */
        else if (kind == 4) cp = (unsigned char)"\"\\/\b\f\n\r\t"[rndn(r, 8)];
        else if (kind == 5) cp = rndn(r, 0x20);                                  /* controls, NUL */
        else if (kind == 6) cp = 0x80 + rndn(r, 0x780);                          /* 2 bytes */
        else if (kind == 7) { do cp = 0x800 + rndn(r, 0xF800); while (cp >= 0xD800 && cp <= 0xDFFF); }
        else if (kind == 8) cp = 0x10000 + rndn(r, 0x100000);                    /* 4 bytes */
        else cp = 0x2028 + rndn(r, 2);                                           /* U+2028/9 */
        k = (unsigned)lambda__json_put_utf8(cp, u);
        for (j = 0; j < k; j++) s[n++] = (char)u[j];
    }
    s[n] = '\0';
    return n;
}

static double rnd_double(rng *r)
{
    double d;
    uint64_t bits;
    switch (rndn(r, 4)) {
    case 0: {
        unsigned shift = rndn(r, 64); /* sequenced: the order of the two draws is fixed */
        return (double)(int64_t)(rnd(r) >> shift) / 1000.0;
    }
    case 1: return (double)rndn(r, 1000) / 8.0;
    default:
        do {
            bits = rnd(r);
            memcpy(&d, &bits, sizeof d);
        } while (d != d || d - d != 0.0);
        return d;
    }
}

static int64_t rnd_int(rng *r)
{
    switch (rndn(r, 4)) {
    case 0: return INT64_MIN + (int64_t)rndn(r, 3);
    case 1: return INT64_MAX - (int64_t)rndn(r, 3);
    case 2: return (int64_t)rndn(r, 2000) - 1000;
    default: return (int64_t)rnd(r);
    }
}

/* One random value: written to w (w != NULL), or compared with v (w == NULL), consuming
   the generator identically in both modes. Returns 1 if everything matched. */
static int rt_value(rng *r, int depth, lambda_json_writer *w, lambda_json v)
{
    unsigned kind = rndn(r, depth >= 6 ? 5 : 8);
    char s[400], back[400];
    size_t n, bn = 0;
    int ok = 1;
    lambda_json e;
    memset(&e, 0, sizeof e);
    switch (kind) {
    case 0:
        if (w) return lambda_json_write_null(w) == 0;
        return lambda_json_is_null(v);
    case 1: {
        int b = (int)rndn(r, 2), got = -1;
        if (w) return lambda_json_write_bool(w, b) == 0;
        return lambda_json_bool(v, &got) == 0 && got == b;
    }
    case 2: {
        int64_t i = rnd_int(r), got = 0;
        if (w) return lambda_json_write_int64(w, i) == 0;
        return lambda_json_int64(v, &got) == 0 && got == i;
    }
    case 3: {
        double d = rnd_double(r), got = 0;
        if (w) return lambda_json_write_double(w, d) == 0;
        return v.type == LAMBDA_JSON_NUMBER && lambda_json_double(v, &got) == 0 && same_double(got, d);
    }
    case 4:
        n = rnd_string(r, s, sizeof s);
        if (w) return lambda_json_write_string(w, s, n) == 0;
        return lambda_json_string(v, back, sizeof back, &bn) == 0 && bn == n && memcmp(back, s, n) == 0 &&
               (memchr(s, 0, n) != NULL || lambda_json_string_eq(v, s));
    case 5:
    case 6: { /* array */
        unsigned count = rndn(r, 6), i;
        lambda_json_iter it;
        if (w) ok = lambda_json_write_begin_array(w) == 0;
        else lambda_json_iter_init(&it, v), ok = v.type == LAMBDA_JSON_ARRAY;
        for (i = 0; i < count && ok; i++) {
            if (!w) {
                lambda_json e2;
                ok = lambda_json_next(&it, NULL, &e) == 1 && lambda_json_index(v, i, &e2) == 0 && e2.ptr == e.ptr;
                if (!ok) break;
            }
            ok = rt_value(r, depth + 1, w, e);
        }
        if (w) return ok && lambda_json_write_end_array(w) == 0;
        return ok && lambda_json_next(&it, NULL, &e) == 0;
    }
    default: { /* object */
        unsigned count = rndn(r, 6), i;
        lambda_json_iter it;
        lambda_json k;
        if (w) ok = lambda_json_write_begin_object(w) == 0;
        else lambda_json_iter_init(&it, v), ok = v.type == LAMBDA_JSON_OBJECT;
        for (i = 0; i < count && ok; i++) {
            n = rnd_string(r, s, sizeof s);
            if (w) ok = lambda_json_write_key(w, s, n) == 0;
            else {
                lambda_json first;
                ok = lambda_json_next(&it, &k, &e) == 1 && lambda_json_string(k, back, sizeof back, &bn) == 0 &&
                     bn == n && memcmp(back, s, n) == 0;
                /* key look-up finds this member or an earlier duplicate */
                ok = ok && lambda_json_key(v, s, n, &first) == 0 && first.ptr <= e.ptr;
                if (!ok) break;
            }
            ok = rt_value(r, depth + 1, w, e);
        }
        if (w) return ok && lambda_json_write_end_object(w) == 0;
        return ok && lambda_json_next(&it, &k, &e) == 0;
    }
    }
}

static void test_roundtrip(void)
{
    lambda_response res;
    int doc, bad = 0;
    size_t bytes = 0;
    rng r;
    r.s = 0x9E3779B97F4A7C15ULL;
    res_init(&res, 64u << 20);
    for (doc = 0; doc < 3000; doc++) {
        lambda_json_writer w;
        lambda_json root;
        rng again = r;
        int ok;
        lambda_response_clear(&res);
        lambda_json_writer_init(&w, &res);
        root.ptr = NULL;
        root.len = 0;
        root.type = LAMBDA_JSON_NONE;
        ok = rt_value(&r, 0, &w, root) && lambda_json_writer_finish(&w) == 0;
        ok = ok && lambda_json_validate(SN(res.body.ptr, res.body.len), &root, NULL) == 0;
        ok = ok && rt_value(&again, 0, NULL, root) && again.s == r.s;
        if (!ok && bad++ < 3) printf("  round trip %d failed: %.*s\n", doc, (int)(res.body.len > 300 ? 300 : res.body.len), res.body.ptr);
        bytes += res.body.len;
    }
    printf("  round trip: 3000 documents, %lu bytes\n", (unsigned long)bytes);
    LT_CHECK(bad == 0);
    res_free(&res);
}

/* ======================================================================== every scanner */

/* the header's condition for its SIMD kernels (LAMBDA__JSON_SIMD, #undef'd at its end) */
#if !defined(LAMBDA_JSON_SCALAR) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__aarch64__)) && \
    (!defined(__OPTIMIZE_SIZE__) || defined(LAMBDA_JSON_SIMD))
#  define TEST_JSON_SIMD 1
#endif

/* The scanners this build and this CPU have, as values of lambda__json_isa_v (the kernel
   in use; LAMBDA__JSON_ISA_SCALAR: the byte-at-a-time scanner alone). */
static int scanners(int *isa, const char **names)
{
    int n = 0;
#ifdef TEST_JSON_SIMD
    names[n] = "scalar";
    isa[n++] = LAMBDA__JSON_ISA_SCALAR;
#  if defined(__x86_64__)
    names[n] = "SSE2";
    isa[n++] = LAMBDA__JSON_ISA_SSE2;
    lambda__json_isa_v = 0;
    if (lambda__json_isa() == LAMBDA__JSON_ISA_AVX2) {
        names[n] = "AVX2";
        isa[n++] = LAMBDA__JSON_ISA_AVX2;
    }
#  else
    names[n] = "NEON";
    isa[n++] = LAMBDA__JSON_ISA_NEON;
#  endif
#else
    names[n] = "scalar (LAMBDA_JSON_SCALAR, or no SIMD kernel for this target)";
    isa[n++] = 0;
#endif
    return n;
}
static void use_scanner(int isa)
{
#ifdef TEST_JSON_SIMD
    lambda__json_isa_v = isa;
#else
    (void)isa;
#endif
}

/* What the reading API says about a document, as a list of numbers: validate (code, error
   offset, root), look-ups, and a walk of every member with the accessors. Walking starts
   from the first '{' or '[' even in an invalid document, to meet errors mid-way. */
typedef struct trace { uint64_t v[8192]; size_t n; uint64_t h; } trace;
static void tr(trace *t, uint64_t x)
{
    if (t->n < sizeof t->v / sizeof t->v[0]) t->v[t->n++] = x;
    t->h = (t->h ^ x) * 0x100000001B3ULL;
}
static void tr_val(trace *t, const char *base, int rc, lambda_json v)
{
    tr(t, (uint64_t)(int64_t)rc);
    tr(t, v.ptr ? (uint64_t)(v.ptr - base) : (uint64_t)-1);
    tr(t, (uint64_t)v.len);
    tr(t, (uint64_t)v.type);
}
/* 1: every value is passed on without the reader's seal, so that each look-up and walk
   checks its bytes again instead of skipping them: the traces must not differ */
static int trace_unsealed;
static lambda_json unseal(lambda_json v)
{
    if (trace_unsealed) v.seal = 0;
    return v;
}
static void tr_walk(trace *t, const char *base, lambda_json v, int depth)
{
    lambda_json_iter it;
    lambda_json k, e, again;
    char buf[512];
    size_t n = 0, i;
    int rc;
    v = unseal(v);
    rc = lambda_json_string(v, buf, sizeof buf, &n);
    tr(t, (uint64_t)(int64_t)rc);
    tr(t, (uint64_t)n);
    for (i = 0; rc == 0 && i < n; i++) tr(t, (unsigned char)buf[i]);
    if (depth > 20 || (v.type != LAMBDA_JSON_ARRAY && v.type != LAMBDA_JSON_OBJECT)) return;
    lambda_json_iter_init(&it, v);
    while ((rc = lambda_json_next(&it, &k, &e)) == 1) {
        tr_val(t, base, 0, k);
        tr_val(t, base, 0, e);
        if (k.type == LAMBDA_JSON_STRING && lambda_json_string(k, buf, sizeof buf, &n) == 0) {
            rc = lambda_json_key(v, buf, n, &again);
            tr_val(t, base, rc, again);
        } else {
            rc = lambda_json_index(v, it.index - 1, &again);
            tr_val(t, base, rc, again);
        }
        tr_walk(t, base, e, depth + 1);
    }
    tr(t, (uint64_t)(int64_t)rc);
}
static void trace_doc(trace *t, const char *doc, size_t len)
{
    static const char *const paths[] = {"", "[0]", "[1]", "a", "a.b", "[0][0].a", "Records[0].s3.object.key",
                                        "Records[1].s3.object.key", "Records[2].eventTime", "[0].a[1]", "x[3]"};
    lambda_json v;
    size_t off = 0, i;
    int rc;
    t->n = 0;
    t->h = 0xCBF29CE484222325ULL;
    rc = lambda_json_validate(SN(doc, len), &v, &off);
    tr_val(t, doc, rc, v);
    tr(t, (uint64_t)off);
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        rc = lambda_json_get(SN(doc, len), paths[i], &v);
        tr_val(t, doc, rc, v);
        if (rc == 0) {
            lambda_json w;
            rc = lambda_json_find(unseal(v), "a", &w);
            tr_val(t, doc, rc, w);
            rc = lambda_json_find(unseal(v), "[1]", &w);
            tr_val(t, doc, rc, w);
            rc = lambda_json_find(unseal(v), "s3.object.key", &w);
            tr_val(t, doc, rc, w);
            rc = lambda_json_find(unseal(v), "Records[1].s3.object.key", &w);
            tr_val(t, doc, rc, w);
        }
    }
    for (i = 0; i < len && doc[i] != '{' && doc[i] != '['; i++) {}
    if (i < len) {
        memset(&v, 0, sizeof v); /* made here: no seal */
        v.ptr = doc + i;
        v.len = len - i;
        v.type = doc[i] == '{' ? LAMBDA_JSON_OBJECT : LAMBDA_JSON_ARRAY;
        tr_walk(t, doc, v, 0);
    }
}

static trace trace_a, trace_b;
static int paths_docs, paths_bad;

static void paths_compare(const char *what, size_t len, const char *name_a, const char *name_b)
{
    if (trace_b.h != trace_a.h || trace_b.n != trace_a.n ||
        memcmp(trace_a.v, trace_b.v, trace_a.n * sizeof trace_a.v[0]) != 0) {
        size_t j = 0;
        while (j < trace_a.n && j < trace_b.n && trace_a.v[j] == trace_b.v[j]) j++;
        if (paths_bad++ < 5)
            printf("  %s (%lu bytes): %s and %s differ at item %lu: %llu vs %llu\n", what, (unsigned long)len,
                   name_a, name_b, (unsigned long)j, (unsigned long long)(j < trace_a.n ? trace_a.v[j] : 0),
                   (unsigned long long)(j < trace_b.n ? trace_b.v[j] : 0));
    }
}

/* the same document (copied to an exact-size buffer: ASan sees any over-read) through
   every scanner, and once more with every value unsealed (checked again at each step
   instead of skipped); the traces must be identical */
static void paths_check(const char *what, const char *doc, size_t len)
{
    int isa[4], n, i;
    const char *names[4];
    char *copy = (char *)malloc(len ? len : 1);
    if (len) memcpy(copy, doc, len);
    n = scanners(isa, names);
    for (i = 0; i < n; i++) {
        trace *t = i == 0 ? &trace_a : &trace_b;
        use_scanner(isa[i]);
        trace_doc(t, copy, len);
        if (i > 0) paths_compare(what, len, names[0], names[i]);
    }
    trace_unsealed = 1; /* with the last scanner */
    trace_doc(&trace_b, copy, len);
    trace_unsealed = 0;
    paths_compare(what, len, names[0], "unsealed values");
    use_scanner(0);
    paths_docs++;
    free(copy);
}

/* doc, shifted across the 64-byte blocks (leading spaces), and mutated: bytes the
   scanners treat specially, put at random places */
static void paths_variants(const char *what, const char *doc, size_t len, rng *r, int mutations)
{
    static const char special[] = "\"\\{}[]:,\x01\x1f \n\t0-e.tfn\x80\xbf\xc3\xe2\xed\xf0\xf4\xff";
    char *buf = (char *)malloc(len + 80);
    int m;
    size_t shift;
    paths_check(what, doc, len);
    for (shift = 1; shift < 80; shift += 13) {
        memset(buf, ' ', shift);
        memcpy(buf + shift, doc, len);
        paths_check(what, buf, len + shift);
    }
    for (m = 0; m < mutations && len > 0; m++) {
        size_t at = rndn(r, (unsigned)len), n = len;
        memcpy(buf, doc, len);
        switch (rndn(r, 4)) {
        case 0: buf[at] = special[rndn(r, sizeof special - 1)]; break;
        case 1: /* insert */
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = special[rndn(r, sizeof special - 1)];
            n++;
            break;
        case 2: /* delete */
            memmove(buf + at, buf + at + 1, len - at - 1);
            n--;
            break;
        default: n = at; /* cut */
        }
        paths_check(what, buf, n);
    }
    free(buf);
}

/* The reader's seals: look-ups in a value it returned skip instead of checking again. A
   walk of the records (get "Records", next each, find and unescape the key) as numbers:
   Records made by hand (no seal) when get fails, to meet the error on the way. */
static size_t seal_walk(const char *base, size_t len, uint64_t *out, size_t cap)
{
    lambda_json recs, rec, v;
    lambda_json_iter it;
    char key[256];
    size_t n = 0, klen = 0;
    int rc;
#define SEAL_OUT(x) (n < cap ? (void)(out[n++] = (uint64_t)(x)) : (void)0)
    rc = lambda_json_get(SN(base, len), "Records", &recs);
    SEAL_OUT((int64_t)rc);
    if (rc != 0) {
        const char *b = (const char *)memchr(base, '[', len);
        memset(&recs, 0, sizeof recs);
        if (b == NULL) return n;
        recs.ptr = b;
        recs.len = len - (size_t)(b - base);
        recs.type = LAMBDA_JSON_ARRAY;
    }
    lambda_json_iter_init(&it, recs);
    while ((rc = lambda_json_next(&it, NULL, &rec)) == 1) {
        SEAL_OUT(rec.ptr - base);
        SEAL_OUT(rec.len);
        rc = lambda_json_find(rec, "s3.object.key", &v);
        SEAL_OUT((int64_t)rc);
        if (rc == 0) {
            rc = lambda_json_string(v, key, sizeof key, &klen);
            SEAL_OUT((int64_t)rc);
            SEAL_OUT(v.ptr - base);
            SEAL_OUT(klen);
        }
    }
    SEAL_OUT((int64_t)rc);
#undef SEAL_OUT
    return n;
}

/* the walk of doc in buf (after whatever was looked up there before) is the walk of the
   same bytes in a buffer never looked at */
static int seal_same(char *buf, const char *doc, size_t len)
{
    static uint64_t a[4096], b[4096];
    char *fresh = (char *)malloc(len);
    size_t na, nb;
    memcpy(buf, doc, len);
    memcpy(fresh, doc, len);
    na = seal_walk(buf, len, a, 4096);
    nb = seal_walk(fresh, len, b, 4096);
    free(fresh);
    return na == nb && memcmp(a, b, na * sizeof a[0]) == 0;
}

/* every value returned lies inside [p, p + len) (or is NONE) */
static int seal_inside(lambda_json v, const char *p, size_t len)
{
    if (v.type == LAMBDA_JSON_NONE) return v.ptr == NULL && v.len == 0;
    return v.ptr >= p && v.len <= len && (size_t)(v.ptr - p) <= len - v.len;
}

static void test_seals(void)
{
    size_t len, nrec, i, off = 0;
    char *ev = make_event(12000, &len, &nrec), *buf = (char *)malloc(len), *alt = (char *)malloc(len + 1);
    lambda_json recs, rec, rec3, v, sub, k;
    lambda_json_iter it;
    rng r;
    int rc, n, isa[4], ns, si;
    const char *names[4];
    char *p;
    r.s = 0x13198A2E03707344ULL;
    alt[len] = '\0'; /* for strstr */
    LT_CHECK(nrec >= 8);
    /* what the reader returns is sealed; a value made by hand, or another range, is not */
    memcpy(buf, ev, len);
    LT_CHECK(lambda_json_get(SN(buf, len), "Records", &recs) == 0 && recs.seal != 0);
    LT_CHECK(lambda_json_find(recs, "[3]", &rec3) == 0 && rec3.seal != 0);
    LT_CHECK(lambda_json_validate(SN(buf, len), &v, NULL) == 0 && v.seal != 0);
    lambda_json_iter_init(&it, rec3);
    LT_CHECK(it.checked == 1 && lambda_json_next(&it, &k, &v) == 1 && k.seal != 0 && v.seal != 0);
    sub = rec3;
    sub.len--; /* the seal of another range */
    lambda_json_iter_init(&it, sub);
    LT_CHECK(it.checked == 0);
    while ((rc = lambda_json_next(&it, NULL, NULL)) == 1) {}
    LT_CHECK(rc == LAMBDA_E_SYNTAX); /* the closing brace is not in it */
    lambda_json_iter_init(&it, rec3);
    while ((rc = lambda_json_next(&it, NULL, NULL)) == 1) {}
    LT_CHECK(rc == 0);
    sub = rec3;
    sub.type = LAMBDA_JSON_ARRAY; /* the seal of another type */
    lambda_json_iter_init(&it, sub);
    LT_CHECK(it.checked == 0 && lambda_json_next(&it, NULL, NULL) == LAMBDA_E_SYNTAX); /* '{' is no array */
    sub = rec3;
    sub.ptr++, sub.len--; /* inside the record: checked, as before */
    LT_CHECK(lambda_json_find(sub, "s3", &v) == LAMBDA_E_SYNTAX && v.type == LAMBDA_JSON_NONE); /* "eventVersion": */

    /* keys found by the blocks' quotes (sealed), or checked (unsealed), through every
       scanner, in a small object and in one of more than 2 KB (AVX2's range) */
    ns = scanners(isa, names);
    for (si = 0; si < ns * 2; si++) {
        static const struct { const char *doc, *path; int rc; const char *want; } kc[] = {
            {"{\"x\\u0061\": 1, \"xa\": 2}", "xa", 0, "1"},     /* escaped: unescaped to compare */
            {"{\"\\u0061\": 1, \"a\": 2}", "a", 0, "1"},         /* the first duplicate wins */
            {"{\"b\": \"a\", \"a\": 3}", "a", 0, "3"},           /* a value is no key */
            {"{\"o\": {\"a\": 1}, \"a\" : 2}", "a", 0, "2"},     /* nor a key one level down */
            {"{\"o\": [{\"a\": 1}], \"p\": {\"a\": [4]}}", "p.a[0]", 0, "4"},
            {"{\"a\\\"\": 1, \"a\": 5}", "a", 0, "5"},           /* a\" */
            {"{\"ab\": 1, \"a\": 6}", "a", 0, "6"},
            {"{\"o\": {\"a\": 1}}", "a", LAMBDA_E_NOT_FOUND, NULL},
            {"{\"a\": 1}", "a.b", LAMBDA_E_NOT_FOUND, NULL},
            {"[{\"a\": 7}]", "[0].a", 0, "7"},
        };
        size_t c;
        use_scanner(isa[si % ns]);
        for (c = 0; c < sizeof kc / sizeof kc[0]; c++) {
            char kdoc[4096];
            lambda_json root, w1, w2;
            size_t dl = strlen(kc[c].doc), pad = si < ns ? 0 : 3000;
            int r1, r2;
            memcpy(kdoc, kc[c].doc, dl);
            if (pad) { /* the same with a long member first */
                size_t j = kc[c].doc[0] == '{' ? 1 : 0;
                if (j) {
                    memcpy(kdoc, "{\"pad\": \"", 9);
                    memset(kdoc + 9, 'a', pad);
                    memcpy(kdoc + 9 + pad, "\", ", 3);
                    memcpy(kdoc + 12 + pad, kc[c].doc + 1, dl - 1);
                    dl += 11 + pad;
                }
            }
            LT_CHECK(lambda_json_validate(SN(kdoc, dl), &root, NULL) == 0 && root.seal != 0);
            r1 = lambda_json_find(root, kc[c].path, &w1);
            root.seal = 0;
            r2 = lambda_json_find(root, kc[c].path, &w2);
            LT_CHECK(r1 == kc[c].rc && r2 == kc[c].rc);
            LT_CHECK(w1.ptr == w2.ptr && w1.len == w2.len && w1.type == w2.type);
            if (kc[c].want) LT_CHECK(w1.len == strlen(kc[c].want) && memcmp(w1.ptr, kc[c].want, w1.len) == 0);
        }
    }
    use_scanner(0);

    /* random sub-ranges of a record, with its seal: the answers of the same range unsealed */
    for (i = 0; i < 300; i++) {
        lambda_json a, b, w1, w2;
        size_t from = rndn(&r, (unsigned)rec3.len), to = from + rndn(&r, (unsigned)(rec3.len - from + 1));
        static const char *const paths[] = {"s3.object.key", "eventTime", "s3", "[0]", ""};
        const char *path = paths[i % 5];
        a = rec3;
        a.ptr += from;
        a.len = to - from;
        b = a;
        b.seal = 0;
        if (rndn(&r, 2)) a.type = b.type = LAMBDA_JSON_ARRAY;
        LT_CHECK(lambda_json_find(a, path, &w1) == lambda_json_find(b, path, &w2) && w1.ptr == w2.ptr &&
                 w1.len == w2.len && w1.type == w2.type);
        lambda_json_iter_init(&it, a);
        {
            lambda_json_iter it2;
            int r1, r2;
            lambda_json_iter_init(&it2, b);
            do {
                r1 = lambda_json_next(&it, &w1, NULL);
                r2 = lambda_json_next(&it2, &w2, NULL);
            } while (r1 == 1 && r2 == 1 && w1.ptr == w2.ptr && w1.len == w2.len);
            LT_CHECK(r1 == r2);
        }
    }

    /* the same buffer, other bytes of the same length, through every scanner: each walk
       as in a buffer never looked at */
    for (si = 0; si < ns; si++) {
        use_scanner(isa[si]);
        LT_CHECK(seal_same(buf, ev, len));
        memcpy(alt, ev, len);
        for (p = alt; (p = strstr(p, "uploads")) != NULL; p++) memcpy(p, "UPLOADS", 7);
        LT_CHECK(seal_same(buf, alt, len));
        p = strstr(strstr(alt, "\"Records\"") + 10, "\"s3\":"); /* record 0's "s3" is now "s4" */
        for (n = 0; n < 3 && p; n++) p = strstr(p + 1, "\"s3\":"); /* record 3's */
        LT_CHECK(p != NULL);
        if (p) p[2] = '4';
        LT_CHECK(seal_same(buf, alt, len));
        memcpy(buf, alt, len);
        LT_CHECK(lambda_json_get(SN(buf, len), "Records[3].s3.object.key", &v) == LAMBDA_E_NOT_FOUND);
        LT_CHECK(lambda_json_get(SN(buf, len), "Records[4].s3.object.key", &v) == 0);
        /* a byte inside record 5 no longer valid, after a walk of the valid document */
        memcpy(alt, ev, len);
        LT_CHECK(seal_same(buf, alt, len));
        p = strstr(alt, "\"eventTime\"");
        for (n = 0; n < 5 && p; n++) p = strstr(p + 1, "\"eventTime\"");
        LT_CHECK(p != NULL);
        if (p == NULL) break;
        p[16] = '\x01';
        LT_CHECK(seal_same(buf, alt, len));
        memcpy(buf, alt, len);
        LT_CHECK(lambda_json_validate(SN(buf, len), NULL, &off) == LAMBDA_E_SYNTAX && off == (size_t)(p + 16 - alt));
        LT_CHECK(lambda_json_get(SN(buf, len), "Records", &v) == LAMBDA_E_SYNTAX);
        LT_CHECK(lambda_json_get(SN(buf, len), "Records[5].s3.object.key", &v) == LAMBDA_E_SYNTAX);
        LT_CHECK(lambda_json_get(SN(buf, len), "Records[4].s3.object.key", &v) == 0);
        p[16] = '\xff'; /* and as invalid UTF-8 */
        LT_CHECK(seal_same(buf, alt, len));
        memcpy(buf, alt, len);
        LT_CHECK(lambda_json_get(SN(buf, len), "Records[5].s3.object.key", &v) == LAMBDA_E_UTF8);
        {   /* walked by hand: records 0-4, then the error */
            uint64_t t[512];
            size_t m = seal_walk(buf, len, t, 512);
            LT_CHECK(m > 2 && (int64_t)t[0] == LAMBDA_E_UTF8 && (int64_t)t[m - 1] == LAMBDA_E_UTF8 && m == 2 + 5 * 6);
        }
    }
    use_scanner(0);

    /* a value kept while its bytes change is stale (the document it came from is gone):
       when the seal's bytes (its first and last 8) changed, it is checked again */
    memcpy(buf, ev, len);
    LT_CHECK(lambda_json_get(SN(buf, len), "Records[2]", &rec) == 0);
    ((char *)(uintptr_t)rec.ptr)[rec.len - 1] = ' '; /* its closing brace */
    lambda_json_iter_init(&it, rec);
    LT_CHECK(it.checked == 0);
    while ((rc = lambda_json_next(&it, NULL, NULL)) == 1) {}
    LT_CHECK(rc == LAMBDA_E_SYNTAX);
    /* and the skip checks what it meets between members: where a checked container has a
       ',' another byte sends it to the checking code from there */
    memcpy(buf, ev, len);
    LT_CHECK(lambda_json_get(SN(buf, len), "Records[2]", &rec) == 0);
    p = (char *)memchr(rec.ptr, ',', rec.len); /* after the first member, "eventVersion" */
    LT_CHECK(p != NULL && (size_t)(p - rec.ptr) > 8);
    if (p) *p = ';';
    lambda_json_iter_init(&it, rec);
    LT_CHECK(it.checked == 1 && lambda_json_next(&it, &k, &v) == 1 && lambda_json_string_eq(k, "eventVersion"));
    LT_CHECK(lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX && lambda_json_next(&it, &k, &v) == LAMBDA_E_SYNTAX);
    rc = lambda_json_find(rec, "s3", &v); /* found by the blocks' quotes: unspecified, but inside */
    LT_CHECK(rc <= 0 && seal_inside(v, rec.ptr, rec.len));
    LT_CHECK(lambda_json_find(rec, "eventVersion", &v) == 0 && lambda_json_string_eq(v, "2.1"));
    /* otherwise the answers are unspecified, but never outside the value, nor a crash (in
       an exact-size copy, for ASan): random bytes changed inside a sealed record */
    for (i = 0; i < 2000; i++) {
        char *c = (char *)malloc(rec3.len);
        lambda_json sealed, w;
        size_t m, j;
        static const char special[] = "\"\\{}[]:, \n0e.-tn\x01\x80";
        memcpy(c, rec3.ptr, rec3.len);
        LT_CHECK(lambda_json_validate(SN(c, rec3.len), &sealed, NULL) == 0);
        for (m = 1 + rndn(&r, 8); m > 0; m--) c[8 + rndn(&r, (unsigned)(rec3.len - 16))] = special[rndn(&r, sizeof special - 1)];
        use_scanner(isa[i % (unsigned)ns]);
        rc = lambda_json_find(sealed, i % 2 ? "s3.object.key" : "s3.bucket.arn", &w);
        LT_CHECK(rc <= 0 && seal_inside(w, c, rec3.len));
        if (rc == 0) {
            char key[64];
            (void)lambda_json_string(w, key, sizeof key, NULL);
        }
        lambda_json_iter_init(&it, sealed);
        for (j = 0; j < 40 && (rc = lambda_json_next(&it, &k, &w)) == 1; j++) {
            lambda_json x;
            LT_CHECK(seal_inside(k, c, rec3.len) && seal_inside(w, c, rec3.len) && w.len > 0);
            LT_CHECK(lambda_json_find(w, "[1]", &x) <= 0 && seal_inside(x, c, rec3.len));
            LT_CHECK(lambda_json_key(w, "name", 4, &x) <= 0 && seal_inside(x, c, rec3.len));
        }
        LT_CHECK(rc <= 1);
        free(c);
    }
    use_scanner(0);
    free(alt);
    free(buf);
    free(ev);
}

static void test_scanners(void)
{
    int isa[4], n, i, doc;
    const char *names[4];
    rng r;
    lambda_response res;
    size_t len, nrec, cut;
    char *ev;
    n = scanners(isa, names);
    printf("  scanners:");
    for (i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
    r.s = 0x243F6A8885A308D3ULL;
    /* the conformance suite, shifted and mutated */
    if (suite_dir) {
        DIR *dir = opendir(suite_dir);
        struct dirent *de;
        LT_CHECK(dir != NULL);
        while (dir && (de = readdir(dir)) != NULL) {
            char path[4096], *data;
            size_t l = strlen(de->d_name);
            if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
            snprintf(path, sizeof path, "%s/%s", suite_dir, de->d_name);
            if ((data = read_file(path, &len)) == NULL) continue;
            paths_variants(de->d_name, data, len, &r, 8);
            free(data);
        }
        if (dir) closedir(dir);
    }
    /* random documents of the round-trip test: long strings, escapes, every UTF-8 length */
    res_init(&res, 64u << 20);
    for (doc = 0; doc < 400; doc++) {
        lambda_json_writer w;
        lambda_json none;
        memset(&none, 0, sizeof none);
        lambda_response_clear(&res);
        lambda_json_writer_init(&w, &res);
        if (!rt_value(&r, 0, &w, none) || lambda_json_writer_finish(&w) != 0) continue;
        paths_variants("random document", res.body.ptr, res.body.len, &r, 6);
    }
    res_free(&res);
    /* the benchmark's S3 event: every cut, and mutations */
    ev = make_event(4000, &len, &nrec);
    paths_variants("S3 event", ev, len, &r, 300);
    for (cut = 0; cut < len; cut += 3) paths_check("S3 event, cut", ev, cut);
    /* deep nesting, at the depth limit and past it */
    {
        char deep[2 * LAMBDA_JSON_MAX_DEPTH + 8];
        size_t d;
        for (d = LAMBDA_JSON_MAX_DEPTH - 1; d <= LAMBDA_JSON_MAX_DEPTH + 1; d++) {
            memset(deep, '[', d);
            memset(deep + d, ']', d);
            paths_check("deep", deep, 2 * d);
        }
    }
    free(ev);
    printf("  %d documents through each scanner, %d differences\n", paths_docs, paths_bad);
    LT_CHECK(paths_bad == 0 && paths_docs > 1000);
}

int main(int argc, char **argv)
{
    suite_dir = argc > 1 ? argv[1] : NULL;
    LT_RUN(test_validate_table);
    LT_RUN(test_validate_root);
    LT_RUN(test_validate_depth);
    LT_RUN(test_get_paths);
    LT_RUN(test_get_lookalikes);
    LT_RUN(test_path_syntax);
    LT_RUN(test_path_quoted);
    LT_RUN(test_get_malformed);
    LT_RUN(test_get_prefixes);
    LT_RUN(test_find);
    LT_RUN(test_key_index);
    LT_RUN(test_string);
    LT_RUN(test_string_eq);
    LT_RUN(test_int64);
    LT_RUN(test_double);
    LT_RUN(test_bool_null);
    LT_RUN(test_iter);
    LT_RUN(test_writer_document);
    LT_RUN(test_writer_escape);
    LT_RUN(test_writer_misuse);
    LT_RUN(test_writer_double);
    LT_RUN(test_writer_double_table);
    LT_RUN(test_writer_double_hard);
    LT_RUN(test_writer_double_random);
    LT_RUN(test_locale);
    LT_RUN(test_suite);
    LT_RUN(test_roundtrip);
    LT_RUN(test_seals);
    LT_RUN(test_scanners);
    return LT_REPORT();
}
