"""Strict JSON results files: lm-eval writes an unknown metric as a bare ``NaN``, which is not JSON.

Unknown values are NaN inside the run on purpose (NaN, unlike None, survives lm-eval's group averaging:
``budget_exhausted_rate`` without finish reasons, ``rpass@1`` with no valid trace). lm-eval's
``EvaluationTracker.save_results_aggregated`` dumps them with Python's ``json``, which writes ``NaN``;
``JSON.parse``, ``jq`` and strict parsers reject the file. ``install()`` wraps that method once (when the glue
is imported) so the file holds ``null`` for every unknown number (``stats.json_ready``); the dict the caller
holds keeps its NaN, so lm-eval's printed table is unchanged.
"""

from __future__ import annotations

from typing import Any

from lm_eval_thinkpack.stats import json_ready

_MARK = "_thinkpack_strict_json"


def install() -> None:
    """Make ``EvaluationTracker.save_results_aggregated`` write strict JSON (idempotent)."""
    from lm_eval.loggers.evaluation_tracker import EvaluationTracker

    original = EvaluationTracker.save_results_aggregated
    if getattr(original, _MARK, False):
        return

    def save_results_aggregated(self: Any, results: dict, samples: dict | None = None) -> None:
        clean = json_ready(results)
        original(self, clean, samples)
        for key, value in clean.items():  # what lm-eval adds to the dict it is given (hashes, config)
            results.setdefault(key, value)

    save_results_aggregated.__doc__ = original.__doc__
    setattr(save_results_aggregated, _MARK, True)
    EvaluationTracker.save_results_aggregated = save_results_aggregated
