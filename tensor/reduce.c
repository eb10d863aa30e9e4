/* TEMPORARY stub: being written. */
#include "internal.h"

void sum_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"sum_backward not written yet");
}

void sum_dim_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"sum_dim_backward not written yet");
}

void mean_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"mean_backward not written yet");
}

void mean_dim_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"mean_dim_backward not written yet");
}

void max_dim_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"max_dim_backward not written yet");
}

void var_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"var_backward not written yet");
}

