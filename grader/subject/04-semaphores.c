/* 04-semaphores.c - Lab 04's operations for its checker (runs beside
 * mbox.c, ring.c, chan.c and notify.c).
 *
 * Each op calls one of the lab's functions with the checker's arguments
 * (ops.h), or loops over a batch of them, or does one plain step a test
 * needs (its own mmap, sem_wait, handler, kill). The checker fills and
 * reads the batch buffer and the shared region from outside: what a reply
 * says is only a claim.
 */
#define _DEFAULT_SOURCE
#include "chan.h"
#include "mbox.h"
#include "notify.h"
#include "ops.h"
#include "ring.h"
#include "sx.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char batch[SX04_BATCH];
static _Atomic int hits;                /* SIGUSR1s caught (SX04_CATCH) */
static struct chan slots[SX04_SLOTS];

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&hits, 1);
}

/* The request's string (name) in buf, '\0'-terminated. */
static const char *text(const struct sx_req *q, char buf[SX_DATA + 1])
{
    size_t len = q->len < SX_DATA ? q->len : SX_DATA;

    memcpy(buf, q->data, len);
    buf[len] = '\0';
    return buf;
}

/* SX04_MAP: the region; NULL if it cannot be mapped. */
static void *map(const char *name, size_t len)
{
    int fd = shm_open(name, O_RDWR, 0);
    void *p;

    if (fd == -1)
        return NULL;
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static int catch_usr1(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;            /* no SA_RESTART: EINTR */
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGUSR1, &sa, NULL);
}

static int kill_times(pid_t pid, int sig, unsigned long times)
{
    for (unsigned long i = 0; i < times; i++)
        if (kill(pid, sig) == -1)
            return -1;
    return 0;
}

/* Batches: how many of n calls succeeded (errno from the one that did not). */
static long mb_send_many(struct mbox *mb, unsigned long n)
{
    unsigned long i = 0;
    uint32_t len;

    for (; i < n && (i + 1) * SX04_REC <= sizeof batch; i++) {
        memcpy(&len, batch + i * SX04_REC, 4);
        if (mbox_send(mb, batch + i * SX04_REC + 4, len) == -1)
            break;
    }
    return (long)i;
}

static long mb_recv_many(struct mbox *mb, unsigned long n)
{
    unsigned long i = 0;

    for (; i < n && (i + 1) * SX04_REC <= sizeof batch; i++) {
        ssize_t k = mbox_recv(mb, batch + i * SX04_REC + 4, MBOX_MAX);
        if (k == -1)
            break;
        uint32_t len = (uint32_t)k;
        memcpy(batch + i * SX04_REC, &len, 4);
    }
    return (long)i;
}

static long ring_push_many(struct ring *r, unsigned long n, uint64_t base)
{
    unsigned long i = 0;

    while (i < n && ring_push(r, base + i) == 0)
        i++;
    return (long)i;
}

static long ring_pop_many(struct ring *r, unsigned long n)
{
    unsigned long i = 0;
    uint64_t x;

    for (; i < n && (i + 1) * 8 <= sizeof batch && ring_pop(r, &x) == 0; i++)
        memcpy(batch + i * 8, &x, 8);
    return (long)i;
}

/* SX04_CH_EXCHANGE: n requests on slot req, each answer from slot rep.
 * Returns how many exchanges were made. */
static long exchange(unsigned long req, unsigned long rep, unsigned long n)
{
    unsigned char *in = batch, *out = batch + sizeof batch / 2;
    unsigned long i = 0;
    uint32_t len;

    if (req >= SX04_SLOTS || rep >= SX04_SLOTS)
        return 0;
    for (; i < n && (i + 1) * SX04_REC <= sizeof batch / 2; i++) {
        memcpy(&len, in + i * SX04_REC, 4);
        if (len > CHAN_MAX || chan_send(&slots[req], in + i * SX04_REC + 4, len) == -1)
            break;
        ssize_t k = chan_recv(&slots[rep], out + i * SX04_REC + 4, CHAN_MAX);
        if (k == -1)
            break;
        len = (uint32_t)k;
        memcpy(out + i * SX04_REC, &len, 4);
    }
    return (long)i;
}

/* The mailbox ops. Returns 0, or -1 if q is none of them. */
static int mb_op(const struct sx_req *q, struct sx_rep *r, struct mbox *mb, int nobuf)
{
    static unsigned char buf[MBOX_MAX + 64];
    size_t size = q->a[1] < sizeof buf ? q->a[1] : sizeof buf;
    void *out = nobuf ? NULL : buf;

    switch (q->op) {
    case SX04_MB_INIT: r->ret = mbox_init(mb); break;
    case SX04_MB_DESTROY: r->ret = mbox_destroy(mb); break;
    case SX04_MB_SEND: r->ret = mbox_send(mb, nobuf ? NULL : q->data, q->a[1]); break;
    case SX04_MB_RECV: r->ret = mbox_recv(mb, out, size); break;
    case SX04_MB_TRY: r->ret = mbox_try_recv(mb, out, size); break;
    case SX04_MB_TIMED: r->ret = mbox_recv_timed(mb, out, size, (long)q->a[2]); break;
    case SX04_MB_SEND_MANY: r->ret = mb_send_many(mb, q->a[1]); return 0;
    case SX04_MB_RECV_MANY: r->ret = mb_recv_many(mb, q->a[1]); return 0;
    default: return -1;
    }
    if (r->ret > 0 && q->op != SX04_MB_SEND && q->op != SX04_MB_INIT) {
        r->len = (uint32_t)(r->ret < (int64_t)sizeof buf ? r->ret : (int64_t)sizeof buf);
        memcpy(r->data, buf, r->len);
    }
    return 0;
}

static unsigned char *guard;            /* SX04_RING_PUSH_HELD's page */

/* In the child: a write fault in the guard page makes it writable. */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    unsigned char *a = si->si_addr;
    long pg = sysconf(_SC_PAGESIZE);

    (void)ctx;
    if (a < guard || a >= guard + pg) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigaction(sig, &dfl, NULL);     /* a real crash: let it happen */
        return;
    }
    if (mprotect(guard, (size_t)pg, PROT_READ | PROT_WRITE) == -1)
        _exit(3);
}

/* SX04_RING_PUSH_HELD: ring_push in a child whose write into the guard
 * page faults first. Returns 0 or -1 (errno set) as the push did, or -2
 * if the child could not run. */
static int64_t push_held(struct ring *rg, uint64_t item, uintptr_t page)
{
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
    int st;
    pid_t pid;

    guard = (unsigned char *)page;
    if ((pid = fork()) == -1)
        return -2;
    if (pid == 0) {
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, NULL) == -1 ||
            mprotect(guard, (size_t)sysconf(_SC_PAGESIZE), PROT_READ) == -1)
            _exit(3);
        errno = SX_ERRNO_BEFORE;
        _exit(ring_push(rg, item) == 0 ? 0 : 100 + (errno & 63));
    }
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -2;
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) < 100))
        return -2;
    errno = WEXITSTATUS(st) - 100;
    return WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The ring and notify ops. Returns 0, or -1 if q is none of them. */
static int ring_op(const struct sx_req *q, struct sx_rep *r, struct ring *rg, int nobuf)
{
    uint64_t x = 0;

    switch (q->op) {
    case SX04_RING_SIZE: r->ret = (int64_t)ring_size((unsigned)q->a[1]); return 0;
    case SX04_RING_INIT: r->ret = ring_init(rg, (unsigned)q->a[1]); return 0;
    case SX04_RING_DESTROY: r->ret = ring_destroy(rg); return 0;
    case SX04_RING_PUSH: r->ret = ring_push(rg, q->a[1]); return 0;
    case SX04_RING_POP:
        r->ret = ring_pop(rg, nobuf ? NULL : &x);
        r->v[0] = x;
        return 0;
    case SX04_RING_PUSH_MANY: r->ret = ring_push_many(rg, q->a[1], q->a[2]); return 0;
    case SX04_RING_POP_MANY: r->ret = ring_pop_many(rg, q->a[1]); return 0;
    case SX04_RING_PUSH_HELD: r->ret = push_held(rg, q->a[1], q->a[2]); return 0;
    case SX04_NT_BLOCK: r->ret = notify_block((int)q->a[1]); return 0;
    case SX04_NT_WAIT: r->ret = notify_wait((int)q->a[1], (long)q->a[2]); return 0;
    }
    return -1;
}

/* The channel ops. Returns 0, or -1 if q is none of them. */
static int ch_op(const struct sx_req *q, struct sx_rep *r, int noobj, int nobuf)
{
    static unsigned char buf[CHAN_MAX + 64];
    struct chan *c = noobj || q->a[0] >= SX04_SLOTS ? NULL : &slots[q->a[0]];
    char name[SX_DATA + 1];
    const char *nm = nobuf ? NULL : text(q, name);

    switch (q->op) {
    case SX04_CH_CREATE: r->ret = chan_create(c, nm); break;
    case SX04_CH_OPEN: r->ret = chan_open(c, nm); break;
    case SX04_CH_SEND: r->ret = chan_send(c, nobuf ? NULL : q->data, q->a[1]); return 0;
    case SX04_CH_RECV:
        r->ret = chan_recv(c, nobuf ? NULL : buf, q->a[1] < sizeof buf ? q->a[1] : sizeof buf);
        if (r->ret > 0) {
            r->len = (uint32_t)(r->ret < (int64_t)sizeof buf ? r->ret : (int64_t)sizeof buf);
            memcpy(r->data, buf, r->len);
        }
        return 0;
    case SX04_CH_CLOSE: r->ret = chan_close(c); return 0;
    case SX04_CH_UNLINK: r->ret = chan_unlink(nm); return 0;
    case SX04_CH_EXCHANGE: r->ret = exchange(q->a[0], q->a[2], q->a[1]); return 0;
    default: return -1;
    }
    r->v[0] = c ? (uintptr_t)c->buf : 0;
    return 0;
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    char name[SX_DATA + 1];
    int noobj = (q->a[3] & SX04_NULL_OBJ) != 0, nobuf = (q->a[3] & SX04_NULL_BUF) != 0;
    void *obj = noobj ? NULL : (void *)(uintptr_t)q->a[0];

    switch (q->op) {
    case SX04_MAP:
        r->ret = (intptr_t)map(text(q, name), q->a[0]);
        r->v[0] = (uintptr_t)batch;
        r->v[1] = (uintptr_t)&hits;
        return 0;
    case SX04_LOCK:
        r->ret = q->a[1] ? sem_post(obj) : sem_wait(obj);
        return 0;
    case SX04_CATCH:
        r->ret = catch_usr1();
        return 0;
    case SX04_KILL:
        r->ret = kill_times((pid_t)q->a[0], (int)q->a[1], q->a[2]);
        return 0;
    }
    if (mb_op(q, r, obj, nobuf) == 0 || ring_op(q, r, obj, nobuf) == 0)
        return 0;
    return ch_op(q, r, noobj, nobuf);
}
