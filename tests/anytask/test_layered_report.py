"""``report`` and ``compare`` on the output folder of a run made with the trace layer (``lm-eval-thinkpack eval`` on
lm-eval's own gsm8k YAML, as installed): its samples file holds a line per pipeline (the task's own, their
``answer/`` copies, ``trace``); report reads the ``trace`` lines, whose correctness is the primary metric on the
answer. Before, report refused such a folder ("no thinkpack per-sample row" on the first line): the new user's
path of the issue (eval with --log_samples, then report) ended in that error."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from lm_eval_thinkpack.harness.anytask import TRACE_KEY
from lm_eval_thinkpack.report.cli import main
from lm_eval_thinkpack.report.readers import load_run
from lm_eval_thinkpack.report.summary import summarize

from .runner import layer_on, no_env_info, task_manager
from .specs import BY_TASK, responses, write_canned

META = {"trace_format": "think", "prefilled": False}


def _saved_run(lines: list[dict], tmp_path: Path, name: str, layer: bool = True) -> tuple[Path, dict]:
    """A layered run (``layer``; else a plain lm-eval run) of gsm8k on the canned model, saved as lm-eval's CLI
    saves it (--output_path, --log_samples)."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    import lm_eval_thinkpack.harness.canned  # noqa: F401  (registers thinkpack-canned)

    canned = write_canned(tmp_path / f"{name}.jsonl", lines)
    tracker = EvaluationTracker(output_path=str(tmp_path / name))
    with layer_on() if layer else contextlib.nullcontext(), no_env_info(), contextlib.redirect_stdout(None):
        out = lm_eval.simple_evaluate(model="thinkpack-canned", model_args=f"responses={canned}", tasks=["gsm8k"],
                                      log_samples=True, bootstrap_iters=0, task_manager=task_manager(META),
                                      apply_chat_template=True, evaluation_tracker=tracker)
    samples = out.pop("samples")
    tracker.save_results_aggregated(results=out, samples=samples)
    tracker.save_results_samples(task_name="gsm8k", samples=samples["gsm8k"])
    return tmp_path / name, out["results"]["gsm8k"]


def test_report_reads_a_run_made_with_the_trace_layer(local_hub, tmp_path, capsys):
    folder, res = _saved_run(BY_TASK["gsm8k"].canned_lines(), tmp_path, "layered")
    s = summarize(load_run(folder)).tasks["gsm8k"]
    for rate in ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate",
                 "rpass@1"):
        assert s.get(rate) == pytest.approx(res[f"{rate},{TRACE_KEY}"]), rate
    # pass@1: the primary metric on the answer (the truncated trace holding the gold is not credited)
    assert s.get("pass@1") == pytest.approx(res["exact_match,answer/strict-match"]) == pytest.approx(0.6)
    assert res["exact_match,strict-match"] == pytest.approx(1.0)  # what the raw text said
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "gsm8k (exact_match,answer/strict-match)" in " ".join(out.split())


def test_compare_gates_runs_made_with_the_trace_layer(local_hub, tmp_path, capsys):
    good, _, _, _, empty = responses("#### «gold»", "#### «wrong»")
    base = [{"task": "gsm8k", "doc_id": i, "responses": [good], "fill": True} for i in range(5)]
    tuned = [{**x, "responses": [empty]} for x in base]  # every trace closed at once, every answer still right
    base_dir, _ = _saved_run(base, tmp_path, "base")
    tuned_dir, res = _saved_run(tuned, tmp_path, "tuned")
    assert res[f"valid_trace_rate,{TRACE_KEY}"] == 0 and res["exact_match,answer/strict-match"] == 1
    assert main(["compare", str(base_dir), str(tuned_dir), "--fail-on-collapse"]) == 3
    assert "REASONING-TRACE COLLAPSE" in capsys.readouterr().out


def test_a_layered_run_counts_what_its_own_metric_credited_from_inside_the_trace(local_hub, tmp_path, capsys):
    # the canned gsm8k lines: the raw text credits 5 of 5 (1.0), the answer 3; the two others are the gold written
    # only inside a closed trace and a truncated trace holding the gold: the credit the layer takes away
    folder, res = _saved_run(BY_TASK["gsm8k"].canned_lines(), tmp_path, "layered")
    s = summarize(load_run(folder)).tasks["gsm8k"]
    assert res["exact_match,strict-match"] == pytest.approx(1.0)
    assert (s.own_metric, s.credited, s.credited_in_trace) == ("exact_match,strict-match", 5, 2)
    assert {k: s.as_dict()[k] for k in ("credited_by", "credited", "credited_in_trace")} == \
        {"credited_by": "exact_match,strict-match", "credited": 5, "credited_in_trace": 2}
    assert main(["report", str(folder)]) == 0
    assert "2/5" in capsys.readouterr().out


def test_compare_refuses_a_layered_run_against_one_scored_on_the_raw_text(local_hub, tmp_path, capsys):
    # the same responses, one run with the layer (pass@1 = exact_match on the answer: 0.6) and one without
    # (pass@1 = exact_match on the raw text: 1.0): gating them would read the layer's work as a pass@1 drop
    lines = BY_TASK["gsm8k"].canned_lines()
    layered, _ = _saved_run(lines, tmp_path, "layered")
    plain, res = _saved_run(lines, tmp_path, "plain", layer=False)
    assert f"valid_trace_rate,{TRACE_KEY}" not in res
    capsys.readouterr()
    assert main(["compare", str(plain), str(layered)]) == 2
    err = capsys.readouterr().err
    assert "pass@1 on the raw text in" in err and "vs the answer in" in err and len(err.strip().splitlines()) == 1
    assert main(["compare", str(plain), str(layered), "--allow-different-settings"]) == 0
