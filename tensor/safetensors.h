/*
 * attograd tensor room: files of named tensors, in PyTorch's safetensors
 * format.  Part of the tensor room's public API, in a header of its own
 * (attograd.h includes it): the nn room saves a module's state_dict with it,
 * the checkpoint room a training run's state (checkpoint/checkpoint.h).
 */
#ifndef ATTOGRAD_TENSOR_SAFETENSORS_H
#define ATTOGRAD_TENSOR_SAFETENSORS_H

#include "tensor/tensor.h"

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
 * until tensor_file_read or tensor_file_read_one asks for it, so a file that does
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
 * the first destinations written: nn_module_load and checkpoint_load read
 * into buffers of their own first, and never do) and the
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

#endif /* ATTOGRAD_TENSOR_SAFETENSORS_H */
