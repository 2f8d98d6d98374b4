/* zmap.c - Lab 01 reference solution: memory from the kernel via /dev/zero.
 *
 * See zmap.h for each function's contract and handouts/01-mmap.md for why.
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
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (len > SIZE_MAX - (page - 1)) {
        errno = EOVERFLOW;
        return 0;
    }
    return (len + page - 1) & ~(page - 1);
}

/* The checks zmap_alloc and zmap_anon share. Returns the rounded length,
 * or 0 with errno set. */
static size_t zmap_checked_len(size_t len)
{
    if (len == 0) {
        errno = EINVAL;
        return 0;
    }
    return zmap_round(len);
}

void *zmap_alloc(size_t len)
{
    size_t size = zmap_checked_len(len);
    void *p = MAP_FAILED;
    int fd, err;

    if (size == 0)
        return NULL;
    fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
    if (fd == -1)
        return NULL;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    err = errno;                        /* close() may overwrite it */
    if (close(fd) == -1 && p != MAP_FAILED) {
        err = errno;
        munmap(p, size);
        p = MAP_FAILED;
    }
    if (p == MAP_FAILED) {
        errno = err;
        return NULL;
    }
    return p;
}

void *zmap_anon(size_t len)
{
    size_t size = zmap_checked_len(len);
    void *p;

    if (size == 0)
        return NULL;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int zmap_free(void *addr, size_t len)
{
    if (addr == NULL || len == 0) {
        errno = EINVAL;
        return -1;
    }
    return munmap(addr, len);
}

int zmap_greet(char *dst, size_t size, const char *who)
{
    int n;

    if (dst == NULL || who == NULL || size == 0) {
        errno = EINVAL;
        return -1;
    }
    n = snprintf(dst, size, "Hello from %s", who);
    if (n < 0)
        return -1;
    if ((size_t)n >= size) {
        errno = ERANGE;
        return -1;
    }
    return n;
}
