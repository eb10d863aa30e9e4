/*
 * How many threads the kernels use (tensor.h, "Threads"): the value given
 * to tensor_set_num_threads(), else ATTOGRAD_NUM_THREADS, else every core.
 * Without OpenMP the kernels run on one thread and the count is 1.
 *
 * After fork() the count is 1 in the child: libgomp's pool threads do not
 * exist there, and the child's next parallel region would wait for them
 * forever (Check runs each test in a forked child; a program may fork
 * workers after a forward pass).
 */
#include "internal.h"

#ifdef _OPENMP
#include <omp.h>
#include <pthread.h>
#endif

#ifdef _OPENMP
static int num_threads;   /* 0: not decided yet */
static bool forked_child;

static void on_fork_child(void) { forked_child = true; }

static int default_threads(void)
{
    const char *env = getenv("ATTOGRAD_NUM_THREADS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 && n <= 1024 ? (int)n : omp_get_num_procs();
}

void tensor_set_num_threads(int n) { num_threads = n > 0 ? n : default_threads(); }

int tensor_get_num_threads(void)
{
    static bool watching_fork;
    if (!watching_fork) {
        /* Before any parallel region: every region asks for the count first. */
        pthread_atfork(NULL, NULL, on_fork_child);
        watching_fork = true;
    }
    if (forked_child) return 1;
    if (!num_threads) num_threads = default_threads();
    return num_threads;
}
#else
void tensor_set_num_threads(int n) { (void)n; }
int tensor_get_num_threads(void) { return 1; }
#endif
