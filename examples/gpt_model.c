/*
 * The book's chapter-4 outputs, printed as PyTorch prints them: a layer's
 * outputs normalised by hand and by the book's LayerNorm, the gradients of a
 * deep network without and with shortcut connections, and GPTModel
 * (GPT_CONFIG_124M, seed 123): its logits, its parameter count and
 * generate_text_simple's ids.  tests/reference/gen_gpt_model.py prints the
 * same with PyTorch (gpt_model.expected).
 *
 *     gpt_model [--seed N]
 */
#include <stdio.h>
#include <string.h>

#include "attograd.h"

static uint64_t seed = 123;   /* the book's, or --seed's */

static int show(const char *header, const Tensor *t)
{
    if (!t) {
        fprintf(stderr, "gpt_model: %s: %s\n", header, tensor_error());
        return -1;
    }
    printf("%s\n", header);
    tensor_print(t);
    return 0;
}

/* Ids as Python prints a list of lists: [[15496, 11, 314, 716]]. */
static int show_ids(const char *header, const Tensor *ids)
{
    if (!ids) {
        fprintf(stderr, "gpt_model: %s: %s\n", header, tensor_error());
        return -1;
    }
    printf("%s\n[", header);
    for (int64_t b = 0; b < ids->shape[0]; b++) {
        printf("%s[", b ? ", " : "");
        for (int64_t t = 0; t < ids->shape[1]; t++)
            printf("%s%lld", t ? ", " : "", (long long)tensor_get(ids, IDX(b, t)));
        printf("]");
    }
    printf("]\n");
    return 0;
}

/* The mean |gradient| of each layer's weight of the book's deep network
 * (nn_shortcut_gradient_means), printed as one tensor. */
static int gradient_means(bool shortcut)
{
    char header[96];
    snprintf(header, sizeof header, "Mean |gradient| of layers.0-4.0.weight, %s shortcut",
             shortcut ? "with" : "without");
    tensor_manual_seed(seed);
    return show(header, nn_shortcut_gradient_means(shortcut));
}

static int run(void)
{
    int rc = 0;
    tensor_manual_seed(seed);
    Tensor *batch_example = tensor_randn(SHAPE(2, 5));
    Module *layer = nn_sequential();
    nn_append(layer, nn_linear(5, 6, true));
    nn_append(layer, nn_relu());
    layer = nn_module_ok(layer);
    Tensor *out = nn_forward(layer, batch_example);
    char header[96];
    snprintf(header, sizeof header,
             "Sequential(Linear(5, 6), ReLU()) on torch.randn(2, 5) (seed %llu)",
             (unsigned long long)seed);
    rc |= show(header, out);
    Tensor *mean = tensor_mean_dim(out, -1, true), *var = tensor_var_dim(out, -1, 1, true);
    rc |= show("Mean:", tensor_detach(mean));
    rc |= show("Variance:", tensor_detach(var));
    rc |= show("Normalized layer outputs:",
               tensor_detach(tensor_div(tensor_sub(out, mean), tensor_sqrt(var))));
    Module *ln = nn_layer_norm(5);
    Tensor *out_ln = nn_forward(ln, batch_example);
    rc |= show("LayerNorm(5): variance (biased)", tensor_detach(tensor_var_dim(out_ln, -1, 0, true)));
    nn_module_free(ln);
    nn_module_free(layer);

    rc |= gradient_means(false);
    rc |= gradient_means(true);

    tensor_manual_seed(seed);
    Module *model = nn_gpt_model(NN_GPT_CONFIG_124M);
    Tensor *batch = tensor_from_data((const float[]){6109, 3626, 6100, 345, 6109, 1110, 6622, 257},
                                     SHAPE(2, 4));
    rc |= show_ids("Input batch:", batch);
    Tensor *logits = nn_forward(model, batch);   /* train mode: dropout on, as the book */
    if (logits)
        printf("Output shape: torch.Size([%lld, %lld, %lld])\n", (long long)logits->shape[0],
               (long long)logits->shape[1], (long long)logits->shape[2]);
    rc |= tensor_print(tensor_detach(logits)) == 0 ? 0 : -1;
    if (model) {
        char digits[32], grouped[48];
        int n = snprintf(digits, sizeof digits, "%lld", (long long)nn_num_parameters(model));
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0 && (n - i) % 3 == 0) grouped[k++] = ',';
            grouped[k++] = digits[i];
        }
        grouped[k] = '\0';
        printf("Total number of parameters: %s\n", grouped);
    }
    nn_train(model, false);
    Tensor *start = tensor_from_data((const float[]){15496, 11, 314, 716}, SHAPE(1, 4));
    rc |= show_ids("generate_text_simple, 6 new tokens:",
                   nn_generate_text_simple(model, start, 6, 1024));
    rc |= show_ids("generate_text_simple, 10 new tokens:",
                   nn_generate_text_simple(model, start, 10, 1024));
    nn_module_free(model);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: gpt_model [--seed N]\n"
                   "Prints the book's chapter 4 outputs (the GPT of GPT_CONFIG_124M) as\n"
                   "PyTorch prints them. --seed N replaces the book's seed 123 with N.\n");
            return 0;
        }
        if (strcmp(argv[i], "--seed") == 0) {
            if (cli_u64_flag("gpt_model", argc, argv, &i, &seed)) continue;
        } else {
            cli_unknown_option("gpt_model", argv[i]);
        }
        fprintf(stderr, "%s\n", tensor_error());
        return 2;
    }
    int rc = run();
    tensor_cleanup();
    return rc;
}
