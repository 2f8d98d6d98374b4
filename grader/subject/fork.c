/* fork.c - fork() as the handin code sees it in a subject or a lab program.
 *
 * Both are linked with -Wl,--wrap=fork (grader/lab.mk), so that every call
 * to fork() in them, the handin code's and ours, comes to __wrap_fork. It
 * is the real fork(), except for the one call the checker chose to fail
 * as fork() does when a process limit is reached (EAGAIN): that is how a
 * test reaches the error path that follows children already started. A
 * subject is told by request (SX_FAILFORK, sx_fail_fork); a program by
 * SX_FAILFORK=K in its environment. Runs beside submitted code: a process
 * that sidesteps it only keeps the test from reaching that path, which the
 * test then sees (no failure where one was due).
 */
#include "sx.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

pid_t __real_fork(void);
pid_t __wrap_fork(void);

static long forks_left = -1;            /* calls before the one that fails;
                                           0: none; -1: environment unread */

void sx_fail_fork(long k)
{
    forks_left = k > 0 ? k : 0;
}

pid_t __wrap_fork(void)
{
    if (forks_left == -1) {
        const char *k = getenv("SX_FAILFORK");
        sx_fail_fork(k != NULL ? strtol(k, NULL, 10) : 0);
    }
    if (forks_left > 0 && --forks_left == 0) {
        errno = EAGAIN;
        return -1;
    }
    return __real_fork();
}
