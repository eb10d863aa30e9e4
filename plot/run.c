/*
 * The private folder a picture is made in, and gnuplot or dot run there
 * (see internal.h).  No shell is involved: posix_spawnp runs the program
 * with an argument list of the room's own names, in the folder.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, glibc 2.29 */
#include "plot/plot_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PREFIX "attograd-plot-"

static const char *temp_root(void)
{
    const char *t = getenv("TMPDIR");
    struct stat st;
    if (t && t[0] == '/' && strlen(t) < PATH_MAX - 64 && stat(t, &st) == 0 && S_ISDIR(st.st_mode))
        return t;
    return "/tmp";
}

/* Removes the files in the folder name of parent (ours: no subfolders) and the folder. */
static void remove_folder_at(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}

/* Folders of this user's processes that were killed before they could
 * remove theirs: attograd-plot-<pid>-XXXXXX with no process <pid>. */
static void remove_stale_folders(const char *root)
{
    DIR *d = opendir(root);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0) continue;
        char *end;
        errno = 0;
        long pid = strtol(e->d_name + strlen(PREFIX), &end, 10);
        struct stat st;
        if (errno || *end != '-' || pid <= 0 || pid > INT32_MAX || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        remove_folder_at(dirfd(d), e->d_name);
    }
    closedir(d);
}

int plot__scratch_open(PlotScratch *s, const char *target)
{
    const char *root = temp_root();
    remove_stale_folders(root);
    snprintf(s->dir, sizeof s->dir, "%s/" PREFIX "%ld-XXXXXX", root, (long)getpid());
    if (!mkdtemp(s->dir)) {
        int err = errno;
        s->dir[0] = '\0';
        return plot__fail("%s: cannot make a private folder in %s: %s", target, root,
                                strerror(err));
    }
    return 0;
}

FILE *plot__scratch_file(PlotScratch *s, const char *name, const char *target)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        tensor_set_error("%s: cannot write in the private folder: %s", target, strerror(errno));
        if (fd >= 0) close(fd);
    }
    return f;
}

void plot__scratch_close(PlotScratch *s)
{
    if (!s->dir[0]) return;
    remove_folder_at(AT_FDCWD, s->dir);
    s->dir[0] = '\0';
}

/* How to install each helper program. */
static const char *install_hint(const char *program)
{
    if (strcmp(program, "gnuplot") == 0) return "apt-get install gnuplot-nox";
    if (strcmp(program, "dot") == 0) return "apt-get install graphviz";
    return "see its documentation";
}

/* The one line of the helper's stderr that says what went wrong: gnuplot's
 * last '"script" line N: message' (its message only), else the last
 * non-empty line; control bytes dropped. */
static void last_words(PlotScratch *s, char *out, size_t cap)
{
    char path[PATH_MAX + 32], line[512];
    snprintf(path, sizeof path, "%s/stderr", s->dir);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    bool marked = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *msg = line;
        const char *mark = line[0] == '"' ? strstr(line, "\" line ") : NULL;
        const char *colon = mark ? strstr(mark, ": ") : NULL;
        if (colon) msg = colon + 2;
        while (*msg == ' ') msg++;
        if (!*msg || (marked && !colon)) continue;
        marked |= colon != NULL;
        size_t n = 0;
        for (const char *c = msg; *c && n + 1 < cap; c++)
            if ((unsigned char)*c >= 0x20 && *c != 0x7f) out[n++] = *c;
        out[n] = '\0';
    }
    fclose(f);
}

int plot__run(PlotScratch *s, char *const argv[], const char *target)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return plot__fail("%s: cannot run %s: out of memory", target, argv[0]);
    char err_path[PATH_MAX + 32];
    snprintf(err_path, sizeof err_path, "%s/stderr", s->dir);
    int rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path,
                                              O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (rc == 0) rc = posix_spawn_file_actions_addchdir_np(&fa, s->dir);
    pid_t pid = 0;
    if (rc == 0) rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT)
        return plot__fail("%s: %s is not installed (%s)", target, argv[0],
                                install_hint(argv[0]));
    if (rc != 0) return plot__fail("%s: cannot run %s: %s", target, argv[0], strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return plot__fail("%s: waiting for %s: %s", target, argv[0], strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)   /* some libcs report a failed exec so */
        return plot__fail("%s: %s is not installed (%s)", target, argv[0],
                                install_hint(argv[0]));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char said[256];
    last_words(s, said, sizeof said);
    if (WIFSIGNALED(status))
        return plot__fail("%s: %s was killed by signal %d", target, argv[0],
                                WTERMSIG(status));
    return plot__fail("%s: %s failed: %s", target, argv[0],
                            said[0] ? said : "it said nothing");
}

/* Copies s's file name into out; 0, or -1 with errno. */
static int copy_file(PlotScratch *s, const char *name, FILE *out, bool skip_form_feed)
{
    char path[PATH_MAX + 32], buf[8192];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    FILE *in = fopen(path, "rb");
    if (!in) return -1;
    size_t got;
    int rc = 0;
    bool first = true;
    while (rc == 0 && (got = fread(buf, 1, sizeof buf, in)) > 0) {
        size_t from = first && skip_form_feed && buf[0] == '\f';
        if (fwrite(buf + from, 1, got - from, out) != got - from) rc = -1;
        first = false;
    }
    if (ferror(in)) rc = -1;
    fclose(in);
    return rc;
}

int plot__deliver(PlotScratch *s, const char *name, const char *target)
{
    TensorOutput *out = tensor_output_open(target);
    if (!out) return -1;
    if (copy_file(s, name, tensor_output_file(out), false) != 0) {
        int err = errno;
        tensor_output_abort(out);
        return plot__fail("%s: the picture was not made (%s)", target, strerror(err));
    }
    return tensor_output_commit(out);
}

int plot__copy_out(PlotScratch *s, const char *name, FILE *f, const char *what)
{
    if (copy_file(s, name, f, true) != 0 || fflush(f) != 0)
        return plot__fail("%s: cannot write the text picture: %s", what, strerror(errno));
    return 0;
}
