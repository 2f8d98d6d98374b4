/* look.c - checks a suite makes of a subject from outside, with their
 * failure messages (cx.h: cx_expect_*).
 *
 * Runs only in the checker, never beside submitted code.
 */
#define _GNU_SOURCE
#include "cx.h"
#include "hx.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cx_expect_bytes(struct cx_subject *s, const char *what, uintptr_t p,
                     size_t len, unsigned char c)
{
    unsigned char *buf = malloc(len);

    EXPECT(buf != NULL, "test setup: out of memory");
    EXPECT(cx_peek(s->pid, p, buf, len) == 0, "%s: the memory cannot be read "
           "(is it mapped, and readable?)", what);
    for (size_t i = 0; i < len; i++)
        EXPECT(buf[i] == c, "%s: expected byte %zu to be 0x%02x, got 0x%02x",
               what, i, c, buf[i]);
    free(buf);
}

void cx_expect_mapped(struct cx_subject *s, const char *what, uintptr_t p,
                      size_t len)
{
    struct cx_map m;

    EXPECT(p % cx_page() == 0, "%s: expected a page-aligned address, got %p",
           what, (void *)p);
    EXPECT(cx_mapping(s->pid, p, &m) == 1, "%s: %p is not mapped in the "
           "process (/proc/PID/maps)", what, (void *)p);
    EXPECT(m.end - p >= len, "%s: expected %zu bytes mapped at %p, got %zu",
           what, len, (void *)p, (size_t)(m.end - p));
    EXPECT(m.perms[0] == 'r' && m.perms[1] == 'w', "%s: expected a readable, "
           "writable mapping, got %s", what, m.perms);
}

void cx_expect_shared(struct cx_subject *s, const char *what, uintptr_t p)
{
    size_t pg = cx_page();
    unsigned char *pat = malloc(pg), *got = malloc(pg);
    struct sx_req q = { .op = SX_FORK };
    struct sx_rep r;
    struct cx_map m;

    EXPECT(pat && got, "test setup: out of memory");
    cx_call(s, "fork()", &q, &r);
    pid_t child = (pid_t)r.ret;
    EXPECT(child > 0 && child != s->pid && cx_parent(child) == s->pid,
           "%s: fork() in the code under test gave no child", what);
    cx_freeze(s->pid, 1);
    cx_freeze(child, 1);
    for (size_t i = 0; i < pg; i++)
        pat[i] = (unsigned char)(cx_rand() | 1);
    EXPECT(cx_poke(child, p, pat, pg) == 0, "%s: the child cannot write the "
           "page (is the mapping writable?)", what);
    EXPECT(cx_peek(s->pid, p, got, pg) == 0, "%s: the page cannot be read", what);
    EXPECT(memcmp(pat, got, pg) == 0, "%s: the parent did not see the child's "
           "write: expected 0x%02x, got 0x%02x (is the mapping MAP_SHARED?)",
           what, pat[0], got[0]);
    EXPECT(cx_mapping(s->pid, p, &m) == 1 && m.perms[3] == 's', "%s: expected "
           "a shared mapping (rw-s in /proc/PID/maps), got %s", what, m.perms);
    cx_freeze(s->pid, 0);
    q.a[0] = (uint64_t)child;
    cx_call(s, "ending the forked child", &q, &r);
    free(pat);
    free(got);
}

/* Where the top chunk of glibc's main heap starts in the copy of the heap
 * at buf (size bytes): the chunks from the start up to it are in use or
 * cached. Each size read is bounds-checked: the subject wrote them. */
static size_t look_top(const unsigned char *buf, size_t size)
{
    size_t off = 0, last = 0;
    uint64_t sz;

    while (off + 16 <= size) {
        memcpy(&sz, buf + off + 8, sizeof sz);
        sz &= ~(uint64_t)7;
        if (sz < 16 || sz > size - off)
            break;
        last = off;
        off += sz;
    }
    return last;
}

long cx_heap(pid_t pid)
{
    char line[512], perms[5], name[64];
    unsigned long lo, hi, heap_lo = 0, heap_hi = 0;
    long anon = 0, top = 0;

    int fd = cx_open(pid, "maps", O_RDONLY);
    FILE *f = fd == -1 ? NULL : fdopen(fd, "r");

    if (f == NULL) {
        if (fd != -1)
            close(fd);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        name[0] = '\0';
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %63s", &lo, &hi, perms, name) < 3)
            continue;
        if (strcmp(name, "[heap]") == 0)
            heap_lo = lo, heap_hi = hi;
        else if (name[0] == '\0' && strcmp(perms, "rw-p") == 0)
            anon += (long)(hi - lo);
    }
    fclose(f);
    if (heap_hi - heap_lo > (64ul << 20))
        return -1;
    if (heap_hi > heap_lo) {
        unsigned char *buf = malloc(heap_hi - heap_lo);
        if (buf == NULL || cx_peek(pid, heap_lo, buf, heap_hi - heap_lo) == -1)
            top = -1;
        else
            top = (long)look_top(buf, heap_hi - heap_lo);
        free(buf);
    }
    return top == -1 ? -1 : top + anon;
}

void cx_expect_steady(const char *what, void (*step)(struct cx_subject *, void *),
                      void *ctx)
{
    struct cx_subject s;
    int k = 64 + (int)(cx_rand() % 64);

    cx_start_bare(&s);
    for (int i = 0; i < 4; i++)         /* what a first call sets up once */
        step(&s, ctx);
    long before = cx_heap(s.pid);
    for (int i = 0; i < k; i++)
        step(&s, ctx);
    long after = cx_heap(s.pid), grew = after - before;
    EXPECT(before >= 0 && after >= 0, "test setup: cannot read the heap of the "
           "process");
    EXPECT(grew < 8L * k, "%s, %d more times without Valgrind: the process kept "
           "%ld more bytes of memory (%ld a call). Free what you allocate, "
           "whether or not Valgrind is watching", what, k, grew, grew / k);
    cx_end(&s);
}
