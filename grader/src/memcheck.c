/* memcheck.c - the Valgrind pass of a lab: run its tests with every
 * subject under memcheck, and judge every subject's report.
 *
 * The checker (which runs no submitted code) starts each subject under
 * Valgrind (HX_VALGRIND: the words of VG_OPTS), its loops scaled down
 * (HX_MEMCHECK=1); processes a subject forks are not logged
 * (--child-silent-after-fork). Each report comes on a descriptor the code
 * under test holds too, so it is read strictly (judge_strict): clean only
 * if it is exactly what Valgrind writes at a normal end, with no errors
 * (memory errors, definite or possible leaks) and only the subject's own
 * descriptors open. The verdict comes from the reports, never from an
 * exit status.
 */
#define _GNU_SOURCE
#include "grade.h"
#include "run.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Judge one Valgrind log. Returns 1 if clean; otherwise 0 and appends an
 * excerpt (without Valgrind's "==PID== " prefixes) to *note. */
static int judge_log(const char *path, char **note)
{
    char *log = file_read(path, 1 << 20, NULL), *line, *save = NULL;
    char excerpt[4096] = "";
    int errors = -1, fds = 0, lines = 0, skip = 0;
    size_t used = 0;

    if (log == NULL)
        return 0;
    for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *text = strstr(line, "== ");
        int fd;
        text = text ? text + 3 : line;
        if (sscanf(text, "ERROR SUMMARY: %d", &errors) == 1)
            continue;
        if (sscanf(text, "Open file descriptor %d", &fd) == 1) {
            skip = fd < 3;              /* judged on the next line */
            fds += !skip;
        } else if (strstr(text, "<inherited from parent>") && fds > 0 && !skip) {
            fds--;                      /* not opened by this process */
            skip = 1;
        }
        if (lines++ >= 6 && lines < 60 && used < sizeof excerpt - 200)
            used += (size_t)snprintf(excerpt + used, sizeof excerpt - used,
                                     "%s\n", text);
    }
    free(log);
    if (errors == 0 && fds == 0)
        return 1;
    char *n = str_printf("%s%s: %s%d error(s), %d descriptor(s) left open\n%s",
                         *note ? *note : "", path,
                         errors < 0 ? "no summary (killed?), " : "",
                         errors < 0 ? 0 : errors, fds, excerpt);
    free(*note);
    *note = n;
    return 0;
}

/* The descriptors a checker's subject is given and holds at its end:
 * stdio, its socket (SX_FD) and its report's (cx.c: CX_VG_FD). */
#define SUBJECT_FDS 5

/* The first line of log that is not Valgrind's own for the process the
 * log is about (every line carries its "==PID== "), or whatever follows
 * its one ERROR SUMMARY: why the report is malformed, or NULL. Sets
 * *errors and *fds from its summary lines. */
static const char *strict_flaw(char *log, int *errors, int *fds)
{
    char prefix[32] = "", *line, *save = NULL, *last = NULL;
    int summaries = 0, fdlines = 0, pid;

    *errors = *fds = -1;
    for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (prefix[0] == '\0' && sscanf(line, "==%d==", &pid) == 1)
            snprintf(prefix, sizeof prefix, "==%d==", pid);
        if (prefix[0] == '\0' || strncmp(line, prefix, strlen(prefix)) != 0)
            return "a line without Valgrind's prefix for the process";
        summaries += sscanf(line + strlen(prefix), " ERROR SUMMARY: %d", errors) == 1;
        fdlines += sscanf(line + strlen(prefix), " FILE DESCRIPTORS: %d open", fds) == 1;
        last = line;
    }
    if (summaries != 1 || fdlines != 1)
        return "not exactly one summary";
    if (strstr(last, " ERROR SUMMARY: ") == NULL)
        return "text after Valgrind's summary";
    return NULL;
}

/* Judge the report of a checker's subject (cx.h), read from the
 * descriptor Valgrind writes to, which the code under test holds too:
 * clean only if it is exactly what Valgrind writes at a normal end, one
 * process's lines, one ERROR SUMMARY of 0 errors as the last line, the
 * subject's own descriptors open and no more. Whatever the code under
 * test writes into it can only add lines, so it makes the report
 * malformed, never clean. Returns 1 if clean; otherwise 0, with why (and
 * an excerpt) appended to *note. */
static int judge_strict(const char *path, char **note)
{
    char *log = file_read(path, 1 << 20, NULL);
    int errors, fds;
    const char *flaw = log ? strict_flaw(log, &errors, &fds) : "it cannot be read";

    free(log);
    if (flaw == NULL && errors == 0 && fds == SUBJECT_FDS)
        return 1;
    if (flaw == NULL && judge_log(path, note) == 0)
        return 0;                       /* its errors or descriptors, quoted */
    char *n = flaw ? str_printf("%s%s: a malformed Valgrind report (%s): the code "
                                "under test wrote into it\n", *note ? *note : "",
                                path, flaw)
                   : str_printf("%s%s: %d descriptors open at the end, %d expected\n",
                                *note ? *note : "", path, fds, SUBJECT_FDS);
    free(*note);
    *note = n;
    return 0;
}

/* Judge every log in dir (written by the run: dir must not be a link, and
 * file_read takes regular files only), strictly. Returns 1 if all are
 * clean (and there is one). */
static int judge_logs(const char *dir, char **note)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd == -1 ? NULL : fdopendir(fd);
    struct dirent *e;
    int clean = 1, n = 0;

    if (d == NULL) {
        if (fd != -1)
            close(fd);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = str_printf("%s/%s", dir, e->d_name);
        if (path == NULL)
            continue;
        clean &= judge_strict(path, note);
        n++;
        free(path);
    }
    closedir(d);
    return clean && n > 0;
}

/* Valgrind and its options, as words: the prefix of every subject the
 * checker starts (cx.h). */
#define VG_OPTS "valgrind --leak-check=full --errors-for-leak-kinds=definite,possible " \
    "--show-leak-kinds=definite,possible --track-fds=yes --child-silent-after-fork=yes"

/* env for the memcheck run: the lab's, with the results file, every
 * subject under Valgrind and loops scaled down. Entries point into env or
 * into the strings given. */
static void memcheck_env(char *const env[], char *results, char *scale,
                         char *mcenv[], int max)
{
    int n = 0;

    for (int i = 0; env[i] != NULL && n < max - 6; i++)
        if (strncmp(env[i], "HX_RESULTS=", 11) != 0 && strncmp(env[i], "HX_JOBS=", 8) != 0 &&
            strncmp(env[i], "CK_TIMEOUT_MULTIPLIER=", 22) != 0)
            mcenv[n++] = env[i];
    mcenv[n++] = results;
    mcenv[n++] = "HX_VALGRIND=" VG_OPTS;
    mcenv[n++] = "HX_JOBS=2";           /* a subject starts in half a second */
    mcenv[n++] = scale;                 /* and runs 10 to 50 times slower */
    mcenv[n++] = "HX_MEMCHECK=1";
    mcenv[n] = NULL;
}



/* The instructions that open every Valgrind client request on amd64
 * (valgrind.h: rolq $3, $13, $61, $51 of %rdi). Through them the code
 * under test can print into its own report, turn error reporting off, or
 * ask whether Valgrind is watching; the pass refuses such code. */
static const unsigned char vg_magic[] = {
    0x48, 0xc1, 0xc7, 0x03, 0x48, 0xc1, 0xc7, 0x0d,
    0x48, 0xc1, 0xc7, 0x3d, 0x48, 0xc1, 0xc7, 0x33
};

char *memcheck_asks(const struct place *p)
{
    char *dir = str_printf("%s/u", p->out), *found = NULL;
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;

    while (d && found == NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), len = 0;
        if (n < 3 || strcmp(e->d_name + n - 2, ".o") != 0)
            continue;
        char *path = str_printf("%s/%s", dir, e->d_name);
        char *obj = path ? file_read(path, 64 << 20, &len) : NULL;
        if (obj && memmem(obj, len, vg_magic, sizeof vg_magic))
            found = strndup(e->d_name, n - 2);
        free(obj);
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    return found;
}

/* The first test of l that did not pass, or NULL. */
static const struct test *first_failed(const struct lab *l)
{
    for (int i = 0; i < l->ntests; i++)
        if (strcmp(l->tests[i].verdict, "pass") != 0)
            return &l->tests[i];
    return NULL;
}

int memcheck_run(const struct opts *o, const struct place *p, struct lab *lab,
                 char *const env[])
{
    char *vgdir = str_printf("%s/valgrind", p->out);
    char *results = str_printf("%s/memcheck.results", p->out);
    char *resenv = str_printf("HX_RESULTS=%s/memcheck.results", p->seen_out);
    char *mcenv[32];
    char *log = str_printf("%s/memcheck.log", p->logs);
    char *test = str_printf("%s/test", p->seen_out);
    char *scale = str_printf("CK_TIMEOUT_MULTIPLIER=%g", 10 * o->scale);
    char *argv[] = { test, NULL };      /* the checker starts Valgrind itself */
    struct limits lim = { 3 * lab->m.run_timeout * o->scale, 0, 0, 64, 0,
                          o->uid ? 256 : 0, o->uid, 1,
                          o->view_dir, place_view(p), p->scratch };
    struct lab mc = { .m = lab->m };
    struct outcome oc;
    char why[128];
    int rc = -1, clean = 0, passed = 0;

    if (!vgdir || !results || !resenv || !log || !test || !scale)
        goto out;
    if (lab->vg_asks) {                 /* it could shape its own report */
        lab->mc_ran = 1;
        lab->mc_note = str_printf("refused: %s.c uses Valgrind's client requests "
                                  "(valgrind.h), through which code can shape its "
                                  "own report; the Valgrind pass grades code that "
                                  "does not", lab->vg_asks);
        rc = 0;
        goto out;
    }
    memcheck_env(env, resenv, scale, mcenv, 32);
    dir_remove(vgdir);
    remove(results);
    if (dir_make(vgdir) == -1 || (o->uid && dir_chown(vgdir, o->uid) == -1))
        goto out;
    if (run_bounded(argv, p->seen_out, mcenv, log, &lim, &oc) == -1) {
        lab->note = str_printf("the grader could not run the Valgrind pass: %s",
                               oc.error);
        goto out;
    }
    lab->mc_ran = 1;
    if (results_parse(results, &mc) == 0 && believe(p->suite_c, NULL, &mc) == 0)
        passed = all_passed(&mc);
    clean = judge_logs(vgdir, &lab->mc_note);
    if (passed && clean) {
        lab->mc_earned = lab->m.memcheck;
        free(lab->mc_note);
        lab->mc_note = strdup("");
    } else if (!passed) {
        const struct test *t = first_failed(&mc);
        char *n = t ? str_printf("in the Valgrind pass, %s failed: %s\n%s", t->name,
                                 t->msg && *t->msg ? t->msg : t->verdict,
                                 lab->mc_note ? lab->mc_note : "")
                    : str_printf("under Valgrind the tests did not all pass (%s)\n%s",
                                 run_describe(&oc, why, sizeof why),
                                 lab->mc_note ? lab->mc_note : "");
        free(lab->mc_note);
        lab->mc_note = n;
    }
    rc = 0;
out:
    lab_free(&mc);
    free(vgdir);
    free(results);
    free(resenv);
    free(log);
    free(test);
    free(scale);
    return rc;
}
