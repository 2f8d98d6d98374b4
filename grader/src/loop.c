/* loop.c - a student's daily loop: where each lab stands (make status)
 * and the next hint for the first failing test (make hint).
 *
 * Both read what the last "make check" left in build/check/TREE/LAB:
 * the results file and, for hints, hints.shown (how many hints of which
 * test were given). Hints are grader/suites/LAB/hints: "test<TAB>text"
 * lines, shown one at a time in file order.
 */
#define _GNU_SOURCE
#include "grade.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BAR 20

/* "\033[32m" and friends, only on a terminal and without NO_COLOR. */
const char *colour(const char *code)
{
    static int on = -1;

    if (on == -1)
        on = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    return on ? code : "";
}

/* Read the last check of lab into l. Returns 0, or -1 if there is none. */
static int last_check(const struct opts *o, const char *lab, struct lab *l)
{
    char *path = str_printf("%s/results", l->out = lab_out_dir(o, NULL, lab));
    int rc = path ? results_parse(path, l) : -1;

    free(path);
    return rc;
}

static void status_line(const struct opts *o, const char *lab)
{
    struct lab l = { 0 };
    struct stat st;
    char when[64] = "";

    if (manifest_load(o->root, lab, &l.m) == -1 || last_check(o, lab, &l) == -1) {
        printf("%-16s %snot checked yet%s: make check LAB=%.2s\n", lab,
               colour("\033[2m"), colour("\033[0m"), lab);
        lab_free(&l);
        return;
    }
    int got = lab_score(&l) - l.mc_earned, max = lab_points(&l);
    int fill = max > 0 ? got * BAR / max : 0;
    char *res = str_printf("%s/results", l.out);
    if (res && stat(res, &st) == 0)
        strftime(when, sizeof when, "%a %H:%M", localtime(&st.st_mtime));
    printf("%-16s %s[%.*s%.*s]%s %3d/%-3d %s\n", lab,
           colour(got == max ? "\033[32m" : "\033[33m"), fill,
           "####################", BAR - fill, "--------------------",
           colour("\033[0m"), got, max, when);
    free(res);
    lab_free(&l);
}

int loop_status(const struct opts *o)
{
    char labs[32][NAME_MAX_];
    int n = manifest_find(o->root, NULL, labs, 32);

    for (int i = 0; i < n; i++)
        status_line(o, labs[i]);
    printf("(tests from the last make check of each lab; "
           "the Valgrind pass: make memcheck LAB=NN)\n");
    return n > 0 ? 0 : 2;
}

/* How many hints of test `name` were shown, from OUT/hints.shown. */
static int shown(const char *out, const char *name)
{
    char *path = str_printf("%s/hints.shown", out);
    char *text = path ? file_read(path, 1 << 16, NULL) : NULL;
    char *p = text;
    int n = 0;
    size_t len = strlen(name);

    while (p && (p = strstr(p, name)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[len] == '\t')
            n = atoi(p + len + 1);
        p += len;
    }
    free(text);
    free(path);
    return n;
}

/* The k-th (from 0) hint for test `name`, malloc'd, or NULL; *total gets
 * how many there are. */
static char *nth_hint(const char *file, const char *name, int k, int *total)
{
    char *text = file_read(file, 1 << 20, NULL), *line, *save = NULL, *hit = NULL;
    size_t len = strlen(name);

    *total = 0;
    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, name, len) != 0 || line[len] != '\t')
            continue;
        if ((*total)++ == k)
            hit = strdup(line + len + 1);
    }
    free(text);
    return hit;
}

int loop_hint(const struct opts *o, const char *lab)
{
    struct lab l = { 0 };
    const struct test *t = NULL;
    int total = 0, k, rc = 0;

    if (manifest_load(o->root, lab, &l.m) == -1 || last_check(o, lab, &l) == -1) {
        printf("No test results for %s yet: run make check LAB=%.2s first.\n", lab, lab);
        lab_free(&l);
        return 0;
    }
    for (int i = 0; i < l.ntests && t == NULL; i++)
        if (strcmp(l.tests[i].verdict, "pass") != 0 && strcmp(l.tests[i].verdict, "skip") != 0)
            t = &l.tests[i];
    if (t == NULL) {
        printf("Every test of %s passed in the last make check. Next: make memcheck LAB=%.2s\n",
               lab, lab);
        lab_free(&l);
        return 0;
    }
    char *file = str_printf("%s/grader/suites/%s/hints", o->root, lab);
    k = shown(l.out, t->name);
    char *hint = file ? nth_hint(file, t->name, k, &total) : NULL;
    printf("First failing test: %s%s%s (handouts/%s.md %s)\n  %s\n", colour("\033[1m"),
           t->name, colour("\033[0m"), lab, t->section, t->msg);
    if (hint != NULL) {
        printf("Hint %d of %d:\n  %s\n", k + 1, total, hint);
        char *state = str_printf("%s/hints.shown", l.out);
        int fd = state ? open(state, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
                                     O_NONBLOCK | O_CLOEXEC, 0644) : -1;
        FILE *f = fd == -1 ? NULL : fdopen(fd, "a");   /* not through a link */
        if (fd != -1 && f == NULL)
            close(fd);
        if (f == NULL || fprintf(f, "%s\t%d\n", t->name, k + 1) < 0 || fclose(f) == EOF)
            rc = -1;
        free(state);
    } else {
        printf("%s\n", total ? "No more hints for this test: the handout section above"
                               " explains it." : "No hints for this test: read the"
                               " handout section above.");
    }
    free(hint);
    free(file);
    lab_free(&l);
    return rc == -1 ? 2 : 0;
}
