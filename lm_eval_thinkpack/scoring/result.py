"""The verdict type shared by every checker in :mod:`lm_eval_thinkpack.scoring`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ScoreResult"]


@dataclass(frozen=True)
class ScoreResult:
    """Outcome of checking one model answer against the gold answer.

    ``correct``   whether the answer was judged right.
    ``extracted`` the answer string pulled out of the response (``None`` when nothing was found).
    ``error``     ``None`` when the verdict is trustworthy; otherwise a short tag saying why checking
                  could not finish normally, e.g. ``"timeout"``, ``"worker_crashed"``, ``"input_too_long"``
                  or the name of an exception type. A response with no answer in it is *not* an error:
                  that is ``correct=False, extracted=None, error=None``.
    ``harness_error`` True when the harness (not the model's answer) failed to produce a verdict after
                  retries (a checker worker killed from outside, twice): the harness counts it under
                  ``harness_errors`` and never scores it against the model. Always with ``correct=False``.
    """

    correct: bool
    extracted: str | None = None
    error: str | None = None
    harness_error: bool = False
