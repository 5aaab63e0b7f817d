#!/usr/bin/env bash
# Every case proves itself both ways, on every transport and in every era it applies to, in its
# role (server cases against targets/refserver, client cases against targets/refclient):
#   1. against the reference implementation it must PASS;
#   2. wherever it passes, at least one flaw it names makes it not PASS (FAIL, WARN, TIMEOUT,
#      CRASH); a flaw may belong to one era only (discover-incomplete is 2026-07-28).
# Also: every flaw a case names exists, every flaw the reference implementation has is caught by
# some case somewhere (a flaw nothing catches is a requirement nobody checks), and a flaw run
# never ends in ERROR or NOT_TESTABLE (the proof itself would be broken).
#   MCPC_ROLES  roles to prove (default "server client")
set -u
B=${MCPC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MCPCERT="$B/mcpcert"
ERAS="2025-11-25 2026-07-28"
ROLES=${MCPC_ROLES:-"server client"}
TRANSPORTS=${MCPC_TRANSPORTS:-"stdio http"}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok: $*"; }

# "<verdict> <id>" per case from the terminal report (no colour: stdout is not a TTY)
verdicts() { sed -n 's/^\[ *[0-9]*\/[0-9]*\] *\([A-Z_]*\) *\([A-Z0-9-]*\) .*/\1 \2/p' "$1"; }

# the reference implementation's command line for a transport (and an optional flaw)
refcmd() { # refcmd TRANSPORT [FLAW]
    local t=$1
    shift
    if [ "$ROLE" = client ]; then echo "$REF" ${1:+--flaw "$1"}
    elif [ "$t" = http ]; then echo "$REF" --http "{port}" ${1:+--flaw "$1"}; else echo "$REF" ${1:+--flaw "$1"}; fi
}

for ROLE in $ROLES; do
if [ "$ROLE" = client ]; then REF="$B/targets/refclient"; WHO="reference client"; else REF="$B/targets/refserver"; WHO="reference server"; fi
# the cases of this role (`mcpcert explain` names each case's role)
: >"$tmp/ids"
for id in $("$MCPCERT" list | awk '{print $1}'); do
    "$MCPCERT" explain "$id" | grep -qx "role: $ROLE" && echo "$id" >>"$tmp/ids"
done
: >"$tmp/pairs"
for id in $(cat "$tmp/ids"); do
    # `mcpcert explain` names the flaws that prove the case can fail
    for fl in $("$MCPCERT" explain "$id" | sed -n 's/^proved to fail.*--flaw //p' | tr ',' ' '); do
        echo "$fl $id" >>"$tmp/pairs"
    done
done

"$REF" --list-flaws | awk '{print $1}' | sort >"$tmp/flaws"
for fl in $(awk '{print $1}' "$tmp/pairs" | sort -u); do
    grep -qx "$fl" "$tmp/flaws" && ok || bad "a case names flaw $fl, which the $WHO does not have"
done
for fl in $(cat "$tmp/flaws"); do
    grep -q "^$fl " "$tmp/pairs" && ok || bad "$WHO flaw $fl is caught by no case"
done

: >"$tmp/proven"
: >"$tmp/caught"
for tr in $TRANSPORTS; do
    for era in $ERAS; do
        # direction 1: the reference implementation passes every applicable case (gold selects
        # them all)
        # shellcheck disable=SC2046
        "$MCPCERT" run --role "$ROLE" --profile gold --transport "$tr" --spec-version "$era" --timeout 3000 \
            -- $(refcmd "$tr") >"$tmp/ref.$tr.$era" 2>&1
        n=0
        while read -r v id; do
            n=$((n + 1))
            case "$v" in
            PASS | SKIP) ok ;;
            *) bad "[$ROLE $tr $era] $id is $v against the $WHO"; grep -A6 " $id " "$tmp/ref.$tr.$era" | head -8 ;;
            esac
        done < <(verdicts "$tmp/ref.$tr.$era" | while read -r v id; do grep -qx "$id" "$tmp/ids" && echo "$v $id"; done)
        verdicts "$tmp/ref.$tr.$era" | while read -r v id; do grep -qx "$id" "$tmp/ids" && echo "$v $id"; done >"$tmp/ref.v.$tr.$era"
        [ "$n" -gt 0 ] || { bad "[$ROLE $tr $era] no verdicts from the $WHO run"; head -20 "$tmp/ref.$tr.$era"; }

        # direction 2: each flaw fails every case that names it (where the case applies here)
        for fl in $(awk '{print $1}' "$tmp/pairs" | sort -u); do
            args=()
            for id in $(awk -v f="$fl" '$1 == f {print $2}' "$tmp/pairs"); do
                grep -q "^PASS $id\$" "$tmp/ref.v.$tr.$era" || continue
                args+=(--case "$id")
            done
            [ ${#args[@]} -gt 0 ] || continue
            # shellcheck disable=SC2046
            "$MCPCERT" run --role "$ROLE" "${args[@]}" --transport "$tr" --spec-version "$era" --timeout 1500 \
                -- $(refcmd "$tr" "$fl") >"$tmp/flaw" 2>&1
            while read -r v id; do
                case "$v" in
                ERROR | NOT_TESTABLE) bad "[$ROLE $tr $era] $id is $v against --flaw $fl (the proof is broken)" ;;
                PASS | SKIP) echo "info [$ROLE $tr $era] --flaw $fl does not affect $id here" ;;
                *)
                    ok
                    echo "$id $tr $era" >>"$tmp/proven"
                    echo "$fl" >>"$tmp/caught"
                    echo "ok [$ROLE $tr $era] $id catches --flaw $fl ($v)"
                    ;;
                esac
            done < <(verdicts "$tmp/flaw")
        done
        # every case that passes here is shown to fail here by one of its flaws
        while read -r v id; do
            [ "$v" = PASS ] || continue
            grep -qx "$id $tr $era" "$tmp/proven" && ok || bad "[$ROLE $tr $era] $id passes, but none of its flaws makes it fail"
        done <"$tmp/ref.v.$tr.$era"
    done
done
for fl in $(cat "$tmp/flaws"); do
    grep -qx "$fl" "$tmp/caught" && ok || bad "$WHO flaw $fl makes no case fail anywhere"
done
# every case applies somewhere (a case that passes nowhere proves nothing)
for id in $(cat "$tmp/ids"); do
    if grep -q "^$id " "$tmp/proven"; then ok; else bad "$id was never shown to fail against any flaw"; fi
done
done
echo "both-directions: reference implementations and flaws, roles: $ROLES, transports: $TRANSPORTS"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
