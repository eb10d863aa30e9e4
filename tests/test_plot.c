/*
 * The plot room (plot/plot.h) as a user calls it, and its gnuplot strings
 * white-box (plot/plot_internal.h).
 *   - Every hostile label stays a label: quotes, a backslash, a newline, '%'
 *     and "%%" (gnuplot reads tic labels as formats), backquotes, a macro,
 *     a "set output" attempt; the ASCII chart and an SVG's text show them
 *     as given, and nothing is created but the picture.
 *   - A chart from arrays and the same from CSV columns draw the same text;
 *     a CSV's faults are named with their line.
 *   - The ASCII chart goes to the caller's stream, as wide as asked (80
 *     when the stream is not a terminal), with no form feed.
 *   - Heatmaps: one colour scale shared by the panels (one bar), a stated
 *     one, or each panel its own (and the figure says so); NaN cells empty.
 *   - Without gnuplot (an empty PATH) a call fails with the install line.
 *   - Outputs go through the safe output file: a FIFO or a link to
 *     /dev/null is refused before anything is drawn and stays what it was;
 *     a failure is one line naming the user's path, never a temporary.
 *   - PlotCsv: rows on disk as they come, kept over a resume, left whole by
 *     kill -9; the progress bar; plot_graph.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attograd.h"
#include "plot/plot_internal.h"
#include "program_run.h"
#include "testutil.h"

static char tmpdir[600];

/* Each case: a scratch folder for its files, and TMPDIR inside it, so that
 * the room's private folders can be counted. */
static void setup(void)
{
    scratch_make("plots");
    snprintf(tmpdir, sizeof tmpdir, "%s/.tmp", scratch_dir());
    ck_assert_int_eq(mkdir(tmpdir, 0700), 0);
    setenv("TMPDIR", tmpdir, 1);
}

static void teardown(void)
{
    unsetenv("TMPDIR");
    scratch_remove();
}

/* Entries of TMPDIR: the private folders left behind. */
static int leftovers(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* plot__put_string's text for s. */
static const char *quoted(const char *s, size_t max, bool percent)
{
    static char buf[512];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    plot__put_string(f, s, max, percent);
    fclose(f);
    return buf;
}

START_TEST(test_strings_are_escaped)
{
    ck_assert_str_eq(quoted("plain", (size_t)-1, false), "'plain'");
    ck_assert_str_eq(quoted("it's", (size_t)-1, false), "'it''s'");
    ck_assert_str_eq(quoted("a\\b", (size_t)-1, false), "'a\\b'");
    ck_assert_str_eq(quoted("one\ntwo", (size_t)-1, false), "'one' . \"\\n\" . 'two'");
    ck_assert_str_eq(quoted("100%", (size_t)-1, false), "'100%'");
    ck_assert_str_eq(quoted("100%", (size_t)-1, true), "'100%%'");
    ck_assert_str_eq(quoted("%%", (size_t)-1, true), "'%%%%'");
    ck_assert_str_eq(quoted("`rm -rf x` @m", (size_t)-1, false), "'`rm -rf x` @m'");
    ck_assert_str_eq(quoted("') ; set output 'pwned", (size_t)-1, false),
                     "''') ; set output ''pwned'");
    ck_assert_str_eq(quoted("tab\there\x01\x7f", (size_t)-1, false), "'tab here?\?'");
    ck_assert_str_eq(quoted("caf\xc3\xa9 \xe2\x82\xac", (size_t)-1, false), "'caf\xc3\xa9 \xe2\x82\xac'");
    ck_assert_str_eq(quoted("bad \xc3 \xff \xed\xa0\x80", (size_t)-1, false), "'bad ? ? ?\?\?'");
    ck_assert_str_eq(quoted("ab\xc3\xa9", 3, false), "'ab?'");      /* a cut character */
    ck_assert_str_eq(quoted(NULL, (size_t)-1, false), "''");
}
END_TEST

/* Runs plot_lines_ascii into a string. */
static char *ascii(int64_t n, const PlotSeries *s, PlotOptions o)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    int rc = plot_lines_ascii(f, n, s, o);
    ck_assert_msg(rc == 0, "%s", tensor_error());
    long len = ftell(f);
    char *text = malloc((size_t)len + 1);
    rewind(f);
    ck_assert_int_eq(fread(text, 1, (size_t)len, f), len);
    text[len] = '\0';
    fclose(f);
    return text;
}

static const double xs[5] = {0, 1, 2, 3, 4}, ys[5] = {5, 3, 2, 1.5, 1.2}, zs[5] = {4, 4, 3, 2, 1};

/* Hostile titles, labels and legend entries are drawn as given. */
START_TEST(test_hostile_labels_are_drawn_as_given)
{
    const char *title = "it's \"q\" a\\b 100% %% `touch pwned` @x ') ; set output 'pwned";
    PlotSeries s[] = {{.label = "50% of 'it' \\ %d", .n = 5, .x = xs, .y = ys}};
    char *text = ascii(1, s, PLOT_OPTIONS(.title = title, .subtitle = "second\nthird",
                                          .xlabel = "x %s", .width = 120, .height = 30));
    ck_assert_msg(strstr(text, title) != NULL, "%s", text);
    ck_assert_msg(strstr(text, "50% of 'it' \\ %d") != NULL, "%s", text);
    ck_assert(strstr(text, "second") != NULL && strstr(text, "third") != NULL);
    ck_assert(strstr(strstr(text, "second"), "\n") < strstr(text, "third"));   /* two lines */
    ck_assert(strstr(text, "x %s") != NULL);
    free(text);
    ck_assert(!scratch_exists("pwned"));
    ck_assert_int_eq(access("pwned", F_OK), -1);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* Heatmap tic labels are gnuplot formats: '%' and "%%" must still draw as
 * given (an SVG's text says what was drawn). */
START_TEST(test_tic_labels_keep_their_percent_signs)
{
    const char *labels[] = {"a%b", "%%", "q't", "b\\s", "%d%s"};
    float v[25];
    for (int i = 0; i < 25; i++) v[i] = (float)i;
    const char *path = scratch_file("tics.svg");
    ck_assert_msg(plot_heatmap(path, 1, 5, 5, v,
                               PLOT_HEATMAP_OPTIONS(.row_labels = labels, .col_labels = labels,
                                                    .title = "100% %%")) == 0,
                  "%s", tensor_error());
    size_t n;
    char *svg = testutil_read_file(path, &n);
    const char *drawn[] = {">a%b</text>", ">%%</text>", ">q't</text>", ">b\\s</text>",
                           ">%d%s</text>", ">100% %%</text>"};
    for (int i = 0; i < 6; i++) ck_assert_msg(strstr(svg, drawn[i]) != NULL, "%s not drawn", drawn[i]);
    free(svg);
    ck_assert_int_eq(scratch_count(), 1);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* The same chart from arrays and from a CSV's columns (by header name, a
 * second x axis too) is the same text. */
START_TEST(test_arrays_and_csv_draw_the_same)
{
    const char *csv = scratch_file("loss.csv");
    write_file(csv, "step, \"loss\",tokens,val\n0,5,4,5.5\n1,3,4,\n\n2,2,3,nan\n3,1.5,2,2\n4,1.2,1,1\n");
    PlotOptions o = PLOT_OPTIONS(.title = "loss", .x2label = "tokens", .logy = true);
    PlotSeries a[] = {{.label = "train", .n = 5, .x = xs, .y = ys, .x2 = zs},
                      {.label = "val", .n = 5, .y = (const double[]){5.5, NAN, NAN, 2, 1},
                       .dash = PLOT_DASHED}};
    PlotSeries c[] = {{.label = "train", .csv = csv, .x_column = "step", .y_column = "loss",
                       .x2_column = "tokens"},
                      {.label = "val", .csv = csv, .y_column = "val", .dash = PLOT_DASHED}};
    char *from_arrays = ascii(2, a, o), *from_csv = ascii(2, c, o);
    ck_assert_str_eq(from_arrays, from_csv);
    ck_assert(strstr(from_arrays, "tokens") != NULL);
    free(from_arrays);
    free(from_csv);
    /* And as pictures: a PNG of each type's signature. */
    const char *path = scratch_file("loss.png");
    ck_assert_msg(plot_lines(path, 2, c, o) == 0, "%s", tensor_error());
    size_t n;
    char *png = testutil_read_file(path, &n);
    ck_assert(n > 2000 && memcmp(png, "\x89PNG", 4) == 0);
    free(png);
}
END_TEST

static const struct {
    const char *text, *x, *y, *message;
} bad_csvs[] = {
    {"step,loss\n0,1\n1,x1\n", "step", "loss", "line 3: 'x1' in column loss is not a number"},
    {"step,loss\n0,1\n1\n", "step", "loss", "line 3: fewer cells than the header names"},
    {"step,loss\n0,1\n", "step", "val", "no column named 'val' in its header"},
    {"", "step", "loss", "empty, no header row"},
};

START_TEST(test_csv_faults_are_named)
{
    const char *csv = scratch_file("bad.csv");
    write_file(csv, bad_csvs[_i].text);
    PlotSeries s[] = {{.csv = csv, .x_column = bad_csvs[_i].x, .y_column = bad_csvs[_i].y}};
    ck_assert_int_eq(plot_lines(scratch_file("x.png"), 1, s, PLOT_OPTIONS()), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s%s%s", csv, bad_csvs[_i].message[0] == 'l' ? " " : ": ",
             bad_csvs[_i].message);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert(!scratch_exists("x.png"));
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* A FIFO given as the CSV to read is refused (reading it would block). */
START_TEST(test_csv_input_must_be_a_file)
{
    const char *fifo = scratch_file("in.csv");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    PlotSeries s[] = {{.csv = fifo, .y_column = "loss"}};
    ck_assert_int_eq(plot_lines(scratch_file("x.png"), 1, s, PLOT_OPTIONS()), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: not a regular file", fifo);
    ck_assert_str_eq(tensor_error(), want);
}
END_TEST

/* The text chart: as wide as asked, 80 columns on a stream that is not a
 * terminal, no form feed, nothing on stdout. */
START_TEST(test_ascii_goes_to_the_stream)
{
    PlotSeries s[] = {{.label = "loss", .n = 5, .x = xs, .y = ys}};
    const int64_t widths[] = {0, 60};
    for (int k = 0; k < 2; k++) {
        char *text = ascii(1, s, PLOT_OPTIONS(.width = widths[k]));
        int64_t widest = 0, col = 0, lines = 0;
        for (const char *p = text; *p; p++) {
            ck_assert(*p != '\f');
            col = *p == '\n' ? 0 : col + 1;
            lines += *p == '\n';
            if (col > widest) widest = col;
        }
        ck_assert_int_eq(widest, widths[k] ? widths[k] : 80);
        ck_assert_int_eq(lines, 24);
        free(text);
    }
    ck_assert_int_eq(plot_lines_ascii(NULL, 1, s, PLOT_OPTIONS()), -1);
    ck_assert_int_eq(plot_lines_ascii(stdout, 1, s, PLOT_OPTIONS(.width = 5)), -1);
}
END_TEST

/* The series are checked before anything runs. */
START_TEST(test_bad_series_are_refused)
{
    const char *path = scratch_file("x.png");
    PlotSeries none[] = {{.label = "empty", .n = 0, .y = ys}};
    ck_assert_int_eq(plot_lines(path, 1, none, PLOT_OPTIONS()), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "nothing to draw"));
    PlotSeries red[] = {{.n = 5, .y = ys, .color = "red"}};
    ck_assert_int_eq(plot_lines(path, 1, red, PLOT_OPTIONS()), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "colour 'red' is not #rrggbb"));
    PlotSeries both[] = {{.n = 5, .y = ys, .csv = "x.csv", .y_column = "y"}};
    ck_assert_int_eq(plot_lines(path, 1, both, PLOT_OPTIONS()), -1);
    ck_assert_int_eq(plot_lines(path, 0, none, PLOT_OPTIONS()), -1);
    ck_assert_int_eq(plot_lines(scratch_file("x.gif"), 1, red, PLOT_OPTIONS()), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: the name must end in .png, .svg or .pdf", scratch_file("x.gif"));
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_int_eq(scratch_count(), 0);
}
END_TEST

/* ---- heatmaps --------------------------------------------------------------------- */

/* The script of a heatmap of 2 panels of 2 x 2 cells, into buf. */
static const char *heatmap_script(PlotHeatmapOptions o)
{
    static char buf[16384];
    static const float v[8] = {0.1f, 0.2f, 0.3f, 0.4f, 2, NAN, 4, 8};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    plot__heatmap_script(f, "pngcairo", 2, 2, 2, v, &o);
    fclose(f);
    return buf;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

START_TEST(test_heatmap_scales)
{
    /* Shared (the default): min to max of every panel, one bar. */
    const char *s = heatmap_script(PLOT_HEATMAP_OPTIONS(.title = "t"));
    ck_assert_int_eq(count(s, "set cbrange [0.100000001:8]"), 2);
    ck_assert_int_eq(count(s, "set colorbox user"), 1);
    ck_assert_int_eq(count(s, "unset colorbox"), 1);
    ck_assert_int_eq(count(s, "own colour scale"), 0);
    /* Fixed: as given. */
    s = heatmap_script(PLOT_HEATMAP_OPTIONS(.scale = PLOT_SCALE_FIXED, .min = 0, .max = 10));
    ck_assert_int_eq(count(s, "set cbrange [0:10]"), 2);
    ck_assert_int_eq(count(s, "set colorbox user"), 1);
    /* Each panel its own, a bar each, and the figure says so. */
    s = heatmap_script(PLOT_HEATMAP_OPTIONS(.title = "t", .scale = PLOT_SCALE_PER_PANEL));
    ck_assert_int_eq(count(s, "set cbrange [0.100000001:0.400000006]"), 1);
    ck_assert_int_eq(count(s, "set cbrange [2:8]"), 1);
    ck_assert_int_eq(count(s, "set colorbox default"), 2);
    ck_assert_int_eq(count(s, "(each panel has its own colour scale)"), 1);
    /* A fixed scale must be a range. */
    float v[4] = {0};
    ck_assert_int_eq(plot_heatmap(scratch_file("h.png"), 1, 2, 2, v,
                                  PLOT_HEATMAP_OPTIONS(.scale = PLOT_SCALE_FIXED, .min = 1,
                                                       .max = 1)),
                     -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "a fixed colour scale from 1 to 1"));
}
END_TEST

/* Pictures of each scale rule, NaN cells empty (looked at by hand too:
 * build/tests/test_plot keeps them when PLOT_KEEP names a folder). */
START_TEST(test_heatmap_pictures)
{
    enum { P = 3, T = 5 };
    float v[P * T * T];
    for (int p = 0; p < P; p++)
        for (int r = 0; r < T; r++)
            for (int c = 0; c < T; c++)
                v[(p * T + r) * T + c] = c > r ? NAN : (float)(p + 1) * (float)(r + c + 1);
    const char *rows[T] = {"Your", "journey", "starts", "with", "100%"};
    const char *titles[P] = {"head 0", "head 1", "head 2"};
    const char *keep = getenv("PLOT_KEEP");
    for (int scale = 0; scale < 3; scale++) {
        char name[64], path[700];
        snprintf(name, sizeof name, "heatmap%d.png", scale);
        snprintf(path, sizeof path, "%s/%s", keep ? keep : scratch_dir(), name);
        PlotHeatmapOptions o = PLOT_HEATMAP_OPTIONS(
            .title = "weights", .xlabel = "key", .ylabel = "query", .panel_titles = titles,
            .row_labels = rows, .col_labels = rows, .scale = (PlotScale)scale, .min = 0, .max = 40);
        ck_assert_msg(plot_heatmap(path, P, T, T, v, o) == 0, "%s", tensor_error());
        size_t n;
        char *png = testutil_read_file(path, &n);
        ck_assert(n > 2000 && memcmp(png, "\x89PNG", 4) == 0);
        free(png);
    }
    /* From a tensor: (rows, cols) and (panels, rows, cols); 4 dims refused. */
    Tensor *t = tensor_from_data(v, SHAPE(P, T, T));
    ck_assert_int_eq(plot_heatmap_tensor(scratch_file("t3.svg"), t, PLOT_HEATMAP_OPTIONS()), 0);
    ck_assert_int_eq(plot_heatmap_tensor(scratch_file("t2.pdf"), tensor_squeeze(tensor_narrow(t, 0, 1, 1), 0),
                                         PLOT_HEATMAP_OPTIONS()), 0);
    ck_assert_int_eq(plot_heatmap_tensor(scratch_file("t4.png"), tensor_view(t, SHAPE(1, P, T, T)),
                                         PLOT_HEATMAP_OPTIONS()), -1);
    ck_assert_int_eq(plot_heatmap(scratch_file("big.png"), 1, 300, 2, v, PLOT_HEATMAP_OPTIONS()), -1);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* ---- gnuplot missing or failing, and the outputs' rules ---------------------------- */

START_TEST(test_missing_gnuplot_says_how_to_install_it)
{
    char *path_env = strdup(getenv("PATH"));
    setenv("PATH", "", 1);
    const char *png = scratch_file("x.png");
    PlotSeries s[] = {{.n = 5, .y = ys}};
    int rc = plot_lines(png, 1, s, PLOT_OPTIONS());
    char want[700];
    snprintf(want, sizeof want, "%s: gnuplot is not installed (apt-get install gnuplot-nox)", png);
    setenv("PATH", path_env, 1);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(tensor_error(), want);
    setenv("PATH", "/nonexistent", 1);
    rc = plot_graph(tensor_sum(tensor_ones(SHAPE(2))), scratch_file("g.png"));
    setenv("PATH", path_env, 1);
    free(path_env);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "dot is not installed (apt-get install graphviz)"));
    ck_assert_int_eq(scratch_count(), 0);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* gnuplot's own complaint (all points of a log scale undefined) becomes one
 * line that names the user's path, not a temporary file or the script. */
START_TEST(test_gnuplot_failure_is_one_line)
{
    const char *png = scratch_file("neg.png");
    PlotSeries s[] = {{.n = 3, .y = (const double[]){-1, -2, -3}}};
    ck_assert_int_eq(plot_lines(png, 1, s, PLOT_OPTIONS(.logy = true)), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: gnuplot failed: all points y value undefined!", png);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_int_eq(scratch_count(), 0);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* A FIFO and a link to /dev/null as the picture's path: refused before
 * gnuplot runs, and still what they were. */
START_TEST(test_outputs_follow_the_safe_output_rules)
{
    PlotSeries s[] = {{.n = 5, .y = ys}};
    const char *fifo = scratch_file("fifo.png"), *null = scratch_file("null.svg");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(symlink("/dev/null", null), 0);
    char want[700];
    ck_assert_int_eq(plot_lines(fifo, 1, s, PLOT_OPTIONS()), -1);
    snprintf(want, sizeof want, "%s: is a FIFO; only a regular file is replaced", fifo);
    ck_assert_str_eq(tensor_error(), want);
    float v[4] = {1, 2, 3, 4};
    ck_assert_int_eq(plot_heatmap(null, 1, 2, 2, v, PLOT_HEATMAP_OPTIONS()), -1);
    snprintf(want, sizeof want, "%s: is a character device; only a regular file is replaced", null);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_int_eq(plot_graph(tensor_sum(tensor_ones(SHAPE(2))), null), -1);
    struct stat st;
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    ck_assert_int_eq(plot_check_path(fifo), -1);
    ck_assert_int_eq(plot_check_path(scratch_file("ok.pdf")), 0);
    ck_assert_int_eq(scratch_count(), 2);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

/* A private folder of a process killed before it could remove its own is
 * removed by the next picture; a live process's stays. */
START_TEST(test_stale_private_folders_are_removed)
{
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    char stale[700], live[700];
    snprintf(stale, sizeof stale, "%s/attograd-plot-%d-AbCdEf", tmpdir, (int)child);
    snprintf(live, sizeof live, "%s/attograd-plot-%d-AbCdEf", tmpdir, (int)getppid());
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    ck_assert_int_eq(mkdir(live, 0700), 0);
    char inner[800];
    snprintf(inner, sizeof inner, "%s/series0.dat", stale);
    write_file(inner, "1 2 NaN\n");
    PlotSeries s[] = {{.n = 5, .y = ys}};
    free(ascii(1, s, PLOT_OPTIONS()));
    ck_assert_int_eq(access(stale, F_OK), -1);
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(leftovers(), 1);
}
END_TEST

/* ---- PlotCsv ------------------------------------------------------------------------ */

START_TEST(test_run_csv)
{
    const char *path = scratch_file("run.csv");
    PlotCsv *c = plot_csv_open(path, "step,loss");
    ck_assert_ptr_nonnull(c);
    ck_assert(!scratch_exists("run.csv"));
    ck_assert_int_eq(plot_csv_row(c, "%d,%.3f", 0, 2.5), 0);
    /* The first row is written at once; later ones within the second wait. */
    ck_assert_str_eq(testutil_read_text(path), "step,loss\n0,2.500\n");
    ck_assert_int_eq(plot_csv_row(c, "%d,%.3f", 1, 2.0), 0);
    ck_assert_int_eq(plot_csv_row(c, "%d,%.3f", 2, 1.5), 0);
    ck_assert_int_eq(plot_csv_sync(c), 0);
    ck_assert_str_eq(testutil_read_text(path), "step,loss\n0,2.500\n1,2.000\n2,1.500\n");
    ck_assert_int_eq(plot_csv_close(c), 0);
    /* A resumed run takes over the rows its checkpoint covers. */
    c = plot_csv_open(path, "step,loss");
    ck_assert_int_eq(plot_csv_keep(c, 1), 2);
    ck_assert_int_eq(plot_csv_row(c, "2,%.3f", 1.25), 0);
    ck_assert_int_eq(plot_csv_close(c), 0);
    ck_assert_str_eq(testutil_read_text(path), "step,loss\n0,2.500\n1,2.000\n2,1.250\n");
    /* Another CSV's header is not taken over; no file keeps nothing. */
    c = plot_csv_open(path, "step,train,val");
    ck_assert_int_eq(plot_csv_keep(c, 10), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "not this run's CSV"));
    plot_csv_close(c);
    c = plot_csv_open(scratch_file("new.csv"), "a,b");
    ck_assert_int_eq(plot_csv_keep(c, 10), 0);
    plot_csv_close(c);
    ck_assert_str_eq(testutil_read_text(scratch_file("new.csv")), "a,b\n");
    /* A FIFO is refused when opened. */
    ck_assert_int_eq(mkfifo(scratch_file("fifo.csv"), 0600), 0);
    ck_assert_ptr_null(plot_csv_open(scratch_file("fifo.csv"), "a"));
    ck_assert_int_eq(plot_csv_close(NULL), 0);
}
END_TEST

/* kill -9 while rows come: the file holds whole rows, the temporary file a
 * write may have left is removed by the next run's first write. */
START_TEST(test_run_csv_survives_kill)
{
    const char *path = scratch_file("killed.csv");
    pid_t child = fork();
    if (child == 0) {
        PlotCsv *c = plot_csv_open(path, "step,loss");
        for (long step = 0;; step++) plot_csv_row(c, "%ld,%.9g", step, 1.0 / (double)(step + 1));
    }
    for (int i = 0; i < 400 && !scratch_exists("killed.csv"); i++) usleep(5000);
    usleep(1500000);   /* a second write or so */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    size_t n;
    char *text = testutil_read_file(path, &n);
    ck_assert(n > 10 && text[n - 1] == '\n');
    ck_assert(strncmp(text, "step,loss\n0,1\n", 14) == 0);
    long rows = 0;
    for (size_t i = 0; i < n; i++) rows += text[i] == '\n';
    free(text);
    PlotCsv *c = plot_csv_open(path, "step,loss");
    ck_assert_int_eq(plot_csv_keep(c, 1e18), rows - 1);
    ck_assert_int_eq(plot_csv_close(c), 0);
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

/* ---- the progress bar and the graph picture ------------------------------------------ */

START_TEST(test_progress_bar)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    PlotProgress *p = plot_progress_new(f, true, 0, 10);
    plot_progress_step(p, 1, 64);
    plot_progress_clear(p);
    plot_progress_step(p, 10, 64);
    plot_progress_free(p);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "\r[####....................................]     1/10  "));
    ck_assert_ptr_nonnull(strstr(buf, " tok/s  ETA "));
    ck_assert_ptr_nonnull(strstr(buf, "]    10/10  "));
    ck_assert(buf[len - 1] == '\r');   /* cleared at the end */
    free(buf);
    /* Not drawn: nothing written. */
    buf = NULL;
    f = open_memstream(&buf, &len);
    p = plot_progress_new(f, false, 0, 10);
    plot_progress_step(p, 10, 0);
    plot_progress_free(p);
    fclose(f);
    ck_assert_uint_eq(len, 0);
    free(buf);
    ck_assert_ptr_null(plot_progress_new(NULL, true, 0, 1));
    char d[16];
    ck_assert_str_eq(plot_duration(3725, d, sizeof d), "1h02m");
    ck_assert_str_eq(plot_duration(185, d, sizeof d), "3m05s");
    ck_assert_str_eq(plot_duration(42, d, sizeof d), "42s");
}
END_TEST

START_TEST(test_graph_picture)
{
    Tensor *w = tensor_set_name(tensor_requires_grad_(tensor_ones(SHAPE(2, 2)), true), "W_'q'");
    Tensor *loss = tensor_sum(tensor_mul(w, w));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_msg(plot_graph(loss, scratch_file("g.dot")) == 0, "%s", tensor_error());
    ck_assert_msg(plot_graph(loss, scratch_file("g.png")) == 0, "%s", tensor_error());
    size_t n;
    char *dot = testutil_read_file(scratch_file("g.dot"), &n);
    ck_assert(strncmp(dot, "digraph", 7) == 0);
    free(dot);
    char *png = testutil_read_file(scratch_file("g.png"), &n);
    ck_assert(n > 1000 && memcmp(png, "\x89PNG", 4) == 0);
    free(png);
    ck_assert_int_eq(plot_graph(loss, scratch_file("g.ps")), -1);
    ck_assert_int_eq(plot_graph(NULL, scratch_file("h.png")), -1);
    ck_assert_int_eq(scratch_count(), 2);
    ck_assert_int_eq(leftovers(), 0);
}
END_TEST

static Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_strings_are_escaped);
    tcase_add_test(tc, test_hostile_labels_are_drawn_as_given);
    tcase_add_test(tc, test_tic_labels_keep_their_percent_signs);
    tcase_add_test(tc, test_arrays_and_csv_draw_the_same);
    tcase_add_loop_test(tc, test_csv_faults_are_named, 0, sizeof bad_csvs / sizeof *bad_csvs);
    tcase_add_test(tc, test_csv_input_must_be_a_file);
    tcase_add_test(tc, test_ascii_goes_to_the_stream);
    tcase_add_test(tc, test_bad_series_are_refused);
    tcase_add_test(tc, test_heatmap_scales);
    tcase_add_test(tc, test_heatmap_pictures);
    tcase_add_test(tc, test_missing_gnuplot_says_how_to_install_it);
    tcase_add_test(tc, test_gnuplot_failure_is_one_line);
    tcase_add_test(tc, test_outputs_follow_the_safe_output_rules);
    tcase_add_test(tc, test_stale_private_folders_are_removed);
    tcase_add_test(tc, test_run_csv);
    tcase_add_test(tc, test_run_csv_survives_kill);
    tcase_add_test(tc, test_progress_bar);
    tcase_add_test(tc, test_graph_picture);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(plot_suite)
