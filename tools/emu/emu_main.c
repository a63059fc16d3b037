/* emu_main.c - lambda-emu: the command line and main(). What the emulator does, and how its
   files divide the work: emu.h. */
#include "emu.h"

/* ------------------------------------------------------------------ command line */

static void usage(FILE *f)
{
    fputs("usage: lambda-emu [options] -- BOOTSTRAP [ARGS...]\n"
          "Runs BOOTSTRAP under a local AWS Lambda Runtime API (127.0.0.1) and invokes it.\n"
          "\n"
          "events (processed in order; with none and no --listen, one event per line of stdin):\n"
          "  -e, --event-json JSON    an event (repeatable)\n"
          "  -f, --file FILE          an event read from FILE, '-' for all of stdin (repeatable)\n"
          "  --listen [HOST:]PORT     invoke endpoint: POST /2015-03-31/functions/function/invocations\n"
          "                           (like the AWS runtime interface emulator; host defaults to 127.0.0.1)\n"
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
          "output:\n"
          "  -q, --quiet              no REPORT lines\n"
          "  -v, --verbose            log every Runtime API request\n"
          "benchmark:\n"
          "  --bench N                cold start, N warm round trips, throughput, VmHWM, size\n"
          "  --event FILE             the benchmark event (default {\"name\":\"World\"})\n"
          "  --rounds R               repeat R times and print medians (default 1)\n"
          "  --baseline BOOTSTRAP     alternate with this bootstrap; print ratios function/baseline\n"
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

int main(int argc, char **argv)
{
    static emu m;
    int i, rc;
    memset(&m, 0, sizeof m);
    m.cfg.timeout_ms = 3000;
    m.cfg.init_timeout_ms = 10000;
    m.cfg.send_invocation_id = 1;
    m.cfg.tenant_id = "lambda-emu-tenant";
    g_emu = &m;
    atexit(kill_all_children);
    m.cfg.env = (env_kv *)xmalloc(sizeof(env_kv) * (size_t)argc);
    m.cfg.ext_paths = (char **)xmalloc(sizeof(char *) * (size_t)argc);
    setup_signals();

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_ARG                                           \
    do {                                                    \
        if (!v) {                                           \
            fprintf(stderr, "lambda-emu: %s needs a value\n", a); \
            return 2;                                       \
        }                                                   \
        i++;                                                \
    } while (0)
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--event-json") == 0) {
            NEEDS_ARG;
            queue_push(&m, event_new(v, strlen(v)));
        } else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) {
            char *b;
            size_t n;
            NEEDS_ARG;
            if (read_file(v, &b, &n, EMU_MAX_PAYLOAD) != 0) {
                fprintf(stderr, "lambda-emu: cannot read %s: %s\n", v, strerror(errno));
                return 2;
            }
            queue_push(&m, event_new(b, n));
            free(b);
        } else if (strcmp(a, "--listen") == 0) {
            NEEDS_ARG;
            m.cfg.listen = v;
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0) {
            NEEDS_ARG;
            if (parse_seconds(v, &m.cfg.timeout_ms) != 0) goto bad_value;
        } else if (strcmp(a, "--init-timeout") == 0) {
            NEEDS_ARG;
            if (parse_seconds(v, &m.cfg.init_timeout_ms) != 0) goto bad_value;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--memory") == 0) {
            NEEDS_ARG;
            m.cfg.memory_mb = atoi(v);
            if (m.cfg.memory_mb < 1 || m.cfg.memory_mb > 1000000) goto bad_value;
        } else if (strcmp(a, "--name") == 0) {
            NEEDS_ARG;
            m.cfg.name = v;
        } else if (strcmp(a, "--function-version") == 0) {
            NEEDS_ARG;
            m.cfg.version = v;
        } else if (strcmp(a, "--handler") == 0) {
            NEEDS_ARG;
            m.cfg.handler = v;
        } else if (strcmp(a, "--region") == 0) {
            NEEDS_ARG;
            m.cfg.region = v;
        } else if (strcmp(a, "--task-root") == 0) {
            NEEDS_ARG;
            m.cfg.task_root = v;
        } else if (strcmp(a, "--log-group") == 0) {
            NEEDS_ARG;
            m.cfg.log_group = v;
        } else if (strcmp(a, "--log-stream") == 0) {
            NEEDS_ARG;
            m.cfg.log_stream = v;
        } else if (strcmp(a, "--env") == 0) {
            NEEDS_ARG;
            if (!strchr(v, '=') || v[0] == '=') goto bad_value;
            m.cfg.env[m.cfg.n_env++].kv = xstrdup(v);
        } else if (strcmp(a, "--tenant-id") == 0) {
            NEEDS_ARG;
            if (!header_value_ok(v, strlen(v))) goto bad_value;
            m.cfg.tenant_id = v;
        } else if (strcmp(a, "--no-invocation-id") == 0) {
            m.cfg.send_invocation_id = 0;
        } else if (strcmp(a, "--api-port") == 0) {
            NEEDS_ARG;
            m.cfg.api_port = atoi(v);
            if (m.cfg.api_port < 1 || m.cfg.api_port > 65535) goto bad_value;
        } else if (strcmp(a, "--extension") == 0) {
            size_t k;
            const char *base = strrchr(v ? v : "", '/');
            NEEDS_ARG;
            base = base ? base + 1 : v;
            if (!*base || access(v, X_OK) != 0) {
                fprintf(stderr, "lambda-emu: --extension %s: not an executable file\n", v);
                return 2;
            }
            for (k = 0; k < m.cfg.n_ext_paths; k++) {
                const char *ob = strrchr(m.cfg.ext_paths[k], '/');
                if (strcmp(ob ? ob + 1 : m.cfg.ext_paths[k], base) == 0) {
                    fprintf(stderr, "lambda-emu: two extensions named %s (the file name is the extension's name)\n", base);
                    return 2;
                }
            }
            m.cfg.ext_paths[m.cfg.n_ext_paths++] = argv[i];
        } else if (strcmp(a, "--concurrency") == 0) {
            NEEDS_ARG;
            m.cfg.concurrency = atoi(v);
            if (m.cfg.concurrency < 1 || m.cfg.concurrency > 64) goto bad_value;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            m.cfg.quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            m.cfg.verbose = 1;
        } else if (strcmp(a, "--bench") == 0) {
            NEEDS_ARG;
            m.cfg.bench_n = atol(v);
            if (m.cfg.bench_n < 1 || m.cfg.bench_n > 10000000) goto bad_value;
        } else if (strcmp(a, "--event") == 0) {
            NEEDS_ARG;
            m.cfg.bench_event_file = v;
        } else if (strcmp(a, "--rounds") == 0) {
            NEEDS_ARG;
            m.cfg.bench_rounds = atoi(v);
            if (m.cfg.bench_rounds < 1 || m.cfg.bench_rounds > 1000) goto bad_value;
        } else if (strcmp(a, "--baseline") == 0) {
            NEEDS_ARG;
            m.cfg.bench_baseline = v;
        } else {
            fprintf(stderr, "lambda-emu: unknown option %s (try --help)\n", a);
            return 2;
        }
        continue;
    bad_value:
        fprintf(stderr, "lambda-emu: bad value for %s: '%s'\n", a, v);
        return 2;
#undef NEEDS_ARG
    }
    if (i >= argc) {
        fputs("lambda-emu: no bootstrap given (usage: lambda-emu [options] -- BOOTSTRAP [ARGS...])\n", stderr);
        return 2;
    }
    m.cfg.argv = argv + i;

    /* the Runtime API: 127.0.0.1 only */
    if (m.cfg.api_port) {
        char spec[32];
        snprintf(spec, sizeof spec, "127.0.0.1:%d", m.cfg.api_port);
        rc = open_listener(&m.api, spec, 0);
    } else {
        rc = rapi_server_open(&m.api) == RAPI_OK ? 0 : -1;
    }
    if (rc != 0) {
        logf_("cannot listen for the Runtime API on 127.0.0.1:%d: %s", m.cfg.api_port, strerror(errno));
        return 2;
    }
    m.api.max_body = EMU_MAX_STREAM;
    setup_child_env(&m);
    if (m.cfg.verbose) logf_("Runtime API on %s", getenv("AWS_LAMBDA_RUNTIME_API"));

    if (m.cfg.bench_n > 0) {
        rc = run_bench(&m);
        rapi_server_close(&m.api);
        return rc;
    }

    if (m.cfg.listen) {
        if (open_listener(&m.inv, m.cfg.listen, 9000) != 0) {
            logf_("cannot listen on %s: %s", m.cfg.listen, strerror(errno));
            return 2;
        }
        m.inv.max_body = EMU_MAX_INVOKE_BODY;
        m.listening = 1;
        {
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            char host[64] = "127.0.0.1";
            if (getsockname(m.inv.listen_fd, (struct sockaddr *)&a, &al) == 0) inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
            logf_("invoke endpoint listening on http://%s:%u/2015-03-31/functions/function/invocations", host,
                  (unsigned)m.inv.port);
        }
    }
    if (!m.q_head && !m.listening) m.stdin_mode = 1;
    if (m.cfg.n_ext_paths) {
        size_t k;
        m.xp = (ext_proc *)xmalloc(sizeof *m.xp * m.cfg.n_ext_paths);
        memset(m.xp, 0, sizeof *m.xp * m.cfg.n_ext_paths);
        for (k = 0; k < m.cfg.n_ext_paths; k++) {
            const char *base = strrchr(m.cfg.ext_paths[k], '/');
            m.xp[k].path = m.cfg.ext_paths[k];
            m.xp[k].name = base ? base + 1 : m.xp[k].path;
        }
        m.n_xp = m.cfg.n_ext_paths;
    }
    (void)fcntl(m.api.listen_fd, F_SETFL, fcntl(m.api.listen_fd, F_GETFL) | O_NONBLOCK);

    rc = run_loop(&m);
    if (got_stop_signal) logf_("stopping on signal %d", (int)got_stop_signal);
    kill_all_children(); /* normally nothing is left: the loop ends after the shutdown phase */
    ext_free_all(&m);
    {
        size_t k;
        for (k = 0; k < m.n_conns; k++) conn_drop(m.conns[k]);
        conns_sweep(&m);
        free(m.conns);
    }
    rapi_server_close(&m.api);
    if (m.listening) rapi_server_close(&m.inv);
    if (rc) return rc;
    if (got_stop_signal) return 128 + (int)got_stop_signal;
    return m.exit_status;
}

