/* A progress bar on a stream (see plot.h). */
#include "plot/plot_internal.h"

#include <stdlib.h>
#include <time.h>

enum { BAR = 40, LINE = 100 }; /* LINE: wider than any bar drawn */

struct PlotProgress {
    FILE *stream;
    bool on;
    int64_t first, total;        /* steps done when this process began, of the whole run */
    int64_t tokens;              /* tokens seen by this process */
    double start, drawn;         /* plot_clock(): began, last drawn */
    bool visible;                /* a bar is on the terminal's last line */
};

double plot_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *plot_duration(double seconds, char *buf, size_t n)
{
    long s = seconds > 0 && seconds < 1e9 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600) snprintf(buf, n, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60) snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
    else snprintf(buf, n, "%lds", s);
    return buf;
}

PlotProgress *plot_progress_new(FILE *stream, bool draw, int64_t first, int64_t total)
{
    if (!stream || first < 0 || total < 0)
        return tensor_set_error("progress: %s stream, %lld of %lld steps done", stream ? "a" : "a NULL",
                                (long long)first, (long long)total);
    PlotProgress *p = malloc(sizeof *p);
    if (!p) return tensor_set_error("progress: out of memory");
    *p = (PlotProgress){.stream = stream, .on = draw, .first = first, .total = total,
                        .start = plot_clock()};
    return p;
}

void plot_progress_step(PlotProgress *p, int64_t done, int64_t tokens)
{
    if (!p) return;
    p->tokens += tokens;
    double t = plot_clock();
    if (!p->on || (t - p->drawn < 0.2 && done < p->total)) return;
    p->drawn = t;
    double elapsed = t - p->start;
    int64_t here = done - p->first;
    double rate = elapsed <= 0 ? 0 : p->tokens > 0 ? (double)p->tokens / elapsed
                                                   : (double)here / elapsed;
    double eta = here > 0 ? elapsed / (double)here * (double)(p->total - done) : 0;
    int fill = p->total > 0 && done <= p->total ? (int)(BAR * done / p->total) : BAR;
    char when[32];
    fprintf(p->stream, "\r[%.*s%.*s] %5lld/%lld  %.0f %s  ETA %s ", fill,
            "########################################", BAR - fill,
            "........................................", (long long)done, (long long)p->total,
            rate, p->tokens > 0 ? "tok/s" : "steps/s", plot_duration(eta, when, sizeof when));
    fflush(p->stream);
    p->visible = true;
}

void plot_progress_clear(PlotProgress *p)
{
    if (!p || !p->visible) return;
    fprintf(p->stream, "\r%*s\r", LINE, "");
    fflush(p->stream);
    p->visible = false;
}

void plot_progress_free(PlotProgress *p)
{
    plot_progress_clear(p);
    free(p);
}
