/*
 * How many threads the kernels use (tensor.h, "Threads"): the value given
 * to tensor_set_num_threads(), else ATTOGRAD_NUM_THREADS, else every core.
 * Without OpenMP the kernels run on one thread and the count is 1.
 */
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static int num_threads;   /* 0: not decided yet */

static int default_threads(void)
{
#ifdef _OPENMP
    const char *env = getenv("ATTOGRAD_NUM_THREADS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 && n <= 1024 ? (int)n : omp_get_num_procs();
#else
    return 1;
#endif
}

void tensor_set_num_threads(int n)
{
#ifdef _OPENMP
    num_threads = n > 0 ? n : default_threads();
#else
    (void)n;
    num_threads = 1;
#endif
}

int tensor_get_num_threads(void)
{
    if (!num_threads) num_threads = default_threads();
    return num_threads;
}
