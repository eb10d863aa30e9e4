/* nn room: modules built from tensor ops (written next). */
#ifndef ATTOGRAD_NN_H
#define ATTOGRAD_NN_H
#include "tensor/tensor.h"
#endif
