"""The trace layer on lm-eval's own task YAMLs as installed (never copies), their Hub data replaced by local
records, answered by the canned model in every trace class (``specs.py``).

For each task: lm-eval's own metrics are unchanged by the layer; each answer-only metric equals what the task
scores on the answers alone (a truncated trace has none and is never credited); the trace figures equal
``classify`` + ``trace_stats`` on the same texts; Rpass@1 is the primary metric over the valid-trace docs (its
mean for a graded metric: code2text's smoothed BLEU-4); and the
truncated trace that holds the gold is credited by lm-eval's ``think_end_token`` post-processing but not by the layer.
"""

from __future__ import annotations

import math

import pytest
from lm_eval.models.utils import postprocess_generated_text

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY, answer_of
from lm_eval_thinkpack.stats import trace_stats

from .runner import by_doc, run
from .specs import CLASSES, SPECS, Spec, write_canned

RATES = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate")


def _score(v) -> float:
    if isinstance(v, (list, tuple)):
        return sum(map(float, v)) / len(v)
    return float(v)


def _plain(spec: Spec, tmp_path, texts: dict[int, str], name: str) -> dict:
    """The task without the layer on the given texts (one per doc id)."""
    canned = write_canned(tmp_path / f"{name}.jsonl", [{"task": spec.task, "doc_id": i, "responses": [t]}
                                                       for i, t in texts.items()])
    return run([spec.task], canned, layer=False)


@pytest.mark.parametrize("spec", SPECS, ids=[s.task for s in SPECS])
def test_layer_on_installed_lm_eval_task(spec: Spec, local_hub, tmp_path):
    canned = write_canned(tmp_path / "canned.jsonl", spec.canned_lines())
    out = run([spec.task], canned, layer=True)
    res, samples = out["results"][spec.task], out["samples"][spec.task]
    trace_samples = by_doc(samples, TRACE_KEY)
    texts = {i: s["resps"][0][0] for i, s in sorted(trace_samples.items())}
    assert len(texts) == len(CLASSES)
    traces = {i: classify(t, "think") for i, t in texts.items()}
    assert [traces[i].status.value for i in sorted(traces)] == [
        "valid", "valid", "missing", "truncated", "empty"]
    assert out["configs"][spec.task]["metadata"]["thinkpack_primary"] == spec.primary

    # lm-eval's own metrics, unchanged: the same task without the layer gives the same numbers
    plain = _plain(spec, tmp_path, texts, "raw")["results"][spec.task]
    orig_keys = [k for k in plain if "," in k and "_stderr" not in k]
    assert orig_keys
    for key in orig_keys:
        assert res[key] == pytest.approx(plain[key]), key

    # answer-only = the task on the answers alone; a truncated trace is never credited
    answers = {i: answer_of(texts[i], traces[i], None) for i in texts}
    alone = _plain(spec, tmp_path, answers, "answers")
    alone_samples = alone["samples"][spec.task]
    metric, _, primary_key = spec.primary.partition(",")
    for key in orig_keys:
        name, _, pipe = key.partition(",")
        layer_docs = by_doc(samples, ANSWER_PREFIX + pipe)
        alone_docs = by_doc(alone_samples, pipe)
        for i in texts:
            want = alone_docs[i][name]
            got = layer_docs[i][name]
            if traces[i].status.value == "truncated":
                assert _score(got) == 0, (key, i)
            else:
                assert got == want, (key, i)
        if all(traces[i].status.value != "truncated" or _score(alone_docs[i][name]) == 0 for i in texts):
            assert res[f"{name},{ANSWER_PREFIX}{pipe}"] == pytest.approx(alone["results"][spec.task][key])

    # trace figures = classify + trace_stats on the same texts
    primary = by_doc(samples, primary_key)
    correct = [_score(primary[i][metric]) > 0 for i in sorted(texts)]
    stats = trace_stats([traces[i] for i in sorted(texts)], correct)
    for rate in RATES:
        assert res[f"{rate},{TRACE_KEY}"] == pytest.approx(stats.estimates[rate].value)
        assert res[f"{rate}_stderr,{TRACE_KEY}"] == pytest.approx(stats.estimates[rate].stderr)
    if all(_score(primary[i][metric]) in (0.0, 1.0) for i in texts):  # a 0/1 metric: the catalogue's Rpass@1
        assert res[f"rpass@1,{TRACE_KEY}"] == pytest.approx(stats.rpass_at_1)
    assert res[f"rpass@1,{TRACE_KEY}"] == pytest.approx(
        sum(_score(primary[i][metric]) for i in texts if traces[i].status.value == "valid") / 2)
    assert math.isnan(res[f"budget_exhausted_rate,{TRACE_KEY}"])  # the canned model gives no finish reason

    # lm-eval's think_end_token credits the truncated trace that holds the gold; the layer does not
    cut = {i: postprocess_generated_text(t, None, "</think>") for i, t in texts.items()}
    ended = by_doc(_plain(spec, tmp_path, cut, "think_end_token")["samples"][spec.task], primary_key.removeprefix(
        ANSWER_PREFIX))
    truncated = CLASSES.index("truncated")
    assert _score(ended[truncated][metric]) > 0  # 1 for a 0/1 metric
    assert _score(primary[truncated][metric]) == 0
