/* bench.c - Lab 06: shared memory against pipes, measured.
 *
 * Usage: bench [-c CSV_FILE] [-s SVG_FILE] [-q] [-r RING_BYTES]
 *
 * Moves the same data between two processes through a pipe and through
 * your channel (chan.c), in messages of 64 B, 4 KiB, 64 KiB and 1 MiB, and
 * prints a table of
 *   - throughput (MiB/s): one process sends messages for a fixed time, the
 *     other receives them and checks each one's sequence number;
 *   - round-trip latency (median and 99th percentile, us): one process
 *     sends a message, the other sends it back, over and over;
 *   - single-core memcpy bandwidth for the same sizes: the ceiling.
 * Each figure comes from RUNS timed runs (throughput: the median run;
 * latency: all their round trips together). The two processes are pinned
 * to two CPUs, and a run during which they waited for a CPU (busy with
 * other work) more than BUSY of the time is done again; rows that stay
 * disturbed are marked '*'. Options:
 *   -c FILE  also write the figures as CSV: a header line, then lines of
 *            transport,msg_bytes,throughput_mib_s,latency_us (transport
 *            pipe, shm or memcpy; latency: median round trip, empty for
 *            memcpy);
 *   -s FILE  also write an SVG plot of throughput against message size;
 *   -q       quick smoke run: tiny amounts, meaningless figures;
 *   -r N     ring size of the channel in bytes (a power of two; default
 *            4 MiB).
 * Exits 0, or 1 with a message on standard error.
 *
 * A trusted tool of the lab: linked with your chan.c, never handed in.
 */
#define _GNU_SOURCE                     /* sched_setaffinity, CPU_SET */
#include "chan.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSIZES 4
#define RUNS 5                          /* timed runs per figure */
#define RUN_SECS 0.08                   /* one timed run */
#define QUICK_SECS 0.005                /* one timed run with -q */
#define MAX_SAMPLES 200000              /* round trips kept per figure */
#define WARMUP 10                       /* untimed round trips per run */
#define STALL_SECS 20                   /* longest a run may take */
#define BUSY 0.10                       /* a run that waited longer than this
                                         * share of its time for a CPU was
                                         * disturbed by other processes */
#define RETRIES 10                      /* disturbed runs redone per size */
#define RING_DEFAULT ((size_t)4 << 20)  /* holds 4 of the largest messages */
#define MIB (1024.0 * 1024.0)

static const size_t sizes[NSIZES] = { 64, 4096, 65536, 1048576 };

enum kind { PIPE, SHM, MEMCPY, NKINDS };

static const char *const kind_name[NKINDS] = { "pipe", "shm", "memcpy" };

/* The figures for one transport and one message size. */
struct figure {
    double mib_s;                       /* throughput, MiB/s */
    double p50_us;                      /* median round trip, us */
    double p99_us;                      /* 99th percentile round trip, us */
    int busy;                           /* 1: kept a run that other
                                         * processes disturbed */
};

/* The whole run's settings and results. */
static struct {
    double secs;                        /* length of one timed run, s */
    size_t ring;                        /* channel capacity, bytes */
    struct figure fig[NKINDS][NSIZES];  /* the results */
    double *samples[2];                 /* PIPE, SHM: round trips of one
                                         * message size, us */
    size_t nsamples[2];                 /* used entries of samples[k] */
    int ready_fd;                       /* child: tells the parent "ready" */
    int cpu[2];                         /* parent's and child's CPU, or -1 */
    volatile pid_t child;               /* the run's child, for on_stall */
    double delay;                       /* s the run's child waited for a CPU */
    int retries[NSIZES];                /* disturbed runs done again */
} B = { .ready_fd = -1, .cpu = { -1, -1 } };

/* One direction of a transport: a pipe, or a channel and its name. */
struct link {
    enum kind kind;                     /* PIPE or SHM */
    int fd[2];                          /* pipe: read end, write end; -1 */
    struct chan *ch;                    /* shm: this process's end */
    char name[64];                      /* shm: the object's name, or "" */
};

static void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
    exit(EXIT_FAILURE);
}

static double now(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SIGALRM: a run took longer than STALL_SECS. Only async-signal-safe
 * calls here. */
static void on_stall(int sig)
{
    static const char msg[] = "bench: a run made no progress for a long "
                              "time (a lost wake-up in chan.c?)\n";
    (void)sig;
    if (B.child > 0)
        kill(B.child, SIGKILL);
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(EXIT_FAILURE);
}

/* A page-aligned buffer of n bytes, touched so that no page fault is
 * timed. Aligned because memcpy's speed depends on where its source and
 * destination sit within a page: on some CPUs it drops twentyfold when
 * they are a few bytes apart modulo 4096, as two malloc blocks can be. */
static unsigned char *buffer(size_t n)
{
    size_t size = (n + 4095) & ~(size_t)4095;
    unsigned char *p = aligned_alloc(4096, size);

    if (p == NULL)
        die("aligned_alloc");
    memset(p, 0xa5, size);
    return p;
}

/* Make one direction: a pipe, or a new channel with a unique name. */
static void link_make(struct link *l, enum kind kind, int tag)
{
    *l = (struct link){ .kind = kind, .fd = { -1, -1 } };
    if (kind == PIPE) {
        if (pipe(l->fd) == -1)
            die("pipe");
        return;
    }
    snprintf(l->name, sizeof l->name, "/bench06.%ld.%d", (long)getpid(), tag);
    if (chan_create(l->name, B.ring) == -1)
        die("chan_create");
}

/* In the process that uses end `end` of l: open it, drop the other. */
static void link_open(struct link *l, int end)
{
    int drop = end == CHAN_READ ? 1 : 0;

    if (l->kind == SHM) {
        if ((l->ch = chan_open(l->name, end)) == NULL)
            die("chan_open");
        return;
    }
    if (close(l->fd[drop]) == -1)
        die("close");
    l->fd[drop] = -1;
}

/* Remove a channel's name: both ends are open, nobody needs it now. */
static void link_unlink(struct link *l)
{
    if (l->kind == SHM && chan_unlink(l->name) == -1)
        die("chan_unlink");
    l->name[0] = '\0';
}

/* Close this process's end of l. */
static void link_close(struct link *l)
{
    if (l->kind == SHM && chan_close(l->ch) == -1)
        die("chan_close");
    for (int i = 0; l->kind == PIPE && i < 2; i++)
        if (l->fd[i] != -1 && close(l->fd[i]) == -1)
            die("close");
}

/* Send the n bytes at buf. */
static void link_send(struct link *l, const void *buf, size_t n)
{
    const char *p = buf;

    if (l->kind == SHM) {
        if (chan_write(l->ch, buf, n) != (ssize_t)n)
            die("chan_write");
        return;
    }
    while (n > 0) {
        ssize_t k = write(l->fd[1], p, n);
        if (k == -1 && errno != EINTR)
            die("write to the pipe");
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        }
    }
}

/* Receive exactly n bytes into buf. Returns n, or 0 if the stream ended
 * before the first byte; a stream that ends mid-message is an error. */
static size_t link_recv(struct link *l, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    ssize_t k = 1;

    while (got < n && k != 0) {
        k = l->kind == SHM ? chan_read(l->ch, p + got, n - got)
                           : read(l->fd[0], p + got, n - got);
        if (k == -1 && errno != EINTR)
            die(l->kind == SHM ? "chan_read" : "read from the pipe");
        if (k > 0)
            got += (size_t)k;
    }
    if (got != 0 && got != n) {
        fprintf(stderr, "bench: the stream ended %zu bytes into a %zu-byte "
                "message\n", got, n);
        exit(EXIT_FAILURE);
    }
    return got;
}

/* Choose two CPUs this process may run on, for the parent and the child:
 * pinned to different CPUs, the two processes really run in parallel,
 * and every run places them the same way. With one CPU, nothing is
 * pinned. */
static void choose_cpus(void)
{
    cpu_set_t set;
    int n = 0;

    if (sched_getaffinity(0, sizeof set, &set) == -1)
        die("sched_getaffinity");
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set))
            B.cpu[n++] = c;
    if (n < 2)
        B.cpu[0] = B.cpu[1] = -1;
}

/* Pin the calling process to B.cpu[which] (if there is one). */
static void pin(int which)
{
    cpu_set_t set;

    if (B.cpu[which] < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(B.cpu[which], &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1)
        die("sched_setaffinity");
}

/* In the child: its ends are open; let the parent go on. */
static void child_ready(void)
{
    if (write(B.ready_fd, "r", 1) != 1 || close(B.ready_fd) == -1)
        die("telling the parent");
}

/* Fork a child that runs fn(links, size), then exits. Returns its pid
 * once the child has called child_ready(). */
static pid_t spawn(void (*fn)(struct link *, size_t), struct link *links,
                   size_t size)
{
    int rp[2];
    ssize_t k;
    char c;
    pid_t pid;

    if (pipe(rp) == -1)
        die("pipe");
    fflush(NULL);
    if ((pid = fork()) == -1)
        die("fork");
    if (pid == 0) {
        pin(1);
        B.ready_fd = rp[1];
        if (close(rp[0]) == -1)
            die("close");
        fn(links, size);
        _exit(EXIT_SUCCESS);
    }
    B.child = pid;
    if (close(rp[1]) == -1)
        die("close");
    while ((k = read(rp[0], &c, 1)) == -1 && errno == EINTR)
        ;
    if (k != 1) {
        fprintf(stderr, "bench: the child process could not start\n");
        exit(EXIT_FAILURE);
    }
    if (close(rp[0]) == -1)
        die("close");
    return pid;
}

/* Seconds process pid (0: this one) has spent runnable but not running,
 * waiting for a CPU, from /proc/PID/schedstat; 0 if the kernel does not
 * say. */
static double run_delay(pid_t pid)
{
    char path[64];
    unsigned long long cpu, wait;
    FILE *f;
    int n;

    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/schedstat");
    else
        snprintf(path, sizeof path, "/proc/%ld/schedstat", (long)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    n = fscanf(f, "%llu %llu", &cpu, &wait);
    fclose(f);
    return n == 2 ? (double)wait / 1e9 : 0;
}

/* Wait for the run's child; it must have exited 0. Adds the time it
 * waited for a CPU to B.delay (read while it is a zombie). */
static void reap(pid_t pid)
{
    siginfo_t si;
    int st;

    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1)
        if (errno != EINTR)
            die("waitid");
    B.delay += run_delay(pid);
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    B.child = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: the child process failed (wait status "
                "0x%x)\n", st);
        exit(EXIT_FAILURE);
    }
}

/* Child of a throughput run: send numbered messages for B.secs. */
static void tp_sender(struct link *l, size_t size)
{
    unsigned char *buf = buffer(size);
    int batch = size < 4096 ? 16 : 1;   /* messages per look at the clock */
    uint64_t seq = 0;
    double end;

    link_open(l, CHAN_WRITE);
    child_ready();
    end = now() + B.secs;
    do {
        for (int i = 0; i < batch; i++, seq++) {
            memcpy(buf, &seq, sizeof seq);
            link_send(l, buf, size);
        }
    } while (now() < end);
    link_close(l);
    free(buf);
}

/* One throughput run: receive until the end of stream. Returns MiB/s. */
static double tp_run(enum kind kind, size_t size)
{
    unsigned char *buf = buffer(size);
    uint64_t seq = 0, got;
    struct link l;
    double t0, t;
    pid_t pid;

    link_make(&l, kind, 0);
    pid = spawn(tp_sender, &l, size);
    link_open(&l, CHAN_READ);
    link_unlink(&l);
    t0 = now();
    for (; link_recv(&l, buf, size) == size; seq++) {
        memcpy(&got, buf, sizeof got);
        if (got != seq) {
            fprintf(stderr, "bench: %s: message %llu arrived as message %llu:"
                    " data was lost, repeated or reordered\n", kind_name[kind],
                    (unsigned long long)seq, (unsigned long long)got);
            exit(EXIT_FAILURE);
        }
    }
    t = now() - t0;
    link_close(&l);
    reap(pid);
    free(buf);
    return (double)seq * (double)size / MIB / t;
}

/* Child of a latency run: send every message straight back. */
static void rt_echo(struct link *l, size_t size)
{
    unsigned char *buf = buffer(size);

    link_open(&l[0], CHAN_READ);
    link_open(&l[1], CHAN_WRITE);
    child_ready();
    while (link_recv(&l[0], buf, size) == size)
        link_send(&l[1], buf, size);
    link_close(&l[1]);
    link_close(&l[0]);
    free(buf);
}

/* One round trip of l: send buf, receive it back. Returns its time, s. */
static double round_trip(struct link *l, unsigned char *buf, size_t size)
{
    double t = now();

    link_send(&l[0], buf, size);
    if (link_recv(&l[1], buf, size) != size) {
        fprintf(stderr, "bench: %s: the echo stopped\n", kind_name[l->kind]);
        exit(EXIT_FAILURE);
    }
    return now() - t;
}

/* One latency run: a few round trips to warm up, then timed ones for
 * B.secs (at least one), appended to B.samples[kind]. */
static void rt_run(enum kind kind, size_t size)
{
    unsigned char *buf = buffer(size);
    int warmup = size < 65536 ? WARMUP : 2;
    struct link l[2];
    double end;
    pid_t pid;

    link_make(&l[0], kind, 0);
    link_make(&l[1], kind, 1);
    pid = spawn(rt_echo, l, size);
    link_open(&l[0], CHAN_WRITE);
    link_open(&l[1], CHAN_READ);
    link_unlink(&l[0]);
    link_unlink(&l[1]);
    for (int i = 0; i < warmup; i++)
        round_trip(l, buf, size);
    end = now() + B.secs;
    double *v = B.samples[kind];
    size_t *n = &B.nsamples[kind];
    do
        v[(*n)++] = round_trip(l, buf, size) * 1e6;
    while (now() < end && *n < MAX_SAMPLES);
    link_close(&l[0]);                  /* the child sees end of stream */
    if (link_recv(&l[1], buf, size) != 0) {
        fprintf(stderr, "bench: %s: an unexpected message\n", kind_name[kind]);
        exit(EXIT_FAILURE);
    }
    link_close(&l[1]);
    reap(pid);
    free(buf);
}

/* One memcpy run: copy size bytes over and over for B.secs. MiB/s. */
static double mc_run(size_t size)
{
    /* Called through a volatile pointer, so the compiler cannot drop or
     * merge copies whose result nobody reads. */
    void *(*volatile copy)(void *, const void *, size_t) = memcpy;
    unsigned char *src = buffer(size), *dst = buffer(size);
    long batch = size < 65536 ? (long)(65536 / size) : 1, n = 0;
    double t0 = now(), end = t0 + B.secs;

    do {
        for (long i = 0; i < batch; i++)
            copy(dst, src, size);
        n += batch;
    } while (now() < end);
    double t = now() - t0;
    free(src);
    free(dst);
    return (double)n * (double)size / MIB / t;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of the n values at v (which it sorts). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], by_value);
    return v[n / 2];
}

/* One timed run of transport k with messages of `size` bytes: for
 * throughput (MiB/s in *mib_s) or, if `lat`, for latency (round trips
 * appended to B.samples[k]). Returns the share of the run's time that its
 * processes spent waiting for a CPU that something else was using. */
static double one_run(enum kind k, size_t size, int lat, double *mib_s)
{
    double d0 = run_delay(0), t0 = now();

    B.delay = 0;
    alarm(STALL_SECS);
    if (lat)
        rt_run(k, size);
    else
        *mib_s = k == MEMCPY ? mc_run(size) : tp_run(k, size);
    alarm(0);
    return (B.delay + run_delay(0) - d0) / (now() - t0);
}

/* One run that counts: a run that waited for a CPU more than BUSY of its
 * time is done again (a few times per message size at most); if the one
 * kept still did, the figure is marked. */
static void clean_run(enum kind k, int s, int lat, double *mib_s)
{
    size_t keep = lat ? B.nsamples[k] : 0;
    double busy;

    while ((busy = one_run(k, sizes[s], lat, mib_s)) > BUSY &&
           B.retries[s] < RETRIES) {
        B.retries[s]++;
        if (lat)
            B.nsamples[k] = keep;       /* forget the disturbed samples */
    }
    if (busy > BUSY)
        B.fig[k][s].busy = 1;
}

/* All figures for message size index s. The runs of the transports take
 * turns, so that a burst of load from elsewhere slows all of them rather
 * than one; each figure is the median of its runs. */
static void measure_size(int s)
{
    double tp[NKINDS][RUNS];

    B.nsamples[PIPE] = B.nsamples[SHM] = 0;
    for (int r = 0; r < RUNS; r++)
        for (int k = 0; k < NKINDS; k++)
            for (int lat = 0; lat <= (k != MEMCPY); lat++)
                clean_run(k, s, lat, &tp[k][r]);
    for (int k = 0; k < NKINDS; k++) {
        struct figure *f = &B.fig[k][s];
        f->mib_s = median(tp[k], RUNS);
        if (k == MEMCPY)
            continue;
        double *v = B.samples[k];
        size_t n = B.nsamples[k];
        f->p50_us = median(v, n);
        f->p99_us = v[(size_t)(0.99 * (double)(n - 1))];
    }
}

/* "64 B", "4 KiB", "1 MiB". */
static const char *size_name(size_t n)
{
    static char buf[NSIZES][24];
    static int k;

    k = (k + 1) % NSIZES;
    if (n >= (1u << 20))
        snprintf(buf[k], sizeof buf[k], "%zu MiB", n >> 20);
    else if (n >= 1024)
        snprintf(buf[k], sizeof buf[k], "%zu KiB", n >> 10);
    else
        snprintf(buf[k], sizeof buf[k], "%zu B", n);
    return buf[k];
}

static void print_table(void)
{
    int busy = 0, retries = 0;

    printf("\n%-8s %9s %9s %9s %9s %11s  %-17s %s\n", "message", "memcpy",
           "pipe", "shm", "shm/pipe", "shm/memcpy", "pipe round trip",
           "shm round trip");
    printf("%-8s %9s %9s %9s %9s %11s  %-17s %s\n", "size", "MiB/s",
           "MiB/s", "MiB/s", "", "", "p50/p99 us", "p50/p99 us");
    for (int s = 0; s < NSIZES; s++) {
        struct figure *m = &B.fig[MEMCPY][s], *p = &B.fig[PIPE][s];
        struct figure *c = &B.fig[SHM][s];
        int b = m->busy || p->busy || c->busy;
        char rp[32], rc[32];
        snprintf(rp, sizeof rp, "%.1f/%.1f", p->p50_us, p->p99_us);
        snprintf(rc, sizeof rc, "%.1f/%.1f", c->p50_us, c->p99_us);
        printf("%-8s %9.0f %9.0f %9.0f %8.2fx %10.1f%%  %-17s %-17s%s\n",
               size_name(sizes[s]), m->mib_s, p->mib_s, c->mib_s,
               c->mib_s / p->mib_s, 100 * c->mib_s / m->mib_s, rp, rc,
               b ? " *" : "");
        busy |= b;
        retries += B.retries[s];
    }
    if (retries > 0)
        printf("(%d runs were done again: other processes kept them waiting "
               "for a CPU)\n", retries);
    if (busy)
        printf("* some runs of this row waited for a CPU more than %.0f%% of "
               "the time even so:\n  other processes are busy here, and these"
               " figures are not reliable. Run again later.\n", 100 * BUSY);
}

static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die(path);
    fprintf(f, "transport,msg_bytes,throughput_mib_s,latency_us\n");
    for (int k = 0; k < NKINDS; k++) {
        for (int s = 0; s < NSIZES; s++) {
            fprintf(f, "%s,%zu,%.1f,", kind_name[k], sizes[s],
                    B.fig[k][s].mib_s);
            if (k != MEMCPY)
                fprintf(f, "%.2f", B.fig[k][s].p50_us);
            fputc('\n', f);
        }
    }
    if (ferror(f) || fclose(f) == EOF)
        die(path);
}

/* The plot: throughput (log scale) against message size (log scale). */
#define SVG_W 640
#define SVG_H 420
#define PL 80                           /* plot area: left, right, top, */
#define PR 620                          /* bottom edges in pixels */
#define PT 50
#define PB 360

static const char *const svg_color[NKINDS] = { "#d62728", "#1f77b4",
                                               "#555555" };
static const char *const svg_label[NKINDS] = { "pipe", "shared memory",
                                               "memcpy (one CPU)" };

/* 10^e, for a small integer e. */
static double pow10i(int e)
{
    double p = 1;

    for (; e > 0; e--)
        p *= 10;
    for (; e < 0; e++)
        p /= 10;
    return p;
}

/* log10(v) for v > 0, without libm (the tools are linked without -lm):
 * v = m * 2^k with m in [1, 2), and ln m = 2 atanh((m - 1) / (m + 1)). */
static double log10_(double v)
{
    double z, z2, term, sum = 0;
    int k = 0;

    for (; v >= 2; v /= 2)
        k++;
    for (; v < 1; v *= 2)
        k--;
    z = (v - 1) / (v + 1);
    z2 = z * z;
    term = z;
    for (int i = 1; i < 40; i += 2, term *= z2)
        sum += term / i;
    return (k * 0.69314718055994531 + 2 * sum) / 2.30258509299404568;
}

/* Pixel x of message size index s (the sizes are evenly spaced in log). */
static double svg_x(int s)
{
    return PL + 30 + s * (PR - PL - 60) / (double)(NSIZES - 1);
}

/* Pixel y of v MiB/s on a log axis from 10^lo to 10^hi. */
static double svg_y(double v, int lo, int hi)
{
    double l = v > 0 ? log10_(v) : lo;

    return PB - (l - lo) * (PB - PT) / (hi - lo);
}

static void svg_axes(FILE *f, int lo, int hi)
{
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' "
            "stroke='black'/>\n", PL, PT, PR - PL, PB - PT);
    for (int e = lo; e <= hi; e++) {
        double y = svg_y(pow10i(e), lo, hi);
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>\n"
                "<text x='%d' y='%.1f' text-anchor='end'>%.0f</text>\n",
                PL, y, PR, y, PL - 6, y + 4, pow10i(e));
    }
    for (int s = 0; s < NSIZES; s++)
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%s</text>\n",
                svg_x(s), PB + 18, size_name(sizes[s]));
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>message size (log "
            "scale)</text>\n", (PL + PR) / 2, PB + 40);
    fprintf(f, "<text x='20' y='%d' text-anchor='middle' transform='rotate(-90"
            " 20 %d)'>throughput, MiB/s (log scale)</text>\n",
            (PT + PB) / 2, (PT + PB) / 2);
}

static void svg_series(FILE *f, int k, int lo, int hi)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='",
            svg_color[k], k == MEMCPY ? " stroke-dasharray='6 4'" : "");
    for (int s = 0; s < NSIZES; s++)
        fprintf(f, "%.1f,%.1f ", svg_x(s), svg_y(B.fig[k][s].mib_s, lo, hi));
    fprintf(f, "'/>\n");
    for (int s = 0; s < NSIZES; s++)
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'/>\n", svg_x(s),
                svg_y(B.fig[k][s].mib_s, lo, hi), svg_color[k]);
    fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' "
            "stroke-width='2'%s/><text x='%d' y='%d'>%s</text>\n",
            PL + 10 + 150 * k, PT - 12, PL + 40 + 150 * k, PT - 12,
            svg_color[k], k == MEMCPY ? " stroke-dasharray='6 4'" : "",
            PL + 46 + 150 * k, PT - 8, svg_label[k]);
}

static void write_svg(const char *path)
{
    double lo_v = 1e300, hi_v = 0;
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die(path);
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < NSIZES; s++) {
            double v = B.fig[k][s].mib_s;
            lo_v = v > 0 && v < lo_v ? v : lo_v;
            hi_v = v > hi_v ? v : hi_v;
        }
    int lo = 0, hi = 1;                 /* whole decades around the data */
    while (lo_v < 1e300 && pow10i(lo) > lo_v)
        lo--;
    while (lo_v < 1e300 && pow10i(lo + 1) <= lo_v)
        lo++;
    while (pow10i(hi) < hi_v)
        hi++;
    hi = hi > lo ? hi : lo + 1;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'"
            " font-family='sans-serif' font-size='13'>\n"
            "<rect width='100%%' height='100%%' fill='white'/>\n"
            "<text x='%d' y='18' text-anchor='middle' font-size='15'>Lab 06: "
            "throughput between two processes (ring %s)</text>\n",
            SVG_W, SVG_H, SVG_W / 2, size_name(B.ring));
    svg_axes(f, lo, hi);
    for (int k = 0; k < NKINDS; k++)
        svg_series(f, k, lo, hi);
    fprintf(f, "</svg>\n");
    if (ferror(f) || fclose(f) == EOF)
        die(path);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench [-c CSV_FILE] [-s SVG_FILE] [-q] "
            "[-r RING_BYTES]\n");
    exit(EXIT_FAILURE);
}

/* Parse the ring size: a power of two in the range chan.h allows. */
static size_t parse_ring(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < CHAN_MIN_CAPACITY ||
        v > CHAN_MAX_CAPACITY || (v & (v - 1)) != 0) {
        fprintf(stderr, "bench: -r %s: the ring size must be a power of two "
                "from %zu to %zu\n", s, CHAN_MIN_CAPACITY, CHAN_MAX_CAPACITY);
        exit(EXIT_FAILURE);
    }
    return (size_t)v;
}

static void measure_all(void)
{
    for (int s = 0; s < NSIZES; s++) {
        measure_size(s);
        printf("  %s messages: done\n", size_name(sizes[s]));
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    const char *csv = NULL, *svg = NULL;
    struct sigaction sa = { .sa_handler = on_stall };
    int opt;

    B.secs = RUN_SECS;
    B.ring = RING_DEFAULT;
    while ((opt = getopt(argc, argv, "c:s:qr:")) != -1) {
        switch (opt) {
        case 'c': csv = optarg; break;
        case 's': svg = optarg; break;
        case 'q': B.secs = QUICK_SECS; break;
        case 'r': B.ring = parse_ring(optarg); break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) == -1 ||
        signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("sigaction");
    for (int k = PIPE; k <= SHM; k++) {
        B.samples[k] = malloc(MAX_SAMPLES * sizeof B.samples[k][0]);
        if (B.samples[k] == NULL)
            die("malloc");
    }
    choose_cpus();
    pin(0);
    if (B.cpu[0] >= 0)
        printf("bench: sender and receiver pinned to CPUs %d and %d; ",
               B.cpu[0], B.cpu[1]);
    else
        printf("bench: one CPU: the processes take turns; ");
    printf("ring %s; pipe buffer: the default; each figure from %d runs of "
           "%.3f s\n", size_name(B.ring), RUNS, B.secs);
    fflush(stdout);
    measure_all();
    print_table();
    if (csv != NULL)
        write_csv(csv);
    if (svg != NULL)
        write_svg(svg);
    free(B.samples[PIPE]);
    free(B.samples[SHM]);
    return EXIT_SUCCESS;
}
