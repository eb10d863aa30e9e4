/* TEMPORARY stub: being written. */
#include "internal.h"

void view_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"view_backward not written yet");
}

void transpose_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"transpose_backward not written yet");
}

void permute_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"permute_backward not written yet");
}

void narrow_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"narrow_backward not written yet");
}

void unsqueeze_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"unsqueeze_backward not written yet");
}

void squeeze_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"squeeze_backward not written yet");
}

void expand_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"expand_backward not written yet");
}

void cat_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"cat_backward not written yet");
}

void stack_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"stack_backward not written yet");
}

void index_select_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"index_select_backward not written yet");
}

void embedding_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"embedding_backward not written yet");
}

