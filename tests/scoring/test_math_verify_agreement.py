"""``check_math`` against Math-Verify 0.9.0's own test pairs (boxed predictions, default settings).

The pairs are restated as data in ``data/math_verify_pairs.json`` (source, scope and counts inside).
Measured on this branch: 95 of 95 agree; 78 of 95 before issue 10's fixes (an answer over several boxes,
a later "The final answer is $...$" after the last box, "32, 349" read as two numbers, a gold with several
boxes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lm_eval_thinkpack.scoring import check_math

DATA = json.loads((Path(__file__).parent / "data" / "math_verify_pairs.json").read_text())
PAIRS = [(p["test"], p["gold"], p["pred"], p["expected"]) for p in DATA["pairs"]]


def test_the_restated_pairs_are_complete():
    assert DATA["counts"] == {"pairs_in_math_verify_tests": 260, "in_scope": 95, "expected_match": 89}
    assert len(PAIRS) == 95 and sum(p[3] for p in PAIRS) == 89


IDS = [f"{p[0]}-{i}" for i, p in enumerate(PAIRS)]


@pytest.mark.parametrize(("source", "gold", "pred", "expected"), PAIRS, ids=IDS)
def test_agrees_with_math_verify(source, gold, pred, expected):
    res = check_math(pred, gold, timeout=30)
    assert res.error is None, res
    assert res.correct is expected, (source, res.extracted)


def test_math_verify_itself_gives_the_restated_verdicts():
    """The data is Math-Verify's verdict: checked with the installed math-verify in its tests' setup
    (LaTeX with boxed priority 0, then expressions; default verify settings)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    for source, gold, pred, expected in PAIRS:
        assert bool(verify(parse(gold, configs), parse(pred, configs))) is expected, (source, gold, pred)
