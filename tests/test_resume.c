/*
 * Training checkpoints (checkpoint/checkpoint.c, through train_toy_save and
 * train_toy_resume): a run saved at step 100 and resumed gives, bit for bit, the losses of the same
 * run done in one go; a checkpoint of another configuration is refused; a
 * save that fails keeps the previous checkpoint.  Through the C API and
 * through train_attention --save / --resume.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/tensor_internal.h" /* tensor__fail_write */
#include "testutil.h"

static const struct {
    const char *model, *optim;
} configs[] = {{"v2", "adam"}, {"v1", "sgd"}, {"causal", "adamw"}, {"mha", "adam"}};

static char path[64];

static const char *ck_path(void)
{
    snprintf(path, sizeof path, "/tmp/attograd-resume-%d.safetensors", (int)getpid());
    return path;
}

static TrainToyConfig config(int i)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    c.model = configs[i].model;
    c.optim = configs[i].optim;
    return c;
}

/* Losses of steps from+1 .. to of a run (fresh, or resumed from file). */
static void train(const TrainToyConfig *c, const char *resume, int from, int to, float *loss,
                  const char *save)
{
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, c), 0);
    if (resume) ck_assert_msg(train_toy_resume(&run, resume) == 0, "%s", tensor_error());
    ck_assert_int_eq(run.step, from);
    for (int s = from; s < to; s++) loss[s] = train_toy_step(&run);
    if (save) ck_assert_msg(train_toy_save(&run, save) == 0, "%s", tensor_error());
    train_toy_free(&run);
}

START_TEST(test_resume_equals_one_run)
{
    TrainToyConfig c = config(_i);
    float whole[200], parts[200];
    train(&c, NULL, 0, 200, whole, NULL);
    train(&c, NULL, 0, 100, parts, ck_path());
    train(&c, ck_path(), 100, 200, parts, NULL);
    ck_assert_mem_eq(parts, whole, sizeof whole); /* bit for bit */
    remove(ck_path());
}
END_TEST

/* Saved before the first step, the optimizer has no state yet. */
START_TEST(test_resume_from_step_zero)
{
    TrainToyConfig c = config(_i);
    float whole[20], parts[20];
    train(&c, NULL, 0, 20, whole, NULL);
    train(&c, NULL, 0, 0, parts, ck_path());
    train(&c, ck_path(), 0, 20, parts, NULL);
    ck_assert_mem_eq(parts, whole, sizeof whole);
    remove(ck_path());
}
END_TEST

/* The generator's cached normal sample (randn of < 16 values) survives. */
START_TEST(test_generator_normal_cache)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    tensor_randn(SHAPE(3)); /* leaves a cached sample */
    ck_assert(tensor_default_generator()->has_next_double_normal);
    ck_assert_int_eq(train_toy_save(&run, ck_path()), 0);
    Tensor *a = tensor_randn(SHAPE(5)), *u = tensor_rand(SHAPE(3));
    train_toy_free(&run);
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    ck_assert_int_eq(train_toy_resume(&run, ck_path()), 0);
    Tensor *b = tensor_randn(SHAPE(5)), *v = tensor_rand(SHAPE(3));
    ck_assert_tensor_close(b, a, 0, 0);
    ck_assert_tensor_close(v, u, 0, 0);
    train_toy_free(&run);
    remove(ck_path());
}
END_TEST

static const struct {
    const char *field, *value, *message;
} mismatches[] = {
    {"model", "v1", "metadata \"model\" is \"v2\" in file, \"v1\" expected"},
    {"optim", "sgd", "metadata \"optim\" is \"adam\" in file, \"sgd\" expected"},
    {"lr", "0.02", "metadata \"lr\" is \"0.01\" in file, \"0.02\" expected"},
    {"seed", "5", "metadata \"seed\" is \"123\" in file, \"5\" expected"},
    {"batch", "4", "metadata \"batch\" is \"8\" in file, \"4\" expected"},
};

START_TEST(test_other_configuration_is_refused)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    float loss[10];
    train(&c, NULL, 0, 10, loss, ck_path());
    const char *f = mismatches[_i].field, *v = mismatches[_i].value;
    if (!strcmp(f, "model")) c.model = v;
    if (!strcmp(f, "optim")) c.optim = v;
    if (!strcmp(f, "lr")) c.lr = 0.02;
    if (!strcmp(f, "seed")) c.seed = 5;
    if (!strcmp(f, "batch")) c.batch = 4;
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    float before = tensor_get(run.params.tensors[0], IDX(0, 0));
    ck_assert_int_eq(train_toy_resume(&run, ck_path()), -1);
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: %s", ck_path(), mismatches[_i].message);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(run.step, 0);
    ck_assert(tensor_get(run.params.tensors[0], IDX(0, 0)) == before);
    train_toy_free(&run);
    remove(ck_path());
}
END_TEST

/* A file whose step count disagrees with its optimizer's (step 0, the
 * optimizer at 10) is refused, nothing loaded: it would resume with
 * shifted steps. */
START_TEST(test_counters_that_disagree_are_refused)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    float loss[10];
    train(&c, NULL, 0, 10, loss, ck_path());
    /* "step" set to 0 in place: its bytes are where the header says */
    size_t len;
    char *bytes = testutil_read_file(ck_path(), &len);
    uint64_t header;
    memcpy(&header, bytes, 8);
    unsigned long long from, to;
    const char *at = strstr(bytes + 8, "\"step\":{");
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(sscanf(strstr(at, "\"data_offsets\":["), "\"data_offsets\":[%llu,%llu]",
                            &from, &to), 2);
    memset(bytes + 8 + header + from, 0, (size_t)(to - from));
    FILE *out = fopen(ck_path(), "wb");
    ck_assert_int_eq(fwrite(bytes, 1, len, out), len);
    fclose(out);
    free(bytes);
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    float before = tensor_get(run.params.tensors[0], IDX(0, 0));
    ck_assert_int_eq(train_toy_resume(&run, ck_path()), -1);
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: its counters disagree: step 0, but the optimizer "
             "has taken 10 steps", ck_path());
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(run.step, 0);
    ck_assert(tensor_get(run.params.tensors[0], IDX(0, 0)) == before);
    train_toy_free(&run);
    remove(ck_path());
}
END_TEST

/* A save at step 150 dies midway (a full disk on its nth write): the file
 * still holds step 100, and resuming from it still matches one run. */
START_TEST(test_failed_save_keeps_the_checkpoint)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    float whole[200], parts[200];
    train(&c, NULL, 0, 200, whole, NULL);
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < 150; s++) {
        train_toy_step(&run);
        if (s == 99) ck_assert_int_eq(train_toy_save(&run, ck_path()), 0);
    }
    tensor__fail_write(3 + _i); /* in the data: length and header are writes 1 and 2 */
    ck_assert_int_eq(train_toy_save(&run, ck_path()), -1);
    tensor__fail_write(0);
    ck_assert_msg(strstr(tensor_error(), "No space left on device") != NULL, "%s",
                  tensor_error());
    train_toy_free(&run);
    train(&c, ck_path(), 100, 200, parts, NULL);
    ck_assert_mem_eq(parts + 100, whole + 100, 100 * sizeof *whole);
    remove(ck_path());
}
END_TEST

/* For gen_checkpoint.py --check: a training checkpoint, and the student's
 * output on a batch, in <build>/interop. */
START_TEST(test_write_training_checkpoint_for_pytorch)
{
    char file[1024];
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    for (int s = 0; s < 100; s++) train_toy_step(&run);
    snprintf(file, sizeof file, "%s/interop", ATTOGRAD_BUILD_DIR);
    mkdir(file, 0777);
    snprintf(file, sizeof file, "%s/interop/train.safetensors", ATTOGRAD_BUILD_DIR);
    ck_assert_int_eq(train_toy_save(&run, file), 0);
    TensorGenerator g;
    tensor_generator_seed(&g, 99);
    Tensor *x = tensor_rand_gen(SHAPE(2, 6, 3), &g);
    Tensor *y = nn_forward(run.student, x);
    TensorEntry io[2] = {tensor_entry("input", x), tensor_entry("output", y)};
    snprintf(file, sizeof file, "%s/interop/train.io.safetensors", ATTOGRAD_BUILD_DIR);
    ck_assert_int_eq(tensor_save_entries(file, 2, io, 0, NULL), 0);
    train_toy_free(&run);
}
END_TEST

/* ---- the program ---------------------------------------------------------- */

/* Runs train_attention with args; returns its exit status, stdout in out. */
static int run_program(const char *args, char *out, size_t cap, bool errors_too)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/examples/train_attention %s%s", ATTOGRAD_BUILD_DIR, args,
             errors_too ? " 2>&1 >/dev/null" : "");
    return testutil_capture(cmd, out, cap);
}

/* The lines "v2 step N loss X" of steps after `after`. */
static const char *lines_after(const char *out, int after)
{
    for (const char *p = out; (p = strstr(p, "v2 step ")); p++)
        if (atoi(p + 8) > after) return p;
    return "";
}

START_TEST(test_program_resume_prints_the_same_losses)
{
    static char whole[1 << 15], first[1 << 15], second[1 << 15];
    char args[256];
    ck_assert_int_eq(run_program("--steps 200 --log-every 1", whole, sizeof whole, false), 0);
    snprintf(args, sizeof args, "--steps 100 --log-every 1 --save %s", ck_path());
    ck_assert_int_eq(run_program(args, first, sizeof first, false), 0);
    snprintf(args, sizeof args, "--steps 200 --log-every 1 --resume %s", ck_path());
    ck_assert_int_eq(run_program(args, second, sizeof second, false), 0);
    /* Up to the summary line, which has a speed in it. */
    const char *a = lines_after(whole, 100), *b = lines_after(second, 100);
    size_t n = (size_t)(strstr(a, "v2: final") - a);
    ck_assert_uint_eq(n, (size_t)(strstr(b, "v2: final") - b));
    ck_assert_msg(n > 100 * 20 && memcmp(a, b, n) == 0, "resumed:\n%.400s\nwhole:\n%.400s", b, a);
    snprintf(args, sizeof args, "checkpoint: %s (step 100)\n", ck_path());
    ck_assert_ptr_nonnull(strstr(first, args));
    remove(ck_path());
}
END_TEST

START_TEST(test_program_refuses_a_mismatch)
{
    char args[256], out[1024], expect[512];
    snprintf(args, sizeof args, "--steps 10 --quiet --save %s", ck_path());
    ck_assert_int_eq(run_program(args, out, sizeof out, false), 0);
    snprintf(args, sizeof args, "--steps 20 --model v1 --resume %s", ck_path());
    ck_assert_int_eq(run_program(args, out, sizeof out, true), 1);
    snprintf(expect, sizeof expect,
             "train_attention: --resume: load %s: metadata \"model\" is \"v2\" in file, "
             "\"v1\" expected\n",
             ck_path());
    ck_assert_str_eq(out, expect);
    snprintf(args, sizeof args, "--steps 10 --resume %s", ck_path());
    ck_assert_int_eq(run_program(args, out, sizeof out, true), 1);
    snprintf(expect, sizeof expect,
             "train_attention: --resume: %s is at step 10; --steps 10 leaves nothing to train\n",
             ck_path());
    ck_assert_str_eq(out, expect);
    remove(ck_path());
    snprintf(args, sizeof args, "--resume %s", ck_path());
    ck_assert_int_eq(run_program(args, out, sizeof out, true), 1);
    snprintf(expect, sizeof expect,
             "train_attention: --resume: load %s: No such file or directory\n", ck_path());
    ck_assert_str_eq(out, expect);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("toy task");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_resume_equals_one_run, 0, sizeof configs / sizeof *configs);
    tcase_add_loop_test(tc, test_resume_from_step_zero, 0, sizeof configs / sizeof *configs);
    tcase_add_test(tc, test_generator_normal_cache);
    tcase_add_loop_test(tc, test_other_configuration_is_refused, 0,
                        sizeof mismatches / sizeof *mismatches);
    tcase_add_loop_test(tc, test_failed_save_keeps_the_checkpoint, 0, 3);
    tcase_add_test(tc, test_write_training_checkpoint_for_pytorch);
    tcase_add_test(tc, test_counters_that_disagree_are_refused);
    suite_add_tcase(s, tc);
    TCase *prog = tcase_create("program");
    tcase_set_timeout(prog, 60);
    tcase_add_test(prog, test_program_resume_prints_the_same_losses);
    tcase_add_test(prog, test_program_refuses_a_mismatch);
    suite_add_tcase(s, prog);
    return s;
}

TESTUTIL_MAIN(resume_suite)
