"""Small text helpers shared by the extractors (internal; no third-party imports)."""

from __future__ import annotations

import re

__all__ = ["as_text", "last_boxed", "strip_wrappers"]

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


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` / ``\\fbox{...}`` in ``text``, or ``None``.

    "Last" means the box that closes last (so for ``\\boxed{\\boxed{5}}`` the outer one, which is then
    unwrapped). Unbalanced boxes and empty boxes are ignored. ``\\boxed 5`` (argument without braces)
    is accepted too.
    """
    first = _BOX_RE.search(text)
    if first is None:
        return None
    pairs = _brace_pairs(text, first.end())
    best: tuple[int, int, int, int] | None = None  # (end, -start, content_start, content_end)
    for m in _BOX_RE.finditer(text, first.start()):
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
        key = (end, -m.start(), lo, hi)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    lo, hi = best[2], best[3]
    # Unwrap \boxed{\boxed{x}}: while the content is exactly one braced box, step inside it.
    while True:
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        m = _BOX_RE.match(text, lo, hi)
        if m is None:
            break
        pos = _skip_blanks(text, m.end())
        if pos >= hi or text[pos] != "{" or pairs.get(pos) != hi - 1 or not text[pos + 1 : hi - 1].strip():
            break
        lo, hi = pos + 1, hi - 1
    return text[lo:hi]


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
