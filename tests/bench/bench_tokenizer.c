/*
 * GPT-2's BPE on long runs without spaces (one pre-tokenised piece each,
 * where the merge loop's cost shows) beside prose of the same size.
 *
 *   bench_tokenizer [--vocab DIR] [--sizes 102400,1048576] [--reps 3] [--texts letters,prose]
 *
 * One line per case, the best of --reps encodes, wall and CPU seconds (on a
 * shared machine the CPU time is the steadier figure):
 *   tokenize text=letters bytes=1048576 ids=611324 seconds=0.61 cpu_seconds=0.60 mb_per_s=1.7
 * Cases: random lowercase letters (one piece of every size asked), random
 * letters and digits mixed case, one letter repeated (each round merges
 * every occurrence) and the book's the-verdict.txt repeated (prose, pieces of
 * a few bytes).  Nothing is asserted: times depend on the machine and its load.
 */
#include "attograd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fixed xorshift stream: the same text on every run. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static char *make_text(const char *kind, size_t n, const char *prose, size_t prose_len)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    uint64_t state = 0x9E3779B97F4A7C15u;
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kind, "letters") == 0) s[i] = (char)('a' + next(&state) % 26);
        else if (strcmp(kind, "mixed_case") == 0) s[i] = alnum[next(&state) % 52];
        else if (strcmp(kind, "repeated") == 0) s[i] = 'a';
        else s[i] = prose[i % prose_len];
    }
    s[n] = '\0';
    return s;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    const char *env = getenv("ATTOGRAD_VOCAB_DIR");
    const char *vocab = env && *env ? env : ATTOGRAD_VOCAB_DEFAULT;
    const char *sizes = "102400,1048576", *only = NULL;
    int reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--vocab") == 0) vocab = argv[i + 1];
        else if (strcmp(argv[i], "--sizes") == 0) sizes = argv[i + 1];
        else if (strcmp(argv[i], "--texts") == 0) only = argv[i + 1];
        else if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    }
    if (reps < 1) reps = 1;
    TextTokenizer *t = text_tokenizer_gpt2_dir(vocab);
    size_t prose_len = 0;
    char *prose = read_all(ATTOGRAD_TEXT_DEFAULT, &prose_len);
    if (!t || !prose || !prose_len) {
        fprintf(stderr, "bench_tokenizer: %s (./run vocab fetches GPT-2's vocabulary)\n",
                t ? ATTOGRAD_TEXT_DEFAULT ": cannot read" : tensor_error());
        return 1;
    }
    static const char *const kinds[] = {"letters", "mixed_case", "repeated", "prose"};
    for (const char *p = sizes; *p;) {
        char *end;
        size_t n = strtoull(p, &end, 10);
        if (end == p) break;
        p = *end == ',' ? end + 1 : end;
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
            if (only && !strstr(only, kinds[k])) continue;
            char *text = make_text(kinds[k], n, prose, prose_len);
            double best = 1e30, best_cpu = 1e30;
            size_t count = 0;
            for (int r = 0; text && r < reps; r++) {
                int64_t *ids;
                double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
                if (text_encode(t, text, n, false, &ids, &count) != 0) {
                    fprintf(stderr, "bench_tokenizer: %s\n", tensor_error());
                    return 1;
                }
                double dt = now_s(CLOCK_MONOTONIC) - t0, dc = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
                if (dt < best) best = dt;
                if (dc < best_cpu) best_cpu = dc;
                free(ids);
            }
            printf("tokenize text=%s bytes=%zu ids=%zu seconds=%.3f cpu_seconds=%.3f "
                   "mb_per_s=%.2f\n", kinds[k], n, count, best, best_cpu,
                   (double)n / 1048576.0 / best_cpu);
            fflush(stdout);
            free(text);
        }
    }
    free(prose);
    text_tokenizer_free(t);
    tensor_cleanup();
    return 0;
}
