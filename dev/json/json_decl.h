/* ---- JSON: public declarations (pasted into >>types / >>api of lambda_runtime.h) ----

   READING. The scanner never allocates, never builds a tree and never modifies the
   input: every lambda_json is a slice of the document you passed in. Look values up by
   path, then convert them:

       lambda_json key;
       char buf[256];
       if (lambda_json_get(event, "Records[0].s3.object.key", &key) == 0 &&
           lambda_json_string(key, buf, sizeof buf, NULL) == 0) { ... buf ... }

   Strictness: RFC 8259 (no comments, no trailing commas, no leading zeros, no NaN, only
   SP/HT/CR/LF as whitespace, UTF-8 checked inside strings), nesting limited to
   LAMBDA_JSON_MAX_DEPTH. Escaped lone surrogates ("\ud800") pass the grammar check and are
   reported by the decoders (lambda_json_string: LAMBDA_E_UTF8).

   Laziness: lambda_json_get/find/key/index/next check every byte they read, from the start
   of the value you pass to the end of the value they return, with the same rules as
   lambda_json_validate, and nothing after it. They never read outside [ptr, ptr + len).
   Call lambda_json_validate once if the whole document must be well-formed.

   WRITING. lambda_json_writer appends a document to a lambda_response, checks that the
   calls nest properly and keeps the first error (check only lambda_json_writer_finish):

       lambda_json_writer w;
       lambda_json_writer_init(&w, res);
       lambda_json_write_begin_object(&w);
       lambda_json_write_ckey(&w, "statusCode"); lambda_json_write_int64(&w, 200);
       lambda_json_write_ckey(&w, "body");       lambda_json_write_cstring(&w, "hi");
       lambda_json_write_end_object(&w);
       return lambda_json_writer_finish(&w);
*/

/* Maximum nesting of arrays/objects, for the reader and for the writer (whose struct
   holds one bit per level). Define it the same way in every file, or not at all. */
#ifndef LAMBDA_JSON_MAX_DEPTH
#define LAMBDA_JSON_MAX_DEPTH 512
#endif

typedef enum lambda_json_type {
    LAMBDA_JSON_NONE = 0,   /* no value: the result of a failed look-up */
    LAMBDA_JSON_NULL,
    LAMBDA_JSON_FALSE,
    LAMBDA_JSON_TRUE,
    LAMBDA_JSON_NUMBER,
    LAMBDA_JSON_STRING,
    LAMBDA_JSON_ARRAY,
    LAMBDA_JSON_OBJECT
} lambda_json_type;

/* One JSON value: its raw bytes in the document (strings include their quotes, and are
   still escaped). Points into the document: valid as long as the document is. */
typedef struct lambda_json {
    const char *ptr;
    size_t len;
    lambda_json_type type;
} lambda_json;

/* Walks the members of an array or object; see lambda_json_next. Fields are private. */
typedef struct lambda_json_iter {
    const char *p;          /* next byte to read */
    const char *end;        /* one past the container's closing bracket */
    lambda_json_type kind;  /* LAMBDA_JSON_ARRAY or LAMBDA_JSON_OBJECT */
    int state;              /* 0 start, 1 between members, 2 done, < 0 a LAMBDA_E_* code */
    size_t index;           /* members returned so far (public: read it freely) */
} lambda_json_iter;

/* Builds one JSON document in a lambda_response. Fields are private; zero-initialising
   is not enough, use lambda_json_writer_init. */
typedef struct lambda_json_writer {
    lambda_response *res;   /* where the bytes go */
    int err;                /* first error (sticky), 0 if none */
    unsigned depth;         /* open arrays/objects */
    unsigned flags;         /* comma due / key due / document complete */
    unsigned char stack[(LAMBDA_JSON_MAX_DEPTH + 7) / 8]; /* one bit per level: 1 = object */
} lambda_json_writer;

/* ---- reading ---- */

/* Check that `doc` is exactly one JSON value (RFC 8259), with optional whitespace around.
   Returns:  0, or LAMBDA_E_SYNTAX / LAMBDA_E_DEPTH / LAMBDA_E_UTF8.
   Outputs:  *root (may be NULL) = the top-level value without the whitespace (type NONE on
             error); *err_offset (may be NULL) = byte offset of the first bad byte (doc.len
             when the input is truncated), 0 on success.
   Notes:    iterative: stack use does not grow with the nesting. */
LAMBDA_API int lambda_json_validate(lambda_str doc, lambda_json *root, size_t *err_offset);

/* Look up `path` from the root of `doc`: keys separated by '.', array indexes in brackets,
   e.g. "Records[0].s3.object.key", "requestContext.http.method", "[2]", or "" for the root.
   Returns:  0 and *out (may be NULL: presence test);
             LAMBDA_E_NOT_FOUND if a key or index is missing, or a step meets a value of the
               other kind (a key looked up in an array, a number, null ...);
             LAMBDA_E_SYNTAX for a malformed path or a malformed document (DEPTH and UTF8
               as in lambda_json_validate); LAMBDA_E_ARG if path is NULL.
   Lifetime: *out points into doc. On failure *out is {NULL, 0, LAMBDA_JSON_NONE}.
   Notes:    lazy (see READING above): bytes after the returned value are not checked.
             A path key cannot contain '.' or '['; use lambda_json_key for such keys.
             Keys are compared after unescaping; with duplicate keys the first one wins. */
LAMBDA_API int lambda_json_get(lambda_str doc, const char *path, lambda_json *out);

/* lambda_json_get starting at any value (e.g. one returned by lambda_json_get). */
LAMBDA_API int lambda_json_find(lambda_json v, const char *path, lambda_json *out);

/* Member `key` (key_len bytes, may contain '.', '[' or NUL) of object `obj`.
   Returns:  0, LAMBDA_E_NOT_FOUND, LAMBDA_E_TYPE if obj is not an object, or a syntax code.
   Notes:    keys compared after unescaping ("a\u0062" matches "ab"); first duplicate wins. */
LAMBDA_API int lambda_json_key(lambda_json obj, const char *key, size_t key_len, lambda_json *out);

/* Element `i` (from 0) of array `arr`. Returns 0, LAMBDA_E_NOT_FOUND, LAMBDA_E_TYPE if arr
   is not an array, or a syntax code. Costs a scan of the elements before it. */
LAMBDA_API int lambda_json_index(lambda_json arr, size_t i, lambda_json *out);

/* Unescape string value `v` into buf (cap bytes) and NUL-terminate it.
   Returns:  0; LAMBDA_E_SPACE if len + 1 > cap; LAMBDA_E_TYPE if v is not a string;
             LAMBDA_E_UTF8 for a lone surrogate escape or invalid UTF-8; LAMBDA_E_SYNTAX for
             a malformed value. On every failure buf is "" (when cap > 0).
   Outputs:  *out_len (may be NULL) = unescaped length without the NUL, also on
             LAMBDA_E_SPACE (so buf = NULL, cap = 0 asks for the size); 0 on other errors.
   Notes:    \uXXXX and surrogate pairs become UTF-8. "\u0000" gives an embedded NUL:
             trust *out_len, not strlen. */
LAMBDA_API int lambda_json_string(lambda_json v, char *buf, size_t cap, size_t *out_len);

/* 1 if `v` is a string whose unescaped text equals the C string `s`, else 0 (also for
   non-strings, malformed strings and s == NULL). Needs no buffer. */
LAMBDA_API int lambda_json_string_eq(lambda_json v, const char *s);

/* Integer value of number `v`.
   Returns:  0; LAMBDA_E_TYPE if v is not a number or has a fraction or exponent (1.0, 1e3:
             use lambda_json_double); LAMBDA_E_RANGE outside [INT64_MIN, INT64_MAX]. */
LAMBDA_API int lambda_json_int64(lambda_json v, int64_t *out);

/* Value of number `v`, correctly rounded (by strtod), whatever the C locale.
   Returns:  0 (tiny values underflow to 0 or a subnormal); LAMBDA_E_RANGE if the magnitude
             overflows a double; LAMBDA_E_TYPE if v is not a number. */
LAMBDA_API int lambda_json_double(lambda_json v, double *out);

/* *out = 1 for true, 0 for false. Returns 0 or LAMBDA_E_TYPE. */
LAMBDA_API int lambda_json_bool(lambda_json v, int *out);

/* 1 if `v` is null, else 0. */
LAMBDA_API int lambda_json_is_null(lambda_json v);

/* Start walking array or object `container`. Never fails by itself: a non-container makes
   the first lambda_json_next return LAMBDA_E_TYPE. */
LAMBDA_API void lambda_json_iter_init(lambda_json_iter *it, lambda_json container);

/* Next member. Returns 1 with *value (and *key, a STRING value, for objects; NONE for
   arrays), 0 after the last one, or a negative LAMBDA_E_* for malformed input (then again
   on every later call). key and value may be NULL.
       lambda_json_iter it; lambda_json k, v;
       lambda_json_iter_init(&it, obj);
       while (lambda_json_next(&it, &k, &v) == 1) { ... } */
LAMBDA_API int lambda_json_next(lambda_json_iter *it, lambda_json *key, lambda_json *value);

/* ---- writing ---- */

/* Start a document in `res` (appended to whatever the body already holds). */
LAMBDA_API void lambda_json_writer_init(lambda_json_writer *w, lambda_response *res);

/* Every write function returns 0 or the writer's first error, which is sticky:
   LAMBDA_E_STATE  misuse: a value where a key is due, a key outside an object, an end that
                   does not match the open container, nesting beyond LAMBDA_JSON_MAX_DEPTH,
                   anything after the top-level value is complete;
   LAMBDA_E_UTF8   a string or key that is not valid UTF-8 (reported rather than replaced:
                   the writer never changes your data behind your back);
   LAMBDA_E_RANGE  NaN or infinity; LAMBDA_E_SYNTAX (or DEPTH) for bad raw JSON;
   LAMBDA_E_ARG    NULL pointer with a non-zero length;
   or the error of lambda_response_append (LAMBDA_E_TOO_BIG, LAMBDA_E_NOMEM).
   Strings escape '"', '\\', bytes below 0x20 (\b \f \n \r \t, else \u00XX) and U+2028/U+2029
   (so the output can also be embedded in JavaScript). */
LAMBDA_API int lambda_json_write_begin_object(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_end_object(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_begin_array(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_end_array(lambda_json_writer *w);
LAMBDA_API int lambda_json_write_key(lambda_json_writer *w, const char *key, size_t len);
LAMBDA_API int lambda_json_write_ckey(lambda_json_writer *w, const char *key);          /* NUL-terminated */
LAMBDA_API int lambda_json_write_string(lambda_json_writer *w, const char *s, size_t len);
LAMBDA_API int lambda_json_write_cstring(lambda_json_writer *w, const char *s);         /* NULL writes null */
LAMBDA_API int lambda_json_write_int64(lambda_json_writer *w, int64_t v);
/* Shortest of %.15g/%.16g/%.17g that reads back to the same double; '.' whatever the locale. */
LAMBDA_API int lambda_json_write_double(lambda_json_writer *w, double v);
LAMBDA_API int lambda_json_write_bool(lambda_json_writer *w, int v);
LAMBDA_API int lambda_json_write_null(lambda_json_writer *w);
/* A pre-encoded value (e.g. v.ptr, v.len of a lambda_json), checked with the rules of
   lambda_json_validate and copied without the surrounding whitespace. */
LAMBDA_API int lambda_json_write_raw(lambda_json_writer *w, const char *json, size_t len);

/* Returns 0 if exactly one complete, balanced value was written without error; else the
   first error, or LAMBDA_E_STATE for an unfinished document. */
LAMBDA_API int lambda_json_writer_finish(lambda_json_writer *w);
