/*
 * Long runs keep a flat memory footprint: toy training steps (the scope
 * arena, the graph, the optimizer) leave nothing behind.
 *
 *   test_soak               the suite: 20,000 steps of the toy task; after a
 *                           warm-up of 2,000 the peak RSS may grow by at most
 *                           SLACK_KB
 *   test_soak --steps N     the benchmark (meson benchmark 'soak': 1,000,000
 *                           steps): one line of RSS figures every N/10 steps
 *
 * SLACK_KB is 256 KiB: glibc's malloc grows its heap in steps of up to
 * 128 KiB (M_TOP_PAD) and the kernel counts RSS in 4 KiB pages, so a flat
 * run may still show one such step; a leak of 15 bytes per step or more
 * (256 KiB over the 18,000 measured steps) fails.  The peak (ru_maxrss) is
 * what the kernel would have to provide, so it is what must stay flat.
 */
#include <sys/resource.h>
#include <unistd.h>

#include "testutil.h"

enum { SUITE_STEPS = 20000, WARM_UP = 2000, SLACK_KB = 256 };

/* The sanitizer build frees into a quarantine that grows to 256 MB before
 * memory is reused; a quarantine of 0 lets the allocator reuse it at once,
 * so RSS shows leaks, not the sanitizer's bookkeeping.  (Leaks themselves
 * are LeakSanitizer's job at exit.) */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifdef SOAK_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=0"; }
#endif

static long peak_rss_kb(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_maxrss; /* KiB on Linux */
}

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

START_TEST(test_rss_is_flat)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < WARM_UP; s++) ck_assert(!isnan(train_toy_step(&run)));
    long warm = peak_rss_kb();
    size_t scope_bytes = tensor_scope_bytes();
    /* One check after the loop: Check's own bookkeeping allocates per assertion. */
    int nan_steps = 0;
    for (int s = WARM_UP; s < SUITE_STEPS; s++) nan_steps += isnan(train_toy_step(&run));
    long end = peak_rss_kb();
    ck_assert_int_eq(nan_steps, 0);
    ck_assert_msg(end - warm <= SLACK_KB,
                  "peak RSS grew from %ld KiB after %d steps to %ld KiB after %d (slack %d KiB)",
                  warm, WARM_UP, end, SUITE_STEPS, SLACK_KB);
    ck_assert_uint_eq(tensor_scope_bytes(), scope_bytes);
    train_toy_free(&run);
}
END_TEST

/* The benchmark: "soak step=... peak_rss_kb=... rss_kb=..." every steps/10. */
static int soak(long steps)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    if (train_toy_init(&run, &c)) return 1;
    long every = steps >= 10 ? steps / 10 : 1;
    printf("soak step=0 peak_rss_kb=%ld rss_kb=%ld\n", peak_rss_kb(), rss_kb());
    for (long s = 1; s <= steps; s++) {
        float loss = train_toy_step(&run);
        if (isnan(loss)) {
            fprintf(stderr, "test_soak: step %ld failed: %s\n", s, tensor_error());
            return 1;
        }
        if (s % every == 0) {
            printf("soak step=%ld peak_rss_kb=%ld rss_kb=%ld loss=%.3g\n", s, peak_rss_kb(),
                   rss_kb(), (double)loss);
            fflush(stdout);
        }
    }
    train_toy_free(&run);
    tensor_cleanup();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--steps")) return soak(atol(argv[2]));
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rss_is_flat);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tensor_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
