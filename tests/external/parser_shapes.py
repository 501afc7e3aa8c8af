"""Output shapes transcribed from the serving engines' own reasoning-parser tests, with what the engine returns.

Each shape is written out here by hand (no test code copied): the model output a test of vLLM
(``tests/reasoning/test_<parser>_reasoning_parser.py``) or SGLang (``test/srt/test_reasoning_parser.py``) feeds
to the parser, and the (reasoning, content) it asserts for the non-streaming path. ``prefilled`` is the prompt
state that engine's parser assumes for the shape (a parser that starts inside the trace reads a generation of a
prefilled prompt). The test beside this file classifies every shape with our family and compares.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    source: str  # "<engine> <parser>: <the test's case name>"
    family: str
    text: str
    prefilled: bool
    reasoning: str | None  # what the engine returns (None: no reasoning)
    content: str | None


_R = "This is a reasoning section"
_REST = "This is the rest"
_TOOL = "<tool_call>\n<function=bash>\n<parameter=command>\ncat /etc/hosts\n</parameter>\n</function>\n</tool_call>"
_HY_OPEN, _HY_MID, _HY_END = "<think>\n", "\n</think>\n<answer>\n", "\n</answer>"
_CMD_CALL = ('<|START_ACTION|>\n[\n    {"tool_call_id": "0", "tool_name": "foo", "parameters": {"query": "query1"}}\n]'
             "\n<|END_ACTION|>")

SHAPES: tuple[Shape, ...] = (
    # vLLM deepseek_r1 (the parser starts inside the trace: a prefilled prompt)
    Shape("vllm deepseek_r1: simple_reasoning", "deepseek_r1", f"{_R}</think>{_REST}", True, _R, _REST),
    Shape("vllm deepseek_r1: complete_reasoning", "deepseek_r1", f"{_R}</think>", True, _R, None),
    Shape("vllm deepseek_r1: no_content_token", "deepseek_r1", "This is content", True, "This is content", None),
    Shape("vllm deepseek_r1: multiple_lines", "deepseek_r1", "This\nThat</think>This is the rest\nThat", True,
          "This\nThat", "This is the rest\nThat"),
    Shape("vllm deepseek_r1: shortest", "deepseek_r1", f"</think>{_REST}", True, "", _REST),
    Shape("vllm deepseek_r1: reasoning_with_think", "deepseek_r1", f"<think>{_R}</think>{_REST}", True, _R, _REST),
    Shape("vllm deepseek_r1: complete_reasoning_with_think", "deepseek_r1", f"<think>{_R}</think>", True, _R, None),
    Shape("vllm deepseek_r1: multiple_lines_with_think", "deepseek_r1",
          "<think>This\nThat</think>This is the rest\nThat", True, "This\nThat", "This is the rest\nThat"),
    Shape("vllm deepseek_r1: think_no_end", "deepseek_r1", f"<think>{_R}", True, _R, None),
    Shape("vllm deepseek_r1: empty", "deepseek_r1", "", True, "", None),
    Shape("vllm deepseek_r1: new_line", "deepseek_r1", f"\n<think>{_R}</think>\n{_REST}", True, _R, f"\n{_REST}"),
    # vLLM qwen3 (Qwen3.5 / Thinking-2507 prefill <think>; the hybrid writes it)
    Shape("vllm qwen3: without_start_token", "qwen3", f"{_R}</think>{_REST}", True, _R, _REST),
    Shape("vllm qwen3: without_start_token_complete_reasoning", "qwen3", f"{_R}</think>", True, _R, None),
    Shape("vllm qwen3: with_think", "qwen3", f"<think>{_R}</think>{_REST}", False, _R, _REST),
    Shape("vllm qwen3: without_think", "qwen3", _REST, True, _REST, None),
    Shape("vllm qwen3: complete_reasoning", "qwen3", f"<think>{_R}</think>", False, _R, None),
    Shape("vllm qwen3: multiline_reasoning", "qwen3", "<think>This is a reasoning\nsection</think>This is the rest\n"
          "That", False, "This is a reasoning\nsection", "This is the rest\nThat"),
    Shape("vllm qwen3: only_open_tag", "qwen3", f"<think>{_R}", False, _R, None),
    Shape("vllm qwen3: truncated_no_start_token", "qwen3", _R, True, _R, None),
    Shape("vllm qwen3: tool_call_no_think_end", "qwen3", "I need to read the file.\n\n" + _TOOL, True,
          "I need to read the file.\n\n", _TOOL),
    Shape("vllm qwen3: tool_call_with_think_no_end", "qwen3", "<think>I need to read the file.\n\n" + _TOOL, False,
          "I need to read the file.\n\n", _TOOL),
    Shape("vllm qwen3: thinking_disabled_plain_content", "qwen3", "This is plain content", False, None,
          "This is plain content"),
    Shape("vllm qwen3: thinking_disabled_with_tool_call", "qwen3", "I need to read the file.\n\n" + _TOOL, False,
          None, "I need to read the file.\n\n" + _TOOL),
    # vLLM hunyuan_a13b (answer wrapped in <answer>; the parser unwraps it)
    Shape("vllm hunyuan_a13b: no_reasoning_quick", "hunyuan", f"{_HY_OPEN}{_HY_MID}{_REST}{_HY_END}", False, None,
          _REST),
    Shape("vllm hunyuan_a13b: simple_reasoning", "hunyuan", f"{_HY_OPEN}{_R}{_HY_MID}{_REST}{_HY_END}", False, _R,
          _REST),
    Shape("vllm hunyuan_a13b: complete_reasoning", "hunyuan", f"{_HY_OPEN}{_R}{_HY_MID}", False, _R, None),
    Shape("vllm hunyuan_a13b: complete_reasoning_with_symbol", "hunyuan", f"{_HY_OPEN}{_R}!{_HY_MID}", False,
          _R + "!", None),
    Shape("vllm hunyuan_a13b: no_reasoning", "hunyuan", "This is content", False, None, "This is content"),
    Shape("vllm hunyuan_a13b: multiple_lines", "hunyuan", f"{_HY_OPEN}This\nThat{_HY_MID}This is the rest\nThat",
          False, "This\nThat", "This is the rest\nThat"),
    Shape("vllm hunyuan_a13b: reasoning_with_think", "hunyuan", f"{_HY_OPEN}{_R}{_HY_MID}{_REST}", False, _R, _REST),
    # vLLM cohere_command3/4 (through melody): a tool call after the trace, and inline citations
    Shape("vllm cohere_command3: single_tool_call", "cohere",
          f"<|START_THINKING|> i will call foo with query1<|END_THINKING|>{_CMD_CALL}", False,
          "i will call foo with query1", _CMD_CALL),
    Shape("vllm cohere_command4: single_tool_call", "cohere",
          f"<|START_THINKING|> i will call foo with query1<|END_THINKING|>{_CMD_CALL}", True,
          "i will call foo with query1", _CMD_CALL),
    Shape("vllm cohere_command3: citations_with_emoji", "cohere",
          "<|START_THINKING|>This is a rainbow <co>emoji: \U0001f308</co: 0:[1]><|END_THINKING|>\n"
          "<|START_RESPONSE|>foo <co>bar</co: 0:[1,2],1:[3,4]><|END_RESPONSE|>", False,
          "This is a rainbow emoji: \U0001f308", "foo bar"),
    Shape("vllm cohere_command4: citations_with_emoji", "cohere",
          "<|START_THINKING|>This is a rainbow <co>emoji: \U0001f308</co: 0:[1]><|END_THINKING|>\n"
          "<|START_RESPONSE|>foo <co>bar</co: 0:[1,2],1:[3,4]><|END_RESPONSE|>", True,
          "This is a rainbow emoji: \U0001f308", "foo bar"),
    # SGLang detectors
    Shape("sglang base: normal_text", "qwen3", "This is normal text", False, None, "This is normal text"),
    Shape("sglang base: with_start_token", "qwen3", "<think>This is reasoning", False, "This is reasoning", None),
    Shape("sglang base: complete_reasoning", "qwen3", "<think>This is reasoning</think>This is normal", False,
          "This is reasoning", "This is normal"),
    Shape("sglang base: force_reasoning", "think", "This should be reasoning", True, "This should be reasoning",
          None),
    Shape("sglang deepseek-r1: r1_format", "deepseek_r1", "I need to think about this. The answer is 42.", True,
          "I need to think about this. The answer is 42.", None),
    Shape("sglang deepseek-r1: with_end_token", "deepseek_r1",
          "I think this is the answer</think>The final answer is 42.", True, "I think this is the answer",
          "The final answer is 42."),
    Shape("sglang deepseek-r1: with_start_token (R1-0528)", "deepseek_r1",
          "<think>I need to think about this.</think>The answer is 42.", True, "I need to think about this.",
          "The answer is 42."),
    Shape("sglang qwen3: qwen3_format", "qwen3", "<think>Let me think about this problem</think>The answer is 42.",
          False, "Let me think about this problem", "The answer is 42."),
    Shape("sglang qwen3: without_thinking", "qwen3", "Direct answer without thinking.", False, None,
          "Direct answer without thinking."),
    Shape("sglang qwen3-thinking: forced_reasoning_format", "qwen3",
          "I need to think about this step by step.</think>The answer is 42.", True,
          "I need to think about this step by step.", "The answer is 42."),
    Shape("sglang kimi: kimi_format", "kimi", "◁think▷Let me consider this carefully◁/think▷The answer is 42.",
          False, "Let me consider this carefully", "The answer is 42."),
    Shape("sglang kimi: no_thinking", "kimi", "Direct answer without thinking tokens.", False, None,
          "Direct answer without thinking tokens."),
    Shape("sglang olmo3: olmo3_format", "olmo3", "<think>Reason through it</think>The answer is 42.", False,
          "Reason through it", "The answer is 42."),
    Shape("sglang olmo3: without_tags", "olmo3", "Direct output without reasoning markers.", False, None,
          "Direct output without reasoning markers."),
    Shape("sglang olmo3: truncated_reasoning", "olmo3", "<think>Reasoning without closing tag", False,
          "Reasoning without closing tag", None),
)

# Where the engine's reading and ours differ on purpose (the reason, by source): a shape listed here must
# still differ exactly this way, and every other shape must agree.
DOCUMENTED: dict[str, str] = {
}
