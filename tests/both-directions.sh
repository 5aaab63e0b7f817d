#!/usr/bin/env bash
# Every case proves itself both ways, in every era it applies to:
#   1. against the reference server it must PASS;
#   2. against each reference-server flaw it names it must not PASS (FAIL, WARN, TIMEOUT, CRASH).
# Also: every flaw a case names exists, and every flaw the reference server has is used by a case
# (a flaw no case catches is a requirement nobody checks).
set -u
B=${MCPC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MCPCERT="$B/mcpcert"
REF="$B/targets/refserver"
ERAS="2025-11-25 2026-07-28"
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok: $*"; }

# "<verdict> <id>" per case from the terminal report (no colour: stdout is not a TTY)
verdicts() { sed -n 's/^\[ *[0-9]*\/[0-9]*\] *\([A-Z_]*\) *\([A-Z0-9-]*\) .*/\1 \2/p' "$1"; }

# case id -> its flaws, from the case files
"$MCPCERT" list --suite base | awk '{print $1}' >"$tmp/ids"
: >"$tmp/pairs"
for id in $(cat "$tmp/ids"); do
    # `mcpcert explain` names the flaws that prove the case can fail
    for fl in $("$MCPCERT" explain "$id" | sed -n 's/^proved to fail.*--flaw //p' | tr ',' ' '); do
        echo "$fl $id" >>"$tmp/pairs"
    done
done

"$REF" --list-flaws | sort >"$tmp/flaws"
for fl in $(awk '{print $1}' "$tmp/pairs" | sort -u); do
    grep -qx "$fl" "$tmp/flaws" && ok || bad "a case names flaw $fl, which the reference server does not have"
done
for fl in $(cat "$tmp/flaws"); do
    grep -q "^$fl " "$tmp/pairs" && ok || bad "reference-server flaw $fl is caught by no case"
done

for era in $ERAS; do
    # direction 1: the reference server passes every applicable case
    "$MCPCERT" run --suite base --spec-version "$era" --timeout 3000 -- "$REF" >"$tmp/ref.$era" 2>&1
    verdicts "$tmp/ref.$era" >"$tmp/ref.v.$era"
    n=0
    while read -r v id; do
        n=$((n + 1))
        case "$v" in
        PASS | SKIP) ok ;;
        *) bad "[$era] $id is $v against the reference server"; grep -A6 " $id " "$tmp/ref.$era" | head -8 ;;
        esac
    done <"$tmp/ref.v.$era"
    [ "$n" -gt 0 ] || bad "[$era] no verdicts from the reference-server run"

    # direction 2: each flaw fails every case that names it (where the case applies to this era)
    for fl in $(awk '{print $1}' "$tmp/pairs" | sort -u); do
        args=()
        for id in $(awk -v f="$fl" '$1 == f {print $2}' "$tmp/pairs"); do
            grep -q "^SKIP $id\$" "$tmp/ref.v.$era" && continue
            args+=(--case "$id")
        done
        [ ${#args[@]} -gt 0 ] || continue
        "$MCPCERT" run "${args[@]}" --spec-version "$era" --timeout 1500 -- "$REF" --flaw "$fl" \
            >"$tmp/flaw" 2>&1
        while read -r v id; do
            case "$v" in
            PASS | SKIP | ERROR | NOT_TESTABLE)
                bad "[$era] $id is $v against --flaw $fl (it must fail)" ;;
            *) ok; echo "ok [$era] $id catches --flaw $fl ($v)" ;;
            esac
        done < <(verdicts "$tmp/flaw")
    done
done
echo "both-directions: reference server and flaws"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
