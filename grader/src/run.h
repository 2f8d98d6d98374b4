/* run.h - run a command with bounded time and resources. */
#ifndef RUN_H
#define RUN_H

struct limits {
    double wall;            /* seconds of wall-clock time; 0: no limit */
    long cpu;               /* seconds of CPU time (RLIMIT_CPU); 0: none */
    long as_mib;            /* address space in MiB (RLIMIT_AS); 0: none */
    long fsize_mib;         /* largest file it may write, MiB; 0: none */
    long nofile;            /* open descriptors (RLIMIT_NOFILE); 0: keep */
    long nproc;             /* processes of its uid (RLIMIT_NPROC); 0: keep */
    unsigned uid;           /* run as this unprivileged host uid (see below); 0: as we are */
    int keep_tmp;           /* isolated: keep the host's /tmp (paths it needs are there) */
    int needs_setuid;       /* without a user namespace, stay root (see below) */
};

/* Isolation (limits.uid != 0, grader running as root): the command gets a
 * new user namespace in which it is root, mapped to host uids uid..uid+65535
 * (so it may switch to another uid there, as Lab 05's tests do, but holds no
 * privilege on the host: it cannot signal the grader, write the trusted
 * tree, or escape RLIMIT_NPROC), a new network namespace with no
 * interface up, and a mount namespace with its own empty /tmp and /dev/shm.
 * Where user namespaces are refused (Docker's default seccomp profile), it
 * runs as host uid `uid` with a new network namespace if possible, unless
 * needs_setuid: then it stays root (a lab whose tests must switch uid). */

struct outcome {
    int status;             /* raw wait status of the command */
    int timed_out;          /* 1 if killed at the wall-clock limit */
    double secs;            /* wall-clock time it took */
};

/* Prepare this process to supervise commands: become a child subreaper so
 * that orphans of a command come back to us and can be killed. Returns 0,
 * or -1 with errno set. */
int run_init(void);

/* Run argv in directory cwd with environment envp, stdin from /dev/null and
 * stdout and stderr to the file log, in a new process group, under lim.
 * Afterwards kill the group and any descendant left (including those that
 * escaped with setsid). Returns 0 with *o filled in, or -1 with errno set
 * if the command could not be started. */
int run_bounded(char *const argv[], const char *cwd, char *const envp[],
                const char *log, const struct limits *lim, struct outcome *o);

/* Kill and reap every remaining child of this process. Returns how many
 * processes it killed. */
int run_sweep(void);

/* Describe a wait status for a person: "exit 1", "signal 11 (Segmentation
 * fault)". Returns buf. */
char *run_describe(const struct outcome *o, char *buf, unsigned size);

#endif
