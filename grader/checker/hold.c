/* hold.c - keeping a subject's process inside a write fault (cx_call_held).
 *
 * Runs only in the checker, never beside submitted code. While one call
 * runs, the checker traces the subject and every process it starts
 * (PTRACE_SEIZE with PTRACE_O_TRACEFORK): each of their stops comes here
 * first. A write fault (SIGSEGV, SEGV_ACCERR) inside the held range by a
 * process other than the subject itself is the fact a test needs: the
 * first such process is kept in its signal-delivery stop, the faulting
 * instruction not yet retried, until the test's condition holds or time
 * runs out. Then it gets its SIGSEGV, as every other process does at once,
 * so that the subject's own handler can make the page writable and return.
 * The kernel reports the fault and its address, not the subject: a subject
 * that makes no such fault shows no hold. Every other stop is passed on as
 * it came; once the reply is in, every process still traced is let go.
 */
#define _GNU_SOURCE
#include "cx.h"
#include "hx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#define CX_TRACEES 256

/* The processes being traced. */
struct tracees {
    pid_t pid[CX_TRACEES];      /* 0: a free slot */
};

static double hold_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Note pid as traced (add 1) or gone (add 0). */
static void hold_note(struct tracees *t, pid_t pid, int add)
{
    int free_slot = -1;

    for (int i = 0; i < CX_TRACEES; i++) {
        if (t->pid[i] == pid) {
            if (!add)
                t->pid[i] = 0;
            return;
        }
        if (t->pid[i] == 0 && free_slot == -1)
            free_slot = i;
    }
    if (add && free_slot != -1)
        t->pid[free_slot] = pid;
}

/* Let pid go on from a stop, with signal sig: to its next system call
 * while h waits for one (h->sys, nothing held yet), else freely. */
static void hold_go(const struct cx_hold *h, pid_t pid, int sig)
{
    ptrace(h->sys && h->held == 0 ? PTRACE_SYSCALL : PTRACE_CONT, pid, 0, sig);
}

/* A system-call stop of pid: hold it (returns 1) at the exit of the first
 * call of number h->sys whose argument 1, masked with h->mask, is
 * h->arg1; else let it go on. */
static int hold_sys(struct cx_hold *h, pid_t pid)
{
    struct __ptrace_syscall_info i;

    if (h->held == 0 && ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof i, &i) > 0) {
        if (i.op == PTRACE_SYSCALL_INFO_ENTRY && h->entered == 0 &&
            i.entry.nr == (unsigned long)h->sys &&
            (i.entry.args[1] & h->mask) == h->arg1)
            h->entered = pid;
        else if (i.op == PTRACE_SYSCALL_INFO_EXIT && pid == h->entered) {
            h->held = pid;
            return 1;
        }
    }
    hold_go(h, pid, 0);
    return 0;
}

/* A SIGSEGV stop of pid: hold it (returns 1) if it is the first write
 * fault in h's range by a process other than the subject; count it. */
static int hold_fault(struct cx_subject *s, struct cx_hold *h, pid_t pid)
{
    siginfo_t si;

    if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == -1 || si.si_code != SEGV_ACCERR ||
        (uintptr_t)si.si_addr < h->lo || (uintptr_t)si.si_addr >= h->hi)
        return 0;
    if (pid == s->pid) {
        h->parent_faults++;
        return 0;
    }
    h->faults++;
    if (h->held != 0)
        return 0;
    h->held = pid;
    h->addr = (uintptr_t)si.si_addr;
    return 1;
}

/* Handle what waitpid said of pid (status st); returns with pid running
 * again unless it is now the held one. Returns 1 if a hold began. */
static int hold_event(struct cx_subject *s, struct tracees *t,
                      struct cx_hold *h, pid_t pid, int st)
{
    int sig = WSTOPSIG(st), ev = st >> 16;
    unsigned long child;

    if (!WIFSTOPPED(st)) {              /* it ended */
        hold_note(t, pid, 0);
        if (pid == s->pid) {
            s->status = st;
            s->pid = -1;
        }
        if (pid == h->held)
            h->held = -pid;             /* ended while held */
        return 0;
    }
    hold_note(t, pid, 1);
    if (ev == PTRACE_EVENT_STOP) {      /* a group-stop, or a new tracee's */
        int group = sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
        if (group)
            ptrace(PTRACE_LISTEN, pid, 0, 0);
        else
            hold_go(h, pid, 0);
        return 0;
    }
    if (ev != 0) {                      /* fork, vfork, clone */
        if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0)
            hold_note(t, (pid_t)child, 1);
        hold_go(h, pid, 0);
        return 0;
    }
    if (sig == (SIGTRAP | 0x80))        /* a system call's entry or exit */
        return hold_sys(h, pid);
    if (sig == SIGSEGV && !h->sys && hold_fault(s, h, pid))
        return 1;
    hold_go(h, pid, sig);               /* a signal: delivered as it came */
    return 0;
}

/* Let pid go: stop it, then detach it (a signal it was stopped for is
 * delivered). A child it was starting is noted in t. */
static void hold_detach(struct cx_subject *s, struct cx_hold *h,
                        struct tracees *t, pid_t pid)
{
    unsigned long child;
    int st, ev;

    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
        return;                         /* gone already */
    while (waitpid(pid, &st, __WALL) == -1)
        if (errno != EINTR)
            return;
    if (!WIFSTOPPED(st)) {
        hold_event(s, t, h, pid, st);
        return;
    }
    ev = st >> 16;
    if (ev != 0 && ev != PTRACE_EVENT_STOP &&
        ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0)
        hold_note(t, (pid_t)child, 1);
    ptrace(PTRACE_DETACH, pid, 0, ev == 0 ? WSTOPSIG(st) : 0);
}

/* Let every process in t go, and those they were starting meanwhile. */
static void hold_free(struct cx_subject *s, struct cx_hold *h, struct tracees *t)
{
    for (int more = 1; more;) {
        more = 0;
        for (int i = 0; i < CX_TRACEES; i++) {
            pid_t pid = t->pid[i];
            if (pid != 0) {
                t->pid[i] = 0;
                hold_detach(s, h, t, pid);
                more = 1;
            }
        }
    }
}

/* Let the held process pid go with its SIGSEGV, one instruction at a
 * time: h->step is called after each, until it returns 1 or CX_STEPS
 * passed; then, or at any stop that is not a step (a signal sent to it,
 * a fork, its end: handled as hold_event does), it runs freely. */
static void hold_steps(struct cx_subject *s, struct tracees *t, struct cx_hold *h, pid_t pid)
{
    siginfo_t si;
    int sig = SIGSEGV, st;

    for (h->steps = 0; h->steps < CX_STEPS; h->steps++) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, sig) == -1)
            return;
        while (waitpid(pid, &st, __WALL) == -1)
            if (errno != EINTR)
                return;
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP || st >> 16 != 0 ||
            ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == -1 || si.si_code <= 0) {
            hold_event(s, t, h, pid, st);
            return;
        }
        sig = 0;
        if (h->step(h->ctx))
            break;
    }
    ptrace(PTRACE_CONT, pid, 0, 0);
}

/* Make pid, just seized, stop at each system call (it runs freely after
 * PTRACE_SEIZE). Returns 0, or -1 with errno set. */
static int hold_syscalls(pid_t pid)
{
    int st;

    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
        return -1;
    while (waitpid(pid, &st, __WALL) == -1)
        if (errno != EINTR)
            return -1;
    if (!WIFSTOPPED(st)) {
        errno = ESRCH;
        return -1;
    }
    return (int)ptrace(PTRACE_SYSCALL, pid, 0, 0);
}

void cx_call_held_at(const char *file, int line, struct cx_subject *s,
                     const char *what, const struct sx_req *q,
                     struct sx_rep *r, struct cx_hold *h)
{
    long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
    struct tracees t = { { 0 } };
    double end = hold_now() + 60, until = 0;
    pid_t pid;
    int st;

    h->held = 0;
    h->addr = 0;
    h->faults = h->parent_faults = h->released = 0;
    h->steps = 0;
    h->entered = 0;
    if (h->sys)
        opts |= PTRACE_O_TRACESYSGOOD;
    EXPECT(!s->borrowed, "test setup: a traced subject must be its test's own");
    /* (As another uid's subject's tracer, for the moment of the seize.) */
    EXPECT(cx_as(1) == 0, "test setup: cannot take the subject's uid: %s",
           strerror(errno));
    int seized = ptrace(PTRACE_SEIZE, s->pid, 0, opts), err = errno;
    EXPECT(cx_as(0) == 0, "test setup: cannot give the subject's uid back");
    EXPECT(seized == 0, "test setup: cannot trace the subject: %s", strerror(err));
    hold_note(&t, s->pid, 1);
    if (h->sys)                         /* stop it at its system calls from now */
        EXPECT(hold_syscalls(s->pid) == 0, "test setup: cannot stop the subject at its"
               " system calls: %s", strerror(errno));
    cx_send_at(file, line, s, what, q);
    while (!cx_replied(s) && hold_now() < end) {
        while ((pid = waitpid(-1, &st, __WALL | WNOHANG)) > 0)
            if (hold_event(s, &t, h, pid, st))
                until = hold_now() + h->secs;
        if (h->held > 0 && (h->until(h->ctx) || hold_now() > until)) {
            pid = h->held;
            h->released = hold_now() <= until;
            h->held = -pid;             /* held once, let go */
            if (h->step && h->released)
                hold_steps(s, &t, h, pid);
            else
                ptrace(PTRACE_CONT, pid, 0, h->sys ? 0 : SIGSEGV);
        }
        cx_poll(s, 0.001);
    }
    if (h->held > 0)
        ptrace(PTRACE_CONT, h->held, 0, h->sys ? 0 : SIGSEGV);
    h->held = h->held < 0 ? -h->held : h->held;
    hold_free(s, h, &t);
    cx_reply_at(file, line, s, r);
}
