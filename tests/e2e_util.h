/* tests/e2e_util.h - helpers shared by the end-to-end test programs (test_e2e.c, test_faults.c,
   test_features.c): clocks, string and memory comparisons, printable diagnostics, starting a
   bootstrap with a clean environment (AWS_LAMBDA_RUNTIME_API for the fake server) and its output
   in files, waiting for / killing / reaping it with bounded waits, reading the captured output
   back and walking it line by line. No checks here: every assertion stays in the test programs.

   Header-only: static inline functions (no unused-function warnings), C99 + POSIX.1-2008.
   show() prints at most E2E_SHOW_MAX bytes (default 200); with E2E_SHOW_CTL 1 it writes
   \n \r \t as such instead of \xHH. Define either before including this header to change it. */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include "../tools/rapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef E2E_SHOW_MAX
#define E2E_SHOW_MAX 200
#endif
#ifndef E2E_SHOW_CTL
#define E2E_SHOW_CTL 0
#endif

#define E2E_ENV_MAX 64 /* slots of a child's environment array (the last one for NULL) */

/* ------------------------------------------------------------------------------------------ */
/* time                                                                                        */

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------------------------------ */
/* strings, memory, diagnostics                                                                */

static inline int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* p[0..n) is exactly want[0..wl) (p NULL: no) */
static inline int mem_eq(const char *p, size_t n, const char *want, size_t wl)
{
    return p && n == wl && memcmp(p, want, n) == 0;
}

/* the first occurrence of needle[0..nl) in hay[0..n), NULL if none (an empty needle: hay) */
static inline const char *find_mem(const char *hay, size_t n, const char *needle, size_t nl)
{
    size_t i;
    if (nl == 0) return hay;
    for (i = 0; i + nl <= n; i++)
        if (memcmp(hay + i, needle, nl) == 0) return hay + i;
    return NULL;
}

/* p[0..n) begins with `prefix` */
static inline int starts_with(const char *p, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    return n >= pl && memcmp(p, prefix, pl) == 0;
}

/* printable rendering of up to E2E_SHOW_MAX bytes, for diagnostics */
static inline void show(const char *label, const char *p, size_t n)
{
    size_t i;
    printf("    %s (%lu bytes): \"", label, (unsigned long)n);
    for (i = 0; p && i < n && i < (size_t)E2E_SHOW_MAX; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\' || c == '"') printf("\\%c", c);
        else if (E2E_SHOW_CTL && c == '\n') printf("\\n");
        else if (E2E_SHOW_CTL && c == '\r') printf("\\r");
        else if (E2E_SHOW_CTL && c == '\t') printf("\\t");
        else if (c >= 0x20 && c < 0x7f) putchar(c);
        else printf("\\x%02x", c);
    }
    printf("%s\"\n", n > (size_t)E2E_SHOW_MAX ? "..." : "");
}

/* mem_eq, and if not, both sides shown (`what` labels the first) */
static inline int mem_is(const char *p, size_t n, const char *want, size_t wl, const char *what)
{
    if (mem_eq(p, n, want, wl)) return 1;
    show(what, p, n);
    show("want", want, wl);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* lines of captured output                                                                    */

/* The line at *pos (below end, without its '\n'; empty lines too) with its length in *len, and
   *pos moved past it; NULL when there is none left. */
static inline const char *next_line(const char **pos, const char *end, size_t *len)
{
    const char *p = *pos, *nl;
    if (!p || p >= end) return NULL;
    nl = (const char *)memchr(p, '\n', (size_t)(end - p));
    *len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    *pos = nl ? nl + 1 : end;
    return p;
}

/* non-empty lines of buf[0..n) that contain needle (NULL: every non-empty line) */
static inline size_t count_lines_in(const char *buf, size_t n, const char *needle)
{
    const char *pos = buf, *end = buf ? buf + n : NULL, *l;
    size_t ll, count = 0, nn = needle ? strlen(needle) : 0;
    while ((l = next_line(&pos, end, &ll)) != NULL)
        if (ll > 0 && (needle == NULL || find_mem(l, ll, needle, nn) != NULL)) count++;
    return count;
}

/* every non-empty line of buf[0..n) starts with prefix */
static inline int lines_prefixed(const char *buf, size_t n, const char *prefix)
{
    const char *pos = buf, *end = buf ? buf + n : NULL, *l;
    size_t ll;
    while ((l = next_line(&pos, end, &ll)) != NULL)
        if (ll > 0 && !starts_with(l, ll, prefix)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* files                                                                                       */

static inline int is_exec(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* The whole file, NUL-terminated, its length in *len. A file that cannot be opened: an empty
   string if or_empty, else NULL. */
static inline char *read_file(const char *path, size_t *len, int or_empty)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long sz;
    *len = 0;
    if (!f) return or_empty ? (char *)calloc(1, 1) : NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (char *)calloc((size_t)(sz > 0 ? sz : 0) + 1, 1);
    if (b && sz > 0) *len = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static inline char *slurp(const char *path, size_t *len)
{
    return read_file(path, len, 1);
}

/* A captured output file of a finished child: its content (read_file), then it is removed.
   path "": nothing captured (NULL). */
static inline char *take_file(const char *path, size_t *len, int or_empty)
{
    char *b;
    if (!path[0]) return NULL;
    b = read_file(path, len, or_empty);
    unlink(path);
    return b;
}

/* ------------------------------------------------------------------------------------------ */
/* the child process                                                                           */

/* In a forked child: close every descriptor from `first` on (bounded). */
static inline void close_fds_from(int first)
{
    int fd;
    for (fd = first; fd < 1024; fd++) close(fd);
}

/* A clean environment for a bootstrap in envp[E2E_ENV_MAX]: "AWS_LAMBDA_RUNTIME_API=
   127.0.0.1:<port>" (written to api[64]; api NULL: left out), then the NULL-terminated "K=V"
   lists `fixed` (the program's sanitizer options) and `env` (the scenario's); NULL-terminated. */
static inline void child_env(const char **envp, char *api, unsigned port, const char *const *fixed,
                             const char *const *env)
{
    size_t n = 0;
    if (api) {
        snprintf(api, 64, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", port);
        envp[n++] = api;
    }
    while (fixed && *fixed && n < E2E_ENV_MAX - 2) envp[n++] = *fixed++;
    while (env && *env && n < E2E_ENV_MAX - 2) envp[n++] = *env++;
    envp[n] = NULL;
}

/* fork + execve(path, argv (NULL: { path }), envp): stdin /dev/null, stdout out_fd (-1: /dev/null
   as well), stderr err_fd; close_from > 0: the child closes every descriptor from there on before
   the exec. stdout is flushed first. Returns the child's pid, -1 if fork failed; the caller
   closes out_fd and err_fd. */
static inline pid_t spawn_child(const char *path, const char *const *argv, const char *const *envp, int out_fd,
                                int err_fd, int close_from)
{
    const char *av[2];
    pid_t pid;
    if (!argv) {
        av[0] = path;
        av[1] = NULL;
        argv = av;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", out_fd < 0 ? O_RDWR : O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            if (out_fd < 0) dup2(nul, 1);
        }
        if (out_fd >= 0) dup2(out_fd, 1);
        dup2(err_fd, 2);
        if (close_from > 0) close_fds_from(close_from);
        execve(path, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    return pid;
}

/* Waits up to timeout_ms for the child to exit. 1 if it did (*reaped set, status in *status);
   at once if it was already reaped. */
static inline int wait_child(pid_t pid, int *reaped, int *status, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    if (*reaped) return 1;
    if (pid <= 0) return 0;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            *reaped = 1;
            return 1;
        }
        if (now_ms() >= deadline) return 0;
        sleep_ms(2);
    }
}

/* SIGKILL for a child still running, then reap it (up to timeout_ms). 1 if it was killed. */
static inline int kill_child(pid_t pid, int *reaped, int *status, int timeout_ms)
{
    if (pid <= 0 || *reaped) return 0;
    kill(pid, SIGKILL);
    wait_child(pid, reaped, status, timeout_ms);
    return 1;
}

static inline int child_exited_with(int reaped, int status, int code)
{
    return reaped && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* Reads the next request on srv into *req, waiting up to timeout_ms in short slices so that a
   child that died ends the wait at once (after one last look for anything it sent before dying).
   1 if a request arrived; if not, says so unless `what` is NULL (quiet). */
static inline int read_from_child(rapi_server *srv, rapi_request *req, int timeout_ms, const char *what, pid_t pid,
                                  int *reaped, int *status)
{
    int rc;
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        rc = rapi_server_read_request(srv, req, left > 100 ? 100 : left < 0 ? 0 : (int)left);
        if (rc != RAPI_ETIMEOUT || now_ms() >= deadline) break;
        if (wait_child(pid, reaped, status, 0)) { /* gone: one last look */
            rc = rapi_server_read_request(srv, req, 50);
            break;
        }
    }
    if (rc != RAPI_OK) {
        if (what) printf("    no %s request: %s%s\n", what, rapi_strerror(rc), *reaped ? " (the runtime exited)" : "");
        return 0;
    }
    return 1;
}

#endif
