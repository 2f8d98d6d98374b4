/* suite.c - Lab 04 tests: semaphore signalling (handouts/04-semaphores.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. Each
 * test starts subjects (the lab's files serving requests, grader/subject/
 * 04-semaphores.c); where two processes share a mailbox or a ring, the
 * checker makes the shared object (a name of its own, in /dev/shm) and
 * each subject maps it, so that they share nothing else. The checker
 * chooses every message (from the run's seed), gives it to the sender
 * alone, and compares what the receiver got; it reads the shared region
 * itself with pread where the headers' layouts say what it must hold.
 * To force an order ("the receiver is already asleep when the sender
 * posts") it sends the call without waiting and watches the caller's
 * /proc/PID/syscall until it sleeps in the futex system call that sem_wait
 * uses; every wait has a limit, after which the test says what was stuck.
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 */
#define _DEFAULT_SOURCE
#include "chan.h"
#include "cx.h"
#include "hx.h"
#include "mbox.h"
#include "ops.h"
#include "ring.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const int cx_peers = 1;                 /* (cx_start_peer) */

/* The call's value must be want; if it was -1, say with which errno. */
#define EXPECT_RET(what, call, want)                                      \
    do {                                                                  \
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
    struct timespec t = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

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

/* ---- subjects and their calls ---- */

/* A subject, with where things are in it. */
struct side {
    struct cx_subject s;
    uintptr_t at;                       /* the shared region, mapped */
    uintptr_t batch, hits;              /* its batch buffer, signal counter */
    const char *who;                    /* "the receiver", for messages */
    int restless;                       /* 1 once it let an asleep() deadline
                                           pass: then it gets 0.05 s */
    int sems;                           /* its named semaphores' mappings when
                                           the test began (a subject the
                                           Valgrind pass shares has some) */
};

/* How many of pid's mappings are of named semaphores: glibc's sem_open
 * maps one it creates under a temporary name, /dev/shm/sem.XXXXXX, and
 * one it opens again shares that mapping, so the name says nothing. */
static int sem_maps(pid_t pid)
{
    static char buf[1 << 16];
    int n = 0;

    EXPECT(cx_proc(pid, "maps", buf, sizeof buf) == 0, "test setup: cannot read the maps");
    for (const char *at = buf; (at = strstr(at, " /dev/shm/sem.")) != NULL; at++)
        n++;
    return n;
}

/* Start d: as the test's first subject, its second, or one never shared
 * with other tests (CX_ALONE: its signal mask changes). */
static void side_start(struct side *d, const char *who, enum cx_role role)
{
    memset(d, 0, sizeof *d);
    cx_start_as(&d->s, role);
    d->who = who;
    d->sems = sem_maps(d->s.pid);
}

/* The request for op: a0..a2, NULL bits, and bytes (n of them) in data. */
static struct sx_req req(uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2,
                         uint64_t nulls, const void *bytes, size_t n)
{
    struct sx_req q = { .op = op, .a = { a0, a1, a2, nulls } };

    if (n > 0) {
        q.len = (uint32_t)(n < SX_DATA ? n : SX_DATA);
        memcpy(q.data, bytes, q.len);
    }
    return q;
}

/* Send q to d and wait up to 5 s (scaled) for the reply: a call that must
 * not block. errno is set to the subject's; the reply into *rep if not
 * NULL. Returns its value. */
#define call(d, what, q, rep) call_at(__FILE__, __LINE__, d, what, q, rep)
static long call_at(const char *file, int line, struct side *d, const char *what,
                    struct sx_req q, struct sx_rep *rep)
{
    struct sx_rep r;

    cx_send_at(file, line, &d->s, what, &q);
    if (cx_poll(&d->s, 5 * scale()) == -1)
        ck_abort_msg("%s: still blocked in %s after %.0f s: it should have returned at"
                     " once", d->who, what, 5 * scale());
    cx_reply_at(file, line, &d->s, &r);
    if (rep != NULL)
        *rep = r;
    errno = r.err;
    return (long)r.ret;
}

/* A call that may block: sent, its reply collected later (woken). */
static void start_call(struct side *d, const char *what, struct sx_req q)
{
    cx_send(&d->s, what, &q);
}

/* The reply to the call start_call sent to d, within secs: it was
 * blocked, and must have been woken; stuck says the likely cause. */
#define woken(d, what, secs, stuck, rep) \
    woken_at(__FILE__, __LINE__, d, what, secs, stuck, rep)
static long woken_at(const char *file, int line, struct side *d, const char *what,
                     double secs, const char *stuck, struct sx_rep *rep)
{
    struct sx_rep r;

    if (cx_poll(&d->s, secs) == -1)
        ck_abort_msg("%s: still in %s %.0f s later: %s", d->who, what, secs, stuck);
    cx_reply_at(file, line, &d->s, &r);
    if (rep != NULL)
        *rep = r;
    errno = r.err;
    return (long)r.ret;
}

/* Whether d has replied to the call it was sent. */
static int replied(struct side *d)
{
    return cx_replied(&d->s);
}

/* Wait up to secs until d sleeps in the futex system call, where sem_wait
 * sleeps. Returns 1 once it does; 0 if it replied (or ended); -1 if it
 * still runs without having slept there (it polls?). A caller that let
 * one deadline pass gets 0.05 s from then on. */
static int asleep(struct side *d, double secs)
{
    char buf[64];
    double end = now() + (d->restless ? 0.05 : secs);

    while (!replied(d)) {
        if (cx_proc(d->s.pid, "syscall", buf, sizeof buf) == -1) {
            nap(0.2);                   /* no /proc/PID/syscall here */
            return replied(d) ? 0 : -1;
        }
        if (isdigit((unsigned char)buf[0]) && atol(buf) == SYS_futex)
            return 1;
        if (now() > end) {
            d->restless = 1;
            return -1;
        }
        nap(0.001);
    }
    return 0;
}

/* ---- shared regions, made and read by the checker ---- */

/* Make object name of len bytes of junk (0xa5: init must cope), mode 0666
 * so that any subject may map it. */
static void region_make(const char *name, size_t len)
{
    static unsigned char junk[1 << 16];
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    memset(junk, 0xa5, sizeof junk);
    EXPECT(fd != -1 && fchmod(fd, 0666) == 0 && ftruncate(fd, (off_t)len) == 0,
           "test setup: cannot make the shared object %s: %s", name, hx_errname(errno));
    for (size_t off = 0; off < len; off += sizeof junk)
        EXPECT(pwrite(fd, junk, len - off < sizeof junk ? len - off : sizeof junk,
                      (off_t)off) > 0, "test setup: pwrite failed");
    close(fd);
}

/* Map object name (len bytes) in d. */
static void region_map(struct side *d, const char *name, size_t len)
{
    struct sx_rep r;
    long p = call(d, "mapping the shared object (the test's own mmap)",
                  req(SX04_MAP, len, 0, 0, 0, name, strlen(name)), &r);

    EXPECT(p != 0, "test setup: %s cannot map %s: %s", d->who, name, hx_errname(errno));
    d->at = (uintptr_t)p;
    d->batch = r.v[0];
    d->hits = r.v[1];
}

/* Read len bytes at off of object name into buf (never a mapping of
 * ours: the subject could truncate it). Returns 0 or -1. */
static int region_read(const char *name, size_t off, void *buf, size_t len)
{
    char path[160];
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
        return -1;
    n = pread(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* ---- the mailbox ---- */

/* A mailbox in a fresh region, mapped by each of the n subjects; the
 * first one initialises it. */
static void mbox_new(char *name, size_t size, struct side *const d[], int n)
{
    region_make(cx_name(name, size, "mbox"), sizeof(struct mbox));
    for (int i = 0; i < n; i++)
        region_map(d[i], name, sizeof(struct mbox));
    EXPECT_RET("mbox_init", call(d[0], "mbox_init", req(SX04_MB_INIT, d[0]->at, 0, 0, 0,
                                                         NULL, 0), NULL), 0);
}

static long mb_send(struct side *d, const char *what, const void *msg, size_t len)
{
    return call(d, what, req(SX04_MB_SEND, d->at, len, 0, msg ? 0 : SX04_NULL_BUF, msg,
                             msg ? len : 0), NULL);
}

/* mbox_recv (op SX04_MB_RECV, _TRY) into a buffer of size; what came into
 * out (if not NULL, room for MBOX_MAX). */
static long mb_recv(struct side *d, const char *what, uint32_t op, size_t size, void *out)
{
    struct sx_rep r;
    long k = call(d, what, req(op, d->at, size, 0, 0, NULL, 0), &r);

    if (out != NULL && k > 0)
        memcpy(out, r.data, r.len < MBOX_MAX ? r.len : MBOX_MAX);
    return k;
}

/* Fail unless reply r of the call what is the message want (len bytes). */
static void expect_msg(const char *what, long k, const struct sx_rep *r, const char *want)
{
    size_t len = strlen(want);

    EXPECT(k == (long)len && memcmp(r->data, want, len) == 0, "%s: expected \"%s\", got"
           " %ld bytes \"%.*s\"%s%s%s", what, want, k, k > 0 ? (int)(k < 40 ? k : 40) : 0,
           r->data, k == -1 ? " (errno " : "", k == -1 ? hx_errname(errno) : "",
           k == -1 ? ")" : "");
}

/* Part 1: the mailbox on two semaphores */

/* A step of the Valgrind pass's leak check: map the region ctx names
 * (once per subject), then a message sent and received. */
static void mbox_step(struct cx_subject *s, void *ctx)
{
    static pid_t mapped;
    static uintptr_t at;
    struct side d = { .s = *s, .who = "the process" };
    unsigned char buf[MBOX_MAX];

    if (mapped != s->pid) {
        region_map(&d, ctx, sizeof(struct mbox));
        EXPECT_RET("mbox_init", call(&d, "mbox_init", req(SX04_MB_INIT, d.at, 0, 0, 0,
                                                          NULL, 0), NULL), 0);
        mapped = s->pid;
        at = d.at;
    }
    d.at = at;
    EXPECT_RET("mbox_send(\"step\", 4)", mb_send(&d, "mbox_send", "step", 4), 0);
    EXPECT_RET("mbox_recv", mb_recv(&d, "mbox_recv", SX04_MB_RECV, sizeof buf, buf), 4);
}

TEST(mbox_roundtrip, 2, "§3")
{
    struct side a, *d[] = { &a };
    char name[128];
    unsigned char big[MBOX_MAX], buf[MBOX_MAX];
    struct mbox mb;

    side_start(&a, "the process", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);
    EXPECT_RET("mbox_send(\"hello\", 5)", mb_send(&a, "mbox_send", "hello", 5), 0);
    EXPECT(region_read(name, 0, &mb, sizeof mb) == 0 && mb.len == 5 &&
           memcmp(mb.data, "hello", 5) == 0, "the mailbox in shared memory after"
           " mbox_send(\"hello\", 5): expected len 5 and \"hello\" in data (mbox.h), got"
           " len %zu", mb.len);
    memset(buf, 0, sizeof buf);
    EXPECT_RET("mbox_recv after sending \"hello\"",
               mb_recv(&a, "mbox_recv", SX04_MB_RECV, sizeof buf, buf), 5);
    EXPECT(memcmp(buf, "hello", 5) == 0, "mbox_recv: expected \"hello\", got \"%.5s\"",
           (char *)buf);
    for (size_t k = 0; k < sizeof big; k++)
        big[k] = (unsigned char)cx_rand();
    EXPECT_RET("mbox_send of MBOX_MAX bytes", mb_send(&a, "mbox_send", big, sizeof big), 0);
    EXPECT_RET("mbox_recv of MBOX_MAX bytes",
               mb_recv(&a, "mbox_recv", SX04_MB_RECV, sizeof buf, buf), MBOX_MAX);
    EXPECT(memcmp(buf, big, sizeof big) == 0, "mbox_recv of MBOX_MAX bytes: the bytes"
           " differ from those sent");
    EXPECT_RET("mbox_send(NULL, 0): an empty message", mb_send(&a, "mbox_send", NULL, 0), 0);
    EXPECT_RET("mbox_recv of an empty message",
               mb_recv(&a, "mbox_recv", SX04_MB_RECV, sizeof buf, buf), 0);
    EXPECT_RET("mbox_destroy", call(&a, "mbox_destroy", req(SX04_MB_DESTROY, a.at, 0, 0, 0,
                                                            NULL, 0), NULL), 0);
    EXPECT_RET("mbox_init again after mbox_destroy",
               call(&a, "mbox_init", req(SX04_MB_INIT, a.at, 0, 0, 0, NULL, 0), NULL), 0);
    cx_end(&a.s);
    if (getenv("HX_VALGRIND"))          /* the leak points, from outside too */
        cx_expect_steady("mbox_send and mbox_recv", mbox_step, name);
    shm_unlink(name);
}

TEST(mbox_try_empty, 1, "§3")
{
    struct side a, *d[] = { &a };
    char name[128], buf[MBOX_MAX];

    side_start(&a, "the process", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);  /* its memory held junk before */
    EXPECT_RET("mbox_try_recv on a fresh mailbox (it held junk before mbox_init)",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), -1);
    EXPECT_ERRNO("mbox_try_recv on an empty mailbox", EAGAIN);
    EXPECT_RET("mbox_send(\"x\", 1)", mb_send(&a, "mbox_send", "x", 1), 0);
    EXPECT_RET("mbox_try_recv with a message there",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), 1);
    EXPECT_RET("the byte mbox_try_recv got", buf[0], 'x');
    EXPECT_RET("mbox_try_recv once the message was taken",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), -1);
    EXPECT_ERRNO("mbox_try_recv once the message was taken", EAGAIN);
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(mbox_sizes, 2, "§3")
{
    struct side a, *d[] = { &a };
    char name[128];
    unsigned char big[MBOX_MAX + 1], buf[MBOX_MAX];

    side_start(&a, "the process", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);
    memset(big, 'b', sizeof big);
    EXPECT_RET("mbox_send of MBOX_MAX + 1 bytes",
               mb_send(&a, "mbox_send", big, sizeof big), -1);
    EXPECT_ERRNO("mbox_send of MBOX_MAX + 1 bytes", EMSGSIZE);
    EXPECT_RET("mbox_try_recv after a send that failed with EMSGSIZE",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), -1);
    EXPECT_ERRNO("mbox_try_recv after a failed send (nothing was sent)", EAGAIN);
    EXPECT_RET("mbox_send of 100 bytes", mb_send(&a, "mbox_send", big, 100), 0);
    EXPECT_RET("mbox_recv of 100 bytes into a 10-byte buffer",
               mb_recv(&a, "mbox_recv", SX04_MB_RECV, 10, buf), -1);
    EXPECT_ERRNO("mbox_recv of 100 bytes into a 10-byte buffer", EMSGSIZE);
    EXPECT_RET("mbox_try_recv with room, after the EMSGSIZE (the message must still be"
               " there)", mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), 100);
    EXPECT(buf[0] == 'b' && buf[99] == 'b', "the message kept after EMSGSIZE: expected"
           " 100 'b's, got 0x%02x...0x%02x", buf[0], buf[99]);
    EXPECT_RET("mbox_send of 100 bytes", mb_send(&a, "mbox_send", big, 100), 0);
    EXPECT_RET("mbox_send of MBOX_MAX + 1 bytes into a full mailbox (nothing waits)",
               mb_send(&a, "mbox_send", big, sizeof big), -1);
    EXPECT_ERRNO("mbox_send of MBOX_MAX + 1 bytes into a full mailbox", EMSGSIZE);
    EXPECT_RET("mbox_try_recv of 100 bytes into a 10-byte buffer",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, 10, buf), -1);
    EXPECT_ERRNO("mbox_try_recv of 100 bytes into a 10-byte buffer", EMSGSIZE);
    EXPECT_RET("mbox_recv_timed(0 ms) of 100 bytes into a 10-byte buffer",
               call(&a, "mbox_recv_timed", req(SX04_MB_TIMED, a.at, 10, 0, 0, NULL, 0), NULL),
               -1);
    EXPECT_ERRNO("mbox_recv_timed(0 ms) of 100 bytes into a 10-byte buffer", EMSGSIZE);
    EXPECT_RET("mbox_try_recv with room, after two EMSGSIZEs (the message must still be"
               " there: give back the token you took)",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), 100);
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(mbox_errors, 1, "§3")
{
    struct side a, *d[] = { &a };
    char name[128];

    side_start(&a, "the process", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);
    EXPECT_RET("mbox_init(NULL)", call(&a, "mbox_init(NULL)", req(SX04_MB_INIT, 0, 0, 0,
                                       SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("mbox_init(NULL)", EINVAL);
    EXPECT_RET("mbox_send(NULL, \"x\", 1)", call(&a, "mbox_send(NULL)",
               req(SX04_MB_SEND, 0, 1, 0, SX04_NULL_OBJ, "x", 1), NULL), -1);
    EXPECT_ERRNO("mbox_send(NULL, \"x\", 1)", EINVAL);
    EXPECT_RET("mbox_send(mb, NULL, 3)", mb_send(&a, "mbox_send(mb, NULL, 3)", NULL, 3), -1);
    EXPECT_ERRNO("mbox_send(mb, NULL, 3)", EINVAL);
    EXPECT_RET("mbox_recv(NULL, buf, 16)", call(&a, "mbox_recv(NULL)",
               req(SX04_MB_RECV, 0, 16, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("mbox_recv(NULL, buf, 16)", EINVAL);
    EXPECT_RET("mbox_recv(mb, NULL, 16)", call(&a, "mbox_recv(mb, NULL, 16)",
               req(SX04_MB_RECV, a.at, 16, 0, SX04_NULL_BUF, NULL, 0), NULL), -1);
    EXPECT_ERRNO("mbox_recv(mb, NULL, 16)", EINVAL);
    static const struct { uint32_t op; uint64_t null; const char *what; } nul[] = {
        { SX04_MB_TRY, SX04_NULL_OBJ, "mbox_try_recv(NULL, buf, 16)" },
        { SX04_MB_TRY, SX04_NULL_BUF, "mbox_try_recv(mb, NULL, 16)" },
        { SX04_MB_TIMED, SX04_NULL_OBJ, "mbox_recv_timed(NULL, buf, 16, 10)" },
        { SX04_MB_TIMED, SX04_NULL_BUF, "mbox_recv_timed(mb, NULL, 16, 10)" },
    };
    /* A message waits, so that EINVAL is the only answer (not EAGAIN or
     * ETIMEDOUT), and it must still be there after each. */
    EXPECT_RET("mbox_send(mb, \"m\", 1)", mb_send(&a, "mbox_send", "m", 1), 0);
    for (int i = 0; i < 4; i++) {
        EXPECT_RET(nul[i].what, call(&a, nul[i].what, req(nul[i].op, a.at, 16, 10, nul[i].null,
                                                          NULL, 0), NULL), -1);
        EXPECT_ERRNO(nul[i].what, EINVAL);
    }
    EXPECT_RET("mbox_try_recv after the refused calls (the message stays)",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, 16, NULL), 1);
    EXPECT_RET("mbox_recv_timed(mb, buf, 16, -1)", call(&a, "mbox_recv_timed(-1)",
               req(SX04_MB_TIMED, a.at, 16, (uint64_t)-1, 0, NULL, 0), NULL), -1);
    EXPECT_ERRNO("mbox_recv_timed(mb, buf, 16, -1)", EINVAL);
    EXPECT_RET("mbox_destroy(NULL)", call(&a, "mbox_destroy(NULL)",
               req(SX04_MB_DESTROY, 0, 0, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("mbox_destroy(NULL)", EINVAL);
    shm_unlink(name);
    cx_end(&a.s);
}

#define STREAM 10000L           /* messages in mbox_stream */
#define BATCH 500L              /* of them per request */

/* Message records for a batch: seeded lengths (0 to MBOX_MAX) and bytes. */
static void batch_fill(unsigned char *recs, long n)
{
    for (long i = 0; i < n; i++) {
        uint32_t len = (uint32_t)(cx_rand() % (MBOX_MAX + 1));
        memcpy(recs + i * SX04_REC, &len, 4);
        for (uint32_t k = 0; k < len; k += 8) {
            uint64_t r = cx_rand();
            memcpy(recs + i * SX04_REC + 4 + k, &r, len - k < 8 ? len - k : 8);
        }
    }
}

/* The first record of got[0..n) that differs from want's, or -1. */
static long batch_diff(const unsigned char *want, const unsigned char *got, long n)
{
    for (long i = 0; i < n; i++) {
        uint32_t len;
        memcpy(&len, want + i * SX04_REC, 4);
        if (memcmp(want + i * SX04_REC, got + i * SX04_REC, 4 + len) != 0)
            return i;
    }
    return -1;
}

TEST(mbox_stream, 3, "§3")
{
    static unsigned char want[BATCH * SX04_REC], got[BATCH * SX04_REC];
    struct side tx, rx, *d[] = { &tx, &rx };
    char name[128], what[96];
    long total = hx_iters(STREAM);

    side_start(&tx, "the sender", CX_FIRST);
    side_start(&rx, "the receiver", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    for (long done = 0; done < total; done += BATCH) {
        long n = total - done < BATCH ? total - done : BATCH;
        batch_fill(want, n);
        EXPECT(cx_poke(tx.s.pid, tx.batch, want, (size_t)n * SX04_REC) == 0,
               "test setup: cannot fill the sender's batch");
        snprintf(what, sizeof what, "mbox_send of messages %ld to %ld", done, done + n - 1);
        start_call(&tx, what, req(SX04_MB_SEND_MANY, tx.at, (uint64_t)n, 0, 0, NULL, 0));
        start_call(&rx, "mbox_recv", req(SX04_MB_RECV_MANY, rx.at, (uint64_t)n, 0, 0,
                                         NULL, 0));
        struct cx_subject *pend[] = { &tx.s, &rx.s };
        for (int left = 2; left > 0; left--) {
            int i = cx_poll_any(pend, left, 5 * scale());
            EXPECT(i != -1, "messages %ld to %ld: the sender or the receiver still waits"
                   " %.0f s later: a wakeup was lost or a message never sent", done,
                   done + n - 1, 5 * scale());
            struct side *s = pend[i] == &tx.s ? &tx : &rx;
            long k = woken(s, what, 1, "", NULL);
            EXPECT(k == n, "%s: message %ld failed with %s", s == &tx ? "mbox_send" :
                   "mbox_recv", done + k, hx_errname(errno));
            if (s == &rx)
                EXPECT(cx_peek(rx.s.pid, rx.batch, got, (size_t)n * SX04_REC) == 0,
                       "test setup: cannot read the receiver's batch");
            pend[i] = pend[left - 1];
        }
        long bad = batch_diff(want, got, n);
        EXPECT(bad < 0, "message %ld: the receiver got other bytes than were sent: a"
               " message lost, repeated or torn", done + bad);
    }
    unsigned char buf[MBOX_MAX];
    EXPECT(mb_recv(&rx, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf) == -1, "after the"
           " last message, mbox_try_recv found one more");
    shm_unlink(name);
    cx_end(&rx.s);
    cx_end(&tx.s);
}

TEST(mbox_sleeps, 3, "§1")
{
    struct side tx, rx, *d[] = { &tx, &rx };
    char name[128];
    struct sx_rep r;

    side_start(&tx, "the sender", CX_FIRST);
    side_start(&rx, "the receiver", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    double t0 = now();
    start_call(&rx, "mbox_recv", req(SX04_MB_RECV, rx.at, MBOX_MAX, 0, 0, NULL, 0));
    asleep(&rx, 2 * scale());           /* a poller never sleeps: go on */
    double cpu = cx_cpu(rx.s.pid);
    nap(0.3);
    cpu = cx_cpu(rx.s.pid) - cpu;
    EXPECT_RET("mbox_send(\"wake up\")", mb_send(&tx, "mbox_send", "wake up", 7), 0);
    double waited = now() - t0;
    long k = woken(&rx, "mbox_recv", 2 * scale(), "it was never woken", &r);
    expect_msg("mbox_recv", k, &r, "wake up");
    if (!hx_memcheck())                 /* CPU time means nothing there */
        EXPECT(cpu < 0.04, "a receiver waiting %.2f s for a message used %.3f s of CPU"
               " time in 0.3 s of it: expected (almost) none. Does mbox_recv poll instead"
               " of sleeping in sem_wait?", waited, cpu);
    EXPECT_RET("mbox_send(\"full\")", mb_send(&tx, "mbox_send", "full", 4), 0);
    start_call(&tx, "mbox_send into a full mailbox", req(SX04_MB_SEND, tx.at, 4, 0, 0,
                                                         "more", 4));
    asleep(&tx, 2 * scale());
    cpu = cx_cpu(tx.s.pid);
    nap(0.2);
    cpu = cx_cpu(tx.s.pid) - cpu;
    EXPECT_RET("mbox_recv of \"full\"", mb_recv(&rx, "mbox_recv", SX04_MB_RECV, MBOX_MAX,
                                                 NULL), 4);
    EXPECT_RET("mbox_send into a full mailbox, once a receive freed it",
               woken(&tx, "mbox_send into a full mailbox", 2 * scale(), "the receive did"
                     " not wake it", NULL), 0);
    if (!hx_memcheck())
        EXPECT(cpu < 0.03, "a sender waiting for a full mailbox used %.3f s of CPU time in"
               " 0.2 s: expected (almost) none. Does mbox_send poll instead of sleeping in"
               " sem_wait?", cpu);
    shm_unlink(name);
    cx_end(&rx.s);
    cx_end(&tx.s);
}

TEST(mbox_wakes_across_fork, 3, "§2")
{
    struct side a, b, *d[] = { &a, &b };
    char name[128], buf[MBOX_MAX];
    struct sx_rep r;

    side_start(&a, "the first process", CX_FIRST);
    side_start(&b, "the second process", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    /* A receiver that is asleep BEFORE the post: only then is a wakeup
     * that stays inside one process lost. */
    start_call(&b, "mbox_recv", req(SX04_MB_RECV, b.at, MBOX_MAX, 0, 0, NULL, 0));
    asleep(&b, 2 * scale());
    EXPECT_RET("mbox_send(\"wake up\")", mb_send(&a, "mbox_send", "wake up", 7), 0);
    long k = woken(&b, "mbox_recv, asleep before another process's send", 2 * scale(),
                   "the other process's post never woke it. Did sem_init get pshared ="
                   " 0?", &r);
    expect_msg("mbox_recv, asleep before another process's send", k, &r, "wake up");
    /* A sender asleep on a full mailbox, woken by the other's receive. */
    EXPECT_RET("mbox_send(\"first\")", mb_send(&a, "mbox_send", "first", 5), 0);
    start_call(&b, "mbox_send", req(SX04_MB_SEND, b.at, 6, 0, 0, "second", 6));
    asleep(&b, 2 * scale());
    EXPECT_RET("mbox_recv: \"first\"", mb_recv(&a, "mbox_recv", SX04_MB_RECV, MBOX_MAX,
                                                buf), 5);
    EXPECT_RET("mbox_send into a full mailbox, asleep before another process's receive",
               woken(&b, "mbox_send into a full mailbox", 2 * scale(), "the other"
                     " process's post never woke it. Did sem_init get pshared = 0?", NULL),
               0);
    EXPECT_RET("mbox_try_recv: the second process's \"second\"",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, MBOX_MAX, buf), 6);
    shm_unlink(name);
    cx_end(&b.s);
    cx_end(&a.s);
}

/* Part 2: interrupted waits */

/* How many SIGUSR1s d's handler has caught, from outside; -1 if unknown. */
static int hits_of(struct side *d)
{
    int n;

    return cx_peek(d->s.pid, d->hits, &n, sizeof n) == 0 ? n : -1;
}

static void catch_usr1(struct side *d)
{
    EXPECT(call(d, "installing a SIGUSR1 handler (the test's own)",
                req(SX04_CATCH, 0, 0, 0, 0, NULL, 0), NULL) == 0,
           "test setup: sigaction failed");
}

/* Once d sleeps in its call, hit it with SIGUSR1 and wait until its
 * handler ran and it waits again. Returns 1 if so (also for a caller that
 * waits without sleeping), 0 if its call returned meanwhile. */
static int interrupt(struct side *d)
{
    int before = hits_of(d);
    double end = now() + 5 * scale();

    if (asleep(d, 2 * scale()) == 0)
        return 0;
    EXPECT(kill(d->s.pid, SIGUSR1) == 0, "test setup: kill failed: %s", hx_errname(errno));
    while (hits_of(d) <= before && !replied(d) && now() < end)
        nap(0.001);
    EXPECT(hits_of(d) > before || replied(d), "test setup: the signal handler never ran");
    return asleep(d, 2 * scale()) != 0;
}

#define NITEMS 3

TEST(mbox_recv_eintr, 3, "§4")
{
    struct side tx, rx, *d[] = { &tx, &rx };
    char name[128], item[16], buf[MBOX_MAX];
    struct sx_rep r;

    side_start(&tx, "the sender", CX_FIRST);
    side_start(&rx, "the receiver", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    catch_usr1(&rx);
    for (int i = 0; i < NITEMS; i++) {
        int len = snprintf(item, sizeof item, "item %d", i);
        start_call(&rx, "mbox_recv", req(SX04_MB_RECV, rx.at, MBOX_MAX, 0, 0, NULL, 0));
        if (interrupt(&rx))
            EXPECT_RET("mbox_send of an item", mb_send(&tx, "mbox_send", item, (size_t)len),
                       0);
        long k = woken(&rx, "mbox_recv, interrupted by a signal", 2 * scale(),
                       "it missed an item", &r);
        EXPECT(k != -1, "mbox_recv, interrupted by a signal handler (no SA_RESTART),"
               " returned -1 with errno %s: expected it to go back to sleep and return"
               " \"%s\"", hx_errname(errno), item);
        expect_msg("mbox_recv after a signal", k, &r, item);
    }
    EXPECT(mb_recv(&rx, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf) == -1, "after %d"
           " items, mbox_try_recv found one more: an item was duplicated", NITEMS);
    EXPECT_RET("signals the receiver's handler caught", hits_of(&rx), NITEMS);
    shm_unlink(name);
    cx_end(&rx.s);
    cx_end(&tx.s);
}

TEST(mbox_send_eintr, 2, "§4")
{
    struct side a, tx, *d[] = { &a, &tx };
    char name[128], buf[MBOX_MAX];

    side_start(&a, "the receiver", CX_FIRST);
    side_start(&tx, "the sender", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    EXPECT_RET("mbox_send(\"first\")", mb_send(&a, "mbox_send", "first", 5), 0);
    catch_usr1(&tx);
    start_call(&tx, "mbox_send into a full mailbox",
               req(SX04_MB_SEND, tx.at, 6, 0, 0, "second", 6));
    int slept = interrupt(&tx);
    memset(buf, 0, sizeof buf);
    EXPECT_RET("mbox_recv: \"first\"", mb_recv(&a, "mbox_recv", SX04_MB_RECV, sizeof buf,
                                                buf), 5);
    EXPECT(memcmp(buf, "first", 5) == 0, "mbox_recv: expected \"first\", got \"%.5s\": the"
           " interrupted send overwrote it", buf);
    long k = woken(&tx, "mbox_send, interrupted by a signal", 2 * scale(), "the slot was"
                   " freed, yet it did not send", NULL);
    EXPECT(k == 0, "mbox_send into a full mailbox, interrupted by a signal handler,"
           " returned %ld with errno %s: expected it to go back to sleep until the slot is"
           " free", k, hx_errname(errno));
    EXPECT(slept, "the sender returned right after the signal, before the slot was free");
    EXPECT_RET("mbox_try_recv: the sender's \"second\"",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), 6);
    EXPECT_RET("mbox_try_recv after \"second\" (sent once only)",
               mb_recv(&a, "mbox_try_recv", SX04_MB_TRY, sizeof buf, buf), -1);
    EXPECT_ERRNO("mbox_try_recv after \"second\"", EAGAIN);
    shm_unlink(name);
    cx_end(&tx.s);
    cx_end(&a.s);
}

/* Part 3: waiting with a deadline */

static long mb_timed(struct side *d, const char *what, long ms, struct sx_rep *r)
{
    return call(d, what, req(SX04_MB_TIMED, d->at, MBOX_MAX, (uint64_t)ms, 0, NULL, 0), r);
}

TEST(mbox_timeout, 2, "§5")
{
    struct side a, *d[] = { &a };
    char name[128];

    side_start(&a, "the process", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);
    double t0 = now();
    EXPECT_RET("mbox_recv_timed(250 ms) on an empty mailbox",
               mb_timed(&a, "mbox_recv_timed(250 ms)", 250, NULL), -1);
    double took = now() - t0;
    EXPECT_ERRNO("mbox_recv_timed(250 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(took >= 0.24, "mbox_recv_timed(250 ms) gave up after %.3f s: expected 0.25 s."
           " sem_timedwait wants an ABSOLUTE CLOCK_REALTIME time", took);
    EXPECT(took < 2.5 * scale(), "mbox_recv_timed(250 ms) returned after %.3f s", took);
    t0 = now();
    EXPECT_RET("mbox_recv_timed(0 ms) on an empty mailbox",
               mb_timed(&a, "mbox_recv_timed(0 ms)", 0, NULL), -1);
    EXPECT_ERRNO("mbox_recv_timed(0 ms) on an empty mailbox", ETIMEDOUT);
    EXPECT(now() - t0 < 1.0 * scale(), "mbox_recv_timed(0 ms) took %.3f s", now() - t0);
    EXPECT_RET("mbox_send(\"now\")", mb_send(&a, "mbox_send", "now", 3), 0);
    EXPECT_RET("mbox_recv_timed(0 ms) with a message there",
               mb_timed(&a, "mbox_recv_timed(0 ms)", 0, NULL), 3);
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(mbox_timed_wakes, 2, "§5")
{
    struct side tx, rx, *d[] = { &tx, &rx };
    char name[128];
    long ms = hx_memcheck() ? 29999 : 2999;
    struct sx_rep r;

    side_start(&tx, "the sender", CX_FIRST);
    side_start(&rx, "the receiver", CX_SECOND);
    mbox_new(name, sizeof name, d, 2);
    catch_usr1(&rx);
    double t0 = now();
    start_call(&rx, "mbox_recv_timed", req(SX04_MB_TIMED, rx.at, MBOX_MAX, (uint64_t)ms, 0,
                                           NULL, 0));
    if (interrupt(&rx))                 /* asleep, a signal, asleep again */
        EXPECT_RET("mbox_send(\"late\")", mb_send(&tx, "mbox_send", "late", 4), 0);
    long k = woken(&rx, "mbox_recv_timed", 5 * scale(), "the message did not wake it", &r);
    EXPECT(k != -1, "mbox_recv_timed(%ld ms), sent a signal and then a message, returned"
           " -1 with errno %s after %.3f s, though the message came sooner", ms,
           hx_errname(errno), now() - t0);
    expect_msg("mbox_recv_timed, sent a signal, then a message", k, &r, "late");
    shm_unlink(name);
    cx_end(&rx.s);
    cx_end(&tx.s);
}

/* While d's timed call (started at t0, for ms) sleeps, hit it with
 * SIGUSR1 twice: at a quarter of ms, and once most of ms has gone. Returns
 * the call's value with errno set; *took is when it replied and *last when
 * the last signal went, both in seconds from t0. */
static long hit_twice(struct side *d, const char *what, double t0, long ms, double *took,
                      double *last)
{
    const double at[] = { 0.25 * (double)ms / 1000, 0.85 * (double)ms / 1000 };

    *last = 0;
    for (int i = 0; i < 2 && !replied(d); i++) {
        while (now() < t0 + at[i] && !replied(d))
            nap(0.002);
        if (replied(d))
            break;
        EXPECT(kill(d->s.pid, SIGUSR1) == 0, "test setup: kill failed: %s",
               hx_errname(errno));
        *last = now() - t0;
    }
    long k = woken(d, what, 3 * (double)ms / 1000 + 5 * scale(), "it never gave up", NULL);
    *took = now() - t0;
    return k;
}

/* Judge a timed wait of ms that hit_twice interrupted: it must give up
 * (errno timeout) at its deadline, neither before (a signal ended it) nor
 * as late as a wait restarted in full after the last signal. */
static void expect_kept_deadline(const char *what, long k, int timeout, long ms, double took,
                                 double last)
{
    double due = (double)ms / 1000;

    EXPECT(!(k == -1 && errno == EINTR), "%s, interrupted by a signal handler, returned -1"
           " with errno EINTR after %.3f s: a signal must not end the wait (wait again,"
           " until the same deadline)", what, took);
    EXPECT(k == -1 && errno == timeout, "%s with nothing coming: expected -1 with errno %s,"
           " got %ld with errno %s", what, hx_errname(timeout), k, hx_errname(errno));
    EXPECT(took >= due - 0.01, "%s, interrupted by a signal handler, gave up after %.3f s:"
           " expected %.3f s", what, took, due);
    EXPECT(hx_memcheck() || took < due + last / 2, "%s, interrupted by signals at %.3f s"
           " and %.3f s, gave up after %.3f s: expected %.3f s. Compute the deadline once,"
           " before the first wait (now + ms / 1000 s + ms %% 1000 ms), and after a signal"
           " wait until that same deadline, not ms more", what, 0.25 * due, last, took, due);
}

TEST(mbox_timed_deadline, 2, "§5")
{
    struct side a, *d[] = { &a };
    char name[128];
    long ms = 1000;                     /* whole seconds, and no nanoseconds */
    double took, last;

    side_start(&a, "the receiver", CX_FIRST);
    mbox_new(name, sizeof name, d, 1);
    catch_usr1(&a);
    double t0 = now();
    start_call(&a, "mbox_recv_timed(1000 ms)", req(SX04_MB_TIMED, a.at, MBOX_MAX,
                                                   (uint64_t)ms, 0, NULL, 0));
    long k = hit_twice(&a, "mbox_recv_timed(1000 ms)", t0, ms, &took, &last);
    expect_kept_deadline("mbox_recv_timed(1000 ms) on an empty mailbox", k, ETIMEDOUT, ms,
                         took, last);
    EXPECT_RET("signals the receiver's handler caught", hits_of(&a), 2);
    shm_unlink(name);
    cx_end(&a.s);
}

/* Part 4: a bounded buffer */

/* A ring of n slots in a fresh region (junk in it before), mapped by each
 * of the n subjects; the first one initialises it. */
static void ring_new(char *name, size_t size, unsigned n, struct side *const d[], int k)
{
    size_t want = sizeof(struct ring) + n * sizeof(uint64_t);

    EXPECT_SIZE("ring_size", (size_t)call(d[0], "ring_size", req(SX04_RING_SIZE, 0, n, 0, 0,
                                                                 NULL, 0), NULL), want);
    region_make(cx_name(name, size, "ring"), want);
    for (int i = 0; i < k; i++)
        region_map(d[i], name, want);
    EXPECT_RET("ring_init", call(d[0], "ring_init", req(SX04_RING_INIT, d[0]->at, n, 0, 0,
                                                         NULL, 0), NULL), 0);
}

static long push(struct side *d, const char *what, uint64_t item)
{
    return call(d, what, req(SX04_RING_PUSH, d->at, item, 0, 0, NULL, 0), NULL);
}

/* Pop one item in d and compare it with want. */
static void expect_pop(struct side *d, uint64_t want)
{
    struct sx_rep r;

    EXPECT_RET("ring_pop", call(d, "ring_pop", req(SX04_RING_POP, d->at, 0, 0, 0, NULL, 0),
                                &r), 0);
    EXPECT(r.v[0] == want, "ring_pop: expected item %llu, got %llu (first in, first out)",
           (unsigned long long)want, (unsigned long long)r.v[0]);
}

TEST(ring_fifo, 2, "§6")
{
    struct side a, *d[] = { &a };
    char name[128];
    uint64_t items[8];
    struct ring hdr;

    side_start(&a, "the process", CX_FIRST);
    ring_new(name, sizeof name, 8, d, 1);
    for (int i = 0; i < 8; i++) {
        items[i] = cx_rand();
        EXPECT_RET("ring_push into a ring with room", push(&a, "ring_push", items[i]), 0);
    }
    uint64_t slot[8];
    EXPECT(region_read(name, 0, &hdr, sizeof hdr) == 0 &&
           region_read(name, offsetof(struct ring, slot), slot, sizeof slot) == 0,
           "test setup: cannot read the ring");
    for (int i = 0; i < 8; i++)
        EXPECT(slot[(hdr.head + (unsigned)i) % 8] == items[i], "the ring in shared memory"
               " after 8 pushes: slot[(head + %d) %% 8] holds %llu, expected item %d, %llu"
               " (ring.h: head is the oldest item's index)", i,
               (unsigned long long)slot[(hdr.head + (unsigned)i) % 8], i,
               (unsigned long long)items[i]);
    for (int i = 0; i < 8; i++)
        expect_pop(&a, items[i]);
    for (uint64_t i = 0; i < 30; i++) { /* around the end several times */
        EXPECT_RET("ring_push", push(&a, "ring_push", i), 0);
        EXPECT_RET("ring_push", push(&a, "ring_push", i + 100), 0);
        EXPECT_RET("ring_push", push(&a, "ring_push", i + 200), 0);
        expect_pop(&a, i);
        expect_pop(&a, i + 100);
        expect_pop(&a, i + 200);
    }
    EXPECT_RET("ring_destroy", call(&a, "ring_destroy", req(SX04_RING_DESTROY, a.at, 0, 0,
                                                            0, NULL, 0), NULL), 0);
    EXPECT_RET("ring_init of the same memory again",
               call(&a, "ring_init", req(SX04_RING_INIT, a.at, 8, 0, 0, NULL, 0), NULL), 0);
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(ring_any_size, 2, "§6")
{
    struct side a, *d[] = { &a };
    char name[128];
    unsigned n = 3 + 2 * (unsigned)(cx_rand() % 3); /* 3, 5 or 7: no power of two */
    uint64_t next = 0, want = 0;

    side_start(&a, "the process", CX_FIRST);
    ring_new(name, sizeof name, n, d, 1);
    for (unsigned round = 0; round < 4; round++) { /* around the end several times */
        for (unsigned i = 0; i < n - round % 2; i++)
            EXPECT_RET("ring_push into a ring with room", push(&a, "ring_push", next++), 0);
        for (; want < next; want++) {
            struct sx_rep r;
            EXPECT_RET("ring_pop", call(&a, "ring_pop", req(SX04_RING_POP, a.at, 0, 0, 0,
                                                            NULL, 0), &r), 0);
            EXPECT(r.v[0] == want, "ring_pop from a ring of %u slots: expected item %llu,"
                   " got %llu. n need not be a power of two: wrap the indices with %% n",
                   n, (unsigned long long)want, (unsigned long long)r.v[0]);
        }
    }
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(ring_errors, 1, "§6")
{
    struct side a, *d[] = { &a };
    char name[128];

    side_start(&a, "the process", CX_FIRST);
    ring_new(name, sizeof name, 4, d, 1);
    EXPECT_SIZE("ring_size(0)", (size_t)call(&a, "ring_size(0)",
                req(SX04_RING_SIZE, 0, 0, 0, 0, NULL, 0), NULL), 0);
    EXPECT_ERRNO("ring_size(0)", EINVAL);
    EXPECT_SIZE("ring_size(RING_MAX + 1)", (size_t)call(&a, "ring_size(RING_MAX + 1)",
                req(SX04_RING_SIZE, 0, RING_MAX + 1, 0, 0, NULL, 0), NULL), 0);
    EXPECT_ERRNO("ring_size(RING_MAX + 1)", EINVAL);
    EXPECT_SIZE("ring_size(RING_MAX)", (size_t)call(&a, "ring_size(RING_MAX)",
                req(SX04_RING_SIZE, 0, RING_MAX, 0, 0, NULL, 0), NULL),
                sizeof(struct ring) + (size_t)RING_MAX * sizeof(uint64_t));
    EXPECT_RET("ring_init(NULL, 4)", call(&a, "ring_init(NULL, 4)",
               req(SX04_RING_INIT, 0, 4, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_init(NULL, 4)", EINVAL);
    EXPECT_RET("ring_init(r, 0)", call(&a, "ring_init(r, 0)",
               req(SX04_RING_INIT, a.at, 0, 0, 0, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_init(r, 0)", EINVAL);
    EXPECT_RET("ring_init(r, RING_MAX + 1)", call(&a, "ring_init(r, RING_MAX + 1)",
               req(SX04_RING_INIT, a.at, RING_MAX + 1, 0, 0, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_init(r, RING_MAX + 1)", EINVAL);
    EXPECT_RET("ring_push(NULL, 1)", call(&a, "ring_push(NULL, 1)",
               req(SX04_RING_PUSH, 0, 1, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_push(NULL, 1)", EINVAL);
    EXPECT_RET("ring_pop(NULL, &x)", call(&a, "ring_pop(NULL, &x)",
               req(SX04_RING_POP, 0, 0, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_pop(NULL, &x)", EINVAL);
    EXPECT_RET("ring_pop(r, NULL)", call(&a, "ring_pop(r, NULL)",
               req(SX04_RING_POP, a.at, 0, 0, SX04_NULL_BUF, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_pop(r, NULL)", EINVAL);
    EXPECT_RET("ring_destroy(NULL)", call(&a, "ring_destroy(NULL)",
               req(SX04_RING_DESTROY, 0, 0, 0, SX04_NULL_OBJ, NULL, 0), NULL), -1);
    EXPECT_ERRNO("ring_destroy(NULL)", EINVAL);
    shm_unlink(name);
    cx_end(&a.s);
}

TEST(ring_full_blocks, 2, "§6")
{
    struct side a, b, *d[] = { &a, &b };
    char name[128];

    side_start(&a, "the consumer", CX_FIRST);
    side_start(&b, "the producer", CX_SECOND);
    ring_new(name, sizeof name, 4, d, 2);
    for (uint64_t i = 1; i <= 4; i++)
        EXPECT_RET("ring_push into a ring with room", push(&a, "ring_push", i), 0);
    start_call(&b, "ring_push into a full ring", req(SX04_RING_PUSH, b.at, 5, 0, 0, NULL, 0));
    asleep(&b, 2 * scale());
    double cpu = cx_cpu(b.s.pid);
    nap(0.2);
    cpu = cx_cpu(b.s.pid) - cpu;
    EXPECT(!replied(&b), "ring_push into a full ring of 4 returned instead of sleeping"
           " until a slot is free");
    EXPECT(hx_memcheck() || cpu < 0.03, "ring_push into a full ring used %.3f s of CPU time"
           " in 0.2 s of waiting: expected (almost) none. Does it poll instead of sleeping"
           " in sem_wait?", cpu);
    expect_pop(&a, 1);
    EXPECT_RET("ring_push asleep on a full ring", woken(&b, "ring_push into a full ring",
               2 * scale(), "ring_pop freed a slot but did not wake it", NULL), 0);
    for (uint64_t i = 2; i <= 5; i++)
        expect_pop(&a, i);
    shm_unlink(name);
    cx_end(&b.s);
    cx_end(&a.s);
}

/* ring_slot_locked's look while the push is held: the lock's value. */
struct lock_look {
    const char *name;                   /* the ring's object */
    int seen;                           /* 1 once looked */
    uint32_t value;                     /* the lock semaphore's value then */
};

/* glibc's sem_t (x86-64) starts with a 64-bit word whose low 32 bits are
 * the value: read from the object, never from a mapping of ours. */
static int look_at_lock(void *arg)
{
    struct lock_look *l = arg;
    uint64_t word;

    if (!l->seen && region_read(l->name, offsetof(struct ring, lock), &word,
                                sizeof word) == 0) {
        l->value = (uint32_t)word;
        l->seen = 1;
    }
    return 1;
}

TEST(ring_slot_locked, 2, "§6")
{
    struct side a, *d[] = { &a };
    char name[128];
    const unsigned n = 1024;            /* slots past the first page */
    size_t pg = cx_page(), at = offsetof(struct ring, slot);
    /* slot t and slot n - 1 - t both on the second page */
    unsigned t = (unsigned)((pg - at) / sizeof(uint64_t)) + 8 + (unsigned)(cx_rand() % 16);
    uint64_t item = cx_rand();
    struct sx_rep r;

    side_start(&a, "the producer", CX_ALONE);   /* (it is traced) */
    ring_new(name, sizeof name, n, d, 1);
    EXPECT(at + (size_t)t * sizeof(uint64_t) >= pg && at + (size_t)(t + 1) * 8 <= 2 * pg,
           "test setup: slot %u is not in the second page", t);
    for (unsigned i = 0; i < t; i++) {  /* tail to slot t: on a page of slots */
        EXPECT_RET("ring_push", push(&a, "ring_push", i), 0);
        expect_pop(&a, i);
    }
    struct lock_look look = { name, 0, 0 };
    struct sx_req q = { .op = SX04_RING_PUSH_HELD, .a = { a.at, item, a.at + pg, 0 } };
    struct cx_hold h = { .lo = a.at + pg, .hi = a.at + 2 * pg, .secs = 5 * scale(),
                         .until = look_at_lock, .ctx = &look };
    if (hx_memcheck()) {                /* no holds under Valgrind, whose */
        q.op = SX04_RING_PUSH;          /* signal delivery loses the write */
        cx_call(&a.s, "ring_push", &q, &r);
    } else
        cx_call_held(&a.s, "ring_push, held at its write into slot[tail]", &q, &r, &h);
    EXPECT(r.ret != -2, "test setup: the held push could not be run");
    EXPECT_RET("ring_push (held at its write into the slot)", r.ret, 0);
    if (!hx_memcheck()) {
        EXPECT(h.held != 0 && look.seen, "ring_push was not held at its write into"
               " slot[tail]: it returned without writing the slot?");
        EXPECT(look.value == 0, "while ring_push wrote slot[tail], the ring's lock was"
               " free (its value was %u): take the lock before touching the slot (ring.h:"
               " slot[i] is read or written only while holding lock)", look.value);
    }
    expect_pop(&a, item);
    shm_unlink(name);
    cx_end(&a.s);
}

#define PER_PRODUCER 100000L    /* items each producer pushes in ring_mpmc */
#define SLOTS 64                /* slots of the ring in ring_mpmc */

/* While a holds r->lock (its own sem_wait: never ours, on memory it
 * could take from us), b's call q (a push or a pop) must wait for it. */
static void expect_waits_for_lock(struct side *a, struct side *b, struct sx_req q,
                                  const char *what)
{
    uintptr_t lock = a->at + offsetof(struct ring, lock);

    EXPECT(call(a, "sem_wait on the ring's lock (the test's own)",
                req(SX04_LOCK, lock, 0, 0, 0, NULL, 0), NULL) == 0,
           "test setup: sem_wait on the ring's lock failed: %s", hx_errname(errno));
    start_call(b, what, q);
    if (asleep(b, 2 * scale()) != 0)
        nap(0.05);
    int done = replied(b);
    EXPECT(call(a, "sem_post on the ring's lock (the test's own)",
                req(SX04_LOCK, lock, 1, 0, 0, NULL, 0), NULL) == 0,
           "test setup: sem_post on the ring's lock failed");
    long k = woken(b, what, 2 * scale(), "it was not woken when the lock was released", NULL);
    EXPECT(!done, "%s finished while another process held the ring's lock: then two"
           " producers (or consumers) at once can take the same slot", what);
    EXPECT_RET(what, k, 0);
}

/* Tally what the consumers popped (items[c]: k[c] of them): each item of
 * each producer exactly once, and each consumer's items of one producer in
 * the order pushed. */
static void expect_each_once(uint64_t *const items[2], const long k[2], long n)
{
    unsigned char *seen = calloc((size_t)(2 * n), 1);
    long lost = 0, extra = 0, first = -1;

    EXPECT(seen != NULL, "test setup: out of memory");
    for (int c = 0; c < 2; c++) {
        long last[2] = { -1, -1 };
        for (long j = 0; j < k[c]; j++) {
            uint64_t x = items[c][j];
            unsigned p = (unsigned)(x >> 32);
            long i = (long)(x & 0xffffffffu);
            EXPECT(p <= 1 && i < n, "consumer %d popped %#llx, which nobody pushed", c,
                   (unsigned long long)x);
            EXPECT(i > last[p], "consumer %d popped item %ld of producer %u after item %ld:"
                   " out of order", c, i, p, last[p]);
            last[p] = i;
            seen[p * n + i] += seen[p * n + i] < 255;
        }
    }
    for (long j = 0; j < 2 * n; j++) {
        lost += seen[j] == 0;
        extra += seen[j] > 1;
        if (first == -1 && seen[j] != 1)
            first = j;
    }
    int times = first >= 0 ? seen[first] : 1;
    free(seen);
    EXPECT(first == -1, "2 producers x %ld items, 2 consumers: item %ld of producer %ld was"
           " popped %d times; %ld items lost, %ld popped more than once. Is every access"
           " to head, tail and the slots under the lock?", n, first % n, first / n, times,
           lost, extra);
}

TEST(ring_mpmc, 4, "§6")
{
    struct side s[4], *d[] = { &s[0], &s[1], &s[2], &s[3] };
    struct cx_subject *all[4];
    const char *who[] = { "producer 0", "producer 1", "consumer 0", "consumer 1" };
    char name[128], what[4][64];
    long n = hx_iters(PER_PRODUCER), k[2] = { 0, 0 };
    uint64_t *items[2];

    for (int i = 0; i < 4; i++) {
        side_start(&s[i], who[i], i == 0 ? CX_FIRST : i == 1 ? CX_SECOND : CX_ALONE);
        all[i] = &s[i].s;
    }
    ring_new(name, sizeof name, SLOTS, d, 4);
    expect_waits_for_lock(&s[0], &s[1], req(SX04_RING_PUSH, s[1].at, 7, 0, 0, NULL, 0),
                          "ring_push");
    expect_waits_for_lock(&s[0], &s[2], req(SX04_RING_POP, s[2].at, 0, 0, 0, NULL, 0),
                          "ring_pop");
    for (int p = 0; p < 2; p++) {       /* producers first: they fill the */
        snprintf(what[p], sizeof what[p], "ring_push of %ld items", n);
        start_call(&s[p], what[p], req(SX04_RING_PUSH_MANY, s[p].at, (uint64_t)n,
                                       (uint64_t)p << 32, 0, NULL, 0));
    }
    for (int p = 0; p < 2; p++)         /* ring, then must sleep */
        asleep(&s[p], 2 * scale());
    for (int c = 2; c < 4; c++) {
        snprintf(what[c], sizeof what[c], "ring_pop of %ld items", n);
        start_call(&s[c], what[c], req(SX04_RING_POP_MANY, s[c].at, (uint64_t)n, 0, 0,
                                       NULL, 0));
    }
    double end = now() + 8 * scale();
    for (int left = 4; left > 0; left--) {
        int i = cx_poll_any(all, left, end - now() > 0.1 ? end - now() : 0.1);
        EXPECT(i != -1, "2 producers and 2 consumers: %d of them still wait %.0f s later:"
               " a wakeup was lost, or the counts of free and filled slots went wrong",
               left, 8 * scale());
        struct side *x = NULL;
        for (int j = 0; j < 4; j++)
            if (&s[j].s == all[i])
                x = &s[j];
        long got = woken(x, "ring_push or ring_pop", 1, "", NULL);
        int idx = (int)(x - s);
        EXPECT(got == n, "%s: %s failed after %ld of them with %s", x->who, what[idx], got,
               hx_errname(errno));
        if (idx >= 2)
            k[idx - 2] = got;
        all[i] = all[left - 1];
    }
    for (int c = 0; c < 2; c++) {
        items[c] = malloc((size_t)n * sizeof(uint64_t));
        EXPECT(items[c] != NULL && cx_peek(s[2 + c].s.pid, s[2 + c].batch, items[c],
                                           (size_t)n * sizeof(uint64_t)) == 0,
               "test setup: cannot read consumer %d's items", c);
    }
    expect_each_once(items, k, n);
    free(items[0]);
    free(items[1]);
    shm_unlink(name);
    for (int i = 3; i >= 0; i--)
        cx_end(&s[i].s);
}

/* Part 5: named channels */

/* The /dev/shm file of channel object name (suffix "" for the region,
 * ".empty" or ".full" for a semaphore). */
static char *shm_file(char *buf, size_t size, const char *name, const char *suffix)
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
        int there = lstat(path, &st) == 0;
        EXPECT(there == want, "%s: expected %s %s", what, path,
               want ? "to exist" : "to be gone (unlinked)");
        if (want)
            EXPECT((st.st_mode & 0777) == 0600, "%s: %s has mode %03o, expected 0600 (owner"
                   " only)", what, path, (unsigned)(st.st_mode & 0777));
    }
}

/* Fail if /dev/shm holds anything whose name starts with name's. */
static void expect_nothing_left(const char *what, const char *name)
{
    char sem[256], left[256] = "";
    DIR *d = opendir("/dev/shm");
    struct dirent *e;

    EXPECT(d != NULL, "test setup: cannot read /dev/shm");
    snprintf(sem, sizeof sem, "sem.%s", name + 1);
    while ((e = readdir(d)) != NULL && left[0] == '\0')
        if (strncmp(e->d_name, name + 1, strlen(name + 1)) == 0 ||
            strncmp(e->d_name, sem, strlen(sem)) == 0)
            snprintf(left, sizeof left, "%s", e->d_name);
    closedir(d);
    EXPECT(left[0] == '\0', "%s: /dev/shm/%s was left behind", what, left);
}

/* How many of pid's mappings are of channel name's region, from its
 * maps (its semaphores are sem_maps'). */
static int maps_named(pid_t pid, const char *name)
{
    static char buf[1 << 16];
    int n = 0;

    EXPECT(cx_proc(pid, "maps", buf, sizeof buf) == 0, "test setup: cannot read the maps");
    for (const char *at = buf; (at = strstr(at, name + 1)) != NULL; at++)
        n += at - buf < 4 || memcmp(at - 4, "sem.", 4) != 0;
    return n;
}

/* Fail unless d maps nothing of channel name any more: neither its region
 * nor more named semaphores than when the test began (in this test, only
 * the channel's are made). */
static void expect_unmapped(struct side *d, const char *after, const char *name)
{
    int n = maps_named(d->s.pid, name) + sem_maps(d->s.pid) - d->sems;

    EXPECT(n == 0, "%s, the process still maps %d object%s of the channel (/proc/PID/maps):"
           " munmap the region and sem_close both semaphores", after, n, n == 1 ? "" : "s");
}

static long ch_create(struct side *d, const char *what, int slot, const char *name,
                      struct sx_rep *r)
{
    return call(d, what, req(SX04_CH_CREATE, (uint64_t)slot, 0, 0, name ? 0 : SX04_NULL_BUF,
                             name, name ? strlen(name) : 0), r);
}

static long ch_open(struct side *d, const char *what, int slot, const char *name,
                    struct sx_rep *r)
{
    return call(d, what, req(SX04_CH_OPEN, (uint64_t)slot, 0, 0, 0, name, strlen(name)), r);
}

static long ch_send(struct side *d, const char *what, int slot, const void *msg, size_t len)
{
    return call(d, what, req(SX04_CH_SEND, (uint64_t)slot, len, 0, msg ? 0 : SX04_NULL_BUF,
                             msg, msg ? len : 0), NULL);
}

static long ch_recv(struct side *d, const char *what, int slot, size_t size,
                    struct sx_rep *r)
{
    return call(d, what, req(SX04_CH_RECV, (uint64_t)slot, size, 0, 0, NULL, 0), r);
}

static long ch_close(struct side *d, const char *what, int slot)
{
    return call(d, what, req(SX04_CH_CLOSE, (uint64_t)slot, 0, 0, 0, NULL, 0), NULL);
}

static long ch_unlink(struct side *d, const char *what, const char *name)
{
    return call(d, what, req(SX04_CH_UNLINK, 0, 0, 0, 0, name, strlen(name)), NULL);
}

TEST(chan_roundtrip, 2, "§7")
{
    struct side a;
    char name[128];
    struct sx_rep ra, rb, r;

    side_start(&a, "the process", CX_FIRST);
    int fds = cx_fds(a.s.pid);
    cx_name(name, sizeof name, "rt");
    EXPECT_RET("chan_create", ch_create(&a, "chan_create", 0, name, &ra), 0);
    expect_objects("after chan_create", name, 1);
    EXPECT_RET("open descriptors after chan_create (close the shm_open descriptor once"
               " mapped)", cx_fds(a.s.pid), fds);
    EXPECT_RET("chan_open of the channel just made", ch_open(&a, "chan_open", 1, name, &rb),
               0);
    EXPECT(ra.v[0] != rb.v[0], "chan_open mapped the region at the creator's address:"
           " expected a mapping of its own");
    EXPECT_RET("chan_send(\"ping\") on the creator's handle",
               ch_send(&a, "chan_send", 0, "ping", 4), 0);
    long k = ch_recv(&a, "chan_recv", 1, CHAN_MAX, &r);
    expect_msg("chan_recv on the opener's handle", k, &r, "ping");
    EXPECT_RET("chan_send(\"pong\") on the opener's handle",
               ch_send(&a, "chan_send", 1, "pong", 4), 0);
    EXPECT_RET("chan_recv on the creator's handle", ch_recv(&a, "chan_recv", 0, 3, &r), -1);
    EXPECT_ERRNO("chan_recv of 4 bytes into 3", EMSGSIZE);
    EXPECT_RET("chan_recv with room after EMSGSIZE", ch_recv(&a, "chan_recv", 0, CHAN_MAX,
                                                             &r), 4);
    EXPECT_RET("chan_close of the opener's handle", ch_close(&a, "chan_close", 1), 0);
    EXPECT_RET("chan_close of the creator's handle", ch_close(&a, "chan_close", 0), 0);
    EXPECT_RET("open descriptors after chan_close", cx_fds(a.s.pid), fds);
    expect_unmapped(&a, "after chan_close of both handles", name);
    EXPECT_RET("chan_unlink", ch_unlink(&a, "chan_unlink", name), 0);
    cx_end(&a.s);
}

TEST(chan_errors, 2, "§7")
{
    struct side a;
    char name[128], other[128], path[512], lng[CHAN_NAME_MAX + 2];
    struct sx_rep r;

    side_start(&a, "the process", CX_FIRST);
    int fds = cx_fds(a.s.pid);
    memset(lng, 'x', sizeof lng - 1);
    lng[0] = '/';
    lng[sizeof lng - 1] = '\0';
    const char *bad[] = { "noslash", "/two/slashes", lng, NULL };
    const char *what[] = { "chan_create(\"noslash\")", "chan_create(\"/two/slashes\")",
                           "chan_create(a name of 201 bytes)", "chan_create(NULL)" };
    for (int i = 0; i < 4; i++) {
        EXPECT_RET(what[i], ch_create(&a, what[i], 0, bad[i], NULL), -1);
        EXPECT_ERRNO(what[i], EINVAL);
    }
    cx_name(other, sizeof other, "none");
    EXPECT_RET("chan_open of a channel nobody made", ch_open(&a, "chan_open", 1, other,
                                                             NULL), -1);
    EXPECT_ERRNO("chan_open of a channel nobody made", ENOENT);
    expect_nothing_left("after chan_open of a missing channel (it must not create)", other);
    for (int i = 0; i < 3; i++) {
        char w[64];
        snprintf(w, sizeof w, "chan_open%s", what[i] + strlen("chan_create"));
        EXPECT_RET(w, ch_open(&a, w, 1, bad[i], NULL), -1);
        EXPECT_ERRNO(w, EINVAL);
    }
    static const struct { uint32_t op; const char *what; } nul[] = {
        { SX04_CH_SEND, "chan_send(NULL, \"x\", 1)" },
        { SX04_CH_RECV, "chan_recv(NULL, buf, 8)" },
        { SX04_CH_CLOSE, "chan_close(NULL)" },
    };
    for (int i = 0; i < 3; i++) {
        EXPECT_RET(nul[i].what, call(&a, nul[i].what, req(nul[i].op, 0, 8, 0, SX04_NULL_OBJ,
                                                          "x", 1), NULL), -1);
        EXPECT_ERRNO(nul[i].what, EINVAL);
    }
    cx_name(other, sizeof other, "nul");
    static const struct { uint32_t op; const char *what; } nulc[] = {
        { SX04_CH_CREATE, "chan_create(NULL, name)" },
        { SX04_CH_OPEN, "chan_open(NULL, name)" },
    };
    for (int i = 0; i < 2; i++) {
        EXPECT_RET(nulc[i].what, call(&a, nulc[i].what, req(nulc[i].op, 0, 0, 0, SX04_NULL_OBJ,
                                                            other, strlen(other)), NULL), -1);
        EXPECT_ERRNO(nulc[i].what, EINVAL);
    }
    expect_nothing_left("after chan_create(NULL, name)", other);
    /* The longest good name: CHAN_NAME_MAX bytes, '/' included. */
    cx_name(lng, sizeof lng, "long");
    memset(lng + strlen(lng), 'x', CHAN_NAME_MAX - strlen(lng));
    lng[CHAN_NAME_MAX] = '\0';
    EXPECT_RET("chan_create(a name of CHAN_NAME_MAX bytes)", ch_create(&a, "chan_create", 0,
               lng, NULL), 0);
    EXPECT_RET("chan_close", ch_close(&a, "chan_close", 0), 0);
    unlink(shm_file(path, sizeof path, lng, ""));      /* (chan_unlink's test is */
    unlink(shm_file(path, sizeof path, lng, ".empty")); /* chan_unlink_removes) */
    unlink(shm_file(path, sizeof path, lng, ".full"));
    cx_name(name, sizeof name, "twice");
    EXPECT_RET("chan_create", ch_create(&a, "chan_create", 0, name, NULL), 0);
    EXPECT_RET("chan_create of an existing channel", ch_create(&a, "chan_create", 1, name,
                                                               NULL), -1);
    EXPECT_ERRNO("chan_create of an existing channel", EEXIST);
    expect_objects("the first channel, after a second chan_create failed", name, 1);
    unsigned char big[CHAN_MAX + 1];
    memset(big, 'b', sizeof big);
    EXPECT_RET("chan_send of CHAN_MAX + 1 bytes", ch_send(&a, "chan_send", 0, big,
                                                          sizeof big), -1);
    EXPECT_ERRNO("chan_send of CHAN_MAX + 1 bytes", EMSGSIZE);
    EXPECT_RET("chan_recv(c, NULL, 8)", call(&a, "chan_recv(c, NULL, 8)",
               req(SX04_CH_RECV, 0, 8, 0, SX04_NULL_BUF, NULL, 0), NULL), -1);
    EXPECT_ERRNO("chan_recv(c, NULL, 8)", EINVAL);
    EXPECT_RET("chan_send on the first channel", ch_send(&a, "chan_send", 0, "ok", 2), 0);
    EXPECT_RET("chan_recv on the first channel (the failed send sent nothing)",
               ch_recv(&a, "chan_recv", 0, 8, &r), 2);
    EXPECT(unlink(shm_file(path, sizeof path, name, ".full")) == 0,
           "test setup: cannot remove NAME.full: %s", hx_errname(errno));
    EXPECT_RET("chan_open with NAME.full missing", ch_open(&a, "chan_open", 1, name, NULL),
               -1);
    EXPECT_ERRNO("chan_open with NAME.full missing", ENOENT);
    EXPECT_RET("chan_close", ch_close(&a, "chan_close", 0), 0);
    EXPECT_RET("open descriptors after a failed chan_open and chan_close", cx_fds(a.s.pid),
               fds);
    expect_unmapped(&a, "after a failed chan_open and chan_close", name);
    unlink(shm_file(path, sizeof path, name, ""));
    unlink(shm_file(path, sizeof path, name, ".empty"));
    cx_end(&a.s);
}

TEST(chan_create_cleans_up, 2, "§7")
{
    struct side a;
    char name[128], path[512];
    struct stat st;

    side_start(&a, "the process", CX_FIRST);
    int fds = cx_fds(a.s.pid);
    cx_name(name, sizeof name, "half");
    /* NAME.full in the way: a file where the semaphore would be (sem_open's
     * O_EXCL finds it; we never map it). */
    int fd = open(shm_file(path, sizeof path, name, ".full"),
                  O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT(fd != -1 && ftruncate(fd, sizeof(sem_t)) == 0, "test setup: cannot make %s: %s",
           path, hx_errname(errno));
    close(fd);
    long rc = ch_create(&a, "chan_create", 0, name, NULL);
    int err = errno;
    int region = lstat(shm_file(path, sizeof path, name, ""), &st) == 0;
    int empty = lstat(shm_file(path, sizeof path, name, ".empty"), &st) == 0;
    int theirs = lstat(shm_file(path, sizeof path, name, ".full"), &st) == 0;
    unlink(shm_file(path, sizeof path, name, ".full"));
    unlink(shm_file(path, sizeof path, name, ".empty"));
    unlink(shm_file(path, sizeof path, name, ""));
    EXPECT_RET("chan_create when NAME.full exists already", rc, -1);
    errno = err;
    EXPECT_ERRNO("chan_create when NAME.full exists already", EEXIST);
    EXPECT(!region && !empty, "the failed chan_create left behind what it had made:%s%s"
           " (remove it on the way out)", region ? " the region" : "",
           empty ? " NAME.empty" : "");
    EXPECT(theirs, "the failed chan_create removed NAME.full, which it had not made");
    EXPECT_RET("open descriptors after the failed chan_create", cx_fds(a.s.pid), fds);
    expect_unmapped(&a, "after the failed chan_create", name);
    cx_end(&a.s);
}

TEST(chan_unlink_removes, 2, "§7")
{
    struct side a;
    char name[128];
    struct sx_rep r;

    side_start(&a, "the process", CX_FIRST);
    cx_name(name, sizeof name, "gone");
    EXPECT_RET("chan_create", ch_create(&a, "chan_create", 0, name, NULL), 0);
    expect_objects("after chan_create", name, 1);
    EXPECT_RET("chan_unlink while a handle is open", ch_unlink(&a, "chan_unlink", name), 0);
    expect_objects("after chan_unlink", name, 0);
    EXPECT_RET("chan_send on a handle opened before chan_unlink",
               ch_send(&a, "chan_send", 0, "still", 5), 0);
    long k = ch_recv(&a, "chan_recv", 0, 8, &r);
    expect_msg("chan_recv on a handle opened before chan_unlink", k, &r, "still");
    EXPECT_RET("chan_close after chan_unlink", ch_close(&a, "chan_close", 0), 0);
    EXPECT_RET("chan_unlink of a channel already unlinked",
               ch_unlink(&a, "chan_unlink", name), -1);
    EXPECT_ERRNO("chan_unlink of a channel already unlinked", ENOENT);
    EXPECT_RET("chan_unlink(\"no-slash\")", ch_unlink(&a, "chan_unlink", "no-slash"), -1);
    EXPECT_ERRNO("chan_unlink(\"no-slash\")", EINVAL);
    expect_nothing_left("after chan_unlink", name);
    char path[512];
    EXPECT_RET("chan_create", ch_create(&a, "chan_create", 1, name, NULL), 0);
    EXPECT_RET("chan_close", ch_close(&a, "chan_close", 1), 0);
    EXPECT(unlink(shm_file(path, sizeof path, name, "")) == 0,
           "test setup: cannot remove the region: %s", hx_errname(errno));
    EXPECT_RET("chan_unlink with the region already gone", ch_unlink(&a, "chan_unlink", name),
               -1);
    EXPECT_ERRNO("chan_unlink with the region already gone", ENOENT);
    expect_nothing_left("after chan_unlink with the region gone (it tries all three)", name);
    cx_end(&a.s);
}

/* Part 2 again: interrupted waits in the ring and the channel */

TEST(waits_resume, 2, "§4")
{
    struct side tx, rx, *d[] = { &tx, &rx };
    char name[128], chname[128];
    struct sx_rep r;
    uint64_t item = cx_rand();

    side_start(&tx, "the producer", CX_FIRST);
    side_start(&rx, "the consumer", CX_SECOND);
    ring_new(name, sizeof name, 4, d, 2);
    catch_usr1(&rx);
    start_call(&rx, "ring_pop on an empty ring", req(SX04_RING_POP, rx.at, 0, 0, 0, NULL, 0));
    if (interrupt(&rx))
        EXPECT_RET("ring_push", push(&tx, "ring_push", item), 0);
    long k = woken(&rx, "ring_pop, interrupted by a signal", 2 * scale(), "it missed the"
                   " item", &r);
    EXPECT(k == 0 && r.v[0] == item, "ring_pop, interrupted by a signal handler (no"
           " SA_RESTART), returned %ld with errno %s: expected it to go back to sleep and"
           " return the item pushed later", k, hx_errname(errno));
    cx_name(chname, sizeof chname, "intr");
    EXPECT_RET("chan_create", ch_create(&rx, "chan_create", 0, chname, NULL), 0);
    EXPECT_RET("chan_open", ch_open(&tx, "chan_open", 0, chname, NULL), 0);
    start_call(&rx, "chan_recv on an empty channel", req(SX04_CH_RECV, 0, CHAN_MAX, 0, 0,
                                                         NULL, 0));
    if (interrupt(&rx))
        EXPECT_RET("chan_send(\"late\")", ch_send(&tx, "chan_send", 0, "late", 4), 0);
    k = woken(&rx, "chan_recv, interrupted by a signal", 2 * scale(), "it missed the"
              " message", &r);
    EXPECT(k != -1, "chan_recv, interrupted by a signal handler (no SA_RESTART), returned -1"
           " with errno %s: expected it to go back to sleep", hx_errname(errno));
    expect_msg("chan_recv after a signal", k, &r, "late");
    EXPECT_RET("chan_unlink", ch_unlink(&rx, "chan_unlink", chname), 0);
    shm_unlink(name);
    cx_end(&rx.s);
    cx_end(&tx.s);
}

/* Part 6: the peer program */

#define EXCHANGES 2000L         /* requests in peer_exchange */

/* A request: 1 to CHAN_MAX bytes of letters, digits and punctuation, from
 * the seed. Returns its length. */
static size_t request(unsigned char *msg)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 ,.-_!";
    size_t len = 1 + (size_t)(cx_rand() % CHAN_MAX);

    for (size_t k = 0; k < len; k++)
        msg[k] = (unsigned char)alphabet[cx_rand() % (sizeof alphabet - 1)];
    return len;
}

/* Make n requests through client c (REQ in slot 0, REP in slot 1) to the
 * peer, in one batch (its records: the requests, then the answers), and
 * check each answer; then the empty request. */
static void exchange(struct side *c, long n)
{
    static unsigned char in[SX04_BATCH / 2], out[SX04_BATCH / 2];
    unsigned char msg[CHAN_MAX];

    struct sx_rep r;

    EXPECT((size_t)n * SX04_REC <= sizeof in, "test setup: too many requests");
    call(c, "starting", req(SX04_MAP, 0, 0, 0, 0, NULL, 0), &r);     /* (its buffers) */
    c->batch = r.v[0];
    for (long i = 0; i < n; i++) {
        uint32_t len = (uint32_t)request(in + i * SX04_REC + 4);
        memcpy(in + i * SX04_REC, &len, 4);
    }
    EXPECT(cx_poke(c->s.pid, c->batch, in, (size_t)n * SX04_REC) == 0,
           "test setup: cannot fill the client's batch");
    long done = call(c, "chan_send of the requests and chan_recv of their answers",
                     req(SX04_CH_EXCHANGE, 0, (uint64_t)n, 1, 0, NULL, 0), NULL);
    int err = errno;
    EXPECT(cx_peek(c->s.pid, c->batch + SX04_BATCH / 2, out, (size_t)n * SX04_REC) == 0,
           "test setup: cannot read the client's answers");
    for (long i = 0; i < done; i++) {
        uint32_t len, got;
        memcpy(&len, in + i * SX04_REC, 4);
        memcpy(&got, out + i * SX04_REC, 4);
        for (size_t j = 0; j < len; j++)
            msg[j] = (unsigned char)toupper(in[i * SX04_REC + 4 + j]);
        EXPECT(got == len && memcmp(out + i * SX04_REC + 4, msg, len) == 0, "answer %ld:"
               " expected the %u bytes \"%.20s...\", got %u bytes \"%.20s...\"", i, len,
               (char *)msg, got, got > 0 ? (char *)out + i * SX04_REC + 4 : "");
    }
    EXPECT(done == n, "the client's chan_send of request %ld or chan_recv of its answer"
           " failed with %s", done, hx_errname(err));
    EXPECT_RET("chan_send of the empty request", ch_send(c, "chan_send", 0, NULL, 0), 0);
}

TEST(peer_exchange, 4, "§8")
{
    struct side a, c;
    struct cx_subject peer;
    char req_name[128], rep_name[128], out[256], err[1024], want[64], how[96];
    long n = hx_iters(EXCHANGES);

    side_start(&a, "the creator", CX_FIRST);
    cx_name(req_name, sizeof req_name, "peer-req");
    cx_name(rep_name, sizeof rep_name, "peer-rep");
    EXPECT_RET("chan_create(REQ)", ch_create(&a, "chan_create(REQ)", 0, req_name, NULL), 0);
    EXPECT_RET("chan_create(REP)", ch_create(&a, "chan_create(REP)", 1, rep_name, NULL), 0);
    /* The names keep the objects: the creator needs no handle. */
    EXPECT_RET("chan_close(REQ) just after chan_create", ch_close(&a, "chan_close", 0), 0);
    EXPECT_RET("chan_close(REP) just after chan_create", ch_close(&a, "chan_close", 1), 0);
    cx_start(&peer, (char *[]){ "./peer", req_name, rep_name, NULL });
    side_start(&c, "the client", CX_SECOND);
    EXPECT_RET("chan_open(REQ) in the client", ch_open(&c, "chan_open(REQ)", 0, req_name,
                                                       NULL), 0);
    EXPECT_RET("chan_open(REP) in the client", ch_open(&c, "chan_open(REP)", 1, rep_name,
                                                       NULL), 0);
    exchange(&c, n);
    int st = cx_wait(&peer, 2 * scale());
    cx_output(&peer, 0, out, sizeof out);
    cx_output(&peer, 1, err, sizeof err);
    EXPECT(st != -1, "./peer REQ REP did not end after the empty request");
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "./peer REQ REP: expected exit status 0,"
           " got %s; it said: %s", cx_describe(st, how, sizeof how), err);
    snprintf(want, sizeof want, "peer: answered %ld requests\n", n);
    EXPECT_STR("./peer's output", out, want);
    EXPECT_STR("./peer's error output", err, "");
    ch_close(&c, "chan_close", 0);
    ch_close(&c, "chan_close", 1);
    EXPECT_RET("chan_unlink(REQ)", ch_unlink(&a, "chan_unlink(REQ)", req_name), 0);
    EXPECT_RET("chan_unlink(REP)", ch_unlink(&a, "chan_unlink(REP)", rep_name), 0);
    expect_nothing_left("after the exchange and chan_unlink", req_name);
    expect_nothing_left("after the exchange and chan_unlink", rep_name);
    cx_end(&c.s);
    cx_end(&a.s);
}

/* Run ./peer with argv; fail unless it exits with status want, says
 * something on stderr and nothing on stdout. */
static void expect_peer_fails(const char *what, char *const argv[], int want)
{
    struct cx_subject peer;
    char out[256], err[1024], how[96];

    cx_start(&peer, argv);
    int st = cx_wait(&peer, 3 * scale());
    cx_output(&peer, 0, out, sizeof out);
    cx_output(&peer, 1, err, sizeof err);
    EXPECT(st != -1, "%s: still running after %.0f s (waiting on a channel it created"
           " itself?)", what, 3 * scale());
    EXPECT(WIFEXITED(st), "%s: %s", what, cx_describe(st, how, sizeof how));
    EXPECT(WEXITSTATUS(st) == want, "%s: expected exit status %d, got %d", what, want,
           WEXITSTATUS(st));
    EXPECT(err[0] != '\0', "%s: expected a message on stderr, got none", what);
    EXPECT_STR("its standard output", out, "");
}

TEST(peer_no_channel, 2, "§8")
{
    struct side a;
    char req_name[128], rep_name[128];

    cx_name(req_name, sizeof req_name, "lone-req");
    cx_name(rep_name, sizeof rep_name, "lone-rep");
    expect_peer_fails("./peer with no arguments", (char *[]){ "./peer", NULL }, 2);
    expect_peer_fails("./peer REQ REP, neither channel exists",
                      (char *[]){ "./peer", req_name, rep_name, NULL }, 1);
    expect_nothing_left("./peer REQ REP, neither channel existed", req_name);
    expect_nothing_left("./peer REQ REP, neither channel existed", rep_name);
    side_start(&a, "the creator", CX_FIRST);
    EXPECT_RET("chan_create(REQ)", ch_create(&a, "chan_create(REQ)", 0, req_name, NULL), 0);
    expect_peer_fails("./peer REQ REP, only REQ exists",
                      (char *[]){ "./peer", req_name, rep_name, NULL }, 1);
    expect_nothing_left("./peer REQ REP, REP did not exist", rep_name);
    ch_close(&a, "chan_close", 0);
    EXPECT_RET("chan_unlink(REQ)", ch_unlink(&a, "chan_unlink(REQ)", req_name), 0);
    cx_end(&a.s);
}

/* Part 7: signals as a doorbell */

/* Whether signal sig is blocked in pid, from /proc/PID/status SigBlk. */
static int blocked_in(pid_t pid, int sig)
{
    char buf[4096], *at;
    unsigned long long mask = 0;

    if (cx_proc(pid, "status", buf, sizeof buf) == 0 && (at = strstr(buf, "SigBlk:")))
        mask = strtoull(at + 7, NULL, 16);
    return (int)(mask >> (sig - 1) & 1);
}

static long nt_block(struct side *d, const char *what, int sig)
{
    return call(d, what, req(SX04_NT_BLOCK, 0, (uint64_t)sig, 0, 0, NULL, 0), NULL);
}

static long nt_wait(struct side *d, const char *what, int sig, long ms)
{
    return call(d, what, req(SX04_NT_WAIT, 0, (uint64_t)sig, (uint64_t)ms, 0, NULL, 0),
                NULL);
}

/* b sends sig to a, times times. */
static void ring_bell(struct side *b, struct side *a, int times)
{
    EXPECT(call(b, "kill (the test's own)", req(SX04_KILL, (uint64_t)a->s.pid, SIGUSR1,
                                                (uint64_t)times, 0, NULL, 0), NULL) == 0,
           "test setup: the sender's kill failed: %s", hx_errname(errno));
}

TEST(notify_wakes, 2, "§9")
{
    struct side a, b;

    side_start(&a, "the receiver", CX_ALONE); /* (its mask changes) */
    side_start(&b, "the sender", CX_SECOND);
    EXPECT_RET("notify_block(SIGUSR1)", nt_block(&a, "notify_block(SIGUSR1)", SIGUSR1), 0);
    EXPECT(blocked_in(a.s.pid, SIGUSR1), "after notify_block(SIGUSR1), SIGUSR1 is not in"
           " the signal mask (SigBlk in /proc/PID/status)");
    ring_bell(&b, &a, 1);
    EXPECT_RET("notify_wait(SIGUSR1, 3000 ms): the sender's pid",
               nt_wait(&a, "notify_wait(SIGUSR1, 3000 ms)", SIGUSR1, (long)(3000 * scale())),
               b.s.pid);
    start_call(&a, "notify_wait(SIGUSR1, -1): no limit", req(SX04_NT_WAIT, 0, SIGUSR1,
                                                             (uint64_t)-1, 0, NULL, 0));
    nap(0.1);
    EXPECT(!replied(&a), "notify_wait(SIGUSR1, -1) returned before any signal came: ms < 0"
           " means no limit");
    ring_bell(&b, &a, 1);
    EXPECT_RET("notify_wait(SIGUSR1, -1): the sender's pid",
               woken(&a, "notify_wait(SIGUSR1, -1)", 5 * scale(), "the signal did not wake"
                     " it", NULL), b.s.pid);
    cx_end(&b.s);
    cx_end(&a.s);
}

TEST(notify_coalesces, 2, "§9")
{
    struct side a, b;

    side_start(&a, "the receiver", CX_ALONE);
    side_start(&b, "the sender", CX_SECOND);
    EXPECT_RET("notify_block(SIGUSR1)", nt_block(&a, "notify_block(SIGUSR1)", SIGUSR1), 0);
    ring_bell(&b, &a, 3);               /* all three sent before we look */
    EXPECT_RET("notify_wait after 3 signals: the sender's pid",
               nt_wait(&a, "notify_wait(SIGUSR1, 1000 ms)", SIGUSR1, 1000), b.s.pid);
    double t0 = now();
    EXPECT_RET("a second notify_wait(SIGUSR1, 200 ms): the 3 signals merged into 1",
               nt_wait(&a, "notify_wait(SIGUSR1, 200 ms)", SIGUSR1, 200), -1);
    double took = now() - t0;
    EXPECT_ERRNO("notify_wait(SIGUSR1, 200 ms) with nothing pending", EAGAIN);
    EXPECT(took >= 0.19 && took < 2 * scale(), "notify_wait(SIGUSR1, 200 ms) gave up after"
           " %.3f s: expected 0.2 s", took);
    EXPECT_RET("notify_wait(SIGUSR1, 0 ms)", nt_wait(&a, "notify_wait(SIGUSR1, 0 ms)",
                                                     SIGUSR1, 0), -1);
    EXPECT_ERRNO("notify_wait(SIGUSR1, 0 ms) with nothing pending", EAGAIN);
    cx_end(&b.s);
    cx_end(&a.s);
}

TEST(notify_deadline, 2, "§9")
{
    struct side a;
    long ms = 800;
    double took, last;

    side_start(&a, "the receiver", CX_ALONE);
    catch_usr1(&a);
    EXPECT_RET("notify_block(SIGUSR2)", nt_block(&a, "notify_block(SIGUSR2)", SIGUSR2), 0);
    double t0 = now();
    start_call(&a, "notify_wait(SIGUSR2, 800 ms)", req(SX04_NT_WAIT, 0, SIGUSR2,
                                                       (uint64_t)ms, 0, NULL, 0));
    long k = hit_twice(&a, "notify_wait(SIGUSR2, 800 ms)", t0, ms, &took, &last);
    expect_kept_deadline("notify_wait(SIGUSR2, 800 ms), SIGUSR2 never sent", k, EAGAIN, ms,
                         took, last);
    cx_end(&a.s);
}

TEST(notify_errors, 1, "§9")
{
    struct side a;

    side_start(&a, "the process", CX_ALONE);
    EXPECT_RET("notify_block(0)", nt_block(&a, "notify_block(0)", 0), -1);
    EXPECT_ERRNO("notify_block(0)", EINVAL);
    EXPECT_RET("notify_block(1000)", nt_block(&a, "notify_block(1000)", 1000), -1);
    EXPECT_ERRNO("notify_block(1000)", EINVAL);
    EXPECT_RET("notify_wait(1000, 10)", nt_wait(&a, "notify_wait(1000, 10)", 1000, 10), -1);
    EXPECT_ERRNO("notify_wait(1000, 10)", EINVAL);
    cx_end(&a.s);
}

const struct hx_part hx_parts[] = {
    { "1. The mailbox on two semaphores (sections 1-3)",
      { &mbox_roundtrip, &mbox_try_empty, &mbox_sizes, &mbox_errors,
        &mbox_stream, &mbox_sleeps, &mbox_wakes_across_fork } },
    { "2. When a signal interrupts a wait",
      { &mbox_recv_eintr, &mbox_send_eintr, &waits_resume } },
    { "3. Waiting with a deadline",
      { &mbox_timeout, &mbox_timed_wakes, &mbox_timed_deadline } },
    { "4. A bounded buffer",
      { &ring_fifo, &ring_any_size, &ring_errors, &ring_full_blocks, &ring_slot_locked,
        &ring_mpmc } },
    { "5. Named channels for unrelated processes",
      { &chan_roundtrip, &chan_errors, &chan_create_cleans_up,
        &chan_unlink_removes } },
    { "6. The peer program", { &peer_exchange, &peer_no_channel } },
    { "7. Signals as a doorbell",
      { &notify_wakes, &notify_coalesces, &notify_deadline, &notify_errors } },
    { NULL, { NULL } },
};
