/*
 * Private to the checkpoint room: a run state, the values a checkpoint file
 * holds gathered from their owners (a module's state_dict, an optimizer's
 * state, a generator, the caller's counters), saved as one safetensors file
 * (tensor/safetensors.h) and loaded all or nothing.  Only the room's files,
 * built with ATTOGRAD_CHECKPOINT_ROOM, include it.
 *
 * A load changes nothing unless everything is right: the header is matched
 * against the entries first (names, dtypes, shapes; no tensor the state
 * lacks, unless checkpoint__state_ignore_others), then each value is read
 * into a buffer of the state's own and checked (the entries' flags, then
 * each part's check hook), and only then copied onto the live values (and
 * each part's commit hook runs).
 *
 *     CheckpointState *s = checkpoint__state_new("checkpoint");
 *     int64_t epoch = 0;
 *     checkpoint__state_add(s, "epoch", TENSOR_I64, 0, NULL, &epoch, CHECKPOINT__COUNT);
 *     checkpoint__generator_add(s, NULL);
 *     if (checkpoint__state_load(s, "run.safetensors", 0, NULL)) puts(tensor_error());
 *     checkpoint__state_free(s);
 */
#ifndef ATTOGRAD_CHECKPOINT_RUN_STATE_H
#define ATTOGRAD_CHECKPOINT_RUN_STATE_H

#ifndef ATTOGRAD_CHECKPOINT_ROOM
#error "checkpoint/run_state.h is private to the checkpoint room (use checkpoint/checkpoint.h)"
#endif

#include "checkpoint/checkpoint.h"

typedef struct CheckpointState CheckpointState;

enum {
    CHECKPOINT__OPTIONAL = 1, /* may be absent from a file (then left as it is) */
    CHECKPOINT__FINITE = 2,   /* F32 / F64: a NaN or an infinity is refused */
    CHECKPOINT__COUNT = 4,    /* I64 scalar: refused outside [0, CHECKPOINT_MAX_COUNT] */
};

/* A part's own checks and installation.  check sees every staged value
 * (checkpoint__state_staged) and returns 0, or -1 with a message
 * (checkpoint__state_fail); commit runs only when every check passed and
 * cannot fail; release frees what check made (not ctx itself).  Any may be
 * NULL. */
typedef struct {
    int (*check)(void *ctx, const CheckpointState *s);
    void (*commit)(void *ctx, const CheckpointState *s);
    void (*release)(void *ctx);
} CheckpointStateHooks;

/* what names the reader in messages: "...: shape (2,3) in file, (3,2) in module". */
CheckpointState *checkpoint__state_new(const char *what);
void checkpoint__state_free(CheckpointState *s);                       /* NULL is fine */
/* An entry: name copied (not empty), data where the value lives (a save
 * reads it, a commit writes it; NULL for a value only a part's commit
 * installs, with CHECKPOINT__OPTIONAL).  0, or -1 with a message. */
int checkpoint__state_add(CheckpointState *s, const char *name, TensorDtype dtype, int ndim,
                          const int64_t *shape, void *data, unsigned flags);
/* A long-lived tensor's data as F32 of its shape; a commit bumps its version. */
int checkpoint__state_add_tensor(CheckpointState *s, const char *name, Tensor *t,
                                 unsigned flags);
/* Hooks and their context (malloc'd; the state frees it, also on failure). */
int checkpoint__state_add_part(CheckpointState *s, const CheckpointStateHooks *hooks, void *ctx);
/* From now on a load leaves the file's tensors that the state lacks unread
 * instead of refusing them: a module's state_dict out of a whole training
 * checkpoint (optimizer.*, generator.*, step ...). */
void checkpoint__state_ignore_others(CheckpointState *s);
/* tensor_save_entries of every entry (an optional one with NULL data is left out). */
int checkpoint__state_save(const CheckpointState *s, const char *path, int n_meta,
                           const TensorMeta *meta);
/* Opens path, checks that each meta key has its value, reads, checks and
 * commits; 0, or -1 with a message and nothing changed. */
int checkpoint__state_load(CheckpointState *s, const char *path, int n_meta,
                           const TensorMeta *meta);
/* During a check: the file's value of entry name, NULL when the file lacks it. */
const void *checkpoint__state_staged(const CheckpointState *s, const char *name);
/* Records "load <file>: <message>"; returns NULL. */
void *checkpoint__state_fail(const CheckpointState *s, const char *fmt, ...)
    TENSOR__PRINTF(2, 3);

/* ---- The parts a checkpoint gathers (one file each) ------------------------ */
/* A module's parameters (finite) then buffers, under their state_dict names
 * (module_state.c). */
int checkpoint__module_add(CheckpointState *s, const Module *m);
/* An optimizer's state and its groups' hyper-parameters (optimizer_state.c;
 * the entries are listed in checkpoint.h). */
int checkpoint__optimizer_add(CheckpointState *s, Optimizer *o);
/* A generator's MT19937 state (generator_state.c; NULL: the default one). */
int checkpoint__generator_add(CheckpointState *s, TensorGenerator *g);

#endif /* ATTOGRAD_CHECKPOINT_RUN_STATE_H */
