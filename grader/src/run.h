/* run.h - run a command with bounded time and resources. */
#ifndef RUN_H
#define RUN_H

/* A host path shown to an isolated command at another path (see below). */
struct bind {
    const char *from;       /* host path: a directory or a file */
    const char *to;         /* absolute path in the view */
    int rw;                 /* 1: writable; 0: read-only */
};

struct limits {
    double wall;            /* seconds of wall-clock time; 0: no limit */
    long cpu;               /* seconds of CPU time (RLIMIT_CPU); 0: none */
    long as_mib;            /* address space in MiB (RLIMIT_AS); 0: none */
    long fsize_mib;         /* largest file it may write, MiB; 0: none */
    long nofile;            /* open descriptors (RLIMIT_NOFILE); 0: keep */
    long nproc;             /* processes of its uid (RLIMIT_NPROC); 0: keep */
    unsigned uid;           /* run as this unprivileged host uid (see below); 0: as we are */
    int checker;            /* a checker: without a user namespace, stay root (below) */
    const char *view_dir;   /* isolated: an empty directory to build the view on; */
    const struct bind *view;/* the binds it holds ({NULL} ends); NULL: no view */
    const char *scratch;    /* with a view: a host directory (absent) made
                               for this run to hold its /tmp and /dev/shm,
                               removed after it; NULL: a tmpfs each */
};

/* Isolation (limits.uid != 0, grader running as root): with a view, the
 * command runs in a new PID namespace whose init is the grader's (run.c),
 * so every process of the run is gone before run_bounded returns, and it
 * sees only the system's directories read-only, /dev's harmless devices,
 * private empty /tmp and /dev/shm, a /proc of its own processes and the
 * binds named (view_make). It then gets a new user namespace in which it is root,
 * mapped to host uids uid..uid+65535 (so it may switch to another uid
 * there, as Lab 05's tests do, but holds no privilege on the host: it
 * cannot signal the grader, write the trusted tree, or escape
 * RLIMIT_NPROC), and a new network namespace with no interface up.
 * Where user namespaces are refused (Docker's default seccomp profile), it
 * runs as host uid `uid` with a new network namespace if possible, unless
 * it is a checker: then it stays root, and starts its subjects as another
 * uid (cx.h), which Lab 05's uid tests need too. */

struct outcome {
    int status;             /* raw wait status of the command */
    int timed_out;          /* 1 if killed at the wall-clock limit */
    double secs;            /* wall-clock time it took */
    char error[320];        /* run_bounded -1: which step failed, and why */
};

/* Prepare this process to supervise commands: become a child subreaper so
 * that orphans of a command come back to us and can be killed. Returns 0,
 * or -1 with errno set. */
int run_init(void);

/* Run argv in directory cwd with environment envp, stdin from /dev/null and
 * stdout and stderr to the file log, in a new process group, under lim.
 * Afterwards kill the group and any descendant left (including those that
 * escaped with setsid). Returns 0 with *o filled in, or -1 with errno set
 * and o->error saying which step failed if the command could not be
 * started (the grader's failure, never the command's). */
int run_bounded(char *const argv[], const char *cwd, char *const envp[],
                const char *log, const struct limits *lim, struct outcome *o);

/* In a child that is init of a new PID namespace, as real root: make the
 * view described above on the empty
 * directory dir, and enter it. Every path in binds must be absolute.
 * Returns 0, or -1 with errno set. */
int view_make(const char *dir, const struct bind *binds, const char *scratch);

/* In this process, as root: a private mount namespace (inherited by every
 * child) in which directory dir is a fresh tmpfs of mib MiB, so that all a
 * grading writes there shares one limit. Returns 0, or -1 with errno set. */
int view_disk(const char *dir, long mib);

/* Remove the directory scratch and all below it, not following links nor
 * crossing mounts. Returns 0 (also if it is absent), or -1 with errno set. */
int view_clean(const char *scratch);

/* Whether view_make works here (as root, where mount namespaces are
 * allowed), tried in a child on dir. Returns 1 or 0. */
int view_works(const char *dir);

/* What this machine allows a run (as we are): a user namespace
 * (RUN_USERNS), a network namespace (RUN_NETNS). Returns the flags. */
#define RUN_USERNS 1
#define RUN_NETNS 2
int run_probe(void);

/* Kill and reap every remaining child of this process. Returns how many
 * processes it killed. */
int run_sweep(void);

/* Describe a wait status for a person: "exit 1", "signal 11 (Segmentation
 * fault)". Returns buf. */
char *run_describe(const struct outcome *o, char *buf, unsigned size);

#endif
