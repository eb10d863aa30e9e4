/*
 * The book's chapter-3 attention modules, printed as PyTorch prints them.
 * Every tensor below comes out digit for digit as in the book (and as
 * tests/reference/gen_self_attention.py prints it with PyTorch).
 *
 *     self_attention [--seed N]
 */
#include <stdio.h>
#include <string.h>

#include "attograd.h"
#include "book_inputs.h"
#include "cli.h"

static bool override_seed;
static uint64_t seed_value;

/* The book's seed, or --seed's. */
static uint64_t seed(uint64_t book) { return override_seed ? seed_value : book; }

static int show(const char *header, const Tensor *t)
{
    if (!t) {
        fprintf(stderr, "self_attention: %s: %s\n", header ? header : "tensor", tensor_error());
        return -1;
    }
    if (header) printf("%s\n\n", header);
    tensor_print(t);
    return 0;
}

static int run(void)
{
    char header[128];
    int d_in = 3, d_out = 2, rc = 0;
    Tensor *inputs = tensor_from_data(book_inputs, SHAPE(BOOK_T, BOOK_D_IN));
    Tensor *batch = tensor_stack(2, (Tensor *const[]){inputs, inputs}, 0);   /* (2, 6, 3) */
    int64_t context_length = batch->shape[1];

    tensor_manual_seed(seed(123));
    snprintf(header, sizeof header, "torch.rand(3, 2) (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, tensor_rand(SHAPE(3, 2)));

    /* Listing 3.1 */
    tensor_manual_seed(seed(123));
    SelfAttentionV1 *sa_v1 = nn_self_attention_v1(d_in, d_out);
    snprintf(header, sizeof header, "\nSelfAttention_v1 (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(NN(sa_v1), inputs));

    /* Listing 3.2 */
    tensor_manual_seed(seed(789));
    SelfAttentionV2 *sa_v2 = nn_self_attention_v2(d_in, d_out, false);
    snprintf(header, sizeof header, "\nSelfAttention_v2 (seed %llu)", (unsigned long long)seed(789));
    rc |= show(header, nn_forward(NN(sa_v2), inputs));

    /* Exercise 3.1: v1 takes v2's weights (transposed); both then agree. */
    rc |= nn_self_attention_v1_load_v2(sa_v1, sa_v2);
    rc |= show("\nExercise 3.1: SelfAttention_v1 with the weights of SelfAttention_v2",
               nn_forward(NN(sa_v1), inputs));
    printf("\n");
    rc |= show(NULL, nn_forward(NN(sa_v2), inputs));
    nn_module_free(NN(sa_v1));
    nn_module_free(NN(sa_v2));

    tensor_manual_seed(seed(123));
    CausalAttention *ca = nn_causal_attention(d_in, d_out, (int)context_length, 0.0f, false);
    snprintf(header, sizeof header, "\nCausalAttention (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(NN(ca), batch));
    nn_module_free(NN(ca));

    tensor_manual_seed(seed(123));
    MultiHeadAttentionWrapper *wrapper =
        nn_multi_head_attention_wrapper(d_in, d_out, (int)context_length, 0.0f, 2, false);
    snprintf(header, sizeof header, "\nMultiHeadAttentionWrapper (seed %llu)",
             (unsigned long long)seed(123));
    rc |= show(header, nn_forward(NN(wrapper), batch));
    nn_module_free(NN(wrapper));

    tensor_manual_seed(seed(123));
    MultiHeadAttention *mha =
        nn_multi_head_attention(d_in, d_out, (int)context_length, 0.0f, 2, false);
    snprintf(header, sizeof header, "\nMultiHeadAttention (seed %llu)", (unsigned long long)seed(123));
    rc |= show(header, nn_forward(NN(mha), batch));
    nn_module_free(NN(mha));

    tensor_manual_seed(seed(123));
    Dropout *dropout = nn_dropout(0.5f);
    snprintf(header, sizeof header, "\nDropout(0.5) on ones(6, 6) (seed %llu)",
             (unsigned long long)seed(123));
    rc |= show(header, nn_forward(NN(dropout), tensor_ones(SHAPE(6, 6))));
    nn_module_free(NN(dropout));
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: self_attention [--seed N]\n"
                   "Prints the attention outputs of the book's chapter 3 as PyTorch prints\n"
                   "them. --seed N replaces every seed the book uses with N.\n");
            return 0;
        }
        if (strcmp(argv[i], "--seed") == 0) {
            const char *v = cli_value("self_attention", argc, argv, &i);
            if (!v || !cli_u64("self_attention", "--seed", v, &seed_value)) return 2;
            override_seed = true;
            continue;
        }
        fprintf(stderr, "self_attention: unknown option '%s' (see --help)\n", argv[i]);
        return 2;
    }
    int rc = run();
    tensor_cleanup();
    return rc;
}
