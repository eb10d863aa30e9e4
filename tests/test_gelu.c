/*
 * The vectorised tanh and GELU of tensor/kernels/gelu.c, in every variant
 * this CPU runs (plain C, AVX2 + FMA, AVX-512), against the formulas in
 * double (glibc's tanh in double is correctly rounded for float purposes):
 *
 *   tanh: within 1 ulp of tanh(x) over a sweep of float bit patterns (every
 *     4093rd of all 2^32: both signs, subnormals, the saturated range up to
 *     FLT_MAX), every float within 2048 ulps of the kernel's switch points
 *     (0.9 and the clamp at 10) and of 9.0109, where tanh(x) rounds to 1;
 *     NaN stays NaN, +-inf gives +-1, -0 gives -0.  Measured over all 2^32
 *     floats: 0.996 ulp at most (glibc's tanhf: 2.16 over every 7th).
 *   gelu forward: |y - gelu(x)| <= 2 eps (|x| + |gelu(x)|) + 2^-149, eps =
 *     2^-24, over a sweep of |x| < 2^16 (every 1031st float, both signs) and
 *     a grid of step 2^-10 on [-12, 12].  Why: u = b (x + k x^3) is a few
 *     roundings off (x and k x^3 have the same sign: no cancellation);
 *     tanh(u) is 1 ulp off plus (1 - t^2) |u| times u's relative error
 *     (at most about 0.45 of it), so 1 + t is off by a few eps absolute, and
 *     0.5 x (1 + t) turns that into eps |x|; the two last products round
 *     by eps |y|; 2^-149 is a subnormal result's rounding.  Measured: 0.97.
 *   gelu backward (dy = 1): |dx - gelu'(x)| <= 2 eps (1 + |x| (1 + 3 k x^2)),
 *     the same sweep: the largest term, 0.5 x (1 - t^2) b (1 + 3 k x^2),
 *     carries tanh's absolute error (1 - t^2 cancels where |t| nears 1)
 *     times its factor.  Measured: 1.15.  (Beyond |x| of about 1e19 x^2
 *     overflows and 0 * inf gives NaN, in PyTorch's formula as here.)
 *   the backward from the forward's saved tanh(u) gives the bits of the
 *     backward that recomputes it; the variants agree bit for bit (AVX2 and
 *     AVX-512 run the same fused operations; the plain variant's fused
 *     multiply-adds in double round the same way on every input swept).
 */
#include "testutil.h"

#include "kernels/kernels.h"
#include "kernels/exp_poly.h"   /* bits_of, float_of */

#include <float.h>
#include <stdint.h>

static const double EPS = 0x1p-24;
static const float BETA = (float)(M_SQRT2 * M_2_SQRTPI * 0.5), KAPPA = 0.044715f;

/* |got - want| in units of the last place of want (float's); 0 when both
 * are NaN, a large number when only one is, or when a zero's sign differs. */
static double ulps(float got, double want)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got) ? 0 : 1e9;
    if (want == 0) return got == 0 && !signbit(got) == !signbit(want) ? 0 : 1e9;
    int e;
    frexp(want, &e);
    return fabs((double)got - want) / ldexp(1.0, e - 24 < -149 ? -149 : e - 24);
}

/* The sweeps, as functions from an index to an input, run in blocks. */
enum { BLOCK = 1 << 14, TANH_STRIDE = 4093, GELU_STRIDE = 1031 };
static const float CENTRES[] = {0.9f, 10.0f, 9.0109f};
static const float SPECIAL[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX,
                                FLT_TRUE_MIN};
enum {
    TANH_PATTERNS = (int)(((1ll << 32) + TANH_STRIDE - 1) / TANH_STRIDE),
    TANH_INPUTS = TANH_PATTERNS + 3 * 2 * 4097 + 8,
    GELU_PATTERNS = (0x47800000 + GELU_STRIDE - 1) / GELU_STRIDE,
    GELU_INPUTS = 2 * GELU_PATTERNS + 24 * 1024 + 1,
};

static float tanh_input(int64_t i)
{
    if (i < TANH_PATTERNS) return float_of((uint32_t)(i * TANH_STRIDE));
    i -= TANH_PATTERNS;
    if (i < 3 * 2 * 4097) {
        uint32_t b = bits_of(CENTRES[i / (2 * 4097)]) + (uint32_t)(i % 4097) - 2048u;
        return float_of(b | ((i / 4097) % 2 ? 0x80000000u : 0u));
    }
    return SPECIAL[i - 3 * 2 * 4097];
}

/* Every GELU_STRIDE-th float below 2^16 in magnitude, both signs, then a
 * grid of step 2^-10 on [-12, 12]. */

static float gelu_input(int64_t i)
{
    if (i < 2 * GELU_PATTERNS)
        return float_of((uint32_t)(i / 2 * GELU_STRIDE) | (i % 2 ? 0x80000000u : 0u));
    return (float)(i - 2 * GELU_PATTERNS - 12 * 1024) / 1024.0f;
}

/* x[0..len) = the inputs from first on; returns len (at most BLOCK). */
static int64_t block(float (*input)(int64_t), int64_t total, int64_t first, float *x)
{
    int64_t len = total - first < BLOCK ? total - first : BLOCK;
    for (int64_t i = 0; i < len; i++) x[i] = input(first + i);
    return len;
}

static const TensorGeluKernels *variant(int i) { return tensor__gelu_variant(i); }

/* ck_assert_msg records every assertion that passes (a write to Check's
 * pipe): millions of them would take longer than the sweeps. */
#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);  \
    } while (0)

static float x[BLOCK], y[BLOCK], t[BLOCK], ones[BLOCK], dx[BLOCK], dx_again[BLOCK];

START_TEST(test_tanh_within_one_ulp)
{
    const TensorGeluKernels *k = variant(_i);
    if (!k) return;   /* this CPU does not run the variant: nothing to check */
    for (int64_t first = 0; first < TANH_INPUTS; first += BLOCK) {
        int64_t n = block(tanh_input, TANH_INPUTS, first, x);
        k->tanh(x, y, n);
        for (int64_t i = 0; i < n; i++) {
            double want = tanh((double)x[i]);
            CHECK(ulps(y[i], want) <= 1.0, "%s: tanh(%a) = %a, %.2f ulp from %a",
                          k->name, (double)x[i], (double)y[i], ulps(y[i], want), want);
        }
    }
}
END_TEST

START_TEST(test_tanh_special_values)
{
    const TensorGeluKernels *k = variant(_i);
    if (!k) return;
    float in[] = {NAN, -NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 20.0f, -1e30f}, out[8];
    k->tanh(in, out, 8);
    ck_assert(isnan(out[0]) && isnan(out[1]));
    ck_assert(out[2] == 1.0f && out[3] == -1.0f && out[6] == 1.0f && out[7] == -1.0f);
    ck_assert(out[4] == 0.0f && signbit(out[4]) && out[5] == 0.0f && !signbit(out[5]));
}
END_TEST

START_TEST(test_gelu_against_double)
{
    const TensorGeluKernels *k = variant(_i);
    if (!k) return;
    for (int64_t i = 0; i < BLOCK; i++) ones[i] = 1.0f;
    for (int64_t first = 0; first < GELU_INPUTS; first += BLOCK) {
        int64_t n = block(gelu_input, GELU_INPUTS, first, x);
        k->forward(x, y, t, n);
        k->backward(x, t, ones, dx, n);
        k->backward(x, NULL, ones, dx_again, n);
        ck_assert_msg(memcmp(dx, dx_again, (size_t)n * sizeof *dx) == 0,
                      "%s: the backward from the saved tanh differs from the recomputed one",
                      k->name);
        for (int64_t i = 0; i < n; i++) {
            double v = x[i], u = (double)BETA * (v + (double)KAPPA * v * v * v), th = tanh(u);
            double want = 0.5 * v * (1 + th);
            CHECK(fabs(y[i] - want) <= 2 * EPS * (fabs(v) + fabs(want)) + 0x1p-149,
                          "%s: gelu(%a) = %.9g, want %.9g", k->name, v, (double)y[i], want);
            double d = 0.5 * (1 + th) +
                       0.5 * v * (1 - th * th) * BETA * (1 + 3 * (double)KAPPA * v * v);
            double scale = 1 + fabs(v) * (1 + 3 * (double)KAPPA * v * v);
            CHECK(fabs(dx[i] - d) <= 2 * EPS * scale, "%s: gelu'(%a) = %.9g, want %.9g",
                          k->name, v, (double)dx[i], d);
        }
    }
}
END_TEST

/* Every variant the CPU runs gives the plain variant's bits (a NaN's
 * payload aside). */
static void assert_same(const char *what, const float *a, const float *b, int64_t n,
                        const char *name)
{
    for (int64_t i = 0; i < n; i++)
        CHECK(bits_of(a[i]) == bits_of(b[i]) || (isnan(a[i]) && isnan(b[i])),
                      "%s(%a): plain %a, %s %a", what, (double)x[i], (double)a[i], name,
                      (double)b[i]);
}

START_TEST(test_variants_agree)
{
    const TensorGeluKernels *plain = variant(0), *k = variant(_i);
    if (!k) return;
    for (int64_t first = 0; first < TANH_INPUTS; first += BLOCK) {
        int64_t n = block(tanh_input, TANH_INPUTS, first, x);
        plain->tanh(x, y, n);
        k->tanh(x, t, n);
        assert_same("tanh", y, t, n, k->name);
    }
    for (int64_t first = 0; first < GELU_INPUTS; first += BLOCK) {
        int64_t n = block(gelu_input, GELU_INPUTS, first, x);
        plain->forward(x, y, NULL, n);
        k->forward(x, t, NULL, n);
        assert_same("gelu", y, t, n, k->name);
        plain->backward(x, NULL, x, dx, n);
        k->backward(x, NULL, x, dx_again, n);
        assert_same("gelu'", dx, dx_again, n, k->name);
    }
}
END_TEST

/* tensor_gelu runs the best variant, and its backward the saved tanh. */
START_TEST(test_tensor_gelu_uses_the_kernel)
{
    float xs[] = {-6.0f, -0.75f, -0.0f, 0.3f, 0.9f, 2.5f, 11.0f}, want[7], th[7];
    tensor__gelu_kernels()->forward(xs, want, th, 7);
    Tensor *in = tensor_requires_grad_(tensor_from_data(xs, SHAPE(7)), true);
    Tensor *out = tensor_gelu(in);
    ck_assert_int_eq(memcmp(out->data, want, sizeof want), 0);
    ck_assert_int_eq(tensor_backward(tensor_sum(out), NULL), 0);
    float one[7] = {1, 1, 1, 1, 1, 1, 1}, dwant[7];
    tensor__gelu_kernels()->backward(xs, th, one, dwant, 7);
    ck_assert_int_eq(memcmp(in->grad->data, dwant, sizeof dwant), 0);
}
END_TEST

static Suite *gelu_suite(void)
{
    Suite *s = suite_create("gelu");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_tanh_within_one_ulp, 0, TENSOR__GELU_VARIANTS);
    tcase_add_loop_test(tc, test_tanh_special_values, 0, TENSOR__GELU_VARIANTS);
    tcase_add_loop_test(tc, test_gelu_against_double, 0, TENSOR__GELU_VARIANTS);
    tcase_add_loop_test(tc, test_variants_agree, 1, TENSOR__GELU_VARIANTS);
    tcase_add_test(tc, test_tensor_gelu_uses_the_kernel);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(gelu_suite)
