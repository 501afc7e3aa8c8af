"""math_score: latency of check_math vs math_verify's parse + verify called in-process, and the hard time limit.

~200 MATH-style (response, gold) pairs: integers, leading zeros, decimals vs fractions, radicals, polynomials,
multiples of pi, intervals, tuples, sets, degrees, percentages, text answers, equations, matrices, scientific
notation; about a third not equivalent. Each response is a short solution ending in ``\\boxed{...}``.

* ours: ``check_math(response, gold, timeout=5)`` (fast path in-process, else the symbolic worker process);
* baseline: ``math_verify.verify(parse("\\boxed{gold}"), parse(response))`` in this process with no time
  limit (``parsing_timeout=None``, ``timeout_seconds=None``): what a scorer without a worker pays.

Per pair the best of R interleaved runs is kept, with check_math's result cache cleared before every pass (so
every symbolic pair really goes to the worker); throughput is pairs / sum of those latencies. Then the time limit:
4 threads each score ``9^{9^{9^{9}}}`` vs ``1`` with ``timeout=0.5`` at once; the max wall time is reported.
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time

from common import report, save  # noqa: I001 (bench/ is the script folder)
from math_verify import parse, verify

from lm_eval_thinkpack.scoring import math as scoring_math
from lm_eval_thinkpack.scoring.math import check_math

# (pred, gold) templates; {a}, {b}, {c} are small integers
TEMPLATES = [
    ("{a}", "{a}"), ("0{a}", "{a}"), ("{a}", "{b}"), ("{a}.0", "{a}"),
    ("\\frac{{{a}}}{{{c}}}", "\\dfrac{{{a}}}{{{c}}}"),
    ("\\frac{{1}}{{2}}", "0.5"), ("\\frac{{{a}}}{{4}}", "{a}/4"), ("\\tfrac{{3}}{{4}}", "0.75"),
    ("{a}\\sqrt{{3}}", "\\sqrt{{{a3}}}"), ("\\sqrt{{{a}}}", "\\sqrt{{{b}}}"), ("2\\sqrt{{2}}", "\\sqrt{{8}}"),
    ("x^2+{two_a}x+{a2}", "(x+{a})^2"), ("(x+{a})(x-{a})", "x^2-{a2}"), ("x+{a}", "x-{a}"),
    ("\\frac{{{a}\\pi}}{{{c}}}", "\\frac{{{a}}}{{{c}}}\\pi"), ("{a}\\pi", "{b}\\pi"),
    ("(-\\infty, {a}]", "(-\\infty,{a}]"), ("[{a}, {b})", "[{a},{b})"), ("({a}, {b})", "({a},{b})"),
    ("({a}, {b})", "({b},{a})"), ("\\{{{a}, {b}, {c}\\}}", "\\{{{c}, {b}, {a}\\}}"),
    ("{a}^\\circ", "{a}"), ("{a}\\%", "{a}"), ("\\text{{Evelyn}}", "Evelyn"), ("\\text{{(B)}}", "B"),
    ("y = {a}x + {b}", "{a}x+{b}"), ("{a},000", "{a}000"), ("{a}.5\\times 10^{{3}}", "{a}500"),
    ("\\begin{{pmatrix}} {a} \\\\ {b} \\end{{pmatrix}}", "\\begin{{pmatrix}}{a}\\\\{b}\\end{{pmatrix}}"),
    ("\\frac{{\\sqrt{{3}}}}{{2}}", "\\frac{{1}}{{2}}\\sqrt{{3}}"), ("e^{{{a}}}", "e^{{{b}}}"),
    ("\\log_{{2}} {a2}", "2\\log_2 {a}"), ("{a}+{b}i", "{b}i+{a}"), ("-{a}", "{a}"),
]
PATHOLOGICAL = ("9^{9^{9^{9}}}", "1")


def pairs(n: int = 200, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pred, gold = TEMPLATES[i % len(TEMPLATES)]
        a = rng.randint(2, 9)
        b = a + rng.randint(1, 5)
        c = rng.choice([3, 5, 7, 11])
        vals = {"a": a, "b": b, "c": c, "a2": a * a, "two_a": 2 * a, "a3": 3 * a * a}
        response = (f"We simplify step by step; checking the edge cases gives the same value.\n"
                    f"So the final answer is $\\boxed{{{pred.format(**vals)}}}$.")
        out.append((response, gold.format(**vals)))
    return out


def ours_one(response: str, gold: str) -> bool:
    return check_math(response, gold, timeout=5.0).correct


def baseline_one(response: str, gold: str) -> bool:
    g = parse("\\boxed{" + gold + "}", parsing_timeout=None)
    p = parse(response, parsing_timeout=None)
    return verify(g, p, timeout_seconds=None)


def _timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def time_limit(threads: int = 4, timeout: float = 0.5) -> tuple[float, list]:
    """Max wall time of ``threads`` concurrent pathological checks with ``timeout``, and their errors."""
    results: list = [None] * threads
    walls = [0.0] * threads

    def run(i: int) -> None:
        start = time.perf_counter()
        results[i] = check_math(f"\\boxed{{{PATHOLOGICAL[0]}}}", PATHOLOGICAL[1], timeout=timeout)
        walls[i] = time.perf_counter() - start

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return max(walls), [r.error for r in results]


def main(quick: bool = False) -> dict:
    logging.disable(logging.WARNING)  # lm-eval's custom_dataset notice, math_verify's 'timeout disabled' notice
    data = pairs(200)
    repeats = 2 if quick else 5
    check_math("\\boxed{x^2}", "x*x")  # start the worker (startup is not latency)
    baseline_one("\\boxed{x^2}", "x*x")  # import sympy paths on the baseline side too
    ours_best = [float("inf")] * len(data)
    base_best = [float("inf")] * len(data)
    agree = 0
    for r in range(repeats):
        scoring_math._cache.clear()  # a cold result cache every pass: every symbolic pair reaches the worker
        for i, (resp, gold) in enumerate(data):
            t_ours, v_ours = _timed(ours_one, resp, gold)
            t_base, v_base = _timed(baseline_one, resp, gold)
            ours_best[i] = min(ours_best[i], t_ours)
            base_best[i] = min(base_best[i], t_base)
            agree += r == 0 and bool(v_ours) == bool(v_base)
    stats = scoring_math.math_stats()
    # the time limit, with 4 workers warm (interpreter start-up is not part of the limit): 4 symbolic calls at
    # once start them, then 4 pathological calls at once
    warm = [threading.Thread(target=check_math, args=(f"\\boxed{{x+{i}}}", f"{i}+x")) for i in range(4)]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    max_wall, errors = time_limit(4, 0.5)
    rec = report(
        "math_score", len(data) / sum(ours_best), len(data) / sum(base_best), "pairs/s",
        ours_p50_ms=_pct(ours_best, 0.5) * 1e3, ours_p99_ms=_pct(ours_best, 0.99) * 1e3,
        base_p50_ms=_pct(base_best, 0.5) * 1e3, base_p99_ms=_pct(base_best, 0.99) * 1e3,
        fast_path_share=round(stats.get("fast_path", 0) / max(stats.get("calls", 1), 1), 3),
        agree=round(agree / len(data), 3), limit_max_wall_s=round(max_wall, 3),
        limit_errors=",".join(str(e) for e in errors),
    )
    save({"math_score": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
