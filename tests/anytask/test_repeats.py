"""The trace layer on a ``repeats: n`` task as lm-eval installs it: ``gsm8k_cot_self_consistency`` (64 samples per
doc; pipelines ``score-first``, ``maj@64``, ``maj@8``), answered by the canned model with a mix of trace classes.

lm-eval scores each doc once per pipeline. On the answers: a truncated response gives no answer to vote with, and a
doc is zeroed only when the value it is scored on is that no-answer (its first response for ``score-first``), never
because its first response was truncated while a majority vote was won by valid answers. Rpass@1 pairs each doc's
primary value (``exact_match,answer/score-first``) with its first response; the trace rates count all 64.
"""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY, answer_of

from .runner import by_doc, run
from .specs import BY_TASK, responses, write_canned

TASK = "gsm8k_cot_self_consistency"
N = 64
VALID, VALID_WRONG, MISSING, TRUNCATED, EMPTY = responses("The answer is «gold».", "The answer is «wrong».")
DOCS = [
    [TRUNCATED] + [VALID] * (N - 1),  # first truncated, majority valid and right: maj@64 right, score-first none
    [VALID] + [TRUNCATED] * (N - 1),  # raw majority reads the gold inside 63 truncated traces; the answers do not
    [VALID_WRONG] * N,  # raw regex takes the gold out of the reasoning; the answer is wrong
    [TRUNCATED] * N,  # nothing to credit
    [VALID, MISSING, EMPTY, VALID] * (N // 4),  # right every time
]


def _lines(docs: list[list[str]]) -> list[dict]:
    return [{"task": TASK, "doc_id": i, "responses": list(r), "fill": True} for i, r in enumerate(docs)]


def test_self_consistency_task_with_the_layer(local_hub, tmp_path):
    spec = BY_TASK["gsm8k_cot_zeroshot"]  # same Hub dataset (openai/gsm8k, main): its local copy is in the cache
    gold = [row["gold"] for row in spec.splits["test"]]
    wrong = [row["wrong"] for row in spec.splits["test"]]
    out = run([TASK], write_canned(tmp_path / "canned.jsonl", _lines(DOCS)), layer=True)
    res, samples = out["results"][TASK], out["samples"][TASK]
    assert out["configs"][TASK]["metadata"]["thinkpack_primary"] == "exact_match,answer/score-first"
    texts = {i: s["resps"][0] for i, s in by_doc(samples, TRACE_KEY).items()}
    assert sorted(texts) == list(range(len(DOCS))) and all(len(t) == N for t in texts.values())
    for i, got in texts.items():
        assert got == [r.replace("«gold»", gold[i]).replace("«wrong»", wrong[i]) for r in DOCS[i]]

    # lm-eval's own metrics unchanged (raw: the gold read out of the truncated traces and the reasoning counts)
    plain = run([TASK], write_canned(tmp_path / "plain.jsonl", _lines(DOCS)), layer=False)
    raw_keys = [k for k in plain["results"][TASK] if "," in k and "_stderr" not in k]
    assert {k.split(",")[1] for k in raw_keys} == {"score-first", "maj@64", "maj@8"}
    for key in raw_keys:
        assert res[key] == pytest.approx(plain["results"][TASK][key]), key
    raw = {p: by_doc(plain["samples"][TASK], p) for p in ("score-first", "maj@64", "maj@8")}
    assert [raw["maj@64"][i]["exact_match"] for i in range(5)] == [1, 1, 1, 1, 1]
    assert [raw["score-first"][i]["exact_match"] for i in range(5)] == [1, 1, 1, 1, 1]

    # answer-only per doc: exactly the task on the answers alone
    traces = {i: [classify(t, "think") for t in texts[i]] for i in texts}
    answers = [[answer_of(t, tr, None) for t, tr in zip(texts[i], traces[i], strict=True)] for i in sorted(texts)]
    alone = run([TASK], write_canned(tmp_path / "alone.jsonl", _lines(answers)), layer=False)
    want = {p: [by_doc(alone["samples"][TASK], p)[i]["exact_match"] for i in range(5)]
            for p in ("score-first", "maj@64", "maj@8")}
    got = {p: [by_doc(samples, ANSWER_PREFIX + p)[i]["exact_match"] for i in range(5)]
           for p in ("score-first", "maj@64", "maj@8")}
    assert got == want
    assert got == {"score-first": [0, 1, 0, 0, 1], "maj@64": [1, 0, 0, 0, 1], "maj@8": [1, 0, 0, 0, 1]}
    for p, values in got.items():
        assert res[f"exact_match,{ANSWER_PREFIX}{p}"] == pytest.approx(sum(values) / 5)

    # trace rates over all 320 responses; Rpass@1 over the docs whose first response is valid (docs 1, 2, 4)
    flat = [tr.status.value for i in sorted(traces) for tr in traces[i]]
    for cls in ("valid", "empty", "missing", "truncated"):
        assert res[f"{cls}_trace_rate,{TRACE_KEY}"] == pytest.approx(flat.count(cls) / len(flat))
    assert res[f"rpass@1,{TRACE_KEY}"] == pytest.approx(2 / 3)
