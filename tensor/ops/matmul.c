/*
 * Matrix products: tensor_matmul (torch.matmul) and tensor_linear
 * (torch.nn.functional.linear), forward and backward.
 *
 * Every product here is a batch of 2-d products over broadcast batch dims
 * (ops/products.h).
 *
 * In an autocast region (core/autocast.c) the products take bf16 operands
 * (kernels/sgemm.h); the node records it (ival[0]) and the backward's
 * products do the same.
 */
#include "ops/products.h"

#include <string.h>

/* ---- matmul -------------------------------------------------------------- */

Tensor *tensor_matmul(const Tensor *a, const Tensor *b)
{
    if (!TENSOR__USABLE(a) || !TENSOR__USABLE(b)) return NULL;
    if (a->ndim == 0 || b->ndim == 0)
        return tensor_set_error("matmul: %s @ %s: both operands need at least 1 dim, got a 0-d one",
                             tensor_shape_str(a), tensor_shape_str(b));
    int64_t k = a->shape[a->ndim - 1], kb = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
    if (k != kb)
        return tensor_set_error("matmul: %s @ %s: inner sizes differ (%lld != %lld)",
                             tensor_shape_str(a), tensor_shape_str(b), (long long)k,
                             (long long)kb);
    Batch bt;
    if (tensor__broadcast_batch(a, b, &bt))
        return tensor_set_error("matmul: %s @ %s: batch dims do not broadcast",
                             tensor_shape_str(a), tensor_shape_str(b));
    int64_t m = tensor__rows_of(a), n = tensor__cols_of(b), shape[TENSOR_MAX_DIMS];
    int nd = bt.nb;
    memcpy(shape, bt.shape, sizeof shape);
    if (a->ndim > 1) shape[nd++] = m;
    if (b->ndim > 1) shape[nd++] = n;
    if (tensor__check_numel("matmul", nd, shape)) return NULL;
    Tensor *out = tensor__alloc_result("matmul", nd, shape);
    const Tensor *ar = out ? tensor__kernel_readable("matmul", a) : NULL;
    const Tensor *br = ar ? tensor__kernel_readable("matmul", b) : NULL;
    if (!br) return NULL;
    bool bf16 = tensor_is_autocast_enabled();
    tensor__gemm_batched(bt, tensor__mat_of(ar, true, &bt), tensor__mat_of(br, false, &bt),
                 tensor__mat_dense(out->data, m, n, &bt), false, bf16, NULL);
    TensorNode *node = tensor__record(OP_MATMUL, out, 2, (const Tensor *[]){a, b});
    if (node) {
        node->ival[0] = bf16;
        /* The readable forms, so the backward need not copy again; nodes
         * never write through saved tensors. */
        node->saved[0] = (Tensor *)ar;
        node->saved[1] = (Tensor *)br;
        node->name = tensor__matmul_name(a, b);
    }
    return tensor__result(out);
}

/* forward: C = A @ B for every batch element (batch dims broadcast; a 1-d
 *          A is a row, a 1-d B a column)
 * backward: dA += dC @ B^T,  dB += A^T @ dC,  each summed over the batch
 *           dims where its operand was broadcast */
/* The gradient buffer a product of the backward fills for input `in`
 * (saved: its value, the left or right operand): its first gradient,
 * uninitialised and written by the product (*add false: beta 0, no memset
 * and no read of C, as torch's bmm writes it), when the product gives each
 * element one sum: a depth of at least 1, no empty batch dim, and none
 * broadcast over (those sum a product per batch element into one C,
 * which needs beta 1).
 * Otherwise the zeroed or existing buffer, added to. */
static Tensor *product_grad(Tensor *in, const Tensor *saved, bool left, const Batch *bt,
                            int64_t depth, bool *add)
{
    *add = true;
    if (!in || !in->requires_grad) return NULL;
    Mat m = tensor__mat_of(saved, left, bt);
    bool once = depth > 0;
    for (int i = 0; i < bt->nb; i++) once &= bt->shape[i] > 0 && (m.bs[i] != 0 || bt->shape[i] == 1);
    Tensor *first = once ? tensor__first_grad(in) : NULL;
    if (first) {
        *add = false;
        return first;
    }
    return tensor__grad_buffer(in);
}

void tensor__matmul_backward(TensorNode *node, const Tensor *dc)
{
    const Tensor *a = node->saved[0], *b = node->saved[1];
    Batch bt;
    TENSOR__ASSERT(tensor__broadcast_batch(a, b, &bt) == 0);
    Mat g = tensor__mat_dense(tensor__contiguous_data(dc), tensor__rows_of(a), tensor__cols_of(b),
                              &bt);
    /* The products add straight into the inputs' gradients (contiguous,
     * of the inputs' shapes), with no temporary to add afterwards; a first
     * gradient is written instead (product_grad). */
    bool bf16 = node->ival[0], da_add, db_add;
    Tensor *da = product_grad(node->inputs[0], a, true, &bt, tensor__cols_of(b), &da_add);
    Tensor *db = product_grad(node->inputs[1], b, false, &bt, tensor__rows_of(a), &db_add);
    if (da) {
        Mat bT = tensor__mat_t(tensor__mat_of(b, false, &bt));
        tensor__gemm_batched(bt, g, bT, tensor__mat_of(da, true, &bt), da_add, bf16, NULL);
    }
    if (db) {
        Mat aT = tensor__mat_t(tensor__mat_of(a, true, &bt));
        tensor__gemm_batched(bt, aT, g, tensor__mat_of(db, false, &bt), db_add, bf16, NULL);
    }
}

/* ---- linear -------------------------------------------------------------- */

/* Rows of x up to which a bf16 product under no-grad reads a long-lived
 * weight from its packed copy (core/autocast.c): vdpbf16ps over the copy
 * against packing the float32 weight for the product, whose cost more rows
 * repay (measured: about even at 50 rows of the 124M model's products). */
enum { PANEL_ROWS = 32 };

/* The grad_fn torch 1.13's F.linear shows: addmm for 2-d input with bias,
 * a view of one addmm for contiguous 3-d input, else matmul then add_. */
static const char *linear_name(const Tensor *x, const Tensor *b)
{
    switch (x->ndim) {
    case 1: return b ? "AddBackward0" : "SqueezeBackward3";
    case 2: return b ? "AddmmBackward0" : "MmBackward0";
    case 3:
        if (!b) return "UnsafeViewBackward0";
        return tensor_is_contiguous(x) ? "ViewBackward0" : "AddBackward0";
    default: return b ? "AddBackward0" : "UnsafeViewBackward0";
    }
}

static Tensor *linear_check(const Tensor *x, const Tensor *w, const Tensor *b)
{
    if (x->ndim == 0)
        return tensor_set_error("linear: input %s is 0-d; it needs at least 1 dim",
                             tensor_shape_str(x));
    if (w->ndim != 2)
        return tensor_set_error("linear: weight %s must be 2-d (out, in)", tensor_shape_str(w));
    if (x->shape[x->ndim - 1] != w->shape[1])
        return tensor_set_error("linear: input %s, weight %s: in features differ (%lld != %lld)",
                             tensor_shape_str(x), tensor_shape_str(w),
                             (long long)x->shape[x->ndim - 1], (long long)w->shape[1]);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return tensor_set_error("linear: bias %s must be (%lld) for weight %s",
                             tensor_shape_str(b), (long long)w->shape[0], tensor_shape_str(w));
    return (Tensor *)x;
}

Tensor *tensor_linear(const Tensor *x, const Tensor *w, const Tensor *b)
{
    if (!TENSOR__USABLE(x) || !TENSOR__USABLE(w) || (b && !TENSOR__USABLE(b)) ||
        !linear_check(x, w, b))
        return NULL;
    int64_t shape[TENSOR_MAX_DIMS], nout = w->shape[0], rows = tensor__rows_of(x);
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = nout;
    if (tensor__check_numel("linear", x->ndim, shape)) return NULL;
    Tensor *out = tensor__alloc_result("linear", x->ndim, shape);
    const Tensor *xr = out ? tensor__kernel_readable("linear", x) : NULL;
    const Tensor *wr = xr ? tensor__kernel_readable("linear", w) : NULL;
    const float *bias = wr && b ? TENSOR__INPUT("linear", b) : NULL;
    if (!wr || (b && !bias)) return NULL;
    /* As torch's addmm: the bias is in C before the product is added. */
    if (b) {
        for (int64_t i = 0; i < out->numel; i += nout)
            memcpy(out->data + i, bias, (size_t)nout * sizeof(float));
    }
    Batch bt = {.nb = tensor__batch_dims(x)};
    memcpy(bt.shape, x->shape, (size_t)bt.nb * sizeof *bt.shape);
    bool bf16 = tensor_is_autocast_enabled();
    /* Generation's few rows a token read the weight packed once. */
    const SgemmPanels *panels = bf16 && !tensor_is_grad_enabled() &&
                                out->numel / nout <= PANEL_ROWS ? tensor__autocast_panels(w)
                                                                : NULL;
    Mat wT = tensor__mat_t(tensor__mat_of(wr, true, &bt));
    tensor__gemm_batched(bt, tensor__mat_of(xr, true, &bt), wT,
                         tensor__mat_dense(out->data, rows, nout, &bt), b != NULL, bf16, panels);
    TensorNode *node = tensor__record(OP_LINEAR, out, b ? 3 : 2, (const Tensor *[]){x, w, b});
    if (node) {
        node->ival[0] = bf16;
        node->saved[0] = (Tensor *)xr;
        node->saved[1] = (Tensor *)wr;
        node->name = linear_name(x, b);
    }
    return tensor__result(out);
}

/* forward: y = x @ w^T + b   (x: (..., in), w: (out, in), b: (out))
 * backward: dx += dy @ w,  dw += dy^T @ x summed over x's leading dims,
 *           db += dy summed over all but the last dim */
void tensor__linear_backward(TensorNode *node, const Tensor *dy)
{
    const Tensor *x = node->saved[0], *w = node->saved[1];
    int64_t nout = w->shape[0];
    Batch bt = {.nb = tensor__batch_dims(x)};
    memcpy(bt.shape, x->shape, (size_t)bt.nb * sizeof *bt.shape);
    const float *dyd = tensor__contiguous_data(dy);
    Mat g = tensor__mat_dense(dyd, tensor__rows_of(x), nout, &bt);
    /* Straight into the inputs' gradients, as in matmul_backward.  x's
     * first gradient is written, not added to zeros (no memset, no read of
     * C), as torch's mm writes it: a -0 stays -0. */
    Tensor *in = node->inputs[0];
    Tensor *dx = tensor__first_grad(in);
    bool dx_first = dx != NULL;
    if (!dx) dx = tensor__grad_buffer(in);
    Tensor *dw = tensor__grad_buffer(node->inputs[1]);
    bool bf16 = node->ival[0];
    if (dx) {
        Mat wm = tensor__mat_of(w, true, &bt);
        tensor__gemm_batched(bt, g, wm, tensor__mat_of(dx, true, &bt), !dx_first, bf16, NULL);
    }
    if (dw) {
        Mat xm = tensor__mat_of(x, true, &bt);
        tensor__gemm_batched(bt, tensor__mat_t(g), xm, tensor__mat_of(dw, true, &bt), true, bf16,
                             NULL);
    }
    Tensor *db = node->n_inputs == 3 ? tensor__grad_buffer(node->inputs[2]) : NULL;
    if (db) {
        /* summed in a float per element first, in row order, as before */
        float *sum = tensor__scratch((size_t)nout * sizeof *sum);
        memset(sum, 0, (size_t)nout * sizeof *sum);
        for (int64_t i = 0; i < dy->numel; i += nout)
            for (int64_t j = 0; j < nout; j++) sum[j] += dyd[i + j];
        for (int64_t j = 0; j < nout; j++) db->data[j] += sum[j];
    }
}
