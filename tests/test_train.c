/*
 * The toy teacher-student task (train_toy_* in train/train.h) against PyTorch, and the
 * example programs as a user runs them.
 *
 * Tolerance for losses: 1e-4 relative over 50 steps.  Each step's float32
 * forward agrees with PyTorch to ~1e-6 relative; differences in summation
 * order feed back through the parameter updates and grow slowly over the
 * run, staying well inside 1e-4 for 50 steps.
 */
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

static const struct {
    const char *model, *optim;
} runs[] = {
    {"v1", "adam"}, {"v1", "sgd"}, {"v2", "adam"}, {"v2", "sgd"},
    {"causal", "adam"}, {"mha", "adam"}, {"v2", "adamw"},
};

START_TEST(test_losses_match_pytorch)
{
    char name[64];
    snprintf(name, sizeof name, "loss_%s_%s", runs[_i].model, runs[_i].optim);
    Tensor *expected = testutil_fixture("train.txt", name);
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    c.model = runs[_i].model;
    c.optim = runs[_i].optim;
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int64_t s = 0; s < expected->numel; s++) {
        float loss = train_toy_step(&run);
        ck_assert_msg(fabsf(loss - expected->data[s]) <= 1e-4f * fabsf(expected->data[s]),
                      "%s step %lld: loss %.9g, PyTorch %.9g", name, (long long)s + 1,
                      (double)loss, (double)expected->data[s]);
    }
    train_toy_free(&run);
}
END_TEST

/* With the defaults (adam, lr 0.01, 500 steps) the loss falls below 1/50. */
START_TEST(test_losses_fall)
{
    const char *models[] = {"v1", "v2"};
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    c.model = models[_i];
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    float first = train_toy_step(&run), last = first;
    for (int s = 1; s < 500; s++) last = train_toy_step(&run);
    ck_assert_msg(last < first / 50, "%s: first %g, last %g", models[_i], (double)first,
                  (double)last);
    train_toy_free(&run);
}
END_TEST

START_TEST(test_memory_flat_over_many_steps)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < 100; s++) train_toy_step(&run);
    size_t after_warmup = tensor_scope_bytes();
    for (int s = 0; s < 5000; s++) ck_assert(!isnan(train_toy_step(&run)));
    ck_assert_uint_eq(tensor_scope_bytes(), after_warmup);
    train_toy_free(&run);
}
END_TEST

START_TEST(test_self_attention_prints_the_book)
{
    static const char *seeds[] = {"", "--seed 42"};
    static const char *files[] = {"self_attention.expected", "self_attention_seed42.expected"};
    char path[1024];
    static char out[1 << 16];
    ck_assert_int_eq(program_capture("self_attention", seeds[_i], out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, files[_i]);
    const char *expected = testutil_read_text(path);
    ck_assert_str_eq(out, expected);
}
END_TEST

/* The book's chapter-4 outputs (GPT_CONFIG_124M, seed 123), byte for byte
 * as PyTorch prints them (tests/reference/gen_gpt_model.py).  Four-digit
 * prints and argmax ids: float32 rounding differences between the two
 * libraries (1e-7 relative) are far below a printed digit or a gap between
 * the chosen logits. */
START_TEST(test_gpt_model_prints_the_book)
{
    char path[1024];
    static char out[1 << 16];
    ck_assert_int_eq(program_capture("gpt_model", "", out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/gpt_model.expected", ATTOGRAD_REFERENCE_DIR);
    ck_assert_str_eq(out, testutil_read_text(path));
}
END_TEST

START_TEST(test_gpt_model_bad_flags_exit_2)
{
    char out[1024];
    ck_assert_int_eq(program_capture_stderr("gpt_model", "--seed x", out, sizeof out), 2);
    ck_assert_str_eq(out, "gpt_model: --seed: 'x' is not a non-negative whole number\n");
    ck_assert_int_eq(program_capture_stderr("gpt_model", "--layers 2", out, sizeof out), 2);
    ck_assert_str_eq(out, "gpt_model: unknown option '--layers' (see --help)\n");
}
END_TEST

/* gpt_generate: with no flags the book's chapter-4 script, its block as the
 * book prints it (gpt_generate.expected holds the book's printed block); with
 * flags, other configs and seeds as PyTorch gives them
 * (tests/reference/gen_gpt_generate.py), greedy and sampled.  Ids are argmax
 * or multinomial picks, exact when the logits agree to float32 rounding. */
static const struct {
    const char *args, *expected;
} generate_runs[] = {
    {"", "gpt_generate.expected"},
    {"--config book-test --seed 7 --prompt 'Every effort moves you' --max-new-tokens 8",
     "gpt_generate_book_test_seed7.expected"},
    {"--config book-test --n-layers 3 --qkv-bias --seed 11 --prompt 'Every day holds a' "
     "--max-new-tokens 12 --temperature 1.4 --top-k 25",
     "gpt_generate_book_test_sampled.expected"},
    /* bytes that are no UTF-8: Output text has Python's U+FFFD */
    {"--config book-test --vocab-size 256 --tokenizer bytes --prompt 'Every effort moves you' "
     "--max-new-tokens 12", "gpt_generate_bytes_replace.expected"},
};

START_TEST(test_gpt_generate_matches)
{
    char path[1024];
    static char out[1 << 14];
    ck_assert_int_eq(program_capture("gpt_generate", generate_runs[_i].args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, generate_runs[_i].expected);
    ck_assert_str_eq(out, testutil_read_text(path));
}
END_TEST

static const struct {
    const char *args, *message;
} generate_bad_flags[] = {
    {"--top-k -1", "gpt_generate: --top-k: -1 is out of range (0 to 16777216)\n"},
    {"--tokenizer bytes --vocab-size 50257",
     "gpt_generate: --vocab-size 50257 is larger than the bytes tokenizer's 256 ids: a generated "
     "id could not be decoded\n"},
    {"--config book-test --top-k 60000",
     "gpt_generate: --top-k: 60000 is larger than the vocabulary (50257)\n"},
    {"--temperature -1", "gpt_generate: --temperature: -1 is out of range (0 to 1e+06)\n"},
    {"--config 7B", "gpt_generate: --config: unknown config '7B' (124M, book-test)\n"},
    {"--config book-test --n-heads 3",
     "gpt_generate: GPTModel: emb_dim 32 must be divisible by n_heads 3\n"},
    {"--prompt ''", "gpt_generate: --prompt: the prompt is empty\n"},
    {"--frobnicate", "gpt_generate: unknown option '--frobnicate' (see --help)\n"},
};

/* --top-k 0 is the book's top_k=None: every logit stays a candidate, so
 * the draws are those of no --top-k at all. */
START_TEST(test_gpt_generate_top_k_0_is_all)
{
    static char all[1 << 14], zero[1 << 14];
    const char *args = "--config book-test --seed 11 --max-new-tokens 6 --temperature 1.4";
    char with_zero[256];
    snprintf(with_zero, sizeof with_zero, "%s --top-k 0", args);
    ck_assert_int_eq(program_capture("gpt_generate", args, all, sizeof all), 0);
    ck_assert_int_eq(program_capture("gpt_generate", with_zero, zero, sizeof zero), 0);
    ck_assert_str_eq(zero, all);
}
END_TEST

/* --raw: the ids' bytes as they are (a lone 0xe8 where Python prints U+FFFD). */
START_TEST(test_gpt_generate_raw)
{
    static char out[1 << 14];
    ck_assert_int_eq(program_capture("gpt_generate", "--config book-test --vocab-size 256 "
                                     "--tokenizer bytes --max-new-tokens 12 --prompt 'Every "
                                     "effort moves you' --raw", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Output text: Every effort moves you\xe8" "3>~\x97~"));
}
END_TEST

START_TEST(test_gpt_generate_bad_flags_exit_2)
{
    char out[1024];
    ck_assert_int_eq(program_capture_stderr("gpt_generate", generate_bad_flags[_i].args, out,
                                            sizeof out), 2);
    ck_assert_str_eq(out, generate_bad_flags[_i].message);
}
END_TEST

/* train_gpt against PyTorch running the book's chapter-5 loop
 * (tests/reference/gen_train_gpt.py): the printed lines (losses to 3
 * decimals) and every sample token for token, dropout 0.1 on and the
 * loaders shuffled; the CSV's losses within 1e-4 relative (float32 sums of
 * a few thousand terms in two libraries: measured 1.1e-7).  The book's test
 * config makes 39 evaluations, as the book's own test asserts. */
static const struct {
    const char *name, *args;
    int evals;
} train_gpt_runs[] = {
    {"bytes", "--config book-test --tokenizer bytes --context-length 32 --epochs 2 --batch 4 "
              "--eval-freq 10 --eval-iter 2 --lr 5e-4 --seed 7", 29},
    {"book_test", "--config book-test --epochs 1 --lr 5e-4", 39},
};

START_TEST(test_train_gpt_matches_pytorch)
{
    char args[2048], path[1024];
    static char out[1 << 16];
    scratch_make("train_gpt");
    const char *csv = scratch_file("loss.csv"), *png = scratch_file("loss.png");
    snprintf(args, sizeof args, "%s --csv %s --plot %s", train_gpt_runs[_i].args, csv, png);
    ck_assert_int_eq(program_capture("train_gpt", args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/train_gpt_%s.expected", ATTOGRAD_REFERENCE_DIR,
             train_gpt_runs[_i].name);
    ck_assert_str_eq(out, testutil_read_text(path));
    int evals = 0;
    for (const char *p = out; (p = strstr(p, "Train loss")); p++) evals++;
    ck_assert_int_eq(evals, train_gpt_runs[_i].evals);

    snprintf(path, sizeof path, "%s/train_gpt_%s.csv", ATTOGRAD_REFERENCE_DIR,
             train_gpt_runs[_i].name);
    FILE *got = fopen(csv, "r"), *want = fopen(path, "r");
    ck_assert(got && want);
    char a[256], b[256];
    int rows = 0;
    while (fgets(b, sizeof b, want)) {
        ck_assert_ptr_nonnull(fgets(a, sizeof a, got));
        if (rows++ == 0) {
            ck_assert_str_eq(a, b);
            continue;
        }
        long long s1, t1, s2, t2;
        int e1, e2;
        double tr1, v1, tr2, v2;
        ck_assert_int_eq(sscanf(a, "%lld,%d,%lld,%lf,%lf", &s1, &e1, &t1, &tr1, &v1), 5);
        ck_assert_int_eq(sscanf(b, "%lld,%d,%lld,%lf,%lf", &s2, &e2, &t2, &tr2, &v2), 5);
        ck_assert(s1 == s2 && e1 == e2 && t1 == t2);
        ck_assert_double_eq_tol(tr1, tr2, 1e-4 * tr2);
        ck_assert_double_eq_tol(v1, v2, 1e-4 * v2);
    }
    ck_assert_ptr_null(fgets(a, sizeof a, got));
    fclose(got);
    fclose(want);
    ck_assert_int_eq(rows, train_gpt_runs[_i].evals + 1);
    /* The figure: a PNG (gnuplot's pngcairo). */
    FILE *f = fopen(png, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char sig[8] = {0};
    ck_assert_int_eq(fread(sig, 1, 8, f), 8);
    fclose(f);
    ck_assert_mem_eq(sig, "\x89PNG\r\n\x1a\n", 8);
    remove(csv);
    remove(png);
    ck_assert_int_eq(rmdir(scratch_dir()), 0);
}
END_TEST

static const struct {
    const char *args, *message;
    int status;
} train_gpt_bad[] = {
    {"--text /dev/null", "train_gpt: --text: the training part is too short: 0 tokens for "
                         "windows of 12 (try a smaller --context-length)\n", 1},
    {"--text " ATTOGRAD_REFERENCE_DIR "/../fuzz/corpus_text/invalid_utf8", NULL, 1},
    {"--plot /nonexistent/x.png --csv /tmp/x.csv",
     "train_gpt: --plot /nonexistent/x.png: the folder /nonexistent does not exist\n", 2},
    {"--plot x.jpg --csv x.csv", "train_gpt: --plot x.jpg: the name must end in .png, .svg or .pdf\n",
     2},
    {"--plot x.png", "train_gpt: --plot needs --csv FILE for the figure's data\n", 2},
    {"--tokenizer x", "train_gpt: --tokenizer: 'x' is not gpt2 or bytes\n", 2},
    {"--epochs 0", "train_gpt: --epochs: 0 is out of range (1 to 1048576)\n", 2},
    {"--lr -1", "train_gpt: --lr: -1 is out of range (0 to 1000)\n", 2},
    {"--vocab-size 100", "train_gpt: --vocab-size 100 is smaller than the tokenizer's 256\n", 2},
};

START_TEST(test_train_gpt_bad_input)
{
    char args[1024], out[1024];
    snprintf(args, sizeof args, "--config book-test --tokenizer bytes %s", train_gpt_bad[_i].args);
    ck_assert_int_eq(program_capture_stderr("train_gpt", args, out, sizeof out),
                     train_gpt_bad[_i].status);
    if (train_gpt_bad[_i].message) ck_assert_str_eq(out, train_gpt_bad[_i].message);
    else ck_assert_msg(strstr(out, "invalid UTF-8 at byte") && !strchr(out, '\n')[1],
                       "one line naming the byte: %s", out);
}
END_TEST

static const struct {
    const char *args, *message;
} bad_flags[] = {
    {"--model v3", "train_attention: --model: unknown model 'v3' (v1, v2, causal, mha)\n"},
    {"--optim rmsprop", "train_attention: --optim: unknown optimizer 'rmsprop' (sgd, adam, adamw)\n"},
    {"--lr abc", "train_attention: --lr: 'abc' is not a number\n"},
    {"--steps 0", "train_attention: --steps: 0 is out of range (1 to 100000000)\n"},
    {"--batch -1", "train_attention: --batch: -1 is out of range (1 to 1048576)\n"},
    {"--seed -5", "train_attention: --seed: '-5' is not a non-negative whole number\n"},
    {"--steps", "train_attention: --steps needs a value (see --help)\n"},
    {"--frobnicate", "train_attention: unknown option '--frobnicate' (see --help)\n"},
    {"--compare v1,v9", "train_attention: --compare: unknown model 'v9' (v1, v2, causal, mha)\n"},
};

START_TEST(test_bad_flags_exit_2_with_one_line)
{
    char out[1024];
    ck_assert_int_eq(program_capture_stderr("train_attention", bad_flags[_i].args, out,
                                            sizeof out), 2);
    ck_assert_str_eq(out, bad_flags[_i].message);
}
END_TEST

START_TEST(test_train_writes_csv)
{
    char args[512], out[4096], csv[256];
    snprintf(csv, sizeof csv, "/tmp/attograd-test-%d.csv", (int)getpid());
    snprintf(args, sizeof args, "--steps 20 --quiet --csv %s", csv);
    ck_assert_int_eq(program_capture("train_attention", args, out, sizeof out), 0);
    ck_assert(strstr(out, "v2: final loss") != NULL);
    const char *text = testutil_read_text(csv);
    ck_assert(strncmp(text, "step,loss\n1,", 12) == 0);
    int lines = 0;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    ck_assert_int_eq(lines, 21);
    /* The first loss is the fixture's first v2/adam loss, printed with %.9g. */
    Tensor *expected = testutil_fixture("train.txt", "loss_v2_adam");
    ck_assert_float_eq_tol(strtof(text + 12, NULL), expected->data[0], 1e-4f * expected->data[0]);
    remove(csv);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("toy task");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_losses_match_pytorch, 0, sizeof runs / sizeof *runs);
    tcase_add_loop_test(tc, test_losses_fall, 0, 2);
    tcase_add_test(tc, test_memory_flat_over_many_steps);
    suite_add_tcase(s, tc);
    TCase *progs = tcase_create("programs");
    tcase_set_timeout(progs, 60);
    tcase_add_loop_test(progs, test_self_attention_prints_the_book, 0, 2);
    tcase_add_loop_test(progs, test_bad_flags_exit_2_with_one_line, 0,
                        sizeof bad_flags / sizeof *bad_flags);
    tcase_add_test(progs, test_train_writes_csv);
    tcase_add_test(progs, test_gpt_model_bad_flags_exit_2);
    tcase_add_loop_test(progs, test_train_gpt_bad_input, 0,
                        sizeof train_gpt_bad / sizeof *train_gpt_bad);
    tcase_add_loop_test(progs, test_gpt_generate_bad_flags_exit_2, 0,
                        sizeof generate_bad_flags / sizeof *generate_bad_flags);
    suite_add_tcase(s, progs);
    /* The 124M model built and run 17 times: 7 s in the release build,
     * about a minute under the sanitizers. */
    TCase *gpt = tcase_create("gpt_model");
    tcase_set_timeout(gpt, 400);
    tcase_add_test(gpt, test_gpt_model_prints_the_book);
    tcase_add_loop_test(gpt, test_train_gpt_matches_pytorch, 0,
                        sizeof train_gpt_runs / sizeof *train_gpt_runs);
    tcase_add_loop_test(gpt, test_gpt_generate_matches, 0,
                        sizeof generate_runs / sizeof *generate_runs);
    tcase_add_test(gpt, test_gpt_generate_top_k_0_is_all);
    tcase_add_test(gpt, test_gpt_generate_raw);
    suite_add_tcase(s, gpt);
    return s;
}

TESTUTIL_MAIN(train_suite)
