"""lm_eval_thinkpack: reasoning-trace collapse, measured inside lm-evaluation-harness.

The public API is the pure core: trace formats, classification, detection and metrics. Nothing imported
here pulls in lm_eval; the harness glue lives in ``lm_eval_thinkpack.harness``.
"""

from .classify import Trace, TraceStatus, classify, classify_many, prompt_is_prefilled
from .detect import TraceProfile, detect_format, profile_for_model_id
from .formats import (
    FORMATS,
    Delimiters,
    FormatSpecError,
    ImplicitClose,
    TraceFormat,
    UnknownFormatError,
    all_formats,
    get_format,
    register_format,
    with_token_suffix,
)
from .stats import TraceStats, pass_at_k, trace_stats

__version__ = "0.1.0"

__all__ = [
    "FORMATS",
    "Delimiters",
    "FormatSpecError",
    "ImplicitClose",
    "Trace",
    "TraceFormat",
    "TraceProfile",
    "TraceStats",
    "TraceStatus",
    "UnknownFormatError",
    "__version__",
    "all_formats",
    "classify",
    "classify_many",
    "detect_format",
    "get_format",
    "pass_at_k",
    "profile_for_model_id",
    "prompt_is_prefilled",
    "register_format",
    "trace_stats",
    "with_token_suffix",
]
