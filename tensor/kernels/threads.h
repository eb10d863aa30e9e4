/*
 * A small thread pool for the kernels, private to the library: the tensor
 * room's kernels and ops use it, and it is lent to the library's other rooms
 * (the optim room's Adam update) through this header, which programs and
 * users cannot include (not installed; refused without ATTOGRAD_LIBRARY,
 * which only the rooms' builds define).
 *
 * tensor__parallel_for(n, threads, task, ctx) runs task(ctx, c, worker) for
 * every chunk c in [0, n) on up to `threads` threads, the caller's included,
 * and returns when all chunks are done.  Threads claim chunks one at a time,
 * so a thread that starts late (the cores are busy with other programs)
 * simply takes fewer, and the call never waits for a thread that has not
 * started: under load it degrades to about one thread's speed instead of
 * stalling at a barrier.  `worker` is in [0, threads), the caller is 0, and
 * no two chunks running at the same time share it (per-worker buffers).
 * Called from inside a task, it runs the chunks in turn on that thread.
 */
#ifndef ATTOGRAD_THREADS_H
#define ATTOGRAD_THREADS_H

#if !defined(ATTOGRAD_TENSOR_ROOM) && !defined(ATTOGRAD_LIBRARY)
#error "tensor/kernels/threads.h is private to the library (its rooms' files and white-box tests): include tensor/tensor.h"
#endif

#include <stdbool.h>
#include <stdint.h>

enum { TENSOR__MAX_WORKERS = 64 };

typedef void (*TensorTask)(void *ctx, int64_t chunk, int worker);

void tensor__parallel_for(int64_t n, int threads, TensorTask task, void *ctx);
/* True inside a task: a nested parallel_for would run on one thread. */
bool tensor__in_parallel(void);

/* Sets the calling thread to flush subnormal inputs and results to zero
 * (as tensor_set_flush_denormal(true), where the CPU has the mode) and
 * returns what was set before, for tensor__flush_end: a bf16 product runs
 * so, as vdpbf16ps does.  A parallel_for inside passes it to the pool. */
unsigned tensor__flush_begin(void);
void tensor__flush_end(unsigned saved);

#endif /* ATTOGRAD_THREADS_H */
