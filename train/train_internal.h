/*
 * The train room's private header: what its files share and users do not
 * call.  Only the room's files, built with ATTOGRAD_TRAIN_ROOM, include it.
 */
#ifndef ATTOGRAD_TRAIN_INTERNAL_H
#define ATTOGRAD_TRAIN_INTERNAL_H

#ifndef ATTOGRAD_TRAIN_ROOM
#error "train/train_internal.h is private to the train room (use train/train.h)"
#endif

#include "train/train.h"

/* Records "<fmt...>: <the message now in tensor_error()>" (the cause kept,
 * a context put before it); returns -1. */
int train__fail(const char *fmt, ...) TENSOR__PRINTF(1, 2);

/* The loss of a batch: loss(x, y, model, ctx), or train_calc_loss_batch
 * when loss is NULL. */
Tensor *train__loss_batch(TrainLossFn loss, void *ctx, const Tensor *x, const Tensor *y,
                          Module *model);
/* train_evaluate_model with that loss; val NULL gives a NaN val loss. */
int train__evaluate(Module *model, DataLoader *train, DataLoader *val, int64_t eval_iter,
                    TrainLossFn loss, void *ctx, double *train_loss, double *val_loss);

/* The whole of s a number in [min, max] (a file's metadata value). */
bool train__meta_number(const char *s, double min, double max, double *out);
/* A fine-tuned model's file (the classifier's, a LoRA file): opened, with
 * its GPT config and tokenizer read into info and its "task" metadata (or
 * NULL) in *task; NULL with a message when it cannot be. */
TensorFile *train__open_gpt_file(const char *path, TrainClassifierInfo *info, const char **task);

#endif /* ATTOGRAD_TRAIN_INTERNAL_H */
