/* ops.h - Lab 06's checker-subject operations (wire.h), for both sides.
 *
 * A handle is the address chan_open returned, passed back as it came (0:
 * NULL). Bytes travel through two buffers in the subject (SX06_BUFS): the
 * checker writes what chan_write is to send into the first, and reads
 * what chan_read got from the second, from outside.
 */
#ifndef OPS_06_H
#define OPS_06_H

#include "wire.h"

#define SX06_BUF (1 << 16)      /* bytes in each buffer */
#define SX06_NULL 1             /* a[2] flag: pass NULL for the buffer */

enum {
    SX06_BUFS = SX_LAB,         /* nothing; v[0], v[1]: the write and the
                                   read buffer's addresses */
    SX06_CREATE,                /* chan_create(data or NULL if a[2], a[0]) */
    SX06_OPEN,                  /* chan_open(data or NULL if a[2], a[0]);
                                   ret: the handle */
    SX06_WRITE,                 /* chan_write(a[0], write buffer, a[1]) */
    SX06_READ,                  /* chan_read(a[0], read buffer, a[1]) */
    SX06_CLOSE,                 /* chan_close(a[0]) */
    SX06_UNLINK,                /* chan_unlink(data or NULL if a[2]) */
    SX06_FSIZE,                 /* not the lab's: ignore SIGXFSZ, and the
                                   soft file size limit to a[0] bytes */
    SX06_CATCH                  /* not the lab's: catch SIGUSR1 with a
                                   handler that does nothing, without
                                   SA_RESTART (a wait it interrupts fails
                                   with EINTR) */
};

#endif
