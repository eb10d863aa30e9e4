/*
 * CSVs: columns read for a chart (plot__csv_read), and a run's CSV written
 * as it grows (PlotCsv, see plot.h).
 */
#include "plot/plot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading ---------------------------------------------------------------- */

/* Opens path for reading if it is a regular file (a FIFO would block, a
 * device never end): NULL with a message. */
static FILE *open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return tensor_set_error("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tensor_set_error("%s: not a regular file", path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) close(fd);
    return f;
}

/* The next cell of the line at *p (up to a comma or the end), trimmed of
 * spaces and of double quotes around it, NUL-terminated in place; *p is
 * NULL after the last cell, and then so is the result. */
static char *next_cell(char **p)
{
    char *cell = *p;
    if (!cell) return NULL;
    char *end = cell + strcspn(cell, ",");
    *p = *end ? end + 1 : NULL;
    *end = '\0';
    while (*cell == ' ') cell++;
    for (char *e = cell + strlen(cell); e > cell && e[-1] == ' ';) *--e = '\0';
    size_t n = strlen(cell);
    if (n >= 2 && cell[0] == '"' && cell[n - 1] == '"') {
        cell[n - 1] = '\0';
        cell++;
    }
    return cell;
}

static int find_column(const char *path, char *header, const char *name, int *index)
{
    *index = -1;
    if (!name) return 0;
    char *copy = strdup(header), *p = copy, *cell;
    if (!copy) return plot__fail("%s: out of memory", path);
    for (int i = 0; (cell = next_cell(&p)); i++)
        if (strcmp(cell, name) == 0) {
            *index = i;
            break;
        }
    free(copy);
    if (*index < 0) return plot__fail("%s: no column named '%s' in its header", path, name);
    return 0;
}

static int grow(PlotPoints *pts, int64_t *cap)
{
    if (pts->n < *cap) return 0;
    int64_t c = *cap ? *cap * 2 : 256;
    double *x = realloc(pts->x, (size_t)c * sizeof *x);
    if (x) pts->x = x;
    double *y = x ? realloc(pts->y, (size_t)c * sizeof *y) : NULL;
    if (y) pts->y = y;
    double *x2 = y ? realloc(pts->x2, (size_t)c * sizeof *x2) : NULL;
    if (x2) pts->x2 = x2;
    if (!x2) return -1;
    *cap = c;
    return 0;
}

/* The cell is a number (or empty, or nan: NaN): 0, else -1 with a message. */
static int number(const char *path, int64_t line, const char *column, const char *cell, double *v)
{
    char *end;
    if (!*cell) return *v = NAN, 0;
    errno = 0;
    *v = strtod(cell, &end);
    if (end != cell && !*end) return 0;
    return plot__fail("%s line %lld: '%.40s' in column %s is not a number", path,
                            (long long)line, cell, column);
}

/* One row's cells into the points. */
static int read_row(const char *path, int64_t line, char *row, const int col[3],
                    const char *const names[3], PlotPoints *pts)
{
    double v[3] = {(double)pts->n, NAN, NAN};
    int found = 0, want = (col[0] >= 0) + 1 + (col[2] >= 0);
    char *p = row;
    for (int i = 0; found < want; i++) {
        char *cell = next_cell(&p);
        if (!cell)
            return plot__fail("%s line %lld: fewer cells than the header names", path,
                              (long long)line);
        for (int k = 0; k < 3; k++)
            if (col[k] == i) {
                if (number(path, line, names[k], cell, &v[k])) return -1;
                found++;
            }
    }
    pts->x[pts->n] = v[0];
    pts->y[pts->n] = v[1];
    pts->x2[pts->n] = v[2];
    pts->n++;
    return 0;
}

int plot__csv_read(const char *path, const char *xcol, const char *ycol, const char *x2col,
                   PlotPoints *pts)
{
    *pts = (PlotPoints){0};
    if (!ycol) return plot__fail("%s: no y column named", path);
    FILE *f = open_regular(path);
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    int64_t n = 0, points_cap = 0;
    int col[3] = {-1, -1, -1}, rc = 0;
    const char *names[3] = {xcol, ycol, x2col};
    ssize_t got = getline(&line, &cap, f);
    if (got <= 0) rc = plot__fail("%s: empty, no header row", path);
    else line[strcspn(line, "\r\n")] = '\0';
    for (int k = 0; k < 3 && rc == 0; k++) rc = find_column(path, line, names[k], &col[k]);
    for (n = 2; rc == 0 && (got = getline(&line, &cap, f)) > 0; n++) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[strspn(line, " ")]) continue;
        if (grow(pts, &points_cap)) rc = plot__fail("%s: out of memory", path);
        else rc = read_row(path, n, line, col, names, pts);
    }
    if (rc == 0 && ferror(f)) rc = plot__fail("%s: %s", path, strerror(errno));
    free(line);
    fclose(f);
    if (rc) plot__points_free(pts);
    return rc;
}

void plot__points_free(PlotPoints *pts)
{
    free(pts->x);
    free(pts->y);
    free(pts->x2);
    *pts = (PlotPoints){0};
}

int64_t plot_csv_column(const char *path, const char *column, double **values)
{
    if (!path || !column || !values) return plot__fail("csv: a NULL path, column or result");
    PlotPoints pts;
    if (plot__csv_read(path, NULL, column, NULL, &pts)) return -1;
    *values = pts.y;
    pts.y = NULL;
    int64_t n = pts.n;
    plot__points_free(&pts);
    return n;
}

/* ---- a run's CSV --------------------------------------------------------------- */

struct PlotCsv {
    char *path, *header;
    char *rows;                  /* every row, each ending in '\n' */
    size_t len, cap;
    double written;              /* plot_clock() of the last write; 0: never */
    double write_seconds;        /* how long it took */
};

PlotCsv *plot_csv_open(const char *path, const char *header)
{
    if (!header || strchr(header, '\n')) return tensor_set_error("csv: a header of one line is needed");
    if (tensor_output_check(path)) return NULL;
    PlotCsv *c = calloc(1, sizeof *c);
    if (c) c->path = strdup(path), c->header = strdup(header);
    if (!c || !c->path || !c->header) {
        if (c) free(c->path), free(c->header), free(c);
        return tensor_set_error("%s: out of memory", path);
    }
    return c;
}

static int append(PlotCsv *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1) cap *= 2;
        char *rows = realloc(c->rows, cap);
        if (!rows) return plot__fail("%s: out of memory", c->path);
        c->rows = rows;
        c->cap = cap;
    }
    memcpy(c->rows + c->len, s, n);
    c->len += n;
    c->rows[c->len] = '\0';
    return 0;
}

int64_t plot_csv_keep(PlotCsv *c, double last)
{
    if (!c) return plot__fail("csv: NULL");
    struct stat st;
    if (stat(c->path, &st) != 0 && errno == ENOENT) return 0;   /* nothing to keep */
    FILE *f = open_regular(c->path);
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    int64_t kept = 0, n = 1;
    int rc = 0;
    ssize_t got = getline(&line, &cap, f);
    if (got <= 0 || (line[strcspn(line, "\r\n")] = '\0', strcmp(line, c->header) != 0))
        rc = plot__fail("%s: its header is not \"%s\": not this run's CSV", c->path,
                              c->header);
    c->len = 0;
    while (rc == 0 && (got = getline(&line, &cap, f)) > 0) {
        n++;
        line[strcspn(line, "\r\n")] = '\0';
        char *end;
        double v = strtod(line, &end);
        if (end == line || (*end && *end != ','))
            rc = plot__fail("%s line %lld: its first cell is not a number", c->path,
                                  (long long)n);
        else if (v <= last && (rc = append(c, line, strlen(line))) == 0 && (rc = append(c, "\n", 1)) == 0)
            kept++;
    }
    free(line);
    fclose(f);
    if (rc) c->len = 0;
    return rc ? -1 : kept;
}

int plot_csv_sync(PlotCsv *c)
{
    if (!c) return plot__fail("csv: NULL");
    double t0 = plot_clock();
    TensorOutput *out = tensor_output_open(c->path);
    if (!out) return -1;
    FILE *f = tensor_output_file(out);
    fprintf(f, "%s\n", c->header);
    if (c->len) fwrite(c->rows, 1, c->len, f);
    if (tensor_output_commit(out)) return -1;
    c->written = plot_clock();
    c->write_seconds = c->written - t0;
    return 0;
}

int plot_csv_row(PlotCsv *c, const char *fmt, ...)
{
    if (!c || !fmt) return plot__fail("csv: NULL");
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return plot__fail("%s: a row that cannot be formatted", c->path);
    int rc;
    if ((size_t)n < sizeof small) {
        rc = append(c, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) return plot__fail("%s: out of memory", c->path);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        rc = append(c, big, (size_t)n);
        free(big);
    }
    if (rc || append(c, "\n", 1)) return -1;
    /* At most about once a second, and never more than a tenth of the time. */
    double wait = 10 * c->write_seconds > 1 ? 10 * c->write_seconds : 1;
    if (c->written == 0 || plot_clock() - c->written >= wait) return plot_csv_sync(c);
    return 0;
}

int plot_csv_close(PlotCsv *c)
{
    if (!c) return 0;
    int rc = plot_csv_sync(c);
    free(c->path);
    free(c->header);
    free(c->rows);
    free(c);
    return rc;
}
