/*
 * attograd train room: the book's training code as library calls.  What
 * chapter 5 writes in Python (calc_loss_batch, calc_loss_loader,
 * evaluate_model, generate_and_print_sample, train_model_simple, the 90/10
 * split) is defined once here; examples/train_gpt, docs/listings_ch05.md
 * and the tests call these definitions, and so can your own program.
 *
 * Overview
 *   train_read_text           the training text, a whole file
 *   train_split_offset        the book's split of a text: int(0.90 * len(text)) characters
 *   train_calc_loss_batch     cross_entropy(logits.flatten(0, 1), targets.flatten())
 *   train_calc_loss_loader    the mean loss of a loader's first num_batches batches
 *   train_evaluate_model      eval mode, no grad: train and val loss over eval_iter batches
 *   train_generate_sample     50 greedy tokens after a start context, newlines as spaces
 *   train_model_simple        the book's loop; hooks give the numbers (it never prints)
 *   train_find_highest_gradient  appendix D's clipping demo: the largest gradient element
 *   train_checkpoint_save     a run's state (model, optimizer, generator, counters, the
 *   train_checkpoint_load       training loader's place): a run stops and goes on exactly
 *   train_grad_norms_*        each layer's gradient L2 norm per step: a CSV and a picture
 *   train_toy_*               the teacher-student task of examples/train_attention
 *   train_sms_*, train_spam_dataset, train_classifier_simple, train_classify_review
 *                             chapter 6: the spam classifier
 *   train_instruction*        the book's chapter 7: the instruction file, format_input,
 *                             the split, the dataset and collate, the test responses
 *   (The book's text_to_token_ids and token_ids_to_text are text_to_token_ids and
 *   text_from_token_ids in text/text.h; generate_text_simple is nn_generate_text_simple.)
 *
 * Example: the book's chapter-5 run (examples/train_gpt is this, with flags,
 * a CSV, the figure and checkpoints):
 *
 *     static int print_eval(const TrainState *s, double train, double val, void *ctx)
 *     {
 *         printf("Ep %lld (Step %06lld): Train loss %.3f, Val loss %.3f\n",
 *                (long long)s->epoch, (long long)s->global_step, train, val);
 *         return 0;                                   0: go on, 1: stop, -1: error
 *     }
 *     static int print_sample(const TrainState *s, const char *text, size_t len, void *ctx)
 *     {
 *         printf("%s\n", text);
 *         return 0;
 *     }
 *     ...
 *     tensor_manual_seed(123);
 *     Module *model = nn_gpt_model(cfg);
 *     NNList p = nn_named_parameters(model);
 *     Optimizer *opt = optim_adamw(p.count, p.tensors,
 *                                  OPTIM_ADAMW_OPTIONS(.lr = 0.0004, .weight_decay = 0.1));
 *     size_t split = train_split_offset(text, len, 0.90);
 *     ... train (shuffled, drop_last) and val loaders over text[:split], text[split:]:
 *         text_encode, text_dataset_v1 (text/text.h), data_loader (data/data.h)
 *     TrainState state = TRAIN_STATE_INIT;
 *     TrainOptions o = TRAIN_OPTIONS(.num_epochs = 10, .eval_freq = 5, .eval_iter = 5,
 *                                    .tokenizer = tok, .start_context = "Every effort moves you",
 *                                    .on_eval = print_eval, .on_sample = print_sample);
 *     if (train_model_simple(model, train, val, opt, &o, &state) < 0)
 *         fprintf(stderr, "%s\n", tensor_error());
 *     train_state_clear(&state);
 *
 * Your own loop is a few lines on these calls; this is train_model_simple's
 * step, each batch in a scope of its own so that its graph goes with it:
 *
 *     DataIter *it = data_loader_iter(train);          for x, y in train_loader:
 *     int got = 1;
 *     for (int64_t step = 0; got == 1; step++) {
 *         TensorScope *scope = tensor_scope_begin();
 *         Tensor *x, *y;
 *         if ((got = data_iter_next(it, &x, &y)) == 1) {
 *             optim_zero_grad(opt);
 *             Tensor *loss = train_calc_loss_batch(x, y, model);
 *             if (!loss || tensor_backward(loss, NULL) || optim_step(opt)) got = -1;
 *         }
 *         tensor_scope_end(scope);
 *         if (got == 1 && step % 5 == 0 &&
 *             train_evaluate_model(model, train, val, 5, &train_loss, &val_loss) == 0)
 *             printf("step %lld: %.3f %.3f\n", (long long)step, train_loss, val_loss);
 *     }
 *     if (got < 0) fprintf(stderr, "%s\n", tensor_error());
 *     data_iter_free(it);
 *
 * A model of your own with another loss (a classifier's logits (B, C)
 * against labels (B)) trains in the same loop: give .loss (see TrainOptions).
 *
 * Errors
 *   As everywhere in the library: NULL or -1 and one line in tensor_error(),
 *   phrased for the program to print after its name ("step 12 failed: the
 *   loss is nan: training diverged (try a smaller lr)", "evaluation after
 *   step 5: ...").  Nothing here prints or aborts on user input; the random
 *   draws (dropout, the loaders' shuffles) are PyTorch's for the same seed
 *   and the same calls in the same order.
 */
#ifndef ATTOGRAD_TRAIN_H
#define ATTOGRAD_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tensor.h"
#include "tensor/safetensors.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "data/data.h"
#include "text/text.h"

/* ---- The book's chapter 5, one function each ---------------------------------- */

/* with open(path, "r", encoding="utf-8") as f: text = f.read(): the whole
 * file, malloc'd and NUL-terminated (free it), *len bytes; NULL with a
 * message ("cannot open <path>: <why>", "cannot read <path>").  Its UTF-8
 * is checked where it is encoded (text_encode names the first bad byte). */
ATTOGRAD_API char *train_read_text(const char *path, size_t *len);
/* int(train_ratio * len(text)) as Python counts a str (code points of the
 * UTF-8 text), as a byte offset: text[:split] trains, text[split:] validates. */
ATTOGRAD_API size_t train_split_offset(const char *text, size_t len, double train_ratio);
/* calc_loss_batch: logits = model(x) (B, T, V); cross_entropy(logits.flatten(0, 1),
 * y.flatten()) with PyTorch's defaults (mean, ignore_index -100).  A scalar
 * in the current scope, with its graph; NULL with the forward's message. */
ATTOGRAD_API Tensor *train_calc_loss_batch(const Tensor *x, const Tensor *y, Module *model);
/* calc_loss_loader: *loss = the mean of the first num_batches batch losses
 * (num_batches <= 0: all, the book's None; more than the loader has: all),
 * each batch in a scope of its own; NaN for an empty loader, as the book's.
 * A new pass over the loader (iterators of it already under way are not
 * disturbed; its first draws are PyTorch's for a new iter(loader)).  0, or
 * -1 with a message: a batch or a forward that fails is an error, not a NaN. */
ATTOGRAD_API int train_calc_loss_loader(DataLoader *loader, Module *model, int64_t num_batches,
                                        double *loss);
/* evaluate_model: eval mode and no grad, the train and val losses over
 * eval_iter batches each, then train mode again.  0, or -1 with a message. */
ATTOGRAD_API int train_evaluate_model(Module *model, DataLoader *train, DataLoader *val,
                                      int64_t eval_iter, double *train_loss, double *val_loss);
/* generate_and_print_sample's text: start_context encoded (text_to_token_ids),
 * max_new_tokens greedy ids appended (nn_generate_text_simple, with the
 * context the model's pos_emb.weight holds: the book's
 * model.pos_emb.weight.shape[0]), decoded as Python's tokenizer.decode
 * decodes them (text_from_token_ids: a character cut by the ids is U+FFFD,
 * so the text is UTF-8), every '\n' made a ' ' (what the book prints); the
 * model in train mode after, as the book leaves it.
 * malloc'd and NUL-terminated (free it), *len bytes when len is not NULL
 * (a byte-level tokenizer's text may hold NUL bytes).  NULL with a message. */
ATTOGRAD_API char *train_generate_sample(Module *model, const TextTokenizer *tok,
                                         const char *start_context, int64_t max_new_tokens,
                                         size_t *len);

/* ---- The training loop: train_model_simple ------------------------------------ */

/* Where a run is.  The loop reads and advances it, hooks read it, a
 * checkpoint saves and restores it: a run resumed from a checkpoint goes on
 * with the draws, batches and numbers of the run done in one go. */
typedef struct TrainState {
    int64_t global_step;         /* the book's: -1 before the first step; steps done: + 1 */
    int64_t tokens_seen;         /* the book's: x->numel of every step's batch, summed */
    int64_t evals;               /* evaluations made */
    int64_t epoch;               /* the epoch under way (or the last), from 1; 0 before */
    int64_t epochs_done;         /* epochs ended: their sample given, on_epoch called */
    DataIter *train_it;          /* that epoch's pass over the training loader */
} TrainState;
#define TRAIN_STATE_INIT ((TrainState){.global_step = -1})
/* Frees s->train_it (the counters stay); NULL is fine. */
ATTOGRAD_API void train_state_clear(TrainState *s);

/* What one step gave, for on_step. */
typedef struct TrainStep {
    float loss;                  /* the batch's loss, before the optimizer's step */
    int64_t tokens;              /* x->numel */
    int64_t examples;            /* x->shape[0]: the batch's rows */
    double seconds;              /* the step's time, its batch included */
    double eval_seconds;         /* its evaluation's, or -1 when it made none */
    double lr;                   /* the lr the step took (group 0's): appendix D's track_lrs */
    float grad_norm;             /* the total gradient L2 norm before clipping (appendix D's
                                    clip_grad_norm_ total), when clip_grad_norm or
                                    track_grad_norm is set; NAN otherwise */
} TrainStep;

/* A loss of a batch of your own, in place of train_calc_loss_batch (a
 * classifier's last-token loss, an MSE): a scalar with its graph, or NULL
 * with a message.  ctx is TrainOptions.ctx. */
typedef Tensor *(*TrainLossFn)(const Tensor *x, const Tensor *y, Module *model, void *ctx);

/*
 * train_model_simple's arguments beyond the model, loaders and optimizer:
 * TRAIN_OPTIONS(...) starts from the book's chapter-5 call (10 epochs,
 * eval_freq 5, eval_iter 5, "Every effort moves you", 50 sample tokens)
 * and takes the rest as keywords.
 *
 * Hooks: each returns 0 to go on, 1 to stop the run there (train_model_simple
 * then returns 1, the state where the hook saw it), or -1 for an error with
 * its message in tensor_error() (tensor_set_error), which train_model_simple
 * returns as it is (after_backward's with "step N failed: " before it, as
 * every failure inside a step).  They are called, for every step:
 *   after_backward  the gradients are in .grad, the optimizer has not stepped
 *                   (gradient norms, clipping); s->global_step is still the
 *                   previous step's
 *   on_eval         when global_step % eval_freq == 0, after the evaluation:
 *                   the book's line "Ep {epoch} (Step {global_step:06d}): ..."
 *   on_step         after every step (and its evaluation): logging, a progress
 *                   bar, stopping
 *   on_checkpoint   every checkpoint_every steps (steps done, global_step + 1),
 *                   after on_step: train_checkpoint_save
 * and after each epoch:
 *   on_sample       the sample's text (train_generate_sample) when tokenizer and
 *                   start_context are set: the book's generate_and_print_sample
 *   on_epoch        then, with s->epochs_done counting this epoch
 *
 * Appendix D's better loop (the book's train_model) is this loop with two
 * options, both off by default (chapter 5's loop, bit for bit):
 *   lr_schedule     linear warmup from initial_lr to the peak, then cosine
 *                   decay towards min_lr (optim_warmup_cosine_lr_at): the peak
 *                   is group 0's lr when the step begins, every group takes
 *                   the step's lr (the book's loop over param_groups), and
 *                   each group's own lr is put back after the optimizer's
 *                   step, so that between steps (hooks, checkpoints, a
 *                   resumed run) the optimizer holds the peak; total_steps -1
 *                   (the macro's) is the run's len(train) * num_epochs
 *   clip_grad_norm  max_norm of clip_grad_norm_ over the model's parameters,
 *                   after after_backward, from global step
 *                   lr_schedule->warmup_steps on (the book's >=; every step
 *                   without a schedule)
 * TrainStep.lr is every step's lr (the book's track_lrs) and
 * TrainStep.grad_norm its norm before clipping.  The book's appendix-D run:
 *
 *     WarmupCosineOptions w = OPTIM_WARMUP_COSINE_OPTIONS(.warmup_steps = 27,
 *                                                        .initial_lr = 1e-5,
 *                                                        .min_lr = 1e-5);
 *     TrainOptions o = TRAIN_OPTIONS(.num_epochs = 15, .eval_iter = 1,
 *                                    .lr_schedule = &w, .clip_grad_norm = 1.0, ...);
 */
typedef struct TrainOptions {
    int64_t num_epochs;          /* 10 */
    int64_t eval_freq;           /* 5; 0: no evaluation (val may be NULL) */
    int64_t eval_iter;           /* 5: batches of each loader per evaluation */
    const TextTokenizer *tokenizer;   /* NULL: no sample */
    const char *start_context;   /* "Every effort moves you"; NULL: no sample */
    int64_t sample_tokens;       /* 50 */
    int64_t checkpoint_every;    /* 0: on_checkpoint never called */
    TrainLossFn loss;            /* NULL: train_calc_loss_batch, in training and evaluation */
    int (*after_backward)(const TrainState *s, void *ctx);
    int (*on_eval)(const TrainState *s, double train_loss, double val_loss, void *ctx);
    int (*on_step)(const TrainState *s, const TrainStep *step, void *ctx);
    int (*on_checkpoint)(const TrainState *s, void *ctx);
    int (*on_sample)(const TrainState *s, const char *text, size_t len, void *ctx);
    int (*on_epoch)(const TrainState *s, void *ctx);
    void *ctx;                   /* given to every hook and to loss */
    /* Appendix D (above) */
    const WarmupCosineOptions *lr_schedule;   /* NULL: the optimizer's lr as it is */
    double clip_grad_norm;       /* 0: no clipping; > 0: max_norm (the book's 1.0) */
    bool track_grad_norm;        /* TrainStep.grad_norm also without clipping */
} TrainOptions;
#define TRAIN_OPTIONS(...)                                                                    \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        TrainOptions train__options = {.num_epochs = 10, .eval_freq = 5, .eval_iter = 5,      \
                                       .start_context = "Every effort moves you",             \
                                       .sample_tokens = 50, __VA_ARGS__};                     \
        _Pragma("GCC diagnostic pop")                                                         \
        train__options;                                                                       \
    }))

/*
 * train_model_simple(model, train_loader, val_loader, optimizer, num_epochs,
 * eval_freq, eval_iter, start_context, tokenizer), from where *s is: for
 * each epoch from s->epochs_done + 1: train mode; a new pass over train
 * (or the pass s->train_it, placed by train_checkpoint_load, when it is that
 * epoch's); per batch, in a scope of its own: zero_grad, loss, backward,
 * after_backward, step, tokens_seen += x->numel, global_step += 1, the
 * evaluation (train_evaluate_model) and on_eval when it is due, on_step,
 * on_checkpoint when due; after the epoch, the sample and on_sample, then
 * on_epoch.  The book's lists of losses and tokens seen are what on_eval
 * sees (s->tokens_seen).  A loss that is not finite ends the run with an
 * error.  Returns 0 when every epoch is done, 1 when a hook stopped it, -1
 * with a message.
 */
ATTOGRAD_API int train_model_simple(Module *model, DataLoader *train, DataLoader *val,
                                    Optimizer *opt, const TrainOptions *o, TrainState *s);

/* ---- Appendix D: the clipping demo's largest gradient --------------------------- */
/*
 * The book's find_highest_gradient(model): the largest gradient element,
 * signed, over the parameters that have a gradient (each one's
 * grad.flatten().max(), the largest of those in parameter order; a NaN
 * element makes its parameter's max NaN, which then stands only if it
 * comes first, as in the book's `>`).  A 0-d tensor in the current scope
 * (no grad): tensor_print shows what the book prints.  The demo:
 *
 *     Tensor *loss = train_calc_loss_batch(x, y, model);
 *     tensor_backward(loss, NULL);
 *     tensor_print(train_find_highest_gradient(model));    tensor(0.0411)
 *     NNList p = nn_named_parameters(model);
 *     optim_clip_grad_norm(p.count, p.tensors, 1.0);
 *     tensor_print(train_find_highest_gradient(model));    tensor(0.0185)
 *
 * NULL with a message when no parameter has a gradient (the book's None)
 * or the model has no parameters; NULL without a new one for a NULL model.
 * docs/listings_appendix_d.md runs the demo.
 */
ATTOGRAD_API Tensor *train_find_highest_gradient(const Module *model);

/* ---- Chapter 6: a GPT fine-tuned to classify (spam or not) ------------------- */
/*
 * The book's gpt_class_finetune: the SMS Spam Collection read from a path,
 * balanced, split 70/10/20, encoded and padded, a GPT whose out_head is a
 * Linear(emb_dim, 2) (nn_gpt_replace_head), its last token's loss and
 * accuracy, and the training loop with accuracies after each epoch.
 * examples/finetune_classifier is this with flags; book_ch06.py in
 * tests/reference is the same code in Python.
 *
 *     TrainSms *all = train_sms_read("SMSSpamCollection.tsv");     5,572 rows
 *     TrainSms *bal = train_sms_balanced(all, 123);                747 ham, 747 spam
 *     TrainSms *tr, *va, *te;
 *     train_sms_random_split(bal, 0.7, 0.1, 123, &tr, &va, &te);    1045 / 149 / 300
 *     Dataset *train = train_spam_dataset(tr, tok, 0, 50256);       max_length: the longest, 120
 *     int64_t T = train_spam_dataset_max_length(train);
 *     Dataset *val = train_spam_dataset(va, tok, T, 50256);         cut to 120
 *     ... loaders (batch 8; train shuffled, drop_last), the GPT, then:
 *     nn_requires_grad_(gpt, false);
 *     tensor_manual_seed(123);
 *     nn_gpt_replace_head(gpt, 2, NULL);                           Linear(768, 2), drawn now
 *     train_classifier_set_trainable(gpt, TRAIN_TRAINABLE_LAST_BLOCK);
 *     TrainOptions o = TRAIN_OPTIONS(.num_epochs = 5, .eval_freq = 50, .eval_iter = 5,
 *                                    .on_eval = print_losses, .ctx = ...);
 *     train_classifier_simple(gpt, train_loader, val_loader, opt, &o, print_accuracies, &s);
 *     train_classify_review("You are a winner ...", gpt, tok, T, 50256);   1: spam
 */

/* One row of the file: pandas' frame row. */
typedef struct TrainSmsRow {
    int64_t index;               /* the row's number in the file's frame, from 0 (pandas' index) */
    int64_t line;                /* the 1-based line where it starts */
    int label;                   /* ham 0, spam 1 (the book's map) */
    char *text;                  /* UTF-8, NUL-terminated, len bytes */
    size_t len;
} TrainSmsRow;
/* A frame: rows in its order. */
typedef struct TrainSms {
    int64_t n;
    TrainSmsRow *rows;
} TrainSms;

/* pd.read_csv(path, sep="\t", header=None, names=["Label", "Text"]): a
 * "label<TAB>text" record per line, with pandas' default quoting (a text
 * that starts with '"' runs to the next lone '"', across tabs and lines;
 * "" in it is one '"'; the rest of the field follows unquoted); empty lines
 * skipped.  NULL with one line naming the file and line: not UTF-8, a
 * line without a tab or with more than one, a label other than ham or
 * spam, a text pandas reads as NaN (empty, "NA", "null", ...), a quote
 * never closed, no rows at all. */
ATTOGRAD_API TrainSms *train_sms_read(const char *path);
ATTOGRAD_API void train_sms_free(TrainSms *df);                 /* NULL is fine */
/* create_balanced_dataset: df's ham rows sampled as many as its spam rows
 * (DataFrame.sample(n, random_state): numpy's RandomState(random_state)
 * .permutation(n_ham)[:n_spam]), then the spam rows in file order.  NULL
 * with a message when there are fewer ham rows than spam rows. */
ATTOGRAD_API TrainSms *train_sms_balanced(const TrainSms *df, int64_t random_state);
/* random_split(df, train_frac, validation_frac): df.sample(frac=1,
 * random_state) cut at int(n * train_frac) and that + int(n *
 * validation_frac).  0 with three new frames, or -1 with a message. */
ATTOGRAD_API int train_sms_random_split(const TrainSms *df, double train_frac,
                                        double validation_frac, int64_t random_state,
                                        TrainSms **train, TrainSms **validation, TrainSms **test);
/* SpamDataset(df, tokenizer, max_length, pad_token_id): each text's plain
 * encoding ("<|endoftext|>" in a text is refused, as tiktoken does), cut to
 * max_length (<= 0: the book's None, the longest encoding, nothing cut),
 * right-padded with pad_token_id.  Item i: ids (max_length), label ().
 * NULL with a message naming the row and line of a text that fails. */
ATTOGRAD_API Dataset *train_spam_dataset(const TrainSms *df, const TextTokenizer *tok,
                                         int64_t max_length, int64_t pad_token_id);
/* A SpamDataset's max_length (what the validation and test sets get). */
ATTOGRAD_API int64_t train_spam_dataset_max_length(const Dataset *d);
/* calc_loss_batch of chapter 6: cross_entropy(model(x)[:, -1, :], y). */
ATTOGRAD_API Tensor *train_calc_loss_batch_classifier(const Tensor *x, const Tensor *y,
                                                      Module *model);
/* calc_accuracy_loader: eval mode (left on), no grad; over the first
 * num_batches batches (<= 0: all), the share of argmax(model(x)[:, -1, :])
 * equal to y.  A new pass over the loader (its draws are PyTorch's).  0
 * with *accuracy (NaN for an empty loader), or -1 with a message. */
ATTOGRAD_API int train_calc_accuracy_loader(DataLoader *loader, Module *model,
                                            int64_t num_batches, double *accuracy);
/* After each epoch of train_classifier_simple: the accuracies on eval_iter
 * batches of train and validation.  0 to go on, 1 to stop, -1 error. */
typedef int (*TrainAccuracyFn)(const TrainState *s, double train_accuracy,
                               double val_accuracy, void *ctx);
/* train_classifier_simple: train_model_simple with o->loss defaulting to
 * train_calc_loss_batch_classifier, no text sample, and after each epoch the
 * accuracies (on_accuracy, then o->on_epoch); every hook gets o->ctx.  The
 * book's examples_seen is s->tokens_seen / max_length (every batch is
 * max_length wide).  Returns as train_model_simple. */
ATTOGRAD_API int train_classifier_simple(Module *model, DataLoader *train, DataLoader *val,
                                         Optimizer *opt, const TrainOptions *o,
                                         TrainAccuracyFn on_accuracy, TrainState *s);
/* Which parameters of a GPT classifier train: the book's last block,
 * final_norm and out_head; every parameter; out_head alone. */
typedef enum {
    TRAIN_TRAINABLE_LAST_BLOCK,
    TRAIN_TRAINABLE_ALL,
    TRAIN_TRAINABLE_HEAD,
} TrainTrainable;
/* The book's freezing after nn_gpt_replace_head: every parameter frozen
 * (all: trainable), then out_head trainable, and for last-block
 * trf_blocks[-1] and final_norm.  0, or -1 with a message (not a GPTModel). */
ATTOGRAD_API int train_classifier_set_trainable(Module *gpt, TrainTrainable which);
/* classify_review: text encoded, cut to max_length, padded with pad_token_id
 * to max_length, the argmax of the last position's logits in eval mode: the
 * class (1: "spam").  -1 with a message: an empty text, max_length outside
 * [1, the model's context]. */
ATTOGRAD_API int64_t train_classify_review(const char *text, Module *model,
                                           const TextTokenizer *tok, int64_t max_length,
                                           int64_t pad_token_id);

/* A fine-tuned classifier on disk: its GPT's config and tokenizer, and
 * what rebuilds the classifier around them (metadata "task" = "classifier"). */
typedef struct TrainClassifierInfo {
    NNGPTConfig cfg;
    const char *tokenizer;       /* "gpt2" or "bytes" (a static string after a load) */
    int64_t num_classes;         /* the head's outputs: 2 */
    int64_t max_length;          /* the length its texts were padded to */
    int64_t lora_rank;           /* 0: no LoRA layers */
    double lora_alpha;
} TrainClassifierInfo;
/* The model's state_dict with info as metadata, through the safe output
 * file (the book's torch.save(model.state_dict(), "review_classifier.pth")).
 * 0, or -1 with a message. */
ATTOGRAD_API int train_classifier_save(const Module *model, const TrainClassifierInfo *info,
                                       const char *path);
/* 1 with *info when path is a classifier train_classifier_save wrote (its
 * embeddings, last block and head checked against the metadata's sizes,
 * from the header alone); 0 for a GPT checkpoint without "task" (train_gpt's:
 * info->cfg and info->tokenizer its, nothing else checked);
 * -1 with a message naming the file and the key or tensor. */
ATTOGRAD_API int train_classifier_info(const char *path, TrainClassifierInfo *info);
/* GPTModel(info->cfg) with its num_classes head (and LoRA layers, the rest
 * frozen, when lora_rank), then the file's weights, in eval mode (draws from
 * the default generator as the constructors do).  NULL with a message. */
ATTOGRAD_API Module *train_classifier_load(const char *path, const TrainClassifierInfo *info);

/* ---- Chapter 7: instruction fine-tuning ------------------------------------------ */
/*
 * The book's chapter 7 as library calls (train/instruct.c; the PyTorch
 * reference is tests/reference/book_ch07.py): the instruction file, the
 * Alpaca-style prompt, the split, the dataset and its collate, the test
 * responses and the file that holds them.  Training is train_model_simple
 * with the collate's loaders and format_input(val[0]) as start context;
 * examples/finetune_instruct is the whole chapter with flags.
 *
 *     TrainInstructions data;
 *     if (train_instructions_read("instruction-data.json", &data)) ...   1100 entries
 *     TrainInstructionSplit s = train_instruction_split(&data);   935 train, 110 test, 55 val
 *     Dataset *train_set = train_instruction_dataset(tok, s.train);
 *     TrainInstructionCollate c = TRAIN_INSTRUCTION_COLLATE(.allowed_max_length = 1024);
 *     DataLoader *train = data_loader(train_set, DATA_LOADER_OPTIONS(.batch_size = 8,
 *         .shuffle = true, .drop_last = true, .collate = train_instruction_collate,
 *         .collate_ctx = &c));
 *     ... train_model_simple(...), then for each test entry:
 *     responses[i] = train_instruction_respond(model, tok, &s.test.entries[i],
 *         &(TrainRespondOptions){.max_new_tokens = 256, .context_size = 1024,
 *                               .eos_id = 50256}, &lens[i]);
 *     train_instructions_write("instruction-data-with-response.json", s.test, responses, lens);
 *     train_instructions_free(&data);
 */

/* One entry of the file: every field a string, in the file's order (what
 * json.dump writes back), and the three the book reads, pointing into them. */
typedef struct TrainInstruction {
    int64_t n_fields;
    char **keys, **values;
    const char *instruction, *input, *output;
} TrainInstruction;
typedef struct TrainInstructions {
    int64_t count;
    TrainInstruction *entries;
} TrainInstructions;
/* Entries [0, count) of a list (a split's part): views, owning nothing. */
typedef struct TrainInstructionSlice {
    const TrainInstruction *entries;
    int64_t count;
} TrainInstructionSlice;

/* json.load of a list of {"instruction", "input", "output"} objects (other
 * keys kept; every value a string, UTF-8 without NUL).  0, or -1 with one
 * line naming the file and the entry (0-based, as data[i]):
 * "data.json: entry 3 has no \"instruction\"", "data.json: an object, not a
 * JSON list of ... entries", "data.json: the file is empty: ...",
 * "data.json: not JSON: ... at byte 17", "cannot open data.json: ...". */
ATTOGRAD_API int train_instructions_read(const char *path, TrainInstructions *out);
ATTOGRAD_API void train_instructions_free(TrainInstructions *d);   /* NULL is fine */
/* entry[key], or NULL when it has none. */
ATTOGRAD_API const char *train_instruction_field(const TrainInstruction *e, const char *key);
/* format_input(entry): "Below is an instruction that describes a task. Write
 * a response that appropriately completes the request." + "\n\n###
 * Instruction:\n" + instruction, and, when input is not empty, "\n\n###
 * Input:\n" + input.  malloc'd; NULL with a message. */
ATTOGRAD_API char *train_format_input(const TrainInstruction *e);

/* The book's split, no shuffle: train the first int(n * 0.85), test the
 * next int(n * 0.1), validation the rest (test comes before it in the file). */
typedef struct TrainInstructionSplit {
    TrainInstructionSlice train, val, test;
} TrainInstructionSplit;
ATTOGRAD_API TrainInstructionSplit train_instruction_split(const TrainInstructions *d);

/* InstructionDataset: each entry's format_input(entry) + "\n\n### Response:\n"
 * + output, encoded once (plain encode: "<|endoftext|>" is ordinary text);
 * item i is its ids, one 1-d tensor.  NULL with a message. */
ATTOGRAD_API Dataset *train_instruction_dataset(const TextTokenizer *tok,
                                                TrainInstructionSlice entries);
/* The length of item i's ids; -1 for another dataset or an index outside it. */
ATTOGRAD_API int64_t train_instruction_dataset_item_len(const Dataset *d, int64_t i);

/* custom_collate_fn(batch, pad_token_id, ignore_index, allowed_max_length)
 * as a data loader's collate (DataLoaderOptions.collate, ctx a
 * TrainInstructionCollate *, NULL for the defaults): each item gets one pad,
 * then pads to 1 + the longest item; inputs are all but the last, targets
 * all but the first, so the batch is (B, longest); in each target row every
 * pad but the first becomes ignore_index (cross_entropy ignores -100); then
 * both are cut to allowed_max_length.  Batch fields: x (B, W), y (B, W). */
typedef struct TrainInstructionCollate {
    int64_t pad_token_id;        /* 50256, GPT-2's <|endoftext|> */
    int64_t ignore_index;        /* -100 */
    int64_t allowed_max_length;  /* 0: None, no cut */
} TrainInstructionCollate;
#define TRAIN_INSTRUCTION_COLLATE(...)                                                        \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        TrainInstructionCollate train__collate = {.pad_token_id = 50256, .ignore_index = -100,\
                                                  .allowed_max_length = 0, __VA_ARGS__};      \
        _Pragma("GCC diagnostic pop")                                                         \
        train__collate;                                                                       \
    }))
ATTOGRAD_API int train_instruction_collate(int64_t n, const DataItem *items, DataBatch *batch,
                                           void *ctx);

/* The book's response: generated_text[len(input_text):] (len counting code
 * points), every "### Response:" removed, then Python's strip() (its
 * whitespace: \t\n\v\f\r, \x1c-\x1f, space, \x85, \xa0, U+1680, U+2000 to
 * U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).  generated is valid UTF-8
 * (text_decode_replace's) that starts with prompt.  malloc'd, NUL-terminated,
 * *out_len bytes. */
ATTOGRAD_API char *train_extract_response(const char *generated, size_t len, const char *prompt,
                                          size_t *out_len);
/* generate(model, text_to_token_ids(format_input(entry)), max_new_tokens,
 * context_size, eos_id) as the book's script calls it: greedy, stopping
 * before an eos_id, in the model's current mode (after train_model_simple,
 * training: a dropout with p > 0 draws, as PyTorch's does under no_grad, and
 * each token is a full forward of the last context_size ids), then decoded
 * as Python prints (errors="replace") and cut by train_extract_response.
 * malloc'd, *len bytes (may be NULL); NULL with a message. */
typedef struct TrainRespondOptions {
    int64_t max_new_tokens;      /* the book's 256 */
    int64_t context_size;        /* the model's context, 1024 for GPT-2 */
    int64_t eos_id;              /* 50256; -1: none */
} TrainRespondOptions;
ATTOGRAD_API char *train_instruction_respond(Module *model, const TextTokenizer *tok,
                                             const TrainInstruction *e,
                                             const TrainRespondOptions *o, size_t *len);
/* json.dump(entries, f, indent=4) through the safe output file: each entry's
 * fields in order, "model_response" set to responses[i] (response_len[i]
 * bytes; added last, or replacing a field of that name in place) when
 * responses is not NULL; Python's ASCII escapes, no final newline.  0, or
 * -1 with a message naming path. */
ATTOGRAD_API int train_instructions_write(const char *path, TrainInstructionSlice entries,
                                          char *const *responses, const size_t *response_len);

/* ---- Appendix E: LoRA on a model, with the book's lines ------------------------- */
/*
 * The book's appendix-E steps on a model (a classifier or a GPT): print
 * "Total trainable parameters before: 124,441,346" (Python's "{:,}"), freeze
 * every parameter, print "... after: 0", replace every Linear by
 * LinearWithLoRA(rank, alpha) (nn_replace_linear_with_lora), print "Total
 * trainable LoRA parameters: 2,666,528".  Lines go to out (NULL: none).
 * 0, or -1 with nn_replace_linear_with_lora's message (nothing printed
 * after the failing step).
 */
ATTOGRAD_API int train_lora_setup(Module *model, int64_t rank, double alpha, FILE *out);
/* v as Python's f"{v:,}" writes it, into buf; returns buf. */
ATTOGRAD_API const char *train_thousands(int64_t v, char buf[32]);

/* ---- Appendix E: the LoRA weights alone on disk --------------------------------- */
/*
 * What fine-tuning with LoRA trained, without the pretrained weights it sits
 * on (megabytes, where a whole GPT is hundreds): every ...lora.A and
 * ...lora.B of the model and, for a classifier (info->num_classes > 0), its
 * new head out_head.linear.weight and .bias, which GPT-2's file does not
 * hold; metadata "task" "lora", the GPT's config and tokenizer, num_classes
 * (0: the GPT's own head), max_length (a classifier's text length, else 0),
 * lora_rank, lora_alpha, and base_fnv1a64, a hash of every other parameter
 * (the pretrained weights, frozen while LoRA trains).  TrainClassifierInfo
 * describes the model (an instruction model's num_classes and max_length 0).
 *
 *     train_lora_save(model, &info, "lora.safetensors");    after training
 *     ... later: the same pretrained model, its head, the same LoRA layers:
 *     train_lora_load(model, &info, "lora.safetensors");    then evaluate
 */
/* Through the safe output file.  0, or -1 with a message (the model holds
 * no LoRA layer). */
ATTOGRAD_API int train_lora_save(const Module *model, const TrainClassifierInfo *info,
                                 const char *path);
/* A LoRA file's description (its metadata, the header alone): 0, or -1 with
 * a message naming the file and the key ("not a LoRA file" for another). */
ATTOGRAD_API int train_lora_info(const char *path, TrainClassifierInfo *info);
/* Whether the file fits a model info describes, before the model is built:
 * its config (drop_rate aside), tokenizer, num_classes, lora_rank and
 * lora_alpha equal info's (max_length is the file's to say).  0, or -1 with
 * the first difference, "PATH: lora_rank 4 in the file, 8 in the model". */
ATTOGRAD_API int train_lora_check(const char *path, const TrainClassifierInfo *info);
/* The file's tensors into model, which has the same LoRA layers (and head):
 * train_lora_check, then the hash against the model's other parameters,
 * the tensors exactly the model's (names, shapes), finite; all checked
 * before a value changes.  0, or -1 with a message, model unchanged. */
ATTOGRAD_API int train_lora_load(Module *model, const TrainClassifierInfo *info,
                                 const char *path);

/* ---- A run's checkpoint --------------------------------------------------------- */
/*
 * A checkpoint (checkpoint/checkpoint.h) of everything the loop needs to go
 * on as if it had never stopped: the model's state_dict, the optimizer's
 * state, the default generator, "step" (global_step + 1) and the I64
 * counters tokens_seen, evals, epochs_done, loader.epoch (s->epoch),
 * loader.batch and loader.sampler_seed (where s->train_it is:
 * data_iter_position; an evaluation's passes are new ones and need none);
 * and the caller's metadata: what makes it this run (a GPT's config and
 * tokenizer, nn_gpt_config_to_meta; the hyper-parameters that change what
 * the remaining steps compute; a hash of the training text), which a load
 * must find equal (a run with TrainOptions.lr_schedule or clip_grad_norm
 * names them there too, as train_gpt's "lr_schedule" and "clip_grad_norm":
 * the optimizer holds the peak lr between steps, so the step and the
 * options give the rest of the schedule).
 *
 *     TrainCheckpoint c = {.model = model, .optimizer = opt, .train = train,
 *                          .state = &state, .n_meta = n, .meta = meta};
 *     if (resume && train_checkpoint_load(&c, resume) != 0) ...     then train_model_simple
 *     ... in on_checkpoint, and at the end:  train_checkpoint_save(&c, "run.safetensors");
 */
typedef struct TrainCheckpoint {
    Module *model;
    Optimizer *optimizer;        /* NULL: none saved or loaded */
    DataLoader *train;           /* the training loader: a load places s->train_it on it */
    TrainState *state;
    int n_meta;
    const TensorMeta *meta;
} TrainCheckpoint;
/* A load's answer for a file of another run: its metadata differs from c->meta. */
#define TRAIN_CHECKPOINT_OTHER_RUN (-2)
/* Saves through the safe output file (a failed save keeps the previous
 * file): 0, or -1 with a message. */
ATTOGRAD_API int train_checkpoint_save(const TrainCheckpoint *c, const char *path);
/* Goes on from path: 0 with the model, optimizer, default generator and
 * *c->state the file's (s->train_it a pass of c->train placed where the
 * saved one was: the rest of that epoch); TRAIN_CHECKPOINT_OTHER_RUN with
 * a message naming the first key that differs (metadata "emb_dim" is "32"
 * in file, "64" expected), checked before anything else is read; -1 with a
 * message for a file that cannot be read or is not a sound checkpoint of
 * this model, optimizer and loader (a loader's place that does not fit its
 * epochs and batches).  On any error nothing is changed. */
ATTOGRAD_API int train_checkpoint_load(const TrainCheckpoint *c, const char *path);
/* FNV-1a, 64 bits, of n bytes: a run's training text in its metadata, so
 * that a checkpoint is not resumed on another text. */
ATTOGRAD_API uint64_t train_text_hash(const char *p, size_t n);

/* ---- Each layer's gradient norm, per step ------------------------------------- */
/*
 * A reader sees gradients vanish or explode (train_gpt --grad-norms).  The
 * layers of a model are the groups of its parameter names: a top-level
 * child, or an item of a top-level list ("tok_emb", "trf_blocks.3",
 * "final_norm", "out_head" for a GPTModel); a group's norm is
 * sqrt(sum over its parameters of sum(grad^2)), in double, taken when
 * train_grad_norms_record is called (after backward, before the
 * optimizer's step: an after_backward hook).  The rows go to a run's CSV
 * (plot/plot.h, PlotCsv) beside the picture (FILE.png -> FILE.csv); the
 * picture, one log-scale curve per layer against the step, is drawn from
 * it through the plot room (a GPT's embeddings, blocks from light to dark
 * blue, final norm and head each in a style of their own).
 *
 *     TrainGradNorms *g = train_grad_norms_open(model, "norms.png");
 *     ... after each backward:  train_grad_norms_record(g, step);
 *     train_grad_norms_close(g, true);            the CSV written, the picture drawn
 */
typedef struct TrainGradNorms TrainGradNorms;
#define TRAIN_GRAD_NORMS_MAX_GROUPS 64
/* The CSV's path for a picture's: its extension replaced by .csv; -1 when
 * it does not fit n bytes. */
ATTOGRAD_API int train_grad_norms_csv_path(const char *picture, char *csv, size_t n);
/* Groups the model's parameters and opens the CSV (nothing written yet):
 * NULL with a message (more than TRAIN_GRAD_NORMS_MAX_GROUPS layers, a
 * path the safe output file refuses). */
ATTOGRAD_API TrainGradNorms *train_grad_norms_open(const Module *model, const char *picture);
/* A resumed run: keeps the CSV's rows up to step last (plot_csv_keep). */
ATTOGRAD_API int train_grad_norms_resume(TrainGradNorms *g, int64_t last);
/* Appends "step,norm0,norm1,..." for the gradients now in the parameters. */
ATTOGRAD_API int train_grad_norms_record(TrainGradNorms *g, int64_t step);
/* Writes the CSV now (before a checkpoint is saved); NULL is fine. */
ATTOGRAD_API int train_grad_norms_sync(TrainGradNorms *g);
/* Writes the CSV and, when draw, the picture; frees g either way (NULL is
 * fine).  0, or -1 with a message. */
ATTOGRAD_API int train_grad_norms_close(TrainGradNorms *g, bool draw);

/* ---- The toy teacher-student task ----------------------------------------------- */
/*
 * examples/train_attention trains a chapter-3 attention module to imitate a
 * fixed SelfAttention_v2, defined exactly so that the same run in PyTorch
 * gives the same losses (tests/reference/gen_train.py):
 *
 *     torch.manual_seed(seed)
 *     teacher = SelfAttention_v2(3, 2)             first draws of the generator
 *     student = <model>(3, 2 ...)                  v1, v2, causal, mha
 *     opt = <optim>(student.parameters(), lr)
 *     for step in 1..steps:
 *         x = torch.rand(batch, 6, 3)              a fresh batch, same generator
 *         with torch.no_grad(): y = teacher(x)
 *         loss = mse_loss(student(x), y)
 *         opt.zero_grad(); loss.backward(); opt.step()
 *
 *     TrainToyRun run;
 *     TrainToyConfig c = TRAIN_TOY_CONFIG(.model = "mha");
 *     if (train_toy_init(&run, &c) != 0) fprintf(stderr, "%s\n", tensor_error());
 *     for (int s = 0; s < 500; s++) printf("%g\n", train_toy_step(&run));
 *     train_toy_free(&run);
 */
enum { TRAIN_TOY_T = 6, TRAIN_TOY_D_IN = 3, TRAIN_TOY_D_OUT = 2 };

typedef struct {
    const char *model;           /* "v2": "v1", "v2", "causal", "mha" */
    const char *optim;           /* "adam": "sgd", "adam", "adamw" */
    double lr;                   /* 0.01 (a double, as Python's lr=0.01) */
    int64_t batch;               /* 8 */
    uint64_t seed;               /* 123 */
} TrainToyConfig;
#define TRAIN_TOY_CONFIG(...)                                                                 \
    (__extension__({                                                                          \
        _Pragma("GCC diagnostic push")                                                        \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                 \
        TrainToyConfig train__toy = {.model = "v2", .optim = "adam", .lr = 0.01, .batch = 8,  \
                                     .seed = 123, __VA_ARGS__};                               \
        _Pragma("GCC diagnostic pop")                                                         \
        train__toy;                                                                           \
    }))

typedef struct {
    TrainToyConfig config;
    Module *teacher, *student;
    NNList params;
    Optimizer *opt;
    int64_t step;                /* steps taken */
} TrainToyRun;

/* A model (or optimizer) name the task knows. */
ATTOGRAD_API bool train_toy_is_model(const char *name);
ATTOGRAD_API bool train_toy_is_optim(const char *name);
/* Seeds the default generator and builds the teacher, the student and the
 * optimizer: 0, or -1 with a message (an unknown model or optimizer, a
 * batch below 1, an lr the optimizer refuses). */
ATTOGRAD_API int train_toy_init(TrainToyRun *run, const TrainToyConfig *config);
/* One step; its loss, or NAN with a message. */
ATTOGRAD_API float train_toy_step(TrainToyRun *run);
ATTOGRAD_API void train_toy_free(TrainToyRun *run);
/* Checkpoints (checkpoint/checkpoint.h): the student, the optimizer, the
 * default generator and the step, with the configuration as metadata
 * ("model", "optim", "lr", "seed", "batch").  train_toy_resume goes on from
 * a file train_toy_save wrote, into a run train_toy_init made with the same
 * configuration (another configuration's file is refused); the losses that
 * follow are those of one uninterrupted run, bit for bit.  0, or -1 with a
 * message. */
ATTOGRAD_API int train_toy_save(const TrainToyRun *run, const char *path);
ATTOGRAD_API int train_toy_resume(TrainToyRun *run, const char *path);

#endif /* ATTOGRAD_TRAIN_H */
