/* suite.c - Lab 03 tests: polling-flag pitfalls (handouts/03-polling.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. The
 * mailbox lies in an object the checker makes; a sender and a receiver
 * subject (mbox.c serving requests, grader/subject/03-polling.c) map it.
 * The checker chooses every message (its bytes from the run's seed and
 * its sequence number, so that a torn, stale, lost or repeated message is
 * recognised), gives it to the sender alone, and compares what the
 * receiver got.
 *
 * Helgrind and DRD cannot see races between processes, so the ordering
 * tests force them with hold points: the sender's message (or the
 * receiver's buffer) ends in a page that is PROT_NONE, and the copy runs
 * in a child of the subject that the checker traces. When the copy
 * touches that page, the kernel stops the child in its fault, and the
 * checker keeps it there (cx_call_held) while it asks the other subject
 * to look at the mailbox; then it lets the fault be delivered, the
 * child's handler restores the page and the copy resumes where it
 * stopped. The pause is a fact the kernel reports (a SIGSEGV stop with
 * the fault address in the guard page), never the subject's claim: a
 * copy that never reaches the page is not held, and fails. (Not in the
 * Valgrind pass: Valgrind resumes such a fault with stale registers.
 * There the copies run straight through; the ordering is checked by the
 * normal run.)
 *
 * Each call has a limit: a call that makes no progress for 5 s (50 under
 * Valgrind) fails the test with a message that says what was awaited.
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 */
#define _DEFAULT_SOURCE
#include "cx.h"
#include "hx.h"
#include "ops.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX 8000                /* mbox.h's MBOX_MAX */
#define SIZE 8192               /* mbox.h's MBOX_SIZE */
#define LATE_MS 100             /* how late a "late" message is sent */
#define IDLE_MS 250             /* the wait the CPU-time tests measure */
#define STREAM_N 100000         /* messages in the stream test */
#define STREAM_HOLDS 20         /* hold points in a stream, both kinds */
#define STUCK_S 5               /* a call making no progress this long hangs */

const int cx_peers = 1;                 /* (cx_start_peer) */

/* ---- time ---- */

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

/* The limit of a call that must make progress. */
static double stuck(void)
{
    return hx_memcheck() ? 10 * STUCK_S : STUCK_S;
}

/* Whether copies are held (not in the Valgrind pass: see the top). */
static int holds_on(void)
{
    return !hx_memcheck();
}

/* ---- messages ---- */

/* Byte i of message seq: from the run's seed, so that only the checker
 * knows it; neighbouring messages differ in every byte, and the first 8
 * bytes of a long enough message hold seq itself. */
static unsigned char msg_byte(uint64_t seq, size_t i)
{
    static uint32_t key;

    if (key == 0)
        key = (uint32_t)cx_rand() | 1;
    uint32_t m = ((uint32_t)seq ^ key) * 2654435761u ^ 0x5bd1e995u;

    return (unsigned char)((m >> (8 * (i & 3))) + (i >> 2));
}

static void msg_fill(unsigned char *p, size_t len, uint64_t seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = msg_byte(seq, i);
    if (len >= 8)
        memcpy(p, &seq, 8);
}

/* Whether the n bytes a receive returned in p (errno err) are message seq
 * of len bytes, intact. If not, says what is wrong in why. */
static int msg_ok(const unsigned char *p, long n, int err, size_t len, uint64_t seq,
                  char *why, size_t size)
{
    uint64_t got = seq;

    if (n == -1) {
        snprintf(why, size, "receiving message %llu: expected %zu bytes, got -1 (errno"
                 " %s)", (unsigned long long)seq, len, hx_errname(err));
        return 0;
    }
    if (n >= 8 && len >= 8)
        memcpy(&got, p, 8);
    if (got != seq) {
        snprintf(why, size, "expected message %llu, got message %llu (%s)",
                 (unsigned long long)seq, (unsigned long long)got,
                 got < seq ? "an old one again: repeated or stale"
                           : "the one expected was lost");
        return 0;
    }
    if ((size_t)n != len) {
        snprintf(why, size, "message %llu: expected %zu bytes, got %ld",
                 (unsigned long long)seq, len, n);
        return 0;
    }
    for (size_t i = 8; i < len; i++) {
        if (p[i] != msg_byte(seq, i)) {
            snprintf(why, size, "message %llu (%zu bytes) is torn: byte %zu is 0x%02x,"
                     " expected 0x%02x (left from an older message?)",
                     (unsigned long long)seq, len, i, p[i], msg_byte(seq, i));
            return 0;
        }
    }
    return 1;
}

/* ---- subjects and their calls ---- */

struct side {
    struct cx_subject s;
    uintptr_t mb;                       /* the mailbox, as it maps it */
    uintptr_t sbuf, rbuf, batch, hold;  /* its buffers (ops.h) */
    const char *who;                    /* "the sender", for messages */
};

/* Start d, as the test's first subject or its second. (Where copies are
 * held, no subject is shared: only the Valgrind pass shares them.) */
static void side_start(struct side *d, const char *who, int second)
{
    struct sx_req q = { .op = SX03_BUFS };
    struct sx_rep r;

    memset(d, 0, sizeof *d);
    if (second)
        cx_start_peer(&d->s);
    else
        cx_start(&d->s, NULL);
    cx_call(&d->s, "starting", &q, &r);
    d->sbuf = r.v[0];
    d->rbuf = r.v[1];
    d->batch = (uintptr_t)r.ret;
    q.a[0] = 1;
    cx_call(&d->s, "starting", &q, &r);
    d->hold = (uintptr_t)r.ret;
    EXPECT(d->hold != 0, "test setup: the hold buffer could not be made");
    d->who = who;
}

/* Send op (a0 the mailbox, a1, a2) to d and wait for the reply, at most
 * stuck() seconds: if it does not come, fail with hang (what was awaited).
 * errno is set to the subject's. Returns the call's value. */
#define call(d, hang, op, a1, a2, nulls) \
    call_at(__FILE__, __LINE__, d, hang, op, a1, a2, nulls)
static long call_at(const char *file, int line, struct side *d, const char *hang,
                    uint32_t op, uint64_t a1, uint64_t a2, uint64_t nulls)
{
    struct sx_req q = { .op = op, .a = { d->mb, a1, a2, nulls } };
    struct sx_rep r;

    cx_send_at(file, line, &d->s, hang, &q);
    if (cx_poll(&d->s, stuck()) == -1)
        ck_abort_msg("%s", hang);
    cx_reply_at(file, line, &d->s, &r);
    errno = r.err;
    return (long)r.ret;
}

/* Send op without waiting: a call that should wait (for the other side). */
static void start_call(struct side *d, const char *what, uint32_t op, uint64_t a1, uint64_t a2)
{
    struct sx_req q = { .op = op, .a = { d->mb, a1, a2, 0 } };

    cx_send(&d->s, what, &q);
}

/* The reply to the call start_call sent, within stuck(); hang says what
 * was awaited. Returns its value, errno set. */
#define finish(d, hang) finish_at(__FILE__, __LINE__, d, hang)
static long finish_at(const char *file, int line, struct side *d, const char *hang)
{
    struct sx_rep r;

    if (cx_poll(&d->s, stuck()) == -1)
        ck_abort_msg("%s", hang);
    cx_reply_at(file, line, &d->s, &r);
    errno = r.err;
    return (long)r.ret;
}

/* Message seq of len bytes into d's send buffer. */
static void put_msg(struct side *d, uint64_t seq, size_t len)
{
    static unsigned char buf[MAX + 1];

    msg_fill(buf, len, seq);
    EXPECT(cx_poke(d->s.pid, d->sbuf, buf, len) == 0, "test setup: cannot fill the"
           " send buffer");
}

/* Fail unless d's last receive (value n, errno err) got message seq of
 * len bytes into its buffer at buf. */
static void expect_msg_at(struct side *d, const char *what, uintptr_t buf, long n, int err,
                          size_t len, uint64_t seq)
{
    static unsigned char got[MAX + 8];
    char why[320];

    EXPECT(n < 0 || (size_t)n > MAX || cx_peek(d->s.pid, buf, got, (size_t)n) == 0,
           "test setup: cannot read the receive buffer");
    EXPECT(msg_ok(got, n, err, len, seq, why, sizeof why), "%s: %s", what, why);
}

static void expect_msg(struct side *d, const char *what, long n, size_t len, uint64_t seq)
{
    expect_msg_at(d, what, d->rbuf, n, errno, len, seq);
}

/* ---- the shared mailbox ---- */

/* Make object name: SIZE bytes, mode 0666 so that any subject may map it. */
static void region_make(const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    EXPECT(fd != -1 && fchmod(fd, 0666) == 0 && ftruncate(fd, SIZE) == 0,
           "test setup: cannot make the shared object %s: %s", name, hx_errname(errno));
    close(fd);
}

/* Write SIZE bytes of p over object name (never a mapping of ours). */
static void region_write(const char *name, const unsigned char *p)
{
    char path[160];
    int fd;

    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    EXPECT(fd != -1 && pwrite(fd, p, SIZE, 0) == SIZE, "test setup: cannot write %s: %s",
           path, hx_errname(errno));
    close(fd);
}

/* Map object name (or anonymous memory, name "") of len bytes in d. */
static uintptr_t region_map(struct side *d, const char *name, size_t len)
{
    struct sx_req q = { .op = SX03_MAP, .a = { len } };
    struct sx_rep r;

    q.len = (uint32_t)strlen(name);
    memcpy(q.data, name, q.len);
    cx_call(&d->s, "mapping the shared object (the test's own mmap)", &q, &r);
    EXPECT(r.ret != 0, "test setup: %s cannot map %s: %s", d->who, name,
           hx_errname(r.err));
    return (uintptr_t)r.ret;
}

/* mbox_init over the region at p in d: must return p. */
static void init_at(struct side *d, uintptr_t p, const char *what)
{
    d->mb = p;
    long got = call(d, "mbox_init did not return within 5 s", SX03_INIT, SIZE, 0, 0);
    int err = errno;

    EXPECT(got != 0, "%s: expected the mailbox, got NULL (errno %s)", what,
           hx_errname(err));
    EXPECT((uintptr_t)got == p, "%s: expected mem (%#lx), got %#lx", what,
           (unsigned long)p, (unsigned long)got);
}

/* A mailbox in a fresh object, mapped by each of the n subjects; the
 * first one initialises it. */
static void box_new(char *name, size_t size, struct side *const d[], int n)
{
    region_make(cx_name(name, size, "mbox"));
    for (int i = 0; i < n; i++)
        d[i]->mb = region_map(d[i], name, SIZE);
    init_at(d[0], d[0]->mb, "mbox_init(fresh region, MBOX_SIZE)");
}

/* One subject with a mailbox of its own. */
static void one_box(struct side *a, char *name, size_t size)
{
    struct side *d[] = { a };

    side_start(a, "the process", 0);
    box_new(name, size, d, 1);
}

static void box_end(const char *name, struct side *a, struct side *b)
{
    shm_unlink(name);
    if (b != NULL)
        cx_end(&b->s);
    cx_end(&a->s);
}

/* What a call that should have failed with EAGAIN returned (r, err). */
static const char *said(long r, int err, char *buf, size_t size)
{
    if (r == -1)
        snprintf(buf, size, "-1 with errno %s", hx_errname(err));
    else
        snprintf(buf, size, "%ld (success)", r);
    return buf;
}

#define EXPECT_FAILS(what, call, want)                                     \
    do {                                                                   \
        long r_ = (call);                                                  \
        int e_ = errno;                                                    \
        EXPECT(r_ == -1, "%s: expected -1 with errno %s, got %ld", (what), \
               hx_errname(want), r_);                                      \
        errno = e_;                                                        \
        EXPECT_ERRNO((what), (want));                                      \
    } while (0)

/* Part 1: the mailbox */

TEST(init_checks, 1, "§2")
{
    struct side a;
    static const struct { const char *what; int null; uintptr_t off; size_t size; } bad[] = {
        { "mbox_init(NULL, MBOX_SIZE)", 1, 0, SIZE },
        { "mbox_init(mem, MBOX_SIZE - 1)", 0, 0, SIZE - 1 },
        { "mbox_init(mem, 0)", 0, 0, 0 },
        { "mbox_init(mem + 1, MBOX_SIZE): misaligned", 0, 1, SIZE },
        { "mbox_init(mem + 8, MBOX_SIZE): misaligned", 0, 8, SIZE },
    };

    side_start(&a, "the process", 0);
    uintptr_t mem = region_map(&a, "", 2 * SIZE);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a.mb = mem + bad[i].off;
        long got = call(&a, "mbox_init did not return within 5 s", SX03_INIT, bad[i].size,
                        0, bad[i].null ? SX03_NULL_MB : 0);
        int err = errno;
        EXPECT(got == 0, "%s: expected NULL, got an address", bad[i].what);
        errno = err;
        EXPECT_ERRNO(bad[i].what, EINVAL);
    }
    init_at(&a, mem, "mbox_init(mem, MBOX_SIZE)");
    cx_end(&a.s);
}

TEST(try_empty, 1, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_try_recv did not return within 5 s: it must not wait";

    one_box(&a, name, sizeof name);
    EXPECT_FAILS("mbox_try_recv on a new mailbox", call(&a, hang, SX03_TRY_RECV, 64, 0, 0),
                 EAGAIN);
    EXPECT_FAILS("mbox_try_recv on a new mailbox, asked again",
                 call(&a, hang, SX03_TRY_RECV, 64, 0, 0), EAGAIN);
    box_end(name, &a, NULL);
}

/* A step of the Valgrind pass's leak check: a mailbox of its own (made
 * once per subject), then a message sent and received. */
static void box_step(struct cx_subject *s, void *unused)
{
    static pid_t made;
    static uintptr_t mb;
    struct side d = { .s = *s, .who = "the process" };
    struct sx_req q = { .op = SX03_BUFS };
    struct sx_rep r;
    const char *hang = "mbox_send or mbox_recv did not return within 5 s";

    (void)unused;
    cx_call(&d.s, "starting", &q, &r);
    d.sbuf = r.v[0];
    d.rbuf = r.v[1];
    if (made != s->pid) {
        mb = region_map(&d, "", SIZE);
        init_at(&d, mb, "mbox_init(fresh region, MBOX_SIZE)");
        made = s->pid;
    }
    d.mb = mb;
    put_msg(&d, 9, 100);
    EXPECT_INT("mbox_send(100 bytes)", call(&d, hang, SX03_SEND, 100, 0, 0), 0);
    expect_msg(&d, "mbox_recv", call(&d, hang, SX03_RECV, MAX, 0, 0), 100, 9);
}

TEST(one_message, 2, "§2")
{
    struct side a;
    char name[128], got[8] = "";
    const char *hang = "mbox_send or mbox_recv did not return within 5 s, although the"
                       " slot was in the state it waits for";

    one_box(&a, name, sizeof name);
    EXPECT(cx_poke(a.s.pid, a.sbuf, "hello", 5) == 0, "test setup: cannot fill the buffer");
    EXPECT_INT("mbox_try_send(\"hello\", 5) into an empty slot",
               call(&a, hang, SX03_TRY_SEND, 5, 0, 0), 0);
    EXPECT_INT("mbox_try_recv after it", call(&a, hang, SX03_TRY_RECV, MAX, 0, 0), 5);
    EXPECT(cx_peek(a.s.pid, a.rbuf, got, 5) == 0 && memcmp(got, "hello", 5) == 0,
           "mbox_try_recv: expected \"hello\", got \"%.5s\"", got);
    EXPECT_FAILS("mbox_try_recv once the message was taken",
                 call(&a, hang, SX03_TRY_RECV, MAX, 0, 0), EAGAIN);
    put_msg(&a, 7, MAX);
    EXPECT_INT("mbox_send(MBOX_MAX bytes) into an empty slot",
               call(&a, hang, SX03_SEND, MAX, 0, 0), 0);
    expect_msg(&a, "mbox_recv of a MBOX_MAX-byte message",
               call(&a, hang, SX03_RECV, MAX, 0, 0), MAX, 7);
    EXPECT_FAILS("mbox_try_recv after mbox_recv took the message",
                 call(&a, hang, SX03_TRY_RECV, MAX, 0, 0), EAGAIN);
    box_end(name, &a, NULL);
    if (getenv("HX_VALGRIND"))          /* the leak points, from outside too */
        cx_expect_steady("mbox_send and mbox_recv", box_step, NULL);
}

TEST(try_send_full, 1, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_send into an empty slot did not return within 5 s";

    one_box(&a, name, sizeof name);
    put_msg(&a, 1, 100);
    EXPECT_INT("mbox_send(message 1)", call(&a, hang, SX03_SEND, 100, 0, 0), 0);
    put_msg(&a, 2, 100);
    EXPECT_FAILS("mbox_try_send(message 2) while message 1 is unread",
                 call(&a, hang, SX03_TRY_SEND, 100, 0, 0), EAGAIN);
    expect_msg(&a, "mbox_try_recv after the refused mbox_try_send",
               call(&a, hang, SX03_TRY_RECV, 100, 0, 0), 100, 1);
    EXPECT_INT("mbox_try_send(message 2) once the slot is empty",
               call(&a, hang, SX03_TRY_SEND, 100, 0, 0), 0);
    expect_msg(&a, "mbox_try_recv of message 2", call(&a, hang, SX03_TRY_RECV, 100, 0, 0),
               100, 2);
    box_end(name, &a, NULL);
}

TEST(zero_length, 1, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_send or mbox_recv of a 0-byte message did not return within"
                       " 5 s";

    one_box(&a, name, sizeof name);
    EXPECT_INT("mbox_send(msg, 0)", call(&a, hang, SX03_SEND, 0, 0, 0), 0);
    EXPECT_INT("mbox_try_recv of a 0-byte message (a message all the same)",
               call(&a, hang, SX03_TRY_RECV, 16, 0, 0), 0);
    EXPECT_FAILS("mbox_try_recv after the 0-byte message was taken",
                 call(&a, hang, SX03_TRY_RECV, 16, 0, 0), EAGAIN);
    EXPECT_INT("mbox_try_send(msg, 0)", call(&a, hang, SX03_TRY_SEND, 0, 0, 0), 0);
    EXPECT_INT("mbox_recv(buf, 0) of a 0-byte message", call(&a, hang, SX03_RECV, 0, 0, 0),
               0);
    box_end(name, &a, NULL);
}

TEST(send_emsgsize, 2, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_send of an oversized message did not return within 5 s:"
                       " refuse it at once, before waiting for the slot";

    one_box(&a, name, sizeof name);
    put_msg(&a, 3, MAX + 1);
    EXPECT_FAILS("mbox_send(MBOX_MAX + 1 bytes)", call(&a, hang, SX03_SEND, MAX + 1, 0, 0),
                 EMSGSIZE);
    EXPECT_FAILS("mbox_try_recv after the refused mbox_send (nothing was sent)",
                 call(&a, hang, SX03_TRY_RECV, MAX, 0, 0), EAGAIN);
    EXPECT_FAILS("mbox_try_send(MBOX_MAX + 1 bytes)",
                 call(&a, hang, SX03_TRY_SEND, MAX + 1, 0, 0), EMSGSIZE);
    EXPECT_INT("mbox_send(MBOX_MAX bytes)", call(&a, hang, SX03_SEND, MAX, 0, 0), 0);
    EXPECT_FAILS("mbox_send(SIZE_MAX bytes) while the slot is full (refuse it at once,"
                 " without waiting)", call(&a, hang, SX03_SEND, SIZE_MAX, 0, 0), EMSGSIZE);
    expect_msg(&a, "mbox_try_recv of the MBOX_MAX-byte message",
               call(&a, hang, SX03_TRY_RECV, MAX, 0, 0), MAX, 3);
    box_end(name, &a, NULL);
}

TEST(recv_emsgsize, 2, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_recv(buf, 99) of a waiting 100-byte message did not return"
                       " within 5 s: fail at once with EMSGSIZE";

    one_box(&a, name, sizeof name);
    put_msg(&a, 4, 100);
    EXPECT_INT("mbox_send(100 bytes)", call(&a, hang, SX03_SEND, 100, 0, 0), 0);
    EXPECT_FAILS("mbox_try_recv(buf, 99) of a 100-byte message",
                 call(&a, hang, SX03_TRY_RECV, 99, 0, 0), EMSGSIZE);
    EXPECT_FAILS("mbox_recv(buf, 99) of a 100-byte message",
                 call(&a, hang, SX03_RECV, 99, 0, 0), EMSGSIZE);
    EXPECT_FAILS("mbox_recv_timed(buf, 99, 0 ms) of a 100-byte message",
                 call(&a, hang, SX03_TIMED, 99, 0, 0), EMSGSIZE);
    expect_msg(&a, "mbox_try_recv(buf, 100) after the refusals (the message stays in the"
               " slot)", call(&a, hang, SX03_TRY_RECV, 100, 0, 0), 100, 4);
    box_end(name, &a, NULL);
}

TEST(null_args, 1, "§2")
{
    struct side a;
    char name[128];
    const char *hang = "a call with a NULL argument did not return within 5 s: check the"
                       " arguments before waiting";

    one_box(&a, name, sizeof name);
    EXPECT(cx_poke(a.s.pid, a.sbuf, "x", 1) == 0, "test setup: cannot fill the buffer");
    EXPECT_INT("mbox_send(mb, \"x\", 1)", call(&a, hang, SX03_SEND, 1, 0, 0), 0);
    EXPECT_FAILS("mbox_send(NULL, \"x\", 1)", call(&a, hang, SX03_SEND, 1, 0, SX03_NULL_MB),
                 EINVAL);
    EXPECT_FAILS("mbox_send(mb, NULL, 1)", call(&a, hang, SX03_SEND, 1, 0, SX03_NULL_BUF),
                 EINVAL);
    EXPECT_FAILS("mbox_try_send(NULL, \"x\", 1)",
                 call(&a, hang, SX03_TRY_SEND, 1, 0, SX03_NULL_MB), EINVAL);
    EXPECT_FAILS("mbox_recv(mb, NULL, 16)", call(&a, hang, SX03_RECV, 16, 0, SX03_NULL_BUF),
                 EINVAL);
    EXPECT_FAILS("mbox_try_recv(mb, NULL, 16)",
                 call(&a, hang, SX03_TRY_RECV, 16, 0, SX03_NULL_BUF), EINVAL);
    EXPECT_FAILS("mbox_recv_timed(mb, NULL, 16, 0)",
                 call(&a, hang, SX03_TIMED, 16, 0, SX03_NULL_BUF), EINVAL);
    EXPECT_FAILS("mbox_recv(NULL, buf, 16)", call(&a, hang, SX03_RECV, 16, 0, SX03_NULL_MB),
                 EINVAL);
    EXPECT_FAILS("mbox_try_send(mb, NULL, 1)",
                 call(&a, hang, SX03_TRY_SEND, 1, 0, SX03_NULL_BUF), EINVAL);
    EXPECT_FAILS("mbox_try_recv(NULL, buf, 16)",
                 call(&a, hang, SX03_TRY_RECV, 16, 0, SX03_NULL_MB), EINVAL);
    EXPECT_FAILS("mbox_recv_timed(NULL, buf, 16, 0)",
                 call(&a, hang, SX03_TIMED, 16, 0, SX03_NULL_MB), EINVAL);
    EXPECT_INT("mbox_try_recv(mb, buf, 16) after the refusals",
               call(&a, hang, SX03_TRY_RECV, 16, 0, 0), 1);
    box_end(name, &a, NULL);
}

/* Part 2: waiting for the other process */

/* A sender and a receiver, each a subject of its own, on one mailbox. */
static void pair_new(struct side *tx, struct side *rx, char *name, size_t size)
{
    struct side *d[] = { tx, rx };

    side_start(tx, "the sender", 0);
    side_start(rx, "the receiver", 1);
    box_new(name, size, d, 2);
}

TEST(recv_waits, 3, "§3")
{
    struct side tx, rx;
    char name[128];
    const char *hang = "mbox_recv did not return within 5 s, although the other process"
                       " sent its message after 100 ms: does the wait read the flag again"
                       " on every poll? (a plain int is read once)";

    pair_new(&tx, &rx, name, sizeof name);
    start_call(&rx, "mbox_recv", SX03_RECV, MAX, 0);
    nap_ms(LATE_MS);
    put_msg(&tx, 5, 100);
    EXPECT_INT("the other process's mbox_send", call(&tx, "mbox_send into an empty slot"
               " did not return within 5 s", SX03_SEND, 100, 0, 0), 0);
    expect_msg(&rx, "mbox_recv of a message another process sent 100 ms later",
               finish(&rx, hang), 100, 5);
    box_end(name, &tx, &rx);
}

TEST(send_waits, 2, "§3")
{
    struct side tx, rx;
    char name[128];
    const char *hang = "mbox_send did not return within 5 s, although the other process"
                       " emptied the slot after 100 ms: does the wait read the flag again"
                       " on every poll? (a plain int is read once)";

    pair_new(&tx, &rx, name, sizeof name);
    put_msg(&tx, 1, 100);
    EXPECT_INT("mbox_send(message 1) into an empty slot",
               call(&tx, hang, SX03_SEND, 100, 0, 0), 0);
    put_msg(&tx, 2, 100);
    start_call(&tx, "mbox_send(message 2)", SX03_SEND, 100, 0);
    nap_ms(LATE_MS);
    EXPECT(!cx_replied(&tx.s), "mbox_send(message 2) returned while message 1 was unread:"
           " it must wait until the slot is empty");
    expect_msg(&rx, "the other process's mbox_recv of message 1",
               call(&rx, "mbox_recv of a waiting message did not return within 5 s",
                    SX03_RECV, MAX, 0, 0), 100, 1);
    EXPECT_INT("mbox_send(message 2) once the slot was emptied", finish(&tx, hang), 0);
    expect_msg(&rx, "the other process's mbox_recv of message 2",
               call(&rx, "mbox_recv of a waiting message did not return within 5 s",
                    SX03_RECV, MAX, 0, 0), 100, 2);
    box_end(name, &tx, &rx);
}

/* Part 3: publishing and releasing */

/* A probe made while a copy is held: the other subject's call. */
struct probe {
    struct side *other;                 /* who looks */
    uint32_t op;                        /* SX03_TRY_RECV or SX03_TRY_SEND */
    size_t len;                         /* its size */
    int done;                           /* 1 once it was made */
    long ret;                           /* what it returned */
    int err;                            /* and errno */
    int step;                           /* 1: once the copy is let go, look
                                           again after every instruction
                                           that changed the mailbox */
    int taken;                          /* out: 1 if such a look succeeded */
    long aret;                          /* out: what that look returned */
    int aerr;                           /* out: and errno */
    long looks;                         /* out: looks once let go */
    unsigned char seen[SIZE];           /* the mailbox as last looked at */
};

/* The mailbox, as the other subject maps it, into buf (SIZE bytes).
 * Returns 0, or -1 if it cannot be read. */
static int probe_read(struct probe *p, unsigned char *buf)
{
    return cx_peek(p->other->s.pid, p->other->mb, buf, SIZE);
}

static int probe_now(void *arg)
{
    struct probe *p = arg;

    if (!p->done) {
        p->ret = call(p->other, "a look at the mailbox while the other process's copy"
                      " was held did not return within 5 s", p->op, p->len, 0, 0);
        p->err = errno;
        p->done = 1;
        if (p->step && probe_read(p, p->seen) == -1)
            p->step = 0;
    }
    return 1;
}

/* After one instruction of the copy let go: if it changed the mailbox,
 * look again. Returns 1 (stop stepping) once a look succeeded or the
 * mailbox cannot be read. */
static int probe_step(void *arg)
{
    static unsigned char now[SIZE];
    struct probe *p = arg;

    if (probe_read(p, now) == -1)
        return 1;
    if (memcmp(now, p->seen, SIZE) == 0)
        return 0;
    p->looks++;
    p->aret = call(p->other, "a look at the mailbox, made after each of the other process's"
                   " stores, did not return within 5 s", p->op, p->len, 0, 0);
    p->aerr = errno;
    p->taken = p->aret != -1 || p->aerr != EAGAIN;
    return p->taken || probe_read(p, p->seen) == -1;
}

/* d's held copy (op SX03_SEND_HELD or _RECV_HELD of len bytes), with the
 * probe made while it is held (and, with p->step, again after each
 * instruction once let go that changed the mailbox, until one succeeds:
 * the interleaving at every store). Returns the call's value (errno set);
 * *held says whether it was held (always 1 where holds are off). */
static long held_call(struct side *d, uint32_t op, size_t len, struct probe *p, int *held)
{
    uintptr_t guard = d->hold + 2 * cx_page();
    struct sx_req q = { .op = op, .a = { d->mb, len, (uint64_t)holds_on(), 0 } };
    struct cx_hold h = { .lo = guard, .hi = guard + cx_page(), .secs = stuck(),
                         .until = probe_now, .ctx = p, .step = p->step ? probe_step : NULL };
    struct sx_rep r;
    const char *what = op == SX03_SEND_HELD ? "mbox_send, held in its copy"
                                            : "mbox_recv, held in its copy";

    if (holds_on())
        cx_call_held(&d->s, what, &q, &r, &h);
    else
        cx_call(&d->s, what, &q, &r);
    EXPECT(r.ret != -2, "test setup: the held copy could not be run");
    *held = !holds_on() || (h.held != 0 && p->done);
    errno = r.err;
    return (long)r.ret;
}

/* Put message seq (len bytes, ending in d's guard page) into d's hold
 * buffer. */
static void put_held(struct side *d, uint64_t seq, size_t len)
{
    static unsigned char buf[MAX];

    msg_fill(buf, len, seq);
    EXPECT(cx_poke(d->s.pid, d->hold + 2 * cx_page() + SX03_TAIL - len, buf, len) == 0,
           "test setup: cannot fill the hold buffer");
}

TEST(send_publishes_last, 3, "§4")
{
    struct side tx, rx;
    char name[128], how[64];
    struct probe p = { .op = SX03_TRY_RECV, .len = MAX, .ret = -1, .err = EAGAIN, .step = 1 };
    int held;

    pair_new(&tx, &rx, name, sizeof name);
    p.other = &rx;
    put_held(&tx, 11, MAX);
    long rc = held_call(&tx, SX03_SEND_HELD, MAX, &p, &held);
    EXPECT(rc == 0, "mbox_send(MBOX_MAX bytes) returned %ld (errno %s)", rc,
           hx_errname(errno));
    EXPECT(held, "mbox_send was not held in its copy: it returned without reading the end"
           " of the message");
    EXPECT(!p.done || (p.ret == -1 && p.err == EAGAIN), "mbox_try_recv while mbox_send"
           " was still copying the payload: expected -1 with EAGAIN (nothing published"
           " yet), got %s: publish only once the whole payload is in the slot",
           said(p.ret, p.err, how, sizeof how));
    errno = p.aerr;
    if (p.taken)
        expect_msg(&rx, "mbox_try_recv just after the store of mbox_send that made the"
                   " slot look full (the flag's release store must come after every other"
                   " store of the message, its length too)", p.aret, MAX, 11);
    else
        expect_msg(&rx, "mbox_try_recv once mbox_send returned",
                   call(&rx, "mbox_try_recv did not return within 5 s", SX03_TRY_RECV, MAX,
                        0, 0), MAX, 11);
    box_end(name, &tx, &rx);
}

TEST(recv_releases_last, 3, "§4")
{
    struct side tx, rx;
    char name[128], how[64];
    struct probe p = { .op = SX03_TRY_SEND, .len = MAX, .ret = -1, .err = EAGAIN, .step = 1 };
    int held;

    pair_new(&tx, &rx, name, sizeof name);
    p.other = &tx;
    put_msg(&tx, 12, MAX);
    EXPECT_INT("mbox_send(message 12, MBOX_MAX bytes)", call(&tx, "mbox_send into an empty"
               " slot did not return within 5 s", SX03_SEND, MAX, 0, 0), 0);
    put_msg(&tx, 13, MAX);              /* what the probe tries to slip in */
    long n = held_call(&rx, SX03_RECV_HELD, MAX, &p, &held);
    int err = errno;
    EXPECT(!p.done || (p.ret == -1 && p.err == EAGAIN), "mbox_try_send while mbox_recv was"
           " still copying the message out: expected -1 with EAGAIN (the slot is still the"
           " receiver's), got %s: mark the slot empty only once the whole payload is in"
           " buf", said(p.ret, p.err, how, sizeof how));
    expect_msg_at(&rx, p.taken ? "the held mbox_recv, with the slot refilled just after"
                  " the store that made it look empty (mark it empty only after the last read"
                  " of the message, its length too)" : "the held mbox_recv",
                  rx.hold + 2 * cx_page() + SX03_TAIL - MAX, n, err, MAX, 12);
    EXPECT(held, "mbox_recv was not held in its copy: it returned %ld without writing the"
           " end of the buffer", n);
    box_end(name, &tx, &rx);
}

/* Part 4: stale data */

/* Fill p (SIZE bytes) with a pattern: 0 to 3 a repeated byte, else random. */
static const char *junk_fill(unsigned char *p, int kind)
{
    static const unsigned char bytes[] = { 0x00, 0x01, 0x80, 0xff };

    if (kind < 4) {
        memset(p, bytes[kind], SIZE);
        return kind == 0 ? "zeros" : kind == 1 ? "0x01 bytes" :
               kind == 2 ? "0x80 bytes" : "0xff bytes";
    }
    for (size_t i = 0; i < SIZE; i++)
        p[i] = (unsigned char)cx_rand();
    return "random bytes";
}

/* Fail unless a's mailbox, just made by mbox_init over what, is empty and
 * then carries a message. */
static void expect_clean(struct side *a, const char *what)
{
    const char *hang = "a call on a mailbox just made by mbox_init did not return within"
                       " 5 s";
    long n = call(a, hang, SX03_TRY_RECV, 300, 0, 0);
    int err = errno;

    EXPECT(n == -1 && err == EAGAIN, "mbox_try_recv right after mbox_init over %s:"
           " expected -1 with EAGAIN, got %ld (errno %s): old data was taken for a new"
           " message", what, n, hx_errname(err));
    put_msg(a, 21, 300);
    EXPECT(call(a, hang, SX03_TRY_SEND, 300, 0, 0) == 0, "mbox_try_send right after"
           " mbox_init over %s: expected 0 (the slot is empty), got -1 (errno %s)", what,
           hx_errname(errno));
    expect_msg(a, "mbox_try_recv of the first new message",
               call(a, hang, SX03_TRY_RECV, 300, 0, 0), 300, 21);
}

TEST(init_clears_stale, 3, "§5")
{
    struct side a;
    char name[128], what[96];
    static unsigned char junk[SIZE];

    one_box(&a, name, sizeof name);
    uintptr_t mem = a.mb;
    put_msg(&a, 20, 300);
    EXPECT_INT("mbox_send(message 20)", call(&a, "mbox_send into an empty slot did not"
               " return within 5 s", SX03_SEND, 300, 0, 0), 0);
    /* Its receiver never came: a new program inherits the region. */
    const char *old = "an old mailbox that still held an unread message";
    snprintf(what, sizeof what, "mbox_init over %s", old);
    init_at(&a, mem, what);
    expect_clean(&a, old);
    for (int kind = 0; kind < 8; kind++) {
        const char *j = junk_fill(junk, kind);
        region_write(name, junk);
        snprintf(what, sizeof what, "mbox_init over %s", j);
        init_at(&a, mem, what);
        expect_clean(&a, j);
    }
    box_end(name, &a, NULL);
}

/* Part 5: a stream of messages */

/* Message seq's hold kind in a stream of n: 'S' the sender's copy is held,
 * 'R' the receiver's, 0 none. One message in every n / STREAM_HOLDS, at a
 * place in each stretch and with a first side drawn from the seed (which
 * no subject knows), the sides taking turns; never two in a row. */
static int stream_hold(long seq, long n)
{
    static long phase = -1;
    static int first;
    long every = n / STREAM_HOLDS > 2 ? n / STREAM_HOLDS : 2;

    if (phase < 0) {
        phase = (long)(cx_rand() % (uint64_t)every);
        first = (int)(cx_rand() & 1);
    }
    if (!holds_on() || seq % every != phase)
        return 0;
    return (seq / every + first) % 2 == 0 ? 'S' : 'R';
}

/* Message seq's length: the held ones and every 97th near MBOX_MAX, the
 * rest 8 to 255 bytes. */
static size_t stream_len(long seq, long n)
{
    if (stream_hold(seq, n) != 0)
        return MAX;
    if (seq % 97 == 0)
        return MAX - (size_t)(seq % 50);
    return 8 + (size_t)((uint64_t)seq * 2654435761u >> 16) % 248;
}

/* How many whole records of want (at bytes) lead the receiver's batch
 * buffer: how far it has got, as the checker sees it. -1 if unreadable. */
static long stream_arrived(const struct side *rx, const unsigned char *want, size_t at,
                           unsigned char *got)
{
    size_t off = 0;
    long k = 0;
    uint32_t len;

    if (cx_peek(rx->s.pid, rx->batch, got, at) == -1)
        return -1;
    for (; off + 4 <= at; k++, off += 4 + len) {
        memcpy(&len, want + off, 4);
        if (memcmp(got + off, want + off, 4 + len) != 0)
            break;
    }
    return k;
}

/* Wait for one of the batch's two ends to reply, for as long as the
 * receiver keeps taking messages (on a busy machine a batch takes long):
 * fail after stuck() seconds in which none arrived. Returns the index. */
static int stream_wait(struct cx_subject *const pend[], int left, const struct side *rx,
                       const unsigned char *want, size_t at, unsigned char *got,
                       long seq, long last)
{
    long seen = 0, now;
    int i;

    while ((i = cx_poll_any(pend, left, stuck())) == -1) {
        now = stream_arrived(rx, want, at, got);
        EXPECT(now != -1, "test setup: cannot read the receiver's batch");
        EXPECT(now > seen, "messages %ld to %ld: no progress for %.0f s: does mbox_recv"
               " read the flag again on every poll? (a plain int is read once)", seq + now,
               last, stuck());
        seen = now;
    }
    return i;
}

/* Messages [seq, end) through the mailbox in one batch each way, as many
 * as fit in a batch buffer. Returns the next message's number. */
static long stream_batch(struct side *tx, struct side *rx, long seq, long end, long n)
{
    static unsigned char want[SX03_BATCH], got[SX03_BATCH];
    size_t at = 0;
    long k = seq;
    char why[320], what[96];

    for (; k < end && at + 4 + stream_len(k, n) <= sizeof want; k++) {
        uint32_t len = (uint32_t)stream_len(k, n);
        memcpy(want + at, &len, 4);
        msg_fill(want + at + 4, len, (uint64_t)k);
        at += 4 + len;
    }
    EXPECT(cx_poke(tx->s.pid, tx->batch, want, at) == 0, "test setup: cannot fill the"
           " sender's batch");
    snprintf(what, sizeof what, "mbox_try_send of messages %ld to %ld", seq, k - 1);
    start_call(tx, what, SX03_SEND_MANY, (uint64_t)(k - seq), 0);
    start_call(rx, "mbox_recv", SX03_RECV_MANY, (uint64_t)(k - seq), 0);
    struct cx_subject *pend[] = { &tx->s, &rx->s };
    for (int left = 2; left > 0; left--) {
        int i = stream_wait(pend, left, rx, want, at, got, seq, k - 1);
        struct side *s = pend[i] == &tx->s ? tx : rx;
        long done = finish(s, "");
        EXPECT(done == k - seq, "%s stopped at message %ld: %s returned -1 (errno %s)",
               s->who, seq + done, s == tx ? "mbox_try_send" : "mbox_recv",
               hx_errname(errno));
        pend[i] = pend[left - 1];
    }
    EXPECT(cx_peek(rx->s.pid, rx->batch, got, at) == 0, "test setup: cannot read the"
           " receiver's batch");
    for (size_t off = 0; seq < k; seq++) {
        uint32_t len;
        memcpy(&len, got + off, 4);
        EXPECT(len <= MAX && off + 4 + len <= at, "message %ld: expected %zu bytes, got"
               " %u", seq, stream_len(seq, n), len);
        EXPECT(msg_ok(got + off + 4, len, 0, stream_len(seq, n), (uint64_t)seq, why,
                      sizeof why), "%ld messages: %s", n, why);
        off += 4 + len;
    }
    return k;
}

/* Message seq at a hold point of the sender ('S'): with its copy held,
 * the message must not be visible. */
static void stream_send_held(struct side *tx, struct side *rx, long seq)
{
    struct probe p = { .other = rx, .op = SX03_TRY_RECV, .len = MAX, .ret = -1,
                       .err = EAGAIN };
    int held;

    put_held(tx, (uint64_t)seq, MAX);
    long rc = held_call(tx, SX03_SEND_HELD, MAX, &p, &held);
    EXPECT(rc == 0, "mbox_send(message %ld) returned %ld (errno %s)", seq, rc,
           hx_errname(errno));
    EXPECT(held, "mbox_send(message %ld) did not stop at the end of the payload", seq);
    EXPECT(p.ret == -1, "message %ld could be received (%ld bytes) while mbox_send was"
           " still copying its payload: publish only once the whole payload is in the"
           " slot", seq, p.ret);
    expect_msg(rx, "the message after the held send", call(rx, "mbox_recv of a waiting"
               " message did not return within 5 s", SX03_RECV, MAX, 0, 0), MAX,
               (uint64_t)seq);
}

/* Message seq at a hold point of the receiver ('R'): with its copy out
 * held, the slot must not take message seq + 1. */
static void stream_recv_held(struct side *tx, struct side *rx, long seq, long n)
{
    struct probe p = { .other = tx, .op = SX03_TRY_SEND, .len = MAX, .ret = -1,
                       .err = EAGAIN };
    int held;

    put_msg(tx, (uint64_t)seq, MAX);
    EXPECT_INT("mbox_send into an empty slot", call(tx, "mbox_send into an empty slot did"
               " not return within 5 s", SX03_SEND, MAX, 0, 0), 0);
    put_msg(tx, (uint64_t)seq + 1, MAX);
    p.len = stream_len(seq + 1, n);
    long got = held_call(rx, SX03_RECV_HELD, MAX, &p, &held);
    int err = errno;
    EXPECT(p.ret == -1, "while mbox_recv was still copying message %ld out, mbox_try_send"
           " could refill the slot: mark it empty only once the whole payload is in buf",
           seq);
    expect_msg_at(rx, "the held mbox_recv", rx->hold + 2 * cx_page() + SX03_TAIL - MAX, got,
                  err, MAX, (uint64_t)seq);
    EXPECT(held, "mbox_recv(message %ld) returned %ld without writing the end of the"
           " buffer", seq, got);
}

TEST(stream_100k, 5, "§6")
{
    struct side tx, rx;
    char name[128];
    long n = hx_iters(STREAM_N), seq = 0;

    pair_new(&tx, &rx, name, sizeof name);
    while (seq < n) {
        int kind = stream_hold(seq, n);
        long next = seq + 1;
        while (next < n && stream_hold(next, n) == 0)
            next++;
        if (kind == 'S')
            stream_send_held(&tx, &rx, seq++);
        else if (kind == 'R')
            stream_recv_held(&tx, &rx, seq++, n);
        else
            seq = stream_batch(&tx, &rx, seq, next, n);
    }
    EXPECT_FAILS("mbox_try_recv after the last message (no more)",
                 call(&rx, "mbox_try_recv did not return within 5 s", SX03_TRY_RECV, MAX,
                      0, 0), EAGAIN);
    box_end(name, &tx, &rx);
}

/* Part 6: waiting politely */

/* What pid has used so far: CPU time (s) and voluntary context switches,
 * from /proc. */
struct usage {
    double cpu;
    long sleeps;
};

static struct usage usage_of(pid_t pid)
{
    char buf[4096], *p;
    struct usage u = { cx_cpu(pid), 0 };

    if (cx_proc(pid, "status", buf, sizeof buf) == 0 &&
        (p = strstr(buf, "\nvoluntary_ctxt_switches:")) != NULL)
        u.sleeps = atol(p + strlen("\nvoluntary_ctxt_switches:"));
    return u;
}

/* Fail unless the resources used from u0 to u, over wall seconds of
 * waiting, show a waiter that leaves the CPU to others: at most a fifth of
 * the time on the CPU, and some sleeping, unless it hardly ran at all (on
 * a busy machine sched_yield() alone gives the CPU away). A spinner, which
 * never sleeps, takes its full share of the CPU however loaded the machine
 * is, far more than a fiftieth. Not under Valgrind: CPU time means nothing
 * there. */
static void expect_idle(const char *what, struct usage u0, struct usage u, double wall)
{
    double cpu = u.cpu - u0.cpu;
    long sleeps = u.sleeps - u0.sleeps;

    if (hx_memcheck())
        return;
    EXPECT(cpu <= wall / 5 && (sleeps > 0 || cpu <= wall / 50), "%s: while waiting %.0f ms"
           " it used %.0f ms of CPU time and slept %ld times: expected at most a fifth of"
           " the time on the CPU, and some sleeping (back off: spin a little, then sleep)",
           what, wall * 1000, cpu * 1000, sleeps);
}

/* rx waits in op (mbox_recv, or mbox_recv_timed for 3000 ms) while the
 * sender sends message 5 after IDLE_MS; what it used meanwhile. */
static void idle_wait(uint32_t op, const char *what)
{
    struct side tx, rx;
    char name[128], hang[160];

    pair_new(&tx, &rx, name, sizeof name);
    snprintf(hang, sizeof hang, "%s did not return within 5 s, although the other process"
             " sent its message after 250 ms", what);
    struct usage u0 = usage_of(rx.s.pid);
    double t0 = now();
    start_call(&rx, what, op, MAX, 3000);
    nap_ms(IDLE_MS);
    struct usage u1 = usage_of(rx.s.pid);
    double wall = now() - t0;
    put_msg(&tx, 5, 100);
    EXPECT_INT("the other process's mbox_send", call(&tx, "mbox_send into an empty slot"
               " did not return within 5 s", SX03_SEND, 100, 0, 0), 0);
    expect_msg(&rx, what, finish(&rx, hang), 100, 5);
    expect_idle(what, u0, u1, wall);
    box_end(name, &tx, &rx);
}

TEST(recv_sleeps, 2, "§7")
{
    idle_wait(SX03_RECV, "mbox_recv");
}

TEST(send_sleeps, 2, "§7")
{
    struct side tx, rx;
    char name[128];
    const char *what = "mbox_send into a full slot", *hang = "mbox_send did not return"
                       " within 5 s, although the slot was emptied after 250 ms";

    pair_new(&tx, &rx, name, sizeof name);
    put_msg(&tx, 5, 100);
    EXPECT_INT("mbox_send(message 5) into the empty slot", call(&tx, hang, SX03_SEND, 100,
                                                                0, 0), 0);
    put_msg(&tx, 6, 100);
    struct usage u0 = usage_of(tx.s.pid);
    double t0 = now();
    start_call(&tx, what, SX03_SEND, 100, 0);
    nap_ms(IDLE_MS);
    struct usage u1 = usage_of(tx.s.pid);
    double wall = now() - t0;
    expect_msg(&rx, "mbox_try_recv: message 5", call(&rx, hang, SX03_TRY_RECV, MAX, 0, 0),
               100, 5);
    EXPECT_INT(what, finish(&tx, hang), 0);
    expect_msg(&rx, "mbox_try_recv: message 6, sent once the slot was free",
               call(&rx, hang, SX03_TRY_RECV, MAX, 0, 0), 100, 6);
    expect_idle(what, u0, u1, wall);
    box_end(name, &tx, &rx);
}

TEST(timed_expires, 2, "§7")
{
    struct side a;
    char name[128];
    const char *hang = "mbox_recv_timed on an empty mailbox did not return within 5 s:"
                       " does it check its deadline after every poll?";

    one_box(&a, name, sizeof name);
    double t0 = now();                  /* 1000 ms: whole seconds, no rest */
    long n = call(&a, hang, SX03_TIMED, 64, 1000, 0);
    double t = now() - t0;
    EXPECT_INT("mbox_recv_timed(1000 ms) on an empty mailbox", n, -1);
    EXPECT_ERRNO("mbox_recv_timed(1000 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(t >= 0.999, "mbox_recv_timed(1000 ms) gave up after %.1f ms, before its time:"
           " is the deadline's tv_sec += ms / 1000, tv_nsec += ms %% 1000 * 1000000?",
           t * 1000);
    EXPECT(hx_memcheck() || t < 1.6, "mbox_recv_timed(1000 ms) gave up after %.0f ms:"
           " expected about 1000: is the deadline's tv_nsec kept below one second?",
           t * 1000);
    t0 = now();
    EXPECT_INT("mbox_recv_timed(0 ms) on an empty mailbox", call(&a, hang, SX03_TIMED, 64, 0,
                                                                 0), -1);
    EXPECT_ERRNO("mbox_recv_timed(0 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(hx_memcheck() || now() - t0 < 1, "mbox_recv_timed(0 ms) took %.0f ms: expected"
           " it to look once", (now() - t0) * 1000);
    EXPECT_FAILS("mbox_recv_timed(-1 ms)", call(&a, hang, SX03_TIMED, 64, (uint64_t)-1, 0),
                 EINVAL);
    box_end(name, &a, NULL);
}

TEST(timed_delivers, 2, "§7")
{
    struct side tx, rx;
    char name[128];
    const char *hang = "mbox_recv_timed(3000 ms) did not return within 5 s";

    pair_new(&tx, &rx, name, sizeof name);
    put_msg(&tx, 6, 100);
    EXPECT_INT("mbox_send(message 6)", call(&tx, hang, SX03_SEND, 100, 0, 0), 0);
    expect_msg(&rx, "mbox_recv_timed(0 ms) with a message waiting",
               call(&rx, hang, SX03_TIMED, MAX, 0, 0), 100, 6);
    double t0 = now();
    start_call(&rx, "mbox_recv_timed(3000 ms)", SX03_TIMED, MAX, 3000);
    nap_ms(LATE_MS);
    put_msg(&tx, 5, 100);
    EXPECT_INT("the other process's mbox_send", call(&tx, hang, SX03_SEND, 100, 0, 0), 0);
    long n = finish(&rx, hang);
    double t = now() - t0;
    expect_msg(&rx, "mbox_recv_timed(3000 ms) of a message sent 100 ms later", n, 100, 5);
    EXPECT(hx_memcheck() || t < 2, "mbox_recv_timed(3000 ms) returned after %.0f ms,"
           " although the message came after 100: poll the slot until the deadline, do"
           " not just sleep until it", t * 1000);
    box_end(name, &tx, &rx);
}

TEST(timed_sleeps, 2, "§7")
{
    idle_wait(SX03_TIMED, "mbox_recv_timed");
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
      { &recv_sleeps, &send_sleeps, &timed_expires, &timed_delivers, &timed_sleeps } },
    { NULL, { NULL } },
};
