/* The tensor room's growing string (see core/tensor_internal.h): printing and the
 * safetensors header writer build their text with it. */
#include "core/tensor_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tensor__text_put(TensorText *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tensor__text_puts(TensorText *b, const char *s) { tensor__text_put(b, s, strlen(s)); }

void tensor__text_repeat(TensorText *b, char c, int n)
{
    for (int i = 0; i < n; i++) tensor__text_put(b, &c, 1);
}

void tensor__text_printf(TensorText *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = true; /* the room formats numbers only: a longer text is a bug */
        return;
    }
    tensor__text_put(b, tmp, (size_t)n);
}
