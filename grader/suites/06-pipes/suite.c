/* suite.c - Lab 06 tests: a byte channel through shared memory
 * (handouts/06-pipes.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. Each
 * test starts one subject (chan.c serving requests, grader/subject/
 * 06-pipes.c), or a writer and a reader, and drives their calls: it puts
 * the bytes to send into the writer's buffer and reads what the reader got
 * out of the reader's (process_vm_writev/readv), so that only the checker
 * knows the stream, drawn from the run's seed. Where the calls cannot
 * block it also reads the ring itself, through /dev/shm with pread (never
 * a mapping of ours, which the subject could truncate under us), where
 * the handout's layout puts each byte. A call that may block is sent
 * without waiting; the test then watches the caller from outside (asleep
 * in the kernel, its CPU time) and gives every wait a limit, after which
 * it says where the caller was stuck. Each TEST names its points and the
 * handout section that explains it; hx_parts at the end orders them as
 * the handout does.
 */
#define _DEFAULT_SOURCE
#include "cx.h"
#include "hx.h"
#include "ops.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SMALL 4096                      /* ring of most tests, bytes */
#define HDR 4096                        /* the header before the ring (§2) */
#define MIN_CAP 64                      /* chan.h's CHAN_MIN_CAPACITY */
#define MAX_CAP ((uint64_t)1 << 30)     /* chan.h's CHAN_MAX_CAPACITY */
#define READ_END 1                      /* chan.h's CHAN_READ */
#define WRITE_END 2                     /* chan.h's CHAN_WRITE */
#define IDLE_MS 200                     /* how long wait_sleeps waits */
#define IDLE_CPU_MS 60                  /* CPU a sleeping waiter may use */

const int cx_peers = 1;                 /* (cx_start_peer) */

/* ---- The stream: bytes only the checker (and the writer) know ---- */

/* Byte i of this test's stream: a shifted, lost or repeated byte shows. */
static unsigned char pat(uint64_t i)
{
    static uint64_t key;

    if (key == 0)
        key = cx_rand() | 1;
    return (unsigned char)(((i ^ key) * 0x9E3779B97F4A7C15u) >> 56);
}

static void fill(unsigned char *buf, uint64_t pos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pat(pos + i);
}

/* Index of the first byte of buf[0..n) that is not stream byte pos + i,
 * or -1. */
static long mismatch(const unsigned char *buf, uint64_t pos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pat(pos + i))
            return (long)i;
    return -1;
}

/* A size in [lo, hi] from the seed. */
static size_t rnd(size_t lo, size_t hi)
{
    return lo + (size_t)(cx_rand() % (hi - lo + 1));
}

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

/* Seconds a call that should return may take: 5, or a minute under
 * Valgrind. */
static double limit(void)
{
    return hx_memcheck() ? 60 : 5;
}

/* ---- One subject and its calls ---- */

/* A subject with its buffers' addresses. */
struct side {
    struct cx_subject s;
    uintptr_t wbuf, rbuf;               /* SX06_BUFS */
    const char *who;                    /* "the writer", for messages */
};

/* Start d: as the test's first subject, its second, or one never shared
 * with other tests (CX_ALONE: its limits change). */
static void side_start(struct side *d, const char *who, enum cx_role role)
{
    struct sx_req q = { .op = SX06_BUFS };
    struct sx_rep r;

    cx_start_as(&d->s, role);
    cx_call(&d->s, "starting", &q, &r);
    d->wbuf = r.v[0];
    d->rbuf = r.v[1];
    d->who = who;
}

/* The request for op: a0, a1, and the name (NULL: none; a[2] flags). */
static struct sx_req req(uint32_t op, uint64_t a0, uint64_t a1, const char *name)
{
    struct sx_req q = { .op = op, .a = { a0, a1, name ? 0 : SX06_NULL, 0 } };

    if (name != NULL) {
        q.len = (uint32_t)strnlen(name, SX_DATA);
        memcpy(q.data, name, q.len);
    }
    return q;
}

/* Send q to d, and wait up to limit() for the reply: a call that must not
 * block. errno is set to the subject's. Returns its value. */
#define call(d, what, q) call_at(__FILE__, __LINE__, d, what, q)
static long call_at(const char *file, int line, struct side *d, const char *what,
                    struct sx_req q)
{
    struct sx_rep r;

    cx_send_at(file, line, &d->s, what, &q);
    if (cx_poll(&d->s, limit()) == -1)
        ck_abort_msg("%s: still blocked after %.0f s: it should have returned at once",
                     what, limit());
    cx_reply_at(file, line, &d->s, &r);
    errno = r.err;
    return (long)r.ret;
}

static long ch_create(struct side *d, const char *what, const char *name, uint64_t cap)
{
    return call(d, what, req(SX06_CREATE, cap, 0, name));
}

static uintptr_t ch_open(struct side *d, const char *what, const char *name, int end)
{
    return (uintptr_t)call(d, what, req(SX06_OPEN, (uint64_t)end, 0, name));
}

static long ch_close(struct side *d, const char *what, uintptr_t h)
{
    return call(d, what, req(SX06_CLOSE, h, 0, ""));
}

static long ch_unlink(struct side *d, const char *what, const char *name)
{
    return call(d, what, req(SX06_UNLINK, 0, 0, name));
}

/* chan_write(h, bytes, n) in d: bytes put into d's buffer first. */
static long ch_write(struct side *d, const char *what, uintptr_t h, const void *bytes,
                     size_t n)
{
    EXPECT(n == 0 || cx_poke(d->s.pid, d->wbuf, bytes, n) == 0,
           "test setup: cannot fill the writer's buffer");
    return call(d, what, req(SX06_WRITE, h, n, ""));
}

/* chan_read(h, buf, n) in d; what it read is copied into out (if not NULL). */
static long ch_read(struct side *d, const char *what, uintptr_t h, size_t n, void *out)
{
    long k = call(d, what, req(SX06_READ, h, n, ""));
    int err = errno;

    if (out != NULL && k > 0)
        EXPECT((size_t)k <= n && cx_peek(d->s.pid, d->rbuf, out, (size_t)k) == 0,
               "%s: returned %ld, more than the %zu bytes asked for", what, k, n);
    errno = err;
    return k;
}

/* Create a channel for a test, and open ends; the test stops on failure. */
static void make_chan(struct side *d, const char *name, size_t cap)
{
    long rc = ch_create(d, "chan_create", name, cap);

    EXPECT(rc == 0, "chan_create(\"%s\", %zu): expected 0, got %ld (errno %s)", name,
           cap, rc, hx_errname(errno));
}

static uintptr_t open_end(struct side *d, const char *name, int end)
{
    const char *e = end == READ_END ? "CHAN_READ" : "CHAN_WRITE";
    uintptr_t h = ch_open(d, "chan_open", name, end);

    EXPECT(h != 0, "chan_open(\"%s\", %s) in %s: expected a handle, got NULL (errno %s)",
           name, e, d->who, hx_errname(errno));
    return h;
}

static void expect_closed(struct side *d, const char *what, uintptr_t h)
{
    EXPECT_INT(what, ch_close(d, what, h), 0);
}

/* Whether the side arg has replied (a cx_hold's until). */
static int has_replied(void *arg)
{
    return cx_replied(&((struct side *)arg)->s);
}

/* expect_closed while waiter sleeps in a call that the close must end.
 * The closer is held just after its first futex wake (the sem_post that
 * wakes the waiter) until the waiter has replied, or 0.5 s: a close that
 * wakes the other side before it marks its end closed lets the waiter
 * look too early and go back to sleep, with nothing left to wake it, in
 * every run. (The Valgrind pass, where nothing is held: a plain close.) */
static void expect_closed_waking(struct side *d, const char *what, uintptr_t h,
                                 struct side *waiter)
{
    struct sx_req q = req(SX06_CLOSE, h, 0, "");
    struct cx_hold hold = { .sys = SYS_futex, .arg1 = FUTEX_WAKE, .mask = FUTEX_CMD_MASK,
                            .secs = 0.5, .until = has_replied, .ctx = waiter };
    struct sx_rep r;

    if (hx_memcheck()) {
        expect_closed(d, what, h);
        return;
    }
    cx_call_held(&d->s, what, &q, &r, &hold);
    errno = r.err;
    EXPECT_INT(what, (long)r.ret, 0);
}

/* ---- What the checker sees from outside ---- */

static int exists(const char *name)
{
    char path[200];
    struct stat st;

    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    return lstat(path, &st) == 0;
}

/* How many mappings pid has of the object name (deleted or not). */
static int maps_of(pid_t pid, const char *name)
{
    char line[512], path[200];
    int n = 0, fd = cx_open(pid, "maps", O_RDONLY);
    FILE *f = fd == -1 ? NULL : fdopen(fd, "r");
    size_t len;

    if (f == NULL && fd != -1)
        close(fd);
    EXPECT(f != NULL, "test setup: cannot read /proc/%d/maps", (int)pid);
    len = (size_t)snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strstr(line, path);
        n += p != NULL && (p[len] == '\n' || p[len] == ' ');
    }
    fclose(f);
    return n;
}

/* The permissions of pid's (last) mapping of object name, into perms. */
static void map_perms(pid_t pid, const char *name, char perms[5])
{
    char line[512], path[200];
    int fd = cx_open(pid, "maps", O_RDONLY);
    FILE *f = fd == -1 ? NULL : fdopen(fd, "r");

    if (f == NULL && fd != -1)
        close(fd);
    EXPECT(f != NULL, "test setup: cannot read /proc/%d/maps", (int)pid);
    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, path) != NULL)
            sscanf(line, "%*s %4s", perms);
    fclose(f);
}

/* Read n bytes of stream at pos out of the ring of object name (capacity
 * cap, the ring at offset HDR: handout §2) into buf. Returns 0, or -1 if
 * the object is gone or shorter. */
static int ring_bytes(const char *name, size_t cap, uint64_t pos, unsigned char *buf,
                      size_t n)
{
    char path[200];
    int fd;
    size_t at = (size_t)(pos & (cap - 1)), first = n < cap - at ? n : cap - at;

    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
        return -1;
    ssize_t a = pread(fd, buf, first, (off_t)(HDR + at));
    ssize_t b = n > first ? pread(fd, buf + first, n - first, HDR) : 0;
    close(fd);
    return a == (ssize_t)first && b == (ssize_t)(n - first) ? 0 : -1;
}

/* Fail unless the ring of name holds stream bytes [pos, pos + n). */
static void expect_ring(const char *what, const char *name, size_t cap, uint64_t pos,
                        size_t n)
{
    static unsigned char buf[SX06_BUF];
    long bad;

    EXPECT(ring_bytes(name, cap, pos, buf, n) == 0, "%s: the object is too short for"
           " its ring (4096 + capacity bytes: handout §2)", what);
    bad = mismatch(buf, pos, n);
    EXPECT(bad < 0, "%s: the ring does not hold the bytes written: stream byte %llu "
           "belongs at offset %llu of the object (4096 + its index: handout §2), which "
           "holds 0x%02x, not 0x%02x", what, (unsigned long long)(pos + (size_t)bad),
           (unsigned long long)(HDR + ((pos + (size_t)bad) & (cap - 1))),
           buf[bad < 0 ? 0 : bad], pat(pos + (size_t)(bad < 0 ? 0 : bad)));
}

/* Whether pid is in its own recv, waiting for a request (not yet in the
 * call it was sent): /proc/PID/syscall, where it may be read. */
static int in_recv(pid_t pid)
{
    char buf[256];
    long nr;

    if (cx_proc(pid, "syscall", buf, sizeof buf) == -1 || sscanf(buf, "%ld", &nr) != 1)
        return 0;
    return nr == SYS_recvfrom || nr == SYS_recvmsg;
}

/* After a call was sent to d: wait until d sleeps in the kernel (state
 * S, in the call, not in its recv, with no reply) for 20 ms in a row.
 * Returns 'S' then; otherwise, after 2 s (a minute under Valgrind) or
 * once it replied, the last state seen ('R' for a caller that spins, 'r'
 * for one that replied: it did not wait). */
static char asleep(struct side *d)
{
    int quiet = 0, polls = hx_memcheck() ? 60000 : 2000;
    char st = '?';

    for (int ms = 0; ms < polls && quiet < 20; ms++) {
        pause_ms(1);
        if (cx_replied(&d->s))
            return 'r';
        st = cx_state(d->s.pid);
        quiet = st == 'S' && !in_recv(d->s.pid) ? quiet + 1 : 0;
    }
    return quiet >= 20 ? 'S' : st;
}

/* Collect the reply to the call sent to d (what) within limit(): it was
 * blocked, and must have been woken. Returns its value, errno set. */
#define woken(d, what) woken_at(__FILE__, __LINE__, d, what)
static long woken_at(const char *file, int line, struct side *d, const char *what)
{
    struct sx_rep r;

    if (cx_poll(&d->s, limit()) == -1)
        ck_abort_msg("%s was still blocked after %.0f s, in %s: nothing woke it, or it"
                     " went back to sleep", d->who, limit(), what);
    cx_reply_at(file, line, &d->s, &r);
    errno = r.err;
    return (long)r.ret;
}

/* Send a call to d that is expected to block (what names it). */
static void start_call(struct side *d, const char *what, struct sx_req q)
{
    cx_send(&d->s, what, &q);
}

/* Give the call sent to d time to go to sleep (asleep), whatever it does:
 * the test then judges what it returns. */
static void settle(struct side *d)
{
    (void)asleep(d);
}

static void expect_asleep(struct side *d, const char *what)
{
    char st = asleep(d);

    EXPECT(st != 'r', "%s returned at once in %s: it should wait", d->who, what);
    EXPECT(st == 'S', "%s never went to sleep in %s (its state stayed '%c', not 'S'):"
           " is it spinning?", d->who, what, st);
}

/* ---- Part 1: creating and opening a channel ---- */

TEST(create_open, 2, "§2")
{
    struct side d;
    char name[128], path[200];
    struct stat st;

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "create"), SMALL);
    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    EXPECT(lstat(path, &st) == 0, "after chan_create, %s: expected the object, got errno"
           " %s", path, hx_errname(errno));
    EXPECT(st.st_size >= SMALL, "size of the object for a %d-byte ring: expected at"
           " least %d bytes, got %lld", SMALL, SMALL, (long long)st.st_size);
    EXPECT_INT("permission bits of the object (0600 = 384)", st.st_mode & 0777, 0600);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    expect_closed(&d, "chan_close(writer)", w);
    expect_closed(&d, "chan_close(reader)", r);
    EXPECT_INT("chan_unlink(name)", ch_unlink(&d, "chan_unlink(name)", name), 0);
    EXPECT_INT("the object exists after chan_unlink", exists(name), 0);
    cx_end(&d.s);
}

TEST(create_errors, 2, "§2")
{
    static const size_t bad[] = { 0, 32, 1000, 4097, MAX_CAP * 2 };
    struct side d;
    char name[128], what[64];
    struct stat st;

    side_start(&d, "the process", CX_FIRST);
    cx_name(name, sizeof name, "create-errors");
    EXPECT_INT("chan_create(NULL, 4096)", ch_create(&d, "chan_create", NULL, SMALL), -1);
    EXPECT_ERRNO("chan_create(NULL, 4096)", EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(what, sizeof what, "chan_create(name, %zu)", bad[i]);
        EXPECT_INT(what, ch_create(&d, what, name, bad[i]), -1);
        EXPECT_ERRNO(what, EINVAL);
        EXPECT(!exists(name), "%s failed but left an object behind", what);
    }
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT(fd != -1 && ftruncate(fd, 100) == 0, "test setup: shm_open failed");
    close(fd);
    EXPECT_INT("chan_create over an existing object",
               ch_create(&d, "chan_create over an existing object", name, SMALL), -1);
    EXPECT_ERRNO("chan_create over an existing object", EEXIST);
    char path[200];
    snprintf(path, sizeof path, "/dev/shm/%s", name + 1);
    int there = lstat(path, &st);
    shm_unlink(name);
    EXPECT(there == 0, "chan_create over an existing object removed it");
    EXPECT_INT("size of the existing object after chan_create failed on it (it must be"
               " left alone)", st.st_size, 100);
    cx_end(&d.s);
}

TEST(create_cleanup, 2, "§2")
{
    struct side d;
    char name[128];
    const char *what = "chan_create(name, 1 MiB) with files limited to 8 KiB";

    side_start(&d, "the process", CX_ALONE);   /* (its limit stays lowered) */
    EXPECT(call(&d, "lowering the file size limit", req(SX06_FSIZE, 8192, 0, "")) == 0 &&
           cx_limit(d.s.pid, "Max file size") == 8192, "test setup: the file size limit was not set");
    int before = cx_fds(d.s.pid);
    long rc = ch_create(&d, what, cx_name(name, sizeof name, "cleanup"), 1 << 20);
    int err = errno, left = exists(name);
    shm_unlink(name);
    EXPECT(rc == -1, "%s: expected -1, got %ld", what, rc);
    errno = err;
    EXPECT_ERRNO("chan_create(name, 1 MiB) with files limited to 8 KiB (ftruncate's)",
                 EFBIG);
    EXPECT(!left, "chan_create failed after creating the object and left it in /dev/shm:"
           " shm_unlink it on the error path");
    EXPECT_INT("open descriptors after the failed chan_create", cx_fds(d.s.pid), before);
    cx_end(&d.s);
}

TEST(open_errors, 2, "§2")
{
    struct side d;
    char name[128], other[128];

    side_start(&d, "the process", CX_FIRST);
    cx_name(name, sizeof name, "open-errors");
    cx_name(other, sizeof other, "not-a-chan");
    int before = cx_fds(d.s.pid);
    EXPECT_NULL("chan_open of a name that does not exist",
                (void *)ch_open(&d, "chan_open", name, READ_END));
    EXPECT_ERRNO("chan_open of a name that does not exist", ENOENT);
    EXPECT_NULL("chan_open(NULL, CHAN_READ)", (void *)ch_open(&d, "chan_open", NULL,
                                                              READ_END));
    EXPECT_ERRNO("chan_open(NULL, CHAN_READ)", EINVAL);
    make_chan(&d, name, SMALL);
    for (int end = 0; end <= 3; end += 3) {
        EXPECT_NULL("chan_open(name, end) with end neither CHAN_READ nor CHAN_WRITE",
                    (void *)ch_open(&d, "chan_open", name, end));
        EXPECT_ERRNO("chan_open(name, end) with a bad end", EINVAL);
    }
    /* Not a channel: 0666, so that a subject of another uid may open it. */
    int fd = shm_open(other, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT(fd != -1 && fchmod(fd, 0666) == 0, "test setup: shm_open failed");
    EXPECT_NULL("chan_open of an empty object",
                (void *)ch_open(&d, "chan_open", other, READ_END));
    EXPECT_ERRNO("chan_open of an empty object (not a channel)", EINVAL);
    EXPECT(ftruncate(fd, 2 * SMALL) == 0, "test setup: ftruncate failed");
    close(fd);
    EXPECT_NULL("chan_open of 8 KiB of zeros",
                (void *)ch_open(&d, "chan_open", other, WRITE_END));
    EXPECT_ERRNO("chan_open of 8 KiB of zeros (not a channel)", EINVAL);
    shm_unlink(other);
    EXPECT_INT("open descriptors after the failed chan_opens", cx_fds(d.s.pid), before);
    EXPECT_INT("mappings of the objects after the failed chan_opens",
               maps_of(d.s.pid, name) + maps_of(d.s.pid, other), 0);
    shm_unlink(name);
    cx_end(&d.s);
}

/* Cut the object name to len bytes (the checker's own descriptor). */
static void cut_object(const char *name, off_t len)
{
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);

    EXPECT(fd != -1, "test setup: cannot open the channel: %s", hx_errname(errno));
    int rc = ftruncate(fd, len);
    close(fd);
    EXPECT(rc == 0, "test setup: cannot cut the channel: %s", hx_errname(errno));
}

TEST(open_checks_size, 2, "§2")
{
    struct side d;
    char name[128];
    struct stat st;
    static const char *const how[] = { "cut by half its ring", "cut to 24 bytes" };

    side_start(&d, "the process", CX_FIRST);
    cx_name(name, sizeof name, "cut");
    for (int i = 0; i < 2; i++) {
        make_chan(&d, name, SMALL);
        int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
        EXPECT(fd != -1 && fstat(fd, &st) == 0, "test setup: cannot stat the channel");
        close(fd);
        cut_object(name, i == 0 ? st.st_size - SMALL / 2 : 24);
        char what[160];
        snprintf(what, sizeof what, "chan_open of a channel of %d bytes %s (its bytes"
                 " say one size, the object has another)", SMALL, how[i]);
        EXPECT_NULL(what, (void *)ch_open(&d, "chan_open", name, READ_END));
        EXPECT_ERRNO(what, EINVAL);
        EXPECT_INT("mappings of the channel after the refused chan_open",
                   maps_of(d.s.pid, name), 0);
        shm_unlink(name);
    }
    cx_end(&d.s);
}

TEST(open_once, 1, "§2")
{
    struct side d;
    char name[128];

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "once"), SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    int maps = maps_of(d.s.pid, name), fds = cx_fds(d.s.pid);
    EXPECT_NULL("a second chan_open(CHAN_WRITE)",
                (void *)ch_open(&d, "chan_open", name, WRITE_END));
    EXPECT_ERRNO("a second chan_open(CHAN_WRITE)", EBUSY);
    EXPECT_NULL("a second chan_open(CHAN_READ)",
                (void *)ch_open(&d, "chan_open", name, READ_END));
    EXPECT_ERRNO("a second chan_open(CHAN_READ)", EBUSY);
    EXPECT_INT("mappings of the channel after the refused chan_opens",
               maps_of(d.s.pid, name), maps);
    EXPECT_INT("open descriptors after the refused chan_opens", cx_fds(d.s.pid), fds);
    expect_closed(&d, "chan_close(writer)", w);
    EXPECT_NULL("chan_open(CHAN_WRITE) after the writer closed",
                (void *)ch_open(&d, "chan_open", name, WRITE_END));
    EXPECT_ERRNO("chan_open(CHAN_WRITE) after the writer closed", EBUSY);
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    /* Each end once: a reader may come after the writer has gone. */
    make_chan(&d, cx_name(name, sizeof name, "late"), SMALL);
    w = open_end(&d, name, WRITE_END);
    expect_closed(&d, "chan_close(writer)", w);
    r = ch_open(&d, "chan_open(CHAN_READ) after the writer came and closed", name, READ_END);
    EXPECT(r != 0, "chan_open(CHAN_READ) of a channel whose writer has come and closed:"
           " expected a handle, got NULL (errno %s): the read end was never opened",
           hx_errname(errno));
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

/* One channel's life in d, checked from outside: create, open both ends,
 * unlink, close both. */
static void one_life(struct side *d, const char *name, int before)
{
    make_chan(d, name, SMALL);
    EXPECT_INT("open descriptors after chan_create", cx_fds(d->s.pid), before);
    EXPECT_INT("mappings of the object after chan_create", maps_of(d->s.pid, name), 0);
    uintptr_t w = open_end(d, name, WRITE_END);
    EXPECT_INT("open descriptors after chan_open (close the descriptor once mapped)",
               cx_fds(d->s.pid), before);
    EXPECT(maps_of(d->s.pid, name) > 0, "chan_open(CHAN_WRITE): the object is not"
           " mapped (no /dev/shm line for it in /proc/PID/maps)");
    uintptr_t r = open_end(d, name, READ_END);
    EXPECT_INT("chan_unlink(name)", ch_unlink(d, "chan_unlink(name)", name), 0);
    EXPECT_INT("the object exists after chan_unlink", exists(name), 0);
    expect_closed(d, "chan_close(writer)", w);
    expect_closed(d, "chan_close(reader)", r);
}

/* A step of the Valgrind pass's leak check: one channel's life. */
static void life_step(struct cx_subject *s, void *name)
{
    struct side d = { .s = *s, .who = "the process" };

    one_life(&d, name, cx_fds(s->pid));
}

TEST(no_leaks, 2, "§2")
{
    struct side d;
    char name[128], perms[5] = "";

    side_start(&d, "the process", CX_FIRST);
    cx_name(name, sizeof name, "leaks");
    int before = cx_fds(d.s.pid);
    for (long i = 0; i < hx_iters(50); i++) {
        one_life(&d, name, before);
        EXPECT_INT("mappings of the object after both chan_close", maps_of(d.s.pid, name),
                   0);
    }
    EXPECT_INT("open descriptors after the channels", cx_fds(d.s.pid), before);
    make_chan(&d, name, SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END);
    map_perms(d.s.pid, name, perms);
    EXPECT_STR("permissions of the channel's mapping", perms, "rw-s");
    expect_closed(&d, "chan_close(writer)", w);
    EXPECT_INT("chan_close(NULL)", ch_close(&d, "chan_close(NULL)", 0), -1);
    EXPECT_ERRNO("chan_close(NULL)", EINVAL);
    EXPECT_INT("chan_unlink(name)", ch_unlink(&d, "chan_unlink(name)", name), 0);
    EXPECT_INT("chan_unlink of a removed name", ch_unlink(&d, "chan_unlink", name), -1);
    EXPECT_ERRNO("chan_unlink of a removed name", ENOENT);
    EXPECT_INT("chan_unlink(NULL)", ch_unlink(&d, "chan_unlink(NULL)", NULL), -1);
    EXPECT_ERRNO("chan_unlink(NULL)", EINVAL);
    cx_end(&d.s);
    if (getenv("HX_VALGRIND"))          /* the leak points, from outside too */
        cx_expect_steady("a channel's life (create, open, unlink, close)", life_step,
                         cx_name(name, sizeof name, "steady"));
}

/* ---- Part 2: the ring ---- */

TEST(ring_roundtrip, 2, "§3")
{
    struct side d;
    char name[128];
    unsigned char in[100], out[SMALL];

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "roundtrip"), SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    fill(in, 0, sizeof in);
    EXPECT_INT("chan_write(100 bytes) into an empty ring",
               ch_write(&d, "chan_write(100)", w, in, 100), 100);
    expect_ring("after chan_write(100 bytes)", name, SMALL, 0, 100);
    EXPECT_INT("chan_read(4096) with 100 bytes in the ring",
               ch_read(&d, "chan_read(4096)", r, SMALL, out), 100);
    EXPECT(mismatch(out, 0, 100) < 0, "the 100 bytes read back differ from those written"
           " (first difference at byte %ld)", mismatch(out, 0, 100));
    EXPECT_INT("chan_write(w, buf, 0)", ch_write(&d, "chan_write(w, buf, 0)", w, in, 0), 0);
    EXPECT_INT("chan_write(3 bytes)", ch_write(&d, "chan_write(3)", w, "abc", 3), 3);
    EXPECT_INT("chan_read(r, buf, 0) (returns at once)",
               ch_read(&d, "chan_read(r, buf, 0)", r, 0, NULL), 0);
    EXPECT_INT("chan_read(2) with 3 bytes in the ring",
               ch_read(&d, "chan_read(2)", r, 2, out), 2);
    EXPECT_INT("chan_read(10) with 1 byte in the ring",
               ch_read(&d, "chan_read(10)", r, 10, out + 2), 1);
    EXPECT(memcmp(out, "abc", 3) == 0, "read back \"%.3s\", expected \"abc\"", (char *)out);
    expect_closed(&d, "chan_close(writer)", w);
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

TEST(ring_wrap, 3, "§3")
{
    struct side d;
    char name[128], what[160];
    unsigned char buf[256];
    uint64_t wpos = 0, rpos = 0;
    const size_t cap = MIN_CAP;

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "wrap"), cap);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    for (long round = 0; round < hx_iters(1000); round++) {
        size_t used = (size_t)(wpos - rpos);
        if (used < cap - 1 && (used == 0 || rnd(0, 1))) {
            size_t n = rnd(1, cap - 1 - used);          /* never full */
            fill(buf, wpos, n);
            snprintf(what, sizeof what, "round %ld: chan_write(%zu) with %zu of %zu bytes"
                     " in use (ring index %llu)", round, n, used, cap,
                     (unsigned long long)(wpos % cap));
            long k = ch_write(&d, what, w, buf, n);
            EXPECT(k == (long)n, "%s: expected %zu, got %ld (errno %s)", what, n, k,
                   hx_errname(errno));
            expect_ring(what, name, cap, wpos, n);
            wpos += n;
        } else {
            size_t n = rnd(1, sizeof buf), want = n < used ? n : used;
            snprintf(what, sizeof what, "round %ld: chan_read(%zu) with %zu bytes in the"
                     " ring from index %llu", round, n, used,
                     (unsigned long long)(rpos % cap));
            long got = ch_read(&d, what, r, n, buf);
            EXPECT(got == (long)want, "%s: expected %zu (all that fit, across the end of"
                   " the ring), got %ld", what, want, got);
            long bad = mismatch(buf, rpos, want);
            EXPECT(bad < 0, "%s: stream byte %llu (ring index %llu): expected 0x%02x, got"
                   " 0x%02x", what, (unsigned long long)(rpos + (size_t)bad),
                   (unsigned long long)((rpos + (size_t)bad) % cap),
                   pat(rpos + (size_t)bad), buf[bad < 0 ? 0 : bad]);
            rpos += want;
        }
    }
    expect_closed(&d, "chan_close(writer)", w);
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

TEST(ring_full, 2, "§3")
{
    static unsigned char buf[2 * SMALL];
    struct side d;
    char name[128], what[160];
    uint64_t pos = 0;

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "full"), SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    for (int round = 0; round < 2; round++) {
        size_t n = round == 0 ? SMALL : 100 + rnd(0, 1000);
        fill(buf, pos, n);
        snprintf(what, sizeof what, "chan_write(%zu) into an empty %d-byte ring (at index"
                 " %llu)", n, SMALL, (unsigned long long)(pos % SMALL));
        EXPECT_INT(what, ch_write(&d, what, w, buf, n), n);
        snprintf(what, sizeof what, "chan_read(%d) with %zu bytes in the ring", SMALL, n);
        EXPECT_INT(what, ch_read(&d, what, r, SMALL, buf), n);
        EXPECT(mismatch(buf, pos, n) < 0, "%s: the bytes differ from those written", what);
        pos += n;
        fill(buf, pos, SMALL);
        snprintf(what, sizeof what, "chan_write of exactly %d bytes (the capacity) into an"
                 " empty ring, at index %llu", SMALL, (unsigned long long)(pos % SMALL));
        EXPECT_INT(what, ch_write(&d, what, w, buf, SMALL), SMALL);
        expect_ring(what, name, SMALL, pos, SMALL);
        snprintf(what, sizeof what, "chan_read(%d) of a full %d-byte ring", 2 * SMALL, SMALL);
        EXPECT_INT(what, ch_read(&d, what, r, 2 * SMALL, buf), SMALL);
        long bad = mismatch(buf, pos, SMALL);
        EXPECT(bad < 0, "full ring at index %llu: stream byte %llu: expected 0x%02x, got"
               " 0x%02x", (unsigned long long)(pos % SMALL),
               (unsigned long long)(pos + (size_t)bad), pat(pos + (size_t)(bad < 0 ? 0 : bad)),
               buf[bad < 0 ? 0 : bad]);
        pos += SMALL;
    }
    expect_closed(&d, "chan_close(writer)", w);
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

TEST(wrong_end, 1, "§3")
{
    struct side d;
    char name[128];
    unsigned char buf[8];

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "ends"), SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    EXPECT_INT("chan_read on the write end", ch_read(&d, "chan_read(w)", w, 1, NULL), -1);
    EXPECT_ERRNO("chan_read on the write end", EBADF);
    EXPECT_INT("chan_write on the read end", ch_write(&d, "chan_write(r)", r, "x", 1), -1);
    EXPECT_ERRNO("chan_write on the read end", EBADF);
    EXPECT_INT("chan_write(NULL, ...)", ch_write(&d, "chan_write(NULL)", 0, "x", 1), -1);
    EXPECT_ERRNO("chan_write(NULL, ...)", EINVAL);
    EXPECT_INT("chan_read(NULL, ...)", ch_read(&d, "chan_read(NULL)", 0, 1, NULL), -1);
    EXPECT_ERRNO("chan_read(NULL, ...)", EINVAL);
    EXPECT_INT("chan_write(w, NULL, 5)",
               call(&d, "chan_write(w, NULL, 5)", req(SX06_WRITE, w, 5, NULL)), -1);
    EXPECT_ERRNO("chan_write(w, NULL, 5)", EINVAL);
    EXPECT_INT("chan_read(r, NULL, 5)",
               call(&d, "chan_read(r, NULL, 5)", req(SX06_READ, r, 5, NULL)), -1);
    EXPECT_ERRNO("chan_read(r, NULL, 5)", EINVAL);
    EXPECT_INT("chan_write(w, buf, SIZE_MAX)",
               call(&d, "chan_write(w, buf, SIZE_MAX)", req(SX06_WRITE, w, SIZE_MAX, "")), -1);
    EXPECT_ERRNO("chan_write(w, buf, SIZE_MAX) (more than SSIZE_MAX)", EINVAL);
    EXPECT_INT("chan_write(3) after the failed calls",
               ch_write(&d, "chan_write(3)", w, "xyz", 3), 3);
    EXPECT_INT("chan_read(8) after the failed calls: the 3 bytes, no more",
               ch_read(&d, "chan_read(8)", r, sizeof buf, buf), 3);
    expect_closed(&d, "chan_close(writer)", w);
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

/* ---- Part 3: blocking ---- */

/* A writer and a reader, each a subject of its own, on one channel. */
struct duo {
    struct side w, r;
    uintptr_t wh, rh;                   /* their handles */
    char name[128];
};

static void duo_start(struct duo *d, const char *tag)
{
    side_start(&d->w, "the writer", CX_FIRST);
    side_start(&d->r, "the reader", CX_SECOND);
    make_chan(&d->w, cx_name(d->name, sizeof d->name, tag), SMALL);
    d->wh = open_end(&d->w, d->name, WRITE_END);
    d->rh = open_end(&d->r, d->name, READ_END);
}

/* Close both ends (which must work), then end as duo_end. */
static void duo_close(struct duo *d)
{
    expect_closed(&d->w, "chan_close(writer)", d->wh);
    expect_closed(&d->r, "chan_close(reader)", d->rh);
}

static void duo_end(struct duo *d)
{
    shm_unlink(d->name);
    cx_end(&d->r.s);
    cx_end(&d->w.s);
}

TEST(block_empty, 2, "§4")
{
    struct duo d;
    unsigned char buf[8];

    duo_start(&d, "empty");
    start_call(&d.r, "chan_read(100) on an empty ring", req(SX06_READ, d.rh, 100, ""));
    settle(&d.r);
    EXPECT_INT("chan_write(5) while the reader waits",
               ch_write(&d.w, "chan_write(5)", d.wh, "wake!", 5), 5);
    long k = woken(&d.r, "chan_read(100) on an empty ring");
    EXPECT(k == 5 && cx_peek(d.r.s.pid, d.r.rbuf, buf, 5) == 0 && memcmp(buf, "wake!", 5)
           == 0, "chan_read(100) woken by a 5-byte write: expected 5 bytes \"wake!\", got"
           " %ld (errno %s)", k, hx_errname(errno));
    duo_close(&d);
    duo_end(&d);
}

/* A stream of total bytes from writer to reader, the checker carrying
 * each call: writes of wmin..wmax bytes, reads of rmin..rmax. If
 * writer_first, the reader starts only once the writer sleeps on a full
 * ring. Now and then a side waits a moment, so that the other one also
 * waits for it. Fails where a call returns what it must not, or stays
 * blocked for limit(). */
struct flow {
    size_t total, wmin, wmax, rmin, rmax;
    int writer_first;
};

/* The next write of the stream: its bytes into the writer's buffer. */
static void send_write(struct duo *d, uint64_t pos, size_t n, char *what, size_t size)
{
    static unsigned char buf[SX06_BUF];

    fill(buf, pos, n);
    EXPECT(cx_poke(d->w.s.pid, d->w.wbuf, buf, n) == 0, "test setup: cannot fill the"
           " writer's buffer");
    snprintf(what, size, "chan_write(%zu) at stream byte %llu", n, (unsigned long long)pos);
    start_call(&d->w, what, req(SX06_WRITE, d->wh, n, ""));
}

/* A reply from d for its call what: its value, errno set. */
static long reply_of(struct side *d)
{
    struct sx_rep r;

    cx_reply(&d->s, &r);
    errno = r.err;
    return (long)r.ret;
}

/* Check the k bytes the reader read at pos (asked n). */
static void check_read(struct duo *d, const char *what, uint64_t pos, size_t n, long k)
{
    static unsigned char buf[SX06_BUF];

    EXPECT(k > 0 && (size_t)k <= n, "%s: expected 1 to %zu, got %ld (errno %s)", what, n,
           k, hx_errname(errno));
    EXPECT(cx_peek(d->r.s.pid, d->r.rbuf, buf, (size_t)k) == 0, "test setup: cannot read"
           " the reader's buffer");
    long bad = mismatch(buf, pos, (size_t)k);
    EXPECT(bad < 0, "stream byte %llu: expected 0x%02x, got 0x%02x (lost, repeated or"
           " misplaced bytes)", (unsigned long long)(pos + (size_t)bad),
           pat(pos + (size_t)(bad < 0 ? 0 : bad)), buf[bad < 0 ? 0 : bad]);
}

static void flow(struct duo *d, const struct flow *f)
{
    char wwhat[96] = "", rwhat[96] = "";
    uint64_t wpos = 0, rpos = 0;
    size_t wn = 0, rn = 0;
    int wbusy = 0, rbusy = 0, reading = !f->writer_first;
    struct cx_subject *both[2] = { &d->w.s, &d->r.s };

    while (rpos < f->total) {
        if (!wbusy && wpos < f->total) {
            wn = rnd(f->wmin, f->wmax);
            wn = wn < f->total - wpos ? wn : f->total - wpos;
            send_write(d, wpos, wn, wwhat, sizeof wwhat);
            wbusy = 1;
        }
        if (!reading && wbusy) {        /* writer first: until it waits */
            char st = asleep(&d->w);
            if (st == 'r') {
                long k = reply_of(&d->w);
                EXPECT(k == (long)wn, "%s: expected %zu, got %ld (errno %s)", wwhat, wn,
                       k, hx_errname(errno));
                wpos += wn;
                wbusy = 0;
                reading = wpos >= f->total;     /* (it never had to wait) */
                continue;
            }
            reading = 1;                /* (asleep, or spinning: wait_sleeps) */
        }
        if (!rbusy && reading) {
            rn = rnd(f->rmin, f->rmax);
            snprintf(rwhat, sizeof rwhat, "chan_read(%zu) at stream byte %llu", rn,
                     (unsigned long long)rpos);
            start_call(&d->r, rwhat, req(SX06_READ, d->rh, rn, ""));
            rbusy = 1;
        }
        int i = cx_poll_any(both, 2, limit());
        EXPECT(i != -1, "still blocked after %.0f s: %s in %s, %s in %s: nothing woke"
               " them, or one went back to sleep", limit(), d->w.who,
               wbusy ? wwhat : "no call", d->r.who, rbusy ? rwhat : "no call");
        if (i == 0) {
            long k = reply_of(&d->w);
            EXPECT(k == (long)wn, "%s: expected %zu, got %ld (errno %s)", wwhat, wn, k,
                   hx_errname(errno));
            wpos += wn;
            wbusy = 0;
        } else {
            long k = reply_of(&d->r);
            check_read(d, rwhat, rpos, rn, k);
            rpos += (uint64_t)k;
            rbusy = 0;
        }
        if (cx_rand() % 64 == 0)
            pause_ms(1);                /* the other side waits a moment */
    }
}

/* A stream as f says through a fresh channel (tag) of a new duo. */
static void run_flow(const char *tag, const struct flow *f)
{
    struct duo d;

    duo_start(&d, tag);
    flow(&d, f);
    duo_close(&d);
    duo_end(&d);
}

TEST(block_full, 2, "§4")
{
    const struct flow f = { 3 * SMALL + 123, SMALL / 2 + 8, SMALL / 2 + 8, 1000, 1000, 1 };

    run_flow("full2", &f);
}

TEST(wait_sleeps, 2, "§4")
{
    struct duo d;
    unsigned char c = 0;
    static unsigned char buf[SMALL + 1];

    duo_start(&d, "sleeps");
    int sig = !hx_memcheck();           /* (a subject the Valgrind pass shares
                                           keeps its handlers as they were) */
    EXPECT(!sig || call(&d.r, "a SIGUSR1 handler", req(SX06_CATCH, 0, 0, "")) == 0,
           "test setup: the reader cannot catch SIGUSR1");
    start_call(&d.r, "chan_read(1) on an empty ring", req(SX06_READ, d.rh, 1, ""));
    expect_asleep(&d.r, "chan_read(1) on an empty ring");
    long cpu = (long)(cx_cpu(d.r.s.pid) * 1000);
    pause_ms(IDLE_MS);
    cpu = (long)(cx_cpu(d.r.s.pid) * 1000) - cpu;
    if (sig) {                          /* a handler without SA_RESTART runs */
        EXPECT(kill(d.r.s.pid, SIGUSR1) == 0, "test setup: kill: %s", hx_errname(errno));
        pause_ms(50);
        EXPECT(!cx_replied(&d.r.s), "chan_read(1) on an empty ring returned when a signal"
               " handler ran while it slept (sem_wait failed with EINTR): wait again, as in"
               " Lab 04");
    }
    EXPECT_INT("chan_write(1) to wake the reader",
               ch_write(&d.w, "chan_write(1)", d.wh, "z", 1), 1);
    EXPECT(woken(&d.r, "chan_read(1) on an empty ring") == 1 &&
           cx_peek(d.r.s.pid, d.r.rbuf, &c, 1) == 0 && c == 'z', "chan_read(1) woken by a"
           " 1-byte write: expected 1 byte 'z' (errno %s)", hx_errname(errno));
    EXPECT(hx_memcheck() || cpu < IDLE_CPU_MS, "the reader used %ld ms of CPU time while"
           " it waited %d ms for data: expected almost none", cpu, IDLE_MS);

    duo_close(&d);
    duo_end(&d);

    duo_start(&d, "sleeps2");           /* a fresh ring, from index 0 */
    fill(buf, 0, sizeof buf);
    EXPECT(cx_poke(d.w.s.pid, d.w.wbuf, buf, sizeof buf) == 0, "test setup: cannot fill"
           " the writer's buffer");
    start_call(&d.w, "chan_write(4097) into an empty 4096-byte ring",
               req(SX06_WRITE, d.wh, sizeof buf, ""));
    expect_asleep(&d.w, "chan_write(4097) into an empty 4096-byte ring");
    cpu = (long)(cx_cpu(d.w.s.pid) * 1000);
    pause_ms(IDLE_MS);
    cpu = (long)(cx_cpu(d.w.s.pid) * 1000) - cpu;
    EXPECT_INT("chan_read of the full ring", ch_read(&d.r, "chan_read(4096)", d.rh, SMALL,
                                                     NULL), SMALL);
    EXPECT_INT("chan_write(4097) once the reader made room",
               woken(&d.w, "chan_write(4097) into an empty 4096-byte ring"), SMALL + 1);
    EXPECT(hx_memcheck() || cpu < IDLE_CPU_MS, "the writer used %ld ms of CPU time while"
           " it waited %d ms for room: expected almost none", cpu, IDLE_MS);
    EXPECT_INT("chan_read of the last byte", ch_read(&d.r, "chan_read", d.rh, SMALL, NULL),
               1);
    duo_close(&d);
    duo_end(&d);
}

TEST(big_write, 2, "§4")
{
    const struct flow f = { 10 * SMALL + 77, 10 * SMALL + 77, 10 * SMALL + 77, 3 * SMALL,
                            3 * SMALL, 1 };

    run_flow("big", &f);
}

TEST(stream_random, 4, "§4")
{
    const struct flow f = { (size_t)hx_iters(2 << 20), 1, 3 * SMALL, 1, 2 * SMALL, 0 };

    run_flow("stream", &f);
}

/* ---- Part 4: end of stream and a closed reader ---- */

TEST(eof_after_data, 2, "§5")
{
    struct side d;
    char name[128];
    unsigned char buf[16];

    side_start(&d, "the process", CX_FIRST);
    make_chan(&d, cx_name(name, sizeof name, "eof"), SMALL);
    uintptr_t w = open_end(&d, name, WRITE_END), r = open_end(&d, name, READ_END);
    EXPECT_INT("chan_write(10)", ch_write(&d, "chan_write(10)", w, "0123456789", 10), 10);
    expect_closed(&d, "chan_close(writer)", w);
    const char *what = "chan_read(100) with 10 bytes left by a closed writer";
    EXPECT_INT(what, ch_read(&d, what, r, 100, buf), 10);
    EXPECT(memcmp(buf, "0123456789", 10) == 0, "%s: the bytes differ from those written",
           what);
    for (int i = 0; i < 2; i++) {
        char w2[96];
        snprintf(w2, sizeof w2, "chan_read(100) #%d after the last byte (the writer has"
                 " closed)", i + 1);
        EXPECT_INT(w2, ch_read(&d, w2, r, 100, NULL), 0);
    }
    expect_closed(&d, "chan_close(reader)", r);
    shm_unlink(name);
    cx_end(&d.s);
}

TEST(eof_wakes, 2, "§5")
{
    struct duo d;
    const char *what = "chan_read(16) on an empty ring, before the writer's close";

    duo_start(&d, "eof-wakes");
    start_call(&d.r, what, req(SX06_READ, d.rh, 16, ""));
    settle(&d.r);
    expect_closed_waking(&d.w, "chan_close(writer) while the reader waits", d.wh, &d.r);
    long k = woken(&d.r, what);
    EXPECT(k == 0, "chan_read woken by the writer's close: expected 0 (end of stream),"
           " got %ld (errno %s)", k, hx_errname(errno));
    expect_closed(&d.r, "chan_close(reader)", d.rh);
    duo_end(&d);
}

TEST(epipe, 2, "§5")
{
    struct side s;
    struct duo d;
    char name[128];
    const char *what = "chan_write(4196) into an empty 4096-byte ring whose reader closes";

    side_start(&s, "the process", CX_FIRST);
    make_chan(&s, cx_name(name, sizeof name, "epipe1"), SMALL);
    uintptr_t w = open_end(&s, name, WRITE_END), r = open_end(&s, name, READ_END);
    expect_closed(&s, "chan_close(reader)", r);
    EXPECT_INT("chan_write(1) after the reader closed",
               ch_write(&s, "chan_write(1)", w, "x", 1), -1);
    EXPECT_ERRNO("chan_write(1) after the reader closed", EPIPE);
    expect_closed(&s, "chan_close(writer)", w);
    shm_unlink(name);
    cx_end(&s.s);

    duo_start(&d, "epipe2");
    start_call(&d.w, what, req(SX06_WRITE, d.wh, SMALL + 100, ""));
    settle(&d.w);
    expect_closed_waking(&d.r, "chan_close(reader) while the writer waits", d.rh, &d.w);
    long k = woken(&d.w, what);
    EXPECT(k == -1 && errno == EPIPE, "chan_write blocked on a full ring when the reader"
           " closed: expected -1 with errno EPIPE, got %ld (errno %s)", k, hx_errname(errno));
    expect_closed(&d.w, "chan_close(writer)", d.wh);
    duo_end(&d);
}

const struct hx_part hx_parts[] = {
    { "1. Creating and opening a channel",
      { &create_open, &create_errors, &create_cleanup, &open_errors, &open_checks_size,
        &open_once, &no_leaks } },
    { "2. The ring", { &ring_roundtrip, &ring_wrap, &ring_full, &wrong_end } },
    { "3. Blocking",
      { &block_empty, &block_full, &wait_sleeps, &big_write, &stream_random } },
    { "4. End of stream and a closed reader",
      { &eof_after_data, &eof_wakes, &epipe } },
    { NULL, { NULL } },
};
