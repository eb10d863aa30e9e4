/*
 * Private to tensor/safetensors*.c: the parsed file, and the header (JSON)
 * reading (safetensors_json.c) and writing (safetensors_format.c) that
 * safetensors.c's file handling calls.
 */
#ifndef ATTOGRAD_SAFETENSORS_INTERNAL_H
#define ATTOGRAD_SAFETENSORS_INTERNAL_H

#include "core/tensor_internal.h"
#include "tensor/safetensors.h"

/* The reference implementation refuses larger headers; so do we, before
 * allocating anything for one. */
#define TENSOR__ST_MAX_HEADER 100000000u

/* A name and where it is, for lookups by bsearch. */
typedef struct {
    const char *name;
    int index;
} TensorFileName;

struct TensorFile {
    char *label;          /* the path, or the caller's name: messages say "load <label>" */
    int fd;               /* tensor_file_open: the open file, read on demand; else -1 */
    unsigned char *bytes; /* tensor_file_parse: the whole file; else NULL */
    uint64_t data_start;  /* where the data begins: 8 + the header's length */
    int count;
    TensorEntry *entries; /* in data order; names owned, data into bytes (NULL with fd) */
    uint64_t *begin;      /* [i]: entries[i]'s offset in the data */
    TensorFileName *by_name; /* the entries sorted by name */
    int n_meta;
    TensorMeta *meta;     /* owned strings */
    TensorFileName *meta_by_key; /* meta sorted by key */
};

/* Index of the entry called name, -1 when absent: O(log count). */
int tensor__st_index(const TensorFile *f, const char *name);
/* Copies entry i's bytes into dst (from memory, or read from the file);
 * 0, or -1 with a message when the read fails. */
int tensor__st_read_entry(const TensorFile *f, int i, void *dst);

/* Parses the JSON header (n bytes, not NUL-terminated) into f's entries,
 * begin and meta, sorted by offset, and checks that the offsets tile
 * data_size bytes exactly.  0, or -1 with a message ("load <label>: ..."). */
int tensor__st_parse_header(TensorFile *f, const char *json, size_t n, uint64_t data_size);

/* The JSON header for entries, as the reference writer makes it: tensors
 * sorted by dtype (its enum order reversed: 8-byte dtypes first) then name, offsets back to back, padded
 * with spaces to a multiple of 8.  order receives the entries' indices in
 * that order.  Returns malloc'd text (length *len), or NULL with a message
 * ("save <path>: ...") for bad entries. */
char *tensor__st_format_header(const char *path, int n, const TensorEntry *entries, int n_meta,
                               const TensorMeta *meta, int *order, size_t *len);

/* RFC 3629 UTF-8: no overlong forms, no surrogates, at most U+10FFFF. */
bool tensor__st_utf8_valid(const unsigned char *s, size_t n);
/* Bytes of e's data; UINT64_MAX when that overflows. */
uint64_t tensor__st_bytes(const TensorEntry *e);

/* Frees what tensor__st_parse_header filled in, leaving f's bytes. */
void tensor__st_free_header(TensorFile *f);

#endif /* ATTOGRAD_SAFETENSORS_INTERNAL_H */
