"""Trace formats as data: how each open reasoning family marks its trace in decoded text.

A family is one ``TraceFormat`` entry in ``FORMATS``. Nothing else in the package branches on a family name:
the classifier, the detector and the masker read these fields. Adding a family is one entry plus its test
cases (``tests/test_families.py``). Facts come from ``shared/reference/trace_conventions.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Delimiters:
    """One way a family writes its trace. ``open``/``close`` list spellings that mean the same tag.

    ``anchored`` openers only count at the very start of the generation (after whitespace): used for
    shapes such as gpt-oss decoded without special tokens, whose opener ("analysis") is an ordinary word.
    ``close_pattern`` is a regular expression for closers that are a small grammar rather than one string
    (the gpt-oss harmony header of the next non-analysis message, up to its ``<|message|>``); the match
    is the closer, and the literal ``close`` spellings still count too.
    ``answer_open``/``answer_close`` wrap the final answer for families that do so (Hunyuan ``<answer>``,
    Sky-T1 ``<|begin_of_solution|>``); ``answer_alt`` lists further (open, close) wrappers of the same
    family (Cohere writes ``<|START_RESPONSE|>`` or ``<|START_TEXT|>``). The classifier unwraps them,
    with or without a trace before the answer. ``close_needs_open``: the closer ends every kind of block
    (Inkling ``<|end_message|>``, Muse ``<|eom|>``), so without an opener or a prefilled prompt it closes
    no trace.
    """

    open: tuple[str, ...]
    close: tuple[str, ...]
    anchored: bool = False
    answer_open: str | None = None
    answer_close: str | None = None
    label: str = ""
    close_pattern: str | None = None
    answer_alt: tuple[tuple[str | None, str | None], ...] = ()
    close_needs_open: bool = False

    def __post_init__(self) -> None:
        if not self.close or not all(self.close):
            raise ValueError(f"Delimiters {self.label!r}: at least one non-empty closing delimiter is required")
        if not all(self.open):
            raise ValueError(f"Delimiters {self.label!r}: opening delimiters must be non-empty strings")
        if self.close_pattern is not None:
            re.compile(self.close_pattern)  # a bad pattern fails at definition, not mid-evaluation

    @property
    def wrappers(self) -> tuple[tuple[str | None, str | None], ...]:
        """Every (answer_open, answer_close) pair, the primary one first; empty when the answer is bare."""
        first = ((self.answer_open, self.answer_close),) if self.answer_open or self.answer_close else ()
        return first + tuple(w for w in self.answer_alt if w not in first)


@dataclass(frozen=True, slots=True)
class ImplicitClose:
    """A marker that ends an unclosed trace because the model started a tool call instead of closing it.

    ``follows`` is a regular expression the text right after the marker must match (``re.match``): the
    start of a real call in the family's tool grammar (``<function=`` or a JSON object after Qwen3's
    ``<tool_call>``). A mere mention of the marker in the reasoning, "I could use <tool_call> here", is
    not followed by a call and leaves the trace open. The serving engines see token ids, so a typed
    mention never matches their special token; decoded text needs this check instead.
    """

    marker: str
    follows: str = r"\s*\S"

    def __post_init__(self) -> None:
        if not self.marker:
            raise ValueError("ImplicitClose: the marker must be a non-empty string")
        re.compile(self.follows)


# vLLM reasoning-parser names that appeared after 0.32 (the version the differential tier installs), with the
# release that added them; every other name in ``TraceFormat.vllm_parsers`` is in vLLM 0.32. 0.33's ``beam`` reads
# the checkpoint's response template (Beam's is harmony-shaped); ``muse``/``musespark1x`` are the Muse Spark profile.
# "main": read in vLLM's main branch after 0.33.0 (in no release yet): solar_open2 (Upstage Solar Open2).
VLLM_PARSERS_SINCE: dict[str, str] = {"beam": "0.33", "muse": "0.33", "musespark1x": "0.33", "step5": "0.33",
                                      "solar_open2": "main"}


@dataclass(frozen=True, slots=True)
class TraceFormat:
    """A reasoning family's trace conventions plus the chat-template facts needed to read a prompt.

    ``delimiters`` are tried in order; the first alternative whose tags occur in a generation is used.
    ``thinking_switch`` names the chat-template kwarg that turns thinking on or off (None: always on), and
    ``switch_values`` are its (on, off) values (None leaves the template's default; Seed-OSS switches with a
    thinking budget, unlimited by default, 0 for off). ``disabled_insert`` is what the switched-off
    generation prompt carries after the assistant header, so the generation carries no tags ("thinking
    disabled", a configuration, not a collapse). ``soft_switch`` is the (on, off) pair of markers a user can
    type into a message (Qwen3 ``/think`` ``/no_think``). ``special_delimiters`` is True when the delimiters
    are special tokens that ``skip_special_tokens=True`` drops from decoded text. ``implicit_close`` lists
    markers that end an unclosed trace (a tool call the model starts instead of closing its trace).
    A plain string given there is read as ``ImplicitClose(marker)``.
    ``prefilled`` is the family's usual template habit (None when it depends on kwargs or the version); the
    prompt itself decides, see ``classify.prompt_is_prefilled``.

    ``vllm_parsers`` / ``sglang_detectors`` name the serving engines' parsers for this family (vLLM
    ``--reasoning-parser`` names up to 0.33, those newer than 0.32 listed in ``VLLM_PARSERS_SINCE``; SGLang
    0.5.23 ``ReasoningParser.DetectorMap`` keys), so a report or a differential test can line the two up.
    ``template_markers`` are literal strings whose presence in a chat template's source tells this family
    apart from look-alikes that share its delimiters (detection uses them to break ties; a template without any
    of them counts strongly against this family). ``template_hints`` name the family when present but say nothing
    when absent (a default system prompt, a tool grammar only some versions use).
    ``inline_markup`` lists regular expressions for markup the family writes inside its reasoning and answer that
    belongs to neither (Cohere's citations ``<co>text</co: 0:[1]>``): the matches are taken out of
    ``Trace.reasoning`` and ``Trace.answer``, the text they wrap stays (as the engines' parsers return it).
    """

    name: str
    description: str
    delimiters: tuple[Delimiters, ...]
    aliases: tuple[str, ...] = ()
    prefilled: bool | None = False
    thinking_switch: str | None = None
    thinking_default: bool = True
    disabled_insert: str | None = None
    special_delimiters: bool = False
    implicit_close: tuple[ImplicitClose, ...] = ()
    soft_switch: tuple[str, str] | None = None
    switch_values: tuple[object, object] = (True, False)
    notes: str = ""
    vllm_parsers: tuple[str, ...] = ()
    sglang_detectors: tuple[str, ...] = ()
    template_markers: tuple[str, ...] = ()
    vocab_suffix: str | None = None
    template_hints: tuple[str, ...] = ()
    inline_markup: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not self.delimiters:
            raise ValueError("TraceFormat needs a name and at least one Delimiters alternative")
        closes = tuple(ImplicitClose(c) if isinstance(c, str) else c for c in self.implicit_close)
        object.__setattr__(self, "implicit_close", closes)
        if self.vocab_suffix is not None:
            re.compile(self.vocab_suffix)
        for pattern in self.inline_markup:
            if re.compile(pattern).search(""):
                raise ValueError(f"TraceFormat {self.name!r}: inline_markup {pattern!r} matches the empty string")

    @property
    def open(self) -> str:
        """The canonical opening delimiter (first spelling of the first alternative)."""
        first = self.delimiters[0]
        return first.open[0] if first.open else ""

    @property
    def close(self) -> str:
        """The canonical closing delimiter."""
        return self.delimiters[0].close[0]

    @property
    def all_open(self) -> tuple[str, ...]:
        """Every unanchored opener spelling of every alternative (used to read prompts)."""
        return tuple(dict.fromkeys(o for d in self.delimiters if not d.anchored for o in d.open))

    @property
    def all_close(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for d in self.delimiters for c in d.close))


@dataclass(frozen=True, slots=True)
class ModelRule:
    """Fallback mapping from a model id to a format, used when no chat template can be read."""

    pattern: str
    format: str
    prefilled: bool | None = None
    thinking_default: bool | None = None
    special_delimiters: bool | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern, re.IGNORECASE))

    def matches(self, model_id: str) -> bool:
        return self._regex.search(model_id) is not None


def _d(open_: str | Iterable[str], close: str | Iterable[str], **kw: object) -> Delimiters:
    as_tuple = (lambda v: (v,) if isinstance(v, str) else tuple(v))  # noqa: E731
    return Delimiters(open=as_tuple(open_), close=as_tuple(close), **kw)  # type: ignore[arg-type]


THINK = _d("<think>", "</think>", label="think")

# Tool calls that end an unclosed trace, each with the start of the call its grammar requires after the marker.
QWEN3_CALL = ImplicitClose("<tool_call>", r"\s*(?:<function=|\{)")  # Qwen3 XML (<function=NAME>) or JSON
GLM_CALL = ImplicitClose("<tool_call>", r"\s*[^\s<>]+\s*(?:<arg_key>|</tool_call>)")  # GLM: name, then args
KIMI_K2_CALL = ImplicitClose("<|tool_calls_section_begin|>", r"\s*<\|tool_call_begin\|>")
# Hunyuan-A13B's tool parser (vLLM hunyuan_a13b) reads a JSON array of {"name", "arguments"} objects inside
# <tool_calls>...</tool_calls>; HY 3/4 (vLLM hy_v3/hy_v4) write <tool_call> blocks inside <tool_calls> instead.
HUNYUAN_A13B_CALL = ImplicitClose("<tool_calls>", r"\s*\[\s*\{")
HY_CALL = ImplicitClose("<tool_calls>", r"\s*<tool_call>")
# MiniCPM 5's tool parser (vLLM minicpm5, start token '<function') reads '<function name="NAME">' blocks of
# '<param name="KEY">' values, no wrapper (its tokenizer may glue '<functionname=', which the parser reads too);
# MiniCPM-V writes Qwen3-Coder XML in <tool_call> instead.
MINICPM5_CALL = ImplicitClose("<function", r"\s*name=[\"'][^\"'<>]+[\"'][^<>]*>")

_FORMATS: tuple[TraceFormat, ...] = (
    TraceFormat(
        "think", "Generic <think>...</think> (R1-style); the default.", (THINK,),
        aliases=("default", "r1", "openthinker"), prefilled=None,
        sglang_detectors=("iquest_q1",),
    ),
    TraceFormat(
        "qwen3", "Qwen3 hybrid (2504) and Qwen3-*-Thinking-2507 / Qwen3.5 (prefilled).", (THINK,),
        aliases=("qwen", "qwen3_thinking", "qwen3.5"), prefilled=None, thinking_switch="enable_thinking",
        disabled_insert="<think>\n\n</think>\n\n", implicit_close=(QWEN3_CALL,),
        notes="<think>/</think> are added tokens with special=false: they survive skip_special_tokens.",
        soft_switch=("/think", "/no_think"),
        vllm_parsers=("qwen3",), sglang_detectors=("qwen3", "qwen3-thinking", "dots", "nanbeige", "interns1"),
    ),
    TraceFormat(
        "qwq", "QwQ-32B: prompt ends '<|im_start|>assistant\\n<think>\\n'.", (THINK,),
        aliases=("qwq32b",), prefilled=True,
        vllm_parsers=("deepseek_r1",), sglang_detectors=("deepseek-r1",),
    ),
    TraceFormat(
        "deepseek_r1", "DeepSeek-R1 and R1-Distill; the Feb-2025 template prefills '<think>\\n'.", (THINK,),
        aliases=("r1_distill", "deepseek-r1"), prefilled=True,
        vllm_parsers=("deepseek_r1",), sglang_detectors=("deepseek-r1", "gigachat35"),
    ),
    TraceFormat(
        "deepseek_v3", "DeepSeek-V3.1/V3.2 hybrid: thinking=True prefills '<think>'; off inserts '</think>'.",
        (THINK,), aliases=("deepseek_v31", "deepseek_v32"), prefilled=None, thinking_switch="thinking",
        thinking_default=False, disabled_insert="</think>",
        vllm_parsers=("deepseek_v3",), sglang_detectors=("deepseek-v3",),
    ),
    TraceFormat(
        "phi4_reasoning", "Phi-4-reasoning(-plus); its forced system prompt itself contains the tags.", (THINK,),
        aliases=("phi4", "phi-4-reasoning"),
    ),
    TraceFormat(
        "gpt_oss", "gpt-oss harmony: analysis channel, then a final or commentary (tool call) message; special tokens.",
        (
            _d("<|channel|>analysis<|message|>",
               ("<|end|><|start|>assistant<|channel|>final<|message|>", "<|start|>assistant<|channel|>final<|message|>",
                "<|channel|>final<|message|>"),
               # the next message's header, whatever its channel other than analysis, recipient or constraint:
               # [<|end|>][<|start|>[assistant]][ to=R]<|channel|>CHANNEL[ to=R][ <|constrain|>T]<|message|>
               # (a bare <|start|>: the engine put the role in the prompt); a call to a function ends the trace
               # on the analysis channel too (built-in tools stay in it)
               close_pattern=(r"(?:<\|end\|>)?(?:<\|start\|>(?:assistant)?)?(?:(?:\s*to=[^\s<]+)?<\|channel\|>"
                              r"(?!analysis\b)|\s*to=functions\.[^\s<]+<\|channel\|>|<\|channel\|>analysis\s+"
                              r"to=functions\.)[^<]*(?:<\|constrain\|>[^<]*)?<\|message\|>"),
               # the answer is the first message after the trace, or the final message when one comes later
               # (after a commentary preamble); it ends at the message's own end token
               answer_close="<|return|>", answer_alt=((None, "<|call|>"), (None, "<|end|>"),
                                                     ("<|channel|>final<|message|>", None),
                                                     ("<|channel|>final <|constrain|>json<|message|>", None)),
               label="harmony"),
            _d("analysis", ("assistantfinal", "assistantcommentary"), anchored=True,
               label="harmony decoded with skip_special_tokens"),
        ),
        aliases=("harmony", "gpt-oss"), special_delimiters=True,
        notes="Decoded with special tokens skipped the text reads 'analysis...assistantfinal...'.",
        vllm_parsers=("openai_gptoss", "beam"), sglang_detectors=("gpt-oss", "beam"), template_markers=("<|channel|>",),
    ),
    TraceFormat(
        "magistral", "Magistral: [THINK]...[/THINK] control tokens (2507+), plain <think> (2506).",
        (_d("[THINK]", "[/THINK]", label="2507+"), _d("<think>", "</think>", label="2506")),
        aliases=("mistral",), special_delimiters=True,
        # vLLM's mistral parser ends reasoning at [TOOL_CALLS]; its tool parser reads 'NAME[ARGS]{...}' after it
        implicit_close=(ImplicitClose("[TOOL_CALLS]", r"[^\s\[\]]+\[ARGS\]"),),
        notes="[THINK] tokens are dropped by skip_special_tokens; the plain-text 2506 tags are not.",
        vllm_parsers=("mistral",), sglang_detectors=("mistral",), template_markers=("[THINK]",),
    ),
    TraceFormat(
        "smollm3", "SmolLM3: enable_thinking; off inserts '<think>\\n\\n</think>\\n'.", (THINK,),
        aliases=("smollm",), thinking_switch="enable_thinking", disabled_insert="<think>\n\n</think>\n",
        soft_switch=("/think", "/no_think"), template_markers=("Reasoning Mode", "reasoning_mode"),
    ),
    TraceFormat(
        "olmo3", "Olmo-3(.1)-Think: plain-text tags, prompt ends '<think>'.", (THINK,),
        aliases=("olmo",), prefilled=True,
        vllm_parsers=("olmo3",), sglang_detectors=(),
    ),
    TraceFormat(
        "granite", "Granite 3.2 thought/response phrases; Granite 3.3 <think> then <response>.",
        (
            _d(("Here is my thought process:", "Here's my thought process:"),
               ("Here is my response:", "Here's my response:"), label="3.2"),
            _d("<think>", "</think>", answer_open="<response>", answer_close="</response>", label="3.3"),
        ),
        thinking_switch="thinking", thinking_default=False,
        vllm_parsers=("granite",), sglang_detectors=(), template_markers=("<response>", "Here is my thought process:"),
    ),
    TraceFormat(
        "exaone", "EXAONE Deep <thought> (prefilled); EXAONE 4.0 <think> (prefilled when enabled).",
        (_d("<thought>", "</thought>", label="deep"), _d("<think>", "</think>", label="4.0")),
        aliases=("exaone_deep", "exaone4"), prefilled=True, thinking_switch="enable_thinking",
        thinking_default=False, disabled_insert="<think>\n\n</think>\n\n",
        template_markers=("[|assistant|]", "[|endofturn|]"),  # EXAONE's own turn tokens (never ChatML)
    ),
    TraceFormat(
        "nemotron", "Llama-Nemotron / Nemotron Nano 2 / Nemotron 3: <think>, switched by /think, /no_think.",
        (THINK,), aliases=("llama_nemotron",), prefilled=None, thinking_switch="enable_thinking",
        disabled_insert="<think></think>", implicit_close=(QWEN3_CALL,),
        soft_switch=("/think", "/no_think"),
        vllm_parsers=("nemotron_v3",), sglang_detectors=("nemotron_3",),
        template_markers=("<SPECIAL_11>", "truncate_history_thinking"),
    ),
    TraceFormat(
        "glm", "GLM-4.5/4.6 hybrid and GLM-Z1: off inserts '<think></think>'.", (THINK,),
        aliases=("glm45", "glm4"), thinking_switch="enable_thinking", disabled_insert="<think></think>",
        implicit_close=(GLM_CALL,),
        soft_switch=("/think", "/nothink"),
        vllm_parsers=("glm45",), sglang_detectors=("glm45",), template_markers=("[gMASK]", "<arg_key>"),
    ),
    TraceFormat(
        "seed_oss", "Seed-OSS: <seed:think>; thinking_budget=0 inserts a canned non-empty trace.",
        (_d("<seed:think>", "</seed:think>"),), aliases=("seed",), thinking_switch="thinking_budget",
        switch_values=(None, 0),
        special_delimiters=True,
        # the Qwen3 grammar with its own wrapper: vLLM's seed_oss parser ends reasoning at <seed:tool_call>
        implicit_close=(ImplicitClose("<seed:tool_call>", r"\s*<function="),),
        vllm_parsers=("seed_oss",), sglang_detectors=(), template_markers=("<seed:think>",),
    ),
    TraceFormat(
        "kimi", "Kimi k1.5 / Kimi-VL-Thinking / Kimi-Dev: ◁think▷ as ordinary tokens.",
        (_d("◁think▷", "◁/think▷"),), aliases=("kimi_vl", "kimi_dev"),
        vllm_parsers=(), sglang_detectors=("kimi",), template_markers=("◁think▷",),
    ),
    TraceFormat(
        "kimi_k2", "Kimi K2-Thinking: <think>; history gets empty blocks inserted.", (THINK,),
        aliases=("kimi-k2",), thinking_switch="thinking", implicit_close=(KIMI_K2_CALL,),
        vllm_parsers=("kimi_k2",), sglang_detectors=("kimi_k2",), template_markers=("<|tool_calls_section_begin|>",),
    ),
    TraceFormat(
        "hunyuan", "Hunyuan-A13B: <think>...</think> then <answer>...</answer>.",
        (_d("<think>", "</think>", answer_open="<answer>", answer_close="</answer>"),),
        thinking_switch="enable_thinking", disabled_insert="<think>\n\n</think>\n",
        soft_switch=("/think", "/no_think"), implicit_close=(HUNYUAN_A13B_CALL,),
        vllm_parsers=("hunyuan_a13b",), sglang_detectors=("hunyuan",), template_markers=("<answer>", "<|extra_4|>"),
    ),
    TraceFormat(
        "minimax", "MiniMax-M1 (<think>), M2 (prompt ends '<think>\\n'), M3 (<mm:think>).",
        (THINK, _d("<mm:think>", "</mm:think>", label="m3")), aliases=("minimax_m2", "minimax_m1"), prefilled=None,
        # M2: vLLM's minimax_m2 parser ends reasoning at its tool block, '<invoke name=...>' calls inside (M3's
        # parser does not: its calls follow the closed trace)
        implicit_close=(ImplicitClose("<minimax:tool_call>", r"\s*<invoke\s+name="),),
        vllm_parsers=("minimax_m2", "minimax_m2_append_think", "minimax_m3"),
        sglang_detectors=("minimax", "minimax-append-think", "minimax-m3"),
        template_markers=("]~b]", "<minimax:tool_call>", "<beginning_of_sentence>"),
    ),
    TraceFormat(
        "sky_t1", "Sky-T1 / Bespoke-Stratos / OpenThinker v1: begin/end_of_thought, answer in solution tags.",
        (_d("<|begin_of_thought|>", "<|end_of_thought|>", answer_open="<|begin_of_solution|>",
            answer_close="<|end_of_solution|>"),),
        aliases=("openthoughts", "bespoke"),
        vllm_parsers=(), sglang_detectors=(), template_markers=("<|begin_of_thought|>",),
    ),
    TraceFormat(
        "cohere", "Cohere Command A Reasoning: START/END_THINKING, answer in START/END_RESPONSE or START/END_TEXT.",
        (_d("<|START_THINKING|>", "<|END_THINKING|>", answer_open="<|START_TEXT|>", answer_close="<|END_TEXT|>",
            answer_alt=(("<|START_RESPONSE|>", "<|END_RESPONSE|>"),)),),
        aliases=("command_a", "command"), prefilled=True, thinking_switch="reasoning",
        disabled_insert="<|START_THINKING|><|END_THINKING|>", special_delimiters=True,
        implicit_close=(ImplicitClose("<|START_ACTION|>", r"\s*\["),),
        vllm_parsers=("cohere_command3", "cohere_command4"), sglang_detectors=("cohere_command4",),
        template_markers=("<|START_THINKING|>",),
        # grounded answers cite inline, '<co>text</co: 0:[1,2]>' (doc:[spans] groups); the parsers drop the markup
        inline_markup=(r"<co>", r"</co: ?\d+:\[[\d, ]*\](?:, ?\d+:\[[\d, ]*\])*>"),
    ),
    TraceFormat(
        "ernie", "ERNIE-4.5-Thinking: the output starts inside the trace; answer in <response>.",
        (_d("<think>", "</think>", answer_open="<response>", answer_close="</response>"),), prefilled=None,
        vllm_parsers=("ernie45",), sglang_detectors=(),
    ),
    TraceFormat(
        "apertus", "Apertus: <|inner_prefix|>...<|inner_suffix|> special tokens.",
        (_d("<|inner_prefix|>", "<|inner_suffix|>"),), special_delimiters=True,
        implicit_close=(ImplicitClose("<|tools_prefix|>", r"\s*\["),),
        vllm_parsers=(), sglang_detectors=("apertus2509",), template_markers=("<|inner_prefix|>",),
    ),
    # ---- families added from vLLM 0.32 / SGLang 0.5.23 parsers and trace_conventions.md section 5
    TraceFormat(
        "gemma4", "Gemma 4: opt-in thinking in a '<|channel>thought' channel closed by '<channel|>'.",
        (_d(("<|channel>thought", "<|channel>"), "<channel|>"),), thinking_switch="enable_thinking",
        thinking_default=False, special_delimiters=True, prefilled=None,
        implicit_close=(ImplicitClose("<|tool_call>", r"call:"),),
        notes="The channel label 'thought' follows the opener; a tool call may end the channel implicitly.",
        vllm_parsers=("gemma4",), sglang_detectors=("gemma4",), template_markers=("<|channel>",),
    ),
    TraceFormat(
        "kimi_k3", "Kimi K3: '<|open|>think<|sep|>' ... '<|close|>think<|sep|>', answer in the response block.",
        (_d("<|open|>think<|sep|>", "<|close|>think<|sep|>", answer_open="<|open|>response<|sep|>",
            answer_close="<|close|>response<|sep|>", answer_alt=((None, "<|close|>message<|sep|>"),)),),
        prefilled=None, thinking_switch="thinking", special_delimiters=True,
        # its tool parser (vLLM kimi_k3) reads '<|open|>call tool="NAME" index="N"<|sep|>' blocks in the tools channel;
        # a call block without its tool attribute is no call to it
        implicit_close=(ImplicitClose("<|open|>tools<|sep|>",
                                      r'\s*<\|open\|>\s*call\s+(?:(?!<\|sep\|>).)*?\btool="[^"]+"'),),
        notes="Each marker is a 3-token sequence; serving may prefill the think opener.",
        vllm_parsers=("kimi_k3",), sglang_detectors=("kimi_k3",), template_markers=("<|open|>think<|sep|>",),
    ),
    TraceFormat(
        "k2_horizon", "K2 Horizon (IFM): <ifm|think>, <ifm|think_fast>, <ifm|think_faster> by reasoning effort.",
        (_d("<ifm|think>", "</ifm|think>", label="high"), _d("<ifm|think_fast>", "</ifm|think_fast>", label="medium"),
         _d("<ifm|think_faster>", "</ifm|think_faster>", label="low")),
        prefilled=True, special_delimiters=True, switch_values=("high", "low"),
        implicit_close=(ImplicitClose("<ifm|tool_calls>", r"\s*<ifm\|tool_call>"),),
        notes="The serving layer forces reasoning: the output starts inside the trace.",
        vllm_parsers=("k2_horizon",), sglang_detectors=("k2_horizon",), template_markers=("<ifm|think",),
    ),
    TraceFormat(
        "muse", "Meta Muse Spark / Glimmer: ' to=self<|message|>' ... '<|eom|>', answer on the to=user channel.",
        (_d("to=self<|message|>", "<|eom|>", answer_open="to=user<|message|>", answer_close="<|eot|>",
            close_needs_open=True),),
        aliases=("muse_glimmer", "muse_spark"),
        # A channel body ends at <|eom|> or at the next channel header: a model that leaves the to=self channel
        # without <|eom|> writes the tool's (or the user's) header, 'to=functions.f<|message|><atem:...>'. A bare
        # <atem:function_calls> inside the to=self body is an echo in the reasoning, not a call (vLLM's reading).
        # The header may carry its role ('<|start|>assistant to=f<|message|>', as the template writes a call):
        # vLLM's muse_glimmer tool parser ends the body at that <|start|>.
        implicit_close=(ImplicitClose("to=", r"(?!self<\|message\|>)[^\s<]+<\|message\|>"),
                        ImplicitClose("<|start|>assistant to=", r"(?!self<\|message\|>)[^\s<]+<\|message\|>")),
        notes="The framing markers are not single tokens in every checkpoint; a channel header ends an open body. "
              "vLLM 0.33's Spark profile (muse, musespark1x) also reads a recipient-less '<|message|>' as "
              "reasoning and to=commentary as content: not modelled here (Glimmer's reading, as SGLang's).",
        vllm_parsers=("muse_glimmer", "muse", "musespark1x"), sglang_detectors=("muse",), template_markers=("to=self",),
    ),
    TraceFormat(
        "inkling", "Inkling (Thinking Machines): typed blocks, '<|content_thinking|>' ... '<|end_message|>'.",
        (_d(("<|message_model|><|content_thinking|>", "<|content_thinking|>"),
            ("<|end_message|>", "<|content_model_end_sampling|>"), answer_open="<|content_text|>",
            answer_close="<|end_message|>", answer_alt=(("<|content_text|>", "<|content_model_end_sampling|>"),),
            close_needs_open=True),),
        special_delimiters=True,
        # a JSON tool block is a call to its tool parser (vLLM inkling); a raw '<|content_invoke_tool_text|>' block
        # is visible text to it (no call), and inside an open thinking block it is more reasoning. The call ends the
        # trace with or without its message header (vLLM reads that header as text inside a thinking block).
        implicit_close=(ImplicitClose("<|message_model|><|content_invoke_tool_json|>", r"\s*\{"),
                        ImplicitClose("<|content_invoke_tool_json|>", r"\s*\{")),
        vllm_parsers=("inkling",), sglang_detectors=("inkling",), template_markers=("<|content_thinking|>",),
    ),
    TraceFormat(
        "plamo3", "PLaMo 3: '<|plamo:begin_think:plamo|>' ... '<|plamo:end_think:plamo|>'.",
        (_d("<|plamo:begin_think:plamo|>", "<|plamo:end_think:plamo|>"),), prefilled=None,
        thinking_switch="enable_thinking", special_delimiters=True,
        implicit_close=(ImplicitClose("<|plamo:begin_tool_requests:plamo|>",
                                      r"\s*<\|plamo:begin_tool_request:plamo\|>"),),
        vllm_parsers=("plamo3",), template_markers=("<|plamo:begin_think:plamo|>",),
    ),
    TraceFormat(
        "hy", "Tencent HY 3 / HY 4: <think>...</think>, tags suffixed per checkpoint ('<think:SUFFIX>').",
        (THINK,), aliases=("hy_v3", "hy_v4", "hy3", "hy4"), thinking_switch="reasoning_effort",
        switch_values=("high", "no_think"), thinking_default=False, special_delimiters=True,
        disabled_insert="<think></think>", implicit_close=(HY_CALL,),
        vocab_suffix=r"<(?:think|tool_calls|tool_call|arg_key|arg_value)(:[^\s>]+)>",
        notes="The suffix is read from the vocabulary; with_token_suffix('hy', ':SUFFIX') gives the suffixed spelling.",
        vllm_parsers=("hy_v3", "hy_v4"), sglang_detectors=("hunyuan",),
    ),
    TraceFormat(
        "longcat", "LongCat-Flash-Thinking: <longcat_think>...</longcat_think>; the prompt carries /think_on.",
        (_d("<longcat_think>", "</longcat_think>"),), special_delimiters=True, soft_switch=("/think_on", "/think_off"),
        template_markers=("<longcat_think>",),
    ),
    TraceFormat(
        "apriel", "Apriel Thinker 1.5/1.6: prefilled prose, answer between [BEGIN/END FINAL RESPONSE].",
        (_d("Here are my reasoning steps:", "[BEGIN FINAL RESPONSE]", answer_close="[END FINAL RESPONSE]"),),
        prefilled=True, template_markers=("[BEGIN FINAL RESPONSE]",),
        notes="The reasoning is untagged prose; only the final-response marker ends it.",
    ),
    TraceFormat(
        "reka", "Reka Flash 3: <reasoning>...</reasoning>; Reka Edge: <think>...</think>; turns separated by <sep>.",
        (_d("<reasoning>", "</reasoning>", answer_close="<sep>"), _d("<think>", "</think>", label="edge")),
        aliases=("reka_flash", "reka_edge"), prefilled=None,
        template_markers=("<sep>",),
    ),
    TraceFormat(
        "solar_open", "Solar Open 100B: '<|think|>' message ended by '<|end|>', answer in a '<|content|>' message.",
        (_d("<|think|>", "<|end|>", answer_open="<|content|>", answer_close="<|end|>", close_needs_open=True),),
        thinking_switch="reasoning_effort", switch_values=("high", "low"), disabled_insert="<|think|><|end|>",
        template_markers=("<|begin|>assistant<|think|><|end|>",),
        notes="Markers are tokens with special=false (they survive decoding); reasoning_effort low/minimal "
              "prefills an empty think message.",
    ),
    TraceFormat(
        "solar_open2", "Solar Open2: the template prefills '<|think:start|>'; '<|think:end|>' ends the trace.",
        (_d("<|think:start|>", "<|think:end|>"),), prefilled=True, special_delimiters=True,
        thinking_switch="reasoning_effort", switch_values=("high", "low"),
        disabled_insert="<|think:start|><|think:end|>",
        # its tool parser reads '<|tool_call:start|>NAME\n<|tool_arg:start|>...': a call starts with a name line
        implicit_close=(ImplicitClose("<|tool_call:start|>", r"[^\s<][^\n<]*\n"),),
        notes="vLLM's solar_open2 (main branch after 0.33.0): low/minimal efforts prefill the closed pair, so a "
              "generation without '<|think:end|>' is content there and a cut-off trace otherwise.",
        vllm_parsers=("solar_open2",), template_markers=("<|think:start|>",),
    ),
    TraceFormat(
        "deepseek_v4", "DeepSeek V4 / V4.1: <think> like V3.x; a DSML tool call ends an open trace.",
        (THINK,), aliases=("deepseek_v41",), prefilled=None, thinking_switch="thinking", thinking_default=False,
        disabled_insert="</think>",
        implicit_close=(ImplicitClose("<\uff5cDSML\uff5ctool_calls>", r"\s*<\uff5cDSML\uff5cinvoke"),
                        ImplicitClose("<\uff5cDSML\uff5ctoolcalls>", r"\s*<\uff5cDSML\uff5cinvoke"),
                        ImplicitClose("<\uff5cDSML\uff5ctool>", r"\s*<\uff5cDSML\uff5cinvoke"),  # vLLM's third spelling
                        ImplicitClose("<\uff5cDSML\uff5c calls>", r"\s*<\uff5cDSML\uff5c invoke")),
        vllm_parsers=("deepseek_v4", "deepseek_v41"), sglang_detectors=("deepseek-v4", "deepseek-v41"),
        # its tool-call block (V3.2 also writes DSML, as '<|DSML|function_calls>'); the source builds it from pieces,
        # the tool-call probe renders it
        template_markers=("<\uff5cDSML\uff5ctool_calls>", "<\uff5cDSML\uff5ctoolcalls>", "<\uff5cDSML\uff5c calls>"),
    ),
    TraceFormat(
        "step3", "Step3 / Step-3.5 / Step 5: the template prefills <think>; the output holds only the closer.",
        (THINK,), aliases=("step3p5", "step3.5", "step5"), prefilled=True,
        notes="vLLM's step3p5 also ends reasoning at a Qwen3 <tool_call>; not modelled, so that a generic prefilled "
              "<think> template stays the generic format in detection (use trace_format='qwen3' with prefill).",
        vllm_parsers=("step3", "step3p5", "step5"), sglang_detectors=("step3", "step3p5"),
    ),
    TraceFormat(
        "mimo", "Xiaomi MiMo: <think> with Qwen3-style tool calls; thinking on by default.", (THINK,), prefilled=None,
        thinking_switch="enable_thinking", implicit_close=(QWEN3_CALL,),
        template_hints=("You are MiMo",),  # the default system prompt: its ChatML turns are Qwen's
        vllm_parsers=("mimo",), sglang_detectors=("mimo",),
    ),
    TraceFormat(
        "ling3", "Ling 3: GLM-4.7-style <think> and tool calls, thinking on by default.", (THINK,), prefilled=True,
        thinking_switch="enable_thinking", disabled_insert="<think></think>", implicit_close=(GLM_CALL,),
        vllm_parsers=("ling3",), sglang_detectors=("ling3",), template_markers=("<|role_end|>",),
    ),
    TraceFormat(
        "poolside_v1", "Poolside (Laguna): DeepSeek-V3-style <think>, off by default, turns start with <assistant>.",
        (THINK,), aliases=("poolside", "laguna"), prefilled=True, thinking_switch="enable_thinking",
        thinking_default=False, disabled_insert="</think>", vllm_parsers=("poolside_v1",),
        sglang_detectors=("poolside_v1",), template_markers=("<assistant>",),
    ),
    TraceFormat(
        "holo2", "Holo2: DeepSeek-V3-style <think>, thinking on by default.", (THINK,), prefilled=None,
        thinking_switch="thinking", vllm_parsers=("holo2",),
    ),
    TraceFormat(
        "minicpmv", "MiniCPM-V: <think> with Qwen3-Coder tool calls in <tool_call>.", (THINK,), aliases=("minicpm_v",),
        prefilled=None, thinking_switch="enable_thinking", implicit_close=(QWEN3_CALL,),
        vllm_parsers=("minicpmv",),
    ),
    TraceFormat(
        "minicpm5", "MiniCPM 5: <think>, three-state enable_thinking; tool calls are '<function name=...>' XML.",
        (THINK,), aliases=("minicpm_5",), prefilled=None, thinking_switch="enable_thinking",
        disabled_insert="<think>\n\n</think>\n\n", implicit_close=(MINICPM5_CALL,),
        notes="vLLM has no MiniCPM 5 reasoning parser: minicpmv (the Qwen3 grammar) reads its <think> but ends an "
              "open trace only at <tool_call>, a call MiniCPM 5 never writes; its tool parser (minicpm5) reads "
              "'<function name=...>', the call that ends the trace here.",
        vllm_parsers=("minicpmv",),
        # its template's tool separators ('<tool_sep>' in assistant content, '<tool_def_sep>' in the system message)
        template_markers=("<tool_sep>", "<tool_def_sep>"),
    ),
    TraceFormat(
        "glm47", "GLM-4.7: the template prefills <think>; thinking off ends the prompt with </think>.", (THINK,),
        aliases=("glm4.7", "glm_4_7"), prefilled=True, thinking_switch="enable_thinking", disabled_insert="</think>",
        implicit_close=(GLM_CALL,), vllm_parsers=("glm47",), template_markers=("[gMASK]", "<arg_key>"),
    ),
    TraceFormat(
        "granite4", "Granite 4.x thinking: <think>...\\n</think>\\n with <tool_call> XML (Nemotron 3 grammar).",
        (THINK,), aliases=("granite_thinking",), prefilled=None, thinking_switch="enable_thinking",
        implicit_close=(QWEN3_CALL,), vllm_parsers=("granite_thinking_parser",),
        sglang_detectors=("granite_thinking_parser",), template_markers=("<|start_of_role|>",),
    ),
)

# The live registry: built-in families, then whatever ``register_format`` adds in this process.
FORMATS: dict[str, TraceFormat] = {f.name: f for f in _FORMATS}
BUILTIN_FORMATS: tuple[str, ...] = tuple(FORMATS)


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


_ALIASES: dict[str, str] = {}
for _f in _FORMATS:
    for _a in (_f.name, *_f.aliases):
        if _key(_a) in _ALIASES and _ALIASES[_key(_a)] != _f.name:
            raise RuntimeError(f"format alias {_a!r} is claimed by {_ALIASES[_key(_a)]!r} and {_f.name!r}")
        _ALIASES[_key(_a)] = _f.name


# Ordered: the first matching rule wins, so specific ids come before their family's general pattern.
MODEL_RULES: tuple[ModelRule, ...] = (
    ModelRule(r"qwq-32b-preview", "think", prefilled=False),
    ModelRule(r"qwq", "qwq", prefilled=True),
    ModelRule(r"qwen3[.\d]*-.*thinking", "qwen3", prefilled=True),
    ModelRule(r"qwen3\.5", "qwen3", prefilled=True),
    ModelRule(r"qwen3[.\d]*-.*instruct-2507", "qwen3", prefilled=False, thinking_default=False),
    ModelRule(r"qwen3", "qwen3", prefilled=False),
    ModelRule(r"deepseek-v4", "deepseek_v4", prefilled=None, thinking_default=False),
    ModelRule(r"deepseek-(v3\.[12]|v3-?\.?[12])", "deepseek_v3", prefilled=None, thinking_default=False),
    ModelRule(r"deepseek-r1-0528", "deepseek_r1", prefilled=False),
    ModelRule(r"deepseek-r1", "deepseek_r1", prefilled=True),
    ModelRule(r"phi-4.*reasoning", "phi4_reasoning", prefilled=False),
    ModelRule(r"gpt-oss", "gpt_oss", prefilled=False),
    ModelRule(r"magistral-(small|medium)-2506", "magistral", prefilled=False, special_delimiters=False),
    ModelRule(r"magistral", "magistral", prefilled=False),
    ModelRule(r"smollm3", "smollm3", prefilled=False),
    ModelRule(r"olmo-3", "olmo3", prefilled=True),
    ModelRule(r"granite-4", "granite4", prefilled=None),
    ModelRule(r"granite", "granite", prefilled=False),
    ModelRule(r"exaone-deep", "exaone", prefilled=True),
    ModelRule(r"exaone-4", "exaone", prefilled=None, thinking_default=False),
    ModelRule(r"nemotron-nano-(9b|12b)-v2", "nemotron", prefilled=True),
    ModelRule(r"nemotron", "nemotron", prefilled=False),
    ModelRule(r"glm-4\.7", "glm47", prefilled=True),
    ModelRule(r"glm", "glm", prefilled=False),
    ModelRule(r"seed-oss", "seed_oss", prefilled=False),
    ModelRule(r"kimi-k3", "kimi_k3", prefilled=None),
    ModelRule(r"k2-?(horizon|v3)", "k2_horizon", prefilled=True),
    ModelRule(r"kimi-k2", "kimi_k2", prefilled=False),
    ModelRule(r"kimi", "kimi", prefilled=False),
    ModelRule(r"hunyuan", "hunyuan", prefilled=False),
    ModelRule(r"minimax-m2", "minimax", prefilled=True),
    ModelRule(r"minimax", "minimax", prefilled=False),
    ModelRule(r"sky-t1|bespoke-stratos|openthinker-(7|32)b", "sky_t1", prefilled=False),
    ModelRule(r"command-a-reasoning", "cohere", prefilled=True),
    ModelRule(r"ernie.*thinking", "ernie", prefilled=True),
    ModelRule(r"apertus", "apertus", prefilled=False),
    ModelRule(r"gemma-?4", "gemma4", prefilled=None, thinking_default=False),
    ModelRule(r"muse-?(spark|glimmer)", "muse", prefilled=False),
    ModelRule(r"inkling", "inkling", prefilled=False),
    ModelRule(r"plamo-?3", "plamo3", prefilled=None),
    ModelRule(r"(^|[/_-])hy-?[34]([._-]|$)", "hy", prefilled=False, thinking_default=False),
    ModelRule(r"longcat.*thinking", "longcat", prefilled=False),
    ModelRule(r"apriel.*thinker", "apriel", prefilled=True),
    ModelRule(r"reka-flash-3", "reka", prefilled=False),
    ModelRule(r"solar-open-?2", "solar_open2", prefilled=True),
    ModelRule(r"solar-open", "solar_open", prefilled=None),
    ModelRule(r"step-?[35]", "step3", prefilled=True),
    ModelRule(r"mimo", "mimo", prefilled=None),
    ModelRule(r"ling-?3", "ling3", prefilled=None),
    ModelRule(r"poolside|laguna", "poolside_v1", prefilled=None, thinking_default=False),
    ModelRule(r"holo-?2", "holo2", prefilled=None),
    ModelRule(r"minicpm-?5", "minicpm5", prefilled=None),
    ModelRule(r"minicpm-v", "minicpmv", prefilled=None),
    ModelRule(r"intern-?s1|nanbeige", "qwen3", prefilled=False),
    ModelRule(r"openthinker|deepseek", "think", prefilled=False),
)


class UnknownFormatError(ValueError):
    """Raised for a format name that is not in the registry."""


@lru_cache(maxsize=256)
def _lookup(name: str) -> TraceFormat:
    key = _key(name)
    if key not in _ALIASES:
        known = ", ".join(sorted(FORMATS))
        hint = ("A user-defined format exists only in the process that registered it: pass its spec (a dict or "
                "JSON with open/close) instead of the derived name. " if key.startswith("custom_") else "")
        raise UnknownFormatError(
            f"unknown trace format {name!r}. Known formats: {known}. {hint}"
            "Pass one of these names (or a TraceFormat instance), e.g. trace_format='think', or define your own "
            "with register_format(open=..., close=...)."
        )
    return FORMATS[_ALIASES[key]]


def get_format(fmt: str | TraceFormat | Mapping[str, Any]) -> TraceFormat:
    """Resolve a format name or alias (case-insensitive, '-' or '_') to its ``TraceFormat``.

    A user spec (a mapping, or its JSON text starting with '{') is registered on first use and resolved to
    its derived ``custom_<hash>`` format, so a doc that carries the spec resolves in any process.
    """
    if isinstance(fmt, TraceFormat):
        return fmt
    if isinstance(fmt, Mapping) or (isinstance(fmt, str) and fmt.lstrip().startswith("{")):
        return register_format(fmt)
    if not isinstance(fmt, str):
        raise TypeError(f"trace format must be a name, a TraceFormat or a spec dict, got {type(fmt).__name__}")
    try:
        return _lookup(fmt)
    except UnknownFormatError:
        derived = _suffixed_name(fmt)
        if derived is None:
            raise
        return derived


def _suffixed_name(name: str) -> TraceFormat | None:
    """'hy:opensource' -> the 'hy' family with that tag suffix (what ``detect_format`` names when the template
    writes suffixed tags), so the name resolves in a process that has not derived it yet."""
    base_name, sep, rest = name.strip().partition(":")
    if not sep or not rest or _key(base_name) not in _ALIASES:
        return None
    base = FORMATS[_ALIASES[_key(base_name)]]
    if base.vocab_suffix is None:
        return None
    try:
        return with_token_suffix(base, sep + rest)
    except ValueError:
        return None


def all_formats() -> tuple[TraceFormat, ...]:
    """Every registered format, built-in families first (detection iterates this, so user formats count)."""
    return tuple(FORMATS.values())


# ------------------------------------------------------------------------------------------- user formats

SPEC_KEYS: dict[str, str] = {
    "open": "opening delimiter (a string, or a list of spellings; may be omitted or '' when the prompt opens it)",
    "close": "closing delimiter (a non-empty string or a list of spellings): required",
    "answer_open": "string that starts the final answer (optional)",
    "answer_close": "string that ends the final answer (optional)",
    "prefilled": "true when the chat template's prompt already opens the trace (optional)",
    "special_delimiters": "true when the delimiters are special tokens dropped by skip_special_tokens (optional)",
    "implicit_close": "marker(s) of a tool call that ends an open trace (optional)",
    "name": "a name of your own (optional; default: custom_<hash of the spec>)",
    "description": "free text (optional)",
}


class FormatSpecError(ValueError):
    """A user-defined trace format spec that cannot be used; the message names the key and the fix."""


def _spellings(value: Any, key: str, *, required: bool) -> tuple[str, ...]:
    if value is None or value == "" or value == []:
        if required:
            raise FormatSpecError(f"trace_format spec: {key!r} is required and must be a non-empty string "
                                  f"(e.g. {{\"open\": \"<think>\", \"close\": \"</think>\"}})")
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise FormatSpecError(f"trace_format spec: {key!r} must be a string or a list of strings, got {value!r}")
    if not all(v.strip() for v in items):
        raise FormatSpecError(f"trace_format spec: {key!r} has an empty or blank spelling: {value!r}")
    return tuple(items)


def _optional_str(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FormatSpecError(f"trace_format spec: {key!r} must be a string, got {value!r}")
    return value


def _optional_bool(value: Any, key: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FormatSpecError(f"trace_format spec: {key!r} must be true or false, got {value!r}")


def normalize_spec(spec: Mapping[str, Any] | str) -> dict[str, Any]:
    """Validate a user spec (dict or JSON text) and return it in canonical form (sorted keys, no Nones)."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise FormatSpecError(f"trace_format spec is not valid JSON ({exc}): {spec!r}") from None
    if not isinstance(spec, Mapping):
        raise FormatSpecError(f"trace_format spec must be a JSON object / dict, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise FormatSpecError(f"trace_format spec: unknown key(s) {unknown}. Allowed keys: "
                              + "; ".join(f"{k}: {v}" for k, v in SPEC_KEYS.items()))
    out: dict[str, Any] = {}
    opens = _spellings(spec.get("open"), "open", required=False)
    closes = _spellings(spec.get("close"), "close", required=True)
    shared = sorted(set(opens) & set(closes))
    if shared:
        raise FormatSpecError(f"trace_format spec: 'open' and 'close' share the spelling(s) {shared}; "
                              "the closer must differ from the opener")
    out["open"] = list(opens)
    out["close"] = list(closes)
    for key in ("answer_open", "answer_close", "name", "description"):
        value = _optional_str(spec.get(key), key)
        if value is not None:
            out[key] = value
    for key in ("prefilled", "special_delimiters"):
        value = _optional_bool(spec.get(key), key)
        if value is not None:
            out[key] = value
    implicit = _spellings(spec.get("implicit_close"), "implicit_close", required=False)
    if implicit:
        out["implicit_close"] = list(implicit)
    if "name" in out:
        if not re.fullmatch(r"[A-Za-z][\w.\-]*", out["name"]):
            raise FormatSpecError(f"trace_format spec: 'name' must start with a letter and hold only letters, "
                                  f"digits, '_', '-' or '.', got {out['name']!r}")
        owner = _ALIASES.get(_key(out["name"]))
        if owner in BUILTIN_FORMATS:
            raise FormatSpecError(f"trace_format spec: name {out['name']!r} is the built-in format {owner!r}; "
                                  "pick another name, or pass the built-in name itself")
    return dict(sorted(out.items()))


def spec_json(spec: Mapping[str, Any] | str) -> str:
    """The canonical JSON text of a spec: what a doc stores so any process can rebuild the format."""
    return json.dumps(normalize_spec(spec), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def format_from_spec(spec: Mapping[str, Any] | str) -> TraceFormat:
    """Build (without registering) the ``TraceFormat`` a user spec describes."""
    norm = normalize_spec(spec)
    text = json.dumps(norm, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    name = norm.get("name") or "custom_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    delims = Delimiters(open=tuple(norm["open"]), close=tuple(norm["close"]), answer_open=norm.get("answer_open"),
                        answer_close=norm.get("answer_close"), label="user")
    return TraceFormat(name, norm.get("description") or f"User-defined: {text}", (delims,),
                       prefilled=norm.get("prefilled"), special_delimiters=bool(norm.get("special_delimiters")),
                       implicit_close=tuple(ImplicitClose(m) for m in norm.get("implicit_close", ())),
                       notes="registered with register_format / --metadata trace_format={...}")


def register_format(fmt: TraceFormat | Mapping[str, Any] | str | None = None, /, **fields: Any) -> TraceFormat:
    """Add a trace format to the live registry and return it; no code change needed.

    ``register_format(open="<r>", close="</r>", answer_open="<a>", answer_close="</a>", prefilled=False)``,
    or the same keys as one dict / JSON text (what ``--metadata '{"trace_format": {...}}'`` passes), or a full
    ``TraceFormat``. Registering the same definition again returns the registered one; a different definition
    under a taken name is an error. The new format takes part in ``detect_format`` (it reads ``FORMATS``).
    """
    if fmt is None:
        spec: TraceFormat = format_from_spec(fields)
    elif fields:
        raise TypeError("register_format: pass either one spec (dict, JSON or TraceFormat) or keyword fields")
    elif isinstance(fmt, TraceFormat):
        spec = fmt
    else:
        spec = format_from_spec(fmt)
    taken = _ALIASES.get(_key(spec.name))
    if taken is not None:
        if FORMATS[taken] == spec:
            return FORMATS[taken]
        raise FormatSpecError(f"trace format name {spec.name!r} is already registered as {taken!r} with another "
                              "definition; choose a different name")
    for alias in spec.aliases:
        if _key(alias) in _ALIASES:
            raise FormatSpecError(f"alias {alias!r} of {spec.name!r} is already taken by {_ALIASES[_key(alias)]!r}")
    FORMATS[spec.name] = spec
    for alias in (spec.name, *spec.aliases):
        _ALIASES[_key(alias)] = spec.name
    _lookup.cache_clear()
    return spec


def with_token_suffix(fmt: str | TraceFormat, suffix: str) -> TraceFormat:
    """The family's format with every structural tag suffixed (HY: '<think>' -> '<think:6124c78e>'), registered.

    ``suffix`` is what ``fmt.vocab_suffix`` reads from the vocabulary (group 1, leading ':' included); an empty
    suffix returns the family itself.
    """
    base = get_format(fmt)
    if not suffix:
        return base
    if re.search(r"[\s<>]", suffix):
        raise ValueError(f"token suffix {suffix!r} must not hold whitespace or angle brackets")
    tag = re.compile(r"<(/?)([A-Za-z_]+)>")

    def lit(text: str) -> str:
        return tag.sub(lambda m: f"<{m.group(1)}{m.group(2)}{suffix}>", text)

    def pat(text: str) -> str:
        return tag.sub(lambda m: f"<{m.group(1)}{m.group(2)}{re.escape(suffix)}>", text)

    delims = tuple(replace(d, open=tuple(map(lit, d.open)), close=tuple(map(lit, d.close)),
                           answer_open=lit(d.answer_open) if d.answer_open else None,
                           answer_close=lit(d.answer_close) if d.answer_close else None) for d in base.delimiters)
    implicit = tuple(ImplicitClose(lit(ic.marker), pat(ic.follows)) for ic in base.implicit_close)
    derived = replace(base, name=f"{base.name}{suffix}", aliases=(), delimiters=delims, implicit_close=implicit,
                      disabled_insert=lit(base.disabled_insert) if base.disabled_insert else None,
                      vllm_parsers=(), sglang_detectors=(), template_markers=(), vocab_suffix=None,
                      template_hints=())
    return register_format(derived)


def rule_for_model(model_id: str) -> ModelRule | None:
    """The first ``MODEL_RULES`` entry whose pattern occurs in ``model_id`` (e.g. 'Qwen/QwQ-32B')."""
    base = model_id.rstrip("/").split("/")[-1] if "/" in model_id else model_id
    for rule in MODEL_RULES:
        if rule.matches(base) or rule.matches(model_id):
            return rule
    return None
