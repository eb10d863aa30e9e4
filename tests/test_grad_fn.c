/*
 * grad_fn names as PyTorch 1.13 prints them for the same call (issue 22
 * item 5): reference/grad_fn.txt (gen_grad_fn.py) gives, per case-id, the
 * Python call and the name of its result's grad_fn ("-": none).  Each case
 * has a row below making the same call in C, one expression per row as the
 * gradcheck tables (the script's comment column names the C call), or is
 * listed in no_row with the reason it has none: an op attograd does not
 * have.  The test fails on a fixture case with neither, on a row the
 * fixture does not know, and on any name that differs.
 *
 * In the expressions, as in the script:
 *   L(d0, ...)  a leaf of that shape requiring grad (values never change a name)
 *   P(d0, ...)  the same with values in [0.5, 1.5)
 *   C(d0, ...)  a constant (no grad)
 *   M(d0, ...)  a 0/1 mask (PyTorch's bool tensor)
 *   I(...)      ids (PyTorch's int64 tensor), 1-d; IDS2(r, c, ...) 2-d
 */
#include "testutil.h"

static Tensor *leaf(Tensor *t) { return tensor_requires_grad_(t, true); }
#define L(...) leaf(tensor_randn(SHAPE(__VA_ARGS__)))
#define L0() leaf(tensor_randn(0, NULL))
#define P(...) leaf(tensor_add_scalar(tensor_rand(SHAPE(__VA_ARGS__)), 0.5f))
#define C(...) tensor_randn(SHAPE(__VA_ARGS__))
#define M(...) tensor_lt_scalar(tensor_rand(SHAPE(__VA_ARGS__)), 0.5f)
#define I(...)                                                      \
    tensor_from_data((const float[]){__VA_ARGS__}, 1,               \
                     (const int64_t[]){sizeof((float[]){__VA_ARGS__}) / sizeof(float)})
#define IDS2(r, c, ...) tensor_from_data((const float[]){__VA_ARGS__}, SHAPE(r, c))
#define OPT(...) TENSOR_LOSS_OPTIONS(__VA_ARGS__)

/* A module's forward on x; the module is freed (the result keeps its node). */
static Tensor *module(Module *m, const Tensor *x)
{
    Tensor *y = nn_forward(m, x);
    nn_module_free(m);
    return y;
}

/* The book's GELU class: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))). */
static Tensor *book_gelu(const Tensor *x)
{
    Tensor *inner = tensor_add(x, tensor_mul_scalar(tensor_pow(x, 3), 0.044715f));
    Tensor *t = tensor_tanh(tensor_mul_scalar(inner, sqrtf(2.0f / (float)M_PI)));
    return tensor_mul(tensor_mul_scalar(x, 0.5f), tensor_add_scalar(t, 1));
}

/* The book's LayerNorm class: scale * (x - mean) / sqrt(var + eps) + shift. */
static Tensor *book_layer_norm(const Tensor *x)
{
    Tensor *scale = L(4), *shift = L(4);
    Tensor *mean = tensor_mean_dim(x, -1, true), *var = tensor_var_dim(x, -1, 0, true);
    Tensor *norm = tensor_div(tensor_sub(x, mean), tensor_sqrt(tensor_add_scalar(var, 1e-5f)));
    return tensor_add(tensor_mul(scale, norm), shift);
}

/* The causal mask of the book's attention, 6 x 6: 1 above the diagonal. */
static Tensor *causal_mask(void) { return tensor_triu(tensor_ones(SHAPE(6, 6)), 1); }

/* The case's call (id NULL: lists every row's id in *seen). */
static Tensor *make(const char *id, const char **seen, int *n_seen)
{
#define CASE(name, expr)                          \
    if (!id) seen[(*n_seen)++] = name;            \
    else if (!strcmp(id, name)) return (expr);
    /* elementwise, binary */
    CASE("add", tensor_add(L(3, 4), L(3, 4)))
    CASE("add.broadcast", tensor_add(L(3, 4), L(4)))
    CASE("add.one_grad", tensor_add(L(3, 4), C(3, 4)))
    CASE("add_scalar", tensor_add_scalar(L(3, 4), 1.5f))
    CASE("add_scalar.reflected", tensor_add_scalar(L(3, 4), 1.5f))
    CASE("sub", tensor_sub(L(3, 4), L(3, 4)))
    CASE("sub_scalar", tensor_sub_scalar(L(3, 4), 1.5f))
    CASE("rsub_scalar", tensor_rsub_scalar(L(3, 4), 1))
    CASE("rsub_scalar.torch_rsub", tensor_rsub_scalar(L(3, 4), 1))
    CASE("mul", tensor_mul(L(3, 4), L(3, 4)))
    CASE("mul.broadcast", tensor_mul(L(3, 4), L(3, 1)))
    CASE("mul_scalar", tensor_mul_scalar(L(3, 4), 2))
    CASE("mul_scalar.reflected", tensor_mul_scalar(L(3, 4), 2))
    CASE("div", tensor_div(L(3, 4), P(3, 4)))
    CASE("div_scalar", tensor_div_scalar(L(3, 4), 2))
    CASE("rdiv_scalar", tensor_rdiv_scalar(P(3, 4), 10))
    CASE("reciprocal", tensor_reciprocal(P(3, 4)))
    CASE("neg", tensor_neg(L(3, 4)))
    CASE("pow.2", tensor_pow(L(3, 4), 2))
    CASE("pow.0_5", tensor_pow(P(3, 4), 0.5f))
    CASE("pow.1", tensor_pow(L(3, 4), 1))
    CASE("pow.0", tensor_pow(L(3, 4), 0))
    CASE("pow.torch_pow", tensor_pow(L(3, 4), 3))
    CASE("maximum", tensor_maximum(L(3, 4), L(3, 4)))
    CASE("maximum.torch_max2", tensor_maximum(L(3, 4), L(3, 4)))
    CASE("minimum", tensor_minimum(L(3, 4), L(3, 4)))
    CASE("minimum.torch_min2", tensor_minimum(L(3, 4), L(3, 4)))
    CASE("where", tensor_where(M(3, 4), L(3, 4), L(3, 4)))
    CASE("where.broadcast", tensor_where(M(3, 1), L(3, 4), L(4)))
    CASE("where.scalar_other", tensor_where(M(3, 4), L(3, 4), tensor_scalar(0)))
    CASE("where.one_grad", tensor_where(M(3, 4), L(3, 4), C(3, 4)))
    /* elementwise, unary */
    CASE("exp", tensor_exp(L(3, 4)))
    CASE("log", tensor_log(P(3, 4)))
    CASE("sqrt", tensor_sqrt(P(3, 4)))
    CASE("tanh", tensor_tanh(L(3, 4)))
    CASE("sigmoid", tensor_sigmoid(L(3, 4)))
    CASE("relu", tensor_relu(L(3, 4)))
    CASE("relu.module", module(nn_relu(), L(3, 4)))
    CASE("gelu.tanh", tensor_gelu(L(3, 4)))
    CASE("gelu.book_module", book_gelu(L(3, 4)))
    CASE("abs", tensor_abs(L(3, 4)))
    CASE("clamp.both", tensor_clamp(L(3, 4), -1, 1))
    CASE("clamp.min_only", tensor_clamp(L(3, 4), -1, INFINITY))
    CASE("clamp.max_only", tensor_clamp(L(3, 4), -INFINITY, 1))
    CASE("clone", tensor_clone(L(3, 4)))
    /* activations */
    CASE("silu", tensor_silu(L(3, 4)))
    CASE("silu.module", module(nn_silu(), L(3, 4)))
    CASE("leaky_relu", tensor_leaky_relu(L(3, 4), 0.01f))
    CASE("leaky_relu.slope", tensor_leaky_relu(L(3, 4), 0.2f))
    CASE("softplus", tensor_softplus(L(3, 4), 1, 20))
    CASE("softplus.beta", tensor_softplus(L(3, 4), 2, 5))
    /* reductions */
    CASE("sum", tensor_sum(L(3, 4)))
    CASE("sum.dim", tensor_sum_dim(L(3, 4), 1, false))
    CASE("sum.dim_keepdim", tensor_sum_dim(L(3, 4), -1, true))
    CASE("sum.dims", tensor_sum_dims(L(2, 3, 4), IDX(0, 2), false))
    CASE("sum.dims_empty", tensor_sum_dims(L(2, 3, 4), 0, NULL, false))
    CASE("mean", tensor_mean(L(3, 4)))
    CASE("mean.dim", tensor_mean_dim(L(3, 4), 1, false))
    CASE("mean.dims", tensor_mean_dims(L(2, 3, 4), IDX(0, 2), false))
    CASE("max.dim", tensor_max_dim(L(3, 4), 1, false, NULL))
    CASE("max.dim_keepdim", tensor_max_dim(L(3, 4), -1, true, NULL))
    CASE("min.dim", tensor_min_dim(L(3, 4), 1, false, NULL))
    CASE("amax", tensor_amax(L(3, 4), IDX(1), false))
    CASE("amax.dims", tensor_amax(L(2, 3, 4), IDX(0, 2), false))
    CASE("amax.all", tensor_amax(L(3, 4), 0, NULL, false))
    CASE("var", tensor_var(L(3, 4), 1))
    CASE("var.dim", tensor_var_dim(L(3, 4), 1, 1, false))
    CASE("var.dim_biased", tensor_var_dim(L(3, 4), -1, 0, true))
    CASE("std", tensor_std(L(3, 4), 1))
    CASE("std.dim", tensor_std_dim(L(3, 4), 1, 1, false))
    CASE("logsumexp", tensor_logsumexp(L(3, 4), 1, false))
    CASE("logsumexp.keepdim", tensor_logsumexp(L(3, 4), 1, true))
    /* matrix products */
    CASE("matmul.1d_1d", tensor_matmul(L(4), L(4)))
    CASE("matmul.2d_1d", tensor_matmul(L(3, 4), L(4)))
    CASE("matmul.1d_2d", tensor_matmul(L(4), L(4, 5)))
    CASE("matmul.2d_2d", tensor_matmul(L(3, 4), L(4, 5)))
    CASE("matmul.2d_2d_t", tensor_matmul(tensor_t(L(4, 3)), tensor_t(L(5, 4))))
    CASE("matmul.3d_3d", tensor_matmul(L(2, 3, 4), L(2, 4, 5)))
    CASE("matmul.3d_2d", tensor_matmul(L(2, 3, 4), L(4, 5)))
    CASE("matmul.3d_2d_nc", tensor_matmul(tensor_transpose(L(2, 4, 3), 1, 2), L(4, 5)))
    CASE("matmul.3d_1d", tensor_matmul(L(2, 3, 4), L(4)))
    CASE("matmul.1d_3d", tensor_matmul(L(4), L(2, 4, 5)))
    CASE("matmul.2d_3d", tensor_matmul(L(3, 4), L(2, 4, 5)))
    CASE("matmul.2d_3d_row", tensor_matmul(L(1, 4), L(2, 4, 5)))
    CASE("matmul.2d_3d_col", tensor_matmul(L(3, 4), L(2, 4, 1)))
    CASE("matmul.2d_4d", tensor_matmul(L(3, 4), L(2, 2, 4, 5)))
    CASE("matmul.3d_3d_bcast", tensor_matmul(L(1, 3, 4), L(2, 4, 5)))
    CASE("matmul.4d_bcast", tensor_matmul(L(2, 1, 3, 4), L(1, 2, 4, 5)))
    CASE("matmul.4d_4d", tensor_matmul(L(2, 2, 3, 4), L(2, 2, 4, 5)))
    CASE("matmul.4d_2d", tensor_matmul(L(2, 2, 3, 4), L(4, 5)))
    CASE("matmul.attention", tensor_matmul(L(2, 2, 6, 4), tensor_transpose(L(2, 2, 6, 4), 2, 3)))
    /* F.linear */
    CASE("linear.1d_bias", tensor_linear(L(4), L(5, 4), L(5)))
    CASE("linear.1d", tensor_linear(L(4), L(5, 4), NULL))
    CASE("linear.2d_bias", tensor_linear(L(3, 4), L(5, 4), L(5)))
    CASE("linear.2d", tensor_linear(L(3, 4), L(5, 4), NULL))
    CASE("linear.2d_bias_nc", tensor_linear(tensor_t(L(4, 3)), L(5, 4), L(5)))
    CASE("linear.3d_bias", tensor_linear(L(2, 3, 4), L(5, 4), L(5)))
    CASE("linear.3d", tensor_linear(L(2, 3, 4), L(5, 4), NULL))
    CASE("linear.3d_bias_nc", tensor_linear(tensor_transpose(L(3, 2, 4), 0, 1), L(5, 4), L(5)))
    CASE("linear.3d_nc", tensor_linear(tensor_transpose(L(3, 2, 4), 0, 1), L(5, 4), NULL))
    CASE("linear.4d_bias", tensor_linear(L(2, 2, 3, 4), L(5, 4), L(5)))
    CASE("linear.4d", tensor_linear(L(2, 2, 3, 4), L(5, 4), NULL))
    CASE("linear.module_3d", module(nn_linear(4, 5, true), L(2, 3, 4)))
    CASE("linear.module_3d_nobias", module(nn_linear(4, 5, false), L(2, 3, 4)))
    /* softmax, masking */
    CASE("softmax", tensor_softmax(L(3, 4), -1))
    CASE("softmax.dim0", tensor_softmax(L(3, 4), 0))
    CASE("log_softmax", tensor_log_softmax(L(3, 4), -1))
    CASE("causal_softmax", tensor_causal_softmax(L(2, 6, 6), 2, 0))
    CASE("masked_fill", tensor_masked_fill(L(3, 4), M(3, 4), -1.5f))
    CASE("masked_fill.broadcast", tensor_masked_fill(L(2, 3, 4), M(3, 4), -INFINITY))
    CASE("masked_fill.inplace", tensor_masked_fill(tensor_clone(L(2, 6, 6)), causal_mask(), 0))
    CASE("triu", tensor_triu(L(3, 4), 0))
    CASE("triu.diag1", tensor_triu(L(3, 4), 1))
    CASE("tril", tensor_tril(L(3, 4), 0))
    CASE("tril.diag_m1", tensor_tril(L(2, 3, 4), -1))
    /* shape ops */
    CASE("view", tensor_view(L(3, 4), SHAPE(12)))
    CASE("view.infer", tensor_view(L(3, 4), SHAPE(-1, 2)))
    CASE("view.same", tensor_view(L(3, 4), SHAPE(3, 4)))
    CASE("reshape", tensor_reshape(L(3, 4), SHAPE(12)))
    CASE("reshape.same", tensor_reshape(L(3, 4), SHAPE(3, 4)))
    CASE("reshape.nc_view", tensor_reshape(tensor_transpose(L(3, 2, 4), 0, 1), SHAPE(2, 3, 4)))
    CASE("reshape.nc_copy", tensor_reshape(tensor_t(L(4, 3)), SHAPE(12)))
    CASE("flatten", tensor_flatten(L(3, 4)))
    CASE("flatten.3d", tensor_flatten(L(2, 3, 4)))
    CASE("flatten.nc", tensor_flatten(tensor_t(L(4, 3))))
    CASE("flatten.1d", tensor_flatten(L(4)))
    CASE("flatten.0d", tensor_flatten(L0()))
    CASE("t.2d", tensor_t(L(3, 4)))
    CASE("t.1d", tensor_t(L(4)))
    CASE("T.2d", tensor_permute(L(3, 4), IDX(1, 0)))
    CASE("transpose", tensor_transpose(L(3, 4), 0, 1))
    CASE("transpose.3d", tensor_transpose(L(2, 3, 4), 1, 2))
    CASE("transpose.same_dim", tensor_transpose(L(2, 3, 4), 1, 1))
    CASE("permute", tensor_permute(L(2, 3, 4), IDX(2, 0, 1)))
    CASE("permute.identity", tensor_permute(L(2, 3, 4), IDX(0, 1, 2)))
    CASE("unsqueeze", tensor_unsqueeze(L(3, 4), 0))
    CASE("squeeze.dim", tensor_squeeze(L(3, 1, 4), 1))
    CASE("squeeze.dim_not_1", tensor_squeeze(L(3, 4), 0))
    CASE("squeeze.all", tensor_squeeze_all(L(3, 1, 4)))
    CASE("squeeze.all_none", tensor_squeeze_all(L(3, 4)))
    CASE("expand", tensor_expand(L(4), SHAPE(3, 4)))
    CASE("expand.keep", tensor_expand(L(3, 1), SHAPE(-1, 4)))
    CASE("expand.same", tensor_expand(L(3, 4), SHAPE(3, 4)))
    CASE("contiguous.transposed", tensor_contiguous(tensor_t(L(4, 3))))
    CASE("contiguous.already", tensor_contiguous(L(3, 4)))
    CASE("narrow", tensor_narrow(L(3, 4), 1, 1, 2))
    CASE("narrow.full", tensor_narrow(L(3, 4), 0, 0, 3))
    CASE("slice", tensor_narrow(L(3, 4), 1, 1, 2))
    CASE("slice.dim0", tensor_narrow(L(3, 4), 0, 1, 2))
    CASE("cat", tensor_cat(2, (Tensor *[]){L(3, 4), L(2, 4)}, 0))
    CASE("cat.one", tensor_cat(1, (Tensor *[]){L(3, 4)}, 1))
    CASE("stack", tensor_stack(2, (Tensor *[]){L(3, 4), L(3, 4)}, 0))
    CASE("stack.last", tensor_stack(2, (Tensor *[]){L(3, 4), L(3, 4)}, -1))
    CASE("index_select", tensor_index_select(L(3, 4), 0, I(2, 0, 2)))
    CASE("index_select.dim1", tensor_index_select(L(3, 4), 1, I(3, 1)))
    CASE("embedding", tensor_embedding(L(5, 3), IDS2(2, 2, 1, 2, 0, 1)))
    CASE("embedding.module", module(nn_embedding(5, 3), I(1, 2, 4)))
    CASE("gather", tensor_gather(L(3, 4), 1, IDS2(3, 2, 0, 0, 3, 1, 2, 2)))
    CASE("gather.dim0", tensor_gather(L(3, 4), 0, IDS2(1, 4, 0, 1, 2, 0)))
    /* normalisation, dropout */
    CASE("layer_norm", tensor_layer_norm(L(3, 4), L(4), L(4), 1e-5))
    CASE("layer_norm.no_affine", tensor_layer_norm(L(3, 4), NULL, NULL, 1e-5))
    CASE("layer_norm.module", module(nn_layer_norm(4), L(2, 3, 4)))
    CASE("layer_norm.book_module", book_layer_norm(L(2, 3, 4)))
    CASE("dropout", tensor_dropout(L(3, 4), 0.5f, true, NULL))
    CASE("dropout.p1", tensor_dropout(L(3, 4), 1, true, NULL))
    CASE("dropout.p0", tensor_dropout(L(3, 4), 0, true, NULL))
    CASE("dropout.eval", tensor_dropout(L(3, 4), 0.5f, false, NULL))
    CASE("dropout.module", module(nn_dropout(0.1f), L(2, 3, 4)))
    /* losses */
    CASE("mse_loss", tensor_mse_loss(L(3, 4), L(3, 4)))
    CASE("mse_loss.const_target", tensor_mse_loss(L(3, 4), C(3, 4)))
    CASE("cross_entropy", tensor_cross_entropy(L(3, 5), I(0, 4, 2)))
    CASE("cross_entropy.1d", tensor_cross_entropy(L(5), tensor_scalar(2)))
    CASE("cross_entropy.sum", tensor_cross_entropy_ex(L(3, 5), I(0, 4, 2),
                                                      OPT(.reduction = TENSOR_REDUCTION_SUM)))
    CASE("cross_entropy.none", tensor_cross_entropy_ex(L(3, 5), I(0, 4, 2),
                                                       OPT(.reduction = TENSOR_REDUCTION_NONE)))
    CASE("cross_entropy.ignore", tensor_cross_entropy(L(3, 5), I(0, -100, 2)))
    CASE("cross_entropy.flat_gpt", tensor_cross_entropy(tensor_reshape(L(2, 3, 5), SHAPE(6, 5)),
                                                        I(0, 1, 2, 3, 4, 0)))
    CASE("cross_entropy.nd", tensor_cross_entropy(L(2, 5, 3), IDS2(2, 3, 0, 1, 4, 2, 2, 0)))
    CASE("cross_entropy.nd_none",
         tensor_cross_entropy_ex(L(2, 5, 3), IDS2(2, 3, 0, 1, 4, 2, 2, 0),
                                 OPT(.reduction = TENSOR_REDUCTION_NONE)))
    CASE("nll_loss", tensor_nll_loss(L(3, 5), I(0, 4, 2)))
    CASE("nll_loss.nd", tensor_nll_loss(L(2, 5, 3), IDS2(2, 3, 0, 1, 4, 2, 2, 0)))
    CASE("binary_cross_entropy",
         tensor_binary_cross_entropy(tensor_sigmoid(L(3, 4)), tensor_rand(SHAPE(3, 4))))
    CASE("bce_with_logits", tensor_bce_with_logits(L(3, 4), tensor_rand(SHAPE(3, 4))))
    CASE("bce_with_logits.none",
         tensor_bce_with_logits_ex(L(3, 4), tensor_rand(SHAPE(3, 4)),
                                   OPT(.reduction = TENSOR_REDUCTION_NONE)))
    CASE("bce_with_logits.pos_weight",
         tensor_bce_with_logits_ex(L(3, 4), tensor_rand(SHAPE(3, 4)), OPT(.pos_weight = P(4))))
    /* no gradient */
    CASE("argmax", tensor_argmax(L(3, 4), 1, false))
    CASE("eq", tensor_eq(L(3, 4), L(3, 4)))
    CASE("gt.scalar", tensor_gt_scalar(L(3, 4), 0))
    CASE("topk.values", tensor_topk(L(3, 4), 2, NULL))
    CASE("detach", tensor_detach(L(3, 4)))
#undef CASE
    return NULL;
}

/* Cases of the fixture with no row: ops attograd does not have. */
static const char *const no_row[][2] = {
    {"max.all", "x.max() over every element: attograd has no full max (tensor_amax over "
                "every dim is torch's amax, AmaxBackward0, another op)"},
    {"clamp.clamp_min", "torch's own clamp_min op: attograd has only tensor_clamp "
                        "(ClampBackward1, the clamp.min_only case)"},
    {"select", "integer indexing x[1] (SelectBackward0): attograd has no select; narrow then "
               "squeeze is two ops"},
};

static const char *why_no_row(const char *id)
{
    for (size_t i = 0; i < sizeof no_row / sizeof no_row[0]; i++)
        if (!strcmp(no_row[i][0], id)) return no_row[i][1];
    return NULL;
}

typedef struct {
    char id[64], name[64];
    bool requires_grad;   /* the printed result shows requires_grad=True or a grad_fn */
} Case;

/* grad_fn.txt: the comment block's "# id | expr | print | note" lines give
 * each case's print column; then "id<TAB>name" lines. */
static int read_cases(Case *cases, int cap)
{
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/grad_fn.txt", ATTOGRAD_REFERENCE_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        ck_assert_int_lt(n, cap);
        Case *c = &cases[n++];
        ck_assert_int_eq(sscanf(line, "%63[^\t]\t%63s", c->id, c->name), 2);
        c->requires_grad = true;
    }
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "# ", 2) || !strstr(line, " | (nothing) | ")) continue;
        char id[64];
        if (sscanf(line + 2, "%63s", id) != 1) continue;
        for (int i = 0; i < n; i++)
            if (!strcmp(cases[i].id, id)) cases[i].requires_grad = false;
    }
    fclose(f);
    return n;
}

START_TEST(test_grad_fn_names_match_torch)
{
    static Case cases[256];
    int n = read_cases(cases, 256), rows = 0, skipped = 0, wrong = 0;
    ck_assert_int_eq(n, 192);
    tensor_manual_seed(0);
    for (int i = 0; i < n; i++) {
        const Case *c = &cases[i];
        if (why_no_row(c->id)) {
            ck_assert_msg(!make(c->id, NULL, NULL), "%s has a row and a reason for none", c->id);
            skipped++;
            continue;
        }
        tensor_clear_error();
        Tensor *y = make(c->id, NULL, NULL);
        ck_assert_msg(y != NULL, "%s: no row, or the call failed: %s", c->id, tensor_error());
        rows++;
        const char *got = tensor_grad_fn_name(y);
        bool same = !strcmp(c->name, "-") ? got == NULL : got && !strcmp(got, c->name);
        if (!same || y->requires_grad != c->requires_grad) {
            fprintf(stderr, "%-28s torch %-28s attograd %s%s\n", c->id, c->name, got ? got : "-",
                    y->requires_grad != c->requires_grad ? " (requires_grad)" : "");
            wrong++;
        }
    }
    ck_assert_msg(wrong == 0, "%d of %d rows print another grad_fn than torch (listed above)",
                  wrong, rows);
    ck_assert_int_eq(skipped, (int)(sizeof no_row / sizeof no_row[0]));
    /* every row is a case of the fixture */
    const char *seen[256];
    int n_seen = 0;
    make(NULL, seen, &n_seen);
    ck_assert_int_eq(n_seen, rows);
    for (int k = 0; k < n_seen; k++) {
        bool known = false;
        for (int i = 0; i < n && !known; i++) known = !strcmp(cases[i].id, seen[k]);
        ck_assert_msg(known, "row %s is not a case of grad_fn.txt", seen[k]);
    }
}
END_TEST

static Suite *grad_fn_suite(void)
{
    Suite *s = suite_create("grad_fn");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, test_grad_fn_names_match_torch);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(grad_fn_suite)
