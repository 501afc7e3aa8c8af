"""template.py: the one chat-template renderer (fast path = apply_chat_template, its fallbacks, its cache)."""

from __future__ import annotations

import pytest

from lm_eval_thinkpack import template
from lm_eval_thinkpack.masking import tokenize_conversation
from lm_eval_thinkpack.template import ChatTemplateError, renderer, selected_template, template_text
from tests.chat_fixtures import ANSWER, QUESTION, TEMPLATE_CASES, case, make_tokenizer, mixed_conversations

NAMES = [c.name for c in TEMPLATE_CASES]


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_renders_what_apply_chat_template_renders(name):
    tok = make_tokenizer(name)
    for kwargs in ({}, case(name).disable_kwargs or {}):
        r = renderer(tok, kwargs)
        assert r._state.template is not None  # plain dicts + stock transformers: the fast path is on
        for conv in mixed_conversations(name):
            for agp, msgs in ((False, conv), (True, conv[:-1])):
                assert r.render(msgs, agp) == tok.apply_chat_template(msgs, tokenize=False,
                                                                      add_generation_prompt=agp, **kwargs)
        assert r._state.template is not None  # the one-off check agreed


def test_falls_back_to_the_tokenizer():
    tok = make_tokenizer("qwen3")
    blocks = [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]
    assert template._plain_chat(blocks) is None  # content blocks: apply_chat_template handles them
    plain = [{"role": "user", "content": "x", "tool_calls": None}]
    assert template._plain_chat(plain) == [{"role": "user", "content": "x"}] and plain[0]["tool_calls"] is None
    assert renderer(tok).render(blocks) == tok.apply_chat_template(blocks, tokenize=False)
    assert renderer(tok, {"tools": []})._state.template is None  # apply_chat_template's own options

    class Patched(type(tok)):
        def apply_chat_template(self, *a, **kw):  # a subclass that renders differently is never bypassed
            return super().apply_chat_template(*a, **kw)

    assert not template._stock_apply(Patched.__new__(Patched))
    # a fast rendering that disagrees with apply_chat_template on the first call switches the fast path off
    bad = make_tokenizer("qwen3")
    state = renderer(bad)._state
    from jinja2 import Template

    state.template = Template("wrong")
    msgs = case("qwen3").messages() + [{"role": "assistant", "content": ANSWER}]
    assert renderer(bad).render(msgs) == bad.apply_chat_template(msgs, tokenize=False)
    assert state.template is None
    assert tokenize_conversation(bad, msgs, fmt="qwen3") == tokenize_conversation(make_tokenizer("qwen3"), msgs,
                                                                                 fmt="qwen3")


def test_state_is_cached_per_configuration_and_follows_template_changes():
    tok = make_tokenizer("qwen3")
    assert renderer(tok)._state is renderer(tok)._state
    assert renderer(tok, {"enable_thinking": False})._state is not renderer(tok)._state
    renderer(tok).memo["x"] = 1
    tok.chat_template = make_tokenizer("smollm3").chat_template
    assert "x" not in renderer(tok).memo  # a new template is a new configuration
    msgs = [{"role": "user", "content": QUESTION}]
    assert renderer(tok).render(msgs, True) == tok.apply_chat_template(msgs, tokenize=False,
                                                                      add_generation_prompt=True)


class _Processor:
    """A stand-in processor: apply_chat_template returns one text per conversation (a list)."""

    chat_template = "{{ messages[0].content }}"

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False, **kw):
        return [messages[0]["content"] + ("!" if add_generation_prompt else "")]


def test_processors_and_non_hf_objects():
    p = _Processor()
    assert renderer(p).render([{"role": "user", "content": "hi"}], True) == "hi!"
    assert template_text(p) == "{{ messages[0].content }}"
    with pytest.raises(ChatTemplateError, match="not a Hugging Face tokenizer"):
        selected_template(p)


def test_template_text_and_selected_template():
    tok = make_tokenizer("qwen3")
    assert selected_template(tok) == template_text(tok) == tok.chat_template
    tok.chat_template = {"default": "A{{ x }}", "tool_use": "B"}
    assert template_text(tok) == "A{{ x }}\nB"
    assert selected_template(tok) == "A{{ x }}"
    assert selected_template(tok, {"tools": [{"type": "function"}]}) == "B"
    with pytest.raises(ChatTemplateError, match="no chat template"):
        selected_template(make_tokenizer(None))
    with pytest.raises(TypeError, match="Jinja string"):
        selected_template(tok, {"chat_template": 3})


def test_no_private_names_cross_modules():
    """No module of the package imports another module's private name (masking used three of chat's)."""
    import ast
    from pathlib import Path

    root = Path(template.__file__).parent
    bad = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("lm_eval_thinkpack")):
                bad += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert bad == []


# ---- issue 21: a vision template given plain-text content ----------------------------------------------------


def _vision(name: str):
    from tests.chat_fixtures import template_source

    tok = make_tokenizer("chatml")
    tok.chat_template = template_source(name)
    return tok


@pytest.mark.parametrize("name", ["vision_parts", "vision_strip"])
def test_a_vision_template_given_plain_text_says_it_needs_list_content(name):
    """Before, the template's own error came out raw (jinja2's TemplateError from raise_exception, or an
    UndefinedError from '.strip()' on undefined text); now one ChatTemplateError names the shape and the fix, from
    the renderer, from prompt building and from detection alike."""
    from lm_eval_thinkpack.chat import render_prompt
    from lm_eval_thinkpack.detect import detect_format

    tok = _vision(name)
    msgs = [{"role": "user", "content": QUESTION}]
    with pytest.raises(ChatTemplateError, match=r"needs message content as a list of parts") as info:
        renderer(tok).render(msgs, True)
    assert "\n" not in str(info.value) and "pass content as a list of parts" in str(info.value)
    with pytest.raises(ChatTemplateError, match=r"needs message content as a list of parts"):
        render_prompt(tok, msgs)
    with pytest.raises(ChatTemplateError, match=r"needs message content as a list of parts") as info:
        detect_format(tok)
    assert str(info.value).count("needs message content") == 1  # one reason, said once
    parts = [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]
    assert renderer(tok).render(parts, True).endswith("<|im_start|>assistant\n<think>\n")


def test_a_template_that_fails_on_any_content_is_not_called_a_vision_template():
    tok = make_tokenizer("chatml")
    tok.chat_template = "{{ raise_exception('This template refuses every conversation') }}"
    with pytest.raises(ChatTemplateError, match="fails on this conversation") as info:
        renderer(tok).render([{"role": "user", "content": QUESTION}], True)
    assert "refuses every conversation" in str(info.value) and "list of parts" not in str(info.value)
