"""Issue 21: one last-answer rule for every scorer (``_text.last_answer``, README "How answers are read").

The answer is the last one given: of the last complete box and the last answer marker that reads an
answer, the later one; a box that opens after both and never closes (a generation cut inside its answer)
is no answer, never credited. Each case is run through ``number``, ``math`` and ``choice`` with the
same layout, so a scorer that read a different answer than the others fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lm_eval_thinkpack.scoring import (
    check_choice,
    check_math,
    check_number,
    extract_boxed,
    extract_choice,
    extract_number,
)

# (layout, which value is the answer: "first", "second" or None). {a} and {b} are filled with two answers.
LAYOUTS = [
    (r"\boxed{{{a}}} followed by Answer: {b}", "second"),
    ("\\boxed{{{a}}}\n\nAnswer: {b}", "second"),
    ("\\boxed{{{a}}}\n**Final Answer:** {b}", "second"),
    ("$\\boxed{{{a}}}$. Hmm, no. The final answer is {b}.", "second"),
    (r"\fbox{{{a}}} ... The answer is: {b}", "second"),
    ("Answer: {a}\nLet me double-check... \\boxed{{{b}}}", "second"),
    ("The answer is {a}. Wait, recheck. So the answer is $\\boxed{{{b}}}$.", "second"),
    ("Answer: {a}. Hmm. Answer: {b}", "second"),
    (r"\boxed{{{a}}} no wait \boxed{{{b}}}", "second"),
    # the marker announces the box that follows it
    ("The answer is \\boxed{{{a}}}.", "first"),
    ("**Final Answer**: $\\boxed{{{a}}}$", "first"),
    # a box cut before its closing brace is no answer, whatever came before it
    (r"The answer is \boxed{{{a}", None),
    (r"Answer: $\boxed{{{a}", None),
    (r"\boxed{{{a}}}. On reflection the answer is \boxed{{{b}", None),
    ("Answer: {a}\n\\fbox{{{b}", None),
    (r"The answer is \boxed{{", None),
    # ... unless a complete box comes after it
    (r"The answer is \boxed{{{a} ... let me redo that: \boxed{{{b}}}", "second"),
]

IDS = [re.sub(r"\W+", "_", layout)[:40] + f"-{i}" for i, (layout, _) in enumerate(LAYOUTS)]


def _expected(which, a, b):
    return {"first": a, "second": b, None: None}[which]


@pytest.mark.parametrize(("layout", "which"), LAYOUTS, ids=IDS)
def test_number_reads_the_last_answer_given(layout, which):
    text = layout.format(a="6", b="64")
    assert extract_number(text) == _expected(which, "6", "64")
    if which is None:
        assert not check_number(text, "6").correct and not check_number(text, "64").correct


@pytest.mark.parametrize(("layout", "which"), LAYOUTS, ids=IDS)
def test_math_reads_the_last_answer_given(layout, which):
    text = layout.format(a="6", b="64")
    assert extract_boxed(text) == _expected(which, "6", "64")
    if which is None:
        assert not check_math(text, "6", timeout=30).correct and not check_math(text, "64", timeout=30).correct


@pytest.mark.parametrize(("layout", "which"), LAYOUTS, ids=IDS)
def test_choice_reads_the_last_answer_given(layout, which):
    text = layout.format(a="C", b="D")
    assert extract_choice(text) == _expected(which, "C", "D")
    if which is None:
        assert not check_choice(text, "C").correct and not check_choice(text, "D").correct


@pytest.mark.parametrize(
    ("text", "number", "math", "choice"),
    [
        # a box cut off at the end of a long answer after an earlier, complete one
        ("\\boxed{6}. Hmm, the total budget is \\boxed{6", None, None, None),
        # a later phrase that does not give an answer leaves the box the answer
        ("\\boxed{6}. So the answer is as expected.", "6", "6", None),
        ("\\boxed{C}. So the answer is as expected.", None, "C", "C"),
        ("\\boxed{C} ... although the answer is B might be tempting", None, "C", "C"),
    ],
)
def test_a_later_phrase_without_an_answer_is_not_an_answer(text, number, math, choice):
    assert extract_number(text) == number
    assert extract_boxed(text) == math
    assert extract_choice(text) == choice


def test_the_rule_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = " ".join(readme.split("### How answers are read", 1)[1].split("\n### ", 1)[0].split())
    for scorer in ("`number`", "`math`", "`choice`"):
        assert scorer in section
    assert "last answer given" in section and "never closes" in section
