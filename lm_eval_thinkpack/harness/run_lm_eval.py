"""``python -m lm_eval_thinkpack.harness.run_lm_eval [lm_eval arguments]``: the lm_eval CLI, plus thinkpack.

Identical to ``lm_eval`` except that it first imports the thinkpack glue, which registers the
``thinkpack_trace`` filter and the ``thinkpack-canned`` test model. Real models (hf, vllm, ...) do not
need it: plain ``lm_eval`` works for them.
"""

from __future__ import annotations


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    import lm_eval_thinkpack.harness  # noqa: F401  (filter registration)
    import lm_eval_thinkpack.harness.canned  # noqa: F401  (model registration)

    cli_evaluate()


if __name__ == "__main__":
    main()
