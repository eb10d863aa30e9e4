/*
 * Linear: y = x @ weight^T + bias, as torch.nn.Linear, with its default
 * initialisation drawn from the default generator in PyTorch's order.
 */
#include "nn_internal.h"

#include <math.h>
#include <stdlib.h>

Tensor *nn__linear_forward(Module *m, const Tensor *x)
{
    Linear *l = (Linear *)m;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != l->in_features)
        return tensor_set_error("Linear: input %s: expected last dim in_features = %lld",
                                tensor_shape_str(x), (long long)l->in_features);
    return tensor_linear(x, l->weight, l->bias);
}

/*
 * reset_parameters() of torch.nn.Linear, computed in double as Python does:
 *   kaiming_uniform_(weight, a=sqrt(5)): gain = sqrt(2 / (1 + a**2)),
 *     std = gain / sqrt(fan_in), bound = sqrt(3) * std;
 *   bias: uniform_(-1 / sqrt(fan_in), 1 / sqrt(fan_in)).
 * uniform_ then works with the bounds rounded to float, as torch's kernel.
 */
static int init_parameters(Linear *l, TensorGenerator *gen)
{
    if (nn__skip_draws)
        return tensor_uniform_skip(l->weight->numel, gen) ||
               (l->bias && tensor_uniform_skip(l->bias->numel, gen)) ? -1 : 0;
    double a = sqrt(5.0);
    double gain = sqrt(2.0 / (1.0 + a * a));
    double std = gain / sqrt((double)l->in_features);
    float bound = (float)(sqrt(3.0) * std);
    if (!tensor_uniform_(l->weight, -bound, bound, gen)) return -1;
    if (!l->bias) return 0;
    float bias_bound = (float)(1.0 / sqrt((double)l->in_features));
    return tensor_uniform_(l->bias, -bias_bound, bias_bound, gen) ? 0 : -1;
}

Module *nn_linear(int64_t in_features, int64_t out_features, bool bias)
{
    return nn__linear_drawn(in_features, out_features, bias, NULL);
}

Module *nn__linear_drawn(int64_t in_features, int64_t out_features, bool bias,
                         TensorGenerator *gen)
{
    if (in_features <= 0 || out_features <= 0)
        return tensor_set_error("Linear: in_features %lld and out_features %lld must be positive",
                                (long long)in_features, (long long)out_features);
    /* Room for the LinearWithLoRA it may become (nn_linear_with_lora). */
    Linear *l = nn_module_new(NN__LINEAR_BYTES, NN_TYPE_NAME_Linear, nn__linear_forward);
    if (!l) return NULL;
    l->in_features = in_features;
    l->out_features = out_features;

    /* The parameters are registered first, then drawn in place (weight,
     * then bias) with grad mode off, as torch.nn.init does. */
    /* From one expanded zero: the parameters are the only full-size memory. */
    TensorScope *scope = tensor_scope_begin();
    Tensor *zero = tensor_zeros(SHAPE(1, 1));
    l->weight = nn_parameter(NN(l), "weight",
                             tensor_expand(zero, SHAPE(out_features, in_features)));
    if (bias)
        l->bias = nn_parameter(NN(l), "bias",
                               tensor_expand(tensor_view(zero, SHAPE(1)), SHAPE(out_features)));
    tensor_scope_end(scope);
    tensor_no_grad_begin();
    int drawn = l->weight && (!bias || l->bias) ? init_parameters(l, gen) : -1;
    tensor_no_grad_end();
    if (drawn != 0) {
        nn_module_free(NN(l));
        return NULL;
    }
    return NN(l);
}
