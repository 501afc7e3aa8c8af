"""A canned lm-eval model for tests and demos: it answers from a JSONL file instead of generating.

``--model thinkpack-canned --model_args responses=PATH`` where each line of PATH is
``{"id": ..., "responses": [...]}`` (or ``"response": "..."``), optionally with ``"task"``. A request is
matched by (task, lm-eval's ``doc_id``) for lines that give ``"doc_id"`` (any lm-eval task), then by (task, doc
``thinkpack_id``), then by ``thinkpack_id`` alone, then by the question text
(``"question"`` lines, compared with the doc's ``thinkpack_question``, or its ``question`` for lm-eval's own
tasks), then by the exact prompt
(``"prompt"``). With ``repeats: n`` the k-th copy of a request gets the k-th response. A line with ``"fill": true``
has ``«field»`` replaced by the doc's field in its responses (a gold that the task's own ``process_docs`` computes,
e.g. GPQA's shuffled letter). The model is
registered when this module is imported; ``python -m lm_eval_thinkpack.harness.run_lm_eval`` does that.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from lm_eval_thinkpack.generation import Generation


class _Fill(str):
    """A response template: ``«field»`` stands for the doc's field."""

    def render(self, doc: dict[str, Any]) -> str:
        return re.sub("«([^»]+)»", lambda m: str(doc[m.group(1)]), str(self))


@register_model("thinkpack-canned")
class CannedLM(LM):
    def __init__(self, responses: str, prefill: str = "", **_: Any) -> None:
        super().__init__()
        self.path = Path(str(responses)).expanduser()
        self.prefill = str(prefill or "")
        self._by_key: dict[tuple[str | None, str], list[str | None]] = {}
        self._by_prompt: dict[str, list[str | None]] = {}
        self._by_question: dict[str, list[str | None]] = {}
        self._by_doc_id: dict[tuple[str | None, int], list[str | None]] = {}
        for lineno, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            resps = row.get("responses")
            if resps is None:
                resps = [row["response"]] if "response" in row else None
            if not isinstance(resps, list) or not all(r is None or isinstance(r, str) for r in resps):
                raise ValueError(f"{self.path}:{lineno}: needs 'responses' (a list of strings) or 'response'")
            if row.get("fill"):
                resps = [_Fill(r) if isinstance(r, str) else r for r in resps]
            reasons = row.get("finish_reasons", [row.get("finish_reason")] * len(resps))
            if not isinstance(reasons, list) or len(reasons) != len(resps):
                raise ValueError(f"{self.path}:{lineno}: 'finish_reasons' needs one entry per response")
            resps = [r if r is None or why is None else Generation(r, str(why)) for r, why in zip(resps, reasons,
                                                                                                strict=True)]
            if "doc_id" in row:
                self._by_doc_id[(row.get("task"), int(row["doc_id"]))] = resps
            if "prompt" in row:
                self._by_prompt[str(row["prompt"])] = resps
            if "question" in row:
                self._by_question[str(row["question"]).strip()] = resps
            if "id" in row:
                self._by_key[(row.get("task"), str(row["id"]))] = resps
        self._served: dict[tuple[Any, Any], int] = defaultdict(int)

    def _lookup(self, req) -> list[str | None]:
        for key in ((req.task_name, req.doc_id), (None, req.doc_id)):
            if key in self._by_doc_id:
                return self._by_doc_id[key]
        doc = req.doc or {}
        qid = str(doc.get("thinkpack_id"))
        for key in ((req.task_name, qid), (None, qid)):
            if key in self._by_key:
                return self._by_key[key]
        # thinkpack docs carry thinkpack_question; lm-eval's own tasks (gsm8k, ...) a plain "question"
        question = str(doc.get("thinkpack_question", doc.get("question", ""))).strip()
        if question in self._by_question:
            return self._by_question[question]
        prompt = req.args[0]
        if prompt in self._by_prompt:
            return self._by_prompt[prompt]
        raise KeyError(f"{self.path}: no canned response for task {req.task_name!r}, id {qid!r}")

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str | None]:
        out = []
        for req in requests:
            resps = self._lookup(req)
            k = self._served[(req.task_name, req.doc_id)]
            self._served[(req.task_name, req.doc_id)] += 1
            if k >= len(resps):
                raise ValueError(f"{self.path}: id {req.doc.get('thinkpack_id')!r} has {len(resps)} responses, "
                                 f"request copy {k + 1} needs more (repeats?)")
            resp = resps[k]
            out.append(resp.render(req.doc or {}) if isinstance(resp, _Fill) else resp)
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("thinkpack-canned only answers generate_until requests")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("thinkpack-canned only answers generate_until requests")

    # a tiny chat format, so --apply_chat_template works; `prefill` imitates a template that opens the trace
    @property
    def tokenizer_name(self) -> str:
        return "thinkpack-canned"

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return "canned"

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        parts = [f"<|{m['role']}|>\n{m['content']}\n" for m in chat_history]
        if add_generation_prompt:
            parts.append("<|assistant|>\n" + self.prefill)
        return "".join(parts)
