"""Shared helpers for the benchmark scripts: timing, one result line, the results file."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")


def best_of(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` runs: the least disturbed by the other core's load."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, ours: float, baseline: float, unit: str, **extra: Any) -> dict[str, Any]:
    """Print one comparison line (ratio > 1: we are faster) and return its record."""
    ratio = ours / baseline if baseline else float("inf")
    extras = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items())
    print(f"{name:18s} ours={ours:,.1f} {unit}  baseline={baseline:,.1f} {unit}  ratio={ratio:.2f}x  {extras}".rstrip())
    return {"ours": ours, "baseline": baseline, "ratio": ratio, "unit": unit, **extra}


def save(records: dict[str, dict[str, Any]]) -> None:
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    old.update(records)
    RESULTS.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
