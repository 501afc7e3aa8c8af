"""Scorers are looked up by name: the registry, the built-in registrations, and the names tasks use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lm_eval_thinkpack.harness import metrics
from lm_eval_thinkpack.harness.adapters import ADAPTERS, adapt, scorer_for
from lm_eval_thinkpack.harness.filters import TraceFilter, parse_record
from lm_eval_thinkpack.scoring import Scorer, ScoreResult, get_scorer, register_scorer, registry, scorer_names

TASKS = Path(__file__).resolve().parents[2] / "tasks"


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))


def test_builtin_scorers_are_registered_at_import() -> None:
    assert {"number", "math", "choice", "code", "exact"} <= set(scorer_names())
    s = get_scorer("number")
    assert isinstance(s, Scorer) and s.name == "number"


def test_unknown_scorer_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown thinkpack scorer 'nmber'.*choice, code, exact, math, number"):
        get_scorer("nmber")


def test_builtin_checks_read_the_doc() -> None:
    assert get_scorer("number").check("so #### 1,234", {"thinkpack_gold": "1234"}).correct
    assert get_scorer("exact").check("odd\nbecause", {"thinkpack_gold": "odd"}).correct
    assert get_scorer("choice").check("Answer: E", {"thinkpack_gold": "E", "thinkpack_letters": "ABCDE"}).correct
    assert not get_scorer("choice").check("Answer: E", {"thinkpack_gold": "A"}).correct  # default ABCD: no E
    assert get_scorer("math").check(r"\boxed{\frac{1}{2}}", {"thinkpack_gold": "0.5", "thinkpack_timeout": 5}).correct


def test_check_many_keeps_order_and_one_bad_item_costs_one_verdict() -> None:
    items = [("#### 3", {"thinkpack_gold": "3"}), ("#### 3", {}), ("#### 4", {"thinkpack_gold": "3"})]
    out = get_scorer("number").check_many(items)
    assert [r.correct for r in out] == [True, False, False]
    assert [r.error for r in out] == [None, "ValueError", None]  # the doc without gold is an error, not a crash


def test_register_and_batch(clean_registry) -> None:
    calls: list[int] = []

    def many(items):
        calls.append(len(items))
        return [ScoreResult(a == d["thinkpack_gold"], a) for a, d in items]

    @register_scorer("t_upper", many=many)
    def check(answer, doc):
        return ScoreResult(answer.upper() == doc["thinkpack_gold"], answer)

    s = get_scorer("t_upper")
    assert s.check("ab", {"thinkpack_gold": "AB"}).correct
    assert [r.correct for r in s.check_many([("AB", {"thinkpack_gold": "AB"}), ("x", {"thinkpack_gold": "y"})])] == [
        True, False]
    assert calls == [2]


def test_a_failing_batch_falls_back_to_one_at_a_time(clean_registry) -> None:
    def many(items):
        raise RuntimeError("batch backend down")

    @register_scorer("t_fallback", many=many)
    def check(answer, doc):
        if answer == "boom":
            raise KeyError("x")
        return ScoreResult(True, answer)

    out = get_scorer("t_fallback").check_many([("a", {}), ("boom", {}), ("c", {})])
    assert [(r.correct, r.error) for r in out] == [(True, None), (False, "KeyError"), (True, None)]


def test_bad_registrations_are_refused(clean_registry) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        register_scorer("Bad Name")
    with pytest.raises(ValueError, match="already registered"):
        register_scorer("number")(lambda a, d: ScoreResult(False))
    with pytest.raises(TypeError):
        register_scorer("t_x", many=3)


def test_harness_score_uses_the_registry(clean_registry) -> None:
    @register_scorer("t_always")
    def check(answer, doc):
        return ScoreResult(True, "yes")

    # the harness scores in its filter, by registry name; an unknown name is a counted harness error, not a crash
    docs = [{"thinkpack_id": "a", "thinkpack_scorer": "t_always", "thinkpack_format": "think"},
            {"thinkpack_id": "b", "thinkpack_scorer": "missing_one", "thinkpack_format": "think"}]
    out = TraceFilter().apply([["anything"], ["x"]], docs)
    ok, unknown = (parse_record(row[0]) for row in out)
    assert ok["extracted"] == "yes" and ok["correct"] is True
    assert unknown["harness_error"] is True and unknown["error"] == "ValueError" and unknown["correct"] is None
    rows = [metrics.process_results(d, [r])["harness_errors"] for d, r in zip(docs, out, strict=True)]
    assert metrics.agg_harness_errors(rows) == 1


def test_every_adapter_and_task_yaml_names_a_registered_scorer() -> None:
    for adapter in ADAPTERS.values():
        get_scorer(adapter.scorer)
    yamls = [*TASKS.glob("*.yaml"), *TASKS.glob("examples/*.yaml")]
    named = 0
    for path in yamls:
        text = path.read_text()
        if "thinkpack_adapter:" not in text:
            continue
        m = re.search(r"^\s+thinkpack_scorer:\s*(\w+)\s*$", text, re.M)
        assert m is not None, f"{path.name} names its adapter but not its scorer"
        adapter = re.search(r"^\s+thinkpack_adapter:\s*(\w+)", text, re.M).group(1)
        assert m.group(1) == ADAPTERS[adapter].scorer, path.name
        get_scorer(m.group(1))
        named += 1
    assert named >= 14


def test_the_task_yaml_scorer_overrides_the_adapter_default() -> None:
    row = {"question": "2+2?", "answer": "4"}
    assert adapt(ADAPTERS["exact"], row, {})["thinkpack_scorer"] == "exact"
    assert adapt(ADAPTERS["exact"], row, {}, scorer_for(ADAPTERS["exact"], "number"))["thinkpack_scorer"] == "number"
    with pytest.raises(ValueError, match="known scorers"):
        scorer_for(ADAPTERS["exact"], "exactt")


def test_math_check_many_runs_a_batch_in_threads_and_keeps_order():
    docs = [{"thinkpack_gold": g, "thinkpack_timeout": 60} for g in ("2", r"2\sqrt{3}", "x^2+2x+1", "7", "1")]
    answers = [r"\boxed{\sqrt{4}}", r"\boxed{\sqrt{12}}", r"\boxed{(x+1)^2}", r"\boxed{8}", r"\boxed{1}"]
    out = get_scorer("math").check_many([*zip(answers, docs, strict=True), (r"\boxed{1}", {})])
    assert [r.correct for r in out] == [True, True, True, False, True, False]
    assert out[-1].error == "ValueError"  # the doc without gold costs its own verdict only


def test_a_scorer_module_in_the_package_registers_without_being_listed(monkeypatch, tmp_path):
    """One module is the whole extension: the registry imports the package's modules before a lookup.
    (The module is put in a temporary folder added to the package's path, not into the source tree.)"""
    import sys

    import lm_eval_thinkpack.scoring as scoring

    monkeypatch.setattr(registry, "_SCORERS", dict(registry._SCORERS))
    monkeypatch.setattr(registry, "_builtins_loaded", False)
    monkeypatch.setattr(scoring, "__path__", [*scoring.__path__, str(tmp_path)])
    (tmp_path / "t_probe_scorer.py").write_text(
        "from lm_eval_thinkpack.scoring.registry import register_scorer\n"
        "from lm_eval_thinkpack.scoring.result import ScoreResult\n\n\n"
        "@register_scorer('t_probe')\ndef check(answer, doc):\n    return ScoreResult(True, answer)\n")
    try:
        assert get_scorer("t_probe").check("x", {}).correct
        assert "t_probe" in scorer_names()
    finally:
        sys.modules.pop("lm_eval_thinkpack.scoring.t_probe_scorer", None)
