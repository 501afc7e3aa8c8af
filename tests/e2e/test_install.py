"""A non-editable ``pip install .`` puts the task YAMLs into lm-eval's own task folder.

lm-eval 0.4.13 has no plugin discovery, so this is what makes plain ``lm_eval --tasks thinkpack_math`` work
without ``--include_path``. The tests run against the installed package (``.ci/run`` installs it); a stale
install (YAMLs differing from the checkout) fails here with the fix in the message.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lm_eval.tasks import TaskManager

REPO = Path(__file__).resolve().parents[2]
TASKS = {"thinkpack_gsm8k", "thinkpack_math500", "thinkpack_aime24", "thinkpack_aime25", "thinkpack_gpqa_diamond",
         "thinkpack_sciknoweval_chem", "thinkpack_humaneval", "thinkpack_humaneval_plus", "thinkpack_mbpp_plus",
         *(f"thinkpack_demo_{t}" for t in ("add", "reverse", "count", "parity", "max"))}
GROUPS = {"thinkpack_math", "thinkpack_science", "thinkpack_code", "thinkpack", "thinkpack_demo"}
FIX = "run `pip install .` (not -e) from the repository root, then rerun the tests"


def _installed_folder() -> Path:
    spec = importlib.util.find_spec("lm_eval.tasks.thinkpack")
    assert spec is not None and spec.submodule_search_locations, f"lm_eval.tasks.thinkpack is not installed: {FIX}"
    return Path(next(iter(spec.submodule_search_locations)))


def test_installed_yamls_match_the_checkout() -> None:
    folder = _installed_folder()
    assert folder.resolve() != (REPO / "tasks").resolve()
    ours = {p.name: p.read_bytes() for p in (REPO / "tasks").glob("*.yaml")}
    theirs = {p.name: p.read_bytes() for p in folder.glob("*.yaml")}
    assert set(theirs) == set(ours), f"installed task files differ from tasks/: {FIX}"
    stale = sorted(name for name in ours if ours[name] != theirs[name])
    assert not stale, f"installed copies of {stale} are stale: {FIX}"


def test_plain_task_manager_lists_tasks_and_groups_without_include_path() -> None:
    names = set(TaskManager().all_tasks)
    assert TASKS | GROUPS <= names
    assert not {n for n in names if n.startswith("_base")}
    assert not {n for n in names if n.startswith("thinkpack_example")}, "the worked examples are not installed"
