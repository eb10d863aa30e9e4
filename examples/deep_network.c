/* The book's ExampleDeepNeuralNetwork (see deep_network.h). */
#include "deep_network.h"

#include "attograd.h"

/* x = x + layer(x) when shortcut and the shapes match, else x = layer(x). */
static const Tensor *deep_forward(Module *layers, bool shortcut, const Tensor *x)
{
    for (int i = 0; i < nn_len(layers) && x; i++) {
        Tensor *y = nn_forward(nn_item(layers, i), x);
        x = shortcut && y && tensor_same_shape(x, y) ? tensor_add(x, y) : y;
    }
    return x;
}

int deep_network_gradient_means(uint64_t seed, bool use_shortcut,
                                float means[DEEP_NETWORK_LAYERS])
{
    static const int sizes[DEEP_NETWORK_LAYERS + 1] = {3, 3, 3, 3, 3, 1};
    tensor_manual_seed(seed);
    Module *layers = nn_module_list();
    for (int i = 0; i < DEEP_NETWORK_LAYERS; i++) {
        Module *seq = nn_append(layers, nn_sequential());
        nn_append(seq, nn_linear(sizes[i], sizes[i + 1], true));
        nn_append(seq, nn_gelu());
    }
    layers = nn_module_ok(layers);
    if (!layers) return -1;
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_from_data((const float[]){1, 0, -1}, SHAPE(1, 3));
    Tensor *loss = tensor_mse_loss(deep_forward(layers, use_shortcut, x),
                                   tensor_zeros(SHAPE(1, 1)));
    int rc = loss && tensor_backward(loss, NULL) == 0 ? 0 : -1;
    for (int i = 0; i < DEEP_NETWORK_LAYERS && rc == 0; i++) {
        Linear *lin = (Linear *)nn_item(nn_item(layers, i), 0);
        Tensor *mean = tensor_mean(tensor_abs(lin->weight->grad));
        if (mean) means[i] = mean->data[0];
        else rc = -1;
    }
    tensor_scope_end(scope);
    nn_module_free(layers);
    return rc;
}
