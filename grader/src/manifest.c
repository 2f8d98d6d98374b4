/* manifest.c - read grader/suites/LAB/manifest and find labs by name.
 *
 * A manifest is lines of "key value...", '#' starts a comment:
 *   title, handin (file names), programs, points, memcheck,
 *   test_timeout, run_timeout; a hidden suite's also visibility
 *   (Gradescope's: hidden, after_due_date, after_published, visible).
 */
#define _GNU_SOURCE
#include "grade.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A handin name is a plain file name: no slash, no leading dot. */
static int name_ok(const char *s)
{
    if (*s == '\0' || *s == '.' || strlen(s) >= NAME_MAX_)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

/* Apply one "key value" line to m. Returns 0, or -1 if it is malformed. */
static int manifest_line(char *key, char *val, struct manifest *m)
{
    if (strcmp(key, "title") == 0) {
        snprintf(m->title, sizeof m->title, "%s", val);
    } else if (strcmp(key, "handin") == 0) {
        for (char *t = strtok(val, " \t"); t; t = strtok(NULL, " \t")) {
            if (m->nhandin == MAX_HANDIN || !name_ok(t))
                return -1;
            snprintf(m->handin[m->nhandin++], NAME_MAX_, "%s", t);
        }
    } else if (strcmp(key, "points") == 0) {
        m->points = atoi(val);
    } else if (strcmp(key, "memcheck") == 0) {
        m->memcheck = atoi(val);
    } else if (strcmp(key, "test_timeout") == 0) {
        m->test_timeout = atof(val);
    } else if (strcmp(key, "run_timeout") == 0) {
        m->run_timeout = atof(val);
    } else if (strcmp(key, "visibility") == 0) {
        snprintf(m->visibility, sizeof m->visibility, "%s", val);
    }                                   /* others (programs) are make's */
    return 0;
}

/* Read the manifest at path into m (defaults first). Returns 0, or -1
 * with errno set. */
int manifest_read(const char *path, struct manifest *m)
{
    char line[512];
    int rc = 0;
    FILE *f;

    m->test_timeout = 5;
    m->run_timeout = 60;
    f = fopen(path, "re");
    if (f == NULL)
        return -1;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        char *hash = strchr(line, '#'), *key, *val;
        if (hash)
            *hash = '\0';
        key = strtok(line, " \t\n");
        val = key ? strtok(NULL, "\n") : NULL;
        if (key && val)
            rc = manifest_line(key, val + strspn(val, " \t"), m);
    }
    fclose(f);
    if (rc == -1)
        errno = EINVAL;
    return rc;
}

int manifest_load(const char *root, const char *lab, struct manifest *m)
{
    char path[4096];

    memset(m, 0, sizeof *m);
    snprintf(m->lab, sizeof m->lab, "%s", lab);
    snprintf(path, sizeof path, "%s/grader/suites/%s/manifest", root, lab);
    if (manifest_read(path, m) == -1)
        return -1;
    if (m->nhandin == 0 || m->points <= 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Labs whose name starts with want ("01" or "01-mmap"; NULL: all), sorted.
 * Returns how many were stored in labs, or -1 with errno set. */
int manifest_find(const char *root, const char *want, char labs[][NAME_MAX_],
                  int max)
{
    char path[4096];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof path, "%s/grader/suites", root);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= NAME_MAX_)
            continue;
        if (want != NULL && strncmp(e->d_name, want, strlen(want)) != 0)
            continue;
        memcpy(labs[n++], e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    qsort(labs, (size_t)n, NAME_MAX_, by_name);
    return n;
}
