/* libFuzzer target, differential: the runtime's JSON reader against simdjson 3.0 (Debian's
   libsimdjson-dev, DOM API), a strict RFC 8259 parser with its own UTF-8 validation and
   correctly rounded numbers. C++ because simdjson is; the runtime is used only through its
   public JSON API (lambda_json_validate, _get/_find/_key/_index, _next, _string,
   _string_eq, _int64, _double, _bool, _is_null), so the target keeps working whatever the
   scanner inside looks like.
   Compared on every input: accept/reject of the whole document (lambda_json_validate vs
   parser.parse), and when both accept, every value, walked in step: the type; for
   containers every member in order (keys unescaped, duplicates included) through
   lambda_json_next, the same member through lambda_json_key (the first of duplicate keys)
   or lambda_json_index, and, where the path can be written, through lambda_json_get from
   the root; strings unescaped (byte for byte, embedded NULs included); numbers as int64
   when both sides have one, else as doubles (equal, both correctly rounded); true, false,
   null. Every difference traps but the ones tests/FUZZ_DIFF.md lists, each with its
   predicate below (named D_*), computed from the input bytes or from simdjson's view. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <simdjson.h>
#include <cmath>
#include <string>
#include <vector>

#define CHECK(c) ((c) ? (void)0 : fail(__LINE__))
static void fail(int line)
{
    fprintf(stderr, "%s:%d: undocumented difference\n", __FILE__, line);
    __builtin_trap();
}

using simdjson::dom::element;
using simdjson::dom::element_type;

static lambda_str doc_str;
static size_t leaves;

/* The unescaped text of a string value, ours. */
static std::string our_string(lambda_json v)
{
    size_t n = 0;
    int rc = lambda_json_string(v, NULL, 0, &n);
    CHECK(rc == LAMBDA_E_SPACE || rc == 0);
    std::string s(n + 1, '\0');
    CHECK(lambda_json_string(v, &s[0], s.size(), &n) == 0 && n + 1 == s.size());
    s.resize(n);
    return s;
}

/* A path lambda_json_get can read for this key: the key alone, or in brackets and quotes
   (no '"', no '\\' and no NUL allowed then, the header's path syntax has no escapes). */
static bool path_key(std::string &path, const std::string &key)
{
    bool plain = !key.empty();
    for (char c : key) {
        if (c == '"' || c == '\\' || c == '\0') return false;
        if (c == '.' || c == '[' || c == ']') plain = false;
    }
    if (plain) {
        if (!path.empty()) path += '.';
        path += key;
    } else {
        path += "[\"" + key + "\"]";
    }
    return true;
}

static void same(lambda_json ours, element theirs, const std::string &path, bool path_ok,
                 unsigned depth);

static void same_leaf(lambda_json ours, element theirs)
{
    leaves++;
    switch (theirs.type()) {
    case element_type::NULL_VALUE:
        CHECK(ours.type == LAMBDA_JSON_NULL && lambda_json_is_null(ours));
        break;
    case element_type::BOOL: {
        int b = -1;
        CHECK(lambda_json_bool(ours, &b) == 0 && b == (bool(theirs) ? 1 : 0));
        CHECK(ours.type == (b ? LAMBDA_JSON_TRUE : LAMBDA_JSON_FALSE));
        break;
    }
    case element_type::STRING: {
        std::string_view t = theirs.get_string().value();
        CHECK(ours.type == LAMBDA_JSON_STRING);
        std::string o = our_string(ours);
        CHECK(o.size() == t.size() && memcmp(o.data(), t.data(), t.size()) == 0);
        if (o.find('\0') == std::string::npos) CHECK(lambda_json_string_eq(ours, o.c_str()) == 1);
        break;
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
        double od = 0, td = 0;
        int64_t oi = 0;
        int irc;
        CHECK(ours.type == LAMBDA_JSON_NUMBER);
        irc = lambda_json_int64(ours, &oi);
        if (theirs.type() == element_type::INT64) {
            /* simdjson: an integer (no fraction, no exponent) in int64_t range */
            CHECK(irc == 0 && oi == theirs.get_int64().value());
        } else if (theirs.type() == element_type::UINT64) {
            CHECK(irc == LAMBDA_E_RANGE); /* above INT64_MAX */
        } else {
            /* a fraction or an exponent: not an integer to us; D_INT_RANGE: simdjson reads
               an integer outside [INT64_MIN, UINT64_MAX] as a double, ours says RANGE */
            bool frac = false;
            for (size_t i = 0; i < ours.len; i++)
                if (ours.ptr[i] == '.' || ours.ptr[i] == 'e' || ours.ptr[i] == 'E') frac = true;
            /* D_NEG_ZERO: simdjson reads "-0" as the double -0.0, an integer to us */
            if (ours.len == 2 && memcmp(ours.ptr, "-0", 2) == 0)
                CHECK(irc == 0 && oi == 0);
            else
                CHECK(frac ? irc == LAMBDA_E_TYPE : irc == LAMBDA_E_RANGE);
        }
        td = theirs.get_double().value();
        CHECK(lambda_json_double(ours, &od) == 0);
        /* equal, both correctly rounded; -0 and 0 compare equal: D_NEG_ZERO */
        CHECK(od == td);
        break;
    }
    default:
        CHECK(0);
    }
}

static void same(lambda_json ours, element theirs, const std::string &path, bool path_ok,
                 unsigned depth)
{
    if (path_ok && depth <= 24) { /* the same value through a path from the root */
        lambda_json g;
        CHECK(lambda_json_get(doc_str, path.c_str(), &g) == 0);
        CHECK(g.ptr == ours.ptr && g.len == ours.len && g.type == ours.type);
    }
    if (theirs.type() == element_type::ARRAY) {
        simdjson::dom::array a = theirs.get_array().value();
        lambda_json_iter it;
        lambda_json k, v, x;
        size_t i = 0;
        CHECK(ours.type == LAMBDA_JSON_ARRAY);
        lambda_json_iter_init(&it, ours);
        for (element e : a) {
            CHECK(lambda_json_next(&it, &k, &v) == 1 && k.type == LAMBDA_JSON_NONE);
            if (i < 64) { /* lambda_json_index scans from the start: the first ones only */
                CHECK(lambda_json_index(ours, i, &x) == 0 && x.ptr == v.ptr && x.len == v.len);
            }
            same(v, e, path + "[" + std::to_string(i) + "]", path_ok, depth + 1);
            i++;
        }
        CHECK(lambda_json_next(&it, &k, &v) == 0);
        CHECK(lambda_json_index(ours, i, &x) == LAMBDA_E_NOT_FOUND || i >= 64);
        return;
    }
    if (theirs.type() == element_type::OBJECT) {
        simdjson::dom::object o = theirs.get_object().value();
        lambda_json_iter it;
        lambda_json k, v, x;
        std::vector<std::string> seen;
        CHECK(ours.type == LAMBDA_JSON_OBJECT);
        lambda_json_iter_init(&it, ours);
        for (simdjson::dom::key_value_pair kv : o) {
            std::string key(kv.key.data(), kv.key.size()), p = path;
            bool first = true;
            CHECK(lambda_json_next(&it, &k, &v) == 1 && k.type == LAMBDA_JSON_STRING);
            CHECK(our_string(k) == key);
            for (const std::string &s : seen)
                if (s == key) first = false;
            if (first) {
                seen.push_back(key);
                /* the first of duplicate keys, by lambda_json_key */
                CHECK(lambda_json_key(ours, key.data(), key.size(), &x) == 0);
                CHECK(x.ptr == v.ptr && x.len == v.len);
            }
            bool ok = path_ok && first && path_key(p, key);
            same(v, kv.value, p, ok, depth + 1);
        }
        CHECK(lambda_json_next(&it, &k, &v) == 0);
        return;
    }
    same_leaf(ours, theirs);
}

/* the deepest nesting of arrays and objects in simdjson's tree */
static unsigned nesting(element e)
{
    unsigned d = 0;
    if (e.type() == element_type::ARRAY) {
        simdjson::dom::array a = e.get_array().value();
        for (element c : a) d = std::max(d, nesting(c));
        return d + 1;
    }
    if (e.type() == element_type::OBJECT) {
        simdjson::dom::object o = e.get_object().value();
        for (simdjson::dom::key_value_pair kv : o) d = std::max(d, nesting(kv.value));
        return d + 1;
    }
    return 0;
}

/* Ours accepts, simdjson rejects: 1 if a documented difference explains it. */
static bool explained_their_reject(const char *in, size_t n, lambda_json root,
                                   simdjson::error_code err)
{
    (void)in;
    (void)n;
    /* D_SURROGATE (RFC 8259 8.2: a lone surrogate escape is grammatical JSON, its meaning
       is unpredictable): our validator takes "\ud800", our decoders then say
       LAMBDA_E_UTF8; simdjson rejects the document. Found by walking ours: some string
       fails with LAMBDA_E_UTF8. */
    /* D_NUMBER_RANGE (RFC 8259 6 and 9: a parser may limit the range and precision of
       numbers): simdjson rejects an integer outside [INT64_MIN, UINT64_MAX] written without
       fraction and exponent (BIGINT_ERROR), and a magnitude beyond a double's
       (NUMBER_ERROR); ours accepts both, lambda_json_int64/_double say LAMBDA_E_RANGE. */
    struct walk {
        static bool odd(lambda_json v)
        {
            if (v.type == LAMBDA_JSON_STRING) {
                char c;
                size_t len;
                return lambda_json_string(v, &c, 1, &len) == LAMBDA_E_UTF8;
            }
            if (v.type == LAMBDA_JSON_NUMBER) {
                double d;
                int64_t i;
                bool frac = false;
                if (lambda_json_double(v, &d) == LAMBDA_E_RANGE) return true;
                for (size_t j = 0; j < v.len; j++)
                    if (v.ptr[j] == '.' || v.ptr[j] == 'e' || v.ptr[j] == 'E') frac = true;
                if (frac || lambda_json_int64(v, &i) != LAMBDA_E_RANGE) return false;
                /* beyond int64: within uint64 simdjson takes it */
                return v.ptr[0] == '-' || v.len > 20 ||
                       (v.len == 20 && memcmp(v.ptr, "18446744073709551615", 20) > 0);
            }
            if (v.type == LAMBDA_JSON_ARRAY || v.type == LAMBDA_JSON_OBJECT) {
                lambda_json_iter it;
                lambda_json k, x;
                lambda_json_iter_init(&it, v);
                while (lambda_json_next(&it, &k, &x) == 1)
                    if ((k.type == LAMBDA_JSON_STRING && odd(k)) || odd(x)) return true;
            }
            return false;
        }
    };
    if (err == simdjson::DEPTH_ERROR || err == simdjson::CAPACITY) return false;
    return walk::odd(root);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static simdjson::dom::parser parser; /* any size; nesting up to 1024 (its default) */
    const char *in = (const char *)data;
    lambda_json root;
    size_t off = 0;
    lambda_str d;
    d.ptr = in;
    d.len = len;
    int rc = lambda_json_validate(d, &root, &off);
    simdjson::padded_string ps(in, len);
    element t;
    simdjson::error_code err = parser.parse(ps).get(t);
    if (rc == 0 && err == simdjson::SUCCESS) {
        doc_str = d;
        same(root, t, "", true, 0);
        return 0;
    }
    if (rc == 0) {
        CHECK(explained_their_reject(in, len, root, err));
        return 0;
    }
    if (err == simdjson::SUCCESS) {
        /* D_DEPTH: our nesting limit is LAMBDA_JSON_MAX_DEPTH (512), simdjson's 1024;
           RFC 8259 9: a parser may limit the depth of nesting */
        CHECK(rc == LAMBDA_E_DEPTH && nesting(t) > LAMBDA_JSON_MAX_DEPTH);
        return 0;
    }
    CHECK(rc == LAMBDA_E_SYNTAX || rc == LAMBDA_E_UTF8 || rc == LAMBDA_E_DEPTH);
    return 0;
}
