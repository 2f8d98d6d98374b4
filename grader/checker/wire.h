/* wire.h - the messages between a checker and its subject (one each way).
 *
 * The checker (grader/checker/, linked with no submitted code) sends a
 * request; the subject (grader/subject/, linked with the handin code)
 * performs it and sends one reply. Both travel as single SOCK_SEQPACKET
 * messages on the subject's descriptor SX_FD. A reply is only a claim:
 * the checker holds every expected value and checks what it can from
 * outside (/proc/PID, process_vm_readv, wait statuses).
 */
#ifndef WIRE_H
#define WIRE_H

#include <errno.h>
#include <stdint.h>

#define SX_FD 3                 /* the subject's end of the socket */
#define SX_DATA 512             /* bytes of data in a message */

/* errno as the subject calls the code under test: not 0, so that code
 * which fails without setting errno, or which reads errno after calls that
 * succeeded, shows (no lab's call sets EDOM; hx_errname names it so). */
#define SX_ERRNO_BEFORE EDOM

/* Operations every subject knows; a lab's own start at SX_LAB. */
enum {
    SX_EXIT = 1,                /* exit(a[0]): a normal end (Valgrind reports) */
    SX_PING,                    /* nothing: the subject is up and serving */
    SX_FORK,                    /* fork a child that only waits; ret: its
                                   pid (a[0] a pid: kill and reap that one) */
    SX_NOFILE,                  /* lower the soft descriptor limit to the
                                   lowest free descriptor; ret: that (a[0]
                                   1: put the limit back as it was) */
    SX_FAILFORK,                /* make the a[0]-th fork() from now on fail
                                   with errno EAGAIN (0: none fails) */
    SX_LAB = 100
};

struct sx_req {
    uint32_t id;                /* echoed in the reply: stale replies are
                                   told apart */
    uint32_t op;                /* SX_* or the lab's */
    uint32_t len;               /* bytes used in data */
    uint64_t a[4];              /* arguments, by operation */
    char data[SX_DATA];         /* a string or bytes argument */
};

struct sx_rep {
    uint32_t id;                /* the request's */
    int64_t ret;                /* the call's return value */
    int32_t err;                /* errno after the call (set to 0 before it) */
    uint32_t len;               /* bytes used in data */
    uint64_t v[2];              /* other values, by operation */
    char data[SX_DATA];         /* bytes the call produced */
};

#endif
