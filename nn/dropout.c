/*
 * Dropout: zeroes each element with probability p and scales the rest by
 * 1 / (1 - p) in training mode; the identity in eval mode (torch.nn.Dropout).
 */
#include "nn.h"


#include <stdlib.h>

static Tensor *dropout_forward(Module *m, const Tensor *x)
{
    Dropout *d = (Dropout *)m;
    return tensor_dropout(x, d->p, m->training, d->generator);
}

Dropout *nn_dropout(float p)
{
    if (!(p >= 0.0f && p <= 1.0f))
        return tensor_set_error("Dropout: probability has to be between 0 and 1, but got %g",
                                (double)p);
    Dropout *d = calloc(1, sizeof *d);
    if (!d) return tensor_set_error("Dropout: out of memory");
    nn_module_init(NN(d), "Dropout", dropout_forward);
    d->p = p;
    return d;
}
