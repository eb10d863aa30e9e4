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

const char *tensor_dtype_name(TensorDtype dtype);            /* "F32"; "?" if not a dtype */
size_t tensor_dtype_size(TensorDtype dtype);                 /* bytes per element; 0 if not */
/* An F32 entry for t: its row-major data (a copy in the current scope when
 * t is not contiguous).  A NULL t gives an entry with NULL data. */
TensorEntry tensor_entry(const char *name, const Tensor *t);
/* Writes a file of n entries and n_meta metadata strings byte for byte as
 * the safetensors package does (tensors sorted by dtype in its order, 8-byte
 * dtypes first, then by name; offsets from 0, back to back).  Safely: to a
 * temporary file in the same folder, flushed to disk, then renamed over
 * path, so a failed or interrupted save leaves any previous file intact and
 * no temporary file behind.
 * Returns 0, or -1 with a message. */
int tensor_save_entries(const char *path, int n, const TensorEntry *entries, int n_meta,
                        const TensorMeta *meta);
/* Reads and checks a whole file before anything uses it: header length
 * within the file, JSON well formed (strict: no duplicate keys, no unknown
 * fields, UTF-8 names), known dtypes, shapes of at most TENSOR_MAX_DIMS
 * dims, offsets in order, without gap or overlap, matching each tensor's
 * size and covering the data exactly.  NULL with a message naming the file
 * (and the tensor) otherwise. */
TensorFile *tensor_file_open(const char *path);
/* The same from bytes in memory (copied); label names it in messages. */
TensorFile *tensor_file_parse(const void *bytes, size_t size, const char *label);
void tensor_file_close(TensorFile *f);                        /* NULL is fine */
int tensor_file_count(const TensorFile *f);                   /* tensors in the file */
/* The file's tensors in data order; data points into the file's bytes (read
 * only, possibly unaligned: memcpy it).  NULL when i is out of range. */
const TensorEntry *tensor_file_entry(const TensorFile *f, int i);
const TensorEntry *tensor_file_find(const TensorFile *f, const char *name);  /* NULL: absent */
const char *tensor_file_meta(const TensorFile *f, const char *key);         /* NULL: absent */
/* 0 when metadata key is value; -1 with a message saying both otherwise. */
int tensor_file_expect_meta(const TensorFile *f, const char *key, const char *value);
/* Copies the file's tensors into dst[i].data, which must name exactly the
 * file's tensors (no more, no fewer) with the same dtypes and shapes.
 * Everything is checked before the first byte is copied: on a mismatch
 * nothing is written and the message names the tensor, e.g.
 *   "load m.safetensors: W_query.weight: shape (2,3) in file, (3,2) in module"
 * (what: "module", the word after "in").  Returns 0 or -1. */
int tensor_file_read(const TensorFile *f, int n, const TensorEntry *dst, const char *what);

#endif /* ATTOGRAD_TENSOR_SAFETENSORS_H */
