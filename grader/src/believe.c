/* believe.c - what the grader takes from a test program's results.
 *
 * The test program links submitted code, so its results file is a claim,
 * not a fact. The list of a lab's tests and their points comes from the
 * suite's source, which no submitted code touches: its TEST(name, points,
 * "§N") lines. A results file earns points only if it names exactly those
 * tests (or, for --only, exactly that one), each once; the points are the
 * source's, never the file's. Anything else makes the lab "broken".
 */
#define _GNU_SOURCE
#include "grade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TESTS 256

struct decl {
    char name[NAME_MAX_];
    int points;
    int seen;
};

/* The tests declared in suite.c at path. Returns how many (into d), or -1
 * if it cannot be read. */
static int declared(const char *path, struct decl *d, int max)
{
    char *src = file_read(path, 1 << 20, NULL), *line, *save = NULL;
    int n = 0;

    if (src == NULL)
        return -1;
    for (line = strtok_r(src, "\n", &save); line && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char name[NAME_MAX_];
        int pts;
        if (sscanf(line, "TEST(%63[a-z0-9_], %d,", name, &pts) == 2) {
            snprintf(d[n].name, sizeof d[n].name, "%s", name);
            d[n].points = pts;
            d[n++].seen = 0;
        }
    }
    free(src);
    return n;
}

/* The declaration of name in d, or NULL. */
static struct decl *find(struct decl *d, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(d[i].name, name) == 0)
            return &d[i];
    return NULL;
}

int believe(const char *suite_c, const char *only, struct lab *l)
{
    struct decl d[MAX_TESTS];
    int n = declared(suite_c, d, MAX_TESTS), want = 0;

    if (n <= 0) {
        l->note = str_printf("the grader cannot read the tests declared in %s",
                             suite_c);
        return -1;
    }
    for (int i = 0; i < l->ntests; i++) {
        struct test *t = &l->tests[i];
        struct decl *k = find(d, n, t->name);
        if (k == NULL || k->seen++ || (only && strcmp(only, t->name) != 0)) {
            l->note = str_printf("the test program's results are not to be "
                                 "believed: test '%.64s' %s", t->name,
                                 k == NULL ? "is not in the suite" :
                                 k->seen > 1 ? "is reported twice" : "was not run");
            return -1;
        }
        t->points = k->points;          /* the source's, not the file's */
        t->earned = strcmp(t->verdict, "pass") == 0 ? t->points : 0;
    }
    for (int i = 0; i < n; i++)
        want += only ? strcmp(d[i].name, only) == 0 : 1;
    if (l->ntests != want) {
        l->note = str_printf("the test program's results are not to be believed: "
                             "they report %d of the suite's %d tests",
                             l->ntests, want);
        return -1;
    }
    return 0;
}
