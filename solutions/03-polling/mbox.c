/* mbox.c - Lab 03 reference solution: a one-slot mailbox in shared memory.
 *
 * See mbox.h for each function's contract and handouts/03-polling.md for
 * why. The protocol: one atomic state word says who owns the slot. The
 * sender fills an EMPTY slot, then stores FULL with release order; the
 * receiver loads FULL with acquire order, copies the payload out, then
 * stores EMPTY with release order. Nothing else is shared.
 */
#define _DEFAULT_SOURCE         /* nanosleep, sched_yield under -std=c11 */
#include "mbox.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Who owns the slot: the sender when EMPTY, the receiver when FULL. In an
 * uninitialized region the word may hold anything, FULL included. */
enum { MBOX_EMPTY = 0, MBOX_FULL = 1 };

struct mbox {
    atomic_uint state;          /* MBOX_EMPTY or MBOX_FULL; the handoff */
    uint32_t len;               /* payload bytes; guarded by state */
    unsigned char data[MBOX_MAX]; /* the payload; guarded by state */
};

_Static_assert(sizeof(struct mbox) <= MBOX_SIZE, "struct mbox must fit");
/* Lock-free atomics do not depend on the address they live at, so they
 * work between processes; a lock-based fallback would not. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_uint must be lock-free");

/* How a waiter backs off: MBOX_SPINS polls in a row (the other side is
 * often about to act), then MBOX_YIELDS polls each after sched_yield() (if
 * the other side waits for this CPU, it runs at once), then sleeps that
 * double from 1 us to 1 ms (the cap bounds how late a change is seen). */
#define MBOX_SPINS 100u
#define MBOX_YIELDS 50u
#define MBOX_NAP_MAX_NS 1000000L

/* Pause before the next poll of a wait that has polled `round` times. */
static void mbox_backoff(unsigned round)
{
    if (round < MBOX_SPINS)
        return;
    if (round < MBOX_SPINS + MBOX_YIELDS) {
        sched_yield();                  /* cannot fail on Linux */
        return;
    }
    unsigned k = round - MBOX_SPINS - MBOX_YIELDS;
    long ns = k < 10 ? 1000L << k : MBOX_NAP_MAX_NS;
    struct timespec nap = { 0, ns < MBOX_NAP_MAX_NS ? ns : MBOX_NAP_MAX_NS };
    /* A signal may cut the nap short (EINTR): the caller just polls
     * again sooner, so the result is not needed. */
    (void)nanosleep(&nap, NULL);
}

/* Store in *t the CLOCK_MONOTONIC time ms milliseconds from now. Returns 0,
 * or -1 with errno set by clock_gettime. */
static int mbox_deadline(long ms, struct timespec *t)
{
    if (clock_gettime(CLOCK_MONOTONIC, t) == -1)
        return -1;
    t->tv_sec += ms / 1000;
    t->tv_nsec += ms % 1000 * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
    return 0;
}

/* Whether CLOCK_MONOTONIC has reached *t: 1 or 0, or -1 with errno set. */
static int mbox_passed(const struct timespec *t)
{
    struct timespec now;

    if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
        return -1;
    return now.tv_sec > t->tv_sec ||
           (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Wait until the slot's state is `want`, or until *deadline (NULL: no
 * limit). The acquire load orders every later access to the slot after
 * it. Returns 0, or -1 with errno ETIMEDOUT (or clock_gettime's). */
static int mbox_wait(struct mbox *mb, unsigned want,
                     const struct timespec *deadline)
{
    for (unsigned round = 0;; round += round < UINT_MAX) {
        if (atomic_load_explicit(&mb->state, memory_order_acquire) == want)
            return 0;
        int passed = deadline != NULL ? mbox_passed(deadline) : 0;
        if (passed != 0) {
            if (passed == 1)
                errno = ETIMEDOUT;
            return -1;
        }
        mbox_backoff(round);
    }
}

struct mbox *mbox_init(void *mem, size_t size)
{
    struct mbox *mb = mem;

    if (mem == NULL || (uintptr_t)mem % alignof(max_align_t) != 0 ||
        size < MBOX_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    memset(mb->data, 0, sizeof mb->data);   /* no old payload survives */
    mb->len = 0;
    atomic_init(&mb->state, MBOX_EMPTY);    /* before anyone else looks */
    return mb;
}

/* The checks mbox_send and mbox_try_send share. Returns 0, or -1. */
static int mbox_send_ok(const struct mbox *mb, const void *msg, size_t len)
{
    if (mb == NULL || msg == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (len > MBOX_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

/* Fill the slot, which this process owns (it saw EMPTY), and publish it:
 * the release store comes last, after every byte of the payload. */
static void mbox_put(struct mbox *mb, const void *msg, size_t len)
{
    memcpy(mb->data, msg, len);
    mb->len = (uint32_t)len;
    atomic_store_explicit(&mb->state, MBOX_FULL, memory_order_release);
}

int mbox_send(struct mbox *mb, const void *msg, size_t len)
{
    if (mbox_send_ok(mb, msg, len) == -1 ||
        mbox_wait(mb, MBOX_EMPTY, NULL) == -1)
        return -1;
    mbox_put(mb, msg, len);
    return 0;
}

int mbox_try_send(struct mbox *mb, const void *msg, size_t len)
{
    if (mbox_send_ok(mb, msg, len) == -1)
        return -1;
    if (atomic_load_explicit(&mb->state, memory_order_acquire) != MBOX_EMPTY) {
        errno = EAGAIN;
        return -1;
    }
    mbox_put(mb, msg, len);
    return 0;
}

/* Copy the message out of the slot, which this process owns (it saw FULL),
 * then hand the slot back: the release store comes after the copy. Returns
 * the length, or -1 with errno EMSGSIZE (the message stays). */
static ssize_t mbox_take(struct mbox *mb, void *buf, size_t size)
{
    size_t len = mb->len;

    if (len > size || len > MBOX_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, mb->data, len);
    atomic_store_explicit(&mb->state, MBOX_EMPTY, memory_order_release);
    return (ssize_t)len;
}

/* The receive functions' shared body: check, wait (timeout_ms < 0: no
 * limit), take. */
static ssize_t mbox_get(struct mbox *mb, void *buf, size_t size,
                        long timeout_ms)
{
    struct timespec deadline;

    if (mb == NULL || buf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (timeout_ms >= 0 && mbox_deadline(timeout_ms, &deadline) == -1)
        return -1;
    if (mbox_wait(mb, MBOX_FULL, timeout_ms >= 0 ? &deadline : NULL) == -1)
        return -1;
    return mbox_take(mb, buf, size);
}

ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size)
{
    return mbox_get(mb, buf, size, -1);
}

ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size)
{
    if (mb == NULL || buf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (atomic_load_explicit(&mb->state, memory_order_acquire) != MBOX_FULL) {
        errno = EAGAIN;
        return -1;
    }
    return mbox_take(mb, buf, size);
}

ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size,
                        long timeout_ms)
{
    if (timeout_ms < 0) {
        errno = EINVAL;
        return -1;
    }
    return mbox_get(mb, buf, size, timeout_ms);
}
