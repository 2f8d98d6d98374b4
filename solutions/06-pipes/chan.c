/* chan.c - Lab 06 reference solution: a one-way byte channel through
 * shared memory, a ring buffer with process-shared semaphores.
 *
 * See chan.h for each function's contract and handouts/06-pipes.md for why.
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

static int capacity_ok(size_t cap)
{
    return cap >= CHAN_MIN_CAPACITY && cap <= CHAN_MAX_CAPACITY &&
           (cap & (cap - 1)) == 0;
}

/* Fill in a fresh header. Returns 0, or -1 with errno set. */
static int header_init(struct chan_shared *sh, size_t cap)
{
    sh->capacity = cap;
    atomic_init(&sh->head, 0);
    atomic_init(&sh->tail, 0);
    atomic_init(&sh->writer, END_UNUSED);
    atomic_init(&sh->reader, END_UNUSED);
    atomic_init(&sh->writer_sleeps, 0);
    atomic_init(&sh->reader_sleeps, 0);
    if (sem_init(&sh->data, 1, 0) == -1 || sem_init(&sh->space, 1, 0) == -1)
        return -1;
    atomic_store(&sh->magic, CHAN_MAGIC);   /* after all the rest */
    return 0;
}

int chan_create(const char *name, size_t capacity)
{
    void *p = MAP_FAILED;
    int fd, err = 0;

    if (name == NULL || !capacity_ok(capacity)) {
        errno = EINVAL;
        return -1;
    }
    fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1)
        return -1;                      /* EEXIST among others */
    if (ftruncate(fd, (off_t)(CHAN_HDR + capacity)) == -1)
        goto fail;
    p = mmap(NULL, CHAN_HDR, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || header_init(p, capacity) == -1)
        goto fail;
    if (munmap(p, CHAN_HDR) == -1) {
        p = MAP_FAILED;                 /* do not unmap twice */
        goto fail;
    }
    if (close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    err = errno;                        /* the cleanup below may change it */
    if (p != MAP_FAILED)
        munmap(p, CHAN_HDR);
    if (fd != -1)
        close(fd);
    shm_unlink(name);                   /* ours: O_EXCL made it */
    errno = err;
    return -1;
}

/* Map the whole object open on fd. Returns the mapping and its size in
 * *size, or NULL with errno set (EINVAL: too small for a channel). */
static void *map_object(int fd, size_t *size)
{
    struct stat st;
    void *p;

    if (fstat(fd, &st) == -1)
        return NULL;
    if (st.st_size < CHAN_HDR + (off_t)CHAN_MIN_CAPACITY) {
        errno = EINVAL;
        return NULL;
    }
    *size = (size_t)st.st_size;
    p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Whether the mapping of `size` bytes at sh holds a channel. */
static int header_ok(const struct chan_shared *sh, size_t size)
{
    if (atomic_load(&sh->magic) != CHAN_MAGIC)
        return 0;
    return capacity_ok(sh->capacity) && sh->capacity == size - CHAN_HDR;
}

/* Claim end `end` of sh: UNUSED -> OPEN. Returns 0, or -1 with EBUSY. */
static int claim_end(struct chan_shared *sh, int end)
{
    _Atomic int *state = end == CHAN_WRITE ? &sh->writer : &sh->reader;
    int expect = END_UNUSED;

    if (atomic_compare_exchange_strong(state, &expect, END_OPEN))
        return 0;
    errno = EBUSY;
    return -1;
}

struct chan *chan_open(const char *name, int end)
{
    struct chan *ch = NULL;
    struct chan_shared *sh;
    size_t size = 0;
    int fd, err;

    if (name == NULL || (end != CHAN_READ && end != CHAN_WRITE)) {
        errno = EINVAL;
        return NULL;
    }
    fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
    if (fd == -1)
        return NULL;
    sh = map_object(fd, &size);
    err = errno;                        /* close() may overwrite it */
    if (close(fd) == -1 && sh != NULL)
        goto fail;                      /* with close's errno */
    if (sh == NULL) {
        errno = err;
        return NULL;
    }
    if (!header_ok(sh, size)) {
        errno = EINVAL;
        goto fail;
    }
    ch = malloc(sizeof *ch);
    if (ch == NULL || claim_end(sh, end) == -1)
        goto fail;
    *ch = (struct chan){ sh, (unsigned char *)sh + CHAN_HDR, size,
                         sh->capacity - 1, end };
    return ch;
fail:
    err = errno;
    free(ch);
    munmap(sh, size);
    errno = err;
    return NULL;
}

/* Poll ready(ch) for up to CHAN_POLL_NS before going to sleep: the other
 * side is often about to act, and a sleep and a wake-up cost far more
 * than that (Lab 03's backoff, first step). Returns ready(ch). */
static int chan_poll(struct chan *ch, int (*ready)(const struct chan *))
{
    struct timespec t0, t;

    if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
        return ready(ch);
    do {
        if (ready(ch))
            return 1;
        if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
            break;
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec)
             < CHAN_POLL_NS);
    return ready(ch);
}

/* Wait until ready(ch) holds: a short poll, then sleep on sem. The
 * sleeper raises *sleeps BEFORE its last look at the counters; the other
 * side changes the counters BEFORE it looks at *sleeps (chan_wake). With
 * sequentially consistent atomics at least one of the two sees the
 * other's store, so a wake-up is never lost. A stale flag only costs a
 * spurious wake-up: the loop looks again. Returns 0, or -1 with errno. */
static int chan_await(struct chan *ch, int (*ready)(const struct chan *),
                      _Atomic int *sleeps, sem_t *sem)
{
    if (chan_poll(ch, ready))
        return 0;
    while (!ready(ch)) {
        atomic_store(sleeps, 1);
        if (ready(ch))
            break;
        while (sem_wait(sem) == -1)
            if (errno != EINTR)
                return -1;
    }
    return 0;
}

/* Wake the other side if it may be asleep: one sem_post per sleep, none
 * while it is busy. Returns 0, or -1 with errno set. */
static int chan_wake(_Atomic int *sleeps, sem_t *sem)
{
    if (atomic_load(sleeps) && atomic_exchange(sleeps, 0))
        return sem_post(sem);
    return 0;
}

/* The writer may go on: room in the ring, or nobody left to read. */
static int writer_ready(const struct chan *ch)
{
    struct chan_shared *sh = ch->sh;

    return atomic_load(&sh->reader) == END_CLOSED ||
           atomic_load(&sh->head) - atomic_load(&sh->tail) < sh->capacity;
}

/* The reader may go on: bytes in the ring, or the writer has closed.
 * The writer's state is read first: if it is closed, every byte it
 * wrote is already counted in head. */
static int reader_ready(const struct chan *ch)
{
    struct chan_shared *sh = ch->sh;
    int closed = atomic_load(&sh->writer) == END_CLOSED;

    return closed || atomic_load(&sh->head) != atomic_load(&sh->tail);
}

/* Copy n bytes from src into the ring at stream position pos: up to the
 * end of the ring, then the rest from its start. */
static void ring_put(struct chan *ch, uint64_t pos, const unsigned char *src,
                     size_t n)
{
    size_t at = (size_t)(pos & ch->mask), cap = (size_t)ch->mask + 1;
    size_t first = n < cap - at ? n : cap - at;

    memcpy(ch->ring + at, src, first);
    memcpy(ch->ring, src + first, n - first);
}

/* Copy n bytes at stream position pos out of the ring into dst. */
static void ring_get(struct chan *ch, uint64_t pos, unsigned char *dst,
                     size_t n)
{
    size_t at = (size_t)(pos & ch->mask), cap = (size_t)ch->mask + 1;
    size_t first = n < cap - at ? n : cap - at;

    memcpy(dst, ch->ring + at, first);
    memcpy(dst + first, ch->ring, n - first);
}

/* The argument checks chan_write and chan_read share. Returns 0, or -1
 * with errno set. */
static int check_args(const struct chan *ch, const void *buf, size_t len,
                      int end)
{
    if (ch == NULL || (buf == NULL && len > 0)) {
        errno = EINVAL;
        return -1;
    }
    if (ch->end != end) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

ssize_t chan_write(struct chan *ch, const void *buf, size_t len)
{
    struct chan_shared *sh;
    const unsigned char *src = buf;
    size_t done = 0;

    if (check_args(ch, buf, len, CHAN_WRITE) == -1)
        return -1;
    if (len > SSIZE_MAX) {              /* the count must fit the result */
        errno = EINVAL;
        return -1;
    }
    sh = ch->sh;
    while (done < len) {
        if (chan_await(ch, writer_ready, &sh->writer_sleeps, &sh->space) == -1)
            return -1;
        if (atomic_load(&sh->reader) == END_CLOSED) {
            errno = EPIPE;
            return -1;
        }
        uint64_t head = atomic_load_explicit(&sh->head, memory_order_relaxed);
        uint64_t room = sh->capacity - (head - atomic_load(&sh->tail));
        size_t n = len - done < room ? len - done : (size_t)room;
        ring_put(ch, head, src + done, n);
        atomic_store(&sh->head, head + n);      /* publish the bytes */
        done += n;
        if (chan_wake(&sh->reader_sleeps, &sh->data) == -1)
            return -1;
    }
    return (ssize_t)len;
}

ssize_t chan_read(struct chan *ch, void *buf, size_t len)
{
    struct chan_shared *sh;

    if (check_args(ch, buf, len, CHAN_READ) == -1)
        return -1;
    if (len == 0)
        return 0;
    sh = ch->sh;
    if (chan_await(ch, reader_ready, &sh->reader_sleeps, &sh->data) == -1)
        return -1;
    uint64_t tail = atomic_load_explicit(&sh->tail, memory_order_relaxed);
    uint64_t used = atomic_load(&sh->head) - tail;
    size_t n = len < used ? len : (size_t)used;
    if (n == 0)
        return 0;                       /* end of stream */
    ring_get(ch, tail, buf, n);
    atomic_store(&sh->tail, tail + n);  /* hand the room back */
    if (chan_wake(&sh->writer_sleeps, &sh->space) == -1)
        return -1;
    return (ssize_t)n;
}

int chan_close(struct chan *ch)
{
    struct chan_shared *sh;
    int rc, err;

    if (ch == NULL) {
        errno = EINVAL;
        return -1;
    }
    sh = ch->sh;
    if (ch->end == CHAN_WRITE) {
        atomic_store(&sh->writer, END_CLOSED);  /* then look for a sleeper */
        rc = chan_wake(&sh->reader_sleeps, &sh->data);
    } else {
        atomic_store(&sh->reader, END_CLOSED);
        rc = chan_wake(&sh->writer_sleeps, &sh->space);
    }
    err = errno;
    if (munmap(sh, ch->size) == -1) {
        rc = -1;
        err = errno;
    }
    free(ch);
    errno = err;
    return rc;
}

int chan_unlink(const char *name)
{
    if (name == NULL) {
        errno = EINVAL;
        return -1;
    }
    return shm_unlink(name);
}
