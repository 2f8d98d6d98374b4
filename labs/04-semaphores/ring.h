/* ring.h - Lab 04: a bounded buffer (ring) of n slots in shared memory, for
 * any number of producer and consumer processes.
 *
 * The interface you implement in ring.c. Do not change this file: the grader
 * always compiles your ring.c against its own copy of it.
 *
 * Two counting semaphores say how many slots are free and how many are
 * filled; a third, used as a lock, lets one process at a time move head or
 * tail. Items come out in the order they went in (first in, first out).
 *
 * Every function that can fail returns -1 (ring_size: 0) and sets errno.
 * None of them prints or exits. A wait interrupted by a signal handler
 * (EINTR) is resumed, never reported. (Handout section 6.)
 */
#ifndef RING_H
#define RING_H

#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAX (1u << 20)     /* the most slots a ring may have */

struct ring {
    sem_t slots;                /* free slots: producers wait on it,
                                   consumers post it; starts at n */
    sem_t items;                /* filled slots: consumers wait on it,
                                   producers post it; starts at 0 */
    sem_t lock;                 /* 1 while no process is inside head/tail
                                   code (a binary semaphore as a lock) */
    unsigned n;                 /* number of slots; set by ring_init, then
                                   read-only */
    unsigned head;              /* index of the oldest item; guarded by lock */
    unsigned tail;              /* index of the next free slot; guarded by
                                   lock */
    uint64_t slot[];            /* n items; slot[i] is read or written only
                                   while holding lock */
};

/* ring_size: the bytes a ring of n slots needs (the struct and its slots).
 * Returns 0 with errno EINVAL if n is 0 or larger than RING_MAX. */
size_t ring_size(unsigned n);

/* ring_init: make r, which has room for ring_size(n) bytes in memory shared
 * by the processes that will use it (MAP_SHARED), an empty ring of n slots.
 * Returns 0, or -1 with errno EINVAL if r is NULL or n is 0 or larger than
 * RING_MAX, or the errno of sem_init() (then nothing is left initialised). */
int ring_init(struct ring *r, unsigned n);

/* ring_destroy: destroy the semaphores of a ring nobody uses any more.
 * Returns 0, or -1 with errno EINVAL if r is NULL. */
int ring_destroy(struct ring *r);

/* ring_push: wait (sleeping) until a slot is free, store item in it.
 * Returns 0, or -1 with errno EINVAL if r is NULL. */
int ring_push(struct ring *r, uint64_t item);

/* ring_pop: wait (sleeping) until an item is there, take the oldest one
 * into *item. Returns 0, or -1 with errno EINVAL if r or item is NULL. */
int ring_pop(struct ring *r, uint64_t *item);

#endif
