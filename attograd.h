/* attograd: the umbrella header.  See tensor/tensor.h, tensor/safetensors.h, nn/nn.h,
 * optim/optim.h, checkpoint/checkpoint.h, data/data.h, text/text.h, plot/plot.h,
 * train/train.h (the book's training code), cli/cli.h (a program's command line), and
 * tensor/output.h (the safe output file). */
#ifndef ATTOGRAD_H
#define ATTOGRAD_H

#include "tensor/tensor.h"
#include "tensor/safetensors.h"
#include "tensor/output.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "checkpoint/checkpoint.h"
#include "data/data.h"
#include "text/text.h"
#include "plot/plot.h"
#include "train/train.h"
#include "cli/cli.h"

#endif /* ATTOGRAD_H */
