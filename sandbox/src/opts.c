/* repro-sandbox command line. Options follow bwrap where they overlap, so that people
 * who know bwrap can read a repro-sandbox call; the differences are that network,
 * pid, ipc, uts, cgroup and user namespaces are always new, the environment always
 * starts empty, and seccomp is on unless --seccomp none is given. */
#include "sandbox.h"
#include "faults.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
"usage: repro-sandbox [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Runs COMMAND in new user, mount, pid, network, uts, ipc and cgroup namespaces, on a\n"
"root assembled from the mounts below (a read-only tmpfs), with every capability\n"
"dropped, no_new_privs, and the default seccomp policy. Nothing of the host is visible\n"
"unless a mount option names it.\n"
"\n"
"Root filesystem (applied in order; DEST is a path inside the sandbox):\n"
"  --ro-bind SRC DEST       bind host SRC read-only, nosuid, nodev (recursive)\n"
"  --ro-bind-try SRC DEST   same, skipped when SRC does not exist\n"
"  --bind SRC DEST          bind host SRC writable, nosuid, nodev\n"
"  --bind-try SRC DEST      same, skipped when SRC does not exist\n"
"  --dev-bind SRC DEST      bind a host device node (read-write, nosuid)\n"
"  --tmpfs DEST             fresh tmpfs (mode 0755; 1777 for /tmp and /dev/shm)\n"
"  --tmpfs-size BYTES       size of every writable tmpfs, /dev/shm included (units\n"
"                           K, M, G, T or KiB...; default: the kernel's, half of RAM each)\n"
"  --size BYTES             size of the next --tmpfs alone, over --tmpfs-size (a disk\n"
"                           fault: writes past it fail with ENOSPC)\n"
"  --overlay LOWER STATE DEST\n"
"                           overlayfs at DEST: host directory LOWER read-only\n"
"                           underneath, every write in host STATE/upper (STATE/work:\n"
"                           overlayfs's own; both made when missing); nosuid, nodev\n"
"  --dir DEST               create a directory\n"
"  --symlink TARGET DEST    create a symlink\n"
"  --file DEST TEXT         create a read-only file holding TEXT (e.g. /etc/passwd)\n"
"  --proc DEST              fresh procfs for the new pid namespace; /proc/sys,\n"
"                           /proc/sysrq-trigger and other host knobs read-only or masked\n"
"  --dev DEST               minimal /dev: null zero full random urandom tty, devpts\n"
"                           with ptmx, shm, fd/stdin/stdout/stderr links\n"
"\n"
"Identity and environment:\n"
"  --uid N, --gid N         ids inside (default 1000; 0 allowed). One id is mapped,\n"
"                           setgroups is denied\n"
"  --outside-uid N          host uid the inside uid maps to (default: the caller's\n"
"  --outside-gid N          euid/egid; another id needs root)\n"
"  --hostname NAME          default \"repro\"\n"
"  --domainname NAME        default \"repro\"\n"
"  --setenv KEY VALUE       the environment starts empty; add KEY=VALUE\n"
"  --chdir DIR              working directory inside (default /)\n"
"  --umask OCTAL            default 022\n"
"  --share-net              keep the host network (default: a new network namespace\n"
"                           with only loopback, up)\n"
"  --new-session            run COMMAND without a controlling terminal (setsid);\n"
"                           TIOCSTI is refused by seccomp in any case\n"
"\n"
"Variations (what `repro verify` changes between runs; all off by default):\n"
"  --time-offset SECONDS    new time namespace: CLOCK_MONOTONIC and CLOCK_BOOTTIME\n"
"                           shifted by SECONDS (the wall clock is not namespaced)\n"
"  --cpu-affinity LIST      run COMMAND on these CPUs only (sched_setaffinity), e.g.\n"
"                           0 or 0-1,3; nproc inside reports their number\n"
"  --personality LIST       personality(2) of COMMAND, set before seccomp: linux32\n"
"                           (uname -m i686 on x86_64), uname26 (uname -r 2.6.x),\n"
"                           addr-no-randomize (ASLR off); comma-separated\n"
"\n"
"Limits (a limit asked for that cannot be enforced is an error, see --allow-degrade):\n"
"  --rlimit-as BYTES        address space (units K, M, G, T or KiB...)\n"
"  --rlimit-nofile N        open files\n"
"  --rlimit-nproc N         processes of the uid (not enforced for host root; use --pids)\n"
"  --rlimit-cpu SECONDS     CPU time; SIGXCPU then SIGKILL\n"
"  --rlimit-fsize BYTES     largest file written\n"
"                           (core dumps are always off: RLIMIT_CORE 0)\n"
"  --memory BYTES           cgroup memory limit (v2 memory.max or v1 limit_in_bytes)\n"
"  --pids N                 cgroup pids limit (stops fork bombs)\n"
"  --cpus N                 cgroup CPU quota, e.g. 1.5\n"
"  --allow-degrade          warn instead of failing when a cgroup limit cannot be set\n"
"  --timeout SECONDS        wall clock; then SIGTERM, then SIGKILL after the grace\n"
"  --kill-grace SECONDS     default 2\n"
"\n"
"Security:\n"
"  --fault \"FAMILY ERRNO SHARE AFTER DELAY_US [PATH]\"\n"
"                           seeded syscall faults (docs/faults.md; `repro run --fault`\n"
"                           writes these): FAMILY write, fsync, open, read, connect,\n"
"                           send, recv; ERRNO a name or - (delay only); SHARE 0..1 of\n"
"                           the calls after the first AFTER, optionally only for paths\n"
"                           under PATH. Needs seccomp user notification (Linux 5.5)\n"
"  --fault-seed N           seed of every fault decision (default 0)\n"
"  --seccomp default|none|FILE\n"
"                           default: the documented policy (sandbox/POLICY.md);\n"
"                           FILE: lines \"SYSCALL ERRNO\" or \"@default\"; '#' comments\n"
"  --print-policy           print the default seccomp policy and its version, exit\n"
"  --check-size BYTES       print BYTES as every size option reads it, exit (2: not a size)\n"
"  --export-default-bpf     print the default policy compiled by libseccomp as C\n"
"                           (sandbox/src/default_filter.inc, built in), exit\n"
"\n"
"Process:\n"
"  --die-with-parent        SIGKILL the sandbox when the caller dies\n"
"  --parent-pid PID         with --die-with-parent: exit at once if the caller is gone\n"
"  --keep-fd FD             pass FD to COMMAND (all others but 0-2 are closed)\n"
"  --status-fd FD           write one JSON object when done: exit_code, signal,\n"
"                           wall_seconds, user_cpu_seconds, system_cpu_seconds,\n"
"                           max_rss_kb, timed_out, oom_killed, pids_limit_hit,\n"
"                           warnings, and on a setup failure setup_error {stage, errno}\n"
"  --version                print versions and exit\n"
"  --help                   this text\n"
"\n"
"Exit status: COMMAND's own; 128+N when it died from signal N; 124 when the timeout\n"
"ended it; 2 for bad options; 70 when the sandbox could not be set up (the message and\n"
"the status JSON name the failing stage and errno); 126/127 when COMMAND could not\n"
"be executed / was not found.\n";

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "repro-sandbox: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'repro-sandbox --help'.\n");
    exit(2);
}

static const char *need(int argc, char **argv, int i, int n)
{
    if (i + n >= argc)
        usage_error("option %s needs more arguments", argv[i]);
    return argv[i + 1];
}

static void add_op(struct options *o, enum op_kind kind, const char *src, const char *dest, bool optional)
{
    if (dest[0] != '/')
        usage_error("destination '%s' must be an absolute path inside the sandbox", dest);
    o->ops = realloc(o->ops, (o->n_ops + 1) * sizeof *o->ops);
    if (!o->ops) die(70, "out of memory");
    o->ops[o->n_ops++] = (struct op){ kind, src, dest, optional, NULL };
}

static void add_env(struct options *o, const char *k, const char *v)
{
    if (!*k || strchr(k, '='))
        usage_error("--setenv: bad variable name '%s'", k);
    char *kv;
    if (asprintf(&kv, "%s=%s", k, v) < 0) die(70, "out of memory");
    o->env = realloc(o->env, (o->n_env + 2) * sizeof *o->env);
    if (!o->env) die(70, "out of memory");
    o->env[o->n_env++] = kv;
    o->env[o->n_env] = NULL;
}

void parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->uid = 1000; o->gid = 1000;
    o->outside_uid = geteuid(); o->outside_gid = getegid();
    o->hostname = "repro"; o->domainname = "repro";
    o->umask = 022;
    o->kill_grace = 2;
    o->seccomp = "default";
    o->status_fd = -1;
    o->limits = (struct limits){ -1, -1, -1, -1, -1, -1, -1, 0 };
    o->env = calloc(1, sizeof *o->env); /* the environment starts empty */
    if (!o->env) die(70, "out of memory");

    char *tmpfs_size = NULL; /* --size: for the next --tmpfs, as in bwrap */
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { i++; break; }
        if (a[0] != '-') break;
#define IS(s) (!strcmp(a, s))
        if (IS("--help") || IS("-h")) { fputs(usage_text, stdout); exit(0); }
        else if (IS("--version")) {
            printf("repro-sandbox %s\npolicy %s\n", SANDBOX_VERSION, SANDBOX_POLICY_VERSION);
            exit(0);
        }
        else if (IS("--print-policy")) { seccomp_print_policy(); exit(0); }
        else if (IS("--check-size")) { printf("%lld\n", parse_size(need(argc, argv, i, 1), a)); exit(0); }
        else if (IS("--export-default-bpf")) { seccomp_export_default(); exit(0); }
        else if (IS("--ro-bind") || IS("--ro-bind-try")) { need(argc, argv, i, 2); add_op(o, OP_RO_BIND, argv[i+1], argv[i+2], IS("--ro-bind-try")); i += 2; }
        else if (IS("--bind") || IS("--bind-try")) { need(argc, argv, i, 2); add_op(o, OP_BIND, argv[i+1], argv[i+2], IS("--bind-try")); i += 2; }
        else if (IS("--dev-bind")) { need(argc, argv, i, 2); add_op(o, OP_DEV_BIND, argv[i+1], argv[i+2], false); i += 2; }
        else if (IS("--symlink")) { need(argc, argv, i, 2); add_op(o, OP_SYMLINK, argv[i+1], argv[i+2], false); i += 2; }
        else if (IS("--file")) { need(argc, argv, i, 2); add_op(o, OP_FILE, argv[i+2], argv[i+1], false); i += 2; }
        else if (IS("--size")) {
            long long size = parse_size(need(argc, argv, i, 1), a);
            if (size <= 0) usage_error("--size: '%s' must be more than 0", argv[i+1]);
            if (asprintf(&tmpfs_size, "size=%lld", size) < 0) die(70, "out of memory");
            i++;
        }
        else if (IS("--tmpfs")) { add_op(o, OP_TMPFS, tmpfs_size, need(argc, argv, i, 1), false); tmpfs_size = NULL; i++; }
        else if (IS("--tmpfs-size")) { o->tmpfs_size = parse_size(need(argc, argv, i, 1), a); i++; }
        else if (IS("--overlay")) {
            need(argc, argv, i, 3);
            add_op(o, OP_OVERLAY, argv[i+1], argv[i+3], false);
            o->ops[o->n_ops - 1].upper = argv[i+2];
            i += 3;
        }
        else if (IS("--dir")) { add_op(o, OP_DIR, NULL, need(argc, argv, i, 1), false); i++; }
        else if (IS("--proc")) { add_op(o, OP_PROC, NULL, need(argc, argv, i, 1), false); i++; }
        else if (IS("--dev")) { add_op(o, OP_DEV, NULL, need(argc, argv, i, 1), false); i++; }
        else if (IS("--uid")) { o->uid = (uid_t)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--gid")) { o->gid = (gid_t)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--outside-uid")) { o->outside_uid = (uid_t)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--outside-gid")) { o->outside_gid = (gid_t)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--hostname")) { o->hostname = need(argc, argv, i, 1); i++; }
        else if (IS("--domainname")) { o->domainname = need(argc, argv, i, 1); i++; }
        else if (IS("--setenv")) { need(argc, argv, i, 2); add_env(o, argv[i+1], argv[i+2]); i += 2; }
        else if (IS("--chdir")) { o->chdir = need(argc, argv, i, 1); i++; }
        else if (IS("--umask")) {
            char *end; const char *v = need(argc, argv, i, 1);
            errno = 0; unsigned long m = strtoul(v, &end, 8);
            if (errno || *end || m > 0777) usage_error("--umask: '%s' is not an octal mode like 022", v);
            o->umask = (mode_t)m; i++;
        }
        else if (IS("--share-net")) o->share_net = true;
        else if (IS("--new-session")) o->new_session = true;
        else if (IS("--time-offset")) {
            o->time_offset = parse_int(need(argc, argv, i, 1), a);
            if (o->time_offset < 0 || o->time_offset > 100LL * 365 * 86400)
                usage_error("--time-offset: '%s' must be 0 to 100 years in seconds", argv[i+1]);
            i++;
        }
        else if (IS("--cpu-affinity")) { o->cpu_affinity = need(argc, argv, i, 1); check_cpu_affinity(o->cpu_affinity); i++; }
        else if (IS("--personality")) { o->personality = parse_personality(need(argc, argv, i, 1)); i++; }
        else if (IS("--rlimit-as")) { o->limits.rlimit_as = parse_size(need(argc, argv, i, 1), a); i++; }
        else if (IS("--rlimit-nofile")) { o->limits.rlimit_nofile = parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--rlimit-nproc")) { o->limits.rlimit_nproc = parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--rlimit-cpu")) { o->limits.rlimit_cpu = parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--rlimit-fsize")) { o->limits.rlimit_fsize = parse_size(need(argc, argv, i, 1), a); i++; }
        else if (IS("--memory")) { o->limits.memory = parse_size(need(argc, argv, i, 1), a); i++; }
        else if (IS("--pids")) { o->limits.pids = parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--cpus")) {
            o->limits.cpus = parse_seconds(need(argc, argv, i, 1), a);
            if (o->limits.cpus <= 0) usage_error("--cpus: '%s' must be a positive number", argv[i+1]);
            i++;
        }
        else if (IS("--allow-degrade")) o->allow_degrade = true;
        else if (IS("--timeout")) { o->timeout = parse_seconds(need(argc, argv, i, 1), a); i++; }
        else if (IS("--kill-grace")) { o->kill_grace = parse_seconds(need(argc, argv, i, 1), a); i++; }
        else if (IS("--fault")) { faults_add(need(argc, argv, i, 1)); i++; }
        else if (IS("--fault-seed")) { faults_set_seed(need(argc, argv, i, 1)); i++; }
        else if (IS("--seccomp")) { o->seccomp = need(argc, argv, i, 1); i++; }
        else if (IS("--status-fd")) { o->status_fd = (int)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--die-with-parent")) o->die_with_parent = true;
        else if (IS("--parent-pid")) { o->parent_pid = (pid_t)parse_int(need(argc, argv, i, 1), a); i++; }
        else if (IS("--keep-fd")) {
            int fd = (int)parse_int(need(argc, argv, i, 1), a);
            o->keep_fds = realloc(o->keep_fds, (o->n_keep_fds + 1) * sizeof(int));
            if (!o->keep_fds) die(70, "out of memory");
            o->keep_fds[o->n_keep_fds++] = fd; i++;
        }
        else usage_error("unknown option '%s'", a);
#undef IS
    }
    if (tmpfs_size) usage_error("%s", "--size must come right before the --tmpfs it sizes");
    if (i >= argc)
        usage_error("%s", "no command given: put it after '--', e.g. repro-sandbox --ro-bind /usr /usr -- /usr/bin/true");
    o->argv = &argv[i];
}
