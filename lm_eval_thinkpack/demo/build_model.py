"""Build the demo model: a character-level tokenizer, a Qwen3-style chat template and a tiny Qwen3 model
trained from scratch on the synthetic tasks.

    python -m lm_eval_thinkpack.demo.build_model --output lm_eval_thinkpack/demo/model [--seed 0]

The model is "hybrid" like Qwen3: with thinking on it writes ``<think>\\n{trace}\\n</think>\\n\\n{answer}``;
with thinking off (the template puts ``<think>\\n\\n</think>\\n\\n`` in the prompt) it answers directly. The
thinking-off examples of the base mix cover every task except the demo's in-domain task (``max``), so the
fine-tunes in ``finetune.py`` have something to teach: answering ``max`` without a trace.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
import time
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

from lm_eval_thinkpack.demo import synthetic
from lm_eval_thinkpack.masking import PaddingCollator

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"]
THINK_TOKENS = ["<think>", "</think>"]  # added, NOT special: they survive skip_special_tokens=True

# A Qwen3-style template (ChatML). Assistant turns after the last user message render their think block
# (``reasoning_content``, or an inline ``<think>...</think>`` in ``content``) when they are the final turn
# or carry reasoning; a final assistant turn without reasoning gets ``<think>\n\n</think>\n\n`` (this is what
# makes naive answer-only SFT teach empty traces). Earlier assistant turns drop their reasoning.
# ``enable_thinking=False`` appends the empty block to the generation prompt.
CHAT_TEMPLATE = (
    "{%- set ns = namespace(last_query=-1) -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}{%- set ns.last_query = loop.index0 -%}{%- endif -%}"
    "{%- endfor -%}"
    "{%- for message in messages -%}"
    "{%- set content = message['content'] if message['content'] is string else '' -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{%- set reasoning = '' -%}"
    "{%- if message['reasoning_content'] is defined and message['reasoning_content'] is string -%}"
    "{%- set reasoning = message['reasoning_content'] -%}"
    "{%- elif '</think>' in content -%}"
    "{%- set reasoning = content.split('</think>')[0].split('<think>')[-1] -%}"
    "{%- set content = content.split('</think>')[-1] -%}"
    "{%- endif -%}"
    "{%- set reasoning = reasoning.strip('\\n') -%}"
    "{%- set content = content.lstrip('\\n') -%}"
    "{%- if loop.index0 > ns.last_query and (loop.last or reasoning) -%}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning + '\\n</think>\\n\\n' + content + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{- '<think>\\n\\n</think>\\n\\n' -}}"
    "{%- endif -%}"
    "{%- endif -%}"
)

#: every trace the model writes starts with this line, like the "Okay, so ..." of real reasoning models; the
#: first token of a trace is then the same for every task, which is what makes an empty-trace habit learnt on
#: one task carry over to the others (as it does in large models)
TRACE_OPENER = "Okay.\n"

#: the task the demo fine-tunes on (answer-only); the base never sees it with thinking off
IN_DOMAIN_TASK = "max"


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A character-level fast tokenizer over printable ASCII (+ newline, tab) with Qwen3's special tokens."""
    chars = list(string.printable)  # digits, letters, punctuation, whitespace
    vocab: dict[str, int] = {}
    for tok in SPECIAL_TOKENS + chars:
        vocab.setdefault(tok, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<unk>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
        clean_up_tokenization_spaces=False,
    )
    fast.add_tokens(THINK_TOKENS, special_tokens=False)
    return fast


def build_config(tokenizer: PreTrainedTokenizerFast, head_dim: int = 32) -> Qwen3Config:
    return Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=96,
        intermediate_size=256,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim,  # vLLM's CPU attention rejects 24 ("Unsupported CPU attention configuration")
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
    )


def encode_completion(tokenizer, prompt: str, completion: str) -> dict[str, list[int]]:
    """Token ids of ``prompt + completion`` with labels on the completion only (char-level: exact split)."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return {"input_ids": p + c, "labels": [-100] * len(p) + c}


def base_examples(n_per_task: int, seed: int, in_domain: str = IN_DOMAIN_TASK, off_frac: float = 0.3):
    """The base mix: every task with its trace (thinking on), plus thinking-off answer-only examples of every
    task except ``in_domain`` (about ``off_frac`` as many). Loss on the assistant's response only."""
    tok = build_tokenizer()
    out = []
    rng = random.Random(f"thinkpack-demo:base:{seed}")
    for ex in synthetic.mixture(synthetic.TASKS, n_per_task, seed):
        user = [{"role": "user", "content": ex["question"]}]
        if ex["task"] != in_domain and rng.random() < off_frac:
            prompt = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True, enable_thinking=False)
            completion = ex["answer"] + "<|im_end|>"
        else:
            prompt = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
            completion = f"<think>\n{TRACE_OPENER}{ex['trace']}\n</think>\n\n{ex['answer']}<|im_end|>"
        out.append(encode_completion(tok, prompt, completion))
    return out


def train(model, rows, *, steps: int, batch_size: int, lr: float, seed: int, pad_id: int,
          warmup: int = 50, log_every: int = 100, params=None) -> list[float]:
    """A plain AdamW loop with linear warmup and cosine decay; returns the logged losses."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    collate = PaddingCollator(pad_token_id=pad_id)  # right padding, labels -100, attention 0 on padding
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    model.train()
    order: list[int] = []
    losses = []
    t0 = time.time()
    for step in range(steps):
        if len(order) < batch_size:
            fresh = list(range(len(rows)))
            rng.shuffle(fresh)
            order += fresh
        idx, order = order[:batch_size], order[batch_size:]
        batch = collate([rows[i] for i in idx])
        loss = model(**batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if log_every and (step % log_every == 0 or step == steps - 1):
            losses.append(loss.item())
            print(f"step {step:5d} loss {loss.item():.4f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return losses


def build(output: str | Path, seed: int = 0, steps: int = 2000, batch_size: int = 32, lr: float = 3e-3,
          n_per_task: int = 4000, head_dim: int = 32) -> Path:
    torch.set_num_threads(2)
    output = Path(output)
    t0 = time.time()
    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(build_config(tokenizer, head_dim))
    rows = base_examples(n_per_task, seed=synthetic.TRAIN_SEED + seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params} parameters, {len(rows)} training examples", flush=True)
    train(model, rows, steps=steps, batch_size=batch_size, lr=lr, seed=seed, pad_id=tokenizer.pad_token_id)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.do_sample = False
    # no max_new_tokens: transformers lets it override the max_length lm-eval's hf model asks for, so a smaller
    # --gen_kwargs max_gen_toks would be ignored (callers pass their own budget)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    tokenizer.save_pretrained(output)
    info = {"seed": seed, "steps": steps, "batch_size": batch_size, "lr": lr, "head_dim": head_dim,
            "parameters": n_params,
            "train_seconds": round(time.time() - t0, 1), "in_domain_task": IN_DOMAIN_TASK}
    (output / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info), flush=True)
    return output


def widen_heads(source: str | Path, output: str | Path, head_dim: int = 32) -> Path:
    """The model in ``source`` re-expressed with a larger ``head_dim``, computing the same function.

    Each head's dimensions are placed in the first half of both rotary halves (Qwen3's ``rotate_half`` pairs
    dimension i with i + head_dim/2) and the new dimensions are zero in q, k and v, so they add nothing.
    ``rope_theta`` is raised to ``theta ** (new/old)``: the rotary frequencies of the kept dimensions stay the
    same. The q/k RMSNorm now averages over ``head_dim`` dimensions and the attention scale is
    ``1/sqrt(head_dim)``: q's norm weight is kept (the two changes cancel) and k's is scaled by
    ``sqrt(old/new)``. Logits agree up to float rounding (tested). This is how a trained model moves to a
    ``head_dim`` that vLLM's CPU attention accepts without training it again.
    """
    source, output = Path(source), Path(output)
    old = Qwen3ForCausalLM.from_pretrained(source, dtype=torch.float32)
    cfg = old.config
    d0, d1 = cfg.head_dim, head_dim
    if d1 <= d0 or d1 % 2 or d0 % 2:
        raise ValueError(f"widen_heads: the new head_dim ({d1}) must be even and larger than {d0}")
    h, kv = cfg.num_attention_heads, cfg.num_key_value_heads
    keep = torch.tensor(list(range(d0 // 2)) + [d1 // 2 + i for i in range(d0 // 2)])  # old dim -> new dim
    new_cfg = Qwen3Config(**{**cfg.to_dict(), "head_dim": d1})
    new_cfg.rope_parameters = {**cfg.rope_parameters, "rope_theta": cfg.rope_parameters["rope_theta"] ** (d1 / d0)}
    new = Qwen3ForCausalLM(new_cfg)
    state = {}
    for name, w in old.state_dict().items():
        if name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight")):
            n = h if ".q_proj." in name else kv
            wide = torch.zeros(n, d1, w.shape[1])
            wide[:, keep] = w.view(n, d0, -1)
            w = wide.reshape(n * d1, -1)
        elif name.endswith("o_proj.weight"):
            wide = torch.zeros(w.shape[0], h, d1)
            wide[:, :, keep] = w.view(w.shape[0], h, d0)
            w = wide.reshape(w.shape[0], -1)
        elif name.endswith(("q_norm.weight", "k_norm.weight")):
            wide = torch.zeros(d1)
            wide[keep] = w if name.endswith("q_norm.weight") else w * math.sqrt(d0 / d1)
            w = wide
        state[name] = w
    new.load_state_dict(state, strict=True)
    new.generation_config = old.generation_config
    new.generation_config.max_new_tokens = None  # see build(): a fixed budget would override lm-eval's
    output.mkdir(parents=True, exist_ok=True)
    new.save_pretrained(output, safe_serialization=True)
    PreTrainedTokenizerFast.from_pretrained(source).save_pretrained(output)
    info_file = source / "build_info.json"
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    info = {**info, "head_dim": d1, "widened_from_head_dim": d0, "rope_theta": new_cfg.rope_parameters["rope_theta"],
            "parameters": sum(p.numel() for p in new.parameters())}
    (output / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    return output


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--head-dim", type=int, default=32)
    ap.add_argument("--widen", metavar="DIR", help="instead of training: re-express the model in DIR with "
                    "--head-dim (same function; see widen_heads)")
    args = ap.parse_args(argv)
    if args.widen:
        widen_heads(args.widen, args.output, args.head_dim)
        return
    build(args.output, seed=args.seed, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
          head_dim=args.head_dim)


if __name__ == "__main__":
    main()
