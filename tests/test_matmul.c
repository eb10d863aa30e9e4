/*
 * tensor_matmul and tensor_linear: forward and gradients against PyTorch
 * fixtures (tests/reference/gen_matmul.py), grad_fn names, strided and
 * broadcast operands, error messages, and the sgemm kernel itself against a
 * double-precision reference over sizes that cross every block boundary.
 *
 * Tolerances: a float32 product of length k agrees with PyTorch's (another
 * summation order) to about sqrt(k) * 2^-24 * sum|a_p b_p|; for the fixtures
 * (k <= 36, |a|, |b| < 1) that is below 1e-6 absolute, so atol 1e-6 plus
 * rtol 1e-5 is safe and still catches any wrong element or index.
 */
#include "kernels/sgemm.h"
#include "kernels/threads.h"
#include "testutil.h"

#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURES "matmul.txt"

static Tensor *fx(const char *name) { return testutil_fixture(FIXTURES, name); }

static Tensor *fx2(const char *c, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", c, suffix);
    return fx(name);
}

/* A leaf as the generator built it: stored, or a transposed view of the
 * stored tensor (then its gradient is the view's, as in the fixture). */
static Tensor *operand(const char *c, const char *which, bool transposed)
{
    char suffix[8];
    snprintf(suffix, sizeof suffix, "%s%s", which, transposed ? "t" : "");
    Tensor *t = fx2(c, suffix);
    if (transposed) t = tensor_transpose(t, -2, -1);
    return tensor_requires_grad_(tensor_detach(t), true);
}

#define CLOSE(a, b) ck_assert_tensor_close((a), (b), 1e-6, 1e-5)

/* ---- matmul against PyTorch ----------------------------------------------- */

static const struct {
    const char *name;
    bool ta, tb;
    const char *grad_fn;        /* as torch 1.13 prints it (see the fixture) */
} matmul_cases[] = {
    {"dot", false, false, "DotBackward0"},
    {"mv", false, false, "MvBackward0"},
    {"vm", false, false, "SqueezeBackward3"},
    {"mm", false, false, "MmBackward0"},
    {"mm_odd", false, false, "MmBackward0"},
    {"mm_t", true, true, "MmBackward0"},
    {"mm_big", false, false, "MmBackward0"},
    {"mm_big_t", true, true, "MmBackward0"},
    {"b3_2", false, false, "UnsafeViewBackward0"},
    {"b3_3", false, false, "UnsafeViewBackward0"},
    {"bcast", false, false, "UnsafeViewBackward0"},
    {"v_b3", false, false, "UnsafeViewBackward0"},
    {"b3_v", false, false, "UnsafeViewBackward0"},
    {"m_b3", false, false, "CloneBackward0"},
    {"attn", false, true, "UnsafeViewBackward0"},
    {"attn_big", false, true, "UnsafeViewBackward0"},
};

/* Every case on every instruction set this CPU runs (the portable and
 * AVX2 kernels pack; AVX-512 reads small operands in place). */
START_TEST(test_matmul_matches_torch)
{
    const char *c = matmul_cases[_i].name;
    for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
        if (tensor__sgemm_set_isa(isa) != isa) continue;
        Tensor *a = operand(c, "a", matmul_cases[_i].ta);
        Tensor *b = operand(c, "b", matmul_cases[_i].tb);
        Tensor *out = tensor_matmul(a, b);
        CLOSE(out, fx2(c, "out"));
        ck_assert_str_eq(tensor_grad_fn_name(out), matmul_cases[_i].grad_fn);
        ck_assert_int_eq(tensor_backward(out, fx2(c, "dout")), 0);
        CLOSE(a->grad, fx2(c, "da"));
        CLOSE(b->grad, fx2(c, "db"));
    }
    tensor__sgemm_set_isa(-1);
}
END_TEST

/* ---- linear against PyTorch ------------------------------------------------ */

static const struct {
    const char *name;
    bool bias;
    const char *grad_fn;
} linear_cases[] = {
    {"lin1b", true, "AddBackward0"},
    {"lin1", false, "SqueezeBackward3"},
    {"lin2b", true, "AddmmBackward0"},
    {"lin2", false, "MmBackward0"},
    {"lin3b", true, "ViewBackward0"},
    {"lin3", false, "UnsafeViewBackward0"},
    {"lin4b", true, "AddBackward0"},
    {"lin_big", true, "ViewBackward0"},
};

START_TEST(test_linear_matches_torch)
{
    const char *c = linear_cases[_i].name;
    for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
        if (tensor__sgemm_set_isa(isa) != isa) continue;
        Tensor *x = tensor_requires_grad_(fx2(c, "x"), true);
        Tensor *w = tensor_requires_grad_(fx2(c, "w"), true);
        Tensor *b = linear_cases[_i].bias ? tensor_requires_grad_(fx2(c, "bias"), true) : NULL;
        Tensor *out = tensor_linear(x, w, b);
        CLOSE(out, fx2(c, "out"));
        ck_assert_str_eq(tensor_grad_fn_name(out), linear_cases[_i].grad_fn);
        ck_assert_int_eq(tensor_backward(out, fx2(c, "dout")), 0);
        CLOSE(x->grad, fx2(c, "dx"));
        CLOSE(w->grad, fx2(c, "dw"));
        if (b) CLOSE(b->grad, fx2(c, "dbias"));
    }
    tensor__sgemm_set_isa(-1);
}
END_TEST

/* PyTorch's linear adds the bias into the product (addmm); on the book's
 * sizes the results agree to a few ulp, not only to 1e-5. */
START_TEST(test_linear_agrees_closely)
{
    const char *cases[] = {"lin2b", "lin3b", "lin_big"};
    for (int i = 0; i < 3; i++) {
        Tensor *out = tensor_linear(fx2(cases[i], "x"), fx2(cases[i], "w"),
                                    fx2(cases[i], "bias"));
        ck_assert_tensor_close(out, fx2(cases[i], "out"), 1e-6, 1e-6);
    }
}
END_TEST

START_TEST(test_linear_noncontiguous_3d_name)
{
    Tensor *x = tensor_transpose(tensor_ones(SHAPE(4, 2, 3)), 0, 1);
    x = tensor_requires_grad_(tensor_detach(x), true);
    Tensor *y = tensor_linear(x, tensor_ones(SHAPE(5, 3)), tensor_ones(SHAPE(5)));
    ck_assert_str_eq(tensor_grad_fn_name(y), "AddBackward0");
    ck_assert_float_eq(tensor_get(y, IDX(1, 3, 4)), 4.0f);
}
END_TEST

/* ---- strided, copied and broadcast operands -------------------------------- */

/* Fills t (any strides) with a fixed pattern in [-1, 1): a hash of the
 * element index and seed, so no generator state is involved. */
static Tensor *pattern(Tensor *t, uint64_t seed)
{
    Tensor *c = tensor_empty(t->ndim, t->shape);
    for (int64_t i = 0; i < c->numel; i++) {
        uint64_t z = ((uint64_t)i + seed * 0x632BE59BD9B4E019ull) * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 29)) * 0xBF58476D1CE4E5B9ull;
        c->data[i] = (float)((z ^ (z >> 32)) >> 40) * 0x1.0p-23f - 1.0f;
    }
    tensor_copy_(t, c);
    return t;
}

/* The same product from contiguous copies; sgemm's per-element summation
 * order does not depend on the layout, so the results are close to a few
 * ulp (rtol 1e-6). */
static void check_same_as_contiguous(const Tensor *a, const Tensor *b)
{
    Tensor *got = tensor_matmul(a, b);
    Tensor *want = tensor_matmul(tensor_contiguous(a), tensor_contiguous(b));
    ck_assert_tensor_close(got, want, 1e-6, 1e-6);
}

START_TEST(test_matmul_strided_operands)
{
    /* transposed views of every kind, small and large */
    int64_t sizes[] = {3, 17, 70};
    for (int s = 0; s < 3; s++) {
        int64_t n = sizes[s];
        Tensor *a = pattern(tensor_empty(SHAPE(n, n + 5)), 1);
        Tensor *b = pattern(tensor_empty(SHAPE(n + 5, n - 1)), 2);
        Tensor *at = tensor_transpose(pattern(tensor_empty(SHAPE(n + 5, n)), 3), 0, 1);
        Tensor *bt = tensor_transpose(pattern(tensor_empty(SHAPE(n - 1, n + 5)), 4), 0, 1);
        check_same_as_contiguous(a, bt);
        check_same_as_contiguous(at, b);
        check_same_as_contiguous(at, bt);
        /* row slices: a row stride larger than the row */
        Tensor *wide = pattern(tensor_empty(SHAPE(n, 2 * n + 10)), 5);
        check_same_as_contiguous(tensor_narrow(wide, 1, 3, n + 5), b);
    }
}
END_TEST

START_TEST(test_matmul_copies_operands_without_unit_stride)
{
    /* permute (2,0,1) of a (4,3,5): matrix strides (15, 5), neither is 1 */
    Tensor *base = pattern(tensor_empty(SHAPE(4, 3, 5)), 6);
    Tensor *a = tensor_permute(base, SHAPE(2, 0, 1));      /* (5, 4, 3) */
    Tensor *b = pattern(tensor_empty(SHAPE(5, 3, 2)), 7);
    check_same_as_contiguous(a, b);
    Tensor *ag = tensor_requires_grad_(tensor_detach(a), true);
    Tensor *y = tensor_matmul(ag, b);
    ck_assert_int_eq(tensor_backward(y, tensor_ones(y->ndim, y->shape)), 0);
    /* d sum(A @ B) / dA[i][j] = sum_k B[j][k], row sums of each batch's B */
    for (int64_t e = 0; e < 5; e++)
        for (int64_t j = 0; j < 3; j++) {
            float want = tensor_get(b, IDX(e, j, 0)) + tensor_get(b, IDX(e, j, 1));
            ck_assert_float_eq_tol(tensor_get(ag->grad, IDX(e, 1, j)), want, 1e-6);
        }
}
END_TEST

START_TEST(test_matmul_strided_batches)
{
    /* batch dims permuted, and a batch broadcast by expand (stride 0) */
    Tensor *a = tensor_permute(pattern(tensor_empty(SHAPE(3, 2, 20, 33)), 8), SHAPE(1, 0, 2, 3));
    Tensor *b = pattern(tensor_empty(SHAPE(2, 3, 33, 18)), 9);
    check_same_as_contiguous(a, b);
    Tensor *e = tensor_expand(pattern(tensor_empty(SHAPE(1, 33, 18)), 10), SHAPE(3, 33, 18));
    check_same_as_contiguous(a, e);
}
END_TEST

START_TEST(test_matmul_broadcast_gradient_is_summed)
{
    /* x (2,3,40,17) @ w (17,33): dw sums over both batch dims; the fold
     * into one product must give the sum of the per-element products. */
    Tensor *x = pattern(tensor_empty(SHAPE(2, 3, 40, 17)), 11);
    Tensor *w = tensor_requires_grad_(pattern(tensor_empty(SHAPE(17, 33)), 12), true);
    Tensor *y = tensor_matmul(x, w);
    Tensor *dy = pattern(tensor_empty(y->ndim, y->shape), 13);
    ck_assert_int_eq(tensor_backward(y, dy), 0);
    Tensor *want = tensor_zeros(SHAPE(17, 33));
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 3; j++) {
            Tensor *xi = tensor_contiguous(tensor_narrow(tensor_narrow(x, 0, i, 1), 1, j, 1));
            Tensor *di = tensor_contiguous(tensor_narrow(tensor_narrow(dy, 0, i, 1), 1, j, 1));
            Tensor *p = tensor_matmul(tensor_t(tensor_view(xi, SHAPE(40, 17))),
                                      tensor_view(di, SHAPE(40, 33)));
            for (int64_t k = 0; k < want->numel; k++) want->data[k] += p->data[k];
        }
    ck_assert_tensor_close(w->grad, want, 1e-5, 1e-5);
}
END_TEST

START_TEST(test_matmul_empty_and_zero_k)
{
    Tensor *y = tensor_matmul(tensor_ones(SHAPE(3, 0)), tensor_ones(SHAPE(0, 2)));
    ck_assert_ptr_nonnull(y);
    for (int64_t i = 0; i < 6; i++) ck_assert_float_eq(y->data[i], 0.0f);
    y = tensor_matmul(tensor_ones(SHAPE(0, 3)), tensor_ones(SHAPE(3, 2)));
    ck_assert_int_eq(y->numel, 0);
}
END_TEST

/* ---- threads and BLAS ---------------------------------------------------------- */

static bool same_bits(const Tensor *x, const Tensor *y)
{
    return x && y && tensor_same_shape(x, y) &&
           memcmp(x->data, y->data, (size_t)x->numel * sizeof(float)) == 0;
}

START_TEST(test_threads_give_the_same_result)
{
    /* products above the threading cut-over (m*n*k = 96^3): rows split,
     * columns split, transposed operands, a batch of small products spread
     * over threads, a batch folded into one large product; then the
     * products whose shared operand is packed once per depth block (sgemm.c,
     * parallel): columns split deeper than a block, with slices wider than
     * a block and more rows than a block; rows split against a packed B^T;
     * then shared blocks large enough that the threads pack them in pieces
     * of whole panels (A: 100 rows in panels of 12, A^T too; B^T: 200
     * columns in panels of 32); slices of columns share A only when they
     * are narrow (120 columns: A and A^T, packed in pieces too) */
    Tensor *ops[][2] = {
        {pattern(tensor_empty(SHAPE(261, 90)), 30), pattern(tensor_empty(SHAPE(90, 100)), 31)},
        {pattern(tensor_empty(SHAPE(40, 90)), 32), pattern(tensor_empty(SHAPE(90, 601)), 33)},
        {tensor_t(pattern(tensor_empty(SHAPE(100, 203)), 34)),
         tensor_t(pattern(tensor_empty(SHAPE(130, 100)), 35))},
        {pattern(tensor_empty(SHAPE(8, 64, 70)), 36), pattern(tensor_empty(SHAPE(8, 70, 64)), 37)},
        {pattern(tensor_empty(SHAPE(3, 130, 130)), 38), pattern(tensor_empty(SHAPE(130, 130)), 39)},
        {pattern(tensor_empty(SHAPE(40, 500)), 43), pattern(tensor_empty(SHAPE(500, 601)), 44)},
        {pattern(tensor_empty(SHAPE(20, 390)), 45), pattern(tensor_empty(SHAPE(390, 2100)), 46)},
        {pattern(tensor_empty(SHAPE(2310, 20)), 47), pattern(tensor_empty(SHAPE(20, 2400)), 48)},
        {tensor_t(pattern(tensor_empty(SHAPE(450, 100)), 49)),
         tensor_t(pattern(tensor_empty(SHAPE(120, 450)), 50))},
        {pattern(tensor_empty(SHAPE(400, 450)), 51),
         tensor_t(pattern(tensor_empty(SHAPE(120, 450)), 52))},
        {pattern(tensor_empty(SHAPE(100, 450)), 56), pattern(tensor_empty(SHAPE(450, 700)), 57)},
        {tensor_t(pattern(tensor_empty(SHAPE(450, 100)), 58)),
         pattern(tensor_empty(SHAPE(450, 700)), 59)},
        {pattern(tensor_empty(SHAPE(500, 450)), 60),
         tensor_t(pattern(tensor_empty(SHAPE(200, 450)), 61))},
        {pattern(tensor_empty(SHAPE(100, 450)), 62), pattern(tensor_empty(SHAPE(450, 120)), 63)},
        {tensor_t(pattern(tensor_empty(SHAPE(450, 100)), 64)),
         pattern(tensor_empty(SHAPE(450, 120)), 65)},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        tensor_set_num_threads(1);
        Tensor *one = tensor_matmul(ops[i][0], ops[i][1]);
        for (int nt = 2; nt <= 3; nt++) {
            tensor_set_num_threads(nt);
            ck_assert_int_eq(tensor_get_num_threads(), nt);
            ck_assert_msg(same_bits(one, tensor_matmul(ops[i][0], ops[i][1])),
                          "case %zu: %d threads differ from one", i, nt);
        }
    }
    /* a bias first in C (beta 1), against a packed W^T shared by slices of rows */
    Tensor *x = pattern(tensor_empty(SHAPE(300, 450)), 53);
    Tensor *w = pattern(tensor_empty(SHAPE(120, 450)), 54);
    Tensor *b = pattern(tensor_empty(SHAPE(120)), 55);
    tensor_set_num_threads(1);
    Tensor *one = tensor_linear(x, w, b);
    for (int nt = 2; nt <= 3; nt++) {
        tensor_set_num_threads(nt);
        ck_assert_msg(same_bits(one, tensor_linear(x, w, b)), "linear: %d threads differ", nt);
    }
    tensor_set_num_threads(0);
    ck_assert_int_ge(tensor_get_num_threads(), 1);
}
END_TEST

/* Nor do the gradients of a batched product (its backward spreads the
 * batch over threads). */
START_TEST(test_threads_same_gradients)
{
    Tensor *g[2][2];
    for (int t = 0; t < 2; t++) {
        tensor_set_num_threads(t + 1);
        Tensor *a = tensor_requires_grad_(pattern(tensor_empty(SHAPE(8, 64, 96)), 40), true);
        Tensor *b = tensor_requires_grad_(pattern(tensor_empty(SHAPE(8, 96, 64)), 41), true);
        Tensor *y = tensor_matmul(a, b);
        ck_assert_int_eq(tensor_backward(y, pattern(tensor_empty(y->ndim, y->shape), 42)), 0);
        g[t][0] = a->grad;
        g[t][1] = b->grad;
    }
    tensor_set_num_threads(0);
    ck_assert(same_bits(g[0][0], g[1][0]));
    ck_assert(same_bits(g[0][1], g[1][1]));
}
END_TEST

/* The pool runs each chunk once, on workers in [0, threads); a nested call
 * runs in turn on the calling worker. */
typedef struct {
    int runs[1000], worker[1000], nested_worker[1000];
    bool in_parallel[1000];
} PoolLog;

static void nested_task(void *ctx, int64_t c, int worker)
{
    (void)c;
    *(int *)ctx = worker;
}

/* No ck_assert here: it may run on a pool thread; the test checks the log. */
static void pool_task(void *ctx, int64_t c, int worker)
{
    PoolLog *log = ctx;
    log->runs[c]++;
    log->worker[c] = worker;
    log->in_parallel[c] = tensor__in_parallel();
    if (c % 100 == 0) {
        int nested = -1;
        tensor__parallel_for(1, 2, nested_task, &nested);
        log->nested_worker[c] = nested;
    }
}

START_TEST(test_pool_runs_each_chunk_once)
{
    static PoolLog log;
    for (int threads = 1; threads <= 3; threads++) {
        memset(&log, 0, sizeof log);
        tensor__parallel_for(1000, threads, pool_task, &log);
        ck_assert(!tensor__in_parallel());
        for (int c = 0; c < 1000; c++) {
            ck_assert_int_eq(log.runs[c], 1);
            ck_assert(log.worker[c] >= 0 && log.worker[c] < threads);
            ck_assert(log.in_parallel[c] || threads == 1);
            if (c % 100 == 0) ck_assert_int_eq(log.nested_worker[c], log.worker[c]);
        }
    }
}
END_TEST

/* 2^-70 * 2^-70 = 2^-140 is subnormal (float's smallest normal is 2^-126). */
static float subnormal_product(void)
{
    volatile float a = 0x1p-70f, b = 0x1p-70f;
    return a * b;
}

typedef struct {
    atomic_int done;
    float product[2];
    int worker[2];
} FlushLog;

/* Chunk 0 waits (up to ~5 s) for another thread to finish chunk 1, so that
 * chunk 1 runs on a pool thread whenever the pool has started one. */
static void flush_task(void *ctx, int64_t c, int worker)
{
    FlushLog *log = ctx;
    log->product[c] = subnormal_product();
    log->worker[c] = worker;
    if (c == 0)
        for (int s = 0; s < 5000 && !atomic_load(&log->done); s++) usleep(1000);
    else
        atomic_store(&log->done, 1);
}

/* torch.set_flush_denormal: a subnormal product is kept when off and is 0
 * when on, on the calling thread and on the pool's thread alike. */
START_TEST(test_flush_denormal)
{
    if (!tensor_set_flush_denormal(false)) return;   /* no such mode on this CPU */
    ck_assert_float_eq(subnormal_product(), 0x1p-140f);
    for (int on = 1; on >= 0; on--) {
        ck_assert(tensor_set_flush_denormal(on));
        FlushLog log = {.product = {-1, -1}};
        atomic_init(&log.done, 0);
        tensor__parallel_for(2, 2, flush_task, &log);
        ck_assert_int_ne(log.worker[1], 0);   /* chunk 1 did run on a pool thread */
        float want = on ? 0.0f : 0x1p-140f;
        for (int c = 0; c < 2; c++) ck_assert_float_eq(log.product[c], want);
    }
    ck_assert_float_eq(subnormal_product(), 0x1p-140f);
}
END_TEST

/* A child of fork() has none of the parent's pool threads: it starts its
 * own, and its threaded product agrees (alarm() ends a hang). */
START_TEST(test_threads_after_fork)
{
    tensor_set_num_threads(2);
    Tensor *a = pattern(tensor_empty(SHAPE(200, 130)), 46);
    Tensor *b = pattern(tensor_empty(SHAPE(130, 150)), 47);
    Tensor *want = tensor_matmul(a, b);             /* starts the pool */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        alarm(20);
        Tensor *got = tensor_matmul(a, b);
        _exit(same_bits(got, want) ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    tensor_set_num_threads(0);
}
END_TEST

/* With BLAS switched on (a no-op in a build without it), large products go
 * to OpenBLAS; a broadcast row (leading dim 0) stays built-in.  Both agree
 * with the built-in kernel to float rounding. */
START_TEST(test_blas_switch)
{
    Tensor *a = pattern(tensor_empty(SHAPE(150, 90)), 43);
    Tensor *bt = tensor_t(pattern(tensor_empty(SHAPE(110, 90)), 44));
    Tensor *row = tensor_expand(pattern(tensor_empty(SHAPE(1, 110)), 45), SHAPE(90, 110));
    Tensor *want = tensor_matmul(a, bt), *want_row = tensor_matmul(a, row);
    tensor__sgemm_set_blas(true);
    Tensor *got = tensor_matmul(a, bt), *got_row = tensor_matmul(a, row);
    tensor__sgemm_set_blas(false);
    ck_assert_tensor_close(got, want, 1e-5, 1e-5);
    ck_assert(same_bits(got_row, want_row));
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(test_errors)
{
    ck_assert_ptr_null(tensor_matmul(tensor_zeros(SHAPE(6, 3)), tensor_zeros(SHAPE(2, 3))));
    ck_assert_str_eq(tensor_error(), "matmul: (6,3) @ (2,3): inner sizes differ (3 != 2)");
    ck_assert_ptr_null(tensor_matmul(tensor_scalar(1), tensor_zeros(SHAPE(2, 3))));
    ck_assert_str_eq(tensor_error(),
                     "matmul: () @ (2,3): both operands need at least 1 dim, got a 0-d one");
    ck_assert_ptr_null(tensor_matmul(tensor_zeros(SHAPE(2, 4, 3)), tensor_zeros(SHAPE(3, 3, 5))));
    ck_assert_str_eq(tensor_error(), "matmul: (2,4,3) @ (3,3,5): batch dims do not broadcast");
    ck_assert_ptr_null(tensor_linear(tensor_zeros(SHAPE(4, 3)), tensor_zeros(SHAPE(5, 2)), NULL));
    ck_assert_str_eq(tensor_error(),
                     "linear: input (4,3), weight (5,2): in features differ (3 != 2)");
    ck_assert_ptr_null(tensor_linear(tensor_zeros(SHAPE(4, 3)), tensor_zeros(SHAPE(5, 3)),
                                     tensor_zeros(SHAPE(4))));
    ck_assert_str_eq(tensor_error(), "linear: bias (4) must be (5) for weight (5,3)");
    ck_assert_ptr_null(tensor_linear(tensor_zeros(SHAPE(4, 3)), tensor_zeros(SHAPE(3)), NULL));
    ck_assert_str_eq(tensor_error(), "linear: weight (3) must be 2-d (out, in)");
    ck_assert_ptr_null(tensor_linear(tensor_scalar(1), tensor_zeros(SHAPE(5, 3)), NULL));
    ck_assert_str_eq(tensor_error(), "linear: input () is 0-d; it needs at least 1 dim");
}
END_TEST

START_TEST(test_null_propagates_without_message)
{
    tensor_clear_error();
    ck_assert_ptr_null(tensor_matmul(NULL, tensor_zeros(SHAPE(2, 3))));
    ck_assert_ptr_null(tensor_matmul(tensor_zeros(SHAPE(2, 3)), NULL));
    ck_assert_ptr_null(tensor_linear(NULL, tensor_zeros(SHAPE(2, 3)), NULL));
    ck_assert_ptr_null(tensor_linear(tensor_zeros(SHAPE(2, 3)), NULL, NULL));
    ck_assert_str_eq(tensor_error(), "");
}
END_TEST

/* ---- the kernel against double precision ------------------------------------ */

/* C = alpha op(A) op(B) + beta C in double, with the bound on a float32
 * result: |c - ref| <= (k + 2) * 2^-24 * (|alpha| sum|a b| + |beta c|) (the
 * classic bound for a length-k sum of products, plus the two scalings). */
static void check_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                        float beta, int64_t pad)
{
    int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    int64_t arows = ta ? k : m, brows = tb ? n : k;
    Tensor *a = pattern(tensor_empty(SHAPE(arows > 0 ? arows : 1, lda)), 20 + (uint64_t)m);
    Tensor *b = pattern(tensor_empty(SHAPE(brows > 0 ? brows : 1, ldb)), 40 + (uint64_t)n);
    Tensor *c = pattern(tensor_empty(SHAPE(m > 0 ? m : 1, ldc)), 60 + (uint64_t)k);
    Tensor *c0 = tensor_empty(c->ndim, c->shape);
    tensor_copy_(c0, c);
    tensor__sgemm(ta, tb, m, n, k, alpha, a->data, lda, b->data, ldb, beta, c->data, ldc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0, mag = 0;
            for (int64_t p = 0; p < k; p++) {
                double x = ta ? a->data[p * lda + i] : a->data[i * lda + p];
                double y = tb ? b->data[j * ldb + p] : b->data[p * ldb + j];
                s += x * y;
                mag += fabs(x * y);
            }
            double old = c0->data[i * ldc + j];
            double ref = alpha * s + (beta == 0 ? 0 : beta * old);
            double bound = (double)(k + 2) * 0x1.0p-24 *
                           (fabs(alpha) * mag + fabs(beta * old)) + 1e-30;
            double got = c->data[i * ldc + j];
            ck_assert_msg(fabs(got - ref) <= bound,
                          "sgemm ta=%d tb=%d m=%lld n=%lld k=%lld: c[%lld][%lld] = %.9g, "
                          "want %.9g (bound %.3g)", ta, tb, (long long)m, (long long)n,
                          (long long)k, (long long)i, (long long)j, got, ref, bound);
        }
    /* the padding between rows of C is never written */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = n; j < ldc; j++)
            ck_assert_float_eq(c->data[i * ldc + j], c0->data[i * ldc + j]);
}

START_TEST(test_sgemm_sizes)
{
    /* sizes on both sides of every block edge (the micro-kernel's rows and
     * columns, the cache blocks) and of the small-product cut-over */
    static const int64_t sizes[] = {1,  2,  5,  6,  7,  12, 15, 16, 17, 24,
                                    31, 32, 33, 47, 48, 49, 65, 97, 129, 257};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    int64_t mi = _i % NS, ni = (_i * 7 + 3) % NS, ki = (_i * 5 + 1) % NS;
    /* every instruction set this CPU runs, the portable one included */
    for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
        if (tensor__sgemm_set_isa(isa) != isa) continue;
        for (int t = 0; t < 4; t++)
            check_sgemm(t & 1, t >> 1, sizes[mi], sizes[ni], sizes[ki], 1.0f, 0.0f, 0);
        check_sgemm(false, true, sizes[mi], sizes[ni], sizes[ki], -0.5f, 1.5f, 3);
        check_sgemm(true, false, sizes[ni], sizes[ki], sizes[mi], 2.0f, 1.0f, 1);
    }
    tensor__sgemm_set_isa(-1);
}
END_TEST

START_TEST(test_sgemm_large_k_and_nan_c)
{
    for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
        if (tensor__sgemm_set_isa(isa) != isa) continue;
        check_sgemm(false, false, 70, 90, 600, 1.0f, 1.0f, 0);
        check_sgemm(true, true, 300, 40, 520, 1.0f, 0.0f, 5);
        check_sgemm(false, true, 2400, 20, 13, 1.0f, 0.5f, 0);   /* more rows than a block */
        check_sgemm(true, false, 30, 530, 390, 1.0f, 0.0f, 2);    /* more columns and depth */
        /* past in_place's size with one block of columns: A read in place
         * (a_in_place), over two depth blocks, with padded rows */
        check_sgemm(false, true, 500, 200, 500, 1.0f, 0.5f, 3);
        check_sgemm(false, false, 300, 512, 400, -1.0f, 0.0f, 0);
    }
    tensor__sgemm_set_isa(-1);
    /* beta = 0 ignores C, NaN included */
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {NAN, NAN, NAN, NAN};
    tensor__sgemm(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    for (int i = 0; i < 4; i++) ck_assert_float_eq(c[i], a[i]);
}
END_TEST

/* A row or two of C computed alone (the plain loop, m < 4) has the bits it
 * has inside a taller product (the blocked kernel), for every layout, with
 * depths below, at and past the depth block of 384 and column counts with
 * and without a remainder of 8: nn_generate's cache computes one position
 * at a time and promises the full forward's logits.  Exact: both sum each
 * element over p in the same order and blocks. */
static void check_rows_alone(bool ta, bool tb, int64_t m, int64_t n, int64_t k)
{
    int64_t lda = ta ? m : k, ldb = tb ? k : n;
    Tensor *a = pattern(tensor_empty(SHAPE(ta ? k : m, lda)), 5 + (uint64_t)k);
    Tensor *b = pattern(tensor_empty(SHAPE(tb ? n : k, ldb)), 9 + (uint64_t)n);
    Tensor *tall = tensor_empty(SHAPE(m, n)), *rows = tensor_empty(SHAPE(2, n));
    tensor__sgemm(ta, tb, m, n, k, 1.0f, a->data, lda, b->data, ldb, 0.0f, tall->data, n);
    for (int64_t i0 = 0; i0 + 2 <= m; i0 += m - 2) {          /* the first and last two rows */
        for (int64_t h = 1; h <= 2; h++) {
            const float *ai = ta ? a->data + i0 : a->data + i0 * lda;
            tensor__sgemm(ta, tb, h, n, k, 1.0f, ai, lda, b->data, ldb, 0.0f, rows->data, n);
            for (int64_t i = 0; i < h; i++)
                for (int64_t j = 0; j < n; j++)
                    ck_assert_msg(memcmp(&rows->data[i * n + j], &tall->data[(i0 + i) * n + j],
                                         sizeof(float)) == 0,
                                  "ta=%d tb=%d %lldx%lldx%lld: row %lld of %lld alone: c[%lld] "
                                  "= %.9g, in the product %.9g", ta, tb, (long long)m,
                                  (long long)n, (long long)k, (long long)(i0 + i), (long long)h,
                                  (long long)j, rows->data[i * n + j],
                                  tall->data[(i0 + i) * n + j]);
        }
    }
}

START_TEST(test_sgemm_rows_alone_same_bits)
{
    static const int64_t ks[] = {5, 64, 384, 385, 800}, ns[] = {8, 13, 40, 300};
    for (int t = 0; t < 4; t++)
        for (int ki = 0; ki < 5; ki++)
            for (int ni = 0; ni < 4; ni++)
                check_rows_alone(t & 1, t >> 1, 24, ns[ni], ks[ki]);
    /* Wide enough that the rows alone go to the threads in chunks of
     * columns (1,500 x 800 floats of B): the same bits on 1 and 2 threads. */
    for (int threads = 1; threads <= 2; threads++) {
        tensor_set_num_threads(threads);
        for (int t = 0; t < 4; t++) check_rows_alone(t & 1, t >> 1, 24, 1500, 800);
    }
    tensor_set_num_threads(0);
}
END_TEST

/* One batch of tiny products, shape (2, 3), against double precision: A
 * broadcast over batch dim 0, B over dim 1, and C either one per product
 * (beta = 0) or, when c_sum, shared along dim 1 (beta = 1: the three
 * products add into it in turn).  Bound as check_sgemm's, with the length
 * of the whole sum. */
static void check_tiny_batch(bool ta, bool tb, int64_t m, int64_t n, int64_t k, bool c_sum)
{
    int64_t lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
    int64_t asz = (ta ? k : m) * lda, bsz = (tb ? n : k) * ldb, csz = m * ldc;
    int64_t shape[2] = {2, 3}, sa[2] = {0, asz}, sb[2] = {bsz, 0};
    int64_t sc[2] = {c_sum ? csz : 3 * csz, c_sum ? 0 : csz};
    Tensor *a = pattern(tensor_empty(SHAPE(3, asz)), 7 + (uint64_t)m);
    Tensor *b = pattern(tensor_empty(SHAPE(2, bsz)), 9 + (uint64_t)n);
    Tensor *c = pattern(tensor_empty(SHAPE(6, csz)), 11 + (uint64_t)k);
    Tensor *c0 = tensor_empty(c->ndim, c->shape);
    tensor_copy_(c0, c);
    float beta = c_sum ? 1.0f : 0.0f;
    if (!tensor__sgemm_tiny(m, n, k)) ck_abort_msg("%lldx%lldx%lld is not tiny", (long long)m,
                                                   (long long)n, (long long)k);
    tensor__sgemm_tiny_batch(&(SgemmBatch){
        .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
        .alpha = 1.0f, .beta = beta, .a = a->data, .b = b->data, .c = c->data, .nb = 2,
        .shape = shape, .sa = sa, .sb = sb, .sc = sc});
    for (int64_t e0 = 0; e0 < 2; e0++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < ldc; j++) {
                int64_t at = e0 * sc[0] + i * ldc + j;
                double ref = c_sum ? c0->data[at] : 0, mag = fabs(ref);
                for (int64_t e1 = 0; e1 < 3 && j < n; e1++) {
                    const float *ae = a->data + e1 * sa[1], *be = b->data + e0 * sb[0];
                    for (int64_t p = 0; p < k; p++) {
                        double x = ta ? ae[p * lda + i] : ae[i * lda + p];
                        double y = tb ? be[j * ldb + p] : be[p * ldb + j];
                        ref += x * y;
                        mag += fabs(x * y);
                    }
                    if (!c_sum) {
                        double got = c->data[at + e1 * sc[1]];
                        if (fabs(got - ref) > (double)(k + 2) * 0x1.0p-24 * mag)
                            ck_abort_msg(
                                "tiny ta=%d tb=%d %lldx%lldx%lld [%lld,%lld][%lld][%lld]: "
                                "%.9g, want %.9g", ta, tb, (long long)m, (long long)n,
                                (long long)k, (long long)e0, (long long)e1, (long long)i,
                                (long long)j, got, ref);
                        ref = mag = 0;
                    }
                }
                if (j >= n) {   /* the padding between rows of C is never written */
                    for (int64_t e1 = 0; e1 < (c_sum ? 1 : 3); e1++)
                        if (c->data[at + e1 * sc[1]] != c0->data[at + e1 * sc[1]])
                            ck_abort_msg("tiny %lldx%lldx%lld wrote C's padding", (long long)m,
                                         (long long)n, (long long)k);
                } else if (c_sum) {
                    if (fabs(c->data[at] - ref) > (double)(3 * k + 2) * 0x1.0p-24 * mag)
                        ck_abort_msg("tiny sum ta=%d tb=%d %lldx%lldx%lld: %.9g, want %.9g", ta, tb,
                                     (long long)m, (long long)n, (long long)k, c->data[at], ref);
                }
            }
}

/* Every m, n, k in 1..16, for each layout (_i: ta, tb) and instruction set. */
START_TEST(test_sgemm_tiny_batches)
{
    bool ta = _i & 1, tb = _i >> 1;
    for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
        if (tensor__sgemm_set_isa(isa) != isa) continue;
        for (int64_t m = 1; m <= 16; m++) {
            TensorScope *scope = tensor_scope_begin();
            for (int64_t n = 1; n <= 16; n++)
                for (int64_t k = 1; k <= 16; k++) {
                    check_tiny_batch(ta, tb, m, n, k, false);
                    check_tiny_batch(ta, tb, m, n, k, true);
                }
            tensor_scope_end(scope);
        }
    }
    tensor__sgemm_set_isa(-1);
}
END_TEST

static Suite *matmul_suite(void)
{
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("torch");
    tcase_add_loop_test(tc, test_matmul_matches_torch, 0,
                        sizeof matmul_cases / sizeof matmul_cases[0]);
    tcase_add_loop_test(tc, test_linear_matches_torch, 0,
                        sizeof linear_cases / sizeof linear_cases[0]);
    tcase_add_test(tc, test_linear_agrees_closely);
    tcase_add_test(tc, test_linear_noncontiguous_3d_name);
    suite_add_tcase(s, tc);
    tc = tcase_create("layouts");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_matmul_strided_operands);
    tcase_add_test(tc, test_matmul_copies_operands_without_unit_stride);
    tcase_add_test(tc, test_matmul_strided_batches);
    tcase_add_test(tc, test_matmul_broadcast_gradient_is_summed);
    tcase_add_test(tc, test_matmul_empty_and_zero_k);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_threads_give_the_same_result);
    tcase_add_test(tc, test_threads_same_gradients);
    tcase_add_test(tc, test_pool_runs_each_chunk_once);
    tcase_add_test(tc, test_flush_denormal);
    tcase_add_test(tc, test_threads_after_fork);
    tcase_add_test(tc, test_blas_switch);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_null_propagates_without_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("sgemm");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_sgemm_sizes, 0, 20);
    tcase_add_test(tc, test_sgemm_large_k_and_nan_c);
    tcase_add_loop_test(tc, test_sgemm_tiny_batches, 0, 4);
    tcase_add_test(tc, test_sgemm_rows_alone_same_bits);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(matmul_suite)
