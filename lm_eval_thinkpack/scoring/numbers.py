"""GSM8K-style numeric answers: extract a number from a response and compare it to the gold number.

The answer is the last one given (the final ``\\boxed{}`` or the last "The answer is" / "####", whichever
comes later), read as one number in LaTeX or plain text (:func:`parse_latex_number`), and compared exactly
(as fractions: ``"7/2"`` equals ``"3.5"``).

All functions are total on model text: they return ``None``/``False`` instead of raising. Only a wrong
argument *type* (a programmer error) raises ``TypeError``; a gold field with no number raises
``ValueError``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ._text import NO_SIGNAL, as_text, boxed_spans, last_answer, strip_wrappers
from .registry import doc_gold, register_scorer
from .result import ScoreResult

__all__ = [
    "check_number",
    "extract_number",
    "format_number",
    "normalize_number",
    "numbers_equal",
    "parse_gold_gsm8k",
    "parse_latex_number",
    "read_number",
]

# A number: optional sign (only when it is not a binary minus such as "5-3"), optional currency,
# either comma-grouped thousands or plain digits, optional decimals; or a bare ".5".
_MINUS_CHARS = ("\u2212", "\u2013")  # Unicode minus and en dash, both emitted by models as "minus"
_SIGN = r"[+\-\u2212\u2013]"
_NUMBER_RE = re.compile(
    rf"(?<![\w.)\]}}])(?P<sign>{_SIGN})?\s?\$?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?![\d])"
)
# What may stand between an answer marker and its number. Every alternative starts with a different
# character, and whitespace is only matched there, so the match is linear (no catastrophic backtracking).
_LEAD_RE = re.compile(r"(?:[\s*:=$]|\\\(|\\\[|\\boxed\{|\\text\{|\\\$)*")
# A quantity in plain text, read whole: a number with what makes it a longer quantity: a mixed number
# ("2 1/2"), a fraction ("3/4"), powers of ten ("3 x 10^5", "1e6"), "and a half", a scale word
# ("2.5 thousand", "1 million"), a vulgar fraction ("2½").
_SCALE_WORDS = r"hundred|thousand|million|billion|trillion"
_PARTS = (r"(?:a|one)[ \t-]+(?:half|third|quarter|fourth|fifth|eighth)"
          r"|(?:two|three)[ \t-]+(?:thirds|quarters|fourths|fifths|eighths)")
_LATEX_FRAC = r"\\[dt]?frac[ \t]*(?:\{[ \t]*\d+[ \t]*\}|\d)[ \t]*(?:\{[ \t]*\d+[ \t]*\}|\d)"  # \frac{1}{2}, \tfrac12
_QUANTITY_RE = re.compile(
    rf"(?P<sign>{_SIGN})?[ ]?(?:\\?\$)?[ ]?"
    r"(?:(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])|" + _LATEX_FRAC + ")"
    r"(?:[eE][+-]?\d{1,3}(?![\w])"
    r"|[ \t]*" + _LATEX_FRAC +
    r"|[ \t]+\d+[ \t]*/[ \t]*\d+(?![\d.,]?\d)"
    r"|[ \t]*/[ \t]*\d+(?:\.\d+)?(?![\d.,]?\d)"
    r"|[ \t]*(?:[xX\u00d7*\u00b7]|\\times|\\cdot)[ \t]*10[ \t]*"
    r"(?:(?:\^|\*\*)[ \t]*(?:\{[ \t]*[+-]?\d+[ \t]*\}|[+-]?\d+)|[\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+)"
    r"|[\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+"
    r"|[\u00bd\u2153\u2154\u00bc\u00be\u215b])?"
    rf"(?:[ \t]+and[ \t]+(?:{_PARTS})(?![A-Za-z]))?"
    rf"(?:[ \t]*-?[ \t]*(?:{_SCALE_WORDS})(?![A-Za-z]))*"
)
_LAST_QUANTITY_RE = re.compile(r"(?<![\w.)\]}])" + _QUANTITY_RE.pattern)
# "Answer: X", "The answer is X", "final answer is: X", "#### X". The last occurrence wins.
_MARKER_RE = re.compile(
    r"####|answer\s*(?:is\b|:|=|\*\*)",
    re.IGNORECASE,
)


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

    The last answer given wins (:func:`~lm_eval_thinkpack.scoring._text.last_answer`, the rule every
    scorer follows): the last ``\\boxed{}`` or the number after the last ``####`` / ``Answer:`` /
    ``The answer is`` marker, whichever comes later in the text; a box cut off before its closing brace
    is no answer; without either, the last quantity anywhere. A box (or a marker's math) is read as one
    LaTeX number (:func:`parse_latex_number`: ``\\frac{7}{2}`` is 3.5, ``10^6`` is 1000000, ``1\\,000`` is
    1000); a final box that is not one number gives ``None``, never the last digits inside it. A quantity
    is read whole: ``2 1/2``, ``1 million``, ``3 x 10^5``, ``2 and a half`` are 2.5, 1000000, 300000, 2.5.
    Returns a cleaned decimal string (``"1234"``, ``"-3.5"``; ``"7/3"`` for a fraction without a finite
    decimal) or ``None``.
    """
    text = as_text(text)
    if not text:
        return None
    try:
        text = text.replace("{,}", ",")  # LaTeX thousands separator: 1{,}000
        found = last_answer(
            text,
            boxed_spans(text),
            list(_MARKER_RE.finditer(text)),
            lambda marker, _after_box: _after_marker(text, marker.end()),
            lambda box: read_number(text[box.lo : box.hi]),
        )
        if found is NO_SIGNAL:
            return _last_number(text)
        return found
    except (RecursionError, MemoryError):  # pragma: no cover - defensive: never raise on model text
        return None


_SEGMENT_END_RE = re.compile(r"\n|(?<!\d)\.(?!\d)|\.(?=\s|$)|,\s|;|\s\(")
_SEGMENT_LEAD_RE = re.compile(r"[\s*:=]*")
_MATH_OPEN = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_MAX_SEGMENT = 200


def _after_marker(text: str, pos: int) -> str | None:
    """The number an answer marker announces: its math (``$\\frac{1}{2}$``) or the rest of its sentence
    read as one number, else the quantity right after it (``Answer: 9 apples (after 2)``)."""
    lead = _SEGMENT_LEAD_RE.match(text, pos)
    start = lead.end() if lead else pos
    segment = None
    for opener, closer in _MATH_OPEN.items():
        if text.startswith(opener, start):
            close = text.find(closer, start + len(opener), start + len(opener) + _MAX_SEGMENT)
            if close != -1:
                segment = text[start + len(opener) : close]
            break
    if segment is None:
        chunk = text[start : start + _MAX_SEGMENT]
        m = _SEGMENT_END_RE.search(chunk)
        segment = chunk[: m.start()] if m else chunk
    value = read_number(segment) if segment.strip() else None
    if value is not None:
        return value
    m = _LEAD_RE.match(text, pos)
    if m is None:
        return None
    q = _QUANTITY_RE.match(text, m.end())
    if q is None or _CONTINUES_RE.match(text, q.end()):
        return None  # "Answer: 10^6 ..." is not 10; "Answer: 2/3 ..." is not 2
    return _read_quantity(q)


_CONTINUES_RE = re.compile(r"\s*(?:\^|/\s*\d|\\frac|\\times|\\cdot|\\sqrt|\\pi)")


# ---------------------------------------------------------------------------------------- LaTeX numbers

_UNIT_MACRO_RE = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}"
                            r"(\s*\^\s*(?:\d|\{\s*\d+\s*\}))?")
_DROP_RE = re.compile(r"\\(?:left|right|displaystyle|big|Big|bigg|Bigg)(?![A-Za-z])|\\[,;:! ]|\\q?quad(?![A-Za-z])|~")
_PERCENT_RE = re.compile(r"\\?%|\\percent(?![A-Za-z])")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])|°")
_LEADING_WORDS_RE = re.compile(r"^(?:[A-Za-z][A-Za-z'\-]*\s+)+(?=[-+\d.\\{$])")
# A unit is a word after a space, or two or more letters right after a digit ("5cm"; "2x" is a variable).
_TRAILING_UNITS_RE = re.compile(r"(?:(?:\s+(?<![\\A-Za-z])[A-Za-z][A-Za-z'\-]*|(?<=\d)[A-Za-z]{2,})\.?"
                                r"(?:\s*\^\s*(?:\d|\{\d+\}))?(?:/[A-Za-z]+)?)+\s*$")
_LIST_SEP_RE = re.compile(r",(?!\d{3})|;|\\text\{\s*(?:and|or)\s*\}|(?<![A-Za-z])(?:and|or)(?![A-Za-z])")
_EQUALS_RE = re.compile(r"=|\\approx(?![A-Za-z])|\\equiv(?![A-Za-z])")
_DIGIT_SPACE_RE = re.compile(r"(?<=\d)[ \t]+(?=\d)")
_SPACED_GROUPS_RE = re.compile(r"\d{1,3}(?:\x00\d{3})+(?!\d)")
_NUM_TOKEN_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3}(?!\d))?")
_MAX_EXPONENT = 400
_MAX_DIGITS = 2000


def parse_latex_number(s: str) -> Fraction | None:
    """The exact value of ``s`` if it is one number written in LaTeX or plain text, else ``None``.

    Reads: signs (also Unicode minus), thousands separators (``1,000``, ``1{,}000``, ``1\\,000``,
    ``1 000``), decimals, ``\\frac``/``\\dfrac``/``\\tfrac`` and ``a/b``, mixed numbers (``2\\frac{1}{2}``),
    powers (``10^6``, ``2^{10}``), scientific notation (``1.5 \\times 10^{6}``), percent and degree signs,
    currency (``\\$``), a left-hand side (``x = 5``) and units (``18 \\text{ eggs}``, ``5\\,\\mathrm{cm}^2``,
    ``12 apples``). Anything else (two numbers, ``5 \\text{ or } 6``, a variable) is not one number.
    """
    cleaned = _clean_latex_number(s)
    if cleaned is None:
        return None
    try:
        return _LatexNumberParser(cleaned).parse()
    except (_NotANumber, ZeroDivisionError, OverflowError, ValueError):
        return None


_PLAIN_TOKEN_RE = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)")


def read_number(s: str) -> str | None:
    """:func:`parse_latex_number` as a string: a plain number keeps its digits (``"1234.50"``, ``".75"``),
    anything else is :func:`format_number` of its value; ``None`` if ``s`` is not one number."""
    cleaned = _clean_latex_number(s)
    if cleaned is None:
        return None
    m = _PLAIN_TOKEN_RE.fullmatch(cleaned)
    if m is not None:
        return ("-" if m.group(1) == "-" else "") + m.group(2).replace(",", "")
    value = parse_latex_number(s)
    return None if value is None else format_number(value)


def _clean_latex_number(s: str) -> str | None:
    if not isinstance(s, str) or len(s) > _MAX_SEGMENT * 5:
        return None
    s = strip_wrappers(s)
    s = _UNIT_MACRO_RE.sub(lambda m: m.group(1) if re.search(r"\d", m.group(1)) else " ", s)
    s = _DROP_RE.sub("", s).replace("{}", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("{,}", ",")
    s = s.replace("\\$", "").replace("$", "").replace("\\cdot", "*").replace("\\times", "*").replace("×", "*")
    s = _PERCENT_RE.sub("", s)
    s = _DEGREE_RE.sub("", s)
    for ch in _MINUS_CHARS:
        s = s.replace(ch, "-")
    s = _quantity_words(s)
    *lhs, s = _EQUALS_RE.split(s)  # "x = 5", "3 + 4 = 7": the value is what the last "=" gives
    if any(_LIST_SEP_RE.search(part) for part in lhs):
        return None  # "x = 5, y = 6" is two values
    s = s.strip()
    s = _LEADING_WORDS_RE.sub("", s)
    s = _TRAILING_UNITS_RE.sub("", s).strip().rstrip(".")
    # Spaces: "1 000" is a thousands group; between other digits they separate two numbers.
    s = _DIGIT_SPACE_RE.sub("\x00", s)
    s = _SPACED_GROUPS_RE.sub(lambda m: m.group().replace("\x00", ""), s)
    if "\x00" in s:
        return None
    s = "".join(s.split())
    return s or None


_VULGAR = {"\u00bd": (1, 2), "\u2153": (1, 3), "\u2154": (2, 3), "\u00bc": (1, 4), "\u00be": (3, 4), "\u215b": (1, 8)}
_VULGAR_RE = re.compile(r"(?<=\d)[ \t]*(?=[\u00bd\u2153\u2154\u00bc\u00be\u215b])")
_PART_DENOMINATORS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "eighth": 8}
_AND_PART_RE = re.compile(r"(?<=\d)[ \t]+and[ \t]+(a|one|two|three)[ \t-]+"
                          r"(half|thirds?|quarters?|fourths?|fifths?|eighths?)(?![A-Za-z])", re.I)
_MIXED_RE = re.compile(r"(?<![\d.,/])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d.])")
_TIMES_TEN_RE = re.compile(r"(?<=\d)[ \t]*[xX\u00b7][ \t]*(?=10[ \t]*(?:\^|\*\*))")
_SUPERSCRIPTS = str.maketrans("\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", "-0123456789")
_SUPERSCRIPT_RE = re.compile(r"(?<=\d)[\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+")
_PY_POWER_RE = re.compile(r"(?<=\d)[ \t]*\*\*[ \t]*(?=[+-]?\d|\{)")
_SCALES = {"hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
           "trillion": "1000000000000"}
_SCALE_RE = re.compile(r"(?<=[\d}])(?:[ \t]*-?[ \t]*(?:hundred|thousand|million|billion|trillion)(?![A-Za-z]))+", re.I)
_SCALE_WORD_RE = re.compile(r"[a-z]+", re.I)


def _part(m: re.Match[str]) -> str:
    count = {"a": 1, "one": 1, "two": 2, "three": 3}[m.group(1).lower()]
    word = m.group(2).lower()
    if word.endswith("s") != (count > 1):
        return m.group()  # "two half", "a thirds": not a quantity
    return f"\\frac{{{count}}}{{{_PART_DENOMINATORS[word.rstrip('s')]}}}"


def _quantity_words(s: str) -> str:
    """Rewrite the words and signs of a longer quantity into the parser's grammar: ``2 1/2`` and ``2½`` and
    ``2 and a half`` -> ``2\\frac{1}{2}``, ``3 x 10^5`` / ``3*10**5`` -> ``3*10^5``, ``2.5 thousand`` ->
    ``2.5*1000``."""
    if any(ch in s for ch in _VULGAR):
        s = _VULGAR_RE.sub("", s)
        for ch, (num, den) in _VULGAR.items():
            s = s.replace(ch, f"\\frac{{{num}}}{{{den}}}")
    s = _AND_PART_RE.sub(_part, s)
    s = _MIXED_RE.sub(r"\1\\frac{\2}{\3}", s)
    s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPTS) + "}", s)
    s = _TIMES_TEN_RE.sub("*", s)
    s = _PY_POWER_RE.sub("^", s)
    return _SCALE_RE.sub(lambda m: "".join("*" + _SCALES[w.lower()] for w in _SCALE_WORD_RE.findall(m.group())), s)


class _NotANumber(Exception):
    pass


class _LatexNumberParser:
    """Recursive descent over the cleaned text: signed products of powers of numbers, fractions, groups."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0

    def parse(self) -> Fraction:
        value = self.signed()
        if self.i != len(self.s):
            raise _NotANumber
        return value

    def peek(self, tok: str) -> bool:
        return self.s.startswith(tok, self.i)

    def eat(self, tok: str) -> bool:
        if self.s.startswith(tok, self.i):
            self.i += len(tok)
            return True
        return False

    def signed(self) -> Fraction:
        neg = False
        while self.peek("-") or self.peek("+"):
            neg ^= self.s[self.i] == "-"
            self.i += 1
        value = self.product()
        return -value if neg else value

    def product(self) -> Fraction:
        value = self.power()
        while True:
            if self.eat("*"):
                value = value * self.power()
            elif self.peek("/"):
                self.i += 1
                value = value / self.power()
            else:
                return value

    def power(self) -> Fraction:
        base = self.mixed()
        if not self.eat("^"):
            return base
        exp = self.group() if self.peek("{") else self.digit()
        if exp.denominator != 1 or abs(exp) > _MAX_EXPONENT:
            raise _NotANumber
        if base != 0 and abs(exp) * max(len(str(abs(base.numerator))), len(str(base.denominator))) > _MAX_DIGITS:
            raise _NotANumber
        return base ** int(exp)

    def mixed(self) -> Fraction:
        value = self.atom()
        if self.peek("\\frac") and value.denominator == 1 and self._was_integer:
            frac = self.atom()
            if frac < 0:
                raise _NotANumber
            value = value + frac if value >= 0 else value - frac
        return value

    def digit(self) -> Fraction:
        if self.i < len(self.s) and self.s[self.i].isdigit():
            self.i += 1
            return Fraction(int(self.s[self.i - 1]))
        raise _NotANumber

    def group(self, open_: str = "{", close: str = "}") -> Fraction:
        if not self.eat(open_):
            raise _NotANumber
        value = self.signed()
        if not self.eat(close):
            raise _NotANumber
        return value

    def atom(self) -> Fraction:
        self._was_integer = False
        if self.peek("{"):
            return self.group()
        if self.peek("("):
            return self.group("(", ")")
        if self.eat("\\frac"):
            num = self.group() if self.peek("{") else self.digit()
            den = self.group() if self.peek("{") else self.digit()
            return num / den
        m = _NUM_TOKEN_RE.match(self.s, self.i)
        if m is None:
            raise _NotANumber
        self.i = m.end()
        tok = m.group().replace(",", "")
        self._was_integer = "." not in tok and "e" not in tok.lower()
        mantissa, _, exponent = tok.lower().partition("e")
        value = Fraction(mantissa.rstrip(".") or "0")
        return value * Fraction(10) ** int(exponent) if exponent else value


def format_number(value: Fraction) -> str:
    """A canonical string for an exact value: ``"1000000"``, ``"-3.5"``, ``"7/3"`` (no finite decimal)."""
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value.numerator) * 10**places // value.denominator
    digits = str(scaled).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _last_number(text: str) -> str | None:
    """The last quantity in ``text`` read as one number (``"2 1/2 hours"`` is 2.5, never 2)."""
    last = None
    for last in _LAST_QUANTITY_RE.finditer(text):  # noqa: B007 - we want the final match
        pass
    return None if last is None else _read_quantity(last)


def _last_token(text: str) -> str | None:
    last = None
    for last in _NUMBER_RE.finditer(text):  # noqa: B007 - we want the final match
        pass
    return None if last is None else _token(last)


def _read_quantity(q: re.Match[str]) -> str:
    """A quantity match read as one number; its leading number when the rest does not read."""
    if q.group("num") is None or q.end() > q.end("num"):
        value = read_number(q.group())
        if value is not None:
            return value
    return _token(q) if q.group("num") is not None else None


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
            num = _last_token(tail)
        if num is None:
            raise ValueError(f"no number after '####' in GSM8K answer field: {tail.strip()[:80]!r}")
        return num
    num = normalize_number(answer_field)
    if num is None:
        raise ValueError(
            f"GSM8K answer field has no '####' marker and is not a bare number: {answer_field.strip()[:80]!r}"
        )
    return num


_RATIO_RE = re.compile(r"(-?\d+)/(\d+)")


def _to_fraction(x: object, name: str) -> Fraction | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a str, int or Decimal, got bool")
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, Decimal):
        return Fraction(x) if x.is_finite() else None
    if isinstance(x, float):
        return Fraction(Decimal(repr(x))) if _finite(x) else None
    if not isinstance(x, str):
        raise TypeError(f"{name} must be a str, int or Decimal, got {type(x).__name__}")
    s = normalize_number(x)
    if s is None:
        m = _RATIO_RE.fullmatch(x.strip())  # format_number's "7/3"
        return Fraction(int(m.group(1)), int(m.group(2))) if m and int(m.group(2)) else None
    try:
        return Fraction(Decimal(s))
    except (InvalidOperation, ValueError):  # pragma: no cover - normalize_number only yields valid ones
        return None


def _finite(x: float) -> bool:
    return x == x and x not in (float("inf"), float("-inf"))


def numbers_equal(pred: str | None, gold: str | int | Decimal) -> bool:
    """Exact numeric equality of two answers (``"18.0" == "18"``, ``"1,234" == "1234"``, ``"$5" == "5"``,
    ``"7/2" == "3.5"``). ``None`` or a non-numeric ``pred`` is simply ``False``.
    """
    p = _to_fraction(pred, "pred")
    g = _to_fraction(gold, "gold")
    if p is None or g is None:
        return False
    return p == g


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
