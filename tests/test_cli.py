"""The ``lm-eval-thinkpack`` command dispatches to its subcommands."""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import FORMATS
from lm_eval_thinkpack.cli import build_parser, main


def test_formats_lists_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats", "-v"]) == 0
    out = capsys.readouterr().out
    for name, spec in FORMATS.items():
        assert name in out and spec.close in out
    assert "aliases: harmony" in out
    # parser names newer than the vLLM the tier installs say since when (formats.VLLM_PARSERS_SINCE)
    assert "vLLM: step3, step3p5, step5 (0.33+);" in out
    assert "muse_glimmer, muse (0.33+), musespark1x (0.33+);" in out
    assert "vLLM: solar_open2 (vLLM main);" in out  # read in vLLM's main branch, in no release yet


def test_subcommands_are_registered() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"formats", "report", "compare"} <= set(sub.choices)


def test_missing_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no such file or folder" in err and "\n" not in err


HEAVY = ("torch", "transformers", "datasets", "matplotlib", "peft", "trl", "sympy", "math_verify", "accelerate",
         "lm_eval.utils", "requests")


@pytest.mark.parametrize("command", [[], ["formats"], ["demo"], ["report"], ["compare"], ["eval"]])
def test_help_of_every_subcommand_imports_no_heavy_module(command: list[str]) -> None:
    """--help stays instant: measured by what it imports, not by time (before: the parser imported the demo's
    pipeline, and with it torch and transformers: 4.6-10 s). ``eval --help`` is lm-eval's own help, so lm-eval's
    CLI parser is imported, but not thinkpack's backends (which import torch through lm-eval's hf model), nor
    ``lm_eval.__main__``'s ``lm_eval.utils`` (requests, ...: ``eval --help`` took 2.4-3.9 s, as ``lm_eval --help``)."""
    import subprocess
    import sys

    code = ("import sys\nfrom lm_eval_thinkpack.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in " + repr(HEAVY) + " if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *command, "--help"], capture_output=True, text=True,
                          timeout=300)
    assert "usage:" in proc.stdout.lower(), proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr[-2000:]
    # the command and the package are lm-eval-thinkpack; a bare "thinkpack" is the study's package (issue 20).
    # Before: "with thinkpack's backends", "tasks run without thinkpack"
    import re

    text = " ".join(proc.stdout.split()).replace("lm-eval- thinkpack", "lm-eval-thinkpack")  # argparse wraps at '-'
    assert re.findall(r".{0,30}(?<![-\w])thinkpack(?![-\w]| tasks?\b).{0,30}", text) == []


def test_eval_finds_the_model_it_prepares_for():
    # `eval --model vllm` imports lm-eval's vllm model with the CPU build's version (harness.compat.import_vllm_model)
    from lm_eval_thinkpack.harness.preflight import flag_values

    assert flag_values(["--model", "vllm", "--tasks", "gsm8k"], "--model") == ["vllm"]
    assert flag_values(["--tasks", "gsm8k", "--model=vllm"], "--model") == ["vllm"]
    assert flag_values(["--tasks", "gsm8k"], "--model") == [] and flag_values(["--model"], "--model") == []
