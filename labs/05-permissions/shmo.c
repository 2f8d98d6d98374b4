/* shmo.c - Lab 05: named shared-memory objects with exact permissions.
 *
 * Implement each function as shmo.h describes; handouts/05-permissions.md
 * explains the calls you need. Run the tests with: make check
 *
 * Until you do, every function fails with ENOSYS ("not implemented").
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
    /* TODO (handout §2): EINVAL unless name is '/' followed by characters
     * of SHMO_NAME_CHARS only (strspn), at least one, and is neither "/."
     * nor "/.."; ENAMETOOLONG if the part after '/' is longer than
     * SHMO_NAME_MAX. */
    (void)name;
    errno = ENOSYS;
    return -1;
}

int shmo_create(const char *name, size_t size, mode_t mode)
{
    /* TODO (handout §3): check the name and the arguments first (EINVAL);
     * shm_open with O_RDWR | O_CREAT | O_EXCL, so that an existing object
     * is never opened (EEXIST: leave it alone).
     * TODO (handout §4): fchmod(fd, mode): the umask took bits away.
     * TODO (handout §5): ftruncate(fd, size): a new object is empty.
     * If fchmod or ftruncate fails: close, unlink the name you created,
     * return -1 with the errno of the call that failed. */
    (void)name;
    (void)size;
    (void)mode;
    errno = ENOSYS;
    return -1;
}

int shmo_open(const char *name, int flags)
{
    /* TODO (handout §6): check the name; flags must be exactly O_RDONLY or
     * O_RDWR (EINVAL otherwise: never O_CREAT, never O_TRUNC); shm_open. */
    (void)name;
    (void)flags;
    errno = ENOSYS;
    return -1;
}

void *shmo_map(int fd, int prot, size_t *size)
{
    /* TODO (handout §6): EINVAL for a NULL size or another prot than
     * PROT_READ or PROT_READ | PROT_WRITE; fstat for the object's size.
     * TODO (handout §5): ENODATA if that size is 0.
     * Then mmap the whole object MAP_SHARED; store the size. Leave fd
     * open: it is the caller's. */
    (void)fd;
    (void)prot;
    (void)size;
    errno = ENOSYS;
    return NULL;
}

void *shmo_attach(const char *name, size_t *size)
{
    /* TODO (handout §6): EINVAL for a NULL size; shmo_open read-only,
     * shmo_map PROT_READ, then close the descriptor whatever happened
     * (save errno first). */
    (void)name;
    (void)size;
    errno = ENOSYS;
    return NULL;
}

int shmo_seal(void *addr, size_t size)
{
    /* TODO (handout §7): EINVAL for a NULL addr or a 0 size; mprotect the
     * region to PROT_READ. */
    (void)addr;
    (void)size;
    errno = ENOSYS;
    return -1;
}

void *shmo_publish(const char *name, const void *data, size_t len,
                   mode_t mode)
{
    /* TODO (handout §7): EINVAL for NULL data; shmo_create, shmo_map
     * read-write, close the descriptor, copy data in, shmo_seal. If a step
     * after shmo_create fails: munmap, unlink the name, keep the errno of
     * the step that failed. */
    (void)name;
    (void)data;
    (void)len;
    (void)mode;
    errno = ENOSYS;
    return NULL;
}

int shmo_unlink(const char *name)
{
    /* TODO (handout §8): check the name; shm_unlink. */
    (void)name;
    errno = ENOSYS;
    return -1;
}
