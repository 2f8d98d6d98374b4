/* hoist.c - Lab 03 demo: a plain int flag that the compiler reads once.
 *
 * Usage: ./hoist          (or: make demo LAB=03 D=hoist)
 * A child sets a flag in shared memory 100 ms after it starts. The parent
 * waits for it twice: polling an atomic_int, then polling a plain int.
 * Built with gcc -O2, the second wait never ends: the load of the flag was
 * hoisted out of the loop. The demo gives up after 3 seconds and says so.
 * (clang -O2 deletes that loop instead; the demo reports that too.)
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS under -std=c11 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define GIVE_UP_S 3                     /* how long the plain wait may spin */

/* The page parent and child share. */
struct flags {
    atomic_int ready_atomic;            /* 0, then 1: set by the child */
    int ready_plain;                    /* 0, then 1: set by the child */
};

static struct flags *shared;

/* Fork a child that sets one of the flags after 100 ms, then exits. */
static pid_t start_setter(int plain)
{
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0) {
        nap_ms(100);
        if (plain)
            shared->ready_plain = 1;
        else
            atomic_store(&shared->ready_atomic, 1);
        _exit(0);
    }
    return pid;
}

/* noinline: keep each wait a function of its own, easy to find with
 * objdump -d. */
__attribute__((noinline)) static void wait_atomic(atomic_int *flag)
{
    while (atomic_load(flag) == 0)
        ;
}

__attribute__((noinline)) static void wait_plain(int *flag)
{
    while (*flag == 0)
        ;
}

/* What give_up says, prepared in main: the handler may not format. */
static char stuck[512];
static size_t stuck_len;

/* SIGALRM: the plain wait is still spinning. Only async-signal-safe calls
 * here: the main program is stuck in the loop. */
static void give_up(int sig)
{
    static const char odd[] =
        "plain int:  still waiting after 3 s, and the flag in memory still"
        " reads 0:\n            the writer never ran?\n";
    int flag = *(volatile int *)&shared->ready_plain;

    (void)sig;
    if (flag)
        (void)!write(STDOUT_FILENO, stuck, stuck_len);
    else
        (void)!write(STDOUT_FILENO, odd, sizeof odd - 1);
    _exit(0);
}

int main(int argc, char **argv)
{
    double t0;
    pid_t pid;

    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        die("mmap");
    setvbuf(stdout, NULL, _IONBF, 0);   /* no buffered output lost at _exit */
    (void)argc;
    snprintf(stuck, sizeof stuck,
             "plain int:  still waiting after %d s, although the flag in memory"
             " reads 1.\n"
             "            The loop no longer looks at memory: gcc -O2 loaded"
             " the flag once,\n"
             "            before the loop, and now jumps to itself. See it:\n"
             "            objdump -d --no-show-raw-insn %s | grep -A4"
             " '<wait_plain'\n", GIVE_UP_S, argv[0]);
    stuck_len = strlen(stuck);
    printf("A child sets a flag 100 ms from now; the parent polls it.\n");

    t0 = now();
    pid = start_setter(0);
    wait_atomic(&shared->ready_atomic);
    printf("atomic_int: saw the flag after %.0f ms\n", (now() - t0) * 1000);
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");

    if (signal(SIGALRM, give_up) == SIG_ERR)
        die("signal");
    t0 = now();
    pid = start_setter(1);
    alarm(GIVE_UP_S);
    wait_plain(&shared->ready_plain);
    alarm(0);
    printf("plain int:  the loop ended after %.0f ms with the flag reading "
           "%d.\n", (now() - t0) * 1000, shared->ready_plain);
    if (shared->ready_plain == 0)
        printf("            The compiler deleted the loop: C11 lets it assume"
               " that a loop\n            without side effects ends, and"
               " then it need not run it.\n");
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return EXIT_SUCCESS;
}
