"""The study in miniature: fine-tune the demo model on ANSWER-ONLY data of one in-domain task, five ways,
and measure what happens to the reasoning traces on the held-out (traced) tasks.

``lm-eval-thinkpack demo`` (``demo/pipeline.py``) runs these fine-tunes, watches each one with
``training.TraceHealthCallback`` and evaluates every model through lm-eval.

Variants:

- ``naive_sft``: full fine-tune, loss on the whole assistant response as the chat template renders it. For
  an answer-only example the Qwen3-style template inserts ``<think>\\n\\n</think>\\n\\n`` before the answer,
  so the model is trained to write empty traces: the collapse.
- ``masked_sft``: full fine-tune, labels -100 on the prompt and on the think block (delimiters included):
  the model learns the answers and is never trained to close its trace at once.
- ``naive_lora`` / ``masked_lora``: the same two with a LoRA adapter (PEFT), merged before evaluation.
- ``distilled_sft``: self-distillation by rejection sampling: the base model writes traces for the answer-only
  questions (``training.distill``, ``method="sample"``: kept only when valid and correct), and the full fine-tune
  trains those real traces. (The study distils by rationalization, ``method="rationalize"``.)

Every variant trains with ``transformers.Trainer`` (AdamW, linear warmup then cosine decay, the same recipe for
the naive and the masked variant).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, Trainer, TrainingArguments

from lm_eval_thinkpack.demo import synthetic
from lm_eval_thinkpack.demo.build_model import IN_DOMAIN_TASK
from lm_eval_thinkpack.masking import PaddingCollator, tokenize_dataset

MODEL_DIR = Path(__file__).parent / "model"
VARIANTS = ("naive_sft", "masked_sft", "naive_lora", "masked_lora", "distilled_sft")
HELD_OUT_TASKS = tuple(t for t in synthetic.TASKS if t != IN_DOMAIN_TASK)

@dataclass
class Recipe:
    """Hyper-parameters of one demo fine-tune (the same for the naive and the masked variant)."""

    steps: int = 150
    batch_size: int = 16
    lr: float = 3e-4
    lora_lr: float = 1.5e-3
    lora_r: int = 16
    n_examples: int = 2000
    n_distill: int = 500   # answer-only questions the base model writes traces for (distilled_sft)
    warmup: int = 10
    seed: int = 0


# --- fine-tuning ---------------------------------------------------------------------------------------------

def answer_only_conversations(task: str, n: int, seed: int) -> list[list[dict]]:
    """Answer-only chat examples (no trace, no reasoning_content) of ``task``."""
    return [
        [{"role": "user", "content": ex["question"]}, {"role": "assistant", "content": ex["answer"]}]
        for ex in synthetic.generate(task, n, seed)
    ]


def load_base(path: str | Path = MODEL_DIR):
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return model, tokenizer


def mask_mode(variant: str) -> str:
    """naive: the prompt only (the inserted empty block is trained); masked and distilled: prompt + think block
    (a real trace, which distilled data has, stays trained)."""
    return "prompt" if variant.startswith("naive") else "prompt+think"


def finetune(base_model, tokenizer, variant: str, recipe: Recipe | None = None,
             task: str = IN_DOMAIN_TASK, conversations: Sequence[Sequence[dict]] | None = None,
             callbacks: Sequence[Any] = ()):
    """A fine-tuned copy of ``base_model`` (LoRA adapters merged) for one of ``VARIANTS``.

    ``conversations`` replaces the answer-only data (``distilled_sft`` needs them: ``training.distill``'s
    output). ``callbacks`` go to the ``Trainer``; a ``TraceHealthCallback`` among them logs through it.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    if variant == "distilled_sft" and conversations is None:
        raise ValueError("distilled_sft trains on distilled conversations: pass conversations=training.distill(...)[0]")
    recipe = recipe or Recipe()
    convs = conversations if conversations is not None else answer_only_conversations(
        task, recipe.n_examples, synthetic.FINETUNE_SEED)
    train_ds = tokenize_dataset(tokenizer, convs, mask=mask_mode(variant))
    model = copy.deepcopy(base_model)
    lr = recipe.lr
    if variant.endswith("lora"):
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=recipe.lora_r, lora_alpha=2 * recipe.lora_r, lora_dropout=0.0,
                            target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                            "gate_proj", "up_proj", "down_proj"])
        torch.manual_seed(recipe.seed)  # the adapter's init must not depend on what ran before
        model = get_peft_model(model, config)
        lr = recipe.lora_lr
    with tempfile.TemporaryDirectory(prefix="thinkpack-demo-") as tmp:
        args = TrainingArguments(
            output_dir=tmp, max_steps=recipe.steps, per_device_train_batch_size=recipe.batch_size,
            learning_rate=lr, warmup_steps=recipe.warmup, lr_scheduler_type="cosine", weight_decay=0.01,
            adam_beta1=0.9, adam_beta2=0.98, max_grad_norm=1.0, seed=recipe.seed, data_seed=recipe.seed,
            report_to=[], logging_steps=max(1, recipe.steps // 5), save_strategy="no", use_cpu=True,
            dataloader_num_workers=0, disable_tqdm=True, remove_unused_columns=False,
        )
        trainer = Trainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer,
                          data_collator=PaddingCollator.for_tokenizer(tokenizer), callbacks=list(callbacks))
        trainer.remove_callback(PrinterCallback)  # the demo prints its own progress
        for cb in callbacks:
            if getattr(cb, "trainer", False) is None:
                cb.trainer = trainer  # log through trainer.log, like every report_to backend sees
        trainer.train()
    model = trainer.model
    if variant.endswith("lora"):
        model = model.merge_and_unload()
    model.eval()
    return model
