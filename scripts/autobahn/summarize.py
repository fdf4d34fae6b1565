#!/usr/bin/env python3
"""Reads a kosoku (Autobahn TestSuite) report directory and judges it for tickrelay's /echo route.

Usage: summarize.py REPORT_DIR MAX_MESSAGE_BYTES [--strict-limits] [--server-died]

Every case lands in one of three columns:
  passed   behavior OK, NON-STRICT or INFORMATIONAL, and the close OK or INFORMATIONAL.
  skipped  by design, explained in docs/conformance.md:
             12.*, 13.* UNIMPLEMENTED: the server offers no permessage-deflate (PROTOCOL.md 1).
             LIMIT_CASES: messages of 256 KiB to 16 MiB, over what the server accepts or can send
             back; they count as skipped only if the server itself ended the connection (it did not
             hang until the suite gave up). With --strict-limits each one over MAX_MESSAGE_BYTES
             must also carry close 1009.
  failed   everything else.
Prints a table by case group, every case that is not plain OK, and the closing line
`autobahn: N passed, M failed, K skipped`. Exits 1 if anything failed. --server-died (the
server process was gone after the suite) counts as one more failure.
"""

from __future__ import annotations

import collections
import fnmatch
import json
import sys
from pathlib import Path

GROUPS = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved Bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 Handling",
    "7": "Close Handling",
    "9": "Limits/Performance",
    "10": "Misc",
    "12": "Compression (payloads)",
    "13": "Compression (parameters)",
}

# The large-message cases and the size of the one message each sends (Autobahn's case texts).
LIMIT_CASES = {
    "9.1.2": 256 << 10, "9.1.3": 1 << 20, "9.1.4": 4 << 20, "9.1.5": 8 << 20, "9.1.6": 16 << 20,
    "9.2.2": 256 << 10, "9.2.3": 1 << 20, "9.2.4": 4 << 20, "9.2.5": 8 << 20, "9.2.6": 16 << 20,
    "9.3.*": 4 << 20, "9.4.*": 4 << 20, "9.5.*": 1 << 20, "9.6.*": 1 << 20,
}

# tungstenite's max_write_buffer_size in src/server/ws.rs (256 KiB): the largest frame the server
# can send, header included. A 2**18-byte payload has a 10-byte header, so it cannot go out.
MAX_SENDABLE_FRAME = 256 << 10

PASS_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
PASS_CLOSE = {"OK", "INFORMATIONAL"}
COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "other"]


def sort_key(case_id: str) -> list[int]:
    return [int(p) for p in case_id.split(".")]


def limit_size(case_id: str) -> int | None:
    for pattern, size in LIMIT_CASES.items():
        if fnmatch.fnmatchcase(case_id, pattern):
            return size
    return None


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    strict_limits = "--strict-limits" in sys.argv[1:]
    server_died = "--server-died" in sys.argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report_dir, max_bytes = Path(args[0]), int(args[1])
    index = json.loads((report_dir / "index.json").read_text())
    if len(index) != 1:
        print(f"autobahn: expected one agent in {report_dir}/index.json, got {list(index)}")
        return 2
    (cases,) = index.values()
    if not cases:
        print("autobahn: the report has no cases")
        return 2

    by_group: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    notes: list[str] = []
    passed = failed = skipped = 0
    for case_id in sorted(cases, key=sort_key):
        entry = cases[case_id]
        detail = json.loads((report_dir / entry["reportfile"]).read_text())
        behavior, close = entry["behavior"], entry["behaviorClose"]
        code = entry.get("remoteCloseCode")
        group = case_id.split(".")[0]
        by_group[group][behavior if behavior in COLUMNS else "other"] += 1

        size = limit_size(case_id)
        if behavior in PASS_BEHAVIOR and close in PASS_CLOSE:
            passed += 1
            if behavior != "OK" or close != "OK":
                notes.append(f"  {case_id:8} {behavior}/{close}: {detail['result']}")
        elif behavior == "UNIMPLEMENTED" and group in ("12", "13"):
            skipped += 1  # permessage-deflate is not offered; summarized below, not listed
        elif size is not None:
            why = (
                f"{size} bytes > limits.max_message_bytes {max_bytes}: expected close 1009"
                if size > max_bytes
                else f"{size} bytes accepted, but its echo is over the {MAX_SENDABLE_FRAME}-byte "
                "write buffer"
            )
            server_closed = not detail.get("closedByMe", True) and not detail.get(
                "wasServerConnectionDropTimeout", False
            )
            over_limit = size > max_bytes
            ok = server_closed and (code == 1009 or not strict_limits or not over_limit)
            if ok:
                skipped += 1
            else:
                failed += 1
            verdict = "skipped (limit)" if ok else "FAILED (limit)"
            notes.append(
                f"  {case_id:8} {verdict}: {why}; the server closed with "
                f"{code if code is not None else 'no status code'}"
                + ("" if server_closed else " -- it did not end the connection itself")
            )
        else:
            failed += 1
            notes.append(
                f"  {case_id:8} FAILED {behavior}/{close} (close {code}): "
                f"{detail['result']} / {detail['resultClose']}"
            )

    header = f"{'group':<32}" + "".join(f"{c:>15}" for c in COLUMNS)
    print(header)
    for group in sorted(by_group, key=int):
        name = f"{group} {GROUPS.get(group, '')}"
        print(f"{name:<32}" + "".join(f"{by_group[group][c]:>15}" for c in COLUMNS))
    total = collections.Counter()
    for counts in by_group.values():
        total.update(counts)
    print(f"{'all ' + str(len(cases)) + ' cases':<32}" + "".join(f"{total[c]:>15}" for c in COLUMNS))
    unimpl = sum(by_group[g]["UNIMPLEMENTED"] for g in ("12", "13"))
    if unimpl:
        print(f"12.*, 13.*: {unimpl} UNIMPLEMENTED, skipped: no permessage-deflate by design")
    if notes:
        print("cases that are not plain OK:")
        print("\n".join(notes))
    if server_died:
        failed += 1
        print("the server process died during the suite: counted as one more failure")
    print(f"autobahn: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
