/* emu_ext.c - lambda-emu: the Extensions API (register, event/next, init/exit errors) and the
   INVOKE/SHUTDOWN events sent to extensions. */
#include "emu.h"

/* ------------------------------------------------------------------ extensions: events */

static extension *ext_by_id(emu *m, const char *id)
{
    size_t k;
    for (k = 0; k < m->n_exts; k++)
        if (strcmp(m->exts[k]->id, id) == 0) return m->exts[k];
    return NULL;
}

extension *ext_find(emu *m, const char *id)
{
    return ext_by_id(m, id);
}

static ext_proc *xp_by_name(emu *m, const char *name)
{
    size_t i;
    for (i = 0; i < m->n_xp; i++)
        if (strcmp(m->xp[i].name, name) == 0) return &m->xp[i];
    return NULL;
}

void ext_free_all(emu *m)
{
    size_t k;
    for (k = 0; k < m->n_exts; k++) {
        free(m->exts[k]->queue);
        free(m->exts[k]);
        m->exts[k] = NULL;
    }
    m->n_exts = 0;
}

/* Answers the extension's parked GET /event/next with an event document. */
static void ext_send(emu *m, extension *x, const char *json)
{
    conn *c = x->parked;
    rapi_response r;
    char hdrs[160], evid[37];
    x->parked = NULL;
    if (!c || c->rs.conn_fd < 0) return;
    c->park = PARK_NONE;
    new_uuid(evid);
    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nLambda-Extension-Event-Identifier: %s\r\n", evid);
    rapi_response_init(&r, 200);
    r.headers = hdrs;
    r.body = json;
    r.body_len = strlen(json);
    if (m->cfg.verbose) logf_("extension %s: event %s", x->name, json);
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        logf_("could not deliver an event to extension %s (connection lost)", x->name);
        conn_drop(c);
    }
}

/* Delivers the extension's next pending event if it waits for one. */
void ext_pump(emu *m, extension *x)
{
    char buf[1024], esc[400];
    invocation *iv;
    if (!x->parked) return;
    if (x->parked->rs.conn_fd < 0) {
        x->parked = NULL;
        return;
    }
    if (x->shutdown_pending) {
        snprintf(buf, sizeof buf, "{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":\"%s\",\"deadlineMs\":%lld}", m->sd_reason,
                 m->sd_deadline_wall_ms);
        x->shutdown_pending = 0;
        x->shutdown_sent = 1;
        ext_send(m, x, buf);
        return;
    }
    if (x->holding || x->nq == 0) return;
    iv = x->queue[0];
    memmove(x->queue, x->queue + 1, (x->nq - 1) * sizeof *x->queue);
    x->nq--;
    x->holding = iv;
    json_escape(esc, sizeof esc, iv->trace_id);
    snprintf(buf, sizeof buf,
             "{\"eventType\":\"INVOKE\",\"deadlineMs\":%lld,\"requestId\":\"%s\",\"invokedFunctionArn\":"
             "\"arn:aws:lambda:%s:" EMU_ARN_ACCOUNT ":function:%s\",\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"%s\"}}",
             iv->deadline_wall_ms, iv->request_id, getenv("AWS_REGION"), getenv("AWS_LAMBDA_FUNCTION_NAME"), esc);
    ext_send(m, x, buf);
}

void ext_queue_invoke(emu *m, extension *x, invocation *iv)
{
    if (x->nq == x->capq) {
        size_t cap = x->capq ? x->capq * 2 : 4;
        invocation **nq = (invocation **)realloc(x->queue, cap * sizeof *nq);
        if (!nq) die_oom();
        x->queue = nq;
        x->capq = cap;
    }
    x->queue[x->nq++] = iv;
    iv->ext_pending++;
    ext_pump(m, x);
}

/* ------------------------------------------------------------------ the Extensions API */

static const char *json_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* A JSON string at p (which must be '"'): the position after it, or NULL. Copies the text
   (escapes mostly undone; \u as '?') into out when out is not NULL. */
static const char *json_str(const char *p, const char *e, char *out, size_t cap)
{
    size_t o = 0;
    if (p >= e || *p != '"') return NULL;
    for (p++; p < e; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            if (out) out[o] = 0;
            return p + 1;
        }
        if (ch < 0x20) return NULL;
        if (ch == '\\') {
            if (++p >= e) return NULL;
            if (*p == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (p + k >= e || !isxdigit((unsigned char)p[k])) return NULL;
                p += 4;
                ch = '?';
            } else if (strchr("\"\\/bfnrt", *p)) {
                ch = (unsigned char)*p;
            } else {
                return NULL;
            }
        }
        if (out && o + 1 < cap) out[o++] = (char)ch;
    }
    return NULL;
}

/* Any JSON value at p: the position after it, or NULL if malformed. */
static const char *json_skip(const char *p, const char *e, int depth)
{
    p = json_ws(p, e);
    if (p >= e || depth > 64) return NULL;
    if (*p == '"') return json_str(p, e, NULL, 0);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = json_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = json_str(json_ws(p, e), e, NULL, 0);
                if (!p) return NULL;
                p = json_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            p = json_skip(p, e, depth + 1);
            if (!p) return NULL;
            p = json_ws(p, e);
            if (p >= e) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    }
    {
        const char *s = p;
        while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.')) p++;
        if (p == s) return NULL;
        if (!(isdigit((unsigned char)*s) || *s == '-') &&
            !((p - s == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0)) || (p - s == 5 && memcmp(s, "false", 5) == 0)))
            return NULL;
        return p;
    }
}

/* The register body: {"events":["INVOKE","SHUTDOWN"]} (other members are skipped; an empty
   body means no events). 0, -1 malformed, -2 unknown event type (copied into bad). */
static int parse_register_body(const char *b, size_t len, int *events, char *bad, size_t badcap)
{
    const char *p = b, *e = b + len;
    *events = 0;
    p = json_ws(p, e);
    if (p == e) return 0;
    if (*p != '{') return -1;
    p = json_ws(p + 1, e);
    if (p < e && *p == '}') return json_ws(p + 1, e) == e ? 0 : -1;
    for (;;) {
        char key[64];
        p = json_str(json_ws(p, e), e, key, sizeof key);
        if (!p) return -1;
        p = json_ws(p, e);
        if (p >= e || *p != ':') return -1;
        p = json_ws(p + 1, e);
        if (strcmp(key, "events") == 0) {
            if (p >= e || *p != '[') return -1;
            p = json_ws(p + 1, e);
            if (p < e && *p == ']') p++;
            else
                for (;;) {
                    char ev[64];
                    p = json_str(json_ws(p, e), e, ev, sizeof ev);
                    if (!p) return -1;
                    if (strcmp(ev, "INVOKE") == 0) *events |= EV_INVOKE;
                    else if (strcmp(ev, "SHUTDOWN") == 0) *events |= EV_SHUTDOWN;
                    else {
                        snprintf(bad, badcap, "%s", ev);
                        return -2;
                    }
                    p = json_ws(p, e);
                    if (p < e && *p == ']') {
                        p++;
                        break;
                    }
                    if (p >= e || *p != ',') return -1;
                    p++;
                }
        } else {
            p = json_skip(p, e, 1);
            if (!p) return -1;
        }
        p = json_ws(p, e);
        if (p < e && *p == '}') return json_ws(p + 1, e) == e ? 0 : -1;
        if (p >= e || *p != ',') return -1;
        p++;
    }
}

void handle_register(emu *m, conn *c, const rapi_request *req)
{
    const char *name = rapi_request_header(req, "Lambda-Extension-Name");
    const char *feat = rapi_request_header(req, "Lambda-Extension-Accept-Feature");
    char bad[64] = "", hdrs[160], body[1024], e1[300], e2[300], e3[300];
    int events = 0, rc, external;
    ext_proc *p;
    extension *x;
    size_t k;
    rapi_response r;
    if (!name || !*name) {
        logf_("extension register without Lambda-Extension-Name; answered 400");
        api_reply(m, c, 400, "InvalidRequestFormat", "Missing Lambda-Extension-Name header");
        return;
    }
    rc = parse_register_body(req->body, req->body_len, &events, bad, sizeof bad);
    if (rc == -1) {
        logf_("extension %s: register body is not valid JSON; answered 400", name);
        api_reply(m, c, 400, "InvalidRequestFormat", "Invalid request body: expected {\"events\":[...]}");
        return;
    }
    if (rc == -2) {
        logf_("extension %s: unknown event type '%s'; answered 400", name, bad);
        api_reply(m, c, 400, "Extension.InvalidEventType", "Unknown event type: %s", bad);
        return;
    }
    if (!(m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && m->state == RT_INIT))) {
        logf_("extension %s: register after init; answered 403", name);
        api_reply(m, c, 403, "Extension.RegistrationClosed", "Extension registration closed already");
        return;
    }
    p = xp_by_name(m, name);
    external = p && p->pid > 0;
    if (!external && (events & EV_SHUTDOWN)) {
        logf_("internal extension %s asked for SHUTDOWN events; answered 403", name);
        api_reply(m, c, 403, "Extension.InvalidEventType", "Internal extensions cannot register for SHUTDOWN events");
        return;
    }
    for (k = 0; k < m->n_exts; k++)
        if (strcmp(m->exts[k]->name, name) == 0) {
            logf_("extension %s is already registered; answered 403", name);
            api_reply(m, c, 403, "Extension.InvalidExtensionName", "Extension %s is already registered", name);
            return;
        }
    if (m->n_exts >= EMU_MAX_EXTENSIONS) {
        logf_("extension %s: more than %d extensions; answered 403", name, EMU_MAX_EXTENSIONS);
        api_reply(m, c, 403, "Extension.TooManyExtensions", "Too many extensions registered (at most %d)", EMU_MAX_EXTENSIONS);
        return;
    }
    x = (extension *)xmalloc(sizeof *x);
    memset(x, 0, sizeof *x);
    new_uuid(x->id);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->events = events;
    x->external = external;
    m->exts[m->n_exts++] = x;
    json_escape(e1, sizeof e1, getenv("AWS_LAMBDA_FUNCTION_NAME"));
    json_escape(e2, sizeof e2, getenv("AWS_LAMBDA_FUNCTION_VERSION"));
    json_escape(e3, sizeof e3, getenv("_HANDLER"));
    snprintf(body, sizeof body, "{\"functionName\":\"%s\",\"functionVersion\":\"%s\",\"handler\":\"%s\"%s}", e1, e2, e3,
             feat && strstr(feat, "accountId") ? ",\"accountId\":\"" EMU_ARN_ACCOUNT "\"" : "");
    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nLambda-Extension-Identifier: %s\r\n", x->id);
    rapi_response_init(&r, 200);
    r.headers = hdrs;
    r.body = body;
    r.body_len = strlen(body);
    if (m->cfg.verbose)
        logf_("extension %s registered (%s, events:%s%s)", name, external ? "external" : "internal",
              (events & EV_INVOKE) ? " INVOKE" : "", (events & EV_SHUTDOWN) ? " SHUTDOWN" : "");
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) conn_drop(c);
    if (p && external) {
        p->registered = 1;
        maybe_start_runtime(m);
    }
}

/* The extension named by Lambda-Extension-Identifier, or NULL after answering 403. */
static extension *ext_of_request(emu *m, conn *c, const rapi_request *req, const char *what)
{
    const char *id = rapi_request_header(req, "Lambda-Extension-Identifier");
    extension *x;
    if (!id || !*id) {
        logf_("extension %s without Lambda-Extension-Identifier; answered 403", what);
        api_reply(m, c, 403, "Extension.MissingHeader", "Missing Lambda-Extension-Identifier header");
        return NULL;
    }
    x = ext_by_id(m, id);
    if (!x) {
        logf_("extension %s with unknown identifier '%s'; answered 403", what, id);
        api_reply(m, c, 403, "Extension.UnknownExtensionIdentifier", "Unknown extension %s", id);
    }
    return x;
}

void handle_event_next(emu *m, conn *c, const rapi_request *req)
{
    extension *x = ext_of_request(m, c, req, "event/next");
    if (!x) return;
    if (x->parked && x->parked != c) x->parked->park = PARK_NONE; /* the older call is abandoned */
    x->parked = c;
    c->park = PARK_EVENT;
    if (x->holding) { /* done with that invocation */
        invocation *iv = x->holding;
        x->holding = NULL;
        if (--iv->ext_pending == 0 && iv->delivered) complete(m, iv);
    }
    if (!x->ready) {
        x->ready = 1;
        check_init(m);
    }
    ext_pump(m, x);
    dispatch(m);
}

void handle_ext_error(emu *m, conn *c, const rapi_request *req, int at_exit)
{
    const char *type = rapi_request_header(req, "Lambda-Extension-Function-Error-Type");
    extension *x = ext_of_request(m, c, req, at_exit ? "exit/error" : "init/error");
    invocation *iv;
    if (!x) return;
    if (!type || !*type) {
        logf_("extension %s posted an error without Lambda-Extension-Function-Error-Type; answered 400", x->name);
        api_reply(m, c, 400, "InvalidRequestFormat", "Missing Lambda-Extension-Function-Error-Type header");
        return;
    }
    api_reply(m, c, 202, NULL, NULL);
    logf_("extension %s reported an %s error: %s%s%.*s", x->name, at_exit ? "exit" : "init", type, req->body_len ? ": " : "",
          (int)(req->body_len > 1000 ? 1000 : req->body_len), req->body);
    if (at_exit || m->init_done || m->env == ENV_STOPPING) return;
    /* an extension init error fails init like a runtime init error */
    fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n",
            (double)(now_ns() - m->env_start_ns) / 1e6, type);
    iv = pop_failed_init(m);
    if (iv) finish_init_error(m, iv, type, req->body, req->body_len);
    begin_shutdown(m, "failure");
}
