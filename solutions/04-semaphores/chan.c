/* chan.c - Lab 04 reference solution: a named channel, made of a shm_open
 * region and two named semaphores, that unrelated processes meet through.
 *
 * See chan.h for each function's contract and handouts/04-semaphores.md for
 * why.
 */
#define _DEFAULT_SOURCE                 /* ftruncate */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHAN_MODE 0600                  /* owner only */

/* The names of a channel's two semaphores. */
struct chan_names {
    char empty[CHAN_NAME_MAX + 8];      /* NAME.empty */
    char full[CHAN_NAME_MAX + 8];       /* NAME.full */
};

/* Check name and make the semaphore names. Returns 0, or -1 with EINVAL. */
static int chan_names(const char *name, struct chan_names *n)
{
    if (name == NULL || name[0] != '/' || strchr(name + 1, '/') != NULL ||
        strlen(name) > CHAN_NAME_MAX) {
        errno = EINVAL;
        return -1;
    }
    snprintf(n->empty, sizeof n->empty, "%s.empty", name);
    snprintf(n->full, sizeof n->full, "%s.full", name);
    return 0;
}

/* Map the object name (creating it if oflag has O_CREAT). Returns the
 * region, or NULL with errno set; the descriptor is closed either way. */
static struct chan_buf *chan_map(const char *name, int oflag)
{
    struct chan_buf *p = MAP_FAILED;
    int fd = shm_open(name, oflag | O_RDWR, CHAN_MODE), err;

    if (fd == -1)
        return NULL;
    if ((oflag & O_CREAT) && ftruncate(fd, sizeof *p) == -1)
        goto out;
    p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
out:
    err = errno;
    close(fd);
    errno = err;
    return p == MAP_FAILED ? NULL : p;
}

/* sem_open, with NULL (not SEM_FAILED) for a failure. */
static sem_t *chan_sem(const char *name, int oflag, unsigned value)
{
    sem_t *s = sem_open(name, oflag, CHAN_MODE, value);

    return s == SEM_FAILED ? NULL : s;
}

/* Release whatever *c holds and, when creating, remove what it made, all
 * keeping errno. */
static void chan_undo(struct chan *c, const char *name,
                      const struct chan_names *n, int created)
{
    int err = errno;

    if (c->full != NULL) {
        sem_close(c->full);
        if (created)
            sem_unlink(n->full);
    }
    if (c->empty != NULL) {
        sem_close(c->empty);
        if (created)
            sem_unlink(n->empty);
    }
    if (c->buf != NULL) {
        munmap(c->buf, sizeof *c->buf);
        if (created)
            shm_unlink(name);
    }
    c->buf = NULL;
    c->empty = c->full = NULL;
    errno = err;
}

/* Create (oflag O_CREAT | O_EXCL) or open (oflag 0) the three objects. */
static int chan_get(struct chan *c, const char *name, int oflag)
{
    struct chan_names n;

    if (c == NULL || chan_names(name, &n) == -1) {
        errno = EINVAL;
        return -1;
    }
    c->empty = c->full = NULL;
    c->buf = chan_map(name, oflag);     /* a new region reads as zeros */
    if (c->buf == NULL)
        goto fail;
    c->empty = chan_sem(n.empty, oflag, 1);
    if (c->empty == NULL)
        goto fail;
    c->full = chan_sem(n.full, oflag, 0);
    if (c->full == NULL)
        goto fail;
    return 0;
fail:
    chan_undo(c, name, &n, oflag != 0);
    return -1;
}

int chan_create(struct chan *c, const char *name)
{
    return chan_get(c, name, O_CREAT | O_EXCL);
}

int chan_open(struct chan *c, const char *name)
{
    return chan_get(c, name, 0);
}

/* sem_wait that sleeps through signal handlers. Returns 0 or -1. */
static int chan_wait(sem_t *s)
{
    while (sem_wait(s) == -1)
        if (errno != EINTR)
            return -1;
    return 0;
}

int chan_send(struct chan *c, const void *msg, size_t len)
{
    if (c == NULL || (msg == NULL && len > 0)) {
        errno = EINVAL;
        return -1;
    }
    if (len > CHAN_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    if (chan_wait(c->empty) == -1)
        return -1;
    if (len > 0)
        memcpy(c->buf->data, msg, len);
    c->buf->len = len;
    return sem_post(c->full);
}

ssize_t chan_recv(struct chan *c, void *buf, size_t size)
{
    size_t len;

    if (c == NULL || buf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (chan_wait(c->full) == -1)
        return -1;
    len = c->buf->len;
    if (len > size) {
        sem_post(c->full);              /* the message stays for later */
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, c->buf->data, len);
    if (sem_post(c->empty) == -1)
        return -1;
    return (ssize_t)len;
}

int chan_close(struct chan *c)
{
    int err = 0;

    if (c == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (c->buf != NULL && munmap(c->buf, sizeof *c->buf) == -1 && !err)
        err = errno;
    if (c->empty != NULL && sem_close(c->empty) == -1 && !err)
        err = errno;
    if (c->full != NULL && sem_close(c->full) == -1 && !err)
        err = errno;
    c->buf = NULL;
    c->empty = c->full = NULL;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int chan_unlink(const char *name)
{
    struct chan_names n;
    int err = 0;

    if (chan_names(name, &n) == -1)
        return -1;
    if (shm_unlink(name) == -1)
        err = errno;
    if (sem_unlink(n.empty) == -1 && !err)
        err = errno;
    if (sem_unlink(n.full) == -1 && !err)
        err = errno;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
