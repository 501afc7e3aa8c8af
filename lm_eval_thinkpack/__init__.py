"""lm_eval_thinkpack: reasoning-trace collapse, measured inside lm-evaluation-harness.

The public API is the pure core: trace formats, classification, detection and metrics. Nothing imported
here pulls in lm_eval; the harness glue lives in ``lm_eval_thinkpack.harness``.
"""

from .classify import Trace, TraceStatus, classify, classify_many, prompt_is_prefilled
from .detect import TraceProfile, detect_format, profile_for_model_id
from .formats import FORMATS, Delimiters, TraceFormat, UnknownFormatError, get_format
from .stats import TraceStats, pass_at_k, trace_stats

__version__ = "0.1.0"

__all__ = [
    "FORMATS",
    "Delimiters",
    "Trace",
    "TraceFormat",
    "TraceProfile",
    "TraceStats",
    "TraceStatus",
    "UnknownFormatError",
    "__version__",
    "classify",
    "classify_many",
    "detect_format",
    "get_format",
    "pass_at_k",
    "profile_for_model_id",
    "prompt_is_prefilled",
    "trace_stats",
]
