/*
 * The book's appendix E as a program prints it (train.h): the counts of
 * trainable parameters around freezing and LoRA, as Python's "{:,}".
 */
#include "train_internal.h"

#include <stdio.h>

const char *train_thousands(int64_t v, char buf[32])
{
    char digits[24];
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(digits, sizeof digits, "%llu", m), k = 0;
    if (v < 0) buf[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

static void count_line(FILE *out, const char *what, const Module *model)
{
    char n[32];
    if (out)
        fprintf(out, "Total trainable %s: %s\n", what,
                train_thousands(nn_num_trainable_parameters(model), n));
}

int train_lora_setup(Module *model, int64_t rank, double alpha, FILE *out)
{
    if (!model) return tensor_set_error("train_lora_setup: the model is NULL"), -1;
    count_line(out, "parameters before", model);
    nn_requires_grad_(model, false);
    count_line(out, "parameters after", model);
    if (nn_replace_linear_with_lora(model, rank, alpha) < 0) return -1;
    count_line(out, "LoRA parameters", model);
    return 0;
}
