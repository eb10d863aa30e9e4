/*
 * Random numbers identical to PyTorch's CPU generator (torch 1.13, x86-64
 * with AVX2 kernels), bit for bit, and dropout built on them.
 *
 * What PyTorch does, and so what this file does:
 *   - MT19937 seeded by init_genrand with the low 32 bits of the seed; a
 *     64-bit draw is (first 32-bit draw << 32) | second.
 *   - float uniform: the low 24 bits of one 32-bit draw times 2^-24, mapped
 *     to [from, to) as fmaf(u, to - from, from): the AVX2 kernels are built
 *     with FMA and the compiler fuses that multiply-add.
 *   - double uniform: the low 53 bits of a 64-bit draw times 2^-53.
 *   - fills run serially in memory order (TensorIterator sorts dims by
 *     stride): a transposed tensor gets the draws of its contiguous base.
 *   - normal, fewer than 16 elements or not contiguous: per element, double
 *     Box-Muller over two double uniforms u1, u2: r = sqrt(-2 log(1 - u2)),
 *     theta = 2 pi u1, return r cos(theta) and cache r sin(theta) in the
 *     generator for the next call; value = (float)fma(n, std, mean).
 *   - normal, 16 or more contiguous elements: fill every element with a
 *     float uniform, then transform blocks of 16 with the AVX2 kernel
 *     (normal_fill_16 below); when the size is not a multiple of 16 the last
 *     16 elements are drawn again and transformed again.  This path neither
 *     reads nor clears the cached normal.
 *   - bernoulli(p) with a scalar p (non-MKL build): double uniform u < p.
 *   - dropout on a CPU: noise = bernoulli(1 - p) / (float)(1 - p) in float,
 *     drawn over a contiguous tensor of the input's shape; out = x * noise.
 */
#include "core/tensor_internal.h"

#include <math.h>
#include <string.h>

/* The float transforms below must round every operation as PyTorch's kernel
 * does, fusing only where written fmaf().  x86-64 without -mfma never fuses;
 * other targets (aarch64) would, by default, in GNU C. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

enum { MT_N = 624, MT_M = 397 };

/* ---- MT19937 ------------------------------------------------------------- */

/* Used until tensor_manual_seed(): the default of PyTorch's CPUGeneratorImpl
 * constructor.  torch seeds its own default generator from the OS at start-up;
 * a fixed seed keeps programs that never seed reproducible. */
#define DEFAULT_SEED 67280421310721ULL

/* One per thread (tensor.h, Threads): a thread's draws do not depend on
 * what other threads draw, or when. */
static _Thread_local TensorGenerator default_generator;
static _Thread_local bool default_seeded;

TensorGenerator *tensor_default_generator(void)
{
    if (!default_seeded) {
        tensor_generator_seed(&default_generator, DEFAULT_SEED);
        default_seeded = true;
    }
    return &default_generator;
}

void tensor_generator_seed(TensorGenerator *g, uint64_t seed)
{
    if (!g) return;
    g->seed = seed;
    g->state[0] = (uint32_t)seed;   /* init_genrand: only the low 32 bits count */
    for (uint32_t j = 1; j < MT_N; j++)
        g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
    g->index = MT_N;
    g->has_next_double_normal = false;
    g->next_double_normal = 0;
    g->has_next_float_normal = false;
    g->next_float_normal = 0;
}

void tensor_manual_seed(uint64_t seed)
{
    tensor_generator_seed(tensor_default_generator(), seed);
}

TensorGenerator *tensor__generator_or_default(TensorGenerator *g)
{
    return g ? g : tensor_default_generator();
}

static inline uint32_t mt_mix(uint32_t upper, uint32_t lower, uint32_t far)
{
    uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
    return far ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
}

/* Regenerates all 624 words at once, as the reference MT19937 does:
 * s[k] = mix(s[k], s[k + 1], s[k + M]) with indices mod N, in order k = 0..N-1.
 * Split where the indices wrap, so the loops have no modulo and vectorise. */
static void mt_twist(uint32_t *s)
{
    int k = 0;
    for (; k < MT_N - MT_M; k++) s[k] = mt_mix(s[k], s[k + 1], s[k + MT_M]);
    for (; k < MT_N - 1; k++) s[k] = mt_mix(s[k], s[k + 1], s[k + MT_M - MT_N]);
    s[MT_N - 1] = mt_mix(s[MT_N - 1], s[0], s[MT_M - 1]);
}

static inline uint32_t mt_temper(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* The untempered words the next draws will use: up to max of them, at
 * least one (twisting when the state is used up).  The caller advances
 * g->index by what it takes. */
static const uint32_t *mt_words(TensorGenerator *g, int64_t max, int64_t *count)
{
    if (g->index >= MT_N || g->index < 0) {
        mt_twist(g->state);
        g->index = 0;
    }
    *count = MT_N - g->index < max ? MT_N - g->index : max;
    return g->state + g->index;
}

uint32_t tensor_generator_next_u32(TensorGenerator *g)
{
    g = tensor__generator_or_default(g);
    int64_t count;
    uint32_t y = *mt_words(g, 1, &count);
    g->index++;
    return mt_temper(y);
}

uint64_t tensor_generator_next_u64(TensorGenerator *g)
{
    uint64_t hi = tensor_generator_next_u32(g);
    uint64_t lo = tensor_generator_next_u32(g);
    return hi << 32 | lo;
}

/* ---- scalar draws --------------------------------------------------------- */

static inline float uniform_of(uint32_t word)  /* [0, 1), 24 bits */
{
    return (float)(word & 0xffffffu) * 0x1p-24f;
}

static float uniform_float(TensorGenerator *g)
{
    return uniform_of(tensor_generator_next_u32(g));
}

/* data[0..n) = n float uniforms in order, the same draws as n calls of
 * uniform_float, taken a state's worth at a time in a loop that vectorises
 * (rand of a (B, T, d) batch is a large part of a small training step). */
static void uniform_fill(float *data, int64_t n, TensorGenerator *g)
{
    while (n > 0) {
        int64_t count;
        const uint32_t *words = mt_words(g, n, &count);
        for (int64_t i = 0; i < count; i++) data[i] = uniform_of(mt_temper(words[i]));
        g->index += (int)count;
        data += count;
        n -= count;
    }
}

double tensor__uniform_double(TensorGenerator *g)
{
    return (double)(tensor_generator_next_u64(g) & ((1ULL << 53) - 1)) * 0x1p-53;
}

/* N(0, 1) by Box-Muller in double, two at a time: the second is cached. */
static double next_double_normal(TensorGenerator *g)
{
    if (g->has_next_double_normal) {
        g->has_next_double_normal = false;
        return g->next_double_normal;
    }
    double u1 = tensor__uniform_double(g);
    double u2 = tensor__uniform_double(g);
    double r = sqrt(-2.0 * log(1.0 - u2));
    double theta = 2.0 * M_PI * u1;
    g->next_double_normal = r * sin(theta);
    g->has_next_double_normal = true;
    return r * cos(theta);
}

double tensor__typed_double(float f)
{
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f) return strtod(buf, NULL);
    }
    return f;
}

/* ---- serial fills in memory order --------------------------------------- */

typedef struct {
    double a, b;   /* normal: mean, std; bernoulli: p */
    float fa, fb;  /* uniform: from, to */
} DrawArgs;
typedef float (*DrawFn)(TensorGenerator *g, const DrawArgs *args);

/* Visits t's elements in memory order, as TensorIterator does: the dims of
 * size > 1 sorted by decreasing stride (stable, so ties keep their order). */
static void draw_serial(Tensor *t, TensorGenerator *g, DrawFn draw, const DrawArgs *args)
{
    if (tensor_is_contiguous(t)) {
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = draw(g, args);
        return;
    }
    int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 1) continue;
        int k = n++;
        for (; k > 0 && stride[k - 1] < t->stride[d]; k--) {
            shape[k] = shape[k - 1];
            stride[k] = stride[k - 1];
        }
        shape[k] = t->shape[d];
        stride[k] = t->stride[d];
    }
    TensorIter it;
    tensor__iter_init(&it, n, shape, 1, (const int64_t *[]){stride}, NULL);
    for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it))
        t->data[it.off[0]] = draw(g, args);
}

static float draw_uniform(TensorGenerator *g, const DrawArgs *args)
{
    return fmaf(uniform_float(g), args->fb - args->fa, args->fa);
}

static float draw_normal(TensorGenerator *g, const DrawArgs *args)
{
    return (float)fma(next_double_normal(g), args->b, args->a);
}

static float draw_bernoulli(TensorGenerator *g, const DrawArgs *args)
{
    return tensor__uniform_double(g) < args->a ? 1.0f : 0.0f;
}

/* ---- the 16-wide normal transform ----------------------------------------- */
/*
 * PyTorch's AVX2 kernel computes log, sin and cos with the Cephes float
 * polynomials of avx_mathfun.h, compiled with FMA: the compiler fuses some
 * of its multiply-adds, written fmaf() here.  Which ones was found by
 * comparing with torch.randn bit for bit (64000 values, and crafted
 * generator states that reach the rare inputs where fusing x - j*DP3
 * changes sin or cos); the products by 0.5, Q2 and DP1, DP2 are exact, so
 * fusing them or not gives the same bits.
 */
static const float SQRT_HALF = 0.707106781186547524f;
static const float LOG_P[9] = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f,
                               -1.2420140846e-1f, 1.4249322787e-1f, -1.6668057665e-1f,
                               2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f};
static const float LOG_Q1 = -2.12194440e-4f, LOG_Q2 = 0.693359375f;

/* Natural log of x in (0, 1], as log256_ps. */
static float cephes_logf(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    float e = (float)((int)(bits >> 23) - 0x7f) + 1.0f;
    bits = (bits & ~0x7f800000u) | 0x3f000000u;   /* mantissa in [0.5, 1) */
    memcpy(&x, &bits, sizeof x);
    float small = 0.0f;
    if (x < SQRT_HALF) {   /* then use 2x - 1 and one less in the exponent */
        e -= 1.0f;
        small = x;
    }
    x = (x - 1.0f) + small;
    float z = x * x;
    float y = LOG_P[0];
    for (int k = 1; k < 9; k++) y = fmaf(y, x, LOG_P[k]);
    y = y * x;
    y = fmaf(y, z, e * LOG_Q1);
    y = y - z * 0.5f;
    x = x + y;
    return x + e * LOG_Q2;
}

static const float FOUR_OVER_PI = 1.27323954473516f;
static const float DP1 = -0.78515625f, DP2 = -2.4187564849853515625e-4f,
                   DP3 = -3.77489497744594108e-8f;
static const float COS_P[3] = {2.443315711809948e-5f, -1.388731625493765e-3f,
                               4.166664568298827e-2f};
static const float SIN_P[3] = {-1.9515295891e-4f, 8.3321608736e-3f, -1.6666654611e-1f};

/* sin and cos of x >= 0 (here x in [0, 2 pi)), as sincos256_ps. */
static void cephes_sincosf(float x, float *s, float *c)
{
    int j = (int)(x * FOUR_OVER_PI);
    j = (j + 1) & ~1;                 /* the octant, rounded up to even */
    float y = (float)j;
    x = fmaf(y, DP1, x);              /* x - j pi/4 in extended precision */
    x = fmaf(y, DP2, x);
    x = fmaf(y, DP3, x);
    float z = x * x;
    float pc = fmaf(fmaf(COS_P[0], z, COS_P[1]), z, COS_P[2]);
    pc = pc * z;
    pc = fmaf(pc, z, -(z * 0.5f)) + 1.0f;
    float ps = fmaf(fmaf(SIN_P[0], z, SIN_P[1]), z, SIN_P[2]);
    ps = ps * z;
    ps = fmaf(ps, x, x);
    bool swap = (j & 2) != 0;         /* octants 2, 3, 6, 7 swap the polynomials */
    float sv = swap ? pc : ps, cv = swap ? ps : pc;
    *s = (j & 4) ? -sv : sv;
    *c = ((j - 2) & 4) ? cv : -cv;
}

/* data[0..16) uniforms -> normals: pairs (j, j + 8) share one Box-Muller. */
static void normal_fill_16(float *data, float mean, float std)
{
    const float two_pi = (float)(2.0 * M_PI);
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - data[j];   /* (0, 1] for the log */
        float u2 = data[j + 8];
        float radius = sqrtf(-2.0f * cephes_logf(u1));
        float s, c;
        cephes_sincosf(two_pi * u2, &s, &c);
        data[j] = fmaf(radius * c, std, mean);
        data[j + 8] = fmaf(radius * s, std, mean);
    }
}

static void normal_fill(float *data, int64_t size, float mean, float std, TensorGenerator *g)
{
    uniform_fill(data, size, g);
    for (int64_t i = 0; i + 16 <= size; i += 16) normal_fill_16(data + i, mean, std);
    if (size % 16 == 0) return;
    data += size - 16;   /* PyTorch redraws and retransforms the last 16 */
    uniform_fill(data, 16, g);
    normal_fill_16(data, mean, std);
}

/* ---- draws skipped ------------------------------------------------------- */

/* g advanced past n 32-bit words, as n float uniforms take them (a state's
 * worth at a time, twisting where the draws would). */
static void skip_words(TensorGenerator *g, int64_t n)
{
    while (n > 0) {
        int64_t count;
        mt_words(g, n, &count);
        g->index += (int)count;
        n -= count;
    }
}

int tensor_uniform_skip(int64_t numel, TensorGenerator *gen)
{
    if (numel < 0)
        return tensor_set_error("uniform_skip: numel %lld is negative", (long long)numel), -1;
    skip_words(tensor__generator_or_default(gen), numel);
    return 0;
}

/* normal_fill's words (the last 16 drawn again when numel is not a multiple
 * of 16), or draw_serial's double normals, whose cache must end as theirs. */
int tensor_normal_skip(int64_t numel, TensorGenerator *gen)
{
    if (numel < 0)
        return tensor_set_error("normal_skip: numel %lld is negative", (long long)numel), -1;
    TensorGenerator *g = tensor__generator_or_default(gen);
    if (numel >= 16) {
        skip_words(g, numel);
        if (numel % 16) skip_words(g, 16);
        return 0;
    }
    for (int64_t i = 0; i < numel; i++) next_double_normal(g);
    return 0;
}

/* ---- public fills ---------------------------------------------------------- */

Tensor *tensor_uniform_(Tensor *t, float from, float to, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (!isfinite(from) || !isfinite(to) || !isfinite(to - from))
        return tensor_set_error("uniform_: range [%g, %g) of %s is not finite", (double)from,
                             (double)to, tensor_shape_str(t));
    if (from > to)
        return tensor_set_error("uniform_: from %g > to %g for %s", (double)from, (double)to,
                             tensor_shape_str(t));
    tensor__bump_version(t);
    TensorGenerator *g = tensor__generator_or_default(gen);
    if (tensor_is_contiguous(t)) {
        uniform_fill(t->data, t->numel, g);
        /* fmaf(u, 1, 0) is u: rand's [0, 1) needs no mapping. */
        if (from != 0.0f || to != 1.0f)
            for (int64_t i = 0; i < t->numel; i++) t->data[i] = fmaf(t->data[i], to - from, from);
        return t;
    }
    DrawArgs args = {.fa = from, .fb = to};
    draw_serial(t, g, draw_uniform, &args);
    return t;
}

Tensor *tensor_normal_(Tensor *t, float mean, float std, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (!isfinite(mean) || !(std >= 0) || !isfinite(std))
        return tensor_set_error("normal_: mean %g, std %g for %s: need a finite mean and std >= 0",
                             (double)mean, (double)std, tensor_shape_str(t));
    tensor__bump_version(t);
    TensorGenerator *g = tensor__generator_or_default(gen);
    if (t->numel >= 16 && tensor_is_contiguous(t)) {
        normal_fill(t->data, t->numel, mean, std, g);
        return t;
    }
    DrawArgs args = {.a = tensor__typed_double(mean), .b = tensor__typed_double(std)};
    draw_serial(t, g, draw_normal, &args);
    return t;
}

Tensor *tensor_bernoulli_(Tensor *t, float p, TensorGenerator *gen)
{
    if (!TENSOR__USABLE(t)) return NULL;
    if (!(p >= 0 && p <= 1))
        return tensor_set_error("bernoulli_: p = %g for %s is not in [0, 1]", (double)p,
                             tensor_shape_str(t));
    tensor__bump_version(t);
    DrawArgs args = {.a = tensor__typed_double(p)};
    draw_serial(t, tensor__generator_or_default(gen), draw_bernoulli, &args);
    return t;
}

Tensor *tensor_rand_gen(int ndim, const int64_t *shape, TensorGenerator *gen)
{
    return tensor_uniform_(tensor__new("rand", ndim, shape), 0.0f, 1.0f, gen);
}

Tensor *tensor_randn_gen(int ndim, const int64_t *shape, TensorGenerator *gen)
{
    return tensor_normal_(tensor__new("randn", ndim, shape), 0.0f, 1.0f, gen);
}

Tensor *tensor_rand(int ndim, const int64_t *shape) { return tensor_rand_gen(ndim, shape, NULL); }

Tensor *tensor_randn(int ndim, const int64_t *shape)
{
    return tensor_randn_gen(ndim, shape, NULL);
}
