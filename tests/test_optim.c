/*
 * The optim room against torch.optim and clip_grad_norm_ (fixtures from
 * reference/gen_optim.py).  Gradients are written into p->grad straight from
 * the fixture, so these tests need no other op.
 *
 * Tolerance: the rules repeat torch's float32 and float64 operations in
 * torch's order (FMAs where torch's kernels have them), so on x86-64 with
 * glibc the parameters and state match bit for bit.  The tests allow
 * 1e-6 relative (plus 1e-7 absolute for values near 0, one float32 ulp at
 * 1): a libm whose pow() rounds 1 - beta^t differently moves the bias
 * correction by an ulp, which 10 steps can grow to a few ulps; any mistake
 * in the rule itself (a missing bias correction, eps in the wrong place,
 * dampening on the first step) is far larger.
 */
#include "testutil.h"

#include "core/tensor_internal.h"

#define FIXTURE "optim.txt"
#define N_PARAMS 3
#define N_STEPS 10
#define RTOL 1e-6
#define ATOL 1e-7

typedef Optimizer *(*MakeOptimizer)(Tensor *const *params);

/* The three parameters of the fixture, long-lived and requiring grad. */
static void make_params(Tensor **params)
{
    char name[64];
    for (int i = 0; i < N_PARAMS; i++) {
        snprintf(name, sizeof name, "init.p%d", i);
        params[i] = tensor_requires_grad_(tensor_keep(testutil_fixture(FIXTURE, name)), true);
        ck_assert_ptr_nonnull(params[i]);
    }
}

static void free_params(Tensor **params)
{
    for (int i = 0; i < N_PARAMS; i++) tensor_free(params[i]);
}

/* p->grad = the fixture's gradient of parameter i at step k, or no grad. */
static void set_grad(Tensor *p, int i, int k, bool none)
{
    if (none) {
        tensor_free(p->grad);
        p->grad = NULL;
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "grad.p%d.s%d", i, k);
    if (!p->grad) p->grad = tensor__alloc_grad_for(p);
    ck_assert_ptr_nonnull(tensor_copy_(p->grad, testutil_fixture(FIXTURE, name)));
}

static void check_state(const Optimizer *o, const char *c, Tensor *const *params)
{
    char name[96];
    for (int i = 0; i < N_PARAMS; i++) {
        for (int k = 0; k < o->n_state; k++) {
            const Tensor *s = o->state[i * o->n_state + k];
            snprintf(name, sizeof name, "%s.p%d.%s", c, i, o->state_names[k]);
            if (strcmp(o->type, "SGD") == 0 && o->groups[0].sgd.momentum == 0) {
                ck_assert_ptr_null(s);        /* torch keeps momentum_buffer None */
                continue;
            }
            ck_assert_msg(s != NULL, "%s: no state", name);
            ck_assert_ptr_null(s->owner);     /* long-lived */
            ck_assert(tensor_same_shape(s, params[i]));
            ck_assert_tensor_close(s, testutil_fixture(FIXTURE, name), ATOL, RTOL);
        }
        if (strcmp(o->type, "SGD") != 0) {
            snprintf(name, sizeof name, "%s.p%d.step", c, i);
            float step = tensor_item(testutil_fixture(FIXTURE, name));
            ck_assert_int_eq(o->param_steps[i], (int64_t)step);
        }
    }
}

/* Runs 10 steps of case c and compares with torch after steps 1, 2, 10.
 * skip_param gets no grad at steps 3 and 4 (-1: never skipped). */
static void run_case(const char *c, MakeOptimizer make, int skip_param)
{
    Tensor *params[N_PARAMS];
    char name[96];
    make_params(params);
    Optimizer *o = make(params);
    ck_assert_msg(o != NULL, "%s: %s", c, tensor_error());
    for (int k = 1; k <= N_STEPS; k++) {
        for (int i = 0; i < N_PARAMS; i++)
            set_grad(params[i], i, k, i == skip_param && (k == 3 || k == 4));
        size_t bytes = tensor_scope_bytes();
        ck_assert_int_eq(optim_step(o), 0);
        ck_assert_uint_eq(tensor_scope_bytes(), bytes);   /* no step-lived temporaries */
        if (k != 1 && k != 2 && k != N_STEPS) continue;
        for (int i = 0; i < N_PARAMS; i++) {
            snprintf(name, sizeof name, "%s.p%d.s%d", c, i, k);
            ck_assert_tensor_close(params[i], testutil_fixture(FIXTURE, name), ATOL, RTOL);
        }
    }
    ck_assert_int_eq(o->steps, N_STEPS);
    check_state(o, c, params);
    optim_free(o);
    free_params(params);
}

static Optimizer *make_sgd(Tensor *const *p)
{
    return optim_sgd(N_PARAMS, p, optim_sgd_defaults(0.1));
}

static Optimizer *make_sgd_momentum(Tensor *const *p)
{
    SGDOptions s =
        OPTIM_SGD_OPTIONS(.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01);
    return optim_sgd(N_PARAMS, p, s);
}

static Optimizer *make_sgd_nesterov(Tensor *const *p)
{
    SGDOptions s =
        OPTIM_SGD_OPTIONS(.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true);
    return optim_sgd(N_PARAMS, p, s);
}

static Optimizer *make_adam(Tensor *const *p)
{
    return optim_adam(N_PARAMS, p, OPTIM_ADAM_OPTIONS(.lr = 0.1));
}

static Optimizer *make_adam_wd(Tensor *const *p)
{
    AdamOptions a = OPTIM_ADAM_OPTIONS(.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3,
                                       .weight_decay = 0.1);
    return optim_adam(N_PARAMS, p, a);
}

static Optimizer *make_adamw(Tensor *const *p)
{
    return optim_adamw(N_PARAMS, p, OPTIM_ADAMW_OPTIONS(.lr = 0.1));
}

START_TEST(test_sgd) { run_case("sgd", make_sgd, -1); }
END_TEST

START_TEST(test_sgd_momentum) { run_case("sgd_momentum", make_sgd_momentum, -1); }
END_TEST

START_TEST(test_sgd_nesterov) { run_case("sgd_nesterov", make_sgd_nesterov, -1); }
END_TEST

START_TEST(test_adam) { run_case("adam", make_adam, -1); }
END_TEST

START_TEST(test_adam_weight_decay) { run_case("adam_wd", make_adam_wd, -1); }
END_TEST

START_TEST(test_adamw) { run_case("adamw", make_adamw, -1); }
END_TEST

/* p1 has no grad at steps 3 and 4: torch leaves it, its moments and its
 * step count alone there, so its bias correction lags (8 steps, not 10). */
START_TEST(test_adam_skips_params_without_grad) { run_case("adam_skip", make_adam, 1); }
END_TEST

START_TEST(test_defaults)
{
    AdamOptions a = optim_adam_defaults(), w = optim_adamw_defaults();
    ck_assert(a.lr == 1e-3 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8);
    ck_assert(a.weight_decay == 0);
    ck_assert(w.lr == 1e-3 && w.beta1 == 0.9 && w.beta2 == 0.999 && w.eps == 1e-8);
    ck_assert(w.weight_decay == 1e-2);
    SGDOptions s = optim_sgd_defaults(0.5);
    ck_assert(s.lr == 0.5 && s.momentum == 0 && s.dampening == 0 && s.weight_decay == 0);
    ck_assert(!s.nesterov);
}
END_TEST

/* The macros start from torch's defaults and let designated initialisers
 * override any of them, in any order. */
START_TEST(test_options_macros)
{
    AdamOptions a = OPTIM_ADAM_OPTIONS(.lr = 0.01), d = optim_adam_defaults();
    ck_assert(a.lr == 0.01 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8);
    ck_assert(a.weight_decay == 0);
    ck_assert(d.lr == 1e-3 && d.beta1 == 0.9);
    AdamOptions w = OPTIM_ADAMW_OPTIONS(.weight_decay = 0.1, .lr = 5e-4);
    ck_assert(w.lr == 5e-4 && w.weight_decay == 0.1 && w.beta2 == 0.999 && w.eps == 1e-8);
    ck_assert(OPTIM_ADAMW_OPTIONS().weight_decay == 1e-2);
    SGDOptions s = OPTIM_SGD_OPTIONS(.momentum = 0.9, .lr = 0.1);
    ck_assert(s.lr == 0.1 && s.momentum == 0.9 && s.dampening == 0 && !s.nesterov);
    ck_assert(isnan(OPTIM_SGD_OPTIONS().lr)); /* torch's SGD has no default lr */
}
END_TEST

/* The natural C spelling of Adam(params, lr=0.01), a literal, would leave
 * betas and eps at 0: refused with a message saying how to write it. */
START_TEST(test_literal_options_are_refused)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    AdamOptions a = {.lr = 0.01};
    ck_assert_ptr_null(optim_adam(N_PARAMS, p, a));
    ck_assert_str_eq(tensor_error(),
                     "adam: options not made by OPTIM_ADAM_OPTIONS() or optim_adam_defaults(): a "
                     "literal {.lr = 0.01} leaves beta1, beta2 and eps at 0; write "
                     "OPTIM_ADAM_OPTIONS(.lr = 0.01)");
    ck_assert_ptr_null(optim_adamw(N_PARAMS, p, a));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "adamw: options not made by OPTIM_ADAMW_OPTIONS"));
    SGDOptions s = {.momentum = 0.9};
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "sgd: options not made by OPTIM_SGD_OPTIONS()"));
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, OPTIM_SGD_OPTIONS(.momentum = 0.9)));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "sgd: no learning rate"));
    free_params(p);
}
END_TEST

/* The constructors refuse what torch's refuse, with one message each. */
START_TEST(test_option_errors)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    SGDOptions s = optim_sgd_defaults(-1);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(), "sgd: invalid learning rate -1");
    s = optim_sgd_defaults(NAN);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(),
                     "sgd: no learning rate (SGD has no default): OPTIM_SGD_OPTIONS(.lr = 0.1)");
    s = OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = -0.5);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(), "sgd: invalid momentum value -0.5");
    s = OPTIM_SGD_OPTIONS(.lr = 0.1, .weight_decay = -2);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(), "sgd: invalid weight_decay value -2");
    s = OPTIM_SGD_OPTIONS(.lr = 0.1, .nesterov = true);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(), "sgd: nesterov momentum requires a momentum and zero "
                                     "dampening (momentum 0, dampening 0)");
    s = OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true);
    ck_assert_ptr_null(optim_sgd(N_PARAMS, p, s));
    ck_assert_str_eq(tensor_error(), "sgd: nesterov momentum requires a momentum and zero "
                                     "dampening (momentum 0.9, dampening 0.1)");

    struct {
        AdamOptions options;
        const char *message;
    } bad[] = {
        {OPTIM_ADAM_OPTIONS(.lr = -1), "invalid learning rate -1"},
        {OPTIM_ADAM_OPTIONS(.lr = INFINITY), "invalid learning rate inf"},
        {OPTIM_ADAM_OPTIONS(.eps = -1e-8), "invalid epsilon value -1e-08"},
        {OPTIM_ADAM_OPTIONS(.eps = INFINITY), "invalid epsilon value inf"},
        {OPTIM_ADAM_OPTIONS(.beta1 = 1), "invalid beta parameter at index 0: 1"},
        {OPTIM_ADAM_OPTIONS(.beta1 = -0.1), "invalid beta parameter at index 0: -0.1"},
        {OPTIM_ADAM_OPTIONS(.beta2 = 1.5), "invalid beta parameter at index 1: 1.5"},
        {OPTIM_ADAM_OPTIONS(.weight_decay = -1), "invalid weight_decay value -1"},
        {OPTIM_ADAM_OPTIONS(.weight_decay = NAN), "invalid weight_decay value nan"},
    };
    char expected[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_ptr_null(optim_adam(N_PARAMS, p, bad[i].options));
        snprintf(expected, sizeof expected, "adam: %s", bad[i].message);
        ck_assert_str_eq(tensor_error(), expected);
        ck_assert_ptr_null(optim_adamw(N_PARAMS, p, bad[i].options));
        snprintf(expected, sizeof expected, "adamw: %s", bad[i].message);
        ck_assert_str_eq(tensor_error(), expected);
    }
    free_params(p);
}
END_TEST

START_TEST(test_parameter_errors)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    AdamOptions a = optim_adam_defaults();
    ck_assert_ptr_null(optim_adam(0, p, a));
    ck_assert_str_eq(tensor_error(), "adam: empty parameter list");
    ck_assert_ptr_null(optim_sgd(2, NULL, optim_sgd_defaults(0.1)));
    ck_assert_str_eq(tensor_error(), "sgd: parameter list is NULL");
    ck_assert_ptr_null(optim_adamw(2, (Tensor *[]){p[0], NULL}, a));
    ck_assert_str_eq(tensor_error(), "adamw: parameter 1 is NULL");

    /* A frozen parameter is taken, as torch takes it: the fine-tuning
     * chapters give AdamW every parameter after freezing most of them
     * (test_optim_groups.c trains with them). */
    tensor_requires_grad_(p[1], false);
    Optimizer *frozen = optim_adam(N_PARAMS, p, a);
    ck_assert_ptr_nonnull(frozen);
    optim_free(frozen);
    tensor_requires_grad_(p[1], true);

    ck_assert_ptr_null(optim_adam(3, (Tensor *[]){p[0], p[1], p[1]}, a));
    ck_assert_str_eq(tensor_error(), "adam: parameter 2 (2) is parameter 1 again");

    /* An op's output, made by hand as tensor_clone makes it (no other op needed). */
    Tensor *clone = tensor__alloc(p[0]->ndim, p[0]->shape);
    ck_assert_ptr_nonnull(tensor__record(OP_CLONE, clone, 1, (const Tensor *[]){p[0]}));
    ck_assert_ptr_null(optim_sgd(1, &clone, optim_sgd_defaults(0.1)));
    ck_assert_str_eq(tensor_error(),
                     "sgd: parameter 0 (3,2) is not a leaf (grad_fn CloneBackward0)");
    /* p0 read as its transpose: a strided leaf. */
    Tensor *view = tensor__view_of(p[0], 2, (const int64_t[]){2, 3}, (const int64_t[]){1, 2}, 0);
    tensor_requires_grad_(view, true);
    ck_assert_ptr_null(optim_sgd(1, &view, optim_sgd_defaults(0.1)));
    ck_assert_str_eq(tensor_error(), "sgd: parameter 0 (2,3) is not contiguous");
    free_params(p);
}
END_TEST

/* A grad of the wrong shape fails the whole step before anything moves. */
START_TEST(test_step_rejects_bad_grad)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    Optimizer *o = optim_sgd(N_PARAMS, p, optim_sgd_defaults(0.1));
    set_grad(p[0], 0, 1, false);
    Tensor *wrong = tensor_keep(tensor_zeros(SHAPE(3)));
    p[1]->grad = wrong;
    ck_assert_int_eq(optim_step(o), -1);
    ck_assert_str_eq(tensor_error(), "optim_step (SGD): parameter 1 (2) has a grad of shape (3)");
    ck_assert_tensor_close(p[0], testutil_fixture(FIXTURE, "init.p0"), 0, 0);
    ck_assert_int_eq(o->steps, 0);
    ck_assert_int_eq(optim_step(NULL), -1);
    optim_free(o);
    free_params(p);
    /* A module's parameter is named by its full dotted name. */
    Module *m = nn_sequential();
    nn_append(m, nn_linear(3, 2, true));
    NNList params = nn_named_parameters(m);
    o = optim_sgd(params.count, params.tensors, optim_sgd_defaults(0.1));
    params.tensors[1]->grad = tensor_keep(tensor_zeros(SHAPE(3)));
    ck_assert_int_eq(optim_step(o), -1);
    ck_assert_str_eq(tensor_error(),
                     "optim_step (SGD): parameter 1 \"0.bias\" (2) has a grad of shape (3)");
    optim_free(o);
    nn_list_free(&params);
    nn_module_free(m);
}
END_TEST

/* Parameters without a grad stay as they are, with no state. */
START_TEST(test_step_skips_params_without_grad)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    SGDOptions s = OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9);
    Optimizer *o = optim_sgd(N_PARAMS, p, s);
    set_grad(p[0], 0, 1, false);
    ck_assert_int_eq(optim_step(o), 0);
    ck_assert_tensor_close(p[1], testutil_fixture(FIXTURE, "init.p1"), 0, 0);
    ck_assert_tensor_close(p[2], testutil_fixture(FIXTURE, "init.p2"), 0, 0);
    ck_assert_ptr_nonnull(o->state[0]);
    ck_assert_ptr_null(o->state[1]);
    ck_assert_ptr_null(o->state[2]);
    ck_assert(o->param_steps[0] == 1 && o->param_steps[1] == 0 && o->param_steps[2] == 0);
    ck_assert_int_eq(o->steps, 1);
    optim_free(o);
    free_params(p);
}
END_TEST

/* zero_grad zeroes in place (the same memory), and leaves NULL grads NULL. */
START_TEST(test_zero_grad)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    Optimizer *o = optim_adam(N_PARAMS, p, optim_adam_defaults());
    set_grad(p[0], 0, 1, false);
    set_grad(p[2], 2, 1, false);
    Tensor *g0 = p[0]->grad;
    optim_zero_grad(o);
    ck_assert_ptr_eq(p[0]->grad, g0);
    ck_assert_tensor_close(p[0]->grad, tensor_zeros(SHAPE(3, 2)), 0, 0);
    ck_assert_tensor_close(p[2]->grad, tensor_zeros(SHAPE(4, 5)), 0, 0);
    ck_assert_ptr_null(p[1]->grad);
    optim_zero_grad(NULL);
    optim_free(o);
    optim_free(NULL);
    free_params(p);
}
END_TEST

/* clip_grad_norm on the step-1 gradients times 3; "skip": p1 has no grad. */
static void run_clip(const char *c, double max_norm, int skip)
{
    Tensor *p[N_PARAMS];
    char name[96];
    make_params(p);
    for (int i = 0; i < N_PARAMS; i++) {
        set_grad(p[i], i, 1, i == skip);
        for (int64_t j = 0; p[i]->grad && j < p[i]->grad->numel; j++) p[i]->grad->data[j] *= 3;
    }
    float total = optim_clip_grad_norm(N_PARAMS, p, max_norm);
    snprintf(name, sizeof name, "clip.%s.total", c);
    ck_assert_tensor_close(tensor_scalar(total), testutil_fixture(FIXTURE, name), 0, RTOL);
    for (int i = 0; i < N_PARAMS; i++) {
        if (i == skip) {
            ck_assert_ptr_null(p[i]->grad);
            continue;
        }
        snprintf(name, sizeof name, "clip.%s.p%d", c, i);
        ck_assert_tensor_close(p[i]->grad, testutil_fixture(FIXTURE, name), ATOL, RTOL);
    }
    free_params(p);
}

START_TEST(test_clip_grad_norm_clips) { run_clip("clipped", 1.0, -1); }
END_TEST

START_TEST(test_clip_grad_norm_below_max_leaves_grads) { run_clip("unclipped", 100.0, -1); }
END_TEST

START_TEST(test_clip_grad_norm_skips_params_without_grad) { run_clip("skip", 2.5, 1); }
END_TEST

START_TEST(test_clip_grad_norm_errors)
{
    Tensor *p[N_PARAMS];
    make_params(p);
    ck_assert(optim_clip_grad_norm(0, NULL, 1.0) == 0.0f);
    ck_assert(optim_clip_grad_norm(N_PARAMS, p, 1.0) == 0.0f);   /* no grads at all */
    ck_assert(isnan(optim_clip_grad_norm(2, (Tensor *[]){p[0], NULL}, 1.0)));
    ck_assert_str_eq(tensor_error(), "clip_grad_norm: parameter 1 is NULL");
    ck_assert(isnan(optim_clip_grad_norm(N_PARAMS, p, -1.0)));
    ck_assert_str_eq(tensor_error(), "clip_grad_norm: invalid max_norm -1");
    ck_assert(isnan(optim_clip_grad_norm(-1, p, 1.0)));
    ck_assert_str_eq(tensor_error(), "clip_grad_norm: negative parameter count -1");
    ck_assert(isnan(optim_clip_grad_norm(2, NULL, 1.0)));
    ck_assert_str_eq(tensor_error(), "clip_grad_norm: parameter list is NULL");
    free_params(p);
}
END_TEST

/* A checkpoint restores an optimizer through the public struct: copying
 * state and step counts into a fresh optimizer continues the run exactly. */
START_TEST(test_state_restores_exactly)
{
    Tensor *a[N_PARAMS], *b[N_PARAMS];
    make_params(a);
    make_params(b);
    Optimizer *oa = make_adam(a), *ob = make_adam(b);
    for (int k = 1; k <= 5; k++) {
        for (int i = 0; i < N_PARAMS; i++) set_grad(a[i], i, k, false);
        ck_assert_int_eq(optim_step(oa), 0);
    }
    for (int i = 0; i < N_PARAMS; i++) {
        tensor_copy_(b[i], a[i]);
        ob->param_steps[i] = oa->param_steps[i];
        for (int k = 0; k < oa->n_state; k++)
            ob->state[i * ob->n_state + k] = tensor_keep(oa->state[i * oa->n_state + k]);
    }
    ob->steps = oa->steps;
    for (int k = 6; k <= N_STEPS; k++) {
        for (int i = 0; i < N_PARAMS; i++) {
            set_grad(a[i], i, k, false);
            set_grad(b[i], i, k, false);
        }
        ck_assert_int_eq(optim_step(oa), 0);
        ck_assert_int_eq(optim_step(ob), 0);
    }
    for (int i = 0; i < N_PARAMS; i++) ck_assert_tensor_close(b[i], a[i], 0, 0);
    optim_free(oa);
    optim_free(ob);
    free_params(a);
    free_params(b);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, test_sgd);
    tcase_add_test(rules, test_sgd_momentum);
    tcase_add_test(rules, test_sgd_nesterov);
    tcase_add_test(rules, test_adam);
    tcase_add_test(rules, test_adam_weight_decay);
    tcase_add_test(rules, test_adamw);
    tcase_add_test(rules, test_adam_skips_params_without_grad);
    tcase_add_test(rules, test_state_restores_exactly);
    suite_add_tcase(s, rules);
    TCase *api = tcase_create("api");
    tcase_add_test(api, test_defaults);
    tcase_add_test(api, test_options_macros);
    tcase_add_test(api, test_literal_options_are_refused);
    tcase_add_test(api, test_option_errors);
    tcase_add_test(api, test_parameter_errors);
    tcase_add_test(api, test_step_rejects_bad_grad);
    tcase_add_test(api, test_step_skips_params_without_grad);
    tcase_add_test(api, test_zero_grad);
    suite_add_tcase(s, api);
    TCase *clip = tcase_create("clip");
    tcase_add_test(clip, test_clip_grad_norm_clips);
    tcase_add_test(clip, test_clip_grad_norm_below_max_leaves_grads);
    tcase_add_test(clip, test_clip_grad_norm_skips_params_without_grad);
    tcase_add_test(clip, test_clip_grad_norm_errors);
    suite_add_tcase(s, clip);
    return s;
}

TESTUTIL_MAIN(make_suite)
