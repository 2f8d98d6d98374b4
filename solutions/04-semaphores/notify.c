/* notify.c - Lab 04 reference solution: a signal as a doorbell, taken with
 * sigtimedwait.
 *
 * See notify.h for each function's contract and handouts/04-semaphores.md
 * for why.
 */
#define _DEFAULT_SOURCE                 /* sigtimedwait, clock_gettime */
#include "notify.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

int notify_block(int sig)
{
    sigset_t set;

    if (sigemptyset(&set) == -1 || sigaddset(&set, sig) == -1)
        return -1;                      /* EINVAL: not a signal */
    return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Seconds on the monotonic clock (which no one can set back). */
static double notify_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

pid_t notify_wait(int sig, long ms)
{
    double end = notify_now() + (double)ms / 1000;
    siginfo_t info;
    sigset_t set;
    int got;

    if (sigemptyset(&set) == -1 || sigaddset(&set, sig) == -1)
        return -1;
    do {
        if (ms < 0) {
            got = sigwaitinfo(&set, &info);
        } else {
            /* sigtimedwait's timeout is relative: what is left of ms */
            double left = end - notify_now();
            if (left < 0)
                left = 0;
            time_t secs = (time_t)left;
            struct timespec ts = { secs, (long)((left - (double)secs) * 1e9) };
            got = sigtimedwait(&set, &info, &ts);
        }
    } while (got == -1 && errno == EINTR);
    return got == -1 ? -1 : info.si_pid;
}
