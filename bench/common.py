"""Shared helpers for the benchmark scripts: timing, one result line, the results file.

Both sides of a comparison are timed in the same process, interleaved (ours, baseline, ours, ...) and the best
run of each is kept: the machine is shared, so the best run is the one least disturbed by other work, and
interleaving exposes both sides to the same load. Every record carries the 1-minute load average.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the scripts import lm_eval_thinkpack and tests.chat_fixtures from the checkout
    sys.path.insert(0, str(ROOT))


def best_of(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` runs: the least disturbed by the other core's load."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(ours: Callable[[], Any], baseline: Callable[[], Any], repeats: int = 3) -> tuple[float, float]:
    """Best wall times (ours, baseline) over ``repeats`` alternating rounds."""
    best_ours = best_base = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        best_ours = min(best_ours, time.perf_counter() - start)
        start = time.perf_counter()
        baseline()
        best_base = min(best_base, time.perf_counter() - start)
    return best_ours, best_base


def load() -> float:
    """The 1-minute load average (the machine has 2 cores and is shared)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def check_checkout() -> None:
    """The venv also holds an installed (non-editable) copy of lm_eval_thinkpack: make sure the figures are the
    checkout's."""
    mod = sys.modules.get("lm_eval_thinkpack")
    if mod is not None and not Path(mod.__file__).resolve().is_relative_to(ROOT):
        raise RuntimeError(f"lm_eval_thinkpack was imported from {mod.__file__}, not from the checkout {ROOT}")


def report(name: str, ours: float, baseline: float, unit: str, **extra: Any) -> dict[str, Any]:
    """Print one comparison line (ratio > 1: we are faster) and return its record."""
    check_checkout()
    ratio = ours / baseline if baseline else float("inf")
    extra.setdefault("load", load())
    extras = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items())
    print(f"{name:18s} ours={ours:,.1f} {unit}  baseline={baseline:,.1f} {unit}  ratio={ratio:.2f}x  {extras}".rstrip(),
          flush=True)
    return {"ours": ours, "baseline": baseline, "ratio": ratio, "unit": unit, **extra}


def save(records: dict[str, dict[str, Any]]) -> None:
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    old.update(records)
    RESULTS.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


WORDS = "so we add the carry then 7 + 5 = 12 wait let me check again : the answer is 42 , 3.5 $".split()


def gsm8k_like(n: int, seed: int = 0, max_chars: int = 40_000) -> tuple[list[dict], list[str]]:
    """GSM8K-style raw docs and one qwen3-style response each: 70% valid traces (1k to ``max_chars`` characters,
    log-uniform), 10% empty, 10% missing, 10% truncated; about 70% of the answers right."""
    rng = random.Random(seed)
    filler = " ".join(rng.choice(WORDS) for _ in range(60_000))
    docs, resps = [], []
    for i in range(n):
        gold = rng.randint(1, 10_000)
        docs.append({"question": f"Question {i}: what is {gold - 7} + 7?",
                     "answer": f"{gold - 7} + 7 = {gold}\n#### {gold}"})
        chars = int(math.exp(rng.uniform(math.log(1_000), math.log(max_chars))))
        start = rng.randrange(0, len(filler) - chars)
        trace = filler[start:start + chars]
        guess = gold if rng.random() < 0.7 else gold + 1
        kind = i % 10
        if kind < 7:
            text = f"<think>\n{trace}\n</think>\n\nSo the total is {guess}.\n#### {guess}"
        elif kind == 7:
            text = f"<think>\n\n</think>\n\nThe total is {guess}.\n#### {guess}"
        elif kind == 8:
            text = f"The total is {guess}.\n#### {guess}"
        else:
            text = f"<think>\n{trace}"  # truncated: no closer
        resps.append(text)
    return docs, resps
