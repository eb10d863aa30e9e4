/*
 * attograd checkpoint room: a training run's checkpoint in one call, and
 * going on from it in one call.  It sits above nn and optim (which may not
 * see each other) and holds the whole run-state machinery: the module's
 * state_dict, the optimizer's state and groups, the generator's state and
 * the caller's counters, in one safetensors file (tensor/safetensors.h),
 * loaded all or nothing:
 *
 *   <state_dict names>            F32: the module, as nn_module_save writes it,
 *                                 so PyTorch loads these with load_state_dict
 *   optimizer.state.<i>.<name>    F32, params[i]'s shape: exp_avg, exp_avg_sq
 *                                 (Adam, AdamW), momentum_buffer (SGD), when made
 *                                 (i counts the groups' parameters in order)
 *   optimizer.state.<i>.step      I64: the updates params[i] has received
 *   optimizer.steps               I64: optim_step calls
 *   optimizer.<name>              F64, one group: its hyper-parameters
 *                                 (optim_hyper_name: lr, beta1, beta2, eps,
 *                                 weight_decay; SGD lr, momentum, dampening,
 *                                 weight_decay, nesterov as 0 or 1)
 *   optimizer.param_groups.<g>.<name>   F64, several groups: group g's
 *   optimizer.param_groups.<g>.params   I64 (its size): its parameters' i
 *                                 (torch's param_groups[g]["params"])
 *   generator.mt                  U32 (624): MT19937's words
 *   generator.index               I64: the next word, 0 to 624
 *   generator.seed                U64
 *   generator.normal              F64 (2): the cached double and float normal
 *                                 samples, NaN for none
 *   step                          I64: the caller's step count (when given)
 *   <extra names>                 I64: the caller's other counters
 * and metadata: "format" "pt", "optimizer" (its type) and the caller's
 * strings, which a load must find equal (the run's model name, seed ...).
 * A frozen parameter is saved as any other (a state_dict holds it); it has
 * no optimizer state while it stays frozen.
 *
 *     int64_t step = 0, epoch = 0, batch = 0;
 *     CheckpointExtra extra[] = {{"loader.epoch", &epoch, 0, 1000},
 *                                {"loader.batch", &batch, 0, INT32_MAX}};
 *     TensorMeta meta[] = {{"model", "gpt2-small"}};
 *     Checkpoint c = {.module = model, .optimizer = opt, .step = &step,
 *                     .n_extra = 2, .extra = extra, .n_meta = 1, .meta = meta};
 *     if (resume && checkpoint_load(&c, resume)) fprintf(stderr, "%s\n", tensor_error());
 *     ... train, step++ ...
 *     if (checkpoint_save(&c, "run.safetensors")) fprintf(stderr, "%s\n", tensor_error());
 *
 * A save is safe (a failed one keeps the previous file; tensor_save_entries).
 * A load checks everything before it changes anything: the metadata, then
 * the header against the module and optimizer (names, dtypes, shapes, no
 * tensor too many: a file of another group split or count is refused here)
 * before any data is read, then every value (finite weights and state, each
 * group's hyper-parameters as the optimizer's constructor checks them, its
 * params list, counts in [0, 2^53] with no parameter's step past
 * optimizer.steps, Adam's two state tensors of a parameter both present or
 * both absent, exp_avg_sq not negative, extras in their [min, max], a sound
 * generator state: an index in range, not all zero, no infinite cached
 * sample).  As torch's load_state_dict, the optimizer's state is replaced
 * whole (a state tensor the file lacks is dropped), and so are the groups'
 * hyper-parameters.  On any error the module, optimizer, generator, step
 * and extras are unchanged and tensor_error() says why.
 */
#ifndef ATTOGRAD_CHECKPOINT_H
#define ATTOGRAD_CHECKPOINT_H

#include "nn/nn.h"
#include "optim/optim.h"
#include "tensor/safetensors.h"

/* The largest count a checkpoint holds (step counts, "step"): 2^53, so the
 * doubles that step counts meet (Adam's beta ** step) stay exact and adding
 * one never overflows; an extra's natural max when it has no other. */
#define CHECKPOINT_MAX_COUNT ((int64_t)1 << 53)

/* A counter of the caller's, saved as an I64 scalar under name.  A save and
 * a load both refuse a value outside [min, max] (so a forgotten range, both
 * 0, is found at the first save of a non-zero value, not silently). */
typedef struct {
    const char *name;            /* "loader.epoch": not empty, not a name above */
    int64_t *value;              /* saved from, loaded into */
    int64_t min, max;
} CheckpointExtra;

typedef struct {
    Module *module;              /* required */
    Optimizer *optimizer;        /* NULL: none saved or loaded */
    TensorGenerator *generator;  /* NULL: the default generator */
    int64_t *step;               /* NULL: no "step" entry */
    int n_extra;
    const CheckpointExtra *extra;
    int n_meta;                  /* metadata a load must find equal */
    const TensorMeta *meta;
} Checkpoint;

/* Both return 0, or -1 with a message (tensor_error()). */
ATTOGRAD_API int checkpoint_save(const Checkpoint *c, const char *path);
ATTOGRAD_API int checkpoint_load(const Checkpoint *c, const char *path);

/* The module alone out of a checkpoint, for a program that only runs the
 * model (gpt_generate --load): its state_dict checked and loaded all or
 * nothing as checkpoint_load does, the optimizer's, generator's and
 * counters' entries left unread, the generator unchanged.  n_meta strings
 * the file's metadata must hold.  0, or -1 with a message. */
ATTOGRAD_API int checkpoint_load_module(Module *m, const char *path, int n_meta,
                                        const TensorMeta *meta);

#endif /* ATTOGRAD_CHECKPOINT_H */
