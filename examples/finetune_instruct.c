/*
 * The book's chapter 7: a GPT fine-tuned to follow instructions.  The
 * instruction file (a JSON list of {instruction, input, output}), the
 * Alpaca-style prompt, the 85/10/5 split, the padded batches whose targets
 * past the first end token are -100, chapter 5's training loop with the
 * first validation prompt as its sample, then a greedy response for every
 * test entry, written as the book's JSON with "model_response".  The book
 * scores those responses with Llama 3 on a local Ollama server; offline,
 * this program prints the fine-tuned model's loss on the test entries
 * instead.  The pieces are the train room's (train/train.h, chapter 7);
 * tests/reference/book_ch07.py is the same run in PyTorch.
 *
 * The book's run: gpt2-medium's weights (--hf-gpt2 model.safetensors),
 * drop_rate 0, AdamW lr 5e-5 weight_decay 0.1, 2 epochs, batch 8, eval_freq
 * 5, eval_iter 5, allowed_max_length 1024, 256 new tokens per response.
 * --lora-rank 16 --lora-alpha 16 is its exercise 7.4.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attograd.h"

#define PROG "finetune_instruct"

typedef struct {
    CliGPTConfig gpt;
    const char *data, *hf, *load, *tokenizer, *vocab, *responses, *save, *csv, *plot;
    const char *save_lora, *load_lora;   /* the LoRA weights alone */
    const char *config_flag;     /* a config flag the model's file decides, or NULL */
    bool heads_set, drop_set, ascii;
    CliTrainOptions train;       /* --lr ... --seed, --bf16 (cli.h) */
    double lora_alpha;
    int64_t allowed_max_length, max_new_tokens, lora_rank;
} Options;

typedef struct {
    const Options *o;
    TextTokenizer *tok;
    TrainInstructions data;
    TrainInstructionSplit split;
    Dataset *sets[3];            /* train, val, test */
    DataLoader *train, *val, *test;
    TrainInstructionCollate collate;
    Module *model;
    Optimizer *opt;
    PlotCsv *csv;
    char *start_context;
    int64_t pad;
} Run;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " --data FILE [flags]\n"
            "  The book's chapter 7: instruction fine-tuning, then a response per test entry.\n"
            "  --data FILE               a JSON list of {\"instruction\", \"input\", \"output\"}\n"
            "                            (the book's instruction-data.json)\n"
            "  --hf-gpt2 FILE            GPT-2's weights, Hugging Face's model.safetensors (the\n"
            "                            book's gpt2-medium); --n-heads for another width;\n"
            "                            drop_rate 0 as the book's unless --drop-rate\n"
            "  --load FILE               a train_gpt --save checkpoint (its config, tokenizer)\n"
            "  --config 124M|book-test --vocab-size N --context-length N --emb-dim N\n"
            "  --n-heads N --n-layers N --drop-rate X --qkv-bias   a fresh model's config\n"
            "  --tokenizer gpt2|bytes    GPT-2's BPE (default) or UTF-8 bytes; the pad and\n"
            "                            end id is the vocabulary's last (50256, 255)\n"
            "  --vocab DIR               GPT-2's encoder.json and vocab.bpe (./run vocab)\n"
            "  --epochs N --batch-size N (default 2, 8)\n"
            "  --lr X --weight-decay X   AdamW's (default 5e-5, 0.1)\n"
            "  --eval-freq N --eval-iter N   (default 5, 5)\n"
            "  --seed N                  torch.manual_seed before the model and before\n"
            "                            training (default 123)\n"
            "  --allowed-max-length N    cut batches to N tokens (default the model's context)\n"
            "  --max-new-tokens N        per response (default 256)\n"
            "  --lora-rank N --lora-alpha X   appendix E's LoRA on every Linear, the rest\n"
            "                            frozen (the book's exercise 7.4: 16, 16)\n"
            "  --responses FILE          the test entries with \"model_response\" (the book's\n"
            "                            instruction-data-with-response.json)\n"
            "  --save FILE               the fine-tuned model (LoRA merged), a checkpoint\n"
            "                            gpt_generate --load reads\n"
            "  --save-lora FILE          with --lora-rank: the LoRA weights alone (megabytes),\n"
            "                            to put back on the same pretrained model\n"
            "  --load-lora FILE          no training: a --save-lora file on the pretrained\n"
            "                            model it was trained on (--hf-gpt2, --load or the\n"
            "                            config and --seed; --lora-rank and --lora-alpha as\n"
            "                            it was trained), then the responses (eval mode),\n"
            "                            the test loss and --save\n"
            "  --csv FILE                step,epoch,tokens_seen,train_loss,val_loss\n"
            "  --plot FILE.png|svg|pdf   the loss figure (needs --csv); --ascii also on stdout\n"
            "  --bf16                    bfloat16 products (float32 sums), as the run under\n"
            "                            torch.autocast(\"cpu\", dtype=torch.bfloat16)\n");
}

/* A config flag: --n-heads and --drop-rate apply to --hf-gpt2's model too. */
static int config_flag(int argc, char **argv, int *i, Options *o)
{
    const char *flag = argv[*i];
    int rc = cli_gpt_config_flag(PROG, argc, argv, i, &o->gpt);
    if (rc <= 0) return rc;
    if (strcmp(flag, "--n-heads") == 0) o->heads_set = true;
    else if (strcmp(flag, "--drop-rate") == 0) o->drop_set = true;
    else if (!o->config_flag) o->config_flag = flag;
    return 1;
}

/* 0, 1 for --help, 2 for a bad flag (its line in tensor_error()). */
static int parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok = true;
        int gpt, common;
        if (cli_is_help(a)) {
            usage(stdout);
            return 1;
        } else if ((gpt = config_flag(argc, argv, &i, o)) != 0) {
            ok = gpt > 0;
        } else if ((common = cli_train_flag(PROG, argc, argv, &i, &o->train)) != 0) {
            ok = common > 0;
        } else if (strcmp(a, "--data") == 0) {
            ok = (o->data = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--hf-gpt2") == 0) {
            ok = (o->hf = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--load") == 0) {
            ok = (o->load = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--tokenizer") == 0) {
            ok = cli_tokenizer_flag(PROG, argc, argv, &i, &o->tokenizer);
        } else if (strcmp(a, "--vocab") == 0) {
            ok = (o->vocab = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--allowed-max-length") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 24, &o->allowed_max_length);
        } else if (strcmp(a, "--max-new-tokens") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 0, 1L << 24, &o->max_new_tokens);
        } else if (strcmp(a, "--lora-rank") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, INT64_MIN, INT64_MAX, &o->lora_rank);
            if (ok && o->lora_rank < 1) {
                tensor_set_error(PROG ": --lora-rank: %lld must be at least 1",
                                 (long long)o->lora_rank);
                ok = false;
            }
        } else if (strcmp(a, "--lora-alpha") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, -1e6, 1e6, &o->lora_alpha);
        } else if (strcmp(a, "--responses") == 0) {
            ok = (o->responses = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--save") == 0) {
            ok = (o->save = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--save-lora") == 0) {
            ok = (o->save_lora = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--load-lora") == 0) {
            ok = (o->load_lora = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--csv") == 0) {
            ok = (o->csv = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--plot") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->plot);
        } else if (strcmp(a, "--ascii") == 0) {
            o->ascii = true;
        } else {
            ok = cli_unknown_option(PROG, a);
        }
        if (!ok) return 2;
    }
    const char *file = o->hf ? "--hf-gpt2" : "--load";
    if (!o->data) tensor_set_error(PROG ": --data FILE is needed (see --help)");
    else if (o->hf && o->load)
        tensor_set_error(PROG ": --load and --hf-gpt2 exclude each other (one model)");
    else if ((o->hf || o->load) && o->config_flag)
        tensor_set_error(PROG ": %s: the model's config is %s's", o->config_flag, file);
    else if (o->load && (o->heads_set || o->drop_set))
        tensor_set_error(PROG ": %s: the model's config is --load's",
                         o->heads_set ? "--n-heads" : "--drop-rate");
    else if (o->plot && !o->csv)
        tensor_set_error(PROG ": --plot needs --csv FILE for the figure's data");
    else if (o->save_lora && !o->lora_rank)
        tensor_set_error(PROG ": --save-lora needs --lora-rank N (the weights it saves)");
    else if (o->load_lora && o->save_lora)
        tensor_set_error(PROG ": --load-lora and --save-lora exclude each other (no training)");
    else if (o->load_lora && o->csv)
        tensor_set_error(PROG ": --csv and --plot show training: not with --load-lora");
    else
        return 0;
    return 2;
}

/* ---- The model --------------------------------------------------------------------- */

/* The config: --hf-gpt2's shapes (drop_rate 0, the book's, unless
 * --drop-rate), --load's metadata (and its tokenizer), or the flags'.
 * 0, or 1 / 2 after a message. */
static int model_config(Options *o)
{
    if (o->hf) {
        NNGPTConfig c;
        if (nn_gpt_hf_config(o->hf, &c) != 0) {
            fprintf(stderr, PROG ": --hf-gpt2: %s\n", tensor_error());
            return 1;
        }
        if (o->heads_set) c.n_heads = o->gpt.cfg.n_heads;
        c.drop_rate = o->drop_set ? o->gpt.cfg.drop_rate : 0.0;
        if (c.n_heads == 0 || c.emb_dim % c.n_heads != 0) {
            fprintf(stderr, PROG ": --hf-gpt2 %s: emb_dim %lld: give --n-heads (a divisor)\n",
                    o->hf, (long long)c.emb_dim);
            return 2;
        }
        o->gpt.cfg = c;
    } else if (o->load) {
        TensorFile *f = tensor_file_open(o->load);
        const char *tok = NULL;
        int rc = f && nn_gpt_config_from_meta(f, o->load, &o->gpt.cfg, &tok) == 0 ? 0 : 1;
        tensor_file_close(f);
        if (rc == 0 && nn_gpt_check_file(o->gpt.cfg, o->load) != 0) rc = 1;
        if (rc) {
            fprintf(stderr, PROG ": --load: %s\n", tensor_error());
            return 1;
        }
        o->tokenizer = tok;
    }
    if (strcmp(o->tokenizer, "bytes") == 0 && !o->gpt.vocab_set && !o->hf && !o->load)
        o->gpt.cfg.vocab_size = 256;
    return 0;
}

/* The book's order: GPTModel(cfg) drawn (and GPT-2's weights over it),
 * model.eval(); with LoRA the three count lines, everything frozen, then
 * replace_linear_with_lora (A drawn).  0, or 1 after a message. */
static int make_model(Run *r)
{
    const Options *o = r->o;
    Module *m = o->hf ? nn_gpt_load_hf(o->hf, o->gpt.cfg) : nn_gpt_model(o->gpt.cfg);
    if (m && o->load && checkpoint_load_module(m, o->load, 0, NULL) != 0) {
        nn_module_free(m);
        m = NULL;
    }
    if (!(r->model = m)) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    nn_train(m, false);                                       /* model.eval() */
    if (!o->lora_rank) return 0;
    if (train_lora_setup(m, o->lora_rank, o->lora_alpha, stdout) < 0) {
        fprintf(stderr, PROG ": --lora-rank: %s\n", tensor_error());
        return 1;
    }
    return 0;
}

/* The model's description for its LoRA-only file (train_lora_save). */
static TrainClassifierInfo lora_info(const Options *o)
{
    return (TrainClassifierInfo){.cfg = o->gpt.cfg, .tokenizer = o->tokenizer,
                                 .lora_rank = o->lora_rank, .lora_alpha = o->lora_alpha};
}

/* --load-lora's file fits the model the flags describe, before any work:
 * 0, or 1 / 2 after a message naming the file and the difference. */
static int lora_file_fits(const Options *o)
{
    TrainClassifierInfo f, want = lora_info(o);
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
    if (train_lora_check(o->load_lora, &want) == 0) return 0;
    fprintf(stderr, PROG ": --load-lora: %s\n", tensor_error());
    return 2;
}

/* ---- The data ------------------------------------------------------------------------ */

/* Item i of part k as the file's entry number (train, then test, then val). */
static int64_t file_index(const Run *r, int k, int64_t i)
{
    const TrainInstructionSplit *s = &r->split;
    return (k == 0 ? 0 : k == 2 ? s->train.count : s->train.count + s->test.count) + i;
}

/* A batch is cut to --allowed-max-length; wider than the context, the
 * model cannot take it: the longest text that would make one is named.
 * 0, or 1 after a message. */
static int texts_fit(const Run *r)
{
    const Options *o = r->o;
    int64_t context = o->gpt.cfg.context_length, longest = 0, at = 0;
    for (int k = 0; k < 3; k++)
        for (int64_t i = 0; i < data_dataset_len(r->sets[k]); i++) {
            int64_t n = train_instruction_dataset_item_len(r->sets[k], i);
            if (n > longest) longest = n, at = file_index(r, k, i);
        }
    int64_t width = longest < o->allowed_max_length ? longest : o->allowed_max_length;
    if (width <= context) return 0;
    fprintf(stderr, PROG ": --data %s: entry %lld is %lld tokens, more than the model's context "
            "%lld: --allowed-max-length %lld lets it through (at most %lld)\n", o->data,
            (long long)at, (long long)longest, (long long)context,
            (long long)o->allowed_max_length, (long long)context);
    return 1;
}

/* The file, the split, the datasets and the loaders (the training one
 * shuffled, its last short batch dropped).  0, or 1 after a message. */
static int make_data(Run *r)
{
    const Options *o = r->o;
    if (train_instructions_read(o->data, &r->data) != 0) {
        fprintf(stderr, PROG ": --data: %s\n", tensor_error());
        return 1;
    }
    r->split = train_instruction_split(&r->data);
    if (r->split.train.count < o->train.batch_size) {
        fprintf(stderr, PROG ": --data %s: %lld entries: the training part (the first 85%%) "
                "has %lld, fewer than --batch-size %lld\n", o->data, (long long)r->data.count,
                (long long)r->split.train.count, (long long)o->train.batch_size);
        return 1;
    }
    TrainInstructionSlice parts[3] = {r->split.train, r->split.val, r->split.test};
    for (int k = 0; k < 3; k++)
        if (!(r->sets[k] = train_instruction_dataset(r->tok, parts[k]))) {
            fprintf(stderr, PROG ": --data %s: %s\n", o->data, tensor_error());
            return 1;
        }
    if (texts_fit(r)) return 1;
    r->pad = text_vocab_size(r->tok) - 1;
    r->collate = TRAIN_INSTRUCTION_COLLATE(.pad_token_id = r->pad,
                                           .allowed_max_length = o->allowed_max_length);
    DataLoaderOptions l = DATA_LOADER_OPTIONS(.batch_size = o->train.batch_size,
                                              .collate = train_instruction_collate,
                                              .collate_ctx = &r->collate);
    r->val = data_loader(r->sets[1], l);
    r->test = data_loader(r->sets[2], l);
    l.shuffle = l.drop_last = true;
    r->train = data_loader(r->sets[0], l);
    r->start_context = train_format_input(&r->split.val.entries[0]);
    if (!r->train || !r->val || !r->test || !r->start_context) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    return 0;
}

/* ---- Training ------------------------------------------------------------------------ */

/* The book's line, and the evaluation's row of --csv. */
static int on_eval(const TrainState *s, double train, double val, void *ctx)
{
    Run *r = ctx;
    printf("Ep %lld (Step %06lld): Train loss %.3f, Val loss %.3f\n", (long long)s->epoch,
           (long long)s->global_step, train, val);
    if (r->csv && plot_csv_row(r->csv, "%lld,%lld,%lld,%.9g,%.9g", (long long)s->global_step,
                               (long long)s->epoch, (long long)s->tokens_seen, train, val))
        return -1;
    return 0;
}

/* generate_and_print_sample's print (its newlines are spaces already). */
static int on_sample(const TrainState *s, const char *text, size_t len, void *ctx)
{
    (void)s;
    (void)ctx;
    fwrite(text, 1, len, stdout);
    putchar('\n');
    fflush(stdout);
    return 0;
}

/* The script's "Initial losses" (5 batches each, the model in eval mode,
 * no grad), AdamW over every parameter (frozen ones are skipped), the seed
 * again, and train_model_simple.  0, or 1 after a message. */
static int train(Run *r)
{
    const Options *o = r->o;
    double train_loss, val_loss;
    tensor_no_grad_begin();
    int rc = train_calc_loss_loader(r->train, r->model, 5, &train_loss) ||
             train_calc_loss_loader(r->val, r->model, 5, &val_loss);
    tensor_no_grad_end();
    if (rc) {
        fprintf(stderr, PROG ": initial losses: %s\n", tensor_error());
        return 1;
    }
    char a[64], b[64];
    cli_float_repr(train_loss, a, sizeof a);
    cli_float_repr(val_loss, b, sizeof b);
    printf("Initial losses\n   Training loss: %s\n   Validation loss: %s\n", a, b);
    NNList p = nn_named_parameters(r->model);
    r->opt = optim_adamw(p.count, p.tensors,
                         OPTIM_ADAMW_OPTIONS(.lr = o->train.lr,
                                             .weight_decay = o->train.weight_decay));
    nn_list_free(&p);
    if (!r->opt || (o->csv && !(r->csv = plot_csv_open(o->csv, "step,epoch,tokens_seen,"
                                                               "train_loss,val_loss")))) {
        fprintf(stderr, PROG ": %s\n", tensor_error());
        return 1;
    }
    tensor_manual_seed(o->train.seed);
    TrainState s = TRAIN_STATE_INIT;
    TrainOptions t = TRAIN_OPTIONS(.num_epochs = o->train.epochs, .eval_freq = o->train.eval_freq,
                                   .eval_iter = o->train.eval_iter, .tokenizer = r->tok,
                                   .start_context = r->start_context, .on_eval = on_eval,
                                   .on_sample = on_sample, .ctx = r);
    rc = train_model_simple(r->model, r->train, r->val, r->opt, &t, &s) < 0;
    train_state_clear(&s);
    if (!rc && r->csv) rc = plot_csv_close(r->csv) != 0;
    r->csv = NULL;
    if (rc) fprintf(stderr, PROG ": %s\n", tensor_error());
    return rc;
}

/* --load-lora in place of training (the LoRA weights of a run that trained
 * them), or --save-lora after it.  0, or 1 after a message. */
static int lora_file(Run *r, bool save)
{
    TrainClassifierInfo info = lora_info(r->o);
    const char *path = save ? r->o->save_lora : r->o->load_lora;
    if ((save ? train_lora_save(r->model, &info, path) : train_lora_load(r->model, &info, path))
        == 0)
        return 0;
    fprintf(stderr, PROG ": %s: %s\n", save ? "--save-lora" : "--load-lora", tensor_error());
    return 1;
}

/* ---- After training ---------------------------------------------------------------- */

/* A response per test entry, in the mode training left the model in (the
 * book's script), into --responses.  0, or 1 after a message. */
static int write_responses(Run *r)
{
    const Options *o = r->o;
    int64_t n = r->split.test.count;
    char **text = calloc((size_t)n + 1, sizeof *text);
    size_t *len = calloc((size_t)n + 1, sizeof *len);
    TrainRespondOptions g = {.max_new_tokens = o->max_new_tokens,
                             .context_size = o->gpt.cfg.context_length, .eos_id = r->pad};
    int rc = text && len ? 0 : 1;
    for (int64_t i = 0; i < n && rc == 0; i++)
        rc = !(text[i] = train_instruction_respond(r->model, r->tok, &r->split.test.entries[i],
                                                   &g, &len[i]));
    if (rc == 0) rc = train_instructions_write(o->responses, r->split.test, text, len) != 0;
    if (rc) fprintf(stderr, PROG ": --responses: %s\n", tensor_error());
    for (int64_t i = 0; text && i < n; i++) free(text[i]);
    free(text);
    free(len);
    return rc;
}

/* What can be measured offline in place of the book's Llama scoring: the
 * fine-tuned model's loss on the held-out test entries (all batches, eval
 * mode, no grad), as calc_loss_loader computes the validation loss. */
static int test_loss(Run *r)
{
    double loss;
    nn_train(r->model, false);
    tensor_no_grad_begin();
    int rc = train_calc_loss_loader(r->test, r->model, 0, &loss);
    tensor_no_grad_end();
    if (rc) {
        fprintf(stderr, PROG ": test loss: %s\n", tensor_error());
        return 1;
    }
    printf("Test loss: %.3f\n", loss);
    return 0;
}

/* The model, its LoRA merged into its Linears, with its config in the
 * metadata (gpt_generate --load).  0, or 1 after a message. */
static int save(Run *r)
{
    const Options *o = r->o;
    NNGPTMeta m;
    nn_gpt_config_to_meta(o->gpt.cfg, text_tokenizer_name(r->tok), &m);
    if ((o->lora_rank && nn_lora_merge(r->model) < 0) ||
        checkpoint_save(&(Checkpoint){.module = r->model, .n_meta = NN_GPT_META_COUNT,
                                      .meta = m.meta}, o->save) != 0) {
        fprintf(stderr, PROG ": --save: %s\n", tensor_error());
        return 1;
    }
    return 0;
}

/* The losses against epochs (evaluation i of n at i * epochs / (n - 1)),
 * tokens seen on the top axis, read back from --csv.  0, or 1. */
static int plot_losses(const Run *r)
{
    const Options *o = r->o;
    static const char *const columns[4] = {"step", "tokens_seen", "train_loss", "val_loss"};
    double *v[4] = {0};
    int64_t rows = 0, rc = 0;
    for (int k = 0; k < 4 && rc >= 0; k++) rc = rows = plot_csv_column(o->csv, columns[k], &v[k]);
    for (int64_t i = 0; rc >= 0 && i < rows; i++)
        v[0][i] = rows > 1 ? (double)i * (double)o->train.epochs / (double)(rows - 1) : 0;
    PlotSeries s[] = {
        {.label = "training loss", .n = rows, .x = v[0], .y = v[2], .x2 = v[1]},
        {.label = "validation loss", .n = rows, .x = v[0], .y = v[3], .dash = PLOT_DASHED},
    };
    PlotOptions p = PLOT_OPTIONS(.title = "Instruction fine-tuning (the book's chapter 7)",
                                 .xlabel = "epochs", .ylabel = "loss",
                                 .x2label = "tokens seen");
    if (rc >= 0) rc = plot_lines(o->plot, 2, s, p);
    if (rc == 0 && o->ascii) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, 2, s, p);
    }
    if (rc) fprintf(stderr, PROG ": --plot %s\n", tensor_error());
    for (int k = 0; k < 4; k++) free(v[k]);
    return rc ? 1 : 0;
}

/* ---- main -------------------------------------------------------------------------- */

/* Every file the run reads or writes, before any work. */
static bool paths_ok(const Options *o)
{
    CliVocabPaths v;
    cli_vocab_paths(o->tokenizer, o->vocab, &v);
    TensorPath paths[] = {
        {.what = "--responses", .path = o->responses, .output = true},
        {.what = "--save", .path = o->save, .output = true},
        {.what = "--save-lora", .path = o->save_lora, .output = true},
        {.what = "--csv", .path = o->csv, .output = true},
        {.what = "--plot", .path = o->plot, .output = true},
        {.what = "--data", .path = o->data},
        {.what = "--hf-gpt2", .path = o->hf},
        {.what = "--load", .path = o->load},
        {.what = "--load-lora", .path = o->load_lora},
        v.paths[0],
        v.paths[1],
    };
    if (cli_paths_ok(PROG, sizeof paths / sizeof *paths, paths)) return true;
    fprintf(stderr, "%s\n", tensor_error());
    return false;
}

static void run_free(Run *r)
{
    data_loader_free(r->train);
    data_loader_free(r->val);
    data_loader_free(r->test);
    for (int k = 0; k < 3; k++) data_dataset_free(r->sets[k]);
    train_instructions_free(&r->data);
    free(r->start_context);
    optim_free(r->opt);
    nn_module_free(r->model);
    text_tokenizer_free(r->tok);
}

int main(int argc, char **argv)
{
    Options o = {.gpt = {.cfg = NN_GPT_CONFIG_124M, .context_124m = 1024}, .tokenizer = "gpt2",
                 .train = {.lr = 5e-5, .weight_decay = 0.1, .epochs = 2, .batch_size = 8,
                           .eval_freq = 5, .eval_iter = 5, .seed = 123},
                 .max_new_tokens = 256, .lora_alpha = 16};
    int rc = parse(argc, argv, &o);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : rc;
    if ((rc = model_config(&o)) != 0) return rc;
    if (!o.allowed_max_length) o.allowed_max_length = o.gpt.cfg.context_length;
    if (o.lora_rank && nn_gpt_lora_parameters(o.gpt.cfg, o.gpt.cfg.vocab_size, o.lora_rank) < 0) {
        fprintf(stderr, PROG ": --lora-rank: %s\n", tensor_error());
        return 2;
    }
    if (!paths_ok(&o)) return 2;
    if (o.load_lora && (rc = lora_file_fits(&o)) != 0) return rc;
    Run r = {.o = &o};
    if (!(r.tok = cli_tokenizer(PROG, o.tokenizer, o.vocab))) {
        fprintf(stderr, "%s\n", tensor_error());
        return 1;
    }
    if (text_vocab_size(r.tok) > o.gpt.cfg.vocab_size) {
        fprintf(stderr, PROG ": the model's vocabulary (%lld) is smaller than the tokenizer's "
                "(%lld)\n", (long long)o.gpt.cfg.vocab_size, (long long)text_vocab_size(r.tok));
        rc = 2;
    }
    if (!rc && !cli_vocab_decodable(PROG, r.tok, o.gpt.cfg.vocab_size)) {
        fprintf(stderr, "%s\n", tensor_error());
        rc = 2;
    }
    /* --bf16: every product (training, samples, responses, the test loss)
     * in bf16; weights, gradients and AdamW stay float32 (tensor.h). */
    tensor_autocast_begin(o.train.bf16);
    if (!rc) rc = make_data(&r);
    if (!rc) {
        tensor_manual_seed(o.train.seed);
        rc = make_model(&r);
    }
    if (!rc) rc = o.load_lora ? lora_file(&r, false) : train(&r);
    if (!rc && o.save_lora) rc = lora_file(&r, true);
    if (!rc && o.responses) rc = write_responses(&r);
    if (!rc) rc = test_loss(&r);
    if (!rc && o.save) rc = save(&r);
    if (!rc && o.plot) rc = plot_losses(&r);
    tensor_autocast_end();
    run_free(&r);
    return rc;
}
