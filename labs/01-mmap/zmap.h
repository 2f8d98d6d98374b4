/* zmap.h - Lab 01: asking the kernel for memory by mapping /dev/zero.
 *
 * The interface you implement in zmap.c. Do not change this file: the grader
 * always compiles your zmap.c against its own copy of it.
 *
 * Every function that can fail returns NULL or -1 and sets errno. None of them
 * prints, exits or leaves a descriptor or a mapping behind when it fails.
 */
#ifndef ZMAP_H
#define ZMAP_H

#include <stddef.h>

/* zmap_round: the smallest multiple of the page size that is >= len.
 * Returns 0 for len 0. Returns 0 with errno EOVERFLOW when the rounded
 * size does not fit in a size_t. (Handout section 3.) */
size_t zmap_round(size_t len);

/* zmap_alloc: map len bytes (rounded up to whole pages) of zero-filled
 * memory from /dev/zero, readable, writable and shared with children made
 * by fork(). The descriptor is closed before returning: the mapping
 * outlives it. Returns the address, or NULL with errno set:
 *   EINVAL    len is 0;
 *   EOVERFLOW len cannot be rounded to pages;
 *   otherwise the errno of the open() or mmap() that failed.
 * (Handout sections 2 to 4.) */
void *zmap_alloc(size_t len);

/* zmap_anon: the same as zmap_alloc, with MAP_ANONYMOUS instead of
 * /dev/zero: no file, no descriptor. Same errors. (Handout section 6.) */
void *zmap_anon(size_t len);

/* zmap_free: unmap the len bytes at addr returned by zmap_alloc or
 * zmap_anon. Returns 0, or -1 with errno EINVAL if addr is NULL or len is
 * 0, or the errno of munmap(). (Handout section 5.) */
int zmap_free(void *addr, size_t len);

/* zmap_greet: write "Hello from WHO" and a terminating '\0' into dst, which
 * has room for size bytes, never writing past dst[size - 1]. Returns the
 * length of the greeting (without the '\0'). If it does not fit, writes as
 * much as fits (still '\0'-terminated when size > 0) and returns -1 with
 * errno ERANGE; dst NULL, who NULL or size 0 give -1 with errno EINVAL.
 * (Handout section 7.) */
int zmap_greet(char *dst, size_t size, const char *who);

#endif
