/* mbox.c - Lab 04 reference solution: a one-slot mailbox on two semaphores.
 *
 * See mbox.h for each function's contract and handouts/04-semaphores.md for
 * why.
 */
#define _DEFAULT_SOURCE                 /* sem_timedwait, clock_gettime */
#include "mbox.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int mbox_init(struct mbox *mb)
{
    if (mb == NULL) {
        errno = EINVAL;
        return -1;
    }
    mb->len = 0;
    if (sem_init(&mb->empty, 1, 1) == -1)       /* 1: shared by processes */
        return -1;
    if (sem_init(&mb->full, 1, 0) == -1) {
        int err = errno;
        sem_destroy(&mb->empty);
        errno = err;
        return -1;
    }
    return 0;
}

int mbox_destroy(struct mbox *mb)
{
    if (mb == NULL) {
        errno = EINVAL;
        return -1;
    }
    int rc = sem_destroy(&mb->empty);
    if (sem_destroy(&mb->full) == -1)
        rc = -1;
    return rc;
}

/* sem_wait that sleeps through signal handlers. Returns 0 or -1. */
static int mbox_wait(sem_t *s)
{
    while (sem_wait(s) == -1)
        if (errno != EINTR)
            return -1;
    return 0;
}

int mbox_send(struct mbox *mb, const void *msg, size_t len)
{
    if (mb == NULL || (msg == NULL && len > 0)) {
        errno = EINVAL;
        return -1;
    }
    if (len > MBOX_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    if (mbox_wait(&mb->empty) == -1)
        return -1;
    if (len > 0)
        memcpy(mb->data, msg, len);
    mb->len = len;
    return sem_post(&mb->full);         /* publish only once it is written */
}

/* Take the message out of a slot whose `full` token the caller holds.
 * Returns its length; or gives the token back and fails with EMSGSIZE. */
static ssize_t mbox_take(struct mbox *mb, void *buf, size_t size)
{
    size_t len = mb->len;

    if (len > size) {
        sem_post(&mb->full);            /* the message stays for later */
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, mb->data, len);
    if (sem_post(&mb->empty) == -1)
        return -1;
    return (ssize_t)len;
}

ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size)
{
    if (mb == NULL || buf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (mbox_wait(&mb->full) == -1)
        return -1;
    return mbox_take(mb, buf, size);
}

ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size)
{
    if (mb == NULL || buf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (sem_trywait(&mb->full) == -1)
        return -1;                      /* EAGAIN: empty */
    return mbox_take(mb, buf, size);
}

/* The absolute CLOCK_REALTIME time ms milliseconds from now, which is what
 * sem_timedwait wants. Returns 0, or -1 with errno set. */
static int mbox_deadline(long ms, struct timespec *ts)
{
    if (clock_gettime(CLOCK_REALTIME, ts) == -1)
        return -1;
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += ms % 1000 * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {   /* keep tv_nsec below one second */
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
    return 0;
}

ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size, long ms)
{
    struct timespec deadline;

    if (mb == NULL || buf == NULL || ms < 0) {
        errno = EINVAL;
        return -1;
    }
    if (mbox_deadline(ms, &deadline) == -1)
        return -1;
    while (sem_timedwait(&mb->full, &deadline) == -1)
        if (errno != EINTR)             /* the same deadline after EINTR */
            return -1;
    return mbox_take(mb, buf, size);
}
