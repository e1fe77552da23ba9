/* Small helpers: errors, setup-failure reports, number parsing, paths. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int report_fd = -1;

void report_init(int fd) { report_fd = fd; }

const int sb_forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
const size_t sb_n_forwarded_signals = sizeof sb_forwarded_signals / sizeof sb_forwarded_signals[0];

void send_msg(int type, int err, int status, const char *stage)
{
    struct msg m = { .type = type, .err = err, .status = status };
    if (stage) snprintf(m.stage, sizeof m.stage, "%s", stage);
    if (report_fd >= 0) {
        ssize_t n;
        do n = write(report_fd, &m, sizeof m); while (n < 0 && errno == EINTR);
    }
}

void fail_stage(int err, const char *fmt, ...)
{
    char stage[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stage, sizeof stage, fmt, ap);
    va_end(ap);
    send_msg(MSG_SETUP_ERROR, err, 0, stage);
    if (report_fd < 0)
        fprintf(stderr, "repro-sandbox: %s: %s\n", stage, strerror(err));
    _exit(70);
}

void warnx_sb(const char *fmt, ...)
{
    char text[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "repro-sandbox: warning: %s\n", text);
    send_msg(MSG_WARNING, 0, 0, text);
}

void die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "repro-sandbox: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

long long parse_int(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        die(2, "%s: '%s' is not a non-negative integer", opt, s);
    return v;
}

/* The one size grammar of repro (Core's ByteSize; SandboxTests hold both to one table
 * of cases): a whole number of bytes, spaces allowed around it and before an optional
 * binary unit B, K/k/KiB, M/m/MiB, G/g/GiB, T/t/TiB. No fractions, signs or decimal
 * units; more than 63 bits is not a size. */
long long parse_size(const char *s, const char *opt)
{
    const char *p = s;
    while (*p == ' ') p++;
    if (*p < '0' || *p > '9') goto bad;
    unsigned long long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (unsigned long long)LLONG_MAX / 10) goto bad;
        v = v * 10 + (unsigned)(*p - '0');
        if (v > (unsigned long long)LLONG_MAX) goto bad;
    }
    while (*p == ' ') p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ') n--;
    static const struct { const char *unit; int shift; } units[] = {
        {"", 0}, {"B", 0}, {"K", 10}, {"k", 10}, {"KiB", 10}, {"M", 20}, {"m", 20}, {"MiB", 20},
        {"G", 30}, {"g", 30}, {"GiB", 30}, {"T", 40}, {"t", 40}, {"TiB", 40},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strlen(units[i].unit) != n || strncmp(p, units[i].unit, n)) continue;
        if (v > ((unsigned long long)LLONG_MAX >> units[i].shift)) goto bad;
        return (long long)(v << units[i].shift);
    }
bad:
    die(2, "%s: '%s' is not a size (a whole number of bytes with an optional binary unit: 1048576, 512K, 2G, 2GiB, 1T)", opt, s);
    return -1;
}

double parse_seconds(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || !isfinite(v))
        die(2, "%s: '%s' is not a non-negative number of seconds", opt, s);
    return v;
}

int sb_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { errno = ENAMETOOLONG; return -1; }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

int write_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return -1;
    size_t len = strlen(content), off = 0;
    while (off < len) {
        ssize_t n = write(fd, content + off, len - off);
        if (n < 0) { if (errno == EINTR) continue; int e = errno; close(fd); errno = e; return -1; }
        off += (size_t)n;
    }
    return close(fd);
}
