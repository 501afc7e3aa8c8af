"""harness_memory: peak RSS growth of the thinkpack pipeline vs lm-eval's own gsm8k pipeline on the same generations.

Both sides are real lm-eval ``ConfigurableTask`` objects built from their YAML files, as in ``bench_harness.py``
(``tasks/thinkpack_gsm8k.yaml`` and lm-eval's ``tasks/gsm8k/gsm8k.yaml``), with the same N in-memory GSM8K-style docs
and the same N responses (long ``<think>`` traces, log-uniform 1k-40k characters, then an answer ending
``#### <number>``; some empty, missing or truncated traces): 20,000 generations, about 210 MB of text. Each side
runs in its own fresh interpreter (same data file, one side after the other) so one cannot inherit the other's
heap. In each, after the docs and responses are loaded and the instances built (what lm-eval holds after
generation), the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``); then exactly what
``lm_eval.evaluator`` runs after generation: ``task.apply_filters()``, ``task.process_results`` for every doc and
filter, ``_compute_task_aggregations``. Peak RSS growth (``VmHWM`` after minus ``VmRSS`` before) is divided by the
bytes of generated text (UTF-8). Then the samples are logged as ``--log_samples`` does (the evaluator's sample
dicts, written by lm-eval's ``EvaluationTracker.save_results_samples``) and the two files' sizes compared.

    python bench/bench_memory.py            # 20,000 generations (~2 minutes)
    python bench/bench_memory.py --quick    # 4,000 generations
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, check_checkout, gsm8k_like, report, save  # noqa: I001 (bench/ is the script folder)

SIDES = {"thinkpack": "tasks/thinkpack_gsm8k.yaml", "gsm8k": "lm_eval:tasks/gsm8k/gsm8k.yaml"}


def make_data(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    """GSM8K-style raw docs and one response each (the loader's fields are added per side)."""
    return gsm8k_like(n, seed, max_chars=40_000)


def _status_kb() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def child(side: str, data: Path, out_dir: Path) -> dict:
    """One side's pipeline in this (fresh) interpreter; returns its measurements."""
    import logging

    import datasets
    import lm_eval
    from lm_eval.api.instance import Instance
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.evaluator_utils import _compute_task_aggregations
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks._yaml_loader import load_yaml
    from lm_eval.utils import handle_non_serializable, hash_string

    logging.disable(logging.WARNING)
    raw_docs, resps = pickle.loads(data.read_bytes())
    if side == "thinkpack":
        import lm_eval_thinkpack.harness  # noqa: F401  (registers the thinkpack_trace filter)
        from lm_eval_thinkpack.harness.adapters import adapt, get_adapter

        check_checkout()
        adapter = get_adapter("gsm8k")
        docs = [{**d, **adapt(adapter, d, {}), "thinkpack_format": "qwen3", "thinkpack_prefilled": False}
                for d in raw_docs]
        yaml = ROOT / SIDES[side]
    else:
        docs = raw_docs
        yaml = Path(lm_eval.__file__).parent / SIDES[side].split(":", 1)[1]
    cfg = dict(load_yaml(yaml))
    for key in ("dataset_path", "dataset_name", "dataset_kwargs", "training_split", "fewshot_split", "tag"):
        cfg.pop(key, None)
    cfg["num_fewshot"] = 0
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
    task = ConfigurableTask(config=cfg)
    task_docs = list(task.test_docs())
    del raw_docs
    gen_kwargs = dict(task.config.generation_kwargs or {})
    task._instances = [Instance("generate_until", doc, (task.doc_to_text(doc), gen_kwargs), 0,
                                (task.config.task, i, 1), resps=[r])
                       for i, (doc, r) in enumerate(zip(task_docs, resps, strict=True))]
    text_bytes = sum(len(r.encode()) for r in resps)
    del resps
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark to the current RSS
    before = _status_kb()["VmRSS"]
    t0 = time.perf_counter()
    task.apply_filters()
    raw_metrics: dict = {}
    for key in task._instances[0].filtered_resps:
        for inst in task._instances:
            for metric, value in task.process_results(inst.doc, [inst.filtered_resps[key]]).items():
                raw_metrics.setdefault((metric, key), []).append(value)
    agg, _ = _compute_task_aggregations(task, raw_metrics, 100_000)
    seconds = time.perf_counter() - t0
    after = _status_kb()
    # --log_samples: the evaluator's sample dicts, written by lm-eval's own tracker
    samples = []
    for key in task._instances[0].filtered_resps:
        for i, inst in enumerate(task._instances):
            metrics = task.process_results(inst.doc, [inst.filtered_resps[key]])
            target = task.doc_to_target(inst.doc)
            example = {"doc_id": i, "doc": inst.doc, "target": target, "arguments": [inst.args],
                       "resps": [inst.resps], "filtered_resps": [inst.filtered_resps[key]], "filter": key,
                       "metrics": list(metrics), "doc_hash": hash_string(json.dumps(inst.doc, indent=2,
                                                                                   default=handle_non_serializable,
                                                                                   ensure_ascii=False)),
                       "prompt_hash": hash_string(inst.arguments[0]), "target_hash": hash_string(str(target))}
            example.update(metrics)
            samples.append(example)
    tracker = EvaluationTracker(output_path=str(out_dir))
    tracker.general_config_tracker.model_name_sanitized = side
    tracker.date_id = "bench"  # set by save_results_aggregated in a real run
    tracker.save_results_samples(side, samples)
    log_file = next((out_dir / side).glob("samples_*.jsonl"))
    return {"side": side, "n": len(task._instances), "text_bytes": text_bytes, "rss_before": before,
            "peak_growth": after["VmHWM"] - before, "retained": after["VmRSS"] - before, "seconds": seconds,
            "log_bytes": log_file.stat().st_size,
            "agg": {k: v for k, v in agg.items() if isinstance(v, (int, float)) and ("pass@1" in k or "exact" in k)}}


def main(quick: bool = False) -> dict:
    n = 4_000 if quick else 20_000
    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        data = Path(tmp) / "data.pkl"
        data.write_bytes(pickle.dumps(make_data(n)))
        res = {}
        for side in SIDES:
            out = Path(tmp) / "logs"
            cmd = [sys.executable, __file__, "--child", side, "--data", str(data), "--out", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
            if proc.returncode != 0:
                raise RuntimeError(f"{side} side failed:\n{proc.stderr[-3000:]}")
            res[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    ours, base = res["thinkpack"], res["gsm8k"]
    mb = ours["text_bytes"] / 1e6
    per_byte = ours["peak_growth"] / ours["text_bytes"]
    base_per_byte = base["peak_growth"] / base["text_bytes"]
    # ours/baseline in MB of peak RSS growth (ratio > 1: we grow more); the goal is on bytes per byte of text
    rec = report("harness_memory", ours["peak_growth"] / 1e6, base["peak_growth"] / 1e6, "MB peak RSS growth", n=n,
                 text_MB=round(mb, 1), ours_B_per_B=round(per_byte, 4), gsm8k_B_per_B=round(base_per_byte, 4),
                 ours_log_MB=round(ours["log_bytes"] / 1e6, 1), gsm8k_log_MB=round(base["log_bytes"] / 1e6, 1),
                 log_ratio=round(ours["log_bytes"] / base["log_bytes"], 3),
                 ours_s=round(ours["seconds"], 2), gsm8k_s=round(base["seconds"], 2))
    print(f"{'':18s} goal: <= 0.3 B/B of text ({'met' if per_byte <= 0.3 else 'MISSED'}); --log_samples "
          f"<= 1.3x gsm8k's ({'met' if rec['log_ratio'] <= 1.3 else 'MISSED'})", flush=True)
    save({"harness_memory": rec})
    return rec


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", choices=sorted(SIDES), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.out)))
    else:
        main(args.quick)
