#!/bin/sh
# Keeps bench_gpt from rotting, without timing anything: one step of the
# book's test config must print one well-formed gpt_step line, table.awk must
# turn it into a row, and bad flags must exit 2 with a one-line reason.
#     check_bench_gpt.sh BENCH_GPT TABLE_AWK
set -eu
bench=$1
table=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/attograd-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_bench_gpt.sh: $*" >&2; exit 1; }

"$bench" --configs book_test --threads 1 --steps 1 --warmup 0 >"$tmp/out" 2>"$tmp/err" ||
    fail "bench_gpt failed: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "want one line, got: $(cat "$tmp/out")"
grep -Eqx 'gpt_step impl=attograd config=book_test V=50257 ctx=12 C=32 H=4 L=2 B=2 T=12 threads=1 mode=fp32 ms_per_step=[0-9]+\.[0-9] peak_rss_kb=[0-9]+ gflop=0\.[0-9]+ state_kb=50658 forward_kb=[0-9]+' \
    "$tmp/out" || fail "malformed line: $(cat "$tmp/out")"
# The peak RSS is the child's that ran the step: at least the 3,242,112
# parameters' four float copies (weights, gradients, AdamW's two moments),
# 16 bytes each, 50,658 KB (its state_kb); a figure below that is not the step's.
rss=$(sed 's/.*peak_rss_kb=//; s/ .*//' "$tmp/out")
[ "$rss" -ge 50658 ] || fail "peak_rss_kb=$rss is less than the step's parameters and state"

awk -f "$table" "$tmp/out" >"$tmp/table"
grep -Eq '^book_test B=2 T=12 +1 +[0-9]+\.[0-9] +- +- +[0-9]+\.[0-9] MB +- +-$' "$tmp/table" ||
    fail "table.awk made no row of it: $(cat "$tmp/table")"

# The bf16 mode's row: the same step in an autocast region, its own table row.
"$bench" --configs book_test --threads 1 --steps 1 --warmup 0 --modes bf16 >"$tmp/bf16" \
    2>"$tmp/err" || fail "bench_gpt --modes bf16 failed: $(cat "$tmp/err")"
grep -Eq ' threads=1 mode=bf16 ms_per_step=[0-9]+\.[0-9] ' "$tmp/bf16" ||
    fail "malformed bf16 line: $(cat "$tmp/bf16")"
awk -f "$table" "$tmp/bf16" | grep -Eq '^book_test B=2 T=12 bf16 +1 ' ||
    fail "table.awk made no bf16 row: $(awk -f "$table" "$tmp/bf16")"

for flags in "--threads 0" "--configs gpt5" "--steps" "--bogus 1" "--modes fp16"; do
    # shellcheck disable=SC2086
    if "$bench" $flags >"$tmp/out" 2>"$tmp/err"; then rc=0; else rc=$?; fi
    [ "$rc" -eq 2 ] || fail "bench_gpt $flags: exit $rc, want 2"
    [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
        fail "bench_gpt $flags: want one line on stderr only, got: $(cat "$tmp/out" "$tmp/err")"
done
echo "bench_gpt: one step of book_test printed a well-formed row"
