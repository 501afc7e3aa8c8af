"""The study's metrics: rates, pass@1, Rpass@1, per-question averaging, pass@k, uncertainty."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lm_eval_thinkpack import classify, pass_at_k, trace_stats
from lm_eval_thinkpack.stats import wilson_interval

VALID, EMPTY, MISSING, TRUNC = "<think>r</think>a", "<think></think>a", "a", "<think>r"


def test_rates_pass_and_rpass_on_a_known_mix() -> None:
    traces = [classify(t) for t in (VALID, VALID, VALID, EMPTY, MISSING, TRUNC)]
    s = trace_stats(traces, correct=[True, True, False, True, True, True])
    assert (s.valid_trace_rate, s.empty_trace_rate, s.missing_trace_rate, s.truncated_trace_rate) == (
        pytest.approx(0.5), pytest.approx(1 / 6), pytest.approx(1 / 6), pytest.approx(1 / 6))
    # the truncated sample is wrong even if a scorer said otherwise: it has no answer
    assert s.pass_at_1 == pytest.approx(4 / 6)
    assert s.rpass_at_1 == pytest.approx(2 / 3)
    assert s.n == 6 and s.n_questions == 6


def test_rpass_is_none_not_zero_without_valid_traces() -> None:
    s = trace_stats([classify(MISSING), classify(EMPTY)], correct=[True, False])
    assert s.rpass_at_1 is None and s.pass_at_1 == 0.5
    assert s.estimates["rpass@1"].stderr is None


def test_without_correctness_only_rates() -> None:
    s = trace_stats(["valid", "missing"])
    assert s.pass_at_1 is None and s.rpass_at_1 is None and s.valid_trace_rate == 0.5


def test_rates_sum_to_one_and_empty_input() -> None:
    s = trace_stats([classify(t) for t in (VALID, EMPTY, MISSING, TRUNC, VALID)])
    assert s.valid_trace_rate + s.empty_trace_rate + s.missing_trace_rate + s.truncated_trace_rate == pytest.approx(1)
    e = trace_stats([])
    assert e.n == 0 and e.valid_trace_rate == 0.0 and e.estimates["valid_trace_rate"].value is None


def test_binomial_stderr_and_wilson_interval() -> None:
    s = trace_stats(["valid"] * 30 + ["missing"] * 70)
    est = s.estimates["valid_trace_rate"]
    assert est.stderr == pytest.approx(math.sqrt(0.3 * 0.7 / 100))
    lo, hi = wilson_interval(30, 100)
    assert (est.ci_low, est.ci_high) == (lo, hi)
    assert lo == pytest.approx(0.2189, abs=1e-4) and hi == pytest.approx(0.3958, abs=1e-4)
    assert wilson_interval(0, 0) == (None, None)


def test_per_question_averaging_with_several_samples() -> None:
    # question a: 4 samples, 1 valid; question b: 1 sample, valid  -> VR = mean(1/4, 1) = 0.625 (pooled 0.4)
    statuses = ["valid", "missing", "missing", "missing", "valid"]
    qids = ["a", "a", "a", "a", "b"]
    correct = [True, True, False, False, False]
    s = trace_stats(statuses, correct=correct, question_ids=qids)
    assert s.n_questions == 2
    assert s.valid_trace_rate == pytest.approx(0.625)
    assert s.pass_at_1 == pytest.approx((0.5 + 0.0) / 2)
    assert s.rpass_at_1 == pytest.approx((1.0 + 0.0) / 2)
    # clustered standard error: of the per-question means
    means = [0.25, 1.0]
    m = sum(means) / 2
    assert s.estimates["valid_trace_rate"].stderr == pytest.approx(math.sqrt(sum((x - m) ** 2 for x in means) / 1 / 2))


def test_pass_at_k_unbiased_matches_enumeration() -> None:
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                combos = list(combinations([1] * c + [0] * (n - c), k))
                expected = sum(any(x) for x in combos) / len(combos)
                assert pass_at_k(n, c, k) == pytest.approx(expected)
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 4)


def test_pass_at_k_reported_with_repeats() -> None:
    statuses = ["valid"] * 10
    qids = [i // 5 for i in range(10)]
    correct = [True, False, False, False, False] + [False] * 5
    s = trace_stats(statuses, correct=correct, question_ids=qids)
    assert s.pass_at_k[1] == pytest.approx(0.1) and s.pass_at_k[5] == pytest.approx(0.5)
    assert 10 not in s.pass_at_k


def test_budget_and_scoring_errors() -> None:
    traces = [classify(TRUNC, finish_reason="length"), classify(VALID)]
    s = trace_stats(traces, correct=[False, None], scoring_errors=[False, True])
    assert s.budget_exhausted_rate == 0.5 and s.scoring_errors == 1 and s.pass_at_1 == 0.0


def test_length_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="correct has 1 entries for 2 traces"):
        trace_stats(["valid", "valid"], correct=[True])


@given(st.lists(st.sampled_from(["valid", "empty", "missing", "truncated"]), min_size=1, max_size=50),
       st.data())
def test_metric_bounds(statuses: list[str], data: st.DataObject) -> None:
    correct = data.draw(st.lists(st.booleans(), min_size=len(statuses), max_size=len(statuses)))
    s = trace_stats(statuses, correct=correct)
    assert 0 <= s.pass_at_1 <= 1
    assert (s.rpass_at_1 is None) == ("valid" not in statuses)
    for est in s.estimates.values():
        if est.value is not None:
            assert est.ci_low <= est.count / est.total <= est.ci_high


def test_not_scored_samples_leave_pass_at_1_and_count_as_harness_errors() -> None:
    # a harness fault (correct=None) is neither right nor wrong: it leaves pass@1 and Rpass@1
    traces = [classify(t) for t in (VALID, VALID, MISSING, VALID)]
    s = trace_stats(traces, correct=[True, None, False, None])
    assert s.harness_errors == 2
    assert s.pass_at_1 == pytest.approx(1 / 2)
    assert s.rpass_at_1 == pytest.approx(1.0)
    assert s.estimates["pass@1"].total == 2
    assert s.valid_trace_rate == pytest.approx(3 / 4)  # the trace classes still count every sample
    assert trace_stats(traces, correct=[True] * 4).harness_errors == 0
    only_faults = trace_stats([classify(VALID)], correct=[None])
    assert only_faults.pass_at_1 is None and only_faults.rpass_at_1 is None and only_faults.harness_errors == 1


def test_metric_catalogue_reads_every_value_and_names_are_unique() -> None:
    from lm_eval_thinkpack.stats import ALL_TASKS, METRIC_BY_NAME, METRICS, MetricKind, get_metric

    names = [m.name for m in METRICS]
    assert len(set(names)) == len(names) and len({m.label for m in METRICS}) == len(METRICS)
    assert {"valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate", "pass@1",
            "rpass@1", "budget_exhausted_rate", "scoring_errors", "harness_errors", "no_answer_rate",
            "reasoning_tokens", "answer_tokens", "tokens_as_words"} == set(names)
    s = trace_stats([classify(t, finish_reason=r) for t, r in ((VALID, None), (TRUNC, "length"))],
                    correct=[True, None], scoring_errors=[True, False], reasoning_tokens=[3, 5],
                    answer_tokens=[2, 0])
    values = {m.name: m.value(s) for m in METRICS}
    assert values["valid_trace_rate"] == 0.5 and values["budget_exhausted_rate"] == 0.5
    assert values["pass@1"] == 1.0 and values["harness_errors"] == 1 and values["scoring_errors"] == 1
    assert values["no_answer_rate"] == 0.0 and values["reasoning_tokens"] == 4.0 and values["answer_tokens"] == 1.0
    assert values["tokens_as_words"] == 0
    for m in METRICS:
        assert (m.stderr(s) is None) == (m.kind in (MetricKind.COUNT, MetricKind.FLAG))
    assert METRIC_BY_NAME["valid_trace_rate"].higher_is_better
    assert not METRIC_BY_NAME["empty_trace_rate"].higher_is_better
    assert isinstance(ALL_TASKS, str) and ALL_TASKS
    with pytest.raises(KeyError, match="unknown metric"):
        get_metric("vr")


@given(st.lists(st.booleans(), max_size=60))
def test_flat_estimate_equals_the_per_question_estimate_with_one_sample_each(flags) -> None:
    from lm_eval_thinkpack.stats import _estimate, _flat

    assert _flat(flags) == _estimate([[float(f)] for f in flags], False)


@given(st.lists(st.tuples(st.sampled_from(["valid", "empty", "missing", "truncated"]),
                          st.sampled_from([True, False, None])), max_size=40))
def test_one_sample_per_question_with_or_without_ids(samples) -> None:
    statuses = [s for s, _ in samples]
    correct = [c for _, c in samples]
    a = trace_stats(statuses, correct)
    b = trace_stats(statuses, correct, [f"q{i}" for i in range(len(samples))])
    assert a == b and a.harness_errors == correct.count(None)


def test_budget_exhausted_rate_is_undefined_when_no_finish_reason_is_known() -> None:
    s = trace_stats(["valid", "truncated"], budget_exhausted=[None, None])
    assert s.budget_exhausted_rate is None and s.estimates["budget_exhausted_rate"].value is None
    s = trace_stats(["valid", "truncated", "valid"], budget_exhausted=[None, True, False])
    assert s.budget_exhausted_rate == 0.5  # over the generations whose finish reason is known
    s = trace_stats(["valid", "truncated"], question_ids=["q", "q"], budget_exhausted=[None, None])
    assert s.budget_exhausted_rate is None


def test_no_answer_rate_is_over_valid_traces_and_undefined_without_one() -> None:
    closed_and_stopped = "<think>a plan</think>\n  "
    traces = [classify(t) for t in (VALID, closed_and_stopped, closed_and_stopped, MISSING, TRUNC, EMPTY)]
    s = trace_stats(traces)
    assert s.no_answer_rate == pytest.approx(2 / 3)  # two of the three valid traces have no answer text
    assert s.estimates["no_answer_rate"].total == 3
    assert trace_stats([classify(MISSING), classify(EMPTY)]).no_answer_rate is None  # no valid trace: undefined
    assert trace_stats(["valid", "missing"]).no_answer_rate is None  # statuses alone cannot tell
    assert trace_stats(["valid", "valid"], no_answer=[True, None]).no_answer_rate == 1.0  # None: not known


def test_token_means_are_per_generation_with_stderr_and_per_question_first() -> None:
    s = trace_stats(["valid"] * 4, reasoning_tokens=[10, 20, 30, 40], answer_tokens=[1, None, 3, 5],
                    tokens_as_words=True)
    assert s.reasoning_tokens == 25.0 and s.answer_tokens == 3.0  # a None count is left out, never 0
    assert s.estimates["reasoning_tokens"].stderr == pytest.approx((500 / 3) ** 0.5 / 2)
    assert s.tokens_as_words is True
    grouped = trace_stats(["valid"] * 3, question_ids=["a", "a", "b"], reasoning_tokens=[10, 30, 50])
    assert grouped.reasoning_tokens == pytest.approx(35.0)  # (20 + 50) / 2: per question first
    bare = trace_stats(["valid"])
    assert bare.reasoning_tokens is None and bare.tokens_as_words is None  # not counted: no lengths, no unit
