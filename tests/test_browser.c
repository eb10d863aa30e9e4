/*
 * The backward pages as a person uses them, in a real headless Chromium
 * (Debian's chromium, driven through its DevTools protocol: tests/cdp.c).
 *
 * backprop_attention and backprop_block write their page (--html) and their
 * numbers (--dump) in one run.  The test opens the page, clicks a
 * parameter's box in the graph (a mouse press and release at the box's
 * centre, as a click reaches the page), reads the gradient the page then
 * shows, and asserts that every cell equals the program's value printed to
 * the page's digits (tensor_grad_pair_format of the --dump values, with the
 * same scale), and so does its estimate column.  Then it presses Step until
 * the button is disabled, asserting the step label and that no box still
 * waits for its gradient; the block's walk must show a gradient added to
 * one that had arrived before (the residual's +, norm1 feeding three
 * projections), and a row of its attention weights explains the masked
 * places.  Screenshots at the first and the last step, and of a softmax
 * row explained, are kept in build/tests/ (page-attention-first.png,
 * -last.png, -softmax.png; page-block-*.png, and page-block-x.png: x's two
 * parts and their sum).
 *
 * Without chromium the program prints why and exits 77, which meson counts
 * as skipped (./run test installs chromium when it can).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "program_run.h"
#include "testutil.h"

static char out[1 << 20], err[8192];

static void setup(void) { scratch_make("browser"); }
static void teardown(void) { scratch_remove(); }

static Cdp *open_page(const char *name)
{
    char why[512], url[4200];
    Cdp *c = cdp_start(1500, 1000, why, sizeof why);
    ck_assert_msg(c != NULL, "%s", why);
    snprintf(url, sizeof url, "file://%s", scratch_file(name));
    ck_assert_msg(cdp_open(c, url) == 0, "%s", cdp_error(c));
    return c;
}

/* The value of a JavaScript expression, as JSON text (freed by the caller). */
static char *eval(Cdp *c, const char *js)
{
    char *v = cdp_eval(c, js);
    ck_assert_msg(v != NULL, "%s", cdp_error(c));
    return v;
}

/* How long the page took to open, from the navigation to its load event
 * with the script run (measured, not asserted: the machine may be busy). */
static void print_load_time(Cdp *c, const char *name)
{
    char *ms = eval(c, "Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)");
    printf("%s: opened in %s ms\n", name, ms);
    free(ms);
}

static void click(Cdp *c, const char *element)
{
    double xy[2];
    ck_assert_msg(cdp_center(c, element, xy) == 0, "%s", cdp_error(c));
    ck_assert_msg(cdp_click(c, xy[0], xy[1]) == 0, "%s", cdp_error(c));
}

/* The graph's box whose label has a line that reads name. */
static void click_box(Cdp *c, const char *name)
{
    char js[512];
    snprintf(js, sizeof js,
             "[...document.querySelectorAll('#graph g.node')].find(g => "
             "[...g.querySelectorAll('text')].some(t => t.textContent === '%s'))", name);
    click(c, js);
}

static void screenshot(Cdp *c, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/%s", ATTOGRAD_BUILD_DIR, name);
    ck_assert_msg(cdp_screenshot(c, path) == 0, "%s", cdp_error(c));
}

/* The page's cells of the clicked tensor's gradient (td.a autograd, td.n
 * numeric) equal the program's numbers as the page prints them: the pair
 * of --dump's autograd and numeric values, formatted with their scale. */
static void assert_shown_gradient(Cdp *c, const char *grad, const char *numeric)
{
    TensorGradPair p;
    ck_assert_int_eq(tensor_grad_pair(testutil_dumped(out, grad), testutil_dumped(out, numeric),
                                      &p), 0);
    char *scale = eval(c, "document.querySelector('#detail table.pair').dataset.scale");
    char want[64];
    snprintf(want, sizeof want, "\"%d\"", p.exp10);
    ck_assert_str_eq(scale, want);
    free(scale);
    for (int col = 0; col < 2; col++) {
        const Tensor *t = col ? p.numeric : p.autograd;
        char js[160], *shown;
        snprintf(js, sizeof js, "[...document.querySelectorAll('#detail table.pair td.%s')]"
                                ".map(e => e.textContent)", col ? "n" : "a");
        shown = eval(c, js);
        size_t cap = (size_t)t->numel * 70 + 4, n = 1;
        char *expected = malloc(cap), s[64];
        strcpy(expected, "[");
        for (int64_t i = 0; i < t->numel; i++) {
            tensor_grad_pair_format(&p, t->data[i], s, sizeof s);
            n += (size_t)snprintf(expected + n, cap - n, "%s\"%s\"", i ? "," : "", s);
        }
        strcat(expected, "]");
        ck_assert_msg(strcmp(shown, expected) == 0, "%s shown %s, printed %s", grad, shown,
                      expected);
        free(expected);
        free(shown);
    }
}

/* Presses Step until it is disabled; returns how many presses, and
 * whether a step showed a part added to an earlier one. */
static int step_to_end(Cdp *c, bool *accumulated)
{
    int presses = 0;
    *accumulated = false;
    for (;;) {
        char *disabled = eval(c, "document.getElementById('next').disabled");
        bool done = strcmp(disabled, "true") == 0;
        free(disabled);
        if (done) break;
        click(c, "document.getElementById('next')");
        char *acc = eval(c, "document.querySelectorAll('#step-text .part.acc').length");
        *accumulated |= atoi(acc) > 0;
        free(acc);
        ck_assert_int_lt(++presses, 200);
    }
    return presses;
}

/* No box waits for a gradient at the end, and the label says the last step. */
static void assert_at_end(Cdp *c, int steps)
{
    char *label = eval(c, "document.getElementById('step-label').textContent"), want[64];
    snprintf(want, sizeof want, "\"Step %d of %d\"", steps, steps);
    ck_assert_str_eq(label, want);
    free(label);
    char *waiting = eval(c, "document.querySelectorAll('#graph g.node.st-waiting, "
                            "#graph g.node.st-partial').length");
    ck_assert_str_eq(waiting, "0");
    free(waiting);
}

START_TEST(test_attention_page)
{
    const char *args[] = {"--dump", "--html", "page.html", NULL};
    ck_assert_msg(program_run("backprop_attention", args, out, sizeof out, err, sizeof err) == 0,
                  "%s", err);
    Cdp *c = open_page("page.html");
    print_load_time(c, "backprop_attention's page");
    char *title = eval(c, "document.title");
    ck_assert_str_eq(title, "\"Backpropagation through SelfAttention_v1, step by step\"");
    free(title);
    screenshot(c, "page-attention-first.png");
    click_box(c, "W_query");
    char *h2 = eval(c, "document.querySelector('#detail h2').textContent");
    ck_assert_str_eq(h2, "\"W_query\"");
    free(h2);
    assert_shown_gradient(c, "sum.dW_query", "sum.numeric.dW_query");
    char *verdict = eval(c, "document.querySelector('#detail .verdict').textContent");
    ck_assert_msg(strstr(verdict, "agree: the same digits") != NULL, "%s", verdict);
    free(verdict);
    bool acc;
    int steps = step_to_end(c, &acc);
    ck_assert_int_eq(steps, 9);    /* sum, context, values, weights, scaled, scores, keys^T, keys, queries */
    assert_at_end(c, steps);
    screenshot(c, "page-attention-last.png");
    /* The softmax's box: its weights as a heatmap whose rows explain themselves. */
    click_box(c, "weights");
    click(c, "document.querySelector('#detail table.heat tr.rowpick')");
    char *explained = eval(c, "document.querySelector('#detail .explain').textContent");
    ck_assert_msg(strstr(explained, "J = diag(w)") != NULL, "%s", explained);
    free(explained);
    screenshot(c, "page-attention-softmax.png");
    cdp_stop(c);
}
END_TEST

START_TEST(test_block_page)
{
    const char *args[] = {"--dump", "--html", "page.html", NULL};
    ck_assert_msg(program_run("backprop_block", args, out, sizeof out, err, sizeof err) == 0,
                  "%s", err);
    Cdp *c = open_page("page.html");
    print_load_time(c, "backprop_block's page");
    screenshot(c, "page-block-first.png");
    click_box(c, "ff.layers.0.weight");
    char *h2 = eval(c, "document.querySelector('#detail h2').textContent");
    ck_assert_str_eq(h2, "\"ff.layers.0.weight\"");
    free(h2);
    assert_shown_gradient(c, "d_ff.layers.0.weight", "numeric.d_ff.layers.0.weight");
    click_box(c, "att.W_query.weight");
    assert_shown_gradient(c, "d_att.W_query.weight", "numeric.d_att.W_query.weight");
    bool acc;
    int steps = step_to_end(c, &acc);
    ck_assert_int_eq(steps, 27);    /* one per op node the engine runs */
    ck_assert_msg(acc, "no step showed a gradient added to an earlier part");
    assert_at_end(c, steps);
    screenshot(c, "page-block-last.png");
    /* x gets two parts (the residual and norm1), norm1 three (the projections). */
    click_box(c, "x");
    char *parts = eval(c, "document.querySelectorAll('#detail .part').length");
    ck_assert_str_eq(parts, "2");
    free(parts);
    screenshot(c, "page-block-x.png");
    /* The causal mask: the softmax's weights, hatched above the diagonal. */
    click(c, "[...document.querySelectorAll('#graph g.node')].find(g => "
             "[...g.querySelectorAll('text')].some(t => t.textContent === 'SoftmaxBackward0'))");
    char *masked = eval(c, "document.querySelectorAll('#detail table.heat td.masked').length");
    ck_assert_str_eq(masked, "6");     /* 2 heads x 3 places above the diagonal */
    free(masked);
    /* Opened on row 1, the first with a masked place and two weights (row 0
     * has one weight, 1, and sends nothing back); a click picks another. */
    char *explained = eval(c, "document.querySelector('#detail .explain').textContent");
    ck_assert_msg(strstr(explained, "Row 1 of") && strstr(explained, "1 masked place"), "%s",
                  explained);
    free(explained);
    screenshot(c, "page-block-softmax.png");
    click(c, "document.querySelectorAll('#detail table.heat tr.rowpick')[2]");
    explained = eval(c, "document.querySelector('#detail .explain').textContent");
    ck_assert_msg(strstr(explained, "Row 2 of") && !strstr(explained, "masked place"), "%s",
                  explained);
    free(explained);
    cdp_stop(c);
}
END_TEST

int main(void)
{
    if (!cdp_browser()) {
        const char *env = getenv("ATTOGRAD_CHROMIUM");
        if (env && *env) printf("skipped: ATTOGRAD_CHROMIUM=%s is not a program\n", env);
        else printf("skipped: no chromium on the PATH (./run test installs Debian's chromium; "
                    "ATTOGRAD_CHROMIUM names another)\n");
        return 77;
    }
    Suite *s = suite_create("browser");
    TCase *tc = tcase_create("pages");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_attention_page);
    tcase_add_test(tc, test_block_page);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    tensor_cleanup();
    return failed ? 1 : 0;
}
