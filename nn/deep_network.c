/*
 * The book's chapter 4 ExampleDeepNeuralNetwork (Listing 4.5), built in the
 * book's construction order (layers.0's Linear drawn first) under its
 * names, and the experiment the book runs with it: each layer's mean
 * |gradient| without and with shortcut connections (print_gradients).
 */
#include "nn.h"

#include <string.h>

/* for layer in self.layers: x = x + layer(x) when the shapes match and
 * use_shortcut, else x = layer(x). */
static Tensor *deep_forward(Module *m, const Tensor *x)
{
    ExampleDeepNeuralNetwork *self = (ExampleDeepNeuralNetwork *)m;
    const Tensor *in = x;
    Tensor *out = NULL;
    for (int64_t i = 0; i < nn_len(self->layers) && in; i++) {
        Tensor *layer_output = nn_forward(nn_item(self->layers, i), in);
        if (self->use_shortcut && layer_output && tensor_same_shape(in, layer_output))
            out = tensor_add(in, layer_output);
        else
            out = layer_output;
        in = out;
    }
    return out;
}

Module *nn_example_deep_neural_network(int64_t n_sizes, const int64_t *layer_sizes,
                                       bool use_shortcut)
{
    const char *type = NN_TYPE_NAME_ExampleDeepNeuralNetwork;
    if (n_sizes < 2 || !layer_sizes)
        return tensor_set_error("%s: %lld layer sizes given; at least 2 make a layer", type,
                                (long long)n_sizes);
    for (int64_t i = 0; i < n_sizes; i++)
        if (layer_sizes[i] <= 0)
            return tensor_set_error("%s: layer_sizes[%lld] is %lld; sizes must be positive", type,
                                    (long long)i, (long long)layer_sizes[i]);
    ExampleDeepNeuralNetwork *self = nn_module_new(sizeof *self, type, deep_forward);
    if (!self) return NULL;
    self->use_shortcut = use_shortcut;
    self->layers = nn_child(NN(self), "layers", nn_module_list());
    for (int64_t i = 0; self->layers && i < n_sizes - 1; i++) {
        Module *seq = nn_append(self->layers, nn_sequential());
        if (!seq) break;
        nn_append(seq, nn_linear(layer_sizes[i], layer_sizes[i + 1], true));
        nn_append(seq, nn_gelu());
    }
    return nn_module_ok(NN(self));
}

/* for name, param in model.named_parameters(): if 'weight' in name:
 *     param.grad.abs().mean()
 * as one 1-d tensor, in the current scope. */
static Tensor *weight_grad_means(const Module *model)
{
    NNList params = nn_named_parameters(model);
    int64_t n = 0;
    for (int64_t i = 0; i < params.count; i++) n += strstr(params.names[i], "weight") != NULL;
    Tensor *means = tensor_zeros(SHAPE(n));
    for (int64_t i = 0, k = 0; means && i < params.count; i++) {
        if (!strstr(params.names[i], "weight")) continue;
        const Tensor *grad = params.tensors[i]->grad;
        Tensor *mean = grad ? tensor_mean(tensor_abs(grad))
                            : tensor_set_error("%s: %s has no gradient", model->type,
                                               params.names[i]);
        if (mean) means->data[k++] = mean->data[0];
        else means = NULL;
    }
    nn_list_free(&params);
    return means;
}

Tensor *nn_shortcut_gradient_means(bool use_shortcut)
{
    static const int64_t layer_sizes[] = {3, 3, 3, 3, 3, 1};
    Module *model = nn_example_deep_neural_network(6, layer_sizes, use_shortcut);
    if (!model) return NULL;
    TensorScope *scope = tensor_scope_begin();
    if (!scope) {
        nn_module_free(model);
        return NULL;
    }
    Tensor *sample_input = tensor_from_data((const float[]){1, 0, -1}, SHAPE(1, 3));
    Tensor *loss = tensor_mse_loss(nn_forward(model, sample_input), tensor_zeros(SHAPE(1, 1)));
    Tensor *means = loss && tensor_backward(loss, NULL) == 0 ? weight_grad_means(model) : NULL;
    Tensor *out = tensor_scope_return(scope, means);
    nn_module_free(model);
    return out;
}
