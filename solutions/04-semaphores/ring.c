/* ring.c - Lab 04 reference solution: a bounded buffer of n slots for many
 * producers and consumers: two counting semaphores and a lock.
 *
 * See ring.h for each function's contract and handouts/04-semaphores.md for
 * why.
 */
#define _DEFAULT_SOURCE
#include "ring.h"

#include <errno.h>

size_t ring_size(unsigned n)
{
    if (n == 0 || n > RING_MAX) {
        errno = EINVAL;
        return 0;
    }
    return sizeof(struct ring) + (size_t)n * sizeof(uint64_t);
}

int ring_init(struct ring *r, unsigned n)
{
    int err;

    if (r == NULL || ring_size(n) == 0) {
        errno = EINVAL;
        return -1;
    }
    r->n = n;
    r->head = r->tail = 0;
    if (sem_init(&r->slots, 1, n) == -1)
        return -1;
    if (sem_init(&r->items, 1, 0) == -1)
        goto undo_slots;
    if (sem_init(&r->lock, 1, 1) == -1)
        goto undo_items;
    return 0;
undo_items:
    err = errno;
    sem_destroy(&r->items);
    errno = err;
undo_slots:
    err = errno;
    sem_destroy(&r->slots);
    errno = err;
    return -1;
}

int ring_destroy(struct ring *r)
{
    int rc = 0;

    if (r == NULL) {
        errno = EINVAL;
        return -1;
    }
    rc |= sem_destroy(&r->slots);
    rc |= sem_destroy(&r->items);
    rc |= sem_destroy(&r->lock);
    return rc;
}

/* sem_wait that sleeps through signal handlers. Returns 0 or -1. */
static int ring_wait(sem_t *s)
{
    while (sem_wait(s) == -1)
        if (errno != EINTR)
            return -1;
    return 0;
}

int ring_push(struct ring *r, uint64_t item)
{
    if (r == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (ring_wait(&r->slots) == -1)     /* a free slot is ours ... */
        return -1;
    if (ring_wait(&r->lock) == -1) {
        sem_post(&r->slots);
        return -1;
    }
    r->slot[r->tail] = item;            /* ... but which one: under the lock */
    r->tail = (r->tail + 1) % r->n;
    sem_post(&r->lock);
    return sem_post(&r->items);
}

int ring_pop(struct ring *r, uint64_t *item)
{
    if (r == NULL || item == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (ring_wait(&r->items) == -1)
        return -1;
    if (ring_wait(&r->lock) == -1) {
        sem_post(&r->items);
        return -1;
    }
    *item = r->slot[r->head];
    r->head = (r->head + 1) % r->n;
    sem_post(&r->lock);
    return sem_post(&r->slots);
}
