/* A progress bar on stderr (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <time.h>

enum { BAR = 40, LINE = 100 }; /* LINE: wider than any bar drawn */

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(Progress *p, bool on, int64_t first, int64_t total)
{
    *p = (Progress){.on = on, .first = first, .total = total, .start = progress_now()};
}

const char *progress_duration(double seconds, char *buf, int n)
{
    long s = seconds > 0 && seconds < 1e9 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600) snprintf(buf, (size_t)n, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60) snprintf(buf, (size_t)n, "%ldm%02lds", s / 60, s % 60);
    else snprintf(buf, (size_t)n, "%lds", s);
    return buf;
}

void progress_step(Progress *p, int64_t done, int64_t tokens)
{
    p->tokens += tokens;
    double t = progress_now();
    if (!p->on || (t - p->drawn < 0.2 && done < p->total)) return;
    p->drawn = t;
    double elapsed = t - p->start, rate = elapsed > 0 ? (double)p->tokens / elapsed : 0;
    int64_t here = done - p->first;
    double eta = here > 0 ? elapsed / (double)here * (double)(p->total - done) : 0;
    int fill = p->total > 0 ? (int)(BAR * done / p->total) : BAR;
    char when[32];
    fprintf(stderr, "\r[%.*s%.*s] %5lld/%lld  %.0f tok/s  ETA %s ", fill,
            "########################################", BAR - fill,
            "........................................", (long long)done, (long long)p->total,
            rate, progress_duration(eta, when, sizeof when));
    fflush(stderr);
    p->visible = true;
}

void progress_clear(Progress *p)
{
    if (!p->visible) return;
    fprintf(stderr, "\r%*s\r", LINE, "");
    fflush(stderr);
    p->visible = false;
}
