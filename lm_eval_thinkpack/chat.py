"""Model-agnostic prompt construction on top of any tokenizer's chat template.

``render_prompt`` applies the model's own chat template and then makes four things behave the same way for every
family in ``formats.py``, whatever the template does natively:

* ``thinking``: on/off. When the family has a ``thinking_switch`` and the template reads it, the switch is passed
  (``enable_thinking`` / ``thinking`` / ``reasoning``, with the family's ``switch_values``) and the template
  decides. Otherwise (no switch, or a template that never mentions it) "off" makes the generation prompt end with
  a closed empty block: a prefilled opener is replaced by the family's empty block, else the empty block is
  appended (``BlockStyle.empty``, e.g. ``<think>\\n\\n</think>\\n\\n``). "On" removes a closed empty block the
  template left at the end of the prompt. ``None`` leaves the template's default.
* ``prefill``: ``True`` makes the prompt end inside an open trace (appends ``open + lead``, e.g. ``<think>\\n``,
  unless the template already did); ``False`` cuts a trailing opener off; ``None`` keeps the template's habit.
  ``prefill=True`` (or a ``think_prefix``) with ``thinking=None`` passes the switch as on.
* ``keep_history_reasoning``: past assistant turns carry reasoning in ``reasoning_content`` / ``reasoning`` /
  ``thinking`` or inline (``<think>..</think>answer``). Keep renders each one with its trace even when the template
  strips it: the reasoning is first offered to the template as ``reasoning_content``; for turns whose reasoning the
  template did not render, ``open + lead + reasoning + trail + close + tail`` is placed before the turn's content
  (replacing an empty block or bare closer the template put there). Drop removes the fields and inline traces.
* ``think_prefix``: the prompt ends inside an open trace followed by the given text.
* ``response_prefix``: the prompt ends with the start of the answer: a trace left open is closed first (the
  closer of the opener's spelling), then the family's answer wrapper, then the text. ``render_prompts`` takes
  one think / response prefix per conversation.

Whether "the template reads the switch" is decided from renders (``detect``'s probes: the switch is one of the
template's variables and turning it on and off changes a generation prompt), never from its name appearing in
the template text (Nemotron Nano 2 turns thinking off with ``/no_think``; Command A says "reasoning" in prose).
The spelling of a family with several (``template_style``) is the one the template renders.

The whitespace around a block (``BlockStyle``) comes from the family's ``disabled_insert`` when it has one
(Qwen3 ``<think>`` + ``\\n`` | ``\\n`` + ``</think>`` + ``\\n\\n``; SmolLM3 one trailing ``\\n``), none for families
whose delimiters are special tokens, else ``\\n`` / ``\\n`` / ``\\n\\n``.

Reasoning text is substituted after rendering (the template sees placeholder strings), so it is ``strip()``-ed
once and never re-escaped or re-parsed by the template. Nothing here imports lm_eval.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .classify import prompt_is_prefilled
from .detect import detect_format
from .formats import Delimiters, TraceFormat, get_format
from .template import (
    ChatTemplateError,
    Renderer,
    accepted_kwargs,
    renderer,
    selected_template,
    template_variables,
)

__all__ = [
    "REASONING_KEYS",
    "ROUND_TRIP_TEXT",
    "BlockStyle",
    "ChatTemplateError",
    "DelimiterRoundTripWarning",
    "answer_opens",
    "block_style",
    "check_messages",
    "check_round_trip",
    "check_template_kwargs",
    "render_messages",
    "render_prompt",
    "render_prompts",
    "resolve_format",
    "split_reasoning",
    "template_style",
]

#: message fields that may hold an assistant turn's reasoning, in the order they are read
REASONING_KEYS: tuple[str, ...] = ("reasoning_content", "reasoning", "thinking")

# Placeholders substituted after rendering; private-use characters never occur in real chat text.
_NATIVE = "\ue000R{}\ue001"  # offered to the template as reasoning_content
_INLINE = "\ue000C{}\ue001"  # put in front of the content when the template drops reasoning_content
_MARK = "\ue000M\ue001"  # marks where the target turn's content starts
_BOUND = "\ue000{}{}\ue001"  # S<i> / E<i>: where message i's content starts / ends (render_messages(bounds=...))
_BOUND_RE = re.compile("\ue000([SE])([0-9]+)\ue001")


@dataclass(frozen=True, slots=True)
class BlockStyle:
    """How one family spells a trace block: ``open + lead + body + trail + close + tail``."""

    open: str
    close: str
    lead: str = "\n"
    trail: str = "\n"
    tail: str = "\n\n"
    delimiters: Delimiters | None = None

    @property
    def empty(self) -> str:
        """The empty block the family's disabled mode would produce, e.g. ``<think>\\n\\n</think>\\n\\n``."""
        return self.open + self.lead + self.trail + self.close + self.tail

    @property
    def opener(self) -> str:
        """What a prefilled prompt ends with, e.g. ``<think>\\n``."""
        return self.open + self.lead

    def wrap(self, reasoning: str) -> str:
        """A full block holding ``reasoning`` (stripped), with the trailing whitespace before the answer."""
        return self.open + self.lead + reasoning.strip() + self.trail + self.close + self.tail


# --------------------------------------------------------------------------------------------------- resolution


class DelimiterRoundTripWarning(UserWarning):
    """The tokenizer changes a trace delimiter of the family, or plain text, when it encodes then decodes it (e.g.
    transformers 5.3-5.12 drop the spaces of some byte-level tokenizers, huggingface/transformers#45488, or a
    normalizer rewrites the tag): masking's character spans, decoded generations and their classes can then be
    wrong."""


#: plain text with spaces, punctuation and a line break: what transformers#45488 breaks (thinkpack checks the same)
ROUND_TRIP_TEXT = "Okay, let me think: 2 + 3 = 5.\nThe answer is 5."


def check_round_trip(tokenizer: Any, spec: TraceFormat) -> list[str]:
    """The family's delimiters, and ``ROUND_TRIP_TEXT``, that ``decode(encode(x))`` changes; warns
    ``DelimiterRoundTripWarning`` once per tokenizer configuration and family. ``[]`` when all round-trip (or the
    object cannot encode)."""
    tok = tokenizer if callable(getattr(tokenizer, "encode", None)) else getattr(tokenizer, "tokenizer", None)
    if tok is None or not callable(getattr(tok, "encode", None)) or not callable(getattr(tok, "decode", None)):
        return []
    try:
        memo = renderer(tokenizer).memo
    except Exception:  # noqa: BLE001 - no template state to remember it in: check every time
        memo = {}
    key = ("round_trip", spec)
    if key in memo:
        return memo[key]
    bad = []
    for d in dict.fromkeys((*spec.all_open, *spec.all_close, ROUND_TRIP_TEXT)):
        try:
            back = tok.decode(tok.encode(d, add_special_tokens=False), skip_special_tokens=False,
                              clean_up_tokenization_spaces=False)
        except Exception:  # noqa: BLE001 - a delimiter the tokenizer cannot take at all counts as changed
            back = None
        if back != d:
            bad.append(d)
    if bad:
        import warnings

        name = getattr(tok, "name_or_path", "") or type(tok).__name__
        delims = [d for d in bad if d != ROUND_TRIP_TEXT]
        what = []
        if delims:
            what.append(f"the {spec.name!r} delimiter(s) {', '.join(map(repr, delims))}")
        if ROUND_TRIP_TEXT in bad:
            what.append(f"plain text ({ROUND_TRIP_TEXT!r})")
        warnings.warn(f"the tokenizer {name!r} does not round-trip {' nor '.join(what)} (encode then decode changes "
                      "them): masking spans, token ids and decoded generations may be wrong. Check the transformers "
                      "version (5.3-5.12 break round trips, huggingface/transformers#45488) and the tokenizer's "
                      "normalizer and decoder.",
                      DelimiterRoundTripWarning, stacklevel=3)
    memo[key] = bad
    return bad


def check_template_kwargs(fn: str, tokenizer: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Extra keyword arguments of ``fn`` go to the chat template; one the template does not read (and that is not
    an ``apply_chat_template`` option) raises ``TypeError``, so a misspelt argument (``respnse_prefix=``,
    ``turn="all"``) never vanishes into the template. Checked once per tokenizer configuration."""
    if not kwargs:
        return {}
    try:
        memo = renderer(tokenizer, kwargs).memo
    except Exception:  # noqa: BLE001 - no template state to remember it in: check every time
        memo = {}
    if "kwargs_checked" not in memo:
        known = accepted_kwargs(tokenizer, kwargs)
        bad = sorted(k for k in kwargs if k not in known)
        if bad:
            raise TypeError(f"{fn}() got unexpected keyword argument(s) {', '.join(map(repr, bad))}: not a parameter "
                            f"of {fn}, and the chat template does not read them")
        memo["kwargs_checked"] = True
    return dict(kwargs)


def resolve_format(tokenizer: Any, fmt: str | TraceFormat | None = None) -> TraceFormat:
    """``fmt`` if given, else ``detect.detect_format(tokenizer).format`` (kept with the tokenizer's template
    state, so it is detected once per template)."""
    if fmt is not None:
        return get_format(fmt)
    memo = renderer(tokenizer).memo
    spec = memo.get("detected_format")
    if spec is None:
        spec = memo["detected_format"] = get_format(detect_format(tokenizer).format)
    return spec


@lru_cache(maxsize=512)
def block_style(spec: TraceFormat, template: str | None = None) -> BlockStyle:
    """The family's block spelling; the delimiter alternative is the first whose opener the template mentions.

    (EXAONE Deep writes ``<thought>``, EXAONE 4.0 ``<think>``; Magistral 2507 ``[THINK]``, 2506 ``<think>``.)
    """
    usable = [d for d in spec.delimiters if d.open and not d.anchored] or list(spec.delimiters)
    chosen: Delimiters = usable[0]
    open_ = chosen.open[0] if chosen.open else ""
    picked = False
    if template:
        for d in usable:
            hit = next((o for o in d.open if o in template), None)
            if hit is not None:
                chosen, open_, picked = d, hit, True
                break
    insert = spec.disabled_insert
    if not picked and insert:
        for d in usable:
            hit = next((o for o in d.open if o in insert), None)
            if hit is not None:
                chosen, open_ = d, hit
                break
    close = chosen.close[0]
    if insert:
        o = next((s for s in chosen.open if s in insert), None)
        c = next((s for s in chosen.close if s in insert), None)
        if o is not None and c is not None and insert.find(o) < insert.find(c):
            i, j = insert.find(o) + len(o), insert.find(c)
            inner = insert[i:j]
            half = len(inner) // 2
            return BlockStyle(open_, close, inner[:half], inner[half:], insert[j + len(c):], chosen)
    if spec.special_delimiters:
        return BlockStyle(open_, close, "", "", "", chosen)
    return BlockStyle(open_, close, delimiters=chosen)


_PROBE_Q, _PROBE_A, _PROBE_R = "\ue010q\ue011", "\ue010a\ue011", "\ue010r\ue011"


def template_style(tokenizer: Any, spec: TraceFormat, template_kwargs: Mapping[str, Any] | None = None,
                   ) -> BlockStyle:
    """``block_style`` for the delimiter spelling the template *writes*: for a family with several spellings
    (MiniMax ``<think>`` / ``<mm:think>``, Magistral, EXAONE, ...) the spelling whose opener or closer appears in
    the template's renders of a generation prompt and of answers with and without reasoning, not the first one
    its source text mentions (a template may name another spelling only to cut it out of old content). Falls
    back to the source text when no render shows a delimiter. Kept with the tokenizer's template state."""
    source = selected_template(tokenizer, template_kwargs)
    usable = [d for d in spec.delimiters if d.open and not d.anchored]
    if len(usable) < 2:
        return block_style(spec, source)
    r = renderer(tokenizer, template_kwargs)
    key = ("template_style", spec)
    if key in r.memo:
        return r.memo[key]
    user = [{"role": "user", "content": _PROBE_Q}]
    probes = [(user, True), (user + [{"role": "assistant", "content": _PROBE_A}], False),
              (user + [{"role": "assistant", "content": _PROBE_A, "reasoning_content": _PROBE_R}], False)]
    written = []
    for msgs, gen in probes:
        try:
            written.append(r.render(msgs, gen))
        except Exception:  # noqa: BLE001 - a probe the template refuses shows nothing
            continue
    text = "\n".join(written)
    hits = [d for d in usable if any(m in text for m in (*d.open, *d.close))]
    evidence = source  # nothing written: the source text decides, as before
    if hits:  # the spelling of the first delimiter written (its opener as written, else its first opener)
        first = min(hits, key=lambda d: min(p for m in (*d.open, *d.close) if (p := text.find(m)) >= 0))
        evidence = next((o for o in first.open if o in text), first.open[0])
    style = block_style(spec, evidence)
    if len(r.memo) < 4096:
        r.memo[key] = style
    return style


# --------------------------------------------------------------------------------------------------- messages


def split_reasoning(message: Mapping[str, Any], spec: TraceFormat) -> tuple[str | None, Any]:
    """``(reasoning, content)`` of an assistant message.

    Reasoning comes from the first string field in ``REASONING_KEYS``; otherwise from an inline trace at the start
    of a string content (``<think>r</think>answer``, or ``r</think>answer``: text before a closer is the trace).
    ``None`` means no reasoning at all; ``""`` an explicitly empty one. The content is returned without the inline
    trace (leading whitespace after the closer removed) and unchanged otherwise.
    """
    content = message.get("content")
    for key in REASONING_KEYS:
        value = message.get(key)
        if isinstance(value, str):
            return value, content
    if not isinstance(content, str):
        return None, content
    for d in spec.delimiters:
        if d.anchored:
            continue
        close_pos, close_end = _first(content, d.close)
        if close_pos < 0:
            continue
        open_pos, open_end = _first(content, d.open, 0, close_pos) if d.open else (-1, -1)
        if open_pos >= 0 and not content[:open_pos].strip():
            body = content[open_end:close_pos]
        else:
            body = content[:close_pos]
        return body, content[close_end:].lstrip()
    return None, content


def _first(text: str, needles: Sequence[str], start: int = 0, end: int | None = None) -> tuple[int, int]:
    """(start, end) of the earliest needle in ``text[start:end]`` (longest on a tie); (-1, -1) if none."""
    best, best_end = -1, -1
    for needle in needles:
        pos = text.find(needle, start, len(text) if end is None else end)
        if pos >= 0 and (best < 0 or pos < best or (pos == best and pos + len(needle) > best_end)):
            best, best_end = pos, pos + len(needle)
    return best, best_end


def check_messages(messages: Any) -> list[Mapping[str, Any]]:
    if isinstance(messages, Mapping) or isinstance(messages, str | bytes):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    messages = list(messages)
    for m in messages:
        if not isinstance(m, Mapping) or "role" not in m:
            raise TypeError(f"every message needs a 'role' key, got {m!r}")
    return messages


# --------------------------------------------------------------------------------------------------- rendering


def _closer_pattern(spec: TraceFormat, style: BlockStyle) -> re.Pattern[str]:
    return _closer_regex(tuple(dict.fromkeys((style.close, *spec.all_close))),
                         tuple(dict.fromkeys((style.open, *spec.all_open))))


@lru_cache(maxsize=256)
def _closer_regex(closes: tuple[str, ...], opens: tuple[str, ...]) -> re.Pattern[str]:
    """``[opener ws] closer ws`` at the end of a string: an empty block or a bare closer the template inserted."""
    o = "|".join(re.escape(s) for s in sorted(opens, key=len, reverse=True))
    c = "|".join(re.escape(s) for s in sorted(closes, key=len, reverse=True))
    return re.compile(rf"(?:(?:{o})\s*)?(?:{c})\s*\Z" if o else rf"(?:{c})\s*\Z")


def render_messages(
    r: Renderer,
    messages: Sequence[Mapping[str, Any]],
    spec: TraceFormat,
    style: BlockStyle,
    *,
    keep: Container[int] = (),
    drop: Container[int] = (),
    mark: int | None = None,
    add_generation_prompt: bool = False,
    bounds: Container[int] = (),
    positions: dict[int, tuple[int, int]] | None = None,
) -> tuple[str, int | None]:
    """Render with the chat template (``r``: ``template.renderer(tokenizer, kwargs)``), controlling each assistant
    turn's reasoning.

    Assistant turn ``i`` in ``keep`` is rendered with its (non-empty) reasoning, natively when the template reads
    ``reasoning_content``, else inline; in ``drop`` without reasoning; otherwise exactly as given. ``mark`` names a
    turn whose content start is returned as a character offset (else ``None``). For each message ``i`` in
    ``bounds`` with a non-empty string content, ``positions[i]`` is set to its content's ``(start, end)`` in the
    returned text. The engine of ``render_prompt`` and ``masking``.
    """
    msgs: list[dict[str, Any]] = []
    traces: dict[int, str] = {}
    for i, m in enumerate(messages):
        if m.get("role") != "assistant" or (i not in keep and i not in drop and i != mark):
            m = m if type(m) is dict else dict(m)  # never modified below: no copy needed
            if i in bounds and isinstance(m.get("content"), str) and m["content"]:
                m = {**m, "content": _BOUND.format("S", i) + m["content"] + _BOUND.format("E", i)}
            msgs.append(m)
            continue
        reasoning, content = split_reasoning(m, spec)
        if i in keep or i in drop:
            new = {k: v for k, v in m.items() if k not in REASONING_KEYS}
            new["content"] = content
        else:
            new = dict(m)
        if i in keep and reasoning is not None and reasoning.strip():
            traces[i] = reasoning.strip()
            new["reasoning_content"] = _NATIVE.format(i)
        if i in bounds and isinstance(new.get("content"), str) and new["content"]:
            new["content"] = _BOUND.format("S", i) + new["content"] + _BOUND.format("E", i)
        if i == mark:
            if not isinstance(new.get("content"), str):
                raise TypeError("the marked assistant message needs a string content")
            new["content"] = _MARK + new["content"]
        msgs.append(new)

    # Whether the template renders reasoning_content for a turn depends on the template, its kwargs and the turn's
    # place in the conversation; it is remembered per shape so that only the first example of a shape pays a
    # second render. A remembered "native" that fails for some example is still caught by the check below.
    shape = ("native", tuple(m.get("role") for m in msgs), add_generation_prompt) if traces else None
    known = r.memo.get(shape, {}) if traces else {}
    for i in traces:
        if known.get(i) is False:
            _to_inline(msgs[i], i)
    text = r.render(msgs, add_generation_prompt)
    inline = [i for i in traces if known.get(i) is False]
    retry = [i for i in traces if i not in inline and _NATIVE.format(i) not in text]
    if retry:  # the template dropped reasoning_content for these turns: carry it in the content instead
        for i in retry:
            _to_inline(msgs[i], i)
        text = r.render(msgs, add_generation_prompt)
        inline += retry
    if traces and len(r.memo) < 4096:
        r.memo.setdefault(shape, {}).update({i: i not in inline for i in traces})
    for i, reasoning in traces.items():
        if i in inline:
            token = _INLINE.format(i)
            pos = text.find(token)
            if pos < 0:
                raise ChatTemplateError(f"the chat template does not render assistant message {i}'s content")
            window = max(0, pos - 256)
            hit = _closer_pattern(spec, style).search(text[window:pos])
            if hit:  # replace the empty block / bare closer the template put there
                text = text[: window + hit.start()] + style.wrap(reasoning) + text[pos + len(token):]
                continue
            head = text[:pos].rstrip()
            wrapper = next((a for a in answer_opens(spec) if head.endswith(a)), None)
            at = len(head) - len(wrapper) if wrapper else pos  # the trace goes before an answer wrapper
            text = text[:at] + style.wrap(reasoning) + text[at:pos] + text[pos + len(token):]
        else:
            text = text.replace(_NATIVE.format(i), reasoning)
    if bounds:
        found: dict[tuple[str, int], int] = {}
        pieces, last = [], 0
        for hit in _BOUND_RE.finditer(text):
            pieces.append(text[last:hit.start()])
            last = hit.end()
            found[(hit.group(1), int(hit.group(2)))] = sum(map(len, pieces))
        text = "".join(pieces) + text[last:]
        for i in bounds:
            if ("S", i) in found and ("E", i) in found:
                if positions is not None:
                    positions[i] = (found[("S", i)], found[("E", i)])
            elif ("S", i) in found or ("E", i) in found:
                raise ChatTemplateError(f"the chat template renders only part of message {i}'s content")
    mark_pos: int | None = None
    if mark is not None:
        mark_pos = text.find(_MARK)
        if mark_pos < 0:
            raise ChatTemplateError("the chat template does not render the final assistant message's content")
        text = text[:mark_pos] + text[mark_pos + len(_MARK):]
        if positions is not None:  # bounds found after the mark moved back by its length
            positions.update({i: tuple(p - len(_MARK) * (p > mark_pos) for p in ab)  # type: ignore[misc]
                              for i, ab in positions.items()})
    if "\ue000" in text:
        raise ChatTemplateError("the chat template rendered an assistant message's reasoning or content twice")
    return text, mark_pos


def answer_opens(spec: TraceFormat) -> tuple[str, ...]:
    """The family's answer wrappers' openers (Hunyuan ``<answer>``, Cohere ``<|START_TEXT|>``)."""
    return tuple(d.answer_open for d in spec.delimiters if d.answer_open)


def _to_inline(message: dict[str, Any], i: int) -> None:
    message.pop("reasoning_content", None)
    message["content"] = _INLINE.format(i) + (message.get("content") or "")




def _ends_closed(text: str, spec: TraceFormat, style: BlockStyle) -> re.Match[str] | None:
    return _closer_pattern(spec, style).search(text, max(0, len(text) - 512))


def _last_open(text: str, spec: TraceFormat, style: BlockStyle) -> int:
    return max(text.rfind(o) for o in (style.open, *spec.all_open) if o)


def render_prompt(
    tokenizer: Any,
    messages: Sequence[Mapping[str, Any]],
    *,
    thinking: bool | None = None,
    prefill: bool | None = None,
    keep_history_reasoning: bool = False,
    think_prefix: str | None = None,
    response_prefix: str | None = None,
    fmt: str | TraceFormat | None = None,
    add_generation_prompt: bool = True,
    **template_kwargs: Any,
) -> str:
    """Render ``messages`` with the tokenizer's chat template; see the module docstring for each option.

    ``response_prefix`` seeds the answer: a trace the prompt leaves open (prefilled, ``prefill=True`` or a
    ``think_prefix``) is closed first with the family's closer, then the prefix follows; a prompt with no open
    trace gets the prefix as it is. With ``add_generation_prompt=False`` a final assistant message is a
    completion: it is rendered with its reasoning (if any); ``thinking`` then only reaches the template's switch,
    and ``prefill`` / ``think_prefix`` / ``response_prefix`` are errors. Extra keyword arguments go to
    ``apply_chat_template`` (``tools``, ``reasoning_effort``, ...).
    """
    msgs = check_messages(messages)
    if not msgs:
        raise ValueError("render_prompt needs at least one message")
    if think_prefix is not None:
        if not isinstance(think_prefix, str):
            raise TypeError("think_prefix must be a string")
        if thinking is False or prefill is False:
            raise ValueError("think_prefix opens a trace: it cannot be combined with thinking=False or prefill=False")
    if response_prefix is not None and not isinstance(response_prefix, str):
        raise TypeError("response_prefix must be a string")
    if prefill and thinking is False:
        raise ValueError("prefill=True opens a trace and thinking=False closes it: pick one")
    if not add_generation_prompt and (prefill is not None or think_prefix is not None or response_prefix is not None):
        raise ValueError("prefill, think_prefix and response_prefix shape the generation prompt: they need "
                         "add_generation_prompt=True")
    check_template_kwargs("render_prompt", tokenizer, template_kwargs)

    spec = resolve_format(tokenizer, fmt)
    source = selected_template(tokenizer, template_kwargs)
    style = template_style(tokenizer, spec, template_kwargs)
    if thinking is None and (prefill or think_prefix is not None):
        thinking = True
    kwargs = dict(template_kwargs)
    switch = spec.thinking_switch
    template_switch = _reads_switch(tokenizer, spec, source, template_kwargs)
    if thinking is not None and template_switch and switch not in kwargs:
        value = spec.switch_values[0 if thinking else 1]
        if value is not None:
            kwargs[switch] = value

    n = len(msgs)
    completion = not add_generation_prompt and msgs[-1].get("role") == "assistant"
    history = {i for i, m in enumerate(msgs) if m.get("role") == "assistant" and not (completion and i == n - 1)}
    keep = set(history) if keep_history_reasoning else set()
    drop = set() if keep_history_reasoning else set(history)
    if completion:
        keep.add(n - 1)
    text, _ = render_messages(
        renderer(tokenizer, kwargs), msgs, spec, style, keep=keep, drop=drop,
        add_generation_prompt=add_generation_prompt,
    )
    if not add_generation_prompt:
        return text

    if thinking is False and not template_switch:
        if prompt_is_prefilled(text, spec):
            text = text[: _last_open(text, spec, style)] + style.empty
        elif _ends_closed(text, spec, style) is None:
            text += style.empty
    elif thinking is True:
        empty = _trailing_empty_block(text, spec, style)
        if empty is not None:
            text = text[:empty]
    if prefill or think_prefix is not None:
        if not prompt_is_prefilled(text, spec):
            text += style.opener
    elif prefill is False and prompt_is_prefilled(text, spec):
        text = text[: _last_open(text, spec, style)]
    if think_prefix:
        text += think_prefix
    if response_prefix is not None:
        if think_prefix is not None or prompt_is_prefilled(text, spec):
            text += _closer_for(text, spec, style)
        wrapper = style.delimiters.answer_open if style.delimiters else None
        if wrapper and not text.rstrip().endswith(wrapper):  # Cohere <|START_TEXT|>, Hunyuan <answer>
            text += wrapper
        text += response_prefix
    return text


def _closer_for(text: str, spec: TraceFormat, style: BlockStyle) -> str:
    """What closes the trace ``text`` leaves open: the closer of the opener's own spelling, with the family's
    whitespace (``\n</think>\n\n`` for Qwen3; none for special-token families)."""
    op = _last_open(text, spec, style)
    opener = max((o for o in (style.open, *spec.all_open) if o and text.startswith(o, op)), key=len, default="")
    close = style.close
    if opener and opener != style.open:
        close = next((d.close[0] for d in spec.delimiters if opener in d.open), close)
    body = text[op + len(opener):]
    trail = "" if body.endswith("\n") and style.trail == "\n" and not body.strip() else style.trail
    return trail + close + style.tail


def render_prompts(
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, Any]]],
    *,
    think_prefix: str | Sequence[str | None] | None = None,
    response_prefix: str | Sequence[str | None] | None = None,
    **options: Any,
) -> list[str]:
    """``render_prompt`` for each conversation; ``think_prefix`` and ``response_prefix`` are one string for all
    or a list with one entry (a string or None) per conversation. Other options apply to every conversation."""
    if isinstance(conversations, Mapping) or isinstance(conversations, str | bytes):
        raise TypeError("render_prompts takes a list of conversations (each a list of messages)")
    convs = list(conversations)
    thinks = _per_conversation(think_prefix, len(convs), "think_prefix")
    responses = _per_conversation(response_prefix, len(convs), "response_prefix")
    return [render_prompt(tokenizer, c, think_prefix=t, response_prefix=a, **options)
            for c, t, a in zip(convs, thinks, responses, strict=True)]


def _per_conversation(value: Any, n: int, name: str) -> list[str | None]:
    if value is None or isinstance(value, str):
        return [value] * n
    if isinstance(value, Sequence):
        values = list(value)
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} conversations: give one per conversation, "
                             "or one string for all")
        return values
    raise TypeError(f"{name} must be a string, None or a list of them, got {type(value).__name__}")


def _reads_switch(tokenizer: Any, spec: TraceFormat, source: str, template_kwargs: Mapping[str, Any]) -> bool:
    """The template reads the family's thinking switch: it is one of the template's variables and turning it on
    and off changes a rendered generation prompt (``detect``'s probes, as ``detect_format`` decides). A template
    that only names it (in prose, a comment, a namespace attribute) or turns thinking off another way (Nemotron
    Nano 2's ``/no_think``) does not: ``render_prompt`` then writes the empty block itself."""
    switch = spec.thinking_switch
    if not switch or switch not in template_variables(source):
        return False
    r = renderer(tokenizer, template_kwargs)
    key = ("reads_switch", switch, spec.switch_values)
    if key not in r.memo:
        from .detect import switch_changes_prompt

        r.memo[key] = switch_changes_prompt(tokenizer, switch, spec.switch_values, **template_kwargs)
    return r.memo[key]


def _trailing_empty_block(text: str, spec: TraceFormat, style: BlockStyle) -> int | None:
    """Start of a closed block with a whitespace-only body (or a bare closer) ending ``text``, else None."""
    hit = _ends_closed(text, spec, style)
    if hit is None:
        return None
    head = text[: hit.start()]
    opens = tuple(dict.fromkeys((style.open, *spec.all_open)))
    matched = hit.group(0)
    if any(matched.startswith(o) for o in opens):
        return hit.start()
    # a bare closer: only an empty block if no opener precedes it with text in between
    last_open = max(head.rfind(o) for o in opens)
    last_close = max(head.rfind(c) for c in (style.close, *spec.all_close))
    if last_open > last_close:  # closer of a non-empty block: not empty
        return None
    return hit.start()
