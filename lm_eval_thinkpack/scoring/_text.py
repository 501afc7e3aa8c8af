"""Small text helpers shared by the extractors (internal; no third-party imports)."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["BoxSpan", "as_text", "boxed_spans", "last_boxed", "strip_wrappers"]

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
