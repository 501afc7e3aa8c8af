"""End-to-end: the real lm_eval CLI on fixture data with canned responses (no network, no model).

Expected numbers follow from tests/fixtures/data/canned_responses.jsonl; the comments give each
response's trace class and verdict. Depends on the scorers (lm_eval_thinkpack.scoring: numbers, math,
choice, code) and, for the code family, on lm_eval_thinkpack.sandbox.
"""

from __future__ import annotations

import json
import math

import pytest

from lm_eval_thinkpack.harness.filters import record_fields

from .conftest import DATA, load_outputs, run_lm_eval

pytestmark = pytest.mark.e2e

F = "thinkpack"
CANNED = ["--model", "thinkpack-canned", "--model_args", f"responses={DATA / 'canned_responses.jsonl'}"]
PROFILE = {"trace_format": "think", "prefilled": False}


def binom_se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def metric(results: dict, task: str, name: str):
    return results["results"][task][f"{name},{F}"]


def parse_table(stdout: str) -> dict[tuple[str, str], tuple[str, str]]:
    """lm-eval's printed markdown tables -> {(task or group, metric): (value, stderr)}."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    current = ""
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 9 or cells[4] in ("Metric", "") or set(cells[0]) <= {"-", ":"} and cells[0]:
            continue
        current = cells[0].lstrip("- ").strip() or current
        out[(current, cells[4])] = (cells[6], cells[8])
    return out


def check_task(results: dict, task: str, expected: dict[str, float | None], n: int) -> None:
    for name, value in expected.items():
        if name.startswith("_"):
            continue
        got = metric(results, task, name)
        se = metric(results, task, f"{name}_stderr")
        if value is None:  # undefined: null in the results file (strict JSON), never 0
            assert got is None, (task, name, got)
            continue
        assert got == pytest.approx(value), (task, name, got)
        # a real standard error, not "N/A"; binomial with one sample per question
        count = n if name != "rpass@1" else int(expected.get("_valid", n))
        assert se == pytest.approx(binom_se(value, count)), (task, name, se)


@pytest.fixture(scope="module")
def math_science(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("math_science")
    proc = run_lm_eval(tmp, *CANNED, "--tasks", "thinkpack_math,thinkpack_science", "--log_samples",
                       "--apply_chat_template", metadata={"data_dir": str(DATA), **PROFILE})
    results, samples = load_outputs(tmp)
    return proc, results, samples


def test_math_family_numbers(math_science):
    proc, results, _ = math_science
    # gsm8k: valid+correct, valid+wrong, empty+correct, missing+correct, truncated
    check_task(results, "thinkpack_gsm8k", {"valid_trace_rate": 0.4, "empty_trace_rate": 0.2,
                                            "missing_trace_rate": 0.2, "truncated_trace_rate": 0.2,
                                            "pass@1": 0.6, "rpass@1": 0.5, "_valid": 2}, 5)
    # math500: valid+correct (\frac{3}{4}), missing+wrong
    check_task(results, "thinkpack_math500", {"valid_trace_rate": 0.5, "missing_trace_rate": 0.5,
                                              "pass@1": 0.5, "rpass@1": 1.0, "_valid": 1}, 2)
    for task in ("thinkpack_aime24", "thinkpack_aime25"):
        assert metric(results, task, "valid_trace_rate") == 1.0
        assert metric(results, task, "pass@1") == 1.0
    assert metric(results, "thinkpack_gsm8k", "scoring_errors") == 0
    assert metric(results, "thinkpack_gsm8k", "harness_errors") == 0
    # the canned model gives no finish reason: the budget-exhausted rate is unknown (null), never a reassuring 0
    assert metric(results, "thinkpack_gsm8k", "budget_exhausted_rate") is None
    # group: lm-eval's size-weighted mean over tasks (sizes 5, 2, 1, 1)
    g = results["groups"]["thinkpack_math"] if "groups" in results else results["results"]["thinkpack_math"]
    assert g[f"valid_trace_rate,{F}"] == pytest.approx(5 / 9)
    assert g[f"pass@1,{F}"] == pytest.approx(6 / 9)
    # rpass@1 of a group is the size-weighted mean of task values (0.5*5 + 1*2 + 1 + 1) / 9,
    # not the pooled ratio over valid traces (4 / 5 = 0.8)
    assert g[f"rpass@1,{F}"] == pytest.approx(6.5 / 9)
    assert isinstance(g[f"valid_trace_rate_stderr,{F}"], float)
    # the printed table shows real standard errors
    table = parse_table(proc.stdout)
    assert table[("thinkpack_gsm8k", "valid_trace_rate")] == ("0.4000", "0.2191")
    assert table[("thinkpack_gsm8k", "rpass@1")] == ("0.5000", "0.3536")
    # counts and the tokens_as_words flag have no standard error (lm-eval prints N/A for them)
    shown = [se for (task, m), (_, se) in table.items()
             if m not in ("scoring_errors", "harness_errors", "tokens_as_words")]
    assert shown and "N/A" not in shown and "" not in shown


def test_science_family_numbers(math_science):
    _, results, _ = math_science
    # gpqa: valid+correct, valid+wrong, truncated
    check_task(results, "thinkpack_gpqa_diamond", {"valid_trace_rate": 2 / 3, "truncated_trace_rate": 1 / 3,
                                                   "pass@1": 1 / 3, "rpass@1": 0.5, "_valid": 2}, 3)
    # sciknoweval: 4 records, 2 kept (chemistry, L3, mcq); both missing traces, one correct
    check_task(results, "thinkpack_sciknoweval_chem", {"missing_trace_rate": 1.0, "pass@1": 0.5,
                                                       "rpass@1": None}, 2)
    assert results["n-samples"]["thinkpack_sciknoweval_chem"]["effective"] == 2
    g = results["groups"]["thinkpack_science"] if "groups" in results else results["results"]["thinkpack_science"]
    assert g[f"valid_trace_rate,{F}"] == pytest.approx(2 / 5)
    assert g[f"pass@1,{F}"] == pytest.approx(2 / 5)
    assert g[f"rpass@1,{F}"] is None  # one task has no valid trace: the group value is undefined (null) too


def test_log_samples_record_trace_status_and_answer(math_science):
    _, _, samples = math_science
    rows = {s["doc"]["thinkpack_question"][:20]: s for s in samples["thinkpack_gsm8k"]}
    assert len(rows) == 5
    by_status = {}
    for s in samples["thinkpack_gsm8k"]:
        raw = s["filtered_resps"][0][0]
        assert s["resps"][0][0] not in raw  # the record holds offsets into the logged response, not its text
        record = record_fields(raw, s["resps"][0][0])
        row = s["pass@1"]
        assert row["status"] == [record["status"]] and row["correct"] == [record["correct"]]
        by_status[record["status"]] = (record, row)
    assert set(by_status) == {"valid", "empty", "missing", "truncated"}
    rec, row = by_status["truncated"]
    assert rec["answer"] == "" and row["correct"] == [False]
    rec, row = by_status["empty"]
    assert rec["reasoning"] == "" and "\\boxed{60}" in rec["answer"] and row["extracted"] == ["60"]
    rec, row = by_status["valid"]
    assert rec["reasoning"] and rec["reasoning"] in rec["text"] and rec["text"] == by_status["valid"][0]["text"]
    assert all(s["doc"]["thinkpack_format"] == "think" for s in samples["thinkpack_gsm8k"])
    for task in ("thinkpack_gsm8k", "thinkpack_gpqa_diamond"):
        assert all(s["pass@1"]["harness_error"] == [None] * len(s["pass@1"]["status"]) for s in samples[task])


def test_code_family_numbers(tmp_path):
    run_lm_eval(tmp_path, *CANNED, "--tasks", "thinkpack_code", "--confirm_run_unsafe_code", "--log_samples",
                "--apply_chat_template", metadata={"data_dir": str(DATA), "scoring_timeout": 6, **PROFILE})
    results, samples = load_outputs(tmp_path)
    check_task(results, "thinkpack_humaneval", {"valid_trace_rate": 1.0, "pass@1": 0.5, "rpass@1": 0.5,
                                                "_valid": 2}, 2)
    check_task(results, "thinkpack_humaneval_plus", {"valid_trace_rate": 1.0, "pass@1": 1.0}, 1)
    # mbpp+: empty trace + passing code; valid trace + an infinite loop (sandbox timeout)
    check_task(results, "thinkpack_mbpp_plus", {"empty_trace_rate": 0.5, "valid_trace_rate": 0.5, "pass@1": 0.5,
                                                "rpass@1": 0.0, "_valid": 1}, 2)
    # the timeout is one bad sample: scored wrong, counted, and the run goes on
    assert metric(results, "thinkpack_mbpp_plus", "scoring_errors") == 1
    errs = [s["pass@1"]["scoring_error"][0] for s in samples["thinkpack_mbpp_plus"]]
    assert sorted(e or "" for e in errs) == ["", "timeout"]


def test_repeats_average_per_question(tmp_path):
    run_lm_eval(tmp_path, "--model", "thinkpack-canned", "--model_args", f"responses={DATA / 'canned_repeats.jsonl'}",
                "--tasks", "thinkpack_example_gsm8k_n4", "--log_samples",
                metadata={"data_files": str(DATA / "gsm8k_repeats.jsonl"), **PROFILE})
    results, samples = load_outputs(tmp_path)
    t = "thinkpack_example_gsm8k_n4"
    # question A: valid+correct, valid+wrong, missing+correct, truncated; question B: 4 x valid+correct
    # per question: VR .5 / 1, pass .5 / 1, Rpass .5 / 1, MR .25 / 0 -> means .75, .75, .75, .125
    assert metric(results, t, "valid_trace_rate") == pytest.approx(0.75)
    assert metric(results, t, "pass@1") == pytest.approx(0.75)
    assert metric(results, t, "rpass@1") == pytest.approx(0.75)
    assert metric(results, t, "missing_trace_rate") == pytest.approx(0.125)
    # standard error of the mean of per-question values (clustered), not a binomial over 8 samples
    assert metric(results, t, "valid_trace_rate_stderr") == pytest.approx(0.25)
    assert metric(results, t, "missing_trace_rate_stderr") == pytest.approx(0.125)
    assert results["n-samples"][t]["effective"] == 2
    assert [len(s["filtered_resps"][0]) for s in samples[t]] == [4, 4]


def test_refuses_think_end_token(tmp_path):
    proc = run_lm_eval(tmp_path, *CANNED[:-1], f"responses={DATA / 'canned_responses.jsonl'}",
                       "think_end_token=</think>", "--tasks", "thinkpack_gsm8k",
                       metadata={"data_dir": str(DATA)}, check=False)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "think_end_token" in err and "remove think_end_token" in err


def test_budget_exhaustion_and_bad_samples_are_counted_not_fatal(tmp_path):
    """Finish reasons reach the results; a backend that returns no text costs that sample its score, not the run."""
    q = [json.loads(line)["question"] for line in (DATA / "thinkpack_gsm8k.jsonl").read_text().splitlines()]
    canned = tmp_path / "canned.jsonl"
    lines = [
        {"question": q[0], "responses": ["<think>3 + 4 = 7.</think>\\boxed{7}"], "finish_reasons": ["stop"]},
        {"question": q[1], "responses": ["<think>12 times 3 is"], "finish_reasons": ["length"]},
        {"question": q[2], "responses": [None]},  # the backend gave no text: a harness fault
        {"question": q[3], "responses": ["<think>25 - 15</think>\\boxed{10}"], "finish_reasons": ["stop"]},
        {"question": q[4], "responses": ["4 * 25 = \\boxed{100}"]},  # a plain str: finish reason unknown
    ]
    canned.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    run_lm_eval(tmp_path, "--model", "thinkpack-canned", "--model_args", f"responses={canned}",
                "--tasks", "thinkpack_gsm8k", "--log_samples",
                metadata={"data_files": str(DATA / "thinkpack_gsm8k.jsonl"), **PROFILE})
    results, samples = load_outputs(tmp_path)
    t = "thinkpack_gsm8k"
    # over the 3 generations whose finish reason is known (the fault and the plain str say nothing)
    assert metric(results, t, "budget_exhausted_rate") == pytest.approx(1 / 3)
    assert metric(results, t, "budget_exhausted_rate_stderr") == pytest.approx(binom_se(1 / 3, 3))
    assert metric(results, t, "harness_errors") == 1 and metric(results, t, "scoring_errors") == 0
    # pass@1 over the 4 scored samples: 3 right, the truncated one wrong; the faulty one is left out
    assert metric(results, t, "pass@1") == pytest.approx(0.75)
    assert metric(results, t, "pass@1_stderr") == pytest.approx(binom_se(0.75, 4))
    assert metric(results, t, "rpass@1") == pytest.approx(1.0)
    assert metric(results, t, "truncated_trace_rate") == pytest.approx(0.2)
    records = {s["doc"]["thinkpack_question"]: record_fields(s["filtered_resps"][0][0], s["resps"][0][0])
               for s in samples[t]}
    assert records[q[2]]["harness_error"] is True and records[q[2]]["text"] == "" and records[q[2]]["correct"] is None
    assert records[q[1]]["budget_exhausted"] is True and records[q[1]]["finish_reason"] == "length"


def test_bad_data_file_stops_the_run_before_generation(tmp_path):
    bad = tmp_path / "gsm8k.jsonl"
    good = (DATA / "thinkpack_gsm8k.jsonl").read_text().splitlines()
    bad.write_text("\n".join([good[0], good[1][:-1], *good[2:]]) + "\n")  # line 2 lost its closing brace
    proc = run_lm_eval(tmp_path, *CANNED, "--tasks", "thinkpack_gsm8k", check=False,
                       metadata={"data_files": str(bad), **PROFILE})
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert f"{bad}:2: not valid JSON" in err and "Fix: each line must be one complete JSON object" in err
    assert not list((tmp_path / "out").rglob("results_*.json"))  # nothing was evaluated
