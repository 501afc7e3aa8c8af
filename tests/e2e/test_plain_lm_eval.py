"""The plain ``lm_eval`` CLI, no ``--include_path``, a real ``--model hf``: the bundled tiny model on a demo task.

This is how users meet the project: ``pip install .`` puts the tasks into lm-eval, and any model that lm-eval can
load gets the trace metrics. Offline, CPU, a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
from lm_eval_thinkpack.harness.filters import record_fields

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_lm_eval_hf_on_the_bundled_model_without_include_path(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf",
           "--model_args", f"pretrained={MODEL_DIR},dtype=float32", "--device", "cpu",
           "--tasks", "thinkpack_demo_parity", "--limit", "8", "--apply_chat_template", "--batch_size", "8",
           "--output_path", str(tmp_path / "out"), "--log_samples"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    task = results["results"]["thinkpack_demo_parity"]
    assert task["valid_trace_rate,thinkpack"] == 1.0  # the base model always reasons in <think>
    assert task["pass@1,thinkpack"] >= 0.75
    assert isinstance(task["valid_trace_rate_stderr,thinkpack"], float)
    samples = [json.loads(line) for line in next((tmp_path / "out").rglob("samples_*.jsonl")).read_text().splitlines()]
    assert len(samples) == 8
    # one request per doc, its (one) response; the record points into the logged response
    record = record_fields(samples[0]["filtered_resps"][0][0], samples[0]["resps"][0][0])
    assert record["status"] == "valid" and record["format"] == "qwen3" and record["answer"] in {"even", "odd"}
