#!/bin/sh
# Checks what the docs say about the code, beyond the C blocks that are compiled:
#   - each "`function` in `dir/file.c`" names a function defined in that file;
#   - each tensor_*, nn_*, optim_*, data_*, text_*, train_*, checkpoint_*, plot_*, cli_* name
#     in the docs is declared in a header;
#   - each page with ```c blocks is one of the pages the build compiles;
#   - each relative link points at a file that exists.
#     check_references.sh SOURCE_ROOT COMPILED_PAGE...
set -eu
root=$1
shift
docs=$root/docs
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# `name` in `dir/file.c`
refs=$(for page in "$docs"/*.md; do
    grep -o '`[A-Za-z_0-9]*` in `[a-z_/]*\.c`' "$page" | sed 's/`//g; s/ in / /' |
    while read -r fn file; do
        if [ ! -f "$root/$file" ]; then
            echo "FAIL: ${page#"$root"/}: $file does not exist"
        elif ! grep -q "^[A-Za-z].*[ *]$fn(" "$root/$file"; then
            echo "FAIL: ${page#"$root"/}: no function $fn defined in $file"
        fi
    done
done)
if [ -n "$refs" ]; then echo "$refs"; failed=1; fi

# Public names mentioned anywhere in the docs.
headers="$root/tensor/tensor.h $root/tensor/safetensors.h $root/tensor/output.h $root/tensor/core/tensor_internal.h $root/nn/nn.h $root/optim/optim.h $root/data/data.h $root/text/text.h $root/train/train.h $root/checkpoint/checkpoint.h $root/plot/plot.h $root/cli/cli.h"
# text_ and train_ names only in `code` (the pages' Python has text_data, train_losses).
names=$( (cat "$docs"/*.md | grep -o '\b\(tensor\|nn\|optim\|data\|checkpoint\|plot\|cli\)_[a-z_0-9]*'
          cat "$docs"/*.md | grep -o '`\(text\|train\)_[a-z_0-9]*`' | tr -d '`') | sort -u)
for name in $names; do
    case $name in
    tensor__*_backward)   # a backward function: ops.def names it without the prefix
        grep -qw "${name#tensor__}" "$root/tensor/core/ops.def" ||
            fail "docs mention $name, which tensor/core/ops.def does not list" ;;
    *)
        # shellcheck disable=SC2086
        grep -qw "$name" $headers || fail "docs mention $name, which no header declares" ;;
    esac
done

# Pages with C blocks must be compiled by tests/meson.build.
for page in "$docs"/*.md; do
    grep -q '^```c' "$page" || continue
    base=$(basename "$page" .md)
    listed=no
    for p in "$@"; do [ "$p" = "$base" ] && listed=yes; done
    [ "$listed" = yes ] || fail "docs/$base.md has C blocks but tests/meson.build does not build it"
done

# Relative links: [text](file) with no scheme.
for page in "$docs"/*.md; do
    for target in $(grep -o '](\([^)#:]*\))' "$page" | sed 's/^](//; s/)$//'); do
        [ -e "$docs/$target" ] || fail "${page#"$root"/}: link to missing $target"
    done
done

[ "$failed" = 0 ] && echo "docs: references, names, compiled pages and links check out"
exit "$failed"
