/* train_attention's command line (see train_options.h). */
#include "train_options.h"

#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: " PROG " [options]\n"
           "Trains a chapter-3 attention module to imitate a SelfAttention_v2 teacher.\n"
           "  --model v1|v2|causal|mha  student module (default v2)\n"
           "  --optim sgd|adam|adamw    optimizer (default adam)\n"
           "  --lr X                    learning rate (default 0.01)\n"
           "  --steps N                 train until step N (default 500)\n"
           "  --batch N                 sequences per batch (default 8)\n"
           "  --seed N                  torch.manual_seed value (default 123)\n"
           "  --csv FILE                write 'step,loss' rows (with --compare: FILE_<model>.csv)\n"
           "  --plot FILE.png           plot the loss curve with gnuplot (log-scale loss)\n"
           "  --compare M1,M2,...       train several models and plot them together\n"
           "  --save FILE               at the end, save a checkpoint (safetensors): the\n"
           "                            student, the optimizer, the generator and the step\n"
           "  --resume FILE             go on from a checkpoint of a run with the same\n"
           "                            --model, --optim, --lr, --seed and --batch; the\n"
           "                            losses are those of one uninterrupted run\n"
           "  --ascii                   also draw the curve in the terminal\n"
           "  --log-every N             print every Nth step (default 50; first and last always)\n"
           "  --quiet                   print only the summary\n"
           "  --help                    this text\n");
}

static int parse_models(const char *list, Options *o)
{
    if (strlen(list) >= sizeof o->compare_list) {
        fprintf(stderr, PROG ": --compare: list too long\n");
        return -1;
    }
    strcpy(o->compare_list, list);
    o->n_models = 0;
    char *rest = NULL;
    for (char *tok = strtok_r(o->compare_list, ",", &rest); tok; tok = strtok_r(NULL, ",", &rest)) {
        if (!toy_is_model(tok)) {
            fprintf(stderr, PROG ": --compare: unknown model '%s' (v1, v2, causal, mha)\n", tok);
            return -1;
        }
        if (o->n_models == MAX_MODELS) {
            fprintf(stderr, PROG ": --compare: at most %d models\n", MAX_MODELS);
            return -1;
        }
        o->models[o->n_models++] = tok;
    }
    if (o->n_models == 0) {
        fprintf(stderr, PROG ": --compare: no model given\n");
        return -1;
    }
    return 0;
}

static bool takes_value(const char *flag)
{
    static const char *const flags[] = {"--model",   "--optim",     "--lr",   "--steps",
                                        "--batch",   "--seed",      "--csv",  "--plot",
                                        "--compare", "--log-every", "--save", "--resume"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(flag, flags[i])) return true;
    return false;
}

/* One flag that takes a value v; 0, or 2 after a message. */
static int parse_value(const char *a, const char *v, Options *o)
{
    long n;
    if (!strcmp(a, "--model")) {
        if (!toy_is_model(v)) {
            fprintf(stderr, PROG ": --model: unknown model '%s' (v1, v2, causal, mha)\n", v);
            return 2;
        }
        o->toy.model = v;
    } else if (!strcmp(a, "--optim")) {
        if (!toy_is_optim(v)) {
            fprintf(stderr, PROG ": --optim: unknown optimizer '%s' (sgd, adam, adamw)\n", v);
            return 2;
        }
        o->toy.optim = v;
    } else if (!strcmp(a, "--lr")) {
        if (!cli_double(PROG, a, v, 0.0, 1e3, &o->toy.lr)) return 2;
    } else if (!strcmp(a, "--steps")) {
        if (!cli_int(PROG, a, v, 1, 100000000, &o->steps)) return 2;
    } else if (!strcmp(a, "--batch")) {
        if (!cli_int(PROG, a, v, 1, 1 << 20, &n)) return 2;
        o->toy.batch = (int)n;
    } else if (!strcmp(a, "--seed")) {
        if (!cli_u64(PROG, a, v, &o->toy.seed)) return 2;
    } else if (!strcmp(a, "--log-every")) {
        if (!cli_int(PROG, a, v, 1, 100000000, &o->log_every)) return 2;
    } else if (!strcmp(a, "--compare")) {
        if (parse_models(v, o)) return 2;
        o->compare = true;
    } else if (!*v) {
        fprintf(stderr, PROG ": %s: empty file name\n", a);
        return 2;
    } else {
        const char **file = !strcmp(a, "--csv")    ? &o->csv
                            : !strcmp(a, "--plot") ? &o->plot
                            : !strcmp(a, "--save") ? &o->save
                                                   : &o->resume;
        *file = v;
    }
    return 0;
}

int train_parse_options(int argc, char **argv, Options *o, FILE *out)
{
    *o = (Options){.toy = toy_defaults(), .steps = 500, .log_every = 50};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int rc;
        if (cli_is_help(a)) {
            usage(out);
            return 1;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--ascii")) {
            o->ascii = true;
        } else if (!takes_value(a)) {
            cli_unknown_option(PROG, a);
            return 2;
        } else if (!(v = cli_value(PROG, argc, argv, &i))) {
            return 2;
        } else if ((rc = parse_value(a, v, o)) != 0) {
            return rc;
        }
    }
    if (o->compare && (o->save || o->resume)) {
        fprintf(stderr, PROG ": --save and --resume train one model, not --compare\n");
        return 2;
    }
    if (!o->compare) {
        o->models[0] = o->toy.model;
        o->n_models = 1;
    }
    return 0;
}
