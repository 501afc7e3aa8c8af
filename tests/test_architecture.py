"""The house rules that keep the core pure: no lm-eval import below the harness glue."""

from __future__ import annotations

import subprocess
import sys

CORE = ["formats", "classify", "template", "detect", "stats", "chat", "masking", "sandbox", "training", "records",
        "tokens", "generation", "scoring", "scoring.math",
        "scoring.code", "scoring.numbers", "scoring.choice", "scoring.exact"]


def test_core_modules_do_not_import_lm_eval() -> None:
    code = ("import sys\n"
            + "".join(f"import lm_eval_thinkpack.{m}\n" for m in CORE)
            + "import lm_eval_thinkpack\n"
            + "bad = sorted(m for m in sys.modules if m == 'lm_eval' or m.startswith('lm_eval.'))\n"
            + "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
