/*
 * The book's appendix D, its gradient-clipping demo (train.h): the largest
 * gradient element over a model's parameters, as find_highest_gradient
 * finds it.  (The schedule and the clipping itself are optim's; the better
 * loop is train_model_simple's options.)
 */
#include "train_internal.h"

#include <math.h>

/* grad.flatten().max(): NaN when any element is NaN, as torch's max. */
static float grad_max(const Tensor *g)
{
    float m = g->data[0];
    for (int64_t j = 1; j < g->numel && !isnan(m); j++)
        if (isnan(g->data[j]) || g->data[j] > m) m = g->data[j];
    return m;
}

/*   max_grad = None
 *   for param in model.parameters():
 *       if param.grad is not None:
 *           grad_values = param.grad.data.flatten()
 *           max_grad_param = grad_values.max()
 *           if max_grad is None or max_grad_param > max_grad:
 *               max_grad = max_grad_param */
Tensor *train_find_highest_gradient(const Module *model)
{
    if (!model) return NULL;
    NNList p = nn_named_parameters(model);
    bool found = false;
    float max_grad = 0;
    for (int64_t i = 0; i < p.count; i++) {
        const Tensor *g = p.tensors[i]->grad;
        if (!g || g->numel == 0) continue;
        float m = grad_max(g);
        if (!found || m > max_grad) max_grad = m;
        found = true;
    }
    int64_t count = p.count;
    nn_list_free(&p);
    if (count == 0) return tensor_set_error("find_highest_gradient: the model has no parameters");
    if (!found)
        return tensor_set_error("find_highest_gradient: none of the model's %lld parameters "
                                "has a gradient (call tensor_backward on a loss first)",
                                (long long)count);
    return tensor_scalar(max_grad);
}
