"""The layer through the command line, on the bundled tiny model: the README's trace-aware YAML with plain
``lm_eval`` (run as written, from a folder outside the checkout), and a multi-task ``lm-eval-thinkpack eval`` run
(a leaderboard-style list, a loglikelihood task, a thinkpack task)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY
from lm_eval_thinkpack.stats import trace_stats

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MODEL_DIR = REPO / "lm_eval_thinkpack" / "demo" / "model"
RATES = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate")


def _env(hub_cache: Path, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HF_DATASETS_CACHE=str(hub_cache), HF_HOME=str(tmp_path / "hf_home"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    return env


def _outputs(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    results = sorted(out.rglob("results_*.json"))
    assert results, f"no results JSON under {out}"
    samples = {}
    for f in out.rglob("samples_*.jsonl"):
        task = f.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    return json.loads(results[-1].read_text()), samples


def _check_trace_figures(res: dict, samples: list[dict], fmt: str) -> None:
    """The layer's rates equal classify + trace_stats on the logged responses."""
    texts = [s["resps"][0][0] for s in sorted(samples, key=lambda s: s["doc_id"]) if s["filter"] == TRACE_KEY]
    assert texts
    stats = trace_stats([classify(t, fmt) for t in texts])
    for rate in RATES:
        assert res[f"{rate},{TRACE_KEY}"] == pytest.approx(stats.estimates[rate].value), rate


def test_readme_trace_aware_yaml_runs_with_plain_lm_eval(hub_cache, tmp_path):
    text = README.read_text()
    section = text[text.index("### In a task YAML"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    work = tmp_path / "elsewhere"  # outside the checkout
    work.mkdir()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.group(1)], cwd=work, env=_env(hub_cache, tmp_path),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-6000:]
    data, samples = _outputs(work / "out")
    res = data["results"]["gsm8k_cot_zeroshot_traced"]
    for key in ("exact_match,strict-match", "exact_match,flexible-extract", f"exact_match,{ANSWER_PREFIX}strict-match",
                f"valid_trace_rate,{TRACE_KEY}", f"valid_trace_rate_stderr,{TRACE_KEY}", f"rpass@1,{TRACE_KEY}"):
        assert key in res, key
    assert data["configs"]["gsm8k_cot_zeroshot_traced"]["metadata"]["thinkpack_trace_format"] == "qwen3"
    _check_trace_figures(res, samples["gsm8k_cot_zeroshot_traced"], "qwen3")


def test_eval_multi_task_run_on_the_bundled_model(hub_cache, tmp_path):
    tasks = ["leaderboard_ifeval", "leaderboard_bbh_boolean_expressions", "gsm8k_cot_zeroshot", "thinkpack_demo_add"]
    cmd = [sys.executable, "-m", "lm_eval_thinkpack", "eval", "--model", "hf", "--model_args",
           f"pretrained={MODEL_DIR}", "--tasks", ",".join(tasks), "--include_path", str(REPO / "tasks"),
           "--apply_chat_template", "--limit", "3", "--gen_kwargs", "max_gen_toks=64", "--output_path",
           str(tmp_path / "out"), "--log_samples"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=_env(hub_cache, tmp_path), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    data, samples = _outputs(tmp_path / "out")
    results = data["results"]
    for task in ("leaderboard_ifeval", "gsm8k_cot_zeroshot"):
        res = results[task]
        assert any(k.startswith("valid_trace_rate,trace") for k in res), task
        assert any(f",{ANSWER_PREFIX}" in k for k in res), task
        _check_trace_figures(res, samples[task], "qwen3")
    # the loglikelihood task is left as it is and named once in the log
    assert not any(TRACE_KEY in k or ANSWER_PREFIX in k for k in results["leaderboard_bbh_boolean_expressions"])
    log = proc.stdout + proc.stderr
    assert log.count("loglikelihood tasks left as they are: leaderboard_bbh_boolean_expressions") == 1
    # and which metric each layered task's Rpass@1 reads, once
    assert log.count("Rpass@1 reads (pick another with --primary_metric): leaderboard_ifeval "
                     "prompt_level_strict_acc,answer/none; gsm8k_cot_zeroshot exact_match,answer/strict-match") == 1
    # the thinkpack task keeps its own metrics
    demo = results["thinkpack_demo_add"]
    assert "valid_trace_rate,thinkpack" in demo and not any(k.endswith(f",{TRACE_KEY}") for k in demo)
    # the printed table shows the trace rows beside each task's own
    assert "answer/strict-match" in proc.stdout and "valid_trace_rate" in proc.stdout
    (tmp_path / "table.txt").write_text(proc.stdout)
