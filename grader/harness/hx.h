/* hx.h - the harness every lab's Check suite is built on.
 *
 * A suite declares graded tests with their points beside them:
 *
 *     TEST(alloc_zeroed, 2, "§2")          // name, points, handout section
 *     {
 *         struct cx_subject s;
 *         cx_start(&s, NULL);              // the handin code, in a subject
 *         uintptr_t p = map(&s, "zmap_alloc", SX01_ALLOC, len);
 *         EXPECT_PTR("zmap_alloc(some pages)", (void *)p);
 *         cx_end(&s);
 *     }
 *
 * and lists them, part by part in handout order, in hx_parts[]. hx.c
 * provides main(): it runs every test in its own Check TCase and writes one
 * verdict per test, either as text (run by hand) or as a results file for
 * the grader (HX_RESULTS=path). A test passes only if Check saw no failure
 * AND the test body ran to its end: a test that ends its process early
 * earns nothing. No handin code is linked here: the tests drive it in
 * subject processes (grader/checker/cx.h).
 *
 * Environment: HX_RESULTS (results file), HX_RUN (per-run name prefix for
 * shared-memory objects), HX_MEMCHECK=1 (running under Valgrind: scale
 * loops down with hx_iters), HX_JOBS=K (with HX_RESULTS: K runners at
 * once, each failure then run again alone), CK_TIMEOUT_MULTIPLIER (Check's,
 * scales the per-test timeouts).
 */
#ifndef HX_H
#define HX_H

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

struct hx_test {
    const char *name;           /* unique within the lab, [a-z0-9_] */
    int points;                 /* earned when the test passes */
    const char *section;        /* handout section that explains it, "§2" */
    void (*body)(void);
};

#define HX_PART_MAX 16

struct hx_part {
    const char *title;                          /* "1. Map a page" */
    const struct hx_test *tests[HX_PART_MAX];   /* NULL-terminated */
};

/* Defined by each suite: the parts in handout order, ending with {NULL}. */
extern const struct hx_part hx_parts[];

/* Declare a graded test; the block that follows is its body. */
#define TEST(name, pts, sect)                                        \
    static void name##_body(void);                                   \
    static const struct hx_test name = { #name, (pts), (sect),       \
                                         name##_body };              \
    static void name##_body(void)

/* Assertions whose failure message says what was expected and what
 * happened. Each argument is evaluated once. */
#define EXPECT(cond, ...)                                            \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

#define EXPECT_INT(what, got, want)                                  \
    do {                                                             \
        long long g_ = (long long)(got), w_ = (long long)(want);     \
        EXPECT(g_ == w_, "%s: expected %lld, got %lld", (what), w_, g_); \
    } while (0)

#define EXPECT_SIZE(what, got, want)                                 \
    do {                                                             \
        size_t g_ = (got), w_ = (want);                              \
        EXPECT(g_ == w_, "%s: expected %zu, got %zu", (what), w_, g_); \
    } while (0)

#define EXPECT_STR(what, got, want)                                  \
    do {                                                             \
        const char *g_ = (got), *w_ = (want);                        \
        EXPECT(g_ != NULL && strcmp(g_, w_) == 0,                    \
               "%s: expected \"%s\", got %s%s%s", (what), w_,        \
               g_ ? "\"" : "", g_ ? g_ : "NULL", g_ ? "\"" : "");    \
    } while (0)

/* The call just made must have failed with errno `want`. */
#define EXPECT_ERRNO(what, want)                                     \
    do {                                                             \
        int e_ = errno, w_ = (want);                                 \
        EXPECT(e_ == w_, "%s: expected errno %s, got %s", (what),    \
               hx_errname(w_), hx_errname(e_));                      \
    } while (0)

/* The call must fail: return -1 and set errno to `want`. */
#define EXPECT_FAIL(what, call, want)                                \
    do {                                                             \
        errno = 0;                                                   \
        long long r_ = (long long)(call);                            \
        EXPECT(r_ == -1, "%s: expected -1 with errno %s, got %lld",  \
               (what), hx_errname(want), r_);                        \
        EXPECT_ERRNO((what), (want));                                \
    } while (0)

#define EXPECT_PTR(what, p)                                          \
    EXPECT((p) != NULL, "%s: expected an address, got NULL (errno %s)", \
           (what), hx_errname(errno))

#define EXPECT_NULL(what, p)                                         \
    EXPECT((p) == NULL, "%s: expected NULL, got an address", (what))

/* Skip the running test, visibly, because this machine cannot run it
 * (e.g. it needs root to switch to another uid). The test earns nothing and
 * is reported as SKIP with the reason. Call it, then return from the body. */
void hx_skip(const char *reason);

/* Called, if a suite's program defines them, in the runner before its
 * tests are forked and after they have all run (cx.c: a Valgrind pass's
 * shared subject). */
void hx_before(void) __attribute__((weak));
void hx_after(void) __attribute__((weak));

/* The name of the test running in this process, or NULL. */
const char *hx_test_name(void);

/* errno's symbolic name, "EINVAL"; "errno 0" style for unknown values. */
const char *hx_errname(int err);

/* Whether the tests run under Valgrind (HX_MEMCHECK=1): CPU-time and
 * speed observations mean nothing there. */
int hx_memcheck(void);

/* n, or n / 100 (at least 1) under Valgrind: loops stay quick there. */
long hx_iters(long n);

/* Write "/shmlabs.RUN.tag" into buf: a shared-memory object name that two
 * gradings at once never share, and that the grader sweeps after the run.
 * Returns buf. */
char *hx_shm_name(char *buf, size_t size, const char *tag);

#endif
