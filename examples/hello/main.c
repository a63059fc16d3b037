/* hello: {"name":"World"} -> "Invoked by: World" (a JSON string).
   Anything that is not a JSON object with a string "name" fails with InvalidEvent. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

static int hello(const lambda_context *ctx, lambda_str event, lambda_response *res)
{
    static const char prefix[] = "Invoked by: ";
    char text[4096];
    size_t len = 0, at = 0;
    lambda_json root, name;
    int rc;
    (void)ctx;
    if ((rc = lambda_json_validate(event, &root, &at)) != 0)
        return lambda_error(res, "InvalidEvent", "event is not valid JSON (%s at byte %lu)",
                            lambda_strerror(rc), (unsigned long)at);
    if (root.type != LAMBDA_JSON_OBJECT)
        return lambda_error(res, "InvalidEvent", "event must be a JSON object with a string \"name\"");
    if (lambda_json_key(root, "name", 4, &name) != 0)
        return lambda_error(res, "InvalidEvent", "event has no \"name\" field");
    if (name.type != LAMBDA_JSON_STRING)
        return lambda_error(res, "InvalidEvent", "\"name\" must be a string");
    memcpy(text, prefix, sizeof prefix - 1);
    rc = lambda_json_string(name, text + sizeof prefix - 1, sizeof text - (sizeof prefix - 1), &len);
    if (rc != 0)
        return lambda_error(res, "InvalidEvent", "\"name\" cannot be used: %s", lambda_strerror(rc));
    return lambda_response_append_json_string(res, text, sizeof prefix - 1 + len);
}

int main(void)
{
    return lambda_start(hello);
}
