/* s3: S3 event notifications. For each record: the object key decoded (S3 sends it
   form-encoded: "my+photo%3F.jpg" is "my photo?.jpg"), one JSON line on stdout
   {"event":..,"bucket":..,"key":..,"size":..}, and the answer is a summary:
   {"objects":N,"bytes":total}. Sample events: events/. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    lambda_json records, record, v;
    lambda_json_iter it;
    lambda_json_writer w;
    lambda_str key;
    int64_t size, objects = 0, bytes = 0;
    int rc;
    (void)ctx;
    if (lambda_json_validate(event, NULL, NULL) != 0 ||
        lambda_json_get(event, "Records", &records) != 0 || records.type != LAMBDA_JSON_ARRAY)
        return lambda_error_str(res, "InvalidEvent", "not an S3 event (no Records array)");
    lambda_json_iter_init(&it, records);
    while (lambda_json_next(&it, NULL, &record) == 1) {
        size_t cap;
        char *line;
        if ((rc = lambda_s3_key(res, record, &key)) != 0)
            return lambda_error_str(res, "InvalidEvent", "an object key that does not decode");
        if (lambda_json_find(record, "s3.object.size", &v) != 0 || lambda_json_int64(v, &size) != 0)
            size = 0; /* ObjectRemoved events have no size */
        objects++;
        bytes += size;
        /* the line: a writer into a buffer from the scratch area (escaping takes at most 6x) */
        cap = 6 * key.len + 6 * 1024 + 128;
        if ((line = (char *)lambda_scratch(res, cap)) == NULL) return LAMBDA_E_NOMEM;
        lambda_json_writer_init_buf(&w, line, cap);
        lambda_json_write_begin_object(&w);
        lambda_json_write_ckey(&w, "event");
        if (lambda_json_find(record, "eventName", &v) == 0)
            lambda_json_write_raw(&w, v.ptr, v.len);
        else
            lambda_json_write_null(&w);
        lambda_json_write_ckey(&w, "bucket");
        if (lambda_json_find(record, "s3.bucket.name", &v) == 0)
            lambda_json_write_raw(&w, v.ptr, v.len);
        else
            lambda_json_write_null(&w);
        lambda_json_write_ckey(&w, "key");
        lambda_json_write_string(&w, key.ptr, key.len);
        lambda_json_write_ckey(&w, "size");
        lambda_json_write_int64(&w, size);
        lambda_json_write_end_object(&w);
        if (lambda_json_writer_finish(&w) == 0) {
            size_t n = strlen(line);
            line[n] = '\n';
            if (write(1, line, n + 1) < 0)
                return lambda_error_str(res, "Runtime.Stdout", "write failed");
        }
    }
    lambda_json_writer_init(&w, res);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "objects");
    lambda_json_write_int64(&w, objects);
    lambda_json_write_ckey(&w, "bytes");
    lambda_json_write_int64(&w, bytes);
    lambda_json_write_end_object(&w);
    return lambda_json_writer_finish(&w);
}

int main(void) { return lambda_start(handler); }
