/* mbox.c - Lab 03: a one-slot mailbox in shared memory, polled safely.
 *
 * Implement each function as mbox.h describes; handouts/03-polling.md
 * explains why each step is there. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE         /* nanosleep, sched_yield under -std=c11 */
#include "mbox.h"

#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The mailbox as it lies in shared memory.
 * TODO (handout §2, §6): add the field that says who owns the slot: the
 * sender (empty) or the receiver (full). Its type is the point of this
 * lab; read §3 and §6 before you choose it. */
struct mbox {
    uint32_t len;               /* payload bytes; guarded by your flag */
    unsigned char data[MBOX_MAX]; /* the payload; guarded by your flag */
};

_Static_assert(sizeof(struct mbox) <= MBOX_SIZE, "struct mbox must fit");

struct mbox *mbox_init(void *mem, size_t size)
{
    /* TODO (handout §2, §5): EINVAL for a NULL or misaligned mem or a size
     * below MBOX_SIZE; then make the slot empty whatever the memory held
     * (an old "full" flag, old payload bytes) and return mem. */
    (void)mem;
    (void)size;
    errno = ENOSYS;
    return NULL;
}

int mbox_send(struct mbox *mb, const void *msg, size_t len)
{
    /* TODO (handout §2, §4, §7): EINVAL, then EMSGSIZE before waiting;
     * wait (backing off) until the slot is empty; copy the payload and its
     * length in; publish the message last, with a release store. */
    (void)mb;
    (void)msg;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int mbox_try_send(struct mbox *mb, const void *msg, size_t len)
{
    /* TODO (handout §2): as mbox_send, but EAGAIN instead of waiting. */
    (void)mb;
    (void)msg;
    (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size)
{
    /* TODO (handout §2, §4, §7): EINVAL; wait (backing off) until the slot
     * is full, with an acquire load; EMSGSIZE if the message does not fit
     * (leave it there); copy it into buf; only then mark the slot empty. */
    (void)mb;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size)
{
    /* TODO (handout §2): as mbox_recv, but EAGAIN instead of waiting. */
    (void)mb;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size,
                        long timeout_ms)
{
    /* TODO (handout §7): as mbox_recv, but give up with ETIMEDOUT once
     * timeout_ms have passed on CLOCK_MONOTONIC; EINVAL for a negative
     * timeout. Back off while waiting: the CPU time is measured. */
    (void)mb;
    (void)buf;
    (void)size;
    (void)timeout_ms;
    errno = ENOSYS;
    return -1;
}
