"""render_prompt: thinking on/off, prefill, history reasoning, think prefix: the same behaviour on every fixture."""

from __future__ import annotations

import pytest

from lm_eval_thinkpack.chat import (
    BlockStyle,
    ChatTemplateError,
    block_style,
    render_prompt,
    resolve_format,
    split_reasoning,
)
from lm_eval_thinkpack.classify import prompt_is_prefilled
from lm_eval_thinkpack.formats import get_format
from tests.chat_fixtures import ANSWER, QUESTION, REASONING, TEMPLATE_CASES, case, make_tokenizer, template_source

NAMES = [c.name for c in TEMPLATE_CASES]
HISTORY_REASONING = "They greeted me, so I greet them back."


def _setup(name: str):
    c = case(name)
    tok = make_tokenizer(name)
    spec = get_format(c.format)
    return c, tok, spec, block_style(spec, template_source(name))


def _native(tok, c, **kw) -> str:
    return tok.apply_chat_template(c.messages(), add_generation_prompt=True, tokenize=False, **kw)


def _uses_switch(name: str) -> bool:
    spec = get_format(case(name).format)
    return bool(spec.thinking_switch) and spec.thinking_switch in template_source(name)


def _history(name: str) -> list[dict]:
    return case(name).messages() + [
        {"role": "assistant", "content": "Hello!", "reasoning_content": HISTORY_REASONING},
        {"role": "user", "content": "And 3 + 4?"},
    ]


@pytest.mark.parametrize("name", NAMES)
def test_default_is_the_templates_own_prompt(name):
    c, tok, spec, _ = _setup(name)
    assert render_prompt(tok, c.messages(), fmt=spec) == _native(tok, c)


@pytest.mark.parametrize("name", NAMES)
def test_thinking_off_closes_the_trace(name):
    c, tok, spec, style = _setup(name)
    out = render_prompt(tok, c.messages(), thinking=False, fmt=spec)
    assert not prompt_is_prefilled(out, spec)
    if _uses_switch(name):  # the family's switch, passed to the template
        assert out == _native(tok, c, **{spec.thinking_switch: 0 if spec.thinking_switch.endswith("budget")
                                          else False})
    else:  # no switch: the family's empty block, replacing a prefilled opener
        native = _native(tok, c)
        head = native[: max(native.rfind(o) for o in spec.all_open)] if prompt_is_prefilled(native, spec) else native
        assert out == head + style.empty


@pytest.mark.parametrize("name", NAMES)
def test_thinking_on(name):
    c, tok, spec, _ = _setup(name)
    out = render_prompt(tok, c.messages(), thinking=True, fmt=spec)
    if _uses_switch(name) and not spec.thinking_switch.endswith("budget"):
        assert out == _native(tok, c, **{spec.thinking_switch: True})
    else:
        assert out == _native(tok, c)
    assert not any(out.rstrip().endswith(cl) for cl in spec.all_close)  # never a closed block at the end


def test_thinking_on_removes_a_soft_switched_empty_block():
    c, tok, spec, _ = _setup("hunyuan")
    msgs = [{"role": "user", "content": "/no_think " + QUESTION}]
    assert tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False).endswith("</think>\n")
    out = render_prompt(tok, msgs, thinking=True, fmt=spec)
    assert out.endswith("<|extra_0|>") and "<think>" not in out


@pytest.mark.parametrize("name", NAMES)
def test_prefill_on_ends_inside_an_open_trace(name):
    c, tok, spec, style = _setup(name)
    out = render_prompt(tok, c.messages(), prefill=True, fmt=spec)
    assert prompt_is_prefilled(out, spec)
    native = _native(tok, c, **c.enable_kwargs)
    if prompt_is_prefilled(native, spec):
        assert out == native  # already open: untouched
    else:
        assert out == native + style.opener


@pytest.mark.parametrize("name", NAMES)
def test_prefill_off_removes_a_trailing_opener(name):
    c, tok, spec, _ = _setup(name)
    out = render_prompt(tok, c.messages(), prefill=False, fmt=spec)
    assert not prompt_is_prefilled(out, spec)
    native = _native(tok, c)
    if prompt_is_prefilled(native, spec):
        assert native.startswith(out) and native[len(out):].strip() in spec.all_open
    else:
        assert out == native


@pytest.mark.parametrize("name", NAMES)
def test_think_prefix_seeds_the_open_trace(name):
    c, tok, spec, _ = _setup(name)
    prefix = "Okay, let me think"
    out = render_prompt(tok, c.messages(), think_prefix=prefix, fmt=spec)
    assert out.endswith(prefix)
    head = out[: -len(prefix)]
    assert head == render_prompt(tok, c.messages(), prefill=True, fmt=spec)
    assert prompt_is_prefilled(out, spec)


@pytest.mark.parametrize("name", NAMES)
def test_history_reasoning_dropped(name):
    _, tok, spec, _ = _setup(name)
    out = render_prompt(tok, _history(name), fmt=spec)
    assert HISTORY_REASONING not in out
    assert "Hello!" in out and out.count("Hello!") == 1


@pytest.mark.parametrize("name", NAMES)
def test_history_reasoning_kept_even_when_the_template_strips_it(name):
    _, tok, spec, style = _setup(name)
    out = render_prompt(tok, _history(name), keep_history_reasoning=True, fmt=spec)
    assert out.count(HISTORY_REASONING) == 1 and out.count("Hello!") == 1
    # the reasoning sits inside the family's delimiters, before the answer
    r = out.index(HISTORY_REASONING)
    assert out.rfind(style.open, 0, r) >= 0
    close = out.find(style.close, r)
    assert r < close < out.index("Hello!")
    # the last turn's prompt is unchanged by the history option
    plain = render_prompt(tok, _history(name), fmt=spec)
    tail = plain[plain.index("And 3 + 4?"):]
    assert out.endswith(tail)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "thinking", "inline"])
def test_every_reasoning_field_is_read(field):
    _, tok, spec, _ = _setup("qwq")  # QwQ drops history reasoning natively
    turn = {"role": "assistant", "content": "Hello!"}
    if field == "inline":
        turn["content"] = f"<think>{HISTORY_REASONING}</think>Hello!"
    else:
        turn[field] = HISTORY_REASONING
    msgs = [{"role": "user", "content": "Hi"}, turn, {"role": "user", "content": QUESTION}]
    kept = render_prompt(tok, msgs, keep_history_reasoning=True, fmt=spec)
    assert f"<think>\n{HISTORY_REASONING}\n</think>\n\nHello!<|im_end|>" in kept
    dropped = render_prompt(tok, msgs, fmt=spec)
    assert HISTORY_REASONING not in dropped and "assistant\nHello!<|im_end|>" in dropped


def test_native_reasoning_content_is_used_when_the_template_renders_it():
    _, tok, spec, _ = _setup("qwen3")
    msgs = [{"role": "user", "content": QUESTION},
            {"role": "assistant", "content": ANSWER, "reasoning_content": REASONING}]
    # completion rendering: the template reads reasoning_content itself, so the output is the template's own
    out = render_prompt(tok, msgs, add_generation_prompt=False, fmt=spec)
    assert out == tok.apply_chat_template(msgs, tokenize=False)


def test_replaces_the_empty_block_a_template_inserts_in_history():
    _, tok, spec, _ = _setup("exaone4")  # skip_think: past turns get '<think>\n\n</think>\n\n'
    out = render_prompt(tok, _history("exaone4"), keep_history_reasoning=True, fmt=spec)
    assert f"[|assistant|]<think>\n{HISTORY_REASONING}\n</think>\n\nHello!" in out
    assert "<think>\n\n</think>\n\n<think>" not in out


def test_options_behave_the_same_across_families():
    """One row per family: (off ends closed, prefill ends open, prefix ends with the prefix, keep has the trace)."""
    rows = set()
    for name in NAMES:
        c, tok, spec, _ = _setup(name)
        msgs = _history(name)
        off = render_prompt(tok, msgs, thinking=False, fmt=spec)
        on = render_prompt(tok, msgs, prefill=True, fmt=spec)
        pre = render_prompt(tok, msgs, think_prefix="Hmm", fmt=spec)
        keep = render_prompt(tok, msgs, keep_history_reasoning=True, fmt=spec)
        rows.add((prompt_is_prefilled(off, spec), prompt_is_prefilled(on, spec), pre.endswith("Hmm"),
                  HISTORY_REASONING in keep))
    assert rows == {(False, True, True, True)}


def test_block_style_follows_the_family_and_the_template():
    q = block_style(get_format("qwen3"), template_source("qwen3"))
    assert (q.open, q.lead, q.trail, q.close, q.tail) == ("<think>", "\n", "\n", "</think>", "\n\n")
    assert q.empty == "<think>\n\n</think>\n\n" and q.opener == "<think>\n"
    assert block_style(get_format("smollm3")).empty == "<think>\n\n</think>\n"
    assert block_style(get_format("magistral"), template_source("magistral_2507")).open == "[THINK]"
    assert block_style(get_format("magistral"), template_source("magistral_2506")).open == "<think>"
    assert block_style(get_format("exaone"), template_source("exaone4")).open == "<think>"
    assert block_style(get_format("exaone"), template_source("exaone_deep")).open == "<thought>"
    assert block_style(get_format("gpt_oss")).wrap(" r ") == (
        "<|channel|>analysis<|message|>r<|end|><|start|>assistant<|channel|>final<|message|>")
    assert isinstance(block_style(get_format("think")), BlockStyle)


def test_split_reasoning():
    spec = get_format("qwen3")
    assert split_reasoning({"role": "assistant", "content": "a", "reasoning": "r"}, spec) == ("r", "a")
    assert split_reasoning({"role": "assistant", "content": "<think>\nr\n</think>\n\na"}, spec) == ("\nr\n", "a")
    assert split_reasoning({"role": "assistant", "content": "r</think>a"}, spec) == ("r", "a")
    assert split_reasoning({"role": "assistant", "content": "a"}, spec) == (None, "a")
    assert split_reasoning({"role": "assistant", "content": None}, spec) == (None, None)


def test_detected_format_when_fmt_is_none():
    tok = make_tokenizer("qwen3")
    assert resolve_format(tok).name in ("qwen3", "think")
    out = render_prompt(tok, case("qwen3").messages(), thinking=False)
    assert out.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_completion_rendering_keeps_the_final_answers_trace():
    _, tok, spec, _ = _setup("deepseek_r1")  # the template strips reasoning from every assistant turn
    msgs = case("deepseek_r1").messages(answer=True)
    out = render_prompt(tok, msgs, add_generation_prompt=False, fmt=spec)
    assert out.endswith(f"<｜Assistant｜><think>\n{REASONING}\n</think>\n\n{ANSWER}<｜end▁of▁sentence｜>")


def test_template_kwargs_pass_through():
    c, tok, spec, _ = _setup("gpt_oss")
    out = render_prompt(tok, c.messages(), fmt=spec, reasoning_effort="high")
    assert "Reasoning: high" in out


def test_errors():
    tok = make_tokenizer(None)
    with pytest.raises(ChatTemplateError, match="no chat template"):
        render_prompt(tok, [{"role": "user", "content": "hi"}], fmt="think")
    tok = make_tokenizer("qwen3")
    msgs = case("qwen3").messages()
    with pytest.raises(ValueError, match="pick one"):
        render_prompt(tok, msgs, thinking=False, prefill=True, fmt="qwen3")
    with pytest.raises(ValueError, match="think_prefix"):
        render_prompt(tok, msgs, thinking=False, think_prefix="x", fmt="qwen3")
    with pytest.raises(ValueError, match="add_generation_prompt"):
        render_prompt(tok, msgs, prefill=True, add_generation_prompt=False, fmt="qwen3")
    with pytest.raises(TypeError):
        render_prompt(tok, {"role": "user", "content": "hi"}, fmt="qwen3")
    with pytest.raises(ValueError):
        render_prompt(tok, [], fmt="qwen3")
    with pytest.raises(ChatTemplateError):
        render_prompt(object(), msgs, fmt="qwen3")


def test_prompts_unchanged_on_every_fixture():
    """render_prompt's output for every fixture x option equals the digests stored before the refactor."""
    import json

    from tests.template_regression import DIGESTS, chat_digests

    stored = json.loads(DIGESTS.read_text())["chat"]
    now = chat_digests()
    assert set(now) == set(stored)
    assert {k for k in now if now[k] != stored[k]} == set()


def _variant(name: str, source: str):
    tok = make_tokenizer(name)
    tok.chat_template = source
    return tok


@pytest.mark.parametrize(("name", "edit"), [
    # Nemotron Nano 2: '/no_think' switches; the template names enable_thinking only as a namespace attribute
    ("nemotron_nano2", lambda s: s.replace("namespace(off=false)", "namespace(off=false, enable_thinking=true)")),
    # Command A: no 'reasoning' kwarg; the word only in prose and in a local variable's name
    ("cohere", lambda s: s.replace("{%- set reasoning_on = reasoning if reasoning is defined else true -%}",
                                   "{%- set reasoning_on = true -%}{#- step-by-step reasoning -#}")),
])
def test_a_switch_the_template_only_names_is_not_passed_thinking_off_writes_the_block(name, edit):
    """render_prompt decides from renders (as detect_format does) whether the template reads the switch. Before, a
    substring test passed the switch, the template ignored it, and thinking=False left the trace open."""
    c, _, spec, style = _setup(name)
    tok = _variant(name, edit(template_source(name)))
    native = tok.apply_chat_template(c.messages(), add_generation_prompt=True, tokenize=False)
    assert spec.thinking_switch in tok.chat_template and prompt_is_prefilled(native, spec)
    off = render_prompt(tok, c.messages(), thinking=False, fmt=spec)
    assert not prompt_is_prefilled(off, spec)
    assert off == native[: max(native.rfind(o) for o in spec.all_open)] + style.empty
    assert render_prompt(tok, c.messages(), thinking=True, fmt=spec) == native


@pytest.mark.parametrize("name", NAMES)
def test_response_prefix_closes_an_open_trace_then_seeds_the_answer(name):
    from lm_eval_thinkpack.classify import classify

    c, tok, spec, style = _setup(name)
    native = _native(tok, c)
    out = render_prompt(tok, c.messages(), response_prefix="The answer", fmt=spec)
    assert out.endswith("The answer")
    wrapper = style.delimiters.answer_open or ""
    if prompt_is_prefilled(native, spec):  # the template opened the trace: closed empty first
        t = classify(out[len(native):] + " is 5.", spec, prefilled=True)
        assert (t.status.value, t.answer) == ("empty", "The answer is 5.")
    else:
        assert out == native + wrapper + "The answer"
    # with a think prefix: the seeded trace is closed, then the answer follows
    opened = render_prompt(tok, c.messages(), prefill=True, fmt=spec)
    both = render_prompt(tok, c.messages(), think_prefix="Hmm", response_prefix="The answer", fmt=spec)
    assert both.startswith(opened + "Hmm")
    t = classify(both[len(opened):] + " is 5.", spec, prefilled=True)
    assert (t.status.value, t.reasoning, t.answer) == ("valid", "Hmm", "The answer is 5.")


def test_render_prompts_takes_one_prefix_per_conversation():
    from lm_eval_thinkpack.chat import render_prompts

    c, tok, spec, _ = _setup("qwen3")
    convs = [c.messages(), [{"role": "user", "content": "Hi"}], c.messages(system=None)]
    thinks, answers = ["Okay,", None, "Let me"], ["So", "Hello", None]
    out = render_prompts(tok, convs, think_prefix=thinks, response_prefix=answers, fmt=spec)
    assert out == [render_prompt(tok, m, think_prefix=t, response_prefix=a, fmt=spec)
                   for m, t, a in zip(convs, thinks, answers, strict=True)]
    assert out[0].endswith("<think>\nOkay,\n</think>\n\nSo") and out[1].endswith("assistant\nHello")
    assert out[2].endswith("<think>\nLet me")
    assert render_prompts(tok, convs, response_prefix="A:", fmt=spec) == [
        render_prompt(tok, m, response_prefix="A:", fmt=spec) for m in convs]
    with pytest.raises(ValueError, match="one per conversation"):
        render_prompts(tok, convs, response_prefix=["a", "b"], fmt=spec)
    with pytest.raises(TypeError, match="response_prefix"):
        render_prompt(tok, convs[0], response_prefix=3, fmt=spec)
    with pytest.raises(ValueError, match="add_generation_prompt"):
        render_prompt(tok, convs[0], response_prefix="x", add_generation_prompt=False, fmt=spec)


def test_misspelt_keyword_arguments_are_refused_not_passed_to_the_template():
    """Before: render_prompt(..., respnse_prefix=...) and tokenize_conversation(..., turn="all") went to the chat
    template, which ignored them: no prefix, only the last turn trained, and no word about it (issue 20: unknown
    keyword arguments are refused)."""
    from lm_eval_thinkpack.chat import render_prompts
    from lm_eval_thinkpack.masking import conversation_spans, tokenize_conversation, tokenize_dataset

    c, tok, spec, _ = _setup("qwen3")
    convs = [c.messages() + [{"role": "assistant", "content": "A."}]]
    calls = {"render_prompt": lambda: render_prompt(tok, c.messages(), respnse_prefix="x", fmt=spec),
             "render_prompts": lambda: render_prompts(tok, [c.messages()], respnse_prefix="x", fmt=spec),
             "tokenize_conversation": lambda: tokenize_conversation(tok, convs[0], turn="all", fmt=spec),
             "conversation_spans": lambda: conversation_spans(tok, convs[0], turn="all", fmt=spec),
             "tokenize_dataset": lambda: tokenize_dataset(tok, convs, turn="all", fmt=spec)}
    for name, call in calls.items():
        fn = "render_prompt" if name == "render_prompts" else name  # the batch form reports the call that refused
        with pytest.raises(TypeError, match=rf"^{fn}\(\) got unexpected keyword argument\(s\) '(respnse_prefix|turn)'"):
            call()
    # what the template reads, and apply_chat_template's own options, still go through
    assert render_prompt(tok, c.messages(), enable_thinking=False, fmt=spec).endswith("<think>\n\n</think>\n\n")
    assert tokenize_conversation(tok, convs[0], fmt=spec, enable_thinking=True, tools=None)["labels"]
