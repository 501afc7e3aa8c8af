"""``--plot FILE.png``: stacked bars of the four trace classes per model and task, with pass@1 and Rpass@1 markers.

One model: one chart, a bar per task (and one pooled over all tasks). Several models: one panel per task, a bar per
model, in a grid of at most three columns so the figure reads at a normal width; the legend sits below the panels,
never over the data. ``in_domain`` names the task the models were fine-tuned on: its panel is tinted and titled as
such, and the last panel pools the held-out tasks (every other task) instead of all tasks, so the fine-tuned task
does not flatter the pooled numbers.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

from lm_eval_thinkpack.stats import ALL_TASKS

from .compare import overall
from .readers import ReportError
from .summary import RunSummary, Summary, pooled_over

CLASSES = (
    ("valid_trace_rate", "valid", "#2e7d32"),
    ("empty_trace_rate", "empty", "#f9a825"),
    ("missing_trace_rate", "missing", "#9e9e9e"),
    ("truncated_trace_rate", "truncated", "#c62828"),
)
ALL = ALL_TASKS
HELD_OUT = "held-out tasks"
IN_DOMAIN_TINT = "#fff4e0"
MAX_COLUMNS = 3


def _slots(runs: list[RunSummary], in_domain: str | None = None) -> list[str]:
    names: list[str] = []
    for r in runs:
        names += [t for t in r.tasks if t not in names]
    if in_domain is not None and in_domain in names:
        names.remove(in_domain)
        names.insert(0, in_domain)
        if len(names) > 2:
            names.append(HELD_OUT)
    elif len(names) > 1:
        names.append(ALL)
    return names


def _short_names(slots: list[str], width: int = 18) -> dict[str, str]:
    """Display names: a prefix shared by every task (e.g. "thinkpack_") is dropped, long names wrap."""
    tasks = [s for s in slots if s not in (ALL, HELD_OUT)]
    prefix = ""
    if len(tasks) > 1:
        prefix = os.path.commonprefix(tasks)
        prefix = prefix[: prefix.rfind("_") + 1] if "_" in prefix else ""
    out = {}
    for s in slots:
        name = s[len(prefix):] if s not in (ALL, HELD_OUT) and prefix and len(s) > len(prefix) else s
        out[s] = textwrap.fill(name.replace("_", "_\u200b"), width).replace("\u200b", "")
    return out


def _cut(label: str, width: int = 24) -> str:
    """A model name short enough to sit under its box: the end of a long name, from a path boundary if any."""
    if len(label) <= width:
        return label
    tail = label[-(width - 1):]
    return "\u2026" + (tail[tail.index("/"):] if "/" in tail else tail)


def _summary(run: RunSummary, slot: str, in_domain: str | None) -> Summary | None:
    if slot == ALL:
        return overall(run)
    if slot == HELD_OUT:
        return pooled_over(run, [t for t in run.tasks if t != in_domain], HELD_OUT)
    return run.tasks.get(slot)


def _bar(ax, x: float, width: float, s: Summary | None) -> None:
    if s is None:
        ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        return
    bottom = 0.0
    for metric, _, color in CLASSES:
        v = s.get(metric) or 0.0
        ax.bar(x, v, width * 0.92, bottom=bottom, color=color, edgecolor="white", linewidth=0.5)
        bottom += v
    p, r = s.get("pass@1"), s.get("rpass@1")
    if p is not None:
        ax.plot([x - width * 0.2], [p], marker="D", color="black", markersize=6, linestyle="none", zorder=3,
                clip_on=False)
    if r is not None:
        ax.plot([x + width * 0.2], [r], marker="o", markerfacecolor="white", markeredgecolor="#1565c0",
                markeredgewidth=2, markersize=7, linestyle="none", zorder=3, clip_on=False)


def _handles():
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=lab) for _, lab, c in CLASSES]
    handles += [Line2D([], [], marker="D", color="black", linestyle="none", label="pass@1"),
                Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="#1565c0", markeredgewidth=2,
                       linestyle="none", label="Rpass@1")]
    return handles


def _save(plt, fig, out: Path) -> Path:
    """Write the figure as PNG and free it; an unwritable path is one clear ReportError."""
    try:
        fig.savefig(out, dpi=100, format="png")
    except OSError as err:
        raise ReportError(f"--plot {out}: cannot write ({err.strerror}); choose a writable path") from None
    finally:
        plt.close(fig)
    return out


def plot_runs(runs: list[RunSummary], path: str | Path, title: str | None = None,
              in_domain: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    if out.parent and not out.parent.exists():
        raise ReportError(f"--plot {out}: the folder {out.parent} does not exist; create it or choose another path")
    slots = _slots(runs, in_domain)
    short = _short_names(slots)
    if in_domain in short:
        short[in_domain] += " (fine-tuned)"
    if HELD_OUT in short:
        short[HELD_OUT] = f"held-out, pooled ({len(slots) - 2} tasks)"
    if len(runs) == 1:
        fig = _one_run(plt, runs[0], slots, short, in_domain, title)
    else:
        fig = _panels(plt, runs, slots, short, in_domain, title)
    return _save(plt, fig, out)


def _one_run(plt, run: RunSummary, slots: list[str], short: dict[str, str], in_domain: str | None,
             title: str | None):
    fig, ax = plt.subplots(figsize=(min(max(6.5, 0.9 * len(slots) + 3.0), 16), 5.0))
    for i, slot in enumerate(slots):
        if slot == in_domain:
            ax.axvspan(i - 0.5, i + 0.5, color=IN_DOMAIN_TINT, zorder=0)
        _bar(ax, i, 0.8, _summary(run, slot, in_domain))
    ax.set_xticks(range(len(slots)))
    ax.set_xticklabels([short[s] for s in slots], rotation=30 if len(slots) > 3 else 0,
                       ha="right" if len(slots) > 3 else "center", fontsize=8)
    ax.set_xlim(-0.6, len(slots) - 0.4)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("share of generations / accuracy")
    ax.set_title(title or f"Trace classes, pass@1 and Rpass@1: {run.label}", fontsize=11, pad=10)
    fig.legend(handles=_handles(), loc="lower center", ncol=6, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _panels(plt, runs: list[RunSummary], slots: list[str], short: dict[str, str], in_domain: str | None,
            title: str | None):
    cols = min(MAX_COLUMNS, len(slots))
    rows = math.ceil(len(slots) / cols)
    m = len(runs)
    panel_w = max(3.4, 0.42 * m + 1.2)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols, 2.9 * rows + 1.2), sharey=True, squeeze=False)
    labels = [r.label for r in runs]
    for k, ax in enumerate(axes.flat):
        if k >= len(slots):
            ax.set_visible(False)
            continue
        slot = slots[k]
        if slot == in_domain:
            ax.set_facecolor(IN_DOMAIN_TINT)
        for j, run in enumerate(runs):
            _bar(ax, j, 0.8, _summary(run, slot, in_domain))
        ax.set_title(short[slot], fontsize=10, pad=9,  # clear of the markers drawn at 1.0
                     fontweight="bold" if slot in (in_domain, HELD_OUT, ALL) else "normal")
        ax.set_xticks(range(m))
        ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
        ax.set_xlim(-0.6, m - 0.4)
        ax.set_ylim(0, 1.0)
        if k % cols == 0:
            ax.set_ylabel("share / accuracy", fontsize=9)
    fig.suptitle(title or "Trace classes, pass@1 and Rpass@1", fontsize=12)
    fig.legend(handles=_handles(), loc="lower center", ncol=6, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# ------------------------------------------------------------------------------- reasoning-length distribution


def lengths_path(path: str | Path) -> Path:
    """Where ``--plot FILE.png`` puts the reasoning-length figure: ``FILE.lengths.png`` beside it."""
    p = Path(path)
    return p.with_name(f"{p.stem}.lengths{p.suffix or '.png'}")


def plot_lengths(runs: list[RunSummary], path: str | Path, title: str | None = None) -> Path | None:
    """Box plots of the reasoning length per trace class (every sample of each run, pooled over its tasks), one
    box per model in each class, in the model's tokens (or whitespace words where no tokenizer was known, as the
    axis says). None when no run has samples (a results JSON alone holds no per-generation lengths)."""
    from .summary import sample_lengths

    data = []
    for run in runs:
        samples = run.samples()
        if samples:
            reasoning, _, unit = sample_lengths(samples)
            by_class: dict[str, list[int]] = {}
            for s, n in zip(samples, reasoning, strict=True):
                by_class.setdefault(s.status, []).append(n)
            data.append((run.label, by_class, unit))
    if not data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    classes = [name for _, name, _ in CLASSES if any(name in d[1] for d in data)]
    colors = {name: color for _, name, color in CLASSES}
    m = len(data)
    # one panel per class, a box per model, laid out as plot_runs' panels: at most three a row, model names
    # under the boxes (long names are cut), so the figure reads at a normal width and no label crosses a title
    cols = min(MAX_COLUMNS, len(classes))
    rows = math.ceil(len(classes) / cols)
    panel_w = max(3.4, 0.42 * m + 1.2)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols, 2.9 * rows + 1.6), sharey=True, squeeze=False)
    units = {u for _, _, u in data}
    unit = "tokens" if units == {"tokens"} else ("whitespace words (no tokenizer known)" if units == {"words"}
                                                 else "tokens or words (see the report)")
    for k, ax in enumerate(axes.flat):
        if k >= len(classes):
            ax.set_visible(False)
            continue
        cls = classes[k]
        ticks = []
        for j, (label, by_class, _) in enumerate(data):
            values = by_class.get(cls) or []
            ticks.append(f"{_cut(label)}, n={len(values)}")
            if not values:
                continue
            box = ax.boxplot([values], positions=[j], widths=0.7, patch_artist=True, showfliers=False,
                             whis=(5, 95), medianprops={"color": "black"})
            box["boxes"][0].set(facecolor=colors.get(cls, "#cccccc"), alpha=0.85)
        ax.set_title(cls, fontsize=10)
        ax.set_xticks(range(m))
        ax.set_xticklabels(ticks, rotation=35 if m > 2 else 0, ha="right" if m > 2 else "center", fontsize=8)
        ax.set_xlim(-0.6, m - 0.4)
        if k % cols == 0:
            ax.set_ylabel(f"reasoning length,\n{unit}", fontsize=9)
    fig.suptitle(title or "Reasoning length per trace class (box: quartiles; whiskers: 5th-95th percentile)",
                 fontsize=11)
    fig.tight_layout()
    return _save(plt, fig, out)
