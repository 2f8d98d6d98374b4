/* probe.c - what the tests look at besides return values: descriptors,
 * mappings, child processes, programs' output, errno names.
 */
#define _GNU_SOURCE
#include "hx.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

const char *hx_errname(int err)
{
    static char buf[2][32];
    static int k;
    const char *name = strerrorname_np(err);

    if (name != NULL)
        return name;
    k = !k;
    snprintf(buf[k], sizeof buf[k], "errno %d", err);
    return buf[k];
}

size_t hx_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

int hx_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;                       /* the directory's own descriptor */
}

int hx_mapped(const void *addr, char perms[5])
{
    uintptr_t a = (uintptr_t)addr;
    unsigned long lo, hi;
    char p[5], line[512];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    if (f == NULL)
        return -1;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
            found = 1;
            if (perms != NULL)
                memcpy(perms, p, 5);
        }
    }
    fclose(f);
    return found;
}

int hx_reap(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            return -1;
    return status;
}

pid_t hx_start(int (*fn)(void *), void *arg)
{
    pid_t pid;

    fflush(NULL);                       /* or the child repeats our output */
    pid = fork();
    if (pid == 0)
        _exit(fn(arg) & 0xff);
    return pid;
}

int hx_child(int (*fn)(void *), void *arg)
{
    pid_t pid = hx_start(fn, arg);

    return pid == -1 ? -1 : hx_reap(pid);
}

/* Read what fd holds from its start into buf, '\0'-terminated. */
static void hx_slurp(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

/* An unlinked temporary file, not inherited by programs. Returns its
 * descriptor or -1. */
static int hx_tmpfile(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int fd;

    snprintf(path, sizeof path, "%s/hx.XXXXXX", dir ? dir : "/tmp");
    fd = mkostemp(path, O_CLOEXEC);
    if (fd != -1)
        unlink(path);
    return fd;
}

int hx_spawn(char *const argv[], struct hx_proc *p)
{
    int err;

    p->pid = -1;
    p->out = hx_tmpfile();
    p->err = hx_tmpfile();
    if (p->out != -1 && p->err != -1) {
        fflush(NULL);
        p->pid = fork();
    }
    if (p->pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in == -1 || dup2(in, 0) == -1 || dup2(p->out, 1) == -1 ||
            dup2(p->err, 2) == -1)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    if (p->pid > 0)
        return 0;
    err = errno;
    if (p->out != -1)
        close(p->out);
    if (p->err != -1)
        close(p->err);
    p->out = p->err = -1;
    errno = err;
    return -1;
}

int hx_finish(struct hx_proc *p, int wait, char *out, size_t outsz,
              char *err, size_t errsz)
{
    int status = wait ? hx_reap(p->pid) : 0;

    hx_slurp(p->out, out, outsz);
    hx_slurp(p->err, err, errsz);
    close(p->out);
    close(p->err);
    p->out = p->err = -1;
    return status;
}

int hx_run_prog(const char *path, char *out, size_t outsz,
                char *err, size_t errsz)
{
    char *argv[] = { (char *)path, NULL };
    struct hx_proc p;

    if (hx_spawn(argv, &p) == -1)
        return -1;
    return hx_finish(&p, 1, out, outsz, err, errsz);
}

int hx_memcheck(void)
{
    const char *m = getenv("HX_MEMCHECK");
    return m != NULL && strcmp(m, "1") == 0;
}

long hx_iters(long n)
{
    if (hx_memcheck())
        n /= 100;
    return n > 0 ? n : 1;
}

char *hx_shm_name(char *buf, size_t size, const char *tag)
{
    const char *run = getenv("HX_RUN");

    if (run != NULL)
        snprintf(buf, size, "/shmlabs.%s.%s", run, tag);
    else
        snprintf(buf, size, "/shmlabs.u%lu.%s", (unsigned long)getuid(), tag);
    return buf;
}
