/* telemetry: an external Lambda extension that reads the Telemetry API.

   Install it as /opt/extensions/<name> (a layer whose zip holds extensions/<name>). It
   registers under its file name for SHUTDOWN only (so it never holds up an invocation),
   subscribes to the platform events and the function's log lines, counts them as they
   arrive in batches, and at SHUTDOWN prints one line to stdout (CloudWatch Logs):

       {"extension":"telemetry","invocations":3,"function_log_lines":7,
        "max_duration_ms":12.345,"events":25,"shutdownReason":"spindown"}

   invocations: platform.report events seen; function_log_lines: function records (lines
   the function wrote to stdout or stderr); max_duration_ms: the largest durationMs of the
   reports; events: every event. A real extension would ship the events somewhere. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct stats {
    long invocations, function_log_lines, events;
    double max_duration_ms;
} stats;

static void on_event(void *user, const lambda_telemetry_event *ev)
{
    stats *s = (stats *)user;
    s->events++;
    if (lambda_str_eq(ev->type, "platform.report")) {
        lambda_json d;
        double ms;
        s->invocations++;
        if (lambda_json_find(ev->record, "metrics.durationMs", &d) == 0 && lambda_json_double(d, &ms) == 0 &&
            ms > s->max_duration_ms)
            s->max_duration_ms = ms;
    } else if (lambda_str_eq(ev->type, "function")) {
        s->function_log_lines++;
    }
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 && argv[0] ? argv[0] : "telemetry";
    const char *slash = strrchr(name, '/');
    lambda_extension *ext;
    lambda_extension_event ev;
    lambda_telemetry_config tc = {0};
    lambda_json_writer w;
    stats s = {0, 0, 0, 0.0};
    char line[512];
    struct timespec now;
    long long left;
    if (slash) name = slash + 1; /* the platform wants the file name */

    if (lambda_extension_register(&ext, name, LAMBDA_EXTENSION_SHUTDOWN) != 0)
        return 1; /* the reason is already on stderr */
    tc.types = LAMBDA_TELEMETRY_PLATFORM | LAMBDA_TELEMETRY_FUNCTION;
    tc.on_event = on_event;
    tc.user = &s;
    tc.timeout_ms = 100; /* batches at most 100 ms after their first event */
    if (lambda_telemetry_subscribe(ext, &tc) != 0) {
        lambda_extension_error(ext, 0, "Extension.TelemetryUnavailable", "telemetry subscription failed");
        lambda_extension_free(ext);
        return 1;
    }
    /* lambda_extension_next serves the telemetry listener while it waits */
    do {
        if (lambda_extension_next(ext, &ev) != 0) {
            lambda_extension_free(ext);
            return 1;
        }
    } while (ev.type != LAMBDA_EXTENSION_SHUTDOWN);
    /* what is still on its way: a little longer than one batch, within the deadline */
    clock_gettime(CLOCK_REALTIME, &now);
    left = ev.deadline_ms - ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000) - 300;
    lambda_telemetry_poll(ext, left < 0 ? 0 : left > 200 ? 200 : (int)left);

    lambda_json_writer_init_buf(&w, line, sizeof line);
    lambda_json_write_begin_object(&w);
    lambda_json_write_ckey(&w, "extension");
    lambda_json_write_cstring(&w, name);
    lambda_json_write_ckey(&w, "invocations");
    lambda_json_write_int64(&w, s.invocations);
    lambda_json_write_ckey(&w, "function_log_lines");
    lambda_json_write_int64(&w, s.function_log_lines);
    lambda_json_write_ckey(&w, "max_duration_ms");
    lambda_json_write_double(&w, s.max_duration_ms);
    lambda_json_write_ckey(&w, "events");
    lambda_json_write_int64(&w, s.events);
    lambda_json_write_ckey(&w, "shutdownReason");
    lambda_json_write_string(&w, ev.shutdown_reason.ptr, ev.shutdown_reason.len);
    lambda_json_write_end_object(&w);
    if (lambda_json_writer_finish(&w) == 0) puts(line);
    fflush(stdout);
    lambda_extension_free(ext);
    return 0;
}
