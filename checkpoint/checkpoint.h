/*
 * attograd checkpoint room: a training run's checkpoint in one call, and
 * going on from it in one call.  It sits above nn and optim (which may not
 * see each other) and only gathers what they list: the module's state_dict
 * (nn_state_add), the optimizer's state (optim_state_add), the generator's
 * (tensor_generator_state_add) and the caller's counters, in one safetensors
 * file (tensor/io/safetensors.h):
 *
 *   <state_dict names>            the module, as nn_module_save writes it, so
 *                                 PyTorch loads these with load_state_dict
 *   optimizer.*                   the optimizer (optim.h, "Checkpoints")
 *   generator.*                   the generator (safetensors.h)
 *   step                          I64: the caller's step count (when given)
 *   <extra names>                 I64: the caller's other counters
 * and metadata: "format" "pt", "optimizer" (its type) and the caller's
 * strings, which a load must find equal (the run's model name, seed ...).
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
 * tensor too many) before any data is read, then every value (finite
 * weights and state, the optimizer's hyper-parameters as its constructor
 * checks them, counts in [0, 2^53], extras in their [min, max], a sound
 * generator state).  On any error the module, optimizer, generator, step
 * and extras are unchanged and tensor_error() says why.
 */
#ifndef ATTOGRAD_CHECKPOINT_H
#define ATTOGRAD_CHECKPOINT_H

#include "nn/nn.h"
#include "optim/optim.h"

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
