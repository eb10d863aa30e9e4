/*
 * train_attention's command line, apart from the program so that tests and
 * the fuzz target (tests/fuzz/fuzz_flags.c) can call the parser.
 */
#ifndef ATTOGRAD_TRAIN_OPTIONS_H
#define ATTOGRAD_TRAIN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "toy_task.h"

#define PROG "train_attention"
enum { MAX_MODELS = 4 };

typedef struct {
    ToyConfig toy;
    long steps, log_every;
    const char *csv, *plot;
    const char *save, *resume; /* checkpoint files, or NULL */
    const char *models[MAX_MODELS];
    int n_models;
    bool compare, ascii, quiet;
    char compare_list[256]; /* --compare's value, split in place */
} Options;

/* Fills o from argv.  Returns 0 to go on, 1 after --help (usage printed to
 * out), 2 on a bad flag (one line on stderr).  o's strings point into argv. */
int train_parse_options(int argc, char **argv, Options *o, FILE *out);

#endif /* ATTOGRAD_TRAIN_OPTIONS_H */
