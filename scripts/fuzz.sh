#!/usr/bin/env bash
# Coverage-guided fuzzing of the wire decoder and the snapshot mirror (cargo fuzz / libFuzzer),
# each target for a bounded time, starting from seeds made from the encoding of every message.
# Works on the stable toolchain. By default without a sanitizer (tickrelay forbids unsafe code,
# and this is 5-7x the exec/s of AddressSanitizer); FUZZ_SANITIZER=address adds ASan, whose -Z flag
# a stable rustc accepts with RUSTC_BOOTSTRAP=1, set here. docs/conformance.md has the numbers.
# Closing line: `fuzz: N passed, M failed` (one per target); exits non-zero on any crash.
#
# Settings (environment):
#   FUZZ_TIME       seconds per target (default 60)
#   FUZZ_TARGETS    space-separated targets (default: decode_client decode_server snapshot_apply)
#   FUZZ_SANITIZER  none (default: no -Z flags, plain stable) or address (via RUSTC_BOOTSTRAP=1)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-decode_client decode_server snapshot_apply}
SANITIZER=${FUZZ_SANITIZER:-none}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
started=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if [ "$SANITIZER" != none ]; then
  # cargo fuzz passes -Zsanitizer=...; a stable rustc takes -Z flags only with this set.
  export RUSTC_BOOTSTRAP=1
fi

# Fuzz the dependency versions the server ships with: start from the main lockfile (cargo adds
# libfuzzer-sys and arbitrary to it).
cp Cargo.lock fuzz/Cargo.lock

echo "fuzz: building targets (sanitizer $SANITIZER, $(rustc --version))"
# Optimized, with debug assertions and overflow checks (cargo fuzz's default without -O).
# One target dir per sanitizer, so switching does not rebuild everything.
cargo fuzz build --sanitizer "$SANITIZER" --target-dir "fuzz/target/$SANITIZER"
bin="fuzz/target/$SANITIZER/$TRIPLE/release"
if [ "$SANITIZER" = address ]; then
  # What cargo fuzz run sets for ASan.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"
fi
"$bin/gen_seeds" fuzz/corpus

passed=0
failed=0
summary=()
for t in $FUZZ_TARGETS; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t.log"
  echo "fuzz: $t for ${FUZZ_TIME}s"
  set +e
  # The binary `cargo fuzz run` would start, run directly: every target fuzzes the one build
  # made above, even if the sources change meanwhile.
  "$bin/$t" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  # (A crash can come before any of these lines are printed.)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -n 1 | cut -d' ' -f2)
  line="$t: ${execs:-?} execs, ${rate:-?} exec/s, coverage ${cov:-?}, corpus $corpus"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("  ok      $line")
  else
    failed=$((failed + 1))
    summary+=("  FAILED  $line (exit $rc; log $log)")
    echo "fuzz: $t FAILED (exit $rc). The end of its log:" >&2
    tail -n 60 "$log" >&2
    ls "fuzz/artifacts/$t" >&2 || true
    echo "reproduce: $bin/$t fuzz/artifacts/$t/<file>" >&2
  fi
done

echo "fuzz: ${FUZZ_TIME}s per target, $(( $(date +%s) - started ))s in all"
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
