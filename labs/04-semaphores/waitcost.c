/* waitcost.c - Lab 04 demo: what waiting costs, polling versus sleeping.
 *
 * Usage: ./waitcost        (or: make demo LAB=04 D=waitcost)
 * A child waits half a second for its parent, twice: first by polling a
 * flag in shared memory, then asleep in sem_wait on a semaphore in that
 * memory. Prints the CPU time the child used each time.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS, wait4 */
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_NS 500000000L      /* ns the parent keeps the child waiting */

struct shared {
    atomic_int flag;            /* polled by the child; set by the parent */
    sem_t sem;                  /* the child sleeps on it; the parent posts */
};

static void die(const char *what)
{
    perror(what);
    exit(EXIT_FAILURE);
}

/* The child's side: wait one way or the other. */
static void child(struct shared *sh, int polling)
{
    if (polling) {
        while (atomic_load(&sh->flag) == 0)
            ;                           /* spin: the CPU never rests */
    } else {
        while (sem_wait(&sh->sem) == -1)
            ;                           /* only EINTR can happen here */
    }
    _exit(EXIT_SUCCESS);
}

/* Run one wait; returns the child's CPU time in seconds. */
static double measure(struct shared *sh, int polling)
{
    struct timespec half = { 0, WAIT_NS };
    struct rusage ru;
    int status;
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0)
        child(sh, polling);
    if (nanosleep(&half, NULL) == -1)
        die("nanosleep");
    if (polling)
        atomic_store(&sh->flag, 1);
    else if (sem_post(&sh->sem) == -1)
        die("sem_post");
    if (wait4(pid, &status, 0, &ru) == -1)
        die("wait4");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(void)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (sh == MAP_FAILED)
        die("mmap");
    atomic_init(&sh->flag, 0);
    if (sem_init(&sh->sem, 1, 0) == -1)
        die("sem_init");
    printf("A child waits %.1f s for its parent, twice.\n", WAIT_NS / 1e9);
    printf("polling a flag:      %.3f s of CPU time\n", measure(sh, 1));
    printf("asleep in sem_wait:  %.3f s of CPU time\n", measure(sh, 0));
    printf("(On a busy machine the poller gets less than a whole core, and"
           " takes it from someone else.)\n");
    if (sem_destroy(&sh->sem) == -1)
        die("sem_destroy");
    if (munmap(sh, sizeof *sh) == -1)
        die("munmap");
    return EXIT_SUCCESS;
}
