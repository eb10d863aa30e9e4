/*
 * The book's chapter-5 training run: GPTModel on a text file, AdamW, the
 * train/validation losses every eval_freq steps and a greedy sample after
 * every epoch, printed in the book's format.  The functions below are the
 * book's (calc_loss_batch, calc_loss_loader, evaluate_model,
 * generate_and_print_sample, train_model_simple) and read like its Python;
 * tests/reference/book_ch05.py is the same loop in PyTorch.  Its checkpoints
 * (--save, --save-every, --resume) are in train_checkpoint.c.
 *
 * With no flags, the book's run: GPT_CONFIG_124M with context 256, AdamW
 * lr 0.0004, weight_decay 0.1, 10 epochs, batch 2, eval_freq 5, eval_iter 5,
 * seed 123, the-verdict.txt, start context "Every effort moves you".  A
 * 124M step takes seconds: the whole run takes about 11 minutes on one Zen 4
 * core (README, Performance).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attograd.h"
#include "cli.h"
#include "grad_norms.h"
#include "train_checkpoint.h"
#include "train_gpt.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [flags]\n"
            "  The book's chapter-5 run: GPTModel (124M, context 256) on the-verdict.txt,\n"
            "  AdamW lr 0.0004 weight_decay 0.1, 10 epochs, batch 2, eval_freq 5, eval_iter 5.\n"
            "  --config 124M|book-test   the model (default 124M with context 256)\n"
            "  --vocab-size N --context-length N --emb-dim N --n-heads N --n-layers N\n"
            "  --drop-rate X --qkv-bias  override one key of the configuration\n"
            "  --text FILE               the training text (default the book's)\n"
            "  --tokenizer gpt2|bytes    GPT-2's BPE (default) or UTF-8 bytes (vocab 256)\n"
            "  --vocab DIR               GPT-2's encoder.json and vocab.bpe (./run vocab)\n"
            "  --lr X --weight-decay X   AdamW's (default 0.0004, 0.1)\n"
            "  --epochs N --batch N      (default 10, 2)\n"
            "  --eval-freq N             evaluate every N steps (default 5)\n"
            "  --eval-iter N             batches per evaluation (default 5)\n"
            "  --seed N                  torch.manual_seed (default 123)\n"
            "  --start-context TEXT      the sample's prompt (default \"Every effort moves you\")\n"
            "  --csv FILE                step,epoch,tokens_seen,train_loss,val_loss per evaluation\n"
            "                            (on disk as they come; a resumed run keeps the rows\n"
            "                            of FILE that its checkpoint covers)\n"
            "  --plot FILE.png|svg|pdf   the book's loss figure (gnuplot); --ascii also on stdout\n"
            "  --save FILE               at the end, a checkpoint (safetensors): the model,\n"
            "                            AdamW's state, the generator, the step and the\n"
            "                            training loader's place, with the config in its\n"
            "                            metadata (gpt_generate --load reads it)\n"
            "  --save-every N            also save every N steps (needs --save)\n"
            "  --stop-after-steps N      stop after step N (counting a resumed run's steps)\n"
            "  --resume FILE             go on from a checkpoint of this run (the same config,\n"
            "                            tokenizer, text, --lr, --weight-decay, --batch,\n"
            "                            --eval-freq, --eval-iter): the remaining lines and CSV\n"
            "                            rows are those of one uninterrupted run\n"
            "  --grad-norms FILE.png     each layer's gradient L2 norm per step, log scale\n"
            "                            (gnuplot), its numbers in FILE.csv beside it\n"
            "  --quiet                   no per-evaluation lines\n");
}

/* The gradient norms of the step, recorded before the optimizer changes them. */
static int record_grad_norms(Run *r)
{
    return r->grad_norms ? grad_norms_record(r->grad_norms, r->global_step + 1) : 0;
}

/* Opens the norms' CSV before the first step, keeping a resumed run's rows
 * (0), or says why (-1). */
static int open_grad_norms(Run *r, const Options *o)
{
    if (!o->grad_norms) return 0;
    r->grad_norms = grad_norms_open(r->model, o->grad_norms);
    if (r->grad_norms && (!o->resume || grad_norms_resume(r->grad_norms, r->global_step) == 0))
        return 0;
    fprintf(stderr, PROG ": --grad-norms %s\n", tensor_error());
    return -1;
}

/* After the run: the CSV written and, when the run went well, the picture
 * drawn. */
static int close_grad_norms(Run *r, bool draw)
{
    int rc = grad_norms_close(r->grad_norms, draw);
    r->grad_norms = NULL;
    if (rc) fprintf(stderr, PROG ": --grad-norms %s\n", tensor_error());
    return rc;
}

/* 0, 1 for --help, 2 for a bad flag (message printed). */
static int parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok = true;
        int gpt;
        if (cli_is_help(a)) {
            usage(stdout);
            return 1;
        } else if ((gpt = cli_gpt_config_flag(PROG, argc, argv, &i, &o->gpt)) != 0) {
            ok = gpt > 0;
        } else if (strcmp(a, "--text") == 0) {
            ok = (o->text = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--tokenizer") == 0) {
            ok = cli_tokenizer_flag(PROG, argc, argv, &i, &o->tokenizer);
        } else if (strcmp(a, "--vocab") == 0) {
            ok = (o->vocab = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--lr") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e3, &o->lr);
        } else if (strcmp(a, "--weight-decay") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e3, &o->weight_decay);
        } else if (strcmp(a, "--epochs") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 20, &o->epochs);
        } else if (strcmp(a, "--batch") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 20, &o->batch);
        } else if (strcmp(a, "--eval-freq") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 30, &o->eval_freq);
        } else if (strcmp(a, "--eval-iter") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 30, &o->eval_iter);
        } else if (strcmp(a, "--seed") == 0) {
            ok = cli_u64_flag(PROG, argc, argv, &i, &o->seed);
        } else if (strcmp(a, "--start-context") == 0) {
            ok = (o->start_context = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--csv") == 0) {
            ok = (o->csv = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--plot") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->plot);
        } else if (strcmp(a, "--save") == 0) {
            ok = (o->save = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--resume") == 0) {
            ok = (o->resume = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--save-every") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 40, &o->save_every);
        } else if (strcmp(a, "--stop-after-steps") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 40, &o->stop_after);
        } else if (strcmp(a, "--grad-norms") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->grad_norms);
        } else if (strcmp(a, "--ascii") == 0) {
            o->ascii = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else {
            cli_unknown_option(PROG, a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (strcmp(o->tokenizer, "bytes") == 0 && !o->gpt.vocab_set) o->gpt.cfg.vocab_size = 256;
    if (o->save_every && !o->save) {
        fprintf(stderr, PROG ": --save-every needs --save FILE\n");
        return 2;
    }
    return 0;
}

/* The whole file, NUL-terminated; NULL after a message. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, PROG ": --text: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) free(buf);
            buf = grown;
            cap *= 2;
        }
    }
    bool failed = ferror(f) || !buf;
    fclose(f);
    if (failed) {
        fprintf(stderr, PROG ": --text: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The byte offset of the book's split: int(0.90 * len(text)) characters,
 * as Python counts them (code points; the text is checked UTF-8). */
static size_t split_offset(const char *text, size_t len)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    size_t want = (size_t)(0.90 * (double)chars), seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80 && seen++ == want) return i;
    }
    return len;
}

static Dataset *windows(const Run *r, const char *text, size_t len, int64_t context,
                        const char *part)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (text_encode(r->tokenizer, text, len, true, &ids, &n) != 0) {
        fprintf(stderr, PROG ": --text: %s\n", tensor_error());
        return NULL;
    }
    Dataset *d = text_dataset_v1(ids, n, context, context);
    if (!d)
        fprintf(stderr, PROG ": --text: the %s part is too short: %zu tokens for windows of "
                        "%lld (try a smaller --context-length)\n",
                part, n, (long long)context);
    free(ids);
    return d;
}

/* calc_loss_batch: cross_entropy(logits.flatten(0, 1), targets.flatten()). */
static Tensor *calc_loss_batch(const Tensor *x, const Tensor *y, Module *model)
{
    Tensor *logits = nn_forward(model, x);
    if (!logits) return NULL;
    int64_t rows = logits->shape[0] * logits->shape[1];
    return tensor_cross_entropy(tensor_reshape(logits, SHAPE(rows, logits->shape[2])),
                                tensor_flatten(y));
}

/* calc_loss_loader: *loss = the mean of the first num_batches batch losses
 * (NaN for an empty loader, as the book's); a new pass over the loader (the
 * training loader too, in the middle of its epoch), drawing what PyTorch's
 * iterator draws.  A batch or a forward that fails is an error (-1, message
 * set), not a NaN loss. */
static int calc_loss_loader(DataLoader *loader, Module *model, int64_t num_batches,
                            double *loss)
{
    int64_t len = data_loader_len(loader);
    *loss = NAN;
    if (len == 0) return 0;
    if (num_batches > len) num_batches = len;
    DataIter *it = data_loader_iter(loader);
    if (!it) return -1;
    double total = 0;
    int rc = 0;
    for (int64_t i = 0; i < num_batches && !rc; i++) {
        TensorScope *s = tensor_scope_begin();
        Tensor *x, *y, *l = NULL;
        int got = data_iter_next(it, &x, &y);
        if (got == 1 && (l = calc_loss_batch(x, y, model))) total += tensor_item(l);
        else rc = -1;                       /* got is never 0: num_batches <= len */
        tensor_scope_end(s);
    }
    data_iter_free(it);
    if (!rc) *loss = total / (double)num_batches;
    return rc;
}

/* evaluate_model: eval mode, no grad, train and val loss over eval_iter
 * batches; 0, or -1 with a message. */
static int evaluate_model(Run *r, int64_t eval_iter, double *train, double *val)
{
    nn_train(r->model, false);
    tensor_no_grad_begin();
    int rc = calc_loss_loader(r->train, r->model, eval_iter, train) ||
             calc_loss_loader(r->val, r->model, eval_iter, val) ? -1 : 0;
    tensor_no_grad_end();
    nn_train(r->model, true);
    return rc;
}

/* generate_and_print_sample: 50 greedy tokens, newlines printed as spaces. */
static int generate_and_print_sample(Run *r, const Options *o)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (text_encode(r->tokenizer, o->start_context, strlen(o->start_context), true, &ids, &n))
        return -1;
    TensorScope *s = tensor_scope_begin();
    Tensor *start = tensor_zeros(SHAPE(1, (int64_t)n));
    for (size_t i = 0; start && i < n; i++) start->data[i] = (float)ids[i];
    free(ids);
    Tensor *out = nn_generate_text_simple(r->model, start, 50, o->gpt.cfg.context_length);
    int rc = -1;
    if (out) {
        int64_t m = out->shape[1];
        int64_t *gen = malloc((size_t)m * sizeof *gen);
        for (int64_t i = 0; gen && i < m; i++) gen[i] = (int64_t)out->data[i];
        size_t len = 0;
        char *text = gen ? text_decode(r->tokenizer, gen, (size_t)m, &len) : NULL;
        if (text) {
            for (size_t i = 0; i < len; i++) putchar(text[i] == '\n' ? ' ' : text[i]);
            putchar('\n');
            rc = 0;
        }
        free(text);
        free(gen);
    }
    tensor_scope_end(s);
    nn_train(r->model, true);
    return rc;
}

/* One optimizer step on a batch: zero_grad, loss, backward, step. */
static int train_step(Run *r, const Tensor *x, const Tensor *y)
{
    optim_zero_grad(r->optimizer);
    Tensor *loss = calc_loss_batch(x, y, r->model);
    if (!loss || tensor_backward(loss, NULL) != 0 || record_grad_norms(r) ||
        optim_step(r->optimizer) != 0)
        return -1;
    float v = tensor_item(loss);
    if (!isfinite(v)) {
        tensor_set_error("the loss is %g: training diverged (try a smaller --lr)", (double)v);
        return -1;
    }
    return 0;
}

/* Steps the run makes in all: its epochs, or --stop-after-steps when sooner. */
static int64_t run_steps(const Run *r, const Options *o)
{
    int64_t steps = (int64_t)o->epochs * data_loader_len(r->train);
    return o->stop_after && o->stop_after < steps ? o->stop_after : steps;
}

/* Evaluations among the first `steps` steps (at steps 0, eval_freq, ...). */
static int64_t evals_in(int64_t steps, const Options *o)
{
    return steps > 0 ? (steps - 1) / o->eval_freq + 1 : 0;
}

/* After this process's first step, on stderr, the time the rest will take,
 * from that step's own measured time and its evaluation's (when it made
 * none, a resumed run, an evaluation is taken as 2 * eval_iter forward
 * passes, a forward a third of a step). */
static void estimate(Run *r, const Options *o, double step_seconds, double eval_seconds)
{
    r->estimated = true;
    int64_t done = r->global_step + 1, steps = run_steps(r, o);
    int64_t evals = evals_in(steps, o) - evals_in(done, o);
    double eval = eval_seconds >= 0 ? eval_seconds : step_seconds * 2.0 * o->eval_iter / 3.0;
    double rest = (double)(steps - done) * step_seconds + (double)evals * eval;
    char when[32], evaluation[64] = "";
    if (eval_seconds >= 0)
        snprintf(evaluation, sizeof evaluation, " and its evaluation %.2f s", eval_seconds);
    int threads = tensor_get_num_threads();
    char params[32];
    if (r->n_params >= 1000000) snprintf(params, sizeof params, "%.1fM", r->n_params / 1e6);
    else snprintf(params, sizeof params, "%lld", (long long)r->n_params);
    fprintf(stderr, PROG ": %s parameters, batch %ld x %lld tokens, %d thread%s: the first "
            "step took %.2f s%s; about %s for the %lld steps and %lld evaluations left\n",
            params, o->batch, (long long)o->gpt.cfg.context_length, threads,
            threads == 1 ? "" : "s", step_seconds, evaluation,
            plot_duration(rest, when, sizeof when), (long long)(steps - done),
            (long long)evals);
}

/* The CSVs on disk before a checkpoint is saved, so that they hold every
 * row the checkpoint covers; then the checkpoint. */
static int save_checkpoint(Run *r, const Options *o)
{
    if ((r->csv && plot_csv_sync(r->csv)) || grad_norms_sync(r->grad_norms)) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return -1;
    }
    return train_checkpoint_save(r, o);
}

/* The evaluation's row of --csv. */
static int write_row(Run *r, long epoch, double train, double val)
{
    if (!r->csv || plot_csv_row(r->csv, "%lld,%ld,%lld,%.9g,%.9g", (long long)r->global_step,
                                epoch + 1, (long long)r->tokens_seen, train, val) == 0)
        return 0;
    fprintf(stderr, PROG ": --csv %s\n", tensor_error());
    return -1;
}

/* train_model_simple: the book's loop, from where a resumed run was; it
 * stops after step --stop-after-steps (its evaluation included). */
static int train_model_simple(Run *r, const Options *o)
{
    for (long epoch = (long)r->epochs_done; epoch < o->epochs; epoch++) {
        nn_train(r->model, true);
        if (!r->mid_epoch) {
            data_iter_free(r->train_it);
            if (!(r->train_it = data_loader_iter(r->train))) {
                fprintf(stderr, PROG ": epoch %ld: %s\n", epoch + 1, tensor_error());
                return -1;
            }
            r->train_epoch = epoch + 1;
        }
        r->mid_epoch = false;
        for (;;) {
            double t0 = plot_clock();
            TensorScope *s = tensor_scope_begin();
            Tensor *x, *y;
            int got = data_iter_next(r->train_it, &x, &y);
            int64_t numel = got == 1 ? x->numel : 0;
            int rc = got == 1 ? train_step(r, x, y) : got;
            tensor_scope_end(s);
            if (got == 0) break;
            double step_seconds = plot_clock() - t0, eval_seconds = -1;
            if (rc) {
                fprintf(stderr, PROG ": step %lld failed: %s\n", (long long)r->global_step + 1,
                        tensor_error());
                return -1;
            }
            r->tokens_seen += numel;
            r->global_step += 1;
            if (r->global_step % o->eval_freq == 0) {
                double train, val;
                t0 = plot_clock();
                if (evaluate_model(r, o->eval_iter, &train, &val)) {
                    plot_progress_clear(r->bar);
                    fprintf(stderr, PROG ": evaluation after step %lld: %s\n",
                            (long long)r->global_step, tensor_error());
                    return -1;
                }
                eval_seconds = plot_clock() - t0;
                r->evals++;
                plot_progress_clear(r->bar);
                if (!o->quiet)
                    printf("Ep %ld (Step %06lld): Train loss %.3f, Val loss %.3f\n", epoch + 1,
                           (long long)r->global_step, train, val);
                if (write_row(r, epoch, train, val)) return -1;
            }
            int64_t done = r->global_step + 1;
            if (!r->estimated && !o->quiet) estimate(r, o, step_seconds, eval_seconds);
            plot_progress_step(r->bar, done, numel);
            if (o->stop_after && done >= o->stop_after) {
                r->stopped = true;
                return 0;
            }
            if (o->save_every && done % o->save_every == 0 && save_checkpoint(r, o)) return -1;
        }
        plot_progress_clear(r->bar);
        if (generate_and_print_sample(r, o)) {
            fprintf(stderr, PROG ": sample: %s\n", tensor_error());
            return -1;
        }
        r->epochs_done = epoch + 1;
        fflush(stdout);
    }
    return 0;
}

/* The book's figure: losses against epochs (evaluation i of n at
 * i * epochs / (n - 1), as np.linspace), tokens seen on the top axis, read
 * back from --csv (a resumed run's file holds the rows it kept too).  An
 * evaluation's number is its step / eval_freq, and n counts the
 * evaluations of the whole run, so that a stopped or resumed run's points
 * sit where the uninterrupted run puts them. */
static int plot_losses(const Options *o, const Run *r)
{
    static const char *const columns[4] = {"step", "tokens_seen", "train_loss", "val_loss"};
    double *v[4] = {0};
    int64_t rows = 0, rc = 0;
    for (int k = 0; k < 4 && rc >= 0; k++) rc = rows = plot_csv_column(o->csv, columns[k], &v[k]);
    int64_t steps = (int64_t)o->epochs * data_loader_len(r->train);
    int64_t n = steps > 0 ? (steps - 1) / o->eval_freq + 1 : 0;
    for (int64_t i = 0; rc >= 0 && i < rows; i++)
        v[0][i] = n > 1 ? floor(v[0][i] / (double)o->eval_freq) * (double)o->epochs /
                              (double)(n - 1)
                        : 0;
    char title[256], subtitle[256];
    const char *text = strrchr(o->text, '/') ? strrchr(o->text, '/') + 1 : o->text;
    const NNGPTConfig *c = &o->gpt.cfg;
    snprintf(title, sizeof title, "GPTModel on %s (the book's chapter 5)", text);
    snprintf(subtitle, sizeof subtitle, "%lld layers, %lld heads, emb_dim %lld, context %lld, "
             "vocab %lld; AdamW lr %g, batch %ld", (long long)c->n_layers, (long long)c->n_heads,
             (long long)c->emb_dim, (long long)c->context_length, (long long)c->vocab_size, o->lr,
             o->batch);
    PlotSeries s[] = {
        {.label = "training loss", .n = rows, .x = v[0], .y = v[2], .x2 = v[1]},
        {.label = "validation loss", .n = rows, .x = v[0], .y = v[3], .dash = PLOT_DASHED},
    };
    PlotOptions p = PLOT_OPTIONS(.title = title, .subtitle = subtitle, .xlabel = "epochs",
                                 .ylabel = "loss", .x2label = "tokens seen");
    if (rc >= 0) rc = plot_lines(o->plot, 2, s, p);
    if (rc == 0 && o->ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, p);
    }
    if (rc) fprintf(stderr, PROG ": --plot %s\n", tensor_error());
    for (int k = 0; k < 4; k++) free(v[k]);
    return rc ? -1 : 0;
}

/* Opens --csv before the first step: a resumed run keeps the rows of the
 * file already there that its checkpoint covers (the rows of the run it
 * resumes, so that one file holds the whole run; a file of another kind is
 * replaced).  0, or -1 after a message. */
static int open_csv(Run *r, const Options *o)
{
    if (!o->csv) return 0;
    r->csv = plot_csv_open(o->csv, "step,epoch,tokens_seen,train_loss,val_loss");
    if (r->csv && o->resume) plot_csv_keep(r->csv, (double)r->global_step);
    if (r->csv) return 0;
    fprintf(stderr, PROG ": --csv %s\n", tensor_error());
    return -1;
}

/* Trains (the CSVs on disk as the rows come, whole when the run fails or
 * is killed), saves and plots: 0, or 1 after a message. */
static int train_and_write(Run *r, const Options *o)
{
    r->bar = plot_progress_new(stderr, !o->quiet && isatty(STDERR_FILENO), r->global_step + 1,
                               run_steps(r, o));
    int rc = !r->bar || open_csv(r, o) || open_grad_norms(r, o) || train_model_simple(r, o);
    plot_progress_free(r->bar);
    r->bar = NULL;
    if (close_grad_norms(r, rc == 0)) rc = 1;
    if (!rc && o->save) rc = save_checkpoint(r, o) ? 1 : 0;
    if (r->csv && plot_csv_close(r->csv) && !rc) {
        fprintf(stderr, PROG ": --csv %s\n", tensor_error());
        rc = 1;
    }
    r->csv = NULL;
    if (!rc && o->save && !o->quiet)
        fprintf(stderr, PROG ": checkpoint %s at step %lld%s\n", o->save,
                (long long)r->global_step + 1, r->stopped ? " (--stop-after-steps)" : "");
    if (!rc && o->plot) rc = plot_losses(o, r) ? 1 : 0;
    return rc;
}

static void run_free(Run *r)
{
    data_iter_free(r->train_it);
    data_loader_free(r->train);
    data_loader_free(r->val);
    optim_free(r->optimizer);
    nn_module_free(r->model);
    text_tokenizer_free(r->tokenizer);
    plot_csv_close(r->csv);
}

/* Every file the run reads or writes, before any work: each output may be
 * written (no FIFO, device or folder at its path, its folder there), and
 * no output names the same file as another path (--resume and --save may:
 * a run goes on from its checkpoint and replaces it). */
static bool paths_ok(const Options *o)
{
    char norms_csv[4096] = "", encoder[4200] = "", merges[4200] = "";
    if (o->grad_norms && grad_norms_csv_path(o->grad_norms, norms_csv, sizeof norms_csv)) {
        fprintf(stderr, PROG ": --grad-norms %s: the name is too long\n", o->grad_norms);
        return false;
    }
    if (strcmp(o->tokenizer, "gpt2") == 0) {
        const char *dir = o->vocab ? o->vocab : cli_vocab_dir();
        snprintf(encoder, sizeof encoder, "%s/encoder.json", dir);
        snprintf(merges, sizeof merges, "%s/vocab.bpe", dir);
    }
    TensorPath paths[] = {
        {.what = "--csv", .path = o->csv, .output = true},
        {.what = "--plot", .path = o->plot, .output = true},
        {.what = "--save", .path = o->save, .output = true, .group = 1},
        {.what = "--grad-norms", .path = o->grad_norms, .output = true},
        {.what = "--grad-norms's CSV", .path = o->grad_norms ? norms_csv : NULL, .output = true},
        {.what = "--resume", .path = o->resume, .group = 1},
        {.what = "--text", .path = o->text},
        {.what = "--vocab", .path = encoder[0] ? encoder : NULL},
        {.what = "--vocab", .path = merges[0] ? merges : NULL},
    };
    return cli_paths_ok(PROG, sizeof paths / sizeof *paths, paths);
}

int main(int argc, char **argv)
{
    /* The book's chapter 5 shortens GPT_CONFIG_124M's context to 256. */
    NNGPTConfig cfg = NN_GPT_CONFIG_124M;
    cfg.context_length = 256;
    Options o = {.gpt = {.cfg = cfg, .context_124m = 256}, .text = cli_default_text(),
                 .start_context = "Every effort moves you",
                 .tokenizer = "gpt2", .lr = 0.0004, .weight_decay = 0.1, .epochs = 10,
                 .batch = 2, .eval_freq = 5, .eval_iter = 5, .seed = 123};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    if (o.plot && !o.csv) {
        fprintf(stderr, PROG ": --plot needs --csv FILE for the figure's data\n");
        return 2;
    }
    if (!paths_ok(&o)) return 2;

    Run r = {.global_step = -1};
    size_t len = 0;
    char *text = read_file(o.text, &len);
    if (!text) return 1;
    if (!(r.tokenizer = cli_tokenizer(PROG, o.tokenizer, o.vocab))) {
        free(text);
        return 1;
    }
    if (text_vocab_size(r.tokenizer) > o.gpt.cfg.vocab_size) {
        fprintf(stderr, PROG ": --vocab-size %lld is smaller than the tokenizer's %lld\n",
                (long long)o.gpt.cfg.vocab_size, (long long)text_vocab_size(r.tokenizer));
        run_free(&r);
        free(text);
        return 2;
    }
    /* The book's order: seed, model, optimizer, loaders (their shuffles
     * draw from the generator after the model's initialisation). */
    tensor_manual_seed(o.seed);
    r.model = nn_gpt_model(o.gpt.cfg);
    NNList params = nn_named_parameters(r.model);
    for (int i = 0; i < params.count; i++) r.n_params += params.tensors[i]->numel;
    if (r.model)
        r.optimizer = optim_adamw(params.count, params.tensors,
                                  OPTIM_ADAMW_OPTIONS(.lr = o.lr, .weight_decay = o.weight_decay));
    if (!r.model || !r.optimizer) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        nn_list_free(&params);
        run_free(&r);
        free(text);
        return 2;
    }
    r.text_hash = train_text_hash(text, len);
    size_t split = split_offset(text, len);
    Dataset *train = windows(&r, text, split, o.gpt.cfg.context_length, "training");
    Dataset *val = train ? windows(&r, text + split, len - split, o.gpt.cfg.context_length,
                                   "validation")
                         : NULL;
    free(text);
    /* The book's create_dataloader_v1: the training part shuffled, its last
     * short batch dropped; the validation part in order, all of it.  The
     * evaluation passes over the training loader are its own iterators. */
    if (train && val) {
        r.train = data_loader(train, DATA_LOADER_OPTIONS(.batch_size = o.batch, .shuffle = true,
                                                         .drop_last = true));
        r.val = data_loader(val, DATA_LOADER_OPTIONS(.batch_size = o.batch));
    }
    rc = 1;
    if (!train || !val) {
        /* windows() has said why */
    } else if (!r.train || !r.val)
        fprintf(stderr, PROG ": %s\n", tensor_error());
    else if (data_loader_len(r.train) == 0)
        fprintf(stderr, PROG ": --text: the training part has fewer windows than --batch %ld\n",
                o.batch);
    else if ((rc = o.resume ? train_checkpoint_resume(&r, &o) : 0) == 0)
        rc = train_and_write(&r, &o);
    nn_list_free(&params);
    run_free(&r);
    data_dataset_free(train);
    data_dataset_free(val);
    return rc;
}
