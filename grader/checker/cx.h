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
 * it. As root where no user namespace can be made (Docker's default
 * profile), each subject runs as HX_SUBJECT_UID instead, and the checker
 * reaches it through its /proc files with its fsuid (cx_open). Otherwise
 * (a plain user) subjects run as we do, and the checker is not dumpable:
 * they may signal it, never trace or read it.
 *
 * Environment: HX_SUBJECT (the subject program, default ./subject),
 * HX_SEED (the run's seed, hex), HX_SUBJECT_UID (above), HX_VALGRIND (a
 * command line that prefixes every subject: the Valgrind pass; its reports,
 * read on a pipe, are saved as valgrind/PID.log), HX_CALLS (a directory:
 * save each test's requests there, for ./subject --replay).
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
    uint32_t id;                /* the request whose reply is awaited */
    int borrowed;               /* the Valgrind pass's shared one (cx.c) */
    int serving;                /* 1: serves requests (no argv), so the
                                   handin code in it must print nothing */
};

/* Start argv (NULL: the subject program) as a subject with stdin from
 * /dev/null. With argv NULL it serves requests. Fails the test if it
 * cannot start. */
void cx_start(struct cx_subject *s, char *const argv[]);

/* cx_start(s, NULL) for a test's second subject: in the Valgrind pass, the
 * runner's second shared subject (a suite that uses it defines cx_peers
 * as 1), so that a test of two subjects starts no Valgrind; otherwise a
 * subject of its own. cx_start_alone: never a shared subject, for a test
 * that traces its subject or changes it for good (its limits, its signal
 * mask). cx_start_bare: nor under Valgrind. */
extern const int cx_peers __attribute__((weak));
void cx_start_peer(struct cx_subject *s);
void cx_start_alone(struct cx_subject *s);
void cx_start_bare(struct cx_subject *s);

/* cx_start, changing how the process starts: for a test of a program's
 * error paths (never a shared subject). */
struct cx_how {
    long fail_fork;             /* > 0: its fork() number fail_fork fails
                                   with EAGAIN (grader/subject/fork.c) */
    const char *out;            /* a file for its stdout instead of the one
                                   cx_output reads ("/dev/full") */
};
void cx_start_how(struct cx_subject *s, char *const argv[], const struct cx_how *how);

/* A subject's place in a test of one or two: cx_start_as starts it with
 * cx_start(s, NULL), cx_start_peer or cx_start_alone. */
enum cx_role { CX_FIRST, CX_SECOND, CX_ALONE };
void cx_start_as(struct cx_subject *s, enum cx_role role);

/* Send q and wait for the reply into r. what names the call for messages
 * ("zmap_alloc(4096)"). Fails the test, saying how the subject ended, if
 * it ends or sends no reply; the failure is reported at the caller's line. */
#define cx_call(s, what, q, r) cx_call_at(__FILE__, __LINE__, s, what, q, r)
void cx_call_at(const char *file, int line, struct cx_subject *s,
                const char *what, const struct sx_req *q, struct sx_rep *r);

/* cx_call in two halves, for a test that acts while the call runs: send
 * q, then (cx_replied polls) collect its reply, as cx_call does. */
#define cx_send(s, what, q) cx_send_at(__FILE__, __LINE__, s, what, q)
#define cx_reply(s, r) cx_reply_at(__FILE__, __LINE__, s, r)
void cx_send_at(const char *file, int line, struct cx_subject *s,
                const char *what, const struct sx_req *q);
void cx_reply_at(const char *file, int line, struct cx_subject *s,
                 struct sx_rep *r);

/* Returns 1 if the reply cx_send awaits has come (or s closed its end:
 * cx_reply will say how it ended), else 0. Never blocks. */
int cx_replied(struct cx_subject *s);

/* Wait up to secs for a message from s (1) or the end of its socket (0),
 * saving its Valgrind report meanwhile. Returns -1 on timeout. */
int cx_poll(struct cx_subject *s, double secs);

/* cx_poll for a test with several subjects at work at once: wait up to
 * secs until one of the n subjects in s has a message or has closed its
 * end. Returns its index, or -1 on timeout. */
int cx_poll_any(struct cx_subject *const s[], int n, double secs);

/* Start the subject program as "./subject --program NAME": one of the
 * lab's whole programs (sx_program), for a test of what a process prints
 * or how it ends. Then as cx_start with an argv. */
void cx_program(struct cx_subject *s, const char *name);

/* A hold (cx_call_held): a process of the subject kept inside a write
 * fault on the range [lo, hi), its write not yet made. */
struct cx_hold {
    uintptr_t lo, hi;           /* the range, made read-only by the subject */
    double secs;                /* the longest hold, seconds */
    int (*until)(void *ctx);    /* polled while held: 1 lets it go on */
    void *ctx;                  /* until's argument */
    int (*step)(void *ctx);     /* if set: once let go, the held process runs
                                   one instruction at a time, and this is
                                   called after each (it is stopped meanwhile)
                                   until it returns 1 or CX_STEPS passed */
    long sys;                   /* if nonzero: hold instead, in s or any
                                   process it starts, at the exit of the
                                   first system call number sys ... */
    unsigned long arg1, mask;   /* ... whose argument 1 & mask is arg1 */
    pid_t entered;              /* (that call's process, once it entered) */
    pid_t held;                 /* out: the process held, 0 if none */
    uintptr_t addr;             /* out: the address it faulted at */
    int faults;                 /* out: write faults in the range by the
                                   subject's children */
    int parent_faults;          /* out: ... by the subject itself */
    int released;               /* out: 1 if until let it go in time */
    long steps;                 /* out: instructions run one at a time */
};

#define CX_STEPS 200000         /* the most instructions stepped after a hold */

/* cx_call while tracing s and every process it starts: the first process
 * other than s whose write to h's range faults is held there until
 * h->until says so or h->secs pass; every other stop and signal is passed
 * on. The subject's SIGSEGV handler (its own code) makes the page
 * writable when it gets the signal. With h->sys, the first process, s
 * included, to return from that system call is held instead, the call
 * done (a futex wake, say). With h->step, what follows the hold is run
 * one instruction at a time, so that a test can look between any two. s
 * must be the test's own (cx_start_alone). */
#define cx_call_held(s, what, q, r, h) \
    cx_call_held_at(__FILE__, __LINE__, s, what, q, r, h)
void cx_call_held_at(const char *file, int line, struct cx_subject *s,
                     const char *what, const struct sx_req *q,
                     struct sx_rep *r, struct cx_hold *h);

/* End s: ask it to exit (with Valgrind, so that it reports), kill it if it
 * does not, reap it and save its report. Returns its wait status. Fails
 * the test if s served requests and wrote anything on stdout or stderr:
 * every lab's header says that none of its functions prints. */
#define cx_end(s) cx_end_at(__FILE__, __LINE__, s)
int cx_end_at(const char *file, int line, struct cx_subject *s);

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

/* Open /proc/PID/NAME (flags as open's): as ourselves, or for a subject of
 * another uid with its fsuid, as the kernel allows its owner. Returns the
 * descriptor, or -1 with errno set. */
int cx_open(pid_t pid, const char *name, int flags);

/* Where subjects run as another uid (we are root, without user
 * namespaces): take their uid as our real uid (subject 1: the kernel checks
 * it to let us trace them) or give it back (0). Returns 0, or -1. */
int cx_as(int subject);

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

/* Checks from outside (look.c), failing the test with a message that
 * begins with what: the len bytes at p in s all read c; [p, p + len) is
 * one page-aligned, readable and writable mapping; the page at p is shared
 * with a child s forks (both stopped, a pattern of ours written in the
 * child's page must be what the parent's holds). */
void cx_expect_bytes(struct cx_subject *s, const char *what, uintptr_t p,
                     size_t len, unsigned char c);
void cx_expect_mapped(struct cx_subject *s, const char *what, uintptr_t p,
                      size_t len);
void cx_expect_shared(struct cx_subject *s, const char *what, uintptr_t p);

/* The memory pid holds from malloc (glibc's main heap up to its top chunk,
 * read once from outside) plus its private anonymous mappings, in bytes;
 * -1 if it cannot tell. Only its growth over a loop means anything. */
long cx_heap(pid_t pid);

/* The Valgrind pass's leak check from outside, for code that behaves
 * differently under Valgrind: in a fresh subject not under Valgrind, call
 * step a few times, then 64 to 127 more (from the seed); fail if the
 * subject's memory (cx_heap) grew by 8 bytes a call or more. */
void cx_expect_steady(const char *what, void (*step)(struct cx_subject *, void *),
                      void *ctx);

/* The run's pseudo-random numbers, from HX_SEED and the test's name: the
 * same seed gives every test the same inputs. */
uint64_t cx_rand(void);

/* The state letter of pid in /proc/PID/stat (R, S, T, Z...), or 0 if it
 * is gone. */
char cx_state(pid_t pid);

/* Wait up to secs until pid's state is one of states ("T", "Z"). Returns
 * 1 if it is, else 0. */
int cx_await(pid_t pid, const char *states, double secs);

/* Read /proc/PID/NAME ("wchan", "status") into buf, '\0'-terminated.
 * Returns 0, or -1. */
int cx_proc(pid_t pid, const char *name, char *buf, size_t size);

/* The CPU time pid has used (utime + stime of /proc/PID/stat), in
 * seconds, or -1 if it cannot tell. Its growth over a wait says whether
 * the waiter slept. */
double cx_cpu(pid_t pid);

/* The soft limit named name ("Max file size") in /proc/PID/limits, or -1
 * ("unlimited", or it cannot tell). */
long cx_limit(pid_t pid, const char *name);

/* A shared-memory object name for this test and tag into buf (hx_shm_name
 * with the test's name in it: the Valgrind pass runs tests at once), the
 * object removed if a run by hand left it. Returns buf. */
char *cx_name(char *buf, size_t size, const char *tag);

/* How many processes (zombies included) have parent as their parent; the
 * first max of them into kids. Fails the test if /proc cannot be read. */
int cx_children(pid_t parent, pid_t *kids, int max);

/* The page size. */
size_t cx_page(void);

/* "killed by signal 11 (Segmentation fault)", "exit status 0": how a wait
 * status ended a process. Returns buf. */
char *cx_describe(int status, char *buf, size_t size);

#endif
