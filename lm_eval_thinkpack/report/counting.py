"""Token counts for the samples of a run that carry none (past runs): plain lm_eval, ``count_tokens=false``, older logs.

The trace filter counts reasoning and answer tokens when a run is made; a run made without it (or before it
counted) holds no counts, and its lengths would be whitespace words. The tokenizer is often knowable anyway: the
run's results JSON names the model (``config.model_args``: ``tokenizer=`` / ``pretrained=`` / ``model=``), or the
user names one (``--tokenizer NAME_OR_PATH``; ``--tokenizer none`` forces words). The counting itself is
``tokens.count_lengths`` with a tokenizer from ``tokens.load_tokenizer``: the one implementation the filter uses.

* A tokenizer the run names is loaded from local files only (no network, no hang); when it is not there, the
  lengths are whitespace words, and ``SampleCounter.note`` says so and why, in one line.
* Samples are counted as they are read, in rounds (``BATCH`` samples, or ``PENDING_CHARS`` characters of text,
  whichever comes first): a streamed read holds no more text, and the tokenizer no more encodings, than one
  round, whatever the size of the run (4,000 gsm8k-like docs, 70 MB, counted with the demo model's char-level
  tokenizer: rounds of 8M characters peaked at 390 MB, 1M at 352 MB, 256K at 302 MB; the time was the same).
* Samples whose record already carries token counts keep them (they were counted with the model's tokenizer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lm_eval_thinkpack.tokens import BATCH, TOKENS, TokenCounter, count_lengths, load_tokenizer, token_counter

from .readers import ReportError, Sample

WORDS_CHOICE = "none"  # --tokenizer none: whitespace words
PENDING_CHARS = 256 << 10  # reasoning + answer characters held for one round of counting at most (see the module doc)
MODEL_KEYS = ("tokenizer", "pretrained", "model")  # the model args that name a tokenizer, as resolve_profile reads them
_FIX = "pass --tokenizer NAME_OR_PATH"


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}"


def explicit_tokenizer(name: str | None) -> TokenCounter | None:
    """The counter of ``--tokenizer NAME_OR_PATH`` (None: not given, or ``none``); a tokenizer that cannot be
    loaded is a ``ReportError`` (one line: the name, the cause, the fix)."""
    if name is None or name.strip().lower() == WORDS_CHOICE:
        return None
    try:
        return token_counter(load_tokenizer(name))
    except Exception as err:  # noqa: BLE001 - any loading failure is the user's input to fix
        raise ReportError(f"--tokenizer {name}: cannot load a tokenizer ({_one_line(err)}); pass a local tokenizer "
                          f"folder or a Hub model id, or --tokenizer {WORDS_CHOICE} for whitespace words") from None


def named_tokenizer(model_args: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(name, revision) of the tokenizer a run's model args name; None when they name none. (Not lm-eval's
    ``model_name`` of the results JSON: it is taken from the same args, or is a folder name, never a tokenizer.)"""
    name = next((str(model_args[k]).strip() for k in MODEL_KEYS
                 if isinstance(model_args.get(k), str) and model_args[k].strip()), None)
    if name is None:
        return None
    revision = model_args.get("revision")
    return name, revision if isinstance(revision, str) and revision else None


class SampleCounter:
    """Counts, in tokens, the reasoning and answer of the samples of one run that were read without token counts.

    ``choice`` is ``--tokenizer`` (None: the tokenizer ``named`` by the run, from local files only; "none": words).
    The tokenizer is resolved at the first sample that needs it, so a run whose records all carry counts loads
    nothing. ``add`` every sample as it is read, ``flush`` at the end of each file; ``note`` is the one line saying
    which unit the uncounted samples got and why (None when every sample carried counts).
    """

    def __init__(self, choice: str | None, named: tuple[str, str | None] | None, source: str = "the run"):
        self.choice, self.named, self.source = choice, named, source
        self.needed = 0  # samples read without token counts
        self._resolved = False
        self._counter: TokenCounter | None = None
        self._why = ""
        self._pending: list[tuple[Sample, str, str]] = []
        self._chars = 0

    def _resolve(self) -> TokenCounter | None:
        if self._resolved:
            return self._counter
        self._resolved = True
        if self.choice is not None and self.choice.strip().lower() == WORDS_CHOICE:
            self._why = f"--tokenizer {WORDS_CHOICE}"
        elif self.choice is not None:
            self._counter = explicit_tokenizer(self.choice)
            self._why = f"--tokenizer {self.choice!r}"
        elif self.named is None:
            self._why = f"{self.source} names no tokenizer; {_FIX}"
        else:
            name, revision = self.named
            try:  # remote code is never run for a report: the results JSON is input, not a trusted config
                self._counter = token_counter(load_tokenizer(name, revision, False, True))
                self._why = f"tokenizer {name!r}, named by the run's model args"
            except Exception as err:  # noqa: BLE001 - lengths fall back to words; a report never stops for them
                missing = isinstance(err, OSError) or "local" in str(err).lower()
                cause = "not available locally" if missing else f"cannot be loaded: {_one_line(err)}"
                self._why = f"tokenizer {name!r} {cause}; {_FIX}"
        return self._counter

    def add(self, sample: Sample, reasoning: str, answer: str) -> None:
        """Count ``sample``'s lengths (its classified ``reasoning`` and ``answer``) unless its record did."""
        if sample.token_unit == TOKENS and sample.reasoning_tokens is not None and sample.answer_tokens is not None:
            return
        self.needed += 1
        if self._resolve() is None:
            return  # whitespace words: the summary counts them from the sample's word figures
        self._pending.append((sample, reasoning, answer))
        self._chars += len(reasoning) + len(answer)
        if len(self._pending) >= BATCH or self._chars >= PENDING_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        lengths = count_lengths([(r, a) for _, r, a in self._pending], self._counter)
        for (s, _, _), n in zip(self._pending, lengths, strict=True):
            s.reasoning_tokens, s.answer_tokens, s.token_unit = n.reasoning, n.answer, n.unit
        self._pending.clear()
        self._chars = 0

    def note(self) -> str | None:
        """One line: the unit of the samples read without token counts and why; None when there were none."""
        self.flush()
        if not self.needed:
            return None
        if self._counter is None:
            return f"counted in whitespace words ({self._why})"
        return f"{self.needed} sample(s) without token counts counted in tokens ({self._why})"
