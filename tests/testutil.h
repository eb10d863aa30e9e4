/*
 * Helpers shared by the Check suites.
 *
 * Tolerances: float32 forward values agree with PyTorch to about 1e-5
 * relative (different but equally valid summation orders); gradients checked
 * by finite differences need looser bounds, stated where they are used.
 */
#ifndef ATTOGRAD_TESTUTIL_H
#define ATTOGRAD_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "attograd.h"

/* |a - b| <= atol + rtol * |b| for every element, same shapes. */
#define ck_assert_tensor_close(a, b, atol, rtol) \
    testutil_assert_close((a), (b), (atol), (rtol), __FILE__, __LINE__)

static inline void testutil_assert_close(const Tensor *a, const Tensor *b, double atol,
                                         double rtol, const char *file, int line)
{
    ck_assert_msg(a != NULL, "%s:%d: first tensor is NULL (%s)", file, line, tensor_error());
    ck_assert_msg(b != NULL, "%s:%d: second tensor is NULL (%s)", file, line, tensor_error());
    ck_assert_msg(tensor_same_shape(a, b), "%s:%d: shapes differ: %s vs %s", file, line,
                  tensor_shape_str(a), tensor_shape_str(b));
    Tensor *ac = tensor_contiguous(a), *bc = tensor_contiguous(b);
    for (int64_t i = 0; i < a->numel; i++) {
        double x = ac->data[i], y = bc->data[i];
        ck_assert_msg(fabs(x - y) <= atol + rtol * fabs(y) || (isnan(x) && isnan(y)),
                      "%s:%d: element %lld: %.9g vs %.9g (atol %g, rtol %g)", file, line,
                      (long long)i, x, y, atol, rtol);
    }
}

/* Reads a fixture file of whitespace-separated floats; '#' starts a comment.
 * Returns the count, fills *out (malloc'd). */
static inline int64_t testutil_read_floats(const char *name, float **out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open fixture %s", path);
    int64_t n = 0, cap = 256;
    float *v = malloc((size_t)cap * sizeof *v);
    char tok[128];
    while (fscanf(f, "%127s", tok) == 1) {
        if (tok[0] == '#') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {}
            continue;
        }
        if (n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
        v[n++] = strtof(tok, NULL);
    }
    fclose(f);
    *out = v;
    return n;
}

/*
 * Fixture files (the .txt files in tests/reference, written by the generator scripts
 * there) hold named tensors: a line "@name d0 d1 ..." (no dims: a scalar)
 * followed by the values in row-major order, printed with %.9g so float32
 * values round-trip exactly.  Returns the tensor in the current scope.
 */
static inline Tensor *testutil_fixture(const char *file, const char *name)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open fixture %s", path);
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '@' || strncmp(line + 1, name, len) != 0 ||
            (line[1 + len] != ' ' && line[1 + len] != '\n'))
            continue;
        int64_t shape[TENSOR_MAX_DIMS];
        int ndim = 0, used;
        const char *p = line + 1 + len;
        long long d;
        while (ndim < TENSOR_MAX_DIMS && sscanf(p, "%lld%n", &d, &used) == 1) {
            shape[ndim++] = d;
            p += used;
        }
        Tensor *t = tensor_zeros(ndim, shape);
        for (int64_t i = 0; i < t->numel; i++)
            ck_assert_msg(fscanf(f, "%f", &t->data[i]) == 1, "%s: @%s: short data", path, name);
        fclose(f);
        return t;
    }
    fclose(f);
    ck_abort_msg("fixture %s has no tensor @%s", path, name);
    return NULL;
}

/* The numbers on line `name` of a fixture written as lines "name v1 v2 ..."
 * (gen_text_loader.py, gen_data_loader.py), malloc'd; *n their count.
 * Words that are not numbers are skipped. */
static inline double *testutil_fixture_line(const char *file, const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char line[1 << 17];
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, len) != 0 || (line[len] != ' ' && line[len] != '\n')) continue;
        fclose(f);
        double *v = malloc((strlen(line) / 2 + 1) * sizeof *v);
        ck_assert_ptr_nonnull(v);
        *n = 0;
        for (char *p = line + len, *end; *p;) {
            double x = strtod(p, &end);
            if (end != p) v[(*n)++] = x;
            else end = p + strcspn(p, " \n") + strspn(p + strcspn(p, " \n"), " \n");
            if (end == p) break;
            p = end;
        }
        return v;
    }
    fclose(f);
    ck_abort_msg("%s: no line %s", file, name);
    return NULL;
}

/* Tensor @name of a program's --dump text, in the current scope: the
 * fixtures' format, a line "@name d0 d1 ..." then the values (any white
 * space between them). */
static inline Tensor *testutil_dumped(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "@%s", name);
    const char *p = text;
    size_t len = strlen(key);
    /* at the start of a line, the whole name */
    while ((p = strstr(p, key)) &&
           ((p > text && p[-1] != '\n') || (p[len] != ' ' && p[len] != '\n')))
        p += len;
    ck_assert_msg(p != NULL, "no %s in the program's --dump", key);
    char *end;
    int64_t shape[TENSOR_MAX_DIMS];
    int ndim = 0;
    p += len;
    while (*p == ' ' && ndim < TENSOR_MAX_DIMS) shape[ndim++] = strtoll(p, (char **)&p, 10);
    Tensor *t = tensor_zeros(ndim, shape);
    for (int64_t i = 0; i < t->numel; i++) {
        t->data[i] = strtof(p, &end);
        ck_assert_msg(end != p, "%s: short data", key);
        p = end;
    }
    return t;
}

/* The largest |element| of t: the scale of an absolute tolerance for
 * elements that come out of cancellation. */
static inline double testutil_max_abs(const Tensor *t)
{
    double m = 0;
    for (int64_t i = 0; i < t->numel; i++) m = fmax(m, fabs((double)t->data[i]));
    return m;
}

/* The backward seed the fixture scripts use (gen_elementwise.py,
 * gen_softmax_loss.py): 0.5 + (i % 7) / 8 for element i, row-major. */
static inline Tensor *testutil_seed_like(const Tensor *t)
{
    Tensor *w = tensor_zeros(t->ndim, t->shape);
    for (int64_t i = 0; i < w->numel; i++) w->data[i] = 0.5f + (float)(i % 7) / 8.0f;
    return w;
}

/* result is NULL and tensor_error() holds part; then the message is cleared. */
#define ck_assert_error_has(result, part) testutil_assert_error((result) == NULL, (part), __FILE__, __LINE__)
static inline void testutil_assert_error(bool null, const char *part, const char *file, int line)
{
    ck_assert_msg(null, "%s:%d: expected NULL (an error naming \"%s\")", file, line, part);
    ck_assert_msg(strstr(tensor_error(), part) != NULL, "%s:%d: message \"%s\" lacks \"%s\"",
                  file, line, tensor_error(), part);
    tensor_clear_error();
}

/* The first 64 KiB of a text file, in a static buffer (the next call reuses it). */
static inline char *testutil_read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The whole of a file, malloc'd and NUL-terminated (binary files too: *len
 * is its size). */
static inline char *testutil_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Runs a shell command; returns its exit status (-1 when it did not exit)
 * and up to cap - 1 bytes of its stdout in out. */
static inline int testutil_capture(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A Check main for one suite: define `Suite *make_suite(void)`. */
#define TESTUTIL_MAIN(make_suite)                                   \
    int main(void)                                                  \
    {                                                               \
        SRunner *sr = srunner_create(make_suite());                 \
        srunner_run_all(sr, CK_NORMAL);                             \
        int failed = srunner_ntests_failed(sr);                     \
        srunner_free(sr);                                           \
        tensor_cleanup();                                           \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                \
    }

#endif /* ATTOGRAD_TESTUTIL_H */
