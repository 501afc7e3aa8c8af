"""thinkpack's lm-eval backends, run through lm-eval's own request code.

The chat backend talks HTTP to a small local server that answers like vLLM (``message.reasoning``) or SGLang
(``message.reasoning_content``) split a generation; the real vLLM server is exercised in ``tests/vllm``.
The hf backend runs the bundled tiny model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance
from lm_eval.models.api_models import JsonChatStr

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.generation import Generation
from lm_eval_thinkpack.harness.backends import ServerResponseError, ThinkpackChatCompletion, ThinkpackHFLM
from tests.loopback import JSONHandler, serving

REPO = Path(__file__).resolve().parents[2]

# what a reasoning-parsing server sends back for each question (the model wrote "<think>" + r + "</think>" + c)
REPLIES = {
    "closed": ({"reasoning": "\nOkay.\n3+4=7\n", "content": "\n\n7"}, "stop"),
    "sglang": ({"reasoning_content": "\nOkay.\n2+2=4\n", "content": "\n\n4"}, "stop"),
    "cut": ({"reasoning": "\nOkay.\n1+1=", "content": None}, "length"),
    "plain": ({"content": "5"}, "stop"),
    "broken": (None, None),
}


class _Handler(JSONHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = body["messages"][-1]["content"]
        message, reason = REPLIES[key]
        if message is None:
            payload = {"error": "no choices here"}
        else:
            payload = {"id": "x", "object": "chat.completion", "model": body["model"],
                       "choices": [{"index": 0, "message": {"role": "assistant", **message},
                                    "finish_reason": reason}]}
        self.send_json(payload)


@pytest.fixture(scope="module")
def server():
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as url:
        yield f"{url}/v1/chat/completions"


def _request(key: str, doc: dict, idx: int = 0, max_gen_toks: int = 64) -> Instance:
    prompt = JsonChatStr(json.dumps([{"role": "user", "content": key}]))
    return Instance("generate_until", doc, (prompt, {"until": [], "max_gen_toks": max_gen_toks}), idx)


QWEN3 = {"thinkpack_format": "qwen3", "thinkpack_prefilled": False}
QWQ = {"thinkpack_format": "qwq", "thinkpack_prefilled": True}


@pytest.mark.parametrize("num_concurrent", [1, 3])  # lm-eval's sync and asyncio paths
def test_chat_backend_reassembles_each_reply_in_its_docs_format(server: str, num_concurrent: int) -> None:
    lm = ThinkpackChatCompletion(model="tiny", base_url=server, num_concurrent=num_concurrent, max_retries=1)
    reqs = [_request("closed", QWEN3, 0), _request("cut", QWEN3, 1), _request("sglang", QWEN3, 2),
            _request("plain", QWEN3, 3), _request("closed", QWQ, 4), _request("cut", QWQ, 5)]
    out = lm.generate_until(reqs, disable_tqdm=True)
    assert all(type(g) is Generation for g in out)
    assert out[0] == "<think>\nOkay.\n3+4=7\n</think>\n\n7" and out[0].finish_reason == "stop"
    assert out[1] == "<think>\nOkay.\n1+1=" and out[1].finish_reason == "length"
    assert out[2] == "<think>\nOkay.\n2+2=4\n</think>\n\n4"  # SGLang's reasoning_content
    assert out[3] == "5"
    assert out[4] == "\nOkay.\n3+4=7\n</think>\n\n7"  # prefilled: the prompt holds the opener
    got = [classify(g, r.doc["thinkpack_format"], prefilled=r.doc["thinkpack_prefilled"],
                    finish_reason=g.finish_reason) for g, r in zip(out, reqs, strict=True)]
    assert [t.status.value for t in got] == ["valid", "truncated", "valid", "missing", "valid", "truncated"]
    assert [t.answer for t in got] == ["7", "", "4", "5", "7", ""]
    assert [t.budget_exhausted for t in got] == [False, True, False, False, False, True]


def test_chat_backend_without_a_doc_profile_uses_the_model_args(server: str) -> None:
    lm = ThinkpackChatCompletion(model="tiny", base_url=server, trace_format="qwq", prefilled=True)
    (g,) = lm.generate_until([_request("closed", {})], disable_tqdm=True)
    assert g == "\nOkay.\n3+4=7\n</think>\n\n7"
    assert classify(g, "qwq", prefilled=True).status == "valid"


def test_chat_backend_makes_a_reply_that_is_not_a_completion_a_harness_fault(server: str) -> None:
    lm = ThinkpackChatCompletion(model="tiny", base_url=server, max_retries=1)
    (g,) = lm.generate_until([_request("broken", QWEN3)], disable_tqdm=True)  # not the end of the run
    assert g == "" and "an error object" in g.fault
    with pytest.raises(ServerResponseError, match="an error object"):
        lm.parse_generations({"error": "no choices here"})


def test_plain_local_chat_completions_loses_what_the_backend_keeps(server: str) -> None:
    from lm_eval.models.openai_completions import LocalChatCompletion

    plain = LocalChatCompletion(model="tiny", base_url=server, max_retries=1)
    out = plain.generate_until([_request("closed", QWEN3), _request("cut", QWEN3, 1)], disable_tqdm=True)
    assert out == ["\n\n7", ""]  # the trace is gone: "missing" twice, where the truth is valid + truncated
    assert [classify(o, "qwen3").status.value for o in out] == ["missing", "missing"]


# ------------------------------------------------------------------------------------------------ hf


@pytest.fixture(scope="module")
def hf_models():
    from lm_eval.models.huggingface import HFLM

    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR

    kw = {"pretrained": str(MODEL_DIR), "device": "cpu", "batch_size": 4}
    return HFLM(**kw), ThinkpackHFLM(**kw)


def _hf_requests(lm, max_gen_toks: int) -> list[Instance]:
    chats = [[{"role": "user", "content": q}] for q in ("What is 12 + 30?", "Reverse the word: cat", "hi")]
    return [Instance("generate_until", {}, (lm.apply_chat_template(c), {"until": [], "max_gen_toks": max_gen_toks,
                                                                        "do_sample": False}), i)
            for i, c in enumerate(chats)]


def test_hf_backend_marks_the_generations_that_used_the_whole_budget(hf_models) -> None:
    plain, tp = hf_models
    short = tp.generate_until(_hf_requests(tp, 6), disable_tqdm=True)
    assert short == plain.generate_until(_hf_requests(plain, 6), disable_tqdm=True)  # same text as hf
    assert all(type(g) is Generation and g.finish_reason == "length" for g in short)
    assert all(classify(g, "qwen3", finish_reason=g.finish_reason).status == "truncated" for g in short)
    long = tp.generate_until(_hf_requests(tp, 300), disable_tqdm=True)
    assert long == plain.generate_until(_hf_requests(plain, 300), disable_tqdm=True)
    assert [g.finish_reason for g in long] == ["stop"] * 3  # the model ends its answers well inside 300
    assert all("</think>" in g for g in long)


# ------------------------------------------------------------------------------------------------ CLI


def test_thinkpack_eval_passes_everything_to_lm_eval() -> None:
    proc = subprocess.run([sys.executable, "-m", "lm_eval_thinkpack.cli", "eval", "run", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "--model" in proc.stdout and "--gen_kwargs" in proc.stdout  # lm-eval's own run help


def test_setup_cfg_declares_the_backends_for_lm_evals_plugin_group() -> None:
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    entries = dict(line.split(" = ") for line in cfg["options.entry_points"]["lm_eval.models"].strip().splitlines())
    import importlib

    for name, target in entries.items():
        module, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        from lm_eval.api.registry import get_model

        assert get_model(name) is cls  # the entry point and the decorator agree (lm-eval reconciles them)
    assert set(entries) == {"thinkpack-chat-completions", "thinkpack-hf"}
