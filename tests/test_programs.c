/*
 * The example programs run with hostile and careless flags.  Each runs in a
 * fresh temporary directory, through posix_spawn (no shell), with its
 * stdout and stderr in out.txt there; a test asserts the exit status, the
 * one-line reason, and that no file named by an injected command appears.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program_run.h"
#include "testutil.h"

static char out[16384];

static void setup(void)
{
    scratch_make("programs");
}

/* build/examples/<prog> with args in the scratch directory; its exit status,
 * stdout and stderr together in out. */
static int run(const char *prog, const char *const *args)
{
    return program_run(prog, args, out, sizeof out, NULL, 0);
}

/* Each would create "pwned" (or "x") if a name reached gnuplot, dot or a shell. */
static const struct {
    const char *prog;
    const char *args[8];
    int status;
} hostile[] = {
    {"train_attention", {"--steps", "5", "--quiet", "--plot", "|touch pwned", NULL}, 1},
    {"train_attention", {"--steps", "5", "--quiet", "--plot", "|touch pwned.png", NULL}, 0},
    {"train_attention", {"--steps", "5", "--quiet", "--csv", "<touch pwned", NULL}, 0},
    {"train_attention", {"--steps", "5", "--quiet", "--csv", "<touch x", "--plot", "p.png", NULL}, 0},
    {"train_attention",
     {"--steps", "5", "--quiet", "--plot", "a'\nsystem(\"touch pwned\")\n'.png", NULL}, 0},
    {"train_attention",
     {"--steps", "5", "--ascii", "--plot", "b'\nsystem(\"touch pwned\")\n'.svg", NULL}, 0},
    {"train_attention",
     {"--steps", "5", "--quiet", "--compare", "v1,v2", "--plot", "`touch pwned`.pdf", NULL}, 0},
    {"backprop_attention", {"--summary", "--dot", "-Tps.png", NULL}, 0},
    {"backprop_attention", {"--summary", "--dot", "|touch pwned", NULL}, 1},
    {"backprop_attention", {"--summary", "--dot", "-o/tmp/pwned.svg", NULL}, 1},
};

START_TEST(test_no_name_runs_as_a_command)
{
    int status = run(hostile[_i].prog, hostile[_i].args);
    ck_assert_msg(status == hostile[_i].status, "status %d: %s", status, out);
    ck_assert_msg(!scratch_exists("pwned") && !scratch_exists("x"),
                  "a file name ran as a command: %s", out);
    /* No scratch directory is left behind. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -q '^.attograd-'", scratch_dir());
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(test_dash_name_is_a_file_not_an_option)
{
    const char *args[] = {"--summary", "--dot", "-Tps.png", NULL};
    ck_assert_int_eq(run("backprop_attention", args), 0);
    /* dot wrote a PNG onto the user's name: its signature, not PostScript. */
    FILE *f = fopen(scratch_file("-Tps.png"), "rb");
    ck_assert(f != NULL);
    unsigned char sig[4] = {0};
    ck_assert_int_eq(fread(sig, 1, 4, f), 4);
    fclose(f);
    ck_assert(sig[1] == 'P' && sig[2] == 'N' && sig[3] == 'G');
    ck_assert(scratch_exists("-Tps.dot"));
}
END_TEST

/* Careless flags: each fails with a reason that names the cause and the user's path. */
static const struct {
    const char *prog;
    const char *args[10];
    int status;
    const char *reason;
} careless[] = {
    {"train_attention", {"--steps", "5", "--plot", "nodir/x.png", NULL}, 1,
     "train_attention: --plot nodir/x.png: the directory nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--save", "nodir/c.safetensors", NULL}, 1,
     "train_attention: --save nodir/c.safetensors: the directory nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--csv", "nodir/c.csv", NULL}, 1,
     "train_attention: --csv nodir/c.csv: the directory nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--plot", "x.jpg", NULL}, 1,
     "train_attention: --plot x.jpg: unknown picture type (.png, .svg or .pdf)\n"},
    {"train_attention", {"--steps", "5", "--plot", "/", NULL}, 1,
     "train_attention: --plot /: names a directory, not a file\n"},
    {"train_attention", {"--steps", "30", "--optim", "sgd", "--lr", "30", "--quiet", NULL}, 1,
     "train_attention: step 22 failed: the loss is inf: training diverged (try a smaller --lr "
     "than 30)\n"},
    {"backprop_attention", {"--summary", "--dot", "g.ps", NULL}, 1,
     "backprop_attention: --dot g.ps: unknown type (the name must end in .dot, .png, .svg or "
     ".pdf)\n"},
};

START_TEST(test_careless_flags_name_the_cause)
{
    int status = run(careless[_i].prog, careless[_i].args);
    ck_assert_msg(status == careless[_i].status, "status %d: %s", status, out);
    /* The reason is one line of the output (stdout, buffered, may come after it). */
    ck_assert_msg(strstr(out, careless[_i].reason) != NULL, "no reason '%s' in: %s",
                  careless[_i].reason, out);
    ck_assert_msg(strstr(out, "step 1 loss") == NULL || strstr(careless[_i].reason, "step"),
                  "trained before the path was checked: %s", out);
}
END_TEST

START_TEST(test_picture_by_extension)
{
    const char *ext[] = {"png", "svg", "pdf"};
    const char *magic[] = {"\x89PNG", "<?xm", "%PDF"};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "loss.%s", ext[i]);
        const char *args[] = {"--steps", "5", "--quiet", "--plot", name, NULL};
        ck_assert_msg(run("train_attention", args) == 0, "%s", out);
        FILE *f = fopen(scratch_file(name), "rb");
        ck_assert(f != NULL);
        char sig[5] = {0};
        ck_assert_int_eq(fread(sig, 1, 4, f), 4);
        fclose(f);
        ck_assert_msg(memcmp(sig, magic[i], 4) == 0, "%s starts with %.4s", name, sig);
    }
}
END_TEST

START_TEST(test_ascii_fits_80_columns)
{
    const char *args[] = {"--steps", "5", "--quiet", "--ascii", "--plot", "l.png", NULL};
    ck_assert_int_eq(run("train_attention", args), 0);
    /* The picture is what follows the summary line; gnuplot's dumb
     * terminal starts a page with a form feed, which takes no column. */
    const char *pic = strchr(out, '\n');
    ck_assert(pic != NULL);
    int width = 0, col = 0;
    for (const char *p = pic + 1; *p; p++) {
        col = *p == '\n' ? 0 : col + (*p != '\f');
        if (col > width) width = col;
    }
    /* Not a terminal: the picture fits 80 columns, and uses them. */
    ck_assert_int_le(width, 80);
    ck_assert_int_ge(width, 79);
    ck_assert(strstr(out, "student: learns a fixed teacher") != NULL);
}
END_TEST

static Suite *programs_suite(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("programs");
    tcase_add_checked_fixture(tc, setup, scratch_remove);
    /* Each case runs a program that trains a few steps and draws with gnuplot: up to ~1 s. */
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_no_name_runs_as_a_command, 0, sizeof hostile / sizeof *hostile);
    tcase_add_test(tc, test_dash_name_is_a_file_not_an_option);
    tcase_add_loop_test(tc, test_careless_flags_name_the_cause, 0,
                        sizeof careless / sizeof *careless);
    tcase_add_test(tc, test_picture_by_extension);
    tcase_add_test(tc, test_ascii_fits_80_columns);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(programs_suite)
