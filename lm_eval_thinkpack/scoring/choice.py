"""Multiple-choice answers (GPQA, MMLU-style): extract the chosen letter and check it.

Preference order: ``\\boxed{C}`` > an answer phrase (``Answer: C``, ``The correct answer is (C)``)
> an option phrase (``Option C``, ``the correct choice is C``) > the last parenthesised letter ``(C)``
> the last standalone capital letter.
Letters are matched case-sensitively (upper case) so that the article "a" is never a choice.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._text import as_text, last_boxed
from .registry import doc_gold, register_scorer
from .result import ScoreResult

__all__ = ["extract_choice", "check_choice"]


def _check_letters(letters: object) -> str:
    if not isinstance(letters, str):
        raise TypeError(f"letters must be a str such as 'ABCD', got {type(letters).__name__}")
    if not letters or not all("A" <= c <= "Z" for c in letters) or len(set(letters)) != len(letters):
        raise ValueError(f"letters must be distinct upper-case A-Z letters, got {letters!r}")
    return letters


@lru_cache(maxsize=64)
def _patterns(letters: str) -> tuple[re.Pattern[str], ...]:
    cls = "[" + re.escape(letters) + "]"
    end = r"(?![A-Za-z0-9_])"
    # Decorations that may sit between the phrase and the letter: spaces, **, $, (, [, \text{, :
    # Everything allowed between the phrase and the letter. Each alternative starts with a different
    # character and whitespace appears in one place only, so matching stays linear on hostile input.
    deco = r"(?:[\s*:=$(\[]|\\text(?:bf)?\{|\\mathrm\{|(?i:is|would\s+be|should\s+be|option|choice)(?![A-Za-z]))*"
    # "answer ... C" is a strong signal; "option C" / "choice C" also appears while discussing distractors.
    strong = re.compile(r"(?i:answer)" + deco + "(?P<L>" + cls + ")" + end)
    weak = re.compile(r"(?i:option|choice)" + deco + "(?P<L>" + cls + ")" + end)
    boxed = re.compile(r"^(?:\\text(?:bf)?\{|\\mathrm\{|\(|\[|\s)*(?P<L>" + cls + r")" + end)
    paren = re.compile(r"\((?P<L>" + cls + r")\)")
    alone = re.compile(r"(?<![A-Za-z0-9_\\])(?P<L>" + cls + r")" + end)
    return strong, weak, boxed, paren, alone


_ARTICLE_RE = re.compile(r" [a-z]")


def extract_choice(text: str | None, letters: str = "ABCD") -> str | None:
    """The letter the response chose, or ``None``."""
    letters = _check_letters(letters)
    text = as_text(text)
    if not text:
        return None
    strong, weak, boxed_re, paren, alone = _patterns(letters)
    try:
        boxed = last_boxed(text)
        if boxed is not None:
            m = boxed_re.match(boxed)
            if m is not None:
                return m.group("L")
        for pattern in (strong, weak, paren):
            last = None
            for last in pattern.finditer(text):  # noqa: B007 - keep the final match
                pass
            if last is not None:
                return last.group("L")
        # Fallback: the last standalone capital letter, skipping the article "A" in "A good idea".
        for m in reversed(list(alone.finditer(text))):
            letter = m.group("L")
            if letter == "A" and _ARTICLE_RE.match(text, m.end()):
                continue
            return letter
        return None
    except (RecursionError, MemoryError):  # pragma: no cover - defensive
        return None


def check_choice(text: str | None, gold_letter: str, letters: str = "ABCD") -> ScoreResult:
    """``ScoreResult(correct, extracted_letter, None)`` for a multiple-choice response.

    ``gold_letter`` may be given as ``"C"``, ``"c"`` or ``"(C)"``; it must be one of ``letters``.
    """
    letters = _check_letters(letters)
    if not isinstance(gold_letter, str):
        raise TypeError(f"gold_letter must be a str, got {type(gold_letter).__name__}")
    gold = gold_letter.strip().strip("()").strip().upper()
    if len(gold) != 1 or gold not in letters:
        raise ValueError(f"gold_letter {gold_letter!r} is not one of {letters!r}")
    pred = extract_choice(text, letters)
    return ScoreResult(pred == gold, pred, None)


@register_scorer("choice")
def score_choice(answer: str, doc) -> ScoreResult:
    """Scorer ``choice``: ``thinkpack_gold`` is the letter, ``thinkpack_letters`` the options (default ABCD)."""
    return check_choice(answer, doc_gold(doc), letters=doc.get("thinkpack_letters") or "ABCD")
