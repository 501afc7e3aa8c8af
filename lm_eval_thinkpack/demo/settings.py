"""The demo's fixed settings, in a module that imports nothing heavy: ``lm-eval-thinkpack --help`` builds the demo's
parser from them without loading torch (``demo/cli.py``); ``demo/pipeline.py`` re-exports them."""

from __future__ import annotations

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODELS = ("base", "naive_sft", "masked_sft", "naive_lora", "masked_lora", "distilled_sft")
QUICK_LIMIT = 12   # questions per task with --quick
FULL_LIMIT = 100  # every question of the bundled eval sets
