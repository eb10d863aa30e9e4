/*
 * train_gpt's command line (train_gpt.h): --help, the flags into Options
 * (the GPT's configuration and the training flags through the cli room),
 * appendix D's flags checked among themselves, and every file the run
 * reads or writes checked before any work.
 */
#include <stdio.h>
#include <string.h>

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
            "                            --eval-freq, --eval-iter, --bf16, appendix D's flags\n"
            "                            below): the remaining lines and CSV rows are those\n"
            "                            of one uninterrupted run\n"
            "  --grad-norms FILE.png     each layer's gradient L2 norm per step, log scale\n"
            "                            (gnuplot), its numbers in FILE.csv beside it\n"
            "  The book's appendix D (train_model: \"Iter\" in the lines):\n"
            "  --warmup-steps N|P%%       linear warmup over N steps (or P%% of the run's steps,\n"
            "                            the book's 20%%) from --initial-lr to --lr, then cosine\n"
            "                            decay towards --min-lr; below the run's steps\n"
            "  --initial-lr X --min-lr X the schedule's ends (default 3e-05, 1e-06), at most --lr\n"
            "  --clip-grad-norm X        clip the gradients' total L2 norm to X (the book: 1.0),\n"
            "                            from step N of --warmup-steps on (every step without\n"
            "                            it); 0: no clipping (default)\n"
            "  With --plot, also FILE-lr.png: the lr and the gradient norm per step (log\n"
            "  scale), its numbers in FILE-lr.csv beside it\n"
            "  --quiet                   no per-evaluation lines\n"
            "  --bf16                    bfloat16 products (float32 sums), as the run under\n"
            "                            torch.autocast(\"cpu\", dtype=torch.bfloat16);\n"
            "                            weights, gradients and AdamW stay float32\n");
}

/* --warmup-steps N, or P% of the run's steps (the book's int(0.2 *
 * total_steps) is 20%), resolved once the loaders are made. */
static bool warmup_flag(int argc, char **argv, int *i, Options *o)
{
    const char *v = cli_value(PROG, argc, argv, i);
    if (!v) return false;
    size_t n = strlen(v);
    if (n < 2 || v[n - 1] != '%')
        return cli_int(PROG, "--warmup-steps", v, 0, 1L << 40, &o->warmup_steps);
    char number[64];
    snprintf(number, sizeof number, "%.*s", (int)(n - 1 < 63 ? n - 1 : 63), v);
    if (!cli_double(PROG, "--warmup-steps", number, 0, 100, &o->warmup_percent)) return false;
    o->warmup_steps = 0;
    return true;
}

/* Appendix D's flags among themselves and against --lr (the peak): 0, or 2
 * with the line in tensor_error().  Their fit to the run's length is
 * checked once the loaders are made (schedule_fits). */
static int check_schedule_flags(const Options *o)
{
    if (o->warmup_steps < 0 && (o->initial_lr_set || o->min_lr_set))
        tensor_set_error(PROG ": %s needs --warmup-steps N (the schedule it ends)",
                         o->initial_lr_set ? "--initial-lr" : "--min-lr");
    else if (o->warmup_steps >= 0 && o->min_lr > o->train.lr)
        tensor_set_error(PROG ": --min-lr %g is above the peak --lr %g", o->min_lr, o->train.lr);
    else if (o->warmup_steps >= 0 && o->initial_lr > o->train.lr)
        tensor_set_error(PROG ": --initial-lr %g is above the peak --lr %g", o->initial_lr,
                         o->train.lr);
    else
        return 0;
    return 2;
}

/* Appendix D's loop: a schedule or clipping. */
static bool appendix_d(const Options *o)
{
    return o->warmup_steps >= 0 || o->clip_grad_norm > 0;
}

/* With --plot FILE.png and appendix D's loop, the lr's figure FILE-lr.png
 * and its numbers FILE-lr.csv: 0, or 2 with a line for a name too long. */
static int lr_paths(Options *o)
{
    if (!o->plot || !appendix_d(o)) return 0;
    const char *dot = strrchr(o->plot, '.');
    int stem = (int)(dot - o->plot);
    int a = snprintf(o->lr_plot, sizeof o->lr_plot, "%.*s-lr%s", stem, o->plot, dot);
    int b = snprintf(o->lr_csv, sizeof o->lr_csv, "%.*s-lr.csv", stem, o->plot);
    if (a > 0 && (size_t)a < sizeof o->lr_plot && b > 0 && (size_t)b < sizeof o->lr_csv) return 0;
    tensor_set_error(PROG ": --plot %s: the name is too long for its -lr figure", o->plot);
    return 2;
}

/* 0, 1 for --help, 2 for a bad flag (its line in tensor_error()). */
int parse_flags(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok = true;
        int gpt, common;
        if (cli_is_help(a)) {
            usage(stdout);
            return 1;
        } else if ((gpt = cli_gpt_config_flag(PROG, argc, argv, &i, &o->gpt)) != 0) {
            ok = gpt > 0;
        } else if ((common = cli_train_flag(PROG, argc, argv, &i, &o->train)) != 0) {
            ok = common > 0;
        } else if (strcmp(a, "--text") == 0) {
            ok = (o->text = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--tokenizer") == 0) {
            ok = cli_tokenizer_flag(PROG, argc, argv, &i, &o->tokenizer);
        } else if (strcmp(a, "--vocab") == 0) {
            ok = (o->vocab = cli_value(PROG, argc, argv, &i)) != NULL;
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
        } else if (strcmp(a, "--warmup-steps") == 0) {
            ok = warmup_flag(argc, argv, &i, o);
        } else if (strcmp(a, "--initial-lr") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e3, &o->initial_lr);
            o->initial_lr_set = true;
        } else if (strcmp(a, "--min-lr") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e3, &o->min_lr);
            o->min_lr_set = true;
        } else if (strcmp(a, "--clip-grad-norm") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 0, 1e6, &o->clip_grad_norm);
        } else if (strcmp(a, "--grad-norms") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->grad_norms);
        } else if (strcmp(a, "--ascii") == 0) {
            o->ascii = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else {
            ok = cli_unknown_option(PROG, a);
        }
        if (!ok) return 2;
    }
    if (strcmp(o->tokenizer, "bytes") == 0 && !o->gpt.vocab_set) o->gpt.cfg.vocab_size = 256;
    if (!*o->start_context) {
        tensor_set_error(PROG ": --start-context: empty; the sample after each epoch needs at "
                         "least one token");
        return 2;
    }
    if (o->save_every && !o->save) {
        tensor_set_error(PROG ": --save-every needs --save FILE");
        return 2;
    }
    if (o->plot && !o->csv) {
        tensor_set_error(PROG ": --plot needs --csv FILE for the figure's data");
        return 2;
    }
    return check_schedule_flags(o) ? 2 : lr_paths(o);
}

/* Every file the run reads or writes, before any work: each output may be
 * written (no FIFO, device or folder at its path, its folder there), and
 * no output names the same file as another path (--resume and --save may:
 * a run goes on from its checkpoint and replaces it). */
bool paths_ok(const Options *o)
{
    char norms_csv[4096] = "";
    if (o->grad_norms &&
        train_grad_norms_csv_path(o->grad_norms, norms_csv, sizeof norms_csv)) {
        fprintf(stderr, PROG ": --grad-norms %s: the name is too long\n", o->grad_norms);
        return false;
    }
    CliVocabPaths v;
    cli_vocab_paths(o->tokenizer, o->vocab, &v);
    TensorPath paths[] = {
        {.what = "--csv", .path = o->csv, .output = true},
        {.what = "--plot", .path = o->plot, .output = true},
        {.what = "--save", .path = o->save, .output = true, .group = 1},
        {.what = "--grad-norms", .path = o->grad_norms, .output = true},
        {.what = "--grad-norms's CSV", .path = o->grad_norms ? norms_csv : NULL, .output = true},
        {.what = "--plot's lr figure", .path = o->lr_plot[0] ? o->lr_plot : NULL, .output = true},
        {.what = "--plot's lr CSV", .path = o->lr_csv[0] ? o->lr_csv : NULL, .output = true},
        {.what = "--resume", .path = o->resume, .group = 1},
        {.what = "--text", .path = o->text},
        v.paths[0],
        v.paths[1],
    };
    if (cli_paths_ok(PROG, sizeof paths / sizeof *paths, paths)) return true;
    fprintf(stderr, "%s\n", tensor_error());
    return false;
}
