/* hx.c - main() of every lab's test binary: runs the suite under Check.
 *
 * Usage: ./test [name...]           run every test, or only those named
 *        HX_RESULTS=FILE ./test     write the verdicts to FILE for the grader
 *        HX_JOBS=K HX_RESULTS=...   the same, K runners at once
 *        HX_FIRST_FAIL=1 ...        skip every test after one that failed
 *
 * Each test runs in a TCase of its own (Check forks it, times it out and
 * catches its signals). Check calls a test that exit(0)s early "passed", so
 * the harness also asks for proof that the body ran to its end: a mark in
 * a MAP_SHARED page that the forked test writes after the body returns.
 */
#define _GNU_SOURCE
#include "hx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HX_MAX_TESTS 128
#define HX_TIMEOUT_DEFAULT 5            /* seconds per test, before scaling */

enum hx_verdict { HX_PASS, HX_FAIL, HX_ERROR, HX_EARLY, HX_SKIP };

static const char *const verdict_name[] = { "pass", "fail", "error", "early",
                                            "skip" };

#define HX_REASON 160

/* Shared with the forked tests: proof of completion and skip reasons. */
struct hx_shared {
    uint64_t done[HX_MAX_TESTS];        /* token ^ index once a body returned */
    unsigned char started[HX_MAX_TESTS]; /* 1 once a body began */
    char skip[HX_MAX_TESTS][HX_REASON]; /* why a test skipped itself, or "" */
};

/* The suite flattened, and the marks page. File-scope because Check's test
 * callback receives nothing but a loop index. */
static struct {
    const struct hx_test *test[HX_MAX_TESTS];
    const char *part[HX_MAX_TESTS];
    int n;
    uint64_t token;             /* random per run; a mark is token ^ index */
    int current;                /* the test running in this process */
    struct hx_shared *sh;       /* MAP_SHARED: written by the forked tests */
} hx;

const char *hx_test_name(void)
{
    return hx.current >= 0 && hx.current < hx.n ? hx.test[hx.current]->name : NULL;
}

void hx_skip(const char *reason)
{
    snprintf(hx.sh->skip[hx.current], HX_REASON, "skipped: %s", reason);
}

static int hx_mine(int i);

/* With HX_FIRST_FAIL=1 (grade --first-fail), whether a test this runner
 * ran before test i failed: it began and its body did not return. */
static int hx_failed_before(int i)
{
    const char *f = getenv("HX_FIRST_FAIL");

    if (f == NULL || strcmp(f, "1") != 0)
        return 0;
    for (int j = 0; j < i; j++)
        if (hx_mine(j) && hx.sh->started[j] && hx.sh->done[j] != (hx.token ^ (uint64_t)j))
            return 1;
    return 0;
}

static void hx_run(int i)
{
    hx.current = i;
    if (hx_failed_before(i)) {
        hx_skip("not run: an earlier test failed (grade --first-fail)");
    } else {
        hx.sh->started[i] = 1;
        hx.test[i]->body();
    }
    hx.sh->done[i] = hx.token ^ (uint64_t)i;    /* the body ran to its end */
}

static const TTest hx_ttest = { "hx_run", hx_run, __FILE__, __LINE__ };

/* Flatten hx_parts into hx.test. Returns 0, or -1 if there are too many. */
static int hx_flatten(void)
{
    for (const struct hx_part *p = hx_parts; p->title != NULL; p++) {
        for (int j = 0; j < HX_PART_MAX && p->tests[j] != NULL; j++) {
            if (hx.n == HX_MAX_TESTS)
                return -1;
            hx.test[hx.n] = p->tests[j];
            hx.part[hx.n++] = p->title;
        }
    }
    return 0;
}

/* Whether test i is selected by the names on the command line. */
static int hx_selected(int i, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], hx.test[i]->name) == 0)
            return 1;
    return 0;
}

/* Returns the index of the first name in argv that is no test, or 0. */
static int hx_unknown(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        int i = 0;
        while (i < hx.n && strcmp(argv[a], hx.test[i]->name) != 0)
            i++;
        if (i == hx.n)
            return a;
    }
    return 0;
}

/* Whether test i is this runner's: with HX_JOBS=K runners (jobs.k of
 * jobs.n), every K-th; in the runner that runs again, alone, what did not
 * pass beside another (retry), those marked in again[]. */
static struct { int n, k, retry; unsigned char again[HX_MAX_TESTS]; } jobs = { 1, 0, 0, { 0 } };

static int hx_mine(int i)
{
    return jobs.retry ? jobs.again[i] : i % jobs.n == jobs.k;
}

static Suite *hx_suite(int argc, char **argv)
{
    const char *t = getenv("HX_TEST_TIMEOUT");
    double timeout = t ? atof(t) : HX_TIMEOUT_DEFAULT;
    Suite *s = suite_create(HX_LAB);

    for (int i = 0; i < hx.n; i++) {
        if (!hx_selected(i, argc, argv) || !hx_mine(i))
            continue;
        TCase *tc = tcase_create(hx.test[i]->name);
        tcase_set_timeout(tc, timeout > 0 ? timeout : HX_TIMEOUT_DEFAULT);
        tcase_add_loop_test(tc, &hx_ttest, i, i + 1);
        suite_add_tcase(s, tc);
    }
    return s;
}

/* The verdict for test i from Check's result r and the marks page. */
static enum hx_verdict hx_verdict(int i, TestResult *r)
{
    switch (tr_rtype(r)) {
    case CK_PASS:
        if (hx.sh->done[i] != (hx.token ^ (uint64_t)i))
            return HX_EARLY;
        return hx.sh->skip[i][0] != '\0' ? HX_SKIP : HX_PASS;
    case CK_FAILURE:
        return HX_FAIL;
    default:
        return HX_ERROR;
    }
}

/* Print s with tabs, newlines and backslashes escaped. */
static void hx_put_escaped(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\\': fputs("\\\\", f); break;
        default: fputc(*s, f);
        }
    }
}

/* One verdict: a results-file line, or a line for a person. */
static void hx_report(FILE *f, int machine, int i, TestResult *r)
{
    enum hx_verdict v = hx_verdict(i, r);
    const struct hx_test *t = hx.test[i];
    const char *msg = v == HX_EARLY
        ? "the test did not run to its end: did the code under test call"
          " exit() or _exit()?"
        : v == HX_SKIP ? hx.sh->skip[i] : tr_msg(r);

    if (machine) {
        fprintf(f, "t\t%s\t%d\t%s\t%s\t", t->name, t->points,
                verdict_name[v], t->section);
        hx_put_escaped(f, hx.part[i]);
        fprintf(f, "\t%s:%d\t", tr_lfile(r) ? tr_lfile(r) : "?", tr_lno(r));
        hx_put_escaped(f, v == HX_PASS ? "" : msg);
        fputc('\n', f);
    } else if (v == HX_PASS) {
        fprintf(f, "PASS  %s (%d)\n", t->name, t->points);
    } else if (v == HX_SKIP) {
        fprintf(f, "SKIP  %s (%d): %s\n", t->name, t->points, msg);
    } else {
        fprintf(f, "%s  %s (%d): %s [%s:%d; handouts/%s.md %s]\n",
                v == HX_FAIL ? "FAIL" : "ERROR", t->name, t->points, msg,
                tr_lfile(r) ? tr_lfile(r) : "?", tr_lno(r), HX_LAB, t->section);
    }
}

/* Index of the test Check ran as TCase `name`, or -1. */
static int hx_index(const char *name)
{
    for (int i = 0; i < hx.n; i++)
        if (strcmp(hx.test[i]->name, name) == 0)
            return i;
    return -1;
}

/* Write every result to path (through a temporary file and rename, so the
 * grader never reads half a file). Returns 0, or -1 with errno set. */
static int hx_write_results(const char *path, SRunner *sr)
{
    char tmp[4096];
    TestResult **res = srunner_results(sr);
    int n = srunner_ntests_run(sr), rc = -1;
    FILE *f = NULL;

    if (res == NULL)
        return -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        goto out;
    }
    f = fopen(tmp, "w");
    if (f == NULL)
        goto out;
    if (jobs.n == 1)
        fprintf(f, "hx\t1\t%s\n", HX_LAB);
    for (int k = 0; k < n; k++) {
        int i = hx_index(tr_tcname(res[k]));
        if (i >= 0)
            hx_report(f, 1, i, res[k]);
    }
    if (jobs.n == 1)
        fprintf(f, "end\t%d\n", n);
    if (fclose(f) == EOF) {
        f = NULL;
        goto out;
    }
    f = NULL;
    rc = rename(tmp, path);
out:
    if (f != NULL)
        fclose(f);
    free(res);
    return rc;
}

/* Print every result for a person; returns the number that did not pass. */
static int hx_print_results(SRunner *sr)
{
    TestResult **res = srunner_results(sr);
    int n = srunner_ntests_run(sr), bad = 0, skipped = 0;

    for (int k = 0; res != NULL && k < n; k++) {
        int i = hx_index(tr_tcname(res[k]));
        if (i < 0)
            continue;
        hx_report(stdout, 0, i, res[k]);
        enum hx_verdict v = hx_verdict(i, res[k]);
        skipped += v == HX_SKIP;
        bad += v != HX_PASS && v != HX_SKIP;
    }
    printf("%d passed, %d failed, %d skipped\n", n - bad - skipped, bad, skipped);
    free(res);
    return bad;
}

/* Run this runner's share of the suite and write its results (to path,
 * or with several runners to path.K: verdict lines only). Returns main's
 * exit status. */
static int hx_run_share(int argc, char **argv, const char *results)
{
    char part[4096];
    int bad;

    SRunner *sr = srunner_create(hx_suite(argc, argv));
    fflush(NULL);                   /* forked tests must not repeat output */
    if (hx_before)
        hx_before();
    srunner_run_all(sr, CK_SILENT);
    if (hx_after)
        hx_after();
    snprintf(part, sizeof part, "%s.%d", results ? results : "", jobs.k);
    if (results != NULL) {
        bad = hx_write_results(jobs.n > 1 ? part : results, sr) == -1 ? 2 : 0;
        if (bad)
            perror(results);
    } else {
        bad = hx_print_results(sr) ? 1 : 0;
    }
    srunner_free(sr);
    return bad;
}

/* Test i's line from runner k's part of the results into line. Returns
 * 1 if the part has it, 0 if not. */
static int hx_part_line(const char *results, int k, int i, char *line, int size)
{
    char part[4096];
    size_t len = strlen(hx.test[i]->name);
    int found = 0;

    snprintf(part, sizeof part, "%s.%d", results, k);
    FILE *in = fopen(part, "r");
    while (in && !found && fgets(line, size, in))
        found = strncmp(line + 2, hx.test[i]->name, len) == 0 && line[2 + len] == '\t';
    if (in)
        fclose(in);
    return found;
}

/* Whether a results line's test should run again, alone: it neither passed
 * nor skipped, and did not run out of time (which another runner beside it
 * could not have caused in the ms a test takes, and which would cost its
 * whole time again). */
static int hx_retry_line(const char *line)
{
    const char *v = strchr(line + 2, '\t');

    v = v ? strchr(v + 1, '\t') : NULL;
    return v && strncmp(v + 1, "pass\t", 5) != 0 && strncmp(v + 1, "skip\t", 5) != 0 &&
           strstr(line, "Test timeout expired") == NULL;
}

/* Run runners first .. first+count-1 (count 1 and retry: the one that runs
 * again what failed) and wait for them. Returns 0 if each wrote its part. */
static int hx_runners(int argc, char **argv, const char *results, int first, int count)
{
    pid_t pid[17];
    int bad = 0, st;

    for (int k = 0; k < count; k++) {
        jobs.k = first + k;
        if ((pid[k] = fork()) == 0)
            _exit(hx_run_share(argc, argv, results));
    }
    for (int k = 0; k < count; k++)
        bad |= pid[k] == -1 || waitpid(pid[k], &st, 0) == -1 || !WIFEXITED(st) ||
               WEXITSTATUS(st) != 0;
    return bad ? -1 : 0;
}

/* HX_JOBS=K with HX_RESULTS: run the suite in K runners at once, then run
 * again, one at a time, each test that failed beside another (so that what
 * one test's code does to the machine, a fork bomb say, costs no other
 * test a point), and join the parts into one results file, in test order.
 * Returns main's exit status. */
static int hx_run_jobs(int argc, char **argv, const char *results)
{
    int lines = 0, retry = 0;
    char tmp[4096], line[8192];
    FILE *out;

    if (hx_runners(argc, argv, results, 0, jobs.n) == -1)
        return 2;
    for (int i = 0; i < hx.n; i++)
        if (hx_part_line(results, i % jobs.n, i, line, sizeof line) && hx_retry_line(line)) {
            jobs.again[i] = 1;
            hx.sh->done[i] = 0;
            hx.sh->started[i] = 0;
            hx.sh->skip[i][0] = '\0';
            retry = 1;
        }
    jobs.retry = retry;
    if (retry && hx_runners(argc, argv, results, jobs.n, 1) == -1)
        return 2;
    snprintf(tmp, sizeof tmp, "%s.tmp", results);
    if ((out = fopen(tmp, "w")) == NULL)
        return 2;
    fprintf(out, "hx\t1\t%s\n", HX_LAB);
    for (int i = 0; i < hx.n; i++)
        if (hx_part_line(results, jobs.again[i] ? jobs.n : i % jobs.n, i, line, sizeof line)) {
            fputs(line, out);
            lines++;
        }
    fprintf(out, "end\t%d\n", lines);
    for (int k = 0; k <= jobs.n; k++) {
        snprintf(tmp, sizeof tmp, "%s.%d", results, k);
        remove(tmp);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", results);
    return fclose(out) == EOF || rename(tmp, results) == -1 ? 2 : 0;
}

/* How many tests argv selects. */
static int hx_count(int argc, char **argv)
{
    int n = 0;

    for (int i = 0; i < hx.n; i++)
        n += hx_selected(i, argc, argv);
    return n;
}

int main(int argc, char **argv)
{
    const char *results = getenv("HX_RESULTS");
    int bad;

    hx.current = -1;
    if (hx_flatten() == -1) {
        fprintf(stderr, "hx: more than %d tests\n", HX_MAX_TESTS);
        return 2;
    }
    if ((bad = hx_unknown(argc, argv)) != 0) {
        fprintf(stderr, "hx: %s has no test named '%s'\n", HX_LAB, argv[bad]);
        return 2;
    }
    if (getrandom(&hx.token, sizeof hx.token, 0) != (ssize_t)sizeof hx.token)
        hx.token = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    void *m = mmap(NULL, sizeof *hx.sh, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("hx: mmap");
        return 2;
    }
    hx.sh = m;

    const char *j = getenv("HX_JOBS");
    jobs.n = j && results && atoi(j) > 1 ? (atoi(j) > 16 ? 16 : atoi(j)) : 1;
    if (jobs.n > hx_count(argc, argv))
        jobs.n = hx_count(argc, argv) > 1 ? hx_count(argc, argv) : 1;
    bad = jobs.n > 1 ? hx_run_jobs(argc, argv, results)
                     : hx_run_share(argc, argv, results);
    munmap(m, sizeof *hx.sh);
    return bad;
}
