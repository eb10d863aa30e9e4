/*
 * Each op's backward in symbols and in words, for a reader of a traced
 * backward (tensor.h, "Teaching: the backward, step by step"): the forward
 * line, the gradients its backward computes from the output's, and one
 * sentence on why.  dY is the output's gradient, dX an input's.  A test
 * walks the op table and fails when an op has no entry here.
 */
#include "core/tensor_internal.h"

typedef struct {
    const char *forward, *backward, *words;
} Formula;

static const Formula formulas[OP_COUNT] = {
    [OP_ADD] = {"Y = A + B", "dA = dY, dB = dY",
                "A + sends its gradient unchanged to both inputs (an input that was broadcast "
                "sums it over the dims it was repeated along)."},
    [OP_SUB] = {"Y = A - B", "dA = dY, dB = -dY",
                "A difference sends the gradient to the first input and its negative to the "
                "second."},
    [OP_MUL] = {"Y = A * B", "dA = dY * B, dB = dY * A",
                "Each factor's gradient is the output's times the other factor."},
    [OP_DIV] = {"Y = A / B", "dA = dY / B, dB = -dY * A / B^2",
                "The quotient rule, element by element."},
    [OP_ADD_SCALAR] = {"Y = X + c", "dX = dY", "Adding a constant passes the gradient through."},
    [OP_SUB_SCALAR] = {"Y = X - c", "dX = dY",
                       "Subtracting a constant passes the gradient through."},
    [OP_MUL_SCALAR] = {"Y = X * c", "dX = dY * c", "A constant factor scales the gradient."},
    [OP_DIV_SCALAR] = {"Y = X / c", "dX = dY / c",
                       "Dividing by a constant divides the gradient by it too."},
    [OP_NEG] = {"Y = -X", "dX = -dY", "Negation flips the gradient's sign."},
    [OP_POW] = {"Y = X^p", "dX = dY * p * X^(p-1)", "The power rule, element by element."},
    [OP_EXP] = {"Y = exp(X)", "dX = dY * Y", "exp is its own derivative: the output is reused."},
    [OP_LOG] = {"Y = log(X)", "dX = dY / X", "The derivative of log x is 1 / x."},
    [OP_SQRT] = {"Y = sqrt(X)", "dX = dY / (2 * Y)",
                 "The derivative of sqrt x is 1 / (2 sqrt x): the output is reused."},
    [OP_TANH] = {"Y = tanh(X)", "dX = dY * (1 - Y^2)",
                 "tanh's derivative is 1 - tanh^2: the output is reused."},
    [OP_SIGMOID] = {"Y = sigmoid(X)", "dX = dY * Y * (1 - Y)",
                    "sigmoid's derivative is s (1 - s): the output is reused."},
    [OP_RELU] = {"Y = max(X, 0)", "dX = dY where X > 0, else 0",
                 "ReLU lets the gradient through where it let the input through."},
    [OP_GELU] = {"Y = 0.5 X (1 + tanh a), a = sqrt(2/pi) (X + 0.044715 X^3)",
                 "dX = dY * (0.5 (1 + tanh a) + 0.5 X (1 - tanh^2 a) sqrt(2/pi) "
                 "(1 + 3 * 0.044715 X^2))",
                 "GELU's derivative, by the product and chain rules, element by element."},
    [OP_ABS] = {"Y = |X|", "dX = dY * sign(X)", "The gradient keeps or flips its sign with X's."},
    [OP_CLAMP] = {"Y = clamp(X, lo, hi)", "dX = dY where lo <= X <= hi, else 0",
                  "Where the input was clipped, a nudge changes nothing: no gradient."},
    [OP_CLONE] = {"Y = X (a copy)", "dX = dY", "A copy passes the gradient through."},
    [OP_RSUB_SCALAR] = {"Y = c - X", "dX = -dY", "Subtracting from a constant flips the sign."},
    [OP_RECIPROCAL] = {"Y = 1 / X", "dX = -dY * Y^2",
                       "The derivative of 1 / x is -1 / x^2: the output is reused."},
    [OP_SILU] = {"Y = X * sigmoid(X)", "dX = dY * s (1 + X (1 - s)), s = sigmoid(X)",
                 "The product rule on x times sigmoid x."},
    [OP_LEAKY_RELU] = {"Y = X where X > 0, else slope * X",
                       "dX = dY where X > 0, else slope * dY",
                       "The slope that was applied scales the gradient."},
    [OP_SOFTPLUS] = {"Y = log(1 + exp(beta X)) / beta", "dX = dY * sigmoid(beta X)",
                     "softplus's derivative is the sigmoid (dY itself past the threshold)."},
    [OP_SUM] = {"Y = sum(X)", "dX = dY for every element",
                "Every element counts once in a sum: each gets the whole gradient."},
    [OP_SUM_DIM] = {"Y = sum(X, dim)", "dX = dY repeated along dim",
                    "Each element gets the gradient of the sum it went into."},
    [OP_MEAN] = {"Y = mean(X) over n elements", "dX = dY / n for every element",
                 "Each element counts 1/n in a mean."},
    [OP_MEAN_DIM] = {"Y = mean(X, dim)", "dX = dY / size(dim), repeated along dim",
                     "Each element counts 1/size in its mean."},
    [OP_MAX_DIM] = {"Y = max(X, dim)", "dX = dY at each max's place, 0 elsewhere",
                    "Only the element that was the max moved the output."},
    [OP_VAR] = {"Y = sum((X - mean)^2) / (n - c)", "dX = dY * 2 (X - mean) / (n - c)",
                "Each element's pull on the variance is its distance from the mean."},
    [OP_AMAX] = {"Y = amax(X, dims)", "dX = dY shared equally by the elements equal to the max",
                 "Only the max moved the output; a tie shares the gradient."},
    [OP_TOPK] = {"Y = the k largest of X", "dX = dY back at the places they came from",
                 "Each chosen element gets its own gradient; the others get none."},
    [OP_MATMUL] = {"C = A @ B", "dA = dC @ B^T, dB = A^T @ dC",
                   "A matrix product: each input's gradient is the output's gradient times the "
                   "other input, transposed (a batched product: for each matrix of the batch; "
                   "PyTorch names that node UnsafeViewBackward0)."},
    [OP_LINEAR] = {"Y = X @ W^T + b", "dX = dY @ W, dW = dY^T @ X, db = colsum(dY)",
                   "A Linear layer: a matrix product plus a bias added to every row, so the "
                   "bias's gradient sums the rows of dY.  One node here, under the name PyTorch "
                   "gives the last of the few it records (AddmmBackward0; MmBackward0 without "
                   "a bias; for X of more than 2 dims ViewBackward0, UnsafeViewBackward0 or "
                   "AddBackward0)."},
    [OP_SOFTMAX] = {"Y = softmax(X) along dim", "dX = Y * (dY - rowsum(dY * Y))",
                    "Softmax's Jacobian is diag(y) - y y^T on each row; the backward applies it "
                    "to dY without building it: subtract the row's weighted mean of dY, then "
                    "scale by y."},
    [OP_LOG_SOFTMAX] = {"Y = log_softmax(X) along dim", "dX = dY - exp(Y) * rowsum(dY)",
                        "log_softmax's Jacobian is I - 1 softmax^T on each row."},
    [OP_CAUSAL_SOFTMAX] = {"Y = softmax(masked(X) / d) along the last dim",
                           "dX = Y * (dY - rowsum(dY * Y)) / d, 0 where masked",
                           "Softmax's backward, divided by the scale; a masked (future) "
                           "position has weight 0 and gets no gradient."},
    [OP_MASKED_FILL] = {"Y = X where mask == 0, value where mask != 0",
                        "dX = dY where mask == 0, else 0",
                        "A filled place no longer depends on X: no gradient flows to it."},
    [OP_TRIU] = {"Y = triu(X)", "dX = triu(dY)", "The zeroed places get no gradient."},
    [OP_TRIL] = {"Y = tril(X)", "dX = tril(dY)", "The zeroed places get no gradient."},
    [OP_MATMUL_TRIL] = {"C = tril(A @ B)", "dA = tril(dC) @ B^T, dB = A^T @ tril(dC)",
                        "The causal scores: a matrix product of which only the places on or "
                        "below the diagonal are computed, so only their gradient flows back."},
    [OP_TRIL_MATMUL] = {"C = tril(A) @ B", "dA = tril(dC @ B^T), dB = tril(A)^T @ dC",
                        "The causal context: the weights above the diagonal are zeros, so "
                        "they take part in no product and get no gradient."},
    [OP_VIEW] = {"Y = X viewed as another shape", "dX = dY viewed as X's shape",
                 "The same elements in another shape: the gradient is reshaped back."},
    [OP_TRANSPOSE] = {"Y = X with two dims swapped", "dX = dY with them swapped back",
                      "A transpose moves elements; the gradient moves back."},
    [OP_PERMUTE] = {"Y = X with its dims reordered", "dX = dY with the order undone",
                    "A permutation moves elements; the gradient moves back."},
    [OP_NARROW] = {"Y = a slice of X", "dX = dY inside the slice, 0 elsewhere",
                   "Elements outside the slice did not reach the output."},
    [OP_UNSQUEEZE] = {"Y = X with a dim of size 1 added", "dX = dY with that dim removed",
                      "Only the shape changed."},
    [OP_SQUEEZE] = {"Y = X with a dim of size 1 removed", "dX = dY with that dim put back",
                    "Only the shape changed."},
    [OP_EXPAND] = {"Y = X repeated along its dims of size 1",
                   "dX = dY summed over the repeated dims",
                   "An element used many times gets the sum of its copies' gradients."},
    [OP_SQUEEZE_ALL] = {"Y = X with every dim of size 1 removed",
                        "dX = dY with those dims put back", "Only the shape changed."},
    [OP_WHERE] = {"Y = A where cond, else B", "dA = dY where cond, dB = dY elsewhere",
                  "Each place's gradient goes to the input it came from."},
    [OP_MAXIMUM] = {"Y = max(A, B)", "dA = dY where A > B, dB = dY where B > A, half each at a tie",
                    "The larger input moved the output."},
    [OP_MINIMUM] = {"Y = min(A, B)", "dA = dY where A < B, dB = dY where B < A, half each at a tie",
                    "The smaller input moved the output."},
    [OP_CAT] = {"Y = cat(X1, X2, ..., dim)", "dXi = the slice of dY that Xi filled",
                "Each input gets back its own part of the gradient."},
    [OP_STACK] = {"Y = stack(X1, X2, ..., dim)", "dXi = dY[i] along dim",
                  "Each input gets back its own part of the gradient."},
    [OP_INDEX_SELECT] = {"Y = X[index] along dim", "dX = dY's rows added back at the rows read",
                         "A row read twice gets both gradients."},
    [OP_EMBEDDING] = {"Y = W[ids]", "dW = dY's rows added back at the ids' rows",
                      "Only the rows looked up get a gradient; a token seen twice adds both."},
    [OP_GATHER] = {"Y = gather(X, dim, index)", "dX = dY added back at the places read",
                   "A place read twice gets both gradients."},
    [OP_LAYER_NORM] = {"Y = w * xhat + b, xhat = (X - mean) / sigma, sigma = sqrt(var + eps), "
                       "row by row",
                       "dX = (1/sigma) (g - mean(g) - xhat * mean(g * xhat)), g = dY * w; "
                       "dw = colsum(dY * xhat), db = colsum(dY)",
                       "Every element of a row moves its mean and variance, so each element's "
                       "gradient depends on the whole row (derived in docs/adding_an_op.md)."},
    [OP_DROPOUT] = {"Y = X * mask / (1 - p)", "dX = dY * mask / (1 - p)",
                    "The places dropped get no gradient; the rest are scaled as in the forward."},
    [OP_MSE_LOSS] = {"L = mean((P - T)^2) over n elements", "dP = dL * 2 (P - T) / n",
                     "Each prediction is pulled towards its target in proportion to its error."},
    [OP_BCE] = {"L = -mean(T log P + (1 - T) log(1 - P))", "dP = dL (P - T) / (P (1 - P) n)",
                "Binary cross-entropy's derivative with respect to each probability."},
    [OP_BCE_WITH_LOGITS] = {"L = mean(BCE(sigmoid(Z), T))", "dZ = dL (sigmoid(Z) - T) / n",
                            "Through the sigmoid, the gradient is the error of the probability "
                            "(each positive term scaled by pos_weight when given)."},
    [OP_CROSS_ENTROPY] = {"L = mean(-log softmax(Z)[target])",
                          "dZ = dL (softmax(Z) - onehot(target)) / n",
                          "The predicted probabilities minus the one-hot target, row by row."},
    [OP_NLL_LOSS] = {"L = mean(-X[target])", "dX = -dL / n at each target's place, 0 elsewhere",
                     "Only the log-probability of each target enters the loss."},
    [OP_FUNCTION] = {"Y = your function's forward", "dX = what your backward returns",
                     "A function of your own (tensor_function_apply): its backward is yours."},
};

/* 0, and the three strings, for node's op; -1 for an op without an entry
 * (a test keeps that from happening). */
int tensor__op_formula(const TensorNode *node, const char **forward, const char **backward,
                       const char **words)
{
    const Formula *f = &formulas[node->op];
    if (!f->forward) return -1;
    *forward = f->forward;
    *backward = f->backward;
    *words = f->words;
    return 0;
}

bool tensor__op_has_formula(int op)
{
    return op >= 0 && op < OP_COUNT && formulas[op].forward && formulas[op].backward &&
           formulas[op].words;
}
