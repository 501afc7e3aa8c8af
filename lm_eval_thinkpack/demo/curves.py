"""Collapse curves of the demo: what ``TraceHealthCallback`` measured at each step of every fine-tune.

``curve_points`` turns a callback's history into the ``results.json`` rows; ``plot_curves`` draws
``curves.png``: held-out VR, in-domain VR and in-domain pass@1 against the step, one line per arm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

IN_DOMAIN, HELD_OUT = "in_domain", "held_out"
PANELS = (
    ("held_out_valid_trace_rate", "held-out VR"),
    ("in_domain_valid_trace_rate", "in-domain VR"),
    ("in_domain_pass@1", "in-domain pass@1"),
)


def curve_points(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One ``{"step", "held_out_valid_trace_rate", "in_domain_valid_trace_rate", "in_domain_pass@1"}`` per probe."""
    rows = []
    for h in history:
        groups = h["groups"]
        rows.append({"step": h["step"],
                     "held_out_valid_trace_rate": groups[HELD_OUT]["valid_trace_rate"],
                     "in_domain_valid_trace_rate": groups[IN_DOMAIN]["valid_trace_rate"],
                     "in_domain_pass@1": groups[IN_DOMAIN]["pass@1"]})
    return rows


def plot_curves(curves: Mapping[str, Sequence[Mapping[str, Any]]], path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(3.7 * len(PANELS), 3.9), sharey=True)
    for ax, (key, label) in zip(axes, PANELS, strict=True):
        for arm, points in curves.items():
            xs = [p["step"] for p in points if p.get(key) is not None]
            ys = [p[key] for p in points if p.get(key) is not None]
            ax.plot(xs, ys, marker="o", markersize=3, label=arm)
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("rate")
    # one legend below the panels: inside a panel it hid the early dip the README points to
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), frameon=False, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
