/* optim room: optimizers over parameter lists (written next). */
#ifndef ATTOGRAD_OPTIM_H
#define ATTOGRAD_OPTIM_H
#include "tensor/tensor.h"
#endif
