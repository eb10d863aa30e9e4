/*
 * Trains an attention module of the book's chapter 3 on the toy
 * teacher-student task (train_toy_* in train/train.h) and plots its loss
 * curve.
 *
 *     train_attention [--model v1|v2|causal|mha] [--optim sgd|adam|adamw] [--lr X]
 *                     [--steps N] [--batch N] [--seed N] [--csv FILE] [--plot FILE.png]
 *                     [--compare v1,v2,...] [--save FILE] [--resume FILE] [--ascii]
 *                     [--log-every N] [--quiet]
 *
 * tests/fuzz/fuzz_flags.c compiles this file (its main renamed) to fuzz
 * parse_options, the program's own parser, in its own process.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attograd.h"

#define PROG "train_attention"
enum { MAX_MODELS = 4 };

typedef struct {
    TrainToyConfig toy;
    int64_t steps, log_every;
    const char *csv, *plot;
    const char *save, *resume; /* checkpoint files, or NULL */
    const char *models[MAX_MODELS];
    int n_models;
    bool compare, ascii, quiet;
    char compare_list[256]; /* --compare's value, split in place */
} Options;

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
    if (strlen(list) >= sizeof o->compare_list)
        return tensor_set_error(PROG ": --compare: list too long"), -1;
    strcpy(o->compare_list, list);
    o->n_models = 0;
    char *rest = NULL;
    for (char *tok = strtok_r(o->compare_list, ",", &rest); tok; tok = strtok_r(NULL, ",", &rest)) {
        if (!train_toy_is_model(tok))
            return tensor_set_error(PROG ": --compare: unknown model '%s' (v1, v2, causal, mha)",
                                    tok), -1;
        if (o->n_models == MAX_MODELS)
            return tensor_set_error(PROG ": --compare: at most %d models", MAX_MODELS), -1;
        o->models[o->n_models++] = tok;
    }
    if (o->n_models == 0) return tensor_set_error(PROG ": --compare: no model given"), -1;
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

/* One flag that takes a value v; 0, or 2 with a message. */
static int parse_value(const char *a, const char *v, Options *o)
{
    if (!strcmp(a, "--model")) {
        if (!train_toy_is_model(v))
            return tensor_set_error(PROG ": --model: unknown model '%s' (v1, v2, causal, mha)",
                                    v), 2;
        o->toy.model = v;
    } else if (!strcmp(a, "--optim")) {
        if (!train_toy_is_optim(v))
            return tensor_set_error(PROG ": --optim: unknown optimizer '%s' (sgd, adam, adamw)",
                                    v), 2;
        o->toy.optim = v;
    } else if (!strcmp(a, "--lr")) {
        if (!cli_double(PROG, a, v, 0.0, 1e3, &o->toy.lr)) return 2;
    } else if (!strcmp(a, "--steps")) {
        if (!cli_int(PROG, a, v, 1, 100000000, &o->steps)) return 2;
    } else if (!strcmp(a, "--batch")) {
        if (!cli_int(PROG, a, v, 1, 1 << 20, &o->toy.batch)) return 2;
    } else if (!strcmp(a, "--seed")) {
        if (!cli_u64(PROG, a, v, &o->toy.seed)) return 2;
    } else if (!strcmp(a, "--log-every")) {
        if (!cli_int(PROG, a, v, 1, 100000000, &o->log_every)) return 2;
    } else if (!strcmp(a, "--compare")) {
        if (parse_models(v, o)) return 2;
        o->compare = true;
    } else if (!*v) {
        return tensor_set_error(PROG ": %s: empty file name", a), 2;
    } else {
        const char **file = !strcmp(a, "--csv")    ? &o->csv
                            : !strcmp(a, "--plot") ? &o->plot
                            : !strcmp(a, "--save") ? &o->save
                                                   : &o->resume;
        *file = v;
    }
    return 0;
}

/* Fills o from argv: 0 to go on, 1 after --help (usage printed to out), 2
 * for a bad flag (its line in tensor_error(), which main prints).  o's
 * strings point into argv.  tests/fuzz/fuzz_flags.c calls it. */
static int parse_options(int argc, char **argv, Options *o, FILE *out)
{
    *o = (Options){.toy = TRAIN_TOY_CONFIG(), .steps = 500, .log_every = 50};
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
    if (o->compare && (o->save || o->resume))
        return tensor_set_error(PROG ": --save and --resume train one model, not --compare"), 2;
    if (!o->compare) {
        o->models[0] = o->toy.model;
        o->n_models = 1;
    }
    return 0;
}

/* base "x.csv" or "x.png" -> "x_<model>.csv"; without compare, base itself. */
static char *csv_path_for(const Options *o, const char *model)
{
    const char *base = o->csv ? o->csv : o->plot;
    if (!base) return NULL;
    char *p = malloc(strlen(base) + strlen(model) + 8);
    if (!p) return NULL;
    if (o->csv && !o->compare) return strcpy(p, base);
    const char *dot = strrchr(base, '.');
    int stem = dot && !strchr(dot, '/') ? (int)(dot - base) : (int)strlen(base);
    sprintf(p, "%.*s_%s.csv", stem, base, model);
    return p;
}

/* Goes on from o->resume, when given: 0, or -1 after a message. */
static int resume(const Options *o, TrainToyRun *run)
{
    if (!o->resume) return 0;
    if (train_toy_resume(run, o->resume)) {
        fprintf(stderr, PROG ": --resume: %s\n", tensor_error());
        return -1;
    }
    if (run->step >= o->steps) {
        fprintf(stderr, PROG ": --resume: %s is at step %lld; --steps %lld leaves nothing to "
                "train\n", o->resume, (long long)run->step, (long long)o->steps);
        return -1;
    }
    return 0;
}

/* Opens the model's CSV: a resumed run keeps the rows of the file already
 * there that its checkpoint covers (a file of another kind is replaced).
 * NULL after a message. */
static PlotCsv *open_csv(const Options *o, const char *path, const TrainToyRun *run)
{
    PlotCsv *csv = plot_csv_open(path, "step,loss");
    if (csv && o->resume) plot_csv_keep(csv, (double)run->step);
    if (!csv) fprintf(stderr, PROG ": --csv %s\n", tensor_error());
    return csv;
}

/* Trains one model; writes its CSV (a run's CSV of the plot room: on disk
 * as the rows come) and the checkpoint; returns 0 or -1. */
static int train(const Options *o, const char *model, const char *csv_path)
{
    TrainToyConfig config = o->toy;
    config.model = model;
    TrainToyRun run;
    if (train_toy_init(&run, &config)) {
        fprintf(stderr, PROG ": cannot build the model: %s\n", tensor_error());
        return -1;
    }
    PlotCsv *csv = NULL;
    if (resume(o, &run) || (csv_path && !(csv = open_csv(o, csv_path, &run)))) {
        train_toy_free(&run);
        return -1;
    }
    int64_t first_step = run.step + 1;
    PlotProgress *bar = plot_progress_new(stderr, !o->quiet && isatty(STDERR_FILENO),
                                          first_step - 1, o->steps);
    float first = NAN, loss = NAN;
    double start = plot_clock();
    int rc = bar ? 0 : -1;
    for (int64_t step = first_step; rc == 0 && step <= o->steps; step++) {
        loss = train_toy_step(&run);
        if (!isfinite(loss)) {
            const char *why = tensor_error();
            plot_progress_clear(bar);
            if (!*why)
                fprintf(stderr, PROG ": step %lld failed: the loss is %g: training diverged "
                                "(try a smaller --lr than %g)\n", (long long)step, (double)loss,
                        o->toy.lr);
            else
                fprintf(stderr, PROG ": step %lld failed: %s\n", (long long)step, why);
            rc = -1;
            break;
        }
        if (step == first_step) first = loss;
        if (csv && plot_csv_row(csv, "%lld,%.9g", (long long)step, (double)loss)) {
            plot_progress_clear(bar);
            fprintf(stderr, PROG ": --csv %s\n", tensor_error());
            rc = -1;
        }
        if (!o->quiet && (step == 1 || step % o->log_every == 0 || step == o->steps)) {
            plot_progress_clear(bar);
            printf("%s step %lld loss %.9g\n", model, (long long)step, (double)loss);
            fflush(stdout);
        }
        plot_progress_step(bar, step, 0);
    }
    plot_progress_free(bar);
    double seconds = plot_clock() - start;
    if (plot_csv_close(csv) && rc == 0) {
        fprintf(stderr, PROG ": --csv %s\n", tensor_error());
        rc = -1;
    }
    if (rc == 0 && o->save && train_toy_save(&run, o->save)) {
        fprintf(stderr, PROG ": --save: %s\n", tensor_error());
        rc = -1;
    }
    if (rc == 0)
        printf("%s: final loss %.6g after %lld steps (first %.6g, %.1fx lower), %.0f steps/s\n",
               model, (double)loss, (long long)o->steps, (double)first, (double)(first / loss),
               (double)(o->steps - first_step + 1) / seconds);
    if (rc == 0 && o->save && !o->quiet)
        printf("checkpoint: %s (step %lld)\n", o->save, (long long)o->steps);
    train_toy_free(&run);
    return rc;
}

/* One colour per model, the same in every picture. */
static const char *model_color(const char *model)
{
    static const char *const names[] = {"v1", "v2", "causal", "mha"};
    static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    for (int i = 0; i < 4; i++)
        if (strcmp(model, names[i]) == 0) return colors[i];
    return NULL;
}

/* Every file, before the first step (a typo does not cost a training run):
 * each output may be written, and no two name one file (--resume and
 * --save may: a run goes on from its checkpoint and replaces it).  The
 * CSVs are each model's (csv[i]). */
static bool paths_ok(const Options *o, char *const *csv)
{
    TensorPath paths[MAX_MODELS + 3] = {
        {.what = "--plot", .path = o->plot, .output = true},
        {.what = "--save", .path = o->save, .output = true, .group = 1},
        {.what = "--resume", .path = o->resume, .group = 1},
    };
    for (int i = 0; i < o->n_models; i++)
        paths[3 + i] = (TensorPath){.what = o->csv ? "--csv" : "--plot's CSV", .path = csv[i],
                                    .output = true};
    if (cli_paths_ok(PROG, 3 + o->n_models, paths)) return true;
    fprintf(stderr, "%s\n", tensor_error());
    return false;
}

static int draw(const Options *o, char *const *csv)
{
    char title[256];
    int n = snprintf(title, sizeof title, "student");
    for (int i = 0; i < o->n_models; i++)
        n += snprintf(title + n, sizeof title - (size_t)n, "%s%s", i ? ", " : " ", o->models[i]);
    snprintf(title + n, sizeof title - (size_t)n, ": %s, lr %g, seed %llu", o->toy.optim,
             o->toy.lr, (unsigned long long)o->toy.seed);
    PlotSeries s[MAX_MODELS];
    for (int i = 0; i < o->n_models; i++)
        s[i] = (PlotSeries){.label = o->models[i], .csv = csv[i], .x_column = "step",
                            .y_column = "loss", .color = model_color(o->models[i])};
    PlotOptions p = PLOT_OPTIONS(.title = title,
                                 .subtitle = "student: learns a fixed teacher; "
                                             "models: the book's ch. 3 modules",
                                 .xlabel = "step", .ylabel = "MSE loss (log scale)", .logy = true);
    int rc = plot_lines(o->plot, o->n_models, s, p);
    if (rc == 0 && (o->ascii || (!o->quiet && isatty(STDOUT_FILENO)))) {
        fflush(stdout);
        rc = plot_lines_ascii(stdout, o->n_models, s, p);
    }
    if (rc) {
        fprintf(stderr, PROG ": --plot %s\n", tensor_error());
        return -1;
    }
    printf("loss curve: %s\n", o->plot);
    return 0;
}

int main(int argc, char **argv)
{
    Options o;
    int rc = parse_options(argc, argv, &o, stdout);
    if (rc == 2) fprintf(stderr, "%s\n", tensor_error());
    if (rc) return rc == 1 ? 0 : 2;
    char *csv[MAX_MODELS] = {0};
    for (int i = 0; i < o.n_models; i++) csv[i] = csv_path_for(&o, o.models[i]);
    if (o.plot && plot_check_path(o.plot)) {
        fprintf(stderr, PROG ": --plot %s\n", tensor_error());
        rc = 2;
    } else if (!paths_ok(&o, csv)) {
        rc = 2;
    }
    for (int i = 0; i < o.n_models && rc == 0; i++)
        rc = train(&o, o.models[i], csv[i]) ? 1 : 0;
    if (rc == 0 && o.plot) rc = draw(&o, csv) ? 1 : 0;
    for (int i = 0; i < o.n_models; i++) free(csv[i]);
    tensor_cleanup();
    return rc;
}
