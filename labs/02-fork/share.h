/* share.h - Lab 02: parent and child sharing memory across fork().
 *
 * The interface you implement in share.c. Do not change this file: the grader
 * always compiles your share.c against its own copy of it.
 *
 * Every function that can fail returns NULL or -1 and sets errno. None of them
 * prints or exits in the calling process, and none leaves a child behind:
 * every child it starts is waited for before it returns, except the one
 * share_spawn hands to its caller.
 */
#ifndef SHARE_H
#define SHARE_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* The most children share_count and share_count_racy start at once: an
 * array of SHARE_MAX_CHILDREN pid_t can hold all their process IDs. */
#define SHARE_MAX_CHILDREN 64

/* How a child process ended, decoded from a wait status. */
struct share_status {
    int exited;         /* 1: it exited (exit, _exit, or fn returned);
                           0: a signal killed it */
    int code;           /* exit code, 0 to 255, if exited; else 0 */
    int signal;         /* number of the signal that killed it, if it did
                           not exit; else 0 */
};

/* share_alloc: len bytes (the kernel rounds up to whole pages) of
 * zero-filled memory, readable and writable, mapped MAP_SHARED and
 * MAP_ANONYMOUS: after fork() parent and child see the same bytes. Returns
 * the address, or NULL with errno set:
 *   EINVAL    len is 0;
 *   otherwise the errno of mmap() (ENOMEM when len does not fit).
 * (Handout section 2.) */
void *share_alloc(size_t len);

/* share_free: unmap the len bytes at addr returned by share_alloc. Returns
 * 0, or -1 with errno EINVAL if addr is NULL or len is 0, or the errno of
 * munmap(). (Handout section 2.) */
int share_free(void *addr, size_t len);

/* share_spawn: start a child process that runs fn(arg) and then ends with
 * _exit(fn's return value & 0xff). Before fork() it flushes every stdio
 * stream, so that nothing buffered is written twice; the child flushes
 * again after fn returns, so that nothing it printed is lost. The child
 * never returns from share_spawn and never runs atexit() handlers.
 * Returns the child's process ID (in the parent), or -1 with errno set:
 *   EINVAL    fn is NULL (no child is started);
 *   otherwise the errno of fork() (EAGAIN, ENOMEM).
 * (Handout section 3.) */
pid_t share_spawn(int (*fn)(void *), void *arg);

/* share_decode: decode the wait status wstatus of a child that has ended
 * into *st. Returns 0, or -1 with errno EINVAL if st is NULL or wstatus
 * says the child has not ended (it was stopped or continued); *st is then
 * left unchanged. (Handout section 4.) */
int share_decode(int wstatus, struct share_status *st);

/* share_wait: wait until the child pid ends, reap it, and decode how it
 * ended into *st. A signal handled while waiting does not end the wait:
 * waitpid() failing with EINTR is retried. Returns 0, or -1 with errno set:
 *   EINVAL    pid <= 0 or st is NULL (nothing is waited for);
 *   ECHILD    pid is not a child of this process still to be waited for.
 * (Handout section 5.) */
int share_wait(pid_t pid, struct share_status *st);

/* share_count: add nchild * iters to *counter by starting nchild children
 * at once, each of which adds 1 to *counter iters times with
 * atomic_fetch_add and then exits with status 0; then wait for every one
 * of them. *counter must lie in memory the children share (share_alloc);
 * it is not reset first, and the calling process never writes to it.
 * Returns 0, or -1 with errno set:
 *   EINVAL      counter is NULL, nchild < 1 or > SHARE_MAX_CHILDREN, or
 *               iters < 0 (no child is started);
 *   ECANCELED   a child did not exit with status 0 (a signal killed it,
 *               say): its increments may be missing;
 *   otherwise the errno of fork() (EAGAIN, ENOMEM). In every case, each
 *   child that was started has been waited for.
 * (Handout section 6.) */
int share_count(atomic_long *counter, int nchild, long iters);

/* share_count_racy: the same, except that each child adds with a plain
 * (*counter)++, a separate load and store: children running at the same
 * time lose each other's updates, so the result may fall short of
 * nchild * iters. Same errors. A demonstration: never count like this.
 * (Handout section 6.) */
int share_count_racy(volatile long *counter, int nchild, long iters);

#endif
