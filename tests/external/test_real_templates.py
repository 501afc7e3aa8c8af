"""Detection on 70 real chat templates (llama.cpp's ``models/templates`` from the llama-cpp-python sdist), none of
them written here. Figures are floors: they only go up. Collected only with ``THINKPACK_TEMPLATES`` (conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lm_eval_thinkpack import classify
from lm_eval_thinkpack.detect import detect_format
from lm_eval_thinkpack.template import ChatTemplateError
from tests.chat_fixtures import make_tokenizer

FOLDER = Path(os.environ.get("THINKPACK_TEMPLATES", ""))
NAMES = sorted(p.name for p in FOLDER.glob("*.jinja"))

# the family each reasoning template is (from its model), for the templates whose family the registry has
FAMILY = {
    "Apertus-8B-Instruct.jinja": "apertus", "Apriel-1.6-15b-Thinker-fixed.jinja": "apriel",
    "ByteDance-Seed-OSS.jinja": "seed_oss", "Cohere2MoE.jinja": "cohere", "GLM-4.6.jinja": "glm",
    "GLM-4.7-Flash.jinja": "glm47", "HuggingFaceTB-SmolLM3-3B.jinja": "smollm3", "Kimi-K2-Thinking.jinja": "kimi_k2",
    "Kimi-K3.jinja": "kimi_k3", "MiMo-VL.jinja": "mimo", "MiniMax-M1.jinja": "minimax", "MiniMax-M2.jinja": "minimax",
    "MiniMax-M3.jinja": "minimax", "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.jinja": "nemotron",
    "NVIDIA-Nemotron-Nano-v2.jinja": "nemotron", "Qwen-Qwen3-0.6B.jinja": "qwen3", "Qwen3.5-4B.jinja": "qwen3",
    "Reka-Edge.jinja": "reka", "deepseek-ai-DeepSeek-V3.1.jinja": "deepseek_v3",
    "deepseek-ai-DeepSeek-V3.2.jinja": "deepseek_v3", "deepseek-ai-DeepSeek-V4-Flash-0731.jinja": "deepseek_v4",
    "deepseek-ai-DeepSeek-V4.jinja": "deepseek_v4", "google-gemma-4-31B-it.jinja": "gemma4",
    "ibm-granite-granite-3.3-2B-Instruct.jinja": "granite", "ibm-granite-granite-4.0.jinja": "granite4",
    "inclusionai-ling-3.0-flash.jinja": "ling3", "mistralai-Ministral-3-14B-Reasoning-2512.jinja": "magistral",
    "muse-glimmer.jinja": "muse", "openai-gpt-oss-120b.jinja": "gpt_oss", "openbmb-MiniCPM5-1B.jinja": "minicpm5",
    "poolside-Laguna-XS.2.jinja": "poolside_v1", "tencent-Hy3.jinja": "hy:opensource",
    "upstage-Solar-Open-100B.jinja": "solar_open",
}
FAMILY_FLOOR = 33  # of 33 (issue 21)
RENDER_FLOOR = 64  # of 70 detect a profile; the other 6 need tools/functions or a bos_token to render at all


def _tok(name: str):
    tok = make_tokenizer("chatml")
    tok.chat_template = (FOLDER / name).read_text()
    return tok


def _detect(name: str, **kwargs):
    try:
        return detect_format(_tok(name), **kwargs)
    except ChatTemplateError as exc:  # one clear line, never a raw template error
        assert "\n" not in str(exc)
        return None


def test_every_template_gives_a_profile_or_one_clear_error() -> None:
    assert len(NAMES) == 70
    profiles = sum(_detect(n) is not None for n in NAMES)
    assert profiles >= RENDER_FLOOR, f"{profiles} of {len(NAMES)} templates give a profile"


def test_family_right_floor() -> None:
    right = [n for n, fam in FAMILY.items() if (p := _detect(n)) is not None and p.format == fam and not p.ambiguous]
    wrong = sorted(set(FAMILY) - set(right))
    assert len(right) >= FAMILY_FLOOR, f"{len(right)} of {len(FAMILY)} families right; wrong: {wrong}"


def test_deepseek_v4_flash_thinking_on_is_prefilled() -> None:
    """Its reasoning_effort (a secondary switch) made thinking=True read as disabled, not prefilled."""
    p = _detect("deepseek-ai-DeepSeek-V4-Flash-0731.jinja", thinking=True)
    assert (p.format, p.prefilled, p.thinking_disabled) == ("deepseek_v4", True, False), p.notes
    p = _detect("deepseek-ai-DeepSeek-V4-Flash-0731.jinja", thinking=True, reasoning_effort="max")
    assert (p.prefilled, p.thinking_disabled) == (True, False), p.notes


@pytest.mark.parametrize("kwargs", [{}, {"enable_thinking": True}, {"enable_thinking": False}])
def test_a_chatml_template_without_family_markers_is_not_named_exaone(kwargs) -> None:
    p = _detect("Bielik-11B-v3.0-Instruct.jinja", **kwargs)  # ChatML, a switch, none of any family's markers
    assert p.format != "exaone" and "exaone" not in p.candidates and p.ambiguous, p.notes
    q = _detect("Qwen3.5-4B.jinja", **kwargs)
    assert (q.format, q.ambiguous) == ("qwen3", False), q.notes


def test_minicpm5_is_its_own_family_and_the_call_its_template_writes_ends_a_trace() -> None:
    """Issue 21: MiniCPM 5 read as minicpmv, whose implicit close is Qwen3's '<tool_call>', a call MiniCPM 5 never
    writes. Its template writes '<function name=...>' calls (the shape vLLM's minicpm5 tool parser reads): that call,
    taken from the template's own render, ends an open trace."""
    p = _detect("openbmb-MiniCPM5-1B.jinja", enable_thinking=True)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("minicpm5", False, True, False), p.notes
    call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    rendered = _tok("openbmb-MiniCPM5-1B.jinja").apply_chat_template(
        [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "", "tool_calls": [call]}],
        tokenize=False)
    start = rendered.index("<function")
    written = rendered[start:rendered.index("</function>", start) + len("</function>")]
    assert written == '<function name="get_weather"><param name="city">Paris</param></function>'
    trace = classify("Need the weather.\n" + written, p.format, prefilled=True)
    assert (trace.status.value, trace.closed_by, trace.reasoning, trace.answer) == \
        ("valid", "implicit", "Need the weather.", written)


@pytest.mark.parametrize("name", ["Qwen-QwQ-32B.jinja", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"])
def test_llama_cpps_qwq_and_r1_distill_close_the_trace_unless_enable_thinking_is_passed(name: str) -> None:
    """Read as thinking disabled, and rightly: llama.cpp's copies of these two prefilling templates end the prompt with
    '<think>\\n</think>' unless ``enable_thinking`` is true (``{% if not enable_thinking %}</think>``). llama.cpp's
    server always passes enable_thinking (true by default); ``apply_chat_template`` without kwargs does not, so the
    prompt really closes the trace. The profile says so and names the switch; with it the prompt is prefilled."""
    msgs = [{"role": "user", "content": "What is 2 + 3?"}]
    prompt = _tok(name).apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<think>\n</think>")
    p = _detect(name)
    assert (p.prefilled, p.thinking_disabled) == (False, True), p.notes
    assert any("pass enable_thinking=True" in n for n in p.notes), p.notes
    p = _detect(name, enable_thinking=True)
    assert (p.prefilled, p.thinking_disabled) == (True, False), p.notes
