#!/usr/bin/env python3
"""Turns tickrelay-bots JSON reports into the benchmark's markdown table, or checks one run
against the "every snapshot delivered" bar (used by scripts/bench.sh)."""

import argparse
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(paths):
    print("| lobbies x players | server CPU ms per player-s | peak RSS MiB | bytes per player-s "
          "| snapshots per player-s | missed ticks | input-to-ack p50 / p99 ms "
          "| bots CPU (% of machine) | bots failed / dropped |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in paths:
        try:
            r = load(p)
        except (OSError, ValueError) as e:
            print(f"| {p} | no report ({e}) | | | | | | | |")
            continue
        s = r.get("server") or {}
        lat = r["latency_ms"]
        share = r.get("bots_cpu_share")
        print(
            f"| {r['lobbies']} x {r['players']} "
            f"| {fmt(s.get('cpu_ms_per_player_s'), '.3f')} "
            f"| {fmt(s.get('peak_rss_mib'), '.0f')} "
            f"| {r['bytes_per_bot_s']:,.0f} "
            f"| {r['snapshots_per_bot_s']:.2f} "
            f"| {r['missed_ticks']} "
            f"| {lat['p50']:.1f} / {lat['p99']:.1f} "
            f"| {fmt(None if share is None else share * 100, '.0f')} "
            f"| {r['bots_failed']} / {r['bots_dropped']} |"
        )


def idle_kib(path):
    """The idle server's RSS that bench.sh wrote beside a report (None when absent)."""
    try:
        with open(path.removesuffix(".json") + ".idle_kib") as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


def figures(path):
    """The figures a comparison shows, from one report."""
    r = load(path)
    s = r.get("server") or {}
    players = r["lobbies"] * r["players"]
    idle = idle_kib(path)
    peak = s.get("peak_rss_mib")
    per_conn = None
    if idle is not None and peak is not None and players:
        per_conn = (peak * 1024 - idle) / players
    return {
        "cpu": s.get("cpu_ms_per_player_s"),
        "snaps": r["snapshots_per_bot_s"],
        "p50": r["latency_ms"]["p50"],
        "p99": r["latency_ms"]["p99"],
        "rss": peak,
        "per_conn": per_conn,
        "bots_cpu": r.get("bots_cpu_ms_per_bot_s"),
        "bad": r["bots_failed"] + r["bots_dropped"],
    }


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def compare(pairs):
    """Medians per configuration and side, before beside after."""
    runs = {}
    order = []
    for pair in pairs:
        label, path = pair.split("=", 1)
        try:
            r = load(path)
        except (OSError, ValueError) as e:
            print(f"skipping {path}: {e}", file=sys.stderr)
            continue
        key = f"{r['lobbies']} x {r['players']}"
        if key not in runs:
            order.append(key)
        runs.setdefault(key, {}).setdefault(label, []).append(figures(path))
    print("| lobbies x players | runs | server CPU ms per player-s | snapshots per player-s "
          "| input-to-ack p50 / p99 ms | server peak RSS MiB | RSS KiB per connection "
          "| bots CPU ms per bot-s | bots failed or dropped |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key in order:
        sides = runs[key]
        labels = [l for l in ("before", "after") if l in sides] + \
                 [l for l in sides if l not in ("before", "after")]
        med = {l: {k: median([f[k] for f in sides[l]]) for k in sides[l][0]} for l in labels}
        def cell(k, spec):
            return " / ".join(fmt(med[l][k], spec) for l in labels)
        print(f"| {key} | {' / '.join(str(len(sides[l])) for l in labels)} "
              f"| {cell('cpu', '.3f')} | {cell('snaps', '.2f')} "
              f"| {' vs '.join(fmt(med[l]['p50'], '.1f') + ' / ' + fmt(med[l]['p99'], '.1f') for l in labels)} "
              f"| {cell('rss', '.1f')} | {cell('per_conn', '.1f')} | {cell('bots_cpu', '.3f')} "
              f"| {' / '.join(str(int(sum(f['bad'] for f in sides[l]))) for l in labels)} |")
    print()
    print("Each cell reads before / after (medians of the runs; latency: before vs after).")


def check(path, rate, p99):
    """Every bot in, nothing dropped, ~R snapshots per second, ~no gaps, p99 under the bar."""
    r = load(path)
    expected = r["bots_connected"] * r["window_s"] * rate
    problems = []
    if r["bots_failed"] or r["bots_dropped"] or r["decode_errors"]:
        problems.append(f"{r['bots_failed']} failed, {r['bots_dropped']} dropped, "
                        f"{r['decode_errors']} decode errors")
    if r["snapshots_per_bot_s"] < 0.98 * rate:
        problems.append(f"{r['snapshots_per_bot_s']:.2f} snapshots/s per bot < {rate}")
    if expected and (r["missed_ticks"] + r["resyncs"]) > 0.001 * expected:
        problems.append(f"{r['missed_ticks']} missed ticks, {r['resyncs']} resyncs")
    if r["latency_ms"]["p99"] >= p99:
        problems.append(f"p99 {r['latency_ms']['p99']:.1f} ms >= {p99} ms")
    total = r["lobbies"] * r["players"]
    if problems:
        print(f"{total} players: FAIL: " + "; ".join(problems))
        return 1
    print(f"{total} players: ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table")
    t.add_argument("reports", nargs="+")
    cmp = sub.add_parser("compare")
    cmp.add_argument("pairs", nargs="+", help="LABEL=report.json")
    c = sub.add_parser("check")
    c.add_argument("--rate", type=float, default=30)
    c.add_argument("--p99", type=float, default=50)
    c.add_argument("report")
    a = ap.parse_args()
    if a.cmd == "table":
        table(a.reports)
        return 0
    if a.cmd == "compare":
        compare(a.pairs)
        return 0
    return check(a.report, a.rate, a.p99)


if __name__ == "__main__":
    sys.exit(main())
