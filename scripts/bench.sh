#!/usr/bin/env bash
# The walkers benchmark (../shared/WORKLOAD.md) against a fresh release server per run, on
# 127.0.0.1 only. Each run's bots sample the server's /proc/PID/stat at the exact edges of their
# measured window (--server-pid), so "server CPU" covers that window and nothing else.
#
#   scripts/bench.sh sweep    1 x 50/100/200/400 players and 10/50/100/200 lobbies x 10 (default)
#   scripts/bench.sh max      largest total at R Hz with every snapshot delivered and p99 < 50 ms
#                             (lobbies of 10; totals 500, 1000, ... until one fails)
#   scripts/bench.sh smoke    two short runs, to check the script itself
#   scripts/bench.sh run L P  one run of L lobbies x P players
#
# Environment: RATE (tick and snapshot rate, 30), WARMUP (5s), DURATION (20s), RAMP (500/s),
# TOTALS (the max mode's steps), P99_MS (50), OUT (where JSON and logs go), BUILD (0: use the
# release binaries already built).
# Results: one JSON report per run in $OUT, and a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-sweep}
RATE=${RATE:-30}
WARMUP=${WARMUP:-5s}
DURATION=${DURATION:-20s}
RAMP=${RAMP:-500/s}
P99_MS=${P99_MS:-50}
TOTALS=${TOTALS:-500 1000 1500 2000 2500 3000 3500 4000 5000 6000}
OUT=${OUT:-target/bench/$(date +%Y%m%d-%H%M%S)-$MODE}
SERVER=target/release/tickrelay
BOTS=target/release/tickrelay-bots
TABLE="python3 scripts/bench_table.py"

mkdir -p "$OUT"
# Thousands of sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ "${BUILD:-1}" != 0 ]]; then
  cargo build --release --bins >&2
fi

SERVER_PID=""
ADDR=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# start_server NAME TOTAL_PLAYERS LOBBIES PLAYERS: a fresh server on a free port; sets SERVER_PID, ADDR.
start_server() {
  local log="$OUT/$1.server.log"
  TICKRELAY__SERVER__LOG=warn \
  TICKRELAY__LOBBY__TICK_RATE="$RATE" \
  TICKRELAY__LOBBY__SNAPSHOT_RATE="$RATE" \
  TICKRELAY__LOBBY__MAX_PLAYERS=$(( $4 > 512 ? $4 : 512 )) \
  TICKRELAY__LOBBY__MAX_LOBBIES=$(( $3 + 100 )) \
  TICKRELAY__LIMITS__MAX_CONNECTIONS=$(( $2 + 1000 )) \
  TICKRELAY__LIMITS__MAX_CONNECTIONS_PER_IP=$(( $2 + 1000 )) \
    "$SERVER" --bind 127.0.0.1:0 >"$log" 2>&1 &
  SERVER_PID=$!
  ADDR=""
  for _ in $(seq 100); do
    ADDR=$(sed -n 's|^tickrelay listening on http://||p' "$log" | head -n1)
    [[ -n "$ADDR" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start; see $log" >&2
  cat "$log" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  # The server exits within its shutdown deadline (5 s); do not wait forever regardless.
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# run_one LOBBIES PLAYERS: one measured run; its JSON path on stdout.
run_one() {
  local l=$1 p=$2 name="walkers-${1}x${2}"
  local total=$(( l * p ))
  # run_one runs in a $(...) subshell: it must clean up its own server if interrupted.
  trap cleanup EXIT
  start_server "$name" "$total" "$l" "$p"
  echo "== $l x $p walkers at $RATE Hz against $ADDR (server pid $SERVER_PID)" >&2
  # A failed run still writes its report; the table shows what went wrong.
  "$BOTS" --url "ws://$ADDR/ws" --lobbies "$l" --players "$p" --game walkers \
    --warmup "$WARMUP" --duration "$DURATION" --ramp "$RAMP" \
    --server-pid "$SERVER_PID" --quiet --json "$OUT/$name.json" \
    >"$OUT/$name.txt" 2>"$OUT/$name.bots.log" || true
  cat "$OUT/$name.txt" >&2
  stop_server
  echo "$OUT/$name.json"
}

case "$MODE" in
  sweep)
    files=()
    for p in 50 100 200 400; do files+=("$(run_one 1 "$p")"); done
    for l in 10 50 100 200; do files+=("$(run_one "$l" 10)"); done
    $TABLE table "${files[@]}"
    ;;
  smoke)
    WARMUP=${WARMUP_SMOKE:-1s} DURATION=${DURATION_SMOKE:-3s}
    files=("$(run_one 1 50)" "$(run_one 10 10)")
    $TABLE table "${files[@]}"
    ;;
  run)
    [[ $# -eq 3 ]] || { echo "usage: $0 run LOBBIES PLAYERS" >&2; exit 2; }
    $TABLE table "$(run_one "$2" "$3")"
    ;;
  max)
    files=()
    best=0
    for total in $TOTALS; do
      f=$(run_one $(( total / 10 )) 10)
      files+=("$f")
      if $TABLE check --rate "$RATE" --p99 "$P99_MS" "$f" >&2; then
        best=$total
      else
        break
      fi
    done
    $TABLE table "${files[@]}"
    echo
    echo "Largest total at $RATE Hz with every snapshot delivered and p99 < $P99_MS ms: $best players (lobbies of 10)."
    ;;
  *)
    echo "usage: $0 [sweep|max|smoke|run L P]" >&2
    exit 2
    ;;
esac
echo "(reports in $OUT)" >&2
