/* sqs: SQS with partial batch responses (ReportBatchItemFailures). A record fails when its
   body is not a JSON object with "ok": true; the answer lists the failed messageIds in
   record order: {"batchItemFailures":[{"itemIdentifier":"..."}]} ([] when none). The same
   answer works for Kinesis and DynamoDB Streams (lambda_batch_fail picks the record's id).
   Sample events: events/. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

/* The record's body (a JSON string) is itself JSON: unescaped into the scratch area. */
static int record_ok(lambda_response *res, lambda_json record)
{
    lambda_json v, ok;
    lambda_str body;
    if (lambda_json_find(record, "body", &v) != 0 ||
        lambda_json_string_scratch(res, v, &body) != 0 ||
        lambda_json_validate(body, &v, NULL) != 0 || v.type != LAMBDA_JSON_OBJECT)
        return 0;
    return lambda_json_key(v, "ok", 2, &ok) == 0 && ok.type == LAMBDA_JSON_TRUE;
}

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    lambda_json records, record;
    lambda_json_iter it;
    lambda_json_writer w;
    (void)ctx;
    if (lambda_json_validate(event, NULL, NULL) != 0 ||
        lambda_json_get(event, "Records", &records) != 0 || records.type != LAMBDA_JSON_ARRAY)
        return lambda_error_str(res, "InvalidEvent", "not an SQS event (no Records array)");
    lambda_batch_begin(&w, res);
    lambda_json_iter_init(&it, records);
    while (lambda_json_next(&it, NULL, &record) == 1)
        if (!record_ok(res, record)) lambda_batch_fail(&w, record);
    return lambda_batch_end(&w);
}

int main(void) { return lambda_start(handler); }
