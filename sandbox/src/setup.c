/* The root filesystem and network of the sandbox, assembled by init (pid 1) in its new
 * mount and network namespaces.
 *
 * Like bwrap, init first pivots onto a private tmpfs ("base") that holds the new root
 * at /newroot and the host root at /oldroot, so host sources are reached as
 * /oldroot/SRC even when a later mount would cover them. Binds use the new mount API
 * (open_tree + mount_setattr + move_mount) so that read-only, nosuid and nodev apply
 * recursively, submounts included; kernels without it fall back to mount(2). At the
 * end the new root's tmpfs is made read-only and init pivots into it, detaching the
 * host root completely. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BASE "/tmp"
#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"

static char *inside(const char *dest)
{
    static char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, NEWROOT "%s", dest) >= (int)sizeof buf)
        fail_stage(ENAMETOOLONG, "path %s", dest);
    return buf;
}

static char *host(const char *src)
{
    static char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, OLDROOT "%s", src) >= (int)sizeof buf)
        fail_stage(ENAMETOOLONG, "path %s", src);
    return buf;
}

/* Creates DEST's parent directories and DEST itself: a directory for directory sources,
 * an empty file for anything else (a bind needs a mount point of the same type). */
static void make_mountpoint(const char *dest, bool is_dir)
{
    char *path = inside(dest);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (sb_mkdir_p(parent, 0755) < 0) fail_stage(errno, "create parent directories of %s", dest);
    }
    if (is_dir) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST) fail_stage(errno, "create mount point %s", dest);
    } else {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno != EEXIST) fail_stage(errno, "create mount point %s", dest);
        if (fd >= 0) close(fd);
    }
}

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{ return (int)syscall(SYS_open_tree, dfd, path, flags); }
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *a)
{ return (int)syscall(SYS_mount_setattr, dfd, path, flags, a, sizeof *a); }
static int sys_move_mount(int from, const char *fp, int to, const char *tp, unsigned flags)
{ return (int)syscall(SYS_move_mount, from, fp, to, tp, flags); }

static void bind_mount(const char *src, const char *dest, uint64_t attrs)
{
    int fd = sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd >= 0) {
        struct mount_attr a = { .attr_set = attrs };
        if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a) < 0)
            fail_stage(errno, "set mount attributes on %s", dest);
        if (sys_move_mount(fd, "", AT_FDCWD, inside(dest), MOVE_MOUNT_F_EMPTY_PATH) < 0)
            fail_stage(errno, "attach bind of %s at %s", src + strlen(OLDROOT), dest);
        close(fd);
        return;
    }
    if (errno != ENOSYS) fail_stage(errno, "bind %s -> %s", src + strlen(OLDROOT), dest);
    /* Pre-5.12 kernels: the classic bind, then a remount of the top mount. Submounts
     * keep their own flags here, which is why the new API is preferred. */
    if (mount(src, inside(dest), NULL, MS_BIND | MS_REC, NULL) < 0)
        fail_stage(errno, "bind %s -> %s", src + strlen(OLDROOT), dest);
    unsigned long fl = MS_REMOUNT | MS_BIND;
    if (attrs & MOUNT_ATTR_RDONLY) fl |= MS_RDONLY;
    if (attrs & MOUNT_ATTR_NOSUID) fl |= MS_NOSUID;
    if (attrs & MOUNT_ATTR_NODEV) fl |= MS_NODEV;
    if (mount(NULL, inside(dest), NULL, fl, NULL) < 0)
        fail_stage(errno, "remount %s with its flags", dest);
}

/* overlayfs: the lower directory read-only underneath, writes copied up into STATE/upper
 * (STATE/work is overlayfs's scratch; both made here when missing). LOWER and STATE are
 * first bound (open_tree clones, like every bind) into the staging tmpfs outside the new
 * root: overlayfs refuses a directory of the host's root mount as it stands here
 * ("failed to clone upperpath": that mount has locked submounts), and the clones have
 * none. They vanish with the staging tmpfs when init pivots into the new root; the
 * overlay keeps its own references. `userxattr`: mounted inside a user namespace,
 * overlayfs keeps its metadata in user.* extended attributes (trusted.* needs the
 * host's root). */
static void do_overlay(const struct op *op)
{
    static int n;
    char dir[64], lower[96], state[96], data[512];
    snprintf(dir, sizeof dir, "/overlay-%d", n++);
    snprintf(lower, sizeof lower, "%s/lower", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    if (mkdir(dir, 0700) < 0 || mkdir(lower, 0700) < 0 || mkdir(state, 0700) < 0)
        fail_stage(errno, "create the overlay staging directories for %s", op->dest);
    const char *src[2] = { op->src, op->upper };
    const char *at[2] = { lower, state };
    for (int k = 0; k < 2; k++) {
        int fd = sys_open_tree(AT_FDCWD, host(src[k]), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0) fail_stage(errno, "bind %s for the overlay at %s", src[k], op->dest);
        if (sys_move_mount(fd, "", AT_FDCWD, at[k], MOVE_MOUNT_F_EMPTY_PATH) < 0)
            fail_stage(errno, "attach %s for the overlay at %s", src[k], op->dest);
        close(fd);
    }
    char upper[128], work[128];
    snprintf(upper, sizeof upper, "%s/upper", state);
    snprintf(work, sizeof work, "%s/work", state);
    if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST))
        fail_stage(errno, "create upper and work in %s for the overlay at %s", op->upper, op->dest);
    snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower, upper, work);
    make_mountpoint(op->dest, true);
    if (mount("overlay", inside(op->dest), "overlay", MS_NOSUID | MS_NODEV, data) < 0)
        fail_stage(errno, "mount overlay at %s (lower %s, state %s)", op->dest, op->src, op->upper);
}

static void do_bind(const struct op *op)
{
    struct stat st;
    const char *src = host(op->src);
    char srccopy[PATH_MAX];
    snprintf(srccopy, sizeof srccopy, "%s", src);
    if (stat(srccopy, &st) < 0) {
        if (op->optional && errno == ENOENT) return;
        fail_stage(errno, "bind source %s", op->src);
    }
    make_mountpoint(op->dest, S_ISDIR(st.st_mode));
    uint64_t attrs = MOUNT_ATTR_NOSUID;
    if (op->kind != OP_DEV_BIND) attrs |= MOUNT_ATTR_NODEV;
    if (op->kind == OP_RO_BIND) attrs |= MOUNT_ATTR_RDONLY;
    bind_mount(srccopy, op->dest, attrs);
}

/* The size of every writable tmpfs (--tmpfs-size); 0 = the kernel's default, half of RAM
 * per mount. Set once by setup_root before any mount. */
static long long tmpfs_size;

/* `size` is NULL or "size=BYTES" from --size, which sizes this one tmpfs (a disk fault)
 * and wins over --tmpfs-size. */
static void do_tmpfs(const char *dest, unsigned long extra, const char *size)
{
    make_mountpoint(dest, true);
    char data[96];
    snprintf(data, sizeof data, "%s", (!strcmp(dest, "/tmp") || !strcmp(dest, "/dev/shm")) ? "mode=1777" : "mode=0755");
    if (size)
        snprintf(data + strlen(data), sizeof data - strlen(data), ",%s", size);
    else if (tmpfs_size > 0)
        snprintf(data + strlen(data), sizeof data - strlen(data), ",size=%lld", tmpfs_size);
    if (mount("tmpfs", inside(dest), "tmpfs", MS_NOSUID | MS_NODEV | extra, data) < 0)
        fail_stage(errno, "mount tmpfs at %s", dest);
}

static void do_symlink(const char *target, const char *dest)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", inside(dest));
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (sb_mkdir_p(parent, 0755) < 0) fail_stage(errno, "create parent directories of %s", dest);
    }
    if (symlink(target, inside(dest)) < 0) {
        char existing[PATH_MAX];
        ssize_t n = readlink(inside(dest), existing, sizeof existing - 1);
        if (n >= 0) { existing[n] = 0; if (!strcmp(existing, target)) return; }
        fail_stage(errno, "symlink %s -> %s", dest, target);
    }
}

static void do_file(const char *dest, const char *text)
{
    make_mountpoint(dest, false);
    if (write_file(inside(dest), text) < 0) fail_stage(errno, "write file %s", dest);
    if (chmod(inside(dest), 0444) < 0) fail_stage(errno, "chmod file %s", dest);
}

/* Host knobs that a fresh procfs still exposes; as in runc and Docker they are made
 * read-only or covered, because an inside uid mapped to host root would otherwise pass
 * their permission checks (sysrq-trigger has no capability check at all). */
static const char *proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs", NULL };
static const char *proc_masked[] = { "kcore", "keys", "timer_list", "sched_debug", "kallsyms",
                                     "acpi", "scsi", "latency_stats", NULL };

static void do_proc(const char *dest)
{
    make_mountpoint(dest, true);
    if (mount("proc", inside(dest), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail_stage(errno, "mount procfs at %s", dest);
    char path[PATH_MAX];
    for (const char **p = proc_readonly; *p; p++) {
        snprintf(path, sizeof path, "%s/%s", inside(dest), *p);
        if (access(path, F_OK) < 0) continue;
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail_stage(errno, "bind %s/%s read-only", dest, *p);
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            fail_stage(errno, "remount %s/%s read-only", dest, *p);
    }
    for (const char **p = proc_masked; *p; p++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", inside(dest), *p);
        if (stat(path, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
                fail_stage(errno, "mask %s/%s", dest, *p);
        } else if (mount(OLDROOT "/dev/null", path, NULL, MS_BIND, NULL) < 0) {
            fail_stage(errno, "mask %s/%s", dest, *p);
        }
    }
}

static void do_dev(const char *dest)
{
    char d[PATH_MAX], sub[PATH_MAX];
    snprintf(d, sizeof d, "%s", dest);
    do_tmpfs(d, MS_NOEXEC, NULL);
    static const char *nodes[] = { "null", "zero", "full", "random", "urandom", "tty", NULL };
    for (const char **n = nodes; *n; n++) {
        char src[PATH_MAX];
        snprintf(src, sizeof src, OLDROOT "/dev/%s", *n);
        snprintf(sub, sizeof sub, "%s/%s", d, *n);
        make_mountpoint(sub, false);
        bind_mount(src, sub, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    }
    snprintf(sub, sizeof sub, "%s/pts", d);
    make_mountpoint(sub, true);
    if (mount("devpts", inside(sub), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
        fail_stage(errno, "mount devpts at %s", sub);
    snprintf(sub, sizeof sub, "%s/ptmx", d);
    do_symlink("pts/ptmx", sub);
    snprintf(sub, sizeof sub, "%s/shm", d);
    do_tmpfs(sub, 0, NULL);
    static const char *links[][2] = { { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" }, { "/proc/kcore", "core" } };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(sub, sizeof sub, "%s/%s", d, links[i][1]);
        do_symlink(links[i][0], sub);
    }
}

void setup_root(const struct options *o)
{
    tmpfs_size = o->tmpfs_size;
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail_stage(errno, "make / private");
    if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        fail_stage(errno, "mount the staging tmpfs on " BASE);
    if (mkdir(BASE NEWROOT, 0755) < 0 || mkdir(BASE OLDROOT, 0755) < 0)
        fail_stage(errno, "create staging directories");
    if (mount("tmpfs", BASE NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        fail_stage(errno, "mount the root tmpfs");
    if (syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0)
        fail_stage(errno, "pivot_root onto the staging tmpfs");
    if (chdir("/") < 0) fail_stage(errno, "chdir /");

    for (size_t i = 0; i < o->n_ops; i++) {
        const struct op *op = &o->ops[i];
        switch (op->kind) {
        case OP_RO_BIND: case OP_BIND: case OP_DEV_BIND: do_bind(op); break;
        case OP_TMPFS: do_tmpfs(op->dest, 0, op->src); break;
        case OP_DIR:
            if (sb_mkdir_p(inside(op->dest), 0755) < 0) fail_stage(errno, "create directory %s", op->dest);
            break;
        case OP_SYMLINK: do_symlink(op->src, op->dest); break;
        case OP_FILE: do_file(op->dest, op->src); break;
        case OP_PROC: do_proc(op->dest); break;
        case OP_DEV: do_dev(op->dest); break;
        case OP_OVERLAY: do_overlay(op); break;
        }
    }

    /* The root itself is read-only: only explicit binds and tmpfs mounts are writable. */
    if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        fail_stage(errno, "make the new root read-only");
    if (chdir(NEWROOT) < 0) fail_stage(errno, "chdir to the new root");
    /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it
     * leaves no path back to the host filesystem. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail_stage(errno, "pivot_root into the new root");
    if (umount2(".", MNT_DETACH) < 0) fail_stage(errno, "detach the old root");
    if (chdir("/") < 0) fail_stage(errno, "chdir /");
}

void setup_network(const struct options *o)
{
    if (o->share_net) return;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail_stage(errno, "socket for loopback setup");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail_stage(errno, "read loopback flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail_stage(errno, "bring loopback up");
    close(s);
}
