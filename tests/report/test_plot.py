"""The plot of several models: one panel per task in rows of at most three, the fine-tuned task tinted and first,
the held-out tasks pooled apart from it, the legend below the panels (not over the bars)."""

from __future__ import annotations

import json

from lm_eval_thinkpack.report.plot import HELD_OUT, IN_DOMAIN_TINT, _slots, _summary, plot_runs
from lm_eval_thinkpack.report.readers import load_run
from lm_eval_thinkpack.report.summary import summarize

TASKS = ("add", "max", "count", "parity", "reverse")


def _run(tmp_path, name, good_trace):
    f = tmp_path / f"{name}.jsonl"
    rows = []
    for t in TASKS:
        for i in range(4):
            fine_tuned = t == "max"
            trace = "<think>reason</think>" if good_trace or (i == 0 and not fine_tuned) else "<think></think>"
            rows.append({"task": t, "id": i, "response": f"{trace} 7", "correct": fine_tuned or i < 2})
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return summarize(load_run(f, label=name))


def test_fine_tuned_task_first_and_held_out_pooled_apart(tmp_path):
    runs = [_run(tmp_path, "base", True), _run(tmp_path, "naive", False)]
    assert _slots(runs, "max") == ["max", "add", "count", "parity", "reverse", HELD_OUT]
    held = _summary(runs[1], HELD_OUT, "max")
    # pooled over the 16 held-out samples only: 4 valid traces; the fine-tuned task's perfect pass@1 is not in it
    assert (held.n, held.get("valid_trace_rate"), held.get("pass@1")) == (16, 4 / 16, 8 / 16)


def test_panels_read_at_a_normal_width_and_the_legend_is_outside_the_axes(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    figs = []
    monkeypatch.setattr(plt, "close", lambda fig: figs.append(fig))
    runs = [_run(tmp_path, f"m{k}", k % 2 == 0) for k in range(6)]
    out = plot_runs(runs, tmp_path / "demo.png", in_domain="max")
    width, height = Image.open(out).size
    assert width <= 1300 and height <= 900, (width, height)
    (fig,) = figs
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 6 and [ax.get_title().split(" ")[0] for ax in axes][0] == "max"
    assert matplotlib.colors.to_hex(axes[0].get_facecolor()) == IN_DOMAIN_TINT
    assert "(fine-tuned)" in axes[0].get_title() and axes[-1].get_title().startswith("held-out, pooled (4 tasks)")
    (legend,) = fig.legends
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert all(not box.overlaps(ax.get_window_extent()) for ax in axes)


def test_compare_plot_writes_the_reasoning_length_distribution_per_class(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from lm_eval_thinkpack.report.cli import main
    from lm_eval_thinkpack.report.plot import lengths_path, plot_lengths

    base, naive = _run(tmp_path, "base", True), _run(tmp_path, "naive", False)
    assert lengths_path(tmp_path / "demo.png") == tmp_path / "demo.lengths.png"
    out = plot_lengths([base, naive], tmp_path / "l.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    files = [tmp_path / f"{n}.jsonl" for n in ("base", "naive")]
    assert main(["compare", *map(str, files), "--plot", str(tmp_path / "cmp.png")]) == 0
    assert "plot of reasoning lengths per class" in capsys.readouterr().out
    assert (tmp_path / "cmp.lengths.png").stat().st_size > 5000


def test_length_plot_boxes_are_the_runs_lengths_per_class(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lm_eval_thinkpack.report.plot import plot_lengths

    figs = []
    monkeypatch.setattr(plt, "close", lambda fig: figs.append(fig))
    plot_lengths([_run(tmp_path, "naive", False)], tmp_path / "l.png")
    (fig,) = figs
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["valid", "empty"]  # a panel per class
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["naive, n=16"]
    assert "whitespace words" in axes[0].get_ylabel()  # JSONL names no tokenizer: said on the axis
    assert plot_lengths([], tmp_path / "none.png") is None


def test_length_plot_reads_at_a_normal_width_with_six_models_of_long_names(tmp_path, monkeypatch):
    """Before: one axis, the model names written above the boxes: with six models named by their paths (the
    default label of an lm-eval run) the names ran into each other and over the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from lm_eval_thinkpack.report.plot import plot_lengths

    figs = []
    monkeypatch.setattr(plt, "close", lambda fig: figs.append(fig))
    runs = [_run(tmp_path, f"m{k}", k % 2 == 0) for k in range(6)]
    for k, run in enumerate(runs):
        run.run.label = f"demo_out/models/checkpoints/run_{k}"
    out = plot_lengths(runs, tmp_path / "l.png")
    width, height = Image.open(out).size
    assert width <= 1300 and height <= 900, (width, height)
    (fig,) = figs
    fig.canvas.draw()
    frame = fig.bbox
    axes = [ax for ax in fig.axes if ax.get_visible()]
    titles = [t for t in [fig._suptitle] if t is not None] + [ax.title for ax in axes]
    labels = [t for ax in axes for t in [*ax.get_xticklabels(), *ax.texts]]
    for t in titles + labels:
        box = t.get_window_extent()
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1 and frame.y0 - 1 <= box.y0, t.get_text()
    assert not any(label.get_window_extent().overlaps(title.get_window_extent()) for label in labels
                   for title in titles)
    names = [t.get_text() for ax in axes for t in ax.get_xticklabels()]
    assert names and all(n.startswith("\u2026/checkpoints/run_") for n in names)  # the end of a long name


def test_compare_task_plots_that_task_only(tmp_path, monkeypatch):
    """Before: ``compare --task max --plot`` judged max alone but plotted every task of both runs (the class panels
    and the reasoning lengths, n=20 per model instead of 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lm_eval_thinkpack.report.cli import main

    _run(tmp_path, "base", True), _run(tmp_path, "naive", False)
    figs = []
    monkeypatch.setattr(plt, "close", lambda fig: figs.append(fig))
    files = [str(tmp_path / f"{n}.jsonl") for n in ("base", "naive")]
    assert main(["compare", *files, "--task", "max", "--plot", str(tmp_path / "cmp.png")]) == 0
    classes, lengths = figs
    assert [ax.get_title() for ax in classes.axes if ax.get_visible()] == ["max"]
    # max alone: base's 4 valid traces, naive's 4 empty ones (a panel per class, a box per model)
    assert [t.get_text() for ax in lengths.axes if ax.get_visible() for t in ax.get_xticklabels()] == [
        "base, n=4", "naive, n=0", "base, n=0", "naive, n=4"]
