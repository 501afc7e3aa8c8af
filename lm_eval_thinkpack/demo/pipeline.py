"""``thinkpack demo``: the study in miniature, offline on a CPU.

From the bundled tiny reasoning model (``demo/model``, trained with traces on five synthetic tasks), fine-tune
on answer-only data of one in-domain task four ways (naive and masked SFT, full and LoRA: ``demo/finetune.py``),
evaluate the base and every tuned model through lm-eval on the in-domain task and the held-out tasks
(the ``thinkpack_demo_*`` tasks, ``--model hf`` with the chat template), then read the runs back with the
report module: the table with collapse verdicts, ``results.json`` and a plot.

Every number comes from lm-eval's logged samples through ``stats.trace_stats`` (via ``report.summary``), the
same path ``thinkpack report`` takes on any run.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from . import synthetic
from .build_model import IN_DOMAIN_TASK

MODEL_DIR = Path(__file__).resolve().parent / "model"
METRICS = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate", "pass@1",
           "rpass@1")
MODELS = ("base", "naive_sft", "masked_sft", "naive_lora", "masked_lora")
QUICK_LIMIT = 12   # questions per task with --quick
FULL_LIMIT = 100  # every question of the bundled eval sets


def task_name(task: str) -> str:
    return f"thinkpack_demo_{task}"


def _task_manager():
    """lm-eval's tasks plus ours: the checkout's YAMLs when running from a source checkout (they match the code
    being run), else the copies ``pip install .`` placed in lm-eval's own task folder."""
    from lm_eval.tasks import TaskManager

    checkout = Path(__file__).resolve().parents[2] / "tasks"
    if (checkout / "thinkpack_demo.yaml").exists():
        return TaskManager(include_path=str(checkout))
    if importlib.util.find_spec("lm_eval.tasks.thinkpack") is None:
        raise FileNotFoundError("the thinkpack task YAMLs are not installed in lm-eval; install the project with "
                                "`pip install .` (not -e)")
    return TaskManager()


def evaluate(model_dir: Path, out_dir: Path, tasks: list[str], *, limit: int | None, batch_size: int = 64,
             task_manager: Any = None) -> Path:
    """Run lm-eval (``hf`` backend, chat template, greedy) on ``tasks`` and save results + samples like the CLI."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out_dir))
    results = simple_evaluate(
        model="hf", model_args={"pretrained": str(model_dir), "dtype": "float32", "device": "cpu"},
        tasks=tasks, batch_size=batch_size, limit=limit, log_samples=True, apply_chat_template=True,
        evaluation_tracker=tracker, task_manager=task_manager or _task_manager(), random_seed=0,
        numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0,
    )
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return out_dir


def _finite(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def table_numbers(run_summary: Any) -> dict[str, dict[str, float | None]]:
    """{task: {metric: value}} of one summarised run (the results.json shape)."""
    return {name: {m: _finite(s.get(m)) for m in METRICS} for name, s in run_summary.tasks.items()}


def run_demo(output: str | Path, *, quick: bool = False, base: str | Path = MODEL_DIR,
             models: tuple[str, ...] = MODELS, limit: int | None = None, recipe: Any = None,
             log=print) -> dict[str, Any]:
    """Fine-tune, evaluate, compare; write ``results.json`` and ``demo.png`` into ``output``."""
    import torch

    from lm_eval_thinkpack.report.compare import compare, print_compare
    from lm_eval_thinkpack.report.plot import plot_runs
    from lm_eval_thinkpack.report.readers import load_run
    from lm_eval_thinkpack.report.summary import summarize

    from . import finetune

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    started = time.time()
    limit = limit if limit is not None else (QUICK_LIMIT if quick else FULL_LIMIT)
    held_out = [t for t in synthetic.TASKS if t != IN_DOMAIN_TASK]
    tasks = [task_name(IN_DOMAIN_TASK)] + [task_name(t) for t in held_out]
    recipe = recipe or finetune.Recipe()
    tm = _task_manager()

    base_model, tokenizer = finetune.load_base(base)
    timings: dict[str, float] = {}
    for name in models:
        t0 = time.time()
        model_dir = Path(base)
        if name != "base":
            log(f"[demo] fine-tuning {name} on answer-only '{IN_DOMAIN_TASK}' ({recipe.steps} steps)")
            tuned = finetune.finetune(base_model, tokenizer, name, recipe)
            model_dir = out / "models" / name
            tuned.save_pretrained(model_dir)
            tokenizer.save_pretrained(model_dir)
        log(f"[demo] evaluating {name} with lm-eval on {', '.join(tasks)} ({limit} questions each)")
        evaluate(model_dir, out / "lm_eval" / name, tasks, limit=limit, task_manager=tm)
        timings[name] = round(time.time() - t0, 1)

    runs = [summarize(load_run(out / "lm_eval" / name, label=name)) for name in models]
    comparison = compare(runs)
    print_compare(comparison)
    plot = plot_runs(runs, out / "demo.png", title="thinkpack demo: trace classes after answer-only fine-tuning")
    doc = {
        "models": {r.label: table_numbers(r) for r in runs},
        "in_domain": task_name(IN_DOMAIN_TASK),
        "held_out": [task_name(t) for t in held_out],
        "verdicts": [{k: v[k] for k in ("model", "task", "verdict", "reason")}
                     for v in comparison.as_dict()["verdicts"]],
        "recipe": {k: v for k, v in vars(recipe).items()},
        "questions_per_task": limit,
        "seconds": {"total": round(time.time() - started, 1), **timings},
        "plot": str(plot),
    }
    (out / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    log(f"[demo] wrote {out / 'results.json'} and {plot} in {doc['seconds']['total']} s")
    return doc
