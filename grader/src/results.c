/* results.c - read the verdicts a test binary wrote (see harness/hx.c).
 *
 * Format, one record a line, fields separated by tabs:
 *   hx 1 LAB
 *   t NAME POINTS VERDICT SECTION PART FILE:LINE MESSAGE   (one per test)
 *   end COUNT
 * PART and MESSAGE have \t, \n and \\ escaped. A file without its end
 * line is incomplete and rejected. The grader's own copy of a lab's result
 * (lab_save, for labs graded in parallel) adds a VISIBILITY field to each
 * test and "lab KEY VALUE" lines for the rest of struct lab.
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

/* Write s with tabs, newlines and backslashes escaped. */
static void escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\t' || *s == '\n' || *s == '\\')
            fprintf(f, "\\%c", *s == '\t' ? 't' : *s == '\n' ? 'n' : '\\');
        else
            fputc(*s, f);
    }
}

/* Set the field of l that lab_save wrote as "lab KEY VALUE". */
static void lab_field(struct lab *l, const char *key, const char *val)
{
    if (strcmp(key, "state") == 0)
        l->state = (enum lab_state)atoi(val);
    else if (strcmp(key, "mc") == 0)
        sscanf(val, "%d %d %d", &l->mc_ran, &l->mc_earned, &l->hidden_points);
    else if (strcmp(key, "secs") == 0)
        l->secs = atof(val);
    else if (strcmp(key, "note") == 0 && l->note == NULL)
        l->note = strdup(val);
    else if (strcmp(key, "mc_note") == 0 && l->mc_note == NULL)
        l->mc_note = strdup(val);
    else if (strcmp(key, "out") == 0 && l->out == NULL)
        l->out = strdup(val);
    else if (strcmp(key, "seed") == 0 && l->seed == NULL)
        l->seed = strdup(val);
}

int lab_save(const char *path, const struct lab *l)
{
    FILE *f = fopen(path, "we");

    if (f == NULL)
        return -1;
    fprintf(f, "lab\tstate\t%d\nlab\tmc\t%d %d %d\nlab\tsecs\t%.3f\n", (int)l->state,
            l->mc_ran, l->mc_earned, l->hidden_points, l->secs);
    const char *key[] = { "note", "mc_note", "out", "seed" };
    const char *val[] = { l->note, l->mc_note, l->out, l->seed };
    for (int i = 0; i < 4; i++) {
        if (val[i] == NULL)
            continue;
        fprintf(f, "lab\t%s\t", key[i]);
        escape(f, val[i]);
        fputc('\n', f);
    }
    for (int i = 0; i < l->ntests; i++) {
        const struct test *t = &l->tests[i];
        fprintf(f, "t\t%s\t%d\t%s\t%s\t", t->name, t->points, t->verdict, t->section);
        escape(f, t->part);
        fprintf(f, "\t%s\t", t->where);
        escape(f, t->msg);
        fprintf(f, "\t%s\n", t->visibility);
    }
    fprintf(f, "end\t%d\n", l->ntests);
    return fclose(f) == EOF ? -1 : 0;
}

static int parse(const char *path, struct lab *lab, int ours);

int lab_load(const char *path, struct lab *l)
{
    return parse(path, l, 1);
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
    if (f[8] != NULL)
        snprintf(t->visibility, sizeof t->visibility, "%s", f[8]);
    t->earned = strcmp(t->verdict, "pass") == 0 ? t->points : 0;
    return t->msg == NULL ? -1 : 0;
}

int results_parse(const char *path, struct lab *lab)
{
    return parse(path, lab, 0);
}

/* Read a results file; "lab" records only if it is ours (lab_save's), and
 * no record of any other kind, nor anything after its end. Returns 0, or
 * -1 with errno set (ENODATA: it has no end; EBADMSG: a record it may not
 * hold). */
static int parse(const char *path, struct lab *lab, int ours)
{
    size_t len;
    char *buf = file_read(path, 1 << 20, &len), *line, *save = NULL, *f[9];
    int n, ended = 0, cap = 0, rc = -1;

    if (buf == NULL)
        return -1;
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        n = split(line, f, 9);
        f[8] = n == 9 ? f[8] : NULL;
        if (ended) {                    /* nothing may follow the end */
            ended = -1;
            break;
        }
        if (n >= 8 && strcmp(f[0], "t") == 0) {
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
        } else if (n == 2 && strcmp(f[0], "end") == 0 && !ended) {
            ended = atoi(f[1]) == lab->ntests ? 1 : -1;
        } else if (n == 3 && strcmp(f[0], "lab") == 0 && ours) {
            unescape(f[2]);
            lab_field(lab, f[1], f[2]);
        } else if (!(n >= 3 && strcmp(f[0], "hx") == 0)) {
            ended = -1;                 /* a record it may not write */
            break;
        }
    }
    rc = ended == 1 ? 0 : -1;
    if (rc == -1)
        errno = ended == 0 ? ENODATA : EBADMSG;
out:
    free(buf);
    return rc;
}
