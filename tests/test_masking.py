"""Loss masking: exact spans on every fixture template, modes, boundary rule, truncation, collator, training."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_thinkpack.chat import ChatTemplateError
from lm_eval_thinkpack.masking import (
    IGNORE_INDEX,
    PaddingCollator,
    conversation_spans,
    tokenize_conversation,
    tokenize_dataset,
)
from tests.chat_fixtures import ANSWER, QUESTION, REASONING, TEMPLATE_CASES, case, make_tokenizer, mixed_conversations

# The empty block each template's answer-only example carries (the template's own, or the family's inserted
# where the trace goes), and what the model is trained to write around the answer: (before, after).
EMPTY_BLOCK = {
    "qwen3": "<think>\n\n</think>\n\n",
    "qwen3_thinking_2507": "<think>\n\n</think>\n\n",
    "qwq": "<think>\n\n</think>\n\n",
    "deepseek_r1": "<think>\n\n</think>\n\n",
    "deepseek_v31": "</think>",
    "gpt_oss": "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>",
    "magistral_2507": "[THINK][/THINK]",
    "magistral_2506": "<think></think>",
    "smollm3": "<think>\n\n</think>\n",
    "olmo3": "<think>\n</think>\n\n",
    "exaone_deep": "<thought>\n\n</thought>\n\n",
    "exaone4": "<think>\n\n</think>\n\n",
    "glm45": "\n<think></think>\n",
    "seed_oss": "<seed:think></seed:think>",
    "kimi": "◁think▷\n\n◁/think▷\n\n",
    "hunyuan": "<think>\n\n</think>\n",
    "granite32": "Here is my thought process:\n\nHere is my response:\n\n",
    "phi4_reasoning": "<think>\n\n</think>\n\n",
    "nemotron_nano2": "<think>\n</think>",
    "cohere": "<|START_THINKING|><|END_THINKING|>",
    "chatml": "<think>\n\n</think>\n\n",
}
AROUND_ANSWER = {
    "qwen3": ("", "<|im_end|>\n"),
    "qwen3_thinking_2507": ("", "<|im_end|>\n"),
    "qwq": ("", "<|im_end|>\n"),
    "deepseek_r1": ("", "<｜end▁of▁sentence｜>"),
    "deepseek_v31": ("", "<｜end▁of▁sentence｜>"),
    "gpt_oss": ("", "<|return|>"),
    "magistral_2507": ("", "</s>"),
    "magistral_2506": ("", "</s>"),
    "smollm3": ("", "<|im_end|>\n"),
    "olmo3": ("", "<|im_end|>\n"),
    "exaone_deep": ("", "[|endofturn|]\n"),
    "exaone4": ("", "[|endofturn|]\n"),
    "glm45": ("", ""),
    "seed_oss": ("", "<seed:eos>"),
    "kimi": ("", "<|im_end|>"),
    "hunyuan": ("", "<|eos|>"),
    "granite32": ("", "<|end_of_text|>\n"),
    "phi4_reasoning": ("", "<|im_end|>"),
    "nemotron_nano2": ("", "\n<SPECIAL_12>\n"),
    "cohere": ("<|START_TEXT|>", "<|END_TEXT|><|END_OF_TURN_TOKEN|>"),
    "chatml": ("", "<|im_end|>\n"),
}
NAMES = [c.name for c in TEMPLATE_CASES]


def test_tables_cover_every_fixture():
    assert set(EMPTY_BLOCK) == set(NAMES) == set(AROUND_ANSWER)


def _answer_only(name: str) -> list[dict]:
    return case(name).messages() + [{"role": "assistant", "content": ANSWER}]


def _with_trace(name: str) -> list[dict]:
    return case(name).messages() + [{"role": "assistant", "content": ANSWER, "reasoning": REASONING}]


def _split(out: dict) -> tuple[list[int], list[int]]:
    """(masked ids, trained ids), each in order."""
    masked = [i for i, lab in zip(out["input_ids"], out["labels"], strict=True) if lab == IGNORE_INDEX]
    trained = [i for i, lab in zip(out["input_ids"], out["labels"], strict=True) if lab != IGNORE_INDEX]
    return masked, trained


def _runs(labels: list[int]) -> int:
    """Number of contiguous masked runs."""
    runs, prev = 0, False
    for lab in labels:
        cur = lab == IGNORE_INDEX
        runs += cur and not prev
        prev = cur
    return runs


def _prompt(tok, name: str, **kw) -> str:
    return tok.apply_chat_template(case(name).messages(), add_generation_prompt=True, tokenize=False, **kw)


@pytest.mark.parametrize("name", NAMES)
def test_think_mask_is_exactly_the_empty_block(name):
    c = case(name)
    tok = make_tokenizer(name)
    out = tokenize_conversation(tok, _answer_only(name), mask="think", fmt=c.format)
    spans = conversation_spans(tok, _answer_only(name), fmt=c.format)
    assert tok.decode(out["input_ids"]) == spans.text  # the rendering round-trips through the tokenizer
    masked, _ = _split(out)
    assert tok.decode(masked) == EMPTY_BLOCK[name]
    assert _runs(out["labels"]) == 1
    # the trained tokens are everything else, in order
    block = spans.text[spans.block[0]:spans.block[1]]
    assert block == EMPTY_BLOCK[name]
    assert spans.text.replace(block, "", 1) == tok.decode(_split(out)[1])


@pytest.mark.parametrize("name", NAMES)
def test_prompt_plus_think_trains_exactly_answer_and_end_of_turn(name):
    tok = make_tokenizer(name)
    out = tokenize_conversation(tok, _answer_only(name), mask="prompt+think", fmt=case(name).format)
    before, after = AROUND_ANSWER[name]
    masked, trained = _split(out)
    assert tok.decode(trained) == before + ANSWER + after
    assert _runs(out["labels"]) == 1  # prompt and block are one run: nothing between them is trained
    assert out["labels"][-1] != IGNORE_INDEX or after == ""


@pytest.mark.parametrize("name", NAMES)
def test_prompt_mask_is_exactly_the_generation_prompt(name):
    tok = make_tokenizer(name)
    out = tokenize_conversation(tok, _answer_only(name), mask="prompt", fmt=case(name).format)
    masked, trained = _split(out)
    prompt = _prompt(tok, name)
    text = tok.decode(out["input_ids"])
    assert text.startswith(prompt)
    assert out["labels"][: len(masked)] == [IGNORE_INDEX] * len(masked)  # a prefix, not scattered
    # exactly the tokens overlapping the prompt's characters: the prompt itself, plus at most one token that
    # straddles its end (e.g. '\n\n' merging the prefilled '<think>\n' with the next newline)
    offsets = tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert len(masked) == sum(1 for a, _ in offsets if a < len(prompt))
    assert tok.decode(masked).startswith(prompt)
    if offsets[len(masked) - 1][1] == len(prompt):
        assert tok.decode(masked) == prompt


@pytest.mark.parametrize("name", NAMES)
def test_real_trace_stays_trained_in_every_mode(name):
    c = case(name)
    tok = make_tokenizer(name)
    msgs = _with_trace(name)
    spans = conversation_spans(tok, msgs, fmt=c.format, **c.enable_kwargs)
    assert spans.has_trace and spans.block is None
    assert REASONING in spans.text
    for mode in ("none", "think"):
        out = tokenize_conversation(tok, msgs, mask=mode, fmt=c.format, **c.enable_kwargs)
        assert out["labels"] == out["input_ids"]
    for mode in ("prompt", "prompt+think"):
        out = tokenize_conversation(tok, msgs, mask=mode, fmt=c.format, **c.enable_kwargs)
        masked, trained = _split(out)
        assert tok.decode(masked) == _prompt(tok, name, **c.enable_kwargs)
        response = tok.decode(trained)
        assert REASONING in response
        before, after = AROUND_ANSWER[name]
        assert response.endswith(before + ANSWER + after)
        assert _runs(out["labels"]) == 1


@pytest.mark.parametrize("name", NAMES)
def test_none_masks_nothing(name):
    tok = make_tokenizer(name)
    for msgs in (_answer_only(name), _with_trace(name)):
        out = tokenize_conversation(tok, msgs, mask="none", fmt=case(name).format)
        assert out["labels"] == out["input_ids"]
        assert out["attention_mask"] == [1] * len(out["input_ids"])


@pytest.mark.parametrize("name", ["qwen3", "qwq", "gpt_oss", "cohere", "glm45"])
def test_prompt_plus_think_is_the_union(name):
    tok = make_tokenizer(name)
    fmt = case(name).format
    res = {m: tokenize_conversation(tok, _answer_only(name), mask=m, fmt=fmt)["labels"]
           for m in ("think", "prompt", "prompt+think")}
    union = [IGNORE_INDEX if IGNORE_INDEX in (a, b) else a
             for a, b in zip(res["think"], res["prompt"], strict=True)]
    assert res["prompt+think"] == union


@pytest.mark.parametrize("name", ["qwen3", "smollm3", "exaone4", "hunyuan", "glm45", "deepseek_v31", "cohere"])
def test_disabled_mode_block_in_the_prompt(name):
    """With the template's off switch the block sits in the prompt: "think" masks it, "prompt" covers it."""
    c = case(name)
    tok = make_tokenizer(name)
    kw = c.disable_kwargs or {}
    spans = conversation_spans(tok, _answer_only(name), fmt=c.format, **kw)
    prompt = _prompt(tok, name, **kw)
    assert spans.text.startswith(prompt) and spans.prompt_end == len(prompt)
    a, b = spans.block
    assert a < spans.prompt_end <= b  # the block starts inside the prompt
    assert spans.text[a:b].strip()
    out = tokenize_conversation(tok, _answer_only(name), mask="prompt+think", fmt=c.format, **kw)
    before, after = AROUND_ANSWER[name]
    assert tok.decode(_split(out)[1]).strip() == (before + ANSWER + after).strip()


def test_qwen3_think_block_definition():
    """The block is the opener through the whitespace before the answer; the header newline is prompt."""
    tok = make_tokenizer("qwen3")
    s = conversation_spans(tok, _answer_only("qwen3"), fmt="qwen3")
    assert s.text[: s.prompt_end].endswith("<|im_start|>assistant\n")
    assert s.text[s.block[0]: s.block[1]] == "<think>\n\n</think>\n\n"
    assert s.block[1] == s.content_start and s.text[s.content_start:].startswith(ANSWER)
    assert not s.inserted


def test_glm_leading_newline_outside_the_prompt_belongs_to_the_block():
    tok = make_tokenizer("glm45")
    s = conversation_spans(tok, _answer_only("glm45"), fmt="glm")
    assert s.text[: s.prompt_end].endswith("<|assistant|>")
    assert s.text[s.block[0]: s.block[1]] == "\n<think></think>\n"


def test_prefilled_template_gets_its_opened_block_completed():
    tok = make_tokenizer("qwq")
    s = conversation_spans(tok, _answer_only("qwq"), fmt="qwq")
    prompt = _prompt(tok, "qwq")
    assert s.inserted and s.text.startswith(prompt) and prompt.endswith("<think>\n")
    assert s.text[len(prompt):].startswith("\n</think>\n\n" + ANSWER)


def test_insert_empty_block_false_keeps_the_template_rendering():
    tok = make_tokenizer("qwq")
    msgs = _answer_only("qwq")
    s = conversation_spans(tok, msgs, fmt="qwq", insert_empty_block=False)
    assert s.text == tok.apply_chat_template(msgs, tokenize=False)
    assert s.block is None
    out = tokenize_conversation(tok, msgs, mask="think", fmt="qwq", insert_empty_block=False)
    assert out["labels"] == out["input_ids"]
    # the template's own block (Qwen3) is still masked
    tok3 = make_tokenizer("qwen3")
    s3 = conversation_spans(tok3, _answer_only("qwen3"), fmt="qwen3", insert_empty_block=False)
    assert s3.text[s3.block[0]: s3.block[1]] == "<think>\n\n</think>\n\n"


@pytest.mark.parametrize("reasoning", ["", "  \n ", None])
def test_blank_reasoning_is_no_trace(reasoning):
    tok = make_tokenizer("qwen3")
    target = {"role": "assistant", "content": ANSWER}
    if reasoning is not None:
        target["reasoning_content"] = reasoning
    s = conversation_spans(tok, case("qwen3").messages() + [target], fmt="qwen3")
    assert not s.has_trace and s.text[s.block[0]: s.block[1]] == "<think>\n\n</think>\n\n"


@pytest.mark.parametrize("name", ["qwen3", "deepseek_r1", "magistral_2507", "olmo3"])
def test_inline_trace_in_content_is_a_real_trace(name):
    c = case(name)
    tok = make_tokenizer(name)
    spec_open, spec_close = ("[THINK]", "[/THINK]") if name == "magistral_2507" else ("<think>", "</think>")
    msgs = c.messages() + [{"role": "assistant", "content": f"{spec_open}{REASONING}{spec_close}{ANSWER}"}]
    out = tokenize_conversation(tok, msgs, mask="think", fmt=c.format)
    assert out["labels"] == out["input_ids"]
    assert REASONING in tok.decode(out["input_ids"])
    # an inline EMPTY block is no trace: it is masked
    msgs = c.messages() + [{"role": "assistant", "content": f"{spec_open}\n\n{spec_close}\n\n{ANSWER}"}]
    masked, _ = _split(tokenize_conversation(tok, msgs, mask="think", fmt=c.format))
    assert tok.decode(masked) == EMPTY_BLOCK[name]


def test_history_blocks_are_not_masked_only_the_targets():
    tok = make_tokenizer("glm45")  # history turns carry '\n<think></think>\n' too
    msgs = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]
    s = conversation_spans(tok, msgs, fmt="glm")
    assert s.text.count("<think></think>") == 2
    out = tokenize_conversation(tok, msgs, mask="think", fmt="glm")
    masked, trained = _split(out)
    assert tok.decode(masked) == "\n<think></think>\n"
    assert "Hello!" in tok.decode(trained) and "<think></think>" in tok.decode(trained)
    assert s.block[0] > s.text.index("Hello!")


def test_multiturn_qwen3_history_reasoning_is_passed_to_the_template():
    tok = make_tokenizer("qwen3")
    msgs = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!", "reasoning_content": "greet"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]
    s = conversation_spans(tok, msgs, fmt="qwen3")
    assert "greet" not in s.text  # Qwen3 drops history reasoning: the masker renders exactly what the model sees
    assert s.text[s.block[0]: s.block[1]] == "<think>\n\n</think>\n\n"


def _merging_tokenizer(extra: list[str]):
    from tokenizers import AddedToken

    tok = make_tokenizer("qwen3")
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in extra])
    return tok


def test_token_straddling_block_and_answer_is_masked():
    """Rule: a token is masked when it overlaps a masked span at all."""
    tok = _merging_tokenizer(["\n\nThe"])
    msgs = _answer_only("qwen3")
    out = tokenize_conversation(tok, msgs, mask="think", fmt="qwen3")
    masked, trained = _split(out)
    assert tok.decode(masked) == "<think>\n\n</think>\n\nThe"
    assert tok.decode(trained).endswith(" answer is 5.<|im_end|>\n")
    # the same token is trained when no span touches it
    out = tokenize_conversation(tok, msgs, mask="none", fmt="qwen3")
    assert "\n\nThe" in [tok.decode([i]) for i in out["input_ids"]]


def test_token_straddling_prompt_end_is_masked():
    tok = _merging_tokenizer(["\n<think>"])
    out = tokenize_conversation(tok, _answer_only("qwen3"), mask="prompt", fmt="qwen3")
    masked, trained = _split(out)
    assert tok.decode(masked).endswith("<|im_start|>assistant\n<think>")
    assert tok.decode(trained) == "\n\n</think>\n\n" + ANSWER + "<|im_end|>\n"


def test_truncation_keeps_labels_aligned():
    tok = make_tokenizer("qwen3")
    msgs = _answer_only("qwen3")
    full = tokenize_conversation(tok, msgs, fmt="qwen3")
    n = len(full["input_ids"])
    for k in (1, 5, n - 3, n, n + 10):
        cut = tokenize_conversation(tok, msgs, fmt="qwen3", max_length=k)
        assert cut["input_ids"] == full["input_ids"][:k]
        assert cut["labels"] == full["labels"][:k]
        assert len(cut["attention_mask"]) == min(k, n)


def test_tokenize_dataset_mixed_data_and_dropping():
    tok = make_tokenizer("qwen3")
    convs = [_answer_only("qwen3"), _with_trace("qwen3"), {"messages": _answer_only("qwen3")}]
    ds = tokenize_dataset(tok, convs, mask="prompt+think", fmt="qwen3")
    assert ds.column_names == ["input_ids", "attention_mask", "labels"] and len(ds) == 3
    for row, conv in zip(ds, [_answer_only("qwen3"), _with_trace("qwen3"), _answer_only("qwen3")], strict=True):
        assert row == tokenize_conversation(tok, conv, mask="prompt+think", fmt="qwen3")
    assert REASONING in tok.decode([i for i, lab in zip(ds[1]["input_ids"], ds[1]["labels"], strict=True)
                                    if lab != IGNORE_INDEX])
    # truncation inside the prompt leaves no trained token: such rows carry no loss and are dropped
    short = tokenize_dataset(tok, convs, mask="prompt+think", fmt="qwen3", max_length=4)
    assert len(short) == 0
    kept = tokenize_dataset(tok, convs, mask="prompt+think", fmt="qwen3", max_length=4, drop_fully_masked=False)
    assert len(kept) == 3


def test_tokenize_dataset_accepts_a_datasets_dataset_and_num_proc():
    import datasets

    tok = make_tokenizer("qwen3")
    rows = [_answer_only("qwen3"), _with_trace("qwen3")] * 3
    src = datasets.Dataset.from_dict({"messages": rows})
    serial = tokenize_dataset(tok, src, fmt="qwen3")
    assert serial["labels"] == tokenize_dataset(tok, rows, fmt="qwen3")["labels"]
    parallel = tokenize_dataset(tok, rows, fmt="qwen3", num_proc=2, batch_size=2)
    assert parallel["input_ids"] == serial["input_ids"] and parallel["labels"] == serial["labels"]


def test_format_is_detected_when_not_given():
    tok = make_tokenizer("qwen3")
    out = tokenize_conversation(tok, _answer_only("qwen3"), mask="think")
    assert tok.decode(_split(out)[0]) == "<think>\n\n</think>\n\n"


def test_errors():
    tok = make_tokenizer("qwen3")
    with pytest.raises(ValueError, match="last message"):
        tokenize_conversation(tok, case("qwen3").messages(), fmt="qwen3")
    with pytest.raises(ValueError, match="mask mode"):
        tokenize_conversation(tok, _answer_only("qwen3"), mask="answer", fmt="qwen3")
    with pytest.raises(ChatTemplateError, match="no chat template"):
        tokenize_conversation(make_tokenizer(None), _answer_only("qwen3"), fmt="qwen3")

    class Slow:
        is_fast = False

    with pytest.raises(TypeError, match="fast"):
        tokenize_conversation(Slow(), _answer_only("qwen3"), fmt="qwen3")
    with pytest.raises(ValueError, match="padding_side"):
        PaddingCollator(0, padding_side="middle")


# ------------------------------------------------------------------------------------------------- collator


def test_collator_right_and_left_padding():
    feats = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [-100, 6, 7]},
        {"input_ids": [8], "attention_mask": [1], "labels": [8]},
    ]
    right = PaddingCollator(pad_token_id=0)(feats)
    assert right["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert right["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert right["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    left = PaddingCollator(pad_token_id=0, padding_side="left", pad_to_multiple_of=4)(feats)
    assert left["input_ids"].tolist() == [[0, 5, 6, 7], [0, 0, 0, 8]]
    assert left["attention_mask"].tolist() == [[0, 1, 1, 1], [0, 0, 0, 1]]
    assert left["labels"].tolist() == [[-100, -100, 6, 7], [-100, -100, -100, 8]]
    assert str(left["input_ids"].dtype) == "torch.int64"
    bare = PaddingCollator(pad_token_id=9, label_pad_id=-1)([{"input_ids": [1, 2]}, {"input_ids": [3]}])
    assert bare["labels"].tolist() == [[1, 2], [3, -1]] and bare["attention_mask"].tolist() == [[1, 1], [1, 0]]
    with pytest.raises(ValueError, match="length"):
        PaddingCollator(0)([{"input_ids": [1, 2], "labels": [1]}])


def test_collator_for_tokenizer_uses_eos_without_pad():
    tok = make_tokenizer("qwen3")
    assert tok.pad_token_id is None
    assert PaddingCollator.for_tokenizer(tok).pad_token_id == tok.eos_token_id


# ------------------------------------------------------------------------------------------------- training


def _tiny_model(vocab_size: int):
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    cfg = Qwen3Config(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=512,
                      tie_word_embeddings=True)
    return Qwen3ForCausalLM(cfg)


def _train_set(tok, n: int = 4):
    convs = [_answer_only("qwen3"), _with_trace("qwen3")] * (n // 2)
    return tokenize_dataset(tok, convs, mask="prompt+think", fmt="qwen3")


def _args(tmp_path, cls=None, **kw):
    from transformers import TrainingArguments

    cls = cls or TrainingArguments
    return cls(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2, learning_rate=1e-3,
               report_to=[], save_strategy="no", logging_steps=1, use_cpu=True, disable_tqdm=True,
               dataloader_num_workers=0, **kw)


def _losses(trainer) -> list[float]:
    return [h["loss"] for h in trainer.state.log_history if "loss" in h]


def test_trainer_runs_on_the_pretokenized_dataset(tmp_path):
    from transformers import Trainer

    tok = make_tokenizer("qwen3")
    model = _tiny_model(len(tok))
    before = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    trainer = Trainer(model=model, args=_args(tmp_path), train_dataset=_train_set(tok),
                      data_collator=PaddingCollator.for_tokenizer(tok))
    trainer.train()
    losses = _losses(trainer)
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    assert not model.model.layers[0].self_attn.q_proj.weight.detach().equal(before)


def test_trainer_runs_with_a_peft_lora_model(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer

    tok = make_tokenizer("qwen3")
    model = get_peft_model(_tiny_model(len(tok)), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                            task_type="CAUSAL_LM"))
    trainer = Trainer(model=model, args=_args(tmp_path, remove_unused_columns=False), train_dataset=_train_set(tok),
                      data_collator=PaddingCollator.for_tokenizer(tok))
    trainer.train()
    assert all(math.isfinite(x) for x in _losses(trainer))
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.detach().abs().sum() > 0 for p in lora_b)  # B starts at zero: it moved


@pytest.mark.parametrize("skip_prepare", [False, True])
def test_trl_sft_trainer_accepts_the_pretokenized_dataset(tmp_path, skip_prepare):
    from trl import SFTConfig, SFTTrainer

    tok = make_tokenizer("qwen3")
    tok.pad_token = tok.eos_token
    ds = _train_set(tok)
    extra = {"dataset_kwargs": {"skip_prepare_dataset": True}} if skip_prepare else {}
    args = _args(tmp_path, cls=SFTConfig, max_length=None, **extra)
    trainer = SFTTrainer(model=_tiny_model(len(tok)), args=args, train_dataset=ds, processing_class=tok)
    # TRL sees an input_ids column as already processed and keeps our labels
    assert trainer.train_dataset["labels"] == ds["labels"]
    trainer.train()
    assert all(math.isfinite(x) for x in _losses(trainer))


def test_binary_search_labels_match_the_scan_and_the_tokenizer():
    import random

    from lm_eval_thinkpack import masking

    tok = make_tokenizer("qwen3")
    text = conversation_spans(tok, _with_trace("qwen3"), fmt="qwen3").text
    (ids, offsets), = masking._tokenize(tok, [text])
    ref = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert ids == ref["input_ids"] and [tuple(o) for o in offsets] == [tuple(o) for o in ref["offset_mapping"]]
    rng = random.Random(0)
    for _ in range(200):
        spans = sorted({tuple(sorted(rng.sample(range(len(text) + 1), 2))) for _ in range(rng.randint(0, 3))})
        assert masking._labels_from(ids, masking._ranges_sorted(offsets, spans), None) == \
            masking._labels_from(ids, masking._ranges_scan(offsets, spans), None)
    zero_width = [(0, 1), (1, 1), (1, 2)]
    for ranges in (masking._ranges_sorted, masking._ranges_scan):
        assert masking._labels_from([7, 8, 9], ranges(zero_width, [(1, 2)]), None) == [7, -100, -100]


# ------------------------------------------------------------------------------------------ fast paths (bench)


@pytest.mark.parametrize("name", ["qwen3", "gpt_oss", "cohere", "deepseek_v31", "granite32"])
def test_tokenize_dataset_fast_path_matches_the_per_conversation_path(name):
    """The serial dataset path (lazy offsets, token ranges, Arrow columns from flat arrays) gives exactly the rows
    and column types of the per-conversation path and of ``datasets.Dataset.from_dict``."""
    import datasets

    tok = make_tokenizer(name)
    convs = mixed_conversations(name) * 2
    for mode in ("none", "think", "prompt", "prompt+think"):
        for max_length in (None, 9, 10_000):
            ds = tokenize_dataset(tok, convs, mask=mode, max_length=max_length, drop_fully_masked=False,
                                  batch_size=4)
            rows = [tokenize_conversation(tok, c, mask=mode, max_length=max_length) for c in convs]
            assert ds.to_list() == rows
            assert ds.features == datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in rows[0]}).features
            kept = tokenize_dataset(tok, convs, mask=mode, max_length=max_length)
            assert kept.to_list() == [r for r in rows if any(lab != IGNORE_INDEX for lab in r["labels"])]


def test_lazy_offsets_give_the_same_token_ranges_as_the_offsets_list():
    import random

    from lm_eval_thinkpack import masking

    tok = make_tokenizer("qwen3")
    text = conversation_spans(tok, _with_trace("qwen3"), fmt="qwen3").text + " é 数 🙂"
    enc = tok.backend_tokenizer.encode(text, add_special_tokens=False)
    lazy = masking._Offsets(enc)
    assert len(lazy) == len(enc.offsets) and list(lazy) == [tuple(o) for o in enc.offsets]
    assert lazy[::3] == enc.offsets[::3] and lazy[-1] == enc.offsets[-1]
    rng = random.Random(0)
    for _ in range(200):
        spans = sorted({tuple(sorted(rng.sample(range(len(text) + 1), 2))) for _ in range(rng.randint(0, 3))})
        assert masking._ranges_sorted(lazy, spans) == masking._ranges_sorted(enc.offsets, spans)
        labels = masking._labels_from(enc.ids, masking._ranges_sorted(enc.offsets, spans), None)
        assert masking._labels_from(enc.ids, masking._ranges_scan(enc.offsets, spans), None) == labels
        assert masking._labels_from(enc.ids, masking._ranges_sorted(lazy, spans), None) == labels
    assert masking._fully_masked(0, []) and masking._fully_masked(3, [(0, 2), (1, 5)])
    assert not masking._fully_masked(3, [(0, 1), (2, 3)]) and not masking._fully_masked(2, [(1, 2)])


def test_tokenizer_with_truncation_settings_takes_the_tokenizer_call():
    tok = make_tokenizer("qwen3")
    convs = [_with_trace("qwen3"), _answer_only("qwen3")]
    plain = tokenize_dataset(tok, convs, fmt="qwen3")
    tok.backend_tokenizer.enable_truncation(4096)  # tokenizer(...) resets it; calling the backend directly would not
    assert tokenize_dataset(tok, convs, fmt="qwen3").to_list() == plain.to_list()


def test_labels_unchanged_on_every_fixture():
    """input_ids/labels of every fixture x kwargs x insert x mode (and a dataset per fixture, and the demo
    tokenizer on the demo's data) equal the digests stored before the template layer was refactored."""
    import json

    from tests.template_regression import DIGESTS, demo_digests, masking_digests

    stored = json.loads(DIGESTS.read_text())
    now = masking_digests()
    assert set(now) == set(stored["masking"])
    assert {k for k in now if now[k] != stored["masking"][k]} == set()
    assert demo_digests() == stored["demo"]


# ------------------------------------------------------------------------- targets: trace, response, turns, index

TARGETS = ("prompt", "think", "trace", "response")


def _trained_text(tok, out: dict) -> str:
    return tok.decode(_split(out)[1])


@pytest.mark.parametrize("name", NAMES)
def test_prompt_plus_trace_trains_exactly_the_answer_a_real_trace_is_kept_in_the_input(name):
    """A given trace is in the input but not trained: what is trained is what prompt+think trains on answer-only."""
    c = case(name)
    tok = make_tokenizer(name)
    out = tokenize_conversation(tok, _with_trace(name), mask="prompt+trace", fmt=c.format, **c.enable_kwargs)
    before, after = AROUND_ANSWER[name]
    assert _trained_text(tok, out) == before + ANSWER + after
    assert REASONING in tok.decode(out["input_ids"])
    assert _runs(out["labels"]) == 1


@pytest.mark.parametrize("name", NAMES)
def test_prompt_plus_response_trains_exactly_the_trace_block(name):
    c = case(name)
    tok = make_tokenizer(name)
    msgs = _with_trace(name)
    s = conversation_spans(tok, msgs, fmt=c.format, **c.enable_kwargs)
    a, b = s.trace
    assert REASONING in s.text[a:b] and s.text[b:].startswith(AROUND_ANSWER[name][0] + ANSWER)
    out = tokenize_conversation(tok, msgs, mask="prompt+response", fmt=c.format, **c.enable_kwargs)
    expected = s.text[max(a, s.prompt_end):b]  # a prefilled opener stays with the prompt
    got = _trained_text(tok, out)
    assert expected.endswith(got) and got.strip() == expected.strip()
    # answer-only: the empty block alone is trained
    s0 = conversation_spans(tok, _answer_only(name), fmt=c.format)
    out0 = tokenize_conversation(tok, _answer_only(name), mask="prompt+response", fmt=c.format)
    expected = s0.text[max(s0.block[0], s0.prompt_end):s0.block[1]]
    got = _trained_text(tok, out0)  # a token straddling the prompt's end ('\n\n' after '<think>\n') is prompt
    assert expected.endswith(got) and got.strip() == expected.strip()


@pytest.mark.parametrize("name", NAMES)
def test_every_target_masked_trains_nothing_and_none_trains_everything(name):
    c = case(name)
    tok = make_tokenizer(name)
    for msgs in (_answer_only(name), _with_trace(name)):
        out = tokenize_conversation(tok, msgs, mask="response+trace+think+prompt", fmt=c.format, **c.enable_kwargs)
        assert set(out["labels"]) == {IGNORE_INDEX}
    # the answer-only example has no trace, the traced one no empty block: each leaves the other trained
    out = tokenize_conversation(tok, _answer_only(name), mask="prompt+trace+response", fmt=c.format,
                                **c.enable_kwargs)
    assert _trained_text(tok, out).strip() != ""
    out = tokenize_conversation(tok, _with_trace(name), mask="prompt+think+response", fmt=c.format,
                                **c.enable_kwargs)
    assert REASONING in _trained_text(tok, out)


def test_mask_names_are_checked_and_order_free():
    from lm_eval_thinkpack.masking import mask_targets

    assert mask_targets("none") == frozenset()
    assert mask_targets("trace+prompt") == mask_targets("prompt+trace") == {"prompt", "trace"}
    tok = make_tokenizer("qwen3")
    for bad in ("answer", "prompt+", "prompt+prompt", "none+think", "Prompt", ""):
        with pytest.raises(ValueError, match="mask mode"):
            tokenize_conversation(tok, _answer_only("qwen3"), mask=bad, fmt="qwen3")
    with pytest.raises(ValueError, match="turns"):
        tokenize_conversation(tok, _answer_only("qwen3"), turns="some", fmt="qwen3")
    with pytest.raises(TypeError, match="ignore_index"):
        tokenize_conversation(tok, _answer_only("qwen3"), ignore_index="-100", fmt="qwen3")


def test_ignore_index_is_used_for_labels_dataset_and_collator():
    tok = make_tokenizer("qwen3")
    convs = [_answer_only("qwen3"), _with_trace("qwen3")]
    ref = [tokenize_conversation(tok, m, fmt="qwen3") for m in convs]
    own = [tokenize_conversation(tok, m, fmt="qwen3", ignore_index=-1) for m in convs]
    for r, o in zip(ref, own, strict=True):
        assert o["labels"] == [-1 if lab == IGNORE_INDEX else lab for lab in r["labels"]] and -1 in o["labels"]
    ds = tokenize_dataset(tok, convs, fmt="qwen3", ignore_index=-1)
    assert ds["labels"] == [o["labels"] for o in own]
    padded = PaddingCollator.for_tokenizer(tok, label_pad_id=-1)([own[0], own[1]])
    assert -100 not in padded["labels"].tolist()[0]


def _multi_turn(name: str) -> list[dict]:
    return case(name).messages() + [
        {"role": "assistant", "content": "Hello A.", "reasoning": "First thought."},
        {"role": "user", "content": "And 3 + 4?"},
        {"role": "assistant", "content": "Middle B."},
        {"role": "user", "content": "And 5 + 5?"},
        {"role": "assistant", "content": ANSWER, "reasoning": REASONING},
    ]


def _trained_runs(tok, out: dict) -> list[str]:
    runs, cur = [], []
    for i, lab in zip(out["input_ids"], out["labels"], strict=True):
        if lab != IGNORE_INDEX:
            cur.append(i)
        elif cur:
            runs.append(tok.decode(cur))
            cur = []
    return runs + ([tok.decode(cur)] if cur else [])


@pytest.mark.parametrize("name", NAMES)
def test_turns_all_trains_every_assistant_turn_with_its_own_reasoning(name):
    c = case(name)
    tok = make_tokenizer(name)
    msgs = _multi_turn(name)
    out = tokenize_conversation(tok, msgs, mask="prompt", fmt=c.format, turns="all", **c.enable_kwargs)
    runs = _trained_runs(tok, out)
    assert len(runs) == 3  # one run per assistant turn; the user turns and headers between them are prompt
    for run, answer in zip(runs, ("Hello A.", "Middle B.", ANSWER), strict=True):
        assert answer in run and "And " not in run and QUESTION not in run
    assert "First thought." in runs[0] and REASONING in runs[2]
    # the given traces kept in the input and not trained: each turn trains its answer (and end of turn) only
    out = tokenize_conversation(tok, msgs, mask="prompt+trace", fmt=c.format, turns="all", **c.enable_kwargs)
    runs = _trained_runs(tok, out)
    text = tok.decode(out["input_ids"])
    assert "First thought." in text and REASONING in text
    assert not any("First thought." in r or REASONING in r for r in runs)
    before, after = AROUND_ANSWER[name]
    assert runs[-1] == before + ANSWER + after  # the last turn exactly as turns="last" trains it
    assert [a for a in ("Hello A.", "Middle B.", ANSWER) if any(a in r for r in runs)] == ["Hello A.", "Middle B.",
                                                                                             ANSWER]
    # turns="last" trains the last turn only
    last = tokenize_conversation(tok, msgs, mask="prompt+trace", fmt=c.format, **c.enable_kwargs)
    assert _trained_runs(tok, last) == [before + ANSWER + after]


def test_turns_all_think_masks_the_empty_block_the_template_writes_in_history():
    tok = make_tokenizer("glm45")  # an answer-only history turn carries '\n<think></think>\n'
    msgs = _multi_turn("glm45")
    plain = _trained_runs(tok, tokenize_conversation(tok, msgs, mask="prompt", fmt="glm", turns="all"))
    think = _trained_runs(tok, tokenize_conversation(tok, msgs, mask="prompt+think", fmt="glm", turns="all"))
    assert plain[1] == "\n<think></think>\nMiddle B." and think[1] == "Middle B."
    assert plain[0] == think[0] and plain[2] == think[2]
    s = conversation_spans(tok, msgs, fmt="glm", turns="all")
    assert [s.text[a:b] for a, b in s.spans("response")] == ["Hello A.", "Middle B.", ANSWER]


def test_turns_all_on_a_single_turn_is_turns_last():
    for name in ("qwen3", "gpt_oss", "cohere"):
        tok = make_tokenizer(name)
        for msgs in (_answer_only(name), _with_trace(name)):
            for mode in ("prompt+think", "prompt+trace", "response"):
                assert tokenize_conversation(tok, msgs, mask=mode, turns="all", fmt=case(name).format) == \
                    tokenize_conversation(tok, msgs, mask=mode, fmt=case(name).format)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NAMES), st.sets(st.sampled_from(TARGETS)), st.sets(st.sampled_from(TARGETS)),
       st.integers(0, 5), st.sampled_from(["last", "all"]), st.sampled_from([IGNORE_INDEX, -1, -7]))
def test_masking_property_targets_combine_as_a_union(name, a, b, which, turns, ignore):
    """Labels of a '+'-joined mask are the union of its targets' labels, whatever the order, template, turns,
    ignore_index or conversation; masking never changes input_ids; the empty set trains every token; an untrained
    token's label is ignore_index and a trained one's is its id."""
    c = case(name)
    tok = make_tokenizer(name)
    convs = mixed_conversations(name) + [_multi_turn(name)]
    msgs = convs[which % len(convs)]

    def labels(targets):
        mode = "+".join(sorted(targets, key=lambda t: hash(t) % 7)) or "none"
        return tokenize_conversation(tok, msgs, mask=mode, fmt=c.format, turns=turns, ignore_index=ignore)

    la, lb, lab = labels(a), labels(b), labels(a | b)
    assert la["input_ids"] == lb["input_ids"] == lab["input_ids"]
    assert lab["labels"] == [ignore if ignore in (x, y) else x
                             for x, y in zip(la["labels"], lb["labels"], strict=True)]
    assert all(x in (ignore, i) for x, i in zip(lab["labels"], lab["input_ids"], strict=True))
    if not a:
        assert la["labels"] == la["input_ids"]
    if a == set(TARGETS):
        assert set(la["labels"]) <= {ignore}


# --------------------------------------------------------- a family with several spellings: the one the template writes

@pytest.mark.parametrize("kwargs", [{}, {"thinking_mode": "disabled"}, {"thinking_mode": "adaptive"}])
def test_minimax_m3_answer_only_turn_gets_one_closer_of_the_templates_spelling(kwargs):
    """MiniMax-M3 writes <mm:think> (its source also names <think>, to cut M2 content) and renders an answer-only
    turn as a bare '</mm:think>' after a prompt that opened the block. Before: '<mm:think>\\n\\n</think>\\n\\n'
    was inserted in front of the template's '</mm:think>', which was then trained."""
    tok = make_tokenizer("minimax_m3")
    msgs = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": ANSWER}]
    s = conversation_spans(tok, msgs, fmt="minimax", **kwargs)
    reply = s.text[s.text.rindex("]~b]ai\n") + len("]~b]ai\n"):]
    assert "</think>" not in s.text and "<think>" not in s.text
    assert reply.count("</mm:think>") == 1 and reply.startswith("<mm:think>\n") and reply.endswith(ANSWER + "[e~[\n")
    out = tokenize_conversation(tok, msgs, fmt="minimax", mask="prompt+think", **kwargs)
    assert tok.decode(_split(out)[1]) == ANSWER + "[e~[\n"
    assert tok.decode(_split(tokenize_conversation(tok, msgs, fmt="minimax", mask="think", **kwargs))[0]) == \
        s.text[s.block[0]:s.block[1]]


def test_minimax_m3_prompts_and_traces_use_mm_think():
    from lm_eval_thinkpack.chat import render_prompt, template_style

    tok = make_tokenizer("minimax_m3")
    from lm_eval_thinkpack.formats import get_format

    assert template_style(tok, get_format("minimax")).open == "<mm:think>"
    msgs = [{"role": "user", "content": QUESTION}]
    assert render_prompt(tok, msgs, fmt="minimax", thinking=False).endswith("]~b]ai\n<mm:think>\n\n</mm:think>\n\n")
    traced = msgs + [{"role": "assistant", "content": ANSWER, "reasoning": REASONING}]
    out = tokenize_conversation(tok, traced, fmt="minimax", mask="prompt+trace")
    assert tok.decode(_split(out)[1]) == ANSWER + "[e~[\n"
    out = tokenize_conversation(tok, traced, fmt="minimax", mask="prompt+response")
    assert tok.decode(_split(out)[1]) == REASONING + "\n</mm:think>\n\n"


def test_a_tokenizer_that_changes_the_delimiters_is_warned_about_once():
    """As thinkpack warns for transformers 5.3-5.12 (#45488): encode then decode must give the delimiter back."""
    import warnings

    from tokenizers import normalizers

    from lm_eval_thinkpack.chat import DelimiterRoundTripWarning, check_round_trip
    from lm_eval_thinkpack.formats import get_format

    tok = make_tokenizer("magistral_2506")  # '[THINK]' is plain text here, so the normalizer reaches it
    tok.backend_tokenizer.normalizer = normalizers.Lowercase()
    with pytest.warns(DelimiterRoundTripWarning, match=r"'\[THINK\]'"):
        out = tokenize_conversation(tok, _answer_only("magistral_2506"), fmt="magistral")
    assert out["input_ids"]
    assert "[THINK]" in check_round_trip(tok, get_format("magistral"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per tokenizer and family
        tokenize_conversation(tok, _answer_only("magistral_2506"), fmt="magistral")
        for name in NAMES:  # every fixture tokenizer round-trips its family's delimiters
            assert check_round_trip(make_tokenizer(name), get_format(case(name).format)) == []


def test_a_tokenizer_that_drops_spaces_is_warned_about():
    """transformers#45488 (5.3-5.12) drops the spaces of some byte-level tokenizers: '<think>' still round-trips,
    plain text does not. Before: no warning (only the delimiters were checked); thinkpack warns on plain text."""
    from tokenizers import decoders

    from lm_eval_thinkpack.chat import ROUND_TRIP_TEXT, DelimiterRoundTripWarning, check_round_trip
    from lm_eval_thinkpack.formats import get_format

    tok = make_tokenizer("qwen3")
    tok.backend_tokenizer.decoder = decoders.Sequence([decoders.Replace("\u0120", ""), decoders.ByteLevel()])
    assert tok.decode(tok.encode("<think>", add_special_tokens=False)) == "<think>"
    with pytest.warns(DelimiterRoundTripWarning, match="plain text"):
        assert check_round_trip(tok, get_format("qwen3")) == [ROUND_TRIP_TEXT]
