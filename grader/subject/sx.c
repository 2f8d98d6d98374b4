/* sx.c - main() of a lab's subject program: serve the checker.
 *
 * Usage: ./subject                 serve requests on descriptor SX_FD
 *        ./subject --replay FILE   perform the requests saved in FILE (the
 *                                  checker saves a test's requests under
 *                                  calls/ in make check) and print each
 *                                  reply: run it under gdb to debug.
 *        ./subject --program NAME  run the lab's program NAME (sx_program)
 * Runs beside the handin code (see sx.h): trusted by nobody.
 */
#define _GNU_SOURCE
#include "sx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

char *sx_stack;

/* Built with ASan (the project's own tests, make test): a SIGSEGV or SIGBUS
 * that a test causes on purpose is the process's to take as any process
 * would, not ASan's to report on stderr, where the checker would take the
 * report for printing by the handin code. */
#if defined(__SANITIZE_ADDRESS__)
#define SX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SX_ASAN 1
#endif
#endif
#ifdef SX_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0:handle_sigbus=0";
}
#endif

/* No programs: a lab with some defines its own. */
__attribute__((weak)) int sx_program(const char *name)
{
    (void)name;
    return -1;
}

/* Leave no descriptor free: the soft limit at the lowest free one.
 * Returns that, or -1. */
static int nofile(int restore)
{
    static struct rlimit was;
    int lowest = dup(0);
    struct rlimit l;

    if (restore)
        return setrlimit(RLIMIT_NOFILE, &was);
    if (lowest == -1 || close(lowest) == -1 || getrlimit(RLIMIT_NOFILE, &l) == -1)
        return -1;
    was = l;
    l.rlim_cur = (rlim_t)lowest;
    return setrlimit(RLIMIT_NOFILE, &l) == -1 ? -1 : lowest;
}

/* Perform q into r. */
static void serve(const struct sx_req *q, struct sx_rep *r)
{
    memset(r, 0, sizeof *r);
    errno = SX_ERRNO_BEFORE;
    switch (q->op) {
    case SX_EXIT:
        exit((int)q->a[0]);
    case SX_PING:
        break;
    case SX_FORK:
        if (q->a[0] != 0) {             /* done with it */
            kill((pid_t)q->a[0], SIGKILL);
            r->ret = waitpid((pid_t)q->a[0], NULL, 0);
            break;
        }
        r->ret = fork();
        if (r->ret == 0)
            for (;;)
                pause();                /* until the checker ends it */
        break;
    case SX_NOFILE:
        r->ret = nofile(q->a[0] == 1);
        break;
    case SX_FAILFORK:
        sx_fail_fork(q->a[0] > INT_MAX ? 0 : (long)q->a[0]);
        break;
    default:
        if (sx_lab(q, r) == -1) {
            r->ret = -1;
            errno = ENOSYS;
        }
    }
    r->err = errno;
    r->id = q->id;
}

/* Perform the requests saved in path, printing each reply. */
static int replay(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct sx_req q;
    struct sx_rep r;

    if (fd == -1) {
        perror(path);
        return 2;
    }
    while (read(fd, &q, sizeof q) == (ssize_t)sizeof q) {
        printf("request %u (%llu, %llu): ", q.op, (unsigned long long)q.a[0],
               (unsigned long long)q.a[1]);
        fflush(stdout);
        serve(&q, &r);
        printf("returned %lld, errno %d\n", (long long)r.ret, r.err);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    char stack[64] = "";                /* lives as long as the process */
    struct sx_req q;
    struct sx_rep r;
    ssize_t n;

    sx_stack = stack;
    if (argc == 3 && strcmp(argv[1], "--replay") == 0)
        return replay(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--program") == 0)
        return sx_program(argv[2]) == -1 ? 127 : 0;
    while ((n = recv(SX_FD, &q, sizeof q, 0)) == (ssize_t)sizeof q) {
        serve(&q, &r);
        if (send(SX_FD, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
            return 1;
    }
    return n == 0 ? 0 : 1;              /* the checker closed: done */
}
