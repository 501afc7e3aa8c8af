"""``lm-eval-thinkpack report`` and ``lm-eval-thinkpack compare``; ``register(subparsers)`` adds both to the main CLI.

Exit codes: 0 fine, 2 an input problem (one line on stderr: file, problem, fix), 3 collapse found with
``compare --fail-on-collapse``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..stats import json_ready
from .readers import ReportError

EXIT_INPUT = 2
EXIT_COLLAPSE = 3


def _common(p: argparse.ArgumentParser) -> None:
    from .readers import MAX_RECORD_MB

    p.add_argument("--format", metavar="NAME", default=None,
                   help="trace format of JSONL generations and of lm-eval tasks run without lm-eval-thinkpack "
                        "(default: "
                        "for JSONL think; for lm-eval runs the model's profile, resolved from the run's model "
                        "args as the thinkpack tasks resolve it; see `lm-eval-thinkpack formats`). thinkpack "
                        "tasks keep their own classification")
    p.add_argument("--prefilled", action="store_true",
                   help="the prompts already opened the trace (default: decided from each record's or logged "
                        "sample's prompt when present)")
    p.add_argument("--metric", metavar="NAME[,FILTER]", default=None,
                   help="for lm-eval tasks run without lm-eval-thinkpack: the logged per-sample metric (0/1) that says "
                        "whether a sample is correct, optionally with its filter, as in lm-eval's results keys "
                        "(e.g. exact_match,flexible-extract); default: the task's first higher-is-better metric "
                        "of its first filter (named in the report's notes)")
    p.add_argument("--label", action="append", default=None, metavar="NAME",
                   help="display name of a model, one per PATH in order (default: the model name or file name)")
    p.add_argument("--max-record-mb", type=float, default=MAX_RECORD_MB, metavar="N",
                   help=f"refuse a JSONL line (or results JSON) above N megabytes (default {MAX_RECORD_MB:g}, "
                        "the data loader's limit); inputs are streamed, one record in memory at a time")
    p.add_argument("--tokenizer", metavar="NAME_OR_PATH", default=None,
                   help="count the reasoning and answer tokens of samples the run did not count (plain lm_eval, "
                        "--metadata count_tokens=false, older runs, JSONL) with this tokenizer (a local folder or a "
                        "Hub id); 'none' for whitespace words. Default: the tokenizer the run's model args name "
                        "(tokenizer=/pretrained=/model=), from local files only, else whitespace words; one line "
                        "on stderr says which unit and why")
    p.add_argument("--json", metavar="FILE", help="write the numbers as JSON ('-' for stdout)")
    p.add_argument("--markdown", metavar="FILE", help="write markdown tables ('-' for stdout)")
    p.add_argument("--plot", metavar="FILE.png", help="stacked bars of the trace classes with pass@1/Rpass@1, and "
                   "FILE.lengths.png: the reasoning length per trace class (box plots per model)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars while reading (default: on a terminal, or for files over 10k lines)")


def register(subparsers: Any) -> None:
    """Add ``report`` and ``compare`` to the ``lm-eval-thinkpack`` command's subparsers."""
    p = subparsers.add_parser(
        "report", help="trace rates, pass@1 and Rpass@1 of an lm-eval run or a JSONL of generations",
        description="Per task: the four trace rates, pass@1 and Rpass@1 with Wilson 95% intervals, mean trace "
                    "length, budget-exhausted rate, scoring errors and harness errors; groups pooled and as a task "
                    "mean. PATH is an lm-eval --output_path folder (run with --log_samples) or a JSONL of "
                    "generations (plain prompt/response/correct, OpenAI chat completions, or vLLM outputs). In an "
                    "lm-eval folder, thinkpack tasks carry their classes; any other generative task is classified "
                    "here from its logged responses and scored by its own logged metric (see --metric), with the "
                    "count of credited samples whose credit came from inside the trace or a truncated trace (for a "
                    "run made with the trace layer: its primary metric's credit on the raw text).")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _common(p)
    p.set_defaults(func=run_report)

    c = subparsers.add_parser(
        "compare", help="base vs tuned models per task; flags reasoning-trace collapse",
        description="Side-by-side numbers per task with deltas vs BASE, and a collapse verdict per task and "
                    "overall: collapse = VR falls by >= --vr-drop absolute, or by >= --vr-rel-drop of the base VR "
                    "and by >= 0.10 absolute (the relative rule's floor: smaller falls are noise), while pass@1 "
                    "falls by <= --pass-tolerance. A larger pass@1 fall is 'degraded'; a tuned run whose template "
                    "turned thinking off is 'thinking disabled'. Runs whose settings change the classes (chat "
                    "template on/off, trace format, prefill) or pass@1 (an lm-eval task scored on its answer by the "
                    "trace layer in one run, on the raw text in the other) are refused unless "
                    "--allow-different-settings.")
    c.add_argument("paths", nargs="+", metavar="PATH", help="BASE TUNED [MORE ...]")
    _common(c)
    c.add_argument("--vr-drop", type=float, default=0.30, metavar="X",
                   help="absolute VR drop that counts as trace loss (default 0.30)")
    c.add_argument("--vr-rel-drop", type=float, default=0.50, metavar="X",
                   help="relative VR drop (share of the base VR) that counts as trace loss when the drop is "
                        "also >= 0.10 absolute; 0 disables (default 0.50)")
    c.add_argument("--pass-tolerance", type=float, default=0.10, metavar="X",
                   help="largest pass@1 drop for which the answers still 'hold' (default 0.10)")
    c.add_argument("--task", metavar="NAME", default=None,
                   help="compare only this task of each run (a run holding a single task, such as a JSONL file, "
                        "offers that task whatever its name); by default tasks pair by name, and single-task "
                        "inputs pair with each other")
    c.add_argument("--allow-different-settings", action="store_true",
                   help="compare runs whose chat template (on/off), trace format, prefill or pass@1 source (the "
                        "answer with the trace layer, the raw text without) differ; by default compare refuses "
                        "them, since such a difference changes the classes or pass@1 by itself")
    c.add_argument("--fail-on-collapse", action="store_true",
                   help=f"exit with code {EXIT_COLLAPSE} when any collapse is found (for training pipelines); "
                        f"exit {EXIT_INPUT} when nothing could be compared, never 0")
    c.set_defaults(func=run_compare)


# ---------------------------------------------------------------------------------------------- helpers


def _load(args: argparse.Namespace):
    from .readers import load_run
    from .summary import summarize

    labels = args.label or []
    if labels and len(labels) != len(args.paths):
        raise ReportError(f"--label given {len(labels)} time(s) for {len(args.paths)} path(s); give one --label "
                          "per PATH, in order, or none")
    runs = []
    for i, path in enumerate(args.paths):
        runs.append(summarize(load_run(path, fmt=args.format, prefilled=args.prefilled,
                                       label=labels[i] if labels else None, progress=args.progress,
                                       metric=args.metric, keep_text=False, max_record_mb=args.max_record_mb,
                                       tokenizer=args.tokenizer)))
    seen: dict[str, int] = {}
    for r in runs:  # keep labels apart: they key the tables, the JSON and the plot
        if r.label in seen:
            seen[r.label] += 1
            r.run.label = f"{r.label} [{seen[r.label]}]"
        else:
            seen[r.label] = 1
    return runs


def _token_notes(runs: list[Any], command: str) -> None:
    """One line per run on stderr: the unit of the lengths of samples the run did not count itself, and why
    (after the command's output, so an input error stays the only line)."""
    for r in runs:
        if r.run.token_note:
            print(f"lm-eval-thinkpack {command}: run {r.label}: {r.run.token_note}", file=sys.stderr)


def _write(dest: str, text: str, what: str) -> None:
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(dest)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ReportError(f"--{what} {dest}: cannot write ({err.strerror}); choose a writable path") from None


def _console(args: argparse.Namespace):
    from rich.console import Console

    from .tables import console

    if "-" in (args.json, args.markdown):  # stdout carries the export: tables go to stderr
        return Console(file=sys.stderr, width=None if sys.stderr.isatty() else 200, highlight=False, markup=False)
    return console()


def _guard(fn):
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except ReportError as err:
            print(f"lm-eval-thinkpack {fn.__name__[4:]}: {err}", file=sys.stderr)
            return EXIT_INPUT

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _check_paths(args: argparse.Namespace) -> None:
    for opt in ("json", "markdown", "plot"):
        dest = getattr(args, opt)
        if dest and dest != "-" and not Path(dest).parent.exists():
            raise ReportError(f"--{opt} {dest}: the folder {Path(dest).parent} does not exist; create it or "
                              "choose another path")
    if args.json == "-" and args.markdown == "-":
        raise ReportError("--json - and --markdown - both ask for stdout; send one of them to a file")
    if args.plot == "-":
        raise ReportError("--plot -: a PNG cannot go to stdout; give a file name, e.g. --plot report.png")


# ------------------------------------------------------------------------------------------------ commands


@_guard
def run_report(args: argparse.Namespace) -> int:
    """``lm-eval-thinkpack report PATH [PATH ...]``."""
    from .tables import print_legend, print_report, report_markdown

    _check_paths(args)
    runs = _load(args)
    con = _console(args)
    for r in runs:
        print_report(r, con)
    print_legend(con)
    if args.json:
        doc = {"runs": [r.as_dict() for r in runs]}
        _write(args.json, json.dumps(json_ready(doc), indent=2) + "\n", "json")
    if args.markdown:
        _write(args.markdown, report_markdown(runs), "markdown")
    if args.plot:
        _plots(runs, args.plot, con)
    _token_notes(runs, "report")
    return 0


def _plots(runs: list[Any], path: str, con: Any) -> None:
    """``--plot FILE.png``: the trace classes, and beside it ``FILE.lengths.png``, the reasoning length per class."""
    from .plot import lengths_path, plot_lengths, plot_runs

    con.print(f"plot: {plot_runs(runs, path)}")
    lengths = plot_lengths(runs, lengths_path(path))
    if lengths is not None:
        con.print(f"plot of reasoning lengths per class: {lengths}")


@_guard
def run_compare(args: argparse.Namespace) -> int:
    """``lm-eval-thinkpack compare BASE TUNED [MORE ...]``."""
    from .compare import CollapseRule, compare, compare_markdown, print_compare

    if len(args.paths) < 2:
        raise ReportError(f"compare needs at least two paths (BASE TUNED ...), got {len(args.paths)}; use "
                          "`lm-eval-thinkpack report` for one model")
    for name in ("vr_drop", "vr_rel_drop", "pass_tolerance"):
        v = getattr(args, name)
        if not 0 <= v <= 1:
            raise ReportError(f"--{name.replace('_', '-')} {v}: must be between 0 and 1 (a share)")
    _check_paths(args)
    runs = _load(args)
    cmp = compare(runs, CollapseRule(args.vr_drop, args.vr_rel_drop, args.pass_tolerance), task=args.task,
                  allow_different_settings=args.allow_different_settings)
    con = _console(args)
    print_compare(cmp, con)
    if args.json:
        _write(args.json, json.dumps(json_ready(cmp.as_dict()), indent=2) + "\n", "json")
    if args.markdown:
        _write(args.markdown, compare_markdown(cmp), "markdown")
    if args.plot:  # the compared views: with --task, that task only (and tasks named as the base names them)
        _plots([cmp.base, *cmp.others], args.plot, con)
    _token_notes(runs, "compare")
    return EXIT_COLLAPSE if args.fail_on_collapse and cmp.collapsed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lm-eval-thinkpack", description="Reasoning-trace reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
