/*
 * Printing: tensor_format() must give PyTorch 1.13's repr byte for byte.
 *
 * reference/print.txt (written by gen_print.py) holds each case's tensor,
 * its options and torch's string; the format is in gen_print.py's docstring.
 * Cases with grad_fn=<Name> are non-leaves: the test gives the tensor a
 * hand-made graph node carrying that name, so printing is tested apart from
 * the ops.
 */
#include "testutil.h"

#include "core/tensor_internal.h"

typedef struct {
    char name[64];
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    float *values;
    int64_t numel;
    char grad_fn[64];        /* "" for a leaf */
    bool requires_grad, transpose, ids;   /* ids: torch's int64, tensor_format_ids */
    int precision;
    char *expected;          /* torch's repr */
} PrintCase;

static char *read_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(s, 1, (size_t)n, f), n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The next line of *p (its newline replaced by '\0'), or NULL at the end. */
static char *next_line(char **p)
{
    if (!**p) return NULL;
    char *line = *p, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p += strlen(line);
    }
    return line;
}

static void parse_options(PrintCase *c, char **p)
{
    char *line;
    while ((line = next_line(p)) && strcmp(line, "<<<") != 0) {
        ck_assert_msg(line[0] == ':', "@%s: expected an option or <<<, got \"%s\"", c->name,
                      line);
        if (sscanf(line, ": grad_fn %63s", c->grad_fn) == 1) continue;
        if (sscanf(line, ": precision %d", &c->precision) == 1) continue;
        if (strcmp(line, ": requires_grad") == 0) c->requires_grad = true;
        else if (strcmp(line, ": transpose") == 0) c->transpose = true;
        else if (strcmp(line, ": ids") == 0) c->ids = true;
        else ck_abort_msg("@%s: unknown option \"%s\"", c->name, line);
    }
    ck_assert_msg(line != NULL, "@%s: no <<<", c->name);
}

/* Parses one case starting at the "@name" line at *p; advances *p past it. */
static void parse_case(PrintCase *c, char **p)
{
    memset(c, 0, sizeof *c);
    c->precision = 4;
    char *line = next_line(p);
    int used;
    ck_assert(line && line[0] == '@');
    ck_assert(sscanf(line + 1, "%63s%n", c->name, &used) == 1);
    const char *d = line + 1 + used;
    long long size;
    while (sscanf(d, "%lld%n", &size, &used) == 1) {
        ck_assert_int_lt(c->ndim, TENSOR_MAX_DIMS);
        c->shape[c->ndim++] = size;
        d += used;
    }
    c->numel = tensor__numel(c->ndim, c->shape);
    c->values = malloc((size_t)(c->numel ? c->numel : 1) * sizeof(float));
    for (int64_t i = 0; i < c->numel; i++) {
        char *end;
        c->values[i] = strtof(*p, &end);
        ck_assert_msg(end != *p, "@%s: short data", c->name);
        *p = end;
    }
    if (**p == '\n') (*p)++;
    parse_options(c, p);
    c->expected = *p;
    char *close = strstr(*p, "\n>>>\n");
    ck_assert_msg(close != NULL, "@%s: no >>>", c->name);
    *close = '\0';
    *p = close + 5;
}

/* All cases of print.txt; the file's text stays allocated for the run. */
static PrintCase cases[128];
static int n_cases;

static void load_cases(void)
{
    if (n_cases) return;
    char *p = read_file("print.txt");
    while (*p == '#') p = strchr(p, '\n') + 1;
    while (*p) {
        ck_assert_int_lt(n_cases, (int)(sizeof cases / sizeof cases[0]));
        parse_case(&cases[n_cases++], &p);
    }
}

/* The case's tensor, as the test's C code would make it. */
static Tensor *build(const PrintCase *c, TensorNode *node)
{
    Tensor *t = tensor_from_data(c->values, c->ndim, c->shape);
    ck_assert(t != NULL);
    if (c->transpose) {
        int64_t shape[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
        int n = t->ndim;
        memcpy(shape, t->shape, sizeof shape);
        memcpy(stride, t->stride, sizeof stride);
        shape[n - 2] = t->shape[n - 1], shape[n - 1] = t->shape[n - 2];
        stride[n - 2] = t->stride[n - 1], stride[n - 1] = t->stride[n - 2];
        t = tensor__view_of(t, n, shape, stride, t->offset);
    }
    if (c->requires_grad) ck_assert(tensor_requires_grad_(t, true) == t);
    if (c->grad_fn[0]) {
        memset(node, 0, sizeof *node);
        node->name = c->grad_fn;
        node->out = t;
        t->grad_fn = node;
        t->requires_grad = true;
    }
    return t;
}

/* Where two strings first differ, for a readable failure. */
static size_t first_difference(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i]) i++;
    return i;
}

START_TEST(test_matches_torch)
{
    load_cases();
    ck_assert_int_gt(n_cases, 90);
    for (int i = 0; i < n_cases; i++) {
        const PrintCase *c = &cases[i];
        TensorNode node;
        Tensor *t = build(c, &node);
        tensor_set_print_precision(c->precision);
        char *s = c->ids ? tensor_format_ids(t) : tensor_format(t);
        tensor_set_print_precision(4);
        ck_assert_msg(s != NULL, "@%s: %s", c->name, tensor_error());
        size_t at = first_difference(s, c->expected);
        ck_assert_msg(strcmp(s, c->expected) == 0,
                      "@%s differs at byte %zu:\n--- attograd\n%s\n--- torch\n%s", c->name, at,
                      s, c->expected);
        free(s);
    }
}
END_TEST

START_TEST(test_fprint_adds_newline)
{
    Tensor *t = tensor_from_data((const float[]){0.2996f, 0.8053f}, SHAPE(2));
    char buf[64] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    ck_assert(f != NULL);
    ck_assert_int_eq(tensor_fprint(f, t), 0);
    ck_assert_int_eq(tensor_fprint(f, tensor_scalar(-1.5f)), 0);
    fclose(f);
    ck_assert_str_eq(buf, "tensor([0.2996, 0.8053])\ntensor(-1.5000)\n");
}
END_TEST

START_TEST(test_null_and_bad_input)
{
    tensor_clear_error();
    ck_assert_int_eq(tensor_print(NULL), -1);
    ck_assert_int_eq(tensor_fprint(stdout, NULL), -1);
    ck_assert_ptr_null(tensor_format(NULL));
    ck_assert_str_eq(tensor_error(), "");
    ck_assert_int_eq(tensor_fprint(NULL, tensor_scalar(1.0f)), -1);
    ck_assert_str_eq(tensor_error(), "print: FILE is NULL");
    tensor_set_print_precision(-1);
    ck_assert_str_eq(tensor_error(),
                     "set_print_precision: -1 digits; between 0 and 30 are supported");
    char *s = tensor_format(tensor_scalar(1.25f));
    ck_assert_str_eq(s, "tensor(1.2500)");   /* the bad call kept precision 4 */
    free(s);
}
END_TEST

/* Ids are whole numbers within int64; anything else names the element. */
START_TEST(test_ids_refuse_what_int64_cannot_hold)
{
    const float bad[][3] = {{1, 2.5f, 3}, {1, 2, NAN}, {INFINITY, 0, 0}, {0, 0, -1e19f}};
    const char *const why[] = {
        "print_ids: element 1 of (3) is 2.5, not a whole number an int64 holds",
        "print_ids: element 2 of (3) is nan, not a whole number an int64 holds",
        "print_ids: element 0 of (3) is inf, not a whole number an int64 holds",
        "print_ids: element 2 of (3) is -9.99999998e+18, not a whole number an int64 holds",
    };
    for (int i = 0; i < 4; i++) {
        tensor_clear_error();
        ck_assert_ptr_null(tensor_format_ids(tensor_from_data(bad[i], SHAPE(3))));
        ck_assert_str_eq(tensor_error(), why[i]);
        ck_assert_int_eq(tensor_print_ids(tensor_from_data(bad[i], SHAPE(3))), -1);
    }
    tensor_clear_error();
    ck_assert_ptr_null(tensor_format_ids(NULL));
    ck_assert_str_eq(tensor_error(), "");
    ck_assert_int_eq(tensor_fprint_ids(NULL, tensor_scalar(1.0f)), -1);
    ck_assert_str_eq(tensor_error(), "print: FILE is NULL");
    /* -0.0 is the int 0; a gradient-carrying float prints no grad suffix,
     * as the int64 tensor it stands for has none; fprint adds a newline. */
    Tensor *t = tensor_requires_grad_(tensor_from_data((const float[]){-0.0f, 7}, SHAPE(2)), true);
    char buf[64] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    ck_assert(f != NULL);
    ck_assert_int_eq(tensor_fprint_ids(f, t), 0);
    fclose(f);
    ck_assert_str_eq(buf, "tensor([0, 7])\n");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("print");
    TCase *tc = tcase_create("print");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_matches_torch);
    tcase_add_test(tc, test_fprint_adds_newline);
    tcase_add_test(tc, test_null_and_bad_input);
    tcase_add_test(tc, test_ids_refuse_what_int64_cannot_hold);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(make_suite)
