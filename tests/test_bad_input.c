/*
 * Bad input, everywhere: one table row per way to misuse a public entry
 * point of tensor.h, nn.h and optim.h (and data.h's and text.h's
 * fine-tuning pieces), every malformed checkpoint file, and every bad flag
 * of train_attention.  Each row must fail without crashing
 * (NULL, -1 or NAN) and leave exactly the expected message in tensor_error()
 * (a NULL input: no new message, so the first cause of a failed forward is
 * kept); a bad flag exits 2 with its one line on stderr.  Rows run in forked
 * processes: a crash fails only its row.
 */
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

/* In the sanitizer build, an allocation larger than the machine returns
 * NULL as malloc does (by default ASan reports it and exits), so the
 * out-of-memory rows test the library's handling in both builds. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

typedef struct {
    const char *entry;   /* the entry point and what is wrong */
    bool (*fails)(void); /* true when the call reported failure */
    const char *message; /* tensor_error() after it; "{ref}" is the reference folder */
} Row;

/* message with "{ref}" replaced by the reference folder. */
static const char *expand(const char *message)
{
    static char out[2048];
    const char *at = strstr(message, "{ref}");
    if (!at) return message;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - message), message, ATTOGRAD_REFERENCE_DIR,
             at + 5);
    return out;
}

static void run_row(const Row *r)
{
    tensor_clear_error();
    ck_assert_msg(r->fails(), "%s: did not fail", r->entry);
    ck_assert_msg(strcmp(tensor_error(), expand(r->message)) == 0,
                  "%s:\n  got      \"%s\"\n  expected \"%s\"", r->entry, tensor_error(),
                  expand(r->message));
}

#define Z(...) tensor_zeros(SHAPE(__VA_ARGS__))
static Tensor *leaf(Tensor *t) { return tensor_requires_grad_(t, true); }
static Tensor *vec(int n, const float *v) { return tensor_from_data(v, 1, (const int64_t[]){n}); }

/* ---- tensor.h --------------------------------------------------------------- */

static bool scope_too_deep(void)
{
    TensorScope *outer = tensor_scope_begin(), *s = outer;
    while (s) s = tensor_scope_begin();
    tensor_scope_end(outer);
    return true;
}
static bool scope_end_twice(void)
{
    TensorScope *s = tensor_scope_begin();
    tensor_scope_end(s);
    tensor_scope_end(s);
    return true;
}
static bool free_scoped(void)
{
    tensor_free(Z(2));
    return true;
}
static bool empty_ndim(void) { return !tensor_empty(-1, NULL); }
static bool zeros_ndim(void) { return !tensor_zeros(9, (const int64_t[9]){0}); }
static bool ones_null_shape(void) { return !tensor_ones(2, NULL); }
static bool full_negative(void) { return !tensor_full(1, SHAPE(2, -3)); }
static bool from_data_null(void) { return !tensor_from_data(NULL, SHAPE(2)); }
static bool arange_step0(void) { return !tensor_arange(0, 1, 0); }
static bool arange_nan(void) { return !tensor_arange(0, NAN, 1); }
static bool arange_away(void) { return !tensor_arange(0, 5, -1); }
static bool copy_shapes(void) { return !tensor_copy_(Z(2, 3), Z(3, 2)); }
static bool item_many(void) { return isnan(tensor_item(Z(2, 2))); }
static bool get_count(void) { return isnan(tensor_get(Z(2, 3), IDX(1))); }
static bool get_range(void) { return isnan(tensor_get(Z(2, 3), IDX(1, 3))); }
static bool set_range(void) { return tensor_set(Z(2, 3), 1, IDX(-3, 0)) == -1; }
static bool rand_negative(void) { return !tensor_rand(SHAPE(-1)); }
static bool randn_ndim(void) { return !tensor_randn(9, (const int64_t[9]){0}); }
static bool uniform_order(void) { return !tensor_uniform_(Z(2), 1, 0, NULL); }
static bool uniform_inf(void) { return !tensor_uniform_(Z(2), 0, INFINITY, NULL); }
static bool normal_std(void) { return !tensor_normal_(Z(2), 0, -1, NULL); }
static bool bernoulli_p(void) { return !tensor_bernoulli_(Z(2), 1.5f, NULL); }
static bool bernoulli_nan(void) { return !tensor_bernoulli_(Z(2), NAN, NULL); }
static bool requires_grad_nonleaf(void)
{
    return !tensor_requires_grad_(tensor_mul_scalar(leaf(Z(2)), 2), false);
}
static bool backward_no_grad(void) { return tensor_backward(tensor_sum(Z(2)), NULL) == -1; }
static bool backward_not_scalar(void)
{
    return tensor_backward(tensor_exp(leaf(Z(2, 3))), NULL) == -1;
}
static bool backward_seed_shape(void)
{
    return tensor_backward(tensor_exp(leaf(Z(2))), Z(3)) == -1;
}
static bool backward_null(void) { return tensor_backward(NULL, NULL) == -1; }
static bool add_broadcast(void) { return !tensor_add(Z(2, 3), Z(4)); }
static bool mul_broadcast(void) { return !tensor_mul(Z(2, 3), Z(3, 3)); }
static bool exp_null(void) { return !tensor_exp(NULL); }
static bool div_null(void) { return !tensor_div(Z(2), NULL); }
static bool sum_dim_range(void) { return !tensor_sum_dim(Z(2, 3), 2, false); }
static bool mean_dim_range(void) { return !tensor_mean_dim(Z(2, 3), -3, true); }
static bool max_dim_empty(void) { return !tensor_max_dim(Z(2, 0), 1, false, NULL); }
static bool argmax_range(void) { return !tensor_argmax(Z(4), 1, false); }
static bool var_dim_range(void) { return !tensor_var_dim(Z(4), 1, 1, false); }
static bool matmul_inner(void) { return !tensor_matmul(Z(6, 3), Z(2, 3)); }
static bool matmul_0d(void) { return !tensor_matmul(tensor_scalar(1), Z(2)); }
static bool matmul_batch(void) { return !tensor_matmul(Z(2, 3, 4), Z(3, 4, 5)); }
static bool linear_features(void) { return !tensor_linear(Z(6, 3), Z(2, 4), NULL); }
static bool linear_bias(void) { return !tensor_linear(Z(6, 3), Z(2, 3), Z(3)); }
static bool linear_weight_1d(void) { return !tensor_linear(Z(6, 3), Z(3), NULL); }
static bool softmax_dim(void) { return !tensor_softmax(Z(2, 3), 2); }
static bool log_softmax_dim(void) { return !tensor_log_softmax(Z(2, 3), -3); }
static bool masked_fill_shape(void) { return !tensor_masked_fill(Z(2, 3), Z(3, 2), 0); }
static bool triu_1d(void) { return !tensor_triu(Z(3), 0); }
static bool t_3d(void) { return !tensor_t(Z(2, 3, 4)); }
static bool transpose_dim(void) { return !tensor_transpose(Z(2, 3), 0, 2); }
static bool get_null_index(void) { return isnan(tensor_get(Z(2, 3), 2, NULL)); }
static bool set_null_index(void) { return tensor_set(Z(2, 3), 1, 2, NULL) == -1; }
static bool contiguous_null(void) { return !tensor_is_contiguous(NULL) && !tensor_same_shape(NULL, Z(1)); }
static bool permute_null(void) { return !tensor_permute(Z(2, 3), 2, NULL); }
static bool view_null(void) { return !tensor_view(Z(2, 3), 2, NULL); }
static bool reshape_null(void) { return !tensor_reshape(Z(2, 3), 1, NULL); }
static bool expand_null(void) { return !tensor_expand(Z(2, 3), 2, NULL); }
static bool cat_null_list(void) { return !tensor_cat(2, NULL, 0); }
static bool permute_count(void) { return !tensor_permute(Z(2, 3), 1, (const int64_t[]){0}); }
static bool permute_repeat(void) { return !tensor_permute(Z(2, 3), IDX(0, 0)); }
static bool view_numel(void) { return !tensor_view(Z(2, 3), SHAPE(4)); }
static bool view_two_minus(void) { return !tensor_view(Z(2, 3), SHAPE(-1, -1)); }
static bool view_strides(void) { return !tensor_view(tensor_t(Z(2, 3)), SHAPE(6)); }
static bool reshape_numel(void) { return !tensor_reshape(Z(2, 3), SHAPE(7)); }
static bool narrow_range(void) { return !tensor_narrow(Z(2, 3), 1, 2, 2); }
static bool narrow_0d(void) { return !tensor_narrow(tensor_scalar(1), 0, 0, 1); }
static bool narrow_huge(void) { return !tensor_narrow(Z(6), 0, 2, INT64_MAX); }
static bool unsqueeze_dim(void) { return !tensor_unsqueeze(Z(2, 3), 4); }
static bool squeeze_dim(void) { return !tensor_squeeze(Z(2, 3), 2); }
static bool expand_size(void) { return !tensor_expand(Z(2, 3), SHAPE(2, 4)); }
static bool cat_empty(void) { return !tensor_cat(0, NULL, 0); }
static bool cat_shapes(void) { return !tensor_cat(2, (Tensor *[]){Z(2, 3), Z(3, 2)}, 0); }
static bool cat_null(void) { return !tensor_cat(2, (Tensor *[]){Z(2, 3), NULL}, 0); }
static bool stack_shapes(void) { return !tensor_stack(2, (Tensor *[]){Z(2), Z(3)}, 0); }
static bool index_select_range(void)
{
    return !tensor_index_select(Z(3, 2), 0, vec(1, (float[]){3}));
}
static bool index_select_frac(void)
{
    return !tensor_index_select(Z(3, 2), 0, vec(1, (float[]){0.5f}));
}
static bool index_select_2d(void) { return !tensor_index_select(Z(3, 2), 0, Z(1, 1)); }
static bool embedding_range(void) { return !tensor_embedding(Z(4, 2), vec(2, (float[]){1, 4})); }
static bool dropout_p(void) { return !tensor_dropout(Z(2), 1.5f, true, NULL); }
static bool dropout_nan(void) { return !tensor_dropout(Z(2), NAN, true, NULL); }
static bool normal_nan(void) { return !tensor_normal_(Z(2), NAN, 1, NULL); }
static bool ce_target_nan(void)
{
    return !tensor_cross_entropy(Z(2, 3), vec(2, (float[]){NAN, 0}));
}
static bool index_nan(void) { return !tensor_index_select(Z(3, 2), 0, vec(1, (float[]){NAN})); }
static bool mse_shapes(void) { return !tensor_mse_loss(Z(2, 3), Z(3, 2)); }
static bool ce_target_shape(void) { return !tensor_cross_entropy(Z(2, 3), Z(3)); }
static bool ce_target_range(void)
{
    return !tensor_cross_entropy(Z(2, 3), vec(2, (float[]){0, 3}));
}
static bool ce_target_frac(void)
{
    return !tensor_cross_entropy(Z(2, 3), vec(2, (float[]){0, 1.5f}));
}
static bool ce_logits_3d(void) { return !tensor_cross_entropy(Z(2, 3, 4), Z(2)); }
static Tensor *identity(Tensor *const *in, void *ctx)
{
    (void)ctx;
    return in[0];
}
static bool gradcheck_eps(void)
{
    return tensor_gradcheck(identity, NULL, 1, (Tensor *[]){leaf(Z(2))}, 0, 1e-3, 1e-3, NULL) == -1;
}
static bool gradcheck_tol(double eps, double atol, double rtol)
{
    return tensor_gradcheck(identity, NULL, 1, (Tensor *[]){leaf(Z(2))}, eps, atol, rtol,
                            NULL) == -1;
}
static bool gradcheck_eps_inf(void) { return gradcheck_tol(INFINITY, 1e-3, 1e-3); }
static bool gradcheck_atol_inf(void) { return gradcheck_tol(1e-3, INFINITY, 1e-3); }
static bool gradcheck_rtol_inf(void) { return gradcheck_tol(1e-3, 1e-3, INFINITY); }
static bool gradcheck_atol_nan(void) { return gradcheck_tol(1e-3, NAN, 1e-3); }
static bool gradcheck_rtol_nan(void) { return gradcheck_tol(1e-3, 1e-3, NAN); }
static bool gradcheck_atol_neg(void) { return gradcheck_tol(1e-3, -1, 1e-3); }
static bool gradcheck_none(void)
{
    return tensor_gradcheck(NULL, NULL, 0, NULL, 1e-3, 0, 0, NULL) == -1;
}
static bool gradcheck_empty(void)
{
    return tensor_gradcheck(identity, NULL, 1, (Tensor *[]){leaf(Z(0))}, 1e-3, 0, 0, NULL) == -1;
}
static bool gradcheck_no_grad(void)
{
    return tensor_gradcheck(identity, NULL, 1, (Tensor *[]){Z(2)}, 1e-3, 0, 0, NULL) == -1;
}
static bool graph_dot_file(void) { return tensor_graph_dot(Z(2), NULL) == -1; }
static bool print_file(void) { return tensor_fprint(NULL, Z(2)) == -1; }
static bool print_precision(void)
{
    tensor_set_print_precision(31);
    return true;
}
static bool safe_entry_null(void) { return tensor_entry("x", NULL).data == NULL; }

/* Sizes no memory can address: refused before anything is allocated or a
 * size overflows.  2^k written out as P(k). */
#define P(k) (INT64_C(1) << (k))
/* A (rows, cols) view of one zero: any size, no memory. */
static Tensor *big(int64_t rows, int64_t cols) { return tensor_expand(Z(1, 1), SHAPE(rows, cols)); }
static bool zeros_huge(void) { return !tensor_zeros(SHAPE(P(62))); }
static bool zeros_product(void) { return !tensor_zeros(SHAPE(P(32), P(32), 4)); }
static bool empty_strides(void) { return !tensor_empty(SHAPE(0, P(40), P(40))); }
static bool from_data_huge(void) { return !tensor_from_data((float[]){0}, SHAPE(P(31), P(31))); }
static bool rand_huge(void) { return !tensor_rand(SHAPE(P(62))); }
static bool randn_huge(void) { return !tensor_randn(SHAPE(P(40), P(40))); }
static bool arange_huge(void) { return !tensor_arange(0, 1e30f, 1); }
static bool view_huge(void) { return !tensor_view(Z(2, 3), SHAPE(P(40), P(40), 0, -1)); }
static bool reshape_huge(void) { return !tensor_reshape(Z(0), SHAPE(P(62), 0)); }
static bool expand_huge(void) { return !tensor_expand(Z(1), SHAPE(P(62))); }
static bool add_huge(void) { return !tensor_add(big(P(40), 1), big(1, P(40))); }
static bool matmul_huge(void) { return !tensor_matmul(big(P(40), 1), big(1, P(40))); }
static bool linear_huge(void) { return !tensor_linear(big(P(40), 1), big(P(40), 1), NULL); }
static bool cat_huge(void)
{
    Tensor *v = big(P(60), 1);
    return !tensor_cat(4, (Tensor *[]){v, v, v, v}, 0);
}
static bool cat_huge_product(void)
{
    Tensor *v = big(P(40), P(20));
    return !tensor_cat(2, (Tensor *[]){v, v}, 0);
}
static bool stack_huge(void)
{
    Tensor *v = big(P(60), 1);
    return !tensor_stack(4, (Tensor *[]){v, v, v, v}, 0);
}
static bool index_select_huge(void) { return !tensor_index_select(big(2, P(59)), 0, Z(4)); }
static bool embedding_huge(void) { return !tensor_embedding(big(2, P(59)), Z(4)); }
/* Sizes that fit in an address but not in memory (2^62 bytes): NULL and a
 * message, not an abort. */
static bool zeros_oom(void) { return !tensor_zeros(SHAPE(P(60))); }
static bool rand_oom(void) { return !tensor_rand(SHAPE(P(30), P(30))); }
static bool keep_oom(void) { return !tensor_keep(tensor_expand(Z(1), SHAPE(P(60)))); }
/* Ops whose result, or a row-major copy of an input, does not fit in memory
 * return NULL with a message, as the constructors do; they aborted.  Each
 * input is small or an expanded view of one element: (2^20, 2^20) is 4 TiB. */
static Tensor *huge(void) { return tensor_expand(Z(1, 1), SHAPE(P(20), P(20))); }
static bool add_oom(void) { return !tensor_add(huge(), huge()); }
static bool exp_oom(void) { return !tensor_exp(huge()); }
static bool clone_oom(void) { return !tensor_contiguous(huge()); }
static bool matmul_oom(void) { return !tensor_matmul(Z(P(20), 1), Z(1, P(20))); }
static bool softmax_oom(void) { return !tensor_softmax(huge(), -1); }
static bool sum_dim_oom(void) { return !tensor_sum_dim(huge(), 0, false); }
static bool cat_oom(void) { return !tensor_cat(2, (Tensor *[]){huge(), huge()}, 0); }
static bool gt_oom(void) { return !tensor_gt(huge(), huge()); }
static bool silu_oom(void) { return !tensor_silu(huge()); }
static bool topk_oom(void) { return !tensor_topk(huge(), 1, NULL); }

/* issue 23's building blocks */
static bool from_ids_null(void) { return !tensor_from_ids(NULL, SHAPE(2)); }
static bool from_ids_range(void)
{
    return !tensor_from_ids((const int64_t[]){3, 16777217}, SHAPE(2));
}
static bool from_ids_shape(void) { return !tensor_from_ids((const int64_t[]){1}, SHAPE(-1)); }
static bool to_ids_frac(void)
{
    int64_t *ids, n;
    return tensor_to_ids(vec(2, (float[]){1, 0.5f}), &ids, &n) == -1;
}
static bool to_ids_range(void)
{
    int64_t *ids, n;
    return tensor_to_ids(vec(1, (float[]){-3e7f}), &ids, &n) == -1;
}
static bool to_ids_null_out(void) { return tensor_to_ids(Z(2), NULL, NULL) == -1; }
static bool randint_empty(void) { return !tensor_randint(5, 5, SHAPE(3), NULL); }
static bool randint_reversed(void) { return !tensor_randint(5, 2, SHAPE(3), NULL); }
static bool randint_wide(void) { return !tensor_randint(0, INT64_C(1) << 32, SHAPE(3), NULL); }
static bool randint_shape(void) { return !tensor_randint(0, 2, SHAPE(-3), NULL); }
static Tensor *index_2d(float v) { return tensor_from_data((const float[]){v}, SHAPE(1, 1)); }
static bool gather_dim(void) { return !tensor_gather(Z(3, 4), 2, index_2d(0)); }
static bool gather_range(void) { return !tensor_gather(Z(3, 4), 1, index_2d(4)); }
static bool gather_negative(void) { return !tensor_gather(Z(3, 4), 1, index_2d(-1)); }
static bool gather_frac(void) { return !tensor_gather(Z(3, 4), 0, index_2d(1.5f)); }
static bool gather_ndim(void) { return !tensor_gather(Z(3, 4), 1, Z(2)); }
static bool gather_size(void) { return !tensor_gather(Z(3, 4), 1, Z(4, 1)); }
static bool gather_0d(void) { return !tensor_gather(tensor_scalar(1), 0, tensor_scalar(0)); }
static bool ce_ignore_class(void)
{
    return !tensor_cross_entropy_ex(Z(2, 3), vec(2, (float[]){0, 1}),
                                    TENSOR_LOSS_OPTIONS(.ignore_index = 1));
}
static bool ce_literal_options(void)
{
    return !tensor_cross_entropy_ex(Z(2, 3), vec(2, (float[]){0, 1}), (TensorLossOptions){0});
}
static bool ce_reduction(void)
{
    return !tensor_cross_entropy_ex(Z(2, 3), vec(2, (float[]){0, 1}),
                                    TENSOR_LOSS_OPTIONS(.reduction = (TensorReduction)7));
}
static bool ce_pos_weight(void)
{
    return !tensor_cross_entropy_ex(Z(2, 3), vec(2, (float[]){0, 1}),
                                    TENSOR_LOSS_OPTIONS(.pos_weight = Z(3)));
}
static bool ce_nd_target(void)
{
    return !tensor_cross_entropy(Z(2, 3, 4), tensor_from_data((const float[]){0, 1, 2, 0, 1, 3,
                                                                              0, 0},
                                                              SHAPE(2, 4)));
}
static bool nll_shape(void) { return !tensor_nll_loss(Z(2, 3), Z(2, 1)); }
static bool nll_range(void) { return !tensor_nll_loss(Z(2, 3), vec(2, (float[]){2, -5})); }
static bool nll_0d(void) { return !tensor_nll_loss(tensor_scalar(0), tensor_scalar(0)); }
static bool bcel_pos_weight(void)
{
    return !tensor_bce_with_logits_ex(Z(2, 3), Z(2, 3), TENSOR_LOSS_OPTIONS(.pos_weight = Z(2)));
}
static bool bcel_reduction(void)
{
    return !tensor_bce_with_logits_ex(Z(2, 3), Z(2, 3),
                                      TENSOR_LOSS_OPTIONS(.reduction = (TensorReduction)-1));
}
static bool bcel_shapes(void) { return !tensor_bce_with_logits(Z(2, 3), Z(3, 2)); }
static bool eq_broadcast(void) { return !tensor_eq(Z(2, 3), Z(2)); }
static bool le_broadcast(void) { return !tensor_le(Z(4, 1), Z(3, 2)); }
static bool leaky_slope(void) { return !tensor_leaky_relu(Z(2), INFINITY); }
static bool softplus_beta(void) { return !tensor_softplus(Z(2), 0, 20); }
static bool softplus_threshold(void) { return !tensor_softplus(Z(2), 1, NAN); }
static bool topk_k(void) { return !tensor_topk(Z(2, 3), 4, NULL); }
static Tensor *id_forward(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)ctx, (void)arg;
    return in[0];
}
static Tensor *save_nine(TensorFunctionCtx *ctx, Tensor *const *in, const void *arg)
{
    (void)arg;
    for (int i = 0; i < 9; i++)
        if (tensor_save_for_backward(ctx, in[0])) return NULL;
    return in[0];
}
static void id_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx;
    dx[0] = (Tensor *)dy;
}
static void shape_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx;
    dx[0] = tensor_t(dy);
}
static void null_backward(TensorFunctionCtx *ctx, const Tensor *dy, Tensor **dx)
{
    (void)ctx, (void)dy, (void)dx;
}
static bool function_null(void)
{
    return !tensor_function_apply(NULL, 1, (Tensor *[]){Z(2)}, NULL);
}
static bool function_no_backward(void)
{
    const TensorFunction f = {"Half", id_forward, NULL};
    return !tensor_function_apply(&f, 1, (Tensor *[]){Z(2)}, NULL);
}
static bool function_inputs(void)
{
    const TensorFunction f = {"Id", id_forward, id_backward};
    return !tensor_function_apply(&f, 0, (Tensor *[]){Z(2)}, NULL);
}
static bool function_save_nine(void)
{
    const TensorFunction f = {"Hoard", save_nine, id_backward};
    return !tensor_function_apply(&f, 1, (Tensor *[]){Z(2)}, NULL);
}
static bool function_backward(void (*backward)(TensorFunctionCtx *, const Tensor *, Tensor **))
{
    const TensorFunction f = {"Mine", id_forward, backward};
    Tensor *y = tensor_function_apply(&f, 1, (Tensor *[]){leaf(Z(2, 3))}, NULL);
    return tensor_backward(tensor_sum(y), NULL) == -1;
}
static bool function_wrong_shape(void) { return function_backward(shape_backward); }
static bool function_null_grad(void) { return function_backward(null_backward); }

static const Row tensor_rows[] = {
    {"scope_begin: too deep", scope_too_deep, "scope_begin: scopes nested deeper than 64"},
    {"scope_end: twice", scope_end_twice, "scope_end: not an open scope (it has ended already, or is another thread's)"},
    {"tensor_free: a scope's tensor", free_scoped,
     "tensor_free: tensor (2) belongs to a scope; end the scope instead"},
    {"empty: -1 dims", empty_ndim, "empty: -1 dims; between 0 and 8 are supported"},
    {"zeros: 9 dims", zeros_ndim, "zeros: 9 dims; between 0 and 8 are supported"},
    {"ones: NULL shape", ones_null_shape, "ones: shape is NULL"},
    {"full: negative size", full_negative, "full: negative size -3 in dim 1"},
    {"from_data: NULL data", from_data_null, "from_data: data is NULL"},
    {"arange: step 0", arange_step0, "arange: bad range start=0 end=1 step=0"},
    {"arange: NaN end", arange_nan, "arange: bad range start=0 end=nan step=1"},
    {"arange: wrong way", arange_away, "arange: step -1 goes away from end (start=0 end=5)"},
    {"copy_: shapes", copy_shapes, "copy_: shapes differ, (2,3) <- (3,2)"},
    {"item: 4 elements", item_many, "item: tensor of shape (2,2) has 4 elements, not 1"},
    {"get: index count", get_count, "get: 1 indices for a 2-d tensor (2,3)"},
    {"get: out of range", get_range, "get: index 3 out of range for dim 1 of (2,3)"},
    {"set: out of range", set_range, "set: index -3 out of range for dim 0 of (2,3)"},
    {"rand: negative size", rand_negative, "rand: negative size -1 in dim 0"},
    {"randn: 9 dims", randn_ndim, "randn: 9 dims; between 0 and 8 are supported"},
    {"uniform_: from > to", uniform_order, "uniform_: from 1 > to 0 for (2)"},
    {"uniform_: infinite", uniform_inf, "uniform_: range [0, inf) of (2) is not finite"},
    {"normal_: std < 0", normal_std,
     "normal_: mean 0, std -1 for (2): need a finite mean and std >= 0"},
    {"bernoulli_: p 1.5", bernoulli_p, "bernoulli_: p = 1.5 for (2) is not in [0, 1]"},
    {"bernoulli_: p NaN", bernoulli_nan, "bernoulli_: p = nan for (2) is not in [0, 1]"},
    {"requires_grad_: not a leaf", requires_grad_nonleaf,
     "requires_grad_: tensor (2) is not a leaf (made by MulBackward0); detach it first"},
    {"backward: no grad", backward_no_grad,
     "backward: tensor () does not require grad and has no grad_fn"},
    {"backward: not a scalar", backward_not_scalar,
     "backward: grad can be implicitly created only for scalar outputs; output has shape (2,3)"},
    {"backward: seed shape", backward_seed_shape,
     "backward: grad_output shape (3) differs from output shape (2)"},
    {"backward: NULL", backward_null, ""},
    {"add: broadcast", add_broadcast, "add: shapes (2,3) and (4) cannot broadcast (dim 1: 3 vs 4)"},
    {"mul: broadcast", mul_broadcast,
     "mul: shapes (2,3) and (3,3) cannot broadcast (dim 0: 2 vs 3)"},
    {"exp: NULL", exp_null, ""},
    {"div: NULL", div_null, ""},
    {"sum_dim: dim 2", sum_dim_range,
     "sum_dim: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"mean_dim: dim -3", mean_dim_range,
     "mean_dim: dim -3 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"max_dim: empty dim", max_dim_empty,
     "max_dim: dim 1 of (2,0) has size 0; the reduction needs at least one element"},
    {"argmax: dim 1", argmax_range,
     "argmax: dim 1 out of range for a 1-d tensor (4) (expected -1 to 0)"},
    {"var_dim: dim 1", var_dim_range,
     "var_dim: dim 1 out of range for a 1-d tensor (4) (expected -1 to 0)"},
    {"matmul: inner sizes", matmul_inner, "matmul: (6,3) @ (2,3): inner sizes differ (3 != 2)"},
    {"matmul: 0-d", matmul_0d,
     "matmul: () @ (2): both operands need at least 1 dim, got a 0-d one"},
    {"matmul: batch dims", matmul_batch, "matmul: (2,3,4) @ (3,4,5): batch dims do not broadcast"},
    {"linear: in features", linear_features,
     "linear: input (6,3), weight (2,4): in features differ (3 != 4)"},
    {"linear: bias", linear_bias, "linear: bias (3) must be (2) for weight (2,3)"},
    {"linear: 1-d weight", linear_weight_1d, "linear: weight (3) must be 2-d (out, in)"},
    {"softmax: dim 2", softmax_dim,
     "softmax: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"log_softmax: dim -3", log_softmax_dim,
     "log_softmax: dim -3 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"masked_fill: mask", masked_fill_shape,
     "masked_fill: mask (3,2) is not broadcastable to input (2,3)"},
    {"triu: 1-d", triu_1d, "triu: input (3) must have at least 2 dims"},
    {"t: 3-d", t_3d, "t: expects a tensor with <= 2 dimensions, but got a 3-d tensor (2,3,4)"},
    {"transpose: dim 2", transpose_dim,
     "transpose: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"permute: count", permute_count, "permute: 1 dims given for a 2-d tensor (2,3)"},
    {"get: NULL index array", get_null_index, "get: index array is NULL"},
    {"set: NULL index array", set_null_index, "set: index array is NULL"},
    {"is_contiguous/same_shape: NULL", contiguous_null, ""},
    {"permute: NULL dims", permute_null, "permute: dims is NULL"},
    {"view: NULL shape", view_null, "view: shape is NULL"},
    {"reshape: NULL shape", reshape_null, "reshape: shape is NULL"},
    {"expand: NULL shape", expand_null, "expand: shape is NULL"},
    {"cat: NULL list", cat_null_list, "cat: the list of tensors is NULL"},
    {"permute: repeated", permute_repeat,
     "permute: dims (0,0) are not a permutation of the dims of (2,3)"},
    {"view: numel", view_numel, "view: shape (4) is invalid for a tensor (2,3) of 6 elements"},
    {"view: two -1", view_two_minus,
     "view: shape (-1,-1): only one size may be -1, and no other may be negative"},
    {"view: strides", view_strides,
     "view: shape (6) is not compatible with the strides (1,3) of (3,2) (a dim would span two "
     "non-contiguous parts); use reshape"},
    {"reshape: numel", reshape_numel,
     "reshape: shape (7) is invalid for a tensor (2,3) of 6 elements"},
    {"narrow: past the end", narrow_range,
     "narrow: start 2 + length 2 does not fit in size 3 of dim 1 of (2,3)"},
    {"narrow: 0-d", narrow_0d, "narrow: cannot narrow a 0-d tensor"},
    {"narrow: length INT64_MAX (start + length overflows)", narrow_huge,
     "narrow: start 2 + length 9223372036854775807 does not fit in size 6 of dim 0 of (6)"},
    {"unsqueeze: dim 4", unsqueeze_dim,
     "unsqueeze: dim 4 out of range for a 2-d tensor (2,3) (expected -3 to 2)"},
    {"squeeze: dim 2", squeeze_dim,
     "squeeze: dim 2 out of range for a 2-d tensor (2,3) (expected -2 to 1)"},
    {"expand: size", expand_size,
     "expand: size 4 does not match size 3 of (2,3) in dim 1 (only size-1 dims expand; -1 keeps an "
     "existing size), target (2,4)"},
    {"cat: no tensors", cat_empty, "cat: expected a non-empty list of tensors, got 0"},
    {"cat: sizes", cat_shapes,
     "cat: sizes must match except in dim 0: tensor 0 is (2,3), tensor 1 is (3,2)"},
    {"cat: NULL", cat_null, ""},
    {"stack: shapes", stack_shapes,
     "stack: tensors must have the same shape: tensor 0 is (2), tensor 1 is (3)"},
    {"index_select: out of range", index_select_range,
     "index_select: index 3 at position 0 is out of range for dim 0 of (3,2) (expected 0 to 2)"},
    {"index_select: fraction", index_select_frac,
     "index_select: index 0.5 at position 0 is not a whole number"},
    {"index_select: 2-d index", index_select_2d,
     "index_select: index must be 0-d or 1-d, got (1,1)"},
    {"embedding: out of range", embedding_range,
     "embedding: index 4 at position 1 is out of range for dim 0 of (4,2) (expected 0 to 3)"},
    {"dropout: p 1.5", dropout_p, "dropout: probability p = 1.5 for (2) is not between 0 and 1"},
    {"dropout: p NaN", dropout_nan, "dropout: probability p = nan for (2) is not between 0 and 1"},
    {"normal_: mean NaN", normal_nan,
     "normal_: mean nan, std 1 for (2): need a finite mean and std >= 0"},
    {"cross_entropy: target NaN", ce_target_nan,
     "cross_entropy: target[0] = nan is not a class index (a whole number from 0 to 2)"},
    {"index_select: index NaN", index_nan,
     "index_select: index nan at position 0 is not a whole number"},
    {"mse_loss: shapes", mse_shapes, "mse_loss: pred (2,3) and target (3,2) have different shapes"},
    {"cross_entropy: target shape", ce_target_shape,
     "cross_entropy: logits (2,3) need a target of shape (2), got (3)"},
    {"cross_entropy: class 3 of 3", ce_target_range,
     "cross_entropy: target[1] = 3 is out of range for 3 classes (0 to 2)"},
    {"cross_entropy: class 1.5", ce_target_frac,
     "cross_entropy: target[1] = 1.5 is not a class index (a whole number from 0 to 2)"},
    {"cross_entropy: 3-d logits, 1-d target", ce_logits_3d,
     "cross_entropy: logits (2,3,4) need a target of shape (2,4), got (2)"},
    {"gradcheck: eps 0", gradcheck_eps, "gradcheck: eps must be positive and finite, got 0"},
    {"gradcheck: eps inf", gradcheck_eps_inf,
     "gradcheck: eps must be positive and finite, got inf"},
    {"gradcheck: atol inf", gradcheck_atol_inf,
     "gradcheck: atol and rtol must be finite and >= 0, got atol inf, rtol 0.001"},
    {"gradcheck: rtol inf", gradcheck_rtol_inf,
     "gradcheck: atol and rtol must be finite and >= 0, got atol 0.001, rtol inf"},
    {"gradcheck: atol nan", gradcheck_atol_nan,
     "gradcheck: atol and rtol must be finite and >= 0, got atol nan, rtol 0.001"},
    {"gradcheck: rtol nan", gradcheck_rtol_nan,
     "gradcheck: atol and rtol must be finite and >= 0, got atol 0.001, rtol nan"},
    {"gradcheck: atol -1", gradcheck_atol_neg,
     "gradcheck: atol and rtol must be finite and >= 0, got atol -1, rtol 0.001"},
    {"gradcheck: nothing", gradcheck_none, "gradcheck: no function or inputs"},
    {"gradcheck: empty input", gradcheck_empty,
     "gradcheck: the inputs that require grad have no elements; nothing to check"},
    {"gradcheck: no input requires grad", gradcheck_no_grad,
     "gradcheck: no input requires grad; nothing to check"},
    {"graph_dot: NULL FILE", graph_dot_file, "graph_dot: FILE is NULL"},
    {"fprint: NULL FILE", print_file, "print: FILE is NULL"},
    {"set_print_precision: 31", print_precision,
     "set_print_precision: 31 digits; between 0 and 30 are supported"},
    {"tensor_entry: NULL tensor", safe_entry_null, ""},
    {"zeros: 2^62 elements", zeros_huge,
     "zeros: shape (4611686018427387904) is too large: its element count or strides would exceed "
     "2305843009213693951"},
    {"zeros: sizes whose product overflows", zeros_product,
     "zeros: shape (4294967296,4294967296,4) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"empty: no elements, strides past 2^61", empty_strides,
     "empty: shape (0,1099511627776,1099511627776) is too large: its element count or strides "
     "would exceed 2305843009213693951"},
    {"from_data: 2^62 elements", from_data_huge,
     "from_data: shape (2147483648,2147483648) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"rand: 2^62 elements", rand_huge,
     "rand: shape (4611686018427387904) is too large: its element count or strides would exceed "
     "2305843009213693951"},
    {"randn: 2^80 elements", randn_huge,
     "randn: shape (1099511627776,1099511627776) is too large: its element count or strides "
     "would exceed 2305843009213693951"},
    {"arange: 1e30 values", arange_huge,
     "arange: start=0 end=1e+30 step=1 gives 1e+30 values, more than 2305843009213693951"},
    {"view: sizes whose product overflows", view_huge,
     "view: shape (1099511627776,1099511627776,0,-1) is invalid for a tensor (2,3) of 6 "
     "elements"},
    {"reshape: no elements, strides past 2^61", reshape_huge,
     "reshape: shape (4611686018427387904,0) is invalid for a tensor (0) of 0 elements"},
    {"expand: 2^62 elements", expand_huge,
     "expand: shape (4611686018427387904) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"add: broadcast to 2^80 elements", add_huge,
     "add: shape (1099511627776,1099511627776) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"matmul: 2^80 elements", matmul_huge,
     "matmul: shape (1099511627776,1099511627776) is too large: its element count or strides "
     "would exceed 2305843009213693951"},
    {"linear: 2^80 elements", linear_huge,
     "linear: shape (1099511627776,1099511627776) is too large: its element count or strides "
     "would exceed 2305843009213693951"},
    {"cat: sizes add up past 2^61", cat_huge,
     "cat: the sizes in dim 0 add up past 2305843009213693951"},
    {"cat: 2^61 elements", cat_huge_product,
     "cat: shape (2199023255552,1048576) is too large: its element count or strides would exceed "
     "2305843009213693951"},
    {"stack: 2^62 elements", stack_huge,
     "stack: shape (4,1152921504606846976,1) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"index_select: 2^62 elements", index_select_huge,
     "index_select: shape (4,576460752303423488) is too large: its element count or strides "
     "would exceed 2305843009213693951"},
    {"embedding: 2^62 elements", embedding_huge,
     "embedding: shape (4,576460752303423488) is too large: its element count or strides would "
     "exceed 2305843009213693951"},
    {"zeros: out of memory", zeros_oom,
     "zeros: out of memory for a tensor of shape (1152921504606846976)"},
    {"rand: out of memory", rand_oom,
     "rand: out of memory for a tensor of shape (1073741824,1073741824)"},
    {"keep: out of memory", keep_oom,
     "keep: out of memory for a tensor of shape (1152921504606846976)"},
    {"add: out of memory", add_oom,
     "add: out of memory for a result of shape (1048576,1048576)"},
    {"exp: out of memory", exp_oom,
     "exp: out of memory for a row-major copy of an input of shape (1048576,1048576)"},
    {"contiguous: out of memory", clone_oom,
     "clone: out of memory for a row-major copy of an input of shape (1048576,1048576)"},
    {"matmul: out of memory", matmul_oom,
     "matmul: out of memory for a result of shape (1048576,1048576)"},
    {"softmax: out of memory", softmax_oom,
     "softmax: out of memory for a result of shape (1048576,1048576)"},
    {"sum_dim: out of memory", sum_dim_oom,
     "sum_dim: out of memory for a row-major copy of an input of shape (1048576,1048576)"},
    {"cat: out of memory", cat_oom, "cat: out of memory for a result of shape (2097152,1048576)"},
    {"gt: out of memory", gt_oom, "gt: out of memory for a result of shape (1048576,1048576)"},
    {"silu: out of memory", silu_oom,
     "silu: out of memory for a row-major copy of an input of shape (1048576,1048576)"},
    {"topk: out of memory", topk_oom,
     "topk: out of memory for a row-major copy of an input of shape (1048576,1048576)"},
    {"from_ids: NULL ids", from_ids_null, "from_ids: ids is NULL"},
    {"from_ids: past 2^24", from_ids_range,
     "from_ids: ids[1] = 16777217 is outside +-16777216, where float ids are exact"},
    {"from_ids: negative size", from_ids_shape, "from_ids: negative size -1 in dim 0"},
    {"to_ids: a fraction", to_ids_frac,
     "to_ids: element 1 of (2) is 0.5, not a whole number within +-16777216 (where float ids "
     "are exact)"},
    {"to_ids: past 2^24", to_ids_range,
     "to_ids: element 0 of (1) is -30000000, not a whole number within +-16777216 (where float "
     "ids are exact)"},
    {"to_ids: NULL ids and n", to_ids_null_out, "to_ids: ids or n is NULL"},
    {"randint: low == high", randint_empty, "randint: low 5 must be less than high 5"},
    {"randint: low > high", randint_reversed, "randint: low 5 must be less than high 2"},
    {"randint: past 2^24", randint_wide,
     "randint: [0, 4294967296) reaches past +-16777216, where float ids are exact"},
    {"randint: negative size", randint_shape, "randint: negative size -3 in dim 0"},
    {"gather: dim 2", gather_dim,
     "gather: dim 2 out of range for a 2-d tensor (3,4) (expected -2 to 1)"},
    {"gather: index 4 of 4", gather_range,
     "gather: index 4 at position 0 is out of range for dim 1 of (3,4) (expected 0 to 3)"},
    {"gather: index -1", gather_negative,
     "gather: index -1 at position 0 is out of range for dim 1 of (3,4) (expected 0 to 3)"},
    {"gather: index 1.5", gather_frac, "gather: index 1.5 at position 0 is not a whole number"},
    {"gather: index of other dims", gather_ndim,
     "gather: index (2) has 1 dims; it needs as many as input (3,4), 2"},
    {"gather: index larger than input", gather_size,
     "gather: index (4,1) is larger than input (3,4) in dim 0 (4 > 3); only dim 1, the one "
     "gathered along, may be"},
    {"gather: 0-d", gather_0d, "gather: cannot gather from a 0-d tensor"},
    {"cross_entropy_ex: ignore_index a class", ce_ignore_class,
     "cross_entropy: ignore_index 1 is a real class (0 to 2): its targets would silently add "
     "nothing; use a value outside the classes, such as PyTorch's default -100 "
     "(TENSOR_LOSS_OPTIONS() starts from it)"},
    {"cross_entropy_ex: a literal's ignore_index 0", ce_literal_options,
     "cross_entropy: ignore_index 0 is a real class (0 to 2): its targets would silently add "
     "nothing; use a value outside the classes, such as PyTorch's default -100 "
     "(TENSOR_LOSS_OPTIONS() starts from it)"},
    {"cross_entropy_ex: reduction 7", ce_reduction,
     "cross_entropy: reduction 7 is not TENSOR_REDUCTION_MEAN, _SUM or _NONE"},
    {"cross_entropy_ex: pos_weight", ce_pos_weight,
     "cross_entropy: pos_weight is an option of bce_with_logits only"},
    {"cross_entropy: (N,d) target out of range", ce_nd_target,
     "cross_entropy: target[1,1] = 3 is out of range for 3 classes (0 to 2)"},
    {"nll_loss: target shape", nll_shape,
     "nll_loss: input (2,3) need a target of shape (2), got (2,1)"},
    {"nll_loss: class -5", nll_range,
     "nll_loss: target[1] = -5 is out of range for 3 classes (0 to 2)"},
    {"nll_loss: 0-d input", nll_0d,
     "nll_loss: input () need a class dim: (C), (N,C) or (N,C,d1,...)"},
    {"bce_with_logits_ex: pos_weight shape", bcel_pos_weight,
     "binary_cross_entropy_with_logits: pos_weight (2) does not broadcast to input (2,3)"},
    {"bce_with_logits_ex: reduction -1", bcel_reduction,
     "binary_cross_entropy_with_logits: reduction -1 is not TENSOR_REDUCTION_MEAN, _SUM or _NONE"},
    {"bce_with_logits: shapes", bcel_shapes,
     "binary_cross_entropy_with_logits: input (2,3) and target (3,2) have different shapes"},
    {"eq: broadcast", eq_broadcast, "eq: shapes (2,3) and (2) cannot broadcast (dim 1: 3 vs 2)"},
    {"le: broadcast", le_broadcast,
     "le: shapes (4,1) and (3,2) cannot broadcast (dim 0: 4 vs 3)"},
    {"leaky_relu: slope inf", leaky_slope, "leaky_relu: negative_slope inf for (2) must be finite"},
    {"softplus: beta 0", softplus_beta,
     "softplus: beta 0, threshold 20 for (2): beta must be finite and not 0, threshold a number"},
    {"softplus: threshold NaN", softplus_threshold,
     "softplus: beta 1, threshold nan for (2): beta must be finite and not 0, threshold a number"},
    {"topk: k 4 of 3", topk_k, "topk: k = 4 out of range for last dim of (2,3) (size 3)"},
    {"function_apply: NULL function", function_null,
     "function_apply: the function, its name, forward or backward is NULL"},
    {"function_apply: no backward", function_no_backward,
     "function_apply: the function, its name, forward or backward is NULL"},
    {"function_apply: 0 inputs", function_inputs, "Id: 0 inputs given; 1 to 8 are supported"},
    {"save_for_backward: a ninth tensor", function_save_nine,
     "save_for_backward: 8 tensors saved already; 8 are supported"},
    {"function backward: wrong shape", function_wrong_shape,
     "MineBackward: backward gave a gradient of shape (3,2) for input 0, which has shape (2,3)"},
    {"function backward: NULL gradient", function_null_grad,
     "MineBackward: backward gave no gradient (NULL) for input 0 (2,3), which requires grad"},
};

START_TEST(test_tensor_entry_points) { run_row(&tensor_rows[_i]); }
END_TEST

/* A NULL tensor (or module, optimizer, file) passes through: the call fails
 * or does nothing, and adds no message.  Calls that return nothing count as
 * "failed" once they have returned. */
#define NULL_ROW(fn, expr) \
    static bool fn(void) { return (expr); }
#define A Z(2, 3)
NULL_ROW(n_keep, !tensor_keep(NULL))
NULL_ROW(n_free, (tensor_free(NULL), true))
NULL_ROW(n_zeros_like, !tensor_zeros_like(NULL))
NULL_ROW(n_clone, !tensor_clone(NULL))
NULL_ROW(n_copy, !tensor_copy_(NULL, A) && !tensor_copy_(A, NULL))
NULL_ROW(n_fill, !tensor_fill_(NULL, 1))
NULL_ROW(n_item, isnan(tensor_item(NULL)))
NULL_ROW(n_get, isnan(tensor_get(NULL, IDX(0))))
NULL_ROW(n_set, tensor_set(NULL, 1, IDX(0)) == -1)
NULL_ROW(n_shape_str, !strcmp(tensor_shape_str(NULL), "(null)"))
NULL_ROW(n_rand_gen, tensor_rand_gen(SHAPE(2), NULL) != NULL) /* NULL: the default generator */
NULL_ROW(n_uniform, !tensor_uniform_(NULL, 0, 1, NULL))
NULL_ROW(n_normal, !tensor_normal_(NULL, 0, 1, NULL))
NULL_ROW(n_bernoulli, !tensor_bernoulli_(NULL, 0.5f, NULL))
NULL_ROW(n_requires_grad, !tensor_requires_grad_(NULL, true))
NULL_ROW(n_zero_grad, (tensor_zero_grad(NULL), true))
NULL_ROW(n_detach, !tensor_detach(NULL))
NULL_ROW(n_grad_fn_name, !tensor_grad_fn_name(NULL))
NULL_ROW(n_nn_requires_grad, !nn_requires_grad_(NULL, false))
NULL_ROW(n_trainable, nn_num_trainable_parameters(NULL) == 0)
NULL_ROW(n_set_lr, optim_set_lr(NULL, 0, 0.1) == -1 && isnan(optim_get_lr(NULL, 0)))
NULL_ROW(n_scheduler, !optim_step_lr(NULL, 1, 0.1) && !optim_cosine_annealing_lr(NULL, 1, 0) &&
                          optim_scheduler_step(NULL) == -1 && (optim_scheduler_free(NULL), true))
NULL_ROW(n_unary, !tensor_neg(NULL) && !tensor_pow(NULL, 2) && !tensor_log(NULL) &&
                      !tensor_sqrt(NULL) && !tensor_tanh(NULL) && !tensor_sigmoid(NULL) &&
                      !tensor_relu(NULL) && !tensor_gelu(NULL) && !tensor_abs(NULL) &&
                      !tensor_clamp(NULL, 0, 1))
NULL_ROW(n_binary, !tensor_add(NULL, A) && !tensor_sub(A, NULL) && !tensor_mul(NULL, NULL) &&
                       !tensor_add_scalar(NULL, 1) && !tensor_sub_scalar(NULL, 1) &&
                       !tensor_mul_scalar(NULL, 1) && !tensor_div_scalar(NULL, 1))
NULL_ROW(n_reduce, !tensor_sum(NULL) && !tensor_sum_dim(NULL, 0, false) && !tensor_mean(NULL) &&
                       !tensor_mean_dim(NULL, 0, true) && !tensor_max_dim(NULL, 0, false, NULL) &&
                       !tensor_argmax(NULL, 0, false) && !tensor_var(NULL, 1) &&
                       !tensor_var_dim(NULL, 0, 1, false))
NULL_ROW(n_matmul,
         !tensor_matmul(NULL, A) && !tensor_linear(NULL, A, NULL) && !tensor_linear(A, NULL, NULL))
NULL_ROW(n_softmax, !tensor_softmax(NULL, 0) && !tensor_log_softmax(NULL, 0) &&
                        !tensor_masked_fill(A, NULL, 0) && !tensor_masked_fill(NULL, A, 0) &&
                        !tensor_triu(NULL, 0) && !tensor_tril(NULL, 0))
NULL_ROW(n_shape, !tensor_t(NULL) && !tensor_transpose(NULL, 0, 1) &&
                      !tensor_permute(NULL, IDX(0, 1)) && !tensor_view(NULL, SHAPE(6)) &&
                      !tensor_reshape(NULL, SHAPE(6)) && !tensor_flatten(NULL) &&
                      !tensor_narrow(NULL, 0, 0, 1) && !tensor_unsqueeze(NULL, 0) &&
                      !tensor_squeeze(NULL, 0) && !tensor_expand(NULL, SHAPE(2, 3)) &&
                      !tensor_contiguous(NULL))
NULL_ROW(n_join, !tensor_stack(1, (Tensor *[]){NULL}, 0) && !tensor_index_select(A, 0, NULL) &&
                     !tensor_embedding(NULL, A) && !tensor_embedding(A, NULL))
NULL_ROW(n_losses, !tensor_dropout(NULL, 0.5f, true, NULL) && !tensor_mse_loss(NULL, A) &&
                       !tensor_cross_entropy(A, NULL))
NULL_ROW(n_building_blocks,
         tensor_to_ids(NULL, NULL, NULL) == -1 && !tensor_gather(NULL, 0, A) &&
             !tensor_gather(A, 0, NULL) && !tensor_nll_loss(NULL, A) && !tensor_nll_loss(A, NULL) &&
             !tensor_cross_entropy_ex(NULL, A, TENSOR_LOSS_OPTIONS()) &&
             !tensor_bce_with_logits_ex(A, NULL, TENSOR_LOSS_OPTIONS()) && !tensor_eq(NULL, A) &&
             !tensor_ne(A, NULL) && !tensor_gt_scalar(NULL, 0) && !tensor_le_scalar(NULL, 0) &&
             !tensor_silu(NULL) && !tensor_leaky_relu(NULL, 0.1f) &&
             !tensor_softplus(NULL, 1, 20) && !tensor_topk(NULL, 1, NULL) &&
             tensor_save_for_backward(&(TensorFunctionCtx){0}, NULL) == -1)
NULL_ROW(n_set_name, !tensor_set_name(NULL, "x"))
NULL_ROW(n_print,
         tensor_print(NULL) == -1 && tensor_fprint(stdout, NULL) == -1 && !tensor_format(NULL))
NULL_ROW(n_scope_end, (tensor_scope_end(NULL), true))
NULL_ROW(n_file, tensor_file_count(NULL) == 0 && !tensor_file_entry(NULL, 0) &&
                     !tensor_file_find(NULL, "a") && !tensor_file_meta(NULL, "a") &&
                     tensor_file_expect_meta(NULL, "a", "b") == -1 &&
                     (tensor_file_close(NULL), true))
NULL_ROW(n_dtype, !strcmp(tensor_dtype_name((TensorDtype)99), "?") &&
                      tensor_dtype_size((TensorDtype)-1) == 0)
#undef A

static const Row null_rows[] = {
    {"tensor_keep", n_keep, ""},
    {"tensor_free", n_free, ""},
    {"tensor_zeros_like", n_zeros_like, ""},
    {"tensor_clone", n_clone, ""},
    {"tensor_copy_", n_copy, ""},
    {"tensor_fill_", n_fill, ""},
    {"tensor_item", n_item, ""},
    {"tensor_get", n_get, ""},
    {"tensor_set", n_set, ""},
    {"tensor_shape_str", n_shape_str, ""},
    {"tensor_rand_gen", n_rand_gen, ""},
    {"tensor_uniform_", n_uniform, ""},
    {"tensor_normal_", n_normal, ""},
    {"tensor_bernoulli_", n_bernoulli, ""},
    {"tensor_requires_grad_", n_requires_grad, ""},
    {"tensor_zero_grad", n_zero_grad, ""},
    {"tensor_detach", n_detach, ""},
    {"tensor_grad_fn_name", n_grad_fn_name, ""},
    {"nn_requires_grad_", n_nn_requires_grad, ""},
    {"nn_num_trainable_parameters", n_trainable, ""},
    {"optim_set_lr, optim_get_lr", n_set_lr, ""},
    {"schedulers", n_scheduler, ""},
    {"unary ops", n_unary, ""},
    {"binary and scalar ops", n_binary, ""},
    {"reductions", n_reduce, ""},
    {"matmul, linear", n_matmul, ""},
    {"softmax and masking", n_softmax, ""},
    {"shape ops", n_shape, ""},
    {"stack, index_select, embedding", n_join, ""},
    {"dropout and losses", n_losses, ""},
    {"ids, gather, new losses, comparisons, activations, topk", n_building_blocks, ""},
    {"tensor_set_name", n_set_name, ""},
    {"printing", n_print, ""},
    {"tensor_scope_end", n_scope_end, ""},
    {"tensor_file_*", n_file, ""},
    {"tensor_dtype_*", n_dtype, ""},
};

START_TEST(test_null_passes_through) { run_row(&null_rows[_i]); }
END_TEST

/* ---- nn.h --------------------------------------------------------------------- */

static bool linear_zero(void) { return !nn_linear(0, 2, true); }
static bool linear_input(void)
{
    Module *l = nn_linear(3, 2, true);
    bool failed = !nn_forward(l, Z(6, 4));
    nn_module_free(l);
    return failed;
}
static bool dropout_module_p(void) { return !nn_dropout(-0.5f); }
static bool v1_zero(void) { return !nn_self_attention_v1(3, 0); }
static bool v2_zero(void) { return !nn_self_attention_v2(0, 2, false); }
static bool causal_context(void) { return !nn_causal_attention(3, 2, 0, 0.0f, false); }
static bool causal_dropout(void) { return !nn_causal_attention(3, 2, 6, 1.5f, false); }
static bool causal_too_long(void)
{
    Module *ca = nn_causal_attention(3, 2, 4, 0.0f, false);
    bool failed = !nn_forward(ca, Z(1, 6, 3));
    nn_module_free(ca);
    return failed;
}
static bool v2_input(void)
{
    Module *sa = nn_self_attention_v2(3, 2, false);
    bool failed = !nn_forward(sa, Z(2, 2, 6, 3));
    nn_module_free(sa);
    return failed;
}
static bool mhaw_heads(void) { return !nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, -1, false); }
static bool mha_divisible(void) { return !nn_multi_head_attention(3, 3, 6, 0.0f, 2, false); }
static bool mhaw_absurd_heads(void)
{
    return !nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, INT32_MAX, false);
}
static bool mha_absurd_heads(void) { return !nn_multi_head_attention(3, 6, 6, 0.0f, INT32_MAX, false); }
/* A module of one's own with a parameter "w", a buffer "b" and a child "c". */
static Module *own_module(ModuleForward forward)
{
    Module *m = nn_module_new(sizeof *m, "Mine", forward);
    Module *c = nn_module_new(sizeof *c, "Child", forward);
    nn_parameter(m, "w", Z(2));
    nn_buffer(m, "b", Z(2));
    nn_child(m, "c", c);
    return m;
}
static bool forward_missing(void)
{
    Module *m = own_module(NULL);
    bool failed = !nn_forward(m, Z(2));
    nn_module_free(m);
    return failed;
}
static bool child_self(void)
{
    Module *m = own_module(NULL);
    bool failed = !nn_child(m, "me", m);
    nn_module_free(m);
    return failed;
}
static bool child_cycle(void)
{
    Module *m = own_module(NULL);
    Module *c = m->children[0].module, *g = nn_module_new(sizeof *g, "Grandchild", NULL);
    nn_child(c, "g", g);
    bool failed = !nn_child(g, "up", m);
    nn_module_free(m);
    return failed;
}
static bool child_twice(void)
{
    Module *m = own_module(NULL), *n = own_module(NULL);
    bool failed = !nn_child(n, "again", m->children[0].module);
    nn_module_free(m);
    nn_module_free(n);
    return failed;
}
static bool name_taken(int kind)
{
    Module *m = own_module(NULL), *d = nn_module_new(sizeof *d, "Dup", NULL);
    bool failed = kind == 0 ? !nn_parameter(m, "w", Z(1))
                : kind == 1 ? !nn_buffer(m, "w", Z(1))
                : kind == 2 ? !nn_parameter(m, "b", Z(1))
                            : !nn_child(m, "c", d);
    nn_module_free(d);   /* refused (kind 3) or never offered: still the caller's */
    nn_module_free(m);
    return failed;
}
static bool param_dup(void) { return name_taken(0); }
static bool buffer_dup(void) { return name_taken(1); }
static bool param_on_buffer(void) { return name_taken(2); }
static bool child_dup(void) { return name_taken(3); }
static bool param_dotted(void)
{
    Module *m = own_module(NULL);
    bool failed = !nn_parameter(m, "a.b", Z(1));
    nn_module_free(m);
    return failed;
}
static bool load_v2_bias(void)
{
    Module *v1 = nn_self_attention_v1(3, 2);
    Module *v2 = nn_self_attention_v2(3, 2, true);
    bool failed = nn_self_attention_v1_load_v2(v1, v2) == -1;
    nn_module_free(v1);
    nn_module_free(v2);
    return failed;
}
static bool get_parameter_name(void)
{
    Module *sa = nn_self_attention_v2(3, 2, false);
    bool failed = !nn_get_parameter(sa, "W_query.bias");
    nn_module_free(sa);
    return failed;
}
static bool get_parameter_null_name(void)
{
    Module *l = nn_linear(3, 2, true);
    bool failed = !nn_get_parameter(l, NULL);
    nn_module_free(l);
    return failed;
}
static bool forward_null(void) { return !nn_forward(NULL, Z(6, 3)); }
static bool parameter_null(void) { return !nn_parameter(NULL, "w", Z(2)); }
static bool module_nulls(void)
{
    Module *l = nn_linear(3, 2, true);
    Module *m = l;
    bool failed = !nn_parameter(m, NULL, Z(2)) && !nn_parameter(m, "w", NULL) &&
                  !nn_buffer(NULL, "b", Z(2)) && !nn_buffer(m, "b", NULL) &&
                  !nn_child(NULL, "c", m) && !nn_child(m, "c", NULL) &&
                  !nn_get_parameter(NULL, "weight") &&
                  !nn_forward(m, NULL) && nn_num_parameters(NULL) == 0 &&
                  nn_named_parameters(NULL).count == 0 && nn_named_buffers(NULL).count == 0 &&
                  nn_self_attention_v1_load_v2(NULL, NULL) == -1 &&
                  nn_module_save(NULL, "x") == -1 && nn_module_load(NULL, "x") == -1;
    nn_train(NULL, false);
    nn_zero_grad(NULL);
    nn_list_free(NULL);
    nn_module_free(NULL);
    nn_module_free(m);
    return failed;
}

/* Loads file (in the reference folder) into a module of another kind. */
static bool load_into(Module *m, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    bool failed = nn_module_load(m, path) == -1;
    nn_module_free(m);
    return failed;
}
static bool load_wrong_kind(void)
{
    return load_into(nn_self_attention_v1(3, 2), "checkpoint_mha.safetensors");
}
static bool load_wrong_size(void)
{
    return load_into(nn_self_attention_v1(3, 4), "checkpoint_v1.safetensors");
}
static bool load_extra_tensor(void)
{
    return load_into(nn_self_attention_v2(3, 2, false), "checkpoint_v2.safetensors");
}
static bool load_missing_file(void)
{
    return load_into(nn_self_attention_v1(3, 2), "no_such.safetensors");
}
static bool load_folder(void) { return load_into(nn_self_attention_v1(3, 2), "."); }
static bool save_no_folder(void)
{
    Module *m = nn_self_attention_v1(3, 2);
    bool failed = nn_module_save(m, "/nonexistent-folder/m.safetensors") == -1;
    nn_module_free(m);
    return failed;
}
static bool save_null_path(void)
{
    Module *m = nn_self_attention_v1(3, 2);
    bool failed = nn_module_save(m, NULL) == -1;
    nn_module_free(m);
    return failed;
}

static bool leaky_module_slope(void) { return !nn_leaky_relu(NAN); }
static bool softplus_module_beta(void) { return !nn_softplus(INFINITY, 20); }

/* A module author's slot pointed at an op's output: freezing the module is
 * refused, nothing changed. */
static bool freeze_non_leaf(void)
{
    Module *m = nn_linear(3, 2, true);
    Tensor *w = m->params[0].tensor;
    m->params[0].tensor = tensor_mul_scalar(leaf(Z(2, 3)), 2);
    bool failed = !nn_requires_grad_(m, false) && m->params[1].tensor->requires_grad;
    m->params[0].tensor = w;
    nn_module_free(m);
    return failed;
}

static const Row nn_rows[] = {
    {"nn_leaky_relu: slope NaN", leaky_module_slope, "LeakyReLU: negative_slope nan must be finite"},
    {"nn_softplus: beta inf", softplus_module_beta,
     "Softplus: beta inf, threshold 20: beta must be finite and not 0, threshold a number"},
    {"nn_requires_grad_: a parameter not a leaf", freeze_non_leaf,
     "nn_requires_grad_: Linear's parameter \"weight\" (2,3) is not a leaf (made by "
     "MulBackward0)"},
    {"nn_linear: 0 in", linear_zero, "Linear: in_features 0 and out_features 2 must be positive"},
    {"Linear forward: last dim", linear_input,
     "Linear: input (6,4): expected last dim in_features = 3"},
    {"nn_dropout: p -0.5", dropout_module_p,
     "Dropout: probability has to be between 0 and 1, but got -0.5"},
    {"nn_self_attention_v1: d_out 0", v1_zero,
     "SelfAttention_v1: d_in 3 and d_out 0 must be positive"},
    {"nn_self_attention_v2: d_in 0", v2_zero,
     "SelfAttention_v2: d_in 0 and d_out 2 must be positive"},
    {"nn_causal_attention: context 0", causal_context,
     "CausalAttention: d_in 3, d_out 2 and context_length 0 must be positive"},
    {"nn_causal_attention: dropout 1.5", causal_dropout,
     "CausalAttention: dropout probability has to be between 0 and 1, but got 1.5"},
    {"CausalAttention forward: too long", causal_too_long,
     "CausalAttention: input (1,6,3): 6 tokens exceed context_length 4"},
    {"SelfAttention_v2 forward: 4-d", v2_input,
     "SelfAttention_v2: input (2,2,6,3): expected (T, 3) or (B, T, 3)"},
    {"nn_multi_head_attention_wrapper: heads", mhaw_heads,
     "MultiHeadAttentionWrapper: num_heads -1 must be positive"},
    {"nn_multi_head_attention: d_out % heads", mha_divisible,
     "MultiHeadAttention: d_out 3 must be divisible by num_heads 2"},
    {"nn_multi_head_attention_wrapper: 2^31 - 1 heads", mhaw_absurd_heads,
     "MultiHeadAttentionWrapper: num_heads 2147483647 is more than 1024"},
    {"nn_multi_head_attention: 2^31 - 1 heads", mha_absurd_heads,
     "MultiHeadAttention: d_out 6 must be divisible by num_heads 2147483647"},
    {"nn_forward: no forward function", forward_missing,
     "nn_forward: module Mine has no forward function"},
    {"nn_child: itself", child_self, "nn_child: Mine \"me\" would contain itself"},
    {"nn_child: an ancestor (cycle)", child_cycle, "nn_child: Mine \"up\" would contain itself"},
    {"nn_child: a child of another", child_twice,
     "nn_child: Child \"again\" is already a child of Mine"},
    {"nn_parameter: name taken", param_dup, "nn_parameter: Mine already has a parameter named \"w\""},
    {"nn_buffer: name taken", buffer_dup, "nn_buffer: Mine already has a parameter named \"w\""},
    {"nn_parameter: a buffer's name", param_on_buffer,
     "nn_parameter: Mine already has a buffer named \"b\""},
    {"nn_child: name taken", child_dup, "nn_child: Mine already has a child named \"c\""},
    {"nn_parameter: dotted name", param_dotted,
     "nn_parameter: Mine name \"a.b\" must be non-empty and hold no \".\""},
    {"nn_self_attention_v1_load_v2: biases", load_v2_bias,
     "self_attention_v1_load_v2: v2 has qkv biases, which v1 cannot hold"},
    {"nn_get_parameter: no such name", get_parameter_name,
     "get_parameter: SelfAttention_v2 has no parameter or buffer \"W_query.bias\""},
    {"nn_get_parameter: NULL name", get_parameter_null_name,
     "get_parameter: the name asked of Linear is NULL"},
    {"nn_forward: NULL module", forward_null, ""},
    {"nn_parameter: NULL module", parameter_null, ""},
    {"nn_*: NULL modules, names and tensors", module_nulls, ""},
    {"nn_module_load: wrong architecture", load_wrong_kind,
     "load {ref}/checkpoint_mha.safetensors: W_query is missing from the file (it holds "
     "W_key.weight, "
     "W_query.weight, W_value.weight, mask, out_proj.bias, out_proj.weight)"},
    {"nn_module_load: wrong size", load_wrong_size,
     "load {ref}/checkpoint_v1.safetensors: W_query: shape (3,2) in file, (3,4) in module"},
    {"nn_module_load: extra tensor", load_extra_tensor,
     "load {ref}/checkpoint_v2.safetensors: the file has W_key.bias, which the module does not"},
    {"nn_module_load: no file", load_missing_file,
     "load {ref}/no_such.safetensors: No such file or directory"},
    {"nn_module_load: a folder", load_folder, "load {ref}/.: not a regular file"},
    {"nn_module_save: no folder", save_no_folder,
     "save /nonexistent-folder/m.safetensors: the folder /nonexistent-folder does not exist"},
    {"nn_module_save: NULL path", save_null_path, "save: path is NULL"},
};

START_TEST(test_nn_entry_points) { run_row(&nn_rows[_i]); }
END_TEST

/* ---- fine-tuning: LoRA (nn.h), numpy's permutation (data.h), printed text (text.h) ---- */

static bool lora_rank_zero(void) { return !nn_lora_layer(3, 4, 0, 1); }
static bool lora_rank_large(void) { return !nn_lora_layer(3, 4, 5, 1); }
static bool lora_alpha_nan(void) { return !nn_lora_layer(3, 4, 2, NAN); }
static bool lora_in_zero(void) { return !nn_lora_layer(0, 4, 2, 1); }
static bool lora_input(void)
{
    Module *l = nn_lora_layer(3, 4, 2, 1);
    bool failed = !nn_forward(l, Z(2, 5));
    nn_module_free(l);
    return failed;
}
static bool wrap_not_linear(void)
{
    Module *m = nn_layer_norm(4);
    bool failed = !nn_linear_with_lora(m, 2, 1);
    nn_module_free(m);
    return failed;
}
static bool wrap_rank_large(void)
{
    Module *m = nn_linear(3, 2, true);
    bool failed = !nn_linear_with_lora(m, 4, 1) && strcmp(m->type, "Linear") == 0;
    nn_module_free(m);
    return failed;
}
static bool wrap_twice(void)
{
    Module *m = nn_linear_with_lora(nn_linear(3, 2, true), 2, 1);
    bool failed = !nn_linear_with_lora(NN(NN_AS(LinearWithLoRA, m)->linear), 2, 1);
    nn_module_free(m);
    return failed;
}
/* A Sequential holding Linear(3, 2): "0" */
static Module *seq_linear(void)
{
    Module *seq = nn_sequential();
    nn_append(seq, nn_linear(3, 2, true));
    return seq;
}
static bool replace_with(Module *m, int64_t rank, double alpha)
{
    bool failed = nn_replace_linear_with_lora(m, rank, alpha) == -1;
    nn_module_free(m);
    return failed;
}
static bool replace_rank_zero(void) { return replace_with(seq_linear(), 0, 16); }
static bool replace_alpha_inf(void) { return replace_with(seq_linear(), 2, INFINITY); }
static bool replace_rank_large(void) { return replace_with(seq_linear(), 4, 16); }
static bool replace_no_linear(void) { return replace_with(nn_layer_norm(4), 2, 16); }
static bool replace_root_linear(void) { return replace_with(nn_linear(3, 2, true), 2, 16); }
static bool replace_twice(void)
{
    Module *m = seq_linear();
    nn_replace_linear_with_lora(m, 2, 16);
    return replace_with(m, 2, 16);
}
static bool count_rank_large(void)
{
    return nn_gpt_lora_parameters((NNGPTConfig){50257, 1024, 768, 12, 12, 0.1, true}, 2, 769) == -1;
}
static bool count_head_zero(void)
{
    return nn_gpt_lora_parameters((NNGPTConfig){50257, 1024, 768, 12, 12, 0.1, true}, 0, 16) == -1;
}
static bool count_overflow(void)
{
    NNGPTConfig huge = {50257, 1024, INT64_C(1) << 40, 16, 1024, 0.1, true};
    return nn_gpt_lora_parameters(huge, 2, INT64_C(1) << 20) == -1;
}
static bool merge_none(void)
{
    Module *m = seq_linear();
    bool failed = nn_lora_merge(m) == -1;
    nn_module_free(m);
    return failed;
}
static bool lora_save_none(void)
{
    Module *m = seq_linear();
    bool failed = nn_lora_save(m, "lora.safetensors") == -1;
    nn_module_free(m);
    return failed;
}
static bool lora_load_missing(void)
{
    Module *m = seq_linear();
    nn_replace_linear_with_lora(m, 2, 16);
    bool failed = nn_lora_load(m, ATTOGRAD_REFERENCE_DIR "/no_such.safetensors") == -1;
    nn_module_free(m);
    return failed;
}
static bool numpy_seed(void)
{
    int64_t out[2];
    return data_numpy_random_state_permutation(INT64_C(1) << 32, 2, out) == -1;
}
static bool numpy_negative_n(void)
{
    return data_numpy_random_state_permutation(123, -1, (int64_t[1]){0}) == -1;
}
static bool numpy_null_out(void) { return data_numpy_random_state_permutation(123, 3, NULL) == -1; }
static bool decode_replace_null(void)
{
    return !text_decode_replace(NULL, (int64_t[]){1}, 1, NULL);
}

static const Row finetune_rows[] = {
    {"nn_lora_layer: rank 0", lora_rank_zero, "LoRALayer: rank 0 must be at least 1"},
    {"nn_lora_layer: rank above both sizes", lora_rank_large,
     "LoRALayer: rank 5 is larger than the layer (in_dim 3, out_dim 4): at most max(in, out) = 4"},
    {"nn_lora_layer: alpha NaN", lora_alpha_nan, "LoRALayer: alpha nan must be finite"},
    {"nn_lora_layer: in_dim 0", lora_in_zero, "LoRALayer: in_dim 0 and out_dim 4 must be positive"},
    {"LoRALayer forward: last dim", lora_input,
     "LoRALayer: input (2,5): expected last dim in_dim = 3"},
    {"nn_linear_with_lora: not a Linear", wrap_not_linear,
     "LinearWithLoRA: the module is a LayerNorm, not a Linear"},
    {"nn_linear_with_lora: rank above both sizes", wrap_rank_large,
     "LinearWithLoRA: rank 4 is larger than the layer, a Linear(3, 2): at most max(in, out) = 3"},
    {"nn_linear_with_lora: its own Linear", wrap_twice,
     "LinearWithLoRA: the Linear is already wrapped"},
    {"nn_replace_linear_with_lora: rank 0", replace_rank_zero,
     "replace_linear_with_lora: rank 0 must be at least 1"},
    {"nn_replace_linear_with_lora: alpha inf", replace_alpha_inf,
     "replace_linear_with_lora: alpha inf must be finite"},
    {"nn_replace_linear_with_lora: rank above a Linear's sizes", replace_rank_large,
     "replace_linear_with_lora: rank 4 is larger than 0, a Linear(3, 2): at most max(in, out) = 3"},
    {"nn_replace_linear_with_lora: no Linear", replace_no_linear,
     "replace_linear_with_lora: LayerNorm holds no Linear"},
    {"nn_replace_linear_with_lora: the root a Linear", replace_root_linear,
     "replace_linear_with_lora: the module is itself a Linear (wrap it with nn_linear_with_lora)"},
    {"nn_replace_linear_with_lora: twice", replace_twice,
     "replace_linear_with_lora: Sequential already holds LoRA layers (a LinearWithLoRA)"},
    {"nn_gpt_lora_parameters: rank above emb_dim", count_rank_large,
     "gpt_lora_parameters: rank 769 is larger than the attention's Linear(768, 768): at most "
     "max(in, out) = 768"},
    {"nn_gpt_lora_parameters: head_out 0", count_head_zero,
     "gpt_lora_parameters: emb_dim 768, n_layers 12 and head_out 0 must be positive"},
    {"nn_gpt_lora_parameters: 2^64 parameters", count_overflow,
     "gpt_lora_parameters: the count overflows 64 bits"},
    {"nn_lora_merge: no LoRA", merge_none, "lora_merge: Sequential holds no LinearWithLoRA"},
    {"nn_lora_save: no LoRA", lora_save_none,
     "save lora.safetensors: Sequential holds no LoRA layer"},
    {"nn_lora_load: no file", lora_load_missing,
     "load {ref}/no_such.safetensors: No such file or directory"},
    {"data_numpy_random_state_permutation: seed 2^32", numpy_seed,
     "data_numpy_random_state_permutation: seed 4294967296 must be between 0 and 2**32 - 1"},
    {"data_numpy_random_state_permutation: n -1", numpy_negative_n,
     "data_numpy_random_state_permutation: n -1 must be >= 0"},
    {"data_numpy_random_state_permutation: out NULL", numpy_null_out,
     "data_numpy_random_state_permutation: out is NULL"},
    {"text_decode_replace: NULL tokenizer", decode_replace_null, "text_decode: NULL tokenizer"},
};

START_TEST(test_finetune_entry_points) { run_row(&finetune_rows[_i]); }
END_TEST

/* ---- optim.h ------------------------------------------------------------------- */

static Tensor *param(void) { return leaf(tensor_keep(Z(2, 3))); }

static bool sgd_with(SGDOptions o)
{
    Tensor *p = param();
    Optimizer *opt = optim_sgd(1, &p, o);
    optim_free(opt);
    tensor_free(p);
    return !opt;
}
static bool sgd_lr(void) { return sgd_with(optim_sgd_defaults(-1)); }
static bool sgd_lr_nan(void) { return sgd_with(optim_sgd_defaults(NAN)); }
static bool sgd_literal(void) { return sgd_with((SGDOptions){.lr = 0.1}); }
static bool sgd_momentum(void)
{
    SGDOptions o = optim_sgd_defaults(0.1);
    o.momentum = -1;
    return sgd_with(o);
}
static bool sgd_decay(void)
{
    SGDOptions o = optim_sgd_defaults(0.1);
    o.weight_decay = -1;
    return sgd_with(o);
}
static bool sgd_nesterov(void)
{
    SGDOptions o = optim_sgd_defaults(0.1);
    o.nesterov = true;
    return sgd_with(o);
}

static bool adam_with(AdamOptions a, bool w)
{
    Tensor *p = param();
    Optimizer *opt = w ? optim_adamw(1, &p, a) : optim_adam(1, &p, a);
    optim_free(opt);
    tensor_free(p);
    return !opt;
}
static bool adam_beta1(void)
{
    AdamOptions a = optim_adam_defaults();
    a.beta1 = 1;
    return adam_with(a, false);
}
static bool adam_beta2(void)
{
    AdamOptions a = optim_adam_defaults();
    a.beta2 = -0.1;
    return adam_with(a, false);
}
static bool adam_eps(void)
{
    AdamOptions a = optim_adam_defaults();
    a.eps = -1;
    return adam_with(a, false);
}
static bool adamw_lr(void)
{
    AdamOptions a = optim_adamw_defaults();
    a.lr = NAN;
    return adam_with(a, true);
}
static bool adamw_decay(void)
{
    AdamOptions a = optim_adamw_defaults();
    a.weight_decay = -1;
    return adam_with(a, true);
}
static bool adam_empty(void) { return !optim_adam(0, NULL, optim_adam_defaults()); }
static bool adam_null_param(void)
{
    return !optim_adam(1, (Tensor *[]){NULL}, optim_adam_defaults());
}
static bool adam_not_leaf(void)
{
    Tensor *p = tensor_mul_scalar(leaf(Z(3)), 2);
    return !optim_adam(1, &p, optim_adam_defaults());
}
static bool adam_twice(void)
{
    Tensor *p = param();
    bool failed = !optim_adam(2, (Tensor *[]){p, p}, optim_adam_defaults());
    tensor_free(p);
    return failed;
}
/* A transposed view made without grad, then marked: a leaf, not contiguous. */
static bool adam_strided(void)
{
    tensor_no_grad_begin();
    Tensor *p = tensor_t(Z(2, 3));
    tensor_no_grad_end();
    leaf(p);
    return !optim_adam(1, &p, optim_adam_defaults());
}
/* A leaf made in a scope: it dies with the scope, before the optimizer. */
static bool sgd_scoped(void)
{
    Tensor *kept = param();
    bool failed = !optim_sgd(2, (Tensor *[]){kept, leaf(Z(3, 2))}, optim_sgd_defaults(0.1));
    tensor_free(kept);
    return failed;
}
static bool step_null(void)
{
    optim_zero_grad(NULL);
    optim_free(NULL);
    return optim_step(NULL) == -1;
}
static bool step_grad_shape(void)
{
    Tensor *p = param();
    Optimizer *o = optim_sgd(1, &p, optim_sgd_defaults(0.1));
    p->grad = tensor_keep(Z(3, 2));
    bool failed = optim_step(o) == -1;
    optim_free(o);
    tensor_free(p);
    return failed;
}
static bool sgd_null_list(void) { return !optim_sgd(1, NULL, optim_sgd_defaults(0.1)); }
static bool clip_count(void) { return isnan(optim_clip_grad_norm(-1, NULL, 1)); }
static bool clip_null_list(void) { return isnan(optim_clip_grad_norm(1, NULL, 1)); }
static bool clip_null(void) { return isnan(optim_clip_grad_norm(1, (Tensor *[]){NULL}, 1.0)); }
static bool grad_norm_count(void) { return isnan(optim_grad_norm(-1, NULL)); }
static bool grad_norm_null(void) { return isnan(optim_grad_norm(1, (Tensor *[]){NULL})); }
/* Appendix D's rule as a function of the step: the scheduler's refusals, and the peak's. */
static bool lr_at_total(void)
{
    return isnan(optim_warmup_cosine_lr_at(
        OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27, .total_steps = 27), 0.001, 0));
}
static bool lr_at_peak(void)
{
    return isnan(optim_warmup_cosine_lr_at(
        OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27, .total_steps = 135), NAN, 0));
}
static bool lr_at_unmade(void)
{
    WarmupCosineOptions w = {.warmup_steps = 1, .total_steps = 2};
    return isnan(optim_warmup_cosine_lr_at(w, 0.001, 0));
}
static bool clip_norm(void)
{
    Tensor *p = param();
    bool failed = isnan(optim_clip_grad_norm(1, &p, -1.0));
    tensor_free(p);
    return failed;
}
static bool clip_norm_nan(void)
{
    Tensor *p = param();
    bool failed = isnan(optim_clip_grad_norm(1, &p, NAN));
    tensor_free(p);
    return failed;
}

static bool adam_literal(void) { return adam_with((AdamOptions){.lr = 0.01}, false); }

/* Parameter groups (torch's param_groups) and per-group learning rates. */
static bool groups_with(int64_t n0, Tensor **p0, int64_t n1, Tensor **p1, AdamOptions second)
{
    AdamGroup g[] = {{n0, p0, OPTIM_ADAMW_OPTIONS()}, {n1, p1, second}};
    Optimizer *o = optim_adamw_groups(2, g);
    optim_free(o);
    return o == NULL;
}
static bool groups_shared(void)
{
    Tensor *a = param(), *b = param();
    bool failed = groups_with(2, (Tensor *[]){a, b}, 1, (Tensor *[]){b}, OPTIM_ADAMW_OPTIONS());
    tensor_free(a);
    tensor_free(b);
    return failed;
}
static bool groups_all_empty(void)
{
    return groups_with(0, NULL, 0, NULL, OPTIM_ADAMW_OPTIONS());
}
static bool groups_negative(void)
{
    Tensor *a = param();
    bool failed = groups_with(1, &a, -1, &a, OPTIM_ADAMW_OPTIONS());
    tensor_free(a);
    return failed;
}
static bool groups_lr_nan(void)
{
    Tensor *a = param(), *b = param();
    bool failed = groups_with(1, &a, 1, &b, OPTIM_ADAMW_OPTIONS(.lr = NAN));
    tensor_free(a);
    tensor_free(b);
    return failed;
}
static bool set_lr(int64_t group, double lr)
{
    Tensor *a = param();
    Optimizer *o = optim_adamw(1, &a, OPTIM_ADAMW_OPTIONS());
    bool failed = optim_set_lr(o, group, lr) == -1 && optim_get_lr(o, 0) == 1e-3;
    optim_free(o);
    tensor_free(a);
    return failed;
}
static bool set_lr_negative(void) { return set_lr(0, -1); }
static bool set_lr_nan(void) { return set_lr(0, NAN); }
static bool set_lr_group(void) { return set_lr(1, 0.1); }
/* Schedulers: bad arguments, and a step whose lr would be NaN. */
static bool scheduler(int which)
{
    Tensor *a = param();
    Optimizer *o = optim_sgd(1, &a, optim_sgd_defaults(0.1));
    OptimScheduler *s =
        which == 0 ? optim_step_lr(o, 0, 0.1)
        : which == 1 ? optim_cosine_annealing_lr(o, 0, 0)
        : optim_warmup_cosine_lr(o, OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27,
                                                                .total_steps = 27));
    optim_scheduler_free(s);
    optim_free(o);
    tensor_free(a);
    return s == NULL;
}
static bool step_lr_size(void) { return scheduler(0); }
static bool cosine_t_max(void) { return scheduler(1); }
static bool warmup_total(void) { return scheduler(2); }
static double nan_lambda(int64_t epoch, void *ctx)
{
    (void)ctx;
    return epoch < 1 ? 1 : NAN;
}
static bool lambda_nan(void)
{
    Tensor *a = param();
    Optimizer *o = optim_sgd(1, &a, optim_sgd_defaults(0.1));
    OptimScheduler *s = optim_lambda_lr(o, nan_lambda, NULL);
    bool failed = optim_scheduler_step(s) == -1 && optim_get_lr(o, 0) == 0.1;
    optim_scheduler_free(s);
    optim_free(o);
    tensor_free(a);
    return failed;
}
static bool adamw_eps_inf(void) { return adam_with(OPTIM_ADAMW_OPTIONS(.eps = INFINITY), true); }

static const Row optim_rows[] = {
    {"optim_sgd: lr -1", sgd_lr, "sgd: invalid learning rate -1"},
    {"optim_sgd: lr NaN", sgd_lr_nan,
     "sgd: no learning rate (SGD has no default): OPTIM_SGD_OPTIONS(.lr = 0.1)"},
    {"optim_sgd: a literal", sgd_literal,
     "sgd: options not made by OPTIM_SGD_OPTIONS() or optim_sgd_defaults(): a literal "
     "{.momentum = 0.9} leaves lr at 0; write OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9)"},
    {"optim_adam: a literal", adam_literal,
     "adam: options not made by OPTIM_ADAM_OPTIONS() or optim_adam_defaults(): a literal "
     "{.lr = 0.01} leaves beta1, beta2 and eps at 0; write OPTIM_ADAM_OPTIONS(.lr = 0.01)"},
    {"optim_adamw: eps inf", adamw_eps_inf, "adamw: invalid epsilon value inf"},
    {"optim_sgd: momentum -1", sgd_momentum, "sgd: invalid momentum value -1"},
    {"optim_sgd: weight_decay -1", sgd_decay, "sgd: invalid weight_decay value -1"},
    {"optim_sgd: nesterov", sgd_nesterov,
     "sgd: nesterov momentum requires a momentum and zero dampening (momentum 0, dampening 0)"},
    {"optim_adam: beta1 1", adam_beta1, "adam: invalid beta parameter at index 0: 1"},
    {"optim_adam: beta2 -0.1", adam_beta2, "adam: invalid beta parameter at index 1: -0.1"},
    {"optim_adam: eps -1", adam_eps, "adam: invalid epsilon value -1"},
    {"optim_adamw: lr NaN", adamw_lr, "adamw: invalid learning rate nan"},
    {"optim_adamw: weight_decay -1", adamw_decay, "adamw: invalid weight_decay value -1"},
    {"optim_adam: no parameters", adam_empty, "adam: empty parameter list"},
    {"optim_adam: NULL parameter", adam_null_param, "adam: parameter 0 is NULL"},
    {"optim_adam: not a leaf", adam_not_leaf,
     "adam: parameter 0 (3) is not a leaf (grad_fn MulBackward0)"},
    {"optim_adam: twice", adam_twice, "adam: parameter 1 (2,3) is parameter 0 again"},
    {"optim_adam: not contiguous", adam_strided, "adam: parameter 0 (3,2) is not contiguous"},
    {"optim_sgd: a scope's tensor", sgd_scoped,
     "sgd: parameter 1 (3,2) belongs to a scope; parameters must be long-lived (tensor_keep or "
     "nn_parameter)"},
    {"optim_step, optim_zero_grad, optim_free: NULL", step_null, ""},
    {"optim_sgd: NULL list", sgd_null_list, "sgd: parameter list is NULL"},
    {"optim_clip_grad_norm: count -1", clip_count, "clip_grad_norm: negative parameter count -1"},
    {"optim_clip_grad_norm: NULL list", clip_null_list, "clip_grad_norm: parameter list is NULL"},
    {"optim_step: grad shape", step_grad_shape,
     "optim_step (SGD): parameter 0 (2,3) has a grad of shape (3,2)"},
    {"optim_clip_grad_norm: NULL parameter", clip_null, "clip_grad_norm: parameter 0 is NULL"},
    {"optim_grad_norm: count -1", grad_norm_count, "grad_norm: negative parameter count -1"},
    {"optim_grad_norm: NULL parameter", grad_norm_null, "grad_norm: parameter 0 is NULL"},
    {"optim_warmup_cosine_lr_at: total_steps = warmup_steps", lr_at_total,
     "warmup_cosine_lr: need 0 <= warmup_steps < total_steps (warmup 27, total 27)"},
    {"optim_warmup_cosine_lr_at: peak NaN", lr_at_peak, "warmup_cosine_lr: invalid peak lr nan"},
    {"optim_warmup_cosine_lr_at: options not from the macro", lr_at_unmade,
     "warmup_cosine_lr: options not made by OPTIM_WARMUP_COSINE_OPTIONS(): write "
     "OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27, .total_steps = 135)"},
    {"optim_clip_grad_norm: max_norm -1", clip_norm, "clip_grad_norm: invalid max_norm -1"},
    {"optim_clip_grad_norm: max_norm NaN", clip_norm_nan, "clip_grad_norm: invalid max_norm nan"},
    {"optim_adamw_groups: a parameter in two groups", groups_shared,
     "adamw: some parameters appear in more than one parameter group (parameter 0 (2,3) of "
     "group 1 is parameter 1 of group 0)"},
    {"optim_adamw_groups: every group empty", groups_all_empty, "adamw: empty parameter list"},
    {"optim_adamw_groups: count -1", groups_negative,
     "adamw: group 1: negative parameter count -1"},
    {"optim_adamw_groups: lr NaN in group 1", groups_lr_nan,
     "adamw: group 1: invalid learning rate nan"},
    {"optim_set_lr: -1", set_lr_negative, "AdamW: invalid learning rate -1"},
    {"optim_set_lr: NaN", set_lr_nan, "AdamW: invalid learning rate nan"},
    {"optim_set_lr: group 1 of 1", set_lr_group, "AdamW: group 1 out of range (1 group)"},
    {"optim_step_lr: step_size 0", step_lr_size, "StepLR: step_size 0 must be positive"},
    {"optim_cosine_annealing_lr: T_max 0", cosine_t_max,
     "CosineAnnealingLR: T_max 0 must be in [1, 2^53]"},
    {"optim_warmup_cosine_lr: total_steps = warmup_steps", warmup_total,
     "warmup_cosine_lr: need 0 <= warmup_steps < total_steps (warmup 27, total 27)"},
    {"optim_scheduler_step: the lambda gives NaN", lambda_nan,
     "LambdaLR: epoch 1: invalid learning rate nan for group 0"},
};

START_TEST(test_optim_entry_points) { run_row(&optim_rows[_i]); }
END_TEST

/* ---- malformed files ------------------------------------------------------------ */

/* A file: the 8-byte length of json, json, then data_bytes zero bytes. */
static bool parse_json(const char *json, size_t data_bytes)
{
    size_t n = strlen(json);
    unsigned char *b = calloc(8 + n + data_bytes, 1);
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)((uint64_t)n >> (8 * k));
    memcpy(b + 8, json, n);
    TensorFile *f = tensor_file_parse(b, 8 + n + data_bytes, "bad.safetensors");
    free(b);
    tensor_file_close(f);
    return f == NULL;
}

static bool parse_raw(const char *bytes, size_t n)
{
    TensorFile *f = tensor_file_parse(bytes, n, "bad.safetensors");
    tensor_file_close(f);
    return f == NULL;
}

#define T24 "{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"
#define FILE_ROW(fn, json, data) \
    static bool fn(void) { return parse_json(json, data); }
static bool short_file(void) { return parse_raw("\x08\0\0", 3); }
static bool huge_header(void) { return parse_raw("\x00\xe2\xf5\x05\0\0\0\0{}", 10); }
static bool header_past_end(void) { return parse_raw("\x10\0\0\0\0\0\0\0{}      ", 16); }
FILE_ROW(not_json, "hello!!!", 0)
FILE_ROW(not_object, "[1,2,3] ", 0)
FILE_ROW(trailing_text, "{} x", 0)
FILE_ROW(missing_comma, "{\"a\":" T24 " \"b\":" T24 "}", 48)
FILE_ROW(unterminated, "{\"a", 0)
FILE_ROW(control_char, "{\"a\tb\":" T24 "}", 24)
FILE_ROW(bad_escape, "{\"a\\x\":" T24 "}", 24)
FILE_ROW(nul_escape, "{\"a\\u0000\":" T24 "}", 24)
FILE_ROW(lone_surrogate, "{\"a\\ud800\":" T24 "}", 24)
FILE_ROW(bad_utf8, "{\"a\xff\":" T24 "}", 24)
FILE_ROW(unknown_dtype, "{\"a\":{\"dtype\":\"F128\",\"shape\":[],\"data_offsets\":[0,0]}}", 0)
FILE_ROW(dtype_number, "{\"a\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,0]}}", 0)
FILE_ROW(unknown_field, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}",
         4)
FILE_ROW(field_twice,
         "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(no_shape, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)
FILE_ROW(negative_size, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(fraction_size, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(leading_zero, "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(huge_size,
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(nine_dims,
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4)
FILE_ROW(three_offsets, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4,8]}}", 8)
FILE_ROW(reversed, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,0]}}", 4)
FILE_ROW(wrong_size, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20)
FILE_ROW(past_data, "{\"a\":" T24 "}", 16)
FILE_ROW(gap_at_start, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}", 8)
FILE_ROW(gap,
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}",
         12)
FILE_ROW(overlap, "{\"a\":" T24 ",\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[20,24]}}",
         24)
FILE_ROW(not_covered, "{\"a\":" T24 "}", 32)
FILE_ROW(overflow,
         "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0)
FILE_ROW(name_twice, "{\"a\":" T24 ",\"a\":" T24 "}", 24)
FILE_ROW(metadata_twice, "{\"__metadata__\":{},\"__metadata__\":{}}", 0)
FILE_ROW(metadata_number, "{\"__metadata__\":{\"step\":100}}", 0)
FILE_ROW(metadata_key_twice, "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0)

static bool file_missing(void) { return !tensor_file_open("/nonexistent-folder/x.safetensors"); }
static bool file_null_path(void) { return !tensor_file_open(NULL); }
static bool parse_null(void) { return !tensor_file_parse(NULL, 10, "x"); }
static bool read_null_file(void) { return tensor_file_read(NULL, 0, NULL, "module") == -1; }

/* A good file of "a" (2,3) F32, opened from memory. */
static TensorFile *good_file(void)
{
    size_t n = strlen("{\"a\":" T24 "}");
    char *b = calloc(8 + n + 24, 1);
    b[0] = (char)n;
    memcpy(b + 8, "{\"a\":" T24 "}", n);
    TensorFile *f = tensor_file_parse(b, 8 + n + 24, "good.safetensors");
    free(b);
    return f;
}
static bool read_into(TensorEntry d)
{
    TensorFile *f = good_file();
    bool failed = tensor_file_read(f, 1, &d, "module") == -1;
    tensor_file_close(f);
    return failed;
}
static float dst[6];
static bool read_missing(void) { return read_into((TensorEntry){"b", TENSOR_F32, 2, {2, 3}, dst}); }
static bool read_dtype(void) { return read_into((TensorEntry){"a", TENSOR_F16, 2, {2, 3}, dst}); }
static bool read_shape(void) { return read_into((TensorEntry){"a", TENSOR_F32, 2, {3, 2}, dst}); }
static bool read_null_data(void)
{
    return read_into((TensorEntry){"a", TENSOR_F32, 2, {2, 3}, NULL});
}
static bool read_extra(void)
{
    TensorFile *f = good_file();
    bool failed = tensor_file_read(f, 0, NULL, "module") == -1;
    tensor_file_close(f);
    return failed;
}
static bool read_twice(void)
{
    TensorFile *f = good_file();
    TensorEntry d = {"a", TENSOR_F32, 2, {2, 3}, dst};
    bool failed = tensor_file_read(f, 2, (TensorEntry[]){d, d}, "module") == -1;
    tensor_file_close(f);
    return failed;
}
static bool expect_meta(void)
{
    TensorFile *f = good_file();
    bool failed = tensor_file_expect_meta(f, "format", "pt") == -1;
    tensor_file_close(f);
    return failed;
}
static bool save_with(TensorEntry e)
{
    return tensor_save_entries("/tmp/never-written.safetensors", 1, &e, 0, NULL) == -1;
}
static bool save_no_name(void) { return save_with((TensorEntry){NULL, TENSOR_F32, 0, {0}, dst}); }
static bool save_reserved(void)
{
    return save_with((TensorEntry){"__metadata__", TENSOR_F32, 0, {0}, dst});
}
static bool save_dtype(void) { return save_with((TensorEntry){"a", (TensorDtype)99, 0, {0}, dst}); }
static bool save_ndim(void) { return save_with((TensorEntry){"a", TENSOR_F32, 9, {0}, dst}); }
static bool save_negative(void) { return save_with((TensorEntry){"a", TENSOR_F32, 1, {-1}, dst}); }
static bool save_null_data(void) { return save_with((TensorEntry){"a", TENSOR_F32, 1, {2}, NULL}); }
static bool save_utf8(void) { return save_with((TensorEntry){"a\xc0", TENSOR_F32, 0, {0}, dst}); }
static bool save_twice(void)
{
    TensorEntry e = {"a", TENSOR_F32, 0, {0}, dst};
    return tensor_save_entries("/tmp/never-written.safetensors", 2, (TensorEntry[]){e, e}, 0,
                               NULL) == -1;
}
static bool save_meta_twice(void)
{
    TensorMeta m[2] = {{"k", "1"}, {"k", "2"}};
    return tensor_save_entries("/tmp/never-written.safetensors", 0, NULL, 2, m) == -1;
}
static bool save_negative_count(void)
{
    return tensor_save_entries("/tmp/never-written.safetensors", -1, NULL, 0, NULL) == -1;
}
static bool save_null_list(void)
{
    return tensor_save_entries("/tmp/never-written.safetensors", 1, NULL, 0, NULL) == -1;
}
static bool read_count(int n)
{
    TensorFile *f = good_file();
    bool failed = tensor_file_read(f, n, NULL, "module") == -1;
    tensor_file_close(f);
    return failed;
}
static bool read_negative_count(void) { return read_count(-1); }
static bool read_null_list(void) { return read_count(1); }
static bool save_meta_null(void)
{
    return tensor_save_entries("/tmp/never-written.safetensors", 0, NULL, 1,
                               (TensorMeta[]){{"k", NULL}}) == -1;
}

#define B "load bad.safetensors: "
static const Row file_rows[] = {
    {"3 bytes", short_file, B "3 bytes; a safetensors file starts with an 8-byte header length"},
    {"header over 100 MB", huge_header,
     B "header length 100000256 is over the 100000000 bytes allowed"},
    {"header past the end", header_past_end,
     B "header length 16 runs past the end of the file (16 bytes)"},
    {"not JSON", not_json, B "header: expected '{' at the start of the header (at byte 0 of 8)"},
    {"not an object", not_object,
     B "header: expected '{' at the start of the header (at byte 0 of 8)"},
    {"text after the object", trailing_text,
     B "header: unexpected text after the header's closing '}' (at byte 3 of 4)"},
    {"missing comma", missing_comma,
     B "header: expected '}' after a tensor (or a missing ',') (at byte 57 of 113)"},
    {"unterminated string", unterminated, B "header: unterminated string (at byte 2 of 3)"},
    {"tab in a name", control_char, B "header: control character in a string (at byte 3 of 59)"},
    {"bad escape", bad_escape, B "header: bad escape in a string (at byte 3 of 59)"},
    {"\\u0000 in a name", nul_escape, B "header: \\u0000 in a string (at byte 9 of 63)"},
    {"lone surrogate", lone_surrogate,
     B "header: unpaired surrogate in a string (at byte 9 of 63)"},
    {"not UTF-8", bad_utf8, B "header: a string is not valid UTF-8 (at byte 5 of 58)"},
    {"unknown dtype", unknown_dtype, B "header: a: unknown dtype \"F128\" (at byte 20 of 54)"},
    {"dtype a number", dtype_number, B "header: expected a string (at byte 14 of 49)"},
    {"unknown field", unknown_field, B "header: a: unknown field \"x\" (at byte 55 of 59)"},
    {"field twice", field_twice, B "header: a: \"dtype\" given twice (at byte 27 of 67)"},
    {"no shape", no_shape, B "header: a: no \"shape\" (at byte 41 of 42)"},
    {"negative size", negative_size,
     B "header: a: shape: expected a non-negative whole number (at byte 29 of 55)"},
    {"fractional size", fraction_size,
     B "header: a: shape: expected a non-negative whole number (at byte 30 of 56)"},
    {"leading zero", leading_zero,
     B "header: a: shape: leading zero in a number (at byte 31 of 55)"},
    {"size over 2^64", huge_size, B "header: a: shape: number too large (at byte 49 of 73)"},
    {"9 dims", nine_dims, B "header: a: shape has more than 8 dims (at byte 46 of 70)"},
    {"3 offsets", three_offsets,
     B "header: expected ']' after the two data_offsets (at byte 50 of 55)"},
    {"reversed offsets", reversed, B "a: data_offsets [4, 0] are reversed"},
    {"offsets hold too few bytes", wrong_size,
     B "a: data_offsets [0, 20] hold 20 bytes; F32 (2,3) needs 24"},
    {"offsets past the data", past_data,
     B "a: data_offsets [0, 24] go past the end of the data (16 bytes)"},
    {"gap at the start", gap_at_start,
     B "a: data_offsets [4, 8] leave a gap: the data starts at 0"},
    {"gap", gap, B "b: data_offsets [8, 12] leave a gap after a, which ends at 4"},
    {"overlap", overlap, B "b: data_offsets [20, 24] overlap a, which ends at 24"},
    {"data not covered", not_covered, B "the tensors cover 24 bytes of data, the file holds 32"},
    {"size overflows", overflow,
     B "a: data_offsets [0, 0] hold 0 bytes; F64 (4294967296,4294967296) needs "
       "2^64 or more"},
    {"name twice", name_twice, B "tensor a appears twice"},
    {"__metadata__ twice", metadata_twice,
     B "header: \"__metadata__\" given twice (at byte 34 of 37)"},
    {"metadata not a string", metadata_number,
     B "header: __metadata__: \"step\" is not a string (at byte 24 of 29)"},
    {"metadata key twice", metadata_key_twice,
     B "header: __metadata__: \"k\" given twice (at byte 28 of 34)"},
    {"tensor_file_open: no file", file_missing,
     "load /nonexistent-folder/x.safetensors: No such file or directory"},
    {"tensor_file_open: NULL", file_null_path, "load: path is NULL"},
    {"tensor_file_parse: NULL bytes", parse_null, "load: bytes are NULL"},
    {"tensor_file_read: NULL file", read_null_file, ""},
    {"tensor_file_read: missing", read_missing,
     "load good.safetensors: b is missing from the file (it holds a)"},
    {"tensor_file_read: dtype", read_dtype,
     "load good.safetensors: a: dtype F32 in file, F16 in module"},
    {"tensor_file_read: shape", read_shape,
     "load good.safetensors: a: shape (2,3) in file, (3,2) in module"},
    {"tensor_file_read: NULL data", read_null_data,
     "load good.safetensors: a: destination data is NULL"},
    {"tensor_file_read: extra", read_extra,
     "load good.safetensors: the file has a, which the module does not"},
    {"tensor_file_read: twice", read_twice, "load good.safetensors: a asked for twice"},
    {"tensor_file_expect_meta: absent", expect_meta,
     "load good.safetensors: no metadata \"format\" (\"pt\" expected)"},
    {"tensor_save_entries: no name", save_no_name,
     "save /tmp/never-written.safetensors: entry 0 has no name"},
    {"tensor_save_entries: __metadata__", save_reserved,
     "save /tmp/never-written.safetensors: \"__metadata__\" cannot name a tensor"},
    {"tensor_save_entries: dtype", save_dtype,
     "save /tmp/never-written.safetensors: a: unknown dtype 99"},
    {"tensor_save_entries: 9 dims", save_ndim,
     "save /tmp/never-written.safetensors: a: 9 dims; between 0 and 8 are supported"},
    {"tensor_save_entries: negative", save_negative,
     "save /tmp/never-written.safetensors: a: negative size -1 in dim 0"},
    {"tensor_save_entries: NULL data", save_null_data,
     "save /tmp/never-written.safetensors: a: data is NULL"},
    {"tensor_save_entries: UTF-8", save_utf8,
     "save /tmp/never-written.safetensors: entry 0: name is not valid UTF-8"},
    {"tensor_save_entries: twice", save_twice,
     "save /tmp/never-written.safetensors: tensor a given twice"},
    {"tensor_save_entries: metadata twice", save_meta_twice,
     "save /tmp/never-written.safetensors: metadata \"k\" given twice"},
    {"tensor_save_entries: count -1", save_negative_count,
     "save /tmp/never-written.safetensors: negative count (-1 entries, 0 metadata)"},
    {"tensor_save_entries: NULL list", save_null_list,
     "save /tmp/never-written.safetensors: the entry list is NULL"},
    {"tensor_file_read: count -1", read_negative_count, "load good.safetensors: negative count -1"},
    {"tensor_file_read: NULL list", read_null_list,
     "load good.safetensors: the destination list is NULL"},
    {"tensor_save_entries: NULL value", save_meta_null,
     "save /tmp/never-written.safetensors: metadata 0 has a NULL value"},
};
#undef B

START_TEST(test_malformed_files) { run_row(&file_rows[_i]); }
END_TEST

/* ---- train_attention's flags ------------------------------------------------------ */

static const struct {
    const char *args, *message;
} flags[] = {
    {"--model v3", "train_attention: --model: unknown model 'v3' (v1, v2, causal, mha)\n"},
    {"--optim rmsprop",
     "train_attention: --optim: unknown optimizer 'rmsprop' (sgd, adam, adamw)\n"},
    {"--lr abc", "train_attention: --lr: 'abc' is not a number\n"},
    {"--lr -1", "train_attention: --lr: -1 is out of range (0 to 1000)\n"},
    {"--lr nan", "train_attention: --lr: 'nan' is not a number\n"},
    {"--lr 1e400",
     "train_attention: --lr: '1e400' overflows a double (its magnitude is over 1.8e308)\n"},
    {"--lr 1e-320",
     "train_attention: --lr: '1e-320' underflows a double (its magnitude is under 2.2e-308)\n"},
    {"--lr -1e-400",
     "train_attention: --lr: '-1e-400' underflows a double (its magnitude is under 2.2e-308)\n"},
    {"--lr inf", "train_attention: --lr: 'inf' is not a number\n"},
    {"--steps 0", "train_attention: --steps: 0 is out of range (1 to 100000000)\n"},
    {"--steps 1.5", "train_attention: --steps: '1.5' is not a whole number\n"},
    {"--steps 99999999999999999999",
     "train_attention: --steps: '99999999999999999999' is not a whole number\n"},
    {"--batch -1", "train_attention: --batch: -1 is out of range (1 to 1048576)\n"},
    {"--seed -5", "train_attention: --seed: '-5' is not a non-negative whole number\n"},
    {"--seed 18446744073709551616",
     "train_attention: --seed: '18446744073709551616' is not a non-negative "
     "whole number\n"},
    {"--log-every 0", "train_attention: --log-every: 0 is out of range (1 to 100000000)\n"},
    {"--steps", "train_attention: --steps needs a value (see --help)\n"},
    {"--save", "train_attention: --save needs a value (see --help)\n"},
    {"--frobnicate", "train_attention: unknown option '--frobnicate' (see --help)\n"},
    {"-x 1", "train_attention: unknown option '-x' (see --help)\n"},
    {"--compare v1,v9", "train_attention: --compare: unknown model 'v9' (v1, v2, causal, mha)\n"},
    {"--compare ,", "train_attention: --compare: no model given\n"},
    {"--compare v1,v1,v2,v2,v1", "train_attention: --compare: at most 4 models\n"},
    {"--compare v1,v2 --save ck",
     "train_attention: --save and --resume train one model, not --compare\n"},
    {"--resume ck --compare v1,v2",
     "train_attention: --save and --resume train one model, not --compare\n"},
};

/* train_attention as a user runs it: exit status 2 and the one line. */
START_TEST(test_bad_flags)
{
    char err[512];
    ck_assert_int_eq(program_capture_stderr("train_attention", flags[_i].args, err, sizeof err),
                     2);
    ck_assert_str_eq(err, flags[_i].message);
}
END_TEST

START_TEST(test_empty_file_name_flag)
{
    char err[512];
    ck_assert_int_eq(program_capture_stderr("train_attention", "--save ''", err, sizeof err), 2);
    ck_assert_str_eq(err, "train_attention: --save: empty file name\n");
}
END_TEST

/* A second backward through the same graph is refused, as PyTorch without
 * retain_graph=True (it would add the gradients again); after
 * tensor_backward_retain it adds them, as PyTorch with it. */
START_TEST(test_backward_twice_accumulates)
{
    Tensor *x = leaf(Z(3));
    Tensor *y = tensor_sum(tensor_mul_scalar(x, 2));
    ck_assert_int_eq(tensor_backward(y, NULL), 0);
    ck_assert_int_eq(tensor_backward(y, NULL), -1);
    ck_assert_str_eq(tensor_error(),
                     "backward: trying to backward through the graph a second time (MulBackward0 "
                     "was already used by a backward); call tensor_backward_retain for every "
                     "backward but the last to go through it again");
    ck_assert_tensor_close(x->grad, tensor_full(2, SHAPE(3)), 0, 0);
    Tensor *z = tensor_sum(tensor_mul_scalar(x, 2));
    ck_assert_int_eq(tensor_backward_retain(z, NULL), 0);
    ck_assert_int_eq(tensor_backward(z, NULL), 0);
    ck_assert_tensor_close(x->grad, tensor_full(6, SHAPE(3)), 0, 0);
}
END_TEST

/* ---- training checkpoints ------------------------------------------------------------ */

/* A toy checkpoint whose generator.index says 700: refused before anything is read. */
START_TEST(test_checkpoint_generator_index_is_checked)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    train_toy_step(&run);
    tensor_default_generator()->index = 700;
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-bad-%d.safetensors", (int)getpid());
    ck_assert_int_eq(train_toy_save(&run, path), 0);
    tensor_default_generator()->index = 0;
    ck_assert_int_eq(train_toy_resume(&run, path), -1);
    char expect[256];
    snprintf(expect, sizeof expect, "load %s: generator.index 700 is out of range (0 to 624)",
             path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(tensor_default_generator()->index, 0);
    train_toy_free(&run);
    remove(path);
}
END_TEST

/* A toy checkpoint whose Adam beta1 is 5 (a hand-edited file): refused, and
 * the optimizer keeps its own. */
START_TEST(test_checkpoint_hyper_parameters_are_checked)
{
    TrainToyConfig c = TRAIN_TOY_CONFIG();
    TrainToyRun run;
    ck_assert_int_eq(train_toy_init(&run, &c), 0);
    train_toy_step(&run);
    run.opt->groups[0].adam.beta1 = 5;
    char path[64];
    snprintf(path, sizeof path, "/tmp/attograd-bad-%d.safetensors", (int)getpid());
    ck_assert_int_eq(train_toy_save(&run, path), 0);
    run.opt->groups[0].adam.beta1 = 0.9;
    ck_assert_int_eq(train_toy_resume(&run, path), -1);
    char expect[256];
    snprintf(expect, sizeof expect,
             "load %s: optimizer: adam: invalid beta parameter at index 0: 5", path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert(run.opt->groups[0].adam.beta1 == 0.9);
    train_toy_free(&run);
    remove(path);
}
END_TEST

static Suite *bad_input_suite(void)
{
    Suite *s = suite_create("bad input");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, test_tensor_entry_points, 0, sizeof tensor_rows / sizeof *tensor_rows);
    tcase_add_loop_test(tc, test_null_passes_through, 0, sizeof null_rows / sizeof *null_rows);
    tcase_add_loop_test(tc, test_nn_entry_points, 0, sizeof nn_rows / sizeof *nn_rows);
    tcase_add_loop_test(tc, test_finetune_entry_points, 0,
                        sizeof finetune_rows / sizeof *finetune_rows);
    tcase_add_loop_test(tc, test_optim_entry_points, 0, sizeof optim_rows / sizeof *optim_rows);
    tcase_add_loop_test(tc, test_malformed_files, 0, sizeof file_rows / sizeof *file_rows);
    tcase_add_loop_test(tc, test_bad_flags, 0, sizeof flags / sizeof *flags);
    tcase_add_test(tc, test_empty_file_name_flag);
    tcase_add_test(tc, test_backward_twice_accumulates);
    tcase_add_test(tc, test_checkpoint_generator_index_is_checked);
    tcase_add_test(tc, test_checkpoint_hyper_parameters_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(bad_input_suite)
