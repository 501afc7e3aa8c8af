"""What an engine hands back, before classification: the text, its finish reason, and servers' split fields.

Pure core (no lm-eval import). Three pieces, each used at the edges:

* ``Generation``: a ``str`` that also carries the engine's ``finish_reason``. A ``str`` subclass, because
  lm-eval passes model outputs through its pipeline (instances, caches, filters, ``--log_samples``) as
  strings; an attribute on the string reaches the trace filter unchanged, so ``classify(...,
  finish_reason=)`` can record budget exhaustion.
* ``reassemble``: an OpenAI-compatible server with a reasoning parser (vLLM ``--reasoning-parser``, SGLang)
  splits a generation into ``message.reasoning`` / ``message.reasoning_content`` and ``message.content``.
  Classification needs the generation as the model wrote it, so the two fields are put back together in
  the family's own delimiters. ``classify(reassemble(r, c, fmt, prefilled=p), fmt, prefilled=p)`` gives back
  ``r`` and ``c`` (stripped) for every family (tested).
* ``stripped_trace_warning``: the symptom of a run that lost its traces to a reasoning parser (lm-eval's
  plain ``local-chat-completions`` reads ``message.content`` only), and the message that names the fix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from .formats import Delimiters, TraceFormat, get_format

log = logging.getLogger(__name__)

#: the finish reason OpenAI-compatible servers (and thinkpack's hf backend) give when the token budget ran out
LENGTH = "length"


class Generation(str):
    """A generated text that remembers why the engine stopped (``"stop"``, ``"length"``, or None: unknown).

    ``fault`` (a reason) marks a reply the backend could not get at all (a server that kept failing or kept
    sending something that is not a completion): the text is empty and the sample is a harness error, never
    the model's answer (``records.response_text``)."""

    finish_reason: str | None
    fault: str | None

    def __new__(cls, text: str, finish_reason: str | None = None, fault: str | None = None) -> Generation:
        if not isinstance(text, str):
            raise TypeError(f"Generation needs the generated text as str, got {type(text).__name__}")
        self = super().__new__(cls, text)
        self.finish_reason = finish_reason
        self.fault = fault
        return self

    def __reduce__(self):  # pickling (lm-eval's request cache) and copy keep the finish reason and the fault
        return (Generation, (str(self), self.finish_reason, self.fault))

    def __repr__(self) -> str:
        fault = f", fault={self.fault!r}" if self.fault else ""
        return f"Generation({str.__repr__(self)}, finish_reason={self.finish_reason!r}{fault})"


def finish_reason_of(response: Any) -> str | None:
    """The finish reason a response carries (None for a plain string: the engine did not say)."""
    reason = getattr(response, "finish_reason", None)
    return reason if isinstance(reason, str) else None


def _writing(spec: TraceFormat) -> Delimiters:
    """The alternative a model writes its trace in: the first one whose opener is not an anchored word."""
    for d in spec.delimiters:
        if d.open and not d.anchored:
            return d
    return spec.delimiters[0]


def reassemble(reasoning: str | None, content: str | None, fmt: str | TraceFormat = "think", *,
               prefilled: bool) -> str:
    """A server's split ``reasoning`` / ``content`` back as the generation, in ``fmt``'s delimiters.

    Opener + reasoning + closer + content; a prefilled prompt already opened the trace, so the text gets only
    the closer. No reasoning (None) means the parser found no trace: the content is returned as is. Reasoning
    with ``content`` None means the trace never closed (the parsers' "output was truncated"): the text is left
    unclosed, so it classifies as truncated. Nothing is added or stripped, so a parser that returns the raw
    pieces (vLLM's ``qwen3`` does) gives back the model's exact text.
    """
    if reasoning is not None and not isinstance(reasoning, str):
        raise TypeError(f"reassemble: reasoning must be str or None, got {type(reasoning).__name__}")
    if content is not None and not isinstance(content, str):
        raise TypeError(f"reassemble: content must be str or None, got {type(content).__name__}")
    if reasoning is None:
        return content or ""
    d = _writing(get_format(fmt))
    opener = "" if prefilled else d.open[0]
    if content is None:
        return opener + reasoning
    return opener + reasoning + d.close[0] + content


# ------------------------------------------------------------------------------ the lost-trace symptom

FIX = "lm-eval-thinkpack eval --model thinkpack-chat-completions"


def stripped_trace_warning(responses: Iterable[Any], fmt: str | TraceFormat, *, thinking_disabled: bool = False,
                           via_server: bool = True) -> str | None:
    """The warning for responses whose traces a reasoning parser took away, or None when they look whole.

    The symptom: a run through a server, thinking on, and not one response carries a trace delimiter
    (finished traces went to ``message.reasoning``, the content holds only the answer; unfinished ones came
    back as null content, which lm-eval turns into ""). Responses from a thinkpack backend carry a finish
    reason and were reassembled: never a symptom. One delimiter anywhere means the text reaches us whole.
    """
    if not via_server or thinking_disabled:
        return None
    spec = get_format(fmt)
    tags = spec.all_open + spec.all_close
    n = blank = 0
    for r in responses:
        if finish_reason_of(r) is not None:
            return None
        text = r if isinstance(r, str) else ("" if r is None else str(r))
        if any(t in text for t in tags):
            return None
        n += 1
        blank += not text.strip()
    if n == 0:
        return None
    return (f"lm-eval-thinkpack: none of the {n} responses has a {spec.open or spec.close} ... {spec.close} trace "
            f"({blank} blank). A server with a reasoning parser (vLLM/SGLang --reasoning-parser) moves the trace "
            f"to message.reasoning / reasoning_content and lm-eval's local-chat-completions reads only "
            f"message.content (a trace cut by the token budget comes back blank), so the trace rates here are "
            f"wrong. Run `{FIX} ...` with the same arguments: it puts the trace back and keeps each finish reason.")


#: formats already warned about in this process: one warning per run, not one per task (no result depends on it)
_WARNED: set[str] = set()


def warn_stripped_traces(resps: Iterable[Iterable[Any]], docs: Iterable[Mapping[str, Any]]) -> str | None:
    """The filter's hook: check one task's responses (lists per doc) with the profile on its docs; warn once.

    ``thinkpack_server`` on a doc says the run went through a server (the loader sets it from ``base_url``).
    """
    resps, docs = list(resps), list(docs)
    if not docs:
        return None
    doc = docs[0]
    fmt = doc.get("thinkpack_format") or "think"
    message = stripped_trace_warning(
        (r for doc_resps in resps for r in doc_resps), fmt,
        thinking_disabled=bool(doc.get("thinkpack_thinking_disabled", False)),
        via_server=bool(doc.get("thinkpack_server")))
    if message is not None and fmt not in _WARNED:
        _WARNED.add(fmt)
        log.warning(message)
    return message
