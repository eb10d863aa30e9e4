/* Gradcheck rows for tensor/reduce.c (see tests/gradcheck.h). */
#include "gradcheck.h"

const GradcheckRow gradcheck_reduce[] = {
    {0},
};
