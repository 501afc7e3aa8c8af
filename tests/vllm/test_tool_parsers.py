"""An implicit close is the shape the engine's *tool* parser reads: each family's tool call, fed to vLLM 0.32's
tool parser for that family, is a call (name and arguments), and our classifier ends an open trace at it.

Issue 21: Hunyuan-A13B expected '<tool_calls>' then '<tool_call>' (HY 3/4's grammar), which its engine's
``hunyuan_a13b`` tool parser never reads (it reads a JSON array); its real calls read as more reasoning. Every
family with an implicit close is checked here against the tool parser of its engine, or named in ``NOT_CHECKED``
with the reason; and wherever vLLM's reasoning grammar for a family leaves reasoning at a tool call, the family has
an implicit close there (read from the grammar, ``NOT_CLOSED`` names the exceptions and why).
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.formats import BUILTIN_FORMATS, FORMATS

DSML = "\uff5cDSML\uff5c"
XML = "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>"
JSON_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
GLM = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>"
HY = "<tool_calls>\n<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key><arg_value>Paris</arg_value>\n" \
     "</tool_call>\n</tool_calls>"
MINICPM5 = '<function name="get_weather"><param name="city">Paris</param></function>'
MUSE = 'to=get_weather<|message|><atem:function_calls>\n<atem:invoke name="get_weather">\n<atem:parameter ' \
       'name="city">Paris</atem:parameter>\n</atem:invoke>\n</atem:function_calls><|eom|>'

# (family, vLLM tool parser, a call in the shape that parser reads)
CALLS: list[tuple[str, str, str]] = [
    ("qwen3", "qwen3_xml", XML), ("qwen3", "qwen3_coder", XML), ("qwen3", "hermes", JSON_CALL),
    ("qwen3", "qwen3_json", JSON_CALL), ("nemotron", "qwen3_coder", XML), ("mimo", "mimo", XML),
    ("minicpmv", "qwen3_coder", XML),  # MiniCPM-V registers no tool parser: it writes Qwen3-Coder XML
    ("minicpm5", "minicpm5", MINICPM5),
    ("seed_oss", "seed_oss", XML.replace("tool_call>", "seed:tool_call>")),  # the Qwen3 grammar, its own wrapper
    ("minimax", "minimax_m2", '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris'
                              "</parameter>\n</invoke>\n</minimax:tool_call>"),
    ("magistral", "mistral", '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}'),
    ("kimi_k3", "kimi_k3", '<|open|>tools<|sep|><|open|>call tool="get_weather" index="1"<|sep|><|open|>argument '
                           'key="city" type="string"<|sep|>Paris<|close|>argument<|sep|><|close|>call<|sep|>'
                           "<|close|>tools<|sep|>"),
    # a call block ends with the token that also ends a thinking block: the call, not that token, ends the trace
    ("inkling", "inkling", '<|message_model|><|content_invoke_tool_json|>{"name": "get_weather", "args": '
                           '{"city": "Paris"}}<|end_message|>'),
    ("muse", "muse_glimmer", MUSE), ("muse", "muse_glimmer", "<|start|>assistant " + MUSE),
    ("granite4", "granite4", JSON_CALL), ("glm", "glm45", GLM), ("glm47", "glm47", GLM), ("ling3", "ling3", GLM),
    ("kimi_k2", "kimi_k2", "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
                           '<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'),
    ("hunyuan", "hunyuan_a13b", '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>'),
    ("hy", "hy_v3", HY), ("hy", "hy_v4", HY.replace("<tool_sep>", "")),  # HY 4 drops HY 3's name separator
    ("apertus", "apertus", '<|tools_prefix|>[{"get_weather": {"city": "Paris"}}]<|tools_suffix|>'),
    ("gemma4", "gemma4", '<|tool_call>call:get_weather{city:<|"|>Paris<|"|>}<tool_call|>'),
    *(("deepseek_v4", "deepseek_v4", f'<{DSML}{start}>\n<{DSML}invoke name="get_weather">\n<{DSML}parameter '
                                     f'name="city" string="true">Paris</{DSML}parameter>\n</{DSML}invoke>\n'
                                     f"</{DSML}tool_calls>") for start in ("tool_calls", "toolcalls", "tool")),
    # Cohere's tool parsers run inside melody's unified parser (see _extract)
    *(("cohere", parser, '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": '
                         '{"city": "Paris"}}]<|END_ACTION|>') for parser in ("cohere_command3", "cohere_command4")),
    ("deepseek_v4", "deepseek_v41", f'<{DSML} calls>\n<{DSML} invoke name="get_weather">\n<{DSML} parameter '
                                    f'name="city" string="true">Paris</{DSML} parameter>\n</{DSML} invoke>\n'
                                    f"</{DSML} calls>"),
    ("plamo3", "plamo3", "<|plamo:begin_tool_requests:plamo|><|plamo:begin_tool_request:plamo|>"
                         "<|plamo:begin_tool_name:plamo|>get_weather<|plamo:end_tool_name:plamo|>"
                         "<|plamo:end_tool_request:plamo|><|plamo:end_tool_requests:plamo|>"),
    ("k2_horizon", "k2_horizon", "<ifm|tool_calls><ifm|tool_call>get_weather<ifm|arg_key>city</ifm|arg_key>"
                                 "<ifm|arg_value>Paris</ifm|arg_value></ifm|tool_call></ifm|tool_calls>"),
]

# Families with an implicit close whose call is not fed to a tool parser here, and why.
NOT_CHECKED: dict[str, str] = {
    "solar_open2": "its tool parser (solar_open2) is newer than this vLLM (0.32)",
}

EXTRA_TOKENS = ["<tool_sep>", "<|tools_prefix|>", "<|tools_suffix|>", '<|"|>', "<ifm|tool_call>", "</ifm|tool_call>",
                "</ifm|tool_calls>", "<ifm|arg_key>", "</ifm|arg_key>", "<ifm|arg_value>", "</ifm|arg_value>",
                "<ifm|arg_type>", "</ifm|arg_type>"]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


@pytest.fixture(scope="module")
def tool_tokenizer():
    from .vocab import build_tokenizer

    tok = build_tokenizer()
    tok.add_tokens(EXTRA_TOKENS)
    return tok


# Tool parsers whose extract_tool_calls is not implemented on its own: they run inside vLLM's unified serving parser
UNIFIED = ("cohere_command3", "cohere_command4")


def _extract(tool_tokenizer, parser: str, text: str):
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.tool_parsers import ToolParserManager

    request = ChatCompletionRequest(model="tiny", messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS)
    if parser in UNIFIED:
        from vllm.parser.parser_manager import ParserManager

        cls = ParserManager.get_parser(reasoning_parser_name=parser, tool_parser_name=parser, enable_auto_tools=True,
                                       tokenizer=tool_tokenizer)
        _reasoning, content, calls = cls(tool_tokenizer).parse(text, request)
        return SimpleNamespace(tools_called=bool(calls), content=content,
                               tool_calls=[SimpleNamespace(function=c) for c in calls or ()])
    return ToolParserManager.get_tool_parser(parser)(tool_tokenizer).extract_tool_calls(text, request)


def test_every_family_with_an_implicit_close_is_checked_or_says_why() -> None:
    checked = {f for f, _, _ in CALLS}
    with_close = {name for name, f in FORMATS.items() if f.implicit_close and name in BUILTIN_FORMATS}
    assert with_close - checked - set(NOT_CHECKED) == set(), "families whose tool grammar no test reads"
    assert not checked & set(NOT_CHECKED)


@pytest.mark.parametrize(("family", "parser", "call"), CALLS, ids=[f"{f}-{p}" for f, p, _ in CALLS])
def test_the_implicit_close_is_a_call_the_engines_tool_parser_reads(tool_tokenizer, family, parser, call) -> None:
    fmt = FORMATS[family]
    ours = [ic for ic in fmt.implicit_close
            if call.startswith(ic.marker) and re.compile(ic.follows).match(call, len(ic.marker))]
    assert ours, f"{family}: none of its implicit closes reads {call[:40]!r}"
    trace = classify("Need the weather.\n" + call, fmt, prefilled=True)
    assert (trace.status.value, trace.closed_by, trace.reasoning, trace.answer) == \
        ("valid", "implicit", "Need the weather.", call)
    got = _extract(tool_tokenizer, parser, call)
    assert got.tools_called and [c.function.name for c in got.tool_calls] == ["get_weather"], (parser, got)
    args = json.loads(got.tool_calls[0].function.arguments or "{}")
    assert {k: v.strip() for k, v in args.items()} in ({"city": "Paris"}, {}), args  # plamo3's sample has none


def test_hunyuan_and_hy_each_read_only_their_own_engines_call(tool_tokenizer) -> None:
    """The two Tencent dialects, crossed: A13B's engine does not read HY's blocks, and HY's close does not fire on
    A13B's array (before, hunyuan closed on HY's shape only)."""
    a13b = next(c for f, p, c in CALLS if p == "hunyuan_a13b")
    assert not _extract(tool_tokenizer, "hunyuan_a13b", HY).tools_called
    assert classify("<think>Need the weather.\n" + HY, "hunyuan").status.value == "truncated"
    assert classify("<think>Need the weather.\n" + a13b, "hy").status.value == "truncated"


def test_minicpm5_and_minicpmv_each_read_only_their_own_engines_call(tool_tokenizer) -> None:
    """Issue 21: MiniCPM 5 was read as MiniCPM-V, whose close (Qwen3's <tool_call>) its engine's minicpm5 tool
    parser never reads; MiniCPM 5's '<function name=...>' call is no call to MiniCPM-V's qwen3_coder either."""
    assert not _extract(tool_tokenizer, "minicpm5", XML).tools_called
    assert not _extract(tool_tokenizer, "qwen3_coder", MINICPM5).tools_called
    assert classify("Need the weather.\n" + XML, "minicpm5", prefilled=True).status.value == "truncated"
    assert classify("Need the weather.\n" + MINICPM5, "minicpmv", prefilled=True).status.value == "truncated"


# (family, vLLM reasoning parser) where the parser ends reasoning at a tool-call start that ends no trace of ours
NOT_CLOSED: dict[tuple[str, str], str] = {
    ("step3", "step3p5"): "step3p5 also ends reasoning at Qwen3's <tool_call>; Step3 (and a generic prefilled <think> "
                          "template) keeps no implicit close so that detection still reads such templates as the "
                          "generic format (formats.py notes; use trace_format='qwen3' with a prefilled prompt)",
    ("minicpm5", "minicpmv"): "MiniCPM 5 has no parser of its own; minicpmv's Qwen3 grammar ends at <tool_call>, a "
                              "call MiniCPM 5 never writes (its close is the '<function name=...>' its tool parser "
                              "reads)",
}


def _reasoning_ends_at(parser: str) -> set[str]:
    """The tool-call starts at which vLLM's engine-based reasoning parser leaves reasoning for a tool call (its
    transitions from REASONING into a tool state), read from its grammar; empty for parsers without one."""
    from vllm.parser.engine.parser_engine_config import ParserState

    from . import differential as D

    engine = getattr(D.parser_for(D.Pair("", parser, D.THINKING_ON.get(parser, {}))), "_parser_engine", None)
    cfg = getattr(engine, "parser_engine_config", None)
    if cfg is None:
        return set()
    starts: set[str] = set()
    for (state, terminal), move in cfg.transitions.items():
        if state == ParserState.REASONING and move.next_state.name.startswith("TOOL"):
            spelled = cfg.terminals[terminal]
            starts |= {spelled} if isinstance(spelled, str) else set(spelled)
    return starts


def test_every_tool_call_that_ends_reasoning_in_vllm_ends_our_trace() -> None:
    """Issue 21 as a class: wherever vLLM 0.32's reasoning grammar for a family leaves reasoning at a tool call, the
    family has an implicit close at that call (before: seed_oss '<seed:tool_call>', minimax '<minimax:tool_call>',
    magistral '[TOOL_CALLS]' and DeepSeek V4's third spelling '<|DSML|tool>' ended nothing here)."""
    from . import differential as D

    missing = {}
    for pair in D.pairs():
        ours = {ic.marker for ic in FORMATS[pair.family].implicit_close}
        gaps = _reasoning_ends_at(pair.parser) - ours
        if gaps and (pair.family, pair.parser) not in NOT_CLOSED:
            missing[pair.id] = sorted(gaps)
    assert not missing, f"vLLM ends reasoning at these tool calls, we do not: {missing}"
    closed = {(p.family, p.parser) for p in D.pairs() if _reasoning_ends_at(p.parser)}
    assert set(NOT_CLOSED) <= closed, "a NOT_CLOSED entry names a pair whose parser ends reasoning at no tool call"
    assert len(closed) >= 19, sorted(closed)  # the grammar is read, not an empty set from a renamed attribute
