"""The trace layer on an lm-eval task (``gsm8k_cot_zeroshot``, lm-eval's YAML as installed, local data) with each
API backend, through lm-eval's own request code against a small local server: ``thinkpack-chat-completions``
(the server splits each generation into ``reasoning`` and ``content`` as vLLM's qwen3 parser does; the backend
puts it back and keeps the finish reason) and ``local-completions`` (the completions endpoint returns the text as
written). Each gives the figures the canned model gives for the same texts (``specs.responses``, one doc per
class), so the layer is the same whatever brought the text; the chat backend's finish reasons also reach
``budget_exhausted_rate``. hf and thinkpack-hf run the bundled model (``test_bundled_model.py``, ``test_cli_runs``);
vLLM's server is in the vLLM tier (``tests/vllm/test_server_e2e.py``)."""

from __future__ import annotations

import functools
import json
import re
from http.server import ThreadingHTTPServer

import pytest

from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY
from tests.loopback import JSONHandler, serving

from .runner import layer_on, no_env_info, run, task_manager
from .specs import BY_TASK, CLASSES, responses, write_canned
from .tried import MODEL_DIR

SPEC = BY_TASK["gsm8k_cot_zeroshot"]
ROWS = SPEC.splits["test"]
META = {"trace_format": "qwen3", "prefilled": False}
QUESTION = re.compile(r"Tom has (\d+) apples and buys (\d+) more")


def _text_for(prompt: str) -> tuple[str, str]:
    """(the canned text of the prompt's doc, finish reason): doc i answers in class CLASSES[i]."""
    a, b = QUESTION.findall(prompt)[-1]
    i = next(k for k, r in enumerate(ROWS) if r["question"].startswith(f"Tom has {a} apples and buys {b} more"))
    text = responses(SPEC.good, SPEC.bad)[i].replace("«gold»", ROWS[i]["gold"]).replace("«wrong»", ROWS[i]["wrong"])
    return text, "length" if CLASSES[i] == "truncated" else "stop"


def _split(text: str) -> dict:
    """What a reasoning parser returns for the text (vLLM qwen3: no closer -> all reasoning)."""
    if not text.startswith("<think>"):
        return {"content": text}
    body = text[len("<think>"):]
    reasoning, closer, content = body.partition("</think>")
    return {"reasoning": reasoning, "content": content if closer else None}


@functools.cache
def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(MODEL_DIR))


class _Handler(JSONHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.endswith("/chat/completions"):
            text, reason = _text_for(body["messages"][-1]["content"])
            choice = {"index": 0, "message": {"role": "assistant", **_split(text)}, "finish_reason": reason}
            payload = {"id": "x", "object": "chat.completion", "model": body["model"], "choices": [choice]}
        else:
            prompts = body["prompt"]  # token ids (lm-eval tokenizes with the model's tokenizer): one list or several
            prompts = [prompts] if isinstance(prompts, str) or (prompts and isinstance(prompts[0], int)) else prompts
            choices = []
            for k, p in enumerate(prompts):
                text, reason = _text_for(p if isinstance(p, str) else _tokenizer().decode(p))
                choices.append({"index": k, "text": text, "finish_reason": reason})
            payload = {"id": "x", "object": "text_completion", "model": body["model"], "choices": choices}
        self.send_json(payload)


@pytest.fixture(scope="module")
def server():
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Handler)) as url:
        yield f"{url}/v1"


def _layered(model: str, model_args: str) -> dict:
    import lm_eval

    import lm_eval_thinkpack.harness.backends  # noqa: F401  (registers thinkpack-chat-completions)

    with layer_on(), no_env_info():
        return lm_eval.simple_evaluate(model=model, model_args=model_args, tasks=[SPEC.task], log_samples=True,
                                       bootstrap_iters=0, task_manager=task_manager(META), apply_chat_template=True)


KEYS = ("exact_match,strict-match", "exact_match,flexible-extract", f"exact_match,{ANSWER_PREFIX}strict-match",
        f"exact_match,{ANSWER_PREFIX}flexible-extract", *(f"{c}_trace_rate,{TRACE_KEY}" for c in
                                                          ("valid", "empty", "missing", "truncated")),
        f"rpass@1,{TRACE_KEY}")


@pytest.mark.parametrize("backend", ["thinkpack-chat-completions", "local-completions"])
def test_api_backends_get_the_layer(backend, server, local_hub, tmp_path):
    if backend == "thinkpack-chat-completions":
        args = f"model=tiny,base_url={server}/chat/completions,trace_format=qwen3,prefilled=False,max_retries=1"
    else:
        args = (f"model=tiny,base_url={server}/completions,tokenizer={MODEL_DIR},tokenizer_backend=huggingface,"
                "max_retries=1")
    out = _layered(backend, args)
    res = out["results"][SPEC.task]
    canned = run([SPEC.task], write_canned(tmp_path / "c.jsonl", SPEC.canned_lines()), layer=True, metadata=META)
    want = canned["results"][SPEC.task]
    assert {k: res[k] for k in KEYS} == pytest.approx({k: want[k] for k in KEYS})
    assert res[f"valid_trace_rate,{TRACE_KEY}"] == pytest.approx(0.4)
    assert res["exact_match,strict-match"] > res[f"exact_match,{ANSWER_PREFIX}strict-match"]
    budget = res[f"budget_exhausted_rate,{TRACE_KEY}"]
    if backend == "thinkpack-chat-completions":  # its finish reasons: the one cut doc ran out of budget
        assert budget == pytest.approx(0.2)
