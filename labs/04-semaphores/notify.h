/* notify.h - Lab 04: a signal as a doorbell: "look, something is ready".
 *
 * The interface you implement in notify.c. Do not change this file: the
 * grader always compiles your notify.c against its own copy of it.
 *
 * The receiver blocks the signal first, so that it is never delivered to a
 * handler (or kills the process) but stays pending; then it takes it with
 * sigwaitinfo/sigtimedwait, which also say who sent it. A signal carries no
 * data, and several sent while one is pending merge into one. (Handout
 * section 9.)
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <sys/types.h>

/* notify_block: add sig to the calling process's blocked signals. Call it
 * before any sender may send. Returns 0, or -1 with errno EINVAL if sig is
 * not a valid signal number. */
int notify_block(int sig);

/* notify_wait: take the blocked signal sig once it is pending, waiting at
 * most ms milliseconds (ms < 0: no limit). A handler for another signal
 * interrupting the wait neither ends it nor extends it. Returns the pid of
 * the process that sent sig, or -1 with errno:
 *   EAGAIN    sig did not come in time;
 *   EINVAL    sig is not a valid signal number. */
pid_t notify_wait(int sig, long ms);

#endif
