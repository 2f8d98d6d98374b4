/* probe.c - small services every checker uses: errno names, whether the
 * Valgrind pass is running, and the shared-memory names a run may use.
 * (What a checker observes of its subjects is in grader/checker/.)
 */
#define _GNU_SOURCE
#include "hx.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *hx_errname(int err)
{
    static char buf[2][32];
    static int k;
    const char *name = strerrorname_np(err);

    if (err == SX_ERRNO_BEFORE)         /* (wire.h) */
        return "EDOM, which the test set before the call";
    if (name != NULL)
        return name;
    k = !k;
    snprintf(buf[k], sizeof buf[k], "errno %d", err);
    return buf[k];
}

int hx_memcheck(void)
{
    const char *m = getenv("HX_MEMCHECK");
    return m != NULL && strcmp(m, "1") == 0;
}

long hx_iters(long n)
{
    if (hx_memcheck())
        n /= 100;
    return n > 0 ? n : 1;
}

char *hx_shm_name(char *buf, size_t size, const char *tag)
{
    const char *run = getenv("HX_RUN");

    if (run != NULL)
        snprintf(buf, size, "/shmlabs.%s.%s", run, tag);
    else
        snprintf(buf, size, "/shmlabs.u%lu.%s", (unsigned long)getuid(), tag);
    return buf;
}
