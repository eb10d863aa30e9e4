/* TEMPORARY stub: being written. */
#include "internal.h"

void softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"softmax_backward not written yet");
}

void log_softmax_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"log_softmax_backward not written yet");
}

void masked_fill_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"masked_fill_backward not written yet");
}

void triu_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"triu_backward not written yet");
}

void tril_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"tril_backward not written yet");
}

