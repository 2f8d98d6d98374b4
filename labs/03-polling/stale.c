/* stale.c - Lab 03 demo: reused memory hands out yesterday's message.
 *
 * Usage: ./stale          (or: make demo LAB=03 D=stale)
 * A first run of a sender (a child process) leaves a message in a shared
 * slot and dies before anyone reads it. A second run takes over the same
 * memory: without initializing it, its very first poll finds a message
 * that nobody sent in this run. Initializing the slot fixes that. Last,
 * junk bytes, read as a slot by a receiver that trusts them.
 */
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS under -std=c11 */
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

enum { EMPTY = 0, FULL = 1 };

/* A one-message slot, as a mailbox lays it out. */
struct slot {
    atomic_uint state;                  /* EMPTY or FULL */
    uint32_t len;                       /* bytes in data; behind state */
    char data[56];                      /* the message; behind state */
};

/* One poll, as a receiver does it. Prints what it finds. */
static void poll_once(struct slot *s, const char *who)
{
    unsigned state = atomic_load_explicit(&s->state, memory_order_acquire);

    if (state != FULL) {
        printf("  %s: the slot is empty (state %u): nothing yet\n", who,
               state);
        return;
    }
    printf("  %s: got \"%.*s\" (%u bytes)\n", who,
           (int)(s->len < sizeof s->data ? s->len : sizeof s->data),
           s->data, s->len);
}

/* The first run: send one message, then die before anyone reads it. */
static void first_run(struct slot *s)
{
    static const char msg[] = "SELL all 500 shares";
    pid_t pid = fork();

    if (pid == -1)
        die("fork");
    if (pid == 0) {
        memcpy(s->data, msg, sizeof msg);
        s->len = (uint32_t)strlen(msg);
        atomic_store_explicit(&s->state, FULL, memory_order_release);
        _exit(1);                       /* crashed before its peer read it */
    }
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
}

/* What an init function does: the slot is empty, whatever it held. */
static void slot_init(struct slot *s)
{
    memset(s->data, 0, sizeof s->data);
    s->len = 0;
    atomic_init(&s->state, EMPTY);
}

int main(void)
{
    struct slot *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    unsigned junk;

    if (s == MAP_FAILED)
        die("mmap");
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("Run 1 sent \"SELL all 500 shares\" and crashed before it was"
           " read.\nRun 2 starts on the same memory; its sender has sent"
           " nothing yet.\n");
    first_run(s);
    poll_once(s, "run 2, no init  ");
    printf("  That message is from run 1: run 2 would act on it.\n");

    first_run(s);
    slot_init(s);
    poll_once(s, "run 2, with init");

    memset(s, 0xa5, sizeof *s);         /* what a used page might hold */
    junk = atomic_load(&s->state);
    printf("Junk (0xa5 bytes) where the slot lies: state reads 0x%x, len"
           " %u.\n", junk, s->len);
    printf("  A receiver testing state != EMPTY would copy a %u-byte message;"
           "\n  one testing state == FULL sees nothing. Neither check makes"
           " junk safe:\n  only initializing the slot before anyone uses it"
           " does.\n", s->len);
    slot_init(s);
    poll_once(s, "after init      ");
    printf("The same happens with a shm_open object or a mapped file: they"
           " keep their\nbytes after every process has gone, and a new run"
           " maps them as they were.\n");
    if (munmap(s, sizeof *s) == -1)
        die("munmap");
    return EXIT_SUCCESS;
}
