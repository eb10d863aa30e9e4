/*
 * Gradient checking by central differences.
 *
 *   L(x) = sum_i out_i(x) * r_i           r: fixed weights in [0.5, 1.5)
 *   dL/dx_j (analytic)  = the gradient backward() accumulates, with r seeded as dL/dout
 *   dL/dx_j (numeric)   = (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)
 *
 * Weighting by r rather than summing keeps gradients that would cancel under
 * a plain sum (softmax rows sum to one) visible.  L is summed in double.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

static double weight(int64_t i)
{
    /* A fixed hash of i mapped to [0.5, 1.5): no generator state touched. */
    uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return 0.5 + (double)(z >> 11) * 0x1.0p-53;
}

static int weighted_sum(TensorFn fn, void *ctx, Tensor *const *inputs, double *out)
{
    Tensor *y = fn(inputs, ctx);
    if (!y) return -1;
    TensorIter it;
    tensor__iter_init(&it, y->ndim, y->shape, 1, (const int64_t *[]){y->stride}, NULL);
    double s = 0;
    for (int64_t i = 0; i < y->numel; i++, tensor__iter_next(&it))
        s += (double)y->data[it.off[0]] * weight(i);
    *out = s;
    return 0;
}

/* Storage offset of the k-th element (row-major) of t. */
static int64_t kth_element_offset(const Tensor *t, int64_t k)
{
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        off += (k % t->shape[d]) * t->stride[d];
        k /= t->shape[d];
    }
    return off;
}

/* "[2,1]": the coordinates of row-major element k of t. */
static void format_coords(const Tensor *t, int64_t k, char *out, size_t cap)
{
    int64_t idx[TENSOR_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = t->shape[d] ? k % t->shape[d] : 0;
        k = t->shape[d] ? k / t->shape[d] : 0;
    }
    size_t n = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < t->ndim && n < cap; d++)
        n += (size_t)snprintf(out + n, cap - n, d ? ",%lld" : "%lld", (long long)idx[d]);
    if (n < cap) snprintf(out + n, cap - n, "]");
}

/* True, with a message, when no element of an input requires grad: a check
 * of nothing must not report that all gradients agree. */
static bool nothing_to_check(int n, Tensor *const *inputs)
{
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (inputs[i]->requires_grad && inputs[i]->numel > 0) return false;
        any |= inputs[i]->requires_grad;
    }
    if (any)
        tensor_set_error("gradcheck: the inputs that require grad have no elements; nothing to "
                      "check");
    else
        tensor_set_error("gradcheck: no input requires grad; nothing to check");
    return true;
}

/* A parameter's full dotted name ("trf_blocks.11.att.W_key.weight") fits
 * with room to spare; the shapes and numbers after it still fit the report. */
enum { NAME_MAX_SHOWN = 200 };

/* One line a learner can act on, the verdict first: which input (by name
 * when it has one), which element, both derivatives, and how far apart
 * against how far allowed:
 *   MISMATCH at input 1 "W_query" (3,2) element [2,1]: analytic 0.5213,
 *   numeric 0.4209, |difference| 0.1, allowed 0.0052 (atol 0.001 + rtol 0.01 * |numeric|) */
static void write_report(TensorGradcheckResult *r, Tensor *const *inputs, double atol,
                         double rtol)
{
    const Tensor *x = inputs[r->input];
    char coords[8 * 24], name[NAME_MAX_SHOWN + 8] = "";
    format_coords(x, r->index, coords, sizeof coords);
    if (x->name && strlen(x->name) <= NAME_MAX_SHOWN)
        snprintf(name, sizeof name, " \"%s\"", x->name);
    else if (x->name)
        snprintf(name, sizeof name, " \"%.*s...\"", NAME_MAX_SHOWN - 3, x->name);
    int n = snprintf(r->report, sizeof r->report,
                     "%s at input %d%s %s element %s: analytic %.6g, numeric %.6g, "
                     "|difference| %.2g, allowed %.2g (atol %g + rtol %g * |numeric|)",
                     r->error > 0 ? "MISMATCH" : "ok, worst", r->input, name,
                     tensor_shape_str(x), coords, r->analytic, r->numeric,
                     fabs(r->analytic - r->numeric), atol + rtol * fabs(r->numeric), atol, rtol);
    if (n >= (int)sizeof r->report) memcpy(r->report + sizeof r->report - 4, "...", 4);
}

int tensor_gradcheck(TensorFn fn, void *ctx, int n, Tensor *const *inputs, double eps,
                     double atol, double rtol, TensorGradcheckResult *result)
{
    TensorGradcheckResult local;
    TensorGradcheckResult *r = result ? result : &local;
    memset(r, 0, sizeof *r);
    r->input = -1;
    r->error = -INFINITY;
    if (!fn || !inputs || n <= 0) return tensor_set_error("gradcheck: no function or inputs"), -1;
    for (int i = 0; i < n; i++) {
        if (!inputs[i]) return tensor_set_error("gradcheck: input %d is NULL", i), -1;
        if (inputs[i]->grad_fn)
            return tensor_set_error("gradcheck: input %d %s is not a leaf", i,
                                 tensor_shape_str(inputs[i])), -1;
        tensor_zero_grad(inputs[i]);
    }
    if (!(eps > 0) || !isfinite(eps))
        return tensor_set_error("gradcheck: eps must be positive and finite, got %g", eps), -1;
    /* An infinite or NaN tolerance would pass every element unchecked. */
    if (!(atol >= 0) || !isfinite(atol) || !(rtol >= 0) || !isfinite(rtol))
        return tensor_set_error("gradcheck: atol and rtol must be finite and >= 0, got atol %g, "
                             "rtol %g", atol, rtol), -1;
    if (nothing_to_check(n, inputs)) return -1;

    TensorScope *scope = tensor_scope_begin();
    Tensor *y = fn(inputs, ctx);
    if (!y) {
        tensor_scope_end(scope);
        return -1;
    }
    if (!y->requires_grad) {
        tensor_scope_end(scope);
        return tensor_set_error("gradcheck: output %s does not depend on an input that requires "
                             "grad", tensor_shape_str(y)), -1;
    }
    Tensor *seed = tensor__alloc(y->ndim, y->shape);
    for (int64_t i = 0; i < seed->numel; i++) seed->data[i] = (float)weight(i);
    int rc = tensor_backward(y, seed);
    tensor_scope_end(scope);
    if (rc) return -1;

    for (int i = 0; i < n; i++) {
        Tensor *x = inputs[i];
        if (!x->requires_grad) continue;
        for (int64_t k = 0; k < x->numel; k++) {
            float *p = &x->data[kth_element_offset(x, k)];
            float saved = *p;
            double plus, minus;
            scope = tensor_scope_begin();
            tensor_no_grad_begin();
            *p = (float)(saved + eps);
            int bad = weighted_sum(fn, ctx, inputs, &plus);
            *p = (float)(saved - eps);
            bad |= weighted_sum(fn, ctx, inputs, &minus);
            /* The step actually taken, after rounding to float. */
            double h = (double)(float)(saved + eps) - (double)(float)(saved - eps);
            *p = saved;
            tensor_no_grad_end();
            tensor_scope_end(scope);
            if (bad) return -1;
            double numeric = (plus - minus) / h;
            double analytic = x->grad ? x->grad->data[k] : 0.0;
            double err = fabs(analytic - numeric) - atol - rtol * fabs(numeric);
            if (isnan(err)) err = INFINITY;   /* a NaN, or inf - inf: a failure */
            if (err > r->error) {
                r->error = err;
                r->input = i;
                r->index = k;
                r->analytic = analytic;
                r->numeric = numeric;
            }
        }
    }
    write_report(r, inputs, atol, rtol);
    return r->error <= 0;
}
