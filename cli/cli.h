/*
 * attograd cli room: the command line of the programs in examples/, for
 * your own program too: strict numbers, a flag and its value, the GPT's
 * configuration flags, the tokenizer and GPT-2's vocabulary, a program's
 * files checked together before any work.
 *
 * Messages
 *   Like the rest of the library, nothing here prints: a function that
 *   fails returns false (or NULL, or -1) and leaves in tensor_error() the
 *   whole line the program prints, "<prog>: <flag>: <why>", e.g.
 *   "train_gpt: --lr: -1 is out of range (0 to 1000)".  The program prints
 *   it once, where it gives up, and exits 2 for a bad flag:
 *
 *     static int parse(int argc, char **argv, Options *o)
 *     {
 *         for (int i = 1; i < argc; i++) {
 *             const char *a = argv[i];
 *             bool ok = true;
 *             if (cli_is_help(a)) {
 *                 usage(stdout);
 *                 return 1;
 *             } else if (strcmp(a, "--seed") == 0) {
 *                 ok = cli_u64_flag(PROG, argc, argv, &i, &o->seed);
 *             } else if (strcmp(a, "--lr") == 0) {
 *                 ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e3, &o->lr);
 *             } else {
 *                 ok = cli_unknown_option(PROG, a);
 *             }
 *             if (!ok) return 2;
 *         }
 *         return 0;
 *     }
 *     ...
 *     int rc = parse(argc, argv, &o);
 *     if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
 *     if (rc) return rc == 1 ? 0 : 2;
 *
 *   A parser that records instead of printing can be called by a test or a
 *   fuzzer a million times without a line on stderr, and by a program with
 *   no terminal (a GUI, a service) that shows the message its own way.
 */
#ifndef ATTOGRAD_CLI_H
#define ATTOGRAD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor.h"
#include "tensor/output.h"
#include "nn/nn.h"
#include "text/text.h"

/* ---- Strict numbers ------------------------------------------------------------
 * The whole string must be a number within [min, max]: true with *out set,
 * or false with "<prog>: <flag>: <why>" in tensor_error() ("'1.5' is not a
 * whole number", "0 is out of range (1 to 100)", "'1e400' overflows a
 * double (its magnitude is over 1.8e308)"). */
ATTOGRAD_API bool cli_int(const char *prog, const char *flag, const char *s, int64_t min,
                          int64_t max, int64_t *out);
ATTOGRAD_API bool cli_u64(const char *prog, const char *flag, const char *s, uint64_t *out);
ATTOGRAD_API bool cli_double(const char *prog, const char *flag, const char *s, double min,
                             double max, double *out);
/* v as Python's repr(float) writes it: the shortest digits that read back
 * as v, positional for exponents -4 to 15 ("0.00020173587836325169",
 * "1.0"), else scientific ("1e-05", "1.5e+16"); "nan", "inf", "-inf". */
ATTOGRAD_API void cli_float_repr(double v, char *buf, size_t n);

/* ---- A flag and its value, in a program's loop over argv ---------------------
 * argv[*i] is the flag; each reads the value after it (advancing *i). */
/* argv[*i + 1], or NULL with "<prog>: <flag> needs a value (see --help)". */
ATTOGRAD_API const char *cli_value(const char *prog, int argc, char **argv, int *i);
/* cli_value, then cli_int, cli_u64 or cli_double: false after either failed. */
ATTOGRAD_API bool cli_int_flag(const char *prog, int argc, char **argv, int *i, int64_t min,
                               int64_t max, int64_t *out);
ATTOGRAD_API bool cli_u64_flag(const char *prog, int argc, char **argv, int *i, uint64_t *out);
ATTOGRAD_API bool cli_double_flag(const char *prog, int argc, char **argv, int *i, double min,
                                  double max, double *out);
/* --tokenizer gpt2|bytes: the name into *out; "<prog>: --tokenizer: 'x' is
 * not gpt2 or bytes" for another. */
ATTOGRAD_API bool cli_tokenizer_flag(const char *prog, int argc, char **argv, int *i,
                                     const char **out);
/* A picture's file name (plot_check_path: .png, .svg or .pdf, a path the
 * safe output file accepts) into *out; "<prog>: <flag> <path>: <why>". */
ATTOGRAD_API bool cli_picture_flag(const char *prog, int argc, char **argv, int *i,
                                   const char **out);
/* --help or -h. */
ATTOGRAD_API bool cli_is_help(const char *arg);
/* Records "<prog>: unknown option '<arg>' (see --help)"; returns false. */
ATTOGRAD_API bool cli_unknown_option(const char *prog, const char *arg);

/* A program's files, before any work (tensor_paths_check: every output may
 * be written, no two entries name one file): true, or false with
 * "<prog>: <why>". */
ATTOGRAD_API bool cli_paths_ok(const char *prog, int64_t n, const TensorPath *paths);

/* ---- The tokenizer and GPT-2's vocabulary ------------------------------------- */
/* GPT-2's vocabulary folder: $ATTOGRAD_VOCAB_DIR, else build/vocab of the
 * source tree the library was built from (where ./run vocab puts it). */
ATTOGRAD_API const char *cli_vocab_dir(void);
/* "gpt2" or "bytes". */
ATTOGRAD_API bool cli_is_tokenizer(const char *name);
/* The files the tokenizer reads, as two inputs for cli_paths_ok named
 * "--vocab": DIR/encoder.json and DIR/vocab.bpe (vocab_dir NULL:
 * cli_vocab_dir()) for gpt2 (tokenizer NULL: the default, gpt2); for bytes,
 * none (both paths NULL).  The names live in v. */
typedef struct {
    char encoder[4200], merges[4200];
    TensorPath paths[2];
} CliVocabPaths;
ATTOGRAD_API void cli_vocab_paths(const char *tokenizer, const char *vocab_dir, CliVocabPaths *v);
/* The tokenizer --tokenizer NAME and --vocab DIR name (vocab_dir NULL:
 * cli_vocab_dir()); NULL with "<prog>: GPT-2's vocabulary: <why> (fetch it
 * with ./run vocab, or pass --vocab DIR)" or "<prog>: --tokenizer: ...". */
ATTOGRAD_API TextTokenizer *cli_tokenizer(const char *prog, const char *name,
                                          const char *vocab_dir);
/* Whether every id a model of vocab_size outputs can be decoded by tok,
 * checked before any work: false with "<prog>: --vocab-size N is larger
 * than the <name> tokenizer's M ids: a generated id could not be decoded"
 * (the sample or the output text would fail after the run). */
ATTOGRAD_API bool cli_vocab_decodable(const char *prog, const TextTokenizer *tok,
                                      int64_t vocab_size);

/* ---- The GPT's configuration flags (train_gpt, gpt_generate) -------------------
 *   --config 124M|book-test, --vocab-size N, --context-length N, --emb-dim N,
 *   --n-heads N, --n-layers N, --drop-rate X, --qkv-bias
 * Their ranges are those nn_gpt_config_from_meta accepts (nn/nn.h), so any
 * configuration a user types fits a checkpoint's metadata and back. */
typedef struct {
    NNGPTConfig cfg;
    int64_t context_124m;        /* what --config 124M sets context_length to */
    bool vocab_set;              /* --vocab-size was given */
} CliGPTConfig;

/* When argv[*i] is one of the flags above, reads it (and its value,
 * advancing *i) into c and returns 1; 0 when argv[*i] is another flag; -1
 * with "<prog>: <flag>: <why>". */
ATTOGRAD_API int cli_gpt_config_flag(const char *prog, int argc, char **argv, int *i,
                                     CliGPTConfig *c);

/* ---- The training flags (train_gpt, finetune_classifier, finetune_instruct) ---
 *   --lr X --weight-decay X     AdamW's (0 to 1000)
 *   --epochs N                  1 (0 with allow_zero_epochs) to 2^20
 *   --batch-size N              1 to 2^20 (the flag's name is batch_flag's)
 *   --eval-freq N --eval-iter N 1 to 2^30
 *   --seed N                    torch.manual_seed's (a non-negative whole number)
 *   --bf16                      the run's products in bfloat16 (tensor_autocast_begin)
 * A program starts the struct from its own defaults (the book's settings
 * differ per chapter) and keeps its own --help. */
typedef struct {
    double lr, weight_decay;
    int64_t epochs, batch_size, eval_freq, eval_iter;
    uint64_t seed;
    bool bf16;
    /* the program's choices, set with the defaults */
    const char *batch_flag;      /* the batch size's flag; NULL: "--batch-size" */
    bool allow_zero_epochs;      /* --epochs 0: a run that only evaluates */
} CliTrainOptions;

/* When argv[*i] is one of the flags above, reads it (and its value,
 * advancing *i) into t and returns 1; 0 when argv[*i] is another flag; -1
 * with "<prog>: <flag>: <why>" (as cli_gpt_config_flag). */
ATTOGRAD_API int cli_train_flag(const char *prog, int argc, char **argv, int *i,
                                CliTrainOptions *t);

#endif /* ATTOGRAD_CLI_H */
