/* ops.h - Lab 05's checker-subject operations (wire.h), for both sides.
 *
 * A request's name argument is data (q.len bytes, no '\0' needed), unless
 * a[3] says otherwise: SX05_NULL for NULL, or SX05_LONG(n, c) for "/"
 * followed by n copies of c (names longer than a message). SX05_PUBLISH's
 * bytes follow the name's '\0' in data.
 */
#ifndef OPS_05_H
#define OPS_05_H

#include "wire.h"

#define SX05_NULL 1
#define SX05_LONG(n, c) ((uint64_t)(n) << 8 | (unsigned char)(c))

enum {
    SX05_CHECK = SX_LAB,        /* shmo_name_check(name) */
    SX05_CREATE,                /* shmo_create(name, a[0], a[1]); ret: fd */
    SX05_OPEN,                  /* shmo_open(name, a[0]); ret: fd */
    SX05_MAP,                   /* shmo_map(a[0], a[1], a[2] ? NULL : &size);
                                   ret: the address; v[0]: size */
    SX05_ATTACH,                /* shmo_attach(name, a[2] ? NULL : &size);
                                   ret: the address; v[0]: size */
    SX05_SEAL,                  /* shmo_seal(a[0], a[1]) */
    SX05_PUBLISH,               /* shmo_publish(name, a[2] ? NULL : bytes,
                                   a[0], a[1]); ret: the address */
    SX05_UNLINK,                /* shmo_unlink(name) */
    SX05_UMASK,                 /* umask(a[0]); ret: the old one */
    SX05_MMAP,                  /* not the lab's: mmap(a[1] bytes, a[2] prot,
                                   MAP_SHARED) of fd a[0] (-1: anonymous) */
    SX05_SHMOPEN,               /* not the lab's: shm_open(name, a[0], 0) */
    SX05_CLOSE,                 /* not the lab's: close(a[0]) */
    SX05_UNMAP,                 /* not the lab's: munmap(a[0], a[1]) */
    SX05_STORE,                 /* one byte a[1] stored at a[0], with the
                                   default action for SIGSEGV and SIGBUS */
    SX05_FSIZE,                 /* ignore SIGXFSZ; the soft file size limit
                                   to a[0] bytes (0: back to the hard one) */
    SX05_BECOME,                /* drop every group, then gid and uid to
                                   a[0] (root in its namespace only) */
    SX05_ASLIMIT                /* a[0] 1: the soft address-space limit at
                                   what the process maps now, so that its
                                   next mmap fails (ENOMEM); 0: back to the
                                   hard limit */
};

#endif
