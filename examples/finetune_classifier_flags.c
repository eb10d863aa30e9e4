/*
 * finetune_classifier's command line (finetune_classifier.h): --help, the
 * flags into Options (the GPT's configuration and the training flags
 * through the cli room) and the rules between them, and every file the
 * run reads or writes checked before any work.
 */
#include <stdio.h>
#include <string.h>

#include "finetune_classifier.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " --data FILE [flags]\n"
            "  The book's chapter 6: a GPT fine-tuned to tell spam from ham (SMS Spam\n"
            "  Collection), printing its loss and accuracy lines, then the accuracies on\n"
            "  the whole training, validation and test sets.\n"
            "  --data FILE               the SMS Spam Collection (label<TAB>text lines)\n"
            "  --hf-gpt2 FILE            GPT-2's weights (Hugging Face's model.safetensors)\n"
            "  --load FILE               a train_gpt checkpoint, or a classifier --save wrote\n"
            "  --config 124M|book-test --vocab-size N --context-length N --emb-dim N\n"
            "  --n-heads N --n-layers N --drop-rate X --qkv-bias\n"
            "                            a fresh GPT (default 124M, context 1024)\n"
            "  --tokenizer gpt2|bytes    GPT-2's BPE (default; pad 50256) or bytes (pad 255)\n"
            "  --vocab DIR               GPT-2's encoder.json and vocab.bpe (./run vocab)\n"
            "  --max-length N            cut every text to N tokens (default: the longest\n"
            "                            training text)\n"
            "  --trainable last-block|all|head   what trains (default the book's last-block:\n"
            "                            the last block, the final norm and the head)\n"
            "  --lora-rank N --lora-alpha X   appendix E: LoRA on every Linear, the rest\n"
            "                            frozen (alpha defaults to the rank)\n"
            "  --epochs N --lr X --weight-decay X --batch-size N   (default 5, 5e-5, 0.1, 8)\n"
            "  --eval-freq N --eval-iter N   (default 50, 5)\n"
            "  --seed N                  torch.manual_seed (default 123)\n"
            "  --classify TEXT           after training, print spam or not spam (repeatable)\n"
            "  --csv FILE                step,epoch,examples_seen,train_loss,val_loss,\n"
            "                            train_acc,val_acc (a row per evaluation and per epoch)\n"
            "  --plot FILE.png|svg|pdf   the losses against epochs, examples seen on top\n"
            "  --plot-accuracy FILE      the accuracies likewise; --ascii: both on stdout too\n"
            "  --save FILE               the fine-tuned classifier (safetensors; --load reads it)\n"
            "  --save-lora FILE          with --lora-rank: the LoRA weights and the new head\n"
            "                            alone (megabytes), to put back on the same GPT\n"
            "  --load-lora FILE          no training: a --save-lora file on the GPT it was\n"
            "                            trained on (--hf-gpt2, --load or the config and\n"
            "                            --seed; --lora-rank and --lora-alpha as it was\n"
            "                            trained), then the accuracies (with --data),\n"
            "                            --classify and --save\n"
            "  --count-parameters        with --lora-rank: print the book's three trainable-\n"
            "                            parameter lines from the shapes alone, and stop\n"
            "  --bf16                    bfloat16 products (float32 sums), as the run under\n"
            "                            torch.autocast(\"cpu\", dtype=torch.bfloat16)\n");
}

static bool trainable_flag(int argc, char **argv, int *i, Options *o)
{
    const char *v = cli_value(PROG, argc, argv, i);
    if (!v) return false;
    if (strcmp(v, "last-block") == 0) o->trainable = TRAIN_TRAINABLE_LAST_BLOCK;
    else if (strcmp(v, "all") == 0) o->trainable = TRAIN_TRAINABLE_ALL;
    else if (strcmp(v, "head") == 0) o->trainable = TRAIN_TRAINABLE_HEAD;
    else {
        tensor_set_error(PROG ": --trainable: '%s' is not last-block, all or head", v);
        return false;
    }
    o->trainable_set = true;
    return true;
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
            if (strcmp(a, "--n-heads") == 0) o->heads_set = true;
            else if (strcmp(a, "--drop-rate") == 0) o->drop_set = true;
            else o->config_set = true;
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
        } else if (strcmp(a, "--max-length") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 24, &o->max_length);
        } else if (strcmp(a, "--trainable") == 0) {
            ok = trainable_flag(argc, argv, &i, o);
        } else if (strcmp(a, "--lora-rank") == 0) {
            ok = cli_int_flag(PROG, argc, argv, &i, 1, 1L << 24, &o->lora_rank);
        } else if (strcmp(a, "--lora-alpha") == 0) {
            ok = cli_double_flag(PROG, argc, argv, &i, 1e-6, 1e6, &o->lora_alpha);
            o->alpha_set = true;
        } else if (strcmp(a, "--classify") == 0) {
            const char *t = cli_value(PROG, argc, argv, &i);
            ok = t && *t && o->n_classify < MAX_CLASSIFY;
            if (ok) o->classify[o->n_classify++] = t;
            else if (t && !*t) tensor_set_error(PROG ": --classify: the text is empty");
            else if (t) tensor_set_error(PROG ": --classify: at most %d texts", MAX_CLASSIFY);
        } else if (strcmp(a, "--csv") == 0) {
            ok = (o->csv = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--plot") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->plot);
        } else if (strcmp(a, "--plot-accuracy") == 0) {
            ok = cli_picture_flag(PROG, argc, argv, &i, &o->plot_accuracy);
        } else if (strcmp(a, "--save") == 0) {
            ok = (o->save = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--save-lora") == 0) {
            ok = (o->save_lora = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--load-lora") == 0) {
            ok = (o->load_lora = cli_value(PROG, argc, argv, &i)) != NULL;
        } else if (strcmp(a, "--count-parameters") == 0) {
            o->count_only = true;
        } else if (strcmp(a, "--ascii") == 0) {
            o->ascii = true;
        } else {
            ok = cli_unknown_option(PROG, a);
        }
        if (!ok) return 2;
    }
    const char *why = NULL;
    if (o->hf && o->load) why = "--load and --hf-gpt2 exclude each other (one model)";
    else if ((o->hf || o->load) && o->config_set)
        why = "the model's sizes come from --hf-gpt2 or --load: no --config, --vocab-size, "
              "--context-length, --emb-dim, --n-layers or --qkv-bias with them";
    else if (o->lora_rank && o->trainable_set)
        why = "--trainable and --lora-rank exclude each other (LoRA trains its own weights)";
    else if (o->alpha_set && !o->lora_rank) why = "--lora-alpha needs --lora-rank N";
    else if (o->count_only && !o->lora_rank) why = "--count-parameters needs --lora-rank N";
    else if ((o->plot || o->plot_accuracy || o->csv) && o->train.epochs == 0)
        why = "--csv, --plot and --plot-accuracy need --epochs 1 or more (they show training)";
    else if (!o->data && !o->count_only && !o->load && !o->load_lora)
        why = "--data FILE is needed (the SMS Spam Collection: see README)";
    else if (o->save_lora && !o->lora_rank)
        why = "--save-lora needs --lora-rank N (the weights it saves)";
    else if (o->load_lora && (o->save_lora || o->count_only))
        why = "--load-lora excludes --save-lora and --count-parameters (no training)";
    else if (o->load_lora && (o->plot || o->plot_accuracy || o->csv))
        why = "--csv, --plot and --plot-accuracy show training: not with --load-lora";
    if (why) {
        tensor_set_error(PROG ": %s", why);
        return 2;
    }
    if (!o->alpha_set) o->lora_alpha = (double)o->lora_rank;
    if (o->tokenizer && strcmp(o->tokenizer, "bytes") == 0 && !o->gpt.vocab_set && !o->hf &&
        !o->load)
        o->gpt.cfg.vocab_size = 256;
    return 0;
}

/* Every file, before any work. */
bool paths_ok(const Options *o)
{
    CliVocabPaths v;
    cli_vocab_paths(o->count_only ? "bytes" : o->tokenizer, o->vocab, &v);  /* counts: none */
    TensorPath paths[] = {
        {.what = "--csv", .path = o->csv, .output = true},
        {.what = "--plot", .path = o->plot, .output = true},
        {.what = "--plot-accuracy", .path = o->plot_accuracy, .output = true},
        {.what = "--save", .path = o->save, .output = true},
        {.what = "--save-lora", .path = o->save_lora, .output = true},
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
