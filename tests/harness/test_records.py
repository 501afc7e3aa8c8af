"""The filter's records (offsets, no text), record_fields on old and new logs, scoring in the filter, bad samples,
budget exhaustion from the finish reason, and the aggregation cache. In-process, no CLI."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.classify import classify
from lm_eval_thinkpack.formats import FORMATS, get_format
from lm_eval_thinkpack.harness import filters, metrics
from lm_eval_thinkpack.harness.filters import (
    RecordError,
    TraceFilter,
    Verdict,
    encode_record,
    parse_record,
    record_fields,
)
from lm_eval_thinkpack.harness.metrics import DocRow, process_results, rows_stats
from lm_eval_thinkpack.scoring import ScoreResult, registry


class Resp(str):
    """A response as thinkpack's engines return it: text carrying the generation's finish reason."""

    finish_reason: str | None = None

    def __new__(cls, text: str, finish_reason: str | None = None) -> Resp:
        obj = super().__new__(cls, text)
        obj.finish_reason = finish_reason
        return obj


def _doc(i: int = 0, scorer: str = "number", fmt: str = "think", prefilled: bool = False) -> dict:
    return {"thinkpack_id": f"q{i}", "thinkpack_gold": "7", "thinkpack_scorer": scorer, "thinkpack_format": fmt,
            "thinkpack_prefilled": prefilled, "thinkpack_timeout": None}


def _run(resps_per_doc, docs):
    filtered = TraceFilter().apply(resps_per_doc, docs)
    per_doc = [process_results(d, [f]) for d, f in zip(docs, filtered, strict=True)]
    return filtered, per_doc


def _agg(per_doc, key):
    return metrics.AGGREGATIONS[key]([r[key] for r in per_doc])


@pytest.fixture
def scratch_registry(monkeypatch):
    """Scorers registered by a test vanish after it."""
    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))
    return registry


# -------------------------------------------------------------------------------------- offsets, records

_PIECES = st.sampled_from(["<think>", "</think>", "<seed:think>", "</seed:think>", "[THINK]", "[/THINK]",
                           "<|channel|>analysis<|message|>", "<|end|>", "<|start|>assistant<|channel|>final<|message|>",
                           "<tool_call>", "<answer>", "</answer>", " ", "\n", "\r\n", "\t", "\u00a0", "\u2003",
                           "x", "so 7", "\\boxed{7}", "é", "日本", "🙂"])
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=14).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, fmt=st.sampled_from(sorted(FORMATS)), prefilled=st.booleans())
def test_offsets_and_record_fields_rebuild_every_piece(text, fmt, prefilled):
    trace = classify(text, fmt, prefilled=prefilled)
    offs = trace.offsets()
    assert text[slice(*offs["reasoning"])] == trace.reasoning
    assert text[slice(*offs["answer"])] == trace.answer
    assert text[slice(*offs["preamble"])] == trace.preamble
    rec = encode_record(trace, Verdict(True, "7"))
    got = record_fields(rec, text)
    assert (got["status"], got["reasoning"], got["answer"], got["preamble"], got["text"]) == (
        trace.status.value, trace.reasoning, trace.answer, trace.preamble, text)
    assert got["format"] == get_format(fmt).name and got["blocks"] == trace.blocks
    # the logged sample goes through JSON; offsets are code points, so they survive it
    assert record_fields(json.loads(json.dumps(rec)), json.loads(json.dumps(text, ensure_ascii=True)))["answer"] == (
        trace.answer)


def test_record_holds_no_copy_of_the_text():
    reasoning = "step " * 200_000  # 1 MB
    text = f"<think>\n{reasoning}\n</think>\n\nthe answer is \\boxed{{7}}"
    (rec,), = TraceFilter().apply([[text]], [_doc()])
    assert len(rec) < 400 and "step" not in rec
    fields = record_fields(rec, text)
    assert fields["reasoning"] == reasoning.strip() and fields["answer"] == "the answer is \\boxed{7}"
    assert fields["correct"] is True and fields["extracted"] == "7"


def test_record_fields_reads_version_1_records_of_older_logs():
    old = json.dumps({"status": "valid", "answer": "\\boxed{7}", "reasoning": "r", "text": "<think>r</think>\\boxed{7}",
                      "format": "think", "prefilled": False, "budget_exhausted": False, "preamble": "", "blocks": 1})
    got = record_fields(old, "<think>r</think>\\boxed{7}")
    assert (got["status"], got["reasoning"], got["answer"], got["text"], got["version"]) == (
        "valid", "r", "\\boxed{7}", "<think>r</think>\\boxed{7}", 1)


def test_record_fields_refuses_the_wrong_response_and_non_records():
    (rec,), = TraceFilter().apply([["<think>a long trace</think> \\boxed{7}"]], [_doc()])
    with pytest.raises(RecordError, match="resps entry"):
        record_fields(rec, "short")
    with pytest.raises(RecordError, match="thinkpack_trace filter"):
        parse_record("7")  # what a plain lm-eval filter leaves
    with pytest.raises(RecordError, match="thinkpack_trace filter"):
        process_results(_doc(), [["not json"]])


# ---------------------------------------------------------------------------------------- bad samples

def test_bad_responses_never_stop_the_run_and_never_count_against_the_model():
    docs = [_doc(i) for i in range(4)]
    resps = [["<think>a</think>\\boxed{7}"], [None], [42], [["<think>a</think>\\boxed{7}"]]]
    filtered, per_doc = _run(resps, docs)
    recs = [parse_record(f[0]) for f in filtered]
    assert [r["harness_error"] for r in recs] == [False, True, True, True]
    assert [r["error"] for r in recs] == [None, "no_response", "response_not_text:int", "response_not_text:list"]
    assert _agg(per_doc, "harness_errors") == 3 and _agg(per_doc, "scoring_errors") == 0
    assert _agg(per_doc, "pass@1") == 1.0 and _agg(per_doc, "rpass@1") == 1.0  # only the real answer is scored
    assert _agg(per_doc, "pass@1_stderr") == 0.0
    # the logged resps entry is str() of what came back; record_fields gives the text the record classified
    assert record_fields(filtered[1][0], "None")["text"] == ""


def test_scorer_harness_fault_is_not_scored_and_counted(scratch_registry):
    @scratch_registry.register_scorer("test_flaky")
    def flaky(answer, doc):
        if doc["thinkpack_id"] == "q1":
            return ScoreResult(False, None, "worker_died", harness_error=True)
        return ScoreResult(True, "7")

    docs = [_doc(i, scorer="test_flaky") for i in range(3)]
    _, per_doc = _run([["<think>a</think>7"]] * 3, docs)
    row = per_doc[1]["pass@1"]
    assert row["correct"] == [None] and row["harness_error"] == ["worker_died"] and row["scoring_error"] == [None]
    assert _agg(per_doc, "harness_errors") == 1 and _agg(per_doc, "pass@1") == 1.0


def test_a_scorer_batch_that_fails_as_a_whole_is_harness_errors(monkeypatch):
    class Broken:
        def check_many(self, items):
            raise OSError("sandbox could not fork")

    import lm_eval_thinkpack.scoring as scoring

    monkeypatch.setattr(scoring, "get_scorer", lambda name: Broken())
    docs = [_doc(i) for i in range(3)]
    _, per_doc = _run([["<think>a</think>\\boxed{7}"], ["<think>a"], ["\\boxed{7}"]], docs)
    assert _agg(per_doc, "harness_errors") == 2  # the truncated trace was never sent to the scorer
    assert _agg(per_doc, "pass@1") == 0.0  # the one scored sample: truncated, wrong
    assert _agg(per_doc, "valid_trace_rate") == pytest.approx(1 / 3)


def test_unknown_scorer_is_counted_not_fatal():
    _, per_doc = _run([["<think>a</think>7"]], [_doc(scorer="no_such_scorer")])
    assert per_doc[0]["pass@1"]["harness_error"] == ["ValueError"] and _agg(per_doc, "harness_errors") == 1
    assert math.isnan(_agg(per_doc, "pass@1"))


# ---------------------------------------------------------------------------------- scoring in the filter

def test_filter_scores_each_scorer_in_batches_not_per_doc(scratch_registry, monkeypatch):
    calls: list[int] = []

    def many(items):
        calls.append(len(items))
        return [ScoreResult(answer.endswith("7"), answer[-1:]) for answer, _ in items]

    scratch_registry.register_scorer("test_batched", many=many)(lambda answer, doc: ScoreResult(False))
    n = 2 * filters.SCORE_CHUNK + 10
    docs = [_doc(i, scorer="test_batched") for i in range(n)]
    resps = [[f"<think>t</think>{i % 10}", "<think>cut"] for i in range(n)]  # 2 repeats; one truncated each
    _, per_doc = _run(resps, docs)
    assert calls == [filters.SCORE_CHUNK, filters.SCORE_CHUNK, 10]  # truncated answers are never sent
    assert _agg(per_doc, "pass@1") == pytest.approx(sum(0.5 for i in range(n) if i % 10 == 7) / n)
    assert per_doc[7]["pass@1"]["correct"] == [True, False]


# ------------------------------------------------------------------------------------- budget exhaustion

def test_budget_exhausted_rate_from_the_finish_reason():
    docs = [_doc(i) for i in range(4)]
    resps = [[Resp("<think>long", "length")], [Resp("<think>a</think>\\boxed{7}", "stop")],
             [Resp("\\boxed{7}", None)], ["<think>a</think>\\boxed{7}"]]  # a plain str keeps working
    filtered, per_doc = _run(resps, docs)
    assert [parse_record(f[0])["finish_reason"] for f in filtered] == ["length", "stop", None, None]
    assert [r["pass@1"]["budget_exhausted"] for r in per_doc] == [[True], [False], [None], [None]]
    assert _agg(per_doc, "budget_exhausted_rate") == 0.5  # over the two that say why they stopped
    assert _agg(per_doc, "budget_exhausted_rate_stderr") == pytest.approx(math.sqrt(0.5 * 0.5 / 2))
    assert _agg(per_doc, "truncated_trace_rate") == 0.25


def test_budget_exhausted_rate_is_nan_when_the_backend_never_says():
    """lm-eval's own models return text only: the rate is unknown (NaN), never a reassuring 0."""
    docs = [_doc(i) for i in range(2)]
    _, per_doc = _run([["<think>long"], ["<think>a</think>\\boxed{7}"]], docs)
    assert math.isnan(_agg(per_doc, "budget_exhausted_rate"))
    assert math.isnan(_agg(per_doc, "budget_exhausted_rate_stderr"))


# ------------------------------------------------------------------------------------- aggregation cache

def test_one_trace_stats_per_task_and_a_cache_that_cannot_go_stale(monkeypatch):
    calls = []
    real = metrics.trace_stats
    monkeypatch.setattr(metrics, "trace_stats", lambda *a, **k: calls.append(1) or real(*a, **k))
    docs = [_doc(i) for i in range(3)]
    _, per_doc = _run([["<think>a</think>\\boxed{7}"], ["\\boxed{8}"], ["<think>x"]], docs)
    values = {key: metrics.AGGREGATIONS[key]([r[key] for r in per_doc]) for key in metrics.AGGREGATIONS}
    assert len(calls) == 1  # lm-eval hands each aggregation its own list of the same rows
    assert values["valid_trace_rate"] == pytest.approx(1 / 3)
    # the same first row with other rows after it: recomputed, not served from the cache
    _, other = _run([["\\boxed{8}"], ["\\boxed{8}"]], docs[:2])
    mixed = [per_doc[0]["pass@1"], *[r["pass@1"] for r in other]]
    assert rows_stats(mixed).pass_at_1 == pytest.approx(1 / 3) and len(calls) == 2
    assert rows_stats(mixed[:2]).n == 2 and len(calls) == 3
    assert isinstance(per_doc[0]["pass@1"], DocRow) and "_stats" not in per_doc[0]["pass@1"]
    assert json.loads(json.dumps(per_doc[0]["pass@1"]))["status"] == ["valid"]  # logged as a plain dict


def test_no_module_level_mutable_state_in_the_harness_metrics():
    mutable = {name for name, value in vars(metrics).items()
               if not name.startswith("__") and isinstance(value, (dict, list, set, bytearray))}
    assert mutable == set()
