"""anytask: lm-eval's own gsm8k post-generation pipeline with the trace layer vs without it, in one run.

Both sides are real lm-eval ``ConfigurableTask`` objects built from lm-eval's installed ``gsm8k.yaml`` (the dataset
replaced by the same N in-memory docs, ``bench_harness.task_from_yaml``); one gets ``harness.anytask.install``.
Each gets the same N responses (long ``<think>`` traces, then ``#### <number>``; some empty, missing, truncated).
The timed path is what ``lm_eval.evaluator`` runs after generation (``bench_harness.pipeline``): filters, every
``process_results`` call, aggregation. Time: best of interleaved rounds; ratio = layered docs/s over plain docs/s.
Memory: ``tracemalloc`` peak of the same path above what was allocated before it, per byte of generated text
(UTF-8), for each side; the layer's cost is the difference. Goals: time ratio >= 0.95, memory <= 0.3 B/B.
"""

from __future__ import annotations

import argparse
import gc
import logging
import tracemalloc
from pathlib import Path

import lm_eval
from bench_harness import make_docs, pipeline, task_from_yaml
from common import report, save  # noqa: I001 (bench/ is the script folder)

from lm_eval_thinkpack.harness.anytask import install

PROFILE = {"thinkpack_format": "qwen3", "thinkpack_format_spec": "", "thinkpack_prefilled": False,
           "thinkpack_thinking_disabled": False, "thinkpack_profile_source": "bench"}


def tasks(docs: list[dict]):
    yaml = Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml"
    plain, layered = task_from_yaml(yaml, docs), task_from_yaml(yaml, docs)
    install(layered, PROFILE)
    for t in (plain, layered):
        t._bench_docs = list(t.test_docs())
    return plain, layered


def peak(task, resps: list[str]) -> int:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    pipeline(task, resps)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    task._instances = []
    return top - base


def main(quick: bool = False) -> dict:
    logging.disable(logging.WARNING)
    n = 500 if quick else 2000
    docs, resps = make_docs(n)
    plain, layered = tasks(docs)
    for t in (plain, layered):
        pipeline(t, resps)  # warm-up
    best_layer = best_plain = float("inf")
    for _ in range(3 if quick else 7):
        best_layer = min(best_layer, pipeline(layered, resps))
        best_plain = min(best_plain, pipeline(plain, resps))
    text_bytes = sum(len(r.encode()) for r in resps)
    mem_plain, mem_layer = peak(plain, resps), peak(layered, resps)
    agg = layered._bench_agg
    rec = report("anytask_layer", n / best_layer, n / best_plain, "docs/s", n=n,
                 corpus_MB=round(text_bytes / 1e6, 1),
                 peak_B_per_B_plain=round(mem_plain / text_bytes, 3),
                 peak_B_per_B_layered=round(mem_layer / text_bytes, 3),
                 layer_B_per_B=round((mem_layer - mem_plain) / text_bytes, 3),
                 strict=round(agg["exact_match,strict-match"], 4),
                 strict_answer=round(agg["exact_match,answer/strict-match"], 4),
                 vr=round(agg["valid_trace_rate,trace"], 4), rpass=round(agg["rpass@1,trace"], 4))
    save({"anytask_layer": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
