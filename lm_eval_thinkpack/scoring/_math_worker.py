"""Child-process side of :func:`lm_eval_thinkpack.scoring.math.math_equal`.

Run as a script by the parent (never imported by the package at runtime). Protocol: one JSON object per
line on stdin, one JSON object per line on the original stdout:

    -> {"g": gold, "p": pred, "t": timeout_seconds}
    <- {"ok": bool, "err": null | "ExceptionTypeName"}

On start-up it imports the symbolic backend and then writes ``{"ready": true, "backend": name}``.
It exits when stdin closes. The parent enforces the hard time limit by killing this process; as a
second line of defence, every job arms ``SIGALRM`` (default action: terminate) so an orphaned worker
never spins forever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable

_GRACE_SECONDS = 2.0


def _math_verify_backend() -> Callable[[str, str], bool]:
    from math_verify import parse, verify

    def parse_answer(s: str) -> list:
        # Wrapping in \boxed makes math_verify take the whole string as the answer.
        parsed = parse("\\boxed{" + s + "}", parsing_timeout=None)
        if not parsed:
            parsed = parse(s, parsing_timeout=None)
        return parsed

    def compare(gold: str, pred: str) -> bool:
        g = parse_answer(gold)
        p = parse_answer(pred)
        if not g or not p:
            return False
        return bool(verify(g, p, timeout_seconds=None))

    return compare


def _sympy_backend() -> Callable[[str, str], bool]:
    import sympy
    from latex2sympy2_extended import latex2sympy

    def compare(gold: str, pred: str) -> bool:
        g = latex2sympy(gold)
        p = latex2sympy(pred)
        if g == p:
            return True
        diff = sympy.simplify(g - p)
        return bool(diff == 0)

    return compare


def load_backend() -> tuple[str, Callable[[str, str], bool]]:
    """The best available comparison function, with its name."""
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)
    try:
        return "math_verify", _math_verify_backend()
    except ImportError:
        pass
    try:
        return "sympy", _sympy_backend()
    except ImportError:
        pass

    def unavailable(gold: str, pred: str) -> bool:
        raise RuntimeError("no symbolic backend (install math-verify or sympy + latex2sympy2_extended)")

    return "none", unavailable


def _limit_memory(memory_mb: int) -> None:
    if memory_mb <= 0:
        return
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        pass


def main() -> None:
    memory_mb = int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0
    # Keep the protocol channel private: anything a library prints goes to stderr instead.
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _limit_memory(memory_mb)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj).encode() + b"\n")

    name, compare = load_backend()
    send({"ready": True, "backend": name})
    for line in sys.stdin.buffer:
        try:
            job = json.loads(line)
            gold, pred, limit = str(job["g"]), str(job["p"]), float(job.get("t", 5.0))
        except Exception as exc:  # noqa: BLE001 - report, never die on a bad request
            send({"ok": False, "err": type(exc).__name__})
            continue
        signal.setitimer(signal.ITIMER_REAL, max(limit, 0.01) + _GRACE_SECONDS)
        try:
            ok, err = bool(compare(gold, pred)), None
        except Exception as exc:  # noqa: BLE001 - sympy/parsers raise anything on odd input
            ok, err = False, type(exc).__name__
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        send({"ok": ok, "err": err})


if __name__ == "__main__":
    main()
