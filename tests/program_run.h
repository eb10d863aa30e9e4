/*
 * A scratch directory, and the example programs run in it as a user runs
 * them, for the Check suites (tests/program_run.c, compiled into each test
 * that uses it).
 *
 * A test case gets a fresh scratch directory (scratch_make in its
 * fixture's setup, scratch_remove in its teardown; tests that run no
 * program use it for their files too).  program_run starts
 * build/examples/<prog> there through posix_spawn, with no shell between
 * the test and the program, so a hostile argument reaches the program
 * unchanged; its stdout and stderr go to files in the directory and come
 * back in the caller's buffers.  program_capture is for arguments that are
 * plain words: it runs "build/examples/<prog> <args>" through the shell,
 * whose redirections (2>&1 >/dev/null) the args may use.
 *
 *     static void setup(void) { scratch_make("programs"); }
 *     static void teardown(void) { scratch_remove(); }
 *     ...
 *     const char *args[] = {"--steps", "5", "--plot", "x.jpg", NULL};
 *     ck_assert_int_eq(program_run("train_attention", args, out, sizeof out, NULL, 0), 1);
 */
#ifndef ATTOGRAD_PROGRAM_RUN_H
#define ATTOGRAD_PROGRAM_RUN_H

#include <stdbool.h>
#include <stddef.h>

/* ---- A scratch directory for a test case: its files, and a program's cwd ---- */

/* A new directory /tmp/attograd-<label>-XXXXXX (mkdtemp): the scratch directory. */
void scratch_make(const char *label);
/* Removes the scratch directory and everything in it. */
void scratch_remove(void);
/* The scratch directory's name. */
const char *scratch_dir(void);
/* <scratch directory>/<name>, in one of 8 static buffers used in turn (so a
 * call's result lasts for the next 7). */
const char *scratch_file(const char *name);
/* name exists in the scratch directory. */
bool scratch_exists(const char *name);
/* The entries of the scratch directory, not counting names that start with a dot. */
int scratch_count(void);
/* The file name of the scratch directory into buf (cap bytes), NUL-terminated,
 * and removes it. */
void scratch_slurp(const char *name, char *buf, size_t cap);
/* The scratch directory's entries, as `ls -A` lists them (one a line, sorted,
 * dot files too) in buf (cap bytes). */
void scratch_listing(char *buf, size_t cap);

/* ---- $TMPDIR of its own, where the plot room makes its private folders ---- */

/* A new directory /tmp/attograd-tmpdir-XXXXXX as $TMPDIR (the programs run
 * inherit it). */
void tmpdir_make(void);
/* Its entries: private folders left behind. */
int tmpdir_count(void);
/* Removes it (and unsets $TMPDIR). */
void tmpdir_remove(void);

/* ---- The example programs ---------------------------------------------------- */

/* Runs build/examples/<prog> with args (NULL-terminated) in the scratch
 * directory and returns its exit status (the test fails when it does not
 * exit).  Its stdout is in out; its stderr in err, or, when err is NULL,
 * in out too, interleaved as written. */
int program_run(const char *prog, const char *const *args, char *out, size_t out_cap, char *err,
                size_t err_cap);

/* Runs "build/examples/<prog> <args>" through the shell; its exit status
 * (-1 when it did not exit) and up to cap - 1 bytes of its stdout in out. */
int program_capture(const char *prog, const char *args, char *out, size_t cap);
/* The same with stdout thrown away and up to cap - 1 bytes of its stderr in err:
 * a bad flag's one-line reason. */
int program_capture_stderr(const char *prog, const char *args, char *err, size_t cap);

#endif /* ATTOGRAD_PROGRAM_RUN_H */
