/* TEMPORARY stub: being written. */
#include "internal.h"

void add_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"add_backward not written yet");
}

void sub_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"sub_backward not written yet");
}

void mul_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"mul_backward not written yet");
}

void div_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"div_backward not written yet");
}

void add_scalar_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"add_scalar_backward not written yet");
}

void mul_scalar_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"mul_scalar_backward not written yet");
}

void div_scalar_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"div_scalar_backward not written yet");
}

void neg_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"neg_backward not written yet");
}

void pow_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"pow_backward not written yet");
}

void exp_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"exp_backward not written yet");
}

void log_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"log_backward not written yet");
}

void sqrt_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"sqrt_backward not written yet");
}

void tanh_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"tanh_backward not written yet");
}

void sigmoid_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"sigmoid_backward not written yet");
}

void relu_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"relu_backward not written yet");
}

void gelu_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"gelu_backward not written yet");
}

void abs_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"abs_backward not written yet");
}

void clamp_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"clamp_backward not written yet");
}

void clone_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"clone_backward not written yet");
}

