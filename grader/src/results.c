/* results.c - read the verdicts a test binary wrote (see harness/hx.c).
 *
 * Format, one record a line, fields separated by tabs:
 *   hx 1 LAB
 *   t NAME POINTS VERDICT SECTION PART FILE:LINE MESSAGE   (one per test)
 *   end COUNT
 * PART and MESSAGE have \t, \n and \\ escaped. A file without its end
 * line is incomplete and rejected.
 */
#define _GNU_SOURCE
#include "grade.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Undo hx_put_escaped in place. */
static void unescape(char *s)
{
    char *w = s;

    for (; *s != '\0'; s++) {
        if (*s == '\\' && s[1] != '\0') {
            s++;
            *w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* Split line at tabs into at most max fields. Returns how many. */
static int split(char *line, char *f[], int max)
{
    int n = 0;

    line[strcspn(line, "\n")] = '\0';
    while (n < max) {
        f[n++] = line;
        line = strchr(line, '\t');
        if (line == NULL)
            break;
        *line++ = '\0';
    }
    return n;
}

/* Fill t from the 8 fields of a "t" record. Returns 0, or -1. */
static int parse_test(char *f[], struct test *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", f[1]);
    t->points = atoi(f[2]);
    snprintf(t->verdict, sizeof t->verdict, "%s", f[3]);
    snprintf(t->section, sizeof t->section, "%s", f[4]);
    unescape(f[5]);
    snprintf(t->part, sizeof t->part, "%s", f[5]);
    snprintf(t->where, sizeof t->where, "%s", f[6]);
    unescape(f[7]);
    t->msg = strdup(f[7]);
    t->earned = strcmp(t->verdict, "pass") == 0 ? t->points : 0;
    return t->msg == NULL ? -1 : 0;
}

int results_parse(const char *path, struct lab *lab)
{
    size_t len;
    char *buf = file_read(path, 1 << 20, &len), *line, *save = NULL, *f[8];
    int n, ended = 0, cap = 0, rc = -1;

    if (buf == NULL)
        return -1;
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        n = split(line, f, 8);
        if (n == 8 && strcmp(f[0], "t") == 0) {
            if (lab->ntests == cap) {
                cap = cap ? 2 * cap : 32;
                struct test *t = realloc(lab->tests, (size_t)cap * sizeof *t);
                if (t == NULL)
                    goto out;
                lab->tests = t;
            }
            if (parse_test(f, &lab->tests[lab->ntests]) == -1)
                goto out;
            lab->ntests++;
        } else if (n == 2 && strcmp(f[0], "end") == 0) {
            ended = atoi(f[1]) == lab->ntests;
        }
    }
    rc = ended ? 0 : -1;
    if (!ended)
        errno = EBADMSG;
out:
    free(buf);
    return rc;
}
