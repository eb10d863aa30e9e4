/*
 * The backward page's data (see plot.h, plot_backward_page): the trace as
 * one JSON object that the page's script reads.  Every number is a string
 * formatted here from the run's float32 values, as the walk-throughs print
 * them (tensor_grad_pair_format: 4 decimals after a power-of-ten scale that
 * a block of numbers shares, "scale": -3 meaning "x 1e-3"), so the page
 * shows the digits a program prints and its script computes nothing.
 *
 *   {"title", "intro", "loss", "limits": {...},
 *    "tensors": [{"name", "shape", "rows", "cols", "prow", "op", "kind", "inputs",
 *                 "step", "forward", "backward", "words", "note": {"formula", "why"},
 *                 "value": {"scale", "v": [...]}, "value_norm",
 *                 "grad": {"scale", "a": [...], "n": [...], "agree", "verdict", "diff",
 *                          "how"}, "grad_norm", "no_numeric", "whole",
 *                 "softmax": {...}}],
 *    "steps": [{"t", "sent": [{"to", "acc", "scale", "before", "sent", "after",
 *                              "before_norm", "after_norm"}]}]}
 * A tensor not shown whole has "value": null and "grad": null (norms only).
 */
#include "plot/plot_internal.h"

#include <math.h>
#include <string.h>

/* ---- JSON text ---------------------------------------------------------------- */

void plot__put_json(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t n = plot__utf8_length(u + i, len - i);
            if (n) fwrite(u + i, 1, n, f);
            else fputc('?', f);
            i += n ? n : 1;
            continue;
        }
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else fputc(c, f);
        i++;
    }
    fputc('"', f);
}

/* A norm, to 4 significant digits (trailing zeros kept), or null. */
static void put_norm(FILE *f, double v)
{
    if (isnan(v)) {
        fputs("null", f);
        return;
    }
    char s[32];
    snprintf(s, sizeof s, "%#.4g", v);
    plot__put_json(f, s);
}

/* The values of rows (a TensorGradPair's) as p formats them: ["0.1234", ...]. */
static void put_list(FILE *f, const TensorGradPair *p, const Tensor *rows)
{
    char s[64];
    fputc('[', f);
    for (int64_t i = 0; i < rows->numel; i++) {
        tensor_grad_pair_format(p, rows->data[i], s, sizeof s);
        fprintf(f, "%s\"%s\"", i ? "," : "", s);
    }
    fputc(']', f);
}

/* {"scale": e, "v": [...]}: t with a scale of its own; null when t is NULL. */
static void put_block(FILE *f, const Tensor *t)
{
    TensorGradPair p;
    if (!t || tensor_grad_pair(t, t, &p) != 0) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"scale\":%d,\"v\":", p.exp10);
    put_list(f, &p, p.autograd);
    fputc('}', f);
}

/* ---- one tensor ------------------------------------------------------------------ */

/* The page judges an estimate of its own (float32, tensor_numeric_grad)
 * against autograd within 1e-3 of the larger's largest element plus 1e-4 of
 * the loss (float32's rounding of the loss, divided by the step): measured
 * errors on the walk-throughs stay below a tenth of that (tests/test_trace.c),
 * and a wrong formula is off by far more.  An estimate of the caller's is
 * judged as the walk-throughs judge it: within one unit of the last digit. */
static void put_grad(FILE *f, const TensorTraceTensor *t, const PlotPageTensor *pt, double loss)
{
    const Tensor *g = t->grad;
    const Tensor *n = pt->numeric ? tensor_reshape(pt->numeric, g->ndim, g->shape) : NULL;
    TensorGradPair p;
    if (tensor_grad_pair(g, n ? n : g, &p) != 0) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"scale\":%d,\"a\":", p.exp10);
    put_list(f, &p, p.autograd);
    if (!n) {
        fputs(",\"n\":null}", f);
        return;
    }
    fputs(",\"n\":", f);
    put_list(f, &p, p.numeric);
    char diff[32], verdict[300];
    snprintf(diff, sizeof diff, "%.1e", p.diff);
    bool agree = p.agree;
    /* One unit of the last digit shown (the walk-throughs' rule), or float32's bound. */
    double allowed = pow(10, p.exp10 - 4);
    if (pt->yours) {
        snprintf(verdict, sizeof verdict, "%s", tensor_grad_pair_verdict(&p));
    } else {
        double big = fmax(tensor_max_abs_diff(p.autograd, NULL), tensor_max_abs_diff(p.numeric, NULL));
        allowed = 1e-3 * big + 1e-4 * fmax(1.0, fabs(loss));
        agree = p.diff <= allowed;
        snprintf(verdict, sizeof verdict, "%s within float32's error (allowed %.1e: 1e-3 of the "
                 "largest plus 1e-4 of the loss)%s", agree ? "agree" : "DISAGREE", allowed,
                 agree ? "" : "; a central difference is wrong where a kink lies within its "
                              "step (a ReLU's input near 0): look at the marked cells");
    }
    fprintf(f, ",\"agree\":%s,\"diff\":\"%s\",\"verdict\":", agree ? "true" : "false", diff);
    plot__put_json(f, verdict);
    fputs(",\"bad\":[", f);
    for (int64_t i = 0, n = 0; i < p.autograd->numel; i++)
        if (fabs((double)p.autograd->data[i] - p.numeric->data[i]) > allowed)
            fprintf(f, "%s%lld", n++ ? "," : "", (long long)i);
    fputc(']', f);
    fputs(",\"how\":", f);
    plot__put_json(f, pt->yours ? (pt->note->numeric_how ? pt->note->numeric_how : "your estimate")
                                : "tensor_numeric_grad: central differences of the forward run "
                                  "again in float32, each element moved by 2e-2 and 1e-2 "
                                  "(Richardson)");
    fputc('}', f);
}

static bool is_softmax(const TensorTraceTensor *t)
{
    return t->op && strcmp(t->op, "SoftmaxBackward0") == 0;
}

/* A softmax's rows explained (the weights w and their gradient dw are the
 * tensor's own): s = rowsum(dw * w); dw - s; w * (dw - s), beside what the
 * engine sent to the softmax's input at its step ("ds"); the places where
 * w is exactly 0 (masked); and for rows of at most 8, the row's Jacobian
 * J[j][k] = w_j (delta_jk - w_k), all computed in double from the run's
 * floats. */
static void put_softmax(FILE *f, const TensorTrace *tr, const TensorTraceTensor *t)
{
    const TensorTraceStep *st = t->step >= 0 ? &tr->steps[t->step] : NULL;
    const TensorTraceSent *d = st && st->n_sent ? &st->sent[0] : NULL;
    if (!t->value || !t->grad || !d || !d->after) {
        fputs("null", f);
        return;
    }
    Tensor *w = tensor_as_rows(t->value), *dw = tensor_as_rows(t->grad);
    Tensor *after = tensor_as_rows(d->after), *before = d->before ? tensor_as_rows(d->before) : NULL;
    if (!w || !dw || !after || (d->before && !before) || after->numel != w->numel) {
        fputs("null", f);
        return;
    }
    int64_t rows = w->shape[0], cols = w->shape[1];
    Tensor *s = tensor_zeros(SHAPE(rows, 1)), *dms = tensor_zeros(SHAPE(rows, cols));
    Tensor *prod = tensor_zeros(SHAPE(rows, cols)), *ds = tensor_zeros(SHAPE(rows, cols));
    Tensor *jac = cols <= 8 ? tensor_zeros(SHAPE(rows * cols, cols)) : NULL;
    if (!s || !dms || !prod || !ds || (cols <= 8 && !jac)) {
        fputs("null", f);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *wr = w->data + r * cols, *gr = dw->data + r * cols;
        double sum = 0;
        for (int64_t j = 0; j < cols; j++) sum += (double)wr[j] * gr[j];
        s->data[r] = (float)sum;
        for (int64_t j = 0; j < cols; j++) {
            int64_t k = r * cols + j;
            dms->data[k] = (float)((double)gr[j] - sum);
            prod->data[k] = (float)((double)wr[j] * ((double)gr[j] - sum));
            ds->data[k] = (float)((double)after->data[k] - (before ? (double)before->data[k] : 0));
            for (int64_t c = 0; jac && c < cols; c++)
                jac->data[(r * cols + j) * cols + c] =
                    (float)((double)wr[j] * ((j == c) - (double)wr[c]));
        }
    }
    TensorGradPair g, pd;
    if (tensor_grad_pair(dw, dms, &g) != 0 || tensor_grad_pair(ds, prod, &pd) != 0) {
        fputs("null", f);
        return;
    }
    fprintf(f, "{\"gscale\":%d,\"s\":", g.exp10);
    put_list(f, &g, s);
    fputs(",\"dms\":", f);
    put_list(f, &g, g.numeric);
    fprintf(f, ",\"pscale\":%d,\"prod\":", pd.exp10);
    put_list(f, &pd, pd.numeric);
    fputs(",\"ds\":", f);
    put_list(f, &pd, pd.autograd);
    fputs(",\"zero\":[", f);
    for (int64_t k = 0, n = 0; k < w->numel; k++)
        if (w->data[k] == 0.0f) fprintf(f, "%s%lld", n++ ? "," : "", (long long)k);
    fputs("],\"jac\":", f);
    put_block(f, jac);
    fprintf(f, ",\"input\":%lld}", (long long)d->to);
}

static const char *kind(const TensorTraceTensor *t)
{
    return t->op ? "op" : t->parameter ? "parameter" : "input";
}

static void put_tensor(FILE *f, const TensorTrace *tr, int64_t id, const PlotPageTensor *pt,
                       double loss)
{
    const TensorTraceTensor *t = &tr->tensors[id];
    const Tensor *x = t->tensor;
    int64_t cols = x->ndim ? x->shape[x->ndim - 1] : 1;
    int64_t prow = x->ndim >= 2 ? x->shape[x->ndim - 2] : 1;
    fputs("{\"name\":", f);
    plot__put_json(f, t->name);
    fprintf(f, ",\"shape\":\"%s\",\"numel\":%lld,\"rows\":%lld,\"cols\":%lld,\"prow\":%lld",
            tensor_shape_str(x), (long long)x->numel, (long long)(cols ? x->numel / cols : 0),
            (long long)cols, (long long)prow);
    fputs(",\"op\":", f);
    plot__put_json(f, t->op);
    fprintf(f, ",\"kind\":\"%s\",\"inputs\":[", kind(t));
    for (int i = 0; i < t->n_inputs; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)t->inputs[i]);
    fprintf(f, "],\"step\":%lld,\"whole\":%s", (long long)t->step, pt->whole ? "true" : "false");
    fputs(",\"forward\":", f);
    plot__put_json(f, t->forward);
    fputs(",\"backward\":", f);
    plot__put_json(f, t->backward);
    fputs(",\"words\":", f);
    plot__put_json(f, t->words);
    fputs(",\"note\":", f);
    if (pt->note && (pt->note->formula || pt->note->why)) {
        fputs("{\"formula\":", f);
        plot__put_json(f, pt->note->formula);
        fputs(",\"why\":", f);
        plot__put_json(f, pt->note->why);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fputs(",\"value\":", f);
    put_block(f, pt->whole ? t->value : NULL);
    fputs(",\"value_norm\":", f);
    put_norm(f, t->value_norm);
    fputs(",\"grad\":", f);
    if (pt->whole && t->grad) put_grad(f, t, pt, loss);
    else fputs("null", f);
    fputs(",\"grad_norm\":", f);
    put_norm(f, t->grad_norm);
    fputs(",\"no_numeric\":", f);
    plot__put_json(f, pt->numeric ? NULL : pt->no_numeric);
    fputs(",\"softmax\":", f);
    if (pt->whole && is_softmax(t)) put_softmax(f, tr, t);
    else fputs("null", f);
    fputc('}', f);
}

/* ---- the steps ------------------------------------------------------------------- */

/* One input's part of a step: before, sent (after - before, in double) and
 * after, with one scale; arrays null when the tensor is not shown whole. */
static void put_sent(FILE *f, const TensorTraceSent *d, bool whole)
{
    fprintf(f, "{\"to\":%lld,\"acc\":%s", (long long)d->to, d->accumulated ? "true" : "false");
    fputs(",\"before_norm\":", f);
    put_norm(f, d->before_norm);
    fputs(",\"after_norm\":", f);
    put_norm(f, d->after_norm);
    TensorGradPair p;
    if (!whole || !d->after || (d->accumulated && !d->before) ||
        tensor_grad_pair(d->after, d->before ? d->before : d->after, &p) != 0) {
        fputs(",\"before\":null,\"sent\":null,\"after\":null}", f);
        return;
    }
    fprintf(f, ",\"scale\":%d,\"before\":", p.exp10);
    if (d->before) put_list(f, &p, p.numeric);
    else fputs("null", f);
    fputs(",\"sent\":[", f);
    char s[64];
    for (int64_t i = 0; i < p.autograd->numel; i++) {
        double was = d->before ? p.numeric->data[i] : 0;
        tensor_grad_pair_format(&p, (double)p.autograd->data[i] - was, s, sizeof s);
        fprintf(f, "%s\"%s\"", i ? "," : "", s);
    }
    fputs("],\"after\":", f);
    put_list(f, &p, p.autograd);
    fputc('}', f);
}

void plot__page_data(FILE *f, const TensorTrace *tr, const PlotPageTensor *pt,
                     const PlotPageOptions *o, double loss)
{
    fputs("{\"title\":", f);
    plot__put_json(f, o->title ? o->title : "The backward pass, step by step");
    fputs(",\"intro\":", f);
    plot__put_json(f, o->intro);
    char l[32];
    snprintf(l, sizeof l, "%.9g", loss);
    fputs(",\"loss\":", f);
    plot__put_json(f, l);
    fprintf(f, ",\"limits\":{\"tensors\":%d,\"whole\":%d,\"numbers\":%d,\"nudges\":%d}",
            PLOT_PAGE_MAX_TENSORS, PLOT_PAGE_WHOLE, PLOT_PAGE_MAX_NUMBERS, PLOT_PAGE_MAX_NUDGES);
    fputs(",\n\"tensors\":[", f);
    for (int64_t i = 0; i < tr->n_tensors; i++) {
        /* Each tensor's formatting copies in a scope of its own. */
        TensorScope *scope = tensor_scope_begin();
        fputs(i ? ",\n" : "\n", f);
        put_tensor(f, tr, i, &pt[i], loss);
        tensor_scope_end(scope);
    }
    fputs("],\n\"steps\":[", f);
    for (int64_t s = 0; s < tr->n_steps; s++) {
        TensorScope *scope = tensor_scope_begin();
        const TensorTraceStep *st = &tr->steps[s];
        fprintf(f, "%s{\"t\":%lld,\"sent\":[", s ? ",\n" : "\n", (long long)st->tensor);
        for (int i = 0; i < st->n_sent; i++) {
            if (i) fputc(',', f);
            put_sent(f, &st->sent[i], pt[st->sent[i].to].whole);
        }
        fputs("]}", f);
        tensor_scope_end(scope);
    }
    fputs("]}", f);
}
