/*
 * libFuzzer target: train_attention's command line.  The program's own
 * file is compiled in (its main renamed), so what is fuzzed is the very
 * parse_options the program runs, in this process, linked against the
 * library alone.  The input is split at NUL bytes into arguments.  Any argv
 * must give 0, 1 or 2; a 2 must leave its message, naming the program, in
 * tensor_error(); a 0 must leave options that train_attention can use as
 * they are.
 */
#define main train_attention_main
#include "examples/train_attention.c"
#undef main

#include <stdint.h>

enum { MAX_ARGS = 64 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* The promises of a successful parse. */
static void check(const Options *o)
{
    if (o->steps < 1 || o->steps > 100000000 || o->log_every < 1 || o->toy.batch < 1) abort();
    if (!train_toy_is_model(o->toy.model) || !train_toy_is_optim(o->toy.optim)) abort();
    if (!(o->toy.lr >= 0 && o->toy.lr <= 1e3)) abort();
    if (o->n_models < 1 || o->n_models > MAX_MODELS) abort();
    for (int i = 0; i < o->n_models; i++)
        if (!train_toy_is_model(o->models[i])) abort();
    if (o->compare && (o->save || o->resume)) abort();
    if ((o->save && !*o->save) || (o->resume && !*o->resume)) abort();
}

/* A bad flag's message, which main prints. */
static void check_message(void)
{
    if (strncmp(tensor_error(), PROG ": ", strlen(PROG ": ")) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) abort();
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2] = {"train_attention"};
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 1;
    for (char *p = text; p <= text + size && argc <= MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;
    Options o;
    tensor_clear_error();
    int rc = parse_options(argc, argv, &o, sink);
    if (rc < 0 || rc > 2) abort();
    if (rc == 0) check(&o);
    if (rc == 2) check_message();
    free(text);
    return 0;
}
