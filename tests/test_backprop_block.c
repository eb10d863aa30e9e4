/*
 * The TransformerBlock walk-through, examples/backprop_block, against
 * PyTorch.
 *
 * reference/backprop_block.txt (gen_backprop_block.py) holds the book's
 * TransformerBlock in the program's tiny config: its input, parameters,
 * every intermediate and every gradient, batch 1 dropped.  The program
 * prints its numbers in that format with --dump, so the test compares
 * exactly what the program computed.
 *
 * Tolerance against PyTorch: 1e-5 relative to each element plus 1e-5 of the
 * tensor's largest element, as for backprop_attention (tests/test_teaching.c):
 * the same float32 ops summed in another order differ by a few ulp (~1e-7
 * relative), elements produced by cancellation (a LayerNorm or softmax
 * backward row sums to zero) keep the absolute error of the larger terms
 * they came from; a wrong formula is off by far more.
 *
 * reference/backprop_block.expected is the program's whole stdout, compared
 * byte for byte; its numbers are the ones the fixture test checks.  After a
 * deliberate change of the text, regenerate it with
 *     ./build/examples/backprop_block > tests/reference/backprop_block.expected
 * and read the difference.
 */
#include "program_run.h"
#include "testutil.h"

/* The program's gradients, in the order it prints them. */
static const char *const grads[] = {
    "d_out", "d_ff", "d_ff.layers.2.bias", "d_ff.layers.2.weight", "d_gelu", "d_hidden",
    "d_ff.layers.0.bias", "d_ff.layers.0.weight", "d_norm2", "d_norm2.shift", "d_norm2.scale",
    "d_h", "d_att", "d_att.out_proj.bias", "d_att.out_proj.weight", "d_context", "d_weights",
    "d_values", "d_queries", "d_keys", "d_att.W_value.weight", "d_att.W_query.weight",
    "d_att.W_key.weight", "d_norm1", "d_norm1.shift", "d_norm1.scale", "d_x",
};
enum { N_GRADS = sizeof grads / sizeof *grads };

/* Drawn by torch.rand and nn.Linear's init: equal bit for bit.  (LayerNorm's
 * ones and zeros are exact too.) */
static const char *const leaves[] = {
    "x", "target", "att.W_query.weight", "att.W_key.weight", "att.W_value.weight",
    "att.out_proj.weight", "att.out_proj.bias", "ff.layers.0.weight", "ff.layers.0.bias",
    "ff.layers.2.weight", "ff.layers.2.bias", "norm1.scale", "norm1.shift", "norm2.scale",
    "norm2.shift",
};

static const char *const forward[] = {
    "norm1", "queries", "keys", "values", "weights", "context", "att", "h", "norm2", "hidden",
    "gelu", "ff", "out", "loss",
};

static const char *const fixture = "backprop_block.txt";

#define ck_assert_matches_pytorch(a, ref) \
    ck_assert_tensor_close((a), (ref), 1e-5 * testutil_max_abs(ref), 1e-5)

static int run_example(const char *args, char *out, size_t cap)
{
    return program_capture("backprop_block", args, out, cap);
}

/* The program's --dump, after a newline (so that every entry starts "\n@"). */
static const char *dump(void)
{
    static char text[1 << 18] = "\n";
    ck_assert_int_eq(run_example("--dump", text + 1, sizeof text - 1), 0);
    return text;
}

START_TEST(test_block_matches_pytorch)
{
    const char *d = dump();
    for (size_t i = 0; i < sizeof leaves / sizeof *leaves; i++)
        ck_assert_tensor_close(testutil_dumped(d, leaves[i]), testutil_fixture(fixture, leaves[i]),
                               0, 0);
    for (size_t i = 0; i < sizeof forward / sizeof *forward; i++)
        ck_assert_matches_pytorch(testutil_dumped(d, forward[i]),
                                  testutil_fixture(fixture, forward[i]));
    for (int i = 0; i < N_GRADS; i++)
        ck_assert_matches_pytorch(testutil_dumped(d, grads[i]),
                                  testutil_fixture(fixture, grads[i]));
}
END_TEST

/* The central differences, which do not use the library's ops, equal
 * PyTorch's gradients too, and the program judged every pair to agree to
 * the printed precision. */
START_TEST(test_block_checks_agree)
{
    const char *d = dump();
    char name[96];
    for (int i = 0; i < N_GRADS; i++) {
        snprintf(name, sizeof name, "numeric.%s", grads[i]);
        ck_assert_matches_pytorch(testutil_dumped(d, name), testutil_fixture(fixture, grads[i]));
        snprintf(name, sizeof name, "\n#agree %s 1\n", grads[i]);
        ck_assert_msg(strstr(d, name) != NULL, "%s disagrees", grads[i]);
    }
}
END_TEST

/* The program's step-by-step forward is nn_transformer_block's own: the same
 * ops in the same order, so equal but for float32 rounding of a few ops
 * (values near 1, ulp 1.2e-7). */
START_TEST(test_block_steps_are_the_module)
{
    const char *p = strstr(dump(), "\n#block_diff ");
    ck_assert_ptr_nonnull(p);
    ck_assert_double_le(strtod(p + 13, NULL), 1e-6);
}
END_TEST

START_TEST(test_block_prints_the_expected_text)
{
    static char out[1 << 16];
    char path[1024];
    ck_assert_int_eq(run_example("", out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/backprop_block.expected", ATTOGRAD_REFERENCE_DIR);
    ck_assert_str_eq(out, testutil_read_text(path));
    /* and what the text is for: every formula, in backward order, GELU's and
     * LayerNorm's also evaluated by hand */
    const char *lines[] = {
        "\nd_out = 2 * (out - target) / 12\n",
        "\nd_ff = d_out\n    # out = ff + h: a + sends its gradient unchanged to both branches\n",
        "\nd_hidden = d_gelu * gelu'(hidden)\n",
        "\n    gelu'(hidden) * d_gelu by hand, against d_hidden:\n        agree",
        "\nd_norm2.scale = colsum(d_norm2 * xhat)\n",
        "\nd_h = d_out + (1/sigma) * (dy_hat - mean(dy_hat) - xhat * mean(dy_hat * xhat))\n",
        "\n    the LayerNorm term by hand from d_norm2, against d_h - d_out:\n        agree",
        "\nd_att = d_h\n",
        "\nd_norm1 = d_queries @ Wq + d_keys @ Wk + d_values @ Wv\n",
        "\nd_x = d_h + (1/sigma) * (dy_hat - mean(dy_hat) - xhat * mean(dy_hat * xhat))\n",
        "\n    the LayerNorm term by hand from d_norm1, against d_x - d_h:\n        agree",
        "\n27 of 27 gradients agree with their central difference to the printed precision\n",
    };
    const char *at = out;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        const char *p = strstr(at, lines[i]);
        ck_assert_msg(p != NULL, "no \"%s\" after the previous line", lines[i]);
        at = p + 1;
    }
    ck_assert_ptr_null(strstr(out, "DISAGREE"));
}
END_TEST

START_TEST(test_block_summary_is_short)
{
    char out[8192];
    ck_assert_int_eq(run_example("--summary", out, sizeof out), 0);
    int lines = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    ck_assert_int_eq(lines, 2 + N_GRADS + 1);
    ck_assert_ptr_nonnull(strstr(out, "loss = mse(out, target) = 0.1979\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nd_norm2.scale "));
}
END_TEST

/* Other seeds give other weights, inputs and targets; the central
 * differences must still agree with autograd everywhere. */
START_TEST(test_block_other_seeds_agree)
{
    static const char *const seeds[] = {"--summary --seed 0", "--summary --seed 7",
                                        "--summary --seed 2024"};
    char out[8192];
    ck_assert_int_eq(run_example(seeds[_i], out, sizeof out), 0);
    ck_assert_msg(strstr(out, "\n27 of 27 gradients agree with their central difference to the "
                              "printed precision\n") != NULL, "%s", out);
}
END_TEST

START_TEST(test_block_help)
{
    char out[4096];
    ck_assert_int_eq(run_example("--help", out, sizeof out), 0);
    ck_assert_msg(strncmp(out, "usage: backprop_block [options]\n", 32) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "--summary"));
}
END_TEST

static const struct {
    const char *args, *message;
} bad_flags[] = {
    {"--seed -1", "backprop_block: --seed: '-1' is not a non-negative whole number\n"},
    {"--seed", "backprop_block: --seed needs a value (see --help)\n"},
    {"--loss mse", "backprop_block: unknown option '--loss' (see --help)\n"},
};

START_TEST(test_block_bad_flags_exit_2_with_one_line)
{
    char err[1024];
    ck_assert_int_eq(program_capture_stderr("backprop_block", bad_flags[_i].args, err,
                                            sizeof err), 2);
    ck_assert_str_eq(err, bad_flags[_i].message);
}
END_TEST

static Suite *backprop_block_suite(void)
{
    Suite *s = suite_create("backprop_block");
    TCase *tc = tcase_create("backprop_block");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_block_matches_pytorch);
    tcase_add_test(tc, test_block_checks_agree);
    tcase_add_test(tc, test_block_steps_are_the_module);
    tcase_add_test(tc, test_block_prints_the_expected_text);
    tcase_add_test(tc, test_block_summary_is_short);
    tcase_add_loop_test(tc, test_block_other_seeds_agree, 0, 3);
    tcase_add_test(tc, test_block_help);
    tcase_add_loop_test(tc, test_block_bad_flags_exit_2_with_one_line, 0,
                        sizeof bad_flags / sizeof *bad_flags);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(backprop_block_suite)
