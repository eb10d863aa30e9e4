/* Gradient printing for the walk-through programs: see walk.h. */
#include "walk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int walk_flag(const char *prog, int argc, char **argv, int *i, WalkFlags *f)
{
    const char *a = argv[*i];
    if (strcmp(a, "--seed") == 0) return cli_u64_flag(prog, argc, argv, i, &f->seed) ? 1 : -1;
    if (strcmp(a, "--summary") == 0) f->summary = true;
    else if (strcmp(a, "--dump") == 0) f->dump = true;
    else return 0;
    return 1;
}

enum { DECIMALS = 4, ROW_CHARS = 256, CHUNK = 8 };

double walk_max_abs_diff(const Tensor *a, const Tensor *b)
{
    double m = 0;
    for (int64_t i = 0; i < a->numel; i++)
        m = fmax(m, fabs((double)a->data[i] - (b ? b->data[i] : 0.0f)));
    return m;
}

double walk_norm(const Tensor *t)
{
    double s = 0;
    for (int64_t i = 0; i < t->numel; i++) s += (double)t->data[i] * t->data[i];
    return sqrt(s);
}

void walk_show(const Tensor *t)
{
    char *text = tensor_format(t);
    if (!text) return;
    for (char *line = text, *end; line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        printf("%s%.*s\n", n ? "    " : "", n, line);     /* no trailing blanks */
    }
    free(text);
}

typedef struct {
    int exp10;                 /* values are shown as v / 10^exp10 */
    int width;                 /* of the widest value */
} GradFormat;

static void format_value(const GradFormat *f, double v, char *out, size_t n)
{
    snprintf(out, n, "%.*f", DECIMALS, v / pow(10, f->exp10));
    if (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1))   /* "-0.0000" */
        memmove(out, out + 1, strlen(out));
}

static GradFormat grad_format(const Tensor *a, const Tensor *b)
{
    double m = fmax(walk_max_abs_diff(a, NULL), walk_max_abs_diff(b, NULL));
    int e = m > 0 ? (int)floor(log10(m)) : 0;
    GradFormat f = {e >= -1 && e <= 1 ? 0 : e, 0};
    char s[64];
    for (int64_t i = 0; i < a->numel; i++) {
        format_value(&f, a->data[i], s, sizeof s);
        f.width = (int)fmax(f.width, (double)strlen(s));
        format_value(&f, b->data[i], s, sizeof s);
        f.width = (int)fmax(f.width, (double)strlen(s));
    }
    return f;
}

/* Columns [c0, c1) of row r of a 2-d t: "[ 1.0667  1.3989 ]". */
static void format_row(const GradFormat *f, const Tensor *t, int64_t r, int64_t c0, int64_t c1,
                       char *out)
{
    char s[64];
    int len = snprintf(out, ROW_CHARS, "[");
    for (int64_t c = c0; c < c1; c++) {
        format_value(f, t->data[r * t->shape[1] + c], s, sizeof s);
        len += snprintf(out + len, (size_t)(ROW_CHARS - len), " %*s", f->width, s);
    }
    snprintf(out + len, (size_t)(ROW_CHARS - len), " ]");
}

Tensor *walk_rows(const Tensor *t)
{
    if (!t) return NULL;
    int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    return tensor_contiguous(tensor_reshape(t, 2, (int64_t[]){t->numel / cols, cols}));
}

int walk_check(const Tensor *autograd, Tensor *numeric, WalkCheck *c)
{
    c->autograd = walk_rows(autograd);
    c->numeric = numeric;
    if (!c->autograd || !numeric) return -1;
    GradFormat f = grad_format(c->autograd, numeric);
    double unit = pow(10, f.exp10 - DECIMALS);
    char x[64], y[64];
    c->same_digits = c->agree = true;
    for (int64_t i = 0; i < numeric->numel; i++) {
        format_value(&f, c->autograd->data[i], x, sizeof x);
        format_value(&f, numeric->data[i], y, sizeof y);
        c->same_digits = c->same_digits && strcmp(x, y) == 0;
        c->agree = c->agree && fabs((double)c->autograd->data[i] - numeric->data[i]) <= unit;
    }
    c->diff = walk_max_abs_diff(c->autograd, numeric);
    return 0;
}

const char *walk_verdict(const WalkCheck *c)
{
    return !c->agree        ? "DISAGREE"
           : c->same_digits ? "agree: the same digits"
                            : "agree within the last printed digit";
}

/* Columns [c0, c1) of both, side by side when that fits in 80 columns. */
static void show_columns(const GradFormat *f, const WalkCheck *c, int64_t c0, int64_t c1)
{
    const Tensor *a = c->autograd, *n = c->numeric;
    char left[ROW_CHARS], right[ROW_CHARS], scale[32] = "", head[48];
    if (f->exp10) snprintf(scale, sizeof scale, ", x 1e%d", f->exp10);
    snprintf(head, sizeof head, "autograd%s", scale);
    format_row(f, a, 0, c0, c1, left);
    int w = (int)fmax((double)strlen(left), (double)strlen(head));
    bool side = 4 + 2 * w + 4 <= 80;
    for (int pass = 0; pass < (side ? 1 : 2); pass++) {
        if (side) printf("    %-*s    numeric%s\n", w, head, scale);
        else printf("    %s%s\n", pass ? "numeric" : "autograd", scale);
        for (int64_t r = 0; r < a->shape[0]; r++) {
            format_row(f, pass ? n : a, r, c0, c1, left);
            format_row(f, n, r, c0, c1, right);
            if (side) printf("    %-*s    %s\n", w, left, right);
            else printf("    %s\n", left);
        }
    }
}

void walk_show_pair(const WalkCheck *c)
{
    GradFormat f = grad_format(c->autograd, c->numeric);
    int64_t cols = c->autograd->shape[1];
    if (cols <= CHUNK) {
        show_columns(&f, c, 0, cols);
        return;
    }
    for (int64_t c0 = 0; c0 < cols; c0 += CHUNK) {
        int64_t c1 = c0 + CHUNK < cols ? c0 + CHUNK : cols;
        printf("    columns %lld to %lld:\n", (long long)c0, (long long)c1 - 1);
        show_columns(&f, c, c0, c1);
    }
}

void walk_dump(const char *prefix, const char *name, const Tensor *t)
{
    Tensor *c = tensor_contiguous(t);
    if (!c) return;
    printf("@%s%s", prefix, name);
    for (int d = 0; d < c->ndim; d++) printf(" %lld", (long long)c->shape[d]);
    for (int64_t i = 0; i < c->numel; i++) printf("%s%.9g", i % 8 ? " " : "\n", (double)c->data[i]);
    printf("\n");
}
