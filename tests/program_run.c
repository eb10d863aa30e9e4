/* The example programs run as a user runs them (see program_run.h). */
#define _GNU_SOURCE
#include "program_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

static char dir[256];

void scratch_make(const char *label)
{
    snprintf(dir, sizeof dir, "/tmp/attograd-%s-XXXXXX", label);
    ck_assert(mkdtemp(dir) != NULL);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void scratch_remove(void)
{
    /* depth first (a directory after its entries), not following links */
    ck_assert_msg(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove %s",
                  dir);
}

const char *scratch_dir(void)
{
    return dir;
}

const char *scratch_file(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

bool scratch_exists(const char *name)
{
    struct stat st;
    return stat(scratch_file(name), &st) == 0;
}

int scratch_count(void)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

void scratch_slurp(const char *name, char *buf, size_t cap)
{
    const char *path = scratch_file(name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t got = fread(buf, 1, cap - 1, f);
    buf[got] = '\0';
    fclose(f);
    remove(path);
}

void scratch_listing(char *buf, size_t cap)
{
    char cmd[600];
    /* dir is our own mkdtemp name: no user string. */
    snprintf(cmd, sizeof cmd, "ls -A %s", dir);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    size_t got = fread(buf, 1, cap - 1, p);
    buf[got] = '\0';
    pclose(p);
}

static char tmpdir[64];

void tmpdir_make(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/attograd-tmpdir-XXXXXX");
    ck_assert(mkdtemp(tmpdir) != NULL);
    setenv("TMPDIR", tmpdir, 1);
}

int tmpdir_count(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_msg(d != NULL, "cannot open %s", tmpdir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

void tmpdir_remove(void)
{
    unsetenv("TMPDIR");
    ck_assert_msg(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove %s",
                  tmpdir);
}

int program_run(const char *prog, const char *const *args, char *out, size_t out_cap, char *err,
                size_t err_cap)
{
    char exe[512];
    snprintf(exe, sizeof exe, "%s/examples/%s", ATTOGRAD_BUILD_DIR, prog);
    const char *o = scratch_file("out.txt"), *e = scratch_file("err.txt");
    char *argv[32] = {exe};
    int n = 1;
    for (; args[n - 1]; n++) {
        ck_assert_int_lt(n, 31);
        argv[n] = (char *)args[n - 1];
    }
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawn_file_actions_addopen(&fa, 1, o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err) posix_spawn_file_actions_addopen(&fa, 2, e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    else posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, exe, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    scratch_slurp("out.txt", out, out_cap);
    if (err) scratch_slurp("err.txt", err, err_cap);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int program_capture(const char *prog, const char *args, char *out, size_t cap)
{
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "%s/examples/%s %s", ATTOGRAD_BUILD_DIR, prog, args);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof cmd, "%s %s: too long a command", prog, args);
    return testutil_capture(cmd, out, cap);
}

int program_capture_stderr(const char *prog, const char *args, char *err, size_t cap)
{
    char redirected[3072];
    int n = snprintf(redirected, sizeof redirected, "%s 2>&1 >/dev/null", args);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof redirected, "%s %s: too long a command", prog, args);
    return program_capture(prog, redirected, err, cap);
}
