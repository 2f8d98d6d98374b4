/* notify.c - Lab 04: a signal as a doorbell, taken with sigtimedwait.
 *
 * Implement each function as notify.h describes; handouts/04-semaphores.md
 * (section 9) explains the calls. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE                 /* sigtimedwait, clock_gettime */
#include "notify.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

int notify_block(int sig)
{
    /* TODO (handout §9): a sigset_t holding only sig (sigemptyset,
     * sigaddset: it gives EINVAL for a bad number); sigprocmask with
     * SIG_BLOCK. */
    (void)sig;
    errno = ENOSYS;
    return -1;
}

pid_t notify_wait(int sig, long ms)
{
    /* TODO (handout §9): the same set; ms < 0: sigwaitinfo; otherwise
     * sigtimedwait, whose timeout is RELATIVE (unlike sem_timedwait's).
     * Retry on EINTR with what is left of ms (measure it on
     * CLOCK_MONOTONIC). Return the sender's pid from the siginfo_t. */
    (void)sig;
    (void)ms;
    errno = ENOSYS;
    return -1;
}
