"""A long run meets a misbehaving OpenAI-compatible server: every reply is checked inside the retried call, and
after the retries a bad reply is that sample's harness error, never the end of the run.

The server on loopback answers each prompt by its scenario (the prompt text), keeping a count per scenario:
an error object in a 200 reply, a ``null`` body, no choices, content as a list of parts, content and reasoning
both null, 500s that stop after two attempts, 500s that never stop, a first reply slower than the client's
timeout, and a 429 with ``Retry-After``. Both of lm-eval's request paths run (sync and asyncio). Before this,
the error object, the null body, the list content and the empty choices ended the run with a traceback and no
retry (``parse_generations`` ran outside lm-eval's retry), and a null message was scored as a missing trace.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import ThreadingHTTPServer

import pytest
from lm_eval.api.instance import Instance
from lm_eval.models.api_models import JsonChatStr

from lm_eval_thinkpack.generation import Generation
from lm_eval_thinkpack.harness.backends import ThinkpackChatCompletion
from lm_eval_thinkpack.harness.filters import TraceFilter
from lm_eval_thinkpack.harness.metrics import agg_harness_errors, agg_pass_at_1, process_results
from lm_eval_thinkpack.records import parse_record
from tests.loopback import JSONHandler, serving

GOOD = {"reasoning": "\nOkay.\n", "content": "\n\n7"}
SLOW = 2.5  # seconds the "slow" scenario sleeps on its first attempt (the client's timeout is 1 s)


def _completion(message: dict) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.attempts: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()


class _Handler(JSONHandler):
    server: _Server

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        self.send_json(body, status, headers)


    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = body["messages"][-1]["content"]
        with self.server.lock:
            self.server.attempts[key].append(time.monotonic())
            n = len(self.server.attempts[key])
        if key == "good":
            self._send(200, _completion(GOOD))
        elif key == "error_object":
            self._send(200, {"error": {"message": "model overloaded", "code": 503}})
        elif key == "null_body":
            self._send(200, None)
        elif key == "empty_choices":
            self._send(200, {"id": "x", "choices": []})
        elif key == "list_content":
            self._send(200, _completion({"content": [{"type": "text", "text": "<think>\nOk.\n</think>"},
                                                     {"type": "text", "text": "\n\n7"}]}))
        elif key == "null_message":
            self._send(200, _completion({"content": None}))
        elif key == "flaky_500":
            self._send(500, {"error": "busy"}) if n <= 2 else self._send(200, _completion(GOOD))
        elif key == "always_500":
            self._send(500, {"error": "down"})
        elif key == "slow":
            if n == 1:
                time.sleep(SLOW)
            self._send(200, _completion(GOOD))
        elif key == "rate_limited":
            self._send(429, {"error": "slow down"}, {"Retry-After": "1"}) if n == 1 else self._send(
                200, _completion(GOOD))
        else:
            self._send(404, {"error": f"unknown scenario {key}"})



@pytest.fixture
def server():
    httpd = _Server()
    with serving(httpd) as url:
        yield httpd, f"{url}/v1/chat/completions"


DOC = {"thinkpack_format": "qwen3", "thinkpack_prefilled": False, "thinkpack_gold": "7",
       "thinkpack_scorer": "exact", "thinkpack_timeout": None}
SCENARIOS = ["good", "error_object", "null_body", "empty_choices", "list_content", "null_message", "flaky_500",
             "always_500", "slow", "rate_limited"]
#: scenarios that never give a usable reply: harness errors after the retries
FAULTS = {"error_object", "null_body", "empty_choices", "null_message", "always_500"}


@pytest.mark.parametrize("num_concurrent", [1, 4])  # lm-eval's sync and asyncio request paths
def test_a_misbehaving_server_costs_samples_not_the_run(server, monkeypatch, num_concurrent):
    httpd, url = server
    # short waits, except what the server asks for: a 429's Retry-After (1 s) must still be honoured
    monkeypatch.setattr(ThinkpackChatCompletion, "BACKOFF_MIN", 0.01)
    monkeypatch.setattr(ThinkpackChatCompletion, "BACKOFF_MAX", 0.05)
    lm = ThinkpackChatCompletion(model="tiny", base_url=url, num_concurrent=num_concurrent, max_retries=3,
                                 timeout=1)
    reqs = [Instance("generate_until", dict(DOC, thinkpack_id=key),
                     (JsonChatStr(json.dumps([{"role": "user", "content": key}])), {"until": [], "max_gen_toks": 32}),
                     i) for i, key in enumerate(SCENARIOS)]
    out = dict(zip(SCENARIOS, lm.generate_until(reqs, disable_tqdm=True), strict=True))

    assert all(type(g) is Generation for g in out.values())
    for key in FAULTS:
        assert out[key] == "" and out[key].fault, key
        assert len(httpd.attempts[key]) == 3, key  # retried inside the call, then given up
    assert "error object" in out["error_object"].fault and "no choices" in out["empty_choices"].fault
    assert "a null body" in out["null_body"].fault
    assert "content and reasoning null" in out["null_message"].fault and "HTTP 500" in out["always_500"].fault
    for key in ("good", "flaky_500", "slow", "rate_limited"):
        assert out[key] == "<think>\nOkay.\n</think>\n\n7" and not out[key].fault, key
    assert out["list_content"] == "<think>\nOk.\n</think>\n\n7"
    assert len(httpd.attempts["flaky_500"]) == 3 and len(httpd.attempts["slow"]) == 2
    first, second = httpd.attempts["rate_limited"]
    assert second - first >= 1.0  # Retry-After: 1 honoured (the backoff alone is at most 0.05 s)

    # the trace filter and the metrics: faults are harness errors, left out of pass@1; the rest are scored
    docs = [r.doc for r in reqs]
    records = TraceFilter().apply([[out[k]] for k in SCENARIOS], docs)
    rows = [process_results(d, [r]) for d, r in zip(docs, records, strict=True)]
    by_key = {k: parse_record(r[0]) for k, r in zip(SCENARIOS, records, strict=True)}
    assert {k for k, rec in by_key.items() if rec["harness_error"]} == FAULTS
    assert all(by_key[k]["correct"] is True for k in set(SCENARIOS) - FAULTS)
    assert agg_harness_errors([r["harness_errors"] for r in rows]) == len(FAULTS)
    assert agg_pass_at_1([r["pass@1"] for r in rows]) == 1.0


def test_retry_after_is_capped(server, monkeypatch):
    _, url = server
    lm = ThinkpackChatCompletion(model="tiny", base_url=url, max_retries=2)
    monkeypatch.setattr(ThinkpackChatCompletion, "RETRY_AFTER_CAP", 5.0)
    assert lm._outcome(429, "3600", "", 1, 0)[2] == 5.0
    assert lm._outcome(429, "2", "", 1, 0)[2] == 2.0
    assert lm._outcome(400, None, "too long", 1, 0)[2] is None  # a refused request is not asked again
