/* chan.c - Lab 04: a named channel, made of a shm_open region and two named
 * semaphores, that unrelated processes meet through.
 *
 * Implement each function as chan.h describes; handouts/04-semaphores.md
 * (section 7) explains the calls. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE                 /* ftruncate */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int chan_create(struct chan *c, const char *name)
{
    /* TODO (handout §7): check the name (EINVAL); shm_open it with
     * O_CREAT | O_EXCL | O_RDWR, mode 0600; ftruncate to the size of a
     * struct chan_buf; mmap MAP_SHARED; close the descriptor. sem_open
     * NAME.empty (value 1) and NAME.full (value 0), also O_CREAT | O_EXCL,
     * 0600. On any failure, undo in reverse order: sem_close and
     * sem_unlink, munmap and shm_unlink only what THIS call created, and
     * return the errno of the call that failed. */
    (void)c;
    (void)name;
    errno = ENOSYS;
    return -1;
}

int chan_open(struct chan *c, const char *name)
{
    /* TODO (handout §7): as chan_create, without O_CREAT (so ENOENT when
     * missing) and without ftruncate; on failure close and unmap what it
     * opened, and unlink nothing. Share the code with chan_create. */
    (void)c;
    (void)name;
    errno = ENOSYS;
    return -1;
}

int chan_send(struct chan *c, const void *msg, size_t len)
{
    /* TODO (handout §7): mbox_send, with c->empty, c->full, c->buf. */
    (void)c;
    (void)msg;
    (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t chan_recv(struct chan *c, void *buf, size_t size)
{
    /* TODO (handout §7): mbox_recv, with c->full, c->empty, c->buf. */
    (void)c;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

int chan_close(struct chan *c)
{
    /* TODO (handout §7): munmap the region, sem_close both semaphores,
     * even if one of them fails; report the first failure. */
    (void)c;
    errno = ENOSYS;
    return -1;
}

int chan_unlink(const char *name)
{
    /* TODO (handout §7): check the name; shm_unlink the region and
     * sem_unlink both semaphores, all three even if one fails; report the
     * first failure (ENOENT if the channel did not exist). */
    (void)name;
    errno = ENOSYS;
    return -1;
}
