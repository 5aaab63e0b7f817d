#!/usr/bin/env bash
# Hostile implementations: mcpcert must survive each mode of tests/hostile/h_hostile with the
# right verdict and exit code, in bounded time and memory, leaving no process behind.
#
#   MCPC_BUILDDIR  where mcpcert, targets/refserver and tests/hostile/h_hostile are built
#                  (default: the repository root)
#
# One line per mode ("ok MODE VERDICT TIME RSS" / "not ok MODE ...: reasons"), then
# "N passed, N failed"; exits 1 on any failure.
set -u

SRCROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${MCPC_BUILDDIR:-$SRCROOT}
MCPCERT=$BUILDDIR/mcpcert
REFSERVER=$BUILDDIR/targets/refserver
HOSTILE=$BUILDDIR/tests/hostile/h_hostile

CASE=BASE-ENV-06
CASE_TIMEOUT_MS=2000
OUTER_TIMEOUT_S=60   # the safety net; it must never fire
MAX_ELAPSED_MS=30000
MAX_RSS_KB=65536

passed=0
failed=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpc-hostile.XXXXXX") || { echo "cannot create a temp dir" >&2; exit 1; }

# A token in the environment of everything this run starts, so leftover detection can tell our
# processes from those of a concurrent run (used when /proc/PID/environ is readable).
MCPC_HOSTILE_TOKEN="$$.$RANDOM.$RANDOM"
export MCPC_HOSTILE_TOKEN

# Run h_hostile through a symlink with a path unique to this run: `pgrep -f` on it only matches
# our own hostile processes (and their forked children, which share the command line).
HLINK=$WORK/tests/hostile/h_hostile
HPAT=$(printf '%s' "$HLINK" | sed 's/[][\.*^$+?(){}|]/\\&/g')
if [ -x "$HOSTILE" ]; then
    mkdir -p "$WORK/tests/hostile" && ln -s "$HOSTILE" "$HLINK"
fi

# PIDs (one a line) of live, non-zombie hostile processes of this run: our h_hostile command
# line, or a process named h_hostile / h_hostile_kid; excluding those listed in $PRE (they
# existed before the mode started). No broad `pgrep -f h_hostile`: it would also match, say, an
# editor or a compiler working on tests/hostile/h_hostile.c, and we kill what we find.
PRE=""
ours() {
    local p st
    { pgrep -f -- "$HPAT"; pgrep -x h_hostile; pgrep -x h_hostile_kid; } 2>/dev/null |
        sort -u | while read -r p; do
            [ -n "$p" ] || continue
            [ "$p" = "$$" ] && continue
            case " $PRE " in *" $p "*) continue ;; esac
            st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
            case $st in Z*) continue ;; esac
            # Another run's process (a different token) is not ours; no token or an unreadable
            # environment counts as ours.
            if [ -r "/proc/$p/environ" ] &&
                tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q '^MCPC_HOSTILE_TOKEN=' &&
                ! tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
                    grep -qxF "MCPC_HOSTILE_TOKEN=$MCPC_HOSTILE_TOKEN"; then
                continue
            fi
            echo "$p"
        done
}

kill_pids() {
    local p
    for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
}

cleanup() {
    # $PRE still holds the snapshot of the current mode: never kill what predates it.
    # shellcheck disable=SC2046
    kill_pids $(ours)
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() {
    local ns
    ns=$(date +%s%N)
    echo $((ns / 1000000))
}

# The text from the first "cases" key on, as one line.
after_cases() {
    awk '{ i = index($0, "\"cases\""); if (i) print substr($0, i) }'
}

# verdict FILE: cases[0].verdict (jq when present, else the first "verdict" after "cases").
verdict_of() {
    if command -v jq >/dev/null 2>&1; then
        jq -r '.cases[0].verdict // empty' "$1" 2>/dev/null
    else
        tr -d '\n' <"$1" | after_cases |
            grep -o '"verdict"[[:space:]]*:[[:space:]]*"[A-Z_]*"' | head -n 1 |
            sed 's/.*"\([A-Z_]*\)"$/\1/'
    fi
}

message_of() {
    if command -v jq >/dev/null 2>&1; then
        jq -r '.cases[0].message // empty' "$1" 2>/dev/null
    else
        tr -d '\n' <"$1" | after_cases |
            grep -o '"message"[[:space:]]*:[[:space:]]*"[^"]*"' | head -n 1 |
            sed 's/^"message"[[:space:]]*:[[:space:]]*//'
    fi
}

report_parses() {
    if command -v jq >/dev/null 2>&1; then
        jq -e . "$1" >/dev/null 2>&1
    else
        # Crude: non-empty, an object from the first to the last non-blank character.
        [ -s "$1" ] && [ "$(tr -d ' \t\r\n' <"$1" | cut -c1)" = "{" ] &&
            [ "$(tr -d ' \t\r\n' <"$1" | tail -c 1)" = "}" ]
    fi
}

# run_mode MODE EXPECTED_EXIT "ALLOWED VERDICTS" [EXTRA H_HOSTILE ARGS...]
run_mode() {
    local mode=$1 want_rc=$2 allowed=$3
    shift 3
    local dir=$WORK/$mode
    local reasons="" verdict="" rss="" rc t0 t1 elapsed secs left p

    if [ ! -x "$HOSTILE" ]; then
        echo "not ok $mode: SKIPPED, $HOSTILE is missing (build it: make check)"
        failed=$((failed + 1))
        return
    fi
    if [ ! -x "$MCPCERT" ]; then
        echo "not ok $mode: $MCPCERT is missing"
        failed=$((failed + 1))
        return
    fi
    mkdir -p "$dir"

    PRE=" $(ours | tr '\n' ' ') "
    t0=$(now_ms)
    timeout -k 5 "$OUTER_TIMEOUT_S" "$MCPCERT" run --case "$CASE" --timeout "$CASE_TIMEOUT_MS" \
        --report-dir "$dir" --stats -- "$HLINK" "$mode" "$@" \
        </dev/null >"$dir/stdout" 2>"$dir/stderr"
    rc=$?
    t1=$(now_ms)
    elapsed=$((t1 - t0))
    secs="$((elapsed / 1000)).$(((elapsed % 1000) / 100))s"

    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        reasons="$reasons; the outer ${OUTER_TIMEOUT_S}s timeout fired (exit $rc)"
    elif [ "$rc" -ne "$want_rc" ]; then
        reasons="$reasons; exit $rc, want $want_rc"
    fi

    if [ ! -f "$dir/report.json" ]; then
        reasons="$reasons; no report.json"
    elif ! report_parses "$dir/report.json"; then
        reasons="$reasons; report.json does not parse"
    else
        verdict=$(verdict_of "$dir/report.json")
        case " $allowed " in
            *" ${verdict:-<none>} "*) ;;
            *) reasons="$reasons; verdict ${verdict:-<none>}, want one of: $allowed" ;;
        esac
    fi

    if [ "$elapsed" -ge "$MAX_ELAPSED_MS" ]; then
        reasons="$reasons; took $secs (limit $((MAX_ELAPSED_MS / 1000))s)"
    fi

    rss=$(sed -n 's/^mcpcert: peak-rss-kb \([0-9][0-9]*\).*$/\1/p' "$dir/stderr" | tail -n 1)
    if [ -z "$rss" ]; then
        reasons="$reasons; no 'mcpcert: peak-rss-kb N' line on stderr"
    elif [ "$rss" -ge "$MAX_RSS_KB" ]; then
        reasons="$reasons; peak RSS ${rss}kB (limit ${MAX_RSS_KB}kB)"
    fi

    # Leftovers: allow a moment for killed processes to be reaped, then kill and fail.
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        left=$(ours)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        reasons="$reasons; left running:"
        for p in $left; do
            reasons="$reasons $p($(ps -o comm= -p "$p" 2>/dev/null))"
        done
        # shellcheck disable=SC2086
        kill_pids $left
    fi

    if [ -z "$reasons" ]; then
        echo "ok $mode $verdict $secs ${rss}kB"
        passed=$((passed + 1))
    else
        echo "not ok $mode ${verdict:-<none>} $secs ${rss:-?}kB: ${reasons#; }"
        if [ -f "$dir/report.json" ]; then
            echo "#   message: $(message_of "$dir/report.json" | cut -c1-300)"
        fi
        if [ -s "$dir/stderr" ]; then
            echo "#   mcpcert stderr (last lines):"
            tail -n 5 "$dir/stderr" | cut -c1-300 | sed 's/^/#     /'
        fi
        failed=$((failed + 1))
    fi
    rm -rf "$dir"
}

run_mode flood       1 "FAIL"
run_mode silent      1 "TIMEOUT"
run_mode bigline     1 "FAIL"
run_mode deepnest    1 "FAIL"
run_mode badutf8     1 "FAIL"
run_mode diemid      1 "CRASH FAIL"
run_mode ignoreterm  1 "TIMEOUT"
run_mode forker      1 "TIMEOUT"
run_mode crashsig    1 "CRASH"
run_mode banner      1 "FAIL TIMEOUT"
if [ -x "$REFSERVER" ] || [ ! -x "$HOSTILE" ]; then
    run_mode stderrflood 0 "PASS" -- "$REFSERVER"
else
    echo "not ok stderrflood: $REFSERVER is missing"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
