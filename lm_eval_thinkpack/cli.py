"""The ``lm-eval-thinkpack`` command: a thin shell over the package (formats, demo, report, compare).

Each subcommand imports its module only when it runs, so ``lm-eval-thinkpack formats`` stays instant (it imports
neither torch nor transformers: the demo's module does, so its registration is skipped for ``formats``;
a test checks ``sys.modules``) and a missing optional piece never breaks the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _formats(args: argparse.Namespace) -> int:
    from .formats import VLLM_PARSERS_SINCE, all_formats

    for spec in all_formats():
        tags = " | ".join(f"{'/'.join(d.open) or '(none)'} ... {'/'.join(d.close)}" for d in spec.delimiters)
        print(f"{spec.name:15s} {tags}")
        if args.verbose:
            print(f"{'':15s} {spec.description}")
            if spec.aliases:
                print(f"{'':15s} aliases: {', '.join(spec.aliases)}")
            since = {p: "vLLM main" if v == "main" else f"{v}+" for p, v in VLLM_PARSERS_SINCE.items()}
            vllm = [p + (f" ({since[p]})" if p in since else "") for p in spec.vllm_parsers]
            print(f"{'':15s} vLLM: {', '.join(vllm) or '-'}; "
                  f"SGLang: {', '.join(spec.sglang_detectors) or '-'}")
    return 0


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; for ``command == "formats"`` only that subcommand (no other module is imported)."""
    parser = argparse.ArgumentParser(prog="lm-eval-thinkpack", description="Reasoning-trace collapse, measured.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("formats", help="list the trace formats of every supported model family")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_formats)

    if command != "formats":
        for register in _extra_commands():
            register(sub)
    return parser


def _extra_commands() -> list:
    """Subcommands that live beside their own modules (demo, report, compare)."""
    from .demo import cli as demo_cli
    from .report import cli as report_cli

    return [demo_cli.register, report_cli.register, __import__("lm_eval_thinkpack.eval_cli", fromlist=["_"]).register]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
