/* Gradcheck rows for tensor/random.c (see tests/gradcheck.h). */
#include "gradcheck.h"

const GradcheckRow gradcheck_random[] = {
    {0},
};
