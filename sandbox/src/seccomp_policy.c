/* The seccomp policy: the default rules, policy files, and BPF generation with
 * libseccomp. The filter covers the native x86_64 ABI and the i386 and x32 ABIs, so an
 * `int 0x80` call from a 64-bit process meets the same rules.
 *
 * The table below is the policy; `repro-sandbox --print-policy` prints it and
 * sandbox/POLICY.md is that output (a test keeps them equal). Every denied call fails
 * with an errno instead of killing the process, so well-behaved build tools that probe
 * for a feature fall back instead of crashing. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* CREATE_MODE: the call creates a file whose mode (argument `arg`) has S_ISUID or
 * S_ISGID; `value` is the index of the open flags argument (the file is created only
 * with O_CREAT or O_TMPFILE), or ALWAYS_CREATES. */
enum cond { ALWAYS, ARG_BITS, ARG_EQ, NETLINK_NOT_ROUTE, IN_PREFIX, CREATE_MODE };
#define ALWAYS_CREATES 99
#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

struct rule {
    const char *name;
    int err;
    enum cond cond;
    unsigned arg;
    uint64_t value;
    const char *why;
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

static const struct rule default_rules[] = {
    { "mount", EPERM, ALWAYS, 0, 0, "the mount table is fixed by the launcher" },
    { "umount2", EPERM, ALWAYS, 0, 0, "the mount table is fixed by the launcher" },
    { "pivot_root", EPERM, ALWAYS, 0, 0, "the root is fixed by the launcher" },
    { "chroot", EPERM, ALWAYS, 0, 0, "the root is fixed by the launcher" },
    { "move_mount", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "open_tree", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "fsopen", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "fsmount", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "fspick", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "fsconfig", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "mount_setattr", EPERM, ALWAYS, 0, 0, "new mount API" },
    { "unshare", EPERM, ALWAYS, 0, 0, "no new namespaces: nested user namespaces are the usual first step of kernel exploits" },
    { "setns", EPERM, ALWAYS, 0, 0, "no joining other namespaces" },
    { "clone", EPERM, ARG_BITS, 0, NS_FLAGS, "clone with any CLONE_NEW* flag: same as unshare" },
    { "clone3", ENOSYS, ALWAYS, 0, 0, "flags sit in memory seccomp cannot read; ENOSYS makes libc fall back to clone" },
    { "bpf", EPERM, ALWAYS, 0, 0, "eBPF is a large kernel attack surface" },
    { "perf_event_open", EPERM, ALWAYS, 0, 0, "side channels and kernel attack surface" },
    { "userfaultfd", EPERM, ALWAYS, 0, 0, "used to widen kernel race windows in exploits" },
    { "keyctl", EPERM, ALWAYS, 0, 0, "kernel keyrings are not namespaced" },
    { "add_key", EPERM, ALWAYS, 0, 0, "kernel keyrings are not namespaced" },
    { "request_key", EPERM, ALWAYS, 0, 0, "kernel keyrings are not namespaced" },
    { "kexec_load", EPERM, ALWAYS, 0, 0, "replaces the running kernel" },
    { "kexec_file_load", EPERM, ALWAYS, 0, 0, "replaces the running kernel" },
    { "init_module", EPERM, ALWAYS, 0, 0, "loads kernel code" },
    { "finit_module", EPERM, ALWAYS, 0, 0, "loads kernel code" },
    { "delete_module", EPERM, ALWAYS, 0, 0, "unloads kernel code" },
    { "create_module", EPERM, ALWAYS, 0, 0, "obsolete module call" },
    { "reboot", EPERM, ALWAYS, 0, 0, "host power state" },
    { "swapon", EPERM, ALWAYS, 0, 0, "host swap" },
    { "swapoff", EPERM, ALWAYS, 0, 0, "host swap" },
    { "acct", EPERM, ALWAYS, 0, 0, "host process accounting" },
    { "clock_settime", EPERM, ALWAYS, 0, 0, "the clock is not namespaced" },
    { "clock_adjtime", EPERM, ALWAYS, 0, 0, "the clock is not namespaced" },
    { "settimeofday", EPERM, ALWAYS, 0, 0, "the clock is not namespaced" },
    { "adjtimex", EPERM, ALWAYS, 0, 0, "the clock is not namespaced" },
    { "stime", EPERM, ALWAYS, 0, 0, "the clock is not namespaced (i386)" },
    { "open_by_handle_at", EPERM, ALWAYS, 0, 0, "opens files by handle, bypassing the mount view (the 'shocker' escape)" },
    { "io_uring_setup", EPERM, ALWAYS, 0, 0, "io_uring bypasses seccomp for the calls it performs" },
    { "io_uring_enter", EPERM, ALWAYS, 0, 0, "io_uring bypasses seccomp for the calls it performs" },
    { "io_uring_register", EPERM, ALWAYS, 0, 0, "io_uring bypasses seccomp for the calls it performs" },
    { "personality", EPERM, IN_PREFIX, 0, 0, "only PER_LINUX, PER_LINUX32, UNAME26 and the query 0xffffffff: no ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO" },
    { "socket", EPERM, ARG_EQ, 0, AF_PACKET, "AF_PACKET: raw frames" },
    { "socket", EPERM, ARG_EQ, 0, AF_VSOCK, "AF_VSOCK: talks to the hypervisor" },
    { "socket", EPERM, ARG_EQ, 0, AF_ALG, "AF_ALG: kernel crypto, a history of exploits" },
    { "socket", EPERM, NETLINK_NOT_ROUTE, 0, 0, "AF_NETLINK other than NETLINK_ROUTE (which libc's getaddrinfo uses)" },
    { "socketcall", EPERM, ALWAYS, 0, 0, "i386 socket multiplexer hides its arguments; modern i386 libc uses the direct calls" },
    { "ioctl", EPERM, ARG_EQ, 1, TIOCSTI, "TIOCSTI: typing into the caller's terminal" },
    { "ioctl", EPERM, ARG_EQ, 1, TIOCLINUX, "TIOCLINUX: console selection can inject input too" },
    { "chmod", EPERM, ARG_BITS, 1, S_ISUID | S_ISGID, "setuid/setgid bits: outputs may not carry them (as Nix)" },
    { "fchmod", EPERM, ARG_BITS, 1, S_ISUID | S_ISGID, "setuid/setgid bits: outputs may not carry them (as Nix)" },
    { "fchmodat", EPERM, ARG_BITS, 2, S_ISUID | S_ISGID, "setuid/setgid bits: outputs may not carry them (as Nix)" },
    { "fchmodat2", EPERM, ARG_BITS, 2, S_ISUID | S_ISGID, "setuid/setgid bits: outputs may not carry them (as Nix)" },
    /* A file can be born setuid too: the mode given to open/creat/mknod keeps S_ISUID. */
    { "open", EPERM, CREATE_MODE, 2, 1, "creating a file with setuid/setgid bits (as chmod above)" },
    { "openat", EPERM, CREATE_MODE, 3, 2, "creating a file with setuid/setgid bits (as chmod above)" },
    { "creat", EPERM, CREATE_MODE, 1, ALWAYS_CREATES, "creating a file with setuid/setgid bits (as chmod above)" },
    { "mknod", EPERM, CREATE_MODE, 1, ALWAYS_CREATES, "creating a file with setuid/setgid bits (as chmod above)" },
    { "mknodat", EPERM, CREATE_MODE, 2, ALWAYS_CREATES, "creating a file with setuid/setgid bits (as chmod above)" },
    { "openat2", ENOSYS, ALWAYS, 0, 0, "its mode sits in memory seccomp cannot read; ENOSYS makes callers fall back to openat" },
    { "setxattr", ENOTSUP, ALWAYS, 0, 0, "outputs cannot carry extended attributes (as Nix)" },
    { "lsetxattr", ENOTSUP, ALWAYS, 0, 0, "outputs cannot carry extended attributes" },
    { "fsetxattr", ENOTSUP, ALWAYS, 0, 0, "outputs cannot carry extended attributes" },
    { "getxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "lgetxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "fgetxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "listxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "llistxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "flistxattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "removexattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "lremovexattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "fremovexattr", ENOTSUP, ALWAYS, 0, 0, "extended attributes do not exist inside" },
    { "setxattrat", ENOTSUP, IN_PREFIX, 0, 0, "extended attributes (Linux 6.13 calls)" },
    { "getxattrat", ENOTSUP, IN_PREFIX, 0, 0, "extended attributes (Linux 6.13 calls)" },
    { "listxattrat", ENOTSUP, IN_PREFIX, 0, 0, "extended attributes (Linux 6.13 calls)" },
    { "removexattrat", ENOTSUP, IN_PREFIX, 0, 0, "extended attributes (Linux 6.13 calls)" },
    { "syslog", EPERM, ALWAYS, 0, 0, "host kernel log" },
    { "quotactl", EPERM, ALWAYS, 0, 0, "host quotas" },
    { "lookup_dcookie", EPERM, ALWAYS, 0, 0, "kernel profiling" },
    { "uselib", EPERM, ALWAYS, 0, 0, "obsolete loader call" },
    { "ustat", EPERM, ALWAYS, 0, 0, "obsolete" },
    { "sysfs", EPERM, ALWAYS, 0, 0, "obsolete" },
    { "_sysctl", EPERM, ALWAYS, 0, 0, "obsolete sysctl interface" },
    { "vhangup", EPERM, ALWAYS, 0, 0, "terminal hangup" },
    { "iopl", EPERM, ALWAYS, 0, 0, "raw port I/O" },
    { "ioperm", EPERM, ALWAYS, 0, 0, "raw port I/O" },
    { "nfsservctl", EPERM, ALWAYS, 0, 0, "obsolete" },
    { "fanotify_init", EPERM, ALWAYS, 0, 0, "filesystem-wide monitoring" },
    { "vm86", EPERM, ALWAYS, 0, 0, "i386 virtual 8086 mode" },
    { "vm86old", EPERM, ALWAYS, 0, 0, "i386 virtual 8086 mode" },
    { "sethostname", EPERM, ALWAYS, 0, 0, "the hostname is fixed for reproducibility" },
    { "setdomainname", EPERM, ALWAYS, 0, 0, "the domain name is fixed for reproducibility" },
};

/* Rules libseccomp 2.5 cannot express, as a hand-written BPF prefix that runs before
 * its program (every other call falls through to it):
 * - personality(2) is allowed only for PER_LINUX, PER_LINUX32, UNAME26 (alone or with
 *   PER_LINUX32) and the query 0xffffffff; anything else (ADDR_NO_RANDOMIZE,
 *   READ_IMPLIES_EXEC, ...) fails with EPERM. "None of five values" needs five
 *   comparisons of one argument, and libseccomp 2.5 allows one. The kernel reads the
 *   argument as 32 bits, so only the low half (offset 16, little-endian) is compared.
 * - setxattrat/getxattrat/listxattrat/removexattrat (463-466 on every ABI; Linux 6.13)
 *   are newer than libseccomp 2.5's tables: ENOTSUP by number.
 * x32 calls are x86_64 calls with bit 30 set; it is masked off before comparing. */
static const struct sock_filter prefix[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
    /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    /* 3 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0x40000000u),
    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 7, 0),
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 463, 0, 15),
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 466, 14, 13),
    /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 13),
    /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 2, 0),
    /* 10 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 463, 0, 10),
    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 466, 9, 8),
    /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16),
    /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
    /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8, 4, 0),
    /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20000, 3, 0),
    /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20008, 2, 0),
    /* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0),
    /* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    /* 19 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 20 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTSUP),
};
static bool use_prefix;

static const uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };

static const char *errno_name(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "ENOTSUP";
    case EACCES: return "EACCES";
    default: return "?";
    }
}

static int errno_value(const char *s)
{
    static const struct { const char *n; int v; } names[] = {
        { "EPERM", EPERM }, { "ENOSYS", ENOSYS }, { "ENOTSUP", ENOTSUP }, { "EOPNOTSUPP", EOPNOTSUPP },
        { "EACCES", EACCES }, { "EINVAL", EINVAL }, { "ENOENT", ENOENT },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].n)) return names[i].v;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && v > 0 && v < 4096) return (int)v;
    return -1;
}

static void cond_text(const struct rule *r, char *buf, size_t n)
{
    switch (r->cond) {
    case ALWAYS: snprintf(buf, n, "always"); break;
    case ARG_BITS: snprintf(buf, n, "arg%u & 0x%llx", r->arg, (unsigned long long)r->value); break;
    case ARG_EQ: snprintf(buf, n, "(u32)arg%u == 0x%llx", r->arg, (unsigned long long)r->value); break;
    case NETLINK_NOT_ROUTE: snprintf(buf, n, "(u32)arg0 == AF_NETLINK && arg2 != 0"); break;
    case CREATE_MODE:
        if (r->value == ALWAYS_CREATES) snprintf(buf, n, "arg%u & 0xc00", r->arg);
        else snprintf(buf, n, "arg%u & 0xc00 && arg%llu & (O_CREAT or O_TMPFILE)", r->arg, (unsigned long long)r->value);
        break;
    case IN_PREFIX:
        snprintf(buf, n, strcmp(r->name, "personality") ? "always" : "arg0 not in {0, 0x8, 0x20000, 0x20008, 0xffffffff}");
        break;
    }
}

void seccomp_print_policy(void)
{
    printf("# Default seccomp policy of repro-sandbox\n\n");
    printf("Policy version: `%s`. Generated by `repro-sandbox --print-policy`; do not edit.\n\n", SANDBOX_POLICY_VERSION);
    printf("Default action: allow. ABIs covered: x86_64, i386 (`int 0x80`), x32. Every other call is\n");
    printf("allowed; capabilities are dropped and no_new_privs is set before the filter loads.\n");
    printf("`(u32)argN` compares only the low 32 bits: the kernel reads those arguments as 32-bit\n");
    printf("ints, so a value with a high bit set must not slip past the rule.\n\n");
    printf("| syscall | when | result | why |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < sizeof default_rules / sizeof default_rules[0]; i++) {
        const struct rule *r = &default_rules[i];
        char c[96];
        cond_text(r, c, sizeof c);
        printf("| `%s` | %s | %s | %s |\n", r->name, c, errno_name(r->err), r->why);
    }
}

/* FNV-1a (64 bits) of the rule table as the policy prints it (name, condition, errno):
 * recorded in default_filter.inc so that a test can tell the precompiled filter was made
 * from today's rules whatever libseccomp the host has. Not a security measure. */
static unsigned long long rules_hash(void)
{
    unsigned long long h = 14695981039346656037ULL;
    for (size_t i = 0; i < sizeof default_rules / sizeof default_rules[0]; i++) {
        const struct rule *r = &default_rules[i];
        char c[96], row[256];
        cond_text(r, c, sizeof c);
        snprintf(row, sizeof row, "%s|%s|%d\n", r->name, c, r->err);
        for (const char *p = row; *p; p++) { h ^= (unsigned char)*p; h *= 1099511628211ULL; }
    }
    return h;
}

static int resolve(const char *name) { return seccomp_syscall_resolve_name(name); }

/* Adds one rule; returns 0, or a negative errno from libseccomp. A syscall that does
 * not exist on one of the ABIs (e.g. socketcall on x86_64) is skipped there. */
static int add_rule(scmp_filter_ctx ctx, const struct rule *r, const char *origin)
{
    if (r->cond == IN_PREFIX) { use_prefix = true; return 0; }
    int nr = resolve(r->name);
    if (nr == __NR_SCMP_ERROR) {
        fprintf(stderr, "repro-sandbox: %s: unknown system call '%s'\n", origin, r->name);
        exit(2);
    }
    uint32_t act = SCMP_ACT_ERRNO((uint32_t)r->err);
    int rc = 0;
    switch (r->cond) {
    case ALWAYS:
        rc = seccomp_rule_add_array(ctx, act, nr, 0, NULL);
        break;
    case ARG_EQ: {
        /* The compared arguments (socket's family, ioctl's cmd) are 32-bit in the
         * kernel, which drops the upper half; a 64-bit compare would let a caller
         * slip past with a high bit set (the flatpak CVE-2019-10063 TIOCSTI bypass). */
        struct scmp_arg_cmp c = SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, r->value);
        rc = seccomp_rule_add_array(ctx, act, nr, 1, &c);
        break;
    }
    case ARG_BITS:
        for (int bit = 0; bit < 64 && rc == 0; bit++) {
            uint64_t b = (uint64_t)1 << bit;
            if (!(r->value & b)) continue;
            struct scmp_arg_cmp c = SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, b, b);
            rc = seccomp_rule_add_array(ctx, act, nr, 1, &c);
        }
        break;
    case NETLINK_NOT_ROUTE: {
        /* Family compared on its low 32 bits as above; a protocol with high bits set
         * counts as "not NETLINK_ROUTE" and is refused too. */
        struct scmp_arg_cmp c[2] = { SCMP_CMP(0, SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_NETLINK),
                                     SCMP_CMP(2, SCMP_CMP_NE, NETLINK_ROUTE) };
        rc = seccomp_rule_add_array(ctx, act, nr, 2, c);
        break;
    }
    case CREATE_MODE: {
        static const uint64_t bits[] = { S_ISUID, S_ISGID }, creating[] = { O_CREAT, __O_TMPFILE };
        for (int b = 0; b < 2 && rc == 0; b++) {
            struct scmp_arg_cmp c[2] = { SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, bits[b], bits[b]) };
            if (r->value == ALWAYS_CREATES) { rc = seccomp_rule_add_array(ctx, act, nr, 1, c); continue; }
            for (int f = 0; f < 2 && rc == 0; f++) {
                c[1] = (struct scmp_arg_cmp)SCMP_CMP((unsigned)r->value, SCMP_CMP_MASKED_EQ, creating[f], creating[f]);
                rc = seccomp_rule_add_array(ctx, act, nr, 2, c);
            }
        }
        break;
    }
    case IN_PREFIX:
        use_prefix = true; /* see `prefix` */
        break;
    }
    if (rc == -EDOM || rc == -EOPNOTSUPP)
        rc = 0; /* not present on some ABI */
    return rc;
}

static void add_defaults(scmp_filter_ctx ctx)
{
    for (size_t i = 0; i < sizeof default_rules / sizeof default_rules[0]; i++) {
        int rc = add_rule(ctx, &default_rules[i], "default policy");
        if (rc < 0) {
            fprintf(stderr, "repro-sandbox: default policy: cannot add rule for %s: %s\n",
                    default_rules[i].name, strerror(-rc));
            exit(70);
        }
    }
}

static void load_file(scmp_filter_ctx ctx, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) die(2, "--seccomp %s: %s (give default, none, or a policy file)", path, strerror(errno));
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char name[128], err[64], extra[8];
        int n = sscanf(line, "%127s %63s %7s", name, err, extra);
        if (n <= 0) continue;
        if (n == 1 && !strcmp(name, "@default")) { add_defaults(ctx); continue; }
        if (n != 2)
            die(2, "%s:%d: expected \"SYSCALL ERRNO\" (e.g. \"mount EPERM\") or \"@default\"", path, lineno);
        int e = errno_value(err);
        if (e < 0) die(2, "%s:%d: '%s' is not an errno name (EPERM, ENOSYS, ENOTSUP, ...) or number", path, lineno, err);
        if (resolve(name) == __NR_SCMP_ERROR) die(2, "%s:%d: unknown system call '%s'", path, lineno, name);
        struct rule r = { name, e, ALWAYS, 0, 0, "" };
        char origin[600];
        snprintf(origin, sizeof origin, "%s:%d", path, lineno);
        int rc = add_rule(ctx, &r, origin);
        if (rc < 0 && rc != -EEXIST) die(2, "%s:%d: cannot add rule for %s: %s", path, lineno, name, strerror(-rc));
    }
    fclose(f);
}

/* The default policy compiled by libseccomp at development time (`repro-sandbox
 * --export-default-bpf > sandbox/src/default_filter.inc`; a test keeps it current).
 * Using it costs nothing at start-up (compiling takes libseccomp about a millisecond),
 * and every host runs the same bytes for the same policy version, whatever libseccomp
 * it has. */
#include "default_filter.inc"

static bool compile(const char *spec, struct sock_fprog *out);

bool seccomp_build(const char *spec, struct sock_fprog *out)
{
    if (!strcmp(spec, "none")) return false;
    if (!strcmp(spec, "default") && sizeof default_bpf > sizeof(struct sock_filter)) {
        out->len = (unsigned short)(sizeof default_bpf / sizeof default_bpf[0]);
        out->filter = (struct sock_filter *)default_bpf;
        return true;
    }
    return compile(spec, out);
}

void seccomp_export_default(void)
{
    struct sock_fprog prog;
    compile("default", &prog);
    printf("/* Generated by `repro-sandbox --export-default-bpf` from the rules in\n"
           " * seccomp_policy.c (%s, libseccomp %u.%u.%u). Do not edit.\n"
           " * rules fnv1a-64 %016llx */\n",
           SANDBOX_POLICY_VERSION, seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro,
           rules_hash());
    printf("static const struct sock_filter default_bpf[] = {\n");
    for (unsigned i = 0; i < prog.len; i++) {
        const struct sock_filter *f = &prog.filter[i];
        printf("    { 0x%04x, %u, %u, 0x%08x },\n", f->code, f->jt, f->jf, f->k);
    }
    printf("};\n");
}

static bool compile(const char *spec, struct sock_fprog *out)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) die(70, "seccomp_init failed");
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        int rc = seccomp_arch_add(ctx, arches[i]);
        if (rc < 0 && rc != -EEXIST) die(70, "seccomp_arch_add: %s", strerror(-rc));
    }
    /* no_new_privs is set by the launcher itself, right before loading. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (!strcmp(spec, "default")) add_defaults(ctx);
    else load_file(ctx, spec);

    /* Export the BPF now, so the command child only needs prctl() before exec.
     * libseccomp 2.5 exports only to a file descriptor: use a memfd. */
    int mfd = memfd_create("repro-seccomp", MFD_CLOEXEC);
    if (mfd < 0) die(70, "memfd_create: %s", strerror(errno));
    int rc = seccomp_export_bpf(ctx, mfd);
    if (rc < 0) die(70, "seccomp_export_bpf: %s", strerror(-rc));
    off_t len = lseek(mfd, 0, SEEK_END);
    void *buf = malloc((size_t)len);
    if (!buf || pread(mfd, buf, (size_t)len, 0) != len) die(70, "reading the seccomp program back failed");
    close(mfd);
    seccomp_release(ctx);
    size_t pre = use_prefix ? sizeof prefix : 0;
    struct sock_filter *prog = malloc(pre + (size_t)len);
    if (!prog) die(70, "out of memory");
    memcpy(prog, prefix, pre);
    memcpy((char *)prog + pre, buf, (size_t)len);
    free(buf);
    out->len = (unsigned short)((pre + (size_t)len) / sizeof(struct sock_filter));
    out->filter = prog;
    return true;
}
