/*
 * libFuzzer target: GPT-2's weights in Hugging Face's layout
 * (nn_gpt_hf_config, nn_gpt_load_hf) and a model's file checked against
 * the config it claims (nn_gpt_check_file, then checkpoint_load_module),
 * on bytes written to a file.  Any input must be refused with a message or
 * loaded; never a crash, a leak, an out-of-bounds read, or a model larger
 * than what the file holds (the masks no larger than the weights).  A model
 * that loads runs one forward.
 *
 *   ./run test      runs it for a bounded time when clang is installed
 *   build-fuzz/tests/fuzz/fuzz_hf corpus_dir tests/fuzz/corpus_hf
 *
 * The seeds (corpus_hf/): small GPT-2s in the layout (the "transformer."
 * prefix, the h.N.attn.bias masks, a missing tensor, a NaN, a wpe of many
 * rows) and GPTModel state_dicts of CHECKED's config (one with a zeroed
 * mask), written by hand as gen_hf_gpt2.py writes its file.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attograd.h"

/* The config a state_dict file is checked against: the seeds' small GPT. */
static const NNGPTConfig CHECKED = {8, 4, 4, 2, 1, 0.0, true};

static int memfd;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (memfd > 0) return 0;   /* the replay test calls this for each file */
    memfd = memfd_create("fuzz_hf", 0);
    if (memfd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    return 0;
}

/* One forward of a single token: a loaded model must run. */
static void run_once(Module *m)
{
    nn_train(m, false);
    tensor_no_grad_begin();
    if (!nn_forward(m, tensor_zeros(SHAPE(1, 1)))) abort();
    tensor_no_grad_end();
}

/* Parameters and buffers, in bytes. */
static double model_bytes(const Module *m, double *buffers)
{
    NNList b = nn_named_buffers(m);
    *buffers = 0;
    for (int64_t i = 0; i < b.count; i++) *buffers += 4.0 * (double)b.tensors[i]->numel;
    nn_list_free(&b);
    return 4.0 * (double)nn_num_parameters(m);
}

static void hf(size_t size)
{
    NNGPTConfig cfg;
    if (nn_gpt_hf_config(path, &cfg) != 0) return;
    if (cfg.n_heads == 0) cfg.n_heads = 1;   /* any width: a caller's choice */
    Module *m = nn_gpt_load_hf(path, cfg);
    if (!m) return;
    /* Weights come from the file (the head is wte's copy), masks at most as much. */
    double buffers, params = model_bytes(m, &buffers);
    if (params > 2.0 * (double)size || buffers > params) abort();
    run_once(m);
    nn_module_free(m);
}

static void checked(size_t size)
{
    if (nn_gpt_check_file(CHECKED, path) != 0) return;
    Module *m = nn_gpt_model(CHECKED);
    if (!m) abort();
    double buffers, params = model_bytes(m, &buffers);
    if (params + buffers > (double)size) abort();
    if (checkpoint_load_module(m, path, 0, NULL) == 0) run_once(m);
    nn_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size) abort();
    TensorScope *scope = tensor_scope_begin();
    hf(size);
    checked(size);
    tensor_scope_end(scope);
    return 0;
}
