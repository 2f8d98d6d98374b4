/* suite.c - Lab 06 tests: a byte channel through shared memory
 * (handouts/06-pipes.md).
 *
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 *
 * Whatever could block for ever in a buggy channel runs in a child process
 * with an alarm: a child that is still blocked when it rings dies of
 * SIGALRM, and the test says where it was stuck (struct side, in shared
 * memory, holds what each child is doing and what went wrong). The test
 * process itself only makes calls that return at once even in a broken
 * channel, and collects the children before it asserts anything.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "chan.h"

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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SMALL 4096                      /* ring of most tests, bytes */
#define OK 42                           /* a child's "all went well" */

/* What one child process is doing, in memory shared with the test
 * process. The child writes the strings and cpu_us; the test reads them
 * only once the child has ended. */
struct side {
    _Atomic int stage;                  /* count of say() calls: bumped by
                                         * the child before a call that may
                                         * block */
    _Atomic int go;                     /* 1: start now; set by the test */
    char doing[160];                    /* the call it is in (for a hang) */
    char failed[256];                   /* what went wrong, or "" */
    long cpu_us;                        /* CPU time of one wait, us */
};

/* The children of one test (a MAP_SHARED page). */
struct duo {
    struct side w;                      /* the writing child's report */
    struct side r;                      /* the reading child's report */
    char name[128];                     /* the channel's name; set before
                                         * the children start */
};

/* Seconds a child may take before its alarm ends it: 5, scaled like the
 * per-test time limits by CK_TIMEOUT_MULTIPLIER; a minute under Valgrind. */
static unsigned child_secs(void)
{
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    int scale = m != NULL && atoi(m) > 1 ? atoi(m) : 1;

    return hx_memcheck() ? 60 : 5 * (unsigned)scale;
}

/* Byte `i` of every test stream: a shifted, lost or repeated byte shows. */
static unsigned char pat(uint64_t i)
{
    return (unsigned char)((i * 0x9E3779B97F4A7C15u) >> 56);
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

/* A small xorshift generator: the same "random" sizes on every run. */
static size_t rnd(uint64_t *s, size_t lo, size_t hi)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return lo + (size_t)(*s % (hi - lo + 1));
}

/* Set *s's doing line (and bump its stage) before a call that may block. */
static void say(struct side *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->doing, sizeof s->doing, fmt, ap);
    va_end(ap);
    atomic_fetch_add(&s->stage, 1);
}

/* Record what went wrong in a child. Returns 1: "return flunk(...)". */
static int flunk(struct side *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->failed, sizeof s->failed, fmt, ap);
    va_end(ap);
    return 1;
}

/* A MAP_SHARED page for the children's reports, with a fresh channel
 * name for `tag`; the object is removed first if a past run left it. */
static struct duo *duo_new(const char *tag)
{
    struct duo *d = mmap(NULL, sizeof *d, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(d != MAP_FAILED, "test setup: mmap failed");
    hx_shm_name(d->name, sizeof d->name, tag);
    shm_unlink(d->name);
    return d;
}

static void duo_free(struct duo *d)
{
    shm_unlink(d->name);
    munmap(d, sizeof *d);
}

/* The handle the test process holds while a child runs, if any. Under
 * Valgrind every process's exit runs a leak check, and a forked child
 * would report a handle that only the test's registers point to as
 * lost: from here it is reachable. reap() clears it. */
static struct chan *volatile held;

/* Fork a child that runs fn(d) under an alarm and exits with its result;
 * `keep` is the handle the test process holds meanwhile, or NULL. */
static pid_t start(int (*fn)(struct duo *), struct duo *d, struct chan *keep)
{
    pid_t pid;

    held = keep;
    fflush(NULL);
    pid = fork();
    EXPECT(pid != -1, "test setup: fork failed");
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);       /* not Check's handler: it would
                                         * kill the test process too */
        alarm(child_secs());
        _exit(fn(d) & 0xff);
    }
    return pid;
}

/* Wait for a child; returns its raw wait status (or -1). */
static int reap(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -1;
    held = NULL;
    return st;
}

/* Fail unless the child `who` with wait status st (reports in s) exited OK. */
static void expect_child(const char *who, int st, const struct side *s)
{
    EXPECT(st != -1, "test setup: waitpid failed");
    EXPECT(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM),
           "the %s was still blocked after %u s, in %s: nothing woke it, or "
           "it went back to sleep", who, child_secs(),
           s->doing[0] ? s->doing : "its start");
    EXPECT(!WIFSIGNALED(st), "the %s was killed by signal %d (%s) in %s", who,
           WIFSIGNALED(st) ? WTERMSIG(st) : 0,
           strsignal(WIFSIGNALED(st) ? WTERMSIG(st) : 0), s->doing);
    EXPECT(WEXITSTATUS(st) == OK || s->failed[0] == '\0', "the %s: %s", who,
           s->failed);
    EXPECT(!hx_memcheck() || WEXITSTATUS(st) != 99, "the %s ended with status"
           " 99: Valgrind found a memory error or a leak in it (children's "
           "reports are not kept: run this test under valgrind by hand)", who);
    EXPECT_INT("the child's exit status (42: all went well; did the code "
               "under test call exit()?)", WEXITSTATUS(st), OK);
}

/* Fail unless writer and reader (wait statuses ws and rs) exited OK. A
 * child that says what went wrong is reported before one that may only
 * have been stuck waiting for it. */
static void expect_pair(const struct duo *d, int ws, int rs)
{
    if (d->r.failed[0] != '\0')
        expect_child("reader", rs, &d->r);
    expect_child("writer", ws, &d->w);
    expect_child("reader", rs, &d->r);
}

/* The scheduler state of process pid ('R', 'S', ...), or '?'. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512], st = '?';
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "r")) == NULL)
        return '?';
    if (fgets(buf, sizeof buf, f) != NULL && strrchr(buf, ')') != NULL)
        sscanf(strrchr(buf, ')') + 1, " %c", &st);
    fclose(f);
    return st;
}

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

/* Wait until child pid has reached stage `stage` of s and sleeps in the
 * kernel (state S) for 20 ms in a row. Returns 'S' then; otherwise,
 * after 2 s (a minute under Valgrind) or once the child has ended,
 * the last state seen: 'R' for a child that spins. */
static char asleep(pid_t pid, struct side *s, int stage)
{
    int limit = hx_memcheck() ? 60000 : 2000, quiet = 0;
    char st = '?';

    for (int ms = 0; ms < limit && quiet < 20; ms++) {
        pause_ms(1);
        st = proc_state(pid);
        if (st == 'Z' || st == '?')
            break;
        quiet = atomic_load(&s->stage) >= stage && st == 'S' ? quiet + 1 : 0;
    }
    return quiet >= 20 ? 'S' : st;
}

/* Wait (in a child) until the test says go. */
static void await_go(struct side *s)
{
    while (!atomic_load(&s->go))
        pause_ms(1);
}

/* How many of this process's mappings are of the object `name`. */
static int maps_of(const char *name)
{
    char line[512];
    size_t len = strlen(name);
    int n = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    EXPECT(f != NULL, "test setup: cannot read /proc/self/maps");
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strstr(line, name);
        n += p != NULL && p > line && p[-1] == 'm' &&  /* "/dev/shm/..." */
             (p[len] == '\n' || p[len] == ' ');
    }
    fclose(f);
    return n;
}

/* Copy the permissions of a mapping of the object `name` ("rw-s") into
 * perms, or leave it alone if there is none. */
static void map_perms(const char *name, char perms[5])
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");

    EXPECT(f != NULL, "test setup: cannot read /proc/self/maps");
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, name) != NULL)
            sscanf(line, "%*s %4s", perms);
    fclose(f);
}

/* Whether a shared-memory object `name` exists. */
static int exists(const char *name)
{
    int fd = shm_open(name, O_RDONLY, 0);

    if (fd == -1)
        return 0;
    close(fd);
    return 1;
}

/* Create a channel for a test; the test stops if chan_create fails. */
static void make_chan(const char *name, size_t cap)
{
    errno = 0;
    EXPECT(chan_create(name, cap) == 0, "chan_create(\"%s\", %zu): expected "
           "0, got -1 (errno %s)", name, cap, hx_errname(errno));
}

static struct chan *open_end(const char *name, int end)
{
    struct chan *ch;

    errno = 0;
    ch = chan_open(name, end);
    EXPECT(ch != NULL, "chan_open(\"%s\", %s): expected a handle, got NULL "
           "(errno %s)", name, end == CHAN_READ ? "CHAN_READ" : "CHAN_WRITE",
           hx_errname(errno));
    return ch;
}

/* In a child: read exactly n bytes of stream from position pos into buf,
 * in reads of at most max bytes. Returns 0, or fails with a message. */
static int read_exactly(struct side *s, struct chan *r, unsigned char *buf,
                        uint64_t pos, size_t n, size_t max)
{
    for (size_t got = 0; got < n;) {
        size_t want = n - got < max ? n - got : max;
        say(s, "chan_read(%zu) at stream byte %llu", want,
            (unsigned long long)(pos + got));
        ssize_t k = chan_read(r, buf, want);
        if (k <= 0 || (size_t)k > want)
            return flunk(s, "chan_read(%zu) at stream byte %llu: expected 1 "
                         "to %zu, got %zd (errno %s)", want,
                         (unsigned long long)(pos + got), want, k,
                         hx_errname(errno));
        long bad = mismatch(buf, pos + got, (size_t)k);
        if (bad >= 0)
            return flunk(s, "stream byte %llu: expected 0x%02x, got 0x%02x "
                         "(lost, repeated or misplaced bytes)",
                         (unsigned long long)(pos + got + (size_t)bad),
                         pat(pos + got + (size_t)bad), buf[bad]);
        got += (size_t)k;
    }
    return 0;
}

/* Part 1: creating and opening a channel */

TEST(create_open, 2, "§2")
{
    char name[128];
    struct stat st;
    int fd;

    hx_shm_name(name, sizeof name, "create");
    shm_unlink(name);
    make_chan(name, SMALL);
    fd = shm_open(name, O_RDONLY, 0);
    EXPECT(fd != -1, "after chan_create, shm_open(\"%s\"): expected the "
           "object, got errno %s", name, hx_errname(errno));
    EXPECT(fstat(fd, &st) == 0, "test setup: fstat failed");
    close(fd);
    EXPECT(st.st_size >= SMALL, "size of the object for a %d-byte ring: "
           "expected at least %d bytes, got %lld", SMALL, SMALL,
           (long long)st.st_size);
    EXPECT_INT("permission bits of the object (0600 = 384)",
               st.st_mode & 0777, 0600);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    EXPECT_INT("chan_unlink(name)", chan_unlink(name), 0);
    EXPECT_INT("the object exists after chan_unlink", exists(name), 0);
}

TEST(create_errors, 2, "§2")
{
    static const size_t bad[] = { 0, 32, 1000, 4097, CHAN_MAX_CAPACITY * 2 };
    char name[128];
    struct stat st;

    hx_shm_name(name, sizeof name, "create-errors");
    shm_unlink(name);
    errno = 0;
    EXPECT_INT("chan_create(NULL, 4096)", chan_create(NULL, SMALL), -1);
    EXPECT_ERRNO("chan_create(NULL, 4096)", EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "chan_create(name, %zu)", bad[i]);
        errno = 0;
        EXPECT_INT(what, chan_create(name, bad[i]), -1);
        EXPECT_ERRNO(what, EINVAL);
        EXPECT(!exists(name), "%s failed but left an object behind", what);
    }
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT(fd != -1 && ftruncate(fd, 100) == 0, "test setup: shm_open failed");
    errno = 0;
    EXPECT_INT("chan_create over an existing object",
               chan_create(name, SMALL), -1);
    EXPECT_ERRNO("chan_create over an existing object", EEXIST);
    EXPECT(fstat(fd, &st) == 0, "test setup: fstat failed");
    close(fd);
    shm_unlink(name);
    EXPECT_INT("size of the existing object after chan_create failed on it "
               "(it must be left alone)", st.st_size, 100);
}

/* In a child whose files may not grow past 8 KiB: chan_create of a 1 MiB
 * ring must fail in ftruncate (EFBIG) and leave nothing behind. */
static int create_too_big(struct duo *d)
{
    struct rlimit lim = { 8192, 8192 };
    int before;

    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
        setrlimit(RLIMIT_FSIZE, &lim) == -1)
        return flunk(&d->w, "test setup: setrlimit failed");
    before = hx_fd_count();
    errno = 0;
    say(&d->w, "chan_create(name, 1 MiB) with files limited to 8 KiB");
    if (chan_create(d->name, 1 << 20) != -1)
        return flunk(&d->w, "chan_create(name, 1 MiB) with files limited to "
                     "8 KiB: expected -1, got 0");
    if (errno != EFBIG)
        return flunk(&d->w, "chan_create(name, 1 MiB) with files limited to "
                     "8 KiB: expected errno EFBIG (ftruncate's), got %s",
                     hx_errname(errno));
    if (exists(d->name))
        return flunk(&d->w, "chan_create failed after creating the object and "
                     "left it in /dev/shm: shm_unlink it on the error path");
    if (hx_fd_count() != before)
        return flunk(&d->w, "open descriptors after the failed chan_create: "
                     "expected %d, got %d", before, hx_fd_count());
    return OK;
}

TEST(create_cleanup, 2, "§2")
{
    struct duo *d = duo_new("cleanup");
    int st = reap(start(create_too_big, d, NULL));

    expect_child("child calling chan_create", st, &d->w);
    duo_free(d);
}

TEST(open_errors, 2, "§2")
{
    char name[128], other[128];
    int before, fd;

    hx_shm_name(name, sizeof name, "open-errors");
    hx_shm_name(other, sizeof other, "not-a-chan");
    shm_unlink(name);
    shm_unlink(other);
    before = hx_fd_count();
    errno = 0;
    EXPECT_NULL("chan_open of a name that does not exist",
                chan_open(name, CHAN_READ));
    EXPECT_ERRNO("chan_open of a name that does not exist", ENOENT);
    errno = 0;
    EXPECT_NULL("chan_open(NULL, CHAN_READ)", chan_open(NULL, CHAN_READ));
    EXPECT_ERRNO("chan_open(NULL, CHAN_READ)", EINVAL);
    make_chan(name, SMALL);
    for (int end = 0; end <= 3; end += 3) {
        errno = 0;
        EXPECT_NULL("chan_open(name, end) with end neither CHAN_READ nor "
                    "CHAN_WRITE", chan_open(name, end));
        EXPECT_ERRNO("chan_open(name, end) with a bad end", EINVAL);
    }
    fd = shm_open(other, O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT(fd != -1, "test setup: shm_open failed");
    errno = 0;
    EXPECT_NULL("chan_open of an empty object", chan_open(other, CHAN_READ));
    EXPECT_ERRNO("chan_open of an empty object (not a channel)", EINVAL);
    EXPECT(ftruncate(fd, 2 * SMALL) == 0, "test setup: ftruncate failed");
    close(fd);
    errno = 0;
    EXPECT_NULL("chan_open of 8 KiB of zeros", chan_open(other, CHAN_WRITE));
    EXPECT_ERRNO("chan_open of 8 KiB of zeros (not a channel)", EINVAL);
    shm_unlink(other);
    EXPECT_INT("open descriptors after the failed chan_opens", hx_fd_count(),
               before);
    EXPECT_INT("mappings of the objects after the failed chan_opens",
               maps_of(name) + maps_of(other), 0);
    shm_unlink(name);
}

TEST(open_once, 1, "§2")
{
    char name[128];

    hx_shm_name(name, sizeof name, "once");
    shm_unlink(name);
    make_chan(name, SMALL);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    int maps = maps_of(name), fds = hx_fd_count();
    errno = 0;
    EXPECT_NULL("a second chan_open(CHAN_WRITE)", chan_open(name, CHAN_WRITE));
    EXPECT_ERRNO("a second chan_open(CHAN_WRITE)", EBUSY);
    errno = 0;
    EXPECT_NULL("a second chan_open(CHAN_READ)", chan_open(name, CHAN_READ));
    EXPECT_ERRNO("a second chan_open(CHAN_READ)", EBUSY);
    EXPECT_INT("mappings of the channel after the refused chan_opens",
               maps_of(name), maps);
    EXPECT_INT("open descriptors after the refused chan_opens", hx_fd_count(),
               fds);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    errno = 0;
    EXPECT_NULL("chan_open(CHAN_WRITE) after the writer closed",
                chan_open(name, CHAN_WRITE));
    EXPECT_ERRNO("chan_open(CHAN_WRITE) after the writer closed", EBUSY);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    shm_unlink(name);
}

TEST(no_leaks, 2, "§2")
{
    char name[128], perms[5] = "";
    int before = hx_fd_count();

    hx_shm_name(name, sizeof name, "leaks");
    shm_unlink(name);
    for (long i = 0; i < hx_iters(50); i++) {
        make_chan(name, SMALL);
        EXPECT_INT("open descriptors after chan_create", hx_fd_count(), before);
        EXPECT_INT("mappings of the object after chan_create", maps_of(name), 0);
        struct chan *w = open_end(name, CHAN_WRITE);
        EXPECT_INT("open descriptors after chan_open (close the descriptor "
                   "once mapped)", hx_fd_count(), before);
        EXPECT(maps_of(name) > 0, "chan_open(CHAN_WRITE): the object is not "
               "mapped (no /dev/shm line for it in /proc/self/maps)");
        struct chan *r = open_end(name, CHAN_READ);
        EXPECT_INT("chan_unlink(name)", chan_unlink(name), 0);
        EXPECT_INT("the object exists after chan_unlink", exists(name), 0);
        EXPECT_INT("chan_close(writer)", chan_close(w), 0);
        EXPECT_INT("chan_close(reader)", chan_close(r), 0);
        EXPECT_INT("mappings of the object after both chan_close",
                   maps_of(name), 0);
    }
    EXPECT(hx_fd_count() == before, "open descriptors after %ld channels: "
           "expected %d, got %d", hx_iters(50), before, hx_fd_count());
    make_chan(name, SMALL);
    struct chan *w = open_end(name, CHAN_WRITE);
    map_perms(name, perms);
    EXPECT_STR("permissions of the channel's mapping", perms, "rw-s");
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    errno = 0;
    EXPECT_INT("chan_close(NULL)", chan_close(NULL), -1);
    EXPECT_ERRNO("chan_close(NULL)", EINVAL);
    EXPECT_INT("chan_unlink(name)", chan_unlink(name), 0);
    errno = 0;
    EXPECT_INT("chan_unlink of a removed name", chan_unlink(name), -1);
    EXPECT_ERRNO("chan_unlink of a removed name", ENOENT);
    errno = 0;
    EXPECT_INT("chan_unlink(NULL)", chan_unlink(NULL), -1);
    EXPECT_ERRNO("chan_unlink(NULL)", EINVAL);
}

/* Part 2: the ring */

TEST(ring_roundtrip, 2, "§3")
{
    char name[128];
    unsigned char in[SMALL], out[SMALL];

    hx_shm_name(name, sizeof name, "roundtrip");
    shm_unlink(name);
    make_chan(name, SMALL);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    fill(in, 0, 100);
    EXPECT_INT("chan_write(100 bytes) into an empty ring", chan_write(w, in, 100),
               100);
    memset(out, 0, sizeof out);
    EXPECT_INT("chan_read(4096) with 100 bytes in the ring",
               chan_read(r, out, sizeof out), 100);
    EXPECT(memcmp(in, out, 100) == 0, "the 100 bytes read back differ from "
           "those written (first difference at byte %ld)",
           mismatch(out, 0, 100));
    EXPECT_INT("chan_write(w, buf, 0)", chan_write(w, in, 0), 0);
    EXPECT_INT("chan_write(3 bytes)", chan_write(w, "abc", 3), 3);
    EXPECT_INT("chan_read(r, buf, 0) (returns at once)",
               chan_read(r, out, 0), 0);
    EXPECT_INT("chan_read(2) with 3 bytes in the ring",
               chan_read(r, out, 2), 2);
    EXPECT_INT("chan_read(10) with 1 byte in the ring",
               chan_read(r, out + 2, 10), 1);
    EXPECT(memcmp(out, "abc", 3) == 0, "read back \"%.3s\", expected \"abc\"",
           (char *)out);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    shm_unlink(name);
}

TEST(ring_wrap, 3, "§3")
{
    char name[128];
    unsigned char buf[256];
    uint64_t seed = 0x6a09e667f3bcc908u, wpos = 0, rpos = 0;
    const size_t cap = CHAN_MIN_CAPACITY;

    hx_shm_name(name, sizeof name, "wrap");
    shm_unlink(name);
    make_chan(name, cap);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    for (long round = 0; round < hx_iters(5000); round++) {
        size_t used = (size_t)(wpos - rpos);
        if (used < cap - 1 && (used == 0 || rnd(&seed, 0, 1))) {
            size_t n = rnd(&seed, 1, cap - 1 - used);    /* never full */
            fill(buf, wpos, n);
            EXPECT(chan_write(w, buf, n) == (ssize_t)n, "round %ld: chan_write"
                   "(%zu) with %zu of %zu bytes in use (ring index %llu): "
                   "expected %zu (errno %s)", round, n, used, cap,
                   (unsigned long long)(wpos % cap), n, hx_errname(errno));
            wpos += n;
        } else {
            size_t n = rnd(&seed, 1, sizeof buf), want = n < used ? n : used;
            ssize_t got = chan_read(r, buf, n);
            EXPECT(got == (ssize_t)want, "round %ld: chan_read(%zu) with %zu "
                   "bytes in the ring from index %llu: expected %zu (all that "
                   "fit, across the end of the ring), got %zd", round, n, used,
                   (unsigned long long)(rpos % cap), want, got);
            long bad = mismatch(buf, rpos, want);
            EXPECT(bad < 0, "round %ld: stream byte %llu (ring index %llu): "
                   "expected 0x%02x, got 0x%02x", round,
                   (unsigned long long)(rpos + (size_t)bad),
                   (unsigned long long)((rpos + (size_t)bad) % cap),
                   pat(rpos + (size_t)bad), buf[bad < 0 ? 0 : bad]);
            rpos += want;
        }
    }
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    shm_unlink(name);
}

/* In a child holding both ends of a 4096-byte ring: fill it exactly, twice
 * (the second time across the end of the ring). */
static int fill_exactly(struct duo *d)
{
    static unsigned char buf[SMALL];
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    struct chan *r = chan_open(d->name, CHAN_READ);
    uint64_t pos = 0;
    ssize_t k;

    if (w == NULL || r == NULL)
        return flunk(&d->w, "chan_open failed (errno %s)", hx_errname(errno));
    for (int round = 0; round < 2; round++) {
        size_t n = round == 0 ? SMALL : 100;
        fill(buf, pos, n);
        say(&d->w, "chan_write of %zu bytes into an empty %d-byte ring "
            "(at index %llu)", n, SMALL, (unsigned long long)(pos % SMALL));
        if ((k = chan_write(w, buf, n)) != (ssize_t)n)
            return flunk(&d->w, "chan_write(%zu) into an empty ring: expected "
                         "%zu, got %zd (errno %s)", n, n, k, hx_errname(errno));
        if (read_exactly(&d->w, r, buf, pos, n, SMALL) != 0)
            return 1;
        pos += n;
        fill(buf, pos, SMALL);
        say(&d->w, "chan_write of exactly %d bytes (the capacity) into an "
            "empty ring, at index %llu", SMALL,
            (unsigned long long)(pos % SMALL));
        if ((k = chan_write(w, buf, SMALL)) != SMALL)
            return flunk(&d->w, "chan_write(capacity) into an empty ring: "
                         "expected %d, got %zd (errno %s)", SMALL, k,
                         hx_errname(errno));
        say(&d->w, "chan_read(%d) of a full ring", 2 * SMALL);
        static unsigned char out[2 * SMALL];
        if ((k = chan_read(r, out, sizeof out)) != SMALL)
            return flunk(&d->w, "chan_read(%d) of a full %d-byte ring: expected"
                         " %d, got %zd", 2 * SMALL, SMALL, SMALL, k);
        long bad = mismatch(out, pos, SMALL);
        if (bad >= 0)
            return flunk(&d->w, "full ring at index %llu: stream byte %llu: "
                         "expected 0x%02x, got 0x%02x",
                         (unsigned long long)(pos % SMALL),
                         (unsigned long long)(pos + (size_t)bad),
                         pat(pos + (size_t)bad), out[bad]);
        pos += SMALL;
    }
    if (chan_close(w) != 0 || chan_close(r) != 0)
        return flunk(&d->w, "chan_close failed");
    return OK;
}

TEST(ring_full, 2, "§3")
{
    struct duo *d = duo_new("full");

    make_chan(d->name, SMALL);
    int st = reap(start(fill_exactly, d, NULL));
    expect_child("process filling the ring", st, &d->w);
    duo_free(d);
}

TEST(wrong_end, 1, "§3")
{
    char name[128], buf[8];

    hx_shm_name(name, sizeof name, "ends");
    shm_unlink(name);
    make_chan(name, SMALL);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    errno = 0;
    EXPECT_INT("chan_read on the write end", chan_read(w, buf, 1), -1);
    EXPECT_ERRNO("chan_read on the write end", EBADF);
    errno = 0;
    EXPECT_INT("chan_write on the read end", chan_write(r, "x", 1), -1);
    EXPECT_ERRNO("chan_write on the read end", EBADF);
    errno = 0;
    EXPECT_INT("chan_write(NULL, ...)", chan_write(NULL, "x", 1), -1);
    EXPECT_ERRNO("chan_write(NULL, ...)", EINVAL);
    errno = 0;
    EXPECT_INT("chan_read(NULL, ...)", chan_read(NULL, buf, 1), -1);
    EXPECT_ERRNO("chan_read(NULL, ...)", EINVAL);
    errno = 0;
    EXPECT_INT("chan_write(w, NULL, 5)", chan_write(w, NULL, 5), -1);
    EXPECT_ERRNO("chan_write(w, NULL, 5)", EINVAL);
    errno = 0;
    EXPECT_INT("chan_read(r, NULL, 5)", chan_read(r, NULL, 5), -1);
    EXPECT_ERRNO("chan_read(r, NULL, 5)", EINVAL);
    errno = 0;
    EXPECT_INT("chan_write(w, buf, SIZE_MAX)", chan_write(w, buf, SIZE_MAX), -1);
    EXPECT_ERRNO("chan_write(w, buf, SIZE_MAX) (more than SSIZE_MAX)", EINVAL);
    EXPECT_INT("chan_write(3) after the failed calls",
               chan_write(w, "xyz", 3), 3);
    EXPECT_INT("chan_read(8) after the failed calls: the 3 bytes, no more",
               chan_read(r, buf, sizeof buf), 3);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    shm_unlink(name);
}

/* Part 3: blocking */

/* Reader: one chan_read on an empty ring; expects "wake!". */
static int read_wake(struct duo *d)
{
    struct chan *r = chan_open(d->name, CHAN_READ);
    char buf[100] = "";
    ssize_t k;

    if (r == NULL)
        return flunk(&d->r, "chan_open(CHAN_READ) failed (errno %s)",
                     hx_errname(errno));
    say(&d->r, "chan_read(100) on an empty ring");
    k = chan_read(r, buf, sizeof buf);
    if (k != 5 || memcmp(buf, "wake!", 5) != 0)
        return flunk(&d->r, "chan_read(100) woken by a 5-byte write: expected 5"
                     " bytes \"wake!\", got %zd (\"%.5s\", errno %s)", k, buf,
                     hx_errname(errno));
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

TEST(block_empty, 2, "§4")
{
    struct duo *d = duo_new("empty");

    make_chan(d->name, SMALL);
    struct chan *w = open_end(d->name, CHAN_WRITE);
    pid_t pid = start(read_wake, d, w);
    asleep(pid, &d->r, 1);
    ssize_t k = chan_write(w, "wake!", 5);
    int st = reap(pid);
    EXPECT_INT("chan_write(5) while the reader waits", k, 5);
    expect_child("reader", st, &d->r);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    duo_free(d);
}

/* Writer: writes `total` bytes of stream in pieces of up to `piece`. */
static int write_stream(struct duo *d, size_t total, size_t piece)
{
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    unsigned char *buf = malloc(piece);
    ssize_t k;

    if (w == NULL || buf == NULL)
        return flunk(&d->w, "chan_open(CHAN_WRITE) failed (errno %s)",
                     hx_errname(errno));
    for (size_t pos = 0; pos < total; pos += piece) {
        size_t n = total - pos < piece ? total - pos : piece;
        fill(buf, pos, n);
        say(&d->w, "chan_write(%zu) at stream byte %zu of %zu (ring %d)", n,
            pos, total, SMALL);
        if ((k = chan_write(w, buf, n)) != (ssize_t)n)
            return flunk(&d->w, "chan_write(%zu) at stream byte %zu: expected "
                         "%zu, got %zd (errno %s)", n, pos, n, k,
                         hx_errname(errno));
    }
    free(buf);
    return chan_close(w) == 0 ? OK : flunk(&d->w, "chan_close failed");
}

/* Reader: once told to go, reads `total` bytes in reads of up to `piece`. */
static int read_stream(struct duo *d, size_t total, size_t piece)
{
    struct chan *r = chan_open(d->name, CHAN_READ);
    unsigned char *buf = malloc(piece);

    if (r == NULL || buf == NULL)
        return flunk(&d->r, "chan_open(CHAN_READ) failed (errno %s)",
                     hx_errname(errno));
    await_go(&d->r);
    if (read_exactly(&d->r, r, buf, 0, total, piece) != 0) {
        chan_close(r);                  /* the writer need not wait */
        return 1;
    }
    free(buf);
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

#define FULL_TOTAL (3 * SMALL + 123)

static int write_full(struct duo *d)
{
    return write_stream(d, FULL_TOTAL, SMALL / 2 + 8);
}

static int read_full(struct duo *d)
{
    return read_stream(d, FULL_TOTAL, 1000);
}

/* Run writer and reader; the reader starts once the writer sleeps on a
 * full ring. */
static void writer_first(const char *tag, int (*wfn)(struct duo *),
                         int (*rfn)(struct duo *))
{
    struct duo *d = duo_new(tag);

    make_chan(d->name, SMALL);
    pid_t wp = start(wfn, d, NULL), rp = start(rfn, d, NULL);
    asleep(wp, &d->w, 1);
    atomic_store(&d->r.go, 1);
    int ws = reap(wp), rs = reap(rp);
    expect_pair(d, ws, rs);
    duo_free(d);
}

TEST(block_full, 2, "§4")
{
    writer_first("full2", write_full, read_full);
}

/* Reader: chan_read on an empty ring for a while; records its CPU time. */
static int read_idle(struct duo *d)
{
    struct chan *r = chan_open(d->name, CHAN_READ);
    struct rusage a, b;
    char c = 0;

    if (r == NULL)
        return flunk(&d->r, "chan_open(CHAN_READ) failed (errno %s)",
                     hx_errname(errno));
    getrusage(RUSAGE_SELF, &a);
    say(&d->r, "chan_read(1) on an empty ring");
    if (chan_read(r, &c, 1) != 1 || c != 'z')
        return flunk(&d->r, "chan_read(1) woken by a 1-byte write: expected 1 "
                     "byte 'z' (errno %s)", hx_errname(errno));
    getrusage(RUSAGE_SELF, &b);
    d->r.cpu_us = (b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec -
                   a.ru_stime.tv_sec) * 1000000L + b.ru_utime.tv_usec -
                  a.ru_utime.tv_usec + b.ru_stime.tv_usec - a.ru_stime.tv_usec;
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

/* Writer: one byte more than the ring holds; records its CPU time. */
static int write_idle(struct duo *d)
{
    static unsigned char buf[SMALL + 1];
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    struct rusage a, b;

    if (w == NULL)
        return flunk(&d->w, "chan_open(CHAN_WRITE) failed (errno %s)",
                     hx_errname(errno));
    fill(buf, 0, sizeof buf);
    getrusage(RUSAGE_SELF, &a);
    say(&d->w, "chan_write(%d) into an empty %d-byte ring", SMALL + 1, SMALL);
    if (chan_write(w, buf, sizeof buf) != (ssize_t)sizeof buf)
        return flunk(&d->w, "chan_write(%d): expected %d (errno %s)", SMALL + 1,
                     SMALL + 1, hx_errname(errno));
    getrusage(RUSAGE_SELF, &b);
    d->w.cpu_us = (b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec -
                   a.ru_stime.tv_sec) * 1000000L + b.ru_utime.tv_usec -
                  a.ru_utime.tv_usec + b.ru_stime.tv_usec - a.ru_stime.tv_usec;
    return chan_close(w) == 0 ? OK : flunk(&d->w, "chan_close failed");
}

#define IDLE_MS 300                     /* how long wait_sleeps waits */
#define IDLE_CPU_US 60000               /* CPU a sleeping waiter may use */

TEST(wait_sleeps, 2, "§4")
{
    static unsigned char buf[SMALL];
    struct duo *d = duo_new("sleeps");

    make_chan(d->name, SMALL);
    struct chan *w = open_end(d->name, CHAN_WRITE);
    pid_t pid = start(read_idle, d, w);
    char state = asleep(pid, &d->r, 1);
    pause_ms(IDLE_MS);
    ssize_t k = chan_write(w, "z", 1);
    int st = reap(pid);
    expect_child("reader", st, &d->r);
    EXPECT(state == 'S', "the reader waiting on an empty ring never went to "
           "sleep (its state stayed '%c', not 'S'): is it spinning?", state);
    EXPECT_INT("chan_write(1) to wake the reader", k, 1);
    EXPECT(hx_memcheck() || d->r.cpu_us < IDLE_CPU_US, "the reader used %ld ms"
           " of CPU time while it waited %d ms for data: expected almost none",
           d->r.cpu_us / 1000, IDLE_MS);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    shm_unlink(d->name);

    make_chan(d->name, SMALL);
    struct chan *r = open_end(d->name, CHAN_READ);
    pid = start(write_idle, d, r);
    state = asleep(pid, &d->w, 1);
    pause_ms(IDLE_MS);
    k = chan_read(r, buf, sizeof buf);  /* the ring is full: no wait */
    st = reap(pid);
    expect_child("writer", st, &d->w);
    EXPECT(state == 'S', "the writer waiting on a full ring never went to "
           "sleep (its state stayed '%c', not 'S'): is it spinning?", state);
    EXPECT_INT("chan_read of the full ring", k, SMALL);
    EXPECT(hx_memcheck() || d->w.cpu_us < IDLE_CPU_US, "the writer used %ld ms"
           " of CPU time while it waited %d ms for room: expected almost none",
           d->w.cpu_us / 1000, IDLE_MS);
    EXPECT_INT("chan_read of the last byte", chan_read(r, buf, sizeof buf), 1);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    duo_free(d);
}

#define BIG_TOTAL (10 * SMALL + 77)

static int write_big(struct duo *d)
{
    return write_stream(d, BIG_TOTAL, BIG_TOTAL);    /* one call */
}

static int read_big(struct duo *d)
{
    return read_stream(d, BIG_TOTAL, 3 * SMALL);
}

TEST(big_write, 2, "§4")
{
    writer_first("big", write_big, read_big);
}

/* The random stream: sizes of writes and reads straddle the end of the
 * ring and exceed it, and both sides pause now and then so that each one
 * also waits for the other. */
static size_t stream_total(void)
{
    return (size_t)hx_iters(2 << 20);
}

static int write_random(struct duo *d)
{
    static unsigned char buf[3 * SMALL];
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    uint64_t seed = 0xbb67ae8584caa73bu;
    size_t total = stream_total();
    ssize_t k;

    if (w == NULL)
        return flunk(&d->w, "chan_open(CHAN_WRITE) failed (errno %s)",
                     hx_errname(errno));
    for (size_t pos = 0, n; pos < total; pos += n) {
        n = rnd(&seed, 1, sizeof buf);
        n = n < total - pos ? n : total - pos;
        fill(buf, pos, n);
        if (rnd(&seed, 0, 63) == 0)
            pause_ms(1);                /* the reader waits on empty */
        say(&d->w, "chan_write(%zu) at stream byte %zu", n, pos);
        if ((k = chan_write(w, buf, n)) != (ssize_t)n)
            return flunk(&d->w, "chan_write(%zu) at stream byte %zu: expected "
                         "%zu, got %zd (errno %s)", n, pos, n, k,
                         hx_errname(errno));
    }
    return chan_close(w) == 0 ? OK : flunk(&d->w, "chan_close failed");
}

static int read_random(struct duo *d)
{
    static unsigned char buf[2 * SMALL];
    struct chan *r = chan_open(d->name, CHAN_READ);
    uint64_t seed = 0x3c6ef372fe94f82bu;
    size_t total = stream_total();

    if (r == NULL)
        return flunk(&d->r, "chan_open(CHAN_READ) failed (errno %s)",
                     hx_errname(errno));
    for (size_t pos = 0, n; pos < total; pos += n) {
        n = rnd(&seed, 1, sizeof buf);
        n = n < total - pos ? n : total - pos;
        if (rnd(&seed, 0, 63) == 0)
            pause_ms(1);                /* the writer waits on full */
        if (read_exactly(&d->r, r, buf, pos, n, n) != 0) {
            chan_close(r);              /* the writer need not wait */
            return 1;
        }
    }
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

TEST(stream_random, 4, "§4")
{
    struct duo *d = duo_new("stream");

    make_chan(d->name, SMALL);
    atomic_store(&d->r.go, 1);
    pid_t wp = start(write_random, d, NULL), rp = start(read_random, d, NULL);
    int ws = reap(wp), rs = reap(rp);
    expect_pair(d, ws, rs);
    duo_free(d);
}

/* Part 4: end of stream and a closed reader */

/* In a child with both ends: 10 bytes, the writer's close, then EOF. */
static int eof_sequence(struct duo *d)
{
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    struct chan *r = chan_open(d->name, CHAN_READ);
    char buf[100];
    ssize_t k;

    if (w == NULL || r == NULL)
        return flunk(&d->r, "chan_open failed (errno %s)", hx_errname(errno));
    if (chan_write(w, "0123456789", 10) != 10 || chan_close(w) != 0)
        return flunk(&d->r, "chan_write(10) or chan_close(writer) failed");
    say(&d->r, "chan_read(100) with 10 bytes left by a closed writer");
    if ((k = chan_read(r, buf, sizeof buf)) != 10)
        return flunk(&d->r, "chan_read(100) with 10 bytes left by a closed "
                     "writer: expected 10, got %zd", k);
    for (int i = 0; i < 2; i++) {
        say(&d->r, "chan_read(100) #%d after the last byte (the writer has "
            "closed)", i + 1);
        if ((k = chan_read(r, buf, sizeof buf)) != 0)
            return flunk(&d->r, "chan_read(100) #%d after the last byte of a "
                         "closed writer: expected 0 (end of stream), got %zd "
                         "(errno %s)", i + 1, k, hx_errname(errno));
    }
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

TEST(eof_after_data, 2, "§5")
{
    struct duo *d = duo_new("eof");

    make_chan(d->name, SMALL);
    int st = reap(start(eof_sequence, d, NULL));
    expect_child("process reading to the end", st, &d->r);
    duo_free(d);
}

/* Reader: asleep on an empty ring until the writer closes: expects 0. */
static int read_eof(struct duo *d)
{
    struct chan *r = chan_open(d->name, CHAN_READ);
    char buf[16];
    ssize_t k;

    if (r == NULL)
        return flunk(&d->r, "chan_open(CHAN_READ) failed (errno %s)",
                     hx_errname(errno));
    say(&d->r, "chan_read(16) on an empty ring, before the writer's close");
    if ((k = chan_read(r, buf, sizeof buf)) != 0)
        return flunk(&d->r, "chan_read woken by the writer's close: expected 0"
                     " (end of stream), got %zd (errno %s)", k,
                     hx_errname(errno));
    return chan_close(r) == 0 ? OK : flunk(&d->r, "chan_close failed");
}

TEST(eof_wakes, 2, "§5")
{
    struct duo *d = duo_new("eof-wakes");

    make_chan(d->name, SMALL);
    struct chan *w = open_end(d->name, CHAN_WRITE);
    pid_t pid = start(read_eof, d, w);
    asleep(pid, &d->r, 1);
    int rc = chan_close(w);
    int st = reap(pid);
    EXPECT_INT("chan_close(writer) while the reader waits", rc, 0);
    expect_child("reader", st, &d->r);
    duo_free(d);
}

/* Writer: fills the ring and waits for room; the reader closes instead. */
static int write_epipe(struct duo *d)
{
    static unsigned char buf[SMALL + 100];
    struct chan *w = chan_open(d->name, CHAN_WRITE);
    ssize_t k;

    if (w == NULL)
        return flunk(&d->w, "chan_open(CHAN_WRITE) failed (errno %s)",
                     hx_errname(errno));
    say(&d->w, "chan_write(%d) into an empty %d-byte ring whose reader "
        "closes", SMALL + 100, SMALL);
    errno = 0;
    k = chan_write(w, buf, sizeof buf);
    if (k != -1 || errno != EPIPE)
        return flunk(&d->w, "chan_write blocked on a full ring when the reader"
                     " closed: expected -1 with errno EPIPE, got %zd (errno %s)",
                     k, hx_errname(errno));
    return chan_close(w) == 0 ? OK : flunk(&d->w, "chan_close failed");
}

TEST(epipe, 2, "§5")
{
    char name[128];

    hx_shm_name(name, sizeof name, "epipe1");
    shm_unlink(name);
    make_chan(name, SMALL);
    struct chan *w = open_end(name, CHAN_WRITE), *r = open_end(name, CHAN_READ);
    EXPECT_INT("chan_close(reader)", chan_close(r), 0);
    errno = 0;
    EXPECT_INT("chan_write(1) after the reader closed",
               chan_write(w, "x", 1), -1);
    EXPECT_ERRNO("chan_write(1) after the reader closed", EPIPE);
    EXPECT_INT("chan_close(writer)", chan_close(w), 0);
    shm_unlink(name);

    struct duo *d = duo_new("epipe2");
    make_chan(d->name, SMALL);
    r = open_end(d->name, CHAN_READ);
    pid_t pid = start(write_epipe, d, r);
    asleep(pid, &d->w, 1);
    int rc = chan_close(r);
    int st = reap(pid);
    EXPECT_INT("chan_close(reader) while the writer waits", rc, 0);
    expect_child("writer", st, &d->w);
    duo_free(d);
}

const struct hx_part hx_parts[] = {
    { "1. Creating and opening a channel",
      { &create_open, &create_errors, &create_cleanup, &open_errors,
        &open_once, &no_leaks } },
    { "2. The ring", { &ring_roundtrip, &ring_wrap, &ring_full, &wrong_end } },
    { "3. Blocking",
      { &block_empty, &block_full, &wait_sleeps, &big_write, &stream_random } },
    { "4. End of stream and a closed reader",
      { &eof_after_data, &eof_wakes, &epipe } },
    { NULL, { NULL } },
};
