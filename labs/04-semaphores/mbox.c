/* mbox.c - Lab 04: the one-slot mailbox of Lab 03, rebuilt on two
 * semaphores so that a waiting process sleeps instead of polling.
 *
 * Implement each function as mbox.h describes; handouts/04-semaphores.md
 * explains the calls you need. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE                 /* sem_timedwait, clock_gettime */
#include "mbox.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int mbox_init(struct mbox *mb)
{
    /* TODO (handout §2, §3): EINVAL for NULL. sem_init both semaphores
     * with pshared = 1 (they live in shared memory and other processes
     * wait on them): `empty` starts at 1, `full` at 0. If the second
     * sem_init fails, destroy the first (keep errno). */
    (void)mb;
    errno = ENOSYS;
    return -1;
}

int mbox_destroy(struct mbox *mb)
{
    /* TODO (handout §2): EINVAL for NULL; sem_destroy both semaphores. */
    (void)mb;
    errno = ENOSYS;
    return -1;
}

int mbox_send(struct mbox *mb, const void *msg, size_t len)
{
    /* TODO (handout §3, §4): check the arguments (EINVAL, EMSGSIZE) before
     * waiting; wait for `empty` (retry when sem_wait fails with EINTR);
     * copy the message and its length into the slot; only then post
     * `full`. */
    (void)mb;
    (void)msg;
    (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size)
{
    /* TODO (handout §3, §4): EINVAL for NULLs; wait for `full` (retry on
     * EINTR); if the message does not fit in size bytes, post `full`
     * again (the message stays) and fail with EMSGSIZE; else copy it out,
     * post `empty` and return its length. mbox_try_recv and mbox_recv_timed
     * end the same way: write that part once, in a static helper. */
    (void)mb;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size)
{
    /* TODO (handout §3): as mbox_recv, with sem_trywait (EAGAIN: empty). */
    (void)mb;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size, long ms)
{
    /* TODO (handout §5): EINVAL for ms < 0. sem_timedwait wants an
     * ABSOLUTE time on CLOCK_REALTIME: now + ms, with tv_nsec kept below
     * one second. Compute it once, before the loop that retries on EINTR
     * (so a signal does not extend the wait). ETIMEDOUT comes from
     * sem_timedwait itself. */
    (void)mb;
    (void)buf;
    (void)size;
    (void)ms;
    errno = ENOSYS;
    return -1;
}
