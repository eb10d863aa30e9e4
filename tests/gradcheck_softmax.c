/* Gradcheck rows for tensor/softmax.c (see tests/gradcheck.h). */
#include "gradcheck.h"

const GradcheckRow gradcheck_softmax[] = {
    {0},
};
