/* suite.c - Lab 03 tests: polling-flag pitfalls (handouts/03-polling.md).
 *
 * Helgrind and DRD cannot see races between processes, so these tests
 * catch them themselves:
 *  - every payload checks itself: its bytes derive from its sequence
 *    number, so a torn, stale, lost or repeated message is recognised;
 *  - "hold points" stop a copy half-way, deterministically. The message
 *    (or the receive buffer) ends in a page that is PROT_NONE; when the
 *    mbox code touches it, the SIGSEGV handler reports "paused" to the
 *    other process through a pipe and waits there until that process has
 *    looked at the mailbox. Then it restores access and returns, and the
 *    copy resumes where it stopped. (Not under Valgrind: by default it
 *    resumes a faulting instruction with stale registers, and the copy
 *    comes out wrong. There the copies run straight through, and the
 *    ordering is checked by the normal run only.)
 * Children report through a shared note page and exit 42 on success (never
 * 0: code that exits early must not look right).
 *
 * A call into mbox code may never return (a hoisted load, a deadline never
 * checked), so every test that calls one runs under a watchdog: SIGALRM
 * fails the test with a message that says what was awaited. It fires only when a call has
 * made no progress for seconds, so it cannot flake on a loaded machine;
 * Check's own timeout (the manifest's, long enough for the stream on a
 * busy machine) is only the backstop.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "mbox.h"

#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_OK 42             /* a child's "everything as expected" */
#define NOTE_MAX 512            /* bytes of a child's report */
#define HOLD_TAIL 64            /* bytes of a held buffer in the guard page */
#define HOLD_LOST 77            /* exit status: the other process vanished */
#define LATE_MS 100             /* how late a "late" message is sent */
#define IDLE_MS 250             /* the wait the CPU-time tests measure */
#define STREAM_N 100000         /* messages in the stream test */
#define STREAM_MIN 10000        /* ... at least, on a busy machine */
#define STREAM_SECS 10.0        /* the time after which it may stop early */
#define STREAM_HOLDS 20         /* hold points in a stream, both kinds */
#define STREAM_BEAT 256         /* messages between two watchdog resets */
#define STUCK_S 5               /* a call making no progress this long hangs */

/* Part 0: tools of the tests */

/* The watchdog (see the top of this file). */
static struct {
    const char *why;            /* what the test was waiting for */
    volatile long at;           /* the message it was at, or -1 */
} watch_state;

/* SIGALRM: fail the test. Check's ck_abort_msg from a handler is safe
 * enough here: what it interrupts is a wait in mbox code, not stdio or
 * malloc, and in a forked test it ends the process. */
static void watch_fire(int sig)
{
    (void)sig;
    if (watch_state.at >= 0)
        ck_abort_msg("%s (at message %ld)", watch_state.why, watch_state.at);
    ck_abort_msg("%s", watch_state.why);
}

/* Fail with `why` unless watch() is called again within STUCK_S seconds
 * (ten times that under Valgrind); watch(NULL) disarms. */
static void watch(const char *why)
{
    alarm(0);
    watch_state.why = why;
    watch_state.at = -1;
    if (why == NULL)
        return;
    signal(SIGALRM, watch_fire);
    alarm(hx_memcheck() ? 10 * STUCK_S : STUCK_S);
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What this process has used so far: CPU time and sleeps. */
struct usage {
    double cpu;                 /* user plus system CPU time, seconds */
    long sleeps;                /* voluntary context switches */
};

static struct usage usage_now(void)
{
    struct rusage r;

    EXPECT(getrusage(RUSAGE_SELF, &r) == 0, "test setup: getrusage failed");
    return (struct usage){
        (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
            (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6,
        r.ru_nvcsw };
}

static void nap_us(long us)
{
    struct timespec t = { us / 1000000, us % 1000000 * 1000L };

    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

static void nap_ms(long ms)
{
    nap_us(ms * 1000);
}

/* MBOX_SIZE bytes of fork-shared memory. */
static void *map_region(void)
{
    void *p = mmap(NULL, MBOX_SIZE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed (errno %s)",
           hx_errname(errno));
    return p;
}

/* A mailbox in fresh shared memory, made by mbox_init. */
static struct mbox *new_box(void)
{
    void *mem = map_region();
    struct mbox *mb = mbox_init(mem, MBOX_SIZE);

    if (mb == NULL) {
        int err = errno;
        munmap(mem, MBOX_SIZE);
        errno = err;
    }
    EXPECT_PTR("mbox_init(fresh region, MBOX_SIZE)", mb);
    EXPECT((void *)mb == mem, "mbox_init(mem, MBOX_SIZE): expected mem (%p),"
           " got %p", mem, (void *)mb);
    return mb;
}

static void free_box(struct mbox *mb)
{
    munmap(mb, MBOX_SIZE);
}

/* Byte i of message seq. Neighbouring messages differ in every byte, and
 * the first 8 bytes of a long enough message hold seq itself. */
static unsigned char msg_byte(uint64_t seq, size_t i)
{
    uint32_t m = (uint32_t)seq * 2654435761u ^ 0x5bd1e995u;

    return (unsigned char)((m >> (8 * (i & 3))) + (i >> 2));
}

static void msg_fill(unsigned char *p, size_t len, uint64_t seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = msg_byte(seq, i);
    if (len >= 8)
        memcpy(p, &seq, 8);
}

/* Whether the n bytes a receive returned in p are message seq of len
 * bytes, intact. If not, says what is wrong in why (size NOTE_MAX). */
static int msg_ok(const unsigned char *p, ssize_t n, size_t len, uint64_t seq,
                  char *why)
{
    uint64_t got = seq;

    if (n == -1) {
        snprintf(why, NOTE_MAX, "receiving message %llu: expected %zu bytes,"
                 " got -1 (errno %s)", (unsigned long long)seq, len,
                 hx_errname(errno));
        return 0;
    }
    if (n >= 8 && len >= 8)
        memcpy(&got, p, 8);
    if (got != seq) {
        snprintf(why, NOTE_MAX, "expected message %llu, got message %llu (%s)",
                 (unsigned long long)seq, (unsigned long long)got,
                 got < seq ? "an old one again: repeated or stale"
                           : "the one expected was lost");
        return 0;
    }
    if ((size_t)n != len) {
        snprintf(why, NOTE_MAX, "message %llu: expected %zu bytes, got %zd",
                 (unsigned long long)seq, len, n);
        return 0;
    }
    for (size_t i = 8; i < len; i++) {
        if (p[i] != msg_byte(seq, i)) {
            snprintf(why, NOTE_MAX, "message %llu (%zu bytes) is torn: byte"
                     " %zu is 0x%02x, expected 0x%02x (left from an older "
                     "message?)", (unsigned long long)seq, len, i, p[i],
                     msg_byte(seq, i));
            return 0;
        }
    }
    return 1;
}

/* Fail unless buf (n bytes from a receive) is message seq of len bytes. */
static void expect_msg(const char *what, const unsigned char *buf, ssize_t n,
                       size_t len, uint64_t seq)
{
    char why[NOTE_MAX];

    EXPECT(msg_ok(buf, n, len, seq, why), "%s: %s", what, why);
}

/* A page shared with the children, for their reports. */
static char *note;

static void note_map(void)
{
    note = mmap(NULL, NOTE_MAX, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT(note != MAP_FAILED, "test setup: mmap failed");
    note[0] = '\0';
}

/* In a child: write the report and return the failure status 1. */
__attribute__((format(printf, 1, 2)))
static int child_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(note, NOTE_MAX, fmt, ap);
    va_end(ap);
    return 1;
}

/* Fork a child that runs fn(arg) and exits with its result. */
static pid_t spawn(int (*fn)(void *), void *arg)
{
    pid_t pid = hx_start(fn, arg);

    EXPECT(pid != -1, "test setup: fork failed (errno %s)", hx_errname(errno));
    return pid;
}

/* Fail unless the child (wait status st) exited CHILD_OK; then munmap the
 * note page. */
static void expect_child(const char *what, int st)
{
    char why[NOTE_MAX];

    snprintf(why, sizeof why, "%s", note);
    munmap(note, NOTE_MAX);
    EXPECT(st != -1, "%s: waitpid failed", what);
    EXPECT(!WIFSIGNALED(st), "%s: the child was killed by signal %d (%s)",
           what, WTERMSIG(st), strsignal(WTERMSIG(st)));
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == CHILD_OK,
           "%s: %s", what, why[0] ? why : WEXITSTATUS(st) == HOLD_LOST ?
           "the child lost its partner while holding a copy" :
           "the child ended early (did mbox code call exit()?)");
}

/* Hold points (see the top of this file): one per process at a time. */
static struct {
    int on;                     /* 0 under Valgrind: nothing is held */
    size_t pg;                  /* page size */
    unsigned char *base;        /* three pages, private to this process */
    unsigned char *guard;       /* the third: PROT_NONE while armed */
    int tell;                   /* pipe end: "I am paused" goes out here */
    int wait;                   /* pipe end: the go-ahead comes in here */
    char mark;                  /* the byte that says "paused" */
    volatile char answer;       /* the go-ahead byte received last */
    volatile sig_atomic_t held; /* how many copies were held so far */
    struct sigaction old;       /* SIGSEGV's action before ours */
} hold;

static void hold_handler(int sig, siginfo_t *si, void *ctx)
{
    const unsigned char *a = si->si_addr;
    char c = hold.mark;

    (void)ctx;
    if (a < hold.guard || a >= hold.guard + hold.pg) {
        sigaction(sig, &hold.old, NULL);    /* a real crash: let it be */
        return;
    }
    if (write(hold.tell, &c, 1) != 1 || read(hold.wait, &c, 1) != 1)
        _exit(HOLD_LOST);
    hold.answer = c;
    hold.held++;
    if (mprotect(hold.guard, hold.pg, PROT_READ | PROT_WRITE) == -1)
        _exit(HOLD_LOST);
}

/* Map the hold buffer (before fork: both processes get their own). */
static void hold_map(void)
{
    hold.pg = hx_page();
    hold.base = mmap(NULL, 3 * hold.pg, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT(hold.base != MAP_FAILED, "test setup: mmap failed");
    hold.guard = hold.base + 2 * hold.pg;
    hold.held = 0;
    hold.on = !hx_memcheck();
}

/* MBOX_MAX bytes whose last HOLD_TAIL lie in the guard page. */
static unsigned char *hold_buf(void)
{
    return hold.guard + HOLD_TAIL - MBOX_MAX;
}

/* Catch SIGSEGV: pausing, say `mark` on tell, wait for a byte on wait.
 * Returns 0, or -1 with errno set. */
static int hold_install(int tell, char mark, int wait)
{
    struct sigaction sa;

    if (!hold.on)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hold_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    hold.tell = tell;
    hold.wait = wait;
    hold.mark = mark;
    return sigaction(SIGSEGV, &sa, &hold.old);
}

/* Make the next touch of the guard page pause. Returns 0 or -1. */
static int hold_arm(void)
{
    return hold.on ? mprotect(hold.guard, hold.pg, PROT_NONE) : 0;
}

/* Whether a copy that should have been held (hold.held was `before`) ran
 * through without touching the guard page. */
static int hold_missed(int before)
{
    return hold.on && hold.held == before;
}

/* Undo hold_install and hold_map. */
static void hold_remove(void)
{
    if (hold.on)
        sigaction(SIGSEGV, &hold.old, NULL);
    munmap(hold.base, 3 * hold.pg);
}

/* One byte from fd, or -1 at end of file or on error. */
static int get_byte(int fd)
{
    unsigned char c;
    ssize_t n;

    while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
        ;
    return n == 1 ? c : -1;
}

static void put_byte(int fd, char c)
{
    while (write(fd, &c, 1) == -1 && errno == EINTR)
        ;
}

/* Two pipes between parent and child: up (child to parent), down. */
struct link {
    struct mbox *mb;            /* the mailbox they share */
    int up[2];                  /* child to parent */
    int down[2];                /* parent to child */
    long n;                     /* messages (stream test) */
    struct sigaction pipe_old;  /* SIGPIPE's action before the link */
};

/* Open the pipes. SIGPIPE is ignored meanwhile: a write to a child that is
 * gone must fail (EPIPE), not kill the test. */
static void link_open(struct link *l, struct mbox *mb)
{
    struct sigaction ign;

    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    l->mb = mb;
    EXPECT(pipe(l->up) == 0 && pipe(l->down) == 0 &&
           sigaction(SIGPIPE, &ign, &l->pipe_old) == 0,
           "test setup: pipe or sigaction failed (errno %s)",
           hx_errname(errno));
}

/* After fork: keep the parent's ends (child 0) or the child's (1). */
static void link_side(struct link *l, int child)
{
    close(child ? l->up[0] : l->up[1]);
    close(child ? l->down[1] : l->down[0]);
}

/* In the parent, at the end. */
static void link_close(struct link *l)
{
    close(l->up[0]);
    close(l->down[1]);
    sigaction(SIGPIPE, &l->pipe_old, NULL);
}

/* Parent: wait until the child's copy is held. Returns 'P' when it is,
 * 'D' if the copy ended without being held, -1 if the child is gone, and
 * 'N' at once when nothing is held (under Valgrind). */
static int held_wait(struct link *l)
{
    return hold.on ? get_byte(l->up[0]) : 'N';
}

/* Parent: let the child's copy go on if it is held (held_wait said c). */
static void held_release(struct link *l, int c)
{
    if (c == 'P')
        put_byte(l->down[1], 'G');
}

/* What a call that should have failed with EAGAIN returned (r, err). */
static const char *said(ssize_t r, int err, char *buf, size_t size)
{
    if (r == -1)
        snprintf(buf, size, "-1 with errno %s", hx_errname(err));
    else
        snprintf(buf, size, "%zd (success)", r);
    return buf;
}

/* Part 1: the mailbox */

TEST(init_checks, 1, "§2")
{
    unsigned char *mem = mmap(NULL, 2 * MBOX_SIZE, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct { const char *what; void *mem; size_t size; } bad[] = {
        { "mbox_init(NULL, MBOX_SIZE)", NULL, MBOX_SIZE },
        { "mbox_init(mem, MBOX_SIZE - 1)", mem, MBOX_SIZE - 1 },
        { "mbox_init(mem, 0)", mem, 0 },
        { "mbox_init(mem + 1, MBOX_SIZE): misaligned", mem + 1, MBOX_SIZE },
        { "mbox_init(mem + 8, MBOX_SIZE): misaligned", mem + 8, MBOX_SIZE },
    };

    EXPECT(mem != MAP_FAILED, "test setup: mmap failed");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        EXPECT_NULL(bad[i].what, mbox_init(bad[i].mem, bad[i].size));
        EXPECT_ERRNO(bad[i].what, EINVAL);
    }
    EXPECT((void *)mbox_init(mem, MBOX_SIZE) == mem, "mbox_init(mem, "
           "MBOX_SIZE): expected mem, got another address or NULL (errno %s)",
           hx_errname(errno));
    munmap(mem, 2 * MBOX_SIZE);
}

TEST(try_empty, 1, "§2")
{
    struct mbox *mb = new_box();
    unsigned char buf[64];

    EXPECT_FAIL("mbox_try_recv on a new mailbox",
                mbox_try_recv(mb, buf, sizeof buf), EAGAIN);
    EXPECT_FAIL("mbox_try_recv on a new mailbox, asked again",
                mbox_try_recv(mb, buf, sizeof buf), EAGAIN);
    free_box(mb);
}

TEST(one_message, 2, "§2")
{
    static unsigned char in[MBOX_MAX], out[MBOX_MAX];
    struct mbox *mb = new_box();

    watch("mbox_send or mbox_recv did not return within 5 s, although the "
          "slot was in the state it waits for");
    EXPECT_INT("mbox_try_send(\"hello\", 5) into an empty slot",
               mbox_try_send(mb, "hello", 5), 0);
    EXPECT_INT("mbox_try_recv after it", mbox_try_recv(mb, out, sizeof out), 5);
    EXPECT(memcmp(out, "hello", 5) == 0, "mbox_try_recv: expected \"hello\","
           " got \"%.5s\"", (char *)out);
    EXPECT_FAIL("mbox_try_recv once the message was taken",
                mbox_try_recv(mb, out, sizeof out), EAGAIN);
    msg_fill(in, MBOX_MAX, 7);
    EXPECT_INT("mbox_send(MBOX_MAX bytes) into an empty slot",
               mbox_send(mb, in, MBOX_MAX), 0);
    expect_msg("mbox_recv of a MBOX_MAX-byte message", out,
               mbox_recv(mb, out, sizeof out), MBOX_MAX, 7);
    EXPECT_FAIL("mbox_try_recv after mbox_recv took the message",
                mbox_try_recv(mb, out, sizeof out), EAGAIN);
    watch(NULL);
    free_box(mb);
}

TEST(try_send_full, 1, "§2")
{
    unsigned char a[100], b[100], out[100];
    struct mbox *mb = new_box();

    watch("mbox_send into an empty slot did not return within 5 s");
    msg_fill(a, sizeof a, 1);
    msg_fill(b, sizeof b, 2);
    EXPECT_INT("mbox_send(message 1)", mbox_send(mb, a, sizeof a), 0);
    EXPECT_FAIL("mbox_try_send(message 2) while message 1 is unread",
                mbox_try_send(mb, b, sizeof b), EAGAIN);
    expect_msg("mbox_try_recv after the refused mbox_try_send", out,
               mbox_try_recv(mb, out, sizeof out), sizeof a, 1);
    EXPECT_INT("mbox_try_send(message 2) once the slot is empty",
               mbox_try_send(mb, b, sizeof b), 0);
    expect_msg("mbox_try_recv of message 2", out,
               mbox_try_recv(mb, out, sizeof out), sizeof b, 2);
    watch(NULL);
    free_box(mb);
}

TEST(zero_length, 1, "§2")
{
    unsigned char out[16];
    struct mbox *mb = new_box();

    watch("mbox_send or mbox_recv of a 0-byte message did not return "
          "within 5 s");
    EXPECT_INT("mbox_send(msg, 0)", mbox_send(mb, "x", 0), 0);
    EXPECT_INT("mbox_try_recv of a 0-byte message (a message all the same)",
               mbox_try_recv(mb, out, sizeof out), 0);
    EXPECT_FAIL("mbox_try_recv after the 0-byte message was taken",
                mbox_try_recv(mb, out, sizeof out), EAGAIN);
    EXPECT_INT("mbox_try_send(msg, 0)", mbox_try_send(mb, "x", 0), 0);
    EXPECT_INT("mbox_recv(buf, 0) of a 0-byte message",
               mbox_recv(mb, out, 0), 0);
    watch(NULL);
    free_box(mb);
}

TEST(send_emsgsize, 2, "§2")
{
    static unsigned char big[MBOX_MAX + 1], out[MBOX_MAX];
    struct mbox *mb = new_box();

    watch("mbox_send of an oversized message did not return within 5 s: "
          "refuse it at once, before waiting for the slot");
    msg_fill(big, sizeof big, 3);
    EXPECT_FAIL("mbox_send(MBOX_MAX + 1 bytes)",
                mbox_send(mb, big, MBOX_MAX + 1), EMSGSIZE);
    errno = 0;
    EXPECT_INT("mbox_try_recv after the refused mbox_send (nothing was sent)",
               mbox_try_recv(mb, out, sizeof out), -1);
    EXPECT_ERRNO("mbox_try_recv after the refused mbox_send", EAGAIN);
    EXPECT_FAIL("mbox_try_send(MBOX_MAX + 1 bytes)",
                mbox_try_send(mb, big, MBOX_MAX + 1), EMSGSIZE);
    EXPECT_INT("mbox_send(MBOX_MAX bytes)", mbox_send(mb, big, MBOX_MAX), 0);
    errno = 0;
    EXPECT_INT("mbox_send(SIZE_MAX bytes) while the slot is full (refuse it at"
               " once, without waiting)", mbox_send(mb, big, SIZE_MAX), -1);
    EXPECT_ERRNO("mbox_send(SIZE_MAX bytes) while the slot is full", EMSGSIZE);
    expect_msg("mbox_try_recv of the MBOX_MAX-byte message", out,
               mbox_try_recv(mb, out, sizeof out), MBOX_MAX, 3);
    watch(NULL);
    free_box(mb);
}

TEST(recv_emsgsize, 2, "§2")
{
    unsigned char in[100], out[100];
    struct mbox *mb = new_box();

    watch("mbox_recv(buf, 99) of a waiting 100-byte message did not return "
          "within 5 s: fail at once with EMSGSIZE");
    msg_fill(in, sizeof in, 4);
    EXPECT_INT("mbox_send(100 bytes)", mbox_send(mb, in, sizeof in), 0);
    EXPECT_FAIL("mbox_try_recv(buf, 99) of a 100-byte message",
                mbox_try_recv(mb, out, 99), EMSGSIZE);
    EXPECT_FAIL("mbox_recv(buf, 99) of a 100-byte message",
                mbox_recv(mb, out, 99), EMSGSIZE);
    expect_msg("mbox_try_recv(buf, 100) after the refusals (the message "
               "stays in the slot)", out, mbox_try_recv(mb, out, sizeof out),
               sizeof in, 4);
    watch(NULL);
    free_box(mb);
}

TEST(null_args, 1, "§2")
{
    unsigned char buf[16];
    struct mbox *mb = new_box();

    watch("a call with a NULL argument did not return within 5 s: check "
          "the arguments before waiting");
    EXPECT_INT("mbox_send(mb, \"x\", 1)", mbox_send(mb, "x", 1), 0);
    EXPECT_FAIL("mbox_send(NULL, \"x\", 1)", mbox_send(NULL, "x", 1), EINVAL);
    EXPECT_FAIL("mbox_send(mb, NULL, 1)", mbox_send(mb, NULL, 1), EINVAL);
    EXPECT_FAIL("mbox_try_send(NULL, \"x\", 1)",
                mbox_try_send(NULL, "x", 1), EINVAL);
    EXPECT_FAIL("mbox_recv(mb, NULL, 16)", mbox_recv(mb, NULL, 16), EINVAL);
    EXPECT_FAIL("mbox_try_recv(mb, NULL, 16)",
                mbox_try_recv(mb, NULL, 16), EINVAL);
    EXPECT_FAIL("mbox_recv_timed(mb, NULL, 16, 0)",
                mbox_recv_timed(mb, NULL, 16, 0), EINVAL);
    EXPECT_FAIL("mbox_recv(NULL, buf, 16)", mbox_recv(NULL, buf, 16), EINVAL);
    EXPECT_INT("mbox_try_recv(mb, buf, 16) after the refusals",
               mbox_try_recv(mb, buf, sizeof buf), 1);
    watch(NULL);
    free_box(mb);
}

/* Part 2: waiting for the other process */

/* Child: send message 5 (100 bytes) LATE_MS from now. */
static int send_late(void *arg)
{
    unsigned char msg[100];

    nap_ms(LATE_MS);
    msg_fill(msg, sizeof msg, 5);
    if (mbox_send(arg, msg, sizeof msg) != 0)
        return child_fail("the child's mbox_send returned -1 (errno %s)",
                          hx_errname(errno));
    return CHILD_OK;
}

TEST(recv_waits, 3, "§3")
{
    unsigned char out[MBOX_MAX];
    struct mbox *mb = new_box();
    pid_t pid;
    ssize_t n;

    watch("mbox_recv did not return within 5 s, although the child sent "
          "its message after 100 ms: does the wait read the flag again on "
          "every poll? (a plain int is read once)");
    note_map();
    pid = spawn(send_late, mb);
    n = mbox_recv(mb, out, sizeof out);
    expect_child("the sender", hx_reap(pid));
    expect_msg("mbox_recv of a message sent 100 ms later by a child", out, n,
               100, 5);
    watch(NULL);
    free_box(mb);
}

/* Child: after LATE_MS, receive messages 1 and 2 (100 bytes each). */
static int recv_two_late(void *arg)
{
    unsigned char out[100];
    char why[NOTE_MAX];

    nap_ms(LATE_MS);
    for (uint64_t seq = 1; seq <= 2; seq++)
        if (!msg_ok(out, mbox_recv(arg, out, sizeof out), sizeof out, seq, why))
            return child_fail("the receiving child: %s", why);
    return CHILD_OK;
}

TEST(send_waits, 2, "§3")
{
    unsigned char a[100], b[100];
    struct mbox *mb = new_box();
    double t0, waited;
    pid_t pid;
    int r;

    watch("mbox_send did not return within 5 s, although the child emptied"
          " the slot after 100 ms: does the wait read the flag again on "
          "every poll? (a plain int is read once)");
    msg_fill(a, sizeof a, 1);
    msg_fill(b, sizeof b, 2);
    EXPECT_INT("mbox_send(message 1) into an empty slot",
               mbox_send(mb, a, sizeof a), 0);
    note_map();
    t0 = now();
    pid = spawn(recv_two_late, mb);
    r = mbox_send(mb, b, sizeof b);
    waited = now() - t0;
    expect_child("the receiver", hx_reap(pid));
    EXPECT_INT("mbox_send(message 2) while message 1 is unread", r, 0);
    EXPECT(waited >= LATE_MS / 2000.0, "mbox_send(message 2) returned after "
           "%.0f ms, while message 1 was unread (until %d ms): it must wait",
           waited * 1000, LATE_MS);
    watch(NULL);
    free_box(mb);
}

/* Part 3: publishing and releasing */

/* Child: send message 11 (MBOX_MAX bytes) from the hold buffer; the copy
 * pauses at its last bytes until the parent says go. */
static int send_held(void *arg)
{
    struct link *l = arg;
    unsigned char *msg = hold_buf();

    link_side(l, 1);
    msg_fill(msg, MBOX_MAX, 11);
    if (hold_install(l->up[1], 'P', l->down[0]) == -1 || hold_arm() == -1)
        return child_fail("test setup: sigaction or mprotect failed");
    if (mbox_send(l->mb, msg, MBOX_MAX) != 0)
        return child_fail("mbox_send(MBOX_MAX bytes) returned -1 (errno %s)",
                          hx_errname(errno));
    if (hold_missed(0)) {
        put_byte(l->up[1], 'D');
        return child_fail("mbox_send returned without reading the end of "
                          "the message");
    }
    return CHILD_OK;
}

TEST(send_publishes_last, 3, "§4")
{
    static unsigned char out[MBOX_MAX];
    struct link l;
    pid_t pid;
    ssize_t early, late;
    char how[64];
    int err, c;

    watch("the held mbox_send, or the look at the mailbox meanwhile, did "
          "not finish within 5 s");
    link_open(&l, new_box());
    hold_map();
    note_map();
    pid = spawn(send_held, &l);
    link_side(&l, 0);
    c = held_wait(&l);                  /* 'P': held inside mbox_send */
    errno = EAGAIN;
    early = c == 'P' ? mbox_try_recv(l.mb, out, sizeof out) : -1;
    err = errno;
    held_release(&l, c);
    expect_child("the sender", hx_reap(pid));
    late = mbox_try_recv(l.mb, out, sizeof out);
    link_close(&l);
    hold_remove();
    EXPECT(c == 'P' || c == 'N', "mbox_send was not held in its copy");
    EXPECT(early == -1 && err == EAGAIN, "mbox_try_recv while mbox_send was "
           "still copying the payload: expected -1 with EAGAIN (nothing "
           "published yet), got %s: publish only once the whole payload is in"
           " the slot", said(early, err, how, sizeof how));
    expect_msg("mbox_try_recv once mbox_send returned", out, late, MBOX_MAX,
               11);
    watch(NULL);
    free_box(l.mb);
}

/* Child: receive message 12 (MBOX_MAX bytes) into the hold buffer; the copy
 * pauses at its last bytes until the parent says go. */
static int recv_held(void *arg)
{
    struct link *l = arg;
    char why[NOTE_MAX];
    ssize_t n;

    link_side(l, 1);
    if (hold_install(l->up[1], 'P', l->down[0]) == -1 || hold_arm() == -1)
        return child_fail("test setup: sigaction or mprotect failed");
    n = mbox_recv(l->mb, hold_buf(), MBOX_MAX);
    if (hold_missed(0)) {
        put_byte(l->up[1], 'D');
        return child_fail("mbox_recv returned %zd without writing the end of "
                          "the buffer", n);
    }
    if (!msg_ok(hold_buf(), n, MBOX_MAX, 12, why))
        return child_fail("the receiving child: %s", why);
    return CHILD_OK;
}

TEST(recv_releases_last, 3, "§4")
{
    static unsigned char in[MBOX_MAX];
    struct link l;
    pid_t pid;
    char how[64];
    int r, err, c, st;

    watch("the held mbox_recv, or the look at the mailbox meanwhile, did "
          "not finish within 5 s");
    link_open(&l, new_box());
    msg_fill(in, MBOX_MAX, 12);
    EXPECT_INT("mbox_send(message 12, MBOX_MAX bytes)",
               mbox_send(l.mb, in, MBOX_MAX), 0);
    hold_map();
    note_map();
    pid = spawn(recv_held, &l);
    link_side(&l, 0);
    c = held_wait(&l);                  /* 'P': held inside mbox_recv */
    msg_fill(in, MBOX_MAX, 13);
    errno = EAGAIN;
    r = c == 'P' ? mbox_try_send(l.mb, in, MBOX_MAX) : -1;
    err = errno;
    held_release(&l, c);
    st = hx_reap(pid);
    link_close(&l);
    hold_remove();
    EXPECT(c != 'P' || (r == -1 && err == EAGAIN), "mbox_try_send while "
           "mbox_recv was still copying the message out: expected -1 with "
           "EAGAIN (the slot is still the receiver's), got %s: mark the slot "
           "empty only once the whole payload is in buf",
           said(r, err, how, sizeof how));
    expect_child("the receiver", st);
    EXPECT(c == 'P' || c == 'N', "mbox_recv was not held in its copy");
    watch(NULL);
    free_box(l.mb);
}

/* Part 4: stale data */

/* Fill the region with a pattern: 0 to 3 a repeated byte, else random. */
static const char *junk_fill(unsigned char *p, int kind)
{
    static const unsigned char bytes[] = { 0x00, 0x01, 0x80, 0xff };
    uint64_t x = 0x9e3779b97f4a7c15u * (uint64_t)kind;

    if (kind < 4) {
        memset(p, bytes[kind], MBOX_SIZE);
        return kind == 0 ? "zeros" : kind == 1 ? "0x01 bytes" :
               kind == 2 ? "0x80 bytes" : "0xff bytes";
    }
    for (size_t i = 0; i < MBOX_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)x;
    }
    return "random bytes";
}

/* Fail unless the mailbox made by mbox_init over `what` is empty and then
 * carries a message. */
static void expect_clean(struct mbox *mb, const char *what)
{
    unsigned char in[300], out[300];
    ssize_t n;

    EXPECT(mb != NULL, "mbox_init over %s: expected the mailbox, got NULL "
           "(errno %s)", what, hx_errname(errno));
    errno = 0;
    n = mbox_try_recv(mb, out, sizeof out);
    EXPECT(n == -1 && errno == EAGAIN, "mbox_try_recv right after mbox_init "
           "over %s: expected -1 with EAGAIN, got %zd (errno %s): old data "
           "was taken for a new message", what, n, hx_errname(errno));
    msg_fill(in, sizeof in, 21);
    EXPECT(mbox_try_send(mb, in, sizeof in) == 0, "mbox_try_send right after "
           "mbox_init over %s: expected 0 (the slot is empty), got -1 (errno "
           "%s)", what, hx_errname(errno));
    expect_msg("mbox_try_recv of the first new message", out,
               mbox_try_recv(mb, out, sizeof out), sizeof in, 21);
}

TEST(init_clears_stale, 3, "§5")
{
    unsigned char *mem = map_region(), old[300];
    struct mbox *mb = mbox_init(mem, MBOX_SIZE);

    watch("a call on a mailbox just made by mbox_init did not return "
          "within 5 s");
    EXPECT_PTR("mbox_init(fresh region)", mb);
    msg_fill(old, sizeof old, 20);
    EXPECT_INT("mbox_send(message 20)", mbox_send(mb, old, sizeof old), 0);
    /* Its receiver never came: a new program inherits the region. */
    expect_clean(mbox_init(mem, MBOX_SIZE),
                 "an old mailbox that still held an unread message");
    for (int kind = 0; kind < 8; kind++) {
        const char *what = junk_fill(mem, kind);
        expect_clean(mbox_init(mem, MBOX_SIZE), what);
    }
    watch(NULL);
    munmap(mem, MBOX_SIZE);
}

/* Part 5: a stream of messages */

/* Message seq's hold kind in a stream of n: 'S' the sender's copy is held,
 * 'R' the receiver's, 0 none. Never two in a row. */
static int stream_hold(long seq, long n)
{
    long every = n / STREAM_HOLDS > 2 ? n / STREAM_HOLDS : 2;

    if (!hold.on || seq % every != every / 2)
        return 0;
    return seq / every % 2 == 0 ? 'S' : 'R';
}

/* Message seq's length: the held ones and every 97th near MBOX_MAX, the
 * rest 8 to 255 bytes. */
static size_t stream_len(long seq, long n)
{
    if (stream_hold(seq, n) != 0)
        return MBOX_MAX;
    if (seq % 97 == 0)
        return MBOX_MAX - (size_t)(seq % 50);
    return 8 + (size_t)((uint64_t)seq * 2654435761u >> 16) % 248;
}

/* After the receiver's copy of message seq paused ('Q' comes down): try
 * to slip message seq + 1 in, and say how it went ('G': refused, as it
 * must be; 'X': it went in). Returns 1 if message seq + 1 was sent. */
static int stream_probe(struct link *l, long seq, unsigned char *buf)
{
    size_t len = stream_len(seq + 1, l->n);
    int r;

    msg_fill(buf, len, (uint64_t)seq + 1);
    r = mbox_try_send(l->mb, buf, len);
    put_byte(l->up[1], r == 0 ? 'X' : 'G');
    return r == 0;
}

/* Child: send with mbox_try_send, retrying while the slot is full: 100
 * times at once, 50 times after sched_yield() (the receiver may be waiting
 * for this CPU), then after naps of a microsecond. This side of the stream
 * stays quick to react whatever the mbox code's own backoff, so the pace is
 * set by the parent's mbox_recv. Returns 0, or -1 with errno set. */
static int stream_put(struct mbox *mb, const unsigned char *msg, size_t len)
{
    for (int tries = 0; mbox_try_send(mb, msg, len) == -1; tries++) {
        if (errno != EAGAIN)
            return -1;
        if (tries >= 150)
            nap_us(1);
        else if (tries >= 100)
            sched_yield();
    }
    return 0;
}

/* Child: send messages 0 .. n-1 in order. */
static int stream_send(void *arg)
{
    static unsigned char buf[MBOX_MAX];
    struct link *l = arg;

    link_side(l, 1);
    if (hold_install(l->up[1], 'P', l->down[0]) == -1)
        return child_fail("test setup: sigaction failed");
    for (long seq = 0; seq < l->n; seq++) {
        int kind = stream_hold(seq, l->n);
        size_t len = stream_len(seq, l->n);
        unsigned char *msg = kind == 'S' ? hold_buf() : buf;
        int held = hold.held;

        msg_fill(msg, len, (uint64_t)seq);
        if (kind == 'S' && hold_arm() == -1)
            return child_fail("test setup: mprotect failed");
        if (stream_put(l->mb, msg, len) != 0)
            return child_fail("mbox_try_send(message %ld) returned -1 (errno "
                              "%s)", seq, hx_errname(errno));
        if (kind == 'S' && hold_missed(held)) {
            put_byte(l->up[1], 'D');
            return child_fail("mbox_try_send(message %ld) returned without "
                              "reading the end of the message", seq);
        }
        if (kind == 'R' && get_byte(l->down[0]) != 'Q')
            return CHILD_OK;            /* the parent gave up: it says why */
        if (kind == 'R' && stream_probe(l, seq, buf))
            seq++;
    }
    return CHILD_OK;
}

/* Parent, at a hold point of the sender: with its copy paused, the
 * message must not be visible. Returns 1 if all went well. */
static int stream_peek(struct link *l, long seq, unsigned char *out, char *why)
{
    int c = get_byte(l->up[0]);
    ssize_t n;

    if (c != 'P') {
        snprintf(why, NOTE_MAX, "mbox_try_send(message %ld) did not stop at "
                 "the end of the payload", seq);
        return 0;
    }
    n = mbox_try_recv(l->mb, out, MBOX_MAX);
    put_byte(l->down[1], 'G');
    if (n != -1)
        snprintf(why, NOTE_MAX, "message %ld could be received (%zd bytes) "
                 "while mbox_try_send was still copying its payload: publish "
                 "only once the whole payload is in the slot", seq, n);
    return n == -1;
}

/* Parent: receive message seq, holding the copy at 'R' points. Returns 1
 * if it arrived intact. */
static int stream_take(struct link *l, long seq, unsigned char *out, char *why)
{
    int kind = stream_hold(seq, l->n), held = hold.held;
    unsigned char *dst = kind == 'R' ? hold_buf() : out;
    ssize_t n;

    hold.answer = 0;
    if (kind == 'R' && hold_arm() == -1) {
        snprintf(why, NOTE_MAX, "test setup: mprotect failed");
        return 0;
    }
    n = mbox_recv(l->mb, dst, MBOX_MAX);
    if (kind == 'R' && hold_missed(held)) {
        put_byte(l->down[1], 'N');
        snprintf(why, NOTE_MAX, "mbox_recv(message %ld) returned %zd without"
                 " writing the end of the buffer", seq, n);
        return 0;
    }
    if (kind == 'R' && hold.answer == 'X') {
        snprintf(why, NOTE_MAX, "while mbox_recv was still copying message "
                 "%ld out, mbox_try_send could refill the slot: mark it empty"
                 " only once the whole payload is in buf", seq);
        return 0;
    }
    return msg_ok(dst, n, stream_len(seq, l->n), (uint64_t)seq, why);
}

/* Whether the parent may stop the stream after `done` messages: on a busy
 * machine (STREAM_SECS gone by), once STREAM_MIN messages, every hold
 * point among them, arrived intact. */
static int stream_enough(long done, double t0)
{
    return done >= hx_iters(STREAM_MIN) && now() - t0 > STREAM_SECS;
}

TEST(stream_100k, 5, "§6")
{
    static unsigned char out[MBOX_MAX];
    char why[NOTE_MAX] = "";
    struct link l;
    long seq;
    pid_t pid;
    ssize_t extra;
    double t0 = now();
    int st, bad = 0;

    link_open(&l, new_box());
    l.n = hx_iters(STREAM_N);
    hold_map();
    note_map();
    pid = spawn(stream_send, &l);
    link_side(&l, 0);
    EXPECT(hold_install(l.down[1], 'Q', l.up[0]) == 0,
           "test setup: sigaction failed");
    for (seq = 0; seq < l.n; seq++) {
        if (seq % STREAM_BEAT == 0 && stream_enough(seq, t0))
            break;
        if (seq % STREAM_BEAT == 0)
            watch("no message arrived for 5 s: does mbox_recv read the flag "
                  "again on every poll? (a plain int is read once)");
        watch_state.at = seq;
        bad = (stream_hold(seq, l.n) == 'S' && !stream_peek(&l, seq, out, why))
              || !stream_take(&l, seq, out, why);
        if (bad)
            break;
    }
    watch(NULL);
    if (seq < l.n)
        kill(pid, SIGKILL);             /* it may be held, or blocked */
    st = hx_reap(pid);
    extra = seq < l.n ? -1 : mbox_try_recv(l.mb, out, sizeof out);
    link_close(&l);
    hold_remove();
    EXPECT(!bad, "%ld messages from a child: %s%s%s", l.n, why,
           note[0] ? "; the sender said: " : "", note);
    if (seq == l.n)
        expect_child("the sending child", st);
    EXPECT(extra == -1, "after the last of %ld messages mbox_try_recv returned"
           " %zd bytes: one more message", l.n, extra);
    free_box(l.mb);
}

/* Part 6: waiting politely */

/* Fail unless the resources used from u0 to u, over `wall` seconds of
 * waiting, show a waiter that leaves the CPU to others: at most a fifth of
 * the time on the CPU, and some sleeping, unless it hardly ran at all (on
 * a busy machine sched_yield() alone gives the CPU away). A spinner, which
 * never sleeps, takes its full share of the CPU however loaded the machine
 * is, far more than a fiftieth. Not under Valgrind: CPU time means nothing
 * there. */
static void expect_idle(const char *what, struct usage u0, struct usage u,
                        double wall)
{
    double cpu = u.cpu - u0.cpu;
    long sleeps = u.sleeps - u0.sleeps;

    if (hx_memcheck())
        return;
    EXPECT(cpu <= wall / 5 && (sleeps > 0 || cpu <= wall / 50), "%s: while "
           "waiting %.0f ms it used %.0f ms of CPU time and slept %ld times: "
           "expected at most a fifth of the time on the CPU, and some "
           "sleeping (back off: spin a little, then sleep)", what,
           wall * 1000, cpu * 1000, sleeps);
}

/* Child: send message 5 (100 bytes) IDLE_MS from now. */
static int send_idle(void *arg)
{
    nap_ms(IDLE_MS - LATE_MS);
    return send_late(arg);
}

TEST(recv_sleeps, 2, "§7")
{
    unsigned char out[MBOX_MAX];
    struct mbox *mb = new_box();
    struct usage u0, u1;
    double t0, wall;
    pid_t pid;
    ssize_t n;

    watch("mbox_recv did not return within 5 s, although the child sent "
          "its message after 250 ms");
    note_map();
    pid = spawn(send_idle, mb);
    t0 = now();
    u0 = usage_now();
    n = mbox_recv(mb, out, sizeof out);
    u1 = usage_now();
    wall = now() - t0;
    expect_child("the sender", hx_reap(pid));
    expect_msg("mbox_recv of a late message", out, n, 100, 5);
    expect_idle("mbox_recv", u0, u1, wall);
    watch(NULL);
    free_box(mb);
}

TEST(timed_expires, 2, "§7")
{
    unsigned char out[64];
    struct mbox *mb = new_box();
    double t0, t;
    ssize_t n;

    watch("mbox_recv_timed on an empty mailbox did not return within 5 s:"
          " does it check its deadline after every poll?");
    errno = 0;
    t0 = now();
    n = mbox_recv_timed(mb, out, sizeof out, 150);
    t = now() - t0;
    EXPECT_INT("mbox_recv_timed(150 ms) on an empty mailbox", n, -1);
    EXPECT_ERRNO("mbox_recv_timed(150 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(t >= 0.149, "mbox_recv_timed(150 ms) gave up after %.1f ms, "
           "before its time", t * 1000);
    EXPECT(hx_memcheck() || t < 3.15, "mbox_recv_timed(150 ms) gave up after"
           " %.0f ms: expected about 150", t * 1000);
    errno = 0;
    t0 = now();
    EXPECT_INT("mbox_recv_timed(0 ms) on an empty mailbox",
               mbox_recv_timed(mb, out, sizeof out, 0), -1);
    EXPECT_ERRNO("mbox_recv_timed(0 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(hx_memcheck() || now() - t0 < 1, "mbox_recv_timed(0 ms) took %.0f"
           " ms: expected it to look once", (now() - t0) * 1000);
    EXPECT_FAIL("mbox_recv_timed(-1 ms)",
                mbox_recv_timed(mb, out, sizeof out, -1), EINVAL);
    watch(NULL);
    free_box(mb);
}

TEST(timed_delivers, 2, "§7")
{
    unsigned char in[100], out[MBOX_MAX];
    struct mbox *mb = new_box();
    double t0, t;
    pid_t pid;
    ssize_t n;

    watch("mbox_recv_timed(3000 ms) did not return within 5 s");
    msg_fill(in, sizeof in, 6);
    EXPECT_INT("mbox_send(message 6)", mbox_send(mb, in, sizeof in), 0);
    expect_msg("mbox_recv_timed(0 ms) with a message waiting", out,
               mbox_recv_timed(mb, out, sizeof out, 0), sizeof in, 6);
    note_map();
    t0 = now();
    pid = spawn(send_late, mb);
    n = mbox_recv_timed(mb, out, sizeof out, 3000);
    t = now() - t0;
    expect_child("the sender", hx_reap(pid));
    expect_msg("mbox_recv_timed(3000 ms) of a message sent 100 ms later", out,
               n, 100, 5);
    EXPECT(hx_memcheck() || t < 2, "mbox_recv_timed(3000 ms) returned after"
           " %.0f ms, although the message came after 100: poll the slot "
           "until the deadline, do not just sleep until it", t * 1000);
    watch(NULL);
    free_box(mb);
}

TEST(timed_sleeps, 2, "§7")
{
    unsigned char out[MBOX_MAX];
    struct mbox *mb = new_box();
    struct usage u0, u1;
    double t0, wall;
    pid_t pid;
    ssize_t n;

    watch("mbox_recv_timed(3000 ms) did not return within 5 s");
    note_map();
    pid = spawn(send_idle, mb);
    t0 = now();
    u0 = usage_now();
    n = mbox_recv_timed(mb, out, sizeof out, 3000);
    u1 = usage_now();
    wall = now() - t0;
    expect_child("the sender", hx_reap(pid));
    expect_msg("mbox_recv_timed(3000 ms) of a message sent 250 ms later", out,
               n, 100, 5);
    expect_idle("mbox_recv_timed", u0, u1, wall);
    watch(NULL);
    free_box(mb);
}

const struct hx_part hx_parts[] = {
    { "1. The mailbox",
      { &init_checks, &try_empty, &one_message, &try_send_full, &zero_length,
        &send_emsgsize, &recv_emsgsize, &null_args } },
    { "2. Waiting for the other process", { &recv_waits, &send_waits } },
    { "3. Publishing and releasing",
      { &send_publishes_last, &recv_releases_last } },
    { "4. Yesterday's message", { &init_clears_stale } },
    { "5. A stream of messages", { &stream_100k } },
    { "6. Waiting politely",
      { &recv_sleeps, &timed_expires, &timed_delivers, &timed_sleeps } },
    { NULL, { NULL } },
};
