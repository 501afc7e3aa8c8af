"""``lm-eval-thinkpack demo``: argument parsing for the study in miniature (``demo/pipeline.py``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .settings import FULL_LIMIT, MODEL_DIR, MODELS, QUICK_LIMIT  # not .pipeline: it imports torch


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help="the study in miniature: fine-tune the bundled tiny model naive vs masked, evaluate with lm-eval",
        description="Fine-tune the bundled tiny reasoning model on answer-only data of one task (naive and masked "
                    "SFT, full and LoRA), evaluate every model with lm-eval on the in-domain and held-out tasks, "
                    "print the table with collapse verdicts, write DIR/results.json and DIR/demo.png.")
    p.add_argument("--output", required=True, metavar="DIR", help="where models, lm-eval runs and results go")
    p.add_argument("--quick", action="store_true",
                   help=f"fewer fine-tuning steps and {QUICK_LIMIT} questions per task (for tests), "
                        f"instead of {FULL_LIMIT}")
    p.add_argument("--base", default=str(MODEL_DIR), help="the base model folder (default: the bundled model)")
    p.add_argument("--limit", type=int, default=None, help="questions per task (overrides --quick's choice)")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="which models to run")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # everything the demo reads ships in the package: never reach for the Hub (set before transformers loads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from .pipeline import run_demo

    models = tuple(dict.fromkeys(["base", *args.models]))  # the base is the reference of every comparison
    run_demo(args.output, quick=args.quick, base=args.base, models=models, limit=args.limit)
    return 0
