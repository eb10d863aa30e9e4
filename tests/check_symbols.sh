#!/bin/sh
# Only the API is exported: every dynamic symbol libattograd.so defines
# carries a room's prefix and no private double underscore, so a user's own
# add_backward or plot_lines never collides with one of ours.
#     check_symbols.sh LIBATTOGRAD_SO
set -eu
lib=$1
symbols=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
count=$(printf '%s\n' "$symbols" | grep -c . || true)
if [ "$count" -lt 100 ]; then
    echo "FAIL: $lib exports $count symbols; the API has several hundred" >&2
    exit 1
fi
bad=$(printf '%s\n' "$symbols" |
      grep -Ev '^(tensor|nn|optim|data|text|checkpoint|train|plot|cli)_[a-z0-9]' |
      grep -v '^$' || true)
private=$(printf '%s\n' "$symbols" | grep '__' || true)
if [ -n "$bad$private" ]; then
    echo "FAIL: $lib exports names outside the rooms' prefixes or private ones:" >&2
    printf '%s\n' $bad $private >&2
    exit 1
fi
echo "$count exported symbols, each with its room's prefix"
