/* rawstream.c - a tiny raw-socket bootstrap that answers every event with a streamed response
   (Lambda-Runtime-Function-Response-Mode: streaming, chunked) in three pieces, for the
   emulator tests (tests/test_emu.c). No lambda_runtime.h: it talks HTTP itself.

   Event body containing "fail": the stream ends with error trailers
     Lambda-Runtime-Function-Error-Type: Function.StreamFailed
     Lambda-Runtime-Function-Error-Body: base64 of {"errorMessage":"stream broke","errorType":"Function.StreamFailed"}
   Pieces: "one," "two," "three", ~50 ms apart. With RAWSTREAM_GATE=<path> it waits (up to 5 s)
   after the first piece until <path> exists, and sends "two(late)," if it never appeared: a test
   creates the file once it has *received* "one,", which proves the bytes were forwarded early.
   As the protocol requires, the connection is closed after each streamed response. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int connect_api(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    char host[64];
    const char *colon;
    struct sockaddr_in a;
    int fd;
    if (!api || !(colon = strrchr(api, ':')) || (size_t)(colon - api) >= sizeof host) return -1;
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one HTTP response with a Content-Length body into buf (NUL-terminated). Returns the
   offset of the body, or -1. */
static long read_response(int fd, char *buf, size_t cap, size_t *total)
{
    size_t n = 0;
    char *eoh = NULL;
    long clen = 0;
    while (!eoh) {
        ssize_t r;
        if (n + 1 >= cap) return -1;
        r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = 0;
        eoh = strstr(buf, "\r\n\r\n");
    }
    {
        char *cl = strstr(buf, "Content-Length:");
        if (!cl) cl = strstr(buf, "content-length:");
        if (cl && cl < eoh) clen = atol(cl + 15);
    }
    while (n < (size_t)(eoh + 4 - buf) + (size_t)clen) {
        ssize_t r;
        if (n + 1 >= cap) return -1;
        r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = 0;
    }
    *total = n;
    return eoh + 4 - buf;
}

/* Copies header `name` (as the emulator spells it) into out; 0 if found. */
static int header(const char *buf, const char *name, char *out, size_t cap)
{
    const char *p = strstr(buf, name), *e;
    if (!p) return -1;
    p += strlen(name);
    while (*p == ' ') p++;
    e = strstr(p, "\r\n");
    if (!e || (size_t)(e - p) >= cap) return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 0;
}

static int piece(int fd, const char *s)
{
    char line[32];
    snprintf(line, sizeof line, "%lx\r\n", (unsigned long)strlen(s));
    return send_all(fd, line, strlen(line)) || send_all(fd, s, strlen(s)) || send_all(fd, "\r\n", 2);
}

int main(void)
{
    static char buf[1 << 20];
    const char *gate = getenv("RAWSTREAM_GATE");
    int events;
    for (events = 0; events < 1000; events++) {
        char id[256], inv[256], head[1024];
        size_t total = 0;
        long body;
        int fd = connect_api(), fail, waited;
        if (fd < 0) return 1;
        if (send_all(fd, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rapi\r\n\r\n", 64)) return 1;
        body = read_response(fd, buf, sizeof buf, &total);
        if (body < 0 || header(buf, "Lambda-Runtime-Aws-Request-Id:", id, sizeof id) != 0) return 1;
        fail = strstr(buf + body, "fail") != NULL;
        inv[0] = 0;
        if (header(buf, "Lambda-Runtime-Invocation-Id:", inv + 30, sizeof inv - 32) == 0) {
            memcpy(inv, "Lambda-Runtime-Invocation-Id: ", 30);
            strcat(inv, "\r\n");
        }
        snprintf(head, sizeof head,
                 "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: rapi\r\n%s"
                 "Content-Type: text/plain\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
                 "Transfer-Encoding: chunked\r\n"
                 "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n",
                 id, inv);
        if (send_all(fd, head, strlen(head)) || piece(fd, "one,")) return 1;
        if (gate) {
            for (waited = 0; waited < 500 && access(gate, F_OK) != 0; waited++) sleep_ms(10);
            if (piece(fd, access(gate, F_OK) == 0 ? "two," : "two(late),")) return 1;
        } else {
            sleep_ms(50);
            if (piece(fd, "two,")) return 1;
        }
        sleep_ms(50);
        if (piece(fd, "three")) return 1;
        if (fail) {
            static const char t[] =
                "0\r\nLambda-Runtime-Function-Error-Type: Function.StreamFailed\r\n"
                "Lambda-Runtime-Function-Error-Body: "
                "eyJlcnJvck1lc3NhZ2UiOiJzdHJlYW0gYnJva2UiLCJlcnJvclR5cGUiOiJGdW5jdGlvbi5TdHJlYW1GYWlsZWQifQ==\r\n\r\n";
            if (send_all(fd, t, sizeof t - 1)) return 1;
        } else if (send_all(fd, "0\r\n\r\n", 5)) {
            return 1;
        }
        if (read_response(fd, buf, sizeof buf, &total) < 0 || strncmp(buf, "HTTP/1.1 202", 12) != 0) return 1;
        close(fd);
    }
    return 0;
}
