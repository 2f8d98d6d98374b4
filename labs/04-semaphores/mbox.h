/* mbox.h - Lab 04: a one-slot mailbox in shared memory, on two semaphores.
 *
 * The interface you implement in mbox.c. Do not change this file: the grader
 * always compiles your mbox.c against its own copy of it.
 *
 * A struct mbox lives inside memory that every process using it has mapped
 * MAP_SHARED (the semaphores too). Two semaphores hand the slot back and
 * forth: a sender waits for `empty`, fills the slot, posts `full`; a
 * receiver waits for `full`, empties the slot, posts `empty`. Whoever holds
 * the slot is the only process touching len and data.
 *
 * Every function that can fail returns -1 and sets errno. None of them
 * prints or exits. A wait interrupted by a signal handler (EINTR) is
 * resumed, never reported. (Handout sections 2 to 5.)
 */
#ifndef MBOX_H
#define MBOX_H

#include <semaphore.h>
#include <stddef.h>
#include <sys/types.h>

#define MBOX_MAX 240            /* bytes: the largest message */

struct mbox {
    sem_t empty;                /* 1 while the slot is free, else 0:
                                   senders wait on it, receivers post it */
    sem_t full;                 /* 1 while the slot holds a message, else 0:
                                   receivers wait on it, senders post it */
    size_t len;                 /* bytes of the message in data; owned by
                                   whoever holds the slot (see above) */
    unsigned char data[MBOX_MAX]; /* the message; owned like len */
};

/* mbox_init: make *mb an empty mailbox that processes sharing the memory
 * it lies in (MAP_SHARED, before or after fork) can use: both semaphores
 * are initialised for sharing between processes. Any old contents of *mb
 * are ignored. Returns 0, or -1 with errno EINVAL if mb is NULL, or the
 * errno of sem_init(). (Handout sections 2 and 3.) */
int mbox_init(struct mbox *mb);

/* mbox_destroy: destroy the semaphores of a mailbox nobody waits on any
 * more. Returns 0, or -1 with errno EINVAL if mb is NULL. (Section 2.) */
int mbox_destroy(struct mbox *mb);

/* mbox_send: wait (sleeping, for as long as it takes) until the slot is
 * free, copy len bytes from msg into it, and wake a receiver. len may be 0
 * (msg may then be NULL). Returns 0, or -1 with errno:
 *   EINVAL    mb is NULL, or msg is NULL and len > 0;
 *   EMSGSIZE  len > MBOX_MAX (nothing is sent, nothing waits).
 * (Section 3.) */
int mbox_send(struct mbox *mb, const void *msg, size_t len);

/* mbox_recv: wait (sleeping) until the slot holds a message, copy it into
 * buf, which has room for size bytes, and free the slot. Returns the
 * message's length, or -1 with errno:
 *   EINVAL    mb or buf is NULL;
 *   EMSGSIZE  the message is longer than size: it stays in the mailbox,
 *             for a later receive with a large enough buffer.
 * (Section 3.) */
ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size);

/* mbox_try_recv: mbox_recv without waiting. Returns the message's length,
 * or -1 with errno EAGAIN if the mailbox is empty, or EINVAL / EMSGSIZE as
 * mbox_recv. (Section 3.) */
ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size);

/* mbox_recv_timed: mbox_recv that waits at most ms milliseconds (0: do not
 * wait at all). Returns the message's length, or -1 with errno:
 *   ETIMEDOUT no message came in time;
 *   EINVAL    ms < 0, or as mbox_recv; EMSGSIZE as mbox_recv.
 * Interruptions by signals neither end the wait nor extend it. (Section 5.) */
ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size, long ms);

#endif
