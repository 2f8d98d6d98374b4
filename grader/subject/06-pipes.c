/* 06-pipes.c - Lab 06's operations for its checker (runs beside chan.c).
 *
 * Each op calls one chan_ function with the checker's arguments (ops.h).
 * The checker fills the write buffer and reads the read buffer itself
 * (process_vm_writev/readv), and reads the ring through /dev/shm: what
 * a reply says is only a claim.
 */
#define _DEFAULT_SOURCE
#include "chan.h"
#include "ops.h"
#include "sx.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

static unsigned char wbuf[SX06_BUF], rbuf[SX06_BUF];

/* The request's name, or NULL if a[2] says so. */
static const char *name_of(const struct sx_req *q, char buf[SX_DATA + 1])
{
    size_t len = q->len < SX_DATA ? q->len : SX_DATA;

    memcpy(buf, q->data, len);
    buf[len] = '\0';
    return q->a[2] & SX06_NULL ? NULL : buf;
}

/* SX06_FSIZE: files may grow to limit bytes, and a write past it fails
 * with EFBIG instead of ending the process. */
static int fsize(rlim_t limit)
{
    struct rlimit l;

    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || getrlimit(RLIMIT_FSIZE, &l) == -1)
        return -1;
    l.rlim_cur = limit;
    return setrlimit(RLIMIT_FSIZE, &l);
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* SX06_CATCH: SIGUSR1 caught, without SA_RESTART. Returns 0 or -1. */
static int catch_usr1(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    if (sigemptyset(&sa.sa_mask) == -1)
        return -1;
    return sigaction(SIGUSR1, &sa, NULL);
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    char buf[SX_DATA + 1];
    struct chan *ch = (struct chan *)(uintptr_t)q->a[0];
    int null = (q->a[2] & SX06_NULL) != 0;

    switch (q->op) {
    case SX06_BUFS:
        r->v[0] = (uintptr_t)wbuf;
        r->v[1] = (uintptr_t)rbuf;
        return 0;
    case SX06_CREATE:
        r->ret = chan_create(name_of(q, buf), q->a[0]);
        return 0;
    case SX06_OPEN:
        r->ret = (intptr_t)chan_open(name_of(q, buf), (int)q->a[0]);
        return 0;
    case SX06_WRITE:
        r->ret = chan_write(ch, null ? NULL : wbuf, q->a[1]);
        return 0;
    case SX06_READ:
        r->ret = chan_read(ch, null ? NULL : rbuf, q->a[1]);
        return 0;
    case SX06_CLOSE:
        r->ret = chan_close(ch);
        return 0;
    case SX06_UNLINK:
        r->ret = chan_unlink(name_of(q, buf));
        return 0;
    case SX06_FSIZE:
        r->ret = fsize(q->a[0]);
        return 0;
    case SX06_CATCH:
        r->ret = catch_usr1();
        return 0;
    }
    return -1;
}
