#!/usr/bin/env bash
# What recording a replay costs a lobby tick (benches/replay_tick.rs), robust to a noisy machine:
# ROUNDS rounds, each timing every case plain and then recorded back to back, then the median
# tick time of each case and the median of the per-round ratios recorded/plain. Last, once, what
# the writer thread spends encoding 100 ticks of records.
#
#   scripts/replay_cost.sh                 (ROUNDS=5, SECONDS_EACH=3)
#   BASE=59fead1 scripts/replay_cost.sh    also times that commit's recorded tick in each round
#
# Run it on a quiet machine: nothing building or testing beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-5}
SECONDS_EACH=${SECONDS_EACH:-3}
OUT=${OUT:-target/replay-cost}
mkdir -p "$OUT"
: >"$OUT/rounds.tsv"

bench_bin() {
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("executable") and m.get("target", {}).get("name") == "replay_tick":
        print(m["executable"])'
}

MODES="plain recorded"
if [ -n "${BASE:-}" ]; then
    # That commit's bench, built in the same target directory (shared dependencies) and copied
    # out, since both builds name their binary alike.
    SRC="$OUT/base-src"
    git worktree remove --force "$SRC" 2>/dev/null || rm -rf "$SRC"
    git worktree add --detach "$SRC" "$BASE" >/dev/null
    built=$(cd "$SRC" && CARGO_TARGET_DIR="$ROOT/target" \
        cargo bench --bench replay_tick --no-run --message-format=json 2>/dev/null | bench_bin)
    BASE_BIN="$OUT/replay_tick.base"
    cp "$built" "$BASE_BIN"
    git worktree remove --force "$SRC"
    MODES="plain recorded base"
fi
built=$(cargo bench --bench replay_tick --no-run --message-format=json 2>/dev/null | bench_bin)
BIN="$OUT/replay_tick.this"
cp "$built" "$BIN"

median_us() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"] / 1000)' \
        "target/criterion/$1/new/estimates.json"
}

for round in $(seq "$ROUNDS"); do
    for game in walkers arena; do
        for mode in $MODES; do
            bin=$BIN case=$mode
            if [ "$mode" = base ]; then bin=$BASE_BIN case=recorded; fi
            "$bin" --bench "replay_tick/$game/$case/" --warm-up-time 1 \
                --measurement-time "$SECONDS_EACH" >/dev/null 2>&1
            for n in 64 1024; do
                printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$game" "$n" "$mode" \
                    "$(median_us "replay_tick_$game/$case/$n")" >>"$OUT/rounds.tsv"
            done
        done
    done
    echo "round $round of $ROUNDS done" >&2
done
"$BIN" --bench "writer_encode" --warm-up-time 1 --measurement-time "$SECONDS_EACH" >/dev/null 2>&1

python3 - "$OUT/rounds.tsv" <<'PY'
import statistics, sys, collections, json
t = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    r, game, n, mode, us = line.split("\t")
    t[(game, int(n))].setdefault(mode, {})[r] = float(us)
base = any("base" in m for m in t.values())
print("| game | players | plain tick (median) | recorded tick (median) | recording's cost (median of rounds) | per round |"
      + (" base's recording cost (median) |" if base else ""))
print("|---|---:|---:|---:|---:|---|" + ("---:|" if base else ""))
for (game, n), m in sorted(t.items()):
    rounds = sorted(m["plain"])
    ratios = [m["recorded"][r] / m["plain"][r] - 1 for r in rounds]
    print(f"| {game} | {n} | {statistics.median(m['plain'].values()):.2f} µs "
          f"| {statistics.median(m['recorded'].values()):.2f} µs "
          f"| {100 * statistics.median(ratios):+.1f}% "
          f"| {' '.join(f'{100 * x:+.1f}%' for x in ratios)} |", end="")
    if base:
        b = [m["base"][r] / m["plain"][r] - 1 for r in rounds]
        print(f" {100 * statistics.median(b):+.1f}% |", end="")
    print()
for game in ("walkers", "arena"):
    for n in (64, 1024):
        p = f"target/criterion/replay_tick_{game}/writer_encode_100_ticks/{n}/new/estimates.json"
        us = json.load(open(p))["median"]["point_estimate"] / 1000
        print(f"\nwriter thread, {game} {n}: {us:.0f} µs to encode 100 ticks ({us / 100:.1f} µs a tick)", end="")
print()
PY
