/* repro-sandbox: the launcher. See sandbox.h for the three processes and
 * `repro-sandbox --help` (opts.c) for the interface. */
#include "sandbox.h"
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bind sources are resolved on the host before any namespace exists, so a symlink in a
 * source path means what it means on the host, and a missing source is a usage error
 * that names the option. */
static void resolve_sources(struct options *o)
{
    for (size_t i = 0; i < o->n_ops; i++) {
        struct op *op = &o->ops[i];
        if (op->kind != OP_RO_BIND && op->kind != OP_BIND && op->kind != OP_DEV_BIND) continue;
        char *real = realpath(op->src, NULL);
        if (!real) {
            if (op->optional && errno == ENOENT) { op->kind = OP_DIR; op->optional = true; op->dest = NULL; continue; }
            die(2, "bind source '%s' (for %s): %s", op->src, op->dest, strerror(errno));
        }
        op->src = real;
    }
    /* Skipped optional binds leave a hole; compact them away. */
    size_t j = 0;
    for (size_t i = 0; i < o->n_ops; i++)
        if (o->ops[i].dest) o->ops[j++] = o->ops[i];
    o->n_ops = j;
}

static void write_map(pid_t pid, const char *file, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    if (write_file(path, text) < 0)
        die(70, "setup failed at stage 'write %s' (%s): user namespaces may be restricted; run 'repro doctor'",
            file, strerror(errno));
}

static pid_t spawn_init(const struct options *o, int *pidfd)
{
    uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD;
    if (!o->share_net) flags |= CLONE_NEWNET;
    struct clone_args args = { .flags = flags, .pidfd = (uint64_t)(uintptr_t)pidfd, .exit_signal = SIGCHLD };
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        pid = syscall(SYS_clone, (unsigned long)(flags & ~CLONE_PIDFD) | SIGCHLD, NULL, NULL, NULL, 0);
        if (pid > 0) *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    }
    return (pid_t)pid;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

struct outcome {
    int exit_code, signal;
    double wall;
    struct rusage ru;
    bool timed_out, oom_killed, pids_hit;
    struct msg setup;   /* type 0 = no setup error */
    char warnings[8][240];
    int n_warnings;
    int n_dropped;      /* warnings past the 8 kept (all were printed on stderr) */
};

static void add_warning(struct outcome *r, const char *text)
{
    if (r->n_warnings < 8) snprintf(r->warnings[r->n_warnings++], 240, "%s", text);
    else r->n_dropped++;
}

static void write_status(FILE *f, const struct outcome *r)
{
    fprintf(f, "{\"exit_code\":%d", r->exit_code);
    faults_write_status(f);
    fprintf(f, ",\"max_rss_kb\":%ld,\"oom_killed\":%s,\"pids_limit_hit\":%s,\"policy\":",
            r->ru.ru_maxrss, r->oom_killed ? "true" : "false", r->pids_hit ? "true" : "false");
    json_string(f, SANDBOX_POLICY_VERSION);
    fprintf(f, ",\"setup_error\":");
    if (r->setup.type) {
        fprintf(f, "{\"errno\":%d,\"message\":", r->setup.err);
        json_string(f, strerror(r->setup.err));
        fprintf(f, ",\"stage\":");
        json_string(f, r->setup.stage);
        fputc('}', f);
    } else fprintf(f, "null");
    fprintf(f, ",\"signal\":");
    if (r->signal) fprintf(f, "%d", r->signal); else fprintf(f, "null");
    fprintf(f, ",\"system_cpu_seconds\":%.6f,\"timed_out\":%s,\"user_cpu_seconds\":%.6f,\"wall_seconds\":%.6f,\"warnings\":[",
            (double)r->ru.ru_stime.tv_sec + r->ru.ru_stime.tv_usec / 1e6, r->timed_out ? "true" : "false",
            (double)r->ru.ru_utime.tv_sec + r->ru.ru_utime.tv_usec / 1e6, r->wall);
    for (int i = 0; i < r->n_warnings; i++) {
        if (i) fputc(',', f);
        json_string(f, r->warnings[i]);
    }
    if (r->n_dropped) fprintf(f, ",\"and %d more warnings, printed on stderr\"", r->n_dropped);
    fprintf(f, "]}\n");
    fclose(f);
}

static void take_msg(struct outcome *r, const struct msg *m, int *child_status, bool *have_status)
{
    switch (m->type) {
    case MSG_SETUP_ERROR:
    case MSG_EXEC_ERROR:
        if (!r->setup.type) r->setup = *m;
        break;
    case MSG_CHILD_STATUS:
        *child_status = m->status;
        *have_status = true;
        break;
    case MSG_WARNING:
        add_warning(r, m->stage);
        break;
    }
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
#ifndef __x86_64__
    /* The default filter (default_filter.inc) checks the x86_64, i386 and x32 ABIs only;
     * anywhere else its architecture check would kill every system call. */
    die(70, "this host's architecture is not supported: repro-sandbox runs on x86_64 only (its seccomp policy covers the x86_64, i386 and x32 ABIs)");
#endif
    if (o.die_with_parent) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            die(70, "setup failed at stage 'set the death signal' (%s)", strerror(errno));
        if (o.parent_pid && getppid() != o.parent_pid) return 70; /* the caller is already gone */
    }
    if (o.status_fd >= 0 && fcntl(o.status_fd, F_GETFD) < 0)
        die(2, "--status-fd %d: not an open file descriptor", o.status_fd);
    FILE *status = NULL;
    if (o.status_fd >= 0 && !(status = fdopen(o.status_fd, "w")))
        die(70, "setup failed at stage 'open the status fd %d' (%s)", o.status_fd, strerror(errno));
    for (size_t i = 0; i < o.n_keep_fds; i++)
        if (fcntl(o.keep_fds[i], F_GETFD) < 0)
            die(2, "--keep-fd %d: not an open file descriptor", o.keep_fds[i]);
    if (o.status_fd >= 0) fcntl(o.status_fd, F_SETFD, FD_CLOEXEC);
    resolve_sources(&o);

    struct sock_fprog filter;
    bool have_filter = seccomp_build(o.seccomp, &filter);
    faults_prepare();

    struct outcome r;
    memset(&r, 0, sizeof r);
    /* Warnings from cgroup setup go to stderr and into the status object. */
    int warn_pipe[2];
    if (pipe2(warn_pipe, O_CLOEXEC | O_NONBLOCK) < 0) die(70, "pipe: %s", strerror(errno));
    report_init(warn_pipe[1]);
    struct cgroup_state *cg = cgroup_prepare(&o.limits, o.allow_degrade);
    report_init(-1);
    struct msg m;
    while (read(warn_pipe[0], &m, sizeof m) == sizeof m)
        add_warning(&r, m.stage);
    close(warn_pipe[0]); close(warn_pipe[1]);

    int sync_pipe[2], report_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(report_pipe, O_CLOEXEC) < 0)
        die(70, "pipe: %s", strerror(errno));

    /* The same signals init forwards to the command. */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    for (size_t i = 0; i < sb_n_forwarded_signals; i++) sigaddset(&sigs, sb_forwarded_signals[i]);
    sigaddset(&sigs, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &sigs, &old) < 0)
        die(70, "setup failed at stage 'block signals' (%s)", strerror(errno));
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) die(70, "setup failed at stage 'signalfd' (%s)", strerror(errno));

    double start = now();
    int pidfd = -1;
    pid_t pid = spawn_init(&o, &pidfd);
    if (pid < 0)
        die(70, "setup failed at stage 'create namespaces' (%s): run 'repro doctor' to see what this host allows",
            strerror(errno));
    if (pid == 0) {
        close(sync_pipe[1]);
        close(report_pipe[0]);
        report_init(report_pipe[1]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail_stage(errno, "set the death signal of init");
        run_init(&o, argc, argv, sync_pipe[0], have_filter ? &filter : NULL);
    }
    close(sync_pipe[0]);
    close(report_pipe[1]);
    faults_start();

    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)o.uid, (unsigned)o.outside_uid);
    write_map(pid, "uid_map", map);
    write_map(pid, "setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)o.gid, (unsigned)o.outside_gid);
    write_map(pid, "gid_map", map);
    cgroup_attach(cg, pid);
    if (write(sync_pipe[1], "g", 1) != 1) die(70, "cannot start the sandbox: %s", strerror(errno));
    close(sync_pipe[1]);

    int child_status = 0;
    bool have_status = false, exited = false, report_open = true, term_sent = false, kill_sent = false;
    double term_at = 0;
    while (!exited || report_open) {
        int timeout_ms = -1;
        double t = now();
        if (!exited && o.timeout > 0 && !kill_sent) {
            double deadline = term_sent ? term_at + o.kill_grace : start + o.timeout;
            if (t >= deadline) {
                if (!term_sent) { r.timed_out = true; term_sent = true; term_at = t; kill(pid, SIGTERM); }
                else { kill_sent = true; kill(pid, SIGKILL); }
                continue;
            }
            timeout_ms = (int)((deadline - t) * 1000) + 1;
        }
        struct pollfd p[3] = { { pidfd, POLLIN, 0 }, { report_open ? report_pipe[0] : -1, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (exited) p[0].fd = -1;
        int n = poll(p, 3, timeout_ms);
        if (n < 0) { if (errno == EINTR) continue; die(70, "poll: %s", strerror(errno)); }
        if (p[1].revents) {
            ssize_t got = read(report_pipe[0], &m, sizeof m);
            if (got == sizeof m) take_msg(&r, &m, &child_status, &have_status);
            else if (got == 0 || (got < 0 && errno != EINTR)) report_open = false;
        }
        if (p[2].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si)
                if (si.ssi_signo != SIGCHLD) kill(pid, (int)si.ssi_signo);
        }
        if (p[0].revents) {
            int st;
            if (wait4(pid, &st, 0, &r.ru) == pid) {
                exited = true;
                if (!have_status && WIFSIGNALED(st)) r.signal = WTERMSIG(st);
            }
        }
    }
    r.wall = now() - start;
    faults_stop();
    cgroup_finish(cg, &r.oom_killed, &r.pids_hit);

    if (r.setup.type) {
        bool exec_err = r.setup.type == MSG_EXEC_ERROR;
        fprintf(stderr, "repro-sandbox: %s failed at stage '%s': %s\n",
                exec_err ? "command" : "setup", r.setup.stage, strerror(r.setup.err));
        r.exit_code = exec_err ? (r.setup.err == ENOENT ? 127 : 126) : 70;
    } else if (have_status) {
        if (WIFEXITED(child_status)) r.exit_code = WEXITSTATUS(child_status);
        else if (WIFSIGNALED(child_status)) { r.signal = WTERMSIG(child_status); r.exit_code = 128 + r.signal; }
    } else {
        r.exit_code = r.signal ? 128 + r.signal : 70;
    }
    if (r.timed_out) {
        r.exit_code = 124;
        fprintf(stderr, "repro-sandbox: timed out after %.1fs\n", o.timeout);
    }
    if (r.oom_killed) fprintf(stderr, "repro-sandbox: the memory limit was reached; the kernel killed a process\n");
    if (status) write_status(status, &r);
    return r.exit_code;
}
