/*
 * The safe output file (tensor/output.h), rule by rule: what is at the
 * path (a FIFO, a character device, a folder, a link to nothing) is refused
 * before anything is written and stays what it was; a symbolic link is
 * written through; the target's mode is kept; the temporary name fits
 * NAME_MAX for the longest legal name; a write error, an abort or a path
 * that changed kind before the commit leave the target as it was and no
 * temporary file; a killed writer's temporary file is removed by the next
 * open.  Then tensor_paths_check: outputs that name one file, by name, by
 * link, or by a file still to be made.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attograd.h"
#include "program_run.h"
#include "testutil.h"

static void setup(void) { scratch_make("output"); }

/* Writes text to path through the safe output file: tensor_output_commit's result. */
static int write_text(const char *path, const char *text)
{
    TensorOutput *out = tensor_output_open(path);
    if (!out) return -1;
    fputs(text, tensor_output_file(out));
    return tensor_output_commit(out);
}

static const char *read_text(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* tensor_error() is "<path>: <rest>". */
static void assert_error(const char *path, const char *rest)
{
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, rest);
    ck_assert_str_eq(tensor_error(), want);
}

START_TEST(test_write_and_replace)
{
    const char *path = scratch_file("a.csv");
    ck_assert_int_eq(write_text(path, "one\n"), 0);
    ck_assert_str_eq(read_text(path), "one\n");
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0666 & ~mask);   /* a new file: the usual mode */
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(write_text(path, "two\n"), 0);
    ck_assert_str_eq(read_text(path), "two\n");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);            /* the existing file's mode stays */
    /* An abort leaves the target as it was, and nothing beside it. */
    TensorOutput *out = tensor_output_open(path);
    ck_assert_ptr_nonnull(out);
    fputs("three\n", tensor_output_file(out));
    ck_assert_int_eq(scratch_count(), 2);                  /* the target and the temporary */
    tensor_output_abort(out);
    ck_assert_str_eq(read_text(path), "two\n");
    ck_assert_int_eq(scratch_count(), 1);
    tensor_output_abort(NULL);
}
END_TEST

/* A FIFO at the path: refused up front and by open, and still a FIFO. */
START_TEST(test_fifo_is_refused_and_kept)
{
    const char *path = scratch_file("x.csv");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(tensor_output_check(path), -1);
    assert_error(path, "is a FIFO; only a regular file is replaced");
    ck_assert_ptr_null(tensor_output_open(path));
    assert_error(path, "is a FIFO; only a regular file is replaced");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

/* A link to /dev/null is written through, so it is /dev/null that would be
 * replaced: refused, and /dev/null stays a character device.  A device
 * node of our own (when this user may make one) likewise. */
START_TEST(test_device_is_refused_and_kept)
{
    const char *link = scratch_file("null.png");
    ck_assert_int_eq(symlink("/dev/null", link), 0);
    ck_assert_int_eq(tensor_output_check(link), -1);
    assert_error(link, "is a character device; only a regular file is replaced");
    ck_assert_int_eq(write_text(link, "picture"), -1);
    struct stat st;
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    const char *node = scratch_file("node");
    if (mknod(node, S_IFCHR | 0600, makedev(1, 3)) == 0) {
        ck_assert_int_eq(write_text(node, "x"), -1);
        assert_error(node, "is a character device; only a regular file is replaced");
        ck_assert_int_eq(lstat(node, &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
    }
    ck_assert_int_eq(scratch_count(), 1 + (access(node, F_OK) == 0));
}
END_TEST

START_TEST(test_other_paths_are_refused)
{
    char path[600];
    ck_assert_int_eq(tensor_output_check(scratch_dir()), -1);
    assert_error(scratch_dir(), "is a folder; only a regular file is replaced");
    snprintf(path, sizeof path, "%s/", scratch_dir());
    ck_assert_int_eq(tensor_output_check(path), -1);
    assert_error(path, "names a folder, not a file");
    const char *dangling = scratch_file("dangling");
    ck_assert_int_eq(symlink("nowhere", dangling), 0);
    ck_assert_int_eq(tensor_output_check(dangling), -1);
    assert_error(dangling, "a symbolic link to nothing");
    snprintf(path, sizeof path, "%s/nodir/x.csv", scratch_dir());
    ck_assert_int_eq(tensor_output_check(path), -1);
    char rest[600];
    snprintf(rest, sizeof rest, "the folder %s/nodir does not exist", scratch_dir());
    assert_error(path, rest);
    snprintf(path, sizeof path, "%s/dangling/x.csv", scratch_dir());
    ck_assert_int_eq(tensor_output_check(path), -1);
    ck_assert_int_eq(tensor_output_check(""), -1);
    ck_assert_str_eq(tensor_error(), "output: the file name is empty");
    ck_assert_int_eq(tensor_output_check(NULL), -1);
    ck_assert_ptr_null(tensor_output_open(NULL));
    ck_assert_int_eq(tensor_output_commit(NULL), -1);
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

/* A link to a regular file: the file is replaced, the link stays. */
START_TEST(test_link_is_written_through)
{
    const char *target = scratch_file("target.csv"), *link = scratch_file("link.csv");
    ck_assert_int_eq(write_text(target, "old\n"), 0);
    ck_assert_int_eq(symlink("target.csv", link), 0);
    ck_assert_int_eq(write_text(link, "new\n"), 0);
    ck_assert_str_eq(read_text(target), "new\n");
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(scratch_count(), 2);
}
END_TEST

/* The longest legal names, 250 and 255 bytes: the temporary name is cut to
 * NAME_MAX, and the file is written. */
START_TEST(test_longest_names)
{
    static const int lengths[] = {250, 255};
    for (int i = 0; i < 2; i++) {
        char name[NAME_MAX + 1];
        memset(name, 'a' + i, (size_t)lengths[i]);
        name[lengths[i]] = '\0';
        const char *path = scratch_file(name);
        TensorOutput *out = tensor_output_open(path);
        ck_assert_msg(out != NULL, "%s", tensor_error());
        DIR *d = opendir(scratch_dir());
        for (struct dirent *e; (e = readdir(d));) ck_assert_uint_le(strlen(e->d_name), NAME_MAX);
        closedir(d);
        fputs("long\n", tensor_output_file(out));
        ck_assert_int_eq(tensor_output_commit(out), 0);
        ck_assert_str_eq(read_text(path), "long\n");
    }
    ck_assert_int_eq(scratch_count(), 2);
}
END_TEST

/* A write that fails (a file size limit, as a full disk): commit reports it,
 * the old file stays, no temporary file is left. */
START_TEST(test_write_error_keeps_the_old_file)
{
    const char *path = scratch_file("big.csv");
    ck_assert_int_eq(write_text(path, "small\n"), 0);
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    TensorOutput *out = tensor_output_open(path);
    ck_assert_ptr_nonnull(out);
    for (int i = 0; i < 1000; i++) fputs("0123456789\n", tensor_output_file(out));
    int rc = tensor_output_commit(out);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_int_eq(rc, -1);
    assert_error(path, "File too large");
    ck_assert_str_eq(read_text(path), "small\n");
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

/* The path became a FIFO while the file was written: the commit refuses it. */
START_TEST(test_commit_checks_again)
{
    const char *path = scratch_file("late.csv");
    TensorOutput *out = tensor_output_open(path);
    ck_assert_ptr_nonnull(out);
    fputs("rows\n", tensor_output_file(out));
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(tensor_output_commit(out), -1);
    assert_error(path, "is a FIFO; only a regular file is replaced");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

/* A writer killed with -9 leaves its temporary file: the next open of the
 * same path removes it once that process is gone; a live process's and
 * another path's stay. */
START_TEST(test_killed_writer_leaves_nothing_behind)
{
    const char *path = scratch_file("loss.csv");
    pid_t child = fork();
    if (child == 0) {
        TensorOutput *out = tensor_output_open(path);
        fputs("half a ro", tensor_output_file(out));
        fflush(tensor_output_file(out));
        raise(SIGKILL);
    }
    int status;
    waitpid(child, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_int_eq(scratch_count(), 1);   /* the killed writer's temporary file */
    char live[600], other[600];
    snprintf(live, sizeof live, "%s.tmp-%d-0", path, (int)getppid());
    snprintf(other, sizeof other, "%s/other.csv.tmp-%d-0", scratch_dir(), (int)child);
    touch(live);
    touch(other);
    ck_assert_int_eq(write_text(path, "whole\n"), 0);
    ck_assert_str_eq(read_text(path), "whole\n");
    ck_assert_int_eq(scratch_count(), 3);   /* loss.csv, the live one, the other path's */
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(access(other, F_OK), 0);
}
END_TEST

/* ---- tensor_paths_check ----------------------------------------------------------- */

START_TEST(test_paths_that_collide)
{
    char out[600], dot_out[600];
    snprintf(out, sizeof out, "%s/out", scratch_dir());
    snprintf(dot_out, sizeof dot_out, "%s/./out", scratch_dir());
    /* Not there yet: the same folder and name. */
    TensorPath p[] = {{.what = "--save", .path = out, .output = true},
                      {.what = "--csv", .path = dot_out, .output = true}};
    ck_assert_int_eq(tensor_paths_check(2, p), -1);
    char want[1400];
    snprintf(want, sizeof want, "--save %s and --csv %s name the same file", out, dot_out);
    ck_assert_str_eq(tensor_error(), want);
    /* There: by device and inode, through a link too. */
    const char *text = scratch_file("t.txt"), *link = scratch_file("l.txt");
    touch(text);
    ck_assert_int_eq(symlink("t.txt", link), 0);
    TensorPath q[] = {{.what = "--text", .path = text},
                      {.what = "--save", .path = link, .output = true}};
    ck_assert_int_eq(tensor_paths_check(2, q), -1);
    snprintf(want, sizeof want, "--text %s and --save %s name the same file", text, link);
    ck_assert_str_eq(tensor_error(), want);
    /* Two inputs may be one file; so may the entries of one group (a run
     * resumed from and saved to one checkpoint); a NULL path is not given. */
    const char *ck = scratch_file("run.safetensors");
    touch(ck);
    TensorPath r[] = {{.what = "--text", .path = text},
                      {.what = "--vocab", .path = link},
                      {.what = "--resume", .path = ck, .group = 1},
                      {.what = "--save", .path = ck, .output = true, .group = 1},
                      {.what = "--csv", .path = NULL, .output = true}};
    ck_assert_msg(tensor_paths_check(5, r) == 0, "%s", tensor_error());
    /* A derived name is an entry of its own. */
    const char *g_csv = scratch_file("g.csv");
    TensorPath s[] = {{.what = "--csv", .path = g_csv, .output = true},
                      {.what = "--grad-norms's CSV", .path = g_csv, .output = true}};
    ck_assert_int_eq(tensor_paths_check(2, s), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "--grad-norms's CSV"));
    /* Each output is checked as tensor_output_check does. */
    ck_assert_int_eq(mkfifo(scratch_file("fifo"), 0600), 0);
    TensorPath t[] = {{.what = "--csv", .path = scratch_file("fifo"), .output = true}};
    ck_assert_int_eq(tensor_paths_check(1, t), -1);
    snprintf(want, sizeof want, "--csv %s: is a FIFO; only a regular file is replaced",
             scratch_file("fifo"));
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_int_eq(tensor_paths_check(0, NULL), 0);
    ck_assert_int_eq(tensor_paths_check(-1, t), -1);
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("output");
    tcase_add_checked_fixture(tc, setup, scratch_remove);
    tcase_add_test(tc, test_write_and_replace);
    tcase_add_test(tc, test_fifo_is_refused_and_kept);
    tcase_add_test(tc, test_device_is_refused_and_kept);
    tcase_add_test(tc, test_other_paths_are_refused);
    tcase_add_test(tc, test_link_is_written_through);
    tcase_add_test(tc, test_longest_names);
    tcase_add_test(tc, test_write_error_keeps_the_old_file);
    tcase_add_test(tc, test_commit_checks_again);
    tcase_add_test(tc, test_killed_writer_leaves_nothing_behind);
    tcase_add_test(tc, test_paths_that_collide);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(output_suite)
