"""Tokenizer / chat template -> ``TraceProfile``: which trace format a model uses and how its prompt opens.

Pure core: no lm_eval import, and transformers is never imported here either. ``detect_format`` accepts any
object with ``apply_chat_template`` and ``chat_template`` (a Hugging Face tokenizer or processor).

How ``detect_format`` decides (every fact read from ``formats.FORMATS``; nothing here names a family):

1. Render probe conversations with the caller's chat-template kwargs: system + user (the primary probe),
   user only, a history (system, user, assistant with ``reasoning_content``/``thinking``, user) and a
   finished answer (system, user, assistant), each with and without the generation prompt, and a tool call
   with its result (the tool-call markup is often assembled from pieces in the source). For each thinking
   switch a registry format names (``enable_thinking``, ``thinking``, ``reasoning_effort``...) that the
   template reads, render again with the switch on and off, with the values the asking format gives it
   (``switch_values``: HY's 'high' / 'no_think'), else booleans.
2. Candidates are the formats whose (unanchored) delimiters occur in the template source or in a render:
   a hybrid template holds its tags in the source even when the probe prompt has none. A format with a
   ``vocab_suffix`` whose suffixed tags show there ('<think:opensource>') takes part as its suffixed
   derivative (``formats.with_token_suffix``). When no delimiter shows at all, the formats whose own
   template markers or hints do are the candidates (Granite 4.x, MiniMax-M1: the model writes the opener).
3. Each candidate scores the registry facts the template confirms or contradicts: delimiters (both tags,
   the format's primary spelling, single vocab tokens), its ``template_markers`` (the family's own strings:
   tool grammar, turn tokens, answer wrappers; present is strong evidence, half as strong when other formats
   declare the same marker, declared but absent strongly against; ``template_hints`` count when
   present only), its tool-call markers (an ``implicit_close`` the template never shows counts a little
   against; a closer that ends every kind of block, ``close_needs_open``, is no evidence without its opener),
   the thinking switch (the template reads it and it changes the prompt), the ``disabled_insert`` (what the
   switched-off prompt ends with), the prefill habit and the default of the switch. User formats
   (``register_format``) take part like built-in ones. A model id (``name_or_path``) that ``rule_for_model``
   maps to a candidate wins outright. When the best candidates are indistinguishable from the generic
   ``think`` format (QwQ vs R1-Distill vs Olmo-3: all prefilled ``<think>``), the answer is ``think``. Any
   other tie is never settled silently: the profile is ``ambiguous``, lists the ``candidates`` and a note
   gives the ``--metadata '{"trace_format": ...}'`` that settles it (the first candidate is used meanwhile).
4. ``prefilled`` is ``classify.prompt_is_prefilled`` on the rendered primary prompt. ``thinking_disabled``:
   the generation prompt ends with a closed (empty or canned) block, or a prefilling template lost its
   opener, or the prompt equals the switched-off render of a switch that matters: the format's own switch when
   the template reads it and it changes the prompt (a secondary switch such as ``reasoning_effort`` beside
   ``thinking`` then only adds to the prompt), else any switch the template reads.
5. ``special_delimiters``: encode each delimiter, decode with ``skip_special_tokens=True`` and see whether
   it disappears; the registry flag is only the fallback when the tokenizer cannot be used.

No known delimiter in the template: the model id decides (source ``model_id``) or the generic ``think``
format is assumed (source ``default``), with a note either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .classify import prompt_is_prefilled
from .formats import FORMATS, Delimiters, ModelRule, TraceFormat, get_format, rule_for_model, with_token_suffix
from .template import ChatTemplateError, renderer, template_text
from .template import template_variables as _template_variables

__all__ = ["TraceProfile", "detect_format", "profile_for_format", "profile_for_model_id"]

DEFAULT_FORMAT = "think"

_PROBE_SYSTEM = "You are a helpful assistant."
_PROBE_USER = "What is 2 + 3?"
_PROBE_USER_2 = "And what is 3 + 4?"
_PROBE_REASONING = "Adding 2 and 3 gives 5."
_PROBE_ANSWER = "5"
# A tool call and its result: the family's tool-call markup is often built from pieces in the source
# ('<' + dsml_token + 'tool_calls>'), so only a render shows it.
_PROBE_TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
_PROBE_CALL = {"type": "function", "id": "call_0", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}

# Weights of the evidence (see the module docstring). A model id match must beat any template evidence.
_W_MODEL_ID = 100
_W_INSERT_EXACT, _W_INSERT_LOOSE, _W_INSERT_WRONG = 3, 1, -2
_W_SWITCH, _W_NO_SWITCH = 2, -2
# ``template_markers``: a family's own literal strings (tool grammar, turn tokens, answer wrappers) in the template
# source or a render. Present: strong evidence; a marker other families declare too (a shared tool grammar) names
# the group only, half as strong; the family declares markers and none is there: strongly against it (GLM-4.7
# and a prefilled <think> template with the same switch differ only there; a model id rule still wins). An own
# marker outweighs the default of the switch (+-1) plus a shared marker's edge. ``template_hints``: present only.
_W_MARKER, _W_SHARED_MARKER, _W_NO_MARKER = 6, 3, -10
_W_NO_TOOL_GRAMMAR = -1  # the family ends a trace at a tool-call marker the template never shows
# A lead this small comes only from weak facts (the prefill habit, the switch's default, a missing tool grammar,
# the primary spelling): a leader without evidence of its own (no marker, hint or model id of it) is not named
# over a runner-up that close (a ChatML template with none of EXAONE's markers is no EXAONE template).
_W_WEAK_LEAD = 2


@dataclass(frozen=True)
class TraceProfile:
    """What the classifier and the masker need to know about a model's trace.

    ``format``: a ``FORMATS`` name. ``prefilled``: the generation prompt ends inside an open trace block.
    ``thinking_disabled``: with these chat-template kwargs thinking is off (the prompt carries a closed or
    canned block, a prefilling template lost its opener, or the template's thinking switch is off), so
    generations carry no trace by configuration. ``special_delimiters``: the delimiters are special tokens
    that ``skip_special_tokens=True`` drops. ``source``: "chat_template", "model_id", "given" or "default".
    ``ambiguous``: the template fits several families with different facts equally (``candidates``, the
    chosen ``format`` first); a note names them and how to settle it (``settle_with``).
    """

    format: str
    prefilled: bool
    thinking_disabled: bool
    special_delimiters: bool
    source: str
    notes: tuple[str, ...] = ()
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()

    @property
    def trace_format(self) -> TraceFormat:
        return get_format(self.format)

    @property
    def settle_with(self) -> str:
        """The lm-eval ``--metadata`` that names the format (for an ambiguous profile: pick one candidate)."""
        return f"--metadata '{{\"trace_format\": \"{self.format}\"}}'"


# --------------------------------------------------------------------------------------------------------------
# model id only


def profile_for_model_id(model_id: str, **chat_template_kwargs: Any) -> TraceProfile | None:
    """The ``MODEL_RULES`` fallback: a profile from the model id alone (None when no rule matches).

    The switch kwarg of the format (e.g. ``enable_thinking=False``, ``thinking=True``) is honoured the way
    the family's template documents it; everything else is the registry's habit, so prefer
    ``detect_format`` whenever the chat template is at hand.
    """
    rule = rule_for_model(model_id)
    if rule is None:
        return None
    fmt = get_format(rule.format)
    notes = [f"format from the model id {model_id!r} only (no chat template read): check it against the template"]
    thinking_on = _switch_state(fmt, rule, chat_template_kwargs)
    disabled = not thinking_on
    if rule.prefilled is not None:
        prefilled = rule.prefilled and not disabled
    else:  # the habit depends on the switch: families with such a rule open the trace when thinking is on
        prefilled = thinking_on
    if disabled:
        notes.append(f"{fmt.thinking_switch}={chat_template_kwargs.get(fmt.thinking_switch)!r} "
                     "(or the family's default) turns thinking off: generations carry no trace by configuration")
    special = fmt.special_delimiters if rule.special_delimiters is None else rule.special_delimiters
    if special:
        notes.append(_SPECIAL_NOTE)
    return TraceProfile(fmt.name, bool(prefilled), disabled, special, "model_id", tuple(notes))


def _switch_state(fmt: TraceFormat, rule: ModelRule | None, kwargs: Mapping[str, Any]) -> bool:
    """Is thinking on for this format given the kwargs (and the rule's / format's default)?"""
    switch = fmt.thinking_switch
    if switch is None:
        return True
    value = kwargs.get(switch)
    if value is not None:  # a budget-style switch (int) is off at 0 only; -1 means unlimited
        return value != 0 if isinstance(value, int) and not isinstance(value, bool) else bool(value)
    if rule is not None and rule.thinking_default is not None:
        return rule.thinking_default
    return fmt.thinking_default


# --------------------------------------------------------------------------------------------------------------
# rendering


_DROP = object()  # an override value that removes the kwarg (to render the template's default)


class _Probes:
    """The probe conversations rendered through ``template.renderer``, memoised, errors kept aside."""

    PROBES: dict[str, list[dict[str, Any]]] = {
        "sys": [{"role": "system", "content": _PROBE_SYSTEM}, {"role": "user", "content": _PROBE_USER}],
        "user": [{"role": "user", "content": _PROBE_USER}],
        "hist": [
            {"role": "system", "content": _PROBE_SYSTEM},
            {"role": "user", "content": _PROBE_USER},
            {"role": "assistant", "content": _PROBE_ANSWER, "reasoning_content": _PROBE_REASONING,
             "thinking": _PROBE_REASONING},
            {"role": "user", "content": _PROBE_USER_2},
        ],
        "answer": [
            {"role": "system", "content": _PROBE_SYSTEM},
            {"role": "user", "content": _PROBE_USER},
            {"role": "assistant", "content": _PROBE_ANSWER, "reasoning_content": _PROBE_REASONING,
             "thinking": _PROBE_REASONING},
        ],
        "tool": [
            {"role": "system", "content": _PROBE_SYSTEM},
            {"role": "user", "content": _PROBE_USER},
            {"role": "assistant", "content": "", "tool_calls": [_PROBE_CALL]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_0", "name": "get_weather"},
        ],
    }

    def __init__(self, obj: Any, kwargs: Mapping[str, Any], system: str | None) -> None:
        self.obj = obj
        self.kwargs = dict(kwargs)
        self.errors: list[str] = []
        self._memo: dict[tuple[Any, ...], str | None] = {}
        self.probes = {k: [dict(m) for m in v] for k, v in self.PROBES.items()}
        if system is not None:
            for msgs in self.probes.values():
                if msgs[0]["role"] == "system":
                    msgs[0]["content"] = system
            self.probes["user"] = [{"role": "system", "content": system}, *self.probes["user"]]

    def render(self, probe: str, gen: bool, overrides: Mapping[str, Any] | None = None) -> str | None:
        kw = {**self.kwargs, **(overrides or {})}
        kw = {k: v for k, v in kw.items() if v is not _DROP}
        key = (probe, gen, tuple(sorted((k, repr(v)) for k, v in kw.items())))
        if key not in self._memo:
            self._memo[key] = self._render(probe, gen, kw)
        return self._memo[key]

    def _render(self, probe: str, gen: bool, kw: dict[str, Any]) -> str | None:
        try:
            out = renderer(self.obj, kw).render(self.probes[probe], gen)
        except Exception as exc:  # noqa: BLE001 - any template error just means "this probe is unusable"
            self.errors.append(f"{probe}: {exc}" if isinstance(exc, ChatTemplateError)
                               else f"{probe}: {type(exc).__name__}: {exc}")
            return None
        return out if isinstance(out, str) else None

    def gen_suffix(self, probe: str, overrides: Mapping[str, Any] | None = None) -> str | None:
        """The text ``add_generation_prompt=True`` adds (the assistant header and whatever follows it)."""
        with_gen = self.render(probe, True, overrides)
        if with_gen is None:
            return None
        without = self.render(probe, False, overrides)
        if without is None:
            return with_gen
        if with_gen.startswith(without):
            return with_gen[len(without):]
        n = 0
        for a, b in zip(with_gen, without, strict=False):
            if a != b:
                break
            n += 1
        return with_gen[n:]

    def rendered_texts(self) -> list[str]:
        return [t for t in self._memo.values() if t]


@dataclass
class _Switch:
    """A thinking switch the template reads: the kwargs that turn it on/off and whether it changes a prompt."""

    name: str
    on: dict[str, Any]
    off: dict[str, Any]
    effective: bool


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def _all_switches() -> list[str]:
    return list(dict.fromkeys(f.thinking_switch for f in FORMATS.values() if f.thinking_switch))


def _switch_pairs(name: str, values: tuple[object, object] | None = None) -> list[tuple[object, object]]:
    """(on, off) values to try for switch ``name``: the given ones first, then booleans, then the values the
    registry's formats give it (HY's ``reasoning_effort`` takes 'high' / 'no_think', not True / False)."""
    pairs = [values] if values is not None else []
    pairs += [(True, False), (True, 0)]
    pairs += [f.switch_values for f in FORMATS.values() if f.thinking_switch == name]
    return list(dict.fromkeys(pairs))


def _probe_switch(r: _Probes, name: str, values: tuple[object, object] | None = None) -> _Switch:
    """The first (on, off) pair of values that changes a generation prompt (None as a value: the default)."""
    probes = ("sys", "user")
    pairs = _switch_pairs(name, values)
    for on_value, off_value in pairs:
        on = {name: _DROP if on_value is None else on_value}
        off = {name: _DROP if off_value is None else off_value}
        on_renders = [r.render(p, True, on) for p in probes]
        off_renders = [r.render(p, True, off) for p in probes]
        if any(a is not None and b is not None and a != b for a, b in zip(on_renders, off_renders, strict=True)):
            return _Switch(name, on, off, True)
    return _Switch(name, {name: True}, {name: False}, False)


def switch_changes_prompt(tokenizer: Any, switch: str, values: tuple[object, object] | None = None,
                          **chat_template_kwargs: Any) -> bool:
    """Turning ``switch`` on and off changes a rendered generation prompt (``values`` first, then the pairs the
    registry knows): what ``detect_format`` reads as a switch that works."""
    return _probe_switch(_Probes(tokenizer, chat_template_kwargs, None), switch, values).effective


class _Switches:
    """The template's thinking switches, each probed with the values of the format that asks (memoised)."""

    def __init__(self, r: _Probes, variables: set[str]) -> None:
        self.r = r
        self.names = [s for s in _all_switches() if s in variables]
        self._memo: dict[tuple[str, Any], _Switch] = {}

    def get(self, name: str, values: tuple[object, object] | None = None) -> _Switch | None:
        if name not in self.names:
            return None
        key = (name, values)
        if key not in self._memo:
            self._memo[key] = _probe_switch(self.r, name, values)
        return self._memo[key]

    def for_format(self, fmt: TraceFormat) -> dict[str, _Switch]:
        """Every switch the template reads, the format's own probed with its ``switch_values``."""
        out: dict[str, _Switch] = {}
        for n in self.names:
            sw = self.get(n, fmt.switch_values if n == fmt.thinking_switch else None)
            if sw is not None:
                out[n] = sw
        return out


# --------------------------------------------------------------------------------------------------------------
# tokenizer checks


def _text_tokenizer(obj: Any) -> Any | None:
    """The object that encodes/decodes text: the tokenizer itself or a processor's ``.tokenizer``."""
    for cand in (obj, getattr(obj, "tokenizer", None)):
        if cand is not None and callable(getattr(cand, "encode", None)) and callable(getattr(cand, "decode", None)):
            return cand
    return None


def _encode(tok: Any, text: str) -> list[int] | None:
    try:
        ids = tok.encode(text, add_special_tokens=False)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(ids, Mapping):
        ids = ids.get("input_ids")
    return list(ids) if ids is not None else None


def _is_single_token(tok: Any | None, text: str) -> bool:
    if tok is None:
        return False
    ids = _encode(tok, text)
    return ids is not None and len(ids) == 1


def _dropped_by_skip(tok: Any, text: str) -> bool | None:
    """True when decoding ``text`` with skip_special_tokens=True loses it; None when the tokenizer fails."""
    ids = _encode(tok, text)
    if not ids:
        return None
    try:
        decoded = tok.decode(ids, skip_special_tokens=True)
    except Exception:  # noqa: BLE001
        return None
    return text not in decoded


# --------------------------------------------------------------------------------------------------------------
# scoring


@dataclass
class _Candidate:
    fmt: TraceFormat
    delims: Delimiters
    score: int
    why: list[str]
    own: bool = False  # evidence of this family's own: a template marker or hint of it, or the model id


def _evidence_match(d: Delimiters, evidence: str) -> tuple[bool, bool]:
    return any(o in evidence for o in d.open), any(c in evidence for c in d.close)


def _insert_score(fmt: TraceFormat, sw: _Switch, r: _Probes) -> tuple[int, str]:
    """How the switched-off generation prompt compares with ``fmt.disabled_insert``."""
    ins = fmt.disabled_insert
    off_gen = r.gen_suffix("sys", sw.off) or r.gen_suffix("user", sw.off)
    on_gen = r.gen_suffix("sys", sw.on) or r.gen_suffix("user", sw.on)
    if ins is None or off_gen is None:
        return 0, ""
    tags = (*fmt.all_open, *fmt.all_close)
    head = off_gen[: len(off_gen) - len(ins)]
    if (off_gen.endswith(ins) and not any(t in head for t in tags)) or (on_gen is not None and off_gen == on_gen + ins):
        return _W_INSERT_EXACT, "disabled insert matches"
    if ins.strip() and off_gen.rstrip().endswith(ins.rstrip()):
        return _W_INSERT_LOOSE, "disabled insert matches up to trailing whitespace"
    if any(c in off_gen for c in fmt.all_close):
        return _W_INSERT_WRONG, "the switched-off prompt carries a different block"
    return 0, ""


def _suffixed(fmt: TraceFormat, evidence: str, tok: Any | None) -> TraceFormat:
    """``fmt`` with the tag suffix its ``vocab_suffix`` reads from the template's renders or the tokenizer's
    added tokens (HY 3 writes '<think:opensource>'); ``fmt`` itself when it has none or none is there."""
    if fmt.vocab_suffix is None:
        return fmt
    m = re.search(fmt.vocab_suffix, evidence)
    if m is None and tok is not None:
        try:
            added = tok.get_added_vocab() if callable(getattr(tok, "get_added_vocab", None)) else {}
        except Exception:  # noqa: BLE001 - a stand-in tokenizer without an added vocabulary
            added = {}
        m = next((mm for t in added if isinstance(t, str) and (mm := re.fullmatch(fmt.vocab_suffix, t))), None)
    return with_token_suffix(fmt, m.group(1)) if m is not None and m.group(1) else fmt


def _shared_markers() -> set[str]:
    """Template markers two or more formats declare (a shared tool grammar such as GLM's ``<arg_key>``)."""
    seen: dict[str, int] = {}
    for f in FORMATS.values():
        for m in set(f.template_markers):
            seen[m] = seen.get(m, 0) + 1
    return {m for m, n in seen.items() if n > 1}


def _score(
    fmt: TraceFormat, evidence: str, tok: Any | None, all_switches: _Switches, r: _Probes,
    base_sys: str | None, rule: ModelRule | None, *, markers_only: bool = False,
) -> _Candidate | None:
    """The evidence for ``fmt`` (None: not a candidate). ``markers_only``: no format's delimiters occur in the
    template, so a format whose own template markers do is a candidate on those alone."""
    switches = all_switches.for_format(fmt)
    best: tuple[int, int, Delimiters] | None = None
    for idx, d in enumerate(fmt.delimiters):
        if d.anchored:
            continue
        has_open, has_close = _evidence_match(d, evidence)
        if not has_open and (d.close_needs_open or not has_close):
            continue  # a closer that ends every kind of block (Solar's '<|end|>' is Phi's turn end) is no trace
        s = int(has_open) + int(has_close) + (1 if idx == 0 else 0)
        if any(_is_single_token(tok, t) for t in (*d.open[:1], d.close[0])):
            s += 1
        if best is None or s > best[0]:
            best = (s, idx, d)
    found = [m for m in fmt.template_markers if m in evidence]
    hints = [h for h in fmt.template_hints if h in evidence]
    if best is None:
        plain = [d for d in fmt.delimiters if not d.anchored]
        if not (markers_only and (found or hints) and plain):
            return None
        score, delims = 0, plain[0]
        why = ["no trace delimiter in the template (+0)"]
    else:
        score, _, delims = best
        why = [f"delimiters {delims.open[:1]}/{delims.close[:1]} found (+{score})"]
    if fmt.template_markers:
        # a marker of this family alone names it; one that look-alikes declare too (a shared tool grammar)
        # only names the group
        shared = _shared_markers()
        own = [m for m in found if m not in shared]
        pts = (_W_MARKER if own else _W_SHARED_MARKER) if found else _W_NO_MARKER
        score += pts
        why.append(f"template markers {found} ({pts:+d})" if found
                   else f"none of its template markers {list(fmt.template_markers)} ({pts:+d})")
    if hints:
        score += _W_MARKER
        why.append(f"template hints {hints} (+{_W_MARKER})")

    if fmt.implicit_close and not any(ic.marker in evidence for ic in fmt.implicit_close):
        score += _W_NO_TOOL_GRAMMAR  # a fact about tool calls that a template without them cannot confirm
        why.append(f"no {fmt.implicit_close[0].marker!r} tool-call marker ({_W_NO_TOOL_GRAMMAR:+d})")

    sw = switches.get(fmt.thinking_switch) if fmt.thinking_switch else None
    on_prompt = base_sys
    if fmt.thinking_switch:
        if sw is not None and sw.effective:
            score += _W_SWITCH
            why.append(f"template switch {fmt.thinking_switch!r} (+{_W_SWITCH})")
            pts, msg = _insert_score(fmt, sw, r)
            score += pts
            if msg:
                why.append(f"{msg} ({pts:+d})")
            default = {sw.name: _DROP}
            default_off = any(
                r.render(p, True, default) == r.render(p, True, sw.off) != r.render(p, True, sw.on)
                for p in ("sys", "user")
            )
            score += 1 if default_off != fmt.thinking_default else -1
            on_prompt = r.render("sys", True, sw.on) or base_sys
        elif sw is None:
            score += _W_NO_SWITCH
            why.append(f"template does not read {fmt.thinking_switch!r} ({_W_NO_SWITCH})")
    else:
        effective = [s for s in switches.values() if s.effective]
        if effective:
            on_prompt = r.render("sys", True, effective[0].on) or base_sys
    if on_prompt is not None and fmt.prefilled is not None:
        pre = prompt_is_prefilled(on_prompt, fmt)
        if pre == fmt.prefilled:
            score += 1
            why.append("prefill habit matches (+1)")
        else:
            score -= 1
            why.append("prefill habit differs (-1)")
    if rule is not None and rule.format == fmt.name:
        score += _W_MODEL_ID
        why.append(f"model id rule {rule.pattern!r} (+{_W_MODEL_ID})")
    own = bool(found or hints) or (rule is not None and rule.format == fmt.name)
    return _Candidate(fmt, delims, score, why, own)


def _generic_equivalent(fmt: TraceFormat) -> bool:
    """Carries no fact beyond the generic format's (same tags, no switch, no insert, not special)."""
    generic = FORMATS[DEFAULT_FORMAT]
    return (
        fmt.delimiters == generic.delimiters
        and fmt.thinking_switch is None
        and fmt.disabled_insert is None
        and not fmt.implicit_close
        and not fmt.special_delimiters
    )


def _choose(cands: list[_Candidate], rule: ModelRule | None) -> tuple[_Candidate, list[str], tuple[str, ...]]:
    """The best candidate, notes, and the tied families when the template cannot tell them apart (else ())."""
    notes: list[str] = []
    top = max(c.score for c in cands)
    tied = [c for c in cands if c.score == top]
    by_name = {c.fmt.name: c for c in cands}
    if rule is not None and rule.format in by_name and by_name[rule.format] in tied:
        return by_name[rule.format], notes, ()
    if len(tied) == 1 and not tied[0].own and not _generic_equivalent(tied[0].fmt):
        # weak evidence: a named family with nothing of its own in the template is not named over runners-up
        # within a weak lead (the generic format needs no such care: it claims no family's facts)
        tied = sorted((c for c in cands if top - c.score <= _W_WEAK_LEAD and not c.own), key=lambda c: -c.score)
    if len(tied) == 1 and not _generic_equivalent(tied[0].fmt):
        return tied[0], notes, ()
    if all(_generic_equivalent(c.fmt) or c.fmt.name == DEFAULT_FORMAT for c in tied):
        generic = by_name.get(DEFAULT_FORMAT) or _Candidate(FORMATS[DEFAULT_FORMAT], tied[0].delims, top, [])
        if len(tied) > 1 or tied[0].fmt.name != DEFAULT_FORMAT:
            names = ", ".join(c.fmt.name for c in tied)
            notes.append(f"the template fits {names} equally; using the generic {DEFAULT_FORMAT!r} (same facts). "
                         "Pass the model id (name_or_path) or trace_format= to name the family")
        return generic, notes, ()
    # Several families with different facts fit equally: name them all, never pick silently. Families with the
    # generic format's facts count as one candidate, 'think'.
    names = list(dict.fromkeys(DEFAULT_FORMAT if _generic_equivalent(c.fmt) else c.fmt.name for c in tied))
    chosen = by_name.get(names[0]) or _Candidate(FORMATS[DEFAULT_FORMAT], tied[0].delims, top, [])
    notes.append(
        f"ambiguous chat template: {', '.join(names)} fit it equally; using {names[0]!r}. Settle it with "
        + " or ".join(f"--metadata '{{\"trace_format\": \"{n}\"}}'" for n in names)
        + " (lm-eval), trace_format=<name> (Python), or a tokenizer whose name_or_path is the model id"
    )
    return chosen, notes, tuple(names)


# --------------------------------------------------------------------------------------------------------------
# the state of one prompt


def _closed_block_at_end(gen: str | None, fmt: TraceFormat) -> bool:
    """The generation prompt ends with a closed block (empty, canned or a bare closer) after the header."""
    if not gen:
        return False
    for d in fmt.delimiters:
        if d.anchored:
            continue
        for close in d.close:
            pos = gen.rfind(close)
            if pos < 0:
                continue
            tail = gen[pos + len(close):].strip()
            if d.answer_open and tail.startswith(d.answer_open):
                tail = tail[len(d.answer_open):].strip()
            if not tail and not any(o in gen[pos:] for o in d.open):
                return True
    return False


def _prompt_state(
    fmt: TraceFormat, r: _Probes, switches: dict[str, _Switch], primary: str
) -> tuple[bool, bool, list[str]]:
    """(prefilled, thinking_disabled, notes) of the prompt rendered with the caller's kwargs."""
    notes: list[str] = []
    prompt = r.render(primary, True) or ""
    prefilled = prompt_is_prefilled(prompt, fmt)
    disabled = _closed_block_at_end(r.gen_suffix(primary), fmt)
    if disabled:
        notes.append("the generation prompt already holds a closed trace block: thinking is disabled by these "
                     "kwargs, generations carry no trace by configuration (not a collapse)")
        # name the switch that leaves the block open (llama.cpp's QwQ template closes it unless enable_thinking
        # is passed, which llama.cpp always does and apply_chat_template does not)
        for sw in switches.values():
            value = sw.on.get(sw.name, _DROP)
            if (sw.effective and value is not _DROP and r.render(primary, True, sw.on) != prompt
                    and not _closed_block_at_end(r.gen_suffix(primary, sw.on), fmt)):
                notes.append(f"the template's {sw.name!r} switch leaves the block open: pass {sw.name}={value!r} "
                             "to turn thinking on")
                break
    # The format's own switch, when the template reads it and it changes the prompt, is the one that decides:
    # a secondary switch (DeepSeek-V4-Flash's reasoning_effort next to its thinking) only adds to the prompt.
    own = switches.get(fmt.thinking_switch) if fmt.thinking_switch else None
    deciding = [own] if own is not None and own.effective else list(switches.values())
    for sw in deciding:
        if disabled or not sw.effective:
            continue
        on_sys = r.render(primary, True, sw.on)
        if on_sys is not None and prompt_is_prefilled(on_sys, fmt) and not prefilled and on_sys != prompt:
            off_sys = r.render(primary, True, sw.off)
            if off_sys is not None and off_sys != prompt and _closed_block_at_end(r.gen_suffix(primary, sw.off), fmt):
                # a third state (MiniCPM 5 with the switch unset): neither the opener nor the closed block, so
                # the model decides whether to think
                notes.append(f"with {sw.name} unset the prompt neither opens the trace ({sw.name} on) nor closes "
                             f"it ({sw.name} off): the model decides whether to think")
                continue
            disabled = True
            notes.append(f"with {sw.name} on the prompt opens the trace, with these kwargs it does not: "
                         "thinking is disabled")
            continue
        same_as_off = all(r.render(p, True) == r.render(p, True, sw.off) for p in ("sys", "user"))
        differs_from_on = any(r.render(p, True) != r.render(p, True, sw.on) for p in ("sys", "user"))
        if same_as_off and differs_from_on:
            disabled = True
            notes.append(f"the template's thinking switch {sw.name!r} is off with these kwargs (pass "
                         f"{sw.name}=True to turn it on): generations carry no trace by configuration")
    if disabled:
        prefilled = False
    return prefilled, disabled, notes


def _special(tok: Any | None, fmt: TraceFormat, delims: Delimiters) -> tuple[bool, list[str]]:
    if tok is None:
        return fmt.special_delimiters, ["no tokenizer to test the delimiters with: using the registry's "
                                        "special_delimiters flag"]
    checks = [_dropped_by_skip(tok, t) for t in (*delims.open[:1], delims.close[0])]
    if all(c is None for c in checks):
        return fmt.special_delimiters, ["the tokenizer could not encode/decode the delimiters: using the "
                                        "registry's special_delimiters flag"]
    return any(bool(c) for c in checks), []


_SPECIAL_NOTE = ("the trace delimiters are special tokens: decode generations with skip_special_tokens=False "
                 "(lm-eval's HF model skips them), or every trace will read as missing")


# --------------------------------------------------------------------------------------------------------------
# public entry points


def detect_format(tokenizer: Any, *, probe_system: str | None = None, **chat_template_kwargs: Any) -> TraceProfile:
    """Detect the trace format and prompt habits of ``tokenizer``'s chat template.

    ``chat_template_kwargs`` are passed to ``apply_chat_template`` exactly as the evaluation will pass them
    (e.g. ``enable_thinking=False``), so ``prefilled``/``thinking_disabled`` describe that configuration.
    ``probe_system`` replaces the probe's system message (for soft switches such as ``/no_think``).
    Raises ``ValueError`` when there is no chat template to read.
    """
    if not callable(getattr(tokenizer, "apply_chat_template", None)):
        raise TypeError(f"detect_format needs a tokenizer or processor with apply_chat_template, "
                        f"got {type(tokenizer).__name__}")
    source = template_text(tokenizer)
    name = getattr(tokenizer, "name_or_path", "") or ""
    if not source:
        label = f" {name!r}" if name else ""
        raise ValueError(
            f"tokenizer{label} has no chat template, so its trace format and prefill habit cannot be detected. "
            "Pass trace_format=<name> explicitly (one of: " + ", ".join(sorted(FORMATS)) + "), or set "
            "tokenizer.chat_template (e.g. chat_template=... in the model args), or use "
            "profile_for_model_id(model_id) for the registry's guess."
        )
    # the format is read from neutral probes; the prompt state from the probes the caller configured
    r = _Probes(tokenizer, chat_template_kwargs, None)
    state_r = r if probe_system is None else _Probes(tokenizer, chat_template_kwargs, probe_system)
    primary = next((p for p in ("sys", "user") if r.render(p, True) is not None), None)
    if primary is None:
        # one reason, said once (both probes usually fail the same way: a vision template wants list content)
        reasons = "; ".join(dict.fromkeys(e.split(": ", 1)[-1] for e in r.errors[-2:]))
        raise ChatTemplateError(f"the chat template{f' of {name!r}' if name else ''} fails on a system+user and on "
                                f"a user-only conversation: {reasons}. Fix the template or pass "
                                "trace_format=<name> explicitly")
    for probe in ("sys", "user", "hist", "answer"):
        r.render(probe, True)
        r.render(probe, False)
    r.render("tool", False, {"tools": _PROBE_TOOLS})
    variables = _template_variables(source)
    switch_probe = _Switches(r, variables)
    notes: list[str] = []
    for key in chat_template_kwargs:
        if key not in variables:
            notes.append(f"the chat template does not read {key!r}: passing it has no effect")

    tok = _text_tokenizer(tokenizer)
    rule = rule_for_model(name) if name else None
    evidence = "\n".join([_JINJA_COMMENT.sub("", source), *r.rendered_texts()])
    base_sys = r.render(primary, True)
    # by name: a suffixed derivative registered by an earlier detection ('hy:opensource') is the same candidate
    # as the one its family derives now, not a second one tying with it
    formats = list({f.name: f for f in (_suffixed(f, evidence, tok) for f in list(FORMATS.values()))}.values())
    cands = [c for f in formats if (c := _score(f, evidence, tok, switch_probe, r, base_sys, rule))]
    if not cands:  # no delimiter anywhere: a family's own template markers may still name it
        by_markers = [c for f in formats
                      if (c := _score(f, evidence, tok, switch_probe, r, base_sys, rule, markers_only=True))]
        if by_markers and (rule is None or rule.format in [c.fmt.name for c in by_markers]):
            cands = by_markers
            named = ", ".join(dict.fromkeys(c.fmt.name for c in by_markers))
            notes.append(f"the chat template shows no trace delimiter; its template markers name {named}: the "
                         "model must write the trace opener itself")

    tied: tuple[str, ...] = ()
    if cands:
        chosen, choose_notes, tied = _choose(cands, rule)
        notes.extend(choose_notes)
        fmt, delims, source_kind = chosen.fmt, chosen.delims, "chat_template"
        if rule is not None and rule.format != fmt.name and get_format(rule.format) not in [c.fmt for c in cands]:
            notes.append(f"the model id {name!r} suggests {rule.format!r}, but the chat template shows "
                         f"{fmt.name!r} delimiters; using the template")
    elif rule is not None:
        fmt = get_format(rule.format)
        delims, source_kind = fmt.delimiters[0], "model_id"
        notes.append(f"the chat template shows no known trace delimiter; format {fmt.name!r} from the model id "
                     f"{name!r}")
    else:
        fmt = FORMATS[DEFAULT_FORMAT]
        delims, source_kind = fmt.delimiters[0], "default"
        notes.append("the chat template shows no known trace delimiter and the model id matches no rule: assuming "
                     f"the generic {DEFAULT_FORMAT!r} format (<think>...</think>). If the model reasons in another "
                     "format pass trace_format=<name>; if it does not reason, every trace will be 'missing'")

    switches = switch_probe.for_format(fmt)
    if state_r is not r:
        state_primary = next((p for p in ("sys", "user") if state_r.render(p, True) is not None), primary)
        state_switches = _Switches(state_r, variables).for_format(fmt)
        prefilled, disabled, state_notes = _prompt_state(fmt, state_r, state_switches, state_primary)
    else:
        prefilled, disabled, state_notes = _prompt_state(fmt, r, switches, primary)
    notes.extend(state_notes)
    if source_kind == "model_id" and rule is not None and rule.prefilled is not None and not disabled:
        if rule.prefilled != prefilled:
            notes.append(f"the model id rule says prefilled={rule.prefilled}, the prompt says {prefilled}: "
                         "using the prompt")
    if not disabled and not prefilled and fmt.prefilled is True and source_kind == "chat_template":
        notes.append(f"{fmt.name!r} templates usually open the trace in the prompt, this one does not (an older "
                     "template?): the model must write the opener itself")
    special, special_notes = _special(tok, fmt, delims)
    notes.extend(special_notes)
    if special:
        notes.append(_SPECIAL_NOTE)
    return TraceProfile(fmt.name, prefilled, disabled, special, source_kind, tuple(dict.fromkeys(notes)),
                        ambiguous=bool(tied), candidates=tied)


def profile_for_format(
    trace_format: str | TraceFormat, tokenizer: Any | None = None, **chat_template_kwargs: Any
) -> TraceProfile:
    """A profile for a format the caller names (source "given").

    With a tokenizer that has a chat template, prefilled / thinking_disabled / special_delimiters are read
    from it as in ``detect_format``; without one they come from the registry (prefilled only when the
    format's habit is definitely prefilled).
    """
    fmt = get_format(trace_format)
    if tokenizer is not None and template_text(tokenizer):
        r = _Probes(tokenizer, chat_template_kwargs, None)
        primary = next((p for p in ("sys", "user") if r.render(p, True) is not None), None)
        if primary is not None:
            variables = _template_variables(template_text(tokenizer))
            switches = _Switches(r, variables).for_format(fmt)
            prefilled, disabled, notes = _prompt_state(fmt, r, switches, primary)
            tok = _text_tokenizer(tokenizer)
            special, special_notes = _special(tok, fmt, fmt.delimiters[0])
            return TraceProfile(fmt.name, prefilled, disabled, special, "given", tuple(notes + special_notes))
    thinking_on = _switch_state(fmt, None, chat_template_kwargs)
    notes = ("no chat template read: prefilled and thinking_disabled come from the registry's habits",)
    return TraceProfile(fmt.name, bool(fmt.prefilled) and thinking_on, not thinking_on, fmt.special_delimiters,
                        "given", notes)
