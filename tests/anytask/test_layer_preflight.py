"""The thinkpack tasks' run checks hold for the trace layer too, on a task YAML of the user's own (local data, the
bundled tiny model, offline; lm-eval's ``simple_evaluate`` in-process, as its CLI calls it): prompts not rendered
with the model's chat template are refused with one line, and a ``max_gen_toks`` above the model's context (512
positions) is clipped with a warning.

Before: a trace-aware copy (``class: !function ...TraceAwareTask``) run without ``--apply_chat_template`` ran and
read VR 0.00 / ER 1.00 on the bundled model (a false collapse), and a budget of 1024 on a layered task (the YAML
class, or ``lm-eval-thinkpack eval``) ended in lm-eval's AssertionError (1024 >= 512).
"""

from __future__ import annotations

import json
import logging

import pytest

from lm_eval_thinkpack.demo.settings import MODEL_DIR
from lm_eval_thinkpack.harness.preflight import ThinkpackConfigError

TASK = """task: {name}
{cls}dataset_path: json
dataset_kwargs:
  data_files: {{test: {data}}}
test_split: test
output_type: generate_until
doc_to_text: "{{{{q}}}}"
doc_to_target: "{{{{a}}}}"
generation_kwargs: {{until: [], max_gen_toks: {budget}}}
metric_list:
  - metric: exact_match
"""
TRACED = "class: !function lm_eval_thinkpack.harness.anytask.TraceAwareTask\n"
CLIP = "lm-eval-thinkpack: max_gen_toks=1024 does not fit the model's context (512 tokens"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``run(task, apply_chat_template, **simple_evaluate kwargs)`` on the bundled model (a fresh model object each
    time: the budget clip is installed once per model object)."""
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    folder = tmp_path_factory.mktemp("user_tasks")
    data = folder / "sums.jsonl"
    data.write_text("".join(json.dumps({"q": f"{a}+{a}", "a": str(2 * a)}) + "\n" for a in range(2)))
    (folder / "traced.yaml").write_text(TASK.format(name="sums_traced", cls=TRACED, data=data, budget=1024))
    (folder / "plain.yaml").write_text(TASK.format(name="sums_plain", cls="", data=data, budget=64))

    def go(task: str, apply_chat_template: bool, **kwargs):
        lm = HFLM(pretrained=str(MODEL_DIR), device="cpu", dtype="float32")
        manager = TaskManager(include_path=str(folder), include_defaults=False,
                              metadata={"trace_format": "qwen3", "prefilled": False})
        return evaluator.simple_evaluate(model=lm, tasks=[task], task_manager=manager, limit=2,
                                         apply_chat_template=apply_chat_template, **kwargs)["results"][task]

    return go


def test_a_trace_aware_yaml_refuses_prompts_without_the_template(run, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(ThinkpackConfigError, match=r"^the model .* has a chat template but the prompts are not "
                                                   r"rendered with it.*Fix: add --apply_chat_template$"):
        run("sums_traced", False)


def test_a_trace_aware_yaml_clips_a_budget_above_the_context(run, monkeypatch, caplog):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        res = run("sums_traced", True)
    assert CLIP in caplog.text and "valid_trace_rate,trace" in res


def test_the_eval_layer_clips_a_budget_above_the_context(run, monkeypatch, caplog):
    """What ``lm-eval-thinkpack eval`` does: lm-eval's ``evaluate`` with the layer, max_gen_toks=1024."""
    from lm_eval import evaluator

    from lm_eval_thinkpack.harness.anytask import evaluate_with_layer

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(evaluator, "evaluate", evaluate_with_layer(evaluator.evaluate))
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        res = run("sums_plain", True, gen_kwargs="max_gen_toks=1024")
    assert CLIP in caplog.text and "valid_trace_rate,trace" in res
