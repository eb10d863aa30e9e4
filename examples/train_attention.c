/*
 * Trains an attention module of the book's chapter 3 on the toy
 * teacher-student task (toy_task.h) and plots its loss curve.
 *
 *     train_attention [--model v1|v2|causal|mha] [--optim sgd|adam|adamw] [--lr X]
 *                     [--steps N] [--batch N] [--seed N] [--csv FILE] [--plot FILE.png]
 *                     [--compare v1,v2,...] [--save FILE] [--resume FILE] [--ascii]
 *                     [--log-every N] [--quiet]
 *
 * The flags are parsed in train_options.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "toy_task.h"
#include "train_options.h"

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
static int resume(const Options *o, ToyRun *run)
{
    if (!o->resume) return 0;
    if (toy_resume(run, o->resume)) {
        fprintf(stderr, PROG ": --resume: %s\n", tensor_error());
        return -1;
    }
    if (run->step >= o->steps) {
        fprintf(stderr, PROG ": --resume: %s is at step %lld; --steps %ld leaves nothing to train\n",
                o->resume, (long long)run->step, o->steps);
        return -1;
    }
    return 0;
}

/* Opens the model's CSV: a resumed run keeps the rows of the file already
 * there that its checkpoint covers (a file of another kind is replaced).
 * NULL after a message. */
static PlotCsv *open_csv(const Options *o, const char *path, const ToyRun *run)
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
    ToyConfig config = o->toy;
    config.model = model;
    ToyRun run;
    if (toy_init(&run, &config)) {
        fprintf(stderr, PROG ": cannot build the model: %s\n", tensor_error());
        return -1;
    }
    PlotCsv *csv = NULL;
    if (resume(o, &run) || (csv_path && !(csv = open_csv(o, csv_path, &run)))) {
        toy_free(&run);
        return -1;
    }
    long first_step = (long)run.step + 1;
    PlotProgress *bar = plot_progress_new(stderr, !o->quiet && isatty(STDERR_FILENO),
                                          first_step - 1, o->steps);
    float first = NAN, loss = NAN;
    double start = plot_clock();
    int rc = bar ? 0 : -1;
    for (long step = first_step; rc == 0 && step <= o->steps; step++) {
        loss = toy_step(&run);
        if (!isfinite(loss)) {
            const char *why = tensor_error();
            plot_progress_clear(bar);
            if (!*why)
                fprintf(stderr, PROG ": step %ld failed: the loss is %g: training diverged "
                                "(try a smaller --lr than %g)\n", step, (double)loss, o->toy.lr);
            else
                fprintf(stderr, PROG ": step %ld failed: %s\n", step, why);
            rc = -1;
            break;
        }
        if (step == first_step) first = loss;
        if (csv && plot_csv_row(csv, "%ld,%.9g", step, (double)loss)) {
            plot_progress_clear(bar);
            fprintf(stderr, PROG ": --csv %s\n", tensor_error());
            rc = -1;
        }
        if (!o->quiet && (step == 1 || step % o->log_every == 0 || step == o->steps)) {
            plot_progress_clear(bar);
            printf("%s step %ld loss %.9g\n", model, step, (double)loss);
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
    if (rc == 0 && o->save && toy_save(&run, o->save)) {
        fprintf(stderr, PROG ": --save: %s\n", tensor_error());
        rc = -1;
    }
    if (rc == 0)
        printf("%s: final loss %.6g after %ld steps (first %.6g, %.1fx lower), %.0f steps/s\n",
               model, (double)loss, o->steps, (double)first, (double)(first / loss),
               (double)(o->steps - first_step + 1) / seconds);
    if (rc == 0 && o->save && !o->quiet) printf("checkpoint: %s (step %ld)\n", o->save, o->steps);
    toy_free(&run);
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
    return cli_paths_ok(PROG, 3 + o->n_models, paths);
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
    int rc = train_parse_options(argc, argv, &o, stdout);
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
