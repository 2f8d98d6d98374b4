/* report.c - what a grading run tells people and tools: the text table,
 * Gradescope's results.json, and the self-test's expectation check.
 */
#define _GNU_SOURCE
#include "grade.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 64

/* "  PASS  name ........ 2/2", the tag coloured on a terminal; earned -1
 * prints as "-" (no grade). */
static void row(const char *tag, const char *name, int earned, int max)
{
    int pad = WIDTH - 8 - (int)strlen(name);
    const char *c = strcmp(tag, "PASS") == 0 ? "\033[32m" :
                    strcmp(tag, "SKIP") == 0 ? "\033[33m" : "\033[31m";
    char e[16] = "-";

    if (earned >= 0)
        snprintf(e, sizeof e, "%d", earned);
    printf("  %s%-5s%s %s %*s/%d\n", colour(c), tag, colour("\033[0m"), name,
           pad > 0 ? pad : 1, e, max);
}

/* Print text indented by 8, one line at a time. */
static void indented(const char *text)
{
    while (text && *text) {
        int n = (int)strcspn(text, "\n");
        printf("        %.*s\n", n, text);
        text += n + (text[n] == '\n');
    }
}

static const char *tag_of(const struct test *t)
{
    if (strcmp(t->verdict, "pass") == 0)
        return "PASS";
    if (strcmp(t->verdict, "skip") == 0)
        return "SKIP";
    return strcmp(t->verdict, "fail") == 0 ? "FAIL" : "ERROR";
}

/* path without the tree's own prefix, on the host or in a view (a handin
 * file is shown by its name alone). */
static const char *relative(const char *root, const char *path)
{
    const char *prefix[] = { VIEW_ROOT "/handin/", VIEW_ROOT "/", root };

    for (int i = 0; i < 3 && prefix[i] != NULL; i++) {
        size_t n = strlen(prefix[i]);
        if (strncmp(path, prefix[i], n) == 0)
            return path + n + (prefix[i][n - 1] != '/' && path[n] == '/');
    }
    return path;
}

/* How to rerun a test by hand, for the first failure of a lab. */
static void rerun_hint(const struct opts *o, const struct lab *l, const char *t)
{
    char lab[3] = { l->m.lab[0], l->m.lab[1], '\0' };

    if (o->mode == 'g')
        printf("  rerun: make check LAB=%s%s%s%s%s%s%s\n", lab,
               strcmp(o->src, "labs") ? " SRC=" : "",
               strcmp(o->src, "labs") ? o->src : "", t ? " T=" : "", t ? t : "",
               l->seed ? " SEED=" : "", l->seed ? l->seed : "");
    else if (t)                         /* the calls it made */
        printf("  debug: cd %s && gdb --args ./subject --replay calls/%s\n",
               relative(o->root, l->out ? l->out : "."), t);
}

/* What a lab that gave no verdicts is called in reports. */
static const char *state_name(enum lab_state s)
{
    return s == LAB_MISSING ? "handin" : s == LAB_NOBUILD ? "build" :
           s == LAB_BROKEN ? "tests" : "grader";
}

static void report_lab(const struct opts *o, const struct lab *l)
{
    const char *part = "", *first = NULL;

    printf("\n%s  %s", l->m.lab, l->m.title);
    if (l->seed)
        printf("  (seed %s)", l->seed);
    putchar('\n');
    if (l->state != LAB_RAN) {
        row("ERROR", state_name(l->state), l->state == LAB_INFRA ? -1 : 0,
            lab_max(l));
        indented(l->note);
    }
    for (int i = 0; l->state == LAB_RAN && i < l->ntests; i++) {
        const struct test *t = &l->tests[i];
        if (strcmp(part, t->part) != 0)
            printf(" %s\n", part = t->part);
        row(tag_of(t), t->name, t->earned, t->points);
        if (t->earned == t->points)
            continue;
        indented(t->msg);
        if (strcmp(t->verdict, "skip") == 0)
            continue;
        first = first ? first : t->name;
        printf("        (%s; read handouts/%s.md %s)\n", relative(o->root, t->where),
               l->m.lab, t->section);
    }
    if (l->m.memcheck > 0 && l->state == LAB_RAN && o->mode != 'c') {
        printf(" Valgrind\n");
        row(l->mc_ran ? (l->mc_earned ? "PASS" : "FAIL") : "SKIP", "memcheck",
            l->mc_earned, l->m.memcheck);
        indented(l->mc_note);
    }
    if (o->mode == 'g' && l->state == LAB_INFRA)
        printf("  %-*s -/%d\n", WIDTH - 3, "no grade: the grader failed, not the code",
               lab_max(l));
    else if (o->mode == 'g')
        printf("  %-*s %d/%d\n", WIDTH - 3, "total", lab_score(l), lab_max(l));
    if (o->mode == 'c' && l->state == LAB_RAN)
        printf("  %-*s %d/%d\n  (the Valgrind pass: make memcheck LAB=%.2s)\n",
               WIDTH - 3, "tests", lab_score(l), lab_points(l), l->m.lab);
    if (first || (l->state != LAB_RAN && l->state != LAB_INFRA))
        rerun_hint(o, l, first);
}

void report_text(const struct opts *o, const struct lab *labs, int n)
{
    int score = 0, max = 0, infra = 0;

    for (int i = 0; i < n; i++) {
        report_lab(o, &labs[i]);
        score += lab_score(&labs[i]);
        max += lab_max(&labs[i]);
        infra += labs[i].state == LAB_INFRA;
    }
    if (o->mode == 'g' && infra)
        printf("\nTOTAL: no grade: the grader itself failed on %d lab%s (see "
               "above); fix that and grade again\n", infra, infra == 1 ? "" : "s");
    else if (o->mode == 'g')
        printf("\n%-*s %d/%d\n", WIDTH - 1, "TOTAL", score, max);
}

/* The length of the UTF-8 sequence at p, or 0 if it is not valid. */
static int utf8_len(const unsigned char *p)
{
    int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
            : (*p >> 3) == 30 ? 4 : 0;

    for (int k = 1; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* Write s as a JSON string: control bytes escaped, invalid UTF-8 replaced
 * by U+FFFD, so that whatever a submission printed stays valid JSON. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    fputc('"', f);
    while (*p) {
        int len = utf8_len(p);
        if (len == 0) {
            fputs("\\ufffd", f);
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, (size_t)len, f);
            p += len;
        }
    }
    fputc('"', f);
}

static void json_test(FILE *f, int *first, const char *name, int score,
                      int max, const char *output, const char *visibility)
{
    fprintf(f, "%s\n    {\"name\": ", *first ? "" : ",");
    json_str(f, name);
    fprintf(f, ", \"score\": %d, \"max_score\": %d, \"status\": \"%s\", "
            "\"visibility\": \"%s\", \"output\": ",
            score, max, score == max ? "passed" : "failed",
            visibility && *visibility ? visibility : "visible");
    json_str(f, output);
    fputc('}', f);
    *first = 0;
}

static void json_lab(FILE *f, int *first, const struct lab *l)
{
    char name[512];

    if (l->state != LAB_RAN) {
        snprintf(name, sizeof name, "%s: %s", l->m.lab, state_name(l->state));
        json_test(f, first, name, 0, lab_max(l), l->note, NULL);
        return;
    }
    for (int i = 0; i < l->ntests; i++) {
        const struct test *t = &l->tests[i];
        char *out = t->earned == t->points ? strdup("") :
            str_printf("%s\n(%s; read handouts/%s.md %s)", t->msg,
                       relative(NULL, t->where), l->m.lab, t->section);
        snprintf(name, sizeof name, "%s: %s: %s", l->m.lab, t->part, t->name);
        json_test(f, first, name, t->earned, t->points, out, t->visibility);
        free(out);
    }
    if (l->m.memcheck > 0) {
        snprintf(name, sizeof name, "%s: Valgrind: memcheck", l->m.lab);
        json_test(f, first, name, l->mc_earned, l->m.memcheck, l->mc_note, NULL);
    }
}

int report_json(const char *path, const struct lab *labs, int n, double secs)
{
    FILE *f = fopen(path, "we");
    int score = 0, max = 0, first = 1;

    if (f == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        score += lab_score(&labs[i]);
        max += lab_max(&labs[i]);
    }
    fprintf(f, "{\n  \"score\": %d,\n  \"execution_time\": %.0f,\n"
            "  \"output\": \"shm-labs: %d/%d\",\n  \"visibility\": \"visible\","
            "\n  \"tests\": [", score, secs, score, max);
    for (int i = 0; i < n; i++)
        json_lab(f, &first, &labs[i]);
    fprintf(f, "\n  ]\n}\n");
    return fclose(f) == EOF ? -1 : 0;
}

/* Whether name is in the space- or comma-separated list. */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || strchr(" ,", p[-1])) && strchr(" ,", p[n]))
            return 1;
    return 0;
}

/* Compare one failing-or-passing item with the expectation, which names
 * it plainly (name) or with its lab (01-mmap:name). */
static int expect_one(const char *expect, const char *lab, const char *name,
                      int failed)
{
    char full[2 * NAME_MAX_ + 2];
    int want;

    snprintf(full, sizeof full, "%s:%s", lab, name);
    want = strcmp(expect, "*") == 0 || listed(expect, name) || listed(expect, full);

    /* "name?": a racy bug that this test catches in some runs only (the
     * tests that force its interleaving are listed plainly). */
    char maybe[sizeof full + 1];
    snprintf(maybe, sizeof maybe, "%s?", name);
    if (want == failed || listed(expect, maybe))
        return 0;
    printf("expect: %s: %s %s, expected it to %s\n", lab, name,
           failed ? "lost points" : "passed", want ? "lose points" : "pass");
    return -1;
}

/* Whether word (a name or LAB:name) of an --expect-fail list names a test,
 * the memcheck pass or the state of one of labs. */
static int expect_known(const char *word, const struct lab *labs, int n)
{
    char bare[2 * NAME_MAX_ + 2];

    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(word, "?"), word);
    for (int i = 0; i < n; i++) {
        const struct lab *l = &labs[i];
        size_t k = strlen(l->m.lab);
        const char *name = strncmp(bare, l->m.lab, k) == 0 && bare[k] == ':'
                           ? bare + k + 1 : bare;
        if (strcmp(name, "memcheck") == 0 || strcmp(name, state_name(l->state)) == 0)
            return 1;
        for (int t = 0; t < l->ntests; t++)
            if (strcmp(name, l->tests[t].name) == 0)
                return 1;
    }
    return 0;
}

int report_expect(const char *expect, const struct lab *labs, int n)
{
    int rc = 0;
    char words[1024], *save = NULL;

    /* A name that matches nothing would hold whatever happened. */
    snprintf(words, sizeof words, "%s", expect);
    for (char *w = strtok_r(words, " ,", &save); w && strcmp(expect, "*") != 0;
         w = strtok_r(NULL, " ,", &save))
        if (!expect_known(w, labs, n)) {
            printf("expect: '%s' names no test, no memcheck pass and no lab "
                   "state here\n", w);
            rc = -1;
        }

    for (int i = 0; i < n; i++) {
        const struct lab *l = &labs[i];
        if (l->state != LAB_RAN) {
            rc |= expect_one(expect, l->m.lab, state_name(l->state), 1);
            continue;
        }
        for (int k = 0; k < l->ntests; k++)     /* a skip says neither */
            if (strcmp(l->tests[k].verdict, "skip") != 0)
                rc |= expect_one(expect, l->m.lab, l->tests[k].name,
                                 l->tests[k].earned < l->tests[k].points);
        if (l->m.memcheck > 0)
            rc |= expect_one(expect, l->m.lab, "memcheck",
                             l->mc_earned < l->m.memcheck);
    }
    return rc;
}

/* Write s as XML character data or attribute text: markup escaped, bytes
 * XML 1.0 forbids (control characters, invalid UTF-8) replaced. */
static void xml_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    while (*p) {
        int len = utf8_len(p);
        if (len == 0 || (*p < 0x20 && *p != '\n' && *p != '\t')) {
            fputs(len ? "?" : "\xef\xbf\xbd", f);
            p++;
            continue;
        }
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': fputs("&#10;", f); break;
        default: fwrite(p, 1, (size_t)len, f);
        }
        p += len;
    }
}

/* One <testcase>; kind is NULL (passed), "failure", "error" or "skipped". */
static void junit_case(FILE *f, const char *cls, const char *name,
                       const char *kind, const char *msg)
{
    fputs("    <testcase classname=\"", f);
    xml_str(f, cls);
    fputs("\" name=\"", f);
    xml_str(f, name);
    if (kind == NULL) {
        fputs("\"/>\n", f);
        return;
    }
    fprintf(f, "\">\n      <%s message=\"", kind);
    xml_str(f, msg);
    fprintf(f, "\"/>\n    </testcase>\n");
}

static const char *junit_kind(const struct test *t)
{
    if (t->earned == t->points)
        return NULL;
    if (strcmp(t->verdict, "skip") == 0)
        return "skipped";
    return strcmp(t->verdict, "fail") == 0 ? "failure" : "error";
}

static void junit_lab(FILE *f, const struct lab *l)
{
    int n = l->state == LAB_RAN ? l->ntests + (l->m.memcheck > 0) : 1;
    int fails = 0, errors = 0, skips = 0;
    char cls[256];

    for (int i = 0; l->state == LAB_RAN && i < l->ntests; i++) {
        const char *k = junit_kind(&l->tests[i]);
        fails += k && strcmp(k, "failure") == 0;
        errors += k && strcmp(k, "error") == 0;
        skips += k && strcmp(k, "skipped") == 0;
    }
    fails += l->state == LAB_RAN && l->m.memcheck > 0 && l->mc_earned < l->m.memcheck;
    errors += l->state != LAB_RAN;
    fputs("  <testsuite name=\"", f);
    xml_str(f, l->m.lab);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
            "time=\"%.3f\">\n", n, fails, errors, skips, l->secs);
    if (l->state != LAB_RAN)
        junit_case(f, l->m.lab, state_name(l->state), "error", l->note);
    for (int i = 0; l->state == LAB_RAN && i < l->ntests; i++) {
        const struct test *t = &l->tests[i];
        snprintf(cls, sizeof cls, "%s.%s", l->m.lab, t->part);
        junit_case(f, cls, t->name, junit_kind(t), t->msg);
    }
    if (l->state == LAB_RAN && l->m.memcheck > 0)
        junit_case(f, l->m.lab, "memcheck",
                   l->mc_earned < l->m.memcheck ? "failure" : NULL, l->mc_note);
    fputs("  </testsuite>\n", f);
}

int report_junit(const char *path, const struct lab *labs, int n)
{
    FILE *f = fopen(path, "we");

    if (f == NULL)
        return -1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shm-labs\">\n", f);
    for (int i = 0; i < n; i++)
        junit_lab(f, &labs[i]);
    fputs("</testsuites>\n", f);
    return fclose(f) == EOF ? -1 : 0;
}

/* Text as TAP diagnostic lines ("  # ..."). */
static void tap_diag(FILE *f, const char *text)
{
    while (text && *text) {
        int k = (int)strcspn(text, "\n");
        fprintf(f, "  # %.*s\n", k, text);
        text += k + (text[k] == '\n');
    }
}

/* One TAP line for an item worth max points of which earned were earned. */
static void tap_line(FILE *f, int *k, const char *lab, const char *name,
                     int earned, int max, const char *skip, const char *msg)
{
    fprintf(f, "%s %d - %s %s (%d/%d)", earned == max || skip ? "ok" : "not ok",
            ++*k, lab, name, earned, max);
    if (skip)
        fprintf(f, " # SKIP %s", skip);
    fputc('\n', f);
    if (earned < max && !skip)
        tap_diag(f, msg);
}

int report_tap(const char *path, const struct lab *labs, int n)
{
    FILE *f = fopen(path, "we");
    int total = 0, k = 0;

    if (f == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        total += labs[i].state == LAB_RAN
                 ? labs[i].ntests + (labs[i].m.memcheck > 0) : 1;
    fprintf(f, "TAP version 13\n1..%d\n", total);
    for (int i = 0; i < n; i++) {
        const struct lab *l = &labs[i];
        if (l->state != LAB_RAN)
            tap_line(f, &k, l->m.lab, state_name(l->state), 0, lab_max(l),
                     NULL, l->note);
        for (int j = 0; l->state == LAB_RAN && j < l->ntests; j++) {
            const struct test *t = &l->tests[j];
            int skip = strcmp(t->verdict, "skip") == 0;
            tap_line(f, &k, l->m.lab, t->name, t->earned, t->points,
                     skip ? t->msg : NULL, t->msg);
        }
        if (l->state == LAB_RAN && l->m.memcheck > 0)
            tap_line(f, &k, l->m.lab, "memcheck", l->mc_earned, l->m.memcheck,
                     NULL, l->mc_note);
    }
    return fclose(f) == EOF ? -1 : 0;
}

int report_summary(const char *path, const struct lab *labs, int n, int infra)
{
    FILE *f = fopen(path, "we");
    int score = 0, max = 0;

    if (f == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\t%d\t%d\t%s\n", labs[i].m.lab, lab_score(&labs[i]),
                lab_max(&labs[i]), labs[i].state == LAB_RAN ? "ran" :
                state_name(labs[i].state));
        score += lab_score(&labs[i]);
        max += lab_max(&labs[i]);
    }
    fprintf(f, "total\t%d\t%d\t%s\n", score, max, infra ? "error" : "ok");
    return fclose(f) == EOF ? -1 : 0;
}
