#!/bin/sh
# Writes the ```c blocks of a Markdown page, in order, to one C file:
#     extract_c.sh PAGE.md OUT.c
# A page's blocks together form one program, so a listing can be cut into
# pieces that each sit beside the Python they translate.  Each block starts
# with a #line directive: compiler messages point into the page itself.
# tests/meson.build builds every page this way and runs the program.
set -eu
page=$1
out=$2
awk -v page="$page" '
    /^```c[ \t]*$/ { inside = 1; printf "#line %d \"%s\"\n", NR + 1, page; next }
    /^```/ && inside { inside = 0; next }
    inside { print }
    END { if (inside) { print page ": a ```c block is never closed" > "/dev/stderr"; exit 1 } }
' "$page" > "$out.tmp"
if ! grep -q . "$out.tmp"; then
    echo "$page: no \`\`\`c blocks" >&2
    rm -f "$out.tmp"
    exit 1
fi
mv "$out.tmp" "$out"
