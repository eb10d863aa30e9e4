/*
 * The book's chapter 6: a GPT fine-tuned into a spam classifier on the SMS
 * Spam Collection, printing the book's lines; with --lora-rank, appendix E's
 * LoRA on it.  The book's functions (the data, SpamDataset, calc_loss_batch,
 * calc_accuracy_loader, train_classifier_simple, classify_review) are the
 * train room's (train/train.h, "Chapter 6"); this program is its flags
 * (finetune_classifier_flags.c), those calls in the book's order, and what
 * it prints and writes.
 * tests/reference/book_ch06.py and gen_finetune.py are the same runs in
 * PyTorch.
 *
 * The book's run: --hf-gpt2 gpt2/model.safetensors --data SMSSpamCollection.tsv
 * (5 epochs, AdamW lr 5e-5 weight_decay 0.1, batch 8, eval_freq 50,
 * eval_iter 5, the last block, final norm and head trained).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"
#include "finetune_classifier.h"

typedef struct {
    const Options *o;
    TextTokenizer *tok;
    int64_t pad;                 /* 50256 for GPT-2's BPE, 255 for bytes */
    Module *model;
    Optimizer *opt;
    TrainSms *splits[3];
    Dataset *sets[3];
    DataLoader *loaders[3];      /* train, validation, test */
    int64_t max_length;
    bool loaded_classifier;      /* --load of a --save file: head (and LoRA) in it */
    int64_t lora_rank;           /* of the model (a loaded one's too); 0: none */
    double lora_alpha;
    /* the book's lists, for --plot */
    double *train_loss, *val_loss, *seen;
    double *train_acc, *val_acc, *acc_seen;
    int64_t n_evals, n_epochs;
    PlotCsv *csv;
} Run;

/* ---- The model: a fresh GPT, GPT-2's weights, or a file ----------------------- */

/* The config of --hf-gpt2's file (heads from --n-heads or its width; drop
 * rate from --drop-rate, else the book's 0.0): 0, or 1/2 after a message. */
static int hf_config(Options *o)
{
    NNGPTConfig c;
    if (nn_gpt_hf_config(o->hf, &c) != 0) {
        fprintf(stderr, PROG ": --hf-gpt2: %s\n", tensor_error());
        return 1;
    }
    if (o->heads_set) c.n_heads = o->gpt.cfg.n_heads;
    c.drop_rate = o->drop_set ? o->gpt.cfg.drop_rate : 0.0;
    if (c.n_heads == 0 || c.emb_dim % c.n_heads != 0) {
        fprintf(stderr, PROG ": --hf-gpt2 %s: emb_dim %lld: give --n-heads N dividing it\n",
                o->hf, (long long)c.emb_dim);
        return 2;
    }
    o->gpt.cfg = c;
    return 0;
}

/* The config (and tokenizer) of --load's file: a train_gpt checkpoint or a
 * classifier this program saved.  0, or 1/2 after a message. */
static int load_config(Options *o, Run *r)
{
    TrainClassifierInfo info;
    int rc = train_classifier_info(o->load, &info);
    if (rc == 1) {
        r->loaded_classifier = true;
        r->max_length = info.max_length;
        r->lora_rank = info.lora_rank;
        r->lora_alpha = info.lora_alpha;
    } else if (rc == 0 && nn_gpt_check_file(info.cfg, o->load) != 0) {
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, PROG ": --load: %s\n", tensor_error());
        return 1;
    }
    NNGPTConfig c = info.cfg;
    const char *tok = info.tokenizer;
    if (o->tokenizer && strcmp(o->tokenizer, tok) != 0) {
        fprintf(stderr, PROG ": --tokenizer %s contradicts %s (tokenizer %s)\n", o->tokenizer,
                o->load, tok);
        return 2;
    }
    o->tokenizer = tok;
    if (o->heads_set && o->gpt.cfg.n_heads != c.n_heads) {
        fprintf(stderr, PROG ": --n-heads %lld contradicts %s (n_heads %lld)\n",
                (long long)o->gpt.cfg.n_heads, o->load, (long long)c.n_heads);
        return 2;
    }
    if (o->drop_set) c.drop_rate = o->gpt.cfg.drop_rate;
    o->gpt.cfg = c;
    if (r->loaded_classifier && o->max_length && o->max_length != r->max_length) {
        fprintf(stderr, PROG ": --max-length %lld contradicts %s (max_length %lld)\n",
                (long long)o->max_length, o->load, (long long)r->max_length);
        return 2;
    }
    if (r->loaded_classifier && o->lora_rank) {
        fprintf(stderr, PROG ": --lora-rank: %s is a fine-tuned classifier already\n", o->load);
        return 2;
    }
    return 0;
}

/* GPTModel(cfg), drawn from the seeded generator, with --hf-gpt2's or a
 * train_gpt checkpoint's weights in it; then eval().  NULL after a message. */
static Module *base_model(const Options *o)
{
    Module *m = o->hf ? nn_gpt_load_hf(o->hf, o->gpt.cfg) : nn_gpt_model(o->gpt.cfg);
    if (m && o->load && checkpoint_load_module(m, o->load, 0, NULL) != 0) {
        nn_module_free(m);
        m = NULL;
    }
    if (!m) fprintf(stderr, PROG ": %s\n", tensor_error());
    else nn_train(m, false);                                          /* model.eval() */
    return m;
}

/* What rebuilds the classifier around the GPT: its config, tokenizer,
 * head, text length and LoRA (the files' metadata). */
static TrainClassifierInfo classifier_info(const Run *r, const Options *o)
{
    return (TrainClassifierInfo){.cfg = o->gpt.cfg, .tokenizer = o->tokenizer,
                                 .num_classes = NUM_CLASSES, .max_length = r->max_length,
                                 .lora_rank = r->lora_rank, .lora_alpha = r->lora_alpha};
}

/* A classifier --save wrote (train_classifier_load), what trains set
 * as --trainable says when it has no LoRA layers.  NULL after a message. */
static Module *saved_classifier(const Options *o, const Run *r)
{
    TrainClassifierInfo info = classifier_info(r, o);
    Module *m = train_classifier_load(o->load, &info);
    if (m && !r->lora_rank && train_classifier_set_trainable(m, o->trainable) != 0) {
        nn_module_free(m);
        m = NULL;
    }
    if (!m) fprintf(stderr, PROG ": --load: %s\n", tensor_error());
    return m;
}

/* --load-lora: the pretrained GPT, its new head, LoRA on every Linear (the
 * rest frozen), then the file's head and LoRA weights.  NULL after a
 * message. */
static Module *lora_classifier(const Options *o, Run *r)
{
    Module *m = base_model(o);
    if (!m) return NULL;
    r->lora_rank = o->lora_rank;
    r->lora_alpha = o->lora_alpha;
    TrainClassifierInfo info = classifier_info(r, o);
    if (!nn_gpt_replace_head(m, NUM_CLASSES, NULL) || !nn_requires_grad_(m, false) ||
        nn_replace_linear_with_lora(m, o->lora_rank, o->lora_alpha) < 0 ||
        train_lora_load(m, &info, o->load_lora) != 0) {
        fprintf(stderr, PROG ": --load-lora: %s\n", tensor_error());
        nn_module_free(m);
        return NULL;
    }
    nn_train(m, false);
    return m;
}

/* --load-lora's file fits the model the flags describe, before any work;
 * its max_length is the classifier's.  0, or 1 / 2 after a message. */
static int lora_file_fits(Run *r, const Options *o)
{
    TrainClassifierInfo f;
    if (train_lora_info(o->load_lora, &f)) {
        fprintf(stderr, PROG ": --load-lora: %s\n", tensor_error());
        return 1;
    }
    if (!o->lora_rank) {
        fprintf(stderr, PROG ": --load-lora %s: LoRA of rank %lld: give --lora-rank %lld "
                "--lora-alpha %g, as it was trained\n", o->load_lora, (long long)f.lora_rank,
                (long long)f.lora_rank, f.lora_alpha);
        return 2;
    }
    if (o->max_length && o->max_length != f.max_length) {
        fprintf(stderr, PROG ": --max-length %lld contradicts %s (max_length %lld)\n",
                (long long)o->max_length, o->load_lora, (long long)f.max_length);
        return 2;
    }
    r->max_length = f.max_length;
    TrainClassifierInfo want = {.cfg = o->gpt.cfg, .tokenizer = o->tokenizer,
                                .num_classes = NUM_CLASSES, .max_length = f.max_length,
                                .lora_rank = o->lora_rank, .lora_alpha = o->lora_alpha};
    if (train_lora_check(o->load_lora, &want) == 0) return 0;
    fprintf(stderr, PROG ": --load-lora: %s\n", tensor_error());
    return 2;
}

/* ---- The data ------------------------------------------------------------------ */

/* The book's frames and datasets: read, balance, split 70/10/20 (pandas'
 * random_state 123), SpamDataset of each (validation and test cut to the
 * training set's max_length).  0, or 1/2 after a message. */
static int make_datasets(Run *r, const Options *o)
{
    TrainSms *all = train_sms_read(o->data), *bal = NULL;
    int rc = all && (bal = train_sms_balanced(all, 123)) &&
                     train_sms_random_split(bal, 0.7, 0.1, 123, &r->splits[0], &r->splits[1],
                                            &r->splits[2]) == 0 ? 0 : 1;
    train_sms_free(all);
    train_sms_free(bal);
    if (rc) {
        fprintf(stderr, PROG ": --data: %s\n", tensor_error());
        return 1;
    }
    static const char *const part[3] = {"training", "validation", "test"};
    for (int k = 0; k < 3; k++)
        if (r->splits[k]->n == 0) {
            fprintf(stderr, PROG ": --data %s: the %s part of the split is empty (%lld rows "
                    "in all after balancing): too few examples\n", o->data, part[k],
                    (long long)(r->splits[0]->n + r->splits[1]->n + r->splits[2]->n));
            return 1;
        }
    /* a saved classifier's or --load-lora's length, else the flag's (0: the longest) */
    int64_t max_length = r->max_length ? r->max_length : o->max_length;
    r->sets[0] = train_spam_dataset(r->splits[0], r->tok, max_length, r->pad);
    if (r->sets[0]) r->max_length = train_spam_dataset_max_length(r->sets[0]);
    for (int k = 1; k < 3 && r->sets[0]; k++)
        r->sets[k] = train_spam_dataset(r->splits[k], r->tok, r->max_length, r->pad);
    if (!r->sets[0] || !r->sets[1] || !r->sets[2]) {
        fprintf(stderr, PROG ": --data %s: %s\n", o->data, tensor_error());
        return 1;
    }
    if (r->max_length > o->gpt.cfg.context_length) {
        fprintf(stderr, PROG ": --data %s: the longest training text is %lld tokens, more than "
                "the model's context length %lld (give --max-length %lld or less)\n", o->data,
                (long long)r->max_length, (long long)o->gpt.cfg.context_length,
                (long long)o->gpt.cfg.context_length);
        return 2;
    }
    return 0;
}

/* The loaders (after the seed): train shuffled, its last short batch
 * dropped; validation and test in order, whole.  0, or 1 after a message. */
static int make_loaders(Run *r, const Options *o)
{
    r->loaders[0] = data_loader(r->sets[0], DATA_LOADER_OPTIONS(.batch_size = o->train.batch_size,
                                                                 .shuffle = true,
                                                                 .drop_last = true));
    for (int k = 1; k < 3; k++)
        r->loaders[k] = data_loader(r->sets[k],
                                    DATA_LOADER_OPTIONS(.batch_size = o->train.batch_size));
    if (!r->loaders[0] || !r->loaders[1] || !r->loaders[2]) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    if (data_loader_len(r->loaders[0]) == 0 && o->train.epochs > 0) {
        fprintf(stderr, PROG ": --data %s: the training part has %lld examples, fewer than "
                "--batch-size %lld: too few examples for a batch\n", o->data,
                (long long)r->splits[0]->n, (long long)o->train.batch_size);
        return 1;
    }
    return 0;
}

/* ---- What the run prints --------------------------------------------------------- */

static int print_accuracies(Run *r, int64_t num_batches)
{
    static const char *const names[3] = {"Training", "Validation", "Test"};
    for (int k = 0; k < 3; k++) {
        double a;
        if (train_calc_accuracy_loader(r->loaders[k], r->model, num_batches, &a)) {
            fprintf(stderr, PROG ": %s accuracy: %s\n", names[k], tensor_error());
            return 1;
        }
        printf("%s accuracy: %.2f%%\n", names[k], a * 100);
    }
    fflush(stdout);
    return 0;
}

static int64_t examples_seen(const Run *r, const TrainState *s)
{
    return s->tokens_seen / r->max_length;
}

static bool push(double **a, int64_t n, double v)
{
    double *p = realloc(*a, (size_t)(n + 1) * sizeof *p);
    if (!p) return false;
    p[n] = v;
    *a = p;
    return true;
}

static int on_eval(const TrainState *s, double train, double val, void *ctx)
{
    Run *r = ctx;
    printf("Ep %lld (Step %06lld): Train loss %.3f, Val loss %.3f\n", (long long)s->epoch,
           (long long)s->global_step, train, val);
    fflush(stdout);
    int64_t seen = examples_seen(r, s), n = r->n_evals;
    if (!push(&r->train_loss, n, train) ||
        !push(&r->val_loss, n, val) || !push(&r->seen, n, (double)seen))
        return (tensor_set_error("out of memory"), -1);
    r->n_evals++;
    if (r->csv && plot_csv_row(r->csv, "%lld,%lld,%lld,%.17g,%.17g,,", (long long)s->global_step,
                               (long long)s->epoch, (long long)seen, train, val))
        return -1;
    return 0;
}

static int on_accuracy(const TrainState *s, double train, double val, void *ctx)
{
    Run *r = ctx;
    printf("Training accuracy: %.2f%% | Validation accuracy: %.2f%%\n", train * 100, val * 100);
    fflush(stdout);
    int64_t seen = examples_seen(r, s), n = r->n_epochs;
    if (!push(&r->train_acc, n, train) || !push(&r->val_acc, n, val) ||
        !push(&r->acc_seen, n, (double)seen))
        return (tensor_set_error("out of memory"), -1);
    r->n_epochs++;
    if (r->csv && plot_csv_row(r->csv, "%lld,%lld,%lld,,,%.17g,%.17g", (long long)s->global_step,
                               (long long)s->epoch, (long long)seen, train, val))
        return -1;
    return 0;
}

/* x = linspace(0, epochs, n), as the book's plot_values. */
static double *linspace(double end, int64_t n)
{
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    for (int64_t i = 0; x && i < n; i++) x[i] = n > 1 ? end * (double)i / (double)(n - 1) : 0;
    return x;
}

/* One of the book's two figures: train and validation against epochs,
 * examples seen on the top axis.  0, or 1 after a message. */
static int figure(const Options *o, const char *path, const char *what, int64_t n,
                  const double *train, const double *val, const double *seen)
{
    if (!path) return 0;
    double *x = linspace((double)o->train.epochs, n);
    char title[160], ylabel[32];
    snprintf(title, sizeof title, "A GPT fine-tuned as a spam classifier: %s (the book's "
             "chapter 6)", what);
    snprintf(ylabel, sizeof ylabel, "%s", what);
    PlotSeries s[] = {
        {.label = "training", .n = n, .x = x, .y = train, .x2 = seen},
        {.label = "validation", .n = n, .x = x, .y = val, .dash = PLOT_DASHED},
    };
    PlotOptions p = PLOT_OPTIONS(.title = title, .xlabel = "epochs", .ylabel = ylabel,
                                 .x2label = "examples seen");
    int rc = x ? plot_lines(path, 2, s, p) : -1;
    if (rc == 0 && o->ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, p);
    }
    if (rc) fprintf(stderr, PROG ": %s: %s\n", path, tensor_error());
    free(x);
    return rc ? 1 : 0;
}

/* ---- The book's order ----------------------------------------------------------- */

/* The 2-class head and what trains (or LoRA): the book's calls, each seed
 * where the book seeds.  0, or 1 after a message. */
static int make_classifier(Run *r, const Options *o)
{
    if (!o->lora_rank) {
        /* for param in model.parameters(): param.requires_grad = False;
         * torch.manual_seed(123); model.out_head = Linear(emb_dim, 2); the
         * last block and final_norm trainable */
        bool ok = nn_requires_grad_(r->model, false) != NULL;
        tensor_manual_seed(o->train.seed);
        ok = ok && nn_gpt_replace_head(r->model, NUM_CLASSES, NULL) &&
             train_classifier_set_trainable(r->model, o->trainable) == 0;
        if (!ok) fprintf(stderr, PROG ": %s\n", tensor_error());
        return ok ? 0 : 1;
    }
    /* Appendix E: the head first (nothing frozen), the accuracies, the
     * counts, every parameter frozen, the LoRA layers, the accuracies again. */
    tensor_manual_seed(o->train.seed);
    if (!nn_gpt_replace_head(r->model, NUM_CLASSES, NULL)) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    tensor_manual_seed(o->train.seed);
    if (print_accuracies(r, 10)) return 1;
    if (train_lora_setup(r->model, o->lora_rank, o->lora_alpha, stdout) < 0) {
        fprintf(stderr, PROG ": --lora-rank: %s\n", tensor_error());
        return 1;
    }
    r->lora_rank = o->lora_rank;
    r->lora_alpha = o->lora_alpha;
    tensor_manual_seed(o->train.seed);
    return print_accuracies(r, 10);
}

/* torch.manual_seed(123); AdamW over every parameter (the frozen ones get
 * no gradient and are skipped); train_classifier_simple.  0, or 1. */
static int train(Run *r, const Options *o)
{
    NNList params = nn_named_parameters(r->model);
    tensor_manual_seed(o->train.seed);
    r->opt = optim_adamw(params.count, params.tensors,
                         OPTIM_ADAMW_OPTIONS(.lr = o->train.lr,
                                             .weight_decay = o->train.weight_decay));
    nn_list_free(&params);
    if (!r->opt) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    if (o->csv && !(r->csv = plot_csv_open(o->csv, "step,epoch,examples_seen,train_loss,"
                                                   "val_loss,train_acc,val_acc"))) {
        fprintf(stderr, PROG ": --csv %s\n", tensor_error());
        return 1;
    }
    TrainState s = TRAIN_STATE_INIT;
    TrainOptions t = TRAIN_OPTIONS(.num_epochs = o->train.epochs, .eval_freq = o->train.eval_freq,
                                   .eval_iter = o->train.eval_iter, .on_eval = on_eval, .ctx = r);
    double t0 = plot_clock();
    int rc = train_classifier_simple(r->model, r->loaders[0], r->loaders[1], r->opt, &t,
                                     on_accuracy, &s) < 0;
    train_state_clear(&s);
    if (rc) fprintf(stderr, PROG ": %s\n", tensor_error());
    if (r->csv && plot_csv_close(r->csv) && !rc) {
        fprintf(stderr, PROG ": --csv %s\n", tensor_error());
        rc = 1;
    }
    r->csv = NULL;
    if (!rc)
        fprintf(stderr, PROG ": training completed in %.2f minutes.\n",
                (plot_clock() - t0) / 60.0);
    return rc;
}

/* --save: the model's state_dict with the GPT's config, the tokenizer and
 * what rebuilds the classifier (train_classifier_save); --save-lora: its
 * LoRA weights and head alone, with the same description (train_lora_save). */
static int save(const Run *r, const Options *o)
{
    TrainClassifierInfo info = classifier_info(r, o);
    if (o->save && train_classifier_save(r->model, &info, o->save) != 0) {
        fprintf(stderr, PROG ": --save: %s\n", tensor_error());
        return 1;
    }
    if (o->save_lora && train_lora_save(r->model, &info, o->save_lora) != 0) {
        fprintf(stderr, PROG ": --save-lora: %s\n", tensor_error());
        return 1;
    }
    return 0;
}

static int classify(const Run *r, const Options *o)
{
    for (int k = 0; k < o->n_classify; k++) {
        int64_t c = train_classify_review(o->classify[k], r->model, r->tok, r->max_length,
                                          r->pad);
        if (c < 0) {
            fprintf(stderr, PROG ": --classify: %s\n", tensor_error());
            return 1;
        }
        printf("%s\n", c == 1 ? "spam" : "not spam");
    }
    return 0;
}

/* --count-parameters: appendix E's three lines from the shapes alone. */
static int count_only(const Options *o)
{
    int64_t before = nn_gpt_num_parameters(o->gpt.cfg, NUM_CLASSES, true);
    int64_t lora = nn_gpt_lora_parameters(o->gpt.cfg, NUM_CLASSES, o->lora_rank);
    if (before < 0 || lora < 0) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 2;
    }
    char a[32], b[32];
    printf("Total trainable parameters before: %s\n", train_thousands(before, a));
    printf("Total trainable parameters after: 0\n");
    printf("Total trainable LoRA parameters: %s\n", train_thousands(lora, b));
    return 0;
}

static void run_free(Run *r)
{
    for (int k = 0; k < 3; k++) {
        data_loader_free(r->loaders[k]);
        data_dataset_free(r->sets[k]);
        train_sms_free(r->splits[k]);
    }
    optim_free(r->opt);
    nn_module_free(r->model);
    text_tokenizer_free(r->tok);
    free(r->train_loss), free(r->val_loss), free(r->seen);
    free(r->train_acc), free(r->val_acc), free(r->acc_seen);
}

/* The model's config, the tokenizer, and the checks that need both: 0, or
 * 1/2 after a message. */
static int prepare(Run *r, Options *o)
{
    int rc = o->hf ? hf_config(o) : o->load ? load_config(o, r) : 0;
    if (rc) return rc;
    if (!o->data && !o->count_only && !r->loaded_classifier && !o->load_lora) {
        fprintf(stderr, PROG ": --data FILE is needed: %s is a GPT, not a classifier this "
                "program saved\n", o->load);
        return 2;
    }
    if (!o->tokenizer) o->tokenizer = "gpt2";
    if (o->count_only) return 0;
    if (o->load_lora && (rc = lora_file_fits(r, o)) != 0) return rc;
    if (o->lora_rank && nn_gpt_lora_parameters(o->gpt.cfg, NUM_CLASSES, o->lora_rank) < 0) {
        fprintf(stderr, PROG ": --lora-rank %lld: %s\n", (long long)o->lora_rank,
                tensor_error());
        return 2;
    }
    if (o->max_length > o->gpt.cfg.context_length) {
        fprintf(stderr, PROG ": --max-length %lld is more than the model's context length "
                "%lld\n", (long long)o->max_length, (long long)o->gpt.cfg.context_length);
        return 2;
    }
    if (!(r->tok = cli_tokenizer(PROG, o->tokenizer, o->vocab))) {
        fprintf(stderr, "%s\n", tensor_error());
        return 1;
    }
    r->pad = strcmp(o->tokenizer, "bytes") == 0 ? 255 : 50256;
    if (text_vocab_size(r->tok) > o->gpt.cfg.vocab_size) {
        fprintf(stderr, PROG ": the model's vocabulary (%lld) is smaller than the tokenizer's "
                "(%lld)\n", (long long)o->gpt.cfg.vocab_size,
                (long long)text_vocab_size(r->tok));
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    Options o = {.gpt = {.cfg = NN_GPT_CONFIG_124M, .context_124m = 1024},
                 .train = {.lr = 5e-5, .weight_decay = 0.1, .epochs = 5, .batch_size = 8,
                           .eval_freq = 50, .eval_iter = 5, .seed = 123,
                           .allow_zero_epochs = true},
                 .trainable = TRAIN_TRAINABLE_LAST_BLOCK};
    int rc = parse_flags(argc, argv, &o);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : rc;
    if (!paths_ok(&o)) return 2;
    Run r = {.o = &o};
    /* --bf16: every product (training, evaluation, accuracies, classifying)
     * in bf16; weights, gradients and AdamW stay float32 (tensor.h). */
    tensor_autocast_begin(o.train.bf16);
    rc = prepare(&r, &o);
    if (!rc && o.count_only) rc = count_only(&o);
    else if (!rc && (r.loaded_classifier || o.load_lora) && !o.data) {
        /* a saved classifier, used as it is; or --load-lora's on its GPT,
         * drawn as the run that saved it drew it (the seed first), and --save */
        if (o.load_lora) tensor_manual_seed(o.train.seed);
        r.model = r.loaded_classifier ? saved_classifier(&o, &r) : lora_classifier(&o, &r);
        rc = r.model ? classify(&r, &o) : 1;
        if (!rc && o.load_lora) rc = save(&r, &o);
    } else if (!rc) {
        rc = make_datasets(&r, &o);
        if (!rc) {
            tensor_manual_seed(o.train.seed);             /* before the loaders and the model */
            rc = make_loaders(&r, &o);
        }
        if (!rc) {
            r.model = r.loaded_classifier ? saved_classifier(&o, &r)
                      : o.load_lora       ? lora_classifier(&o, &r)
                                          : base_model(&o);
            if (!r.model) rc = 1;
        }
        if (!rc && !r.loaded_classifier && !o.load_lora) rc = make_classifier(&r, &o);
        if (!rc && o.train.epochs > 0 && !o.load_lora) rc = train(&r, &o);
        if (!rc) rc = print_accuracies(&r, 0);
        if (!rc) rc = classify(&r, &o);
        if (!rc) rc = save(&r, &o);
        if (!rc) rc = figure(&o, o.plot, "loss", r.n_evals, r.train_loss, r.val_loss, r.seen);
        if (!rc)
            rc = figure(&o, o.plot_accuracy, "accuracy", r.n_epochs, r.train_acc, r.val_acc,
                        r.acc_seen);
    }
    tensor_autocast_end();
    run_free(&r);
    return rc;
}
