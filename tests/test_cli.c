/*
 * The cli room's training flags (cli_train_flag): each flag read into its
 * field, the program's choices (the batch flag's name, --epochs 0), flags
 * that are not its own left alone, and a bad value refused with the line a
 * program prints, naming the program, the flag and the value; and the
 * vocabulary's files a program checks before any work (cli_vocab_paths).
 */
#include "testutil.h"

/* cli_train_flag over the whole of argv (argv[0] the program) as a
 * program's loop calls it: the last result, with *unknown set to the first
 * flag none of the calls took (0: every flag was taken). */
static int parse(int argc, char **argv, CliTrainOptions *t, int *unknown)
{
    int rc = 0;
    *unknown = 0;
    for (int i = 1; i < argc && rc >= 0; i++) {
        rc = cli_train_flag("prog", argc, argv, &i, t);
        if (rc == 0 && !*unknown) *unknown = i;
    }
    return rc;
}

START_TEST(test_every_flag_is_read)
{
    char *argv[] = {"prog", "--lr", "5e-05", "--weight-decay", "0.1", "--epochs", "3",
                    "--batch-size", "8", "--eval-freq", "50", "--eval-iter", "5", "--seed",
                    "18446744073709551615", "--bf16", NULL};
    CliTrainOptions t = {0};
    int unknown;
    ck_assert_int_eq(parse(16, argv, &t, &unknown), 1);
    ck_assert_int_eq(unknown, 0);
    ck_assert_double_eq(t.lr, 5e-5);
    ck_assert_double_eq(t.weight_decay, 0.1);
    ck_assert_int_eq(t.epochs, 3);
    ck_assert_int_eq(t.batch_size, 8);
    ck_assert_int_eq(t.eval_freq, 50);
    ck_assert_int_eq(t.eval_iter, 5);
    ck_assert_uint_eq(t.seed, UINT64_MAX);
    ck_assert(t.bf16);
}
END_TEST

/* Defaults stay where no flag is given; a flag not in the set is 0, with
 * *i where it was (the program's own branches read it). */
START_TEST(test_other_flags_are_not_taken)
{
    char *argv[] = {"prog", "--epochs", "2", "--batch", "4", "--lora-rank", "8", NULL};
    CliTrainOptions t = {.lr = 4e-4, .epochs = 10, .batch_size = 2, .seed = 123};
    int i = 3;
    ck_assert_int_eq(cli_train_flag("prog", 7, argv, &i, &t), 0);
    ck_assert_int_eq(i, 3);
    i = 5;
    ck_assert_int_eq(cli_train_flag("prog", 7, argv, &i, &t), 0);
    i = 1;
    ck_assert_int_eq(cli_train_flag("prog", 7, argv, &i, &t), 1);
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(t.epochs, 2);
    ck_assert_int_eq(t.batch_size, 2);
    ck_assert_double_eq(t.lr, 4e-4);
    ck_assert_uint_eq(t.seed, 123);
}
END_TEST

/* train_gpt's --batch: the name batch_flag gives, and then only that. */
START_TEST(test_batch_flag_name)
{
    char *argv[] = {"prog", "--batch", "4", "--batch-size", "6", NULL};
    CliTrainOptions t = {.batch_size = 2, .batch_flag = "--batch"};
    int i = 1;
    ck_assert_int_eq(cli_train_flag("prog", 5, argv, &i, &t), 1);
    ck_assert_int_eq(t.batch_size, 4);
    i = 3;
    ck_assert_int_eq(cli_train_flag("prog", 5, argv, &i, &t), 0);
    ck_assert_int_eq(t.batch_size, 4);
    char *bad[] = {"prog", "--batch", "0", NULL};
    i = 1;
    ck_assert_int_eq(cli_train_flag("train_gpt", 3, bad, &i, &t), -1);
    ck_assert_str_eq(tensor_error(), "train_gpt: --batch: 0 is out of range (1 to 1048576)");
    tensor_clear_error();
}
END_TEST

/* --epochs 0 only where the program allows a run that only evaluates. */
START_TEST(test_zero_epochs)
{
    char *argv[] = {"prog", "--epochs", "0", NULL};
    CliTrainOptions t = {.epochs = 5};
    int i = 1;
    ck_assert_int_eq(cli_train_flag("prog", 3, argv, &i, &t), -1);
    ck_assert_str_eq(tensor_error(), "prog: --epochs: 0 is out of range (1 to 1048576)");
    tensor_clear_error();
    ck_assert_int_eq(t.epochs, 5);
    t.allow_zero_epochs = true;
    i = 1;
    ck_assert_int_eq(cli_train_flag("prog", 3, argv, &i, &t), 1);
    ck_assert_int_eq(t.epochs, 0);
}
END_TEST

static const struct {
    const char *flag, *value, *message;
} bad[] = {
    {"--lr", "-1", "finetune_classifier: --lr: -1 is out of range (0 to 1000)"},
    {"--lr", "fast", "finetune_classifier: --lr: 'fast' is not a number"},
    {"--lr", "nan", "finetune_classifier: --lr: 'nan' is not a number"},
    {"--lr", "1e400", "finetune_classifier: --lr: '1e400' overflows a double (its magnitude "
                      "is over 1.8e308)"},
    {"--weight-decay", "1001", "finetune_classifier: --weight-decay: 1001 is out of range "
                               "(0 to 1000)"},
    {"--weight-decay", "", "finetune_classifier: --weight-decay: '' is not a number"},
    {"--epochs", "2.5", "finetune_classifier: --epochs: '2.5' is not a whole number"},
    {"--epochs", "-1", "finetune_classifier: --epochs: -1 is out of range (0 to 1048576)"},
    {"--epochs", "1048577", "finetune_classifier: --epochs: 1048577 is out of range "
                            "(0 to 1048576)"},
    {"--batch-size", "0", "finetune_classifier: --batch-size: 0 is out of range (1 to 1048576)"},
    {"--eval-freq", "0", "finetune_classifier: --eval-freq: 0 is out of range "
                         "(1 to 1073741824)"},
    {"--eval-iter", "x", "finetune_classifier: --eval-iter: 'x' is not a whole number"},
    {"--seed", "-1", "finetune_classifier: --seed: '-1' is not a non-negative whole number"},
    {"--seed", "18446744073709551616", "finetune_classifier: --seed: '18446744073709551616' "
                                       "is not a non-negative whole number"},
};

/* A bad value: -1, the field as it was, one line naming program, flag and value. */
START_TEST(test_bad_values)
{
    char *argv[] = {"prog", (char *)bad[_i].flag, (char *)bad[_i].value, NULL};
    CliTrainOptions t = {.lr = 5e-5, .weight_decay = 0.1, .epochs = 5, .batch_size = 8,
                         .eval_freq = 50, .eval_iter = 5, .seed = 123,
                         .allow_zero_epochs = true};
    CliTrainOptions before = t;
    int i = 1;
    ck_assert_int_eq(cli_train_flag("finetune_classifier", 3, argv, &i, &t), -1);
    ck_assert_str_eq(tensor_error(), bad[_i].message);
    tensor_clear_error();
    ck_assert_mem_eq(&t, &before, sizeof t);
}
END_TEST

/* A flag at the end of argv, its value missing. */
START_TEST(test_missing_value)
{
    static const char *const flags[] = {"--lr", "--weight-decay", "--epochs", "--batch-size",
                                        "--eval-freq", "--eval-iter", "--seed"};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
        char *argv[] = {"prog", (char *)flags[k], NULL};
        CliTrainOptions t = {0};
        int i = 1;
        ck_assert_int_eq(cli_train_flag("finetune_instruct", 2, argv, &i, &t), -1);
        char want[128];
        snprintf(want, sizeof want, "finetune_instruct: %s needs a value (see --help)",
                 flags[k]);
        ck_assert_str_eq(tensor_error(), want);
        tensor_clear_error();
        ck_assert_int_eq(i, 1);
    }
}
END_TEST

/* GPT-2's vocabulary files as a program checks them before any work. */
START_TEST(test_vocab_paths)
{
    CliVocabPaths v;
    cli_vocab_paths(NULL, "/v", &v);
    ck_assert_str_eq(v.paths[0].path, "/v/encoder.json");
    ck_assert_str_eq(v.paths[1].path, "/v/vocab.bpe");
    ck_assert_str_eq(v.paths[0].what, "--vocab");
    ck_assert(!v.paths[0].output && !v.paths[1].output);
    cli_vocab_paths("gpt2", NULL, &v);
    char want[4200];
    snprintf(want, sizeof want, "%s/vocab.bpe", cli_vocab_dir());
    ck_assert_str_eq(v.paths[1].path, want);
    cli_vocab_paths("bytes", "/v", &v);
    ck_assert_ptr_null(v.paths[0].path);
    ck_assert_ptr_null(v.paths[1].path);
    /* a missing folder is refused as the programs refuse it */
    cli_vocab_paths("gpt2", "/nonexistent-vocab", &v);
    TensorPath paths[] = {{.what = "--csv", .path = "/nonexistent-out/x.csv", .output = true},
                          v.paths[0], v.paths[1]};
    ck_assert(!cli_paths_ok("prog", 3, paths));
    ck_assert_str_eq(tensor_error(), "prog: --csv /nonexistent-out/x.csv: the folder "
                                     "/nonexistent-out does not exist");
    tensor_clear_error();
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *train = tcase_create("train flags");
    tcase_add_test(train, test_every_flag_is_read);
    tcase_add_test(train, test_other_flags_are_not_taken);
    tcase_add_test(train, test_batch_flag_name);
    tcase_add_test(train, test_zero_epochs);
    tcase_add_loop_test(train, test_bad_values, 0, sizeof bad / sizeof *bad);
    tcase_add_test(train, test_missing_value);
    suite_add_tcase(s, train);
    TCase *files = tcase_create("files");
    tcase_add_test(files, test_vocab_paths);
    suite_add_tcase(s, files);
    return s;
}

TESTUTIL_MAIN(cli_suite)
