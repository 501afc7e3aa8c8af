"""Render a ``RunSummary`` as a rich table (terminal) or a markdown table (export)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .summary import METRICS, RunSummary, Summary, Value

DASH = "—"
LEGEND = (
    "VR/ER/MR/TR: valid/empty/missing/truncated trace rates (sum to 1). pass@1 counts truncated traces as wrong; "
    "Rpass@1: accuracy over valid traces only (— when no trace is valid). [a, b]: Wilson 95% interval; "
    "± se: standard error from the lm-eval results JSON (no samples). trace words: mean whitespace tokens of the "
    "reasoning over valid traces. budget: share of generations stopped by the token limit (— when the source "
    "gives no finish reason). score err / harness err: answers the scorer could not read (counted wrong) / "
    "samples not scored because of a harness fault (left out of pass@1 and Rpass@1). in-trace credit: of the "
    "samples an lm-eval task's own metric credited on the raw text (run with or without the trace layer), those "
    "credited on text from inside the trace or from a truncated trace. pooled: one trace_stats call over every "
    "sample of the group's tasks (a real "
    "ratio); task mean: each task counts equally, Rpass@1 over tasks with at least one valid trace (the study's way). "
    "no answer: share of valid traces followed by no answer text. lengths: reasoning and answer per trace class "
    "(mean / median / p90) in the model's tokens, or in whitespace words where no tokenizer is known (then said)."
)
LENGTH_HEADERS = ["task / group", "class", "n", "reasoning mean", "median", "p90", "answer mean", "median", "p90"]


def console() -> Console:
    """stdout console; wide enough for the tables when output is not a terminal."""
    out = sys.stdout
    return Console(file=out, width=None if out.isatty() else 240, soft_wrap=False, highlight=False, markup=False)


def num(x: float | None, digits: int = 3) -> str:
    return DASH if x is None else f"{x:.{digits}f}"


def signed(x: float | None, digits: int = 3) -> str:
    return DASH if x is None else f"{x:+.{digits}f}"


def interval(v: Value) -> str:
    if v.value is None:
        return ""
    if v.ci_low is not None and v.ci_high is not None:
        return f"[{v.ci_low:.3f}, {v.ci_high:.3f}]"
    if v.stderr is not None:
        return f"± {v.stderr:.3f} se"
    return ""


def row_label(s: Summary) -> str:
    return s.name if s.kind == "task" else f"{s.name} ({s.kind})"


def rows(summary: RunSummary) -> list[list[Summary]]:
    """Sections of rows: the tasks, then each group's pooled and task-mean rows."""
    sections: list[list[Summary]] = [list(summary.tasks.values())]
    for g in summary.groups.values():
        section = [x for x in (g.pooled, g.task_mean) if x is not None]
        sections.append(section)
    return sections


def _extra(s: Summary) -> list[str]:
    n = DASH if s.n is None else str(s.n)
    if s.n_questions is not None and s.n is not None and s.n_questions != s.n:
        n = f"{s.n} ({s.n_questions} q)"
    return [n, num(s.trace_words, 1), num(s.budget_exhausted_rate),
            DASH if s.scoring_errors is None else str(s.scoring_errors),
            DASH if s.harness_errors is None else str(s.harness_errors), credit(s)]


def credit(s: Summary) -> str:
    """"in-trace / credited" for tasks scored by their own metric, else a dash."""
    if s.credited is None or s.credited_in_trace is None:
        return DASH
    return f"{s.credited_in_trace}/{s.credited}"


HEADERS = ["task / group", *[m.label for m in METRICS], "n", "trace words", "budget", "score err", "harness err",
           "in-trace credit"]


def run_table(summary: RunSummary) -> Table:
    table = Table(title=f"{summary.label}", caption=summary.run.source, title_justify="left",
                  caption_justify="left", show_lines=False)
    table.add_column(HEADERS[0], no_wrap=True)
    for h in HEADERS[1:]:
        table.add_column(h, justify="right", no_wrap=True)
    for i, section in enumerate(rows(summary)):
        if i:
            table.add_section()
        for s in section:
            cells: list[Any] = [Text(row_label(s), style="bold" if s.kind != "task" else "")]
            for metric in (m.name for m in METRICS):
                v = s.values.get(metric) or Value(None)
                t = Text(num(v.value))
                ci = interval(v)
                if ci:
                    t.append("\n" + ci, style="dim")
                cells.append(t)
            cells.extend(_extra(s))
            table.add_row(*cells)
    return table


def unit_title(unit: str | None) -> str:
    return ("whitespace words: no tokenizer known" if unit == "words" else "the model's tokens") if unit else ""


def length_rows(summary: RunSummary) -> list[list[str]]:
    """Rows of the lengths table: each task (and each pooled group) by trace class, then all generations."""
    out = []
    for section in rows(summary):
        for s in section:
            if not s.lengths:
                continue
            unit = " (words)" if s.token_unit == "words" else ""
            for j, (cls, parts) in enumerate(s.lengths.items()):
                r, a = parts["reasoning"], parts["answer"]
                out.append([row_label(s) + unit if j == 0 else "", cls, str(r["n"]),
                            *(num(r[k], 1) for k in ("mean", "median", "p90")),
                            *(num(a[k], 1) for k in ("mean", "median", "p90"))])
    return out


def length_table(summary: RunSummary) -> Table | None:
    body = length_rows(summary)
    if not body:
        return None
    units = {s.token_unit for sec in rows(summary) for s in sec if s.lengths}
    title = f"{summary.label}: reasoning and answer lengths per class ({'; '.join(unit_title(u) for u in units)})"
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(LENGTH_HEADERS):
        table.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for r in body:
        if r[0] and table.row_count:
            table.add_section()
        table.add_row(*r)
    return table


def print_report(summary: RunSummary, con: Console | None = None) -> None:
    con = con or console()
    con.print(run_table(summary))
    lengths = length_table(summary)
    if lengths is not None:
        con.print(lengths)
    for note in summary.run.notes:
        con.print(f"note: {note}", style="yellow")


def print_legend(con: Console | None = None) -> None:
    (con or console()).print(LEGEND, style="dim")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(headers: list[str], body: list[list[str]], left: int = 1) -> str:
    """A markdown table; the first ``left`` columns are left-aligned, the rest (numbers) right-aligned."""
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
             "|" + "|".join(["---"] * left + ["---:"] * (len(headers) - left)) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in body]
    return "\n".join(lines)


def run_markdown(summary: RunSummary) -> str:
    body = []
    for section in rows(summary):
        for s in section:
            cells = [row_label(s)]
            for metric in (m.name for m in METRICS):
                v = s.values.get(metric) or Value(None)
                ci = interval(v)
                cells.append(num(v.value) + (f" {ci}" if ci else ""))
            body.append(cells + _extra(s))
    out = [f"### {summary.label}", "", f"Source: `{summary.run.source}`", "", md_table(HEADERS, body)]
    lengths = length_rows(summary)
    if lengths:
        units = {s.token_unit for sec in rows(summary) for s in sec if s.lengths}
        out += ["", f"Reasoning and answer lengths per class ({'; '.join(unit_title(u) for u in units)}):", "",
                md_table(LENGTH_HEADERS, lengths, left=2)]
    if summary.run.notes:
        out += [""] + [f"- note: {n}" for n in summary.run.notes]
    return "\n".join(out) + "\n"


def report_markdown(summaries: list[RunSummary]) -> str:
    parts = ["# Reasoning-trace report", ""]
    for s in summaries:
        parts.append(run_markdown(s))
    parts.append(LEGEND + "\n")
    return "\n".join(parts)
