/*
 * Attention's keys and values packed in bf16 as generation appends them,
 * for the nn room's key/value cache in an autocast region (nn/gpt.c): a
 * token's attention then reads half the bytes of the float32 cache, and no
 * packing.  Private to the library, as kernels/threads.h (refused without
 * ATTOGRAD_LIBRARY).
 *
 * Per batch element and head: the keys as op(B) of queries @ keys^T
 * (head_dim x capacity, a column per position) and the values as op(B) of
 * weights @ values (capacity x head_dim, a depth per position), both in
 * kernels/sgemm.h's panels.  The products are the bf16 ones of
 * tensor_matmul_tril and tensor_tril_matmul, bit for bit: the same
 * rounding, the same depths in the same order.
 */
#ifndef ATTOGRAD_KV_CACHE_H
#define ATTOGRAD_KV_CACHE_H

#if !defined(ATTOGRAD_TENSOR_ROOM) && !defined(ATTOGRAD_LIBRARY)
#error "tensor/ops/kv_cache.h is private to the library (its rooms' files and white-box tests): include tensor/tensor.h"
#endif

#include "tensor/tensor.h"

typedef struct TensorKVPanels TensorKVPanels;

/* NULL without a message when out of memory (the caller goes without). */
TensorKVPanels *tensor__kv_panels_new(int64_t batch, int64_t heads, int64_t capacity,
                                      int64_t head_dim);
void tensor__kv_panels_free(TensorKVPanels *p);
/* Positions [n0, n0 + t) from keys and values (B, H, t, head_dim). */
void tensor__kv_panels_append(TensorKVPanels *p, const Tensor *keys, const Tensor *values,
                              int64_t n0);
/* tensor_matmul_tril(queries, keys[:, :, :n]^T, q0) (B, H, t, n) and
 * tensor_tril_matmul(weights, values[:, :, :n], q0) (B, H, t, head_dim), in
 * bf16, for queries (B, H, t, head_dim) and weights (B, H, t, n); no graph
 * (no-grad only).  NULL with a message when out of memory. */
Tensor *tensor__kv_scores(const TensorKVPanels *p, const Tensor *queries, int64_t n, int64_t q0);
Tensor *tensor__kv_context(const TensorKVPanels *p, const Tensor *weights, int64_t n, int64_t q0);

#endif /* ATTOGRAD_KV_CACHE_H */
