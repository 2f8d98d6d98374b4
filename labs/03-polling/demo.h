/* demo.h - small helpers the Lab 03 demos share (they are programs, so
 * they may end the process on an error).
 *
 * Include it after <stdio.h>, <stdlib.h>, <time.h>.
 */
#ifndef DEMO_H
#define DEMO_H

/* Print what failed and why, and end the program. */
static inline void die(const char *what)
{
    perror(what);
    exit(EXIT_FAILURE);
}

/* Seconds on the monotonic clock. */
static inline double now(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sleep ms milliseconds, the whole of them even if a signal interrupts. */
static inline void nap_ms(long ms)
{
    struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

    while (nanosleep(&t, &t) == -1)
        ;                               /* EINTR: sleep the rest */
}

#endif
