/* zmap.c - Lab 01: memory from the kernel via /dev/zero.
 *
 * Implement each function as zmap.h describes; handouts/01-mmap.md explains
 * the calls you need. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS under -std=c11 */
#include "zmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

size_t zmap_round(size_t len)
{
    /* TODO (handout §3): round len up to a multiple of the page size
     * (sysconf(_SC_PAGESIZE)). Check for overflow BEFORE adding:
     * return 0 with errno EOVERFLOW if the result would not fit. */
    (void)len;
    errno = ENOSYS;
    return 0;
}

void *zmap_alloc(size_t len)
{
    /* TODO (handout §2, §4): reject len 0 (EINVAL); round len; open
     * /dev/zero read-write; mmap it PROT_READ|PROT_WRITE, MAP_SHARED;
     * close the descriptor whatever happened; on failure return NULL with
     * the errno of the call that failed (save it before close()). */
    (void)len;
    errno = ENOSYS;
    return NULL;
}

void *zmap_anon(size_t len)
{
    /* TODO (handout §6): like zmap_alloc, with MAP_SHARED|MAP_ANONYMOUS,
     * fd -1 and no file at all. */
    (void)len;
    errno = ENOSYS;
    return NULL;
}

int zmap_free(void *addr, size_t len)
{
    /* TODO (handout §5): EINVAL for a NULL addr or a 0 len; munmap. */
    (void)addr;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int zmap_greet(char *dst, size_t size, const char *who)
{
    /* TODO (handout §7): "Hello from WHO" with snprintf, never sprintf;
     * EINVAL for bad arguments, ERANGE if it was cut short. */
    (void)dst;
    (void)size;
    (void)who;
    errno = ENOSYS;
    return -1;
}
