"""GSM8K-style numeric answers: extract a number from a response and compare it to the gold number.

All functions are total on model text: they return ``None``/``False`` instead of raising. Only a wrong
argument *type* (a programmer error) raises ``TypeError``; a gold field with no number raises
``ValueError``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ._text import as_text, last_boxed, strip_wrappers
from .registry import doc_gold, register_scorer
from .result import ScoreResult

__all__ = ["check_number", "extract_number", "normalize_number", "numbers_equal", "parse_gold_gsm8k"]

# A number: optional sign (only when it is not a binary minus such as "5-3"), optional currency,
# either comma-grouped thousands or plain digits, optional decimals; or a bare ".5".
_MINUS_CHARS = ("\u2212", "\u2013")  # Unicode minus and en dash, both emitted by models as "minus"
_SIGN = r"[+\-\u2212\u2013]"
_NUMBER_RE = re.compile(
    rf"(?<![\w.)\]}}])(?P<sign>{_SIGN})?\s?\$?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?![\d])"
)
# Same number grammar without the look-behind, for use right after an answer marker.
# Every alternative of the decoration group starts with a different character, and whitespace is only
# matched there, so the match is linear (no catastrophic backtracking on long runs of spaces).
_LEAD_NUMBER_RE = re.compile(
    rf"(?:[\s*:=$]|\\\(|\\\[|\\boxed\{{|\\text\{{|\\\$)*(?P<sign>{_SIGN})?[ ]?(?:\\\$|\$)?[ ]?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?!\d)"
)
# "Answer: X", "The answer is X", "final answer is: X", "#### X". The last occurrence wins.
_MARKER_RE = re.compile(
    r"####|answer\s*(?:is\b|:|=|\*\*)",
    re.IGNORECASE,
)
_TEXT_RE = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")


def normalize_number(s: str) -> str | None:
    """Clean one number token: drop ``$``, thousands commas, ``%``, a leading ``+`` and a trailing period.

    Returns a string that :class:`decimal.Decimal` accepts, or ``None`` if ``s`` is not a single number.
    """
    s = as_text(s, "s")
    if s is None:
        return None
    s = strip_wrappers(s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "").replace("\\!", "")
    s = s.replace("{,}", ",")
    for ch in _MINUS_CHARS:
        s = s.replace(ch, "-")
    s = re.sub(r"(?<=[+-])\s+", "", s.strip())  # "- 5" -> "-5", but "1 2" stays two numbers
    s = s.rstrip(".")
    m = re.fullmatch(r"([+-]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)", s)
    if m is None:
        return None
    sign = "-" if m.group(1) == "-" else ""
    return sign + m.group(2).replace(",", "")


def _token(m: re.Match[str]) -> str:
    sign = "-" if m.group("sign") and m.group("sign") != "+" else ""
    return sign + m.group("num").replace(",", "")


def extract_number(text: str | None) -> str | None:
    """Extract the final numeric answer from a response.

    Preference order: the number right after the last ``####`` / ``Answer:`` / ``The answer is`` marker,
    then the content of the last ``\\boxed{}``, then the last number anywhere in the text. Returns a
    cleaned decimal string (``"1234"``, ``"-3.5"``) or ``None`` when the text holds no number.
    """
    text = as_text(text)
    if not text:
        return None
    try:
        text = text.replace("{,}", ",")  # LaTeX thousands separator: 1{,}000
        # 1) explicit answer markers; the last marker that is followed by a number wins.
        for marker in reversed(list(_MARKER_RE.finditer(text))):
            m = _LEAD_NUMBER_RE.match(text, marker.end())
            if m is not None:
                return _token(m)
        # 2) \boxed{...}
        boxed = last_boxed(text)
        if boxed is not None:
            num = normalize_number(_TEXT_RE.sub(r"\1", boxed))
            if num is not None:
                return num
            inner = _last_number(boxed)
            if inner is not None:
                return inner
        # 3) last number in the text
        return _last_number(text)
    except (RecursionError, MemoryError):  # pragma: no cover - defensive: never raise on model text
        return None


def _last_number(text: str) -> str | None:
    last = None
    for last in _NUMBER_RE.finditer(text):  # noqa: B007 - we want the final match
        pass
    return None if last is None else _token(last)


def parse_gold_gsm8k(answer_field: str) -> str:
    """The gold number of a GSM8K ``answer`` field: the text after the last ``####``, cleaned.

    A field that is already a bare number (``"72"``, ``"1,000"``) is accepted as is.
    Raises ``TypeError`` for a non-string and ``ValueError`` if no number can be found.
    """
    if not isinstance(answer_field, str):
        raise TypeError(f"answer_field must be a str, got {type(answer_field).__name__}")
    if "####" in answer_field:
        tail = answer_field.rsplit("####", 1)[1]
        num = normalize_number(tail)
        if num is None:
            num = _last_number(tail)
        if num is None:
            raise ValueError(f"no number after '####' in GSM8K answer field: {tail.strip()[:80]!r}")
        return num
    num = normalize_number(answer_field)
    if num is None:
        raise ValueError(
            f"GSM8K answer field has no '####' marker and is not a bare number: {answer_field.strip()[:80]!r}"
        )
    return num


def _to_decimal(x: object, name: str) -> Decimal | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a str, int or Decimal, got bool")
    if isinstance(x, (int, Decimal)):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    if not isinstance(x, str):
        raise TypeError(f"{name} must be a str, int or Decimal, got {type(x).__name__}")
    s = normalize_number(x)
    if s is None:
        return None
    try:
        d = Decimal(s)
    except (InvalidOperation, ValueError):  # pragma: no cover - normalize_number only yields valid ones
        return None
    return d if d.is_finite() else None


def numbers_equal(pred: str | None, gold: str | int | Decimal) -> bool:
    """Numeric equality of two answers using :class:`~decimal.Decimal` (``"18.0" == "18"``,
    ``"1,234" == "1234"``, ``"$5" == "5"``). ``None`` or a non-numeric ``pred`` is simply ``False``.
    """
    p = _to_decimal(pred, "pred")
    g = _to_decimal(gold, "gold")
    if p is None or g is None:
        return False
    try:
        return p == g
    except (InvalidOperation, ArithmeticError):  # pragma: no cover
        return False


def check_number(text: str | None, gold: str | int | Decimal) -> ScoreResult:
    """Extract the number from a GSM8K-style response and compare it with ``gold`` (already parsed,
    e.g. by :func:`parse_gold_gsm8k`): ``ScoreResult(correct, extracted, None)``."""
    if gold is None or isinstance(gold, bool) or not isinstance(gold, (str, int, Decimal)):
        raise TypeError(f"gold must be a str, int or Decimal, got {type(gold).__name__}")
    extracted = extract_number(text)
    return ScoreResult(numbers_equal(extracted, gold), extracted, None)


@register_scorer("number")
def score_number(answer: str, doc) -> ScoreResult:
    """Scorer ``number``: the doc's ``thinkpack_gold`` is the gold number (GSM8K)."""
    return check_number(answer, doc_gold(doc))
