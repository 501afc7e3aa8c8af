"""Samples -> per-task and per-group numbers, all through ``lm_eval_thinkpack.stats.trace_stats``.

* A task with samples: one ``trace_stats`` call over its generations (samples of one question share an id).
* A group, "pooled": one ``trace_stats`` call over every sample of the group's tasks, so Rpass@1 is the real
  ratio (correct valid traces / valid traces, per question first), unlike lm-eval's size-weighted mean.
* A group, "task mean" (the study's way): each task counts equally; Rpass@1 averages only the tasks that have
  at least one valid trace. This is an average of task values, not a new metric.
* A task without samples (lm-eval run without --log_samples): the results JSON values and standard errors;
  no interval, trace length or pooled group (the task mean still works).

Mean trace length is the mean number of whitespace-separated tokens ("words") of the reasoning text over
valid traces; the JSON export also has the mean in characters.

Reasoning and answer lengths (``lengths``: mean, median and p90 per trace class; ``reasoning_tokens`` /
``answer_tokens``: means per generation) are the model's tokens the trace filter counted when the run was
made; samples it did not count (plain lm_eval, ``count_tokens=false``, older logs, JSONL) are counted as they are
read, with the tokenizer the run names or ``--tokenizer`` (``report.counting``). Where any sample of a summary is
still not counted in tokens (no tokenizer known), every sample of it is counted in whitespace words instead and
``token_unit`` says "words": units never mix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lm_eval_thinkpack.stats import ALL_TASKS, METRIC_BY_NAME, TRACE_RATES, Metric, TraceStats, trace_stats
from lm_eval_thinkpack.tokens import TOKENS, WORDS, lengths_by_class

from .readers import RunData, Sample, TaskData

# the catalogue's estimates a report shows in its columns (names and labels come from stats.METRICS)
METRICS: tuple[Metric, ...] = (*TRACE_RATES, METRIC_BY_NAME["pass@1"], METRIC_BY_NAME["rpass@1"],
                               METRIC_BY_NAME["no_answer_rate"])
#: the mean lengths per generation a summary holds beside the columns (``Summary.values``)
LENGTH_METRICS: tuple[Metric, ...] = (METRIC_BY_NAME["reasoning_tokens"], METRIC_BY_NAME["answer_tokens"])


@dataclass
class Value:
    """A number as shown: value, standard error and (from samples) the Wilson 95% interval."""

    value: float | None
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    count: int | None = None
    total: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "stderr": self.stderr, "ci95": [self.ci_low, self.ci_high]
                if self.ci_low is not None else None, "count": self.count, "total": self.total}


@dataclass
class Summary:
    """The numbers of one task or one group (``kind``: task, pooled, task mean, lm-eval)."""

    name: str
    kind: str
    values: dict[str, Value] = field(default_factory=dict)
    n: int | None = None
    n_questions: int | None = None
    trace_words: float | None = None
    trace_chars: float | None = None
    budget_exhausted_rate: float | None = None
    scoring_errors: int | None = None
    harness_errors: int | None = None
    metric: str | None = None  # an lm-eval task's: the "metric,filter" its correctness comes from
    # an lm-eval task's own metric on the raw text (own_metric): samples it credited, and those credited on text
    # from inside the trace or from a truncated trace (what a run scored without the trace layer got wrong)
    own_metric: str | None = None
    credited: int | None = None
    credited_in_trace: int | None = None
    pass_at_k: dict[str, float] = field(default_factory=dict)
    source: str = "samples"  # "samples" or "results" (the lm-eval results JSON)
    tasks: list[str] = field(default_factory=list)
    token_unit: str | None = None  # the unit of the lengths: "tokens" or "words"; None: no lengths
    lengths: dict[str, Any] = field(default_factory=dict)  # class -> {"reasoning"|"answer": n/mean/median/p90}

    def get(self, metric: str) -> float | None:
        v = self.values.get(metric)
        return None if v is None else v.value

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "source": self.source, "n": self.n,
                "n_questions": self.n_questions, "metrics": {m: v.as_dict() for m, v in self.values.items()},
                "mean_trace_words": self.trace_words, "mean_trace_chars": self.trace_chars,
                "budget_exhausted_rate": self.budget_exhausted_rate, "scoring_errors": self.scoring_errors,
                "harness_errors": self.harness_errors,
                **({"correct_from": self.metric} if self.metric else {}),
                **({"credited_by": self.own_metric, "credited": self.credited,
                    "credited_in_trace": self.credited_in_trace} if self.own_metric else {}),
                "pass_at_k": self.pass_at_k, "token_unit": self.token_unit, "lengths": self.lengths,
                **({"tasks": self.tasks} if self.tasks else {})}


@dataclass
class GroupSummary:
    name: str
    tasks: list[str]
    pooled: Summary | None
    task_mean: Summary
    lm_eval: Summary | None = None  # lm-eval's own (size-weighted) group values, for reference

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tasks": self.tasks,
                "pooled": None if self.pooled is None else self.pooled.as_dict(),
                "task_mean": self.task_mean.as_dict(),
                "lm_eval_size_weighted": None if self.lm_eval is None else self.lm_eval.as_dict()}


@dataclass
class RunSummary:
    run: RunData
    tasks: dict[str, Summary]
    groups: dict[str, GroupSummary]

    @property
    def label(self) -> str:
        return self.run.label

    def overall(self) -> Summary | None:
        """The pooled numbers over every task of the run (a task's own numbers when there is one task)."""
        if len(self.tasks) == 1:
            return next(iter(self.tasks.values()))
        every = set(self.tasks)
        for g in self.groups.values():
            if set(g.tasks) == every and g.pooled is not None:
                return g.pooled
        return None

    def samples(self) -> list[Sample]:
        return [s for td in self.run.tasks.values() for s in (td.samples or [])]

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "source": self.run.source, "kind": self.run.kind, "notes": self.run.notes,
                "token_note": self.run.token_note,
                "trace_length_unit": "whitespace tokens of the reasoning, mean over valid traces",
                "tasks": {t: s.as_dict() for t, s in self.tasks.items()},
                "groups": {g: s.as_dict() for g, s in self.groups.items()}}


def _clean(x: Any) -> float | None:
    if x is None or isinstance(x, str):
        return None
    x = float(x)
    return None if math.isnan(x) else x


def sample_lengths(samples: list[Sample]) -> tuple[list[int], list[int], str]:
    """(reasoning lengths, answer lengths, unit) of ``samples``: the counts their records carry when every one
    was counted in tokens, else whitespace words of every sample (one unit per summary)."""
    if samples and all(s.token_unit == TOKENS and s.reasoning_tokens is not None and s.answer_tokens is not None
                       for s in samples):
        return [int(s.reasoning_tokens) for s in samples], [int(s.answer_tokens) for s in samples], TOKENS
    return [s.trace_words for s in samples], [s.answer_words for s in samples], WORDS


def stats_of(samples: list[Sample], lengths: tuple[list[int], list[int], str] | None = None) -> TraceStats:
    """The single ``trace_stats`` call behind every number computed from samples."""
    scored = any(s.correct is not None for s in samples)
    # an unscored record in a scored run counts wrong (as the note says); only a harness error is left out
    correct = [None if s.harness_error else bool(s.correct) for s in samples] if scored else None
    reasoning, answer, unit = lengths or sample_lengths(samples)
    return trace_stats(
        [s.status for s in samples],
        correct,
        [(s.task, s.question_id) for s in samples],
        budget_exhausted=[s.budget_exhausted for s in samples],  # None: the source does not say
        scoring_errors=[s.scoring_error for s in samples],
        no_answer=[s.status == "valid" and s.no_answer for s in samples],
        reasoning_tokens=reasoning, answer_tokens=answer, tokens_as_words=unit == WORDS,
    )


def summarize_samples(name: str, kind: str, samples: list[Sample], budget_known: bool,
                      metric: str | None = None, own_metric: str | None = None) -> Summary:
    lengths = sample_lengths(samples)
    st = stats_of(samples, lengths)
    out = Summary(name=name, kind=kind, n=st.n, n_questions=st.n_questions, scoring_errors=st.scoring_errors,
                  harness_errors=st.harness_errors, pass_at_k={str(k): v for k, v in st.pass_at_k.items()})
    if metric is not None:
        out.metric = metric
    if own_metric is not None:  # the task's own metric on the raw text: what it credited, and on what
        out.own_metric = own_metric
        out.credited = sum(bool(s.own_credit) for s in samples)
        out.credited_in_trace = sum(s.in_trace_credit for s in samples)
    if samples:
        out.token_unit = lengths[2]
        out.lengths = lengths_by_class([s.status for s in samples], lengths[0], lengths[1])
    for metric in (m.name for m in (*METRICS, *LENGTH_METRICS)):
        est = st.estimates.get(metric)
        if est is None:
            out.values[metric] = Value(None)
            continue
        out.values[metric] = Value(est.value, est.stderr, est.ci_low, est.ci_high, est.count, est.total)
    if budget_known:
        out.budget_exhausted_rate = st.budget_exhausted_rate
    valid = [s for s in samples if s.status == "valid"]
    if valid:
        out.trace_words = sum(s.trace_words for s in valid) / len(valid)
        out.trace_chars = sum(s.trace_chars for s in valid) / len(valid)
    return out


def summarize_results(td: TaskData) -> Summary:
    out = Summary(name=td.name, kind="task", n=td.n, source="results")
    for metric in (m.name for m in (*METRICS, *LENGTH_METRICS)):
        r = td.results.get(metric) or {}
        out.values[metric] = Value(_clean(r.get("value")), _clean(r.get("stderr")))
    if out.get("reasoning_tokens") is not None:
        words = _clean((td.results.get("tokens_as_words") or {}).get("value"))
        out.token_unit = None if words is None else (WORDS if words else TOKENS)
    for attr in ("scoring_errors", "harness_errors"):
        v = (td.results.get(attr) or {}).get("value")
        setattr(out, attr, int(v) if isinstance(v, (int, float)) and not math.isnan(v) else None)
    return out


def task_mean(name: str, members: list[Summary]) -> Summary:
    """The study's group figure: each task counts equally; Rpass@1 over tasks with a valid trace."""
    out = Summary(name=name, kind="task mean", source="tasks", tasks=[m.name for m in members])
    for metric in (m.name for m in METRICS):
        vals = [m.get(metric) for m in members]
        vals = [v for v in vals if v is not None]
        out.values[metric] = Value(sum(vals) / len(vals) if vals else None, count=len(vals), total=len(members))
    out.n = sum(m.n or 0 for m in members) if all(m.n is not None for m in members) else None
    lengths = [m.trace_words for m in members if m.trace_words is not None]
    out.trace_words = sum(lengths) / len(lengths) if lengths else None
    units = {m.token_unit for m in members}
    if len(units) == 1 and None not in units:  # mean lengths only over tasks counted in the same unit
        out.token_unit = units.pop()
        for metric in (m.name for m in LENGTH_METRICS):
            vals = [v for v in (m.get(metric) for m in members) if v is not None]
            out.values[metric] = Value(sum(vals) / len(vals) if vals else None, count=len(vals), total=len(members))
    for attr in ("scoring_errors", "harness_errors", "credited", "credited_in_trace"):
        errs = [getattr(m, attr) for m in members]
        setattr(out, attr, sum(errs) if errs and all(e is not None for e in errs) else None)
    if out.credited is not None:
        out.metric = out.own_metric = "own metric"
    return out


def pooled_over(summary: RunSummary, tasks: list[str], name: str) -> Summary | None:
    """One pooled summary over ``tasks`` of a run (the task mean when a task has no samples); None without tasks."""
    tasks = [t for t in tasks if t in summary.tasks]
    if not tasks:
        return None
    run = summary.run
    if all(run.tasks[t].samples is not None for t in tasks):
        out = summarize_samples(name, "pooled", [s for t in tasks for s in run.tasks[t].samples or []],
                                run.budget_known)
        out.tasks = list(tasks)
        return out
    return task_mean(name, [summary.tasks[t] for t in tasks])


def summarize(run: RunData) -> RunSummary:
    tasks: dict[str, Summary] = {}
    for name, td in run.tasks.items():
        if td.samples is not None:
            tasks[name] = summarize_samples(name, "task", td.samples, run.budget_known, td.metric, td.own_metric)
        else:
            tasks[name] = summarize_results(td)
    groups: dict[str, GroupSummary] = {}
    names = dict(run.groups)
    if len(run.tasks) > 1 and not any(set(ts) == set(run.tasks) for ts in names.values()):
        names[ALL_TASKS] = sorted(run.tasks)
    for g, members in names.items():
        pooled = None
        if all(run.tasks[t].samples is not None for t in members):
            metrics = {run.tasks[t].metric for t in members}
            owns = {run.tasks[t].own_metric for t in members}
            pooled = summarize_samples(g, "pooled", [s for t in members for s in run.tasks[t].samples or []],
                                       run.budget_known, None if None in metrics else "own metric",
                                       None if None in owns else "own metric")
            pooled.tasks = list(members)
        lm = None
        if g in run.lm_eval_groups:
            lm = Summary(name=g, kind="lm-eval size-weighted", source="results")
            for metric in (m.name for m in METRICS):
                r = run.lm_eval_groups[g].get(metric) or {}
                lm.values[metric] = Value(_clean(r.get("value")), _clean(r.get("stderr")))
        groups[g] = GroupSummary(g, list(members), pooled, task_mean(g, [tasks[t] for t in members]), lm)
    return RunSummary(run, tasks, groups)
