/* tests/bench_event.h - the JSON benchmarks' event: {"Records":[...]} of S3 records,
   pretty-printed like the console's test events, escapes and non-ASCII in every record
   (tests/bench_json.c). */
#include <stdio.h>
#include <stdlib.h>

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

