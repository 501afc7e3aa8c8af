"""Real lm-eval output for the report tests: the canned-model pipeline, run offline once per session.

Two "models" answer the thinkpack_math group (gsm8k 5, math500 2, aime24 1, aime25 1 questions from
tests/fixtures/data): ``base`` writes a valid trace every time (8 of 9 right), ``tuned`` mostly drops the
trace (missing / empty / truncated) but still answers right (8 of 9). Both runs go in parallel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "data"
HERE = Path(__file__).resolve().parent / "data"
PROFILE = {"trace_format": "think", "prefilled": False}


def _lm_eval_cmd(responses: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "lm_eval_thinkpack.harness.run_lm_eval",
            "--model", "thinkpack-canned", "--model_args", f"responses={responses}",
            "--tasks", "thinkpack_math", "--log_samples", "--apply_chat_template",
            "--include_path", str(REPO / "tasks"), "--output_path", str(out),
            "--metadata", json.dumps({"data_dir": str(FIXTURES), **PROFILE})]


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]))
    env.setdefault("HF_HOME", str(tmp / "hf_home"))
    return env


@pytest.fixture(scope="session")
def lm_eval_runs(tmp_path_factory) -> dict[str, Path]:
    """{"base": output folder, "tuned": output folder} of two real lm_eval runs."""
    tmp = tmp_path_factory.mktemp("lm_eval_runs")
    procs = {}
    for name in ("base", "tuned"):
        out = tmp / name
        procs[name] = (out, subprocess.Popen(_lm_eval_cmd(HERE / f"{name}_responses.jsonl", out), cwd=REPO,
                                             env=_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True))
    result = {}
    for name, (out, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"lm_eval ({name}) failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-6000:]}")
        result[name] = out
    return result
