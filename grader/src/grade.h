/* grade.h - what the grader knows about labs, tests and their results. */
#ifndef GRADE_H
#define GRADE_H

#include <stddef.h>

#include "run.h"

#define MAX_HANDIN 8
#define NAME_MAX_ 64

/* A lab's grader/suites/LAB/manifest. */
struct manifest {
    char lab[NAME_MAX_];                /* "01-mmap" */
    char title[128];                    /* "mmap of /dev/zero" */
    char handin[MAX_HANDIN][NAME_MAX_]; /* the only files taken from a submission */
    int nhandin;
    int points;                         /* unit-test points, all tests */
    int memcheck;                       /* points for the Valgrind pass */
    double test_timeout;                /* seconds per test, before scaling */
    double run_timeout;                 /* seconds for the whole test binary */
    char visibility[16];                /* hidden suites: Gradescope's */
};

/* One test's verdict. */
struct test {
    char name[NAME_MAX_];
    char part[128];                     /* "1. Map a page" */
    char section[32];                   /* handout section, "§2" */
    char verdict[8];                    /* pass, fail, error, early, skip */
    char visibility[16];                /* Gradescope's; "visible" if "" */
    char where[128];                    /* file:line of the last check */
    int points, earned;
    char *msg;                          /* what went wrong; "" if passed */
};

enum lab_state {
    LAB_RAN,            /* tests ran; see tests[] */
    LAB_MISSING,        /* a handin file is missing or unsafe */
    LAB_NOBUILD,        /* the submission did not compile */
    LAB_BROKEN,         /* the test binary gave no usable results */
    LAB_INFRA,          /* the grader itself failed: no grade */
};

/* Everything graded about one lab. */
struct lab {
    struct manifest m;
    enum lab_state state;
    char *note;                         /* why the state is not LAB_RAN */
    struct test *tests;
    int ntests;
    int mc_ran, mc_earned;              /* Valgrind pass: run? points */
    int hidden_points;                  /* of an instructor's hidden suite */
    char *mc_note;                      /* its verdict and report excerpt */
    char *vg_asks;                      /* a handin object holding Valgrind
                                           client requests (memcheck.c), or
                                           NULL */
    double secs;                        /* time spent grading the lab */
    char *out;                          /* its build directory */
    char *seed;                         /* the checker's seed (hex), or NULL */
};

/* How a run of the grader was asked to work. */
struct opts {
    const char *root;                   /* the trusted tree */
    const char *src;                    /* tree laid out like labs/ */
    const char *handin;                 /* --check/--memcheck: one lab's dir */
    const char *only;                   /* --check: one test */
    const char *hidden;                 /* instructor-only suites: DIR/LAB */
    const char *lab;                    /* only labs whose name starts so */
    const char *results;                /* Gradescope results.json path */
    const char *junit, *tap;            /* JUnit XML and TAP report paths */
    const char *summary;                /* one line per lab, for batches */
    const char *expect;                 /* --expect-fail list, or NULL */
    int mode;                           /* 'g' grade, 'c' check, 'm' memcheck,
                                           's' status, 'h' hint, 'b' batch */
    int no_memcheck;                    /* skip the Valgrind pass */
    int first_fail;                     /* skip the tests after a failure */
    int keep;                           /* keep the build directory */
    double scale;                       /* CK_TIMEOUT_MULTIPLIER */
    char run_id[32];                    /* prefix of this run's /dev/shm names */
    unsigned uid;                       /* run submissions as this host uid
                                           range (run.h); 0: as ourselves */
    const char *view_dir;               /* isolated: where views are built
                                           (run.h); NULL: no view here */
    int lab_jobs;                       /* labs graded at once (grade mode) */
    const char *seed;                   /* --seed: the checkers' inputs */
    long disk_mib;                      /* isolated grading: all it writes,
                                           in one tmpfs of this size */
    int strict;                         /* refuse to grade with any isolation
                                           missing (main.c isolation_warn) */
    const char *work_in;                /* --work-in: make the work directory
                                           here, already limited (a batch) */
};

#define VIEW_ROOT "/shm-labs"              /* the tree, as a view shows it */

/* Where a lab's commands find its directories: the host's paths, or with
 * a view (o->view_dir) fixed paths under /shm-labs bound to them. */
struct place {
    char *out;                          /* host: build directory (writable) */
    char *logs;                         /* host: the commands' output, beside
                                           out and out of every view */
    char *handin;                       /* host: the handin files */
    char *suite;                        /* host: a hidden suite, or NULL */
    char *suite_c;                      /* host: the suite's source, which
                                           declares its tests (believe.c) */
    char *root, *seen_out, *seen_handin, *seen_suite;   /* as the commands
                                           see them (seen_suite may be NULL) */
    char *scratch;                      /* host: each run's /tmp and /dev/shm,
                                           in the grading's tmpfs; or NULL */
    struct bind binds[12];              /* the view; binds[0].from NULL: none */
    struct bind hbinds[12];             /* the harness build's (place.c) */
    char *str[8];                       /* strings the binds point to */
};

/* manifest.c */
int manifest_load(const char *root, const char *lab, struct manifest *m);
int manifest_read(const char *path, struct manifest *m);
int manifest_find(const char *root, const char *want, char labs[][NAME_MAX_],
                  int max);

/* files.c */
char *file_read(const char *path, size_t max, size_t *len);
char *file_excerpt(const char *path, size_t max_bytes, int max_lines);
int file_copy_at(int dirfd, const char *name, const char *to, size_t max);
int dir_open(const char *path);
int dir_make(const char *path);
int dir_remove(const char *path);
int dir_chown(const char *path, unsigned uid);
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_cut(char *s, const char *what);

/* lab.c */
int lab_grade(const struct opts *o, const char *work, const char *name,
              struct lab *lab);
void lab_free(struct lab *lab);
int lab_score(const struct lab *lab);
int lab_max(const struct lab *lab);
int lab_points(const struct lab *lab);
int all_passed(const struct lab *lab);
char *lab_out_dir(const struct opts *o, const char *work, const char *lab);

int place_make(const struct opts *o, const char *lab, const char *out,
               const char *handin, const char *suite, struct place *p);
void place_free(struct place *p);
const struct bind *place_view(const struct place *p);   /* NULL: none */
const struct bind *place_harness_view(const struct place *p);

/* loop.c */
const char *colour(const char *code);
int loop_status(const struct opts *o);
int loop_hint(const struct opts *o, const char *lab);

/* believe.c */
int believe(const char *suite_c, const char *only, struct lab *lab);

/* results.c */
int results_parse(const char *path, struct lab *lab);
int lab_save(const char *path, const struct lab *lab);
int lab_load(const char *path, struct lab *lab);

/* memcheck.c */
/* Which object of the handin code (OUT/u/NAME.o, just built, before any of
 * it ran) holds a Valgrind client request: a newly allocated name, or
 * NULL if none does. */
char *memcheck_asks(const struct place *p);

int memcheck_run(const struct opts *o, const struct place *p, struct lab *lab,
                 char *const env[]);

/* batch.c */
int batch_run(const struct opts *o, const char *subs, const char *out,
              int jobs, const char *gradebook);

/* report.c */
void report_text(const struct opts *o, const struct lab *labs, int n);
int report_json(const char *path, const struct lab *labs, int n, double secs);
int report_expect(const char *expect, const struct lab *labs, int n);
int report_junit(const char *path, const struct lab *labs, int n);
int report_tap(const char *path, const struct lab *labs, int n);
int report_summary(const char *path, const struct lab *labs, int n, int infra);

#endif
