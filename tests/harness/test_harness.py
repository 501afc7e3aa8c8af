"""Unit tests of the lm-eval glue (in-process, no CLI). Depends on lm_eval_thinkpack.scoring (numbers,
math, choice) for the metric tests; detection falls back to formats.rule_for_model when
lm_eval_thinkpack.detect is absent."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

from lm_eval_thinkpack.harness import loader
from lm_eval_thinkpack.harness.adapters import DataFieldsError, adapt, get_adapter
from lm_eval_thinkpack.harness.filters import TraceFilter, parse_record
from lm_eval_thinkpack.harness.metrics import metric_keys, process_results, rows_stats
from lm_eval_thinkpack.stats import METRICS, MetricKind

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "fixtures" / "data"
TASKS = REPO / "tasks"
GSM8K_KW = {"thinkpack_task": "thinkpack_gsm8k", "thinkpack_adapter": "gsm8k", "thinkpack_path": "openai/gsm8k"}


# ------------------------------------------------------------------------------------------------ adapters

def test_gpqa_shuffle_is_deterministic_and_keyed_by_record():
    doc = json.loads((DATA / "thinkpack_gpqa_diamond.jsonl").read_text().splitlines()[0])
    a = get_adapter("gpqa")
    first = adapt(a, doc, {})
    assert first["thinkpack_choices"] == ["Gluon", "Graviton", "Photon", "W boson"]  # frozen: results comparable
    assert first["thinkpack_gold"] == "C" and first["thinkpack_choices"][2] == "Photon"
    assert adapt(a, dict(doc), {}) == first
    other = adapt(a, {**doc, "Record ID": "another"}, {})
    assert sorted(other["thinkpack_choices"]) == sorted(first["thinkpack_choices"])
    assert other["thinkpack_choices"][ord(other["thinkpack_gold"]) - 65] == "Photon"


def test_sciknoweval_keeps_only_chemistry_l3_multiple_choice():
    rows = [json.loads(x) for x in (DATA / "thinkpack_sciknoweval_chem.jsonl").read_text().splitlines()]
    a = get_adapter("sciknoweval")
    kept = [d for d in (adapt(a, r, {"domain": "Chemistry", "level": "L3"}) for r in rows) if d]
    assert [d["thinkpack_gold"] for d in kept] == ["B", "A"]
    assert kept[0]["thinkpack_letters"] == "ABCD"


def test_mbpp_plus_runs_base_and_extra_tests():
    row = json.loads((DATA / "thinkpack_mbpp_plus.jsonl").read_text().splitlines()[0])
    doc = adapt(get_adapter("mbpp_plus"), row, {})
    assert doc["thinkpack_entry_point"] == "square"
    assert "assert square(3) == 9" in doc["thinkpack_test"] and "results = [1, 25, 9]" in doc["thinkpack_test"]


# -------------------------------------------------------------------------------------------------- loader

def test_local_jsonl_with_profile_from_metadata():
    ds = loader.load_docs(**GSM8K_KW, data_files=str(DATA / "thinkpack_gsm8k.jsonl"), trace_format="qwen3",
                          prefilled=True)
    docs = list(ds["test"])
    assert len(docs) == 5 and docs[0]["thinkpack_gold"] == "7"
    assert {(d["thinkpack_format"], d["thinkpack_prefilled"], d["thinkpack_profile_source"]) for d in docs} == {
        ("qwen3", True, "metadata")}


def test_data_files_dict_picks_the_task_file():
    files = {"thinkpack_gsm8k": str(DATA / "thinkpack_gsm8k.jsonl")}
    ds = loader.load_docs(**GSM8K_KW, data_files=json.dumps(files), trace_format="think", prefilled=False)
    assert len(ds["test"]) == 5
    with pytest.raises(FileNotFoundError, match="thinkpack_math500"):
        loader.load_docs(**{**GSM8K_KW, "thinkpack_task": "thinkpack_math500"}, data_files=files,
                         trace_format="think", prefilled=False)


def test_missing_fields_name_file_fields_and_task(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "1+1?"}) + "\n")
    with pytest.raises(DataFieldsError) as err:
        loader.load_docs(**GSM8K_KW, data_files=str(bad), trace_format="think", prefilled=False)
    msg = str(err.value)
    assert str(bad) in msg and "'answer'" in msg and "thinkpack_gsm8k" in msg


@pytest.mark.parametrize("args", [{"think_end_token": "</think>"}, {"think_end_token": 151668},
                                  {"enable_thinking": True}, {"enable_thinking": "True"}])
def test_refuses_model_args_that_strip_the_trace(args):
    with pytest.raises(loader.ThinkpackConfigError, match="Fix:"):
        loader.load_docs(**GSM8K_KW, data_files=str(DATA / "thinkpack_gsm8k.jsonl"), pretrained="x/y", **args)


def test_enable_thinking_false_is_thinking_disabled_not_refused():
    prof = loader.resolve_profile({"pretrained": "Qwen/Qwen3-8B", "enable_thinking": False,
                                   "trace_format": "qwen3", "prefilled": False})
    assert prof["thinkpack_thinking_disabled"] is True


def test_profile_falls_back_to_model_id_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loader._detect_cached.cache_clear()
    prof = loader.resolve_profile({"pretrained": "thinkpack-tests-nonexistent/QwQ-32B"})
    assert prof["thinkpack_format"] == "qwq" and prof["thinkpack_prefilled"] is True
    assert prof["thinkpack_profile_source"] != "metadata"
    # explicit metadata wins over detection
    prof = loader.resolve_profile({"pretrained": "thinkpack-tests-nonexistent/QwQ-32B", "prefilled": False})
    assert prof["thinkpack_format"] == "qwq" and prof["thinkpack_prefilled"] is False


def test_warns_when_delimiters_are_special_tokens(caplog):
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        loader.resolve_profile({"trace_format": "magistral", "prefilled": False})
    assert any("special tokens" in r.getMessage() for r in caplog.records)


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown trace format"):
        loader.resolve_profile({"trace_format": "nope", "prefilled": False})


# ------------------------------------------------------------------------------------------ filter, metrics

def _docs(fmt="think", prefilled=False):
    return [{"thinkpack_id": "q1", "thinkpack_gold": "7", "thinkpack_scorer": "number", "thinkpack_format": fmt,
             "thinkpack_prefilled": prefilled, "thinkpack_timeout": None}]


def test_filter_classifies_each_repeat_with_the_doc_profile():
    out = TraceFilter().apply([["<think>a</think>\\boxed{7}", "no tags \\boxed{7}"]], _docs())
    recs = [parse_record(x) for x in out[0]]
    assert [r["status"] for r in recs] == ["valid", "missing"]
    # prefilled: the opener is in the prompt, so text without tags is a truncated trace
    out = TraceFilter().apply([["still thinking"]], _docs(prefilled=True))
    assert parse_record(out[0][0])["status"] == "truncated"


def _rows(responses_per_doc, docs=None):
    docs = docs or [dict(_docs()[0], thinkpack_id=f"q{i}") for i in range(len(responses_per_doc))]
    filtered = TraceFilter().apply(responses_per_doc, docs)
    return [process_results(d, [f]) for d, f in zip(docs, filtered, strict=True)]


def test_metric_rows_follow_stderr_order_and_stats():
    per_doc = _rows([["<think>a</think>\\boxed{7}"], ["\\boxed{7}"], ["<think>x"]])
    keys = list(per_doc[0])
    assert keys[:2] == ["valid_trace_rate", "valid_trace_rate_stderr"]
    assert keys == list(metric_keys()) and {m.name for m in METRICS} <= set(keys)
    assert "scoring_errors_stderr" not in keys and "pass@1_stderr" in keys  # counts have no standard error
    stats = rows_stats([r["pass@1"] for r in per_doc])
    assert stats.valid_trace_rate == pytest.approx(1 / 3) and stats.pass_at_1 == pytest.approx(2 / 3)


def test_rpass_is_nan_not_zero_without_valid_traces():
    from lm_eval_thinkpack.harness import metrics

    rows = [r["rpass@1"] for r in _rows([["\\boxed{7}"], ["\\boxed{8}"]])]
    assert math.isnan(metrics.agg_rpass_at_1(rows)) and math.isnan(metrics.agg_rpass_at_1_stderr(rows))
    assert metrics.agg_pass_at_1(rows) == 0.5


def test_scorer_exception_is_a_scoring_error_and_the_run_goes_on(monkeypatch):
    from lm_eval_thinkpack.harness import metrics
    from lm_eval_thinkpack.scoring import registry

    def boom(answer, doc):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))
    registry.register_scorer("test_boom")(boom)
    docs = [dict(_docs()[0], thinkpack_scorer="test_boom")]
    rows = [r["scoring_errors"] for r in _rows([["<think>a</think>\\boxed{7}"]], docs)]
    assert rows[0]["correct"] == [False] and rows[0]["scoring_error"] == ["RuntimeError"]
    assert metrics.agg_scoring_errors(rows) == 1 and metrics.agg_pass_at_1(rows) == 0.0
    assert metrics.agg_harness_errors(rows) == 0


def test_records_carry_lengths_in_the_docs_tokenizer_and_metrics_average_them():
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
    from lm_eval_thinkpack.harness import metrics
    from lm_eval_thinkpack.tokens import load_tokenizer, tokenizer_ref

    tok = load_tokenizer(str(MODEL_DIR))
    responses = [["<think>17 + 25 = 42</think>\\boxed{42}"], ["<think>17 + 25 = 42</think>\n"], ["\\boxed{7}"]]
    docs = [dict(_docs()[0], thinkpack_id=f"q{i}", thinkpack_tokenizer=tokenizer_ref(str(MODEL_DIR)))
            for i in range(3)]
    rows = _rows(responses, docs)
    recs = [parse_record(f[0]) for f in TraceFilter().apply(responses, docs)]
    n_reason = len(tok.encode("17 + 25 = 42", add_special_tokens=False))
    n_boxed = [len(tok.encode(t, add_special_tokens=False)) for t in ("\\boxed{42}", "\\boxed{7}")]
    assert [(r["reasoning_tokens"], r["answer_tokens"], r["token_unit"]) for r in recs] == [
        (n_reason, n_boxed[0], "tokens"), (n_reason, 0, "tokens"), (0, n_boxed[1], "tokens")]
    col = [r["reasoning_tokens"] for r in rows]
    assert metrics.agg_reasoning_tokens(col) == pytest.approx(2 * n_reason / 3)
    assert metrics.agg_answer_tokens(col) == pytest.approx(sum(n_boxed) / 3)
    assert metrics.agg_reasoning_tokens_stderr(col) > 0 and metrics.agg_tokens_as_words(col) == 0
    assert metrics.agg_no_answer_rate(col) == 0.5  # one of the two valid traces is followed by nothing
    assert metrics.agg_no_answer_rate_stderr(col) == pytest.approx((0.25 / 2) ** 0.5)


def test_without_a_tokenizer_the_lengths_are_words_and_flagged():
    from lm_eval_thinkpack.harness import metrics

    rows = [r["tokens_as_words"] for r in _rows([["<think>one two three</think>\\boxed{7}"]])]
    assert rows[0]["reasoning_tokens"] == [3] and rows[0]["token_unit"] == ["words"]
    assert metrics.agg_tokens_as_words(rows) == 1 and metrics.agg_reasoning_tokens(rows) == 3.0


def test_rows_of_older_records_without_lengths_give_nan_lengths():
    from lm_eval_thinkpack.harness import metrics

    old = json.dumps({"status": "valid", "spans": {"preamble": [0, 0], "reasoning": [7, 8], "answer": [16, 16]},
                      "correct": False})
    row = process_results(_docs()[0], [[old]])["reasoning_tokens"]
    assert math.isnan(metrics.agg_reasoning_tokens([row])) and math.isnan(metrics.agg_tokens_as_words([row]))
    assert metrics.agg_no_answer_rate([row]) == 1.0  # the answer span is empty


def test_loader_names_the_models_tokenizer_unless_count_tokens_is_false(caplog):
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR

    kw = dict(GSM8K_KW, data_files=str(DATA / "thinkpack_gsm8k.jsonl"))
    doc = loader.load_docs(**kw, pretrained=str(MODEL_DIR))["test"][0]
    assert json.loads(doc["thinkpack_tokenizer"])["name"] == str(MODEL_DIR)
    off = loader.load_docs(**kw, pretrained=str(MODEL_DIR), count_tokens="false")["test"][0]
    assert off["thinkpack_tokenizer"] == ""
    with caplog.at_level(logging.WARNING):
        gone = loader.load_docs(**kw, pretrained="/no/such/model", trace_format="think", prefilled=False)["test"][0]
    assert gone["thinkpack_tokenizer"] == "" and "whitespace words" in caplog.text
    with pytest.raises(loader.ThinkpackConfigError, match="count_tokens"):
        loader.load_docs(**kw, pretrained=str(MODEL_DIR), count_tokens="maybe")


# ----------------------------------------------------------------------------------------------- task YAMLs

EXPECTED_TASKS = {"thinkpack_gsm8k", "thinkpack_math500", "thinkpack_aime24", "thinkpack_aime25",
                  "thinkpack_gpqa_diamond", "thinkpack_sciknoweval_chem", "thinkpack_humaneval",
                  "thinkpack_humaneval_plus", "thinkpack_mbpp_plus"}
EXPECTED_GROUPS = {"thinkpack_math", "thinkpack_science", "thinkpack_code", "thinkpack", "thinkpack_demo"}
DEMO_TASKS = {f"thinkpack_demo_{t}" for t in ("add", "reverse", "count", "parity", "max")}


def test_task_index_lists_tasks_and_groups_but_not_bases():
    from lm_eval.tasks._index import Kind, TaskIndex

    index = TaskIndex.build([TASKS])
    tasks = {n for n, e in index.items() if e.kind is Kind.TASK}
    groups = {n for n, e in index.items() if e.kind is Kind.GROUP}
    assert EXPECTED_TASKS | DEMO_TASKS <= tasks and groups == EXPECTED_GROUPS
    assert not any(n.startswith("_") for n in index)


@pytest.mark.parametrize("name", sorted(EXPECTED_TASKS))
def test_task_config_generation_settings(name):
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(TASKS / f"{name}.yaml")
    gen = cfg["generation_kwargs"]
    assert gen["until"] == [] and gen["max_gen_toks"] == 32768 and gen["do_sample"] is False
    assert cfg["output_type"] == "generate_until" and callable(cfg["custom_dataset"])
    assert cfg["filter_list"][0]["filter"][0]["function"] == "thinkpack_trace"
    assert cfg["dataset_kwargs"]["thinkpack_task"] == name


@pytest.mark.parametrize("name", sorted(DEMO_TASKS))
def test_demo_tasks_read_bundled_data_with_short_generations(name):
    from lm_eval.tasks._yaml_loader import load_yaml

    from lm_eval_thinkpack.harness.loader import load_docs

    cfg = load_yaml(TASKS / f"{name}.yaml")
    gen = cfg["generation_kwargs"]
    assert gen["until"] == [] and gen["max_gen_toks"] <= 256 and gen["do_sample"] is False
    docs = load_docs(**cfg["dataset_kwargs"], trace_format="qwen3", prefilled=False)["test"]
    assert len(docs) >= 50
    assert {d["thinkpack_scorer"] for d in docs} == {"exact"}
    assert all(d["thinkpack_gold"] == d["answer"] for d in docs)


def test_worked_example_task_builds_from_fixture_data():
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(TASKS), include_defaults=False,
                     metadata={"data_files": str(DATA / "thinkpack_gsm8k.jsonl"), "trace_format": "think",
                               "prefilled": False})
    loaded = tm.load(["thinkpack_example_gsm8k_socratic"])
    task = loaded["tasks"]["thinkpack_example_gsm8k_socratic"]
    doc = task.eval_docs[0]
    assert "\\boxed{}" in task.doc_to_text(doc) and task.doc_to_target(doc) == "7"


def test_yaml_metric_list_matches_process_results_keys():
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(TASKS / "_base_thinkpack.yaml")
    listed = [m["metric"] for m in cfg["metric_list"]]
    emitted = list(_rows([["<think>a</think>\\boxed{7}"]])[0])
    assert listed == emitted  # each metric has an aggregation; each `m_stderr` comes right after `m`
    assert all(callable(m["aggregation"]) for m in cfg["metric_list"])
    assert listed == list(metric_keys())
    by_name = {m["metric"]: m for m in cfg["metric_list"]}
    for m in METRICS:  # the YAML says what the catalogue says
        assert by_name[m.name]["higher_is_better"] is m.higher_is_better, m.name
        assert by_name[m.name]["aggregation"].__name__ == "agg_" + m.name.replace("@", "_at_")
        assert (f"{m.name}_stderr" in by_name) is m.has_stderr


@pytest.mark.parametrize("group", sorted(EXPECTED_GROUPS))
def test_group_yamls_aggregate_the_catalogue_rates_and_accuracies(group):
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(TASKS / f"{group}.yaml")
    listed = [a["metric"] for a in cfg["aggregate_metric_list"]]
    # a count (scoring_errors, harness_errors) or a flag (tokens_as_words) has no meaningful size-weighted mean
    assert listed == [m.name for m in METRICS if m.kind not in (MetricKind.COUNT, MetricKind.FLAG)]
    assert all(a["filter_list"] == ["thinkpack"] and a["weight_by_size"] is True for a in cfg["aggregate_metric_list"])


def test_an_evaluation_warns_when_the_models_tokenizer_drops_spaces(tmp_path, caplog) -> None:
    """transformers#45488: a tokenizer that drops spaces on decode spoils every decoded generation. Before: the
    round-trip check ran in masking, probe and distill only; the profile of an lm-eval run said nothing."""
    from tokenizers import decoders

    from tests.chat_fixtures import make_tokenizer

    tok = make_tokenizer("qwen3")
    tok.backend_tokenizer.decoder = decoders.Sequence([decoders.Replace("\u0120", ""), decoders.ByteLevel()])
    tok.save_pretrained(tmp_path / "broken")
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack"):
        profile = loader.resolve_profile({"pretrained": str(tmp_path / "broken")})
    assert (profile["thinkpack_format"], profile["thinkpack_profile_source"]) == ("qwen3", "chat_template")
    assert any("does not round-trip plain text" in r.getMessage() and "45488" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
