"""Compare a base model with tuned models per task, and flag reasoning-trace collapse.

The collapse rule (``CollapseRule``), applied per task and to the overall (pooled) numbers of each tuned
model against the base:

* the trace is lost when VR falls by at least ``vr_drop`` (absolute, default 0.30), or by at least
  ``vr_rel_drop`` of the base VR (relative, default 0.50; 0 turns this arm off):
  ``VR_base - VR_tuned >= vr_drop  or  VR_base - VR_tuned >= vr_rel_drop * VR_base > 0``;
* the answers hold when pass@1 falls by at most ``pass_tolerance`` (absolute, default 0.10):
  ``pass_base - pass_tuned <= pass_tolerance``.

Verdicts: ``collapse`` (trace lost, answers hold: the study's signature), ``degraded`` (trace lost and
pass@1 fell more: the model got worse overall, not the silent collapse), ``trace loss (unscored)`` (trace
lost, no correctness to tell), ``thinking disabled`` (the tuned run's template switched thinking off: a
configuration, never a collapse), ``ok``, and ``n/a`` (the task is missing on one side). Rpass@1 is shown as
evidence (it stays high in a collapse) but is not part of the rule: it is undefined once VR reaches 0.
Only ``collapse`` counts for ``--fail-on-collapse``.

Settings (``settings_diff``): a chat template applied in one run and not in the other, another trace format, or
another prefill changes the classes by itself, and an lm-eval task scored on its answer (the trace layer) in one run
and on the raw text (its own metric, no layer) in the other changes pass@1, so ``compare`` refuses such runs
(``SettingsDiffer``, naming the difference) unless ``allow_different_settings`` (``--allow-different-settings``).

Pairing (``pair_tasks``): tasks meet by name. Inputs that hold a single task each (a JSONL file of
generations is one task, named after its file) meet whatever their names; ``task=`` (``--task NAME``) picks
one task on each side. When a tuned run shares no task with the base, nothing can be judged: ``compare``
raises ``NothingToCompare`` instead of reporting "no collapse", so a gate never passes what it could not
compare.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lm_eval_thinkpack.stats import ALL_TASKS

from .readers import SCORED_ON, ReportError
from .summary import METRICS, RunSummary, Summary
from .tables import DASH, console, interval, md_table, num, signed

COLLAPSE, DEGRADED, UNSCORED, DISABLED, OK, NA = ("collapse", "degraded", "trace loss (unscored)",
                                                  "thinking disabled", "ok", "n/a")
OVERALL = ALL_TASKS  # the row that pools every task of a run
CLASSES = ("valid", "empty", "missing", "truncated")
EXCERPT = 160


@dataclass(frozen=True)
class CollapseRule:
    vr_drop: float = 0.30
    vr_rel_drop: float = 0.50
    pass_tolerance: float = 0.10
    rel_min_drop: float = 0.10  # the relative arm ignores falls smaller than this (VR 0.04 -> 0.01 is noise)

    def describe(self) -> str:
        rel = (f" or >= {self.vr_rel_drop:.0%} of the base VR (and >= {self.rel_min_drop:.2f})"
               if self.vr_rel_drop > 0 else "")
        return (f"collapse = VR falls by >= {self.vr_drop:.2f} absolute{rel}, while pass@1 falls by "
                f"<= {self.pass_tolerance:.2f} absolute")

    def judge(self, base: Summary | None, tuned: Summary | None, disabled: bool = False) -> tuple[str, str]:
        """(verdict, the reason in numbers)."""
        if base is None or tuned is None:
            return NA, "task missing on one side"
        vb, vt = base.get("valid_trace_rate"), tuned.get("valid_trace_rate")
        if vb is None or vt is None:
            return NA, "no VR"
        drop = vb - vt
        abs_hit = drop >= self.vr_drop - 1e-12
        rel_hit = (self.vr_rel_drop > 0 and drop >= self.rel_min_drop - 1e-12
                   and drop >= self.vr_rel_drop * vb - 1e-12)
        vr_txt = f"VR {vb:.3f} -> {vt:.3f} ({vt - vb:+.3f})"
        if not (abs_hit or rel_hit):
            return OK, f"{vr_txt}: within {self.vr_drop:.2f}"
        why = f">= {self.vr_drop:.2f}" if abs_hit else f">= {self.vr_rel_drop:.0%} of base"
        if disabled:
            return DISABLED, f"{vr_txt}; thinking was disabled by the tuned run's chat template"
        pb, pt = base.get("pass@1"), tuned.get("pass@1")
        if pb is None or pt is None:
            return UNSCORED, f"{vr_txt} {why}; no correctness to compare pass@1"
        pdrop = pb - pt
        ptxt = f"pass@1 {pb:.3f} -> {pt:.3f} ({pt - pb:+.3f})"
        if pdrop <= self.pass_tolerance + 1e-12:
            return COLLAPSE, f"{vr_txt} {why}; {ptxt} within {self.pass_tolerance:.2f}"
        return DEGRADED, f"{vr_txt} {why}; {ptxt} beyond {self.pass_tolerance:.2f}"


@dataclass
class Verdict:
    model: str
    task: str
    verdict: str
    reason: str
    base: Summary | None
    tuned: Summary | None
    delta: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def vals(s: Summary | None) -> dict[str, Any] | None:
            return None if s is None else {m.name: s.get(m.name) for m in METRICS}

        return {"model": self.model, "task": self.task, "verdict": self.verdict, "reason": self.reason,
                "base": vals(self.base), "tuned": vals(self.tuned), "delta": self.delta}


@dataclass
class Comparison:
    base: RunSummary
    others: list[RunSummary]
    rule: CollapseRule
    verdicts: list[Verdict]
    examples: dict[str, dict[str, dict[str, Any]]]  # model -> class -> example

    @property
    def collapsed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.verdict == COLLAPSE]

    @property
    def tasks(self) -> list[str]:
        names = list(self.base.tasks)
        for o in self.others:
            names += [t for t in o.tasks if t not in names]
        return names

    def as_dict(self) -> dict[str, Any]:
        return {"rule": {**asdict(self.rule), "text": self.rule.describe()},
                "base": self.base.label, "models": [self.base.label] + [o.label for o in self.others],
                "collapse": bool(self.collapsed),
                "collapsed": [{"model": v.model, "task": v.task} for v in self.collapsed],
                "verdicts": [v.as_dict() for v in self.verdicts], "examples": self.examples,
                "runs": [r.as_dict() for r in (self.base, *self.others)]}


def overall(summary: RunSummary) -> Summary | None:
    """Pooled over every task (a task-mean group when samples are missing)."""
    pooled = summary.overall()
    if pooled is not None:
        return pooled
    for g in summary.groups.values():
        if set(g.tasks) == set(summary.tasks):
            return g.task_mean
    return None


def _deltas(base: Summary | None, tuned: Summary | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for m in (m.name for m in METRICS):
        b = None if base is None else base.get(m)
        t = None if tuned is None else tuned.get(m)
        out[m] = None if b is None or t is None else t - b
    return out


def excerpt(text: str, n: int = EXCERPT) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= n else flat[: n - 3] + "..."


def examples(summary: RunSummary) -> dict[str, dict[str, Any]]:
    """One generation of each trace class (the first met, preferring a correct one), when samples exist."""
    out: dict[str, dict[str, Any]] = {}
    for s in summary.samples():
        cur = out.get(s.status)
        if cur is not None and (cur["correct"] or not s.correct):
            continue
        out[s.status] = {"task": s.task, "question_id": s.question_id, "correct": s.correct,
                         "excerpt": excerpt(s.text or s.excerpt)}
    return {c: out[c] for c in CLASSES if c in out}


class NothingToCompare(ReportError):
    """No task of a tuned run meets a task of the base: there is nothing to judge."""


def _only(summary: RunSummary) -> str | None:
    return next(iter(summary.tasks)) if len(summary.tasks) == 1 else None


def pair_tasks(base: RunSummary, tuned: RunSummary, task: str | None = None) -> list[tuple[str, str]]:
    """(base task, tuned task) pairs to judge; empty when the two runs share nothing comparable."""
    if task is not None:
        b = task if task in base.tasks else _only(base)
        t = task if task in tuned.tasks else _only(tuned)
        return [] if b is None or t is None else [(b, t)]
    common = [t for t in base.tasks if t in tuned.tasks]
    if common:
        return [(t, t) for t in common]
    b, t = _only(base), _only(tuned)
    return [] if b is None or t is None else [(b, t)]


def _nothing(base: RunSummary, tuned: RunSummary, task: str | None) -> NothingToCompare:
    def names(r: RunSummary) -> str:
        return ", ".join(r.tasks) or "no tasks"

    fix = (f"--task {task} is not a task of both runs" if task is not None
           else "they share no task name; choose one task of each with --task NAME")
    return NothingToCompare(f"nothing to compare between {base.label} ({names(base)}) and {tuned.label} "
                            f"({names(tuned)}): {fix}")


def _aligned(summary: RunSummary, pairs: list[tuple[str, str]], side: int, restrict: bool) -> RunSummary:
    """A view of ``summary`` whose paired tasks carry the base's names (and only those when ``restrict``)."""
    rename = {p[side]: p[0] for p in pairs}
    if all(k == v for k, v in rename.items()) and not restrict:
        return summary
    keep = rename if restrict else {**{t: t for t in summary.tasks if t not in rename}, **rename}
    tasks = {keep[t]: s for t, s in summary.tasks.items() if t in keep}
    run = summary.run
    if any(k != v for k, v in rename.items()) or restrict:
        run = replace(run, tasks={keep[t]: td for t, td in run.tasks.items() if t in keep},
                      notes=[*run.notes, *(f"task {k!r} compared with the base's {v!r}"
                                           for k, v in rename.items() if k != v)])
    groups = {} if restrict else summary.groups
    return RunSummary(run, tasks, groups)


class SettingsDiffer(ReportError):
    """Base and tuned ran with settings that change the trace classes by themselves: the gate would judge those."""


SETTINGS = ("chat template", "format", "prefilled", SCORED_ON)


def _setting(key: str, values: tuple[Any, ...]) -> str:
    if len(values) > 1:
        return "mixed (" + "/".join(_setting(key, (v,)) for v in values) + ")"
    v = values[0]
    if key == "chat template":
        return "on" if v else "off"
    return ("yes" if v else "no") if isinstance(v, bool) else str(v)


def settings_diff(base: RunSummary, tuned: RunSummary) -> list[str]:
    """The settings that change the classes or pass@1 (chat template on/off, trace format, prefill, pass@1 read
    from the answer or from the raw text) in which two runs differ;
    a setting a source does not record is not compared."""
    out = []
    for key in SETTINGS:
        b, t = base.run.settings.get(key), tuned.run.settings.get(key)
        if b and t and tuple(b) != tuple(t):
            out.append(f"{key} {_setting(key, tuple(b))} in {base.label} vs {_setting(key, tuple(t))} in {tuned.label}")
    return out


def compare(runs: list[RunSummary], rule: CollapseRule | None = None, *, task: str | None = None,
            allow_different_settings: bool = False) -> Comparison:
    """Judge every tuned run against ``runs[0]``; raises ``NothingToCompare`` when a pair shares no task, and
    ``SettingsDiffer`` when a tuned run differs from the base in a setting that changes the classes (unless
    ``allow_different_settings``: then the difference is a note of that run)."""
    rule = rule or CollapseRule()
    base, others = runs[0], list(runs[1:])
    for o in others:
        diff = settings_diff(base, o)
        if diff and not allow_different_settings:
            raise SettingsDiffer("refusing to compare runs whose settings change the trace classes or pass@1: "
                                 f"{'; '.join(diff)}. Fix: evaluate both the same way (both with lm-eval-thinkpack "
                                 "eval's trace layer, or both without), or pass --allow-different-settings to "
                                 "compare anyway")
        o.run.notes.extend(f"settings differ from the base ({d}): part of any difference comes from that"
                           for d in diff)
    restrict = task is not None
    for i, o in enumerate(others):
        pairs = pair_tasks(base, o, task)
        if not pairs:
            raise _nothing(base, o, task)
        others[i] = _aligned(o, pairs, 1, restrict)
        if restrict:
            base = _aligned(base, pairs, 0, True)
    verdicts: list[Verdict] = []
    for o in others:
        for name in [t for t in base.tasks] + [t for t in o.tasks if t not in base.tasks]:
            b, t = base.tasks.get(name), o.tasks.get(name)
            td = o.run.tasks.get(name)
            verdict, reason = rule.judge(b, t, disabled=bool(td and td.thinking_disabled))
            verdicts.append(Verdict(o.label, name, verdict, reason, b, t, _deltas(b, t)))
        if len(base.tasks) > 1 and set(base.tasks) == set(o.tasks):  # pooled over the same tasks only
            b, t = overall(base), overall(o)
            disabled = any(td.thinking_disabled for td in o.run.tasks.values())
            verdict, reason = rule.judge(b, t, disabled=disabled)
            verdicts.append(Verdict(o.label, OVERALL, verdict, reason, b, t, _deltas(b, t)))
    for o in others:
        if all(v.verdict == NA for v in verdicts if v.model == o.label):
            raise NothingToCompare(f"nothing to compare between {base.label} and {o.label}: no task has a "
                                   "valid-trace rate on both sides; check that both runs were classified "
                                   "(lm-eval runs need the thinkpack tasks, JSONL needs responses)")
    ex = {o.label: examples(o) for o in others}
    return Comparison(base, others, rule, verdicts, {k: v for k, v in ex.items() if v})


# -------------------------------------------------------------------------------------------- rendering

_STYLE = {COLLAPSE: "bold red", DEGRADED: "yellow", UNSCORED: "yellow", DISABLED: "cyan", OK: "green", NA: "dim"}
_DELTA = (("valid_trace_rate", "ΔVR"), ("pass@1", "Δpass@1"), ("rpass@1", "ΔRpass@1"))


def _overall_label(s: Summary | None) -> str:
    if s is None:
        return f"{OVERALL}"
    return f"{OVERALL} ({s.kind})" if s.kind != "task" else OVERALL


def _table_rows(cmp: Comparison) -> list[list[tuple[str, str, Summary | None, Verdict | None]]]:
    """Sections (one per task, then overall) of (task, model, summary, verdict-vs-base) rows."""
    sections = []
    by_key = {(v.model, v.task): v for v in cmp.verdicts}
    for task in [*cmp.tasks, OVERALL]:
        if task == OVERALL and not any(v.task == OVERALL for v in cmp.verdicts):
            continue
        base_s = overall(cmp.base) if task == OVERALL else cmp.base.tasks.get(task)
        label = _overall_label(base_s) if task == OVERALL else task
        section = [(label, cmp.base.label + " (base)", base_s, None)]
        for o in cmp.others:
            s = overall(o) if task == OVERALL else o.tasks.get(task)
            section.append((label, o.label, s, by_key.get((o.label, task))))
        sections.append(section)
    return sections


HEADERS = ["task", "model", *[m.label for m in METRICS], "n", *[h for _, h in _DELTA], "verdict"]


def compare_table(cmp: Comparison) -> Table:
    table = Table(title=f"Compare vs base: {cmp.base.label}", caption=cmp.rule.describe(), title_justify="left",
                  caption_justify="left")
    table.add_column("task", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for h in HEADERS[2:-1]:
        table.add_column(h, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for i, section in enumerate(_table_rows(cmp)):
        if i:
            table.add_section()
        for j, (task, model, s, v) in enumerate(section):
            cells: list[Any] = [task if j == 0 else "", model]
            cells += [num(None if s is None else s.get(m.name)) for m in METRICS]
            cells.append(DASH if s is None or s.n is None else str(s.n))
            if v is None:
                cells += [""] * len(_DELTA) + [""]
            else:
                cells += [signed(v.delta.get(m)) for m, _ in _DELTA]
                cells.append(Text(v.verdict, style=_STYLE.get(v.verdict, "")))
            table.add_row(*cells)
    return table


def _evidence_lines(cmp: Comparison) -> list[str]:
    lines = []
    for v in cmp.verdicts:
        if v.verdict in (OK, NA):
            continue
        ci = ""
        if v.base is not None and v.tuned is not None:
            bv, tv = v.base.values.get("valid_trace_rate"), v.tuned.values.get("valid_trace_rate")
            if bv is not None and tv is not None and interval(bv) and interval(tv):
                ci = f" (VR 95%: base {interval(bv)}, tuned {interval(tv)})"
        rp = ""
        if v.base is not None and v.tuned is not None:
            rp = f"; Rpass@1 {num(v.base.get('rpass@1'))} -> {num(v.tuned.get('rpass@1'))}"
        lines.append(f"{v.model} / {v.task}: {v.verdict.upper()}: {v.reason}{rp}{ci}")
    return lines


def print_compare(cmp: Comparison, con: Console | None = None) -> None:
    con = con or console()
    con.print(compare_table(cmp))
    for line in _evidence_lines(cmp):
        con.print(line, style="red" if "COLLAPSE" in line else "yellow")
    for model, ex in cmp.examples.items():
        con.print(f"\nexample generations of {model}:", style="bold")
        for cls, e in ex.items():
            ok = {True: "correct", False: "wrong", None: "unscored"}[e["correct"]]
            con.print(f"  {cls:9s} [{e['task']} #{e['question_id']}, {ok}] ", style="bold", end="")
            con.print(Text('"' + e["excerpt"] + '"'))
    if cmp.collapsed:
        where = ", ".join(f"{v.model}/{v.task}" for v in cmp.collapsed)
        con.print(f"\nREASONING-TRACE COLLAPSE: {where}", style="bold red")
    else:
        con.print("\nno reasoning-trace collapse", style="bold green")
    for r in (cmp.base, *cmp.others):
        for note in r.run.notes:
            con.print(f"note ({r.label}): {note}", style="yellow")


def compare_markdown(cmp: Comparison) -> str:
    body = []
    for section in _table_rows(cmp):
        for j, (task, model, s, v) in enumerate(section):
            cells = [task if j == 0 else "", model]
            cells += [num(None if s is None else s.get(m.name)) for m in METRICS]
            cells.append(DASH if s is None or s.n is None else str(s.n))
            cells += ([""] * (len(_DELTA) + 1) if v is None
                      else [signed(v.delta.get(m)) for m, _ in _DELTA] + [f"**{v.verdict}**" if v.verdict == COLLAPSE
                                                                           else v.verdict])
            body.append(cells)
    out = [f"## Compare vs base: {cmp.base.label}", "", f"Rule: {cmp.rule.describe()}.", "",
           md_table(HEADERS, body, left=2)]
    ev = _evidence_lines(cmp)
    if ev:
        out += ["", "### Evidence", ""] + [f"- {line}" for line in ev]
    for model, ex in cmp.examples.items():
        out += ["", f"### Example generations of {model}", ""]
        for cls, e in ex.items():
            excerpt_md = e["excerpt"].replace("`", "'")
            out.append(f"- **{cls}** ({e['task']} #{e['question_id']}, correct={e['correct']}): `{excerpt_md}`")
    out += ["", f"**Reasoning-trace collapse: {', '.join(f'{v.model}/{v.task}' for v in cmp.collapsed)}**"
            if cmp.collapsed else "No reasoning-trace collapse."]
    return "\n".join(out) + "\n"


__all__ = ["CollapseRule", "Comparison", "NothingToCompare", "SettingsDiffer", "compare", "compare_markdown",
           "compare_table", "settings_diff",
           "pair_tasks", "print_compare",
           "DASH"]
