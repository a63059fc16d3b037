/* extension: an external Lambda extension written in C.

   Install it as /opt/extensions/<name> (a layer whose zip holds extensions/<name>); Lambda
   starts it before the runtime. It registers under its file name for INVOKE and SHUTDOWN,
   counts the invocations, and on SHUTDOWN prints one line to stdout (CloudWatch Logs):

       {"extension":"<name>","invocations":42,"shutdownReason":"spindown"}

   then exits 0. Real extensions flush telemetry or buffered data at that point; the
   SHUTDOWN event's deadline_ms says how long they have. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

#include <stdio.h>
#include <string.h>

/* Prints s as a JSON string literal. */
static void put_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 && argv[0] ? argv[0] : "extension";
    const char *slash = strrchr(name, '/');
    lambda_extension *ext;
    lambda_extension_event ev;
    unsigned long invocations = 0;
    if (slash) name = slash + 1; /* the platform wants the file name */

    if (lambda_extension_register(&ext, name, LAMBDA_EXTENSION_INVOKE | LAMBDA_EXTENSION_SHUTDOWN) != 0)
        return 1; /* the reason is already on stderr */
    for (;;) {
        if (lambda_extension_next(ext, &ev) != 0) {
            lambda_extension_free(ext);
            return 1;
        }
        if (ev.type == LAMBDA_EXTENSION_SHUTDOWN) break;
        invocations++; /* INVOKE: ev.request_id, ev.deadline_ms, ev.tracing ... */
    }
    printf("{\"extension\":");
    put_json_string(name);
    printf(",\"invocations\":%lu,\"shutdownReason\":", invocations);
    put_json_string(ev.shutdown_reason.ptr ? ev.shutdown_reason.ptr : "");
    printf("}\n");
    fflush(stdout);
    lambda_extension_free(ext);
    return 0;
}
