/* suite.c - Lab 02 tests: sharing memory across fork (handouts/02-fork.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. Each
 * test starts a subject (share.c serving requests, grader/subject/02-fork.c)
 * and asks it to allocate, spawn, wait, decode and count, with inputs
 * chosen here (exit codes, signals, values, counts, some drawn from the
 * run's seed). The verdicts come from what this process sees from outside:
 * the subject's and its children's memory (process_vm_readv), their
 * parents and states in /proc, wait statuses made by children of our own,
 * and, for the lost update, a child held by ptrace inside its first write.
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 */
#define _GNU_SOURCE
#include "cx.h"
#include "hx.h"
#include "ops.h"
#include "share.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK 42                           /* a child's "all went well" */

/* Ask s for op(a0, a1, a2, a3); errno is set to the subject's. A failure
 * is reported at the caller's line. */
#define call(s, what, op, ...) call_at(__FILE__, __LINE__, s, what, op, \
                                       (uint64_t[4]){ __VA_ARGS__ })
static struct sx_rep call_at(const char *file, int line, struct cx_subject *s,
                             const char *what, uint32_t op, const uint64_t a[4])
{
    struct sx_req q = { .op = op, .a = { a[0], a[1], a[2], a[3] } };
    struct sx_rep r;

    cx_call_at(file, line, s, what, &q, &r);
    errno = r.err;
    return r;
}

/* A zeroed page shared by s and the children it starts, made by the
 * subject program (not by share.c). */
static uintptr_t test_page(struct cx_subject *s)
{
    uintptr_t p = (uintptr_t)call(s, "making a test page", SX02_PAGE, 0).ret;

    EXPECT(p != 0, "test setup: the subject could not map a page");
    return p;
}

static long peek_long(struct cx_subject *s, uintptr_t p)
{
    long v = 0;

    EXPECT(cx_peek(s->pid, p, &v, sizeof v) == 0, "test setup: cannot read "
           "the subject's page");
    return v;
}

static void poke_long(struct cx_subject *s, uintptr_t p, long v)
{
    EXPECT(cx_poke(s->pid, p, &v, sizeof v) == 0, "test setup: cannot write "
           "the subject's page");
}

/* share_spawn in s of the child kind (ops.h) with value, aux and the
 * addresses addr[0..n). Returns its return value (errno set). */
static pid_t spawn(struct cx_subject *s, const char *what, int kind,
                   long value, long aux, const uint64_t *addr, int n)
{
    struct sx_req q = { .op = SX02_SPAWN, .a = { (uint64_t)kind, (uint64_t)value,
                                                 (uint64_t)aux, 0 } };
    struct sx_rep r;

    q.len = (uint32_t)(n * sizeof *addr);
    if (n > 0)
        memcpy(q.data, addr, q.len);
    cx_call(s, what, &q, &r);
    errno = r.err;
    return (pid_t)r.ret;
}

/* spawn, which must give a child of s. */
static pid_t spawn_ok(struct cx_subject *s, const char *what, int kind,
                      long value, long aux, const uint64_t *addr, int n)
{
    pid_t pid = spawn(s, what, kind, value, aux, addr, n);

    EXPECT(pid > 0, "%s: expected a pid, got %d (errno %s)", what, (int)pid,
           hx_errname(errno));
    EXPECT(pid != s->pid && cx_parent(pid) == s->pid, "%s: returned %d, which "
           "is not a child of the calling process (return fork()'s value)",
           what, (int)pid);
    return pid;
}

/* share_wait(pid, st or NULL) in s; *st from the reply. Returns its
 * return value, errno set. */
static int wait_in(struct cx_subject *s, const char *what, pid_t pid,
                   struct share_status *st)
{
    struct sx_rep r = call(s, what, SX02_WAIT, (uint64_t)pid, st == NULL, 0);

    if (st != NULL)
        memcpy(st, r.data, sizeof *st);
    return (int)r.ret;
}

static void wait_ok(struct cx_subject *s, const char *what, pid_t pid,
                    struct share_status *st)
{
    int rc = wait_in(s, what, pid, st), err = errno;

    EXPECT(rc == 0, "%s: expected 0, got %d (errno %s)", what, rc,
           hx_errname(err));
}

static void expect_status(const char *what, const struct share_status *st,
                          int exited, int code, int sig)
{
    EXPECT(st->exited == exited && st->code == code && st->signal == sig,
           "%s: expected {exited %d, code %d, signal %d}, got {exited %d, "
           "code %d, signal %d}", what, exited, code, sig, st->exited,
           st->code, st->signal);
}

/* Fail unless reply r says 0 (rc of what). */
static void expect_zero(const char *what, long rc)
{
    int err = errno;

    EXPECT(rc == 0, "%s: expected 0, got %ld (errno %s)", what, rc,
           hx_errname(err));
}

/* Fail unless rc is -1 with errno want. */
static void expect_fail(const char *what, long rc, int want)
{
    int err = errno;

    EXPECT(rc == -1, "%s: expected -1 with errno %s, got %ld", what,
           hx_errname(want), rc);
    errno = err;
    EXPECT_ERRNO(what, want);
}

/* Fail unless s has no child left, zombie or running (seen in /proc). */
static void expect_no_children(struct cx_subject *s, const char *after)
{
    pid_t kids[1];
    int n = cx_children(s->pid, kids, 1);

    EXPECT(n == 0, "after %s: expected no child left (waitpid(-1, ..., "
           "WNOHANG) fails with ECHILD), found %d zombie or running child%s",
           after, n, n == 1 ? "" : "ren");
}

/* Part 1: memory that survives fork */

TEST(alloc_shared, 3, "§2")
{
    struct cx_subject s;
    size_t pg = cx_page(), len = (2 + cx_rand() % 3) * pg;

    cx_start(&s, NULL);
    uintptr_t p = (uintptr_t)call(&s, "share_alloc", SX02_ALLOC, len - 10).ret;
    EXPECT_PTR("share_alloc(some pages - 10)", (void *)p);
    cx_expect_mapped(&s, "share_alloc(some pages - 10), rounded up", p, len);
    cx_expect_bytes(&s, "fresh memory from share_alloc", p, len, 0);
    cx_expect_shared(&s, "share_alloc", p);
    cx_expect_shared(&s, "share_alloc, last page", p + len - pg);
    cx_end(&s);
}

/* The errno mmap gives here for SIZE_MAX bytes; under Valgrind (the
 * Valgrind pass) the subject's mmap gives EINVAL instead. */
static int huge_errno(void)
{
    void *p = mmap(NULL, SIZE_MAX, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(p == MAP_FAILED, "test setup: mapping SIZE_MAX bytes worked");
    return getenv("HX_VALGRIND") ? EINVAL : errno;
}

TEST(alloc_errors, 1, "§2")
{
    struct cx_subject s;
    int want = huge_errno();

    cx_start(&s, NULL);
    EXPECT_NULL("share_alloc(0)", (void *)call(&s, "share_alloc(0)", SX02_ALLOC, 0).ret);
    EXPECT_ERRNO("share_alloc(0)", EINVAL);
    EXPECT_NULL("share_alloc(SIZE_MAX)",
                (void *)call(&s, "share_alloc(SIZE_MAX)", SX02_ALLOC, SIZE_MAX).ret);
    EXPECT_ERRNO("share_alloc(SIZE_MAX), mmap's own error", want);
    cx_end(&s);
}

TEST(free_unmaps, 1, "§2")
{
    struct cx_subject s;
    struct cx_map m;
    size_t pg = cx_page(), len = (2 + cx_rand() % 3) * pg;

    cx_start(&s, NULL);
    uintptr_t p = (uintptr_t)call(&s, "share_alloc", SX02_ALLOC, len).ret;
    EXPECT_PTR("share_alloc(some pages)", (void *)p);
    expect_fail("share_free(NULL, len)",
                call(&s, "share_free(NULL, len)", SX02_FREE, 0, len).ret, EINVAL);
    expect_fail("share_free(p, 0)", call(&s, "share_free(p, 0)", SX02_FREE, p, 0).ret,
                EINVAL);
    expect_fail("share_free(p + 1, len), munmap's error (p + 1 is not page-aligned)",
                call(&s, "share_free(p + 1, len)", SX02_FREE, p + 1, len).ret, EINVAL);
    EXPECT_INT("page mapped after the refused calls", cx_mapping(s.pid, p, &m), 1);
    EXPECT_INT("share_free(p, len)",
               call(&s, "share_free(p, len)", SX02_FREE, p, len).ret, 0);
    EXPECT_INT("first page still in /proc/PID/maps after share_free",
               cx_mapping(s.pid, p, &m), 0);
    EXPECT_INT("last page still in /proc/PID/maps after share_free",
               cx_mapping(s.pid, p + len - pg, &m), 0);
    cx_end(&s);
}

/* Part 2: starting a child */

/* Fail unless the int at p in pid reads want. */
static void expect_int_at(pid_t pid, const char *what, uintptr_t p, int want)
{
    int got = 0;

    EXPECT(cx_peek(pid, p, &got, sizeof got) == 0, "%s: cannot be read", what);
    EXPECT_INT(what, got, want);
}

TEST(spawn_copies, 3, "§3")
{
    struct cx_subject s;
    struct share_status st;
    int before = (int)(cx_rand() % 1000), after = before + 1 + (int)(cx_rand() % 1000);

    cx_start(&s, NULL);
    uintptr_t shared = (uintptr_t)call(&s, "share_alloc(64)", SX02_ALLOC, 64).ret;
    EXPECT_PTR("share_alloc(64)", (void *)shared);
    struct sx_rep r = call(&s, "making the variables", SX02_COPIES, 0);
    EXPECT(r.ret == 0, "test setup: the subject could not make its variables");
    uint64_t at[4] = { r.v[0], 0, r.v[1], shared };
    memcpy(&at[1], r.data, sizeof at[1]);
    for (int i = 0; i < 4; i++)
        EXPECT(cx_poke(s.pid, at[i], &before, sizeof before) == 0,
               "test setup: cannot set the variables");
    pid_t pid = spawn_ok(&s, "share_spawn(child that sets 4 variables)",
                         SX02_WRITE, after, 0, at, 4);
    EXPECT(cx_await(pid, "T", 5), "the child of share_spawn did not run fn(arg)"
           " (it should have set 4 variables, then stopped)");
    expect_int_at(pid, "the child's copy of the shared int (fn(arg) ran)", at[3], after);
    expect_int_at(s.pid, "the parent's malloc'd int after the child set its copy",
                  at[0], before);
    expect_int_at(s.pid, "the parent's local variable after the child set its copy",
                  at[1], before);
    expect_int_at(s.pid, "the parent's MAP_PRIVATE page after the child set its copy",
                  at[2], before);
    expect_int_at(s.pid, "the share_alloc memory after the child set it (the parent "
                  "must see the child's write)", at[3], after);
    kill(pid, SIGCONT);
    wait_ok(&s, "share_wait(that child)", pid, &st);
    expect_status("how that child ended", &st, 1, OK, 0);
    expect_no_children(&s, "share_wait");
    cx_end(&s);
}

TEST(spawn_stdio, 2, "§3")
{
    struct cx_subject s;
    char out[256], err[256], how[96];

    cx_program(&s, "stdio");
    int st = cx_wait(&s, 10);
    cx_output(&s, 0, out, sizeof out);
    cx_output(&s, 1, err, sizeof err);
    EXPECT(st != -1 && WIFEXITED(st), "a program that uses share_spawn did not "
           "exit normally (%s)", st == -1 ? "still running after 10 s" :
           cx_describe(st, how, sizeof how));
    EXPECT(WEXITSTATUS(st) != 4, "share_spawn failed in a program");
    EXPECT(WEXITSTATUS(st) != 5, "share_wait in a program did not report "
           "the child's exit status %d", OK);
    EXPECT_INT("exit status of a program using share_spawn (42: all went "
               "well)", WEXITSTATUS(st), OK);
    EXPECT(strcmp(out, "before child after\n") == 0, "a program printed "
           "\"before \", had a child print \"child \", then printed \"after\":"
           " expected stdout \"before child after\\n\", got \"%s\" (before "
           "twice: fflush(NULL) before fork; no child: fflush in the child "
           "before _exit; atexit: the child must _exit, not exit)", out);
    EXPECT(strcmp(err, "BEFORE CHILD AFTER\n") == 0, "the same on a second buffered"
           " stream (a copy of stderr): expected \"BEFORE CHILD AFTER\\n\", got \"%s\":"
           " flush every stream, fflush(NULL), not stdout alone", err);
}

/* Part 3: how a child ended */

/* The wait status of a child of ours that exits with code, or (sig > 0)
 * is killed by sig, or (sig < 0) is stopped, then continued if sig < -1. */
static int status_of(int code, int sig)
{
    int ws = 0;
    pid_t got, pid;

    fflush(NULL);
    if ((pid = fork()) == 0) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        if (sig > 0) {
            sigaction(sig, &dfl, NULL);     /* (SIGKILL's cannot change) */
            raise(sig);
        }
        if (sig < 0)
            for (raise(SIGSTOP);;)
                pause();                /* until the SIGKILL below */
        _exit(code);
    }
    EXPECT(pid > 0, "test setup: fork failed");
    while ((got = waitpid(pid, &ws, WUNTRACED)) == -1 && errno == EINTR)
        ;
    if (sig < -1 && kill(pid, SIGCONT) == 0)
        while ((got = waitpid(pid, &ws, WCONTINUED)) == -1 && errno == EINTR)
            ;
    if (sig < 0)
        kill(pid, SIGKILL);
    while (sig < 0 && waitpid(pid, NULL, 0) == -1 && errno == EINTR)
        ;
    EXPECT(got == pid, "test setup: no wait status");
    return ws;
}

/* share_decode(ws, &st) in s, which must return 0 and give the status. */
static void expect_decoded(struct cx_subject *s, const char *what, int ws,
                           int exited, int code, int sig)
{
    struct share_status st;
    struct sx_rep r = call(s, what, SX02_DECODE, (uint64_t)(unsigned)ws, 0);

    memcpy(&st, r.data, sizeof st);
    expect_zero(what, r.ret);
    expect_status(what, &st, exited, code, sig);
}

TEST(decode_exit, 1, "§4")
{
    struct cx_subject s;
    int codes[] = { 0, 1 + (int)(cx_rand() % 254), 255 };
    char what[80];

    cx_start(&s, NULL);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        snprintf(what, sizeof what, "share_decode(status of a child that "
                 "exited %d)", codes[i]);
        expect_decoded(&s, what, status_of(codes[i], 0), 1, codes[i], 0);
    }
    cx_end(&s);
}

TEST(decode_signal, 2, "§4")
{
    static const int more[] = { SIGHUP, SIGINT, SIGALRM, SIGUSR1, SIGPIPE };
    struct cx_subject s;
    int sigs[] = { SIGTERM, SIGKILL, SIGUSR2, more[cx_rand() % 5] };
    char what[96];

    cx_start(&s, NULL);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        snprintf(what, sizeof what, "share_decode(status of a child killed "
                 "by signal %d, SIG%s)", sigs[i], sigabbrev_np(sigs[i]));
        expect_decoded(&s, what, status_of(0, sigs[i]), 0, 0, sigs[i]);
    }
    cx_end(&s);
}

TEST(decode_invalid, 1, "§4")
{
    static const char *const name[] = { "stopped", "continued" };
    struct cx_subject s;
    struct share_status st;
    char what[80];

    cx_start(&s, NULL);
    for (int cont = 0; cont < 2; cont++) {
        snprintf(what, sizeof what, "share_decode(status of a %s child)", name[cont]);
        struct sx_rep r = call(&s, what, SX02_DECODE,
                               (uint64_t)(unsigned)status_of(0, cont ? -2 : -1), 0);
        expect_fail(what, r.ret, EINVAL);
        memcpy(&st, r.data, sizeof st);
        expect_status("*st after share_decode refused (must be unchanged)",
                      &st, -7, -7, -7);
    }
    expect_fail("share_decode(0, NULL)",
                call(&s, "share_decode(0, NULL)", SX02_DECODE, 0, 1).ret, EINVAL);
    cx_end(&s);
}

/* Part 4: waiting for a child */

TEST(wait_sees_write, 2, "§5")
{
    struct cx_subject s;
    struct share_status st;
    unsigned v = (unsigned)cx_rand() | 1, got = 0;

    cx_start(&s, NULL);
    uint64_t p = test_page(&s);
    pid_t pid = spawn_ok(&s, "share_spawn(child that writes after 30 ms)",
                         SX02_LATE, v, 30000, &p, 1);
    wait_ok(&s, "share_wait(that child)", pid, &st);
    expect_status("how that child ended", &st, 1, OK, 0);
    EXPECT(cx_peek(s.pid, p, &got, sizeof got) == 0, "test setup: cannot read the page");
    EXPECT(got == v, "after share_wait returned, the parent read 0x%x where the "
           "child writes 0x%x before it ends: share_wait must return only once "
           "the child has ended", got, v);
    expect_no_children(&s, "share_wait");
    cx_end(&s);
}

TEST(wait_status, 2, "§5")
{
    struct cx_subject s;
    struct share_status st = { -1, -1, -1 };
    int first = 1 + (int)(cx_rand() % 200), second = 1 + (int)(cx_rand() % 255);
    char what[160];

    if (second == first)
        second = first + 1;
    cx_start(&s, NULL);
    pid_t a = spawn_ok(&s, "share_spawn(child returning a code)", SX02_RETURN,
                       first, 0, NULL, 0);
    pid_t b = spawn_ok(&s, "share_spawn(child that stops, then returns "
                       "256 + a code)", SX02_STOP, 256 + second, 0, NULL, 0);
    EXPECT(cx_await(a, "Z", 5) && cx_await(b, "T", 5), "test setup: the "
           "children did not end and stop");
    kill(b, SIGCONT);
    snprintf(what, sizeof what, "share_wait(pid of a child returning %d, while "
             "another child has already ended with %d): wait for that pid only",
             256 + second, first);
    wait_ok(&s, "share_wait(second child)", b, &st);
    expect_status(what, &st, 1, second, 0);
    wait_ok(&s, "share_wait(first child)", a, &st);
    snprintf(what, sizeof what, "share_wait(pid of the child that returned %d)", first);
    expect_status(what, &st, 1, first, 0);
    pid_t c = spawn_ok(&s, "share_spawn(child raising SIGTERM)", SX02_RAISE,
                       SIGTERM, 0, NULL, 0);
    wait_ok(&s, "share_wait(child raising SIGTERM)", c, &st);
    expect_status("share_wait(pid of a child killed by SIGTERM)", &st, 0, 0,
                  SIGTERM);
    expect_no_children(&s, "share_wait");
    cx_end(&s);
}

TEST(wait_errors, 1, "§5")
{
    struct cx_subject s;
    struct share_status st = { -1, -1, -1 };

    cx_start(&s, NULL);
    expect_fail("share_wait(0, &st)", wait_in(&s, "share_wait(0, &st)", 0, &st), EINVAL);
    expect_fail("share_wait(-1, &st)", wait_in(&s, "share_wait(-1, &st)", -1, &st),
                EINVAL);
    expect_fail("share_wait(getpid(), &st), waitpid's error",
                wait_in(&s, "share_wait(getpid(), &st)", s.pid, &st), ECHILD);
    expect_fail("share_wait(getppid(), &st), waitpid's error",
                wait_in(&s, "share_wait(getppid(), &st)", getpid(), &st), ECHILD);
    expect_fail("share_spawn(NULL, NULL)", call(&s, "share_spawn(NULL, NULL)",
                                                SX02_SPAWN, 0, 0, 0, 1).ret, EINVAL);
    expect_no_children(&s, "share_spawn(NULL, NULL)");
    EXPECT(call(&s, "making a fork fail", SX_FAILFORK, 1, 0).ret == 0,
           "test setup: the subject could not arrange the failing fork");
    expect_fail("share_spawn(fn, arg) whose fork fails with EAGAIN",
                spawn(&s, "share_spawn(fn, arg)", SX02_RETURN, OK, 0, NULL, 0), EAGAIN);
    expect_no_children(&s, "share_spawn(fn, arg) whose fork failed");
    pid_t pid = spawn_ok(&s, "share_spawn(child returning 42)", SX02_RETURN, OK, 0,
                         NULL, 0);
    EXPECT(cx_await(pid, "Z", 5), "test setup: the child did not end");
    expect_fail("share_wait(pid, NULL)", wait_in(&s, "share_wait(pid, NULL)", pid, NULL),
                EINVAL);
    EXPECT(cx_state(pid) == 'Z', "share_wait(pid, NULL) reaped the child: it "
           "must wait for nothing when st is NULL");
    wait_ok(&s, "share_wait(pid, &st) after share_wait(pid, NULL)", pid, &st);
    expect_status("share_wait(pid, &st)", &st, 1, OK, 0);
    expect_fail("share_wait(pid) a second time, waitpid's error",
                wait_in(&s, "share_wait(pid) a second time", pid, &st), ECHILD);
    expect_no_children(&s, "share_wait");
    cx_end(&s);
}

/* Whether pid sleeps in waitpid (its wchan is "do_wait"). */
static int in_waitpid(pid_t pid)
{
    char buf[64];

    return cx_proc(pid, "wchan", buf, sizeof buf) == 0 && strcmp(buf, "do_wait") == 0;
}

/* Whether signal sig is pending for pid (SigPnd or ShdPnd). */
static int pending(pid_t pid, int sig)
{
    char buf[2048], *p;
    int n = 0;

    if (cx_proc(pid, "status", buf, sizeof buf) == -1)
        return 0;
    for (p = buf; (p = strstr(p, "Pnd:\t")) != NULL; p += 5)
        n += (strtoull(p + 5, NULL, 16) >> (sig - 1)) & 1;
    return n > 0;
}

TEST(wait_eintr, 3, "§5")
{
    struct cx_subject s;
    struct share_status st = { -1, -1, -1 };
    struct sx_req q = { .op = SX02_WAIT, .a = { 0, 0, 1, 0 } };
    struct sx_rep r;
    int i;

    cx_start(&s, NULL);
    pid_t pid = spawn_ok(&s, "share_spawn(child that stops, then returns 42)",
                         SX02_STOP, OK, 0, NULL, 0);
    EXPECT(cx_await(pid, "T", 5), "test setup: the child did not stop");
    q.a[0] = (uint64_t)pid;
    cx_send(&s, "share_wait(pid, &st) with a SIGUSR1 handler", &q);
    for (i = 0; i < 4000 && !in_waitpid(s.pid) && !cx_replied(&s); i++)
        usleep(500);
    EXPECT(!cx_replied(&s), "share_wait(pid, &st) returned while the child was "
           "still stopped: it must wait until the child ends");
    EXPECT(i < 4000, "share_wait(pid, &st) never slept in waitpid");
    EXPECT(kill(s.pid, SIGUSR1) == 0, "test setup: cannot signal the subject");
    for (i = 0; i < 4000 && pending(s.pid, SIGUSR1); i++)
        usleep(500);
    for (i = 0; i < 4000 && !cx_replied(&s) && !in_waitpid(s.pid); i++)
        usleep(500);
    kill(pid, SIGCONT);
    cx_reply(&s, &r);
    memcpy(&st, r.data, sizeof st);
    EXPECT(r.ret == 0, "share_wait(pid, &st) while a signal handler installed "
           "without SA_RESTART ran: expected 0, got %lld with errno %s (call "
           "waitpid again when it fails with EINTR)", (long long)r.ret,
           hx_errname(r.err));
    expect_status("share_wait after the interruption", &st, 1, OK, 0);
    cx_end(&s);
}

/* Part 5: counting together
 *
 * count_atomic also counts with one child held in the middle of its first
 * increment, so that the race happens on every run, on any machine. The
 * counter's page is read-only when share_count starts, so each child's
 * first write to it faults; the checker traces the children (cx_call_held)
 * and keeps the first that faults inside its write until the others have
 * moved the counter. That child had loaded the old value: an increment
 * made of a load and a store then writes back old + 1, erasing the others'
 * work, while atomic_fetch_add is one instruction that has not happened
 * yet, and adds to the current value when it is retried. The subject's
 * SIGSEGV handler makes the page writable in each child. */

struct moved {
    struct cx_subject *s;               /* whose counter */
    uintptr_t c;                        /* its address */
    long start;                         /* its value before */
};

static int counter_moved(void *arg)
{
    const struct moved *m = arg;

    return peek_long(m->s, m->c) != m->start;
}

TEST(count_atomic, 4, "§6")
{
    struct cx_subject s;
    long iters = hx_iters(100000), start = 1000 + (long)(cx_rand() % 1000);
    int n = 3 + (int)(cx_rand() % 3);
    char what[96];

    cx_start_alone(&s);
    uintptr_t c = test_page(&s);
    poke_long(&s, c, start);
    snprintf(what, sizeof what, "share_count(c, %d, %ld)", n, iters);
    expect_zero(what, call(&s, what, SX02_COUNT, c, (uint64_t)n, (uint64_t)iters, 0).ret);
    EXPECT_INT("*c after share_count from its start value", peek_long(&s, c),
               start + n * iters);
    expect_no_children(&s, "share_count");
    poke_long(&s, c, start);
    struct moved m = { &s, c, start };
    struct cx_hold h = { .lo = c, .hi = c + cx_page(), .secs = 2,
                         .until = counter_moved, .ctx = &m };
    struct sx_req q = { .op = SX02_COUNT, .a = { c, (uint64_t)n, (uint64_t)iters, 2 } };
    struct sx_rep r;
    snprintf(what, sizeof what, "share_count(c, %d, %ld) with a child held", n, iters);
    cx_call_held(&s, what, &q, &r, &h);
    EXPECT(r.ret != -2, "test setup: the page could not be made read-only");
    errno = r.err;
    expect_zero(what, r.ret);
    EXPECT(h.parent_faults == 0, "share_count wrote to *counter in the calling "
           "process: only the children may");
    EXPECT(h.held != 0, "no child wrote to *counter (each must add iters to it)");
    EXPECT(h.released, "a child was held in its first increment for 2 s, and no "
           "other child added anything meanwhile: start all the children "
           "before you wait for any");
    EXPECT_INT("*c after share_count, with one child held in the middle of its "
               "first increment (is each increment one atomic_fetch_add?)",
               peek_long(&s, c), start + n * iters);
    expect_no_children(&s, "share_count");
    cx_end(&s);
}

/* A step of the Valgrind pass's leak check: count both ways on a page of
 * s (*page, made by the first step). */
static void count_step(struct cx_subject *s, void *page)
{
    uintptr_t *c = page;

    if (*c == 0)
        *c = test_page(s);
    expect_zero("share_count(c, 2, 10)",
                call(s, "share_count(c, 2, 10)", SX02_COUNT, *c, 2, 10, 0).ret);
    expect_zero("share_count_racy(c, 2, 10)",
                call(s, "share_count_racy(c, 2, 10)", SX02_COUNT, *c, 2, 10, 1).ret);
}

TEST(count_racy, 1, "§6")
{
    struct cx_subject s;
    long iters = hx_iters(100000), start = (long)(cx_rand() % 1000), got;
    char what[96];

    cx_start(&s, NULL);
    uintptr_t c = test_page(&s);
    poke_long(&s, c, start);
    snprintf(what, sizeof what, "share_count_racy(c, 1, %ld)", iters);
    expect_zero(what, call(&s, what, SX02_COUNT, c, 1, (uint64_t)iters, 1).ret);
    EXPECT_INT("*c after share_count_racy(c, 1, ...) from its start value (one "
               "child has no one to race with)", peek_long(&s, c), start + iters);
    poke_long(&s, c, 0);
    snprintf(what, sizeof what, "share_count_racy(c, 4, %ld)", iters);
    expect_zero(what, call(&s, what, SX02_COUNT, c, 4, (uint64_t)iters, 1).ret);
    got = peek_long(&s, c);
    EXPECT(got >= 2 && got <= 4 * iters, "*c after share_count_racy(c, 4, "
           "%ld) from 0: expected from 2 to %ld, got %ld", iters, 4 * iters,
           got);
    expect_no_children(&s, "share_count_racy");
    cx_end(&s);
    if (getenv("HX_VALGRIND")) {        /* the leak points, from outside too */
        uintptr_t page = 0;
        cx_expect_steady("share_count(c, 2, 10) and share_count_racy(c, 2, 10)",
                         count_step, &page);
    }
}

TEST(count_reaps, 2, "§6")
{
    struct cx_subject s;
    pid_t kids[4];

    cx_start(&s, NULL);
    uintptr_t c = test_page(&s);
    pid_t mine = (pid_t)call(&s, "fork()", SX_FORK, 0).ret;
    EXPECT(mine > 0 && cx_parent(mine) == s.pid, "test setup: fork failed");
    kill(mine, SIGKILL);
    EXPECT(cx_await(mine, "Z", 5), "test setup: the caller's child did not end");
    long rc = call(&s, "share_count(c, 2, 1000)", SX02_COUNT, c, 2, 1000, 0).ret;
    int err = errno;
    EXPECT(cx_state(mine) == 'Z' && cx_parent(mine) == s.pid, "the caller's own "
           "child, ended before share_count(c, 2, 1000), was gone afterwards: "
           "wait for the pids you started only (waitpid(pid), never wait() or "
           "waitpid(-1))");
    errno = err;
    expect_zero("share_count(c, 2, 1000)", rc);
    int left = cx_children(s.pid, kids, 4) - 1;
    EXPECT(left == 0, "after share_count(c, 2, 1000): expected no child of "
           "it left (zombie or running), found %d", left);
    call(&s, "reaping the caller's child", SX_FORK, (uint64_t)mine);
    cx_end(&s);
}

TEST(count_child_dies, 2, "§6")
{
    struct cx_subject s;
    struct cx_map m;
    int n = 2 + (int)(cx_rand() % 3);
    char what[160];

    cx_start(&s, NULL);
    uintptr_t c = test_page(&s);
    for (int racy = 0; racy < 2; racy++) {
        EXPECT(call(&s, "making the page read-only", SX02_PROTECT, c, 1).ret == 0 &&
               cx_mapping(s.pid, c, &m) == 1 && m.perms[1] == '-',
               "test setup: the page could not be made read-only");
        snprintf(what, sizeof what, "%s(c, %d, 1000) with *c read-only (every child is"
                 " killed by SIGSEGV at its first increment)",
                 racy ? "share_count_racy" : "share_count", n);
        long rc = call(&s, what, SX02_COUNT, c, (uint64_t)n, 1000, (uint64_t)racy).ret;
        int err = errno;
        pid_t kids[1];
        int left = cx_children(s.pid, kids, 1);
        call(&s, "making the page writable", SX02_PROTECT, c, 0);
        errno = err;
        expect_fail(what, rc, ECANCELED);
        EXPECT(left == 0, "after %s: expected no child left (zombie or running), found %d",
               what, left);
    }
    cx_end(&s);
}

TEST(count_fork_fails, 2, "§6")
{
    struct cx_subject s;
    int n = 3 + (int)(cx_rand() % 4), k = 2 + (int)(cx_rand() % (uint64_t)(n - 1));
    char what[160];

    cx_start(&s, NULL);
    uintptr_t c = test_page(&s);
    for (int racy = 0; racy < 2; racy++) {
        EXPECT(call(&s, "making a fork fail", SX_FAILFORK, (uint64_t)k, 0).ret == 0,
               "test setup: the subject could not arrange the failing fork");
        snprintf(what, sizeof what, "%s(c, %d, 1000) whose fork number %d fails with "
                 "EAGAIN", racy ? "share_count_racy" : "share_count", n, k);
        long rc = call(&s, what, SX02_COUNT, c, (uint64_t)n, 1000, (uint64_t)racy).ret;
        expect_fail(what, rc, EAGAIN);
        pid_t kids[1];
        int left = cx_children(s.pid, kids, 1);
        EXPECT(left == 0, "after %s: %d of the %d children it started were left, zombie"
               " or running. In every case, wait for each child already started before"
               " returning -1", what, left, k - 1);
    }
    cx_end(&s);
}

TEST(count_errors, 1, "§6")
{
    struct cx_subject s;
    long v = 1 + (long)(cx_rand() % 1000);

    cx_start(&s, NULL);
    uintptr_t c = test_page(&s), r = c + 64;
    poke_long(&s, c, v);
    poke_long(&s, r, v);
    static const struct { const char *what; uint64_t c, n, iters, racy; } bad[] = {
        { "share_count(NULL, 1, 1)", 0, 1, 1, 0 },
        { "share_count(c, 0, 1)", 1, 0, 1, 0 },
        { "share_count(c, -1, 1)", 1, (uint64_t)-1, 1, 0 },
        { "share_count(c, SHARE_MAX_CHILDREN + 1, 1)", 1, SHARE_MAX_CHILDREN + 1, 1, 0 },
        { "share_count(c, 1, -1)", 1, 1, (uint64_t)-1, 0 },
        { "share_count_racy(NULL, 1, 1)", 0, 1, 1, 1 },
        { "share_count_racy(r, 0, 1)", 2, 0, 1, 1 },
        { "share_count_racy(r, 1, -1)", 2, 1, (uint64_t)-1, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t where = bad[i].c == 0 ? 0 : bad[i].c == 1 ? c : r;
        expect_fail(bad[i].what, call(&s, bad[i].what, SX02_COUNT, where, bad[i].n,
                                      bad[i].iters, bad[i].racy).ret, EINVAL);
    }
    expect_zero("share_count(c, 2, 0)", call(&s, "share_count(c, 2, 0)", SX02_COUNT,
                                             c, 2, 0, 0).ret);
    EXPECT_INT("*c after the calls above (none may change it)", peek_long(&s, c), v);
    EXPECT_INT("*r after the calls above (none may change it)", peek_long(&s, r), v);
    expect_no_children(&s, "share_count(c, 2, 0)");
    cx_end(&s);
}

/* Part 6: the race program */

#define RACE_OUT 512                    /* bytes of output kept per stream */

/* Run ./race a1 a2 (a2 may be NULL) into out and err; *left: the processes
 * it left behind (we are a child subreaper meanwhile, so they become ours:
 * they are counted, then killed and reaped). Returns its wait status, or
 * -1 if it had to be killed. */
#define run_race(a1, a2, out, err, left) run_race_how(a1, a2, NULL, out, err, left, 20)
static int run_race_how(const char *a1, const char *a2, const struct cx_how *how, char *out,
                        char *err, int *left, double secs)
{
    char *argv[] = { "./race", (char *)a1, (char *)a2, NULL };
    struct cx_subject s;
    pid_t kids[64];

    EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "test setup: prctl");
    if (how != NULL)
        cx_start_how(&s, argv, how);
    else
        cx_start(&s, argv);
    int ws = cx_wait(&s, secs);
    cx_output(&s, 0, out, RACE_OUT);
    cx_output(&s, 1, err, RACE_OUT);
    *left = cx_children(getpid(), kids, 64);
    for (int i = 0; i < *left && i < 64; i++) {
        kill(kids[i], SIGKILL);
        while (waitpid(kids[i], NULL, 0) == -1 && errno == EINTR)
            ;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    return ws;
}

/* ./race a1 a2 must exit 0, print want and nothing on stderr. */
static void expect_race(const char *a1, const char *a2, const char *want)
{
    char out[RACE_OUT], err[RACE_OUT], what[64], how[96];
    int left, ws = run_race(a1, a2, out, err, &left);

    snprintf(what, sizeof what, "./race %s %s", a1, a2);
    EXPECT(ws != -1 && WIFEXITED(ws), "%s did not exit normally (%s)", what,
           ws == -1 ? "still running after 20 s" : cx_describe(ws, how, sizeof how));
    EXPECT(WEXITSTATUS(ws) == 0, "%s: expected exit status 0, got %d; it "
           "said: %s", what, WEXITSTATUS(ws), err);
    EXPECT(strcmp(out, want) == 0, "%s: expected the output\n%sgot\n%s", what,
           want, out);
    EXPECT(err[0] == '\0', "%s: expected nothing on stderr, got: %s", what, err);
    EXPECT(left == 0, "%s left %d child process%s behind, unwaited for",
           what, left, left == 1 ? "" : "es");
}

/* ./race a1 a2 must exit 1, print nothing, and a usage line on stderr. */
static void expect_usage(const char *a1, const char *a2)
{
    char out[RACE_OUT], err[RACE_OUT], what[64];
    double secs = hx_memcheck() ? 20 : 3;    /* a usage error ends it at once */
    int left, ws = run_race_how(a1, a2, NULL, out, err, &left, secs);

    snprintf(what, sizeof what, "./race '%s'%s%s%s", a1, a2 ? " '" : "",
             a2 ? a2 : "", a2 ? "'" : "");
    EXPECT(ws != -1, "%s: still running after %.0f s, counting? Expected a usage line and"
           " exit status 1 at once", what, secs);
    EXPECT(WIFEXITED(ws) && WEXITSTATUS(ws) == 1, "%s: expected "
           "exit status 1 (wait status 0x%x)", what, ws);
    EXPECT(out[0] == '\0', "%s: expected nothing on stdout, got: %s", what, out);
    EXPECT(strncmp(err, "usage: ", 7) == 0, "%s: expected stderr to start "
           "with \"usage: \", got: %s", what, err);
}

/* ./race a1 a2, started as how says, must exit 1 after saying why on
 * stderr, with no child left behind. */
static void expect_race_fails(const char *a1, const char *a2, const struct cx_how *how,
                              const char *when, int why)
{
    char out[RACE_OUT], err[RACE_OUT], how_ended[96];
    int left, ws = run_race_how(a1, a2, how, out, err, &left, 20);

    EXPECT(ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 1, "./race %s %s, %s: expected"
           " exit status 1 (perror, then status 1), got %s", a1, a2, when,
           ws == -1 ? "still running after 20 s" : cx_describe(ws, how_ended,
                                                               sizeof how_ended));
    EXPECT(strstr(err, strerror(why)) != NULL, "./race %s %s, %s: expected perror's message"
           " on stderr, with \"%s\" (%s), got \"%s\"", a1, a2, when, strerror(why),
           hx_errname(why), err);
    EXPECT(left == 0, "./race %s %s, %s: left %d child process%s behind, unwaited for", a1,
           a2, when, left, left == 1 ? "" : "es");
}

TEST(race_errors, 2, "§7")
{
    int n = 2 + (int)(cx_rand() % 3);
    char nc[8];

    snprintf(nc, sizeof nc, "%d", n);
    /* A program that always fails, saying so, earns nothing here: it must
     * first work when nothing fails. */
    expect_race("1", "1000", "racy:   1000 of 1000 (0 lost)\n"
                             "atomic: 1000 of 1000 (0 lost)\n");
    /* fork number 2 is share_count_racy's second child; n + 2,
     * share_count's second */
    struct cx_how racy = { .fail_fork = 2 }, exact = { .fail_fork = n + 2 };
    struct cx_how full = { .out = "/dev/full" };
    expect_race_fails(nc, "1000", &racy, "with share_count_racy failing (its second fork"
                      " fails with EAGAIN)", EAGAIN);
    expect_race_fails(nc, "1000", &exact, "with share_count failing (its second fork fails"
                      " with EAGAIN)", EAGAIN);
    expect_race_fails(nc, "1000", &full, "with stdout on /dev/full (writing the report"
                      " fails with ENOSPC)", ENOSPC);
}

TEST(race_output, 3, "§7")
{
    long iters = hx_iters(50000 + (long)(cx_rand() % 100000));
    char n[24], want[160];

    snprintf(n, sizeof n, "%ld", iters);
    snprintf(want, sizeof want, "racy:   %ld of %ld (0 lost)\n"
             "atomic: %ld of %ld (0 lost)\n", iters, iters, iters, iters);
    expect_race("1", n, want);
    /* The most children: race's own bound, and share_count's and
     * share_count_racy's ("> SHARE_MAX_CHILDREN" is the error). */
    expect_race("64", "0", "racy:   0 of 0 (0 lost)\n"
                           "atomic: 0 of 0 (0 lost)\n");
    expect_usage("0", "5");
    expect_usage("65", "1");
    expect_usage("2", "-1");
    expect_usage("2", "5x");
    expect_usage("2", "");
    expect_usage("2", "1000000001");
    expect_usage("2", "99999999999999999999");
    expect_usage("2", NULL);
}

const struct hx_part hx_parts[] = {
    { "1. Memory that survives fork",
      { &alloc_shared, &alloc_errors, &free_unmaps } },
    { "2. Starting a child", { &spawn_copies, &spawn_stdio } },
    { "3. How a child ended",
      { &decode_exit, &decode_signal, &decode_invalid } },
    { "4. Waiting for a child",
      { &wait_sees_write, &wait_status, &wait_errors, &wait_eintr } },
    { "5. Counting together",
      { &count_atomic, &count_racy, &count_reaps, &count_child_dies,
        &count_fork_fails, &count_errors } },
    { "6. The race program", { &race_output, &race_errors } },
    { NULL, { NULL } },
};
