"""report / compare on lm-eval runs of a task that is not thinkpack's: lm-eval's own gsm8k YAML (as installed),
its Hub dataset swapped for a local file, answered by the canned model, with --log_samples.

Six questions, one per case: valid and right; valid with the answer only inside the trace ("#### 36" in the
reasoning: gsm8k's strict-match regex credits it); truncated with the gold answer in the cut trace (credited
by gsm8k, never by the trace layer); empty and right; missing and right; valid and wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_thinkpack.report.cli import main
from lm_eval_thinkpack.report.readers import load_run
from lm_eval_thinkpack.report.summary import summarize

from .conftest import REPO, _env

HERE = Path(__file__).resolve().parent / "data" / "gsm8k_local"


def _task_dir(tmp: Path) -> Path:
    import lm_eval

    gsm8k = Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml"
    assert gsm8k.exists()
    folder = tmp / "tasks"
    folder.mkdir()
    text = (HERE / "gsm8k_local.yaml").read_text().replace("GSM8K_TEST", str(HERE / "gsm8k_test.jsonl"))
    (folder / "gsm8k_local.yaml").write_text(f"include: {gsm8k}\n{text}")
    return folder


def _run(tmp: Path, name: str, responses: str, chat: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "lm_eval_thinkpack.harness.run_lm_eval", "--model", "thinkpack-canned",
           "--model_args", f"responses={HERE / responses}", "--tasks", "gsm8k_local", "--log_samples",
           "--include_path", str(tmp / "tasks"), "--output_path", str(tmp / name),
           *(["--apply_chat_template"] if chat else [])]
    return subprocess.Popen(cmd, cwd=REPO, env=_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("foreign")
    _task_dir(tmp)
    procs = {"base": _run(tmp, "base", "base_responses.jsonl", True),
             "tuned": _run(tmp, "tuned", "tuned_responses.jsonl", True),
             "base_plain": _run(tmp, "base_plain", "base_responses.jsonl", False)}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"lm_eval ({name}) failed:\n{out[-2000:]}\n{err[-4000:]}"
    return {name: tmp / name for name in procs}


def test_the_logged_samples_are_lm_evals_own_shape(runs):
    (f,) = list(runs["base"].rglob("samples_gsm8k_local_*.jsonl"))
    lines = [json.loads(x) for x in f.read_text().splitlines()]
    assert sorted({x["filter"] for x in lines}) == ["flexible-extract", "strict-match"]  # one line per filter
    assert all(x["metrics"] == ["exact_match"] and x["exact_match"] in (0, 1) for x in lines)


def test_report_classifies_a_run_made_without_thinkpack(runs, capsys):
    run = load_run(runs["base"])
    s = summarize(run).tasks["gsm8k_local"]
    vals = {m: s.get(m) for m in ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate",
                                  "truncated_trace_rate", "pass@1", "rpass@1")}
    assert vals == pytest.approx({"valid_trace_rate": 3 / 6, "empty_trace_rate": 1 / 6, "missing_trace_rate": 1 / 6,
                                  "truncated_trace_rate": 1 / 6, "pass@1": 4 / 6, "rpass@1": 2 / 3})
    # gsm8k credited 5 of 6; two of those on text from the trace (the "#### 36" inside it, the cut trace)
    assert (s.metric, s.credited, s.credited_in_trace) == ("exact_match,strict-match", 5, 2)
    assert main(["report", str(runs["base"])]) == 0
    out = capsys.readouterr().out
    assert "2/5" in out and "exact_match,strict-match" in out and "gsm8k_local" in out


def test_metric_flag_picks_another_filter_and_names_unknown_ones(runs, capsys):
    s = summarize(load_run(runs["base"], metric="exact_match,flexible-extract")).tasks["gsm8k_local"]
    assert s.metric == "exact_match,flexible-extract"
    assert main(["report", str(runs["base"]), "--metric", "f1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lm-eval-thinkpack report: --metric f1")
    assert "exact_match,strict-match" in err[0]


def test_compare_gates_runs_made_without_thinkpack(runs, capsys):
    assert main(["compare", str(runs["base"]), str(runs["tuned"]), "--fail-on-collapse"]) == 3
    assert "REASONING-TRACE COLLAPSE" in capsys.readouterr().out


def test_compare_refuses_runs_whose_chat_template_differs(runs, capsys):
    assert main(["compare", str(runs["base_plain"]), str(runs["tuned"]), "--fail-on-collapse"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lm-eval-thinkpack compare: refusing")
    assert "chat template off in" in err[0] and "--allow-different-settings" in err[0]
    assert main(["compare", str(runs["base_plain"]), str(runs["tuned"]), "--allow-different-settings"]) == 0
    assert "settings differ from the base (chat template off" in capsys.readouterr().out


def test_compare_refuses_a_different_format_or_prefill(runs, capsys):
    assert main(["compare", str(runs["base"]), str(runs["tuned"]), "--prefilled"]) == 0  # same forced prefill
    from lm_eval_thinkpack.report.compare import SettingsDiffer, compare

    base = summarize(load_run(runs["base"]))
    tuned = summarize(load_run(runs["tuned"], fmt="qwen3", prefilled=True))
    with pytest.raises(SettingsDiffer, match=r"format think in .* vs qwen3 in .*; prefilled no in .* vs yes in"):
        compare([base, tuned])


def test_a_record_above_the_limit_is_one_line(runs, capsys):
    assert main(["report", str(runs["base"]), "--max-record-mb", "0.0001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-record-mb" in err[0] and "MB limit" in err[0]


def test_streaming_keeps_no_text(runs):
    run = load_run(runs["base"], keep_text=False)
    samples = run.tasks["gsm8k_local"].samples
    assert all(s.text == s.reasoning == s.answer == "" for s in samples)
    assert {s.status for s in samples} == {"valid", "empty", "missing", "truncated"}
    assert summarize(run).tasks["gsm8k_local"].trace_words == summarize(load_run(runs["base"])).tasks[
        "gsm8k_local"].trace_words


def test_older_group_listing_and_a_loglikelihood_task_named_once(runs, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(runs["base"], folder)
    (results,) = list(folder.rglob("results_*.json"))
    data = json.loads(results.read_text())
    data["group_subtasks"] = {"gsm8k_local": [], "arc_easy": []}  # how older lm-eval versions list plain tasks
    data["results"]["arc_easy"] = {"alias": "arc_easy", "acc,none": 0.5, "acc_stderr,none": 0.1}
    data["configs"]["arc_easy"] = {"task": "arc_easy", "output_type": "multiple_choice"}
    results.write_text(json.dumps(data))
    run = load_run(folder)
    assert list(run.tasks) == ["gsm8k_local"]
    assert [n for n in run.notes if "arc_easy" in n] == [
        "not classified (loglikelihood tasks, or no logged samples): arc_easy"]


# ------------------------------------------------------------------ lengths of a past run, in the model's tokens


def _naming(src: Path, folder: Path, **model_args: str) -> Path:
    """A copy of run ``src`` whose results JSON names ``model_args`` (as a run of that model would have logged)."""
    import shutil

    shutil.copytree(src, folder)
    (results,) = list(folder.rglob("results_*.json"))
    data = json.loads(results.read_text())
    args = data["config"]["model_args"]
    extra = ",".join(f"{k}={v}" for k, v in model_args.items())
    data["config"]["model_args"] = f"{args},{extra}" if isinstance(args, str) else {**(args or {}), **model_args}
    results.write_text(json.dumps(data))
    return folder


def _expected_lengths(folder: Path, tokenizer):
    """The lengths count_lengths gives for the run's classified traces (read with their text), per class."""
    from lm_eval_thinkpack.tokens import count_lengths, lengths_by_class

    samples = load_run(folder, tokenizer="none").tasks["gsm8k_local"].samples
    counts = count_lengths([(s.reasoning, s.answer) for s in samples], tokenizer)
    return lengths_by_class([s.status for s in samples], [n.reasoning for n in counts],
                            [n.answer for n in counts])


def test_a_past_run_is_counted_with_the_tokenizer_its_model_args_name(runs, tmp_path, capsys):
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
    from lm_eval_thinkpack.tokens import load_tokenizer

    folder = _naming(runs["base"], tmp_path / "past", pretrained=str(MODEL_DIR))
    expected = _expected_lengths(folder, load_tokenizer(str(MODEL_DIR)))
    s = summarize(load_run(folder, keep_text=False)).tasks["gsm8k_local"]
    assert s.token_unit == "tokens" and s.lengths == expected
    assert expected["all"]["reasoning"]["mean"] != _expected_lengths(folder, None)["all"]["reasoning"]["mean"]
    assert s.get("reasoning_tokens") == pytest.approx(expected["all"]["reasoning"]["mean"])
    assert main(["report", str(folder), "--json", str(tmp_path / "r.json")]) == 0
    out, err = capsys.readouterr()
    assert "reasoning and answer lengths per class (the model's tokens)" in out
    task = json.loads((tmp_path / "r.json").read_text())["runs"][0]["tasks"]["gsm8k_local"]
    assert task["token_unit"] == "tokens" and task["lengths"] == expected
    assert err.strip().splitlines() == [
        f"lm-eval-thinkpack report: run model: 6 sample(s) without token counts counted in tokens (tokenizer "
        f"'{MODEL_DIR}', named by the run's model args)"]


def test_tokenizer_option_overrides_the_runs_and_none_forces_words(runs, tmp_path, capsys):
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
    from lm_eval_thinkpack.tokens import load_tokenizer
    from tests.chat_fixtures import make_tokenizer

    other = tmp_path / "other_tok"
    make_tokenizer("qwen3").save_pretrained(other)  # a byte-level BPE that splits differently from the demo's
    folder = _naming(runs["base"], tmp_path / "past", pretrained=str(MODEL_DIR))
    expected = _expected_lengths(folder, load_tokenizer(str(other)))
    assert expected != _expected_lengths(folder, load_tokenizer(str(MODEL_DIR)))
    assert summarize(load_run(folder, tokenizer=str(other))).tasks["gsm8k_local"].lengths == expected
    words = summarize(load_run(folder, tokenizer="none")).tasks["gsm8k_local"]
    assert words.token_unit == "words" and words.lengths == _expected_lengths(folder, None)
    assert main(["report", str(folder), "--tokenizer", "none"]) == 0
    out, err = capsys.readouterr()
    assert "(whitespace words: no tokenizer known)" in out
    assert err.strip().splitlines() == ["lm-eval-thinkpack report: run model: counted in whitespace words "
                                        "(--tokenizer none)"]


def test_an_unknown_tokenizer_gives_words_and_one_line_saying_why(runs, tmp_path, capsys):
    folder = _naming(runs["base"], tmp_path / "past", pretrained="no-such-org/no-such-model")
    assert main(["report", str(folder), "--json", str(tmp_path / "r.json")]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert [x for x in err.splitlines() if x.startswith("lm-eval-thinkpack")] == [
        "lm-eval-thinkpack report: run no-such-org/no-such-model: counted in whitespace words (tokenizer "
        "'no-such-org/no-such-model' not available locally; pass --tokenizer NAME_OR_PATH)"]
    assert json.loads((tmp_path / "r.json").read_text())["runs"][0]["tasks"]["gsm8k_local"]["token_unit"] == "words"
    # a run that names no model at all says that instead
    assert main(["report", str(runs["base"])]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "counted in whitespace words (the run names no tokenizer; pass --tokenizer NAME_OR_PATH)")


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_tokenizer_that_cannot_be_loaded_is_one_error_line(runs, tmp_path, capsys, command):
    bad = tmp_path / "no_such_tokenizer"
    paths = [str(runs["base"])] * (2 if command == "compare" else 1)
    assert main([command, *paths, "--tokenizer", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"lm-eval-thinkpack {command}: --tokenizer {bad}: cannot load a tokenizer (")
    assert line.endswith("pass a local tokenizer folder or a Hub model id, or --tokenizer none for whitespace words")


def test_compare_and_its_lengths_plot_count_past_runs_in_tokens(runs, tmp_path, capsys):
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR
    from lm_eval_thinkpack.report.summary import sample_lengths

    base = _naming(runs["base"], tmp_path / "base", pretrained=str(MODEL_DIR))
    tuned = _naming(runs["tuned"], tmp_path / "tuned", pretrained=str(MODEL_DIR))
    png = tmp_path / "cmp.png"
    assert main(["compare", str(base), str(tuned), "--plot", str(png)]) == 0
    out, err = capsys.readouterr()
    assert png.with_name("cmp.lengths.png").stat().st_size > 0
    assert [x.split(": ", 2)[2] for x in err.strip().splitlines()] == [
        f"6 sample(s) without token counts counted in tokens (tokenizer '{MODEL_DIR}', named by the run's model "
        "args)"] * 2
    # the figure draws sample_lengths of the runs as the command reads them (streamed): tokens for both
    assert [sample_lengths(summarize(load_run(p, keep_text=False)).samples())[2] for p in (base, tuned)] == [
        "tokens", "tokens"]


def test_a_past_run_is_read_without_the_network(runs, tmp_path, monkeypatch):
    """The run's model is looked up in local files only, for its profile as for its counts, whatever HF_HUB_OFFLINE
    says. Before, the profile's detection loaded it with the network allowed: offline without the variable, a report
    on a past run of a model not in the cache waited 107 s on the Hub client's retries."""
    import lm_eval_thinkpack.tokens as tokens
    from lm_eval_thinkpack.report import counting

    calls = []

    def spy(name, revision=None, trust_remote_code=False, local_files_only=False):
        calls.append((name, local_files_only))
        if not local_files_only:
            raise OSError("would have asked the Hub")  # never reach the network from a test
        return tokens.load_tokenizer.__wrapped__(name, revision, trust_remote_code, local_files_only)

    spy.__wrapped__ = tokens.load_tokenizer.__wrapped__
    monkeypatch.setattr(tokens, "load_tokenizer", spy)
    monkeypatch.setattr(counting, "load_tokenizer", spy)
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    folder = _naming(runs["base"], tmp_path / "past", pretrained="no-such-org/never-fetched")
    assert main(["report", str(folder)]) == 0
    assert calls and all(name == "no-such-org/never-fetched" and local for name, local in calls), calls
