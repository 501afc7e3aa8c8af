"""Per-sample scoring (``process_results``) and the aggregations that turn rows into the study's metrics.

``process_results(doc, results)`` scores each classified response of a doc (``repeats`` of them) with the
doc's checker and returns one row per doc under every metric key. Each aggregation flattens the rows and
calls ``lm_eval_thinkpack.stats.trace_stats`` (the only place a metric is computed), then reads one
estimate. lm-eval prints "N/A" as the standard error of any aggregation it does not know, so every metric
``m`` has a companion metric ``m_stderr`` whose aggregation returns ``trace_stats``' standard error;
``process_results`` emits it right after ``m`` so lm-eval's placeholder is overwritten (its keys are
aggregated in emission order). A side effect is a ``m_stderr_stderr`` = "N/A" key in the results JSON.

Undefined values (Rpass@1 with no valid trace) are NaN, never 0: NaN (unlike None) survives lm-eval's
group averaging, which then reports NaN for the group as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("lm_eval_thinkpack.harness")

# metric name -> estimate name in TraceStats.estimates
ESTIMATES: dict[str, str] = {
    "valid_trace_rate": "valid_trace_rate",
    "empty_trace_rate": "empty_trace_rate",
    "missing_trace_rate": "missing_trace_rate",
    "truncated_trace_rate": "truncated_trace_rate",
    "pass@1": "pass@1",
    "rpass@1": "rpass@1",
}
# budget_exhausted_rate is not reported: lm-eval 0.4.13's generate_until returns text only, so the
# finish reason never reaches a filter and the rate would always read 0. truncated_trace_rate is the
# visible sign of an exhausted budget (raise --gen_kwargs max_gen_toks when it is high).
COUNTS = ("scoring_errors",)
METRIC_NAMES: tuple[str, ...] = (*ESTIMATES, *COUNTS)
_EXTRACTED_MAX = 200


# ------------------------------------------------------------------------------------------------ scoring


def _score(answer: str, doc: dict[str, Any]):
    """The verdict of the doc's scorer (``thinkpack_scorer``, looked up in the scoring registry)."""
    from lm_eval_thinkpack.scoring import get_scorer

    kind = doc.get("thinkpack_scorer")
    if not kind:
        raise ValueError("doc has no thinkpack_scorer; was it loaded by the thinkpack loader?")
    return get_scorer(kind).check(answer, doc)


def score_record(record: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """Verdict for one classified response. A truncated trace has no answer: wrong, not scored.
    A checker that crashes or reports an error (timeout, ...) makes the sample wrong and counted."""
    if record.get("status") == "truncated":
        return {"correct": False, "extracted": None, "error": None}
    try:
        res = _score(record.get("answer") or "", doc)
    except Exception as err:  # noqa: BLE001 - one bad sample must never kill the run
        log.warning("thinkpack: scoring doc %s failed (%s: %s); counted wrong and as a scoring error",
                    doc.get("thinkpack_id"), type(err).__name__, err)
        return {"correct": False, "extracted": None, "error": type(err).__name__}
    extracted = None if res.extracted is None else str(res.extracted)[:_EXTRACTED_MAX]
    if res.error is not None:
        return {"correct": False, "extracted": extracted, "error": str(res.error)}
    return {"correct": bool(res.correct), "extracted": extracted, "error": None}


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """lm-eval ``process_results``: ``results`` holds the filtered responses of the doc's one request."""
    from .filters import parse_record

    items = results[0] if results and isinstance(results[0], list) else list(results)
    records = [parse_record(r) for r in items]
    verdicts = [score_record(r, doc) for r in records]
    row = {
        "id": str(doc.get("thinkpack_id")),
        "status": [r.get("status") for r in records],
        "answer_found": [bool((r.get("answer") or "").strip()) for r in records],
        "correct": [v["correct"] for v in verdicts],
        "extracted": [v["extracted"] for v in verdicts],
        "scoring_error": [v["error"] for v in verdicts],
        "budget_exhausted": [bool(r.get("budget_exhausted")) for r in records],
    }
    out: dict[str, Any] = {}
    for name in METRIC_NAMES:
        out[name] = row
        out[f"{name}_stderr"] = row  # must follow `name`: see the module docstring
    return out


# ------------------------------------------------------------------------------------------- aggregation

_cache: dict[str, Any] = {"rows": None, "stats": None}


def rows_stats(rows: list[dict[str, Any]]):
    """``trace_stats`` over every sample of every row; samples of one doc share a question id."""
    cached = _cache["rows"]
    if cached is not None and len(cached) == len(rows) and all(a is b for a, b in zip(cached, rows, strict=True)):
        return _cache["stats"]
    from lm_eval_thinkpack.stats import trace_stats

    statuses, correct, qids, budget, errors = [], [], [], [], []
    for i, row in enumerate(rows):
        qid = (i, row.get("id"))  # the doc position keeps duplicate ids apart
        for j, status in enumerate(row["status"]):
            statuses.append(status)
            correct.append(bool(row["correct"][j]))
            qids.append(qid)
            budget.append(bool(row["budget_exhausted"][j]))
            errors.append(row["scoring_error"][j] is not None)
    stats = trace_stats(statuses, correct, qids, budget_exhausted=budget, scoring_errors=errors)
    _cache["rows"], _cache["stats"] = list(rows), stats
    return stats


def _nan_if_none(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _value_agg(name: str) -> Callable[[list[dict[str, Any]]], float]:
    def agg(rows: list[dict[str, Any]]) -> float:
        est = rows_stats(rows).estimates.get(ESTIMATES[name])
        return _nan_if_none(None if est is None else est.value)

    agg.__name__ = agg.__qualname__ = f"agg_{_ident(name)}"
    return agg


def _stderr_agg(name: str) -> Callable[[list[dict[str, Any]]], float]:
    def agg(rows: list[dict[str, Any]]) -> float:
        est = rows_stats(rows).estimates.get(ESTIMATES[name])
        return _nan_if_none(None if est is None or est.value is None else est.stderr)

    agg.__name__ = agg.__qualname__ = f"agg_{_ident(name)}_stderr"
    return agg


def agg_scoring_errors(rows: list[dict[str, Any]]) -> int:
    return int(rows_stats(rows).scoring_errors)


def agg_scoring_errors_stderr(rows: list[dict[str, Any]]) -> str:
    return "N/A"  # a count, not an estimate


def _ident(name: str) -> str:
    return name.replace("@", "_at_")


# one named function per metric, so the YAMLs can say `!function lm_eval_thinkpack.harness.metrics.agg_...`
agg_valid_trace_rate, agg_valid_trace_rate_stderr = _value_agg("valid_trace_rate"), _stderr_agg("valid_trace_rate")
agg_empty_trace_rate, agg_empty_trace_rate_stderr = _value_agg("empty_trace_rate"), _stderr_agg("empty_trace_rate")
agg_missing_trace_rate = _value_agg("missing_trace_rate")
agg_missing_trace_rate_stderr = _stderr_agg("missing_trace_rate")
agg_truncated_trace_rate = _value_agg("truncated_trace_rate")
agg_truncated_trace_rate_stderr = _stderr_agg("truncated_trace_rate")
agg_pass_at_1, agg_pass_at_1_stderr = _value_agg("pass@1"), _stderr_agg("pass@1")
agg_rpass_at_1, agg_rpass_at_1_stderr = _value_agg("rpass@1"), _stderr_agg("rpass@1")
