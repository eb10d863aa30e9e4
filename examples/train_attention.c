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
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plot.h"
#include "subprocess.h"
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

static void progress(long step, long steps)
{
    int width = 40, done = (int)(width * step / steps);
    fprintf(stderr, "\r[%.*s%*s] %ld/%ld", done, "########################################",
            width - done, "", step, steps);
    if (step == steps) fprintf(stderr, "\r%*s\r", width + 30, "");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

/* Trains one model; writes its CSV (through a temporary file, so a failed
 * run leaves no half-written file) and the checkpoint; returns 0 or -1. */
static int train(const Options *o, const char *model, const char *csv_path)
{
    ToyConfig config = o->toy;
    config.model = model;
    ToyRun run;
    if (toy_init(&run, &config)) {
        fprintf(stderr, PROG ": cannot build the model: %s\n", tensor_error());
        return -1;
    }
    if (resume(o, &run)) {
        toy_free(&run);
        return -1;
    }
    char tmp[4096];
    FILE *csv = NULL;
    if (csv_path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", csv_path);
        if (!(csv = fopen(tmp, "w"))) {
            fprintf(stderr, PROG ": --csv %s: cannot write %s: %s\n", csv_path, tmp,
                    strerror(errno));
            toy_free(&run);
            return -1;
        }
        fprintf(csv, "step,loss\n");
    }
    bool bar = !o->quiet && isatty(STDERR_FILENO);
    float first = NAN, loss = NAN;
    double start = now();
    int rc = 0;
    long first_step = (long)run.step + 1;
    for (long step = first_step; step <= o->steps; step++) {
        loss = toy_step(&run);
        if (!isfinite(loss)) {
            const char *why = tensor_error();
            if (!*why)
                fprintf(stderr, PROG ": step %ld failed: the loss is %g: training diverged "
                                "(try a smaller --lr than %g)\n", step, (double)loss, o->toy.lr);
            else
                fprintf(stderr, PROG ": step %ld failed: %s\n", step, why);
            rc = -1;
            break;
        }
        if (step == first_step) first = loss;
        if (csv) fprintf(csv, "%ld,%.9g\n", step, (double)loss);
        if (!o->quiet && (step == 1 || step % o->log_every == 0 || step == o->steps)) {
            if (bar) fprintf(stderr, "\r%*s\r", 70, "");
            printf("%s step %ld loss %.9g\n", model, step, (double)loss);
            fflush(stdout);
        }
        if (bar && (step % 10 == 0 || step == o->steps)) progress(step, o->steps);
    }
    double seconds = now() - start;
    if (csv) {
        if (fclose(csv) != 0 || rc != 0 || rename(tmp, csv_path) != 0) {
            remove(tmp);
            if (rc == 0) fprintf(stderr, PROG ": cannot write %s\n", csv_path);
            rc = -1;
        }
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

/* Every output path can be written: checked before the first step, so a
 * typo does not cost a training run.  0, or -1 after a message. */
static int check_outputs(const Options *o)
{
    const char *flags[] = {"--csv", "--plot", "--save"};
    const char *paths[] = {o->csv, o->plot, o->save};
    char why[512];
    for (int i = 0; i < 3; i++) {
        if (paths[i] && output_path_check(paths[i], why, sizeof why)) {
            fprintf(stderr, PROG ": %s %s\n", flags[i], why);
            return -1;
        }
    }
    if (o->plot && !plot_terminal(o->plot)) {
        fprintf(stderr, PROG ": --plot %s: unknown picture type (.png, .svg or .pdf)\n", o->plot);
        return -1;
    }
    return 0;
}

static int draw(const Options *o, char *const *csv)
{
    char title[256];
    int n = snprintf(title, sizeof title, "student");
    for (int i = 0; i < o->n_models; i++)
        n += snprintf(title + n, sizeof title - (size_t)n, "%s%s", i ? ", " : " ", o->models[i]);
    snprintf(title + n, sizeof title - (size_t)n, ": %s, lr %g, seed %llu", o->toy.optim,
             o->toy.lr, (unsigned long long)o->toy.seed);
    Plot p = {.title = title,
              .subtitle = "student: learns a fixed teacher; "
                          "models: the book's ch. 3 modules",
              .xlabel = "step", .ylabel = "MSE loss (log scale)", .logy = true,
              .n = o->n_models};
    for (int i = 0; i < o->n_models; i++)
        p.curves[i] = (PlotCurve){.csv = csv[i], .x = 1, .y = 2, .label = o->models[i],
                                  .color = model_color(o->models[i])};
    bool ascii = o->ascii || (!o->quiet && isatty(STDOUT_FILENO));
    char why[512];
    if (plot_render(&p, o->plot, ascii, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": --plot %s\n", why);
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
    rc = check_outputs(&o);
    char *csv[MAX_MODELS] = {0};
    for (int i = 0; i < o.n_models && rc == 0; i++) {
        csv[i] = csv_path_for(&o, o.models[i]);
        if (csv[i]) {
            char why[512];
            if (output_path_check(csv[i], why, sizeof why)) {
                fprintf(stderr, PROG ": --csv %s\n", why);
                rc = -1;
            }
        }
    }
    for (int i = 0; i < o.n_models && rc == 0; i++) rc = train(&o, o.models[i], csv[i]);
    if (rc == 0 && o.plot) rc = draw(&o, csv);
    for (int i = 0; i < o.n_models; i++) free(csv[i]);
    tensor_cleanup();
    return rc ? 1 : 0;
}
