/* baseline.c - the least code that answers the AWS Lambda Runtime API: the floor any runtime
   could reach, for `make bench` (see the Makefile). Built exactly like the examples (static
   musl, -Os, gc-sections, stripped).

   One keep-alive connection to AWS_LAMBDA_RUNTIME_API (a dotted IPv4 address and a port, as
   Lambda sets it); then, forever: GET /next, check for 200, take the request id and skip the
   Content-Length body; POST a fixed 20-byte response, check for 202, skip its body. Header
   names are matched without regard to case. Bodies must have a Content-Length (the platform and
   the local emulator always send one). Any error, or anything else, exits 1.

   No stdio, no string searching, no allocation: only getenv and the socket, send and read
   wrappers, so the binary and its memory are what the kernel and musl's start-up need. */
#define _POSIX_C_SOURCE 200809L
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define API "/2018-06-01/runtime/invocation/"
#define ID_MAX 128

static char in[16384]; /* holds one response head; bodies pass through it */
static size_t have;    /* bytes in `in` */

static void put(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) _exit(1);
        p += w;
        n -= (size_t)w;
    }
}

static void more(int fd)
{
    ssize_t r = have < sizeof in ? read(fd, in + have, sizeof in - have) : -1;
    if (r <= 0) _exit(1);
    have += (size_t)r;
}

/* The value of header `name` (lower case) if the line at p is that header, else NULL. */
static const char *field(const char *p, const char *name)
{
    while (*name)
        if ((*p++ | 0x20) != *name++) return NULL;
    if (*p++ != ':') return NULL;
    while (*p == ' ') p++;
    return p;
}

/* Reads one response, which must have status `status`; copies its request id to id (when id
   is not NULL) and returns the id's length. */
static size_t response(int fd, const char *status, char *id)
{
    size_t end = 0, body = 0, idlen = 0, i;
    for (;; more(fd)) /* the head ends at the first empty line */
        for (; end + 3 < have; end++)
            if (in[end] == '\r' && in[end + 1] == '\n' && in[end + 2] == '\r' && in[end + 3] == '\n') goto head;
head:
    if (memcmp(in, "HTTP/1.1 ", 9) != 0 || memcmp(in + 9, status, 3) != 0) _exit(1);
    for (i = 0; i < end; i++) {
        const char *v;
        if (in[i] != '\n') continue;
        if ((v = field(in + i + 1, "content-length")) != NULL) {
            for (body = 0; *v >= '0' && *v <= '9' && body < 1u << 30; v++) body = body * 10 + (size_t)(*v - '0');
            if (*v != '\r') _exit(1);
        } else if (id && (v = field(in + i + 1, "lambda-runtime-aws-request-id")) != NULL) {
            for (idlen = 0; v[idlen] != '\r'; idlen++)
                if (idlen == ID_MAX) _exit(1);
            memcpy(id, v, idlen);
        }
    }
    if (id && idlen == 0) _exit(1);
    for (body += end + 4; have < body; more(fd)) { /* skip the body: it may not fit in `in` */
        body -= have;
        have = 0;
    }
    memmove(in, in + body, have - body);
    have -= body;
    return idlen;
}

int main(void)
{
    static const char next[] = "GET " API "next HTTP/1.1\r\nHost: l\r\n\r\n";
    static const char tail[] = "/response HTTP/1.1\r\nHost: l\r\nContent-Length: 20\r\n\r\n{\"greeting\":\"hello\"}";
    static char post[sizeof "POST " API + ID_MAX + sizeof tail] = "POST " API;
    const size_t pre = sizeof "POST " API - 1;
    const char *p = getenv("AWS_LAMBDA_RUNTIME_API");
    unsigned long ip = 0, part = 0, dots = 0, port = 0;
    struct sockaddr_in a;
    int fd, one = 1;
    if (!p) return 1;
    for (; *p != ':'; p++) { /* a.b.c.d:port */
        if (*p == '.' && dots++ < 3) {
            ip = ip << 8 | part;
            part = 0;
        } else if (*p < '0' || *p > '9' || (part = part * 10 + (unsigned long)(*p - '0')) > 255) {
            return 1;
        }
    }
    for (p++; *p >= '0' && *p <= '9' && port < 6554; p++) port = port * 10 + (unsigned long)(*p - '0');
    if (dots != 3 || *p || port == 0 || port > 65535) return 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl((uint32_t)(ip << 8 | part));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        size_t n;
        put(fd, next, sizeof next - 1);
        n = pre + response(fd, "200", post + pre);
        memcpy(post + n, tail, sizeof tail - 1);
        put(fd, post, n + sizeof tail - 1);
        response(fd, "202", NULL);
    }
}
