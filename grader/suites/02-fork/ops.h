/* ops.h - Lab 02's checker-subject operations (wire.h), for both sides. */
#ifndef OPS_02_H
#define OPS_02_H

#include "wire.h"

enum {
    SX02_ALLOC = SX_LAB,        /* share_alloc(a[0]); ret: the address */
    SX02_FREE,                  /* share_free(a[0], a[1]) */
    SX02_PAGE,                  /* a zeroed MAP_SHARED page the subject's
                                   children share; ret: its address */
    SX02_PROTECT,               /* mprotect that page at a[0]: read-only if
                                   a[1], else read-write */
    SX02_COPIES,                /* an int on the heap (v[0]), one in a
                                   MAP_PRIVATE page (v[1]), one on main's
                                   stack (data: its address) */
    SX02_SPAWN,                 /* share_spawn(the child a[0] below, with
                                   a[1], a[2] and up to 8 addresses in data),
                                   or share_spawn(NULL, NULL) if a[3]; ret:
                                   the pid */
    SX02_WAIT,                  /* share_wait(a[0], &st, or NULL if a[1]),
                                   within a SIGUSR1 handler without
                                   SA_RESTART if a[2]; data: st */
    SX02_DECODE,                /* share_decode(a[0], &st, or NULL if a[1]),
                                   st filled with -7 first; data: st */
    SX02_COUNT                  /* share_count(a[0], a[1], a[2]), or
                                   share_count_racy if a[3] & 1; with a[3] &
                                   2: a[0]'s page read-only, and a SIGSEGV
                                   handler that makes it writable */
};

/* What a child of SX02_SPAWN does (a[0]). */
enum {
    SX02_RETURN,                /* return a[1] */
    SX02_RAISE,                 /* raise(a[1]) with its default action */
    SX02_STOP,                  /* raise(SIGSTOP), then return a[1] */
    SX02_LATE,                  /* sleep a[2] us, store (unsigned) a[1] at
                                   the first address, return 42 */
    SX02_WRITE                  /* store (int) a[1] at each address, raise
                                   (SIGSTOP), then return 42 */
};

#endif
