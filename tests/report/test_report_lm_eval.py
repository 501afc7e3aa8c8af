"""``lm-eval-thinkpack report`` / ``compare`` on real lm-eval output (the canned pipeline of conftest.py).

Expected numbers follow from tests/report/data/{base,tuned}_responses.jsonl:

base  (all valid): gsm8k 4/5 right (the pens answer is 90), math500 2/2, aime24 1/1, aime25 1/1.
tuned: gsm8k missing+right, empty+right, missing+right, valid+right, truncated (wrong);
       math500 missing+right x2; aime24 missing+right; aime25 valid+right.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil

import pytest

from lm_eval_thinkpack.report.cli import EXIT_COLLAPSE, main, register
from lm_eval_thinkpack.report.compare import COLLAPSE, OK, compare
from lm_eval_thinkpack.report.readers import load_run
from lm_eval_thinkpack.report.summary import summarize
from lm_eval_thinkpack.stats import ALL_TASKS, wilson_interval

TASKS = ["thinkpack_gsm8k", "thinkpack_math500", "thinkpack_aime24", "thinkpack_aime25"]


@pytest.fixture(scope="module")
def base(lm_eval_runs):
    return summarize(load_run(lm_eval_runs["base"]))


@pytest.fixture(scope="module")
def tuned(lm_eval_runs):
    return summarize(load_run(lm_eval_runs["tuned"]))


def vals(summary, *metrics):
    return tuple(summary.get(m) for m in metrics)


RATES = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate")


def test_register_adds_report_and_compare():
    parser = argparse.ArgumentParser(prog="lm-eval-thinkpack")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["report", "x", "--json", "-"])
    assert args.command == "report" and callable(args.func) and args.paths == ["x"]
    args = parser.parse_args(["compare", "a", "b", "c", "--vr-drop", "0.4", "--fail-on-collapse"])
    assert args.paths == ["a", "b", "c"] and args.vr_drop == 0.4 and args.fail_on_collapse
    assert args.pass_tolerance == 0.10 and args.vr_rel_drop == 0.50


def test_task_numbers_from_samples(base, tuned):
    assert list(base.tasks) == TASKS and base.label == "base"
    g = base.tasks["thinkpack_gsm8k"]
    assert g.source == "samples" and g.n == 5
    assert vals(g, *RATES) == (1.0, 0.0, 0.0, 0.0)
    assert vals(g, "pass@1", "rpass@1") == pytest.approx((0.8, 0.8))
    # Wilson 95% from trace_stats' estimate
    lo, hi = wilson_interval(4, 5)
    assert (g.values["pass@1"].ci_low, g.values["pass@1"].ci_high) == pytest.approx((lo, hi))
    # mean trace length: whitespace tokens of the reasoning over valid traces (5, 9, 5, 5, 5)
    assert g.trace_words == pytest.approx(29 / 5)
    assert g.trace_chars == pytest.approx(sum(map(len, ["3 + 4 = 7.", "Three boxes of twelve: 12 * 3 = 36.",
                                                       "15 * 4 = 60.", "25 - 15 = 10.", "25 * 4 = 90."])) / 5)
    assert g.budget_exhausted_rate is None  # lm-eval 0.4.13 gives no finish reason
    assert g.scoring_errors == 0

    t = tuned.tasks["thinkpack_gsm8k"]
    assert vals(t, *RATES) == pytest.approx((0.2, 0.2, 0.4, 0.2))
    assert vals(t, "pass@1", "rpass@1") == pytest.approx((0.8, 1.0))
    assert t.values["rpass@1"].total == 1 and t.trace_words == 5.0  # "25 - 15 = 10."
    m = tuned.tasks["thinkpack_math500"]
    assert vals(m, "missing_trace_rate", "pass@1") == (1.0, 1.0)
    assert m.get("rpass@1") is None and m.trace_words is None  # undefined, never 0
    # lengths: the canned model names no tokenizer, so the filter counted whitespace words, and says so
    assert t.token_unit == "words" and t.get("no_answer_rate") == 0.0
    assert t.get("reasoning_tokens") == pytest.approx(11 / 5) and t.get("answer_tokens") == pytest.approx(7 / 5)
    assert t.lengths["truncated"]["reasoning"]["mean"] == 6 and t.lengths["valid"]["answer"]["median"] == 1
    assert tuned.run.tasks["thinkpack_gsm8k"].results["tokens_as_words"]["value"] == 1
    # the recomputed values agree with lm-eval's own aggregation in the results JSON
    for name in TASKS:
        for metric in (*RATES, "pass@1", "reasoning_tokens", "answer_tokens"):
            lm = tuned.run.tasks[name].results[metric]["value"]
            assert tuned.tasks[name].get(metric) == pytest.approx(lm), (name, metric)


def test_groups_pooled_and_task_mean(base, tuned):
    assert list(tuned.groups) == ["thinkpack_math"]
    g = tuned.groups["thinkpack_math"]
    assert g.tasks == TASKS
    # pooled: one trace_stats call over all 9 generations
    assert vals(g.pooled, *RATES) == pytest.approx((2 / 9, 1 / 9, 5 / 9, 1 / 9))
    assert g.pooled.get("pass@1") == pytest.approx(8 / 9)
    assert g.pooled.get("rpass@1") == pytest.approx(1.0)  # 2 valid traces, both right
    assert g.pooled.values["rpass@1"].total == 2
    # task mean: each task equally; Rpass@1 over the tasks with a valid trace (gsm8k 1.0, aime25 1.0)
    assert vals(g.task_mean, *RATES) == pytest.approx((0.3, 0.05, 0.6, 0.05))
    assert g.task_mean.get("pass@1") == pytest.approx(0.95)
    assert g.task_mean.get("rpass@1") == pytest.approx(1.0)
    assert g.task_mean.values["rpass@1"].count == 2
    # lm-eval's size-weighted group mean is NaN for rpass@1 here (math500 has no valid trace)
    assert math.isnan(g.lm_eval.values["rpass@1"].value or float("nan"))
    b = base.groups["thinkpack_math"]
    assert vals(b.pooled, "pass@1", "rpass@1") == pytest.approx((8 / 9, 8 / 9))
    assert vals(b.task_mean, "pass@1", "rpass@1") == pytest.approx((0.95, 0.95))
    assert base.overall() is b.pooled


def test_report_cli_prints_and_exports(lm_eval_runs, tmp_path, capsys):
    js, md, png = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.png"
    rc = main(["report", str(lm_eval_runs["tuned"]), "--json", str(js), "--markdown", str(md), "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    for text in ("thinkpack_gsm8k", "thinkpack_math (pooled)", "thinkpack_math (task mean)", "Rpass@1",
                 "trace words", "[0.036, 0.624]", "Wilson 95%"):
        assert text in out, text
    doc = json.loads(js.read_text())
    run = doc["runs"][0]
    assert run["label"] == "tuned" and "whitespace tokens" in run["trace_length_unit"]
    gsm = run["tasks"]["thinkpack_gsm8k"]["metrics"]
    assert gsm["valid_trace_rate"]["value"] == pytest.approx(0.2)
    assert gsm["valid_trace_rate"]["ci95"] == pytest.approx(list(wilson_interval(1, 5)))
    assert run["tasks"]["thinkpack_math500"]["metrics"]["rpass@1"]["value"] is None
    grp = run["groups"]["thinkpack_math"]
    assert grp["pooled"]["metrics"]["rpass@1"]["value"] == pytest.approx(1.0)
    assert grp["task_mean"]["metrics"]["valid_trace_rate"]["value"] == pytest.approx(0.3)
    assert grp["lm_eval_size_weighted"]["metrics"]["rpass@1"]["value"] is None  # NaN -> null
    text = md.read_text()
    assert "| task / group | VR | ER | MR | TR | pass@1 | Rpass@1 |" in text
    assert "| thinkpack_math (pooled) | 0.222 [" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_report_json_to_stdout_moves_tables_to_stderr(lm_eval_runs, capsys):
    assert main(["report", str(lm_eval_runs["base"]), "--json", "-"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["runs"][0]["tasks"]["thinkpack_aime24"]["metrics"]["pass@1"]["value"] == 1.0
    assert "thinkpack_gsm8k" in cap.err


def test_compare_flags_collapse_with_evidence_and_examples(base, tuned):
    cmp = compare([base, tuned])
    by_task = {v.task: v for v in cmp.verdicts}
    assert by_task["thinkpack_gsm8k"].verdict == COLLAPSE
    assert by_task["thinkpack_gsm8k"].delta["valid_trace_rate"] == pytest.approx(-0.8)
    assert by_task["thinkpack_gsm8k"].delta["pass@1"] == pytest.approx(0.0)
    assert by_task["thinkpack_gsm8k"].delta["rpass@1"] == pytest.approx(0.2)
    assert by_task["thinkpack_math500"].verdict == COLLAPSE
    assert by_task["thinkpack_math500"].delta["rpass@1"] is None
    assert by_task["thinkpack_aime25"].verdict == OK
    assert by_task[ALL_TASKS].verdict == COLLAPSE
    assert by_task[ALL_TASKS].delta["valid_trace_rate"] == pytest.approx(2 / 9 - 1)
    ex = cmp.examples["tuned"]
    assert list(ex) == ["valid", "empty", "missing", "truncated"]
    assert ex["missing"]["excerpt"] == "He has \\boxed{7} apples."
    assert ex["truncated"]["excerpt"].startswith("<think>25 pens") and ex["truncated"]["correct"] is False


def test_compare_cli_exit_codes_and_exports(lm_eval_runs, tmp_path, capsys):
    b, t = str(lm_eval_runs["base"]), str(lm_eval_runs["tuned"])
    js, md, png = tmp_path / "c.json", tmp_path / "c.md", tmp_path / "c.png"
    assert main(["compare", b, t, "--json", str(js), "--markdown", str(md), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "REASONING-TRACE COLLAPSE" in out and "collapse" in out and "-0.800" in out
    assert "tuned / thinkpack_gsm8k: COLLAPSE: VR 1.000 -> 0.200 (-0.800)" in out
    assert main(["compare", b, t, "--fail-on-collapse"]) == EXIT_COLLAPSE
    doc = json.loads(js.read_text())
    assert doc["collapse"] is True and doc["rule"]["vr_drop"] == 0.3
    assert {"model": "tuned", "task": ALL_TASKS} in doc["collapsed"]
    assert doc["examples"]["tuned"]["empty"]["excerpt"] == "<think> </think> \\boxed{36}"
    assert "**collapse**" in md.read_text() and "### Example generations of tuned" in md.read_text()
    assert png.read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    # no collapse: the base against itself, and a threshold above every VR drop
    assert main(["compare", b, b, "--fail-on-collapse"]) == 0
    assert "no reasoning-trace collapse" in capsys.readouterr().out
    assert main(["compare", b, t, "--vr-drop", "1.0", "--vr-rel-drop", "0", "--fail-on-collapse"]) == EXIT_COLLAPSE
    assert main(["compare", b, t, "--vr-drop", "0.9", "--vr-rel-drop", "0", "--pass-tolerance", "0",
                 "--label", "B", "--label", "T", "--json", str(js)]) == 0
    verdicts = {v["task"]: v["verdict"] for v in json.loads(js.read_text())["verdicts"]}
    assert verdicts == {"thinkpack_gsm8k": "ok", "thinkpack_math500": "collapse", "thinkpack_aime24": "collapse",
                        "thinkpack_aime25": "ok", ALL_TASKS: "ok"}


def test_results_json_fallback_without_samples(lm_eval_runs, tmp_path, capsys):
    run_dir = tmp_path / "tuned_nosamples"
    shutil.copytree(lm_eval_runs["tuned"], run_dir)
    for f in run_dir.rglob("samples_*.jsonl"):
        if "gsm8k" not in f.name:
            f.unlink()
    s = summarize(load_run(run_dir))
    assert s.tasks["thinkpack_gsm8k"].source == "samples"
    m = s.tasks["thinkpack_math500"]
    assert m.source == "results" and m.get("missing_trace_rate") == 1.0 and m.get("rpass@1") is None
    assert m.values["missing_trace_rate"].stderr == 0.0 and m.values["missing_trace_rate"].ci_low is None
    g = s.groups["thinkpack_math"]
    assert g.pooled is None and g.task_mean.get("valid_trace_rate") == pytest.approx(0.3)
    assert any("no logged samples" in n for n in s.run.notes)
    assert main(["report", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "± 0.000 se" in out and "no logged samples for thinkpack_math500" in out


def test_newest_results_file_wins(lm_eval_runs, tmp_path):
    run_dir = tmp_path / "two"
    shutil.copytree(lm_eval_runs["base"], run_dir)
    results = next(run_dir.rglob("results_*.json"))
    old = json.loads(results.read_text())
    old["results"]["thinkpack_gsm8k"]["valid_trace_rate,thinkpack"] = 0.123
    (results.parent / "results_2000-01-01T00-00-00.000000.json").write_text(json.dumps(old))
    run = load_run(run_dir)
    assert run.tasks["thinkpack_gsm8k"].results["valid_trace_rate"]["value"] == 1.0
    assert any("older results file" in n for n in run.notes)


def test_thinking_disabled_is_not_collapse(lm_eval_runs, base, tmp_path):
    run_dir = tmp_path / "disabled"
    shutil.copytree(lm_eval_runs["tuned"], run_dir)
    for f in run_dir.rglob("samples_*.jsonl"):
        lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        for line in lines:
            line["doc"]["thinkpack_thinking_disabled"] = True
        f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    run = summarize(load_run(run_dir))
    assert any("thinking was disabled" in n for n in run.run.notes)
    verdicts = {v.task: v.verdict for v in compare([base, run]).verdicts}
    assert verdicts["thinkpack_gsm8k"] == "thinking disabled" and verdicts[ALL_TASKS] == "thinking disabled"
    assert not compare([base, run]).collapsed
