"""detect_format / profile_for_model_id against the fixture chat templates of tests/tokenizers.py."""

from __future__ import annotations

from typing import Any

import pytest

from lm_eval_thinkpack.classify import classify, prompt_is_prefilled
from lm_eval_thinkpack.detect import TraceProfile, detect_format, profile_for_format, profile_for_model_id
from lm_eval_thinkpack.formats import FORMATS, get_format
from tests.chat_fixtures import ALL_CASES, ANSWER, REASONING, TemplateCase, case, make_tokenizer, template_source

CASE_IDS = [c.name for c in ALL_CASES]
WITH_ID = [c for c in ALL_CASES if c.model_id]
DISABLE = [c for c in ALL_CASES if c.disable_kwargs is not None]


def _prompt(c: TemplateCase, tok: Any, **kwargs: Any) -> str:
    return tok.apply_chat_template(c.messages(), add_generation_prompt=True, tokenize=False, **kwargs)


# --------------------------------------------------------------------------------------------------------------
# one test per fixture template


@pytest.mark.parametrize("c", ALL_CASES, ids=CASE_IDS)
def test_template_only(c: TemplateCase) -> None:
    p = detect_format(make_tokenizer(c.name), **c.enable_kwargs)
    assert isinstance(p, TraceProfile)
    assert p.format in c.template_formats, p.notes
    assert p.format in FORMATS
    assert p.prefilled is c.prefilled, p.notes
    assert p.thinking_disabled is False, p.notes
    assert p.special_delimiters is c.special
    no_tags = c.name in {"kimi", "chatml"}  # templates that never show a trace delimiter
    assert p.source == ("default" if no_tags else "chat_template")
    if len(c.template_formats) > 1:  # several families fit: said, with the candidates and how to settle it
        assert p.ambiguous is True
        assert set(p.candidates) >= set(c.template_formats) and p.candidates[0] == p.format
        note = next(n for n in p.notes if "ambiguous" in n)
        for name in p.candidates:
            assert f"--metadata '{{\"trace_format\": \"{name}\"}}'" in note
    else:
        assert p.ambiguous is False and p.candidates == ()


@pytest.mark.parametrize("c", WITH_ID, ids=[c.name for c in WITH_ID])
def test_with_model_id_in_name_or_path(c: TemplateCase) -> None:
    p = detect_format(make_tokenizer(c.name, model_id=c.model_id), **c.enable_kwargs)
    assert p.format == c.format, p.notes
    assert p.prefilled is c.prefilled
    assert p.thinking_disabled is False
    assert p.special_delimiters is c.special
    assert p.source == ("model_id" if c.name == "kimi" else "chat_template")


@pytest.mark.parametrize("c", DISABLE, ids=[c.name for c in DISABLE])
def test_disable_kwargs(c: TemplateCase) -> None:
    assert c.disable_kwargs is not None
    p = detect_format(make_tokenizer(c.name, model_id=c.model_id), **c.disable_kwargs)
    assert p.format == c.format
    assert p.thinking_disabled is True, p.notes
    assert p.prefilled is False
    assert any("disabled" in n or "configuration" in n for n in p.notes)


@pytest.mark.parametrize("c", [c for c in ALL_CASES if c.default_disabled], ids=lambda c: c.name)
def test_thinking_off_by_default(c: TemplateCase) -> None:
    p = detect_format(make_tokenizer(c.name, model_id=c.model_id))
    assert p.thinking_disabled is True
    assert p.prefilled is False


@pytest.mark.parametrize("c", [c for c in ALL_CASES if c.disable_system], ids=lambda c: c.name)
def test_soft_switch_in_system_message(c: TemplateCase) -> None:
    p = detect_format(make_tokenizer(c.name, model_id=c.model_id), probe_system=c.disable_system)
    assert p.format == c.format  # the format is read from neutral probes
    assert p.thinking_disabled is True
    assert p.prefilled is False
    on = detect_format(make_tokenizer(c.name, model_id=c.model_id))
    assert on.thinking_disabled is False and on.prefilled is c.prefilled


def test_seed_canned_trace_counts_as_disabled() -> None:
    tok = make_tokenizer("seed_oss")
    prompt = _prompt(case("seed_oss"), tok, thinking_budget=0)
    assert prompt.endswith("</seed:think>") and "thinking budget is 0" in prompt  # non-empty canned trace
    assert detect_format(tok, thinking_budget=0).thinking_disabled is True
    assert detect_format(tok, thinking_budget=512).thinking_disabled is False


def test_v31_off_inserts_only_the_closer() -> None:
    tok = make_tokenizer("deepseek_v31")
    assert _prompt(case("deepseek_v31"), tok).endswith("<｜Assistant｜></think>")
    assert _prompt(case("deepseek_v31"), tok, thinking=True).endswith("<｜Assistant｜><think>")


# --------------------------------------------------------------------------------------------------------------
# special delimiters are tested on the tokenizer, not taken from the registry


def test_special_flag_comes_from_the_tokenizer_not_the_registry() -> None:
    assert get_format("magistral").special_delimiters is True  # the registry's family habit (2507+)
    p = detect_format(make_tokenizer("magistral_2506", model_id="mistralai/Magistral-Small-2506"))
    assert p.format == "magistral" and p.special_delimiters is False  # 2506 writes plain-text <think>
    assert detect_format(make_tokenizer("magistral_2507")).special_delimiters is True


def test_qwen_think_tokens_are_vocab_entries_but_not_special() -> None:
    tok = make_tokenizer("qwen3")
    assert len(tok.encode("<think>", add_special_tokens=False)) == 1
    assert tok.decode(tok.encode("<think>x</think>", add_special_tokens=False), skip_special_tokens=True) == (
        "<think>x</think>"
    )
    assert detect_format(tok).special_delimiters is False


# --------------------------------------------------------------------------------------------------------------
# model id fallback


@pytest.mark.parametrize(
    ("model_id", "fmt", "prefilled"),
    [
        ("Qwen/QwQ-32B", "qwq", True),
        ("Qwen/Qwen3-8B", "qwen3", False),
        ("Qwen/Qwen3-4B-Thinking-2507", "qwen3", True),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "deepseek_r1", True),
        ("openai/gpt-oss-20b", "gpt_oss", False),
        ("allenai/Olmo-3-7B-Think", "olmo3", True),
    ],
)
def test_profile_for_model_id(model_id: str, fmt: str, prefilled: bool) -> None:
    p = profile_for_model_id(model_id)
    assert p is not None
    assert (p.format, p.prefilled, p.thinking_disabled, p.source) == (fmt, prefilled, False, "model_id")
    assert p.special_delimiters is get_format(fmt).special_delimiters
    assert p.notes


def test_profile_for_model_id_unknown() -> None:
    assert profile_for_model_id("someone/plain-llama-7b") is None


def test_profile_for_model_id_honours_the_switch() -> None:
    off = profile_for_model_id("Qwen/Qwen3-8B", enable_thinking=False)
    assert off is not None and off.thinking_disabled and not off.prefilled
    v31 = profile_for_model_id("deepseek-ai/DeepSeek-V3.1")
    assert v31 is not None and v31.thinking_disabled and not v31.prefilled  # thinking defaults to off
    v31_on = profile_for_model_id("deepseek-ai/DeepSeek-V3.1", thinking=True)
    assert v31_on is not None and v31_on.prefilled and not v31_on.thinking_disabled
    assert profile_for_model_id("openai/gpt-oss-20b").special_delimiters is True  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------------------
# errors, notes, odd inputs


def test_no_chat_template_raises_a_clear_error() -> None:
    tok = make_tokenizer(None, model_id="my-org/base-model")
    with pytest.raises(ValueError, match="no chat template") as err:
        detect_format(tok)
    msg = str(err.value)
    assert "my-org/base-model" in msg and "trace_format=" in msg and "chat_template" in msg


def test_not_a_tokenizer() -> None:
    with pytest.raises(TypeError, match="apply_chat_template"):
        detect_format(object())


def test_unread_kwarg_is_noted() -> None:
    p = detect_format(make_tokenizer("qwq"), enable_thinking=False)
    assert p.prefilled is True and p.thinking_disabled is False
    assert any("does not read 'enable_thinking'" in n for n in p.notes)


def test_template_beats_a_conflicting_model_id() -> None:
    p = detect_format(make_tokenizer("qwen3", model_id="openai/gpt-oss-20b"))
    assert p.format == "qwen3"
    assert any("gpt_oss" in n for n in p.notes)


def test_unknown_template_defaults_to_think_with_a_note() -> None:
    p = detect_format(make_tokenizer("chatml"))
    assert (p.format, p.source, p.prefilled, p.thinking_disabled) == ("think", "default", False, False)
    assert any("no known trace delimiter" in n for n in p.notes)


def test_special_delimiters_get_a_decoding_note() -> None:
    assert any("skip_special_tokens=False" in n for n in detect_format(make_tokenizer("gpt_oss")).notes)


def test_template_rejecting_system_role_uses_the_user_probe() -> None:
    tok = make_tokenizer("chatml")
    tok.chat_template = (
        "{%- for m in messages -%}{%- if m.role == 'system' -%}{{ raise_exception('no system role') }}{%- endif -%}"
        "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>\\n' -}}{%- endif -%}"
    )
    p = detect_format(tok)
    assert (p.format, p.prefilled) == ("think", True)


class _Processor:
    """A processor-like object: apply_chat_template + chat_template, text handled by ``.tokenizer``."""

    def __init__(self, tok: Any) -> None:
        self.tokenizer = tok
        self.chat_template = tok.chat_template

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any:
        return self.tokenizer.apply_chat_template(conversation, **kwargs)


def test_processor_like_object() -> None:
    p = detect_format(_Processor(make_tokenizer("magistral_2507")))
    assert (p.format, p.special_delimiters) == ("magistral", True)


def test_profile_for_format_given() -> None:
    p = profile_for_format("qwq", make_tokenizer("qwq"))
    assert (p.format, p.prefilled, p.source) == ("qwq", True, "given")
    off = profile_for_format("qwen3", make_tokenizer("qwen3"), enable_thinking=False)
    assert off.thinking_disabled and not off.prefilled
    bare = profile_for_format("deepseek_r1")
    assert (bare.prefilled, bare.source) == (True, "given")


# --------------------------------------------------------------------------------------------------------------
# end to end: render, generate (canned), decode, classify


def _round_trip(tok: Any, text: str, skip: bool) -> str:
    return tok.decode(tok.encode(text, add_special_tokens=False), skip_special_tokens=skip)


@pytest.mark.parametrize("c", ALL_CASES, ids=CASE_IDS)
def test_end_to_end_classes(c: TemplateCase) -> None:
    tok = make_tokenizer(c.name, model_id=c.model_id)
    profile = detect_format(tok, **c.enable_kwargs)
    prompt = _prompt(c, tok, **c.enable_kwargs)
    assert prompt_is_prefilled(prompt, profile.format) is profile.prefilled
    full = tok.decode(tok.encode(prompt + c.generation, add_special_tokens=False), skip_special_tokens=False)
    generation = full[len(prompt):]
    assert generation == c.generation
    trace = classify(generation, profile.format, prefilled=profile.prefilled)
    if c.name == "chatml":  # a model that does not reason
        assert str(trace.status) == "missing" and trace.answer == ANSWER
        return
    assert str(trace.status) == "valid", (profile, trace)
    assert trace.reasoning == REASONING
    assert trace.answer == ANSWER
    # the same generation cut before its closer is a truncated trace
    fmt = get_format(profile.format)
    cut = min(p for p in (generation.find(x) for x in fmt.all_close) if p >= 0)
    assert str(classify(generation[:cut], profile.format, prefilled=profile.prefilled).status) == "truncated"
    # decoded the way lm-eval's HF model does (special tokens skipped)
    skipped = _round_trip(tok, generation, skip=True)
    if not c.special:
        assert skipped == generation
    elif c.format == "gpt_oss":  # the stripped harmony shape is still recognised
        assert skipped.startswith("analysis") and str(classify(skipped, "gpt_oss").status) == "valid"
    else:  # the tags are gone: the profile's special_delimiters flag is the warning
        assert profile.special_delimiters
        assert not any(t in skipped for t in (*fmt.all_open, *fmt.all_close))


@pytest.mark.parametrize("c", DISABLE, ids=[c.name for c in DISABLE])
def test_end_to_end_disabled(c: TemplateCase) -> None:
    assert c.disable_kwargs is not None
    tok = make_tokenizer(c.name, model_id=c.model_id)
    profile = detect_format(tok, **c.disable_kwargs)
    trace = classify(ANSWER, profile.format, prefilled=profile.prefilled)
    # no tags in the output: "missing" by the four classes, flagged as a configuration by the profile
    assert str(trace.status) == "missing" and profile.thinking_disabled


def test_end_to_end_empty_trace() -> None:
    tok = make_tokenizer("qwq", model_id="Qwen/QwQ-32B")
    profile = detect_format(tok)
    assert str(classify("\n</think>\n\n5", profile.format, prefilled=profile.prefilled).status) == "empty"


# --------------------------------------------------------------------------------------------------------------
# the fixtures themselves


def test_fixture_tokenizers_are_fresh() -> None:
    a, b = make_tokenizer("qwen3"), make_tokenizer("qwen3")
    assert a is not b
    a.chat_template = None
    assert b.chat_template is not None


def test_fixture_offsets_for_masking() -> None:
    c = case("qwen3")
    tok = make_tokenizer("qwen3")
    text = tok.apply_chat_template(c.messages(answer=True), tokenize=False)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert len(enc["offset_mapping"]) == len(enc["input_ids"])
    start = text.index("<think>")
    assert any(s == start for s, _ in enc["offset_mapping"])  # <think> is one token with its own span


# --------------------------------------------------------------------------------------------------------------
# what tells families apart (issue 10.3): the detected family changes what the classifier does with real output


def test_detected_family_reads_the_real_output_shapes() -> None:
    # Granite 3.3: the answer comes out of its <response> wrapper
    p = detect_format(make_tokenizer("granite33"), thinking=True)
    assert classify("<think>x</think><response>5</response>", p.format).answer == "5"
    # Kimi-K2-Thinking: a tool call ends an unclosed trace
    p = detect_format(make_tokenizer("kimi_k2_thinking"))
    call = "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
    assert str(classify("<think>I will look it up" + call, p.format).status) == "valid"
    # GLM-4.7: the prompt opens the trace; switched off it ends with the bare closer
    p = detect_format(make_tokenizer("glm47"))
    assert (p.format, p.prefilled) == ("glm47", True)
    off = detect_format(make_tokenizer("glm47"), enable_thinking=False)
    assert off.thinking_disabled and not off.prefilled
    # Gemma 4 / Apriel: their own tags, so a real trace is not read as missing
    p = detect_format(make_tokenizer("gemma4"), enable_thinking=True)
    assert str(classify("<|channel>thought\nx<channel|>5", p.format).status) == "valid"
    p = detect_format(make_tokenizer("apriel"))
    t = classify("x\n[BEGIN FINAL RESPONSE]\n5\n[END FINAL RESPONSE]", p.format, prefilled=p.prefilled)
    assert (str(t.status), t.answer) == ("valid", "5")


def test_a_model_id_settles_an_ambiguous_template() -> None:
    assert detect_format(make_tokenizer("qwq_tools"), enable_thinking=True).ambiguous
    p = detect_format(make_tokenizer("qwq_tools", model_id="Qwen/QwQ-32B"), enable_thinking=True)
    assert (p.format, p.ambiguous) == ("qwq", False)


_USER_TEMPLATE = (
    "{%- for m in messages -%}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<deliberation>\\n' -}}{%- endif -%}"
)


@pytest.fixture
def scratch_registry():
    """Formats registered by the test are removed afterwards (the registry is process-wide)."""
    from lm_eval_thinkpack import formats

    before, aliases = dict(formats.FORMATS), dict(formats._ALIASES)
    yield
    for store, saved in ((formats.FORMATS, before), (formats._ALIASES, aliases)):
        store.clear()
        store.update(saved)
    formats._lookup.cache_clear()


def test_user_registered_formats_take_part_in_detection(scratch_registry) -> None:
    from lm_eval_thinkpack.formats import Delimiters, TraceFormat, register_format

    tok = make_tokenizer("chatml")
    tok.chat_template = _USER_TEMPLATE
    assert detect_format(tok).source == "default"  # no known delimiter yet
    fmt = register_format(open="<deliberation>", close="</deliberation>", prefilled=True)
    p = detect_format(tok)
    assert (p.format, p.prefilled, p.source, p.ambiguous) == (fmt.name, True, "chat_template", False)
    # a user format with the same facts as a built-in one ties with it: said, never picked silently
    seed = get_format("seed_oss")
    twin = register_format(TraceFormat("my_seed", "a copy of seed_oss under another name", seed.delimiters,
                                       thinking_switch=seed.thinking_switch, switch_values=seed.switch_values,
                                       special_delimiters=True, template_markers=seed.template_markers,
                                       implicit_close=seed.implicit_close))
    assert isinstance(twin.delimiters[0], Delimiters)
    p = detect_format(make_tokenizer("seed_oss"))
    assert p.ambiguous and set(p.candidates) >= {"seed_oss", twin.name}


def test_lm_eval_loader_warns_once_about_an_ambiguous_template(tmp_path, caplog) -> None:
    import logging

    from lm_eval_thinkpack.harness import loader

    make_tokenizer("qwq_tools").save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # the same model configuration: detected and logged once
            assert loader._detect_cached(str(tmp_path), None, False, '{"enable_thinking": true}')[0] == "think"
    warned = [r.getMessage() for r in caplog.records if "fits" in r.getMessage()]
    assert len(warned) == 1
    assert "think, " in warned[0] and "--metadata '{\"trace_format\": \"mimo\"}'" in warned[0]


# --------------------------------------------------------------------------------------------------------------
# classes of error found on real llama.cpp templates (project-written templates with the distinguishing feature)


def _tok(name: str, model_id: str | None = None) -> Any:
    """A plain tokenizer (no family tokens) carrying the project template ``tests/templates/<name>.jinja``."""
    tok = make_tokenizer("chatml", model_id=model_id)
    tok.chat_template = template_source(name)
    return tok


@pytest.mark.parametrize(("name", "fmt"), [
    ("role_turns_no_tags", "granite4"),  # Granite 4.x: no <think> in the template, <|start_of_role|> turns
    ("sentence_turns_no_tags", "minimax"),  # MiniMax-M1: no <think>, <beginning_of_sentence> turns
    ("identity_prompt_no_tags", "mimo"),  # MiMo-VL: a Qwen ChatML whose default system prompt names MiMo
])
def test_template_markers_name_a_family_whose_template_shows_no_delimiter(name: str, fmt: str) -> None:
    p = detect_format(_tok(name))
    assert (p.format, p.source, p.ambiguous, p.prefilled, p.thinking_disabled) == (
        fmt, "chat_template", False, False, False), p.notes
    assert any("template markers name" in n for n in p.notes)


def test_a_template_without_delimiters_or_markers_stays_the_default() -> None:
    p = detect_format(make_tokenizer("chatml"))
    assert (p.format, p.source) == ("think", "default")
    # the model id still beats a family the markers name
    p = detect_format(_tok("role_turns_no_tags", model_id="MiniMaxAI/MiniMax-M1-80k"))
    assert (p.format, p.source) == ("minimax", "model_id")


def test_a_shared_tool_grammar_does_not_outweigh_a_familys_own_turn_marker() -> None:
    # <arg_key> is GLM's tool grammar, which Ling 3 and Poolside reuse: it names the group, not GLM-4.7
    ling = _tok("glm_calls_role_end")
    p = detect_format(ling)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("ling3", False, True, False), p.notes
    p = detect_format(ling, enable_thinking=False)
    assert (p.format, p.prefilled, p.thinking_disabled) == ("ling3", False, True)
    pool = _tok("glm_calls_bare_turns")
    p = detect_format(pool)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("poolside_v1", False, True, False), p.notes
    p = detect_format(pool, enable_thinking=False)
    assert (p.format, p.prefilled, p.thinking_disabled) == ("poolside_v1", False, True)
    # the real GLM-4.7 template (its [gMASK] turn prefix) is still GLM-4.7
    assert detect_format(make_tokenizer("glm47")).format == "glm47"


def test_a_tool_call_block_built_from_pieces_is_read_from_a_render() -> None:
    tok = _tok("dsml_pieces")
    # the V3.2 spelling of the block: DSML alone does not make it V4
    p = detect_format(tok, thinking=True)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("deepseek_v3", False, True, False), p.notes
    p = detect_format(tok, thinking=False)
    assert (p.format, p.prefilled, p.thinking_disabled) == ("deepseek_v3", False, True)
    # V4's block name
    p = detect_format(tok, thinking=True, block_name="tool_calls")
    assert (p.format, p.ambiguous, p.prefilled) == ("deepseek_v4", False, True), p.notes


def test_a_string_valued_switch_and_suffixed_tags(scratch_registry) -> None:
    tok = _tok("suffixed_effort")
    p = detect_format(tok)  # unset means 'no_think': an empty suffixed block
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("hy:fixture1", False, False, True), p.notes
    fmt = get_format(p.format)
    assert fmt.open == "<think:fixture1>" and fmt.close == "</think:fixture1>"
    p = detect_format(tok, reasoning_effort="high")
    assert (p.format, p.prefilled, p.thinking_disabled) == ("hy:fixture1", True, False), p.notes
    trace = classify("HY reasons.</think:fixture1>42", p.format, prefilled=p.prefilled)
    assert (trace.status, trace.reasoning, trace.answer) == ("valid", "HY reasons.", "42")


def test_a_suffixed_format_name_resolves_where_it_was_not_derived(scratch_registry) -> None:
    from lm_eval_thinkpack.formats import UnknownFormatError

    fmt = get_format("hy:abc123")  # what a doc or --metadata carries from another process
    assert fmt.name == "hy:abc123" and fmt.open == "<think:abc123>" and fmt.vocab_suffix is None
    with pytest.raises(UnknownFormatError):
        get_format("qwen3:abc123")  # a family without a vocabulary suffix


def test_a_tool_grammar_hint_and_a_three_state_switch() -> None:
    tok = _tok("tool_sep_three_state")
    p = detect_format(tok)  # unset: neither opened nor closed, the model decides
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("minicpm5", False, False, False), p.notes
    assert any("the model decides" in n for n in p.notes)
    assert detect_format(tok, enable_thinking=True).prefilled is True
    p = detect_format(tok, enable_thinking=False)
    assert (p.prefilled, p.thinking_disabled) == (False, True)
    # without its tool separator (a MiniCPM 5 template marker) the same template is Qwen3's
    qwen_like = _tok("tool_sep_three_state")
    qwen_like.chat_template = qwen_like.chat_template.replace("<tool_sep>", "")
    assert detect_format(qwen_like).format == "qwen3"


def test_a_second_spelling_of_a_familys_trace() -> None:
    tok = _tok("sep_turns_think")  # Reka Edge: <sep> turns, <think> rather than Flash 3's <reasoning>
    p = detect_format(tok, enable_thinking=True)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("reka", False, True, False), p.notes
    p = detect_format(tok)
    assert (p.format, p.prefilled, p.thinking_disabled) == ("reka", False, True)


def test_a_closer_that_ends_every_block_is_no_trace_evidence() -> None:
    # Solar Open's think message ends with <|end|>, which ends every message (close_needs_open): a template whose
    # turns end with <|end|> and that never opens a think message is no Solar Open template
    p = detect_format(_tok("end_turns_no_tags"))
    assert (p.format, p.source) == ("think", "default"), p.notes


# ---- issue 21: detection classes -----------------------------------------------------------------------------


def test_a_secondary_switch_does_not_override_the_primary_one() -> None:
    """DeepSeek-V4-Flash-0731 reads ``thinking`` (V4's switch) and ``reasoning_effort``, which only adds a line.
    Before, the unset effort equalled its 'off' render, so thinking=True read as thinking disabled, not prefilled."""
    tok = _tok("dsml_effort")
    p = detect_format(tok, thinking=True)
    assert (p.format, p.ambiguous, p.prefilled, p.thinking_disabled) == ("deepseek_v4", False, True, False), p.notes
    p = detect_format(tok, thinking=True, reasoning_effort="max")
    assert (p.prefilled, p.thinking_disabled) == (True, False), p.notes
    p = detect_format(tok, thinking=False)
    assert (p.prefilled, p.thinking_disabled) == (False, True), p.notes


def test_weak_evidence_is_ambiguous_not_a_named_family(monkeypatch) -> None:
    """A ChatML template with a thinking switch and none of any family's own markers: EXAONE (whose turns are
    '[|assistant|]') led it by one prefill habit and was named. Now the template is ambiguous among the families it
    fits, the ChatML family first, and says how to settle it."""
    tok = _tok("chatml_switch_no_markers")
    for kwargs in ({}, {"enable_thinking": True}, {"enable_thinking": False}):
        p = detect_format(tok, **kwargs)
        assert p.ambiguous is True and p.format == "qwen3" and "exaone" not in p.candidates, p.notes
        assert any("ambiguous chat template" in n for n in p.notes)
    assert detect_format(tok, enable_thinking=True).prefilled is True
    # the class, not EXAONE's markers: a family without markers that leads on weak facts alone is not named either
    from dataclasses import replace

    from lm_eval_thinkpack import formats

    monkeypatch.setitem(formats.FORMATS, "exaone", replace(formats.FORMATS["exaone"], template_markers=()))
    p = detect_format(_tok("chatml_switch_no_markers"))
    assert p.ambiguous is True and {"exaone", "qwen3"} <= set(p.candidates), p.notes
    # a model id still names it, and the family's own markers still do (EXAONE 4.0's fixture)
    p = detect_format(_tok("chatml_switch_no_markers", model_id="Qwen/Qwen3.5-4B"))
    assert (p.format, p.ambiguous) == ("qwen3", False), p.notes


def test_detecting_a_suffixed_template_twice_gives_the_same_profile(scratch_registry) -> None:
    """The first detection registers the suffixed derivative ('hy:fixture1'); before, the second one counted it
    twice (the registered entry and the family's derivative) and called the template ambiguous."""
    first = detect_format(_tok("suffixed_effort"), reasoning_effort="high")
    second = detect_format(_tok("suffixed_effort"), reasoning_effort="high")
    assert (second.format, second.ambiguous, second.candidates) == (first.format, False, ()) == \
        ("hy:fixture1", False, ()), second.notes


def test_a_prompt_closed_unless_a_switch_is_passed_names_the_switch() -> None:
    """llama.cpp's edits of prefilling templates (QwQ-32B, R1-Distill-Qwen-32B) append '</think>' after the prefilled
    opener unless ``enable_thinking`` is true: llama.cpp always passes it, ``apply_chat_template`` does not. Rendered
    without it the prompt holds a closed block, so 'thinking disabled' is right; the note names the switch."""
    tok = make_tokenizer("chatml")
    tok.chat_template = ("{%- for m in messages -%}"
                         "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}{%- endfor -%}"
                         "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>\\n' -}}"
                         "{%- if not enable_thinking -%}{{- '</think>' -}}{%- endif -%}{%- endif -%}")
    p = detect_format(tok)
    assert (p.prefilled, p.thinking_disabled) == (False, True), p.notes
    assert any("pass enable_thinking=True to turn thinking on" in n for n in p.notes), p.notes
    p = detect_format(tok, enable_thinking=True)
    assert (p.prefilled, p.thinking_disabled) == (True, False), p.notes
