"""The per-response record the trace filter logs, and how a reader gets the pieces back (pure core).

A record (format version 2) is a compact JSON object string holding the class, the classification details,
offsets into the raw response and the verdict, but no text: lm-eval already logs the raw response in
``resps``, so ``record_fields(filtered_resp, resp)`` slices reasoning, answer and preamble out of it. Version 1
records of older logs carried the text themselves and are read as well. The harness filter writes records;
``lm-eval-thinkpack report`` reads them; neither needs lm-eval for this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .classify import strip_markup
from .formats import FORMATS

RECORD_VERSION = 2
_SPANS = ("preamble", "reasoning", "answer")
#: the lengths a record carries (``tokens.count_lengths``): reasoning and answer counts and their unit,
#: "tokens" (the model's tokenizer) or "words" (whitespace words: no tokenizer known); absent in older records
LENGTH_FIELDS = ("reasoning_tokens", "answer_tokens", "token_unit")


_NO_RESPONSE, _NOT_TEXT = "no_response", "response_not_text:"


def response_text(resp: Any) -> tuple[str, str | None]:
    """(text, harness fault tag or None): a backend that returns no text is a harness fault, not a model's answer.
    The tag is what a record's ``error`` holds, so ``record_fields`` knows the logged response is not the text."""
    if isinstance(resp, str):  # a Generation with a fault: the backend got no reply it could use
        return (resp, None) if not getattr(resp, "fault", None) else ("", _NO_RESPONSE)
    return "", _NO_RESPONSE if resp is None else f"{_NOT_TEXT}{type(resp).__name__}"


def _is_response_fault(tag: Any) -> bool:
    return isinstance(tag, str) and (tag == _NO_RESPONSE or tag.startswith(_NOT_TEXT))



class RecordError(ValueError):
    """A filtered response that is not a thinkpack record (the task has no ``thinkpack_trace`` filter?)."""


def parse_record(item: Any) -> dict[str, Any]:
    """A filtered response back as the dict the filter encoded."""
    if isinstance(item, Mapping):
        return dict(item)
    try:
        rec = json.loads(item)
    except (TypeError, ValueError):
        rec = None
    if not isinstance(rec, dict) or "status" not in rec:
        raise RecordError(f"not a thinkpack trace record: {str(item)[:80]!r}; thinkpack tasks need the "
                          "thinkpack_trace filter (filter_list in _base_thinkpack.yaml)")
    return rec


def record_fields(filtered_resp: Any, resp: Any) -> dict[str, Any]:
    """One logged response as a report reads it: status, reasoning, answer, preamble, text, verdict, ...

    ``filtered_resp`` is the logged ``filtered_resps`` entry (a version 2 record, or a version 1 record of an
    older log, which holds the text itself); ``resp`` the matching ``resps`` entry, the raw response the offsets
    point into (ignored for version 1 records). A version 2 record whose offsets do not fit ``resp`` is a
    ``RecordError``: it was paired with the wrong response.
    """
    rec = parse_record(filtered_resp)
    if "spans" not in rec:  # version 1: the record carries the pieces (and verdicts live in the row only)
        return {"status": rec.get("status"), "reasoning": rec.get("reasoning") or "",
                "answer": rec.get("answer") or "", "preamble": rec.get("preamble") or "",
                "text": rec.get("text") if isinstance(rec.get("text"), str) else ("" if resp is None else str(resp)),
                "format": rec.get("format"), "prefilled": rec.get("prefilled"),
                "budget_exhausted": rec.get("budget_exhausted"), "finish_reason": None,
                "blocks": rec.get("blocks"), "closed_by": rec.get("closed_by"), "correct": None, "extracted": None,
                "error": None, "harness_error": False, "version": 1, **dict.fromkeys(LENGTH_FIELDS)}
    # a response fault was classified as ""; the logged resps entry is then str() of what the backend returned
    text = resp if isinstance(resp, str) and not _is_response_fault(rec.get("error")) else ""
    out: dict[str, Any] = {"status": rec["status"], "text": text}
    fmt = FORMATS.get(rec.get("format"))  # type: ignore[arg-type]
    markup = fmt if fmt is not None and fmt.inline_markup else None
    for key in _SPANS:
        start, end = rec["spans"][key]
        if not 0 <= start <= end <= len(text):
            raise RecordError(f"record offsets {key}={[start, end]} do not fit a response of {len(text)} "
                              "characters: pass the resps entry the record was made from")
        # a family's inline markup (Cohere citations) is in the span, not in the piece the trace returned
        out[key] = text[start:end] if markup is None else strip_markup(text[start:end], markup)
    for key in ("format", "prefilled", "budget_exhausted", "finish_reason", "blocks", "closed_by", "correct",
                "extracted", "error", "harness_error", *LENGTH_FIELDS):
        out[key] = rec.get(key)
    out["version"] = rec.get("v", RECORD_VERSION)
    return out


def record_no_answer(rec: Mapping[str, Any]) -> bool | None:
    """A parsed record (``parse_record``) of a valid trace followed by no answer text; None when the record cannot
    tell (a version 1 record without its answer)."""
    if rec.get("status") != "valid":
        return False
    spans = rec.get("spans")
    if isinstance(spans, Mapping) and "answer" in spans:
        start, end = spans["answer"]
        return start == end
    answer = rec.get("answer")
    return None if answer is None else not str(answer).strip()
