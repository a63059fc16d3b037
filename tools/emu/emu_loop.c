/* emu_loop.c - lambda-emu: the event queue, the processes it starts (runtime, extensions) and
   their environment, Runtime API connections, the execution environment (start, init, shutdown,
   exits), stdin events and the poll() loop. */
#include "emu.h"

/* ------------------------------------------------------------------ events and invocations */

void event_free(event *e)
{
    if (!e) return;
    free(e->body);
    free(e->content_type);
    free(e->trace_id);
    free(e->client_context);
    free(e->tenant_id);
    free(e);
}

event *event_new(const char *body, size_t len)
{
    event *e = (event *)xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->body = xstrndup(body, len);
    e->len = len;
    return e;
}

void queue_push(emu *m, event *e)
{
    e->next = NULL;
    if (m->q_tail) m->q_tail->next = e;
    else m->q_head = e;
    m->q_tail = e;
}

void queue_push_front(emu *m, event *e)
{
    e->next = m->q_head;
    m->q_head = e;
    if (!m->q_tail) m->q_tail = e;
}

event *queue_pop(emu *m)
{
    event *e = m->q_head;
    if (!e) return NULL;
    m->q_head = e->next;
    if (!m->q_head) m->q_tail = NULL;
    e->next = NULL;
    return e;
}

/* Lambda Managed Instances mode (--concurrency): several invocations at once, no timeout kill. */
static int lmi(const emu *m)
{
    return m->cfg.concurrency > 0;
}

int max_inflight(const emu *m)
{
    return m->cfg.concurrency > 1 ? m->cfg.concurrency : 1;
}

/* ------------------------------------------------------------------ the runtime process */

static void set_default_env(const char *name, const char *value)
{
    if (!getenv(name)) setenv(name, value, 1);
}

/* Builds the function's environment in our own (the children inherit it at exec). Values already
   in our environment win over defaults; --env and explicit options win over both. */
void setup_child_env(emu *m)
{
    config *c = &m->cfg;
    char buf[512];
    size_t i;
    snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)m->api.port);
    setenv("AWS_LAMBDA_RUNTIME_API", buf, 1);
    if (c->handler) setenv("_HANDLER", c->handler, 1); else set_default_env("_HANDLER", "handler");
    if (c->task_root) setenv("LAMBDA_TASK_ROOT", c->task_root, 1);
    else {
        char rp[PATH_MAX];
        const char *slash = strrchr(c->argv[0], '/');
        if (slash && realpath(c->argv[0], rp)) {
            char *d = strrchr(rp, '/');
            if (d && d != rp) *d = 0;
            set_default_env("LAMBDA_TASK_ROOT", rp);
        } else {
            char cwd[PATH_MAX];
            set_default_env("LAMBDA_TASK_ROOT", getcwd(cwd, sizeof cwd) ? cwd : "/var/task");
        }
    }
    set_default_env("LAMBDA_RUNTIME_DIR", getenv("LAMBDA_TASK_ROOT"));
    if (c->name) setenv("AWS_LAMBDA_FUNCTION_NAME", c->name, 1); else set_default_env("AWS_LAMBDA_FUNCTION_NAME", "test_function");
    if (c->version) setenv("AWS_LAMBDA_FUNCTION_VERSION", c->version, 1); else set_default_env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    if (c->memory_mb > 0) {
        snprintf(buf, sizeof buf, "%d", c->memory_mb);
        setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", buf, 1);
    } else {
        set_default_env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    }
    snprintf(buf, sizeof buf, "/aws/lambda/%s", getenv("AWS_LAMBDA_FUNCTION_NAME"));
    if (c->log_group) setenv("AWS_LAMBDA_LOG_GROUP_NAME", c->log_group, 1); else set_default_env("AWS_LAMBDA_LOG_GROUP_NAME", buf);
    {
        unsigned char b[16];
        char h[33];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        random_bytes(b, sizeof b);
        hex_of(h, b, sizeof b);
        snprintf(buf, sizeof buf, "%04d/%02d/%02d/[%s]%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 getenv("AWS_LAMBDA_FUNCTION_VERSION"), h);
    }
    if (c->log_stream) setenv("AWS_LAMBDA_LOG_STREAM_NAME", c->log_stream, 1); else set_default_env("AWS_LAMBDA_LOG_STREAM_NAME", buf);
    if (c->region) {
        setenv("AWS_REGION", c->region, 1);
        setenv("AWS_DEFAULT_REGION", c->region, 1);
    } else {
        set_default_env("AWS_REGION", "us-east-1");
        set_default_env("AWS_DEFAULT_REGION", getenv("AWS_REGION"));
    }
    if (c->concurrency > 0) {
        snprintf(buf, sizeof buf, "%d", c->concurrency);
        setenv("AWS_LAMBDA_MAX_CONCURRENCY", buf, 1);
        setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "lambda-managed-instances", 1);
    } else {
        set_default_env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    }
    set_default_env("TZ", ":UTC");
    tel_setup_env(m); /* the metadata endpoint (--env may override it, to test a bad token) */
    unsetenv("_X_AMZN_TRACE_ID"); /* a custom runtime sets it per invocation */
    unsetenv("AWS_EXECUTION_ENV"); /* not defined for custom runtimes */
    for (i = 0; i < c->n_env; i++) {
        char *eq = strchr(c->env[i].kv, '=');
        if (!eq) continue;
        *eq = 0;
        setenv(c->env[i].kv, eq + 1, 1);
        *eq = '=';
    }
    /* the API address is ours, whatever --env said */
    snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)m->api.port);
    setenv("AWS_LAMBDA_RUNTIME_API", buf, 1);
}

/* fork + exec the bootstrap. stdout_to, stderr_to: fds to use as the child's stdout and stderr
   (-1: keep ours). */
pid_t spawn_child(char **argv, int stdout_to, int stderr_to)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        struct sigaction sa;
        sigset_t none;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (stdout_to >= 0 && stdout_to != 1) dup2(stdout_to, 1);
        if (stderr_to >= 0 && stderr_to != 2) dup2(stderr_to, 2);
        execvp(argv[0], argv);
        fprintf(stderr, "lambda-emu: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) snprintf(out, cap, "exit status 0, without providing a reason");
    else if (WIFEXITED(status)) snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        int s = WTERMSIG(status);
        const char *n = s == SIGKILL ? "killed" : s == SIGTERM ? "terminated" : s == SIGSEGV ? "segmentation fault"
                      : s == SIGABRT ? "aborted" : NULL;
        if (n) snprintf(out, cap, "signal: %s", n);
        else snprintf(out, cap, "signal: %d", s);
    } else snprintf(out, cap, "status %d", status);
}

/* Every process we started, killed and reaped: the last resort on exit (also after errors). */
emu *g_emu;

void kill_all_children(void)
{
    emu *m = g_emu;
    size_t i;
    int status;
    if (!m) return;
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR) {
        }
        m->pid = 0;
    }
    for (i = 0; i < m->n_xp; i++) {
        if (m->xp[i].pid <= 0) continue;
        kill(m->xp[i].pid, SIGKILL);
        while (waitpid(m->xp[i].pid, &status, 0) < 0 && errno == EINTR) {
        }
        m->xp[i].pid = 0;
    }
}

/* ------------------------------------------------------------------ connections */

static void conn_add(emu *m, int fd)
{
    conn *c;
    int one = 1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (m->n_conns >= EMU_MAX_CONNS) {
        logf_("more than %d Runtime API connections; refused one", EMU_MAX_CONNS);
        close(fd);
        return;
    }
    if (m->n_conns == m->cap_conns) {
        size_t cap = m->cap_conns ? m->cap_conns * 2 : 8;
        conn **nc = (conn **)realloc(m->conns, cap * sizeof *nc);
        if (!nc) die_oom();
        m->conns = nc;
        m->cap_conns = cap;
    }
    c = (conn *)xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->rs.listen_fd = -1;
    c->rs.conn_fd = fd;
    c->rs.max_head = 1u << 20; /* Go's default MaxHeaderBytes: room for a 64 KiB X-Ray cause */
    c->rs.max_body = EMU_MAX_STREAM;
    c->id = ++m->conn_seq;
    c->rs.accepts = c->id; /* rapi_request.conn_seq */
    m->conns[m->n_conns++] = c;
}

static void accept_conns(emu *m)
{
    int k;
    for (k = 0; k < 16; k++) {
        int fd = accept(m->api.listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            break;
        }
        conn_add(m, fd);
    }
}

/* Frees closed connections (done only at the top of the loop, never while one is in use). */
void conns_sweep(emu *m)
{
    size_t i, j = 0, k;
    for (i = 0; i < m->n_conns; i++) {
        conn *c = m->conns[i];
        if (c->rs.conn_fd >= 0) {
            m->conns[j++] = c;
            continue;
        }
        for (k = 0; k < m->n_exts; k++)
            if (m->exts[k]->parked == c) m->exts[k]->parked = NULL;
        rapi_server_close(&c->rs);
        free(c);
    }
    m->n_conns = j;
}

void conn_drop(conn *c)
{
    rapi_server_close_conn(&c->rs);
    c->park = PARK_NONE;
}

void conn_peek_reset(conn *c)
{
    c->s_head_len = 0;
    c->s_iv = NULL;
    c->s_scan = 0;
    c->s_state = 0;
    c->s_chunk_left = 0;
}

void api_reply(emu *m, conn *c, int status, const char *type, const char *fmt, ...)
{
    rapi_response r;
    char msg[512], esc[1100], body[1400];
    va_list ap;
    if (c->rs.conn_fd < 0) return;
    rapi_response_init(&r, status);
    if (status == 405) r.reason = "Method Not Allowed"; /* not in rapi_status_reason */
    if (type) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        json_escape(esc, sizeof esc, msg);
        snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", esc, type);
    } else {
        snprintf(body, sizeof body, "{\"status\":\"OK\"}");
    }
    r.headers = "Content-Type: application/json\r\n";
    r.body = body;
    r.body_len = strlen(body);
    if (rapi_server_send(&c->rs, &r, EMU_SEND_TIMEOUT_MS) != RAPI_OK) {
        if (m->cfg.verbose) logf_("could not answer on connection %u (connection lost)", c->id);
        conn_drop(c);
    }
}

/* ------------------------------------------------------------------ the execution environment */

static void start_runtime(emu *m)
{
    /* the function's stdout is a log: to stderr, through a pipe (emu_tel.c copies it to our
       stderr and makes its lines telemetry records); our stdout is for responses */
    int out = tel_pipe(m, 0);
    m->spawn_ns = now_ns();
    m->pid = spawn_child(m->cfg.argv, out >= 0 ? out : 2, out);
    if (out >= 0) close(out);
    m->env = ENV_RUNNING;
    if (m->pid < 0) {
        logf_("fork: %s", strerror(errno));
        m->pid = 0;
        return;
    }
    m->state = RT_INIT;
    m->kill_at_ns = 0;
    m->term_at_ns = 0;
    m->hwm_kb = 0;
    if (m->cfg.verbose) logf_("started runtime pid %ld: %s", (long)m->pid, m->cfg.argv[0]);
}

/* Starts the external extensions, then (once they have registered) the runtime. */
static void start_environment(emu *m)
{
    size_t i;
    m->env_start_ns = now_ns();
    m->init_deadline_ns = m->env_start_ns + m->cfg.init_timeout_ms * 1000000LL;
    m->init_done = 0;
    m->cold = 1;
    m->sd_reason = NULL;
    m->sd_ext_phase = 0;
    m->env = ENV_EXT_INIT; /* a telemetry log from here on */
    tel_env_start(m);
    tel_platform(m, "platform.initStart",
                 "{\"initializationType\":\"%s\",\"phase\":\"init\",\"functionName\":\"%s\",\"functionVersion\":\"%s\"}",
                 getenv("AWS_LAMBDA_INITIALIZATION_TYPE"), getenv("AWS_LAMBDA_FUNCTION_NAME"),
                 getenv("AWS_LAMBDA_FUNCTION_VERSION"));
    for (i = 0; i < m->n_xp; i++) {
        char *argv[2];
        int out = tel_pipe(m, 1);
        argv[0] = m->xp[i].path;
        argv[1] = NULL;
        m->xp[i].registered = 0;
        m->xp[i].killed = 0;
        m->xp[i].pid = spawn_child(argv, out >= 0 ? out : 2, out);
        if (out >= 0) close(out);
        if (m->xp[i].pid < 0) {
            logf_("fork: %s", strerror(errno));
            m->xp[i].pid = 0;
        } else if (m->cfg.verbose) {
            logf_("started extension pid %ld: %s", (long)m->xp[i].pid, m->xp[i].path);
        }
    }
    if (m->n_xp == 0) start_runtime(m);
    else m->env = ENV_EXT_INIT;
}

/* ENV_EXT_INIT: the runtime starts when every external extension has registered. */
void maybe_start_runtime(emu *m)
{
    size_t i;
    if (m->env != ENV_EXT_INIT) return;
    for (i = 0; i < m->n_xp; i++)
        if (!m->xp[i].registered) return;
    start_runtime(m);
}

/* Init is complete when the runtime has called /next and every registered extension has
   asked for its first event. */
void check_init(emu *m)
{
    size_t k;
    if (m->init_done || m->env != ENV_RUNNING || m->state != RT_READY) return;
    for (k = 0; k < m->n_exts; k++)
        if (!m->exts[k]->ready) return;
    m->init_done = 1;
    m->init_ms = (double)(now_ns() - m->env_start_ns) / 1e6;
    if (m->cfg.verbose) logf_("init complete after %.2f ms", m->init_ms);
    for (k = 0; k < m->n_exts; k++) {
        extension *x = m->exts[k];
        char esc[600];
        json_escape(esc, sizeof esc, x->name);
        tel_platform(m, "platform.extension", "{\"name\":\"%s\",\"state\":\"Ready\",\"events\":[%s%s%s]}", esc,
                     (x->events & EV_INVOKE) ? "\"INVOKE\"" : "", x->events == (EV_INVOKE | EV_SHUTDOWN) ? "," : "",
                     (x->events & EV_SHUTDOWN) ? "\"SHUTDOWN\"" : "");
    }
    tel_platform(m, "platform.initRuntimeDone", "{\"initializationType\":\"%s\",\"phase\":\"init\",\"status\":\"success\"}",
                 getenv("AWS_LAMBDA_INITIALIZATION_TYPE"));
    tel_platform(m, "platform.initReport",
                 "{\"initializationType\":\"%s\",\"phase\":\"init\",\"status\":\"success\",\"metrics\":{\"durationMs\":%.3f}}",
                 getenv("AWS_LAMBDA_INITIALIZATION_TYPE"), m->init_ms);
    if (!m->cfg.quiet)
        for (k = 0; k < m->n_exts; k++) {
            extension *x = m->exts[k];
            fprintf(stderr, "EXTENSION\tName: %s\tState: Ready\tEvents: [%s%s%s]\n", x->name,
                    (x->events & EV_INVOKE) ? "INVOKE" : "", x->events == (EV_INVOKE | EV_SHUTDOWN) ? "," : "",
                    (x->events & EV_SHUTDOWN) ? "SHUTDOWN" : "");
        }
}

static void finish_shutdown(emu *m)
{
    size_t i;
    if (m->cfg.verbose) logf_("execution environment shut down (%s)", m->sd_reason ? m->sd_reason : "-");
    tel_env_end(m);
    ext_free_all(m);
    for (i = 0; i < m->n_xp; i++) m->xp[i].registered = 0;
    for (i = 0; i < m->n_conns; i++) conn_drop(m->conns[i]); /* freed by conns_sweep */
    m->env = ENV_NONE;
    m->state = RT_NONE;
    m->init_done = 0;
    m->kill_at_ns = 0;
}

/* Advances the shutdown phase: runtime first (SIGTERM, grace, SIGKILL), then the external
   extensions (SHUTDOWN, up to EMU_SHUTDOWN_MS in total, SIGKILL). */
static void shutdown_progress(emu *m)
{
    long long t = now_ns(), end = m->sd_start_ns + EMU_SHUTDOWN_MS * 1000000LL;
    size_t i, k;
    int alive = 0;
    if (m->env != ENV_STOPPING) return;
    if (m->pid > 0) {
        if (m->kill_at_ns && t >= m->kill_at_ns) {
            logf_("runtime pid %ld did not exit within %lld ms of SIGTERM; sent SIGKILL", (long)m->pid,
                  (m->kill_at_ns - m->term_at_ns) / 1000000LL);
            kill(m->pid, SIGKILL);
            m->kill_at_ns = 0;
        }
        return; /* reaped soon: SIGKILL cannot be ignored */
    }
    /* the telemetry of the environment goes out before SHUTDOWN (within the budget) */
    if (!m->sd_ext_phase && tel_flushing(m) && t < end - 300 * 1000000LL) return;
    if (!m->sd_ext_phase) {
        m->sd_ext_phase = 1;
        for (i = 0; i < m->n_xp; i++) {
            ext_proc *p = &m->xp[i];
            extension *x = NULL;
            if (p->pid <= 0) continue;
            for (k = 0; k < m->n_exts; k++)
                if (m->exts[k]->external && strcmp(m->exts[k]->name, p->name) == 0) x = m->exts[k];
            if (x && (x->events & EV_SHUTDOWN)) {
                x->nq = 0;
                x->holding = NULL;
                x->shutdown_pending = 1;
                ext_pump(m, x);
            } else { /* no SHUTDOWN event can come for it: nothing to wait for */
                if (m->cfg.verbose) logf_("extension %s is not registered for SHUTDOWN; sent SIGKILL", p->name);
                kill(p->pid, SIGKILL);
                p->killed = 1;
            }
        }
    }
    for (i = 0; i < m->n_xp; i++) {
        if (m->xp[i].pid <= 0) continue;
        alive = 1;
        if (t >= end && !m->xp[i].killed) {
            logf_("extension %s did not exit within %d ms of the shutdown; sent SIGKILL", m->xp[i].name, EMU_SHUTDOWN_MS);
            kill(m->xp[i].pid, SIGKILL);
            m->xp[i].killed = 1;
        }
    }
    if (!alive) finish_shutdown(m);
}

/* Resets the execution environment (Lambda's shutdown phase). Invocations still waiting for
   the runtime fail; those only waiting for extensions are reported as they are. With at least
   one registered extension the runtime gets SIGTERM and a grace period (300 ms, 500 ms with
   an internal extension), else SIGKILL at once. */
void begin_shutdown(emu *m, const char *reason)
{
    long long t = now_ns();
    size_t k;
    int internal = 0;
    if (m->env == ENV_NONE || m->env == ENV_STOPPING) return;
    while (m->inflight) {
        invocation *iv = m->inflight;
        iv_detach_exts(m, iv);
        if (iv->delivered) complete(m, iv);
        else finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: the execution environment was reset (%s)",
                          iv->request_id, reason);
    }
    m->env = ENV_STOPPING;
    m->sd_reason = reason;
    m->sd_start_ns = t;
    m->sd_deadline_wall_ms = wall_ms() + EMU_SHUTDOWN_MS;
    m->sd_ext_phase = 0;
    m->init_done = 0;
    for (k = 0; k < m->n_exts; k++)
        if (!m->exts[k]->external) internal = 1;
    if (m->pid > 0 && m->state != RT_DYING) {
        if (m->n_exts > 0) {
            int grace = internal ? EMU_KILL_GRACE_INTERNAL_MS : EMU_KILL_GRACE_MS;
            if (m->cfg.verbose) logf_("shutdown (%s): SIGTERM to runtime pid %ld, SIGKILL in %d ms", reason, (long)m->pid, grace);
            kill(m->pid, SIGTERM);
            m->term_at_ns = t;
            m->kill_at_ns = t + grace * 1000000LL;
        } else {
            if (m->cfg.verbose) logf_("shutdown (%s): SIGKILL to runtime pid %ld (no extension registered)", reason, (long)m->pid);
            kill(m->pid, SIGKILL);
            m->term_at_ns = 0;
            m->kill_at_ns = 0;
        }
        m->state = RT_DYING;
    }
    shutdown_progress(m);
}

/* The runtime process is gone: fail whatever it owed, reset the environment. */
static void runtime_exited(emu *m, int status)
{
    char how[64];
    enum rt_state st = m->state;
    invocation *iv, *nx;
    int failed = 0;
    describe_status(status, how, sizeof how);
    m->pid = 0;
    m->state = RT_NONE;
    if (m->env == ENV_STOPPING || st == RT_DYING) {
        if (m->cfg.verbose) {
            if (m->term_at_ns)
                logf_("runtime exited (%s) %.1f ms after SIGTERM", how, (double)(now_ns() - m->term_at_ns) / 1e6);
            else
                logf_("runtime stopped (%s)", how);
        }
        shutdown_progress(m);
        return;
    }
    if (st == RT_INIT_FAILED) { /* the init error was delivered when it was posted */
        begin_shutdown(m, "failure");
        return;
    }
    for (iv = m->inflight; iv; iv = nx) {
        nx = iv->next;
        if (iv->delivered) continue;
        logf_("runtime exited during invocation %s (%s); it will be restarted", iv->request_id, how);
        failed = 1;
        finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                     iv->request_id, how);
        nx = m->inflight; /* finish may have freed others: start over (delivered ones are skipped) */
    }
    if (!failed && !m->init_done) {
        /* exited before init completed without an init error: the first event fails */
        logf_("runtime exited during init (%s)", how);
        iv = pop_failed_init(m);
        if (iv)
            finish_error(m, iv, "Runtime.ExitError", "error", 1, "RequestId: %s Error: Runtime exited with error: %s",
                         iv->request_id, how);
    } else if (!failed) {
        logf_("runtime exited while idle (%s); it will be restarted for the next event", how);
    }
    begin_shutdown(m, "failure");
}

/* An external extension process exited. Outside the shutdown phase that resets the
   environment, as on Lambda. */
static void xp_exited(emu *m, ext_proc *p, int status)
{
    char how[64];
    invocation *iv, *nx;
    describe_status(status, how, sizeof how);
    p->pid = 0;
    if (m->env == ENV_STOPPING || m->env == ENV_NONE) {
        if (m->cfg.verbose) logf_("extension %s exited (%s)", p->name, how);
        shutdown_progress(m);
        return;
    }
    logf_("extension %s exited (%s); resetting the execution environment", p->name, how);
    if (!m->init_done) {
        iv = pop_failed_init(m);
        fprintf(stderr, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: Extension.Crash\n",
                (double)(now_ns() - m->env_start_ns) / 1e6);
        if (iv)
            finish_error(m, iv, "Extension.Crash", "error", 1, "RequestId: %s Error: extension %s exited during init: %s",
                         iv->request_id, p->name, how);
    } else {
        for (iv = m->inflight; iv; iv = nx) {
            nx = iv->next;
            if (iv->delivered) continue;
            finish_error(m, iv, "Extension.Crash", "error", 1, "RequestId: %s Error: extension %s exited: %s",
                         iv->request_id, p->name, how);
            nx = m->inflight;
        }
    }
    begin_shutdown(m, "failure");
}

static void reap(emu *m)
{
    for (;;) {
        int status;
        size_t i;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p < 0 && errno == EINTR) continue;
        if (p <= 0) break;
        if (p == m->pid) {
            runtime_exited(m, status);
            continue;
        }
        for (i = 0; i < m->n_xp; i++)
            if (m->xp[i].pid == p) {
                xp_exited(m, &m->xp[i], status);
                break;
            }
    }
    shutdown_progress(m);
}

/* ------------------------------------------------------------------ stdin events */

static void service_stdin(emu *m)
{
    ssize_t r;
    size_t i, start = 0;
    if (m->in_cap - m->in_len < 65536) {
        size_t cap = m->in_cap ? m->in_cap * 2 : 131072;
        char *nb = (char *)realloc(m->in_buf, cap);
        if (!nb) die_oom();
        m->in_buf = nb;
        m->in_cap = cap;
    }
    do {
        r = read(0, m->in_buf + m->in_len, m->in_cap - m->in_len);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        m->stdin_eof = 1;
        if (m->in_len > 0 && !m->stdin_skip) queue_push(m, event_new(m->in_buf, m->in_len));
        m->in_len = 0;
        return;
    }
    m->in_len += (size_t)r;
    for (i = 0; i < m->in_len; i++) {
        if (m->in_buf[i] != '\n') continue;
        {
            size_t n = i - start;
            if (n > 0 && m->in_buf[start + n - 1] == '\r') n--;
            if (m->stdin_skip) m->stdin_skip = 0;
            else if (n > 0) queue_push(m, event_new(m->in_buf + start, n));
        }
        start = i + 1;
    }
    memmove(m->in_buf, m->in_buf + start, m->in_len - start);
    m->in_len -= start;
    if (m->in_len > EMU_MAX_PAYLOAD + 1) {
        logf_("stdin: line longer than %u bytes skipped (RequestEntityTooLarge)", EMU_MAX_PAYLOAD);
        m->stdin_skip = 1;
        m->in_len = 0;
    }
}

/* ------------------------------------------------------------------ the event loop */

static int done(const emu *m)
{
    if (m->listening || m->http) return 0;
    if (m->q_head || m->inflight) return 0;
    if (m->stdin_mode && !m->stdin_eof) return 0;
    return 1;
}

/* Invocation deadlines. On demand: a timeout fails the invocation and resets the environment.
   --concurrency (Lambda Managed Instances): reported, not enforced. */
static void check_deadlines(emu *m, long long t)
{
    invocation *iv;
    double secs = (double)m->cfg.timeout_ms / 1000.0;
    for (iv = m->inflight; iv; iv = iv->next) {
        if (!iv->deadline_ns || t < iv->deadline_ns) continue;
        if (lmi(m)) {
            if (!iv->delivered) {
                if (!iv->late_logged)
                    logf_("invocation %s passed its deadline (%.2f s); with --concurrency timeouts are reported, not enforced",
                          iv->request_id, secs);
                iv->late_logged = 1;
                continue;
            }
            logf_("extensions did not finish invocation %s within %.2f seconds", iv->request_id, secs);
            iv->r_status = "timeout";
            iv_detach_exts(m, iv);
            complete(m, iv);
            return; /* the list changed: look again next time */
        }
        if (m->pid > 0) {
            long h = proc_hwm_kb(m->pid);
            if (h > 0) m->hwm_kb = h;
        }
        iv_detach_exts(m, iv); /* a timeout ends the invocation, whatever the extensions do */
        if (!iv->delivered) {
            logf_("invocation %s timed out after %.2f seconds; restarting the runtime", iv->request_id, secs);
            finish_error(m, iv, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Task timed out after %.2f seconds",
                         iv->request_id, secs);
        } else {
            logf_("extensions did not finish invocation %s within %.2f seconds; resetting the environment", iv->request_id,
                  secs);
            iv->r_status = "timeout";
            if (m->exit_status == 0) m->exit_status = 1;
            complete(m, iv);
        }
        begin_shutdown(m, "timeout");
        return;
    }
}

/* Timers: invocation deadlines, the init limit, kill escalation, the shutdown phase, a stalled
   invoke caller, the HTTP front's stalled and idle clients. */
static void tick(emu *m)
{
    long long t = now_ns();
    check_deadlines(m, t);
    tel_tick(m, t);
    if ((m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && !m->init_done && m->state != RT_INIT_FAILED)) &&
        t >= m->init_deadline_ns) {
        invocation *iv;
        if (m->env == ENV_EXT_INIT) logf_("extensions did not register within %.2f s (init timeout)", (double)m->cfg.init_timeout_ms / 1000.0);
        else if (m->state == RT_INIT)
            logf_("runtime did not call /next within %.2f s (init timeout)", (double)m->cfg.init_timeout_ms / 1000.0);
        else
            logf_("extensions did not ask for their first event within %.2f s (init timeout)",
                  (double)m->cfg.init_timeout_ms / 1000.0);
        iv = pop_failed_init(m);
        if (iv)
            finish_error(m, iv, "Sandbox.Timedout", "timeout", 1, "RequestId: %s Error: Init phase timed out after %.2f seconds",
                         iv->request_id, (double)m->cfg.init_timeout_ms / 1000.0);
        begin_shutdown(m, "timeout");
    }
    if (m->env == ENV_RUNNING && m->state == RT_INIT_FAILED && m->pid > 0 && m->kill_at_ns && t >= m->kill_at_ns) {
        logf_("stopping runtime pid %ld: it did not exit after /init/error", (long)m->pid);
        begin_shutdown(m, "failure");
    }
    shutdown_progress(m);
    http_tick(m, t);
    if (m->inv_partial_since && t - m->inv_partial_since > EMU_CALLER_IDLE_MS * 1000000LL) {
        logf_("invoke endpoint: caller stalled mid-request; connection closed");
        rapi_server_close_conn(&m->inv);
        m->inv_partial_since = 0;
    }
}

static int poll_timeout_ms(const emu *m)
{
    long long t = now_ns(), next = t + 1000LL * 1000000LL; /* wake at least once a second */
    const invocation *iv;
    for (iv = m->inflight; iv; iv = iv->next)
        if (iv->deadline_ns && !iv->late_logged && iv->deadline_ns < next) next = iv->deadline_ns;
    if ((m->env == ENV_EXT_INIT || (m->env == ENV_RUNNING && !m->init_done)) && m->init_deadline_ns < next)
        next = m->init_deadline_ns;
    if (m->kill_at_ns && m->kill_at_ns < next) next = m->kill_at_ns;
    {
        long long h = http_next_deadline(m);
        if (h && h < next) next = h;
        h = tel_next_deadline(m);
        if (h && h < next) next = h;
    }
    if (m->env == ENV_STOPPING) {
        long long end = m->sd_start_ns + EMU_SHUTDOWN_MS * 1000000LL;
        if (end < next) next = end;
    }
    if (next <= t) return 0;
    return (int)((next - t + 999999) / 1000000);
}

/* Stop signal: forget what is in flight (its callers get nothing), then shut down. */
static void drop_everything(emu *m)
{
    event *e;
    while (m->inflight) iv_free(m, m->inflight, 0);
    while ((e = queue_pop(m)) != NULL) event_free(e);
    if (m->listening) rapi_server_close_conn(&m->inv);
    http_drop_all(m);
    m->caller_busy = 0;
}

int run_loop(emu *m)
{
    struct pollfd *p = NULL;
    conn **pc = NULL;
    size_t cap = 0;
    int stopping = 0, rc = 0;
    for (;;) {
        int np = 0, i_sig, i_al = -1, i_il = -1, i_ic = -1, i_in = -1, i_http = -1, n, first_conn, end_conn;
        size_t i, n_http = 0, n_tel = 0;
        int i_tel = -1;
        tel_drain_outputs(m); /* what the children wrote comes before what their exits cause */
        reap(m);
        if (got_stop_signal && !stopping) {
            stopping = 1;
            drop_everything(m);
        }
        tick(m);
        conns_sweep(m);
        if (stopping || done(m)) {
            if (m->env == ENV_RUNNING || m->env == ENV_EXT_INIT) begin_shutdown(m, "spindown");
            if (m->env == ENV_NONE) break;
        } else {
            if (m->q_head && m->env == ENV_NONE && !m->inflight) start_environment(m);
            dispatch(m);
        }

        if (cap < m->n_conns + http_nfds(m) + tel_nfds(m) + 8) {
            cap = m->n_conns + http_nfds(m) + tel_nfds(m) + 16;
            p = (struct pollfd *)realloc(p, cap * sizeof *p);
            pc = (conn **)realloc(pc, cap * sizeof *pc);
            if (!p || !pc) die_oom();
        }
        i_sig = np;
        p[np].fd = sig_pipe[0];
        p[np++].events = POLLIN;
        i_al = np;
        p[np].fd = m->api.listen_fd;
        p[np++].events = POLLIN;
        first_conn = np;
        for (i = 0; i < m->n_conns; i++) {
            if (m->conns[i]->rs.conn_fd < 0) continue;
            pc[np] = m->conns[i];
            p[np].fd = m->conns[i]->rs.conn_fd;
            p[np++].events = POLLIN;
        }
        end_conn = np;
        if (m->listening && !m->caller_busy && !stopping) {
            if (m->inv.conn_fd < 0 || m->inv.in_len == 0) {
                i_il = np;
                p[np].fd = m->inv.listen_fd;
                p[np++].events = POLLIN;
            }
            if (m->inv.conn_fd >= 0) {
                i_ic = np;
                p[np].fd = m->inv.conn_fd;
                p[np++].events = POLLIN;
            }
        }
        if (m->http && !stopping) {
            i_http = np;
            n_http = http_pollfds(m, p + np, cap - (size_t)np - 1);
            np += (int)n_http;
        }
        i_tel = np;
        n_tel = tel_pollfds(m, p + np, cap - (size_t)np - 1);
        np += (int)n_tel;
        if (m->stdin_mode && !m->stdin_eof && !m->q_head && !stopping && (lmi(m) || !m->inflight)) {
            i_in = np;
            p[np].fd = 0;
            p[np++].events = POLLIN;
        }
        for (n = 0; n < np; n++) p[n].revents = 0;
        n = poll(p, (nfds_t)np, poll_timeout_ms(m));
        if (n < 0) {
            if (errno == EINTR) continue;
            logf_("poll: %s", strerror(errno));
            rc = 2;
            break;
        }
        if (p[i_sig].revents) drain_sig_pipe();
        if (n_tel) tel_service(m, p + i_tel, n_tel); /* the children's output first */
        for (n = first_conn; n < end_conn; n++)
            if (p[n].revents) service_conn(m, pc[n]);
        if (p[i_al].revents) accept_conns(m);
        if ((i_il >= 0 && p[i_il].revents) || (i_ic >= 0 && p[i_ic].revents)) service_invoke(m);
        if (i_in >= 0 && p[i_in].revents) service_stdin(m);
        if (n_http) http_service(m, p + i_http, n_http);
    }
    free(p);
    free(pc);
    return rc;
}
