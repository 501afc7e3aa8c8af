"""Small text helpers shared by the extractors (internal; no third-party imports)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

T = TypeVar("T")

__all__ = ["NO_SIGNAL", "BoxSpan", "as_text", "boxed_spans", "cut_box", "last_answer", "last_boxed", "strip_wrappers"]

# \boxed or \fbox, not followed by more letters (so "\boxedx" is not a box).
_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# Escaped characters are skipped as a whole, so "\{" and "\}" never count as grouping braces
# while "\\{" (a line break followed by a group) still does.
_BRACE_RE = re.compile(r"\\.|[{}]", re.S)
_BARE_ARG_RE = re.compile(r"[ \t]+([^\s$]+)")


def as_text(text: object, name: str = "text") -> str | None:
    """Return ``text`` if it is a ``str``; ``None`` for ``None``; raise ``TypeError`` otherwise."""
    if text is None or isinstance(text, str):
        return text
    raise TypeError(f"{name} must be a str or None, got {type(text).__name__}")


def _brace_pairs(text: str, start: int) -> dict[int, int]:
    """Map the index of each ``{`` at or after ``start`` to the index of its matching ``}``.

    The matching partner of an opening brace depends only on the text after it, so scanning a suffix
    gives the same pairs as scanning the whole string. Linear time.
    """
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for m in _BRACE_RE.finditer(text, start):
        tok = m.group()
        if tok == "{":
            stack.append(m.start())
        elif tok == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


class BoxSpan(NamedTuple):
    """One outermost ``\\boxed{...}``: ``start``/``end`` of the whole box, ``lo``/``hi`` of its (unwrapped) content."""

    start: int
    end: int
    lo: int
    hi: int


def boxed_spans(text: str) -> list[BoxSpan]:
    """Every complete outermost ``\\boxed{...}`` / ``\\fbox{...}`` in ``text``, in order.

    Unbalanced and empty boxes are ignored; ``\\boxed 5`` (argument without braces) is accepted too.
    A box that is exactly another box (``\\boxed{\\boxed{5}}``) is unwrapped to the inner content.
    """
    first = _BOX_RE.search(text)
    if first is None:
        return []
    pairs = _brace_pairs(text, first.end())
    spans: list[BoxSpan] = []
    for m in _BOX_RE.finditer(text, first.start()):
        if spans and m.start() < spans[-1].end:
            continue  # inside the previous outermost box
        pos = _skip_blanks(text, m.end())
        if pos < len(text) and text[pos] == "{":
            close = pairs.get(pos)
            if close is None:
                continue
            lo, hi, end = pos + 1, close, close + 1
        else:
            bare = _BARE_ARG_RE.match(text, m.end())
            if bare is None:
                continue
            lo, hi, end = bare.start(1), bare.end(1), bare.end()
        if not text[lo:hi].strip():
            continue
        lo, hi = _unwrap(text, pairs, lo, hi)
        spans.append(BoxSpan(m.start(), end, lo, hi))
    return spans


def _unwrap(text: str, pairs: dict[int, int], lo: int, hi: int) -> tuple[int, int]:
    """Trim blanks; while the content is exactly one braced box, step inside it."""
    while True:
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        m = _BOX_RE.match(text, lo, hi)
        if m is None:
            return lo, hi
        pos = _skip_blanks(text, m.end())
        if pos >= hi or text[pos] != "{" or pairs.get(pos) != hi - 1 or not text[pos + 1 : hi - 1].strip():
            return lo, hi
        lo, hi = pos + 1, hi - 1


def cut_box(text: str) -> int | None:
    """Start of the last ``\\boxed{`` / ``\\fbox{`` whose brace never closes (a generation cut inside its
    answer), or of a ``\\boxed`` that ends the text; ``None`` if there is none."""
    first = _BOX_RE.search(text)
    if first is None:
        return None
    pairs = _brace_pairs(text, first.end())
    cut = None
    for m in _BOX_RE.finditer(text, first.start()):
        pos = _skip_blanks(text, m.end())
        if pos < len(text) and text[pos] == "{":
            if pos not in pairs:
                cut = m.start()
        elif not text[pos:].strip():
            cut = m.start()
    return cut


#: :func:`last_answer`'s result when the text gives no answer signal at all (the scorer may fall back on a
#: weaker reading, such as the last number); ``None`` means a signal was given but holds no answer.
NO_SIGNAL = object()


def last_answer(text: str, spans: list[BoxSpan], markers: list[re.Match[str]],
                read_marker: Callable[[re.Match[str], bool], T | None],
                read_box: Callable[[BoxSpan], T | None]) -> T | None | object:
    """The one last-answer rule every scorer follows.

    The answer is the last one given: of the last complete box (``spans[-1]``) and the answer markers
    (``markers``, in text order) whose reading ``read_marker(match, after_box)`` is not ``None``, the one
    that comes later in the text. A box that opens after both and never closes (:func:`cut_box`, a
    generation cut inside its answer: ``The answer is \\boxed{6`` may have been 64) is no answer:
    ``None``, never credited. Without any box or readable marker: :data:`NO_SIGNAL`.
    """
    box = spans[-1] if spans else None
    cut = cut_box(text)
    if cut is not None and box is not None and cut < box.start:
        cut = None  # a complete box after it (the generation went on)
    floor = max(box.end if box is not None else -1, cut if cut is not None else -1)
    for marker in reversed(markers):
        if marker.start() < floor:
            break  # a marker before (or inside) the last box or cut announces that box
        value = read_marker(marker, box is not None)
        if value is not None:
            return value
    if cut is not None:
        return None
    if box is not None:
        return read_box(box)
    return NO_SIGNAL


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` / ``\\fbox{...}`` in ``text``, or ``None``.

    "Last" means the box that closes last (so for ``\\boxed{\\boxed{5}}`` the outer one, which is then
    unwrapped). Unbalanced boxes and empty boxes are ignored. ``\\boxed 5`` (argument without braces)
    is accepted too.
    """
    spans = boxed_spans(text)
    if not spans:
        return None
    last = spans[-1]
    return text[last.lo : last.hi]


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


_WRAPPER_PAIRS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"), ("`", "`"))


def strip_wrappers(s: str) -> str:
    """Strip surrounding whitespace, math delimiters, markdown bold and a trailing period."""
    prev = None
    for _ in range(8):  # bounded: hostile input like "$$$$...$$" must not cost quadratic time
        if prev == s:
            break
        prev = s
        s = s.strip()
        if s.endswith(".") and not s.endswith(".."):
            s = s[:-1].rstrip()
        for left, right in _WRAPPER_PAIRS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)]
                break
    return s
