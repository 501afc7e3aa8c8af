"""The study in miniature: fine-tune the demo model on ANSWER-ONLY data of one in-domain task, four ways,
and measure what happens to the reasoning traces on the held-out (traced) tasks.

``thinkpack demo`` (``demo/pipeline.py``) runs these fine-tunes and evaluates every model through lm-eval.

Variants:

- ``naive_sft``: full fine-tune, loss on the whole assistant response as the chat template renders it. For
  an answer-only example the Qwen3-style template inserts ``<think>\\n\\n</think>\\n\\n`` before the answer,
  so the model is trained to write empty traces: the collapse.
- ``masked_sft``: full fine-tune, labels -100 on the prompt and on the think block (delimiters included):
  the model learns the answers and is never trained to close its trace at once.
- ``naive_lora`` / ``masked_lora``: the same two with a LoRA adapter (PEFT), merged before evaluation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from lm_eval_thinkpack.demo import synthetic
from lm_eval_thinkpack.demo.build_model import IN_DOMAIN_TASK, train
from lm_eval_thinkpack.masking import tokenize_conversation

MODEL_DIR = Path(__file__).parent / "model"
VARIANTS = ("naive_sft", "masked_sft", "naive_lora", "masked_lora")
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


def finetune(base_model, tokenizer, variant: str, recipe: Recipe | None = None,
             task: str = IN_DOMAIN_TASK, log_every: int = 0):
    """A fine-tuned copy of ``base_model`` (LoRA adapters merged) for one of ``VARIANTS``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    recipe = recipe or Recipe()
    mask = "prompt+think" if variant.startswith("masked") else "prompt"
    rows = [tokenize_conversation(tokenizer, conv, mask=mask)
            for conv in answer_only_conversations(task, recipe.n_examples, synthetic.FINETUNE_SEED)]
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
    train(model, rows, steps=recipe.steps, batch_size=recipe.batch_size, lr=lr, seed=recipe.seed,
          pad_id=tokenizer.pad_token_id, warmup=recipe.warmup, log_every=log_every)
    if variant.endswith("lora"):
        model = model.merge_and_unload()
    model.eval()
    return model
