/*
 * Hostile and careless input (issue 10): valid views the products once
 * aborted on, sizes that overflowed, tolerances that crashed gradcheck,
 * and the misuse the library detects (see tensor/tensor.h, "Misuse").
 *
 * The products over views are compared with a plain reference: loops in
 * double over contiguous copies.  Operands are drawn in [-1, 1) with inner
 * sizes of at most 20, so a float32 sum differs from the double one by at
 * most 20 * 2^-24 * 20 < 3e-5; atol 1e-4 holds that with room and still
 * catches any wrong element (each is at least ~1e-2 off when misread).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

/* ---- a small deterministic generator of test choices ---------------------- */

typedef struct {
    uint64_t s;
} Rng;

static uint32_t rng_next(Rng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}
static int rng_int(Rng *r, int n) { return (int)(rng_next(r) % (uint32_t)n); }
static float rng_unit(Rng *r) { return (float)rng_next(r) / 2147483648.0f - 1.0f; }

/* A size: mostly 1 to 3, sometimes 0, sometimes large enough to leave the
 * tiny-product kernel (n > 16). */
static int64_t rng_size(Rng *r)
{
    int c = rng_int(r, 40);
    if (c == 0) return 0;
    if (c == 1) return 17 + rng_int(r, 4);
    return 1 + rng_int(r, 3);
}

/* ---- operands: a random view of a random leaf ----------------------------- */

typedef struct {
    Tensor *leaf;    /* contiguous, requires grad */
    Tensor *view;    /* of leaf, with the asked shape */
} Operand;

/* A view of the asked shape reached by narrow, permute and expand of a
 * contiguous leaf: any mix of offsets, permuted strides and zero strides. */
static Operand make_view(Rng *r, int n, const int64_t *shape)
{
    int perm[TENSOR_MAX_DIMS];
    bool expanded[TENSOR_MAX_DIMS];
    int64_t pad[TENSOR_MAX_DIMS], start[TENSOR_MAX_DIMS], base[TENSOR_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        perm[i] = i;
        expanded[i] = rng_int(r, 4) == 0;
        pad[i] = rng_int(r, 3) == 0 ? 1 + rng_int(r, 2) : 0;
        start[i] = pad[i] ? rng_int(r, (int)pad[i] + 1) : 0;
    }
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(r, i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* Leaf dim i is view dim perm[i]. */
    for (int i = 0; i < n; i++) {
        int v = perm[i];
        base[i] = (expanded[v] ? 1 : shape[v]) + pad[v];
    }
    Operand o;
    o.leaf = tensor_empty(n, base);
    ck_assert_ptr_nonnull(o.leaf);
    for (int64_t i = 0; i < o.leaf->numel; i++) o.leaf->data[i] = rng_unit(r);
    tensor_requires_grad_(o.leaf, true);
    Tensor *t = o.leaf;
    for (int i = 0; i < n; i++) {
        int v = perm[i];
        t = tensor_narrow(t, i, start[v], expanded[v] ? 1 : shape[v]);
    }
    int64_t inv[TENSOR_MAX_DIMS];
    for (int i = 0; i < n; i++) inv[perm[i]] = i;
    t = tensor_permute(t, n, inv);
    o.view = tensor_expand(t, n, shape);
    ck_assert_msg(o.view != NULL, "%s", tensor_error());
    return o;
}

/* ---- the reference: loops over contiguous copies -------------------------- */

/* Offset of batch index e (of the broadcast batch bshape, nb dims) in an
 * operand whose own batch dims are xshape (nx dims, aligned right) and
 * whose matrices have msize elements. */
static int64_t batch_offset(int64_t e, int nb, const int64_t *bshape, int nx,
                            const int64_t *xshape, int64_t msize)
{
    int64_t off = 0, stride = msize;
    for (int d = nb - 1; d >= 0; d--) {
        int64_t i = e % bshape[d];
        e /= bshape[d];
        int dx = d - (nb - nx);
        if (dx < 0) continue;
        if (xshape[dx] != 1) off += i * stride;
        stride *= xshape[dx];
    }
    return off;
}

/* C = A @ B as torch.matmul, with dA, dB for the loss sum(C * R); all
 * arrays contiguous in the operands' shapes.  A: (..., m, k) or (k),
 * B: (..., k, n) or (k). */
typedef struct {
    int na, nb;
    const int64_t *sa, *sb;
} Ranks;

static void reference(Ranks k_, const float *A, const float *B, const float *R, double *C,
                      double *dA, double *dB, int64_t *c_numel)
{
    int na = k_.na, nbr = k_.nb;
    const int64_t *sa = k_.sa, *sb = k_.sb;
    int64_t m = na == 1 ? 1 : sa[na - 2], k = sa[na - 1], n = nbr == 1 ? 1 : sb[nbr - 1];
    int ba = na > 2 ? na - 2 : 0, bb = nbr > 2 ? nbr - 2 : 0, nbt = ba > bb ? ba : bb;
    int64_t bshape[TENSOR_MAX_DIMS], count = 1;
    for (int i = 0; i < nbt; i++) {
        int ia = i - (nbt - ba), ib = i - (nbt - bb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        bshape[i] = x == 1 ? y : x;
        count *= bshape[i];
    }
    *c_numel = count * m * n;
    for (int64_t e = 0; e < count; e++) {
        int64_t oa = batch_offset(e, nbt, bshape, ba, sa, m * k);
        int64_t ob = batch_offset(e, nbt, bshape, bb, sb, k * n);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0, g = R[(e * m + i) * n + j];
                for (int64_t p = 0; p < k; p++) {
                    s += (double)A[oa + i * k + p] * B[ob + p * n + j];
                    dA[oa + i * k + p] += g * B[ob + p * n + j];
                    dB[ob + p * n + j] += g * A[oa + i * k + p];
                }
                C[(e * m + i) * n + j] = s;
            }
    }
}

/* The leaf's expected gradient: the view's, added at the elements it reads. */
static void scatter_grad(const Operand *o, const double *dview, double *dleaf)
{
    const Tensor *v = o->view;
    int64_t idx[TENSOR_MAX_DIMS] = {0}, base = v->data - o->leaf->data;
    for (int64_t i = 0; i < v->numel; i++) {
        int64_t off = base;
        for (int d = 0; d < v->ndim; d++) off += idx[d] * v->stride[d];
        dleaf[off] += dview[i];
        for (int d = v->ndim - 1; d >= 0; d--) {
            if (++idx[d] < v->shape[d]) break;
            idx[d] = 0;
        }
    }
}

static void assert_close_d(const float *got, const double *want, int64_t n, const char *what,
                           int64_t c)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i]),
                      "case %lld: %s element %lld: %.9g, reference %.9g", (long long)c, what,
                      (long long)i, got[i], want[i]);
}

static const float *dense(const Tensor *t)
{
    return tensor_contiguous(t)->data;
}

/* One product of random views, checked forward and backward.  linear: a
 * is x, b is the weight's transpose (so one reference serves both). */
static void check_product(int64_t c, bool linear)
{
    Rng r = {.s = (uint64_t)c * 0x9E3779B97F4A7C15ULL + (linear ? 7 : 1)};
    int na = 1 + rng_int(&r, 4), nbr = linear ? 2 : 1 + rng_int(&r, 4);
    int64_t sa[TENSOR_MAX_DIMS], sb[TENSOR_MAX_DIMS];
    for (int i = 0; i < na; i++) sa[i] = rng_size(&r);
    for (int i = 0; i < nbr; i++) sb[i] = rng_size(&r);
    sb[nbr == 1 ? 0 : nbr - 2] = sa[na - 1];              /* inner sizes agree */
    /* Batch dims broadcast: each pair equal, or one of them 1. */
    for (int i = 0; i < na - 2 && i < nbr - 2; i++) {
        int64_t *x = &sa[na - 3 - i], *y = &sb[nbr - 3 - i];
        int pick = rng_int(&r, 3);
        if (pick == 0) *y = *x;
        else if (pick == 1) *x = 1;
        else *y = 1;
    }
    TensorScope *scope = tensor_scope_begin();
    Operand a = make_view(&r, na, sa), b;
    Tensor *out, *bias = NULL;
    if (linear) {
        /* The weight (out, in) as a view; its transpose is the (in, out) b. */
        int64_t ws[2] = {sb[1], sb[0]};
        b = make_view(&r, 2, ws);
        Tensor *wt = b.view;
        b.view = tensor_t(b.view);
        if (rng_int(&r, 2)) {
            bias = tensor_zeros(1, (int64_t[]){sb[1]});
            for (int64_t i = 0; i < bias->numel; i++) bias->data[i] = rng_unit(&r);
            tensor_requires_grad_(bias, true);
        }
        out = tensor_linear(a.view, wt, bias);
    } else {
        b = make_view(&r, nbr, sb);
        out = tensor_matmul(a.view, b.view);
    }
    ck_assert_msg(out != NULL, "case %lld: %s %s: %s", (long long)c, tensor_shape_str(a.view),
                  tensor_shape_str(b.view), tensor_error());
    Tensor *R = tensor_empty(out->ndim, out->shape);
    for (int64_t i = 0; i < R->numel; i++) R->data[i] = rng_unit(&r);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(out, R)), NULL), 0);

    double *C = calloc((size_t)out->numel + 1, sizeof *C);
    double *dA = calloc((size_t)a.view->numel + 1, sizeof *dA);
    double *dB = calloc((size_t)b.view->numel + 1, sizeof *dB);
    int64_t cn;
    reference((Ranks){na, nbr, sa, sb}, dense(a.view), dense(b.view), R->data, C, dA, dB, &cn);
    ck_assert_int_eq(cn, out->numel);
    if (bias)
        for (int64_t i = 0; i < out->numel; i++) C[i] += bias->data[i % bias->numel];
    assert_close_d(dense(out), C, out->numel, "output", c);
    /* b.view of linear is the weight's transpose: dB is laid out as it. */
    double *la = calloc((size_t)a.leaf->numel + 1, sizeof *la);
    double *lb = calloc((size_t)b.leaf->numel + 1, sizeof *lb);
    scatter_grad(&a, dA, la);
    scatter_grad(&b, dB, lb);
    if (a.leaf->grad) assert_close_d(a.leaf->grad->data, la, a.leaf->numel, "dA", c);
    if (b.leaf->grad) assert_close_d(b.leaf->grad->data, lb, b.leaf->numel, "dB", c);
    if (bias && bias->grad) {
        double *db = calloc((size_t)bias->numel + 1, sizeof *db);
        for (int64_t i = 0; i < R->numel; i++) db[i % bias->numel] += R->data[i];
        assert_close_d(bias->grad->data, db, bias->numel, "dbias", c);
        free(db);
    }
    free(C), free(dA), free(dB), free(la), free(lb);
    tensor_scope_end(scope);
}

enum { PRODUCTS_PER_LOOP = 1000 };

/* 6 x 1000 matmuls and 4 x 1000 linears over random views. */
START_TEST(test_matmul_over_views)
{
    for (int64_t c = 0; c < PRODUCTS_PER_LOOP; c++) check_product(_i * PRODUCTS_PER_LOOP + c, false);
}
END_TEST

START_TEST(test_linear_over_views)
{
    for (int64_t c = 0; c < PRODUCTS_PER_LOOP; c++) check_product(_i * PRODUCTS_PER_LOOP + c, true);
}
END_TEST

/* The views the issue found, each once by name. */
START_TEST(test_matmul_issue_views)
{
    tensor_manual_seed(0);
    Tensor *e = tensor_expand(tensor_rand(SHAPE(1)), SHAPE(2, 1, 2));
    ck_assert_ptr_nonnull(tensor_matmul(e, tensor_ones(SHAPE(2, 2))));
    Tensor *p = tensor_permute(tensor_rand(SHAPE(2, 1, 2, 2)), IDX(3, 0, 1, 2));
    ck_assert_ptr_nonnull(tensor_matmul(p, tensor_ones(SHAPE(2, 3))));
    Tensor *t = tensor_transpose(tensor_rand(SHAPE(3, 2, 1, 2)), 0, 3);
    ck_assert_ptr_nonnull(tensor_matmul(t, tensor_ones(SHAPE(3, 3))));
    ck_assert_ptr_nonnull(tensor_linear(t, tensor_ones(SHAPE(4, 3)), NULL));
    Tensor *v = tensor_expand(tensor_rand(SHAPE(1)), SHAPE(3));
    Tensor *w = tensor_expand(tensor_rand(SHAPE(1, 3, 1)), SHAPE(2, 3, 4));
    Tensor *vw = tensor_matmul(v, w);
    ck_assert_ptr_nonnull(vw);
    ck_assert_str_eq(tensor_shape_str(vw), "(2,4)");
}
END_TEST

/* ---- threads: separate models on separate threads ---------------------------- */

enum { TRAIN_STEPS = 8, WIDTH = 128, BATCH = 64 };

typedef struct {
    uint64_t seed;
    float *weights;   /* the trained parameters, in order, malloc'd */
    int64_t count;
    int rc;
} Run;

/* Builds a 2-layer model from the thread's own default generator seeded
 * with run->seed and trains it with Adam; the products (64 x 128 x 128) are
 * large enough to use the thread pool. */
static void *train(void *arg)
{
    Run *run = arg;
    tensor_manual_seed(run->seed);
    Module *m1 = nn_linear(WIDTH, WIDTH, true), *m2 = nn_linear(WIDTH, 1, true);
    Linear *l1 = NN_AS(Linear, m1), *l2 = NN_AS(Linear, m2);
    Tensor *params[4] = {l1->weight, l1->bias, l2->weight, l2->bias};
    Optimizer *opt = optim_adam(4, params, optim_adam_defaults());
    run->rc = 0;
    for (int s = 0; s < TRAIN_STEPS && run->rc == 0; s++) {
        TensorScope *scope = tensor_scope_begin();
        Tensor *x = tensor_randn(SHAPE(BATCH, WIDTH)), *y = tensor_randn(SHAPE(BATCH, 1));
        Tensor *loss = tensor_mse_loss(nn_forward(m2, tensor_gelu(nn_forward(m1, x))), y);
        optim_zero_grad(opt);
        run->rc = !loss || tensor_backward(loss, NULL) || optim_step(opt);
        tensor_scope_end(scope);
    }
    run->count = 0;
    for (int i = 0; i < 4; i++) run->count += params[i]->numel;
    run->weights = malloc((size_t)run->count * sizeof(float));
    for (int i = 0, at = 0; i < 4; at += (int)params[i]->numel, i++)
        memcpy(run->weights + at, params[i]->data, (size_t)params[i]->numel * sizeof(float));
    optim_free(opt);
    nn_module_free(m1);
    nn_module_free(m2);
    tensor_cleanup();   /* this thread's scopes and cache */
    return NULL;
}

/* Two models trained at once on two threads end exactly as when trained
 * one after the other on one: scopes, errors, grad mode and the default
 * generator are each thread's own, and the kernels share the pool safely. */
START_TEST(test_two_threads_train_two_models)
{
    Run alone[2] = {{.seed = 1}, {.seed = 2}}, together[2] = {{.seed = 1}, {.seed = 2}};
    train(&alone[0]);
    train(&alone[1]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, train, &together[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    /* Different seeds: the two models really are different. */
    ck_assert(memcmp(alone[0].weights, alone[1].weights, sizeof(float)) != 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(alone[i].rc, 0);
        ck_assert_int_eq(together[i].rc, 0);
        ck_assert_int_eq(alone[i].count, together[i].count);
        ck_assert_msg(memcmp(alone[i].weights, together[i].weights,
                             (size_t)alone[i].count * sizeof(float)) == 0,
                      "model %d: weights differ between one thread and two", i);
        free(alone[i].weights);
        free(together[i].weights);
    }
}
END_TEST

/* One thread's error and grad mode are not another's. */
static void *fail_in_thread(void *arg)
{
    (void)arg;
    tensor_no_grad_begin();
    tensor_set_error("from the other thread");
    tensor_cleanup();
    return NULL;
}

START_TEST(test_thread_state_is_per_thread)
{
    tensor_clear_error();
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_str_eq(tensor_error(), "");
    ck_assert(tensor_is_grad_enabled());
}
END_TEST

/* ---- stale tensors and scope handles, in-place changes, double backward ---- */

START_TEST(test_tensor_used_after_its_scope_is_refused)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *x = tensor_ones(SHAPE(3));
    tensor_scope_end(s);
    TensorScope *next = tensor_scope_begin();   /* reuses the ended scope's slot */
    Tensor *y = tensor_zeros(SHAPE(3));
    ck_assert_error_has(tensor_add(x, y), "scope that has ended");
    ck_assert_error_has(tensor_sum(x), "scope that has ended");
    tensor_scope_end(next);
}
END_TEST

START_TEST(test_backward_after_its_scope_is_refused)
{
    Tensor *w = tensor_keep(tensor_ones(SHAPE(2)));
    tensor_requires_grad_(w, true);
    TensorScope *s = tensor_scope_begin();
    Tensor *loss = tensor_sum(tensor_mul_scalar(w, 3.0f));
    tensor_scope_end(s);
    ck_assert_int_eq(tensor_backward(loss, NULL), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "scope that has ended"));
    tensor_clear_error();
    ck_assert_ptr_null(w->grad);
    tensor_free(w);
}
END_TEST

START_TEST(test_stale_scope_handle_leaves_the_newer_scope_open)
{
    TensorScope *old = tensor_scope_begin();
    tensor_scope_end(old);
    TensorScope *now = tensor_scope_begin();
    Tensor *x = tensor_ones(SHAPE(2));
    tensor_scope_end(old);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "not an open scope"));
    tensor_clear_error();
    Tensor *y = tensor_add(x, x);   /* x is still alive: its scope was not ended */
    ck_assert_ptr_nonnull(y);
    ck_assert_float_eq(y->data[1], 2.0f);
    tensor_scope_end(now);
}
END_TEST

/* An SGD step between a forward and its backward changes W in place: the
 * backward of y = sum(W * W), which saved W, refuses (torch's p.add_ bumps
 * the version as well).  Adam's fused update did so already. */
START_TEST(test_sgd_step_bumps_the_version)
{
    Tensor *w = tensor_keep(tensor_requires_grad_(tensor_ones(SHAPE(2)), true));
    Optimizer *opt = optim_sgd(1, &w, OPTIM_SGD_OPTIONS(.lr = 0.1));
    ck_assert_ptr_nonnull(opt);
    ck_assert_int_eq(tensor_backward(tensor_sum(tensor_mul(w, w)), NULL), 0);
    Tensor *again = tensor_sum(tensor_mul(w, w));
    ck_assert_int_eq(optim_step(opt), 0);
    ck_assert_int_eq(tensor_backward(again, NULL), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "modified by an inplace operation"));
    tensor_clear_error();
    optim_free(opt);
    tensor_free(w);
}
END_TEST

/* y = sum(W * x) saves x for dW = x; x changed in place after the forward
 * would give W.grad 0 instead of 5: the backward refuses, as PyTorch. */
START_TEST(test_inplace_change_of_a_saved_tensor_is_refused)
{
    Tensor *w = tensor_requires_grad_(tensor_ones(SHAPE(1)), true);
    Tensor *x = tensor_full(5.0f, SHAPE(1));
    Tensor *loss = tensor_sum(tensor_mul(w, x));
    tensor_fill_(x, 0.0f);
    ck_assert_int_eq(tensor_backward(loss, NULL), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "modified by an inplace operation"));
    tensor_clear_error();

    Tensor *x2 = tensor_full(5.0f, SHAPE(1));
    Tensor *loss2 = tensor_sum(tensor_mul(w, x2));
    ck_assert_int_eq(tensor_set(x2, 1.0f, IDX(0)), 0);
    ck_assert_int_eq(tensor_backward(loss2, NULL), -1);
    tensor_clear_error();

    Tensor *x3 = tensor_full(5.0f, SHAPE(1));
    Tensor *loss3 = tensor_sum(tensor_mul(w, x3));
    ck_assert_int_eq(tensor_backward(loss3, NULL), 0);   /* untouched: 5 */
    ck_assert_float_eq(w->grad->data[0], 5.0f);
}
END_TEST

START_TEST(test_copy_into_overlapping_or_expanded_views_is_refused)
{
    Tensor *x = tensor_arange(0, 4, 1);
    Tensor *m = tensor_reshape(x, SHAPE(2, 2));
    ck_assert_error_has(tensor_copy_(tensor_t(m), m), "refer to a single memory location");
    Tensor *e = tensor_expand(tensor_zeros(SHAPE(1, 2)), SHAPE(3, 2));
    ck_assert_error_has(tensor_copy_(e, tensor_ones(SHAPE(3, 2))), "expanded");
    Tensor *dst = tensor_zeros(SHAPE(2, 2));
    ck_assert_ptr_nonnull(tensor_copy_(dst, tensor_t(m)));   /* separate storage: fine */
    ck_assert_float_eq(dst->data[1], 2.0f);
}
END_TEST

START_TEST(test_second_backward_is_refused_unless_retained)
{
    Tensor *w = tensor_requires_grad_(tensor_ones(SHAPE(2)), true);
    Tensor *loss = tensor_sum(tensor_mul_scalar(w, 3.0f));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_int_eq(tensor_backward(loss, NULL), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "backward"));
    tensor_clear_error();
    ck_assert_float_eq(w->grad->data[0], 3.0f);   /* not doubled */

    Tensor *loss2 = tensor_sum(tensor_mul_scalar(w, 3.0f));
    tensor_zero_grad(w);
    ck_assert_int_eq(tensor_backward_retain(loss2, NULL), 0);
    ck_assert_int_eq(tensor_backward(loss2, NULL), 0);
    ck_assert_float_eq(w->grad->data[0], 6.0f);   /* retain_graph=True: accumulates */
}
END_TEST

START_TEST(test_double_free_is_reported)
{
    Tensor *w = tensor_keep(tensor_ones(SHAPE(2)));
    tensor_free(w);
    tensor_free(w);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "already freed"));
    tensor_clear_error();
}
END_TEST

static Suite *misuse_suite(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("views");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_matmul_over_views, 0, 6);
    tcase_add_loop_test(tc, test_linear_over_views, 0, 4);
    tcase_add_test(tc, test_matmul_issue_views);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifetimes");
    tcase_add_test(tc, test_tensor_used_after_its_scope_is_refused);
    tcase_add_test(tc, test_backward_after_its_scope_is_refused);
    tcase_add_test(tc, test_stale_scope_handle_leaves_the_newer_scope_open);
    tcase_add_test(tc, test_inplace_change_of_a_saved_tensor_is_refused);
    tcase_add_test(tc, test_sgd_step_bumps_the_version);
    tcase_add_test(tc, test_copy_into_overlapping_or_expanded_views_is_refused);
    tcase_add_test(tc, test_second_backward_is_refused_unless_retained);
    tcase_add_test(tc, test_double_free_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_two_threads_train_two_models);
    tcase_add_test(tc, test_thread_state_is_per_thread);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(misuse_suite)
