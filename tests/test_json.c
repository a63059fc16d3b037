/* tests/test_json.c - white-box tests of the JSON scanner, getters and writer.
   Usage: test_json PATH/TO/JSONTestSuite/test_parsing
   Build: gcc -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -pedantic -Wshadow -Werror -I. -O2 -Wconversion -o build/test_json tests/test_json.c */
#define _DEFAULT_SOURCE
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <dirent.h>
#include <locale.h>
#include "lt.h"

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
    FRESH();   /* raw nesting counts from the writer's depth */
    lambda_json_write_begin_array(&w);
    LT_CHECK(lambda_json_write_raw(&w, "[]", 2) == 0);
    for (i = 1; i < LAMBDA_JSON_MAX_DEPTH; i++) lambda_json_write_begin_array(&w);
    LT_CHECK(lambda_json_write_raw(&w, "1", 1) == 0 && lambda_json_write_raw(&w, "[]", 2) == LAMBDA_E_DEPTH);
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
    LT_CHECK(writes_double(5e-324, "4.94065645841247e-324"));
    LT_CHECK(writes_double(1.7976931348623157e308, "1.7976931348623157e+308"));
    LT_CHECK(writes_double(2.2250738585072014e-308, "2.2250738585072014e-308"));
    LT_CHECK(writes_double(-123.0, "-123"));
    LT_CHECK(writes_double(999999999999999.0, "999999999999999"));
    LT_CHECK(writes_double(1e15, "1e+15"));
    LT_CHECK(writes_double(-1e15, "-1e+15"));
    LT_CHECK(writes_double(4503599627370497.0, "4503599627370497"));
}

/* The writer's doubles against the definition: the shortest of %.15g, %.16g, %.17g that
   reads back to the same value (decimal comma turned into a point), over integers, small
   decimals and random bit patterns. */
static void test_writer_double_random(void)
{
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    char want[40];
    int i, bad = 0;
    for (i = 0; i < 60000 && bad < 5; i++) {
        double d;
        int prec;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (i % 3 == 0) d = (double)(long long)(x >> (x & 63)) * ((x & 64) ? -1.0 : 1.0);
        else if (i % 3 == 1) d = (double)(long long)(x % 2000000001ull) / 1000.0 - 1000000.0;
        else {
            memcpy(&d, &x, sizeof d);
            if (d != d || d - d != 0.0) continue;
        }
        for (prec = 15; prec <= 17; prec++) {
            char *c;
            snprintf(want, sizeof want, "%.*g", prec, d);
            if ((c = strchr(want, ',')) != NULL) *c = '.';
            if (strtod(want, NULL) == d) break;
        }
        if (!writes_double(d, want)) bad++;
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
    LT_RUN(test_writer_double_random);
    LT_RUN(test_locale);
    LT_RUN(test_suite);
    LT_RUN(test_roundtrip);
    return LT_REPORT();
}
