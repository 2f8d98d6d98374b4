/* share.c - Lab 02: parent and child sharing memory across fork().
 *
 * Implement each function as share.h describes; handouts/02-fork.md explains
 * the calls you need. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS under -std=c11 */
#include "share.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

void *share_alloc(size_t len)
{
    /* TODO (handout §2): EINVAL for len 0; mmap len bytes PROT_READ |
     * PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, fd -1, offset 0; compare
     * with MAP_FAILED and return NULL (mmap has set errno). */
    (void)len;
    errno = ENOSYS;
    return NULL;
}

int share_free(void *addr, size_t len)
{
    /* TODO (handout §2): EINVAL for a NULL addr or a 0 len; munmap. */
    (void)addr;
    (void)len;
    errno = ENOSYS;
    return -1;
}

pid_t share_spawn(int (*fn)(void *), void *arg)
{
    /* TODO (handout §3): EINVAL for a NULL fn; fflush(NULL); fork. In the
     * child: run fn(arg), fflush(NULL) again, then _exit (never exit, never
     * return) with fn's value & 0xff. In the parent: return the pid, or -1
     * with fork's errno. */
    (void)fn;
    (void)arg;
    errno = ENOSYS;
    return -1;
}

int share_decode(int wstatus, struct share_status *st)
{
    /* TODO (handout §4): EINVAL for a NULL st. WIFEXITED: exited 1 and
     * WEXITSTATUS; WIFSIGNALED: exited 0 and WTERMSIG; anything else
     * (stopped, continued) is EINVAL with *st untouched. Set every field. */
    (void)wstatus;
    (void)st;
    errno = ENOSYS;
    return -1;
}

int share_wait(pid_t pid, struct share_status *st)
{
    /* TODO (handout §5): EINVAL for pid <= 0 or a NULL st; waitpid for
     * exactly this pid (never wait() or -1: those reap the caller's other
     * children), again and again while it fails with EINTR; decode. */
    (void)pid;
    (void)st;
    errno = ENOSYS;
    return -1;
}

int share_count(atomic_long *counter, int nchild, long iters)
{
    /* TODO (handout §6): EINVAL checks first. Start all nchild children
     * with share_spawn, keeping their pids in a pid_t array of
     * SHARE_MAX_CHILDREN; each adds 1 to *counter iters times with
     * atomic_fetch_add. Only then wait for each pid. ECANCELED if a child
     * did not exit 0; if fork fails, wait for the children already
     * started and return fork's errno. */
    (void)counter;
    (void)nchild;
    (void)iters;
    errno = ENOSYS;
    return -1;
}

int share_count_racy(volatile long *counter, int nchild, long iters)
{
    /* TODO (handout §6): the same with (*counter)++ in the children. Share
     * the code: one helper that starts and waits for the children, given
     * the function they run. */
    (void)counter;
    (void)nchild;
    (void)iters;
    errno = ENOSYS;
    return -1;
}
