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
#   scripts/bench.sh compare  before and after side by side: the server and bots of commit BASE
#                             (built once into target/bench-base/) against this tree's, each of
#                             CONFIGS run REPEAT times, alternating, medians in one table
#
# Environment: RATE (tick and snapshot rate, 30), WARMUP (5s), DURATION (20s), RAMP (500/s),
# TOTALS (the max mode's steps), P99_MS (50), OUT (where JSON and logs go), BUILD (0: use the
# release binaries already built), SERVER and BOTS (other binaries to run), BASE (compare: the
# commit to compare with, 11776b4), CONFIGS (compare: "1x200 1x400 10x10 50x10"), REPEAT (3).
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
SERVER=${SERVER:-target/release/tickrelay}
BOTS=${BOTS:-target/release/tickrelay-bots}
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
    "$SERVER" --config "${SERVER_CONFIG:-config/default.toml}" --bind 127.0.0.1:0 >"$log" 2>&1 &
  SERVER_PID=$!
  ADDR=""
  for _ in $(seq 100); do
    ADDR=$(sed -n 's|^tickrelay listening on http://||p' "$log" | head -n1)
    if [[ -n "$ADDR" ]]; then
      # The idle server's memory, so the table can say what each connection added.
      sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SERVER_PID/status" >"$OUT/$1.idle_kib"
      return 0
    fi
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

# run_one LOBBIES PLAYERS [TAG]: one measured run; its JSON path on stdout.
run_one() {
  local l=$1 p=$2 name="walkers-${1}x${2}${3:+-$3}"
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
  compare)
    BASE=${BASE:-11776b4}
    CONFIGS=${CONFIGS:-"1x200 1x400 10x10 50x10"}
    REPEAT=${REPEAT:-3}
    base_dir=target/bench-base/$BASE
    if [[ ! -x "$base_dir/release/tickrelay" || ! -x "$base_dir/release/tickrelay-bots" ]]; then
      echo "building the server and bots of $BASE into $base_dir (once)" >&2
      rm -rf "$base_dir/src" && mkdir -p "$base_dir/src"
      git archive "$BASE" | tar -x -C "$base_dir/src"
      (cd "$base_dir/src" && cargo build --release --bins --target-dir ..) >&2
    fi
    now_server=$SERVER now_bots=$BOTS
    args=()
    for c in $CONFIGS; do
      l=${c%x*} p=${c#*x}
      for r in $(seq "$REPEAT"); do
        # Alternate, so drift in the machine's speed falls on both sides alike.
        SERVER="$base_dir/release/tickrelay" BOTS="$base_dir/release/tickrelay-bots"
        SERVER_CONFIG="$base_dir/src/config/default.toml"
        args+=("before=$(run_one "$l" "$p" "before-$r")")
        SERVER=$now_server BOTS=$now_bots SERVER_CONFIG=config/default.toml
        args+=("after=$(run_one "$l" "$p" "after-$r")")
      done
    done
    $TABLE compare "${args[@]}"
    echo
    echo "(before: $BASE, server and bots; after: this tree; medians of $REPEAT runs each, alternating)"
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
    echo "usage: $0 [sweep|max|smoke|run L P|compare]" >&2
    exit 2
    ;;
esac
echo "(reports in $OUT)" >&2
