/*
 * The toy teacher-student task of train_attention, defined exactly so that
 * the same run in PyTorch gives the same losses:
 *
 *     torch.manual_seed(seed)
 *     teacher = SelfAttention_v2(3, 2)             first draws of the generator
 *     student = <model>(3, 2 ...)                  v1, v2, causal, mha
 *     opt = <optim>(student.parameters(), lr)
 *     for step in 1..steps:
 *         x = torch.rand(batch, 6, 3)              a fresh batch, same generator
 *         with torch.no_grad(): y = teacher(x)
 *         loss = mse_loss(student(x), y)
 *         opt.zero_grad(); loss.backward(); opt.step()
 *
 * tests/reference/gen_train.py is the PyTorch side.
 */
#ifndef ATTOGRAD_TOY_TASK_H
#define ATTOGRAD_TOY_TASK_H

#include "attograd.h"

enum { TOY_T = 6, TOY_D_IN = 3, TOY_D_OUT = 2 };

typedef struct {
    const char *model;           /* "v1", "v2", "causal", "mha" */
    const char *optim;           /* "sgd", "adam", "adamw" */
    double lr;                   /* double, as Python's lr=0.01 */
    int batch;
    uint64_t seed;
} ToyConfig;

typedef struct {
    ToyConfig config;
    Module *teacher, *student;
    NNList params;
    Optimizer *opt;
    int64_t step;                /* steps taken */
} ToyRun;

/* A default configuration: v2, adam, lr 0.01, batch 8, seed 123. */
ToyConfig toy_defaults(void);
/* True when name is a model (or optimizer) the task knows. */
bool toy_is_model(const char *name);
bool toy_is_optim(const char *name);
/* Seeds the default generator and builds teacher, student and optimizer. */
int toy_init(ToyRun *run, const ToyConfig *config);
/* One training step; returns its loss, NAN on error (tensor_error() says why). */
float toy_step(ToyRun *run);
void toy_free(ToyRun *run);

/* Checkpoints (checkpoint/checkpoint.h): the student, the optimizer, the default
 * generator and the step, with the configuration as metadata ("model",
 * "optim", "lr", "seed", "batch").  toy_resume goes on from a file saved by
 * toy_save, into a run toy_init made with the same configuration; a
 * checkpoint of another configuration is refused.  The losses that follow
 * are those of one uninterrupted run, bit for bit.  0, or -1 with
 * tensor_error() saying why. */
int toy_save(const ToyRun *run, const char *path);
int toy_resume(ToyRun *run, const char *path);

#endif /* ATTOGRAD_TOY_TASK_H */
