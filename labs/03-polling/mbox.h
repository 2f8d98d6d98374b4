/* mbox.h - Lab 03: a one-slot mailbox in shared memory, polled safely.
 *
 * The interface you implement in mbox.c. Do not change this file: the grader
 * always compiles your mbox.c against its own copy of it.
 *
 * One process sends and one process receives (typically a parent and the
 * child it forked) through MBOX_SIZE bytes of memory that both have mapped
 * MAP_SHARED. The slot holds at most one message at a time. The layout of
 * struct mbox is yours to choose, in mbox.c; it must fit in MBOX_SIZE bytes.
 *
 * Every function that can fail returns -1 (or NULL) and sets errno. None of
 * them prints or exits. Only mbox_send and mbox_recv wait without limit.
 */
#ifndef MBOX_H
#define MBOX_H

#include <stddef.h>
#include <sys/types.h>                  /* ssize_t */

/* The largest payload a message can carry, in bytes. */
#define MBOX_MAX 8000

/* Bytes of shared memory one mailbox occupies: two 4 KiB pages, which
 * leaves MBOX_SIZE - MBOX_MAX bytes for your flag and other fields. */
#define MBOX_SIZE 8192

/* The mailbox as it lies in shared memory; defined in mbox.c. */
struct mbox;

/* mbox_init: make the size bytes at mem an empty mailbox, whatever they
 * held before: zeros, junk, or an old mailbox with an unread message. Call
 * it once, before the other process can touch the region (before fork()).
 * mem must be aligned for any type (alignof(max_align_t)), as every address
 * mmap returns is. Returns mem as a struct mbox *, or NULL with errno
 * EINVAL if mem is NULL or misaligned or size < MBOX_SIZE.
 * (Handout sections 2 and 5.) */
struct mbox *mbox_init(void *mem, size_t size);

/* mbox_send: wait until the slot is empty, copy the len bytes at msg into
 * it, then publish the message. The receiver can see the message only once
 * the whole payload has been copied into the slot. While it waits it backs
 * off (spins briefly, then yields and sleeps) instead of burning a core.
 * Returns 0, or -1 with errno:
 *   EINVAL    mb or msg is NULL;
 *   EMSGSIZE  len > MBOX_MAX (checked before waiting: nothing is sent).
 * (Handout sections 2, 4 and 7.) */
int mbox_send(struct mbox *mb, const void *msg, size_t len);

/* mbox_try_send: mbox_send without waiting. Returns 0, or -1 with errno
 * EAGAIN if the slot is full, or EINVAL or EMSGSIZE as mbox_send.
 * (Handout section 2.) */
int mbox_try_send(struct mbox *mb, const void *msg, size_t len);

/* mbox_recv: wait until the slot holds a message, copy its payload straight
 * from the slot into buf (room for size bytes), then mark the slot empty.
 * The slot is released only after the whole payload is in buf. Waits as
 * mbox_send does. Returns the message's length (0 for an empty message),
 * or -1 with errno:
 *   EINVAL    mb or buf is NULL;
 *   EMSGSIZE  the message is longer than size (it stays in the slot).
 * (Handout sections 2, 4 and 7.) */
ssize_t mbox_recv(struct mbox *mb, void *buf, size_t size);

/* mbox_try_recv: mbox_recv without waiting. Returns the length, or -1 with
 * errno EAGAIN if the slot is empty, or EINVAL or EMSGSIZE as mbox_recv.
 * (Handout section 2.) */
ssize_t mbox_try_recv(struct mbox *mb, void *buf, size_t size);

/* mbox_recv_timed: mbox_recv that gives up after timeout_ms milliseconds
 * (0: look once). It backs off as mbox_recv does, so a long wait costs
 * little CPU time. Returns the length, or -1 with errno:
 *   ETIMEDOUT no message arrived in time;
 *   EINVAL    mb or buf is NULL, or timeout_ms < 0;
 *   EMSGSIZE  as mbox_recv.
 * (Handout section 7.) */
ssize_t mbox_recv_timed(struct mbox *mb, void *buf, size_t size,
                        long timeout_ms);

#endif
