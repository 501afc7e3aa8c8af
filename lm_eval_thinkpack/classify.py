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
* A tool call that ends an unclosed trace (the family's ``implicit_close``, e.g. Qwen3 ``<tool_call>``): the
  trace counts as closed there and the tool call is the answer (``Trace.closed_by == "implicit"``), but only
  when the marker is followed by the start of a real call in the family's tool grammar
  (``ImplicitClose.follows``: ``<function=`` or a JSON object after Qwen3's ``<tool_call>``, a function name
  then ``<arg_key>`` for GLM, a JSON array after Hunyuan-A13B's ``<tool_calls>`` and ``<tool_call>``
  after HY's, ``[`` after Cohere's ``<|START_ACTION|>``...): the shape the engine's *tool* parser for that
  family reads (``tests/vllm/test_tool_parsers.py`` feeds each one to it). vLLM 0.32's qwen3 engine ends
  reasoning on the ``<tool_call>`` *token*; a model that types the tag in prose produces other tokens, so vLLM
  does not end there. Decoded text cannot show token ids, so the required continuation stands in for them:
  "I could emit <tool_call> here" stays reasoning. The same rule holds for every family with an implicit
  close. Real closers always win, except a closer that ends every kind of block (``close_needs_open``: Inkling's
  ``<|end_message|>``, Muse's ``<|eom|>``): after a call it ends the call's own block, so the call ended the trace.
* Two spellings (Magistral ``[THINK]``/``<think>``, EXAONE, Granite, MiniMax, K2 Horizon): the spelling that
  starts first (its opener, or its closer when no opener precedes it) owns the trace, and only its own closer
  ends it; the other spelling's tags are text. A closer that ends every kind of block (``close_needs_open``:
  Inkling, Muse) closes a trace only after an opener or a prefilled prompt.
* Answer wrappers (``<answer>``, ``<response>``, ``<|START_RESPONSE|>``...) are taken off the answer whether
  or not a trace came before it.
* Inline markup that is neither reasoning nor answer (``TraceFormat.inline_markup``: Cohere's citations,
  ``<co>text</co: 0:[1]>``) is taken out of both, as vLLM's cohere parsers do; the cited text stays. The
  offsets still span the raw text (``strip_markup`` reads a span as the properties do).
* CRLF and any unicode: delimiters never contain whitespace that matters; bodies are judged after
  ``str.strip()``, which removes ``\\r`` too.

Speed: a generation is scanned once. When all of an alternative's delimiters start with the same character
(``<`` for nearly every family) the scan jumps between occurrences of that character with ``str.find`` of a
single character (memchr), and falls back to substring search after a few false hits. A ``Trace`` keeps the
text and offsets; ``reasoning``, ``answer`` and ``preamble`` are sliced only when read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .formats import Delimiters, ImplicitClose, TraceFormat, get_format


class TraceStatus(str, Enum):
    """Exactly one per generation."""

    VALID = "valid"
    EMPTY = "empty"
    MISSING = "missing"
    TRUNCATED = "truncated"

    def __str__(self) -> str:
        return self.value


_VALID, _EMPTY, _MISSING, _TRUNCATED = TraceStatus.VALID, TraceStatus.EMPTY, TraceStatus.MISSING, TraceStatus.TRUNCATED
_NON_SPACE = re.compile(r"\S")


class Trace:
    """One classified generation: its class, the reasoning, and the answer that scoring sees.

    ``answer`` is empty for truncated traces; ``preamble`` is text before a (non-prefilled) opener;
    ``blocks`` counts trace blocks (0 when missing); ``closed_by`` is "delimiter", "implicit" (a tool call
    ended the trace) or None. Offsets into ``text`` are kept, so the pieces are sliced only when read.
    A value object: treat it as immutable.
    """

    __slots__ = ("status", "text", "format", "prefilled", "budget_exhausted", "closed_by", "_spans", "_delims",
                 "_wraps", "_markup")

    def __init__(self, status: TraceStatus, text: str, format: str, prefilled: bool, budget_exhausted: bool,
                 closed_by: str | None, spans: tuple[int, int, int, int, int, int], delims: Delimiters | None,
                 wraps: tuple[tuple[str | None, str | None], ...] = (), markup: re.Pattern[str] | None = None):
        self.status = status
        self.text = text
        self.format = format
        self.prefilled = prefilled
        self.budget_exhausted = budget_exhausted
        self.closed_by = closed_by
        self._spans = spans  # preamble, reasoning, answer: (start, end) pairs before stripping
        self._delims = delims
        self._wraps = wraps  # the answer wrappers to take off (the trace's alternative, or all of a family's)
        self._markup = markup  # the family's inline markup (Cohere citations), taken out of reasoning and answer

    @property
    def reasoning(self) -> str:
        sp = self._spans
        return self._clean(self.text[sp[2]:sp[3]])

    @property
    def answer(self) -> str:
        a0, a1 = self._answer_bounds()
        return self._clean(self.text[a0:a1])

    def _clean(self, piece: str) -> str:
        if self._markup is None:
            return piece.strip()
        return strip_markup(piece, self._markup)

    def _answer_bounds(self) -> tuple[int, int]:
        a0, a1 = self._spans[4], self._spans[5]
        if self._wraps and a1 > a0:
            a0, a1 = _unwrap(self.text, a0, a1, self._wraps)
        return a0, a1

    @property
    def preamble(self) -> str:
        sp = self._spans
        return self.text[sp[0]:sp[1]].strip()

    @property
    def blocks(self) -> int:
        if self.status is _MISSING:
            return 0
        if self.closed_by != "delimiter" or self._delims is None:
            return 1
        tail = self.text[self._spans[4]:]
        return 1 + sum(tail.count(c) for c in self._delims.close)

    @property
    def is_valid(self) -> bool:
        return self.status is _VALID

    def offsets(self) -> dict[str, tuple[int, int]]:
        """``(start, end)`` in ``text`` of the preamble, the reasoning and the answer, stripped as the properties
        return them (``text[start:end] == trace.reasoning``): a log keeps these instead of a copy of the text.
        For a family with inline markup (``TraceFormat.inline_markup``) the span still holds the markup, and
        ``strip_markup(text[start:end], format)`` is what the property returns."""
        sp = self._spans
        return {"preamble": _stripped(self.text, sp[0], sp[1]), "reasoning": _stripped(self.text, sp[2], sp[3]),
                "answer": _stripped(self.text, *self._answer_bounds())}

    def _key(self) -> tuple[Any, ...]:
        return (self.status, self.reasoning, self.answer, self.preamble, self.format, self.prefilled,
                self.budget_exhausted, self.closed_by)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Trace(status={self.status.value!r}, reasoning={_short(self.reasoning)!r}, "
                f"answer={_short(self.answer)!r}, format={self.format!r}, prefilled={self.prefilled}, "
                f"budget_exhausted={self.budget_exhausted}, closed_by={self.closed_by!r})")


def _unwrap(text: str, a0: int, a1: int, wraps: tuple[tuple[str | None, str | None], ...]) -> tuple[int, int]:
    """The answer span inside the first wrapper whose opener occurs, ended by the first of that opener's closers
    written (a block may end at either of two tokens: Inkling's '<|end_message|>' or end of sampling), or else by
    the earliest closer-only wrapper (harmony: the answer message ends at whichever of <|end|>, <|call|>,
    <|return|> comes first, not at a later message's). Without any opener, the earliest closer-only wrapper."""
    for open_, _close in wraps:
        if open_ is None:
            continue
        pos = text.find(open_, a0, a1)
        if pos >= 0:
            a0 = pos + len(open_)
            ends = [e for o, c in wraps if o == open_ and c is not None and (e := text.find(c, a0, a1)) >= 0]
            if ends:
                return a0, min(ends)
            break
    ends = [p for o, c in wraps if o is None and c is not None and (p := text.find(c, a0, a1)) >= 0]
    return (a0, min(ends)) if ends else (a0, a1)


def strip_markup(piece: str, markup: re.Pattern[str] | str | TraceFormat | None) -> str:
    """``piece`` without the inline markup of a family (a compiled pattern, a format or its name), stripped:
    Cohere's '<co>text</co: 0:[1]>' reads 'text', as vLLM's cohere parsers return it."""
    if markup is not None and not isinstance(markup, re.Pattern):
        markup = _compile(get_format(markup))[4]
    if markup is None:
        return piece.strip()
    return markup.sub("", piece).strip()


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of ``text[start:end].strip()`` without copying it (``\\S`` and ``str.isspace`` agree)."""
    m = _NON_SPACE.search(text, start, end)
    if m is None:
        return start, start
    start = m.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to scan for one delimiter alternative, precomputed once per format."""

    delims: Delimiters
    opens: tuple[str, ...]
    closes: tuple[str, ...]
    lead: str | None  # the one first character all (unanchored) delimiters share, if any
    open_len: int  # the opener's length when there is one spelling, else 0 (look it up at the match)
    close_len: int
    close_re: re.Pattern[str] | None = None  # a closer grammar (gpt-oss harmony headers), searched besides ``closes``
    wraps: tuple[tuple[str | None, str | None], ...] = ()  # ``delims.wrappers``, computed once
    close_needs_open: bool = False


_FALSE_HITS = 16  # occurrences of the lead character checked one by one before switching to substring search


def _first(text: str, needles: tuple[str, ...], start: int = 0, end: int | None = None) -> tuple[int, int]:
    """Earliest occurrence of any needle as (position, length), a longer needle winning a tie; (-1, 0) if none."""
    best, best_len = -1, 0
    stop = len(text) if end is None else end
    for needle in needles:
        pos = text.find(needle, start, stop)
        if pos >= 0 and (best < 0 or pos < best or (pos == best and len(needle) > best_len)):
            best, best_len = pos, len(needle)
            stop = min(stop, pos + len(needle))
    return best, best_len


def _longest_at(text: str, needles: tuple[str, ...], pos: int) -> int:
    if len(needles) == 1:
        return len(needles[0])
    return max(len(n) for n in needles if text.startswith(n, pos))


def _scan(text: str, plan: _Plan) -> tuple[int, int, int, int]:
    """(open_pos, open_len, close_pos, close_len): the first closer, and the first opener before it."""
    opens, closes = plan.opens, plan.closes
    if plan.close_re is not None:
        close_pos, close_len = _first(text, closes)
        m = plan.close_re.search(text, 0, close_pos + close_len if close_pos >= 0 else len(text))
        if m is not None and (close_pos < 0 or m.start() < close_pos
                              or (m.start() == close_pos and m.end() - m.start() > close_len)):
            close_pos, close_len = m.start(), m.end() - m.start()
        if plan.delims.anchored:
            opens = plan.delims.open
            start = len(text) - len(text.lstrip())
            for needle in opens:
                if text.startswith(needle, start) and (close_pos < 0 or start + len(needle) <= close_pos):
                    return start, len(needle), close_pos, close_len
            return -1, 0, close_pos, close_len
        open_pos, open_len = _first(text, opens, 0, close_pos if close_pos >= 0 else None)
        return open_pos, max(open_len, 0), close_pos, close_len
    if plan.delims.anchored and plan.delims.open:
        close_pos, close_len = _first(text, closes)
        start = len(text) - len(text.lstrip())
        for needle in plan.delims.open:
            if text.startswith(needle, start) and (close_pos < 0 or start + len(needle) <= close_pos):
                return start, len(needle), close_pos, close_len
        return -1, 0, close_pos, close_len
    open_pos = open_len = -1
    lead = plan.lead
    if lead is not None:
        pos, hits = text.find(lead), 0
        while pos >= 0:
            if text.startswith(closes, pos):
                return open_pos, max(open_len, 0), pos, plan.close_len or _longest_at(text, closes, pos)
            if open_pos < 0 and opens and text.startswith(opens, pos):
                open_pos, open_len = pos, plan.open_len or _longest_at(text, opens, pos)
            hits += 1
            if hits == _FALSE_HITS:
                break
            pos = text.find(lead, pos + 1)
        else:
            return open_pos, max(open_len, 0), -1, 0
        start = pos + 1
    else:
        start = 0
    close_pos, close_len = _first(text, closes, start)
    if open_pos < 0 and opens:
        open_pos, open_len = _first(text, opens, start, close_pos if close_pos >= 0 else None)
    return open_pos, max(open_len, 0), close_pos, close_len


_Compiled = tuple[TraceFormat, tuple["_Plan", ...], tuple[tuple[str | None, str | None], ...],
                  tuple[tuple[ImplicitClose, "re.Pattern[str]"], ...], "re.Pattern[str] | None"]
_PLANS: dict[int, _Compiled] = {}
_BY_NAME: dict[str, _Compiled] = {}  # format names as callers spell them


def _compile(spec: TraceFormat) -> _Compiled:
    """The scan plans, answer wrappers and implicit-close checks of a format, built once per format object."""
    # keyed by identity: hashing a TraceFormat (nested tuples) on every call would cost more than the scan
    hit = _PLANS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit
    plans = []
    for d in spec.delimiters:
        opens = () if d.anchored else d.open
        firsts = {n[0] for n in (*opens, *d.close)}
        close_re = re.compile(d.close_pattern) if d.close_pattern else None
        plans.append(_Plan(d, opens, d.close, firsts.pop() if len(firsts) == 1 and close_re is None else None,
                           len(opens[0]) if len(opens) == 1 else 0, len(d.close[0]) if len(d.close) == 1 else 0,
                           close_re, d.wrappers, d.close_needs_open))
    wraps = tuple(dict.fromkeys(w for d in spec.delimiters for w in d.wrappers))
    implicit = tuple((ic, re.compile(ic.follows)) for ic in spec.implicit_close)
    markup = re.compile("|".join(f"(?:{m})" for m in spec.inline_markup)) if spec.inline_markup else None
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, tuple(plans), wraps, implicit, markup)
    return _PLANS[id(spec)]


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
    hit = _BY_NAME.get(fmt) if isinstance(fmt, str) else None
    if hit is None:
        hit = _compile(fmt if isinstance(fmt, TraceFormat) else get_format(fmt))
        if isinstance(fmt, str):
            _BY_NAME[fmt] = hit
    spec, plans, wraps, implicit, markup = hit
    exhausted = finish_reason == "length"
    if len(plans) == 1:  # most families: one way to write the trace
        plan = plans[0]
        open_pos, open_len, close_pos, close_len = _scan(text, plan)
    else:
        # Two spellings: the one that starts first (its opener, or its closer when no opener came before it)
        # owns the trace, and only its own closer ends it. "[THINK]... </think> ..." is an open [THINK] trace
        # that mentions the other spelling's tag.
        best: tuple[int, _Plan, int, int, int, int] | None = None
        for candidate in plans:
            o, ol, c, cl = _scan(text, candidate)
            start = o if o >= 0 else c
            if start >= 0 and (best is None or start < best[0]):
                best = (start, candidate, o, ol, c, cl)
        if best is None:
            plan, open_pos, open_len, close_pos, close_len = plans[0], -1, 0, -1, 0
        else:
            _, plan, open_pos, open_len, close_pos, close_len = best
    if close_pos >= 0 and (open_pos >= 0 or prefilled or not plan.close_needs_open):
        if plan.close_needs_open and implicit:
            # the closer ends every kind of block (Inkling, Muse): after a tool call it ends the call's block, and
            # the call, not that closer, ended the trace
            marker_pos = _implicit_close(text, open_pos + open_len if open_pos >= 0 else 0, implicit)
            if 0 <= marker_pos < close_pos:
                return _closed(text, spec, plan, open_pos, open_len, marker_pos, marker_pos, prefilled, exhausted,
                               "implicit", markup)
        return _closed(text, spec, plan, open_pos, open_len, close_pos, close_pos + close_len,
                       prefilled, exhausted, "delimiter", markup)
    if open_pos >= 0 or prefilled:
        return _unclosed(text, spec, plan, open_pos, open_len, prefilled, exhausted, implicit, markup)
    return Trace(_MISSING, text, spec.name, False, exhausted, None, (0, 0, 0, 0, 0, len(text)), None, wraps, markup)


def _body_start(text: str, open_pos: int, open_len: int, prefilled: bool) -> tuple[int, int]:
    """(preamble_end, body_start) for a trace opened at ``open_pos`` (-1: no opener in the text)."""
    if open_pos < 0:
        return 0, 0
    if prefilled:
        # the prompt opened the trace: an echoed opener at the start is dropped, a later one is content
        if _NON_SPACE.search(text, 0, open_pos):
            return 0, 0
        return 0, open_pos + open_len
    return open_pos, open_pos + open_len


def _closed(
    text: str, spec: TraceFormat, plan: _Plan, open_pos: int, open_len: int, close_pos: int, close_end: int,
    prefilled: bool, exhausted: bool, closed_by: str, markup: re.Pattern[str] | None = None,
) -> Trace:
    if open_pos >= close_pos:
        open_pos = -1
    pre_end, body = _body_start(text, open_pos, open_len, prefilled)
    status = _VALID if _NON_SPACE.search(text, body, close_pos) else _EMPTY
    return Trace(status, text, spec.name, prefilled, exhausted, closed_by,
                 (0, pre_end, body, close_pos, close_end, len(text)), plan.delims, plan.wraps, markup)


def _implicit_close(text: str, start: int, implicit: tuple[tuple[ImplicitClose, re.Pattern[str]], ...]) -> int:
    """Where the earliest real tool call starts (its marker followed by what the grammar requires), or -1."""
    best = -1
    for ic, follows in implicit:
        marker = ic.marker
        pos = text.find(marker, start)
        while pos >= 0 and (best < 0 or pos < best):
            if follows.match(text, pos + len(marker)):
                best = pos
                break
            pos = text.find(marker, pos + 1)
    return best


def _unclosed(
    text: str, spec: TraceFormat, plan: _Plan, open_pos: int, open_len: int,
    prefilled: bool, exhausted: bool, implicit: tuple[tuple[ImplicitClose, re.Pattern[str]], ...] = (),
    markup: re.Pattern[str] | None = None,
) -> Trace:
    if implicit:
        marker_pos = _implicit_close(text, open_pos + open_len if open_pos >= 0 else 0, implicit)
        if marker_pos >= 0:
            return _closed(text, spec, plan, open_pos, open_len, marker_pos, marker_pos, prefilled, exhausted,
                           "implicit", markup)
    pre_end, body = _body_start(text, open_pos, open_len, prefilled)
    n = len(text)
    return Trace(_TRUNCATED, text, spec.name, prefilled, exhausted, None, (0, pre_end, body, n, n, n), plan.delims,
                 (), markup)


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
    if isinstance(prefilled, bool) and finish_reasons is None:
        return [classify(t, spec, prefilled=prefilled) for t in texts]
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
