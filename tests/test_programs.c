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
#include <sys/stat.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

static char out[16384];

static void setup(void)
{
    scratch_make("programs");
    tmpdir_make();
}

/* No private folder of the plot room is left by any run. */
static void teardown(void)
{
    int left = tmpdir_count();
    tmpdir_remove();
    scratch_remove();
    ck_assert_int_eq(left, 0);
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
    {"train_attention", {"--steps", "5", "--quiet", "--plot", "|touch pwned", NULL}, 2},
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
    {"backprop_attention", {"--summary", "--dot", "|touch pwned", NULL}, 2},
    {"backprop_attention", {"--summary", "--dot", "-o/tmp/pwned.svg", NULL}, 2},
    {"backprop_attention", {"--summary", "--html", "|touch pwned.html", NULL}, 0},
    {"backprop_block", {"--summary", "--html", "`touch pwned`.html", NULL}, 0},
};

START_TEST(test_no_name_runs_as_a_command)
{
    int status = run(hostile[_i].prog, hostile[_i].args);
    ck_assert_msg(status == hostile[_i].status, "status %d: %s", status, out);
    ck_assert_msg(!scratch_exists("pwned") && !scratch_exists("x"),
                  "a file name ran as a command: %s", out);
    /* No private folder is left behind (nor anything beside the picture). */
    ck_assert_int_eq(tmpdir_count(), 0);
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
    {"train_attention", {"--steps", "5", "--plot", "nodir/x.png", NULL}, 2,
     "train_attention: --plot nodir/x.png: the folder nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--save", "nodir/c.safetensors", NULL}, 2,
     "train_attention: --save nodir/c.safetensors: the folder nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--csv", "nodir/c.csv", NULL}, 2,
     "train_attention: --csv nodir/c.csv: the folder nodir does not exist\n"},
    {"train_attention", {"--steps", "5", "--plot", "x.jpg", NULL}, 2,
     "train_attention: --plot x.jpg: the name must end in .png, .svg or .pdf\n"},
    {"train_attention", {"--steps", "5", "--csv", "/", NULL}, 2,
     "train_attention: --csv /: names a folder, not a file\n"},
    {"train_attention", {"--steps", "30", "--optim", "sgd", "--lr", "30", "--quiet", NULL}, 1,
     "train_attention: step 22 failed: the loss is inf: training diverged (try a smaller --lr "
     "than 30)\n"},
    {"backprop_attention", {"--summary", "--dot", "g.ps", NULL}, 2,
     "backprop_attention: --dot g.ps: the name must end in .dot, .png, .svg or .pdf\n"},
    {"backprop_attention", {"--summary", "--html", "page.htm", NULL}, 2,
     "backprop_attention: --html page.htm: the name must end in .html\n"},
    {"backprop_block", {"--summary", "--html", "nodir/page.html", NULL}, 2,
     "backprop_block: --html nodir/page.html: the folder nodir does not exist\n"},
    {"backprop_block", {"--summary", "--html", "/", NULL}, 2,
     "backprop_block: --html /: the name must end in .html\n"},
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

/* ---- outputs that are not regular files, and outputs that collide (issue 25) ---- */

/* "FIFO" and "NULL" in the arguments below become a FIFO and a link to
 * /dev/null of the scratch directory, with the extension the flag wants. */
static const struct {
    const char *prog;
    const char *args[12];
} not_files[] = {
    {"train_attention", {"--steps", "5", "--csv", "X.csv", NULL}},
    {"train_attention", {"--steps", "5", "--plot", "X.png", NULL}},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--csv", "X.csv", NULL}},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--csv", "c.csv", "--plot",
                   "X.png", NULL}},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--grad-norms", "X.png",
                   NULL}},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--save", "X.csv", NULL}},
    {"gpt_generate", {"--config", "book-test", "--heatmap", "X.png", NULL}},
    {"self_attention", {"--heatmap", "X.png", NULL}},
    {"shortcut_gradients", {"--plot", "X.png", NULL}},
    {"backprop_attention", {"--summary", "--dot", "X.png", NULL}},
    {"backprop_attention", {"--summary", "--dot", "X.dot", NULL}},
    {"backprop_attention", {"--summary", "--html", "X.html", NULL}},
    {"backprop_block", {"--summary", "--html", "X.html", NULL}},
};

/* Each is refused before any work (its one line is all it prints), exit 2,
 * and the FIFO stays a FIFO, /dev/null a character device. */
START_TEST(test_outputs_that_are_not_files_are_refused)
{
    static const char *const kinds[2][2] = {{"fifo", "is a FIFO"},
                                            {"null", "is a character device"}};
    for (int k = 0; k < 2; k++) {
        const char *args[12] = {NULL};
        char name[32] = "", want[256];
        int flag = 0;
        for (int i = 0; not_files[_i].args[i]; i++) {
            const char *a = not_files[_i].args[i];
            if (a[0] == 'X' && a[1] == '.') {
                snprintf(name, sizeof name, "%s%s", kinds[k][0], a + 1);
                args[i] = name;
                flag = i - 1;
            } else {
                args[i] = a;
            }
        }
        if (k == 0) ck_assert_int_eq(mkfifo(scratch_file(name), 0600), 0);
        else ck_assert_int_eq(symlink("/dev/null", scratch_file(name)), 0);
        int status = run(not_files[_i].prog, args);
        snprintf(want, sizeof want, "%s: %s %s: %s; only a regular file is replaced\n",
                 not_files[_i].prog, args[flag], name, kinds[k][1]);
        ck_assert_msg(status == 2, "%s %s: status %d: %s", not_files[_i].prog, name, status, out);
        ck_assert_str_eq(out, want);
        struct stat st;
        ck_assert_int_eq(lstat(scratch_file(name), &st), 0);
        ck_assert(k == 0 ? S_ISFIFO(st.st_mode) : S_ISLNK(st.st_mode));
        ck_assert_int_eq(stat("/dev/null", &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
    }
    ck_assert_int_eq(scratch_count(), 2);   /* the FIFO and the link */
}
END_TEST

/* Two flags that name one file (by name, or through a derived name, or an
 * input the run reads): refused with both flags named, exit 2, nothing
 * written and the existing file as it was. */
static const struct {
    const char *prog;
    const char *args[16];
    const char *reason;
} collisions[] = {
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--save", "out", "--csv", "out",
                   NULL},
     "train_gpt: --csv out and --save out name the same file\n"},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--save", "t.txt", "--text",
                   "t.txt", NULL},
     "train_gpt: --save t.txt and --text t.txt name the same file\n"},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--csv", "t.txt", "--text",
                   "t.txt", NULL},
     "train_gpt: --csv t.txt and --text t.txt name the same file\n"},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--csv", "g.csv",
                   "--grad-norms", "g.png", NULL},
     "train_gpt: --csv g.csv and --grad-norms's CSV g.csv name the same file\n"},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--csv", "./t.txt", "--text",
                   "l.txt", NULL},
     "train_gpt: --csv ./t.txt and --text l.txt name the same file\n"},
    {"train_gpt", {"--config", "book-test", "--tokenizer", "bytes", "--plot", "p.png", "--csv",
                   "c.csv", "--grad-norms", "p.png", NULL},
     "train_gpt: --plot p.png and --grad-norms p.png name the same file\n"},
    {"train_attention", {"--steps", "5", "--save", "x", "--csv", "x", NULL},
     "train_attention: --save x and --csv x name the same file\n"},
    {"train_attention", {"--steps", "5", "--plot", "x.png", "--save", "x_v2.csv", NULL},
     "train_attention: --save x_v2.csv and --plot's CSV x_v2.csv name the same file\n"},
    {"train_attention", {"--steps", "5", "--resume", "t.txt", "--csv", "t.txt", NULL},
     "train_attention: --resume t.txt and --csv t.txt name the same file\n"},
    {"gpt_generate", {"--config", "book-test", "--load", "t.txt", "--heatmap", "t.txt.png", NULL},
     NULL},
};

START_TEST(test_outputs_that_collide_are_refused)
{
    FILE *f = fopen(scratch_file("t.txt"), "w");
    fputs("the text\n", f);
    fclose(f);
    ck_assert_int_eq(symlink("t.txt", scratch_file("l.txt")), 0);
    int status = run(collisions[_i].prog, collisions[_i].args);
    if (!collisions[_i].reason) {
        /* Different files: not a collision (the load then fails on its own). */
        ck_assert_ptr_null(strstr(out, "name the same file"));
        return;
    }
    ck_assert_msg(status == 2, "status %d: %s", status, out);
    ck_assert_str_eq(out, collisions[_i].reason);
    char text[64];
    scratch_slurp("t.txt", text, sizeof text);
    ck_assert_str_eq(text, "the text\n");
    ck_assert_int_eq(scratch_count(), 1);   /* l.txt (t.txt was slurped) */
}
END_TEST

static Suite *programs_suite(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("programs");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* Each case runs a program that trains a few steps and draws with gnuplot: up to ~1 s. */
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_no_name_runs_as_a_command, 0, sizeof hostile / sizeof *hostile);
    tcase_add_test(tc, test_dash_name_is_a_file_not_an_option);
    tcase_add_loop_test(tc, test_careless_flags_name_the_cause, 0,
                        sizeof careless / sizeof *careless);
    tcase_add_test(tc, test_picture_by_extension);
    tcase_add_test(tc, test_ascii_fits_80_columns);
    tcase_add_loop_test(tc, test_outputs_that_are_not_files_are_refused, 0,
                        sizeof not_files / sizeof *not_files);
    tcase_add_loop_test(tc, test_outputs_that_collide_are_refused, 0,
                        sizeof collisions / sizeof *collisions);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(programs_suite)
