/* run.c - run one command under limits and leave nothing of it behind.
 *
 * The command gets its own process group and rlimits; the parent waits for
 * it with sigtimedwait(SIGCHLD) up to the deadline, then SIGKILLs the group.
 *
 * With a view (run.h), the child is made in a new PID namespace, so it is
 * that namespace's init: grader code (init_run), which builds the view,
 * starts the command as its own child and reaps whatever is reparented to
 * it. When the command has exited, init reports its wait status and exits;
 * the kernel then kills every process left in the namespace, and the
 * parent's waitpid() on init returns only once they are all gone. So no
 * process of the run (setsid, double fork) is alive when its output is
 * read, and the command sees only its own processes.
 *
 * Without a view, the grader is a child subreaper (PR_SET_CHILD_SUBREAPER):
 * a process that escaped the group is reparented to the grader when its
 * parent dies, and run_sweep() kills it.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* What a child tells its parent: the step that failed and errno, or (from
 * init, status_set) the command's wait status. */
struct failure {
    int err;
    char step[200];
    int status_set;
    int status;
};

/* In the child (inside the view, if any): become unprivileged (see
 * run.h). sync[0] tells the parent (or init) whether a user namespace was
 * made ('u') or not ('n'); it answers on sync[1] once it has written the
 * uid and gid maps. Returns -1 with f->step set on failure. */
static int child_isolate(const struct limits *l, const int sync[2],
                         struct failure *f)
{
    char made = 'u', go;
    uid_t id = 0;

    snprintf(f->step, sizeof f->step, "make the sandbox's namespaces");
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC) == -1) {
        made = 'n';
        id = l->checker ? 0 : l->uid;
        if (unshare(CLONE_NEWNET | CLONE_NEWIPC) == -1 && errno != EPERM)
            return -1;
    }
    if (write(sync[0], &made, 1) != 1 || read(sync[1], &go, 1) != 1)
        return -1;
    snprintf(f->step, sizeof f->step, "switch to the sandbox uid");
    if (setgroups(0, NULL) == -1 || setresgid(id, id, id) == -1 ||
        setresuid(id, id, id) == -1)
        return -1;
    return 0;
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

/* In the child: isolation, limits, descriptors (log is open on logfd),
 * signal mask. Returns -1 with f->step set on failure. */
static int child_setup(const char *cwd, int logfd, const struct limits *l,
                       const int sync[2], struct failure *f)
{
    sigset_t none;
    int in;

    sigemptyset(&none);
    snprintf(f->step, sizeof f->step, "set up the process group");
    if (setpgid(0, 0) == -1 || sigprocmask(SIG_SETMASK, &none, NULL) == -1)
        return -1;
    if (l->uid != 0 && child_isolate(l, sync, f) == -1)
        return -1;
    snprintf(f->step, sizeof f->step, "redirect the output");
    in = open("/dev/null", O_RDONLY);
    if (in == -1 || dup2(in, 0) == -1 || dup2(logfd, 1) == -1 ||
        dup2(logfd, 2) == -1)
        return -1;
    snprintf(f->step, sizeof f->step, "enter %.150s as the sandbox uid", cwd ? cwd : ".");
    if (cwd != NULL && chdir(cwd) == -1)
        return -1;
    /* Nothing of the grader's but stdio reaches the command. */
    snprintf(f->step, sizeof f->step, "set the limits");
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

/* In a child: set up, then exec the command; on failure, report the step
 * on `report`. Never returns. */
static void command(char *const argv[], const char *cwd, char *const envp[],
                    int logfd, const struct limits *l, const int sync[2],
                    int report)
{
    struct failure f = { 0, "", 0, 0 };

    if (child_setup(cwd, logfd, l, sync, &f) == 0) {
        snprintf(f.step, sizeof f.step, "run %.100s", argv[0]);
        execvpe(argv[0], argv, envp);
    }
    f.err = errno;
    (void)!write(report, &f, sizeof f);
    _exit(127);
}

/* The child when there is a view: init of a new PID namespace (see the top
 * of this file). Builds the view, starts the command, reaps until the
 * command exits and reports its status on `report`. Never returns. */
static void init_run(char *const argv[], const char *cwd, char *const envp[],
                     int logfd, const struct limits *l, int report)
{
    struct failure f = { 0, "make the sandbox's view of the files", 0, 0 };
    struct limits wl = *l;
    int up[2] = { -1, -1 }, down[2] = { -1, -1 }, st = 0;
    pid_t w = -1, r;

    if (setpgid(0, 0) == -1 || view_make(l->view_dir, l->view, l->scratch) == -1 ||
        pipe2(up, O_CLOEXEC) == -1 || pipe2(down, O_CLOEXEC) == -1 ||
        (w = fork()) == -1) {
        f.err = errno;
        (void)!write(report, &f, sizeof f);
        _exit(127);
    }
    if (w == 0) {
        int sync[2] = { up[1], down[0] };
        wl.view = NULL;                 /* made above, for the namespace */
        command(argv, cwd, envp, logfd, &wl, sync, report);
    }
    close(up[1]);
    close(down[0]);
    if (parent_isolate(w, l, up, down) == -1)
        kill(w, SIGKILL);               /* it then reports why, or ECHILD */
    while ((r = waitpid(-1, &st, 0)) != w)
        if (r == -1 && errno != EINTR)
            break;
    f.status_set = r == w;
    f.status = st;
    (void)!write(report, &f, sizeof f);
    _exit(0);                           /* the kernel kills what is left */
}

/* fork(), or with newpid a child that is init of a new PID namespace (as
 * fork: it returns 0 in the child). */
static pid_t spawn(int newpid)
{
    if (!newpid)
        return fork();
    return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL,
                          NULL);
}

/* Read what the children reported on fd (nothing blocks: every writer is
 * gone). Sets o->status if init sent it; returns the failure, if any. */
static struct failure reports(int fd, struct outcome *o)
{
    struct failure f = { 0, "", 0, 0 }, m;

    while (read(fd, &m, sizeof m) == (ssize_t)sizeof m) {
        if (m.status_set)
            o->status = m.status;
        else if (m.err != 0 && f.err == 0)
            f = m;
    }
    return f;
}

int run_bounded(char *const argv[], const char *cwd, char *const envp[],
                const char *log, const struct limits *lim, struct outcome *o)
{
    int p[2] = { -1, -1 }, up[2] = { -1, -1 }, down[2] = { -1, -1 }, logfd;
    struct failure f = { 0, "open its log or make pipes", 0, 0 };
    double t0 = now();
    int ns = lim->view != NULL;
    pid_t pid;

    o->error[0] = '\0';
    /* The log is opened here, as the grader: the command only holds it. */
    logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (ns && lim->scratch && (view_clean(lim->scratch) == -1 ||
                               mkdir(lim->scratch, 0755) == -1)) {
        snprintf(f.step, sizeof f.step, "make %.150s", lim->scratch);
        f.err = errno;
        goto fail;
    }
    if (logfd == -1 || pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1 ||
        pipe2(up, O_CLOEXEC) == -1 || pipe2(down, O_CLOEXEC) == -1) {
        f.err = errno;
        goto fail;
    }
    fflush(NULL);
    snprintf(f.step, sizeof f.step, "start a process%s",
             ns ? " in a new PID namespace" : "");
    pid = spawn(ns);
    if (pid == -1) {
        f.err = errno;
        goto fail;
    }
    if (pid == 0) {
        int sync[2] = { up[1], down[0] };
        if (ns)
            init_run(argv, cwd, envp, logfd, lim, p[1]);
        command(argv, cwd, envp, logfd, lim, sync, p[1]);
    }
    close(p[1]);
    close(up[1]);
    close(down[0]);
    p[1] = up[1] = down[0] = -1;
    setpgid(pid, pid);                  /* also here: no race with killpg */
    if (!ns && lim->uid != 0 && parent_isolate(pid, lim, up, down) == -1)
        kill(pid, SIGKILL);             /* it then reports why, or ECHILD */
    o->timed_out = wait_until(pid, lim->wall > 0 ? t0 + lim->wall : 0,
                              &o->status);
    killpg(pid, SIGKILL);
    if (o->timed_out) {
        kill(pid, SIGKILL);
        waitpid(pid, &o->status, 0);    /* with ns: the whole namespace is gone */
    }
    o->secs = now() - t0;
    if (!ns)
        run_sweep();
    f = reports(p[0], o);
    if (ns && lim->scratch && view_clean(lim->scratch) == -1 && f.err == 0) {
        snprintf(f.step, sizeof f.step, "remove %.150s", lim->scratch);
        f.err = errno;
    }
fail:
    for (int i = 0; i < 2; i++) {
        int *fds[] = { p, up, down };
        for (int k = 0; k < 3; k++)
            if (fds[k][i] != -1)
                close(fds[k][i]);
    }
    if (logfd != -1)
        close(logfd);
    if (f.err != 0) {
        snprintf(o->error, sizeof o->error, "could not %s: %s", f.step,
                 strerror(f.err));
        errno = f.err;
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

/* Whether a child may unshare(flags). Returns 1 or 0. */
static int may_unshare(int flags)
{
    int status;
    pid_t pid = fork();

    if (pid == 0)
        _exit(unshare(flags) == 0 ? 0 : 1);
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

int run_probe(void)
{
    /* As child_isolate makes them: with a user namespace, or without. */
    return (may_unshare(CLONE_NEWUSER) ? RUN_USERNS : 0) |
           (may_unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC) ||
            may_unshare(CLONE_NEWNET | CLONE_NEWIPC) ? RUN_NETNS : 0);
}
