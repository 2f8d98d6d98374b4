/* suite.c - Lab 01 tests: mmap of /dev/zero (handouts/01-mmap.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. Each
 * test starts a subject (zmap.c serving requests, grader/subject/01-mmap.c),
 * asks it to call the lab's functions with inputs chosen here (some drawn
 * from the run's seed), and judges the replies against values computed
 * here and against what the kernel shows of the subject from outside: its
 * mappings and descriptors in /proc, its memory, read and written with
 * process_vm_readv/writev. Each TEST names its points and the handout
 * section that explains it; hx_parts at the end orders them as the
 * handout does.
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
#include <sys/wait.h>
#include <unistd.h>

#define GREETING "Hello from user space"
#define HUGE ((size_t)1 << 50)          /* 1 PiB: more than the address space */

/* Ask s for op(a0, a1); errno is set to the subject's. A failure is
 * reported at the caller's line. */
#define call(s, what, op, a0, a1) call_at(__FILE__, __LINE__, s, what, op, a0, a1)
static struct sx_rep call_at(const char *file, int line, struct cx_subject *s,
                             const char *what, uint32_t op, uint64_t a0, uint64_t a1)
{
    struct sx_req q = { .op = op, .a = { a0, a1 } };
    struct sx_rep r;

    cx_call_at(file, line, s, what, &q, &r);
    errno = r.err;
    return r;
}

/* s's zmap_alloc (op SX01_ALLOC) or zmap_anon (SX01_ANON) of len bytes:
 * the address, or 0 with errno set. */
#define map(s, what, op, len) ((uintptr_t)call(s, what, op, len, 0).ret)

/* The errno mmap gives here for HUGE bytes of fd (-1: anonymous); under
 * Valgrind (the Valgrind pass) the subject's mmap gives EINVAL instead. */
static int huge_errno(int fd)
{
    void *p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | (fd == -1 ? MAP_ANONYMOUS : 0), fd, 0);

    EXPECT(p == MAP_FAILED, "test setup: mapping 1 PiB worked");
    return getenv("HX_VALGRIND") ? EINVAL : errno;
}

/* A name of 5 to 24 lowercase letters, from the seed, into buf. */
static char *some_name(char *buf)
{
    int n = 5 + (int)(cx_rand() % 20);

    for (int i = 0; i < n; i++)
        buf[i] = (char)('a' + cx_rand() % 26);
    buf[n] = '\0';
    return buf;
}

/* zmap_greet(dst, size, who) in s: dst before a guard page if guarded. */
static struct sx_rep greet(struct cx_subject *s, const char *what, size_t size,
                           const char *who, int guarded, int null_dst)
{
    struct sx_req q = { .op = SX01_GREET, .a = { size, (uint64_t)guarded,
                                                 (uint64_t)null_dst, who == NULL } };
    struct sx_rep r;

    q.len = who != NULL ? (uint32_t)strlen(who) : 0;
    memcpy(q.data, who != NULL ? who : "", q.len);
    cx_call(s, what, &q, &r);
    EXPECT(r.ret != -2, "test setup: the guard page could not be made");
    errno = r.err;
    return r;
}

/* Fail unless reply r is -1 with errno want. */
static void expect_fail(const char *what, const struct sx_rep *r, int want)
{
    EXPECT(r->ret == -1, "%s: expected -1 with errno %s, got %lld", what,
           hx_errname(want), (long long)r->ret);
    errno = r->err;
    EXPECT_ERRNO(what, want);
}

/* Part 1: asking the kernel for a page */

TEST(alloc_zeroed, 2, "§2")
{
    struct cx_subject s;
    size_t len = (2 + cx_rand() % 3) * cx_page();

    cx_start(&s, NULL);
    uintptr_t p = map(&s, "zmap_alloc", SX01_ALLOC, len);
    EXPECT_PTR("zmap_alloc(some pages)", (void *)p);
    cx_expect_mapped(&s, "zmap_alloc", p, len);
    cx_expect_bytes(&s, "fresh memory from zmap_alloc", p, len, 0);
    cx_end(&s);
}

TEST(alloc_writable, 2, "§2")
{
    struct cx_subject s;
    size_t len = 3 * cx_page(), ask = len - 1 - cx_rand() % 200;
    unsigned char *pat = malloc(len);

    EXPECT(pat != NULL, "test setup: out of memory");
    cx_start(&s, NULL);
    uintptr_t p = map(&s, "zmap_alloc", SX01_ALLOC, ask);
    EXPECT_PTR("zmap_alloc(3 pages - a little)", (void *)p);
    cx_expect_mapped(&s, "zmap_alloc(3 pages - a little), rounded up", p, len);
    for (size_t i = 0; i < len; i++)
        pat[i] = (unsigned char)cx_rand();
    EXPECT(cx_poke(s.pid, p, pat, len) == 0, "writing all 3 pages: the memory "
           "is not writable");
    cx_expect_bytes(&s, "reading back byte 0", p, 1, pat[0]);
    free(pat);
    cx_end(&s);
}

TEST(alloc_closes_fd, 2, "§2")
{
    struct cx_subject s;
    unsigned char one = 1;

    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    uintptr_t p = map(&s, "zmap_alloc(1 page)", SX01_ALLOC, cx_page());
    EXPECT_PTR("zmap_alloc(1 page)", (void *)p);
    EXPECT_INT("open descriptors after zmap_alloc (close the fd once mapped)",
               cx_fds(s.pid), before);
    EXPECT(cx_poke(s.pid, p, &one, 1) == 0, "byte written after the fd was "
           "closed: the mapping must outlive the fd");
    cx_expect_bytes(&s, "byte written after the fd was closed", p, 1, 1);
    cx_end(&s);
}

TEST(alloc_shared, 3, "§2")
{
    struct cx_subject s;

    cx_start(&s, NULL);
    uintptr_t p = map(&s, "zmap_alloc(1 page)", SX01_ALLOC, cx_page());
    EXPECT_PTR("zmap_alloc(1 page)", (void *)p);
    cx_expect_shared(&s, "zmap_alloc", p);
    cx_end(&s);
}

/* Part 2: pages and rounding */

/* Fail unless s's zmap_round(len) is want. */
static void expect_round(struct cx_subject *s, const char *what, size_t len,
                         size_t want)
{
    EXPECT_SIZE(what, (size_t)call(s, what, SX01_ROUND, len, 0).ret, want);
}

TEST(round_pages, 2, "§3")
{
    struct cx_subject s;
    size_t pg = cx_page(), k = 2 + cx_rand() % 1000, off = 1 + cx_rand() % (pg - 1);
    char what[96];

    cx_start(&s, NULL);
    expect_round(&s, "zmap_round(0)", 0, 0);
    expect_round(&s, "zmap_round(1)", 1, pg);
    expect_round(&s, "zmap_round(page - 1)", pg - 1, pg);
    expect_round(&s, "zmap_round(page)", pg, pg);
    expect_round(&s, "zmap_round(page + 1)", pg + 1, 2 * pg);
    snprintf(what, sizeof what, "zmap_round(%zu pages + %zu)", k, off);
    expect_round(&s, what, k * pg + off, (k + 1) * pg);
    snprintf(what, sizeof what, "zmap_round(%zu pages)", k);
    expect_round(&s, what, k * pg, k * pg);
    cx_end(&s);
}

TEST(round_overflow, 2, "§3")
{
    struct cx_subject s;
    size_t pg = cx_page(), top = SIZE_MAX - pg + 1;   /* largest multiple */

    cx_start(&s, NULL);
    expect_round(&s, "zmap_round(largest page multiple)", top, top);
    expect_round(&s, "zmap_round(SIZE_MAX)", SIZE_MAX, 0);
    EXPECT_ERRNO("zmap_round(SIZE_MAX)", EOVERFLOW);
    expect_round(&s, "zmap_round(largest page multiple + 1)", top + 1, 0);
    EXPECT_ERRNO("zmap_round(largest page multiple + 1)", EOVERFLOW);
    cx_end(&s);
}

/* Part 3: when a call fails */

TEST(alloc_zero_len, 1, "§4")
{
    struct cx_subject s;

    cx_start(&s, NULL);
    EXPECT_NULL("zmap_alloc(0)", (void *)map(&s, "zmap_alloc(0)", SX01_ALLOC, 0));
    EXPECT_ERRNO("zmap_alloc(0)", EINVAL);
    cx_end(&s);
}

TEST(alloc_overflow, 1, "§4")
{
    struct cx_subject s;

    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    EXPECT_NULL("zmap_alloc(SIZE_MAX)",
                (void *)map(&s, "zmap_alloc(SIZE_MAX)", SX01_ALLOC, SIZE_MAX));
    EXPECT_ERRNO("zmap_alloc(SIZE_MAX)", EOVERFLOW);
    EXPECT_INT("open descriptors after a failed zmap_alloc", cx_fds(s.pid), before);
    cx_end(&s);
}

TEST(alloc_nomem, 2, "§4")
{
    struct cx_subject s;
    int fd = open("/dev/zero", O_RDWR), want = huge_errno(fd);

    close(fd);
    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    EXPECT_NULL("zmap_alloc(1 PiB)",
                (void *)map(&s, "zmap_alloc(1 PiB)", SX01_ALLOC, HUGE));
    EXPECT_ERRNO("zmap_alloc(1 PiB), mmap's error", want);
    EXPECT_INT("open descriptors after mmap failed (close on the error path)",
               cx_fds(s.pid), before);
    cx_end(&s);
}

/* The soft limit on open files of pid, from /proc/PID/limits, or -1. */
static long nofile_limit(pid_t pid)
{
    char path[64], line[256];
    long soft = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Max open files %ld", &soft) == 1)
            break;
    fclose(f);
    return soft;
}

TEST(alloc_emfile, 1, "§4")
{
    struct cx_subject s;
    struct sx_rep r;

    cx_start(&s, NULL);
    long lowest = call(&s, "leaving no descriptor free", SX_NOFILE, 0, 0).ret;
    EXPECT(lowest > 0 && (getenv("HX_VALGRIND") || nofile_limit(s.pid) == lowest),
           "test setup: the descriptor limit was not set");
    r = call(&s, "zmap_alloc with no descriptor left", SX01_ALLOC, cx_page(), 0);
    EXPECT(r.ret == 0, "zmap_alloc with no descriptor left: expected NULL (open "
           "fails with EMFILE), got an address");
    EXPECT_ERRNO("zmap_alloc with no descriptor left (open's errno)", EMFILE);
    call(&s, "restoring the descriptor limit", SX_NOFILE, 1, 0);
    cx_end(&s);
}

/* Part 4: giving memory back */

TEST(free_unmaps, 2, "§5")
{
    struct cx_subject s;
    struct cx_map m;
    size_t pg = cx_page(), n = 2 + cx_rand() % 3;

    cx_start(&s, NULL);
    uintptr_t p = map(&s, "zmap_alloc(some pages)", SX01_ALLOC, n * pg);
    EXPECT_PTR("zmap_alloc(some pages)", (void *)p);
    EXPECT_INT("zmap_free(p, len)", call(&s, "zmap_free(p, len)", SX01_FREE, p,
                                          n * pg).ret, 0);
    EXPECT_INT("first page still in /proc/PID/maps after zmap_free",
               cx_mapping(s.pid, p, &m), 0);
    EXPECT_INT("last page still in /proc/PID/maps after zmap_free",
               cx_mapping(s.pid, p + (n - 1) * pg, &m), 0);
    cx_end(&s);
}

TEST(free_errors, 1, "§5")
{
    struct cx_subject s;
    struct cx_map m;
    size_t pg = cx_page();

    cx_start(&s, NULL);
    uintptr_t p = map(&s, "zmap_alloc(1 page)", SX01_ALLOC, pg);
    EXPECT_PTR("zmap_alloc(1 page)", (void *)p);
    EXPECT_FAIL("zmap_free(NULL, 1 page)",
                call(&s, "zmap_free(NULL, 1 page)", SX01_FREE, 0, pg).ret, EINVAL);
    EXPECT_FAIL("zmap_free(p, 0)", call(&s, "zmap_free(p, 0)", SX01_FREE, p, 0).ret,
                EINVAL);
    EXPECT_INT("zmap_free(p + 1, 1 page)",
               call(&s, "zmap_free(p + 1, 1 page)", SX01_FREE, p + 1, pg).ret, -1);
    EXPECT_ERRNO("zmap_free(p + 1, 1 page), munmap's error", EINVAL);
    EXPECT_INT("page mapped after the failed calls", cx_mapping(s.pid, p, &m), 1);
    cx_end(&s);
}

/* Part 5: MAP_ANONYMOUS */

TEST(anon_shared, 2, "§6")
{
    struct cx_subject s;
    size_t len = 2 * cx_page();

    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    uintptr_t p = map(&s, "zmap_anon(2 pages)", SX01_ANON, len);
    EXPECT_PTR("zmap_anon(2 pages)", (void *)p);
    EXPECT_INT("open descriptors after zmap_anon (it needs none)",
               cx_fds(s.pid), before);
    cx_expect_mapped(&s, "zmap_anon(2 pages)", p, len);
    cx_expect_bytes(&s, "fresh memory from zmap_anon", p, len, 0);
    cx_expect_shared(&s, "zmap_anon", p);
    cx_end(&s);
}

TEST(anon_errors, 1, "§6")
{
    struct cx_subject s;
    int want = huge_errno(-1);

    cx_start(&s, NULL);
    EXPECT_NULL("zmap_anon(0)", (void *)map(&s, "zmap_anon(0)", SX01_ANON, 0));
    EXPECT_ERRNO("zmap_anon(0)", EINVAL);
    EXPECT_NULL("zmap_anon(SIZE_MAX)",
                (void *)map(&s, "zmap_anon(SIZE_MAX)", SX01_ANON, SIZE_MAX));
    EXPECT_ERRNO("zmap_anon(SIZE_MAX)", EOVERFLOW);
    EXPECT_NULL("zmap_anon(1 PiB)", (void *)map(&s, "zmap_anon(1 PiB)", SX01_ANON, HUGE));
    EXPECT_ERRNO("zmap_anon(1 PiB), mmap's error", want);
    cx_end(&s);
}

/* Part 6: the demo program */

/* A step of the Valgrind pass's leak check: one greeting in s. */
static void greet_step(struct cx_subject *s, void *unused)
{
    (void)unused;
    EXPECT(greet(s, "zmap_greet(buf, 64, \"world\")", 64, "world", 0, 0).ret > 0,
           "zmap_greet(buf, 64, \"world\"): expected the greeting's length");
}

TEST(greet_fits, 1, "§7")
{
    struct cx_subject s;
    char who[32], want[64], what[128];
    struct sx_rep r;

    cx_start(&s, NULL);
    snprintf(want, sizeof want, "Hello from %s", some_name(who));
    snprintf(what, sizeof what, "zmap_greet(buf, 64, \"%s\")", who);
    r = greet(&s, what, 64, who, 0, 0);
    EXPECT_INT(what, r.ret, strlen(want));
    EXPECT_STR("the greeting", r.data, want);
    snprintf(what, sizeof what, "zmap_greet into exactly enough room (%zu bytes)",
             strlen(want) + 1);
    r = greet(&s, what, strlen(want) + 1, who, 1, 0);
    EXPECT_INT(what, r.ret, strlen(want));
    EXPECT_STR("the greeting in exactly enough room", r.data, want);
    cx_end(&s);
    if (getenv("HX_VALGRIND"))          /* the leak points, from outside too */
        cx_expect_steady("zmap_greet(buf, 64, \"world\")", greet_step, NULL);
}

TEST(greet_bounded, 2, "§7")
{
    struct cx_subject s;
    struct cx_map m;
    char who[32], want[64], what[128];
    struct sx_rep r;

    cx_start(&s, NULL);
    some_name(who);
    r = greet(&s, "zmap_greet into 8 bytes (a write past dst[7] is a segfault)",
              8, who, 1, 0);
    EXPECT(cx_mapping(s.pid, r.v[0] + 8, &m) == 1 && strcmp(m.perms, "---p") == 0,
           "test setup: no guard page after dst");
    expect_fail("zmap_greet into 8 bytes", &r, ERANGE);
    r.data[8] = '\0';
    EXPECT_STR("what fits in 8 bytes", r.data, "Hello f");
    /* One byte short: the greeting fits, its '\0' does not. */
    size_t n = (size_t)snprintf(want, sizeof want, "Hello from %s", who);
    snprintf(what, sizeof what, "zmap_greet into %zu bytes, the greeting's length"
             " (no room for its '\\0')", n);
    r = greet(&s, what, n, who, 1, 0);
    expect_fail(what, &r, ERANGE);
    r.data[n] = '\0';
    want[n - 1] = '\0';
    EXPECT_STR("what fits, '\\0'-terminated", r.data, want);
    r = greet(&s, "zmap_greet(dst, 0, ...)", 0, "x", 1, 0);
    expect_fail("zmap_greet(dst, 0, ...)", &r, EINVAL);
    r = greet(&s, "zmap_greet(NULL, 8, ...)", 8, "x", 0, 1);
    expect_fail("zmap_greet(NULL, 8, ...)", &r, EINVAL);
    r = greet(&s, "zmap_greet(dst, 64, NULL)", 64, NULL, 1, 0);
    expect_fail("zmap_greet(dst, 64, NULL)", &r, EINVAL);
    cx_end(&s);
}

TEST(demo_output, 2, "§7")
{
    struct cx_subject s;
    char *argv[] = { "./hello", NULL }, out[256], err[256], how[96];

    cx_start(&s, argv);
    int st = cx_wait(&s, 10);
    cx_output(&s, 0, out, sizeof out);
    cx_output(&s, 1, err, sizeof err);
    EXPECT(st != -1 && WIFEXITED(st), "./hello did not exit normally (%s)",
           st == -1 ? "still running after 10 s" : cx_describe(st, how, sizeof how));
    EXPECT(WEXITSTATUS(st) == 0, "./hello: expected exit status 0, got %d; it"
           " said: %s", WEXITSTATUS(st), err);
    EXPECT_STR("./hello's output", out, "Shared memory: " GREETING "\n");
    EXPECT_STR("./hello's error output", err, "");
}

TEST(demo_reports, 1, "§7")
{
    struct cx_subject s;
    char *argv[] = { "./hello", NULL }, err[256], how[96];

    /* A hello that always fails, saying so, earns nothing here: it must
     * first work when nothing fails. */
    cx_start(&s, argv);
    int st = cx_wait(&s, 10);
    cx_output(&s, 1, err, sizeof err);
    EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && err[0] == '\0',
           "./hello fails even where nothing fails (see demo_output): nothing to judge here");
    cx_start_how(&s, argv, &(struct cx_how){ .out = "/dev/full" });
    st = cx_wait(&s, 10);
    cx_output(&s, 1, err, sizeof err);
    EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "./hello with stdout on"
           " /dev/full (writing the line fails with ENOSPC): expected exit status 1 (perror,"
           " then status 1), got %s. printf only fills a buffer: check fflush(stdout)",
           st == -1 ? "still running after 10 s" : cx_describe(st, how, sizeof how));
    EXPECT(strstr(err, strerror(ENOSPC)) != NULL, "./hello with stdout on /dev/full:"
           " expected perror's message on stderr, with \"%s\" (ENOSPC), got \"%s\"",
           strerror(ENOSPC), err);
}

const struct hx_part hx_parts[] = {
    { "1. Asking the kernel for a page",
      { &alloc_zeroed, &alloc_writable, &alloc_closes_fd, &alloc_shared } },
    { "2. Pages and rounding", { &round_pages, &round_overflow } },
    { "3. When a call fails",
      { &alloc_zero_len, &alloc_overflow, &alloc_nomem, &alloc_emfile } },
    { "4. Giving memory back", { &free_unmaps, &free_errors } },
    { "5. MAP_ANONYMOUS", { &anon_shared, &anon_errors } },
    { "6. The demo program", { &greet_fits, &greet_bounded, &demo_output, &demo_reports } },
    { NULL, { NULL } },
};
