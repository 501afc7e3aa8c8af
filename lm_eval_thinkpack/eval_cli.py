"""``lm-eval-thinkpack eval ARGS...``: lm-eval's own command line, run in-process with our backends registered.

lm-eval 0.4.13 looks ``--model`` up in its registry before any task code is imported, so plain ``lm_eval``
cannot see a backend that a package registers (releases with lm-eval PR #4013 read the ``lm_eval.models``
entry points that ``setup.cfg`` declares). Every argument goes to lm-eval unchanged, ``--help`` included.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

BACKENDS = ("thinkpack-chat-completions", "thinkpack-hf")
NO_LAYER, PRIMARY = "--no_trace_layer", "--primary_metric"  # ours: taken out before lm-eval parses the rest


def layer_options(args: list[str]) -> tuple[list[str], bool, str | None]:
    """(lm-eval's arguments, layer on?, primary metric) from the eval command's arguments."""
    rest: list[str] = []
    on, primary = True, None
    it = iter(args)
    for a in it:
        if a == NO_LAYER:
            on = False
        elif a == PRIMARY:
            primary = next(it, None)
            if not primary or primary.startswith("--"):
                raise SystemExit(f"lm-eval-thinkpack eval: {PRIMARY} needs a metric name, e.g. {PRIMARY} exact_match "
                                 "or exact_match,flexible-extract")
        elif a.startswith(PRIMARY + "="):
            primary = a.split("=", 1)[1]
        else:
            rest.append(a)
    return rest, on, primary


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval", add_help=False, prefix_chars="\0",  # every token, --help too, is lm-eval's
        help=f"lm-eval's CLI (every lm_eval flag) with lm-eval-thinkpack's backends: {', '.join(BACKENDS)}",
        description="Run lm-eval's command line in-process with lm-eval-thinkpack's model backends registered. Every "
                    "generate_until task gets the trace layer (answer-only metrics, VR/ER/MR/TR, Rpass@1); "
                    f"{NO_LAYER} turns it off, {PRIMARY} METRIC[,FILTER] picks Rpass@1's metric.")
    p.add_argument("lm_eval_args", nargs=argparse.REMAINDER, help="arguments for lm_eval, unchanged")
    p.set_defaults(func=_run)


def run_lm_eval(args: list[str]) -> int:
    """Run ``lm_eval ARGS`` here, after registering the backends, with the trace layer on every generative task
    unless ``--no_trace_layer``; lm-eval's own exit status is kept.

    First the YAMLs that define the requested tasks are read (``preflight.check_task_files``): one lm-eval would
    skip prints one line here. A thinkpack setting or input error of the run is one line too (exit status 2)."""
    args, layer, primary = layer_options(list(args))
    if "-h" in args or "--help" in args:
        # lm-eval's own help, from its parser alone: no model code (torch), and not lm_eval.__main__, whose
        # lm_eval.utils import (requests, numpy, ...) made `eval --help` take 2.4-3.9 s here, as `lm_eval --help` does
        from lm_eval._cli import HarnessCLI

        return _call(lambda: HarnessCLI().parse_args(), args)
    import lm_eval.evaluator as evaluator
    from lm_eval.__main__ import cli_evaluate

    import lm_eval_thinkpack.harness.backends  # noqa: F401  (registers the backends)
    from lm_eval_thinkpack.harness import preflight
    from lm_eval_thinkpack.harness.anytask import TraceLayerError, evaluate_with_layer

    saved_eval = evaluator.evaluate
    if layer:
        evaluator.evaluate = evaluate_with_layer(saved_eval, primary)
    try:
        preflight.check_task_files(args)
        if preflight.flag_values(args, "--model")[-1:] == ["vllm"]:  # the last one counts, as in lm-eval's parser
            from lm_eval_thinkpack.harness.compat import import_vllm_model

            import_vllm_model()
        return _call(cli_evaluate, args)
    except Exception as err:
        line = str(err) if isinstance(err, TraceLayerError) else preflight.one_line(err)
        if line is None:
            raise
        print(f"lm-eval-thinkpack eval: {' '.join(line.split())}", file=sys.stderr)
        return 2
    finally:
        evaluator.evaluate = saved_eval


def _call(cli_evaluate: Any, args: list[str]) -> int:
    saved = sys.argv
    sys.argv = ["lm-eval", *args]  # lm-eval's CLI reads sys.argv (and inserts "run" when no command is given)
    try:
        cli_evaluate()
    finally:
        sys.argv = saved
    return 0


def _run(args: argparse.Namespace) -> int:
    return run_lm_eval(list(args.lm_eval_args))
