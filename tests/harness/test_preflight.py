"""Checks before generation: chat template, token budget, --metadata types, task YAMLs, one-line errors, strict
JSON results. The end-to-end ones run the real ``lm_eval`` CLI on the bundled tiny model, offline."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from lm_eval_thinkpack.demo.settings import MODEL_DIR
from lm_eval_thinkpack.harness import loader, preflight
from lm_eval_thinkpack.harness.preflight import ThinkpackConfigError

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _lm_eval(tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={MODEL_DIR},dtype=float32",
           "--device", "cpu", "--include_path", str(REPO / "tasks"), "--batch_size", "8", *args]
    return subprocess.run(cmd, cwd=cwd or tmp_path, env=ENV, capture_output=True, text=True, timeout=600)


# ------------------------------------------------------------------------------------------- chat template


def test_a_template_skipped_is_refused_with_the_fix():
    with pytest.raises(ThinkpackConfigError, match=r"^the model m has a chat template .*Fix: add --apply_chat_temp"):
        preflight.check_chat_template(applied=False, has_template=True, model="m")
    for applied, has in [(True, True), (False, False), (True, False)]:
        preflight.check_chat_template(applied=applied, has_template=has)
    preflight.check_chat_template()  # outside an lm-eval run nothing is known, nothing is refused


def test_the_run_is_read_from_lm_evals_own_arguments():
    """run_facts reads these argument names of lm-eval 0.4.13's simple_evaluate and evaluate."""
    import inspect

    from lm_eval import evaluator

    simple, evaluate = (inspect.unwrap(f) for f in (evaluator.simple_evaluate, evaluator.evaluate))
    for fn in (simple, evaluate):
        names = fn.__code__.co_varnames
        assert fn.__name__ in preflight._RUN_FUNCTIONS and fn.__code__.co_filename.endswith("lm_eval/evaluator.py")
        assert "apply_chat_template" in names and "lm" in names, fn.__name__
    assert "gen_kwargs" in simple.__code__.co_varnames

    def evaluate(lm, apply_chat_template):  # a frame shaped like lm-eval's, but not from lm_eval/evaluator.py
        return preflight.run_facts()

    assert evaluate("lm", True) == preflight.RunFacts()


@pytest.mark.e2e
def test_lm_eval_without_the_chat_template_stops_with_one_line(tmp_path):
    proc = _lm_eval(tmp_path, "--tasks", "thinkpack_demo_parity", "--limit", "4")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("lm-eval-thinkpack: the model ") and last.endswith("Fix: add --apply_chat_template"), last


# ------------------------------------------------------------------------------------------------- budget


def _requests(prompts: list[str], budget: int) -> list[Instance]:
    return [Instance("generate_until", {}, (p, {"until": [], "max_gen_toks": budget}), i)
            for i, p in enumerate(prompts)]


def test_a_budget_above_the_context_is_clipped_to_what_the_longest_prompt_leaves(caplog):
    reqs = _requests(["a" * 30, "b" * 37], 1024)
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        assert preflight.clip_requests(reqs, 512, list) == [(1024, 475)]
    assert [r.args[1]["max_gen_toks"] for r in reqs] == [475, 475] and reqs[0].args[1]["until"] == []
    assert "max_gen_toks=1024 does not fit the model's context (512 tokens" in caplog.text
    fits = _requests(["a" * 30], 128)
    assert preflight.clip_requests(fits, 512, list) == [] and fits[0].args[1]["max_gen_toks"] == 128


@pytest.mark.e2e
def test_lm_eval_hf_with_a_budget_above_the_bundled_models_context_runs(tmp_path):
    """Before: lm-eval's hf model stopped with an AssertionError (1024 >= 512 positions)."""
    proc = _lm_eval(tmp_path, "--tasks", "thinkpack_demo_parity", "--limit", "4", "--apply_chat_template",
                    "--gen_kwargs", "max_gen_toks=1024", "--output_path", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "AssertionError" not in proc.stderr
    assert "lm-eval-thinkpack: max_gen_toks=1024 does not fit the model's context (512 tokens" in proc.stderr
    results = _strict(next((tmp_path / "out").rglob("results_*.json")).read_text())  # strict: NaN is null
    task = results["results"]["thinkpack_demo_parity"]
    assert task["valid_trace_rate,thinkpack"] == 1.0
    assert task["budget_exhausted_rate,thinkpack"] is None  # hf says no finish reason: unknown, null


# ------------------------------------------------------------------------------------------------ metadata


@pytest.mark.parametrize(("meta", "key"), [
    ({"trace_format": None}, "trace_format=null"), ({"trace_format": ""}, "trace_format"),
    ({"trace_format": 3}, "trace_format=3"), ({"prefilled": 1}, "prefilled=1"),
    ({"prefilled": "yes"}, 'prefilled="yes"'), ({"thinking_disabled": None}, "thinking_disabled=null"),
    ({"scoring_timeout": "soon"}, "scoring_timeout"), ({"scoring_timeout": -1}, "scoring_timeout"),
    ({"max_record_mb": 0}, "max_record_mb"), ({"data_files": None}, "data_files"), ({"data_dir": 5}, "data_dir"),
])
def test_bad_metadata_is_one_line_naming_the_key_and_the_fix(meta, key):
    with pytest.raises(ThinkpackConfigError) as err:
        loader.resolve_profile(meta)
    msg = str(err.value)
    assert msg.startswith(f"--metadata {key}") and "Fix: " in msg and "\n" not in msg


def test_good_metadata_flags_are_booleans():
    prof = loader.resolve_profile({"trace_format": "qwen3", "prefilled": "True", "thinking_disabled": False})
    assert prof["thinkpack_prefilled"] is True and prof["thinkpack_thinking_disabled"] is False


def test_an_unknown_format_names_the_key():
    with pytest.raises(ValueError, match=r"^--metadata trace_format='qwen4': unknown trace format"):
        loader.resolve_profile({"trace_format": "qwen4"})
    with pytest.raises(ValueError, match=r"^--metadata trace_format: trace_format spec: 'close' is required"):
        loader.resolve_profile({"trace_format": {"open": "<r>"}})


@pytest.mark.e2e
def test_bad_metadata_in_an_lm_eval_run_prints_one_line(tmp_path):
    """Before: a 54-60 line traceback."""
    proc = _lm_eval(tmp_path, "--tasks", "thinkpack_demo_parity", "--limit", "2", "--apply_chat_template",
                    "--metadata", '{"trace_format": "qwen4"}')
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("lm-eval-thinkpack: --metadata ")


def test_the_error_hook_prints_a_user_error_as_one_line_and_leaves_others():
    code = ("from lm_eval_thinkpack.harness import preflight; preflight.install_error_hook(); import sys; "
            "raise (preflight.ThinkpackConfigError('bad thing. Fix: this') if sys.argv[1] == 'user' else "
            "KeyError('bug'))")
    user = subprocess.run([sys.executable, "-c", code, "user"], capture_output=True, text=True, timeout=120)
    assert user.returncode == 1 and user.stderr == "lm-eval-thinkpack: bad thing. Fix: this\n"
    bug = subprocess.run([sys.executable, "-c", code, "bug"], capture_output=True, text=True, timeout=120)
    assert bug.returncode == 1 and "Traceback" in bug.stderr and "KeyError: 'bug'" in bug.stderr


# ------------------------------------------------------------------------------------------------ warnings


def test_a_repeated_warning_is_shown_once_and_counted(caplog, monkeypatch):
    monkeypatch.setattr(preflight, "_seen", {})
    log = logging.getLogger("lm_eval_thinkpack.harness")
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        for _ in range(5):
            preflight.warn_once(log, "k", "lm-eval-thinkpack: assuming %r", "think")
        preflight._report_repeats()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["lm-eval-thinkpack: assuming 'think'",
                     "lm-eval-thinkpack: this warning was shown once and came 4 more times: "
                     "lm-eval-thinkpack: assuming 'think'"]


def test_loader_warnings_repeat_once_per_process(caplog, monkeypatch):
    monkeypatch.setattr(preflight, "_seen", {})
    with caplog.at_level(logging.WARNING, logger="lm_eval_thinkpack.harness"):
        for _ in range(6):
            loader.resolve_profile({})
    assert sum("no model id" in r.getMessage() for r in caplog.records) == 1
    assert preflight.repeats() and max(preflight.repeats().values()) == 5


def test_lm_evals_per_task_warning_is_shown_once_and_counted(caplog, monkeypatch):
    """Before: lm-eval 0.4.13 warned "Custom kwargs can be passed to `--metadata`..." (2 lines) for every thinkpack
    task it built: 60 lines in the demo (5 tasks, 6 models)."""
    from lm_eval.tasks import TaskManager, get_task_dict

    monkeypatch.setattr(preflight, "_seen", {})
    manager = TaskManager(include_path=str(REPO / "tasks"), include_defaults=False,
                          metadata={"trace_format": "qwen3", "prefilled": False})
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            get_task_dict(["thinkpack_demo_add", "thinkpack_demo_parity"], manager)
    assert sum("Custom kwargs can be passed" in r.getMessage() for r in caplog.records) == 1
    assert [n for text, n in preflight.repeats().items() if "Custom kwargs can be passed" in text] == [3]


# --------------------------------------------------------------------------------------------- strict JSON


def test_results_files_are_strict_json(tmp_path):
    import numpy as np
    from lm_eval.loggers import EvaluationTracker

    import lm_eval_thinkpack.harness  # noqa: F401  (installs the strict writer)
    from lm_eval_thinkpack.stats import json_ready

    results = {"results": {"t": {"rpass@1,thinkpack": math.nan, "x": np.float32("nan"), "y": math.inf,
                                 "ok": 0.5, "n": np.int64(3)}}, "configs": {}}
    EvaluationTracker(output_path=str(tmp_path)).save_results_aggregated(results=results, samples=None)
    doc = _strict(next(tmp_path.rglob("results_*.json")).read_text())
    assert doc["results"]["t"] == {"rpass@1,thinkpack": None, "x": None, "y": None, "ok": 0.5, "n": 3}
    assert math.isnan(results["results"]["t"]["rpass@1,thinkpack"])  # the caller's dict is unchanged
    assert "task_hashes" in results  # ... but gets what lm-eval adds to it
    assert json_ready((1.0, [math.nan], {"a": {"b": -math.inf}})) == [1.0, [None], {"a": {"b": None}}]


# ------------------------------------------------------------------------------------------------ task files


def test_a_yaml_whose_include_is_missing_is_named(tmp_path):
    (tmp_path / "mine.yaml").write_text("include: _base_math.yaml\ntask: my_task\ndataset_kwargs: {}\n")
    (tmp_path / "other.yaml").write_text("include: nowhere.yaml\ntask: not_asked\n")
    with pytest.raises(ThinkpackConfigError, match=r"mine\.yaml: task my_task: its include '_base_math\.yaml' is "
                                                   r"not found .*Fix: name the base by class"):
        preflight.check_task_files(["--tasks", "my_task", "--include_path", str(tmp_path)])
    preflight.check_task_files(["--tasks", "other_task", "--include_path", str(tmp_path)])  # not asked: left


def test_a_yaml_whose_base_class_does_not_import_is_named(tmp_path):
    """Before: a misspelt base class passed this check, and lm-eval then stopped with a 60-80 line traceback."""
    (tmp_path / "mine.yaml").write_text("class: !function lm_eval_thinkpack.harness.bases.MathBas\ntask: my_task\n")
    with pytest.raises(ThinkpackConfigError, match=r"mine\.yaml: task my_task: Module 'lm_eval_thinkpack\.harness\."
                                                   r"bases' has no function 'MathBas' .*Fix: correct the name; to name"
                                                   r" the base by class"):
        preflight.check_task_files(["--tasks", "my_task", "--include_path", str(tmp_path)])
    (tmp_path / "mine.yaml").write_text("class: !function lm_eval_thinkpack.harness.bases.MathBase\ntask: my_task\n")
    preflight.check_task_files(["--tasks", "my_task", "--include_path", str(tmp_path)])


def test_thinkpack_eval_stops_on_a_missing_include_with_one_line(tmp_path):
    (tmp_path / "mine.yaml").write_text("include: ../_base_math.yaml\ntask: my_task\n")
    proc = subprocess.run([sys.executable, "-m", "lm_eval_thinkpack", "eval", "--model", "hf", "--tasks", "my_task",
                           "--include_path", "."], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith("lm-eval-thinkpack eval: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "mine.yaml: task my_task: its include '../_base_math.yaml' is not found" in proc.stderr


def test_no_hub_data_names_the_group_friendly_fixes(monkeypatch):
    """Before: the hint named only a plain data_files, which in a group run would feed every task the same file."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(loader.HubDataError) as err:
        loader.load_docs(thinkpack_task="thinkpack_gsm8k", thinkpack_adapter="gsm8k",
                         thinkpack_path="thinkpack-tests-nonexistent/gsm8k", trace_format="qwen3", prefilled=False)
    msg = str(err.value)
    assert "DIR/thinkpack_gsm8k.jsonl (one file per task, so it serves a group too)" in msg
    assert '{"data_files": {"thinkpack_gsm8k": "PATH.jsonl"}}' in msg and "\n" not in msg
    assert preflight.one_line(err.value) == msg  # printed as its one line
