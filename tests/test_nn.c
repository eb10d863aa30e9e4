/*
 * The nn room: module plumbing, train/eval, errors; the comparisons with
 * PyTorch live in test_nn_torch.c (the "torch" case of this suite).
 */
#include "testutil.h"

TCase *nn_torch_tcase(void);   /* test_nn_torch.c */
TCase *nn_attention_weights_tcase(void);   /* test_attention_weights.c */

/* ---- plumbing that needs no ops ---------------------------------------------- */

typedef struct {
    Module base;
} Toy;

static Tensor *toy_forward(Module *m, const Tensor *x)
{
    (void)m;
    return (Tensor *)x;
}

static Toy *toy(void)
{
    return nn_module_new(sizeof(Toy), "Toy", toy_forward);
}

/* Toy: own "a" (2,3) and buffer "buf"; child "inner" with "w" (4); child
 * "blocks.0" with "b" (5) and its own child "leaf" with "c" (1). */
static Module *toy_tree(void)
{
    Toy *root = toy(), *inner = toy(), *block = toy(), *leaf = toy();
    nn_parameter(NN(root), "a", tensor_zeros(SHAPE(2, 3)));
    nn_buffer(NN(root), "buf", tensor_ones(SHAPE(2)));
    nn_parameter(NN(inner), "w", tensor_zeros(SHAPE(4)));
    nn_parameter(NN(block), "b", tensor_zeros(SHAPE(5)));
    nn_parameter(NN(leaf), "c", tensor_zeros(SHAPE(1)));
    nn_child(NN(block), "leaf", NN(leaf));
    nn_child(NN(root), "inner", NN(inner));
    nn_child(NN(root), "blocks.0", NN(block));
    return NN(root);
}

START_TEST(test_plumbing)
{
    TensorScope *scope = tensor_scope_begin();
    Module *m = toy_tree();
    NNList p = nn_named_parameters(m);
    ck_assert_int_eq(p.count, 4);
    ck_assert_str_eq(p.names[0], "a");
    ck_assert_str_eq(p.names[1], "inner.w");
    ck_assert_str_eq(p.names[2], "blocks.0.b");
    ck_assert_str_eq(p.names[3], "blocks.0.leaf.c");
    ck_assert_int_eq(nn_num_parameters(m), 6 + 4 + 5 + 1);
    ck_assert(nn_get_parameter(m, "blocks.0.leaf.c") == p.tensors[3]);
    ck_assert(p.tensors[0]->requires_grad && p.tensors[0]->owner == NULL);
    NNList b = nn_named_buffers(m);
    ck_assert_int_eq(b.count, 1);
    ck_assert_str_eq(b.names[0], "buf");
    ck_assert(!b.tensors[0]->requires_grad);
    ck_assert(nn_get_parameter(m, "buf") == b.tensors[0]);

    tensor_clear_error();
    ck_assert(nn_get_parameter(m, "blocks.1.b") == NULL);
    ck_assert_str_eq(tensor_error(), "get_parameter: Toy has no parameter or buffer \"blocks.1.b\"");

    /* train/eval reach every descendant. */
    ck_assert(m->training && m->children[1].module->children[0].module->training);
    nn_train(m, false);
    ck_assert(!m->training && !m->children[0].module->training);
    ck_assert(!m->children[1].module->children[0].module->training);
    nn_train(m, true);
    ck_assert(m->children[1].module->children[0].module->training);

    /* zero_grad zeroes in place and keeps the gradient allocated. */
    Tensor *c = p.tensors[3];
    c->grad = tensor_keep(tensor_full(3.0f, SHAPE(1)));
    Tensor *g = c->grad;
    nn_zero_grad(m);
    ck_assert(c->grad == g);
    ck_assert_float_eq(g->data[0], 0.0f);

    Tensor *x = tensor_ones(SHAPE(2));
    ck_assert(nn_forward(m, x) == x);
    nn_list_free(&p);
    nn_list_free(&b);
    ck_assert_int_eq(p.count, 0);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

START_TEST(test_null_is_harmless)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_clear_error();
    Module *m = toy_tree();
    ck_assert(nn_forward(NULL, tensor_ones(SHAPE(2))) == NULL);
    ck_assert(nn_forward(m, NULL) == NULL);
    ck_assert(nn_parameter(m, "x", NULL) == NULL);
    ck_assert(nn_child(m, "x", NULL) == NULL);
    ck_assert(NN((Linear *)NULL) == NULL);
    ck_assert_str_eq(tensor_error(), "");   /* NULL in, NULL out, no new message */
    ck_assert_int_eq(m->n_params, 1);
    ck_assert_int_eq(m->n_children, 2);
    NNList l = nn_named_parameters(NULL);
    ck_assert_int_eq(l.count, 0);
    nn_list_free(&l);
    nn_list_free(NULL);
    ck_assert_int_eq(nn_num_parameters(NULL), 0);
    ck_assert(nn_get_parameter(NULL, "a") == NULL);
    nn_train(NULL, false);
    nn_zero_grad(NULL);
    nn_module_free(NULL);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* The "Writing a module" example of nn/nn.h, as written there. */
/* nn.h's example of writing a module, as it stands there. */
typedef struct {
    Module base;
    Module *proj;
    Tensor *gain;
} Block;
#define NN_TYPE_NAME_Block "Block"

static Tensor *block_forward(Module *m, const Tensor *x)
{
    Block *b = (Block *)m;
    if (x->ndim != 2)
        return tensor_set_error("Block: input %s must be 2-d", tensor_shape_str(x));
    return tensor_mul(tensor_relu(nn_forward(b->proj, x)), b->gain);
}

static Module *block(int64_t d)
{
    Block *b = nn_module_new(sizeof *b, "Block", block_forward);
    if (!b) return NULL;
    b->proj = nn_child(NN(b), "proj", nn_linear(d, d, true));
    b->gain = nn_parameter(NN(b), "gain", tensor_ones(SHAPE(d)));
    return nn_module_ok(NN(b));
}

START_TEST(test_header_example)
{
    TensorScope *scope = tensor_scope_begin();
    Module *m = block(4);
    ck_assert_ptr_nonnull(m);
    NNList p = nn_named_parameters(m);
    ck_assert_int_eq(p.count, 3);
    ck_assert_str_eq(p.names[0], "gain");
    ck_assert_str_eq(p.names[1], "proj.weight");
    ck_assert_str_eq(p.names[2], "proj.bias");
    Tensor *y = nn_forward(m, tensor_ones(SHAPE(3, 4)));
    ck_assert_msg(y != NULL, "%s", tensor_error());
    ck_assert_str_eq(tensor_grad_fn_name(y), "MulBackward0");
    Linear *proj = NN_AS(Linear, NN_AS(Block, m)->proj);
    ck_assert_tensor_close(y, tensor_relu(tensor_linear(tensor_ones(SHAPE(3, 4)), proj->weight,
                                                        proj->bias)), 0, 0);
    ck_assert_error_has(nn_forward(m, tensor_ones(SHAPE(4))), "Block: input (4) must be 2-d");
    /* NN_AS checks the type it casts to */
    ck_assert_error_has(NN_AS(Linear, m), "NN_AS: the module is a Block, not a Linear");
    nn_list_free(&p);
    nn_module_free(m);
    tensor_scope_end(scope);
}
END_TEST

/* Each parameter's tensor carries its dotted name from the root, as
 * named_parameters gives it, also when a module joins a tree after its
 * parameters were made. */
START_TEST(test_full_parameter_names)
{
    TensorScope *scope = tensor_scope_begin();
    Module *m = block(2);
    ck_assert_str_eq(NN_AS(Block, m)->gain->name, "gain");
    Module *outer = nn_sequential();
    nn_append(outer, nn_linear(2, 2, false));
    nn_append(outer, m);
    ck_assert_str_eq(NN_AS(Block, m)->gain->name, "1.gain");
    ck_assert_str_eq(NN_AS(Linear, NN_AS(Block, m)->proj)->weight->name, "1.proj.weight");
    Module *top = nn_module_new(sizeof(Module), "Top", NULL);
    nn_child(top, "trf_blocks", outer);
    nn_parameter(m, "late", tensor_zeros(SHAPE(1)));
    NNList p = nn_named_parameters(top);
    for (int64_t i = 0; i < p.count; i++) ck_assert_str_eq(p.tensors[i]->name, p.names[i]);
    ck_assert_str_eq(nn_get_parameter(top, "trf_blocks.1.late")->name, "trf_blocks.1.late");
    nn_list_free(&p);
    nn_module_free(top);
    tensor_scope_end(scope);
}
END_TEST

/* Sequential and ModuleList: children "0", "1", ...; forward in turn. */
START_TEST(test_module_lists)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(123);
    Module *seq = nn_sequential();
    Module *a = nn_linear(5, 6, true), *c = nn_linear(6, 2, false);
    ck_assert_ptr_eq(nn_append(seq, a), a);
    nn_append(seq, nn_relu());
    nn_append(seq, c);
    ck_assert_ptr_eq(nn_module_ok(seq), seq);
    ck_assert_int_eq(nn_len(seq), 3);
    ck_assert_ptr_eq(nn_item(seq, 0), a);
    ck_assert_ptr_eq(nn_item(seq, -1), c);
    ck_assert_str_eq(nn_item(seq, 1)->type, "ReLU");
    ck_assert_error_has(nn_item(seq, 3), "nn_item: index 3 out of range for Sequential of 3");
    NNList p = nn_named_parameters(seq);
    ck_assert_int_eq(p.count, 3);
    ck_assert_str_eq(p.names[0], "0.weight");
    ck_assert_str_eq(p.names[1], "0.bias");
    ck_assert_str_eq(p.names[2], "2.weight");
    nn_list_free(&p);
    Tensor *x = tensor_randn(SHAPE(2, 5));
    Linear *la = NN_AS(Linear, a), *lc = NN_AS(Linear, c);
    Tensor *want = tensor_linear(tensor_relu(tensor_linear(x, la->weight, la->bias)), lc->weight,
                                 NULL);
    ck_assert_tensor_close(nn_forward(seq, x), want, 0, 0);
    /* An empty Sequential is the identity; a ModuleList has no forward. */
    Module *empty = nn_sequential(), *list = nn_module_list();
    ck_assert_ptr_eq(nn_forward(empty, x), x);
    ck_assert_error_has(nn_forward(list, x), "module ModuleList has no forward");
    nn_module_free(empty);
    nn_module_free(list);
    nn_module_free(seq);
    tensor_scope_end(scope);
}
END_TEST

/* One check at the end of a constructor: a failed part anywhere below
 * frees the whole and keeps the first message. */
START_TEST(test_sticky_constructor_errors)
{
    TensorScope *scope = tensor_scope_begin();
    Block *b = nn_module_new(sizeof *b, "Block", block_forward);
    Module *inner = nn_child(NN(b), "layers", nn_sequential());
    nn_append(inner, nn_linear(0, 3, true));          /* fails: message kept */
    nn_append(inner, nn_linear(3, 3, true));          /* still built */
    nn_parameter(NN(b), "bad.name", tensor_ones(SHAPE(1)));   /* a second failure */
    ck_assert_error_has(nn_module_ok(NN(b)), "Linear: in_features 0 and out_features 3");
    ck_assert_error_has(nn_module_new(4, "Tiny", NULL), "smaller than a Module header");
    ck_assert_ptr_null(nn_module_ok(NULL));
    tensor_scope_end(scope);
}
END_TEST

/* Every activation module: its type, no parameters, and the op's values and
 * node; LeakyReLU and Softplus keep their arguments. */
START_TEST(test_activation_modules)
{
    TensorScope *scope = tensor_scope_begin();
    tensor_manual_seed(5);
    Tensor *x = tensor_requires_grad_(tensor_mul_scalar(tensor_randn(SHAPE(2, 3, 4)), 4), true);
    const struct {
        Module *m;
        const char *type, *grad_fn;
        Tensor *want;
    } acts[] = {
        {nn_gelu(), "GELU", "GeluBackward0", tensor_gelu(x)},
        {nn_relu(), "ReLU", "ReluBackward0", tensor_relu(x)},
        {nn_tanh(), "Tanh", "TanhBackward0", tensor_tanh(x)},
        {nn_sigmoid(), "Sigmoid", "SigmoidBackward0", tensor_sigmoid(x)},
        {nn_silu(), "SiLU", "SiluBackward0", tensor_silu(x)},
        {nn_leaky_relu(0.2f), "LeakyReLU", "LeakyReluBackward0", tensor_leaky_relu(x, 0.2f)},
        {nn_softplus(2, 5), "Softplus", "SoftplusBackward0", tensor_softplus(x, 2, 5)},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        Module *m = acts[i].m;
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->type, acts[i].type);
        NNList p = nn_named_parameters(m);
        ck_assert_int_eq(p.count, 0);
        nn_list_free(&p);
        Tensor *y = nn_forward(m, x);
        ck_assert_tensor_close(y, acts[i].want, 0, 0);
        ck_assert_str_eq(tensor_grad_fn_name(y), acts[i].grad_fn);
    }
    ck_assert_float_eq(NN_AS(LeakyReLU, acts[5].m)->negative_slope, 0.2f);
    ck_assert_float_eq(NN_AS(Softplus, acts[6].m)->beta, 2);
    ck_assert_float_eq(NN_AS(Softplus, acts[6].m)->threshold, 5);
    /* in a Sequential, as the two-moons MLP uses them */
    Module *seq = nn_sequential();
    nn_append(seq, acts[4].m);
    nn_append(seq, acts[5].m);
    ck_assert_tensor_close(nn_forward(seq, x), tensor_leaky_relu(tensor_silu(x), 0.2f), 0, 0);
    nn_module_free(seq);
    for (size_t i = 0; i < 4; i++) nn_module_free(acts[i].m);
    nn_module_free(acts[6].m);
    tensor_scope_end(scope);
}
END_TEST

/* ---- layers: train/eval, errors ------------------------------------------ */

START_TEST(test_train_eval_reaches_dropout)
{
    TensorScope *scope = tensor_scope_begin();
    Module *w = nn_multi_head_attention_wrapper(3, 2, 6, 0.5f, 2, false);
    Module *m = nn_multi_head_attention(3, 2, 6, 0.5f, 2, false);
    MultiHeadAttentionWrapper *wrapper = NN_AS(MultiHeadAttentionWrapper, w);
    MultiHeadAttention *mha = NN_AS(MultiHeadAttention, m);
    ck_assert(w->training && NN(wrapper->heads[1]->dropout)->training);
    ck_assert(NN(mha->dropout)->training && NN(mha->out_proj)->training);
    nn_train(w, false);
    nn_train(m, false);
    ck_assert(!NN(wrapper->heads[0]->dropout)->training &&
              !NN(wrapper->heads[1]->dropout)->training);
    ck_assert(!NN(mha->dropout)->training && !NN(mha->W_key)->training);

    /* In eval mode dropout is the identity and draws nothing. */
    Module *d = nn_dropout(0.5f);
    nn_train(d, false);
    tensor_manual_seed(5);
    Tensor *x = tensor_rand(SHAPE(4, 4));
    uint32_t next = tensor_generator_next_u32(tensor_default_generator());
    tensor_manual_seed(5);
    x = tensor_rand(SHAPE(4, 4));
    ck_assert_tensor_close(nn_forward(d, x), x, 0, 0);
    ck_assert_uint_eq(tensor_generator_next_u32(tensor_default_generator()), next);
    nn_module_free(w);
    nn_module_free(m);
    nn_module_free(d);
    tensor_scope_end(scope);
}
END_TEST

static void assert_error(const void *result, const char *message)
{
    ck_assert(result == NULL);
    ck_assert_str_eq(tensor_error(), message);
}

/* A Dropout given its own generator draws from it, not from the default. */
START_TEST(test_dropout_own_generator)
{
    TensorScope *scope = tensor_scope_begin();
    Module *d = nn_dropout(0.5f);
    tensor_manual_seed(123);
    Tensor *from_default = nn_forward(d, tensor_ones(SHAPE(6, 6)));
    TensorGenerator g;
    tensor_generator_seed(&g, 123);
    NN_AS(Dropout, d)->generator = &g;
    tensor_manual_seed(9);
    uint32_t next = tensor_generator_next_u32(tensor_default_generator());
    tensor_manual_seed(9);
    ck_assert_tensor_close(nn_forward(d, tensor_ones(SHAPE(6, 6))), from_default, 0, 0);
    ck_assert_uint_eq(tensor_generator_next_u32(tensor_default_generator()), next);
    nn_module_free(d);
    tensor_scope_end(scope);
}
END_TEST

/* No tokens: the attention modules give an empty output and an empty
 * backward (the softmax over 0 keys included). */
START_TEST(test_empty_input)
{
    tensor_manual_seed(1);
    Module *sa = nn_self_attention_v2(3, 2, false);
    Tensor *x = tensor_requires_grad_(tensor_zeros(SHAPE(0, 3)), true);
    Tensor *y = nn_forward(sa, x);
    ck_assert_msg(y != NULL, "%s", tensor_error());
    ck_assert_str_eq(tensor_shape_str(y), "(0,2)");
    ck_assert_int_eq(tensor_backward(tensor_sum(y), NULL), 0);
    ck_assert_str_eq(tensor_shape_str(x->grad), "(0,3)");
    nn_module_free(sa);
}
END_TEST

START_TEST(test_errors)
{
    TensorScope *scope = tensor_scope_begin();
    Module *v1 = nn_self_attention_v1(3, 2);
    Module *v2 = nn_self_attention_v2(3, 2, false);
    Module *ca = nn_causal_attention(3, 2, 6, 0.0f, false);
    Module *w = nn_multi_head_attention_wrapper(3, 2, 6, 0.0f, 2, false);
    Module *mha = nn_multi_head_attention(3, 4, 6, 0.0f, 2, false);
    Module *lin = nn_linear(3, 2, true);

    assert_error(nn_forward(v1, tensor_ones(SHAPE(3))),
                 "SelfAttention_v1: input (3): expected (T, 3) or (B, T, 3)");
    assert_error(nn_forward(v2, tensor_ones(SHAPE(6, 4))),
                 "SelfAttention_v2: input (6,4): expected (T, 3) or (B, T, 3)");
    assert_error(nn_forward(mha, tensor_ones(SHAPE(1, 2, 6, 3))),
                 "MultiHeadAttention: input (1,2,6,3): expected (T, 3) or (B, T, 3)");
    assert_error(nn_forward(ca, tensor_ones(SHAPE(2, 7, 3))),
                 "CausalAttention: input (2,7,3): 7 tokens exceed context_length 6");
    assert_error(nn_forward(w, tensor_ones(SHAPE(7, 3))),
                 "MultiHeadAttentionWrapper: input (7,3): 7 tokens exceed context_length 6");
    assert_error(nn_forward(mha, tensor_ones(SHAPE(1, 7, 3))),
                 "MultiHeadAttention: input (1,7,3): 7 tokens exceed context_length 6");
    assert_error(nn_forward(lin, tensor_ones(SHAPE(6, 4))),
                 "Linear: input (6,4): expected last dim in_features = 3");
    assert_error(nn_forward(lin, tensor_scalar(1.0f)),
                 "Linear: input (): expected last dim in_features = 3");

    /* Constructors reject bad sizes before drawing anything. */
    tensor_manual_seed(7);
    uint32_t first = tensor_generator_next_u32(tensor_default_generator());
    tensor_manual_seed(7);
    assert_error(nn_multi_head_attention(3, 5, 6, 0.0f, 2, false),
                 "MultiHeadAttention: d_out 5 must be divisible by num_heads 2");
    ck_assert_uint_eq(tensor_generator_next_u32(tensor_default_generator()), first);
    assert_error(nn_multi_head_attention(3, 4, 6, 0.0f, 0, false),
                 "MultiHeadAttention: num_heads 0 must be positive");
    assert_error(nn_multi_head_attention_wrapper(3, 4, 6, 0.0f, -1, false),
                 "MultiHeadAttentionWrapper: num_heads -1 must be positive");
    assert_error(nn_causal_attention(3, 2, 0, 0.0f, false),
                 "CausalAttention: d_in 3, d_out 2 and context_length 0 must be positive");
    assert_error(nn_causal_attention(3, 2, 6, 1.5f, false),
                 "CausalAttention: dropout probability has to be between 0 and 1, but got 1.5");
    assert_error(nn_dropout(-0.1f),
                 "Dropout: probability has to be between 0 and 1, but got -0.1");
    assert_error(nn_linear(0, 3, true),
                 "Linear: in_features 0 and out_features 3 must be positive");
    assert_error(nn_self_attention_v1(3, -2),
                 "SelfAttention_v1: d_in 3 and d_out -2 must be positive");
    assert_error(nn_self_attention_v2(0, 2, false),
                 "SelfAttention_v2: d_in 0 and d_out 2 must be positive");

    /* A failed forward keeps the module usable. */
    ck_assert(nn_forward(ca, tensor_ones(SHAPE(2, 6, 3))) != NULL);

    nn_module_free(v1);
    nn_module_free(v2);
    nn_module_free(ca);
    nn_module_free(w);
    nn_module_free(mha);
    nn_module_free(lin);
    tensor_scope_end(scope);
}
END_TEST

static Suite *nn_suite(void)
{
    Suite *s = suite_create("nn");
    TCase *plumbing = tcase_create("plumbing");
    tcase_add_test(plumbing, test_plumbing);
    tcase_add_test(plumbing, test_null_is_harmless);
    suite_add_tcase(s, plumbing);
    suite_add_tcase(s, nn_torch_tcase());
    suite_add_tcase(s, nn_attention_weights_tcase());

    TCase *layers = tcase_create("layers");
    tcase_add_test(layers, test_header_example);
    tcase_add_test(layers, test_full_parameter_names);
    tcase_add_test(layers, test_module_lists);
    tcase_add_test(layers, test_activation_modules);
    tcase_add_test(layers, test_sticky_constructor_errors);
    tcase_add_test(layers, test_train_eval_reaches_dropout);
    tcase_add_test(layers, test_dropout_own_generator);
    tcase_add_test(layers, test_empty_input);
    tcase_add_test(layers, test_errors);
    suite_add_tcase(s, layers);
    return s;
}

TESTUTIL_MAIN(nn_suite)
