/* Fault injection: seeded syscall faults answered by a supervisor thread in the
 * launcher through seccomp user notification (see faults.c and docs/faults.md).
 *
 * The command loads a second seccomp filter that returns SECCOMP_RET_USER_NOTIF for the
 * hooked syscall families only (every other call costs a few BPF instructions) and
 * hands the listener fd to the launcher over a socketpair before exec. The supervisor
 * answers each notification with an errno or SECCOMP_USER_NOTIF_FLAG_CONTINUE; the
 * kernel gives the default policy's ERRNO precedence over USER_NOTIF, so a call the
 * policy refuses never reaches the supervisor, and the supervisor never allows anything. */
#ifndef REPRO_SANDBOX_FAULTS_H
#define REPRO_SANDBOX_FAULTS_H

#include <stdbool.h>
#include <stdio.h>

/* opts.c: `--fault "FAMILY ERRNO SHARE AFTER DELAY_US [PATH]"` and `--fault-seed N`.
 * Bad clauses exit 2 naming the clause. */
void faults_add(const char *clause);
void faults_set_seed(const char *seed);
bool faults_active(void);

/* main.c, in the launcher: before the clone (checks that the kernel has user
 * notification and CONTINUE, compiles the filter, makes the socketpair; exits 70 with
 * a clear message when the host cannot); after the clone (starts the supervisor);
 * after the sandbox ended (stops it). */
void faults_prepare(void);
void faults_start(void);
void faults_stop(void);
/* Appends `,"faults":{...}` to the status object (nothing when no fault is set). */
void faults_write_status(FILE *f);

/* init.c, in the command after the default filter is loaded, right before execve:
 * loads the notification filter and sends its listener to the launcher. */
void faults_install(void);

#endif
