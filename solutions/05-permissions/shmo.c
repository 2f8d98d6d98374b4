/* shmo.c - Lab 05 reference solution: named shared-memory objects with
 * exact permissions.
 *
 * See shmo.h for each function's contract and handouts/05-permissions.md
 * for why.
 */
#define _DEFAULT_SOURCE                 /* ftruncate, fchmod under -std=c11 */
#include "shmo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int shmo_name_check(const char *name)
{
    size_t len;

    if (name == NULL || name[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    len = strlen(name + 1);
    if (len == 0 || strspn(name + 1, SHMO_NAME_CHARS) != len ||
        strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0) {
        errno = EINVAL;
        return -1;
    }
    if (len > SHMO_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int shmo_create(const char *name, size_t size, mode_t mode)
{
    int fd, err;

    if (shmo_name_check(name) == -1)
        return -1;
    if (size == 0 || size > SHMO_SIZE_MAX || (mode & ~(mode_t)0777) != 0) {
        errno = EINVAL;
        return -1;
    }
    fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, mode);
    if (fd == -1)
        return -1;                      /* EEXIST: not ours, hands off */
    /* The umask took bits away from mode; put exactly mode back. */
    if (fchmod(fd, mode) == 0 && ftruncate(fd, (off_t)size) == 0)
        return fd;
    err = errno;                        /* close and unlink may change it */
    close(fd);
    shm_unlink(name);                   /* we created it: take it back */
    errno = err;
    return -1;
}

int shmo_open(const char *name, int flags)
{
    if (shmo_name_check(name) == -1)
        return -1;
    if (flags != O_RDONLY && flags != O_RDWR) {
        errno = EINVAL;
        return -1;
    }
    return shm_open(name, flags, 0);
}

void *shmo_map(int fd, int prot, size_t *size)
{
    struct stat st;
    void *p;

    if (size == NULL ||
        (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE))) {
        errno = EINVAL;
        return NULL;
    }
    if (fstat(fd, &st) == -1)
        return NULL;
    if (st.st_size == 0) {
        errno = ENODATA;
        return NULL;
    }
    p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return NULL;
    *size = (size_t)st.st_size;
    return p;
}

/* Map the object open on fd with prot, then close fd whatever happened
 * (the mapping outlives it). Returns the address, or NULL with errno set. */
static void *map_and_close(int fd, int prot, size_t *size)
{
    void *p = shmo_map(fd, prot, size);
    int err = errno;                    /* close() may overwrite it */

    if (close(fd) == -1 && p != NULL) {
        err = errno;
        munmap(p, *size);
        p = NULL;
    }
    errno = err;
    return p;
}

void *shmo_attach(const char *name, size_t *size)
{
    int fd;

    if (size == NULL) {
        errno = EINVAL;
        return NULL;
    }
    fd = shmo_open(name, O_RDONLY);
    if (fd == -1)
        return NULL;
    return map_and_close(fd, PROT_READ, size);
}

int shmo_seal(void *addr, size_t size)
{
    if (addr == NULL || size == 0) {
        errno = EINVAL;
        return -1;
    }
    return mprotect(addr, size, PROT_READ);
}

void *shmo_publish(const char *name, const void *data, size_t len,
                   mode_t mode)
{
    void *p;
    size_t size = 0;
    int fd, err;

    if (data == NULL) {
        errno = EINVAL;
        return NULL;
    }
    fd = shmo_create(name, len, mode);
    if (fd == -1)
        return NULL;                    /* nothing of ours to clean up */
    p = map_and_close(fd, PROT_READ | PROT_WRITE, &size);
    if (p == NULL)
        goto fail;
    memcpy(p, data, len);
    if (shmo_seal(p, size) == 0)
        return p;
fail:
    err = errno;                        /* cleanup calls may change it */
    if (p != NULL)
        munmap(p, size);
    shm_unlink(name);                   /* we created it: take it back */
    errno = err;
    return NULL;
}

int shmo_unlink(const char *name)
{
    if (shmo_name_check(name) == -1)
        return -1;
    return shm_unlink(name);
}
