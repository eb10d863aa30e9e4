/* The toy teacher-student task (see toy_task.h). */
#include "toy_task.h"

#include <math.h>
#include <string.h>


static const char *const models[] = {"v1", "v2", "causal", "mha"};
static const char *const optims[] = {"sgd", "adam", "adamw"};

static bool in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

bool toy_is_model(const char *name) { return in(name, models, sizeof models / sizeof *models); }
bool toy_is_optim(const char *name) { return in(name, optims, sizeof optims / sizeof *optims); }

ToyConfig toy_defaults(void)
{
    return (ToyConfig){.model = "v2", .optim = "adam", .lr = 0.01, .batch = 8, .seed = 123};
}

static Module *make_student(const char *model)
{
    if (strcmp(model, "v1") == 0)
        return nn_self_attention_v1(TOY_D_IN, TOY_D_OUT);
    if (strcmp(model, "v2") == 0)
        return nn_self_attention_v2(TOY_D_IN, TOY_D_OUT, false);
    if (strcmp(model, "causal") == 0)
        return nn_causal_attention(TOY_D_IN, TOY_D_OUT, TOY_T, 0.0f, false);
    return nn_multi_head_attention(TOY_D_IN, TOY_D_OUT, TOY_T, 0.0f, 2, false);
}

/* torch.optim.SGD(params, lr), Adam(params, lr) or AdamW(params, lr). */
static Optimizer *make_optim(const ToyConfig *c, const NNList *p)
{
    if (strcmp(c->optim, "sgd") == 0)
        return optim_sgd(p->count, p->tensors, OPTIM_SGD_OPTIONS(.lr = c->lr));
    if (strcmp(c->optim, "adam") == 0)
        return optim_adam(p->count, p->tensors, OPTIM_ADAM_OPTIONS(.lr = c->lr));
    return optim_adamw(p->count, p->tensors, OPTIM_ADAMW_OPTIONS(.lr = c->lr));
}

int toy_init(ToyRun *run, const ToyConfig *config)
{
    memset(run, 0, sizeof *run);
    run->config = *config;
    if (!toy_is_model(config->model) || !toy_is_optim(config->optim) || config->batch < 1)
        return -1;
    tensor_manual_seed(config->seed);
    run->teacher = nn_self_attention_v2(TOY_D_IN, TOY_D_OUT, false);
    run->student = make_student(config->model);
    if (!run->teacher || !run->student) return toy_free(run), -1;
    run->params = nn_named_parameters(run->student);
    run->opt = make_optim(config, &run->params);
    if (!run->opt) return toy_free(run), -1;
    return 0;
}

float toy_step(ToyRun *run)
{
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_rand(SHAPE(run->config.batch, TOY_T, TOY_D_IN));
    tensor_no_grad_begin();
    Tensor *y = nn_forward(run->teacher, x);
    tensor_no_grad_end();
    Tensor *loss = tensor_mse_loss(nn_forward(run->student, x), y);
    float value = NAN;
    optim_zero_grad(run->opt);
    if (loss && tensor_backward(loss, NULL) == 0 && optim_step(run->opt) == 0) {
        value = tensor_item(loss);
        run->step++;
    }
    tensor_scope_end(scope);
    return value;
}

void toy_free(ToyRun *run)
{
    optim_free(run->opt);
    nn_list_free(&run->params);
    nn_module_free(run->student);
    nn_module_free(run->teacher);
    memset(run, 0, sizeof *run);
}

/* The configuration as metadata; the strings live in buf. */
enum { N_META = 5 };
static void config_meta(const ToyConfig *c, TensorMeta *meta, char buf[3][32])
{
    snprintf(buf[0], sizeof buf[0], "%.17g", c->lr);
    snprintf(buf[1], sizeof buf[1], "%llu", (unsigned long long)c->seed);
    snprintf(buf[2], sizeof buf[2], "%d", c->batch);
    meta[0] = (TensorMeta){"model", c->model};
    meta[1] = (TensorMeta){"optim", c->optim};
    meta[2] = (TensorMeta){"lr", buf[0]};
    meta[3] = (TensorMeta){"seed", buf[1]};
    meta[4] = (TensorMeta){"batch", buf[2]};
}

/* The student, the optimizer, the default generator and the step count,
 * under the configuration's metadata (checkpoint/checkpoint.h). */
static int checkpoint(const ToyRun *run, const char *path, bool save)
{
    TensorMeta meta[N_META];
    char buf[3][32];
    config_meta(&run->config, meta, buf);
    Checkpoint c = {.module = run->student, .optimizer = run->opt,
                    .step = (int64_t *)&run->step, /* a save only reads it */
                    .n_meta = N_META, .meta = meta};
    return save ? checkpoint_save(&c, path) : checkpoint_load(&c, path);
}

int toy_save(const ToyRun *run, const char *path) { return checkpoint(run, path, true); }
/* The file's I64 count name into *v: 0, or -1 (the load then says why). */
static int read_count(const TensorFile *f, const char *name, int64_t *v)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_I64, .data = v};
    return tensor_file_read_one(f, &e, "checkpoint");
}

/* Each step is one optimizer step: a file whose step count and optimizer
 * disagree (step 0 while the optimizer is at 3) would resume with shifted
 * steps, so it is refused before anything is loaded. */
int toy_resume(ToyRun *run, const char *path)
{
    TensorFile *f = tensor_file_open(path);
    int64_t step, steps;
    bool disagree = f && read_count(f, "step", &step) == 0 &&
                    read_count(f, "optimizer.steps", &steps) == 0 && step != steps;
    tensor_file_close(f);
    if (disagree)
        return tensor_set_error("load %s: its counters disagree: step %lld, but the optimizer "
                                "has taken %lld steps", path, (long long)step, (long long)steps),
               -1;
    return checkpoint(run, path, false);
}
