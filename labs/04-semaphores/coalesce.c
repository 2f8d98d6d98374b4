/* coalesce.c - Lab 04 demo: signals merge, semaphores count.
 *
 * Usage: ./coalesce        (or: make demo LAB=04 D=coalesce)
 * The parent blocks SIGUSR1 and SIGRTMIN. A child sends it SIGUSR1 1000
 * times, SIGRTMIN 1000 times (with sigqueue, each carrying a number), and
 * posts a shared semaphore 1000 times, then exits. Only then does the
 * parent look: it counts the signals it can take and reads the semaphore.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS, sigtimedwait */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMES 1000

static void die(const char *what)
{
    perror(what);
    exit(EXIT_FAILURE);
}

/* The child: ring every bell TIMES times. */
static void child(sem_t *sem)
{
    pid_t parent = getppid();

    for (int i = 0; i < TIMES; i++) {
        union sigval v = { .sival_int = i };
        if (kill(parent, SIGUSR1) == -1 ||
            sigqueue(parent, SIGRTMIN, v) == -1 || sem_post(sem) == -1) {
            perror("child");
            _exit(EXIT_FAILURE);
        }
    }
    _exit(EXIT_SUCCESS);
}

/* Take every pending sig without waiting. Returns how many; *last gets the
 * number the last one carried. */
static int take_all(int sig, int *last)
{
    struct timespec zero = { 0, 0 };
    siginfo_t info;
    sigset_t set;
    int n = 0;

    sigemptyset(&set);
    sigaddset(&set, sig);
    while (sigtimedwait(&set, &info, &zero) == sig) {
        *last = info.si_value.sival_int;
        n++;
    }
    if (errno != EAGAIN)
        die("sigtimedwait");
    return n;
}

int main(void)
{
    sem_t *sem = mmap(NULL, sizeof *sem, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int status, value, last = -1;
    sigset_t set;
    pid_t pid;

    if (sem == MAP_FAILED)
        die("mmap");
    if (sem_init(sem, 1, 0) == -1)
        die("sem_init");
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)   /* before the fork */
        die("sigprocmask");
    pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        child(sem);
    if (waitpid(pid, &status, 0) == -1)
        die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "coalesce: the child failed\n");
        return EXIT_FAILURE;
    }
    int usr1 = take_all(SIGUSR1, &last);
    int rt = take_all(SIGRTMIN, &last);
    if (sem_getvalue(sem, &value) == -1)
        die("sem_getvalue");
    printf("The child rang each bell %d times before the parent looked.\n",
           TIMES);
    printf("SIGUSR1 taken:   %4d  (standard signals: pending is one bit)\n",
           usr1);
    printf("SIGRTMIN taken:  %4d  (real-time signals queue; the last carried"
           " the number %d, and no more than that one int)\n", rt, last);
    printf("semaphore value: %4d  (a counter: no post is lost)\n", value);
    if (sem_destroy(sem) == -1 || munmap(sem, sizeof *sem) == -1)
        die("cleanup");
    return EXIT_SUCCESS;
}
