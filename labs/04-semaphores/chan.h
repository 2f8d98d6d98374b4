/* chan.h - Lab 04: a named channel that unrelated processes meet through: a
 * region made with shm_open and two named semaphores made with sem_open.
 *
 * The interface you implement in chan.c. Do not change this file: the grader
 * always compiles your chan.c against its own copy of it.
 *
 * A channel called NAME ("/something", one slash) consists of three
 * objects, all visible in /dev/shm:
 *   NAME          the shared-memory object holding a struct chan_buf;
 *   NAME.empty    a named semaphore, 1 while the buffer is free;
 *   NAME.full     a named semaphore, 1 while the buffer holds a message.
 * They are created with permissions 0600 (owner only) and exist until
 * chan_unlink(NAME), whether or not any process has them open.
 *
 * Every function that can fail returns -1 and sets errno. None of them
 * prints or exits. A wait interrupted by a signal handler (EINTR) is
 * resumed, never reported. (Handout section 7.)
 */
#ifndef CHAN_H
#define CHAN_H

#include <semaphore.h>
#include <stddef.h>
#include <sys/types.h>

#define CHAN_MAX 240            /* bytes: the largest message */
#define CHAN_NAME_MAX 200       /* longest NAME, '/' included */

struct chan_buf {               /* the shared region, object NAME */
    size_t len;                 /* bytes of the message in data; owned by
                                   whoever holds the buffer (as in mbox.h) */
    unsigned char data[CHAN_MAX]; /* the message; owned like len */
};

struct chan {                   /* one process's handle: private, not shared */
    struct chan_buf *buf;       /* the region, mapped MAP_SHARED */
    sem_t *empty;               /* semaphore NAME.empty, from sem_open */
    sem_t *full;                /* semaphore NAME.full, from sem_open */
};

/* chan_create: create the three objects of channel name (an empty buffer:
 * NAME.empty at 1, NAME.full at 0) and open them into *c. Fails if any of
 * them exists already; then it removes the ones it had created itself (and
 * no others), so that a failed call leaves /dev/shm as it found it. Returns
 * 0, or -1 with errno:
 *   EINVAL    c or name is NULL, name does not start with '/', contains
 *             another '/', or is longer than CHAN_NAME_MAX;
 *   EEXIST    one of the objects exists already;
 *   otherwise the errno of the call that failed. */
int chan_create(struct chan *c, const char *name);

/* chan_open: open the existing channel name into *c. Never creates
 * anything. Returns 0, or -1 with errno EINVAL as chan_create, ENOENT if
 * one of the objects does not exist, or the errno of the call that failed.
 * A failed call leaves nothing open or mapped. */
int chan_open(struct chan *c, const char *name);

/* chan_send: as mbox_send, through the channel (EINVAL if c is NULL). */
int chan_send(struct chan *c, const void *msg, size_t len);

/* chan_recv: as mbox_recv, through the channel (EINVAL if c or buf is
 * NULL; EMSGSIZE leaves the message in the channel). */
ssize_t chan_recv(struct chan *c, void *buf, size_t size);

/* chan_close: unmap the region and close both semaphores of *c (the
 * objects themselves stay). It releases everything even if one step fails.
 * Returns 0, or -1 with errno EINVAL if c is NULL, or the errno of the
 * first step that failed. */
int chan_close(struct chan *c);

/* chan_unlink: remove the three objects of channel name from /dev/shm.
 * Processes that have them open keep using them until they close them.
 * It tries all three even if one fails. Returns 0, or -1 with errno EINVAL
 * (bad name as chan_create) or the errno of the first removal that failed
 * (ENOENT if it did not exist). */
int chan_unlink(const char *name);

#endif
