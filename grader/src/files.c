/* files.c - small file helpers: read, excerpt, safe copy, mkdir -p, rm -rf. */
#define _GNU_SOURCE
#include "grade.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Remove every occurrence of what from s, in place. Returns s. */
char *str_cut(char *s, const char *what)
{
    size_t n = strlen(what);
    char *hit;

    if (s == NULL || n == 0)
        return s;
    for (char *from = s; (hit = strstr(from, what)) != NULL; from = hit)
        memmove(hit, hit + n, strlen(hit + n) + 1);
    return s;
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        s = NULL;
    va_end(ap);
    return s;
}

/* Read at most max bytes of the regular file path (not a link, a FIFO or a
 * device: a run of submitted code may have left one where a result should
 * be) into a '\0'-terminated malloc'd buffer. Returns it (and its length in
 * *len if len is not NULL), or NULL with errno set. */
char *file_read(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    char *buf = NULL;
    struct stat st;
    size_t n = 0;
    int err = 0;

    if (fd == -1)
        return NULL;
    if (fstat(fd, &st) == -1) {
        err = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err = EINVAL;
        goto out;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        err = errno;
        goto out;
    }
    while (n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            err = errno;
            free(buf);
            buf = NULL;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
out:
    close(fd);
    if (err)
        errno = err;
    return buf;
}

/* The first max_lines lines (at most max_bytes) of a text file, with
 * non-printing bytes replaced by '?', and a note if it was cut. Returns a
 * malloc'd string ("" if the file is missing) or NULL. */
char *file_excerpt(const char *path, size_t max_bytes, int max_lines)
{
    size_t len = 0, total;
    char *buf = file_read(path, max_bytes, &len), *s;
    struct stat st;
    int lines = 0;

    if (buf == NULL)
        return strdup("");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n' && ++lines == max_lines) {
            buf[i + 1] = '\0';
            break;
        }
        if ((c < 32 && c != '\n' && c != '\t') || c == 127)
            buf[i] = '?';
    }
    total = lstat(path, &st) == 0 ? (size_t)st.st_size : len;
    if (strlen(buf) < total) {
        s = str_printf("%s[... %zu more bytes in %s]\n", buf,
                       total - strlen(buf), path);
        free(buf);
        return s;
    }
    return buf;
}

/* Copy the regular file `name` in directory dirfd (not a link, at most max
 * bytes) to `to`. Returns 0; -1 with errno set if the source will not do
 * (ELOOP for a link, EFBIG if too big, EINVAL if not a regular file);
 * -2 with errno set if `to` could not be written (our fault, not its). */
int file_copy_at(int dirfd, const char *name, const char *to, size_t max)
{
    int in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1;
    int rc = -1, err = 0;
    struct stat st;
    char buf[8192];

    if (in == -1)
        return -1;
    if (fstat(in, &st) == -1) {
        err = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        err = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto out;
    }
    rc = -2;                            /* from here on, failures are ours */
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out == -1) {
        err = errno;
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf), w = 0;
        if (n == 0)
            break;
        if (n == -1 || (w = write(out, buf, (size_t)n)) != n) {
            err = n == -1 || w == -1 ? errno : EIO;
            rc = n == -1 ? -1 : -2;
            goto out;
        }
    }
    rc = 0;
out:
    close(in);
    if (out != -1 && close(out) == -1 && rc == 0) {
        err = errno;
        rc = -2;
    }
    if (rc != 0)
        errno = err;
    return rc;
}

/* Open directory path without following a link at any component (a
 * submission's path must not lead elsewhere). Returns a descriptor, or -1
 * with errno set (ELOOP where a component is a link). */
int dir_open(const char *path)
{
    char buf[4096], *save = NULL;
    int fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        if (fd != -1)
            close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = strtok_r(buf, "/", &save); c && fd != -1; c = strtok_r(NULL, "/", &save)) {
        int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        struct stat st;
        if (next == -1 && fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            err = ELOOP;                /* say "link", not "not a directory" */
        close(fd);
        fd = next;
        errno = err;
    }
    return fd;
}

/* mkdir -p. Returns 0, or -1 with errno set. */
int dir_make(const char *path)
{
    char buf[4096];

    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) == -1 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* rm -rf, never following links. Returns 0, or -1 with errno set. */
int dir_remove(const char *path)
{
    int rc = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc == -1 && errno == ENOENT ? 0 : rc;
}

static uid_t chown_to;

static int chown_one(const char *path, const struct stat *st, int flag,
                     struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, chown_to, (gid_t)chown_to);
}

/* chown -R path to uid:uid (gid = uid), never following links. Returns 0,
 * or -1 with errno set. */
int dir_chown(const char *path, unsigned uid)
{
    chown_to = (uid_t)uid;
    return nftw(path, chown_one, 16, FTW_PHYS);
}
