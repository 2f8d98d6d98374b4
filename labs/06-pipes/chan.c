/* chan.c - Lab 06: a one-way byte channel through shared memory.
 *
 * Implement each function as chan.h describes; handouts/06-pipes.md
 * explains the design. Run the tests with: make check LAB=06
 *
 * The layout below is the one the handout describes: you may add fields,
 * but keep each one commented with its unit and who may store to it.
 * Until you implement them, the functions fail with ENOSYS.
 */
#define _DEFAULT_SOURCE                 /* ftruncate under -std=c11 */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHAN_MAGIC 0x6e616863u          /* "chan": chan_create finished */
#define CHAN_HDR 4096                   /* bytes before the ring: one page */
#define LINE 64                         /* cache line: keep writers apart */
#define CHAN_POLL_NS 20000L             /* poll this long before sleeping */

/* States of an end, in chan_shared.writer and .reader. */
enum { END_UNUSED, END_OPEN, END_CLOSED };

/* The start of the shared object; the ring follows at offset CHAN_HDR.
 * The writer's fields and the reader's fields sit on separate cache
 * lines, so that each side's stores do not evict the other's. */
struct chan_shared {
    _Atomic uint32_t magic;     /* CHAN_MAGIC; stored last by
                                 * chan_create */
    uint64_t capacity;          /* ring size in bytes, a power of two;
                                 * fixed by chan_create */
    alignas(LINE) _Atomic uint64_t head;    /* bytes written since creation;
                                             * stored by the writer only */
    _Atomic int writer;         /* END_*: claimed by chan_open (CAS),
                                 * END_CLOSED stored by chan_close */
    _Atomic int writer_sleeps;  /* 1: the writer may sleep on `space`; set
                                 * by the writer, cleared by the reader's
                                 * wake-up */
    alignas(LINE) _Atomic uint64_t tail;    /* bytes read since creation;
                                             * stored by the reader only */
    _Atomic int reader;         /* END_*: as `writer`, for the read end */
    _Atomic int reader_sleeps;  /* 1: the reader may sleep on `data`; set
                                 * by the reader, cleared by the writer's
                                 * wake-up */
    alignas(LINE) sem_t data;   /* posted for a sleeping reader: bytes or
                                 * end of stream arrived */
    sem_t space;                /* posted for a sleeping writer: room made
                                 * or the reader closed */
};

_Static_assert(sizeof(struct chan_shared) <= CHAN_HDR, "header > one page");

/* One process's handle on one end. */
struct chan {
    struct chan_shared *sh;     /* the whole mapping: header, then ring */
    unsigned char *ring;        /* (unsigned char *)sh + CHAN_HDR */
    size_t size;                /* bytes mapped: CHAN_HDR + capacity */
    uint64_t mask;              /* capacity - 1: position -> ring index */
    int end;                    /* CHAN_READ or CHAN_WRITE */
};

/* Small static helpers keep the five functions short. Suggested:
 *   ring_put, ring_get          copy in or out in two pieces (handout §3)
 *   reader_ready, writer_ready  may this side go on? (§4, §5)
 *   chan_poll                   look for CHAN_POLL_NS before sleeping (§4)
 *   chan_await, chan_wake       the sleep / wake-up handshake (§4)
 */

int chan_create(const char *name, size_t capacity)
{
    /* TODO (handout §2): EINVAL for a NULL name or a capacity that is not
     * a power of two in range; shm_open with O_CREAT | O_EXCL, mode 0600;
     * ftruncate to CHAN_HDR + capacity; map the header page; fill it in
     * (counters 0, both ends END_UNUSED, sem_init with pshared 1 - see
     * §4 - and the magic last); unmap, close. On any failure after
     * shm_open: unmap, close and shm_unlink what you created, and return
     * -1 with the errno of the call that failed. */
    (void)name;
    (void)capacity;
    errno = ENOSYS;
    return -1;
}

struct chan *chan_open(const char *name, int end)
{
    /* TODO (handout §2): check the arguments; shm_open O_RDWR; fstat for
     * the size; mmap all of it MAP_SHARED; close the descriptor; check
     * that it is a channel (size, magic, capacity: else EINVAL); claim
     * the end with a compare-and-swap END_UNUSED -> END_OPEN (else
     * EBUSY); malloc and fill in the handle. One exit path for errors. */
    (void)name;
    (void)end;
    errno = ENOSYS;
    return NULL;
}

ssize_t chan_write(struct chan *ch, const void *buf, size_t len)
{
    /* TODO (handout §3, §4, §5): check the arguments (EINVAL, EBADF);
     * then until every byte is in: wait asleep while the ring is full
     * and the reader is there; EPIPE if the reader has closed; copy as
     * much as fits (two memcpy calls when it wraps); publish the new
     * head; wake the reader if it may be asleep. */
    (void)ch;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t chan_read(struct chan *ch, void *buf, size_t len)
{
    /* TODO (handout §3, §4, §5): check the arguments; return 0 for len
     * 0; wait asleep while the ring is empty and the writer has not
     * closed; 0 if it is empty and closed (end of stream); otherwise copy
     * min(len, bytes in the ring), publish the new tail, and wake the
     * writer if it may be asleep. */
    (void)ch;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int chan_close(struct chan *ch)
{
    /* TODO (handout §5): EINVAL for NULL; mark this end END_CLOSED; wake
     * the other end if it may be asleep (it must see the change); munmap;
     * free the handle. */
    (void)ch;
    errno = ENOSYS;
    return -1;
}

int chan_unlink(const char *name)
{
    /* TODO (handout §2): EINVAL for NULL; shm_unlink. */
    (void)name;
    errno = ENOSYS;
    return -1;
}
