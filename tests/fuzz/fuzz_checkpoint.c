/*
 * libFuzzer target: the safetensors reader (tensor/safetensors*.c) and the
 * two loaders built on it, nn_module_load and the training checkpoint's
 * train_toy_resume.  Any input must be refused with a message or loaded; never a
 * crash, a leak or an out-of-bounds read (the build adds ASan and UBSan).
 *
 *   ./run test      runs it for a bounded time when clang is installed
 *   build-fuzz/tests/fuzz/fuzz_checkpoint corpus_dir tests/fuzz/corpus_checkpoint
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attograd.h"

static TrainToyRun run;   /* a v2 student with Adam, as train_attention makes it */
static int memfd;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    if (memfd > 0) return 0;   /* the replay test calls this for each file */
    memfd = memfd_create("fuzz_checkpoint", 0);
    if (memfd < 0 || train_toy_init(&run, &c) != 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    return 0;
}

/* Looks at everything a parsed file offers. */
static void walk(const TensorFile *f)
{
    for (int i = 0; i < tensor_file_count(f); i++) {
        const TensorEntry *e = tensor_file_entry(f, i);
        if (tensor_file_find(f, e->name) != e) abort();
        if (tensor_dtype_size(e->dtype) == 0) abort();
    }
    tensor_file_meta(f, "format");
    tensor_file_expect_meta(f, "model", "v2");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TensorScope *scope = tensor_scope_begin();
    TensorFile *f = tensor_file_parse(data, size, "fuzz");
    /* A file the parser accepts goes through both loaders too (one it
     * refuses, they refuse at the same check: opening a file reads its
     * header first, then parses it as above). */
    if (f) {
        walk(f);
        if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size) abort();
        nn_module_load(run.student, path);
        train_toy_resume(&run, path);
    }
    tensor_file_close(f);
    tensor_scope_end(scope);
    return 0;
}
