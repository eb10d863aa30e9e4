/*
 * plot_backward_page: the page's content, that it points at nothing
 * outside itself, and its refusals.
 *
 * Content: the page's JSON block (read back with json-c) holds every
 * tensor of the graph with the run's numbers as the walk-throughs print
 * them (a parameter's gradient cells equal tensor_grad_pair_format of its
 * .grad after the page's backward), its estimate and verdict, and the
 * engine's steps.  Self-contained: no "http", no src=, href=, url(),
 * @import, link, img, iframe, object, embed or base anywhere in the file,
 * for a user's model and for both walk-throughs' pages (written by the
 * programs), even when a tensor's name and the title carry markup; one
 * inline SVG and exactly two scripts.
 *
 * Refusals, each with a message naming the path, nothing written and the
 * backward not run (the leaves' .grad still NULL): a folder, a FIFO, a link
 * to nothing, a missing folder, another extension, a graph of more than
 * PLOT_PAGE_MAX_TENSORS tensors, a bad note, no dot on the PATH.  A
 * tensor larger than PLOT_PAGE_WHOLE is shown by its norms.  A write that
 * fails midway (a file size limit standing in for a full disk) leaves the
 * old file as it was and no temporary file.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

static char out[1 << 20], err[8192];

static void setup(void)
{
    scratch_make("page");
    tmpdir_make();
}

static void teardown(void)
{
    int left = tmpdir_count();
    tmpdir_remove();
    scratch_remove();
    ck_assert_int_eq(left, 0);                 /* no private folder of dot's left */
}

/* ---- a user's own model: two named weights, a tensor used twice ------------------- */

typedef struct {
    Tensor *x, *w1, *w2, *target;
} Model;

static Tensor *model_loss(void *ctx)
{
    Model *m = ctx;
    Tensor *h = tensor_set_name(tensor_tanh(tensor_matmul(m->x, m->w1)), "h");
    Tensor *y = tensor_add(tensor_matmul(h, m->w2), tensor_mean_dim(h, -1, true));
    return tensor_set_name(tensor_mse_loss(y, m->target), "loss");
}

static Model model(const char *w1_name)
{
    tensor_manual_seed(5);
    Model m = {tensor_set_name(tensor_rand(SHAPE(4, 3)), "x"),
               tensor_set_name(tensor_requires_grad_(tensor_randn(SHAPE(3, 5)), true), w1_name),
               tensor_set_name(tensor_requires_grad_(tensor_randn(SHAPE(5, 2)), true),
                               "layer.2.weight"),
               tensor_rand(SHAPE(4, 2))};
    return m;
}

/* The page's JSON block, parsed. */
static json_object *page_data(const char *text)
{
    const char *open = "<script type=\"application/json\" id=\"trace\">";
    const char *start = strstr(text, open), *end = start ? strstr(start, "</script>") : NULL;
    ck_assert_msg(start && end, "no data block");
    start += strlen(open);
    char *json = strndup(start, (size_t)(end - start));
    json_object *o = json_tokener_parse(json);
    ck_assert_msg(o != NULL, "the data block is not JSON");
    free(json);
    return o;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
    return v;
}

/* The tensor of the page named name. */
static json_object *tensor_named(json_object *data, const char *name)
{
    json_object *ts = get(data, "tensors");
    for (size_t i = 0; i < json_object_array_length(ts); i++) {
        json_object *t = json_object_array_get_idx(ts, i), *n = get(t, "name");
        if (n && strcmp(json_object_get_string(n), name) == 0) return t;
    }
    ck_abort_msg("no tensor %s on the page", name);
    return NULL;
}

/* Nothing in the file points outside it.  names_with_markup: a tensor's
 * name carries "src=" and "http" as text (escaped in the SVG), so only the
 * tags are looked for. */
static void assert_self_contained(const char *text, const char *what, bool names_with_markup)
{
    static const char *const refs[] = {"<link", "<img", "<iframe", "<object", "<embed", "<base",
                                       "@import", "url(", "http", "src=", "href"};
    char *lower = strdup(text);
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < (names_with_markup ? 8 : sizeof refs / sizeof *refs); i++)
        ck_assert_msg(strstr(lower, refs[i]) == NULL, "%s: '%s' at ...%.60s", what, refs[i],
                      strstr(lower, refs[i]));
    int scripts = 0, closes = 0, svgs = 0;
    for (const char *p = lower; (p = strstr(p, "<script")); p++) scripts++;
    for (const char *p = lower; (p = strstr(p, "</script")); p++) closes++;
    for (const char *p = lower; (p = strstr(p, "<svg")); p++) svgs++;
    ck_assert_int_eq(scripts, 2);           /* the data and the page's own script */
    ck_assert_int_eq(closes, 2);
    ck_assert_int_eq(svgs, 1);
    free(lower);
}

START_TEST(test_page_of_your_own_model)
{
    Model m = model("layer.1.weight");
    Tensor *loss = model_loss(&m);
    const char *path = scratch_file("mine.html");
    PlotPageNote note = {.tensor = m.w2, .formula = "d_w2 = h^T @ d_y", .why = "y = h @ w2 + ..."};
    PlotPageOptions o = PLOT_PAGE_OPTIONS(.title = "Mine", .intro = "Two layers.",
                                          .notes = &note, .n_notes = 1, .forward = model_loss,
                                          .forward_ctx = &m);
    ck_assert_msg(plot_backward_page(loss, path, o) == 0, "%s", tensor_error());
    ck_assert_ptr_nonnull(m.w1->grad);                  /* the page ran the backward */
    size_t n;
    char *text = testutil_read_file(path, &n);
    ck_assert(strncmp(text, "<!DOCTYPE html>\n", 16) == 0);
    ck_assert_msg(n < 100000, "%zu bytes", n);
    assert_self_contained(text, "mine.html", false);
    json_object *data = page_data(text);
    ck_assert_str_eq(json_object_get_string(get(data, "title")), "Mine");
    /* The weights' cells: its .grad as the walk-throughs print it, its scale. */
    json_object *w1 = tensor_named(data, "layer.1.weight"), *g = get(w1, "grad");
    ck_assert_str_eq(json_object_get_string(get(w1, "kind")), "parameter");
    ck_assert_str_eq(json_object_get_string(get(w1, "shape")), "(3,5)");
    TensorGradPair p;
    ck_assert_int_eq(tensor_grad_pair(m.w1->grad, m.w1->grad, &p), 0);
    json_object *a = get(g, "a");
    ck_assert_int_eq(json_object_array_length(a), 15);
    for (int i = 0; i < 15; i++) {
        char s[64];
        tensor_grad_pair_format(&p, m.w1->grad->data[i], s, sizeof s);
        ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, (size_t)i)), s);
    }
    /* Its estimate is the library's own (the model gave no numeric), and agrees. */
    ck_assert(json_object_get_boolean(get(g, "agree")));
    ck_assert_ptr_nonnull(strstr(json_object_get_string(get(g, "how")), "tensor_numeric_grad"));
    /* The note's formula; no estimate of its own: one by the library. */
    json_object *w2 = tensor_named(data, "layer.2.weight");
    ck_assert_str_eq(json_object_get_string(get(get(w2, "note"), "formula")), "d_w2 = h^T @ d_y");
    ck_assert(json_object_get_boolean(get(get(w2, "grad"), "agree")));
    /* h is used twice: two parts, the second added. */
    json_object *steps = get(data, "steps");
    int64_t h_id = -1;
    json_object *ts = get(data, "tensors");
    for (size_t i = 0; i < json_object_array_length(ts); i++) {
        json_object *nm = get(json_object_array_get_idx(ts, i), "name");
        if (nm && strcmp(json_object_get_string(nm), "h") == 0) h_id = (int64_t)i;
    }
    int parts = 0, added = 0;
    for (size_t s = 0; s < json_object_array_length(steps); s++) {
        json_object *sent = get(json_object_array_get_idx(steps, s), "sent");
        for (size_t i = 0; i < json_object_array_length(sent); i++) {
            json_object *d = json_object_array_get_idx(sent, i);
            if (json_object_get_int64(get(d, "to")) != h_id) continue;
            parts++;
            added += json_object_get_boolean(get(d, "acc"));
        }
    }
    ck_assert_int_eq(parts, 2);
    ck_assert_int_eq(added, 1);
    json_object_put(data);
    free(text);
}
END_TEST

/* A ReLU's input within the step of 0: the page's own estimate is wrong
 * there, says so, and marks that cell (and only cells that differ). */
static Tensor *kink_loss(void *ctx)
{
    Tensor *w = ctx;
    return tensor_sum(tensor_relu(tensor_mul_scalar(w, 1.0f)));
}

START_TEST(test_a_kink_is_marked)
{
    float v[3] = {0.5f, 0.004f, -0.7f};            /* 0.004: within 2e-2 of the kink */
    Tensor *w = tensor_set_name(tensor_requires_grad_(tensor_from_data(v, SHAPE(3)), true), "w");
    const char *path = scratch_file("kink.html");
    ck_assert_int_eq(plot_backward_page(kink_loss(w), path,
                                        PLOT_PAGE_OPTIONS(.forward = kink_loss, .forward_ctx = w)),
                     0);
    char *text = testutil_read_text(path);
    json_object *data = page_data(text), *g = get(tensor_named(data, "w"), "grad");
    ck_assert(!json_object_get_boolean(get(g, "agree")));
    ck_assert_ptr_nonnull(strstr(json_object_get_string(get(g, "verdict")), "DISAGREE"));
    ck_assert_str_eq(json_object_to_json_string(get(g, "bad")), "[ 1 ]");
    json_object_put(data);
}
END_TEST

/* A name or a title with markup stays text: the page's scripts and SVG are still its own. */
START_TEST(test_markup_in_names_stays_text)
{
    Model m = model("</script><script>alert(1)</script><img src=x onerror=alert(2)>");
    Tensor *loss = model_loss(&m);
    const char *path = scratch_file("hostile.html");
    PlotPageOptions o = PLOT_PAGE_OPTIONS(.title = "<b>bold</b> & \"quoted\"</title>",
                                          .intro = "</script>");
    ck_assert_msg(plot_backward_page(loss, path, o) == 0, "%s", tensor_error());
    char *text = testutil_read_text(path);
    assert_self_contained(text, "hostile.html", true);
    ck_assert_ptr_nonnull(strstr(text, "<title>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"
                                       "&lt;/title&gt;</title>"));
    json_object *data = page_data(text);
    ck_assert_str_eq(json_object_get_string(get(data, "intro")), "</script>");
    tensor_named(data, "</script><script>alert(1)</script><img src=x onerror=alert(2)>");
    json_object_put(data);
}
END_TEST

/* The walk-throughs' pages, written by the programs: self-contained, small. */
START_TEST(test_example_pages_are_self_contained)
{
    const char *progs[] = {"backprop_attention", "backprop_block"};
    for (int i = 0; i < 2; i++) {
        const char *args[] = {"--summary", "--html", "p.html", NULL};
        ck_assert_msg(program_run(progs[i], args, out, sizeof out, err, sizeof err) == 0, "%s",
                      err);
        ck_assert_ptr_nonnull(strstr(out, "page: p.html ("));
        size_t n;
        char *text = testutil_read_file(scratch_file("p.html"), &n);
        assert_self_contained(text, progs[i], false);
        ck_assert_msg(n < 200000, "%s: %zu bytes", progs[i], n);
        free(text);
        remove(scratch_file("p.html"));
    }
}
END_TEST

/* ---- refusals ------------------------------------------------------------------------ */

/* plot_backward_page(loss, path) fails with a message that starts with
 * path and contains want; the backward has not run; no file appeared. */
static void assert_refused(const char *path, PlotPageOptions o, const char *want)
{
    Model m = model("w1");
    int before = scratch_count();
    ck_assert_int_eq(plot_backward_page(model_loss(&m), path, o), -1);
    ck_assert_msg(strncmp(tensor_error(), path, strlen(path)) == 0 &&
                  strstr(tensor_error(), want) != NULL, "%s: %s", path, tensor_error());
    ck_assert_ptr_null(m.w1->grad);
    ck_assert_int_eq(scratch_count(), before);
}

START_TEST(test_paths_that_are_not_regular_files)
{
    ck_assert_int_eq(mkdir(scratch_file("dir.html"), 0700), 0);
    ck_assert_int_eq(mkfifo(scratch_file("fifo.html"), 0600), 0);
    ck_assert_int_eq(symlink("/nonexistent/x", scratch_file("dangling.html")), 0);
    PlotPageOptions o = PLOT_PAGE_OPTIONS();
    assert_refused(scratch_file("dir.html"), o, "folder");
    assert_refused(scratch_file("fifo.html"), o, "is a FIFO; only a regular file is replaced");
    assert_refused(scratch_file("dangling.html"), o, "link");
    assert_refused(scratch_file("nodir/p.html"), o, "does not exist");
    assert_refused(scratch_file("p.png"), o, "the name must end in .html or .htm");
    struct stat st;
    ck_assert_int_eq(lstat(scratch_file("fifo.html"), &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

START_TEST(test_bad_notes)
{
    Tensor *stranger = tensor_ones(SHAPE(2));
    Model m = model("w1");
    PlotPageNote away = {.tensor = stranger};
    assert_refused(scratch_file("p.html"), PLOT_PAGE_OPTIONS(.notes = &away, .n_notes = 1),
                   "note 0: its tensor is not in the graph behind the loss");
    /* An estimate of another size than its tensor. */
    Model again = model("w1");
    Tensor *loss = model_loss(&again);
    PlotPageNote wrong = {.tensor = again.w1, .numeric = stranger};
    ck_assert_int_eq(plot_backward_page(loss, scratch_file("p.html"),
                                        PLOT_PAGE_OPTIONS(.notes = &wrong, .n_notes = 1)), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "note 0: the estimate (2) has not the 15 "
                                                 "elements of the tensor (3,5)"));
    ck_assert_ptr_null(again.w1->grad);
    (void)m;
}
END_TEST

/* A model too big for a page: the message says how big and where the limit is. */
START_TEST(test_a_graph_too_big_for_a_page)
{
    Tensor *w = tensor_requires_grad_(tensor_ones(SHAPE(2)), true), *t = w;
    for (int i = 0; i < 450; i++) t = tensor_mul_scalar(t, 1.0f);
    const char *path = scratch_file("big.html");
    ck_assert_int_eq(plot_backward_page(tensor_sum(t), path, PLOT_PAGE_OPTIONS()), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s: the graph behind the loss has 452 tensors; a page draws at "
             "most 400 (PLOT_PAGE_MAX_TENSORS): make one of a smaller model (fewer layers, a "
             "shorter input), or draw the graph alone with plot_graph", path);
    ck_assert_str_eq(tensor_error(), want);
    ck_assert_ptr_null(w->grad);
    ck_assert_int_eq(scratch_count(), 0);
}
END_TEST

/* Tensors past PLOT_PAGE_WHOLE elements, and past the page's budget of
 * numbers, are shown by their norms. */
START_TEST(test_large_tensors_by_their_norms)
{
    Tensor *big = tensor_set_name(tensor_requires_grad_(tensor_full(0.5f, SHAPE(5000)), true),
                                  "big");
    Tensor *loss = tensor_sum(tensor_mul(big, big));
    /* Many tensors of 4000 elements: whole ones until the budget, then norms. */
    Tensor *many[12];
    for (int i = 0; i < 12; i++) {
        many[i] = tensor_requires_grad_(tensor_full(1.0f, SHAPE(4000)), true);
        loss = tensor_add(loss, tensor_sum(many[i]));
    }
    const char *path = scratch_file("norms.html");
    ck_assert_msg(plot_backward_page(loss, path, PLOT_PAGE_OPTIONS()) == 0, "%s", tensor_error());
    size_t n;
    char *text = testutil_read_file(path, &n);
    ck_assert_msg(n < 2000000, "%zu bytes", n);
    json_object *data = page_data(text), *b = tensor_named(data, "big");
    ck_assert(!json_object_get_boolean(get(b, "whole")));
    ck_assert(json_object_is_type(get(b, "value"), json_type_null));
    ck_assert(json_object_is_type(get(b, "grad"), json_type_null));
    char norm[32];
    snprintf(norm, sizeof norm, "%#.4g", tensor_l2_norm(big->grad));   /* 2 * 0.5 * sqrt(5000) */
    ck_assert_str_eq(json_object_get_string(get(b, "grad_norm")), norm);
    int whole = 0, norms = 0;
    json_object *ts = get(data, "tensors");
    for (size_t i = 0; i < json_object_array_length(ts); i++) {
        json_object *t = json_object_array_get_idx(ts, i);
        if (json_object_get_int64(get(t, "numel")) != 4000) continue;
        if (json_object_get_boolean(get(t, "whole"))) whole++;
        else norms++;
    }
    ck_assert_int_gt(whole, 0);
    ck_assert_int_gt(norms, 0);
    json_object_put(data);
    free(text);
}
END_TEST

/* Without dot: the install line, and nothing ran or was written. */
START_TEST(test_without_dot)
{
    char *path_env = strdup(getenv("PATH"));
    setenv("PATH", "", 1);
    assert_refused(scratch_file("p.html"), PLOT_PAGE_OPTIONS(),
                   "dot is not installed (apt-get install graphviz)");
    setenv("PATH", path_env, 1);
    free(path_env);
}
END_TEST

/* A write that fails midway (the file size limit, as a full disk): the
 * page that was there stays, whole, and no temporary file is left. */
START_TEST(test_a_failed_write_leaves_the_old_page)
{
    const char *path = scratch_file("p.html");
    FILE *f = fopen(path, "w");
    fputs("the old page\n", f);
    fclose(f);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {20000, 20000};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);       /* this forked test only */
    Model m = model("w1");
    ck_assert_int_eq(plot_backward_page(model_loss(&m), path, PLOT_PAGE_OPTIONS()), -1);
    ck_assert_msg(strncmp(tensor_error(), path, strlen(path)) == 0, "%s", tensor_error());
    char *text = testutil_read_text(path);
    ck_assert_str_eq(text, "the old page\n");
    ck_assert_int_eq(scratch_count(), 1);
}
END_TEST

/* The line the backprop programs print after their page: the size rounded
 * up to whole KB; a missing page prints nothing and says why. */
START_TEST(test_page_report)
{
    FILE *f = fopen(scratch_file("p.html"), "wb");
    for (int i = 0; i < 1025; i++) fputc('x', f);
    fclose(f);
    char line[256] = "";
    FILE *out = fmemopen(line, sizeof line, "w");
    ck_assert_int_eq(plot_page_report(out, scratch_file("p.html")), 0);
    ck_assert_int_eq(plot_page_report(out, scratch_file("absent.html")), -1);
    fclose(out);
    char want[512];
    snprintf(want, sizeof want, "page: %s (2 KB; open it in a browser)\n",
             scratch_file("p.html"));
    ck_assert_str_eq(line, want);
    snprintf(want, sizeof want, "plot_page_report: %s: No such file or directory",
             scratch_file("absent.html"));
    ck_assert_str_eq(tensor_error(), want);
    tensor_clear_error();
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("page");
    TCase *tc = tcase_create("page");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_page_of_your_own_model);
    tcase_add_test(tc, test_markup_in_names_stays_text);
    tcase_add_test(tc, test_a_kink_is_marked);
    tcase_add_test(tc, test_example_pages_are_self_contained);
    tcase_add_test(tc, test_paths_that_are_not_regular_files);
    tcase_add_test(tc, test_bad_notes);
    tcase_add_test(tc, test_a_graph_too_big_for_a_page);
    tcase_add_test(tc, test_large_tensors_by_their_norms);
    tcase_add_test(tc, test_without_dot);
    tcase_add_test(tc, test_a_failed_write_leaves_the_old_page);
    tcase_add_test(tc, test_page_report);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(make_suite)
