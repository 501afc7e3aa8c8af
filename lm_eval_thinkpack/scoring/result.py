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
    """

    correct: bool
    extracted: str | None = None
    error: str | None = None
