/*
 * Printing tensors character for character as PyTorch 1.13 prints float32
 * tensors (torch/_tensor_str.py), so a reader can compare a program's output
 * with the book's:
 *
 *     tensor([[0.2996, 0.8053],
 *             [0.3061, 0.8210]], grad_fn=<MmBackward0>)
 *
 * PyTorch's rules, in the order they are applied here:
 *   - More than 1000 elements: summarize, showing the first and last 3
 *     entries of every dim longer than 6 ("..." in between).
 *   - One formatter for the whole tensor, chosen from the nonzero finite
 *     values that will be shown: int mode when all are whole ("2."),
 *     scientific when max/min > 1000, max > 1e8 or (not int mode) min < 1e-4,
 *     fixed "%.4f" otherwise; every value is right-aligned to the widest.
 *   - A row wraps when its elements (width + 2 each) would pass column 80.
 *   - Blocks of an n-d tensor are separated by n-2 blank lines.
 *   - Suffixes (size of an empty tensor, grad_fn or requires_grad) go on the
 *     last line when it stays within 80 columns, else on a line of their own.
 * Values are printed from their double conversion with C's correctly
 * rounded printf, which rounds exactly as Python's format() does.
 *
 * Token ids live in float tensors (whole numbers, exact up to 2^24);
 * tensor_format_ids prints one as PyTorch prints the int64 tensor it
 * stands for: each value as an integer ("15496", no point), right-aligned
 * to the widest shown value, zeros included, with the same wrapping and
 * summary; an empty one says dtype=torch.int64, as torch must there.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

enum {
    LINEWIDTH = 80,      /* PyTorch's default print options */
    THRESHOLD = 1000,
    EDGEITEMS = 3,
    MAX_PRECISION = 30,  /* keeps one formatted value within VALUE_CHARS: */
    VALUE_CHARS = 128,   /* fixed mode only shows |v| <= 1e8: "-100000000." + 30 digits */
    PREFIX_LEN = 7,      /* strlen("tensor(") */
};

static int print_precision = 4;

void tensor_set_print_precision(int digits)
{
    if (digits < 0 || digits > MAX_PRECISION) {
        tensor_set_error("set_print_precision: %d digits; between 0 and %d are supported", digits,
                      MAX_PRECISION);
        return;
    }
    print_precision = digits;
}

/* ---- the formatter ----------------------------------------------------------- */

typedef struct {
    bool int_mode, sci_mode;
    bool ids;            /* an int64 tensor's formatter: "%lld" of whole values */
    int width;           /* widest nonzero finite value (any value for ids), at least 1 */
} Formatter;

/* v as PyTorch's _Formatter.format writes it, without the padding. */
static int format_value(const Formatter *f, double v, char *out)
{
    int n;
    if (f->ids) n = snprintf(out, VALUE_CHARS, "%lld", (long long)v);   /* -0.0 is 0 */
    else if (isnan(v)) n = snprintf(out, VALUE_CHARS, "nan");   /* never "-nan" */
    else if (isinf(v)) n = snprintf(out, VALUE_CHARS, v > 0 ? "inf" : "-inf");
    else if (f->sci_mode) n = snprintf(out, VALUE_CHARS, "%.*e", print_precision, v);
    else if (f->int_mode) n = snprintf(out, VALUE_CHARS, "%.0f.", v);
    else n = snprintf(out, VALUE_CHARS, "%.*f", print_precision, v);
    TENSOR__ASSERT(n > 0 && n < VALUE_CHARS);
    return n;
}

typedef void (*Visit)(double v, void *ctx);

/* Calls visit on each element that will be shown (all, or the summary's). */
static void visit_shown(const Tensor *t, int dim, const float *p, bool summarize, Visit visit,
                        void *ctx)
{
    if (dim == t->ndim) {
        visit(*p, ctx);
        return;
    }
    int64_t n = t->shape[dim];
    bool cut = summarize && n > 2 * EDGEITEMS;
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == EDGEITEMS) i = n - EDGEITEMS;
        visit_shown(t, dim + 1, p + i * t->stride[dim], summarize, visit, ctx);
    }
}

typedef struct {
    int64_t count;       /* nonzero finite values seen */
    double min, max;     /* of their absolute values */
    bool int_mode;
} Range;

static void visit_range(double v, void *ctx)
{
    Range *r = ctx;
    if (v == 0 || !isfinite(v)) return;
    double a = fabs(v);
    r->min = r->count ? fmin(r->min, a) : a;
    r->max = r->count ? fmax(r->max, a) : a;
    r->count++;
    if (v != ceil(v)) r->int_mode = false;
}

static void visit_width(double v, void *ctx)
{
    Formatter *f = ctx;
    char s[VALUE_CHARS];
    if (!f->ids && (v == 0 || !isfinite(v))) return;
    int n = format_value(f, v, s);
    if (n > f->width) f->width = n;
}

static void formatter_init(Formatter *f, const Tensor *t, bool summarize, bool ids)
{
    if (ids) {
        *f = (Formatter){.ids = true, .width = 1};
        visit_shown(t, 0, t->data, summarize, visit_width, f);
        return;
    }
    Range r = {.int_mode = true};
    visit_shown(t, 0, t->data, summarize, visit_range, &r);
    f->int_mode = r.int_mode;
    f->sci_mode = false;
    f->ids = false;
    f->width = 1;
    if (!r.count) return;   /* only zeros, nan and inf: int mode, width 1 */
    f->sci_mode = r.max / r.min > 1000.0 || r.max > 1.0e8 || (!r.int_mode && r.min < 1.0e-4);
    visit_shown(t, 0, t->data, summarize, visit_width, f);
}

/* ---- the nested brackets -------------------------------------------------------- */

static void put_value(TensorText *b, const Formatter *f, double v)
{
    char s[VALUE_CHARS];
    int n = format_value(f, v, s);
    tensor__text_repeat(b, ' ', f->width - n);
    tensor__text_put(b, s, (size_t)n);
}

/* A 1-d row, "[a, b, c]", wrapped to fit the line width after indent. */
static void put_row(TensorText *b, const Formatter *f, const Tensor *t, const float *p, int indent,
                    bool summarize)
{
    int64_t n = t->shape[t->ndim - 1], stride = t->stride[t->ndim - 1];
    bool cut = summarize && n > 2 * EDGEITEMS;
    int64_t per_line = (LINEWIDTH - indent) / (f->width + 2);
    if (per_line < 1) per_line = 1;
    tensor__text_puts(b, "[");
    /* item k counts the " ..." of a summary as an element, as PyTorch does */
    for (int64_t i = 0, k = 0; i < n; i++, k++) {
        if (k > 0 && k % per_line == 0) {
            tensor__text_puts(b, ",\n");
            tensor__text_repeat(b, ' ', indent + 1);
        } else if (k > 0) {
            tensor__text_puts(b, ", ");
        }
        if (cut && i == EDGEITEMS) {
            tensor__text_puts(b, " ...");
            i = n - EDGEITEMS - 1;
            continue;
        }
        put_value(b, f, p[i * stride]);
    }
    tensor__text_puts(b, "]");
}

static void put_block_separator(TensorText *b, int dims_left, int indent)
{
    tensor__text_puts(b, ",");
    tensor__text_repeat(b, '\n', dims_left - 1);
    tensor__text_repeat(b, ' ', indent);
}

/* The sub-tensor of t from dim on, starting at p; indent is its column. */
static void put_tensor(TensorText *b, const Formatter *f, const Tensor *t, int dim, const float *p,
                       int indent, bool summarize)
{
    if (t->ndim == 0) {
        put_value(b, f, *p);
        return;
    }
    if (dim == t->ndim - 1) {
        put_row(b, f, t, p, indent, summarize);
        return;
    }
    int64_t n = t->shape[dim];
    bool cut = summarize && n > 2 * EDGEITEMS;
    tensor__text_puts(b, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i > 0) put_block_separator(b, t->ndim - dim, indent + 1);
        if (cut && i == EDGEITEMS) {
            tensor__text_puts(b, "...");
            put_block_separator(b, t->ndim - dim, indent + 1);
            i = n - EDGEITEMS;
        }
        put_tensor(b, f, t, dim + 1, p + i * t->stride[dim], indent + 1, summarize);
    }
    tensor__text_puts(b, "]");
}

/* ---- suffixes and the whole string ------------------------------------------------ */

/* Appends ", suffix" or ",\n       suffix" as _add_suffixes does; *last is
 * its running line length (which starts 2 above the true length, as there). */
static void put_suffix(TensorText *b, int64_t *last, const char *suffix)
{
    int64_t n = (int64_t)strlen(suffix);
    if (*last + n + 2 > LINEWIDTH) {
        tensor__text_puts(b, ",\n");
        tensor__text_repeat(b, ' ', PREFIX_LEN);
        *last = PREFIX_LEN + n;
    } else {
        tensor__text_puts(b, ", ");
        *last += n + 2;
    }
    tensor__text_puts(b, suffix);
}

static void put_suffixes(TensorText *b, const Tensor *t, bool ids)
{
    if (b->failed) return;
    const char *nl = strrchr(b->s, '\n');
    int64_t last = (int64_t)b->len - (nl ? nl - b->s : -1) + 1;
    char s[TENSOR_MAX_DIMS * 24 + 320];
    if (t->numel == 0 && t->ndim != 1) {   /* Python's tuple: "(0, 3)" */
        int len = snprintf(s, sizeof s, "size=(");
        for (int i = 0; i < t->ndim; i++)
            len += snprintf(s + len, sizeof s - (size_t)len, i ? ", %lld" : "%lld",
                            (long long)t->shape[i]);
        snprintf(s + len, sizeof s - (size_t)len, ")");
        put_suffix(b, &last, s);
    }
    if (ids) {   /* int64 tensors carry no gradient */
        if (t->numel == 0) put_suffix(b, &last, "dtype=torch.int64");
        return;
    }
    if (t->grad_fn) {
        snprintf(s, sizeof s, "grad_fn=<%.256s>", tensor_grad_fn_name(t));
        put_suffix(b, &last, s);
    } else if (t->requires_grad) {
        put_suffix(b, &last, "requires_grad=True");
    }
}

/* -1 with a message unless every element is a whole number an int64 holds. */
static int check_ids(const Tensor *t)
{
    TensorIter it;
    tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it)) {
        double v = t->data[it.off[0]];
        /* 2^63 is a float; the largest int64 is not, so the bound is exact */
        if (v == floor(v) && fabs(v) < 9223372036854775808.0) continue;
        tensor_set_error("print_ids: element %lld of %s is %.9g, not a whole number an int64 "
                         "holds", (long long)i, tensor_shape_str(t), v);
        return -1;
    }
    return 0;
}

static char *format(const Tensor *t, bool ids)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (ids && check_ids(t)) return NULL;
    TensorText b = {0};
    tensor__text_puts(&b, "tensor(");
    if (t->numel == 0) {
        tensor__text_puts(&b, "[]");
    } else {
        Formatter f;
        bool summarize = t->numel > THRESHOLD;
        formatter_init(&f, t, summarize, ids);
        put_tensor(&b, &f, t, 0, t->data, PREFIX_LEN, summarize);
    }
    put_suffixes(&b, t, ids);
    tensor__text_puts(&b, ")");
    if (b.failed) {
        free(b.s);
        return tensor_set_error("print: out of memory formatting a %s tensor",
                             tensor_shape_str(t));
    }
    return b.s;
}

char *tensor_format(const Tensor *t) { return format(t, false); }
char *tensor_format_ids(const Tensor *t) { return format(t, true); }

static int fprint(FILE *f, const Tensor *t, bool ids)
{
    if (!TENSOR__USABLE(t)) return -1;
    if (!f) {
        tensor_set_error("print: FILE is NULL");
        return -1;
    }
    char *s = format(t, ids);
    if (!s) return -1;
    int rc = fputs(s, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
    free(s);
    if (rc) tensor_set_error("print: write failed");
    return rc;
}

int tensor_fprint(FILE *f, const Tensor *t) { return fprint(f, t, false); }
int tensor_print(const Tensor *t) { return fprint(stdout, t, false); }
int tensor_fprint_ids(FILE *f, const Tensor *t) { return fprint(f, t, true); }
int tensor_print_ids(const Tensor *t) { return fprint(stdout, t, true); }
