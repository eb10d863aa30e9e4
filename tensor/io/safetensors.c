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
 * Writing goes to "<path>.tmp-<pid>-<n>" beside the target (a rename is
 * atomic only within one filesystem), is flushed with fsync, then renamed
 * over the target; on any failure the temporary file is removed and the
 * target is untouched.
 */
#include "io/safetensors_internal.h"

#include <errno.h>
#include <fcntl.h>
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

/* Creates a temporary file beside path; its name goes to *tmp (malloc'd). */
static int create_temporary(const char *path, char **tmp)
{
    static unsigned counter;
    size_t cap = strlen(path) + 48;
    *tmp = malloc(cap);
    if (!*tmp) tensor__abort(__FILE__, __LINE__, "out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(*tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), counter++);
        int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

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
    return fsync(fd);
}

/* The folder's entry for the rename reaches the disk too; a failure here
 * cannot undo the rename, so it is not reported. */
static void sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int tensor_save_entries(const char *path, int n, const TensorEntry *entries, int n_meta,
                        const TensorMeta *meta)
{
    if (!path) return tensor__error("save: path is NULL"), -1;
    if (n < 0 || n_meta < 0)
        return tensor__error("save %s: negative count (%d entries, %d metadata)", path, n, n_meta),
               -1;
    if ((n > 0 && !entries) || (n_meta > 0 && !meta))
        return tensor__error("save %s: the %s list is NULL", path,
                             n > 0 && !entries ? "entry" : "metadata"),
               -1;
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) tensor__abort(__FILE__, __LINE__, "out of memory");
    size_t len;
    char *header = tensor__st_format_header(path, n, entries, n_meta, meta, order, &len);
    char *tmp = NULL;
    int fd = header ? create_temporary(path, &tmp) : -1, rc = -1;
    if (header && fd < 0) {
        tensor__error("save %s: cannot create a temporary file beside it: %s", path,
                      strerror(errno));
    } else if (header) {
        int failed = write_contents(fd, header, len, n, entries, order);
        int err = errno;
        if (close(fd) != 0 && !failed) failed = 1, err = errno;
        if (!failed && rename(tmp, path) != 0) failed = 1, err = errno;
        if (failed) {
            unlink(tmp);
            tensor__error("save %s: %s", path, strerror(err));
        } else {
            sync_folder(path);
            rc = 0;
        }
    }
    free(tmp);
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
    return f;
}

void tensor_file_close(TensorFile *f)
{
    if (!f) return;
    tensor__st_free_header(f);
    free(f->bytes);
    free(f->label);
    free(f);
}

/* The header's length from the first 8 bytes, checked against size. */
static int header_length(const TensorFile *f, const unsigned char *le, uint64_t size, uint64_t *n)
{
    if (size < 8) {
        tensor__error("load %s: %llu bytes; a safetensors file starts with an 8-byte header length",
                      f->label, (unsigned long long)size);
        return -1;
    }
    *n = 0;
    for (int k = 7; k >= 0; k--) *n = *n << 8 | le[k];
    if (*n > TENSOR__ST_MAX_HEADER) {
        tensor__error("load %s: header length %llu is over the %u bytes allowed", f->label,
                      (unsigned long long)*n, TENSOR__ST_MAX_HEADER);
        return -1;
    }
    if (*n > size - 8) {
        tensor__error("load %s: header length %llu runs past the end of the file (%llu bytes)",
                      f->label, (unsigned long long)*n, (unsigned long long)size);
        return -1;
    }
    return 0;
}

/* Points the entries at their data, once f->bytes holds the whole file. */
static TensorFile *attach_data(TensorFile *f, uint64_t header)
{
    for (int i = 0; i < f->count; i++) f->entries[i].data = f->bytes + 8 + header + f->begin[i];
    return f;
}

TensorFile *tensor_file_parse(const void *bytes, size_t size, const char *label)
{
    if (!bytes && size) return tensor__error("load: bytes are NULL");
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
    f->size = size;
    return attach_data(f, n);
}

/* Reads n bytes at offset into buf; -1 with a message on error or EOF. */
static int read_at(const TensorFile *f, int fd, void *buf, size_t n, uint64_t offset)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            tensor__error("load %s: %s", f->label,
                          k ? strerror(errno) : "the file shrank while read");
            return -1;
        }
        done += (size_t)k;
    }
    return 0;
}

/* The header first, checked, then the data it describes. */
static TensorFile *read_file(TensorFile *f, int fd, uint64_t size)
{
    unsigned char le[8] = {0};
    uint64_t n;
    if ((size >= 8 && read_at(f, fd, le, 8, 0)) || header_length(f, le, size, &n)) return NULL;
    f->bytes = malloc((size_t)(8 + n));
    if (!f->bytes) tensor__abort(__FILE__, __LINE__, "out of memory");
    memcpy(f->bytes, le, 8);
    if (read_at(f, fd, f->bytes + 8, (size_t)n, 8) ||
        tensor__st_parse_header(f, (const char *)f->bytes + 8, (size_t)n, size - 8 - n))
        return NULL;
    if ((uint64_t)(size_t)size != size) {
        tensor__error("load %s: too large for this machine", f->label);
        return NULL;
    }
    unsigned char *all = realloc(f->bytes, (size_t)size);
    if (!all) {
        tensor__error("load %s: out of memory for %llu bytes", f->label, (unsigned long long)size);
        return NULL;
    }
    f->bytes = all;
    f->size = (size_t)size;
    if (read_at(f, fd, all + 8 + n, (size_t)(size - 8 - n), 8 + n)) return NULL;
    return attach_data(f, n);
}

TensorFile *tensor_file_open(const char *path)
{
    if (!path) return tensor__error("load: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tensor__error("load %s: %s", path, strerror(errno));
    TensorFile *f = file_new(path), *ok = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        tensor__error("load %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        tensor__error("load %s: not a regular file", path);
    else
        ok = read_file(f, fd, (uint64_t)st.st_size);
    close(fd);
    if (!ok) tensor_file_close(f);
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
    for (int i = 0; f && name && i < f->count; i++)
        if (strcmp(f->entries[i].name, name) == 0) return &f->entries[i];
    return NULL;
}

const char *tensor_file_meta(const TensorFile *f, const char *key)
{
    for (int i = 0; f && key && i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

int tensor_file_expect_meta(const TensorFile *f, const char *key, const char *value)
{
    if (!f) return -1;
    if (!key || !value)
        return tensor__error("load %s: expected metadata key or value is NULL", f->label), -1;
    const char *v = tensor_file_meta(f, key);
    if (!v)
        return tensor__error("load %s: no metadata \"%s\" (\"%s\" expected)", f->label, key, value),
               -1;
    if (strcmp(v, value) != 0)
        return tensor__error("load %s: metadata \"%s\" is \"%s\" in file, \"%s\" expected",
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

static int check_dst(const TensorFile *f, int i, const TensorEntry *d, const TensorEntry *dst,
                     const char *what)
{
    char a[128], b[128], names[256];
    if (!d->name) return tensor__error("load %s: destination %d has no name", f->label, i), -1;
    for (int j = 0; j < i; j++)
        if (strcmp(dst[j].name, d->name) == 0)
            return tensor__error("load %s: %s asked for twice", f->label, d->name), -1;
    const TensorEntry *e = tensor_file_find(f, d->name);
    if (!e)
        return tensor__error("load %s: %s is missing from the file (it holds %s)", f->label,
                             d->name, file_names(f, names, sizeof names)),
               -1;
    if (e->dtype != d->dtype)
        return tensor__error("load %s: %s: dtype %s in file, %s in %s", f->label, d->name,
                             tensor_dtype_name(e->dtype), tensor_dtype_name(d->dtype), what),
               -1;
    bool same = e->ndim == d->ndim;
    for (int k = 0; same && k < e->ndim; k++) same = e->shape[k] == d->shape[k];
    if (!same)
        return tensor__error("load %s: %s: shape %s in file, %s in %s", f->label, d->name,
                             tensor__st_shape_text(a, sizeof a, e->ndim, e->shape),
                             tensor__st_shape_text(b, sizeof b, d->ndim, d->shape), what),
               -1;
    if (!d->data && tensor__st_bytes(d))
        return tensor__error("load %s: %s: destination data is NULL", f->label, d->name), -1;
    return 0;
}

int tensor_file_read(const TensorFile *f, int n, const TensorEntry *dst, const char *what)
{
    if (!f) return -1;
    if (n < 0) return tensor__error("load %s: negative count %d", f->label, n), -1;
    if (n > 0 && !dst) return tensor__error("load %s: the destination list is NULL", f->label), -1;
    what = what ? what : "destination";
    for (int i = 0; i < n; i++)
        if (check_dst(f, i, &dst[i], dst, what)) return -1;
    /* Every destination matched a distinct tensor; one more in the file is
     * a tensor the caller does not have. */
    for (int i = 0; n != f->count && i < f->count; i++) {
        bool wanted = false;
        for (int j = 0; j < n && !wanted; j++)
            wanted = strcmp(dst[j].name, f->entries[i].name) == 0;
        if (!wanted)
            return tensor__error("load %s: the file has %s, which the %s does not", f->label,
                                 f->entries[i].name, what),
                   -1;
    }
    for (int i = 0; i < n; i++) {
        const TensorEntry *e = tensor_file_find(f, dst[i].name);
        uint64_t bytes = tensor__st_bytes(e);
        if (bytes) memcpy(dst[i].data, e->data, (size_t)bytes);
    }
    return 0;
}
