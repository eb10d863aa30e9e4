/* TEMPORARY stub: being written. */
#include "internal.h"

void matmul_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"matmul_backward not written yet");
}

void linear_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"linear_backward not written yet");
}

