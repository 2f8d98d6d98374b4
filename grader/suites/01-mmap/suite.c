/* suite.c - Lab 01 tests: mmap of /dev/zero (handouts/01-mmap.md).
 *
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does.
 */
#define _DEFAULT_SOURCE
#include "hx.h"
#include "zmap.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define GREETING "Hello from user space"
#define HUGE ((size_t)1 << 50)          /* 1 PiB: more than the address space */

/* The errno mmap itself gives for HUGE bytes of fd (-1: anonymous) here:
 * ENOMEM natively, EINVAL under Valgrind. */
static int huge_errno(int fd)
{
    void *p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | (fd == -1 ? MAP_ANONYMOUS : 0), fd, 0);

    EXPECT(p == MAP_FAILED, "test setup: mapping 1 PiB worked");
    return errno;
}

/* Fail unless every byte of p[0..len) equals c. */
static void expect_bytes(const char *what, const unsigned char *p, size_t len,
                         unsigned char c)
{
    for (size_t i = 0; i < len; i++)
        EXPECT(p[i] == c, "%s: expected byte %zu to be 0x%02x, got 0x%02x",
               what, i, c, p[i]);
}

static int child_fill(void *page)
{
    memset(page, 0x5a, hx_page());
    return 0;
}

/* Fail unless a child's write into p (one page) is seen here after wait. */
static void expect_shared(const char *what, unsigned char *p)
{
    char perms[5] = "";
    int st = hx_child(child_fill, p);

    EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "%s: the child did not exit 0 (wait status 0x%x)", what, st);
    EXPECT(p[0] == 0x5a && p[hx_page() - 1] == 0x5a,
           "%s: the parent did not see the child's write: expected 0x5a, "
           "got 0x%02x (is the mapping MAP_SHARED?)", what, p[0]);
    EXPECT(hx_mapped(p, perms) == 1 && perms[3] == 's',
           "%s: expected a shared mapping (rw-s in /proc/self/maps), got %s",
           what, perms);
}

/* Part 1: asking the kernel for a page */

TEST(alloc_zeroed, 2, "§2")
{
    size_t len = 3 * hx_page();
    unsigned char *p = zmap_alloc(len);

    EXPECT_PTR("zmap_alloc(3 pages)", p);
    EXPECT((uintptr_t)p % hx_page() == 0, "zmap_alloc: expected a page-aligned"
           " address, got %p", (void *)p);
    expect_bytes("fresh memory from zmap_alloc", p, len, 0);
    munmap(p, len);
}

TEST(alloc_writable, 2, "§2")
{
    size_t len = 3 * hx_page();
    unsigned char *p = zmap_alloc(len - 100);

    EXPECT_PTR("zmap_alloc(3 pages - 100)", p);
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 7);
    for (size_t i = 0; i < len; i++)
        EXPECT(p[i] == (unsigned char)(i * 7), "reading back byte %zu: "
               "expected 0x%02x, got 0x%02x", i, (unsigned char)(i * 7), p[i]);
    munmap(p, len);
}

TEST(alloc_closes_fd, 2, "§2")
{
    int before = hx_fd_count();
    unsigned char *p = zmap_alloc(hx_page());

    EXPECT_PTR("zmap_alloc(1 page)", p);
    EXPECT_INT("open descriptors after zmap_alloc (close the fd once mapped)",
               hx_fd_count(), before);
    p[0] = 1;                           /* the mapping outlives the fd */
    EXPECT_INT("byte written after the fd was closed", p[0], 1);
    munmap(p, hx_page());
}

TEST(alloc_shared, 3, "§2")
{
    unsigned char *p = zmap_alloc(hx_page());

    EXPECT_PTR("zmap_alloc(1 page)", p);
    expect_shared("zmap_alloc", p);
    munmap(p, hx_page());
}

/* Part 2: pages and rounding */

TEST(round_pages, 2, "§3")
{
    size_t pg = hx_page();

    EXPECT_SIZE("zmap_round(0)", zmap_round(0), 0);
    EXPECT_SIZE("zmap_round(1)", zmap_round(1), pg);
    EXPECT_SIZE("zmap_round(page - 1)", zmap_round(pg - 1), pg);
    EXPECT_SIZE("zmap_round(page)", zmap_round(pg), pg);
    EXPECT_SIZE("zmap_round(page + 1)", zmap_round(pg + 1), 2 * pg);
    EXPECT_SIZE("zmap_round(10 pages + 7)", zmap_round(10 * pg + 7), 11 * pg);
}

TEST(round_overflow, 2, "§3")
{
    size_t pg = hx_page(), top = SIZE_MAX - pg + 1;   /* largest multiple */

    EXPECT_SIZE("zmap_round(largest page multiple)", zmap_round(top), top);
    errno = 0;
    EXPECT_SIZE("zmap_round(SIZE_MAX)", zmap_round(SIZE_MAX), 0);
    EXPECT_ERRNO("zmap_round(SIZE_MAX)", EOVERFLOW);
    errno = 0;
    EXPECT_SIZE("zmap_round(largest page multiple + 1)", zmap_round(top + 1), 0);
    EXPECT_ERRNO("zmap_round(largest page multiple + 1)", EOVERFLOW);
}

/* Part 3: when a call fails */

TEST(alloc_zero_len, 1, "§4")
{
    errno = 0;
    EXPECT_NULL("zmap_alloc(0)", zmap_alloc(0));
    EXPECT_ERRNO("zmap_alloc(0)", EINVAL);
}

TEST(alloc_overflow, 1, "§4")
{
    int before = hx_fd_count();

    errno = 0;
    EXPECT_NULL("zmap_alloc(SIZE_MAX)", zmap_alloc(SIZE_MAX));
    EXPECT_ERRNO("zmap_alloc(SIZE_MAX)", EOVERFLOW);
    EXPECT_INT("open descriptors after a failed zmap_alloc", hx_fd_count(), before);
}

TEST(alloc_nomem, 2, "§4")
{
    int fd = open("/dev/zero", O_RDWR), want = huge_errno(fd);
    int before = (close(fd), hx_fd_count());

    errno = 0;
    EXPECT_NULL("zmap_alloc(1 PiB)", zmap_alloc(HUGE));
    EXPECT_ERRNO("zmap_alloc(1 PiB), mmap's error", want);
    EXPECT_INT("open descriptors after mmap failed (close on the error path)",
               hx_fd_count(), before);
}

/* In a child: no descriptor left for open(). 42 if zmap_alloc failed with
 * EMFILE (not 0: code that exit(0)s early must not look right), 1 if it
 * succeeded, 2 if it failed with another errno. */
static int alloc_without_fds(void *arg)
{
    int lowest = dup(0);
    struct rlimit r;

    (void)arg;
    if (lowest == -1 || close(lowest) == -1 || getrlimit(RLIMIT_NOFILE, &r) == -1)
        return 3;
    r.rlim_cur = (rlim_t)lowest;
    if (setrlimit(RLIMIT_NOFILE, &r) == -1)
        return 3;
    errno = 0;
    if (zmap_alloc(hx_page()) != NULL)
        return 1;
    return errno == EMFILE ? 42 : 2;
}

TEST(alloc_emfile, 1, "§4")
{
    int st = hx_child(alloc_without_fds, NULL);

    EXPECT(st != -1 && WIFEXITED(st), "zmap_alloc with no descriptor left:"
           " the child crashed (wait status 0x%x)", st);
    EXPECT(WEXITSTATUS(st) != 1, "zmap_alloc with no descriptor left: expected"
           " NULL (open fails with EMFILE), got an address");
    EXPECT(WEXITSTATUS(st) != 2, "zmap_alloc with no descriptor left: expected"
           " errno EMFILE (open's), got another errno");
    EXPECT_INT("zmap_alloc with no descriptor left: child status (42: EMFILE)",
               WEXITSTATUS(st), 42);
}

/* Part 4: giving memory back */

TEST(free_unmaps, 2, "§5")
{
    size_t len = 2 * hx_page();
    char *p = zmap_alloc(len);

    EXPECT_PTR("zmap_alloc(2 pages)", p);
    EXPECT_INT("zmap_free(p, 2 pages)", zmap_free(p, len), 0);
    EXPECT_INT("first page still in /proc/self/maps after zmap_free",
               hx_mapped(p, NULL), 0);
    EXPECT_INT("second page still in /proc/self/maps after zmap_free",
               hx_mapped(p + hx_page(), NULL), 0);
}

TEST(free_errors, 1, "§5")
{
    char *p = zmap_alloc(hx_page());

    EXPECT_PTR("zmap_alloc(1 page)", p);
    EXPECT_FAIL("zmap_free(NULL, 1 page)", zmap_free(NULL, hx_page()), EINVAL);
    EXPECT_FAIL("zmap_free(p, 0)", zmap_free(p, 0), EINVAL);
    errno = 0;
    EXPECT_INT("zmap_free(p + 1, 1 page)", zmap_free(p + 1, hx_page()), -1);
    EXPECT_ERRNO("zmap_free(p + 1, 1 page), munmap's error", EINVAL);
    EXPECT_INT("page mapped after the failed calls", hx_mapped(p, NULL), 1);
    munmap(p, hx_page());
}

/* Part 5: MAP_ANONYMOUS */

TEST(anon_shared, 2, "§6")
{
    int before = hx_fd_count();
    unsigned char *p = zmap_anon(2 * hx_page());

    EXPECT_PTR("zmap_anon(2 pages)", p);
    EXPECT_INT("open descriptors after zmap_anon (it needs none)",
               hx_fd_count(), before);
    expect_bytes("fresh memory from zmap_anon", p, 2 * hx_page(), 0);
    expect_shared("zmap_anon", p);
    munmap(p, 2 * hx_page());
}

TEST(anon_errors, 1, "§6")
{
    errno = 0;
    EXPECT_NULL("zmap_anon(0)", zmap_anon(0));
    EXPECT_ERRNO("zmap_anon(0)", EINVAL);
    errno = 0;
    EXPECT_NULL("zmap_anon(SIZE_MAX)", zmap_anon(SIZE_MAX));
    EXPECT_ERRNO("zmap_anon(SIZE_MAX)", EOVERFLOW);
    int want = huge_errno(-1);
    errno = 0;
    EXPECT_NULL("zmap_anon(1 PiB)", zmap_anon(HUGE));
    EXPECT_ERRNO("zmap_anon(1 PiB), mmap's error", want);
}

/* Part 6: the demo program */

TEST(greet_fits, 1, "§7")
{
    char buf[64];

    EXPECT_INT("zmap_greet(buf, 64, \"user space\")",
               zmap_greet(buf, sizeof buf, "user space"), strlen(GREETING));
    EXPECT_STR("the greeting", buf, GREETING);
    EXPECT_INT("zmap_greet into exactly enough room",
               zmap_greet(buf, sizeof GREETING, "user space"), strlen(GREETING));
    EXPECT_STR("the greeting in exactly enough room", buf, GREETING);
}

TEST(greet_bounded, 2, "§7")
{
    size_t pg = hx_page();
    char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed");
    EXPECT(mprotect(p + pg, pg, PROT_NONE) == 0, "test setup: mprotect failed");
    char *dst = p + pg - 8;             /* a write past dst[7] segfaults */
    EXPECT_FAIL("zmap_greet into 8 bytes",
                zmap_greet(dst, 8, "user space"), ERANGE);
    EXPECT_STR("what fits in 8 bytes", dst, "Hello f");
    EXPECT_FAIL("zmap_greet(dst, 0, ...)", zmap_greet(dst, 0, "x"), EINVAL);
    EXPECT_FAIL("zmap_greet(NULL, 8, ...)", zmap_greet(NULL, 8, "x"), EINVAL);
    munmap(p, 2 * pg);
}

TEST(demo_output, 2, "§7")
{
    char out[256], err[256];
    int st = hx_run_prog("./hello", out, sizeof out, err, sizeof err);

    EXPECT(st != -1 && WIFEXITED(st), "./hello did not exit normally (wait "
           "status 0x%x)", st);
    EXPECT(WEXITSTATUS(st) == 0, "./hello: expected exit status 0, got %d; it"
           " said: %s", WEXITSTATUS(st), err);
    EXPECT_STR("./hello's output", out, "Shared memory: " GREETING "\n");
    EXPECT_STR("./hello's error output", err, "");
}

const struct hx_part hx_parts[] = {
    { "1. Asking the kernel for a page",
      { &alloc_zeroed, &alloc_writable, &alloc_closes_fd, &alloc_shared } },
    { "2. Pages and rounding", { &round_pages, &round_overflow } },
    { "3. When a call fails",
      { &alloc_zero_len, &alloc_overflow, &alloc_nomem, &alloc_emfile } },
    { "4. Giving memory back", { &free_unmaps, &free_errors } },
    { "5. MAP_ANONYMOUS", { &anon_shared, &anon_errors } },
    { "6. The demo program", { &greet_fits, &greet_bounded, &demo_output } },
    { NULL, { NULL } },
};
