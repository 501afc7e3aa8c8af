"""Table-driven cases for every family in the registry: its documented output shapes, prefilled and not.

Each row: (format, generation, prefilled, expected status, expected reasoning, expected answer). The
shapes follow shared/reference/trace_conventions.md (what each family's model writes after its prompt).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from lm_eval_thinkpack import (
    FORMATS,
    FormatSpecError,
    UnknownFormatError,
    all_formats,
    classify,
    get_format,
    prompt_is_prefilled,
    register_format,
    with_token_suffix,
)
from lm_eval_thinkpack.formats import BUILTIN_FORMATS, VLLM_PARSERS_SINCE, rule_for_model

V, E, M, T = "valid", "empty", "missing", "truncated"

CASES: list[tuple[str, str, bool, str, str, str]] = [
    # generic R1-style
    ("think", "<think>\nLet me add.\n</think>\n\n42", False, V, "Let me add.", "42"),
    ("think", "<think>\n\n</think>\n\n42", False, E, "", "42"),
    ("think", "<think>\nStill going", False, T, "Still going", ""),
    ("think", "42", False, M, "", "42"),
    # Qwen3 hybrid: the model writes the opener itself; disabled mode leaves no tags in the output
    ("qwen3", "<think>\nOkay, 6*7.\n</think>\n\nThe answer is 42.", False, V, "Okay, 6*7.", "The answer is 42."),
    ("qwen3", "<think>\n\n</think>\n\n42", False, E, "", "42"),
    ("qwen3", "The answer is 42.", False, M, "", "The answer is 42."),
    ("qwen3", "<think>\nHmm, let me", False, T, "Hmm, let me", ""),
    # Qwen3-Thinking-2507 / Qwen3.5: prefilled, output holds only the closer
    ("qwen3", "Okay, 6*7.\n</think>\n\n42", True, V, "Okay, 6*7.", "42"),
    ("qwen3", "Okay, 6 times", True, T, "Okay, 6 times", ""),
    ("qwen3", "<think>\nI call a tool.\n<tool_call>\n<function=add>", False, V, "I call a tool.",
     "<tool_call>\n<function=add>"),
    # QwQ-32B: prefilled '<think>\n'
    ("qwq", "Let me see.\n</think>\n\n**42**", True, V, "Let me see.", "**42**"),
    ("qwq", "\n</think>\n\n42", True, E, "", "42"),
    ("qwq", "Let me see, the", True, T, "Let me see, the", ""),
    ("qwq", "<think>\nEchoed opener.\n</think>\n\n42", True, V, "Echoed opener.", "42"),
    # DeepSeek-R1 (Jan template: model writes <think>) and R1-Distill (prefilled)
    ("deepseek_r1", "<think>\nFirst.\n</think>\n\n42", False, V, "First.", "42"),
    ("deepseek_r1", "<think>\n\n</think>\n\n42", False, E, "", "42"),
    ("deepseek_r1", "First.\n</think>\n\n42", True, V, "First.", "42"),
    ("deepseek_r1", "First, we", True, T, "First, we", ""),
    # DeepSeek-V3.1/3.2 thinking: prompt ends '<think>' (no newline)
    ("deepseek_v3", "Reasoning here</think>42", True, V, "Reasoning here", "42"),
    ("deepseek_v3", "</think>42", True, E, "", "42"),
    ("deepseek_v3", "42", False, M, "", "42"),
    # Phi-4-reasoning: model writes the tags (system prompt shows them, but only the completion is read)
    ("phi4_reasoning", "<think> Thought: 6*7=42 </think> Solution: 42", False, V, "Thought: 6*7=42", "Solution: 42"),
    ("phi4_reasoning", "<think> Thought:", False, T, "Thought:", ""),
    # gpt-oss harmony with special tokens kept
    ("gpt_oss", "<|channel|>analysis<|message|>User asks 6*7.<|end|><|start|>assistant<|channel|>final<|message|>42"
                "<|return|>", False, V, "User asks 6*7.", "42"),
    ("gpt_oss", "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>42", False, E, "",
     "42"),
    ("gpt_oss", "<|channel|>analysis<|message|>User asks 6", False, T, "User asks 6", ""),
    ("gpt_oss", "<|channel|>final<|message|>42", False, E, "", "42"),
    # gpt-oss decoded with skip_special_tokens=True
    ("gpt_oss", "analysisUser asks 6*7.assistantfinal42", False, V, "User asks 6*7.", "42"),
    ("gpt_oss", "analysisUser asks 6*7 and", False, T, "User asks 6*7 and", ""),
    ("gpt_oss", "The analysis shows 42.", False, M, "", "The analysis shows 42."),
    # Magistral 2507+ control tokens kept, and 2506 plain-text tags
    ("magistral", "[THINK]Compute 6*7.[/THINK]The answer is 42.", False, V, "Compute 6*7.", "The answer is 42."),
    ("magistral", "[THINK][/THINK]42", False, E, "", "42"),
    ("magistral", "[THINK]Compute", False, T, "Compute", ""),
    ("magistral", "<think>\nCompute 6*7.\n</think>\n\n42", False, V, "Compute 6*7.", "42"),
    ("magistral", "<think>I write [THINK] tags in my notes.</think>42", False, V, "I write [THINK] tags in my notes.",
     "42"),
    # SmolLM3
    ("smollm3", "<think>\nSmall steps.\n</think>\n42", False, V, "Small steps.", "42"),
    ("smollm3", "<think>\n\n</think>\n42", False, E, "", "42"),
    ("smollm3", "42", False, M, "", "42"),
    # Olmo-3-Think: prompt ends '<think>' (no newline)
    ("olmo3", "Okay, so 6*7.</think>42", True, V, "Okay, so 6*7.", "42"),
    ("olmo3", "Okay, so", True, T, "Okay, so", ""),
    # Granite 3.2 phrases, Granite 3.3 think/response
    ("granite", "Here is my thought process: 6*7=42. Here is my response: 42", False, V, "6*7=42.", "42"),
    ("granite", "Here's my thought process: 6*7. Here's my response: 42", False, V, "6*7.", "42"),
    ("granite", "Here is my thought process: 6*7", False, T, "6*7", ""),
    ("granite", "<think>6*7=42</think><response>42</response>", False, V, "6*7=42", "42"),
    ("granite", "42", False, M, "", "42"),
    # EXAONE Deep (<thought>, prefilled) and EXAONE 4.0 (<think>, prefilled when enabled)
    ("exaone", "Let me compute.\n</thought>\n\n42", True, V, "Let me compute.", "42"),
    ("exaone", "\n</thought>\n\n42", True, E, "", "42"),
    ("exaone", "Let me", True, T, "Let me", ""),
    ("exaone", "Let me compute.\n</think>\n\n42", True, V, "Let me compute.", "42"),
    # Nemotron (v1.5 writes tags; Nano 2 prefilled)
    ("nemotron", "<think>\nDetailed.\n</think>\n\n42", False, V, "Detailed.", "42"),
    ("nemotron", "<think></think>42", False, E, "", "42"),
    ("nemotron", "Detailed.\n</think>\n\n42", True, V, "Detailed.", "42"),
    # GLM-4.5/4.6: model emits '\n<think>...</think>'
    ("glm", "\n<think>GLM reasons.</think>\n42", False, V, "GLM reasons.", "42"),
    ("glm", "\n<think></think>\n42", False, E, "", "42"),
    ("glm", "\n<think>GLM reas", False, T, "GLM reas", ""),
    # Seed-OSS
    ("seed_oss", "<seed:think>Seed reasons.</seed:think>42", False, V, "Seed reasons.", "42"),
    ("seed_oss", "<seed:think>\n</seed:think>42", False, E, "", "42"),
    ("seed_oss", "<seed:think>Seed", False, T, "Seed", ""),
    # Kimi (plain tokens) and Kimi K2-Thinking
    ("kimi", "◁think▷Kimi reasons.◁/think▷42", False, V, "Kimi reasons.", "42"),
    ("kimi", "◁think▷Kimi", False, T, "Kimi", ""),
    ("kimi_k2", "<think>K2 reasons.</think>42", False, V, "K2 reasons.", "42"),
    ("kimi_k2", "<think>I will call<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0", False, V,
     "I will call", "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0"),
    ("kimi_k2", "<think>The section marker <|tool_calls_section_begin|> starts calls, so", False, T,
     "The section marker <|tool_calls_section_begin|> starts calls, so", ""),
    # Hunyuan-A13B: answer inside <answer>
    ("hunyuan", "<think>\nHunyuan reasons.\n</think>\n<answer>\n42\n</answer>", False, V, "Hunyuan reasons.", "42"),
    ("hunyuan", "<think>\n\n</think>\n<answer>\n42\n</answer>", False, E, "", "42"),
    ("hunyuan", "<think>\nHunyuan", False, T, "Hunyuan", ""),
    # MiniMax-M1 (<think>\n...\n</think>\n), M2 (prefilled), M3 (<mm:think>)
    ("minimax", "<think>\nM1 reasons.\n</think>\n42", False, V, "M1 reasons.", "42"),
    ("minimax", "M2 reasons.\n</think>\n\n42", True, V, "M2 reasons.", "42"),
    ("minimax", "<mm:think>M3 reasons.</mm:think>42", False, V, "M3 reasons.", "42"),
    # Sky-T1 / OpenThinker v1: answer inside solution tags
    ("sky_t1", "<|begin_of_thought|>\n\nSky reasons.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n42\n\n"
               "<|end_of_solution|>", False, V, "Sky reasons.", "42"),
    ("sky_t1", "<|begin_of_thought|>\n\nSky", False, T, "Sky", ""),
    # Cohere Command A Reasoning: prefilled START_THINKING, answer in START_TEXT
    ("cohere", "Cohere reasons.<|END_THINKING|><|START_TEXT|>42<|END_TEXT|>", True, V, "Cohere reasons.", "42"),
    ("cohere", "Cohere reasons.<|END_THINKING|><|START_ACTION|>[call]", True, V, "Cohere reasons.",
     "<|START_ACTION|>[call]"),
    ("cohere", "Cohere", True, T, "Cohere", ""),
    # ERNIE-4.5-Thinking: start tag not generated, answer in <response>
    ("ernie", "abc\n</think>\n\n<response>\ndef\n</response>", True, V, "abc", "def"),
    ("ernie", "abc\n</think>\n\n<response>\ndef\n</response>", False, V, "abc", "def"),
    # Gemma 4: '<|channel>thought' ... '<channel|>', opt-in; a tool call may end the channel
    ("gemma4", "<|channel>thought\nGemma reasons.<channel|>42", False, V, "Gemma reasons.", "42"),
    ("gemma4", "<|channel>thought\n<channel|>42", False, E, "", "42"),
    ("gemma4", "<|channel>thought\nGemma", False, T, "Gemma", ""),
    ("gemma4", "42", False, M, "", "42"),
    ("gemma4", "Gemma reasons.<channel|>42", True, V, "Gemma reasons.", "42"),
    ("gemma4", "<|channel>thought\nNeed weather.<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}", False, V,
     "Need weather.", "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}"),
    # Kimi K3: 3-token markers, answer in the response block; serving may prefill the opener
    ("kimi_k3", "<|open|>think<|sep|>K3 reasons.<|close|>think<|sep|><|open|>response<|sep|>42"
                "<|close|>response<|sep|>", False, V, "K3 reasons.", "42"),
    ("kimi_k3", "<|open|>think<|sep|><|close|>think<|sep|><|open|>response<|sep|>42<|close|>response<|sep|>",
     False, E, "", "42"),
    ("kimi_k3", "K3 reasons and", True, T, "K3 reasons and", ""),
    ("kimi_k3", "<|open|>response<|sep|>42<|close|>response<|sep|>", False, M, "", "42"),
    ("kimi_k3", "K3 reasons.<|close|>think<|sep|><|open|>response<|sep|>42<|close|>message<|sep|>", True, V,
     "K3 reasons.", "42"),
    # K2 Horizon: effort-specific tags, reasoning forced (prefilled)
    ("k2_horizon", "K2H reasons.</ifm|think>42", True, V, "K2H reasons.", "42"),
    ("k2_horizon", "<ifm|think_fast>Quick.</ifm|think_fast>42", False, V, "Quick.", "42"),
    ("k2_horizon", "<ifm|think_faster></ifm|think_faster>42", False, E, "", "42"),
    ("k2_horizon", "K2H reasons", True, T, "K2H reasons", ""),
    ("k2_horizon", "<ifm|think_fast>mentions </ifm|think> then", False, T, "mentions </ifm|think> then", ""),
    ("k2_horizon", "42", False, M, "", "42"),
    # Muse Spark / Glimmer: to=self channel, answer on to=user
    ("muse", " to=self<|message|>Muse reasons.<|eom|><|start|>assistant to=user<|message|>42<|eot|>", False, V,
     "Muse reasons.", "42"),
    ("muse", " to=self<|message|><|eom|><|start|>assistant to=user<|message|>42<|eot|>", False, E, "", "42"),
    ("muse", " to=self<|message|>Muse", False, T, "Muse", ""),
    ("muse", " to=user<|message|>42<|eot|>", False, M, "", "42"),
    # a channel header ends an open to=self body (the model skipped <|eom|>); a bare <atem:...> echo does not
    ("muse", " to=self<|message|>Need a tool. to=functions.calc<|message|><atem:function_calls><atem:invoke", False,
     V, "Need a tool.", "to=functions.calc<|message|><atem:function_calls><atem:invoke"),
    ("muse", " to=self<|message|>Plan. to=user<|message|>42<|eot|>", False, V, "Plan.", "42"),
    ("muse", " to=self<|message|>I write <atem:function_calls><atem:invoke name=\"f\"> to call, so", False, T,
     "I write <atem:function_calls><atem:invoke name=\"f\"> to call, so", ""),
    ("muse", " to=self<|message|>A second to=self<|message|> header is text", False, T,
     "A second to=self<|message|> header is text", ""),
    # Inkling: typed blocks
    ("inkling", "<|message_model|><|content_thinking|>Ink reasons.<|end_message|><|message_model|><|content_text|>42"
                "<|end_message|>", False, V, "Ink reasons.", "42"),
    ("inkling", "<|message_model|><|content_thinking|><|end_message|><|message_model|><|content_text|>42"
                "<|end_message|>", False, E, "", "42"),
    ("inkling", "<|message_model|><|content_thinking|>Ink", False, T, "Ink", ""),
    ("inkling", "<|message_model|><|content_text|>42<|end_message|>", False, M, "", "42"),
    # end of sampling closes a block too (vLLM's inkling parser): a closed trace, and the token is no answer text
    ("inkling", "<|message_model|><|content_thinking|>Ink reasons.<|content_model_end_sampling|>", False, V,
     "Ink reasons.", ""),
    ("inkling", "<|message_model|><|content_thinking|>Ink.<|end_message|><|message_model|><|content_text|>42"
                "<|content_model_end_sampling|>", False, V, "Ink.", "42"),
    # PLaMo 3
    ("plamo3", "<|plamo:begin_think:plamo|>PLaMo reasons.<|plamo:end_think:plamo|>42", False, V, "PLaMo reasons.",
     "42"),
    ("plamo3", "<|plamo:begin_think:plamo|><|plamo:end_think:plamo|>42", False, E, "", "42"),
    ("plamo3", "PLaMo reasons", True, T, "PLaMo reasons", ""),
    ("plamo3", "42", False, M, "", "42"),
    # Tencent HY 3/4 (unsuffixed spelling; see test_token_suffix for the suffixed one)
    ("hy", "<think>HY reasons.</think>42", False, V, "HY reasons.", "42"),
    ("hy", "<think></think>42", False, E, "", "42"),
    ("hy", "<think>HY", False, T, "HY", ""),
    ("hy", "42", False, M, "", "42"),
    ("hy", "<think>Need a tool.<tool_calls>\n<tool_call>f<tool_sep>", False, V, "Need a tool.",
     "<tool_calls>\n<tool_call>f<tool_sep>"),
    # LongCat-Flash-Thinking
    ("longcat", "<longcat_think>Cat reasons.</longcat_think>42", False, V, "Cat reasons.", "42"),
    ("longcat", "<longcat_think></longcat_think>42", False, E, "", "42"),
    ("longcat", "<longcat_think>Cat", False, T, "Cat", ""),
    ("longcat", "42", False, M, "", "42"),
    # Apriel Thinker: prefilled prose, answer between the final-response markers
    ("apriel", "Step 1: 6*7=42.\n[BEGIN FINAL RESPONSE]\n42\n[END FINAL RESPONSE]", True, V, "Step 1: 6*7=42.", "42"),
    ("apriel", "\n[BEGIN FINAL RESPONSE]\n42\n[END FINAL RESPONSE]", True, E, "", "42"),
    ("apriel", "Step 1: 6*7", True, T, "Step 1: 6*7", ""),
    ("apriel", "Here are my reasoning steps:\nStep 1.\n[BEGIN FINAL RESPONSE]42[END FINAL RESPONSE]", False, V,
     "Step 1.", "42"),
    ("apriel", "42", False, M, "", "42"),
    # Reka Flash 3
    ("reka", "<reasoning>Reka reasons.</reasoning>42<sep>", False, V, "Reka reasons.", "42"),
    ("reka", "<reasoning></reasoning>42", False, E, "", "42"),
    ("reka", "<reasoning>Reka", False, T, "Reka", ""),
    ("reka", "42", False, M, "", "42"),
    # Solar Open
    # Solar Open: the think message ends with <|end|>, the answer is the next <|content|> message
    ("solar_open", "<|think|>Solar reasons.<|end|><|begin|>assistant<|content|>42<|end|>", False, V, "Solar reasons.",
     "42"),
    ("solar_open", "<|think|><|end|><|begin|>assistant<|content|>42", False, E, "", "42"),
    ("solar_open", "<|think|>Solar", False, T, "Solar", ""),
    ("solar_open", "<|content|>42<|end|>", False, M, "", "42"),
    ("solar_open", "<|think|>Need a tool.<|end|><|begin|>assistant<|tool_calls|>[]", False, V, "Need a tool.",
     "<|begin|>assistant<|tool_calls|>[]"),
    # Solar Open2: the template prefills <|think:start|>; a tool call (name line) ends an open trace
    ("solar_open2", "Solar reasons.<|think:end|>42", True, V, "Solar reasons.", "42"),
    ("solar_open2", "<|think:end|>42", True, E, "", "42"),
    ("solar_open2", "Solar reasons", True, T, "Solar reasons", ""),
    ("solar_open2", "<|think:start|>Solar reasons.<|think:end|>42", False, V, "Solar reasons.", "42"),
    ("solar_open2", "42", False, M, "", "42"),
    ("solar_open2", "Need data.\n<|tool_call:start|>search\n<|tool_arg:start|>q<|tool_arg:value|>x<|tool_arg:end|>"
     "\n<|tool_call:end|>", True, V, "Need data.",
     "<|tool_call:start|>search\n<|tool_arg:start|>q<|tool_arg:value|>x<|tool_arg:end|>\n<|tool_call:end|>"),
    ("solar_open2", "The <|tool_call:start|> sentinel opens a call, so", True, T,
     "The <|tool_call:start|> sentinel opens a call, so", ""),
    # DeepSeek V4 / V4.1: DSML tool markup ends an open trace
    ("deepseek_v4", "V4 reasons.</think>42", True, V, "V4 reasons.", "42"),
    ("deepseek_v4", "</think>42", True, E, "", "42"),
    ("deepseek_v4", "V4 reasons", True, T, "V4 reasons", ""),
    ("deepseek_v4", "42", False, M, "", "42"),
    ("deepseek_v4", "Need data.\n\n<\uff5cDSML\uff5ctool_calls>\n<\uff5cDSML\uff5cinvoke name=\"f\">", True, V,
     "Need data.", "<\uff5cDSML\uff5ctool_calls>\n<\uff5cDSML\uff5cinvoke name=\"f\">"),
    ("deepseek_v4", "Need data.<\uff5cDSML\uff5c calls><\uff5cDSML\uff5c invoke name=\"f\">", True, V, "Need data.",
     "<\uff5cDSML\uff5c calls><\uff5cDSML\uff5c invoke name=\"f\">"),
    ("deepseek_v4", "The <\uff5cDSML\uff5ctool_calls> block is how I call, so", True, T,
     "The <\uff5cDSML\uff5ctool_calls> block is how I call, so", ""),
    # Step3 / Step-3.5: prefilled, only the closer is generated
    ("step3", "Step reasons.\n</think>\n42", True, V, "Step reasons.", "42"),
    ("step3", "\n</think>\n42", True, E, "", "42"),
    ("step3", "Step reasons", True, T, "Step reasons", ""),
    ("step3", "Step reasons.</think>42", False, V, "Step reasons.", "42"),
    # MiMo, Ling 3, MiniCPM-V, Granite 4.x: <think> plus their tool-call grammars
    ("mimo", "<think>MiMo reasons.</think>42", False, V, "MiMo reasons.", "42"),
    ("mimo", "<think></think>42", False, E, "", "42"),
    ("mimo", "<think>MiMo", False, T, "MiMo", ""),
    ("mimo", "42", False, M, "", "42"),
    ("mimo", "MiMo reasons.\n<tool_call>\n<function=f>", True, V, "MiMo reasons.", "<tool_call>\n<function=f>"),
    ("ling3", "<think>Ling reasons.</think>42", False, V, "Ling reasons.", "42"),
    ("ling3", "<think></think>42", False, E, "", "42"),
    ("ling3", "Ling reasons", True, T, "Ling reasons", ""),
    ("ling3", "42", False, M, "", "42"),
    ("ling3", "Ling reasons.<tool_call>get_weather\n<arg_key>city</arg_key>", True, V, "Ling reasons.",
     "<tool_call>get_weather\n<arg_key>city</arg_key>"),
    ("minicpmv", "<think>CPM reasons.</think>42", False, V, "CPM reasons.", "42"),
    ("minicpmv", "<think></think>42", False, E, "", "42"),
    ("minicpmv", "<think>CPM", False, T, "CPM", ""),
    ("minicpmv", "42", False, M, "", "42"),
    ("minicpmv", "CPM reasons.\n<tool_call>\n<function=f>", True, V, "CPM reasons.", "<tool_call>\n<function=f>"),
    # MiniCPM 5: its tool parser (vLLM minicpm5) reads '<function name=...>' XML, the call that ends its trace; that
    # call is no call to MiniCPM-V, nor Qwen3's '<function=' to MiniCPM 5 (issue 21)
    ("minicpm5", "<think>CPM5 reasons.</think>42", False, V, "CPM5 reasons.", "42"),
    ("minicpm5", "<think>\n\n</think>\n\n42", False, E, "", "42"),
    ("minicpm5", "CPM5 reasons", True, T, "CPM5 reasons", ""),
    ("minicpm5", "42", False, M, "", "42"),
    ("minicpm5", 'CPM5 reasons.\n<function name="f"><param name="x">1</param></function>', True, V, "CPM5 reasons.",
     '<function name="f"><param name="x">1</param></function>'),
    ("minicpm5", "Need it.<functionname=\"f\"><param name=\"x\">1</param></function>", True, V, "Need it.",
     "<functionname=\"f\"><param name=\"x\">1</param></function>"),  # the glued spelling its parser also reads
    ("minicpm5", "A <function tag, or <function=f> is no call here", True, T,
     "A <function tag, or <function=f> is no call here", ""),
    ("minicpmv", 'CPM reasons.<function name="f"></function>', True, T, 'CPM reasons.<function name="f"></function>',
     ""),
    ("granite4", "<think>Granite 4 reasons.\n</think>\n42", False, V, "Granite 4 reasons.", "42"),
    ("granite4", "<think>\n</think>\n42", False, E, "", "42"),
    ("granite4", "Granite 4", True, T, "Granite 4", ""),
    ("granite4", "42", False, M, "", "42"),
    # Issue 21, implicit closes in the shape each family's vLLM 0.32 tool parser reads (tests/vllm/test_tool_parsers.py)
    # and wherever vLLM's reasoning grammar leaves reasoning for a tool call: Seed-OSS, MiniMax M2, Magistral,
    # DeepSeek V4's third spelling
    ("seed_oss", "<seed:think>Need it.<seed:tool_call>\n<function=f>\n</function>\n</seed:tool_call>", False, V,
     "Need it.", "<seed:tool_call>\n<function=f>\n</function>\n</seed:tool_call>"),
    ("seed_oss", "<seed:think>A <seed:tool_call> tag, so", False, T, "A <seed:tool_call> tag, so", ""),
    ("minimax", 'Need it.\n<minimax:tool_call>\n<invoke name="f">\n</invoke>\n</minimax:tool_call>', True, V,
     "Need it.", '<minimax:tool_call>\n<invoke name="f">\n</invoke>\n</minimax:tool_call>'),
    ("minimax", "The <minimax:tool_call> block, so", True, T, "The <minimax:tool_call> block, so", ""),
    ("magistral", '[THINK]Need it.[TOOL_CALLS]f[ARGS]{"x": 1}', False, V, "Need it.", '[TOOL_CALLS]f[ARGS]{"x": 1}'),
    ("magistral", "[THINK][TOOL_CALLS] starts a call, so", False, T, "[TOOL_CALLS] starts a call, so", ""),
    ("deepseek_v4", 'Need data.<\uff5cDSML\uff5ctool><\uff5cDSML\uff5cinvoke name="f">', True, V, "Need data.",
     '<\uff5cDSML\uff5ctool><\uff5cDSML\uff5cinvoke name="f">'),
    # Kimi K3: a call block names its tool ('call tool="f"'), or its tool parser reads no call
    ("kimi_k3", 'Need it.<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|><|close|>call<|sep|>', True, V,
     "Need it.", '<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|><|close|>call<|sep|>'),
    ("kimi_k3", "Need it.<|open|>tools<|sep|><|open|>call<|sep|>f<|close|>call<|sep|>", True, T,
     "Need it.<|open|>tools<|sep|><|open|>call<|sep|>f<|close|>call<|sep|>", ""),
    # Inkling and Muse: the call's own block end (<|end_message|>, <|eom|>) also closes thinking blocks; after a call
    # it ends the call, and the call ended the trace. Inkling's raw tool-text block is no call (text to vLLM).
    ("inkling", 'Need it.<|message_model|><|content_invoke_tool_json|>{"name": "f", "args": {}}<|end_message|>', True,
     V, "Need it.", '<|message_model|><|content_invoke_tool_json|>{"name": "f", "args": {}}<|end_message|>'),
    ("inkling", '<|content_thinking|>Need it.<|content_invoke_tool_json|>{"name": "f"}<|end_message|>', False, V,
     "Need it.", '<|content_invoke_tool_json|>{"name": "f"}<|end_message|>'),
    ("inkling", "Need it.<|message_model|><|content_invoke_tool_text|>f x", True, T,
     "Need it.<|message_model|><|content_invoke_tool_text|>f x", ""),
    ("muse", 'Need it.<|start|>assistant to=f<|message|><atem:function_calls><atem:invoke name="f"></atem:invoke>'
             "</atem:function_calls><|eom|>", True, V, "Need it.",
     '<|start|>assistant to=f<|message|><atem:function_calls><atem:invoke name="f"></atem:invoke>'
     "</atem:function_calls><|eom|>"),
    # Poolside (Laguna) and Holo2: DeepSeek-V3-style switches
    ("poolside_v1", "Laguna reasons.</think>42", True, V, "Laguna reasons.", "42"),
    ("poolside_v1", "</think>42", True, E, "", "42"),
    ("poolside_v1", "Laguna", True, T, "Laguna", ""),
    ("poolside_v1", "42", False, M, "", "42"),
    ("holo2", "<think>Holo reasons.</think>42", False, V, "Holo reasons.", "42"),
    ("holo2", "</think>42", True, E, "", "42"),
    ("holo2", "Holo", True, T, "Holo", ""),
    ("holo2", "42", False, M, "", "42"),
    # GLM-4.7: prefills <think>
    ("glm47", "GLM-4.7 reasons.</think>42", True, V, "GLM-4.7 reasons.", "42"),
    ("glm47", "</think>42", True, E, "", "42"),
    ("glm47", "GLM-4.7", True, T, "GLM-4.7", ""),
    ("glm47", "42", False, M, "", "42"),
    ("glm47", "I call.<tool_call>search\n<arg_key>q</arg_key>\n<arg_value>x</arg_value>\n</tool_call>", True, V,
     "I call.", "<tool_call>search\n<arg_key>q</arg_key>\n<arg_value>x</arg_value>\n</tool_call>"),
    ("glm47", "The tag <tool_call> opens a call, so", True, T, "The tag <tool_call> opens a call, so", ""),
    # Apertus
    ("apertus", "<|inner_prefix|>Apertus reasons.<|inner_suffix|>42", False, V, "Apertus reasons.", "42"),
    # rows that complete every family's four classes, prefilled and not
    ("think", "Reasoning.</think>42", True, V, "Reasoning.", "42"),
    ("qwq", "42", False, M, "", "42"),
    ("deepseek_r1", "42", False, M, "", "42"),
    ("deepseek_v3", "Reasoning here, and", True, T, "Reasoning here, and", ""),
    ("phi4_reasoning", "<think>  </think> Solution: 42", False, E, "", "Solution: 42"),
    ("phi4_reasoning", "Solution: 42", False, M, "", "Solution: 42"),
    ("phi4_reasoning", "Thought: 6*7=42 </think> Solution: 42", True, V, "Thought: 6*7=42", "Solution: 42"),
    ("gpt_oss", "User asks 6*7.<|end|><|start|>assistant<|channel|>final<|message|>42<|return|>", True,
     V, "User asks 6*7.", "42"),
    ("magistral", "42", False, M, "", "42"),
    ("magistral", "Compute 6*7.[/THINK]42", True, V, "Compute 6*7.", "42"),
    ("smollm3", "<think>\nSmall", False, T, "Small", ""),
    ("smollm3", "Small steps.\n</think>\n42", True, V, "Small steps.", "42"),
    ("olmo3", "</think>42", True, E, "", "42"),
    ("olmo3", "42", False, M, "", "42"),
    ("granite", "<think></think><response>42</response>", False, E, "", "42"),
    ("granite", "6*7=42</think><response>42</response>", True, V, "6*7=42", "42"),
    ("exaone", "42", False, M, "", "42"),
    ("exaone", "<thought>\nLet me compute.\n</thought>\n42", False, V, "Let me compute.", "42"),
    ("nemotron", "42", False, M, "", "42"),
    ("nemotron", "<think>\nDetailed", False, T, "Detailed", ""),
    ("glm", "42", False, M, "", "42"),
    ("glm", "GLM reasons.</think>\n42", True, V, "GLM reasons.", "42"),
    ("seed_oss", "42", False, M, "", "42"),
    ("seed_oss", "Seed reasons.</seed:think>42", True, V, "Seed reasons.", "42"),
    ("kimi", "◁think▷◁/think▷42", False, E, "", "42"),
    ("kimi", "42", False, M, "", "42"),
    ("kimi", "Kimi reasons.◁/think▷42", True, V, "Kimi reasons.", "42"),
    ("kimi_k2", "<think></think>42", False, E, "", "42"),
    ("kimi_k2", "42", False, M, "", "42"),
    ("kimi_k2", "K2 reasons.</think>42", True, V, "K2 reasons.", "42"),
    ("hunyuan", "<answer>\n42\n</answer>", False, M, "", "42"),
    ("hunyuan", "Hunyuan reasons.\n</think>\n<answer>\n42\n</answer>", True, V, "Hunyuan reasons.", "42"),
    ("minimax", "<think>\n\n</think>\n42", False, E, "", "42"),
    ("minimax", "42", False, M, "", "42"),
    ("minimax", "M2 reasons and", True, T, "M2 reasons and", ""),
    ("sky_t1", "<|begin_of_thought|>\n\n<|end_of_thought|>\n\n<|begin_of_solution|>42<|end_of_solution|>", False,
     E, "", "42"),
    ("sky_t1", "<|begin_of_solution|>\n42\n<|end_of_solution|>", False, M, "", "42"),
    ("sky_t1", "Sky reasons.<|end_of_thought|><|begin_of_solution|>42<|end_of_solution|>", True,
     V, "Sky reasons.", "42"),
    ("cohere", "<|END_THINKING|><|START_TEXT|>42<|END_TEXT|>", True, E, "", "42"),
    ("cohere", "<|START_RESPONSE|>42<|END_RESPONSE|>", False, M, "", "42"),
    ("cohere", "<|START_THINKING|>Cohere reasons.<|END_THINKING|><|START_RESPONSE|>42<|END_RESPONSE|>", False,
     V, "Cohere reasons.", "42"),
    ("ernie", "\n</think>\n\n<response>\n42\n</response>", True, E, "", "42"),
    ("ernie", "<response>\n42\n</response>", False, M, "", "42"),
    ("ernie", "abc, and", True, T, "abc, and", ""),
    ("apertus", "<|inner_prefix|><|inner_suffix|>42", False, E, "", "42"),
    ("apertus", "42", False, M, "", "42"),
    ("apertus", "<|inner_prefix|>Apertus", False, T, "Apertus", ""),
    ("apertus", "Apertus reasons.<|inner_suffix|>42", True, V, "Apertus reasons.", "42"),
    ("muse", "Muse reasons.<|eom|><|start|>assistant to=user<|message|>42<|eot|>", True, V, "Muse reasons.", "42"),
    ("inkling", "Ink reasons.<|end_message|><|message_model|><|content_text|>42<|end_message|>", True,
     V, "Ink reasons.", "42"),
    ("hy", "HY reasons.</think>42", True, V, "HY reasons.", "42"),
    ("longcat", "Cat reasons.</longcat_think>42", True, V, "Cat reasons.", "42"),
    ("reka", "Reka reasons.</reasoning>42", True, V, "Reka reasons.", "42"),
    ("solar_open", "Solar reasons.<|end|><|begin|>assistant<|content|>42<|end|>", True, V, "Solar reasons.", "42"),
    ("step3", "42", False, M, "", "42"),
    ("minicpmv", "CPM reasons.</think>42", True, V, "CPM reasons.", "42"),
    ("gpt_oss", "", False, M, "", ""),
]


@pytest.mark.parametrize(("fmt", "text", "prefilled", "status", "reasoning", "answer"), CASES)
def test_family_shapes(fmt: str, text: str, prefilled: bool, status: str, reasoning: str, answer: str) -> None:
    trace = classify(text, fmt, prefilled=prefilled)
    assert (trace.status, trace.reasoning, trace.answer) == (status, reasoning, answer)
    assert trace.format == fmt


def test_every_family_has_cases_of_all_four_classes_prefilled_and_not() -> None:
    covered = {fmt for fmt, *_ in CASES}
    assert covered == set(BUILTIN_FORMATS), f"families without table cases: {set(BUILTIN_FORMATS) - covered}"
    for fmt in BUILTIN_FORMATS:
        statuses = {status for f, _, _, status, _, _ in CASES if f == fmt}
        assert statuses == {V, E, M, T}, f"{fmt} lacks cases of {sorted({V, E, M, T} - statuses)}"
        flags = {prefilled for f, _, prefilled, *_ in CASES if f == fmt}
        assert flags == {True, False}, f"{fmt} needs cases with and without a prefilled prompt"


# Generation prompts as each family's template renders them (tail only): prefilled or not.
PROMPT_TAILS: list[tuple[str, str, bool]] = [
    ("qwen3", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", False),
    ("qwen3", "<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
    ("qwen3", "<|im_start|>assistant\n<think>\n", True),
    ("qwq", "<|im_start|>assistant\n<think>\n", True),
    ("deepseek_r1", "<｜User｜>Hi<｜Assistant｜><think>\n", True),
    ("deepseek_v3", "<｜User｜>Hi<｜Assistant｜><think>", True),
    ("deepseek_v3", "<｜User｜>Hi<｜Assistant｜></think>", False),
    ("phi4_reasoning", "<|im_start|>system<|im_sep|>Use <think> {Thought section} </think> then answer.<|im_end|>"
                       "<|im_start|>assistant<|im_sep|>", False),
    ("gpt_oss", "<|start|>assistant", False),
    ("magistral", "[SYSTEM_PROMPT]Draft in [THINK]like this[/THINK][/SYSTEM_PROMPT][INST]Hi[/INST]", False),
    ("smollm3", "<|im_start|>assistant\n<think>\n\n</think>\n", False),
    ("olmo3", "<|im_start|>assistant\n<think>", True),
    ("granite", "<|start_of_role|>assistant<|end_of_role|>", False),
    ("exaone", "[|assistant|]<thought>\n", True),
    ("exaone", "[|assistant|]\n<think>\n", True),
    ("exaone", "[|assistant|]\n<think>\n\n</think>\n\n", False),
    ("nemotron", "<SPECIAL_11>Assistant\n<think>\n", True),
    ("nemotron", "<SPECIAL_11>Assistant\n<think></think>", False),
    ("glm", "<|assistant|>\n<think></think>\nold answer<|user|>Hi<|assistant|>", False),
    ("seed_oss", "<seed:bos>assistant\n", False),
    ("kimi", "<|im_assistant|>assistant<|im_middle|>", False),
    ("kimi_k2", "<|im_assistant|>assistant<|im_middle|><think></think>old<|im_end|><|im_assistant|>assistant"
                "<|im_middle|>", False),
    ("hunyuan", "<|extra_0|>", False),
    ("minimax", "]~b]ai\n<think>\n", True),
    ("sky_t1", "<|im_start|>system\nUse <|begin_of_thought|> ... <|end_of_thought|><|im_end|>\n"
               "<|im_start|>assistant\n", False),
    ("cohere", "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|><|START_THINKING|>", True),
    ("cohere", "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|><|START_THINKING|><|END_THINKING|>", False),
    ("ernie", "<|im_start|>assistant\n<think>\n", True),
    ("gemma4", "<|turn>model\n<|channel>thought\n", True),
    ("gemma4", "<|turn>model\n", False),
    ("kimi_k3", "<|open|>assistant<|sep|><|open|>think<|sep|>", True),
    ("k2_horizon", "<ifm|assistant><ifm|think>", True),
    ("muse", "<|start|>assistant", False),
    ("inkling", "<|message_model|><|content_thinking|>", True),
    ("plamo3", "<|plamo:bos|>assistant\n<|plamo:begin_think:plamo|>", True),
    ("hy", "<|hy_Assistant|>", False),
    ("longcat", "[Round 0] USER:Hi /think_on ASSISTANT:", False),
    ("apriel", "<|assistant|>\nHere are my reasoning steps:\n", True),
    ("reka", "human: Hi <sep> assistant:", False),
    ("solar_open", "<|begin|>user<|content|>Hi<|end|><|begin|>assistant", False),
    ("solar_open", "<|begin|>assistant<|think|><|end|><|begin|>assistant", False),
    ("solar_open2", "<|begin|>assistant<|think:start|>", True),
    ("solar_open2", "<|begin|>assistant<|think:start|><|think:end|>", False),
    ("deepseek_v4", "<\uff5cAssistant\uff5c><think>", True),
    ("deepseek_v4", "<\uff5cAssistant\uff5c></think>", False),
    ("step3", "<|BOT|>assistant\n<think>\n", True),
    ("mimo", "<|im_start|>assistant\n", False),
    ("ling3", "<role>ASSISTANT</role><think>", True),
    ("poolside_v1", "<assistant><think>", True),
    ("holo2", "<|im_start|>assistant\n<think>", True),
    ("minicpmv", "<|im_start|>assistant\n<think>\n", True),
    ("minicpm5", "<|im_start|>assistant\n<think>\n", True),
    ("minicpm5", "<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
    ("glm47", "<|assistant|><think>", True),
    ("glm47", "<|assistant|></think>", False),
    ("granite4", "<|start_of_role|>assistant<|end_of_role|><think>\n", True),
    ("apertus", "<|assistant_start|>", False),
    ("think", "Assistant: <think>\n", True),
]


@pytest.mark.parametrize(("fmt", "prompt", "expected"), PROMPT_TAILS)
def test_prompt_is_prefilled(fmt: str, prompt: str, expected: bool) -> None:
    assert prompt_is_prefilled(prompt, fmt) is expected


def test_prompt_tails_cover_every_family() -> None:
    assert {fmt for fmt, _, _ in PROMPT_TAILS} == set(BUILTIN_FORMATS)


def test_registry_entries_are_well_formed() -> None:
    for name, spec in FORMATS.items():
        assert get_format(name) is spec
        for alias in spec.aliases:
            assert get_format(alias) is spec
        assert spec.close and spec.description
        if spec.disabled_insert is not None:
            assert spec.thinking_switch is not None, f"{name}: a disabled insert needs a switch"


# ---- parser names, model ids, token suffixes ------------------------------------------------------------------

VLLM_032_PARSERS = {
    "cohere_command3", "cohere_command4", "deepseek_r1", "deepseek_v3", "deepseek_v4", "deepseek_v41", "ernie45",
    "gemma4", "glm45", "glm47", "granite", "granite_thinking_parser", "holo2", "hunyuan_a13b", "hy_v3", "hy_v4",
    "inkling", "k2_horizon", "kimi_k2", "kimi_k3", "ling3", "mimo", "minicpmv", "minimax_m2",
    "minimax_m2_append_think", "minimax_m3", "mistral", "muse_glimmer", "nemotron_v3", "olmo3", "openai_gptoss",
    "plamo3", "poolside_v1", "qwen3", "seed_oss", "step3", "step3p5",
}  # vLLM 0.32's 38 minus "hf", the response-template parser configured per model (use register_format)
VLLM_033_NEW = {"beam", "muse", "musespark1x", "step5"}  # vllm 0.33.0's wheel: 41 parsers, these 4 not in 0.32
VLLM_MAIN_NEW = {"solar_open2"}  # read in vLLM's main branch after 0.33.0 (no release ships it yet)
SGLANG_0523_DETECTORS = {
    "apertus2509", "beam", "deepseek-r1", "deepseek-v3", "deepseek-v4", "deepseek-v41", "dots", "glm45", "ling3",
    "hunyuan", "gpt-oss", "k2_horizon", "kimi", "kimi_k2", "kimi_k3", "mimo", "muse", "poolside_v1", "qwen3",
    "qwen3-thinking", "minimax", "minimax-append-think", "minimax-m3", "nanbeige", "step3", "step3p5", "mistral",
    "nemotron_3", "granite_thinking_parser", "interns1", "gemma4", "gigachat35", "inkling", "iquest_q1",
    "cohere_command4",
}  # SGLang 0.5.23's DetectorMap minus "response_template" (same reason)


def test_every_engine_parser_maps_to_a_family() -> None:
    vllm = {p for f in FORMATS.values() for p in f.vllm_parsers}
    sglang = {d for f in FORMATS.values() for d in f.sglang_detectors}
    assert VLLM_032_PARSERS <= vllm, VLLM_032_PARSERS - vllm
    assert VLLM_033_NEW <= vllm, VLLM_033_NEW - vllm
    assert VLLM_MAIN_NEW <= vllm, VLLM_MAIN_NEW - vllm
    # the names newer than the tier's vLLM are marked as such, with the release (or main) that has them
    assert VLLM_PARSERS_SINCE == {**dict.fromkeys(VLLM_033_NEW, "0.33"), **dict.fromkeys(VLLM_MAIN_NEW, "main")}
    known = VLLM_032_PARSERS | VLLM_033_NEW | VLLM_MAIN_NEW
    assert vllm <= known, vllm - known  # no invented names
    assert SGLANG_0523_DETECTORS <= sglang, SGLANG_0523_DETECTORS - sglang


@pytest.mark.parametrize(("model_id", "fmt"), [
    ("google/gemma-4-27b-it", "gemma4"), ("moonshotai/Kimi-K3", "kimi_k3"), ("LLM360/K2-Horizon", "k2_horizon"),
    ("tencent/HY-3", "hy"), ("tencent/Hunyuan-A13B-Instruct", "hunyuan"), ("zai-org/GLM-4.7-Flash", "glm47"),
    ("zai-org/GLM-4.6", "glm"), ("ibm-granite/granite-4.2-8b", "granite4"), ("ibm-granite/granite-3.3-8b", "granite"),
    ("stepfun-ai/Step-3.5-Flash", "step3"), ("stepfun-ai/Step-5", "step3"), ("XiaomiMiMo/MiMo-7B-RL", "mimo"),
    ("deepseek-ai/DeepSeek-V4", "deepseek_v4"),
    ("internlm/Intern-S1", "qwen3"), ("ServiceNow-AI/Apriel-1.6-15b-Thinker", "apriel"),
    ("meituan-longcat/LongCat-Flash-Thinking", "longcat"), ("openbmb/MiniCPM-V-4_5", "minicpmv"),
    ("openbmb/MiniCPM5-1B", "minicpm5"), ("openbmb/MiniCPM5-2B", "minicpm5"), ("openbmb/MiniCPM-V-4.6", "minicpmv"),
    ("Hcompany/Holo2-8B", "holo2"), ("upstage/Solar-Open-100B", "solar_open"), ("RekaAI/reka-flash-3", "reka"),
    ("upstage/Solar-Open2-250B", "solar_open2"),
    ("pfnet/plamo-3-nict-31b", "plamo3"), ("inclusionAI/Ling-3-flash", "ling3"), ("poolside/Laguna-XS", "poolside_v1"),
    ("facebook/Muse-Spark", "muse"), ("thinkingmachines/Inkling-1", "inkling"),
])
def test_model_id_rules_for_new_families(model_id: str, fmt: str) -> None:
    rule = rule_for_model(model_id)
    assert rule is not None and rule.format == fmt


def test_token_suffix_is_data_read_from_the_vocabulary() -> None:
    spec = get_format("hy")
    vocab = ["<think:6124c78e>", "</think:6124c78e>", "<tool_calls:6124c78e>", "hello"]
    suffix = next(m.group(1) for tok in vocab if (m := re.fullmatch(spec.vocab_suffix, tok)))
    hy = with_token_suffix("hy", suffix)
    assert hy.open == "<think:6124c78e>" and get_format("hy:6124c78e") is hy and hy in all_formats()
    t = classify("<think:6124c78e>HY reasons.</think:6124c78e>42", hy.name)
    assert (t.status, t.reasoning, t.answer) == (V, "HY reasons.", "42")
    call = "<think:6124c78e>Need it.<tool_calls:6124c78e>\n<tool_call:6124c78e>f<tool_sep>"
    assert classify(call, hy).closed_by == "implicit"
    assert classify("<think:6124c78e>mentions </think> only", hy).status == T
    assert with_token_suffix("hy", "") is spec


# ---- user-defined formats -------------------------------------------------------------------------------------------

USER = {"open": "<r>", "close": "</r>", "answer_open": "<a>", "answer_close": "</a>", "prefilled": False}


def test_register_format_in_python() -> None:
    fmt = register_format(**USER)
    assert fmt.name.startswith("custom_") and fmt.name in FORMATS and fmt in all_formats()
    assert register_format(dict(USER)) is fmt  # same definition, same format
    assert get_format(json.dumps(USER)) is fmt
    t = classify("<r>Mine.</r><a>5</a>", fmt.name)
    assert (t.status, t.reasoning, t.answer) == (V, "Mine.", "5")
    assert classify("<a>5</a>", fmt.name).answer == "5"
    assert classify("<r>cut", fmt.name).status == T
    named = register_format(open="⟪", close="⟫", name="angle_quotes")
    assert get_format("Angle-Quotes") is named and classify("⟪x⟫y", "angle_quotes").answer == "y"
    with pytest.raises(FormatSpecError, match="already registered"):
        register_format(open="⟪", close="⟫⟫", name="angle_quotes")


def test_detection_considers_registered_formats() -> None:
    from lm_eval_thinkpack.detect import detect_format
    from tests.chat_fixtures import make_tokenizer
    fmt = register_format(open="<<reason>>", close="<</reason>>", name="double_angle")
    tok = make_tokenizer(None)
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}assistant: <<reason>>{% endif %}")
    profile = detect_format(tok)
    assert profile.format == fmt.name and profile.prefilled is True


@pytest.mark.parametrize(("spec", "message"), [
    ({"open": "<r>"}, "'close' is required"),
    ({"open": "<r>", "close": ""}, "'close' is required"),
    ({"open": "<r>", "close": "   "}, "empty or blank"),
    ({"close": "</r>", "closer": "x"}, "unknown key(s) ['closer']"),
    ({"close": "</r>", "prefilled": "maybe"}, "'prefilled' must be true or false"),
    ({"close": "</r>", "open": 3}, "'open' must be a string"),
    ({"close": "<r>", "open": "<r>"}, "must differ"),
    ({"close": "</r>", "name": "qwen3"}, "built-in format"),
    ("{not json", "not valid JSON"),
])
def test_bad_user_specs_name_the_problem(spec: object, message: str) -> None:
    with pytest.raises(FormatSpecError, match=re.escape(message)):
        register_format(spec)  # type: ignore[arg-type]


def test_a_docs_format_resolves_in_a_fresh_process() -> None:
    from lm_eval_thinkpack.harness.loader import resolve_profile
    prof = resolve_profile({"trace_format": dict(USER), "prefilled": False})
    assert prof["thinkpack_format"].startswith("custom_")
    assert json.loads(prof["thinkpack_format_spec"])["close"] == ["</r>"]
    assert resolve_profile({"trace_format": json.dumps(USER)})["thinkpack_format"] == prof["thinkpack_format"]
    assert resolve_profile({"trace_format": "qwen3", "prefilled": False})["thinkpack_format_spec"] == ""
    code = ("import sys, json; from lm_eval_thinkpack.harness.filters import classify_response; "
            "doc = json.loads(sys.argv[1]); t, _ = classify_response('<r>Mine.</r><a>5</a>', doc); "
            "print(t.status.value, t.answer)")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(prof)], capture_output=True, text=True, check=True,
                         timeout=300)
    assert out.stdout.split() == ["valid", "5"]
    with pytest.raises(UnknownFormatError, match="pass its spec"):
        get_format("custom_0000000000")


def test_formats_command_imports_neither_torch_nor_transformers() -> None:
    code = ("import sys, io, contextlib; from lm_eval_thinkpack.cli import main; buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf): rc = main(['formats', '-v'])\n"
            "print(rc, [m for m in ('torch', 'transformers', 'lm_eval') if m in sys.modules], 'vLLM: qwen3' in "
            "buf.getvalue())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == "0 [] True"
