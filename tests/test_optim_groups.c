/*
 * Parameter groups, freezing and learning-rate schedulers against torch.optim
 * and torch.optim.lr_scheduler 1.13 (fixtures from
 * reference/gen_optim_groups.py: optim_groups.txt, lr_schedules.txt).
 *
 * The model is nn.Sequential(Linear(3, 4), LayerNorm(4), ReLU(), Linear(4, 3))
 * with the usual split: decay = the 2-d weights, no_decay = biases and
 * LayerNorm (1-d).  attograd's LayerNorm is the book's (scale, shift: torch's
 * weight, bias).  Two ways through each case:
 *   - fed: the fixture's gradients go straight into p->grad, so only the
 *     optimizer runs; it repeats torch's float32 and float64 operations, so
 *     the tolerance is test_optim.c's (bit for bit on x86-64 with glibc);
 *   - trained: the model's own forward, cross-entropy and backward, with
 *     optim_zero_grad and freezing as a user writes them; the gradients
 *     agree with torch's to float rounding, so the tolerance is wider.
 * Learning rates are doubles and compare exactly.
 */
#include <stdarg.h>

#include "testutil.h"

#define FIXTURE "optim_groups.txt"
#define SCHEDULES "lr_schedules.txt"
#define N_PARAMS 6
#define N_STEPS 6
#define RTOL 1e-6
#define ATOL 1e-7

/* The fixture's parameter names, in named_parameters() order, and ours. */
static const char *const torch_names[N_PARAMS] = {"0.weight", "0.bias", "1.weight",
                                                  "1.bias",   "3.weight", "3.bias"};
static const char *const our_names[N_PARAMS] = {"0.weight", "0.bias", "1.scale",
                                                "1.shift",  "3.weight", "3.bias"};
static const int decay[] = {0, 4}, no_decay[] = {1, 2, 3, 5};

static bool has_fixture(const char *file, const char *name)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, file);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t len = strlen(name);
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = line[0] == '@' && strncmp(line + 1, name, len) == 0 &&
                (line[1 + len] == ' ' || line[1 + len] == '\n');
    fclose(f);
    return found;
}

/* |a - b| <= atol + rtol * |b| everywhere (same shapes): a bool, for
 * messages that name the case. */
static bool close_to(const Tensor *a, const Tensor *b, double rtol, double atol)
{
    if (!a || !b || !tensor_same_shape(a, b)) return false;
    Tensor *ac = tensor_contiguous(a), *bc = tensor_contiguous(b);
    for (int64_t i = 0; i < a->numel; i++)
        if (!(fabs(ac->data[i] - bc->data[i]) <= atol + rtol * fabs(bc->data[i]))) return false;
    return true;
}

/* The child of m called name (torch's getattr(module, name)). */
static Module *child(Module *m, const char *name)
{
    for (int i = 0; i < m->n_children; i++)
        if (strcmp(m->children[i].name, name) == 0) return m->children[i].module;
    ck_abort_msg("%s has no child %s", m->type, name);
    return NULL;
}

static Tensor *fixture(const char *fmt, ...) TENSOR__PRINTF(1, 2);
static Tensor *fixture(const char *fmt, ...)
{
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return testutil_fixture(FIXTURE, name);
}

/* ---- the model and its optimizers ------------------------------------------------------- */

typedef struct {
    Module *m;                   /* NULL when the parameters stand alone (fed) */
    Tensor *p[N_PARAMS];
    Optimizer *opt;
} Setup;

static Module *make_model(void)
{
    Module *m = nn_sequential();
    nn_append(m, nn_linear(3, 4, true));
    nn_append(m, nn_layer_norm(4));
    nn_append(m, nn_relu());
    nn_append(m, nn_linear(4, 3, true));
    return nn_module_ok(m);
}

typedef enum { ADAMW, SGD } Kind;

static Optimizer *make_optimizer(Kind kind, Tensor **p)
{
    Tensor *d[] = {p[decay[0]], p[decay[1]]};
    Tensor *nd[] = {p[no_decay[0]], p[no_decay[1]], p[no_decay[2]], p[no_decay[3]]};
    if (kind == SGD) {
        SGDGroup g[] = {
            {2, d, OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01)},
            {4, nd, OPTIM_SGD_OPTIONS(.lr = 0.05)},
        };
        return optim_sgd_groups(2, g);
    }
    AdamGroup g[] = {
        {2, d, OPTIM_ADAMW_OPTIONS(.lr = 0.01, .weight_decay = 0.1)},
        {4, nd, OPTIM_ADAMW_OPTIONS(.lr = 0.02, .weight_decay = 0.0)},
    };
    return optim_adamw_groups(2, g);
}

/* The parameters at the fixture's init, in a module (trained) or alone (fed). */
static void setup(Setup *s, bool with_model)
{
    memset(s, 0, sizeof *s);
    if (with_model) {
        tensor_manual_seed(123);
        s->m = make_model();
        ck_assert_ptr_nonnull(s->m);
    }
    for (int i = 0; i < N_PARAMS; i++) {
        Tensor *init = fixture("init.%s", torch_names[i]);
        if (with_model) {
            s->p[i] = nn_get_parameter(s->m, our_names[i]);
            /* Linear draws as torch's after manual_seed(123) */
            ck_assert_tensor_close(s->p[i], init, 0, 0);
        } else {
            s->p[i] = tensor_requires_grad_(tensor_keep(init), true);
        }
        ck_assert_ptr_nonnull(s->p[i]);
    }
}

static void teardown(Setup *s)
{
    optim_free(s->opt);
    if (s->m)
        nn_module_free(s->m);
    else
        for (int i = 0; i < N_PARAMS; i++) tensor_free(s->p[i]);
}

/* p->grad = the fixture's gradient, or none when the fixture has none. */
static void feed_grad(const char *c, Tensor *p, int i, int k)
{
    char name[128];
    snprintf(name, sizeof name, "%s.grad.%s.s%d", c, torch_names[i], k);
    if (!has_fixture(FIXTURE, name)) {
        tensor_free(p->grad);
        p->grad = NULL;
        return;
    }
    Tensor *g = testutil_fixture(FIXTURE, name);
    if (p->grad)
        ck_assert_ptr_nonnull(tensor_copy_(p->grad, g));
    else
        p->grad = tensor_keep(g);
}

/* One step as torch's loop makes it: zero_grad, loss, backward, step. */
static void train_step(const char *c, Setup *s, int k)
{
    TensorScope *scope = tensor_scope_begin();
    optim_zero_grad(s->opt);
    Tensor *x = fixture("data.x"), *y = fixture("data.y");
    Tensor *loss = tensor_cross_entropy(nn_forward(s->m, x), y);
    ck_assert_msg(loss != NULL, "%s", tensor_error());
    ck_assert_tensor_close(loss, fixture("%s.loss.s%d", c, k), 1e-6, 1e-5);
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_int_eq(optim_step(s->opt), 0);
    tensor_scope_end(scope);
}

static void check_params(const char *c, Setup *s, int k, double atol, double rtol)
{
    for (int i = 0; i < N_PARAMS; i++) {
        TensorScope *scope = tensor_scope_begin();
        Tensor *want = fixture("%s.%s.s%d", c, torch_names[i], k);
        ck_assert_msg(close_to(s->p[i], want, rtol, atol), "%s step %d: %s", c, k,
                      torch_names[i]);
        tensor_scope_end(scope);
    }
}

/* Where p is among o's parameters (the groups' order, not the model's). */
static int64_t index_in(const Optimizer *o, const Tensor *p)
{
    for (int64_t j = 0; j < o->n_params; j++)
        if (o->params[j] == p) return j;
    ck_abort_msg("not a parameter of the optimizer");
    return -1;
}

/* Each parameter's state and step count after the last step, as torch's
 * opt.state[p] (a parameter torch holds no state for has none here). */
static void check_state(const char *c, const Setup *s, double atol, double rtol)
{
    const Optimizer *o = s->opt;
    char name[128];
    for (int m = 0; m < N_PARAMS; m++) {
        int64_t i = index_in(o, s->p[m]);
        snprintf(name, sizeof name, "%s.%s.step", c, torch_names[m]);
        bool adam = strcmp(o->type, "SGD") != 0;
        if (adam) {
            int64_t step = has_fixture(FIXTURE, name) ? (int64_t)fixture("%s", name)->data[0] : 0;
            ck_assert_int_eq(o->param_steps[i], step);
        }
        for (int k = 0; k < o->n_state; k++) {
            const Tensor *st = o->state[i * o->n_state + k];
            snprintf(name, sizeof name, "%s.%s.%s", c, torch_names[m], o->state_names[k]);
            if (!has_fixture(FIXTURE, name)) {
                ck_assert_msg(st == NULL, "%s: state where torch has none", name);
                continue;
            }
            ck_assert_msg(st != NULL, "%s: no state", name);
            ck_assert_msg(close_to(st, fixture("%s", name), rtol, atol), "%s", name);
        }
    }
}

static int64_t trainable(Tensor *const *p)
{
    int64_t n = 0;
    for (int i = 0; i < N_PARAMS; i++) n += p[i]->requires_grad ? p[i]->numel : 0;
    return n;
}

/* ---- the cases ---------------------------------------------------------------------------- */

typedef enum { PLAIN, SET_LR, FROZEN, FREEZE_LATER, FREEZE_LATER_KEEP_GRAD } Twist;

static const struct {
    const char *name;            /* the fixture's case */
    Kind kind;
    Twist twist;
} cases[] = {
    {"adamw_groups", ADAMW, PLAIN},
    {"adamw_set_lr", ADAMW, SET_LR},
    {"adamw_frozen", ADAMW, FROZEN},
    {"adamw_freeze_later", ADAMW, FREEZE_LATER},
    /* frozen after step 3 with its gradient left in place, as 1.13's
     * zero_grad leaves it: attograd skips the frozen weight all the same,
     * so this gives adamw_freeze_later's numbers (torch 1.13's differ: see
     * test_zero_gradient_still_moves_a_weight) */
    {"adamw_freeze_later", ADAMW, FREEZE_LATER_KEEP_GRAD},
    {"sgd_groups", SGD, PLAIN},
};

/* What happens before step k of a case; the frozen weight is 0.weight from
 * the start, or 3.weight from step 4. */
static void before_step(Twist twist, Setup *s, int k)
{
    if (twist == SET_LR && k == 3) {
        ck_assert_int_eq(optim_set_lr(s->opt, 0, 0.005), 0);
        ck_assert_int_eq(optim_set_lr(s->opt, 1, 0.001), 0);
    }
    if ((twist == FREEZE_LATER || twist == FREEZE_LATER_KEEP_GRAD) && k == 4) {
        Tensor *w = s->p[4];
        ck_assert_ptr_nonnull(tensor_requires_grad_(w, false));
        if (twist == FREEZE_LATER) {
            tensor_free(w->grad);
            w->grad = NULL;
        }
    }
}

static void run_case(int c, bool with_model)
{
    const char *name = cases[c].name;
    Twist twist = cases[c].twist;
    Setup s;
    setup(&s, with_model);
    if (twist == FROZEN) ck_assert_ptr_nonnull(tensor_requires_grad_(s.p[0], false));
    s.opt = make_optimizer(cases[c].kind, s.p);
    ck_assert_msg(s.opt != NULL, "%s", tensor_error());
    double atol = with_model ? 1e-6 : ATOL, rtol = with_model ? 1e-5 : RTOL;
    for (int k = 1; k <= N_STEPS; k++) {
        before_step(twist, &s, k);
        if (with_model) {
            train_step(name, &s, k);
        } else {
            for (int i = 0; i < N_PARAMS; i++) {
                /* the frozen weight keeps what it held; the others get torch's */
                bool frozen_keeps = twist == FREEZE_LATER_KEEP_GRAD && i == 4 && k >= 4;
                if (!frozen_keeps) feed_grad(name, s.p[i], i, k);
            }
            ck_assert_int_eq(optim_step(s.opt), 0);
        }
        check_params(name, &s, k, atol, rtol);
    }
    check_state(name, &s, atol, rtol);
    ck_assert_int_eq(trainable(s.p), (int64_t)fixture("%s.trainable", name)->data[0]);
    if (s.m) ck_assert_int_eq(nn_num_trainable_parameters(s.m), trainable(s.p));
    if (twist == FROZEN) ck_assert_ptr_null(s.p[0]->grad); /* no backward reached it */
    teardown(&s);
}

START_TEST(test_groups_fed) { run_case(_i, false); }
END_TEST

START_TEST(test_groups_trained) { run_case(_i, true); }
END_TEST

/* torch 1.13's zero_grad leaves a zero gradient on a weight frozen after
 * step 3, and AdamW keeps moving it (its moments decay, weight decay and
 * momentum act).  That is what attograd does with a weight that is not
 * frozen and gets zero gradients: the same rule, fed the fixture's zeros. */
START_TEST(test_zero_gradient_still_moves_a_weight)
{
    const char *name = "adamw_freeze_later_zero_grad";
    Setup s;
    setup(&s, false);
    s.opt = make_optimizer(ADAMW, s.p);
    for (int k = 1; k <= N_STEPS; k++) {
        for (int i = 0; i < N_PARAMS; i++) feed_grad(name, s.p[i], i, k);
        if (k >= 4) ck_assert(close_to(s.p[4]->grad, tensor_zeros(SHAPE(3, 4)), 0, 0));
        ck_assert_int_eq(optim_step(s.opt), 0);
        check_params(name, &s, k, ATOL, RTOL);
    }
    check_state(name, &s, ATOL, RTOL);
    teardown(&s);
}
END_TEST

/* The groups as the optimizer holds them, and per-group learning rates. */
START_TEST(test_groups_layout)
{
    Setup s;
    setup(&s, true);
    s.opt = make_optimizer(ADAMW, s.p);
    Optimizer *o = s.opt;
    ck_assert_int_eq(o->n_groups, 2);
    ck_assert_int_eq(o->n_params, 6);
    ck_assert(o->groups[0].first == 0 && o->groups[0].count == 2);
    ck_assert(o->groups[1].first == 2 && o->groups[1].count == 4);
    ck_assert_ptr_eq(o->params[1], s.p[4]);
    ck_assert_ptr_eq(o->params[2], s.p[1]);
    ck_assert(optim_get_lr(o, 0) == 0.01 && optim_get_lr(o, 1) == 0.02);
    ck_assert(o->groups[0].adam.weight_decay == 0.1 && o->groups[1].adam.weight_decay == 0);
    ck_assert_int_eq(optim_num_hypers(o), 5);
    bool is_bool = true;
    ck_assert_str_eq(optim_hyper_name(o, 4, &is_bool), "weight_decay");
    ck_assert(!is_bool);
    ck_assert_ptr_null(optim_hyper_name(o, 5, NULL));
    ck_assert(optim_get_hyper(o, 1, 0) == 0.02);
    ck_assert(isnan(optim_get_hyper(o, 2, 0)));
    double values[5] = {0.5, 0.8, 0.9, 1e-6, 0.2};
    ck_assert_int_eq(optim_set_hypers(o, 1, values), 0);
    ck_assert(o->groups[1].adam.lr == 0.5 && o->groups[1].adam.beta1 == 0.8);
    ck_assert(o->groups[0].adam.lr == 0.01);
    values[1] = 1;
    ck_assert_int_eq(optim_check_hypers(o, values), -1);
    ck_assert_str_eq(tensor_error(), "adamw: invalid beta parameter at index 0: 1");
    ck_assert_int_eq(optim_set_hypers(o, 1, values), -1);
    ck_assert(o->groups[1].adam.beta1 == 0.8);
    ck_assert_int_eq(optim_set_lr(o, 2, 0.1), -1);
    ck_assert_str_eq(tensor_error(), "AdamW: group 2 out of range (2 groups)");
    ck_assert_int_eq(optim_set_lr(o, 1, NAN), -1);
    ck_assert_str_eq(tensor_error(), "AdamW: invalid learning rate nan");
    ck_assert(isnan(optim_get_lr(o, -1)) && isnan(optim_get_lr(NULL, 0)));
    teardown(&s);
}
END_TEST

/* What the constructors refuse, and an empty group, which torch keeps. */
START_TEST(test_group_errors)
{
    Setup s;
    setup(&s, true);
    Tensor **p = s.p;
    AdamOptions a = OPTIM_ADAMW_OPTIONS();
    /* torch: "some parameters appear in more than one parameter group" */
    AdamGroup shared[] = {{2, (Tensor *[]){p[0], p[1]}, a}, {1, (Tensor *[]){p[1]}, a}};
    ck_assert_ptr_null(optim_adamw_groups(2, shared));
    ck_assert_str_eq(tensor_error(),
                     "adamw: some parameters appear in more than one parameter group (parameter "
                     "0 \"0.bias\" (4) of group 1 is parameter 1 of group 0)");
    /* the first repeat in the groups' order, whatever the addresses */
    AdamGroup three[] = {{1, (Tensor *[]){p[5]}, a},
                         {2, (Tensor *[]){p[2], p[3]}, a},
                         {3, (Tensor *[]){p[4], p[3], p[5]}, a}};
    ck_assert_ptr_null(optim_adamw_groups(3, three));
    ck_assert_str_eq(tensor_error(),
                     "adamw: some parameters appear in more than one parameter group (parameter "
                     "1 \"1.shift\" (4) of group 2 is parameter 1 of group 1)");
    AdamGroup twice[] = {{1, (Tensor *[]){p[0]}, a}, {2, (Tensor *[]){p[1], p[1]}, a}};
    ck_assert_ptr_null(optim_adam_groups(2, twice));
    ck_assert_str_eq(tensor_error(), "adam: group 1: parameter 1 \"0.bias\" (4) is parameter 0 "
                                     "again");
    AdamGroup bad_lr[] = {{1, p, a}, {1, p + 1, OPTIM_ADAMW_OPTIONS(.lr = NAN)}};
    ck_assert_ptr_null(optim_adamw_groups(2, bad_lr));
    ck_assert_str_eq(tensor_error(), "adamw: group 1: invalid learning rate nan");
    AdamGroup literal[] = {{1, p, a}, {1, p + 1, {.lr = 0.1}}};
    ck_assert_ptr_null(optim_adamw_groups(2, literal));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "adamw: group 1: options not made by "
                                                 "OPTIM_ADAMW_OPTIONS() or optim_adamw_defaults()"));
    SGDGroup negative[] = {{-1, p, OPTIM_SGD_OPTIONS(.lr = 0.1)}, {1, p, OPTIM_SGD_OPTIONS(.lr = 1)}};
    ck_assert_ptr_null(optim_sgd_groups(2, negative));
    ck_assert_str_eq(tensor_error(), "sgd: group 0: negative parameter count -1");
    SGDGroup null_list[] = {{2, NULL, OPTIM_SGD_OPTIONS(.lr = 0.1)}};
    ck_assert_ptr_null(optim_sgd_groups(1, null_list));
    ck_assert_str_eq(tensor_error(), "sgd: parameter list is NULL");
    ck_assert_ptr_null(optim_sgd_groups(0, null_list));
    ck_assert_str_eq(tensor_error(), "sgd: empty parameter list");
    ck_assert_ptr_null(optim_adamw_groups(2, NULL));
    ck_assert_str_eq(tensor_error(), "adamw: group list is NULL");
    AdamGroup empty[] = {{0, NULL, a}, {0, NULL, a}};
    ck_assert_ptr_null(optim_adamw_groups(2, empty));
    ck_assert_str_eq(tensor_error(), "adamw: empty parameter list");
    /* an empty group beside a full one is kept, as torch keeps it */
    AdamGroup one_empty[] = {{6, p, a}, {0, NULL, OPTIM_ADAMW_OPTIONS(.lr = 0.5)}};
    Optimizer *o = optim_adamw_groups(2, one_empty);
    ck_assert_msg(o != NULL, "%s", tensor_error());
    ck_assert(o->n_groups == 2 && o->groups[1].count == 0 && optim_get_lr(o, 1) == 0.5);
    optim_free(o);
    teardown(&s);
}
END_TEST

/* nn_requires_grad_ over a subtree, as the book's chapter 6 freezes the GPT
 * and then trains its last block and final norm; a backward then reaches
 * only what is trainable. */
START_TEST(test_freezing_a_module)
{
    tensor_manual_seed(123);
    Module *gpt = nn_gpt_model(NN_GPT_CONFIG_BOOK_TEST);
    ck_assert_ptr_nonnull(gpt);
    int64_t all = nn_num_parameters(gpt);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), all);
    ck_assert_ptr_eq(nn_requires_grad_(gpt, false), gpt);
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), 0);
    Module *last = nn_item(child(gpt, "trf_blocks"), -1);
    ck_assert_ptr_nonnull(nn_requires_grad_(last, true));
    ck_assert_ptr_nonnull(nn_requires_grad_(child(gpt, "final_norm"), true));
    int64_t want = nn_num_parameters(last) + 2 * NN_GPT_CONFIG_BOOK_TEST.emb_dim;
    ck_assert_int_eq(nn_num_trainable_parameters(gpt), want);
    /* buffers are not parameters: the causal mask stays as it is */
    ck_assert(!nn_get_parameter(gpt, "trf_blocks.0.att.mask")->requires_grad);
    NNList params = nn_named_parameters(gpt);
    Optimizer *opt = optim_adamw(params.count, params.tensors,
                                 OPTIM_ADAMW_OPTIONS(.lr = 5e-5, .weight_decay = 0.1));
    ck_assert_msg(opt != NULL, "%s", tensor_error());
    Tensor *before = tensor_clone(nn_get_parameter(gpt, "tok_emb.weight"));
    TensorScope *scope = tensor_scope_begin();
    Tensor *ids = tensor_from_data((const float[]){1, 2, 3, 4, 5, 6}, SHAPE(1, 6));
    Tensor *loss = tensor_mean(nn_forward(gpt, ids));
    ck_assert_int_eq(tensor_backward(loss, NULL), 0);
    ck_assert_int_eq(optim_step(opt), 0);
    tensor_scope_end(scope);
    for (int64_t i = 0; i < params.count; i++) {
        Tensor *t = params.tensors[i];
        ck_assert_msg((t->grad != NULL) == t->requires_grad, "%s", params.names[i]);
        ck_assert_msg((opt->state[2 * i] != NULL) == t->requires_grad, "%s", params.names[i]);
    }
    ck_assert(close_to(nn_get_parameter(gpt, "tok_emb.weight"), before, 0, 0));
    optim_free(opt);
    nn_list_free(&params);
    nn_module_free(gpt);
}
END_TEST

/* ---- learning-rate schedulers ------------------------------------------------------------ */

/* "@name n" then n doubles (%.17g: strtod gives the same double back). */
static int read_lrs(const char *name, double *out, int cap)
{
    char path[1024], line[128];
    snprintf(path, sizeof path, "%s/%s", ATTOGRAD_REFERENCE_DIR, SCHEDULES);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = -1;
    size_t len = strlen(name);
    while (n < 0 && fgets(line, sizeof line, f))
        if (line[0] == '@' && strncmp(line + 1, name, len) == 0 && line[1 + len] == ' ')
            n = atoi(line + 2 + len);
    ck_assert_msg(n > 0 && n <= cap, "%s: no schedule %s", SCHEDULES, name);
    char tok[64];
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(fscanf(f, "%63s", tok), 1);
        out[i] = strtod(tok, NULL);
    }
    fclose(f);
    return n;
}

static double pow_095(int64_t epoch, void *ctx)
{
    (void)ctx;
    return pow(0.95, (double)epoch);
}

static double linear_warmup(int64_t epoch, void *ctx)
{
    (void)ctx;
    return fmin(1.0, (double)(epoch + 1) / 5);
}

typedef enum { STEP_3_05, STEP_2_01, LAMBDA_POW, LAMBDA_WARMUP, COSINE_10, COSINE_7 } Sched;

static const struct {
    const char *name;
    Sched kind;
} schedules[] = {
    {"step.s3_g0.5", STEP_3_05},       {"step.s2_g0.1", STEP_2_01},
    {"lambda.pow", LAMBDA_POW},        {"lambda.warmup", LAMBDA_WARMUP},
    {"cosine.t10_min1e-3", COSINE_10}, {"cosine.t7", COSINE_7},
};

static OptimScheduler *make_scheduler(Sched kind, Optimizer *o)
{
    switch (kind) {
    case STEP_3_05: return optim_step_lr(o, 3, 0.5);
    case STEP_2_01: return optim_step_lr(o, 2, 0.1);
    case LAMBDA_POW: return optim_lambda_lr(o, pow_095, NULL);
    case LAMBDA_WARMUP: return optim_lambda_lr(o, linear_warmup, NULL);
    case COSINE_10: return optim_cosine_annealing_lr(o, 10, 0.001);
    case COSINE_7: return optim_cosine_annealing_lr(o, 7, 0);
    }
    return NULL;
}

/* torch's loop: record each group's lr, optimizer.step(), scheduler.step();
 * two groups with base lrs 0.1 and 0.01, the lrs compared exactly. */
START_TEST(test_schedulers_match_torch)
{
    Tensor *p0 = tensor_requires_grad_(tensor_keep(tensor_zeros(SHAPE(1))), true);
    Tensor *p1 = tensor_requires_grad_(tensor_keep(tensor_zeros(SHAPE(1))), true);
    SGDGroup g[] = {{1, &p0, OPTIM_SGD_OPTIONS(.lr = 0.1)}, {1, &p1, OPTIM_SGD_OPTIONS(.lr = 0.01)}};
    Optimizer *o = optim_sgd_groups(2, g);
    OptimScheduler *s = make_scheduler(schedules[_i].kind, o);
    ck_assert_msg(s != NULL, "%s", tensor_error());
    double want[2][64];
    char name[96];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "%s.g%d", schedules[_i].name, k);
        n = read_lrs(name, want[k], 64);
    }
    for (int e = 0; e < n; e++) {
        ck_assert_int_eq(optim_scheduler_epoch(s), e);
        for (int k = 0; k < 2; k++) {
            ck_assert_msg(optim_get_lr(o, k) == want[k][e], "%s group %d epoch %d: %.17g, want %.17g",
                          schedules[_i].name, k, e, optim_get_lr(o, k), want[k][e]);
            ck_assert(optim_scheduler_last_lr(s, k) == want[k][e]);
        }
        ck_assert_int_eq(optim_step(o), 0);
        ck_assert_int_eq(optim_scheduler_step(s), 0);
    }
    optim_scheduler_free(s);
    optim_free(o);
    tensor_free(p0);
    tensor_free(p1);
}
END_TEST

/* The book's appendix D schedule on one group, 300 steps: past total_steps
 * (135) the formula goes on, up to the peak again at 243. */
START_TEST(test_warmup_cosine_matches_the_book)
{
    static const struct {
        const char *name;
        double initial, peak, min;
    } runs[] = {{"book.demo", 1e-4, 0.01, 1e-5}, {"book.run", 1e-5, 0.001, 1e-5}};
    double want[300];
    int n = read_lrs(runs[_i].name, want, 300);
    ck_assert_int_eq(n, 300);
    Tensor *p = tensor_requires_grad_(tensor_keep(tensor_zeros(SHAPE(2))), true);
    Optimizer *o = optim_adamw(1, &p, OPTIM_ADAMW_OPTIONS(.lr = runs[_i].peak));
    OptimScheduler *s = optim_warmup_cosine_lr(
        o, OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27, .total_steps = 135,
                                       .initial_lr = runs[_i].initial, .min_lr = runs[_i].min));
    ck_assert_msg(s != NULL, "%s", tensor_error());
    for (int e = 0; e < n; e++) {
        ck_assert_msg(optim_get_lr(o, 0) == want[e], "%s step %d: %.17g, want %.17g",
                      runs[_i].name, e, optim_get_lr(o, 0), want[e]);
        ck_assert_int_eq(optim_scheduler_step(s), 0);
    }
    ck_assert(want[135] == runs[_i].min && want[243] == runs[_i].peak);
    optim_scheduler_free(s);
    optim_free(o);
    tensor_free(p);
}
END_TEST

static double nan_at_3(int64_t epoch, void *ctx)
{
    (void)ctx;
    return epoch == 3 ? NAN : 1.0;
}

START_TEST(test_scheduler_errors)
{
    Tensor *p = tensor_requires_grad_(tensor_keep(tensor_zeros(SHAPE(2))), true);
    Optimizer *o = optim_sgd(1, &p, OPTIM_SGD_OPTIONS(.lr = 0.1));
    ck_assert_ptr_null(optim_step_lr(o, 0, 0.1));
    ck_assert_str_eq(tensor_error(), "StepLR: step_size 0 must be positive");
    ck_assert_ptr_null(optim_step_lr(o, 2, -1));
    ck_assert_str_eq(tensor_error(), "StepLR: invalid gamma -1");
    ck_assert_ptr_null(optim_cosine_annealing_lr(o, 0, 0));
    ck_assert_str_eq(tensor_error(), "CosineAnnealingLR: T_max 0 must be in [1, 2^53]");
    ck_assert_ptr_null(optim_cosine_annealing_lr(o, 10, NAN));
    ck_assert_str_eq(tensor_error(), "CosineAnnealingLR: invalid eta_min nan");
    ck_assert_ptr_null(optim_lambda_lr(o, NULL, NULL));
    ck_assert_str_eq(tensor_error(), "LambdaLR: lr_lambda is NULL");
    ck_assert_ptr_null(optim_warmup_cosine_lr(o, OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 5)));
    ck_assert_str_eq(tensor_error(),
                     "warmup_cosine_lr: need 0 <= warmup_steps < total_steps (warmup 5, total -1)");
    ck_assert_ptr_null(optim_warmup_cosine_lr(o, (WarmupCosineOptions){.total_steps = 9}));
    ck_assert_ptr_nonnull(strstr(tensor_error(), "options not made by OPTIM_WARMUP_COSINE_OPTIONS"));
    ck_assert_ptr_null(optim_warmup_cosine_lr(
        o, OPTIM_WARMUP_COSINE_OPTIONS(.total_steps = 9, .warmup_steps = 1, .min_lr = -1)));
    ck_assert_str_eq(tensor_error(), "warmup_cosine_lr: invalid min_lr -1");
    /* a lambda's NaN: that step is refused, the lr and epoch stay */
    OptimScheduler *s = optim_lambda_lr(o, nan_at_3, NULL);
    ck_assert_int_eq(optim_scheduler_step(s), 0);
    ck_assert_int_eq(optim_scheduler_step(s), 0);
    ck_assert_int_eq(optim_scheduler_step(s), -1);
    ck_assert_str_eq(tensor_error(), "LambdaLR: epoch 3: invalid learning rate nan for group 0");
    ck_assert_int_eq(optim_scheduler_epoch(s), 2);
    ck_assert(optim_get_lr(o, 0) == 0.1 && optim_scheduler_last_lr(s, 0) == 0.1);
    ck_assert(isnan(optim_scheduler_last_lr(s, 1)));
    optim_scheduler_free(s);
    optim_scheduler_free(NULL);
    ck_assert_int_eq(optim_scheduler_step(NULL), -1);
    ck_assert_ptr_null(optim_step_lr(NULL, 1, 0.1));
    optim_free(o);
    tensor_free(p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("optim_groups");
    TCase *groups = tcase_create("groups");
    int n_cases = (int)(sizeof cases / sizeof *cases);
    tcase_add_loop_test(groups, test_groups_fed, 0, n_cases);
    tcase_add_loop_test(groups, test_groups_trained, 0, n_cases);
    tcase_add_test(groups, test_zero_gradient_still_moves_a_weight);
    tcase_add_test(groups, test_groups_layout);
    tcase_add_test(groups, test_group_errors);
    tcase_add_test(groups, test_freezing_a_module);
    suite_add_tcase(s, groups);
    TCase *sched = tcase_create("schedulers");
    tcase_add_loop_test(sched, test_schedulers_match_torch, 0,
                        (int)(sizeof schedules / sizeof *schedules));
    tcase_add_loop_test(sched, test_warmup_cosine_matches_the_book, 0, 2);
    tcase_add_test(sched, test_scheduler_errors);
    suite_add_tcase(s, sched);
    return s;
}

TESTUTIL_MAIN(make_suite)
