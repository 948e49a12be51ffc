"""Turn a pytest-benchmark JSON file into the side-by-side table of BENCHMARKS.md.

    python -m pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/ratios.py bench.json

Within each group, every implementation's median is turned into a rate (items per
second, where a benchmark records ``extra_info["items"]``: the peers may run on
fewer items to stay within time) and compared with dlmsfast's rate in that group.
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict


def _impl(bench: dict) -> str:
    named = (bench.get("extra_info") or {}).get("impl")
    if named:
        return str(named)
    params = bench.get("params") or {}
    for key in ("impl", "implementation", "library", "peer"):
        if key in params:
            return str(params[key])
    match = re.search(r"\[(.+)\]$", bench["name"])
    return match.group(1) if match else bench["name"]


def _rate(bench: dict) -> float:
    items = (bench.get("extra_info") or {}).get("items", 1)
    return items / bench["stats"]["median"]


def _fmt_rate(rate: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.2f} {unit}/s"
    return f"{rate:.1f} /s"


def table(data: dict) -> str:
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench.get("group") or "ungrouped"].append(bench)
    lines = ["| group | implementation | median | rate | dlmsfast is faster by |",
             "|---|---|---|---|---|"]
    for group in sorted(groups):
        benches = sorted(groups[group], key=_rate, reverse=True)
        ours = [b for b in benches if _impl(b).startswith("dlmsfast")]
        best = max((_rate(b) for b in ours), default=None)
        for bench in benches:
            median = bench["stats"]["median"]
            rate = _rate(bench)
            ratio = "" if best is None or _impl(bench).startswith("dlmsfast") else f"{best / rate:,.1f}x"
            lines.append(
                f"| {group} | {_impl(bench)} | {median * 1e3:.3f} ms | {_fmt_rate(rate)} | {ratio} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file")
    args = parser.parse_args()
    with open(args.json_file, encoding="utf-8") as handle:
        print(table(json.load(handle)))


if __name__ == "__main__":
    main()
