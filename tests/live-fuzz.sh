#!/usr/bin/env bash
# Live fuzzing (`mcpcert fuzz`, docs/fuzzing-live.md), on stdio and on streamable HTTP:
#   1. with seed 1 it finds the reference server's planted crash (--flaw crash-on-negative-id)
#      well within its 60 s and writes a replayable case;
#   2. that case fails (CRASH/FAIL) against the flawed server and passes against the plain one;
#   3. ten seconds against the plain reference server find nothing;
# plus: the same seed gives the same minimized case (determinism), and the exit codes.
set -u
B=${MCPC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MCPCERT="$B/mcpcert"
REF="$B/targets/refserver"
FLAW=crash-on-negative-id
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "not ok: $*"; }

# refcmd TRANSPORT [FLAW]: the reference server's command line
refcmd() {
    local t=$1
    shift
    if [ "$t" = http ]; then echo "$REF" --http "{port}" ${1:+--flaw "$1"}; else echo "$REF" ${1:+--flaw "$1"}; fi
}

# verdict of the one case a `run` printed
verdict() { sed -n 's/^\[ *1\/1\] *\([A-Z_]*\) .*/\1/p' "$1" | head -1; }

for tr in stdio http; do
    out="$tmp/find-$tr"
    t0=$(date +%s%N)
    # shellcheck disable=SC2046
    "$MCPCERT" fuzz --seed 1 --duration 60 --max-findings 1 --transport "$tr" --out "$tmp/cases-$tr" \
        -- $(refcmd "$tr" "$FLAW") >"$out" 2>&1
    code=$?
    secs=$(( ($(date +%s%N) - t0) / 1000000 ))
    sed 's/^/  /' "$out"
    case_file=$(sed -n 's/^  crash .* -> \(.*FUZZ-CRASH-[0-9]*\.json\)$/\1/p' "$out" | head -1)
    found_at=$(sed -n 's/^found crash .* after \([0-9.]*\) s, iteration \([0-9]*\);.*/\1 s, iteration \2/p' "$out" | head -1)
    if [ "$code" -eq 1 ] && [ -n "$case_file" ] && [ -f "$case_file" ]; then
        ok "[$tr] seed 1 finds the planted crash: found after ${found_at:-?} (whole run with minimization ${secs} ms)"
    else
        bad "[$tr] seed 1 did not find the planted crash (exit $code)"
        continue
    fi
    [ "$secs" -lt 30000 ] && ok "[$tr] found well within the 60 s budget" || bad "[$tr] took ${secs} ms"

    # the case replays: it fails against the flawed server and passes against the plain one
    # shellcheck disable=SC2046
    "$MCPCERT" run --transport "$tr" --case-file "$case_file" -- $(refcmd "$tr" "$FLAW") >"$tmp/replay-flaw" 2>&1
    code=$?
    v=$(verdict "$tmp/replay-flaw")
    case "$code $v" in
    "1 CRASH" | "1 FAIL") ok "[$tr] the case is $v against --flaw $FLAW" ;;
    *) bad "[$tr] the case against --flaw $FLAW: exit $code, verdict ${v:-none}"; sed 's/^/  /' "$tmp/replay-flaw" ;;
    esac
    # shellcheck disable=SC2046
    "$MCPCERT" run --transport "$tr" --case-file "$case_file" -- $(refcmd "$tr") >"$tmp/replay-ref" 2>&1
    code=$?
    v=$(verdict "$tmp/replay-ref")
    [ "$code $v" = "0 PASS" ] && ok "[$tr] the case passes against the plain reference server" ||
        { bad "[$tr] the case against the plain server: exit $code, verdict ${v:-none}"; sed 's/^/  /' "$tmp/replay-ref"; }

    # the reference server itself is robust: ten seconds, no finding
    # shellcheck disable=SC2046
    "$MCPCERT" fuzz --seed 1 --duration 10 --transport "$tr" --out "$tmp/clean-$tr" -- $(refcmd "$tr") >"$tmp/clean" 2>&1
    code=$?
    summary=$(grep '^iterations ' "$tmp/clean")
    if [ "$code" -eq 0 ] && echo "$summary" | grep -q 'findings 0 '; then
        ok "[$tr] 10 s against the plain reference server: $summary"
    else
        bad "[$tr] findings against the plain reference server (exit $code)"
        sed 's/^/  /' "$tmp/clean"
    fi
done

# determinism: the same seed against the same behaviour gives the same minimized messages
"$MCPCERT" fuzz --seed 1 --duration 60 --max-findings 1 --out "$tmp/again" -- "$REF" --flaw "$FLAW" >"$tmp/again.out" 2>&1
a=$(grep -h '"data"\|"hex"' "$tmp/cases-stdio"/FUZZ-CRASH-1.json 2>/dev/null)
b=$(grep -h '"data"\|"hex"' "$tmp/again"/FUZZ-CRASH-1.json 2>/dev/null)
ia=$(sed -n 's/^found crash .* iteration \([0-9]*\);.*/\1/p' "$tmp/find-stdio")
ib=$(sed -n 's/^found crash .* iteration \([0-9]*\);.*/\1/p' "$tmp/again.out")
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$ia" = "$ib" ]; then
    ok "seed 1 twice: the same iteration ($ia) and the same minimized message"
else
    bad "seed 1 twice differs: iteration $ia vs $ib"
fi

# exit codes: usage, unreachable
"$MCPCERT" fuzz --duration 0 >/dev/null 2>&1
[ $? -eq 2 ] && ok "a bad option exits 2" || bad "a bad option does not exit 2"
"$MCPCERT" fuzz --duration 5 --out "$tmp/none" -- "$tmp/no-such-server" >/dev/null 2>&1
[ $? -eq 3 ] && ok "an implementation that cannot start exits 3" || bad "an unstartable implementation does not exit 3"

echo "live-fuzz: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
