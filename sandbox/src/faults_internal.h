/* Shared state of the fault injection parts of the launcher: faults.c (clauses, the
 * filter, the status) and faults_supervisor.c (the thread that answers). */
#ifndef REPRO_SANDBOX_FAULTS_INTERNAL_H
#define REPRO_SANDBOX_FAULTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum arg_kind { FD_ARG0, PATH_ARG, SOCKET };

struct family {
    const char *name;
    enum arg_kind kind;
    const char *calls[6];
    int dirfd_arg[6], path_arg[6]; /* PATH_ARG: where the path and its dirfd sit (-1 = cwd) */
    int errnos[8];
};

#define MAX_CLAUSES 32
#define MAX_FIRST 64
#define MAX_EVENTS 256

struct clause {
    const struct family *fam;
    int err;            /* 0: delay only */
    double share;
    unsigned long long after, delay_us;
    char *path;         /* NULL: any */
    uint64_t key;
    unsigned long long calls, injected, delayed;
    unsigned long long first[MAX_FIRST];
    int n_first;
};

/* An injected fault with its wall-clock time, so a caller can tell which fault preceded
 * a failure it saw (repro test --chaos). */
struct fault_event { int clause; unsigned long long call; double time; };

extern const struct family faults_families[];
extern struct clause faults_clauses[MAX_CLAUSES];
extern int faults_n_clauses;
extern struct fault_event faults_events[MAX_EVENTS];
extern int faults_n_events;
extern int faults_family_of_nr[1024]; /* x86_64 syscall number -> family index + 1 */
extern int faults_call_of_nr[1024];   /* ... and its index in the family's calls */
extern int faults_sock[2];            /* [0] launcher end, [1] the command's end */
extern int faults_stop_pipe[2];
extern char faults_error[200];        /* the supervisor's first failure, or "" */

/* Whether clause c's n-th matching call is hit (the seeded decision). */
bool faults_decide(const struct clause *c, unsigned long long n);
const char *faults_errno_name(int e);
/* The supervisor thread's body. */
void *faults_supervise(void *arg);

#endif
