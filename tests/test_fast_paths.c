/*
 * The fast paths taken for speed give what the plain ones give, bit for bit
 * where the plain path is the reference (no tolerance: the same float
 * operations in the same order must round the same way):
 *   - softmax runs blocks of rows through one exp call, and spreads large
 *     tensors over threads: every row equals that row alone, on 1 or 2
 *     threads, forward and backward, for row lengths around the vector
 *     width (8) and the block size (2048);
 *   - GELU and LayerNorm spread large tensors over threads: the same bits
 *     on 1 or 2 threads, forward and backward (LayerNorm's dw and db add
 *     the rows in order whatever the thread count);
 *   - accumulate_grad adds a strided gradient (a transpose's) a row at a
 *     time, and copies a tensor's first gradient instead of adding it to 0
 *     (a large one on the threads, as zero_grad clears it);
 *   - rand fills a state's worth of MT19937 words per loop: the same draws
 *     as one element at a time, across the 624-word regenerations;
 *   - Adam's loop is compiled with FMA where the CPU has it, and a large
 *     parameter is updated in chunks on the threads: the same bits as
 *     torch's update written out with fmaf, on 1 or 2 threads;
 *   - cross-entropy's backward runs its rows on the threads in chunks, the
 *     products off the target in float: the same bits as the formula in
 *     double over exp(log_softmax), on 1 or 2 threads;
 *   - matmul's backward writes a first gradient with its product rather
 *     than adding it to zeros: the bits of the products that define it;
 *   - softmax's backward takes its row dots eight lanes at a time (AVX):
 *     the bits of the lanes written out one float at a time;
 *   - mse_loss sums in eight double lanes (tolerance 1e-6 relative: the
 *     double partial sums differ from one running sum by far less than a
 *     float ulp, 6e-8, before the result is rounded to float).
 */
#include "testutil.h"

#include "kernels/kernels.h"

static const int64_t lengths[] = {1, 5, 6, 7, 8, 9, 64, 2047, 2048, 2049, 3000};

static bool same_bits(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* y = softmax or log_softmax of x along the last dim, and dx for the loss
 * sum(y * w); dx is written to *dx (x's grad, made fresh). */
static Tensor *softmax_and_grad(Tensor *x, const Tensor *w, bool log, Tensor **dx)
{
    Tensor *leaf = tensor_requires_grad_(tensor_detach(x), true);
    Tensor *y = log ? tensor_log_softmax(leaf, -1) : tensor_softmax(leaf, -1);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(y, w)), NULL), 0);
    *dx = leaf->grad;
    return y;
}

START_TEST(test_softmax_blocks_equal_rows)
{
    enum { R = 37 };
    int64_t n = lengths[_i];
    tensor_manual_seed(7);
    Tensor *x = tensor_mul_scalar(tensor_randn(SHAPE(R, n)), 4.0f);
    Tensor *w = tensor_randn(SHAPE(R, n));
    for (int log = 0; log < 2; log++) {
        Tensor *dx;
        Tensor *y = softmax_and_grad(x, w, log, &dx);
        for (int64_t r = 0; r < R; r++) {
            Tensor *x_r = tensor_contiguous(tensor_narrow(x, 0, r, 1));
            Tensor *w_r = tensor_contiguous(tensor_narrow(w, 0, r, 1));
            Tensor *dx_r;
            Tensor *y_r = softmax_and_grad(x_r, w_r, log, &dx_r);
            ck_assert_msg(same_bits(y->data + r * n, y_r->data, n),
                          "%s row %lld of (%d, %lld) differs from the row alone",
                          log ? "log_softmax" : "softmax", (long long)r, R, (long long)n);
            ck_assert_msg(same_bits(dx->data + r * n, dx_r->data, n),
                          "%s backward row %lld of (%d, %lld) differs from the row alone",
                          log ? "log_softmax" : "softmax", (long long)r, R, (long long)n);
        }
    }
}
END_TEST

/* 300 x 300 is above the size from which softmax uses several threads. */
START_TEST(test_softmax_threads_same_bits)
{
    tensor_manual_seed(8);
    Tensor *x = tensor_randn(SHAPE(300, 300));
    Tensor *w = tensor_randn(SHAPE(300, 300));
    for (int log = 0; log < 2; log++) {
        Tensor *dx1, *dx2;
        tensor_set_num_threads(1);
        Tensor *y1 = softmax_and_grad(x, w, log, &dx1);
        tensor_set_num_threads(2);
        Tensor *y2 = softmax_and_grad(x, w, log, &dx2);
        tensor_set_num_threads(0);
        ck_assert(same_bits(y1->data, y2->data, y1->numel));
        ck_assert(same_bits(dx1->data, dx2->data, dx1->numel));
    }
}
END_TEST

/* x, weight and bias gradients of sum(layer_norm(x, w, b) * g), or of
 * sum(gelu(x) * g) when w is NULL; out: the forward's output. */
static void gelu_or_norm(Tensor *x, Tensor *w, Tensor *b, const Tensor *g, bool gelu,
                         Tensor **out, Tensor *grads[3])
{
    Tensor *leaves[3] = {tensor_requires_grad_(tensor_detach(x), true),
                         w ? tensor_requires_grad_(tensor_detach(w), true) : NULL,
                         b ? tensor_requires_grad_(tensor_detach(b), true) : NULL};
    *out = gelu ? tensor_gelu(leaves[0]) : tensor_layer_norm(leaves[0], leaves[1], leaves[2], 1e-5);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(*out, g)), NULL), 0);
    for (int i = 0; i < 3; i++) grads[i] = leaves[i] ? leaves[i]->grad : NULL;
}

/* Shapes above the sizes from which GELU (2^19 elements) and LayerNorm
 * (2^20) spread over threads: rows shorter and longer than a LayerNorm
 * chunk (8192), with and without weight and bias. */
START_TEST(test_gelu_norm_threads_same_bits)
{
    const int64_t shapes[][2] = {{1100, 1000}, {120, 9000}};
    tensor_manual_seed(13);
    for (int s = 0; s < 2; s++) {
        int64_t rows = shapes[s][0], n = shapes[s][1];
        Tensor *x = tensor_mul_scalar(tensor_randn(SHAPE(rows, n)), 3.0f);
        Tensor *g = tensor_randn(SHAPE(rows, n));
        Tensor *w = tensor_randn(SHAPE(n)), *b = tensor_randn(SHAPE(n));
        for (int c = 0; c < 3; c++) {
            bool gelu = c == 2;
            Tensor *y[2], *grads[2][3];
            for (int t = 0; t < 2; t++) {
                tensor_set_num_threads(t + 1);
                gelu_or_norm(x, c == 0 ? w : NULL, c == 0 ? b : NULL, g, gelu, &y[t], grads[t]);
            }
            tensor_set_num_threads(0);
            ck_assert_msg(same_bits(y[0]->data, y[1]->data, y[0]->numel),
                          "%s (%lld, %lld): 1 and 2 threads differ", gelu ? "gelu" : "layer_norm",
                          (long long)rows, (long long)n);
            for (int i = 0; i < 3; i++)
                if (grads[0][i])
                    ck_assert_msg(same_bits(grads[0][i]->data, grads[1][i]->data,
                                            grads[0][i]->numel),
                                  "%s (%lld, %lld): gradient %d differs on 2 threads",
                                  gelu ? "gelu" : "layer_norm", (long long)rows, (long long)n, i);
        }
    }
}
END_TEST

/* x.grad of sum(op(x) * w) is w read back through op: exactly, since each
 * element of the gradient is one product by 1 (sum's backward) then a copy
 * or an add. */
START_TEST(test_strided_gradient_accumulates)
{
    tensor_manual_seed(9);
    Tensor *x = tensor_requires_grad_(tensor_randn(SHAPE(3, 4, 5)), true);
    Tensor *w = tensor_randn(SHAPE(5, 3, 4));
    Tensor *y = tensor_permute(x, IDX(2, 0, 1));                  /* (5, 3, 4), strided */
    ck_assert_int_eq(tensor_backward_retain(tensor_sum(tensor_mul(y, w)), NULL), 0);
    Tensor *want = tensor_contiguous(tensor_permute(w, IDX(1, 2, 0)));
    ck_assert(same_bits(x->grad->data, want->data, x->numel));    /* the first: a copy */
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(y, w)), NULL), 0);
    Tensor *twice = tensor_add(want, want);
    ck_assert(same_bits(x->grad->data, twice->data, x->numel));   /* then an add */
}
END_TEST

/* The first gradient is taken as it is (torch's AccumulateGrad): a -0 stays. */
START_TEST(test_first_gradient_is_copied)
{
    Tensor *x = tensor_requires_grad_(tensor_zeros(SHAPE(2)), true);
    Tensor *g = tensor_from_data((const float[]){-0.0f, 1.0f}, SHAPE(2));
    ck_assert_int_eq(tensor_backward(tensor_mul_scalar(x, 1.0f), g), 0);
    ck_assert(signbit(x->grad->data[0]));
    ck_assert_float_eq(x->grad->data[1], 1.0f);
}
END_TEST

/* Large gradients are zeroed and copied on the threads in chunks of 1 MB:
 * a first gradient of 1M + 12345 floats (a partial last chunk) arrives
 * whole, and zero_grad clears every element, on 1 or 2 threads. */
START_TEST(test_large_gradient_copied_and_zeroed)
{
    enum { N = (1 << 20) + 12345 };
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        TensorScope *s = tensor_scope_begin();
        Tensor *x = tensor_requires_grad_(tensor_zeros(SHAPE(N)), true);
        Tensor *g = tensor_empty(SHAPE(N));
        for (int64_t i = 0; i < N; i++) g->data[i] = (float)(i % 1000) - 499.5f;
        ck_assert_int_eq(tensor_backward(tensor_mul_scalar(x, 1.0f), g), 0);
        ck_assert(same_bits(x->grad->data, g->data, N));
        tensor_zero_grad(x);
        for (int64_t i = 0; i < N; i++)
            ck_assert_msg(x->grad->data[i] == 0 && !signbit(x->grad->data[i]),
                          "threads %d: element %lld not zeroed", threads, (long long)i);
        tensor_scope_end(s);
    }
    tensor_set_num_threads(0);
}
END_TEST

/* A gradient passed through unchanged (add, sub's first input, clone, a
 * reshape) is moved to the input when it is the input's first, and an
 * elementwise op's backward writes a first gradient in place: what could
 * go wrong is two tensors sharing one buffer.  x + x adds dy twice into
 * one gradient; a retained view keeps a gradient of its own; two backwards
 * through one graph add up in the leaf; a broadcast second input sums. */
START_TEST(test_passed_gradients_are_not_shared)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *x = tensor_requires_grad_(tensor_from_data((const float[]){1, 2, 3, 4, 5, 6},
                                                       SHAPE(2, 3)), true);
    Tensor *w = tensor_from_data((const float[]){1, -2, 3, -4, 5, -6}, SHAPE(2, 3));
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(tensor_add(x, x), w)), NULL), 0);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(x->grad->data[i], 2 * w->data[i]);

    Tensor *x2 = tensor_requires_grad_(tensor_detach(x), true);
    Tensor *y = tensor_retain_grad(tensor_view(x2, 1, (int64_t[]){6}));
    Tensor *loss = tensor_sum(tensor_mul(tensor_exp(y), tensor_view(w, 1, (int64_t[]){6})));
    ck_assert_int_eq(tensor_backward_retain(loss, NULL), 0);
    ck_assert_ptr_ne(y->grad->data, x2->grad->data);
    y->grad->data[0] = 100.0f;                      /* the leaf's gradient is its own */
    ck_assert_float_eq_tol(x2->grad->data[0], expf(1.0f) * 1.0f, 1e-5f);
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);   /* again: the leaf adds */
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq_tol(x2->grad->data[i], 2 * expf((float)(i + 1)) * w->data[i],
                               1e-4f * expf((float)(i + 1)) * 12);

    Tensor *a = tensor_requires_grad_(tensor_detach(x), true);
    Tensor *b = tensor_requires_grad_(tensor_from_data((const float[]){1, 1, 1}, SHAPE(3)), true);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(tensor_sub(tensor_add(a, b), a), w)),
                                     NULL), 0);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(a->grad->data[i], 0.0f);
    for (int j = 0; j < 3; j++) ck_assert_float_eq(b->grad->data[j], w->data[j] + w->data[3 + j]);
    tensor_scope_end(s);
}
END_TEST

/* rand of n elements draws what n one-element rands draw, starting mid-state
 * and crossing the regeneration of the 624 words. */
START_TEST(test_rand_block_equals_single_draws)
{
    static const int64_t sizes[] = {1, 623, 624, 625, 1300};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int64_t n = sizes[k];
        tensor_manual_seed(10);
        tensor_rand(SHAPE(100));
        Tensor *block = tensor_rand(SHAPE(n));
        tensor_manual_seed(10);
        tensor_rand(SHAPE(100));
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(tensor_item(tensor_rand(SHAPE(1))) == block->data[i],
                          "rand(%lld): element %lld differs", (long long)n, (long long)i);
        /* uniform_(from, to) maps the same draws with one fmaf each */
        tensor_manual_seed(10);
        Tensor *u = tensor_uniform_(tensor_empty(SHAPE(n)), -0.5f, 2.0f, NULL);
        tensor_manual_seed(10);
        Tensor *r = tensor_rand(SHAPE(n));
        for (int64_t i = 0; i < n; i++)
            ck_assert(u->data[i] == fmaf(r->data[i], 2.5f, -0.5f));
    }
}
END_TEST

/* Two Adam steps (lr 0.01, torch's defaults otherwise) against the update
 * written out as in optim.h; the second starts from non-zero moments.  The
 * sizes are not multiples of any vector width; the second is above the size
 * from which the update is spread over threads, and not a whole number of
 * its chunks. */
static const int64_t adam_sizes[] = {1001, (1 << 17) + 4097};

START_TEST(test_adam_matches_formula)
{
    int64_t N = adam_sizes[_i];
    tensor_manual_seed(11);
    tensor_set_num_threads(2);
    Tensor *p = tensor_keep(tensor_randn(SHAPE(N)));
    tensor_requires_grad_(p, true);
    AdamOptions o = optim_adam_defaults();
    o.lr = 0.01;
    Optimizer *opt = optim_adam(1, &p, o);
    ck_assert_ptr_nonnull(opt);
    float *w = malloc((size_t)N * sizeof *w), *m = calloc((size_t)N, sizeof *m),
          *v = calloc((size_t)N, sizeof *v);
    memcpy(w, p->data, (size_t)N * sizeof *w);
    for (int t = 1; t <= 2; t++) {
        optim_zero_grad(opt);
        Tensor *g = tensor_randn(SHAPE(N));
        ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(p, g)), NULL), 0);
        ck_assert_int_eq(optim_step(opt), 0);
        float neg_step = (float)-(0.01 / (1 - pow(0.9, t)));
        float bc2_sqrt = (float)sqrt(1 - pow(0.999, t));
        for (int64_t j = 0; j < N; j++) {
            float gj = p->grad->data[j];
            m[j] = fmaf((float)(1 - 0.9), gj, m[j] * 0.9f);
            v[j] = fmaf((float)(1 - 0.999) * gj, gj, v[j] * 0.999f);
            float denom = sqrtf(v[j]) / bc2_sqrt + 1e-8f;
            w[j] += neg_step * m[j] / denom;
            ck_assert_msg(p->data[j] == w[j], "step %d, element %lld: %.9g, formula %.9g", t,
                          (long long)j, (double)p->data[j], (double)w[j]);
        }
    }
    tensor_set_num_threads(0);
    free(w);
    free(m);
    free(v);
    optim_free(opt);
    tensor_free(p);
}
END_TEST

/* (40, 3001) logits, above the size from which the backward uses threads,
 * rows longer than its chunks; the loss scaled by 0.37 so k is not a power
 * of 2.  dz = (double)exp(logp) k - (c == t) k, rounded once. */
START_TEST(test_cross_entropy_backward_formula)
{
    enum { N = 40, C = 3001 };
    tensor_manual_seed(14);
    Tensor *z = tensor_mul_scalar(tensor_randn(SHAPE(N, C)), 3.0f);
    Tensor *t = tensor_zeros(SHAPE(N));
    for (int i = 0; i < N; i++) t->data[i] = (float)((i * 977) % C);
    float *want = malloc((size_t)N * C * sizeof *want);
    Tensor *logp = tensor_log_softmax(z, -1);
    tensor__exp_like_torch(logp->data, 0.0f, want, N * C);
    float k = 0.37f / N;
    for (int64_t i = 0; i < N; i++)
        for (int64_t c = 0; c < C; c++) {
            float *d = want + i * C + c;
            *d = (float)((double)*d * k - (c == (int64_t)t->data[i] ? k : 0.0f));
        }
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        Tensor *leaf = tensor_requires_grad_(tensor_detach(z), true);
        Tensor *loss = tensor_mul_scalar(tensor_cross_entropy(leaf, t), 0.37f);
        ck_assert_int_eq(tensor_backward(loss, NULL), 0);
        for (int64_t j = 0; j < N * C; j++)
            ck_assert_msg(leaf->grad->data[j] == want[j], "%d threads, element %lld: %.9g, "
                          "formula %.9g", threads, (long long)j, (double)leaf->grad->data[j],
                          (double)want[j]);
    }
    tensor_set_num_threads(0);
    free(want);
}
END_TEST

START_TEST(test_mse_lanes)
{
    tensor_manual_seed(12);
    Tensor *a = tensor_randn(SHAPE(1000, 37)), *b = tensor_randn(SHAPE(1000, 37));
    double sum = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        float d = a->data[i] - b->data[i];
        sum += (double)(d * d);
    }
    float want = (float)sum / (float)a->numel;
    ck_assert_float_eq_tol(tensor_item(tensor_mse_loss(a, b)), want, 1e-6f * want);
}
END_TEST

/* matmul's backward writes an input's first gradient with its product
 * (beta 0, no zeroed buffer) when each element gets one sum, and adds
 * otherwise: the gradients have the bits of the forward products that
 * define them, for batched operands, an operand broadcast over the batch
 * (its gradient the products summed in batch order), and x @ x (the
 * second product adds into the gradient the first one wrote). */
START_TEST(test_matmul_first_gradients_written)
{
    tensor_manual_seed(5);
    Tensor *a = tensor_requires_grad_(tensor_randn(SHAPE(2, 3, 5, 7)), true);
    Tensor *b = tensor_requires_grad_(tensor_randn(SHAPE(2, 3, 7, 4)), true);
    Tensor *g = tensor_randn(SHAPE(2, 3, 5, 4));
    ck_assert_int_eq(tensor_backward(tensor_matmul(a, b), g), 0);
    Tensor *da = tensor_matmul(g, tensor_transpose(b, -2, -1));
    Tensor *db = tensor_matmul(tensor_transpose(a, -2, -1), g);
    ck_assert(same_bits(a->grad->data, da->data, a->numel));
    ck_assert(same_bits(b->grad->data, db->data, b->numel));

    /* w (1, 5, 7) broadcast over b's batch of 3: three products into one C */
    Tensor *w = tensor_requires_grad_(tensor_randn(SHAPE(1, 5, 7)), true);
    Tensor *b3 = tensor_randn(SHAPE(3, 7, 4)), *g3 = tensor_randn(SHAPE(3, 5, 4));
    ck_assert_int_eq(tensor_backward(tensor_matmul(w, b3), g3), 0);
    Tensor *sum = tensor_zeros(SHAPE(5, 7));
    for (int64_t e = 0; e < 3; e++) {
        Tensor *ge = tensor_reshape(tensor_narrow(g3, 0, e, 1), SHAPE(5, 4));
        Tensor *be = tensor_reshape(tensor_narrow(b3, 0, e, 1), SHAPE(7, 4));
        sum = tensor_add(sum, tensor_matmul(ge, tensor_transpose(be, 0, 1)));
    }
    ck_assert(same_bits(w->grad->data, sum->data, w->numel));

    Tensor *x = tensor_requires_grad_(tensor_randn(SHAPE(6, 6)), true), *gx = tensor_randn(SHAPE(6, 6));
    ck_assert_int_eq(tensor_backward(tensor_matmul(x, x), gx), 0);
    Tensor *dx = tensor_add(tensor_matmul(gx, tensor_transpose(x, 0, 1)),
                            tensor_matmul(tensor_transpose(x, 0, 1), gx));
    ck_assert(same_bits(x->grad->data, dx->data, x->numel));
}
END_TEST

/* tensor__lane_dot's vector loop (AVX, eight lanes at once, and four rows
 * at once in tensor__lane_dots) against the lanes written out one float at
 * a time: the same bits for every length
 * around the lane count, with values across many exponents, signed zeros,
 * an infinity and a NaN. */
static float lane_dot_scalar(const float *a, const float *b, int64_t n)
{
    if (n < 8) {
        float s = n ? a[0] * b[0] : 0.0f;
        for (int64_t i = 1; i < n; i++) s += a[i] * b[i];
        return s;
    }
    float acc[8];
    for (int l = 0; l < 8; l++) acc[l] = a[l] * b[l];
    int64_t i = 8;
    for (; i < n; i++) acc[i % 8] = (float)((double)a[i] * b[i] + acc[i % 8]);
    for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
    acc[0] += acc[2];
    acc[1] += acc[3];
    return acc[0] + acc[1];
}

START_TEST(test_lane_dot_vector_loop)
{
    enum { N = 300 };
    float a[N], b[N];
    uint64_t state = 7;
    for (int i = 0; i < N; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        a[i] = ldexpf((float)(int32_t)(state >> 33) / 1073741824.0f, (int)(state % 40) - 20);
        b[i] = ldexpf((float)(int32_t)(state >> 17 & 0xffff) / 32768.0f - 1.0f, (int)(state % 9));
    }
    a[50] = -0.0f;
    b[51] = 0.0f;
    for (int64_t n = 0; n <= 130; n++) {
        float got = tensor__lane_dot(a, b, n), want = lane_dot_scalar(a, b, n);
        ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "n %lld: %a, want %a", (long long)n,
                      (double)got, (double)want);
    }
    /* rows side by side (tensor__lane_dots): each row's own bits */
    for (int64_t n = 1; n <= 40; n += 13)
        for (int64_t rows = 1; rows <= 7; rows++) {
            float dots[7];
            tensor__lane_dots(a, b, n, rows, dots);
            for (int64_t r = 0; r < rows; r++) {
                float want = lane_dot_scalar(a + r * n, b + r * n, n);
                ck_assert_msg(memcmp(&dots[r], &want, sizeof want) == 0,
                              "n %lld, row %lld of %lld: %a, want %a", (long long)n,
                              (long long)r, (long long)rows, (double)dots[r], (double)want);
            }
        }
    a[200] = INFINITY;
    float got = tensor__lane_dot(a, b, N), want = lane_dot_scalar(a, b, N);
    ck_assert(memcmp(&got, &want, sizeof got) == 0);
    a[210] = NAN;
    ck_assert(isnan(tensor__lane_dot(a, b, N)));
}
END_TEST

static Suite *fast_paths_suite(void)
{
    Suite *s = suite_create("fast_paths");
    TCase *t = tcase_create("same_results");
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, test_softmax_blocks_equal_rows, 0,
                        (int)(sizeof lengths / sizeof *lengths));
    tcase_add_test(t, test_softmax_threads_same_bits);
    tcase_add_test(t, test_gelu_norm_threads_same_bits);
    tcase_add_test(t, test_strided_gradient_accumulates);
    tcase_add_test(t, test_first_gradient_is_copied);
    tcase_add_test(t, test_large_gradient_copied_and_zeroed);
    tcase_add_test(t, test_passed_gradients_are_not_shared);
    tcase_add_test(t, test_rand_block_equals_single_draws);
    tcase_add_loop_test(t, test_adam_matches_formula, 0,
                        (int)(sizeof adam_sizes / sizeof adam_sizes[0]));
    tcase_add_test(t, test_cross_entropy_backward_formula);
    tcase_add_test(t, test_mse_lanes);
    tcase_add_test(t, test_lane_dot_vector_loop);
    tcase_add_test(t, test_matmul_first_gradients_written);
    suite_add_tcase(s, t);
    return s;
}

TESTUTIL_MAIN(fast_paths_suite)
