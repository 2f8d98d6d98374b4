/* 03-polling.c - Lab 03's operations for its checker (runs beside mbox.c).
 *
 * Each op calls one of the lab's functions with the checker's arguments
 * (ops.h), or loops over a batch of them, or runs one in a child whose
 * copy stops in a guard page (a hold point: the checker traces the child
 * and keeps it in that fault). The checker fills and reads every buffer
 * from outside: what a reply says is only a claim.
 */
#define _DEFAULT_SOURCE
#include "mbox.h"
#include "ops.h"
#include "sx.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char sbuf[MBOX_MAX + 16], rbuf[MBOX_MAX + 16];
static unsigned char batch[SX03_BATCH];
static unsigned char *hold;             /* three pages, MAP_SHARED */

/* The result of a held call, at the start of the hold buffer. */
struct held_result {
    int64_t ret;
    int32_t err;
};

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* SX03_MAP: the region; NULL if it cannot be mapped. */
static void *map(const char *name, size_t len)
{
    int fd = *name ? shm_open(name, O_RDWR, 0) : -1;
    void *p;

    if (*name && fd == -1)
        return NULL;
    p = mmap(NULL, len, PROT_READ | PROT_WRITE,
             MAP_SHARED | (fd == -1 ? MAP_ANONYMOUS : 0), fd, 0);
    if (fd != -1)
        close(fd);
    return p == MAP_FAILED ? NULL : p;
}

/* The hold buffer, made once. */
static unsigned char *hold_pages(void)
{
    if (hold == NULL) {
        void *p = mmap(NULL, 3 * page(), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        hold = p == MAP_FAILED ? NULL : p;
    }
    return hold;
}

/* In the child: a fault in the guard page makes it accessible again. */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    unsigned char *a = si->si_addr, *g = hold + 2 * page();

    (void)ctx;
    if (a < g || a >= g + page()) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigaction(sig, &dfl, NULL);     /* a real crash: let it happen */
        return;
    }
    if (mprotect(g, page(), PROT_READ | PROT_WRITE) == -1)
        _exit(3);
}

/* SX03_SEND_HELD, SX03_RECV_HELD: in a child, whose result goes into the
 * hold buffer's first bytes. Returns its value, or -2 if the child could
 * not be run. */
static int64_t held(const struct sx_req *q, int send)
{
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
    struct held_result *res = (struct held_result *)(void *)hold;
    unsigned char *g, *msg;
    size_t len = q->a[1] < MBOX_MAX ? q->a[1] : MBOX_MAX;
    int st;
    pid_t pid;

    if (hold_pages() == NULL)
        return -2;
    g = hold + 2 * page();
    msg = g + SX03_TAIL - len;
    res->ret = -2;
    if ((pid = fork()) == -1)
        return -2;
    if (pid == 0) {
        sigemptyset(&sa.sa_mask);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || sigaction(SIGSEGV, &sa, NULL) == -1 ||
            (q->a[2] && mprotect(g, page(), PROT_NONE) == -1))
            _exit(3);
        errno = SX_ERRNO_BEFORE;
        res->ret = send ? mbox_send((void *)(uintptr_t)q->a[0], msg, len)
                        : mbox_recv((void *)(uintptr_t)q->a[0], msg, len);
        res->err = errno;
        _exit(0);
    }
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -2;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -2;
    errno = res->err;
    return res->ret;
}

/* SX03_SEND_MANY: each record with mbox_try_send, retrying while the slot
 * is full: 100 times at once, 50 after sched_yield(), then after naps of
 * a microsecond, so that this side stays quick whatever the mbox code's
 * own backoff. Returns how many went in. */
static long send_many(struct mbox *mb, unsigned long n)
{
    struct timespec us = { 0, 1000 };
    size_t at = 0;
    unsigned long i = 0;
    uint32_t len;

    for (; i < n && at + 4 <= sizeof batch; i++, at += 4 + len) {
        memcpy(&len, batch + at, 4);
        if (len > MBOX_MAX || at + 4 + len > sizeof batch)
            break;
        for (int tries = 0; mbox_try_send(mb, batch + at + 4, len) == -1; tries++) {
            if (errno != EAGAIN)
                return (long)i;
            if (tries >= 150)
                nanosleep(&us, NULL);
            else if (tries >= 100)
                sched_yield();
        }
    }
    return (long)i;
}

/* SX03_RECV_MANY: n records into the batch buffer. Returns how many. */
static long recv_many(struct mbox *mb, unsigned long n)
{
    size_t at = 0;
    unsigned long i = 0;

    for (; i < n && at + 4 + MBOX_MAX <= sizeof batch; i++) {
        ssize_t k = mbox_recv(mb, batch + at + 4, MBOX_MAX);
        if (k < 0)
            break;
        uint32_t len = (uint32_t)k;
        memcpy(batch + at, &len, 4);
        at += 4 + len;
    }
    return (long)i;
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    struct mbox *mb = q->a[3] & SX03_NULL_MB ? NULL : (struct mbox *)(uintptr_t)q->a[0];
    int nobuf = (q->a[3] & SX03_NULL_BUF) != 0;
    size_t size = q->a[1];
    char name[SX_DATA + 1];

    switch (q->op) {
    case SX03_MAP:
        memcpy(name, q->data, q->len < SX_DATA ? q->len : SX_DATA);
        name[q->len < SX_DATA ? q->len : SX_DATA] = '\0';
        r->ret = (intptr_t)map(name, q->a[0]);
        return 0;
    case SX03_BUFS:
        r->v[0] = (uintptr_t)sbuf;
        r->v[1] = (uintptr_t)rbuf;
        r->ret = q->a[0] ? (intptr_t)hold_pages() : (intptr_t)batch;
        return 0;
    case SX03_INIT:
        r->ret = (intptr_t)mbox_init(q->a[3] & SX03_NULL_MB ? NULL : (void *)(uintptr_t)q->a[0],
                                     size);
        return 0;
    case SX03_SEND:
        r->ret = mbox_send(mb, nobuf ? NULL : sbuf, size);
        return 0;
    case SX03_TRY_SEND:
        r->ret = mbox_try_send(mb, nobuf ? NULL : sbuf, size);
        return 0;
    case SX03_RECV:
        r->ret = mbox_recv(mb, nobuf ? NULL : rbuf, size < sizeof rbuf ? size : sizeof rbuf);
        return 0;
    case SX03_TRY_RECV:
        r->ret = mbox_try_recv(mb, nobuf ? NULL : rbuf, size < sizeof rbuf ? size : sizeof rbuf);
        return 0;
    case SX03_TIMED:
        r->ret = mbox_recv_timed(mb, nobuf ? NULL : rbuf, size < sizeof rbuf ? size : sizeof rbuf,
                                 (long)q->a[2]);
        return 0;
    case SX03_SEND_HELD:
    case SX03_RECV_HELD:
        r->ret = held(q, q->op == SX03_SEND_HELD);
        return 0;
    case SX03_SEND_MANY:
        r->ret = send_many(mb, q->a[1]);
        return 0;
    case SX03_RECV_MANY:
        r->ret = recv_many(mb, q->a[1]);
        return 0;
    }
    return -1;
}
