/*
 * The book's chapter-6 data (train.h, "Chapter 6"): the SMS Spam Collection
 * read as pandas' read_csv reads it, and the balanced dataset and the
 * 70/10/20 split as pandas' DataFrame.sample draws them (numpy's legacy
 * RandomState, data_numpy_random_state_permutation).  book_ch06.py in
 * tests/reference is the same code in Python.
 */
#include "train_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The file: pandas' read_csv(sep="\t", header=None) ------------------------ */

void train_sms_free(TrainSms *df)
{
    if (!df) return;
    for (int64_t i = 0; i < df->n; i++) free(df->rows[i].text);
    free(df->rows);
    free(df);
}

/* A growing byte buffer for a field. */
typedef struct {
    char *p;
    size_t n, cap;
} Buf;

static int buf_put(Buf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    return 0;
}

/* pandas' default na_values: such a field is read as NaN, on which the
 * book's SpamDataset fails; refused with its line. */
static bool pandas_na(const char *s)
{
    static const char *const na[] = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN",
                                     "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
                                     "NULL", "NaN", "None", "n/a", "nan", "null"};
    for (size_t i = 0; i < sizeof na / sizeof *na; i++)
        if (strcmp(s, na[i]) == 0) return true;
    return false;
}

/* The offset of the first byte that does not start a valid UTF-8 sequence
 * (as Python's strict decoder: no overlongs, surrogates or code points above
 * U+10FFFF), or n. */
static size_t utf8_invalid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
                 : c >= 0xF0 && c <= 0xF4 ? 3 : 4;
        if (k == 4) return i;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n) return i;
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF)) return i;
        }
        i += k + 1;
    }
    return n;
}

/* One row from a record of fields: 0, or -1 with a message naming the line. */
static int add_row(TrainSms *df, const char *path, int64_t line, Buf *fields, int nfields)
{
    if (nfields == 1)
        return tensor_set_error("%s: line %lld: no tab: expected label<TAB>text", path,
                                (long long)line), -1;
    if (nfields != 2)
        return tensor_set_error("%s: line %lld: %d fields: expected label<TAB>text", path,
                                (long long)line, nfields), -1;
    const char *label = fields[0].p ? fields[0].p : "", *text = fields[1].p ? fields[1].p : "";
    int value = strcmp(label, "ham") == 0 ? 0 : strcmp(label, "spam") == 0 ? 1 : -1;
    if (value < 0)
        return tensor_set_error("%s: line %lld: label '%.40s' is not ham or spam", path,
                                (long long)line, label), -1;
    if (pandas_na(text))
        return tensor_set_error("%s: line %lld: the text '%s' is what pandas reads as a missing "
                                "value (NaN)", path, (long long)line, text), -1;
    TrainSmsRow *rows = realloc(df->rows, (size_t)(df->n + 1) * sizeof *rows);
    if (!rows) return tensor_set_error("%s: out of memory", path), -1;
    df->rows = rows;
    rows[df->n] = (TrainSmsRow){.index = df->n, .line = line, .label = value,
                                .text = fields[1].p, .len = fields[1].n};
    fields[1] = (Buf){0};
    if (!rows[df->n].text && !(rows[df->n].text = calloc(1, 1)))
        return tensor_set_error("%s: out of memory", path), -1;
    df->n++;
    return 0;
}

static int oom(const char *path)
{
    tensor_set_error("%s: out of memory", path);
    return -1;
}

enum { START_RECORD, START_FIELD, FIELD, QUOTED, QUOTE_IN_QUOTED };

/* pandas' C tokenizer with sep "\t", quotechar '"', doublequote, no escape
 * character, skip_blank_lines (book_ch06.py's parse_tsv_records, state for
 * state).  A field whose first character is '"' is quoted up to the next
 * lone '"' (a doubled one gives one '"', tabs and line ends are text), then
 * goes on unquoted to the next tab or line end; a '"' elsewhere is kept. */
static int parse(TrainSms *df, const char *path, const char *s, size_t n)
{
    Buf fields[3] = {{0}};
    int nf = 0, state = START_RECORD, rc = 0;
    int64_t line = 1, first = 1;
    size_t i = 0;
#define FIELD_BUF (&fields[nf < 2 ? nf : 2])
    while (i < n && rc == 0) {
        char c = s[i];
        switch (state) {
        case START_RECORD:
            first = line;
            if (c == '\n' || c == '\r') {                         /* an empty line */
                if (c == '\r' && i + 1 < n && s[i + 1] == '\n') i++;
                line++;
                i++;
                continue;
            }
            if (c == ' ') {                                       /* spaces only: skipped */
                size_t j = i;
                while (j < n && s[j] == ' ') j++;
                if (j == n || s[j] == '\n' || s[j] == '\r') {
                    i = j;
                    continue;
                }
            }
            state = START_FIELD;
            continue;
        case START_FIELD:
            if (c == '"') {
                state = QUOTED;
                i++;
            } else {
                state = FIELD;
            }
            continue;
        case FIELD:
            if (c == '\t') {
                nf++;
                state = START_FIELD;
            } else if (c == '\n' || c == '\r') {
                rc = add_row(df, path, first, fields, nf + 1);
                for (int k = 0; k < 3; k++) free(fields[k].p), fields[k] = (Buf){0};
                nf = 0;
                if (c == '\r' && i + 1 < n && s[i + 1] == '\n') i++;
                line++;
                state = START_RECORD;
            } else if (buf_put(FIELD_BUF, c)) {
                rc = oom(path);
            }
            i++;
            continue;
        case QUOTED:
            if (c == '"') state = QUOTE_IN_QUOTED;
            else {
                if (c == '\n') line++;
                if (buf_put(FIELD_BUF, c)) rc = oom(path);
            }
            i++;
            continue;
        default:                                                  /* QUOTE_IN_QUOTED */
            if (c == '"') {                                       /* "" in quotes: one " */
                if (buf_put(FIELD_BUF, '"')) rc = oom(path);
                state = QUOTED;
                i++;
            } else {
                state = FIELD;                                    /* the closing quote */
            }
            continue;
        }
    }
#undef FIELD_BUF
    if (rc == 0 && state == QUOTED)
        rc = (tensor_set_error("%s: line %lld: a quoted field (a text starting with '\"') is "
                               "never closed", path, (long long)first), -1);
    else if (rc == 0 && state != START_RECORD)
        rc = add_row(df, path, first, fields, nf + 1);            /* no final line end */
    for (int k = 0; k < 3; k++) free(fields[k].p);
    return rc;
}

TrainSms *train_sms_read(const char *path)
{
    size_t n = 0;
    char *s = train_read_text(path, &n);
    if (!s) return NULL;
    size_t bad = utf8_invalid((const unsigned char *)s, n);
    if (bad < n) {
        int64_t line = 1;
        for (size_t i = 0; i < bad; i++) line += s[i] == '\n';
        unsigned byte = (unsigned char)s[bad];
        free(s);
        return tensor_set_error("%s: line %lld: byte %zu (0x%02x) is not UTF-8", path,
                                (long long)line, bad, byte);
    }
    TrainSms *df = calloc(1, sizeof *df);
    int rc = df ? parse(df, path, s, n) : (tensor_set_error("%s: out of memory", path), -1);
    free(s);
    if (rc == 0 && df->n == 0) rc = (tensor_set_error("%s: no rows (label<TAB>text lines)",
                                                      path), -1);
    if (rc) {
        train_sms_free(df);
        return NULL;
    }
    return df;
}

/* ---- The balanced dataset and the split: DataFrame.sample --------------------- */

/* The frame of df's rows at[0 .. n-1], in that order (texts copied, index
 * and line kept, as pandas keeps a frame's index). */
static TrainSms *frame_take(const TrainSms *df, const int64_t *at, int64_t n)
{
    TrainSms *out = calloc(1, sizeof *out);
    if (out && n > 0 && !(out->rows = calloc((size_t)n, sizeof *out->rows))) {
        free(out);
        out = NULL;
    }
    if (!out) return tensor_set_error("out of memory");
    for (int64_t i = 0; i < n; i++) {
        const TrainSmsRow *r = &df->rows[at[i]];
        out->rows[i] = *r;
        if (!(out->rows[i].text = malloc(r->len + 1))) {
            train_sms_free(out);
            return tensor_set_error("out of memory");
        }
        memcpy(out->rows[i].text, r->text, r->len + 1);
        out->n = i + 1;
    }
    return out;
}

TrainSms *train_sms_balanced(const TrainSms *df, int64_t random_state)
{
    if (!df) return tensor_set_error("create_balanced_dataset: the frame is NULL");
    int64_t *ham = malloc((size_t)(df->n + 1) * sizeof *ham);
    int64_t *pick = malloc((size_t)(df->n + 1) * sizeof *pick);
    int64_t *perm = malloc((size_t)(df->n + 1) * sizeof *perm);
    TrainSms *out = NULL;
    if (!ham || !pick || !perm) {
        tensor_set_error("create_balanced_dataset: out of memory");
        goto done;
    }
    int64_t n_ham = 0, n_spam = 0;
    for (int64_t i = 0; i < df->n; i++)
        if (df->rows[i].label == 0) ham[n_ham++] = i;
        else n_spam++;
    /* df[ham].sample(n_spam, random_state=123): permutation(n_ham)[:n_spam] */
    if (n_spam > n_ham) {
        tensor_set_error("create_balanced_dataset: %lld ham rows, fewer than the %lld spam rows "
                         "to balance", (long long)n_ham, (long long)n_spam);
        goto done;
    }
    if (data_numpy_random_state_permutation(random_state, n_ham, perm)) goto done;
    int64_t k = 0;
    for (int64_t i = 0; i < n_spam; i++) pick[k++] = ham[perm[i]];
    for (int64_t i = 0; i < df->n; i++)                           /* then the spam rows */
        if (df->rows[i].label == 1) pick[k++] = i;
    out = frame_take(df, pick, k);
done:
    free(ham);
    free(pick);
    free(perm);
    return out;
}

int train_sms_random_split(const TrainSms *df, double train_frac, double validation_frac,
                           int64_t random_state, TrainSms **train, TrainSms **validation,
                           TrainSms **test)
{
    if (!df || !train || !validation || !test)
        return tensor_set_error("random_split: the frame and the three results must not be "
                                "NULL"), -1;
    *train = *validation = *test = NULL;
    if (!(train_frac >= 0 && validation_frac >= 0 && train_frac + validation_frac <= 1))
        return tensor_set_error("random_split: train_frac %g and validation_frac %g must be "
                                ">= 0 with a sum <= 1", train_frac, validation_frac), -1;
    int64_t n = df->n;
    int64_t *perm = malloc((size_t)(n + 1) * sizeof *perm);
    if (!perm) return tensor_set_error("random_split: out of memory"), -1;
    /* df.sample(frac=1, random_state=123): the whole frame, permuted */
    int rc = data_numpy_random_state_permutation(random_state, n, perm);
    int64_t train_end = (int64_t)((double)n * train_frac);                 /* int(n * 0.7) */
    int64_t validation_end = train_end + (int64_t)((double)n * validation_frac);
    if (rc == 0) {
        *train = frame_take(df, perm, train_end);
        *validation = frame_take(df, perm + train_end, validation_end - train_end);
        *test = frame_take(df, perm + validation_end, n - validation_end);
        if (!*train || !*validation || !*test) rc = -1;
    }
    free(perm);
    if (rc) {
        train_sms_free(*train);
        train_sms_free(*validation);
        train_sms_free(*test);
        *train = *validation = *test = NULL;
    }
    return rc;
}
