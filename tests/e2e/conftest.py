"""Helpers for the end-to-end tests: run the real lm_eval CLI offline in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "fixtures" / "data"


def run_lm_eval(tmp_path: Path, *args: str, metadata: dict | None = None, check: bool = True,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m lm_eval_thinkpack.harness.run_lm_eval`` (= lm_eval + the canned model), offline."""
    env = dict(os.environ)
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=os.pathsep.join(
                   [str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]))
    env.setdefault("HF_HOME", str(tmp_path / "hf_home"))
    cmd = [sys.executable, "-m", "lm_eval_thinkpack.harness.run_lm_eval", *args,
           "--include_path", str(REPO / "tasks"), "--output_path", str(tmp_path / "out")]
    if metadata is not None:
        cmd += ["--metadata", json.dumps(metadata)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"lm_eval failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def _not_json(name: str):
    raise AssertionError(f"the results file holds a bare {name}: not JSON")


def load_outputs(tmp_path: Path) -> tuple[dict, dict[str, list[dict]]]:
    """(results JSON, {task: logged samples}) written under ``tmp_path / "out"``."""
    out = tmp_path / "out"
    results = sorted(out.rglob("results_*.json"))
    assert results, f"no results JSON under {out}"
    data = json.loads(results[-1].read_text(), parse_constant=_not_json)  # strict JSON: no bare NaN
    samples: dict[str, list[dict]] = {}
    for f in out.rglob("samples_*.jsonl"):
        task = f.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return data, samples
