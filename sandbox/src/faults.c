/* Seeded syscall faults (docs/faults.md): the launcher's supervisor answers seccomp
 * user notifications for the hooked syscall families with an errno, or lets the call
 * proceed as the kernel would have (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 * Why this cannot weaken the default policy:
 * - the kernel runs every filter and takes the strictest result; the default policy's
 *   SECCOMP_RET_ERRNO outranks SECCOMP_RET_USER_NOTIF, so a refused call fails before
 *   any notification, and CONTINUE only ever resumes a call every filter allowed;
 * - the supervisor never answers "allow" for something refused: its only answers are
 *   an errno or CONTINUE;
 * - path prefixes are read from the target's memory (open) or /proc/PID/fd (fd calls)
 *   and may change under us (the TOCTOU caveat of seccomp_unotify(2)); they only ever
 *   decide whether to inject an error, never whether something is allowed.
 *
 * Decisions are a counter-based hash: clause k's n-th matching call fails when
 * splitmix(splitmix(splitmix(seed) ^ key) ^ n) / 2^64 < share, where key is the FNV-1a
 * hash of the family name plus the clause's ordinal among clauses of that family.
 * Sources/Faults/FaultDecision.swift computes the same numbers, so a run can be
 * predicted and replayed. A call is counted when its family and path prefix match. */
#include "sandbox.h"
#include "faults.h"
#include "faults_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* Keep in step with Sources/Faults/FaultFamily.swift. */
const struct family faults_families[] = {
    { "write", FD_ARG0, { "write", "writev", "pwrite64", "pwritev", "pwritev2" }, {0}, {0},
      { EIO, ENOSPC, EDQUOT, EFBIG, EINTR, EAGAIN } },
    { "fsync", FD_ARG0, { "fsync", "fdatasync", "sync_file_range", "syncfs" }, {0}, {0},
      { EIO, ENOSPC, EDQUOT, EROFS, EINVAL } },
    { "open", PATH_ARG, { "open", "openat", "creat" }, { -1, 0, -1 }, { 0, 1, 0 },
      { EMFILE, ENFILE, ENOENT, EACCES, EIO, ENOSPC, EINTR } },
    { "read", FD_ARG0, { "read", "readv", "pread64", "preadv", "preadv2" }, {0}, {0},
      { EINTR, EIO, EAGAIN } },
    { "connect", SOCKET, { "connect" }, {0}, {0},
      { ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH, ECONNRESET, EINTR } },
    { "send", SOCKET, { "sendto", "sendmsg", "sendmmsg" }, {0}, {0},
      { ECONNRESET, EAGAIN, EPIPE, ENOBUFS, EINTR } },
    { "recv", SOCKET, { "recvfrom", "recvmsg", "recvmmsg" }, {0}, {0},
      { ECONNRESET, EAGAIN, ETIMEDOUT, EINTR } },
};
#define N_FAMILIES (sizeof faults_families / sizeof faults_families[0])

static const struct { const char *name; int value; } errno_names[] = {
    { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EFBIG", EFBIG }, { "EINTR", EINTR },
    { "EAGAIN", EAGAIN }, { "EROFS", EROFS }, { "EINVAL", EINVAL }, { "EMFILE", EMFILE }, { "ENFILE", ENFILE },
    { "ENOENT", ENOENT }, { "EACCES", EACCES }, { "ECONNREFUSED", ECONNREFUSED }, { "ETIMEDOUT", ETIMEDOUT },
    { "ENETUNREACH", ENETUNREACH }, { "EHOSTUNREACH", EHOSTUNREACH }, { "ECONNRESET", ECONNRESET },
    { "EPIPE", EPIPE }, { "ENOBUFS", ENOBUFS },
};

struct clause faults_clauses[MAX_CLAUSES];
int faults_n_clauses;
struct fault_event faults_events[MAX_EVENTS];
int faults_n_events;
int faults_family_of_nr[1024];
int faults_call_of_nr[1024];
int faults_sock[2] = { -1, -1 };
int faults_stop_pipe[2] = { -1, -1 };
char faults_error[200];
static unsigned long long seed;
static struct sock_fprog prog;
static pthread_t thread;
static bool thread_started;

const char *faults_errno_name(int e)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == e) return errno_names[i].name;
    return "?";
}

static uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ULL; }
    return h;
}

bool faults_decide(const struct clause *c, unsigned long long n)
{
    if (n <= c->after) return false;
    if (c->share >= 1) return true;
    uint64_t h = splitmix(splitmix(splitmix(seed) ^ c->key) ^ n);
    return (double)(h >> 11) * 0x1.0p-53 < c->share;
}

static void bad_clause(const char *clause, const char *what)
{
    die(2, "--fault '%s': %s (expected \"FAMILY ERRNO|- SHARE AFTER DELAY_US [PATH]\", e.g. \"write EIO 0.1 0 0 /build\")",
        clause, what);
}

void faults_add(const char *text)
{
    if (faults_n_clauses == MAX_CLAUSES) die(2, "--fault: at most %d clauses", MAX_CLAUSES);
    char fam[32], err[32], share[64], after[32], delay[32];
    int used = 0;
    if (sscanf(text, "%31s %31s %63s %31s %31s %n", fam, err, share, after, delay, &used) != 5)
        bad_clause(text, "five fields and an optional path");
    struct clause *c = &faults_clauses[faults_n_clauses];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (!strcmp(fam, faults_families[i].name)) c->fam = &faults_families[i];
    if (!c->fam) bad_clause(text, "unknown family (write, fsync, open, read, connect, send, recv)");
    if (strcmp(err, "-")) {
        for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
            if (!strcmp(err, errno_names[i].name)) c->err = errno_names[i].value;
        bool allowed = false;
        for (int i = 0; i < 8 && c->fam->errnos[i]; i++) allowed |= c->fam->errnos[i] == c->err;
        if (!c->err || !allowed) bad_clause(text, "this errno is not one the family can fail with");
    }
    char *end;
    c->share = strtod(share, &end);
    if (*end || !(c->share >= 0 && c->share <= 1)) bad_clause(text, "SHARE must be a number from 0 to 1");
    errno = 0;
    c->after = strtoull(after, &end, 10);
    if (*end || errno || after[0] == '-') bad_clause(text, "AFTER must be a whole number of calls");
    c->delay_us = strtoull(delay, &end, 10);
    if (*end || errno || delay[0] == '-' || c->delay_us > 60ULL * 1000 * 1000)
        bad_clause(text, "DELAY_US must be microseconds, at most 60 s");
    if (!c->err && !c->delay_us) bad_clause(text, "a clause needs an errno or a delay");
    if (text[used]) {
        if (text[used] != '/') bad_clause(text, "PATH must be absolute");
        if (c->fam->kind == SOCKET) bad_clause(text, "socket families take no path");
        c->path = strdup(text + used);
        size_t len = strlen(c->path);
        while (len > 1 && c->path[len - 1] == '/') c->path[--len] = 0;
    }
    int ordinal = 0;
    for (int i = 0; i < faults_n_clauses; i++) ordinal += faults_clauses[i].fam == c->fam;
    c->key = fnv1a(c->fam->name) + (uint64_t)ordinal;
    faults_n_clauses++;
}

void faults_set_seed(const char *text)
{
    char *end;
    errno = 0;
    seed = strtoull(text, &end, 10);
    if (*end || errno || !*text || text[0] == '-') die(2, "--fault-seed: '%s' is not a whole number", text);
}

bool faults_active(void) { return faults_n_clauses > 0; }

/* The kernel must offer SECCOMP_RET_USER_NOTIF (5.0) and FLAG_CONTINUE (5.5): without
 * them faults cannot be injected, and running without them would be a silent lie. */
static const char *unsupported_reason(void)
{
    if (getenv("REPRO_SANDBOX_TEST_NO_USER_NOTIF")) return "user notification disabled for a test";
    uint32_t action = SECCOMP_RET_USER_NOTIF;
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
        return "this kernel has no seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux 5.0)";
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) == 0) sscanf(u.release, "%d.%d", &major, &minor);
    if (major * 1000 + minor < 5005)
        return "this kernel cannot let a notified call continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5)";
    return NULL;
}

void faults_prepare(void)
{
    if (!faults_n_clauses) return;
    const char *why = unsupported_reason();
    if (why) die(70, "cannot inject faults: %s; run 'repro doctor', or run without --fault", why);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, faults_sock) < 0) die(70, "socketpair: %s", strerror(errno));

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) die(70, "seccomp_init failed");
    /* Only the native ABI is hooked; i386/x32 calls pass this filter untouched (the
     * default policy still covers them). */
    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    bool hooked[N_FAMILIES] = { false };
    for (int i = 0; i < faults_n_clauses; i++) hooked[faults_clauses[i].fam - faults_families] = true;
    for (size_t f = 0; f < N_FAMILIES; f++) {
        if (!hooked[f]) continue;
        for (int j = 0; j < 6 && faults_families[f].calls[j]; j++) {
            int nr = seccomp_syscall_resolve_name(faults_families[f].calls[j]);
            if (nr < 0 || nr >= 1024) continue;
            faults_family_of_nr[nr] = (int)f + 1;
            faults_call_of_nr[nr] = j;
            int rc;
            if (!strcmp(faults_families[f].calls[j], "sendmsg")) {
                /* The command sends the listener itself with sendmsg on faults_sock[1]; that
                 * one call must not wait for a supervisor that has no listener yet. */
                struct scmp_arg_cmp c = SCMP_CMP(0, SCMP_CMP_NE, (uint64_t)faults_sock[1]);
                rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 1, &c);
            } else {
                rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 0, NULL);
            }
            if (rc < 0) die(70, "fault filter: cannot hook %s: %s", faults_families[f].calls[j], strerror(-rc));
        }
    }
    int mfd = memfd_create("repro-faults", MFD_CLOEXEC);
    if (mfd < 0) die(70, "memfd_create: %s", strerror(errno));
    int rc = seccomp_export_bpf(ctx, mfd);
    if (rc < 0) die(70, "seccomp_export_bpf: %s", strerror(-rc));
    off_t len = lseek(mfd, 0, SEEK_END);
    prog.filter = malloc((size_t)len);
    if (!prog.filter || pread(mfd, prog.filter, (size_t)len, 0) != len) die(70, "reading the fault filter back failed");
    prog.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    close(mfd);
    seccomp_release(ctx);
}

void faults_install(void)
{
    if (!faults_n_clauses) return;
    int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) fail_stage(errno, "load the fault filter (seccomp user notification)");
    char buf[CMSG_SPACE(sizeof(int))];
    memset(buf, 0, sizeof buf);
    char byte = 'f';
    struct iovec iov = { &byte, 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n = sendmsg(faults_sock[1], &mh, MSG_NOSIGNAL);
    int e = errno;
    /* From here on a hooked call without a listener fails with ENOSYS instead of
     * waiting; the launcher holds the listener now, or the command gives up. */
    close(fd);
    close(faults_sock[1]);
    if (n != 1) fail_stage(e, "send the fault listener to the launcher");
}

void faults_start(void)
{
    if (!faults_n_clauses) return;
    close(faults_sock[1]);
    if (pipe2(faults_stop_pipe, O_CLOEXEC) < 0) die(70, "pipe: %s", strerror(errno));
    int rc = pthread_create(&thread, NULL, faults_supervise, NULL);
    if (rc) die(70, "cannot start the fault supervisor: %s", strerror(rc));
    thread_started = true;
}

void faults_stop(void)
{
    if (!thread_started) return;
    if (write(faults_stop_pipe[1], "s", 1) != 1) { /* the thread then ends at the listener's hang-up */ }
    pthread_join(thread, NULL);
    thread_started = false;
    close(faults_stop_pipe[0]);
    close(faults_stop_pipe[1]);
    close(faults_sock[0]);
}

static void json_str(FILE *f, const char *s)
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

void faults_write_status(FILE *f)
{
    if (!faults_n_clauses) return;
    fprintf(f, ",\"faults\":{\"clauses\":[");
    for (int i = 0; i < faults_n_clauses; i++) {
        const struct clause *c = &faults_clauses[i];
        if (i) fputc(',', f);
        fprintf(f, "{\"after\":%llu,\"calls\":%llu,\"delay_us\":%llu,\"delayed\":%llu,\"errno\":",
                c->after, c->calls, c->delay_us, c->delayed);
        if (c->err) json_str(f, faults_errno_name(c->err)); else fprintf(f, "null");
        fprintf(f, ",\"family\":\"%s\",\"first_calls\":[", c->fam->name);
        for (int j = 0; j < c->n_first; j++) fprintf(f, "%s%llu", j ? "," : "", c->first[j]);
        fprintf(f, "],\"injected\":%llu,\"path\":", c->injected);
        if (c->path) json_str(f, c->path); else fprintf(f, "null");
        /* The shortest text that reads back as the same double. */
        char share[32];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(share, sizeof share, "%.*g", prec, c->share);
            if (strtod(share, NULL) == c->share) break;
        }
        fprintf(f, ",\"share\":%s}", share);
    }
    fprintf(f, "],\"error\":");
    if (faults_error[0]) json_str(f, faults_error); else fprintf(f, "null");
    fprintf(f, ",\"events\":[");
    for (int i = 0; i < faults_n_events; i++) {
        const struct clause *c = &faults_clauses[faults_events[i].clause];
        fprintf(f, "%s{\"call\":%llu,\"errno\":\"%s\",\"family\":\"%s\",\"time\":%.6f}", i ? "," : "",
                faults_events[i].call, faults_errno_name(c->err), c->fam->name, faults_events[i].time);
    }
    fprintf(f, "]");
    /* Injected faults per kind (FAMILY:ERRNO), summed over clauses. */
    fprintf(f, ",\"injected\":{");
    bool first = true;
    for (int i = 0; i < faults_n_clauses; i++) {
        const struct clause *c = &faults_clauses[i];
        if (!c->err) continue;
        bool seen = false;
        for (int j = 0; j < i; j++) seen |= faults_clauses[j].fam == c->fam && faults_clauses[j].err == c->err;
        if (seen) continue;
        unsigned long long sum = 0;
        for (int j = i; j < faults_n_clauses; j++)
            if (faults_clauses[j].fam == c->fam && faults_clauses[j].err == c->err) sum += faults_clauses[j].injected;
        fprintf(f, "%s\"%s:%s\":%llu", first ? "" : ",", c->fam->name, faults_errno_name(c->err), sum);
        first = false;
    }
    fprintf(f, "},\"seed\":%llu}", seed);
}
