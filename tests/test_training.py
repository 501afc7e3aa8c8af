"""training.py: the trace-health callback (Trainer, PEFT), the short "opened" probe, and distillation.

Run on the bundled tiny model; the collapsing run is a real answer-only naive fine-tune of it.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.classify import classify
from lm_eval_thinkpack.demo import synthetic
from lm_eval_thinkpack.demo.finetune import answer_only_conversations, load_base
from lm_eval_thinkpack.formats import get_format
from lm_eval_thinkpack.masking import tokenize_conversation
from lm_eval_thinkpack.scoring import ScoreResult, check_exact
from lm_eval_thinkpack.training import (
    OPENED,
    Probe,
    TraceHealthCallback,
    distill,
    early_status,
    judge,
    metric_key,
    probe,
    probes_from_conversations,
)

LOGGED = ("trace/valid_rate", "trace/empty_rate", "trace/missing_rate", "trace/truncated_rate", "trace/pass@1",
          "trace/rpass@1")


def test_metric_keys() -> None:
    assert [metric_key(m) for m in ("no_answer_rate", "reasoning_tokens", "answer_tokens")] == [
        "trace/no_answer_rate", "trace/reasoning_tokens", "trace/answer_tokens"]
    assert [metric_key(m) for m in ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate",
                                    "truncated_trace_rate", "pass@1", "rpass@1")] == list(LOGGED)
    assert metric_key("opened_trace_rate") == "trace/opened_rate"
    assert metric_key("valid_trace_rate", "held_out") == "trace/held_out/valid_rate"


# ---------------------------------------------------------------------------------- the early decision

@pytest.mark.parametrize(("text", "prefilled", "finished", "expected"), [
    ("<think>\nO", False, False, OPENED),
    ("<think>\n\n</think>", False, False, "empty"),
    ("<think>\nabc\n</think>", False, False, "valid"),
    ("<think>\n\n", False, False, None),           # may still become empty or opened
    ("<think>\n</th", False, False, None),          # a closer being written is not a body
    ("<think>\n<", False, False, None),
    ("Sure,", False, False, None),                  # an opener may still come
    ("9", False, True, "missing"),
    ("<think>\nabc", False, True, "truncated"),
    ("Okay", True, False, OPENED),                  # prefilled: the opener is in the prompt
    ("\n</think>\n\n9", True, False, "empty"),
    ("\n\n", True, False, None),
])
def test_early_status(text: str, prefilled: bool, finished: bool, expected: str | None) -> None:
    assert early_status(text, get_format("qwen3"), prefilled, finished) == expected


def test_early_status_waits_on_a_tool_call_marker_that_may_still_close_the_trace() -> None:
    # "<tool_call>" alone is a mention until a call follows; if one does, the trace closes blank there
    assert early_status("<think>\n<tool_call>", get_format("qwen3"), False, False) is None
    assert classify("<think>\n<tool_call>\n{\"name\": \"f\"}", "qwen3").status.value == "empty"
    assert early_status("<think>\nplan <tool_call>", get_format("qwen3"), False, False) == OPENED


def _pieces(fmt: str) -> list[str]:
    """Every delimiter of the family, whole and split in two, plus text and whitespace."""
    spec = get_format(fmt)
    delims = [*spec.all_open, *spec.all_close, *(ic.marker for ic in spec.implicit_close)]
    halves = [h for d in delims if len(d) > 1 for h in (d[: len(d) // 2], d[len(d) // 2:])]
    return sorted(set(delims + halves + ["\n", " ", "a", "9", "{\"name\"", "<function="]))  # tool-call starts too


FAMILIES = ["qwen3", "think", "qwq", "magistral", "exaone", "gpt_oss", "granite", "minimax", "kimi", "glm"]


@settings(max_examples=600, deadline=None)
@given(st.data(), st.booleans(), st.sampled_from(FAMILIES))
def test_an_early_decision_is_the_final_class(data, prefilled: bool, fmt: str) -> None:
    """Whatever the generation goes on to write, a decided prefix already names its final class."""
    spec = get_format(fmt)
    text = "".join(data.draw(st.lists(st.sampled_from(_pieces(fmt)), max_size=10)))
    final = classify(text, spec, prefilled=prefilled).status.value
    for cut in range(len(text) + 1):
        early = early_status(text[:cut], spec, prefilled, finished=False)
        if early is None:
            continue
        if early == OPENED:
            assert final in ("valid", "truncated"), (text[:cut], text)
        else:
            assert early == final, (text[:cut], text)
    assert early_status(text, spec, prefilled, finished=True) == final


def test_judge_uses_the_compare_rule_and_the_opened_rate() -> None:
    base = {"valid_trace_rate": 1.0, "pass@1": 0.9}
    assert judge(base, {"valid_trace_rate": 0.2, "pass@1": 0.85})[0] == "collapse"
    assert judge(base, {"valid_trace_rate": 0.2, "pass@1": 0.3})[0] == "degraded"
    assert judge(base, {"valid_trace_rate": 0.95, "pass@1": 0.9})[0] == "ok"
    opened = {"opened_trace_rate": 1.0, "undecided_trace_rate": 0.0}
    assert judge(opened, {"opened_trace_rate": 0.1, "undecided_trace_rate": 0.0})[0] == "trace loss (unscored)"
    # the verdict hangs on undecided generations: say so rather than guess
    verdict, reason = judge(opened, {"opened_trace_rate": 0.5, "undecided_trace_rate": 0.4})
    assert verdict == "undecided" and "undecided" in reason


# ----------------------------------------------------------------------------------- on the tiny model

@pytest.fixture(scope="module")
def base():
    torch.set_num_threads(1)
    return load_base()


def _probes(n_in: int = 8, n_out: int = 3) -> list[Probe]:
    out = [Probe.ask(e["question"], e["answer"], "in_domain") for e in synthetic.generate("max", n_in, 7)]
    for task in ("add", "reverse", "parity", "count"):
        out += [Probe.ask(e["question"], e["answer"], "held_out") for e in synthetic.generate(task, n_out, 7)]
    return out


def _trainer(model, tokenizer, mask: str, steps: int, callback: TraceHealthCallback, tmp_path, **args):
    from transformers import Trainer, TrainingArguments

    from lm_eval_thinkpack.masking import PaddingCollator, tokenize_dataset

    data = tokenize_dataset(tokenizer, answer_only_conversations("max", 256, 1), mask=mask)
    targs = TrainingArguments(output_dir=str(tmp_path), max_steps=steps, per_device_train_batch_size=16,
                              learning_rate=args.pop("lr", 3e-4), warmup_steps=5, report_to=[], save_strategy="no",
                              use_cpu=True, disable_tqdm=True, logging_steps=5, seed=0, **args)
    trainer = Trainer(model=model, args=targs, train_dataset=data, processing_class=tokenizer,
                      data_collator=PaddingCollator.for_tokenizer(tokenizer))
    callback.attach(trainer)
    return trainer


def test_full_probe_figures_are_trace_stats_of_the_generations(base) -> None:
    model, tok = base
    probes = _probes()
    res = probe(model, tok, probes, max_new_tokens=96, scorer=check_exact)
    assert res.metrics["valid_trace_rate"] == 1.0 and res.metrics["pass@1"] >= 0.8
    spec = get_format("qwen3")
    recount = [classify(g.text, spec).status.value for g in res.generations]
    assert recount == res.statuses
    assert res.metrics["generated_tokens"] == sum(g.tokens for g in res.generations) > 20 * len(probes)
    assert set(res.groups) == {"in_domain", "held_out"}
    logs = res.logs()
    assert all(k in logs for k in LOGGED) and "trace/held_out/valid_rate" in logs
    # lengths in the model's own tokens, as count_lengths gives them; no valid trace of the base stops unanswered
    traces = [classify(g.text, spec) for g in res.generations]
    reasoning = [len(tok.encode(t.reasoning, add_special_tokens=False)) for t in traces]
    assert res.metrics["reasoning_tokens"] == pytest.approx(sum(reasoning) / len(traces))
    assert res.metrics["reasoning_tokens"] > 5
    assert logs["trace/reasoning_tokens"] == res.metrics["reasoning_tokens"] and logs["trace/answer_tokens"] > 0
    assert logs["trace/no_answer_rate"] == 0.0 and "trace/held_out/reasoning_tokens" in logs
    with pytest.raises(ValueError, match="mode"):
        probe(model, tok, probes, mode="short")


def test_a_crashing_scorer_scores_wrong_and_never_stops_the_probe(base) -> None:
    model, tok = base

    def crashing(answer: str, gold: str) -> bool:
        if gold == "9":
            raise RuntimeError("checker crashed")
        return answer == gold

    probes = [Probe.ask("What is 4 + 5?", "9"), Probe.ask("What is 1 + 2?", "3")]
    res = probe(model, tok, probes, max_new_tokens=64, scorer=crashing)
    assert res.correct == [False, True] and res.metrics["pass@1"] == 0.5


def test_thinking_off_probe_is_missing_in_both_modes(base) -> None:
    model, tok = base
    probes = _probes(4, 1)
    full = probe(model, tok, probes, max_new_tokens=64, enable_thinking=False)
    short = probe(model, tok, probes, mode="opened", max_new_tokens=16, enable_thinking=False)
    assert full.metrics["missing_trace_rate"] == short.metrics["missing_trace_rate"] == 1.0
    assert short.tokens == full.tokens, "a missing trace is only known at the end of its generation"


def test_probing_restores_modes_cache_and_gradient_checkpointing(base) -> None:
    import copy

    model = copy.deepcopy(base[0])
    model.gradient_checkpointing_enable()
    model.config.use_cache = False
    model.train()
    model.model.layers[0].mlp.eval()  # a module left in eval on purpose stays there
    probe(model, base[1], _probes(2, 1), max_new_tokens=32)
    assert model.training and model.model.layers[0].training and not model.model.layers[0].mlp.training
    assert model.is_gradient_checkpointing and model.config.use_cache is False
    assert base[1].padding_side == "right"
    assert all(p.grad is None for p in model.parameters())


def test_a_tokenizer_without_pad_token_pads_with_eos_for_the_probe_only(base) -> None:
    import copy

    model, tok = base
    tok = copy.deepcopy(tok)
    tok.pad_token = None
    res = probe(model, tok, _probes(2, 1), max_new_tokens=64)
    assert res.metrics["valid_trace_rate"] == 1.0 and tok.pad_token is None


@pytest.fixture(scope="module")
def naive_run(base, tmp_path_factory):
    """A naive answer-only fine-tune, watched, with stop_on_collapse: the trace collapses within 40 steps."""
    import copy

    model, tok = base
    cb = TraceHealthCallback(_probes(), every=10, max_new_tokens=96, scorer=check_exact, stop_on_collapse=True)
    trainer = _trainer(copy.deepcopy(model), tok, "prompt", 60, cb, tmp_path_factory.mktemp("naive"))
    trainer.train()
    return trainer, cb


def test_the_callback_logs_through_the_trainer(naive_run) -> None:
    trainer, cb = naive_run
    logged = [h for h in trainer.state.log_history if "trace/valid_rate" in h]
    assert [h["step"] for h in logged] == [e["step"] for e in cb.history]
    assert logged[0]["step"] == 0
    for key in LOGGED:
        assert key in logged[0]
    assert logged[0]["trace/valid_rate"] == 1.0
    assert "trace/in_domain/pass@1" in logged[-1]


def test_stop_on_collapse_stops_training_and_says_why(naive_run) -> None:
    trainer, cb = naive_run
    assert trainer.state.global_step < 60, "training went on after the trace collapsed"
    assert cb.stop_reason and "VR" in cb.stop_reason and "step 0" in cb.stop_reason
    last = cb.history[-1]
    assert last["verdict"] in cb.stop_verdicts and last["metrics"]["valid_trace_rate"] <= 0.7
    assert cb.history[-1]["step"] == trainer.state.global_step


def test_masked_lora_run_keeps_its_trace_and_is_not_stopped(base, tmp_path) -> None:
    import copy

    from peft import LoraConfig, get_peft_model

    model, tok = base
    torch.manual_seed(0)
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj",
                                                                                                      "v_proj"]))
    cb = TraceHealthCallback(_probes(4, 1), every=5, mode="opened", max_new_tokens=16, stop_on_collapse=True)
    trainer = _trainer(peft_model, tok, "prompt+think", 10, cb, tmp_path, lr=1e-3)
    trainer.train()
    assert trainer.state.global_step == 10 and cb.stop_reason is None
    assert [e["step"] for e in cb.history] == [0, 5, 10]
    assert all(e["metrics"]["opened_trace_rate"] == 1.0 for e in cb.history)
    assert any("trace/opened_rate" in h for h in trainer.state.log_history)
    assert peft_model.training  # the trainer's mode came back after each probe


def test_the_opened_probe_matches_the_full_probe_on_a_collapsed_model(base, naive_run) -> None:
    trainer, _ = naive_run
    model, tok = trainer.model, base[1]
    probes = _probes()
    full = probe(model, tok, probes, max_new_tokens=96)
    short = probe(model, tok, probes, mode="opened", max_new_tokens=16)
    assert full.metrics["empty_trace_rate"] > 0.3
    for f, s in zip(full.statuses, short.statuses, strict=True):
        assert s == (OPENED if f in ("valid", "truncated") else f)
    assert short.tokens * 5 < full.tokens


def test_callback_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="every"):
        TraceHealthCallback(["q"], every=0)
    with pytest.raises(ValueError, match="at least one"):
        TraceHealthCallback([])
    with pytest.raises(ValueError, match="gold"):
        TraceHealthCallback(["What is 1 + 1?"], scorer=check_exact)


# ------------------------------------------------------------------------------------------- distill

CONVS = [[{"role": "user", "content": f"What is {a} + {b}?"}, {"role": "assistant", "content": str(a + b)}]
         for a, b in ((1, 2), (3, 4), (5, 6), (7, 8))]


def test_distill_keeps_valid_correct_traces_from_supplied_generations(base) -> None:
    tok = base[1]
    gens = [
        "<think>\n1+2=3\n</think>\n\n3",                               # valid, correct: kept
        "<think>\n\n</think>\n\n7",                                    # empty: dropped
        ["<think>\n5+6=12\n</think>\n\n12", "<think>\n5+6=11\n</think>\n\n11"],  # the second one is kept
        {"reasoning_content": "7+8=15", "content": "15"},               # an API message: kept
    ]
    kept, report = distill(CONVS, scorer=check_exact, tokenizer=tok, generations=gens)
    assert [c[-1]["content"] for c in kept] == ["3", "11", "15"]
    assert [c[-1]["reasoning"] for c in kept] == ["1+2=3", "5+6=11", "7+8=15"]
    assert kept[0][:-1] == CONVS[0][:-1]
    assert report.total == 4 and report.kept == 3 and report.keep_rate == 0.75
    assert report.statuses["empty"] == 1 and report.wrong == 0
    # the kept trace is what masking trains as a real trace
    row = tokenize_conversation(tok, kept[0], mask="prompt+think")
    trained = tok.decode([t for t in row["labels"] if t != -100])
    assert "1+2=3" in trained and trained.startswith("<think>")


def test_distill_takes_a_registered_scorer_by_name(base) -> None:
    gens = ["<think>\n1+2=3\n</think>\n\nThe answer is \\boxed{3}.", "<think>\n3+4=8\n</think>\n\n8", "", ""]
    kept, report = distill(CONVS, scorer="number", tokenizer=base[1], generations=gens)
    assert [c[-1]["reasoning"] for c in kept] == ["1+2=3"] and report.wrong == 1
    with pytest.raises(ValueError, match="unknown thinkpack scorer"):
        distill(CONVS, scorer="no_such_scorer", tokenizer=base[1], generations=gens)


def test_distill_counts_wrong_answers_and_scorer_failures(base) -> None:
    tok = base[1]

    def flaky(answer: str, gold: str) -> ScoreResult:
        if gold == "11":
            raise RuntimeError("checker crashed")
        return check_exact(answer, gold)

    gens = ["<think>\nx\n</think>\n\n4", "<think>\nx\n</think>\n\n7", "<think>\nx\n</think>\n\n11", "8"]
    kept, report = distill(CONVS, scorer=flaky, tokenizer=tok, generations=gens, answer="teacher")
    assert [c[-1]["content"] for c in kept] == ["7"]
    assert report.wrong == 1 and report.scoring_errors == 1 and report.statuses["missing"] == 1


def test_distill_rejects_bad_calls(base) -> None:
    model, tok = base
    with pytest.raises(ValueError, match="exactly one"):
        distill(CONVS, scorer=check_exact, tokenizer=tok)
    with pytest.raises(ValueError, match="exactly one"):
        distill(CONVS, scorer=check_exact, tokenizer=tok, teacher=model, generations=["a"] * 4)
    with pytest.raises(ValueError, match="3 generations for 4"):
        distill(CONVS, scorer=check_exact, tokenizer=tok, generations=["a"] * 3)
    with pytest.raises(ValueError, match="assistant"):
        distill([CONVS[0][:1]], scorer=check_exact, tokenizer=tok, generations=["a"])
    with pytest.raises(TypeError, match="generation must be"):
        distill(CONVS[:1], scorer=check_exact, tokenizer=tok, generations=[3])


def test_self_distillation_from_the_bundled_model(base) -> None:
    model, tok = base
    convs = answer_only_conversations("max", 24, 5)
    kept, report = distill(convs, scorer=check_exact, tokenizer=tok, teacher=model, max_new_tokens=96)
    assert report.keep_rate is not None and report.keep_rate >= 0.9
    assert report.tokens and report.tokens > 20 * len(convs)
    for conv in kept:
        assert conv[-1]["reasoning"].startswith("Okay.")
        assert conv[-1]["content"] == next(c for c in convs if c[0] == conv[0])[-1]["content"]


def test_probes_from_conversations() -> None:
    probes = probes_from_conversations(CONVS, group="g")
    assert probes[0].gold == "3" and probes[0].group == "g" and probes[0].messages[-1]["role"] == "user"


def test_readme_watching_a_fine_tune_example_runs(tmp_path, monkeypatch) -> None:
    """The README's SFTTrainer example runs as written on the bundled model (it asserts its own claims)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## Watching a fine-tune"):]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "the README lost its fine-tuning example"
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    exec(compile(block.group(1), "README.md#watching-a-fine-tune", "exec"), {})


# ---------------------------------------------------------------------- distill: sample vs rationalize

PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (2, 2), (9, 1), (6, 6), (4, 5))
CONVS8 = [[{"role": "user", "content": f"What is {a} + {b}?"}, {"role": "assistant", "content": str(a + b)}]
          for a, b in PAIRS]
CANNED = [
    "<think>\n1 plus 2: count up from 1 by two steps, 2 then 3.\n</think>\n\n3",   # reasons, right: kept by both
    "<think>\nThe answer is 7.\n</think>\n\n7",                                    # restates the answer only
    "<think>\n\n</think>\n\n11",                                                   # empty
    "<think>\n7 + 8: 7 + 3 = 10, and 5 more",                                      # truncated
    "4",                                                                           # missing
    "<think>\n9 + 1: nine and one more is ten... or eleven\n</think>\n\n11",       # wrong conclusion
    "<think>\n6 + 6 is double 6; double 6 is 12.\n</think>\n\n12",                 # reasons, right: kept by both
    "<think>\nSo it is 9, as given.\n</think>\n\n9",                               # restates the answer only
]
KEEP = {"sample": 4, "rationalize": 2}


@pytest.mark.parametrize("method", ["sample", "rationalize"])
def test_distill_methods_on_the_same_canned_generations(base, method) -> None:
    kept, report = distill(CONVS8, scorer="number", tokenizer=base[1], generations=CANNED, method=method)
    assert report.method == method and report.total == 8 and report.kept == KEEP[method]
    restated = 2 if method == "rationalize" else 0
    assert report.drops == {"empty": 1, "missing": 1, "truncated": 1, "wrong": 1, "scoring_error": 0,
                            "restates_answer": restated}
    assert report.kept + sum(report.drops.values()) == report.total
    reasons = [c[-1]["reasoning"] for c in kept]
    assert reasons[0].startswith("1 plus 2") and any(r.startswith("6 + 6") for r in reasons)
    assert (method == "sample") == any("as given" in r or r == "The answer is 7." for r in reasons)
    assert report.as_dict()["drops"] == report.drops


def test_restates_answer_rule() -> None:
    from lm_eval_thinkpack.training import restates_answer

    for text, gold in [("The answer is 15.", "15"), ("So it is 15, as given.", "15"), ("15", "15"),
                       ("Therefore the final answer is \\boxed{15}.", "15"), ("Paris is the answer.", "Paris")]:
        assert restates_answer(text, gold), text
    for text, gold in [("7 + 8: 7 + 3 = 10, plus 5 is 15.", "15"), ("Count up from 7 by eight steps.", "15"),
                       ("The capital city of France is Paris.", "Paris"), ("9>9 9>9 2>9 9>9", "9"),
                       ("0+0\n0+0+0=0", "0")]:
        assert not restates_answer(text, gold), text
    for text, gold in [("The answer is 15. So 15.", "15"), ("The answer is 1/2.", "1/2")]:
        assert restates_answer(text, gold), text


def test_no_reference_trace_of_the_bundled_data_counts_as_restating_its_answer() -> None:
    """Before: 16 of the 100 'max' traces ("9>9 9>9 2>9 9>9 9>9": a running maximum whose steps mostly repeat the
    answer's digit) and 1 'add' trace ("0+0\n0+0+0=0") were taken for restatements, so rationalization dropped
    real reasoning whenever the answer's words carry the work."""
    import json
    from pathlib import Path

    from lm_eval_thinkpack.training import restates_answer

    data = Path(__file__).resolve().parents[1] / "lm_eval_thinkpack" / "demo" / "data"
    rows = [json.loads(line) for f in sorted(data.glob("*.jsonl")) for line in f.read_text().splitlines()]
    assert len(rows) >= 500
    assert [r["trace"] for r in rows if restates_answer(r["trace"], r["answer"])] == []


def test_rationalize_gives_the_teacher_the_answer(base) -> None:
    from lm_eval_thinkpack.training import RATIONALE_PROMPT, distill_prompts

    tok = base[1]
    sample = distill_prompts(CONVS8[:2], tokenizer=tok)
    rational = distill_prompts(CONVS8[:2], tokenizer=tok, method="rationalize")
    assert "Correct answer: 3" in rational[0] and "What is 1 + 2?" in rational[0]
    assert "Correct answer" not in sample[0] and "What is 1 + 2?" in sample[0]
    custom = distill_prompts(CONVS8[:1], tokenizer=tok, method="rationalize",
                             rationale_prompt="Q: {question} A: {answer}. Why?")
    assert "Q: What is 1 + 2? A: 3. Why?" in custom[0]
    assert "{answer}" in RATIONALE_PROMPT
    with pytest.raises(ValueError, match="rationale_prompt"):
        distill_prompts(CONVS8, tokenizer=tok, method="rationalize", rationale_prompt="no slots")


def test_rationalize_with_the_bundled_model_as_teacher(base) -> None:
    model, tok = base
    convs = answer_only_conversations("max", 6, 5)
    kept, report = distill(convs, scorer=check_exact, tokenizer=tok, teacher=model, max_new_tokens=96,
                           method="rationalize")
    assert report.method == "rationalize" and report.total == 6 and report.tokens
    assert report.kept + sum(report.drops.values()) == 6
    for conv in kept:
        assert conv[-1]["content"] == next(c for c in convs if c[0] == conv[0])[-1]["content"]


def test_unknown_keyword_arguments_are_refused(base) -> None:
    """Before: distill(..., method="x") and any misspelt argument went to the chat template and vanished."""
    from lm_eval_thinkpack.training import distill_prompts, generate

    model, tok = base
    with pytest.raises(ValueError, match="method must be"):
        distill(CONVS, scorer=check_exact, tokenizer=tok, generations=["a"] * 4, method="x")
    with pytest.raises(TypeError, match="metod"):
        distill(CONVS, scorer=check_exact, tokenizer=tok, generations=["a"] * 4, metod="rationalize")
    with pytest.raises(TypeError, match="max_tokens"):
        probe(model, tok, ["What is 1 + 1?"], max_tokens=8)
    with pytest.raises(TypeError, match="tempreature"):
        generate(model, tok, ["x"], max_new_tokens=2, tempreature=0.5)
    with pytest.raises(TypeError, match="unexpected"):
        distill_prompts(CONVS, tokenizer=tok, thinking_budget=3)
    with pytest.raises(TypeError, match="unexpected"):
        TraceHealthCallback(["What is 1 + 1?"], template_kwargs={"enable_thinkng": False}).run_probe(model, tok)
    with pytest.raises(TypeError, match="enable_thinkng"):  # with the tokenizer known, at construction
        TraceHealthCallback(["What is 1 + 1?"], tokenizer=tok, template_kwargs={"enable_thinkng": False})
    assert TraceHealthCallback(["What is 1 + 1?"], tokenizer=tok, template_kwargs={"enable_thinking": False})
    # a variable the template reads still goes through
    assert "<think>" not in distill_prompts(CONVS[:1], tokenizer=tok)[0].split("<|im_start|>assistant")[0]
    assert distill_prompts(CONVS[:1], tokenizer=tok, enable_thinking=True)


def test_rationalize_reads_the_conclusion_from_the_trace_when_nothing_follows_it(base) -> None:
    """A trace that ends in its conclusion with no text after it: rationalize judges the trace's last line (sample
    judges the empty answer: wrong). Before: with answer="teacher" the kept turn's content was "", which trains
    the model to close its trace and stop (what no_answer_rate counts)."""
    convs = [[{"role": "user", "content": "What is 7 + 8?"}, {"role": "assistant", "content": "15"}],
             [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "4"}]]
    gens = ["<think>\n7 + 3 = 10\n10 + 5 = 15\n</think>", "<think>\n2 + 2 counts up to 5\n</think>"]
    _, sampled = distill(convs, scorer="number", tokenizer=base[1], generations=gens)
    assert sampled.kept == 0 and sampled.drops["wrong"] == 2
    for answer, content in (("dataset", "15"), ("teacher", "10 + 5 = 15")):
        kept, report = distill(convs, scorer="number", tokenizer=base[1], generations=gens, method="rationalize",
                               answer=answer)
        assert report.kept == 1 and report.drops["wrong"] == 1
        assert kept[0][-1] == {"role": "assistant", "content": content, "reasoning": "7 + 3 = 10\n10 + 5 = 15"}
