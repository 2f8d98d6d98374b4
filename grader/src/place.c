/* place.c - where a lab's build and runs find its files.
 *
 * With a view (grading as root), every command of a lab sees the same
 * fixed paths, whatever the checkout's path (/root/x, /tmp/x, a path with a
 * space), and nothing else of the trusted tree:
 *   /shm-labs/grader/lab.mk, /shm-labs/grader/harness     read-only
 *   /shm-labs/grader/checker, /shm-labs/grader/subject    read-only
 *   /shm-labs/grader/suites/LAB, /shm-labs/labs/LAB       read-only (public)
 *   /shm-labs/handin     the handin files                 read-only
 *   /shm-labs/suite      a hidden suite, only while the harness is built
 *                        (make harness: then without the handin files)
 *   /shm-labs/out        the build directory              writable
 * and, grading, each run's /tmp and /dev/shm in OUT-scratch (run.h).
 * Without one, the commands get the host's paths.
 */
#define _GNU_SOURCE
#include "grade.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEEN VIEW_ROOT

/* The binds of the views for lab; their strings go to p->str. binds, for
 * every command that builds or runs submitted code, have no hidden suite;
 * hbinds, for the harness build alone (make harness), have the hidden
 * suite and no handin files. Returns 0 or -1. */
static int view_binds(const struct opts *o, const char *lab, struct place *p)
{
    struct bind *b = p->binds, *h = p->hbinds;
    char **s = p->str;

    s[0] = str_printf("%s/grader/lab.mk", o->root);
    s[1] = str_printf("%s/grader/harness", o->root);
    s[2] = str_printf("%s/grader/suites/%s", o->root, lab);
    s[3] = str_printf(SEEN "/grader/suites/%s", lab);
    s[4] = str_printf("%s/labs/%s", o->root, lab);
    s[5] = str_printf(SEEN "/labs/%s", lab);
    s[6] = str_printf("%s/grader/checker", o->root);
    s[7] = str_printf("%s/grader/subject", o->root);
    for (int i = 0; i < 8; i++)
        if (s[i] == NULL)
            return -1;
    *b++ = (struct bind){ s[0], SEEN "/grader/lab.mk", 0 };
    *b++ = (struct bind){ s[1], SEEN "/grader/harness", 0 };
    *b++ = (struct bind){ s[2], s[3], 0 };
    *b++ = (struct bind){ s[4], s[5], 0 };
    *b++ = (struct bind){ s[6], SEEN "/grader/checker", 0 };
    *b++ = (struct bind){ s[7], SEEN "/grader/subject", 0 };
    for (struct bind *c = p->binds; c < b; c++)
        *h++ = *c;
    *b++ = (struct bind){ p->handin, SEEN "/handin", 0 };
    if (p->suite != NULL)
        *h++ = (struct bind){ p->suite, SEEN "/suite", 0 };
    *b++ = (struct bind){ p->out, SEEN "/out", 1 };
    *h++ = (struct bind){ p->out, SEEN "/out", 1 };
    *b = *h = (struct bind){ NULL, NULL, 0 };
    return 0;
}

/* Fill p for lab, built in out from the handin files in handin (and the
 * hidden suite in suite, or NULL), and make its directory for logs, OUT-logs:
 * outside the view, so that what a run leaves in out (a link, a FIFO) can
 * never be where the grader writes or reads a log. Returns 0, or -1 with
 * errno set. */
int place_make(const struct opts *o, const char *lab, const char *out,
               const char *handin, const char *suite, struct place *p)
{
    int view = o->view_dir != NULL;

    memset(p, 0, sizeof *p);
    p->out = realpath(out, NULL);       /* a view binds absolute paths */
    p->logs = str_printf("%s-logs", out);
    p->handin = realpath(handin, NULL);
    p->suite = suite ? realpath(suite, NULL) : NULL;
    /* Grading: every run's /tmp and /dev/shm share the grading's one disk
     * limit (view_disk). A student's check keeps a tmpfs each. */
    p->scratch = view && o->mode == 'g' && p->out ?
                 str_printf("%s-scratch", p->out) : NULL;
    p->suite_c = suite ? str_printf("%s/suite.c", suite) :
                 str_printf("%s/grader/suites/%s/suite.c", o->root, lab);
    p->root = strdup(view ? SEEN : o->root);
    p->seen_out = strdup(view ? SEEN "/out" : out);
    p->seen_handin = strdup(view ? SEEN "/handin" : handin);
    p->seen_suite = suite ? strdup(view ? SEEN "/suite" : suite) : NULL;
    if (!p->out || !p->logs || !p->handin || !p->suite_c || !p->root ||
        !p->seen_out || !p->seen_handin || (suite && (!p->suite || !p->seen_suite)) ||
        (view && o->mode == 'g' && !p->scratch) ||
        (view && view_binds(o, lab, p) == -1) || dir_make(p->logs) == -1) {
        place_free(p);
        return -1;
    }
    return 0;
}

void place_free(struct place *p)
{
    int err = errno;

    free(p->out);
    free(p->logs);
    free(p->handin);
    free(p->suite);
    free(p->suite_c);
    free(p->scratch);
    free(p->root);
    free(p->seen_out);
    free(p->seen_handin);
    free(p->seen_suite);
    for (int i = 0; i < 8; i++)
        free(p->str[i]);
    memset(p, 0, sizeof *p);
    errno = err;
}

const struct bind *place_view(const struct place *p)
{
    return p->binds[0].from != NULL ? p->binds : NULL;
}

const struct bind *place_harness_view(const struct place *p)
{
    return p->hbinds[0].from != NULL ? p->hbinds : NULL;
}
