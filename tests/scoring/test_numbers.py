"""GSM8K-style numeric extraction and comparison."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.scoring import (
    ScoreResult,
    check_number,
    extract_number,
    normalize_number,
    numbers_equal,
    parse_gold_gsm8k,
)

EXTRACT_CASES = [
    # explicit markers win over later numbers
    ("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\n#### 72", "72"),
    ("#### 1,234", "1234"),
    ("The answer is 18.", "18"),
    ("The answer is $1,234.50.", "1234.50"),
    ("Answer: -3", "-3"),
    ("Answer: \u22125", "-5"),
    ("**Answer:** 9 apples (after eating 2)", "9"),
    ("Answer: **42**", "42"),
    ("The final answer is: 50%", "50"),
    ("So the answer is $\\$5$ per hour, for 3 hours", "5"),
    ("The answer is 7 and not 8 because 8 > 7", "7"),
    ("Answer: 12\nWait, let me recheck: 2 + 3 = 5.\nAnswer: 15", "15"),
    # boxed
    ("Therefore she earns $\\boxed{72}$ dollars, not 70.", "72"),
    ("\\boxed{\\$1{,}000}", "1000"),
    ("\\boxed{18 \\text{ eggs}} and 3 more", "18"),
    ("\\boxed{\\text{18}}", "18"),
    # last number fallback
    ("Janet has 16 eggs, eats 3 and bakes with 4, so 16 - 3 - 4 = 9 left, sells them for 18 dollars", "18"),
    ("10-3=7", "7"),
    ("He pays 5-3 = 2 dollars", "2"),
    ("It costs 0.5 dollars.", "0.5"),
    ("So .75 of them", ".75"),
    ("The temperature was -12", "-12"),
    ("I count 1,2,3", "3"),
    ("The total is 1{,}000", "1000"),
    ("She has 3.", "3"),
    # nothing
    ("no numbers here at all", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACT_CASES)
def test_extract_number(text, expected):
    assert extract_number(text) == expected


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("18", "18", True),
        ("18.0", "18", True),
        ("18.00", "18", True),
        ("1234", "1,234", True),
        ("$5", "5", True),
        ("-3", "-3", True),
        ("033", "33", True),
        ("0.5", ".5", True),
        ("17", "18", False),
        ("-18", "18", False),
        ("18.01", "18", False),
        ("1.8", "18", False),
        (None, "18", False),
        ("eighteen", "18", False),
        ("", "18", False),
        ("18", 18, True),
        ("18.0", Decimal("18"), True),
    ],
)
def test_numbers_equal(pred, gold, expected):
    assert numbers_equal(pred, gold) is expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72"),
        ("... #### 1,000", "1000"),
        ("####  -5 ", "-5"),
        ("#### 3.50", "3.50"),
        ("42", "42"),
    ],
)
def test_parse_gold_gsm8k(field, expected):
    assert parse_gold_gsm8k(field) == expected


def test_parse_gold_gsm8k_errors():
    with pytest.raises(ValueError, match="####"):
        parse_gold_gsm8k("no marker and not a number")
    with pytest.raises(ValueError, match="no number"):
        parse_gold_gsm8k("text #### none")
    with pytest.raises(TypeError):
        parse_gold_gsm8k(72)  # type: ignore[arg-type]


def test_normalize_number():
    assert normalize_number(" $1,234. ") == "1234"
    assert normalize_number("+7") == "7"
    assert normalize_number("50\\%") == "50"
    assert normalize_number("$ - 5") == "-5"
    assert normalize_number("1 2") is None
    assert normalize_number("abc") is None


def test_check_number():
    text = "She makes 9 * 2 = 18 dollars.\n#### 18"
    assert check_number(text, parse_gold_gsm8k("blah\n#### 18")) == ScoreResult(True, "18", None)
    assert check_number("The answer is 17.", "18") == ScoreResult(False, "17", None)
    assert check_number("no idea", "18") == ScoreResult(False, None, None)


@pytest.mark.parametrize("bad", [1.5j, [], object()])
def test_type_errors(bad):
    with pytest.raises(TypeError):
        extract_number(bad)
    with pytest.raises(TypeError):
        numbers_equal("1", bad)


def test_bool_gold_rejected():
    with pytest.raises(TypeError):
        numbers_equal("1", True)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text):
    result = extract_number(text)
    assert result is None or isinstance(result, str)
    if result is not None:
        assert numbers_equal(result, result)
    assert isinstance(numbers_equal(text, "1"), bool)
    assert isinstance(check_number(text, "1").correct, bool)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["", ".", " dollars.", "!"]))
def test_roundtrip_integers(n, suffix):
    text = f"Let me think. 3 + 4 = 7. The answer is {n:,}{suffix}"
    assert numbers_equal(extract_number(text), str(n))


HOSTILE = [
    "answer is" + " " * 100_000 + "\n",
    "Answer: " * 20_000,
    "1" * 100_000 + "x",
    "-" * 100_000 + "1",
    "1,000" * 20_000,
    "\\boxed{" * 10_000,
    ("The answer is 42 because " * 40_000)[:1_000_000],
    "$" * 100_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_return(text):
    result = extract_number(text)
    assert result is None or isinstance(result, str)


# ---------------------------------------------------------------- issue 10: the last answer signal, LaTeX numbers

LATEX_CASES = [
    # the final box outranks an earlier marker; a later marker outranks an earlier box
    ("The answer is 18. Wait, recheck: 9*14 = 126, so \\boxed{126}", "126"),
    ("\\boxed{18}. Hmm, actually the answer is 126.", "126"),
    ("The answer is \\boxed{126}.", "126"),
    # a box is one number, never its last digits
    (r"\boxed{\frac{1}{2}}", "0.5"),
    (r"\boxed{\dfrac{3}{4}}", "0.75"),
    (r"\boxed{\tfrac{7}{2}}", "3.5"),
    (r"\boxed{\frac{7}{2}}", "3.5"),
    (r"\boxed{\frac12}", "0.5"),
    (r"\boxed{-\frac{1}{2}}", "-0.5"),
    (r"\boxed{\frac{-1}{2}}", "-0.5"),
    (r"\boxed{\frac{7}{3}}", "7/3"),
    (r"\boxed{2\frac{1}{2}}", "2.5"),
    (r"\boxed{-2\frac{1}{2}}", "-2.5"),
    (r"\boxed{10^6}", "1000000"),
    (r"\boxed{2^{10}}", "1024"),
    (r"\boxed{1.5 \times 10^{6}}", "1500000"),
    (r"\boxed{3 \cdot 10^3}", "3000"),
    # thousands separators and spaces
    (r"\boxed{1\,000}", "1000"),
    (r"$\boxed{1\,000}$ dollars", "1000"),
    (r"\boxed{1{,}234{,}567}", "1234567"),
    (r"\boxed{1,234.56}", "1234.56"),
    (r"\boxed{1 000 000}", "1000000"),
    # currency, percent, degrees, units, text, a left-hand side, Unicode minus, parentheses
    (r"\boxed{\$18.00}", "18.00"),
    (r"\boxed{25\%}", "25"),
    (r"\boxed{90^\circ}", "90"),
    (r"\boxed{18 \text{ dollars}}", "18"),
    (r"\boxed{5\,\mathrm{cm}^2}", "5"),
    (r"\boxed{12 apples}", "12"),
    (r"\boxed{5cm}", "5"),
    (r"\boxed{\text{Janet makes } \$18}", "18"),
    (r"\boxed{x = 5}", "5"),
    ("\\boxed{\u22127}", "-7"),
    (r"\boxed{(5)}", "5"),
    # a box that is not one number gives nothing (not its last number)
    (r"\boxed{5 \text{ or } 6}", None),
    (r"\boxed{3, 4}", None),
    (r"\boxed{2x}", None),
    (r"\boxed{\sqrt{2}}", None),
    (r"\boxed{\frac{1}{0}}", None),
    (r"\boxed{10^{10^{10}}}", None),
    (r"So 3 + 4 = 7 and \boxed{\text{seven}}", None),
    (r"\boxed{x=5, y=6}", None),
    (r"\boxed{x = 1,000}", "1000"),
    (r"\boxed{3 + 4 = 7}", "7"),
    (r"\boxed{1.5e6}", "1500000"),
    (r"\boxed{1{\,}000}", "1000"),
    (r"\boxed{45^{\circ}}", "45"),
    (r"\boxed{\approx 3.14}", "3.14"),
    (r"\boxed{\left(-5\right)}", "-5"),
    (r"\boxed{18 \text{ dollars and } 50 \text{ cents}}", None),
    # markers read their math as one number too
    ("The answer is $\\frac{7}{2}$.", "3.5"),
    ("The answer is 10^6.", "1000000"),
    ("Answer: 2/3 of them", "2/3"),
    ("The answer is 10^{6} dollars, since", "1000000"),
]


@pytest.mark.parametrize(("text", "expected"), LATEX_CASES)
def test_extract_number_reads_the_final_latex_number(text, expected):
    assert extract_number(text) == expected


def test_check_number_on_latex_boxes():
    assert check_number("The answer is 18... no: \\boxed{126}", "126").correct
    assert check_number(r"\boxed{\frac{1}{2}}", "0.5").correct
    assert not check_number(r"\boxed{\frac{1}{2}}", "2").correct
    assert not check_number(r"\boxed{10^6}", "6").correct
    assert check_number(r"\boxed{10^6}", "1000000").correct
    assert check_number(r"\boxed{1\,000}", "1000").correct
    assert check_number(r"\boxed{\frac{7}{3}}", "7/3").extracted == "7/3"
    assert numbers_equal("7/2", "3.5") and not numbers_equal("7/3", "2.333333")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=1, max_value=10**4))
def test_fractions_read_exactly(num, den):
    from fractions import Fraction

    from lm_eval_thinkpack.scoring.numbers import format_number, parse_latex_number

    text = f"so the total is \\boxed{{\\frac{{{num}}}{{{den}}}}}"
    assert parse_latex_number(f"\\frac{{{num}}}{{{den}}}") == Fraction(num, den)
    assert numbers_equal(extract_number(text), format_number(Fraction(num, den)))


_LATEX_SOUP = st.sampled_from(
    ["\\frac", "\\dfrac", "{", "}", "^", "1", "2", "0", "9", "-", "+", ".", ",", "{,}", "\\,", "\\!", " ", "\\%", "%",
     "\\$", "$", "\\text{", "\\mathrm{", "cm", "x", "=", "\\times", "\\cdot", "(", ")", "\\boxed{", "\u2212", "e",
     "The answer is ", "####", "\\circ", "/", "\\sqrt", "or", "and"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_LATEX_SOUP, max_size=16).map("".join))
def test_latex_soup_never_raises(text):
    from lm_eval_thinkpack.scoring.numbers import parse_latex_number, read_number

    result = extract_number(text)
    assert result is None or numbers_equal(result, result)
    value = parse_latex_number(text)
    assert value is None or read_number(text) is not None
    assert isinstance(check_number(text, "1").correct, bool)


# ---------------------------------------------------------------- issue 21: a longer quantity is read whole

QUANTITIES = [
    # (quantity, value): each is tried after a marker, in a box, and as the last quantity of plain prose
    ("2 1/2", "2.5"),
    ("-2 1/2", "-2.5"),
    ("10 3/4", "10.75"),
    ("2\u00bd", "2.5"),
    ("3/4", "0.75"),
    ("1 million", "1000000"),
    ("2.5 thousand", "2500"),
    ("1.5 billion", "1500000000"),
    ("5 hundred thousand", "500000"),
    ("3 x 10^5", "300000"),
    ("3 \u00d7 10^5", "300000"),
    ("3*10**5", "300000"),
    ("2.5 \\times 10^{3}", "2500"),
    ("1e6", "1000000"),
    ("2.5E3", "2500"),
    ("2 and a half", "2.5"),
    ("3 and three quarters", "3.75"),
    ("4 and one-third", "13/3"),
    ("$1.5 million", "1500000"),
    ("3 \u00d7 10\u2075", "300000"),
    ("10\u00b2", "100"),
    ("12 \\frac{1}{2}", "12.5"),
    ("\\tfrac34", "0.75"),
]


@pytest.mark.parametrize(("quantity", "value"), QUANTITIES)
@pytest.mark.parametrize(
    "layout",
    [
        "The answer is {q}.",
        "Answer: {q} hours",
        "#### {q}",
        "So she needs {q} cups of flour in total.",
        "First 2 cups, then 3 more, so {q} cups",
    ],
)
def test_a_longer_quantity_is_read_whole(layout, quantity, value):
    text = layout.format(q=quantity)
    assert extract_number(text) == value, text
    assert check_number(text, value).correct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He drank 3/4 of a gallon", "0.75"),
        ("Answer: 3/4 of a cup", "0.75"),
        ("It takes 2 and a half hours", "2.5"),
        ("The answer is 2 1/2 hours, not 2.", "2.5"),
        # not a longer quantity: a list, a range, a count then a fraction of something else
        ("I count 1, 2 and 3", "3"),
        ("The answer is 7 and not 8 because 8 > 7", "7"),
        ("Natalia sold 48/2 = 24 clips", "24"),
        ("between 2 and 3 hours", "3"),
        ("2 and a half-hour breaks", "2.5"),
        ("two thirds of 9 is 6", "6"),
    ],
)
def test_quantities_in_context(text, expected):
    assert extract_number(text) == expected
