/* spincost.c - Lab 03 demo: what waiting costs, measured with getrusage.
 *
 * Usage: ./spincost       (or: make demo LAB=03 D=spincost)
 * A child raises a flag one second after it starts; the parent waits for
 * it three ways: spinning, spinning with sched_yield(), and backing off
 * (100 polls in a row, 50 after yielding, then sleeps of 1 us, 2 us,
 * 4 us ... up to 1 ms). For each it prints the CPU time and the sleeps getrusage counted,
 * and how late the waiter noticed the flag.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS, sched_yield */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define WAIT_MS 1000                    /* how long each wait lasts */

/* The page parent and child share. */
struct flag {
    atomic_int up;                      /* 1 once the child raised it */
    _Atomic double raised_at;           /* CLOCK_MONOTONIC s; before up */
};

static void nap_ns(long ns)
{
    struct timespec t = { ns / 1000000000L, ns % 1000000000L };

    while (nanosleep(&t, &t) == -1)
        ;                               /* EINTR: sleep the rest */
}

static int is_up(struct flag *f)
{
    return atomic_load_explicit(&f->up, memory_order_acquire);
}

static void wait_spin(struct flag *f)
{
    while (!is_up(f))
        ;
}

static void wait_yield(struct flag *f)
{
    while (!is_up(f))
        sched_yield();
}

/* 100 polls in a row, 50 after sched_yield(), then sleeps doubling from
 * 1 us to 1 ms: the mailbox's backoff. */
static void wait_backoff(struct flag *f)
{
    for (unsigned round = 0; !is_up(f); round++) {
        if (round < 100)
            continue;
        if (round < 150) {
            sched_yield();
            continue;
        }
        unsigned k = round - 150;
        nap_ns(k < 10 ? 1000L << k : 1000000L);
    }
}

/* One measurement: a child raises the flag after WAIT_MS; wait for it. */
static void measure(struct flag *f, const char *name,
                    void (*wait)(struct flag *))
{
    struct rusage r0, r1;
    double t0, cpu;
    pid_t pid;

    atomic_store(&f->up, 0);
    pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        nap_ns(WAIT_MS * 1000000L);
        atomic_store(&f->raised_at, now());
        atomic_store_explicit(&f->up, 1, memory_order_release);
        _exit(0);
    }
    t0 = now();
    if (getrusage(RUSAGE_SELF, &r0) == -1)
        die("getrusage");
    wait(f);
    double late = now() - atomic_load(&f->raised_at);
    if (getrusage(RUSAGE_SELF, &r1) == -1)
        die("getrusage");
    cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec +
                   r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
          (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec +
                   r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    printf("  %-13s %6.2f s %8.3f s %8ld %10.1f us\n", name, now() - t0, cpu,
           r1.ru_nvcsw - r0.ru_nvcsw, late * 1e6);
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
}

int main(void)
{
    struct flag *f = mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (f == MAP_FAILED)
        die("mmap");
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("Waiting %d ms for a flag, three ways:\n", WAIT_MS);
    printf("  %-13s %8s %10s %8s %13s\n", "strategy", "wall", "CPU time",
           "sleeps", "noticed after");
    measure(f, "spin", wait_spin);
    measure(f, "spin + yield", wait_yield);
    measure(f, "back off", wait_backoff);
    printf("A spinner takes all the CPU it can get for as long as it waits;"
           " yielding\nonly helps when another process wants that CPU. On a"
           " busy machine the\nspinners get less (they share it), which"
           " slows everyone else down. The\nwaiter that sleeps pays with"
           " latency instead: about a millisecond at worst.\n");
    if (munmap(f, sizeof *f) == -1)
        die("munmap");
    return EXIT_SUCCESS;
}
