/*
 * Training checkpoints: all a run needs to go on exactly where it stopped,
 * in one safetensors file (tensor.h), written safely (a failed save keeps
 * the previous file):
 *
 *   <state_dict names>            the module, as nn_module_save writes it, so
 *                                 PyTorch loads these with load_state_dict
 *   optimizer.state.<i>.<name>    parameter i's state tensors, torch's names
 *                                 (exp_avg, exp_avg_sq, momentum_buffer), when made
 *   optimizer.state.<i>.step      I64: the updates parameter i has received
 *   optimizer.steps               I64: optim_step calls
 *   optimizer.<hyper-parameter>   F64: lr, momentum, ... (torch's param_groups)
 *   generator.mt                  U32 (624): the MT19937 words
 *   generator.index, .seed        I64, U64
 *   generator.normal              F64 (2): the cached double and float normal
 *                                 samples, NaN when there is none
 *   step                          I64: the caller's step count
 *
 * and metadata: "optimizer" (its type) and the caller's strings, which a
 * load must find equal (the run's model name, seed ...).
 *
 * Loading checks the whole file first (tensor_file_read): on any error the
 * module, optimizer and generator are unchanged.  As torch's
 * load_state_dict, it restores the optimizer's hyper-parameters too.
 */
#ifndef ATTOGRAD_CHECKPOINT_H
#define ATTOGRAD_CHECKPOINT_H

#include "attograd.h"

/* g: NULL for the default generator.  0, or -1 (checkpoint_error() says why). */
int checkpoint_save(const char *path, const Module *m, const Optimizer *o, const TensorGenerator *g,
                    int64_t step, int n_meta, const TensorMeta *meta);
int checkpoint_load(const char *path, Module *m, Optimizer *o, TensorGenerator *g, int64_t *step,
                    int n_meta, const TensorMeta *meta);
/* Why the last checkpoint call failed: its own checks, or tensor_error(). */
const char *checkpoint_error(void);

#endif /* ATTOGRAD_CHECKPOINT_H */
