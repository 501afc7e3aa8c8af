"""The one place that renders a tokenizer's chat template: template text, a cached renderer, its fast path.

``detect`` (probe conversations), ``chat`` (prompts) and ``masking`` (training conversations) all render through
``renderer(tokenizer, template_kwargs).render(messages, add_generation_prompt)``, which returns exactly what
``tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=..., **template_kwargs)`` returns.

Why a fast path: ``apply_chat_template`` redoes, on every call, work that depends only on the tokenizer and the
kwargs (template lookup, the special-token map, converting the kwargs for the sandbox). For a stock Hugging Face
tokenizer the renderer does that once (the template context is merged once, not per call) and then runs
transformers' own compiled template, with transformers' own reasoning-field aliasing; only conversations of plain
``str``-valued dicts take it. The first fast render of each
``add_generation_prompt`` value is compared with ``apply_chat_template``; any difference (another transformers
version) switches the fast path off for that configuration. Anything else (processors, patched tokenizers,
content blocks, ``tools``, apply_chat_template's own options) goes through ``apply_chat_template``.

The cache: one ``_State`` per tokenizer and configuration (template text, kwargs, special tokens), held weakly by
the tokenizer. ``Renderer.memo`` is a scratch dict of that configuration for facts that depend only on it (chat
keeps "does the template render reasoning_content for this conversation shape" and the detected format there).

Pure core: transformers is imported lazily (and only for the fast path); no lm_eval import.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ChatTemplateError", "Renderer", "accepted_kwargs", "renderer", "selected_template", "template_text",
           "template_variables"]


class ChatTemplateError(ValueError):
    """The tokenizer has no chat template, or the template does not render what is needed."""


def template_text(obj: Any) -> str:
    """Every chat template the object carries, joined (a dict of named templates or the old list form included):
    what detection reads for markers. ``""`` when there is none."""
    tpl = getattr(obj, "chat_template", None)
    if isinstance(tpl, Mapping):
        return "\n".join(str(v) for v in tpl.values() if v)
    if isinstance(tpl, list | tuple):  # the old list-of-{name, template} form
        return "\n".join(str(t.get("template", "")) if isinstance(t, Mapping) else str(t) for t in tpl)
    return tpl if isinstance(tpl, str) else ""


_STRING_LITERAL = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_variables(source: str) -> set[str]:
    """Names the template reads from its context (chat-template kwargs among them): a name only mentioned in
    text, a comment, a string or as an attribute (``ns.enable_thinking``) is not read."""
    try:
        import jinja2
        import jinja2.meta

        cleaned = re.sub(r"\{%-?\s*(end)?generation\s*-?%\}", "", source)
        env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
        return set(jinja2.meta.find_undeclared_variables(env.parse(cleaned)))
    except Exception:  # noqa: BLE001 - unparsable here (custom tags): fall back to the identifiers in tags
        names: set[str] = set()
        for block in _JINJA_BLOCK.findall(source):
            names.update(_IDENT.findall(_STRING_LITERAL.sub("", block)))
        return names


def selected_template(tokenizer: Any, template_kwargs: Mapping[str, Any] | None = None) -> str:
    """The Jinja source ``apply_chat_template`` will use with these kwargs (``chat_template=`` override, the
    ``tool_use`` template when ``tools`` are given), or a ``ChatTemplateError`` saying how to provide one."""
    kwargs = template_kwargs or {}
    override = kwargs.get("chat_template")
    if override is not None and not isinstance(override, str):
        raise TypeError("chat_template must be a Jinja string or a template name")
    getter = getattr(tokenizer, "get_chat_template", None)
    if getter is None or not hasattr(tokenizer, "apply_chat_template"):
        raise ChatTemplateError(f"{type(tokenizer).__name__} is not a Hugging Face tokenizer with a chat template")
    if override is None and not getattr(tokenizer, "chat_template", None):
        raise ChatTemplateError(
            f"{type(tokenizer).__name__} ({getattr(tokenizer, 'name_or_path', '') or 'unnamed'}) has no chat "
            "template. Set tokenizer.chat_template to the model's Jinja template or pass chat_template=..."
        )
    try:
        return getter(override, kwargs.get("tools"))
    except ValueError as exc:  # transformers raises ValueError for a missing / unknown named template
        raise ChatTemplateError(str(exc)) from exc


# apply_chat_template's own parameters: a configuration passing any of these (besides the template override) is
# not plain rendering and always goes through the tokenizer.
_APPLY_PARAMS = frozenset({
    "tools", "documents", "continue_final_message", "tokenize", "sanitize_control_tokens", "padding",
    "truncation", "max_length", "return_tensors", "return_dict", "return_assistant_tokens_mask", "tokenizer_kwargs",
})


def accepted_kwargs(tokenizer: Any, template_kwargs: Mapping[str, Any] | None = None) -> set[str]:
    """Keyword arguments that take effect when rendering: the selected template's variables and
    ``apply_chat_template``'s own options."""
    return template_variables(selected_template(tokenizer, template_kwargs)) | _APPLY_PARAMS | {"chat_template"}


class _State:
    """What ``apply_chat_template`` computes on every call but that depends only on the tokenizer and the kwargs:
    transformers' compiled template and the template context (special tokens, kwargs, the template's globals),
    converted once."""

    __slots__ = ("template", "context", "reasoning_keys", "alias", "checked", "memo", "__weakref__")

    def __init__(self, tokenizer: Any, kwargs: Mapping[str, Any]):
        self.template: Any = None  # the compiled jinja2 Template while the fast path is on
        self.context: dict[str, Any] = {}
        self.reasoning_keys: tuple[str, ...] = ()
        self.alias: Any = None
        self.checked: set[bool] = set()  # add_generation_prompt values already compared with apply_chat_template
        self.memo: dict[Any, Any] = {}
        if any(k in _APPLY_PARAMS for k in kwargs) or not _stock_apply(tokenizer):
            return
        try:
            from transformers.utils import chat_template_utils as ctu

            # a private copy of transformers' compiled template (its environment, filters and globals), whose
            # sandbox memoises its safety verdicts (see _FastSandbox)
            compiled = ctu._cached_compile_jinja_template(
                tokenizer.get_chat_template(kwargs.get("chat_template"), None))
            compiled.environment.__class__ = _fast_sandbox(type(compiled.environment))
            extra = {k: v for k, v in kwargs.items() if k != "chat_template"}
            context = ctu._plain_template_data({**tokenizer.special_tokens_map, **extra})
            keys = tuple(ctu._REASONING_FIELDS)
            compiled.root_render_func, compiled.blocks  # noqa: B018 - the jinja2 API render() itself uses
        except Exception:  # noqa: BLE001 - anything unexpected: keep the tokenizer's own path
            return
        self.template, self.alias, self.reasoning_keys = compiled, ctu._alias_reasoning_fields, keys
        # what Template.render(**vars) merges on every call: the template's globals, then the variables
        self.context = {**compiled.globals, "tools": None, "documents": None, **context}

    def render(self, chat: list[dict[str, str]], add_generation_prompt: bool) -> str:
        """``Template.render(messages=..., add_generation_prompt=..., **context)`` without re-merging the
        constant part of the context on every call."""
        from jinja2.runtime import new_context

        tpl = self.template
        keys = self.reasoning_keys
        if any(k in m for m in chat for k in keys):  # transformers' aliasing changes only such messages
            chat = self.alias(chat)
        variables = {**self.context, "messages": chat, "add_generation_prompt": add_generation_prompt}
        env = tpl.environment
        try:
            return env.concat(tpl.root_render_func(
                new_context(env, tpl.name, tpl.blocks, variables, True, tpl.globals, None)))
        except Exception:  # noqa: BLE001 - as Template.render: jinja2 rewrites the traceback and re-raises
            return env.handle_exception()


_SAFE: dict[tuple[type, str], bool] = {}


def _fast_sandbox(base: type) -> type:
    """transformers' ``ImmutableSandboxedEnvironment`` with the same verdicts, computed once: jinja2's
    ``is_safe_attribute`` depends only on the object's type and the attribute name (internal and mutating
    attributes are listed per type), so it is memoised by (type, name); and an attribute read on a plain
    ``dict`` (``message.role``) that is not a dict method goes straight to the key, as jinja2 does after the
    failed ``getattr``."""
    cached = _SANDBOXES.get(base)
    if cached is not None:
        return cached

    class FastSandbox(base):  # type: ignore[misc, valid-type]
        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            key = (type(obj), attr)
            verdict = _SAFE.get(key)
            if verdict is None:
                verdict = _SAFE[key] = bool(super().is_safe_attribute(obj, attr, value))
            return verdict

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute not in _DICT_ATTRS:
                try:
                    return obj[attribute]
                except KeyError:
                    return self.undefined(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

    _SANDBOXES[base] = FastSandbox
    return FastSandbox


_SANDBOXES: dict[type, type] = {}
_DICT_ATTRS = frozenset(dir(dict))


class Renderer:
    """Renders conversations as ``tokenizer.apply_chat_template(messages, tokenize=False, ...)`` does, with the
    configuration's kwargs; see the module docstring for the fast path."""

    __slots__ = ("tokenizer", "kwargs", "_state")

    def __init__(self, tokenizer: Any, kwargs: Mapping[str, Any], state: _State):
        self.tokenizer = tokenizer
        self.kwargs = dict(kwargs)
        self._state = state

    @property
    def memo(self) -> dict[Any, Any]:
        """Scratch space for facts that depend only on this tokenizer and configuration."""
        return self._state.memo

    def render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = False) -> str:
        """The rendered text; a template that says it lacks a chat template, or that fails on these messages (its
        own ``UndefinedError`` or ``raise_exception``), raises ``ChatTemplateError`` with one line saying why."""
        try:
            return self._render(messages, add_generation_prompt)
        except ChatTemplateError:
            raise
        except Exception as exc:
            if not _is_template_error(exc):
                raise
            raise ChatTemplateError(self._why(messages, add_generation_prompt, exc)) from exc

    def _why(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool, exc: BaseException) -> str:
        """The one-line reason a render failed: a template that needs list content (a vision / processor template
        given plain-text messages) is named as such, with the fix."""
        name = getattr(self.tokenizer, "name_or_path", "") or ""
        of = f" of {name}" if isinstance(name, str) and name else ""
        error = f"{type(exc).__name__}: {exc}"
        parts = _as_parts(messages)
        if parts is not None:
            try:
                self._slow(parts, add_generation_prompt)
            except Exception:  # noqa: BLE001 - it fails with parts too: not a content-shape problem
                pass
            else:
                return (f"the chat template{of} needs message content as a list of parts "
                        "([{'type': 'text', 'text': ...}], a vision/processor template) and fails on plain-text "
                        f"content ({error}). Use the text model's tokenizer or chat template (chat_template=...), "
                        "or pass content as a list of parts")
        return f"the chat template{of} fails on this conversation ({error}); fix the template or the messages"

    def _render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool) -> str:
        st = self._state
        chat = _plain_chat(messages) if st.template is not None else None
        if chat is not None:
            text = st.render(chat, add_generation_prompt)
            if add_generation_prompt in st.checked:
                return text
            slow = self._slow(messages, add_generation_prompt)
            st.checked.add(add_generation_prompt)
            if slow != text:
                st.template = None
            return slow
        return self._slow(messages, add_generation_prompt)

    def _slow(self, messages: Any, add_generation_prompt: bool) -> str:
        try:
            out = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt, **self.kwargs
            )
        except ValueError as exc:
            if "chat template" in str(exc).lower() or "chat_template" in str(exc):
                raise ChatTemplateError(str(exc)) from exc
            raise
        if isinstance(out, list | tuple):  # a processor may return one text per conversation
            out = out[0] if out else ""
        return out


def _is_template_error(exc: BaseException) -> bool:
    """A Jinja error raised while rendering (``UndefinedError``, the template's own ``raise_exception``)."""
    try:
        from jinja2 import TemplateError
    except ImportError:
        return False
    return isinstance(exc, TemplateError)


def _as_parts(messages: Any) -> list[dict[str, Any]] | None:
    """The conversation with every plain-text content as one text part; None when no content is a string."""
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        return None
    out, changed = [], False
    for m in messages:
        if not isinstance(m, Mapping):
            return None
        if isinstance(m.get("content"), str):
            out.append({**m, "content": [{"type": "text", "text": m["content"]}]})
            changed = True
        else:
            out.append(dict(m))
    return out if changed else None


def _stock_apply(tokenizer: Any) -> bool:
    """The tokenizer renders with transformers' own ``apply_chat_template`` (not a subclass' or a patched one)."""
    try:
        from transformers import PreTrainedTokenizerBase
    except ImportError:
        return False
    return (getattr(type(tokenizer), "apply_chat_template", None) is PreTrainedTokenizerBase.apply_chat_template
            and "apply_chat_template" not in getattr(tokenizer, "__dict__", {}))


def _plain_chat(conversation: Any) -> list[dict[str, str]] | None:
    """The messages as transformers hands them to the template, when they are plain ``str``-valued dicts
    (transformers' normalisation then reduces to dropping ``None`` values; the sandbox cannot change them, so
    they are passed as they are)."""
    if type(conversation) is not list or not conversation:
        return None
    out = conversation
    for i, m in enumerate(conversation):
        if type(m) is not dict:
            return None
        has_none = False
        for k, v in m.items():
            if type(k) is not str:
                return None
            if type(v) is not str:
                if v is not None:
                    return None
                has_none = True
        if has_none:
            if out is conversation:
                out = list(conversation)
            out[i] = {k: v for k, v in m.items() if v is not None}
    return out


_STATES: weakref.WeakKeyDictionary[Any, dict[tuple, _State]] = weakref.WeakKeyDictionary()
_MAX_CONFIGS = 64  # per tokenizer: detection probes a few dozen kwarg combinations


def _config_key(tokenizer: Any, kwargs: Mapping[str, Any]) -> tuple:
    source = getattr(tokenizer, "chat_template", None)
    try:
        special = repr(getattr(tokenizer, "special_tokens_map", None))
    except Exception:  # noqa: BLE001 - a processor or stand-in without the map
        special = ""
    return (source if isinstance(source, str) else repr(source),
            repr(sorted((k, repr(v)) for k, v in kwargs.items())), special)


def renderer(tokenizer: Any, template_kwargs: Mapping[str, Any] | None = None) -> Renderer:
    """The renderer of ``tokenizer`` with ``template_kwargs``; its state is kept while the template, the kwargs and
    the special tokens stay the same (so the one-off check against ``apply_chat_template`` is paid once)."""
    kwargs = dict(template_kwargs or {})
    for own in ("add_generation_prompt", "tokenize", "conversation", "messages"):
        kwargs.pop(own, None)
    key = _config_key(tokenizer, kwargs)
    try:
        states = _STATES.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no cache
        return Renderer(tokenizer, kwargs, _State(tokenizer, kwargs))
    state = states.get(key)
    if state is None:
        if len(states) >= _MAX_CONFIGS:
            states.pop(next(iter(states)))
        state = states[key] = _State(tokenizer, kwargs)
    return Renderer(tokenizer, kwargs, state)
