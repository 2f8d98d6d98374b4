/* volatile.c - Lab 03 demo: volatile stops the hoisting, not the reordering.
 *
 * Usage: ./volatile       (or: make demo LAB=03 D=volatile)
 * Part 1: a volatile int flag is reloaded on every poll, so the wait that
 * hung in ./hoist ends. Part 2: a sender hands the values 1 to 5 over a
 * slot whose flag is volatile and whose value is a plain int, waiting for
 * each to be taken. Built with gcc -O2 the receiver gets 0 every time: the
 * compiler moved the plain stores past the volatile ones (it stores the
 * value once, after the loop). Part 3: the same with C11 atomics, release
 * and acquire: 1 to 5 arrive.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS under -std=c11 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define VALUES 5

/* The slot of parts 1 and 2. */
struct vslot {
    volatile int full;                  /* 1: value is there to read */
    int value;                          /* plain: "protected" by full */
};

/* The slot of part 3. */
struct aslot {
    atomic_int full;                    /* 1: value is there to read */
    int value;                          /* protected by full */
};

/* The senders: hand over 1 .. n, waiting each time until it was taken.
 * noinline: find them with objdump -d. */
__attribute__((noinline)) static void send_volatile(struct vslot *s, int n)
{
    for (int i = 1; i <= n; i++) {
        s->value = i;
        s->full = 1;
        while (s->full)
            ;
    }
}

__attribute__((noinline)) static void send_atomic(struct aslot *s, int n)
{
    for (int i = 1; i <= n; i++) {
        s->value = i;
        atomic_store_explicit(&s->full, 1, memory_order_release);
        while (atomic_load_explicit(&s->full, memory_order_acquire))
            ;
    }
}

/* The receivers: take n values into got[]. */
static void recv_volatile(struct vslot *s, int n, int got[])
{
    for (int i = 0; i < n; i++) {
        while (!s->full)
            ;
        got[i] = s->value;
        s->full = 0;
    }
}

static void recv_atomic(struct aslot *s, int n, int got[])
{
    for (int i = 0; i < n; i++) {
        while (!atomic_load_explicit(&s->full, memory_order_acquire))
            ;
        got[i] = s->value;
        atomic_store_explicit(&s->full, 0, memory_order_release);
    }
}

/* Fork a child that runs the sender of part `part` (2 or 3). */
static pid_t start_sender(void *slot, int part, int n)
{
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0) {
        alarm(5);                       /* never outlive the demo */
        if (part == 2)
            send_volatile(slot, n);
        else
            send_atomic(slot, n);
        _exit(0);
    }
    return pid;
}

static void part1(struct vslot *s)
{
    double t0 = now();
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0) {
        nap_ms(100);
        s->full = 1;
        _exit(0);
    }
    while (!s->full)
        ;
    printf("Part 1: a volatile flag set 100 ms later was seen after %.0f ms"
           "\n", (now() - t0) * 1000);
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
}

/* Print what arrived; returns how many values were right. */
static int show(const char *how, const int got[], int n)
{
    int right = 0;

    printf("  %-22s received", how);
    for (int i = 0; i < n; i++) {
        printf(" %d", got[i]);
        right += got[i] == i + 1;
    }
    printf("\n");
    return right;
}

int main(int argc, char **argv)
{
    struct vslot *vs = mmap(NULL, sizeof *vs, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct aslot *as = mmap(NULL, sizeof *as, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int got[VALUES], n = VALUES + argc - 1, right;
    pid_t pid;

    (void)argv;                         /* n: known only at run time */
    if (vs == MAP_FAILED || as == MAP_FAILED)
        die("mmap");
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(8);                           /* never hang, whatever happens */
    part1(vs);
    vs->full = 0;
    printf("Part 2 and 3: the sender hands over 1 to %d, one at a time.\n",
           VALUES);
    pid = start_sender(vs, 2, n);
    recv_volatile(vs, VALUES, got);
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    right = show("volatile flag:", got, VALUES);
    if (right < VALUES)
        printf("  The flags came, the values did not: the compiler moved"
               " plain accesses\n  past volatile ones (after the sender"
               " finished, value reads %d).\n  objdump -d shows where"
               " send_volatile stores the value.\n", vs->value);
    else
        printf("  This build kept the stores in place; nothing in C obliges"
               " it to\n  (gcc 12 -O2 moves them past the flag).\n");
    pid = start_sender(as, 3, n);
    recv_atomic(as, VALUES, got);
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    show("release/acquire flag:", got, VALUES);
    printf("On x86 both flags compile to plain mov instructions: the CPU"
           " keeps stores\nin order and loads in order, so only the compiler"
           " reorders here. On ARM or\nPOWER the CPU may reorder too, unless"
           " the code says release and acquire.\n");
    return EXIT_SUCCESS;
}
