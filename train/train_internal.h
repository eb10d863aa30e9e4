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

#endif /* ATTOGRAD_TRAIN_INTERNAL_H */
