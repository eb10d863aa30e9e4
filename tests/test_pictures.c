/*
 * The teaching pictures, as a user makes them: self_attention --heatmap,
 * gpt_generate --heatmap (the plot room's plot_heatmap through gnuplot).
 * Each runs in a fresh temporary directory through posix_spawn (no shell),
 * stdout in out.txt and stderr in err.txt there.  A test asserts the exit
 * status, that the printed numbers are unchanged by the flag, that the
 * picture is a non-empty PNG, and that no hostile token ran as a command.
 * The numbers behind the heatmaps are nn_attention_weights', checked against
 * PyTorch in tests/test_attention_weights.c.
 *
 * shortcut_gradients against the book's printed lines
 * (reference/shortcut_gradients.book): the text before each number exactly,
 * the number within 1e-6 relative.  Digit-for-digit equality is not to be
 * had: the values are float32 gradients through five Linear + GELU layers
 * whose last bits depend on the machine's tanh and sums; PyTorch 1.13 on
 * this machine (tests/reference/gen_gpt_model.py's network) itself differs
 * from the book by up to 1.4e-7 relative, and this library by up to 3.4e-7
 * (layers.0 with shortcut).  A missing or misplaced shortcut changes the
 * means by factors of 10 to 1000.  The printing is checked exactly:
 * cli_float_repr gives back each of the book's strings from its value.
 *
 * train_gpt --grad-norms against PyTorch (reference/grad_norms.csv,
 * gen_grad_norms.py: book_ch05's loop, norms taken before optimizer.step):
 * every layer's norm at every one of the 143 steps within 1e-5 relative.
 * The gradients are float32 in both libraries, summed in other orders, and
 * the runs drift apart through AdamW's steps; measured: at most 1.6e-7
 * relative (step 117, trf_blocks.1), so the bound has a margin of 60, while
 * a norm taken after the step, or of another group, is off by percents.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program_run.h"
#include "testutil.h"

static char out[65536], err[4096];

static void setup(void)
{
    scratch_make("pictures");
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

/* Runs build/examples/<prog> with args in the scratch directory; its exit status. */
static int run(const char *prog, const char *const *args)
{
    return program_run(prog, args, out, sizeof out, err, sizeof err);
}

/* name in the scratch directory is a PNG (its signature) of more than a few hundred bytes. */
static void assert_png(const char *name)
{
    FILE *f = fopen(scratch_file(name), "rb");
    ck_assert_msg(f != NULL, "%s was not written (stderr: %s)", name, err);
    unsigned char sig[8];
    ck_assert_int_eq(fread(sig, 1, 8, f), 8);
    ck_assert(memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ck_assert_msg(size > 2000, "%s: only %ld bytes", name, size);
}

/* Nothing but these files (ls -A's lines) are left: no scratch directory,
 * no temporary CSV. */
static void assert_listing(const char *want)
{
    char listing[256];
    scratch_listing(listing, sizeof listing);
    ck_assert_str_eq(listing, want);
}

static void assert_only(const char *name)
{
    char want[128];
    snprintf(want, sizeof want, "%s\n", name);
    assert_listing(want);
}

static const char *reference(const char *name, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t got = fread(buf, 1, cap - 1, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

START_TEST(test_self_attention_heatmap)
{
    static char expected[65536];
    const char *args[] = {"--heatmap", "heat.png", NULL};
    ck_assert_int_eq(run("self_attention", args), 0);
    ck_assert_str_eq(out, reference("self_attention.expected", expected, sizeof expected));
    assert_png("heat.png");
    assert_only("heat.png");
}
END_TEST

/* The printed run unchanged (PyTorch's, gen_gpt_generate.py), and the last
 * layer's 4 heads over its 12 tokens.  The book-test config keeps the case
 * fast under the sanitizers; 124M draws the same way with 12 panels. */
START_TEST(test_gpt_generate_heatmap)
{
    static char expected[65536];
    const char *args[] = {"--config", "book-test", "--seed", "7", "--prompt",
                          "Every effort moves you", "--max-new-tokens", "8",
                          "--heatmap", "gpt.png", NULL};
    ck_assert_int_eq(run("gpt_generate", args), 0);
    ck_assert_str_eq(out, reference("gpt_generate_book_test_seed7.expected", expected,
                                    sizeof expected));
    assert_png("gpt.png");
    assert_only("gpt.png");
}
END_TEST

/* Tokens with quotes, a backslash, a newline, a gnuplot command and '%'
 * (gnuplot reads tic labels as formats: "Bad format character" before)
 * become axis labels: they stay labels (the picture is drawn, nothing
 * runs), "%%" drawn as "%%" (the SVG's text says so). */
START_TEST(test_hostile_tokens_stay_labels)
{
    const char *args[] = {"--config", "book-test", "--max-new-tokens", "3", "--heatmap-layer", "0",
                          "--prompt",
                          "it's \"q\" a\\b\n') ; system('touch pwned') #\x01 100% %% %d",
                          "--heatmap", "t.svg", NULL};
    ck_assert_msg(run("gpt_generate", args) == 0, "%s", err);
    ck_assert(!scratch_exists("pwned"));
    static char svg[1 << 20];
    scratch_slurp("t.svg", svg, sizeof svg);
    /* GPT-2's tokens of "100% %% %d": " 100", "%", " %%", " %", "d" */
    const char *drawn[] = {">%</text>", "> %%</text>", "> %</text>", "> 100</text>"};
    for (int i = 0; i < 4; i++) ck_assert_msg(strstr(svg, drawn[i]) != NULL, "no %s", drawn[i]);
    assert_listing("");
}
END_TEST

static const struct {
    const char *prog;
    const char *args[8];
    const char *message;
} bad[] = {
    {"self_attention", {"--heatmap", "x.jpg", NULL},
     "self_attention: --heatmap x.jpg: the name must end in .png, .svg or .pdf\n"},
    {"self_attention", {"--heatmap", "nodir/x.png", NULL},
     "self_attention: --heatmap nodir/x.png: the folder nodir does not exist\n"},
    {"gpt_generate", {"--config", "book-test", "--heatmap", "x.png", "--heatmap-layer", "2", NULL},
     "gpt_generate: --heatmap-layer: 2 is not a layer of 2 (0 to 1, or -1 to -2 from the end)\n"},
    {"shortcut_gradients", {"--plot", "x.gif", NULL},
     "shortcut_gradients: --plot x.gif: the name must end in .png, .svg or .pdf\n"},
    {"shortcut_gradients", {"--ascii", NULL},
     "shortcut_gradients: --ascii draws the chart of --plot FILE; give --plot too\n"},
    {"train_gpt", {"--grad-norms", "x.csv", NULL},
     "train_gpt: --grad-norms x.csv: the name must end in .png, .svg or .pdf\n"},
    {"train_gpt", {"--grad-norms", "nodir/x.png", NULL},
     "train_gpt: --grad-norms nodir/x.png: the folder nodir does not exist\n"},
    {"gpt_generate", {"--heatmap", "x.png", "--max-new-tokens", "70", NULL},
     "gpt_generate: --heatmap: draws at most 64 tokens; the prompt (4) and --max-new-tokens (70) "
     "make 74\n"},
};

START_TEST(test_bad_picture_flags)
{
    ck_assert_int_eq(run(bad[_i].prog, bad[_i].args), 2);
    ck_assert_str_eq(err, bad[_i].message);
    ck_assert(!scratch_exists("x.png"));
}
END_TEST

/* Python's repr of the book's values, and of the cases its rules name. */
START_TEST(test_float_repr_is_pythons)
{
    static const char *const cases[] = {
        "0.00020173587836325169", "0.0007152039906941354", "1.3258540630340576",
        "0.22169792652130127", "1.0", "0.1", "100.0", "1e-05", "0.0001", "1.5e+16",
        "1234567890123456.0", "-2.5", "0.0", "nan", "inf", "-inf", "3.4028234663852886e+38",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[64];
        cli_float_repr(strtod(cases[i], NULL), buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i]);
    }
}
END_TEST

/* stdout's lines that hold "has gradient mean of", in order, against the book's. */
START_TEST(test_shortcut_gradients_are_the_books)
{
    static char book[4096];
    const char *args[] = {"--plot", "short.png", NULL};
    ck_assert_int_eq(run("shortcut_gradients", args), 0);
    reference("shortcut_gradients.book", book, sizeof book);
    const char *mark = " has gradient mean of ";
    char *ours = out, *theirs = book;
    int lines = 0;
    for (;;) {
        char *o = strstr(ours, mark), *t = strstr(theirs, mark);
        if (!o || !t) {
            ck_assert_msg(!o && !t, "a line more in %s", o ? "the output" : "the book");
            break;
        }
        ck_assert(o - ours >= 17 && t - theirs >= 17);
        ck_assert(strncmp(o - 17, t - 17, 17 + strlen(mark)) == 0);   /* "layers.i.0.weight" */
        char *oe, *te;
        double x = strtod(o + strlen(mark), &oe), y = strtod(t + strlen(mark), &te);
        ck_assert_msg(fabs(x - y) <= 1e-6 * fabs(y), "line %d: %.17g, the book %.17g", lines,
                      x, y);
        ck_assert(*oe == '\n' && *te == '\n');
        ours = oe, theirs = te, lines++;
    }
    ck_assert_int_eq(lines, 10);
    assert_png("short.png");
    assert_only("short.png");
}
END_TEST

/* The CSV in the scratch directory against the fixture: the same header, steps and layers. */
static void assert_norms_match(const char *name)
{
    static char ours[65536], theirs[65536];
    scratch_slurp(name, ours, sizeof ours);
    reference("grad_norms.csv", theirs, sizeof theirs);
    char *o = ours, *t = theirs;
    size_t header = strcspn(t, "\n");
    ck_assert_msg(strncmp(o, t, header + 1) == 0, "header: %.*s", (int)header, o);
    o += header + 1, t += header + 1;
    int rows = 0, values = 0;
    while (*t) {
        ck_assert_msg(*o, "the CSV ends after %d rows", rows);
        char *oe, *te;
        ck_assert_int_eq(strtol(o, &oe, 10), strtol(t, &te, 10));   /* the step */
        o = oe, t = te;
        while (*t == ',') {
            ck_assert_msg(*o == ',', "row %d: a layer missing", rows);
            double x = strtod(o + 1, &oe), y = strtod(t + 1, &te);
            ck_assert_msg(fabs(x - y) <= 1e-5 * fabs(y), "row %d: %.9g, PyTorch %.9g", rows, x,
                          y);
            o = oe, t = te, values++;
        }
        ck_assert(*o == '\n' && *t == '\n');
        o++, t++, rows++;
    }
    ck_assert_msg(!*o, "the CSV has rows past PyTorch's %d", rows);
    ck_assert_int_eq(rows, 143);
    ck_assert_int_eq(values, 143 * 6);
}

START_TEST(test_grad_norms_are_pytorchs)
{
    const char *args[] = {"--config", "book-test", "--tokenizer", "bytes", "--context-length",
                          "32", "--epochs", "1", "--batch", "4", "--eval-freq", "10",
                          "--eval-iter", "2", "--lr", "5e-4", "--seed", "7", "--quiet",
                          "--grad-norms", "norms.png", NULL};
    ck_assert_int_eq(run("train_gpt", args), 0);
    assert_png("norms.png");
    assert_listing("norms.csv\nnorms.png\n");
    assert_norms_match("norms.csv");
}
END_TEST

static Suite *pictures_suite(void)
{
    Suite *s = suite_create("pictures");
    TCase *tc = tcase_create("heatmaps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);   /* the longest, 143 training steps: ~5 s, ~60 s under ASan */
    tcase_add_test(tc, test_self_attention_heatmap);
    tcase_add_test(tc, test_gpt_generate_heatmap);
    tcase_add_test(tc, test_hostile_tokens_stay_labels);
    tcase_add_loop_test(tc, test_bad_picture_flags, 0, sizeof bad / sizeof *bad);
    tcase_add_test(tc, test_float_repr_is_pythons);
    tcase_add_test(tc, test_shortcut_gradients_are_the_books);
    tcase_add_test(tc, test_grad_norms_are_pytorchs);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(pictures_suite)
