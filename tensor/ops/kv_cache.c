/*
 * Keys and values in bf16 panels for generation (ops/kv_cache.h).
 */
#include "ops/kv_cache.h"
#include "core/tensor_internal.h"
#include "kernels/sgemm.h"
#include "kernels/threads.h"

#include <stdlib.h>
#include <string.h>

struct TensorKVPanels {
    int64_t batch, heads, capacity, head_dim;
    SgemmPanels **k, **v;      /* per batch element and head */
};

void tensor__kv_panels_free(TensorKVPanels *p)
{
    if (!p) return;
    for (int64_t i = 0; i < p->batch * p->heads; i++) {
        if (p->k) tensor__panels_free(p->k[i]);
        if (p->v) tensor__panels_free(p->v[i]);
    }
    free(p->k);
    free(p->v);
    free(p);
}

TensorKVPanels *tensor__kv_panels_new(int64_t batch, int64_t heads, int64_t capacity,
                                      int64_t head_dim)
{
    TensorKVPanels *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    *p = (TensorKVPanels){.batch = batch, .heads = heads, .capacity = capacity,
                          .head_dim = head_dim};
    int64_t n = batch * heads;
    p->k = calloc((size_t)n, sizeof *p->k);
    p->v = calloc((size_t)n, sizeof *p->v);
    for (int64_t i = 0; p->k && p->v && i < n; i++) {
        p->k[i] = tensor__panels_new(head_dim, capacity);
        p->v[i] = tensor__panels_new(capacity, head_dim);
        if (!p->k[i] || !p->v[i]) break;
    }
    if (!p->k || !p->v || !p->k[n - 1] || !p->v[n - 1]) {
        tensor__kv_panels_free(p);
        return NULL;
    }
    return p;
}

/* The (t, head_dim) matrix of batch element b, head h of x (B, H, t, hd). */
static const float *head_of(const Tensor *x, int64_t b, int64_t h)
{
    return x->data + b * x->stride[0] + h * x->stride[1];
}

void tensor__kv_panels_append(TensorKVPanels *p, const Tensor *keys, const Tensor *values,
                              int64_t n0)
{
    int64_t t = keys->shape[2];
    TENSOR__ASSERT(keys->stride[3] == 1 && values->stride[3] == 1 && n0 + t <= p->capacity);
    for (int64_t b = 0; b < p->batch; b++)
        for (int64_t h = 0; h < p->heads; h++) {
            int64_t i = b * p->heads + h;
            /* a key is a column of op(B) = keys^T: its row of keys, transposed */
            tensor__panels_pack(p->k[i], true, head_of(keys, b, h), keys->stride[2], 0,
                                p->head_dim, n0, t);
            /* a value is a depth of op(B) = values */
            tensor__panels_pack(p->v[i], false, head_of(values, b, h), values->stride[2], n0, t,
                                0, p->head_dim);
        }
}

/* The product of each batch element and head: x's (t, k) @ panels (k, n). */
typedef struct {
    const TensorKVPanels *p;
    const Tensor *x;
    bool scores;
    int64_t n, q0, t;
    float *out, *masked;       /* masked: the weights, tril'd, (B, H, t, n) */
} Heads;

static void one_head(void *ctx, int64_t i, int worker)
{
    const Heads *g = ctx;
    int64_t b = i / g->p->heads, h = i % g->p->heads, hd = g->p->head_dim;
    const float *a = head_of(g->x, b, h);
    int64_t lda = g->x->stride[2], cols = g->scores ? g->n : hd, depth = g->scores ? hd : g->n;
    float *c = g->out + i * g->t * cols;
    if (!g->scores) {   /* tril(weights, q0): the kept part, zeros after it */
        float *w = g->masked + i * g->t * g->n;
        for (int64_t r = 0; r < g->t; r++) {
            int64_t seen = r + g->q0 + 1 < g->n ? r + g->q0 + 1 : g->n;
            memcpy(w + r * g->n, a + r * lda, (size_t)seen * sizeof *w);
            memset(w + r * g->n + seen, 0, (size_t)(g->n - seen) * sizeof *w);
        }
        a = w;
        lda = g->n;
    }
    tensor__gemm(&(SgemmCall){.m = g->t, .n = cols, .k = depth, .lda = lda, .ldc = cols,
                              .alpha = 1.0f, .a = a, .c = c, .bf16 = true,
                              .panels = g->scores ? g->p->k[i] : g->p->v[i]});
    if (g->scores)      /* tril: the future of each query is 0 */
        for (int64_t r = 0; r < g->t; r++) {
            int64_t from = r + g->q0 + 1 < g->n ? r + g->q0 + 1 : g->n;
            memset(c + r * cols + from, 0, (size_t)(g->n - from) * sizeof *c);
        }
    (void)worker;
}

static Tensor *heads_product(const TensorKVPanels *p, const Tensor *x, bool scores, int64_t n,
                             int64_t q0)
{
    const char *op = scores ? "kv_scores" : "kv_context";
    int64_t t = x->shape[2];
    TENSOR__ASSERT(x->ndim == 4 && x->shape[0] == p->batch && x->shape[1] == p->heads &&
                   x->stride[3] == 1 && n <= p->capacity);
    Tensor *out = tensor__alloc_result(op, 4, (const int64_t[]){p->batch, p->heads, t,
                                                                 scores ? n : p->head_dim});
    if (!out) return NULL;
    Heads g = {.p = p, .x = x, .scores = scores, .n = n, .q0 = q0, .t = t, .out = out->data};
    if (!scores)
        g.masked = tensor__scratch((size_t)(p->batch * p->heads * t * n) * sizeof(float));
    /* A head is a small product: the heads go to the threads (a token's
     * two at context 1024 read 3 MB of panels a layer, worth two threads). */
    int64_t heads = p->batch * p->heads;
    int64_t work = t * n * p->head_dim * heads;
    int nt = heads > 1 && work >= 64 * 64 * 64 ? tensor_get_num_threads() : 1;
    tensor__parallel_for(heads, nt, one_head, &g);
    return out;
}

Tensor *tensor__kv_scores(const TensorKVPanels *p, const Tensor *queries, int64_t n, int64_t q0)
{
    return heads_product(p, queries, true, n, q0);
}

Tensor *tensor__kv_context(const TensorKVPanels *p, const Tensor *weights, int64_t n, int64_t q0)
{
    return heads_product(p, weights, false, n, q0);
}
