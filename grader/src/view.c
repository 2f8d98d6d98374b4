/* view.c - the file system a run of submitted code sees (run.h).
 *
 * In the child, still real root and before it drops to the sandbox uid: a
 * private mount namespace whose root is a fresh tmpfs holding only
 *   /usr /etc (and /bin /lib ... as the host has them)   read-only
 *   /dev/{null,zero,full,random,urandom}, /dev/shm, /tmp, /proc
 *   the binds the caller names (BIND.to <- BIND.from)      read-only or rw
 * then pivot_root into it and detach the old root: nothing else of the host
 * (the checkout, other submissions, /root, /home, the host's /tmp) can be
 * named. Because real root makes the binds, the sandbox uid needs no right
 * to the directories above them: a checkout in /root (mode 0700) works.
 */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* mkdir -p of a path relative to the current directory. Returns 0 or -1. */
static int mkdirs(const char *rel)
{
    char buf[PATH_MAX];

    if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) == -1 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

/* The mount flags a remount of `path` must keep (a container may have
 * locked them). */
static unsigned long kept_flags(const char *path)
{
    static const struct { unsigned long st, ms; } map[] = {
        { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
        { ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
        { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME } };
    struct statvfs s;
    unsigned long f = 0;

    if (statvfs(path, &s) == -1)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (s.f_flag & map[i].st)
            f |= map[i].ms;
    return f;
}

/* Bind host path `from` onto `to` (relative, made here: a directory, or an
 * empty file if from is not a directory). Returns 0, or -1 with errno set. */
static int bind(const char *from, const char *to, int rw)
{
    struct stat st;
    int fd;

    if (stat(from, &st) == -1)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        if (mkdirs(to) == -1)
            return -1;
    } else {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", to);
        char *slash = strrchr(dir, '/');
        if (slash != NULL && (*slash = '\0', mkdirs(dir) == -1))
            return -1;
        if ((fd = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
            return -1;
        close(fd);
    }
    if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) == -1)
        return -1;
    if (rw || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
        return 0;                       /* devices stay as they are */
    return mount(NULL, to, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                 kept_flags(to), NULL);
}

/* The host's system directories, read-only; merged-/usr links as links. */
static int system_dirs(void)
{
    static const char *dirs[] = { "usr", "etc", "bin", "sbin", "lib", "lib32",
                                  "lib64", "libx32" };
    char host[64], target[PATH_MAX];
    struct stat st;

    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(host, sizeof host, "/%s", dirs[i]);
        if (lstat(host, &st) == -1)
            continue;                   /* this system has none */
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(host, target, sizeof target - 1);
            if (n == -1)
                return -1;
            target[n] = '\0';
            if (symlink(target, dirs[i]) == -1)
                return -1;
        } else if (bind(host, dirs[i], 0) == -1) {
            return -1;
        }
    }
    return 0;
}

/* A directory for the run's own `name` (tmp, shm): under scratch, a host
 * directory in the grading's size-limited tmpfs (view_disk), or else a
 * tmpfs of its own of `size`. Returns 0, or -1 with errno set. */
static int scratch_dir(const char *scratch, const char *name, const char *to,
                       const char *size)
{
    char from[PATH_MAX], opt[64];

    if (mkdirs(to) == -1)
        return -1;
    if (scratch == NULL) {
        snprintf(opt, sizeof opt, "size=%s,mode=1777", size);
        return mount("tmpfs", to, "tmpfs", MS_NOSUID | MS_NODEV, opt);
    }
    snprintf(from, sizeof from, "%s/%s", scratch, name);
    if (mkdir(from, 01777) == -1 || chmod(from, 01777) == -1)
        return -1;
    return mount(from, to, NULL, MS_BIND, NULL) == -1 ? -1 :
           mount(NULL, to, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV |
                 kept_flags(to), NULL);
}

/* /dev with the few devices code needs, a private /dev/shm and /tmp, and
 * /proc. Returns 0, or -1 with errno set. */
static int special_dirs(const char *scratch)
{
    static const char *dev[] = { "null", "zero", "full", "random", "urandom" };
    static const char *fd[][2] = { { "/proc/self/fd", "dev/fd" },
        { "/proc/self/fd/0", "dev/stdin" }, { "/proc/self/fd/1", "dev/stdout" },
        { "/proc/self/fd/2", "dev/stderr" } };
    char host[64], to[64];

    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
        snprintf(host, sizeof host, "/dev/%s", dev[i]);
        snprintf(to, sizeof to, "dev/%s", dev[i]);
        if (bind(host, to, 1) == -1)
            return -1;
    }
    for (size_t i = 0; i < sizeof fd / sizeof fd[0]; i++)
        if (symlink(fd[i][0], fd[i][1]) == -1)
            return -1;
    if (scratch_dir(scratch, "shm", "dev/shm", "512m") == -1 ||
        scratch_dir(scratch, "tmp", "tmp", "256m") == -1 || mkdirs("proc") == -1)
        return -1;
    /* The caller is init of a new PID namespace (run.c): this /proc shows
     * its processes only, and of those (hidepid=2) only the sandbox uid's,
     * not the grader's init whose command line names host paths. */
    return mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "hidepid=2");
}

int view_make(const char *dir, const struct bind *b, const char *scratch)
{
    if (unshare(CLONE_NEWNS) == -1 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
        mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == -1 ||
        chdir(dir) == -1 || system_dirs() == -1 || special_dirs(scratch) == -1)
        return -1;
    for (; b != NULL && b->from != NULL; b++) {
        if (b->from[0] != '/' || b->to[0] != '/') {
            errno = EINVAL;             /* relative: to what? */
            return -1;
        }
        if (bind(b->from, b->to + 1, b->rw) == -1)
            return -1;
    }
    /* pivot_root(".", "."): the old root ends up on top of the new one,
     * where it is detached. */
    if (syscall(SYS_pivot_root, ".", ".") == -1 || umount2(".", MNT_DETACH) == -1 ||
        chdir("/") == -1)
        return -1;
    return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

int view_works(const char *dir)
{
    pid_t pid;
    int status;

    if (geteuid() != 0)
        return 0;
    /* As run.c makes it: init of a new PID namespace. */
    pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == -1)
        return 0;
    if (pid == 0) {
        static const struct bind none[] = { { NULL, NULL, 0 } };
        _exit(view_make(dir, none, NULL) == 0 ? 0 : 1);
    }
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

int view_disk(const char *dir, long mib)
{
    char opt[64];

    snprintf(opt, sizeof opt, "size=%ldm,mode=0755", mib);
    if (unshare(CLONE_NEWNS) == -1 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        return -1;
    return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opt);
}

/* nftw callback of view_clean: remove one entry, children first. */
static int clean_one(const char *path, const struct stat *st, int type,
                     struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) == -1 && errno != ENOENT
           ? -1 : 0;
}

int view_clean(const char *scratch)
{
    if (nftw(scratch, clean_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
        errno != ENOENT)
        return -1;
    return 0;
}
