"""The collapse gate pairs what it can and never passes what it could not compare.

Regression: each JSONL file's task is named after its file, so ``compare base.jsonl tuned.jsonl`` paired
nothing and ``--fail-on-collapse`` exited 0 with "no reasoning-trace collapse" on a clearly collapsed pair.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack.cli import main
from lm_eval_thinkpack.report.cli import EXIT_COLLAPSE, EXIT_INPUT

REPO = Path(__file__).resolve().parents[2]
VALID, EMPTY = "<think>\nLet me add them.\n</think>\n\n42", "<think>\n\n</think>\n\n42"


def _write(path: Path, valid: int, correct: int, n: int = 100, task: str | None = None) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            rec = {"question_id": i, "response": VALID if i < valid else EMPTY, "correct": i < correct}
            if task is not None:
                rec["task"] = task
            fh.write(json.dumps(rec) + "\n")
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """VR 0.90 -> 0.05 while pass@1 0.66 -> 0.69: the study's collapse signature."""
    return _write(tmp_path / "base.jsonl", 90, 66), _write(tmp_path / "tuned.jsonl", 5, 69)


def test_single_task_jsonl_files_pair_whatever_their_names(pair, capsys) -> None:
    base, tuned = pair
    assert main(["compare", str(base), str(tuned), "--fail-on-collapse"]) == EXIT_COLLAPSE
    out = capsys.readouterr().out
    assert "REASONING-TRACE COLLAPSE" in out
    assert "no reasoning-trace collapse" not in out


def test_json_verdict_of_the_collapsed_pair(pair, capsys) -> None:
    base, tuned = pair
    assert main(["compare", str(base), str(tuned), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["collapse"] is True
    (v,) = [v for v in doc["verdicts"] if v["verdict"] != "n/a"]
    assert v["verdict"] == "collapse"
    assert v["delta"]["valid_trace_rate"] == pytest.approx(-0.85)
    assert v["delta"]["pass@1"] == pytest.approx(0.03)


def test_nothing_comparable_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    base = _write(tmp_path / "base.jsonl", 90, 66, task="thinkpack_gsm8k")
    tuned = tmp_path / "tuned.jsonl"
    with tuned.open("w") as fh:  # two tasks, neither named like the base's
        for i in range(20):
            fh.write(json.dumps({"task": "a" if i % 2 else "b", "question_id": i, "response": EMPTY,
                                 "correct": True}) + "\n")
    for extra in ([], ["--fail-on-collapse"]):
        assert main(["compare", str(base), str(tuned), *extra]) == EXIT_INPUT
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "nothing to compare" in err[0] and "--task" in err[0]


def test_task_option_picks_one_task_of_each_side(tmp_path: Path, capsys) -> None:
    base = _write(tmp_path / "base.jsonl", 90, 66)
    tuned = tmp_path / "tuned.jsonl"
    with tuned.open("w") as fh:
        for task, valid in (("math", 5), ("code", 90)):
            for i in range(100):
                fh.write(json.dumps({"task": task, "question_id": i, "response": VALID if i < valid else EMPTY,
                                     "correct": i < 69}) + "\n")
    assert main(["compare", str(base), str(tuned), "--task", "math", "--fail-on-collapse"]) == EXIT_COLLAPSE
    capsys.readouterr()
    assert main(["compare", str(base), str(tuned), "--task", "code", "--fail-on-collapse"]) == 0
    assert "no reasoning-trace collapse" in capsys.readouterr().out
    assert main(["compare", str(base), str(tuned), "--task", "nope"]) == EXIT_INPUT
    assert "nothing to compare" in capsys.readouterr().err


def test_gate_never_exits_0_when_no_task_could_be_judged(tmp_path: Path, capsys) -> None:
    """Tasks pair by name, but one side has no generation at all of that task: nothing judged."""
    from lm_eval_thinkpack.report.compare import NothingToCompare, compare
    from lm_eval_thinkpack.report.readers import load_run
    from lm_eval_thinkpack.report.summary import summarize

    base = summarize(load_run(_write(tmp_path / "base.jsonl", 90, 66)))
    tuned = summarize(load_run(_write(tmp_path / "tuned.jsonl", 5, 69)))
    tuned.tasks["base"] = tuned.tasks.pop("tuned")
    tuned.tasks["base"].values.clear()  # a task without numbers (e.g. a results JSON without VR)
    with pytest.raises(NothingToCompare, match="nothing to compare"):
        compare([base, tuned])


@pytest.mark.parametrize("doc_flag", ["--json", "--markdown"])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_stdout_holds_only_the_document(pair, tmp_path: Path, command: str, doc_flag: str) -> None:
    """``--json -`` / ``--markdown -``: the document alone on stdout (through the real console script path)."""
    base, tuned = pair
    paths = [str(base)] if command == "report" else [str(base), str(tuned)]
    png = tmp_path / "p.png"
    proc = subprocess.run([sys.executable, "-m", "lm_eval_thinkpack.cli", command, *paths, doc_flag, "-",
                           "--plot", str(png)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    if doc_flag == "--json":
        json.loads(proc.stdout)  # nothing but the JSON document
    else:
        assert proc.stdout.lstrip().startswith("#") and "┃" not in proc.stdout and "plot:" not in proc.stdout
    assert "VR" in proc.stderr  # the tables went to stderr


def test_both_documents_on_stdout_is_refused(pair, capsys) -> None:
    base, _ = pair
    assert main(["report", str(base), "--json", "-", "--markdown", "-"]) == EXIT_INPUT
    assert "both ask for stdout" in capsys.readouterr().err


def test_compare_help_states_the_whole_rule(capsys):
    from lm_eval_thinkpack.report.compare import CollapseRule

    rule = CollapseRule()
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f">= {rule.rel_min_drop:.2f} absolute (the relative rule's floor" in text
    for flag in ("--vr-drop", "--vr-rel-drop", "--pass-tolerance", "--allow-different-settings", "--label"):
        assert flag in text
