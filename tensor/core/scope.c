/*
 * Scopes: arenas for step-lived tensors, and the long-lived tensor_keep().
 *
 * An arena is a list of chunks; allocation bumps a pointer and a new chunk
 * is taken when the current one is full (no size to guess).  Ending a scope
 * returns its chunks to a small cache so a training loop that begins and ends
 * one scope per step reuses the same memory and stays flat.  A scope that
 * needed several chunks returns them as one chunk of their total size, and a
 * new scope starts in the smallest cached chunk that holds what scopes at its
 * level have needed so far: from its second step on, a training loop's step
 * fits in one chunk and allocates nothing from the system (no malloc, no page
 * faults on fresh memory).  Choosing by level, not the largest chunk, keeps a
 * small scope from taking the chunk a big scope at another level needs next
 * (the step's chunk taken by a scope around the loop, or by generation's
 * per-token scopes): the big scope would then grow a second chunk of the
 * step's size, and the cache would keep both.  train_gpt's chapter-5 run
 * grew that way by 1.4 GB (4.06 to 5.44 GB) in its eighth epoch.
 *
 * Misuse: each scope gets a fresh generation number, and so does each
 * tensor made in it; a scope handle encodes its level and generation (it is
 * never dereferenced), so a stale handle cannot end a newer scope in its
 * slot.  A new scope starts its first chunk at an offset that depends on
 * its generation, so that the tensors of a loop's next step do not sit at
 * the addresses of this step's: a stale pointer lands inside some other
 * object, whose bytes do not hold the live generation, rather than on a
 * live tensor of the same layout.  Sanitizer builds poison cached chunks,
 * so a raw read through a stale tensor is still reported by ASan.
 */
#include "core/tensor_internal.h"

#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define TENSOR__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TENSOR__ASAN 1
#endif
#endif
#ifdef TENSOR__ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define NO_ASAN __attribute__((no_sanitize_address))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define NO_ASAN
#endif
#define TENSOR__CACHE_CHUNKS 1

enum { ALIGN = 64, MIN_CHUNK = 64 * 1024, MAX_DEPTH = 64, CACHE_SIZE = 16 };

typedef struct TensorChunk {
    struct TensorChunk *next;
    size_t size, used;      /* bytes of payload, bytes handed out */
    _Alignas(ALIGN) unsigned char payload[];
} Chunk;

struct TensorScope {
    TensorArena arena;
};

/* Per thread: each thread has its own scopes and cache (tensor.h, Threads). */
static _Thread_local TensorScope scopes[MAX_DEPTH + 1];   /* [0] is the root scope */
static _Thread_local int depth;                           /* index of the current scope */
static _Thread_local Chunk *cache[CACHE_SIZE];
static _Thread_local int cached;
static _Thread_local uint64_t last_generation;   /* numbers handed out so far */
static _Thread_local size_t level_need[MAX_DEPTH + 1];   /* most bytes a scope there needed */

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

/* NULL when out of memory, or for a size no allocation can have (so the
 * rounding below cannot wrap). */
static Chunk *chunk_alloc(size_t size)
{
    if (size > (size_t)PTRDIFF_MAX) return NULL;
    Chunk *c = aligned_alloc(ALIGN, round_up(sizeof(Chunk) + size, ALIGN));
    if (!c) return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

/* A cached chunk of at least need bytes: the smallest that holds want (>=
 * need) if one does, else the largest; a new chunk of want bytes when none
 * holds need. */
static Chunk *chunk_new(size_t need, size_t want)
{
    int best = -1;
    for (int i = 0; i < cached; i++) {
        size_t size = cache[i]->size;
        if (size < need) continue;
        if (best < 0) { best = i; continue; }
        size_t b = cache[best]->size;
        bool fits = size >= want, best_fits = b >= want;
        if (fits ? !best_fits || size < b : !best_fits && size > b) best = i;
    }
    if (best < 0) return chunk_alloc(want < MIN_CHUNK ? MIN_CHUNK : want);
    Chunk *c = cache[best];
    cache[best] = cache[--cached];
    UNPOISON(c->payload, c->size);
    c->used = 0;
    c->next = NULL;
    return c;
}

static void chunk_release(Chunk *c)
{
    POISON(c->payload, c->size);   /* for ASan: the scope's tensors are gone */
    if (TENSOR__CACHE_CHUNKS && cached < CACHE_SIZE) {
        cache[cached++] = c;
        return;
    }
    if (TENSOR__CACHE_CHUNKS) {
        /* Keep the largest chunks: evict the smallest if c is larger. */
        int smallest = 0;
        for (int i = 1; i < cached; i++)
            if (cache[i]->size < cache[smallest]->size) smallest = i;
        if (cache[smallest]->size < c->size) {
            Chunk *old = cache[smallest];
            cache[smallest] = c;
            c = old;
        }
    }
    UNPOISON(c->payload, c->size);
    free(c);
}

static int arena_level(const TensorArena *a) { return (int)((const TensorScope *)a - scopes); }

static void arena_reset(TensorArena *a)
{
    int level = arena_level(a);
    if (a->bytes > level_need[level]) level_need[level] = a->bytes;
    Chunk *c = a->chunks;
    bool coalesce = TENSOR__CACHE_CHUNKS && c && c->next;
    while (c) {
        Chunk *next = c->next;
        if (coalesce) free(c);
        else chunk_release(c);
        c = next;
    }
    /* What this scope needed, in one piece for the next scope like it. */
    Chunk *whole = coalesce ? chunk_alloc(a->bytes) : NULL;
    if (whole) chunk_release(whole);
    a->chunks = NULL;
    a->bytes = 0;
    a->generation = 0;
}

void *tensor__arena_try_alloc(TensorArena *a, size_t bytes)
{
    if (bytes > (size_t)PTRDIFF_MAX) return NULL;
    bytes = round_up(bytes ? bytes : 1, ALIGN);
    Chunk *c = a->chunks;
    if (!c || c->size - c->used < bytes) {
        /* The scope's first chunk starts at 0 to 7 lines in (see the top). */
        size_t skip = c ? 0 : (size_t)(a->generation % 8) * ALIGN;
        /* A first chunk as big as this level's scopes have needed; later
         * ones grow geometrically so a big step needs few chunks. */
        size_t need = bytes + skip, grow = c ? a->bytes : level_need[arena_level(a)];
        size_t want = grow > need ? grow : need;
        c = chunk_new(need, want);
        if (!c && want > need) c = chunk_new(need, need);   /* doubling was too much */
        if (!c) return NULL;
        c->used = skip;
        c->next = a->chunks;
        a->chunks = c;
        a->bytes += c->size;
    }
    void *p = c->payload + c->used;
    c->used += bytes;
    return p;
}

void *tensor__arena_alloc(TensorArena *a, size_t bytes)
{
    void *p = tensor__arena_try_alloc(a, bytes);
    if (!p) tensor__abort(__FILE__, __LINE__, "out of memory");
    return p;
}

void *tensor__xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) tensor__abort(__FILE__, __LINE__, "out of memory");
    return q;
}

TensorArena *tensor__current_arena(void)
{
    TensorArena *a = &scopes[depth].arena;
    if (!a->generation) a->generation = ++last_generation;   /* the root, first used */
    return a;
}

/* A handle: level in the low bits, generation above; never NULL. */
enum { LEVEL_BITS = 7 };
_Static_assert(MAX_DEPTH < (1 << LEVEL_BITS), "a level fits in LEVEL_BITS");

NO_ASAN bool tensor__live(const Tensor *t)
{
    if (!t->owner) return t->generation != TENSOR__FREED;
    uintptr_t p = (uintptr_t)t->owner, base = (uintptr_t)scopes;
    if (p < base || p >= base + sizeof scopes || (p - base) % sizeof *scopes) return false;
    const TensorArena *a = &scopes[(p - base) / sizeof *scopes].arena;
    return t->generation && a->generation == t->generation;
}

NO_ASAN bool tensor__usable(const Tensor *t, const char *fn)
{
    if (!t) return false;
    if (tensor__live(t)) return true;
    if (!t->owner)
        tensor_set_error("%s: a tensor it was given was freed (tensor_free)", fn);
    else
        tensor_set_error("%s: a tensor it was given belongs to a scope that has ended "
                      "(tensor_scope_end), or to another thread", fn);
    return false;
}

void *tensor__scratch(size_t bytes)
{
    return tensor__arena_alloc(tensor__current_arena(), bytes);
}

TensorScope *tensor_scope_begin(void)
{
    if (depth == MAX_DEPTH)
        return tensor_set_error("scope_begin: scopes nested deeper than %d", MAX_DEPTH);
    depth++;
    uint64_t g = ++last_generation;
    scopes[depth].arena = (TensorArena){.generation = g};
    return (TensorScope *)(uintptr_t)(g << LEVEL_BITS | (uint64_t)depth);
}

TensorScope *tensor__scope_try_begin(void)
{
    return depth == MAX_DEPTH ? NULL : tensor_scope_begin();
}

/* The level of an open scope's handle, or 0 for a handle that is not one. */
static int scope_open(const TensorScope *scope)
{
    uintptr_t h = (uintptr_t)scope;
    int level = (int)(h & ((1u << LEVEL_BITS) - 1));
    uint64_t g = (uint64_t)h >> LEVEL_BITS;
    return scope && level > 0 && level <= depth && scopes[level].arena.generation == g ? level
                                                                                       : 0;
}

void tensor_scope_end(TensorScope *scope)
{
    if (!scope) return;
    int level = scope_open(scope);
    if (!level) {
        tensor_set_error("scope_end: not an open scope (it has ended already, or is another "
                      "thread's)");
        return;
    }
    while (depth >= level) {
        arena_reset(&scopes[depth].arena);
        depth--;
    }
}

size_t tensor_scope_bytes(void)
{
    size_t total = 0;
    for (int i = 0; i <= depth; i++) total += scopes[i].arena.bytes;
    return total;
}

size_t tensor__scope_used_bytes(void)
{
    size_t total = 0;
    for (int i = 0; i <= depth; i++)
        for (const Chunk *c = scopes[i].arena.chunks; c; c = c->next) total += c->used;
    return total;
}

void tensor_cleanup(void)
{
    while (depth > 0) arena_reset(&scopes[depth--].arena);
    arena_reset(&scopes[0].arena);   /* its next use takes a new generation */
    while (cached) free(cache[--cached]);
}

/* ---- long-lived tensors ----------------------------------------------- */

/* NULL when out of memory (the shape is an existing tensor's, so its size
 * is in range). */
static Tensor *heap_tensor(int ndim, const int64_t *shape)
{
    int64_t numel = tensor__numel(ndim, shape);
    Tensor *t = calloc(1, sizeof *t);
    float *data = malloc((size_t)(numel ? numel : 1) * sizeof(float));
    if (!t || !data) {
        free(t);
        free(data);
        return NULL;
    }
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    tensor__set_contiguous_strides(t);
    t->storage = t->data = data;
    t->version = &t->own_version;
    return t;
}

bool tensor_is_long_lived(const Tensor *t) { return t && !t->owner; }

Tensor *tensor_keep(const Tensor *t)
{
    if (!TENSOR__USABLE(t)) return NULL;
    Tensor *k = heap_tensor(t->ndim, t->shape);
    if (!k)
        return tensor_set_error("keep: out of memory for a tensor of shape %s",
                                tensor_shape_str(t));
    if (tensor_is_contiguous(t)) {
        memcpy(k->data, t->data, (size_t)t->numel * sizeof(float));
    } else {
        /* Gathered straight into the copy, no full-size scratch: keeping an
         * expanded value (a module's zeros of GPT-2's 50257 x 768 head) costs
         * the copy's memory alone. */
        TensorIter it;
        tensor__iter_init(&it, t->ndim, t->shape, 1, (const int64_t *[]){t->stride}, NULL);
        for (int64_t i = 0; i < t->numel; i++, tensor__iter_next(&it))
            k->data[i] = t->data[it.off[0]];
    }
    k->requires_grad = t->requires_grad;
    k->name = t->name;
    return k;
}

Tensor *tensor_scope_return(TensorScope *scope, const Tensor *t)
{
    if (!scope_open(scope)) {
        tensor_set_error("scope_return: not an open scope (it has ended already, or is another "
                         "thread's)");
        return NULL;
    }
    /* The value waits on the heap while its scope ends, then goes into the
     * scope that is current once it has: the enclosing one. */
    Tensor *held = tensor_keep(t);   /* NULL for a NULL t, or with a message */
    tensor_scope_end(scope);
    if (!held) return NULL;
    Tensor *out = tensor_empty(held->ndim, held->shape);
    if (out) memcpy(out->data, held->data, (size_t)held->numel * sizeof(float));
    tensor_free(held);
    return out;
}

/* Reads the marker of a tensor that may have been freed already (the
 * memory is then ASan's quarantine, or the allocator's). */
static NO_ASAN bool freed_already(const Tensor *t)
{
    return !t->owner && t->generation == TENSOR__FREED;
}

void tensor_free(Tensor *t)
{
    if (!t) return;
    if (freed_already(t)) {
        tensor_set_error("tensor_free: tensor already freed");
        return;
    }
    if (t->owner) {
        tensor_set_error("tensor_free: tensor %s belongs to a scope; end the scope instead",
                      tensor_shape_str(t));
        return;
    }
    if (t->grad) tensor_free(t->grad);
    tensor__autocast_forget(t);
    free(t->storage);
    *(volatile uint64_t *)&t->generation = TENSOR__FREED;   /* kept: free reads it */
    free(t);
}

/* A gradient lives as long as its tensor: in its arena, or on the heap.  A
 * tensor in an arena first takes a buffer the backward walk released
 * (autograd.c: a non-leaf's gradient once its node has used it, or one an
 * earlier backward gave it), so a step's gradients share a few buffers and
 * repeated backwards through a graph allocate nothing in its arena. */
Tensor *tensor__alloc_grad_uninit(const Tensor *t)
{
    Tensor *g = tensor__reuse_grad(t);
    if (g) {
        g->ndim = t->ndim;
        memcpy(g->shape, t->shape, sizeof g->shape);
        tensor__set_contiguous_strides(g);
    } else if (!t->owner) {
        g = heap_tensor(t->ndim, t->shape);
        if (!g) tensor__abort(__FILE__, __LINE__, "out of memory");
    } else {
        g = tensor__arena_alloc(t->owner, sizeof *g);
        memset(g, 0, sizeof *g);
        g->ndim = t->ndim;
        memcpy(g->shape, t->shape, sizeof g->shape);
        tensor__set_contiguous_strides(g);
        g->storage = g->data =
            tensor__arena_alloc(t->owner, (size_t)g->numel * sizeof(float));
        g->owner = t->owner;
        g->generation = t->generation;
        g->version = &g->own_version;
    }
    return g;
}

Tensor *tensor__alloc_grad_for(const Tensor *t)
{
    Tensor *g = tensor__alloc_grad_uninit(t);
    tensor__zero_floats(g->data, g->numel);
    return g;
}
