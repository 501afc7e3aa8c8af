"""Lengths of past runs in the model's tokens: thinkpack runs whose records carry no token counts (made with
``--metadata count_tokens=false``, or before the filter counted), or only some of them, and JSONL generations.

The runs are the canned pipeline's (conftest.py); the canned model names no tokenizer, so its records carry
whitespace words. A copy whose results JSON names the demo model (as a run of that model would) is counted with
the demo model's tokenizer when read, and every figure equals ``tokens.count_lengths`` on the same traces.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
from lm_eval_thinkpack.report import counting
from lm_eval_thinkpack.report.cli import main
from lm_eval_thinkpack.report.readers import load_run
from lm_eval_thinkpack.report.summary import summarize
from lm_eval_thinkpack.tokens import count_lengths, lengths_by_class, load_tokenizer

from .test_readers import write_jsonl

TASK = "thinkpack_gsm8k"


def _past_copy(src: Path, folder: Path, planted: dict[str, int] | None = None) -> Path:
    """A copy of a canned run that names the demo model; its records lose their lengths (an older run), except
    the first doc's, which carry ``planted`` counts in tokens (a run counted in part)."""
    shutil.copytree(src, folder)
    (results,) = list(folder.rglob("results_*.json"))
    data = json.loads(results.read_text())
    data["config"]["model_args"] = f"{data['config']['model_args']},pretrained={MODEL_DIR}"
    results.write_text(json.dumps(data))
    for f in folder.rglob("samples_*.jsonl"):
        lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        for i, line in enumerate(lines):
            recs = line["filtered_resps"][0] if isinstance(line["filtered_resps"][0], list) else line["filtered_resps"]
            for j, raw in enumerate(recs):
                rec = json.loads(raw)
                for key in ("reasoning_tokens", "answer_tokens", "token_unit"):
                    rec.pop(key, None)
                if i == 0 and planted is not None:
                    rec.update(planted, token_unit="tokens")
                recs[j] = json.dumps(rec)
        f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


def _traces(folder: Path, task: str = TASK):
    samples = load_run(folder, tokenizer="none").tasks[task].samples
    return samples, count_lengths([(s.reasoning, s.answer) for s in samples], load_tokenizer(str(MODEL_DIR)))


def test_a_thinkpack_run_without_counts_is_counted_with_its_models_tokenizer(lm_eval_runs, tmp_path, capsys):
    folder = _past_copy(lm_eval_runs["tuned"], tmp_path / "past")
    samples, expected = _traces(folder)
    assert all(s.token_unit is None for s in samples)  # the records carry no lengths
    run = load_run(folder, keep_text=False)
    s = summarize(run).tasks[TASK]
    assert s.token_unit == "tokens"
    assert s.lengths == lengths_by_class([x.status for x in samples], [n.reasoning for n in expected],
                                         [n.answer for n in expected])
    assert [(x.reasoning_tokens, x.answer_tokens) for x in run.tasks[TASK].samples] == [
        (n.reasoning, n.answer) for n in expected]
    n = sum(len(td.samples) for td in run.tasks.values())
    assert run.token_note == (f"{n} sample(s) without token counts counted in tokens (tokenizer '{MODEL_DIR}', "
                              "named by the run's model args)")


def test_a_run_counted_in_part_ends_in_one_unit(lm_eval_runs, tmp_path):
    samples, expected = _traces(_past_copy(lm_eval_runs["tuned"], tmp_path / "truth"))
    first = samples[0].question_id
    true = {"reasoning_tokens": expected[0].reasoning, "answer_tokens": expected[0].answer}
    folder = _past_copy(lm_eval_runs["tuned"], tmp_path / "part", planted=true)
    run = load_run(folder)
    s = summarize(run).tasks[TASK]
    assert s.token_unit == "tokens" and s.lengths == lengths_by_class(
        [x.status for x in samples], [n.reasoning for n in expected], [n.answer for n in expected])
    counted = [x for td in run.tasks.values() for x in td.samples if x.question_id.split(":")[0] == "0"]
    total = sum(len(td.samples) for td in run.tasks.values())
    assert run.token_note.startswith(f"{total - len(counted)} sample(s) without token counts counted in tokens")
    # the counts a record carries are kept, not recounted
    planted = _past_copy(lm_eval_runs["tuned"], tmp_path / "planted",
                         planted={"reasoning_tokens": 999, "answer_tokens": 7})
    kept = next(x for x in load_run(planted).tasks[TASK].samples if x.question_id == first)
    assert (kept.reasoning_tokens, kept.answer_tokens, kept.token_unit) == (999, 7, "tokens")
    # without a tokenizer the counted and the uncounted samples are all whitespace words
    words = summarize(load_run(folder, tokenizer="none")).tasks[TASK]
    assert words.token_unit == "words"
    assert words.lengths == lengths_by_class([x.status for x in samples], [x.trace_words for x in samples],
                                             [x.answer_words for x in samples])


def test_counting_in_rounds_bounded_by_characters_gives_the_same_counts(lm_eval_runs, tmp_path, monkeypatch):
    folder = _past_copy(lm_eval_runs["tuned"], tmp_path / "past")
    samples, expected = _traces(folder)
    rounds = []
    real = counting.count_lengths
    monkeypatch.setattr(counting, "count_lengths", lambda pairs, tok: rounds.append(len(pairs)) or real(pairs, tok))
    monkeypatch.setattr(counting, "PENDING_CHARS", 1)  # every sample with text is a round of its own
    run = load_run(folder, keep_text=False)
    assert [(x.reasoning_tokens, x.answer_tokens) for x in run.tasks[TASK].samples] == [
        (n.reasoning, n.answer) for n in expected]
    assert rounds and max(rounds) == 1
    assert all(x.text == x.reasoning == x.answer == "" for x in run.tasks[TASK].samples)  # streamed: no text kept


def test_generations_are_counted_with_the_tokenizer_named(tmp_path, capsys):
    f = write_jsonl(tmp_path / "gens.jsonl", [
        {"response": "<think>Let me add 17 and 25: 17 + 25 = 42.</think>\nThe answer is 42.", "correct": True},
        {"response": "<think></think>\n42", "correct": True},
        {"response": "<think>Let me think about the pens", "correct": False},
    ])
    tok = load_tokenizer(str(MODEL_DIR))
    samples = load_run(f).tasks["gens"].samples
    expected = count_lengths([(s.reasoning, s.answer) for s in samples], tok)
    t = summarize(load_run(f, tokenizer=str(MODEL_DIR), keep_text=False)).tasks["gens"]
    assert t.token_unit == "tokens"
    assert t.lengths == lengths_by_class([s.status for s in samples], [n.reasoning for n in expected],
                                         [n.answer for n in expected])
    assert main(["report", str(f)]) == 0
    assert capsys.readouterr().err.strip().splitlines() == [
        "lm-eval-thinkpack report: run gens: counted in whitespace words (a JSONL of generations names no "
        "tokenizer; pass --tokenizer NAME_OR_PATH)"]
    assert main(["report", str(f), "--tokenizer", str(MODEL_DIR), "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["runs"][0]["tasks"]["gens"]["lengths"] == t.lengths
    assert err.strip().splitlines()[-1] == (f"lm-eval-thinkpack report: run gens: 3 sample(s) without token counts "
                                            f"counted in tokens (--tokenizer '{MODEL_DIR}')")


@pytest.mark.parametrize("choice", ["none", "NONE", " none "])
def test_none_is_words_whatever_its_case(choice):
    assert counting.explicit_tokenizer(choice) is None
