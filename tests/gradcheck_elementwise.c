/* Gradcheck rows for tensor/elementwise.c (see tests/gradcheck.h). */
#include "gradcheck.h"

const GradcheckRow gradcheck_elementwise[] = {
    {0},
};
