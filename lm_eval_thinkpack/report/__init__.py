"""Reports over evaluation outputs: ``lm-eval-thinkpack report`` and ``lm-eval-thinkpack compare`` (see ``report.cli``).

``readers`` turns lm-eval output folders and JSONL generations into samples, ``summary`` computes every
number through ``lm_eval_thinkpack.stats.trace_stats``, ``tables``/``compare``/``plot`` render them.
"""
