#!/bin/sh
# Replays every fuzz target (linked with fuzz/replay_main.c) over a freshly generated seed corpus
# and over its committed regressions, fuzz/regressions/<target>/. One line per target, then
# "N passed, N failed", counting inputs: a target that crashes, aborts or trips a sanitizer
# counts as one failure (its log names the input). In the ASan build this is the sanitizer
# replay of every seed and every past crash.
set -u
b=${MCPC_BUILDDIR:?run by make check}
s=${MCPC_SRCDIR:?run by make check}
shared=${MCPC_SHARED:-$s/../shared}
out=$b/fuzz/corpus
pass=0
fail=0

rm -rf "$out"
if ! "$b/fuzz/gen_corpus" --shared "$shared" --cases "$s/cases" "$out" >"$b/fuzz/gen_corpus.log" 2>&1; then
    cat "$b/fuzz/gen_corpus.log"
    echo "fuzz-replay: gen_corpus failed"
    echo "0 passed, 1 failed"
    exit 1
fi
sed 's/^/  /' "$b/fuzz/gen_corpus.log"

for t in jsonrpc schema sse case; do
    log=$b/fuzz/replay-$t.log
    dirs=$out/$t
    [ -d "$s/fuzz/regressions/$t" ] && dirs="$dirs $s/fuzz/regressions/$t"
    # shellcheck disable=SC2086 # dirs is a list of paths without spaces we made ourselves
    "$b/fuzz/fuzz_$t" $dirs >"$log" 2>&1
    rc=$?
    n=$(sed -n 's/^replayed \([0-9][0-9]*\) inputs$/\1/p' "$log" | tail -1)
    if [ "$rc" -eq 0 ] && [ -n "$n" ]; then
        echo "fuzz_$t: replayed $n inputs"
        pass=$((pass + n))
    else
        echo "fuzz_$t: FAILED (exit $rc)"
        grep -E 'crashed on|invariant broken|ERROR: AddressSanitizer|runtime error|ERROR: LeakSanitizer|^replay:' "$log" | head -5 | sed 's/^/  /'
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
