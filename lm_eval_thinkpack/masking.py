"""Loss masking for SFT: conversations -> token ids + labels, with the empty think block masked.

The target is the last message (an assistant turn), or with ``turns="all"`` every assistant turn. The
conversation is rendered with the model's own chat template,
exactly as it would be trained naively; character spans are found in that text and mapped to tokens through the
fast tokenizer's offsets, so any template and any tokenizer work without per-model token ids.

Definitions (each one has a test in ``tests/test_masking.py``):

* **Rendering.** The target's reasoning (``reasoning_content`` / ``reasoning`` / ``thinking`` field or an inline
  ``<think>..</think>`` in its content) is rendered with the target: natively when the template reads
  ``reasoning_content``, else as ``open + lead + reasoning + trail + close + tail`` before the content (see
  ``chat.py``). A target without a trace (missing or whitespace-only reasoning) is rendered as the template
  renders it; if the template writes no block there, the family's empty block (``BlockStyle.empty``) is inserted
  where the trace goes: at the end of the generation prompt, or completing a prefilled opener
  (``<think>\\n`` + ``\\n</think>\\n\\n``). ``insert_empty_block=False`` keeps the template's text untouched
  (naive SFT that teaches *missing* traces). History turns are passed to the template unchanged.
* **Prompt span** ``[0, prompt_end)``: the rendered generation prompt (``add_generation_prompt=True`` on all
  messages but the target). It is checked to be a prefix of the full rendering; when it is not, the prompt ends
  where the two renderings first differ. It never extends past the target's content.
* **Think block span** (only for a target *without* a real trace): from the opener's first character (or a bare
  closer's, for families whose disabled mode inserts only the closer, e.g. DeepSeek-V3.1) to the start of the
  answer: delimiters, the whitespace body and the whitespace after the closer. Whitespace before the opener is
  included only when it is not part of the prompt. A block the template put in the prompt (``enable_thinking=False``,
  a prefilled opener) is inside both spans. A real trace is never masked by "think", in any mode.
* **Trace span** (only for a target *with* a real trace): from the opener before the rendered reasoning (in the
  prompt when the prompt opened the block) to the start of the answer, like the think block; whitespace before it
  that is not prompt included. Where the rendering does not hold the reasoning text, everything between the prompt
  and the content.
* **Response span**: from the end of the block or trace (else the prompt's end) to the end of the text: the answer,
  an answer wrapper (Cohere ``<|START_TEXT|>``) and the end-of-turn tokens.
* **Modes**: ``"none"`` trains every token (the prompt included: plain causal-LM SFT); otherwise any ``+``-joined
  set of ``prompt`` (response-only training, like TRL ``assistant_only_loss``), ``think`` (the empty block),
  ``trace`` (a given trace stays in the input and is not trained: train the answer given the reasoning, NeMo's
  ``mask_reasoning_content``) and ``response`` (train the reasoning only), in any order. ``"prompt+think"`` is
  the default. thinkpack's ``MaskType.THINK`` is our ``think+trace``; its ``PROMPT`` ends at the final block's
  opener, ours after a prefilled opener (the model never writes that opener, so it is never trained).
* **Turns**: ``turns="last"`` trains the final assistant turn; every earlier turn is prompt. ``turns="all"``
  trains every assistant turn: earlier turns keep their own reasoning (rendered natively, or inline in the
  family's block when the template drops it) and are otherwise rendered as the template renders history. An
  earlier turn's region runs from where its generation prompt (the conversation up to it, rendered with
  ``add_generation_prompt=True``) stops matching the rendering, to the end of its end-of-turn text (what follows
  its content when it is the last turn); ``prompt`` is everything outside the turns' regions, ``think`` /
  ``trace`` / ``response`` are found per turn as above. No block is inserted into earlier turns (the model sees
  history as the template writes it); an earlier turn without text content (a bare tool call) stays prompt.
* **ignore_index**: the label of an untrained token (-100 by default, what torch's cross entropy ignores).
* **Boundary tokens**: a token is masked when its character range overlaps a masked span at all (a zero-width
  token counts as one character at its start), so no character of a masked span is ever trained; a token merging
  the block's last newline with the answer's first word is masked.
* **Truncation**: ``max_length`` keeps the first tokens (labels cut at the same place).

Speed (``bench/bench_masking.py``): each example needs two renders (the prompt span is defined by the generation
prompt's own rendering), done by ``template.renderer`` (transformers' compiled template, same output as
``apply_chat_template``); a batch is tokenized in one Rust call, the binary searches read only the offsets they
need, and the dataset's Arrow columns are built from flat arrays. What remains is the tokenizer and the Jinja
rendering.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

import numpy as np

from .chat import (
    BlockStyle,
    answer_opens,
    check_messages,
    check_round_trip,
    check_template_kwargs,
    render_messages,
    resolve_format,
    split_reasoning,
    template_style,
)
from .classify import prompt_is_prefilled
from .formats import TraceFormat
from .template import Renderer, renderer

__all__ = [
    "IGNORE_INDEX",
    "MASK_MODES",
    "MASK_TARGETS",
    "TURNS",
    "MaskMode",
    "MaskSpans",
    "PaddingCollator",
    "conversation_spans",
    "mask_targets",
    "tokenize_conversation",
    "tokenize_dataset",
]

MaskMode = str  # "none" or any "+"-joined set of MASK_TARGETS, e.g. "prompt+think", "prompt+trace"
#: what a mask can name: the prompt, the empty / inserted think block, a given real trace, the answer
MASK_TARGETS: tuple[str, ...] = ("prompt", "think", "trace", "response")
#: the modes of the first version (every "+"-joined set of MASK_TARGETS is accepted as well)
MASK_MODES: tuple[str, ...] = ("none", "think", "prompt", "prompt+think")
TURNS: tuple[str, ...] = ("last", "all")
IGNORE_INDEX = -100


def mask_targets(mask: str) -> frozenset[str]:
    """The targets a mask names: ``"none"`` -> empty; ``"trace+prompt"`` -> {"prompt", "trace"} (any order)."""
    if not isinstance(mask, str):
        raise TypeError(f"mask must be a string such as 'prompt+think', got {type(mask).__name__}")
    if mask == "none":
        return frozenset()
    parts = [p.strip() for p in mask.split("+")]
    bad = [p for p in parts if p not in MASK_TARGETS]
    if bad or len(set(parts)) != len(parts):
        raise ValueError(f"unknown mask mode {mask!r}; expected 'none' or a '+'-joined set of "
                         f"{', '.join(MASK_TARGETS)} (each at most once), e.g. 'prompt+think'")
    return frozenset(parts)


def _check_turns(turns: str) -> None:
    if turns not in TURNS:
        raise ValueError(f"turns must be 'last' (train the final assistant turn) or 'all' (every assistant turn), "
                         f"got {turns!r}")


@dataclass(frozen=True, slots=True)
class TurnSpans:
    """An earlier assistant turn trained with ``turns="all"``: its region ``[start, end)`` (what ``prompt`` leaves
    trained), its content start, and its empty block or real trace (see the module docstring)."""

    start: int
    content_start: int
    end: int
    block: tuple[int, int] | None = None
    trace: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class MaskSpans:
    """Character spans of one rendered conversation (see the module docstring for the definitions)."""

    text: str
    prompt_end: int
    content_start: int
    block: tuple[int, int] | None
    has_trace: bool
    inserted: bool = False
    trace: tuple[int, int] | None = None
    earlier: tuple[TurnSpans, ...] = ()

    def spans(self, target: str) -> list[tuple[int, int]]:
        """The character spans of one mask target (``prompt``, ``think``, ``trace`` or ``response``)."""
        if target == "prompt":
            out, pos = [], 0
            for t in self.earlier:
                out.append((pos, t.start))
                pos = max(pos, t.end)
            out.append((pos, self.prompt_end))
            return [(a, b) for a, b in out if b > a]
        if target in ("think", "trace"):
            own = self.block if target == "think" else self.trace
            return [x for x in (*(t.block if target == "think" else t.trace for t in self.earlier), own) if x]
        if target == "response":
            after = max(self.prompt_end, (self.trace or self.block or (0, 0))[1])
            out = [(max(t.start, (t.trace or t.block or (0, 0))[1]), t.end) for t in self.earlier]
            return [(a, b) for a, b in (*out, (after, len(self.text))) if b > a]
        raise ValueError(f"unknown mask target {target!r}; expected one of {', '.join(MASK_TARGETS)}")

    def masked(self, mode: MaskMode) -> list[tuple[int, int]]:
        """The character spans whose tokens get the ignore index under ``mode`` (sorted, merged)."""
        spans = sorted(x for target in mask_targets(mode) for x in self.spans(target))
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            elif b > a:
                merged.append((a, b))
        return merged


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n  # binary search on prefix equality: O(n log n) in C instead of a per-char Python loop
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _prefilled_style(prompt: str, spec: TraceFormat, style: BlockStyle) -> BlockStyle:
    """The block style whose opener matches a prefilled prompt's tail (Nemotron opens '<think>\\n' although
    its disabled block is '<think></think>'), so a real trace written after that opener continues the prompt."""
    opens = [o for o in dict.fromkeys((style.open, *spec.all_open)) if o]
    op, opener = max((prompt.rfind(o), o) for o in opens)
    tail = prompt[op + len(opener):]
    if op < 0 or tail.strip():
        return style
    return replace(style, open=opener, lead=tail)


def _divergence(tokenizer: Any, prompt: str, full: str) -> int:
    """Where the full rendering stops following the generation prompt, moved back to a token start of the prompt
    (``<|START_THINKING|>`` vs ``<|START_TEXT|>`` share ``<|START_T``, which is no boundary)."""
    k = _common_prefix(prompt, full)
    offsets = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    for start, end in offsets:
        if start < k < end:
            return start
    return k


def _find_block(text: str, c: int, spec: TraceFormat, style: BlockStyle) -> tuple[int, int] | None:
    """(start, end) of the block the template wrote right before the content at ``c``, else None.

    The last closer before ``c`` counts only if nothing but whitespace (or the family's answer opener, e.g.
    Cohere ``<|START_TEXT|>``) separates it from the content, so a history turn's block never matches. The block
    starts at the nearest opener before the closer when the body between them is whitespace; a closer with no
    such opener counts alone only for families whose disabled mode inserts just the closer (DeepSeek-V3.1).
    """
    best, best_end = -1, -1
    for cs in dict.fromkeys((style.close, *spec.all_close)):
        pos = text.rfind(cs, 0, c)
        if pos >= 0 and (pos + len(cs) > best_end or (pos + len(cs) == best_end and pos < best)):
            best, best_end = pos, pos + len(cs)
    if best < 0:
        return None
    gap = text[best_end:c]
    if gap.strip() and gap.strip() not in answer_opens(spec):
        return None
    end = best_end + (len(gap) - len(gap.lstrip()))
    op, op_end = -1, -1
    for os_ in dict.fromkeys((style.open, *spec.all_open)):
        p = text.rfind(os_, 0, best) if os_ else -1
        if p > op:
            op, op_end = p, p + len(os_)
    if op >= 0 and not text[op_end:best].strip():
        return op, end
    if spec.disabled_insert and spec.disabled_insert.strip() == text[best:best_end]:
        return best, end
    return None


def _find_trace(text: str, c: int, reasoning: str, spec: TraceFormat, style: BlockStyle, lo: int,
                ) -> tuple[int, int] | None:
    """(start, end) of the block holding ``reasoning`` (as rendered: stripped) before the content at ``c``: from
    its opener (or the reasoning itself when no opener precedes it across whitespace) to the whitespace after its
    closer. ``None`` when the rendering does not hold the reasoning between ``lo`` and ``c``."""
    body = reasoning.strip()
    r0 = text.rfind(body, lo, c)
    if r0 < 0:
        return None
    r1 = r0 + len(body)
    close_pos, close_end = -1, -1
    for cs in dict.fromkeys((style.close, *spec.all_close)):
        pos = text.find(cs, r1, c)
        if pos >= 0 and (close_pos < 0 or pos < close_pos or (pos == close_pos and pos + len(cs) > close_end)):
            close_pos, close_end = pos, pos + len(cs)
    if close_pos < 0 or text[r1:close_pos].strip():
        return None
    gap = text[close_end:c]
    end = close_end + (len(gap) - len(gap.lstrip()))
    start = r0
    for os_ in dict.fromkeys((style.open, *spec.all_open)):
        p = text.rfind(os_, 0, r0) if os_ else -1
        if p >= 0 and not text[p + len(os_):r0].strip() and p < start:
            start = p
    return start, end


def _widen(text: str, span: tuple[int, int] | None, floor: int) -> tuple[int, int] | None:
    """A block's span with the whitespace before it (down to ``floor``, the prompt's end) included."""
    if span is None:
        return None
    start = span[0]
    while start > floor and text[start - 1].isspace():
        start -= 1
    return start, span[1]


def _bare_closer(text: str, at: int, c: int, spec: TraceFormat, style: BlockStyle) -> int | None:
    """Where a closer starts when ``text[at:c]`` (after the generation prompt's end) is only whitespace, one
    closer of the template's spelling and whitespace: the template closes a block its prompt opened or wrote
    (MiniMax-M3 renders an answer-only turn ``</mm:think>\n\n`` + answer after a prompt ending ``<mm:think>\n``)."""
    head = text[at:c]
    pos = at + len(head) - len(head.lstrip())
    closers = (style.close, *style.delimiters.close) if style.delimiters else (style.close,)
    for cs in sorted(set(closers), key=len, reverse=True):
        if text.startswith(cs, pos) and not text[pos + len(cs):c].strip():
            return pos
    return None


def _prompt_block(prompt: str, full: str, at: int, bare: int, c: int, spec: TraceFormat, style: BlockStyle,
                  insert: bool) -> MaskSpans:
    """The answer-only target whose rendering closes, with a bare closer, the block its generation prompt opened
    (prefilled) or wrote (an empty block): the block is the prompt's opener through the template's closer, not a
    second block. ``insert=False`` keeps the template's text and masks the bare closer as the block."""
    if insert and prompt_is_prefilled(prompt, spec):
        op = _last_opener(prompt, spec, style)
        if op >= at and not prompt[at:op].strip():
            text = prompt + full[bare:]
            content = len(prompt) + c - bare
            end = content
            return MaskSpans(text, len(prompt), content, (op, end), False, True)
    closed = _closed_empty_tail(prompt, spec, style)
    if insert and closed is not None and closed >= at:
        text = prompt + full[c:]
        return MaskSpans(text, len(prompt), len(prompt), (closed, len(prompt)), False, True)
    return MaskSpans(full, at, c, (bare, c), False)


def _last_opener(text: str, spec: TraceFormat, style: BlockStyle) -> int:
    return max(text.rfind(o) for o in dict.fromkeys((style.open, *spec.all_open)) if o)


def _closed_empty_tail(text: str, spec: TraceFormat, style: BlockStyle) -> int | None:
    """Start of an empty block (opener, whitespace, closer, whitespace) that ends ``text``, else None."""
    stripped = text.rstrip()
    if not stripped.endswith(style.close):
        return None
    op = text.rfind(style.open, 0, len(stripped) - len(style.close)) if style.open else -1
    if op < 0 or text[op + len(style.open):len(stripped) - len(style.close)].strip():
        return None
    return op


def _spans(
    tokenizer: Any, r: Renderer, messages: Sequence[Mapping[str, Any]], spec: TraceFormat, style: BlockStyle,
    insert: bool, history: frozenset[int] = frozenset(), bounds: tuple[int, ...] = (),
    positions: dict[int, tuple[int, int]] | None = None,
) -> MaskSpans:
    """The last turn's spans; ``history``: earlier assistant turns rendered with their reasoning, ``bounds``:
    earlier turns whose content ``(start, end)`` is put in ``positions`` (turns="all")."""
    msgs = check_messages(messages)
    if not msgs or msgs[-1].get("role") != "assistant":
        raise ValueError("the last message of a training conversation must be the assistant target")
    n = len(msgs)
    reasoning, _ = split_reasoning(msgs[-1], spec)
    has_trace = bool(reasoning and reasoning.strip())
    prompt: str | None = None
    if n > 1:
        prompt, _ = render_messages(r, msgs[:-1], spec, style, keep=history, add_generation_prompt=True)
        if has_trace and prompt_is_prefilled(prompt, spec):
            style = _prefilled_style(prompt, spec, style)
            if history:  # history traces are written in the same style as the target's
                prompt, _ = render_messages(r, msgs[:-1], spec, style, keep=history, add_generation_prompt=True)
    full, c = render_messages(
        r, msgs, spec, style, keep=history | {n - 1} if has_trace else history,
        drop=() if has_trace else {n - 1}, mark=n - 1, bounds=bounds, positions=positions,
    )
    assert c is not None
    if prompt is not None:
        gen_end = len(prompt) if full.startswith(prompt) else _divergence(tokenizer, prompt, full)
    else:
        gen_end = c
    at = min(gen_end, c)
    if has_trace:
        assert reasoning is not None
        trace = _find_trace(full, c, reasoning, spec, style, 0)
        return MaskSpans(full, at, c, None, True, trace=_widen(full, trace, at) or ((at, c) if c > at else None))

    found = _find_block(full, c, spec, style)
    if found is None and prompt is not None and (prompt_is_prefilled(prompt, spec)
                                                 or _closed_empty_tail(prompt, spec, style) is not None):
        bare = _bare_closer(full, at, c, spec, style)
        if bare is not None:
            return _prompt_block(prompt, full, at, bare, c, spec, style, insert)
    if found is not None:
        start, end = found
        while start > gen_end and full[start - 1].isspace():
            start -= 1
        return MaskSpans(full, at, c, (start, end), False)
    if not insert:
        return MaskSpans(full, at, c, None, False)

    # The template wrote no block: insert the family's empty block where the trace goes.
    if prompt is not None and prompt_is_prefilled(prompt, spec):
        opens = [o for o in dict.fromkeys((style.open, *spec.all_open)) if o]
        op = max(prompt.rfind(o) for o in opens)
        if op >= at and not prompt[at:op].strip():
            # the prompt opened the trace, the rendered answer has no opener: complete the opened block
            head = prompt + style.trail + style.close + style.tail
            text = head + full[at:]
            return MaskSpans(text, len(prompt), c - at + len(head), (op, len(head)), False, True)
    between = full[at:c]
    empty = style.empty
    if empty.endswith(between):  # e.g. gpt-oss: the header before the content is the closer's own tail
        text, block = full[:at] + empty + full[c:], (at, at + len(empty))
    elif between.strip() in answer_opens(spec):  # e.g. Cohere: the block goes before <|START_TEXT|>
        text, block = full[:at] + empty + full[at:], (at, at + len(empty))
    else:
        text, block = full[:c] + empty + full[c:], (c, c + len(empty))
    content = c + len(text) - len(full)
    prompt_end = at
    if prompt is not None and len(prompt) <= content and text.startswith(prompt):
        prompt_end = len(prompt)  # e.g. a disabled-mode prompt that carries the block the template omits here
    return MaskSpans(text, prompt_end, content, block, False, True)


def _all_spans(
    tokenizer: Any, r: Renderer, messages: Sequence[Mapping[str, Any]], spec: TraceFormat, style: BlockStyle,
    insert: bool,
) -> MaskSpans:
    """``turns="all"``: the last turn as ``_spans`` gives it, plus every earlier assistant turn's region in the
    same rendering (see the module docstring)."""
    msgs = check_messages(messages)
    earlier = [i for i, m in enumerate(msgs[:-1]) if m.get("role") == "assistant"]
    if not earlier:
        return _spans(tokenizer, r, msgs, spec, style, insert)
    reasoning = {i: split_reasoning(msgs[i], spec)[0] for i in earlier}
    history = frozenset(i for i, x in reasoning.items() if x and x.strip())
    positions: dict[int, tuple[int, int]] = {}
    last = _spans(tokenizer, r, msgs, spec, style, insert, history, tuple(earlier), positions)
    text = last.text
    turns: list[TurnSpans] = []
    low = 0
    for i in earlier:
        if i not in positions:  # no text content (e.g. a tool-call turn): left with the prompt
            continue
        s_i, e_i = positions[i]
        keep = frozenset(j for j in history if j < i)
        head, _ = render_messages(r, msgs[:i], spec, style, keep=keep, add_generation_prompt=True)
        k = len(head) if text.startswith(head) else _divergence(tokenizer, head, text)
        own: dict[int, tuple[int, int]] = {}
        alone, _ = render_messages(r, msgs[:i + 1], spec, style, keep=keep | ({i} & history),
                                   drop=() if i in history else {i}, bounds=(i,), positions=own)
        tail = alone[own[i][1]:] if i in own else ""
        end = e_i + _common_prefix(text[e_i:], tail)
        block = trace = None
        if i in history:
            assert reasoning[i] is not None
            trace = _find_trace(text, s_i, reasoning[i], spec, style, low)
        else:
            found = _find_block(text, s_i, spec, style)
            if found is not None and found[0] >= low:
                block = found
        start = k if low <= k <= s_i else (trace or block or (s_i, s_i))[0]
        turns.append(TurnSpans(start, s_i, end, _widen(text, block, max(start, low)),
                               _widen(text, trace, max(start, low))))
        low = end
    return replace(last, earlier=tuple(turns))


def conversation_spans(
    tokenizer: Any,
    messages: Sequence[Mapping[str, Any]],
    *,
    fmt: str | TraceFormat | None = None,
    insert_empty_block: bool = True,
    turns: str = "last",
    **template_kwargs: Any,
) -> MaskSpans:
    """Render one training conversation and locate its prompt, think-block, trace and response character spans."""
    _check_turns(turns)
    check_template_kwargs("conversation_spans", tokenizer, template_kwargs)
    spec = resolve_format(tokenizer, fmt)
    check_round_trip(tokenizer, spec)
    style = template_style(tokenizer, spec, template_kwargs)
    find = _all_spans if turns == "all" else _spans
    return find(tokenizer, renderer(tokenizer, template_kwargs), messages, spec, style, insert_empty_block)


def _span_end(offset: tuple[int, int]) -> int:
    return max(offset[1], offset[0] + 1)  # a zero-width token counts as one character at its start


def _start(offset: tuple[int, int]) -> int:
    return offset[0]


def _ranges_sorted(offsets: Sequence[tuple[int, int]], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token index ranges ``[i0, i1)`` overlapping each span.

    Offsets of a fast tokenizer run without added special tokens are non-decreasing, so each span's range is two
    binary searches (no per-token Python loop): the first token ending after the span's start, up to the first
    token starting at or after its end.
    """
    out = []
    for a, b in spans:
        i0 = bisect_right(offsets, a, key=_span_end)
        i1 = bisect_left(offsets, b, key=_start)
        if i1 > i0:
            out.append((i0, i1))
    return out


def _hits(offsets: Sequence[tuple[int, int]], spans: list[tuple[int, int]]) -> np.ndarray:
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    starts = off[:, 0]
    ends = np.maximum(off[:, 1], starts + 1)
    hit = np.zeros(len(off), dtype=bool)
    for a, b in spans:
        hit |= (starts < b) & (ends > a)
    return hit


def _ranges_scan(offsets: Sequence[tuple[int, int]], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``_hits`` as runs of token indices."""
    hit = _hits(offsets, spans)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], hit, [False])).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _ordered(offsets: Sequence[tuple[int, int]]) -> bool:
    return all(p[0] <= q[0] and p[1] <= q[1] for p, q in zip(offsets, offsets[1:], strict=False))


def _check_tokenizer(tokenizer: Any) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            "loss masking maps character spans to tokens with return_offsets_mapping, which needs a fast "
            f"(Rust) tokenizer; got {type(tokenizer).__name__}. Load it with AutoTokenizer(..., use_fast=True)."
        )


def _check_mode(mask: str) -> None:
    mask_targets(mask)


def _check_ignore_index(ignore_index: int) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"ignore_index must be an int (the loss's ignore value, -100 for torch), got "
                        f"{type(ignore_index).__name__}")


def _backend(tokenizer: Any) -> Any:
    """The Rust tokenizer when calling it directly gives what ``tokenizer(...)`` gives: no truncation or padding
    settings, which ``tokenizer(...)`` would reset first."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        return backend
    return None


def _tokenize(tokenizer: Any, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """(ids, offsets) per text, as ``tokenizer(texts, add_special_tokens=False)`` gives them.

    The Rust backend is called directly (skipping the Python-side conversion of every output field) unless it
    carries truncation or padding settings.
    """
    backend = _backend(tokenizer)
    if backend is not None:
        return [(e.ids, e.offsets) for e in backend.encode_batch(texts, add_special_tokens=False)]
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False)
    return list(zip(enc["input_ids"], enc["offset_mapping"], strict=True))


class _Offsets(Sequence):
    """A Rust ``Encoding``'s offsets read one token at a time (``token_to_chars``): the binary searches touch a
    few dozen tokens, so the whole offsets list (a Python tuple per token) is never built."""

    __slots__ = ("enc", "n")

    def __init__(self, enc: Any):
        self.enc, self.n = enc, len(enc)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        off = self.enc.token_to_chars(i)
        if off is None:
            raise _NoOffsets
        return off


class _NoOffsets(Exception):
    """A token without a character span in the lazy view: use the full offsets list instead."""


def _rows(tokenizer: Any, spans: list[MaskSpans], mask: MaskMode) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """Per conversation: the token ids and the token index ranges to mask (sorted by start)."""
    texts = [s.text for s in spans]
    backend = _backend(tokenizer)
    if backend is not None:
        encoded = [(e.ids, e) for e in backend.encode_batch(texts, add_special_tokens=False)]
    else:
        encoded = _tokenize(tokenizer, texts)
    out = []
    for s, (ids, off) in zip(spans, encoded, strict=True):
        masked = s.masked(mask)
        if not masked or not ids:
            out.append((ids, []))
            continue
        if not isinstance(off, list | tuple):
            try:
                lazy = _Offsets(off)
                ranges = _ranges_sorted(lazy, masked) if _ordered_hint(lazy) else _ranges_scan(off.offsets, masked)
                out.append((ids, ranges))
                continue
            except _NoOffsets:
                off = off.offsets
        out.append((ids, _ranges_sorted(off, masked) if _ordered_hint(off) else _ranges_scan(off, masked)))
    return out


def _labels_from(ids: list[int], ranges: list[tuple[int, int]], max_length: int | None,
                 ignore_index: int = IGNORE_INDEX) -> list[int]:
    labels = list(ids if max_length is None else ids[:max_length])
    for i0, i1 in ranges:
        i1 = min(i1, len(labels))
        if i1 > i0:
            labels[i0:i1] = [ignore_index] * (i1 - i0)
    return labels


def _encode(tokenizer: Any, spans: list[MaskSpans], mask: MaskMode, max_length: int | None,
            ignore_index: int = IGNORE_INDEX) -> dict[str, list]:
    out: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
    for ids, ranges in _rows(tokenizer, spans, mask):
        ids = list(ids if max_length is None else ids[:max_length])
        out["input_ids"].append(ids)
        out["attention_mask"].append([1] * len(ids))
        out["labels"].append(_labels_from(ids, ranges, None, ignore_index))
    return out


def _ordered_hint(offsets: Sequence[tuple[int, int]]) -> bool:
    """Cheap check that binary search is valid: first, last and a stride of samples are in order."""
    n = len(offsets)
    if n < 2:
        return True
    step = max(1, n // 16)
    sample = [offsets[i] for i in range(0, n, step)] + [offsets[n - 1]]
    return _ordered(sample)


def _fully_masked(n: int, ranges: list[tuple[int, int]]) -> bool:
    """Every one of the first ``n`` tokens is in a range (an empty row counts as fully masked)."""
    covered = 0
    for i0, i1 in sorted(ranges):
        i0, i1 = max(i0, covered), min(i1, n)
        if i0 > covered:
            return False
        covered = max(covered, i1)
    return covered >= n


def tokenize_conversation(
    tokenizer: Any,
    messages: Sequence[Mapping[str, Any]],
    *,
    mask: MaskMode = "prompt+think",
    fmt: str | TraceFormat | None = None,
    max_length: int | None = None,
    insert_empty_block: bool = True,
    turns: str = "last",
    ignore_index: int = IGNORE_INDEX,
    **template_kwargs: Any,
) -> dict[str, list[int]]:
    """One conversation -> ``{"input_ids", "attention_mask", "labels"}`` (lists of int; ``ignore_index``, -100 by
    default, = not trained). ``mask``: "none" or a "+"-joined set of prompt / think / trace / response;
    ``turns``: "last" trains the final assistant turn, "all" every assistant turn."""
    _check_tokenizer(tokenizer)
    _check_mode(mask)
    _check_ignore_index(ignore_index)
    check_template_kwargs("tokenize_conversation", tokenizer, template_kwargs)
    spans = conversation_spans(tokenizer, messages, fmt=fmt, insert_empty_block=insert_empty_block, turns=turns,
                               **template_kwargs)
    out = _encode(tokenizer, [spans], mask, max_length, ignore_index)
    return {k: v[0] for k, v in out.items()}


def _as_messages(item: Any) -> Sequence[Mapping[str, Any]]:
    if isinstance(item, Mapping):
        for key in ("messages", "conversations", "conversation"):
            if key in item:
                return item[key]
        raise TypeError("a dataset row needs a 'messages' column (a list of {'role', 'content'} dicts)")
    return item


def _batch_spans(
    tokenizer: Any, conversations: list, spec: TraceFormat, style: BlockStyle, kwargs: Mapping[str, Any],
    insert: bool, turns: str = "last",
) -> list[MaskSpans]:
    r = renderer(tokenizer, kwargs)
    find = _all_spans if turns == "all" else _spans
    return [find(tokenizer, r, _as_messages(c), spec, style, insert) for c in conversations]


def _tokenize_batch(
    tokenizer: Any, conversations: list, mask: MaskMode, spec: TraceFormat, style: BlockStyle,
    kwargs: Mapping[str, Any], max_length: int | None, insert: bool, turns: str, ignore_index: int,
) -> dict[str, list]:
    return _encode(tokenizer, _batch_spans(tokenizer, conversations, spec, style, kwargs, insert, turns), mask,
                   max_length, ignore_index)


def _columns(rows: list[tuple[list[int], list[tuple[int, int]]]], ignore_index: int = IGNORE_INDEX,
             ) -> dict[str, Any]:
    """Arrow columns built from flat arrays (no per-token Python objects), typed as ``Dataset.from_dict`` types
    lists of ints under these column names: ``input_ids`` int32, ``attention_mask`` int8, ``labels`` int64."""
    import pyarrow as pa

    lengths = np.fromiter((len(ids) for ids, _ in rows), dtype=np.int64, count=len(rows))
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    total = int(starts[-1])
    if total == 0 or total >= 2**31 - 1:  # nothing to flatten / too long for int32 list offsets
        return {"input_ids": [ids for ids, _ in rows], "attention_mask": [[1] * len(ids) for ids, _ in rows],
                "labels": [_labels_from(ids, r, None, ignore_index) for ids, r in rows]}
    flat = np.fromiter(chain.from_iterable(ids for ids, _ in rows), dtype=np.int64, count=total)
    labels = flat.copy()
    for start, (_, ranges) in zip(starts[:-1].tolist(), rows, strict=True):
        for i0, i1 in ranges:
            labels[start + i0:start + i1] = ignore_index
    offsets = pa.array(starts.astype(np.int32))
    wide = flat.min() < -(2**31) or flat.max() >= 2**31
    return {
        "input_ids": pa.ListArray.from_arrays(offsets, pa.array(flat if wide else flat.astype(np.int32))),
        "attention_mask": pa.ListArray.from_arrays(offsets, pa.array(np.ones(total, dtype=np.int8))),
        "labels": pa.ListArray.from_arrays(offsets, pa.array(labels)),
    }


def tokenize_dataset(
    tokenizer: Any,
    conversations: Iterable[Sequence[Mapping[str, Any]]],
    *,
    mask: MaskMode = "prompt+think",
    fmt: str | TraceFormat | None = None,
    max_length: int | None = None,
    num_proc: int | None = None,
    insert_empty_block: bool = True,
    drop_fully_masked: bool = True,
    batch_size: int = 1000,
    turns: str = "last",
    ignore_index: int = IGNORE_INDEX,
    **template_kwargs: Any,
):
    """Pre-tokenize conversations into a ``datasets.Dataset`` with ``input_ids``, ``attention_mask``, ``labels``.

    ``conversations`` may be lists of messages or rows with a ``messages`` column (e.g. a ``datasets.Dataset``).
    The result feeds ``transformers.Trainer`` (with ``PaddingCollator``) and TRL's ``SFTTrainer`` (an
    ``input_ids`` column marks a dataset as already processed; its ``labels`` are kept). Rows whose labels are all
    masked (possible after truncation) are dropped unless ``drop_fully_masked=False``: they carry no loss.
    ``num_proc > 1`` tokenizes in worker processes through ``datasets.map`` (messages must be JSON-serialisable).
    ``mask``, ``turns`` and ``ignore_index`` as in ``tokenize_conversation``.
    """
    import datasets

    _check_tokenizer(tokenizer)
    _check_mode(mask)
    _check_turns(turns)
    _check_ignore_index(ignore_index)
    check_template_kwargs("tokenize_dataset", tokenizer, template_kwargs)
    spec = resolve_format(tokenizer, fmt)
    check_round_trip(tokenizer, spec)
    style = template_style(tokenizer, spec, template_kwargs)
    items = list(conversations)
    args = (mask, spec, style, dict(template_kwargs), max_length, insert_empty_block, turns, ignore_index)
    if num_proc is not None and num_proc > 1 and len(items) > 1:
        raw = datasets.Dataset.from_dict({"_conversation": [json.dumps(_as_messages(c)) for c in items]})

        def work(batch: dict[str, list]) -> dict[str, list]:
            return _tokenize_batch(tokenizer, [json.loads(s) for s in batch["_conversation"]], *args)

        ds = raw.map(work, batched=True, batch_size=batch_size, num_proc=num_proc,
                     remove_columns=["_conversation"])
        if drop_fully_masked and len(ds):
            keep = [i for i, labels in enumerate(ds["labels"]) if labels.count(ignore_index) < len(labels)]
            if len(keep) < len(ds):
                ds = ds.select(keep)
        return ds
    # Serial: render every conversation, tokenize each batch in one Rust call (threaded), keep only the ids and
    # the masked token ranges, and build the Arrow columns from flat arrays at the end.
    rows: list[tuple[list[int], list[tuple[int, int]]]] = []
    kwargs = dict(template_kwargs)
    for i in range(0, len(items), batch_size):
        spans = _batch_spans(tokenizer, items[i:i + batch_size], spec, style, kwargs, insert_empty_block, turns)
        for ids, ranges in _rows(tokenizer, spans, mask):
            if max_length is not None and len(ids) > max_length:
                ids = ids[:max_length]
                ranges = [(i0, min(i1, max_length)) for i0, i1 in ranges if i0 < max_length]
            if drop_fully_masked and _fully_masked(len(ids), ranges):
                continue
            rows.append((ids, ranges))
    if not rows:
        return datasets.Dataset.from_dict({"input_ids": [], "attention_mask": [], "labels": []})
    return datasets.Dataset.from_dict(_columns(rows, ignore_index))


@dataclass
class PaddingCollator:
    """Pads pre-tokenized examples into tensors: ``input_ids`` with ``pad_token_id``, ``attention_mask`` with 0,
    ``labels`` with ``label_pad_id``. Missing ``attention_mask`` = all ones; missing ``labels`` = ``input_ids``."""

    pad_token_id: int
    label_pad_id: int = IGNORE_INDEX
    pad_to_multiple_of: int | None = None
    padding_side: str = "right"

    def __post_init__(self) -> None:
        if self.padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {self.padding_side!r}")
        if self.pad_token_id is None:
            raise ValueError("pad_token_id is None: set tokenizer.pad_token (e.g. to the eos token) first")
        if self.pad_to_multiple_of is not None and self.pad_to_multiple_of < 1:
            raise ValueError("pad_to_multiple_of must be a positive integer")

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, **kw: Any) -> PaddingCollator:
        """Pad with the tokenizer's pad token (its eos token when it has none)."""
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return cls(pad_token_id=pad, **kw)

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        if not features:
            raise ValueError("PaddingCollator got an empty batch")
        rows = [list(f["input_ids"]) for f in features]
        width = max(len(r) for r in rows)
        m = self.pad_to_multiple_of
        if m:
            width = -(-width // m) * m
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        attn = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), self.label_pad_id, dtype=torch.long)
        for i, (f, row) in enumerate(zip(features, rows, strict=True)):
            n = len(row)
            if n == 0:
                continue
            lab = f.get("labels")
            am = f.get("attention_mask")
            if (lab is not None and len(lab) != n) or (am is not None and len(am) != n):
                raise ValueError(f"example {i}: input_ids, attention_mask and labels differ in length")
            sl = slice(0, n) if self.padding_side == "right" else slice(width - n, width)
            ids[i, sl] = torch.as_tensor(row, dtype=torch.long)
            attn[i, sl] = 1 if am is None else torch.as_tensor(list(am), dtype=torch.long)
            labels[i, sl] = torch.as_tensor(row if lab is None else list(lab), dtype=torch.long)
        return {"input_ids": ids, "attention_mask": attn, "labels": labels}

