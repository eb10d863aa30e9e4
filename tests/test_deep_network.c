/*
 * The book's chapter 4 ExampleDeepNeuralNetwork (nn_example_deep_neural_network)
 * and its shortcut experiment (nn_shortcut_gradient_means) against PyTorch
 * 1.13: the fixtures of tests/reference/gen_deep_network.py (the book's
 * module in book_ch04.py) and the book's printed lines
 * (reference/shortcut_gradients.book).
 *
 * Tolerances
 *   Parameters: bit-exact (the same MT19937 draws through the same float
 *   formulas as torch's Linear).
 *   Outputs and gradients: |c - torch| <= 1e-6 + 1e-5 * |torch|.  Five
 *   Linear + GELU layers chain about thirty float32 ops whose sums and tanh
 *   run in another order than torch's; each adds a few ulps (6e-8
 *   relative).  A missing or misplaced shortcut changes them by factors.
 *   Mean |gradient|: 1e-6 relative, the bound tests/test_pictures.c holds
 *   shortcut_gradients to (largest deviation measured there 3.4e-7, against
 *   the book's printed digits).
 */
#include "testutil.h"

#define FIXTURES "deep_network.txt"

static const int64_t book_sizes[] = {3, 3, 3, 3, 3, 1};
static const int64_t mixed_sizes[] = {4, 4, 2, 2, 3};

static const struct {
    const char *name;
    int64_t n_sizes;
    const int64_t *sizes;
    bool use_shortcut;
    uint64_t seed;
} cases[] = {
    {"book_without", 6, book_sizes, false, 123},
    {"book_with", 6, book_sizes, true, 123},
    {"mixed_with", 5, mixed_sizes, true, 7},
    {"mixed_without", 5, mixed_sizes, false, 7},
};

static Tensor *fixture(const char *c, const char *what, const char *param)
{
    char name[256];
    snprintf(name, sizeof name, param ? "%s.%s.%s" : "%s.%s", c, what, param);
    return testutil_fixture(FIXTURES, name);
}

/* The fixture's "#names <case> ..." line, against the module's. */
static void assert_names(const char *c, const NNList *params)
{
    char want[1024] = "", got[1024] = "", path[1024], line[1024], tag[128];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, FIXTURES);
    snprintf(tag, sizeof tag, "#names %s ", c);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, tag, strlen(tag)) == 0) snprintf(want, sizeof want, "%s", line + strlen(tag));
    fclose(f);
    for (int64_t i = 0; i < params->count; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "",
                 params->names[i]);
    strcat(got, "\n");
    ck_assert_str_eq(got, want);
}

START_TEST(test_matches_torch)
{
    const char *c = cases[_i].name;
    tensor_manual_seed(cases[_i].seed);
    Module *m = nn_example_deep_neural_network(cases[_i].n_sizes, cases[_i].sizes,
                                               cases[_i].use_shortcut);
    ck_assert_msg(m != NULL, "%s", tensor_error());
    ck_assert_str_eq(m->type, "ExampleDeepNeuralNetwork");
    ExampleDeepNeuralNetwork *net = NN_AS(ExampleDeepNeuralNetwork, m);
    ck_assert_ptr_nonnull(net);
    ck_assert(net->use_shortcut == cases[_i].use_shortcut);
    ck_assert_int_eq(nn_len(net->layers), cases[_i].n_sizes - 1);
    NNList params = nn_named_parameters(m);
    assert_names(c, &params);
    for (int64_t i = 0; i < params.count; i++)     /* drawn in the book's order */
        ck_assert_tensor_close(params.tensors[i], fixture(c, "param", params.names[i]), 0, 0);

    Tensor *out = nn_forward(m, fixture(c, "x", NULL));
    ck_assert_tensor_close(out, fixture(c, "out", NULL), 1e-6, 1e-5);
    Tensor *loss = tensor_mse_loss(out, tensor_zeros_like(out));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    for (int64_t i = 0; i < params.count; i++)
        ck_assert_tensor_close(params.tensors[i]->grad, fixture(c, "grad", params.names[i]),
                               1e-6, 1e-5);
    nn_list_free(&params);
    nn_module_free(m);
}
END_TEST

/* The book's experiment: the fixture's means, and the book's printed digits. */
START_TEST(test_shortcut_gradient_means)
{
    bool with = _i == 1;
    tensor_manual_seed(123);
    Tensor *means = nn_shortcut_gradient_means(with);
    ck_assert_msg(means != NULL, "%s", tensor_error());
    ck_assert_int_eq(means->ndim, 1);
    ck_assert(!means->requires_grad && !means->grad_fn);
    ck_assert_tensor_close(means, fixture(with ? "book_with" : "book_without", "means", NULL), 0,
                           1e-6);
    /* The book's lines "layers.i.0.weight has gradient mean of V", without then with. */
    char path[1024];
    snprintf(path, sizeof path, "%s/shortcut_gradients.book", ATTOGRAD_REFERENCE_DIR);
    const char *p = testutil_read_text(path), *mark = " has gradient mean of ";
    for (int i = 0; i < 5 * with; i++) p = strstr(p, mark) + 1;
    for (int i = 0; i < 5; i++) {
        p = strstr(p, mark);
        ck_assert_ptr_nonnull(p);
        double book = strtod(p += strlen(mark), NULL);
        ck_assert_msg(fabs(means->data[i] - book) <= 1e-6 * book, "layer %d: %.9g, the book %.17g",
                      i, (double)means->data[i], book);
    }
}
END_TEST

/* The same seed gives the same means: nothing else drew from the generator. */
START_TEST(test_shortcut_gradient_means_repeat)
{
    tensor_manual_seed(123);
    Tensor *a = nn_shortcut_gradient_means(true);
    tensor_manual_seed(123);
    Tensor *b = nn_shortcut_gradient_means(true);
    ck_assert_tensor_close(a, b, 0, 0);
    tensor_manual_seed(124);
    Tensor *c = nn_shortcut_gradient_means(true);
    ck_assert(c && c->data[0] != a->data[0]);
}
END_TEST

/* Under no_grad there is nothing to differentiate: NULL and the backward's message. */
START_TEST(test_shortcut_gradient_means_no_grad)
{
    tensor_clear_error();
    tensor_no_grad_begin();
    Tensor *means = nn_shortcut_gradient_means(false);
    tensor_no_grad_end();
    ck_assert_ptr_null(means);
    ck_assert(tensor_error()[0] != '\0');
}
END_TEST

static const struct {
    int64_t n;
    const int64_t *sizes;
    const char *message;
} bad[] = {
    {1, book_sizes, "ExampleDeepNeuralNetwork: 1 layer sizes given; at least 2 make a layer"},
    {0, NULL, "ExampleDeepNeuralNetwork: 0 layer sizes given; at least 2 make a layer"},
    {6, NULL, "ExampleDeepNeuralNetwork: 6 layer sizes given; at least 2 make a layer"},
    {3, (const int64_t[]){3, 0, 1},
     "ExampleDeepNeuralNetwork: layer_sizes[1] is 0; sizes must be positive"},
    {2, (const int64_t[]){3, -2},
     "ExampleDeepNeuralNetwork: layer_sizes[1] is -2; sizes must be positive"},
};

/* Refused with a message before anything is drawn. */
START_TEST(test_bad_sizes)
{
    tensor_manual_seed(1);
    float first = tensor_item(tensor_rand(SHAPE(1)));
    tensor_manual_seed(1);
    ck_assert_ptr_null(nn_example_deep_neural_network(bad[_i].n, bad[_i].sizes, true));
    ck_assert_str_eq(tensor_error(), bad[_i].message);
    ck_assert_float_eq(tensor_item(tensor_rand(SHAPE(1))), first);
}
END_TEST

/* A forward given the wrong width says so (Linear's message) and returns NULL. */
START_TEST(test_wrong_input)
{
    Module *m = nn_example_deep_neural_network(6, book_sizes, true);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(nn_forward(m, tensor_zeros(SHAPE(2, 4))));
    ck_assert(strstr(tensor_error(), "(2,4)") != NULL);
    ck_assert_ptr_null(nn_forward(m, NULL));
    nn_module_free(m);
}
END_TEST

static Suite *deep_network_suite(void)
{
    Suite *s = suite_create("deep_network");
    TCase *tc = tcase_create("ExampleDeepNeuralNetwork");
    tcase_add_loop_test(tc, test_matches_torch, 0, sizeof cases / sizeof *cases);
    tcase_add_loop_test(tc, test_shortcut_gradient_means, 0, 2);
    tcase_add_test(tc, test_shortcut_gradient_means_repeat);
    tcase_add_test(tc, test_shortcut_gradient_means_no_grad);
    tcase_add_loop_test(tc, test_bad_sizes, 0, sizeof bad / sizeof *bad);
    tcase_add_test(tc, test_wrong_input);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(deep_network_suite)
