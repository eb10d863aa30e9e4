/*
 * Packing into bf16 pairs (layout in sgemm_kernels.h), and SgemmPanels:
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

/* ---- pairs ------------------------------------------------------------------------ */

/* The pair of depths (2q, 2q + 1) of a line read by at(p), kc deep; a
 * missing 2q + 1 is pad (-0 in A~, 0 in B~). */
static inline uint32_t pair_at(const float *line, int64_t step, int64_t q, int64_t kc,
                               uint32_t pad)
{
    float first = line[2 * q * step];
    if (2 * q + 1 < kc) return tensor__bf16_pair(first, line[(2 * q + 1) * step]);
    return (uint32_t)tensor__bf16_from_float(first) << 16 | pad;
}

void tensor__pack_a_pairs(bool ta, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr,
                          uint32_t *dst)
{
    int64_t kq = (kc + 1) / 2;
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kq) {
        int64_t h = mc - i0 < mr ? mc - i0 : mr;
        for (int64_t i = 0; i < mr; i++) {
            const float *row = a + (i0 + i) * (ta ? 1 : lda);
            int64_t step = ta ? lda : 1;
            for (int64_t q = 0; q < kq; q++)
                dst[q * mr + i] = i < h ? pair_at(row, step, q, kc, 0x8000u) : 0;
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
            for (int64_t q = 0; q < kq; q++)
                dst[q * nr + j] = j < w ? pair_at(col, step, q, kc, 0) : 0;
        }
    }
}

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

/* Writing depth p of column j: an even depth (a pair's high half) also
 * zeroes its partner, which is then the padding until depth p + 1 is
 * written (a value cache refilled from its start leaves no stale partner
 * behind). */
void tensor__panels_pack(SgemmPanels *P, bool tb, const float *b, int64_t ldb, int64_t p0,
                         int64_t rows, int64_t j0, int64_t w)
{
    TENSOR__ASSERT(p0 >= 0 && p0 + rows <= P->k && j0 >= 0 && j0 + w <= P->n);
    uint32_t *data = (uint32_t *)P->data;
    int64_t p = p0;
    while (p < p0 + rows) {
        int64_t q = p % SGEMM_KC / 2, rel = p - p0;
        uint32_t *row = data + p / SGEMM_KC * P->block_stride + q * SGEMM_PANEL;
        /* Both depths of the pair at once where both are here (the weights). */
        bool both = !(p & 1) && p + 1 < p0 + rows;
        int64_t down = tb ? 1 : ldb, across = tb ? ldb : 1;   /* next depth, next column */
        for (int64_t j = j0; j < j0 + w; j++) {
            uint32_t *e = row + j / SGEMM_PANEL * P->panel_stride + j % SGEMM_PANEL;
            const float *x = b + rel * down + (j - j0) * across;
            if (both)
                *e = tensor__bf16_pair(x[0], x[down]);
            else if (p & 1)
                *e = (*e & 0xffff0000u) | tensor__bf16_from_float(*x);
            else
                *e = (uint32_t)tensor__bf16_from_float(*x) << 16;
        }
        p += both ? 2 : 1;
    }
}
