"""lm-eval filter: classify every response with the trace profile the loader attached to its doc.

Registered as ``thinkpack_trace`` when ``lm_eval_thinkpack.harness`` is imported (the task YAMLs import it
through their ``!function`` hooks before lm-eval builds the filters). Each response becomes a JSON object
string: the raw text, the trace status, the reasoning, the answer and the classification details. A
string, because lm-eval's ``--log_samples`` writes ``str()`` of anything else (a Python repr); this way
``json.loads`` reads each logged ``filtered_resps`` entry back.
"""

from __future__ import annotations

import json
from typing import Any

from lm_eval.api.filter import Filter
from lm_eval.api.registry import register_filter

from lm_eval_thinkpack.classify import classify


def trace_record(text: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """One response -> the record the metrics read (the classification itself lives in ``classify``)."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    fmt = doc.get("thinkpack_format_spec") or doc.get("thinkpack_format") or "think"
    trace = classify(raw, fmt, prefilled=bool(doc.get("thinkpack_prefilled", False)))
    return {
        "status": trace.status.value,
        "answer": trace.answer,
        "reasoning": trace.reasoning,
        "text": raw,
        "format": trace.format,
        "prefilled": trace.prefilled,
        "budget_exhausted": trace.budget_exhausted,
        "preamble": trace.preamble,
        "blocks": trace.blocks,
    }


@register_filter("thinkpack_trace")
class TraceFilter(Filter):
    """``resps`` is one list of responses per doc (``repeats`` responses each); order is preserved."""

    def apply(self, resps, docs):
        return [[json.dumps(trace_record(r, doc), ensure_ascii=False) for r in doc_resps]
                for doc_resps, doc in zip(resps, docs, strict=True)]


def parse_record(item: Any) -> dict[str, Any]:
    """A filtered response back as a dict (the filter emits JSON strings)."""
    if isinstance(item, dict):
        return item
    return json.loads(item)
