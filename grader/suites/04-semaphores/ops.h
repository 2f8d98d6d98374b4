/* ops.h - Lab 04's checker-subject operations (wire.h), for both sides.
 *
 * Shared memory is an object the checker made (a seeded name, mode 0666),
 * which each subject maps with SX04_MAP: the mailbox or ring is at the
 * address that returns, in every subject its own. A request names the
 * mailbox or ring by that address; a[3]'s SX04_NULL_* bits pass NULL
 * instead. Channel handles (struct chan) live in the subject, in slots
 * 0 to SX04_SLOTS - 1. Names and messages travel in data. The *_MANY ops
 * move a batch through the subject's batch buffer, which the checker
 * fills and reads from outside: records of SX04_REC bytes (a 4-byte
 * length, then the message) for the mailbox, 8-byte items for the ring.
 */
#ifndef OPS_04_H
#define OPS_04_H

#include "wire.h"

#define SX04_SLOTS 4                    /* channel handles in a subject */
#define SX04_BATCH (1 << 20)            /* bytes in the batch buffer */
#define SX04_REC 244                    /* a mailbox record: 4 + MBOX_MAX,
                                           or a channel's: 4 + CHAN_MAX + 0 */
#define SX04_NULL_OBJ 1                 /* a[3]: the mailbox, ring or chan */
#define SX04_NULL_BUF 2                 /* a[3]: the message or buffer */

enum {
    SX04_MAP = SX_LAB,          /* mmap a[0] bytes of object data, MAP_SHARED;
                                   ret: the address; v[0]: the batch buffer's,
                                   v[1]: the signal counter's (SX04_CATCH) */
    SX04_LOCK,                  /* not the lab's: sem_wait(a[0]) (a[1] 1:
                                   sem_post) */
    SX04_CATCH,                 /* count SIGUSR1 in the counter, with a
                                   handler installed without SA_RESTART */
    SX04_KILL,                  /* kill(a[0], a[1]), a[2] times */
    SX04_MB_INIT,               /* mbox_init(a[0]) */
    SX04_MB_DESTROY,            /* mbox_destroy(a[0]) */
    SX04_MB_SEND,               /* mbox_send(a[0], data, a[1]) */
    SX04_MB_RECV,               /* mbox_recv(a[0], buf, a[1]); data: buf */
    SX04_MB_TRY,                /* mbox_try_recv(a[0], buf, a[1]) */
    SX04_MB_TIMED,              /* mbox_recv_timed(a[0], buf, a[1], a[2]) */
    SX04_MB_SEND_MANY,          /* mbox_send of the a[1] records of the batch
                                   buffer; ret: how many were sent */
    SX04_MB_RECV_MANY,          /* a[1] mbox_recv into the batch buffer's
                                   records; ret: how many came */
    SX04_RING_SIZE,             /* ring_size(a[1]) */
    SX04_RING_INIT,             /* ring_init(a[0], a[1]) */
    SX04_RING_DESTROY,          /* ring_destroy(a[0]) */
    SX04_RING_PUSH,             /* ring_push(a[0], a[1]) */
    SX04_RING_POP,              /* ring_pop(a[0], &v[0]) */
    SX04_RING_PUSH_MANY,        /* ring_push(a[0], a[2] + i) for i < a[1];
                                   ret: how many were pushed */
    SX04_RING_POP_MANY,         /* a[1] ring_pop into the batch buffer */
    SX04_CH_CREATE,             /* chan_create(slot a[0], data); v[0]: buf */
    SX04_CH_OPEN,               /* chan_open(slot a[0], data); v[0]: buf */
    SX04_CH_SEND,               /* chan_send(slot a[0], data, a[1]) */
    SX04_CH_RECV,               /* chan_recv(slot a[0], buf, a[1]) */
    SX04_CH_CLOSE,              /* chan_close(slot a[0]) */
    SX04_CH_UNLINK,             /* chan_unlink(data) */
    SX04_NT_BLOCK,              /* notify_block(a[1]) */
    SX04_NT_WAIT,               /* notify_wait(a[1], a[2]) */
    SX04_CH_EXCHANGE,           /* for each of the a[1] records in the batch
                                   buffer's first half: chan_send(slot
                                   a[0], it), then chan_recv(slot a[2]) into
                                   the same record of the second half; ret:
                                   how many exchanges were made */
    SX04_RING_PUSH_HELD         /* in a child, with the page at a[2] (slots
                                   only) read-only and a SIGSEGV handler
                                   that makes it writable: ring_push(a[0],
                                   a[1]); -2 if the child could not run */
};

#endif
