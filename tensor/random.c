/* TEMPORARY stub: being written. */
#include "internal.h"

void dropout_backward(TensorNode *n, const Tensor *grad_out)
{
    (void)n; (void)grad_out;
    TENSOR__ASSERT(!"dropout_backward not written yet");
}

