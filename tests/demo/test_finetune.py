"""The demo fine-tuning data: answer-only conversations, and what each variant trains (through masking.py)."""

from __future__ import annotations

import pytest

from lm_eval_thinkpack.demo.build_model import build_tokenizer
from lm_eval_thinkpack.demo.finetune import HELD_OUT_TASKS, IN_DOMAIN_TASK, answer_only_conversations
from lm_eval_thinkpack.masking import tokenize_conversation


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def trained_text(tokenizer, row):
    return tokenizer.decode([t for t in row["labels"] if t != -100])


CONV = [{"role": "user", "content": "What is the largest digit in 2719?"}, {"role": "assistant", "content": "9"}]


def test_naive_trains_the_template_inserted_empty_block(tokenizer):
    row = tokenize_conversation(tokenizer, CONV, mask="prompt")
    assert trained_text(tokenizer, row) == "<think>\n\n</think>\n\n9<|im_end|>\n"
    assert len(row["input_ids"]) == len(row["labels"]) == len(row["attention_mask"])


def test_masked_never_trains_the_think_block(tokenizer):
    row = tokenize_conversation(tokenizer, CONV, mask="prompt+think")
    assert trained_text(tokenizer, row) == "9<|im_end|>\n"
    think_ids = set(tokenizer.convert_tokens_to_ids(["<think>", "</think>"]))
    assert not think_ids & {t for t in row["labels"] if t != -100}


def test_mask_think_keeps_a_real_trace_and_the_prompt_trained(tokenizer):
    conv = [CONV[0], {"role": "assistant", "content": "9", "reasoning_content": "2>2 7>7 1>7 9>9"}]
    row = tokenize_conversation(tokenizer, conv, mask="think")
    text = trained_text(tokenizer, row)
    assert text.startswith("<|im_start|>user\nWhat is the largest digit in 2719?")
    assert "2>2" in text, "a real trace stays trained"
    assert text.endswith("assistant\n<think>\n2>2 7>7 1>7 9>9\n</think>\n\n9<|im_end|>\n")
    with pytest.raises(ValueError):
        tokenize_conversation(tokenizer, conv, mask="bogus")


def test_answer_only_conversations_have_no_trace():
    convs = answer_only_conversations(IN_DOMAIN_TASK, 5, seed=1)
    assert convs == answer_only_conversations(IN_DOMAIN_TASK, 5, seed=1)
    assert all(c[1]["role"] == "assistant" and "reasoning_content" not in c[1] for c in convs)
    assert IN_DOMAIN_TASK not in HELD_OUT_TASKS
