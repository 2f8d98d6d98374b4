/* suite.c - Lab 05 tests: permissions of shared-memory objects
 * (handouts/05-permissions.md).
 *
 * A checker suite (grader/checker/cx.h): it links no submitted code. Each
 * test starts a subject (shmo.c serving requests, grader/subject/
 * 05-permissions.c), asks it to call the lab's functions with names, sizes
 * and modes chosen here, and judges from outside: the objects in /dev/shm
 * (lstat and pread: never a mapping of ours, which the subject could
 * truncate under us), the subject's descriptors (/proc/PID/fd, fdinfo),
 * umask (/proc/PID/status), mappings (/proc/PID/maps) and memory (read and
 * written with process_vm_readv/writev), and how it ends when a store
 * faults. The uid tests start a second subject that becomes uid 65534 in
 * its own user namespace or, where subjects cannot switch uid, is handed
 * an object that root owns. Each TEST names its points and the handout
 * section that explains it; hx_parts at the end orders them as the
 * handout does.
 */
#define _DEFAULT_SOURCE                 /* fchmod, fchown */
#include "cx.h"
#include "hx.h"
#include "ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAMESZ 1100                     /* room for the over-long names */
#define NAME_MAX_LEN 255                /* shmo.h's SHMO_NAME_MAX */
#define SIZE_MAX_OBJ ((uint64_t)INT64_MAX)      /* shmo.h's SHMO_SIZE_MAX */
#define NOBODY 65534                    /* uid and gid of "nobody" */
#define NOTICE "Lab 05 notice: readable by all, writable by none"
#define THEIRS "someone else's data"

/* ---- Asking the subject ---- */

/* Ask s for op on name (NULL, or longer than a message: ops.h) with
 * arguments a0..a2, and n bytes after the name. errno is set to the
 * subject's. A failure is reported at the caller's line. */
#define call(s, what, op, name, a0, a1, a2) \
    call_at(__FILE__, __LINE__, s, what, op, name, a0, a1, a2, NULL, 0)
static struct sx_rep call_at(const char *file, int line, struct cx_subject *s,
                             const char *what, uint32_t op, const char *name,
                             uint64_t a0, uint64_t a1, uint64_t a2,
                             const void *bytes, size_t n)
{
    struct sx_req q = { .op = op, .a = { a0, a1, a2, 0 } };
    size_t len = name ? strlen(name) : 0;
    struct sx_rep r;

    if (name == NULL)
        q.a[3] = SX05_NULL;
    else if (len + 1 + n > SX_DATA)     /* "/" and len - 1 copies of a char */
        q.a[3] = SX05_LONG(len - 1, name[1]);
    else {
        memcpy(q.data, name, len + 1);
        if (n > 0)
            memcpy(q.data + len + 1, bytes, n);
        q.len = (uint32_t)(len + 1 + n);
    }
    cx_call_at(file, line, s, what, &q, &r);
    errno = r.err;
    return r;
}

/* The same for a call without a name; its return value. */
#define ask(s, what, op, a0, a1, a2) ask_at(__FILE__, __LINE__, s, what, op, a0, a1, a2)
static long ask_at(const char *file, int line, struct cx_subject *s, const char *what,
                   uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    return (long)call_at(file, line, s, what, op, "", a0, a1, a2, NULL, 0).ret;
}

/* s's shmo_publish(name, data or NULL, len, mode): the address, or 0. */
#define publish(s, what, name, data, len, mode) \
    publish_at(__FILE__, __LINE__, s, what, name, data, len, mode)
static uintptr_t publish_at(const char *file, int line, struct cx_subject *s,
                            const char *what, const char *name, const void *data,
                            size_t len, mode_t mode)
{
    return (uintptr_t)call_at(file, line, s, what, SX05_PUBLISH, name, len, mode,
                              data == NULL, data, data ? len : 0).ret;
}

/* The test's own steps in s (not the lab's code): close fd, unmap. */
static void s_close(struct cx_subject *s, long fd)
{
    if (fd >= 0)
        ask(s, "closing a descriptor (the test's own close)", SX05_CLOSE, fd, 0, 0);
}

static void s_unmap(struct cx_subject *s, uintptr_t p, size_t len)
{
    if (p != 0)
        ask(s, "unmapping (the test's own munmap)", SX05_UNMAP, p, len, 0);
}

/* A descriptor of s on object name, opened with shm_open (not the lab's). */
static int s_open(struct cx_subject *s, const char *name, int flags)
{
    int fd = (int)call(s, "shm_open (the test's own)", SX05_SHMOPEN, name, flags, 0, 0).ret;

    EXPECT(fd >= 0, "test setup: the subject's shm_open(%s) failed: %s", name,
           hx_errname(errno));
    return fd;
}

/* A mapping in s of len bytes of fd (-1: anonymous), MAP_SHARED, with prot
 * (the test's own mmap). */
static uintptr_t s_mmap(struct cx_subject *s, int fd, size_t len, int prot)
{
    uintptr_t p = (uintptr_t)ask(s, "mmap (the test's own)", SX05_MMAP, (uint64_t)fd, len,
                                 (uint64_t)prot);

    EXPECT(p != 0, "test setup: the subject's mmap failed: %s", hx_errname(errno));
    return p;
}

/* Fail unless reply value failed says the call failed, with errno want
 * (the subject's, in errno). */
static void expect_refused(const char *what, int failed, int want)
{
    EXPECT(failed, "%s: expected failure (errno %s), the call succeeded", what,
           hx_errname(want));
    EXPECT_ERRNO(what, want);
}

/* ---- Objects as the checker sees them: /dev/shm, lstat, pread ---- */

/* The file behind object name: /dev/shm/ + name without leading slashes
 * (glibc maps "x", "/x" and "//x" all to /dev/shm/x). */
static char *shm_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/dev/shm/%s", name + strspn(name, "/"));
    return buf;
}

/* A fresh object name for tag (cx_name). */
static char *fresh(char *buf, const char *tag)
{
    return cx_name(buf, NAMESZ, tag);
}

/* lstat of object name into *st: 0, or -1 with errno. Never follows a
 * link the subject may have put there. */
static int obj_stat(const char *name, struct stat *st)
{
    char path[NAMESZ + 16];

    return lstat(shm_path(path, sizeof path, name), st);
}

/* 1 if object name exists, 0 if not, -1 if lstat failed otherwise. */
static int exists(const char *name)
{
    struct stat st;

    if (obj_stat(name, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

/* Open object name as a plain file (O_RDONLY or O_RDWR), never through a
 * link, never blocking on a FIFO. Returns the descriptor, or -1. */
static int obj_open(const char *name, int flags)
{
    char path[NAMESZ + 16];
    struct stat st;
    int fd = open(shm_path(path, sizeof path, name),
                  flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

/* Read len bytes of object name at off into buf ('\0' after them).
 * Returns how many, or -1. */
static ssize_t obj_read(const char *name, off_t off, char *buf, size_t len)
{
    int fd = obj_open(name, O_RDONLY);
    ssize_t n = fd == -1 ? -1 : pread(fd, buf, len, off);

    if (fd != -1)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

/* How many entries of /dev/shm start with name (without its slashes): what
 * a test whose names all begin with name left behind. -1 on error. */
static int leftovers(const char *name)
{
    const char *prefix = name + strspn(name, "/");
    DIR *d = opendir("/dev/shm");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void expect_gone(const char *what, const char *name)
{
    int n = leftovers(name);

    EXPECT(n == 0, "%s: expected no object in /dev/shm named %s..., found %d"
           " (unlink what you created when a later step fails)", what, name + 1, n);
}

/* The id of pid in /proc/PID/status line key ("Uid:", "Gid:"): its field
 * (0 real, 1 effective, 2 saved, 3 filesystem), or -1. */
static long proc_id(pid_t pid, const char *key, int field)
{
    char buf[4096], *at;
    long v[4];

    if (cx_proc(pid, "status", buf, sizeof buf) == -1 || (at = strstr(buf, key)) == NULL ||
        sscanf(at + strlen(key), "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4)
        return -1;
    return v[field];
}

/* Create object name for a test, without the code under test: exactly
 * mode, size bytes, text (if any) at offset 0, owned by s's user (as if s
 * had made it). */
static void make_object(struct cx_subject *s, const char *name, size_t size,
                        mode_t mode, const char *text)
{
    size_t len = text ? strlen(text) + 1 : 0;
    long uid = proc_id(s->pid, "Uid:", 3), gid = proc_id(s->pid, "Gid:", 3);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);

    EXPECT(fd != -1, "test setup: shm_open(%s) failed: %s", name, hx_errname(errno));
    EXPECT(uid >= 0 && gid >= 0, "test setup: cannot read the subject's ids");
    EXPECT(fchmod(fd, mode) == 0 && ftruncate(fd, (off_t)size) == 0 &&
           ((uid_t)uid == geteuid() || fchown(fd, (uid_t)uid, (gid_t)gid) == 0),
           "test setup: fchmod, ftruncate or fchown failed: %s", hx_errname(errno));
    EXPECT(len == 0 || pwrite(fd, text, len, 0) == (ssize_t)len,
           "test setup: pwrite failed: %s", hx_errname(errno));
    close(fd);
}

static struct stat stat_of(const char *what, const char *name)
{
    struct stat st;

    EXPECT(obj_stat(name, &st) == 0, "%s: the object is not in /dev/shm (lstat: %s)",
           what, hx_errname(errno));
    EXPECT(S_ISREG(st.st_mode), "%s: /dev/shm%s is not a plain object", what, name);
    return st;
}

static void expect_mode(const char *what, const char *name, mode_t want, mode_t mask)
{
    mode_t got = stat_of(what, name).st_mode & 07777;

    EXPECT(got == want, "%s: expected mode %04o, got %04o%s", what, (unsigned)want,
           (unsigned)got, got == (want & ~mask)
           ? " (the umask's doing: set the mode with fchmod)" : "");
}

/* Fail unless object name still holds text at offset 0, size bytes, mode. */
static void expect_intact(const char *what, const char *name, size_t size,
                          mode_t mode, const char *text)
{
    char buf[64];
    struct stat st;

    EXPECT(obj_stat(name, &st) == 0, "%s: the existing object is gone (%s); it was"
           " not yours to remove", what, hx_errname(errno));
    EXPECT((size_t)st.st_size == size, "%s: the existing object's size changed from"
           " %zu to %lld bytes", what, size, (long long)st.st_size);
    EXPECT((st.st_mode & 07777) == mode, "%s: the existing object's mode changed"
           " from %04o to %04o", what, (unsigned)mode, (unsigned)(st.st_mode & 07777));
    EXPECT(obj_read(name, 0, buf, sizeof buf - 1) > 0 && strcmp(buf, text) == 0,
           "%s: the existing object's data changed: expected \"%s\", got \"%s\"",
           what, text, buf);
}

/* ---- The subject's descriptors and mappings, from /proc ---- */

/* The access mode (O_RDONLY, O_WRONLY, O_RDWR) of descriptor fd of pid,
 * and its inode into *ino (0 if the kernel does not say); -1 if fd is not
 * open. */
static int fd_mode(pid_t pid, long fd, unsigned long *ino)
{
    char name[32], buf[512], *at;
    unsigned long flags;
    int f;
    ssize_t n;

    snprintf(name, sizeof name, "fdinfo/%ld", fd);
    if (fd < 0 || (f = cx_open(pid, name, O_RDONLY)) == -1)
        return -1;
    n = read(f, buf, sizeof buf - 1);
    close(f);
    buf[n > 0 ? n : 0] = '\0';
    *ino = (at = strstr(buf, "ino:")) ? strtoul(at + 4, NULL, 10) : 0;
    if ((at = strstr(buf, "flags:")) == NULL || sscanf(at + 6, "%lo", &flags) != 1)
        return -1;
    return (int)(flags & O_ACCMODE);
}

static const char *mode_name(int m)
{
    return m == O_RDONLY ? "O_RDONLY" : m == O_RDWR ? "O_RDWR" : m == O_WRONLY
           ? "O_WRONLY" : "not open";
}

/* Fail unless descriptor fd of s is open on object name with access mode. */
static void expect_fd(struct cx_subject *s, const char *what, long fd,
                      const char *name, int mode)
{
    unsigned long ino = 0;
    int got = fd_mode(s->pid, fd, &ino);
    struct stat st;

    EXPECT(got != -1, "%s: descriptor %ld is not open in the subject", what, fd);
    EXPECT(got == mode, "%s: expected a descriptor opened %s, got one opened %s", what,
           mode_name(mode), mode_name(got));
    EXPECT(ino == 0 || (obj_stat(name, &st) == 0 && st.st_ino == ino),
           "%s: descriptor %ld is not open on the object %s", what, fd, name);
}

/* Fail unless s maps p with perms ("r--s") from object name. */
static void expect_map(struct cx_subject *s, const char *what, uintptr_t p,
                       const char *perms, const char *name)
{
    char path[NAMESZ + 16] = "";
    struct cx_map m;

    EXPECT(cx_mapping(s->pid, p, &m) == 1, "%s: nothing is mapped there", what);
    EXPECT(strcmp(m.perms, perms) == 0, "%s: expected %s in /proc/PID/maps, got %s",
           what, perms, m.perms);
    if (name != NULL)
        shm_path(path, sizeof path, name);
    EXPECT(strncmp(m.path, path, strlen(path)) == 0,
           "%s: expected a mapping of %s, got one of \"%s\"", what, path, m.path);
}

/* Fail unless the len bytes at p in s read data. */
static void expect_data(struct cx_subject *s, const char *what, uintptr_t p,
                        const void *data, size_t len)
{
    char buf[SX_DATA];

    EXPECT(len <= sizeof buf && cx_peek(s->pid, p, buf, len) == 0,
           "%s: the memory cannot be read", what);
    EXPECT(memcmp(buf, data, len) == 0, "%s: expected \"%.*s\", got \"%.*s\"", what,
           (int)len, (const char *)data, (int)len, buf);
}

/* Store byte c at p in s, which must end s with signal sig (SIGSEGV,
 * SIGBUS): s must be bare (cx_start_bare). */
static void expect_fault(struct cx_subject *s, const char *what, uintptr_t p, int sig)
{
    struct sx_req q = { .op = SX05_STORE, .a = { p, 0x77 } };
    struct sx_rep r;
    char how[96];
    int st;

    cx_send(s, what, &q);
    if (cx_poll(s, 5) == 1 && recv(s->sock, &r, sizeof r, MSG_PEEK | MSG_DONTWAIT) ==
        (ssize_t)sizeof r) {
        EXPECT(0, "%s: expected %s, the store went through", what,
               sig == SIGSEGV ? "SIGSEGV" : "SIGBUS");
    }
    st = cx_wait(s, 5);
    EXPECT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig,
           "%s: expected the process to be killed by %s, got %s", what,
           sig == SIGSEGV ? "SIGSEGV" : "SIGBUS",
           st == -1 ? "no end" : cx_describe(st, how, sizeof how));
}

/* ---- Part 1: names ---- */

/* Check s's shmo_name_check(name): want 0 (accepted) or the errno. */
static void expect_name(struct cx_subject *s, const char *name, int want,
                        const char *label)
{
    char what[160];

    if (label == NULL)
        snprintf(what, sizeof what, "shmo_name_check(%s%s%s)", name ? "\"" : "",
                 name ? name : "NULL", name ? "\"" : "");
    else
        snprintf(what, sizeof what, "shmo_name_check(%s)", label);
    long rc = call(s, what, SX05_CHECK, name, 0, 0, 0).ret;
    if (want == 0) {
        EXPECT(rc == 0, "%s: expected 0 (a valid name), got %ld (errno %s)", what, rc,
               hx_errname(errno));
        return;
    }
    EXPECT(rc == -1, "%s: expected -1 (errno %s), got %ld", what, hx_errname(want), rc);
    EXPECT_ERRNO(what, want);
}

/* "/" followed by n copies of c. */
static char *long_name(char *buf, size_t n, char c)
{
    buf[0] = '/';
    memset(buf + 1, c, n);
    buf[n + 1] = '\0';
    return buf;
}

/* A step of the Valgrind pass's leak check: names checked, a missing
 * object opened and attached. */
static void name_step(struct cx_subject *s, void *missing)
{
    EXPECT(call(s, "shmo_name_check(\"/notice\")", SX05_CHECK, "/notice", 0, 0, 0).ret == 0,
           "shmo_name_check(\"/notice\"): expected 0");
    EXPECT(call(s, "shmo_open(missing name)", SX05_OPEN, missing, O_RDONLY, 0, 0).ret == -1,
           "shmo_open(missing name): expected -1");
    EXPECT(call(s, "shmo_attach(missing name)", SX05_ATTACH, missing, 0, 0, 0).ret == 0,
           "shmo_attach(missing name): expected NULL");
}

TEST(name_valid, 1, "§2")
{
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    expect_name(&s, "/a", 0, NULL);
    expect_name(&s, "/notice", 0, NULL);
    expect_name(&s, "/Lab-05_v1.2", 0, NULL);
    expect_name(&s, "/...", 0, NULL);
    expect_name(&s, "/.hidden", 0, NULL);
    expect_name(&s, fresh(name, "valid"), 0, NULL);
    cx_end(&s);
    if (getenv("HX_VALGRIND"))          /* the leak points, from outside too */
        cx_expect_steady("shmo_name_check, shmo_open and shmo_attach", name_step,
                         fresh(name, "steady"));
}

TEST(name_invalid, 2, "§2")
{
    static const char *const bad[] = {
        "", "/", "noslash", "//double", "/a/b", "/trailing/", "/.", "/..",
        "/sp ace", "/tab\there", "/caf\xc3\xa9", "/star*", "/semi;colon",
    };
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    expect_name(&s, NULL, EINVAL, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_name(&s, bad[i], EINVAL, NULL);
    expect_name(&s, fresh(name, "invalid") + 1, EINVAL, NULL);
    cx_end(&s);
}

TEST(name_too_long, 1, "§2")
{
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    expect_name(&s, long_name(name, NAME_MAX_LEN, 'x'), 0,
                "\"/xxx...\" with 255 characters after the '/'");
    expect_name(&s, long_name(name, NAME_MAX_LEN + 1, 'x'), ENAMETOOLONG,
                "\"/xxx...\" with 256 characters after the '/'");
    expect_name(&s, long_name(name, 1000, 'y'), ENAMETOOLONG,
                "\"/yyy...\" with 1000 characters after the '/'");
    expect_name(&s, long_name(name, 300, '*'), EINVAL,
                "\"/***...\" with 300 characters after the '/', none of them allowed (a"
                " name that breaks another rule is EINVAL, whatever its length)");
    cx_end(&s);
}

TEST(names_enforced, 2, "§2")
{
    struct cx_subject s;
    char name[NAMESZ], spaced[NAMESZ + 8], doubled[NAMESZ + 8], big[NAMESZ];
    const char *bare = fresh(name, "enforced") + 1;
    size_t pg = cx_page();

    snprintf(spaced, sizeof spaced, "%s x", name);
    shm_unlink(spaced);
    snprintf(doubled, sizeof doubled, "/%s", name);
    long_name(big, NAME_MAX_LEN + 1, 'z');
    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    expect_refused("shmo_create(name without its '/')",
                   call(&s, "shmo_create", SX05_CREATE, bare, pg, 0600, 0).ret == -1, EINVAL);
    expect_refused("shmo_create(name with a space)",
                   call(&s, "shmo_create", SX05_CREATE, spaced, pg, 0600, 0).ret == -1, EINVAL);
    expect_refused("shmo_publish(name starting with \"//\")",
                   publish(&s, "shmo_publish", doubled, "x", 2, 0600) == 0, EINVAL);
    expect_refused("shmo_create(256 characters after the '/')",
                   call(&s, "shmo_create", SX05_CREATE, big, pg, 0600, 0).ret == -1,
                   ENAMETOOLONG);
    expect_gone("after the refused creations", name);
    make_object(&s, name, pg, 0600, THEIRS);
    expect_refused("shmo_open(name without its '/')",
                   call(&s, "shmo_open", SX05_OPEN, bare, O_RDONLY, 0, 0).ret == -1, EINVAL);
    expect_refused("shmo_attach(name starting with \"//\")",
                   call(&s, "shmo_attach", SX05_ATTACH, doubled, 0, 0, 0).ret == 0, EINVAL);
    expect_refused("shmo_unlink(name without its '/')",
                   call(&s, "shmo_unlink", SX05_UNLINK, bare, 0, 0, 0).ret == -1, EINVAL);
    EXPECT_INT("the object after shmo_unlink of a bad name: still there", exists(name), 1);
    EXPECT_INT("open descriptors after the refused calls", cx_fds(s.pid), before);
    shm_unlink(name);
    cx_end(&s);
}

/* ---- Part 2: creating without taking over ---- */

TEST(create_new, 2, "§3")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t want = (2 + cx_rand() % 3) * cx_page() + 1 + cx_rand() % 100;

    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    long fd = call(&s, "shmo_create", SX05_CREATE, fresh(name, "new"), want, 0600, 0).ret;
    EXPECT(fd >= 0, "shmo_create(%s, %zu, 0600): expected a descriptor, got %ld (errno"
           " %s)", name, want, fd, hx_errname(errno));
    EXPECT_INT("open descriptors after shmo_create (the one it returns)", cx_fds(s.pid),
               before + 1);
    expect_fd(&s, "the descriptor shmo_create returns", fd, name, O_RDWR);
    struct stat st = stat_of("the new object in /dev/shm", name);
    EXPECT_INT("owner (uid) of the new object", st.st_uid, proc_id(s.pid, "Uid:", 3));
    EXPECT_INT("size of the new object (ftruncate it to size)", st.st_size, want);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

TEST(create_exclusive, 3, "§3")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t pg = cx_page();

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "excl"), pg, 0600, THEIRS);
    int before = cx_fds(s.pid);
    long fd = call(&s, "shmo_create", SX05_CREATE, name, 3 * pg, 0666, 0).ret;
    EXPECT(fd == -1, "shmo_create of an existing name: expected -1 (EEXIST), got"
           " descriptor %ld: you opened someone else's object (O_EXCL)", fd);
    EXPECT_ERRNO("shmo_create of an existing name", EEXIST);
    expect_intact("after shmo_create of its name", name, pg, 0600, THEIRS);
    EXPECT_INT("open descriptors after the failed shmo_create", cx_fds(s.pid), before);
    shm_unlink(name);
    cx_end(&s);
}

TEST(create_bad_args, 1, "§3")
{
    static const struct {
        uint64_t size;
        mode_t mode;
        const char *what;
    } bad[] = {
        { 0, 0600, "shmo_create(name, 0, 0600)" },
        { SIZE_MAX, 0600, "shmo_create(name, SIZE_MAX, 0600)" },
        { SIZE_MAX_OBJ + 1, 0600, "shmo_create(name, SHMO_SIZE_MAX + 1, 0600)" },
        { 4096, 01777, "shmo_create(name, 4096, 01777)" },
        { 4096, 04600, "shmo_create(name, 4096, 04600)" },
        { 4096, 0100600, "shmo_create(name, 4096, 0100600)" },
    };
    struct cx_subject s;
    char name[NAMESZ];

    fresh(name, "badargs");
    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long fd = call(&s, bad[i].what, SX05_CREATE, name, bad[i].size, bad[i].mode, 0).ret;
        int err = errno;
        if (fd >= 0) {
            s_close(&s, fd);
            shm_unlink(name);
        }
        EXPECT(fd == -1, "%s: expected -1 (EINVAL), got descriptor %ld", bad[i].what, fd);
        errno = err;
        EXPECT_ERRNO(bad[i].what, EINVAL);
    }
    expect_gone("after the refused shmo_create calls", name);
    EXPECT_INT("open descriptors after the refused calls", cx_fds(s.pid), before);
    cx_end(&s);
}

TEST(create_cleanup, 2, "§3")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t pg = cx_page();

    fresh(name, "cleanup");
    cx_start_alone(&s);                 /* (its limit stays lowered) */
    EXPECT(ask(&s, "lowering the file size limit", SX05_FSIZE, pg, 0, 0) == 0 &&
           cx_limit(s.pid, "Max file size") == (long)pg, "test setup: the file size limit was not set");
    int before = cx_fds(s.pid);
    const char *what = "shmo_create(name, 4 pages, 0600) in a process whose files may"
                       " not grow past one page";
    long fd = call(&s, what, SX05_CREATE, name, 4 * pg, 0600, 0).ret;
    int err = errno, left = exists(name);
    shm_unlink(name);
    EXPECT(fd == -1, "%s: expected -1 (ftruncate cannot work here), got descriptor %ld",
           what, fd);
    errno = err;
    EXPECT_ERRNO(what, EFBIG);
    EXPECT(left == 0, "%s: the object stayed in /dev/shm: unlink the object you created"
           " when a later step fails", what);
    int after = cx_fds(s.pid);
    EXPECT(after == before, "%s: open descriptors: expected %d, got %d (close the"
           " descriptor when a later step fails)", what, before, after);
    cx_end(&s);
}

/* ---- Part 3: exact permissions ---- */

/* The umask of pid, from /proc/PID/status, or -1. */
static long umask_of(pid_t pid)
{
    char buf[4096], *at;
    unsigned long m;

    if (cx_proc(pid, "status", buf, sizeof buf) == -1 ||
        (at = strstr(buf, "Umask:")) == NULL || sscanf(at + 6, "%lo", &m) != 1)
        return -1;
    return (long)m;
}

/* Under umask mask, s's shmo_create(name, page, mode) must give each of
 * modes exactly, and leave the umask as it was. */
static void expect_modes(mode_t mask, const mode_t *modes, size_t n)
{
    struct cx_subject s;
    char name[NAMESZ], what[128], tag[16];

    cx_start(&s, NULL);
    long old = ask(&s, "umask", SX05_UMASK, mask, 0, 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(tag, sizeof tag, "mode%zu", i);
        snprintf(what, sizeof what, "shmo_create(name, page, %04o) under umask %03o",
                 (unsigned)modes[i], (unsigned)mask);
        long fd = call(&s, what, SX05_CREATE, fresh(name, tag), cx_page(), modes[i], 0).ret;
        EXPECT(fd >= 0, "%s: expected a descriptor, got -1 (errno %s)", what,
               hx_errname(errno));
        expect_mode(what, name, modes[i], mask);
        s_close(&s, fd);
        shm_unlink(name);
    }
    long now = umask_of(s.pid);
    ask(&s, "umask", SX05_UMASK, (uint64_t)old, 0, 0);
    EXPECT(now == (long)mask, "the umask after shmo_create: expected %03o (it must not"
           " change), got %03lo", (unsigned)mask, now);
    cx_end(&s);
}

TEST(mode_umask_022, 2, "§4")
{
    static const mode_t modes[] = { 0666, 0660, 0600 };

    expect_modes(022, modes, 3);
}

TEST(mode_umask_077, 2, "§4")
{
    static const mode_t modes[] = { 0640, 0604, 0400 };

    expect_modes(077, modes, 3);
}

/* ---- Part 4: the size of an object ---- */

TEST(sigbus_past_end, 2, "§5")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t pg = cx_page(), want = pg + 1 + cx_rand() % (pg - 1);
    unsigned char c = 0;

    cx_start_bare(&s);                  /* (it ends in a fault) */
    long fd = call(&s, "shmo_create", SX05_CREATE, fresh(name, "sigbus"), want, 0600, 0).ret;
    EXPECT(fd >= 0, "shmo_create(name, %zu, 0600): expected a descriptor, got -1 (errno"
           " %s)", want, hx_errname(errno));
    EXPECT_INT("size of the object (exactly size, not rounded to pages)",
               stat_of("the new object", name).st_size, want);
    /* Three pages of mapping over an object of one page and a bit. */
    uintptr_t p = s_mmap(&s, (int)fd, 3 * pg, PROT_READ | PROT_WRITE);
    EXPECT(ask(&s, "a store into the last byte of the object's last page", SX05_STORE,
               p + 2 * pg - 1, 0x77, 0) == 0 && cx_peek(s.pid, p + 2 * pg - 1, &c, 1) == 0 &&
           c == 0x77, "a store into the last byte of the object's last page (past its"
           " end, same page): expected it to work");
    expect_fault(&s, "a store one page past the object's end", p + 2 * pg, SIGBUS);
    EXPECT_INT("size of the object after the stores (unchanged)",
               stat_of("the object", name).st_size, want);
    shm_unlink(name);
}

/* Make an empty object name for s's user and open it in s (not with the
 * lab's code). Returns s's descriptor. */
static int empty_object(struct cx_subject *s, const char *name)
{
    make_object(s, name, 0, 0600, NULL);
    return s_open(s, name, O_RDWR);
}

TEST(map_empty, 1, "§5")
{
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    int fd = empty_object(&s, fresh(name, "empty"));
    struct sx_rep r = call(&s, "shmo_map", SX05_MAP, "", (uint64_t)fd,
                           PROT_READ | PROT_WRITE, 0);
    s_unmap(&s, (uintptr_t)r.ret, r.v[0]);
    errno = r.err;
    EXPECT_NULL("shmo_map of an object of size 0 (not sized yet)", (void *)r.ret);
    EXPECT_ERRNO("shmo_map of an object of size 0", ENODATA);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

/* ---- Part 5: opening and mapping ---- */

/* Fail unless s's shmo_open(name, flags) gives a descriptor opened so. */
static void expect_open(struct cx_subject *s, const char *name, int flags, const char *what)
{
    long fd = call(s, what, SX05_OPEN, name, (uint64_t)flags, 0, 0).ret;

    EXPECT(fd >= 0, "%s: expected a descriptor, got -1 (errno %s)", what, hx_errname(errno));
    expect_fd(s, what, fd, name, flags);
    s_close(s, fd);
}

TEST(open_modes, 2, "§6")
{
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "open"), cx_page(), 0600, THEIRS);
    int before = cx_fds(s.pid);
    expect_open(&s, name, O_RDONLY, "shmo_open(name, O_RDONLY)");
    expect_open(&s, name, O_RDWR, "shmo_open(name, O_RDWR)");
    EXPECT_INT("open descriptors after closing shmo_open's", cx_fds(s.pid), before);
    expect_intact("after shmo_open", name, cx_page(), 0600, THEIRS);
    shm_unlink(name);
    cx_end(&s);
}

TEST(open_never_creates, 1, "§6")
{
    struct cx_subject s;
    char name[NAMESZ], missing[NAMESZ];

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "nocreate"), cx_page(), 0600, THEIRS);
    fresh(missing, "missing");
    int before = cx_fds(s.pid);
    expect_refused("shmo_open(missing name, O_RDWR)",
                   call(&s, "shmo_open", SX05_OPEN, missing, O_RDWR, 0, 0).ret == -1, ENOENT);
    expect_refused("shmo_open(missing name, O_RDWR | O_CREAT)",
                   call(&s, "shmo_open", SX05_OPEN, missing, O_RDWR | O_CREAT, 0, 0).ret == -1,
                   EINVAL);
    int made = exists(missing);
    shm_unlink(missing);
    EXPECT_INT("object of the missing name after shmo_open (never create)", made, 0);
    expect_refused("shmo_open(name, O_WRONLY)",
                   call(&s, "shmo_open", SX05_OPEN, name, O_WRONLY, 0, 0).ret == -1, EINVAL);
    expect_refused("shmo_open(name, O_RDWR | O_TRUNC)",
                   call(&s, "shmo_open", SX05_OPEN, name, O_RDWR | O_TRUNC, 0, 0).ret == -1,
                   EINVAL);
    EXPECT_INT("open descriptors after the refused calls", cx_fds(s.pid), before);
    expect_intact("after shmo_open(name, O_RDWR | O_TRUNC)", name, cx_page(), 0600, THEIRS);
    shm_unlink(name);
    cx_end(&s);
}

TEST(map_shared, 2, "§6")
{
    struct cx_subject s;
    char name[NAMESZ], c[2] = "";
    size_t want = (2 + cx_rand() % 3) * cx_page();
    unsigned char z = (unsigned char)('A' + cx_rand() % 26);

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "shared"), want, 0600, THEIRS);
    int fd = s_open(&s, name, O_RDWR);
    struct sx_rep r = call(&s, "shmo_map(fd, PROT_READ | PROT_WRITE, &size)", SX05_MAP, "",
                           (uint64_t)fd, PROT_READ | PROT_WRITE, 0);
    uintptr_t p = (uintptr_t)r.ret;
    EXPECT_PTR("shmo_map(fd, PROT_READ | PROT_WRITE, &size)", (void *)p);
    EXPECT_SIZE("the size shmo_map stores (the object's)", r.v[0], want);
    expect_map(&s, "the mapping shmo_map returns", p, "rw-s", name);
    expect_map(&s, "the mapping's last page", p + want - 1, "rw-s", name);
    expect_data(&s, "the mapping's first bytes (the object's data)", p, THEIRS,
                sizeof THEIRS);
    EXPECT(cx_poke(s.pid, p + want - 1, &z, 1) == 0, "a store into the mapping's last"
           " byte: the mapping is not writable");
    EXPECT(obj_read(name, (off_t)want - 1, c, 1) == 1 && c[0] == (char)z, "a store"
           " through the mapping did not reach the object (MAP_SHARED?)");
    unsigned long ino;
    EXPECT(fd_mode(s.pid, fd, &ino) == O_RDWR, "shmo_map closed the caller's descriptor");
    s_unmap(&s, p, want);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

TEST(map_read_only, 2, "§6")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t want = cx_page() + 1 + cx_rand() % 200;
    unsigned char z = 'Z';

    cx_start_bare(&s);                  /* (it ends in a fault) */
    make_object(&s, fresh(name, "mapro"), want, 0600, THEIRS);
    int ro = s_open(&s, name, O_RDONLY);
    struct sx_rep r = call(&s, "shmo_map(read-only fd, PROT_READ, &size)", SX05_MAP, "",
                           (uint64_t)ro, PROT_READ, 0);
    uintptr_t p = (uintptr_t)r.ret;
    EXPECT_PTR("shmo_map(read-only fd, PROT_READ, &size)", (void *)p);
    EXPECT_SIZE("the size shmo_map stores (the object's)", r.v[0], want);
    expect_map(&s, "the mapping shmo_map returns", p, "r--s", name);
    expect_data(&s, "the mapping's first bytes (the object's data)", p, THEIRS,
                sizeof THEIRS);
    EXPECT(cx_poke(s.pid, p + 10, &z, 1) == -1, "a PROT_READ mapping: it is writable");
    expect_fault(&s, "a store into a PROT_READ mapping", p + 10, SIGSEGV);
    shm_unlink(name);
}

TEST(map_rdonly_fd, 2, "§6")
{
    struct cx_subject s;
    char name[NAMESZ];
    unsigned long ino;

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "rdonlyfd"), cx_page(), 0600, THEIRS);
    int ro = s_open(&s, name, O_RDONLY);
    struct sx_rep r = call(&s, "shmo_map", SX05_MAP, "", (uint64_t)ro,
                           PROT_READ | PROT_WRITE, 0);
    s_unmap(&s, (uintptr_t)r.ret, r.v[0]);
    errno = r.err;
    EXPECT_NULL("shmo_map(read-only fd, PROT_READ | PROT_WRITE, &size)", (void *)r.ret);
    EXPECT_ERRNO("shmo_map(read-only fd, PROT_READ | PROT_WRITE), mmap's", EACCES);
    EXPECT(fd_mode(s.pid, ro, &ino) == O_RDONLY, "shmo_map closed the caller's descriptor");
    s_close(&s, ro);
    shm_unlink(name);
    cx_end(&s);
}

TEST(map_errors, 1, "§6")
{
    static const struct { int prot; const char *what; } bad[] = {
        { PROT_NONE, "shmo_map(fd, PROT_NONE, &size)" },
        { PROT_WRITE, "shmo_map(fd, PROT_WRITE, &size)" },
        { PROT_READ | PROT_EXEC, "shmo_map(fd, PROT_READ | PROT_EXEC, &size)" },
    };
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "maperr"), cx_page(), 0600, THEIRS);
    int fd = s_open(&s, name, O_RDWR);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i].what, ask(&s, bad[i].what, SX05_MAP, (uint64_t)fd,
                                        (uint64_t)bad[i].prot, 0) == 0, EINVAL);
    expect_refused("shmo_map(fd, PROT_READ, NULL)",
                   ask(&s, "shmo_map", SX05_MAP, (uint64_t)fd, PROT_READ, 1) == 0, EINVAL);
    expect_refused("shmo_map(-1, PROT_READ, &size), fstat's",
                   ask(&s, "shmo_map", SX05_MAP, (uint64_t)-1, PROT_READ, 0) == 0, EBADF);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

TEST(attach_errors, 1, "§6")
{
    struct cx_subject s;
    char name[NAMESZ], missing[NAMESZ];

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "attacherr"), 0, 0600, NULL);
    int before = cx_fds(s.pid);
    expect_refused("shmo_attach(name, NULL)",
                   call(&s, "shmo_attach", SX05_ATTACH, name, 0, 0, 1).ret == 0, EINVAL);
    expect_refused("shmo_attach(missing name, &size)",
                   call(&s, "shmo_attach", SX05_ATTACH, fresh(missing, "gone"), 0, 0, 0).ret == 0,
                   ENOENT);
    expect_refused("shmo_attach of an object of size 0",
                   call(&s, "shmo_attach", SX05_ATTACH, name, 0, 0, 0).ret == 0, ENODATA);
    EXPECT_INT("open descriptors after the failed calls (close on the error path)",
               cx_fds(s.pid), before);
    shm_unlink(name);
    cx_end(&s);
}

/* Whether this test can put a second user beside the object's owner; if
 * not, it is skipped, visibly. */
static int can_switch_users(void)
{
    if (geteuid() != 0)
        hx_skip("needs root to switch to another uid");
    return geteuid() == 0;
}

/* Make u (a subject of its own, started after owner made object name)
 * another user than name's owner: uid 65534 in its own namespace, or,
 * where subjects cannot switch uid, by handing the object to root. Either
 * way what /proc shows of u must bear it out: every uid the same, not the
 * owner's, no capability. Returns 1, or 0 if the test was skipped. */
static int other_user(struct cx_subject *u, const char *name)
{
    char buf[4096], *at;
    unsigned long long caps = 1;
    long switched = ask(u, "becoming uid 65534", SX05_BECOME, NOBODY, 0, 0);
    int fd;

    if (switched != 0) {
        EXPECT(errno == EPERM, "test setup: the second process could not become uid"
               " 65534: %s", hx_errname(errno));
        EXPECT((fd = obj_open(name, O_RDONLY)) != -1 && fchown(fd, 0, 0) == 0,
               "test setup: the object could not be handed to root: %s", hx_errname(errno));
        close(fd);
    }
    struct stat st = stat_of("test setup", name);
    long ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = proc_id(u->pid, "Uid:", i);
    if (cx_proc(u->pid, "status", buf, sizeof buf) == 0 && (at = strstr(buf, "CapEff:")))
        caps = strtoull(at + 7, NULL, 16);
    EXPECT(ids[0] >= 0 && ids[0] == ids[1] && ids[1] == ids[2] && ids[2] == ids[3] &&
           (uid_t)ids[0] != st.st_uid && caps == 0, "test setup: the second process is"
           " not another user (uid %ld, owner %u, capabilities %llx)", ids[1],
           (unsigned)st.st_uid, caps);
    if ((fd = cx_open(u->pid, "maps", O_RDONLY)) == -1) {
        hx_skip("cannot watch a process of another uid here (no CAP_SYS_PTRACE)");
        return 0;
    }
    close(fd);
    return 1;
}

TEST(uid_private, 3, "§6")
{
    struct cx_subject s, u;
    char name[NAMESZ];
    const char *what = "a mode 0600 object of root's, used by uid 65534";

    if (!can_switch_users())
        return;
    cx_start(&s, NULL);
    long old = ask(&s, "umask", SX05_UMASK, 022, 0, 0);
    long fd = call(&s, "shmo_create", SX05_CREATE, fresh(name, "private"), cx_page(),
                   0600, 0).ret;
    ask(&s, "umask", SX05_UMASK, (uint64_t)old, 0, 0);
    EXPECT(fd >= 0, "shmo_create(name, page, 0600): expected a descriptor, got -1 (errno"
           " %s)", hx_errname(errno));
    cx_start_bare(&u);                  /* (Valgrind cannot tidy up after a uid switch) */
    if (other_user(&u, name)) {
        expect_refused("shmo_open(name, O_RDONLY) as nobody",
                       call(&u, what, SX05_OPEN, name, O_RDONLY, 0, 0).ret == -1, EACCES);
        expect_refused("shmo_open(name, O_RDWR) as nobody",
                       call(&u, what, SX05_OPEN, name, O_RDWR, 0, 0).ret == -1, EACCES);
        expect_refused("shmo_attach(name, &size) as nobody",
                       call(&u, what, SX05_ATTACH, name, 0, 0, 0).ret == 0, EACCES);
    }
    cx_end(&u);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

TEST(uid_public, 3, "§6")
{
    struct cx_subject s, u;
    char name[NAMESZ];
    const char *what = "a mode 0644 object of root's, used by uid 65534";
    size_t pg = cx_page();

    if (!can_switch_users())
        return;
    cx_start(&s, NULL);
    long old = ask(&s, "umask", SX05_UMASK, 077, 0, 0);
    long fd = call(&s, "shmo_create", SX05_CREATE, fresh(name, "public"), pg, 0644, 0).ret;
    ask(&s, "umask", SX05_UMASK, (uint64_t)old, 0, 0);
    EXPECT(fd >= 0, "shmo_create(name, page, 0644): expected a descriptor, got -1 (errno"
           " %s)", hx_errname(errno));
    int w = obj_open(name, O_RDWR);
    EXPECT(w != -1 && pwrite(w, NOTICE, sizeof NOTICE, 0) == (ssize_t)sizeof NOTICE,
           "test setup: writing the notice failed: %s", hx_errname(errno));
    close(w);
    cx_start_bare(&u);                  /* (Valgrind cannot tidy up after a uid switch) */
    if (other_user(&u, name)) {
        struct sx_rep r = call(&u, what, SX05_ATTACH, name, 0, 0, 0);
        EXPECT(r.ret != 0, "shmo_attach(name, &size) as nobody: expected the data, got"
               " NULL (errno %s); a 0644 object opened O_RDONLY is readable by all",
               hx_errname(r.err));
        EXPECT_SIZE("the size shmo_attach stores, as nobody", r.v[0], pg);
        expect_map(&u, "the mapping shmo_attach returns, as nobody", (uintptr_t)r.ret,
                   "r--s", name);
        expect_data(&u, "the data shmo_attach maps, as nobody", (uintptr_t)r.ret, NOTICE,
                    sizeof NOTICE);
        expect_refused("shmo_open(name, O_RDWR) as nobody",
                       call(&u, what, SX05_OPEN, name, O_RDWR, 0, 0).ret == -1, EACCES);
        expect_refused("shmo_unlink(name) as nobody",
                       call(&u, what, SX05_UNLINK, name, 0, 0, 0).ret == -1, EACCES);
        EXPECT_INT("the object after nobody's shmo_unlink: still there", exists(name), 1);
    }
    cx_end(&u);
    s_close(&s, fd);
    shm_unlink(name);
    cx_end(&s);
}

/* ---- Part 6: sealing ---- */

TEST(seal_read_only, 2, "§7")
{
    struct cx_subject s;
    char name[NAMESZ];
    size_t pg = cx_page(), size = pg + 100;
    unsigned char q = 'Q';

    cx_start_bare(&s);                  /* (it ends in a fault) */
    make_object(&s, fresh(name, "seal"), size, 0600, NOTICE);
    int fd = s_open(&s, name, O_RDWR);
    uintptr_t p = s_mmap(&s, fd, size, PROT_READ | PROT_WRITE);
    EXPECT(cx_poke(s.pid, p + pg + 50, &q, 1) == 0, "test setup: the mapping is not"
           " writable");
    EXPECT_INT("shmo_seal(p, page + 100)",
               ask(&s, "shmo_seal(p, page + 100)", SX05_SEAL, p, size, 0), 0);
    expect_map(&s, "the first page after shmo_seal", p, "r--s", name);
    expect_map(&s, "the second page after shmo_seal", p + pg, "r--s", name);
    expect_data(&s, "the data after shmo_seal", p, NOTICE, sizeof NOTICE);
    expect_data(&s, "the second page's data after shmo_seal", p + pg + 50, "Q", 1);
    EXPECT(cx_poke(s.pid, p, &q, 1) == -1 && cx_poke(s.pid, p + pg + 50, &q, 1) == -1,
           "the sealed pages: still writable");
    if (cx_rand() % 2)
        expect_fault(&s, "a store into the first sealed page", p, SIGSEGV);
    else
        expect_fault(&s, "a store into the second sealed page", p + pg + 50, SIGSEGV);
    shm_unlink(name);
}

TEST(seal_errors, 1, "§7")
{
    struct cx_subject s;
    size_t pg = cx_page();

    cx_start(&s, NULL);
    uintptr_t p = s_mmap(&s, -1, pg, PROT_READ | PROT_WRITE);
    expect_refused("shmo_seal(NULL, page)",
                   ask(&s, "shmo_seal(NULL, page)", SX05_SEAL, 0, pg, 0) == -1, EINVAL);
    expect_refused("shmo_seal(p, 0)", ask(&s, "shmo_seal(p, 0)", SX05_SEAL, p, 0, 0) == -1,
                   EINVAL);
    expect_refused("shmo_seal(p + 1, page), mprotect's",
                   ask(&s, "shmo_seal(p + 1, page)", SX05_SEAL, p + 1, pg, 0) == -1, EINVAL);
    expect_map(&s, "the page after the failed shmo_seal calls", p, "rw-s", NULL);
    s_unmap(&s, p, pg);
    cx_end(&s);
}

TEST(publish_attach, 3, "§7")
{
    struct cx_subject s;
    char name[NAMESZ];

    cx_start(&s, NULL);
    int before = cx_fds(s.pid);
    long old = ask(&s, "umask", SX05_UMASK, 077, 0, 0);
    uintptr_t p = publish(&s, "shmo_publish(name, NOTICE, sizeof NOTICE, 0644)",
                          fresh(name, "publish"), NOTICE, sizeof NOTICE, 0644);
    int err = errno;
    ask(&s, "umask", SX05_UMASK, (uint64_t)old, 0, 0);
    errno = err;
    EXPECT_PTR("shmo_publish(name, NOTICE, sizeof NOTICE, 0644)", (void *)p);
    EXPECT_INT("open descriptors after shmo_publish (close it)", cx_fds(s.pid), before);
    expect_data(&s, "the published data", p, NOTICE, sizeof NOTICE);
    expect_map(&s, "the mapping shmo_publish returns (sealed)", p, "r--s", name);
    expect_mode("the object shmo_publish(..., 0644) made under umask 077", name, 0644, 077);
    EXPECT_INT("size of the published object", stat_of("the published object",
               name).st_size, sizeof NOTICE);
    struct sx_rep r = call(&s, "shmo_attach(name, &size)", SX05_ATTACH, name, 0, 0, 0);
    uintptr_t q = (uintptr_t)r.ret;
    EXPECT_PTR("shmo_attach(name, &size)", (void *)q);
    EXPECT_SIZE("the size shmo_attach stores", r.v[0], sizeof NOTICE);
    expect_data(&s, "the data shmo_attach maps", q, NOTICE, sizeof NOTICE);
    expect_map(&s, "the mapping shmo_attach returns", q, "r--s", name);
    EXPECT_INT("open descriptors after shmo_attach (close it)", cx_fds(s.pid), before);
    s_unmap(&s, q, sizeof NOTICE);
    s_unmap(&s, p, sizeof NOTICE);
    shm_unlink(name);
    cx_end(&s);
}

TEST(publish_sealed, 2, "§7")
{
    struct cx_subject s;
    char name[NAMESZ], buf[64];
    unsigned char z = 'Z';

    cx_start_bare(&s);                  /* (it ends in a fault) */
    uintptr_t p = publish(&s, "shmo_publish(name, NOTICE, sizeof NOTICE, 0600)",
                          fresh(name, "sealed"), NOTICE, sizeof NOTICE, 0600);
    EXPECT_PTR("shmo_publish(name, NOTICE, sizeof NOTICE, 0600)", (void *)p);
    EXPECT(cx_poke(s.pid, p + 1, &z, 1) == -1, "the mapping shmo_publish returns: it is"
           " writable (seal it)");
    expect_fault(&s, "a store into the mapping shmo_publish returns", p + 1, SIGSEGV);
    EXPECT(obj_read(name, 0, buf, sizeof NOTICE) == (ssize_t)sizeof NOTICE &&
           strcmp(buf, NOTICE) == 0, "the published data after the store: expected \"%s\","
           " got \"%s\"", NOTICE, buf);
    shm_unlink(name);
}

TEST(publish_failure, 2, "§7")
{
    struct cx_subject s;
    char name[NAMESZ], other[NAMESZ];

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "pubfail"), cx_page(), 0600, THEIRS);
    int before = cx_fds(s.pid);
    expect_refused("shmo_publish over an existing name",
                   publish(&s, "shmo_publish", name, NOTICE, sizeof NOTICE, 0644) == 0,
                   EEXIST);
    expect_intact("after shmo_publish of its name", name, cx_page(), 0600, THEIRS);
    fresh(other, "pubnull");
    expect_refused("shmo_publish(name, NULL, 10, 0600)",
                   publish(&s, "shmo_publish", other, NULL, 10, 0600) == 0,
                   EINVAL);
    expect_refused("shmo_publish(name, data, 0, 0600)",
                   publish(&s, "shmo_publish", other, NOTICE, 0, 0600) == 0, EINVAL);
    expect_gone("after the refused shmo_publish calls", other);
    EXPECT_INT("open descriptors after the failed calls", cx_fds(s.pid), before);
    shm_unlink(name);
    cx_end(&s);
}

TEST(publish_cleanup, 2, "§7")
{
    struct cx_subject s;
    char name[NAMESZ];
    const char *what = "shmo_publish(name, data, 100, 0644) in a process whose next mmap"
                       " fails (ENOMEM: no address space left)";

    fresh(name, "pubnomem");
    cx_start_alone(&s);                 /* (its limit changes) */
    /* Under Valgrind or ASan (the project's own tests) the address space
     * is theirs too: their own next mapping would fail first. */
    int asan = 0;
#if defined(__SANITIZE_ADDRESS__)
    asan = 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    asan = 1;
#endif
#endif
    if (hx_memcheck() || asan) {
        cx_end(&s);
        return;
    }
    int before = cx_fds(s.pid);
    EXPECT(ask(&s, "lowering the address-space limit", SX05_ASLIMIT, 1, 0, 0) == 0,
           "test setup: the address-space limit was not set");
    int failed = publish(&s, what, name, NOTICE, 100, 0644) == 0, err = errno;
    EXPECT(ask(&s, "raising the address-space limit", SX05_ASLIMIT, 0, 0, 0) == 0,
           "test setup: the address-space limit was not restored");
    int left = exists(name);
    shm_unlink(name);
    errno = err;
    expect_refused(what, failed, ENOMEM);
    EXPECT(left == 0, "%s: the object it created stayed in /dev/shm: unlink it when a"
           " later step fails", what);
    EXPECT_INT("open descriptors after the failed shmo_publish", cx_fds(s.pid), before);
    cx_end(&s);
}

/* ---- Part 7: cleaning up ---- */

TEST(unlink_removes, 3, "§8")
{
    struct cx_subject s;
    char name[NAMESZ];
    unsigned char c = 's';

    cx_start(&s, NULL);
    make_object(&s, fresh(name, "unlink"), cx_page(), 0600, THEIRS);
    int fd = s_open(&s, name, O_RDWR);
    uintptr_t p = s_mmap(&s, fd, cx_page(), PROT_READ | PROT_WRITE);
    s_close(&s, fd);
    EXPECT_INT("shmo_unlink(name)", call(&s, "shmo_unlink(name)", SX05_UNLINK, name, 0, 0,
                                         0).ret, 0);
    EXPECT_INT("the object in /dev/shm after shmo_unlink", exists(name), 0);
    expect_data(&s, "an existing mapping after shmo_unlink (still valid)", p, THEIRS,
                sizeof THEIRS);
    EXPECT(cx_poke(s.pid, p, &c, 1) == 0, "an existing mapping after shmo_unlink: no"
           " longer writable");
    EXPECT_FAIL("shm_open of the name after shmo_unlink", shm_open(name, O_RDONLY, 0), ENOENT);
    expect_refused("shmo_unlink(name) a second time",
                   call(&s, "shmo_unlink", SX05_UNLINK, name, 0, 0, 0).ret == -1, ENOENT);
    s_unmap(&s, p, cx_page());
    cx_end(&s);
}

const struct hx_part hx_parts[] = {
    { "1. Names",
      { &name_valid, &name_invalid, &name_too_long, &names_enforced } },
    { "2. Creating without taking over",
      { &create_new, &create_exclusive, &create_bad_args, &create_cleanup } },
    { "3. Exact permissions", { &mode_umask_022, &mode_umask_077 } },
    { "4. The size of an object", { &sigbus_past_end, &map_empty } },
    { "5. Opening and mapping",
      { &open_modes, &open_never_creates, &map_shared, &map_read_only,
        &map_rdonly_fd, &map_errors, &attach_errors, &uid_private,
        &uid_public } },
    { "6. Sealing and publishing",
      { &seal_read_only, &seal_errors, &publish_attach, &publish_sealed,
        &publish_failure, &publish_cleanup } },
    { "7. Cleaning up", { &unlink_removes } },
    { NULL, { NULL } },
};
