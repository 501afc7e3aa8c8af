"""The trace layer for any lm-eval generative task: the task's own metrics on the answer alone, trace rates, Rpass@1.

One layer (profile -> ``classify`` -> answer), installed on a built lm-eval task object (``install``):

* every filter pipeline ``P`` of the task is kept as it is (its metrics stay exactly what lm-eval computes), and a
  copy ``answer/P`` is added whose first step is ``thinkpack_answer``: each response is replaced by its answer under
  the model's profile (valid / empty: the text after the closer; missing: the whole text; truncated: nothing). The
  task's own ``process_results`` then scores the copy, so ``exact_match,answer/strict-match`` is lm-eval's own
  ``exact_match`` on the answers. A truncated trace is never credited: a doc whose one response is a truncated
  trace gets 0 / False for its answer-only values, and so does a doc of a ``repeats: n`` task whose scored value
  is the no-answer of a truncated response (``take_first`` of one, a majority of them); a truncated response
  among others simply gives no answer to vote with.
* a ``trace`` pipeline classifies each response once (the answer pipelines reuse that classification) and reports
  the catalogue's metrics (``lm_eval_thinkpack.stats.METRICS``: VR, ER, MR, TR, budget_exhausted_rate, Rpass@1,
  no_answer_rate, reasoning/answer token counts, harness_errors; each rate and mean with its ``_stderr``) through
  ``harness.metrics``' aggregations, on rows built as thinkpack's ``process_results`` builds them.
* Rpass@1 is the task's primary metric on the answer over the valid-trace samples. The primary metric is the
  first ``higher_is_better`` metric of the first pipeline, or the one the user names (``primary="exact_match"`` or
  ``"exact_match,flexible-extract"``); the choice is logged and kept in the task config's metadata
  (``thinkpack_primary``). With ``repeats: n`` lm-eval scores each doc once (its first response, a majority
  vote...): that value pairs with the doc's first response, so Rpass@1 is over the docs whose first response is
  a valid trace; the trace rates count every response.

lm-eval calls ``process_results(doc, results)`` once per doc for each pipeline in turn, pipeline after pipeline, in
the order the pipelines were applied (``evaluator.evaluate``). The layer puts its pipelines after the task's and
counts the calls, so it knows the pipeline and the doc of each call; the ``trace`` pipeline's results carry their
doc position, which checks the count (a mismatch leaves Rpass@1 undefined, with a warning, never wrong).

Users: ``lm-eval-thinkpack eval`` installs the layer on every generative task of a run (``evaluate_with_layer``);
a task YAML gets it with ``class: !function lm_eval_thinkpack.harness.anytask.TraceAwareTask``; a task author can
also put the registered ``thinkpack_answer`` filter first in any ``filter_list`` pipeline. thinkpack's own tasks
are left alone (they score with the same ``classify`` through ``thinkpack_trace``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from lm_eval.api.filter import Filter, FilterEnsemble
from lm_eval.api.registry import register_filter

from lm_eval_thinkpack.classify import Trace
from lm_eval_thinkpack.generation import finish_reason_of, warn_stripped_traces
from lm_eval_thinkpack.stats import METRICS, Estimate, mean_estimate
from lm_eval_thinkpack.tokens import no_answer

from .filters import TraceFilter, Verdict, classify_response, count_trace_lengths, encode_record
from .metrics import AGGREGATIONS, DocRow

log = logging.getLogger("lm_eval_thinkpack.harness")

ANSWER_PREFIX = "answer/"
TRACE_KEY = "trace"
#: the catalogue metrics the trace pipeline reports (pass@1 is the answer-only primary metric itself; scoring
#: errors belong to thinkpack's scorers)
LAYER_METRICS = tuple(m for m in METRICS if m.name not in ("pass@1", "scoring_errors"))
_TRUNCATED = "truncated"
LENGTH_CHUNK = 16  # docs whose reasoning and answer lengths are counted in one batch


class TraceLayerError(ValueError):
    """The layer cannot be installed as asked (an unknown primary metric, a stripping model configuration)."""


# ------------------------------------------------------------------------------------------------ profile

_PROFILES: dict[str, dict[str, Any]] = {}  # memo of resolve_profile by its inputs: same inputs, same profile


def profile_for(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The trace profile of a run (the keys a thinkpack doc carries): ``trace_format`` / ``prefilled`` settings
    win, else detection from the model args (``pretrained`` / ``tokenizer`` / ``model``), as for thinkpack tasks."""
    from .loader import resolve_profile

    meta = dict(metadata or {})
    key = json.dumps(meta, sort_keys=True, default=str)
    if key not in _PROFILES:
        _PROFILES[key] = resolve_profile(meta)
    return _PROFILES[key]


# ------------------------------------------------------------------------------------------------ state


class _LayerState:
    """One task's layer: its profile, pipelines and what the filters learnt for ``process_results``."""

    def __init__(self, task: Any, profile: Mapping[str, Any], primary: tuple[str, str], n_orig: int,
                 answer_keys: Sequence[str]) -> None:
        self.task_name = getattr(getattr(task, "config", None), "task", None) or str(task)
        self.profile = dict(profile)
        self.primary_metric, self.primary_key = primary
        self.n_orig = n_orig
        self.answer_keys = list(answer_keys)
        self.primary_index = n_orig + self.answer_keys.index(self.primary_key) if self.primary_key in \
            self.answer_keys else None
        self._resps: list[Any] | None = None
        self.traces: list[list[tuple[Trace, str | None]]] = []
        self.truncated: list[bool] = []  # per doc: its only response is a truncated trace (or a fault)
        self.n_docs = 0
        self.calls = 0
        self.primary_values: list[float | None] = []
        self.raw: list[list[tuple[Any, Any, dict[str, Any]] | None]] = []  # [pipeline][doc]: (results, doc, metrics)
        self.golds: list[tuple[Any, Any] | None] = []  # [doc]: (doc, doc_to_target(doc))
        self.copy_of: list[int] = []  # answer pipeline -> index of the task pipeline it copies
        self.current: tuple[int, Any] | None = None  # (doc position, doc) of the process_results call under way
        self.rows: list[DocRow] = []  # the trace rows of the last scoring pass (pooled for groups)
        self.primary_shown = ""  # "metric,pipeline" of Rpass@1, as the results JSON keeps it (thinkpack_primary)
        self.paired = True

    def classified(self, resps: Sequence[Any]) -> list[list[tuple[Trace, str | None]]]:
        """Each doc's responses classified once per filtering pass (every pipeline sees the same response lists)."""
        cached = self._resps
        if cached is None or len(cached) != len(resps) or any(a is not b for a, b in zip(cached, resps, strict=True)):
            warn_stripped_traces(resps, [self.profile])
            self.traces = [[classify_response(r, self.profile) for r in doc_resps] for doc_resps in resps]
            self.truncated = [len(row) == 1 and (row[0][1] is not None or row[0][0].status.value == _TRUNCATED)
                              for row in self.traces]
            self._resps = list(resps)
            self.n_docs = len(resps)
            self.calls = 0
            self.primary_values = [None] * self.n_docs
            self.raw = [[None] * self.n_docs for _ in range(self.n_orig)]
            self.golds = [None] * self.n_docs
            self.rows = []
            self.paired = True
        return self.traces


# ------------------------------------------------------------------------------------------------ filters


class NoAnswer(str):
    """The empty answer of a truncated trace or a harness fault; a task's filters that pass it on unchanged
    (``take_first``, ``majority_vote``) let the layer see that the value it scores is no answer."""

    __slots__ = ()


NO_ANSWER = NoAnswer("")


def _no_answer_scored(results: Sequence[Any]) -> bool:
    """The filtered value of a doc is (only) the no-answer of truncated responses."""
    value = results[0] if len(results) == 1 else results
    if isinstance(value, (list, tuple)):
        return bool(value) and all(v is NO_ANSWER for v in value)
    return value is NO_ANSWER


def answer_of(resp: Any, trace: Trace, fault: str | None) -> str:
    """The text a task's own pipeline scores: the answer; nothing (:data:`NO_ANSWER`) for a truncated trace or a
    harness fault."""
    if fault is not None or trace.status.value == _TRUNCATED:
        return NO_ANSWER
    answer = trace.answer
    return resp if answer == resp and isinstance(resp, str) else answer  # a missing trace: the response itself


@register_filter("thinkpack_answer")
class AnswerFilter(Filter):
    """Replace each response with its answer under the model's profile; the first step of any pipeline.

    Inside a layered task (``install``, ``TraceAwareTask``, ``lm-eval-thinkpack eval``) the profile is the run's;
    elsewhere give it as filter arguments (``trace_format: qwen3``, ``prefilled: false``; default: generic
    ``<think>`` tags, not prefilled)."""

    def __init__(self, trace_format: Any = None, prefilled: Any = None, _layer: _LayerState | None = None,
                 **_: Any) -> None:
        self._layer = _layer
        self._profile = None
        if _layer is None:
            meta = {k: v for k, v in (("trace_format", trace_format or "think"),
                                      ("prefilled", False if prefilled is None else prefilled))}
            self._profile = profile_for(meta)

    def apply(self, resps, docs):
        resps = list(resps)
        if self._layer is not None:
            traces = self._layer.classified(resps)
        else:
            traces = [[classify_response(r, self._profile) for r in doc_resps] for doc_resps in resps]
        return [[answer_of(r, t, fault) for r, (t, fault) in zip(doc_resps, row, strict=True)]
                for doc_resps, row in zip(resps, traces, strict=True)]


class TraceMark:
    """One response in the ``trace`` pipeline: its classification, its doc's position, and (after scoring) the
    primary value; logged (``--log_samples``) as a thinkpack trace record (``harness.filters.encode_record``)."""

    __slots__ = ("trace", "fault", "finish_reason", "doc_index", "correct", "lengths")

    def __init__(self, trace: Trace, fault: str | None, finish_reason: str | None, doc_index: int,
                 lengths: Any = None) -> None:
        self.trace, self.fault, self.finish_reason, self.doc_index = trace, fault, finish_reason, doc_index
        self.correct: bool | None = None
        self.lengths = lengths  # tokens.Lengths: reasoning and answer lengths (the model's tokens, else words)

    def __str__(self) -> str:
        verdict = Verdict(None, None, self.fault, True) if self.fault else Verdict(self.correct)
        return encode_record(self.trace, verdict, self.finish_reason, self.lengths)

    __repr__ = __str__


class _TraceStep(Filter):
    def __init__(self, _layer: _LayerState) -> None:
        self._layer = _layer

    def apply(self, resps, docs):
        resps = list(resps)
        traces = self._layer.classified(resps)
        # the catalogue's token counts, a few docs at a time: counting slices out each reasoning text, and all of
        # them at once would hold a copy of every trace (peak memory ~1 byte per byte of text instead of ~0.1)
        lengths: list[Any] = []
        for k in range(0, len(traces), LENGTH_CHUNK):
            chunk = traces[k:k + LENGTH_CHUNK]
            lengths += count_trace_lengths(chunk, [self._layer.profile] * len(chunk))
        return [[TraceMark(t, fault, finish_reason_of(r) if fault is None else None, i, n)
                 for r, (t, fault), n in zip(doc_resps, row, lrow, strict=True)]
                for i, (doc_resps, row, lrow) in enumerate(zip(resps, traces, lengths, strict=True))]


# ------------------------------------------------------------------------------------------------ metrics


def _as_score(value: Any) -> float | None:
    """A per-doc metric value as a number (a list of flags, e.g. IFEval's instruction level: their mean)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (bool, int, float)) for v in value):
        return sum(float(v) for v in value) / len(value)
    return None


def _never_credited(value: Any) -> Any:
    """The value of a metric for a doc with no answer (a truncated trace): nothing credited."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return type(value)(0)
    if isinstance(value, list):
        return [_never_credited(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_never_credited(v) for v in value)
    return value


def _rows(marks: Sequence[TraceMark], value: float | None) -> DocRow:
    """A doc's row for ``harness.metrics``' aggregations; the primary value pairs with its first response."""
    return DocRow(
        id=None,
        status=[m.trace.status.value for m in marks],
        correct=[value] * len(marks),
        extracted=[None] * len(marks),
        scoring_error=[None] * len(marks),
        harness_error=[m.fault for m in marks],
        budget_exhausted=[bool(m.trace.budget_exhausted) if isinstance(m.finish_reason, str) else None
                          for m in marks],
        no_answer=[None if m.fault else no_answer(m.trace) for m in marks],
        reasoning_tokens=[None if m.lengths is None else m.lengths.reasoning for m in marks],
        answer_tokens=[None if m.lengths is None else m.lengths.answer for m in marks],
        token_unit=[None if m.lengths is None else m.lengths.unit for m in marks],
    )


def _binary(v: Any) -> bool:
    return v is None or v in (0.0, 1.0)


def agg_rpass(rows: list[dict[str, Any]]) -> float:
    """Rpass@1 of the layer: the catalogue's (``stats.trace_stats``) for a 0/1 primary metric; for a graded one
    (F1, BLEU...), or docs with several responses (``repeats``: one value per doc, paired with its first
    response), the mean of the values over the docs whose first response is a valid trace
    (``stats.mean_estimate``)."""
    est = _rpass_estimate(rows)
    return float("nan") if est.value is None else est.value


def agg_rpass_stderr(rows: list[dict[str, Any]]) -> float:
    est = _rpass_estimate(rows)
    return float("nan") if est.value is None or est.stderr is None else est.stderr


def _rpass_estimate(rows: list[dict[str, Any]]) -> Estimate:
    from .metrics import rows_stats

    if all(len(r["status"]) == 1 and _binary(r["correct"][0]) for r in rows):
        est = rows_stats(rows).estimates.get("rpass@1")
        return est if est is not None else Estimate(None, None, None, None, 0, 0)
    return mean_estimate([r["correct"][0] for r in rows if r["status"] and r["status"][0] == "valid"
                          and r["correct"][0] is not None and not (r.get("harness_error") or [None])[0]])


def _aggregations() -> dict[str, Callable[[list[Any]], Any]]:
    out: dict[str, Callable[[list[Any]], Any]] = {}
    for m in LAYER_METRICS:
        out[m.name] = agg_rpass if m.name == "rpass@1" else AGGREGATIONS[m.name]
        if m.has_stderr:
            out[f"{m.name}_stderr"] = agg_rpass_stderr if m.name == "rpass@1" else AGGREGATIONS[f"{m.name}_stderr"]
    return out


LAYER_AGGREGATIONS = _aggregations()
_HIGHER = {m.name: m.higher_is_better for m in LAYER_METRICS} | {f"{m.name}_stderr": False for m in LAYER_METRICS
                                                                 if m.has_stderr}


# ------------------------------------------------------------------------------------------------ install


def is_thinkpack_task(task: Any) -> bool:
    """A thinkpack task (its pipelines hold ``thinkpack_trace``): it already has the layer, left as it is."""
    for ensemble in getattr(task, "_filters", None) or ():
        for step in ensemble.filters:
            if getattr(step, "func", step) is TraceFilter:
                return True
    return False


def _starts_with_answer(ensemble: FilterEnsemble) -> bool:
    return bool(ensemble.filters) and getattr(ensemble.filters[0], "func", ensemble.filters[0]) is AnswerFilter


def primary_of(task: Any, primary: str | None = None) -> tuple[str, str]:
    """(metric, pipeline) the layer's Rpass@1 reads: the user's ``"metric"`` / ``"metric,pipeline"``, else the first
    ``higher_is_better`` metric of the task's first pipeline."""
    names = [e.name for e in task._filters]
    metrics = list(task._metric_fn_list)
    hib = task.higher_is_better() or {}
    if primary:
        metric, _, key = (p.strip() for p in str(primary).partition(","))
        if metric not in metrics:
            raise TraceLayerError(f"primary metric {metric!r} is not a metric of task {task.config.task!r} "
                                  f"(its metrics: {', '.join(metrics) or 'none'})")
        if key.startswith(ANSWER_PREFIX):
            key = key[len(ANSWER_PREFIX):]
        if key and key not in names:
            raise TraceLayerError(f"primary pipeline {key!r} is not a filter of task {task.config.task!r} "
                                  f"(its filters: {', '.join(names)})")
        return metric, key or names[0]
    metric = next((m for m in metrics if hib.get(m)), metrics[0] if metrics else "")
    return metric, names[0]


def install(task: Any, profile: Mapping[str, Any] | None = None, primary: str | None = None) -> bool:
    """Make one built lm-eval task trace-aware (see the module docstring); False when the layer does not apply
    (not generative, a thinkpack task, already layered). ``profile`` defaults to the task's metadata's."""
    if getattr(task, "OUTPUT_TYPE", None) != "generate_until" or is_thinkpack_task(task) or \
            getattr(task, "_thinkpack_layer", None) is not None:
        return False
    meta = getattr(task.config, "metadata", None) or {}
    profile = profile_for(meta) if profile is None else profile
    metric, key = primary_of(task, primary or (meta.get("primary_metric") if isinstance(meta, Mapping) else None))
    orig = list(task._filters)
    answers: list[FilterEnsemble] = []
    state = _LayerState(task, profile, (metric, key), len(orig), [])
    for ensemble in orig:
        if _starts_with_answer(ensemble):  # the author's own answer pipeline: bind it to the run's profile
            ensemble.filters[0] = partial(AnswerFilter, _layer=state)
            continue
        answers.append(FilterEnsemble(name=ANSWER_PREFIX + ensemble.name,
                                      filters=[partial(AnswerFilter, _layer=state), *ensemble.filters]))
    state.answer_keys = [e.name[len(ANSWER_PREFIX):] for e in answers]
    state.copy_of = [next(i for i, e in enumerate(orig) if e.name == key) for key in state.answer_keys]
    state.primary_index = (state.n_orig + state.answer_keys.index(key)) if key in state.answer_keys else \
        next((i for i, e in enumerate(orig) if e.name == key), None)
    task._filters = [*orig, *answers, FilterEnsemble(name=TRACE_KEY, filters=[partial(_TraceStep, _layer=state)])]
    task._aggregation_list.update(LAYER_AGGREGATIONS)
    task._higher_is_better.update(_HIGHER)
    original = task.process_results
    task.process_results = partial(_process_results, state, original)
    task.doc_to_target = partial(_memo_target, state, task.doc_to_target)
    task._thinkpack_layer = state
    shown = f"{metric},{ANSWER_PREFIX if key in state.answer_keys else ''}{key}"
    state.primary_shown = shown
    if isinstance(task.config.metadata, dict):
        task.config.metadata["thinkpack_primary"] = shown
        task.config.metadata["thinkpack_trace_format"] = profile.get("thinkpack_format")
    log.info("lm-eval-thinkpack: %s: trace layer on (format %s, prefilled=%s); Rpass@1 reads %s", state.task_name,
             profile.get("thinkpack_format"), profile.get("thinkpack_prefilled"), shown)
    return True


def _process_results(state: _LayerState, original: Callable[[Any, Any], dict[str, Any]], doc: Any,
                     results: list[Any]) -> dict[str, Any]:
    n = state.n_docs
    call = state.calls
    state.calls += 1
    first = results[0] if results else None
    if isinstance(first, list) and first and isinstance(first[0], TraceMark):
        return _trace_row(state, first, call)
    n_pipes = state.n_orig + len(state.answer_keys)
    if not n or call >= n_pipes * n:
        _lost(state)
        return original(doc, results)
    k, d = divmod(call, n)
    state.current = (d, doc)
    try:
        if k < state.n_orig:  # the task's own pipeline: lm-eval's metrics, kept for its answer copy
            metrics = original(doc, results)
            state.raw[k][d] = (results, doc, metrics)
        else:  # answer/P: the same metrics on the answers; P's own when the answer pipeline gave the same values
            raw = state.raw[state.copy_of[k - state.n_orig]][d]
            none = state.truncated[d] or _no_answer_scored(results)
            if raw is not None and (raw[1] is doc or raw[1] == doc) and (none or raw[0] == results):
                metrics = dict(raw[2])
            else:
                metrics = original(doc, results)
            if none:
                metrics = {name: _never_credited(v) for name, v in metrics.items()}
    finally:
        state.current = None
    if k == state.primary_index:
        state.primary_values[d] = _as_score(metrics.get(state.primary_metric))
    return metrics


def _trace_row(state: _LayerState, marks: list[TraceMark], call: int) -> dict[str, Any]:
    n = state.n_docs
    d = marks[0].doc_index
    if call != (state.n_orig + len(state.answer_keys)) * n + d:
        _lost(state)
    value = state.primary_values[d] if state.paired and 0 <= d < n else None
    marks[0].correct = None if value is None else value > 0
    row = _rows(marks, value)
    state.rows.append(row)
    out: dict[str, Any] = {}
    for m in LAYER_METRICS:
        out[m.name] = row
        if m.has_stderr:
            out[f"{m.name}_stderr"] = row  # right after m: its real standard error replaces lm-eval's N/A
    return out


def _memo_target(state: _LayerState, original: Callable[..., Any], doc: Any, *args: Any, **kwargs: Any) -> Any:
    """``doc_to_target`` once per doc while its pipelines are scored (lm-eval renders the jinja template, compiled
    anew, on every call: once per pipeline); the cached gold is used only for the same doc (identity or equality)."""
    cur = state.current
    if args or kwargs or cur is None or not (doc is cur[1] or doc == cur[1]):
        return original(doc, *args, **kwargs)  # another template (few-shot), or outside scoring
    d = cur[0]
    hit = state.golds[d]
    if hit is not None and (hit[0] is doc or hit[0] == doc):
        return hit[1]
    gold = original(doc)
    state.golds[d] = (doc, gold)
    return gold


def _lost(state: _LayerState) -> None:
    if state.paired:
        state.paired = False
        log.warning("lm-eval-thinkpack: %s: process_results calls did not come in lm-eval's pipeline order; Rpass@1 is "
                    "left undefined for this task", state.task_name)


# ------------------------------------------------------------------------------------------------ YAML class


def _task_class() -> type:
    from lm_eval.api.task import ConfigurableTask

    class TraceAwareTask(ConfigurableTask):
        """``class: !function lm_eval_thinkpack.harness.anytask.TraceAwareTask`` in a task YAML: the task as its
        other keys define it, plus the trace layer (profile from ``--model_args`` / ``--metadata``)."""

        def __init__(self, config: dict | None = None, **kwargs: Any) -> None:
            from . import preflight

            preflight.install_error_hook()  # a refusal below ends a plain lm_eval run as its one line
            config = {k: v for k, v in (config or {}).items() if k != "class"}
            super().__init__(config=config, **kwargs)
            if install(self):  # the thinkpack tasks' checks (loader.load_docs), for this task too
                preflight.check_chat_template()
                preflight.fit_budget()

    return TraceAwareTask


TraceAwareTask = _task_class()


# ------------------------------------------------------------------------------------------------ eval command


def install_all(tasks: Mapping[str, Any], primary: str | None = None) -> dict[str, list[str]]:
    """Install the layer on every generative task of a loaded run; name the tasks left alone, once."""
    done: dict[str, list[str]] = {"layered": [], "loglikelihood": [], "thinkpack": []}
    for name, task in tasks.items():
        if getattr(task, "OUTPUT_TYPE", None) != "generate_until":
            done["loglikelihood"].append(name)
        elif is_thinkpack_task(task):
            done["thinkpack"].append(name)
        elif install(task, primary=primary if primary and _has_metric(task, primary) else None):
            done["layered"].append(name)
    if done["layered"]:  # a line the eval command prints (its INFO lines are not shown): which metric is primary
        log.warning("lm-eval-thinkpack: trace layer on %s; Rpass@1 reads (pick another with --primary_metric): %s",
                    ", ".join(done["layered"]), "; ".join(
                        f"{n} {tasks[n]._thinkpack_layer.primary_shown}" for n in done["layered"]))
    if done["loglikelihood"]:
        log.warning("lm-eval-thinkpack: trace layer: loglikelihood tasks left as they are: %s",
                    ", ".join(done["loglikelihood"]))
    if primary and done["layered"] and not any(_has_metric(tasks[n], primary) for n in done["layered"]):
        raise TraceLayerError(f"--primary_metric {primary}: no generative task of this run has that metric")
    return done


def pool_groups(results: dict[str, Any], tasks: Mapping[str, Any]) -> None:
    """Each group's trace figures pooled over the samples of its layered tasks (VR over all their responses, Rpass@1
    over all their valid ones), added to its row of ``results`` (and ``groups``) under ``<metric>,trace``. lm-eval's
    own group aggregation, where a group YAML asks for one, is a size-weighted mean of task values instead."""
    subtasks = results.get("group_subtasks") or {}

    def leaves(name: str, seen: set[str]) -> list[str]:
        if name in seen:
            return []
        seen.add(name)
        if name not in subtasks:
            return [name]
        return [leaf for child in subtasks[name] for leaf in leaves(child, seen)]

    for group in subtasks:
        states = [getattr(tasks.get(t), "_thinkpack_layer", None) for t in leaves(group, set())]
        rows = [r for st in states if st is not None for r in st.rows]
        if not rows or group in tasks:
            continue
        pooled = {f"{name},{TRACE_KEY}": _number(fn(list(rows))) for name, fn in LAYER_AGGREGATIONS.items()}
        for where in ("results", "groups"):
            if group in (results.get(where) or {}):
                results[where][group].update(pooled)
        results.setdefault("higher_is_better", {}).setdefault(group, {}).update(
            {k: v for k, v in _HIGHER.items() if not k.endswith("_stderr")})


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, float) else value


def _has_metric(task: Any, primary: str) -> bool:
    return primary.partition(",")[0].strip() in getattr(task, "_metric_fn_list", {})


def evaluate_with_layer(evaluate: Callable[..., Any], primary: str | None = None) -> Callable[..., Any]:
    """``lm_eval.evaluator.evaluate`` with the layer installed on the run's tasks first, and each group's trace
    figures pooled over its tasks afterwards (lm-eval's own group mean is size-weighted per task)."""

    def run(lm: Any, task_dict: Any, *args: Any, **kwargs: Any) -> Any:
        from .preflight import check_chat_template, fit_budget, model_has_chat_template

        tasks = task_dict.get("tasks", {}) if isinstance(task_dict, Mapping) else {}
        if install_all(tasks, primary)["layered"]:  # the thinkpack tasks' checks, for the foreign tasks too
            check_chat_template(applied=bool(kwargs.get("apply_chat_template")),
                                has_template=model_has_chat_template(lm))
            fit_budget(lm)  # a budget above the model's context: clipped with a warning, not lm-eval's AssertionError
        results = evaluate(lm, task_dict, *args, **kwargs)
        if isinstance(results, dict):
            pool_groups(results, tasks)
        return results

    run.__wrapped__ = evaluate  # type: ignore[attr-defined]
    return run


__all__ = ["ANSWER_PREFIX", "AnswerFilter", "LAYER_METRICS", "NO_ANSWER", "NoAnswer", "TRACE_KEY", "TraceAwareTask",
           "TraceLayerError", "TraceMark", "answer_of", "evaluate_with_layer", "install", "install_all",
           "is_thinkpack_task", "primary_of", "profile_for"]
