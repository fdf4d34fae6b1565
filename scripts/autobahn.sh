#!/usr/bin/env bash
# WebSocket conformance: the Autobahn TestSuite cases, driven by kosoku (PyPI), against the
# server's /echo route on 127.0.0.1. Builds the release server, starts it on a free port, runs
# every case, judges the report with scripts/autobahn/summarize.py, stops the server.
# Closing line: `autobahn: N passed, M failed, K skipped`; exits non-zero if any case failed.
# docs/conformance.md explains the skipped cases (no compression; messages over the limits).
#
# Settings (environment):
#   AUTOBAHN_REPORT_DIR   where kosoku writes its HTML/JSON report (default target/autobahn)
#   AUTOBAHN_CASES        space-separated case ids or globs to run instead of all, e.g. "1.* 7.*"
#   AUTOBAHN_PARALLELISM  cases at once (default 1)
#   AUTOBAHN_STRICT_LIMITS=1  also require close 1009 on every case over the message limit
set -euo pipefail
cd "$(dirname "$0")/.."

KOSOKU_VERSION=0.1.0
# The config's ceiling (limits.max_message_bytes must be 256..=1048576).
MAX_MESSAGE_BYTES=1048576
REPORT_DIR=${AUTOBAHN_REPORT_DIR:-target/autobahn}
PARALLELISM=${AUTOBAHN_PARALLELISM:-1}
PY=${PYTHON:-python3}
started=$(date +%s)

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "autobahn: kosoku needs Python >= 3.10; $PY is $("$PY" --version 2>&1)" >&2
  exit 2
fi
if [ "$("$PY" -c 'import importlib.metadata as m; print(m.version("kosoku"))' 2>/dev/null)" != "$KOSOKU_VERSION" ]; then
  echo "autobahn: installing kosoku==$KOSOKU_VERSION"
  "$PY" -m pip install --quiet --disable-pip-version-check "kosoku==$KOSOKU_VERSION"
fi

echo "autobahn: building the server"
cargo build --release --bin tickrelay

log=$(mktemp)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

TICKRELAY__SERVER__ECHO_ROUTE=true \
TICKRELAY__LIMITS__MAX_MESSAGE_BYTES=$MAX_MESSAGE_BYTES \
TICKRELAY__SERVER__LOG=warn \
  "${CARGO_TARGET_DIR:-target}/release/tickrelay" --bind 127.0.0.1:0 >"$log" 2>&1 &
server_pid=$!

addr=
for _ in $(seq 1 300); do
  addr=$(sed -n 's#^tickrelay listening on http://##p' "$log")
  [ -n "$addr" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "autobahn: the server exited at start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "autobahn: the server printed no address within 30 s:" >&2
  cat "$log" >&2
  exit 1
fi
case "$addr" in
  127.*) ;;
  *) echo "autobahn: refusing to test non-loopback address $addr" >&2; exit 1 ;;
esac

select=()
for c in ${AUTOBAHN_CASES:-}; do select+=(-i "$c"); done

rm -rf "$REPORT_DIR"
echo "autobahn: kosoku $KOSOKU_VERSION against ws://$addr/echo (max message $MAX_MESSAGE_BYTES bytes)"
# (kosoku's console script, run by the interpreter it was installed into.)
# kosoku exits 1 when any case is not OK/NON-STRICT/INFORMATIONAL, which the compression cases
# (UNIMPLEMENTED) always are here; the verdict is summarize.py's, from the report.
set +e
timeout 1200 "$PY" -c 'import sys; from kosoku._cli import main; sys.argv[0] = "kosoku"; main()' \
  "ws://$addr/echo" -p "$PARALLELISM" -o "$REPORT_DIR" "${select[@]}" >"$REPORT_DIR.log" 2>&1
kosoku_rc=$?
set -e
tail -n 1 "$REPORT_DIR.log"
if [ ! -f "$REPORT_DIR/index.json" ]; then
  echo "autobahn: kosoku wrote no report (exit $kosoku_rc):" >&2
  tail -n 40 "$REPORT_DIR.log" >&2
  echo "autobahn: 0 passed, 1 failed"
  exit 1
fi

extra=()
[ "${AUTOBAHN_STRICT_LIMITS:-0}" = 1 ] && extra+=(--strict-limits)
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "autobahn: the server died during the suite:" >&2
  tail -n 40 "$log" >&2
  extra+=(--server-died)
fi
set +e
"$PY" scripts/autobahn/summarize.py "$REPORT_DIR" "$MAX_MESSAGE_BYTES" "${extra[@]}" >"$REPORT_DIR/summary.txt"
rc=$?
set -e
# The table and notes, then the timing, then the closing line last.
sed '$d' "$REPORT_DIR/summary.txt"
echo "autobahn: report in $REPORT_DIR/index.html, $(( $(date +%s) - started )) s in all"
tail -n 1 "$REPORT_DIR/summary.txt"
exit "$rc"
