/*
 * attograd tensor room: the safe output file, the one way the library and
 * its programs write a file (checkpoints, CSVs, pictures, graphs).
 * Included by attograd.h; part of the tensor room's public API.
 *
 * The rules, each checked before anything is written:
 *   - what is at the path must be a regular file, a symbolic link to one
 *     (written through: the file it names is replaced, the link stays), or
 *     nothing; a FIFO, a device (/dev/null), a folder, a socket or a link to
 *     nothing is refused, and left as it is;
 *   - the path's folder exists and can be written.
 * The bytes go to a temporary file beside the target (so that the rename is
 * atomic), named "<name>.tmp-<pid>-<n>" and never longer than NAME_MAX even
 * for the longest legal name (the name is cut); commit flushes it, syncs it
 * to the disk, gives it the existing target's permission bits and renames it
 * over the target.  A failure at any point removes the temporary file and
 * leaves the target as it was.  A temporary file left by a process that was
 * killed (kill -9) is removed by the next open of the same path, once that
 * process is gone.
 *
 *     TensorOutput *out = tensor_output_open("loss.csv");
 *     if (!out) return fprintf(stderr, "%s\n", tensor_error()), 2;
 *     fprintf(tensor_output_file(out), "step,loss\n0,1.5\n");
 *     if (tensor_output_commit(out) != 0) fprintf(stderr, "%s\n", tensor_error());
 *
 * Messages name the caller's path first: "loss.csv: is a FIFO; only a
 * regular file is replaced".
 */
#ifndef ATTOGRAD_TENSOR_OUTPUT_H
#define ATTOGRAD_TENSOR_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tensor/tensor.h"

typedef struct TensorOutput TensorOutput;

/* 0 when path can be written by the rules above; else -1 with a message
 * naming path (a program calls it for each output before doing any work). */
ATTOGRAD_API int tensor_output_check(const char *path);
/* Checks path, removes stale temporary files of it, and opens a new
 * temporary file beside it for writing: NULL with a message on failure. */
ATTOGRAD_API TensorOutput *tensor_output_open(const char *path);
/* The stream to write to (binary; the caller does not close it). */
ATTOGRAD_API FILE *tensor_output_file(const TensorOutput *out);
/* Flush, fsync, the existing target's mode, rename over the target, and
 * free out: 0, or -1 with a message (any write error on the stream counts;
 * the target is then unchanged and the temporary file removed). */
ATTOGRAD_API int tensor_output_commit(TensorOutput *out);
/* Removes the temporary file and frees out; the target is unchanged.  NULL
 * is fine. */
ATTOGRAD_API void tensor_output_abort(TensorOutput *out);

/*
 * A program's files, checked together before any work: every output by
 * tensor_output_check, and no two entries naming one file (an output and
 * any other entry; compared by device and inode for files that exist, by
 * folder and name for files still to be made), except entries that share a
 * nonzero group (a run's --resume FILE and --save FILE, which replaces it).
 * Files a program derives from a flag (train_gpt --grad-norms g.png writes
 * g.csv) are entries of their own.
 *
 *     TensorPath paths[] = {
 *         {.what = "--csv", .path = o.csv, .output = true},
 *         {.what = "--save", .path = o.save, .output = true, .group = 1},
 *         {.what = "--resume", .path = o.resume, .group = 1},
 *         {.what = "--text", .path = o.text},
 *     };
 *     if (tensor_paths_check(4, paths)) fprintf(stderr, "prog: %s\n", tensor_error());
 *     prints e.g. "prog: --save out and --csv out name the same file"
 */
typedef struct {
    const char *what;            /* how messages name it: "--csv" */
    const char *path;            /* NULL: not given, skipped */
    bool output;                 /* written (true) or read */
    int group;                   /* nonzero: may name the same file as its group's others */
} TensorPath;

/* 0, or -1 with a message naming the flags and paths ("--csv x.csv: is a
 * FIFO; only a regular file is replaced", "--save out and --csv out name
 * the same file"). */
ATTOGRAD_API int tensor_paths_check(int64_t n, const TensorPath *paths);

#endif /* ATTOGRAD_TENSOR_OUTPUT_H */
