/*
 * Training checkpoints in the library (checkpoint/checkpoint.h) and the run
 * state under them (tensor/io/safetensors.h): extras round trip, and every
 * impossible value of a hand-edited file is refused with the module,
 * optimizer, generator, step and extras unchanged.
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <unistd.h>

#include "testutil.h"

static char path[64], bad[64];

typedef struct {
    SelfAttentionV2 *m;
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
        Tensor *loss = tensor_mse_loss(nn_forward(NN(r->m), x), tensor_zeros(SHAPE(2, 4, 2)));
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
    r->params = nn_named_parameters(NN(r->m));
    r->opt = adam ? optim_adam(r->params.count, r->params.tensors, optim_adam_defaults())
                  : optim_sgd(r->params.count, r->params.tensors,
                              (SGDOptions){.lr = 0.1, .momentum = 0.9});
    ck_assert_ptr_nonnull(r->opt);
    r->extra[0] = (CheckpointExtra){"loader.epoch", &r->epoch, 0, 100};
    r->extra[1] = (CheckpointExtra){"loader.batch", &r->batch, 0, 1000};
    r->c = (Checkpoint){.module = NN(r->m), .optimizer = r->opt, .step = &r->step,
                        .n_extra = 2, .extra = r->extra};
}

static void run_free(Run *r)
{
    optim_free(r->opt);
    nn_list_free(&r->params);
    nn_module_free(NN(r->m));
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
    memcpy(&s->adam, &r->opt->adam, sizeof s->adam); /* with its padding, for memcmp */
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

static Suite *run_checkpoint_suite(void)
{
    Suite *s = suite_create("run checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_loop_test(tc, test_round_trip_with_extras, 0, 2);
    tcase_add_test(tc, test_extras_are_checked);
    tcase_add_loop_test(tc, test_impossible_values_are_refused, 0, sizeof edits / sizeof *edits);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(run_checkpoint_suite)
