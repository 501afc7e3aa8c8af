"""Reasoning and answer lengths (``lm_eval_thinkpack.tokens``): counted with real tokenizers (the tests' byte-level
BPE fixtures, the demo model's tokenizer), equal to ``len(tokenizer.encode(text, add_special_tokens=False))``,
whitespace words (labelled) where no tokenizer is known."""

from __future__ import annotations

import json

import pytest

from lm_eval_thinkpack.classify import classify
from lm_eval_thinkpack.tokens import (
    BATCH,
    TOKENS,
    WORDS,
    Lengths,
    count_lengths,
    count_texts,
    counter_from_ref,
    length_summary,
    lengths_by_class,
    load_tokenizer,
    no_answer,
    percentile,
    tokenizer_ref,
    word_count,
)
from tests.chat_fixtures import make_tokenizer

TEXTS = ["Let me add 17 and 25: 17 + 25 = 42.", "", "   ", "naïve café — 東京 🙂", "<think>", "x" * 3000,
         "a\n\nb\tc"]


@pytest.mark.parametrize("template", ["qwen3", None])
def test_counts_equal_the_tokenizers_own_encode(template):
    tok = make_tokenizer(template)
    expected = [len(tok.encode(t, add_special_tokens=False)) if t.strip() else 0 for t in TEXTS]
    assert count_texts(TEXTS, tok) == expected
    assert count_texts(TEXTS, tok.backend_tokenizer) == expected  # a raw tokenizers.Tokenizer counts the same
    assert expected[0] > len(TEXTS[0].split())  # BPE pieces, not words


def test_more_texts_than_one_batch_keep_their_order():
    tok = make_tokenizer("qwen3")
    texts = [("word " * (i % 7)).strip() for i in range(BATCH * 2 + 5)]
    assert count_texts(texts, tok) == [len(tok.encode(t, add_special_tokens=False)) for t in texts]


def test_demo_models_tokenizer_counts():
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR

    tok = load_tokenizer(str(MODEL_DIR))
    assert load_tokenizer(str(MODEL_DIR)) is tok  # loaded once per process
    trace = classify("<think>\n17 + 25 = 42\n</think>\n42", "think")
    [n] = count_lengths([trace], tok)
    assert n == Lengths(len(tok.encode(trace.reasoning, add_special_tokens=False)),
                        len(tok.encode("42", add_special_tokens=False)), TOKENS)


def test_without_a_tokenizer_lengths_are_words_and_say_so():
    traces = [classify(t, "think") for t in ("<think>one two three</think> four five", "<think>cut off here",
                                            "no trace at all", "<think> </think>")]
    assert count_lengths(traces) == [Lengths(3, 2, WORDS), Lengths(3, 0, WORDS), Lengths(0, 4, WORDS),
                                     Lengths(0, 0, WORDS)]
    assert count_lengths([("a b", None)]) == [Lengths(2, 0, WORDS)]  # (reasoning, answer) pairs work too


def test_padding_or_truncation_left_on_the_backend_does_not_change_counts():
    # a padded batch call (generate's) can leave both switched on: counts must not be the longest text's or capped
    tok = make_tokenizer("qwen3")
    tok.pad_token = tok.eos_token or "<|endoftext|>"
    expected = [len(tok.encode(t, add_special_tokens=False)) if t.strip() else 0 for t in TEXTS]
    backend = tok.backend_tokenizer
    backend.enable_padding(pad_id=0, pad_token=tok.pad_token, length=4096)
    backend.enable_truncation(max_length=8)
    assert count_texts(TEXTS, tok) == expected
    assert backend.padding["length"] == 4096 and backend.truncation["max_length"] == 8  # put back as they were


def test_refuses_what_is_not_a_tokenizer():
    with pytest.raises(TypeError, match="cannot count tokens with a int"):
        count_texts(["x"], 3)


def test_no_answer_is_a_valid_trace_with_nothing_after_it():
    assert no_answer(classify("<think>plan</think>\n\n", "think"))
    assert not no_answer(classify("<think>plan</think>42", "think"))
    assert not no_answer(classify("<think></think>", "think"))  # empty trace: not this failure
    assert not no_answer(classify("<think>plan", "think"))  # truncated: no answer by definition
    assert no_answer(classify("<think>plan</think><answer> </answer>", "hunyuan"))  # a blank wrapped answer


def test_summaries_mean_median_p90():
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)  # numpy's linear method
    assert length_summary([3, 1, 2]) == {"n": 3, "mean": 2.0, "median": 2.0, "p90": pytest.approx(2.8)}
    assert length_summary([]) == {"n": 0, "mean": None, "median": None, "p90": None}
    table = lengths_by_class(["valid", "missing", "valid"], [10, 0, 30], [2, 5, None])
    assert list(table) == ["valid", "missing", "all"]
    assert table["valid"]["reasoning"]["mean"] == 20.0 and table["valid"]["answer"]["n"] == 1
    assert table["all"]["reasoning"]["median"] == 10.0


def test_refs_name_a_tokenizer_and_fall_back_to_words(caplog):
    from lm_eval_thinkpack.demo.pipeline import MODEL_DIR

    assert tokenizer_ref(None) == "" and counter_from_ref("").unit == WORDS
    ref = tokenizer_ref(str(MODEL_DIR))
    assert json.loads(ref)["name"] == str(MODEL_DIR) and counter_from_ref(ref).unit == TOKENS
    bad = tokenizer_ref("/no/such/model/dir", local_files_only=True)
    with caplog.at_level("WARNING"):
        assert counter_from_ref(bad).unit == WORDS
    assert "whitespace words instead" in caplog.text


def test_word_count_is_str_split_on_long_and_odd_texts():
    import random

    rng = random.Random(0)
    alphabet = ["a", "bc", " ", "  ", "\n", "\t", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "7", "=", "é", "\xa0",
                "\u2003", "東"]
    texts = ["", " ", "x", " x" * 400, "x " * 400, "\n" * 600, "a" * 700]
    for _ in range(300):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 1500))))
    texts += [t.encode("ascii", "ignore").decode() for t in texts]  # ASCII-only copies take the array path
    assert [word_count(t) for t in texts] == [len(t.split()) for t in texts]
