/* lab.c - grade one lab: take its handin files, build, test, memcheck.
 *
 * grade mode:  WORK/LAB/handin  <- only the manifest's files, copied safely
 *              WORK/LAB/out     <- fresh build and every log
 * check modes: build/check/TREE/LAB, rebuilt incrementally from the
 *              handin directory in place (the student's fast path).
 * Each step runs under run_bounded(); whatever it does, the lab ends with
 * a state and a note, and the next lab is graded.
 */
#define _GNU_SOURCE
#include "grade.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HANDIN_MAX (256 << 10)          /* bytes per handin file */

enum { E_PATH, E_HOME, E_TMP, E_RESULTS, E_RUN, E_TIMEOUT, E_SCALE, E_FORK,
       E_CC, E_SAN, E_LANG, E_SEED, E_CALLS, E_SUBJ, E_JOBS, E_FIRST, E_N };

/* The environment every command of a lab gets: nothing inherited but CC
 * and SAN (how to build), so a student's shell cannot change a grade.
 * Paths are the ones the commands see (struct place). */
static void env_build(const struct opts *o, const struct place *p,
                      const struct lab *l, char *env[E_N + 1])
{
    const char *cc = getenv("CC"), *san = getenv("SAN");

    env[E_PATH] = strdup("PATH=/usr/local/bin:/usr/bin:/bin");
    env[E_HOME] = str_printf("HOME=%s", p->seen_out);
    env[E_TMP] = str_printf("TMPDIR=%s/tmp", p->seen_out);
    env[E_RESULTS] = str_printf("HX_RESULTS=%s/results", p->seen_out);
    env[E_RUN] = str_printf("HX_RUN=%s-%.2s", o->run_id, l->m.lab);
    env[E_TIMEOUT] = str_printf("HX_TEST_TIMEOUT=%g", l->m.test_timeout);
    env[E_SCALE] = str_printf("CK_TIMEOUT_MULTIPLIER=%g", o->scale);
    env[E_FORK] = strdup("CK_FORK=yes");
    env[E_CC] = str_printf("CC=%s", cc && *cc ? cc : "cc");
    env[E_SAN] = str_printf("SAN=%s", san && *san == '1' ? "1" : "");
    env[E_LANG] = strdup("LC_ALL=C");
    env[E_SEED] = str_printf("HX_SEED=%s", l->seed ? l->seed : "1");
    /* A student's check keeps each test's calls, for ./subject --replay. */
    env[E_CALLS] = o->mode == 'c' ? str_printf("HX_CALLS=%s/calls", p->seen_out)
                                  : strdup("HX_CALLS=");
    /* and runs its tests a runner per core, up to 4 (hx.c: a test
     * that fails beside another runs again alone, so its verdict is its
     * own). Grading runs them one after the other: its labs fill the cores
     * (--lab-jobs), and the Valgrind pass sets its own (memcheck.c). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    env[E_JOBS] = str_printf("HX_JOBS=%ld", o->mode == 'c'
                             ? (cores > 4 ? 4 : cores < 1 ? 1 : cores) : 1);
    /* Where the kernel gives no user namespaces, a checker stays root and
     * starts its subjects as the next uid (cx.h): they cannot signal it,
     * trace it or write its directory. */
    env[E_SUBJ] = o->uid ? str_printf("HX_SUBJECT_UID=%u", o->uid + 1)
                         : strdup("HX_SUBJECT_UID=");
    env[E_FIRST] = str_printf("HX_FIRST_FAIL=%s", o->first_fail ? "1" : "");
    env[E_N] = NULL;
}

static void env_free(char *env[E_N + 1])
{
    for (int i = 0; i < E_N; i++)
        free(env[i]);
}

/* Why a handin file could not be taken, for the report. */
static char *stage_note(const char *src, const char *lab, const char *file)
{
    return str_printf("cannot take %s/%s%s%s: %s%s", src, lab, file ? "/" : "",
                      file ? file : "", strerror(errno),
                      errno == ELOOP ? " (links are not accepted)" :
                      errno == EFBIG ? " (larger than 256 KiB)" : "");
}

/* Copy the manifest's handin files from SRC/LAB into dir; no component of
 * SRC, nor LAB, nor the files may be links. Returns 0; -1 with a note
 * saying which file is missing or unsafe; -2 with a note if the grader
 * could not copy it. */
static int stage(const struct opts *o, const char *dir, struct lab *l)
{
    int src = dir_open(o->src), rc = 0;    /* no link on the way */
    int lab = src == -1 ? -1 : openat(src, l->m.lab,
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (lab == -1) {
        l->note = stage_note(o->src, l->m.lab, NULL);
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < l->m.nhandin; i++) {
        char *to = str_printf("%s/%s", dir, l->m.handin[i]);
        rc = to ? file_copy_at(lab, l->m.handin[i], to, HANDIN_MAX) : -2;
        if (rc == -1)
            l->note = stage_note(o->src, l->m.lab, l->m.handin[i]);
        else if (rc == -2)
            l->note = str_printf("the grader cannot copy %s into %s: %s (is "
                                 "the disk full?)", l->m.handin[i], dir,
                                 strerror(errno));
        free(to);
    }
    if (lab != -1)
        close(lab);
    if (src != -1)
        close(src);
    return rc;
}

/* Remove this lab's objects of this run from /dev/shm, whatever the code
 * left. (Per lab: without isolation, labs graded at once share /dev/shm,
 * and one lab's sweep must not take the objects of another's tests.) */
static void shm_sweep(const char *run_id, const char *lab)
{
    char a[64], b[64];
    DIR *d = opendir("/dev/shm");
    struct dirent *e;

    if (d == NULL)
        return;
    snprintf(a, sizeof a, "shmlabs.%s-%.2s.", run_id, lab);
    snprintf(b, sizeof b, "sem.shmlabs.%s-%.2s.", run_id, lab);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, a, strlen(a)) == 0 ||
            strncmp(e->d_name, b, strlen(b)) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

/* What the grader tells when it could not do its own work on lab l. */
static char *infra_note(const struct opts *o, const char *what, const char *why)
{
    return str_printf("the grader could not %s (this is no fault of the "
                      "submission): %s\n%s", what, why,
                      o->view_dir || o->uid == 0 ? "" :
                      "This machine allows no private view of the files, so the "
                      "sandbox uid must be able to reach the checkout: move it "
                      "out of a private directory such as /root (e.g. to /srv), "
                      "or grade where mount namespaces are allowed.");
}

/* make TARGET in the lab's place. Returns 0 if it built; 1 if make failed
 * (the note says how); -1 if it could not be run (the note says why). */
static int make(const struct opts *o, const struct place *p, const char *target,
                struct lab *l, char *const env[])
{
    char *mk = str_printf("%s/grader/lab.mk", p->root);
    char *a_lab = str_printf("LAB=%s", l->m.lab);
    char *a_in = str_printf("HANDIN_DIR=%s", p->seen_handin);
    char *a_out = str_printf("OUT=%s", p->seen_out);
    char *log = str_printf("%s/%s.log", p->logs, target);
    char *a_suite = p->seen_suite ? str_printf("SUITE=%s", p->seen_suite) : NULL;
    char *a_map = o->mode != 'g' && o->view_dir ? str_printf(
        "PREFIX_MAP=%s=%s %s=%s %s=%s/grader %s=%s/labs", p->seen_handin, p->handin,
        p->seen_out, p->out, VIEW_ROOT "/grader", o->root, VIEW_ROOT "/labs",
        o->root) : strdup("PREFIX_MAP=");
    int harness = strcmp(target, "harness") == 0;
    /* A hidden suite is compiled by make harness alone; later builds link
     * its object in a view without its source (lab.mk: SUITE_BUILT). */
    char *argv[] = { "make", "-s", "--no-print-directory", "-f", mk, "NODEPS=1",
                     a_lab, a_in, a_out, (char *)target, a_map,
                     harness || !a_suite ? "SUITE_BUILT=" : "SUITE_BUILT=1", a_suite,
                     NULL };
    struct limits lim = { 120 * o->scale, 300, 0, 64, 0, o->uid ? 128 : 0,
                          o->uid, 0, o->view_dir,
                          harness ? place_harness_view(p) : place_view(p), p->scratch };
    struct outcome oc;
    char why[128];
    int rc = -1;

    if (!mk || !a_lab || !a_in || !a_out || !log || !a_map ||
        (p->seen_suite && !a_suite)) {
        l->note = strdup("the grader ran out of memory");
    } else if (run_bounded(argv, p->seen_out, env, log, &lim, &oc) == -1) {
        l->note = infra_note(o, "run make", oc.error);
    } else {
        rc = !oc.timed_out && WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0 ? 0 : 1;
        char *ex = rc ? file_excerpt(log, 4096, 40) : NULL;
        if (rc)
            l->note = str_printf("(make %s):\n%s", run_describe(&oc, why, sizeof why),
                                 ex ? ex : "");
        free(ex);
    }
    free(mk);
    free(a_lab);
    free(a_in);
    free(a_out);
    free(a_suite);
    free(a_map);
    free(log);
    return rc;
}

/* Build the lab: first the grader's own harness and suite, which hold no
 * submitted code (a failure there is the grader's: LAB_INFRA), then the
 * handin files and the test program (a failure there is the submission's:
 * LAB_NOBUILD). Returns 0 if it built, -1 otherwise. */
static int build(const struct opts *o, const struct place *p, struct lab *l,
                 char *const env[])
{
    int rc = make(o, p, "harness", l, env);

    if (rc == 0)
        rc = make(o, p, "all", l, env) == 0 ? 0 : 2;
    if (rc == 0)
        return 0;
    if (rc != -1) {                     /* make ran and failed: say where */
        /* A file outside the view (the tree, a classmate's, a hidden
         * suite) is simply not there: say why. */
        int absent = rc == 2 && l->note && (strstr(l->note, "No such file or directory") ||
                                            strstr(l->note, "file not found"));
        char *n = rc == 2 ? str_printf("the lab did not compile %s%s", l->note,
                                       absent ? "\nA handin file is compiled "
                                       "with only the lab's headers, the other "
                                       "handin files and the system's headers "
                                       "in reach: anything else it includes is "
                                       "absent here." : "")
                          : infra_note(o, "build its own test harness", l->note);
        free(l->note);
        l->note = n;
    }
    l->state = rc == 2 ? LAB_NOBUILD : LAB_INFRA;
    return -1;
}

/* An empty OUT/calls for the checker to save each test's calls in (cx.h:
 * HX_CALLS), writable by the sandbox uid. Returns 0, or -1 with errno. */
static int calls_reset(const struct opts *o, const struct place *p)
{
    char *dir = str_printf("%s/calls", p->out);
    int rc = dir && dir_remove(dir) == 0 && dir_make(dir) == 0 &&
             (!o->uid || dir_chown(dir, o->uid) == 0) ? 0 : -1;

    free(dir);
    return rc;
}

/* Run the test binary and read its verdicts. Returns 0 if it gave them. */
static int test(const struct opts *o, const struct place *p, struct lab *l,
                char *const env[])
{
    char *bin = str_printf("%s/test", p->seen_out), *log = str_printf("%s/test.log", p->logs);
    char *results = str_printf("%s/results", p->out);
    char *argv[] = { bin, (char *)o->only, NULL };
    int san = getenv("SAN") && *getenv("SAN") == '1';
    struct limits lim = { l->m.run_timeout * o->scale,
                          (long)(l->m.run_timeout * o->scale) + 1,
                          san ? 0 : 1024, 64, 256, o->uid ? 256 : 0,
                          o->uid, 1,
                          o->view_dir, place_view(p),
                          p->scratch };
    struct outcome oc;
    char why[128];
    int rc = -1, points = 0;

    if (!bin || !log || !results)
        goto out;
    remove(results);
    if (o->mode == 'c' && calls_reset(o, p) == -1) {
        l->note = str_printf("the grader cannot make %s/calls: %m", p->out);
        l->state = LAB_INFRA;
        goto out;
    }
    if (run_bounded(argv, p->seen_out, env, log, &lim, &oc) == -1) {
        l->note = infra_note(o, "run the tests", oc.error);
        l->state = LAB_INFRA;
        goto out;
    }
    if (results_parse(results, l) == 0) {
        rc = believe(p->suite_c, o->only, l);
        for (int i = 0; rc == 0 && i < l->ntests; i++)
            points += l->tests[i].points;
        if (rc == 0 && !o->only && points != l->m.points) {
            rc = -1;
            l->note = str_printf("the suite declares %d points, the manifest %d:"
                                 " fix grader/suites/%s", points, l->m.points,
                                 l->m.lab);
        }
    } else if (errno == EBADMSG) {
        l->note = strdup("the test program's results are not to be believed: "
                         "they hold a record only the grader writes, or lines "
                         "after their end");
    } else {
        char *ex = file_excerpt(log, 2048, 20);
        l->note = str_printf("the test program gave no verdicts (%s); its "
                             "output:\n%s", run_describe(&oc, why, sizeof why),
                             ex ? ex : "");
        free(ex);
    }
    if (rc == -1)
        l->state = LAB_BROKEN;
out:
    free(bin);
    free(log);
    free(results);
    return rc;
}

/* Whether every test passed; one this machine skipped (Lab 05's uid
 * tests when not root) is no failure of the code. */
int all_passed(const struct lab *l)
{
    for (int i = 0; i < l->ntests; i++)
        if (l->tests[i].earned != l->tests[i].points &&
            strcmp(l->tests[i].verdict, "skip") != 0)
            return 0;
    return l->ntests > 0;
}

/* Move h's tests to the end of l's, as hidden ones. Returns 0 or -1. */
static int merge_hidden(struct lab *l, struct lab *h)
{
    struct test *t = realloc(l->tests, (size_t)(l->ntests + h->ntests) * sizeof *t);

    if (t == NULL)
        return -1;
    l->tests = t;
    for (int i = 0; i < h->ntests; i++) {
        struct test *x = &l->tests[l->ntests++];
        *x = h->tests[i];
        snprintf(x->visibility, sizeof x->visibility, "%s",
                 h->m.visibility[0] ? h->m.visibility : "after_published");
        snprintf(x->part, sizeof x->part, "hidden: %.100s", h->tests[i].part);
    }
    h->ntests = 0;                      /* the messages belong to l now */
    return 0;
}

/* The instructor's hidden suite DIR/LAB of this lab, if there is one:
 * built against the same handin files, run, and its tests added to l.
 * Returns 0, or -1 if the grader itself failed. */
static int hidden(const struct opts *o, const char *handin, const char *hout,
                  struct lab *l)
{
    char *dir = str_printf("%s/%s", o->hidden, l->m.lab);
    char *man = str_printf("%s/manifest", dir ? dir : "");
    char *tmp = str_printf("%s/tmp", hout);
    char *env[E_N + 1] = { NULL };
    struct lab h = { .m = l->m };
    struct place p = { 0 };
    int rc = -1;

    h.m.points = 0;
    if (!dir || !man || !tmp)
        goto out;
    rc = 0;
    if (access(man, R_OK) == -1)
        goto out;                       /* no hidden tests for this lab */
    rc = -1;
    if (manifest_read(man, &h.m) == -1 || dir_make(tmp) == -1 ||
        (o->uid && dir_chown(hout, o->uid) == -1) ||
        place_make(o, l->m.lab, hout, handin, dir, &p) == -1)
        goto out;
    env_build(o, &p, &h, env);
    l->hidden_points = h.m.points;
    if (build(o, &p, &h, env) == -1 || test(o, &p, &h, env) == -1) {
        if (h.state == LAB_INFRA) {     /* the grader's failure: no grade */
            free(l->note);
            l->note = h.note;
            h.note = NULL;
            goto out;
        }
        /* no verdicts: one failed entry worth the suite, saying why */
        char *why = h.note;
        h.note = NULL;
        lab_free(&h);
        h.tests = calloc(1, sizeof *h.tests);
        if (h.tests == NULL) {
            free(why);
            goto out;
        }
        h.ntests = 1;
        snprintf(h.tests[0].name, sizeof h.tests[0].name, "hidden_suite");
        snprintf(h.tests[0].verdict, sizeof h.tests[0].verdict, "error");
        h.tests[0].points = h.m.points;
        h.tests[0].msg = why ? why : strdup("the hidden suite did not run");
    }
    rc = merge_hidden(l, &h);
out:
    env_free(env);
    place_free(&p);
    lab_free(&h);
    free(dir);
    free(man);
    free(tmp);
    return rc;
}

/* Where a lab is built: fresh under work (grading), or, for the student's
 * commands, build/check/TREE/LAB, TREE being the name of the directory of
 * the handin directory (--handin) or the submission (--src). Isolated
 * builds (as root) go to build/check-iso: they name the files by their
 * paths in the view, which a build on the host could not follow. */
char *lab_out_dir(const struct opts *o, const char *work, const char *lab)
{
    char tree[4096];
    const char *san = getenv("SAN");

    if (o->mode == 'g')
        return str_printf("%s/%s/out", work, lab);
    snprintf(tree, sizeof tree, "%s", o->handin ? o->handin : o->src);
    return str_printf("%s/build/check%s%s/%s/%s", o->root,
                      o->uid ? "-iso" : "", san && *san == '1' ? "-san" : "",
                      basename(o->handin ? dirname(tree) : tree), lab);
}

/* The seed of a checker's inputs: --seed, or a hash (FNV-1a, 64 bits) of
 * the handin files in dir, so that the same files get the same inputs and
 * the same grade. Returns it in hex (malloc'd), or NULL. */
static char *seed_of(const struct opts *o, const char *dir, const struct lab *l)
{
    uint64_t h = 0xcbf29ce484222325ull;

    if (o->seed != NULL)
        return strdup(o->seed);
    for (int i = 0; i < l->m.nhandin; i++) {
        char *path = str_printf("%s/%s", dir, l->m.handin[i]);
        size_t len = 0;
        char *text = path ? file_read(path, HANDIN_MAX, &len) : NULL;
        for (size_t k = 0; text && k < len; k++)
            h = (h ^ (unsigned char)text[k]) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;      /* between files */
        free(text);
        free(path);
    }
    return str_printf("%016llx", (unsigned long long)h);
}

/* Feedback names paths as the lab does, never the host's: cut the handin
 * directories (a handin file by its name alone), then the tree's and the
 * view's prefixes, from every message of l. */
static void scrub(const struct opts *o, const char *handin, struct lab *l)
{
    char *host = handin ? str_printf("%s/", handin) : NULL;
    char *tree = str_printf("%s/", o->root);
    const char *cut[] = { host ? host : "", VIEW_ROOT "/handin/",
                          tree ? tree : "", VIEW_ROOT "/" };

    for (size_t k = 0; k < sizeof cut / sizeof cut[0]; k++) {
        str_cut(l->note, cut[k]);
        str_cut(l->mc_note, cut[k]);
        for (int i = 0; i < l->ntests; i++) {
            str_cut(l->tests[i].msg, cut[k]);
            str_cut(l->tests[i].where, cut[k]);
        }
    }
    free(host);
    free(tree);
}

int lab_grade(const struct opts *o, const char *work, const char *name,
              struct lab *l)
{
    char *out = lab_out_dir(o, work, name), *handin = NULL, *tmp = NULL;
    char *hout = o->mode == 'g' ? str_printf("%s/%s/hidden", work, name) : NULL;
    char *env[E_N + 1] = { NULL };
    struct place p = { 0 };
    int rc = -1;

    memset(l, 0, sizeof *l);
    if (manifest_load(o->root, name, &l->m) == -1) {
        l->note = str_printf("cannot read grader/suites/%s/manifest: %m", name);
        goto out;
    }
    handin = o->mode == 'g' ? str_printf("%s/%s/handin", work, name)
                            : strdup(o->handin);
    tmp = str_printf("%s/tmp", out);
    if (!out || !handin || !tmp || dir_make(handin) == -1 || dir_make(tmp) == -1 ||
        (o->uid && dir_chown(out, o->uid) == -1)) {
        l->note = str_printf("the grader cannot make its build directory %s: %m "
                             "(is the disk full, or the tree read-only?)", out);
        goto out;
    }
    if (place_make(o, name, out, handin, NULL, &p) == -1) {
        l->note = str_printf("the grader cannot make the directory for its logs "
                             "beside %s: %m", out);
        goto out;
    }
    rc = 0;
    int st = o->mode == 'g' ? stage(o, handin, l) : 0;
    l->seed = seed_of(o, handin, l);
    env_build(o, &p, l, env);
    if (st == -2) {
        rc = -1;                        /* LAB_INFRA: no grade, not a zero */
        goto out;
    }
    if (st == -1)
        l->state = LAB_MISSING;
    else if (build(o, &p, l, env) == 0 && (l->vg_asks = memcheck_asks(&p), 1) &&
             o->mode != 'm' && test(o, &p, l, env) == 0)
        l->state = LAB_RAN;
    if (l->state == LAB_RAN) {
        int mc = o->mode == 'm' || (o->mode == 'g' && !o->no_memcheck &&
                                    l->m.memcheck > 0 && all_passed(l));
        if (mc && memcheck_run(o, &p, l, env) == -1)
            rc = -1;
        if (!mc && l->m.memcheck > 0 && !o->no_memcheck)
            l->mc_note = strdup("earned only when every test above passes");
        if (o->hidden && o->mode == 'g' && (hout == NULL ||
                                            hidden(o, handin, hout, l) == -1))
            rc = -1;
    }
    shm_sweep(o->run_id, l->m.lab);
out:
    if (l->state == LAB_INFRA)
        rc = -1;
    if (rc == -1 && l->state == LAB_RAN)
        l->state = LAB_INFRA;
    scrub(o, handin, l);
    env_free(env);
    place_free(&p);
    l->out = out;
    free(handin);
    free(hout);
    free(tmp);
    return rc;
}

void lab_free(struct lab *l)
{
    for (int i = 0; i < l->ntests; i++)
        free(l->tests[i].msg);
    free(l->tests);
    free(l->note);
    free(l->mc_note);
    free(l->vg_asks);
    free(l->out);
    free(l->seed);
    l->out = l->seed = NULL;
    l->tests = NULL;
    l->note = l->mc_note = l->vg_asks = NULL;
    l->ntests = 0;
}

/* Never more than the lab's maximum, whatever a result claimed. */
int lab_score(const struct lab *l)
{
    int s = l->mc_earned;

    if (l->state != LAB_RAN)
        return 0;
    for (int i = 0; i < l->ntests; i++)
        s += l->tests[i].earned;
    return s > lab_max(l) ? lab_max(l) : s < 0 ? 0 : s;
}

int lab_points(const struct lab *l)
{
    int s = 0;

    for (int i = 0; i < l->ntests; i++)
        s += l->tests[i].points;
    return s;
}

int lab_max(const struct lab *l)
{
    return l->m.points + l->m.memcheck + l->hidden_points;
}
