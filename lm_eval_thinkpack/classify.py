"""Generated text -> ``Trace``: the four classes of the study, the reasoning and the answer.

The one source of truth for what valid / empty / missing / truncated mean (see
``shared/reference/semantics.md``). Only the generation is read, never the prompt: whether the prompt
already opened the trace ("prefilled") is an input, decided by ``prompt_is_prefilled`` on the rendered
prompt's tail.

Decisions for the cases the study leaves open (each has a test in ``tests/test_classify.py``):

* Tags match exactly, case included. Delimiters are tokens with one spelling; ``</THINK>`` typed by a
  model is text, and vLLM/SGLang would not treat it as a delimiter either. (The ``thinkpack`` package
  ignores case: a documented difference.)
* Several blocks: the first closer ends the trace. Everything after it is the answer, later blocks
  included (as in the study); ``Trace.blocks`` counts the blocks so a report can show it.
* Text before the opener (not prefilled): kept as ``Trace.preamble``, in neither reasoning nor answer.
  With a prefilled prompt the generation starts inside the trace, so all text before the closer is
  reasoning (a leading echoed opener is dropped).
* A repeated opener (``<think>a<think>b</think>``): the trace starts after the first opener; the second
  opener stays inside the reasoning text.
* A closer without an opener (prefill not reported, ERNIE, Step3): the text before it is the trace.
* A tool call that ends an unclosed trace (the family's ``implicit_close`` marker, e.g. Qwen3
  ``<tool_call>``): the trace counts as closed there and the tool call is the answer
  (``Trace.closed_by == "implicit"``). Real closers always win.
* CRLF and any unicode: delimiters never contain whitespace that matters; bodies are judged after
  ``str.strip()``, which removes ``\\r`` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from .formats import Delimiters, TraceFormat, get_format


class TraceStatus(str, Enum):
    """Exactly one per generation."""

    VALID = "valid"
    EMPTY = "empty"
    MISSING = "missing"
    TRUNCATED = "truncated"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Trace:
    """One classified generation. ``answer`` is what scoring sees; it is empty for truncated traces."""

    status: TraceStatus
    reasoning: str
    answer: str
    format: str = "think"
    prefilled: bool = False
    budget_exhausted: bool = False
    preamble: str = ""
    blocks: int = 0
    closed_by: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.status is TraceStatus.VALID


def _first(text: str, needles: tuple[str, ...], start: int = 0, end: int | None = None) -> tuple[int, int]:
    """Earliest occurrence of any needle as (position, length); a longer needle wins a tie. (-1, 0) if none."""
    best, best_len = -1, 0
    stop = len(text) if end is None else end
    for needle in needles:
        pos = text.find(needle, start, stop)
        if pos >= 0 and (best < 0 or pos < best or (pos == best and len(needle) > best_len)):
            best, best_len = pos, len(needle)
            stop = min(stop, pos + len(needle))
    return best, best_len


def _find_open(text: str, d: Delimiters, end: int | None = None) -> tuple[int, int]:
    if not d.open:
        return -1, 0
    if d.anchored:
        start = len(text) - len(text.lstrip())
        for needle in d.open:
            if text.startswith(needle, start) and (end is None or start + len(needle) <= end):
                return start, len(needle)
        return -1, 0
    return _first(text, d.open, 0, end)


def _unwrap_answer(answer: str, d: Delimiters) -> str:
    if d.answer_open is not None:
        pos = answer.find(d.answer_open)
        if pos >= 0:
            answer = answer[pos + len(d.answer_open):]
    if d.answer_close is not None:
        pos = answer.find(d.answer_close)
        if pos >= 0:
            answer = answer[:pos]
    return answer.strip()


def classify(
    text: str,
    fmt: str | TraceFormat = "think",
    *,
    prefilled: bool = False,
    finish_reason: str | None = None,
) -> Trace:
    """Classify one generation (the completion only) into valid / empty / missing / truncated."""
    if not isinstance(text, str):
        raise TypeError(f"classify() needs the generated text as str, got {type(text).__name__}")
    spec = get_format(fmt)
    exhausted = finish_reason == "length"

    # A closer of any alternative beats an opener of an earlier one: a 2506 Magistral trace may mention
    # "[THINK]" inside a plain-text <think> block that does close.
    for d in spec.delimiters:
        close_pos, close_len = _first(text, d.close)
        if close_pos >= 0:
            return _closed(text, spec, d, close_pos, close_pos + close_len, prefilled, exhausted, "delimiter")
    for d in spec.delimiters:
        open_pos, open_len = _find_open(text, d)
        if open_pos >= 0:
            return _unclosed(text, spec, d, open_pos, open_len, prefilled, exhausted)
    if prefilled:
        return _unclosed(text, spec, spec.delimiters[0], -1, 0, prefilled, exhausted)
    return Trace(TraceStatus.MISSING, "", text.strip(), spec.name, False, exhausted, "", 0, None)


def _split_body(text: str, open_pos: int, open_len: int, end: int, prefilled: bool) -> tuple[str, str]:
    """(preamble, body) of a trace whose body ends at ``end``; see the module notes for the rules."""
    if open_pos < 0:
        return "", text[:end]
    if prefilled:
        # the prompt opened the trace: an echoed opener at the start is dropped, a later one is content
        if text[:open_pos].strip():
            return "", text[:end]
        return "", text[open_pos + open_len:end]
    return text[:open_pos].strip(), text[open_pos + open_len:end]


def _closed(
    text: str, spec: TraceFormat, d: Delimiters, close_pos: int, close_end: int,
    prefilled: bool, exhausted: bool, closed_by: str,
) -> Trace:
    open_pos, open_len = _find_open(text, d, end=close_pos)
    preamble, body = _split_body(text, open_pos, open_len, close_pos, prefilled)
    reasoning = body.strip()
    rest = text[close_end:]
    blocks = 1 + sum(rest.count(c) for c in d.close) if closed_by == "delimiter" else 1
    status = TraceStatus.VALID if reasoning else TraceStatus.EMPTY
    return Trace(status, reasoning, _unwrap_answer(rest, d), spec.name, prefilled, exhausted, preamble,
                 blocks, closed_by)


def _unclosed(
    text: str, spec: TraceFormat, d: Delimiters, open_pos: int, open_len: int,
    prefilled: bool, exhausted: bool,
) -> Trace:
    if spec.implicit_close:
        body_start = open_pos + open_len if open_pos >= 0 else 0
        marker_pos, _ = _first(text, spec.implicit_close, body_start)
        if marker_pos >= 0:
            return _closed(text, spec, d, marker_pos, marker_pos, prefilled, exhausted, "implicit")
    preamble, body = _split_body(text, open_pos, open_len, len(text), prefilled)
    return Trace(TraceStatus.TRUNCATED, body.strip(), "", spec.name, prefilled, exhausted, preamble, 1, None)


def classify_many(
    texts: Iterable[str],
    fmt: str | TraceFormat = "think",
    *,
    prefilled: bool | Sequence[bool] = False,
    finish_reasons: Sequence[str | None] | None = None,
) -> list[Trace]:
    """Classify a batch with one format; ``prefilled`` may be one flag or one per text."""
    spec = get_format(fmt)
    texts = list(texts)
    flags = [prefilled] * len(texts) if isinstance(prefilled, bool) else list(prefilled)
    reasons = [None] * len(texts) if finish_reasons is None else list(finish_reasons)
    if len(flags) != len(texts) or len(reasons) != len(texts):
        raise ValueError("classify_many: prefilled and finish_reasons need one entry per text")
    return [classify(t, spec, prefilled=p, finish_reason=r) for t, p, r in zip(texts, flags, reasons, strict=True)]


def prompt_is_prefilled(prompt: str, fmt: str | TraceFormat = "think") -> bool:
    """True when the rendered prompt ends inside an open trace block (its last opener after its last closer).

    Openers earlier in the prompt (a system prompt that shows the tags, past turns) do not matter, and a
    prompt that ends with a closed empty block (thinking disabled) is not prefilled.
    """
    spec = get_format(fmt)
    last_open = max((prompt.rfind(o) for o in spec.all_open), default=-1)
    if last_open < 0:
        return False
    last_close = max((prompt.rfind(c) for c in spec.all_close), default=-1)
    return last_open > last_close
