"""Trace health while a model trains, and distillation of real traces for answer-only data (pure core).

* ``TraceHealthCallback``: a ``transformers.TrainerCallback`` (``Trainer``, TRL's ``SFTTrainer``, PEFT models)
  that generates on a fixed probe set at step 0, every ``every`` steps and at the end, classifies every
  generation (``classify``), and logs ``trace/valid_rate`` ... ``trace/rpass@1`` through ``trainer.log``, so
  every ``report_to`` backend and ``trainer.state.log_history`` carry them; in full mode also
  ``trace/no_answer_rate`` (valid traces followed by no answer) and ``trace/reasoning_tokens`` /
  ``trace/answer_tokens`` (mean lengths per generation in the model's tokens, ``tokens.count_lengths``).
  With ``stop_on_collapse=True`` the compare rule (``report.compare.CollapseRule``) judges each probe against
  step 0 and stops training.
* ``probe``: the same measurement as a function. ``mode="full"`` generates up to the budget and gives the four
  classes, pass@1 and Rpass@1. ``mode="opened"`` stops each generation as soon as its class is known among
  empty / missing / opened (valid or truncated: the trace opened on a non-blank body, so it can no longer be
  empty): empty and missing are decided exactly, with a small fraction of the tokens. A generation still
  undecided when the budget ends is counted as ``undecided``, never guessed.
* ``distill``: teacher prompts from answer-only conversations, generations from a teacher (an HF causal LM, or
  texts you bring from vLLM or an API), by rejection sampling (``method="sample"``: kept when the trace
  classifies valid and the task's scorer accepts the answer against the dataset's) or by rationalization
  (``method="rationalize"``, the study's way: the teacher is given the answer and writes the reasoning); returns
  conversations whose final turn carries the trace in ``reasoning`` (what masking trains as a real trace) and a
  report with the keep rate and the drops per reason.

Nothing here imports lm_eval (a test checks it); torch is imported when a model is probed, and transformers
only for the callback's base class.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from transformers import TrainerCallback

from .chat import (
    BlockStyle,
    check_round_trip,
    check_template_kwargs,
    render_prompt,
    resolve_format,
    template_style,
)
from .classify import Trace, TraceStatus, classify, prompt_is_prefilled
from .formats import TraceFormat
from .stats import RATE_NAMES, trace_stats
from .tokens import Lengths, count_lengths, no_answer

__all__ = ["DROP_REASONS", "RATIONALE_PROMPT", "DistillReport", "Generation", "Probe", "ProbeResult",
           "TraceHealthCallback", "distill", "distill_prompts", "generate", "metric_key", "probe",
           "probes_from_conversations", "resolve_scorer", "restates_answer"]

log = logging.getLogger(__name__)

ProbeMode = Literal["full", "opened"]
Scorer = Callable[[str, str], Any]  # (answer text, gold) -> ScoreResult or bool; or a registered scorer's name


def resolve_scorer(scorer: Scorer | str | None) -> Scorer | None:
    """A scorer as a function ``(answer, gold)``: a registered name (``"number"``, ``"math"``, ``"exact"``, ...,
    see ``lm_eval_thinkpack.scoring.get_scorer``) is checked with the gold as its doc's ``thinkpack_gold``."""
    if scorer is None or callable(scorer):
        return scorer
    if not isinstance(scorer, str):
        raise TypeError(f"scorer must be a function (answer, gold) or a registered scorer name, got "
                        f"{type(scorer).__name__}")
    from .scoring import get_scorer

    registered = get_scorer(scorer)
    return lambda answer, gold: registered.check(answer, {"thinkpack_gold": gold})
OPENED, UNDECIDED = "opened", "undecided"

#: the logged name of each figure (``trace/`` + the stats name without ``_trace``); pass@1 keeps its name
_LOG_NAMES: dict[str, str] = {
    **{name: "trace/" + name.replace("_trace_rate", "_rate") for name in RATE_NAMES.values()},
    "opened_trace_rate": "trace/opened_rate",
    "undecided_trace_rate": "trace/undecided_rate",
    "pass@1": "trace/pass@1",
    "rpass@1": "trace/rpass@1",
    "generated_tokens": "trace/generated_tokens",
    "no_answer_rate": "trace/no_answer_rate",
    "reasoning_tokens": "trace/reasoning_tokens",
    "answer_tokens": "trace/answer_tokens",
}


def metric_key(metric: str, group: str | None = None) -> str:
    """The log key of ``metric`` (a stats name such as ``valid_trace_rate``), per probe group when given."""
    key = _LOG_NAMES[metric]
    return key if group is None else key.replace("trace/", f"trace/{group}/", 1)


# --------------------------------------------------------------------------------------------------- probes

@dataclass(frozen=True)
class Probe:
    """One probe question: the conversation up to the user turn, its gold answer (optional), its group."""

    messages: tuple[Mapping[str, Any], ...]
    gold: str | None = None
    group: str | None = None

    @classmethod
    def ask(cls, question: str, gold: str | None = None, group: str | None = None) -> Probe:
        return cls(({"role": "user", "content": question},), gold, group)


def probes_from_conversations(conversations: Sequence[Sequence[Mapping[str, Any]]], group: str | None = None,
                              ) -> list[Probe]:
    """Answer-only conversations -> probes: the final assistant turn's content becomes the gold answer."""
    out = []
    for i, conv in enumerate(conversations):
        msgs = list(conv)
        if not msgs or msgs[-1].get("role") != "assistant":
            raise ValueError(f"conversation {i} does not end with an assistant turn: its content is the gold answer")
        out.append(Probe(tuple(msgs[:-1]), str(msgs[-1].get("content", "")), group))
    return out


def _as_probe(p: Probe | str | Sequence[Mapping[str, Any]]) -> Probe:
    if isinstance(p, Probe):
        return p
    if isinstance(p, str):
        return Probe.ask(p)
    return Probe(tuple(p))


@dataclass
class Generation:
    """One generated completion: its text (special tokens kept, EOS cut), tokens generated, whether it ended."""

    text: str
    tokens: int
    finished: bool


@dataclass
class ProbeResult:
    """What one probe measured: per-generation classes, the figures (stats names) overall and per group."""

    mode: str
    statuses: list[str]
    correct: list[bool | None]
    generations: list[Generation]
    metrics: dict[str, float | None]
    groups: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return sum(g.tokens for g in self.generations)

    def logs(self) -> dict[str, float]:
        """Flat ``trace/...`` keys for ``trainer.log`` (undefined figures left out: backends want numbers)."""
        out = {metric_key(m): v for m, v in self.metrics.items() if v is not None}
        for g, ms in self.groups.items():
            out.update({metric_key(m, g): v for m, v in ms.items() if v is not None})
        return out


def _partial_suffix(text: str, needles: Sequence[str]) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of one of ``needles`` (a delimiter
    still being written)."""
    best = 0
    for n in needles:
        for k in range(min(len(n) - 1, len(text)), best, -1):
            if text.endswith(n[:k]):
                best = k
                break
    return best


def early_status(text: str, spec: TraceFormat, prefilled: bool, finished: bool) -> str | None:
    """The class of a generation that may go on, when the text so far already fixes it; else None.

    Returns a ``TraceStatus`` value for a finished text; ``valid``/``empty`` once the deciding closer is written
    (the first closer decides, and with several delimiter spellings only one of the first spelling is beyond
    appeal); ``opened`` for an open trace with a non-blank body (valid or truncated: it can no longer be empty;
    families with one delimiter spelling only, since with several a later blank block of another spelling decides);
    None while the text could still become another class (no delimiter yet, a delimiter half written, a block
    that only a tool call closed so far: a later opener or closer re-decides it).
    """
    t = classify(text, spec, prefilled=prefilled)
    if finished:
        return t.status.value
    several = len(spec.delimiters) > 1
    first = spec.delimiters[0]
    if t.status in (TraceStatus.VALID, TraceStatus.EMPTY):
        if t.closed_by == "implicit":
            return OPENED if t.reasoning else None
        if several and not any(c in text for c in first.close):
            return None  # a closer of the first spelling written later would win
        return t.status.value
    if t.status is TraceStatus.TRUNCATED:
        if several:
            return None  # a block of another spelling, opened and closed blank later, would decide it
        body = t.reasoning
        markers = tuple(ic.marker for ic in spec.implicit_close)
        # a tool-call marker may still turn into a call that closes the trace there: only text before it counts
        cut = min((i for i in (body.find(m) for m in markers) if i >= 0), default=len(body))
        body = body[:cut]
        body = body[: len(body) - _partial_suffix(body, (*spec.all_open, *spec.all_close, *markers))]
        return OPENED if body.strip() else None
    return None  # no delimiter yet: an opener may still come


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if ids is None:
        ids = tokenizer.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return {int(i) for i in ids}


def _base_model(model: Any) -> Any:
    return getattr(model, "module", model)  # DDP / accelerate wrappers keep the model in .module


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], *, max_new_tokens: int, batch_size: int = 32,
             decide: Callable[[int, str], bool] | None = None, **gen_kwargs: Any) -> list[Generation]:
    """Greedy batch generation with left padding and no grad; ``decide(i, text)`` may stop prompt ``i`` early.
    Extra keyword arguments are generation settings (``GenerationConfig`` fields); anything else raises.

    The model's train/eval mode (per module) and ``config.use_cache`` are restored afterwards, so it can be
    called in the middle of training (gradient checkpointing is inactive in eval mode and left as it was).
    """
    import torch
    from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

    unknown = sorted(k for k in gen_kwargs if not hasattr(GenerationConfig(), k))
    if unknown:
        raise TypeError(f"generate() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}: extra "
                        "arguments must be generation settings (transformers.GenerationConfig fields)")
    inner = _base_model(model)
    modes = [(m, m.training) for m in inner.modules()]
    config = getattr(inner, "config", None)
    use_cache = getattr(config, "use_cache", None)
    side, pad_token = tokenizer.padding_side, tokenizer.pad_token
    eos = _eos_ids(inner, tokenizer)
    if pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("the tokenizer has neither a pad nor an eos token: set tokenizer.pad_token to pad the "
                             "probe batch")
        tokenizer.pad_token = tokenizer.eos_token  # for this call only (restored below)
    pad = tokenizer.pad_token_id
    device = next(inner.parameters()).device
    out: list[Generation] = []

    class _Decided(StoppingCriteria):
        def __init__(self, offset: int, width: int, start: int):
            self.offset, self.width, self.start = offset, width, start
            self.at: dict[int, int] = {}

        def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            for r in range(input_ids.shape[0]):
                if r in self.at:
                    done[r] = True
                    continue
                ids = input_ids[r, self.start:].tolist()
                if any(t in eos for t in ids):
                    continue  # generate ends this row itself
                if decide(self.offset + r, tokenizer.decode(ids, skip_special_tokens=False)):
                    self.at[r] = len(ids)
                    done[r] = True
            return done

    try:
        inner.eval()
        if config is not None and use_cache is not None:
            config.use_cache = True
        tokenizer.padding_side = "left"
        with torch.no_grad():
            for i in range(0, len(prompts), batch_size):
                chunk = list(prompts[i:i + batch_size])
                enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
                enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
                start = enc["input_ids"].shape[1]
                crit = _Decided(i, len(chunk), start) if decide is not None else None
                seqs = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, use_cache=True,
                                      pad_token_id=pad, eos_token_id=sorted(eos) or None,
                                      stopping_criteria=StoppingCriteriaList([crit]) if crit else None,
                                      **gen_kwargs)
                for r, row in enumerate(seqs[:, start:].tolist()):
                    cut = next((j for j, t in enumerate(row) if t in eos), None)
                    if crit is not None and r in crit.at:
                        n, finished, ids = crit.at[r], False, row[:crit.at[r]]
                    elif cut is not None:
                        n, finished, ids = cut + 1, True, row[:cut]
                    else:
                        n, finished, ids = len(row), False, row
                    out.append(Generation(tokenizer.decode(ids, skip_special_tokens=False), n, finished))
    finally:
        tokenizer.padding_side = side
        if pad_token is None:
            tokenizer.pad_token = None
        if config is not None and use_cache is not None:
            config.use_cache = use_cache
        for m, was in modes:
            m.training = was
    return out


def _correct(scorer: Scorer | None, trace: Trace, gold: str | None) -> bool | None:
    if scorer is None or gold is None:
        return None
    if trace.status is TraceStatus.TRUNCATED:
        return False
    try:
        verdict = scorer(trace.answer, gold)
    except Exception as exc:  # one bad answer never stops a training run: scored wrong, and said so
        log.warning("TraceHealthCallback: the scorer raised %s: %s; the probe answer is scored wrong",
                    type(exc).__name__, exc)
        return False
    return bool(getattr(verdict, "correct", verdict))


def _figures(statuses: list[str], correct: list[bool | None], mode: str, tokens: int,
             traces: list[Trace] | None = None, lengths: list[Lengths] | None = None) -> dict[str, float | None]:
    n = len(statuses)
    if mode == "full":
        scored = all(c is not None for c in correct) and n > 0
        s = trace_stats(statuses, correct if scored else None,
                        no_answer=None if traces is None else [no_answer(t) for t in traces],
                        reasoning_tokens=None if lengths is None else [x.reasoning for x in lengths],
                        answer_tokens=None if lengths is None else [x.answer for x in lengths])
        out: dict[str, float | None] = {name: getattr(s, name) for name in RATE_NAMES.values()}
        out["pass@1"], out["rpass@1"] = s.pass_at_1, s.rpass_at_1
        out["no_answer_rate"] = s.no_answer_rate
        out["reasoning_tokens"], out["answer_tokens"] = s.reasoning_tokens, s.answer_tokens
    else:
        out = {name: statuses.count(cls) / n if n else None for cls, name in (
            ("empty", "empty_trace_rate"), ("missing", "missing_trace_rate"), (OPENED, "opened_trace_rate"),
            (UNDECIDED, "undecided_trace_rate"))}
    out["generated_tokens"] = float(tokens)
    return out


def probe(model: Any, tokenizer: Any, probes: Sequence[Probe | str | Sequence[Mapping[str, Any]]], *,
          mode: ProbeMode = "full", max_new_tokens: int = 512, scorer: Scorer | None = None,
          fmt: str | TraceFormat | None = None, batch_size: int = 32, **template_kwargs: Any) -> ProbeResult:
    """Generate on ``probes`` (rendered with ``chat.render_prompt`` for the tokenizer's family) and measure.

    ``mode="full"``: VR, ER, MR, TR, and pass@1 / Rpass@1 when every probe has a gold answer and a ``scorer``
    is given. ``mode="opened"``: each generation stops once its class is known; ER and MR are exact, VR+TR
    is reported as ``opened_trace_rate``, and generations the budget cut before a decision as
    ``undecided_trace_rate``.
    """
    scorer = resolve_scorer(scorer)
    if mode not in ("full", "opened"):
        raise ValueError(f"mode must be 'full' or 'opened', got {mode!r}")
    template_kwargs = check_template_kwargs("probe", tokenizer, template_kwargs)
    items = [_as_probe(p) for p in probes]
    if not items:
        raise ValueError("probe needs at least one probe prompt")
    spec = resolve_format(tokenizer, fmt)
    check_round_trip(tokenizer, spec)
    prompts = [render_prompt(tokenizer, list(p.messages), fmt=spec, **template_kwargs) for p in items]
    prefilled = [prompt_is_prefilled(p, spec) for p in prompts]
    decide = None
    if mode == "opened":
        def decide(i: int, text: str) -> bool:
            return early_status(text, spec, prefilled[i], finished=False) is not None
    gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                    decide=decide)
    statuses: list[str] = []
    correct: list[bool | None] = []
    traces: list[Trace] = []
    for p, g, pre in zip(items, gens, prefilled, strict=True):
        if mode == "full":
            t = classify(g.text, spec, prefilled=pre, finish_reason=None if g.finished else "length")
            traces.append(t)
            statuses.append(t.status.value)
            correct.append(_correct(scorer, t, p.gold))
        else:
            st = early_status(g.text, spec, pre, finished=g.finished)
            statuses.append(OPENED if st in ("valid", "truncated") else (st or UNDECIDED))
            correct.append(None)
    # reasoning and answer lengths in the model's own tokens (full mode: an "opened" generation was cut short)
    lengths = count_lengths(traces, tokenizer) if mode == "full" else None
    full = mode == "full"
    result = ProbeResult(mode, statuses, correct, gens, _figures(statuses, correct, mode, sum(g.tokens for g in gens),
                                                                 traces if full else None, lengths))
    for group in dict.fromkeys(p.group for p in items if p.group is not None):
        idx = [i for i, p in enumerate(items) if p.group == group]
        result.groups[group] = _figures([statuses[i] for i in idx], [correct[i] for i in idx], mode,
                                        sum(gens[i].tokens for i in idx),
                                        [traces[i] for i in idx] if full else None,
                                        [lengths[i] for i in idx] if lengths is not None else None)
    return result


# ------------------------------------------------------------------------------------------------- verdicts

def judge(base: Mapping[str, float | None], now: Mapping[str, float | None], rule: Any = None) -> tuple[str, str]:
    """The compare rule (``report.compare.CollapseRule.judge``) on two sets of probe figures.

    In ``opened`` mode the opened rate stands in for VR (there is no pass@1, so a trace loss is "trace loss
    (unscored)"); undecided generations are counted both ways, and a verdict that depends on them is
    ``undecided``.
    """
    from .report.compare import CollapseRule
    from .report.summary import Summary, Value

    rule = rule or CollapseRule()

    def summary(fig: Mapping[str, float | None], undecided_as_opened: bool) -> Summary:
        vals = {m: Value(fig.get(m)) for m in ("pass@1", "rpass@1")}
        vr = fig.get("valid_trace_rate")
        if vr is None and fig.get("opened_trace_rate") is not None:
            vr = fig["opened_trace_rate"] + (fig.get("undecided_trace_rate") or 0.0) * undecided_as_opened
        vals["valid_trace_rate"] = Value(vr)
        return Summary("probe", "task", vals)

    lo = rule.judge(summary(base, True), summary(now, False))
    hi = rule.judge(summary(base, False), summary(now, True))
    if lo[0] != hi[0]:
        return UNDECIDED, f"{lo[1]} (counting undecided generations the other way: {hi[1]})"
    return lo


# ------------------------------------------------------------------------------------------------- callback

class TraceHealthCallback(TrainerCallback):
    """Probe trace health at step 0, every ``every`` steps and at the end of training; log ``trace/*``.

    ``probes``: questions, conversations or ``Probe`` objects (with gold answers and groups; a group's figures
    are logged as ``trace/<group>/<metric>``). ``scorer(answer, gold)`` returns a ``ScoreResult`` or a bool.
    Pass ``trainer=`` (or call ``attach(trainer)``) so the figures go through ``trainer.log`` to every
    ``report_to`` backend; without a trainer they are appended to ``state.log_history`` only.
    ``stop_on_collapse``: stop training when the compare rule, against the step-0 figures, gives one of
    ``stop_verdicts`` (by default every trace-loss verdict: collapse, degraded, trace loss unscored).
    """

    def __init__(self, probes: Sequence[Probe | str | Sequence[Mapping[str, Any]]], *, tokenizer: Any = None,
                 every: int = 50, mode: ProbeMode = "full", max_new_tokens: int = 512,
                 scorer: Scorer | None = None, fmt: str | TraceFormat | None = None, batch_size: int = 32,
                 stop_on_collapse: bool = False, rule: Any = None,
                 stop_verdicts: Sequence[str] = ("collapse", "degraded", "trace loss (unscored)"),
                 trainer: Any = None, template_kwargs: Mapping[str, Any] | None = None):
        if every < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        if mode not in ("full", "opened"):
            raise ValueError(f"mode must be 'full' or 'opened', got {mode!r}")
        self.probes = [_as_probe(p) for p in probes]
        if not self.probes:
            raise ValueError("TraceHealthCallback needs at least one probe prompt")
        if scorer is not None and any(p.gold is None for p in self.probes):
            raise ValueError("a scorer needs a gold answer on every probe (Probe(..., gold=...))")
        self.tokenizer, self.every, self.mode, self.max_new_tokens = tokenizer, every, mode, max_new_tokens
        self.scorer, self.fmt, self.batch_size = resolve_scorer(scorer), fmt, batch_size
        self.stop_on_collapse, self.rule, self.stop_verdicts = stop_on_collapse, rule, tuple(stop_verdicts)
        self.template_kwargs = dict(template_kwargs or {})
        if tokenizer is not None:  # refused now, not at the first probe (train begin) or never
            check_template_kwargs("TraceHealthCallback", tokenizer, self.template_kwargs)
        self.trainer = trainer
        self.history: list[dict[str, Any]] = []  # {"step": S, "metrics": {...}, "groups": {...}, "verdict": ..}
        self.baseline: ProbeResult | None = None
        self.stop_reason: str | None = None
        self._last_step: int | None = None
        self._warned = False

    def attach(self, trainer: Any) -> TraceHealthCallback:
        """Register with ``trainer`` and log through it."""
        self.trainer = trainer
        trainer.add_callback(self)
        return self

    def run_probe(self, model: Any, tokenizer: Any = None) -> ProbeResult:
        tok = tokenizer or self.tokenizer
        if tok is None:
            raise ValueError("TraceHealthCallback has no tokenizer: pass tokenizer=..., or give the trainer a "
                             "processing_class")
        return probe(model, tok, self.probes, mode=self.mode, max_new_tokens=self.max_new_tokens,
                     scorer=self.scorer, fmt=self.fmt, batch_size=self.batch_size, **self.template_kwargs)

    def _measure(self, args: Any, state: Any, control: Any, model: Any, tokenizer: Any) -> None:
        step = int(state.global_step)
        if step == self._last_step or model is None:
            return
        self._last_step = step
        result = self.run_probe(model, tokenizer)
        entry: dict[str, Any] = {"step": step, "metrics": result.metrics, "groups": result.groups,
                                 "verdict": None, "reason": None}
        if self.baseline is None:
            self.baseline = result
        else:
            verdict, reason = judge(self.baseline.metrics, result.metrics, self.rule)
            entry["verdict"], entry["reason"] = verdict, reason
            if self.stop_on_collapse and verdict in self.stop_verdicts and not control.should_training_stop:
                self.stop_reason = (f"TraceHealthCallback stopped training at step {step}: {verdict} on the "
                                    f"probe set against step {self.history[0]['step']}: {reason}")
                control.should_training_stop = True
                log.warning(self.stop_reason)
        self.history.append(entry)
        logs = result.logs()
        if self.trainer is not None:
            self.trainer.log(logs)
        else:
            if not self._warned:
                log.warning("TraceHealthCallback has no trainer: the trace/* figures go to state.log_history "
                            "only; pass trainer=... or call callback.attach(trainer) for the report_to backends")
                self._warned = True
            state.log_history.append({**logs, "step": step})

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                       **kwargs: Any) -> Any:
        self._measure(args, state, control, model, processing_class or kwargs.get("tokenizer"))
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                    **kwargs: Any) -> Any:
        if state.global_step % self.every == 0:
            self._measure(args, state, control, model, processing_class or kwargs.get("tokenizer"))
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                     **kwargs: Any) -> Any:
        self._measure(args, state, control, model, processing_class or kwargs.get("tokenizer"))
        return control


# --------------------------------------------------------------------------------------------- distillation

#: why a conversation got no trace (``DistillReport.drops``), in the order they are checked
DROP_REASONS: tuple[str, ...] = ("empty", "missing", "truncated", "wrong", "scoring_error", "restates_answer")

#: the teacher's question under ``method="rationalize"`` ({question} and {answer} are filled in)
RATIONALE_PROMPT = (
    "Here is a question and its correct answer. Work out, step by step, the reasoning that leads from the question "
    "to this answer, then state the answer.\n\nQuestion: {question}\n\nCorrect answer: {answer}"
)

# words that carry no reasoning of their own in a trace that only restates the answer
_FILLER = frozenset("""
a an the and or so thus hence therefore then it its this that these those is are was were be been am i we you
answer answers final correct result value equals equal to of as given stated told says say just simply clearly
obviously which must should would will is so okay ok yes well sure here there
""".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def restates_answer(reasoning: str, gold: str, min_words: int = 3) -> bool:
    """A trace that only restates the answer: fewer than ``min_words`` words of its own, counting the words that
    are neither filler (``the``, ``answer``, ``is``, ``so``, ``therefore``, ...) nor the gold answer's words, plus
    each further use of a gold word beyond the answer itself. ``"The answer is 15."`` and ``"So it is 15, as
    given."`` restate; ``"7 + 8: 7 + 3 = 10, plus 5 is 15."`` reasons (it has numbers of its own), and so does
    ``"9>9 2>9 9>9"`` for the answer 9 (a running maximum: the answer's digit, used at every step, is the work).
    Rationalization asks the teacher for the reasoning toward a known answer; a trace that only says the answer
    teaches the model nothing but the answer."""
    own = Counter(w.lower() for w in _WORD.findall(gold))
    seen: Counter[str] = Counter()
    words = 0
    for w in (x.lower() for x in _WORD.findall(reasoning)):
        if w in own:
            seen[w] += 1
            words += seen[w] > own[w]  # the answer said once is no reasoning; its words used again are
        elif w not in _FILLER:
            words += 1
    return words < min_words


@dataclass
class DistillReport:
    """How many conversations got a kept trace, and why the others did not.

    ``drops`` counts each dropped conversation once, by the reason of its last candidate generation
    (``DROP_REASONS``: its class when it is not valid; ``wrong``: valid but the answer it reaches disagrees with
    the dataset's; ``scoring_error``: the scorer failed; ``restates_answer``: rationalize only). ``statuses``
    counts the class of the kept (or else the first) generation; ``wrong`` and ``scoring_errors`` repeat
    ``drops`` for older callers."""

    total: int
    kept: int
    statuses: dict[str, int]
    wrong: int
    scoring_errors: int
    tokens: int | None = None
    method: str = "sample"
    drops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))

    @property
    def keep_rate(self) -> float | None:
        return self.kept / self.total if self.total else None

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "total": self.total, "kept": self.kept, "keep_rate": self.keep_rate,
                "statuses": self.statuses, "drops": self.drops, "wrong": self.wrong,
                "scoring_errors": self.scoring_errors, "tokens": self.tokens}


def _supplied_text(g: Any, style: BlockStyle, prefilled: bool) -> str:
    """A supplied generation as text: a string as is; an API message's ``reasoning_content`` re-wrapped in the
    family's block (without the opener when the prompt already holds it)."""
    if isinstance(g, str):
        return g
    if isinstance(g, Mapping):
        for key in ("reasoning_content", "reasoning"):
            if g.get(key) is not None:
                block = style.wrap(str(g[key]))
                if prefilled:
                    block = block[len(style.open):]
                return block + str(g.get("content") or "")
        if "text" in g or "content" in g:
            return str(g.get("text", g.get("content")) or "")
    raise TypeError(f"a generation must be a string or a message dict with 'content' (and 'reasoning_content'), "
                    f"got {type(g).__name__}")


def _teacher_messages(p: Probe, method: str, rationale_prompt: str) -> list[dict[str, Any]]:
    msgs = [dict(m) for m in p.messages]
    if method == "rationalize":
        last = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=None)
        if last is None or not isinstance(msgs[last].get("content"), str):
            raise ValueError("method='rationalize' needs a user message with text content before the answer")
        msgs[last] = {**msgs[last], "content": rationale_prompt.format(question=msgs[last]["content"],
                                                                        answer=p.gold)}
    return msgs


def _check_method(method: str, rationale_prompt: str) -> None:
    if method not in ("sample", "rationalize"):
        raise ValueError(f"method must be 'sample' (keep the teacher's own valid, correct traces) or 'rationalize' "
                         f"(give the teacher the answer and ask for the reasoning), got {method!r}")
    if not isinstance(rationale_prompt, str) or "{question}" not in rationale_prompt or \
            "{answer}" not in rationale_prompt:
        raise ValueError("rationale_prompt must be a string with {question} and {answer} in it")


def distill_prompts(conversations: Sequence[Sequence[Mapping[str, Any]]], *, tokenizer: Any,
                    method: Literal["sample", "rationalize"] = "sample", fmt: str | TraceFormat | None = None,
                    rationale_prompt: str = RATIONALE_PROMPT, **template_kwargs: Any) -> list[str]:
    """The teacher prompts ``distill`` renders (thinking on), for generating elsewhere (vLLM, an API) and passing
    the texts back as ``distill(..., generations=...)`` with the same ``method``."""
    _check_method(method, rationale_prompt)
    kwargs = check_template_kwargs("distill_prompts", tokenizer, template_kwargs)
    spec = resolve_format(tokenizer, fmt)
    return [render_prompt(tokenizer, _teacher_messages(p, method, rationale_prompt), thinking=True, fmt=spec,
                          **kwargs) for p in probes_from_conversations(conversations)]


def distill(conversations: Sequence[Sequence[Mapping[str, Any]]], *, scorer: Scorer, tokenizer: Any,
            teacher: Any = None, generations: Sequence[Any] | None = None,
            method: Literal["sample", "rationalize"] = "sample", max_new_tokens: int = 2048, batch_size: int = 32,
            fmt: str | TraceFormat | None = None, answer: Literal["dataset", "teacher"] = "dataset",
            rationale_prompt: str = RATIONALE_PROMPT, **template_kwargs: Any,
            ) -> tuple[list[list[dict[str, Any]]], DistillReport]:
    """Real traces for answer-only ``conversations`` from a teacher.

    ``method="sample"`` (rejection sampling): the teacher answers the question itself; a trace is kept when it
    classifies valid and ``scorer(teacher_answer, dataset_answer)`` accepts it. ``method="rationalize"`` (the
    study's distillation, thinkpack's ``distill``): the teacher is given the question *and* the dataset's answer
    (``rationale_prompt``) and writes the reasoning; a trace is kept when it classifies valid, its own conclusion
    (the answer the generation reaches after the trace, else the trace's last line, read with ``scorer``) agrees
    with the dataset's answer, and it does more than restate the answer (``restates_answer``). Rationalization can
    keep records the teacher could not solve alone; sampling keeps only what it solved.

    Teacher prompts (``distill_prompts``) are the conversations without their final assistant turn, rendered with
    ``tokenizer``'s chat template, thinking on. Give ``teacher`` (a causal LM: greedy, ``max_new_tokens``) or
    ``generations`` (one per conversation, or a list per conversation, the first accepted one kept: strings as
    the engine returned them, or OpenAI-style messages with ``reasoning_content``). Returns the kept
    conversations, each ending in ``{"role": "assistant", "content": <dataset answer, or the teacher's with
    answer="teacher">, "reasoning": <trace>}`` (the field masking trains as the real trace), and a
    ``DistillReport`` with drops per reason. Extra keyword arguments go to the chat template; one it does not
    read raises ``TypeError``.
    """
    scorer = resolve_scorer(scorer)
    _check_method(method, rationale_prompt)
    if (teacher is None) == (generations is None):
        raise ValueError("distill needs exactly one of teacher= (a model) or generations= (texts you supply)")
    if answer not in ("dataset", "teacher"):
        raise ValueError(f"answer must be 'dataset' or 'teacher', got {answer!r}")
    kwargs = check_template_kwargs("distill", tokenizer, template_kwargs)
    items = probes_from_conversations(conversations)
    spec = resolve_format(tokenizer, fmt)
    check_round_trip(tokenizer, spec)
    prompts = [render_prompt(tokenizer, _teacher_messages(p, method, rationale_prompt), thinking=True, fmt=spec,
                             **kwargs) for p in items]
    tokens = None
    if teacher is not None:
        gens = generate(teacher, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        candidates: list[list[tuple[Any, bool]]] = [[(g.text, g.finished)] for g in gens]
        tokens = sum(g.tokens for g in gens)
    else:
        if len(generations) != len(items):
            raise ValueError(f"distill got {len(generations)} generations for {len(items)} conversations; give one "
                             "(or one list) per conversation, in order")
        candidates = [[(x, True) for x in (g if isinstance(g, list | tuple) else [g])] for g in generations]
    style = template_style(tokenizer, spec, kwargs)
    kept: list[list[dict[str, Any]]] = []
    statuses = {s.value: 0 for s in TraceStatus}
    drops = dict.fromkeys(DROP_REASONS, 0)
    for p, prompt, cands in zip(items, prompts, candidates, strict=True):
        pre = prompt_is_prefilled(prompt, spec)
        chosen: Trace | None = None
        first: Trace | None = None
        reason = "missing"
        for raw, finished in cands:
            text = _supplied_text(raw, style, pre)
            t = classify(text, spec, prefilled=pre, finish_reason=None if finished else "length")
            first = first or t
            reason = _drop_reason(t, p.gold, scorer, method)
            if reason is None:
                chosen = t
                break
        shown = chosen or first
        if shown is not None:
            statuses[shown.status.value] += 1
        if chosen is None:
            drops[reason] += 1
            continue
        # the teacher's answer is the conclusion that was judged (under rationalize, the trace's last line when
        # nothing follows the trace): never an empty reply, which would train a trace followed by no answer
        reply = p.gold if answer == "dataset" else _conclusion(chosen, method)
        kept.append([dict(m) for m in p.messages]
                    + [{"role": "assistant", "content": reply, "reasoning": chosen.reasoning}])
    report = DistillReport(len(items), len(kept), statuses, drops["wrong"], drops["scoring_error"], tokens, method,
                           drops)
    return kept, report


def _conclusion(t: Trace, method: str) -> str:
    """The answer a valid generation reaches: the text after its trace; under rationalize, when nothing follows the
    trace, the trace's last non-blank line."""
    if method == "rationalize" and not t.answer.strip():
        lines = [ln.strip() for ln in t.reasoning.splitlines() if ln.strip()]
        return lines[-1] if lines else ""
    return t.answer


def _drop_reason(t: Trace, gold: str | None, scorer: Scorer, method: str) -> str | None:
    """Why trace ``t`` is not kept (a ``DROP_REASONS`` name), or None to keep it."""
    if t.status is not TraceStatus.VALID:
        return t.status.value
    conclusion = _conclusion(t, method)
    try:
        verdict = scorer(conclusion, gold)
    except Exception as exc:  # one bad answer never stops the run
        log.warning("distill: the scorer raised %s on an answer; counted as a scoring error", exc)
        return "scoring_error"
    if not bool(getattr(verdict, "correct", verdict)):
        return "scoring_error" if getattr(verdict, "error", None) else "wrong"
    if method == "rationalize" and restates_answer(t.reasoning, str(gold)):
        return "restates_answer"
    return None
