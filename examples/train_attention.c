/*
 * Trains an attention module of the book's chapter 3 on the toy
 * teacher-student task (toy_task.h) and plots its loss curve.
 *
 *     train_attention [--model v1|v2|causal|mha] [--optim sgd|adam|adamw] [--lr X]
 *                     [--steps N] [--batch N] [--seed N] [--csv FILE] [--plot FILE.png]
 *                     [--compare v1,v2,...] [--ascii] [--log-every N] [--quiet]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plot.h"
#include "toy_task.h"

#define PROG "train_attention"
enum { MAX_MODELS = 4 };

typedef struct {
    ToyConfig toy;
    long steps, log_every;
    const char *csv, *plot;
    const char *models[MAX_MODELS];
    int n_models;
    bool compare, ascii, quiet;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "Trains a chapter-3 attention module to imitate a SelfAttention_v2 teacher.\n"
            "  --model v1|v2|causal|mha  student module (default v2)\n"
            "  --optim sgd|adam|adamw    optimizer (default adam)\n"
            "  --lr X                    learning rate (default 0.01)\n"
            "  --steps N                 training steps (default 500)\n"
            "  --batch N                 sequences per batch (default 8)\n"
            "  --seed N                  torch.manual_seed value (default 123)\n"
            "  --csv FILE                write 'step,loss' rows (with --compare: FILE_<model>.csv)\n"
            "  --plot FILE.png           plot the loss curve with gnuplot (log-scale loss)\n"
            "  --compare M1,M2,...       train several models and plot them together\n"
            "  --ascii                   also draw the curve in the terminal\n"
            "  --log-every N             print every Nth step (default 50; first and last always)\n"
            "  --quiet                   print only the summary\n"
            "  --help                    this text\n");
}

static int parse_models(const char *list, Options *o)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    o->n_models = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
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
    static const char *const flags[] = {"--model", "--optim", "--lr",  "--steps", "--batch",
                                        "--seed",  "--csv",   "--plot", "--compare",
                                        "--log-every"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(flag, flags[i])) return true;
    return false;
}

/* Returns 0 to go on, 1 after --help, 2 on a bad flag (message printed). */
static int parse(int argc, char **argv, Options *o)
{
    *o = (Options){.toy = toy_defaults(), .steps = 500, .log_every = 50};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--ascii")) {
            o->ascii = true;
        } else if (!takes_value(a)) {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!(v = cli_value(PROG, argc, argv, &i))) {
            return 2;
        } else if (!strcmp(a, "--model")) {
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
        } else if (!strcmp(a, "--csv")) {
            o->csv = v;
        } else if (!strcmp(a, "--compare")) {
            if (parse_models(v, o)) return 2;
            o->compare = true;
        } else {   /* --plot */
            o->plot = v;
        }
    }
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

/* Trains one model; writes its CSV (through a temporary file, so a failed
 * run leaves no half-written file); returns 0 or -1. */
static int train(const Options *o, const char *model, const char *csv_path)
{
    ToyConfig config = o->toy;
    config.model = model;
    ToyRun run;
    if (toy_init(&run, &config)) {
        fprintf(stderr, PROG ": cannot build the model: %s\n", tensor_error());
        return -1;
    }
    char tmp[4096];
    FILE *csv = NULL;
    if (csv_path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", csv_path);
        if (!(csv = fopen(tmp, "w"))) {
            fprintf(stderr, PROG ": cannot write %s\n", tmp);
            toy_free(&run);
            return -1;
        }
        fprintf(csv, "step,loss\n");
    }
    bool bar = !o->quiet && isatty(STDERR_FILENO);
    float first = NAN, loss = NAN;
    double start = now();
    int rc = 0;
    for (long step = 1; step <= o->steps; step++) {
        loss = toy_step(&run);
        if (isnan(loss)) {
            fprintf(stderr, PROG ": step %ld failed: %s\n", step, tensor_error());
            rc = -1;
            break;
        }
        if (step == 1) first = loss;
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
    if (rc == 0)
        printf("%s: final loss %.6g after %ld steps (first %.6g, %.1fx lower), %.0f steps/s\n",
               model, (double)loss, o->steps, (double)first, (double)(first / loss),
               (double)o->steps / seconds);
    toy_free(&run);
    return rc;
}

int main(int argc, char **argv)
{
    Options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : 2;
    char *csv[MAX_MODELS] = {0};
    for (int i = 0; i < o.n_models && rc == 0; i++) {
        csv[i] = csv_path_for(&o, o.models[i]);
        rc = train(&o, o.models[i], csv[i]);
    }
    if (rc == 0 && o.plot) {
        char title[256];
        int n = snprintf(title, sizeof title, "student");
        for (int i = 0; i < o.n_models; i++)
            n += snprintf(title + n, sizeof title - (size_t)n, "%s%s", i ? ", " : " ", o.models[i]);
        snprintf(title + n, sizeof title - (size_t)n, ": %s, lr %g, seed %llu", o.toy.optim,
                 o.toy.lr, (unsigned long long)o.toy.seed);
        bool ascii = o.ascii || (!o.quiet && isatty(STDOUT_FILENO));
        if (plot_loss_curves(o.plot, title, o.n_models, csv, o.models, ascii, stdout) == 0)
            printf("loss curve: %s\n", o.plot);
    }
    for (int i = 0; i < o.n_models; i++) free(csv[i]);
    tensor_cleanup();
    return rc ? 1 : 0;
}
