/* rapi_server.h - a small scriptable fake of the AWS Lambda Runtime API (HTTP/1.1 server side).

   POSIX only. Binds 127.0.0.1 on a kernel-chosen port, never any other address. One listening
   socket, at most one live connection at a time (the Runtime API is used over one keep-alive
   connection). Every call that can block takes a timeout in milliseconds and waits with poll(),
   so a misbehaving client can never hang the caller.

   Typical use (a test script):

       rapi_server s;
       rapi_request req;
       rapi_response r;
       rapi_server_open(&s);                            -> port in s.port
       ... start the client with AWS_LAMBDA_RUNTIME_API=127.0.0.1:<s.port> ...
       rapi_server_read_request(&s, &req, 2000);        accepts a connection when needed
       rapi_response_init(&r, 200);
       r.headers = "Lambda-Runtime-Aws-Request-Id: 1\r\n";
       r.body = "{}"; r.body_len = 2;
       rapi_server_send(&s, &r, 2000);
       rapi_request_free(&req);
       rapi_server_close(&s);

   Everything here is reusable by the local emulator (tools/emu/): nothing is test-specific.
   Return codes: 0 (RAPI_OK) or a negative RAPI_E* value; rapi_strerror() names them. */
#ifndef RAPI_SERVER_H
#define RAPI_SERVER_H

#include <stddef.h>

#define RAPI_MAX_HEADERS 64
#define RAPI_DEFAULT_MAX_HEAD (64u * 1024u)
#define RAPI_DEFAULT_MAX_BODY (16u * 1024u * 1024u)

enum {
    RAPI_OK = 0,
    RAPI_ETIMEOUT = -1, /* nothing (or not enough) arrived before the timeout */
    RAPI_ECLOSED = -2,  /* the peer closed the connection in the middle of a request */
    RAPI_EPROTO = -3,   /* malformed request head or body framing */
    RAPI_ETOOBIG = -4,  /* head or body over the configured limit */
    RAPI_EIO = -5,      /* a socket call failed (errno is kept in rapi_server.last_errno) */
    RAPI_ENOMEM = -6,
    RAPI_ENOCONN = -7   /* send with no live connection */
};

typedef struct rapi_header {
    const char *name;  /* NUL-terminated, as received (case preserved) */
    const char *value; /* NUL-terminated, optional whitespace trimmed; may hold any byte but NUL/CR/LF */
} rapi_header;

/* One request as received. All pointers are owned by the request; rapi_request_free releases them. */
typedef struct rapi_request {
    char *raw;       /* exact bytes received for this request: head + body with its framing */
    size_t raw_len;
    size_t head_len; /* bytes of raw that are the head, final CRLFCRLF included */
    const char *method, *target, *version; /* request line parts, NUL-terminated */
    rapi_header headers[RAPI_MAX_HEADERS];
    size_t num_headers;
    rapi_header trailers[RAPI_MAX_HEADERS]; /* chunked trailers, if any */
    size_t num_trailers;
    int chunked;     /* the body came with Transfer-Encoding: chunked */
    char *body;      /* decoded body, NUL-terminated (body_len excludes the NUL); never NULL */
    size_t body_len;
    unsigned conn_seq; /* which accepted connection carried it (1 = first) */
    char *store_;    /* private: parsed copy of the head */
    char *tstore_;   /* private: parsed copy of the trailers */
} rapi_request;

/* A response to send. Start from rapi_response_init(), then override fields. */
typedef struct rapi_response {
    int status;
    const char *reason;      /* NULL: a standard phrase for the status */
    const char *headers;     /* extra header lines, each ending in "\r\n" (may be NULL) */
    const void *body;
    size_t body_len;
    int no_length;           /* 1: send neither Content-Length nor chunked framing (raw body follows head) */
    size_t chunk_size;       /* 0: Content-Length framing; >0: chunked, at most this many bytes per chunk */
    const char *chunk_ext;   /* appended after each chunk size, e.g. ";a=b" (chunked only) */
    const char *trailers;    /* trailer lines after the last chunk, each ending in "\r\n" (chunked only) */
    int upper_hex;           /* chunk sizes in upper-case hex */
    size_t slice;            /* write at most this many bytes per send() (0: all at once) */
    unsigned slice_delay_us; /* pause between slices */
    long close_after;        /* >= 0: close the connection after this many bytes of the response; -1: don't */
    int close_at_end;        /* close the connection after the whole response */
} rapi_response;

typedef struct rapi_server {
    int listen_fd;
    int conn_fd;             /* -1 when there is no live connection */
    unsigned short port;     /* the bound port, host order */
    unsigned accepts;        /* connections accepted so far */
    unsigned peer_closes;    /* connections the peer closed (EOF between requests) */
    unsigned abandoned;      /* connections dropped because the peer opened a new one without closing */
    size_t max_head, max_body; /* limits for rapi_server_read_request (defaults above) */
    int last_errno;
    const char *last_op;
    char *in;                /* bytes received on conn_fd but not yet consumed */
    size_t in_len, in_cap;
} rapi_server;

/* Binds 127.0.0.1:0 and listens. Returns RAPI_OK or RAPI_EIO. */
int rapi_server_open(rapi_server *s);

/* Closes the connection (if any) and the listening socket, frees buffers. Safe to call twice. */
void rapi_server_close(rapi_server *s);

/* Stops listening (new connects are refused) but keeps the current connection. */
void rapi_server_stop_listening(rapi_server *s);

/* The bound port (host order). */
unsigned short rapi_server_port(const rapi_server *s);

/* Accepts one connection, replacing (closing) the current one. RAPI_OK, RAPI_ETIMEOUT or RAPI_EIO. */
int rapi_server_accept(rapi_server *s, int timeout_ms);

/* Closes the current connection, if any (buffered input is dropped). */
void rapi_server_close_conn(rapi_server *s);

/* Reads one complete request: head (up to max_head) and body (Content-Length or chunked, up to
   max_body). Accepts a connection first when there is none; when the peer closes the connection
   between requests, or opens a new one without sending on the old, it moves to the new connection,
   all within the same timeout. On success fills *req (free it with rapi_request_free). On failure
   *req is empty and safe to free. */
int rapi_server_read_request(rapi_server *s, rapi_request *req, int timeout_ms);

/* Waits up to timeout_ms for the peer to close the current connection (or send bytes).
   Returns 1 if the peer closed it (or there is no connection), 0 if bytes arrived or on timeout. */
int rapi_server_wait_closed(rapi_server *s, int timeout_ms);

void rapi_request_free(rapi_request *req);

/* First header (or trailer, for rapi_request_trailer) with this name, case-insensitive; NULL if absent. */
const char *rapi_request_header(const rapi_request *req, const char *name);
const char *rapi_request_trailer(const rapi_request *req, const char *name);
/* How many times the header occurs. */
size_t rapi_request_header_count(const rapi_request *req, const char *name);

/* status, standard reason, no body, Content-Length framing, no slicing, close_after = -1. */
void rapi_response_init(rapi_response *r, int status);

/* Serialises r into a malloc'd buffer (*out, *out_len). RAPI_OK or RAPI_ENOMEM. */
int rapi_response_serialize(const rapi_response *r, char **out, size_t *out_len);

/* Serialises and writes r on the current connection, honouring slice/slice_delay_us/close_after/
   close_at_end. The whole write is bounded by timeout_ms. RAPI_OK, RAPI_ENOCONN, RAPI_ETIMEOUT,
   RAPI_EIO (peer gone) or RAPI_ENOMEM. */
int rapi_server_send(rapi_server *s, const rapi_response *r, int timeout_ms);

/* Writes raw bytes on the current connection, same slicing rules (close_after < 0: never). */
int rapi_server_send_raw(rapi_server *s, const void *data, size_t len, size_t slice,
                         unsigned slice_delay_us, long close_after, int timeout_ms);

const char *rapi_strerror(int err);
const char *rapi_status_reason(int status);

#endif /* RAPI_SERVER_H */
