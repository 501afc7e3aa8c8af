"""Short answers checked by exact match (the demo's synthetic tasks: a sum, a reversed word, a parity).

Only whitespace is normalised (stripped, inner runs collapsed): "odd" is not "Odd", "012" is not "12".
The answer is the first line of the model's answer text, so a model that keeps talking after its answer
is judged on the answer it gave.
"""

from __future__ import annotations

from .registry import doc_gold, register_scorer
from .result import ScoreResult


def normalize_exact(text: str) -> str:
    return " ".join(text.split())


def extract_exact(text: str) -> str | None:
    """The first non-blank line of ``text``, whitespace-normalised; None when there is none."""
    for line in text.splitlines():
        if line.strip():
            return normalize_exact(line)
    return None


def check_exact(text: str, gold: str) -> ScoreResult:
    pred = extract_exact(text)
    return ScoreResult(pred is not None and pred == normalize_exact(str(gold)), pred, None)


@register_scorer("exact")
def score_exact(answer: str, doc) -> ScoreResult:
    """Scorer ``exact``: first answer line equals ``thinkpack_gold`` (whitespace-normalised)."""
    return check_exact(answer, doc_gold(doc))
