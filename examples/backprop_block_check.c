/*
 * backprop_block's checks that do not trust the library: the block's
 * forward again in double precision, written with plain loops, for the
 * central differences every gradient is compared with; and the printed
 * LayerNorm and GELU formulas evaluated by hand.
 */
#include <math.h>

#include "backprop_block.h"

/* ---- the same forward in double precision, for central differences ---------- */

typedef struct {
    int rows, cols;
    double v[MAX_ELEMS];
} Mat;

static Mat mat_of(const Tensor *t)
{
    Tensor *c = tensor_contiguous(t);
    int cols = (int)t->shape[t->ndim - 1];
    Mat m = {(int)(t->numel / cols), cols, {0}};
    for (int i = 0; c && i < m.rows * m.cols; i++) m.v[i] = c->data[i];
    return m;
}

/* x @ w^T + b (b NULL: none): nn.Linear. */
static Mat linear(const Mat *x, const Mat *w, const Mat *b)
{
    Mat y = {x->rows, w->rows, {0}};
    for (int i = 0; i < y.rows; i++)
        for (int o = 0; o < y.cols; o++) {
            double s = b ? b->v[o] : 0;
            for (int k = 0; k < x->cols; k++) s += x->v[i * x->cols + k] * w->v[o * w->cols + k];
            y.v[i * y.cols + o] = s;
        }
    return y;
}

/* scale * (x - mean) / sqrt(var + eps) + shift, row by row, biased var. */
static Mat layer_norm(const Mat *x, const Mat *scale, const Mat *shift)
{
    Mat y = *x;
    for (int i = 0; i < x->rows; i++) {
        const double *r = &x->v[i * x->cols];
        double mean = 0, var = 0;
        for (int j = 0; j < x->cols; j++) mean += r[j] / x->cols;
        for (int j = 0; j < x->cols; j++) var += (r[j] - mean) * (r[j] - mean) / x->cols;
        for (int j = 0; j < x->cols; j++)
            y.v[i * x->cols + j] = scale->v[j] * (r[j] - mean) / sqrt(var + LN_EPS) + shift->v[j];
    }
    return y;
}

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
static Mat gelu(Mat m)
{
    for (int i = 0; i < m.rows * m.cols; i++) {
        double u = m.v[i];
        double a = sqrt(2 / 3.14159265358979323846) * (u + 0.044715 * u * u * u);
        m.v[i] = 0.5 * u * (1 + tanh(a));
    }
    return m;
}

static Mat add(const Mat *a, const Mat *b)
{
    Mat c = *a;
    for (int i = 0; i < c.rows * c.cols; i++) c.v[i] += b->v[i];
    return c;
}

/* Row h * T + i: head h's causal softmax of query i over keys 0..i. */
static Mat attention_weights(const Mat *q, const Mat *k)
{
    Mat w = {HEADS * T, T, {0}};
    for (int h = 0; h < HEADS; h++)
        for (int i = 0; i < T; i++) {
            double *r = &w.v[(h * T + i) * T], max = -INFINITY, sum = 0;
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int d = 0; d < HD; d++)
                    s += q->v[i * E + h * HD + d] * k->v[j * E + h * HD + d];
                r[j] = s / sqrt(HD);
                max = fmax(max, r[j]);
            }
            for (int j = 0; j <= i; j++) sum += r[j] = exp(r[j] - max);
            for (int j = 0; j <= i; j++) r[j] /= sum;
        }
    return w;
}

/* Each head's weights @ values, the heads side by side: (T, E). */
static Mat attention_context(const Mat *w, const Mat *v)
{
    Mat c = {T, E, {0}};
    for (int h = 0; h < HEADS; h++)
        for (int i = 0; i < T; i++)
            for (int d = 0; d < HD; d++)
                for (int j = 0; j < T; j++)
                    c.v[i * E + h * HD + d] += w->v[(h * T + i) * T + j] * v->v[j * E + h * HD + d];
    return c;
}

/* The loss with element k of stage s moved by delta: the forward from the
 * leaves, nudging s as soon as it is made. */
static double nudged_loss(const Walk *w, Stage s, int k, double delta)
{
    Mat m[N_STAGES];
    for (Stage l = X; l < FIRST_INTERMEDIATE; l++) {
        m[l] = mat_of(w->t[l]);
        m[l].v[k] += (s == l) * delta;
    }
#define MAKE(stage, value) (m[stage] = (value), m[stage].v[k] += (s == (stage)) * delta)
    MAKE(NORM1, layer_norm(&m[X], &m[SCALE1], &m[SHIFT1]));
    MAKE(QUERIES, linear(&m[NORM1], &m[WQ], NULL));
    MAKE(KEYS, linear(&m[NORM1], &m[WK], NULL));
    MAKE(VALUES, linear(&m[NORM1], &m[WV], NULL));
    MAKE(WEIGHTS, attention_weights(&m[QUERIES], &m[KEYS]));
    MAKE(CONTEXT, attention_context(&m[WEIGHTS], &m[VALUES]));
    MAKE(ATT, linear(&m[CONTEXT], &m[WO], &m[BO]));
    MAKE(H, add(&m[ATT], &m[X]));
    MAKE(NORM2, layer_norm(&m[H], &m[SCALE2], &m[SHIFT2]));
    MAKE(HIDDEN, linear(&m[NORM2], &m[W1], &m[B1]));
    MAKE(GELU, gelu(m[HIDDEN]));
    MAKE(FF, linear(&m[GELU], &m[W2], &m[B2]));
    MAKE(OUT, add(&m[FF], &m[H]));
#undef MAKE
    Mat target = mat_of(w->target);
    double loss = 0;
    for (int i = 0; i < T * E; i++) {
        double e = m[OUT].v[i] - target.v[i];
        loss += e * e;
    }
    return loss / (T * E);
}

/* d loss / d stage, element by element: (L(v + h) - L(v - h)) / 2h.  In
 * double, h = 1e-6 leaves a truncation error near h^2 and a rounding error
 * near 1e-16 / h, both far below float32's resolution. */
Tensor *central_difference(const Walk *w, Stage s)
{
    const double h = 1e-6;
    Mat shape = mat_of(w->t[s]);
    Tensor *g = tensor_zeros(SHAPE(shape.rows, shape.cols));
    if (!g) return NULL;
    for (int k = 0; k < g->numel; k++)
        g->data[k] = (float)((nudged_loss(w, s, k, h) - nudged_loss(w, s, k, -h)) / (2 * h));
    return g;
}

/* ---- the printed formulas, evaluated by hand ------------------------------------ */

/* LayerNorm's backward on one row at a time, in double:
 *   dx = (1/sigma) * (dy_hat - mean(dy_hat) - xhat * mean(dy_hat * xhat)),
 *   dy_hat = dy * scale, xhat = (x - mean(x)) / sigma, sigma = sqrt(var(x) + eps). */
Tensor *layer_norm_dx(const Tensor *x, const Tensor *dy, const Tensor *scale)
{
    Mat xs = mat_of(x), g = mat_of(dy), w = mat_of(scale);
    Tensor *dx = tensor_zeros(SHAPE(xs.rows, xs.cols));
    for (int i = 0; dx && i < xs.rows; i++) {
        double *r = &xs.v[i * xs.cols], mean = 0, var = 0, m1 = 0, m2 = 0;
        double xhat[E], dyhat[E];
        for (int j = 0; j < E; j++) mean += r[j] / E;
        for (int j = 0; j < E; j++) var += (r[j] - mean) * (r[j] - mean) / E;
        double sigma = sqrt(var + LN_EPS);
        for (int j = 0; j < E; j++) {
            xhat[j] = (r[j] - mean) / sigma;
            dyhat[j] = g.v[i * E + j] * w.v[j];
            m1 += dyhat[j] / E;
            m2 += dyhat[j] * xhat[j] / E;
        }
        for (int j = 0; j < E; j++)
            dx->data[i * E + j] = (float)((dyhat[j] - m1 - xhat[j] * m2) / sigma);
    }
    return dx;
}

/* gelu'(u) * d_gelu, in double. */
Tensor *gelu_dx(const Tensor *u, const Tensor *dy)
{
    Mat x = mat_of(u), g = mat_of(dy);
    Tensor *dx = tensor_zeros(SHAPE(x.rows, x.cols));
    const double c = sqrt(2 / 3.14159265358979323846);
    for (int i = 0; dx && i < x.rows * x.cols; i++) {
        double v = x.v[i], th = tanh(c * (v + 0.044715 * v * v * v));
        double d = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * c * (1 + 3 * 0.044715 * v * v);
        dx->data[i] = (float)(d * g.v[i]);
    }
    return dx;
}
