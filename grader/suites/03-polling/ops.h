/* ops.h - Lab 03's checker-subject operations (wire.h), for both sides.
 *
 * The mailbox lies in an object the checker made (a name of its own, in
 * /dev/shm, mode 0666), which each subject maps with SX03_MAP; requests
 * name it by the address that returned (a[3]'s SX03_NULL_* bits pass NULL
 * instead). Messages go through buffers of the subject that the checker
 * fills and reads from outside (SX03_BUFS): one to send from, one to
 * receive into, a batch buffer of records (a 4-byte length, then the
 * payload, one after another) for the *_MANY ops, and the hold buffer:
 * three shared pages whose last one is PROT_NONE while a held copy runs,
 * in a child of the subject, so that its copy faults there and the
 * checker can keep it in that fault (cx_call_held).
 */
#ifndef OPS_03_H
#define OPS_03_H

#include "wire.h"

#define SX03_BATCH (1 << 21)            /* bytes in the batch buffer */
#define SX03_TAIL 64                    /* bytes of a held message in the
                                           guard page */
#define SX03_NULL_MB 1                  /* a[3]: the mailbox */
#define SX03_NULL_BUF 2                 /* a[3]: the message or buffer */

enum {
    SX03_MAP = SX_LAB,          /* mmap a[0] bytes of object data (empty:
                                   anonymous), MAP_SHARED; ret: the address */
    SX03_BUFS,                  /* v[0]: the send buffer, v[1]: the receive
                                   buffer, ret: the batch buffer, a[0] 1:
                                   ret the hold buffer's three pages */
    SX03_INIT,                  /* mbox_init(a[0], a[1]); ret: its value */
    SX03_SEND,                  /* mbox_send(a[0], send buffer, a[1]) */
    SX03_TRY_SEND,              /* mbox_try_send(a[0], send buffer, a[1]) */
    SX03_RECV,                  /* mbox_recv(a[0], receive buffer, a[1]) */
    SX03_TRY_RECV,              /* mbox_try_recv(a[0], receive buffer, a[1]) */
    SX03_TIMED,                 /* mbox_recv_timed(a[0], buffer, a[1], a[2]) */
    SX03_SEND_HELD,             /* in a child: mbox_send(a[0], the a[1] bytes
                                   ending SX03_TAIL bytes into the guard
                                   page, a[1]), the guard PROT_NONE if a[2] */
    SX03_RECV_HELD,             /* in a child: mbox_recv(a[0], the a[1] bytes
                                   ending SX03_TAIL bytes into the guard,
                                   a[1]); ret: its value, as for SEND_HELD */
    SX03_SEND_MANY,             /* a[1] records of the batch buffer, each
                                   with mbox_try_send until it goes in */
    SX03_RECV_MANY              /* a[1] mbox_recv into the batch buffer's
                                   records; ret: how many came */
};

#endif
