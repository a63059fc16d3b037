/* >>json  scanner, getters, writer.
   Pasted into the implementation half after <string.h> <stdlib.h> <stdio.h> <stdarg.h>
   <errno.h> <locale.h> and LAMBDA__PRIVATE. Helpers are lambda__json_*, all static. */

#define LAMBDA__JSON_QUOTE   1u  /* lambda__json_escape: add the surrounding quotes */
#define LAMBDA__JSON_REPLACE 2u  /* lambda__json_escape: invalid UTF-8 -> U+FFFD (else LAMBDA_E_UTF8) */
#define LAMBDA__JW_COMMA 1u      /* writer: a member was written at this level */
#define LAMBDA__JW_KEY   2u      /* writer: in an object and a key is due */
#define LAMBDA__JW_DONE  4u      /* writer: the top-level value is complete */
#define LAMBDA__JSON_DIGITS 800  /* significant digits kept when parsing a double (>= 768) */

LAMBDA__PRIVATE int lambda__json_err(const char **pp, const char *at, int rc)
{
    *pp = at;
    return rc;
}

LAMBDA__PRIVATE const char *lambda__json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

LAMBDA__PRIVATE int lambda__json_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

LAMBDA__PRIVATE int lambda__json_hex4(const char *p)
{
    int v = 0, i;
    for (i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Length (2..4) of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid or cut by
   `end`. Rejects overlongs, UTF-16 surrogates and code points above U+10FFFF. */
LAMBDA__PRIVATE int lambda__json_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int n, i;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (end - p < n || p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

LAMBDA__PRIVATE int lambda__json_put_utf8(unsigned long cp, unsigned char *u)
{
    if (cp < 0x80) { u[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Scan the string token whose opening quote is at *pp. On success *pp is past the closing
   quote. The 8-bytes-at-a-time loop skips runs of plain ASCII (no '"', '\\', control or
   high bytes); memcpy keeps the load legal for any alignment. */
LAMBDA__PRIVATE int lambda__json_scan_str(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp + 1;
    const unsigned char *e = (const unsigned char *)end;
    const uint64_t ones = (uint64_t)0x0101010101010101ULL, high = (uint64_t)0x8080808080808080ULL;
    for (;;) {
        unsigned c;
        while (e - p >= 8) {
            uint64_t x, q, b;
            memcpy(&x, p, 8);
            q = x ^ (ones * 0x22);
            b = x ^ (ones * 0x5C);
            if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & high) break;
            p += 8;
        }
        if (p >= e) return lambda__json_err(pp, end, LAMBDA_E_SYNTAX);
        c = *p;
        if (c == '"') {
            *pp = (const char *)p + 1;
            return 0;
        } else if (c == '\\') {
            if (e - p < 2) return lambda__json_err(pp, end, LAMBDA_E_SYNTAX);
            c = p[1];
            if (c == 'u') {
                if (e - p < 6) return lambda__json_err(pp, end, LAMBDA_E_SYNTAX);
                if (lambda__json_hex4((const char *)p + 2) < 0) return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
                p += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                p += 2;
            } else {
                return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
            }
        } else if (c < 0x20) {
            return lambda__json_err(pp, (const char *)p, LAMBDA_E_SYNTAX);
        } else if (c < 0x80) {
            p++;
        } else {
            int n = lambda__json_utf8(p, e);
            if (n == 0) return lambda__json_err(pp, (const char *)p, LAMBDA_E_UTF8);
            p += n;
        }
    }
}

/* Scan a number at *pp. *is_int = no fraction and no exponent. */
LAMBDA__PRIVATE int lambda__json_scan_num(const char **pp, const char *end, int *is_int)
{
    const char *p = *pp;
    *is_int = 1;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') p++;
    else if (lambda__json_digit(p, end)) do p++; while (lambda__json_digit(p, end));
    else return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if (p < end && *p == '.') {
        *is_int = 0;
        if (!lambda__json_digit(++p, end)) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        while (lambda__json_digit(p, end)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!lambda__json_digit(p, end)) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        while (lambda__json_digit(p, end)) p++;
    }
    *pp = p;
    return 0;
}

LAMBDA__PRIVATE lambda_json_type lambda__json_type_of(char c)
{
    switch (c) {
    case '{': return LAMBDA_JSON_OBJECT;
    case '[': return LAMBDA_JSON_ARRAY;
    case '"': return LAMBDA_JSON_STRING;
    case 't': return LAMBDA_JSON_TRUE;
    case 'f': return LAMBDA_JSON_FALSE;
    case 'n': return LAMBDA_JSON_NULL;
    default: return (c == '-' || (c >= '0' && c <= '9')) ? LAMBDA_JSON_NUMBER : LAMBDA_JSON_NONE;
    }
}

LAMBDA__PRIVATE void lambda__json_none(lambda_json *v)
{
    if (v) {
        v->ptr = NULL;
        v->len = 0;
        v->type = LAMBDA_JSON_NONE;
    }
}

/* Object key at p (already past whitespace), then ':' and the whitespace after it. */
LAMBDA__PRIVATE int lambda__json_scan_key(const char **pp, const char *end)
{
    const char *p = *pp;
    int rc;
    if (p >= end || *p != '"') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if ((rc = lambda__json_scan_str(&p, end)) != 0) return lambda__json_err(pp, p, rc);
    p = lambda__json_ws(p, end);
    if (p >= end || *p != ':') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    *pp = lambda__json_ws(p + 1, end);
    return 0;
}

/* Scan one value at *pp (leading whitespace skipped), `depth` containers already open
   around it. Iterative: one bit per open container on a fixed stack. On success *pp is
   just past the value and *out (may be NULL) describes it; on failure *pp is the error. */
LAMBDA__PRIVATE int lambda__json_scan(const char **pp, const char *end, unsigned depth, lambda_json *out)
{
    unsigned char stack[(LAMBDA_JSON_MAX_DEPTH + 7) / 8];
    const char *p = lambda__json_ws(*pp, end), *start = p;
    unsigned d = 0; /* containers opened here */
    int rc, is_int;
    for (;;) {
        /* a value is due at p */
        if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        switch (*p) {
        case '{':
        case '[': {
            int obj = *p == '{';
            if (depth + d >= LAMBDA_JSON_MAX_DEPTH) return lambda__json_err(pp, p, LAMBDA_E_DEPTH);
            if (obj) stack[d >> 3] = (unsigned char)(stack[d >> 3] | (1u << (d & 7)));
            else stack[d >> 3] = (unsigned char)(stack[d >> 3] & ~(1u << (d & 7)));
            d++;
            p = lambda__json_ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) {
                p++;
                d--;
                break; /* empty container: a complete value */
            }
            if (obj && (rc = lambda__json_scan_key(&p, end)) != 0) return lambda__json_err(pp, p, rc);
            continue;
        }
        case '"':
            if ((rc = lambda__json_scan_str(&p, end)) != 0) return lambda__json_err(pp, p, rc);
            break;
        case 't':
            if (end - p < 4 || memcmp(p, "true", 4) != 0) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            p += 4;
            break;
        case 'f':
            if (end - p < 5 || memcmp(p, "false", 5) != 0) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            p += 5;
            break;
        case 'n':
            if (end - p < 4 || memcmp(p, "null", 4) != 0) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            p += 4;
            break;
        default:
            if ((rc = lambda__json_scan_num(&p, end, &is_int)) != 0) return lambda__json_err(pp, p, rc);
            break;
        }
        /* a value ended at p: close containers until a ',' asks for the next value */
        for (;;) {
            int obj;
            if (d == 0) {
                char c = p < end ? *p : ' ';
                /* a top-level scalar must end at a delimiter ("1x", "truex" are not "1", "true") */
                if (!(c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == ']' || c == '}'))
                    return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
                if (out) {
                    out->ptr = start;
                    out->len = (size_t)(p - start);
                    out->type = lambda__json_type_of(*start);
                }
                *pp = p;
                return 0;
            }
            p = lambda__json_ws(p, end);
            if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            obj = (stack[(d - 1) >> 3] >> ((d - 1) & 7)) & 1;
            if (*p == ',') {
                p = lambda__json_ws(p + 1, end);
                if (obj && (rc = lambda__json_scan_key(&p, end)) != 0) return lambda__json_err(pp, p, rc);
                break;
            }
            if (*p != (obj ? '}' : ']')) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
            p++;
            d--;
        }
    }
}

/* Move to the next member of the container being walked. `first`: p is at the opening
   bracket. Returns 1 with *pp at the value (and *key set for objects), 0 with *pp past the
   closing bracket, or an error. */
LAMBDA__PRIVATE int lambda__json_member(const char **pp, const char *end, int obj, int first, lambda_json *key)
{
    const char *p = lambda__json_ws(*pp + first, end), *k;
    int rc;
    if (p >= end) return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
    if (*p == (obj ? '}' : ']')) {
        *pp = p + 1;
        return 0;
    }
    if (!first) {
        if (*p != ',') return lambda__json_err(pp, p, LAMBDA_E_SYNTAX);
        p = lambda__json_ws(p + 1, end);
    }
    if (obj) {
        k = p;
        if ((rc = lambda__json_scan_key(&p, end)) != 0) return lambda__json_err(pp, p, rc);
        key->ptr = k;
        key->type = LAMBDA_JSON_STRING;
        key->len = 1;
        while (k[key->len] != ':' && k[key->len] != ' ' && k[key->len] != '\t' &&
               k[key->len] != '\n' && k[key->len] != '\r') {
            /* the key token ends at its closing quote; find it backwards from ':' instead */
            key->len++;
        }
        while (key->ptr[key->len - 1] != '"' || key->len < 2) key->len--;
    }
    *pp = p;
    return 1;
}

/* Decode one character of string content at *pp (< end): an escape, or one raw character.
   Writes 1..4 UTF-8 bytes to u and returns the count, or a negative LAMBDA_E_*. */
LAMBDA__PRIVATE int lambda__json_unit(const char **pp, const char *end, unsigned char *u)
{
    const char *p = *pp;
    unsigned c = (unsigned char)*p;
    if (c == '\\') {
        long cp;
        if (end - p < 2) return LAMBDA_E_SYNTAX;
        switch (p[1]) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (end - p < 6 || (cp = lambda__json_hex4(p + 2)) < 0) return LAMBDA_E_SYNTAX;
            p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return LAMBDA_E_UTF8;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return LAMBDA_E_UTF8;
                if ((lo = lambda__json_hex4(p + 2)) < 0) return LAMBDA_E_SYNTAX;
                if (lo < 0xDC00 || lo > 0xDFFF) return LAMBDA_E_UTF8;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            *pp = p;
            return lambda__json_put_utf8((unsigned long)cp, u);
        default: return LAMBDA_E_SYNTAX;
        }
        u[0] = (unsigned char)c;
        *pp = p + 2;
        return 1;
    }
    if (c < 0x20 || c == '"') return LAMBDA_E_SYNTAX;
    if (c < 0x80) {
        u[0] = (unsigned char)c;
        *pp = p + 1;
        return 1;
    } else {
        int n = lambda__json_utf8((const unsigned char *)p, (const unsigned char *)end), i;
        if (n == 0) return LAMBDA_E_UTF8;
        for (i = 0; i < n; i++) u[i] = (unsigned char)p[i];
        *pp = p + n;
        return n;
    }
}

/* Content bounds of string value v; 0 or an error. */
LAMBDA__PRIVATE int lambda__json_content(lambda_json v, const char **b, const char **e)
{
    if (v.type != LAMBDA_JSON_STRING) return LAMBDA_E_TYPE;
    if (v.ptr == NULL || v.len < 2 || v.ptr[0] != '"' || v.ptr[v.len - 1] != '"') return LAMBDA_E_SYNTAX;
    *b = v.ptr + 1;
    *e = v.ptr + v.len - 1;
    return 0;
}

/* 1 if string content [p, end) unescapes to exactly s[0..n), else 0. */
LAMBDA__PRIVATE int lambda__json_str_eq(const char *p, const char *end, const char *s, size_t n)
{
    size_t i = 0;
    unsigned char u[4];
    while (p < end) {
        unsigned c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            if (i >= n || s[i] != (char)c) return 0;
            i++;
            p++;
        } else {
            int k = lambda__json_unit(&p, end, u), j;
            if (k < 0 || (size_t)k > n - i) return 0;
            for (j = 0; j < k; j++)
                if ((unsigned char)s[i + (size_t)j] != u[j]) return 0;
            i += (size_t)k;
        }
    }
    return i == n;
}

/* Walk one path step: p at the container's opening bracket, `depth` = its nesting level.
   Returns 0 with *pp at the matching member's value. */
LAMBDA__PRIVATE int lambda__json_seek(const char **pp, const char *end, unsigned depth, int obj,
                                      const char *k, size_t klen, size_t idx)
{
    const char *p = *pp;
    lambda_json key;
    size_t i = 0;
    int first = 1, rc;
    for (;;) {
        rc = lambda__json_member(&p, end, obj, first, &key);
        if (rc <= 0) return lambda__json_err(pp, p, rc == 0 ? LAMBDA_E_NOT_FOUND : rc);
        first = 0;
        if (obj ? lambda__json_str_eq(key.ptr + 1, key.ptr + key.len - 1, k, klen) : i == idx) {
            *pp = p;
            return 0;
        }
        i++;
        if ((rc = lambda__json_scan(&p, end, depth, NULL)) != 0) return lambda__json_err(pp, p, rc);
    }
}

/* Check the path's syntax before touching the document. */
LAMBDA__PRIVATE int lambda__json_path_ok(const char *path)
{
    const char *s = path;
    while (*s) {
        if (*s == '[') {
            if (*++s < '0' || *s > '9') return 0;
            while (*s >= '0' && *s <= '9') s++;
            if (*s++ != ']') return 0;
        } else {
            if (s != path && *s++ != '.') return 0;
            if (*s == '\0' || *s == '.' || *s == '[') return 0;
            while (*s && *s != '.' && *s != '[') s++;
        }
    }
    return 1;
}

LAMBDA__PRIVATE int lambda__json_walk(const char *p, const char *end, const char *path, lambda_json *out)
{
    unsigned depth = 0;
    int rc;
    lambda__json_none(out);
    if (path == NULL || (p == NULL && end != p)) return LAMBDA_E_ARG;
    if (!lambda__json_path_ok(path)) return LAMBDA_E_SYNTAX;
    p = lambda__json_ws(p, end);
    while (*path) {
        const char *k = NULL;
        size_t klen = 0, idx = 0;
        int obj = *path != '[', big = 0;
        if (!obj) {
            for (path++; *path != ']'; path++) {
                size_t dg = (size_t)(*path - '0');
                if (idx > ((size_t)-1 - dg) / 10) big = 1;
                else idx = idx * 10 + dg;
            }
            path++;
        } else {
            if (*path == '.') path++;
            k = path;
            while (*path && *path != '.' && *path != '[') path++;
            klen = (size_t)(path - k);
        }
        if (p >= end) return LAMBDA_E_SYNTAX;
        if (*p != (obj ? '{' : '[')) {
            /* the other kind of value: "not found" if it is well-formed */
            rc = lambda__json_scan(&p, end, depth, NULL);
            return rc ? rc : LAMBDA_E_NOT_FOUND;
        }
        if (depth >= LAMBDA_JSON_MAX_DEPTH) return LAMBDA_E_DEPTH;
        depth++;
        rc = lambda__json_seek(&p, end, depth, obj, k, klen, idx);
        if (rc == 0 && big) rc = LAMBDA_E_NOT_FOUND; /* cannot happen: no array is that long */
        if (rc) return rc;
    }
    return lambda__json_scan(&p, end, depth, out);
}

LAMBDA_API int lambda_json_validate(lambda_str doc, lambda_json *root, size_t *err_offset)
{
    const char *p = doc.ptr, *end = doc.ptr + doc.len;
    int rc;
    lambda__json_none(root);
    if (err_offset) *err_offset = 0;
    if (doc.ptr == NULL) {
        if (doc.len) return LAMBDA_E_ARG;
        return LAMBDA_E_SYNTAX;
    }
    rc = lambda__json_scan(&p, end, 0, root);
    if (rc == 0) {
        p = lambda__json_ws(p, end);
        if (p != end) rc = LAMBDA_E_SYNTAX;
    }
    if (rc != 0) {
        lambda__json_none(root);
        if (err_offset) *err_offset = (size_t)(p - doc.ptr);
    }
    return rc;
}

LAMBDA_API int lambda_json_get(lambda_str doc, const char *path, lambda_json *out)
{
    return lambda__json_walk(doc.ptr, doc.ptr + doc.len, path, out);
}

LAMBDA_API int lambda_json_find(lambda_json v, const char *path, lambda_json *out)
{
    return lambda__json_walk(v.ptr, v.ptr + v.len, path, out);
}

LAMBDA_API void lambda_json_iter_init(lambda_json_iter *it, lambda_json c)
{
    it->p = c.ptr;
    it->end = c.ptr + c.len;
    it->kind = c.type;
    it->state = 0;
    it->index = 0;
    if (c.type != LAMBDA_JSON_ARRAY && c.type != LAMBDA_JSON_OBJECT) it->state = LAMBDA_E_TYPE;
    else if (c.ptr == NULL || c.len < 2 || *c.ptr != (c.type == LAMBDA_JSON_OBJECT ? '{' : '['))
        it->state = LAMBDA_E_SYNTAX;
}

LAMBDA_API int lambda_json_next(lambda_json_iter *it, lambda_json *key, lambda_json *value)
{
    lambda_json k, v;
    int rc;
    lambda__json_none(key);
    lambda__json_none(value);
    if (it->state < 0 || it->state == 2) return it->state < 0 ? it->state : 0;
    rc = lambda__json_member(&it->p, it->end, it->kind == LAMBDA_JSON_OBJECT, it->state == 0, &k);
    if (rc == 1) rc = lambda__json_scan(&it->p, it->end, 1, &v);
    else if (rc == 0) {
        it->state = 2;
        return 0;
    }
    if (rc != 0) {
        it->state = rc;
        return rc;
    }
    it->state = 1;
    it->index++;
    if (key && it->kind == LAMBDA_JSON_OBJECT) *key = k;
    if (value) *value = v;
    return 1;
}

LAMBDA_API int lambda_json_key(lambda_json obj, const char *key, size_t key_len, lambda_json *out)
{
    lambda_json_iter it;
    lambda_json k, v;
    int rc;
    lambda__json_none(out);
    if (obj.type != LAMBDA_JSON_OBJECT) return LAMBDA_E_TYPE;
    if (key == NULL && key_len) return LAMBDA_E_ARG;
    lambda_json_iter_init(&it, obj);
    while ((rc = lambda_json_next(&it, &k, &v)) == 1) {
        if (lambda__json_str_eq(k.ptr + 1, k.ptr + k.len - 1, key, key_len)) {
            if (out) *out = v;
            return 0;
        }
    }
    return rc ? rc : LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_json_index(lambda_json arr, size_t i, lambda_json *out)
{
    lambda_json_iter it;
    lambda_json v;
    int rc;
    lambda__json_none(out);
    if (arr.type != LAMBDA_JSON_ARRAY) return LAMBDA_E_TYPE;
    lambda_json_iter_init(&it, arr);
    while ((rc = lambda_json_next(&it, NULL, &v)) == 1) {
        if (it.index == i + 1) {
            if (out) *out = v;
            return 0;
        }
    }
    return rc ? rc : LAMBDA_E_NOT_FOUND;
}

LAMBDA_API int lambda_json_string(lambda_json v, char *buf, size_t cap, size_t *out_len)
{
    const char *p, *end;
    unsigned char u[4];
    size_t n = 0;
    int rc;
    if (out_len) *out_len = 0;
    if (buf == NULL && cap) return LAMBDA_E_ARG;
    if (cap) buf[0] = '\0';
    if ((rc = lambda__json_content(v, &p, &end)) != 0) return rc;
    while (p < end) {
        unsigned c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            if (n + 1 < cap) buf[n] = (char)c;
            n++;
            p++;
        } else {
            int k = lambda__json_unit(&p, end, u), j;
            if (k < 0) {
                if (cap) buf[0] = '\0';
                return k;
            }
            for (j = 0; j < k; j++, n++)
                if (n + 1 < cap) buf[n] = (char)u[j];
        }
    }
    if (out_len) *out_len = n;
    if (n >= cap) {
        if (cap) buf[0] = '\0';
        return LAMBDA_E_SPACE;
    }
    buf[n] = '\0';
    return 0;
}

LAMBDA_API int lambda_json_string_eq(lambda_json v, const char *s)
{
    const char *p, *end;
    if (s == NULL || lambda__json_content(v, &p, &end) != 0) return 0;
    return lambda__json_str_eq(p, end, s, strlen(s));
}

/* Strict JSON number text -> double without the locale: the digits are rewritten as
   "<integer mantissa>e<exponent>", which has no decimal point for the locale to disagree
   with, and handed to strtod (correctly rounded in glibc and musl). Mantissas longer than
   LAMBDA__JSON_DIGITS keep a sticky '1' for the dropped non-zero digits, which is enough
   for correct rounding. */
LAMBDA__PRIVATE int lambda__json_parse_double(const char *p, size_t len, double *out)
{
    char buf[LAMBDA__JSON_DIGITS + 32], *endp;
    const char *end = p + len, *q = p;
    long long e10 = 0, ex = 0;
    size_t nd = 0;
    int neg = 0, frac = 0, sticky = 0, is_int, eneg = 0, saved;
    double d;
    if (lambda__json_scan_num(&q, end, &is_int) != 0 || q != end) return LAMBDA_E_SYNTAX;
    if (*p == '-') neg = 1, p++;
    for (; p < end && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if (frac) e10--;
        if (nd == 0 && *p == '0') continue; /* leading zeros */
        if (nd < LAMBDA__JSON_DIGITS) buf[1 + nd++] = *p;
        else {
            e10++;
            if (*p != '0') sticky = 1;
        }
    }
    if (p < end) { /* exponent */
        p++;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        for (; p < end; p++)
            if (ex < 100000000) ex = ex * 10 + (*p - '0');
        e10 += eneg ? -ex : ex;
    }
    if (nd == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (sticky) buf[1 + nd++] = '1', e10--;
    if (e10 > 99999) e10 = 99999;
    if (e10 < -99999) e10 = -99999;
    buf[0] = '-';
    q = buf + 1 + nd;
    {
        char *w = buf + 1 + nd;
        unsigned long m = (unsigned long)(e10 < 0 ? -e10 : e10);
        char tmp[8];
        int t = 0;
        *w++ = 'e';
        if (e10 < 0) *w++ = '-';
        do tmp[t++] = (char)('0' + m % 10); while ((m /= 10) != 0);
        while (t) *w++ = tmp[--t];
        *w = '\0';
    }
    saved = errno;
    d = strtod(neg ? buf : buf + 1, &endp);
    errno = saved;
    if (*endp != '\0') return LAMBDA_E_SYNTAX; /* cannot happen */
    if (d - d != 0.0) return LAMBDA_E_RANGE;   /* infinity */
    *out = d;
    return 0;
}

LAMBDA_API int lambda_json_double(lambda_json v, double *out)
{
    double d = 0.0;
    int rc;
    if (v.type != LAMBDA_JSON_NUMBER) return LAMBDA_E_TYPE;
    if (v.ptr == NULL) return LAMBDA_E_SYNTAX;
    rc = lambda__json_parse_double(v.ptr, v.len, &d);
    if (rc == 0 && out) *out = d;
    return rc;
}

LAMBDA_API int lambda_json_int64(lambda_json v, int64_t *out)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    uint64_t m = 0, lim;
    int is_int, neg;
    if (v.type != LAMBDA_JSON_NUMBER) return LAMBDA_E_TYPE;
    if (p == NULL || lambda__json_scan_num(&p, end, &is_int) != 0 || p != end) return LAMBDA_E_SYNTAX;
    if (!is_int) return LAMBDA_E_TYPE;
    p = v.ptr;
    neg = *p == '-';
    p += neg;
    lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        unsigned dg = (unsigned)(*p - '0');
        if (m > (lim - dg) / 10) return LAMBDA_E_RANGE;
        m = m * 10 + dg;
    }
    if (out) *out = neg ? (m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return 0;
}

LAMBDA_API int lambda_json_bool(lambda_json v, int *out)
{
    if (v.type != LAMBDA_JSON_TRUE && v.type != LAMBDA_JSON_FALSE) return LAMBDA_E_TYPE;
    if (out) *out = v.type == LAMBDA_JSON_TRUE;
    return 0;
}

LAMBDA_API int lambda_json_is_null(lambda_json v)
{
    return v.type == LAMBDA_JSON_NULL;
}

/* ---- writing ---- */

/* Append s[0..len) JSON-escaped to res (with quotes under LAMBDA__JSON_QUOTE). Invalid
   UTF-8 is LAMBDA_E_UTF8 with nothing appended, or one U+FFFD per bad byte under
   LAMBDA__JSON_REPLACE (what the runtime uses for error messages it must deliver). */
LAMBDA__PRIVATE int lambda__json_escape(lambda_response *res, const char *s, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    char buf[256];
    size_t n = 0;
    int rc;
    if (s == NULL && len) return LAMBDA_E_ARG;
    if (!(flags & LAMBDA__JSON_REPLACE)) {
        const unsigned char *q = p;
        while (q < end) {
            if (*q < 0x80) q++;
            else {
                int k = lambda__json_utf8(q, end);
                if (k == 0) return LAMBDA_E_UTF8;
                q += k;
            }
        }
    }
    if (flags & LAMBDA__JSON_QUOTE) buf[n++] = '"';
    while (p < end) {
        unsigned c = *p;
        const unsigned char *r = p;
        while (r < end && *r >= 0x20 && *r < 0x80 && *r != '"' && *r != '\\') r++;
        if (r != p) { /* a plain run */
            size_t k = (size_t)(r - p);
            if (k > sizeof buf - 16 - n) {
                if (n && (rc = lambda_response_append(res, buf, n)) != 0) return rc;
                n = 0;
                if (k > sizeof buf - 16) {
                    if ((rc = lambda_response_append(res, p, k)) != 0) return rc;
                    p = r;
                    continue;
                }
            }
            memcpy(buf + n, p, k);
            n += k;
            p = r;
            continue;
        }
        if (n > sizeof buf - 16) {
            if ((rc = lambda_response_append(res, buf, n)) != 0) return rc;
            n = 0;
        }
        if (c < 0x80) {
            const char *sh = strchr("\"\"\\\\\bb\ff\nn\rr\tt", (int)c);
            buf[n++] = '\\';
            if (c != 0 && sh != NULL && ((sh - "\"\"\\\\\bb\ff\nn\rr\tt") & 1) == 0) buf[n++] = sh[1];
            else {
                memcpy(buf + n, "u00", 3);
                buf[n + 3] = hex[c >> 4];
                buf[n + 4] = hex[c & 15];
                n += 5;
            }
            p++;
        } else {
            int k = lambda__json_utf8(p, end);
            if (k == 0) { /* only under LAMBDA__JSON_REPLACE */
                memcpy(buf + n, "\xEF\xBF\xBD", 3);
                n += 3;
                p++;
            } else if (k == 3 && c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                memcpy(buf + n, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                n += 6;
                p += 3;
            } else {
                memcpy(buf + n, p, (size_t)k);
                n += (size_t)k;
                p += k;
            }
        }
    }
    if (flags & LAMBDA__JSON_QUOTE) buf[n++] = '"';
    return n ? lambda_response_append(res, buf, n) : 0;
}

LAMBDA_API int lambda_response_append_json_string(lambda_response *res, const char *s, size_t len)
{
    return lambda__json_escape(res, s, len, LAMBDA__JSON_QUOTE);
}

LAMBDA__PRIVATE int lambda__jw_fail(lambda_json_writer *w, int rc)
{
    if (w->err == 0) w->err = rc;
    return w->err;
}

LAMBDA__PRIVATE int lambda__jw_in_object(const lambda_json_writer *w)
{
    return w->depth > 0 && ((w->stack[(w->depth - 1) >> 3] >> ((w->depth - 1) & 7)) & 1);
}

LAMBDA__PRIVATE int lambda__jw_put(lambda_json_writer *w, const void *data, size_t len)
{
    int rc = lambda_response_append(w->res, data, len);
    return rc ? lambda__jw_fail(w, rc) : 0;
}

/* Before a value: check the state, write the comma that separates array elements. */
LAMBDA__PRIVATE int lambda__jw_pre(lambda_json_writer *w)
{
    if (w->err) return w->err;
    if ((w->flags & LAMBDA__JW_DONE) || (lambda__jw_in_object(w) && (w->flags & LAMBDA__JW_KEY)))
        return lambda__jw_fail(w, LAMBDA_E_STATE);
    if (w->depth && !lambda__jw_in_object(w) && (w->flags & LAMBDA__JW_COMMA)) return lambda__jw_put(w, ",", 1);
    return 0;
}

/* After a complete value. */
LAMBDA__PRIVATE int lambda__jw_post(lambda_json_writer *w)
{
    if (w->depth == 0) w->flags = LAMBDA__JW_DONE;
    else w->flags = LAMBDA__JW_COMMA | (lambda__jw_in_object(w) ? LAMBDA__JW_KEY : 0u);
    return 0;
}

LAMBDA__PRIVATE int lambda__jw_scalar(lambda_json_writer *w, const char *text, size_t len)
{
    int rc = lambda__jw_pre(w);
    if (rc == 0) rc = lambda__jw_put(w, text, len);
    return rc ? rc : lambda__jw_post(w);
}

LAMBDA__PRIVATE int lambda__jw_begin(lambda_json_writer *w, int obj)
{
    int rc = lambda__jw_pre(w);
    unsigned d = w->depth;
    if (rc) return rc;
    if (d >= LAMBDA_JSON_MAX_DEPTH) return lambda__jw_fail(w, LAMBDA_E_STATE);
    if ((rc = lambda__jw_put(w, obj ? "{" : "[", 1)) != 0) return rc;
    if (obj) w->stack[d >> 3] = (unsigned char)(w->stack[d >> 3] | (1u << (d & 7)));
    else w->stack[d >> 3] = (unsigned char)(w->stack[d >> 3] & ~(1u << (d & 7)));
    w->depth = d + 1;
    w->flags = obj ? LAMBDA__JW_KEY : 0u;
    return 0;
}

LAMBDA__PRIVATE int lambda__jw_end(lambda_json_writer *w, int obj)
{
    int rc;
    if (w->err) return w->err;
    if (w->depth == 0 || lambda__jw_in_object(w) != obj || (obj && !(w->flags & LAMBDA__JW_KEY)))
        return lambda__jw_fail(w, LAMBDA_E_STATE);
    if ((rc = lambda__jw_put(w, obj ? "}" : "]", 1)) != 0) return rc;
    w->depth--;
    return lambda__jw_post(w);
}

LAMBDA_API void lambda_json_writer_init(lambda_json_writer *w, lambda_response *res)
{
    memset(w, 0, sizeof *w);
    w->res = res;
    if (res == NULL) w->err = LAMBDA_E_ARG;
}

LAMBDA_API int lambda_json_write_begin_object(lambda_json_writer *w) { return lambda__jw_begin(w, 1); }
LAMBDA_API int lambda_json_write_end_object(lambda_json_writer *w) { return lambda__jw_end(w, 1); }
LAMBDA_API int lambda_json_write_begin_array(lambda_json_writer *w) { return lambda__jw_begin(w, 0); }
LAMBDA_API int lambda_json_write_end_array(lambda_json_writer *w) { return lambda__jw_end(w, 0); }

LAMBDA_API int lambda_json_write_key(lambda_json_writer *w, const char *key, size_t len)
{
    int rc;
    if (w->err) return w->err;
    if (!lambda__jw_in_object(w) || !(w->flags & LAMBDA__JW_KEY)) return lambda__jw_fail(w, LAMBDA_E_STATE);
    if (key == NULL && len) return lambda__jw_fail(w, LAMBDA_E_ARG);
    if ((w->flags & LAMBDA__JW_COMMA) && (rc = lambda__jw_put(w, ",", 1)) != 0) return rc;
    if ((rc = lambda__json_escape(w->res, key, len, LAMBDA__JSON_QUOTE)) != 0) return lambda__jw_fail(w, rc);
    if ((rc = lambda__jw_put(w, ":", 1)) != 0) return rc;
    w->flags = 0;
    return 0;
}

LAMBDA_API int lambda_json_write_ckey(lambda_json_writer *w, const char *key)
{
    return lambda_json_write_key(w, key, key ? strlen(key) : 1u);
}

LAMBDA_API int lambda_json_write_string(lambda_json_writer *w, const char *s, size_t len)
{
    int rc = lambda__jw_pre(w);
    if (rc) return rc;
    if ((rc = lambda__json_escape(w->res, s, len, LAMBDA__JSON_QUOTE)) != 0) return lambda__jw_fail(w, rc);
    return lambda__jw_post(w);
}

LAMBDA_API int lambda_json_write_cstring(lambda_json_writer *w, const char *s)
{
    return s ? lambda_json_write_string(w, s, strlen(s)) : lambda_json_write_null(w);
}

LAMBDA_API int lambda_json_write_int64(lambda_json_writer *w, int64_t v)
{
    char tmp[24], *q = tmp + sizeof tmp;
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do *--q = (char)('0' + (int)(m % 10)); while ((m /= 10) != 0);
    if (v < 0) *--q = '-';
    return lambda__jw_scalar(w, q, (size_t)(tmp + sizeof tmp - q));
}

LAMBDA_API int lambda_json_write_double(lambda_json_writer *w, double v)
{
    char raw[40], out[40];
    int prec;
    size_t n = 0;
    if (w->err) return w->err;
    if (v != v || v - v != 0.0) return lambda__jw_fail(w, LAMBDA_E_RANGE);
    for (prec = 15; prec <= 17; prec++) {
        const char *r;
        double back = 0.0;
        int in_point = 0;
        snprintf(raw, sizeof raw, "%.*g", prec, v);
        /* the locale's decimal point (any bytes that are not digits, sign or 'e') -> '.' */
        for (r = raw, n = 0; *r; r++) {
            if ((*r >= '0' && *r <= '9') || *r == '-' || *r == '+' || *r == 'e') {
                out[n++] = *r;
                in_point = 0;
            } else if (!in_point) {
                out[n++] = '.';
                in_point = 1;
            }
        }
        if (lambda__json_parse_double(out, n, &back) == 0 && back == v) break;
    }
    return lambda__jw_scalar(w, out, n);
}

LAMBDA_API int lambda_json_write_bool(lambda_json_writer *w, int v)
{
    return v ? lambda__jw_scalar(w, "true", 4) : lambda__jw_scalar(w, "false", 5);
}

LAMBDA_API int lambda_json_write_null(lambda_json_writer *w)
{
    return lambda__jw_scalar(w, "null", 4);
}

LAMBDA_API int lambda_json_write_raw(lambda_json_writer *w, const char *json, size_t len)
{
    const char *p = json, *end = json + len;
    lambda_json v;
    int rc;
    if (w->err) return w->err;
    if (json == NULL) return lambda__jw_fail(w, len ? LAMBDA_E_ARG : LAMBDA_E_SYNTAX);
    rc = lambda__json_scan(&p, end, w->depth, &v);
    if (rc == 0 && lambda__json_ws(p, end) != end) rc = LAMBDA_E_SYNTAX;
    if (rc) return lambda__jw_fail(w, rc);
    return lambda__jw_scalar(w, v.ptr, v.len);
}

LAMBDA_API int lambda_json_writer_finish(lambda_json_writer *w)
{
    if (w->err) return w->err;
    if (!(w->flags & LAMBDA__JW_DONE)) return lambda__jw_fail(w, LAMBDA_E_STATE);
    return 0;
}

/* >>cleanup (json): LAMBDA__JSON_QUOTE and LAMBDA__JSON_REPLACE stay defined for the
   runtime core (lambda__json_escape); the merged >>cleanup section #undefs them. */
#undef LAMBDA__JW_COMMA
#undef LAMBDA__JW_KEY
#undef LAMBDA__JW_DONE
#undef LAMBDA__JSON_DIGITS
