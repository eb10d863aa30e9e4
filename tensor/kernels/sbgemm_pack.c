/*
 * Packing for bf16 products (layouts in sgemm_kernels.h), and SgemmPanels:
 * op(B) packed once in bf16 pairs, by depth blocks of SGEMM_KC and panels of
 * SGEMM_PANEL columns, for products that read it many times with few rows
 * of A (generation: a model's weights, the keys and values of a cache).
 *
 * Packing rounds each float once (bf16.h); the products then read only
 * rounded values, so the rounding is the same whichever kernel runs.
 */
#include "bf16.h"
#include "sgemm.h"
#include "sgemm_kernels.h"
#include "core/tensor_internal.h"

#include <stdlib.h>

/* ---- rounded floats ------------------------------------------------------------ */

/* Depth p of a block is stored at p ^ 1: pairs reversed.  An odd kc has a
 * zero at kc ^ 1 = kc - 1, and depth kc - 1 goes to kc. */
void tensor__pack_a_bf16(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                         float *dst)
{
    int64_t kp = kc + (kc & 1);
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kp) {
        int64_t h = mc - i0 < mr ? mc - i0 : mr;
        if (ta) {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = a + p * lda + i0;
                float *d = dst + (p ^ 1) * mr;
                for (int64_t i = 0; i < h; i++) d[i] = tensor__bf16_round(src[i]);
                for (int64_t i = h; i < mr; i++) d[i] = 0;
            }
        } else {
            for (int64_t i = 0; i < h; i++) {
                const float *src = a + (i0 + i) * lda;
                for (int64_t p = 0; p < kc; p++) dst[(p ^ 1) * mr + i] = tensor__bf16_round(src[p]);
            }
            for (int64_t i = h; i < mr; i++)
                for (int64_t p = 0; p < kc; p++) dst[(p ^ 1) * mr + i] = 0;
        }
        if (kc & 1)
            for (int64_t i = 0; i < mr; i++) dst[(kc ^ 1) * mr + i] = 0;
    }
}

void tensor__pack_b_bf16(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                         float *dst)
{
    int64_t kp = kc + (kc & 1);
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kp) {
        int64_t w = nc - j0 < nr ? nc - j0 : nr;
        if (tb) {
            for (int64_t j = 0; j < w; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (int64_t p = 0; p < kc; p++) dst[(p ^ 1) * nr + j] = tensor__bf16_round(src[p]);
            }
            for (int64_t j = w; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) dst[(p ^ 1) * nr + j] = 0;
        } else {
            for (int64_t p = 0; p < kc; p++) {
                const float *src = b + p * ldb + j0;
                float *d = dst + (p ^ 1) * nr;
                for (int64_t j = 0; j < w; j++) d[j] = tensor__bf16_round(src[j]);
                for (int64_t j = w; j < nr; j++) d[j] = 0;
            }
        }
        if (kc & 1)
            for (int64_t j = 0; j < nr; j++) dst[(kc ^ 1) * nr + j] = 0;
    }
}

/* ---- pairs ------------------------------------------------------------------------ */

/* The pair of depths (2q, 2q + 1) of a line read by at(p), kc deep. */
#define PAIR(at, q, kc) tensor__bf16_pair(at(2 * (q)), 2 * (q) + 1 < (kc) ? at(2 * (q) + 1) : 0.0f)

void tensor__pack_a_pairs(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                          uint32_t *dst)
{
    int64_t kq = (kc + 1) / 2;
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kq) {
        int64_t h = mc - i0 < mr ? mc - i0 : mr;
        for (int64_t i = 0; i < mr; i++) {
            const float *row = a + (i0 + i) * (ta ? 1 : lda);
            int64_t step = ta ? lda : 1;
#define AT(p) row[(p) * step]
            for (int64_t q = 0; q < kq; q++) dst[q * mr + i] = i < h ? PAIR(AT, q, kc) : 0;
#undef AT
        }
    }
}

void tensor__pack_b_pairs(bool tb, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr,
                          uint32_t *dst)
{
    int64_t kq = (kc + 1) / 2;
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kq) {
        int64_t w = nc - j0 < nr ? nc - j0 : nr;
        for (int64_t j = 0; j < nr; j++) {
            const float *col = b + (j0 + j) * (tb ? ldb : 1);
            int64_t step = tb ? 1 : ldb;
#define AT(p) col[(p) * step]
            for (int64_t q = 0; q < kq; q++) dst[q * nr + j] = j < w ? PAIR(AT, q, kc) : 0;
#undef AT
        }
    }
}
#undef PAIR

/* ---- SgemmPanels ------------------------------------------------------------------ */

static int64_t blocks_of(int64_t k) { return k > 0 ? (k + SGEMM_KC - 1) / SGEMM_KC : 1; }
static int64_t panels_of(int64_t n) { return (n + SGEMM_PANEL - 1) / SGEMM_PANEL; }

/* Pairs in one panel: the deepest block's. */
static int64_t panel_pairs(int64_t k)
{
    int64_t d = k < SGEMM_KC ? k : SGEMM_KC;
    return SGEMM_PANEL * ((d + 1) / 2);
}

int64_t tensor__panels_bytes(int64_t k, int64_t n)
{
    return blocks_of(k) * panels_of(n) * panel_pairs(k) * (int64_t)sizeof(uint32_t);
}

SgemmPanels *tensor__panels_new(int64_t k, int64_t n)
{
    SgemmPanels *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->k = k;
    p->n = n;
    p->panel_stride = panel_pairs(k);
    p->block_stride = panels_of(n) * p->panel_stride;
    p->data = calloc((size_t)(blocks_of(k) * p->block_stride), sizeof(uint32_t));
    if (!p->data) {
        free(p);
        return NULL;
    }
    return p;
}

void tensor__panels_free(SgemmPanels *p)
{
    if (!p) return;
    free((void *)p->data);
    free(p);
}

/* Writing depth p of column j: an even depth also zeroes its odd partner,
 * which is then the padding until depth p + 1 is written (a value cache
 * refilled from its start leaves no stale partner behind). */
void tensor__panels_pack(SgemmPanels *P, bool tb, const float *b, int64_t ldb, int64_t p0,
                         int64_t rows, int64_t j0, int64_t w)
{
    TENSOR__ASSERT(p0 >= 0 && p0 + rows <= P->k && j0 >= 0 && j0 + w <= P->n);
    uint32_t *data = (uint32_t *)P->data;
    for (int64_t p = p0; p < p0 + rows; p++) {
        int64_t blk = p / SGEMM_KC, q = p % SGEMM_KC / 2, rel = p - p0;
        uint32_t *row = data + blk * P->block_stride + q * SGEMM_PANEL;
        /* Two depths at once where both are here (the weights' case). */
        bool both = !(p & 1) && p + 1 < p0 + rows;
        for (int64_t j = j0; j < j0 + w; j++) {
            uint32_t *e = row + j / SGEMM_PANEL * P->panel_stride + j % SGEMM_PANEL;
            const float *x = tb ? b + (j - j0) * ldb + rel : b + rel * ldb + (j - j0);
            float next = both ? (tb ? x[1] : x[ldb]) : 0.0f;
            if (p & 1)
                *e = (*e & 0xffffu) | (uint32_t)tensor__bf16_from_float(*x) << 16;
            else
                *e = tensor__bf16_pair(*x, next);
        }
        if (both) p++;
    }
}
