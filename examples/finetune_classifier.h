/*
 * finetune_classifier's two files: examples/finetune_classifier.c, the run
 * (the book's chapter 6 and appendix E through the train room);
 * examples/finetune_classifier_flags.c, its command line (--help, the
 * flags, the files checked before any work).
 */
#ifndef FINETUNE_CLASSIFIER_H
#define FINETUNE_CLASSIFIER_H

#include "attograd.h"

#define PROG "finetune_classifier"

enum { MAX_CLASSIFY = 64, NUM_CLASSES = 2 };

typedef struct {
    CliGPTConfig gpt;
    bool heads_set, drop_set, config_set;       /* config flags given */
    const char *data, *hf, *load, *tokenizer, *vocab, *csv, *plot, *plot_accuracy, *save;
    const char *save_lora, *load_lora;   /* the LoRA weights and the head alone */
    CliTrainOptions train;       /* --lr ... --seed, --bf16 (cli.h) */
    double lora_alpha;
    int64_t max_length, lora_rank;
    TrainTrainable trainable;
    bool trainable_set, alpha_set, count_only, ascii;
    const char *classify[MAX_CLASSIFY];
    int n_classify;
} Options;

/* 0, 1 for --help (printed), 2 for a bad flag (its line in tensor_error()). */
int parse_flags(int argc, char **argv, Options *o);
/* Every file, before any work: true, or false after a message. */
bool paths_ok(const Options *o);

#endif /* FINETUNE_CLASSIFIER_H */
