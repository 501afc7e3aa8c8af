"""Readers for JSONL generations of any engine, the error messages, and compare verdicts on small files."""

from __future__ import annotations

import json

import pytest

from lm_eval_thinkpack.report.cli import EXIT_INPUT, main
from lm_eval_thinkpack.report.compare import COLLAPSE, DEGRADED, OK, UNSCORED, CollapseRule, compare
from lm_eval_thinkpack.report.readers import ReportError, load_run, parse_generation
from lm_eval_thinkpack.report.summary import summarize
from lm_eval_thinkpack.stats import ALL_TASKS


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def statuses(run):
    return [s.status for td in run.tasks.values() for s in td.samples]


def test_plain_records(tmp_path):
    f = write_jsonl(tmp_path / "gens.jsonl", [
        {"prompt": "Q1", "response": "<think>add</think>\n7", "correct": True, "task": "a", "id": 1},
        {"prompt": "Q2<|assistant|>\n<think>\n", "output": "so it is 8</think>\n8", "correct": 1, "task": "a",
         "question_id": 2},  # prefilled prompt: the generation starts inside the trace
        {"text": "no trace, 9", "correct": False, "task": "b"},
        {"response": "<think>long", "correct": True, "task": "b", "finish_reason": "length"},
        {"response": "<think> </think>5", "correct": "true", "task": "b"},
    ])
    run = load_run(f)
    assert run.kind == "jsonl" and run.label == "gens" and list(run.tasks) == ["a", "b"]
    assert statuses(run) == ["valid", "valid", "missing", "truncated", "empty"]
    a = run.tasks["a"].samples
    assert a[1].reasoning == "so it is 8" and a[1].answer == "8" and a[0].question_id == "1"
    b = run.tasks["b"].samples
    assert b[1].budget_exhausted is True and b[0].budget_exhausted is None and run.budget_known
    s = summarize(run)
    assert s.tasks["a"].get("pass@1") == 1.0 and s.tasks["b"].get("rpass@1") is None
    # a truncated trace is wrong even when the record says correct
    assert s.tasks["b"].get("pass@1") == pytest.approx(1 / 3)
    assert s.tasks["b"].budget_exhausted_rate == 1.0  # over the one record that gives its finish reason
    pooled = s.groups[ALL_TASKS].pooled
    assert pooled.n == 5 and pooled.get("valid_trace_rate") == pytest.approx(0.4)
    assert pooled.get("pass@1") == pytest.approx(3 / 5) and pooled.get("rpass@1") == 1.0
    assert s.groups[ALL_TASKS].task_mean.get("rpass@1") == 1.0  # task b has no valid trace: left out
    # --prefilled forces it for every record; without a prompt the plain text has no opener
    forced = load_run(f, prefilled=True)
    assert statuses(forced)[2] == "truncated"


def test_openai_chat_completions(tmp_path):
    def chat(content, reasoning=..., finish="stop", **kw):
        msg = {"role": "assistant", "content": content}
        if reasoning is not ...:
            msg["reasoning_content"] = reasoning
        return {"choices": [{"index": 0, "message": msg, "finish_reason": finish}], **kw}

    f = write_jsonl(tmp_path / "openai.jsonl", [
        chat("The answer is 7.", "3 + 4 = 7", correct=True, id="q1"),
        chat("The answer is 7.", "", correct=True, id="q2"),  # reasoning parser found an empty block
        chat("<think>inline</think>7", correct=True, id="q3"),  # no reasoning field: classify the text
        chat("7", correct=True, id="q4"),
        chat("", "still thinking about", finish="length", correct=False, id="q5"),
        chat("7", None, correct=True, id="q6"),  # null reasoning_content = absent
        {"custom_id": "q7", "response": {"status_code": 200, "body": {"choices": [
            {"message": {"content": "7", "reasoning": "new vLLM field"}, "finish_reason": "stop"}]}},
         "correct": True},  # OpenAI Batch API wrapper; vLLM's newer `reasoning` field
    ])
    run = load_run(f)
    assert statuses(run) == ["valid", "empty", "valid", "missing", "truncated", "missing", "valid"]
    samples = run.tasks["openai"].samples
    assert samples[0].reasoning == "3 + 4 = 7" and samples[0].answer == "The answer is 7."
    assert samples[4].budget_exhausted is True and samples[6].question_id == "q7"
    s = summarize(run).tasks["openai"]
    assert s.get("valid_trace_rate") == pytest.approx(3 / 7)
    assert s.get("pass@1") == pytest.approx(6 / 7) and s.get("rpass@1") == 1.0
    assert s.budget_exhausted_rate == pytest.approx(1 / 7)


def test_vllm_outputs(tmp_path):
    f = write_jsonl(tmp_path / "vllm.jsonl", [
        {"prompt": "<|im_start|>assistant\n<think>\n", "outputs": [{"text": "ok</think>\n4", "finish_reason": "stop"}],
         "correct": True, "request_id": "0"},
        {"prompt": "<|im_start|>assistant\n<think>\n", "outputs": [{"text": "hmm", "finish_reason": "length"}],
         "correct": False},
        {"prompt": "<|im_start|>assistant\n", "outputs": [{"text": "4", "finish_reason": "stop"}], "correct": True},
    ])
    run = load_run(f)
    assert statuses(run) == ["valid", "truncated", "missing"]
    assert [s.budget_exhausted for s in run.tasks["vllm"].samples] == [False, True, False]


def test_format_option_and_unscored_records(tmp_path):
    f = write_jsonl(tmp_path / "seed.jsonl", [{"response": "<seed:think>a</seed:think>b"},
                                               {"response": "<think>a</think>b"}])
    assert statuses(load_run(f, fmt="seed_oss")) == ["valid", "missing"]
    s = summarize(load_run(f)).tasks["seed"]
    assert s.get("valid_trace_rate") == 0.5 and s.get("pass@1") is None and s.get("rpass@1") is None


def test_progress_bar_read(tmp_path):
    f = write_jsonl(tmp_path / "p.jsonl", [{"response": "<think>x</think>y", "correct": True}] * 3)
    assert statuses(load_run(f, progress=True)) == ["valid"] * 3


@pytest.mark.parametrize("record, needle", [
    ({"prompt": "Q", "answer": "7"}, "no generated text: expected a 'response', 'output' or 'text' field"),
    ({"choices": [{"message": {"role": "assistant"}}]}, "choices[0] has neither message.content nor text"),
    ({"outputs": [{"finish_reason": "stop"}]}, "outputs[0] has no 'text'"),
    ({"response": ["a"]}, "not a string"),
    ({"response": "x", "correct": "maybe"}, "'correct' is 'maybe'"),
])
def test_parse_generation_errors(record, needle):
    with pytest.raises(ReportError) as err:
        parse_generation(record, where="f.jsonl:3")
    assert str(err.value).startswith("f.jsonl:3: ") and needle in str(err.value)


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["report", str(missing)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "no such file or folder" in err
    assert "--output_path" in err and "Traceback" not in err

    f = write_jsonl(tmp_path / "bad.jsonl", [{"response": "x"}, {"prompt": "Q", "completion": "x"}])
    assert main(["report", str(f)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{f}:2: no generated text" in err and "rename the field" in err

    (tmp_path / "broken.jsonl").write_text('{"response": "x"}\n{oops\n')
    assert main(["report", str(tmp_path / "broken.jsonl")]) == EXIT_INPUT
    assert "broken.jsonl:2: not valid JSON" in capsys.readouterr().err

    (tmp_path / "empty_dir").mkdir()
    assert main(["compare", str(tmp_path / "empty_dir"), str(f)]) == EXIT_INPUT
    assert "no lm-eval results_*.json" in capsys.readouterr().err

    ok = write_jsonl(tmp_path / "ok.jsonl", [{"response": "x"}])
    assert main(["report", str(ok), "--format", "nosuch"]) == EXIT_INPUT
    assert "unknown trace format 'nosuch'" in capsys.readouterr().err
    assert main(["report", str(ok), "--json", str(tmp_path / "no" / "dir.json")]) == EXIT_INPUT
    assert "does not exist" in capsys.readouterr().err
    assert main(["compare", str(ok)]) == EXIT_INPUT
    assert "at least two paths" in capsys.readouterr().err
    assert main(["compare", str(ok), str(ok), "--vr-drop", "30"]) == EXIT_INPUT
    assert "between 0 and 1" in capsys.readouterr().err


def _gens(tmp_path, name, rows):
    """rows: (response, correct) per question, one task."""
    return write_jsonl(tmp_path / f"{name}.jsonl", [{"response": r, "correct": c, "id": i, "task": "t"}
                                                    for i, (r, c) in enumerate(rows)])


def test_compare_verdicts_on_generations(tmp_path, capsys):
    base = _gens(tmp_path, "base", [("<think>r</think>a", True)] * 8 + [("<think>r</think>a", False)] * 2)
    # VR 1 -> 0.1, pass@1 0.8 -> 0.2: the model got worse, not the silent collapse
    worse = _gens(tmp_path, "worse", [("a", False)] * 7 + [("a", True)] * 2 + [("<think>r</think>a", False)])
    # VR 1 -> 0.8: within both thresholds
    mild = _gens(tmp_path, "mild", [("a", True)] * 2 + [("<think>r</think>a", True)] * 6
                 + [("<think>r</think>a", False)] * 2)
    # VR 1 -> 0.4, pass@1 0.8 -> 0.8
    collapsed = _gens(tmp_path, "collapsed", [("a", True)] * 6 + [("<think>r</think>a", True)] * 2
                      + [("<think>r</think>a", False)] * 2)
    runs = [summarize(load_run(p)) for p in (base, worse, mild, collapsed)]
    verdicts = {(v.model, v.task): v.verdict for v in compare(runs).verdicts}
    assert verdicts == {("worse", "t"): DEGRADED, ("mild", "t"): OK, ("collapsed", "t"): COLLAPSE}
    assert main(["compare", str(base), str(worse), str(mild), "--fail-on-collapse"]) == 0
    out = capsys.readouterr().out
    assert "worse / t: DEGRADED" in out and "no reasoning-trace collapse" in out
    assert main(["compare", str(base), str(mild), str(collapsed), "--fail-on-collapse"]) == 3
    # the relative arm: VR 0.4 -> 0.2 drops 0.2 (< 0.3 absolute) but 50% of the base VR
    def vr(name, k):
        return summarize(load_run(_gens(tmp_path, name, [("<think>r</think>a", True)] * k + [("a", True)] * (10 - k))))

    low = vr("low", 4)
    assert compare([low, vr("low3", 3)]).verdicts[0].verdict == OK
    assert compare([low, vr("low2", 2)]).verdicts[0].verdict == COLLAPSE
    assert compare([low, vr("low2b", 2)], CollapseRule(vr_rel_drop=0)).verdicts[0].verdict == OK
    # the relative arm has a floor (rel_min_drop, 0.10): VR 0.1 -> 0.0 reaches it, and stays OK under a 0.15 floor
    assert compare([vr("tiny1", 1), vr("tiny0", 0)]).verdicts[0].verdict == COLLAPSE
    assert compare([vr("tiny1b", 1), vr("tiny0b", 0)], CollapseRule(rel_min_drop=0.15)).verdicts[0].verdict == OK
    unscored = write_jsonl(tmp_path / "u.jsonl", [{"response": "a", "id": i, "task": "t"} for i in range(10)])
    assert compare([runs[0], summarize(load_run(unscored))]).verdicts[0].verdict == UNSCORED


def test_report_markdown_to_stdout_and_plot(tmp_path, capsys):
    f = _gens(tmp_path, "g", [("<think>one two</think>a", True), ("a", False)])
    png = tmp_path / "g.png"
    assert main(["report", str(f), "--markdown", "-", "--plot", str(png)]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("# Reasoning-trace report") and "| t | 0.500 [" in cap.out
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_split_reasoning_goes_through_classify(tmp_path, field):
    """A server's split reasoning/content is reassembled in the model's format and classified, not judged apart."""
    def chat(content, reasoning, finish="stop", **kw):
        return {"choices": [{"message": {"content": content, field: reasoning}, "finish_reason": finish}], **kw}

    f = write_jsonl(tmp_path / "split.jsonl", [
        chat(None, "a trace the model never closed", id="open"),   # null content: the parser found no closer
        chat("", "cut by the budget", finish="length", id="cut"),  # a server that coerces null to ""
        chat("<answer>5</answer>", "2 + 3", id="wrapped"),         # the family's answer wrapper is unwrapped
        chat("5", "   \n ", id="blank"),
    ])
    run = load_run(f, fmt="hunyuan")
    assert statuses(run) == ["truncated", "truncated", "valid", "empty"]
    samples = run.tasks["split"].samples
    assert samples[2].reasoning == "2 + 3" and samples[2].answer == "5"
    assert samples[0].answer == "" and samples[0].reasoning == "a trace the model never closed"


def test_split_reasoning_of_a_prefilled_template(tmp_path):
    """QwQ-style prompts open the trace: the reassembled text gets only the closer, as the model wrote it."""
    f = write_jsonl(tmp_path / "qwq.jsonl", [
        {"prompt": "<|im_start|>assistant\n<think>\n",
         "choices": [{"message": {"content": "42", "reasoning_content": "6 * 7"}, "finish_reason": "stop"}]},
    ])
    (s,) = load_run(f, fmt="qwq").tasks["qwq"].samples
    assert (s.status, s.reasoning, s.answer) == ("valid", "6 * 7", "42")
    assert s.text.startswith("6 * 7") and "<think>" not in s.text


def test_lengths_per_class_and_no_answer_rate_from_generations(tmp_path, capsys):
    f = write_jsonl(tmp_path / "gens.jsonl", [
        {"response": "<think>one two three four</think>\n7", "correct": True},
        {"response": "<think>one two</think>\n\n", "correct": False},  # closed its trace and stopped
        {"response": "the answer is 9", "correct": False},
        {"response": "<think>a b c d e f", "correct": False},
    ])
    t = summarize(load_run(f)).tasks["gens"]
    assert t.get("no_answer_rate") == 0.5  # one of the two valid traces has no answer text
    assert t.token_unit == "words"  # JSONL names no tokenizer: whitespace words, said so
    assert t.lengths["valid"]["reasoning"] == {"n": 2, "mean": 3.0, "median": 3.0, "p90": pytest.approx(3.8)}
    assert t.lengths["missing"]["answer"]["mean"] == 4.0 and t.lengths["truncated"]["answer"]["mean"] == 0.0
    assert t.get("reasoning_tokens") == pytest.approx(12 / 4) and t.get("answer_tokens") == pytest.approx(5 / 4)
    assert main(["report", str(f)]) == 0
    out = capsys.readouterr().out
    for text in ("no answer", "0.500", "reasoning and answer lengths per class (whitespace words: no tokenizer known)",
                 "reasoning mean", "p90"):
        assert text in out, text
