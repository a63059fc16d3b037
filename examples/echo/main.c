/* echo: answers every event with the event itself, keeping its content type.
   The smallest useful handler, and a template for binary-safe handlers. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int echo(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    lambda_response_set_content_type(res, ctx->content_type.ptr);
    return lambda_response_append(res, event.ptr, event.len);
}

int main(void)
{
    return lambda_start(echo);
}
