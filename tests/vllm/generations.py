"""Randomized generations of the four classes, written from a family's own ``TraceFormat`` data.

Shapes real outputs take (trace_conventions.md section 5): multi-line bodies, a tool call after the trace,
text before the opener, a second block in the answer, the family's own delimiters mentioned inside the body
(an opener, never a closer: a closer would end the trace), the answer wrapped in the family's answer tags.
With a prefilled prompt the generation starts inside the trace: no opener, sometimes an echoed one.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from lm_eval_thinkpack.formats import Delimiters, TraceFormat

KINDS = ("valid", "empty", "missing", "truncated")

_WORDS = ("so", "6*7", "=", "42", "wait,", "The", "answer", "is", "Let", "me", "check:", "x^2", "é", "∑", "😀",
          "<b>", "</b>", "think", "thinking", "response", "(a)", "{\"k\": 1}", "-", "1.", "**Step**")
_BLANKS = ("", " ", "\n", "\n\n", " \t\n", "\r\n")
_SEPS = ("", "\n", "\n\n", " ")


@dataclass(frozen=True)
class Generation:
    """One generated text, the class it was written as, and the shapes it uses (for the table)."""

    text: str
    kind: str
    prefilled: bool
    shapes: tuple[str, ...]


def _line(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 9)))


def _body(rng: random.Random, multiline: bool) -> str:
    if not multiline:
        return _line(rng) + " " + rng.choice(("ok", "42", "done"))
    return "\n".join(_line(rng) for _ in range(rng.randint(2, 6))) + "\nSo the answer is 42."


# Tool-call payloads in the grammars the families use; a family's marker takes the first one its
# ``ImplicitClose.follows`` accepts (the start of a real call, not a mention of the marker).
_CALLS = (
    '\n<function=calc>\n<parameter=expr>\n6*7\n</parameter>\n</function>\n</tool_call>',
    '\n{"name": "calc", "arguments": {"expr": "6*7"}}\n</tool_call>',
    'calc\n<arg_key>expr</arg_key>\n<arg_value>6*7</arg_value>\n</tool_call>',
    '<|tool_call_begin|>functions.calc:0<|tool_call_argument_begin|>{"expr": "6*7"}<|tool_call_end|>'
    '<|tool_calls_section_end|>',
    '\n<tool_call>calc\n```json\n{"expr": "6*7"}\n```\n</tool_call>\n</tool_calls>',
    '[{"tool_call_id": "0", "tool_name": "calc", "parameters": {"expr": "6*7"}}]<|END_ACTION|>',
    'call:calc{expr:6*7}<tool_call|>',
    '<ifm|tool_call>{"name": "calc", "arguments": {"expr": "6*7"}}</ifm|tool_call>',
    'functions.calc<|message|><atem:function_calls><atem:invoke name="calc"><atem:parameter name="expr">6*7'
    '</atem:parameter></atem:invoke></atem:function_calls>',
    '<\uff5cDSML\uff5cinvoke name="calc"><\uff5cDSML\uff5cparameter name="expr">6*7</\uff5cDSML\uff5cparameter>'
    '</\uff5cDSML\uff5cinvoke>',
    '<\uff5cDSML\uff5c invoke name="calc"></\uff5cDSML\uff5c invoke>',
    '<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>calc<|plamo:end_tool_name:plamo|>{"expr": '
    '"6*7"}<|plamo:end_tool_arguments:plamo|><|plamo:end_tool_request:plamo|><|plamo:end_tool_requests:plamo|>',
    '\n{"name": "calc", "arguments": {"expr": "6*7"}}',
    ' name="calc"><param name="expr">6*7</param></function>',
)


# The whole call as the family's tool parser reads it, for markers whose call no payload above writes (the block's own
# end included: Inkling's call block ends with the token that also ends a thinking block).
_CALLS_BY_MARKER = {
    "<seed:tool_call>": "\n<function=calc>\n<parameter=expr>\n6*7\n</parameter>\n</function>\n</seed:tool_call>",
    "<minimax:tool_call>": '\n<invoke name="calc">\n<parameter name="expr">6*7</parameter>\n</invoke>\n'
                           "</minimax:tool_call>",
    "[TOOL_CALLS]": 'calc[ARGS]{"expr": "6*7"}',
    "<|open|>tools<|sep|>": '<|open|>call tool="calc" index="1"<|sep|><|open|>argument key="expr" type="string"<|sep|>'
                            "6*7<|close|>argument<|sep|><|close|>call<|sep|><|close|>tools<|sep|>",
    "<|message_model|><|content_invoke_tool_json|>": '{"name": "calc", "args": {"expr": "6*7"}}<|end_message|>',
}


def _tool_call(fmt: TraceFormat, rng: random.Random) -> str:
    ic = rng.choice(fmt.implicit_close)
    payload = _CALLS_BY_MARKER.get(ic.marker) or next((c for c in _CALLS if re.match(ic.follows, c)), None)
    if payload is None:
        raise AssertionError(f"{fmt.name}: no tool-call payload matches {ic.marker!r} followed by {ic.follows!r}")
    return ic.marker + payload


def generate(fmt: TraceFormat, d: Delimiters, kind: str, prefilled: bool, rng: random.Random,
             canonical: bool = False) -> Generation:
    """One generation of class ``kind`` in the delimiter alternative ``d`` of ``fmt``.

    ``canonical``: the template's exact layout, one newline around every tag (Hunyuan's
    ``<think>\n...\n</think>\n<answer>\n...\n</answer>``), no preamble, no extra blocks.
    """
    if canonical:
        return _canonical(d, kind, prefilled, rng)
    shapes: list[str] = []
    opener, closer = rng.choice(d.open) if d.open else "", rng.choice(d.close)
    multiline = rng.random() < 0.5
    if multiline:
        shapes.append("multi-line")
    body = _body(rng, multiline)
    if rng.random() < 0.15 and opener:
        body = f"{_line(rng)} {opener} {body}"  # the body mentions the opener (e.g. quoting the format)
        shapes.append("opener in body")
    answer = rng.choice(("The answer is 42.", "42", "**42**", "x = 6*7 = 42\n\nDone.", "(b)", ""))
    if d.wrappers and rng.random() < 0.7:
        w_open, w_close = rng.choice(d.wrappers)
        answer = f"{w_open or ''}{rng.choice(_SEPS)}{answer or '42'}{rng.choice(_SEPS)}{w_close or ''}"
        shapes.append("answer tags")
    if rng.random() < 0.15 and opener and kind in ("valid", "empty"):
        answer += f"{rng.choice(_SEPS)}{opener}{_line(rng)}{closer}{rng.choice(_SEPS)}more"
        shapes.append("second block")
    tool = ""
    if fmt.implicit_close and rng.random() < 0.25:
        tool = _tool_call(fmt, rng)
        shapes.append("tool call")
    if prefilled:
        lead = opener + rng.choice(_SEPS) if opener and rng.random() < 0.2 else ""
        if lead:
            shapes.append("echoed opener")
    else:
        lead = opener + rng.choice(("", "\n"))
        if rng.random() < 0.15 and kind != "missing":
            lead = rng.choice(("Sure.", "Okay, let me think.", "Hi!\n")) + rng.choice(_SEPS) + lead
            shapes.append("text before opener")
    sep = rng.choice(_SEPS)
    if kind == "valid" and tool and rng.random() < 0.5:
        text = f"{lead}{body}{sep}{tool}"  # the tool call ends the unclosed trace (the family's implicit close)
        shapes.append("tool call ends trace")
    elif kind == "valid":
        text = f"{lead}{body}{closer}{sep}{answer}{rng.choice(_SEPS) + tool if tool else ''}"
    elif kind == "empty":
        text = f"{lead}{rng.choice(_BLANKS)}{closer}{sep}{answer or '42'}{rng.choice(_SEPS) + tool if tool else ''}"
    elif kind == "truncated":
        text = f"{lead}{body}"
    elif kind == "missing":
        if prefilled:
            raise ValueError("a prefilled prompt has no missing class: the trace is open from the start")
        text = f"{answer or '42'}{rng.choice(_SEPS) + tool if tool else ''}"
    else:
        raise ValueError(f"unknown class {kind!r}; one of {KINDS}")
    return Generation(text, kind, prefilled, tuple(shapes))


def kinds_for(prefilled: bool) -> tuple[str, ...]:
    return tuple(k for k in KINDS if not (prefilled and k == "missing"))


def _canonical(d: Delimiters, kind: str, prefilled: bool, rng: random.Random) -> Generation:
    body = _body(rng, rng.random() < 0.5)
    answer = rng.choice(("The answer is 42.", "42", "**42**", "x = 6*7 = 42\n\nDone."))
    if d.wrappers:
        w_open, w_close = d.wrappers[0]
        answer = f"{w_open or ''}\n{answer}\n{w_close or ''}"
    lead = "" if prefilled else f"{d.open[0]}\n"
    if kind == "valid":
        text = f"{lead}{body}\n{d.close[0]}\n{answer}"
    elif kind == "empty":
        text = f"{lead}\n{d.close[0]}\n{answer}"
    elif kind == "truncated":
        text = f"{lead}{body}"
    elif kind == "missing" and not prefilled:
        text = answer
    else:
        raise ValueError(f"no canonical {kind!r} generation (prefilled={prefilled})")
    return Generation(text, kind, prefilled, ("canonical layout",))
