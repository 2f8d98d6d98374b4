/* ring.c - Lab 04: a bounded buffer of n slots for many producer and
 * consumer processes: two counting semaphores and a lock.
 *
 * Implement each function as ring.h describes; handouts/04-semaphores.md
 * (section 6) explains how. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE
#include "ring.h"

#include <errno.h>

size_t ring_size(unsigned n)
{
    /* TODO (handout §6): EINVAL unless 1 <= n <= RING_MAX; else the size
     * of the struct plus n slots (the flexible array member). */
    (void)n;
    errno = ENOSYS;
    return 0;
}

int ring_init(struct ring *r, unsigned n)
{
    /* TODO (handout §6): check the arguments; n, head, tail; three
     * semaphores shared between processes: `slots` = n, `items` = 0,
     * `lock` = 1. If one sem_init fails, destroy those already made. */
    (void)r;
    (void)n;
    errno = ENOSYS;
    return -1;
}

int ring_destroy(struct ring *r)
{
    /* TODO (handout §6): EINVAL for NULL; destroy the three semaphores. */
    (void)r;
    errno = ENOSYS;
    return -1;
}

int ring_push(struct ring *r, uint64_t item)
{
    /* TODO (handout §6, §4): wait for a free slot (`slots`), then take the
     * lock; store the item at tail and advance tail (wrapping at n); give
     * the lock back; post `items`. Every wait retries on EINTR. */
    (void)r;
    (void)item;
    errno = ENOSYS;
    return -1;
}

int ring_pop(struct ring *r, uint64_t *item)
{
    /* TODO (handout §6, §4): the mirror image of ring_push: wait for
     * `items`, lock, take the item at head, advance head, unlock, post
     * `slots`. */
    (void)r;
    (void)item;
    errno = ENOSYS;
    return -1;
}
