"""masking: examples/s of tokenize_dataset vs thinkpack.apply_mask on the same conversations and tokenizer.

Two tokenizers: the tests' fixture tokenizer (``tests.chat_fixtures.make_tokenizer("qwen3")``: a byte-level BPE,
~2.6 characters a token) with ~2000 synthetic conversations (a third with a system prompt, half of the targets with
a reasoning trace, traces up to ~400 words), and the demo's character-level tokenizer
(loaded from ``lm_eval_thinkpack/demo/model`` when the demo model is built, else the identical
``lm_eval_thinkpack.demo.build_model.build_tokenizer()``) with the demo's task data (half with the trace).
Each is also timed against plain tokenization, what a user does without masking: ``apply_chat_template(...,
tokenize=False)`` for every conversation, then one batch tokenizer call (``*_plain`` records; goal >= 0.9x).
Both masking sides mask the think block (ours ``mask="think"``, thinkpack
``MaskType.THINK``) and return a ``datasets.Dataset``; thinkpack reads the ``reasoning`` key, which we read too.
"""

from __future__ import annotations

import argparse
import json
import random

from common import ROOT, interleaved, report, save  # noqa: I001 (bench/ is the script folder)
from thinkpack.mask import MaskType, apply_mask

from lm_eval_thinkpack.masking import tokenize_dataset
from tests.chat_fixtures import make_tokenizer

WORDS = "so we add the carry then 7 + 5 = 12 wait let me check again : the answer is".split()


def synthetic(n: int, seed: int = 0) -> list[list[dict]]:
    rng = random.Random(seed)

    def words(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    out = []
    for i in range(n):
        conv = [{"role": "system", "content": "You are a helpful assistant."}] if i % 3 == 0 else []
        conv.append({"role": "user", "content": "Q: " + words(rng.randint(5, 60))})
        target = {"role": "assistant", "content": "The answer is " + words(rng.randint(3, 40))}
        if i % 2 == 0:
            target["reasoning"] = words(rng.randint(20, 400))
        conv.append(target)
        out.append(conv)
    return out


def demo(n: int) -> list[list[dict]]:
    rows = [json.loads(line) for f in sorted((ROOT / "lm_eval_thinkpack/demo/data").glob("*.jsonl"))
            for line in f.read_text().splitlines() if line.strip()]
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        target = {"role": "assistant", "content": r["answer"]}
        if i % 2 == 0:
            target["reasoning"] = r["trace"]
        out.append([{"role": "user", "content": r["question"]}, target])
    return out


def demo_tokenizer():
    """The shipped demo tokenizer (lm_eval_thinkpack/demo/model) when the model is built, else the same tokenizer
    from ``build_model.build_tokenizer()``; None when the demo is absent."""
    model = ROOT / "lm_eval_thinkpack/demo/model"
    if (model / "tokenizer.json").exists():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(model))
    try:
        from lm_eval_thinkpack.demo.build_model import build_tokenizer
    except ImportError:
        return None
    return build_tokenizer()


def _agreement(convs, ours, theirs) -> float:
    """Share of the answer-only rows whose ids and labels agree with thinkpack's. (thinkpack drops the template's
    final newline, so rows are compared up to the shorter one. Rows with a real trace differ by design: its THINK
    mask masks a real trace, ours never does.)"""
    same = total = 0
    rows = zip(convs, ours["input_ids"], theirs["input_ids"], ours["labels"], theirs["labels"], strict=True)
    for conv, a, b, la, lb in rows:
        if "reasoning" in conv[-1]:
            continue
        k = min(len(a), len(b))
        total += 1
        same += a[:k] == b[:k] and la[:k] == lb[:k] and abs(len(a) - len(b)) <= 1
    return same / max(total, 1)


def plain(tok, convs: list) -> list[list[int]]:
    """What a user does without masking: render every conversation to text, then one batch tokenizer call."""
    texts = [tok.apply_chat_template(c, tokenize=False) for c in convs]
    return tok(texts, add_special_tokens=False)["input_ids"]


def one(name: str, tok, convs: list, repeats: int, fmt: str | None) -> dict[str, dict]:
    """Two records: ours vs thinkpack.apply_mask (``name``) and ours vs plain tokenization (``name_plain``)."""
    ours_fn = lambda: tokenize_dataset(tok, convs, mask="think", fmt=fmt)  # noqa: E731
    base_fn = lambda: apply_mask(convs, tok, masked=MaskType.THINK)  # noqa: E731
    plain_fn = lambda: plain(tok, convs)  # noqa: E731
    agree = _agreement(convs, ours_fn(), base_fn())  # also warms both sides (compiled templates, detection caches)
    plain_fn()
    t_ours, t_base = interleaved(ours_fn, base_fn, repeats)
    t_ours2, t_plain = interleaved(ours_fn, plain_fn, repeats)
    n = len(convs)
    return {name: report(name, n / t_ours, n / t_base, "ex/s", n=n, agree=round(agree, 3)),
            f"{name}_plain": report(f"{name}_plain", n / min(t_ours, t_ours2), n / t_plain, "ex/s", n=n)}


def main(quick: bool = False) -> dict:
    n = 1000 if quick else 2000
    repeats = 3 if quick else 7
    records = one("masking", make_tokenizer("qwen3"), synthetic(n), repeats, "qwen3")
    demo_tok = demo_tokenizer()
    if demo_tok is not None:
        records.update(one("masking_demo", demo_tok, demo(n), repeats, None))
    save(records)
    return records


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
