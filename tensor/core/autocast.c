/*
 * Autocast (tensor.h): torch.autocast("cpu", dtype=torch.bfloat16) as a
 * region of the calling thread, and the weights' bf16 copies it keeps for
 * generation.
 *
 * The region is a stack of on/off settings, as no_grad's counter but with
 * a value per level (an inner begin(false) turns it off until its end).
 * The products read the setting when they run (ops/matmul.c) and record it
 * in their node, so that their backward computes as they did, wherever it
 * runs: as PyTorch's, whose backward of an autocast product works on the
 * bf16 tensors the forward saved.
 *
 * The copies: under no-grad, a product that reads a long-lived weight as
 * op(B) = W^T (tensor_linear) with few rows of A takes W packed once into
 * bf16 panels (kernels/sgemm.h), kept until the outermost region ends, as
 * PyTorch caches its autocast casts of leaf weights until the region
 * exits.  Each is keyed by the tensor and the version of its storage: an
 * in-place change (an optimizer step) makes a new copy, and tensor_free
 * drops the tensor's (so no later tensor at its address takes it).
 */
#include "core/tensor_internal.h"
#include "kernels/sgemm.h"

#include <stdlib.h>

enum { MAX_LEVELS = 64 };

/* Per thread, as the grad mode. */
static _Thread_local int depth;              /* regions open */
static _Thread_local uint64_t settings;      /* bit i: level i + 1 is on */
static _Thread_local bool on;

typedef struct {
    const Tensor *w;
    const float *data;
    uint64_t version;
    SgemmPanels *panels;
} Copy;
static _Thread_local Copy *copies;
static _Thread_local int n_copies, cap_copies;

static void drop_copies(void)
{
    for (int i = 0; i < n_copies; i++) tensor__panels_free(copies[i].panels);
    free(copies);
    copies = NULL;
    n_copies = cap_copies = 0;
}

void tensor_autocast_begin(bool enabled)
{
    if (depth < MAX_LEVELS) {
        if (enabled)
            settings |= UINT64_C(1) << depth;
        else
            settings &= ~(UINT64_C(1) << depth);
        on = enabled;
    }
    depth++;
}

void tensor_autocast_end(void)
{
    if (depth == 0) return;
    depth--;
    if (depth <= MAX_LEVELS) on = depth > 0 && (settings >> (depth - 1) & 1);
    if (depth == 0) drop_copies();
}

bool tensor_is_autocast_enabled(void) { return on; }

const SgemmPanels *tensor__autocast_panels(const Tensor *w)
{
    if (!on || w->owner || w->ndim != 2 || (w->stride[1] != 1 && w->shape[1] > 1)) return NULL;
    for (int i = 0; i < n_copies; i++) {
        Copy *c = &copies[i];
        if (c->w != w) continue;
        if (c->data == w->data && c->version == *w->version) return c->panels;
        tensor__panels_free(c->panels);
        copies[i] = copies[--n_copies];
        break;
    }
    /* op(B) = W^T: k = in features (W's columns), n = out features. */
    int64_t n = w->shape[0], k = w->shape[1];
    SgemmPanels *p = tensor__panels_new(k, n);
    if (!p) return NULL;   /* out of memory: the products pack as they go */
    tensor__panels_pack(p, true, w->data, w->stride[0], 0, k, 0, n);
    if (n_copies == cap_copies) {
        cap_copies = cap_copies ? 2 * cap_copies : 64;
        copies = tensor__xrealloc(copies, (size_t)cap_copies * sizeof *copies);
    }
    copies[n_copies++] = (Copy){.w = w, .data = w->data, .version = *w->version, .panels = p};
    return p;
}

void tensor__autocast_forget(const Tensor *w)
{
    for (int i = 0; i < n_copies; i++)
        if (copies[i].w == w) {
            tensor__panels_free(copies[i].panels);
            copies[i] = copies[--n_copies];
            return;
        }
}
