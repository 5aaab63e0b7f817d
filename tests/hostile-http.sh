#!/usr/bin/env bash
# Hostile streamable-HTTP servers: for each mode of tests/hostile/h_http_hostile, mcpcert over
# --transport http must give the expected verdict, with a message that says what went wrong,
# exit 1, in bounded time and memory, and leave no process behind.
#
#   MCPC_BUILDDIR  where mcpcert and tests/hostile/h_http_hostile are built (default: the
#                  repository root)
#
# One line per mode ("ok MODE VERDICT TIME RSS" / "not ok MODE ...: reasons"), then
# "N passed, N failed"; exits 1 on any failure.
set -u

SRCROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${MCPC_BUILDDIR:-$SRCROOT}
MCPCERT=$BUILDDIR/mcpcert
HOSTILE=$BUILDDIR/tests/hostile/h_http_hostile

CASE=BASE-ENV-06       # opens a session, then one request: the least a server must get right
CASE_TIMEOUT_MS=2000
OUTER_TIMEOUT_S=60     # the safety net; it must never fire
MAX_ELAPSED_MS=30000
MAX_RSS_KB=65536
REMOTE=203.0.113.7     # where redirect-remote points (TEST-NET-3): never to be contacted

passed=0
failed=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpc-hostile-http.XXXXXX") || {
    echo "cannot create a temp dir" >&2
    exit 1
}

# Every server of this run is started through a symlink unique to it, and carries a token in its
# environment: leftover detection then finds ours and nobody else's (a concurrent run, an editor
# on h_http_hostile.c).
MCPC_HOSTILE_TOKEN="$$.$RANDOM.$RANDOM"
export MCPC_HOSTILE_TOKEN
HLINK=$WORK/bin/h_http_hostile
HPAT=$(printf '%s' "$HLINK" | sed 's/[][\.*^$+?(){}|]/\\&/g')
if [ -x "$HOSTILE" ]; then
    mkdir -p "$WORK/bin" && ln -s "$HOSTILE" "$HLINK"
fi

# Is process $1 of another run (its environment names another token)?
foreign() {
    [ -r "/proc/$1/environ" ] || return 1
    local env
    env=$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null) || return 1
    printf '%s\n' "$env" | grep -q '^MCPC_HOSTILE_TOKEN=' &&
        ! printf '%s\n' "$env" | grep -qxF "MCPC_HOSTILE_TOKEN=$MCPC_HOSTILE_TOKEN"
}

# Live (non-zombie) servers of this run, one PID a line.
ours() {
    local p st
    { pgrep -f -- "$HPAT"; pgrep -x h_http_hostile; } 2>/dev/null | sort -u | while read -r p; do
        [ -n "$p" ] && [ "$p" != "$$" ] || continue
        st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
        case $st in Z*) continue ;; esac
        foreign "$p" || echo "$p"
    done
}

cleanup() {
    local p
    for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# field FILE KEY: cases[0].KEY of a report (jq when present; else the first "KEY" string after
# "cases", which is the case's own: its checks come after it).
field() {
    if command -v jq >/dev/null 2>&1; then
        jq -r ".cases[0].$2 // empty" "$1" 2>/dev/null
    else
        tr -d '\n' <"$1" | awk '{ i = index($0, "\"cases\""); if (i) print substr($0, i) }' |
            grep -o "\"$2\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" | head -n 1 |
            sed "s/^\"$2\"[[:space:]]*:[[:space:]]*\"\\(.*\\)\"\$/\\1/"
    fi
}

# Can strace watch mcpcert's connect() calls here (installed, and ptrace allowed)?
STRACE=no
if command -v strace >/dev/null 2>&1 && strace -f -qq -e trace=connect -o /dev/null true 2>/dev/null; then
    STRACE=yes
fi

# The addresses mcpcert (and its children) tried to connect() to, under strace. LeakSanitizer
# cannot run under ptrace: leaks are the normal run's business.
connects_of() { # connects_of MODE
    local log=$WORK/strace.$1
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        timeout -k 5 "$OUTER_TIMEOUT_S" strace -f -qq -e trace=connect -o "$log" \
        "$MCPCERT" run --transport http --case "$CASE" --timeout "$CASE_TIMEOUT_MS" --quiet \
        -- "$HLINK" "$1" "{port}" </dev/null >/dev/null 2>&1
    grep -o 'inet_addr("[^"]*")' "$log" 2>/dev/null | sort -u
}

# run_mode MODE VERDICT MESSAGE-ERE: the case's verdict must be VERDICT and its message must
# match MESSAGE-ERE; exit 1, time, RSS and leftovers as the header says.
run_mode() {
    local mode=$1 want=$2 ere=$3
    local dir=$WORK/$mode reasons="" verdict="" msg="" rss="" rc t0 elapsed secs left p

    if [ ! -x "$HOSTILE" ] || [ ! -x "$MCPCERT" ]; then
        echo "not ok $mode: $HOSTILE or $MCPCERT is missing (build them: make check)"
        failed=$((failed + 1))
        return
    fi
    mkdir -p "$dir"
    t0=$(now_ms)
    timeout -k 5 "$OUTER_TIMEOUT_S" "$MCPCERT" run --transport http --case "$CASE" \
        --timeout "$CASE_TIMEOUT_MS" --quiet --stats --report-dir "$dir" \
        -- "$HLINK" "$mode" "{port}" </dev/null >"$dir/stdout" 2>"$dir/stderr"
    rc=$?
    elapsed=$(($(now_ms) - t0))
    secs="$((elapsed / 1000)).$(((elapsed % 1000) / 100))s"

    case $rc in
    1) ;;
    124 | 137) reasons="$reasons; the outer ${OUTER_TIMEOUT_S}s timeout fired (exit $rc)" ;;
    *) reasons="$reasons; exit $rc, want 1" ;;
    esac
    if [ ! -s "$dir/report.json" ]; then
        reasons="$reasons; no report.json"
    else
        verdict=$(field "$dir/report.json" verdict)
        msg=$(field "$dir/report.json" message)
        [ "$verdict" = "$want" ] || reasons="$reasons; verdict ${verdict:-<none>}, want $want"
        printf '%s\n' "$msg" | grep -Eq -- "$ere" ||
            reasons="$reasons; the message does not say what went wrong (want /$ere/)"
        # the server says so on stderr (kept in the transcript) when a redirect was followed
        if grep -q 'a redirect was followed' "$dir/report.json"; then
            reasons="$reasons; a redirect was followed"
        fi
    fi
    [ "$elapsed" -lt "$MAX_ELAPSED_MS" ] ||
        reasons="$reasons; took $secs (limit $((MAX_ELAPSED_MS / 1000))s)"
    rss=$(sed -n 's/^mcpcert: peak-rss-kb \([0-9][0-9]*\).*$/\1/p' "$dir/stderr" | tail -n 1)
    if [ -z "$rss" ]; then
        reasons="$reasons; no 'mcpcert: peak-rss-kb N' line on stderr"
    elif [ "$rss" -ge "$MAX_RSS_KB" ]; then
        reasons="$reasons; peak RSS ${rss}kB (limit ${MAX_RSS_KB}kB)"
    fi
    if [ "$mode" = redirect-remote ] && [ "$STRACE" = yes ] &&
        connects_of "$mode" | grep -qF "\"$REMOTE\""; then
        reasons="$reasons; mcpcert tried to connect to $REMOTE"
    fi

    # leftovers: a moment for the stopped server to be reaped, then kill and fail
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        left=$(ours)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        reasons="$reasons; left running:"
        for p in $left; do
            reasons="$reasons $p"
            kill -KILL "$p" 2>/dev/null
        done
    fi

    if [ -z "$reasons" ]; then
        echo "ok $mode $verdict $secs ${rss}kB"
        passed=$((passed + 1))
    else
        echo "not ok $mode ${verdict:-<none>} $secs ${rss:-?}kB: ${reasons#; }"
        echo "#   message: $(printf '%s' "$msg" | cut -c1-300)"
        if [ -s "$dir/stderr" ]; then
            echo "#   mcpcert stderr (last lines):"
            tail -n 5 "$dir/stderr" | cut -c1-300 | sed 's/^/#     /'
        fi
        failed=$((failed + 1))
    fi
    rm -rf "$dir"
}

# A stream that never completes an event, or headers that never end: the deadline decides.
run_mode slowloris-sse      TIMEOUT 'event stream is still open'
run_mode slowloris-headers  TIMEOUT 'no complete HTTP response headers'
# Bounds: one message (an SSE event, a JSON body: after decompression), the response headers.
run_mode huge-sse-event     FAIL "SSE event's data exceeds the 4 MiB bound"
run_mode gzip-bomb          FAIL 'JSON message\) exceeds the 4 MiB bound after decompression \(Content-Encoding: gzip\)'
run_mode chunked-forever    FAIL 'JSON message\) exceeds the 4 MiB bound$'
run_mode header-flood       FAIL 'response headers exceed the 256 KiB bound'
run_mode status-1xx-loop    FAIL 'response headers exceed the 256 KiB bound'
# Redirects are answers, never followed, wherever they point.
run_mode redirect-loop      FAIL 'HTTP 307 redirect to http://127\.0\.0\.1:[0-9]+/mcp/loop/[0-9]+ not followed'
run_mode redirect-remote    FAIL "HTTP 30[78] redirect to http://${REMOTE//./\\.}/mcp not followed"
# An answer cut short, or not labelled as JSON or an event stream, carries no response.
run_mode reset-mid-body     FAIL 'cut short after [0-9]+ of 100000 body bytes'
run_mode wrong-content-type FAIL 'of type text/html.*neither application/json nor text/event-stream'
run_mode no-content-type    FAIL 'without a Content-Type'

if [ "$STRACE" = no ]; then
    echo "# strace is not usable here: redirect-remote's no-contact check rests on the message alone"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
