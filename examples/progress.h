/*
 * A progress bar on stderr for programs whose stdout is their record: drawn
 * only when the caller asks (stderr a terminal, no --quiet), redrawn in
 * place with \r at most a few times a second, and cleared before the program
 * prints a line, so that stdout reads the same with or without it:
 *
 *     [###########.............................]  412/2860  1093 tok/s  ETA 1h02m
 */
#ifndef ATTOGRAD_PROGRESS_H
#define ATTOGRAD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool on;
    int64_t first, total;        /* steps done when this process began, of the whole run */
    int64_t tokens;              /* tokens seen by this process */
    double start, drawn;         /* monotonic seconds: began, last drawn */
    bool visible;                /* a bar is on the terminal's last line */
} Progress;

double progress_now(void);       /* monotonic seconds */
/* on: draw at all; first steps of total already done. */
void progress_begin(Progress *p, bool on, int64_t first, int64_t total);
/* Step done (of the whole run), tokens this step; redraws now and then. */
void progress_step(Progress *p, int64_t done, int64_t tokens);
/* Wipes the bar (before a line on stdout); the next step draws it again. */
void progress_clear(Progress *p);
/* "1h02m", "3m05s", "42s" into buf. */
const char *progress_duration(double seconds, char *buf, int n);

#endif /* ATTOGRAD_PROGRESS_H */
