/*
 * repro-testexec: runs a plan of test commands inside the sandbox, one process (and one
 * process group) per test, and writes repro's record stream (docs/testing.md).
 *
 *   repro-testexec PLAN
 *
 * PLAN is written by repro (Sources/TestRun/TestExecPlan.swift). It is a sequence of
 * NUL-terminated strings read as KEY VALUE pairs:
 *
 *   "repro-testexec-plan" "1"        first pair: the format and its version
 *   "records" PATH                   optional: the record stream (default $REPRO_TEST_DIR/records.jsonl)
 *   "logs" DIR                       optional: per-test logs (default $REPRO_TEST_DIR/logs)
 *   "log-limit" BYTES                optional: bytes of output kept per test (default 1 MiB)
 *   "grace" MS                       optional: SIGTERM -> SIGKILL delay at a timeout (default 2000)
 *   "test" ID                        starts a test; the keys below belong to it
 *   "file" PATH | "cwd" DIR | "timeout" SECONDS (decimal, 0: none) | "will-fail" 0|1
 *   "skip-return-code" N | "disabled" 0|1 | "env" NAME=VALUE (repeated)
 *   "arg" STRING (repeated: argv, in order; arg 0 is looked up on PATH when it has no '/';
 *                a test without one is reported as an error without running)
 *
 * Tests run in plan order. For each: a `start` record (pos = its index in the plan), the
 * process with stdin from /dev/null and stdout+stderr into $logs/<pos>.log (the first
 * log-limit bytes; the rest is read and dropped, and a last line says how much), then a
 * `result` record: verdict, wall ms, user/sys ms and peak RSS from wait4, exit status or
 * signal, and a message with the output's tail when it did not pass. At its timeout the
 * test's whole group gets SIGTERM, then SIGKILL after the grace: verdict `timeout`. Death
 * by a signal is `crashed`. WILL_FAIL inverts pass and fail (as ctest); an exit status
 * equal to SKIP_RETURN_CODE is `skip`. What the test leaves running in its group is
 * killed when it ends. After the last test: a `done` record. Each record is one line
 * written with one write(2) on an O_APPEND descriptor, so the stream stays whole when
 * repro reads it while it grows.
 *
 * Exit status: 0 when the plan ran (whatever the verdicts), 2 for a bad plan, 70 when
 * the records cannot be written. SIGTERM/SIGINT kill the running test's group and end
 * the run without `done` (repro marks the run interrupted).
 *
 * Plain C, linked statically (sandbox/Makefile), so it runs over any toolchain root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_SIZE 2048      /* bytes of output quoted in a failure's message */
#define MESSAGE_LIMIT 4096  /* TestRecord.messageLimit */

struct test {
    const char *id, *file, *cwd;
    double timeout;         /* seconds, 0 = none */
    int will_fail, disabled, has_skip_code, skip_code;
    const char **argv; size_t argc, argcap;
    const char **env; size_t envc, envcap;
};

static struct {
    const char *records, *logs;
    long long log_limit;
    long grace_ms;
    struct test *tests; size_t ntests, cap;
} plan = { .log_limit = 1 << 20, .grace_ms = 2000 };

static int records_fd = -1;
static volatile sig_atomic_t stop_signal;
static volatile pid_t running_group;
static int sigchld_pipe[2] = { -1, -1 };

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("repro-testexec: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) die(70, "out of memory");
    return p;
}

static void push(const char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n + 1 >= *cap) { *cap = *cap ? *cap * 2 : 8; *v = xrealloc(*v, *cap * sizeof **v); }
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static long long number(const char *key, const char *value, long long min)
{
    char *end;
    errno = 0;
    long long n = strtoll(value, &end, 10);
    if (errno || end == value || *end || n < min) die(2, "plan: '%s' needs a number >= %lld, not '%s'", key, min, value);
    return n;
}

static double seconds(const char *key, const char *value)
{
    char *end;
    errno = 0;
    double s = strtod(value, &end);
    if (errno || end == value || *end || !(s >= 0) || s > 1e9) die(2, "plan: '%s' needs seconds >= 0, not '%s'", key, value);
    return s;
}

/* Reads the whole plan; every string points into the one buffer, which lives until exit. */
static void read_plan(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(2, "cannot open plan %s: %s", path, strerror(errno));
    size_t len = 0, cap = 1 << 16;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        if (len == cap) buf = xrealloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die(2, "cannot read plan %s: %s", path, strerror(errno));
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (len == 0 || buf[len - 1] != '\0') die(2, "plan %s: not a NUL-terminated plan (written by repro's TestExecPlan)", path);
    char *p = buf, *end = buf + len;
    struct test *t = NULL;
    int first = 1;
    while (p < end) {
        char *key = p; p += strlen(p) + 1;
        if (p >= end) die(2, "plan %s: key '%s' has no value", path, key);
        char *value = p; p += strlen(p) + 1;
        if (first) {
            if (strcmp(key, "repro-testexec-plan") || strcmp(value, "1"))
                die(2, "plan %s: not a version 1 plan (it starts with '%s')", path, key);
            first = 0;
        } else if (!strcmp(key, "records")) plan.records = value;
        else if (!strcmp(key, "logs")) plan.logs = value;
        else if (!strcmp(key, "log-limit")) plan.log_limit = number(key, value, 0);
        else if (!strcmp(key, "grace")) plan.grace_ms = (long)number(key, value, 0);
        else if (!strcmp(key, "test")) {
            if (plan.ntests == plan.cap) { plan.cap = plan.cap ? plan.cap * 2 : 64; plan.tests = xrealloc(plan.tests, plan.cap * sizeof *plan.tests); }
            t = &plan.tests[plan.ntests++];
            memset(t, 0, sizeof *t);
            t->id = value;
        } else if (!t) die(2, "plan %s: '%s' before the first 'test'", path, key);
        else if (!strcmp(key, "file")) t->file = value;
        else if (!strcmp(key, "cwd")) t->cwd = value;
        else if (!strcmp(key, "timeout")) t->timeout = seconds(key, value);
        else if (!strcmp(key, "will-fail")) t->will_fail = number(key, value, 0) != 0;
        else if (!strcmp(key, "disabled")) t->disabled = number(key, value, 0) != 0;
        else if (!strcmp(key, "skip-return-code")) { t->has_skip_code = 1; t->skip_code = (int)number(key, value, INT_MIN); }
        else if (!strcmp(key, "env")) {
            if (!strchr(value, '=')) die(2, "plan %s: env '%s' of test '%s' is not NAME=VALUE", path, value, t->id);
            push(&t->env, &t->envc, &t->envcap, value);
        } else if (!strcmp(key, "arg")) push(&t->argv, &t->argc, &t->argcap, value);
        else die(2, "plan %s: unknown key '%s'", path, key);
    }
    if (first) die(2, "plan %s is empty", path);
}

/* ---- JSON output ---------------------------------------------------------------- */

struct buf { char *p; size_t len, cap; };

/* put() of a string literal, its length counted by the compiler. */
#define puts_(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) { b->cap = (b->len + n + 1) * 2; b->p = xrealloc(b->p, b->cap); }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len; uint32_t cp;
    if (c < 0x80) return 1;
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* A JSON string: quotes, backslash and control characters escaped; bytes that are not
 * UTF-8 become U+FFFD so the line stays valid JSON for any test output. */
static void put_string(struct buf *b, const char *s, size_t n)
{
    puts_(b, "\"");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c == '"') { puts_(b, "\\\""); i++; }
        else if (c == '\\') { puts_(b, "\\\\"); i++; }
        else if (c == '\n') { puts_(b, "\\n"); i++; }
        else if (c == '\t') { puts_(b, "\\t"); i++; }
        else if (c == '\r') { puts_(b, "\\r"); i++; }
        else if (c < 0x20 || c == 0x7F) { putf(b, "\\u%04x", c); i++; }
        else {
            size_t l = utf8_len(u + i, n - i);
            if (l == 0) { puts_(b, "\xEF\xBF\xBD"); i++; }
            else { put(b, s + i, l); i += l; }
        }
    }
    puts_(b, "\"");
}

static void put_cstring(struct buf *b, const char *s) { put_string(b, s, strlen(s)); }

static void emit(struct buf *b)
{
    puts_(b, "}\n");
    const char *p = b->p;
    size_t n = b->len;
    while (n > 0) {
        ssize_t w = write(records_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) die(70, "cannot write the record stream: %s", strerror(errno));
        p += w; n -= (size_t)w;
    }
    b->len = 0;
}

/* ---- running one test ------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void on_sigchld(int sig)
{
    int e = errno;
    char c = 0;
    if (write(sigchld_pipe[1], &c, 1) < 0) { /* full: a wake-up is already pending */ }
    errno = e;
}

static void on_stop(int sig)
{
    stop_signal = sig;
    if (running_group > 0) kill(-running_group, SIGKILL);
}

struct outcome {
    int status;             /* from wait4 */
    struct rusage ru;
    double wall_ms;
    int timed_out, exec_errno, exec_failed;
    long long dropped;      /* output bytes past the log limit */
    char tail[TAIL_SIZE]; size_t tail_len, tail_start;
};

static void keep_tail(struct outcome *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = (o->tail_start + o->tail_len) % TAIL_SIZE;
        o->tail[at] = p[i];
        if (o->tail_len < TAIL_SIZE) o->tail_len++;
        else o->tail_start = (o->tail_start + 1) % TAIL_SIZE;
    }
}

/* The child: its own group, output to the pipe, env additions, cwd, exec. Only
 * async-signal-safe calls until exec; a failure is reported over the errno pipe. */
static void child(const struct test *t, int out_fd, int err_pipe, char **envp)
{
    sigset_t none;
    sigemptyset(&none);
    signal(SIGCHLD, SIG_DFL); signal(SIGTERM, SIG_DFL); signal(SIGINT, SIG_DFL); signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) { dup2(devnull, 0); if (devnull != 0) close(devnull); }
    dup2(out_fd, 1); dup2(out_fd, 2);
    if (out_fd > 2) close(out_fd);
    int stage = 0;
    if (t->cwd && chdir(t->cwd) < 0) stage = 1;
    else execvpe(t->argv[0], (char *const *)t->argv, envp);
    int msg[2] = { stage, errno };
    if (write(err_pipe, msg, sizeof msg) < 0) { /* nothing left to tell it with */ }
    _exit(127);
}

/* The test's environment: ours, with the plan's NAME=VALUE additions replacing ours. */
static char **test_env(const struct test *t)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n]) n++;
    char **env = xrealloc(NULL, (n + t->envc + 1) * sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strcspn(environ[i], "=");
        int replaced = 0;
        for (size_t j = 0; j < t->envc && !replaced; j++)
            replaced = !strncmp(t->env[j], environ[i], nl) && t->env[j][nl] == '=';
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < t->envc; j++) env[k++] = (char *)t->env[j];
    env[k] = NULL;
    return env;
}

static void run_test(const struct test *t, size_t pos, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    char logpath[PATH_MAX];
    snprintf(logpath, sizeof logpath, "%s/%zu.log", plan.logs, pos);
    int log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) die(70, "cannot create %s: %s", logpath, strerror(errno));
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) die(70, "pipe: %s", strerror(errno));
    char **envp = test_env(t);
    double start = now_ms();
    pid_t pid = fork();
    if (pid < 0) die(70, "fork: %s", strerror(errno));
    if (pid == 0) child(t, out[1], errp[1], envp);
    free(envp);
    setpgid(pid, pid);  /* also here: no race with a kill before the child's own call */
    running_group = pid;
    close(out[1]); close(errp[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);

    double deadline = t->timeout > 0 ? start + t->timeout * 1000.0 : -1, kill_at = -1;
    double drain_until = -1;
    int exited = 0, out_open = 1;
    long long written = 0;
    char chunk[65536];
    while (out_open || !exited) {
        if (exited && drain_until < 0) {
            /* The test ended: kill what it left in its group, then read what is still
             * in the pipe. A process that left the group may hold the pipe: stop
             * reading after a second. */
            kill(-pid, SIGKILL);
            drain_until = now_ms() + 1000;
        }
        double now = now_ms();
        if (!exited && deadline > 0 && now >= deadline && !o->timed_out) {
            o->timed_out = 1;
            kill(-pid, SIGTERM);
            kill_at = now + plan.grace_ms;
        }
        if (!exited && kill_at > 0 && now >= kill_at) { kill(-pid, SIGKILL); kill_at = -1; }
        if (drain_until > 0 && now >= drain_until) break;
        double next = -1;
        if (!exited && !o->timed_out && deadline > 0) next = deadline;
        if (!exited && kill_at > 0) next = kill_at;
        if (drain_until > 0) next = drain_until;
        int wait_ms = next < 0 ? -1 : (int)(next - now) + 1;
        struct pollfd fds[2] = { { .fd = out_open ? out[0] : -1, .events = POLLIN }, { .fd = sigchld_pipe[0], .events = POLLIN } };
        int r = poll(fds, 2, wait_ms);
        if (r < 0 && errno != EINTR) die(70, "poll: %s", strerror(errno));
        if (stop_signal) break;
        if (r > 0 && (fds[1].revents & POLLIN)) {
            char drainbuf[64];
            while (read(sigchld_pipe[0], drainbuf, sizeof drainbuf) > 0) {}
        }
        if (!exited) {
            pid_t w = wait4(pid, &o->status, WNOHANG, &o->ru);
            if (w == pid) { exited = 1; o->wall_ms = now_ms() - start; }
        }
        if (out_open && r > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            for (;;) {
                ssize_t n = read(out[0], chunk, sizeof chunk);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && errno == EAGAIN) break;
                if (n <= 0) { out_open = 0; break; }
                keep_tail(o, chunk, (size_t)n);
                long long keep = plan.log_limit - written;
                if (keep > n) keep = n;
                if (keep > 0) {
                    for (ssize_t off = 0; off < keep;) {
                        ssize_t w = write(log_fd, chunk + off, (size_t)(keep - off));
                        if (w < 0 && errno == EINTR) continue;
                        if (w < 0) { o->dropped += keep - off; break; }   /* disk full: keep going */
                        off += w;
                    }
                    written += keep;
                }
                o->dropped += n - (keep > 0 ? keep : 0);
            }
        }
    }
    if (!exited) {
        /* Interrupted, or the drain ended before the test: make sure it is gone. */
        kill(-pid, SIGKILL);
        while (wait4(pid, &o->status, 0, &o->ru) < 0 && errno == EINTR) {}
        o->wall_ms = now_ms() - start;
    }
    running_group = 0;
    if (o->dropped > 0) {
        char note[160];
        int n = snprintf(note, sizeof note, "\n[repro-testexec: output truncated at %lld bytes; %lld more bytes dropped]\n",
                         plan.log_limit, o->dropped);
        if (write(log_fd, note, (size_t)n) < 0) { /* the log is best effort */ }
    }
    close(log_fd);
    close(out[0]);
    int msg[2];
    ssize_t n;
    do n = read(errp[0], msg, sizeof msg); while (n < 0 && errno == EINTR);
    if (n == sizeof msg) { o->exec_failed = msg[0] + 1; o->exec_errno = msg[1]; }
    close(errp[0]);
}

static void report(struct buf *b, const struct test *t, const struct outcome *o)
{
    const char *verdict;
    char reason[512] = "";
    int exit_status = -1, sig = 0;
    if (WIFEXITED(o->status)) exit_status = WEXITSTATUS(o->status);
    else if (WIFSIGNALED(o->status)) sig = WTERMSIG(o->status);
    if (o->exec_failed) {
        verdict = "error";
        snprintf(reason, sizeof reason, "cannot %s %s: %s", o->exec_failed == 2 ? "enter directory" : "run",
                 o->exec_failed == 2 ? t->cwd : t->argv[0], strerror(o->exec_errno));
        exit_status = -1;
    } else if (o->timed_out) {
        verdict = "timeout";
        snprintf(reason, sizeof reason, "timed out after %g s; its process group was killed", t->timeout);
    } else if (sig) {
        verdict = "crashed";
        snprintf(reason, sizeof reason, "killed by signal %d (%s)", sig, strsignal(sig));
    } else if (t->has_skip_code && exit_status == t->skip_code) {
        verdict = "skip";
        snprintf(reason, sizeof reason, "exit status %d is its SKIP_RETURN_CODE", exit_status);
    } else {
        int passed = (exit_status == 0) != (t->will_fail != 0);
        verdict = passed ? "pass" : "fail";
        if (!passed)
            snprintf(reason, sizeof reason, t->will_fail ? "exit status %d; WILL_FAIL expected a failure" : "exit status %d",
                     exit_status);
    }
    puts_(b, "{\"event\":\"result\",\"id\":");
    put_cstring(b, t->id);
    if (t->file) { puts_(b, ",\"file\":"); put_cstring(b, t->file); }
    putf(b, ",\"verdict\":\"%s\",\"wall_ms\":%.3f,\"user_ms\":%.3f,\"sys_ms\":%.3f,\"max_rss_kb\":%ld", verdict, o->wall_ms,
         o->ru.ru_utime.tv_sec * 1000.0 + o->ru.ru_utime.tv_usec / 1000.0,
         o->ru.ru_stime.tv_sec * 1000.0 + o->ru.ru_stime.tv_usec / 1000.0, o->ru.ru_maxrss);
    if (exit_status >= 0) putf(b, ",\"exit_status\":%d", exit_status);
    if (sig) putf(b, ",\"signal\":%d", sig);
    if (reason[0]) {
        /* The reason, then the output's last bytes (from a UTF-8 boundary), at most MESSAGE_LIMIT. */
        char msg[MESSAGE_LIMIT];
        size_t len = (size_t)snprintf(msg, sizeof msg, "%s", reason);
        if (strcmp(verdict, "pass") && strcmp(verdict, "skip") && o->tail_len > 0 && len + 32 < sizeof msg) {
            len += (size_t)snprintf(msg + len, sizeof msg - len, "\n--- output tail ---\n");
            size_t skip = 0;
            while (skip < o->tail_len && skip < 4 && (o->tail[(o->tail_start + skip) % TAIL_SIZE] & 0xC0) == 0x80) skip++;
            for (size_t i = skip; i < o->tail_len && len < sizeof msg; i++)
                msg[len++] = o->tail[(o->tail_start + i) % TAIL_SIZE];
        }
        puts_(b, ",\"message\":");
        put_string(b, msg, len);
    }
    emit(b);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') die(2, "usage: repro-testexec PLAN (plans are written by repro; see docs/testing.md)");
    read_plan(argv[1]);
    const char *dir = getenv("REPRO_TEST_DIR");
    static char records[PATH_MAX], logs[PATH_MAX];
    if (!plan.records || !plan.logs) {
        if (!dir || !*dir) die(2, "REPRO_TEST_DIR is not set and the plan names no 'records' and 'logs'");
        snprintf(records, sizeof records, "%s/records.jsonl", dir);
        snprintf(logs, sizeof logs, "%s/logs", dir);
        if (!plan.records) plan.records = records;
        if (!plan.logs) plan.logs = logs;
    }
    if (mkdir(plan.logs, 0755) < 0 && errno != EEXIST) die(70, "cannot create %s: %s", plan.logs, strerror(errno));
    records_fd = open(plan.records, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (records_fd < 0) die(70, "cannot open %s: %s", plan.records, strerror(errno));

    /* A parent may hand down blocked signals (a Foundation Process blocks nearly all):
     * SIGCHLD must arrive, and SIGTERM must stop the run. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) die(70, "pipe: %s", strerror(errno));
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    struct sigaction st = { .sa_handler = on_stop };
    sigemptyset(&st.sa_mask);
    sigaction(SIGTERM, &st, NULL);
    sigaction(SIGINT, &st, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct buf b = { 0 };
    struct outcome o;
    for (size_t i = 0; i < plan.ntests && !stop_signal; i++) {
        const struct test *t = &plan.tests[i];
        puts_(&b, "{\"event\":\"start\",\"id\":");
        put_cstring(&b, t->id);
        putf(&b, ",\"pos\":%zu", i);
        emit(&b);
        if (t->disabled || t->argc == 0) {
            /* Not run: DISABLED is a skip (as ctest), a test without a command an error
             * (ctest: "Not Run"). */
            puts_(&b, "{\"event\":\"result\",\"id\":");
            put_cstring(&b, t->id);
            if (t->file) { puts_(&b, ",\"file\":"); put_cstring(&b, t->file); }
            if (t->disabled) puts_(&b, ",\"verdict\":\"skip\",\"wall_ms\":0,\"message\":\"disabled\"");
            else puts_(&b, ",\"verdict\":\"error\",\"wall_ms\":0,\"message\":\"the test has no command\"");
            emit(&b);
            continue;
        }
        run_test(t, i, &o);
        if (stop_signal) break;
        report(&b, t, &o);
    }
    if (stop_signal) return 128 + stop_signal;
    puts_(&b, "{\"event\":\"done\"");
    emit(&b);
    return 0;
}
