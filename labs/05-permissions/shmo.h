/* shmo.h - Lab 05: named shared-memory objects with the permissions you
 * meant them to have.
 *
 * The interface you implement in shmo.c. Do not change this file: the grader
 * always compiles your shmo.c against its own copy of it.
 *
 * Every function that can fail returns -1 or NULL and sets errno. None of
 * them prints or exits, and none leaves a descriptor, a mapping or a
 * half-made object behind when it fails. Each comment names the handout
 * section (handouts/05-permissions.md) that explains the function.
 */
#ifndef SHMO_H
#define SHMO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest name part after the '/': it becomes a file name in /dev/shm,
 * and a file name has at most NAME_MAX (255) bytes on Linux. */
#define SHMO_NAME_MAX 255

/* The characters a name may use after its '/': POSIX's portable file name
 * character set. */
#define SHMO_NAME_CHARS \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* The largest size an object can have: ftruncate() takes an off_t, which
 * is 64 bits on Linux. */
#define SHMO_SIZE_MAX ((size_t)INT64_MAX)

/* shmo_name_check: whether name is a name this library accepts: a '/'
 * followed by 1 to SHMO_NAME_MAX characters from SHMO_NAME_CHARS, and
 * neither "/." nor "/..". Returns 0 if so, otherwise -1 with errno
 *   EINVAL       name is NULL, or breaks a rule other than the length;
 *   ENAMETOOLONG name obeys every other rule but is longer than
 *                SHMO_NAME_MAX after the '/'.
 * (Handout section 2.) */
int shmo_name_check(const char *name);

/* shmo_create: create a NEW object called name, never opening one that
 * already exists, with permissions exactly mode whatever the umask (and
 * without changing the umask), and size bytes long. Returns a descriptor
 * open for reading and writing, or -1 with errno
 *   EINVAL, ENAMETOOLONG  name is rejected by shmo_name_check;
 *   EINVAL       size is 0 or larger than SHMO_SIZE_MAX, or mode has bits
 *                other than 0777;
 *   EEXIST       an object called name exists already (it is left exactly
 *                as it was: not removed, not changed);
 *   otherwise the errno of the call that failed (shm_open, fchmod,
 *   ftruncate). If a step after shm_open fails, the object just created
 *   is unlinked again and the descriptor closed.
 * (Handout sections 3 to 5.) */
int shmo_create(const char *name, size_t size, mode_t mode);

/* shmo_open: open the existing object called name, read-only (flags
 * O_RDONLY) or for reading and writing (O_RDWR). Never creates or
 * truncates anything. Returns a descriptor, or -1 with errno
 *   EINVAL, ENAMETOOLONG  name is rejected by shmo_name_check;
 *   EINVAL       flags is neither O_RDONLY nor O_RDWR;
 *   ENOENT       there is no object called name;
 *   EACCES       its mode does not let this process open it so.
 * (Handout section 6.) */
int shmo_open(const char *name, int flags);

/* shmo_map: map the whole object open on fd, MAP_SHARED, with protection
 * prot: PROT_READ, or PROT_READ | PROT_WRITE. Stores the object's size in
 * *size. The descriptor stays open (it is the caller's). Returns the
 * address, or NULL with errno
 *   EINVAL       size is NULL, or prot is neither of the two above;
 *   ENODATA      the object is empty (size 0: its creator has not sized it
 *                yet);
 *   EACCES       prot has PROT_WRITE but fd is open read-only (mmap's);
 *   otherwise the errno of fstat or mmap (EBADF for a bad fd).
 * (Handout sections 5 and 6.) */
void *shmo_map(int fd, int prot, size_t *size);

/* shmo_attach: map the existing object called name read-only, as a reader
 * does: open it O_RDONLY, map it PROT_READ, close the descriptor. Stores its
 * size in *size. Returns the address (writing through it raises SIGSEGV),
 * or NULL with errno EINVAL if size is NULL, otherwise that of shmo_open or
 * shmo_map (EINVAL, ENAMETOOLONG, ENOENT, EACCES, ENODATA, ...). No
 * descriptor stays open. (Handout section 6.) */
void *shmo_attach(const char *name, size_t *size);

/* shmo_seal: make the size bytes mapped at addr (a page-aligned mapping,
 * e.g. from shmo_map) read-only with mprotect: from then on a write raises
 * SIGSEGV. Returns 0, or -1 with errno EINVAL if addr is NULL or size is 0,
 * otherwise mprotect's (EINVAL if addr is not page-aligned). (Handout
 * section 7.) */
int shmo_seal(void *addr, size_t size);

/* shmo_publish: publish len bytes of data under name, as a writer does:
 * create the object (shmo_create(name, len, mode)), map it, copy data in,
 * seal the mapping, close the descriptor. Returns the sealed, read-only
 * mapping of len bytes (the caller munmaps it), or NULL with errno EINVAL
 * if data is NULL, otherwise that of the step that failed (as shmo_create,
 * shmo_map, shmo_seal). On failure no object it created is left behind and
 * no descriptor stays open. (Handout section 7.) */
void *shmo_publish(const char *name, const void *data, size_t len,
                   mode_t mode);

/* shmo_unlink: remove the name of the object called name. Processes that
 * have it open or mapped keep it until they close and unmap it. Returns 0,
 * or -1 with errno
 *   EINVAL, ENAMETOOLONG  name is rejected by shmo_name_check;
 *   otherwise shm_unlink's (ENOENT: no such object; EACCES: it is another
 *   user's).
 * (Handout section 8.) */
int shmo_unlink(const char *name);

#endif
