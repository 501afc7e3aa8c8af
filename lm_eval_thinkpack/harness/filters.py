"""lm-eval filter: classify every response with its doc's trace profile, then score each scorer's batch at once.

Registered as ``thinkpack_trace`` when ``lm_eval_thinkpack.harness`` is imported (the task YAMLs import it
through their ``!function`` hooks before lm-eval builds the filters). The filter is the one place that sees
every doc of a task at once, so scoring happens here: all responses are classified, then the answers of
each scorer are checked with ``get_scorer(name).check_many`` (the code scorer runs all its programs in
parallel on the sandbox's workers); ``process_results`` only reads the verdicts.

Each response becomes a small record (format version 2), a compact JSON object string (a string because
lm-eval's ``--log_samples`` writes ``str()`` of anything else, a Python repr)::

    {"v": 2, "status": "valid", "format": "qwen3", "prefilled": false, "finish_reason": "stop",
     "budget_exhausted": false, "closed_by": "delimiter", "blocks": 1,
     "spans": {"preamble": [0, 0], "reasoning": [8, 912], "answer": [923, 960]},
     "correct": true, "extracted": "42", "error": null, "harness_error": false,
     "reasoning_tokens": 212, "answer_tokens": 9, "token_unit": "tokens"}

The record holds no text: ``spans`` are Python string offsets (code points) into the response lm-eval
already keeps (``resps`` of the logged sample), so a record costs a few hundred bytes whatever the trace's
length. ``reasoning_tokens`` / ``answer_tokens`` count the reasoning and the answer with the tokenizer the doc
names (``thinkpack_tokenizer``: the model's, set by the loader), or in whitespace words where none is known
(``token_unit`` "words"). ``lm_eval_thinkpack.records.record_fields(filtered_resp, resp)`` (pure core,
re-exported here) rebuilds reasoning, answer, preamble and text from them, and reads the version 1 records of
older logs (which held the text itself) as well. The response-fault tags below (``no_response``,
``response_not_text:<type>``) are the ones ``records`` recognises.

Bad samples never stop a run: a response that is None or not a string is a harness fault (classified as
empty text, not scored, ``harness_error`` true); a scorer that cannot give a verdict for reasons outside the
answer returns ``harness_error`` (see ``ScoreResult``), and a batch that fails as a whole is counted the same.
Harness faults are left out of pass@1 and Rpass@1 and counted in ``harness_errors``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lm_eval.api.filter import Filter
from lm_eval.api.registry import register_filter

from lm_eval_thinkpack.classify import Trace, classify
from lm_eval_thinkpack.generation import finish_reason_of, warn_stripped_traces
from lm_eval_thinkpack.records import RECORD_VERSION, RecordError, parse_record, record_fields, response_text
from lm_eval_thinkpack.tokens import Lengths, count_lengths, counter_from_ref

__all__ = ["RECORD_VERSION", "RecordError", "TraceFilter", "Verdict", "classify_response", "count_trace_lengths",
           "encode_record", "parse_record", "record_fields", "score_traces"]

log = logging.getLogger("lm_eval_thinkpack.harness")

SCORE_CHUNK = 512  # answers per check_many call: bounds the answer strings held at once, keeps every worker busy
EXTRACTED_MAX = 200  # characters of the extracted answer a record keeps (a display aid, not the answer)
_SPANS = ("preamble", "reasoning", "answer")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One response's score. ``correct`` is None when it was not scored because of a harness fault."""

    correct: bool | None
    extracted: str | None = None
    error: str | None = None
    harness_error: bool = False


_TRUNCATED = Verdict(False)  # a truncated trace has no answer: wrong, never sent to a scorer


def classify_response(resp: Any, doc: Mapping[str, Any]) -> tuple[Trace, str | None]:
    """One response -> (its ``Trace``, harness fault or None); the finish reason comes with the response."""
    text, fault = response_text(resp)
    # a user format travels as its spec (a name alone would not resolve in a fresh process)
    fmt = doc.get("thinkpack_format_spec") or doc.get("thinkpack_format") or "think"
    trace = classify(text, fmt, prefilled=bool(doc.get("thinkpack_prefilled", False)),
                     finish_reason=finish_reason_of(resp) if fault is None else None)
    return trace, fault


def _verdict(res: Any) -> Verdict:
    extracted = None if res.extracted is None else str(res.extracted)[:EXTRACTED_MAX]
    if getattr(res, "harness_error", False):
        return Verdict(None, extracted, str(res.error or "harness_error"), True)
    if res.error is not None:
        return Verdict(False, extracted, str(res.error))
    return Verdict(bool(res.correct), extracted)


def _score_batch(name: str, items: list[tuple[str, Mapping[str, Any]]]) -> list[Verdict]:
    """Verdicts of one scorer for one chunk; a scorer that cannot be found or fails as a whole is a harness fault."""
    from lm_eval_thinkpack.scoring import get_scorer

    try:
        results = get_scorer(name).check_many(items)
        if len(results) != len(items):
            raise RuntimeError(f"check_many returned {len(results)} verdicts for {len(items)} answers")
        return [_verdict(r) for r in results]
    except Exception as err:  # noqa: BLE001 - a harness fault costs these samples their score, never the run
        log.warning("lm-eval-thinkpack: scorer %r failed on a batch of %d answers (%s: %s); they are not scored and "
                    "are counted as harness_errors", name, len(items), type(err).__name__, err)
        return [Verdict(None, None, type(err).__name__, True)] * len(items)


def score_traces(traces: Sequence[Sequence[tuple[Trace, str | None]]],
                 docs: Sequence[Mapping[str, Any]]) -> list[list[Verdict]]:
    """Verdicts for every classified response of every doc: each scorer's answers go in batches of
    ``SCORE_CHUNK`` to its ``check_many``; truncated traces and harness faults are not sent."""
    out: list[list[Verdict | None]] = [[None] * len(row) for row in traces]
    pending: dict[str, list[tuple[int, int]]] = {}
    for i, (row, doc) in enumerate(zip(traces, docs, strict=True)):
        name = doc.get("thinkpack_scorer")
        for j, (trace, fault) in enumerate(row):
            if fault is not None:
                out[i][j] = Verdict(None, None, fault, True)
            elif trace.status.value == "truncated":
                out[i][j] = _TRUNCATED
            elif not isinstance(name, str) or not name:
                out[i][j] = Verdict(None, None, "no_scorer", True)
            else:
                pending.setdefault(name, []).append((i, j))
    if any(v is not None and v.error == "no_scorer" for row in out for v in row):
        log.warning("lm-eval-thinkpack: docs without thinkpack_scorer (not built by the thinkpack loader?) are not "
                    "scored; counted as harness_errors")
    for name, where in pending.items():
        for k in range(0, len(where), SCORE_CHUNK):
            chunk = where[k:k + SCORE_CHUNK]
            verdicts = _score_batch(name, [(traces[i][j][0].answer, docs[i]) for i, j in chunk])
            for (i, j), v in zip(chunk, verdicts, strict=True):
                out[i][j] = v
    return out  # type: ignore[return-value]  (every slot is filled above)


def count_trace_lengths(traces: Sequence[Sequence[tuple[Trace, str | None]]],
                        docs: Sequence[Mapping[str, Any]]) -> list[list[Lengths]]:
    """Reasoning and answer lengths of every classified response, with the tokenizer each doc names
    (``thinkpack_tokenizer``, set by the loader from the model args; whitespace words without one). All the
    responses of one tokenizer go to it in batches (``tokens.count_lengths``)."""
    out: list[list[Lengths | None]] = [[None] * len(row) for row in traces]
    by_ref: dict[str, list[tuple[int, int]]] = {}
    for i, (row, doc) in enumerate(zip(traces, docs, strict=True)):
        ref = doc.get("thinkpack_tokenizer") or ""
        by_ref.setdefault(ref, []).extend((i, j) for j in range(len(row)))
    for ref, where in by_ref.items():
        items = [traces[i][j][0] for i, j in where]
        try:
            lengths = count_lengths(items, counter_from_ref(ref))
        except Exception as err:  # noqa: BLE001 - lengths fall back to words; a run never stops for them
            log.warning("lm-eval-thinkpack: counting tokens failed (%s: %s); reasoning and answer lengths are "
                        "whitespace words instead", type(err).__name__, err)
            lengths = count_lengths(items)
        for (i, j), n in zip(where, lengths, strict=True):
            out[i][j] = n
    return out  # type: ignore[return-value]  (every slot is filled above)


def encode_record(trace: Trace, verdict: Verdict, finish_reason: str | None = None,
                  lengths: Lengths | None = None) -> str:
    """The filtered response: status, offsets, verdict and lengths as compact JSON (no text; see the module
    docstring)."""
    offs = trace.offsets()
    counts = {} if lengths is None else {"reasoning_tokens": lengths.reasoning, "answer_tokens": lengths.answer,
                                         "token_unit": lengths.unit}
    return json.dumps({
        "v": RECORD_VERSION, "status": trace.status.value, "format": trace.format, "prefilled": trace.prefilled,
        "finish_reason": finish_reason, "budget_exhausted": trace.budget_exhausted, "closed_by": trace.closed_by,
        "blocks": trace.blocks, "spans": {k: list(offs[k]) for k in _SPANS},
        "correct": verdict.correct, "extracted": verdict.extracted, "error": verdict.error,
        "harness_error": verdict.harness_error, **counts,
    }, ensure_ascii=False, separators=(",", ":"))


@register_filter("thinkpack_trace")
class TraceFilter(Filter):
    """``resps`` is one list of responses per doc (``repeats`` responses each); order is preserved."""

    def apply(self, resps, docs):
        docs = list(docs)
        warn_stripped_traces(resps, docs)  # a reasoning parser took the traces: name the fix, once
        traces = [[classify_response(r, doc) for r in doc_resps] for doc_resps, doc in zip(resps, docs, strict=True)]
        # counting runs beside scoring: the tokenizer releases the GIL, and scoring mostly waits on its workers
        with ThreadPoolExecutor(1, thread_name_prefix="thinkpack-tokens") as pool:
            counting = pool.submit(count_trace_lengths, traces, docs)
            verdicts = score_traces(traces, docs)
            lengths = counting.result()
        out = []
        for i, doc_resps in enumerate(resps):
            row, vrow, lrow = traces[i], verdicts[i], lengths[i]
            traces[i] = verdicts[i] = lengths[i] = None  # each doc's traces go as its records come: a lower peak
            out.append([encode_record(t, v, finish_reason_of(r) if fault is None else None, n)
                        for r, (t, fault), v, n in zip(doc_resps, row, vrow, lrow, strict=True)])
        return out
