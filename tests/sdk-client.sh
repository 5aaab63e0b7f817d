#!/usr/bin/env bash
# Interoperability, client role: every client case, over stdio and streamable HTTP and in both
# eras, against the official SDK's client (@modelcontextprotocol/sdk, pinned; installed by
# ./quickstart into third_party/node), driven by tests/interop/sdk-client.mjs. Its verdicts are
# recorded, case by case, in tests/expected/sdk-client.txt as "TRANSPORT ERA CASE VERDICT";
# any difference fails this test, so a change on either side is seen and reviewed.
set -u
S=${MCPC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MCPC_BUILDDIR:-$S}
NODE_DIR=${MCPC_NODE_DIR:-$S/third_party/node}
PKG="$NODE_DIR/node_modules/@modelcontextprotocol/sdk"
if ! command -v node >/dev/null 2>&1 || [ ! -f "$PKG/package.json" ]; then
    echo "SKIP: @modelcontextprotocol/sdk is not installed in $NODE_DIR (./quickstart installs it)"
    exit 77
fi
export MCPC_NODE_DIR="$NODE_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" | head -1)
echo "@modelcontextprotocol/sdk $version"
pass=0 fail=0
: >"$tmp/got"
# the four runs side by side: most of their time is the SDK's start-up and its waits
for tr in stdio http; do
    for era in 2025-11-25 2026-07-28; do
        ("$B/mcpcert" run --role client --suite client --transport "$tr" --spec-version "$era" \
            --report-dir "$tmp/rep-$tr-$era" -- node "$S/tests/interop/sdk-client.mjs" >"$tmp/out-$tr-$era" 2>&1
         echo $? >"$tmp/code-$tr-$era") &
    done
done
wait
for tr in stdio http; do
    for era in 2025-11-25 2026-07-28; do
        code=$(cat "$tmp/code-$tr-$era" 2>/dev/null || echo 99)
        sed 's/^/  /' "$tmp/out-$tr-$era"
        [ "$code" -le 1 ] || { fail=$((fail + 1)); echo "not ok [$tr $era]: mcpcert exited $code"; }
        sed -n 's/^\[ *[0-9]*\/[0-9]*\] *\([A-Z_]*\) *\([A-Z0-9-]*\) .*/\2 \1/p' "$tmp/out-$tr-$era" |
            awk -v t="$tr" -v e="$era" '{print t, e, $1, $2}' >>"$tmp/got"
    done
done
sort "$tmp/got" >"$tmp/got.s"
grep -v '^#' "$S/tests/expected/sdk-client.txt" | sed 's/ *#.*//' | awk 'NF' | sort >"$tmp/want"
while read -r tr era id v; do
    w=$(awk -v t="$tr" -v e="$era" -v i="$id" '$1 == t && $2 == e && $3 == i {print $4}' "$tmp/want")
    if [ "$w" = "$v" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "not ok [$tr $era] $id: got $v, recorded ${w:-nothing}"; fi
done <"$tmp/got.s"
[ "$(wc -l <"$tmp/want")" -eq "$(wc -l <"$tmp/got.s")" ] ||
    { fail=$((fail + 1)); echo "not ok: $(wc -l <"$tmp/got.s") verdicts, $(wc -l <"$tmp/want") recorded"; }
echo "sdk-client: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
