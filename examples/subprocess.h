/*
 * The one way the example programs run another program and write a file.
 *
 * No shell is ever involved: spawn_wait() runs argv with posix_spawnp, and
 * a user's path never reaches gnuplot or dot, neither as script text nor as
 * an option.  Instead the program opens a Scratch, a private directory
 * (mkdtemp, mode 0700) beside the user's target, writes its data, script
 * and the helper's output there under names it made itself, and renames the
 * result onto the user's path:
 *
 *     Scratch s;
 *     char why[256];
 *     if (scratch_open(&s, user_path, why, sizeof why)) return fail(why);
 *     FILE *gp = scratch_fopen(&s, "plot.gp", why, sizeof why);   // in s.dir
 *     fputs("set output 'picture'\n...", gp);                    // our name only
 *     fclose(gp);
 *     scratch_expect(&s, "picture", why, sizeof why);             // gnuplot makes it
 *     char *argv[] = {"gnuplot", "plot.gp", NULL};
 *     if (spawn_wait(argv, s.dir, why, sizeof why) == 0)
 *         scratch_commit(&s, "picture", user_path, why, sizeof why);
 *     scratch_close(&s);                                  // removes s.dir and its files
 */
#ifndef ATTOGRAD_SUBPROCESS_H
#define ATTOGRAD_SUBPROCESS_H

#include <stddef.h>
#include <stdio.h>

#define SCRATCH_MAX_FILES 16

typedef struct Scratch {
    char dir[4096];                       /* the private directory */
    int n;                                /* names made in it, removed by scratch_close */
    char names[SCRATCH_MAX_FILES][32];
} Scratch;

/* Runs argv[0] (looked up on PATH) with argv, in directory dir (NULL: ours),
 * and waits.  0 when it exited 0; 1 when the program is not installed; -1
 * otherwise; on failure why says which program and what happened. */
int spawn_wait(char *const argv[], const char *dir, char *why, size_t n);

/* 0 when path can be written: its directory exists and is a writable
 * directory, and path is not a directory; else -1 with why naming path. */
int output_path_check(const char *path, char *why, size_t n);

/* Makes the private directory beside target (which output_path_check
 * must accept): 0, or -1 with why. */
int scratch_open(Scratch *s, const char *target, char *why, size_t n);
/* Creates s->dir/name for writing; name is one of the program's own,
 * [A-Za-z0-9._-], no more than 31 bytes.  NULL with why on failure. */
FILE *scratch_fopen(Scratch *s, const char *name, char *why, size_t n);
/* Records that a helper program will make name in s->dir (so close removes it). */
int scratch_expect(Scratch *s, const char *name, char *why, size_t n);
/* Renames s->dir/name onto target: 0, or -1 with why naming target. */
int scratch_commit(Scratch *s, const char *name, const char *target, char *why, size_t n);
/* Removes every file named in s and the directory. */
void scratch_close(Scratch *s);

#endif /* ATTOGRAD_SUBPROCESS_H */
