/* emu_main.c - lambda-emu: the command line (one table of options, one loop over it) and
   main(). What the emulator does, and how its files divide the work: emu.h. */
#include "emu.h"

/* ------------------------------------------------------------------ command line */

static void usage(FILE *f)
{
    fputs("usage: lambda-emu [options] -- BOOTSTRAP [ARGS...]\n"
          "Runs BOOTSTRAP under a local AWS Lambda Runtime API (127.0.0.1) and invokes it.\n"
          "\n"
          "events (processed in order; with none and no --listen or --http, one event per line of stdin):\n"
          "  -e, --event-json JSON    an event (repeatable)\n"
          "  -f, --file FILE          an event read from FILE, '-' for all of stdin (repeatable)\n"
          "  --listen [HOST:]PORT     invoke endpoint: POST /2015-03-31/functions/function/invocations\n"
          "                           (like the AWS runtime interface emulator; host defaults to 127.0.0.1)\n"
          "  --http [HOST:]PORT       HTTP front: every HTTP request becomes a function URL event and the\n"
          "                           result its HTTP answer (status, headers, Set-Cookie, decoded base64,\n"
          "                           streamed answers as they arrive); host defaults to 127.0.0.1\n"
          "  --http-format F          the events --http builds: 2.0 (function URL, the default), 1.0\n"
          "                           (API Gateway REST API) or alb\n"
          "  --http-read-timeout SECONDS  drop (408) a client that takes longer to send a request head,\n"
          "                           or pauses that long in a body (default 5)\n"
          "function:\n"
          "  -t, --timeout SECONDS    function timeout (default 3; fractions allowed)\n"
          "  --init-timeout SECONDS   init phase limit (default 10)\n"
          "  -m, --memory MB          AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128)\n"
          "  --name NAME              AWS_LAMBDA_FUNCTION_NAME (default test_function)\n"
          "  --function-version V     AWS_LAMBDA_FUNCTION_VERSION (default $LATEST)\n"
          "  --handler H              _HANDLER (default handler)\n"
          "  --region R               AWS_REGION and AWS_DEFAULT_REGION (default us-east-1)\n"
          "  --task-root DIR          LAMBDA_TASK_ROOT (default: the bootstrap's directory)\n"
          "  --log-group G, --log-stream S\n"
          "  --env NAME=VALUE         any other variable for the function (repeatable; wins over all)\n"
          "  --tenant-id ID           Lambda-Runtime-Aws-Tenant-Id to send (default lambda-emu-tenant; '' for none)\n"
          "  --no-invocation-id       do not send Lambda-Runtime-Invocation-Id\n"
          "  --api-port PORT          Runtime API port (default: ephemeral)\n"
          "  --extension PATH         start PATH as an external extension before the runtime (repeatable);\n"
          "                           it registers under its file name\n"
          "  --concurrency N          Lambda Managed Instances: AWS_LAMBDA_MAX_CONCURRENCY=N, up to N\n"
          "                           invocations at once, timeouts reported but not enforced\n"
          "  --az ID                  the Availability Zone ID the metadata endpoint reports\n"
          "                           (AWS_LAMBDA_METADATA_API; default use1-az1)\n"
          "output:\n"
          "  -q, --quiet              no ERROR, REPORT, EXTENSION or HTTP access lines (INIT_REPORT\n"
          "                           lines and other lambda-emu: messages are still printed)\n"
          "  -v, --verbose            log every Runtime API request\n"
          "benchmark:\n"
          "  --bench N                cold start, N warm round trips, throughput, VmHWM, size\n"
          "  --event FILE             the benchmark event (default {\"name\":\"World\"})\n"
          "  --rounds R               repeat R times and print medians (default 1); each round runs every\n"
          "                           bootstrap in turn: one cold start, then N warm invocations\n"
          "  --baseline BOOTSTRAP     alternate with this bootstrap; print ratios function/baseline\n"
          "  --compare BOOTSTRAP      one more bootstrap in the same rounds (repeatable); ratios are\n"
          "                           against --baseline; one that fails is reported and dropped\n"
          "  --svg FILE               also draw the results as an SVG chart in FILE\n"
          "  --no-pin                 do not pin: by default the emulator and every bootstrap run on one\n"
          "                           CPU, the first of the emulator's affinity mask (printed as BENCH-PIN)\n"
          "exit status: 0 all invocations answered (function errors included), 1 an invocation failed\n"
          "on the platform side (timeout, crash, size), 2 usage or system error, 3 init failed.\n",
          f);
}

static int parse_seconds(const char *s, long long *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v <= 0 || v > 86400) return -1;
    *ms = (long long)(v * 1000.0 + 0.5);
    if (*ms < 1) *ms = 1;
    return 0;
}

/* What an option handler returns. */
enum {
    OPT_OK,
    OPT_BAD_VALUE, /* "bad value for OPTION: 'VALUE'", exit status 2 */
    OPT_FAILED,    /* the handler printed why: exit status 2 */
    OPT_HELP       /* the usage text on stdout, exit status 0 */
};

/* One entry of the option table. The generic handlers (opt_str, opt_int, opt_long,
   opt_seconds, opt_flag) store into the config field at offset `field`; the others do more. */
typedef struct emu_option {
    char short_name;       /* matches "-x", or 0 for none */
    const char *long_name; /* matches exactly: no "--name=value" form */
    int takes_value;       /* the value is the next argument, whatever it is */
    int (*handler)(emu *m, const struct emu_option *o, char *v);
    size_t field;          /* offsetof(config, ...), for the generic handlers */
    long lo, hi;           /* opt_int/opt_long: the accepted range; opt_flag: the value stored (lo) */
} emu_option;

#define CFG(f) offsetof(config, f)

static void *cfg_field(emu *m, const emu_option *o)
{
    return (char *)&m->cfg + o->field;
}

static int opt_str(emu *m, const emu_option *o, char *v)
{
    *(const char **)cfg_field(m, o) = v;
    return OPT_OK;
}

static int opt_int(emu *m, const emu_option *o, char *v)
{
    int n = atoi(v);
    if (n < o->lo || n > o->hi) return OPT_BAD_VALUE;
    *(int *)cfg_field(m, o) = n;
    return OPT_OK;
}

static int opt_long(emu *m, const emu_option *o, char *v)
{
    long n = atol(v);
    if (n < o->lo || n > o->hi) return OPT_BAD_VALUE;
    *(long *)cfg_field(m, o) = n;
    return OPT_OK;
}

static int opt_seconds(emu *m, const emu_option *o, char *v)
{
    return parse_seconds(v, (long long *)cfg_field(m, o)) == 0 ? OPT_OK : OPT_BAD_VALUE;
}

static int opt_flag(emu *m, const emu_option *o, char *v)
{
    (void)v;
    *(int *)cfg_field(m, o) = (int)o->lo;
    return OPT_OK;
}

static int opt_help(emu *m, const emu_option *o, char *v)
{
    (void)m, (void)o, (void)v;
    return OPT_HELP;
}

static int opt_event_json(emu *m, const emu_option *o, char *v)
{
    (void)o;
    queue_push(m, event_new(v, strlen(v)));
    return OPT_OK;
}

static int opt_file(emu *m, const emu_option *o, char *v)
{
    char *b;
    size_t n;
    (void)o;
    if (read_file(v, &b, &n, EMU_MAX_PAYLOAD) != 0) {
        fprintf(stderr, "lambda-emu: cannot read %s: %s\n", v, strerror(errno));
        return OPT_FAILED;
    }
    queue_push(m, event_new(b, n));
    free(b);
    return OPT_OK;
}

static int opt_env(emu *m, const emu_option *o, char *v)
{
    (void)o;
    if (!strchr(v, '=') || v[0] == '=') return OPT_BAD_VALUE;
    m->cfg.env[m->cfg.n_env++].kv = xstrdup(v);
    return OPT_OK;
}

static int opt_tenant_id(emu *m, const emu_option *o, char *v)
{
    if (!header_value_ok(v, strlen(v))) return OPT_BAD_VALUE;
    return opt_str(m, o, v);
}

static int opt_extension(emu *m, const emu_option *o, char *v)
{
    size_t k;
    const char *base = strrchr(v, '/');
    (void)o;
    base = base ? base + 1 : v;
    if (!*base || access(v, X_OK) != 0) {
        fprintf(stderr, "lambda-emu: --extension %s: not an executable file\n", v);
        return OPT_FAILED;
    }
    for (k = 0; k < m->cfg.n_ext_paths; k++) {
        const char *ob = strrchr(m->cfg.ext_paths[k], '/');
        if (strcmp(ob ? ob + 1 : m->cfg.ext_paths[k], base) == 0) {
            fprintf(stderr, "lambda-emu: two extensions named %s (the file name is the extension's name)\n", base);
            return OPT_FAILED;
        }
    }
    m->cfg.ext_paths[m->cfg.n_ext_paths++] = v;
    return OPT_OK;
}

static int opt_http_format(emu *m, const emu_option *o, char *v)
{
    (void)o;
    if (strcmp(v, "2.0") == 0) m->cfg.http_format = HTTP_FMT_URL;
    else if (strcmp(v, "1.0") == 0) m->cfg.http_format = HTTP_FMT_REST;
    else if (strcmp(v, "alb") == 0) m->cfg.http_format = HTTP_FMT_ALB;
    else return OPT_BAD_VALUE;
    m->cfg.http_options = 1;
    return OPT_OK;
}

static int opt_http_read_timeout(emu *m, const emu_option *o, char *v)
{
    m->cfg.http_options = 1;
    return opt_seconds(m, o, v);
}

static int opt_compare(emu *m, const emu_option *o, char *v)
{
    (void)o;
    if (!*v) return OPT_BAD_VALUE;
    m->cfg.bench_compare[m->cfg.n_bench_compare++] = v;
    return OPT_OK;
}

/* Every option, in the order of usage(). */
static const emu_option options[] = {
    {'h', "--help", 0, opt_help, 0, 0, 0},
    /* events */
    {'e', "--event-json", 1, opt_event_json, 0, 0, 0},
    {'f', "--file", 1, opt_file, 0, 0, 0},
    {0, "--listen", 1, opt_str, CFG(listen), 0, 0},
    {0, "--http", 1, opt_str, CFG(http), 0, 0},
    {0, "--http-format", 1, opt_http_format, 0, 0, 0},
    {0, "--http-read-timeout", 1, opt_http_read_timeout, CFG(http_read_ms), 0, 0},
    /* function */
    {'t', "--timeout", 1, opt_seconds, CFG(timeout_ms), 0, 0},
    {0, "--init-timeout", 1, opt_seconds, CFG(init_timeout_ms), 0, 0},
    {'m', "--memory", 1, opt_int, CFG(memory_mb), 1, 1000000},
    {0, "--name", 1, opt_str, CFG(name), 0, 0},
    {0, "--function-version", 1, opt_str, CFG(version), 0, 0},
    {0, "--handler", 1, opt_str, CFG(handler), 0, 0},
    {0, "--region", 1, opt_str, CFG(region), 0, 0},
    {0, "--task-root", 1, opt_str, CFG(task_root), 0, 0},
    {0, "--log-group", 1, opt_str, CFG(log_group), 0, 0},
    {0, "--log-stream", 1, opt_str, CFG(log_stream), 0, 0},
    {0, "--env", 1, opt_env, 0, 0, 0},
    {0, "--tenant-id", 1, opt_tenant_id, CFG(tenant_id), 0, 0},
    {0, "--no-invocation-id", 0, opt_flag, CFG(send_invocation_id), 0, 0},
    {0, "--api-port", 1, opt_int, CFG(api_port), 1, 65535},
    {0, "--extension", 1, opt_extension, 0, 0, 0},
    {0, "--concurrency", 1, opt_int, CFG(concurrency), 1, 64},
    {0, "--az", 1, opt_str, CFG(az), 0, 0},
    /* output */
    {'q', "--quiet", 0, opt_flag, CFG(quiet), 1, 0},
    {'v', "--verbose", 0, opt_flag, CFG(verbose), 1, 0},
    /* benchmark */
    {0, "--bench", 1, opt_long, CFG(bench_n), 1, 10000000},
    {0, "--event", 1, opt_str, CFG(bench_event_file), 0, 0},
    {0, "--rounds", 1, opt_int, CFG(bench_rounds), 1, 1000},
    {0, "--baseline", 1, opt_str, CFG(bench_baseline), 0, 0},
    {0, "--compare", 1, opt_compare, 0, 0, 0},
    {0, "--svg", 1, opt_str, CFG(bench_svg), 0, 0},
    {0, "--no-pin", 0, opt_flag, CFG(bench_no_pin), 1, 0},
};

static const emu_option *find_option(const char *a)
{
    size_t k;
    for (k = 0; k < sizeof options / sizeof options[0]; k++) {
        const emu_option *o = &options[k];
        if (strcmp(a, o->long_name) == 0) return o;
        if (o->short_name && a[0] == '-' && a[1] == o->short_name && a[2] == 0) return o;
    }
    return NULL;
}

/* The options before "--" (or before the first argument that is not an option: an error).
   Returns -1 with *first set to the index of BOOTSTRAP in argv, or the exit status. */
static int parse_options(emu *m, int argc, char **argv, int *first)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = NULL;
        const emu_option *o;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        o = find_option(a);
        if (!o) {
            fprintf(stderr, "lambda-emu: unknown option %s (try --help)\n", a);
            return 2;
        }
        if (o->takes_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "lambda-emu: %s needs a value\n", a);
                return 2;
            }
            v = argv[++i];
        }
        switch (o->handler(m, o, v)) {
        case OPT_OK:
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        case OPT_BAD_VALUE:
            fprintf(stderr, "lambda-emu: bad value for %s: '%s'\n", a, v);
            return 2;
        default:
            return 2;
        }
    }
    if (i >= argc) {
        fputs("lambda-emu: no bootstrap given (usage: lambda-emu [options] -- BOOTSTRAP [ARGS...])\n", stderr);
        return 2;
    }
    *first = i;
    return -1;
}

/* Everything after the command line: the listeners, then the benchmark or the event loop. */
static int serve(emu *m)
{
    int rc;
    /* the Runtime API: 127.0.0.1 only */
    if (m->cfg.api_port) {
        char spec[32];
        snprintf(spec, sizeof spec, "127.0.0.1:%d", m->cfg.api_port);
        rc = open_listener(&m->api, spec, 0);
    } else {
        rc = rapi_server_open(&m->api) == RAPI_OK ? 0 : -1;
    }
    if (rc != 0) {
        logf_("cannot listen for the Runtime API on 127.0.0.1:%d: %s", m->cfg.api_port, strerror(errno));
        return 2;
    }
    m->api.max_body = EMU_MAX_STREAM;
    setup_child_env(m);
    if (m->cfg.verbose) logf_("Runtime API on %s", getenv("AWS_LAMBDA_RUNTIME_API"));

    if (m->cfg.bench_n > 0) {
        rc = run_bench(m);
        rapi_server_close(&m->api);
        return rc;
    }

    if (m->cfg.listen) {
        if (open_listener(&m->inv, m->cfg.listen, 9000) != 0) {
            logf_("cannot listen on %s: %s", m->cfg.listen, strerror(errno));
            return 2;
        }
        m->inv.max_body = EMU_MAX_INVOKE_BODY;
        m->listening = 1;
        {
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            char host[64] = "127.0.0.1";
            if (getsockname(m->inv.listen_fd, (struct sockaddr *)&a, &al) == 0) inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
            logf_("invoke endpoint listening on http://%s:%u/2015-03-31/functions/function/invocations", host,
                  (unsigned)m->inv.port);
        }
    }
    if (m->cfg.http) {
        if (http_open(m) != 0) {
            logf_("cannot listen on %s: %s", m->cfg.http, strerror(errno));
            return 2;
        }
    }
    if (!m->q_head && !m->listening && !m->http) m->stdin_mode = 1;
    if (m->cfg.n_ext_paths) {
        size_t k;
        m->xp = (ext_proc *)xmalloc(sizeof *m->xp * m->cfg.n_ext_paths);
        memset(m->xp, 0, sizeof *m->xp * m->cfg.n_ext_paths);
        for (k = 0; k < m->cfg.n_ext_paths; k++) {
            const char *base = strrchr(m->cfg.ext_paths[k], '/');
            m->xp[k].path = m->cfg.ext_paths[k];
            m->xp[k].name = base ? base + 1 : m->xp[k].path;
        }
        m->n_xp = m->cfg.n_ext_paths;
    }
    (void)fcntl(m->api.listen_fd, F_SETFL, fcntl(m->api.listen_fd, F_GETFL) | O_NONBLOCK);

    rc = run_loop(m);
    if (got_stop_signal) logf_("stopping on signal %d", (int)got_stop_signal);
    kill_all_children(); /* normally nothing is left: the loop ends after the shutdown phase */
    ext_free_all(m);
    {
        size_t k;
        for (k = 0; k < m->n_conns; k++) conn_drop(m->conns[k]);
        conns_sweep(m);
        free(m->conns);
    }
    rapi_server_close(&m->api);
    if (m->listening) rapi_server_close(&m->inv);
    http_free(m);
    if (rc) return rc;
    if (got_stop_signal) return 128 + (int)got_stop_signal;
    return m->exit_status;
}

int main(int argc, char **argv)
{
    static emu m;
    int first = 0, rc;
    memset(&m, 0, sizeof m);
    m.cfg.timeout_ms = 3000;
    m.cfg.init_timeout_ms = 10000;
    m.cfg.send_invocation_id = 1;
    m.cfg.tenant_id = "lambda-emu-tenant";
    m.cfg.http_read_ms = EMU_HTTP_READ_MS;
    g_emu = &m;
    atexit(kill_all_children);
    m.cfg.env = (env_kv *)xmalloc(sizeof(env_kv) * (size_t)argc);
    m.cfg.ext_paths = (char **)xmalloc(sizeof(char *) * (size_t)argc);
    m.cfg.bench_compare = (char **)xmalloc(sizeof(char *) * (size_t)argc);
    setup_signals();

    rc = parse_options(&m, argc, argv, &first);
    if (rc >= 0) return rc;
    if (!m.cfg.bench_n && (m.cfg.bench_baseline || m.cfg.n_bench_compare || m.cfg.bench_svg || m.cfg.bench_no_pin)) {
        fputs("lambda-emu: --baseline, --compare, --svg and --no-pin go with --bench N\n", stderr);
        return 2;
    }
    if (m.cfg.http_options && !m.cfg.http) {
        fputs("lambda-emu: --http-format and --http-read-timeout go with --http [HOST:]PORT\n", stderr);
        return 2;
    }
    if (m.cfg.http && m.cfg.bench_n) {
        fputs("lambda-emu: --http and --bench cannot be used together\n", stderr);
        return 2;
    }
    m.cfg.argv = argv + first;
    return serve(&m);
}
