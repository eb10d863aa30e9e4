/*
 * Teaching aids for a walk-through: a gradient printed beside its central
 * difference, as backprop_attention and backprop_block print theirs (see
 * tensor.h, "Teaching: a gradient beside its central difference").
 *
 * Gradients print as fixed-point columns with DECIMALS decimals, scaled by a
 * power of ten to their largest element (shown as "x 1e-3") when that is
 * below 0.1 or at least 100.  Every digit shown is one float32 gets right:
 * PyTorch's printer would switch small gradients to scientific notation,
 * showing digits of tiny elements that float32 rounding has already changed.
 * "Agree" means every pair differs by at most one unit of the last digit
 * shown: a smaller difference can still round to a different last digit.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

enum { DECIMALS = 4, ROW_CHARS = 256, CHUNK = 8, PAGE_COLUMNS = 80 };

/* ---- numbers ---------------------------------------------------------------- */

Tensor *tensor_as_rows(const Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NULL;
    int64_t rows = 1, cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    for (int d = 0; d < t->ndim - 1; d++) rows *= t->shape[d];
    return tensor_contiguous(tensor_reshape(t, 2, (int64_t[]){rows, cols}));
}

double tensor_max_abs_diff(const Tensor *a, const Tensor *b)
{
    if (!TENSOR__USABLE(a) || (b && !TENSOR__USABLE(b))) return NAN;
    if (b && !tensor_same_shape(a, b)) {
        tensor_set_error("max_abs_diff: shapes %s and %s differ", tensor_shape_str(a),
                         tensor_shape_str(b));
        return NAN;
    }
    TensorIter it;
    tensor__iter_init(&it, a->ndim, a->shape, b ? 2 : 1,
                      (const int64_t *[]){a->stride, b ? b->stride : a->stride}, NULL);
    double m = 0;
    for (int64_t i = 0; i < a->numel; i++, tensor__iter_next(&it)) {
        double d = fabs((double)a->data[it.off[0]] - (b ? (double)b->data[it.off[1]] : 0.0));
        if (isnan(d)) return NAN;              /* not skipped, as fmax would */
        if (d > m) m = d;
    }
    return m;
}

double tensor_l2_norm(const Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NAN;
    TensorIter it;
    tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    double s = 0;
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it)) {
        double v = t->data[it.off[0]];
        s += v * v;
    }
    return sqrt(s);
}

/* ---- printing a tensor ---------------------------------------------------- */

/* 0, or -1 with a message when a write to f failed (as tensor_fprint). */
static int written(FILE *f, const char *op)
{
    if (ferror(f)) return tensor_set_error("%s: write failed", op), -1;
    return 0;
}

int tensor_fprint_indented(FILE *f, const Tensor *t, int indent)
{
    if (!TENSOR__USABLE(t)) return -1;
    if (!f) return tensor_set_error("fprint_indented: FILE is NULL"), -1;
    char *text = tensor_format(t);
    if (!text) return -1;
    for (char *line = text, *end; line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        fprintf(f, "%*s%.*s\n", n ? indent : 0, "", n, line);     /* no trailing blanks */
    }
    free(text);
    return written(f, "fprint_indented");
}

int tensor_fprint_fixture(FILE *f, const Tensor *t, const char *name_fmt, ...)
{
    if (!TENSOR__USABLE(t)) return -1;
    if (!f || !name_fmt) return tensor_set_error("fprint_fixture: FILE or name is NULL"), -1;
    Tensor *c = tensor_contiguous(t);
    if (!c) return -1;
    va_list ap;
    va_start(ap, name_fmt);
    fputc('@', f);
    vfprintf(f, name_fmt, ap);
    va_end(ap);
    for (int d = 0; d < c->ndim; d++) fprintf(f, " %lld", (long long)c->shape[d]);
    for (int64_t i = 0; i < c->numel; i++)
        fprintf(f, "%s%.9g", i % 8 ? " " : "\n", (double)c->data[i]);
    fputc('\n', f);
    return written(f, "fprint_fixture");
}

/* ---- a gradient and its central difference --------------------------------- */

int tensor_grad_pair_format(const TensorGradPair *p, double v, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%.*f", DECIMALS, v / pow(10, p->exp10));
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))   /* "-0.0000" */
        memmove(buf, buf + 1, strlen(buf));
    return len < 0 ? -1 : (int)strlen(buf);
}

/* The scale of the larger of the two and the width of the widest value. */
static void pair_format(TensorGradPair *p)
{
    double m = fmax(tensor_max_abs_diff(p->autograd, NULL), tensor_max_abs_diff(p->numeric, NULL));
    int e = m > 0 && isfinite(m) ? (int)floor(log10(m)) : 0;
    p->exp10 = e >= -1 && e <= 1 ? 0 : e;
    p->width = 0;
    char s[64];
    for (int64_t i = 0; i < p->autograd->numel; i++) {
        int a = tensor_grad_pair_format(p, p->autograd->data[i], s, sizeof s);
        int b = tensor_grad_pair_format(p, p->numeric->data[i], s, sizeof s);
        p->width = a > p->width ? a : p->width;
        p->width = b > p->width ? b : p->width;
    }
}

int tensor_grad_pair(const Tensor *autograd, const Tensor *numeric, TensorGradPair *p)
{
    if (!p) return tensor_set_error("grad_pair: result is NULL"), -1;
    *p = (TensorGradPair){0};
    p->autograd = tensor_as_rows(autograd);
    p->numeric = tensor_as_rows(numeric);
    if (!p->autograd || !p->numeric) return -1;
    if (!tensor_same_shape(p->autograd, p->numeric)) {
        tensor_set_error("grad_pair: autograd %s and numeric %s are not rows of one shape",
                         tensor_shape_str(autograd), tensor_shape_str(numeric));
        return -1;
    }
    pair_format(p);
    double unit = pow(10, p->exp10 - DECIMALS);
    char x[64], y[64];
    p->same_digits = p->agree = true;
    for (int64_t i = 0; i < p->numeric->numel; i++) {
        double a = p->autograd->data[i], b = p->numeric->data[i];
        tensor_grad_pair_format(p, a, x, sizeof x);
        tensor_grad_pair_format(p, b, y, sizeof y);
        p->same_digits = p->same_digits && strcmp(x, y) == 0;
        p->agree = p->agree && fabs(a - b) <= unit;
    }
    p->diff = tensor_max_abs_diff(p->autograd, p->numeric);
    return 0;
}

const char *tensor_grad_pair_verdict(const TensorGradPair *p)
{
    return !p->agree        ? "DISAGREE"
           : p->same_digits ? "agree: the same digits"
                            : "agree within the last printed digit";
}

/* Columns [c0, c1) of row r of a 2-d t: "[ 1.0667  1.3989 ]". */
static void format_row(const TensorGradPair *p, const Tensor *t, int64_t r, int64_t c0,
                       int64_t c1, char *out)
{
    char s[64];
    int len = snprintf(out, ROW_CHARS, "[");
    for (int64_t c = c0; c < c1 && len < ROW_CHARS; c++) {
        tensor_grad_pair_format(p, t->data[r * t->shape[1] + c], s, sizeof s);
        len += snprintf(out + len, (size_t)(ROW_CHARS - len), " %*s", p->width, s);
    }
    if (len < ROW_CHARS) snprintf(out + len, (size_t)(ROW_CHARS - len), " ]");
}

/* Columns [c0, c1) of both, side by side when that fits in 80 columns. */
static void fprint_columns(FILE *f, const TensorGradPair *p, int64_t c0, int64_t c1)
{
    const Tensor *a = p->autograd, *n = p->numeric;
    char left[ROW_CHARS], right[ROW_CHARS], scale[32] = "", head[48];
    if (p->exp10) snprintf(scale, sizeof scale, ", x 1e%d", p->exp10);
    snprintf(head, sizeof head, "autograd%s", scale);
    format_row(p, a, 0, c0, c1, left);
    int w = (int)fmax((double)strlen(left), (double)strlen(head));
    bool side = 4 + 2 * w + 4 <= PAGE_COLUMNS;
    for (int pass = 0; pass < (side ? 1 : 2); pass++) {
        if (side) fprintf(f, "    %-*s    numeric%s\n", w, head, scale);
        else fprintf(f, "    %s%s\n", pass ? "numeric" : "autograd", scale);
        for (int64_t r = 0; r < a->shape[0]; r++) {
            format_row(p, pass ? n : a, r, c0, c1, left);
            format_row(p, n, r, c0, c1, right);
            if (side) fprintf(f, "    %-*s    %s\n", w, left, right);
            else fprintf(f, "    %s\n", left);
        }
    }
}

int tensor_fprint_grad_pair(FILE *f, const TensorGradPair *p)
{
    if (!f || !p) return tensor_set_error("fprint_grad_pair: FILE or pair is NULL"), -1;
    if (!TENSOR__USABLE(p->autograd) || !TENSOR__USABLE(p->numeric)) {
        if (!tensor_error()[0]) tensor_set_error("fprint_grad_pair: the pair is empty");
        return -1;
    }
    int64_t cols = p->autograd->shape[1];
    if (cols <= CHUNK) {
        fprint_columns(f, p, 0, cols);
        return written(f, "fprint_grad_pair");
    }
    for (int64_t c0 = 0; c0 < cols; c0 += CHUNK) {
        int64_t c1 = c0 + CHUNK < cols ? c0 + CHUNK : cols;
        fprintf(f, "    columns %lld to %lld:\n", (long long)c0, (long long)c1 - 1);
        fprint_columns(f, p, c0, c1);
    }
    return written(f, "fprint_grad_pair");
}
