/*
 * train_gpt's two files: examples/train_gpt.c, the run (the book's
 * chapter 5 and appendix D through the train room); examples/train_gpt_flags.c,
 * its command line (--help, the flags, the files checked before any work).
 */
#ifndef TRAIN_GPT_H
#define TRAIN_GPT_H

#include "attograd.h"

#define PROG "train_gpt"

typedef struct {
    CliGPTConfig gpt;
    const char *text, *start_context, *tokenizer, *vocab, *csv, *plot, *grad_norms;
    const char *save, *resume;   /* checkpoint files, or NULL */
    CliTrainOptions train;       /* --lr ... --seed, --bf16 (cli.h) */
    int64_t warmup_steps;        /* appendix D's schedule; -1: off */
    double warmup_percent;       /* --warmup-steps P%: P (the steps once the loaders are made) */
    double initial_lr, min_lr;   /* its ends (the book's train_model defaults) */
    bool initial_lr_set, min_lr_set;
    double clip_grad_norm;       /* max_norm; 0: no clipping */
    char lr_plot[4096], lr_csv[4096];   /* --plot's FILE-lr.EXT and FILE-lr.csv, or "" */
    int64_t save_every, stop_after; /* 0: off */
    bool ascii, quiet;
} Options;

/* 0, 1 for --help (printed), 2 for a bad flag (its line in tensor_error()). */
int parse_flags(int argc, char **argv, Options *o);
/* Every file the run reads or writes, before any work: true, or false
 * after a message. */
bool paths_ok(const Options *o);

#endif /* TRAIN_GPT_H */
