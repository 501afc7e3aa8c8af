"""Scorers by name: the one place a task's ``thinkpack_scorer`` is turned into a checking function.

A scorer is a ``check(answer, doc) -> ScoreResult`` function registered under a name at import time
(``@register_scorer("number")``). ``doc`` is the loader's doc mapping (``thinkpack_gold``,
``thinkpack_timeout``, ``thinkpack_letters``, ``thinkpack_test``, ...): each scorer reads what it needs.
Adapters and task YAMLs name scorers; the harness looks them up with :func:`get_scorer` and scores a whole
batch with ``check_many`` (a scorer may register a faster batch function, e.g. code runs its programs in
parallel). Adding a scorer is one module that registers itself, plus its tests (README, "Adding a scorer").
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .result import ScoreResult

__all__ = ["Scorer", "doc_gold", "doc_timeout", "get_scorer", "register_scorer", "safe_check", "scorer_names"]

log = logging.getLogger("lm_eval_thinkpack.scoring")

CheckFn = Callable[[str, Mapping[str, Any]], ScoreResult]
ManyFn = Callable[[Sequence[tuple[str, Mapping[str, Any]]]], list[ScoreResult]]

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Scorer:
    """A named checker. ``check_many`` returns one verdict per ``(answer, doc)`` pair, in order, and never
    raises for one bad item: that item's verdict carries the exception's type name as ``error``."""

    name: str
    check: CheckFn
    check_many: ManyFn


_lock = threading.Lock()
_SCORERS: dict[str, Scorer] = {}


def safe_check(check: CheckFn, answer: str, doc: Mapping[str, Any], name: str) -> ScoreResult:
    """``check(answer, doc)``, with an exception turned into an error verdict (as ``check_many`` does per item)."""
    try:
        return check(answer, doc)
    except Exception as err:  # noqa: BLE001 - one bad sample must never kill a batch
        log.warning("lm-eval-thinkpack: scorer %r failed on doc %s (%s: %s); counted wrong and as a scoring error",
                    name, doc.get("thinkpack_id") if isinstance(doc, Mapping) else None, type(err).__name__, err)
        return ScoreResult(False, None, type(err).__name__)


def _make_many(name: str, check: CheckFn, many: ManyFn | None) -> ManyFn:
    def loop(items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[ScoreResult]:
        return [safe_check(check, answer, doc, name) for answer, doc in items]

    if many is None:
        return loop

    def batch(items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[ScoreResult]:
        items = list(items)
        try:
            out = list(many(items))
        except Exception as err:  # noqa: BLE001 - fall back to one at a time, so one bad item costs one verdict
            log.warning("lm-eval-thinkpack: scorer %r batch failed (%s: %s); scoring one at a time",
                        name, type(err).__name__, err)
            return loop(items)
        if len(out) != len(items):
            raise RuntimeError(f"scorer {name!r}: check_many returned {len(out)} verdicts for {len(items)} items")
        return out

    return batch


def register_scorer(name: str, *, many: ManyFn | None = None) -> Callable[[CheckFn], CheckFn]:
    """Decorator: register ``check(answer, doc) -> ScoreResult`` under ``name`` (lower-case, ``[a-z0-9_]``).

    ``many`` optionally scores a list of ``(answer, doc)`` pairs at once (same order); without it,
    ``check_many`` loops over ``check``. Registering a second, different function under a taken name is a
    ``ValueError`` (re-importing the same module is fine). Returns ``check`` unchanged.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"scorer name must be lower-case letters, digits and '_' (starting with a letter), "
                         f"got {name!r}")
    if many is not None and not callable(many):
        raise TypeError(f"many must be callable, got {type(many).__name__}")

    def decorate(check: CheckFn) -> CheckFn:
        if not callable(check):
            raise TypeError(f"register_scorer({name!r}) must decorate a function, got {type(check).__name__}")
        with _lock:
            old = _SCORERS.get(name)
            if old is not None and _qualname(old.check) != _qualname(check):
                raise ValueError(f"scorer {name!r} is already registered (by {_qualname(old.check)}); "
                                 f"pick another name")
            _SCORERS[name] = Scorer(name, check, _make_many(name, check, many))
        return check

    return decorate


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


_builtins_loaded = False


def _load_builtin_scorers() -> None:
    """Import every public module of this package once, so a scorer module dropped into
    ``lm_eval_thinkpack/scoring/`` registers itself without being listed anywhere else."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    import pkgutil

    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if not info.name.startswith("_") and info.name != "registry":
            importlib.import_module(f"{package}.{info.name}")
    _builtins_loaded = True


def scorer_names() -> list[str]:
    """The registered scorer names, sorted."""
    _load_builtin_scorers()
    with _lock:
        return sorted(_SCORERS)


def get_scorer(name: str) -> Scorer:
    """The scorer registered as ``name``; ``ValueError`` naming the known scorers otherwise.

    ``"module:name"`` first imports ``module`` (a scorer of your own, registered when its module is
    imported: a task YAML then names it as ``thinkpack_scorer: my_scorers:exact_nocase``).
    """
    if isinstance(name, str) and ":" in name:
        module, _, short = name.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"thinkpack scorer {name!r}: cannot import module {module!r} ({err}); put it on "
                             "PYTHONPATH or install it") from err
        name = short
    _load_builtin_scorers()
    with _lock:
        scorer = _SCORERS.get(name) if isinstance(name, str) else None
    if scorer is None:
        raise ValueError(f"unknown thinkpack scorer {name!r}; known scorers: {', '.join(scorer_names())}. "
                         "A new scorer registers itself with lm_eval_thinkpack.scoring.register_scorer "
                         "(README: 'Adding a scorer') and must be imported before the run.")
    return scorer


# ------------------------------------------------------------------------------ doc fields scorers share


def doc_gold(doc: Mapping[str, Any]) -> Any:
    """The doc's gold answer; a clear error when the doc was not built by the thinkpack loader."""
    if not isinstance(doc, Mapping):
        raise TypeError(f"doc must be a mapping (the loader's doc), got {type(doc).__name__}")
    gold = doc.get("thinkpack_gold")
    if gold is None:
        raise ValueError(f"doc {doc.get('thinkpack_id')!r} has no thinkpack_gold; was it loaded by the thinkpack "
                         "loader (lm_eval_thinkpack.harness.loader.load_docs)?")
    return gold


def doc_timeout(doc: Mapping[str, Any]) -> dict[str, float]:
    """``{"timeout": seconds}`` when the doc sets ``thinkpack_timeout`` (``--metadata scoring_timeout``)."""
    timeout = doc.get("thinkpack_timeout")
    return {"timeout": float(timeout)} if timeout else {}
