"""Answer extraction and checking for the benchmarks thinkpack scores (pure core, no lm_eval import).

* :mod:`.numbers` - GSM8K numeric answers
* :mod:`.math`    - MATH-500 / AIME LaTeX answers (symbolic check under a hard per-call time limit)
* :mod:`.choice`  - multiple choice (GPQA, MMLU-style)
* :mod:`.code`    - code answers, run in :mod:`lm_eval_thinkpack.sandbox`
* :mod:`.exact`   - short answers by exact match (the demo tasks)

Every ``extract_*`` / ``check_*`` function is total on model text: bad text gives ``None``/``False``,
never an exception. Checkers return :class:`ScoreResult` ``(correct, extracted, error, harness_error)``.

Each module registers its scorer by name at import (:mod:`.registry`: ``number``, ``math``, ``choice``,
``code``, ``exact``); the harness looks a doc's ``thinkpack_scorer`` up with :func:`get_scorer`.
"""

from .registry import Scorer, doc_gold, doc_timeout, get_scorer, register_scorer, scorer_names  # noqa: I001 - first

from .choice import check_choice, extract_choice
from .code import build_program, check_code, check_code_many, extract_code
from .exact import check_exact, extract_exact
from .math import (
    MathScoreResult,
    check_math,
    extract_boxed,
    math_equal,
    math_stats,
    normalize_latex,
    reset_math_stats,
    shutdown_math_workers,
    timeout_count,
)
from .numbers import check_number, extract_number, normalize_number, numbers_equal, parse_gold_gsm8k
from .result import ScoreResult

__all__ = [
    "MathScoreResult",
    "ScoreResult",
    "Scorer",
    "doc_gold",
    "doc_timeout",
    "get_scorer",
    "register_scorer",
    "scorer_names",
    "build_program",
    "check_choice",
    "check_code",
    "check_code_many",
    "check_exact",
    "check_math",
    "check_number",
    "extract_boxed",
    "extract_choice",
    "extract_code",
    "extract_exact",
    "extract_number",
    "math_equal",
    "math_stats",
    "normalize_latex",
    "normalize_number",
    "numbers_equal",
    "parse_gold_gsm8k",
    "reset_math_stats",
    "shutdown_math_workers",
    "timeout_count",
]
