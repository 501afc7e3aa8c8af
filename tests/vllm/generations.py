"""Randomized generations of the four classes, written from a family's own ``TraceFormat`` data.

Shapes real outputs take (trace_conventions.md section 5): multi-line bodies, a tool call after the trace,
text before the opener, a second block in the answer, the family's own delimiters mentioned inside the body
(an opener, never a closer: a closer would end the trace), the answer wrapped in the family's answer tags.
With a prefilled prompt the generation starts inside the trace: no opener, sometimes an echoed one.
"""

from __future__ import annotations

import random
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


def _tool_call(fmt: TraceFormat, rng: random.Random) -> str:
    marker = rng.choice(fmt.implicit_close)
    closing = {"<tool_call>": "</tool_call>", "<|START_ACTION|>": "<|END_ACTION|>"}.get(marker, "")
    return f'{marker}\n{{"name": "calc", "arguments": {{"expr": "6*7"}}}}\n{closing}'


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
    if d.answer_open and rng.random() < 0.7:
        answer = f"{d.answer_open}{rng.choice(_SEPS)}{answer or '42'}{rng.choice(_SEPS)}{d.answer_close or ''}"
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
    if d.answer_open:
        answer = f"{d.answer_open}\n{answer}\n{d.answer_close or ''}"
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
