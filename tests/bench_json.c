/* tests/bench_json.c - throughput of the JSON scanner on a ~6 MB S3-style event.
   gcc -std=c99 -O2 -Wall -Wextra -pedantic -Wshadow -Werror -I. -o build/bench_json tests/bench_json.c && build/bench_json */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* {"Records":[{...S3 record...}, ...]}, pretty-printed like the console's test events */
static char *make_event(size_t target, size_t *len, size_t *records)
{
    size_t cap = target + 8192, n = 0, i = 0;
    char *s = (char *)malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{\n  \"Records\": [");
    while (n < target - 2048) {
        n += (size_t)snprintf(s + n, cap - n,
            "%s\n    {\n      \"eventVersion\": \"2.1\",\n      \"eventSource\": \"aws:s3\",\n"
            "      \"awsRegion\": \"eu-west-1\",\n      \"eventTime\": \"2024-05-%02luT12:%02lu:%02lu.%03luZ\",\n"
            "      \"eventName\": \"ObjectCreated:Put\",\n"
            "      \"userIdentity\": {\"principalId\": \"AWS:AIDAJDPLRKLG7UEXAMPLE\"},\n"
            "      \"requestParameters\": {\"sourceIPAddress\": \"203.0.113.%lu\"},\n"
            "      \"responseElements\": {\"x-amz-request-id\": \"C3D13FE58DE4C8%02lu\", "
            "\"x-amz-id-2\": \"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD\"},\n"
            "      \"s3\": {\n        \"s3SchemaVersion\": \"1.0\",\n        \"configurationId\": \"testConfigRule\",\n"
            "        \"bucket\": {\"name\": \"my-bucket-%lu\", \"ownerIdentity\": {\"principalId\": \"A3NL1KOZZKExample\"}, "
            "\"arn\": \"arn:aws:s3:::my-bucket-%lu\"},\n"
            "        \"object\": {\"key\": \"uploads\\/2024\\/caf\\u00e9 \\\"%lu\\\".jpg\", \"size\": %lu, "
            "\"eTag\": \"0123456789abcdef0123456789abcdef\", \"versionId\": null, \"sequencer\": \"0A1B2C3D4E5F%06lu\", "
            "\"ratio\": %lu.%03lue-%lu, \"tags\": [\"a\", \"b\\tc\", \"\xc3\xa9t\xc3\xa9\"], \"public\": %s}\n      }\n    }",
            i ? "," : "", (unsigned long)(i % 28 + 1), (unsigned long)(i % 60), (unsigned long)(i * 7 % 60),
            (unsigned long)(i % 1000), (unsigned long)(i % 250), (unsigned long)(i % 100), (unsigned long)(i % 8),
            (unsigned long)(i % 8), (unsigned long)i, (unsigned long)(i * 7919 % 10000000), (unsigned long)i,
            (unsigned long)(i % 10), (unsigned long)(i % 1000), (unsigned long)(i % 20), i % 2 ? "true" : "false");
        i++;
    }
    n += (size_t)snprintf(s + n, cap - n, "\n  ]\n}\n");
    *len = n;
    *records = i;
    return s;
}

int main(void)
{
    size_t len, nrec, i, off, klen;
    char *ev = make_event(6u * 1000u * 1000u, &len, &nrec), path[64], key[256];
    lambda_str doc;
    lambda_json root, v, recs, rec;
    double t0, best, mb = (double)len / 1e6;
    int reps = 20, r, rc;
    const char *target;
    doc.ptr = ev;
    doc.len = len;
    if (lambda_json_validate(doc, &root, &off) != 0) {
        printf("generated event is invalid at %lu\n", (unsigned long)off);
        return 1;
    }
    printf("event: %.2f MB, %lu records\n", mb, (unsigned long)nrec);

    best = 1e9;
    for (r = 0; r < reps; r++) {
        t0 = now();
        rc = lambda_json_validate(doc, NULL, NULL);
        t0 = now() - t0;
        if (rc != 0) return 1;
        if (t0 < best) best = t0;
    }
    printf("validate:                         %7.1f MB/s  (%.2f ms, best of %d)\n", mb / best, best * 1e3, reps);

    snprintf(path, sizeof path, "Records[%lu].s3.object.key", (unsigned long)(nrec - 1));
    best = 1e9;
    for (r = 0; r < reps; r++) {
        t0 = now();
        rc = lambda_json_get(doc, path, &v);
        t0 = now() - t0;
        if (rc != 0) return 1;
        if (t0 < best) best = t0;
    }
    target = v.ptr;
    lambda_json_string(v, key, sizeof key, &klen);
    printf("get %-28s  %7.1f MB/s  (%.2f ms; scans %.2f MB up to the value) -> %s\n", path,
           (double)(target - ev) / 1e6 / best, best * 1e3, (double)(target - ev) / 1e6, key);

    snprintf(path, sizeof path, "Records[%lu].eventTime", (unsigned long)(nrec / 2));
    best = 1e9;
    for (r = 0; r < reps; r++) {
        t0 = now();
        rc = lambda_json_get(doc, path, &v);
        t0 = now() - t0;
        if (rc != 0) return 1;
        if (t0 < best) best = t0;
    }
    printf("get %-28s  %7.1f MB/s  (%.2f ms; scans %.2f MB)\n", path,
           (double)(v.ptr - ev) / 1e6 / best, best * 1e3, (double)(v.ptr - ev) / 1e6);

    /* the usual handler loop: iterate Records, find + unescape a key in each */
    best = 1e9;
    for (r = 0; r < reps; r++) {
        lambda_json_iter it;
        size_t total = 0;
        t0 = now();
        if (lambda_json_get(doc, "Records", &recs) != 0) return 1;
        lambda_json_iter_init(&it, recs);
        while (lambda_json_next(&it, NULL, &rec) == 1) {
            if (lambda_json_find(rec, "s3.object.key", &v) != 0 || lambda_json_string(v, key, sizeof key, &klen) != 0) return 1;
            total += klen;
        }
        t0 = now() - t0;
        if (total == 0) return 1;
        if (t0 < best) best = t0;
    }
    printf("iterate Records + find/unescape s3.object.key: %7.1f MB/s  (%.2f ms for %lu records)\n",
           mb / best, best * 1e3, (unsigned long)nrec);

    /* writer: re-emit every key as a JSON array */
    {
        lambda_response res;
        lambda_json_iter it;
        memset(&res, 0, sizeof res);
        res.max = 64u << 20;
        lambda__response_reset(&res);
        best = 1e9;
        for (r = 0; r < reps; r++) {
            lambda_json_writer w;
            lambda_response_clear(&res);
            t0 = now();
            lambda_json_writer_init(&w, &res);
            lambda_json_write_begin_array(&w);
            lambda_json_get(doc, "Records", &recs);
            lambda_json_iter_init(&it, recs);
            for (i = 0; lambda_json_next(&it, NULL, &rec) == 1; i++) {
                lambda_json_find(rec, "s3.object.key", &v);
                lambda_json_string(v, key, sizeof key, &klen);
                lambda_json_write_begin_object(&w);
                lambda_json_write_ckey(&w, "key");
                lambda_json_write_string(&w, key, klen);
                lambda_json_write_ckey(&w, "n");
                lambda_json_write_int64(&w, (int64_t)i);
                lambda_json_write_ckey(&w, "x");
                lambda_json_write_double(&w, (double)i / 7.0);
                lambda_json_write_end_object(&w);
            }
            lambda_json_write_end_array(&w);
            if (lambda_json_writer_finish(&w) != 0) return 1;
            t0 = now() - t0;
            if (t0 < best) best = t0;
        }
        printf("read + write %lu records:          %7.1f MB/s of output  (%.2f ms, %.2f MB)\n", (unsigned long)nrec,
               (double)res.body.len / 1e6 / best, best * 1e3, (double)res.body.len / 1e6);
        lambda__buf_free(&res.body);
    }
    free(ev);
    return 0;
}
