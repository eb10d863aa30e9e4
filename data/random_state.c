/*
 * numpy's legacy generator, RandomState(seed), as far as pandas' sample()
 * uses it: the book's chapter 6 draws its balanced dataset and its split
 * with DataFrame.sample(..., random_state=123), which makes a fresh
 * RandomState(123) and takes permutation(N)[:n].
 *
 * RandomState(seed) for an integer seed is MT19937 seeded by the classic
 * init_genrand(seed), which is exactly how PyTorch seeds its CPU generator
 * (with the seed's low 32 bits), so the tensor room's generator gives
 * numpy's 32-bit stream; only the seed's range differs (numpy refuses one
 * outside [0, 2^32)).  What numpy adds is its bounded draw and its shuffle.
 */
#include "data.h"

/* numpy's random_interval(max): a uniform integer in [0, max] by rejection:
 * mask = max with every bit below its top bit set, draw & mask until the
 * value is <= max; 32-bit draws while max fits 32 bits, 64-bit ones above. */
static uint64_t random_interval(TensorGenerator *g, uint64_t max)
{
    if (max == 0) return 0;
    uint64_t mask = max;
    for (int s = 1; s <= 32; s *= 2) mask |= mask >> s;
    uint64_t v;
    if (max <= 0xFFFFFFFFu)
        do v = tensor_generator_next_u32(g) & mask; while (v > max);
    else
        do v = tensor_generator_next_u64(g) & mask; while (v > max);
    return v;
}

int data_numpy_random_state_permutation(int64_t seed, int64_t n, int64_t *out)
{
    const char *who = "data_numpy_random_state_permutation";
    if (seed < 0 || seed > (int64_t)0xFFFFFFFF)
        return tensor_set_error("%s: seed %lld must be between 0 and 2**32 - 1", who,
                                (long long)seed), -1;
    if (n < 0) return tensor_set_error("%s: n %lld must be >= 0", who, (long long)n), -1;
    if (n > 0 && !out) return tensor_set_error("%s: out is NULL", who), -1;
    TensorGenerator g;
    tensor_generator_seed(&g, (uint64_t)seed);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    /* RandomState.shuffle of arange(n): from the back, each place swapped
     * with one at or before it. */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)random_interval(&g, (uint64_t)i);
        int64_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
    return 0;
}
