/* Small command-line helpers shared by the example programs. */
#ifndef ATTOGRAD_CLI_H
#define ATTOGRAD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "tensor/safetensors.h"
#include "tensor/output.h"
#include "text/text.h"

/* Strict number parsing: the whole string must be a number within the
 * range; on failure prints "<prog>: <flag>: <why>" to stderr, returns false. */
bool cli_int(const char *prog, const char *flag, const char *s, long min, long max, long *out);
bool cli_u64(const char *prog, const char *flag, const char *s, uint64_t *out);
bool cli_double(const char *prog, const char *flag, const char *s, double min, double max,
                double *out);
/* v as Python's repr(float) writes it: the shortest digits that read back
 * as v, positional for exponents -4 to 15 ("0.00020173587836325169",
 * "1.0"), else scientific ("1e-05", "1.5e+16"); "nan", "inf", "-inf". */
void cli_float_repr(double v, char *buf, size_t n);
/* The value after a flag: argv[*i + 1], advancing *i; NULL (and a message) if missing. */
const char *cli_value(const char *prog, int argc, char **argv, int *i);

/* ---- A flag and its value, for a program's loop over argv -------------------
 * Each reads the flag at argv[*i] and the value after it (advancing *i), as
 * cli_value and then cli_int, cli_u64 or cli_double; false after their
 * one-line message on stderr.  The program exits 2 then.
 *     } else if (strcmp(a, "--seed") == 0) {
 *         if (!cli_u64_flag(PROG, argc, argv, &i, &o->seed)) return 2;           */
bool cli_int_flag(const char *prog, int argc, char **argv, int *i, long min, long max,
                  long *out);
bool cli_u64_flag(const char *prog, int argc, char **argv, int *i, uint64_t *out);
bool cli_double_flag(const char *prog, int argc, char **argv, int *i, double min, double max,
                     double *out);
/* --tokenizer gpt2|bytes: the name into *out ("<prog>: --tokenizer: 'x' is
 * not gpt2 or bytes" for another). */
bool cli_tokenizer_flag(const char *prog, int argc, char **argv, int *i, const char **out);
/* A picture's file name (plot_check_path: .png, .svg or .pdf, and a path the
 * safe output file accepts) into *out ("<prog>: <flag> <path>: <why>" for
 * another). */
bool cli_picture_flag(const char *prog, int argc, char **argv, int *i, const char **out);
/* A program's files, before any work (tensor_paths_check: every output may
 * be written, no two entries name one file): true, or false after
 * "<prog>: <why>" on stderr (the caller exits 2). */
bool cli_paths_ok(const char *prog, int64_t n, const TensorPath *paths);
/* --help or -h. */
bool cli_is_help(const char *arg);
/* "<prog>: unknown option '<arg>' (see --help)" on stderr. */
void cli_unknown_option(const char *prog, const char *arg);

/* GPT-2's vocabulary directory: $ATTOGRAD_VOCAB_DIR, else build/vocab of
 * the source tree (where ./run vocab puts it). */
const char *cli_vocab_dir(void);
/* The tokenizer that --tokenizer NAME (gpt2 or bytes) and --vocab DIR (NULL:
 * cli_vocab_dir()) name; NULL after printing "<prog>: <why>" to stderr. */
TextTokenizer *cli_tokenizer(const char *prog, const char *name, const char *vocab_dir);
bool cli_is_tokenizer(const char *name);
/* The book's training text shipped with the sources: examples/data/the-verdict.txt. */
const char *cli_default_text(void);

/* ---- GPT configuration flags (train_gpt, gpt_generate) ---------------------
 *   --config 124M|book-test, --vocab-size N, --context-length N, --emb-dim N,
 *   --n-heads N, --n-layers N, --drop-rate X, --qkv-bias                      */
typedef struct {
    NNGPTConfig cfg;
    int64_t context_124m;        /* what --config 124M sets context_length to */
    bool vocab_set;              /* --vocab-size was given */
} CliGPTConfig;

/* When argv[*i] is one of the flags above, reads it (and its value,
 * advancing *i) into c and returns 1; 0 when argv[*i] is another flag; -1
 * after printing "<prog>: <flag>: <why>" to stderr. */
int cli_gpt_config_flag(const char *prog, int argc, char **argv, int *i, CliGPTConfig *c);

/* ---- A GPT's configuration in a checkpoint's metadata ---------------------
 * train_gpt --save writes these "__metadata__" strings, so that a program
 * given only the file (gpt_generate --load) can rebuild the model:
 *   vocab_size, context_length, emb_dim, n_heads, n_layers   "50257" (decimal)
 *   drop_rate                                                "0.10000000000000001" (%.17g)
 *   qkv_bias                                                 "true" or "false"
 *   tokenizer                                                "gpt2" or "bytes"
 * A load that expects them all equal (train_gpt --resume) names the first
 * key that differs: metadata "emb_dim" is "32" in file, "64" expected. */
enum { CLI_GPT_META_COUNT = 8 };
typedef struct {
    char values[CLI_GPT_META_COUNT][32];
    TensorMeta meta[CLI_GPT_META_COUNT];   /* pointing into values */
} CliGPTMeta;
void cli_gpt_config_to_meta(NNGPTConfig cfg, const char *tokenizer, CliGPTMeta *m);
/* The configuration and tokenizer ("gpt2" or "bytes", a static string) from
 * a file's metadata; 0, or -1 with a message (tensor_error()) naming the file
 * and the key that is absent or not a value of its kind.  The values are
 * checked as the flags check them; nn_gpt_model checks the rest. */
int cli_gpt_config_from_meta(const TensorFile *f, const char *label, NNGPTConfig *cfg,
                             const char **tokenizer);

#endif /* ATTOGRAD_CLI_H */
