"""The shipped demo model: tokenizer, chat template, greedy traces; the synthetic generators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import transformers

from lm_eval_thinkpack.demo import synthetic

MODEL_DIR = Path(__file__).resolve().parents[2] / "lm_eval_thinkpack" / "demo" / "model"
DATA_DIR = MODEL_DIR.parent / "data"


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(MODEL_DIR)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return transformers.AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32).eval()


def render(tokenizer, messages, **kwargs):
    return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)


USER = [{"role": "user", "content": "What is 2 + 3?"}]


def test_tokenizer_tokens(tokenizer):
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    for tok in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert tok in tokenizer.all_special_tokens
    for tok in ("<think>", "</think>"):
        assert tok not in tokenizer.all_special_tokens
        ids = tokenizer(tok, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and ids[0] != tokenizer.unk_token_id
    text = "<|im_start|>assistant\n<think>\n1+2\n</think>\n\n3<|im_end|>"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(ids, skip_special_tokens=True) == "assistant\n<think>\n1+2\n</think>\n\n3"


def test_offsets_are_character_spans(tokenizer):
    text = "<|im_start|>user\nab<|im_end|>\n<think>\n\n</think>"
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert [text[a:b] for a, b in enc["offset_mapping"]] == tokenizer.convert_ids_to_tokens(enc["input_ids"])


def test_template_thinking_on_and_off(tokenizer):
    on = render(tokenizer, USER, add_generation_prompt=True)
    assert on == "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"
    off = render(tokenizer, USER, add_generation_prompt=True, enable_thinking=False)
    assert off == on + "<think>\n\n</think>\n\n"


def test_template_final_turn(tokenizer):
    traced = render(tokenizer, USER + [{"role": "assistant", "content": "5", "reasoning_content": "2+3+0=5"}])
    assert traced.endswith("<|im_start|>assistant\n<think>\n2+3+0=5\n</think>\n\n5<|im_end|>\n")
    # no reasoning: the template inserts an empty block (what naive answer-only SFT then trains on)
    bare = render(tokenizer, USER + [{"role": "assistant", "content": "5"}])
    assert bare.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n5<|im_end|>\n")
    # an inline block in content is parsed like reasoning_content
    inline = render(tokenizer, USER + [{"role": "assistant", "content": "<think>\n2+3+0=5\n</think>\n\n5"}])
    assert inline == traced


def test_template_history_drops_reasoning(tokenizer):
    messages = USER + [
        {"role": "assistant", "content": "5", "reasoning_content": "2+3+0=5"},
        {"role": "user", "content": "What is 1 + 1?"},
    ]
    text = render(tokenizer, messages, add_generation_prompt=True)
    assert "2+3+0=5" not in text and "<think>" not in text
    assert "<|im_start|>assistant\n5<|im_end|>\n<|im_start|>user\nWhat is 1 + 1?" in text


def test_model_config_and_size(model):
    assert model.config.model_type == "qwen3"
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    assert sum(f.stat().st_size for f in MODEL_DIR.glob("*.safetensors")) < 10_000_000


@pytest.mark.parametrize("task", synthetic.TASKS)
def test_greedy_generation_writes_a_valid_trace_and_the_answer(model, tokenizer, task):
    examples = synthetic.generate(task, 4, seed=99)
    prompts = [render(tokenizer, [{"role": "user", "content": ex["question"]}], add_generation_prompt=True)
               for ex in examples]
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=96, do_sample=False)
    texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    ok = 0
    for ex, text in zip(examples, texts, strict=True):
        assert text.startswith("<think>\n"), text
        body, sep, answer = text.partition("</think>")
        assert sep and body.removeprefix("<think>").strip(), text
        ok += synthetic.score(task, answer, ex["answer"])
    # the shipped model writes valid traces everywhere; its count traces are often wrong (pass@1 ~0.3)
    if task != "count":
        assert ok >= 3, texts


def test_generators_are_deterministic():
    for task in synthetic.TASKS:
        a = synthetic.generate(task, 20, seed=7)
        assert a == synthetic.generate(task, 20, seed=7)
        assert a != synthetic.generate(task, 20, seed=8)
        assert all(set(ex) == {"task", "question", "trace", "answer"} for ex in a)
    assert synthetic.mixture(synthetic.TASKS, 5, 3) == synthetic.mixture(synthetic.TASKS, 5, 3)


def test_score():
    assert synthetic.score("add", " 42\n", "42")
    assert not synthetic.score("add", "41", "42")
    assert not synthetic.score("add", None, "42")


def test_shipped_eval_sets_match_the_generator():
    for task in synthetic.TASKS:
        rows = [json.loads(line) for line in (DATA_DIR / f"{task}.jsonl").read_text().splitlines()]
        assert rows == synthetic.generate(task, len(rows), synthetic.EVAL_SEED)
        assert {"question", "answer", "trace"} <= set(rows[0])


def test_shipped_model_has_a_head_dim_vllm_cpu_serves_and_no_fixed_budget(model):
    assert model.config.head_dim == 32  # vLLM's CPU attention rejects 24
    # a max_new_tokens in generation_config would override the max_length lm-eval's hf model asks for
    assert getattr(model.generation_config, "max_new_tokens", None) is None


def test_widen_heads_keeps_the_function(tmp_path, tokenizer):
    from lm_eval_thinkpack.demo import build_model

    torch.manual_seed(3)
    small = transformers.Qwen3ForCausalLM(build_model.build_config(tokenizer, head_dim=16))
    for p in small.parameters():  # random weights far from init, q/k norms included
        p.data.normal_(0, 0.3)
    small.save_pretrained(tmp_path / "narrow")
    tokenizer.save_pretrained(tmp_path / "narrow")
    build_model.widen_heads(tmp_path / "narrow", tmp_path / "wide", head_dim=32)
    wide = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "wide", dtype=torch.float32).eval()
    assert wide.config.head_dim == 32 and json.loads((tmp_path / "wide" / "build_info.json").read_text())[
        "widened_from_head_dim"] == 16
    ids = tokenizer(render(tokenizer, USER, add_generation_prompt=True) + "<think>\nOkay.\n2+3",
                    return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        a, b = small.eval()(**ids).logits, wide(**ids).logits
    assert torch.allclose(a, b, atol=1e-4, rtol=1e-4), (a - b).abs().max()
    with pytest.raises(ValueError, match="larger"):
        build_model.widen_heads(tmp_path / "wide", tmp_path / "x", head_dim=32)
