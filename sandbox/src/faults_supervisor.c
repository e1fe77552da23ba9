/* The fault supervisor: a thread of the launcher, outside the sandbox's process tree,
 * that answers the seccomp user notifications of the hooked families with an errno or
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (see faults.c for why that cannot weaken the policy),
 * after a delay when a clause asks for one. */
#include "sandbox.h"
#include "faults_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif


static bool read_link(const char *proc, char *out, size_t n)
{
    ssize_t len = readlink(proc, out, n - 1);
    if (len < 0) return false;
    out[len] = 0;
    return true;
}

/* Lexical normalisation of an absolute path: "." and ".." and repeated slashes. */
static void normalise(char *p)
{
    char out[PATH_MAX];
    size_t o = 0;
    for (char *s = p; *s;) {
        while (*s == '/') s++;
        if (!*s) break;
        char *e = s;
        while (*e && *e != '/') e++;
        size_t len = (size_t)(e - s);
        if (len == 1 && s[0] == '.') { }
        else if (len == 2 && s[0] == '.' && s[1] == '.') { while (o > 0 && out[--o] != '/') {} }
        else if (o + len + 2 < sizeof out) { out[o++] = '/'; memcpy(out + o, s, len); o += len; }
        s = e;
    }
    if (o == 0) out[o++] = '/';
    out[o] = 0;
    memcpy(p, out, o + 1);
}

/* The path a notified call acts on, as the sandbox sees it (readlink of /proc/PID/...
 * names paths relative to the sandbox's own root). False when it cannot be known. */
static bool call_path(int listener, const struct seccomp_notif *req, const struct family *fam, int idx,
                      char *out, size_t n)
{
    char proc[64];
    if (fam->kind == FD_ARG0) {
        snprintf(proc, sizeof proc, "/proc/%u/fd/%d", req->pid, (int)req->data.args[0]);
        return read_link(proc, out, n);
    }
    if (fam->kind != PATH_ARG) return false;
    char path[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/%u/mem", req->pid);
    int mem = open(proc, O_RDONLY | O_CLOEXEC);
    if (mem < 0) return false;
    ssize_t got = pread(mem, path, sizeof path - 1, (off_t)req->data.args[fam->path_arg[idx]]);
    close(mem);
    if (got <= 0) return false;
    path[got] = 0;
    if (!memchr(path, 0, (size_t)got)) return false;
    /* The notification must still be live: the pid could have been reused. */
    uint64_t id = req->id;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return false;
    if (path[0] == '/') {
        snprintf(out, n, "%s", path);
    } else {
        char base[PATH_MAX];
        int dirfd = fam->dirfd_arg[idx] < 0 ? AT_FDCWD : (int)req->data.args[fam->dirfd_arg[idx]];
        if (dirfd == AT_FDCWD) snprintf(proc, sizeof proc, "/proc/%u/cwd", req->pid);
        else snprintf(proc, sizeof proc, "/proc/%u/fd/%d", req->pid, dirfd);
        if (!read_link(proc, base, sizeof base)) return false;
        snprintf(out, n, "%s/%s", base, path);
    }
    normalise(out);
    return true;
}

static bool under(const char *path, const char *prefix)
{
    size_t len = strlen(prefix);
    if (!strcmp(prefix, "/")) return path[0] == '/';
    return !strncmp(path, prefix, len) && (path[len] == 0 || path[len] == '/');
}

struct pending { struct seccomp_notif_resp resp; double due; };
#define MAX_PENDING 256
static struct pending pending[MAX_PENDING];
static int n_pending;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void respond(int listener, struct seccomp_notif_resp *resp)
{
    /* ENOENT: the caller died or was interrupted by a signal; nothing to answer. */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT && !faults_error[0])
        snprintf(faults_error, sizeof faults_error, "SECCOMP_IOCTL_NOTIF_SEND: %s", strerror(errno));
}

static void handle(int listener, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int f = (req->data.arch == AUDIT_ARCH_X86_64 && req->data.nr >= 0 && req->data.nr < 1024)
        ? faults_family_of_nr[req->data.nr] - 1 : -1;
    if (f < 0) { respond(listener, resp); return; }
    const struct family *fam = &faults_families[f];
    int idx = faults_call_of_nr[req->data.nr];
    char path[PATH_MAX];
    int have_path = -1; /* -1 not read yet, 0 unknown, 1 known */
    unsigned long long delay = 0;
    int err = 0;
    bool fired = false;
    for (int i = 0; i < faults_n_clauses; i++) {
        struct clause *c = &faults_clauses[i];
        if (c->fam != fam) continue;
        if (c->path) {
            if (have_path < 0) have_path = call_path(listener, req, fam, idx, path, sizeof path);
            if (!have_path || !under(path, c->path)) continue;
        }
        unsigned long long n = ++c->calls;
        if (fired || !faults_decide(c, n)) continue;
        fired = true;
        err = c->err;
        delay = c->delay_us;
        if (err) {
            c->injected++;
            if (c->n_first < MAX_FIRST) c->first[c->n_first++] = n;
            if (faults_n_events < MAX_EVENTS) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                faults_events[faults_n_events++] = (struct fault_event){ i, n, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 };
            }
        }
        if (delay) c->delayed++;
    }
    if (err) { resp->flags = 0; resp->error = -err; }
    if (delay && n_pending < MAX_PENDING) {
        pending[n_pending++] = (struct pending){ *resp, mono() + (double)delay / 1e6 };
        return;
    }
    if (delay) { struct timespec ts = { (time_t)(delay / 1000000), (long)(delay % 1000000) * 1000 }; nanosleep(&ts, NULL); }
    respond(listener, resp);
}

static void flush_due(int listener, bool all)
{
    double t = mono();
    for (int i = 0; i < n_pending;) {
        if (all || pending[i].due <= t) {
            respond(listener, &pending[i].resp);
            pending[i] = pending[--n_pending];
        } else i++;
    }
}

static int receive_listener(void)
{
    char buf[CMSG_SPACE(sizeof(int))], byte;
    struct iovec iov = { &byte, 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf };
    ssize_t n = recvmsg(faults_sock[0], &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0) return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

void *faults_supervise(void *arg)
{
    (void)arg;
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
        snprintf(faults_error, sizeof faults_error, "SECCOMP_GET_NOTIF_SIZES: %s", strerror(errno));
        return NULL;
    }
    /* The kernel may know a larger struct than our headers: allocate its sizes. */
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    if (!req || !resp) return NULL;
    int listener = -1;
    bool xfer_open = true;
    for (;;) {
        int timeout = -1;
        if (n_pending) {
            double next = pending[0].due;
            for (int i = 1; i < n_pending; i++) if (pending[i].due < next) next = pending[i].due;
            double ms = (next - mono()) * 1000;
            timeout = ms < 0 ? 0 : (int)ms + 1;
        }
        struct pollfd p[2] = { { faults_stop_pipe[0], POLLIN, 0 }, { -1, POLLIN, 0 } };
        if (listener >= 0) p[1].fd = listener;
        else if (xfer_open) p[1].fd = faults_sock[0];
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR) break;
        flush_due(listener, false);
        if (p[0].revents) break;
        if (!p[1].revents) continue;
        if (listener < 0) {
            listener = receive_listener();
            if (listener < 0) xfer_open = false;
            continue;
        }
        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[1].revents & POLLIN)) {
            /* Every process under the filter is gone (Linux 5.8+ reports it). */
            close(listener);
            listener = -1;
            xfer_open = false;
            continue;
        }
        memset(req, 0, sizes.seccomp_notif);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) continue; /* ENOENT: the caller went away */
        handle(listener, req, resp);
    }
    if (listener >= 0) { flush_due(listener, true); close(listener); }
    free(req);
    free(resp);
    return NULL;
}
