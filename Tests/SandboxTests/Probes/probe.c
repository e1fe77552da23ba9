/* Escape probes for repro-sandbox. Each probe, selected by argv[1], attempts exactly one
 * forbidden thing and prints one line
 *
 *     PROBE <name> ret=<r> errno=<ERRNAME>[ key=value ...]
 *
 * (errno=0 when the call succeeded) and exits 0, so EscapeTests can assert the exact
 * errno of every probe. A probe never does harm when it succeeds: kill sends signal 0,
 * ptrace detaches at once, /proc/sysrq-trigger and drop_caches are only opened, never
 * written, and clock_settime sets the time it just read.
 *
 * The i386 probes enter the kernel through `int $0x80` from this 64-bit program; the
 * kernel truncates their arguments to 32 bits, so every pointer they pass comes from
 * low_page (mmap MAP_32BIT). The x32 probe sets __X32_SYSCALL_BIT on a 64-bit call.
 *
 * Build: cc -O0 -o probe probe.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <stddef.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static const char *errname(int e)
{
    switch (e) {
    case 0: return "0";
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES)
    E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENOTTY)
    E(EROFS) E(ENOSYS) E(EAFNOSUPPORT) E(EPROTONOSUPPORT) E(ECONNREFUSED)
    E(ENETUNREACH) E(EHOSTUNREACH) E(ETIMEDOUT) E(ENXIO) E(ESOCKTNOSUPPORT) E(ENOKEY)
#undef E
    case EOPNOTSUPP: return "ENOTSUP"; /* the same number on Linux */
    default: {
        static char buf[16];
        snprintf(buf, sizeof buf, "E%d", e); /* a number this table does not name */
        return buf;
    }
    }
}

/* The one output line. errno is read by the caller right after the call. */
static int report(const char *name, long ret, int err, const char *extra)
{
    printf("PROBE %s ret=%ld errno=%s%s%s\n", name, ret, ret < 0 ? errname(err) : "0",
           extra && *extra ? " " : "", extra ? extra : "");
    fflush(stdout);
    return 0;
}
#define REPORT(name, expr) do { errno = 0; long r_ = (long)(expr); return report(name, r_, errno, NULL); } while (0)

static const char *arg2(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "probe %s: needs an argument\n", argv[1]); exit(2); }
    return argv[2];
}

/* ---- i386 and x32 entry points ---- */

/* A page below 4 GiB for the strings and structs the i386 calls point at. */
static char *low_page(void)
{
    static char *p;
    if (!p) {
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (p == MAP_FAILED) { perror("mmap MAP_32BIT"); exit(2); }
        memset(p, 0, 4096);
    }
    return p;
}

static char *low_string(size_t offset, const char *s)
{
    char *p = low_page() + offset;
    strcpy(p, s);
    return p;
}

/* int $0x80 with up to five arguments; returns the raw result (-errno on failure).
 * The kernel may clear r8-r11 on this path, so they are clobbers. */
static long int80(long nr, long a, long b, long c, long d, long e)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory", "cc", "r8", "r9", "r10", "r11");
    return (int)ret;
}

static int report_raw(const char *name, long raw)
{
    return raw < 0 ? report(name, -1, (int)-raw, NULL) : report(name, raw, 0, NULL);
}

/* ---- probes that need a little setup ---- */

static int probe_connect(const char *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return report("connect", -1, errno, "stage=socket");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    errno = 0;
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    return report("connect", r, errno, NULL);
}

static int probe_setns(void)
{
    int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report("setns", -1, errno, "stage=open");
    REPORT("setns", setns(fd, 0));
}

static int probe_perf(void)
{
    struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof a, .config = PERF_COUNT_SW_CPU_CLOCK,
                                 .disabled = 1, .exclude_kernel = 1, .exclude_hv = 1 };
    REPORT("perf_event_open", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}

static int probe_bpf(void)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    REPORT("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
}

static int probe_io_uring(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    REPORT("io_uring_setup", syscall(SYS_io_uring_setup, 4, &p));
}

static int probe_clock_settime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    REPORT("clock_settime", clock_settime(CLOCK_REALTIME, &ts));
}

/* A fresh file in /tmp (a writable tmpfs inside) for the chmod/xattr probes. */
static const char *scratch_file(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/probe-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) { printf("PROBE scratch ret=-1 errno=%s\n", errname(errno)); exit(0); }
    close(fd);
    return path;
}

/* A file created with the setuid or setgid bit in its mode from the start. */
static int probe_setuid_create(const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/probe-new-%d", (int)getpid());
    errno = 0;
    long r;
    if (!strcmp(name, "setuid-open")) r = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 04755);
    else if (!strcmp(name, "setgid-openat")) r = openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_CLOEXEC, 02755);
    else if (!strcmp(name, "setuid-creat")) r = creat(path, 04755);
    else if (!strcmp(name, "setuid-mknod")) r = mknod(path, S_IFREG | 04755, 0);
    else if (!strcmp(name, "setuid-mknodat")) r = mknodat(AT_FDCWD, path, S_IFREG | 04755, 0);
    else if (!strcmp(name, "setuid-tmpfile")) r = open("/tmp", O_TMPFILE | O_WRONLY | O_CLOEXEC, 04755);
    else if (!strcmp(name, "setuid-openat2")) {
        struct { uint64_t flags, mode, resolve; } how = { O_CREAT | O_WRONLY | O_CLOEXEC, 04755, 0 };
        r = syscall(437 /* openat2 */, AT_FDCWD, path, &how, sizeof how);
    } else {
        r = int80(5 /* i386 open */, (long)low_string(0, path), O_CREAT | O_WRONLY, 04755, 0, 0);
        if (r < 0) { errno = (int)-r; r = -1; }
    }
    int e = errno;
    struct stat st;
    char extra[64] = "created=no";
    if (r >= 0 && !strcmp(name, "setuid-tmpfile") && fstat((int)r, &st) == 0)
        snprintf(extra, sizeof extra, "created=tmpfile mode=%o", (unsigned)(st.st_mode & 07777));
    else if (stat(path, &st) == 0) snprintf(extra, sizeof extra, "created=yes mode=%o", (unsigned)(st.st_mode & 07777));
    unlink(path);
    return report(name, r < 0 ? -1 : 0, e, extra);
}

static int probe_setuid(const char *name)
{
    const char *path = scratch_file();
    errno = 0;
    long r;
    if (!strcmp(name, "setuid-chmod")) r = chmod(path, 04755);
    else if (!strcmp(name, "setuid-fchmodat")) r = fchmodat(AT_FDCWD, path, 04755, 0);
    else if (!strcmp(name, "setgid-fchmod")) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        r = fchmod(fd, 02755);
    } else r = syscall(SYS_fchmodat2, AT_FDCWD, path, 04755, 0);
    int e = errno;
    struct stat st;
    char extra[64] = "";
    if (stat(path, &st) == 0) snprintf(extra, sizeof extra, "mode=%o", (unsigned)(st.st_mode & 07777));
    unlink(path);
    return report(name, r, e, extra);
}

static int probe_xattr(void)
{
    const char *path = scratch_file();
    errno = 0;
    int r = setxattr(path, "user.repro", "x", 1, 0);
    int e = errno;
    unlink(path);
    return report("xattr", r, e, NULL);
}

/* Numeric entries in /proc: the processes this pid namespace shows. */
static int probe_proc_pids(void)
{
    DIR *d = opendir("/proc");
    if (!d) return report("proc-pids", -1, errno, NULL);
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && strspn(e->d_name, "0123456789") == strlen(e->d_name)) n++;
    closedir(d);
    return report("proc-pids", n, 0, NULL);
}

static int probe_ptrace(const char *pid)
{
    pid_t p = (pid_t)atoi(pid);
    errno = 0;
    long r = ptrace(PTRACE_ATTACH, p, 0, 0);
    int e = errno;
    if (r == 0) { waitpid(p, NULL, __WALL); ptrace(PTRACE_DETACH, p, 0, 0); }
    return report("ptrace", r, e, NULL);
}

/* Writes to /proc/sys/kernel/hostname would only rename this UTS namespace, so the
 * write is attempted; drop_caches and sysrq-trigger act on the host, so they are only
 * opened for writing and closed without a byte written. */
static int probe_proc_write(const char *name, const char *path, const char *text)
{
    errno = 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int e = errno;
    if (fd < 0) return report(name, -1, e, "stage=open");
    long r = 0;
    if (text) { errno = 0; r = write(fd, text, strlen(text)); e = errno; }
    close(fd);
    return report(name, r, e, text ? "stage=write" : "stage=open");
}

static int probe_capset(void)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2];
    for (int i = 0; i < 2; i++) d[i].effective = d[i].permitted = d[i].inheritable = ~0u;
    REPORT("capset", syscall(SYS_capset, &h, d));
}

/* What this process holds, for the setuid probe: after exec of a setuid file the ids,
 * capabilities and no_new_privs must be what they were. */
static int probe_creds(void)
{
    char extra[512], line[256], capeff[32] = "?", capprm[32] = "?", nnp[8] = "?";
    FILE *f = fopen("/proc/self/status", "re");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "CapEff: %31s", capeff);
        sscanf(line, "CapPrm: %31s", capprm);
        sscanf(line, "NoNewPrivs: %7s", nnp);
    }
    if (f) fclose(f);
    struct statvfs sv;
    char exe[256] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) exe[n] = 0;
    int nosuid = statvfs(exe, &sv) == 0 ? !!(sv.f_flag & ST_NOSUID) : -1;
    snprintf(extra, sizeof extra, "uid=%d euid=%d gid=%d egid=%d capeff=%s capprm=%s nnp=%s nosuid=%d",
             (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid(), capeff, capprm, nnp, nosuid);
    return report("creds", 0, 0, extra);
}

/* Executes a setuid file (argv[2]) that is a copy of this probe; it prints "creds". */
static int probe_suid_exec(const char *path)
{
    char *args[] = { (char *)path, "creds", NULL };
    execv(path, args);
    return report("suid-exec", -1, errno, "stage=exec");
}

/* TIOCSTI on a pty that is this process's controlling terminal, so that only the
 * seccomp rule (not the kernel's "not your tty" check) can refuse it. `cmd_high` sets
 * bit 32 of the command, which the kernel ignores (cmd is 32-bit) but a 64-bit seccomp
 * comparison does not. Runs in a child that starts a new session. */
static int probe_tiocsti(const char *name, unsigned long cmd)
{
    int pipefd[2];
    if (pipe(pipefd) < 0) return report(name, -1, errno, "stage=pipe");
    pid_t pid = fork();
    if (pid == 0) {
        long r = -1;
        int e = 0;
        const char *stage = "ioctl";
        int m = -1, s = -1;
        if (setsid() < 0) { e = errno; stage = "setsid"; goto out; }
        m = posix_openpt(O_RDWR | O_NOCTTY);
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) { e = errno; stage = "openpt"; goto out; }
        s = open(ptsname(m), O_RDWR);
        if (s < 0) { e = errno; stage = "open-slave"; goto out; }
        ioctl(s, TIOCSCTTY, 0);
        char *c = low_string(0, "#");
        errno = 0;
        if (cmd == 0) { /* i386 ioctl */
            r = int80(54, s, TIOCSTI, (long)c, 0, 0);
            if (r < 0) { e = (int)-r; r = -1; }
        } else {
            r = syscall(SYS_ioctl, s, cmd, c);
            e = errno;
        }
    out:;
        char msg[64];
        snprintf(msg, sizeof msg, "%ld %d %s", r, e, stage);
        if (write(pipefd[1], msg, strlen(msg)) < 0) _exit(1);
        _exit(0);
    }
    close(pipefd[1]);
    char buf[64] = "";
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    if (n > 0) buf[n] = 0;
    waitpid(pid, NULL, 0);
    long r = -1;
    int e = 0;
    char stage[32] = "?", extra[48];
    sscanf(buf, "%ld %d %31s", &r, &e, stage);
    snprintf(extra, sizeof extra, "stage=%s", stage);
    return report(name, r, e, extra);
}

static int probe_clone_newns(void)
{
    errno = 0;
    long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    int e = errno;
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    return report("clone-newns", r, e, NULL);
}

/* ---- i386 ---- */

static int probe_i386(const char *name)
{
    char *lp = low_page();
    long raw;
    if (!strcmp(name, "i386-getpid")) raw = int80(20, 0, 0, 0, 0, 0);
    else if (!strcmp(name, "i386-mount"))
        raw = int80(21, (long)low_string(0, "none"), (long)low_string(64, "/tmp"), (long)low_string(128, "tmpfs"), 0, 0);
    else if (!strcmp(name, "i386-unshare")) raw = int80(310, CLONE_NEWUSER, 0, 0, 0, 0);
    else if (!strcmp(name, "i386-keyctl")) raw = int80(288, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
    else if (!strcmp(name, "i386-bpf")) {
        union bpf_attr *a = (union bpf_attr *)(lp + 1024);
        memset(a, 0, sizeof *a);
        a->map_type = BPF_MAP_TYPE_ARRAY; a->key_size = 4; a->value_size = 4; a->max_entries = 1;
        raw = int80(357, BPF_MAP_CREATE, (long)a, sizeof *a, 0, 0);
    } else if (!strcmp(name, "i386-kexec_load")) raw = int80(283, 0, 0, 0, 0, 0);
    else if (!strcmp(name, "i386-init_module")) raw = int80(128, 0, 0, (long)low_string(256, ""), 0, 0);
    else if (!strcmp(name, "i386-setxattr")) {
        const char *path = scratch_file();
        raw = int80(226, (long)low_string(0, path), (long)low_string(128, "user.repro"), (long)low_string(192, "x"), 1, 0);
        unlink(path);
    } else if (!strcmp(name, "i386-chmod")) {
        const char *path = scratch_file();
        raw = int80(15, (long)low_string(0, path), 04755, 0, 0, 0);
        unlink(path);
    } else if (!strcmp(name, "i386-unshare-ns")) raw = int80(310, CLONE_NEWNS, 0, 0, 0, 0);
    else if (!strcmp(name, "i386-socket-alg")) raw = int80(359, AF_ALG, SOCK_SEQPACKET, 0, 0, 0);
    else if (!strcmp(name, "i386-personality")) raw = int80(136, ADDR_NO_RANDOMIZE, 0, 0, 0, 0);
    else if (!strcmp(name, "i386-setns")) {
        int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        raw = int80(346, fd, 0, 0, 0, 0);
    } else if (!strcmp(name, "i386-clone-newns")) {
        raw = int80(120, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
        if (raw == 0) _exit(0);
        if (raw > 0) waitpid((pid_t)raw, NULL, 0);
    } else if (!strcmp(name, "i386-io_uring_setup")) raw = int80(425, 4, (long)(lp + 2048), 0, 0, 0);
    else if (!strcmp(name, "i386-perf_event_open")) {
        struct perf_event_attr *a = (struct perf_event_attr *)(lp + 2048);
        memset(a, 0, sizeof *a);
        a->type = PERF_TYPE_SOFTWARE; a->size = sizeof *a; a->config = PERF_COUNT_SW_CPU_CLOCK; a->disabled = 1;
        a->exclude_kernel = 1; a->exclude_hv = 1;
        raw = int80(336, (long)a, 0, -1, -1, 0);
    } else { fprintf(stderr, "probe: unknown probe %s\n", name); exit(2); }
    return report_raw(name, raw);
}

/* Reads up to 4 KiB of a file: ret is the byte count (masked /proc files give 0). */
static int probe_read_bytes(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report("read-bytes", -1, errno, "stage=open");
    char buf[4096];
    errno = 0;
    long n = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    return report("read-bytes", n, e, "stage=read");
}

static int probe_clone3(void)
{
    struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_NEWUSER;
    a.exit_signal = SIGCHLD;
    errno = 0;
    long r = syscall(435 /* clone3 */, &a, sizeof a);
    if (r == 0) _exit(0);
    int e = errno;
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    return report("clone3", r, e, NULL);
}

static int probe_open_by_handle(void)
{
    int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, { 0 } };
    REPORT("open_by_handle_at", syscall(SYS_open_by_handle_at, mfd, &fh, O_RDONLY));
}

/* The uid map was written by the launcher; a second write must fail. */
static int probe_uid_map(void)
{
    int fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return report("uid-map", -1, errno, "stage=open");
    errno = 0;
    long r = write(fd, "0 0 4294967295\n", 15);
    int e = errno;
    close(fd);
    return report("uid-map", r, e, "stage=write");
}

static int probe_process_vm_readv(const char *pid)
{
    char local[8], remote[8];
    struct iovec l = { local, sizeof local }, r = { remote, sizeof remote };
    REPORT("process_vm_readv", process_vm_readv((pid_t)atoi(pid), &l, 1, &r, 1, 0));
}

/* An abstract unix socket (X11 and D-Bus use them): bound to the network namespace. */
static int probe_connect_abstract(const char *name)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return report("connect-abstract", -1, errno, "stage=socket");
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    if (n > sizeof a.sun_path - 2) n = sizeof a.sun_path - 2;
    memcpy(a.sun_path + 1, name, n);
    errno = 0;
    int r = connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    return report("connect-abstract", r, errno, NULL);
}

/* ---- containment workloads (ContainmentTests), not probes ---- */

/* Every process forks forever; a failed fork waits 10 ms and tries again, so the
 * bomb stays at the pids limit without spinning. Ends only when killed. */
static _Noreturn void fork_bomb(void)
{
    for (;;)
        if (fork() < 0) usleep(10000);
}

/* Allocates and touches MIB mebibytes, one at a time; prints how far it got. */
static int memory_hog(const char *mib)
{
    long n = atol(mib);
    for (long i = 0; i < n; i++) {
        char *p = malloc(1 << 20);
        if (!p) return report("memhog", i, ENOMEM, NULL);
        memset(p, (int)i, 1 << 20);
    }
    return report("memhog", n, 0, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: probe NAME [ARG]\n"); return 2; }
    const char *n = argv[1];
    if (!strcmp(n, "write-root")) REPORT(n, open("/probe-escape", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    if (!strcmp(n, "write-usr")) REPORT(n, open("/usr/probe-escape", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    if (!strcmp(n, "read-file")) REPORT(n, open(arg2(argc, argv), O_RDONLY | O_CLOEXEC));
    if (!strcmp(n, "connect")) return probe_connect(arg2(argc, argv));
    if (!strcmp(n, "mount")) REPORT(n, mount("none", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(n, "unshare-user")) REPORT(n, unshare(CLONE_NEWUSER));
    if (!strcmp(n, "setns")) return probe_setns();
    if (!strcmp(n, "bpf")) return probe_bpf();
    if (!strcmp(n, "keyctl")) REPORT(n, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    if (!strcmp(n, "perf_event_open")) return probe_perf();
    if (!strcmp(n, "io_uring_setup")) return probe_io_uring();
    if (!strcmp(n, "kexec_load")) REPORT(n, syscall(SYS_kexec_load, 0, 0, NULL, 0));
    if (!strcmp(n, "init_module")) REPORT(n, syscall(SYS_init_module, NULL, 0, ""));
    if (!strcmp(n, "clock_settime")) return probe_clock_settime();
    if (!strcmp(n, "setuid-open") || !strcmp(n, "setgid-openat") || !strcmp(n, "setuid-creat") ||
        !strcmp(n, "setuid-mknod") || !strcmp(n, "setuid-mknodat") || !strcmp(n, "setuid-tmpfile") ||
        !strcmp(n, "setuid-openat2") || !strcmp(n, "i386-setuid-open"))
        return probe_setuid_create(n);
    if (!strncmp(n, "setuid-", 7) || !strcmp(n, "setgid-fchmod")) return probe_setuid(n);
    if (!strcmp(n, "xattr")) return probe_xattr();
    if (!strcmp(n, "proc-pids")) return probe_proc_pids();
    if (!strcmp(n, "kill")) REPORT(n, kill((pid_t)atoi(arg2(argc, argv)), 0));
    if (!strcmp(n, "ptrace")) return probe_ptrace(arg2(argc, argv));
    if (!strcmp(n, "proc-hostname")) return probe_proc_write(n, "/proc/sys/kernel/hostname", "escaped");
    if (!strcmp(n, "proc-drop-caches")) return probe_proc_write(n, "/proc/sys/vm/drop_caches", NULL);
    if (!strcmp(n, "proc-sysrq")) return probe_proc_write(n, "/proc/sysrq-trigger", NULL);
    if (!strcmp(n, "blockdev")) REPORT(n, open(arg2(argc, argv), O_RDONLY | O_CLOEXEC));
    if (!strcmp(n, "capset")) return probe_capset();
    if (!strcmp(n, "ambient")) REPORT(n, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0));
    if (!strcmp(n, "creds")) return probe_creds();
    if (!strcmp(n, "suid-exec")) return probe_suid_exec(arg2(argc, argv));
    if (!strcmp(n, "personality-norandom")) REPORT(n, personality(ADDR_NO_RANDOMIZE));
    if (!strcmp(n, "personality-query")) REPORT(n, personality(0xffffffff));
    if (!strcmp(n, "socket-packet")) REPORT(n, socket(AF_PACKET, SOCK_RAW, 0));
    if (!strcmp(n, "socket-vsock")) REPORT(n, socket(AF_VSOCK, SOCK_STREAM, 0));
    if (!strcmp(n, "socket-alg")) REPORT(n, socket(AF_ALG, SOCK_SEQPACKET, 0));
    /* The family is an int: bit 32 is dropped by the kernel, not by a 64-bit compare. */
    if (!strcmp(n, "socket-alg-high")) REPORT(n, syscall(SYS_socket, (1L << 32) | AF_ALG, SOCK_SEQPACKET, 0));
    if (!strcmp(n, "socket-netlink-audit")) REPORT(n, socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */));
    if (!strcmp(n, "socket-netlink-high")) REPORT(n, syscall(SYS_socket, (1L << 32) | AF_NETLINK, SOCK_RAW, 9));
    if (!strcmp(n, "clone-newns")) return probe_clone_newns();
    if (!strcmp(n, "tiocsti")) return probe_tiocsti(n, TIOCSTI);
    if (!strcmp(n, "tiocsti-high")) return probe_tiocsti(n, (1UL << 32) | TIOCSTI);
    if (!strcmp(n, "i386-tiocsti")) return probe_tiocsti(n, 0);
    if (!strcmp(n, "x32-keyctl")) {
        errno = 0;
        long r = syscall(__X32_SYSCALL_BIT | 250, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        return report(n, r, errno, NULL);
    }
    if (!strncmp(n, "i386-", 5) && strcmp(n, "i386-setuid-open")) return probe_i386(n);
    if (!strcmp(n, "read-bytes")) return probe_read_bytes(arg2(argc, argv));
    if (!strcmp(n, "clone3")) return probe_clone3();
    if (!strcmp(n, "open_by_handle_at")) return probe_open_by_handle();
    if (!strcmp(n, "uid-map")) return probe_uid_map();
    if (!strcmp(n, "process_vm_readv")) return probe_process_vm_readv(arg2(argc, argv));
    if (!strcmp(n, "userfaultfd")) REPORT(n, syscall(SYS_userfaultfd, O_CLOEXEC));
    if (!strcmp(n, "chroot")) REPORT(n, chroot("/tmp"));
    if (!strcmp(n, "umount")) REPORT(n, umount2("/proc", MNT_DETACH));
    if (!strcmp(n, "pivot_root")) REPORT(n, syscall(SYS_pivot_root, "/tmp", "/tmp"));
    if (!strcmp(n, "fsopen")) REPORT(n, syscall(430 /* fsopen */, "tmpfs", 0));
    if (!strcmp(n, "open_tree")) REPORT(n, syscall(428 /* open_tree */, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */));
    if (!strcmp(n, "add_key")) REPORT(n, syscall(SYS_add_key, "user", "repro", "x", 1, KEY_SPEC_PROCESS_KEYRING));
    if (!strcmp(n, "request_key")) REPORT(n, syscall(SYS_request_key, "user", "repro", NULL, 0));
    if (!strcmp(n, "finit_module")) REPORT(n, syscall(SYS_finit_module, -1, "", 0));
    if (!strcmp(n, "delete_module")) REPORT(n, syscall(SYS_delete_module, "repro_no_such_module", O_NONBLOCK));
    /* Wrong magic numbers: never reboots, whatever happens. */
    if (!strcmp(n, "reboot")) REPORT(n, syscall(SYS_reboot, 0, 0, 0, NULL));
    if (!strcmp(n, "swapon")) REPORT(n, syscall(SYS_swapon, "/repro-no-such-swap", 0));
    if (!strcmp(n, "acct")) REPORT(n, syscall(SYS_acct, "/repro-no-such-file"));
    if (!strcmp(n, "settimeofday")) REPORT(n, syscall(SYS_settimeofday, NULL, NULL));
    if (!strcmp(n, "adjtimex")) { struct timex t = { .modes = 0 }; REPORT(n, adjtimex(&t)); }
    if (!strcmp(n, "syslog")) REPORT(n, syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
    if (!strcmp(n, "iopl")) REPORT(n, syscall(SYS_iopl, 0));
    if (!strcmp(n, "ioperm")) REPORT(n, syscall(SYS_ioperm, 0x80, 1, 0));
    if (!strcmp(n, "fanotify_init")) REPORT(n, syscall(SYS_fanotify_init, 0, O_RDONLY));
    if (!strcmp(n, "sethostname")) REPORT(n, sethostname("escaped", 7));
    if (!strcmp(n, "setuid0")) REPORT(n, setuid(0));
    /* A block device node for the host's first disk (254:0 is virtio's vda). */
    if (!strcmp(n, "mknod-dev")) REPORT(n, mknod("/tmp/probe-disk", S_IFBLK | 0600, makedev(254, 0)));
    if (!strcmp(n, "socket-netlink-route")) REPORT(n, socket(AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */));
    if (!strcmp(n, "connect-abstract")) return probe_connect_abstract(arg2(argc, argv));
    if (!strcmp(n, "shmget")) REPORT(n, shmget((key_t)strtol(arg2(argc, argv), NULL, 0), 0, 0));
    if (!strcmp(n, "forkbomb")) fork_bomb();
    if (!strcmp(n, "memhog")) return memory_hog(arg2(argc, argv));
    fprintf(stderr, "probe: unknown probe %s\n", n);
    return 2;
}
