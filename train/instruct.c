/*
 * The book's chapter 7 (train.h, "Instruction fine-tuning"): the instruction
 * JSON read with json-c, format_input, the 85/10/5 split, InstructionDataset,
 * custom_collate_fn, generate as the book's script calls it, the response
 * cut out of the generated text, and the file with "model_response" written
 * as Python's json.dump(indent=4) writes it.  tests/reference/book_ch07.py
 * is the same code in Python.
 */
#include "train_internal.h"
#include "tensor/output.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREAMBLE                                                                              \
    "Below is an instruction that describes a task. "                                       \
    "Write a response that appropriately completes the request."

/* ---- The file ---------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0, n), or 0 (Python's
 * open(..., encoding="utf-8") refuses the others). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || len > n) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

static const char *json_kind(json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double:
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "a list";
    case json_type_string: return "a string";
    }
    return "a value";
}

static void entry_free(TrainInstruction *e)
{
    for (int64_t k = 0; k < e->n_fields; k++) {
        free(e->keys[k]);
        free(e->values[k]);
    }
    free(e->keys);
    free(e->values);
}

void train_instructions_free(TrainInstructions *d)
{
    if (!d) return;
    for (int64_t i = 0; i < d->count; i++) entry_free(&d->entries[i]);
    free(d->entries);
    d->entries = NULL;
    d->count = 0;
}

/* Entry i of the list into *e: every field a string without NUL, the three
 * the book reads among them.  0, or -1 with a message naming path and i. */
static int read_entry(const char *path, int64_t i, json_object *o, TrainInstruction *e)
{
    if (!json_object_is_type(o, json_type_object))
        return tensor_set_error("%s: entry %lld is %s, not an object with \"instruction\", "
                                "\"input\" and \"output\"", path, (long long)i, json_kind(o)), -1;
    int64_t n = json_object_object_length(o);
    e->keys = calloc((size_t)n + 1, sizeof *e->keys);
    e->values = calloc((size_t)n + 1, sizeof *e->values);
    if (!e->keys || !e->values) return tensor_set_error("%s: out of memory", path), -1;
    for (struct json_object_iterator it = json_object_iter_begin(o),
         end = json_object_iter_end(o); !json_object_iter_equal(&it, &end);
         json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        if (!json_object_is_type(v, json_type_string))
            return tensor_set_error("%s: entry %lld: \"%s\" is %s, not a string", path,
                                    (long long)i, key, json_kind(v)), -1;
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s))
            return tensor_set_error("%s: entry %lld: \"%s\" holds a NUL character (\\u0000)",
                                    path, (long long)i, key), -1;
        int64_t k = e->n_fields++;
        e->keys[k] = strdup(key);
        e->values[k] = strdup(s);
        if (!e->keys[k] || !e->values[k]) return tensor_set_error("%s: out of memory", path), -1;
    }
    const char **slot[3] = {&e->instruction, &e->input, &e->output};
    static const char *const need[3] = {"instruction", "input", "output"};
    for (int k = 0; k < 3; k++) {
        *slot[k] = train_instruction_field(e, need[k]);
        if (!*slot[k])
            return tensor_set_error("%s: entry %lld has no \"%s\"", path, (long long)i, need[k]),
                   -1;
    }
    return 0;
}

/* The parsed list of path's text, or NULL with a message. */
static json_object *parse_list(const char *path, const char *text, size_t len)
{
    size_t start = strspn(text, " \t\r\n");
    if (start == len)
        return tensor_set_error("%s: the file is empty: a JSON list of {\"instruction\", "
                                "\"input\", \"output\"} entries expected", path);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char((const unsigned char *)text + i, len - i);
        if (!n) return tensor_set_error("%s: invalid UTF-8 at byte %zu", path, i);
        i += n;
    }
    json_tokener *tok = json_tokener_new();
    if (!tok) return tensor_set_error("%s: out of memory", path);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *list = len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (end < len && strchr(" \t\r\n", text[end])) end++;
    if (!list || err != json_tokener_success || end != len) {
        json_object_put(list);
        return tensor_set_error("%s: not JSON: %s at byte %zu", path,
                                len > INT32_MAX ? "file too large"
                                : err == json_tokener_continue ? "the text ends too soon"
                                : err != json_tokener_success ? json_tokener_error_desc(err)
                                : "text after the value", end);
    }
    if (!json_object_is_type(list, json_type_array)) {
        tensor_set_error("%s: %s, not a JSON list of {\"instruction\", \"input\", \"output\"} "
                         "entries", path, json_kind(list));
        json_object_put(list);
        return NULL;
    }
    return list;
}

int train_instructions_read(const char *path, TrainInstructions *out)
{
    if (!out) return tensor_set_error("instructions_read: out is NULL"), -1;
    *out = (TrainInstructions){0};
    size_t len;
    char *text = train_read_text(path, &len);
    if (!text) return -1;
    json_object *list = parse_list(path, text, len);
    free(text);
    if (!list) return -1;
    int64_t n = (int64_t)json_object_array_length(list);
    TrainInstructions d = {.entries = calloc((size_t)n + 1, sizeof *d.entries)};
    int rc = d.entries ? 0 : (tensor_set_error("%s: out of memory", path), -1);
    for (int64_t i = 0; i < n && rc == 0; i++) {
        d.count = i + 1;
        rc = read_entry(path, i, json_object_array_get_idx(list, (size_t)i), &d.entries[i]);
    }
    json_object_put(list);
    if (rc) {
        train_instructions_free(&d);
        return -1;
    }
    *out = d;
    return 0;
}

const char *train_instruction_field(const TrainInstruction *e, const char *key)
{
    for (int64_t k = 0; e && key && k < e->n_fields; k++)
        if (strcmp(e->keys[k], key) == 0) return e->values[k];
    return NULL;
}

/* ---- The prompt and the split -------------------------------------------------------- */

char *train_format_input(const TrainInstruction *e)
{
    if (!e || !e->instruction || !e->input)
        return tensor_set_error("format_input: an entry with instruction and input expected");
    const char *input_head = e->input[0] ? "\n\n### Input:\n" : "";
    size_t n = strlen(PREAMBLE) + strlen(e->instruction) + strlen(e->input) + 64;
    char *text = malloc(n);
    if (!text) return tensor_set_error("format_input: out of memory");
    snprintf(text, n, PREAMBLE "\n\n### Instruction:\n%s%s%s", e->instruction, input_head,
             e->input);
    return text;
}

/* format_input(entry) + "\n\n### Response:\n" + output: what the dataset encodes. */
static char *full_text(const TrainInstruction *e)
{
    if (e && !e->output) return tensor_set_error("InstructionDataset: an entry without output");
    char *prompt = train_format_input(e);
    if (!prompt) return NULL;
    size_t n = strlen(prompt) + strlen(e->output) + 32;
    char *text = malloc(n);
    if (text) snprintf(text, n, "%s\n\n### Response:\n%s", prompt, e->output);
    free(prompt);
    return text ? text : tensor_set_error("InstructionDataset: out of memory");
}

TrainInstructionSplit train_instruction_split(const TrainInstructions *d)
{
    TrainInstructionSplit s = {0};
    if (!d) return s;
    int64_t n = d->count;
    int64_t train = (int64_t)((double)n * 0.85), test = (int64_t)((double)n * 0.1);
    s.train = (TrainInstructionSlice){d->entries, train};
    s.test = (TrainInstructionSlice){d->entries + train, test};
    s.val = (TrainInstructionSlice){d->entries + train + test, n - train - test};
    return s;
}

/* ---- InstructionDataset ------------------------------------------------------------------ */

typedef struct {
    Dataset base;
    int64_t **ids;               /* each entry's encoded text */
    int64_t *len;
} InstructionDataset;

static int instruction_get(Dataset *d, int64_t i, DataItem *item)
{
    InstructionDataset *s = (InstructionDataset *)d;
    item->n = 1;
    item->field[0] = tensor_from_ids(s->ids[i], 1, (int64_t[]){s->len[i]});
    return item->field[0] ? 0 : -1;
}

static void instruction_destroy(Dataset *d)
{
    InstructionDataset *s = (InstructionDataset *)d;
    for (int64_t i = 0; s->ids && i < d->len; i++) free(s->ids[i]);
    free(s->ids);
    free(s->len);
}

Dataset *train_instruction_dataset(const TextTokenizer *tok, TrainInstructionSlice entries)
{
    if (!tok) return tensor_set_error("InstructionDataset: the tokenizer is NULL");
    if (entries.count < 0 || (entries.count > 0 && !entries.entries))
        return tensor_set_error("InstructionDataset: %lld entries at NULL",
                                (long long)entries.count);
    InstructionDataset *s = data_dataset_new(sizeof *s, "InstructionDataset", entries.count,
                                             instruction_get);
    if (!s) return NULL;
    s->base.destroy = instruction_destroy;
    s->ids = calloc((size_t)entries.count + 1, sizeof *s->ids);
    s->len = calloc((size_t)entries.count + 1, sizeof *s->len);
    if (!s->ids || !s->len) {
        data_dataset_free(DATA(s));
        return tensor_set_error("InstructionDataset: out of memory");
    }
    for (int64_t i = 0; i < entries.count; i++) {
        char *text = full_text(&entries.entries[i]);
        size_t n = 0;
        int rc = text ? text_encode(tok, text, strlen(text), false, &s->ids[i], &n) : -1;
        free(text);
        if (rc) {
            train__fail("InstructionDataset: entry %lld", (long long)i);
            data_dataset_free(DATA(s));
            return NULL;
        }
        s->len[i] = (int64_t)n;
    }
    return DATA(s);
}

int64_t train_instruction_dataset_item_len(const Dataset *d, int64_t i)
{
    if (!d || strcmp(d->type, "InstructionDataset") != 0 || i < 0 || i >= d->len) return -1;
    return ((const InstructionDataset *)d)->len[i];
}

/* ---- custom_collate_fn ----------------------------------------------------------------- */

int train_instruction_collate(int64_t n, const DataItem *items, DataBatch *batch, void *ctx)
{
    TrainInstructionCollate c = ctx ? *(const TrainInstructionCollate *)ctx
                                    : TRAIN_INSTRUCTION_COLLATE();
    int64_t **ids = calloc((size_t)n + 1, sizeof *ids), *len = calloc((size_t)n + 1, sizeof *len);
    int64_t longest = 0;
    int rc = ids && len ? 0 : (tensor_set_error("custom_collate_fn: out of memory"), -1);
    for (int64_t b = 0; b < n && rc == 0; b++) {
        if (items[b].n != 1 || !items[b].field[0] || items[b].field[0]->ndim != 1)
            rc = (tensor_set_error("custom_collate_fn: item %lld is not one 1-d tensor of ids",
                                   (long long)b), -1);
        else if ((rc = tensor_to_ids(items[b].field[0], &ids[b], &len[b])) == 0 &&
                 len[b] > longest)
            longest = len[b];
    }
    /* batch_max_length = max(len(item) + 1); inputs and targets are one shorter. */
    int64_t width = longest;
    if (c.allowed_max_length > 0 && c.allowed_max_length < width) width = c.allowed_max_length;
    int64_t *x = rc ? NULL : calloc((size_t)(n * width) + 1, sizeof *x);
    int64_t *y = rc ? NULL : calloc((size_t)(n * width) + 1, sizeof *y);
    if (!rc && (!x || !y)) rc = (tensor_set_error("custom_collate_fn: out of memory"), -1);
    for (int64_t b = 0; b < n && rc == 0; b++) {
        /* padded = item + [pad] * (longest + 1 - len): inputs padded[:-1],
         * targets padded[1:]; every pad among the targets but the first
         * becomes ignore_index. */
        bool first_pad = true;
        for (int64_t t = 0; t < width; t++) {
            int64_t in = t < len[b] ? ids[b][t] : c.pad_token_id;
            int64_t target = t + 1 < len[b] ? ids[b][t + 1] : c.pad_token_id;
            if (target == c.pad_token_id) {
                if (!first_pad) target = c.ignore_index;
                first_pad = false;
            }
            x[b * width + t] = in;
            y[b * width + t] = target;
        }
    }
    if (rc == 0) {
        batch->n = 2;
        batch->field[0] = tensor_from_ids(x, 2, (int64_t[]){n, width});
        batch->field[1] = tensor_from_ids(y, 2, (int64_t[]){n, width});
        if (!batch->field[0] || !batch->field[1]) rc = -1;
    }
    for (int64_t b = 0; ids && b < n; b++) free(ids[b]);
    free(ids);
    free(len);
    free(x);
    free(y);
    return rc;
}

/* ---- Responses ------------------------------------------------------------------------- */

/* A code point of Python's str.isspace() at s (valid UTF-8): its bytes, or 0. */
static size_t py_space(const unsigned char *s, size_t n)
{
    if (n >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0D) || (s[0] >= 0x1C && s[0] <= 0x20))) return 1;
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) return 2;
    if (n < 3) return 0;
    unsigned cp = (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    if ((s[0] & 0xF0) != 0xE0) return 0;
    bool space = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                 cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    return space ? 3 : 0;
}

/* The bytes of the code point before s + n (valid UTF-8). */
static size_t char_before(const unsigned char *s, size_t n)
{
    size_t k = 1;
    while (k < n && (s[n - k] & 0xC0) == 0x80) k++;
    return k;
}

char *train_extract_response(const char *generated, size_t len, const char *prompt,
                             size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!generated || !prompt) return tensor_set_error("extract_response: a NULL text");
    /* generated_text[len(input_text):]: skip as many code points as the prompt has. */
    size_t chars = 0, at = 0;
    for (const char *p = prompt; *p; p++) chars += ((unsigned char)*p & 0xC0) != 0x80;
    for (; at < len && chars > 0; chars--) {
        at++;
        while (at < len && ((unsigned char)generated[at] & 0xC0) == 0x80) at++;
    }
    /* .replace("### Response:", "") */
    static const char marker[] = "### Response:";
    size_t m = sizeof marker - 1, n = 0;
    char *out = malloc(len - at + 1);
    if (!out) return tensor_set_error("extract_response: out of memory");
    while (at < len) {
        if (len - at >= m && memcmp(generated + at, marker, m) == 0) {
            at += m;
            continue;
        }
        out[n++] = generated[at++];
    }
    /* .strip() */
    const unsigned char *u = (const unsigned char *)out;
    size_t start = 0, k;
    while (start < n && (k = py_space(u + start, n - start))) start += k;
    while (n > start) {
        size_t c = char_before(u + start, n - start);
        if (py_space(u + n - c, c) != c) break;
        n -= c;
    }
    memmove(out, out + start, n - start);
    out[n - start] = '\0';
    if (out_len) *out_len = n - start;
    return out;
}

/* A Dropout under m that draws in training mode (p > 0). */
static bool drops(const Module *m)
{
    if (strcmp(m->type, NN_TYPE_NAME_Dropout) == 0 && ((const Dropout *)m)->p > 0) return true;
    for (int i = 0; i < m->n_children; i++)
        if (drops(m->children[i].module)) return true;
    return false;
}

/* The book's generate (chapter 5) with temperature 0, no top-k and eos_id,
 * in the model's mode: in training mode its dropout draws, one full forward
 * of the last context_size ids per token (the book's script generates the
 * test responses in the mode train_model_simple leaves, training).  Without
 * a dropout that draws, nn_generate gives the same ids faster. */
static Tensor *book_generate(Module *model, const Tensor *idx, int64_t max_new_tokens,
                             int64_t context_size, int64_t eos_id)
{
    if (!model->training || !drops(model))
        return nn_generate(model, idx, max_new_tokens, context_size, 0.0, 0, eos_id);
    int64_t T0 = idx->shape[1], n = T0;
    Tensor *out = tensor_empty(SHAPE(1, T0 + max_new_tokens));
    if (!out || !tensor_copy_(tensor_narrow(out, 1, 0, T0), idx)) return NULL;
    tensor_no_grad_begin();
    bool failed = false;
    while (n < T0 + max_new_tokens && !failed) {
        TensorScope *token = tensor_scope_begin();
        int64_t start = n > context_size ? n - context_size : 0;
        Tensor *logits = nn_forward(model, tensor_narrow(out, 1, start, n - start));
        Tensor *last = logits ? tensor_narrow(logits, 1, logits->shape[1] - 1, 1) : NULL;
        Tensor *next = last ? tensor_argmax(tensor_squeeze(last, 1), -1, true) : NULL;
        bool stop = next && tensor_get(next, IDX(0, 0)) == (float)eos_id;
        failed = !next || (!stop && !tensor_copy_(tensor_narrow(out, 1, n, 1), next));
        tensor_scope_end(token);
        if (stop) break;
        if (!failed) n++;
    }
    tensor_no_grad_end();
    return failed ? NULL : tensor_narrow(out, 1, 0, n);
}

char *train_instruction_respond(Module *model, const TextTokenizer *tok,
                                const TrainInstruction *e, const TrainRespondOptions *o,
                                size_t *len)
{
    if (len) *len = 0;
    if (!model || !tok || !e || !o)
        return tensor_set_error("respond: model, tokenizer, entry and options must not be NULL");
    if (o->max_new_tokens < 0 || o->context_size < 1)
        return tensor_set_error("respond: max_new_tokens %lld must be >= 0 and context_size "
                                "%lld positive", (long long)o->max_new_tokens,
                                (long long)o->context_size);
    char *prompt = train_format_input(e);
    if (!prompt) return NULL;
    TensorScope *scope = tensor_scope_begin();
    Tensor *idx = text_to_token_ids(tok, prompt);
    Tensor *ids = idx ? book_generate(model, idx, o->max_new_tokens, o->context_size, o->eos_id)
                      : NULL;
    int64_t *v = NULL, n = 0;
    char *text = NULL, *response = NULL;
    size_t text_len = 0;
    if (ids && tensor_to_ids(ids, &v, &n) == 0)
        text = text_decode_replace(tok, v, (size_t)n, &text_len);
    if (text) response = train_extract_response(text, text_len, prompt, len);
    tensor_scope_end(scope);
    free(v);
    free(text);
    free(prompt);
    return response;
}

/* ---- json.dump(entries, f, indent=4) ----------------------------------------------------- */

/* s[0, n) as a JSON string with Python's ensure_ascii escapes: \" \\ \n \r
 * \t \b \f, other code points outside ' ' to '~' as \u00XX (surrogate pairs
 * above U+FFFF), hex in lower case. */
static void json_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        unsigned long cp = c;
        size_t k = 1;
        if (c >= 0x80) {
            k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (k > n - i) k = n - i;
            cp = c & (0x7F >> k);
            for (size_t j = 1; j < k; j++) cp = cp << 6 | (u[i + j] & 0x3F);
        }
        i += k;
        const char *esc = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n"
                        : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b"
                        : cp == '\f' ? "\\f" : NULL;
        if (esc) fputs(esc, f);
        else if (cp >= 0x20 && cp <= 0x7E) fputc((int)cp, f);
        else if (cp > 0xFFFF)
            fprintf(f, "\\u%04lx\\u%04lx", 0xD800 + ((cp - 0x10000) >> 10),
                    0xDC00 + ((cp - 0x10000) & 0x3FF));
        else fprintf(f, "\\u%04lx", cp);
    }
    fputc('"', f);
}

int train_instructions_write(const char *path, TrainInstructionSlice entries,
                             char *const *responses, const size_t *response_len)
{
    if (entries.count < 0 || (entries.count > 0 && !entries.entries))
        return tensor_set_error("instructions_write: %lld entries at NULL",
                                (long long)entries.count), -1;
    TensorOutput *out = tensor_output_open(path);
    if (!out) return -1;
    FILE *f = tensor_output_file(out);
    fputs(entries.count ? "[\n" : "[]", f);
    for (int64_t i = 0; i < entries.count; i++) {
        const TrainInstruction *e = &entries.entries[i];
        bool replaced = false;
        fputs("    {", f);
        for (int64_t k = 0; k < e->n_fields; k++) {
            bool response = responses && strcmp(e->keys[k], "model_response") == 0;
            fputs(k ? ",\n        " : "\n        ", f);
            json_string(f, e->keys[k], strlen(e->keys[k]));
            fputs(": ", f);
            if (response) json_string(f, responses[i], response_len[i]);
            else json_string(f, e->values[k], strlen(e->values[k]));
            replaced |= response;
        }
        /* entry["model_response"] = ...: a new key goes last, an old one keeps its place. */
        if (responses && !replaced) {
            fputs(e->n_fields ? ",\n        " : "\n        ", f);
            json_string(f, "model_response", 14);
            fputs(": ", f);
            json_string(f, responses[i], response_len[i]);
        }
        fputs(e->n_fields || responses ? "\n    }" : "}", f);
        fputs(i + 1 < entries.count ? ",\n" : "\n]", f);
    }
    return tensor_output_commit(out);
}
