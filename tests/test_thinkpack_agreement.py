"""Agreement with the study's reference library (``thinkpack`` 1.0.0 on PyPI) on ``<think>`` outputs.

Where the two definitions coincide the class, the reasoning and the answer must match exactly. Where we
differ on purpose, the difference is pinned here so it cannot drift silently:

1. Case: thinkpack matches tags ignoring case; we match the delimiter's exact spelling (``</THINK>`` is not
   the ``</think>`` token, and vLLM/SGLang would not split on it either).
2. Text before the opener (not prefilled): thinkpack counts it as reasoning; we keep it apart as
   ``Trace.preamble``, so ``"Sure. <think></think>42"`` is empty for us and valid for thinkpack.
3. Prefilled output with a later opener: thinkpack deletes the first opener from the reasoning text; we keep
   it (only an echoed opener at the very start is dropped). The class is the same.
4. Missing: thinkpack returns the answer unstripped; we strip it, as for every other class.
"""

from __future__ import annotations

import random

import pytest
from thinkpack.model import ModelInfo
from thinkpack.parse import parse

from lm_eval_thinkpack import classify

WORDS = ["so", "6*7", "=", "42", "wait", "\n", "  ", "The", "answer", "is", "Let", "me", "check:", "∑", "é", "😀",
         "\t", "\r\n", "<b>", "</b>", "thinking", "think"]


def _body(rng: random.Random, blank: bool) -> str:
    if blank:
        return rng.choice(["", " ", "\n", "\n\n", " \t\n"])
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) + rng.choice(["x", "42", "ok"])


def _generation(rng: random.Random, kind: str, prefilled: bool) -> str:
    lead = "" if prefilled else "<think>" + rng.choice(["", "\n"])
    if kind == "valid":
        return f"{lead}{_body(rng, False)}</think>{rng.choice(['', chr(10) * 2])}{_body(rng, rng.random() < 0.2)}"
    if kind == "empty":
        return f"{lead}{_body(rng, True)}</think>\n\n{_body(rng, False)}"
    if kind == "truncated":
        return f"{lead}{_body(rng, False)}"
    return _body(rng, False)  # missing (only reachable without a prefill)


def _ours(text: str, prefilled: bool) -> tuple[str, str, str]:
    t = classify(text, "think", prefilled=prefilled)
    return str(t.status), t.reasoning, t.answer


def _theirs(text: str, prefilled: bool) -> tuple[str, str, str]:
    p = parse(text, model_info=ModelInfo(prefixed=prefilled))
    status = next(name for name, flag in (("valid", p.has_valid_reasoning), ("empty", p.has_empty_reasoning),
                                          ("truncated", p.has_truncated_reasoning),
                                          ("missing", p.has_missing_reasoning)) if flag)
    return status, p.reasoning, p.answer.strip()


@pytest.mark.parametrize("prefilled", [False, True])
@pytest.mark.parametrize("kind", ["valid", "empty", "truncated", "missing"])
def test_agrees_with_thinkpack_on_random_think_outputs(kind: str, prefilled: bool) -> None:
    rng = random.Random(f"{kind}-{prefilled}")
    seen = set()
    for _ in range(300):
        text = _generation(rng, kind, prefilled)
        ours, theirs = _ours(text, prefilled), _theirs(text, prefilled)
        assert ours == theirs, f"disagreement on {text!r}: ours={ours} thinkpack={theirs}"
        seen.add(ours[0])
    expected = {"missing": "truncated"}.get(kind, kind) if prefilled else kind
    assert expected in seen


DIFFERENCES = [
    # (text, prefilled, ours, thinkpack) status pairs
    ("<THINK>x</THINK>42", False, "missing", "valid"),
    ("Sure. <think>\n\n</think>42", False, "empty", "valid"),
]


@pytest.mark.parametrize(("text", "prefilled", "ours", "theirs"), DIFFERENCES)
def test_documented_differences(text: str, prefilled: bool, ours: str, theirs: str) -> None:
    assert _ours(text, prefilled)[0] == ours
    assert _theirs(text, prefilled)[0] == theirs


def test_documented_difference_in_reasoning_text_only() -> None:
    text = "plan <think>more</think>42"
    assert _ours(text, True) == ("valid", "plan <think>more", "42")
    assert _theirs(text, True) == ("valid", "plan more", "42")
    assert classify("  42  ").answer == "42"
    assert parse("  42  ", model_info=ModelInfo(prefixed=False)).answer == "  42  "


# ------------------------------------------------------------------------------------------------- masking

MASKS = [("prompt+think+trace", "PROMPT|THINK"), ("think+trace", "THINK"), ("response", "RESPONSE"),
         ("prompt+response", "PROMPT|RESPONSE"), ("prompt", "PROMPT")]


def _trained(tok, row) -> str:
    return tok.decode([i for i, lab in zip(row["input_ids"], row["labels"], strict=True) if lab != -100])


@pytest.mark.parametrize(("ours", "theirs"), MASKS)
@pytest.mark.parametrize("traced", [True, False])
def test_masking_targets_agree_with_thinkpack_apply_mask(ours: str, theirs: str, traced: bool) -> None:
    """Same tokenizer and conversation, each of thinkpack's MaskType sets against ours: the trained text agrees
    (up to the final newline, which thinkpack's own rendering leaves out after the end-of-turn token).

    5. thinkpack's THINK is our think+trace; its PROMPT stops before a prefilled opener, ours covers it (pinned
       below on QwQ): the model never writes a prefilled opener, so we never train it.
    """
    from functools import reduce

    from thinkpack.mask import MaskType, apply_mask

    from lm_eval_thinkpack.masking import tokenize_conversation
    from tests.chat_fixtures import ANSWER, REASONING, case, make_tokenizer

    tok = make_tokenizer("qwen3")
    target = {"role": "assistant", "content": ANSWER, **({"reasoning": REASONING} if traced else {})}
    conv = case("qwen3").messages() + [target]
    flags = reduce(lambda a, b: a | b, (MaskType[n] for n in theirs.split("|")))
    mine = _trained(tok, tokenize_conversation(tok, conv, mask=ours, fmt="qwen3"))
    their = _trained(tok, apply_mask([conv], tok, masked=flags)[0])
    assert mine.rstrip("\n") == their.rstrip("\n")
    assert (REASONING in mine) == (traced and "trace" not in ours)


def test_masking_documented_difference_prefilled_opener() -> None:
    from thinkpack.mask import MaskType, apply_mask

    from lm_eval_thinkpack.masking import tokenize_conversation
    from tests.chat_fixtures import ANSWER, REASONING, case, make_tokenizer

    tok = make_tokenizer("qwq")  # the generation prompt ends '<think>\n'
    conv = case("qwq").messages() + [{"role": "assistant", "content": ANSWER, "reasoning": REASONING}]
    mine = _trained(tok, tokenize_conversation(tok, conv, mask="prompt+response", fmt="qwq"))
    their = _trained(tok, apply_mask([conv], tok, masked=MaskType.PROMPT | MaskType.RESPONSE)[0])
    assert their == "<think>\n" + mine.rstrip("\n") + "\n"
