#!/usr/bin/env bash
# Benchmark (not a test): the base suite against the bundled reference server, per era.
# Prints cases per second and mcpcert's peak RSS. Usage: bench/run-base-suite.sh [ROUNDS]
set -u
B=${MCPC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
rounds=${1:-5}
for era in 2025-11-25 2026-07-28; do
    best=""
    rss=0
    cases=0
    for _ in $(seq "$rounds"); do
        t0=$(date +%s%N)
        out=$("$B/mcpcert" run --suite base --spec-version "$era" --stats 2>&1 >/dev/null -- "$B/targets/refserver" | sed -n 's/^mcpcert: peak-rss-kb //p')
        t1=$(date +%s%N)
        cases=$("$B/mcpcert" run --suite base --spec-version "$era" -- "$B/targets/refserver" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2/p' | awk '{print $1 + $2}')
        ms=$(((t1 - t0) / 1000000))
        { [ -z "$best" ] || [ "$ms" -lt "$best" ]; } && best=$ms
        [ "${out:-0}" -gt "$rss" ] && rss=$out
    done
    awk -v e="$era" -v c="$cases" -v ms="$best" -v rss="$rss" -v r="$rounds" 'BEGIN {
        printf "base-suite %s: %d cases run in %d ms (best of %d) = %.1f cases/s, peak RSS %d kB\n",
               e, c, ms, r, c * 1000.0 / ms, rss }'
done
