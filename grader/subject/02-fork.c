/* 02-fork.c - Lab 02's operations for its checker (runs beside share.c).
 *
 * The children share_spawn starts here run code of this file (ops.h says
 * what each does); the checker watches them from outside. Program "stdio"
 * is a program using share_spawn with buffered output, for spawn_stdio.
 */
#define _DEFAULT_SOURCE
#include "ops.h"
#include "share.h"
#include "sx.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define OK 42                           /* a child's "all went well" */

/* What an SX02_SPAWN child does: copied into it by fork. */
static struct {
    uint64_t kind, value, aux;          /* a[0], a[1], a[2] */
    uint64_t addr[8];                   /* from data */
} job;

static int child(void *arg)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    struct timespec t = { (time_t)(job.aux / 1000000), (long)(job.aux % 1000000) * 1000 };

    (void)arg;
    switch (job.kind) {
    case SX02_RETURN:
        return (int)job.value;
    case SX02_RAISE:
        sigaction((int)job.value, &dfl, NULL);
        raise((int)job.value);
        return 3;                       /* survived it */
    case SX02_STOP:
        raise(SIGSTOP);
        return (int)job.value;
    case SX02_LATE:
        nanosleep(&t, NULL);
        *(volatile unsigned *)(uintptr_t)job.addr[0] = (unsigned)job.value;
        return OK;
    case SX02_WRITE:
        for (int i = 0; i < 8 && job.addr[i]; i++)
            *(volatile int *)(uintptr_t)job.addr[i] = (int)job.value;
        raise(SIGSTOP);
        return OK;
    }
    return 4;
}

static void *counted;                   /* the page SX02_COUNT holds */

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    char *a = si->si_addr, *p = counted;
    int saved = errno;

    (void)ctx;
    if (a < p || a >= p + sysconf(_SC_PAGESIZE)) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigaction(sig, &dfl, NULL);     /* a real crash: let it happen */
        return;
    }
    mprotect(p, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
    errno = saved;
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* SX02_COUNT: see ops.h. */
static int64_t count(const struct sx_req *q)
{
    struct sigaction sa = { .sa_sigaction = on_segv }, old;
    void *c = (void *)(uintptr_t)q->a[0];
    int held = (q->a[3] & 2) != 0, rc;

    if (held) {
        counted = c;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_SIGINFO;
        if (sigaction(SIGSEGV, &sa, &old) == -1 ||
            mprotect(c, (size_t)sysconf(_SC_PAGESIZE), PROT_READ) == -1)
            return -2;
    }
    errno = SX_ERRNO_BEFORE;
    rc = q->a[3] & 1 ? share_count_racy(c, (int)q->a[1], (long)q->a[2])
                     : share_count(c, (int)q->a[1], (long)q->a[2]);
    if (held) {
        int err = errno;
        sigaction(SIGSEGV, &old, NULL);
        mprotect(c, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
        errno = err;
    }
    return rc;
}

/* SX02_WAIT: see ops.h. */
static int64_t wait_for(const struct sx_req *q, struct sx_rep *r)
{
    struct sigaction sa = { .sa_handler = on_usr1 }, old;
    struct share_status st = { -7, -7, -7 };
    int rc, err;

    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                    /* no SA_RESTART: waitpid gets EINTR */
    if (q->a[2] && sigaction(SIGUSR1, &sa, &old) == -1)
        return -2;
    errno = SX_ERRNO_BEFORE;
    rc = share_wait((pid_t)q->a[0], q->a[1] ? NULL : &st);
    err = errno;
    if (q->a[2])
        sigaction(SIGUSR1, &old, NULL);
    memcpy(r->data, &st, sizeof st);
    r->len = sizeof st;
    errno = err;
    return rc;
}

/* SX02_DECODE: see ops.h. */
static int64_t decode(const struct sx_req *q, struct sx_rep *r)
{
    struct share_status st = { -7, -7, -7 };
    int rc;

    errno = SX_ERRNO_BEFORE;
    rc = share_decode((int)q->a[0], q->a[1] ? NULL : &st);
    memcpy(r->data, &st, sizeof st);
    r->len = sizeof st;
    return rc;
}

/* SX02_COPIES: see ops.h. */
static int64_t copies(struct sx_rep *r)
{
    static int *heap;                   /* reachable till the end */
    free(heap);
    heap = malloc(sizeof *heap);
    void *priv = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t stack = (uintptr_t)sx_stack;

    if (heap == NULL || priv == MAP_FAILED)
        return -2;
    r->v[0] = (uintptr_t)heap;
    r->v[1] = (uintptr_t)priv;
    memcpy(r->data, &stack, sizeof stack);
    r->len = sizeof stack;
    return 0;
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    void *p;

    switch (q->op) {
    case SX02_ALLOC:
        r->ret = (int64_t)(uintptr_t)share_alloc(q->a[0]);
        return 0;
    case SX02_FREE:
        r->ret = share_free((void *)(uintptr_t)q->a[0], q->a[1]);
        return 0;
    case SX02_PAGE:
        p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        r->ret = p == MAP_FAILED ? 0 : (int64_t)(uintptr_t)p;
        return 0;
    case SX02_PROTECT:
        r->ret = mprotect((void *)(uintptr_t)q->a[0], (size_t)sysconf(_SC_PAGESIZE),
                          q->a[1] ? PROT_READ : PROT_READ | PROT_WRITE);
        return 0;
    case SX02_COPIES:
        r->ret = copies(r);
        return 0;
    case SX02_SPAWN:
        job.kind = q->a[0];
        job.value = q->a[1];
        job.aux = q->a[2];
        memset(job.addr, 0, sizeof job.addr);
        memcpy(job.addr, q->data, q->len < sizeof job.addr ? q->len : sizeof job.addr);
        errno = SX_ERRNO_BEFORE;
        r->ret = share_spawn(q->a[3] ? NULL : child, NULL);
        return 0;
    case SX02_WAIT:
        r->ret = wait_for(q, r);
        return 0;
    case SX02_DECODE:
        r->ret = decode(q, r);
        return 0;
    case SX02_COUNT:
        r->ret = count(q);
        return 0;
    }
    return -1;
}

static int says_child(void *arg)
{
    fputs("child ", stdout);            /* no newline: stays in the buffer */
    fputs("CHILD ", (FILE *)arg);
    return OK;
}

static void says_atexit(void)
{
    fputs("atexit ", stdout);
}

/* "stdio": print around a child that prints, all of it buffered, on
 * stdout and on a second stream (a copy of stderr, fully buffered: "every
 * stdio stream", not stdout alone); exit OK, or 3 to 6 for the step that
 * failed. */
int sx_program(const char *name)
{
    struct share_status st;
    FILE *two;
    pid_t pid;

    if (strcmp(name, "stdio") != 0)
        return -1;
    if (atexit(says_atexit) != 0)
        _exit(3);
    two = fdopen(dup(STDERR_FILENO), "w");
    if (two == NULL || setvbuf(two, NULL, _IOFBF, BUFSIZ) != 0)
        _exit(3);
    fputs("before ", stdout);           /* no newline: stays in the buffer */
    fputs("BEFORE ", two);
    pid = share_spawn(says_child, two);
    if (pid == -1)
        _exit(4);
    if (share_wait(pid, &st) == -1 || !st.exited || st.code != OK)
        _exit(5);
    fputs("after\n", stdout);
    fputs("AFTER\n", two);
    _exit(fflush(stdout) == 0 && fclose(two) == 0 ? OK : 6);
}
