/*
 * Files of named tensors in the safetensors format (see tensor.h): opening
 * and checking a file, copying its tensors out, and writing one safely.
 * The JSON header is read and written in safetensors_json.c.
 *
 * Reading never trusts the file: the header length is checked against the
 * file's size before anything is allocated for it, the whole header is
 * parsed and its offsets checked before the data is read, and a read into
 * the caller's buffers checks every name, dtype and shape before it copies
 * the first byte.
 *
 * Writing goes through the safe output file (tensor/output.h): a temporary
 * file beside the target, synced and renamed over it; on any failure the
 * temporary file is removed and the target is untouched.
 */
#include "io/safetensors_internal.h"
#include "tensor/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "safetensors data is little-endian: a big-endian host would need byte swaps here"
#endif

/* ---- the write-failure hook of the tests ---------------------------------- */

static int writes_until_failure; /* 0: never fail */

void tensor__fail_write(int nth) { writes_until_failure = nth > 0 ? nth : 0; }

/* write(2) until done.  The test hook makes the chosen call write half its
 * bytes and then fail as a full disk does. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    if (writes_until_failure && --writes_until_failure == 0) {
        if (write(fd, p, n / 2) < 0) return -1;
        errno = ENOSPC;
        return -1;
    }
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- entries --------------------------------------------------------------- */

TensorEntry tensor_entry(const char *name, const Tensor *t)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_F32};
    if (!t) return e;
    e.ndim = t->ndim;
    memcpy(e.shape, t->shape, sizeof e.shape);
    e.data = (void *)tensor__contiguous_data(t);
    return e;
}

/* ---- saving ---------------------------------------------------------------- */

static int write_contents(int fd, const char *header, size_t len, int n, const TensorEntry *entries,
                          const int *order)
{
    unsigned char le[8];
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)((uint64_t)len >> (8 * k));
    if (write_all(fd, le, 8) || write_all(fd, header, len)) return -1;
    for (int i = 0; i < n; i++) {
        const TensorEntry *e = &entries[order[i]];
        uint64_t bytes = tensor__st_bytes(e);
        if (bytes && write_all(fd, e->data, (size_t)bytes)) return -1;
    }
    return 0;
}

/* The safe output file's message, as a save's: "save <path>: ...". */
static int save_failed(void)
{
    char *why = strdup(tensor_error());
    if (!why) tensor__abort(__FILE__, __LINE__, "out of memory");
    tensor_set_error("save %s", why);
    free(why);
    return -1;
}

/* Writes the file through the safe output file (tensor/output.h): 0 or -1 with
 * a message. */
static int write_file(const char *path, const char *header, size_t len, int n,
                      const TensorEntry *entries, const int *order)
{
    TensorOutput *out = tensor_output_open(path);
    if (!out) return save_failed();
    /* Unbuffered writes to the stream's descriptor: nothing sits in the
     * FILE's buffer, and the test hook sees each write. */
    if (write_contents(fileno(tensor_output_file(out)), header, len, n, entries, order) != 0) {
        tensor_set_error("save %s: %s", path, strerror(errno));
        tensor_output_abort(out);
        return -1;
    }
    return tensor_output_commit(out) ? save_failed() : 0;
}

int tensor_save_entries(const char *path, int n, const TensorEntry *entries, int n_meta,
                        const TensorMeta *meta)
{
    if (!path) return tensor_set_error("save: path is NULL"), -1;
    if (n < 0 || n_meta < 0)
        return tensor_set_error("save %s: negative count (%d entries, %d metadata)", path, n,
                                n_meta),
               -1;
    if ((n > 0 && !entries) || (n_meta > 0 && !meta))
        return tensor_set_error("save %s: the %s list is NULL", path,
                             n > 0 && !entries ? "entry" : "metadata"),
               -1;
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) tensor__abort(__FILE__, __LINE__, "out of memory");
    size_t len;
    char *header = tensor__st_format_header(path, n, entries, n_meta, meta, order, &len);
    int rc = -1;
    if (header) rc = write_file(path, header, len, n, entries, order);
    free(header);
    free(order);
    return rc;
}

/* ---- opening --------------------------------------------------------------- */

static TensorFile *file_new(const char *label)
{
    TensorFile *f = calloc(1, sizeof *f);
    if (f) f->label = strdup(label);
    if (!f || !f->label) tensor__abort(__FILE__, __LINE__, "out of memory");
    f->fd = -1;
    return f;
}

void tensor_file_close(TensorFile *f)
{
    if (!f) return;
    tensor__st_free_header(f);
    if (f->fd >= 0) close(f->fd);
    free(f->bytes);
    free(f->label);
    free(f);
}

/* The header's length from the first 8 bytes, checked against size. */
static int header_length(const TensorFile *f, const unsigned char *le, uint64_t size, uint64_t *n)
{
    if (size < 8) {
        tensor_set_error("load %s: %llu bytes; a safetensors file starts with an 8-byte header length",
                      f->label, (unsigned long long)size);
        return -1;
    }
    *n = 0;
    for (int k = 7; k >= 0; k--) *n = *n << 8 | le[k];
    if (*n > TENSOR__ST_MAX_HEADER) {
        tensor_set_error("load %s: header length %llu is over the %u bytes allowed", f->label,
                      (unsigned long long)*n, TENSOR__ST_MAX_HEADER);
        return -1;
    }
    if (*n > size - 8) {
        tensor_set_error("load %s: header length %llu runs past the end of the file (%llu bytes)",
                      f->label, (unsigned long long)*n, (unsigned long long)size);
        return -1;
    }
    return 0;
}

TensorFile *tensor_file_parse(const void *bytes, size_t size, const char *label)
{
    if (!bytes && size) return tensor_set_error("load: bytes are NULL");
    TensorFile *f = file_new(label ? label : "(memory)");
    uint64_t n;
    if (header_length(f, bytes, size, &n) ||
        tensor__st_parse_header(f, (const char *)bytes + 8, (size_t)n, size - 8 - n)) {
        tensor_file_close(f);
        return NULL;
    }
    f->bytes = malloc(size);
    if (!f->bytes) tensor__abort(__FILE__, __LINE__, "out of memory");
    memcpy(f->bytes, bytes, size);
    f->data_start = 8 + n;
    for (int i = 0; i < f->count; i++) f->entries[i].data = f->bytes + f->data_start + f->begin[i];
    return f;
}

/* Reads n bytes at offset into buf; -1 with a message on error or EOF. */
static int read_at(const TensorFile *f, int fd, void *buf, size_t n, uint64_t offset)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            tensor_set_error("load %s: %s", f->label,
                          k ? strerror(errno) : "the file shrank while read");
            return -1;
        }
        done += (size_t)k;
    }
    return 0;
}

int tensor__st_read_entry(const TensorFile *f, int i, void *dst)
{
    uint64_t bytes = tensor__st_bytes(&f->entries[i]);
    if (!bytes) return 0;
    if (f->bytes) return memcpy(dst, f->entries[i].data, (size_t)bytes), 0;
    return read_at(f, f->fd, dst, (size_t)bytes, f->data_start + f->begin[i]);
}

/* The header only, checked; the data stays on disk until a read asks for
 * it, so a file is matched against its reader before any of it is read. */
static TensorFile *read_header(TensorFile *f, int fd, uint64_t size)
{
    unsigned char le[8] = {0};
    uint64_t n;
    if ((size >= 8 && read_at(f, fd, le, 8, 0)) || header_length(f, le, size, &n)) return NULL;
    char *json = malloc((size_t)(n ? n : 1));
    if (!json) tensor__abort(__FILE__, __LINE__, "out of memory");
    int rc = read_at(f, fd, json, (size_t)n, 8) ||
             tensor__st_parse_header(f, json, (size_t)n, size - 8 - n);
    free(json);
    if (rc) return NULL;
    f->data_start = 8 + n;
    f->fd = fd;
    return f;
}

TensorFile *tensor_file_open(const char *path)
{
    if (!path) return tensor_set_error("load: path is NULL");
    /* O_NONBLOCK: opening a FIFO does not wait for a writer; it is then
     * refused as not a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return tensor_set_error("load %s: %s", path, strerror(errno));
    TensorFile *f = file_new(path), *ok = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        tensor_set_error("load %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        tensor_set_error("load %s: not a regular file", path);
    else
        ok = read_header(f, fd, (uint64_t)st.st_size);
    if (!ok) {
        close(fd);
        tensor_file_close(f);
    }
    return ok;
}

/* ---- looking inside ---------------------------------------------------------- */

int tensor_file_count(const TensorFile *f) { return f ? f->count : 0; }

const TensorEntry *tensor_file_entry(const TensorFile *f, int i)
{
    return f && i >= 0 && i < f->count ? &f->entries[i] : NULL;
}

const TensorEntry *tensor_file_find(const TensorFile *f, const char *name)
{
    int i = f && name ? tensor__st_index(f, name) : -1;
    return i >= 0 ? &f->entries[i] : NULL;
}

int tensor_file_expect_meta(const TensorFile *f, const char *key, const char *value)
{
    if (!f) return -1;
    if (!key || !value)
        return tensor_set_error("load %s: expected metadata key or value is NULL", f->label), -1;
    const char *v = tensor_file_meta(f, key);
    if (!v)
        return tensor_set_error("load %s: no metadata \"%s\" (\"%s\" expected)", f->label, key,
                                value),
               -1;
    if (strcmp(v, value) != 0)
        return tensor_set_error("load %s: metadata \"%s\" is \"%s\" in file, \"%s\" expected",
                             f->label, key, v, value),
               -1;
    return 0;
}

/* ---- reading into the caller's buffers ---------------------------------------- */

/* "W_key, W_query, W_value" (the first few of the file's names). */
static const char *file_names(const TensorFile *f, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < f->count && n < cap; i++) {
        if (i == 6) {
            snprintf(buf + n, cap - n, ", ... (%d in all)", f->count);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", f->entries[i].name);
    }
    return f->count ? buf : "no tensors";
}

/* dst's tensor in the file, checked: its index in *index, or -1 with a
 * message. */
static int check_dst(const TensorFile *f, int i, const TensorEntry *d, const char *what,
                     const bool *taken, int *index)
{
    char names[256];
    if (!d->name) return tensor_set_error("load %s: destination %d has no name", f->label, i), -1;
    int k = tensor__st_index(f, d->name);
    if (k < 0)
        return tensor_set_error("load %s: %s is missing from the file (it holds %s)", f->label,
                             d->name, file_names(f, names, sizeof names)),
               -1;
    if (taken[k]) return tensor_set_error("load %s: %s asked for twice", f->label, d->name), -1;
    const TensorEntry *e = &f->entries[k];
    if (e->dtype != d->dtype)
        return tensor_set_error("load %s: %s: dtype %s in file, %s in %s", f->label, d->name,
                             tensor_dtype_name(e->dtype), tensor_dtype_name(d->dtype), what),
               -1;
    bool same = e->ndim == d->ndim;
    for (int j = 0; same && j < e->ndim; j++) same = e->shape[j] == d->shape[j];
    if (!same)
        return tensor_set_error("load %s: %s: shape %s in file, %s in %s", f->label, d->name,
                             tensor__sizes_str(e->ndim, e->shape),
                             tensor__sizes_str(d->ndim, d->shape), what),
               -1;
    *index = k;
    return 0;
}

static int check_data(const TensorFile *f, const TensorEntry *d)
{
    if (!d->data && tensor__st_bytes(d))
        return tensor_set_error("load %s: %s: destination data is NULL", f->label, d->name), -1;
    return 0;
}

int tensor_file_read_one(const TensorFile *f, const TensorEntry *dst, const char *what)
{
    if (!f) return -1;
    if (!dst) return tensor_set_error("load %s: the destination is NULL", f->label), -1;
    bool *taken = calloc((size_t)f->count + 1, sizeof *taken);
    if (!taken) tensor__abort(__FILE__, __LINE__, "out of memory");
    int k = -1, rc = check_dst(f, 0, dst, what ? what : "destination", taken, &k);
    free(taken);
    if (rc == 0 && dst->data) rc = tensor__st_read_entry(f, k, dst->data);
    return rc;
}

int tensor_file_read(const TensorFile *f, int n, const TensorEntry *dst, const char *what)
{
    if (!f) return -1;
    if (n < 0) return tensor_set_error("load %s: negative count %d", f->label, n), -1;
    if (n > 0 && !dst) return tensor_set_error("load %s: the destination list is NULL", f->label),
                                               -1;
    what = what ? what : "destination";
    bool *taken = calloc((size_t)f->count + 1, sizeof *taken);
    int *index = malloc(((size_t)n + 1) * sizeof *index), rc = 0;
    if (!taken || !index) tensor__abort(__FILE__, __LINE__, "out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        rc = check_dst(f, i, &dst[i], what, taken, &index[i]) || check_data(f, &dst[i]) ? -1 : 0;
        if (rc == 0) taken[index[i]] = true;
    }
    /* Every destination matched a distinct tensor; one more in the file is
     * a tensor the caller does not have. */
    for (int i = 0; rc == 0 && n != f->count && i < f->count; i++)
        if (!taken[i]) {
            tensor_set_error("load %s: the file has %s, which the %s does not", f->label,
                          f->entries[i].name, what);
            rc = -1;
        }
    for (int i = 0; rc == 0 && i < n; i++) rc = tensor__st_read_entry(f, index[i], dst[i].data);
    free(taken);
    free(index);
    return rc;
}
