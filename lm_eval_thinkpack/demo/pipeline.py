"""``lm-eval-thinkpack demo``: the study in miniature, offline on a CPU.

From the bundled tiny reasoning model (``demo/model``, trained with traces on five synthetic tasks), fine-tune
on answer-only data of one in-domain task five ways (naive and masked SFT, full and LoRA, and SFT on traces the
base model wrote itself: ``demo/finetune.py``), watch every fine-tune with ``training.TraceHealthCallback``
(the collapse curves), evaluate the base and every tuned model through lm-eval on the in-domain task and the
held-out tasks (the ``thinkpack_demo_*`` tasks, ``--model hf`` with the chat template), then read the runs back
with the report module: the table with collapse verdicts, ``results.json``, ``demo.png`` and ``curves.png``.
Last, the short "opened" probe is run on every model and its verdict set beside the full evaluation's, with the
tokens each generated.

Every evaluation number comes from lm-eval's logged samples through ``stats.trace_stats`` (via
``report.summary``), the same path ``lm-eval-thinkpack report`` takes on any run.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from lm_eval_thinkpack.report.compare import OVERALL, overall
from lm_eval_thinkpack.stats import json_ready

from . import synthetic
from .build_model import IN_DOMAIN_TASK
from .settings import FULL_LIMIT, MODEL_DIR, MODELS, QUICK_LIMIT  # noqa: F401  (defined apart: --help needs no torch)

METRICS = ("valid_trace_rate", "empty_trace_rate", "missing_trace_rate", "truncated_trace_rate", "pass@1",
           "rpass@1", "no_answer_rate", "reasoning_tokens", "answer_tokens")
PROBE_SEED = 99   # the callback's probe questions (not the eval sets, not the fine-tuning data)
PROBES_IN_DOMAIN, PROBES_PER_HELD_OUT = 16, 8
PROBE_EVERY = 25  # steps between probes (plus step 0 and the end)
PROBE_TOKENS = 96  # full probe budget: the demo traces are a few dozen tokens
OPENED_TOKENS = 16  # the short "opened" probe's budget
OPENED_SIZES = (1, 2, 4, 8)  # questions per task in the short probe's sweep
#: verdicts in which the trace was lost (the compare rule's VR arm fired)
TRACE_LOST = ("collapse", "degraded", "trace loss (unscored)")


def task_name(task: str) -> str:
    return f"thinkpack_demo_{task}"


def _task_manager(metadata: dict[str, Any] | None = None):
    """Our task YAMLs only (lm-eval's own tasks are not needed): the checkout's when running from a source checkout
    (they match the code being run), else the copies ``pip install .`` placed in lm-eval's own task folder.
    ``metadata`` (the model args) reaches every task's loader, which detects the trace format from it."""
    from lm_eval.tasks import TaskManager

    checkout = Path(__file__).resolve().parents[2] / "tasks"
    if not (checkout / "thinkpack_demo.yaml").exists():
        spec = importlib.util.find_spec("lm_eval.tasks.thinkpack")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("the thinkpack task YAMLs are not installed in lm-eval; install the project with "
                                    "`pip install .` (not -e)")
        checkout = Path(next(iter(spec.submodule_search_locations)))
    return TaskManager(include_path=str(checkout), include_defaults=False, metadata=metadata)


def evaluate(model_dir: Path, out_dir: Path, tasks: list[str], *, limit: int | None, batch_size: int = 64,
             task_manager: Any = None) -> Path:
    """Run lm-eval (``hf`` backend, chat template, greedy) on ``tasks`` and save results + samples like the CLI."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out_dir))
    model_args = {"pretrained": str(model_dir), "dtype": "float32", "device": "cpu"}
    results = simple_evaluate(  # the tasks get the model args (as the CLI gives them): its format, not a guess
        model="hf", model_args=model_args,
        tasks=tasks, batch_size=batch_size, limit=limit, log_samples=True, apply_chat_template=True,
        evaluation_tracker=tracker, task_manager=task_manager or _task_manager(model_args), random_seed=0,
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


def held_out_lines(runs: list[Any], in_domain: str) -> list[str]:
    """Per model, the held-out tasks pooled apart from the fine-tuned one: the README's table and demo.png's last
    panel. The compare table's "all tasks" row pools the fine-tuned task in (naive pass@1 0.42 there vs 0.29)."""
    from lm_eval_thinkpack.report.summary import pooled_over

    def num(s: Any, metric: str) -> str:
        v = None if s is None else s.get(metric)
        return "—" if v is None or not math.isfinite(v) else f"{v:.2f}"

    width = max(len(r.label) for r in runs)
    lines = [f"held-out tasks pooled, the fine-tuned {in_domain} left out (the README's table, demo.png's last panel):"]
    for r in runs:
        s = pooled_over(r, [t for t in r.tasks if t != in_domain], "held-out")
        lines.append(f"  {r.label:<{width}}  VR {num(s, 'valid_trace_rate')}  ER {num(s, 'empty_trace_rate')}  "
                     f"pass@1 {num(s, 'pass@1')}  Rpass@1 {num(s, 'rpass@1')}  (n={0 if s is None else s.n})")
    return lines


def length_numbers(run_summary: Any) -> dict[str, Any]:
    """Reasoning and answer lengths of one run over all its tasks: unit, no-answer rate, and per class
    n / mean / median / p90 (the report's lengths table; results.json's ``lengths``)."""
    s = overall(run_summary)
    if s is None:
        return {}
    return {"unit": s.token_unit, "no_answer_rate": _finite(s.get("no_answer_rate")),
            "reasoning_tokens": _finite(s.get("reasoning_tokens")), "answer_tokens": _finite(s.get("answer_tokens")),
            "per_class": s.lengths}


def probe_set(tasks: tuple[str, ...] = synthetic.TASKS) -> list[Any]:
    """The fixed probe questions: the in-domain task and each held-out task, with gold answers and groups."""
    from lm_eval_thinkpack.training import Probe

    from .curves import HELD_OUT, IN_DOMAIN

    out = []
    for task in tasks:
        n, group = ((PROBES_IN_DOMAIN, IN_DOMAIN) if task == IN_DOMAIN_TASK else (PROBES_PER_HELD_OUT, HELD_OUT))
        out += [Probe.ask(ex["question"], ex["answer"], group) for ex in synthetic.generate(task, n, PROBE_SEED)]
    return out


def full_eval_tokens(run_summary: Any, tokenizer: Any, max_gen_toks: int = 128) -> int:
    """Tokens the lm-eval run generated: each logged response re-tokenized, plus the end token where the
    generation ended before the budget."""
    total = 0
    for s in run_summary.samples():
        n = len(tokenizer(s.text, add_special_tokens=False)["input_ids"])
        total += n + (n < max_gen_toks)
    return total


def probe_vs_full(models: dict[str, Any], tokenizer: Any, runs: list[Any], comparison: Any,
                  sizes: tuple[int, ...] = OPENED_SIZES) -> dict[str, Any]:
    """The short "opened" probe on every model with 1, 2, 4, ... questions per task (the first k of each task's
    probe questions), its verdict against the base's probe at the same size (``training.judge``), beside the
    full evaluation's overall verdict and the tokens each generated. ``needed``: the smallest size whose
    verdict matches the full evaluation's for every model, and the token ratio there."""
    from lm_eval_thinkpack.training import Probe, judge, probe

    full = {v.model: v for v in comparison.verdicts if v.task == OVERALL}
    full_tokens = {r.label: full_eval_tokens(r, tokenizer) for r in runs}
    questions = {t: synthetic.generate(t, max(sizes), PROBE_SEED) for t in synthetic.TASKS}
    by_size: dict[str, dict[str, Any]] = {}
    for k in sizes:
        probes = [Probe.ask(ex["question"], group=t) for t in synthetic.TASKS for ex in questions[t][:k]]
        res = {name: probe(m, tokenizer, probes, mode="opened", max_new_tokens=OPENED_TOKENS, batch_size=64)
               for name, m in models.items()}
        rows: dict[str, Any] = {}
        for name, r in res.items():
            row: dict[str, Any] = {**{m: r.metrics[m] for m in ("opened_trace_rate", "empty_trace_rate",
                                                                 "missing_trace_rate", "undecided_trace_rate")},
                                   "probe_tokens": r.tokens, "full_tokens": full_tokens[name],
                                   "token_ratio": round(r.tokens / full_tokens[name], 5)}
            if name != "base":
                verdict, reason = judge(res["base"].metrics, r.metrics)
                fv = full[name]
                row.update(probe_verdict=verdict, probe_reason=reason, full_verdict=fv.verdict,
                           full_valid_trace_rate=fv.tuned.get("valid_trace_rate") if fv.tuned else None,
                           same_verdict=verdict != "undecided"
                           and (verdict in TRACE_LOST) == (fv.verdict in TRACE_LOST))
            rows[name] = row
        by_size[str(k)] = {"questions": len(probes), "models": rows}
    needed = next((int(k) for k, v in by_size.items()
                   if all(r.get("same_verdict", True) for r in v["models"].values())), None)
    summary = None
    if needed is not None:
        rows = by_size[str(needed)]["models"]
        summary = {"questions_per_task": needed, "questions": by_size[str(needed)]["questions"],
                   "max_token_ratio": max(r["token_ratio"] for r in rows.values()),
                   "probe_tokens": {n: r["probe_tokens"] for n, r in rows.items()},
                   "full_tokens": {n: r["full_tokens"] for n, r in rows.items()}}
    return {"sizes": by_size, "needed": summary}


def run_demo(output: str | Path, *, quick: bool = False, base: str | Path = MODEL_DIR,
             models: tuple[str, ...] = MODELS, limit: int | None = None, recipe: Any = None,
             log=print) -> dict[str, Any]:
    """Fine-tune (watched), evaluate, compare; write ``results.json``, ``demo.png`` and ``curves.png``."""
    import torch

    from lm_eval_thinkpack.report.compare import compare, print_compare
    from lm_eval_thinkpack.report.plot import plot_runs
    from lm_eval_thinkpack.report.readers import load_run
    from lm_eval_thinkpack.report.summary import summarize
    from lm_eval_thinkpack.scoring import check_exact
    from lm_eval_thinkpack.training import TraceHealthCallback, distill

    from . import finetune
    from .curves import curve_points, plot_curves

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    # one thread: the tiny model gains nothing from intra-op threads, and on a busy machine two threads that
    # wait for each other make every small matrix product many times slower
    torch.set_num_threads(1)
    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    started, cpu_started = time.time(), time.process_time()
    limit = limit if limit is not None else (QUICK_LIMIT if quick else FULL_LIMIT)
    held_out = [t for t in synthetic.TASKS if t != IN_DOMAIN_TASK]
    tasks = [task_name(IN_DOMAIN_TASK)] + [task_name(t) for t in held_out]
    recipe = recipe or finetune.Recipe()
    probes = probe_set()

    base_model, tokenizer = finetune.load_base(base)
    timings: dict[str, float] = {}
    curves: dict[str, list[dict[str, Any]]] = {}
    loaded: dict[str, Any] = {}
    distillation: dict[str, Any] | None = None
    for name in models:
        t0 = time.time()
        model_dir = Path(base)
        if name == "base":
            loaded[name] = base_model
        else:
            conversations = None
            if name == "distilled_sft":
                log(f"[demo] self-distillation: the base model writes traces for {recipe.n_distill} answer-only "
                    f"'{IN_DOMAIN_TASK}' questions")
                answer_only = finetune.answer_only_conversations(IN_DOMAIN_TASK, recipe.n_distill,
                                                                 synthetic.FINETUNE_SEED)
                conversations, report = distill(answer_only, scorer=check_exact, tokenizer=tokenizer,
                                                teacher=base_model, max_new_tokens=PROBE_TOKENS, batch_size=256)
                distillation = report.as_dict()
                log(f"[demo] distillation kept {report.kept}/{report.total} traces (valid and correct)")
                if not conversations:
                    raise RuntimeError("self-distillation kept no trace: the base model wrote no valid, correct "
                                       "trace for the in-domain task; nothing to train distilled_sft on")
            log(f"[demo] fine-tuning {name} on {'distilled' if conversations else 'answer-only'} "
                f"'{IN_DOMAIN_TASK}' ({recipe.steps} steps, trace health every {PROBE_EVERY})")
            callback = TraceHealthCallback(probes, every=PROBE_EVERY, max_new_tokens=PROBE_TOKENS,
                                           scorer=check_exact, batch_size=64)
            tuned = finetune.finetune(base_model, tokenizer, name, recipe, conversations=conversations,
                                      callbacks=[callback])
            curves[name] = curve_points(callback.history)
            loaded[name] = tuned
            model_dir = out / "models" / name
            tuned.save_pretrained(model_dir)
            tokenizer.save_pretrained(model_dir)
        log(f"[demo] evaluating {name} with lm-eval on {', '.join(tasks)} ({limit} questions each)")
        evaluate(model_dir, out / "lm_eval" / name, tasks, limit=limit)
        timings[name] = round(time.time() - t0, 1)

    runs = [summarize(load_run(out / "lm_eval" / name, label=name)) for name in models]
    comparison = compare(runs)
    print_compare(comparison)
    for line in held_out_lines(runs, task_name(IN_DOMAIN_TASK)):
        log(f"[demo] {line}")
    plot = plot_runs(runs, out / "demo.png", in_domain=task_name(IN_DOMAIN_TASK),
                     title="lm-eval-thinkpack demo: trace classes after answer-only fine-tuning")
    curves_png = plot_curves(curves, out / "curves.png",
                             title="lm-eval-thinkpack demo: trace health during each fine-tune (probe set)")
    t0 = time.time()
    probe_rows = probe_vs_full(loaded, tokenizer, runs, comparison) if "base" in loaded else {}
    timings["opened_probes"] = round(time.time() - t0, 1)
    doc = {
        "models": {r.label: table_numbers(r) for r in runs},
        "lengths": {r.label: length_numbers(r) for r in runs},
        "in_domain": task_name(IN_DOMAIN_TASK),
        "held_out": [task_name(t) for t in held_out],
        "verdicts": [{k: v[k] for k in ("model", "task", "verdict", "reason")}
                     for v in comparison.as_dict()["verdicts"]],
        "curves": curves,
        "distillation": distillation,
        "probe_vs_full": probe_rows,
        "recipe": {k: v for k, v in vars(recipe).items()},
        "questions_per_task": limit,
        "seconds": {"total": round(time.time() - started, 1), **timings},
        # CPU time of this process (one torch thread; lm-eval runs in-process): the wall time on an idle core
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "plot": str(plot),
        "curves_plot": str(curves_png),
    }
    (out / "results.json").write_text(json.dumps(json_ready(doc), indent=2, default=str) + "\n")  # strict JSON
    log(f"[demo] wrote {out / 'results.json'}, {plot} and {curves_png} in {doc['seconds']['total']} s")
    return doc
