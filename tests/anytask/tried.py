"""The lm-eval tasks the trace layer was tried on, with their figures, for the canned and the bundled model.

``python -m tests.anytask.tried`` (from the checkout; offline: each task's Hub dataset is replaced by the local
records of ``specs.py`` in a temporary datasets cache) prints, per task of ``specs.SPECS`` (lm-eval's own YAMLs as
installed): the task's own primary metric on the raw text, the same metric on the answer alone (the layer's
``answer/`` pipeline), VR and Rpass@1, and the primary metric lm-eval gives when its ``think_end_token``
post-processing cuts the same responses (the text after the last ``</think>``; a truncated trace keeps its whole
text). Canned responses: one doc per trace class (``specs.CLASSES``). Bundled model: the tiny demo model
(``lm_eval_thinkpack/demo/model``) through lm-eval's ``hf`` backend, a few docs per task, all tasks in one run.
``tests/anytask/test_bundled_model.py`` checks the bundled run's figures against ``classify`` and the task itself.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import tempfile
from pathlib import Path
from typing import Any

from .runner import by_doc, layer_on, no_env_info, prepare, run, task_manager
from .specs import SPECS, Spec, write_canned

MODEL_DIR = Path(__file__).resolve().parents[2] / "lm_eval_thinkpack" / "demo" / "model"
BUNDLED_GEN = "max_gen_toks=96"
BATCH = 1


def score(v: Any) -> float:
    if isinstance(v, (list, tuple)):
        return sum(map(float, v)) / len(v)
    return float(v)


def bundled_run(tasks: list[str], limit: int, gen_kwargs: str = BUNDLED_GEN) -> dict[str, Any]:
    """One layered lm-eval run of ``tasks`` on the bundled model (``hf``; its profile detected from the model)."""
    import lm_eval

    with layer_on(), no_env_info():
        return lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={MODEL_DIR},dtype=float32", tasks=tasks,
                                       limit=limit, log_samples=True, bootstrap_iters=0, gen_kwargs=gen_kwargs,
                                       task_manager=task_manager({"pretrained": str(MODEL_DIR)}), device="cpu",
                                       batch_size=BATCH, apply_chat_template=True)


def texts_of(out: dict[str, Any], task: str) -> dict[int, list[str]]:
    """Each doc's logged responses (the trace pipeline's line holds the raw texts)."""
    from lm_eval_thinkpack.harness.anytask import TRACE_KEY

    return {i: list(s["resps"][0]) if isinstance(s["resps"][0], list) else [s["resps"][0]]
            for i, s in by_doc(out["samples"][task], TRACE_KEY).items()}


def replay(spec: Spec, texts: dict[int, str], folder: Path, name: str, *, layer: bool = False) -> dict[str, Any]:
    """The task run on the given texts (one per doc id) through the canned model."""
    canned = write_canned(folder / f"{spec.task}_{name}.jsonl", [{"task": spec.task, "doc_id": i, "responses": [t]}
                                                                 for i, t in texts.items()])
    return run([spec.task], canned, layer=layer, metadata={"trace_format": "think", "prefilled": False},
               limit=len(texts))


def think_end_token_cut(texts: dict[int, str]) -> dict[int, str]:
    """What lm-eval's ``think_end_token`` (hf/vllm model arg) hands the task: the text after the last closer."""
    from lm_eval.models.utils import postprocess_generated_text

    return {i: postprocess_generated_text(t, None, "</think>") for i, t in texts.items()}


def row(spec: Spec, res: dict[str, Any], tet: dict[str, Any] | None, n: int) -> dict[str, Any]:
    from lm_eval_thinkpack.harness.anytask import ANSWER_PREFIX, TRACE_KEY

    metric, _, pipe = spec.primary.partition(",")
    raw = pipe.removeprefix(ANSWER_PREFIX)
    return {"task": spec.task, "metric": f"{metric},{raw}", "n": n, "own": res[f"{metric},{raw}"],
            "answer": res[f"{metric},{ANSWER_PREFIX}{raw}"], "vr": res[f"valid_trace_rate,{TRACE_KEY}"],
            "tr": res[f"truncated_trace_rate,{TRACE_KEY}"], "rpass": res[f"rpass@1,{TRACE_KEY}"],
            "think_end_token": None if tet is None else tet["results"][spec.task][f"{metric},{raw}"]}


def canned_rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for spec in SPECS:
        out = run([spec.task], write_canned(folder / f"{spec.task}.jsonl", spec.canned_lines()), layer=True)
        texts = {i: t[0] for i, t in texts_of(out, spec.task).items()}
        rows.append(row(spec, out["results"][spec.task], replay(spec, think_end_token_cut(texts), folder, "tet"),
                        len(texts)))
    return rows


def bundled_rows(folder: Path, limit: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out = bundled_run([s.task for s in SPECS], limit)
    rows = []
    for spec in SPECS:
        texts = {i: t[0] for i, t in texts_of(out, spec.task).items()}
        rows.append(row(spec, out["results"][spec.task], replay(spec, think_end_token_cut(texts), folder, "tet"),
                        len(texts)))
    return rows, out


def table(rows: list[dict[str, Any]]) -> str:
    def f(v: Any) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    lines = ["| task | primary metric | n | own (raw text) | answer-only | VR | TR | Rpass@1 | think_end_token |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['task']} | {r['metric']} | {r['n']} | {f(r['own'])} | {f(r['answer'])} | {f(r['vr'])} | "
              f"{f(r['tr'])} | {f(r['rpass'])} | {f(r['think_end_token'])} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import logging
    import os

    # offline before anything reads these (huggingface_hub and datasets read them once, on import)
    os.environ.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                      TOKENIZERS_PARALLELISM="false")
    import datasets
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0  # IFEval's language check (langdetect) is random unless seeded
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=5, help="docs per task for the bundled model (of 5)")
    ap.add_argument("--no-bundled", action="store_true", help="the canned model only")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "hf_datasets_cache"
        for spec in SPECS:
            prepare(spec, root)
        datasets.config.HF_DATASETS_CACHE = root
        os.environ["HF_DATASETS_CACHE"] = str(root)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            canned = canned_rows(Path(tmp))
            bundled = None if args.no_bundled else bundled_rows(Path(tmp), args.limit)[0]
    print("canned model (one doc per class: valid, valid with the gold only inside the trace, missing, truncated "
          "with the gold inside, empty)")
    print(table(canned))
    if bundled is not None:
        print(f"\nbundled model ({MODEL_DIR.name}, hf backend, {BUNDLED_GEN}, {args.limit} docs per task)")
        print(table(bundled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
