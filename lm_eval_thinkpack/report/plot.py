"""``--plot FILE.png``: stacked bars of the four trace classes per model and task, with pass@1 and Rpass@1 markers."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from lm_eval_thinkpack.stats import ALL_TASKS

from .compare import overall
from .readers import ReportError
from .summary import RunSummary, Summary

CLASSES = (
    ("valid_trace_rate", "valid", "#2e7d32"),
    ("empty_trace_rate", "empty", "#f9a825"),
    ("missing_trace_rate", "missing", "#9e9e9e"),
    ("truncated_trace_rate", "truncated", "#c62828"),
)
ALL = ALL_TASKS


def _slots(runs: list[RunSummary]) -> list[str]:
    names: list[str] = []
    for r in runs:
        names += [t for t in r.tasks if t not in names]
    if len(names) > 1:
        names.append(ALL)
    return names


def _short_names(slots: list[str]) -> dict[str, str]:
    """Display names: a prefix shared by every task (e.g. "thinkpack_") is dropped, long names wrap."""
    tasks = [s for s in slots if s != ALL]
    prefix = ""
    if len(tasks) > 1:
        prefix = os.path.commonprefix(tasks)
        prefix = prefix[: prefix.rfind("_") + 1] if "_" in prefix else ""
    out = {}
    for s in slots:
        name = s[len(prefix):] if s != ALL and prefix and len(s) > len(prefix) else s
        out[s] = textwrap.fill(name.replace("_", "_\u200b"), 18).replace("\u200b", "")
    return out


def _summary(run: RunSummary, slot: str) -> Summary | None:
    if slot == ALL:
        return overall(run)
    return run.tasks.get(slot)


def plot_runs(runs: list[RunSummary], path: str | Path, title: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = Path(path)
    if out.parent and not out.parent.exists():
        raise ReportError(f"--plot {out}: the folder {out.parent} does not exist; create it or choose another path")
    slots = _slots(runs)
    short = _short_names(slots)
    m = len(runs)
    width = 0.8 if m == 1 else 0.8 / m
    nbars = len(slots) * m
    fig, ax = plt.subplots(figsize=(min(max(6.5, 0.55 * nbars + 3.5), 40), 5.2))
    xticks, xlabels = [], []
    for i, slot in enumerate(slots):
        for j, run in enumerate(runs):
            x = i + (j - (m - 1) / 2) * width
            s = _summary(run, slot)
            xticks.append(x)
            xlabels.append(run.label if m > 1 else short[slot])
            if s is None:
                ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
                continue
            bottom = 0.0
            for metric, _, color in CLASSES:
                v = s.get(metric) or 0.0
                ax.bar(x, v, width * 0.92, bottom=bottom, color=color, edgecolor="white", linewidth=0.5)
                bottom += v
            p, r = s.get("pass@1"), s.get("rpass@1")
            if p is not None:
                ax.plot([x - width * 0.2], [p], marker="D", color="black", markersize=7, linestyle="none", zorder=3,
                        clip_on=False)
            if r is not None:
                ax.plot([x + width * 0.2], [r], marker="o", markerfacecolor="white", markeredgecolor="#1565c0",
                        markeredgewidth=2, markersize=8, linestyle="none", zorder=3, clip_on=False)
        if m > 1:
            ax.text(i, 1.02, short[slot], ha="center", va="bottom", fontsize=9, fontweight="bold",
                    transform=ax.get_xaxis_transform())
        if i:
            ax.axvline(i - 0.5, color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_xticks(xticks)
    ax.set_xticklabels(xlabels, rotation=30 if m > 1 or len(slots) > 3 else 0, ha="right" if m > 1 or len(slots) > 3
                       else "center", fontsize=8)
    ax.set_xlim(-0.6, len(slots) - 0.4)
    ax.set_ylim(0, 1.0)
    ax.margins(y=0)
    ax.set_ylabel("share of generations / accuracy")
    handles = [Patch(color=c, label=lab) for _, lab, c in CLASSES]
    handles += [Line2D([], [], marker="D", color="black", linestyle="none", label="pass@1"),
                Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="#1565c0", markeredgewidth=2,
                       linestyle="none", label="Rpass@1")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    default = "Trace classes, pass@1 and Rpass@1" + ("" if m > 1 else f": {runs[0].label}")
    ax.set_title(title or default, pad=34 if m > 1 else 16, fontsize=11)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=120, format="png")
    except OSError as err:
        raise ReportError(f"--plot {out}: cannot write ({err.strerror}); choose a writable path") from None
    finally:
        plt.close(fig)
    return out
