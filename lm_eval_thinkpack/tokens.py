"""Reasoning and answer lengths of generations, in the model's tokens (pure core: no lm-eval import).

Budgets, collapse and truncation are read in tokens, so every length this project reports is counted with the
tokenizer of the model that wrote the text (the one its trace profile came from). Where no tokenizer is known
(a JSONL of generations, a model whose tokenizer cannot be loaded, ``--metadata count_tokens=false``) the
lengths are whitespace-separated words instead, and labelled so: every count carries its ``unit``,
``"tokens"`` or ``"words"``, and the two are never mixed in one figure.

* ``count_texts(texts, tokenizer)``: one count per text; blank texts are 0 without a tokenizer call, the rest
  go to the tokenizer in batches (a fast tokenizer's ``encode_batch_fast``: one Rust call per batch, no offsets,
  spread over the Rust thread pool). Counts equal ``len(tokenizer.encode(text, add_special_tokens=False))``.
* ``count_lengths(traces, tokenizer)``: ``Lengths(reasoning, answer, unit)`` per classified generation (the
  stripped reasoning and answer that ``classify`` gives, as thinkpack's ``parse(calculate_tokens=True)`` counts
  them).
* ``no_answer(trace)``: a valid trace followed by no answer text (the model closed its trace and stopped);
  ``stats`` turns it into ``no_answer_rate`` over valid traces.
* ``length_summary`` / ``lengths_by_class``: mean, median and p90 (per class) as the report shows them.
* ``load_tokenizer(name, ...)``: ``AutoTokenizer.from_pretrained``, cached per process, so the tokenizer that
  detection read is the one the counts use, loaded once.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger("lm_eval_thinkpack")

TOKENS, WORDS = "tokens", "words"
BATCH = 256  # texts per tokenizer call: bounds the encodings held at once, keeps the Rust pool busy
CLASSES = ("valid", "empty", "missing", "truncated")

__all__ = ["BATCH", "CLASSES", "TOKENS", "WORDS", "Lengths", "TokenCounter", "count_lengths", "count_texts",
           "counter_from_ref", "length_summary", "lengths_by_class", "load_tokenizer", "no_answer", "percentile",
           "token_counter", "tokenizer_ref", "word_count"]


@dataclass(frozen=True, slots=True)
class Lengths:
    """One generation's reasoning and answer lengths, in ``unit`` ("tokens" or "words")."""

    reasoning: int
    answer: int
    unit: str


class TokenCounter:
    """Counts texts in one unit: a tokenizer's tokens, or whitespace words when ``tokenizer`` is None."""

    __slots__ = ("_encode", "tokenizer", "unit")

    def __init__(self, tokenizer: Any = None):
        self.tokenizer = tokenizer
        self.unit = WORDS if tokenizer is None else TOKENS
        self._encode = None if tokenizer is None else _batch_encoder(tokenizer)

    def count(self, texts: Sequence[str]) -> list[int]:
        """One count per text; blank texts are 0 and never reach the tokenizer."""
        if self._encode is None:
            return [word_count(t) for t in texts]
        out = [0] * len(texts)
        todo = [i for i, t in enumerate(texts) if t and not t.isspace()]
        for k in range(0, len(todo), BATCH):
            chunk = todo[k:k + BATCH]
            for i, n in zip(chunk, self._encode([texts[i] for i in chunk]), strict=True):
                out[i] = n
        return out


_WORD_MIN = 512  # characters from which the array count beats str.split (which builds a string per word)
_SPACE_TABLE: Any = None


def word_count(text: str) -> int:
    """``len(text.split())`` without building the words: a long ASCII text is counted as the starts of its
    non-whitespace runs over its bytes (7x faster than ``split`` on 12k characters); other texts use ``split``."""
    if len(text) < _WORD_MIN or not text.isascii():
        return len(text.split())
    global _SPACE_TABLE
    import numpy as np

    if _SPACE_TABLE is None:  # str.isspace of every ASCII byte (\x1c-\x1f are whitespace to str.split too)
        _SPACE_TABLE = np.array([chr(c).isspace() for c in range(128)] + [False] * 128, dtype=bool)
    space = _SPACE_TABLE[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    return int(np.count_nonzero(space[:-1] & ~space[1:])) + (not space[0])


def _batch_encoder(tokenizer: Any):
    """texts -> token counts: the fast path of a ``tokenizers`` backend, else the tokenizer's own call."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None and type(tokenizer).__module__.startswith("tokenizers"):
        backend = tokenizer  # a raw ``tokenizers.Tokenizer``
    if backend is not None and hasattr(backend, "encode_batch"):
        enc = getattr(backend, "encode_batch_fast", None) or backend.encode_batch

        def encode(texts: list[str]) -> list[int]:
            # a padded batch call (generate's) can leave padding or truncation on the backend: every count would
            # be the longest text's, or capped; switch them off for the count and put them back
            pad, trunc = getattr(backend, "padding", None), getattr(backend, "truncation", None)
            if pad is None and trunc is None:
                return [len(e.ids) for e in enc(texts, add_special_tokens=False)]
            backend.no_padding()
            backend.no_truncation()
            try:
                return [len(e.ids) for e in enc(texts, add_special_tokens=False)]
            finally:
                if pad is not None:
                    backend.enable_padding(**pad)
                if trunc is not None:
                    backend.enable_truncation(**trunc)

        return encode
    if callable(tokenizer):  # a slow (Python) tokenizer
        return lambda texts: [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    raise TypeError(f"cannot count tokens with a {type(tokenizer).__name__}: pass a transformers tokenizer, a "
                    "tokenizers.Tokenizer, or None for whitespace words")


def token_counter(tokenizer: Any = None) -> TokenCounter:
    """A ``TokenCounter`` for ``tokenizer`` (None: whitespace words)."""
    return tokenizer if isinstance(tokenizer, TokenCounter) else TokenCounter(tokenizer)


def count_texts(texts: Sequence[str], tokenizer: Any = None) -> list[int]:
    """Token counts of ``texts`` with ``tokenizer`` (whitespace words when None)."""
    return token_counter(tokenizer).count(texts)


def _pieces(t: Any) -> tuple[str, str]:
    if isinstance(t, tuple):
        return t[0] or "", t[1] or ""
    return t.reasoning, t.answer


def count_lengths(traces: Iterable[Any], tokenizer: Any = None) -> list[Lengths]:
    """``Lengths`` of each trace: ``Trace`` objects (or ``(reasoning, answer)`` pairs), counted with
    ``tokenizer`` (None: whitespace words, unit "words"). The texts of all traces go to the tokenizer in batches."""
    counter = token_counter(tokenizer)
    pairs = [_pieces(t) for t in traces]
    counts = counter.count([p for pair in pairs for p in pair])
    return [Lengths(counts[2 * i], counts[2 * i + 1], counter.unit) for i in range(len(pairs))]


def no_answer(trace: Any) -> bool:
    """A valid trace followed by no answer text (blank after the closer, answer wrappers taken off)."""
    status = getattr(trace.status, "value", trace.status)
    return status == "valid" and not trace.answer


# --------------------------------------------------------------------------------------------- summaries


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def length_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """{"n", "mean", "median", "p90"} of ``values`` (None figures when there are none)."""
    n = len(values)
    return {"n": n, "mean": sum(values) / n if n else None, "median": percentile(values, 50),
            "p90": percentile(values, 90)}


def lengths_by_class(statuses: Sequence[str], reasoning: Sequence[int | None], answer: Sequence[int | None],
                     ) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """{class: {"reasoning": summary, "answer": summary}} over the generations of each class present, and
    "all" over every generation; a None count (not counted) is left out."""
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(statuses):
        groups.setdefault(str(s), []).append(i)
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for cls in (*CLASSES, *sorted(set(groups) - set(CLASSES))):
        if cls in groups:
            idx = groups[cls]
            out[cls] = {"reasoning": length_summary([reasoning[i] for i in idx if reasoning[i] is not None]),
                        "answer": length_summary([answer[i] for i in idx if answer[i] is not None])}
    out["all"] = {"reasoning": length_summary([r for r in reasoning if r is not None]),
                  "answer": length_summary([a for a in answer if a is not None])}
    return out


# -------------------------------------------------------------------------------------------- tokenizers


@lru_cache(maxsize=8)
def load_tokenizer(name: str, revision: str | None = None, trust_remote_code: bool = False,
                   local_files_only: bool = False) -> Any:
    """``AutoTokenizer.from_pretrained(name, ...)``, once per process and configuration (a failure is raised,
    and not cached, so a caller can fall back to words)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, revision=revision, trust_remote_code=trust_remote_code,
                                         local_files_only=local_files_only)


def tokenizer_ref(name: str | None, revision: str | None = None, trust_remote_code: bool = False,
                  local_files_only: bool = False) -> str:
    """The tokenizer a doc names for counting (a small JSON string, as lm-eval docs keep it); "" for none."""
    if not name:
        return ""
    return json.dumps({"name": name, "revision": revision, "trust_remote_code": bool(trust_remote_code),
                       "local_files_only": bool(local_files_only)}, sort_keys=True)


def counter_from_ref(ref: Any) -> TokenCounter:
    """The ``TokenCounter`` of a ``tokenizer_ref`` (the tokenizer loaded once per process); whitespace words for
    "" / None, and when the tokenizer cannot be loaded (then a warning names the cause, once per ref)."""
    if not ref:
        return _WORDS
    return _counter_from_ref(ref if isinstance(ref, str) else json.dumps(dict(ref), sort_keys=True))


@lru_cache(maxsize=8)
def _counter_from_ref(ref: str) -> TokenCounter:
    try:
        spec = json.loads(ref)
        tok = load_tokenizer(str(spec["name"]), spec.get("revision"), bool(spec.get("trust_remote_code")),
                             bool(spec.get("local_files_only")))
        return TokenCounter(tok)
    except Exception as err:  # noqa: BLE001 - lengths fall back to words; a run never stops for them
        log.warning("lm-eval-thinkpack: cannot load the tokenizer %s to count tokens (%s: %s); reasoning and answer "
                    "lengths are whitespace words instead (tokens_as_words = 1)", ref, type(err).__name__, err)
        return _WORDS


_WORDS = TokenCounter(None)
