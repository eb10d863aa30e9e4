/* Gradcheck rows for tensor/shape.c (see tests/gradcheck.h). */
#include "gradcheck.h"

const GradcheckRow gradcheck_shape[] = {
    {0},
};
