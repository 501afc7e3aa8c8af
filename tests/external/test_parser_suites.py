"""The serving engines' own reasoning-parser test shapes (``parser_shapes.py``), read by our classifier.

Every shape either agrees with what the engine's test asserts (reasoning and content, compared stripped, None as
"") or is a documented difference (``DOCUMENTED``, with the reason); a shape that is neither is a real difference
and fails here. The agreement count is a floor: it only goes up.
"""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import classify

from .parser_shapes import DOCUMENTED, SHAPES, Shape

AGREE_FLOOR = 49  # of 49 shapes (issue 21: 47 before Cohere's citation markup was taken out of both pieces)


def _ours(s: Shape) -> tuple[str, str]:
    t = classify(s.text, s.family, prefilled=s.prefilled)
    return t.reasoning, t.answer


def _theirs(s: Shape) -> tuple[str, str]:
    return (s.reasoning or "").strip(), (s.content or "").strip()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.source)
def test_engine_test_shape(shape: Shape) -> None:
    ours, theirs = _ours(shape), _theirs(shape)
    if shape.source in DOCUMENTED:
        assert ours != theirs, f"documented difference no longer differs (drop it): {shape.source}"
    else:
        assert ours == theirs, f"{shape.source}: ours {ours!r}, the engine's test {theirs!r}"


def test_agreement_floor_and_no_stale_documentation() -> None:
    agree = sum(_ours(s) == _theirs(s) for s in SHAPES)
    assert agree >= AGREE_FLOOR, f"{agree} of {len(SHAPES)} shapes agree, the floor is {AGREE_FLOOR}"
    assert set(DOCUMENTED) <= {s.source for s in SHAPES}
    assert len({s.source for s in SHAPES}) == len(SHAPES)
