/*
 * attograd tensor room: files of named tensors, in PyTorch's safetensors
 * format.  Included by tensor/tensor.h; part of the tensor room's public API.
 */
#ifndef ATTOGRAD_TENSOR_SAFETENSORS_H
#define ATTOGRAD_TENSOR_SAFETENSORS_H

#include "../tensor.h"

/*
 * The format of PyTorch's safetensors package (safetensors.torch.save_file
 * and load_file): an 8-byte little-endian header length N, N bytes of JSON
 *     {"__metadata__":{"format":"pt"},
 *      "W_query.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}, ...}
 * padded with spaces to a multiple of 8, then the tensors' little-endian
 * bytes back to back, in the order of their offsets.  nn_module_save and
 * nn_module_load (nn.h) are built on these.
 *
 *     TensorFile *f = tensor_file_open("model.safetensors");
 *     if (!f || tensor_file_read(f, n, entries, "module") != 0)
 *         fprintf(stderr, "%s\n", tensor_error());
 *     tensor_file_close(f);
 */
typedef enum {                   /* safetensors' dtypes, in its order */
    TENSOR_BOOL, TENSOR_U8, TENSOR_I8, TENSOR_F8_E5M2, TENSOR_F8_E4M3, TENSOR_I16, TENSOR_U16,
    TENSOR_F16, TENSOR_BF16, TENSOR_I32, TENSOR_U32, TENSOR_F32, TENSOR_F64, TENSOR_I64,
    TENSOR_U64, TENSOR_DTYPE_COUNT
} TensorDtype;

typedef struct {
    const char *name;            /* "W_query.weight" */
    TensorDtype dtype;
    int ndim;                    /* 0 to TENSOR_MAX_DIMS */
    int64_t shape[TENSOR_MAX_DIMS];
    void *data;                  /* numel values of dtype, row-major (host order: little-endian) */
} TensorEntry;

typedef struct {
    const char *key, *value;     /* "__metadata__" strings */
} TensorMeta;

typedef struct TensorFile TensorFile;

ATTOGRAD_API const char *tensor_dtype_name(TensorDtype dtype); /* "F32"; "?" if not a dtype */
ATTOGRAD_API size_t tensor_dtype_size(TensorDtype dtype); /* bytes per element; 0 if not */
/* An F32 entry for t: its row-major data (a copy in the current scope when
 * t is not contiguous).  A NULL t gives an entry with NULL data. */
ATTOGRAD_API TensorEntry tensor_entry(const char *name, const Tensor *t);
/* Writes a file of n entries and n_meta metadata strings byte for byte as
 * the safetensors package does (tensors sorted by dtype in its order, 8-byte
 * dtypes first, then by name; offsets from 0, back to back).  Safely: to a
 * temporary file "<name>.tmp-<pid>-<n>" in the same folder (the name cut so
 * that it fits the 255 bytes a file name may have), flushed to disk, then
 * renamed over path, so a failed save leaves any previous file intact and no
 * temporary file behind.  A save killed midway (kill -9) leaves its
 * temporary file: the next save of the same path removes those whose
 * process is gone.  An existing file keeps its permission bits (0600 stays
 * 0600); a symbolic link is written through (the file it names is replaced,
 * the link stays); a link to nothing, a device, a FIFO or a folder at path is
 * refused.  Returns 0, or -1 with a message. */
ATTOGRAD_API int tensor_save_entries(const char *path, int n, const TensorEntry *entries,
                                     int n_meta, const TensorMeta *meta);
/* Opens a file and checks its header before anything uses it: a regular
 * file (a FIFO, a folder or a device is refused at once, never waited on),
 * header length within the file, JSON well formed (strict: no duplicate
 * keys, no unknown fields, UTF-8 names), known dtypes, shapes of at most
 * TENSOR_MAX_DIMS dims, offsets in order, without gap or overlap, matching
 * each tensor's size and covering the data exactly.  Every check is O(n log n)
 * in the header's entries.  Only the header is read: the data stays on disk
 * until tensor_file_read (or a TensorState) asks for it, so a file that does
 * not match its reader costs no memory for its tensors.  NULL with a message
 * naming the file (and the tensor) otherwise. */
ATTOGRAD_API TensorFile *tensor_file_open(const char *path);
/* The same from bytes in memory (copied); label names it in messages. */
ATTOGRAD_API TensorFile *tensor_file_parse(const void *bytes, size_t size, const char *label);
ATTOGRAD_API void tensor_file_close(TensorFile *f);                        /* NULL is fine */
ATTOGRAD_API int tensor_file_count(const TensorFile *f);                   /* tensors in the file */
/* The file's tensors in data order.  data: from tensor_file_parse, a pointer
 * into the bytes (read only, possibly unaligned: memcpy it); from
 * tensor_file_open, NULL (read with tensor_file_read).  NULL when i is out of
 * range. */
ATTOGRAD_API const TensorEntry *tensor_file_entry(const TensorFile *f, int i);
ATTOGRAD_API const TensorEntry *tensor_file_find(const TensorFile *f, const char *name);
ATTOGRAD_API const char *tensor_file_meta(const TensorFile *f, const char *key); /* NULL: absent */
/* 0 when metadata key is value; -1 with a message saying both otherwise. */
ATTOGRAD_API int tensor_file_expect_meta(const TensorFile *f, const char *key, const char *value);
/* Copies the file's tensors into dst[i].data, which must name exactly the
 * file's tensors (no more, no fewer) with the same dtypes and shapes.
 * Everything is checked before the first byte is copied: on a mismatch
 * nothing is written (a read error midway, a file that shrank, may leave
 * the first destinations written: TensorState below never does) and the
 * message names the tensor, e.g.
 *   "load m.safetensors: W_query.weight: shape (2,3) in file, (3,2) in module"
 * (what: "module", the word after "in").  Returns 0 or -1. */
ATTOGRAD_API int tensor_file_read(const TensorFile *f, int n, const TensorEntry *dst,
                                  const char *what);
/* One tensor of the file, the others left unread (a model's weights out of
 * a file that holds more): dst names it with its dtype and shape, checked
 * as tensor_file_read checks them, with its messages; then its bytes are
 * copied into dst->data.  A NULL dst->data asks for the checks alone, so a
 * reader can check every tensor it needs before it reads any.  0 or -1. */
ATTOGRAD_API int tensor_file_read_one(const TensorFile *f, const TensorEntry *dst,
                                      const char *what);

/* ---- Run state: named values saved together, loaded all or nothing ---------- */
/*
 * A TensorState gathers the values a file holds from their owners: a
 * module's state_dict (nn_state_add), an optimizer's state (optim_state_add),
 * a generator (tensor_generator_state_add), the caller's counters.  A load
 * changes nothing unless everything is right: the header is matched against
 * the entries first (names, dtypes, shapes; no tensor the state lacks,
 * unless tensor_state_ignore_others), then each value is read into a buffer
 * of the state's own and checked (the entries' flags, then each part's check
 * hook), and only then copied onto the live values (and each part's commit
 * hook runs).
 *
 *     TensorState *s = tensor_state_new("checkpoint");
 *     int64_t epoch = 0;
 *     tensor_state_add(s, "epoch", TENSOR_I64, 0, NULL, &epoch, TENSOR_STATE_COUNT);
 *     tensor_generator_state_add(s, NULL);
 *     if (tensor_state_load(s, "run.safetensors", 0, NULL)) puts(tensor_error());
 *     tensor_state_free(s);
 */
typedef struct TensorState TensorState;

enum {
    TENSOR_STATE_OPTIONAL = 1, /* may be absent from a file (then left as it is) */
    TENSOR_STATE_FINITE = 2,   /* F32 / F64: a NaN or an infinity is refused */
    TENSOR_STATE_COUNT = 4,    /* I64 scalar: refused outside [0, 2^53] */
};
/* A count's largest value: the doubles that step counts meet (Adam's
 * beta ** step) stay exact, and adding one never overflows. */
#define TENSOR_STATE_MAX_COUNT ((int64_t)1 << 53)

/* A part's own checks and installation.  check sees every staged value
 * (tensor_state_staged) and returns 0, or -1 with a message
 * (tensor_state_fail); commit runs only when every check passed and cannot
 * fail; release frees what check made (not ctx itself).  Any may be NULL. */
typedef struct {
    int (*check)(void *ctx, const TensorState *s);
    void (*commit)(void *ctx, const TensorState *s);
    void (*release)(void *ctx);
} TensorStateHooks;

/* what names the reader in messages: "...: shape (2,3) in file, (3,2) in module". */
ATTOGRAD_API TensorState *tensor_state_new(const char *what);
ATTOGRAD_API void tensor_state_free(TensorState *s);                       /* NULL is fine */
/* An entry: name copied (not empty), data where the value lives (a save
 * reads it, a commit writes it; NULL for a value only a part's commit
 * installs, with TENSOR_STATE_OPTIONAL).  0, or -1 with a message. */
ATTOGRAD_API int tensor_state_add(TensorState *s, const char *name, TensorDtype dtype, int ndim,
                                  const int64_t *shape, void *data, unsigned flags);
/* A long-lived tensor's data as F32 of its shape; a commit bumps its version. */
ATTOGRAD_API int tensor_state_add_tensor(TensorState *s, const char *name, Tensor *t,
                                         unsigned flags);
/* Hooks and their context (malloc'd; the state frees it). */
ATTOGRAD_API int tensor_state_add_part(TensorState *s, const TensorStateHooks *hooks, void *ctx);
/* From now on a read leaves the file's tensors that the state lacks unread
 * instead of refusing them: a module's state_dict out of a whole training
 * checkpoint (optimizer.*, generator.*, step ...). */
ATTOGRAD_API void tensor_state_ignore_others(TensorState *s);
/* tensor_save_entries of every entry (an optional one with NULL data is left out). */
ATTOGRAD_API int tensor_state_save(const TensorState *s, const char *path, int n_meta,
                                   const TensorMeta *meta);
/* Opens path, checks that each meta key has its value, reads, checks and
 * commits; 0, or -1 with a message and nothing changed. */
ATTOGRAD_API int tensor_state_load(TensorState *s, const char *path, int n_meta,
                                   const TensorMeta *meta);
/* The read and check phases on an open file; then tensor_state_commit. */
ATTOGRAD_API int tensor_state_read(TensorState *s, const TensorFile *f);
ATTOGRAD_API void tensor_state_commit(TensorState *s);
/* During a check: the file's value of entry name, NULL when the file lacks it. */
ATTOGRAD_API const void *tensor_state_staged(const TensorState *s, const char *name);
/* Records "load <file>: <message>"; returns NULL. */
ATTOGRAD_API void *tensor_state_fail(const TensorState *s, const char *fmt, ...) TENSOR__PRINTF(2,
                                     3);
/* The generator's state: generator.mt (U32, 624 words), generator.index
 * (I64, 0 to 624), generator.seed (U64), generator.normal (F64 (2), the
 * cached double and float normal samples, NaN for none).  A load refuses an
 * index out of range, a degenerate (all-zero) MT state, an infinite cached
 * sample.  g NULL: the default generator. */
ATTOGRAD_API int tensor_generator_state_add(TensorState *s, TensorGenerator *g);

#endif /* ATTOGRAD_TENSOR_SAFETENSORS_H */
