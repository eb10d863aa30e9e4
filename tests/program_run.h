/*
 * The example programs run as a user runs them, for the Check suites that
 * test them (tests/program_run.c, compiled into each such test).
 *
 * A test case gets a fresh scratch directory (program_dir_make in its
 * fixture's setup, program_dir_remove in its teardown).  program_run starts
 * build/examples/<prog> there through posix_spawn, with no shell between
 * the test and the program, so a hostile argument reaches the program
 * unchanged; its stdout and stderr go to files in the directory and come
 * back in the caller's buffers.  program_capture is for arguments that are
 * plain words: it runs "build/examples/<prog> <args>" through the shell,
 * whose redirections (2>&1 >/dev/null) the args may use.
 *
 *     static void setup(void) { program_dir_make("programs"); }
 *     static void teardown(void) { program_dir_remove(); }
 *     ...
 *     const char *args[] = {"--steps", "5", "--plot", "x.jpg", NULL};
 *     ck_assert_int_eq(program_run("train_attention", args, out, sizeof out, NULL, 0), 1);
 */
#ifndef ATTOGRAD_PROGRAM_RUN_H
#define ATTOGRAD_PROGRAM_RUN_H

#include <stdbool.h>
#include <stddef.h>

/* A new directory /tmp/attograd-<label>-XXXXXX (mkdtemp): the scratch directory. */
void program_dir_make(const char *label);
/* Removes the scratch directory and everything in it. */
void program_dir_remove(void);
/* The scratch directory's name. */
const char *program_dir(void);
/* <scratch directory>/<name> in buf (cap bytes); returns buf. */
char *program_path(const char *name, char *buf, size_t cap);
/* name exists in the scratch directory. */
bool program_exists(const char *name);
/* The file name of the scratch directory into buf (cap bytes), NUL-terminated,
 * and removes it. */
void program_slurp(const char *name, char *buf, size_t cap);
/* The scratch directory's entries, as `ls -A` lists them (one a line, sorted,
 * dot files too) in buf (cap bytes). */
void program_listing(char *buf, size_t cap);

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
