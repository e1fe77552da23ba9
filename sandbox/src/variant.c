/* What `repro verify` varies between runs that the launcher alone can set (see
 * docs/reproducibility.md): a new time namespace whose monotonic and boot-time clocks
 * are shifted, the CPUs the command may run on, and its personality (uname machine,
 * address-space randomization). All are off unless an option asks for them. The
 * wall clock is not namespaced by Linux; repro shifts it with libfaketime instead.
 *
 * personality(2) is set before the seccomp filter loads: the default policy refuses
 * ADDR_NO_RANDOMIZE to the command itself, but a personality set by the launcher is
 * simply inherited across execve. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name; unsigned long value; } personas[] = {
    { "linux32", PER_LINUX32 },                 /* uname -m says i686 on x86_64 */
    { "uname26", UNAME26 },                     /* uname -r says 2.6.x */
    { "addr-no-randomize", ADDR_NO_RANDOMIZE }, /* ASLR off */
};

unsigned long parse_personality(const char *list)
{
    unsigned long v = 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy) die(70, "out of memory");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof personas / sizeof personas[0]; i++)
            if (!strcmp(t, personas[i].name)) { v |= personas[i].value; break; }
        if (i == sizeof personas / sizeof personas[0])
            die(2, "--personality: unknown flag '%s' (known: linux32, uname26, addr-no-randomize)", t);
    }
    free(copy);
    return v;
}

/* "0-1,3" -> a set; false on a syntax error. */
static bool parse_cpu_list(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    const char *p = list;
    if (!*p) return false;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b = a;
        if (errno || end == p || a < 0 || a >= CPU_SETSIZE) return false;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (errno || end == p + 1 || b < a || b >= CPU_SETSIZE) return false;
            p = end;
        }
        for (long c = a; c <= b; c++) CPU_SET((int)c, set);
        if (*p == ',') p++;
        else if (*p) return false;
    }
    return true;
}

void check_cpu_affinity(const char *list)
{
    cpu_set_t want, have;
    if (!parse_cpu_list(list, &want))
        die(2, "--cpu-affinity: '%s' is not a CPU list like 0 or 0-1,3", list);
    if (sched_getaffinity(0, sizeof have, &have) < 0) die(70, "sched_getaffinity: %s", strerror(errno));
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &want) && !CPU_ISSET(c, &have))
            die(2, "--cpu-affinity: CPU %d is not available to this process (see nproc, taskset -p $$)", c);
}

void apply_cpu_affinity(const char *list)
{
    cpu_set_t set;
    if (!list) return;
    if (!parse_cpu_list(list, &set)) fail_stage(EINVAL, "parse cpu list %s", list);
    if (sched_setaffinity(0, sizeof set, &set) < 0) fail_stage(errno, "sched_setaffinity %s", list);
}

void apply_personality(unsigned long persona)
{
    if (!persona) return;
    if (personality(persona) < 0) fail_stage(errno, "personality 0x%lx", persona);
}

void enter_time_namespace(long long offset)
{
    if (!offset) return;
    /* The namespace applies to init's children; its offsets can be written only
     * until a process enters it, i.e. before the command is forked. */
    if (unshare(CLONE_NEWTIME) < 0) fail_stage(errno, "new time namespace (Linux 5.6 or later)");
    char text[96];
    int n = snprintf(text, sizeof text, "monotonic %lld 0\nboottime %lld 0\n", offset, offset);
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail_stage(errno, "open /proc/self/timens_offsets");
    if (write(fd, text, (size_t)n) != n) fail_stage(errno, "write time namespace offsets (%lld s)", offset);
    close(fd);
}
