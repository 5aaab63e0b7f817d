#!/usr/bin/env bash
# Interoperability: every case (the gold profile selects them all), over stdio and over streamable
# HTTP, against the official reference server
# @modelcontextprotocol/server-everything (pinned; installed by ./quickstart into third_party/node).
# Its verdicts are recorded, case by case, in tests/expected/server-everything-{stdio,http}.txt; any
# difference fails this test, so a change in either side is seen and reviewed.
set -u
S=${MCPC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MCPC_BUILDDIR:-$S}
NODE_DIR=${MCPC_NODE_DIR:-$S/third_party/node}
PKG="$NODE_DIR/node_modules/@modelcontextprotocol/server-everything"
if ! command -v node >/dev/null 2>&1 || [ ! -f "$PKG/dist/index.js" ]; then
    echo "SKIP: server-everything is not installed in $NODE_DIR (./quickstart installs it)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" | head -1)
echo "server-everything $version"
pass=0 fail=0

# compare TRANSPORT EXPECTED-FILE -- COMMAND...: run every case, compare each verdict; the counts
# go to $tmp/count-TRANSPORT, the report of it to $tmp/report-TRANSPORT (the two transports run
# side by side: most of the time is waiting for a server's timeouts, not work)
compare() {
    local tr=$1 expected=$2 code p=0 f=0
    shift 3
    "$B/mcpcert" run --profile gold --transport "$tr" --report-dir "$tmp/rep-$tr" -- "$@" >"$tmp/out-$tr" 2>&1
    code=$?
    {
        sed 's/^/  /' "$tmp/out-$tr"
        sed -n 's/^\[ *[0-9]*\/[0-9]*\] *\([A-Z_]*\) *\([A-Z0-9-]*\) .*/\2 \1/p' "$tmp/out-$tr" | sort >"$tmp/got-$tr"
        grep -v '^#' "$expected" | sed 's/ *#.*//' | awk 'NF' | sort >"$tmp/want-$tr"
        while read -r id v; do
            w=$(awk -v i="$id" '$1 == i {print $2}' "$tmp/want-$tr")
            if [ "$w" = "$v" ]; then p=$((p + 1)); else f=$((f + 1)); echo "not ok [$tr] $id: got $v, recorded ${w:-nothing}"; fi
        done <"$tmp/got-$tr"
        [ "$(wc -l <"$tmp/want-$tr")" -eq "$(wc -l <"$tmp/got-$tr")" ] ||
            { f=$((f + 1)); echo "not ok [$tr]: $(wc -l <"$tmp/got-$tr") verdicts, $(wc -l <"$tmp/want-$tr") recorded"; }
        [ "$code" -eq 1 ] || [ "$code" -eq 0 ] || { f=$((f + 1)); echo "not ok [$tr]: mcpcert exited $code"; }
    } >"$tmp/report-$tr"
    echo "$p $f" >"$tmp/count-$tr"
}

compare stdio "$S/tests/expected/server-everything-stdio.txt" -- node "$PKG/dist/index.js" stdio &
# streamable HTTP on a free loopback port; the preload keeps it from listening beyond 127.0.0.1
compare http "$S/tests/expected/server-everything-http.txt" -- \
    sh -c "PORT={port} exec node --require '$S/tests/interop/loopback-only.cjs' '$PKG/dist/index.js' streamableHttp" &
wait
for tr in stdio http; do
    cat "$tmp/report-$tr"
    read -r p f <"$tmp/count-$tr" || { p=0 f=1; echo "not ok [$tr]: no result"; }
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "everything: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
