/*
 * Threads for the kernels: the count (tensor.h, "Threads") and a pool of
 * pthreads that runs tensor__parallel_for (threads.h).
 *
 * The count is what tensor_set_num_threads() gave, else ATTOGRAD_NUM_THREADS,
 * else every core.
 *
 * The pool: the caller publishes a job (under the lock, with a new
 * generation number), wakes the pool, and runs chunks itself; a chunk is
 * claimed with one atomic increment.  Pool threads that wake in time join
 * and claim chunks too.  The caller then waits only for chunks already
 * claimed, withdraws the job, and waits for the threads that joined it to
 * leave (they hold no chunk then, so this is short: it spins on a counter,
 * as sleeping on a condition variable would cost a wake-up per job, and a
 * training step runs a hundred jobs or more).  An OpenMP parallel
 * region instead ends at a barrier that waits for every thread of the team,
 * including one the OS has not run yet: with the cores busy, small regions
 * stalled a scheduler tick each (test_gradcheck went from 2.6 s to 42 s next
 * to two busy loops).  After finishing a job a pool thread spins briefly,
 * as the next product often follows at once, then sleeps.
 *
 * One caller at a time: a thread of the program that finds the pool busy
 * with another's job (two models trained on two threads) runs its own
 * chunks alone, which gives the same result (it never depends on the count).
 *
 * fork(): the child has none of the pool's threads, and the lock may have
 * been held by one of them.  A handler resets the pool in the child, which
 * starts new threads when it next needs them.
 */
#define _GNU_SOURCE   /* glibc's adaptive mutexes */
#include "threads.h"
#include "core/tensor_internal.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE__))
#include <xmmintrin.h>
#endif

enum { SPIN = 1 << 14 };   /* polls of the generation before sleeping (~0.4 ms) */

typedef struct {
    TensorTask task;
    void *ctx;
    int64_t n;
    int threads;
    unsigned fp_mode;                 /* the caller's flush bits (fp_mode()) */
    atomic_int_fast64_t next, done;   /* chunks claimed, chunks finished */
    atomic_int ids;                   /* next worker number for a joining thread */
    atomic_int_fast64_t joined;       /* pool threads inside the job (grows under lock) */
} Job;

/* The pool's lock is taken by the caller to publish a job while a spinning
 * pool thread takes it to join: a plain mutex put the pool thread to
 * sleep in the kernel for those few instructions, and its wake-up (tens of
 * microseconds) let the caller claim the slices of a short product alone.
 * glibc's adaptive mutex spins a little first. */
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
#define POOL_MUTEX_INITIALIZER PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
#define POOL_MUTEX_TYPE PTHREAD_MUTEX_ADAPTIVE_NP
#else
#define POOL_MUTEX_INITIALIZER PTHREAD_MUTEX_INITIALIZER
#define POOL_MUTEX_TYPE PTHREAD_MUTEX_DEFAULT
#endif

static struct {
    pthread_mutex_t caller;           /* held by the thread whose job the pool runs */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    Job *job;                         /* the job open to joiners (under lock) */
    atomic_uint_fast64_t generation;  /* bumped for each job */
    int started;                      /* pool threads running */
    int sleeping;                     /* pool threads in cond_wait (under lock) */
} pool = {.caller = POOL_MUTEX_INITIALIZER,
          .lock = POOL_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local int current_worker;
static _Thread_local bool in_task;

static int num_threads;               /* 0: not decided yet */

/* ---- the count -------------------------------------------------------------- */

static int default_threads(void)
{
    const char *env = getenv("ATTOGRAD_NUM_THREADS");
    long n = env ? strtol(env, NULL, 10) : 0;
    if (n > 0) return n < TENSOR__MAX_WORKERS ? (int)n : TENSOR__MAX_WORKERS;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores < TENSOR__MAX_WORKERS ? (int)cores : TENSOR__MAX_WORKERS;
}

void tensor_set_num_threads(int n)
{
    num_threads = n <= 0 ? default_threads() : n < TENSOR__MAX_WORKERS ? n : TENSOR__MAX_WORKERS;
}

int tensor_get_num_threads(void)
{
    if (!num_threads) num_threads = default_threads();
    return num_threads;
}

bool tensor__in_parallel(void) { return in_task; }

/* ---- flushing subnormals ---------------------------------------------------
 * The mode is a per-thread register: x86's MXCSR (FTZ, bit 15: subnormal
 * results become 0; DAZ, bit 6: subnormal inputs read as 0), AArch64's FPCR
 * (FZ, bit 24, both at once).  A job carries its caller's bits and a pool
 * thread takes them on before it runs the job's chunks, so a product's
 * result never depends on which thread computed a row. */

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE__))
enum { FLUSH_BITS = 0x8040 };
static unsigned fp_mode(void) { return _mm_getcsr() & FLUSH_BITS; }
static void set_fp_mode(unsigned bits) { _mm_setcsr((_mm_getcsr() & ~(unsigned)FLUSH_BITS) | bits); }
#elif defined(__aarch64__)
enum { FLUSH_BITS = 1u << 24 };
static uint64_t fpcr(void)
{
    uint64_t r;
    __asm__ volatile("mrs %0, fpcr" : "=r"(r));
    return r;
}
static unsigned fp_mode(void) { return (unsigned)(fpcr() & FLUSH_BITS); }
static void set_fp_mode(unsigned bits)
{
    uint64_t r = (fpcr() & ~(uint64_t)FLUSH_BITS) | bits;
    __asm__ volatile("msr fpcr, %0" : : "r"(r));
}
#else
enum { FLUSH_BITS = 0 };
static unsigned fp_mode(void) { return 0; }
static void set_fp_mode(unsigned bits) { (void)bits; }
#endif

unsigned tensor__flush_begin(void)
{
    unsigned saved = fp_mode();
    if (saved != FLUSH_BITS) set_fp_mode(FLUSH_BITS);
    return saved;
}

void tensor__flush_end(unsigned saved)
{
    if (saved != FLUSH_BITS) set_fp_mode(saved);
}

bool tensor_set_flush_denormal(bool on)
{
    if (!FLUSH_BITS) return false;
    set_fp_mode(on ? FLUSH_BITS : 0);
    return true;
}

/* ---- the pool --------------------------------------------------------------- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins until *v is target, then yields, so that a thread the OS paused
 * can finish (its chunk, or its way out of the job). */
static void wait_until(atomic_int_fast64_t *v, int64_t target)
{
    for (int s = 0; atomic_load(v) != target; s++) {
        if (s < SPIN)
            cpu_relax();
        else
            sched_yield();
    }
}

static void run_chunks(Job *job, int worker)
{
    current_worker = worker;
    in_task = true;
    int64_t c;
    while ((c = atomic_fetch_add(&job->next, 1)) < job->n) {
        job->task(job->ctx, c, worker);
        atomic_fetch_add(&job->done, 1);
    }
    in_task = false;
    current_worker = 0;
}

static void *pool_thread(void *arg)
{
    uint64_t seen = (uint64_t)(uintptr_t)arg;
    for (;;) {
        for (int s = 0; s < SPIN && atomic_load(&pool.generation) == seen; s++) cpu_relax();
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.generation) == seen) {   /* spun out: sleep */
            pool.sleeping++;
            pthread_cond_wait(&pool.wake, &pool.lock);
            pool.sleeping--;
        }
        /* The newest job, or NULL when it closed before we came: then spin
         * again rather than sleep, the next one is likely near. */
        seen = atomic_load(&pool.generation);
        Job *job = pool.job;
        if (job) atomic_fetch_add(&job->joined, 1);
        pthread_mutex_unlock(&pool.lock);
        if (!job) continue;
        int worker = atomic_fetch_add(&job->ids, 1);
        if (worker < job->threads) {
            if (fp_mode() != job->fp_mode) set_fp_mode(job->fp_mode);
            run_chunks(job, worker);
        }
        atomic_fetch_sub(&job->joined, 1);   /* the last touch: the job is the caller's */
    }
    return NULL;
}

static void reset_after_fork(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, POOL_MUTEX_TYPE);
    pthread_mutex_init(&pool.caller, &attr);
    pthread_mutex_init(&pool.lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&pool.wake, NULL);
    pool.job = NULL;
    pool.started = 0;
    pool.sleeping = 0;
}

/* At least `want` pool threads; returns how many there are. */
static int start_threads(int want)
{
    static bool watching_fork;
    if (!watching_fork) pthread_atfork(NULL, NULL, reset_after_fork);
    watching_fork = true;
    while (pool.started < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        uintptr_t seen = (uintptr_t)atomic_load(&pool.generation);
        int rc = pthread_create(&t, &attr, pool_thread, (void *)seen);
        pthread_attr_destroy(&attr);
        if (rc) break;
        pool.started++;
    }
    return pool.started;
}

void tensor__parallel_for(int64_t n, int threads, TensorTask task, void *ctx)
{
    if (threads > n) threads = (int)n;
    if (threads > TENSOR__MAX_WORKERS) threads = TENSOR__MAX_WORKERS;
    bool owner = threads > 1 && !in_task && pthread_mutex_trylock(&pool.caller) == 0;
    if (owner) {
        int have = start_threads(threads - 1);
        threads = 1 + (have < threads - 1 ? have : threads - 1);
    }
    if (!owner || threads <= 1) {
        if (owner) pthread_mutex_unlock(&pool.caller);
        for (int64_t c = 0; c < n; c++) task(ctx, c, current_worker);
        return;
    }
    Job job = {.task = task, .ctx = ctx, .n = n, .threads = threads, .fp_mode = fp_mode()};
    atomic_init(&job.next, 0);
    atomic_init(&job.done, 0);
    atomic_init(&job.ids, 1);
    atomic_init(&job.joined, 0);
    pthread_mutex_lock(&pool.lock);
    pool.job = &job;
    atomic_fetch_add(&pool.generation, 1);
    if (pool.sleeping) pthread_cond_broadcast(&pool.wake);   /* spinning ones see generation */
    pthread_mutex_unlock(&pool.lock);

    run_chunks(&job, 0);
    /* Chunks other threads claimed. */
    wait_until(&job.done, n);
    /* No thread joins once the job is withdrawn; those inside leave. */
    pthread_mutex_lock(&pool.lock);
    pool.job = NULL;
    pthread_mutex_unlock(&pool.lock);
    wait_until(&job.joined, 0);
    pthread_mutex_unlock(&pool.caller);
}

/* ---- zeroing and copying floats ------------------------------------------------ */

enum {
    BULK_MIN = 1 << 20,     /* floats from which the threads share the work */
    BULK_CHUNK = 1 << 18,   /* floats a chunk: 1 MB */
};

typedef struct {
    float *dst;
    const float *src;       /* NULL: zero */
    int64_t n;
} Bulk;

static void bulk_chunk(void *ctx, int64_t c, int worker)
{
    const Bulk *b = ctx;
    int64_t from = c * BULK_CHUNK, len = b->n - from < BULK_CHUNK ? b->n - from : BULK_CHUNK;
    (void)worker;
    if (b->src)
        memcpy(b->dst + from, b->src + from, (size_t)len * sizeof(float));
    else
        memset(b->dst + from, 0, (size_t)len * sizeof(float));
}

static void bulk(float *dst, const float *src, int64_t n)
{
    if (n <= 0) return;
    int threads = n >= BULK_MIN && !tensor__in_parallel() ? tensor_get_num_threads() : 1;
    if (threads <= 1) {
        if (src)
            memcpy(dst, src, (size_t)n * sizeof(float));
        else
            memset(dst, 0, (size_t)n * sizeof(float));
        return;
    }
    Bulk b = {.dst = dst, .src = src, .n = n};
    tensor__parallel_for((n + BULK_CHUNK - 1) / BULK_CHUNK, threads, bulk_chunk, &b);
}

void tensor__zero_floats(float *dst, int64_t n) { bulk(dst, NULL, n); }

void tensor__copy_floats(float *dst, const float *src, int64_t n) { bulk(dst, src, n); }
