/* sx.h - the subject: a lab's handin code serving a checker's requests.
 *
 * Everything under grader/subject/ runs beside submitted code, in the same
 * process, so none of it is trusted: it only performs calls and reports.
 * Each lab with a checker has grader/subject/LAB.c defining sx_lab().
 */
#ifndef SX_H
#define SX_H

#include "wire.h"

/* Perform the lab's operation q (op >= SX_LAB) into r. Returns 0, or -1 if
 * the lab has no such operation. */
int sx_lab(const struct sx_req *q, struct sx_rep *r);

/* Run the lab's whole program name (./subject --program NAME), for a test
 * of what a process prints or how it ends; it ends the process itself.
 * Returns -1 if the lab has no such program. */
int sx_program(const char *name);

/* Make the k-th call to fork() from now on fail with EAGAIN; 0: none
 * (fork.c). */
void sx_fail_fork(long k);

/* 64 bytes in main()'s stack frame: a stack variable that outlives one
 * request. */
extern char *sx_stack;

#endif
