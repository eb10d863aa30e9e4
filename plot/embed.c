/*
 * A build tool: writes a C file defining one char array per input file,
 * its bytes and a final NUL, so that the backward page's CSS and script are
 * edited as page.css and page.js and still compiled into the library.
 * Bytes, not a string literal: ISO C bounds a literal's length (4095), and
 * -Wpedantic says so.
 *
 *     embed OUTPUT.c NAME1 FILE1 [NAME2 FILE2 ...]
 */
#include <stdio.h>

static int embed(FILE *out, const char *name, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in) return perror(path), 1;
    fprintf(out, "const char %s[] = {", name);
    int c;
    long n = 0;
    while ((c = fgetc(in)) != EOF) fprintf(out, "%s0x%02x,", n++ % 16 ? "" : "\n    ", c);
    fprintf(out, "\n    0x00};\n");
    int bad = ferror(in);
    fclose(in);
    return bad ? (perror(path), 1) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc % 2) {
        fprintf(stderr, "usage: embed OUTPUT.c NAME FILE [NAME FILE ...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) return perror(argv[1]), 1;
    fprintf(out, "/* Made by plot/embed.c from the files named below; edit those. */\n");
    int rc = 0;
    for (int i = 2; i + 1 < argc && !rc; i += 2) {
        fprintf(out, "/* %s */\n", argv[i + 1]);
        rc = embed(out, argv[i], argv[i + 1]);
    }
    if (fclose(out) != 0) return perror(argv[1]), 1;
    return rc;
}
