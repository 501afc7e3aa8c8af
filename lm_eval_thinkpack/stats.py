"""Traces (+ correctness, question ids) -> VR, ER, MR, TR, pass@1, Rpass@1, pass@k, with uncertainty.

The one source of truth for the study's metrics (``shared/reference/semantics.md``); the harness
aggregations, the reports and the demo all call ``trace_stats``.

* Rates are fractions of generations in each class; they sum to 1.
* pass@1 is accuracy over all generations (a truncated trace has no answer, so it is wrong).
* Rpass@1 is accuracy over generations with a valid trace; None (never 0) when none is valid.
* With several samples per question every figure is averaged per question first, then over questions.
  Rpass@1 then averages over the questions that have at least one valid trace.
* Standard errors: binomial ``sqrt(p(1-p)/n)`` with one sample per question; with several, the standard
  error of the mean of per-question values (samples of one question are not independent).
  Wilson 95% intervals are computed on the pooled counts.
* A ``correct`` entry of None means "not scored" (a harness fault: the scorer crashed, the backend gave no
  text): such a sample is left out of pass@1 and Rpass@1, never counted wrong, and counted in
  ``harness_errors``. Its trace class still counts in the rates.

* ``no_answer_rate``: the share of valid traces followed by no answer text (the model closed its trace and
  stopped); None without a valid trace. ``reasoning_tokens`` / ``answer_tokens``: mean lengths per generation
  over every generation (a missing trace has 0 reasoning, a truncated one 0 answer), as thinkpack's
  ``avg_reasoning_tokens`` averages them, with the standard error of the mean; counted by ``tokens`` in the
  model's tokens, or in whitespace words where no tokenizer is known: then ``tokens_as_words`` is 1.

``METRICS`` is the one catalogue of metric names: the harness's aggregations and YAML metric lists, the
report and the demo read names, labels and directions from it; ``ALL_TASKS`` names the all-tasks row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from .classify import Trace, TraceStatus

RATE_NAMES: dict[TraceStatus, str] = {
    TraceStatus.VALID: "valid_trace_rate",
    TraceStatus.EMPTY: "empty_trace_rate",
    TraceStatus.MISSING: "missing_trace_rate",
    TraceStatus.TRUNCATED: "truncated_trace_rate",
}
Z95 = 1.959963984540054
ALL_TASKS = "all tasks"  # the one name of the row that pools every task of a run


class MetricKind(str, Enum):
    """How a metric is read: a class rate and an accuracy are ``Estimate``s (with a standard error), a count is not."""

    RATE = "rate"
    ACCURACY = "accuracy"
    MEAN = "mean"  # a mean length (tokens or words per generation), with a standard error
    COUNT = "count"
    FLAG = "flag"  # 0/1 about the run (tokens_as_words), None when it does not apply; no standard error


@dataclass(frozen=True, slots=True)
class Metric:
    """One reported metric: its name in lm-eval results and logs, its display label and how to read it.

    ``estimate`` is the key in ``TraceStats.estimates`` (rates, accuracies) or the ``TraceStats`` attribute
    (counts) that holds the value.
    """

    name: str
    label: str
    higher_is_better: bool
    kind: MetricKind
    estimate: str

    @property
    def has_stderr(self) -> bool:
        return self.kind not in (MetricKind.COUNT, MetricKind.FLAG)

    def value(self, stats: TraceStats) -> float | int | None:
        """The metric's value in ``stats`` (None: undefined, e.g. Rpass@1 without a valid trace)."""
        if self.kind is MetricKind.COUNT:
            return int(getattr(stats, self.estimate))
        if self.kind is MetricKind.FLAG:
            flag = getattr(stats, self.estimate)
            return None if flag is None else int(flag)
        est = stats.estimates.get(self.estimate)
        return None if est is None else est.value

    def stderr(self, stats: TraceStats) -> float | None:
        """The standard error of the value in ``stats``; None for counts, flags and undefined values."""
        if not self.has_stderr:
            return None
        est = stats.estimates.get(self.estimate)
        return None if est is None or est.value is None else est.stderr


METRICS: tuple[Metric, ...] = (
    Metric("valid_trace_rate", "VR", True, MetricKind.RATE, "valid_trace_rate"),
    Metric("empty_trace_rate", "ER", False, MetricKind.RATE, "empty_trace_rate"),
    Metric("missing_trace_rate", "MR", False, MetricKind.RATE, "missing_trace_rate"),
    Metric("truncated_trace_rate", "TR", False, MetricKind.RATE, "truncated_trace_rate"),
    Metric("budget_exhausted_rate", "budget exhausted", False, MetricKind.RATE, "budget_exhausted_rate"),
    Metric("pass@1", "pass@1", True, MetricKind.ACCURACY, "pass@1"),
    Metric("rpass@1", "Rpass@1", True, MetricKind.ACCURACY, "rpass@1"),
    Metric("no_answer_rate", "no answer", False, MetricKind.RATE, "no_answer_rate"),
    Metric("reasoning_tokens", "reasoning tok", False, MetricKind.MEAN, "reasoning_tokens"),
    Metric("answer_tokens", "answer tok", False, MetricKind.MEAN, "answer_tokens"),
    Metric("tokens_as_words", "lengths in words", False, MetricKind.FLAG, "tokens_as_words"),
    Metric("scoring_errors", "scoring errors", False, MetricKind.COUNT, "scoring_errors"),
    Metric("harness_errors", "harness errors", False, MetricKind.COUNT, "harness_errors"),
)
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
TRACE_RATES: tuple[Metric, ...] = tuple(METRIC_BY_NAME[name] for name in RATE_NAMES.values())  # VR, ER, MR, TR


def get_metric(name: str) -> Metric:
    """The catalogue entry for ``name``; a clear error for an unknown name."""
    try:
        return METRIC_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_BY_NAME)}") from None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A proportion with its standard error and Wilson 95% interval; ``value`` is None when undefined."""

    value: float | None
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    count: int
    total: int


@dataclass(frozen=True)
class TraceStats:
    """Everything the study reports for one task (or one pooled group)."""

    n: int
    n_questions: int
    valid_trace_rate: float
    empty_trace_rate: float
    missing_trace_rate: float
    truncated_trace_rate: float
    pass_at_1: float | None
    rpass_at_1: float | None
    budget_exhausted_rate: float | None  # None: no generation's finish reason is known
    scoring_errors: int
    harness_errors: int = 0
    no_answer_rate: float | None = None  # None: no valid trace, or not known
    reasoning_tokens: float | None = None  # mean per generation; None: not counted
    answer_tokens: float | None = None
    tokens_as_words: bool | None = None  # the lengths are whitespace words (no tokenizer known); None: no lengths
    pass_at_k: dict[int, float] = field(default_factory=dict)
    estimates: dict[str, Estimate] = field(default_factory=dict)

    def stderr(self, name: str) -> float | None:
        est = self.estimates.get(name)
        return None if est is None else est.stderr

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        return out


def wilson_interval(count: int, total: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for count/total; (None, None) when total is 0."""
    if total <= 0:
        return None, None
    p = count / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    # the exact bounds at the ends, where rounding would otherwise leave the interval off its own estimate
    lo = 0.0 if count == 0 else max(0.0, centre - half)
    hi = 1.0 if count == total else min(1.0, centre + half)
    return lo, hi


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k), computed as a stable product."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def _status(t: Trace | TraceStatus | str) -> TraceStatus:
    if isinstance(t, Trace):
        return t.status
    return TraceStatus(t)


def _estimate(groups: list[list[float]], clustered: bool) -> Estimate:
    """Mean over groups of per-group means, with a standard error and a pooled Wilson interval."""
    groups = [g for g in groups if g]
    total = sum(len(g) for g in groups)
    count = int(round(sum(sum(g) for g in groups)))
    if not groups:
        return Estimate(None, None, None, None, 0, 0)
    means = [sum(g) / len(g) for g in groups]
    value = sum(means) / len(means)
    if clustered:
        q = len(means)
        se = math.sqrt(sum((m - value) ** 2 for m in means) / (q - 1) / q) if q > 1 else 0.0
    else:
        se = math.sqrt(value * (1 - value) / total)
    lo, hi = wilson_interval(count, total)
    return Estimate(value, se, lo, hi, count, total)


def _flat(flags: list[bool]) -> Estimate:
    """``_estimate`` for one sample per question (identical numbers): count / total, binomial standard error."""
    total = len(flags)
    if not total:
        return Estimate(None, None, None, None, 0, 0)
    count = sum(flags)
    value = count / total
    lo, hi = wilson_interval(count, total)
    return Estimate(value, math.sqrt(value * (1 - value) / total), lo, hi, count, total)


def _mean_estimate(groups: list[list[float]], flat: bool = False) -> Estimate:
    """Mean over groups of per-group means, the standard error of that mean and a normal 95% interval;
    ``flat``: one group whose values are independent (one sample per question)."""
    groups = [g for g in groups if g]
    total = sum(len(g) for g in groups)
    if not groups:
        return Estimate(None, None, None, None, 0, 0)
    means = groups[0] if flat else [sum(g) / len(g) for g in groups]
    q = len(means)
    value = sum(means) / q
    se = math.sqrt(sum((m - value) ** 2 for m in means) / (q - 1) / q) if q > 1 else 0.0
    return Estimate(value, se, max(0.0, value - Z95 * se), value + Z95 * se, total, total)


def trace_stats(
    traces: Sequence[Trace | TraceStatus | str],
    correct: Sequence[bool | None] | None = None,
    question_ids: Sequence[Hashable] | None = None,
    *,
    budget_exhausted: Sequence[bool | None] | None = None,
    scoring_errors: Sequence[bool] | None = None,
    no_answer: Sequence[bool | None] | None = None,
    reasoning_tokens: Sequence[int | None] | None = None,
    answer_tokens: Sequence[int | None] | None = None,
    tokens_as_words: bool | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> TraceStats:
    """VR, ER, MR, TR, pass@1 and Rpass@1 (None without a valid trace) for a list of generations.

    ``correct`` holds one flag per generation; None means "not scored" (a harness fault): left out of pass@1
    and Rpass@1 and counted in ``harness_errors``. Without ``correct`` pass@1 and Rpass@1 are None.
    ``question_ids`` groups several samples of one question. Budget exhaustion is read from the traces unless
    given; a None entry means the engine did not say why it stopped: left out of the budget-exhausted rate, which
    is None (undefined, never 0) when no generation says.

    ``no_answer`` flags valid traces followed by no answer text (read from the traces when they are ``Trace``
    objects; a None entry: not known). ``reasoning_tokens`` / ``answer_tokens`` are per-generation lengths
    (``tokens.count_lengths``; a None entry: not counted, left out), ``tokens_as_words`` says their unit.
    """
    n = len(traces)
    statuses = [_status(t) for t in traces]
    for name, seq in (("correct", correct), ("question_ids", question_ids),
                      ("budget_exhausted", budget_exhausted), ("scoring_errors", scoring_errors),
                      ("no_answer", no_answer), ("reasoning_tokens", reasoning_tokens),
                      ("answer_tokens", answer_tokens)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"trace_stats: {name} has {len(seq)} entries for {n} traces; give one per trace")
    groups: list[list[int]] = []
    if question_ids is not None:
        order: dict[Hashable, list[int]] = {}
        for i, q in enumerate(question_ids):
            order.setdefault(q, []).append(i)
        groups = list(order.values())
    clustered = any(len(g) > 1 for g in groups)

    def estimate(flag: Callable[[int], bool], keep: Callable[[int], bool] | None = None) -> Estimate:
        # one sample per question: a plain proportion, without a list per question (the common, large case)
        if not clustered:
            return _flat([flag(i) for i in range(n) if keep is None or keep(i)])
        return _estimate([[float(flag(i)) for i in g if keep is None or keep(i)] for g in groups], True)

    estimates: dict[str, Estimate] = {}
    for status, name in RATE_NAMES.items():
        estimates[name] = estimate(lambda i, status=status: statuses[i] is status)

    if budget_exhausted is None:
        budget_exhausted = [isinstance(t, Trace) and t.budget_exhausted for t in traces]
    exhausted = budget_exhausted
    estimates["budget_exhausted_rate"] = estimate(lambda i: bool(exhausted[i]), lambda i: exhausted[i] is not None)

    if no_answer is None and traces and all(isinstance(t, Trace) for t in traces):
        from .tokens import no_answer as _no_answer

        no_answer = [_no_answer(t) for t in traces]
    if no_answer is not None:
        blank = no_answer
        estimates["no_answer_rate"] = estimate(lambda i: bool(blank[i]),
                                               lambda i: statuses[i] is TraceStatus.VALID and blank[i] is not None)
    for name, counts in (("reasoning_tokens", reasoning_tokens), ("answer_tokens", answer_tokens)):
        if counts is not None and any(c is not None for c in counts):
            if clustered:
                estimates[name] = _mean_estimate([[float(counts[i]) for i in g if counts[i] is not None]
                                                  for g in groups])
            else:
                estimates[name] = _mean_estimate([[float(c) for c in counts if c is not None]], flat=True)

    pass1 = rpass1 = None
    pak: dict[int, float] = {}
    harness_errors = 0
    if correct is not None:
        scored = [c is not None for c in correct]
        harness_errors = scored.count(False)
        ok = [bool(c) and statuses[i] is not TraceStatus.TRUNCATED for i, c in enumerate(correct)]
        estimates["pass@1"] = estimate(ok.__getitem__, scored.__getitem__)
        estimates["rpass@1"] = estimate(ok.__getitem__, lambda i: scored[i] and statuses[i] is TraceStatus.VALID)
        pass1, rpass1 = estimates["pass@1"].value, estimates["rpass@1"].value
        if clustered:
            sgroups = [[i for i in g if scored[i]] for g in groups]
            for k in ks:
                eligible = [g for g in sgroups if len(g) >= k]
                if eligible and len(eligible) == len(groups):
                    pak[k] = sum(pass_at_k(len(g), sum(ok[i] for i in g), k) for g in eligible) / len(eligible)

    rate = {name: estimates[name].value or 0.0 for name in RATE_NAMES.values()}
    return TraceStats(
        n=n,
        n_questions=len(groups) if question_ids is not None else n,
        valid_trace_rate=rate["valid_trace_rate"],
        empty_trace_rate=rate["empty_trace_rate"],
        missing_trace_rate=rate["missing_trace_rate"],
        truncated_trace_rate=rate["truncated_trace_rate"],
        pass_at_1=pass1,
        rpass_at_1=rpass1,
        budget_exhausted_rate=estimates["budget_exhausted_rate"].value,
        scoring_errors=sum(bool(e) for e in scoring_errors) if scoring_errors is not None else 0,
        harness_errors=harness_errors,
        no_answer_rate=estimates["no_answer_rate"].value if "no_answer_rate" in estimates else None,
        reasoning_tokens=estimates["reasoning_tokens"].value if "reasoning_tokens" in estimates else None,
        answer_tokens=estimates["answer_tokens"].value if "answer_tokens" in estimates else None,
        tokens_as_words=(None if "reasoning_tokens" not in estimates and "answer_tokens" not in estimates
                         else bool(tokens_as_words)),
        pass_at_k=pak,
        estimates=estimates,
    )


def mean_estimate(values: Sequence[float]) -> Estimate:
    """The mean of graded per-sample scores (F1, BLEU, a share of instructions followed), one sample per question,
    with the standard error of the mean (``Estimate.value`` None for no values)."""
    return _mean_estimate([[float(v) for v in values]], flat=True)


def json_ready(obj: Any) -> Any:
    """``obj`` with every unknown number (NaN, infinity; numpy floats too) as None, so ``json.dumps`` writes strict
    JSON (``null``) instead of the bare ``NaN`` that ``JSON.parse`` and most other readers reject. Dicts, lists and
    tuples are copied (a key JSON cannot hold, a tuple say, becomes its ``str``); other objects are returned as they
    are."""
    if isinstance(obj, float) or (hasattr(obj, "dtype") and getattr(obj.dtype, "kind", "") == "f" and not
                                  getattr(obj, "shape", ())):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dict):
        return {k if k is None or isinstance(k, (str, int, float)) else str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return obj
