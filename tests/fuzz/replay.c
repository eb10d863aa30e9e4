/*
 * Replays a fuzz target's committed corpus, tests/fuzz/corpus_<target>/,
 * through the target in an ordinary build (gcc, the sanitizer build,
 * valgrind), one Check test per file.  The seeds live there, and so does
 * every input that ever crashed a target: a crash file that libFuzzer
 * writes (build-fuzz/crash-*) is copied into the corpus once fixed, and
 * from then on is a regression test in every build.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FILES = 256 };
static char *files[MAX_FILES];
static int n_files;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_corpus(void)
{
    DIR *d = opendir(FUZZ_CORPUS);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) && n_files < MAX_FILES;) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(FUZZ_CORPUS) + strlen(e->d_name) + 2;
        files[n_files] = malloc(n);
        snprintf(files[n_files++], n, "%s/%s", FUZZ_CORPUS, e->d_name);
    }
    closedir(d);
    qsort(files, (size_t)n_files, sizeof *files, by_name);
}

START_TEST(test_replay)
{
    FILE *f = fopen(files[_i], "rb");
    ck_assert_msg(f != NULL, "cannot open %s", files[_i]);
    static uint8_t data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    int argc = 1;
    char *args[] = {"replay", NULL}, **argv = args;
    ck_assert_int_eq(LLVMFuzzerInitialize(&argc, &argv), 0);
    ck_assert_int_eq(LLVMFuzzerTestOneInput(data, n), 0);
}
END_TEST

/* An empty corpus would replay nothing and pass: it must hold seeds. */
START_TEST(test_corpus_has_seeds)
{
    ck_assert_msg(n_files > 0, "no files in %s", FUZZ_CORPUS);
}
END_TEST

int main(void)
{
    list_corpus();
    Suite *s = suite_create("fuzz corpus");
    TCase *tc = tcase_create(FUZZ_CORPUS);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_corpus_has_seeds);
    tcase_add_loop_test(tc, test_replay, 0, n_files);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (int i = 0; i < n_files; i++) free(files[i]);
    tensor_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
