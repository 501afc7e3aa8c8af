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


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval", add_help=False, prefix_chars="\0",  # every token, --help too, is lm-eval's
        help=f"lm-eval's CLI (every lm_eval flag) with thinkpack's backends: {', '.join(BACKENDS)}",
        description="Run lm-eval's command line in-process with thinkpack's model backends registered.")
    p.add_argument("lm_eval_args", nargs=argparse.REMAINDER, help="arguments for lm_eval, unchanged")
    p.set_defaults(func=_run)


def run_lm_eval(args: list[str]) -> int:
    """Run ``lm_eval ARGS`` here, after registering the backends; lm-eval's own exit status is kept.

    First the YAMLs that define the requested tasks are read (``preflight.check_task_files``): one lm-eval would
    skip prints one line here. A thinkpack setting or input error of the run is one line too (exit status 2)."""
    from lm_eval.__main__ import cli_evaluate

    if "-h" in args or "--help" in args:  # lm-eval's own help: no model code needed (it would import torch)
        return _call(cli_evaluate, args)
    from lm_eval_thinkpack.harness import preflight

    try:
        preflight.check_task_files(args)
        import lm_eval_thinkpack.harness.backends  # noqa: F401  (registers the backends)

        return _call(cli_evaluate, args)
    except Exception as err:
        line = preflight.one_line(err)
        if line is None:
            raise
        print(f"lm-eval-thinkpack eval: {line}", file=sys.stderr)
        return 2


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
