/* libFuzzer target: the Telemetry API listener (>>telemetry): the request reader, the batch
   parser and the answers. The input is what a client sends on one connection (any number of
   requests, Content-Length or chunked, then EOF); the listener serves it until it closes the
   connection. Checked: every event handed to the callback has a NUL-terminated type and
   time and a record that is valid JSON; every answer is one of the three the listener
   writes; a 400 is the last answer; the listener never answers more requests than it got
   bytes for, and always closes in the end. */
#define LAMBDA_RUNTIME_IMPL
#include "lambda_runtime.h"

#include <sys/socket.h>

static void on_event(void *user, const lambda_telemetry_event *ev)
{
    long *n = (long *)user;
    if (ev->type.ptr[ev->type.len] != '\0' || ev->time.ptr[ev->time.len] != '\0') __builtin_trap();
    if (lambda_json_validate(lambda__str(ev->record.ptr, ev->record.len), NULL, NULL) != 0) __builtin_trap();
    if (ev->event.type != LAMBDA_JSON_OBJECT) __builtin_trap();
    ++*n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    static const char method[] = "HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Length: 0\r\n\r\n";
    struct lambda__telemetry t;
    lambda__logger quiet;
    char out[65536];
    size_t got = 0, pos = 0;
    long events = 0;
    int sv[2], rounds = 0, answers = 0;
    if (len > 16384 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
    if (len && send(sv[0], data, len, MSG_NOSIGNAL) != (ssize_t)len) __builtin_trap();
    shutdown(sv[0], SHUT_WR); /* EOF after the input: the listener never waits */
    memset(&quiet, 0, sizeof quiet);
    quiet.level = 1000; /* no log lines */
    memset(&t, 0, sizeof t);
    t.listen_fd = -1;
    t.fn = on_event;
    t.user = &events;
    lambda__conn_init(&t.clients[0], &quiet, "/", "telemetry listener");
    t.clients[0].fd = sv[1];
    while (t.clients[0].fd >= 0) {
        if (++rounds > 10000) __builtin_trap(); /* each round takes a request or closes */
        lambda__tel_serve(&t, &t.clients[0]);
    }
    lambda__conn_free(&t.clients[0]);
    for (;;) {
        ssize_t r = recv(sv[0], out + got, sizeof out - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(sv[0]);
    while (pos < got) {
        const char *p = out + pos;
        size_t left = got - pos;
        int is_bad = left >= sizeof bad - 1 && memcmp(p, bad, sizeof bad - 1) == 0;
        if (left >= sizeof ok - 1 && memcmp(p, ok, sizeof ok - 1) == 0) pos += sizeof ok - 1;
        else if (left >= sizeof method - 1 && memcmp(p, method, sizeof method - 1) == 0) pos += sizeof method - 1;
        else if (is_bad) pos += sizeof bad - 1;
        else __builtin_trap(); /* something else */
        answers++;
        if (is_bad && pos != got) __builtin_trap(); /* a 400 closes the connection */
    }
    if ((size_t)answers * 18 > len + 18) __builtin_trap(); /* "GET / HTTP/1.1\r\n\r\n" is the shortest */
    if (events > 0 && answers == 0) __builtin_trap();
    return 0;
}
