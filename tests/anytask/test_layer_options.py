"""The layer's switches and its pieces for task authors: --no_trace_layer, --primary_metric, the registered
``thinkpack_answer`` filter as the first step of a task's own pipeline, TraceAwareTask, thinkpack tasks left alone."""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.eval_cli import layer_options
from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY, AnswerFilter, TraceLayerError, answer_of

from .runner import lm_eval_task_dir, run, task_manager
from .specs import BY_TASK, write_canned


def test_layer_options_are_taken_out_of_lm_evals_arguments():
    assert layer_options(["--tasks", "gsm8k", "--no_trace_layer"]) == (["--tasks", "gsm8k"], False, None)
    assert layer_options(["--primary_metric", "exact_match,flexible-extract", "--limit", "3"]) == (
        ["--limit", "3"], True, "exact_match,flexible-extract")
    assert layer_options(["--primary_metric=acc"]) == ([], True, "acc")
    with pytest.raises(SystemExit, match="--primary_metric needs a metric name"):
        layer_options(["--primary_metric", "--limit"])


def test_primary_metric_picks_the_pipeline_rpass_reads(local_hub, tmp_path, caplog):
    import logging

    spec = BY_TASK["gsm8k"]
    canned = write_canned(tmp_path / "c.jsonl", spec.canned_lines())
    caplog.set_level(logging.WARNING)  # the eval command shows warnings, not INFO lines
    out = run(["gsm8k"], canned, layer=True, primary="exact_match,flexible-extract")
    assert out["configs"]["gsm8k"]["metadata"]["thinkpack_primary"] == "exact_match,answer/flexible-extract"
    said = [r.getMessage() for r in caplog.records if "Rpass@1 reads" in r.getMessage()]
    assert said == ["lm-eval-thinkpack: trace layer on gsm8k; Rpass@1 reads (pick another with --primary_metric): "
                    "gsm8k exact_match,answer/flexible-extract"]
    with pytest.raises(TraceLayerError, match="no generative task of this run has that metric"):
        run(["gsm8k"], canned, layer=True, primary="f1")


def test_a_chat_model_without_its_template_is_refused_as_for_thinkpack_tasks(local_hub, tmp_path, monkeypatch):
    from lm_eval_thinkpack.harness import preflight
    from lm_eval_thinkpack.harness.loader import ThinkpackConfigError

    monkeypatch.setattr(preflight, "model_has_chat_template", lambda lm: True)  # as an hf chat model's tokenizer

    canned = write_canned(tmp_path / "c.jsonl", BY_TASK["gsm8k"].canned_lines())
    with pytest.raises(ThinkpackConfigError, match="apply_chat_template"):
        run(["gsm8k"], canned, layer=True, chat=False)
    run(["gsm8k"], canned, layer=False, chat=False)  # without the layer lm-eval runs it as ever


def test_no_layer_leaves_the_task_as_lm_eval_runs_it(local_hub, tmp_path):
    spec = BY_TASK["gsm8k"]
    out = run(["gsm8k"], write_canned(tmp_path / "c.jsonl", spec.canned_lines()), layer=False)
    assert not any(ANSWER_PREFIX in k or TRACE_KEY in k for k in out["results"]["gsm8k"])


def test_answer_filter_first_in_an_authors_pipeline(local_hub, tmp_path):
    """A task YAML of one's own: lm-eval's gsm8k included, its strict pipeline written with thinkpack_answer first."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "gsm8k_answers.yaml").write_text(
        f"include: {lm_eval_task_dir() / 'gsm8k' / 'gsm8k.yaml'}\n"
        "task: gsm8k_answers\n"
        "filter_list:\n"
        "  - name: strict-answer\n"
        "    filter:\n"
        "      - function: thinkpack_answer\n"
        "        trace_format: think\n"
        "      - function: regex\n"
        "        regex_pattern: \"#### (\\\\-?[0-9\\\\.\\\\,]+)\"\n"
        "      - function: take_first\n")
    spec = BY_TASK["gsm8k"]
    lines = [{**x, "task": "gsm8k_answers"} for x in spec.canned_lines()]
    canned = write_canned(tmp_path / "c.jsonl", lines)
    import lm_eval

    import lm_eval_thinkpack.harness.canned  # noqa: F401

    tm = task_manager({"trace_format": "think", "prefilled": False}, extra=(str(folder),))
    out = lm_eval.simple_evaluate(model="thinkpack-canned", model_args=f"responses={canned}",
                                  tasks=["gsm8k_answers"], log_samples=True, bootstrap_iters=0, task_manager=tm)
    res = out["results"]["gsm8k_answers"]
    assert res["exact_match,strict-answer"] == pytest.approx(0.6)  # answers only: the trace's numbers are not read


def test_answer_filter_alone_gives_each_classs_answer():
    texts = ["<think>\nx\n</think>\n\nA", "<think>\ncut", "B", "<think>\n</think>\nC"]
    out = AnswerFilter(trace_format="think", prefilled=False).apply([[t] for t in texts], [{}] * 4)
    assert out == [["A"], [""], ["B"], ["C"]]
    assert answer_of(texts[2], classify(texts[2], "think"), None) is texts[2]  # no copy of a missing trace's text


def test_thinkpack_tasks_are_left_alone():
    from pathlib import Path

    from lm_eval.tasks import TaskManager

    from lm_eval_thinkpack.harness.anytask import install, is_thinkpack_task

    repo_tasks = Path(__file__).resolve().parents[2] / "tasks"
    loaded = TaskManager(include_path=str(repo_tasks), include_defaults=False,
                         metadata={"trace_format": "think", "prefilled": False}).load(["thinkpack_demo_add"])
    task = loaded["tasks"]["thinkpack_demo_add"]
    assert is_thinkpack_task(task) and not install(task)


def test_a_group_gets_trace_figures_pooled_over_its_tasks_samples(local_hub, tmp_path):
    """A group of two installed lm-eval tasks: its trace row is pooled over every sample of both (VR over all their
    responses, Rpass@1 over all their valid ones), not a mean of the two tasks' figures."""
    import lm_eval

    import lm_eval_thinkpack.harness.canned  # noqa: F401
    from lm_eval_thinkpack.stats import trace_stats

    from .runner import layer_on, no_env_info

    folder = tmp_path / "grp"
    folder.mkdir()
    (folder / "tp_pool.yaml").write_text("group: tp_pool\ntask:\n  - gsm8k\n  - gsm8k_cot_zeroshot\n")
    cot = BY_TASK["gsm8k_cot_zeroshot"]
    cot_lines = cot.canned_lines()
    for i in (2, 4):  # its missing and empty traces become valid, correct ones: 4 valid (3 right) vs gsm8k's 2 (1)
        cot_lines[i]["responses"] = [cot_lines[0]["responses"][0]]
    lines = BY_TASK["gsm8k"].canned_lines() + cot_lines
    canned = write_canned(tmp_path / "c.jsonl", lines)
    tm = task_manager({"trace_format": "think", "prefilled": False}, extra=(str(folder),))
    with layer_on(), no_env_info():
        out = lm_eval.simple_evaluate(model="thinkpack-canned", model_args=f"responses={canned}",
                                      tasks=["tp_pool"], limit=None, log_samples=True, bootstrap_iters=0,
                                      task_manager=tm, apply_chat_template=True)
    texts, primary = [], []
    for task in ("gsm8k", "gsm8k_cot_zeroshot"):
        trace_rows = [s for s in out["samples"][task] if s["filter"] == TRACE_KEY]
        texts += [s["resps"][0][0] for s in trace_rows]
        answer_key = out["configs"][task]["metadata"]["thinkpack_primary"]
        metric, _, filt = answer_key.partition(",")
        by_id = {s["doc_id"]: s for s in out["samples"][task] if s["filter"] == filt}
        primary += [(classify(s["resps"][0][0], "think"), float(by_id[s["doc_id"]][metric])) for s in trace_rows]
    traces = [classify(t, "think") for t in texts]
    pooled = out["results"]["tp_pool"]
    assert pooled[f"valid_trace_rate,{TRACE_KEY}"] == pytest.approx(trace_stats(traces).valid_trace_rate)
    valid = [score for trace, score in primary if trace.status.value == "valid"]
    assert valid and pooled[f"rpass@1,{TRACE_KEY}"] == pytest.approx(sum(valid) / len(valid))
    assert pooled[f"valid_trace_rate,{TRACE_KEY}"] == pytest.approx(0.6)
    per_task = [out["results"][t][f"rpass@1,{TRACE_KEY}"] for t in ("gsm8k", "gsm8k_cot_zeroshot")]
    assert per_task == [pytest.approx(0.5), pytest.approx(0.75)]
    assert pooled[f"rpass@1,{TRACE_KEY}"] == pytest.approx(4 / 6)  # a mean of the two tasks would say 0.625
