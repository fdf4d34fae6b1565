#!/usr/bin/env bash
# A local three-node cluster (README "Running a cluster"): one redis-server on 127.0.0.1 with a
# throwaway directory and no persistence, and three release tickrelay nodes sharing it, each
# node's log lines prefixed with its name. Ctrl-C, SIGTERM or any one process exiting stops them
# all. `make cluster` builds the browser client first and runs this.
#
# Settings (environment):
#   REDIS_PORT   redis-server's port (default 6390)
#   BASE_PORT    the first node's port; the others follow (default 8081: 8081, 8082, 8083)
#   TICKRELAY__SECTION__KEY  passed to every node as usual (e.g. TICKRELAY__ADMIN__TOKEN)
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT=${REDIS_PORT:-6390}
BASE_PORT=${BASE_PORT:-8081}
NODES=3
CARGO=${CARGO:-cargo}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "cluster: redis-server not found; install it first: apt-get install redis-server" >&2
  exit 2
fi
# `wait -n -p` (below) tells which process exited; it needs bash 5.1.
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501)); then
  echo "cluster: needs bash >= 5.1 (this is $BASH_VERSION)" >&2
  exit 2
fi

echo "cluster: building the server"
"$CARGO" build --release --bin tickrelay
bin=${CARGO_TARGET_DIR:-target}/release/tickrelay

# One secret per run, shared by every node: each must verify the seat tickets the others sign.
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tickrelay-cluster.XXXXXX")
declare -A names # pid -> name, for saying which one exited
pids=()

stop_all() {
  trap - INT TERM EXIT
  local pid nodes=() _
  for pid in "${pids[@]}"; do
    [ "${names[$pid]}" = redis ] || nodes+=("$pid")
  done
  # Nodes first, so they shut down with Redis still there (a terminal's Ctrl-C reaches all at once).
  kill -TERM "${nodes[@]}" 2>/dev/null || true
  # A node exits within server.shutdown_deadline (5s); past 15s, stop waiting politely.
  for _ in $(seq 150); do
    kill -0 "${nodes[@]}" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "${nodes[@]}" 2>/dev/null || true
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop_all EXIT
trap 'echo "cluster: stopping"; exit 0' INT TERM

# Runs NAME COMMAND... in the background with each output line prefixed "NAME | ". The prefixer
# ignores Ctrl-C so that it still shows the process's last lines while it shuts down.
start() {
  local name=$1
  shift
  "$@" > >(trap '' INT TERM; exec sed -u "s/^/$name | /") 2>&1 &
  pids+=("$!")
  names[$!]=$name
}

if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
  echo "cluster: something already answers on port $REDIS_PORT; set REDIS_PORT to another" >&2
  exit 1
fi
start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$tmp" \
  --save "" --appendonly no --daemonize no --loglevel warning
for _ in $(seq 100); do
  [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
if ! kill -0 "${pids[0]}" 2>/dev/null || [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" != PONG ]; then
  echo "cluster: redis-server did not start on port $REDIS_PORT (its log is above)" >&2
  exit 1
fi

# A page served by one node opens a WebSocket to another when it is redirected: every node
# allows every node's origin (server.allowed_origins; by default only a page's own).
origins=""
for i in $(seq "$NODES"); do
  port=$((BASE_PORT + i - 1))
  origins+="${origins:+,}\"http://127.0.0.1:$port\",\"http://localhost:$port\""
done
export TICKRELAY__SERVER__ALLOWED_ORIGINS="[$origins]"

for i in $(seq "$NODES"); do
  port=$((BASE_PORT + i - 1))
  TICKRELAY__CLUSTER__REDIS_URL="redis://127.0.0.1:$REDIS_PORT/" \
  TICKRELAY__CLUSTER__NODE_ID="node$i" \
  TICKRELAY__CLUSTER__SECRET="$secret" \
  TICKRELAY__CLUSTER__PUBLIC_URL="ws://127.0.0.1:$port/ws" \
    start "node$i" "$bin" --config config/default.toml --bind "127.0.0.1:$port"
done

echo "cluster: redis on 127.0.0.1:$REDIS_PORT; nodes (Ctrl-C stops all):"
for i in $(seq "$NODES"); do
  echo "cluster:   node$i  http://127.0.0.1:$((BASE_PORT + i - 1))/"
done

# Until one process exits (or a signal's trap runs): then stop the rest.
status=0
wait -n -p exited "${pids[@]}" || status=$?
echo "cluster: ${names[$exited]} exited (status $status); stopping the others" >&2
exit 1
