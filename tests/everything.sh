#!/usr/bin/env bash
# Interoperability: every case (the gold profile selects them all) over stdio against the official reference server
# @modelcontextprotocol/server-everything (pinned; installed by ./quickstart into third_party/node).
# Its verdicts are recorded, case by case, in tests/expected/server-everything-stdio.txt; any
# difference fails this test, so a change in either side is seen and reviewed.
set -u
S=${MCPC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MCPC_BUILDDIR:-$S}
NODE_DIR=${MCPC_NODE_DIR:-$S/third_party/node}
PKG="$NODE_DIR/node_modules/@modelcontextprotocol/server-everything"
EXPECTED="$S/tests/expected/server-everything-stdio.txt"
if ! command -v node >/dev/null 2>&1 || [ ! -f "$PKG/dist/index.js" ]; then
    echo "SKIP: server-everything is not installed in $NODE_DIR (./quickstart installs it)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" | head -1)
echo "server-everything $version"
"$B/mcpcert" run --profile gold --report-dir "$tmp/rep" -- node "$PKG/dist/index.js" stdio >"$tmp/out" 2>&1
code=$?
sed 's/^/  /' "$tmp/out"
sed -n 's/^\[ *[0-9]*\/[0-9]*\] *\([A-Z_]*\) *\([A-Z0-9-]*\) .*/\2 \1/p' "$tmp/out" | sort >"$tmp/got"
grep -v '^#' "$EXPECTED" | sed 's/ *#.*//' | awk 'NF' | sort >"$tmp/want"
pass=0 fail=0
while read -r id v; do
    w=$(awk -v i="$id" '$1 == i {print $2}' "$tmp/want")
    if [ "$w" = "$v" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "not ok $id: got $v, recorded ${w:-nothing}"; fi
done <"$tmp/got"
n_want=$(wc -l <"$tmp/want"); n_got=$(wc -l <"$tmp/got")
[ "$n_want" -eq "$n_got" ] || { fail=$((fail + 1)); echo "not ok: $n_got verdicts, $n_want recorded"; }
[ "$code" -eq 1 ] || [ "$code" -eq 0 ] || { fail=$((fail + 1)); echo "not ok: mcpcert exited $code"; }
echo "everything: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
