/* 01-mmap.c - Lab 01's operations for its checker (runs beside zmap.c).
 *
 * SX01_GREET puts dst where the checker asks: with a[1] set, its last byte
 * is the last one before a PROT_NONE page (a write past it is a SIGSEGV
 * the checker sees); v[0] is dst's address, data dst's bytes afterwards.
 */
#define _DEFAULT_SOURCE
#include "ops.h"
#include "sx.h"
#include "zmap.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* zmap_greet(dst, size, who) with dst as described above. */
static void greet(const struct sx_req *q, struct sx_rep *r)
{
    static char room[SX_DATA];
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), size = q->a[0];
    char who[SX_DATA + 1], *dst = room;

    memcpy(who, q->data, q->len < SX_DATA ? q->len : SX_DATA);
    who[q->len < SX_DATA ? q->len : SX_DATA] = '\0';
    if (q->a[1]) {
        char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || mprotect(p + pg, pg, PROT_NONE) == -1) {
            r->ret = -2;
            return;
        }
        dst = p + pg - (size < pg ? size : pg);
    }
    memset(dst, 0x7f, size < SX_DATA ? size : SX_DATA);
    errno = SX_ERRNO_BEFORE;
    r->ret = zmap_greet(q->a[2] ? NULL : dst, size, q->a[3] ? NULL : who);
    r->err = errno;
    r->v[0] = (uintptr_t)dst;
    r->len = size < SX_DATA ? (uint32_t)size : SX_DATA;
    memcpy(r->data, dst, r->len);
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    switch (q->op) {
    case SX01_ROUND:
        r->ret = (int64_t)zmap_round(q->a[0]);
        return 0;
    case SX01_ALLOC:
        r->ret = (int64_t)(uintptr_t)zmap_alloc(q->a[0]);
        return 0;
    case SX01_ANON:
        r->ret = (int64_t)(uintptr_t)zmap_anon(q->a[0]);
        return 0;
    case SX01_FREE:
        r->ret = zmap_free((void *)(uintptr_t)q->a[0], q->a[1]);
        return 0;
    case SX01_GREET:
        greet(q, r);
        errno = r->err;
        return 0;
    }
    return -1;
}
