/* torn.c - Lab 03 demo: a flag raised before the payload is written.
 *
 * Usage: ./torn           (or: make demo LAB=03 D=torn)
 * Part 1, repeatable: a writer raises the flag, then writes its text with
 * a pause half-way (to make the window wide enough to see); the reader
 * copies the text soon after it sees the flag. It gets half the new text
 * and half the old. The same writer in the right order (text, then flag)
 * delivers the whole text.
 * Part 2, not repeatable: no pauses, a stream of messages through a slot,
 * counting the bad ones, first with the flag first, then with it last.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS, sched_yield */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define OLD_TEXT "pay 100 EUR to Alice"
#define NEW_TEXT "pay 999 EUR to Mallory"
#define WORDS 32                        /* payload words in part 2 */
#define STREAM_MAX 200000               /* messages in part 2, at most */
#define STREAM_SECS 1.0                 /* and at most this long */

/* The slot of part 1. */
struct note {
    atomic_int full;                    /* 1: a text is there to read */
    char text[64];                      /* '\0'-terminated; behind full */
};

/* The slot of part 2. */
struct slot {
    atomic_int full;                    /* 1: a message is there to read */
    atomic_int stop;                    /* 1: the reader has had enough */
    uint64_t word[WORDS];               /* every word = the sequence number */
};

static void *map_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        die("mmap");
    return p;
}

static void reap(pid_t pid)
{
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
}

/* Part 1's writer: NEW_TEXT in two halves, 50 ms apart; the flag before
 * both (flag_first) or after both. */
static void slow_writer(struct note *n, int flag_first)
{
    static const char text[] = NEW_TEXT;
    size_t half = strlen(text) / 2;

    if (flag_first)
        atomic_store_explicit(&n->full, 1, memory_order_release);
    memcpy(n->text, text, half);
    nap_ms(50);
    memcpy(n->text + half, text + half, sizeof text - half);
    if (!flag_first)
        atomic_store_explicit(&n->full, 1, memory_order_release);
}

static void part1(struct note *n, int flag_first)
{
    char copy[sizeof n->text];
    pid_t pid;

    strcpy(n->text, OLD_TEXT);          /* the last message, already read */
    atomic_store(&n->full, 0);
    pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        slow_writer(n, flag_first);
        _exit(0);
    }
    while (atomic_load_explicit(&n->full, memory_order_acquire) == 0)
        ;
    nap_ms(10);                         /* the reader had other work first */
    memcpy(copy, n->text, sizeof copy);
    copy[sizeof copy - 1] = '\0';
    reap(pid);
    printf("  %-14s the reader got \"%s\"\n",
           flag_first ? "flag first:" : "payload first:", copy);
}

/* Part 2: wait until s->full is `want` (or the reader stops). */
static void wait_for(struct slot *s, int want)
{
    for (unsigned spins = 0;
         atomic_load_explicit(&s->full, memory_order_acquire) != want &&
         !atomic_load(&s->stop); spins++)
        if (spins > 1000)
            sched_yield();              /* do not starve a peer on our CPU */
}

static void fast_writer(struct slot *s, int flag_first)
{
    for (uint64_t seq = 1; !atomic_load(&s->stop); seq++) {
        wait_for(s, 0);
        if (flag_first)
            atomic_store_explicit(&s->full, 1, memory_order_release);
        for (int i = 0; i < WORDS; i++)
            s->word[i] = seq;
        if (!flag_first)
            atomic_store_explicit(&s->full, 1, memory_order_release);
    }
}

/* Part 2's reader. Returns how many messages it took; *bad gets how many
 * of them were torn (two messages mixed) or stale (the last one again). */
static long fast_reader(struct slot *s, long *bad)
{
    uint64_t copy[WORDS], last = 0;
    double end = now() + STREAM_SECS;
    long n;

    *bad = 0;
    for (n = 0; n < STREAM_MAX && (n % 1024 != 0 || now() < end); n++) {
        wait_for(s, 1);
        memcpy(copy, s->word, sizeof copy);
        atomic_store_explicit(&s->full, 0, memory_order_release);
        int ok = copy[0] != last;
        for (int i = 1; i < WORDS && ok; i++)
            ok = copy[i] == copy[0];
        *bad += !ok;
        last = copy[0];
    }
    atomic_store(&s->stop, 1);
    return n;
}

static void part2(struct slot *s, int flag_first)
{
    long n, bad;
    pid_t pid;

    memset(s, 0, sizeof *s);
    pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        fast_writer(s, flag_first);
        _exit(0);
    }
    n = fast_reader(s, &bad);
    reap(pid);
    printf("  %-14s %ld of %ld messages arrived torn or stale\n",
           flag_first ? "flag first:" : "payload first:", bad, n);
}

int main(void)
{
    struct note *n = map_shared(sizeof *n);
    struct slot *s = map_shared(sizeof *s);

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("Part 1: the writer replaces \"%s\"\nwith \"%s\", pausing 50 ms"
           " half-way; the reader\ncopies the text 10 ms after it sees the"
           " flag.\n", OLD_TEXT, NEW_TEXT);
    part1(n, 1);
    part1(n, 0);
    printf("Part 2: no pauses; %d-byte messages for up to %.0f s.\n",
           (int)sizeof s->word, STREAM_SECS);
    part2(s, 1);
    part2(s, 0);
    printf("Part 1 shows the bug every time, because its writer is slow on"
           " purpose.\nThe count in part 2 depends on the machine and its"
           " load: a run with 0\nbad messages would prove nothing. With the"
           " flag last, 0 is guaranteed.\n");
    munmap(n, sizeof *n);
    munmap(s, sizeof *s);
    return EXIT_SUCCESS;
}
