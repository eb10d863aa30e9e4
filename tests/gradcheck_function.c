/*
 * Gradcheck rows for tensor/ops/function.c (see tests/gradcheck.h): ops
 * written as tensor_function_apply with a backward of their own.  A softmax
 * by hand along a dim (the one docs/custom_function.md builds), on
 * contiguous, transposed and sliced inputs; and a two-input op,
 * a * b + a^3, whose backward must give both gradients,
 * also with the second input not requiring grad (its gradient unused).
 *
 * Both are smooth with third derivatives of order 1 on [-1, 1): truncation
 * error eps^2 / 6 < 2e-5, inside the default atol 1e-3 + rtol 1e-2.
 */
#include "gradcheck.h"

/* y = softmax(x) along ctx->ints[0], saving y. */
static Tensor *softmax_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    int dim = *(const int *)arg;
    Tensor *m = tensor_amax(in[0], 1, (const int64_t[]){dim}, true);
    Tensor *e = tensor_exp(tensor_sub(in[0], m));
    Tensor *y = tensor_div(e, tensor_sum_dim(e, dim, true));
    ctx->ints[0] = dim;
    return tensor_save_for_backward(ctx, y) == 0 ? y : NULL;
}

/* dx = y * (dy - sum(dy * y, dim)) */
static void softmax_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    const Tensor *y = ctx->saved[0];
    int dim = (int)ctx->ints[0];
    dx[0] = tensor_mul(y, tensor_sub(dy, tensor_sum_dim(tensor_mul(dy, y), dim, true)));
}

static const TensorFunction hand_softmax = {"HandSoftmax", softmax_forward, softmax_backward};

/* y = a * b + a^3; saves a and b. */
static Tensor *mul_cube_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)arg;
    tensor_save_for_backward(ctx, in[0]);
    tensor_save_for_backward(ctx, in[1]);
    return tensor_add(tensor_mul(in[0], in[1]), tensor_pow(in[0], 3));
}

/* da = dy * (b + 3 a^2), db = dy * a (only when needed) */
static void mul_cube_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    const Tensor *a = ctx->saved[0], *b = ctx->saved[1];
    if (ctx->needs_input_grad[0])
        dx[0] = tensor_mul(dy, tensor_add(b, tensor_mul_scalar(tensor_mul(a, a), 3)));
    if (ctx->needs_input_grad[1]) dx[1] = tensor_mul(dy, a);
}

static const TensorFunction mul_cube = {"MulCube", mul_cube_forward, mul_cube_backward};

static Tensor *f_softmax_last(Tensor *const *x, void *ctx)
{
    (void)ctx;
    return tensor_function_apply(&hand_softmax, 1, x, &(int){-1});
}

static Tensor *f_softmax_dim0(Tensor *const *x, void *ctx)
{
    (void)ctx;
    return tensor_function_apply(&hand_softmax, 1, x, &(int){0});
}

static Tensor *f_mul_cube(Tensor *const *x, void *ctx)
{
    (void)ctx;
    return tensor_function_apply(&mul_cube, 2, x, NULL);
}

#define ROW(name_, n_, fn_, ...) \
    {.name = name_, .op = OP_FUNCTION, .n = n_, .shapes = {__VA_ARGS__}, .fn = fn_}

const GradcheckRow gradcheck_function[] = {
    ROW("HandSoftmax dim -1 (3,5)", 1, f_softmax_last, "3,5"),
    ROW("HandSoftmax dim 0 (4,3)T", 1, f_softmax_dim0, "4,3T"),
    ROW("HandSoftmax dim -1 (2,3,4)S", 1, f_softmax_last, "2,3,4S"),
    ROW("MulCube (3,4) (3,4)T", 2, f_mul_cube, "3,4", "3,4T"),
    {.name = "MulCube, b without grad (2,3) (2,3)S", .op = OP_FUNCTION, .n = 2,
     .shapes = {"2,3", "2,3S"}, .fn = f_mul_cube, .no_grad = {false, true}},
    {0},
};
