"""``process_results`` (reads the filter's verdicts) and the aggregations that turn rows into the study's metrics.

The metric names, their direction and kind come from ``lm_eval_thinkpack.stats.METRICS``, the one catalogue;
``tasks/_base_thinkpack.yaml`` lists the same names (a test checks it). Scoring happened in the filter
(``harness.filters``), which sees every doc at once; ``process_results(doc, results)`` turns the records of a
doc's responses (``repeats`` of them) into one ``DocRow`` and returns it under every metric key. Each
aggregation calls ``lm_eval_thinkpack.stats.trace_stats`` over the rows (the only place a metric is computed)
and reads its metric from the result.

lm-eval prints "N/A" as the standard error of any aggregation it does not know, so every rate and accuracy
``m`` has a companion ``m_stderr`` whose aggregation returns ``trace_stats``' standard error;
``process_results`` emits it right after ``m`` so lm-eval's placeholder is overwritten (its keys are
aggregated in emission order). A side effect is a ``m_stderr_stderr`` = "N/A" key in the results JSON.
Counts (``scoring_errors``, ``harness_errors``) and the ``tokens_as_words`` flag have no standard error.

Undefined values (Rpass@1 with no valid trace) are NaN, never 0: NaN (unlike None) survives lm-eval's
group averaging, which then reports NaN for the group as well.

One ``trace_stats`` per task, not one per metric: lm-eval calls each aggregation with its own list of the
same row objects. The result is cached on the first row (``DocRow._stats``) together with the tuple of rows
it was computed from, and reused only when the list holds exactly those row objects in that order. The
cache lives and dies with the rows, so it cannot go stale or leak across tasks or runs, and there is no
module-level state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from lm_eval_thinkpack.records import parse_record, record_no_answer
from lm_eval_thinkpack.stats import METRICS, Metric, TraceStats, trace_stats


class DocRow(dict):
    """One doc's per-response lists (status, correct, ...). A dict, so ``--log_samples`` writes it as JSON;
    the slot holds the aggregation cache (see the module docstring) and is never logged."""

    __slots__ = ("_stats",)


def metric_keys() -> tuple[str, ...]:
    """The keys ``process_results`` emits, in order: each metric, then its ``_stderr`` companion if it has one."""
    keys: list[str] = []
    for m in METRICS:
        keys.append(m.name)
        if m.has_stderr:
            keys.append(f"{m.name}_stderr")  # must follow `name`: see the module docstring
    return tuple(keys)


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """lm-eval ``process_results``: ``results`` holds the filtered responses of the doc's one request."""
    items = results[0] if results and isinstance(results[0], list) else list(results)
    records = [parse_record(r) for r in items]
    row = DocRow(
        id=str(doc.get("thinkpack_id")),
        status=[r["status"] for r in records],
        correct=[r.get("correct") for r in records],  # None: not scored (a harness fault)
        extracted=[r.get("extracted") for r in records],
        scoring_error=[None if r.get("harness_error") else r.get("error") for r in records],
        harness_error=[r.get("error") or "harness_error" if r.get("harness_error") else None for r in records],
        # None: the backend did not say why generation stopped (lm-eval's own models return text only)
        budget_exhausted=[bool(r.get("budget_exhausted")) if isinstance(r.get("finish_reason"), str) else None
                          for r in records],
        no_answer=[record_no_answer(r) for r in records],  # a valid trace followed by no answer text
        reasoning_tokens=[r.get("reasoning_tokens") for r in records],  # None: not counted (an older record)
        answer_tokens=[r.get("answer_tokens") for r in records],
        token_unit=[r.get("token_unit") for r in records],
    )
    return dict.fromkeys(metric_keys(), row)


# ------------------------------------------------------------------------------------------- aggregation


def rows_stats(rows: list[dict[str, Any]]) -> TraceStats:
    """``trace_stats`` over every sample of every row; samples of one doc are one question's."""
    first = rows[0] if rows else None
    cached = getattr(first, "_stats", None) if isinstance(first, DocRow) else None
    if cached is not None and len(cached[0]) == len(rows) and all(a is b for a, b in zip(cached[0], rows, strict=True)):
        return cached[1]
    statuses, correct, qids, budget, errors = [], [], [], [], []
    blank, rtok, atok, units = [], [], [], set()
    for i, row in enumerate(rows):  # the doc's position is its question id: duplicate ids stay apart
        faults = row.get("harness_error") or [None] * len(row["status"])
        none = [None] * len(row["status"])
        blank += row.get("no_answer") or none
        rtok += row.get("reasoning_tokens") or none
        atok += row.get("answer_tokens") or none
        units.update(u for u in row.get("token_unit") or () if u)
        for j, status in enumerate(row["status"]):
            statuses.append(status)
            c = row["correct"][j]
            correct.append(None if faults[j] is not None or c is None else bool(c))
            qids.append(i)
            b = row["budget_exhausted"][j]
            budget.append(None if b is None else bool(b))
            errors.append(row["scoring_error"][j] is not None)
    one_each = len(qids) == len(rows)  # one sample per doc: no grouping needed (and no tuple per sample)
    stats = trace_stats(statuses, correct, None if one_each else qids, budget_exhausted=budget,
                        scoring_errors=errors, no_answer=blank, reasoning_tokens=rtok, answer_tokens=atok,
                        tokens_as_words="words" in units)
    if isinstance(first, DocRow):
        first._stats = (tuple(rows), stats)
    return stats


def _nan_if_none(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _ident(name: str) -> str:
    return name.replace("@", "_at_")


def _value_agg(m: Metric) -> Callable[[list[dict[str, Any]]], float | int]:
    def agg(rows: list[dict[str, Any]]) -> float | int:
        value = m.value(rows_stats(rows))
        return int(value) if isinstance(value, int) else _nan_if_none(value)

    agg.__name__ = agg.__qualname__ = f"agg_{_ident(m.name)}"
    agg.__doc__ = f"{m.label}: lm-eval aggregation of the ``{m.name}`` rows."
    return agg


def _stderr_agg(m: Metric) -> Callable[[list[dict[str, Any]]], float]:
    def agg(rows: list[dict[str, Any]]) -> float:
        return _nan_if_none(m.stderr(rows_stats(rows)))

    agg.__name__ = agg.__qualname__ = f"agg_{_ident(m.name)}_stderr"
    agg.__doc__ = f"Standard error of {m.label}: lm-eval aggregation of the ``{m.name}_stderr`` rows."
    return agg


def aggregation_name(key: str) -> str:
    """The function name in this module that aggregates metric key ``key`` (as the YAMLs spell it)."""
    return f"agg_{_ident(key)}"


# one named function per metric key, so the YAMLs can say `!function lm_eval_thinkpack.harness.metrics.agg_...`
def _aggregations() -> Mapping[str, Callable[[list[dict[str, Any]]], Any]]:
    out: dict[str, Callable[[list[dict[str, Any]]], Any]] = {}
    for m in METRICS:
        out[m.name] = _value_agg(m)
        if m.has_stderr:
            out[f"{m.name}_stderr"] = _stderr_agg(m)
    return MappingProxyType(out)


AGGREGATIONS = _aggregations()  # metric key -> aggregation (read-only)
globals().update({aggregation_name(k): fn for k, fn in AGGREGATIONS.items()})
