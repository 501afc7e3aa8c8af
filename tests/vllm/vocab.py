"""A byte-level BPE tokenizer built in-process (no Hub) whose vocabulary holds every delimiter as one entry.

vLLM's parsers look their start/end tokens up in ``tokenizer.get_vocab()`` at construction and refuse to
start without them; olmo3's parser wants a byte-level BPE (it decodes token pieces). Every byte is its own
base token (no merges), and each delimiter is an added token, so a delimiter in a text is always one id.
"""

from __future__ import annotations

import re

from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from lm_eval_thinkpack.formats import FORMATS

# Markers vLLM 0.32's parsers resolve to ids besides our own families' delimiters (read from their sources).
VLLM_MARKERS = (
    "<think>", "</think>", "<response>", "</response>", "<tool_call>", "</tool_call>", "<answer>", "</answer>",
    "<tool_calls>", "</tool_calls>", "<seed:think>", "</seed:think>", "<seed:tool_call>", "</seed:tool_call>",
    "<seed:bos>", "<seed:eos>", "<mm:think>", "</mm:think>", "<minimax:tool_call>", "</minimax:tool_call>",
    "<ifm|think>", "</ifm|think>", "<ifm|think_fast>", "</ifm|think_fast>", "<ifm|think_faster>",
    "</ifm|think_faster>", "<ifm|tool_calls>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>",
    "<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|return|>", "<|constrain|>", "<|call|>",
    "<|START_THINKING|>", "<|END_THINKING|>", "<|START_TEXT|>", "<|END_TEXT|>", "<|START_RESPONSE|>",
    "<|END_RESPONSE|>", "<|START_ACTION|>", "<|END_ACTION|>", "<|CHATBOT_TOKEN|>",
    "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", "<|tool_response>", "<|turn>", "<turn|>", "<eos>",
    "<|open|>", "<|close|>", "<|sep|>", "<|im_start|>", "<|im_end|>", "<|observation|>", "<|assistant|>",
    "<assistant>",  # poolside_v1 scopes its prompt scan at this start-of-message token
    "<|user|>", "<|system|>", "<|tool_call|>", "<|eom|>", "<|eot|>", "<|end_message|>", "<|message_model|>",
    "<|content_text|>", "<|content_thinking|>", "<|content_invoke_tool_json|>", "<|content_invoke_tool_text|>",
    "<|content_model_end_sampling|>", "<|content_tool_error|>",
    "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>", "<|tool_call_begin|>", "<|tool_call_end|>",
    "<|tool_call_argument_begin|>",
    "<|plamo:begin_think:plamo|>", "<|plamo:end_think:plamo|>", "<|plamo:begin_tool_requests:plamo|>",
    "<|plamo:end_tool_requests:plamo|>", "<|plamo:begin_tool_request:plamo|>", "<|plamo:end_tool_request:plamo|>",
    "<|plamo:begin_tool_name:plamo|>", "<|plamo:end_tool_name:plamo|>", "<|plamo:end_tool_arguments:plamo|>",
    "<|plamo:tag|>", "[THINK]", "[/THINK]", "[TOOL_CALLS]", "[ARGS]", "<｜DSML｜function_calls>",
    "</｜DSML｜function_calls>", "<｜DSML｜tool_calls>", "</｜DSML｜tool_calls>", "<｜DSML｜invoke>",
    "</｜DSML｜invoke>", "<｜DSML｜parameter>", "</｜DSML｜parameter>",
    "<|begin_of_sentence|>", "<|end_of_sentence|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
)


def delimiter_vocabulary() -> tuple[str, ...]:
    """Every delimiter and marker: our registry's (all spellings, answer wrappers, implicit closes) and vLLM's."""
    ours: list[str] = []
    for fmt in FORMATS.values():
        for d in fmt.delimiters:
            ours += [*d.open, *d.close, *(w for pair in d.wrappers for w in pair if w)]
        ours += [ic.marker for ic in fmt.implicit_close]
    # multi-token shapes (gpt-oss "<|end|><|start|>assistant...") are split into their <|...|> pieces
    pieces = [p for s in ours for p in special_pieces(s)]
    return tuple(dict.fromkeys((*VLLM_MARKERS, *pieces)))


def special_pieces(s: str) -> list[str]:
    """A tag is one entry; a harmony-style run of ``<|x|>`` tags is its tags; plain phrases are left to BPE."""
    pieces = _PIECE.findall(s)
    if pieces:
        return pieces
    return [s] if (s[0], s[-1]) in _TAG_ENDS else []


_PIECE = re.compile(r"<\|[^|<>]+\|>")
_TAG_ENDS = {("<", ">"), ("[", "]"), ("◁", "▷")}


# olmo3's parser looks up how a byte-level BPE splits "</think>" written as text: "</" (or "Ġ</" after a
# space), "think", ">". These merges make those pieces real tokens of this BPE.
MERGES = (("<", "/"), ("Ġ", "</"), ("t", "h"), ("th", "i"), ("thi", "n"), ("thin", "k"))


def build_tokenizer():
    """A ``PreTrainedTokenizerFast`` over a byte-level BPE: 256 byte tokens plus the delimiters as added tokens."""
    from transformers import PreTrainedTokenizerFast

    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    for a, b in MERGES:
        vocab.setdefault(a + b, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=list(MERGES), unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end_of_sentence|>",
                                   bos_token="<|begin_of_sentence|>")
    fast.add_tokens(list(delimiter_vocabulary()))
    return fast
