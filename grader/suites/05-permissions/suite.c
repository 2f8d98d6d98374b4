/* suite.c - Lab 05 tests: permissions of shared-memory objects
 * (handouts/05-permissions.md).
 *
 * Each TEST names its points and the handout section that explains it;
 * hx_parts at the end orders them as the handout does. Every object name
 * comes from hx_shm_name() (through fresh()), and every test removes what
 * it created. Stores that must fault run in a child whose wait status the
 * test decodes.
 */
#define _DEFAULT_SOURCE                 /* setgroups, fchmod, ftruncate */
#include "hx.h"
#include "shmo.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAMESZ 1100                     /* room for the over-long names */
#define NOBODY 65534                    /* uid and gid of "nobody" */
#define OK 42                           /* a child's "all went well" status */
#define MSG_MAX 240                     /* a child's explanation, in bytes */
#define NOTICE "Lab 05 notice: readable by all, writable by none"
#define THEIRS "someone else's data"

/* ---- Objects as the tests see them: through /dev/shm and fstat. ---- */

/* The file behind object name: /dev/shm/ + name without leading slashes
 * (glibc maps "x", "/x" and "//x" all to /dev/shm/x). */
static char *shm_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/dev/shm/%s", name + strspn(name, "/"));
    return buf;
}

/* hx_shm_name(buf, NAMESZ, tag), after removing what an interrupted run
 * by hand may have left under that name. */
static char *fresh(char *buf, const char *tag)
{
    hx_shm_name(buf, NAMESZ, tag);
    shm_unlink(buf);
    return buf;
}

/* 1 if object name exists, 0 if not, -1 if lstat failed otherwise. */
static int exists(const char *name)
{
    char path[NAMESZ + 16];
    struct stat st;

    if (lstat(shm_path(path, sizeof path, name), &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
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
           " (unlink what you created when a later step fails)", what,
           name + 1, n);
}

/* Remove an object whatever state it is in (test cleanup). */
static void discard(const char *name)
{
    shm_unlink(name);
}

/* Create object name the way the tests need it, without the code under
 * test: exactly mode, size bytes, text at offset 0. Returns the O_RDWR
 * descriptor. */
static int make_object(const char *name, size_t size, mode_t mode,
                       const char *text)
{
    size_t len = text ? strlen(text) + 1 : 0;
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, mode);

    EXPECT(fd != -1, "test setup: shm_open(%s) failed: %s", name,
           hx_errname(errno));
    EXPECT(fchmod(fd, mode) == 0 && ftruncate(fd, (off_t)size) == 0,
           "test setup: fchmod or ftruncate failed: %s", hx_errname(errno));
    EXPECT(len == 0 || pwrite(fd, text, len, 0) == (ssize_t)len,
           "test setup: pwrite failed: %s", hx_errname(errno));
    return fd;
}

static struct stat stat_of(int fd)
{
    struct stat st;

    EXPECT(fstat(fd, &st) == 0, "test: fstat failed: %s", hx_errname(errno));
    return st;
}

static void expect_mode(const char *what, int fd, mode_t want, mode_t mask)
{
    mode_t got = stat_of(fd).st_mode & 07777;

    EXPECT(got == want, "%s: expected mode %04o, got %04o%s", what,
           (unsigned)want, (unsigned)got, got == (want & ~mask)
           ? " (the umask's doing: set the mode with fchmod)" : "");
}

/* Fail unless object name holds text at offset 0 and is size bytes long. */
static void expect_intact(const char *what, const char *name, size_t size,
                          mode_t mode, const char *text)
{
    char buf[64] = "";
    int fd = shm_open(name, O_RDONLY, 0);

    EXPECT(fd != -1, "%s: the existing object is gone (shm_open: %s); it was"
           " not yours to remove", what, hx_errname(errno));
    struct stat st = stat_of(fd);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    EXPECT((size_t)st.st_size == size, "%s: the existing object's size changed"
           " from %zu to %lld bytes", what, size, (long long)st.st_size);
    EXPECT((st.st_mode & 07777) == mode, "%s: the existing object's mode"
           " changed from %04o to %04o", what, (unsigned)mode,
           (unsigned)(st.st_mode & 07777));
    EXPECT(n > 0 && strcmp(buf, text) == 0, "%s: the existing object's data"
           " changed: expected \"%s\", got \"%s\"", what, text, buf);
}

/* ---- Children: stores that must fault, other users. ---- */

/* A child's wait status in words. */
static const char *status_text(int st, char *buf, size_t size)
{
    if (st == -1)
        snprintf(buf, size, "fork or waitpid failed");
    else if (WIFSIGNALED(st))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(st),
                 WTERMSIG(st) == SIGSEGV ? "SIGSEGV" :
                 WTERMSIG(st) == SIGBUS ? "SIGBUS" : strsignal(WTERMSIG(st)));
    else if (WIFEXITED(st))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(st));
    else
        snprintf(buf, size, "wait status 0x%x", (unsigned)st);
    return buf;
}

/* In a child about to fault: the default action for the fault signals
 * (sanitizers catch them otherwise) and no core file. */
static void fault_quietly(void)
{
    struct rlimit none = { 0, 0 };

    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    setrlimit(RLIMIT_CORE, &none);
}

/* Child: one store at addr. Exit status 1 means the store went through. */
static int store(void *addr)
{
    fault_quietly();
    *(volatile unsigned char *)addr = 0x77;
    return 1;
}

/* Child: one store at addr that must work. */
static int store_ok(void *addr)
{
    fault_quietly();
    *(volatile unsigned char *)addr = 0x77;
    return OK;
}

/* Fail unless a store at addr, made in a child, kills it with sig. */
static void expect_fault(const char *what, void *addr, int sig)
{
    char buf[80];
    int st = hx_child(store, addr);

    EXPECT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig,
           "%s: expected the child to be killed by %s, got %s%s", what,
           sig == SIGSEGV ? "SIGSEGV" : "SIGBUS",
           status_text(st, buf, sizeof buf),
           st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1
           ? " (the store went through)" : "");
}

/* What a child and its parent share: the object's name, and a MAP_SHARED
 * buffer in which the child explains what went wrong. */
struct report {
    const char *name;                   /* the object the child works on */
    char *msg;                          /* MSG_MAX bytes; "": no complaint */
};

static struct report report_on(const char *name)
{
    char *m = mmap(NULL, MSG_MAX, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(m != MAP_FAILED, "test setup: mmap failed: %s", hx_errname(errno));
    m[0] = '\0';
    return (struct report){ name, m };
}

/* In a child: explain a failure in r. Returns 1, the child's status. */
static int complain(struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int complain(struct report *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->msg, MSG_MAX, fmt, ap);
    va_end(ap);
    return 1;
}

/* In a child: 0 if the call just made failed with errno want; otherwise 1
 * and a complaint. */
static int refused_in_child(struct report *r, const char *what, int failed,
                            int want)
{
    int err = errno;

    if (failed && err == want)
        return 0;
    return complain(r, "%s: expected failure with errno %s, got %s (errno %s)",
                    what, hx_errname(want), failed ? "failure" : "success",
                    hx_errname(err));
}

/* Fail unless the child exited with OK, with its explanation if it gave
 * one. Releases the report either way. */
static void expect_child(const char *what, int st, struct report *r)
{
    char why[MSG_MAX], buf[80];
    int ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == OK;

    snprintf(why, sizeof why, "%s", r->msg[0] ? r->msg
             : st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0
             ? "the child exited 0 before its end (exit() in the code under"
               " test?)" : status_text(st, buf, sizeof buf));
    munmap(r->msg, MSG_MAX);
    EXPECT(ok, "%s: %s", what, why);
}

/* In a child running as root: become nobody for good, checking every
 * call. Supplementary groups and gid first, while we still may; uid last.
 * Returns 0, or -1 with a complaint in r. */
static int become_nobody(struct report *r)
{
    const char *step = setgroups(0, NULL) == -1 ? "setgroups(0, NULL)"
        : setgid(NOBODY) == -1 ? "setgid(65534)"
        : setuid(NOBODY) == -1 ? "setuid(65534)" : NULL;

    if (step != NULL) {
        complain(r, "test setup: %s failed in the child: %s", step,
                 hx_errname(errno));
        return -1;
    }
    if (setuid(0) != -1 || getegid() != NOBODY) {
        complain(r, "test setup: the child could become root again");
        return -1;
    }
    return 0;
}

static int probe_nobody(void *r)
{
    return become_nobody(r) == 0 ? OK : 1;
}

/* Whether this test can switch users; if not, it is skipped, visibly. */
static int can_switch_users(void)
{
    char reason[MSG_MAX + 64];

    if (geteuid() != 0) {
        hx_skip("needs root to switch to another uid");
        return 0;
    }
    struct report r = report_on("");
    int st = hx_child(probe_nobody, &r);
    int ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == OK;
    snprintf(reason, sizeof reason, "root here cannot become uid 65534 (%s)",
             r.msg[0] ? r.msg : "the probe child failed");
    munmap(r.msg, MSG_MAX);
    if (!ok)
        hx_skip(reason);
    return ok;
}

/* ---- Part 1: names ---- */

/* Check shmo_name_check(name): want 0 (accepted) or the errno. */
static void expect_name(const char *name, int want, const char *label)
{
    char what[160];
    int rc;

    if (label == NULL)
        snprintf(what, sizeof what, "shmo_name_check(%s%s%s)",
                 name ? "\"" : "", name ? name : "NULL", name ? "\"" : "");
    else
        snprintf(what, sizeof what, "shmo_name_check(%s)", label);
    errno = 0;
    rc = shmo_name_check(name);
    if (want == 0) {
        EXPECT(rc == 0, "%s: expected 0 (a valid name), got %d (errno %s)",
               what, rc, hx_errname(errno));
        return;
    }
    EXPECT(rc == -1, "%s: expected -1 (errno %s), got %d", what,
           hx_errname(want), rc);
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

TEST(name_valid, 1, "§2")
{
    char name[NAMESZ];

    expect_name("/a", 0, NULL);
    expect_name("/notice", 0, NULL);
    expect_name("/Lab-05_v1.2", 0, NULL);
    expect_name("/...", 0, NULL);
    expect_name("/.hidden", 0, NULL);
    expect_name(hx_shm_name(name, sizeof name, "valid"), 0, NULL);
}

TEST(name_invalid, 2, "§2")
{
    static const char *const bad[] = {
        "", "/", "noslash", "//double", "/a/b", "/trailing/", "/.", "/..",
        "/sp ace", "/tab\there", "/caf\xc3\xa9", "/star*", "/semi;colon",
    };
    char name[NAMESZ];

    expect_name(NULL, EINVAL, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_name(bad[i], EINVAL, NULL);
    expect_name(hx_shm_name(name, sizeof name, "invalid") + 1, EINVAL,
                NULL);
}

TEST(name_too_long, 1, "§2")
{
    char name[NAMESZ];

    expect_name(long_name(name, SHMO_NAME_MAX, 'x'), 0,
                "\"/xxx...\" with 255 characters after the '/'");
    expect_name(long_name(name, SHMO_NAME_MAX + 1, 'x'), ENAMETOOLONG,
                "\"/xxx...\" with 256 characters after the '/'");
    expect_name(long_name(name, 1000, 'y'), ENAMETOOLONG,
                "\"/yyy...\" with 1000 characters after the '/'");
}

/* A call that must fail with errno want: failed says whether it returned
 * -1 or NULL. Set errno to 0 before the call. */
static void expect_refused(const char *what, int failed, int want)
{
    EXPECT(failed, "%s: expected failure (errno %s), the call succeeded",
           what, hx_errname(want));
    EXPECT_ERRNO(what, want);
}

TEST(names_enforced, 2, "§2")
{
    char name[NAMESZ], spaced[NAMESZ + 8], doubled[NAMESZ + 8], big[NAMESZ];
    size_t size;
    int before = hx_fd_count();
    const char *bare = fresh(name, "enforced") + 1;

    snprintf(spaced, sizeof spaced, "%s x", name);
    shm_unlink(spaced);
    snprintf(doubled, sizeof doubled, "/%s", name);
    long_name(big, SHMO_NAME_MAX + 1, 'z');
    errno = 0;
    expect_refused("shmo_create(name without its '/')",
                   shmo_create(bare, hx_page(), 0600) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_create(name with a space)",
                   shmo_create(spaced, hx_page(), 0600) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_publish(name starting with \"//\")",
                   shmo_publish(doubled, "x", 2, 0600) == NULL, EINVAL);
    errno = 0;
    expect_refused("shmo_create(256 characters after the '/')",
                   shmo_create(big, hx_page(), 0600) == -1, ENAMETOOLONG);
    expect_gone("after the refused creations", name);
    int fd = make_object(name, hx_page(), 0600, THEIRS);
    errno = 0;
    expect_refused("shmo_open(name without its '/')",
                   shmo_open(bare, O_RDONLY) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_attach(name starting with \"//\")",
                   shmo_attach(doubled, &size) == NULL, EINVAL);
    errno = 0;
    expect_refused("shmo_unlink(name without its '/')",
                   shmo_unlink(bare) == -1, EINVAL);
    EXPECT_INT("the object after shmo_unlink of a bad name: still there",
               exists(name), 1);
    close(fd);
    discard(name);
    EXPECT_INT("open descriptors after the refused calls", hx_fd_count(),
               before);
}

/* ---- Part 2: creating without taking over ---- */

TEST(create_new, 2, "§3")
{
    char name[NAMESZ];
    int before = hx_fd_count();
    size_t want = 3 * hx_page() + 5;
    int fd = shmo_create(fresh(name, "new"), want, 0600);

    EXPECT(fd >= 0, "shmo_create(%s, 3 pages + 5, 0600): expected a "
           "descriptor, got %d (errno %s)", name, fd, hx_errname(errno));
    EXPECT_INT("open descriptors after shmo_create (the one it returns)",
               hx_fd_count(), before + 1);
    EXPECT_INT("access mode of the descriptor shmo_create returns (O_RDWR)",
               fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_INT("the new object in /dev/shm", exists(name), 1);
    struct stat st = stat_of(fd);
    EXPECT_INT("owner (uid) of the new object", st.st_uid, geteuid());
    EXPECT_INT("size of the new object (ftruncate it to size)", st.st_size,
               want);
    close(fd);
    discard(name);
}

TEST(create_exclusive, 3, "§3")
{
    char name[NAMESZ];
    int theirs = make_object(fresh(name, "excl"), hx_page(), 0600, THEIRS);
    int before = hx_fd_count();

    errno = 0;
    int fd = shmo_create(name, 3 * hx_page(), 0666);
    EXPECT(fd == -1, "shmo_create of an existing name: expected -1 (EEXIST),"
           " got descriptor %d: you opened someone else's object (O_EXCL)",
           fd);
    EXPECT_ERRNO("shmo_create of an existing name", EEXIST);
    expect_intact("after shmo_create of its name", name, hx_page(), 0600,
                  THEIRS);
    EXPECT_INT("open descriptors after the failed shmo_create",
               hx_fd_count(), before);
    close(theirs);
    discard(name);
}

TEST(create_bad_args, 1, "§3")
{
    static const struct {
        size_t size;
        mode_t mode;
        const char *what;
    } bad[] = {
        { 0, 0600, "shmo_create(name, 0, 0600)" },
        { SIZE_MAX, 0600, "shmo_create(name, SIZE_MAX, 0600)" },
        { SHMO_SIZE_MAX + 1, 0600,
          "shmo_create(name, SHMO_SIZE_MAX + 1, 0600)" },
        { 4096, 01777, "shmo_create(name, 4096, 01777)" },
        { 4096, 04600, "shmo_create(name, 4096, 04600)" },
        { 4096, 0100600, "shmo_create(name, 4096, 0100600)" },
    };
    char name[NAMESZ];
    int before = hx_fd_count();

    fresh(name, "badargs");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        int fd = shmo_create(name, bad[i].size, bad[i].mode);
        if (fd >= 0)
            discard(name);
        EXPECT(fd == -1, "%s: expected -1 (EINVAL), got descriptor %d",
               bad[i].what, fd);
        EXPECT_ERRNO(bad[i].what, EINVAL);
    }
    expect_gone("after the refused shmo_create calls", name);
    EXPECT_INT("open descriptors after the refused calls", hx_fd_count(),
               before);
}

/* Child: files may not grow past one page, so ftruncate fails (EFBIG)
 * after the object was created. */
static int create_over_limit(void *arg)
{
    struct report *r = arg;
    struct rlimit small = { hx_page(), hx_page() };
    int before = hx_fd_count(), fd, n;

    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
        setrlimit(RLIMIT_FSIZE, &small) == -1)
        return complain(r, "test setup: signal or setrlimit failed: %s",
                        hx_errname(errno));
    errno = 0;
    fd = shmo_create(r->name, 4 * hx_page(), 0600);
    if (fd != -1)
        return complain(r, "expected -1 (ftruncate cannot work here), got "
                        "descriptor %d", fd);
    if (errno != EFBIG)
        return complain(r, "expected errno EFBIG (ftruncate's), got %s",
                        hx_errname(errno));
    if (exists(r->name) != 0)
        return complain(r, "the object stayed in /dev/shm: unlink the object"
                        " you created when a later step fails");
    if ((n = hx_fd_count()) != before)
        return complain(r, "open descriptors: expected %d, got %d (close the"
                        " descriptor when a later step fails)", before, n);
    return OK;
}

TEST(create_cleanup, 2, "§3")
{
    char name[NAMESZ];
    struct report r = report_on(fresh(name, "cleanup"));
    int st = hx_child(create_over_limit, &r);

    discard(name);
    expect_child("shmo_create(name, 4 pages, 0600) in a process whose files"
                 " may not grow past one page", st, &r);
}

/* ---- Part 3: exact permissions ---- */

/* Under umask mask, shmo_create(name, page, mode) must give mode exactly. */
static void expect_exact(const char *tag, mode_t mode, mode_t mask)
{
    char name[NAMESZ], what[128];
    int fd = shmo_create(fresh(name, tag), hx_page(), mode);

    snprintf(what, sizeof what, "shmo_create(name, page, %04o) under umask"
             " %03o", (unsigned)mode, (unsigned)mask);
    EXPECT(fd >= 0, "%s: expected a descriptor, got -1 (errno %s)", what,
           hx_errname(errno));
    expect_mode(what, fd, mode, mask);
    close(fd);
    discard(name);
}

/* Set the umask to mask, create with each mode, check the umask is back. */
static void expect_modes(mode_t mask, const mode_t *modes, size_t n)
{
    mode_t old = umask(mask);

    for (size_t i = 0; i < n; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "mode%zu", i);
        expect_exact(tag, modes[i], mask);
    }
    mode_t now = umask(old);
    EXPECT(now == mask, "the umask after shmo_create: expected %03o (it must"
           " not change), got %03o", (unsigned)mask, (unsigned)now);
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
    char name[NAMESZ];
    size_t pg = hx_page(), want = pg + 100;
    int fd = shmo_create(fresh(name, "sigbus"), want, 0600);

    EXPECT(fd >= 0, "shmo_create(name, page + 100, 0600): expected a "
           "descriptor, got -1 (errno %s)", hx_errname(errno));
    EXPECT_INT("size of the object (exactly size, not rounded to pages)",
               stat_of(fd).st_size, want);
    /* Three pages of mapping over an object of one page and 100 bytes. */
    unsigned char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED,
                            fd, 0);
    EXPECT(p != MAP_FAILED, "test setup: mmap failed: %s", hx_errname(errno));
    char buf[80];
    int st = hx_child(store_ok, p + 2 * pg - 1);
    EXPECT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == OK, "a store into"
           " the last byte of the object's last page (past its end, same"
           " page): expected it to work, got %s",
           status_text(st, buf, sizeof buf));
    expect_fault("a store one page past the object's end", p + 2 * pg,
                 SIGBUS);
    EXPECT_INT("size of the object after the stores (unchanged)",
               stat_of(fd).st_size, want);
    munmap(p, 3 * pg);
    close(fd);
    discard(name);
}

TEST(map_empty, 1, "§5")
{
    char name[NAMESZ];
    size_t size = 12345;
    int fd = shm_open(fresh(name, "empty"), O_RDWR | O_CREAT | O_EXCL, 0600);

    EXPECT(fd != -1, "test setup: shm_open failed: %s", hx_errname(errno));
    errno = 0;
    void *p = shmo_map(fd, PROT_READ | PROT_WRITE, &size);
    if (p != NULL)
        munmap(p, size);
    EXPECT_NULL("shmo_map of an object of size 0 (not sized yet)", p);
    EXPECT_ERRNO("shmo_map of an object of size 0", ENODATA);
    close(fd);
    discard(name);
}

/* ---- Part 5: opening and mapping ---- */

/* Fail unless shmo_open(name, flags) gives a descriptor opened so. */
static void expect_open(const char *name, int flags, const char *what)
{
    int fd = shmo_open(name, flags);

    EXPECT(fd >= 0, "%s: expected a descriptor, got -1 (errno %s)", what,
           hx_errname(errno));
    int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
    close(fd);
    EXPECT(mode == flags, "%s: expected a descriptor opened %s, got one "
           "opened %s", what, flags == O_RDONLY ? "O_RDONLY" : "O_RDWR",
           mode == O_RDONLY ? "O_RDONLY" : mode == O_RDWR ? "O_RDWR"
           : "O_WRONLY");
}

TEST(open_modes, 2, "§6")
{
    char name[NAMESZ];
    int fd = make_object(fresh(name, "open"), hx_page(), 0600, THEIRS);
    int before = hx_fd_count();

    expect_open(name, O_RDONLY, "shmo_open(name, O_RDONLY)");
    expect_open(name, O_RDWR, "shmo_open(name, O_RDWR)");
    EXPECT_INT("open descriptors after closing shmo_open's", hx_fd_count(),
               before);
    close(fd);
    expect_intact("after shmo_open", name, hx_page(), 0600, THEIRS);
    discard(name);
}

TEST(open_never_creates, 1, "§6")
{
    char name[NAMESZ], missing[NAMESZ];
    int fd = make_object(fresh(name, "nocreate"), hx_page(), 0600, THEIRS);
    int before = hx_fd_count();

    fresh(missing, "missing");
    errno = 0;
    expect_refused("shmo_open(missing name, O_RDWR)",
                   shmo_open(missing, O_RDWR) == -1, ENOENT);
    errno = 0;
    expect_refused("shmo_open(missing name, O_RDWR | O_CREAT)",
                   shmo_open(missing, O_RDWR | O_CREAT) == -1, EINVAL);
    EXPECT_INT("object of the missing name after shmo_open (never create)",
               exists(missing), 0);
    errno = 0;
    expect_refused("shmo_open(name, O_WRONLY)",
                   shmo_open(name, O_WRONLY) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_open(name, O_RDWR | O_TRUNC)",
                   shmo_open(name, O_RDWR | O_TRUNC) == -1, EINVAL);
    EXPECT_INT("open descriptors after the refused calls", hx_fd_count(),
               before);
    close(fd);
    discard(missing);
    expect_intact("after shmo_open(name, O_RDWR | O_TRUNC)", name, hx_page(),
                  0600, THEIRS);
    discard(name);
}

TEST(map_shared, 2, "§6")
{
    char name[NAMESZ], perms[5] = "", c = 0;
    size_t size = 12345, want = 2 * hx_page();
    int fd = make_object(fresh(name, "shared"), want, 0600, THEIRS);

    unsigned char *p = shmo_map(fd, PROT_READ | PROT_WRITE, &size);
    EXPECT_PTR("shmo_map(fd, PROT_READ | PROT_WRITE, &size)", p);
    EXPECT_SIZE("the size shmo_map stores (the object's)", size, want);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "rw-s") == 0, "the "
           "mapping in /proc/self/maps: expected rw-s, got %s", perms);
    EXPECT(memcmp(p, THEIRS, sizeof THEIRS) == 0, "the mapping's first bytes:"
           " expected the object's data \"%s\"", THEIRS);
    p[want - 1] = 'Z';
    EXPECT(pread(fd, &c, 1, (off_t)want - 1) == 1 && c == 'Z', "a store"
           " through the mapping did not reach the object (MAP_SHARED?)");
    EXPECT(fcntl(fd, F_GETFD) != -1, "shmo_map closed the caller's "
           "descriptor");
    munmap(p, want);
    close(fd);
    discard(name);
}

TEST(map_read_only, 2, "§6")
{
    char name[NAMESZ], perms[5] = "";
    size_t size = 12345, want = hx_page() + 100;
    int fd = make_object(fresh(name, "mapro"), want, 0600, THEIRS);
    int ro = shm_open(name, O_RDONLY, 0);

    EXPECT(ro != -1, "test setup: shm_open failed: %s", hx_errname(errno));
    unsigned char *p = shmo_map(ro, PROT_READ, &size);
    EXPECT_PTR("shmo_map(read-only fd, PROT_READ, &size)", p);
    EXPECT_SIZE("the size shmo_map stores (the object's)", size, want);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "r--s") == 0, "the "
           "mapping in /proc/self/maps: expected r--s, got %s", perms);
    EXPECT(memcmp(p, THEIRS, sizeof THEIRS) == 0, "the mapping's first bytes:"
           " expected the object's data \"%s\"", THEIRS);
    expect_fault("a store into a PROT_READ mapping", p + 10, SIGSEGV);
    munmap(p, want);
    close(ro);
    close(fd);
    discard(name);
}

TEST(map_rdonly_fd, 2, "§6")
{
    char name[NAMESZ];
    size_t size = 0;
    int fd = make_object(fresh(name, "rdonlyfd"), hx_page(), 0600, THEIRS);
    int ro = shm_open(name, O_RDONLY, 0);

    EXPECT(ro != -1, "test setup: shm_open failed: %s", hx_errname(errno));
    errno = 0;
    void *p = shmo_map(ro, PROT_READ | PROT_WRITE, &size);
    if (p != NULL)
        munmap(p, size);
    EXPECT_NULL("shmo_map(read-only fd, PROT_READ | PROT_WRITE, &size)", p);
    EXPECT_ERRNO("shmo_map(read-only fd, PROT_READ | PROT_WRITE), mmap's",
                 EACCES);
    EXPECT(fcntl(ro, F_GETFD) != -1, "shmo_map closed the caller's "
           "descriptor");
    close(ro);
    close(fd);
    discard(name);
}

TEST(map_errors, 1, "§6")
{
    static const struct { int prot; const char *what; } bad[] = {
        { PROT_NONE, "shmo_map(fd, PROT_NONE, &size)" },
        { PROT_WRITE, "shmo_map(fd, PROT_WRITE, &size)" },
        { PROT_READ | PROT_EXEC,
          "shmo_map(fd, PROT_READ | PROT_EXEC, &size)" },
    };
    char name[NAMESZ];
    size_t size = 0;
    int fd = make_object(fresh(name, "maperr"), hx_page(), 0600, THEIRS);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        expect_refused(bad[i].what, shmo_map(fd, bad[i].prot, &size) == NULL,
                       EINVAL);
    }
    errno = 0;
    expect_refused("shmo_map(fd, PROT_READ, NULL)",
                   shmo_map(fd, PROT_READ, NULL) == NULL, EINVAL);
    errno = 0;
    expect_refused("shmo_map(-1, PROT_READ, &size), fstat's",
                   shmo_map(-1, PROT_READ, &size) == NULL, EBADF);
    close(fd);
    discard(name);
}

TEST(attach_errors, 1, "§6")
{
    char name[NAMESZ], missing[NAMESZ];
    size_t size = 0;
    int fd = shm_open(fresh(name, "attacherr"), O_RDWR | O_CREAT | O_EXCL,
                      0600);
    int before = hx_fd_count();

    EXPECT(fd != -1, "test setup: shm_open failed: %s", hx_errname(errno));
    errno = 0;
    expect_refused("shmo_attach(name, NULL)",
                   shmo_attach(name, NULL) == NULL, EINVAL);
    errno = 0;
    expect_refused("shmo_attach(missing name, &size)",
                   shmo_attach(fresh(missing, "gone"), &size) == NULL,
                   ENOENT);
    errno = 0;
    expect_refused("shmo_attach of an object of size 0",
                   shmo_attach(name, &size) == NULL, ENODATA);
    EXPECT_INT("open descriptors after the failed calls (close on the error"
               " path)", hx_fd_count(), before);
    close(fd);
    discard(name);
}

/* Child, as nobody: every way into a 0600 object of root's is refused. */
static int private_as_nobody(void *arg)
{
    struct report *r = arg;
    size_t size;

    if (become_nobody(r) == -1)
        return 1;
    errno = 0;
    if (refused_in_child(r, "shmo_open(name, O_RDONLY) as nobody",
                         shmo_open(r->name, O_RDONLY) == -1, EACCES))
        return 1;
    errno = 0;
    if (refused_in_child(r, "shmo_open(name, O_RDWR) as nobody",
                         shmo_open(r->name, O_RDWR) == -1, EACCES))
        return 1;
    errno = 0;
    if (refused_in_child(r, "shmo_attach(name, &size) as nobody",
                         shmo_attach(r->name, &size) == NULL, EACCES))
        return 1;
    return OK;
}

TEST(uid_private, 3, "§6")
{
    char name[NAMESZ];

    if (!can_switch_users())
        return;
    mode_t old = umask(022);
    int fd = shmo_create(fresh(name, "private"), hx_page(), 0600);
    umask(old);
    EXPECT(fd >= 0, "shmo_create(name, page, 0600): expected a descriptor, "
           "got -1 (errno %s)", hx_errname(errno));
    struct report r = report_on(name);
    int st = hx_child(private_as_nobody, &r);
    close(fd);
    discard(name);
    expect_child("a mode 0600 object of root's, used by uid 65534", st, &r);
}

/* Child, as nobody: a 0644 object of root's can be read, nothing more. */
static int public_as_nobody(void *arg)
{
    struct report *r = arg;
    size_t size = 0;

    if (become_nobody(r) == -1)
        return 1;
    const char *p = shmo_attach(r->name, &size);
    if (p == NULL)
        return complain(r, "shmo_attach(name, &size) as nobody: expected the"
                        " data, got NULL (errno %s); a 0644 object opened"
                        " O_RDONLY is readable by all", hx_errname(errno));
    if (size != hx_page() || strcmp(p, NOTICE) != 0)
        return complain(r, "shmo_attach as nobody: expected %zu bytes "
                        "starting \"%s\", got %zu bytes starting \"%.60s\"",
                        hx_page(), NOTICE, size, p);
    errno = 0;
    if (refused_in_child(r, "shmo_open(name, O_RDWR) as nobody",
                         shmo_open(r->name, O_RDWR) == -1, EACCES))
        return 1;
    errno = 0;
    if (refused_in_child(r, "shmo_unlink(name) as nobody",
                         shmo_unlink(r->name) == -1, EACCES))
        return 1;
    return OK;
}

TEST(uid_public, 3, "§6")
{
    char name[NAMESZ];

    if (!can_switch_users())
        return;
    mode_t old = umask(077);
    int fd = shmo_create(fresh(name, "public"), hx_page(), 0644);
    umask(old);
    EXPECT(fd >= 0, "shmo_create(name, page, 0644): expected a descriptor, "
           "got -1 (errno %s)", hx_errname(errno));
    EXPECT(pwrite(fd, NOTICE, sizeof NOTICE, 0) == (ssize_t)sizeof NOTICE,
           "test setup: pwrite failed: %s", hx_errname(errno));
    struct report r = report_on(name);
    int st = hx_child(public_as_nobody, &r);
    close(fd);
    int still = exists(name);
    discard(name);
    expect_child("a mode 0644 object of root's, used by uid 65534", st, &r);
    EXPECT_INT("the object after nobody's shmo_unlink: still there", still, 1);
}

/* ---- Part 6: sealing ---- */

TEST(seal_read_only, 2, "§7")
{
    char name[NAMESZ], perms[5] = "";
    size_t pg = hx_page(), size = pg + 100;
    int fd = make_object(fresh(name, "seal"), size, 0600, NULL);
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                            fd, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed: %s", hx_errname(errno));
    memcpy(p, NOTICE, sizeof NOTICE);
    p[pg + 50] = 'Q';
    EXPECT_INT("shmo_seal(p, page + 100)", shmo_seal(p, size), 0);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "r--s") == 0, "the "
           "first page after shmo_seal: expected r--s, got %s", perms);
    EXPECT(hx_mapped(p + pg, perms) == 1 && strcmp(perms, "r--s") == 0, "the"
           " second page after shmo_seal: expected r--s, got %s", perms);
    EXPECT(memcmp(p, NOTICE, sizeof NOTICE) == 0 && p[pg + 50] == 'Q',
           "the data after shmo_seal: changed or unreadable");
    expect_fault("a store into the first sealed page", p, SIGSEGV);
    expect_fault("a store into the second sealed page", p + pg + 50, SIGSEGV);
    munmap(p, size);
    close(fd);
    discard(name);
}

TEST(seal_errors, 1, "§7")
{
    char perms[5] = "";
    size_t pg = hx_page();
    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed: %s", hx_errname(errno));
    errno = 0;
    expect_refused("shmo_seal(NULL, page)", shmo_seal(NULL, pg) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_seal(p, 0)", shmo_seal(p, 0) == -1, EINVAL);
    errno = 0;
    expect_refused("shmo_seal(p + 1, page), mprotect's",
                   shmo_seal(p + 1, pg) == -1, EINVAL);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "rw-s") == 0, "the page"
           " after the failed shmo_seal calls: expected rw-s, got %s", perms);
    munmap(p, pg);
}

TEST(publish_attach, 3, "§7")
{
    char name[NAMESZ], perms[5] = "";
    size_t size = 0;
    int before = hx_fd_count();
    mode_t old = umask(077);
    char *p = shmo_publish(fresh(name, "publish"), NOTICE, sizeof NOTICE,
                           0644);

    umask(old);
    EXPECT_PTR("shmo_publish(name, NOTICE, sizeof NOTICE, 0644)", p);
    EXPECT_INT("open descriptors after shmo_publish (close it)",
               hx_fd_count(), before);
    EXPECT_STR("the published data", p, NOTICE);
    EXPECT(hx_mapped(p, perms) == 1 && strcmp(perms, "r--s") == 0, "the "
           "mapping shmo_publish returns: expected r--s (sealed), got %s",
           perms);
    int fd = shm_open(name, O_RDONLY, 0);
    EXPECT(fd != -1, "the published object: shm_open failed: %s",
           hx_errname(errno));
    expect_mode("the object shmo_publish(..., 0644) made under umask 077", fd,
                0644, 077);
    EXPECT_INT("size of the published object", stat_of(fd).st_size,
               sizeof NOTICE);
    close(fd);
    const char *q = shmo_attach(name, &size);
    EXPECT_PTR("shmo_attach(name, &size)", q);
    EXPECT_SIZE("the size shmo_attach stores", size, sizeof NOTICE);
    EXPECT_STR("the data shmo_attach maps", q, NOTICE);
    EXPECT(hx_mapped(q, perms) == 1 && strcmp(perms, "r--s") == 0, "the "
           "mapping shmo_attach returns: expected r--s, got %s", perms);
    EXPECT_INT("open descriptors after shmo_attach (close it)",
               hx_fd_count(), before);
    munmap((void *)q, size);
    munmap(p, sizeof NOTICE);
    discard(name);
}

TEST(publish_sealed, 2, "§7")
{
    char name[NAMESZ];
    char *p = shmo_publish(fresh(name, "sealed"), NOTICE, sizeof NOTICE,
                           0600);

    EXPECT_PTR("shmo_publish(name, NOTICE, sizeof NOTICE, 0600)", p);
    expect_fault("a store into the mapping shmo_publish returns", p + 1,
                 SIGSEGV);
    EXPECT_STR("the published data after the store", p, NOTICE);
    munmap(p, sizeof NOTICE);
    discard(name);
}

TEST(publish_failure, 2, "§7")
{
    char name[NAMESZ], other[NAMESZ];
    int theirs = make_object(fresh(name, "pubfail"), hx_page(), 0600, THEIRS);
    int before = hx_fd_count();

    errno = 0;
    expect_refused("shmo_publish over an existing name",
                   shmo_publish(name, NOTICE, sizeof NOTICE, 0644) == NULL,
                   EEXIST);
    expect_intact("after shmo_publish of its name", name, hx_page(), 0600,
                  THEIRS);
    fresh(other, "pubnull");
    errno = 0;
    expect_refused("shmo_publish(name, NULL, 10, 0600)",
                   shmo_publish(other, NULL, 10, 0600) == NULL, EINVAL);
    errno = 0;
    expect_refused("shmo_publish(name, data, 0, 0600)",
                   shmo_publish(other, NOTICE, 0, 0600) == NULL, EINVAL);
    expect_gone("after the refused shmo_publish calls", other);
    EXPECT_INT("open descriptors after the failed calls", hx_fd_count(),
               before);
    close(theirs);
    discard(name);
}

/* ---- Part 7: cleaning up ---- */

TEST(unlink_removes, 3, "§8")
{
    char name[NAMESZ];
    int fd = make_object(fresh(name, "unlink"), hx_page(), 0600, THEIRS);
    char *p = mmap(NULL, hx_page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    EXPECT(p != MAP_FAILED, "test setup: mmap failed: %s", hx_errname(errno));
    close(fd);
    EXPECT_INT("shmo_unlink(name)", shmo_unlink(name), 0);
    EXPECT_INT("the object in /dev/shm after shmo_unlink", exists(name), 0);
    EXPECT_STR("an existing mapping after shmo_unlink (still valid)", p,
               THEIRS);
    p[0] = 's';                         /* still writable, too */
    EXPECT_FAIL("shm_open of the name after shmo_unlink",
                shm_open(name, O_RDONLY, 0), ENOENT);
    EXPECT_FAIL("shmo_unlink(name) a second time", shmo_unlink(name), ENOENT);
    munmap(p, hx_page());
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
        &publish_failure } },
    { "7. Cleaning up", { &unlink_removes } },
    { NULL, { NULL } },
};
