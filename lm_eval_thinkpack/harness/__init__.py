"""lm-eval glue for lm-eval-thinkpack: the loader (``custom_dataset``), the trace filter, the metric aggregations.

This package imports lm_eval; the core (formats, classify, stats, scoring) never does. Importing it
registers the ``thinkpack_trace`` filter with lm-eval's filter registry. The canned test model lives in
``harness.canned`` and is registered only when that module is imported (``harness.run_lm_eval`` does). It also
makes lm-eval's results file strict JSON (``harness.results_json``).
"""

from .compat import check_lm_eval_version

check_lm_eval_version()  # before touching lm-eval internals: one clear error outside the supported range

from . import filters  # noqa: E402, F401, I001  (registers the "thinkpack_trace" filter)
from . import anytask  # noqa: E402, F401, I001  (registers "thinkpack_answer": the trace layer of any task)
from . import results_json  # noqa: E402, I001

results_json.install()  # results files are strict JSON: an unknown value is null, never a bare NaN
