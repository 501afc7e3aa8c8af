"""The README's "Adding a scorer" example runs as written: the module registers, the YAML names it, a task
built by lm-eval from that YAML carries the name, and the harness scores with it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack.scoring import get_scorer, registry

ROOT = Path(__file__).resolve().parents[2]
SECTION = ROOT.joinpath("README.md").read_text().split("### Adding a scorer", 1)[1].split("\n### ", 1)[0]


@pytest.fixture
def scorer_module(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))
    (code,) = re.findall(r"```python\n(.*?)```", SECTION, re.S)
    assert code.startswith("# my_scorers.py")
    (tmp_path / "my_scorers.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_scorers", raising=False)
    yield tmp_path
    sys.modules.pop("my_scorers", None)


def test_the_example_scorer_registers_and_its_asserts_hold(scorer_module):
    with pytest.raises(ValueError, match="unknown thinkpack scorer 'exact_nocase'"):
        get_scorer("exact_nocase")
    scorer = get_scorer("my_scorers:exact_nocase")  # imports the module, whose own asserts run
    assert scorer.name == "exact_nocase" and get_scorer("exact_nocase") is scorer


def test_the_example_yaml_builds_a_task_scored_by_it(scorer_module):
    from lm_eval.tasks import TaskManager

    from lm_eval_thinkpack.harness import filters

    (yaml_text,) = re.findall(r"```yaml\n(.*?)```", SECTION, re.S)  # as written: it names its base by class
    (scorer_module / "thinkpack_demo_parity_nocase.yaml").write_text(yaml_text)
    tm = TaskManager(include_path=str(scorer_module), include_defaults=False,
                     metadata={"trace_format": "qwen3", "prefilled": False})
    task = tm.load(["thinkpack_demo_parity_nocase"])["tasks"]["thinkpack_demo_parity_nocase"]
    doc = task.eval_docs[0]
    assert doc["thinkpack_scorer"] == "my_scorers:exact_nocase"
    gold = doc["thinkpack_gold"]
    (verdict,), = filters.score_traces([[filters.classify_response(gold.upper(), doc)]], [doc])
    assert verdict.correct  # case ignored: the README's scorer (looked up by the filter), not `exact`
    assert not get_scorer("exact").check(gold.upper(), doc).correct


def test_a_misspelt_scorer_in_a_yaml_stops_before_generation(tmp_path):
    from lm_eval_thinkpack.harness.loader import load_docs

    with pytest.raises(ValueError, match="known scorers: choice, code, exact, math, number"):
        load_docs(thinkpack_task="t", thinkpack_adapter="exact", thinkpack_scorer="exakt",
                  thinkpack_bundled="demo/data/parity.jsonl", trace_format="qwen3", prefilled=False)
    with pytest.raises(ValueError, match="cannot import module 'no_such_module'"):
        load_docs(thinkpack_task="t", thinkpack_adapter="exact", thinkpack_scorer="no_such_module:x",
                  thinkpack_bundled="demo/data/parity.jsonl", trace_format="qwen3", prefilled=False)
