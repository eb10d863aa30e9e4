/*
 * Training checkpoints in the library (checkpoint/checkpoint.h) and the
 * safetensors files under them (tensor/safetensors.h): extras, parameter
 * groups and frozen parameters round trip, and every impossible value of a
 * hand-edited file is refused with the module, optimizer, generator, step and
 * extras unchanged.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "program_run.h"
#include "testutil.h"

static char path[64], bad[64];

typedef struct {
    Module *m;
    NNList params;
    Optimizer *opt;
    int64_t step, epoch, batch;
    CheckpointExtra extra[2];
    Checkpoint c;
} Run;

static void train_steps(Run *r, int n)
{
    for (int k = 0; k < n; k++) {
        TensorScope *scope = tensor_scope_begin();
        Tensor *x = tensor_rand(SHAPE(2, 4, 3));
        Tensor *loss = tensor_mse_loss(nn_forward(r->m, x), tensor_zeros(SHAPE(2, 4, 2)));
        optim_zero_grad(r->opt);
        ck_assert_int_eq(tensor_backward(loss, NULL), 0);
        ck_assert_int_eq(optim_step(r->opt), 0);
        tensor_scope_end(scope);
        r->step++;
        r->batch++;
    }
}

static void run_init(Run *r, bool adam)
{
    memset(r, 0, sizeof *r);
    tensor_manual_seed(7);
    r->m = nn_self_attention_v2(3, 2, true);
    r->params = nn_named_parameters(r->m);
    r->opt = adam ? optim_adam(r->params.count, r->params.tensors, OPTIM_ADAM_OPTIONS())
                  : optim_sgd(r->params.count, r->params.tensors,
                              OPTIM_SGD_OPTIONS(.lr = 0.1, .momentum = 0.9));
    ck_assert_ptr_nonnull(r->opt);
    r->extra[0] = (CheckpointExtra){"loader.epoch", &r->epoch, 0, 100};
    r->extra[1] = (CheckpointExtra){"loader.batch", &r->batch, 0, 1000};
    r->c = (Checkpoint){.module = r->m, .optimizer = r->opt, .step = &r->step,
                        .n_extra = 2, .extra = r->extra};
}

static void run_free(Run *r)
{
    optim_free(r->opt);
    nn_list_free(&r->params);
    nn_module_free(r->m);
}

static void paths(void)
{
    snprintf(path, sizeof path, "/tmp/attograd-run-%d.safetensors", (int)getpid());
    snprintf(bad, sizeof bad, "/tmp/attograd-run-bad-%d.safetensors", (int)getpid());
}

/* A run saved at step 3 and resumed goes on as the same run: weights, Adam
 * state, generator and extras all come back. */
START_TEST(test_round_trip_with_extras)
{
    paths();
    Run a, b;
    run_init(&a, _i == 0);
    train_steps(&a, 3);
    a.epoch = 2;
    ck_assert_msg(checkpoint_save(&a.c, path) == 0, "%s", tensor_error());
    train_steps(&a, 2);
    run_init(&b, _i == 0);
    ck_assert_msg(checkpoint_load(&b.c, path) == 0, "%s", tensor_error());
    ck_assert_int_eq(b.step, 3);
    ck_assert_int_eq(b.epoch, 2);
    ck_assert_int_eq(b.batch, 3);
    train_steps(&b, 2);
    for (int i = 0; i < a.params.count; i++)
        ck_assert_tensor_close(b.params.tensors[i], a.params.tensors[i], 0, 0); /* bit for bit */
    run_free(&a);
    run_free(&b);
    remove(path);
}
END_TEST

START_TEST(test_extras_are_checked)
{
    paths();
    Run r;
    run_init(&r, true);
    r.epoch = 101; /* its range is [0, 100] */
    ck_assert_int_eq(checkpoint_save(&r.c, path), -1);
    char expect[256];
    snprintf(expect, sizeof expect, "save %s: loader.epoch is 101, outside [0, 100]", path);
    ck_assert_str_eq(tensor_error(), expect);
    r.epoch = 0;
    r.extra[1].name = "";
    ck_assert_int_eq(checkpoint_save(&r.c, path), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "extra 1 has no name"));
    ck_assert_int_eq(checkpoint_load(&r.c, path), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "extra 1 has no name"));
    r.extra[1].name = "step"; /* a name the checkpoint uses */
    ck_assert_int_eq(checkpoint_save(&r.c, path), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "tensor step given twice"));
    run_free(&r);
}
END_TEST

/* ---- a hand-edited file: one entry changed ---------------------------------------------- */

typedef enum { SET_F64, SET_I64, SET_F32_0, ZERO_ALL, DROP, ADD_EMPTY_NAME } Edit;

static const struct {
    const char *entry;
    Edit edit;
    double value;        /* SET_I64: the value as an int64_t */
    const char *message; /* after "load <file>: " */
} edits[] = {
    {"optimizer.beta1", SET_F64, 1, "optimizer: adam: invalid beta parameter at index 0: 1"},
    {"optimizer.lr", SET_F64, NAN, "optimizer: adam: invalid learning rate nan"},
    {"optimizer.eps", SET_F64, INFINITY, "optimizer: adam: invalid epsilon value inf"},
    {"optimizer.steps", SET_I64, -5, "optimizer.steps is -5; a count is between 0 and 2^53"},
    {"step", SET_I64, 0x1p62, "step is 4611686018427387904; a count is between 0 and 2^53"},
    {"optimizer.state.0.step", SET_I64, 4, "optimizer.state.0.step is 4, past optimizer.steps 3"},
    {"optimizer.state.0.exp_avg_sq", SET_F32_0, -1, "optimizer.state.0.exp_avg_sq[0] is -1 < 0"},
    {"optimizer.state.1.exp_avg", SET_F32_0, NAN,
     "optimizer.state.1.exp_avg holds a NaN or an infinity"},
    {"W_query.weight", SET_F32_0, NAN, "W_query.weight holds a NaN or an infinity"},
    {"W_key.bias", SET_F32_0, INFINITY, "W_key.bias holds a NaN or an infinity"},
    {"generator.mt", ZERO_ALL, 0, "generator.mt is all zero (no MT19937 state)"},
    {"generator.index", SET_I64, 700, "generator.index 700 is out of range (0 to 624)"},
    {"generator.normal", SET_F64, INFINITY,
     "generator.normal[0] is inf (a sample, or NaN for none)"},
    {"optimizer.state.2.exp_avg_sq", DROP, 0,
     "optimizer.state.2.exp_avg_sq is missing beside optimizer.state.2.exp_avg"},
    {"loader.batch", DROP, 0, "loader.batch is missing from the file"},
    {"loader.epoch", SET_I64, -1, "loader.epoch is -1, outside [0, 100]"},
    {"", ADD_EMPTY_NAME, 0, "the file has , which the checkpoint does not"},
};

/* The file at path with one entry edited, written to bad. */
static void write_edited(int row)
{
    char *bytes;
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    rewind(fp);
    bytes = malloc((size_t)size);
    ck_assert_int_eq(fread(bytes, 1, (size_t)size, fp), size);
    fclose(fp);
    TensorFile *f = tensor_file_parse(bytes, (size_t)size, "good");
    ck_assert_ptr_nonnull(f);
    int n = tensor_file_count(f), k = 0;
    TensorEntry *e = calloc((size_t)n + 1, sizeof *e);
    void **copies = calloc((size_t)n + 1, sizeof *copies);
    for (int i = 0; i < n; i++) {
        const TensorEntry *src = tensor_file_entry(f, i);
        size_t bytes_i = tensor_dtype_size(src->dtype);
        for (int d = 0; d < src->ndim; d++) bytes_i *= (size_t)src->shape[d];
        bool hit = strcmp(src->name, edits[row].entry) == 0;
        if (hit && edits[row].edit == DROP) continue;
        e[k] = *src;
        e[k].data = copies[k] = malloc(bytes_i + 8);
        memcpy(e[k].data, src->data, bytes_i);
        if (hit && edits[row].edit == SET_F64) memcpy(e[k].data, &edits[row].value, 8);
        if (hit && edits[row].edit == SET_I64) {
            int64_t v = (int64_t)edits[row].value;
            memcpy(e[k].data, &v, 8);
        }
        if (hit && edits[row].edit == SET_F32_0) {
            float v = (float)edits[row].value;
            memcpy(e[k].data, &v, 4);
        }
        if (hit && edits[row].edit == ZERO_ALL) memset(e[k].data, 0, bytes_i);
        k++;
    }
    static int64_t one = 1;
    if (edits[row].edit == ADD_EMPTY_NAME)
        e[k++] = (TensorEntry){.name = "", .dtype = TENSOR_I64, .data = &one};
    TensorMeta meta[2] = {{"format", "pt"}, {"optimizer", "Adam"}};
    /* tensor_save_entries refuses an empty name: an empty-named tensor is
     * written by hand as the header a foreign writer could make. */
    if (edits[row].edit == ADD_EMPTY_NAME) e[k - 1].name = "\x01";
    ck_assert_msg(tensor_save_entries(bad, k, e, 2, meta) == 0, "%s", tensor_error());
    if (edits[row].edit == ADD_EMPTY_NAME) {
        /* "\u0001" -> "" in the header, same length with padding: rewrite. */
        FILE *w = fopen(bad, "r+b");
        char *all = malloc((size_t)size + 4096);
        size_t got = fread(all, 1, (size_t)size + 4096, w);
        char *at = memmem(all, got, "\"\\u0001\"", 8);
        ck_assert_ptr_nonnull(at);
        memcpy(at, "\"\"      ", 8); /* JSON whitespace after the name */
        rewind(w);
        fwrite(all, 1, got, w);
        fclose(w);
        free(all);
    }
    for (int i = 0; i < k; i++) free(copies[i]);
    free(copies);
    free(e);
    tensor_file_close(f);
    free(bytes);
}

typedef struct {
    float w[64];
    int64_t steps, step, epoch, batch;
    AdamOptions adam;
    TensorGenerator g;
    float m0[8];
} Snapshot;

static void snapshot(const Run *r, Snapshot *s)
{
    memset(s, 0, sizeof *s);
    int k = 0;
    for (int i = 0; i < r->params.count; i++)
        for (int64_t j = 0; j < r->params.tensors[i]->numel; j++)
            s->w[k++] = r->params.tensors[i]->data[j];
    s->steps = r->opt->steps;
    s->step = r->step;
    s->epoch = r->epoch;
    s->batch = r->batch;
    memcpy(&s->adam, &r->opt->groups[0].adam, sizeof s->adam); /* with its padding, for memcmp */
    memcpy(&s->g, tensor_default_generator(), sizeof s->g);
    memcpy(s->m0, r->opt->state[0]->data, sizeof s->m0 < (size_t)r->opt->state[0]->numel * 4
                                               ? sizeof s->m0
                                               : (size_t)r->opt->state[0]->numel * 4);
}

START_TEST(test_impossible_values_are_refused)
{
    paths();
    Run r;
    run_init(&r, true);
    r.epoch = 1;
    train_steps(&r, 3);
    ck_assert_int_eq(checkpoint_save(&r.c, path), 0);
    write_edited(_i);
    train_steps(&r, 1); /* the live run differs from both files */
    Snapshot before, after;
    snapshot(&r, &before);
    ck_assert_int_eq(checkpoint_load(&r.c, bad), -1);
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: %s", bad, edits[_i].message);
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s\n%s", tensor_error(),
                  expect);
    snapshot(&r, &after);
    ck_assert_mem_eq(&after, &before, sizeof before);
    run_free(&r);
    remove(path);
    remove(bad);
}
END_TEST


/* ---- parameter groups and frozen parameters ---------------------------------------------- */

/* The usual two groups (2-d weights decay, biases not) with W_key frozen
 * before the optimizer is made, as the fine-tuning chapters freeze. */
static void run_init_groups(Run *r)
{
    memset(r, 0, sizeof *r);
    tensor_manual_seed(7);
    r->m = nn_self_attention_v2(3, 2, true);
    r->params = nn_named_parameters(r->m);
    ck_assert_ptr_nonnull(nn_requires_grad_(NN(NN_AS(SelfAttentionV2, r->m)->W_key), false));
    Tensor *w[6], *b[6];
    int64_t nw = 0, nb = 0;
    for (int64_t i = 0; i < r->params.count; i++) {
        Tensor *t = r->params.tensors[i];
        if (t->ndim >= 2) w[nw++] = t;
        else b[nb++] = t;
    }
    AdamGroup groups[] = {{nw, w, OPTIM_ADAMW_OPTIONS(.lr = 0.01, .weight_decay = 0.1)},
                          {nb, b, OPTIM_ADAMW_OPTIONS(.lr = 0.02, .weight_decay = 0)}};
    r->opt = optim_adamw_groups(2, groups);
    ck_assert_msg(r->opt != NULL, "%s", tensor_error());
    r->extra[0] = (CheckpointExtra){"loader.epoch", &r->epoch, 0, 100};
    r->extra[1] = (CheckpointExtra){"loader.batch", &r->batch, 0, 1000};
    r->c = (Checkpoint){.module = r->m, .optimizer = r->opt, .step = &r->step,
                        .n_extra = 2, .extra = r->extra};
}

/* The file at path with entry name's first 8 bytes set to value (a double
 * or an int64_t, by the entry's dtype), written to bad. */
static void write_with(const char *name, double value)
{
    size_t size;
    char *bytes = testutil_read_file(path, &size);
    TensorFile *f = tensor_file_parse(bytes, size, "good");
    ck_assert_ptr_nonnull(f);
    int n = tensor_file_count(f);
    TensorEntry *e = calloc((size_t)n, sizeof *e);
    void **copies = calloc((size_t)n, sizeof *copies);
    bool found = false;
    for (int i = 0; i < n; i++) {
        e[i] = *tensor_file_entry(f, i);
        size_t bytes_i = tensor_dtype_size(e[i].dtype);
        for (int d = 0; d < e[i].ndim; d++) bytes_i *= (size_t)e[i].shape[d];
        e[i].data = copies[i] = malloc(bytes_i + 8);
        memcpy(e[i].data, tensor_file_entry(f, i)->data, bytes_i);
        if (strcmp(e[i].name, name) != 0) continue;
        found = true;
        int64_t as_int = (int64_t)value;
        memcpy(e[i].data, e[i].dtype == TENSOR_I64 ? (void *)&as_int : (void *)&value, 8);
    }
    ck_assert_msg(found, "no entry %s", name);
    TensorMeta meta[2] = {{"format", "pt"}, {"optimizer", "AdamW"}};
    ck_assert_msg(tensor_save_entries(bad, n, e, 2, meta) == 0, "%s", tensor_error());
    for (int i = 0; i < n; i++) free(copies[i]);
    free(copies);
    free(e);
    tensor_file_close(f);
    free(bytes);
}

/* A run with two groups and a frozen sub-layer saved and resumed goes on as
 * the same run; the frozen weights never move and hold no state; each
 * group's hyper-parameters come back. */
START_TEST(test_groups_and_frozen_round_trip)
{
    paths();
    Run a, b;
    run_init_groups(&a);
    Tensor *frozen = nn_get_parameter(a.m, "W_key.weight");
    Tensor *frozen_at_start = tensor_clone(frozen);
    train_steps(&a, 3);
    ck_assert_msg(checkpoint_save(&a.c, path) == 0, "%s", tensor_error());
    train_steps(&a, 2);
    run_init_groups(&b);
    ck_assert_int_eq(optim_set_lr(b.opt, 1, 0.5), 0); /* the file's 0.02 comes back */
    ck_assert_msg(checkpoint_load(&b.c, path) == 0, "%s", tensor_error());
    ck_assert(optim_get_lr(b.opt, 0) == 0.01 && optim_get_lr(b.opt, 1) == 0.02);
    ck_assert(b.opt->groups[0].adam.weight_decay == 0.1);
    ck_assert_int_eq(b.step, 3);
    train_steps(&b, 2);
    for (int i = 0; i < a.params.count; i++)
        ck_assert_tensor_close(b.params.tensors[i], a.params.tensors[i], 0, 0); /* bit for bit */
    ck_assert_tensor_close(frozen, frozen_at_start, 0, 0);
    for (int64_t i = 0; i < b.opt->n_params; i++) {
        bool trains = b.opt->params[i]->requires_grad;
        ck_assert_int_eq(b.opt->param_steps[i], trains ? 5 : 0);
        ck_assert(trains == (b.opt->state[2 * i] != NULL));
    }
    run_free(&a);
    run_free(&b);
    remove(path);
}
END_TEST

/* A file of one group loads into no optimizer of two, a file of two into no
 * other split; a hand-edited group is refused whole. */
START_TEST(test_groups_are_checked)
{
    paths();
    Run g, one;
    run_init_groups(&g);
    run_init(&one, true);
    train_steps(&g, 2);
    train_steps(&one, 2);
    char expect[512];
    ck_assert_int_eq(checkpoint_save(&one.c, path), 0);
    ck_assert_int_eq(checkpoint_load(&g.c, path), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "metadata \"optimizer\" is \"Adam\" in file"));
    /* one AdamW group against a file of two: the header differs */
    optim_free(one.opt);
    one.c.optimizer = one.opt = optim_adamw(one.params.count, one.params.tensors,
                                            OPTIM_ADAMW_OPTIONS());
    ck_assert_int_eq(checkpoint_save(&g.c, path), 0);
    ck_assert_int_eq(checkpoint_load(&one.c, path), -1);
    snprintf(expect, sizeof expect, "load %s: optimizer.lr is missing from the file", path);
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s", tensor_error());
    ck_assert_int_eq(checkpoint_save(&one.c, bad), 0);
    ck_assert_int_eq(checkpoint_load(&g.c, bad), -1);
    snprintf(expect, sizeof expect, "load %s: optimizer.param_groups.0.lr is missing", bad);
    ck_assert_msg(strncmp(tensor_error(), expect, strlen(expect)) == 0, "%s", tensor_error());
    /* a split of other sizes: the groups' params lists differ in shape */
    Run other;
    memset(&other, 0, sizeof other);
    tensor_manual_seed(7);
    other.m = nn_self_attention_v2(3, 2, true);
    other.params = nn_named_parameters(other.m);
    AdamGroup split[] = {{2, other.params.tensors, OPTIM_ADAMW_OPTIONS()},
                         {4, other.params.tensors + 2, OPTIM_ADAMW_OPTIONS()}};
    other.opt = optim_adamw_groups(2, split);
    other.c = (Checkpoint){.module = other.m, .optimizer = other.opt, .step = &other.step,
                           .n_extra = 2, .extra = g.extra};
    ck_assert_int_eq(checkpoint_load(&other.c, path), -1);
    snprintf(expect, sizeof expect,
             "load %s: optimizer.param_groups.0.params: shape (3) in file, (2) in checkpoint",
             path);
    ck_assert_str_eq(tensor_error(), expect);

    static const struct {
        const char *entry;
        double value;
        const char *message; /* after "load <file>: " */
    } edits_g[] = {
        {"optimizer.param_groups.1.lr", NAN,
         "optimizer.param_groups.1: adamw: invalid learning rate nan"},
        {"optimizer.param_groups.0.beta2", 1, "optimizer.param_groups.0: adamw: invalid beta "
                                              "parameter at index 1: 1"},
        {"optimizer.param_groups.1.params", 4, "optimizer.param_groups.1.params[0] is 4; 3 "
                                               "expected"},
    };
    for (size_t k = 0; k < sizeof edits_g / sizeof *edits_g; k++) {
        write_with(edits_g[k].entry, edits_g[k].value);
        Snapshot before, after;
        snapshot(&g, &before);
        double lr1 = optim_get_lr(g.opt, 1);
        ck_assert_int_eq(checkpoint_load(&g.c, bad), -1);
        snprintf(expect, sizeof expect, "load %s: %s", bad, edits_g[k].message);
        ck_assert_str_eq(tensor_error(), expect);
        snapshot(&g, &after);
        ck_assert_mem_eq(&after, &before, sizeof before);
        ck_assert(optim_get_lr(g.opt, 1) == lr1);
    }
    run_free(&g);
    run_free(&one);
    run_free(&other);
    remove(path);
    remove(bad);
}
END_TEST

/* ---- files a careless user or an attacker hands over ------------------------------------ */

/* This process's CPU time: a guard against a quadratic check must not fail
 * because other jobs share the machine (wall time did, at a load of 16). */
static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A header of n metadata keys "k0" ... (and "k0" again at the end when dup). */
static char *many_keys(int n, bool dup, size_t *size)
{
    size_t cap = (size_t)n * 24 + 64;
    char *b = malloc(cap);
    size_t len = 8;
    len += (size_t)snprintf(b + len, cap - len, "{\"__metadata__\":{");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s\"k%d\":\"v\"", i ? "," : "", i);
    if (dup) len += (size_t)snprintf(b + len, cap - len, ",\"k0\":\"v\"");
    len += (size_t)snprintf(b + len, cap - len, "}}");
    while ((len - 8) % 8) b[len++] = ' ';
    uint64_t h = len - 8;
    for (int k = 0; k < 8; k++) b[k] = (char)(h >> (8 * k));
    *size = len;
    return b;
}

/* 100,000 metadata keys: the duplicate check sorts (it was quadratic: 14 s,
 * 99 s under ASan).  Well under a second of CPU even in the sanitizer build;
 * the bound of 2 s is 7 times below the quadratic check's time. */
START_TEST(test_many_metadata_keys_are_checked_fast)
{
    size_t size;
    char *b = many_keys(100000, false, &size);
    double t0 = seconds();
    TensorFile *f = tensor_file_parse(b, size, "keys");
    double t = seconds() - t0;
    ck_assert_msg(f != NULL, "%s", tensor_error());
    ck_assert_str_eq(tensor_file_meta(f, "k99999"), "v");
    ck_assert_ptr_null(tensor_file_meta(f, "k100000"));
    tensor_file_close(f);
    ck_assert_msg(t < 2.0, "100,000 keys took %.2f s of CPU", t);
    free(b);
    b = many_keys(100000, true, &size);
    t0 = seconds();
    ck_assert_ptr_null(tensor_file_parse(b, size, "keys"));
    ck_assert_msg(seconds() - t0 < 2.0, "took %.2f s of CPU", seconds() - t0);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "__metadata__: \"k0\" given twice"));
    free(b);
}
END_TEST

static long max_rss_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* A 4 KB sparse file declaring a 3 GiB tensor: refused against the module
 * from its header, without reading (or allocating) the data. */
START_TEST(test_declared_size_costs_no_memory)
{
    paths();
    const char *json = "{\"W_query.weight\":{\"dtype\":\"F32\",\"shape\":[805306368],"
                       "\"data_offsets\":[0,3221225472]}}";
    char header[256];
    size_t n = strlen(json);
    memcpy(header + 8, json, n);
    while (n % 8) header[8 + n++] = ' ';
    for (int k = 0; k < 8; k++) header[k] = (char)((uint64_t)n >> (8 * k));
    int fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, header, 8 + n), (ssize_t)(8 + n));
    ck_assert_int_eq(ftruncate(fd, (off_t)(8 + n) + 3221225472LL), 0);
    close(fd);
    long before = max_rss_kb();
    Run r;
    run_init(&r, true);
    ck_assert_int_eq(nn_module_load(r.m, bad), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "W_query.weight: shape (805306368) in file"));
    ck_assert_int_eq(checkpoint_load(&r.c, bad), -1);
    /* 64 MB: far below the 3 GiB a whole-file read took, far above noise. */
    ck_assert_msg(max_rss_kb() - before < 64 * 1024, "RSS grew by %ld KB", max_rss_kb() - before);
    run_free(&r);
    remove(bad);
}
END_TEST

/* A FIFO (which would block forever), a folder, a device: refused at once. */
START_TEST(test_open_refuses_what_is_not_a_file)
{
    paths();
    ck_assert_int_eq(mkfifo(bad, 0600), 0);
    const char *targets[] = {bad, "/tmp", "/dev/null"};
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_null(tensor_file_open(targets[i]));
        char expect[128];
        snprintf(expect, sizeof expect, "load %s: not a regular file", targets[i]);
        ck_assert_str_eq(tensor_error(), expect);
    }
    remove(bad);
}
END_TEST

static int save_one(const char *file)
{
    static float x[2] = {1, 2};
    TensorEntry e = {.name = "x", .dtype = TENSOR_F32, .ndim = 1, .shape = {2}, .data = x};
    return tensor_save_entries(file, 1, &e, 0, NULL);
}

static void touch(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

/* kill -9 during a save leaves <name>.tmp-<pid>-<n>: the next save removes
 * those of dead processes, and leaves a live process's and other names. */
START_TEST(test_stale_temporaries_are_removed)
{
    scratch_make("save");
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0); /* child's pid is now dead */
    char file[128], stale[192], live[192], other[192];
    snprintf(file, sizeof file, "%s/run.safetensors", scratch_dir());
    snprintf(stale, sizeof stale, "%s.tmp-%d-3", file, (int)child);
    snprintf(live, sizeof live, "%s.tmp-%d-0", file, (int)getppid());
    snprintf(other, sizeof other, "%s/other.safetensors.tmp-%d-0", scratch_dir(), (int)child);
    touch(stale);
    touch(live);
    touch(other);
    ck_assert_int_eq(save_one(file), 0);
    ck_assert_int_ne(access(stale, F_OK), 0);
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(access(other, F_OK), 0);
    ck_assert_int_eq(scratch_count(), 3);
    scratch_remove();
}
END_TEST

/* A symbolic link is written through; a link to nothing, a FIFO and a
 * device are refused; the mode is kept; a 255-byte name works. */
START_TEST(test_save_targets)
{
    scratch_make("save");
    char target[128], link[128], file[400];
    snprintf(target, sizeof target, "%s/target.safetensors", scratch_dir());
    snprintf(link, sizeof link, "%s/link.safetensors", scratch_dir());
    ck_assert_int_eq(save_one(target), 0);
    ck_assert_int_eq(chmod(target, 0600), 0);
    ck_assert_int_eq(symlink("target.safetensors", link), 0);
    ck_assert_int_eq(save_one(link), 0);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600); /* the mode stays */
    ck_assert_int_eq(scratch_count(), 2);
    /* A dangling link. */
    snprintf(file, sizeof file, "%s/dangling", scratch_dir());
    ck_assert_int_eq(symlink("nowhere", file), 0);
    ck_assert_int_eq(save_one(file), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "a symbolic link to nothing"));
    unlink(file);
    /* A FIFO and a device node (made in the private folder, never /dev). */
    snprintf(file, sizeof file, "%s/fifo", scratch_dir());
    ck_assert_int_eq(mkfifo(file, 0600), 0);
    ck_assert_int_eq(save_one(file), -1);
    ck_assert_ptr_nonnull(strstr(tensor_error(), "is a FIFO; only a regular file is replaced"));
    unlink(file);
    snprintf(file, sizeof file, "%s/null", scratch_dir());
    if (mknod(file, S_IFCHR | 0600, makedev(1, 3)) == 0) {
        ck_assert_int_eq(save_one(file), -1);
        ck_assert_ptr_nonnull(strstr(tensor_error(), "is a character device"));
        unlink(file);
    } else {
        /* Without the right to make a node: a link to /dev/null, written through, refused. */
        ck_assert_int_eq(symlink("/dev/null", file), 0);
        ck_assert_int_eq(save_one(file), -1);
        ck_assert_ptr_nonnull(strstr(tensor_error(), "is a character device"));
        unlink(file);
    }
    /* The longest legal name: the temporary name is cut to fit. */
    int k = snprintf(file, sizeof file, "%s/", scratch_dir());
    memset(file + k, 'a', 255);
    file[k + 255] = '\0';
    ck_assert_msg(save_one(file) == 0, "%s", tensor_error());
    TensorFile *f = tensor_file_open(file);
    ck_assert_ptr_nonnull(f);
    tensor_file_close(f);
    ck_assert_int_eq(scratch_count(), 3);
    scratch_remove();
}
END_TEST

static Suite *run_checkpoint_suite(void)
{
    Suite *s = suite_create("run checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_loop_test(tc, test_round_trip_with_extras, 0, 2);
    tcase_add_test(tc, test_extras_are_checked);
    tcase_add_loop_test(tc, test_impossible_values_are_refused, 0, sizeof edits / sizeof *edits);
    tcase_add_test(tc, test_groups_and_frozen_round_trip);
    tcase_add_test(tc, test_groups_are_checked);
    suite_add_tcase(s, tc);
    TCase *files = tcase_create("files");
    tcase_set_timeout(files, 30); /* a FIFO that blocked would hang here */
    tcase_add_test(files, test_many_metadata_keys_are_checked_fast);
    tcase_add_test(files, test_declared_size_costs_no_memory);
    tcase_add_test(files, test_open_refuses_what_is_not_a_file);
    tcase_add_test(files, test_stale_temporaries_are_removed);
    tcase_add_test(files, test_save_targets);
    suite_add_tcase(s, files);
    return s;
}

TESTUTIL_MAIN(run_checkpoint_suite)
