/* main.c - grade: the shm-labs autograder.
 *
 * Usage: grade [--src DIR] [--lab NN] [--results FILE] [--junit FILE]
 *              [--tap FILE] [--summary FILE] [--hidden DIR] [--no-memcheck]
 *              [--expect-fail LIST] [--keep] [--no-isolate] [--slot N]
 *              [--lab-jobs N] [--disk MIB] [--strict]
 *        grade --check --lab NN --handin DIR [--only TEST]
 *        grade --memcheck --lab NN --handin DIR
 *        grade --batch DIR [--jobs N] [--out DIR] [--gradebook FILE]
 *              [--lab NN] [--hidden DIR] [--no-memcheck] [--first-fail]
 *        grade --status [--src DIR]      grade --hint --lab NN [--src DIR]
 *
 * Grades every lab (or those whose name starts with NN) of the submission
 * DIR (default labs/), laid out like labs/. Only each lab's handin files
 * are taken from it; tests, headers and Makefiles come from this tree.
 * --lab-jobs N grades N labs at once (default: one per core, up to 4).
 * --hidden DIR adds instructor-only suites DIR/LAB/{manifest,suite.c}
 * (their manifest: points, visibility; Gradescope visibility settings).
 * --check and --memcheck serve "make check" and "make memcheck": one lab,
 * built incrementally from DIR in place.
 * As root, submissions build and run in their own view of the files and
 * their own PID, user and network namespaces as unprivileged uids (run.h),
 * and all a grading writes is in one tmpfs of --disk MiB (default 1024);
 * --slot N picks the uid range for concurrent gradings, --no-isolate turns
 * isolation off. What this machine does not allow is named on stderr;
 * --strict refuses to grade instead (exit 2).
 * --batch grades every submission (directory, .tar.gz or .zip) in DIR,
 * N at a time, into OUT/ID/{report.txt,results.json,summary.tsv}, and
 * writes the gradebook CSV (batch.c).
 * --first-fail skips a lab's remaining tests once one has failed (what
 * make mutants needs to know: whether anything failed, soon).
 * Exit: 0 graded (check: all passed), 1 check: a test failed, 2 the grader
 * could not run, 3 --expect-fail did not hold.
 */
#define _GNU_SOURCE
#include "grade.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LABS 32

static void usage(void)
{
    fputs("usage: grade [--src DIR] [--lab NN] [--results FILE] [--junit FILE]\n"
          "             [--tap FILE] [--summary FILE] [--hidden DIR] [--no-memcheck]\n"
          "             [--expect-fail LIST] [--keep] [--no-isolate] [--slot N]\n"
          "             [--lab-jobs N] [--disk MIB] [--strict] [--seed HEX]\n"
          "       grade --check|--memcheck --lab NN --handin DIR [--only TEST] [--seed HEX]\n"
          "       grade --batch DIR [--jobs N] [--out DIR] [--gradebook FILE]\n"
          "             [--lab NN] [--hidden DIR] [--no-memcheck] [--first-fail]\n"
          "       grade --status [--src DIR] | --hint --lab NN [--src DIR]\n",
          stderr);
    exit(2);
}

/* The tree this binary belongs to: build/grader/grade -> ../../.. */
static const char *find_root(void)
{
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    return dirname(dirname(dirname(exe)));
}

/* --batch's own options. */
static struct {
    const char *dir, *out, *gradebook;
    int jobs;
} batch = { NULL, "build/batch", "build/batch/gradebook.csv", 1 };

static void parse(int argc, char **argv, struct opts *o, const char **lab)
{
    static const struct option lo[] = {
        { "src", 1, 0, 's' }, { "lab", 1, 0, 'l' }, { "results", 1, 0, 'r' },
        { "check", 0, 0, 'c' }, { "memcheck", 0, 0, 'm' },
        { "handin", 1, 0, 'h' }, { "only", 1, 0, 'o' },
        { "no-memcheck", 0, 0, 'n' }, { "expect-fail", 1, 0, 'e' },
        { "keep", 0, 0, 'k' }, { "root", 1, 0, 'R' },
        { "no-isolate", 0, 0, 'I' }, { "slot", 1, 0, 'S' },
        { "junit", 1, 0, 'J' }, { "tap", 1, 0, 'T' }, { "summary", 1, 0, 'Y' },
        { "batch", 1, 0, 'B' }, { "out", 1, 0, 'O' }, { "jobs", 1, 0, 'j' },
        { "gradebook", 1, 0, 'G' }, { "hidden", 1, 0, 'H' },
        { "status", 0, 0, 's' + 256 }, { "hint", 0, 0, 'h' + 256 },
        { "lab-jobs", 1, 0, 'L' }, { "disk", 1, 0, 'D' },
        { "work-in", 1, 0, 'W' }, { "strict", 0, 0, 'X' }, { "seed", 1, 0, 'E' },
        { "first-fail", 0, 0, 'F' }, { 0, 0, 0, 0 } };
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': o->src = optarg; break;
        case 'l': *lab = optarg; break;
        case 'r': o->results = optarg; break;
        case 'c': case 'm': o->mode = c; break;
        case 's' + 256: case 'h' + 256: o->mode = c - 256; break;
        case 'h': o->handin = optarg; break;
        case 'o': o->only = optarg; break;
        case 'n': o->no_memcheck = 1; break;
        case 'e': o->expect = optarg; break;
        case 'k': o->keep = 1; break;
        case 'R': o->root = optarg; break;
        case 'J': o->junit = optarg; break;
        case 'T': o->tap = optarg; break;
        case 'Y': o->summary = optarg; break;
        case 'B': batch.dir = optarg; o->mode = 'b'; break;
        case 'O': batch.out = optarg; break;
        case 'j': batch.jobs = atoi(optarg); break;
        case 'G': batch.gradebook = optarg; break;
        case 'H': o->hidden = optarg; break;
        case 'L': o->lab_jobs = atoi(optarg); break;
        case 'D': o->disk_mib = atol(optarg); break;
        case 'W': o->work_in = optarg; break;
        case 'X': o->strict = 1; break;
        case 'E': o->seed = optarg; break;
        case 'F': o->first_fail = 1; break;
        case 'I': o->uid = 1; break;    /* marks "no": see choose_uid */
        case 'S': o->uid = 2 + (unsigned)atoi(optarg) % 1024; break;
        default: usage();
        }
    }
    if (optind != argc || (strchr("cm", o->mode) && (!*lab || !o->handin)) ||
        o->disk_mib < 16 ||
        (o->mode == 'h' && !*lab))
        usage();
    if (o->handin && (o->handin = realpath(o->handin, NULL)) == NULL) {
        perror("grade: --handin");
        exit(2);
    }
    if (o->hidden && (o->hidden = realpath(o->hidden, NULL)) == NULL) {
        perror("grade: --hidden");
        exit(2);
    }
}

/* The host uid range submissions run as: 100000 + 65536 * slot when we are
 * root (a slot per concurrent grading: --slot, else from the pid), none
 * when not root or with --no-isolate. */
static unsigned choose_uid(unsigned opt)
{
    unsigned slot = opt >= 2 ? opt - 2 : (unsigned)getpid() % 1024;

    if (geteuid() != 0 || opt == 1)
        return 0;
    return 100000 + 65536 * slot;
}

/* Where views are built (run.h), if this machine allows them; else NULL. */
static const char *view_dir(const struct opts *o)
{
    char *dir = str_printf("%s/build/.view", o->root);

    if (dir != NULL && dir_make(dir) == 0 && view_works(dir))
        return dir;
    free(dir);
    return NULL;
}

/* Say, on stderr, each protection this machine does not give submitted
 * code (the README's "Where the kernel says no"), if it runs any. Returns
 * how many are missing. */
static int isolation_warn(const struct opts *o)
{
    const char *why[4];
    int n = 0, ns = o->uid ? run_probe() : 0;

    if (strchr("gbcm", o->mode) == NULL)
        return 0;
    if (o->uid == 0 && strchr("gb", o->mode))
        why[n++] = "not root (or --no-isolate): submitted code runs as this "
                   "user, sees all of this user's files and is limited per "
                   "process and per file only";
    if (o->uid != 0 && o->view_dir == NULL)
        why[n++] = "no mount or PID namespaces here: submitted code sees the "
                   "host's files, escaped processes are found by a /proc sweep, "
                   "and a grading's disk use is limited per file only";
    if (o->uid != 0 && !(ns & RUN_USERNS))
        why[n++] = "no user namespaces here: submitted code runs as a plain "
                   "host uid, and a lab whose tests switch uid runs it as root";
    if (o->uid != 0 && !(ns & RUN_NETNS))
        why[n++] = "no network namespaces here: submitted code has the network";
    for (int i = 0; i < n; i++)
        fprintf(stderr, "grade: %s: %s (see \"Where the kernel says no\" in "
                "the README)\n", o->strict ? "refused" : "warning", why[i]);
    return n;
}

/* A fresh directory for a grading's builds and runs: under --work-in (a
 * batch's, already limited), or build/grade, where, isolated, it is a
 * tmpfs of --disk MiB in this process's own mount namespace: one limit
 * for all the grading writes (not with --keep, which must outlive us).
 * Returns it, or NULL after a message. */
static char *work_dir(const struct opts *o)
{
    /* Absolute: without a view, commands run in other directories. */
    char *base = o->work_in ? realpath(o->work_in, NULL) : str_printf("%s/build/grade", o->root);
    char *work = base ? str_printf("%s/run.XXXXXX", base) : NULL;
    const char *step = "make a build directory in";

    if (work && dir_make(base) == 0 && mkdtemp(work) != NULL) {
        step = "make a tmpfs of --disk MiB on";
        if (o->work_in || !o->view_dir || o->keep || view_disk(work, o->disk_mib) == 0) {
            step = "open to the sandbox uid";
            if (chmod(work, 0755) == 0) {           /* isolated uids go through */
                free(base);
                return work;
            }
        }
    }
    fprintf(stderr, "grade: cannot %s %s: %s\n", step, work ? work : "build/grade",
            strerror(errno));
    free(base);
    free(work);
    return NULL;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Grade lab `name` in a process of its own, with a uid range of its own
 * (slot k), saving the result to WORK/NAME.lab. Never returns. */
static void lab_worker(const struct opts *o, const char *work, const char *name,
                       int k)
{
    struct opts mine = *o;
    struct lab l;
    double t = seconds();
    char *path = str_printf("%s/%s.lab", work, name);
    int rc;

    if (mine.uid != 0)
        mine.uid += (unsigned)k * 65536u * 1024u;   /* beyond every slot */
    memset(&l, 0, sizeof l);
    rc = run_init() == -1 ? -1 : lab_grade(&mine, work, name, &l);
    l.secs = seconds() - t;
    if (rc == -1 && l.note == NULL)
        l.note = str_printf("the grader could not start grading this lab: %m");
    if (rc == -1)
        l.state = LAB_INFRA;            /* saved all the same: the note says why */
    _exit(path == NULL || lab_save(path, &l) == -1 || rc == -1 ? 2 : 0);
}

/* Read back what lab_worker saved; a lab whose worker failed is a grader
 * failure (LAB_INFRA), not a zero. Returns 1 if it is one. */
static int lab_collect(const struct opts *o, const char *work, const char *name,
                       struct lab *l)
{
    char *path = str_printf("%s/%s.lab", work, name);
    int ok = path != NULL && lab_load(path, l) == 0;

    free(path);
    if (manifest_load(o->root, name, &l->m) == -1 || !ok) {
        lab_free(l);
        l->state = LAB_INFRA;
        l->note = strdup("the grader failed while grading this lab (see its "
                         "messages above)");
        return 1;
    }
    return l->state == LAB_INFRA;
}

/* Grade the n labs, o->lab_jobs at a time in grade mode (each in a worker
 * process: one lab's Valgrind pass runs while another builds), else one
 * after the other in this process. Returns 1 if the grader itself failed. */
static int grade_labs(const struct opts *o, const char *work,
                      char names[][NAME_MAX_], struct lab *labs, int n)
{
    int infra = 0, running = 0;

    if (o->mode != 'g' || o->lab_jobs <= 1 || n == 1) {
        for (int i = 0; i < n; i++) {
            double t = seconds();
            infra |= lab_grade(o, work, names[i], &labs[i]) == -1 ||
                     labs[i].state == LAB_INFRA;
            labs[i].secs = seconds() - t;
        }
        return infra;
    }
    pid_t worker[MAX_LABS];

    for (int i = 0; i < n || running > 0;) {
        if (i < n && running < o->lab_jobs) {
            fflush(NULL);
            worker[i] = fork();
            if (worker[i] == 0)
                lab_worker(o, work, names[i], i);
            running += worker[i] > 0;
            i++;
            continue;
        }
        pid_t pid = waitpid(-1, NULL, 0);   /* a worker, or an orphan of one */
        for (int k = 0; k < i; k++)
            running -= pid > 0 && worker[k] == pid;
        if (pid == -1 && errno == ECHILD)
            running = 0;
    }
    run_sweep();
    for (int i = 0; i < n; i++)
        infra |= lab_collect(o, work, names[i], &labs[i]);
    return infra;
}

int main(int argc, char **argv)
{
    struct opts o = { .src = "labs", .mode = 'g', .scale = 1, .lab_jobs = -1,
                      .disk_mib = 1024 };
    const char *want = NULL, *sc = getenv("CK_TIMEOUT_MULTIPLIER");
    char names[MAX_LABS][NAME_MAX_], *work = NULL;
    struct lab labs[MAX_LABS];
    unsigned short r = 0;
    int n, rc = 0, infra = 0;
    double t0 = seconds();

    parse(argc, argv, &o, &want);
    o.lab = want;
    if (o.root == NULL && (o.root = find_root()) == NULL) {
        perror("grade: cannot find the shm-labs tree");
        return 2;
    }
    if (sc && atof(sc) >= 1)
        o.scale = atof(sc);
    o.uid = choose_uid(o.uid);
    if (o.lab_jobs < 0)                 /* default: a lab per core, up to 4 */
        o.lab_jobs = (int)(sysconf(_SC_NPROCESSORS_ONLN) > 4 ? 4
                           : sysconf(_SC_NPROCESSORS_ONLN));
    if (o.uid != 0 && o.mode != 's' && o.mode != 'h')
        o.view_dir = view_dir(&o);
    if (isolation_warn(&o) > 0 && o.strict)
        return 2;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned short)t0;
    snprintf(o.run_id, sizeof o.run_id, "%d-%04x", (int)getpid(), r);
    if (o.mode == 'b') {
        rc = batch_run(&o, batch.dir, batch.out, batch.jobs, batch.gradebook);
        free((char *)o.view_dir);
        return rc == -1 ? 2 : rc;
    }
    n = manifest_find(o.root, want, names, MAX_LABS);
    if (n <= 0) {
        fprintf(stderr, "grade: no lab matches '%s'\n", want ? want : "");
        return 2;
    }
    if (o.mode == 's')
        return loop_status(&o);
    if (o.mode == 'h')
        return loop_hint(&o, names[0]);
    if (o.mode == 'g' && access(o.src, R_OK | X_OK) == -1) {
        fprintf(stderr, "grade: cannot read the submission %s: %s\n", o.src,
                strerror(errno));
        return 2;
    }
    if (run_init() == -1) {
        perror("grade: run_init");
        return 2;
    }
    if (o.mode == 'g' && (work = work_dir(&o)) == NULL)
        return 2;
    if (o.mode == 'g') {
        printf("shm-labs: grading %s (%d lab%s)\n", o.src, n, n == 1 ? "" : "s");
        fflush(stdout);
    }
    infra = grade_labs(&o, work, names, labs, n);
    report_text(&o, labs, n);
    if ((o.results && report_json(o.results, labs, n, seconds() - t0) == -1) ||
        (o.junit && report_junit(o.junit, labs, n) == -1) ||
        (o.tap && report_tap(o.tap, labs, n) == -1) ||
        (o.summary && report_summary(o.summary, labs, n, infra) == -1)) {
        perror("grade: cannot write a report");
        infra = 1;
    }
    if (o.expect && report_expect(o.expect, labs, n) != 0)
        rc = 3;
    if (o.mode == 'c' || o.mode == 'm')     /* a test skipped here is no failure */
        rc = labs[0].state == LAB_RAN &&
             (o.mode == 'm' ? labs[0].mc_earned == labs[0].m.memcheck
                            : all_passed(&labs[0]) || (o.only && labs[0].ntests == 0))
             ? 0 : 1;
    for (int i = 0; i < n; i++)
        lab_free(&labs[i]);
    if (work && !o.keep && (dir_remove(work) == -1 && errno == EBUSY))
        (void)(umount2(work, MNT_DETACH) == 0 && rmdir(work) == 0);  /* the tmpfs */
    free(work);
    free((char *)o.handin);
    free((char *)o.hidden);
    free((char *)o.view_dir);
    return infra ? 2 : rc;
}
