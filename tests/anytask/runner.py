"""Run lm-eval in-process on installed task YAMLs with the canned model, with or without the trace layer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .hubcache import cache_dataset
from .specs import Spec, write_canned


@contextlib.contextmanager
def layer_on(primary: str | None = None) -> Iterator[None]:
    """lm-eval's ``evaluate`` with the trace layer, as ``lm-eval-thinkpack eval`` runs it."""
    import lm_eval.evaluator as evaluator

    from lm_eval_thinkpack.harness.anytask import evaluate_with_layer

    saved = evaluator.evaluate
    evaluator.evaluate = evaluate_with_layer(saved, primary)
    try:
        yield
    finally:
        evaluator.evaluate = saved


def use_cache(monkeypatch: Any, root: Path) -> None:
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", Path(root))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(root))


def prepare(spec: Spec, root: Path) -> None:
    cache_dataset(root, spec.hub, spec.name, spec.splits)


_MANAGERS: dict[str, Any] = {}


#: the folders of lm-eval's installed task tree the tests use (indexing all of it takes a minute on a busy machine)
LM_EVAL_FOLDERS = ("gsm8k", "hendrycks_math", "bbh/cot_zeroshot", "gpqa/cot_zeroshot", "mmlu_pro", "ifeval",
                   "leaderboard", "code_x_glue/code-text")


def lm_eval_task_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).resolve().parent


def task_manager(metadata: dict[str, Any], extra: tuple[str, ...] = ()) -> Any:
    """One lm-eval TaskManager per metadata over lm-eval's own YAMLs, where lm-eval installed them."""
    from lm_eval.tasks import TaskManager

    key = repr((sorted(metadata.items()), extra))
    if key not in _MANAGERS:
        paths = [str(lm_eval_task_dir() / f) for f in LM_EVAL_FOLDERS] + list(extra)
        _MANAGERS[key] = TaskManager(include_path=paths, include_defaults=False, metadata=dict(metadata))
    return _MANAGERS[key]


@contextlib.contextmanager
def no_env_info() -> Iterator[None]:
    """lm-eval's add_env_info runs `pip list` and friends (seconds per run); the tests read no env info."""
    import lm_eval.evaluator as evaluator

    saved = evaluator.add_env_info
    evaluator.add_env_info = lambda results: None
    try:
        yield
    finally:
        evaluator.add_env_info = saved


def run(tasks: list[str], canned: Path, *, layer: bool, primary: str | None = None,
        metadata: dict[str, Any] | None = None, chat: bool = True, limit: int | None = None) -> dict[str, Any]:
    """simple_evaluate with the canned model; ``metadata`` is what --model_args/--metadata would give the tasks."""
    import lm_eval

    import lm_eval_thinkpack.harness.canned  # noqa: F401  (registers thinkpack-canned)

    meta = {"trace_format": "think", "prefilled": False} if metadata is None else metadata
    ctx = layer_on(primary) if layer else contextlib.nullcontext()
    with ctx, no_env_info():
        return lm_eval.simple_evaluate(model="thinkpack-canned", model_args=f"responses={canned}", tasks=tasks,
                                       log_samples=True, bootstrap_iters=0, task_manager=task_manager(meta),
                                       apply_chat_template=chat, limit=limit)


def canned_for(spec: Spec, path: Path) -> Path:
    return write_canned(path, spec.canned_lines())


def by_doc(samples: list[dict[str, Any]], key: str) -> dict[int, dict[str, Any]]:
    return {s["doc_id"]: s for s in samples if s["filter"] == key}
