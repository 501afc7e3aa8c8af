"""Multiple-choice answers (GPQA, MMLU-style): extract the chosen letter and check it.

The last answer given wins, as in every scorer: of ``\\boxed{C}`` and an answer phrase (``Answer: C``,
``The correct answer is (C)``, ``The answer is for sure D``), the one that comes later (a phrase after a box
counts where its letter ends the clause); a box cut off before its closing brace is no answer. Without
either: an option phrase (``Option C``, ``the correct choice is C``) > the last parenthesised letter ``(C)``
> the last standalone capital letter.
Letters are matched in upper case so that the article "a" is never a choice; a lower-case letter counts
only in a box, or after an answer phrase in parentheses (``Answer: (c)``) or alone at the end of its line.
A hedge, the chosen letter joined to another one (``Answer: B or C``, ``Both A and C``, ``\\boxed{B, C}``),
is no answer: it gets no credit, whichever letter is right.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._text import NO_SIGNAL, as_text, boxed_spans, last_answer
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
    lower = "[" + re.escape(letters.lower()) + "]"
    end = r"(?![A-Za-z0-9_])"
    # Everything allowed between the phrase and the letter. Each alternative starts with a different
    # character and whitespace appears in one place only, so matching stays linear on hostile input.
    deco = r"(?:[\s*:=$(\[]|\\text(?:bf)?\{|\\mathrm\{|(?i:is|would\s+be|should\s+be|option|choice)(?![A-Za-z]))*"
    # "answer ... C" is a strong signal; "option C" / "choice C" also appears while discussing distractors.
    # A lower-case letter counts after an answer phrase only where it cannot be the article "a":
    # in parentheses ("Answer: (c)") or alone at the end of its line ("Answer: c.").
    strong = re.compile(r"(?i:answer)" + deco + "(?:(?P<L>" + cls + ")" + end + "|(?P<l>" + lower + r")"
                        r"(?=[)\]]|\*{0,2}\.?[ \t]*$))", re.M)
    # "The answer is for sure D", "Answer: most likely (C)": a few words between a marker and the letter
    # (never a negation: "the answer is not A" is no answer A).
    # Words may also stand between "answer" and its verb ("The answer here is C", "the answer to this one is:
    # C"); "I" counts as a word only before a word or an apostrophe ("I believe", "I'd go with").
    link = r"(?:[\s*]*(?i:is|was|would|should|must|will)(?![A-Za-z])|[\s*]*[:=])"
    word = (r"[\s,*]+(?!(?i:not|never|neither|nor|no|none|unlikely|cannot|incorrect|wrong)(?![A-Za-z]))"
            r"(?:[A-Za-z][a-z]+|a|I(?='[a-z]|[ \t]+[a-z]))(?:'(?!t(?![a-z]))[a-z]+)?(?![A-Za-z'])")
    # ... but "the answer options: A ..." lists the options
    pre = r"(?![\s,*]+(?i:options?|choices?|format|key|sheet|letters?)(?![A-Za-z]))" + word
    hedged = re.compile(r"(?i:answer)(?:" + pre + "){0,4}" + link + "(?:" + word + "){0,5},?" + deco
                        + "(?:(?P<L>" + cls + ")" + end
                        + "|(?P<l>" + lower + r")(?=[)\]]|\*{0,2}\.?[ \t]*$))", re.M)
    weak = re.compile(r"(?i:option|choice)" + deco + "(?P<L>" + cls + ")" + end)
    boxed = re.compile(r"(?:\\text(?:bf)?\{|\\mathrm\{|\(|\[|\s)*(?:(?P<L>" + cls + r")|(?P<l>" + lower + r"))" + end)
    paren = re.compile(r"\((?P<L>" + cls + r")\)")
    alone = re.compile(r"(?<![A-Za-z0-9_\\])(?P<L>" + cls + r")" + end)
    # A second letter joined to the chosen one ("B or C", "A and C", "B/C", "B, C"): a hedge, not an answer.
    joiner = r"(?:\s*(?:,|/|&|\\text\{\s*(?:or|and)\s*\})\s*(?:(?:or|and)\s+)?|\s+(?:or|and)\s+)"
    wrap = r"(?:[(\[*$]|\\text(?:bf)?\{|\\boxed\{)*"
    other = "(?:(?P<L>" + cls + ")" + end + r"|(?<=\()(?P<l>" + lower + r")(?=\)))"  # "(c)" may be lower-case
    after = re.compile(r"[)\]*$}]*" + joiner + wrap + other)
    before = re.compile(r"(?:(?<![A-Za-z0-9_\\])(?P<L>" + cls + r")|(?<=\()(?P<l>" + lower + r"))[)\]*$}]*"
                        + joiner + wrap + r"\Z")
    return strong, hedged, weak, boxed, paren, alone, after, before


_ARTICLE_RE = re.compile(r" [a-z]")
_LOOKBACK = 40


def _letter(m: re.Match[str]) -> str:
    return m.group("L") if m.group("L") is not None else m.group("l").upper()


def _hedge(text: str, lo: int, hi: int, letter: str, after: re.Pattern[str], before: re.Pattern[str]) -> str | None:
    """``"B or C"`` when another letter is joined to the one chosen at ``text[lo:hi]`` (a hedge), else None."""
    m = after.match(text, hi)
    if m is not None and _letter(m) != letter and _joined(m.group(), text, m.end()):
        return f"{letter} or {_letter(m)}"
    b = before.search(text[max(0, lo - _LOOKBACK) : lo])
    if b is not None and _letter(b) != letter and _joined(b.group(), text, hi):
        return f"{_letter(b)} or {letter}"
    return None


_WORD_JOINER_RE = re.compile(r"(?<![A-Za-z])(?:or|and)(?![A-Za-z])")
_LIST_END_RE = re.compile(r"[)\]*$}]*\s*(?:$|[.,;:!?&/]|(?:or|and)(?![A-Za-z]))")


def _joined(span: str, text: str, end: int) -> bool:
    """Two letters joined by "or"/"and" always make a hedge; by a comma or slash only when the list ends
    there ("Answer: A, C." is a hedge, "Answer: B, C is wrong" is not)."""
    return _WORD_JOINER_RE.search(span) is not None or _LIST_END_RE.match(text, end) is not None


# After a box, a later marker is the answer only where its letter ends the clause ("Answer: D." but not
# "the answer is B might be tempting").
_CLAUSE_END_RE = re.compile(r"[)\]*$}]*[ \t]*(?:$|[.,;:!?]|\()", re.M)


def _choose(text: str, letters: str) -> tuple[str | None, str | None]:
    """``(letter, None)``, or ``(None, hedge)`` when the chosen letter is joined to another one.

    The last answer given wins (:func:`~lm_eval_thinkpack.scoring._text.last_answer`): the last box holding
    a letter or the last answer phrase, whichever comes later; a box cut off before its closing brace is no
    answer. Without either: an option phrase, then a parenthesised letter, then the last standalone letter.
    """
    strong, hedged, weak, boxed_re, paren, alone, after, before = _patterns(letters)

    def pick(lo: int, hi: int, letter: str) -> tuple[str | None, str | None]:
        hedge = _hedge(text, lo, hi, letter, after, before)
        return (None, hedge) if hedge else (letter, None)

    def read_marker(m: re.Match[str], after_box: bool) -> tuple[str | None, str | None] | None:
        lo, hi = m.span("L") if m.group("L") is not None else m.span("l")
        if after_box and _CLAUSE_END_RE.match(text, hi) is None:
            return None
        return pick(lo, hi, _letter(m))

    def read_box(box) -> tuple[str | None, str | None]:
        m = boxed_re.match(text, box.lo, box.hi)
        return pick(box.lo, m.end(), _letter(m))

    spans = [sp for sp in boxed_spans(text) if boxed_re.match(text, sp.lo, sp.hi) is not None]
    markers = sorted([*strong.finditer(text), *hedged.finditer(text)], key=lambda m: (m.start(), m.end()))
    found = last_answer(text, spans, markers, read_marker, read_box)
    if found is None:
        return None, None
    if found is not NO_SIGNAL:
        return found  # type: ignore[return-value]
    for pattern in (weak, paren):
        last = None
        for last in pattern.finditer(text):  # noqa: B007 - keep the final match
            pass
        if last is not None:
            lo, hi = last.span("L")
            return pick(lo, hi, _letter(last))
    # Fallback: the last standalone capital letter, skipping the article "A" in "A good idea".
    for m in reversed(list(alone.finditer(text))):
        letter = m.group("L")
        if letter == "A" and _ARTICLE_RE.match(text, m.end()):
            continue
        return pick(m.start(), m.end(), letter)
    return None, None


def extract_choice(text: str | None, letters: str = "ABCD") -> str | None:
    """The letter the response chose, or ``None`` (no letter, or a hedge such as "B or C")."""
    letters = _check_letters(letters)
    text = as_text(text)
    if not text:
        return None
    try:
        return _choose(text, letters)[0]
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
    text = as_text(text)
    try:
        pred, hedge = _choose(text, letters) if text else (None, None)
    except (RecursionError, MemoryError):  # pragma: no cover - defensive
        pred, hedge = None, None
    if hedge is not None:  # more than one letter offered: no credit, whichever is right
        return ScoreResult(False, hedge, None)
    return ScoreResult(pred == gold, pred, None)


@register_scorer("choice")
def score_choice(answer: str, doc) -> ScoreResult:
    """Scorer ``choice``: ``thinkpack_gold`` is the letter, ``thinkpack_letters`` the options (default ABCD)."""
    return check_choice(answer, doc_gold(doc), letters=doc.get("thinkpack_letters") or "ABCD")
