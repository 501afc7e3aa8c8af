"""token_counting: reasoning and answer token counts of classified traces, ours vs thinkpack's way.

The corpus is ``common.gsm8k_like`` (GSM8K-style qwen3 responses, traces of 1k to 64k characters, log-uniform; the
mean response is about 12.5k characters, about 5,900 tokens with this tokenizer), classified once. The tokenizer is
the tests' qwen3 fixture (``tests.chat_fixtures.make_tokenizer("qwen3")``): a byte-level BPE with a small
vocabulary, about 2.1 characters a token, so more tokens per character than a real model's (a worst case per
character; no real tokenizer is available offline here).

* ``token_counting``: ours ``tokens.count_lengths(traces, tok)`` (blank pieces skipped, the rest in batches through
  the fast tokenizer's ``encode_batch_fast``: one Rust call per batch, no offsets, spread over the Rust thread
  pool) vs thinkpack 1.0.0's ``parse(calculate_tokens=True)`` way, ``len(tok.encode(piece,
  add_special_tokens=False))`` for the reasoning and the answer of each trace. Both give the same counts (checked).
  Throughput is traces/s.
* ``filter_tokens``: the ``thinkpack_trace`` filter on the same responses, its docs naming the tokenizer (saved and
  loaded back with ``AutoTokenizer``, as a run does) vs the same filter with ``count_tokens=false`` (whitespace
  words, the cheap fallback). The ratio is the share of the filter's speed that counting in tokens keeps: below 1
  by construction; it says what counting costs, honestly.
* ``filter_words``: the filter counting whitespace words (no tokenizer known) vs the same filter counting nothing
  (the filter before lengths existed): the cost of the default lengths where no tokenizer is known.
"""

from __future__ import annotations

import argparse
import logging
import tempfile

from common import gsm8k_like, interleaved, report, save  # noqa: I001 (bench/ is the script folder)

import lm_eval_thinkpack.harness  # noqa: F401  (registers the thinkpack_trace filter)
from lm_eval_thinkpack.classify import classify
from lm_eval_thinkpack.harness.adapters import adapt, get_adapter
from lm_eval_thinkpack.harness.filters import TraceFilter
from lm_eval_thinkpack.tokens import count_lengths, load_tokenizer, tokenizer_ref
from tests.chat_fixtures import make_tokenizer


def thinkpack_way(traces, tok) -> list[tuple[int, int]]:
    """thinkpack 1.0.0's parse(calculate_tokens=True): one encode per piece."""
    return [(len(tok.encode(t.reasoning, add_special_tokens=False)),
             len(tok.encode(t.answer, add_special_tokens=False))) for t in traces]


def main(quick: bool = False) -> dict:
    logging.disable(logging.WARNING)
    n = 300 if quick else 1000
    raw, resps = gsm8k_like(n, 0, max_chars=64_000)
    traces = [classify(r, "qwen3") for r in resps]
    with tempfile.TemporaryDirectory() as tmp:
        make_tokenizer("qwen3").save_pretrained(tmp)
        tok = load_tokenizer(tmp)  # what a run's filter counts with: AutoTokenizer, loaded once
        ours = [(x.reasoning, x.answer) for x in count_lengths(traces, tok)]
        if ours != thinkpack_way(traces, tok):
            raise AssertionError("token counts differ from len(tokenizer.encode(...))")
        repeats = 2 if quick else 3
        t_ours, t_base = interleaved(lambda: count_lengths(traces, tok), lambda: thinkpack_way(traces, tok), repeats)
        mean_tokens = sum(r + a for r, a in ours) / n
        rec = report("token_counting", n / t_ours, n / t_base, "traces/s", n=n, mean_tokens=round(mean_tokens),
                     mean_chars=round(sum(map(len, resps)) / n))

        adapter = get_adapter("gsm8k")
        base_doc = {"thinkpack_format": "qwen3", "thinkpack_prefilled": False, "thinkpack_scorer": "number",
                    "thinkpack_timeout": None}
        docs = [{**adapt(adapter, d, {}), **base_doc} for d in raw]
        with_tok = [{**d, "thinkpack_tokenizer": tokenizer_ref(tmp)} for d in docs]
        per_doc = [[r] for r in resps]
        flt = TraceFilter()
        flt.apply(per_doc[:20], with_tok[:20])  # warm-up: scorer imports, tokenizer loaded
        t_tok, t_words = interleaved(lambda: flt.apply(per_doc, with_tok), lambda: flt.apply(per_doc, docs), repeats)
        filt = report("filter_tokens", n / t_tok, n / t_words, "docs/s", n=n,
                      note="baseline: the same filter counting whitespace words (count_tokens=false)")

        import lm_eval_thinkpack.harness.filters as filters

        counting = filters.count_trace_lengths

        def uncounted():
            filters.count_trace_lengths = lambda traces, docs: [[None] * len(row) for row in traces]
            try:
                flt.apply(per_doc, docs)
            finally:
                filters.count_trace_lengths = counting

        t_words, t_none = interleaved(lambda: flt.apply(per_doc, docs), uncounted, repeats)
        words = report("filter_words", n / t_words, n / t_none, "docs/s", n=n,
                       note="baseline: the same filter without any length (the filter before this change)")
    save({"token_counting": rec, "filter_tokens": filt, "filter_words": words})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
