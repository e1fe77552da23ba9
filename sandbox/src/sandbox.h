/* repro-sandbox: shared declarations.
 *
 * Three processes take part:
 *   launcher  the process the user started; stays in the host namespaces, writes the
 *             uid/gid maps, places the sandbox in its cgroup, enforces the wall-clock
 *             timeout, collects rusage and writes the status JSON.
 *   init      pid 1 of the new namespaces; assembles the root, then forks the command,
 *             forwards signals, reaps zombies and ends every process when the command exits.
 *   command   forked by init; drops every capability, sets limits and seccomp, execs.
 * Nothing but C runs between fork and exec. */
#ifndef REPRO_SANDBOX_H
#define REPRO_SANDBOX_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>

#define SANDBOX_VERSION "0.1.0"
/* Bumped whenever the default seccomp policy or the fixed sandbox view changes: it is
 * part of every action digest, so a policy change invalidates cached results. */
#define SANDBOX_POLICY_VERSION "repro-sandbox-policy-2"

enum op_kind { OP_RO_BIND, OP_BIND, OP_DEV_BIND, OP_TMPFS, OP_DIR, OP_SYMLINK, OP_FILE, OP_PROC, OP_DEV, OP_OVERLAY };

struct op {
    enum op_kind kind;
    const char *src;  /* host path (binds, resolved with realpath), link target, or file text */
    const char *dest; /* path inside the sandbox, absolute */
    bool optional;    /* --*-bind-try: a missing source is skipped */
    const char *upper; /* --overlay: the state directory (src is the lower one) */
};

struct limits {
    long long rlimit_as, rlimit_nofile, rlimit_nproc, rlimit_cpu, rlimit_fsize; /* -1 = unset */
    long long memory;   /* cgroup memory limit in bytes, -1 = unset */
    long long pids;     /* cgroup pids limit, -1 = unset */
    double cpus;        /* cgroup cpu quota in CPUs, 0 = unset */
};

struct options {
    struct op *ops;
    size_t n_ops;
    char **env;         /* NULL-terminated, KEY=VALUE */
    size_t n_env;
    int *keep_fds;
    size_t n_keep_fds;
    uid_t uid, outside_uid;
    gid_t gid, outside_gid;
    const char *hostname, *domainname;
    const char *chdir;
    mode_t umask;
    bool share_net;
    long long tmpfs_size; /* bytes of every writable tmpfs (--tmpfs, /dev/shm); 0 = kernel default */
    struct limits limits;
    bool allow_degrade;
    double timeout;     /* seconds, 0 = none */
    double kill_grace;  /* seconds between SIGTERM and SIGKILL */
    const char *seccomp; /* "default", "none" or a policy file */
    int status_fd;      /* -1 = none */
    bool die_with_parent;
    pid_t parent_pid;   /* with die_with_parent: exit if the parent is already gone */
    bool new_session;
    /* Variations for `repro verify` (all off by default): */
    long long time_offset;      /* seconds added to CLOCK_MONOTONIC and CLOCK_BOOTTIME
                                   in a new time namespace; 0 = no time namespace */
    unsigned long personality;  /* personality(2) of COMMAND; 0 = PER_LINUX (unchanged) */
    const char *cpu_affinity;   /* CPU list for sched_setaffinity, e.g. "0" or "0-1,3" */
    char **argv;        /* the command */
};

/* opts.c */
void parse_options(int argc, char **argv, struct options *o);

/* util.c: setup failures travel from init/command to the launcher over a pipe. */
enum msg_type { MSG_SETUP_ERROR = 1, MSG_EXEC_ERROR = 2, MSG_CHILD_STATUS = 3, MSG_WARNING = 4 };
struct msg {
    int type;
    int err;            /* errno */
    int status;         /* wait status of the command (MSG_CHILD_STATUS) */
    char stage[240];    /* what was being done, e.g. "bind /usr -> /usr" */
};
void report_init(int fd);
/* The signals the launcher forwards to init and init to the command (util.c). */
extern const int sb_forwarded_signals[];
extern const size_t sb_n_forwarded_signals;
/* Sends a setup error naming the stage and errno to the launcher, then _exit(127). */
void fail_stage(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void send_msg(int type, int err, int status, const char *stage);
void warnx_sb(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* setup.c: runs in init. Builds the root and pivots into it. */
void setup_root(const struct options *o);
void setup_network(const struct options *o);

/* seccomp_policy.c */
struct sock_fprog;
/* Builds the BPF program for the policy named by `spec` ("default", "none" or a file);
 * returns false for "none". Exits with a usage error naming the file:line on bad input. */
bool seccomp_build(const char *spec, struct sock_fprog *out);
void seccomp_print_policy(void);
/* Prints the default policy as a C array (sandbox/src/default_filter.inc). */
void seccomp_export_default(void);

/* cgroup.c: runs in the launcher. */
struct cgroup_state;
struct cgroup_state *cgroup_prepare(const struct limits *l, bool allow_degrade);
void cgroup_attach(struct cgroup_state *cg, pid_t pid);
/* Fills which limits were hit (memory OOM kill, pids max) and removes the cgroups. */
void cgroup_finish(struct cgroup_state *cg, bool *oom_killed, bool *pids_max_hit);

/* variant.c: the settings `repro verify` varies between runs. */
unsigned long parse_personality(const char *list);
/* Checks the CPU list against the CPUs this process may use; exits 2 naming it. */
void check_cpu_affinity(const char *list);
/* In init, before the command is forked: a new time namespace with the offsets. */
void enter_time_namespace(long long offset);
/* In the command, before seccomp and exec. */
void apply_cpu_affinity(const char *list);
void apply_personality(unsigned long persona);

/* init.c */
void run_init(struct options *o, int argc, char **argv, int sync_fd, const struct sock_fprog *filter) __attribute__((noreturn));

/* util.c */
int sb_mkdir_p(const char *path, mode_t mode);
int write_file(const char *path, const char *content);
long long parse_size(const char *s, const char *opt);
long long parse_int(const char *s, const char *opt);
double parse_seconds(const char *s, const char *opt);

#endif
