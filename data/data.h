/*
 * attograd data room: torch.utils.data with num_workers 0.  Datasets,
 * a DataLoader that batches them, and iterators: one per pass, as
 * `for x, y in loader` makes one in PyTorch.
 *
 * Overview
 *   A Dataset has a length and gives item i as a few tensors (its fields),
 *   made in the current scope: TensorDataset's rows, the book's sliding
 *   windows (text_dataset_v1 in text/text.h), or a dataset of your own.
 *   A DataLoader groups item indices into batches (in order, or in a new
 *   random order each pass), gets the items and collates them: by default
 *   each field's items stacked along a new dim 0.  A DataIter is one pass
 *   over the loader.  A loader may have several iterators at once (the
 *   book evaluates on the training loader in the middle of its epoch);
 *   none disturbs another.
 *
 * Random draws, as PyTorch's (no generator given, num_workers 0)
 *   data_loader_iter draws one int64 from the default generator (the
 *   iterator's base seed, unused without workers), shuffled or not.  With
 *   shuffle, the iterator's FIRST data_iter_next draws a second one,
 *   random64 % 2^63, seeds a fresh generator with it and takes
 *   randperm(len) from that: the pass's order (RandomSampler.__iter__ runs
 *   when the batch sampler first asks it for an index).  So the same seed
 *   and the same calls in the same order give PyTorch's batches.
 *
 * Example (TensorDataset(X, y), a shuffled loader, two epochs):
 *
 *     Tensor *XY[2] = {X, Y};                        X (100, 2), Y (100)
 *     Dataset *ds = data_tensor_dataset(2, XY);      copies their values
 *     DataLoader *loader = data_loader(ds, DATA_LOADER_OPTIONS(.batch_size = 8,
 *                                                              .shuffle = true));
 *     for (int epoch = 0; epoch < 2; epoch++) {
 *         DataIter *it = data_loader_iter(loader);   for x, y in loader:
 *         int got = 1;
 *         while (got == 1) {
 *             TensorScope *step = tensor_scope_begin();
 *             Tensor *x, *y;
 *             got = data_iter_next(it, &x, &y);      x (8, 2), y (8); the last (4, 2), (4)
 *             if (got == 1) ...                      forward, loss, backward, step
 *             tensor_scope_end(step);                the batch goes with the step
 *         }
 *         if (got < 0) fprintf(stderr, "%s\n", tensor_error());
 *         data_iter_free(it);
 *     }
 *     data_loader_free(loader);
 *     data_dataset_free(ds);
 *
 * Lifetimes
 *   Items and batches are step-lived tensors in the current scope: call
 *   data_iter_next inside the step's scope, or an epoch's batches add up in
 *   the enclosing one.  A dataset must outlive its loaders and a loader its
 *   iterators' use: data_loader_free detaches the loader's live iterators,
 *   whose data_iter_next then fails with a message ("the iterator's loader
 *   was freed") and whose data_iter_free still works.  A freed dataset,
 *   loader or iterator is not itself detectable (a use reads freed memory;
 *   ASan builds report it).  A loader and its iterators belong to one
 *   thread (they draw from that thread's default generator).
 *
 * Errors
 *   As in the tensor room: NULL or -1 and one line in tensor_error() naming
 *   the function and the values ("data_loader: batch_size 0 must be >= 1",
 *   "data_iter_next: collate gave fields of different batch sizes: field 0
 *   is (8,120), field 1 is (7)").  Nothing here prints or aborts on user
 *   input.
 */
#ifndef ATTOGRAD_DATA_H
#define ATTOGRAD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor.h"

/* ---- Items and batches: a few tensors ----------------------------------- */
#define DATA_MAX_FIELDS 8

/* What a dataset gives for one index (PyTorch's tuple), and what a collate
 * gives for a batch: n tensors, each batch field with the batch dim first. */
typedef struct DataItem {
    int64_t n;                          /* fields, 1 to DATA_MAX_FIELDS */
    Tensor *field[DATA_MAX_FIELDS];
} DataItem;
typedef DataItem DataBatch;

/* ---- Datasets ------------------------------------------------------------ */
typedef struct Dataset Dataset;
/* Item i (0 <= i < len, checked before the call) into *item, its tensors in
 * the current scope: 0, or -1 with a message. */
typedef int (*DataGetFn)(Dataset *d, int64_t i, DataItem *item);

/* A concrete dataset embeds a Dataset header as its FIRST member, as a
 * module embeds Module:
 *
 *     typedef struct { Dataset base; const float *x; } Squares;
 *     static int squares_get(Dataset *d, int64_t i, DataItem *item)
 *     {
 *         float v = ((Squares *)d)->x[i];
 *         item->n = 2;
 *         item->field[0] = tensor_scalar(v);         0-d: the batch's field is (B)
 *         item->field[1] = tensor_scalar(v * v);
 *         return item->field[0] && item->field[1] ? 0 : -1;
 *     }
 *     Squares *s = data_dataset_new(sizeof *s, "Squares", n, squares_get);
 *     s->x = xs;                         (s->base.destroy frees what s owns)
 *     DataLoader *l = data_loader(DATA(s), DATA_LOADER_OPTIONS(.batch_size = 4));
 */
struct Dataset {
    const char *type;                   /* "TensorDataset", "GPTDatasetV1", ... */
    int64_t len;                        /* items; fixed when the dataset is made */
    DataGetFn get;
    void (*destroy)(Dataset *d);        /* frees what the concrete dataset adds; may be NULL */
};
/* The Dataset header of a concrete dataset, as NN() for modules. */
#define DATA(d) ((void)sizeof(&(d)->base == (Dataset *)0), (Dataset *)(void *)(d))

/* A zeroed concrete dataset of size bytes (its Dataset header first, filled
 * in); NULL with a message for a size below the header's, a len < 0, a
 * NULL get or no memory. */
ATTOGRAD_API void *data_dataset_new(size_t size, const char *type, int64_t len, DataGetFn get);
ATTOGRAD_API void data_dataset_free(Dataset *d);             /* destroy, then free; NULL is fine */
ATTOGRAD_API int64_t data_dataset_len(const Dataset *d);     /* len(dataset); -1 for NULL */
/* dataset[i]: 0, or -1 with a message for an index outside [0, len) or an
 * item that is not 1 to DATA_MAX_FIELDS tensors. */
ATTOGRAD_API int data_dataset_get(Dataset *d, int64_t i, DataItem *item);

/* TensorDataset(*tensors): item i is (tensors[0][i], ..., tensors[n-1][i]),
 * views of the dataset's long-lived copies of the tensors' values (no
 * gradient flows back to the originals, which may go with their scope).
 * Every tensor's first dim is the item dim: n is 1 to DATA_MAX_FIELDS, and
 * each tensor at least 1-d with the first's size in dim 0, or NULL with a
 * message naming the sizes. */
ATTOGRAD_API Dataset *data_tensor_dataset(int64_t n, Tensor *const *tensors);

/* ---- Collate: the items of a batch -> the batch ------------------------ */
/* items[0 .. n-1], in the batch's order -> *batch (tensors in the current
 * scope): 0, or -1 with a message.  The loader checks what comes back:
 * 1 to DATA_MAX_FIELDS tensors, each at least 1-d, all of one size in dim 0
 * (which may differ from n: a collate may drop or split items). */
typedef int (*DataCollateFn)(int64_t n, const DataItem *items, DataBatch *batch, void *ctx);
/* default_collate: field k of the batch = stack(field k of every item, 0);
 * the items must have the same number of fields and, field by field, the
 * same shape (a message names the first item that differs).  ctx unused. */
ATTOGRAD_API int data_default_collate(int64_t n, const DataItem *items, DataBatch *batch,
                                      void *ctx);

/* ---- The loader ---------------------------------------------------------- */
typedef struct DataLoader DataLoader;

/* DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False,
 * collate_fn=None): start from PyTorch's defaults and override as keywords,
 *     data_loader(ds, DATA_LOADER_OPTIONS(.batch_size = 8, .shuffle = true,
 *                                         .drop_last = true, .collate = pad,
 *                                         .collate_ctx = &pad_options))
 * A GNU C statement expression, so overriding a default is not a
 * -Woverride-init warning. */
typedef struct DataLoaderOptions {
    int64_t batch_size;                 /* 1 */
    bool shuffle;                       /* false: items in order */
    bool drop_last;                     /* false: a last, smaller batch */
    DataCollateFn collate;              /* NULL: data_default_collate */
    void *collate_ctx;                  /* given to collate */
} DataLoaderOptions;
#define DATA_LOADER_OPTIONS(...)                                                              \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        DataLoaderOptions data__options = {.batch_size = 1, .shuffle = false,                \
                                           .drop_last = false, .collate = NULL,               \
                                           .collate_ctx = NULL, __VA_ARGS__};                 \
        _Pragma("GCC diagnostic pop")                                                         \
        data__options;                                                                        \
    }))

/* NULL with a message for a NULL dataset, batch_size < 1, or shuffle over an
 * empty dataset (PyTorch's RandomSampler refuses it too).  Draws nothing. */
ATTOGRAD_API DataLoader *data_loader(Dataset *d, DataLoaderOptions o);
/* Frees the loader (not its dataset) and detaches its live iterators. */
ATTOGRAD_API void data_loader_free(DataLoader *l);
/* len(loader): batches a pass gives, len / batch_size rounded down with
 * drop_last, up without (a batch_size near INT64_MAX gives 1, not an
 * overflow).  -1 for NULL. */
ATTOGRAD_API int64_t data_loader_len(const DataLoader *l);

/* ---- Iterators: one pass each -------------------------------------------- */
typedef struct DataIter DataIter;

/* iter(loader): a new pass; draws the base seed (see Random draws).  NULL
 * with a message for a NULL loader or no memory. */
ATTOGRAD_API DataIter *data_loader_iter(DataLoader *l);
/* next(it) as `x, y = next(it)`: 1 with *x and *y the batch's two fields
 * (y may be NULL for a one-field batch), 0 once the pass is over (and on
 * every call after), -1 with a message: a NULL iterator, its loader freed,
 * a failed get or collate, a batch of another number of fields.  After -1
 * the pass goes on with the next batch. */
ATTOGRAD_API int data_iter_next(DataIter *it, Tensor **x, Tensor **y);
/* The same for any number of fields (a collate may give more than two). */
ATTOGRAD_API int data_iter_next_batch(DataIter *it, DataBatch *batch);
ATTOGRAD_API void data_iter_free(DataIter *it);              /* NULL is fine */

/* Where an iterator is, for resumable training.  The default generator's
 * state is not part of it (a checkpoint saves that itself), nor is the
 * epoch (the training loop counts those). */
typedef struct DataIterPosition {
    int64_t batch;                      /* batches given so far */
    int64_t sampler_seed;               /* shuffle: the pass's order seed, in [0, 2^63); -1
                                           before the first next has drawn it.  0 unshuffled */
} DataIterPosition;
/* {0, 0} for NULL. */
ATTOGRAD_API DataIterPosition data_iter_position(const DataIter *it);
/* An iterator of l where data_iter_position was, drawing nothing now (with
 * sampler_seed -1 its first next draws the seed, as the original's would
 * have); it then gives the rest of that pass.  NULL with a message for a
 * position that is not one of l's (batch outside [0, len], a seed outside
 * [0, 2^63) with shuffle, -1 past batch 0, a seed other than 0 without). */
ATTOGRAD_API DataIter *data_loader_iter_at(DataLoader *l, DataIterPosition p);

/* ---- numpy's legacy RandomState, for pandas' sample ------------------------- */
/* numpy.random.RandomState(seed).permutation(n) into out[0, n), bit for bit:
 * MT19937 seeded by init_genrand(seed) (PyTorch's seeding too: the tensor
 * room's generator, a local one, the default one untouched), then for i =
 * n-1 down to 1, j = a masked rejection draw in [0, i], swap out[i], out[j].
 * pandas' DataFrame.sample(k, random_state=seed) takes the rows
 * permutation(len)[:k] in that order, with a fresh RandomState each call
 * (frac=1: k = len): the book's chapter-6 balanced dataset and split.
 *     data_numpy_random_state_permutation(123, 1494, perm);    263, 627, 887, 925, 1050, ...
 * 0, or -1 with a message: a seed outside [0, 2^32) (numpy refuses it too),
 * n < 0, out NULL with n > 0. */
ATTOGRAD_API int data_numpy_random_state_permutation(int64_t seed, int64_t n, int64_t *out);

#endif /* ATTOGRAD_DATA_H */
