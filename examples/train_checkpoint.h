/*
 * train_gpt's checkpoints: --save, --save-every, --resume.
 *
 * The file (checkpoint/checkpoint.h) holds the model's state_dict, AdamW's
 * state, the default generator, "step" (steps done) and the I64 counters
 * tokens_seen, evals, epochs_done, loader.epoch (the epoch of the training
 * pass, from 1), loader.batch and loader.sampler_seed (that pass's
 * data_iter_position; evaluations make new passes and need none).  Its
 * metadata: the config and tokenizer (cli.h, for gpt_generate --load) and
 * the flags that change what the remaining steps compute, which a resume
 * must find equal: lr, weight_decay, batch, eval_freq, eval_iter and
 * text_fnv1a64 (a hash of the training text's bytes). */
#ifndef ATTOGRAD_TRAIN_CHECKPOINT_H
#define ATTOGRAD_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "train_gpt.h"

/* FNV-1a, 64 bits, of the training text: a file of another text is refused,
 * not trained on. */
uint64_t train_text_hash(const char *p, size_t n);
/* Saves the run to --save: 0, or -1 after a message. */
int train_checkpoint_save(Run *r, const Options *o);
/* Goes on from --resume: 0; 1 for a file that cannot be read or is not a
 * sound checkpoint; 2 for another run's checkpoint or nothing left to train
 * (the flags and the file disagree).  Messages name the values. */
int train_checkpoint_resume(Run *r, const Options *o);

#endif /* ATTOGRAD_TRAIN_CHECKPOINT_H */
