/* 05-permissions.c - Lab 05's operations for its checker (runs beside
 * shmo.c).
 *
 * Each op calls one shmo_ function with the checker's arguments (ops.h),
 * or does one plain step a test needs inside the subject: its own mmap,
 * a store that may fault, a uid switch. The checker judges the results
 * from outside: /dev/shm, /proc/PID/{fdinfo,maps,status}, the subject's
 * memory and its wait status.
 */
#define _DEFAULT_SOURCE                 /* setgroups */
#include "ops.h"
#include "shmo.h"
#include "sx.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_ROOM 1100                  /* longest name a test asks for */

/* The request's name (ops.h) into buf, or NULL. */
static const char *name_of(const struct sx_req *q, char buf[NAME_ROOM])
{
    size_t n = q->a[3] >> 8, len = q->len < SX_DATA ? q->len : SX_DATA - 1;

    if (q->a[3] == SX05_NULL)
        return NULL;
    if (q->a[3] != 0) {
        n = n < NAME_ROOM - 2 ? n : NAME_ROOM - 2;
        buf[0] = '/';
        memset(buf + 1, (int)(q->a[3] & 0xff), n);
        buf[n + 1] = '\0';
        return buf;
    }
    memcpy(buf, q->data, len);
    buf[len] = '\0';
    return buf;
}

/* SX05_PUBLISH: the bytes after the name's '\0'. */
static struct sx_rep publish(const struct sx_req *q, const char *name)
{
    struct sx_rep r = { 0 };
    size_t at = strnlen(q->data, SX_DATA) + 1;
    const void *bytes = at + q->a[0] <= SX_DATA ? q->data + at : NULL;

    r.ret = (intptr_t)shmo_publish(name, q->a[2] ? NULL : bytes, q->a[0],
                                   (mode_t)q->a[1]);
    return r;
}

/* SX05_STORE: with the kernel's default action, so that a fault ends
 * this process with its signal (a sanitizer would catch it otherwise). */
static int store(uintptr_t addr, unsigned char c)
{
    struct rlimit none = { 0, 0 };

    if (signal(SIGSEGV, SIG_DFL) == SIG_ERR || signal(SIGBUS, SIG_DFL) == SIG_ERR ||
        setrlimit(RLIMIT_CORE, &none) == -1)
        return -1;
    *(volatile unsigned char *)addr = c;
    return 0;
}

/* SX05_FSIZE: files may grow to limit bytes (0: the hard limit), and a
 * write past it fails with EFBIG instead of ending the process. */
static int fsize(rlim_t limit)
{
    struct rlimit l;

    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || getrlimit(RLIMIT_FSIZE, &l) == -1)
        return -1;
    l.rlim_cur = limit ? limit : l.rlim_max;
    return setrlimit(RLIMIT_FSIZE, &l);
}

/* SX05_ASLIMIT: the soft RLIMIT_AS at the bytes mapped now (on), or at
 * the hard limit. */
static int aslimit(int on)
{
    char buf[64] = "";
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd == -1 ? -1 : read(fd, buf, sizeof buf - 1);
    struct rlimit l;

    if (fd != -1)
        close(fd);
    if (n <= 0 || getrlimit(RLIMIT_AS, &l) == -1)
        return -1;
    l.rlim_cur = on ? (rlim_t)strtoul(buf, NULL, 10) * (rlim_t)sysconf(_SC_PAGESIZE)
                    : l.rlim_max;
    return setrlimit(RLIMIT_AS, &l);
}

/* SX05_BECOME: groups first, while we may, then gid, then uid. */
static int become(uid_t id)
{
    if (setgroups(0, NULL) == -1 || setgid((gid_t)id) == -1 || setuid(id) == -1)
        return -1;
    return 0;
}

/* The ops that are not the lab's functions. Returns 0, or -1 if q is none. */
static int step(const struct sx_req *q, const char *name, struct sx_rep *r)
{
    void *p;

    switch (q->op) {
    case SX05_UMASK:
        r->ret = umask((mode_t)q->a[0]);
        return 0;
    case SX05_MMAP:
        p = mmap(NULL, q->a[1], (int)q->a[2], MAP_SHARED |
                 ((int)q->a[0] == -1 ? MAP_ANONYMOUS : 0), (int)q->a[0], 0);
        r->ret = p == MAP_FAILED ? 0 : (intptr_t)p;
        return 0;
    case SX05_SHMOPEN:
        r->ret = shm_open(name, (int)q->a[0], 0);
        return 0;
    case SX05_CLOSE:
        r->ret = close((int)q->a[0]);
        return 0;
    case SX05_UNMAP:
        r->ret = munmap((void *)(uintptr_t)q->a[0], q->a[1]);
        return 0;
    case SX05_STORE:
        r->ret = store(q->a[0], (unsigned char)q->a[1]);
        return 0;
    case SX05_FSIZE:
        r->ret = fsize(q->a[0]);
        return 0;
    case SX05_BECOME:
        r->ret = become((uid_t)q->a[0]);
        return 0;
    case SX05_ASLIMIT:
        r->ret = aslimit(q->a[0] != 0);
        return 0;
    }
    return -1;
}

int sx_lab(const struct sx_req *q, struct sx_rep *r)
{
    char buf[NAME_ROOM];
    const char *name = name_of(q, buf);
    size_t size = 0;

    switch (q->op) {
    case SX05_CHECK:
        r->ret = shmo_name_check(name);
        return 0;
    case SX05_CREATE:
        r->ret = shmo_create(name, q->a[0], (mode_t)q->a[1]);
        return 0;
    case SX05_OPEN:
        r->ret = shmo_open(name, (int)q->a[0]);
        return 0;
    case SX05_MAP:
        r->ret = (intptr_t)shmo_map((int)q->a[0], (int)q->a[1], q->a[2] ? NULL : &size);
        r->v[0] = size;
        return 0;
    case SX05_ATTACH:
        r->ret = (intptr_t)shmo_attach(name, q->a[2] ? NULL : &size);
        r->v[0] = size;
        return 0;
    case SX05_SEAL:
        r->ret = shmo_seal((void *)(uintptr_t)q->a[0], q->a[1]);
        return 0;
    case SX05_PUBLISH:
        *r = publish(q, name);
        return 0;
    case SX05_UNLINK:
        r->ret = shmo_unlink(name);
        return 0;
    }
    return step(q, name, r);
}
