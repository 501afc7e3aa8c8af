"""Digests of what masking and chat produce on every fixture template (regression for the template-layer refactor).

``python -m tests.template_regression`` rewrites ``tests/fixtures/template_regression.json`` from the current code;
``tests/test_masking.py::test_labels_unchanged_on_every_fixture`` and ``tests/test_chat.py`` compare against it.
The digests were generated before ``template.py`` existed, so they pin the behaviour of the three renderers it
replaced. Formats are given explicitly (``case.format``): detection may change, the rendering must not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.chat_fixtures import ANSWER, QUESTION, REASONING, TEMPLATE_CASES, make_tokenizer

DIGESTS = Path(__file__).resolve().parent / "fixtures" / "template_regression.json"
MODES = ("none", "think", "prompt", "prompt+think")


def conversations(c: Any) -> dict[str, list[dict[str, Any]]]:
    """Named training conversations of one fixture: with/without trace, with/without system, a history."""
    hist = [{"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "Earlier answer.", "reasoning_content": "Earlier thought."},
            {"role": "user", "content": "And 3 + 4?"}]
    return {
        "answer": c.messages() + [{"role": "assistant", "content": ANSWER}],
        "trace": c.messages() + [{"role": "assistant", "content": ANSWER, "reasoning": REASONING}],
        "inline": c.messages(system=None) + [{"role": "assistant", "content": f"<think>{REASONING}</think>{ANSWER}"}],
        "hist_answer": hist + [{"role": "assistant", "content": "7."}],
        "hist_trace": hist + [{"role": "assistant", "content": "7.", "reasoning_content": "3 and 4 make 7."}],
    }


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def kwarg_sets(c: Any) -> dict[str, dict[str, Any]]:
    out = {"default": dict(c.enable_kwargs)}
    if c.disable_kwargs is not None:
        out["disabled"] = dict(c.disable_kwargs)
    return out


def masking_digests() -> dict[str, str]:
    from lm_eval_thinkpack.masking import tokenize_conversation, tokenize_dataset

    out: dict[str, str] = {}
    for c in TEMPLATE_CASES:
        tok = make_tokenizer(c.name)
        convs = conversations(c)
        for kname, kw in kwarg_sets(c).items():
            for insert in (True, False):
                for mode in MODES:
                    rows = {n: tokenize_conversation(tok, m, mask=mode, fmt=c.format, insert_empty_block=insert,
                                                     **kw) for n, m in convs.items()}
                    out[f"{c.name}/{kname}/{insert}/{mode}"] = _digest(rows)
            ds = tokenize_dataset(tok, list(convs.values()), mask="prompt+think", fmt=c.format,
                                  drop_fully_masked=False, **kw)
            out[f"{c.name}/{kname}/dataset"] = _digest(
                [list(ds["input_ids"]), list(ds["labels"]), list(ds["attention_mask"])])
    return out


def chat_digests() -> dict[str, str]:
    from lm_eval_thinkpack.chat import render_prompt

    out: dict[str, str] = {}
    options = {
        "plain": {}, "on": {"thinking": True}, "off": {"thinking": False}, "prefill": {"prefill": True},
        "noprefill": {"prefill": False}, "prefix": {"think_prefix": "Let me"},
        "keep": {"keep_history_reasoning": True},
    }
    for c in TEMPLATE_CASES:
        tok = make_tokenizer(c.name)
        convs = conversations(c)
        hist = convs["hist_trace"][:-1]
        for oname, opts in options.items():
            texts = [render_prompt(tok, c.messages(), fmt=c.format, **opts),
                     render_prompt(tok, hist, fmt=c.format, **opts)]
            out[f"{c.name}/{oname}"] = _digest(texts)
        out[f"{c.name}/completion"] = _digest(
            render_prompt(tok, convs["trace"], fmt=c.format, add_generation_prompt=False))
    return out


def demo_conversations(n: int = 120) -> list[list[dict[str, Any]]]:
    """The demo's task rows as training conversations (every other one with its trace)."""
    root = Path(__file__).resolve().parents[1] / "lm_eval_thinkpack" / "demo" / "data"
    rows = [json.loads(line) for f in sorted(root.glob("*.jsonl")) for line in f.read_text().splitlines()
            if line.strip()]
    out = []
    for i in range(n):
        r = rows[(i * 7) % len(rows)]
        target = {"role": "assistant", "content": r["answer"]}
        if i % 2 == 0:
            target["reasoning"] = r["trace"]
        out.append([{"role": "user", "content": r["question"]}, target])
    return out


def demo_digests() -> dict[str, str]:
    """The bundled demo tokenizer (character level, its own template, format detected) on the demo's data."""
    from transformers import AutoTokenizer

    from lm_eval_thinkpack.masking import tokenize_dataset

    tok = AutoTokenizer.from_pretrained(str(Path(__file__).resolve().parents[1] / "lm_eval_thinkpack/demo/model"))
    convs = demo_conversations()
    out = {}
    for mode in MODES:
        ds = tokenize_dataset(tok, convs, mask=mode, drop_fully_masked=False)
        out[mode] = _digest([list(ds["input_ids"]), list(ds["labels"])])
    return out


def compute() -> dict[str, dict[str, str]]:
    return {"masking": masking_digests(), "chat": chat_digests(), "demo": demo_digests()}


if __name__ == "__main__":
    DIGESTS.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
