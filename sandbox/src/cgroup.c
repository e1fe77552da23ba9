/* cgroup limits (memory, pids, cpu) on cgroup v2 or v1, whichever the host has, set by
 * the launcher on a child cgroup of its own: <own cgroup>/repro-sandbox-<pid>.
 *
 * v2 needs the controllers enabled in the parent's cgroup.subtree_control, which the
 * kernel refuses while the parent holds processes (the "no internal processes" rule)
 * unless it is the root; a service manager's delegated scope is the usual answer. When
 * a limit cannot be set, the launcher fails naming it, or warns with --allow-degrade. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum ctl { CTL_MEMORY, CTL_PIDS, CTL_CPU, N_CTL };
static const char *ctl_names[N_CTL] = { "memory", "pids", "cpu" };

struct cgroup_state {
    bool v2;
    char dir[N_CTL][PATH_MAX]; /* created directory per controller ("" = none); v2 uses [0] */
};

/* The mount point of the v1 hierarchy that carries `ctl`, or of the v2 hierarchy when
 * ctl is NULL, from /proc/self/mountinfo. */
static bool find_mount(const char *ctl, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - ");
        if (!sep) continue;
        char mnt[PATH_MAX], fstype[64], source[256], opts[1024];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1) continue;
        if (sscanf(sep + 3, "%63s %255s %1023s", fstype, source, opts) != 3) continue;
        if (!ctl) {
            if (!strcmp(fstype, "cgroup2")) { snprintf(out, n, "%s", mnt); found = true; }
            continue;
        }
        if (strcmp(fstype, "cgroup")) continue;
        for (char *tok = strtok(opts, ","); tok; tok = strtok(NULL, ","))
            if (!strcmp(tok, ctl)) { snprintf(out, n, "%s", mnt); found = true; break; }
    }
    fclose(f);
    return found;
}

/* Our own cgroup path in the hierarchy of `ctl` (v1) or the unified one (ctl NULL). */
static bool own_path(const char *ctl, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = 0;
        const char *ctls = c1 + 1, *path = c2 + 1;
        if (!ctl) {
            if (!strcmp(line, "0") && !*ctls) { snprintf(out, n, "%s", path); found = true; }
            continue;
        }
        char copy[256];
        snprintf(copy, sizeof copy, "%s", ctls);
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
            if (!strcmp(tok, ctl)) { snprintf(out, n, "%s", path); found = true; break; }
    }
    fclose(f);
    return found;
}

static int put(const char *dir, const char *file, const char *value)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return write_file(path, value);
}

/* Removes sandbox cgroups left behind by launchers that were killed with SIGKILL. */
static void sweep_stale(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        if (sscanf(e->d_name, "repro-sandbox-%d", &pid) != 1) continue;
        if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
        rmdir(path);
    }
    closedir(d);
}

static bool unenforceable(bool allow_degrade, const char *what, int err, const char *hint)
{
    if (allow_degrade) {
        warnx_sb("%s limit not enforced: %s%s%s", what, strerror(err), hint ? "; " : "", hint ? hint : "");
        return false;
    }
    die(70, "cannot enforce the %s limit: %s%s%s (or pass --allow-degrade to run without it)",
        what, strerror(err), hint ? "; " : "", hint ? hint : "");
}

static bool make_dir(char *out, const char *mount, const char *own)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s%s", mount, strcmp(own, "/") ? own : "");
    sweep_stale(parent);
    snprintf(out, PATH_MAX, "%s/repro-sandbox-%d", parent, (int)getpid());
    return mkdir(out, 0755) == 0 || errno == EEXIST;
}

static void set_limits(struct cgroup_state *cg, const struct limits *l, bool allow_degrade)
{
    char v[64];
    bool want[N_CTL] = { l->memory >= 0, l->pids >= 0, l->cpus > 0 };
    for (int c = 0; c < N_CTL; c++) {
        if (!want[c]) continue;
        const char *dir = cg->v2 ? cg->dir[0] : cg->dir[c];
        if (!*dir) continue;
        int rc = 0;
        switch (c) {
        case CTL_MEMORY:
            snprintf(v, sizeof v, "%lld", l->memory);
            if (cg->v2) {
                rc = put(dir, "memory.max", v);
                if (rc == 0) put(dir, "memory.swap.max", "0"); /* absent without swap accounting */
            } else {
                rc = put(dir, "memory.limit_in_bytes", v);
                if (rc == 0) put(dir, "memory.memsw.limit_in_bytes", v);
            }
            break;
        case CTL_PIDS:
            snprintf(v, sizeof v, "%lld", l->pids);
            rc = put(dir, "pids.max", v);
            break;
        case CTL_CPU: {
            long long quota = (long long)(l->cpus * 100000);
            if (cg->v2) {
                snprintf(v, sizeof v, "%lld 100000", quota);
                rc = put(dir, "cpu.max", v);
            } else {
                rc = put(dir, "cpu.cfs_period_us", "100000");
                snprintf(v, sizeof v, "%lld", quota);
                if (rc == 0) rc = put(dir, "cpu.cfs_quota_us", v);
            }
            break;
        }
        }
        if (rc < 0) unenforceable(allow_degrade, ctl_names[c], errno, NULL);
    }
}

struct cgroup_state *cgroup_prepare(const struct limits *l, bool allow_degrade)
{
    bool want[N_CTL] = { l->memory >= 0, l->pids >= 0, l->cpus > 0 };
    if (!want[0] && !want[1] && !want[2]) return NULL;
    struct cgroup_state *cg = calloc(1, sizeof *cg);
    if (!cg) die(70, "out of memory");

    char mnt[PATH_MAX], own[PATH_MAX], path[PATH_MAX + 32];
    bool have_v1 = false;
    for (int c = 0; c < N_CTL; c++)
        if (find_mount(ctl_names[c], mnt, sizeof mnt)) have_v1 = true;

    if (!have_v1 && find_mount(NULL, mnt, sizeof mnt) && own_path(NULL, own, sizeof own)) {
        cg->v2 = true;
        char parent[PATH_MAX + 8];
        snprintf(parent, sizeof parent, "%s%s", mnt, strcmp(own, "/") ? own : "");
        snprintf(path, sizeof path, "%s/cgroup.controllers", parent);
        char avail[512] = "";
        FILE *f = fopen(path, "re");
        if (f) { if (!fgets(avail, sizeof avail, f)) avail[0] = 0; fclose(f); }
        for (int c = 0; c < N_CTL; c++) {
            if (!want[c]) continue;
            if (!strstr(avail, ctl_names[c])) {
                unenforceable(allow_degrade, ctl_names[c], ENOTSUP,
                              "the controller is not available to this cgroup (is it delegated?)");
                want[c] = false;
                continue;
            }
            char enable[32];
            snprintf(enable, sizeof enable, "+%s", ctl_names[c]);
            if (put(parent, "cgroup.subtree_control", enable) < 0) {
                unenforceable(allow_degrade, ctl_names[c], errno,
                              "this cgroup holds processes; run inside a delegated cgroup, e.g. "
                              "systemd-run --user --scope -p Delegate=yes");
                want[c] = false;
            }
        }
        if ((want[0] || want[1] || want[2]) && !make_dir(cg->dir[0], mnt, own))
            unenforceable(allow_degrade, "cgroup", errno, "cannot create a child cgroup");
    } else {
        for (int c = 0; c < N_CTL; c++) {
            if (!want[c]) continue;
            if (!find_mount(ctl_names[c], mnt, sizeof mnt) || !own_path(ctl_names[c], own, sizeof own)) {
                unenforceable(allow_degrade, ctl_names[c], ENOTSUP, "no cgroup hierarchy has this controller");
                continue;
            }
            if (!make_dir(cg->dir[c], mnt, own)) {
                int e = errno;
                cg->dir[c][0] = 0;
                unenforceable(allow_degrade, ctl_names[c], e, "cannot create a child cgroup (read-only cgroupfs?)");
            }
        }
    }
    set_limits(cg, l, allow_degrade);
    return cg;
}

void cgroup_attach(struct cgroup_state *cg, pid_t pid)
{
    if (!cg) return;
    char v[32];
    snprintf(v, sizeof v, "%d", (int)pid);
    for (int c = 0; c < N_CTL; c++) {
        if (!*cg->dir[c] || (c > 0 && !strcmp(cg->dir[c], cg->dir[c - 1]))) continue;
        if (put(cg->dir[c], "cgroup.procs", v) < 0)
            die(70, "cannot move the sandbox into %s: %s", cg->dir[c], strerror(errno));
    }
}

/* Reads "KEY N" out of a flat-keyed cgroup file. */
static long long read_key(const char *dir, const char *file, const char *key)
{
    char path[PATH_MAX + 64], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    long long v = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ' ') v = atoll(line + kl + 1);
    fclose(f);
    return v;
}

void cgroup_finish(struct cgroup_state *cg, bool *oom_killed, bool *pids_max_hit)
{
    *oom_killed = *pids_max_hit = false;
    if (!cg) return;
    const char *mem = cg->v2 ? cg->dir[0] : cg->dir[CTL_MEMORY];
    const char *pids = cg->v2 ? cg->dir[0] : cg->dir[CTL_PIDS];
    if (*mem) *oom_killed = read_key(mem, cg->v2 ? "memory.events" : "memory.oom_control", "oom_kill") > 0;
    if (*pids) *pids_max_hit = read_key(pids, "pids.events", "max") > 0;
    /* The namespace's processes are dying; the cgroup empties a moment later. */
    for (int c = 0; c < N_CTL; c++) {
        if (!*cg->dir[c]) continue;
        for (int tries = 0; tries < 200 && rmdir(cg->dir[c]) < 0 && errno == EBUSY; tries++) {
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    free(cg);
}
