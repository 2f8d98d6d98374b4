/* suite.c - Lab 04 tests: semaphore signalling (handouts/04-semaphores.md).
 *
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 *
 * Most tests need a second process. The children never use Check
 * assertions: each one returns OK (42, never 0) or 1 with a sentence in a
 * `why` buffer in shared memory, and the test reports it. Whenever a child
 * may block for good (a lost wakeup, a missing retry), the test waits for
 * it with a deadline and kills it, so a bug costs points, not a hang.
 * To force an order ("the receiver is already asleep when the sender
 * posts"), the test watches /proc/PID/syscall until the child sleeps in
 * the futex system call that sem_wait uses.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "chan.h"
#include "mbox.h"
#include "notify.h"
#include "ring.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OK 42                   /* a child's exit status for "all good" */
#define WHY 240                 /* room for a child's explanation */

/* The call must return want; if it returned -1, say with which errno. */
#define EXPECT_RET(what, call, want)                                      \
    do {                                                                  \
        errno = 0;                                                        \
        long long r_ = (long long)(call), w_ = (long long)(want);         \
        int e_ = errno;                                                   \
        EXPECT(r_ == w_, "%s: expected %lld, got %lld%s%s%s", (what), w_, \
               r_, r_ == -1 ? " (errno " : "",                            \
               r_ == -1 ? hx_errname(e_) : "", r_ == -1 ? ")" : "");     \
        errno = e_;                                                       \
    } while (0)

/* ---- time ---- */

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap(double secs)
{
    struct timespec t = { (time_t)secs,
                          (long)((secs - (double)(time_t)secs) * 1e9) };

    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

/* How much to stretch a deadline: CK_TIMEOUT_MULTIPLIER, and 20 times more
 * under Valgrind. The deadlines only bound waits for code that is stuck;
 * working code is far faster. */
static double scale(void)
{
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    double k = m != NULL ? atof(m) : 1;

    if (k < 1)
        k = 1;
    return hx_memcheck() ? 20 * k : k;
}

/* ---- shared memory for a test and its children ---- */

static void *shared(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap of %zu bytes failed (%s)", len,
           hx_errname(errno));
    return p;
}

/* In a child: write the explanation into why (shared) and return 1. */
__attribute__((format(printf, 2, 3)))
static int say(char *why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, WHY, fmt, ap);
    va_end(ap);
    return 1;
}

/* ---- child processes ---- */

struct kid {
    pid_t pid;                  /* the child */
    int status;                 /* its wait status, once reaped */
    int reaped;                 /* 1 once waited for */
    int killed;                 /* 1 if we killed it at a deadline */
    int restless;               /* 1 once it failed to sleep in time */
    double waited;              /* seconds kid_wait gave it */
    struct rusage ru;           /* its resource usage, once reaped */
};

/* Start fn(arg) in a child that exits with fn's return value. */
static void kid_start(struct kid *k, int (*fn)(void *), void *arg)
{
    memset(k, 0, sizeof *k);
    fflush(NULL);
    k->pid = fork();
    EXPECT(k->pid != -1, "test setup: fork failed (%s)", hx_errname(errno));
    if (k->pid == 0)
        _exit(fn(arg) & 0xff);
}

/* Reap k if it has ended. Returns 1 if it has (now or before). */
static int kid_poll(struct kid *k)
{
    if (!k->reaped && wait4(k->pid, &k->status, WNOHANG, &k->ru) == k->pid)
        k->reaped = 1;
    return k->reaped;
}

/* Wait up to secs for k to end; then kill it. Returns 1 if it ended by
 * itself. */
static int kid_wait(struct kid *k, double secs)
{
    double end = now() + secs;

    k->waited = secs;
    while (!kid_poll(k) && now() < end)
        nap(0.002);
    if (k->reaped)
        return 1;
    kill(k->pid, SIGKILL);
    k->killed = 1;
    while (wait4(k->pid, &k->status, 0, &k->ru) == -1 && errno == EINTR)
        ;
    k->reaped = 1;
    return 0;
}

/* Wait up to secs until k sleeps in the futex system call, where sem_wait
 * sleeps. Returns 1 once it does; 0 if it ended; -1 if it still runs
 * without having slept there (it polls?), or the kernel does not tell. A
 * child that let one deadline pass gets 0.05 s from then on. */
static int kid_asleep(struct kid *k, double secs)
{
    char path[64], buf[64];
    double end = now() + (k->restless ? 0.05 : secs);

    snprintf(path, sizeof path, "/proc/%d/syscall", (int)k->pid);
    while (!kid_poll(k)) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {                 /* no /proc/PID/syscall here */
            nap(0.2);
            return kid_poll(k) ? 0 : -1;
        }
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        if (isdigit((unsigned char)buf[0]) && atol(buf) == SYS_futex)
            return 1;
        if (now() > end) {
            k->restless = 1;
            return -1;
        }
        nap(0.001);
    }
    return 0;
}

/* Fail unless child k (described by what) exited with OK; why is what it
 * said; stuck describes the likely cause if we had to kill it. */
static void expect_ok(const char *what, struct kid *k, const char *why,
                      const char *stuck)
{
    int st = k->status;

    EXPECT(!k->killed, "%s: not done %.0f s later, killed: %s", what,
           k->waited, stuck);
    EXPECT(!WIFSIGNALED(st), "%s: killed by signal %d (%s)", what,
           WTERMSIG(st), strsignal(WTERMSIG(st)));
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == OK, "%s: %s (exit status %d)",
           what, why != NULL && why[0] != '\0' ? why : "it ended early (did "
           "the code under test call exit()?)", WEXITSTATUS(st));
}

/* Wait until *flag is set (by a child), at most secs. Returns 1 if set. */
static int await_flag(_Atomic int *flag, int value, struct kid *k, double secs)
{
    double end = now() + secs;

    while (atomic_load(flag) < value && !kid_poll(k) && now() < end)
        nap(0.001);
    return atomic_load(flag) >= value;
}

/* ---- what the mailbox tests share with their children ---- */

struct mshare {
    struct mbox mb;             /* the mailbox under test */
    _Atomic int ready;          /* 1 once the child's handler is in place */
    _Atomic int hits;           /* how often the child's handler ran */
    char why[2][WHY];           /* what went wrong, per child */
};

static struct mshare *mshare_new(void)
{
    struct mshare *s = shared(sizeof *s);

    memset(s, 0xa5, sizeof s->mb);      /* old junk: mbox_init must cope */
    EXPECT_RET("mbox_init", mbox_init(&s->mb), 0);
    return s;
}

static void mshare_free(struct mshare *s)
{
    mbox_destroy(&s->mb);
    munmap(s, sizeof *s);
}

static _Atomic int *hits_counter;       /* in the child: s->hits */

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(hits_counter, 1);  /* lock-free: async-signal-safe */
}

/* In a child: count SIGUSR1 in s->hits, WITHOUT SA_RESTART, so that a
 * sleeping sem_wait fails with EINTR; then say we are ready. */
static int catch_usr1(struct mshare *s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    hits_counter = &s->hits;
    if (sigaction(SIGUSR1, &sa, NULL) == -1)
        return -1;
    atomic_store(&s->ready, 1);
    return 0;
}

/* In the parent: once child k sleeps in sem_wait, hit it with SIGUSR1 and
 * wait until its handler ran and it waits again. Returns 1 if so (also for
 * a child that waits without sleeping), 0 if the child ended (it will have
 * said why). */
static int interrupt(struct mshare *s, struct kid *k)
{
    int before = atomic_load(&s->hits);

    if (!await_flag(&s->ready, 1, k, 5 * scale()) ||
        !kid_asleep(k, 2 * scale()))
        return 0;
    EXPECT(kill(k->pid, SIGUSR1) == 0, "test setup: kill failed");
    if (!await_flag(&s->hits, before + 1, k, 5 * scale()))
        return 0;
    return kid_asleep(k, 2 * scale()) != 0;
}

/* Fill msg with message i of a stream: 8 bytes of i, then a pattern from
 * i. Returns its length, 0 to MBOX_MAX. */
static size_t stream_msg(long i, unsigned char *msg)
{
    size_t len = (size_t)(i * 37 % (MBOX_MAX + 1));

    for (size_t k = 0; k < len; k++)
        msg[k] = k < 8 ? (unsigned char)(i >> (8 * k))
                       : (unsigned char)(i * 31 + (long)k);
    return len;
}

/* Part 1: the mailbox on two semaphores */

TEST(mbox_roundtrip, 2, "§3")
{
    struct mshare *s = mshare_new();
    unsigned char big[MBOX_MAX], buf[MBOX_MAX];

    EXPECT_RET("mbox_send(\"hello\", 5)", mbox_send(&s->mb, "hello", 5), 0);
    memset(buf, 0, sizeof buf);
    EXPECT_RET("mbox_recv after sending \"hello\"",
               mbox_recv(&s->mb, buf, sizeof buf), 5);
    EXPECT(memcmp(buf, "hello", 5) == 0, "mbox_recv: expected \"hello\", got "
           "\"%.5s\"", (char *)buf);
    for (size_t k = 0; k < sizeof big; k++)
        big[k] = (unsigned char)(k * 7 + 1);
    EXPECT_RET("mbox_send of MBOX_MAX bytes",
               mbox_send(&s->mb, big, sizeof big), 0);
    EXPECT_RET("mbox_recv of MBOX_MAX bytes",
               mbox_recv(&s->mb, buf, sizeof buf), MBOX_MAX);
    EXPECT(memcmp(buf, big, sizeof big) == 0, "mbox_recv of MBOX_MAX bytes: "
           "the bytes differ from those sent");
    EXPECT_RET("mbox_send(NULL, 0): an empty message",
               mbox_send(&s->mb, NULL, 0), 0);
    EXPECT_RET("mbox_recv of an empty message",
               mbox_recv(&s->mb, buf, sizeof buf), 0);
    EXPECT_RET("mbox_destroy", mbox_destroy(&s->mb), 0);
    EXPECT_RET("mbox_init again after mbox_destroy", mbox_init(&s->mb), 0);
    mshare_free(s);
}

TEST(mbox_try_empty, 1, "§3")
{
    struct mshare *s = mshare_new();    /* its memory held junk before */
    char buf[MBOX_MAX];

    EXPECT_RET("mbox_try_recv on a fresh mailbox (it held junk before "
               "mbox_init)", mbox_try_recv(&s->mb, buf, sizeof buf), -1);
    EXPECT_ERRNO("mbox_try_recv on an empty mailbox", EAGAIN);
    EXPECT_RET("mbox_send(\"x\", 1)", mbox_send(&s->mb, "x", 1), 0);
    EXPECT_RET("mbox_try_recv with a message there",
               mbox_try_recv(&s->mb, buf, sizeof buf), 1);
    EXPECT_RET("the byte mbox_try_recv got", buf[0], 'x');
    EXPECT_RET("mbox_try_recv once the message was taken",
               mbox_try_recv(&s->mb, buf, sizeof buf), -1);
    EXPECT_ERRNO("mbox_try_recv once the message was taken", EAGAIN);
    mshare_free(s);
}

TEST(mbox_sizes, 2, "§3")
{
    struct mshare *s = mshare_new();
    unsigned char big[MBOX_MAX + 1], buf[MBOX_MAX];

    memset(big, 'b', sizeof big);
    EXPECT_RET("mbox_send of MBOX_MAX + 1 bytes",
               mbox_send(&s->mb, big, sizeof big), -1);
    EXPECT_ERRNO("mbox_send of MBOX_MAX + 1 bytes", EMSGSIZE);
    EXPECT_RET("mbox_try_recv after a send that failed with EMSGSIZE",
               mbox_try_recv(&s->mb, buf, sizeof buf), -1);
    EXPECT_ERRNO("mbox_try_recv after a failed send (nothing was sent)",
                 EAGAIN);
    EXPECT_RET("mbox_send of 100 bytes", mbox_send(&s->mb, big, 100), 0);
    EXPECT_RET("mbox_recv of 100 bytes into a 10-byte buffer",
               mbox_recv(&s->mb, buf, 10), -1);
    EXPECT_ERRNO("mbox_recv of 100 bytes into a 10-byte buffer", EMSGSIZE);
    EXPECT_RET("mbox_try_recv with room, after the EMSGSIZE (the message must"
               " still be there)", mbox_try_recv(&s->mb, buf, sizeof buf), 100);
    EXPECT(buf[0] == 'b' && buf[99] == 'b', "the message kept after EMSGSIZE:"
           " expected 100 'b's, got 0x%02x...0x%02x", buf[0], buf[99]);
    mshare_free(s);
}

TEST(mbox_errors, 1, "§3")
{
    struct mshare *s = mshare_new();
    char buf[16];

    EXPECT_RET("mbox_init(NULL)", mbox_init(NULL), -1);
    EXPECT_ERRNO("mbox_init(NULL)", EINVAL);
    EXPECT_RET("mbox_send(NULL, \"x\", 1)", mbox_send(NULL, "x", 1), -1);
    EXPECT_ERRNO("mbox_send(NULL, \"x\", 1)", EINVAL);
    EXPECT_RET("mbox_send(mb, NULL, 3)", mbox_send(&s->mb, NULL, 3), -1);
    EXPECT_ERRNO("mbox_send(mb, NULL, 3)", EINVAL);
    EXPECT_RET("mbox_recv(NULL, buf, 16)",
               mbox_recv(NULL, buf, sizeof buf), -1);
    EXPECT_ERRNO("mbox_recv(NULL, buf, 16)", EINVAL);
    EXPECT_RET("mbox_recv(mb, NULL, 16)", mbox_recv(&s->mb, NULL, 16), -1);
    EXPECT_ERRNO("mbox_recv(mb, NULL, 16)", EINVAL);
    EXPECT_RET("mbox_recv_timed(mb, buf, 16, -1)",
               mbox_recv_timed(&s->mb, buf, sizeof buf, -1), -1);
    EXPECT_ERRNO("mbox_recv_timed(mb, buf, 16, -1)", EINVAL);
    EXPECT_RET("mbox_destroy(NULL)", mbox_destroy(NULL), -1);
    EXPECT_ERRNO("mbox_destroy(NULL)", EINVAL);
    mshare_free(s);
}

#define STREAM 20000L           /* messages in mbox_stream */

static int stream_send(void *arg)
{
    struct mshare *s = arg;
    unsigned char msg[MBOX_MAX];

    for (long i = 0; i < hx_iters(STREAM); i++) {
        size_t len = stream_msg(i, msg);
        if (mbox_send(&s->mb, msg, len) == -1)
            return say(s->why[1], "mbox_send of message %ld failed with %s",
                       i, hx_errname(errno));
    }
    return OK;
}

static int stream_recv(void *arg)
{
    struct mshare *s = arg;
    unsigned char msg[MBOX_MAX], buf[MBOX_MAX];

    for (long i = 0; i < hx_iters(STREAM); i++) {
        size_t len = stream_msg(i, msg);
        ssize_t n = mbox_recv(&s->mb, buf, sizeof buf);
        if (n == -1)
            return say(s->why[0], "mbox_recv of message %ld failed with %s",
                       i, hx_errname(errno));
        if ((size_t)n != len || memcmp(buf, msg, len) != 0)
            return say(s->why[0], "message %ld: expected %zu bytes, got %zd "
                       "bytes that differ: a message lost, repeated or torn",
                       i, len, n);
    }
    if (mbox_try_recv(&s->mb, buf, sizeof buf) != -1)
        return say(s->why[0], "after the last message, mbox_try_recv found "
                   "one more");
    return OK;
}

TEST(mbox_stream, 3, "§3")
{
    struct mshare *s = mshare_new();
    struct kid rx, tx;

    kid_start(&rx, stream_recv, s);
    kid_start(&tx, stream_send, s);
    kid_wait(&rx, 5 * scale());
    kid_wait(&tx, 1);
    expect_ok("the receiving child", &rx, s->why[0], "a wakeup was lost or a "
              "message never sent");
    expect_ok("the sending child", &tx, s->why[1], "a wakeup was lost");
    mshare_free(s);
}

/* A child that receives one message: "wake up". */
static int recv_one(void *arg)
{
    struct mshare *s = arg;
    char buf[MBOX_MAX];
    ssize_t n = mbox_recv(&s->mb, buf, sizeof buf);

    if (n == -1)
        return say(s->why[0], "mbox_recv failed with %s", hx_errname(errno));
    if (n != 7 || memcmp(buf, "wake up", 7) != 0)
        return say(s->why[0], "mbox_recv: expected \"wake up\", got %zd "
                   "bytes", n);
    return OK;
}

TEST(mbox_sleeps, 3, "§1")
{
    struct mshare *s = mshare_new();
    double t0 = now();
    struct kid rx;

    kid_start(&rx, recv_one, s);
    kid_asleep(&rx, 2 * scale());       /* a poller never sleeps: go on */
    nap(0.4);
    EXPECT_RET("mbox_send(\"wake up\")", mbox_send(&s->mb, "wake up", 7), 0);
    double waited = now() - t0;
    kid_wait(&rx, 2 * scale());
    expect_ok("the receiving child", &rx, s->why[0], "it was never woken");
    struct timeval *u = &rx.ru.ru_utime, *k = &rx.ru.ru_stime;
    double cpu = (double)(u->tv_sec + k->tv_sec) +
                 (double)(u->tv_usec + k->tv_usec) / 1e6;
    if (!hx_memcheck())                 /* CPU time means nothing there */
        EXPECT(cpu < 0.04, "a receiver waiting %.2f s for a message used %.3f"
               " s of CPU time: expected (almost) none. Does mbox_recv poll "
               "instead of sleeping in sem_wait?", waited, cpu);
    mshare_free(s);
}

/* A child that sends "second" into a full mailbox. */
static int send_second(void *arg)
{
    struct mshare *s = arg;

    if (mbox_send(&s->mb, "second", 6) == -1)
        return say(s->why[1], "mbox_send into a full mailbox failed with %s",
                   hx_errname(errno));
    return OK;
}

TEST(mbox_wakes_across_fork, 3, "§2")
{
    struct mshare *s = mshare_new();
    char buf[MBOX_MAX];
    struct kid rx, tx;

    /* A receiver that is asleep BEFORE the post: only then is a wakeup
     * that stays inside one process lost. */
    kid_start(&rx, recv_one, s);
    kid_asleep(&rx, 2 * scale());
    EXPECT_RET("mbox_send(\"wake up\")", mbox_send(&s->mb, "wake up", 7), 0);
    kid_wait(&rx, 2 * scale());
    expect_ok("a child asleep in mbox_recv before the parent's send", &rx,
              s->why[0], "the parent's post never woke it. Did sem_init get "
              "pshared = 0?");
    /* A sender asleep on a full mailbox, woken by the parent's receive. */
    EXPECT_RET("mbox_send(\"first\")", mbox_send(&s->mb, "first", 5), 0);
    kid_start(&tx, send_second, s);
    kid_asleep(&tx, 2 * scale());
    EXPECT_RET("mbox_recv: \"first\"", mbox_recv(&s->mb, buf, sizeof buf), 5);
    kid_wait(&tx, 2 * scale());
    expect_ok("a child asleep in mbox_send (mailbox full) before the parent's"
              " receive", &tx, s->why[1], "the parent's post never woke it. "
              "Did sem_init get pshared = 0?");
    EXPECT_RET("mbox_try_recv: the child's \"second\"",
               mbox_try_recv(&s->mb, buf, sizeof buf), 6);
    mshare_free(s);
}

/* Part 2: interrupted waits */

#define NITEMS 3

static int recv_through_signals(void *arg)
{
    struct mshare *s = arg;
    char buf[MBOX_MAX], want[16];

    if (catch_usr1(s) == -1)
        return say(s->why[0], "test setup: sigaction failed");
    for (int i = 0; i < NITEMS; i++) {
        int len = snprintf(want, sizeof want, "item %d", i);
        errno = 0;
        ssize_t n = mbox_recv(&s->mb, buf, sizeof buf);
        if (n == -1)
            return say(s->why[0], "mbox_recv, interrupted by a signal handler,"
                       " returned -1 with errno %s: expected it to go back to "
                       "sleep and return \"%s\"", hx_errname(errno), want);
        if (n != len || memcmp(buf, want, (size_t)len) != 0)
            return say(s->why[0], "mbox_recv after a signal: expected \"%s\","
                       " got %zd bytes \"%.*s\"", want, n, n > 0 ? (int)n : 0,
                       buf);
    }
    if (mbox_try_recv(&s->mb, buf, sizeof buf) != -1)
        return say(s->why[0], "after %d items, mbox_try_recv found one more: an"
                   " item was duplicated", NITEMS);
    return OK;
}

TEST(mbox_recv_eintr, 3, "§4")
{
    struct mshare *s = mshare_new();
    char item[16];
    struct kid rx;

    kid_start(&rx, recv_through_signals, s);
    for (int i = 0; i < NITEMS && interrupt(s, &rx); i++) {
        int len = snprintf(item, sizeof item, "item %d", i);
        EXPECT_RET("mbox_send of an item",
                   mbox_send(&s->mb, item, (size_t)len), 0);
    }
    kid_wait(&rx, 2 * scale());
    expect_ok("a child receiving while signals (no SA_RESTART) arrive", &rx,
              s->why[0], "it missed an item");
    EXPECT_RET("signals the child's handler caught", atomic_load(&s->hits),
               NITEMS);
    mshare_free(s);
}

static int send_through_signal(void *arg)
{
    struct mshare *s = arg;

    if (catch_usr1(s) == -1)
        return say(s->why[1], "test setup: sigaction failed");
    errno = 0;
    if (mbox_send(&s->mb, "second", 6) == -1)
        return say(s->why[1], "mbox_send into a full mailbox, interrupted by a"
                   " signal handler, returned -1 with errno %s: expected it to"
                   " go back to sleep until the slot is free",
                   hx_errname(errno));
    return OK;
}

TEST(mbox_send_eintr, 2, "§4")
{
    struct mshare *s = mshare_new();
    char buf[MBOX_MAX];
    struct kid tx;

    EXPECT_RET("mbox_send(\"first\")", mbox_send(&s->mb, "first", 5), 0);
    kid_start(&tx, send_through_signal, s);
    int asleep = interrupt(s, &tx);
    memset(buf, 0, sizeof buf);
    EXPECT_RET("mbox_recv: \"first\"", mbox_recv(&s->mb, buf, sizeof buf), 5);
    EXPECT(memcmp(buf, "first", 5) == 0, "mbox_recv: expected \"first\", got "
           "\"%.5s\": the interrupted send overwrote it", buf);
    kid_wait(&tx, 2 * scale());
    expect_ok("a child sending while a signal (no SA_RESTART) arrives", &tx,
              s->why[1], "the slot was freed, yet it did not send");
    EXPECT(asleep, "the sending child ended right after the signal, before"
           " the slot was free");
    EXPECT_RET("mbox_try_recv: the child's \"second\"",
               mbox_try_recv(&s->mb, buf, sizeof buf), 6);
    EXPECT_RET("mbox_try_recv after \"second\" (sent once only)",
               mbox_try_recv(&s->mb, buf, sizeof buf), -1);
    EXPECT_ERRNO("mbox_try_recv after \"second\"", EAGAIN);
    mshare_free(s);
}

/* Part 3: waiting with a deadline */

TEST(mbox_timeout, 2, "§5")
{
    struct mshare *s = mshare_new();
    char buf[MBOX_MAX];

    errno = 0;
    double t0 = now();
    EXPECT_RET("mbox_recv_timed(250 ms) on an empty mailbox",
               mbox_recv_timed(&s->mb, buf, sizeof buf, 250), -1);
    double took = now() - t0;
    EXPECT_ERRNO("mbox_recv_timed(250 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(took >= 0.24, "mbox_recv_timed(250 ms) gave up after %.3f s: "
           "expected 0.25 s. sem_timedwait wants an ABSOLUTE CLOCK_REALTIME "
           "time", took);
    EXPECT(took < 2.5 * scale(), "mbox_recv_timed(250 ms) returned after "
           "%.3f s", took);
    errno = 0;
    t0 = now();
    EXPECT_RET("mbox_recv_timed(0 ms) on an empty mailbox",
               mbox_recv_timed(&s->mb, buf, sizeof buf, 0), -1);
    EXPECT_ERRNO("mbox_recv_timed(0 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(now() - t0 < 1.0 * scale(), "mbox_recv_timed(0 ms) took %.3f s",
           now() - t0);
    EXPECT_RET("mbox_send(\"now\")", mbox_send(&s->mb, "now", 3), 0);
    EXPECT_RET("mbox_recv_timed(0 ms) with a message there",
               mbox_recv_timed(&s->mb, buf, sizeof buf, 0), 3);
    mshare_free(s);
}

static int recv_timed_late(void *arg)
{
    struct mshare *s = arg;
    long ms = hx_memcheck() ? 29999 : 2999;
    char buf[MBOX_MAX];

    if (catch_usr1(s) == -1)
        return say(s->why[0], "test setup: sigaction failed");
    double t0 = now();
    errno = 0;
    ssize_t n = mbox_recv_timed(&s->mb, buf, sizeof buf, ms);
    if (n == -1)
        return say(s->why[0], "mbox_recv_timed(%ld ms) returned -1 with "
                   "errno %s after %.3f s, though a message came sooner", ms,
                   hx_errname(errno), now() - t0);
    if (n != 4 || memcmp(buf, "late", 4) != 0)
        return say(s->why[0], "mbox_recv_timed: expected \"late\", got %zd "
                   "bytes", n);
    return OK;
}

TEST(mbox_timed_wakes, 2, "§5")
{
    struct mshare *s = mshare_new();
    struct kid rx;

    kid_start(&rx, recv_timed_late, s);
    if (interrupt(s, &rx))              /* asleep, a signal, asleep again */
        EXPECT_RET("mbox_send(\"late\")", mbox_send(&s->mb, "late", 4), 0);
    kid_wait(&rx, 5 * scale());
    expect_ok("a child in mbox_recv_timed(2999 ms), sent a signal, then a "
              "message", &rx, s->why[0], "the message did not wake it");
    mshare_free(s);
}

/* Part 4: a bounded buffer */

static struct ring *ring_new(unsigned n)
{
    size_t size = ring_size(n);

    EXPECT(size == sizeof(struct ring) + n * sizeof(uint64_t),
           "ring_size(%u): expected %zu, got %zu", n,
           sizeof(struct ring) + n * sizeof(uint64_t), size);
    struct ring *r = shared(size);
    memset(r, 0xa5, size);              /* old junk: ring_init must cope */
    EXPECT_RET("ring_init", ring_init(r, n), 0);
    return r;
}

/* n as given to ring_new: r->n may be anything if ring_init is wrong. */
static void ring_free(struct ring *r, unsigned n)
{
    ring_destroy(r);
    munmap(r, sizeof(struct ring) + n * sizeof(uint64_t));
}

/* Pop one item and compare it with want. */
static void expect_pop(struct ring *r, uint64_t want)
{
    uint64_t got = ~want;

    EXPECT_RET("ring_pop", ring_pop(r, &got), 0);
    EXPECT(got == want, "ring_pop: expected item %llu, got %llu (first in, "
           "first out)", (unsigned long long)want, (unsigned long long)got);
}

TEST(ring_fifo, 2, "§6")
{
    struct ring *r = ring_new(8);

    for (uint64_t i = 1; i <= 8; i++)
        EXPECT_RET("ring_push into a ring with room",
                   ring_push(r, i * 1000 + 7), 0);
    for (uint64_t i = 1; i <= 8; i++)
        expect_pop(r, i * 1000 + 7);
    for (uint64_t i = 0; i < 30; i++) { /* around the end several times */
        EXPECT_RET("ring_push", ring_push(r, i), 0);
        EXPECT_RET("ring_push", ring_push(r, i + 100), 0);
        EXPECT_RET("ring_push", ring_push(r, i + 200), 0);
        expect_pop(r, i);
        expect_pop(r, i + 100);
        expect_pop(r, i + 200);
    }
    EXPECT_RET("ring_destroy", ring_destroy(r), 0);
    EXPECT_RET("ring_init of the same memory again", ring_init(r, 8), 0);
    ring_free(r, 8);
}

TEST(ring_errors, 1, "§6")
{
    struct ring *r = ring_new(4);
    uint64_t x;

    errno = 0;
    EXPECT_SIZE("ring_size(0)", ring_size(0), 0);
    EXPECT_ERRNO("ring_size(0)", EINVAL);
    errno = 0;
    EXPECT_SIZE("ring_size(RING_MAX + 1)", ring_size(RING_MAX + 1), 0);
    EXPECT_ERRNO("ring_size(RING_MAX + 1)", EINVAL);
    EXPECT_SIZE("ring_size(RING_MAX)", ring_size(RING_MAX),
                sizeof(struct ring) + (size_t)RING_MAX * sizeof(uint64_t));
    EXPECT_RET("ring_init(NULL, 4)", ring_init(NULL, 4), -1);
    EXPECT_ERRNO("ring_init(NULL, 4)", EINVAL);
    EXPECT_RET("ring_init(r, 0)", ring_init(r, 0), -1);
    EXPECT_ERRNO("ring_init(r, 0)", EINVAL);
    EXPECT_RET("ring_push(NULL, 1)", ring_push(NULL, 1), -1);
    EXPECT_ERRNO("ring_push(NULL, 1)", EINVAL);
    EXPECT_RET("ring_pop(NULL, &x)", ring_pop(NULL, &x), -1);
    EXPECT_ERRNO("ring_pop(NULL, &x)", EINVAL);
    EXPECT_RET("ring_pop(r, NULL)", ring_pop(r, NULL), -1);
    EXPECT_ERRNO("ring_pop(r, NULL)", EINVAL);
    EXPECT_RET("ring_destroy(NULL)", ring_destroy(NULL), -1);
    EXPECT_ERRNO("ring_destroy(NULL)", EINVAL);
    ring_free(r, 4);
}

static int push_five(void *arg)
{
    return ring_push(arg, 5) == 0 ? OK : 1;
}

TEST(ring_full_blocks, 2, "§6")
{
    struct ring *r = ring_new(4);
    struct kid tx;

    for (uint64_t i = 1; i <= 4; i++)
        EXPECT_RET("ring_push into a ring with room", ring_push(r, i), 0);
    kid_start(&tx, push_five, r);
    if (kid_asleep(&tx, 2 * scale()) != 0)
        nap(0.05);
    EXPECT(!kid_poll(&tx), "a child's ring_push into a full ring of 4 "
           "returned (exit status %d) instead of sleeping until a slot is "
           "free", WIFEXITED(tx.status) ? WEXITSTATUS(tx.status) : -1);
    expect_pop(r, 1);
    kid_wait(&tx, 2 * scale());
    expect_ok("a child asleep in ring_push on a full ring", &tx, NULL,
              "ring_pop freed a slot but did not wake it");
    for (uint64_t i = 2; i <= 5; i++)
        expect_pop(r, i);
    ring_free(r, 4);
}

#define PER_PRODUCER 100000L    /* items each producer pushes in ring_mpmc */
#define SLOTS 64                /* slots of the ring in ring_mpmc */

/* What ring_mpmc shares with its 2 producers and 2 consumers. */
struct mpmc {
    struct ring *r;             /* the ring (its own mapping) */
    _Atomic unsigned char *seen; /* [2 * n]: times item (p, i) was popped */
    long n;                     /* items per producer */
    char why[4][WHY];           /* 0-1 consumers, 2-3 producers */
};

static struct mpmc *mpmc_arg;           /* set before forking */

static int producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    struct mpmc *m = mpmc_arg;

    for (long i = 0; i < m->n; i++)
        if (ring_push(m->r, (uint64_t)p << 32 | (uint64_t)i) == -1)
            return say(m->why[2 + p], "producer %d: ring_push failed with %s",
                       p, hx_errname(errno));
    return OK;
}

/* Pops its share, checks each item, counts it in seen; goes on after a
 * bad item so that nobody waits for ever. */
static int consumer(void *arg)
{
    int c = (int)(intptr_t)arg, bad = 0;
    struct mpmc *m = mpmc_arg;
    long last[2] = { -1, -1 };

    for (long k = 0; k < m->n; k++) {
        uint64_t x;
        if (ring_pop(m->r, &x) == -1)
            return say(m->why[c], "consumer %d: ring_pop failed with %s", c,
                       hx_errname(errno));
        unsigned p = (unsigned)(x >> 32);
        long i = (long)(x & 0xffffffffu);
        if (p > 1 || i >= m->n) {
            bad = bad ? bad : say(m->why[c], "consumer %d popped %#llx, which"
                                  " nobody pushed", c, (unsigned long long)x);
            continue;
        }
        if (i <= last[p])
            bad = bad ? bad : say(m->why[c], "consumer %d popped item %ld of"
                                  " producer %u after item %ld: out of order",
                                  c, i, p, last[p]);
        last[p] = i;
        atomic_fetch_add(&m->seen[p * m->n + i], 1);
    }
    return bad ? 1 : OK;
}

static int push_seven(void *arg)
{
    return ring_push(arg, 7) == 0 ? OK : 1;
}

static int pop_seven(void *arg)
{
    uint64_t x = 0;

    return ring_pop(arg, &x) == 0 && x == 7 ? OK : 1;
}

/* While the test holds r->lock, fn (a push or a pop in a child) must wait
 * for it. Whether two producers really collide is luck (rare on a busy
 * machine); whether a push waits for the lock is not. */
static void expect_waits_for_lock(struct ring *r, int (*fn)(void *),
                                  const char *what)
{
    struct kid k;

    EXPECT(sem_wait(&r->lock) == 0, "test setup: sem_wait on the ring's lock");
    kid_start(&k, fn, r);
    if (kid_asleep(&k, 2 * scale()) != 0)
        nap(0.05);
    int done = kid_poll(&k);
    sem_post(&r->lock);
    kid_wait(&k, 2 * scale());
    EXPECT(!done, "%s finished while another process held the ring's lock: "
           "then two producers (or consumers) at once can take the same slot",
           what);
    expect_ok(what, &k, NULL, "it was not woken when the lock was released");
}

TEST(ring_mpmc, 4, "§6")
{
    struct mpmc *m = shared(sizeof *m);
    struct kid kids[4];
    long lost = 0, extra = 0, first = -1;

    m->n = hx_iters(PER_PRODUCER);
    m->r = ring_new(SLOTS);
    expect_waits_for_lock(m->r, push_seven, "a child's ring_push");
    expect_waits_for_lock(m->r, pop_seven, "a child's ring_pop");
    m->seen = shared((size_t)(2 * m->n));
    mpmc_arg = m;
    for (int p = 0; p < 2; p++)         /* producers first: they fill the */
        kid_start(&kids[2 + p], producer, (void *)(intptr_t)p);
    for (int p = 0; p < 2; p++)         /* ring, then must sleep */
        kid_asleep(&kids[2 + p], 2 * scale());
    for (int c = 0; c < 2; c++)
        kid_start(&kids[c], consumer, (void *)(intptr_t)c);
    double end = now() + 8 * scale();
    for (int k = 0; k < 4; k++)
        kid_wait(&kids[k], end - now() > 0.1 ? end - now() : 0.1);
    for (int k = 0; k < 4; k++)
        expect_ok(k < 2 ? "a consumer" : "a producer", &kids[k], m->why[k],
                  "a wakeup was lost, or the counts of free and filled slots"
                  " went wrong");
    for (long j = 0; j < 2 * m->n; j++) {
        lost += m->seen[j] == 0;
        extra += m->seen[j] > 1;
        if (first == -1 && m->seen[j] != 1)
            first = j;
    }
    EXPECT(first == -1, "2 producers x %ld items, 2 consumers: item %ld of "
           "producer %ld was popped %d times; %ld items lost, %ld popped more"
           " than once. Is every access to head, tail and the slots under the"
           " lock?", m->n, first % m->n, first / m->n, m->seen[first], lost,
           extra);
    munmap((void *)m->seen, (size_t)(2 * m->n));
    ring_free(m->r, SLOTS);
    munmap(m, sizeof *m);
}

/* Part 5: named channels */

/* The /dev/shm file of channel object name (suffix "" for the region,
 * ".empty" or ".full" for a semaphore). */
static char *shm_file(char *buf, size_t size, const char *name,
                      const char *suffix)
{
    if (*suffix == '\0')
        snprintf(buf, size, "/dev/shm%s", name);
    else
        snprintf(buf, size, "/dev/shm/sem.%s%s", name + 1, suffix);
    return buf;
}

/* Fail unless each object of channel name exists (want 1) or not (0). */
static void expect_objects(const char *what, const char *name, int want)
{
    static const char *const suffix[] = { "", ".empty", ".full" };
    char path[512];
    struct stat st;

    for (int i = 0; i < 3; i++) {
        shm_file(path, sizeof path, name, suffix[i]);
        int there = stat(path, &st) == 0;
        EXPECT(there == want, "%s: expected %s %s", what, path,
               want ? "to exist" : "to be gone (unlinked)");
        if (want)
            EXPECT((st.st_mode & 0777) == 0600, "%s: %s has mode %03o, "
                   "expected 0600 (owner only)", what, path,
                   (unsigned)(st.st_mode & 0777));
    }
}

/* Fail if /dev/shm holds anything whose name starts with name's. */
static void expect_nothing_left(const char *what, const char *name)
{
    char sem[256];
    DIR *d = opendir("/dev/shm");
    struct dirent *e;

    EXPECT(d != NULL, "test setup: cannot read /dev/shm");
    snprintf(sem, sizeof sem, "sem.%s", name + 1);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, name + 1, strlen(name + 1)) == 0 ||
            strncmp(e->d_name, sem, strlen(sem)) == 0) {
            char left[256];
            snprintf(left, sizeof left, "%s", e->d_name);
            closedir(d);
            EXPECT(0, "%s: /dev/shm/%s was left behind", what, left);
        }
    }
    closedir(d);
}

TEST(chan_roundtrip, 2, "§7")
{
    char name[128], buf[CHAN_MAX];
    struct chan a, b;
    int fds = hx_fd_count();

    hx_shm_name(name, sizeof name, "rt");
    EXPECT_RET("chan_create", chan_create(&a, name), 0);
    expect_objects("after chan_create", name, 1);
    EXPECT_RET("open descriptors after chan_create (close the shm_open "
               "descriptor once mapped)", hx_fd_count(), fds);
    EXPECT_RET("chan_open of the channel just made", chan_open(&b, name), 0);
    EXPECT(a.buf != b.buf, "chan_open mapped the region at the creator's "
           "address: expected a mapping of its own");
    EXPECT_RET("chan_send(\"ping\") on the creator's handle",
               chan_send(&a, "ping", 4), 0);
    EXPECT_RET("chan_recv on the opener's handle",
               chan_recv(&b, buf, sizeof buf), 4);
    EXPECT(memcmp(buf, "ping", 4) == 0, "chan_recv: expected \"ping\", got "
           "\"%.4s\"", buf);
    EXPECT_RET("chan_send(\"pong\") on the opener's handle",
               chan_send(&b, "pong", 4), 0);
    EXPECT_RET("chan_recv on the creator's handle", chan_recv(&a, buf, 3), -1);
    EXPECT_ERRNO("chan_recv of 4 bytes into 3", EMSGSIZE);
    EXPECT_RET("chan_recv with room after EMSGSIZE",
               chan_recv(&a, buf, sizeof buf), 4);
    EXPECT_RET("chan_close of the opener's handle", chan_close(&b), 0);
    EXPECT_RET("chan_close of the creator's handle", chan_close(&a), 0);
    EXPECT_RET("open descriptors after chan_close", hx_fd_count(), fds);
    EXPECT_RET("chan_unlink", chan_unlink(name), 0);
}

TEST(chan_errors, 2, "§7")
{
    char name[128], other[128], sem[160], lng[CHAN_NAME_MAX + 2], buf[8];
    struct chan a, b;
    int fds = hx_fd_count();

    memset(lng, 'x', sizeof lng - 1);
    lng[0] = '/';
    lng[sizeof lng - 1] = '\0';
    const char *bad[] = { "noslash", "/two/slashes", lng, NULL };
    const char *what[] = { "chan_create(\"noslash\")",
                           "chan_create(\"/two/slashes\")",
                           "chan_create(a name of 201 bytes)",
                           "chan_create(NULL)" };
    for (int i = 0; i < 4; i++) {
        EXPECT_RET(what[i], chan_create(&a, bad[i]), -1);
        EXPECT_ERRNO(what[i], EINVAL);
    }
    hx_shm_name(other, sizeof other, "none");
    EXPECT_RET("chan_open of a channel nobody made", chan_open(&b, other), -1);
    EXPECT_ERRNO("chan_open of a channel nobody made", ENOENT);
    expect_nothing_left("after chan_open of a missing channel (it must not "
                        "create)", other);
    hx_shm_name(name, sizeof name, "twice");
    EXPECT_RET("chan_create", chan_create(&a, name), 0);
    EXPECT_RET("chan_create of an existing channel", chan_create(&b, name), -1);
    EXPECT_ERRNO("chan_create of an existing channel", EEXIST);
    expect_objects("the first channel, after a second chan_create failed",
                   name, 1);
    EXPECT_RET("chan_send on the first channel", chan_send(&a, "ok", 2), 0);
    EXPECT_RET("chan_recv on the first channel",
               chan_recv(&a, buf, sizeof buf), 2);
    snprintf(sem, sizeof sem, "%s.full", name);
    EXPECT_RET("sem_unlink of NAME.full (test setup)", sem_unlink(sem), 0);
    EXPECT_RET("chan_open with NAME.full missing", chan_open(&b, name), -1);
    EXPECT_ERRNO("chan_open with NAME.full missing", ENOENT);
    EXPECT_RET("chan_close", chan_close(&a), 0);
    EXPECT_RET("open descriptors after a failed chan_open and chan_close",
               hx_fd_count(), fds);
    shm_unlink(name);
    snprintf(sem, sizeof sem, "%s.empty", name);
    sem_unlink(sem);
}

TEST(chan_create_cleans_up, 2, "§7")
{
    char name[128], full[256];
    struct chan c;
    int fds = hx_fd_count();

    hx_shm_name(name, sizeof name, "half");
    snprintf(full, sizeof full, "%s.full", name);
    sem_t *s = sem_open(full, O_CREAT | O_EXCL, 0600, 0);  /* in the way */
    EXPECT(s != SEM_FAILED, "test setup: sem_open(%s) failed (%s)", full,
           hx_errname(errno));
    sem_close(s);
    errno = 0;
    int rc = chan_create(&c, name);
    int err = errno;
    char path[512];
    struct stat st;
    int region = stat(shm_file(path, sizeof path, name, ""), &st) == 0;
    int empty = stat(shm_file(path, sizeof path, name, ".empty"), &st) == 0;
    int theirs = stat(shm_file(path, sizeof path, name, ".full"), &st) == 0;
    sem_unlink(full);
    EXPECT_RET("chan_create when NAME.full exists already", rc, -1);
    errno = err;
    EXPECT_ERRNO("chan_create when NAME.full exists already", EEXIST);
    EXPECT(!region && !empty, "the failed chan_create left behind what it had "
           "made:%s%s (remove it on the way out)", region ? " the region" : "",
           empty ? " NAME.empty" : "");
    EXPECT(theirs, "the failed chan_create removed NAME.full, which it had not"
           " made");
    EXPECT_RET("open descriptors after the failed chan_create",
               hx_fd_count(), fds);
    shm_unlink(name);
}

TEST(chan_unlink_removes, 2, "§7")
{
    char name[128], buf[8];
    struct chan a;

    hx_shm_name(name, sizeof name, "gone");
    EXPECT_RET("chan_create", chan_create(&a, name), 0);
    expect_objects("after chan_create", name, 1);
    EXPECT_RET("chan_unlink while a handle is open", chan_unlink(name), 0);
    expect_objects("after chan_unlink", name, 0);
    EXPECT_RET("chan_send on a handle opened before chan_unlink",
               chan_send(&a, "still", 5), 0);
    EXPECT_RET("chan_recv on a handle opened before chan_unlink",
               chan_recv(&a, buf, sizeof buf), 5);
    EXPECT_RET("chan_close after chan_unlink", chan_close(&a), 0);
    EXPECT_RET("chan_unlink of a channel already unlinked",
               chan_unlink(name), -1);
    EXPECT_ERRNO("chan_unlink of a channel already unlinked", ENOENT);
    EXPECT_RET("chan_unlink(\"no-slash\")", chan_unlink("no-slash"), -1);
    EXPECT_ERRNO("chan_unlink(\"no-slash\")", EINVAL);
    expect_nothing_left("after chan_unlink", name);
}

/* Part 6: the peer program */

struct prog {
    struct kid k;               /* the running program, waited for by kid_wait */
    struct hx_proc io;          /* its stdout and stderr */
};

/* Start ./peer with argv (argv[0] "./peer"), stdin /dev/null, its output
 * into temporary files. It is exec'd: it shares no memory with us. */
static void peer_start(struct prog *p, char *const argv[])
{
    memset(p, 0, sizeof *p);
    EXPECT(hx_spawn(argv, &p->io) == 0, "test setup: cannot start ./peer (%s)",
           hx_errname(errno));
    p->k.pid = p->io.pid;
}

/* Read what the program wrote; close the files. */
static void peer_output(struct prog *p, char *out, size_t outsz, char *err,
                        size_t errsz)
{
    hx_finish(&p->io, 0, out, outsz, err, errsz);
}

#define EXCHANGES 2000L         /* requests in peer_exchange */

/* What peer_exchange's client child shares with the test. */
struct client {
    char req[128], rep[128];    /* the channels' names */
    long n;                     /* requests to make */
    char why[WHY];
};

/* Request i: 1 to CHAN_MAX bytes of letters, digits and punctuation. */
static size_t request(long i, unsigned char *msg)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 ,.-_!";
    size_t len = 1 + (size_t)(i * 37 % CHAN_MAX);

    for (size_t k = 0; k < len; k++)
        msg[k] = (unsigned char)alphabet[(size_t)(i + 7 * (long)k) %
                                         (sizeof alphabet - 1)];
    return len;
}

/* Make c->n requests on req and check each answer on rep; then the empty
 * request. Returns OK, or 1 having said why. */
static int exchange(struct client *c, struct chan *req, struct chan *rep)
{
    unsigned char msg[CHAN_MAX], buf[CHAN_MAX];

    for (long i = 0; i < c->n; i++) {
        size_t len = request(i, msg);
        if (chan_send(req, msg, len) == -1)
            return say(c->why, "chan_send of request %ld failed with %s", i,
                       hx_errname(errno));
        ssize_t n = chan_recv(rep, buf, sizeof buf);
        if (n == -1)
            return say(c->why, "chan_recv of answer %ld failed with %s", i,
                       hx_errname(errno));
        for (size_t k = 0; k < len; k++)
            msg[k] = (unsigned char)toupper(msg[k]);
        if ((size_t)n != len || memcmp(buf, msg, len) != 0)
            return say(c->why, "answer %ld: expected the %zu bytes "
                       "\"%.20s...\", got %zd bytes \"%.20s...\"", i, len,
                       (char *)msg, n, n > 0 ? (char *)buf : "");
    }
    if (chan_send(req, NULL, 0) == -1)  /* the end */
        return say(c->why, "chan_send of the empty request failed with %s",
                   hx_errname(errno));
    return OK;
}

/* The client: opens both channels by name, as any other process would. */
static int client(void *arg)
{
    struct client *c = arg;
    struct chan req, rep;
    int rc;

    if (chan_open(&req, c->req) == -1)
        return say(c->why, "chan_open(REQ) failed with %s", hx_errname(errno));
    if (chan_open(&rep, c->rep) == -1) {
        rc = say(c->why, "chan_open(REP) failed with %s", hx_errname(errno));
    } else {
        rc = exchange(c, &req, &rep);
        chan_close(&rep);
    }
    chan_close(&req);
    return rc;
}

TEST(peer_exchange, 4, "§8")
{
    char out[256], err[1024], want[64];
    struct client *c = shared(sizeof *c);
    struct chan req, rep;
    struct prog peer;
    struct kid cl;

    c->n = hx_iters(EXCHANGES);
    hx_shm_name(c->req, sizeof c->req, "peer-req");
    hx_shm_name(c->rep, sizeof c->rep, "peer-rep");
    EXPECT_RET("chan_create(REQ)", chan_create(&req, c->req), 0);
    EXPECT_RET("chan_create(REP)", chan_create(&rep, c->rep), 0);
    /* The names keep the objects: the creator needs no handle (and a child
     * forked with named semaphores open would inherit them). */
    EXPECT_RET("chan_close(REQ) just after chan_create", chan_close(&req), 0);
    EXPECT_RET("chan_close(REP) just after chan_create", chan_close(&rep), 0);
    peer_start(&peer, (char *[]){ "./peer", c->req, c->rep, NULL });
    kid_start(&cl, client, c);
    kid_wait(&cl, 5 * scale());
    kid_wait(&peer.k, 2 * scale());
    peer_output(&peer, out, sizeof out, err, sizeof err);
    expect_ok("the test's client child", &cl, c->why,
              "./peer never answered (did it start? see below)");
    EXPECT(!peer.k.killed, "./peer REQ REP did not end after the empty "
           "request");
    EXPECT(WIFEXITED(peer.k.status) && WEXITSTATUS(peer.k.status) == 0,
           "./peer REQ REP: expected exit status 0, got %s %d; it said: %s",
           WIFEXITED(peer.k.status) ? "status" : "signal",
           WIFEXITED(peer.k.status) ? WEXITSTATUS(peer.k.status)
                                    : WTERMSIG(peer.k.status), err);
    snprintf(want, sizeof want, "peer: answered %ld requests\n", c->n);
    EXPECT_STR("./peer's output", out, want);
    EXPECT_STR("./peer's error output", err, "");
    EXPECT_RET("chan_unlink(REQ)", chan_unlink(c->req), 0);
    EXPECT_RET("chan_unlink(REP)", chan_unlink(c->rep), 0);
    expect_nothing_left("after the exchange and chan_unlink", c->req);
    expect_nothing_left("after the exchange and chan_unlink", c->rep);
    munmap(c, sizeof *c);
}

/* Run ./peer with argv; fail unless it exits with status want, says
 * something on stderr and nothing on stdout. */
static void expect_peer_fails(const char *what, char *const argv[], int want)
{
    char out[256], err[1024];
    struct prog peer;

    peer_start(&peer, argv);
    kid_wait(&peer.k, 3 * scale());
    peer_output(&peer, out, sizeof out, err, sizeof err);
    EXPECT(!peer.k.killed, "%s: still running after %.0f s (waiting on a "
           "channel it created itself?)", what, 3 * scale());
    EXPECT(WIFEXITED(peer.k.status), "%s: killed by signal %d", what,
           WTERMSIG(peer.k.status));
    EXPECT(WEXITSTATUS(peer.k.status) == want, "%s: expected exit status %d, "
           "got %d", what, want, WEXITSTATUS(peer.k.status));
    EXPECT(err[0] != '\0', "%s: expected a message on stderr, got none", what);
    EXPECT_STR("its standard output", out, "");
}

TEST(peer_no_channel, 2, "§8")
{
    char req[128], rep[128];
    struct chan c;

    hx_shm_name(req, sizeof req, "lone-req");
    hx_shm_name(rep, sizeof rep, "lone-rep");
    expect_peer_fails("./peer with no arguments",
                      (char *[]){ "./peer", NULL }, 2);
    expect_peer_fails("./peer REQ REP, neither channel exists",
                      (char *[]){ "./peer", req, rep, NULL }, 1);
    expect_nothing_left("./peer REQ REP, neither channel existed", req);
    expect_nothing_left("./peer REQ REP, neither channel existed", rep);
    EXPECT_RET("chan_create(REQ)", chan_create(&c, req), 0);
    expect_peer_fails("./peer REQ REP, only REQ exists",
                      (char *[]){ "./peer", req, rep, NULL }, 1);
    expect_nothing_left("./peer REQ REP, REP did not exist", rep);
    chan_close(&c);
    EXPECT_RET("chan_unlink(REQ)", chan_unlink(req), 0);
}

/* Part 7: signals as a doorbell */

/* Save the signal mask, and put it back. */
static void mask_save(sigset_t *old)
{
    EXPECT(sigprocmask(SIG_BLOCK, NULL, old) == 0, "test setup: sigprocmask");
}

static void mask_restore(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

struct bell {
    _Atomic long value;         /* the "data", written before the signal */
};

static int ring_bell(void *arg)
{
    struct bell *b = arg;

    atomic_store(&b->value, 4242);
    return kill(getppid(), SIGUSR1) == 0 ? OK : 1;
}

TEST(notify_wakes, 2, "§9")
{
    struct bell *b = shared(sizeof *b);
    sigset_t old, now_blocked;
    struct kid k;

    mask_save(&old);
    EXPECT_RET("notify_block(SIGUSR1)", notify_block(SIGUSR1), 0);
    sigprocmask(SIG_BLOCK, NULL, &now_blocked);
    EXPECT(sigismember(&now_blocked, SIGUSR1) == 1, "after notify_block("
           "SIGUSR1), SIGUSR1 is not in the signal mask");
    kid_start(&k, ring_bell, b);
    pid_t from = notify_wait(SIGUSR1, (long)(3000 * scale()));
    kid_wait(&k, 2 * scale());
    EXPECT_RET("notify_wait(SIGUSR1, 3000 ms): the sender's pid", from, k.pid);
    EXPECT_RET("the value the child stored before signalling",
               atomic_load(&b->value), 4242);
    mask_restore(&old);
    munmap(b, sizeof *b);
}

static int ring_thrice(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (kill(getppid(), SIGUSR1) == -1)
            return 1;
    return OK;
}

TEST(notify_coalesces, 2, "§9")
{
    sigset_t old;
    struct kid k;

    mask_save(&old);
    EXPECT_RET("notify_block(SIGUSR1)", notify_block(SIGUSR1), 0);
    kid_start(&k, ring_thrice, NULL);
    kid_wait(&k, 5 * scale());          /* all three sent before we look */
    expect_ok("a child sending SIGUSR1 three times", &k, NULL, "");
    EXPECT_RET("notify_wait after 3 signals: the sender's pid",
               notify_wait(SIGUSR1, 1000), k.pid);
    errno = 0;
    double t0 = now();
    EXPECT_RET("a second notify_wait(SIGUSR1, 200 ms): the 3 signals merged "
               "into 1", notify_wait(SIGUSR1, 200), -1);
    double took = now() - t0;
    EXPECT_ERRNO("notify_wait(SIGUSR1, 200 ms) with nothing pending", EAGAIN);
    EXPECT(took >= 0.19 && took < 2 * scale(), "notify_wait(SIGUSR1, 200 ms) "
           "gave up after %.3f s: expected 0.2 s", took);
    EXPECT_RET("notify_wait(SIGUSR1, 0 ms)", notify_wait(SIGUSR1, 0), -1);
    EXPECT_ERRNO("notify_wait(SIGUSR1, 0 ms) with nothing pending", EAGAIN);
    mask_restore(&old);
}

TEST(notify_errors, 1, "§9")
{
    EXPECT_RET("notify_block(0)", notify_block(0), -1);
    EXPECT_ERRNO("notify_block(0)", EINVAL);
    EXPECT_RET("notify_block(1000)", notify_block(1000), -1);
    EXPECT_ERRNO("notify_block(1000)", EINVAL);
    EXPECT_RET("notify_wait(1000, 10)", notify_wait(1000, 10), -1);
    EXPECT_ERRNO("notify_wait(1000, 10)", EINVAL);
}

const struct hx_part hx_parts[] = {
    { "1. The mailbox on two semaphores (sections 1-3)",
      { &mbox_roundtrip, &mbox_try_empty, &mbox_sizes, &mbox_errors,
        &mbox_stream, &mbox_sleeps, &mbox_wakes_across_fork } },
    { "2. When a signal interrupts a wait",
      { &mbox_recv_eintr, &mbox_send_eintr } },
    { "3. Waiting with a deadline", { &mbox_timeout, &mbox_timed_wakes } },
    { "4. A bounded buffer",
      { &ring_fifo, &ring_errors, &ring_full_blocks, &ring_mpmc } },
    { "5. Named channels for unrelated processes",
      { &chan_roundtrip, &chan_errors, &chan_create_cleans_up,
        &chan_unlink_removes } },
    { "6. The peer program", { &peer_exchange, &peer_no_channel } },
    { "7. Signals as a doorbell",
      { &notify_wakes, &notify_coalesces, &notify_errors } },
    { NULL, { NULL } },
};
