/* share.c - Lab 02 reference solution: parent and child sharing memory
 * across fork().
 *
 * See share.h for each function's contract and handouts/02-fork.md for why.
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
    void *p;

    if (len == 0) {
        errno = EINVAL;
        return NULL;
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int share_free(void *addr, size_t len)
{
    if (addr == NULL || len == 0) {
        errno = EINVAL;
        return -1;
    }
    return munmap(addr, len);
}

pid_t share_spawn(int (*fn)(void *), void *arg)
{
    pid_t pid;

    if (fn == NULL) {
        errno = EINVAL;
        return -1;
    }
    fflush(NULL);                       /* or the child inherits the buffers */
    pid = fork();
    if (pid == 0) {
        int code = fn(arg);
        fflush(NULL);                   /* _exit() does not flush stdio */
        _exit(code & 0xff);
    }
    return pid;                         /* the child's pid, or -1 */
}

int share_decode(int wstatus, struct share_status *st)
{
    if (st == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (WIFEXITED(wstatus)) {
        st->exited = 1;
        st->code = WEXITSTATUS(wstatus);
        st->signal = 0;
        return 0;
    }
    if (WIFSIGNALED(wstatus)) {
        st->exited = 0;
        st->code = 0;
        st->signal = WTERMSIG(wstatus);
        return 0;
    }
    errno = EINVAL;                     /* stopped or continued: not ended */
    return -1;
}

int share_wait(pid_t pid, struct share_status *st)
{
    int wstatus;

    if (pid <= 0 || st == NULL) {
        errno = EINVAL;
        return -1;
    }
    while (waitpid(pid, &wstatus, 0) == -1)
        if (errno != EINTR)
            return -1;
    return share_decode(wstatus, st);
}

/* What each counting child needs: one of the two counters, and how often. */
struct count_job {
    atomic_long *exact;                 /* share_count's counter, or NULL */
    volatile long *racy;                /* share_count_racy's, or NULL */
    long iters;                         /* increments per child */
};

static int count_atomic_child(void *arg)
{
    const struct count_job *job = arg;

    for (long i = 0; i < job->iters; i++)
        atomic_fetch_add_explicit(job->exact, 1, memory_order_relaxed);
    return 0;
}

static int count_racy_child(void *arg)
{
    const struct count_job *job = arg;

    for (long i = 0; i < job->iters; i++)
        (*job->racy)++;                 /* load, add, store: not atomic */
    return 0;
}

/* Wait for the n children in pids. Returns 0 if all exited with status 0;
 * otherwise -1 with errno set by the first failure (ECANCELED for a child
 * that failed). Every child is waited for either way. */
static int gang_wait(const pid_t *pids, int n)
{
    struct share_status st;
    int err = 0;

    for (int i = 0; i < n; i++) {
        if (share_wait(pids[i], &st) == -1) {
            if (err == 0)
                err = errno;
        } else if ((!st.exited || st.code != 0) && err == 0) {
            err = ECANCELED;
        }
    }
    if (err == 0)
        return 0;
    errno = err;
    return -1;
}

/* Start nchild children running fn(job) at once, then wait for them all.
 * Returns 0, or -1 with errno set. */
static int gang_run(int nchild, int (*fn)(void *), struct count_job *job)
{
    pid_t pids[SHARE_MAX_CHILDREN];
    int started = 0, err = 0;

    if (nchild < 1 || nchild > SHARE_MAX_CHILDREN || job->iters < 0) {
        errno = EINVAL;
        return -1;
    }
    while (started < nchild && (pids[started] = share_spawn(fn, job)) != -1)
        started++;
    if (started < nchild)
        err = errno;                    /* fork failed: still wait for all */
    if (gang_wait(pids, started) == -1 && err == 0)
        err = errno;
    if (err == 0)
        return 0;
    errno = err;
    return -1;
}

int share_count(atomic_long *counter, int nchild, long iters)
{
    struct count_job job = { counter, NULL, iters };

    if (counter == NULL) {
        errno = EINVAL;
        return -1;
    }
    return gang_run(nchild, count_atomic_child, &job);
}

int share_count_racy(volatile long *counter, int nchild, long iters)
{
    struct count_job job = { NULL, counter, iters };

    if (counter == NULL) {
        errno = EINVAL;
        return -1;
    }
    return gang_run(nchild, count_racy_child, &job);
}
