#!/usr/bin/env bash
# A bots run over a local 3-node cluster, and what it cost Redis (BENCHMARKS.md "Cluster").
#
#   scripts/cluster_bench.sh [TICK_RATE]     (default 30)
#
# Starts redis-server on 127.0.0.1:$REDIS_PORT and three release nodes on 127.0.0.1:$BASE_PORT+1..3,
# each allowed $MAX_LOBBIES lobbies, so a bots run of $LOBBIES x $PLAYERS pointed at node 1 fills it
# and is redirected to the others (creates by Retry, joins by seat ticket). Prints the bots' report,
# each node's lobbies and players, and Redis's commands per second over the measured window (from
# INFO commandstats, reset when the bots start). Everything stops by itself; 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

TICK_RATE=${1:-30}
REDIS_PORT=${REDIS_PORT:-6395}
BASE_PORT=${BASE_PORT:-8180}
LOBBIES=${LOBBIES:-30}
PLAYERS=${PLAYERS:-10}
MAX_LOBBIES=${MAX_LOBBIES:-10}
DURATION=${DURATION:-20s}
BIN=target/release

command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 1; }
cargo build --release --quiet --bin tickrelay --bin tickrelay-bots

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

secret="cluster-bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
for i in 1 2 3; do
  port=$((BASE_PORT + i))
  TICKRELAY__CLUSTER__REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" \
  TICKRELAY__CLUSTER__NODE_ID="node$i" \
  TICKRELAY__CLUSTER__SECRET="$secret" \
  TICKRELAY__LOBBY__MAX_LOBBIES="$MAX_LOBBIES" \
  TICKRELAY__LOBBY__TICK_RATE="$TICK_RATE" \
  TICKRELAY__LOBBY__SNAPSHOT_RATE="$TICK_RATE" \
  TICKRELAY__SERVER__LOG=warn \
    "$BIN/tickrelay" --bind "127.0.0.1:$port" >"$tmp/node$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$((BASE_PORT + i))/healthz" >/dev/null && break; sleep 0.1
  done
done

# Each node's share, sampled halfway through the measured window.
(
  sleep $((5 + ${DURATION%s} / 2))
  for i in 1 2 3; do
    m=$(curl -sf "http://127.0.0.1:$((BASE_PORT + i))/metrics" || true)
    echo "node$i: $(echo "$m" | grep -E '^tickrelay_(lobbies|players|redirects_issued_total|redirects_followed_total) ' | tr '\n' ' ')"
  done >"$tmp/shares.txt"
) &
pids+=($!)
redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
start=$(date +%s.%N)
"$BIN/tickrelay-bots" --url "ws://127.0.0.1:$((BASE_PORT + 1))/ws" --lobbies "$LOBBIES" \
  --players "$PLAYERS" --duration "$DURATION" --quiet | tee "$tmp/bots.txt"
end=$(date +%s.%N)
wait "${pids[-1]}" 2>/dev/null || true
echo
echo "each node's share halfway through the window (/metrics):"
cat "$tmp/shares.txt"
secs=$(echo "$end - $start" | bc)
echo
echo "tick rate $TICK_RATE; redis commands over ${secs}s (INFO commandstats):"
redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | grep '^cmdstat_' |
  awk -F'[:=,]' -v s="$secs" '{printf "  %-22s %8d calls  %8.1f /s  %6.2f us/call\n", $1, $3, $3/s, $7}'
echo "keys: $(redis-cli -p "$REDIS_PORT" dbsize)  memory: $(redis-cli -p "$REDIS_PORT" info memory | tr -d '\r' | grep '^used_memory_human')"
k=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'tr:lobby:*' | head -1)
c=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'tr:code:*' | head -1)
echo "one lobby record ($k): $(redis-cli -p "$REDIS_PORT" memory usage "$k") B; one code key: $(redis-cli -p "$REDIS_PORT" memory usage "$c") B"
