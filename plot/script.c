/*
 * Writing gnuplot's strings and terminals (see internal.h).  Every string
 * of a caller's goes through plot__put_string: single quotes, in which
 * gnuplot reads no escape but a doubled quote, no backquote command and no
 * @macro; so no label can end its string, its line or the script.
 */
#include "plot/plot_internal.h"

#include <stdarg.h>
#include <string.h>

int plot__fail(const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    tensor_set_error("%s", message);
    return -1;
}

size_t plot__utf8_length(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4
                                                                                                  : 0;
    if (n == 0 || n > avail) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

void plot__put_string(FILE *f, const char *s, size_t max, bool percent)
{
    fputc('\'', f);
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t len = strnlen((const char *)u, max);
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t n = plot__utf8_length(u + i, len - i);
            if (n) fwrite(u + i, 1, n, f);
            else fputc('?', f);
            i += n ? n : 1;
            continue;
        }
        if (c == '\n') fputs("' . \"\\n\" . '", f);
        else if (c == '\'') fputs("''", f);
        else if (c == '%' && percent) fputs("%%", f);
        else if (c == '\t') fputc(' ', f);
        else fputc(c >= 0x20 && c != 0x7f ? c : '?', f);
        i++;
    }
    fputc('\'', f);
}

const char *plot__terminal(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return NULL;
    if (strcmp(dot, ".png") == 0) return "pngcairo";
    if (strcmp(dot, ".svg") == 0) return "svg";
    if (strcmp(dot, ".pdf") == 0) return "pdfcairo";
    return NULL;
}

void plot__put_terminal(FILE *f, const char *term, int64_t w, int64_t h)
{
    if (strcmp(term, "pdfcairo") == 0)
        fprintf(f, "set terminal pdfcairo size %.2fin,%.2fin\n", (double)w / 96, (double)h / 96);
    else
        fprintf(f, "set terminal %s size %lld,%lld\n", term, (long long)w, (long long)h);
    fprintf(f, "set encoding utf8\nset termoption noenhanced\nset output 'picture'\n");
}

bool plot__is_color(const char *c)
{
    if (!c || c[0] != '#' || strlen(c) != 7) return false;
    for (int i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", c[i])) return false;
    return true;
}

void plot__put_title(FILE *f, const char *command, const char *title, const char *subtitle)
{
    if (!title && !subtitle) return;
    fprintf(f, "%s ", command);
    plot__put_string(f, title ? title : "", (size_t)-1, false);
    if (subtitle) {
        fputs(" . \"\\n\" . ", f);
        plot__put_string(f, subtitle, (size_t)-1, false);
    }
    fputc('\n', f);
}

int plot_check_path(const char *path)
{
    if (!plot__terminal(path))
        return plot__fail("%s: the name must end in .png, .svg or .pdf",
                                path ? path : "(null)");
    return tensor_output_check(path);
}
