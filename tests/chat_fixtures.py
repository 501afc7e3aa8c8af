"""Test fixtures: small real tokenizers with hand-written chat templates, one per family behaviour.

Import it as ``tests.chat_fixtures`` (the repo root on ``sys.path``, as ``python -m pytest`` from there gives)::

    from tests.chat_fixtures import TEMPLATE_CASES, case, make_tokenizer

    tok = make_tokenizer("qwen3")                          # a fresh PreTrainedTokenizerFast, template set
    tok = make_tokenizer("qwen3", model_id="Qwen/Qwen3-8B")  # same, with name_or_path set to a model id
    c = case("qwen3")                                      # the TemplateCase: expected facts + kwargs
    prompt = tok.apply_chat_template(c.messages(), add_generation_prompt=True, tokenize=False, **c.disable_kwargs)

What is real and what is not: the tokenizer is a real ``tokenizers`` byte-level BPE (trained in memory on a
tiny corpus, so tokens span several characters and offsets are meaningful) wrapped in a real
``PreTrainedTokenizerFast``; each family's markers are registered the way that family registers them
(special tokens, which ``skip_special_tokens=True`` drops, or plain added tokens, which survive, or not at
all, so the tag is several ordinary tokens). The chat templates in ``tests/templates/*.jinja`` are written
for these tests from the documented behaviour in ``shared/reference/trace_conventions.md`` (generation
prompt, thinking switch, what the switched-off prompt carries, how history is rendered); they are not the
vendors' files. Turn markers of a few families are illustrative (said in each template's comment).

``make_tokenizer`` returns a new object on every call (the trained BPE is cached), so a test may change it.
``make_tokenizer(None)`` gives a tokenizer without any chat template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# The probe-like conversation the cases use (and a masking test can reuse).
SYSTEM = "You are a helpful assistant."
QUESTION = "What is 2 + 3?"
REASONING = "Two plus three makes five."
ANSWER = "The answer is 5."


@dataclass(frozen=True)
class TokenSpec:
    """How one family registers its markers: ``special`` tokens (dropped by skip_special_tokens=True) and
    ``added`` tokens (single vocab entries that survive decoding, e.g. Qwen's ``<think>``)."""

    special: tuple[str, ...]
    added: tuple[str, ...] = ()
    bos: str | None = None
    eos: str | None = None


_CHATML = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_THINK = ("<think>", "</think>")
_DEEPSEEK = ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>")
_MISTRAL = ("<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]")
_EXAONE = ("[|system|]", "[|user|]", "[|assistant|]", "[|endofturn|]")

TOKEN_SPECS: dict[str, TokenSpec] = {
    "qwen3": TokenSpec(_CHATML, _THINK, eos="<|im_end|>"),
    "qwen3_thinking_2507": TokenSpec(_CHATML, _THINK, eos="<|im_end|>"),
    "qwq": TokenSpec(_CHATML, _THINK, eos="<|im_end|>"),
    "deepseek_r1": TokenSpec(_DEEPSEEK, _THINK, bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>"),
    "deepseek_v31": TokenSpec(_DEEPSEEK, _THINK, bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>"),
    "gpt_oss": TokenSpec(
        ("<|endoftext|>", "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>",
         "<|constrain|>"),
        eos="<|return|>",
    ),
    "magistral_2507": TokenSpec(_MISTRAL + ("[THINK]", "[/THINK]"), bos="<s>", eos="</s>"),
    "magistral_2506": TokenSpec(_MISTRAL, bos="<s>", eos="</s>"),
    "smollm3": TokenSpec(_CHATML, eos="<|im_end|>"),
    "olmo3": TokenSpec(_CHATML, eos="<|im_end|>"),
    "exaone_deep": TokenSpec(_EXAONE, eos="[|endofturn|]"),
    "exaone4": TokenSpec(_EXAONE, _THINK, eos="[|endofturn|]"),
    "glm45": TokenSpec(("[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|endoftext|>"), _THINK,
                       eos="<|endoftext|>"),
    "seed_oss": TokenSpec(
        ("<seed:bos>", "<seed:eos>", "<seed:think>", "</seed:think>", "<seed:cot_budget_reflect>",
         "</seed:cot_budget_reflect>"),
        bos="<seed:bos>", eos="<seed:eos>",
    ),
    "kimi": TokenSpec(("<|im_system|>", "<|im_user|>", "<|im_assistant|>", "<|im_middle|>", "<|im_end|>"),
                      eos="<|im_end|>"),
    "hunyuan": TokenSpec(("<|startoftext|>", "<|extra_4|>", "<|extra_0|>", "<|eos|>"), eos="<|eos|>"),
    "granite32": TokenSpec(("<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>"), eos="<|end_of_text|>"),
    "phi4_reasoning": TokenSpec(("<|endoftext|>", "<|im_start|>", "<|im_sep|>", "<|im_end|>"), eos="<|im_end|>"),
    "nemotron_nano2": TokenSpec(("<SPECIAL_10>", "<SPECIAL_11>", "<SPECIAL_12>"), eos="<SPECIAL_12>"),
    "cohere": TokenSpec(
        ("<BOS_TOKEN>", "<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>", "<|SYSTEM_TOKEN|>", "<|USER_TOKEN|>",
         "<|CHATBOT_TOKEN|>", "<|START_THINKING|>", "<|END_THINKING|>", "<|START_TEXT|>", "<|END_TEXT|>",
         "<|START_ACTION|>", "<|END_ACTION|>"),
        bos="<BOS_TOKEN>", eos="<|END_OF_TURN_TOKEN|>",
    ),
    "chatml": TokenSpec(_CHATML, eos="<|im_end|>"),
    # detection fixtures (DETECT_CASES)
    "granite33": TokenSpec(("<|start_of_role|>", "<|end_of_role|>", "<|end_of_text|>"), eos="<|end_of_text|>"),
    "glm47": TokenSpec(("[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|endoftext|>"), _THINK,
                       eos="<|endoftext|>"),
    "kimi_k2_thinking": TokenSpec(
        ("<|im_system|>", "<|im_user|>", "<|im_assistant|>", "<|im_middle|>", "<|im_end|>",
         "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>", "<|tool_call_begin|>",
         "<|tool_call_argument_begin|>", "<|tool_call_end|>"), _THINK, eos="<|im_end|>"),
    "gemma4": TokenSpec(("<bos>", "<|turn>", "<turn|>", "<|think|>", "<|channel>", "<channel|>"), bos="<bos>",
                        eos="<turn|>"),
    "apriel": TokenSpec(("<|system|>", "<|user|>", "<|assistant|>", "<|end|>"), eos="<|end|>"),
    "qwq_tools": TokenSpec(_CHATML, _THINK, eos="<|im_end|>"),
    # template fixtures outside TEMPLATE_CASES (tests of their own)
    "minimax_m3": TokenSpec(("]~!b[", "]~b]", "[e~[", "<mm:think>", "</mm:think>"), eos="[e~["),
}
_NO_TEMPLATE_SPEC = TokenSpec(_CHATML, eos="<|im_end|>")


@dataclass(frozen=True)
class TemplateCase:
    """One fixture template and the facts a detector should find in it.

    ``format``: the registry format expected when the tokenizer carries ``model_id`` as its name_or_path.
    ``template_formats``: the format(s) acceptable from the template alone (no model id): families that the
    registry cannot tell apart from the template (e.g. QwQ vs R1-Distill: both prefilled ``<think>``) resolve
    to the generic ``think``; more than one name means the registry has a genuine tie.
    ``prefilled``: the prompt rendered with ``enable_kwargs`` ends inside an open trace.
    ``enable_kwargs``: chat-template kwargs that turn thinking on (``{}`` when it is on by default).
    ``disable_kwargs``: kwargs that turn it off (None: no kwarg does); ``disable_system``: a system message
    that turns it off (soft switches such as Nemotron's ``/no_think``). ``default_disabled``: thinking is
    off when no kwargs are passed (DeepSeek-V3.1, EXAONE 4, Granite).
    ``special``: the trace delimiters are special tokens (dropped by ``skip_special_tokens=True``).
    ``generation``: what the model writes after the thinking-on prompt, with a non-blank trace.
    """

    name: str
    format: str
    template_formats: tuple[str, ...]
    prefilled: bool
    special: bool
    generation: str
    model_id: str | None = None
    enable_kwargs: dict[str, Any] = field(default_factory=dict)
    disable_kwargs: dict[str, Any] | None = None
    disable_system: str | None = None
    default_disabled: bool = False

    def messages(self, *, system: str | None = SYSTEM, answer: bool = False) -> list[dict[str, Any]]:
        """A system + user conversation; with ``answer=True`` a final assistant turn carrying both
        ``reasoning_content`` (and ``thinking``, the harmony name) and ``content``."""
        msgs: list[dict[str, Any]] = [{"role": "system", "content": system}] if system is not None else []
        msgs.append({"role": "user", "content": QUESTION})
        if answer:
            msgs.append({"role": "assistant", "content": ANSWER, "reasoning_content": REASONING,
                         "thinking": REASONING})
        return msgs


def _gen(open_: str, close: str, answer: str = ANSWER) -> str:
    return f"{open_}{REASONING}{close}{answer}"


TEMPLATE_CASES: list[TemplateCase] = [
    TemplateCase("qwen3", "qwen3", ("qwen3",), False, False, _gen("<think>\n", "\n</think>\n\n"),
                 model_id="Qwen/Qwen3-8B", disable_kwargs={"enable_thinking": False}),
    TemplateCase("qwen3_thinking_2507", "qwen3", ("think",), True, False, _gen("", "\n</think>\n\n"),
                 model_id="Qwen/Qwen3-4B-Thinking-2507"),
    TemplateCase("qwq", "qwq", ("think",), True, False, _gen("", "\n</think>\n\n"), model_id="Qwen/QwQ-32B"),
    TemplateCase("deepseek_r1", "deepseek_r1", ("think",), True, False, _gen("", "\n</think>\n\n"),
                 model_id="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"),
    TemplateCase("deepseek_v31", "deepseek_v3", ("deepseek_v3",), True, False, _gen("", "</think>"),
                 model_id="deepseek-ai/DeepSeek-V3.1", enable_kwargs={"thinking": True},
                 disable_kwargs={"thinking": False}, default_disabled=True),
    TemplateCase("gpt_oss", "gpt_oss", ("gpt_oss",), False, True,
                 _gen("<|channel|>analysis<|message|>", "<|end|><|start|>assistant<|channel|>final<|message|>")
                 + "<|return|>",
                 model_id="openai/gpt-oss-20b"),
    TemplateCase("magistral_2507", "magistral", ("magistral",), False, True, _gen("[THINK]", "[/THINK]"),
                 model_id="mistralai/Magistral-Small-2507"),
    TemplateCase("magistral_2506", "magistral", ("think",), False, False, _gen("<think>\n", "\n</think>\n\n"),
                 model_id="mistralai/Magistral-Small-2506"),
    TemplateCase("smollm3", "smollm3", ("smollm3",), False, False, _gen("<think>\n", "\n</think>\n"),
                 model_id="HuggingFaceTB/SmolLM3-3B", disable_kwargs={"enable_thinking": False},
                 disable_system="/no_think"),
    TemplateCase("olmo3", "olmo3", ("think",), True, False, _gen("", "</think>\n"),
                 model_id="allenai/Olmo-3-7B-Think"),
    TemplateCase("exaone_deep", "exaone", ("exaone",), True, False, _gen("", "\n</thought>\n\n"),
                 model_id="LGAI-EXAONE/EXAONE-Deep-7.8B"),
    TemplateCase("exaone4", "exaone", ("exaone",), True, False, _gen("", "\n</think>\n\n"),
                 model_id="LGAI-EXAONE/EXAONE-4.0-1.2B", enable_kwargs={"enable_thinking": True},
                 disable_kwargs={"enable_thinking": False}, default_disabled=True),
    TemplateCase("glm45", "glm", ("glm",), False, False, _gen("\n<think>", "</think>\n"),
                 model_id="zai-org/GLM-4.5-Air", disable_kwargs={"enable_thinking": False}),
    TemplateCase("seed_oss", "seed_oss", ("seed_oss",), False, True, _gen("<seed:think>", "</seed:think>"),
                 model_id="ByteDance-Seed/Seed-OSS-36B-Instruct", disable_kwargs={"thinking_budget": 0}),
    TemplateCase("kimi", "kimi", ("think",), False, False, _gen("◁think▷", "◁/think▷"),
                 model_id="moonshotai/Kimi-VL-A3B-Thinking-2506"),
    TemplateCase("hunyuan", "hunyuan", ("hunyuan",), False, False,
                 _gen("<think>\n", "\n</think>\n", "<answer>\n" + ANSWER + "\n</answer>"),
                 model_id="tencent/Hunyuan-A13B-Instruct", disable_kwargs={"enable_thinking": False}),
    TemplateCase("granite32", "granite", ("granite",), False, False,
                 _gen("Here is my thought process:\n", "\nHere is my response:\n"),
                 model_id="ibm-granite/granite-3.2-8b-instruct", enable_kwargs={"thinking": True},
                 disable_kwargs={"thinking": False}, default_disabled=True),
    TemplateCase("phi4_reasoning", "phi4_reasoning", ("think",), False, False, _gen("<think>\n", "\n</think>\n\n"),
                 model_id="microsoft/Phi-4-reasoning"),
    TemplateCase("nemotron_nano2", "nemotron", ("nemotron",), True, False, _gen("", "\n</think>\n\n"),
                 model_id="nvidia/NVIDIA-Nemotron-Nano-9B-v2", disable_system="/no_think"),
    TemplateCase("cohere", "cohere", ("cohere",), True, True,
                 _gen("", "<|END_THINKING|>", "<|START_TEXT|>" + ANSWER + "<|END_TEXT|>"),
                 model_id="CohereLabs/command-a-reasoning-08-2025", disable_kwargs={"reasoning": False}),
    TemplateCase("chatml", "think", ("think",), False, False, ANSWER),
]

# Templates written to reproduce what tells real templates apart (their markers, prompts and switches), used by
# the detection tests; the real ones they stand for are named in each template's comment. ``template_formats``
# with several names: the template is genuinely ambiguous, detection must say so and list (at least) them.
DETECT_CASES: list[TemplateCase] = [
    TemplateCase("granite33", "granite", ("granite",), False, False,
                 _gen("<think>", "</think>", "<response>" + ANSWER + "</response>"),
                 model_id="ibm-granite/granite-3.3-8b-instruct", enable_kwargs={"thinking": True},
                 disable_kwargs={"thinking": False}, default_disabled=True),
    TemplateCase("glm47", "glm47", ("glm47",), True, False, _gen("", "</think>"), model_id="zai-org/GLM-4.7-Flash",
                 disable_kwargs={"enable_thinking": False}),
    TemplateCase("kimi_k2_thinking", "kimi_k2", ("kimi_k2",), False, False, _gen("<think>", "</think>"),
                 model_id="moonshotai/Kimi-K2-Thinking"),
    TemplateCase("gemma4", "gemma4", ("gemma4",), False, True, _gen("<|channel>thought\n", "<channel|>"),
                 model_id="google/gemma-4-31B-it", enable_kwargs={"enable_thinking": True},
                 disable_kwargs={"enable_thinking": False}, default_disabled=True),
    TemplateCase("apriel", "apriel", ("apriel",), True, False,
                 _gen("", "\n[BEGIN FINAL RESPONSE]\n", ANSWER + "\n[END FINAL RESPONSE]"),
                 model_id="ServiceNow-AI/Apriel-1.6-15b-Thinker"),
    TemplateCase("qwq_tools", "qwq", ("think", "mimo", "minicpmv"), True, False, _gen("", "\n</think>\n\n"),
                 model_id="Qwen/QwQ-32B", enable_kwargs={"enable_thinking": True},
                 disable_kwargs={"enable_thinking": False}, default_disabled=True),
]
ALL_CASES: list[TemplateCase] = TEMPLATE_CASES + DETECT_CASES

_CASES_BY_NAME = {c.name: c for c in ALL_CASES}
TEMPLATE_NAMES: tuple[str, ...] = tuple(_CASES_BY_NAME)


def case(name: str) -> TemplateCase:
    """The ``TemplateCase`` called ``name``."""
    return _CASES_BY_NAME[name]


def template_source(name: str) -> str:
    """The Jinja text of fixture template ``name`` (``tests/templates/<name>.jinja``)."""
    return (TEMPLATES_DIR / f"{name}.jinja").read_text(encoding="utf-8")


# A tiny corpus: enough English, digits and chat-ish words for a few hundred merges (tokens then span several
# characters, as in a real tokenizer, which is what offset-based masking has to cope with).
_CORPUS = [
    "You are a helpful assistant. What is 2 + 3? The answer is 5. Two plus three makes five.",
    "Let me think about this step by step. First, we add the numbers. Then we check the result.",
    "The user asks a question and the assistant answers it. The system gives instructions.",
    "Okay, so the question is about arithmetic: 12 * 7 = 84, and 84 / 4 = 21. Therefore the answer is 21.",
    "Here is my thought process: I reason about the problem. Here is my response: the final answer.",
    "Reasoning mode, thinking budget, instructions, channel, message, analysis, final, answer, summary.",
    "user assistant system developer think thought response solution section conversation\n\n",
    "In the thought section work through the problem in detail; in the solution section state the answer.",
]


@lru_cache(maxsize=1)
def _base_tokenizer_json() -> str:
    """Train the shared byte-level BPE once (a few milliseconds) and keep it serialized."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    return tok.to_str()


@lru_cache(maxsize=64)
def _family_tokenizer_json(name: str | None) -> str:
    from tokenizers import AddedToken, Tokenizer

    spec = _NO_TEMPLATE_SPEC if name is None else TOKEN_SPECS[name]
    tok = Tokenizer.from_str(_base_tokenizer_json())
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in spec.special])
    if spec.added:
        tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in spec.added])
    return tok.to_str()


def make_tokenizer(template_name: str | None, model_id: str | None = None):
    """A fresh ``PreTrainedTokenizerFast`` for fixture ``template_name`` (None: no chat template at all).

    ``model_id`` sets ``name_or_path`` (what a tokenizer loaded from the Hub would report), so code that looks
    a model id up (``formats.rule_for_model``) sees it; by default it is empty.
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    if template_name is not None and template_name not in TOKEN_SPECS:
        raise KeyError(f"no fixture template {template_name!r}; known: {', '.join(TOKEN_SPECS)}")
    spec = _NO_TEMPLATE_SPEC if template_name is None else TOKEN_SPECS[template_name]
    kwargs: dict[str, Any] = {"name_or_path": model_id or ""}
    if spec.bos:
        kwargs["bos_token"] = spec.bos
    if spec.eos:
        kwargs["eos_token"] = spec.eos
    if template_name is not None:
        kwargs["chat_template"] = template_source(template_name)
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_family_tokenizer_json(template_name)), **kwargs
    )


def mixed_conversations(name: str) -> list[list[dict]]:
    """Answer-only, real-trace (several reasoning keys), inline-trace, blank-trace and multi-turn targets."""
    base = case(name).messages()
    history = [{"role": "user", "content": "Hi"},
               {"role": "assistant", "content": "Hello.", "reasoning_content": "greet back"}]
    return [
        base + [{"role": "assistant", "content": ANSWER}],
        base + [{"role": "assistant", "content": ANSWER, "reasoning": REASONING}],
        base + [{"role": "assistant", "content": ANSWER, "reasoning_content": REASONING, "thinking": REASONING}],
        base + [{"role": "assistant", "content": f"<think>{REASONING}</think>{ANSWER}"}],
        base + [{"role": "assistant", "content": ANSWER, "reasoning": "  \n"}],
        history + [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": ANSWER, "tool_calls": None}],
    ]
