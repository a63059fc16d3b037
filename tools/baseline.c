/* baseline.c - the least code that can answer the AWS Lambda Runtime API: the floor any
   runtime could reach, for `make bench` (see the Makefile). Built exactly like the examples
   (static musl, -Os, stripped).

   One keep-alive connection; GET /next, POST a fixed response, repeat. It reads only what it
   must (the request id, Content-Length) and trusts the server to send Content-Length bodies,
   which the local emulator always does. No JSON, no error handling beyond "exit 1". */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];
static size_t have; /* bytes in buf */

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

/* Reads one response; copies the request id (if any) to id. Skips the body. */
static int read_response(int fd, char *id, size_t idcap)
{
    char *eoh, *h;
    size_t head, body = 0;
    for (;;) {
        ssize_t r;
        buf[have] = 0;
        if ((eoh = strstr(buf, "\r\n\r\n")) != NULL) break;
        if (have + 1 >= sizeof buf) return -1;
        r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
    }
    head = (size_t)(eoh - buf) + 4;
    *eoh = 0;
    if ((h = strstr(buf, "Content-Length: ")) != NULL) body = (size_t)atol(h + 16);
    if (id && (h = strstr(buf, "Lambda-Runtime-Aws-Request-Id: ")) != NULL) {
        size_t n = strcspn(h + 31, "\r");
        if (n >= idcap) return -1;
        memcpy(id, h + 31, n);
        id[n] = 0;
    }
    while (have < head + body) { /* the body may be bigger than buf: consume as it comes */
        ssize_t r;
        if (have >= sizeof buf - 1) {
            body -= have - head;
            have = head;
        }
        r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
    }
    memmove(buf, buf + head + body, have - head - body);
    have -= head + body;
    return 0;
}

int main(void)
{
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: l\r\n\r\n";
    static const char reply[] = "{\"greeting\":\"hello\"}";
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = api ? strrchr(api, ':') : NULL;
    char host[64], id[256], req[512];
    struct sockaddr_in a;
    int fd, one = 1;
    if (!colon || (size_t)(colon - api) >= sizeof host) return 1;
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return 1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        int n;
        if (send_all(fd, next, sizeof next - 1) || read_response(fd, id, sizeof id)) return 1;
        n = snprintf(req, sizeof req,
                     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: l\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     id, (int)(sizeof reply - 1), reply);
        if (n < 0 || (size_t)n >= sizeof req) return 1;
        if (send_all(fd, req, (size_t)n) || read_response(fd, NULL, 0)) return 1;
    }
}
