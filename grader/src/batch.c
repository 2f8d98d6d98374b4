/* batch.c - grade a whole class: every submission in a directory, JOBS at
 * a time, each by a grade process of its own.
 *
 * A submission is a subdirectory, a .tar.gz/.tgz or a .zip. Archives are
 * unpacked by tar or unzip running isolated (run.h), so a hostile archive
 * can write only into its own fresh directory. Each submission is graded
 * into OUT/ID.new and renamed to OUT/ID only if grading itself worked: an
 * infrastructure failure is reported as "error" and never replaces an
 * earlier good result. The gradebook has one row per submission:
 * id, one column per lab, total, status.
 */
#define _GNU_SOURCE
#include "grade.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SUBS 4096
#define MAX_JOBS 64

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct sub {
    char name[256];             /* directory entry: "alice.tar.gz" */
    char id[256];               /* its name without the archive suffix */
    char dir[256];              /* its results under OUT: the id, or if that
                                   is too long for OUT/ID.failed, a prefix
                                   and a hash of it */
    char kind;                  /* 'd' directory, 't' tar.gz, 'z' zip,
                                   'l' a link, 'x' anything else: refused */
    char *refused;              /* why it is not graded ("alice has the same
                                   id"), or NULL */
    pid_t pid;                  /* its worker while running, else 0 */
    int status;                 /* the worker's wait status */
};

/* The kind of a submission entry (see struct sub), or 0 for a dot file or
 * one that is gone. */
static char sub_kind(const char *dir, const char *name, char *id, size_t size)
{
    static const struct { const char *ext; char kind; } ext[] = {
        { ".tar.gz", 't' }, { ".tgz", 't' }, { ".zip", 'z' } };
    size_t n = strlen(name);
    struct stat st;
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (name[0] == '.' || lstat(path, &st) == -1)
        return 0;
    snprintf(id, size, "%s", name);
    if (S_ISDIR(st.st_mode))
        return 'd';
    if (S_ISLNK(st.st_mode))
        return 'l';
    for (size_t i = 0; S_ISREG(st.st_mode) && i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i].ext);
        if (n > e && strcmp(name + n - e, ext[i].ext) == 0) {
            id[n - e] = '\0';
            return ext[i].kind;
        }
    }
    return 'x';
}

static int by_id(const void *a, const void *b)
{
    const struct sub *x = a, *y = b;
    int c = strcmp(x->id, y->id);

    return c ? c : strcmp(x->name, y->name);
}

/* s->dir from s->id: the id itself if OUT/ID.failed fits in a file name,
 * else its first 200 bytes, "~" and a 64-bit FNV-1a hash of the whole. */
static void sub_dir(struct sub *s)
{
    unsigned long long h = 14695981039346656037ULL;

    if (strlen(s->id) + strlen(".failed") <= 255) {
        snprintf(s->dir, sizeof s->dir, "%s", s->id);
        return;
    }
    for (const char *p = s->id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(s->dir, sizeof s->dir, "%.200s~%016llx", s->id, h);
}

/* The names of the entries i..j-1 of subs but k, ", " between. */
static char *others(const struct sub *subs, int i, int j, int k)
{
    size_t len = 1;
    char *names;

    for (int m = i; m < j; m++)
        len += m == k ? 0 : strlen(subs[m].name) + 2;
    if ((names = malloc(len)) == NULL)
        return NULL;
    names[0] = '\0';
    for (int m = i; m < j; m++) {
        if (m == k)
            continue;
        if (names[0] != '\0')
            strcat(names, ", ");
        strcat(names, subs[m].name);
    }
    return names;
}

/* Mark the entries of sorted subs that share an id (alice/ and
 * alice.tar.gz): none of them is graded, and each row names the others.
 * Returns 0, or -1 with errno set. */
static int mark_clashes(struct sub *subs, int n)
{
    for (int i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(subs[j].id, subs[i].id) == 0; j++)
            ;
        for (int k = i; j - i > 1 && k < j; k++) {
            char *names = others(subs, i, j, k);
            free(subs[k].refused);
            subs[k].refused = names ? str_printf("%s has the same id", names) : NULL;
            free(names);
            if (subs[k].refused == NULL)
                return -1;
        }
    }
    return 0;
}

/* Fill subs from dir, sorted by id. Returns how many, or -1. */
static int list_subs(const char *dir, struct sub *subs, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL && n < max) {
        memset(&subs[n], 0, sizeof subs[n]);
        subs[n].kind = sub_kind(dir, e->d_name, subs[n].id, sizeof subs[n].id);
        if (subs[n].kind == 0)
            continue;
        snprintf(subs[n].name, sizeof subs[n].name, "%s", e->d_name);
        if (strchr("lx", subs[n].kind) && (subs[n].refused = strdup(
                subs[n].kind == 'l' ? "a symbolic link (a submission is a "
                "directory, a .tar.gz or a .zip)" : "not a directory, a .tar.gz "
                "or a .zip")) == NULL)
            break;
        n++;
    }
    closedir(d);
    qsort(subs, (size_t)n, sizeof *subs, by_id);
    for (int i = 0; i < n; i++)
        sub_dir(&subs[i]);
    return mark_clashes(subs, n) == -1 ? -1 : n;
}

/* Whether dir holds lab directories (NN-name). */
static int is_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int yes = 0;

    while (d != NULL && !yes && (e = readdir(d)) != NULL)
        yes = e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
              e->d_name[1] >= '0' && e->d_name[1] <= '9' && e->d_name[2] == '-';
    if (d != NULL)
        closedir(d);
    return yes;
}

/* The directory of an unpacked submission that is laid out like labs/:
 * DIR itself, DIR/labs, or the same inside DIR's only subdirectory. */
static char *find_tree(const char *dir, int depth)
{
    char *labs = str_printf("%s/labs", dir), *only = NULL;
    struct dirent *e;
    int subdirs = 0;
    DIR *d;

    if (is_tree(dir) || depth == 0) {
        free(labs);
        return strdup(dir);
    }
    if (labs && is_tree(labs))
        return labs;
    free(labs);
    d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        subdirs++;
        free(only);
        only = str_printf("%s/%s", dir, e->d_name);
    }
    if (d != NULL)
        closedir(d);
    if (subdirs == 1 && only != NULL) {
        char *t = find_tree(only, depth - 1);
        free(only);
        return t;
    }
    free(only);
    return strdup(dir);
}

/* In a worker: unpack archive into dir as the isolated uid. Returns 0, or
 * -1 with a note in DIR/../unpack.log. */
static int unpack(const struct opts *o, const struct sub *s, const char *subs,
                  const char *work, const char *dir)
{
    char *arch = str_printf("%s/%s", subs, s->name), *log = str_printf("%s/unpack.log", work);
    char *real = arch ? realpath(arch, NULL) : NULL, *to = realpath(dir, NULL);
    /* In a view, the archive is /shm-labs/archive and dir /shm-labs/out. */
    const struct bind view[] = { { real, "/shm-labs/archive", 0 },
                                 { to, "/shm-labs/out", 1 }, { NULL, NULL, 0 } };
    char *in = o->view_dir ? "/shm-labs/archive" : real;
    char *tar[] = { "tar", "-xzf", in, "-C", ".", "--no-same-owner",
                    "--no-same-permissions", NULL };     /* run in dir */
    char *zip[] = { "unzip", "-q", "-n", in, "-d", ".", NULL };
    char *env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
    struct limits lim = { 60, 60, 1024, 64, 64, 16, o->uid, 0, o->view_dir,
                          o->view_dir ? view : NULL, NULL };
    struct outcome oc;
    int rc = -1;

    FILE *lf = log ? fopen(log, "we") : NULL;  /* made here: work stays root's */

    if (lf != NULL)
        fclose(lf);
    if (real && to && lf && (!o->uid || (dir_chown(dir, o->uid) == 0 &&
                                   dir_chown(log, o->uid) == 0)) &&
        run_bounded(s->kind == 't' ? tar : zip, o->view_dir ? "/shm-labs/out" : dir,
                    env, log, &lim, &oc) == 0)
        rc = !oc.timed_out && WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0 ? 0 : -1;
    if (o->uid && (dir_chown(dir, 0) == -1 || (log && dir_chown(log, 0) == -1)))
        rc = -1;                        /* the unpacked tree is root's again */
    free(arch);
    free(real);
    free(to);
    free(log);
    return rc;
}

/* Hard-linked files seen while pruning: every name of one goes. */
struct inodes {
    ino_t ino[64];
    int n;
};

/* What a member of an unpacked archive is, if it is not to be taken. */
static const char *refused_kind(const struct stat *st, struct inodes *hard)
{
    if (S_ISDIR(st->st_mode))
        return NULL;
    if (S_ISLNK(st->st_mode))
        return "a symbolic link";
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
        return "a device";
    if (!S_ISREG(st->st_mode))
        return S_ISFIFO(st->st_mode) ? "a FIFO" : "not a plain file";
    for (int i = 0; i < hard->n; i++)
        if (hard->ino[i] == st->st_ino)
            return "a hard link";
    if (st->st_nlink == 1)
        return NULL;
    if (hard->n < 64)
        hard->ino[hard->n++] = st->st_ino;
    return "a hard link";
}

/* Remove, below the directory open on fd (named rel in messages), every
 * member that is not a plain file or directory (refused_kind), saying so
 * on stdout, the submission's report. Closes fd. Returns 0, or -1 with
 * errno set. */
static int prune(int fd, const char *rel, struct inodes *hard)
{
    DIR *d = fdopendir(fd);
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        close(fd);
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        const char *why;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = str_printf("%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (path == NULL || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
            rc = -1;
        else if ((why = refused_kind(&st, hard)) != NULL)
            rc = unlinkat(dirfd(d), e->d_name, 0) == -1 ||
                 printf("shm-labs: not taken from the archive: %s is %s (only "
                        "plain files and directories are)\n", path, why) < 0 ? -1 : 0;
        else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY |
                             O_NOFOLLOW | O_CLOEXEC);
            rc = sub == -1 ? -1 : prune(sub, path, hard);
        }
        free(path);
    }
    closedir(d);
    return rc;
}

/* prune() the unpacked tree dir. Returns 0, or -1 with errno set. */
static int prune_tree(const char *dir)
{
    struct inodes hard = { .n = 0 };
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    return fd == -1 ? -1 : prune(fd, "", &hard);
}

/* Say on stdout (the report) that the archive was not fully unpacked, with
 * the first lines tar or unzip wrote (WORK/unpack.log). Returns 0 or -1. */
static int unpack_note(const char *work)
{
    char *log = str_printf("%s/unpack.log", work);
    char *text = log ? file_read(log, 4096, NULL) : NULL;
    int lines = 0, rc;

    rc = printf("shm-labs: the archive was not fully unpacked (what was, is "
                "graded)%s\n", text && *text ? "; the unpacker said:" : "") < 0;
    for (char *l = text ? strtok(text, "\n") : NULL; l && lines < 5 && rc == 0;
         l = strtok(NULL, "\n"), lines++)
        rc = printf("  %.200s\n", l) < 0;
    free(text);
    free(log);
    return rc ? -1 : 0;
}

/* The worker process for one submission: unpack if needed, then exec a
 * grade of it. Never returns. */
static void worker(const struct opts *o, const struct sub *s, const char *subs,
                   const char *work, int slot)
{
    char *disk = str_printf("%s/disk", work), *src = str_printf("%s/disk/src", work);
    char *rep = str_printf("%s/report.txt", work), *res = str_printf("%s/results.json", work);
    char *sum = str_printf("%s/summary.tsv", work), slotbuf[16], mib[24], *tree = NULL;
    const char *exe = "/proc/self/exe";

    /* Isolated, all this grading writes (the unpacked archive, the builds,
     * each run's /tmp and /dev/shm) shares one tmpfs of --disk MiB, which
     * lives as long as this worker and the grader it becomes. */
    if (!disk || !src || !rep || !res || !sum || run_init() == -1 ||
        dir_make(disk) == -1 || (o->view_dir && view_disk(disk, o->disk_mib) == -1))
        _exit(2);
    int unpacked = 0;                   /* graded all the same: what could not */
    if (s->kind == 'd') {               /* be unpacked earns nothing */
        free(src);
        src = str_printf("%s/%s", subs, s->name);
    } else {
        unpacked = dir_make(src) == -1 ? -1 : unpack(o, s, subs, work, src);
    }
    if (freopen(rep, "w", stdout) == NULL || dup2(fileno(stdout), 2) == -1 ||
        (unpacked == -1 && unpack_note(work) == -1) ||
        (s->kind != 'd' && prune_tree(src) == -1) ||
        (tree = find_tree(src, 3)) == NULL || fflush(stdout) == EOF)
        _exit(2);
    snprintf(slotbuf, sizeof slotbuf, "%d", slot);
    snprintf(mib, sizeof mib, "%ld", o->disk_mib);
    char *argv[15 + 8] = { (char *)exe, "--src", tree, "--results", res,
                           "--summary", sum, "--slot", slotbuf,
                           "--lab-jobs", "1",       /* JOBS fill the cores */
                           "--work-in", disk, "--disk", mib };
    int a = 15;
    if (o->lab) {
        argv[a++] = "--lab";
        argv[a++] = (char *)o->lab;
    }
    if (o->hidden) {
        argv[a++] = "--hidden";
        argv[a++] = (char *)o->hidden;
    }
    if (o->no_memcheck)
        argv[a++] = "--no-memcheck";
    if (o->first_fail)
        argv[a++] = "--first-fail";
    argv[a] = NULL;
    execv(exe, argv);
    _exit(2);
}

/* Start the worker for s in a free slot. Returns 0, or -1. */
static int start(const struct opts *o, struct sub *s, const char *subs,
                 const char *out, int slot)
{
    char *work = str_printf("%s/%s.new", out, s->dir);
    pid_t pid;

    if (work == NULL || dir_remove(work) == -1 || dir_make(work) == -1 ||
        chmod(work, 0755) == -1) {
        free(work);
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        worker(o, s, subs, work, slot);
    free(work);
    if (pid == -1)
        return -1;
    s->pid = pid;
    return 0;
}

/* A finished worker: keep its results if grading worked. Returns 1 if it
 * did, 0 if not (the previous results, if any, stay). */
static int finish(const char *out, struct sub *s)
{
    char *work = str_printf("%s/%s.new", out, s->dir);
    char *done = str_printf("%s/%s", out, s->dir);
    char *failed = str_printf("%s/%s.failed", out, s->dir);
    char *sum = str_printf("%s/summary.tsv", work ? work : "");
    char *text = sum ? file_read(sum, 1 << 16, NULL) : NULL;
    int ok = text && strstr(text, "\ntotal\t") && strstr(text, "\tok\n") &&
             WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0;

    if (work && done && failed) {
        dir_remove(ok ? done : failed);
        if (rename(work, ok ? done : failed) == -1)
            ok = 0;
    }
    free(text);
    free(sum);
    free(work);
    free(done);
    free(failed);
    return ok;
}

/* A CSV field: quoted when it holds a comma, quote or line break, and
 * with a ' before a first character that makes a spreadsheet read it as a
 * formula (= + - @, tab, carriage return). */
static void csv_field(FILE *f, const char *s)
{
    const char *tick = s[0] && strchr("=+-@\t\r", s[0]) ? "'" : "";

    if (strpbrk(s, ",\"\r\n") == NULL) {
        fprintf(f, "%s%s", tick, s);
        return;
    }
    fprintf(f, "\"%s", tick);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The gradebook row of s from OUT/ID/summary.tsv; ok says whether this run
 * graded it (else: status error, no scores). */
static void book_row(FILE *f, const char *out, const struct sub *s, int ok,
                     char labs[][NAME_MAX_], int nlabs)
{
    char *sum = str_printf("%s/%s/summary.tsv", out, s->dir);
    char *text = ok && sum ? file_read(sum, 1 << 16, NULL) : NULL;

    csv_field(f, s->id);
    for (int i = 0; i <= nlabs; i++) {
        const char *key = i < nlabs ? labs[i] : "total";
        char *line = text ? strstr(text, key) : NULL;
        int score = 0;
        fputc(',', f);
        if (line && sscanf(line + strlen(key), "\t%d", &score) == 1)
            fprintf(f, "%d", score);
    }
    fputc(',', f);
    if (s->refused != NULL) {
        char *why = str_printf("refused: %s", s->refused);
        csv_field(f, why ? why : "refused");
        free(why);
    } else {
        fputs(ok ? "ok" : "error", f);
    }
    fputc('\n', f);
    free(text);
    free(sum);
}

/* Wait for one worker and report it. Returns its index in subs, or -1. */
static int reap(struct sub *subs, int n, int *ok, const char *out, int *done,
                double t0)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, 0)) == -1 && errno == EINTR)
        ;
    for (int i = 0; pid > 0 && i < n; i++) {
        if (subs[i].pid != pid)
            continue;
        subs[i].pid = 0;
        subs[i].status = st;
        ok[i] = finish(out, &subs[i]);
        fprintf(stderr, "[%*d/%d] %-24s %s (%.0f s)\n", n > 99 ? 3 : 2, ++*done,
                n, subs[i].id, ok[i] ? "graded" : "ERROR", now_s() - t0);
        return i;
    }
    return -1;
}

/* Write the gradebook. Returns the number of submissions in error, or -1. */
static int gradebook_write(const char *path, const char *out, struct sub *subs,
                           int n, const int *ok, char labs[][NAME_MAX_], int nlabs)
{
    FILE *f = fopen(path, "we");
    int bad = 0;

    if (f == NULL)
        return -1;
    fputs("id", f);
    for (int i = 0; i < nlabs; i++)
        fprintf(f, ",%s", labs[i]);
    fputs(",total,status\n", f);
    for (int i = 0; i < n; i++) {
        book_row(f, out, &subs[i], ok[i], labs, nlabs);
        bad += !ok[i];
    }
    return fclose(f) == EOF ? -1 : bad;
}

int batch_run(const struct opts *o, const char *subs_dir, const char *out,
              int jobs, const char *gradebook)
{
    static struct sub subs[MAX_SUBS];
    static int slot_of[MAX_SUBS], ok[MAX_SUBS];
    char labs[32][NAME_MAX_];
    int busy[MAX_JOBS] = { 0 }, running = 0, next = 0, done = 0, bad;
    int n = list_subs(subs_dir, subs, MAX_SUBS);
    int nlabs = manifest_find(o->root, o->lab, labs, 32);
    int base = (int)(getpid() % 16) * MAX_JOBS;     /* apart from other batches */
    double t0 = now_s();

    jobs = jobs < 1 ? 1 : jobs > MAX_JOBS ? MAX_JOBS : jobs;
    if (n < 0 || nlabs < 0 || dir_make(out) == -1) {
        perror("grade: batch");
        return -1;
    }
    fprintf(stderr, "grading %d submission%s from %s, %d at a time\n", n,
            n == 1 ? "" : "s", subs_dir, jobs);
    while (done < n) {
        while (running < jobs && next < n) {
            int k = 0;
            while (busy[k])
                k++;
            slot_of[next] = k;
            if (subs[next].refused != NULL) {   /* not graded: say why */
                ok[next] = 0;
                fprintf(stderr, "[%*d/%d] %-24s REFUSED: %s\n",
                        n > 99 ? 3 : 2, ++done, n, subs[next].name, subs[next].refused);
            } else if (start(o, &subs[next], subs_dir, out, base + k) == 0) {
                busy[k] = 1;
                running++;
            } else {
                ok[next] = 0;
                done++;
            }
            next++;
        }
        int i = running > 0 ? reap(subs, n, ok, out, &done, t0) : -1;
        if (i >= 0) {
            busy[slot_of[i]] = 0;
            running--;
        }
    }
    bad = gradebook_write(gradebook, out, subs, n, ok, labs, nlabs);
    for (int i = 0; i < n; i++)
        free(subs[i].refused);
    if (bad >= 0)
        fprintf(stderr, "gradebook: %s (%d graded, %d errors, %.1f s)\n",
                gradebook, n - bad, bad, now_s() - t0);
    return bad < 0 ? -1 : bad > 0;
}
