/* cx.c - starting, calling and observing subjects (cx.h).
 *
 * Runs only in the checker, never beside submitted code.
 */
#define _GNU_SOURCE
#include "cx.h"
#include "hx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#define CX_VG_FD 4              /* a subject's Valgrind report descriptor */
#define CX_ARGS 32
#define CX_NPROC_SPARE 64       /* processes a subject cannot take from us */
#define CX_ANY 8                /* subjects cx_poll_any watches at most */

/* The uid our subjects run as where no user namespace could be made for
 * them and we are root (HX_SUBJECT_UID), or 0: then we reach them with
 * their fsuid (cx_open) and, to trace them, their real uid (cx_as). */
static uid_t foreign;

static double cx_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

size_t cx_page(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

char *cx_describe(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "wait status 0x%x", status);
    return buf;
}

uint64_t cx_rand(void)
{
    static uint64_t state;
    static int seeded;

    if (!seeded) {                      /* per test: each runs in a fork */
        const char *seed = getenv("HX_SEED"), *name = hx_test_name();
        state = seed ? strtoull(seed, NULL, 16) : 1;
        for (; name && *name; name++)
            state = (state ^ (unsigned char)*name) * 0x100000001b3ull;
        seeded = 1;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);     /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The command line that runs argv: HX_VALGRIND's words, its log option,
 * then argv. Points into words (a copy of HX_VALGRIND) and logopt. */
static void cx_argv(char *const argv[], char *words, char *logopt,
                    char *out[CX_ARGS])
{
    int n = 0;

    for (char *w = words ? strtok(words, " ") : NULL; w && n < CX_ARGS - 12;
         w = strtok(NULL, " "))
        out[n++] = w;
    if (words)
        out[n++] = logopt;
    for (int i = 0; argv[i] && n < CX_ARGS - 1; i++)
        out[n++] = argv[i];
    out[n] = NULL;
}

/* In the new subject: take descriptor from as to, without close-on-exec. */
static int cx_fd(int from, int to)
{
    if (from == to)
        return fcntl(to, F_SETFD, 0);
    return dup2(from, to) == -1 ? -1 : 0;
}

/* The uid for subjects that get no user namespace of their own:
 * HX_SUBJECT_UID (the grader's sandbox uid + 1) where we are root in the
 * grader's own user namespace, the run having got none; 0 (they run as we
 * do) if we are not root, or if we are root of the one the grader made for
 * the run (its uid_map: "0 <sandbox uid> 65536"). */
static uid_t cx_subject_uid(void)
{
    const char *env = getenv("HX_SUBJECT_UID");
    unsigned long u = env && *env ? strtoul(env, NULL, 10) : 0, in, out, len;
    char map[128] = "";
    int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd == -1 ? -1 : read(fd, map, sizeof map - 1);

    if (fd != -1)
        close(fd);
    if (n > 0)
        map[n] = '\0';
    if (geteuid() != 0 || u == 0 ||
        (sscanf(map, "%lu %lu %lu", &in, &out, &len) == 3 && in == 0 &&
         out == u - 1 && len == 65536))
        return 0;
    return (uid_t)u;
}

/* The child half of cx_start: its own user namespace (if we may), its
 * descriptors, then exec. Never returns. */
static void cx_child(struct cx_subject *s, int sock, int vg, int up, int down,
                     char *const argv[], const struct cx_how *how)
{
    char failfork[40] = "", made = 'n', go = 'n';
    char *env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", failfork, NULL };
    pid_t parent = getppid();
    char *words = getenv("HX_VALGRIND") ? strdup(getenv("HX_VALGRIND")) : NULL;
    char logopt[32], *args[CX_ARGS];
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

    /* Processes of a subject's user namespace also count against ours
     * (the kernel's ucounts): keep CX_NPROC_SPARE of our limit for us, or
     * a fork bomb in it would stop the checker's own forks. The new
     * namespace's ceiling is the limit it is made with. */
    struct rlimit np;
    if (getrlimit(RLIMIT_NPROC, &np) == 0 && np.rlim_cur != RLIM_INFINITY &&
        np.rlim_cur > 2 * CX_NPROC_SPARE) {
        np.rlim_cur = np.rlim_max = np.rlim_cur - CX_NPROC_SPARE;
        if (setrlimit(RLIMIT_NPROC, &np) == -1)
            _exit(127);
    }
    if (geteuid() == 0 && unshare(CLONE_NEWUSER) == 0)
        made = 'u';
    if (write(up, &made, 1) != 1 || read(down, &go, 1) != 1)
        _exit(127);
    uid_t id = made == 'n' ? cx_subject_uid() : 0;
    if ((go == 'u' || id != 0) && (setgroups(0, NULL) == -1 || setresgid(id, id, id) == -1 ||
                                   setresuid(id, id, id) == -1))
        _exit(127);
    /* Die with the test that started us: a subject asleep for ever in a
     * broken call must not outlive its test. (After the switch of uid,
     * which clears it.) */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
        _exit(127);
    if (how != NULL && how->fail_fork > 0)
        snprintf(failfork, sizeof failfork, "SX_FAILFORK=%ld", how->fail_fork);
    else
        env[2] = NULL;
    int out = how != NULL && how->out != NULL ? open(how->out, O_WRONLY | O_CLOEXEC) : s->out;
    /* Above SX_FD and CX_VG_FD first, so that no dup2 clobbers another. */
    int hi[4] = { fcntl(in, F_DUPFD_CLOEXEC, 10), fcntl(out, F_DUPFD_CLOEXEC, 10),
                  fcntl(s->err, F_DUPFD_CLOEXEC, 10), fcntl(sock, F_DUPFD_CLOEXEC, 10) };
    int hv = vg == -1 ? -1 : fcntl(vg, F_DUPFD_CLOEXEC, 10);
    if (hi[0] < 0 || hi[1] < 0 || hi[2] < 0 || hi[3] < 0 || (vg != -1 && hv < 0) ||
        cx_fd(hi[0], 0) || cx_fd(hi[1], 1) || cx_fd(hi[2], 2) ||
        cx_fd(hi[3], SX_FD) || (hv != -1 && cx_fd(hv, CX_VG_FD)) ||
        close_range(hv != -1 ? CX_VG_FD + 1 : SX_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
        _exit(127);
    snprintf(logopt, sizeof logopt, "--log-fd=%d", CX_VG_FD);
    cx_argv(argv, vg != -1 ? words : NULL, logopt, args);
    execvpe(args[0], args, env);        /* valgrind: found on PATH */
    _exit(127);
}

/* Map a new subject's user namespace one uid above ours. Returns 0 or -1. */
static int cx_map(pid_t pid)
{
    const char *file[] = { "uid_map", "gid_map" };
    char path[64];

    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n = fd == -1 ? -1 : write(fd, "0 1 65535\n", 10);
        if (fd != -1)
            close(fd);
        if (n != 10)
            return -1;
    }
    return 0;
}

/* Start argv (NULL: the subject program) into *s, under Valgrind if the
 * pass asks and not bare. Returns 0, or -1 with errno set. */
static int cx_spawn(struct cx_subject *s, char *const argv[], int bare,
                    const struct cx_how *how)
{
    const char *subj = getenv("HX_SUBJECT");
    char *def[] = { (char *)(subj ? subj : "./subject"), NULL };
    int sv[2], vg[2] = { -1, -1 }, up[2], down[2];
    char made, go;

    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->vg = s->vglog = -1;
    s->out = memfd_create("subject-out", MFD_CLOEXEC);
    s->err = memfd_create("subject-err", MFD_CLOEXEC);
    if (s->out == -1 || s->err == -1 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
        (!bare && getenv("HX_VALGRIND") && pipe2(vg, O_CLOEXEC) == -1) ||
        pipe2(up, O_CLOEXEC) == -1 || pipe2(down, O_CLOEXEC) == -1)
        return -1;
    fflush(NULL);
    if ((s->pid = fork()) == -1)
        return -1;
    if (s->pid == 0)
        cx_child(s, sv[1], vg[1], up[1], down[0], argv ? argv : def, how);
    close(sv[1]);
    close(up[1]);
    close(down[0]);
    if (vg[1] != -1)
        close(vg[1]);
    s->sock = sv[0];
    s->vg = vg[0];
    if (s->vg != -1 && ((s->vglog = memfd_create("valgrind", MFD_CLOEXEC)) == -1 ||
                        fcntl(s->vg, F_SETFL, O_NONBLOCK) == -1))
        return -1;
    if (read(up[0], &made, 1) != 1)
        made = 'n';
    go = made == 'u' && cx_map(s->pid) == 0 ? 'u' : 'n';
    if (made == 'n')
        foreign = cx_subject_uid();
    if (write(down[1], &go, 1) != 1)
        return -1;
    /* up is close-on-exec in the child: its end is the exec (or the child's
     * death), after which its descriptors are its own. */
    ssize_t n;
    while ((n = read(up[0], &made, 1)) > 0 || (n == -1 && errno == EINTR))
        ;
    close(up[0]);
    close(down[1]);
    return 0;
}

/* The Valgrind pass's subjects, one per runner (hx_before), and a second
 * for a suite whose tests have two (cx_peers): a Valgrind start costs half
 * a second, so its tests share them, as they shared one process under
 * Valgrind before there was a checker. */
static struct cx_subject pool[2];
static int pooled[2];

/* Ping s, ignoring replies to earlier requests. Returns 0 or -1. */
static int cx_ping(struct cx_subject *s)
{
    struct sx_req q = { .id = (uint32_t)getpid() << 8 | 0xff, .op = SX_PING };
    struct sx_rep r;

    while (recv(s->sock, &r, sizeof r, MSG_DONTWAIT) > 0)
        ;                               /* a reply a killed test never read */
    if (send(s->sock, &q, sizeof q, MSG_NOSIGNAL) != (ssize_t)sizeof q)
        return -1;
    do {
        if (cx_poll(s, 60) != 1 || recv(s->sock, &r, sizeof r, 0) != (ssize_t)sizeof r)
            return -1;
    } while (r.id != q.id);
    return 0;
}

void hx_before(void)
{
    /* Not dumpable: where a subject shares our uid (a plain user, or a
     * container without user namespaces), it still cannot trace us, read
     * or write our memory, or open our /proc files (ptrace_may_access).
     * Each test's process inherits this; the subjects' exec resets it. */
    if (prctl(PR_SET_DUMPABLE, 0) == -1) {
        perror("checker: prctl(PR_SET_DUMPABLE)");
        exit(2);
    }
    for (int i = 0; i < (&cx_peers != NULL && cx_peers ? 2 : 1); i++)
        pooled[i] = getenv("HX_VALGRIND") && cx_spawn(&pool[i], NULL, 0, NULL) == 0 &&
                    cx_ping(&pool[i]) == 0;
}

void hx_after(void)
{
    for (int i = 0; i < 2; i++)
        if (pooled[i])
            cx_end(&pool[i]);
}

/* cx_start (which 0) or cx_start_peer (1); bare: never under Valgrind,
 * nor shared (which -1: not shared). */
static void cx_begin(struct cx_subject *s, char *const argv[], int bare, int which,
                     const struct cx_how *how)
{
    struct cx_subject *p = which >= 0 && pooled[which] ? &pool[which] : NULL;

    /* (SIGCONT: a test that failed may have left it stopped.) */
    if (argv == NULL && how == NULL && !bare && p && kill(p->pid, SIGCONT) == 0 &&
        cx_ping(p) == 0) {
        *s = *p;                        /* borrowed: cx_end leaves it */
        s->borrowed = 1;
        return;
    }
    EXPECT(cx_spawn(s, argv, bare, how) == 0, "test setup: cannot start the subject: %s",
           strerror(errno));
    s->serving = argv == NULL;
    if (argv == NULL) {                 /* serving: and settled (Valgrind's own */
        struct sx_req q = { .op = SX_PING };    /* descriptors are open) */
        struct sx_rep r;
        cx_call(s, "starting the code under test", &q, &r);
    }
}

void cx_start(struct cx_subject *s, char *const argv[])
{
    cx_begin(s, argv, 0, 0, NULL);
}

void cx_start_how(struct cx_subject *s, char *const argv[], const struct cx_how *how)
{
    cx_begin(s, argv, 0, -1, how);
}

void cx_start_peer(struct cx_subject *s)
{
    cx_begin(s, NULL, 0, 1, NULL);
}

void cx_start_alone(struct cx_subject *s)
{
    cx_begin(s, NULL, 0, -1, NULL);
}

void cx_start_bare(struct cx_subject *s)
{
    cx_begin(s, NULL, 1, -1, NULL);
}

void cx_start_as(struct cx_subject *s, enum cx_role role)
{
    cx_begin(s, NULL, 0, role == CX_ALONE ? -1 : role == CX_SECOND, NULL);
}

void cx_program(struct cx_subject *s, const char *name)
{
    const char *subj = getenv("HX_SUBJECT");
    char *argv[] = { (char *)(subj ? subj : "./subject"), "--program",
                     (char *)name, NULL };

    cx_start(s, argv);
}

/* Move what is waiting on the Valgrind pipe into s->vglog. Returns 1 if
 * the pipe is still open, 0 at its end. */
static int cx_drain(struct cx_subject *s)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(s->vg, buf, sizeof buf)) > 0)
        if (write(s->vglog, buf, (size_t)n) != n)
            break;
    return n == -1 && errno == EAGAIN;
}

int cx_poll(struct cx_subject *s, double secs)
{
    double end = cx_now() + secs;

    for (;;) {
        struct pollfd p[2] = { { s->sock, POLLIN, 0 }, { s->vg, POLLIN, 0 } };
        double left = end - cx_now();
        if (left <= 0)
            return -1;
        int n = poll(p, s->vg != -1 ? 2 : 1, (int)(left * 1000) + 1);
        if (n == -1 && errno != EINTR)
            return -1;
        if (n > 0 && s->vg != -1 && (p[1].revents & (POLLIN | POLLHUP)) && !cx_drain(s)) {
            close(s->vg);
            s->vg = -1;
        }
        if (n > 0 && (p[0].revents & POLLIN))
            return 1;
        if (n > 0 && (p[0].revents & (POLLHUP | POLLERR)))
            return 0;
    }
}

int cx_poll_any(struct cx_subject *const s[], int n, double secs)
{
    double end = cx_now() + secs;
    struct pollfd p[2 * CX_ANY];

    if (n < 1 || n > CX_ANY)
        return -1;
    for (double left; (left = end - cx_now()) > 0;) {
        for (int i = 0; i < n; i++) {
            p[2 * i] = (struct pollfd){ s[i]->sock, POLLIN, 0 };
            p[2 * i + 1] = (struct pollfd){ s[i]->vg, POLLIN, 0 };  /* -1: none */
        }
        if (poll(p, (nfds_t)(2 * n), (int)(left * 1000) + 1) == -1 && errno != EINTR)
            return -1;
        for (int i = 0; i < n; i++) {
            if (s[i]->vg != -1 && (p[2 * i + 1].revents & (POLLIN | POLLHUP)) &&
                !cx_drain(s[i])) {
                close(s[i]->vg);
                s[i]->vg = -1;
            }
            if (p[2 * i].revents & (POLLIN | POLLHUP | POLLERR))
                return i;
        }
    }
    return -1;
}

/* Save q in HX_CALLS/TEST (for ./subject --replay), if asked to. */
static void cx_save(const struct sx_req *q)
{
    const char *dir = getenv("HX_CALLS");
    char path[4096];

    if (dir == NULL || hx_test_name() == NULL)
        return;
    snprintf(path, sizeof path, "%s/%s", dir, hx_test_name());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd != -1) {
        (void)!write(fd, q, sizeof *q);
        close(fd);
    }
}

/* Reap s (it has ended or is ending). Returns its wait status. */
static int cx_reap(struct cx_subject *s)
{
    while (s->pid > 0 && waitpid(s->pid, &s->status, 0) == -1 && errno == EINTR)
        ;
    s->pid = -1;
    return s->status;
}

/* Fail the test at file:line: s ended, or sent no reply to what. */
static void cx_lost(const char *file, int line, struct cx_subject *s)
{
    char how[96];

    if (s->pid > 0)
        kill(s->pid, SIGKILL);
    cx_reap(s);
    _ck_assert_failed(file, line, "Failed", "%s: the code under test ended the "
                      "process it ran in (%s)", s->what,
                      cx_describe(s->status, how, sizeof how));
}

void cx_send_at(const char *file, int line, struct cx_subject *s,
                const char *what, const struct sx_req *q)
{
    static uint32_t n;
    struct sx_req mine = *q;

    mine.id = s->id = (uint32_t)getpid() << 8 | (++n & 0x7f);
    s->what = what;
    cx_save(q);
    if (s->pid <= 0 || send(s->sock, &mine, sizeof mine, MSG_NOSIGNAL) != (ssize_t)sizeof mine)
        cx_lost(file, line, s);
}

int cx_replied(struct cx_subject *s)
{
    struct sx_rep r;
    ssize_t n;

    while ((n = recv(s->sock, &r, sizeof r, MSG_PEEK | MSG_DONTWAIT)) == (ssize_t)sizeof r) {
        if (r.id == s->id)
            return 1;
        (void)!recv(s->sock, &r, sizeof r, 0);  /* stale: drop it */
    }
    return n == 0 || (n == -1 && errno != EAGAIN);  /* closed: cx_reply says */
}

void cx_reply_at(const char *file, int line, struct cx_subject *s, struct sx_rep *r)
{
    memset(r, 0, sizeof *r);
    while (cx_poll(s, 60) == 1 && recv(s->sock, r, sizeof *r, 0) == (ssize_t)sizeof *r)
        if (r->id == s->id)
            return;
    cx_lost(file, line, s);
}

void cx_call_at(const char *file, int line, struct cx_subject *s,
                const char *what, const struct sx_req *q, struct sx_rep *r)
{
    cx_send_at(file, line, s, what, q);
    cx_reply_at(file, line, s, r);
}

/* Save s's Valgrind report as valgrind/PID.log (in our directory, where
 * subjects cannot write). */
static void cx_keep_report(const struct cx_subject *s, pid_t pid)
{
    char path[64], buf[8192];
    ssize_t n;
    off_t off = 0;

    if (s->vglog == -1)
        return;
    snprintf(path, sizeof path, "valgrind/%d.log", (int)pid);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    while (fd != -1 && (n = pread(s->vglog, buf, sizeof buf, off)) > 0 &&
           write(fd, buf, (size_t)n) == n)
        off += n;
    if (fd != -1)
        close(fd);
}

/* Sleep until s may have ended or written to its Valgrind pipe, at most
 * left seconds: on a pidfd of it (pidfd, -1 if the kernel has none),
 * else a millisecond. */
static void cx_doze(const struct cx_subject *s, int pidfd, double left)
{
    struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { s->vg, POLLIN, 0 } };
    struct timespec ts = { 0, 1000000 };

    if (pidfd == -1) {
        nanosleep(&ts, NULL);
        return;
    }
    (void)poll(p, 2, left < 0.1 ? (int)(left * 1000) + 1 : 100);
}

int cx_wait(struct cx_subject *s, double secs)
{
    double end = cx_now() + secs;
    pid_t pid = s->pid;
    int killed = 0, pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;

    while (s->pid > 0) {
        if (s->vg != -1 && !cx_drain(s)) {
            close(s->vg);
            s->vg = -1;
        }
        pid_t r = waitpid(s->pid, &s->status, WNOHANG);
        if (r == s->pid) {
            s->pid = -1;
            break;
        }
        if (cx_now() > end) {
            kill(s->pid, SIGKILL);
            killed = 1;
            cx_reap(s);
            break;
        }
        cx_doze(s, pidfd, end - cx_now());
    }
    if (pidfd != -1)
        close(pidfd);
    if (s->vg != -1)                    /* all it wrote before it ended (a */
        cx_drain(s);                    /* child of it may hold the pipe) */
    cx_keep_report(s, pid);
    if (s->vg != -1)
        close(s->vg);
    close(s->sock);
    s->vg = s->sock = -1;
    return killed ? -1 : s->status;
}

/* Fail the test if s wrote anything on stdout or stderr, quoting it
 * (bytes that are not printable ASCII shown as '?'). */
static void cx_expect_quiet(const char *file, int line, const struct cx_subject *s)
{
    char out[161];

    for (int err = 1; err >= 0; err--) {
        cx_output(s, err, out, sizeof out);
        if (out[0] == '\0')
            continue;
        for (char *c = out; *c != '\0'; c++)
            if (*c == '\n')
                *c = ' ';
            else if (*c < ' ' || *c > '~')
                *c = '?';
        _ck_assert_failed(file, line, "Failed", "your code printed on %s during this"
                          " test: \"%s\". The lab's header says that none of its"
                          " functions prints: report errors through the return value"
                          " and errno, and remove debugging output",
                          err ? "stderr" : "stdout", out);
    }
}

int cx_end_at(const char *file, int line, struct cx_subject *s)
{
    struct sx_req q = { .op = SX_EXIT };
    int status;

    if (s->borrowed)                    /* the runner's: it ends it */
        return 0;
    if (s->pid > 0)
        (void)!send(s->sock, &q, sizeof q, MSG_NOSIGNAL);
    status = cx_wait(s, s->vg != -1 ? 30 : 5);
    if (s->serving)
        cx_expect_quiet(file, line, s);
    return status;
}

char *cx_output(const struct cx_subject *s, int err, char *buf, size_t size)
{
    ssize_t n = pread(err ? s->err : s->out, buf, size - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* With on, take the fsuid of our subjects of another uid (the kernel
 * checks it to let us read their /proc files); else give it back. */
static void cx_fs(int on)
{
    if (foreign != 0) {
        setfsuid(on ? foreign : 0);
        setfsgid(on ? foreign : 0);
    }
}

int cx_open(pid_t pid, const char *name, int flags)
{
    char path[64];
    int fd, err;

    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    cx_fs(1);
    fd = open(path, flags | O_CLOEXEC);
    err = errno;
    cx_fs(0);
    errno = err;
    return fd;
}

int cx_as(int subject)
{
    if (foreign == 0)
        return 0;
    return subject ? (setresgid(foreign, 0, 0) == -1 || setresuid(foreign, 0, 0) == -1 ? -1 : 0)
                   : (setresuid(0, 0, 0) == -1 || setresgid(0, 0, 0) == -1 ? -1 : 0);
}

int cx_mapping(pid_t pid, uintptr_t addr, struct cx_map *m)
{
    char line[512];
    unsigned long lo, hi;
    int found = 0, fd = cx_open(pid, "maps", O_RDONLY);
    FILE *f = fd == -1 ? NULL : fdopen(fd, "r");

    if (f == NULL && fd != -1)
        close(fd);
    EXPECT(f != NULL, "test setup: cannot read /proc/%d/maps: %s", (int)pid,
           strerror(errno));
    while (!found && fgets(line, sizeof line, f) != NULL) {
        memset(m, 0, sizeof *m);
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255[^\n]", &lo, &hi, m->perms,
                   m->path) >= 3 && addr >= lo && addr < hi) {
            m->start = lo;
            m->end = hi;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

int cx_fds(pid_t pid)
{
    struct dirent *e;
    int n = 0, fd = cx_open(pid, "fd", O_RDONLY | O_DIRECTORY);
    DIR *d = fd == -1 ? NULL : fdopendir(fd);

    if (d == NULL && fd != -1)
        close(fd);
    EXPECT(d != NULL, "test setup: cannot read /proc/%d/fd: %s", (int)pid,
           strerror(errno));
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Read (write 0) or write (1) len bytes at addr in pid through
 * /proc/PID/mem: for a subject of another uid, where we may not trace it
 * (no CAP_SYS_PTRACE, as under Docker's default profile). Only where the
 * mapping allows it: the file itself would write past PROT_READ. */
static int cx_mem(pid_t pid, uintptr_t addr, void *buf, size_t len, int write)
{
    struct cx_map m;
    int fd;
    ssize_t n = -1;

    for (uintptr_t a = addr; a < addr + len; a = (uintptr_t)m.end)
        if (cx_mapping(pid, a, &m) != 1 || m.perms[write ? 1 : 0] == '-')
            return -1;
    if ((fd = cx_open(pid, "mem", write ? O_RDWR : O_RDONLY)) == -1)
        return -1;
    n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

int cx_peek(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
    struct iovec here = { buf, len }, there = { (void *)addr, len };
    ssize_t n = process_vm_readv(pid, &here, 1, &there, 1, 0);

    if (n == -1 && errno == EPERM && foreign != 0)
        return cx_mem(pid, addr, buf, len, 0);
    return n == (ssize_t)len ? 0 : -1;
}

int cx_poke(pid_t pid, uintptr_t addr, const void *buf, size_t len)
{
    struct iovec here = { (void *)buf, len }, there = { (void *)addr, len };
    ssize_t n = process_vm_writev(pid, &here, 1, &there, 1, 0);

    if (n == -1 && errno == EPERM && foreign != 0)
        return cx_mem(pid, addr, (void *)buf, len, 1);
    return n == (ssize_t)len ? 0 : -1;
}

/* The state letter of pid from /proc/PID/stat (0 if unknown), and its
 * parent (-1 if unknown) into *ppid if not NULL. */
static char cx_stat(pid_t pid, pid_t *ppid)
{
    char path[64], buf[512];
    char *rp, st = 0;
    int parent = -1;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd == -1 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd != -1)
        close(fd);
    if (n > 0) {
        buf[n] = '\0';
        if ((rp = strrchr(buf, ')')) != NULL)   /* the name may hold spaces */
            sscanf(rp + 1, " %c %d", &st, &parent);
    }
    if (ppid != NULL)
        *ppid = parent;
    return st;
}

pid_t cx_parent(pid_t pid)
{
    pid_t ppid;

    cx_stat(pid, &ppid);
    return ppid;
}

void cx_freeze(pid_t pid, int stop)
{
    EXPECT(kill(pid, stop ? SIGSTOP : SIGCONT) == 0, "test setup: cannot %s "
           "process %d: %s", stop ? "stop" : "continue", (int)pid, strerror(errno));
    EXPECT(!stop || cx_await(pid, "T", 5), "test setup: process %d did not stop",
           (int)pid);
}

char cx_state(pid_t pid)
{
    return cx_stat(pid, NULL);
}

int cx_await(pid_t pid, const char *states, double secs)
{
    double end = cx_now() + secs;
    char st;

    while (!((st = cx_stat(pid, NULL)) != 0 && strchr(states, st)) && cx_now() < end) {
        struct timespec ts = { 0, 500000 };
        nanosleep(&ts, NULL);
    }
    return st != 0 && strchr(states, st) != NULL;
}

int cx_proc(pid_t pid, const char *name, char *buf, size_t size)
{
    ssize_t n;
    int fd = cx_open(pid, name, O_RDONLY);

    cx_fs(1);                           /* (wchan checks it as it is read) */
    n = fd == -1 ? -1 : read(fd, buf, size - 1);
    cx_fs(0);
    if (fd != -1)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n < 0 ? -1 : 0;
}

double cx_cpu(pid_t pid)
{
    char buf[1024], *p;
    unsigned long ut, st;

    if (cx_proc(pid, "stat", buf, sizeof buf) == -1 || (p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long cx_limit(pid_t pid, const char *name)
{
    char buf[4096], *at;
    long soft = -1;

    if (cx_proc(pid, "limits", buf, sizeof buf) == 0 && (at = strstr(buf, name)) != NULL)
        sscanf(at + strlen(name), "%ld", &soft);
    return soft;
}

char *cx_name(char *buf, size_t size, const char *tag)
{
    char t[128];

    snprintf(t, sizeof t, "%s.%s", hx_test_name() ? hx_test_name() : "", tag);
    hx_shm_name(buf, size, t);
    shm_unlink(buf);
    return buf;
}

int cx_children(pid_t parent, pid_t *kids, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t ppid;
    int n = 0;

    EXPECT(d != NULL, "test setup: cannot read /proc: %s", strerror(errno));
    while ((e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 0 && cx_stat(pid, &ppid) != 0 && ppid == parent) {
            if (n < max)
                kids[n] = pid;
            n++;
        }
    }
    closedir(d);
    return n;
}
