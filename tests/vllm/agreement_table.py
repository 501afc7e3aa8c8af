"""Print the per-family agreement with vLLM's reasoning parsers (run in the vLLM tier's venv).

    python tests/vllm/agreement_table.py [--per-class N]

Columns: generations compared, agreeing outright, differing only as a pinned difference predicts (named),
and disagreements that no pinned difference explains (the differential test fails on any of those).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.vllm import differential as D  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=40, help="generations per (spelling, prefill, class)")
    args = ap.parse_args(argv)
    rows, total = [], [0, 0, 0, 0]
    for pair in D.pairs():
        if pair.parser not in D.SPECS:
            rows.append((pair.family, pair.parser, "-", "-", "-", "-", "not comparable: " + D.NOT_COMPARABLE.get(
                pair.parser, "no Spec")[:70]))
            continue
        r = D.run_pair(pair, args.per_class)
        pinned = sum(r.pinned.values())
        for i, v in enumerate((r.cases, r.agree, pinned, len(r.failures))):
            total[i] += v
        detail = ", ".join(f"{k} {v}" for k, v in sorted(r.pinned.items(), key=lambda kv: -kv[1]))
        rows.append((pair.family, pair.parser, r.cases, r.agree, pinned, len(r.failures), detail))
    head = ("family", "vLLM parser", "cases", "agree", "pinned", "unexplained", "pinned differences (cases)")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print(f"| total | | {total[0]} | {total[1]} | {total[2]} | {total[3]} | |")
    return 1 if total[3] else 0


if __name__ == "__main__":
    raise SystemExit(main())
