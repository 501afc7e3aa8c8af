"""Multiple-choice letter extraction (GPQA / MMLU-style)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.scoring import ScoreResult, check_choice, extract_choice

CASES = [
    ("Answer: C", "C"),
    ("ANSWER: B", "B"),
    ("**Answer:** **C**", "C"),
    ("Answer: (D)", "D"),
    ("The correct answer is (B).", "B"),
    ("so the answer is B", "B"),
    ("The answer is: Option B", "B"),
    ("Therefore, the correct choice is **D**.", "D"),
    ("The answer would be $\\text{C}$", "C"),
    (r"$\boxed{D}$", "D"),
    (r"\boxed{\text{(A)}}", "A"),
    (r"The final answer is $\boxed{\textbf{B}}$", "B"),
    # boxed wins over a later phrase; phrase wins over a later bare letter
    (r"\boxed{C} ... although the answer is B might be tempting", "C"),
    ("Answer: B. Option D is a distractor, and so is C", "B"),
    # the last phrase wins
    ("At first the answer is A. On reflection, the answer is D.", "D"),
    # parenthesised letters
    ("Between (A) and (C), (C) fits the data.", "C"),
    # last standalone letter
    ("I pick A.", "A"),
    ("A", "A"),
    ("After eliminating the others I go with B", "B"),
    ("A good approach is elimination. I think D", "D"),  # article "A" skipped
    ("Answer: Clearly it is D", "D"),  # "Clearly" is not the letter C
    # not answers
    ("a lowercase article a is not a choice", None),
    ("The ABCs of chemistry", None),
    ("nothing here", None),
    ("", None),
    (None, None),
    ("The answer is E", None),  # outside ABCD
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_choice(text, expected):
    assert extract_choice(text) == expected


def test_more_letters():
    assert extract_choice("Answer: H", "ABCDEFGHIJ") == "H"
    assert extract_choice("Answer: H") is None or extract_choice("Answer: H") in "ABCD"
    assert extract_choice("(E) is right", "ABCDE") == "E"


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        ("Answer: C", "C", ScoreResult(True, "C", None)),
        ("Answer: C", "(c)", ScoreResult(True, "C", None)),
        ("Answer: C", " c ", ScoreResult(True, "C", None)),
        ("Answer: B", "C", ScoreResult(False, "B", None)),
        ("I don't know", "C", ScoreResult(False, None, None)),
    ],
)
def test_check_choice(text, gold, expected):
    assert check_choice(text, gold) == expected


@pytest.mark.parametrize(
    ("gold", "letters", "exc"),
    [
        ("E", "ABCD", ValueError),
        ("AB", "ABCD", ValueError),
        ("", "ABCD", ValueError),
        (3, "ABCD", TypeError),
        ("A", "", ValueError),
        ("A", "abcd", ValueError),
        ("A", "AAB", ValueError),
        ("A", ["A", "B"], TypeError),
    ],
)
def test_check_choice_argument_errors(gold, letters, exc):
    with pytest.raises(exc):
        check_choice("Answer: A", gold, letters)


def test_extract_choice_type_error():
    with pytest.raises(TypeError):
        extract_choice(42)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(["ABCD", "ABCDE", "ABCDEFGHIJ"]))
def test_never_raises(text, letters):
    out = extract_choice(text, letters)
    assert out is None or (len(out) == 1 and out in letters)
    assert isinstance(check_choice(text, "A", letters).correct, bool)


HOSTILE = {
    "phrase_then_spaces": "answer is" + " " * 200_000,
    "phrase_then_stars": "answer " + "*" * 200_000,
    "many_phrases": "The answer is " * 50_000,
    "parens": "(A" * 200_000,
    "one_megabyte": ("Some reasoning about option B and C. " * 30_000)[:1_000_000],
    "boxes": "\\boxed{" * 10_000,
    "letters": "A " * 300_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_inputs(text):
    out = extract_choice(text)
    assert out is None or out in "ABCD"


# ---------------------------------------------------------------- issue 10: lower-case letters, hedged answers

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: (c)", "C"),
        ("**Answer: (d)**", "D"),
        ("The answer is (b)", "B"),
        ("Answer: [a]", "A"),
        ("Answer: c.", "C"),
        (r"\boxed{c}", "C"),
        ("the answer is a bit tricky. I choose D", "D"),  # the article is still not a choice
        ("The answer is a compound that", None),
    ],
)
def test_lower_case_letters_where_they_cannot_be_the_article(text, expected):
    assert extract_choice(text) == expected


HEDGES = [
    ("Answer: B or C", "BC"),
    ("Both A and C", "AC"),
    ("Both A and C are correct.", "AC"),
    ("Answer: A, C", "AC"),
    ("The answer is B/C", "BC"),
    ("The answer is C and D", "CD"),
    ("either (B) or (D)", "BD"),
    (r"\boxed{B, C}", "BC"),
    (r"\boxed{B \text{ or } C}", "BC"),
    (r"\boxed{B} or \boxed{C}", "BC"),
    ("Answer: (b) or (c)", "BC"),
    ("Answer: A, C.", "AC"),
    ("Answer: A, C and D", "AC"),
]


@pytest.mark.parametrize(("text", "offered"), HEDGES)
def test_hedged_answers_get_no_credit(text, offered):
    assert extract_choice(text) is None
    for gold in offered:  # whichever of the offered letters is right, a hedge scores wrong
        r = check_choice(text, gold)
        assert r == ScoreResult(False, f"{offered[0]} or {offered[1]}", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'd say A or B, but the answer is C", "C"),  # the hedge is not next to the chosen letter
        ("Answer: B, because C is wrong", "B"),
        ("Answer: C and C only", "C"),
        ("Answer: C\nA and B are wrong", "C"),
        ("Answer: B, C is wrong", "B"),  # a comma joins a list only where the list ends
        ("I rejected A, C is right", "C"),
    ],
)
def test_not_hedges(text, expected):
    assert extract_choice(text) == expected


# ---------------------------------------------------------------- issue 21: words between the marker and the letter

@pytest.mark.parametrize(
    "text",
    [
        "The answer is for sure D, it can't be A or B",
        "The answer is definitely D, not A or B.",
        "The answer is most likely D; A and B are ruled out.",
        "The answer is clearly (D), since A or B would contradict the data",
        "Answer: probably D, because A or C fail",
        "The correct answer is undoubtedly D and neither A nor B",
        "The answer is, without a doubt, D. A or B are traps.",
        "So the answer must be option D, never A or B",
        "The answer would be certainly D (A or B are wrong)",
        "The answer here is D, not A or B",
        "The correct answer to this question is D, not A or B",
        "The answer is, I believe, D; not A or B",
        "Answer: I'd go with D, not A or B",
        "So the answer should definitely be D, not A or B.",
        "The final answer for this one is: D, not A or B",
    ],
)
def test_a_hedge_word_between_marker_and_letter_reads_the_letter(text):
    assert extract_choice(text) == "D"
    assert check_choice(text, "D").correct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is not A, it is D", "D"),
        ("The answer is definitely not B. I pick C", "C"),
        ("The answer is never A; it is C.", "C"),
    ],
)
def test_a_negation_is_not_a_hedge_word(text, expected):
    assert extract_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Looking at the answer options: A is wrong. So I pick C.", "C"),
        ("The answer choices are A, B, C, D. I pick C.", "C"),
        ("The answer can't be A. It is C.", "C"),
    ],
)
def test_words_after_answer_that_do_not_announce_one(text, expected):
    assert extract_choice(text) == expected
