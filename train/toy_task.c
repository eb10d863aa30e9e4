/* The toy teacher-student task of train_attention (train.h). */
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint/checkpoint.h"

static const char *const models[] = {"v1", "v2", "causal", "mha"};
static const char *const optims[] = {"sgd", "adam", "adamw"};

static bool in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

bool train_toy_is_model(const char *name)
{
    return in(name, models, sizeof models / sizeof *models);
}

bool train_toy_is_optim(const char *name)
{
    return in(name, optims, sizeof optims / sizeof *optims);
}

static Module *make_student(const char *model)
{
    if (strcmp(model, "v1") == 0) return nn_self_attention_v1(TRAIN_TOY_D_IN, TRAIN_TOY_D_OUT);
    if (strcmp(model, "v2") == 0)
        return nn_self_attention_v2(TRAIN_TOY_D_IN, TRAIN_TOY_D_OUT, false);
    if (strcmp(model, "causal") == 0)
        return nn_causal_attention(TRAIN_TOY_D_IN, TRAIN_TOY_D_OUT, TRAIN_TOY_T, 0.0f, false);
    return nn_multi_head_attention(TRAIN_TOY_D_IN, TRAIN_TOY_D_OUT, TRAIN_TOY_T, 0.0f, 2, false);
}

/* torch.optim.SGD(params, lr), Adam(params, lr) or AdamW(params, lr). */
static Optimizer *make_optim(const TrainToyConfig *c, const NNList *p)
{
    if (strcmp(c->optim, "sgd") == 0)
        return optim_sgd(p->count, p->tensors, OPTIM_SGD_OPTIONS(.lr = c->lr));
    if (strcmp(c->optim, "adam") == 0)
        return optim_adam(p->count, p->tensors, OPTIM_ADAM_OPTIONS(.lr = c->lr));
    return optim_adamw(p->count, p->tensors, OPTIM_ADAMW_OPTIONS(.lr = c->lr));
}

int train_toy_init(TrainToyRun *run, const TrainToyConfig *config)
{
    if (!run || !config) return tensor_set_error("toy_init: run or config is NULL"), -1;
    memset(run, 0, sizeof *run);
    run->config = *config;
    if (!train_toy_is_model(config->model))
        return tensor_set_error("toy_init: unknown model '%s' (v1, v2, causal, mha)",
                                config->model ? config->model : "(null)"), -1;
    if (!train_toy_is_optim(config->optim))
        return tensor_set_error("toy_init: unknown optimizer '%s' (sgd, adam, adamw)",
                                config->optim ? config->optim : "(null)"), -1;
    if (config->batch < 1)
        return tensor_set_error("toy_init: batch %lld must be >= 1", (long long)config->batch),
               -1;
    tensor_manual_seed(config->seed);
    run->teacher = nn_self_attention_v2(TRAIN_TOY_D_IN, TRAIN_TOY_D_OUT, false);
    run->student = make_student(config->model);
    if (!run->teacher || !run->student) return train_toy_free(run), -1;
    run->params = nn_named_parameters(run->student);
    run->opt = make_optim(config, &run->params);
    if (!run->opt) return train_toy_free(run), -1;
    return 0;
}

float train_toy_step(TrainToyRun *run)
{
    if (!run || !run->opt) return tensor_set_error("toy_step: the run is not made"), NAN;
    TensorScope *scope = tensor_scope_begin();
    Tensor *x = tensor_rand(SHAPE(run->config.batch, TRAIN_TOY_T, TRAIN_TOY_D_IN));
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

void train_toy_free(TrainToyRun *run)
{
    if (!run) return;
    optim_free(run->opt);
    nn_list_free(&run->params);
    nn_module_free(run->student);
    nn_module_free(run->teacher);
    memset(run, 0, sizeof *run);
}

/* The configuration as metadata; the strings live in buf. */
enum { N_META = 5 };
static void config_meta(const TrainToyConfig *c, TensorMeta *meta, char buf[3][32])
{
    snprintf(buf[0], sizeof buf[0], "%.17g", c->lr);
    snprintf(buf[1], sizeof buf[1], "%llu", (unsigned long long)c->seed);
    snprintf(buf[2], sizeof buf[2], "%lld", (long long)c->batch);
    meta[0] = (TensorMeta){"model", c->model};
    meta[1] = (TensorMeta){"optim", c->optim};
    meta[2] = (TensorMeta){"lr", buf[0]};
    meta[3] = (TensorMeta){"seed", buf[1]};
    meta[4] = (TensorMeta){"batch", buf[2]};
}

/* The student, the optimizer, the default generator and the step count,
 * under the configuration's metadata. */
static int checkpoint(const TrainToyRun *run, const char *path, bool save)
{
    if (!run || !run->opt)
        return tensor_set_error("%s %s: the run is not made", save ? "save" : "load",
                                path ? path : "(null)"), -1;
    TensorMeta meta[N_META];
    char buf[3][32];
    config_meta(&run->config, meta, buf);
    Checkpoint c = {.module = run->student, .optimizer = run->opt,
                    .step = (int64_t *)&run->step, /* a save only reads it */
                    .n_meta = N_META, .meta = meta};
    return save ? checkpoint_save(&c, path) : checkpoint_load(&c, path);
}

int train_toy_save(const TrainToyRun *run, const char *path) { return checkpoint(run, path, true); }

/* The file's I64 count name into *v: 0, or -1 (the load then says why). */
static int read_count(const TensorFile *f, const char *name, int64_t *v)
{
    TensorEntry e = {.name = name, .dtype = TENSOR_I64, .data = v};
    return tensor_file_read_one(f, &e, "checkpoint");
}

/* Each step is one optimizer step: a file whose step count and optimizer
 * disagree (step 0 while the optimizer is at 3) would resume with shifted
 * steps, so it is refused before anything is loaded. */
int train_toy_resume(TrainToyRun *run, const char *path)
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
