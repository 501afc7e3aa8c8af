"""lm-eval glue for thinkpack: the loader (``custom_dataset``), the trace filter, the metric aggregations.

This package imports lm_eval; the core (formats, classify, stats, scoring) never does. Importing it
registers the ``thinkpack_trace`` filter with lm-eval's filter registry. The canned test model lives in
``harness.canned`` and is registered only when that module is imported (``harness.run_lm_eval`` does).
"""

from . import filters  # noqa: F401  (registers the "thinkpack_trace" filter)
