#!/usr/bin/env bash
# Bronze against an implementation started by someone else (--url): the reference server is
# started by hand with the trust configuration of `mcpcert explain auth`, and mcpcert's
# authorization server, mock upstream and ledger are pinned to match. The plain server must
# attain Bronze (exit 0); with an OAuth flaw it must not (exit 1, the flaw's case failing).
# Prints "N passed, N failed".
set -u
B=${MCPC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
pass=0 fail=0
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# a loopback port nothing listens on (bash's /dev/tcp: a refused connect means free)
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}

# run FLAW EXPECTED-EXIT CASE-THAT-MUST-FAIL
run() {
    local flaw=$1 want=$2 failing=$3 sp ap up out code
    sp=$(free_port) && ap=$(free_port) && up=$(free_port) || { fail=$((fail + 1)); echo "not ok: no free port"; return; }
    rm -f "$tmp/ledger"
    # the server reads stdin until EOF: a pipe kept open keeps it running
    mkfifo "$tmp/in.$sp"
    MCPCERT_AUTH_ISSUER="http://127.0.0.1:$ap" MCPCERT_AUTH_JWKS_URI="http://127.0.0.1:$ap/jwks" \
        MCPCERT_RESOURCE_URI="http://127.0.0.1:$sp/mcp" MCPCERT_UPSTREAM_URL="http://127.0.0.1:$up/api" \
        MCPCERT_AUTH_CLIENT_ID=mcpcert-server MCPCERT_AUTH_CLIENT_SECRET=bronze-url-secret \
        MCPCERT_LEDGER="$tmp/ledger" \
        "$B/targets/refserver" --http "$sp" ${flaw:+--flaw "$flaw"} <"$tmp/in.$sp" >"$tmp/server.out" 2>&1 &
    pid=$!
    exec 4>"$tmp/in.$sp"
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$sp") 2>/dev/null && break; sleep 0.1; done
    out="$tmp/run.${flaw:-plain}"
    "$B/mcpcert" run --profile bronze --url "http://127.0.0.1:$sp/mcp" --as-port "$ap" \
        --upstream-port "$up" --ledger "$tmp/ledger" --as-client-secret bronze-url-secret \
        --timeout 3000 >"$out" 2>&1
    code=$?
    exec 4>&-
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
    if [ "$code" = "$want" ]; then pass=$((pass + 1)); echo "ok ${flaw:-plain server}: exit $code, $(grep '^profile bronze' "$out")"
    else fail=$((fail + 1)); echo "not ok ${flaw:-plain server}: exit $code, want $want"; grep -E "FAIL|ERROR|NOT_TESTABLE|profile" "$out" | head -10; fi
    if [ -n "$failing" ]; then
        if grep -qE "^\[ *[0-9]+/[0-9]+\] (FAIL|CRASH) +$failing " "$out"; then pass=$((pass + 1)); echo "ok ${flaw}: $failing fails"
        else fail=$((fail + 1)); echo "not ok ${flaw}: $failing does not fail"; fi
    fi
}

run "" 0 ""
run auth-optional 1 AUTH-BEARER-01
run token-passthrough 1 AUTH-PASS-01
echo "bronze-url: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
