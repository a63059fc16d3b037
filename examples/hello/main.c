#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

// {"name":"World"} -> "Invoked by: World"; anything else fails with InvalidEvent
static int hello(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    char text[300] = "Invoked by: ";
    size_t at = strlen(text), len;
    int rc = lambda_json_get_string(event, "name", text + at, sizeof text - at, &len);
    (void)ctx;
    if (rc != 0) // absent, not a string, or too long: lambda_strerror says which
        return lambda_error_str(res, "InvalidEvent", lambda_strerror(rc));
    return lambda_response_append_json_string(res, text, at + len);
}

int main(void)
{
    return lambda_start(hello);
}
