/* pid 1 of the sandbox and the command it starts.
 *
 * init waits for the launcher's go (maps written, cgroup joined), enters a fresh cgroup
 * namespace, sets hostname and loopback, assembles the root, forks the command, then
 * forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to it and reaps every zombie. When the command
 * exits, init kills whatever is left in the namespace, reports the command's wait
 * status to the launcher, and exits (which would end every process anyway). */
#include "sandbox.h"
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/securebits.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif


static void set_rlimit(int res, long long v, const char *name)
{
    if (v < 0) return;
    struct rlimit rl = { (rlim_t)v, (rlim_t)v };
    if (setrlimit(res, &rl) < 0) fail_stage(errno, "setrlimit %s", name);
}

static void drop_privileges(void)
{
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail_stage(errno, "drop capability %d from the bounding set", cap);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail_stage(errno, "clear ambient capabilities");
    /* Root inside gets no capabilities back from exec either. */
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
              SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0)
        fail_stage(errno, "set securebits");
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0) fail_stage(errno, "drop all capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail_stage(errno, "set no_new_privs");
}

static void close_fds(const struct options *o)
{
    /* Everything from 3 up closes at exec, except the fds the caller passed on. The
     * report pipe thus stays open until exec succeeds, to carry an exec failure. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        fail_stage(errno, "mark descriptors close-on-exec");
    for (size_t i = 0; i < o->n_keep_fds; i++)
        if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0) fail_stage(errno, "keep fd %d", o->keep_fds[i]);
}

static const char *env_path(const struct options *o)
{
    for (size_t i = 0; i < o->n_env; i++)
        if (!strncmp(o->env[i], "PATH=", 5)) return o->env[i] + 5;
    return "/usr/local/bin:/usr/bin:/bin";
}

static void exec_command(const struct options *o, const struct sock_fprog *filter)
{
    const char *cmd = o->argv[0];
    char found[PATH_MAX];
    if (!strchr(cmd, '/')) {
        /* PATH lookup uses the sandbox's PATH, inside the new root. */
        const char *p = env_path(o);
        bool ok = false;
        while (*p && !ok) {
            size_t len = strcspn(p, ":");
            snprintf(found, sizeof found, "%.*s/%s", (int)len, p, cmd);
            if (access(found, X_OK) == 0) ok = true;
            p += len + (p[len] == ':');
        }
        if (!ok) {
            char stage[300];
            snprintf(stage, sizeof stage, "exec %s (not found in PATH %s)", cmd, env_path(o));
            send_msg(MSG_EXEC_ERROR, ENOENT, 0, stage);
            _exit(127);
        }
        cmd = found;
    }
    if (filter && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter) < 0)
        fail_stage(errno, "load the seccomp filter");
    faults_install();
    execve(cmd, o->argv, o->env);
    int e = errno;
    char stage[300];
    snprintf(stage, sizeof stage, "exec %s", cmd);
    send_msg(MSG_EXEC_ERROR, e, 0, stage);
    _exit(e == ENOENT ? 127 : 126);
}

static void on_signal(int sig) { (void)sig; }

/* init inherits the launcher's argv, which names host paths (bind sources, the
 * launcher's location); /proc/1/cmdline inside would show them. Every string the
 * options point into is copied first, then the argv area is overwritten. */
static char *dup_or_null(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) fail_stage(ENOMEM, "copy the options");
    return d;
}

static void hide_launcher_argv(struct options *o, int argc, char **argv)
{
    for (size_t i = 0; i < o->n_ops; i++) {
        o->ops[i].src = dup_or_null(o->ops[i].src);
        o->ops[i].dest = dup_or_null(o->ops[i].dest);
        o->ops[i].upper = dup_or_null(o->ops[i].upper);
    }
    o->hostname = dup_or_null(o->hostname);
    o->domainname = dup_or_null(o->domainname);
    o->chdir = dup_or_null(o->chdir);
    o->seccomp = dup_or_null(o->seccomp);
    o->cpu_affinity = dup_or_null(o->cpu_affinity);
    size_t n = 0;
    while (o->argv[n]) n++;
    char **cmd = calloc(n + 1, sizeof *cmd);
    if (!cmd) fail_stage(ENOMEM, "copy the command line");
    for (size_t i = 0; i < n; i++) cmd[i] = dup_or_null(o->argv[i]);
    o->argv = cmd;
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
    memset(start, 0, (size_t)(end - start));
    snprintf(start, (size_t)(end - start) + 1, "repro-sandbox-init");
}

void run_init(struct options *o, int argc, char **argv, int sync_fd, const struct sock_fprog *filter)
{
    hide_launcher_argv(o, argc, argv);
    char go;
    ssize_t n;
    do n = read(sync_fd, &go, 1); while (n < 0 && errno == EINTR);
    if (n != 1) _exit(70); /* the launcher failed before letting us go; it reports why */
    close(sync_fd);

    if (unshare(CLONE_NEWCGROUP) < 0) fail_stage(errno, "new cgroup namespace");
    if (sethostname(o->hostname, strlen(o->hostname)) < 0) fail_stage(errno, "set hostname %s", o->hostname);
    if (setdomainname(o->domainname, strlen(o->domainname)) < 0) fail_stage(errno, "set domain name %s", o->domainname);
    setup_network(o);
    /* Before the root is assembled: the host's /proc is still the one mounted. */
    enter_time_namespace(o->time_offset);
    setup_root(o);
    if (o->chdir && chdir(o->chdir) < 0) fail_stage(errno, "chdir %s", o->chdir);
    umask(o->umask);
    if (o->new_session && setsid() < 0) fail_stage(errno, "new session");

    /* Signals reach pid 1 only when it has a handler: install one, block them, and
     * take them with sigwaitinfo. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    struct sigaction sa = { .sa_handler = on_signal };
    for (size_t i = 0; i < sb_n_forwarded_signals; i++) {
        sigaddset(&set, sb_forwarded_signals[i]);
        if (sigaction(sb_forwarded_signals[i], &sa, NULL) < 0) fail_stage(errno, "install the signal handlers");
    }
    if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        fail_stage(errno, "install the signal handlers");

    pid_t child = fork();
    if (child < 0) fail_stage(errno, "fork the command");
    if (child == 0) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
        /* An empty mask: the launcher blocked the forwarded signals before the clone,
         * and the command must not inherit that. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        const struct limits *l = &o->limits;
        set_rlimit(RLIMIT_CORE, 0, "core");
        set_rlimit(RLIMIT_AS, l->rlimit_as, "as");
        set_rlimit(RLIMIT_NOFILE, l->rlimit_nofile, "nofile");
        set_rlimit(RLIMIT_NPROC, l->rlimit_nproc, "nproc");
        set_rlimit(RLIMIT_FSIZE, l->rlimit_fsize, "fsize");
        if (l->rlimit_cpu >= 0) {
            /* soft limit sends SIGXCPU; one second later the hard limit kills */
            struct rlimit rl = { (rlim_t)l->rlimit_cpu, (rlim_t)l->rlimit_cpu + 1 };
            if (setrlimit(RLIMIT_CPU, &rl) < 0) fail_stage(errno, "setrlimit cpu");
        }
        apply_cpu_affinity(o->cpu_affinity);
        apply_personality(o->personality);
        drop_privileges();
        close_fds(o);
        exec_command(o, filter);
    }

    /* init itself: not dumpable, so nothing inside can ptrace it or read its memory. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int status = 0;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        bool done = false;
        for (;;) {
            int st;
            pid_t p = waitpid(-1, &st, WNOHANG);
            if (p <= 0) break;
            if (p == child) { status = st; done = true; }
        }
        if (!done) continue;
        kill(-1, SIGKILL); /* every process left in the namespace */
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
        send_msg(MSG_CHILD_STATUS, 0, status, NULL);
        _exit(0);
    }
}
