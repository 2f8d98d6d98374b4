/* ops.h - Lab 01's checker-subject operations (wire.h), for both sides. */
#ifndef OPS_01_H
#define OPS_01_H

#include "wire.h"

enum {
    SX01_ROUND = SX_LAB,        /* zmap_round(a[0]) */
    SX01_ALLOC,                 /* zmap_alloc(a[0]); ret: the address */
    SX01_ANON,                  /* zmap_anon(a[0]); ret: the address */
    SX01_FREE,                  /* zmap_free(a[0], a[1]) */
    SX01_GREET                  /* zmap_greet(dst, a[0], data): dst before a
                                   guard page if a[1]; NULL dst if a[2], NULL
                                   who if a[3]; v[0]: dst; data: dst's bytes */
};

#endif
