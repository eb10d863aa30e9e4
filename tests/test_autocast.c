/*
 * The bfloat16 mode (tensor_autocast_begin): the rounding against PyTorch's
 * (tests/reference/gen_bf16.py), every bf16 kernel against a scalar
 * reference of sgemm.h's definition, bit for bit, on fixed inputs (sizes
 * across the depth blocks, odd depths, transposes, bands, subnormals),
 * panels, threads; then the ops: matmul and linear forward and backward in
 * the region, what stays float32, nesting.
 */
#include "kernels/bf16.h"
#include "kernels/sgemm.h"
#include "kernels/threads.h"
#include "testutil.h"

#include <float.h>
#include <stdint.h>

static uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- the rounding ------------------------------------------------------------ */

/* PyTorch's x.bfloat16().float() for fixed x: ties to even, NaN, infinities,
 * overflow to inf, subnormals kept (gen_bf16.py writes them). */
START_TEST(test_rounding_matches_torch)
{
    Tensor *x = testutil_fixture("bf16.txt", "x");
    Tensor *want = testutil_fixture("bf16.txt", "bf16");
    ck_assert_int_eq(x->numel, want->numel);
    for (int64_t i = 0; i < x->numel; i++) {
        float got = tensor__bf16_round(x->data[i]);
        ck_assert_msg(bits_of(got) == bits_of(want->data[i]) ||
                          (isnan(got) && isnan(want->data[i])),
                      "x = %a: got %a, PyTorch %a", (double)x->data[i], (double)got,
                      (double)want->data[i]);
    }
    ck_assert_uint_eq(tensor__bf16_from_float(NAN), 0x7fc0);
}
END_TEST

/* ---- the kernels against the definition --------------------------------------- */

/* Deterministic values: mostly in [-2, 2), some exact ties of the rounding,
 * some tiny (products that underflow), a few subnormal. */
static float value(uint64_t *s, int kind)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(*s >> 32);
    float x = (float)(int32_t)r * 0x1p-30f;
    switch (kind % 16) {
    case 0: return float_of((bits_of(x) & 0xffff0000u) | 0x8000u);       /* a tie */
    case 1: return x * 0x1p-70f;                                          /* tiny */
    case 2: return float_of(r & 0x807fffffu);                             /* subnormal */
    default: return x;
    }
}

static Tensor *values(int64_t rows, int64_t cols, uint64_t seed)
{
    Tensor *t = tensor_empty(SHAPE(rows, cols));
    uint64_t s = seed;
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = value(&s, (int)(i * 7 % 23));
    return t;
}

typedef struct {
    bool ta, tb;
    int64_t m, n, k, k_start;
    float beta;
} Case;

/* op(A)(i, p) and op(B)(p, j) of the stored a (m x k, or k x m) and b. */
static float opa(const Case *c, const Tensor *a, int64_t i, int64_t p)
{
    return c->ta ? a->data[p * c->m + i] : a->data[i * c->k + p];
}

static float opb(const Case *c, const Tensor *b, int64_t p, int64_t j)
{
    return c->tb ? b->data[j * c->k + p] : b->data[p * c->n + j];
}

/* sgemm.h's definition, one element at a time, under the flush the
 * products run with: per depth block (at multiples of SGEMM_KC counted
 * from k_start's origin), one fused multiply-add per depth, in order, on
 * the rounded values. */
static void reference(const Case *c, const Tensor *a, const Tensor *b, float *out)
{
    unsigned saved = tensor__flush_begin();
    for (int64_t i = 0; i < c->m; i++)
        for (int64_t j = 0; j < c->n; j++) {
            float r = out[i * c->n + j];
            bool first = true;
            int64_t lo = c->k_start, hi = c->k_start + c->k;
            for (int64_t b0 = lo / SGEMM_KC * SGEMM_KC; b0 < hi; b0 += SGEMM_KC) {
                float acc = 0;
                int64_t s = b0 > lo ? b0 : lo, e = b0 + SGEMM_KC < hi ? b0 + SGEMM_KC : hi;
                for (int64_t P = s; P < e; P++)
                    acc = fmaf(tensor__bf16_round(opa(c, a, i, P - lo)),
                               tensor__bf16_round(opb(c, b, P - lo, j)), acc);
                float beta = first ? c->beta : 1.0f;
                r = beta == 0 ? 1.0f * acc : fmaf(beta, r, 1.0f * acc);
                first = false;
            }
            out[i * c->n + j] = r;
        }
    tensor__flush_end(saved);
}

static const Case cases[] = {
    {false, false, 1, 1, 1, 0, 0},      {false, true, 1, 50, 3, 0, 0},
    {false, false, 5, 7, 9, 0, 1},      {true, false, 13, 33, 31, 0, 0},
    {false, true, 12, 32, 64, 0, 1},    {true, true, 25, 65, 17, 0, 0},
    {false, false, 3, 40, 385, 0, 0},   {false, true, 37, 70, 800, 0, 1},
    {true, false, 100, 20, 777, 0, 0},  {false, false, 30, 30, 50, 380, 1},
    {false, true, 7, 64, 400, 370, 0},  {true, true, 40, 9, 300, 768, 1},
    {false, false, 200, 140, 96, 0, 0}, {false, true, 130, 600, 70, 0, 1},
    /* shared blocks the threads pack in pieces (sgemm.c, pack_shared) */
    {false, false, 96, 300, 400, 0, 0}, {true, true, 300, 96, 400, 0, 1},
    {false, false, 100, 120, 400, 0, 0}, {true, false, 100, 128, 450, 0, 1},   /* narrow slices */
};
enum { N_CASES = sizeof cases / sizeof *cases };

/* One case on the current kernel and threads: the bits of the reference. */
static void check_case(const Case *c, const char *what)
{
    TensorScope *s = tensor_scope_begin();
    Tensor *a = values(c->ta ? c->k : c->m, c->ta ? c->m : c->k, 11 + (uint64_t)c->m);
    Tensor *b = values(c->tb ? c->n : c->k, c->tb ? c->k : c->n, 97 + (uint64_t)c->n);
    Tensor *want = values(c->m, c->n, 5), *got = tensor_clone(want);
    reference(c, a, b, want->data);
    tensor__gemm(&(SgemmCall){.ta = c->ta, .tb = c->tb, .m = c->m, .n = c->n, .k = c->k,
                              .lda = c->ta ? c->m : c->k, .ldb = c->tb ? c->k : c->n,
                              .ldc = c->n, .alpha = 1.0f, .beta = c->beta, .a = a->data,
                              .b = b->data, .c = got->data, .k_start = c->k_start,
                              .bf16 = true});
    for (int64_t e = 0; e < got->numel; e++)
        ck_assert_msg(bits_of(got->data[e]) == bits_of(want->data[e]),
                      "%s: %lldx%lldx%lld ta %d tb %d k_start %lld: element %lld: %a, want %a",
                      what, (long long)c->m, (long long)c->n, (long long)c->k, c->ta, c->tb,
                      (long long)c->k_start, (long long)e, (double)got->data[e],
                      (double)want->data[e]);
    tensor_scope_end(s);
}

/* Every bf16 kernel this CPU runs, the float32 path on each instruction
 * set, one and two threads. */
START_TEST(test_kernels_give_the_reference_bits)
{
    const Case *c = &cases[_i];
    static const char *const names[] = {"fma", "dpbf16", "pairs"};
    for (int kernel = TENSOR__BF16_FMA; kernel <= TENSOR__BF16_PAIRS; kernel++) {
        if (tensor__sbgemm_set_kernel(kernel) != kernel) continue;
        for (int isa = TENSOR__SGEMM_PORTABLE; isa <= TENSOR__SGEMM_AVX512; isa++) {
            if (tensor__sgemm_set_isa(isa) != isa) continue;
            if (kernel != TENSOR__BF16_FMA && isa != TENSOR__SGEMM_AVX512 &&
                isa != tensor__sgemm_set_isa(-1))
                continue;
            for (int threads = 1; threads <= 2; threads++) {
                tensor_set_num_threads(threads);
                char what[64];
                snprintf(what, sizeof what, "%s isa %d threads %d", names[kernel], isa, threads);
                check_case(c, what);
            }
        }
        tensor__sgemm_set_isa(-1);
    }
    tensor__sbgemm_set_kernel(-1);
    tensor_set_num_threads(0);
}
END_TEST

/* op(B) packed once into panels gives the bits of packing it per product,
 * whole or appended a depth (a value cache) or a column (a key cache) at a
 * time, on one and two threads.  One-row products read up to
 * SGEMM_ROW_PANELS panels at once (SgemmIsa.row): whole groups, a group
 * with a partial last panel, several depth blocks, and one large enough
 * for the threads. */
START_TEST(test_panels_give_the_same_bits)
{
    static const Case pc[] = {
        {false, true, 1, 50, 64, 0, 0},    {false, false, 1, 64, 777, 0, 0},
        {false, true, 3, 100, 800, 0, 1},  {false, false, 20, 70, 33, 0, 0},
        {false, true, 1, 256, 64, 0, 1},   {false, true, 1, 357, 800, 0, 1},
        {false, false, 1, 1200, 800, 0, 0},
    };
    for (size_t ci = 0; ci < sizeof pc / sizeof *pc * 2; ci++) {
        const Case *c = &pc[ci / 2];
        tensor_set_num_threads(1 + (int)(ci % 2));
        for (int kernel = TENSOR__BF16_FMA; kernel <= TENSOR__BF16_PAIRS; kernel++) {
            if (tensor__sbgemm_set_kernel(kernel) != kernel) continue;
            TensorScope *s = tensor_scope_begin();
            Tensor *a = values(c->m, c->k, 3);
            Tensor *b = values(c->tb ? c->n : c->k, c->tb ? c->k : c->n, 4);
            Tensor *want = values(c->m, c->n, 5), *got = tensor_clone(want);
            reference(c, a, b, want->data);
            int64_t ldb = c->tb ? c->k : c->n;
            SgemmPanels *P = tensor__panels_new(c->k, c->n);
            ck_assert_ptr_nonnull(P);
            if (c->tb) /* a column at a time */
                for (int64_t j = 0; j < c->n; j++)
                    tensor__panels_pack(P, true, b->data + j * ldb, ldb, 0, c->k, j, 1);
            else       /* a depth at a time */
                for (int64_t p = 0; p < c->k; p++)
                    tensor__panels_pack(P, false, b->data + p * ldb, ldb, p, 1, 0, c->n);
            tensor__gemm(&(SgemmCall){.m = c->m, .n = c->n, .k = c->k, .lda = c->k,
                                      .ldc = c->n, .alpha = 1.0f, .beta = c->beta,
                                      .a = a->data, .c = got->data, .bf16 = true, .panels = P});
            for (int64_t e = 0; e < got->numel; e++)
                ck_assert_msg(bits_of(got->data[e]) == bits_of(want->data[e]),
                              "panels %zu threads %d kernel %d: element %lld: %a, want %a",
                              ci / 2, 1 + (int)(ci % 2), kernel, (long long)e,
                              (double)got->data[e], (double)want->data[e]);
            tensor__panels_free(P);
            tensor_scope_end(s);
        }
    }
    tensor__sbgemm_set_kernel(-1);
    tensor_set_num_threads(0);
}
END_TEST

/* A band (k_start) in float32 gives each element the bits of the longer
 * product whose first depths are zeros. */
START_TEST(test_float32_band_matches_longer_product)
{
    static const int64_t starts[] = {0, 2, 380, 384, 500, 1000};
    for (size_t si = 0; si < sizeof starts / sizeof *starts; si++) {
        TensorScope *s = tensor_scope_begin();
        int64_t m = 9, n = 35, k = 450, k0 = starts[si], K = k0 + k;
        Tensor *a = values(m, K, 1), *b = values(K, n, 2);
        for (int64_t i = 0; i < m; i++)
            for (int64_t p = 0; p < k0; p++) a->data[i * K + p] = 0;
        Tensor *whole = tensor_matmul(a, b), *band = tensor_zeros(SHAPE(m, n));
        tensor__gemm(&(SgemmCall){.m = m, .n = n, .k = k, .lda = K, .ldb = n, .ldc = n,
                                  .alpha = 1.0f, .a = a->data + k0, .b = b->data + k0 * n,
                                  .c = band->data, .k_start = k0});
        ck_assert_mem_eq(band->data, whole->data, (size_t)(m * n) * sizeof(float));
        tensor_scope_end(s);
    }
}
END_TEST

/* ---- the ops ---------------------------------------------------------------------- */

static void assert_same_bits(const Tensor *got, const Tensor *want, const char *what)
{
    ck_assert_msg(got && want, "%s: %s", what, tensor_error());
    ck_assert_msg(tensor_same_shape(got, want), "%s: shapes %s and %s", what,
                  tensor_shape_str(got), tensor_shape_str(want));
    Tensor *g = tensor_contiguous(got), *w = tensor_contiguous(want);
    for (int64_t e = 0; e < g->numel; e++)
        ck_assert_msg(bits_of(g->data[e]) == bits_of(w->data[e]),
                      "%s: element %lld: %a, want %a", what, (long long)e, (double)g->data[e],
                      (double)w->data[e]);
}

/* The definition's product of 2-d a (m x k) and b (k x n), into c's
 * values (beta 1) or alone (beta 0). */
static Tensor *defined(const Tensor *a, const Tensor *b, const Tensor *c)
{
    Case cs = {.m = a->shape[0], .n = b->shape[1], .k = a->shape[1], .beta = c ? 1.0f : 0.0f};
    Tensor *ac = tensor_contiguous(a), *bc = tensor_contiguous(b);
    Tensor *out = c ? tensor_clone(c) : tensor_zeros(SHAPE(cs.m, cs.n));
    reference(&cs, ac, bc, out->data);
    return out;
}

static Tensor *leaf(Tensor *t) { return tensor_requires_grad_(t, true); }

/* matmul in the region: each product of a batch is the definition's, and
 * so are both gradients, the backward run after the region ended. */
START_TEST(test_matmul_forward_and_backward)
{
    Tensor *a = leaf(values(3 * 20, 45, 1)), *b = leaf(values(45, 17, 2));
    Tensor *a3 = tensor_view(a, SHAPE(3, 20, 45));
    Tensor *R = values(3 * 20, 17, 3);
    tensor_autocast_begin(true);
    ck_assert(tensor_is_autocast_enabled());
    Tensor *out = tensor_matmul(a3, b);                                  /* (3, 20, 17) */
    Tensor *loss = tensor_sum(tensor_mul(out, tensor_view(R, SHAPE(3, 20, 17))));
    tensor_autocast_end();
    ck_assert(!tensor_is_autocast_enabled());
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    for (int64_t e = 0; e < 3; e++) {
        Tensor *ae = tensor_narrow(a, 0, 20 * e, 20);
        Tensor *oe = tensor_squeeze(tensor_narrow(out, 0, e, 1), 0);
        assert_same_bits(oe, defined(ae, b, NULL), "forward");
    }
    /* da = R @ b^T, db = a^T @ R (one product: the batch folds into k) */
    assert_same_bits(a->grad, defined(R, tensor_t(b), tensor_zeros(SHAPE(60, 45))), "da");
    assert_same_bits(b->grad, defined(tensor_t(a), R, tensor_zeros(SHAPE(45, 17))), "db");
}
END_TEST

/* linear: the bias first in C, then the product added (addmm's order). */
START_TEST(test_linear_forward_and_backward)
{
    Tensor *x = leaf(values(2 * 5, 70, 4)), *w = leaf(values(30, 70, 5));
    Tensor *bias = leaf(values(1, 30, 6)), *R = values(10, 30, 7);
    tensor_autocast_begin(true);
    Tensor *out = tensor_linear(tensor_view(x, SHAPE(2, 5, 70)), w, tensor_view(bias, SHAPE(30)));
    Tensor *loss = tensor_sum(tensor_mul(tensor_view(out, SHAPE(10, 30)), R));
    tensor_autocast_end();
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    Tensor *c = tensor_contiguous(tensor_expand(bias, SHAPE(10, 30)));
    assert_same_bits(tensor_view(out, SHAPE(10, 30)), defined(x, tensor_t(w), c), "forward");
    assert_same_bits(x->grad, defined(R, w, tensor_zeros(SHAPE(10, 70))), "dx");
    assert_same_bits(w->grad, defined(tensor_t(R), x, tensor_zeros(SHAPE(30, 70))), "dw");
    /* the bias's gradient is a float32 sum of the rows, in order, as outside */
    Tensor *db = tensor_zeros(SHAPE(1, 30));
    for (int64_t i = 0; i < 10; i++)
        for (int64_t j = 0; j < 30; j++) db->data[j] += R->data[i * 30 + j];
    assert_same_bits(bias->grad, db, "dbias");
}
END_TEST

/* Outside the region, and in a region turned off, the products are
 * float32's, bit for bit; nesting restores each level's setting. */
START_TEST(test_off_is_float32)
{
    Tensor *a = values(33, 65, 8), *b = values(65, 19, 9);
    Tensor *plain = tensor_matmul(a, b);
    ck_assert(!tensor_is_autocast_enabled());
    tensor_autocast_begin(true);
    Tensor *rounded = tensor_matmul(a, b);
    tensor_autocast_begin(false);
    ck_assert(!tensor_is_autocast_enabled());
    assert_same_bits(tensor_matmul(a, b), plain, "off inside on");
    tensor_autocast_begin(true);
    ck_assert(tensor_is_autocast_enabled());
    assert_same_bits(tensor_matmul(a, b), rounded, "on inside off");
    tensor_autocast_end();
    ck_assert(!tensor_is_autocast_enabled());
    tensor_autocast_end();
    ck_assert(tensor_is_autocast_enabled());
    tensor_autocast_end();
    ck_assert(!tensor_is_autocast_enabled());
    tensor_autocast_end();   /* one end too many: nothing to end */
    ck_assert(!tensor_is_autocast_enabled());
    assert_same_bits(tensor_matmul(a, b), plain, "after");
    ck_assert(memcmp(rounded->data, plain->data, (size_t)plain->numel * sizeof(float)) != 0);
}
END_TEST

/* What PyTorch's CPU autocast keeps in float32 is float32 here too, bit for
 * bit: softmax, layer norm, the losses, reductions, elementwise ops. */
START_TEST(test_the_rest_stays_float32)
{
    Tensor *x = values(6, 50, 10), *y = tensor_from_ids((const int64_t[]){1, 4, 9, 0, 49, 7},
                                                        SHAPE(6));
    Tensor *w = values(1, 50, 11), *bb = values(1, 50, 12);
    Tensor *out[2][5];
    for (int on = 0; on < 2; on++) {
        tensor_autocast_begin(on);
        out[on][0] = tensor_softmax(x, -1);
        out[on][1] = tensor_layer_norm(x, tensor_view(w, SHAPE(50)), tensor_view(bb, SHAPE(50)),
                                       1e-5);
        out[on][2] = tensor_cross_entropy(x, y);
        out[on][3] = tensor_sum(tensor_gelu(x));
        out[on][4] = tensor_causal_softmax(tensor_view(x, SHAPE(1, 6, 50)), 8.0f, 44);
        tensor_autocast_end();
    }
    for (int i = 0; i < 5; i++) assert_same_bits(out[1][i], out[0][i], "stays float32");
}
END_TEST

/* Under no-grad a long-lived weight is packed once (a token of
 * generation); the result is the bits of packing it per product, and an
 * in-place change of the weight is seen at the next product. */
START_TEST(test_weight_copy_same_bits_and_fresh)
{
    Tensor *w = tensor_keep(values(300, 800, 13)), *x = values(1, 800, 14);
    tensor_autocast_begin(true);
    Tensor *with_grad = tensor_linear(x, w, NULL);
    tensor_no_grad_begin();
    Tensor *first = tensor_linear(x, w, NULL), *again = tensor_linear(x, w, NULL);
    tensor_no_grad_end();
    assert_same_bits(first, with_grad, "copy");
    assert_same_bits(again, with_grad, "copy, second use");
    tensor_fill_(w, 0.5f);
    tensor_no_grad_begin();
    Tensor *after = tensor_linear(x, w, NULL);
    tensor_no_grad_end();
    Tensor *fresh = tensor_linear(x, w, NULL);
    tensor_autocast_end();
    assert_same_bits(after, fresh, "after fill_");
    tensor_free(w);
}
END_TEST

Suite *autocast_suite(void);
Suite *autocast_suite(void)
{
    Suite *s = suite_create("autocast");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rounding_matches_torch);
    tcase_add_loop_test(tc, test_kernels_give_the_reference_bits, 0, N_CASES);
    tcase_add_test(tc, test_panels_give_the_same_bits);
    tcase_add_test(tc, test_float32_band_matches_longer_product);
    suite_add_tcase(s, tc);
    tc = tcase_create("ops");
    tcase_add_test(tc, test_matmul_forward_and_backward);
    tcase_add_test(tc, test_linear_forward_and_backward);
    tcase_add_test(tc, test_off_is_float32);
    tcase_add_test(tc, test_the_rest_stays_float32);
    tcase_add_test(tc, test_weight_copy_same_bits_and_fresh);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(autocast_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tensor_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
