/* cx.h - what a checker uses to drive and observe subject processes.
 *
 * A lab's suite (grader/suites/LAB/suite.c) runs in the checker: a Check
 * program (grader/harness/hx.c) that links no submitted code. Each test
 * starts one or more subjects (./subject: the handin code serving
 * requests, grader/subject/), asks them to call functions, and judges from
 * values it chose and facts it reads from outside: the subject's
 * /proc/PID/maps and /proc/PID/fd, its memory (process_vm_readv), its wait
 * status. A subject's reply is a claim, never a verdict.
 *
 * As root in its namespace (a grading), the checker starts each subject in
 * a user namespace of its own, mapped one uid above the checker's: the
 * subject is root there (it may switch uid), cannot signal, trace or read
 * the checker, nor write its files, while the checker can read and stop
 * it. Otherwise (a plain user's make check) subjects run as we do.
 *
 * Environment: HX_SUBJECT (the subject program, default ./subject),
 * HX_SEED (the run's seed, hex), HX_VALGRIND (a command line that prefixes
 * every subject: the Valgrind pass; its reports, read on a pipe, are saved
 * as valgrind/PID.log), HX_CALLS (a directory: save each test's requests
 * there, for ./subject --replay).
 */
#ifndef CX_H
#define CX_H

#include "wire.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cx_subject {
    pid_t pid;                  /* the subject; -1 once reaped */
    int sock;                   /* our end of its SX_FD socket */
    int out, err;               /* memfds holding its stdout and stderr */
    int vg;                     /* its Valgrind report (a pipe), or -1 */
    int vglog;                  /* a memfd: what came on vg so far */
    int status;                 /* its wait status once reaped */
    const char *what;           /* the call in progress, for messages */
    int borrowed;               /* the Valgrind pass's shared one (cx.c) */
};

/* Start argv (NULL: the subject program) as a subject with stdin from
 * /dev/null. With argv NULL it serves requests. Fails the test if it
 * cannot start. */
void cx_start(struct cx_subject *s, char *const argv[]);

/* Send q and wait for the reply into r. what names the call for messages
 * ("zmap_alloc(4096)"). Fails the test, saying how the subject ended, if
 * it ends or sends no reply; the failure is reported at the caller's line. */
#define cx_call(s, what, q, r) cx_call_at(__FILE__, __LINE__, s, what, q, r)
void cx_call_at(const char *file, int line, struct cx_subject *s,
                const char *what, const struct sx_req *q, struct sx_rep *r);

/* End s: ask it to exit (with Valgrind, so that it reports), kill it if it
 * does not, reap it and save its report. Returns its wait status. */
int cx_end(struct cx_subject *s);

/* Wait for s to exit by itself (a program), at most secs seconds; then as
 * cx_end. Its output: cx_output. Returns its wait status, or -1 if it had
 * to be killed. */
int cx_wait(struct cx_subject *s, double secs);

/* What s wrote on stdout (err 0) or stderr (err 1), cut to size and
 * '\0'-terminated, into buf. Returns buf. */
char *cx_output(const struct cx_subject *s, int err, char *buf, size_t size);

/* One mapping of a process, from /proc/PID/maps. */
struct cx_map {
    uintptr_t start, end;       /* [start, end) */
    char perms[5];              /* "rw-s" */
    char path[256];             /* "/dev/zero (deleted)", "" if anonymous */
};

/* The mapping of pid that holds addr. Returns 1 (filling *m), 0 if addr is
 * unmapped, or fails the test if the maps cannot be read. */
int cx_mapping(pid_t pid, uintptr_t addr, struct cx_map *m);

/* How many descriptors pid has open. Fails the test if it cannot tell. */
int cx_fds(pid_t pid);

/* Copy len bytes at addr in pid into buf (process_vm_readv). Returns 0,
 * or -1 if that memory cannot be read (unmapped, PROT_NONE). */
int cx_peek(pid_t pid, uintptr_t addr, void *buf, size_t len);

/* Write len bytes of buf at addr in pid (process_vm_writev: only where the
 * mapping is writable). Returns 0 or -1. */
int cx_poke(pid_t pid, uintptr_t addr, const void *buf, size_t len);

/* The parent of pid, from /proc/PID/stat, or -1. */
pid_t cx_parent(pid_t pid);

/* Stop (1) or continue (0) pid, and for a stop wait until it is stopped.
 * Fails the test on error. */
void cx_freeze(pid_t pid, int stop);

/* The run's pseudo-random numbers, from HX_SEED and the test's name: the
 * same seed gives every test the same inputs. */
uint64_t cx_rand(void);

/* The page size. */
size_t cx_page(void);

/* "killed by signal 11 (Segmentation fault)", "exit status 0": how a wait
 * status ended a process. Returns buf. */
char *cx_describe(int status, char *buf, size_t size);

#endif
