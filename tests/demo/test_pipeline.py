"""``lm-eval-thinkpack demo --quick`` end to end: watched fine-tunes, lm-eval runs, the table, results.json, the plots,
the distillation arm and the short probe against the full evaluation."""

from __future__ import annotations

import json

import pytest

from lm_eval_thinkpack.cli import main

MODELS = {"base", "naive_sft", "masked_sft", "naive_lora", "masked_lora", "distilled_sft"}
CURVE_KEYS = {"step", "held_out_valid_trace_rate", "in_domain_valid_trace_rate", "in_domain_pass@1"}
METRICS = {"valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate", "pass@1", "rpass@1",
           "no_answer_rate", "reasoning_tokens", "answer_tokens"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--output", str(out), "--quick"]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_results_json_shape(demo: tuple) -> None:
    out, doc = demo
    assert set(doc["models"]) == MODELS
    assert doc["in_domain"] == "thinkpack_demo_max"
    assert set(doc["held_out"]) == {f"thinkpack_demo_{t}" for t in ("add", "reverse", "count", "parity")}
    for per_task in doc["models"].values():
        assert set(per_task) == {doc["in_domain"], *doc["held_out"]}
        for m in per_task.values():
            assert set(m) == METRICS
            rates = [m[k] for k in ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate",
                                    "truncated_trace_rate")]
            assert sum(rates) == pytest.approx(1.0)
            assert m["rpass@1"] is None or 0 <= m["rpass@1"] <= 1
    # lengths per model over all tasks, per class; the base model writes a trace every time and answers after it
    assert set(doc["lengths"]) == MODELS
    base = doc["lengths"]["base"]
    assert base["unit"] in ("tokens", "words") and base["no_answer_rate"] == 0.0
    assert base["per_class"]["valid"]["reasoning"]["mean"] > 5 and base["reasoning_tokens"] > 5
    assert (out / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in MODELS:  # every model went through lm-eval, with logged samples
        assert list((out / "lm_eval" / name).rglob("results_*.json"))
        assert list((out / "lm_eval" / name).rglob("samples_thinkpack_demo_max_*.jsonl"))


def _held_out_vr(doc: dict, model: str) -> float:
    return sum(doc["models"][model][t]["valid_trace_rate"] for t in doc["held_out"]) / len(doc["held_out"])


def test_the_study_in_miniature(demo: tuple) -> None:
    _, doc = demo
    assert _held_out_vr(doc, "base") >= 0.95
    distilled = doc["models"]["distilled_sft"]
    assert _held_out_vr(doc, "distilled_sft") >= 0.8 and distilled[doc["in_domain"]]["pass@1"] >= 0.8
    assert doc["distillation"]["keep_rate"] >= 0.9 and doc["distillation"]["kept"] >= 450
    for naive, masked in (("naive_sft", "masked_sft"), ("naive_lora", "masked_lora")):
        assert _held_out_vr(doc, naive) <= 0.35, "answer-only SFT makes the model drop its traces"
        assert _held_out_vr(doc, masked) >= 0.8, "masking the think block keeps them"
        for model in (naive, masked):
            assert doc["models"][model][doc["in_domain"]]["pass@1"] >= 0.7, "the in-domain task is learned"
    assert any(v["verdict"] == "collapse" for v in doc["verdicts"])


def test_collapse_curves(demo: tuple) -> None:
    out, doc = demo
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(doc["curves"]) == MODELS - {"base"}
    steps = doc["recipe"]["steps"]
    for arm, points in doc["curves"].items():
        assert all(set(p) == CURVE_KEYS for p in points)
        assert [p["step"] for p in points] == list(range(0, steps + 1, 25)), arm
        assert points[0]["held_out_valid_trace_rate"] == 1.0, "every arm starts from the same base"
    for naive in ("naive_sft", "naive_lora"):
        last = doc["curves"][naive][-1]
        assert last["held_out_valid_trace_rate"] <= 0.35 and last["in_domain_valid_trace_rate"] <= 0.1
        assert last["in_domain_pass@1"] >= 0.7, "the answers hold while the trace goes: the collapse"
    for kept in ("masked_sft", "distilled_sft"):
        assert min(p["held_out_valid_trace_rate"] for p in doc["curves"][kept]) >= 0.8


def test_the_short_probe_reaches_the_full_verdict(demo: tuple) -> None:
    _, doc = demo
    sweep = doc["probe_vs_full"]
    assert set(sweep["sizes"]) == {"1", "2", "4", "8"}
    largest = sweep["sizes"]["8"]["models"]
    assert set(largest) == MODELS
    for name, row in largest.items():
        assert row["probe_tokens"] < row["full_tokens"]
        assert row["undecided_trace_rate"] <= 0.1  # a text with no delimiter yet may still open (or close) one
        if name != "base":
            assert row["same_verdict"], (name, row)
    assert largest["naive_sft"]["probe_verdict"] == "trace loss (unscored)"
    assert largest["masked_sft"]["probe_verdict"] == "ok"
    needed = sweep["needed"]
    assert needed is not None and needed["questions_per_task"] <= 8
    rows = sweep["sizes"][str(needed["questions_per_task"])]["models"]
    assert needed["max_token_ratio"] == max(r["token_ratio"] for r in rows.values())


def test_the_demo_gives_its_tasks_the_model(demo: tuple) -> None:
    """Before: the demo built its tasks without the model's arguments, so every task of every model logged
    "no model id ... assuming 'think'" (60 lines) and its samples said format 'think' where the CLI says qwen3."""
    from lm_eval_thinkpack.harness import preflight
    from lm_eval_thinkpack.records import parse_record

    out, _ = demo
    for name in MODELS:
        samples = next((out / "lm_eval" / name).rglob("samples_thinkpack_demo_max_*.jsonl")).read_text()
        first = json.loads(samples.splitlines()[0])
        assert parse_record(first["filtered_resps"][0][0])["format"] == "qwen3", name
    assert not [k for k in preflight._seen if k.startswith(("no-model-id", "prefill-unknown"))]


def test_the_printed_held_out_rows_leave_the_fine_tuned_task_out(tmp_path) -> None:
    """Before: the demo printed only compare's "all tasks" row, which pools the fine-tuned task in (naive pass@1 0.42
    there, 0.29 held-out in the README's table and demo.png's last panel)."""
    from lm_eval_thinkpack.demo.pipeline import held_out_lines
    from lm_eval_thinkpack.report.readers import load_run
    from lm_eval_thinkpack.report.summary import summarize

    runs = []
    for name, good in (("base", True), ("naive", False)):
        rows = [{"task": t, "id": i, "response": ("<think>r</think> 7" if good else "<think></think> 7"),
                 "correct": t == "max" or i < 1} for t in ("max", "add", "count") for i in range(4)]
        f = tmp_path / f"{name}.jsonl"
        f.write_text("".join(json.dumps(r) + "\n" for r in rows))
        runs.append(summarize(load_run(f, label=name)))
    head, base, naive = held_out_lines(runs, "max")
    assert "the fine-tuned max left out" in head
    assert base == "  base   VR 1.00  ER 0.00  pass@1 0.25  Rpass@1 0.25  (n=8)"
    assert naive == "  naive  VR 0.00  ER 1.00  pass@1 0.25  Rpass@1 —  (n=8)"
