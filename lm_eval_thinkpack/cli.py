"""The ``thinkpack`` command: a thin shell over the package (formats, demo, report, compare).

Each subcommand imports its module only when it runs, so ``thinkpack formats`` stays instant and a missing
optional piece never breaks the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _formats(args: argparse.Namespace) -> int:
    from .formats import FORMATS

    for spec in FORMATS.values():
        tags = " | ".join(f"{'/'.join(d.open) or '(none)'} ... {'/'.join(d.close)}" for d in spec.delimiters)
        print(f"{spec.name:15s} {tags}")
        if args.verbose:
            print(f"{'':15s} {spec.description}")
            if spec.aliases:
                print(f"{'':15s} aliases: {', '.join(spec.aliases)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thinkpack", description="Reasoning-trace collapse, measured.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("formats", help="list the trace formats of every supported model family")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_formats)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list:
    """Subcommands that live beside their own modules (demo, report, compare)."""
    from .demo import cli as demo_cli
    from .report import cli as report_cli

    return [demo_cli.register, report_cli.register, __import__("lm_eval_thinkpack.eval_cli", fromlist=["_"]).register]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
