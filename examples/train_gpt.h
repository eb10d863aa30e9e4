/*
 * train_gpt's options and the state of its run, shared by its two files:
 * train_gpt.c (the book's loop) and train_checkpoint.c (--save, --resume).
 */
#ifndef ATTOGRAD_TRAIN_GPT_H
#define ATTOGRAD_TRAIN_GPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "attograd.h"
#include "cli.h"
#include "grad_norms.h"

#define PROG "train_gpt"

typedef struct {
    CliGPTConfig gpt;
    const char *text, *start_context, *tokenizer, *vocab, *csv, *plot, *grad_norms;
    const char *save, *resume;   /* checkpoint files, or NULL */
    double lr, weight_decay;
    long epochs, batch, eval_freq, eval_iter;
    long save_every, stop_after; /* 0: off */
    uint64_t seed;
    bool ascii, quiet;
} Options;

typedef struct {
    Module *model;
    Optimizer *optimizer;
    TextTokenizer *tokenizer;
    DataLoader *train, *val;
    DataIter *train_it;          /* the current (or last) epoch's pass over train */
    int64_t train_epoch;         /* that epoch, from 1; 0 before the first */
    PlotCsv *csv;                /* --csv: a row per evaluation */
    /* The run's place, all of it in a checkpoint: global_step is the book's
     * (-1 before the first step), evals the evaluations made before this
     * process (resumed) and in it, epochs_done the epochs whose sample is
     * printed; first_eval the evals a resumed run started from. */
    int64_t tokens_seen, global_step, evals, epochs_done, first_eval;
    bool mid_epoch;              /* resumed inside an epoch: train_it is placed, not made */
    bool stopped;                /* --stop-after-steps ended the run early */
    uint64_t text_hash;          /* fnv1a64 of the training text, for checkpoints */
    int64_t n_params;
    PlotProgress *bar;           /* on stderr, drawn when it is a terminal */
    bool estimated;              /* the time estimate is printed */
    GradNorms *grad_norms;       /* --grad-norms, or NULL */
} Run;

#endif /* ATTOGRAD_TRAIN_GPT_H */
