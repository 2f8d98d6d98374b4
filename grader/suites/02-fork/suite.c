/* suite.c - Lab 02 tests: sharing memory across fork (handouts/02-fork.md).
 *
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does. Code that runs in a
 * child process never uses EXPECT (Check ignores it there): it returns 42
 * for success (not 0, so that code which exits early cannot look right) or
 * a small number saying which step failed.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "share.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OK 42                           /* a child's "all went well" */

static void nap_us(long us)
{
    struct timespec t = { us / 1000000, us % 1000000 * 1000 };

    nanosleep(&t, NULL);
}

/* A zero-filled page shared with the children forked after this call. */
static void *test_page(void)
{
    void *p = mmap(NULL, hx_page(), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed (%s)", hx_errname(errno));
    return p;
}

/* Reap child pid whatever happens, so that no test leaves a zombie. */
static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
        ;
}

/* How many children this process still had (zombies or running); reaps
 * them all, waiting for the running ones, so that later tests start
 * clean. Returns 0 if there were none. */
static int leftover_children(void)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int n = r > 0;

    if (r == -1 && errno == ECHILD)
        return 0;
    for (;;) {
        r = waitpid(-1, NULL, 0);
        if (r > 0)
            n++;
        else if (errno != EINTR)
            break;
    }
    return n > 0 ? n : 1;
}

static void expect_no_children(const char *after)
{
    int n = leftover_children();

    EXPECT(n == 0, "after %s: expected no child left (waitpid(-1, ..., "
           "WNOHANG) fails with ECHILD), found %d zombie or running child%s",
           after, n, n == 1 ? "" : "ren");
}

/* rc, what the call just made returned, must be 0. */
static void expect_zero(const char *what, int rc)
{
    int err = errno;

    EXPECT(rc == 0, "%s: expected 0, got %d (errno %s)", what, rc,
           hx_errname(err));
}

static void expect_bytes(const char *what, const unsigned char *p, size_t len,
                         unsigned char c)
{
    for (size_t i = 0; i < len; i++)
        EXPECT(p[i] == c, "%s: expected byte %zu to be 0x%02x, got 0x%02x",
               what, i, c, p[i]);
}

static void expect_status(const char *what, const struct share_status *st,
                          int exited, int code, int sig)
{
    EXPECT(st->exited == exited && st->code == code && st->signal == sig,
           "%s: expected {exited %d, code %d, signal %d}, got {exited %d, "
           "code %d, signal %d}", what, exited, code, sig, st->exited,
           st->code, st->signal);
}

static pid_t spawn_ok(const char *what, int (*fn)(void *), void *arg)
{
    pid_t pid = share_spawn(fn, arg);

    EXPECT(pid > 0, "%s: expected a pid, got %d (errno %s)", what, (int)pid,
           hx_errname(errno));
    return pid;
}

/* share_wait(pid, st) must return 0; if it does not, reap pid anyway. */
static void wait_ok(const char *what, pid_t pid, struct share_status *st)
{
    int rc = share_wait(pid, st), err = errno;

    if (rc != 0)
        reap(pid);
    EXPECT(rc == 0, "%s: expected 0, got %d (errno %s)", what, rc,
           hx_errname(err));
}

/* Read /proc/PID/NAME into buf, '\0'-terminated. Returns 0, or -1. */
static int proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* The state letter of process pid (R, S, Z...), or '?'. */
static char proc_state(pid_t pid)
{
    char buf[512], *rp;

    if (proc_read(pid, "stat", buf, sizeof buf) == -1 ||
        (rp = strrchr(buf, ')')) == NULL || rp[1] != ' ')
        return '?';
    return rp[2];
}

/* Part 1: memory that survives fork */

struct fill {
    unsigned char *p;                   /* region to fill */
    size_t len;                         /* its length, bytes */
};

static int child_fill(void *arg)
{
    const struct fill *f = arg;

    memset(f->p, 0x5a, f->len);
    return OK;
}

TEST(alloc_shared, 3, "§2")
{
    size_t len = 3 * hx_page();
    char perms[5] = "";
    unsigned char *p = share_alloc(len - 10);
    struct fill f = { p, len };

    EXPECT_PTR("share_alloc(3 pages - 10)", p);
    EXPECT((uintptr_t)p % hx_page() == 0, "share_alloc: expected a "
           "page-aligned address, got %p", (void *)p);
    expect_bytes("fresh memory from share_alloc", p, len, 0);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "rw-s") == 0,
           "share_alloc: expected a shared, writable mapping (rw-s in "
           "/proc/self/maps), got \"%s\"", perms);
    int st = hx_child(child_fill, &f);
    EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == OK, "the child "
           "that fills the region did not exit %d (wait status 0x%x)", OK, st);
    EXPECT(p[0] == 0x5a && p[len - 1] == 0x5a, "after a child wrote 0x5a all "
           "over the region and ended, the parent read 0x%02x (first byte) "
           "and 0x%02x (last): expected 0x5a (is the mapping MAP_SHARED?)",
           p[0], p[len - 1]);
    munmap(p, len);
}

TEST(alloc_errors, 1, "§2")
{
    void *q = mmap(NULL, SIZE_MAX, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int want = errno;

    EXPECT(q == MAP_FAILED, "test setup: mapping SIZE_MAX bytes worked");
    errno = 0;
    EXPECT_NULL("share_alloc(0)", share_alloc(0));
    EXPECT_ERRNO("share_alloc(0)", EINVAL);
    errno = 0;
    EXPECT_NULL("share_alloc(SIZE_MAX)", share_alloc(SIZE_MAX));
    EXPECT_ERRNO("share_alloc(SIZE_MAX), mmap's own error", want);
}

TEST(free_unmaps, 1, "§2")
{
    size_t len = 2 * hx_page();
    char *p = share_alloc(len);

    EXPECT_PTR("share_alloc(2 pages)", p);
    EXPECT_FAIL("share_free(NULL, 2 pages)", share_free(NULL, len), EINVAL);
    EXPECT_FAIL("share_free(p, 0)", share_free(p, 0), EINVAL);
    EXPECT_INT("share_free(p, 2 pages)", share_free(p, len), 0);
    EXPECT_INT("first page still in /proc/self/maps after share_free",
               hx_mapped(p, NULL), 0);
    EXPECT_INT("second page still in /proc/self/maps after share_free",
               hx_mapped(p + hx_page(), NULL), 0);
}

/* Part 2: starting a child */

/* Where the child of spawn_copies writes. */
struct copies {
    int *heap;                          /* malloc'd by the parent */
    int *stack;                         /* a local variable of the parent */
    int *priv;                          /* MAP_PRIVATE | MAP_ANONYMOUS */
    int *shared;                        /* from share_alloc */
    pid_t *ids;                         /* test page: the child's getpid()
                                           and getppid() */
};

static int child_write_all(void *arg)
{
    const struct copies *c = arg;

    *c->heap = *c->stack = *c->priv = *c->shared = 2;
    c->ids[0] = getpid();
    c->ids[1] = getppid();
    return OK;
}

TEST(spawn_copies, 3, "§3")
{
    int stack = 1, *heap = malloc(sizeof *heap), *shared = share_alloc(64);
    int *priv = mmap(NULL, hx_page(), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct copies c = { heap, &stack, priv, shared, test_page() };
    struct share_status st;

    EXPECT(heap != NULL && priv != MAP_FAILED, "test setup: malloc or mmap");
    EXPECT_PTR("share_alloc(64)", shared);
    *heap = *priv = *shared = 1;
    pid_t pid = spawn_ok("share_spawn(child that sets 4 variables to 2)",
                         child_write_all, &c);
    wait_ok("share_wait(that child)", pid, &st);
    expect_status("how that child ended", &st, 1, OK, 0);
    EXPECT_INT("the child's getpid() (share_spawn must return it)",
               c.ids[0], pid);
    EXPECT_INT("the child's getppid() (the test process)", c.ids[1], getpid());
    EXPECT_INT("the parent's malloc'd int after the child set its copy to 2",
               *heap, 1);
    EXPECT_INT("the parent's local variable after the child set its copy to 2",
               stack, 1);
    EXPECT_INT("the parent's MAP_PRIVATE page after the child set its copy "
               "to 2", *priv, 1);
    EXPECT_INT("the share_alloc memory after the child set it to 2 (the "
               "parent must see the child's write)", *shared, 2);
    expect_no_children("share_wait");
    free(heap);
    munmap(priv, hx_page());
    munmap(shared, 64);
    munmap(c.ids, hx_page());
}

static int child_says(void *arg)
{
    (void)arg;
    fputs("child ", stdout);            /* no newline: stays in the buffer */
    return OK;
}

static void say_atexit(void)
{
    fputs("atexit ", stdout);
}

/* In a child of the test whose stdout goes to the pipe *arg: use
 * share_spawn as a program would. Returns OK, or 3 to 6 for a failed step. */
static int stdio_program(void *arg)
{
    struct share_status st;
    pid_t pid;

    if (dup2(*(int *)arg, STDOUT_FILENO) == -1 || atexit(say_atexit) != 0)
        return 3;
    fputs("before ", stdout);           /* no newline: stays in the buffer */
    pid = share_spawn(child_says, NULL);
    if (pid == -1)
        return 4;
    if (share_wait(pid, &st) == -1 || !st.exited || st.code != OK)
        return 5;
    fputs("after\n", stdout);
    return fflush(stdout) == 0 ? OK : 6;
}

TEST(spawn_stdio, 2, "§3")
{
    char out[256];
    ssize_t n, got = 0;
    int p[2];

    EXPECT(pipe(p) == 0, "test setup: pipe failed");
    int st = hx_child(stdio_program, &p[1]);
    close(p[1]);
    while ((n = read(p[0], out + got, sizeof out - 1 - (size_t)got)) > 0)
        got += n;
    out[got] = '\0';
    close(p[0]);
    EXPECT(st != -1 && WIFEXITED(st), "a program that uses share_spawn "
           "crashed (wait status 0x%x)", st);
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
}

/* Part 3: how a child ended */

static int child_returns(void *arg)
{
    return *(const int *)arg;
}

static int child_raises(void *arg)
{
    int sig = *(const int *)arg;
    struct sigaction dfl = { .sa_handler = SIG_DFL };

    sigaction(sig, &dfl, NULL);         /* not the test runner's handler */
    raise(sig);
    return 3;                           /* survived it */
}

/* The raw wait status of a child of the test running fn(&v). */
static int status_of(int (*fn)(void *), int v)
{
    int ws = hx_child(fn, &v);

    EXPECT(ws != -1, "test setup: hx_child failed");
    return ws;
}

/* A status of a child that has not ended: stopped (or, with cont, stopped
 * then continued). */
static int unended_status(int cont)
{
    int ws = 0, ws2 = 0, got, got2 = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        raise(SIGSTOP);
        for (;;)                        /* until the SIGKILL below */
            pause();
    }
    EXPECT(pid > 0, "test setup: fork failed");
    while ((got = waitpid(pid, &ws, WUNTRACED)) == -1 && errno == EINTR)
        ;
    if (cont && kill(pid, SIGCONT) == 0)
        while ((got2 = waitpid(pid, &ws2, WCONTINUED)) == -1 && errno == EINTR)
            ;
    kill(pid, SIGKILL);
    reap(pid);
    EXPECT(got == pid && WIFSTOPPED(ws), "test setup: no stopped status");
    EXPECT(!cont || (got2 == pid && WIFCONTINUED(ws2)),
           "test setup: no continued status");
    return cont ? ws2 : ws;
}

TEST(decode_exit, 1, "§4")
{
    static const int codes[] = { 0, 7, 255 };
    char what[80];

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct share_status st = { -1, -1, -1 };
        int ws = status_of(child_returns, codes[i]);
        snprintf(what, sizeof what, "share_decode(status of a child that "
                 "exited %d)", codes[i]);
        expect_zero(what, share_decode(ws, &st));
        expect_status(what, &st, 1, codes[i], 0);
    }
}

TEST(decode_signal, 2, "§4")
{
    static const int sigs[] = { SIGTERM, SIGKILL, SIGUSR2 };
    static const char *const name[] = { "SIGTERM", "SIGKILL", "SIGUSR2" };
    char what[80];

    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct share_status st = { -1, -1, -1 };
        int ws = status_of(child_raises, sigs[i]);
        snprintf(what, sizeof what, "share_decode(status of a child killed "
                 "by signal %d, %s)", sigs[i], name[i]);
        expect_zero(what, share_decode(ws, &st));
        expect_status(what, &st, 0, 0, sigs[i]);
    }
}

TEST(decode_invalid, 1, "§4")
{
    static const char *const name[] = { "stopped", "continued" };

    for (int cont = 0; cont < 2; cont++) {
        struct share_status st = { -7, -7, -7 };
        char what[80];
        int ws = unended_status(cont);
        snprintf(what, sizeof what, "share_decode(status of a %s child)",
                 name[cont]);
        errno = 0;
        EXPECT_INT(what, share_decode(ws, &st), -1);
        EXPECT_ERRNO(what, EINVAL);
        expect_status("*st after share_decode refused (must be unchanged)",
                      &st, -7, -7, -7);
    }
    EXPECT_FAIL("share_decode(0, NULL)", share_decode(0, NULL), EINVAL);
}

/* Part 4: waiting for a child */

static int child_writes_late(void *arg)
{
    nap_us(30000);
    *(volatile unsigned *)arg = 0xc0ffee;
    return OK;
}

TEST(wait_sees_write, 2, "§5")
{
    unsigned *p = test_page();
    struct share_status st;
    pid_t pid = spawn_ok("share_spawn(child that writes after 30 ms)",
                         child_writes_late, p);

    wait_ok("share_wait(that child)", pid, &st);
    expect_status("how that child ended", &st, 1, OK, 0);
    EXPECT(*p == 0xc0ffee, "after share_wait returned, the parent read 0x%x "
           "where the child writes 0xc0ffee before it ends: share_wait must "
           "return only once the child has ended", *p);
    expect_no_children("share_wait");
    munmap(p, hx_page());
}

/* In the second child: wait (2 s at most) until the first child *arg has
 * ended, then return 298, which the exit status cuts to 298 & 0xff = 42. */
static int child_after_sibling(void *arg)
{
    pid_t first = *(const pid_t *)arg;

    for (int i = 0; i < 2000 && proc_state(first) != 'Z'; i++)
        nap_us(1000);
    return 256 + OK;
}

TEST(wait_status, 2, "§5")
{
    int seven = 7, term = SIGTERM;
    struct share_status st = { -1, -1, -1 };
    pid_t a = spawn_ok("share_spawn(child returning 7)", child_returns, &seven);
    pid_t b = spawn_ok("share_spawn(child returning 298)", child_after_sibling,
                       &a);

    wait_ok("share_wait(second child)", b, &st);
    expect_status("share_wait(pid of a child returning 298, while another "
                  "child has already ended with 7): wait for that pid only",
                  &st, 1, OK, 0);
    wait_ok("share_wait(first child)", a, &st);
    expect_status("share_wait(pid of the child that returned 7)", &st, 1, 7, 0);
    pid_t c = spawn_ok("share_spawn(child raising SIGTERM)", child_raises,
                       &term);
    wait_ok("share_wait(child raising SIGTERM)", c, &st);
    expect_status("share_wait(pid of a child killed by SIGTERM)", &st, 0, 0,
                  SIGTERM);
    expect_no_children("share_wait");
}

TEST(wait_errors, 1, "§5")
{
    struct share_status st = { -1, -1, -1 };
    int v = OK;

    EXPECT_FAIL("share_wait(0, &st)", share_wait(0, &st), EINVAL);
    EXPECT_FAIL("share_wait(-1, &st)", share_wait(-1, &st), EINVAL);
    errno = 0;
    EXPECT_INT("share_wait(getpid(), &st)", share_wait(getpid(), &st), -1);
    EXPECT_ERRNO("share_wait(getpid(), &st), waitpid's error", ECHILD);
    EXPECT_FAIL("share_spawn(NULL, NULL)", share_spawn(NULL, NULL), EINVAL);
    pid_t pid = spawn_ok("share_spawn(child returning 42)", child_returns, &v);
    errno = 0;
    int rc = share_wait(pid, NULL), err = errno;
    wait_ok("share_wait(pid, &st) after share_wait(pid, NULL)", pid, &st);
    EXPECT_INT("share_wait(pid, NULL)", rc, -1);
    errno = err;
    EXPECT_ERRNO("share_wait(pid, NULL)", EINVAL);
    expect_status("share_wait(pid, &st)", &st, 1, OK, 0);
    errno = 0;
    EXPECT_INT("share_wait(pid) a second time", share_wait(pid, &st), -1);
    EXPECT_ERRNO("share_wait(pid) a second time, waitpid's error", ECHILD);
    expect_no_children("share_wait");
}

static atomic_int *handled;             /* set by the parent's handler */

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(handled, 1);
}

/* Whether process pid sleeps in waitpid: its wchan is "do_wait". */
static int in_waitpid(pid_t pid)
{
    char buf[64];

    return proc_read(pid, "wchan", buf, sizeof buf) == 0 &&
           strcmp(buf, "do_wait") == 0;
}

/* In the child: once the parent sleeps in waitpid (or after 2 s), send it
 * SIGUSR1; then stay alive until its handler has run, so that the waitpid
 * call it interrupted cannot simply return this child's status. */
static int child_interrupts(void *arg)
{
    pid_t parent = getppid();

    (void)arg;
    for (int i = 0; i < 2000 && !in_waitpid(parent); i++)
        nap_us(1000);
    if (kill(parent, SIGUSR1) == -1)
        return 3;
    for (int i = 0; i < 2000 && !atomic_load(handled); i++)
        nap_us(1000);
    return atomic_load(handled) ? OK : 4;
}

TEST(wait_eintr, 3, "§5")
{
    struct sigaction sa = { .sa_handler = on_usr1 }, old;
    struct share_status st = { -1, -1, -1 };
    int rc = -1, err;

    handled = test_page();
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                    /* no SA_RESTART: waitpid gets EINTR */
    EXPECT(sigaction(SIGUSR1, &sa, &old) == 0, "test setup: sigaction");
    pid_t pid = share_spawn(child_interrupts, NULL);
    err = errno;
    if (pid > 0) {
        rc = share_wait(pid, &st);
        err = errno;
        if (rc == -1)
            reap(pid);
    }
    sigaction(SIGUSR1, &old, NULL);
    EXPECT(pid > 0, "share_spawn: expected a pid, got %d (errno %s)",
           (int)pid, hx_errname(err));
    EXPECT(rc == 0, "share_wait(pid, &st) while a signal handler installed "
           "without SA_RESTART ran: expected 0, got %d with errno %s (call "
           "waitpid again when it fails with EINTR)", rc, hx_errname(err));
    EXPECT_INT("whether the parent's SIGUSR1 handler ran (test setup)",
               atomic_load(handled), 1);
    expect_status("share_wait after the interruption", &st, 1, OK, 0);
    munmap((void *)handled, hx_page());
}

/* Part 5: counting together
 *
 * count_atomic also counts with one child paused in the middle of its first
 * increment, so that the race happens on every run, on any machine. The
 * counter's page is made read-only before share_count, so each child's
 * first write to it faults (SIGSEGV). The handler below, inherited through
 * fork, makes the page writable in that child and returns, which retries
 * the write. The child that takes the first fault waits in the handler
 * until the others have moved the counter. No child writes before its own
 * fault, so that child had loaded the start value: an increment made of a
 * load and a store writes back start + 1, erasing the others' work, while
 * atomic_fetch_add is one instruction that has not happened yet, and adds
 * to the current value when it is retried. */

struct pause_log {
    atomic_int faults;                  /* write faults taken by children */
    atomic_int paused;                  /* 1 once the first child paused */
    atomic_int moved;                   /* 1 if others counted meanwhile */
};

static struct {
    char *page;                         /* the counter's page */
    size_t size;                        /* its size */
    long start;                         /* the counter's value before */
    pid_t parent;                       /* the test process: never paused */
    struct pause_log *log;              /* shared with the children */
} pz;

static void pause_on_write(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;
    atomic_long *counter = (atomic_long *)pz.page;
    char *addr = si->si_addr;

    (void)ctx;
    if (addr < pz.page || addr >= pz.page + pz.size) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigaction(sig, &dfl, NULL);     /* a real crash: let it happen */
        return;
    }
    mprotect(pz.page, pz.size, PROT_READ | PROT_WRITE);
    if (getpid() != pz.parent && atomic_fetch_add(&pz.log->faults, 1) == 0) {
        atomic_store(&pz.log->paused, 1);
        for (int i = 0; i < 2000 && atomic_load(counter) == pz.start; i++)
            nap_us(1000);
        atomic_store(&pz.log->moved, atomic_load(counter) != pz.start);
    }
    errno = saved;
}

/* share_count(c, nchild, iters) with the first child paused as above. */
static int count_paused(atomic_long *c, int nchild, long iters,
                        struct pause_log *log)
{
    struct sigaction sa = { .sa_sigaction = pause_on_write }, old;
    int rc, err;

    pz.page = (char *)c;
    pz.size = hx_page();
    pz.start = atomic_load(c);
    pz.parent = getpid();
    pz.log = log;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;
    EXPECT(sigaction(SIGSEGV, &sa, &old) == 0, "test setup: sigaction");
    if (mprotect(c, pz.size, PROT_READ) == -1) {
        sigaction(SIGSEGV, &old, NULL);
        EXPECT(0, "test setup: mprotect failed");
    }
    rc = share_count(c, nchild, iters);
    err = errno;
    sigaction(SIGSEGV, &old, NULL);
    mprotect(c, pz.size, PROT_READ | PROT_WRITE);
    errno = err;
    return rc;
}

TEST(count_atomic, 4, "§6")
{
    long iters = hx_iters(100000);
    atomic_long *c = test_page();
    struct pause_log *log = test_page();

    atomic_init(c, 1000);
    expect_zero("share_count(c, 4, 100000)", share_count(c, 4, iters));
    EXPECT_INT("*c after share_count(c, 4, 100000) from 1000", atomic_load(c),
               1000 + 4 * iters);
    expect_no_children("share_count");
    atomic_store(c, 1000);
    expect_zero("share_count(c, 4, 100000) with a child paused",
                count_paused(c, 4, iters, log));
    EXPECT(atomic_load(&log->paused), "no child was paused: share_count "
           "(the parent) must not write to *counter");
    EXPECT(atomic_load(&log->moved), "a child paused in its first increment"
           " for 2 s, and no other child added anything meanwhile: start "
           "all the children before you wait for any");
    EXPECT_INT("*c after share_count(c, 4, 100000) from 1000, with one child "
               "paused in the middle of its first increment (is each "
               "increment one atomic_fetch_add?)", atomic_load(c),
               1000 + 4 * iters);
    expect_no_children("share_count");
    munmap(c, hx_page());
    munmap(log, hx_page());
}

TEST(count_racy, 1, "§6")
{
    long iters = hx_iters(100000), got;
    volatile long *c = test_page();

    *c = 1000;
    expect_zero("share_count_racy(c, 1, 100000)",
                share_count_racy(c, 1, iters));
    EXPECT_INT("*c after share_count_racy(c, 1, 100000) from 1000 (one child"
               " has no one to race with)", *c, 1000 + iters);
    *c = 0;
    expect_zero("share_count_racy(c, 4, 100000)",
                share_count_racy(c, 4, iters));
    got = *c;
    EXPECT(got >= 2 && got <= 4 * iters, "*c after share_count_racy(c, 4, "
           "%ld) from 0: expected from 2 to %ld, got %ld", iters, 4 * iters,
           got);
    expect_no_children("share_count_racy");
    munmap((void *)c, hx_page());
}

TEST(count_reaps, 2, "§6")
{
    atomic_long *c = test_page();
    siginfo_t si;
    int ws = 0;

    atomic_init(c, 0);
    fflush(NULL);
    pid_t mine = fork();                /* the caller's own child */
    if (mine == 0)
        _exit(OK);
    EXPECT(mine > 0, "test setup: fork failed");
    while (waitid(P_PID, (id_t)mine, &si, WEXITED | WNOWAIT) == -1 &&
           errno == EINTR)
        ;                               /* a zombie now, not reaped */
    int rc = share_count(c, 2, 1000), err = errno;
    pid_t got = waitpid(mine, &ws, WNOHANG);
    int left = leftover_children();
    EXPECT(got == mine && WIFEXITED(ws) && WEXITSTATUS(ws) == OK, "the "
           "caller's own child, ended before share_count(c, 2, 1000), was "
           "gone afterwards: wait for the pids you started only (waitpid(pid),"
           " never wait() or waitpid(-1))");
    EXPECT(rc == 0, "share_count(c, 2, 1000): expected 0, got %d (errno %s)",
           rc, hx_errname(err));
    EXPECT(left == 0, "after share_count(c, 2, 1000): expected no child of "
           "it left (zombie or running), found %d", left);
    munmap(c, hx_page());
}

TEST(count_child_dies, 2, "§6")
{
    atomic_long *c = test_page();

    atomic_init(c, 0);
    EXPECT(mprotect(c, hx_page(), PROT_READ) == 0, "test setup: mprotect");
    errno = 0;
    int rc = share_count(c, 3, 1000), err = errno;
    int left = leftover_children();
    mprotect(c, hx_page(), PROT_READ | PROT_WRITE);
    EXPECT_INT("share_count(c, 3, 1000) with *c read-only (every child is "
               "killed by SIGSEGV at its first increment)", rc, -1);
    errno = err;
    EXPECT_ERRNO("share_count with every child killed", ECANCELED);
    EXPECT(left == 0, "after share_count with every child killed: expected "
           "no child left (zombie or running), found %d", left);
    munmap(c, hx_page());
}

TEST(count_errors, 1, "§6")
{
    atomic_long *c = test_page();
    volatile long *r = (volatile long *)((char *)c + 64);

    atomic_init(c, 5);
    *r = 5;
    EXPECT_FAIL("share_count(NULL, 1, 1)", share_count(NULL, 1, 1), EINVAL);
    EXPECT_FAIL("share_count(c, 0, 1)", share_count(c, 0, 1), EINVAL);
    EXPECT_FAIL("share_count(c, -1, 1)", share_count(c, -1, 1), EINVAL);
    EXPECT_FAIL("share_count(c, SHARE_MAX_CHILDREN + 1, 1)",
                share_count(c, SHARE_MAX_CHILDREN + 1, 1), EINVAL);
    EXPECT_FAIL("share_count(c, 1, -1)", share_count(c, 1, -1), EINVAL);
    EXPECT_FAIL("share_count_racy(NULL, 1, 1)",
                share_count_racy(NULL, 1, 1), EINVAL);
    EXPECT_FAIL("share_count_racy(r, 0, 1)", share_count_racy(r, 0, 1), EINVAL);
    EXPECT_FAIL("share_count_racy(r, 1, -1)",
                share_count_racy(r, 1, -1), EINVAL);
    expect_zero("share_count(c, 2, 0)", share_count(c, 2, 0));
    EXPECT_INT("*c after the calls above (none may change it)", atomic_load(c), 5);
    EXPECT_INT("*r after the calls above (none may change it)", *r, 5);
    expect_no_children("share_count(c, 2, 0)");
    munmap(c, hx_page());
}

/* Part 6: the race program */

#define RACE_OUT 512                    /* bytes of output kept per stream */

/* Run ./race with arguments a1 and a2 (a2 may be NULL: one argument);
 * keep its stdout and stderr in out and err, and in *left the number of
 * children it left behind. Meanwhile this process is a child subreaper: a
 * child that ./race did not wait for becomes ours when ./race ends.
 * Returns the raw wait status, or -1. */
static int run_race(const char *a1, const char *a2, char *out, char *err,
                    int *left)
{
    char *argv[] = { "./race", (char *)a1, (char *)a2, NULL };
    struct hx_proc p;
    int ws = -1;

    out[0] = err[0] = '\0';
    *left = 0;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 && hx_spawn(argv, &p) == 0) {
        ws = hx_finish(&p, 1, out, RACE_OUT, err, RACE_OUT);
        *left = leftover_children();
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    return ws;
}

/* ./race a1 a2 must exit 0, print want and nothing on stderr. */
static void expect_race(const char *a1, const char *a2, const char *want)
{
    char out[RACE_OUT], err[RACE_OUT], what[64];
    int left, ws = run_race(a1, a2, out, err, &left);

    snprintf(what, sizeof what, "./race %s %s", a1, a2);
    EXPECT(ws != -1 && WIFEXITED(ws), "%s did not exit normally (wait status "
           "0x%x)", what, ws);
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
    int left, ws = run_race(a1, a2, out, err, &left);

    snprintf(what, sizeof what, "./race '%s'%s%s%s", a1, a2 ? " '" : "",
             a2 ? a2 : "", a2 ? "'" : "");
    EXPECT(ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 1, "%s: expected "
           "exit status 1 (wait status 0x%x)", what, ws);
    EXPECT(out[0] == '\0', "%s: expected nothing on stdout, got: %s", what, out);
    EXPECT(strncmp(err, "usage: ", 7) == 0, "%s: expected stderr to start "
           "with \"usage: \", got: %s", what, err);
}

TEST(race_output, 3, "§7")
{
    expect_race("1", "100000", "racy:   100000 of 100000 (0 lost)\n"
                               "atomic: 100000 of 100000 (0 lost)\n");
    expect_race("3", "0", "racy:   0 of 0 (0 lost)\n"
                          "atomic: 0 of 0 (0 lost)\n");
    expect_usage("0", "5");
    expect_usage("65", "1");
    expect_usage("2", "-1");
    expect_usage("2", "5x");
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
        &count_errors } },
    { "6. The race program", { &race_output } },
    { NULL, { NULL } },
};
