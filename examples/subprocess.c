/* Running helper programs and writing output files safely (see subprocess.h). */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, glibc 2.29 */
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && n) vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

int spawn_wait(char *const argv[], const char *dir, char *why, size_t n)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return fail(why, n, "%s: out of memory", argv[0]);
    /* A helper's own stdout would mix with ours (gnuplot's dumb terminal
     * is read from a file instead). */
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    /* The working directory is changed in the child only: glibc 2.29+. */
    int rc = dir ? posix_spawn_file_actions_addchdir_np(&fa, dir) : 0;
    pid_t pid = 0;
    if (rc == 0) rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT) {
        fail(why, n, "%s is not installed", argv[0]);
        return 1;
    }
    if (rc != 0) return fail(why, n, "cannot run %s: %s", argv[0], strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fail(why, n, "waiting for %s: %s", argv[0], strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        /* posix_spawnp reports a failed exec this way in some libcs. */
        fail(why, n, "%s is not installed", argv[0]);
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail(why, n, "%s failed (%s %d)", argv[0],
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

/* The directory part of path ("." when it has none), in out. */
static int dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return snprintf(out, size, ".") < (int)size ? 0 : -1;
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= size) return -1;
    memcpy(out, path, len);
    out[len] = '\0';
    return 0;
}

int output_path_check(const char *path, char *why, size_t n)
{
    char dir[4096];
    struct stat st;
    if (!*path) return fail(why, n, "an empty file name");
    if (path[strlen(path) - 1] == '/') return fail(why, n, "%s: names a directory, not a file", path);
    if (dir_of(path, dir, sizeof dir)) return fail(why, n, "%s: the name is too long", path);
    if (stat(dir, &st) != 0)
        return fail(why, n, "%s: the directory %s does not exist", path, dir);
    if (!S_ISDIR(st.st_mode)) return fail(why, n, "%s: %s is not a directory", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return fail(why, n, "%s: the directory %s is not writable: %s", path, dir, strerror(errno));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return fail(why, n, "%s: is a directory", path);
    return 0;
}

int scratch_open(Scratch *s, const char *target, char *why, size_t n)
{
    s->n = 0;
    s->dir[0] = '\0';
    if (output_path_check(target, why, n)) return -1;
    char dir[4096];
    dir_of(target, dir, sizeof dir);
    if (snprintf(s->dir, sizeof s->dir, "%s/.attograd-XXXXXX", dir) >= (int)sizeof s->dir)
        return fail(why, n, "%s: the name is too long", target);
    if (!mkdtemp(s->dir)) {
        int e = errno;
        s->dir[0] = '\0';
        return fail(why, n, "%s: cannot make a temporary directory in %s: %s", target, dir,
                    strerror(e));
    }
    return 0;
}

static bool own_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= 32 || name[0] == '.' || name[0] == '-') return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    return true;
}

int scratch_expect(Scratch *s, const char *name, char *why, size_t n)
{
    if (!own_name(name)) return fail(why, n, "scratch: '%s' is not a plain file name", name);
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) return 0;
    if (s->n == SCRATCH_MAX_FILES) return fail(why, n, "scratch: more than %d files", SCRATCH_MAX_FILES);
    strcpy(s->names[s->n++], name);
    return 0;
}

FILE *scratch_fopen(Scratch *s, const char *name, char *why, size_t n)
{
    if (scratch_expect(s, name, why, n)) return NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fail(why, n, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
    }
    return f;
}

int scratch_commit(Scratch *s, const char *name, const char *target, char *why, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    /* mkdtemp's files are 0600; the result gets the usual mode for new files. */
    mode_t mask = umask(0);
    umask(mask);
    if (chmod(path, 0666 & ~mask) != 0)
        return fail(why, n, "%s: was not made: %s", target, strerror(errno));
    if (rename(path, target) != 0) return fail(why, n, "%s: %s", target, strerror(errno));
    return 0;
}

void scratch_close(Scratch *s)
{
    if (!s->dir[0]) return;
    char path[4200];
    for (int i = 0; i < s->n; i++) {
        snprintf(path, sizeof path, "%s/%s", s->dir, s->names[i]);
        unlink(path);
    }
    rmdir(s->dir);
    s->dir[0] = '\0';
    s->n = 0;
}
