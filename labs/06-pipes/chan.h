/* chan.h - Lab 06: a one-way byte channel through shared memory.
 *
 * The interface you implement in chan.c. Do not change this file: the
 * grader always compiles your chan.c (and bench.c) against its own copy.
 *
 * A channel is a POSIX shared-memory object holding a ring buffer of
 * `capacity` bytes and the counters and semaphores that go with it. It
 * behaves like a pipe with exactly one writer and one reader:
 *
 *     chan_create("/demo", 65536);             // like mkfifo()
 *     w = chan_open("/demo", CHAN_WRITE);      // in the producer
 *     r = chan_open("/demo", CHAN_READ);       // in the consumer
 *     chan_write(w, buf, n);   chan_read(r, buf, size);
 *     chan_close(w);           // the reader then sees end of stream
 *     chan_unlink("/demo");    // like unlink(): the name goes away
 *
 * Every function that can fail returns -1 or NULL and sets errno. None of
 * them prints or exits, and a failed call leaves no descriptor, mapping or
 * memory behind (nor a shared-memory object it created itself).
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>
#include <sys/types.h>

/* The two ends of a channel, for chan_open. */
#define CHAN_READ 1
#define CHAN_WRITE 2

/* Allowed ring sizes: a power of two in [CHAN_MIN_CAPACITY,
 * CHAN_MAX_CAPACITY] bytes. */
#define CHAN_MIN_CAPACITY ((size_t)64)
#define CHAN_MAX_CAPACITY ((size_t)1 << 30)

/* One process's handle on one end of a channel (opaque: defined in
 * chan.c). */
struct chan;

/* chan_create: create the shared-memory object `name` ("/something", as
 * for shm_open) with mode 0600, holding an empty channel whose ring holds
 * `capacity` bytes, with neither end opened yet. Nothing stays open or
 * mapped. Returns 0, or -1 with errno set:
 *   EINVAL  name is NULL, or capacity is not a power of two in range;
 *   EEXIST  an object with that name exists (it is left untouched);
 *   otherwise the errno of the call that failed (shm_open, ftruncate,
 *   mmap, sem_init, ...). After any failure no object `name` is left
 *   that this call created. (Handout section 2.) */
int chan_create(const char *name, size_t capacity);

/* chan_open: open end `end` (CHAN_READ or CHAN_WRITE) of the channel
 * `name` made by chan_create. Each end can be opened once in the
 * channel's life. The descriptor is closed before returning; the handle
 * keeps the mapping. Returns a handle, or NULL with errno set:
 *   EINVAL  name is NULL, end is neither CHAN_READ nor CHAN_WRITE, or the
 *           object is not a channel (wrong size or contents);
 *   EBUSY   that end has already been opened;
 *   ENOENT  there is no object `name`;
 *   otherwise the errno of the call that failed (shm_open, fstat, mmap,
 *   malloc). (Handout section 2.) */
struct chan *chan_open(const char *name, int end);

/* chan_write: write the len bytes at buf into the channel, in order,
 * blocking (asleep, not spinning) while the ring is full. len may exceed
 * the capacity: the bytes go through in pieces as the reader makes room.
 * Returns len once every byte is in the ring (0 if len is 0), or -1 with
 * errno set:
 *   EINVAL  ch is NULL, buf is NULL while len > 0, or len > SSIZE_MAX;
 *   EBADF   ch is the read end;
 *   EPIPE   the reader has closed its end (before or during the call;
 *           some bytes may have gone in);
 *   otherwise the errno of a semaphore call that failed.
 * (Handout sections 3 to 5.) */
ssize_t chan_write(struct chan *ch, const void *buf, size_t len);

/* chan_read: read up to len bytes into buf. Blocks (asleep) while the
 * ring is empty and the writer has not closed its end. Then copies
 * min(len, bytes in the ring) bytes, across the wrap-around if need be,
 * and returns that number. Returns 0 at end of stream (the writer has
 * closed and every byte has been read) and for len 0; -1 with errno:
 *   EINVAL  ch is NULL, or buf is NULL while len > 0;
 *   EBADF   ch is the write end;
 *   otherwise the errno of a semaphore call that failed.
 * (Handout sections 3 to 5.) */
ssize_t chan_read(struct chan *ch, void *buf, size_t len);

/* chan_close: close this end for good: after the writer's close the
 * reader sees end of stream; after the reader's close the writer gets
 * EPIPE. Wakes the other end if it sleeps, unmaps, frees the handle.
 * The channel's object stays until chan_unlink. Returns 0, or -1 with
 * errno EINVAL (ch is NULL; nothing done) or the errno of the sem_post or
 * munmap that failed (the handle is freed all the same). (Handout
 * section 5.) */
int chan_close(struct chan *ch);

/* chan_unlink: remove the name `name`; handles already open keep working.
 * Returns 0, or -1 with errno EINVAL (name is NULL) or shm_unlink's errno
 * (ENOENT: no such object). (Handout section 2.) */
int chan_unlink(const char *name);

#endif
