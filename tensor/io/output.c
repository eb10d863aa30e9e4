/*
 * The safe output file (see tensor/output.h): every file the library or a
 * program writes goes through a temporary file beside its target, checked,
 * synced and renamed; and a program's paths are checked together.
 */
#include "core/tensor_internal.h"
#include "tensor/output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for ".tmp-<pid>-<n>" after a temporary file's prefix: two 10-digit
 * numbers at most. */
enum { TMP_SUFFIX = 5 + 10 + 1 + 10 };

/* Where an output goes and what it keeps. */
typedef struct {
    char *target;   /* the file replaced: path, or what a symbolic link at path names */
    char *dir;      /* target's folder ("." for a bare name) */
    char *prefix;   /* target's name, cut so that prefix + TMP_SUFFIX fits NAME_MAX */
    bool exists;
    mode_t mode;    /* the existing file's permission bits */
} Target;

struct TensorOutput {
    FILE *f;
    char *path;     /* the caller's, for messages */
    char *tmp;      /* the temporary file */
    Target t;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) tensor__abort(__FILE__, __LINE__, "out of memory");
    return d;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d) tensor__abort(__FILE__, __LINE__, "out of memory");
    return d;
}

static void target_free(Target *t)
{
    free(t->target);
    free(t->dir);
    free(t->prefix);
    *t = (Target){0};
}

static const char *kind(mode_t mode)
{
    return S_ISDIR(mode)    ? "a folder"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
                            : "not a regular file";
}

/* target's folder: its part before the last slash ("/" for "/x", "." for a bare name). */
static char *folder_of(const char *target)
{
    const char *slash = strrchr(target, '/');
    if (!slash) return xstrdup(".");
    return xstrndup(target, slash == target ? 1 : (size_t)(slash - target));
}

/* The rules of output.h, checked; t filled on success.  A symbolic link is
 * written through; the folder written into is the target's. */
static int inspect(const char *path, Target *t)
{
    *t = (Target){0};
    if (!path) return tensor_set_error("output: the path is NULL"), -1;
    if (!*path) return tensor_set_error("output: the file name is empty"), -1;
    if (path[strlen(path) - 1] == '/')
        return tensor_set_error("%s: names a folder, not a file", path), -1;
    struct stat st;
    int r = lstat(path, &st);
    if (r != 0 && errno != ENOENT) return tensor_set_error("%s: %s", path, strerror(errno)), -1;
    t->exists = r == 0;
    if (t->exists && S_ISLNK(st.st_mode)) {
        t->target = realpath(path, NULL);
        if (!t->target || stat(t->target, &st) != 0) {
            free(t->target);
            t->target = NULL;
            return tensor_set_error("%s: a symbolic link to nothing", path), -1;
        }
    } else {
        t->target = xstrdup(path);
    }
    if (t->exists && !S_ISREG(st.st_mode)) {
        tensor_set_error("%s: is %s; only a regular file is replaced", path, kind(st.st_mode));
        target_free(t);
        return -1;
    }
    t->mode = st.st_mode & 07777;
    t->dir = folder_of(t->target);
    struct stat ds;
    const char *why = NULL;
    if (stat(t->dir, &ds) != 0) why = errno == ENOENT ? "does not exist" : strerror(errno);
    else if (!S_ISDIR(ds.st_mode)) why = "is not a folder";
    else if (access(t->dir, W_OK | X_OK) != 0) why = "cannot be written";
    if (why) {
        tensor_set_error("%s: the folder %s %s", path, t->dir, why);
        target_free(t);
        return -1;
    }
    const char *slash = strrchr(t->target, '/');
    t->prefix = xstrndup(slash ? slash + 1 : t->target, NAME_MAX - TMP_SUFFIX);
    return 0;
}

int tensor_output_check(const char *path)
{
    Target t;
    if (inspect(path, &t)) return -1;
    target_free(&t);
    return 0;
}

/* Digits only, to the end or to stop; the value in *v. */
static bool parse_number(const char **s, char stop, unsigned long long *v)
{
    char *end;
    if (**s < '0' || **s > '9') return false;
    errno = 0;
    *v = strtoull(*s, &end, 10);
    if (errno || *end != stop) return false;
    *s = end + (stop != '\0');
    return true;
}

/* A write killed midway (kill -9) leaves <prefix>.tmp-<pid>-<n>: removed
 * here when that process no longer exists.  Another live process's file,
 * or a name of any other form, is left alone. */
static void remove_stale_temporaries(const Target *t)
{
    DIR *d = opendir(t->dir);
    if (!d) return;
    size_t k = strlen(t->prefix);
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name;
        unsigned long long pid, n;
        if (strncmp(s, t->prefix, k) != 0 || strncmp(s + k, ".tmp-", 5) != 0) continue;
        s += k + 5;
        if (!parse_number(&s, '-', &pid) || !parse_number(&s, '\0', &n)) continue;
        if (pid == 0 || pid > INT32_MAX || (pid_t)pid == getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Creates the temporary file beside the target, with the target's mode
 * when it exists: its descriptor, or -1 with errno. */
static int create_temporary(TensorOutput *o)
{
    static unsigned counter;
    const Target *t = &o->t;
    size_t cap = strlen(t->dir) + strlen(t->prefix) + TMP_SUFFIX + 2;
    o->tmp = malloc(cap);
    if (!o->tmp) tensor__abort(__FILE__, __LINE__, "out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(o->tmp, cap, "%s/%s.tmp-%ld-%u", t->dir, t->prefix, (long)getpid(), counter++);
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd >= 0 && t->exists && fchmod(fd, t->mode) != 0) {
            int err = errno;
            close(fd);
            unlink(o->tmp);
            errno = err;
            return -1;
        }
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

static void output_free(TensorOutput *o)
{
    free(o->path);
    free(o->tmp);
    target_free(&o->t);
    free(o);
}

TensorOutput *tensor_output_open(const char *path)
{
    TensorOutput *o = calloc(1, sizeof *o);
    if (!o) tensor__abort(__FILE__, __LINE__, "out of memory");
    if (inspect(path, &o->t)) {
        free(o);
        return NULL;
    }
    o->path = xstrdup(path);
    remove_stale_temporaries(&o->t);
    int fd = create_temporary(o);
    if (fd >= 0 && !(o->f = fdopen(fd, "wb"))) {
        int err = errno;
        close(fd);
        unlink(o->tmp);
        errno = err;
    }
    if (!o->f) {
        tensor_set_error("%s: cannot create a temporary file beside it: %s", path,
                         strerror(errno));
        output_free(o);
        return NULL;
    }
    return o;
}

FILE *tensor_output_file(const TensorOutput *out) { return out ? out->f : NULL; }

void tensor_output_abort(TensorOutput *out)
{
    if (!out) return;
    if (out->f) fclose(out->f);
    unlink(out->tmp);
    output_free(out);
}

/* The folder's entry for the rename reaches the disk too; a failure here
 * cannot undo the rename, so it is not reported. */
static void sync_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int tensor_output_commit(TensorOutput *out)
{
    if (!out) return tensor_set_error("output: commit of NULL"), -1;
    FILE *f = out->f;
    int failed = 0, err = 0;
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) failed = 1, err = errno ? errno : EIO;
    if (!failed && fsync(fileno(f)) != 0) failed = 1, err = errno;
    out->f = NULL;
    if (fclose(f) != 0 && !failed) failed = 1, err = errno;
    if (failed) {
        tensor_set_error("%s: %s", out->path, strerror(err));
        tensor_output_abort(out);
        return -1;
    }
    /* What came to the path since the open is held to the same rule. */
    Target now;
    if (inspect(out->path, &now)) {
        tensor_output_abort(out);
        return -1;
    }
    bool moved = strcmp(now.target, out->t.target) != 0;
    target_free(&now);
    if (moved) {
        tensor_set_error("%s: changed while written (now a link elsewhere)", out->path);
        tensor_output_abort(out);
        return -1;
    }
    if (rename(out->tmp, out->t.target) != 0) {
        tensor_set_error("%s: %s", out->path, strerror(errno));
        tensor_output_abort(out);
        return -1;
    }
    sync_folder(out->t.dir);
    output_free(out);
    return 0;
}

/* ---- a program's paths, together --------------------------------------------- */

/* What a path names: an existing file's device and inode, or its folder's
 * and its name for a file still to be made (the folder's absent: the
 * string itself). */
typedef struct {
    int how;                /* 2: the file, 1: folder and name, 0: the string */
    dev_t dev;
    ino_t ino;
    const char *name;
} Identity;

static Identity identify(const char *path)
{
    Identity id = {.name = path};
    struct stat st;
    if (stat(path, &st) == 0) return (Identity){2, st.st_dev, st.st_ino, path};
    char *dir = folder_of(path);
    const char *slash = strrchr(path, '/');
    if (stat(dir, &st) == 0) id = (Identity){1, st.st_dev, st.st_ino, slash ? slash + 1 : path};
    free(dir);
    return id;
}

static bool same_file(Identity a, Identity b)
{
    if (a.how != b.how) return false;
    if (a.how == 0) return strcmp(a.name, b.name) == 0;
    return a.dev == b.dev && a.ino == b.ino && (a.how == 2 || strcmp(a.name, b.name) == 0);
}

int tensor_paths_check(int64_t n, const TensorPath *paths)
{
    if (n < 0 || (n > 0 && !paths))
        return tensor_set_error("paths: %lld paths%s", (long long)n, paths ? "" : " in a NULL list"),
               -1;
    for (int64_t i = 0; i < n; i++) {
        if (!paths[i].path || !paths[i].output || tensor_output_check(paths[i].path) == 0)
            continue;
        char *why = xstrdup(tensor_error());
        tensor_set_error("%s %s", paths[i].what ? paths[i].what : "output", why);
        free(why);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!paths[i].path) continue;
        Identity a = identify(paths[i].path);
        for (int64_t j = i + 1; j < n; j++) {
            const TensorPath *p = &paths[i], *q = &paths[j];
            if (!q->path || (!p->output && !q->output) || (p->group && p->group == q->group))
                continue;
            if (same_file(a, identify(q->path)))
                return tensor_set_error("%s %s and %s %s name the same file",
                                        p->what ? p->what : "a path", p->path,
                                        q->what ? q->what : "a path", q->path),
                       -1;
        }
    }
    return 0;
}
