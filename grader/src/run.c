/* run.c - run one command under limits and leave nothing of it behind.
 *
 * The command gets its own process group and rlimits; the parent waits for
 * it with sigtimedwait(SIGCHLD) up to the deadline, then SIGKILLs the group.
 * Because the grader is a child subreaper (PR_SET_CHILD_SUBREAPER), any
 * process that escaped the group (setsid, double fork) is reparented to
 * the grader when its parent dies, and run_sweep() kills it.
 */
#define _GNU_SOURCE
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int run_init(void)
{
    sigset_t s;

    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &s, NULL) == -1)
        return -1;
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static int set_limit(int res, rlim_t v)
{
    struct rlimit r = { v, v };
    return setrlimit(res, &r);
}

/* In the child, root of its own user and mount namespaces: fresh tmpfs
 * on /tmp and /dev/shm, so that nothing it writes there outlives it or
 * meets another grading's files. Returns 0, or -1 with errno set. */
static int private_dirs(int keep_tmp)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        return -1;
    if (!keep_tmp && mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                           "size=256m,mode=1777") == -1)
        return -1;
    return mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                 "size=512m,mode=1777");
}

/* In the child: become unprivileged (see run.h). sync[0] tells the parent
 * whether a user namespace was made ('u') or not ('n'); the parent answers
 * on sync[1] once it has written the uid and gid maps. Returns -1 on
 * failure. */
static int child_isolate(const struct limits *l, const int sync[2])
{
    char made = 'u', go;
    uid_t id = 0;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS) == -1) {
        made = 'n';
        id = l->needs_setuid ? 0 : l->uid;
        if (unshare(CLONE_NEWNET | CLONE_NEWIPC) == -1 && errno != EPERM)
            return -1;
    }
    if (write(sync[0], &made, 1) != 1 || read(sync[1], &go, 1) != 1)
        return -1;
    if (setgroups(0, NULL) == -1 || setresgid(id, id, id) == -1 ||
        setresuid(id, id, id) == -1)
        return -1;
    return made == 'u' ? private_dirs(l->keep_tmp) : 0;
}

/* In the parent: map the child's new user namespace onto uid..uid+65535.
 * Returns 0, or -1 with errno set. */
static int map_ids(pid_t pid, unsigned uid)
{
    const char *file[] = { "uid_map", "gid_map" };
    char path[64], map[64];

    snprintf(map, sizeof map, "0 %u 65536\n", uid);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd == -1)
            return -1;
        ssize_t n = write(fd, map, strlen(map));
        int err = errno;
        close(fd);
        if (n != (ssize_t)strlen(map)) {
            errno = n == -1 ? err : EIO;
            return -1;
        }
    }
    return 0;
}

/* The parent's half of child_isolate. Returns 0, or -1 with errno set. */
static int parent_isolate(pid_t pid, const struct limits *l, const int up[2],
                          const int down[2])
{
    char made, go = 'g';

    if (read(up[0], &made, 1) != 1) {
        errno = ECHILD;
        return -1;
    }
    if (made == 'u' && map_ids(pid, l->uid) == -1)
        return -1;
    return write(down[1], &go, 1) == 1 ? 0 : -1;
}

/* In the child: limits, descriptors, signal mask. Returns -1 on failure. */
static int child_setup(const char *cwd, const char *log, const struct limits *l,
                       const int sync[2])
{
    sigset_t none;
    int in, out;

    sigemptyset(&none);
    if (setpgid(0, 0) == -1 || sigprocmask(SIG_SETMASK, &none, NULL) == -1)
        return -1;
    if (l->uid != 0 && child_isolate(l, sync) == -1)
        return -1;
    in = open("/dev/null", O_RDONLY);
    out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);   /* before chdir: */
    if (in == -1 || out == -1 || dup2(in, 0) == -1 || dup2(out, 1) == -1 ||
        dup2(out, 2) == -1)                                /* log may be relative */
        return -1;
    if (cwd != NULL && chdir(cwd) == -1)
        return -1;
    /* Nothing of the grader's but stdio reaches the command. */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
        return -1;
    if (set_limit(RLIMIT_CORE, 0) == -1 ||
        (l->cpu && set_limit(RLIMIT_CPU, (rlim_t)l->cpu) == -1) ||
        (l->as_mib && set_limit(RLIMIT_AS, (rlim_t)l->as_mib << 20) == -1) ||
        (l->fsize_mib && set_limit(RLIMIT_FSIZE, (rlim_t)l->fsize_mib << 20) == -1) ||
        (l->nofile && set_limit(RLIMIT_NOFILE, (rlim_t)l->nofile) == -1) ||
        (l->nproc && set_limit(RLIMIT_NPROC, (rlim_t)l->nproc) == -1))
        return -1;
    return 0;
}

/* Wait for pid until the deadline. Returns 0 with *status set, or 1 if
 * the deadline passed first. */
static int wait_until(pid_t pid, double deadline, int *status)
{
    sigset_t s;

    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r == -1 && errno != EINTR))
            return 0;
        double left = deadline - now();
        if (deadline > 0 && left <= 0)
            return 1;
        if (deadline <= 0)
            left = 1.0;
        struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
        sigtimedwait(&s, NULL, &ts);    /* woken by any child's exit */
    }
}

int run_bounded(char *const argv[], const char *cwd, char *const envp[],
                const char *log, const struct limits *lim, struct outcome *o)
{
    int p[2] = { -1, -1 }, up[2] = { -1, -1 }, down[2] = { -1, -1 }, err = 0;
    double t0 = now();
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) == -1 || pipe2(up, O_CLOEXEC) == -1 ||
        pipe2(down, O_CLOEXEC) == -1) {
        err = errno;
        goto fail;
    }
    fflush(NULL);
    pid = fork();
    if (pid == -1) {
        err = errno;
        goto fail;
    }
    if (pid == 0) {
        int sync[2] = { up[1], down[0] };
        if (child_setup(cwd, log, lim, sync) == 0)
            execvpe(argv[0], argv, envp);
        err = errno;
        (void)!write(p[1], &err, sizeof err);
        _exit(127);
    }
    close(p[1]);
    close(up[1]);
    close(down[0]);
    p[1] = up[1] = down[0] = -1;
    setpgid(pid, pid);                  /* also here: no race with killpg */
    if (lim->uid != 0 && parent_isolate(pid, lim, up, down) == -1)
        kill(pid, SIGKILL);             /* it then reports why, or ECHILD */
    o->timed_out = wait_until(pid, lim->wall > 0 ? t0 + lim->wall : 0,
                              &o->status);
    killpg(pid, SIGKILL);
    if (o->timed_out)
        waitpid(pid, &o->status, 0);
    o->secs = now() - t0;
    run_sweep();
    if (read(p[0], &err, sizeof err) != (ssize_t)sizeof err)
        err = 0;
fail:
    for (int i = 0; i < 2; i++) {
        int *fds[] = { p, up, down };
        for (int k = 0; k < 3; k++)
            if (fds[k][i] != -1)
                close(fds[k][i]);
    }
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

/* The parent pid of process `pid`, from /proc/PID/stat, or -1. */
static pid_t parent_of(const char *pid)
{
    char path[64], buf[512];
    int fd, ppid = -1;
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');       /* the name may hold spaces */
    if (rp == NULL || sscanf(rp + 1, " %*c %d", &ppid) != 1)
        return -1;
    return ppid;
}

/* SIGKILL every child of ours. Returns how many. */
static int kill_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t self = getpid();
    int n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        if (parent_of(e->d_name) == self && kill(atoi(e->d_name), SIGKILL) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int run_sweep(void)
{
    int total = 0;

    for (int round = 0; round < 1000; round++) {
        int n = kill_children();
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        total += n;
        if (n == 0 && waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD)
            break;
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    return total;
}

char *run_describe(const struct outcome *o, char *buf, unsigned size)
{
    if (o->timed_out)
        snprintf(buf, size, "killed after the %.0f s wall-clock limit", o->secs);
    else if (WIFEXITED(o->status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(o->status));
    else if (WIFSIGNALED(o->status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(o->status),
                 strsignal(WTERMSIG(o->status)));
    else
        snprintf(buf, size, "wait status 0x%x", o->status);
    return buf;
}
