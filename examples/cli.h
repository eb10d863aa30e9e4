/* Small command-line helpers shared by the example programs. */
#ifndef ATTOGRAD_CLI_H
#define ATTOGRAD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* GPT-2's vocabulary directory: $ATTOGRAD_VOCAB_DIR, else build/vocab of
 * the source tree (where ./run vocab puts it). */
const char *cli_vocab_dir(void);
/* The tokenizer that --tokenizer NAME (gpt2 or bytes) and --vocab DIR (NULL:
 * cli_vocab_dir()) name; NULL after printing "<prog>: <why>" to stderr. */
TextTokenizer *cli_tokenizer(const char *prog, const char *name, const char *vocab_dir);
bool cli_is_tokenizer(const char *name);
/* The book's training text shipped with the sources: examples/data/the-verdict.txt. */
const char *cli_default_text(void);          /* "gpt2" or "bytes" */

#endif /* ATTOGRAD_CLI_H */
