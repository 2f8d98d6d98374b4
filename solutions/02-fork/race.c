/* race.c - Lab 02 program: several children counting, racy and atomic.
 *
 * Usage: ./race CHILDREN INCREMENTS
 * Starts CHILDREN children (1 to 64) that each add 1 to a shared counter
 * INCREMENTS times (0 to 1000000000): first with share_count_racy, then
 * with share_count. Prints how many increments each counter kept:
 *   racy:   391234 of 400000 (8766 lost)
 *   atomic: 400000 of 400000 (0 lost)
 */
#include "share.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_INCREMENTS 1000000000L

/* The two counters, in one page shared with the children. */
struct counters {
    volatile long racy;         /* share_count_racy's: plain ++, unguarded */
    atomic_long exact;          /* share_count's: atomic_fetch_add only */
};

/* Parse s as a decimal number in [lo, hi] into *out. Returns 0, or -1 if
 * s is not such a number. */
static int parse_arg(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* One line of the report: "racy:   391234 of 400000 (8766 lost)". */
static void report(const char *label, long kept, long total)
{
    printf("%-7s %ld of %ld (%ld lost)\n", label, kept, total, total - kept);
}

/* Count both ways into c; print the report. Returns 0, or -1 after perror. */
static int race(struct counters *c, int nchild, long iters)
{
    if (share_count_racy(&c->racy, nchild, iters) == -1) {
        perror("share_count_racy");
        return -1;
    }
    if (share_count(&c->exact, nchild, iters) == -1) {
        perror("share_count");
        return -1;
    }
    report("racy:", c->racy, nchild * iters);
    report("atomic:", atomic_load(&c->exact), nchild * iters);
    if (fflush(stdout) == EOF) {
        perror("stdout");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long nchild, iters;
    struct counters *c;
    int status;

    if (argc != 3 || parse_arg(argv[1], 1, SHARE_MAX_CHILDREN, &nchild) == -1 ||
        parse_arg(argv[2], 0, MAX_INCREMENTS, &iters) == -1) {
        fprintf(stderr, "usage: %s CHILDREN INCREMENTS\n"
                "  CHILDREN from 1 to %d, INCREMENTS from 0 to %ld\n",
                argv[0], SHARE_MAX_CHILDREN, MAX_INCREMENTS);
        return EXIT_FAILURE;
    }
    c = share_alloc(sizeof *c);
    if (c == NULL) {
        perror("share_alloc");
        return EXIT_FAILURE;
    }
    c->racy = 0;                        /* zero-filled already; C11 wants */
    atomic_init(&c->exact, 0);          /* atomics initialized explicitly */
    status = race(c, (int)nchild, iters) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    if (share_free(c, sizeof *c) == -1) {
        perror("share_free");
        status = EXIT_FAILURE;
    }
    return status;
}
