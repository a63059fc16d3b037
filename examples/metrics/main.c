/* metrics: CloudWatch metrics without an agent, structured logs, X-Ray error causes.

   Every invocation writes one Embedded Metric Format line to stdout, which CloudWatch Logs
   turns into metrics in the namespace LambdaRuntimeH, dimension FunctionName:
     Invocations   (Count)  1
     PayloadBytes  (Bytes)  the size of the event
     InvalidEvents (Count)  1 when the event is not JSON (the invocation then fails)
   and one structured log line (JSON with AWS_LAMBDA_LOG_FORMAT=JSON, else text with
   key=value pairs) with the event's size and the Availability Zone ID. The answer is
   {"payloadBytes":<n>,"availabilityZoneId":"<id>"}. A failed invocation's /error carries
   the X-Ray error cause (lambda_xray_error_cause). */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int handler(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    lambda_str az = lambda_availability_zone_id(ctx); /* "" outside Lambda */
    lambda_log_field fields[2];
    lambda_json_writer w;

    lambda_metric_namespace(res, "LambdaRuntimeH");
    lambda_metric_dimension(res, "FunctionName", ctx->function_name[0] ? ctx->function_name : "local");
    lambda_metric(res, "Invocations", 1, LAMBDA_UNIT_COUNT);
    lambda_metric(res, "PayloadBytes", (double)event.len, LAMBDA_UNIT_BYTES);

    fields[0] = lambda_field_int("payloadBytes", (int64_t)event.len);
    fields[1] = lambda_field_strn("availabilityZoneId", az.ptr, az.len);
    lambda_log_fields(ctx, LAMBDA_LOG_INFO, fields, 2, "event received");

    if (lambda_json_validate(event, NULL, NULL) != 0) {
        lambda_metric(res, "InvalidEvents", 1, LAMBDA_UNIT_COUNT);
        return lambda_error_str(res, "InvalidEvent", "the event is not JSON");
    }
    lambda_json_writer_init(&w, res);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "payloadBytes");
    lambda_json_write_int64(&w, (int64_t)event.len);
    lambda_json_write_ckey(&w, "availabilityZoneId");
    lambda_json_write_string(&w, az.ptr, az.len);
    lambda_json_write_end_object(&w);
    return lambda_json_writer_finish(&w);
}

int main(void)
{
    lambda_config cfg = {0};
    cfg.handler = handler;
    lambda_xray_error_cause(&cfg); /* /error carries Lambda-Runtime-Function-XRay-Error-Cause */
    return lambda_run(&cfg) == 0 ? 0 : 1;
}
