/* emu_rapi.c - lambda-emu: delivering results (REPORT lines, stdout, the invoke caller or an
   HTTP front client: emu_http.c), the Runtime API handlers and the request router, streamed
   responses forwarded while they arrive, and the invoke endpoint. */
#include "emu.h"

/* ------------------------------------------------------------------ delivering results */

static void print_report(emu *m, invocation *iv)
{
    double dur = (double)(now_ns() - iv->start_ns) / 1e6;
    double billed = dur + (iv->cold ? iv->init_ms : 0);
    long mem = m->hwm_kb > 0 ? (m->hwm_kb + 1023) / 1024 : 0;
    if (m->cfg.quiet) return;
    if (!iv->r_ok) fprintf(stderr, "ERROR RequestId: %s ErrorType: %s\n", iv->request_id, iv->r_error_type);
    fprintf(stderr, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %s MB\tMax Memory Used: %ld MB",
            iv->request_id, dur, (long long)(billed + 0.999999), getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), mem);
    if (iv->cold) fprintf(stderr, "\tInit Duration: %.2f ms", iv->init_ms);
    if (iv->r_status) fprintf(stderr, "\tStatus: %s", iv->r_status);
    if (iv->r_status && strcmp(iv->r_status, "error") == 0) fprintf(stderr, "\tError Type: %s", iv->r_error_type);
    fputc('\n', stderr);
    fflush(stderr);
}

static invocation *iv_new(emu *m, event *e)
{
    invocation *iv = (invocation *)xmalloc(sizeof *iv);
    memset(iv, 0, sizeof *iv);
    iv->ev = e;
    if (e->request_id[0]) memcpy(iv->request_id, e->request_id, sizeof iv->request_id);
    else new_uuid(iv->request_id);
    iv->start_ns = now_ns();
    iv->next = m->inflight;
    m->inflight = iv;
    m->n_inflight++;
    if (e->caller) m->caller_busy = 1;
    return iv;
}

static invocation *iv_find(emu *m, const char *id)
{
    invocation *iv;
    for (iv = m->inflight; iv; iv = iv->next)
        if (strcmp(iv->request_id, id) == 0) return iv;
    return NULL;
}

/* Forgets every extension's reference to iv (it no longer waits for them). */
void iv_detach_exts(emu *m, invocation *iv)
{
    size_t k, i, j;
    for (k = 0; k < m->n_exts; k++) {
        extension *x = m->exts[k];
        if (x->holding == iv) x->holding = NULL;
        for (i = j = 0; i < x->nq; i++)
            if (x->queue[i] != iv) x->queue[j++] = x->queue[i];
        x->nq = j;
    }
    iv->ext_pending = 0;
}

/* Removes iv from the in-flight list and frees it. remember: keep its id for the 403 on a
   second result. */
void iv_free(emu *m, invocation *iv, int remember)
{
    invocation **pp;
    size_t i;
    for (pp = &m->inflight; *pp; pp = &(*pp)->next)
        if (*pp == iv) {
            *pp = iv->next;
            m->n_inflight--;
            break;
        }
    for (i = 0; i < m->n_conns; i++)
        if (m->conns[i]->s_iv == iv) {
            m->conns[i]->s_iv = NULL;
            if (m->conns[i]->s_head_len) m->conns[i]->s_head_len = (size_t)-1; /* ignore the rest of it */
        }
    iv_detach_exts(m, iv);
    if (remember) memcpy(m->recent[m->recent_n++ % EMU_RECENT_IDS], iv->request_id, 37);
    event_free(iv->ev);
    free(iv);
}

/* The invocation is over (result delivered, extensions done): REPORT, then forget it. */
void complete(emu *m, invocation *iv)
{
    tel_report(m, iv);
    print_report(m, iv);
    m->invocations++;
    iv_free(m, iv, 1);
}

static void caller_send(emu *m, const char *data, size_t len)
{
    if (m->inv.conn_fd < 0) return;
    if (rapi_server_send_raw(&m->inv, data, len, 0, 0, -1, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("invoke caller went away");
        rapi_server_close_conn(&m->inv);
    }
}

/* Streaming: the start of the forwarded response. */
static void stream_begin(emu *m, invocation *iv, const char *content_type)
{
    iv->streaming = 1;
    iv->s_first_ns = now_ns();
    if (iv->ev->http_conn) {
        http_stream_begin(m, iv, content_type);
    } else if (iv->ev->caller) {
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nX-Amzn-Requestid: %s\r\nX-Amz-Executed-Version: %s\r\n"
                         "Transfer-Encoding: chunked\r\n"
                         "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
                         "Connection: close\r\n\r\n",
                         content_type && header_value_ok(content_type, strlen(content_type)) ? content_type
                                                                                             : "application/octet-stream",
                         iv->request_id, getenv("AWS_LAMBDA_FUNCTION_VERSION"));
        caller_send(m, head, (size_t)n);
    }
}

static void stream_data(emu *m, invocation *iv, const char *p, size_t n)
{
    if (n == 0) return;
    iv->s_forwarded += n;
    iv->s_last = p[n - 1];
    if (iv->ev->http_conn) {
        http_stream_data(m, iv, p, n);
    } else if (iv->ev->caller) {
        char sz[32];
        int k = snprintf(sz, sizeof sz, "%lx\r\n", (unsigned long)n);
        caller_send(m, sz, (size_t)k);
        caller_send(m, p, n);
        caller_send(m, "\r\n", 2);
    } else {
        fwrite(p, 1, n, stdout);
        fflush(stdout);
    }
}

/* Ends a streamed response; err_type/err_body_b64 are the error trailers (NULL if none). */
static void stream_end(emu *m, invocation *iv, const char *err_type, const char *err_body_b64)
{
    if (iv->ev->caller) {
        char *t = (char *)xmalloc(64 + (err_type ? strlen(err_type) : 0) + (err_body_b64 ? strlen(err_body_b64) : 0) + 128);
        size_t n = 0;
        n += (size_t)sprintf(t + n, "0\r\n");
        if (err_type) n += (size_t)sprintf(t + n, "Lambda-Runtime-Function-Error-Type: %s\r\n", err_type);
        if (err_body_b64) n += (size_t)sprintf(t + n, "Lambda-Runtime-Function-Error-Body: %s\r\n", err_body_b64);
        n += (size_t)sprintf(t + n, "\r\n");
        caller_send(m, t, n);
        free(t);
        rapi_server_close_conn(&m->inv);
    } else { /* stdout: the streamed body, then (on error) the error document, each on its own line */
        if (iv->s_forwarded == 0 || iv->s_last != '\n') fputc('\n', stdout);
        if (err_type) {
            char *doc = NULL;
            size_t dl = 0;
            if (err_body_b64 && b64_decode(err_body_b64, &doc, &dl) == 0 && dl > 0) {
                fwrite(doc, 1, dl, stdout);
                if (doc[dl - 1] != '\n') fputc('\n', stdout);
            } else {
                printf("{\"errorType\":\"%s\"}\n", err_type);
            }
            free(doc);
        }
        fflush(stdout);
    }
}

/* Delivers the result of iv to its caller (or stdout). The REPORT line follows when the
   invocation is complete: at once, or when the extensions holding its INVOKE event are done. */
static void finish(emu *m, invocation *iv, result *r)
{
    if (!iv || iv->delivered) return;
    tel_runtime_done(m, iv, r);
    if (!r->ok && r->platform && m->exit_status == 0) m->exit_status = 1;
    if (m->pid > 0) {
        long h = proc_hwm_kb(m->pid);
        if (h > 0) m->hwm_kb = h;
    }
    if (iv->ev->http_conn) {
        http_finish(m, iv, r); /* an HTTP answer, streamed or not */
    } else if (iv->streaming) {
        /* the body has been forwarded already; a failure becomes the error trailers */
        if (r->trailer_type) {
            stream_end(m, iv, r->trailer_type, r->trailer_b64);
        } else if (!r->ok) {
            char doc[1024], b64[1400];
            static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            size_t i, o = 0, n;
            snprintf(doc, sizeof doc, "%.*s", (int)r->len, r->body);
            n = strlen(doc);
            for (i = 0; i < n; i += 3) { /* standard base64, as the platform's trailers */
                unsigned v = (unsigned)(unsigned char)doc[i] << 16;
                if (i + 1 < n) v |= (unsigned)(unsigned char)doc[i + 1] << 8;
                if (i + 2 < n) v |= (unsigned)(unsigned char)doc[i + 2];
                b64[o++] = tb[(v >> 18) & 63];
                b64[o++] = tb[(v >> 12) & 63];
                b64[o++] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
                b64[o++] = i + 2 < n ? tb[v & 63] : '=';
            }
            b64[o] = 0;
            stream_end(m, iv, r->error_type, b64);
        } else {
            stream_end(m, iv, NULL, NULL);
        }
    } else if (iv->ev->caller) {
        rapi_response resp;
        char hdrs[1024];
        snprintf(hdrs, sizeof hdrs, "Content-Type: %s\r\nX-Amzn-Requestid: %s\r\nX-Amz-Executed-Version: %s\r\n%s%s%s",
                 r->content_type && header_value_ok(r->content_type, strlen(r->content_type)) ? r->content_type
                                                                                              : "application/json",
                 iv->request_id, getenv("AWS_LAMBDA_FUNCTION_VERSION"),
                 r->ok ? "" : "X-Amz-Function-Error: Unhandled\r\n", "Connection: close\r\n", "");
        rapi_response_init(&resp, 200);
        resp.headers = hdrs;
        resp.body = r->body;
        resp.body_len = r->len;
        resp.close_at_end = 1;
        if (m->inv.conn_fd >= 0 && rapi_server_send(&m->inv, &resp, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
            if (m->cfg.verbose) logf_("invoke caller went away before its response");
            rapi_server_close_conn(&m->inv);
        }
    } else {
        fwrite(r->body, 1, r->len, stdout);
        if (r->len == 0 || r->body[r->len - 1] != '\n') fputc('\n', stdout);
        fflush(stdout);
    }
    if (iv->ev->caller) m->caller_busy = 0;
    iv->delivered = 1;
    iv->r_ok = r->ok;
    iv->r_platform = r->platform;
    iv->r_status = r->status;
    snprintf(iv->r_error_type, sizeof iv->r_error_type, "%s", r->error_type);
    if (iv->ext_pending == 0) complete(m, iv);
}

/* A failure generated by the emulator itself (timeout, exit, size...). */
void finish_error(emu *m, invocation *iv, const char *type, const char *status, int platform, const char *fmt, ...)
{
    char msg[512], esc[1100], doc[1400];
    result r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_escape(esc, sizeof esc, msg);
    snprintf(doc, sizeof doc, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
    memset(&r, 0, sizeof r);
    r.body = doc;
    r.len = strlen(doc);
    r.content_type = "application/json";
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    r.platform = platform;
    r.status = status;
    finish(m, iv, &r);
}

/* Init failed: the pending event (if any) becomes an invocation that gets the error, as on
   Lambda. NULL when no event is pending. */
invocation *pop_failed_init(emu *m)
{
    event *e = queue_pop(m);
    invocation *iv;
    m->exit_status = 3;
    if (!e) return NULL;
    iv = iv_new(m, e);
    iv->cold = 1;
    iv->init_ms = (double)(iv->start_ns - m->env_start_ns) / 1e6;
    return iv;
}

/* Delivers an init error document: body as posted, or {"errorMessage":"","errorType":type}. */
void finish_init_error(emu *m, invocation *iv, const char *type, const char *body, size_t len)
{
    result r;
    char doc[512], esc[300];
    memset(&r, 0, sizeof r);
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    if (body && len > 0) {
        r.body = body;
        r.len = len;
    } else {
        json_escape(esc, sizeof esc, type);
        snprintf(doc, sizeof doc, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
        r.body = doc;
        r.len = strlen(doc);
    }
    r.content_type = "application/json";
    r.platform = 1;
    r.status = "error";
    finish(m, iv, &r);
}

/* ------------------------------------------------------------------ talking to the runtime */

/* The oldest parked GET /next on a live connection. */
static conn *parked_next(emu *m)
{
    conn *best = NULL;
    size_t i;
    for (i = 0; i < m->n_conns; i++) {
        conn *c = m->conns[i];
        if (c->park != PARK_NEXT || c->rs.conn_fd < 0) continue;
        if (!best || c->park_seq < best->park_seq) best = c;
    }
    return best;
}

/* Sends the next event to the parked GET /next on c, and INVOKE to the extensions. */
static void dispatch_one(emu *m, conn *c)
{
    invocation *iv;
    event *e;
    rapi_response r;
    char hdrs[4096 + 512], *h;
    size_t hl, k;
    const char *tenant;
    int closed;
    e = queue_pop(m);
    iv = iv_new(m, e);
    new_uuid(iv->invocation_id);
    if (e->trace_id) snprintf(iv->trace_id, sizeof iv->trace_id, "%s", e->trace_id);
    else new_trace_id(iv->trace_id, sizeof iv->trace_id);
    iv->cold = m->cold;
    iv->init_ms = m->init_ms;
    m->cold = 0;
    tenant = e->tenant_id ? e->tenant_id : m->cfg.tenant_id;
    iv->deadline_wall_ms = wall_ms() + m->cfg.timeout_ms;

    hl = (size_t)snprintf(hdrs, sizeof hdrs,
                          "Content-Type: %s\r\nLambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
                          "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:%s:" EMU_ARN_ACCOUNT ":function:%s\r\n"
                          "Lambda-Runtime-Trace-Id: %s\r\n",
                          e->content_type ? e->content_type : "application/json", iv->request_id,
                          iv->deadline_wall_ms, getenv("AWS_REGION"), getenv("AWS_LAMBDA_FUNCTION_NAME"),
                          iv->trace_id);
    if (tenant && *tenant && hl < sizeof hdrs)
        hl += (size_t)snprintf(hdrs + hl, sizeof hdrs - hl, "Lambda-Runtime-Aws-Tenant-Id: %s\r\n", tenant);
    if (m->cfg.send_invocation_id && hl < sizeof hdrs)
        hl += (size_t)snprintf(hdrs + hl, sizeof hdrs - hl, "Lambda-Runtime-Invocation-Id: %s\r\n", iv->invocation_id);
    if (hl >= sizeof hdrs) hl = sizeof hdrs - 1;
    h = hdrs;
    if (e->client_context) { /* can be long: build a separate block */
        size_t cl = strlen(e->client_context);
        h = (char *)xmalloc(hl + cl + 64);
        memcpy(h, hdrs, hl);
        hl += (size_t)sprintf(h + hl, "Lambda-Runtime-Client-Context: %s\r\n", e->client_context);
    }
    rapi_response_init(&r, 200);
    r.headers = h;
    r.body = e->body;
    r.body_len = e->len;
    c->park = PARK_NONE;
    if (m->pid > 0) { /* sample now too: a runtime that crashes cannot be read afterwards */
        long hw = proc_hwm_kb(m->pid);
        if (hw > 0) m->hwm_kb = hw;
    }
    iv->start_ns = now_ns();
    iv->start_wall_ms = wall_ms();
    iv->deadline_ns = iv->start_ns + m->cfg.timeout_ms * 1000000LL;
    if (m->cfg.verbose) logf_("invoke %s (%lu bytes) on connection %u", iv->request_id, (unsigned long)e->len, c->id);
    {
        char b;
        closed = recv(c->rs.conn_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
    }
    if (closed) {
        /* the runtime closed the connection before the event went out: give the event back and
           wait for it to call /next again or exit */
        logf_("could not deliver the event to the runtime (connection closed); will retry");
        conn_drop(c);
        m->cold = iv->cold;
        iv->ev = NULL;
        iv_free(m, iv, 0);
        queue_push_front(m, e);
        if (e->caller) m->caller_busy = 1;
    } else {
        if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
            /* the runtime stopped reading it (e.g. an event over its own size limit): as on Lambda the
               invocation goes on, until the runtime posts a result (its /error), exits or times out */
            logf_("could not deliver all of event %s (%lu bytes) to the runtime (connection lost); the invocation "
                  "stays open until the runtime answers, exits or times out",
                  iv->request_id, (unsigned long)e->len);
            conn_drop(c);
        }
        tel_start(m, iv);
        for (k = 0; k < m->n_exts; k++)
            if (m->exts[k]->events & EV_INVOKE) ext_queue_invoke(m, m->exts[k], iv);
    }
    if (h != hdrs) free(h);
}

void dispatch(emu *m)
{
    while (m->q_head && m->init_done && m->env == ENV_RUNNING && m->state == RT_READY && m->n_inflight < max_inflight(m)) {
        conn *c = parked_next(m);
        if (!c) return;
        dispatch_one(m, c);
    }
}

/* Splits "/2018-06-01/runtime/invocation/<id>/<what>". Returns 1 and fills id/what if it matches. */
static int parse_invocation_path(const char *path, char *id, size_t idcap, const char **what)
{
    static const char pre[] = "/2018-06-01/runtime/invocation/";
    const char *p, *slash;
    if (strncmp(path, pre, sizeof pre - 1) != 0) return 0;
    p = path + sizeof pre - 1;
    slash = strchr(p, '/');
    if (!slash || slash == p) return 0;
    if (pct_decode(p, (size_t)(slash - p), id, idcap) != 0) return -1;
    *what = slash + 1;
    return 1;
}

static void target_path(const char *target, char *out, size_t cap)
{
    size_t n = strcspn(target, "?#");
    if (n >= cap) n = cap - 1;
    memcpy(out, target, n);
    out[n] = 0;
}

/* Request id check shared by /response and /error: the invocation waiting for that result, or
   NULL after answering 403 (a second result) or 400 (unknown id). */
static invocation *check_request_id(emu *m, conn *c, const char *id)
{
    invocation *iv = iv_find(m, id);
    unsigned i;
    int seen = iv != NULL;
    if (iv && !iv->delivered) return iv;
    for (i = 0; !seen && i < EMU_RECENT_IDS && i < m->recent_n; i++)
        if (strcmp(m->recent[i], id) == 0) seen = 1;
    if (seen) {
        logf_("runtime sent a second result for %s; answered 403", id);
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from InvocationResponse/Error is not allowed");
        return NULL;
    }
    logf_("runtime posted a result for unknown request id '%s'; answered 400", id);
    api_reply(m, c, 400, "InvalidRequestID", "Invalid request ID");
    return NULL;
}

/* 1 when the Lambda-Runtime-Invocation-Id echo is acceptable. */
static int check_invocation_id(emu *m, conn *c, invocation *iv, const rapi_request *req)
{
    const char *v = rapi_request_header(req, "Lambda-Runtime-Invocation-Id");
    if (!m->cfg.send_invocation_id) return 1;
    if (!v) {
        if (!m->warned_no_invocation_id) logf_("note: the runtime does not echo Lambda-Runtime-Invocation-Id");
        m->warned_no_invocation_id = 1;
        return 1;
    }
    if (strcmp(v, iv->invocation_id) == 0) return 1;
    logf_("runtime echoed Lambda-Runtime-Invocation-Id '%s', expected '%s'; answered 410", v, iv->invocation_id);
    api_reply(m, c, 410, "InvalidInvocationID", "Lambda-Runtime-Invocation-Id does not match this invocation");
    return 0;
}

static void handle_next(emu *m, conn *c, const rapi_request *req)
{
    (void)req;
    if (m->state == RT_INIT_FAILED) {
        logf_("runtime called /next after /init/error; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from InitError to Ready is not allowed");
        return;
    }
    if (max_inflight(m) == 1) {
        invocation *iv;
        for (iv = m->inflight; iv; iv = iv->next)
            if (!iv->delivered) {
                logf_("runtime called /next while invocation %s is outstanding; answered 403", iv->request_id);
                api_reply(m, c, 403, "InvalidStateTransition", "State transition from Invoke to Ready is not allowed");
                return;
            }
    }
    if (m->state == RT_INIT) {
        m->state = RT_READY;
        if (m->cfg.verbose) logf_("runtime called /next after %.2f ms", (double)(now_ns() - m->spawn_ns) / 1e6);
    }
    c->park = PARK_NEXT;
    c->park_seq = ++m->park_seq;
    check_init(m);
    dispatch(m);
}

static void handle_response(emu *m, conn *c, const rapi_request *req, const char *id)
{
    const char *mode = rapi_request_header(req, "Lambda-Runtime-Function-Response-Mode");
    const char *ct = rapi_request_header(req, "Content-Type");
    invocation *iv = check_request_id(m, c, id);
    result r;
    if (!iv) return;
    if (!check_invocation_id(m, c, iv, req)) {
        if (iv->streaming)
            finish_error(m, iv, "Runtime.InvalidInvocationId", "error", 1, "RequestId: %s Error: streamed response rejected", id);
        return;
    }
    if (mode && !ieq(mode, "streaming")) {
        logf_("runtime sent Lambda-Runtime-Function-Response-Mode: %s; answered 400", mode);
        api_reply(m, c, 400, "InvalidFunctionResponseMode", "Invalid function response mode");
        finish_error(m, iv, "Runtime.InvalidResponseModeHeader", "error", 1, "RequestId: %s Error: invalid response mode '%s'",
                     id, mode);
        return;
    }
    if (mode) { /* streaming: forward what has not been forwarded yet, then the trailers */
        const char *et = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Type");
        const char *eb = rapi_request_trailer(req, "Lambda-Runtime-Function-Error-Body");
        if (!iv->streaming) stream_begin(m, iv, ct);
        if (iv->s_forwarded < req->body_len) stream_data(m, iv, req->body + iv->s_forwarded, req->body_len - iv->s_forwarded);
        api_reply(m, c, 202, NULL, NULL);
        memset(&r, 0, sizeof r);
        r.ok = 1;
        r.body = "";
        if (et || eb) { /* Lambda records a successful response and forwards the error metadata */
            r.ok = 0;
            r.trailer_type = et ? et : "Runtime.Unknown";
            r.trailer_b64 = eb;
            snprintf(r.error_type, sizeof r.error_type, "%s", r.trailer_type);
        }
        finish(m, iv, &r);
        return;
    }
    if (req->body_len > EMU_MAX_PAYLOAD) {
        logf_("response for %s is %lu bytes, over the %u-byte limit; answered 413", id, (unsigned long)req->body_len,
              EMU_MAX_PAYLOAD);
        api_reply(m, c, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        finish_error(m, iv, "Function.ResponseSizeTooLarge", "error", 1,
                     "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    memset(&r, 0, sizeof r);
    r.ok = 1;
    r.body = req->body;
    r.len = req->body_len;
    r.content_type = ct ? ct : "application/json";
    finish(m, iv, &r);
}

static void handle_error(emu *m, conn *c, const rapi_request *req, const char *id)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    invocation *iv = check_request_id(m, c, id);
    result r;
    char doc[1024];
    if (!iv || !check_invocation_id(m, c, iv, req)) return;
    if (iv->streaming) {
        logf_("runtime posted /error after streaming response bytes; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from RuntimeResponseSent to InvocationErrorResponse is not allowed");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    memset(&r, 0, sizeof r);
    if (json_peek_string(req->body, req->body_len, "errorType", r.error_type, sizeof r.error_type) != 0)
        snprintf(r.error_type, sizeof r.error_type, "%s", ht ? ht : "Runtime.Unknown");
    if (req->body_len > 0) {
        r.body = req->body;
        r.len = req->body_len;
    } else { /* Lambda builds the document from the header */
        char esc[300];
        json_escape(esc, sizeof esc, r.error_type);
        snprintf(doc, sizeof doc, "{\"errorMessage\":\"\",\"errorType\":\"%s\"}", esc);
        r.body = doc;
        r.len = strlen(doc);
    }
    r.content_type = "application/json";
    finish(m, iv, &r);
}

static void handle_init_error(emu *m, conn *c, const rapi_request *req)
{
    const char *ht = rapi_request_header(req, "Lambda-Runtime-Function-Error-Type");
    char type[128];
    invocation *iv;
    if (m->state != RT_INIT) {
        logf_("runtime posted /init/error after init; answered 403");
        api_reply(m, c, 403, "InvalidStateTransition", "State transition from Ready to InitError is not allowed");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    m->init_ms = (double)(now_ns() - m->env_start_ns) / 1e6;
    if (json_peek_string(req->body, req->body_len, "errorType", type, sizeof type) != 0)
        snprintf(type, sizeof type, "%s", ht ? ht : "Runtime.Unknown");
    fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", m->init_ms, type);
    tel_init_error(m, type);
    m->state = RT_INIT_FAILED;
    m->kill_at_ns = now_ns() + EMU_INIT_ERROR_GRACE_MS * 1000000LL; /* it must exit by itself */
    /* Lambda serves the init error as the response to the pending invoke */
    iv = pop_failed_init(m);
    if (iv) finish_init_error(m, iv, type, req->body, req->body_len);
}

/* Routes one request from a Runtime API connection (Runtime API or Extensions API). */
static void handle_api_request(emu *m, conn *c, const rapi_request *req)
{
    char path[2048], id[1100];
    const char *what = NULL;
    int k;
    target_path(req->target, path, sizeof path);
    if (m->cfg.verbose) logf_("api (connection %u): %s %s", c->id, req->method, req->target);
    if (strcmp(path, "/2018-06-01/runtime/invocation/next") == 0) {
        if (strcmp(req->method, "GET") != 0) goto bad_method;
        handle_next(m, c, req);
        return;
    }
    if (strcmp(path, "/2018-06-01/runtime/init/error") == 0) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        handle_init_error(m, c, req);
        return;
    }
    k = parse_invocation_path(path, id, sizeof id, &what);
    if (k < 0) {
        logf_("runtime sent a malformed request id in %s; answered 400", req->target);
        api_reply(m, c, 400, "InvalidRequestID", "Invalid request ID");
        return;
    }
    if (k > 0 && (strcmp(what, "response") == 0 || strcmp(what, "error") == 0)) {
        if (strcmp(req->method, "POST") != 0) goto bad_method;
        if (what[0] == 'r') handle_response(m, c, req, id);
        else handle_error(m, c, req, id);
        return;
    }
    if (strncmp(path, "/2020-01-01/extension/", 22) == 0) {
        const char *sub = path + 22;
        if (strcmp(sub, "register") == 0) {
            if (strcmp(req->method, "POST") != 0) goto bad_method;
            handle_register(m, c, req);
            return;
        }
        if (strcmp(sub, "event/next") == 0) {
            if (strcmp(req->method, "GET") != 0) goto bad_method;
            handle_event_next(m, c, req);
            return;
        }
        if (strcmp(sub, "init/error") == 0 || strcmp(sub, "exit/error") == 0) {
            if (strcmp(req->method, "POST") != 0) goto bad_method;
            handle_ext_error(m, c, req, sub[1] == 'x');
            return;
        }
    }
    if (strcmp(path, "/2022-07-01/telemetry") == 0 || strcmp(path, "/2022-07-01/telemetry/") == 0) {
        if (strcmp(req->method, "PUT") != 0) goto bad_method;
        handle_telemetry(m, c, req);
        return;
    }
    if (strcmp(path, "/2026-01-15/metadata/execution-environment") == 0) {
        if (strcmp(req->method, "GET") != 0) goto bad_method;
        handle_metadata(m, c, req);
        return;
    }
    if (strncmp(path, "/2020-08-15/logs", 16) == 0)
        logf_("runtime called %s %s: the Logs API is not emulated (the Telemetry API is); answered 404", req->method,
              path);
    else
        logf_("runtime called unknown endpoint %s %s; answered 404", req->method, req->target);
    api_reply(m, c, 404, "NotFound", "Not found: %s", path);
    return;
bad_method:
    logf_("runtime used method %s on %s; answered 405", req->method, path);
    api_reply(m, c, 405, "MethodNotAllowed", "Method %s not allowed on %s", req->method, path);
}

/* ------------------------------------------------------------------ streaming: forwarding while it arrives */

/* Looks at the (incomplete) request sitting in the connection's input buffer. If it is the
   streamed /response of an invocation in flight, forwards the body bytes decoded so far.
   rapi_server stays the parser of record: when the request is complete,
   rapi_server_read_request returns it and handle_response forwards whatever is left plus the
   trailers. */
static void stream_peek(emu *m, conn *c)
{
    invocation *iv = c->s_iv;
    const char *in = c->rs.in;
    size_t len = c->rs.in_len;
    if (len == 0 || c->s_head_len == (size_t)-1) return;
    if (iv && iv->delivered) return;
    if (!c->s_head_len) {
        /* find the end of the head and look at the few fields we need */
        size_t i, eoh = 0;
        char line[2048], path[2048], id[1100];
        const char *what = NULL, *p, *end;
        int streaming = 0, chunked = 0;
        size_t clen = 0;
        char ctype[256] = "";
        for (i = 0; i + 3 < len && i < RAPI_DEFAULT_MAX_HEAD; i++)
            if (memcmp(in + i, "\r\n\r\n", 4) == 0) {
                eoh = i + 4;
                break;
            }
        if (!eoh) return;
        p = in;
        end = in + eoh - 2;
        { /* request line: POST <target> HTTP/1.x */
            const char *le = memchr(p, '\r', (size_t)(end - p));
            size_t ll = le ? (size_t)(le - p) : 0;
            char *sp;
            if (!le || ll >= sizeof line) return;
            memcpy(line, p, ll);
            line[ll] = 0;
            if (strncmp(line, "POST ", 5) != 0) {
                c->s_head_len = (size_t)-1; /* not ours: stop peeking for this request */
                return;
            }
            sp = strchr(line + 5, ' ');
            if (sp) *sp = 0;
            target_path(line + 5, path, sizeof path);
            if (parse_invocation_path(path, id, sizeof id, &what) != 1 || strcmp(what, "response") != 0 ||
                (iv = iv_find(m, id)) == NULL || iv->delivered || iv->streaming) {
                c->s_head_len = (size_t)-1;
                return;
            }
            p = le + 2;
        }
        while (p < end) { /* header lines */
            const char *le = memchr(p, '\r', (size_t)(end - p + 1));
            const char *colon;
            size_t ll = le ? (size_t)(le - p) : (size_t)(end - p);
            colon = memchr(p, ':', ll);
            if (colon && ll < sizeof line) {
                size_t nl = (size_t)(colon - p);
                const char *v = colon + 1;
                size_t vl;
                while (v < p + ll && (*v == ' ' || *v == '\t')) v++;
                vl = (size_t)(p + ll - v);
                memcpy(line, p, nl);
                line[nl] = 0;
                if (ieq(line, "Lambda-Runtime-Function-Response-Mode") && vl == 9 && strncmp(v, "streaming", 9) == 0)
                    streaming = 1;
                else if (ieq(line, "Transfer-Encoding") && vl >= 7 && strncmp(v, "chunked", 7) == 0) chunked = 1;
                else if (ieq(line, "Content-Length")) clen = (size_t)strtoul(v, NULL, 10);
                else if (ieq(line, "Content-Type") && vl < sizeof ctype) {
                    memcpy(ctype, v, vl);
                    ctype[vl] = 0;
                }
            }
            p += ll + 2;
        }
        if (!streaming) {
            c->s_head_len = (size_t)-1;
            return;
        }
        c->s_head_len = eoh;
        c->s_iv = iv;
        c->s_scan = eoh;
        c->s_chunked = chunked;
        c->s_content_length = clen;
        stream_begin(m, iv, ctype[0] ? ctype : NULL);
    }
    if (!iv) return;
    if (!c->s_chunked) {
        size_t have = len - c->s_head_len;
        if (have > c->s_content_length) have = c->s_content_length;
        if (have > iv->s_forwarded) stream_data(m, iv, in + c->s_head_len + iv->s_forwarded, have - iv->s_forwarded);
        return;
    }
    for (;;) { /* incremental chunk walk over the bytes received so far (bounded by len) */
        if (c->s_state == 3) return;
        if (c->s_state == 1) {
            size_t n = len - c->s_scan;
            if (n == 0) return;
            if (n > c->s_chunk_left) n = c->s_chunk_left;
            stream_data(m, iv, in + c->s_scan, n);
            c->s_scan += n;
            c->s_chunk_left -= n;
            if (c->s_chunk_left == 0) c->s_state = 2;
            continue;
        }
        if (c->s_state == 2) {
            if (len - c->s_scan < 2) return;
            c->s_scan += 2;
            c->s_state = 0;
            continue;
        }
        { /* size line */
            size_t i, size = 0;
            int digits = 0;
            for (i = c->s_scan; i + 1 < len; i++)
                if (in[i] == '\r' && in[i + 1] == '\n') break;
            if (i + 1 >= len) return;
            for (; c->s_scan < i && isxdigit((unsigned char)in[c->s_scan]) && digits < 15; c->s_scan++, digits++) {
                int ch = in[c->s_scan];
                size = size * 16 + (size_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
            }
            if (digits == 0) {
                c->s_state = 3; /* malformed: rapi_server will say so */
                return;
            }
            c->s_scan = i + 2;
            if (size == 0) c->s_state = 3;
            else {
                c->s_chunk_left = size;
                c->s_state = 1;
            }
        }
    }
}

/* Reads and handles what arrived on a Runtime API connection. */
void service_conn(emu *m, conn *c)
{
    int guard;
    for (guard = 0; guard < 64 && c->rs.conn_fd >= 0; guard++) {
        rapi_request req;
        int rc = rapi_server_read_request(&c->rs, &req, 0);
        invocation *iv;
        if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) { /* rapi_server lets NUL through */
            rapi_request_free(&req);
            rc = RAPI_EPROTO;
        }
        if (rc == RAPI_OK) {
            handle_api_request(m, c, &req);
            rapi_request_free(&req);
            conn_peek_reset(c); /* that request is done: peek afresh at the next one */
            if (c->rs.in_len == 0) return;
            continue;
        }
        if (rc == RAPI_ETIMEOUT) {
            if (m->inflight) stream_peek(m, c);
            return;
        }
        if (rc == RAPI_ENOCONN) { /* closed between requests */
            if (m->cfg.verbose) logf_("connection %u closed", c->id);
            c->park = PARK_NONE;
            return;
        }
        iv = c->s_iv && !c->s_iv->delivered ? c->s_iv : NULL;
        if (rc == RAPI_EPROTO) {
            logf_("malformed HTTP request from the runtime (%lu bytes buffered); answered 400 and closed the connection",
                  (unsigned long)c->rs.in_len);
            api_reply(m, c, 400, "InvalidRequestFormat", "Malformed HTTP request");
        } else if (rc == RAPI_ETOOBIG) {
            logf_("request from the runtime over the size limit; answered 413 and closed the connection");
            api_reply(m, c, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%u bytes).", EMU_MAX_PAYLOAD);
            if (iv) {
                finish_error(m, iv, "Function.ResponseSizeTooLarge", "error", 1,
                             "Response payload size exceeded maximum allowed payload size (%u bytes).", EMU_MAX_STREAM);
                iv = NULL;
            }
        } else if (rc == RAPI_ECLOSED) {
            logf_("runtime closed the connection in the middle of a request");
        } else {
            logf_("Runtime API connection error: %s (%s)", rapi_strerror(rc),
                  c->rs.last_op ? strerror(c->rs.last_errno) : "-");
        }
        if (iv && iv->streaming) { /* a streamed response that cannot complete */
            finish_error(m, iv, "Runtime.TruncatedResponse", "error", 1, "RequestId: %s Error: streamed response was cut short",
                         iv->request_id);
        }
        conn_peek_reset(c);
        conn_drop(c);
        return;
    }
}

/* ------------------------------------------------------------------ the invoke endpoint */

static void inv_reply(emu *m, int status, const char *type, const char *msg)
{
    rapi_response r;
    char body[1024], esc[600];
    rapi_response_init(&r, status);
    if (type) {
        json_escape(esc, sizeof esc, msg);
        snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
        r.body = body;
        r.body_len = strlen(body);
    }
    r.headers = "Content-Type: application/json\r\nConnection: close\r\n";
    r.close_at_end = 1;
    (void)rapi_server_send(&m->inv, &r, EMU_SEND_TIMEOUT_MS);
    rapi_server_close_conn(&m->inv);
}

static void handle_invoke_request(emu *m, rapi_request *req)
{
    char path[2048];
    const char *p, *tr, *cc, *tn, *ct, *itype;
    event *e;
    target_path(req->target, path, sizeof path);
    p = path;
    if (strncmp(p, "/2015-03-31/functions/", 22) != 0 || !strstr(p + 22, "/invocations") ||
        strcmp(strstr(p + 22, "/invocations"), "/invocations") != 0) {
        logf_("invoke endpoint: unknown path %s %s; answered 404", req->method, req->target);
        inv_reply(m, 404, "ResourceNotFoundException", "Not found");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        inv_reply(m, 405, "MethodNotAllowed", "Use POST");
        return;
    }
    if (req->body_len > EMU_MAX_PAYLOAD) {
        inv_reply(m, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 6291556 bytes for the InvokeFunction operation");
        return;
    }
    itype = rapi_request_header(req, "X-Amz-Invocation-Type");
    if (itype && strcmp(itype, "DryRun") == 0) {
        inv_reply(m, 204, NULL, NULL);
        return;
    }
    e = event_new(req->body, req->body_len);
    tr = rapi_request_header(req, "X-Amzn-Trace-Id");
    cc = rapi_request_header(req, "X-Amz-Client-Context");
    tn = rapi_request_header(req, "X-Amz-Tenant-Id");
    ct = rapi_request_header(req, "Content-Type");
    if (tr && *tr) e->trace_id = xstrdup(tr);
    if (tn && *tn) e->tenant_id = xstrdup(tn);
    if (ct && *ct && strcmp(ct, "application/x-www-form-urlencoded") != 0) e->content_type = xstrdup(ct);
    if (cc && *cc) {
        char *dec;
        size_t dl;
        if (b64_decode(cc, &dec, &dl) != 0 || !header_value_ok(dec, dl)) {
            if (b64_decode(cc, &dec, &dl) == 0) free(dec);
            event_free(e);
            logf_("invoke endpoint: X-Amz-Client-Context is not valid base64 (or holds CR/LF/NUL); answered 400");
            inv_reply(m, 400, "InvalidRequestContentException", "Client context must be valid base64");
            return;
        }
        e->client_context = dec;
    }
    if (itype && strcmp(itype, "Event") == 0) {
        inv_reply(m, 202, NULL, NULL);
        queue_push(m, e);
        return;
    }
    e->caller = 1;
    m->caller_busy = 1;
    queue_push(m, e);
}

void service_invoke(emu *m)
{
    rapi_request req;
    int rc = rapi_server_read_request(&m->inv, &req, 0);
    if (rc == RAPI_OK && memchr(req.raw, 0, req.head_len)) {
        rapi_request_free(&req);
        rc = RAPI_EPROTO;
    }
    if (rc == RAPI_OK) {
        m->inv_partial_since = 0;
        handle_invoke_request(m, &req);
        rapi_request_free(&req);
        return;
    }
    if (rc == RAPI_ETIMEOUT) {
        if (m->inv.in_len > 0 && !m->inv_partial_since) m->inv_partial_since = now_ns();
        return;
    }
    m->inv_partial_since = 0;
    if (rc == RAPI_EPROTO) {
        logf_("invoke endpoint: malformed HTTP request; answered 400");
        inv_reply(m, 400, "InvalidRequestContentException", "Malformed HTTP request");
    } else if (rc == RAPI_ETOOBIG) {
        inv_reply(m, 413, "RequestEntityTooLargeException",
                  "Request must be smaller than 6291556 bytes for the InvokeFunction operation");
    } else {
        rapi_server_close_conn(&m->inv);
    }
}
