/*
 * The book's chapter-4 ExampleDeepNeuralNetwork, shared by gpt_model and
 * shortcut_gradients: five Sequential(Linear, GELU) layers of sizes
 * [3, 3, 3, 3, 3, 1], built after tensor_manual_seed(seed); the forward adds
 * x + layer(x) when use_shortcut and the shapes match.  One backward of
 * MSE(model([[1., 0., -1.]]), [[0.]]) gives each layer's weight gradient.
 *
 *     float without[DEEP_NETWORK_LAYERS];
 *     if (deep_network_gradient_means(123, false, without))
 *         fprintf(stderr, "%s\n", tensor_error());
 *     without[0] is 0.00020173587836325169 (the book's first line)
 */
#ifndef ATTOGRAD_DEEP_NETWORK_H
#define ATTOGRAD_DEEP_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#define DEEP_NETWORK_LAYERS 5

/* The mean |gradient| of layers.i.0.weight, as the book's print_gradients
 * computes param.grad.abs().mean(): 0, or -1 with tensor_error() set. */
int deep_network_gradient_means(uint64_t seed, bool use_shortcut,
                                float means[DEEP_NETWORK_LAYERS]);

#endif /* ATTOGRAD_DEEP_NETWORK_H */
